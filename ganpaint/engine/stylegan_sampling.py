"""Generating with a StyleGAN2 generator: latents, truncation, style mixing, synthesis.

The API the style-mixing and face-slider plugins build on. ``G`` is a
``ganpaint.nn.stylegan2.Generator`` (from ``load_model`` on a stored ``stylegan2`` model).
Shapes: z and w are (N, dim); W+ latents ``ws`` are (N, n_styles, dim) with
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

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch

from ganpaint.nn.stylegan2 import Generator

__all__ = [
    "MEAN_LATENT_SAMPLES",
    "MEAN_LATENT_SEED",
    "broadcast",
    "generate",
    "mean_latent",
    "mix",
    "random_noise",
    "sample_z",
    "synthesize",
    "to_pictures",
    "truncate",
    "w_avg",
    "z_to_w",
]

#: how a missing mean latent is computed: the mean of w over this many z of this seed
MEAN_LATENT_SAMPLES = 4096
MEAN_LATENT_SEED = 0

NoiseMode = Literal["const", "random"]


def _device(G: Generator) -> torch.device:
    return G.input.input.device


def _dtype(G: Generator) -> torch.dtype:
    return G.input.input.dtype


def sample_z(G: Generator, n: int, seed: int) -> torch.Tensor:
    """``n`` latents z ~ N(0, I), (n, dim), from a CPU generator seeded with ``seed``."""
    gen = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, G.style_dim, generator=gen)
    return z.to(device=_device(G), dtype=_dtype(G))


def z_to_w(G: Generator, z: torch.Tensor) -> torch.Tensor:
    """z (N, dim) -> w (N, dim) through the mapping network. A (dim,) vector is taken as (1, dim)."""
    if z.dim() == 1:
        z = z[None]
    if z.dim() != 2 or z.shape[1] != G.style_dim:
        raise ValueError(f"z must have shape (N, {G.style_dim}), got {tuple(z.shape)}")
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
    of ``G.num_layers`` tensors (for optimising noise during inversion).
    max_size: a draft: stop at the largest resolution <= max_size (see ``Generator.forward``);
    the images are then (N, 3, r, r) with r = min(size, that resolution).
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
