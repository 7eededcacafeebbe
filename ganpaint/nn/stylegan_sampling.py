"""Generating with a StyleGAN generator: latents, truncation, style mixing, synthesis.

The API the style-mixing and face-slider plugins build on. ``G`` is a
``ganpaint.nn.stylegan2.Generator`` (from ``load_model`` on a stored ``stylegan2`` model), or a
StyleGAN3 generator seen through the same interface (:func:`tool_generator` wraps a
``ganpaint.nn.stylegan3.Generator`` in :class:`StyleGAN3Tools`). That interface is what this
module, inversion and the slider directions use: ``size``, ``style_dim`` (w), ``n_styles``
(entries of ws), ``mapping(z) -> w``, ``latent_avg``, ``mean_latent``, ``stored_noise()``,
``G(ws, noise, max_size=)``; a StyleGAN3 one adds ``z_dim`` (z may be narrower or wider than
w), ``stops_early = False`` (no drafts at a lower resolution), ``style_groups()`` and
``modulation_weights()``. Read them through :func:`z_dim`, :func:`stops_early` and
:func:`style_groups`, which give a StyleGAN2 generator's values.
Shapes: z is (N, z_dim), w (N, dim); W+ latents ``ws`` are (N, n_styles, dim) with
``n_styles = G.n_styles``; images are (N, 3, size, size) in about [-1, 1].

    G = load_model(store.get("faces", tool="faces").path)
    z = sample_z(G, 4, seed=7)
    w = truncate(z_to_w(G, z), w_avg(G), psi=0.7)
    img = synthesize(G, mix(G, w[0:1], w[1:2], crossover=4), noise="const")
    rgb = to_pictures(img)                         # (N, H, W, 3) float32 in [0, 1]

Nothing here turns gradients off: wrap calls in ``torch.inference_mode()`` for previews, and
leave them on for inversion (optimising ``ws`` or the noise list through ``synthesize``).
Random draws use CPU generators seeded explicitly, so a seed gives the same latent and noise
on every machine and device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np
import torch
from torch import nn

from ganpaint.nn.stylegan2 import Generator as StyleGAN2Generator

if TYPE_CHECKING:
    from ganpaint.nn.stylegan3 import Generator as StyleGAN3Generator

__all__ = [
    "MEAN_LATENT_SAMPLES",
    "MEAN_LATENT_SEED",
    "Generator",
    "StyleGAN3Tools",
    "broadcast",
    "generate",
    "mean_latent",
    "mix",
    "on_generator",
    "random_noise",
    "sample_z",
    "stops_early",
    "style_groups",
    "synthesize",
    "to_pictures",
    "tool_generator",
    "truncate",
    "w_avg",
    "z_dim",
    "z_to_w",
]

#: how a missing mean latent is computed: the mean of w over this many z of this seed
MEAN_LATENT_SAMPLES = 4096
MEAN_LATENT_SEED = 0

NoiseMode = Literal["const", "random"]

#: Where a StyleGAN3 layer's band sits between the first layer's (0) and the output's (1),
#: in octaves: the coarse styles end below this, the middle ones below the next (see
#: :meth:`StyleGAN3Tools.style_groups`). They are the FFHQ 1024 px StyleGAN2 split (coarse
#: 4-8 px, middle 16-32 px, fine 64-1024 px) as fractions of its 8 octaves, cut half-way
#: between the levels.
SG3_COARSE_BELOW = 3 / 16
SG3_MIDDLE_BELOW = 7 / 16


class StyleGAN3Tools(nn.Module):
    """A ``ganpaint.nn.stylegan3.Generator`` seen through the StyleGAN2 generator's interface
    (what the style-mixing and face tools, inversion and the slider directions call).

    ws entry 0 drives the Fourier-feature input (its rotation and translation), entry i + 1
    synthesis layer i, the last one the to-RGB layer. StyleGAN3 has no noise inputs
    (``num_layers = 0``: "const" and "random" give the same picture) and cannot stop at a
    lower resolution (``stops_early = False``: ``max_size`` is accepted and ignored, the
    picture is always full size). The wrapped generator is shared, not copied.
    """

    num_layers = 0
    stops_early = False
    architecture = "stylegan3"

    def __init__(self, generator: StyleGAN3Generator) -> None:
        super().__init__()
        self.g = generator
        self.size = int(generator.size)
        self.z_dim = int(generator.z_dim)
        self.style_dim = int(generator.w_dim)
        self.n_styles = int(generator.num_ws)

    @property
    def latent_avg(self) -> torch.Tensor:
        """The stored mean w (NVlabs' ``mapping.w_avg``), (w_dim,)."""
        avg: torch.Tensor = self.g.mapping.w_avg
        return avg

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, z_dim) -> w (N, w_dim): before broadcasting and truncation."""
        w: torch.Tensor = self.g.mapping.z_to_w(z)
        return w

    def mean_latent(self, n: int = 4096, seed: int = 0) -> torch.Tensor:
        """The mean w over ``n`` z of ``seed`` (the StyleGAN2 recipe), (w_dim,)."""
        gen = torch.Generator().manual_seed(int(seed))
        z = torch.randn(n, self.z_dim, generator=gen).to(self.g.mapping.w_avg)
        with torch.no_grad():
            return torch.cat([self.mapping(c) for c in torch.split(z, 1024)]).mean(0)

    def stored_noise(self) -> list[torch.Tensor]:
        return []

    def random_noise(self, batch: int, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        return []

    def forward(self, ws: torch.Tensor, noise: Any = "const", generator: torch.Generator | None = None,
                max_size: int | None = None) -> torch.Tensor:
        """Synthesis: ws (N, n_styles, w_dim) -> images (N, 3, size, size), about [-1, 1],
        whatever ``max_size`` says (checked as StyleGAN2 does, then ignored)."""
        if max_size is not None and int(max_size) < 4:
            raise ValueError(f"max_size must be at least 4 (the first level), got {max_size!r}")
        if isinstance(noise, str):
            if noise not in ("const", "random"):
                raise ValueError(f"noise must be 'const', 'random' or a list of tensors, got {noise!r}")
        elif len(list(noise)):
            raise ValueError(f"noise: a StyleGAN3 generator has no noise inputs, got {len(list(noise))} tensors")
        out: torch.Tensor = self.g.synthesis(ws)
        return out

    def style_layers(self) -> list[nn.Module]:
        """What each ws entry drives, in order: the input, then every synthesis layer."""
        syn = self.g.synthesis
        return [syn.input, *(getattr(syn, n) for n in syn.layer_names)]

    def style_levels(self) -> list[float]:
        """Each ws entry's band as a fraction of the generator's octaves: 0 = the first
        layer's cutoff (the input's bandwidth), 1 = half the output resolution."""
        syn = self.g.synthesis
        first = float(syn.input.bandwidth)
        cutoffs = [first] + [float(getattr(syn, n).geo.out_cutoff) for n in syn.layer_names]
        span = math.log2(max(self.size / 2 / first, 1.0 + 1e-9))
        return [min(max(math.log2(c / first) / span, 0.0), 1.0) for c in cutoffs]

    def style_groups(self) -> dict[str, tuple[int, int]]:
        """The ws ranges [start, stop) of the coarse, middle and fine styles: by each entry's
        band (:meth:`style_levels`) against SG3_COARSE_BELOW / SG3_MIDDLE_BELOW; each group
        keeps at least one entry. A default 14-layer generator of any size: coarse 0-3 (the
        input and layers 0-2), middle 4-6 (layers 3-5), fine 7-15 (layers 6-13 and to-RGB)."""
        levels = self.style_levels()
        n = len(levels)
        b1 = sum(1 for u in levels if u < SG3_COARSE_BELOW)
        b2 = sum(1 for u in levels if u < SG3_MIDDLE_BELOW)
        b1 = min(max(b1, 1), n - 2)
        b2 = min(max(b2, b1 + 1), n - 1)
        return {"coarse": (0, b1), "middle": (b1, b2), "fine": (b2, n)}

    def modulation_weights(self, layers: str = "first") -> torch.Tensor:
        """The style (affine) weights A of the synthesis layers as applied, (sum of widths,
        w_dim): ``"first"`` = synthesis layer 0's (the first modulated convolution, as
        StyleGAN2's ``conv1``), ``"all"`` = the input's and every layer's, to-RGB included."""
        if layers == "first":
            mods = self.style_layers()[1:2]
        elif layers == "all":
            mods = self.style_layers()
        else:
            raise ValueError(f"layers must be 'first' or 'all', got {layers!r}")
        return torch.cat([m.affine.weight.detach().float() * m.affine.weight_gain for m in mods])


#: what the tools take: a StyleGAN2 generator, or a StyleGAN3 one through :class:`StyleGAN3Tools`
Generator: TypeAlias = StyleGAN2Generator | StyleGAN3Tools


def tool_generator(model: nn.Module) -> Generator:
    """The tools' view of a loaded generator: a StyleGAN2 one as it is, a StyleGAN3 one
    wrapped in :class:`StyleGAN3Tools` (a wrapped one passes through); TypeError otherwise."""
    from ganpaint.nn.stylegan3 import Generator as SG3

    if isinstance(model, StyleGAN2Generator | StyleGAN3Tools):
        return model
    if isinstance(model, SG3):
        return StyleGAN3Tools(model)
    raise TypeError(f"not a StyleGAN2 or StyleGAN3 generator: {type(model).__name__}")


def _ref(G: Generator) -> torch.Tensor:
    return next(iter(G.parameters()))


def _device(G: Generator) -> torch.device:
    return _ref(G).device


def _dtype(G: Generator) -> torch.dtype:
    return _ref(G).dtype


def on_generator(G: Generator, t: torch.Tensor) -> torch.Tensor:
    """``t`` on the generator's device, in its dtype."""
    return t.to(device=_device(G), dtype=_dtype(G))


def z_dim(G: Generator) -> int:
    """The size of z (a StyleGAN2 generator's z and w have the same size, ``style_dim``)."""
    return int(getattr(G, "z_dim", G.style_dim))


def stops_early(G: Generator) -> bool:
    """Whether ``synthesize(max_size=)`` can stop at a lower resolution (a cheaper draft):
    StyleGAN2 yes, StyleGAN3 no (its pictures are always full size)."""
    return bool(getattr(G, "stops_early", True))


def style_groups(G: Generator) -> dict[str, tuple[int, int]]:
    """The ws ranges [start, stop) of the "coarse", "middle" and "fine" styles. StyleGAN2:
    FFHQ 1024 px (18 inputs) has coarse 0-3 (4-8 px), middle 4-7 (16-32 px), fine 8-17;
    smaller generators scale that. StyleGAN3: by the layers' bands
    (:meth:`StyleGAN3Tools.style_groups`)."""
    groups = getattr(G, "style_groups", None)
    if callable(groups):
        return dict(groups())
    n = G.n_styles
    b1, b2 = max(1, round(n * 4 / 18)), max(2, round(n * 8 / 18))
    return {"coarse": (0, b1), "middle": (b1, b2), "fine": (b2, n)}


def sample_z(G: Generator, n: int, seed: int) -> torch.Tensor:
    """``n`` latents z ~ N(0, I), (n, z_dim), from a CPU generator seeded with ``seed``."""
    gen = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, z_dim(G), generator=gen)
    return z.to(device=_device(G), dtype=_dtype(G))


def z_to_w(G: Generator, z: torch.Tensor) -> torch.Tensor:
    """z (N, z_dim) -> w (N, dim) through the mapping network. A (z_dim,) vector is taken as (1, z_dim)."""
    if z.dim() == 1:
        z = z[None]
    if z.dim() != 2 or z.shape[1] != z_dim(G):
        raise ValueError(f"z must have shape (N, {z_dim(G)}), got {tuple(z.shape)}")
    return G.mapping(z.to(device=_device(G), dtype=_dtype(G)))


def truncate(w: torch.Tensor, w_avg: torch.Tensor, psi: float | torch.Tensor) -> torch.Tensor:
    """The truncation trick in W: ``w_avg + psi * (w - w_avg)``; w is (N, dim) or (N, n_styles, dim).

    ``psi`` = 1 leaves w unchanged, 0 gives the mean picture; a (n_styles, 1) tensor truncates
    each style input by its own amount (e.g. only the coarse ones).
    """
    return w_avg.to(w) + psi * (w - w_avg.to(w))


def broadcast(G: Generator, w: torch.Tensor) -> torch.Tensor:
    """w (N, dim) -> ws (N, n_styles, dim), the same w for every style input; ws passes through."""
    if w.dim() == 2:
        return w[:, None, :].expand(-1, G.n_styles, -1)
    if w.dim() == 3 and w.shape[1] == G.n_styles:
        return w
    raise ValueError(f"w must have shape (N, {G.style_dim}) or (N, {G.n_styles}, {G.style_dim}), got {tuple(w.shape)}")


def mix(G: Generator, w_a: torch.Tensor, w_b: torch.Tensor, crossover: int) -> torch.Tensor:
    """Style mixing: the first ``crossover`` style inputs from A, the rest from B.

    w_a, w_b: (N, dim) or W+ (N, n_styles, dim) (an inverted picture); N may be 1 on one
    side (broadcast). ``crossover`` is clamped to [0, n_styles]: 0 = all B, n_styles = all A.
    Coarse styles (layout, pose) are the first inputs; fine ones (colours) the last.
    """
    a, b = broadcast(G, w_a), broadcast(G, w_b)
    k = max(0, min(int(crossover), G.n_styles))
    n = max(a.shape[0], b.shape[0])
    a = a.expand(n, -1, -1) if a.shape[0] == 1 else a
    b = b.expand(n, -1, -1) if b.shape[0] == 1 else b
    return torch.cat([a[:, :k], b[:, k:]], dim=1)


def random_noise(G: Generator, n: int, seed: int) -> list[torch.Tensor]:
    """Per-layer noise (n, 1, r, r) drawn from a CPU generator seeded with ``seed``."""
    gen = torch.Generator().manual_seed(int(seed))
    dev, dt = _device(G), _dtype(G)
    return [torch.randn(n, 1, b.shape[2], b.shape[3], generator=gen).to(dev, dt) for b in G.stored_noise()]


def synthesize(
    G: Generator,
    ws: torch.Tensor,
    noise: NoiseMode | Sequence[torch.Tensor | None] = "const",
    seed: int = 0,
    max_size: int | None = None,
) -> torch.Tensor:
    """ws (N, n_styles, dim) (or w (N, dim), broadcast) -> images (N, 3, size, size), about [-1, 1].

    noise: "const" = the generator's stored noise buffers (what rosinality calls
    ``randomize_noise=False``: repeatable), "random" = fresh noise from ``seed``, or a list
    of ``G.num_layers`` tensors (for optimising noise during inversion). StyleGAN3 has none.
    max_size: a draft: stop at the largest resolution <= max_size (see ``Generator.forward``);
    the images are then (N, 3, r, r) with r = min(size, that resolution). StyleGAN3 cannot
    stop early (:func:`stops_early`): its images are always full size.
    """
    ws = broadcast(G, ws.to(device=_device(G), dtype=_dtype(G)))
    out: torch.Tensor
    if isinstance(noise, str):
        if noise == "random":
            out = G(ws, random_noise(G, ws.shape[0], seed), max_size=max_size)
        elif noise == "const":
            out = G(ws, "const", max_size=max_size)
        else:
            raise ValueError(f"noise must be 'const' or 'random', got {noise!r}")
    else:
        out = G(ws, list(noise), max_size=max_size)
    return out


def mean_latent(G: Generator, n: int = MEAN_LATENT_SAMPLES, seed: int = MEAN_LATENT_SEED) -> torch.Tensor:
    """The mean w over ``n`` z of ``seed`` (the z of :func:`sample_z`), (dim,): what truncation
    pulls towards."""
    return G.mean_latent(n, seed)


def w_avg(G: Generator) -> torch.Tensor:
    """The generator's stored mean w (``latent_avg`` buffer), (dim,). Imports and training
    always fill it; a generator whose buffer is still all zeros gets :func:`mean_latent`."""
    avg = G.latent_avg
    if not bool(avg.abs().sum()):
        avg = mean_latent(G)
    return avg


def generate(
    G: Generator, z: torch.Tensor, psi: float = 1.0, noise: NoiseMode = "const", seed: int = 0
) -> torch.Tensor:
    """z (N, dim) -> images, with truncation ``psi`` towards :func:`w_avg`."""
    w = z_to_w(G, z)
    if psi != 1.0:
        w = truncate(w, w_avg(G), psi)
    return synthesize(G, w, noise=noise, seed=seed)


def to_pictures(images: torch.Tensor) -> np.ndarray:
    """(N, 3, H, W) in [-1, 1] -> (N, H, W, 3) float32 in [0, 1] (the plugin pixel convention)."""
    x = images.detach().float().clamp(-1, 1).add(1).mul(0.5)
    return np.ascontiguousarray(x.permute(0, 2, 3, 1).cpu().numpy(), dtype=np.float32)
