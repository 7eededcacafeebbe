"""The ResNet generator of CycleGAN (Johnson et al. style), key-compatible with the official files.

Layout of ``model`` (a Sequential; indices are the state-dict keys):

    0 ReflectionPad(3)  1 Conv7x7 in->ngf  2 norm  3 ReLU
    4 Conv3x3/2 ngf->2ngf  5 norm  6 ReLU   7 Conv3x3/2 2ngf->4ngf  8 norm  9 ReLU
    10 .. 10+n-1  ResnetBlock(4ngf)
    then ConvT3x3/2 4ngf->2ngf, norm, ReLU, ConvT3x3/2 2ngf->ngf, norm, ReLU,
    ReflectionPad(3), Conv7x7 ngf->out (always with bias), Tanh

A block's ``conv_block`` is pad, conv, norm, ReLU, [Dropout], pad, conv, norm: with dropout the
second convolution sits at index 6 instead of 5. ``padding`` applies inside the blocks only (as in
the reference, the 7x7 convolutions always pad by reflection); with ``"zero"`` the blocks have no
pad layers, so their convolutions sit at 0 and 3 (4 with dropout).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from ganpaint.nn.norms import NormKind, check_norm, conv_bias, norm_layer

PADDINGS = ("reflect", "replicate", "zero")


@dataclass(frozen=True)
class ResnetConfig:
    in_channels: int = 3
    out_channels: int = 3
    ngf: int = 64
    n_blocks: int = 9
    norm: NormKind = "instance"
    dropout: bool = False
    padding: str = "reflect"

    def __post_init__(self) -> None:
        for name in ("in_channels", "out_channels", "ngf"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"ResnetConfig.{name} must be >= 1")
        if self.n_blocks < 0:
            raise ValueError("ResnetConfig.n_blocks must be >= 0")
        check_norm(self.norm)
        if self.padding not in PADDINGS:
            raise ValueError(f"ResnetConfig.padding must be one of {', '.join(PADDINGS)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResnetConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown ResNet generator options: {', '.join(sorted(unknown))}")
        return cls(**data)


def _pad(kind: str, width: int) -> list[nn.Module]:
    # "zero" padding is done by the convolution itself (returned as its padding argument).
    if kind == "reflect":
        return [nn.ReflectionPad2d(width)]
    if kind == "replicate":
        return [nn.ReplicationPad2d(width)]
    return []


class ResnetBlock(nn.Module):
    """x + F(x), where F is two 3x3 convolutions at constant width."""

    def __init__(self, dim: int, norm: NormKind, dropout: bool, padding: str) -> None:
        super().__init__()
        bias = conv_bias(norm)
        p = 1 if padding == "zero" else 0
        layers: list[nn.Module] = [
            *_pad(padding, 1),
            nn.Conv2d(dim, dim, 3, padding=p, bias=bias),
            norm_layer(norm, dim),
            nn.ReLU(True),
        ]
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers += [*_pad(padding, 1), nn.Conv2d(dim, dim, 3, padding=p, bias=bias), norm_layer(norm, dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: B x dim x H x W -> B x dim x H x W
        out: torch.Tensor = x + self.conv_block(x)
        return out


class ResnetGenerator(nn.Module):
    """Image-to-image generator: two stride-2 downsamplings, n residual blocks, two upsamplings."""

    #: sides must be a multiple of this (two stride-2 stages)
    size_multiple = 4

    def __init__(self, config: ResnetConfig | None = None) -> None:
        super().__init__()
        c = config or ResnetConfig()
        self.config = c
        bias = conv_bias(c.norm)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(c.in_channels, c.ngf, 7, bias=bias),
            norm_layer(c.norm, c.ngf),
            nn.ReLU(True),
        ]
        width = c.ngf
        for _ in range(2):
            layers += [
                nn.Conv2d(width, width * 2, 3, stride=2, padding=1, bias=bias),
                norm_layer(c.norm, width * 2),
                nn.ReLU(True),
            ]
            width *= 2
        layers += [ResnetBlock(width, c.norm, c.dropout, c.padding) for _ in range(c.n_blocks)]
        for _ in range(2):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 3, stride=2, padding=1, output_padding=1, bias=bias),
                norm_layer(c.norm, width // 2),
                nn.ReLU(True),
            ]
            width //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, c.out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    @property
    def min_size(self) -> int:
        # instance norm needs more than one value per channel at the 1/4-scale stage
        return 8

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: B x in_channels x H x W in [-1, 1], H and W multiples of 4 -> B x out_channels x H x W
        out: torch.Tensor = self.model(x)
        return out
