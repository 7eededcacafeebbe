"""Modulated convolutions and the layers built on them: styled conv, to-RGB, noise, constant.

A modulated convolution scales its weights per sample by the style (``modulation`` maps w to
one scale per input channel), then, when ``demodulate``, rescales each output filter to unit
norm. The per-sample weights run as ONE grouped convolution (groups = batch), so the batch is
never looped over in Python. For a batch, the equivalent "shared weights" form (scale the
input by the style, convolve, scale the output by the demodulation) is used instead: it does
not build N copies of the weights, and a plain batched convolution is faster on CPU.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ganpaint.nn.stylegan2.ops import BLUR_KERNEL, Blur, EqualLinear, FusedLeakyReLU, Upsample


class ModulatedConv2d(nn.Module):
    """Style-modulated (and demodulated) convolution; ``upsample`` doubles the resolution
    with a transposed convolution followed by the blur filter."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, style_dim: int,
                 demodulate: bool = True, upsample: bool = False,
                 blur_kernel: Sequence[int] = BLUR_KERNEL) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.upsample = upsample
        self.demodulate = demodulate
        if upsample:
            factor = 2
            p = (len(blur_kernel) - factor) - (kernel_size - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2 + factor - 1, p // 2 + 1), upsample_factor=factor)
        self.scale = 1.0 / math.sqrt(in_channels * kernel_size**2)
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(torch.randn(1, out_channels, in_channels, kernel_size, kernel_size))
        # bias 1: an untrained modulation leaves the weights unchanged
        self.modulation = EqualLinear(style_dim, in_channels, bias_init=1.0)
        #: True = grouped conv of per-sample weights, False = shared weights with scaled
        #: activations, None = grouped for a single picture, shared for a batch
        self.fused: bool | None = None

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, {self.kernel_size}, "
                f"upsample={self.upsample}, demodulate={self.demodulate}")

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        # x: (N, Cin, H, W), style: (N, style_dim) -> (N, Cout, H', W')
        n = x.shape[0]
        s = self.modulation(style)  # (N, Cin)
        weight = self.scale * self.weight[0]  # (Cout, Cin, k, k)
        demod = None
        if self.demodulate:
            # |w_o * s|^2 summed over (Cin, k, k) = s^2 @ (sum over k of w^2): a small matmul
            # instead of squaring N copies of the weights
            demod = torch.rsqrt(s.square() @ weight.square().sum([2, 3]).t() + 1e-8)  # (N, Cout)
        fused = self.fused if self.fused is not None else n == 1
        if fused:
            return self._grouped(x, weight, s, demod)
        return self._shared(x, weight, s, demod)

    def _grouped(self, x: torch.Tensor, weight: torch.Tensor, s: torch.Tensor,
                 demod: torch.Tensor | None) -> torch.Tensor:
        """Per-sample weights, one grouped convolution (groups = batch)."""
        n, cin, h, w = x.shape
        k, cout = self.kernel_size, self.out_channels
        wts = weight[None] * s.view(n, 1, cin, 1, 1)  # (N, Cout, Cin, k, k)
        if demod is not None:
            wts = wts * demod.view(n, cout, 1, 1, 1)
        x = x.reshape(1, n * cin, h, w)
        if self.upsample:
            # conv_transpose2d wants (in, out/groups, k, k) per group
            wts = wts.transpose(1, 2).reshape(n * cin, cout, k, k)
            out = F.conv_transpose2d(x, wts, padding=0, stride=2, groups=n)
            blurred: torch.Tensor = self.blur(out.reshape(n, cout, out.shape[2], out.shape[3]))
            return blurred
        out = F.conv2d(x, wts.reshape(n * cout, cin, k, k), padding=self.padding, groups=n)
        return out.reshape(n, cout, out.shape[2], out.shape[3])

    def _shared(self, x: torch.Tensor, weight: torch.Tensor, s: torch.Tensor,
                demod: torch.Tensor | None) -> torch.Tensor:
        """The same maths with the batch's shared weights: scale the input by the style, convolve,
        scale the output by the demodulation (a plain batched conv, faster for N > 1 on CPU)."""
        n, cin = x.shape[:2]
        x = x * s.view(n, cin, 1, 1)
        if self.upsample:
            out: torch.Tensor = self.blur(F.conv_transpose2d(x, weight.transpose(0, 1), padding=0, stride=2))
        else:
            out = F.conv2d(x, weight, padding=self.padding)
        if demod is not None:
            out = out * demod.view(n, self.out_channels, 1, 1)
        return out


class NoiseInjection(nn.Module):
    """Adds ``weight * noise`` (weight learned, one scalar per layer, starting at 0)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        # x: (N, C, H, W); noise: (N or 1, 1, H, W), drawn here when None
        if noise is None:
            noise = x.new_empty(x.shape[0], 1, x.shape[2], x.shape[3]).normal_()
        return x + self.weight * noise.to(x.dtype)


class ConstantInput(nn.Module):
    """The learned 4x4 tensor the synthesis network starts from."""

    def __init__(self, channels: int, size: int = 4) -> None:
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channels, size, size))

    def forward(self, batch: int) -> torch.Tensor:
        return self.input.expand(batch, -1, -1, -1)


class StyledConv(nn.Module):
    """Modulated 3x3 conv, noise, bias + leaky ReLU (keys ``conv.*``, ``noise.weight``, ``activate.bias``);
    ``clamp`` (NVlabs' ``conv_clamp``) limits the activations to +-clamp, None = no limit."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, style_dim: int,
                 upsample: bool = False, blur_kernel: Sequence[int] = BLUR_KERNEL,
                 clamp: float | None = None) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, kernel_size, style_dim,
                                    upsample=upsample, blur_kernel=blur_kernel)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_channels)
        self.clamp = clamp

    def forward(self, x: torch.Tensor, style: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        out: torch.Tensor = self.activate(self.noise(self.conv(x, style), noise))
        if self.clamp is not None:
            out = out.clamp(-self.clamp, self.clamp)
        return out


class ToRGB(nn.Module):
    """1x1 modulated conv to RGB (no demodulation) + bias, added to the upsampled skip image."""

    def __init__(self, in_channels: int, style_dim: int, upsample: bool = True,
                 blur_kernel: Sequence[int] = BLUR_KERNEL, clamp: float | None = None) -> None:
        super().__init__()
        if upsample:
            self.upsample = Upsample(blur_kernel)
        self.conv = ModulatedConv2d(in_channels, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))
        self.clamp = clamp  # this level's own output, before the skip is added (as NVlabs)

    def forward(self, x: torch.Tensor, style: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        # x: (N, C, H, W); skip: (N, 3, H/2, W/2) or None -> (N, 3, H, W)
        out: torch.Tensor = self.conv(x, style) + self.bias
        if self.clamp is not None:
            out = out.clamp(-self.clamp, self.clamp)
        if skip is not None:
            out = out + self.upsample(skip)
        return out
