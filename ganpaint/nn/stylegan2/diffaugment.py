"""Differentiable augmentation (DiffAugment, Zhao et al. 2020) for GANs on small data sets.

The same random transforms are applied to real AND generated pictures before the
discriminator sees them, and gradients flow through them to the generator, so D cannot
over-fit a few hundred pictures while G still learns the un-augmented distribution.

Policies (comma-separated): ``color`` (brightness, saturation, contrast), ``translation``
(shift by up to 1/8 of the side, zeros shifted in), ``cutout`` (a zeroed square of half the
side). Draws come from ``generator`` (torch's global RNG when None), one per sample; a
list of generators (one per sample, on the pictures' device) draws sample i from the i-th,
so a sample's augmentation does not depend on the others in its batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

Gen = torch.Generator | Sequence[torch.Generator] | None
Aug = Callable[[torch.Tensor, Gen], torch.Tensor]


def _rand(x: torch.Tensor, gen: Gen, *shape: int) -> torch.Tensor:
    if gen is None or isinstance(gen, torch.Generator):
        return torch.rand(*shape, generator=gen, device=x.device, dtype=x.dtype)
    return torch.cat([torch.rand(1, *shape[1:], generator=g, device=x.device, dtype=x.dtype) for g in gen])


def _randint(x: torch.Tensor, gen: Gen, low: int, high: int, shape: tuple[int, ...]) -> torch.Tensor:
    if gen is None or isinstance(gen, torch.Generator):
        return torch.randint(low, high, shape, generator=gen, device=x.device)
    return torch.cat([torch.randint(low, high, (1, *shape[1:]), generator=g, device=x.device) for g in gen])


def color(x: torch.Tensor, gen: Gen = None) -> torch.Tensor:
    # x: (N, C, H, W) in about [-1, 1]
    n = x.shape[0]
    x = x + (_rand(x, gen, n, 1, 1, 1) - 0.5)
    m = x.mean(dim=1, keepdim=True)
    x = (x - m) * (_rand(x, gen, n, 1, 1, 1) * 2.0) + m
    m = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - m) * (_rand(x, gen, n, 1, 1, 1) + 0.5) + m


def translation(x: torch.Tensor, gen: Gen = None, ratio: float = 0.125) -> torch.Tensor:
    n, _, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    if sy == 0 and sx == 0:
        return x
    ty = _randint(x, gen, -sy, sy + 1, (n,))
    tx = _randint(x, gen, -sx, sx + 1, (n,))
    padded = F.pad(x, [sx, sx, sy, sy])
    iy = torch.arange(h, device=x.device)[None, :] + sy + ty[:, None]  # (N, H) rows of the padded picture
    ix = torch.arange(w, device=x.device)[None, :] + sx + tx[:, None]  # (N, W)
    b = torch.arange(n, device=x.device)[:, None, None]
    # advanced indices around a slice: the result is (N, H, W, C)
    out = padded[b, :, iy[:, :, None], ix[:, None, :]]
    return out.permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, gen: Gen = None, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = _randint(x, gen, 0, h + (1 - ch % 2), (n, 1, 1)) - ch // 2
    cx = _randint(x, gen, 0, w + (1 - cw % 2), (n, 1, 1)) - cw // 2
    yy = torch.arange(h, device=x.device)[None, :, None]
    xx = torch.arange(w, device=x.device)[None, None, :]
    inside = (yy >= cy) & (yy < cy + ch) & (xx >= cx) & (xx < cx + cw)  # (N, H, W)
    return x * (~inside).unsqueeze(1).to(x.dtype)


POLICIES: dict[str, Aug] = {"color": color, "translation": translation, "cutout": cutout}


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"color,translation"`` -> ("color", "translation"); ValueError naming an unknown part."""
    parts = tuple(p.strip() for p in policy.split(",") if p.strip())
    bad = [p for p in parts if p not in POLICIES]
    if bad:
        raise ValueError(f"unknown augmentation {', '.join(bad)} (known: {', '.join(POLICIES)})")
    return parts


def diff_augment(x: torch.Tensor, policy: str, generator: Gen = None) -> torch.Tensor:
    """Apply each transform of ``policy`` in order (an empty policy returns ``x``)."""
    for name in parse_policy(policy):
        x = POLICIES[name](x, generator)
    return x
