"""The mapping network z -> w: PixelNorm then ``n_mlp`` equalised-lr linear layers.

It is an ``nn.Sequential`` so the keys read ``style.1.weight`` ... ``style.N.bias`` when a
generator holds it as ``self.style`` (index 0 is the parameter-free PixelNorm).
"""

from __future__ import annotations

import torch
from torch import nn

from ganpaint.nn.stylegan2.ops import EqualLinear


class PixelNorm(nn.Module):
    """Scale each vector to unit root-mean-square (z is drawn from N(0, I), so |z| ~ sqrt(dim))."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(torch.mean(x * x, dim=1, keepdim=True) + 1e-8)


class MappingNetwork(nn.Sequential):
    """z (N, style_dim) -> w (N, style_dim). ``lr_mul`` (0.01) slows the mapping's learning."""

    def __init__(self, style_dim: int, n_mlp: int, lr_mul: float = 0.01) -> None:
        layers: list[nn.Module] = [PixelNorm()]
        layers += [EqualLinear(style_dim, style_dim, lr_mul=lr_mul, activation=True) for _ in range(n_mlp)]
        super().__init__(*layers)
        self.style_dim = style_dim
        self.n_mlp = n_mlp
