"""The StyleGAN2 residual discriminator, in rosinality's key layout.

    D = Discriminator(64, channels=(256, 256, 256, 128, 64))   # widths at 4 ... 64 px
    logits = D(images)                                        # (N, 3, 64, 64) -> (N, 1)

From-RGB 1x1 conv, one residual block per halving (two 3x3 convs, the second strided after
a blur; a blurred strided 1x1 skip; sum / sqrt 2), a minibatch-stddev feature, a 3x3 conv at
4x4 and two equalised linear layers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ganpaint.nn.stylegan2.generator import resolutions, standard_widths
from ganpaint.nn.stylegan2.ops import BLUR_KERNEL, Blur, EqualConv2d, EqualLinear, FusedLeakyReLU


class ConvLayer(nn.Sequential):
    """[blur] + equalised conv + [bias + leaky ReLU]; strided by 2 when ``downsample``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, downsample: bool = False,
                 bias: bool = True, activate: bool = True, blur_kernel: Sequence[int] = BLUR_KERNEL) -> None:
        layers: list[nn.Module] = []
        if downsample:
            p = (len(blur_kernel) - 2) + (kernel_size - 1)
            layers.append(Blur(blur_kernel, pad=((p + 1) // 2, p // 2)))
            stride, padding = 2, 0
        else:
            stride, padding = 1, kernel_size // 2
        layers.append(EqualConv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                                  bias=bias and not activate))
        if activate:
            layers.append(FusedLeakyReLU(out_channels, bias=bias))
        super().__init__(*layers)


class ResBlock(nn.Module):
    """Residual downsampling block: (N, Cin, H, W) -> (N, Cout, H/2, W/2)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = ConvLayer(in_channels, in_channels, 3)
        self.conv2 = ConvLayer(in_channels, out_channels, 3, downsample=True)
        self.skip = ConvLayer(in_channels, out_channels, 1, downsample=True, activate=False, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = (self.conv2(self.conv1(x)) + self.skip(x)) * (1.0 / math.sqrt(2.0))
        return out


def _stddev_group(batch: int, limit: int) -> int:
    """The largest group size <= limit that divides the batch (rosinality needs batch % 4 == 0)."""
    for g in range(min(batch, limit), 0, -1):
        if batch % g == 0:
            return g
    return 1


class Discriminator(nn.Module):
    """Residual discriminator for ``size`` px RGB pictures; ``channels`` = widths at 4 ... size px."""

    def __init__(self, size: int, channels: Sequence[int] = (), channel_multiplier: int = 2,
                 stddev_group: int = 4) -> None:
        super().__init__()
        res = resolutions(size)
        widths = dict(zip(res, tuple(channels) or standard_widths(size, channel_multiplier), strict=True))
        convs: list[nn.Module] = [ConvLayer(3, widths[size], 1)]
        in_ch = widths[size]
        for r in reversed(res[:-1]):  # size/2 ... 4
            convs.append(ResBlock(in_ch, widths[r]))
            in_ch = widths[r]
        self.convs = nn.Sequential(*convs)
        self.stddev_group = stddev_group
        self.final_conv = ConvLayer(in_ch + 1, widths[4], 3)
        self.final_linear = nn.Sequential(
            EqualLinear(widths[4] * 4 * 4, widths[4], activation=True),
            EqualLinear(widths[4], 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (N, 3, size, size) -> logits (N, 1)
        out = self.convs(x)
        n, c, h, w = out.shape
        g = _stddev_group(n, self.stddev_group)
        # the spread of features across a group of samples: lets D see a lack of variety
        sd = out.reshape(g, -1, 1, c, h, w)
        sd = torch.sqrt(sd.var(0, unbiased=False) + 1e-8).mean([2, 3, 4], keepdim=True).squeeze(2)
        sd = sd.repeat(g, 1, h, w)
        out = self.final_conv(torch.cat([out, sd], 1))
        logits: torch.Tensor = self.final_linear(out.reshape(n, -1))
        return logits
