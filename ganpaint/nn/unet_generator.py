"""The U-Net generator of pix2pix, key-compatible with the official files.

The network is a chain of nested skip blocks; each block wraps the next one. Keys:
the outermost block is ``model.model`` = [down conv (0), inner block (1), ReLU, up convT (3), Tanh];
a middle block's Sequential is [LeakyReLU, down conv (1), norm (2), inner block (3), ReLU,
up convT (5), norm (6), (Dropout)]; the innermost is [LeakyReLU, down conv (1), ReLU,
up convT (3), norm (4)]. So nested keys read ``model.model.1.model.3.model.3...``.

Widths from the outside in: ngf, 2ngf, 4ngf, then 8ngf for every further level.
``num_downs`` blocks halve the size ``num_downs`` times: sides must be multiples of
``2 ** num_downs`` (7 -> 128 px, 8 -> 256 px). Dropout (0.5) sits in the ``num_downs - 5``
8ngf blocks just outside the innermost one and leaves no keys behind.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from ganpaint.nn.norms import NormKind, check_norm, conv_bias, norm_layer


@dataclass(frozen=True)
class UnetConfig:
    in_channels: int = 3
    out_channels: int = 3
    ngf: int = 64
    num_downs: int = 8
    norm: NormKind = "batch"
    dropout: bool = True

    def __post_init__(self) -> None:
        for name in ("in_channels", "out_channels", "ngf"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"UnetConfig.{name} must be >= 1")
        if self.num_downs < 5:
            raise ValueError("UnetConfig.num_downs must be >= 5")
        check_norm(self.norm)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UnetConfig:
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown U-Net generator options: {', '.join(sorted(unknown))}")
        return cls(**data)


class UnetSkipBlock(nn.Module):
    """down -> inner -> up, with the input concatenated to the output (except outermost)."""

    def __init__(
        self,
        outer: int,
        inner: int,
        *,
        norm: NormKind,
        submodule: nn.Module | None = None,
        in_channels: int | None = None,
        outermost: bool = False,
        dropout: bool = False,
    ) -> None:
        super().__init__()
        self.outermost = outermost
        bias = conv_bias(norm)
        down = nn.Conv2d(in_channels or outer, inner, 4, stride=2, padding=1, bias=bias)
        if outermost:
            assert submodule is not None
            # the last layer maps to pixels: it always has a bias, and no norm
            up = nn.ConvTranspose2d(inner * 2, outer, 4, stride=2, padding=1)
            layers = [down, submodule, nn.ReLU(True), up, nn.Tanh()]
        elif submodule is None:  # innermost: no norm on the bottleneck, nothing to concatenate
            up = nn.ConvTranspose2d(inner, outer, 4, stride=2, padding=1, bias=bias)
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True), up, norm_layer(norm, outer)]
        else:
            up = nn.ConvTranspose2d(inner * 2, outer, 4, stride=2, padding=1, bias=bias)
            layers = [
                nn.LeakyReLU(0.2, True),
                down,
                norm_layer(norm, inner),
                submodule,
                nn.ReLU(True),
                up,
                norm_layer(norm, outer),
            ]
            if dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: B x C_in x H x W -> B x outer x H x W (outermost) or B x (C_in + outer) x H x W
        if self.outermost:
            out: torch.Tensor = self.model(x)
            return out
        # the in-place LeakyReLU at the block's start rewrites x; the reference concatenates
        # that rewritten tensor, and so do we (it is what the official weights expect)
        y = self.model(x)
        return torch.cat([x, y], 1)


class UnetGenerator(nn.Module):
    """pix2pix U-Net with ``num_downs`` levels."""

    def __init__(self, config: UnetConfig | None = None) -> None:
        super().__init__()
        c = config or UnetConfig()
        self.config = c
        wide = c.ngf * 8
        block = UnetSkipBlock(wide, wide, norm=c.norm)
        for _ in range(c.num_downs - 5):
            block = UnetSkipBlock(wide, wide, norm=c.norm, submodule=block, dropout=c.dropout)
        block = UnetSkipBlock(c.ngf * 4, wide, norm=c.norm, submodule=block)
        block = UnetSkipBlock(c.ngf * 2, c.ngf * 4, norm=c.norm, submodule=block)
        block = UnetSkipBlock(c.ngf, c.ngf * 2, norm=c.norm, submodule=block)
        self.model = UnetSkipBlock(
            c.out_channels, c.ngf, norm=c.norm, submodule=block, in_channels=c.in_channels, outermost=True
        )

    @property
    def size_multiple(self) -> int:
        return 1 << self.config.num_downs

    @property
    def min_size(self) -> int:
        return self.size_multiple

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: B x in_channels x H x W in [-1, 1], H and W multiples of 2**num_downs
        #    -> B x out_channels x H x W in [-1, 1]
        out: torch.Tensor = self.model(x)
        return out
