"""The StyleGAN2 generator (Karras et al. 2020), in rosinality's stylegan2-pytorch key layout.

    G = Generator(StyleGAN2Config(size=64, style_dim=256, n_mlp=4, channels=(256, 256, 256, 128, 64)))
    w = G.mapping(z)                                 # (N, style_dim)
    ws = w[:, None].expand(-1, G.n_styles, -1)       # (N, n_styles, style_dim): one w per style input
    img = G(ws, noise="const")                       # (N, 3, 64, 64), about [-1, 1]

``n_styles = 2 * log2(size) - 2``: style input 0 drives the first 4x4 conv, 1 its to-RGB;
then each resolution takes three consecutive inputs (i, i+1 for its two convs, i+2 for its
to-RGB), advancing by two, so neighbouring resolutions share one input.

Keys: ``style.N.*`` (mapping), ``input.input``, ``conv1.*``, ``to_rgb1.*``, ``convs.N.*``,
``to_rgbs.N.*``, ``noises.noise_N`` (stored noise, one per conv layer), as in rosinality's
``g_ema``; plus ``latent_avg`` (the mean w, for truncation), which rosinality keeps beside
the state dict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
from torch import nn

from ganpaint.nn.stylegan2.mapping import MappingNetwork
from ganpaint.nn.stylegan2.modulated_conv import ConstantInput, StyledConv, ToRGB

NoiseArg = Literal["const", "random"] | Sequence[torch.Tensor | None]


def standard_widths(size: int, channel_multiplier: int = 2) -> tuple[int, ...]:
    """Widths at 4, 8, ..., ``size`` px of the published StyleGAN2 configs (512 up to 32 px)."""
    table = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256, 128: 128, 256: 64, 512: 32, 1024: 16}
    if size not in table:
        raise ValueError(f"no standard widths for {size} px (4 ... 1024)")
    return tuple(table[r] * (channel_multiplier if r >= 64 else 1) for r in resolutions(size))


def resolutions(size: int) -> tuple[int, ...]:
    """4, 8, ..., size."""
    return tuple(2**i for i in range(2, int(math.log2(size)) + 1))


@dataclass(frozen=True)
class StyleGAN2Config:
    """Architecture of a StyleGAN2 generator (validated on construction).

    size:               output side in pixels, a power of two >= 4
    style_dim:          latent size (z and w)
    n_mlp:              mapping depth (linear layers)
    channels:           widths at 4, 8, ..., size px; empty = ``standard_widths(size, channel_multiplier)``
    channel_multiplier: the published configs' width factor above 32 px (recorded; used only
                        when ``channels`` is empty)
    lr_mlp:             learning-rate multiplier of the mapping network
    conv_clamp:         limit every layer's activations and to-RGB output to +-conv_clamp
                        (NVlabs' StyleGAN2-ADA option, 256 in their configs); None = no limit
                        (rosinality's models and GANPaint's own); left out of ``to_dict`` when None
    """

    size: int
    style_dim: int = 512
    n_mlp: int = 8
    channels: tuple[int, ...] = ()
    channel_multiplier: int | None = 2
    lr_mlp: float = 0.01
    conv_clamp: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or self.size < 4 or self.size & (self.size - 1):
            raise ValueError(f"size must be a power of two >= 4, got {self.size!r}")
        for name in ("style_dim", "n_mlp"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        chans = tuple(self.channels)
        if not chans:
            chans = standard_widths(self.size, self.channel_multiplier or 2)
        if len(chans) != len(resolutions(self.size)) or not all(isinstance(c, int) and c > 0 for c in chans):
            raise ValueError(
                f"channels must be {len(resolutions(self.size))} positive widths (4 ... {self.size} px), got {chans!r}"
            )
        object.__setattr__(self, "channels", tuple(int(c) for c in chans))
        if not (isinstance(self.lr_mlp, int | float) and self.lr_mlp > 0):
            raise ValueError(f"lr_mlp must be > 0, got {self.lr_mlp!r}")
        c = self.conv_clamp
        if c is not None and not (isinstance(c, int | float) and not isinstance(c, bool) and 0 < c < math.inf):
            raise ValueError(f"conv_clamp must be a positive number or None, got {c!r}")

    @property
    def n_styles(self) -> int:
        return int(math.log2(self.size)) * 2 - 2

    @property
    def n_noises(self) -> int:
        return (int(math.log2(self.size)) - 2) * 2 + 1

    def widths(self) -> dict[int, int]:
        return dict(zip(resolutions(self.size), self.channels, strict=True))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["channels"] = list(self.channels)
        if d["conv_clamp"] is None:
            del d["conv_clamp"]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StyleGAN2Config:
        d = dict(d)
        if "channels" in d:
            d["channels"] = tuple(d["channels"])
        return cls(**d)


class Generator(nn.Module):
    """StyleGAN2 generator: mapping network + style-modulated synthesis with skip to-RGB outputs."""

    latent_avg: torch.Tensor

    def __init__(self, config: StyleGAN2Config) -> None:
        super().__init__()
        self.config = config
        self.size = config.size
        self.style_dim = config.style_dim
        self.n_styles = config.n_styles
        self.num_layers = config.n_noises
        widths = config.widths()
        self.style = MappingNetwork(config.style_dim, config.n_mlp, config.lr_mlp)
        self.input = ConstantInput(widths[4])
        clamp = config.conv_clamp
        self.conv1 = StyledConv(widths[4], widths[4], 3, config.style_dim, clamp=clamp)
        self.to_rgb1 = ToRGB(widths[4], config.style_dim, upsample=False, clamp=clamp)
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        self.noises = nn.Module()
        for i in range(self.num_layers):
            res = 2 ** ((i + 5) // 2)  # 4, 8, 8, 16, 16, ...
            self.noises.register_buffer(f"noise_{i}", torch.randn(1, 1, res, res))
        in_ch = widths[4]
        for res in list(widths)[1:]:
            out_ch = widths[res]
            self.convs.append(StyledConv(in_ch, out_ch, 3, config.style_dim, upsample=True, clamp=clamp))
            self.convs.append(StyledConv(out_ch, out_ch, 3, config.style_dim, clamp=clamp))
            self.to_rgbs.append(ToRGB(out_ch, config.style_dim, clamp=clamp))
            in_ch = out_ch
        # the mean w (truncation target); zeros until computed or imported
        self.register_buffer("latent_avg", torch.zeros(config.style_dim))

    # ----------------------------------------------------------------------------- latents
    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, style_dim) -> w (N, style_dim)."""
        w: torch.Tensor = self.style(z)
        return w

    def mean_latent(self, n: int = 4096, seed: int = 0) -> torch.Tensor:
        """The mean w over ``n`` z ~ N(0, I) drawn from a CPU generator seeded with ``seed``, (style_dim,).

        What truncation pulls towards when a file has no ``latent_avg`` (the same recipe for
        imports and for training, so it is reproducible anywhere)."""
        gen = torch.Generator().manual_seed(int(seed))
        z = torch.randn(n, self.style_dim, generator=gen).to(self.input.input)
        with torch.no_grad():
            return torch.cat([self.mapping(c) for c in torch.split(z, 1024)]).mean(0)

    def stored_noise(self) -> list[torch.Tensor]:
        """The stored noise buffers, (1, 1, r, r) each, in layer order."""
        return [getattr(self.noises, f"noise_{i}") for i in range(self.num_layers)]

    def random_noise(self, batch: int, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """Fresh noise, (batch, 1, r, r) per layer, drawn in layer order from ``generator``."""
        dev = self.input.input.device
        out = []
        for b in self.stored_noise():
            out.append(torch.randn(batch, 1, b.shape[2], b.shape[3], generator=generator, device=dev))
        return out

    # ----------------------------------------------------------------------------- synthesis
    def forward(self, ws: torch.Tensor, noise: NoiseArg = "const",
                generator: torch.Generator | None = None, max_size: int | None = None) -> torch.Tensor:
        """Synthesis. ws (N, n_styles, style_dim) -> images (N, 3, size, size), about [-1, 1].

        noise: "const" = the stored buffers (deterministic), "random" = fresh noise from
        ``generator`` (torch's global RNG when None), or a list of ``num_layers`` tensors
        (N or 1, 1, r, r) / None (None = drawn at random).

        max_size: stop early, after the to-RGB output of the largest resolution <= max_size
        (a draft for a live preview). With skip connections every level's running RGB sum
        is a whole picture, the coarse version of the full one; the layers above it are
        simply not run. None or >= size: the full output, unchanged. Below 4: ValueError.
        Random noise is still drawn for every layer, so the levels kept get the same noise
        as in a full run.
        """
        if max_size is not None and int(max_size) < 4:
            raise ValueError(f"max_size must be at least 4 (the first level), got {max_size!r}")
        n = ws.shape[0]
        if ws.dim() != 3 or ws.shape[1] != self.n_styles or ws.shape[2] != self.style_dim:
            raise ValueError(
                f"ws must have shape (N, {self.n_styles}, {self.style_dim}), got {tuple(ws.shape)}"
            )
        if isinstance(noise, str):
            if noise == "const":
                noises: Sequence[torch.Tensor | None] = self.stored_noise()
            elif noise == "random":
                noises = self.random_noise(n, generator)
            else:
                raise ValueError(f"noise must be 'const', 'random' or a list of tensors, got {noise!r}")
        else:
            noises = list(noise)
            if len(noises) != self.num_layers:
                raise ValueError(f"noise: expected {self.num_layers} tensors, got {len(noises)}")
        out = self.input(n)
        out = self.conv1(out, ws[:, 0], noises[0])
        skip: torch.Tensor = self.to_rgb1(out, ws[:, 1])
        i = 1
        for k, to_rgb in enumerate(self.to_rgbs):
            if max_size is not None and 8 << k > max_size:  # level k makes 8 * 2**k px
                break
            out = self.convs[2 * k](out, ws[:, i], noises[2 * k + 1])
            out = self.convs[2 * k + 1](out, ws[:, i + 1], noises[2 * k + 2])
            skip = to_rgb(out, ws[:, i + 2], skip)
            i += 2
        return skip


def build_generator(config: Mapping[str, Any]) -> Generator:
    """The model store's builder for architecture ``"stylegan2"`` (card config -> module)."""
    return Generator(StyleGAN2Config.from_dict(config))
