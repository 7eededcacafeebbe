"""Separable Gaussian filtering of B x C x H x W tensors (size kept), shared by the tools.

``separable(x, taps, padding)`` runs one 1-D kernel along both axes:

* ``"reflect"``: mirrored edges; a side too short to mirror the kernel's radius is padded by
  repeating its edge pixel instead (the inpainting guide's texture, ganpaint.nn.inpaint);
* ``"zeros"``: zero padding, and on a side shorter than the kernel only its central taps are used
  (unnormalised): what a normalised convolution wants, filtering ``values * mask`` and ``mask``
  alike (the sketch tool's colour smoothing within regions).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F


def gaussian_taps(sigma: float, radius: int, dtype: torch.dtype = torch.float32,
                  device: torch.device | str | None = None) -> torch.Tensor:
    """The 2 * radius + 1 taps of a Gaussian of ``sigma`` (pixels), summing to 1."""
    g = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, dtype=dtype, device=device) / sigma) ** 2)
    return g / g.sum()


def separable(x: torch.Tensor, taps: torch.Tensor, padding: Literal["reflect", "zeros"]) -> torch.Tensor:
    """``taps`` (odd length) along the width, then along the height, of every channel of ``x``."""
    c, r = x.shape[1], (len(taps) - 1) // 2
    h, w = x.shape[-2:]
    if padding == "zeros":
        ry, rx = min(r, h - 1), min(r, w - 1)
        gy, gx = taps[r - ry: r + ry + 1], taps[r - rx: r + rx + 1]
        x = F.conv2d(F.pad(x, (rx, rx, 0, 0)), gx.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
        return F.conv2d(F.pad(x, (0, 0, ry, ry)), gy.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
    if padding != "reflect":
        raise ValueError(f"padding must be 'reflect' or 'zeros', got {padding!r}")
    mode = "reflect" if h > r and w > r else "replicate"
    k = taps.view(1, 1, 1, -1).repeat(c, 1, 1, 1)
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode=mode), k, groups=c)
    return F.conv2d(F.pad(x, (0, 0, r, r), mode=mode), k.view(c, 1, -1, 1), groups=c)
