"""The StyleGAN3 generator (Karras et al. 2021, "Alias-Free Generative Adversarial Networks"),
configs T (translation equivariant, 3x3 convolutions) and R (rotation equivariant, 1x1
convolutions and radially symmetric down-sampling filters), in plain PyTorch.

    G = Generator(StyleGAN3Config(img_resolution=256, z_dim=512, w_dim=512))
    ws = G.mapping(z, truncation_psi=0.7)       # (N, num_ws, w_dim), one w per layer
    img = G.synthesis(ws)                       # (N, 3, 256, 256), about [-1, 1]

Structure: the mapping network (normalised z through ``mapping_layers`` equalised-lr fully
connected layers with leaky ReLU; ``w_avg`` is the truncation target) feeds a synthesis
network that starts from Fourier features (``SynthesisInput``: fixed random frequencies and
phases, rotated and translated by an affine map of the first w) and runs ``num_layers``
modulated convolutions, each followed by a *filtered* leaky ReLU: upsample with a low-pass
filter, bias + leaky ReLU at the higher rate, clamp, low-pass and downsample to the layer's
output rate. The last layer is a 1x1 modulated to-RGB. Every layer's sampling rate, cutoff,
transition band, size and width follow from the config (:func:`layer_geometry`); the filters are
designed from them (a Kaiser-windowed sinc, or a jinc for config R) and kept as buffers.

Parameter and buffer names are NVlabs' (``mapping.fc0.weight``, ``synthesis.input.freqs``,
``synthesis.L3_36_512.up_filter`` ...), so their ``G_ema`` tensors load unchanged. No fp16, no
custom CUDA kernels: every operation is ordinary torch in the dtype of the weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "Generator",
    "LayerGeometry",
    "MappingNetwork",
    "StyleGAN3Config",
    "SynthesisInput",
    "SynthesisLayer",
    "SynthesisNetwork",
    "build_generator",
    "design_lowpass_filter",
    "filtered_lrelu",
    "layer_geometry",
    "upfirdn2d",
]

SQRT2 = math.sqrt(2.0)


# ---------------------------------------------------------------------------------------------
# configuration and layer geometry
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StyleGAN3Config:
    """Architecture of a StyleGAN3 generator; names follow NVlabs' constructor arguments.

    Config T is the default; config R is ``conv_kernel=1, use_radial_filters=True`` (and, in
    the published models, twice the ``channel_base`` and ``channel_max``).
    """

    img_resolution: int
    z_dim: int = 512
    w_dim: int = 512
    img_channels: int = 3
    mapping_layers: int = 2
    mapping_lr: float = 0.01
    channel_base: int = 32768
    channel_max: int = 512
    num_layers: int = 14
    num_critical: int = 2
    first_cutoff: float = 2.0
    first_stopband: float = 2**2.1
    last_stopband_rel: float = 2**0.3
    margin_size: int = 10
    output_scale: float = 0.25
    conv_kernel: int = 3
    filter_size: int = 6
    lrelu_upsampling: int = 2
    use_radial_filters: bool = False
    conv_clamp: float | None = 256.0

    def __post_init__(self) -> None:
        r = self.img_resolution
        if not isinstance(r, int) or isinstance(r, bool) or r < 4 or r & (r - 1):
            raise ValueError(f"img_resolution must be a power of two >= 4, got {r!r}")
        for name in ("z_dim", "w_dim", "img_channels", "mapping_layers", "channel_base", "channel_max",
                     "conv_kernel", "filter_size", "lrelu_upsampling"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not isinstance(self.num_layers, int) or not isinstance(self.num_critical, int) \
                or not 0 <= self.num_critical < self.num_layers:
            raise ValueError(f"need 0 <= num_critical < num_layers, got {self.num_critical!r}, {self.num_layers!r}")
        if not isinstance(self.margin_size, int) or self.margin_size < 0:
            raise ValueError(f"margin_size must be an integer >= 0, got {self.margin_size!r}")
        for name in ("first_cutoff", "first_stopband", "last_stopband_rel", "output_scale", "mapping_lr"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v) or v <= 0:
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        if self.conv_clamp is not None and (not isinstance(self.conv_clamp, int | float) or self.conv_clamp <= 0):
            raise ValueError(f"conv_clamp must be a positive number or None, got {self.conv_clamp!r}")

    @property
    def num_ws(self) -> int:
        """w inputs: one for the Fourier features, one per layer, one for the to-RGB."""
        return self.num_layers + 2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StyleGAN3Config:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown StyleGAN3 options: {', '.join(unknown)}")
        return cls(**dict(d))


@dataclass(frozen=True)
class LayerGeometry:
    """Sampling of one synthesis layer (index 0 ... num_layers; the last is the to-RGB)."""

    name: str
    is_torgb: bool
    is_critically_sampled: bool
    in_channels: int
    out_channels: int
    in_size: int
    out_size: int
    in_sampling_rate: int
    out_sampling_rate: int
    in_cutoff: float
    out_cutoff: float
    in_half_width: float
    out_half_width: float
    conv_kernel: int
    up_factor: int
    down_factor: int
    up_taps: int
    down_taps: int
    down_radial: bool
    #: (x before, x after, y before, y after) with respect to the upsampled picture
    padding: tuple[int, int, int, int]


def input_geometry(cfg: StyleGAN3Config) -> dict[str, float | int]:
    """Channels, size, sampling rate and bandwidth of the Fourier-feature input."""
    g = _progression(cfg)
    return {"channels": int(g["channels"][0]), "size": int(g["sizes"][0]),
            "sampling_rate": float(g["rates"][0]), "bandwidth": float(g["cutoffs"][0])}


def _progression(cfg: StyleGAN3Config) -> dict[str, np.ndarray]:
    """Cutoffs rise geometrically from ``first_cutoff`` to half the resolution over the
    non-critical layers; stopbands likewise; each layer samples at the smallest power of
    two that holds its stopband (at most the resolution), with ``margin_size`` extra pixels."""
    n = cfg.num_layers
    last_cutoff = cfg.img_resolution / 2
    last_stopband = last_cutoff * cfg.last_stopband_rel
    exps = np.minimum(np.arange(n + 1) / (n - cfg.num_critical), 1)
    cutoffs = cfg.first_cutoff * (last_cutoff / cfg.first_cutoff) ** exps
    stopbands = cfg.first_stopband * (last_stopband / cfg.first_stopband) ** exps
    rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, cfg.img_resolution))))
    half_widths = np.maximum(stopbands, rates / 2) - cutoffs
    sizes = rates + cfg.margin_size * 2
    sizes[-2:] = cfg.img_resolution
    channels = np.rint(np.minimum((cfg.channel_base / 2) / cutoffs, cfg.channel_max))
    channels[-1] = cfg.img_channels
    return {"cutoffs": cutoffs, "stopbands": stopbands, "rates": rates, "half_widths": half_widths,
            "sizes": sizes, "channels": channels}


def layer_geometry(cfg: StyleGAN3Config) -> list[LayerGeometry]:
    """Every synthesis layer's sampling, filters and padding, in order."""
    g = _progression(cfg)
    out: list[LayerGeometry] = []
    for idx in range(cfg.num_layers + 1):
        prev = max(idx - 1, 0)
        torgb = idx == cfg.num_layers
        critical = idx >= cfg.num_layers - cfg.num_critical
        in_rate, out_rate = int(g["rates"][prev]), int(g["rates"][idx])
        in_size, out_size = int(g["sizes"][prev]), int(g["sizes"][idx])
        tmp_rate = max(in_rate, out_rate) * (1 if torgb else cfg.lrelu_upsampling)
        kernel = 1 if torgb else cfg.conv_kernel
        up = int(np.rint(tmp_rate / in_rate))
        down = int(np.rint(tmp_rate / out_rate))
        up_taps = cfg.filter_size * up if up > 1 and not torgb else 1
        down_taps = cfg.filter_size * down if down > 1 and not torgb else 1
        # output size before downsampling, less the input after upsampling, plus what the
        # two filters take away; the extra half step centres samples (symmetric sampling)
        total = (out_size - 1) * down + 1 - (in_size + kernel - 1) * up + up_taps + down_taps - 2
        lo = (total + up) // 2
        hi = total - lo
        out_ch = int(g["channels"][idx])
        out.append(LayerGeometry(
            name=f"L{idx}_{out_size}_{out_ch}", is_torgb=torgb, is_critically_sampled=critical,
            in_channels=int(g["channels"][prev]), out_channels=out_ch, in_size=in_size, out_size=out_size,
            in_sampling_rate=in_rate, out_sampling_rate=out_rate,
            in_cutoff=float(g["cutoffs"][prev]), out_cutoff=float(g["cutoffs"][idx]),
            in_half_width=float(g["half_widths"][prev]), out_half_width=float(g["half_widths"][idx]),
            conv_kernel=kernel, up_factor=up, down_factor=down, up_taps=up_taps, down_taps=down_taps,
            down_radial=cfg.use_radial_filters and not critical, padding=(lo, hi, lo, hi)))
    return out


# ---------------------------------------------------------------------------------------------
# filters
# ---------------------------------------------------------------------------------------------
def _kaiser_beta(numtaps: int, width: float) -> float:
    """Kaiser's window parameter for ``numtaps`` taps and a transition ``width`` (in units of
    the Nyquist frequency), from his empirical attenuation formula."""
    atten = 2.285 * (numtaps - 1) * math.pi * width + 7.95
    if atten > 50:
        return 0.1102 * (atten - 8.7)
    if atten > 21:
        return 0.5842 * (atten - 21) ** 0.4 + 0.07886 * (atten - 21)
    return 0.0


def design_lowpass_filter(numtaps: int, cutoff: float, width: float, fs: float,
                          radial: bool = False) -> torch.Tensor | None:
    """A low-pass FIR filter: None for one tap (identity); a separable 1-D Kaiser-windowed sinc
    with unit DC gain; or, ``radial``, a 2-D Kaiser-windowed jinc normalised to sum 1."""
    if numtaps < 1:
        raise ValueError(f"numtaps must be >= 1, got {numtaps}")
    if numtaps == 1:
        return None
    nyq = fs / 2
    beta = _kaiser_beta(numtaps, width / nyq)
    window = np.kaiser(numtaps, beta)
    if not radial:
        c = cutoff / nyq
        m = np.arange(numtaps) - (numtaps - 1) / 2
        h = c * np.sinc(c * m) * window
        return torch.as_tensor(h / h.sum(), dtype=torch.float32)
    x = (np.arange(numtaps) - (numtaps - 1) / 2) / fs
    r = torch.from_numpy(np.hypot(*np.meshgrid(x, x)))
    f = (torch.special.bessel_j1(2 * cutoff * math.pi * r) / (math.pi * r)).numpy()
    f = f * np.outer(window, window)
    return torch.as_tensor(f / f.sum(), dtype=torch.float32)


def upfirdn2d(x: torch.Tensor, f: torch.Tensor | None, up: int = 1, down: int = 1,
              padding: tuple[int, int, int, int] = (0, 0, 0, 0), gain: float = 1.0) -> torch.Tensor:
    """Upsample by zero insertion, pad (x0, x1, y0, y1; negative crops), convolve every channel
    with ``f`` (1-D = separable, applied along x then y; 2-D; None = identity), keep every
    ``down``-th sample. ``gain`` scales the signal (``up**2`` keeps the level when upsampling)."""
    n, c, h, w = x.shape
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    px0, px1, py0, py1 = padding
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0): x.shape[2] - max(-py1, 0), max(-px0, 0): x.shape[3] - max(-px1, 0)]
    if f is None:
        f = torch.ones(1, 1, dtype=x.dtype, device=x.device)
    f = f.to(x.dtype) * (gain ** (f.dim() / 2))
    f = f.flip(list(range(f.dim())))  # convolution, not correlation
    if f.dim() == 2:
        x = F.conv2d(x, f[None, None].expand(c, 1, *f.shape), groups=c)
    else:
        k = f.numel()
        x = F.conv2d(x, f.view(1, 1, 1, k).expand(c, 1, 1, k), groups=c)
        x = F.conv2d(x, f.view(1, 1, k, 1).expand(c, 1, k, 1), groups=c)
    if down > 1:
        x = x[:, :, ::down, ::down]
    return x


def filtered_lrelu(x: torch.Tensor, fu: torch.Tensor | None, fd: torch.Tensor | None, b: torch.Tensor | None,
                   up: int = 1, down: int = 1, padding: tuple[int, int, int, int] = (0, 0, 0, 0),
                   gain: float = SQRT2, slope: float = 0.2, clamp: float | None = None) -> torch.Tensor:
    """Bias, upsample with ``fu``, leaky ReLU times ``gain``, clamp to +-``clamp``, low-pass with
    ``fd`` and downsample: the nonlinearity runs at the higher rate, so the harmonics it
    makes above the output's band are filtered out instead of aliasing."""
    if b is not None:
        x = x + b.to(x.dtype).view(1, -1, 1, 1)
    x = upfirdn2d(x, fu, up=up, padding=padding, gain=up**2)
    x = F.leaky_relu(x, slope) if slope != 1 else x
    if gain != 1:
        x = x * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return upfirdn2d(x, fd, down=down)


# ---------------------------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------------------------
class FullyConnectedLayer(nn.Module):
    """Equalised-lr linear layer (weights scaled by ``lr_multiplier / sqrt(in)`` at run time,
    bias by ``lr_multiplier``), optionally with leaky ReLU (slope 0.2, gain sqrt(2))."""

    def __init__(self, in_features: int, out_features: int, *, lrelu: bool = False,
                 lr_multiplier: float = 1.0, bias_init: float | tuple[float, ...] = 0.0,
                 weight_init: float = 1.0) -> None:
        super().__init__()
        self.lrelu = lrelu
        self.weight = nn.Parameter(torch.randn(out_features, in_features) * (weight_init / lr_multiplier))
        init = torch.as_tensor(bias_init, dtype=torch.float32).expand(out_features)
        self.bias = nn.Parameter(init / lr_multiplier)
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain
        b = self.bias.to(x.dtype) * self.bias_gain
        if not self.lrelu:
            return torch.addmm(b[None], x, w.t())
        return F.leaky_relu(x.matmul(w.t()) + b, 0.2) * SQRT2


class MappingNetwork(nn.Module):
    """z -> w (normalised z, ``num_layers`` fully connected layers), broadcast to ``num_ws``
    copies and optionally truncated towards ``w_avg``."""

    w_avg: torch.Tensor

    def __init__(self, z_dim: int, w_dim: int, num_ws: int, num_layers: int = 2, lr_multiplier: float = 0.01) -> None:
        super().__init__()
        self.z_dim, self.w_dim, self.num_ws, self.num_layers = z_dim, w_dim, num_ws, num_layers
        feats = [z_dim] + [w_dim] * num_layers
        for i in range(num_layers):
            setattr(self, f"fc{i}", FullyConnectedLayer(feats[i], feats[i + 1], lrelu=True, lr_multiplier=lr_multiplier))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def z_to_w(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, z_dim) -> w (N, w_dim), before broadcasting and truncation."""
        x = z.to(self.w_avg.dtype)
        x = x * (x.square().mean(1, keepdim=True) + 1e-8).rsqrt()
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        return x

    def forward(self, z: torch.Tensor, truncation_psi: float = 1.0, truncation_cutoff: int | None = None) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must have shape (N, {self.z_dim}), got {tuple(z.shape)}")
        x = self.z_to_w(z)
        x = x[:, None].repeat(1, self.num_ws, 1)
        if truncation_psi != 1:
            cut = self.num_ws if truncation_cutoff is None else truncation_cutoff
            x[:, :cut] = self.w_avg.lerp(x[:, :cut], truncation_psi)
        return x


class SynthesisInput(nn.Module):
    """Fourier features: ``channels`` sinusoids of fixed frequencies (inside a disc of radius
    ``bandwidth``) and phases, sampled on a ``size`` grid at ``sampling_rate``; the first w
    rotates and translates them (an affine map to (cos, sin, tx, ty)), then a learned
    ``channels x channels`` matrix mixes them. ``transform`` is a user transform (identity)."""

    transform: torch.Tensor
    freqs: torch.Tensor
    phases: torch.Tensor

    def __init__(self, w_dim: int, channels: int, size: int, sampling_rate: float, bandwidth: float) -> None:
        super().__init__()
        self.w_dim, self.channels, self.size = w_dim, channels, int(size)
        self.sampling_rate, self.bandwidth = float(sampling_rate), float(bandwidth)
        freqs = torch.randn(channels, 2)
        radii = freqs.square().sum(1, keepdim=True).sqrt()
        freqs = freqs / (radii * radii.square().exp().pow(0.25)) * bandwidth
        self.weight = nn.Parameter(torch.randn(channels, channels))
        self.affine = FullyConnectedLayer(w_dim, 4, weight_init=0.0, bias_init=(1.0, 0.0, 0.0, 0.0))
        self.register_buffer("transform", torch.eye(3))
        self.register_buffer("freqs", freqs)
        self.register_buffer("phases", torch.rand(channels) - 0.5)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        n, dev = w.shape[0], w.device
        t = self.affine(w)
        t = t / t[:, :2].norm(dim=1, keepdim=True)  # (cos, sin, tx, ty)
        rot = torch.eye(3, device=dev, dtype=t.dtype)[None].repeat(n, 1, 1)
        rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1] = t[:, 0], -t[:, 1], t[:, 1], t[:, 0]
        shift = torch.eye(3, device=dev, dtype=t.dtype)[None].repeat(n, 1, 1)
        shift[:, 0, 2], shift[:, 1, 2] = -t[:, 2], -t[:, 3]
        m = rot @ shift @ self.transform[None].to(t.dtype)
        freqs = self.freqs[None].to(t.dtype)
        phases = self.phases[None].to(t.dtype) + (freqs @ m[:, :2, 2:]).squeeze(2)
        freqs = freqs @ m[:, :2, :2]
        # fade out frequencies a user transform pushes beyond the band
        amp = (1 - (freqs.norm(dim=2) - self.bandwidth) / (self.sampling_rate / 2 - self.bandwidth)).clamp(0, 1)
        theta = torch.zeros(1, 2, 3, device=dev, dtype=t.dtype)
        theta[0, 0, 0] = theta[0, 1, 1] = 0.5 * self.size / self.sampling_rate
        grid = F.affine_grid(theta, [1, 1, self.size, self.size], align_corners=False)  # (1, H, W, 2)
        x = (grid.unsqueeze(3) @ freqs.permute(0, 2, 1)[:, None, None]).squeeze(3)  # (N, H, W, C)
        x = torch.sin((x + phases[:, None, None]) * (2 * math.pi)) * amp[:, None, None]
        x = x @ (self.weight.to(t.dtype) / math.sqrt(self.channels)).t()
        return x.permute(0, 3, 1, 2)


class SynthesisLayer(nn.Module):
    """Modulated convolution (input scaled by ``magnitude_ema ** -0.5``), then the filtered
    leaky ReLU of its geometry; the to-RGB layer is a 1x1 conv without demodulation whose
    'activation' is linear (bias and clamp only)."""

    magnitude_ema: torch.Tensor
    up_filter: torch.Tensor | None
    down_filter: torch.Tensor | None

    def __init__(self, w_dim: int, geo: LayerGeometry, filter_size: int, conv_clamp: float | None) -> None:
        super().__init__()
        self.geo = geo
        self.conv_clamp = conv_clamp
        k = geo.conv_kernel
        self.affine = FullyConnectedLayer(w_dim, geo.in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(geo.out_channels, geo.in_channels, k, k))
        self.bias = nn.Parameter(torch.zeros(geo.out_channels))
        self.register_buffer("magnitude_ema", torch.ones([]))
        tmp_rate = geo.in_sampling_rate * geo.up_factor
        self.register_buffer("up_filter", design_lowpass_filter(
            geo.up_taps, geo.in_cutoff, geo.in_half_width * 2, tmp_rate))
        self.register_buffer("down_filter", design_lowpass_filter(
            geo.down_taps, geo.out_cutoff, geo.out_half_width * 2, tmp_rate, radial=geo.down_radial))

    def extra_repr(self) -> str:
        g = self.geo
        return (f"{g.in_channels}->{g.out_channels}, {g.in_size}->{g.out_size} px, k={g.conv_kernel}, "
                f"up={g.up_factor}, down={g.down_factor}, torgb={g.is_torgb}")

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        g = self.geo
        n, cin = x.shape[:2]
        styles = self.affine(w)  # (N, Cin)
        weight = self.weight.to(x.dtype)
        if g.is_torgb:
            styles = styles / math.sqrt(g.in_channels * g.conv_kernel**2)
        else:
            # pre-normalise (scale-free under demodulation; keeps the numbers tame)
            weight = weight * weight.square().mean([1, 2, 3], keepdim=True).rsqrt()
            styles = styles * styles.square().mean().rsqrt()
        wts = weight[None] * styles[:, None, :, None, None]  # (N, Cout, Cin, k, k)
        if not g.is_torgb:
            wts = wts * (wts.square().sum([2, 3, 4]) + 1e-8).rsqrt()[:, :, None, None, None]
        wts = wts * self.magnitude_ema.to(x.dtype).rsqrt()
        k = g.conv_kernel
        y = F.conv2d(x.reshape(1, n * cin, *x.shape[2:]), wts.reshape(-1, cin, k, k), padding=k - 1, groups=n)
        y = y.reshape(n, -1, *y.shape[2:])
        return filtered_lrelu(y, self.up_filter, self.down_filter, self.bias, up=g.up_factor, down=g.down_factor,
                              padding=g.padding, gain=1.0 if g.is_torgb else SQRT2,
                              slope=1.0 if g.is_torgb else 0.2, clamp=self.conv_clamp)


class SynthesisNetwork(nn.Module):
    """ws (N, num_ws, w_dim) -> images (N, img_channels, R, R) times ``output_scale``."""

    def __init__(self, cfg: StyleGAN3Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.num_ws = cfg.num_ws
        self.input = SynthesisInput(cfg.w_dim, **input_geometry(cfg))  # type: ignore[arg-type]
        self.layer_names: list[str] = []
        for geo in layer_geometry(cfg):
            setattr(self, geo.name, SynthesisLayer(cfg.w_dim, geo, cfg.filter_size, cfg.conv_clamp))
            self.layer_names.append(geo.name)

    def forward(self, ws: torch.Tensor) -> torch.Tensor:
        if ws.dim() != 3 or ws.shape[1] != self.num_ws or ws.shape[2] != self.cfg.w_dim:
            raise ValueError(f"ws must have shape (N, {self.num_ws}, {self.cfg.w_dim}), got {tuple(ws.shape)}")
        dtype = self.input.weight.dtype
        w = ws.to(dtype).unbind(1)
        x = self.input(w[0])
        for name, wi in zip(self.layer_names, w[1:], strict=True):
            x = getattr(self, name)(x, wi)
        return x * self.cfg.output_scale if self.cfg.output_scale != 1 else x


class Generator(nn.Module):
    """Mapping + synthesis; ``forward(z)`` = ``synthesis(mapping(z, psi, cutoff))``."""

    def __init__(self, config: StyleGAN3Config) -> None:
        super().__init__()
        self.config = config
        self.z_dim, self.w_dim = config.z_dim, config.w_dim
        self.size = config.img_resolution
        self.num_ws = config.num_ws
        self.synthesis = SynthesisNetwork(config)
        self.mapping = MappingNetwork(config.z_dim, config.w_dim, config.num_ws, config.mapping_layers, config.mapping_lr)

    def forward(self, z: torch.Tensor, truncation_psi: float = 1.0, truncation_cutoff: int | None = None) -> torch.Tensor:
        return self.synthesis(self.mapping(z, truncation_psi, truncation_cutoff))  # type: ignore[no-any-return]


def build_generator(config: Mapping[str, Any]) -> Generator:
    """The model store's builder for architecture ``"stylegan3"`` (card config -> module)."""
    return Generator(StyleGAN3Config.from_dict(config))
