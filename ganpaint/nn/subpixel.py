"""Transposed convolutions rewritten as one ordinary convolution plus a pixel interleave.

A ``ConvTranspose2d`` with stride s produces s x s interleaved *phases*; each phase is an
ordinary convolution of the input with a subset of the kernel's taps (the "sub-pixel
convolution" view). :class:`SubpixelConvTranspose2d` stacks the s*s phase kernels along the
output channels of ONE ``Conv2d`` (same multiply-adds as the transposed convolution, up to a
row and column of padding), slices each phase out of its result and interleaves them. The
result equals the transposed convolution (float rounding aside).

Why: CPU back ends run ordinary convolutions far better than transposed ones. Measured here
(docs/performance.md) OpenVINO 2026.4 runs ``ConvolutionBackpropData`` with its fp32 kernel
even when asked for bf16, so the U-Net's decoder stayed fp32 in the "fast" setting; after this
rewrite its whole graph runs on the bf16 (AMX) kernels. The rewrite is applied to a copy of a
model just before conversion (:func:`subpixel_copy`); the model itself, its state-dict keys
and the eager reference are untouched.

Shapes: input B x Cin x H x W -> output B x Cout x H' x W' with the transposed convolution's
H' = (H - 1) s - 2p + k + output_padding.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SubpixelConvTranspose2d", "subpixel_copy"]


@dataclass(frozen=True)
class _Axis:
    """How one spatial axis of a transposed convolution splits into phases. Every number
    is independent of the input size, so a traced or converted graph stays size-generic."""

    stride: int
    taps: int                                   #: J: kernel size of the ordinary convolution
    pad: tuple[int, int]                        #: zero padding of the input (before, after)
    start: tuple[int, ...]                      #: per phase: first of its outputs in the conv result
    drop: tuple[int, ...]                       #: per phase: conv results to drop at the end
    crop: int                                   #: interleaved outputs to drop at the end
    kernel_index: tuple[tuple[int, ...], ...]   #: [phase][e] -> tap of the original kernel, or -1

    @classmethod
    def plan(cls, k: int, s: int, p: int, out_pad: int) -> _Axis:
        # out[s t + a] = sum_j in[t + q_a - j] * w[k0_a + s j]  with k0_a = (a + p) mod s
        k0 = [(a + p) % s for a in range(s)]
        q = [(a + p - k0[a]) // s for a in range(s)]
        n_taps = [max(0, -(-(k - k0[a]) // s)) for a in range(s)]
        taps = max(1, *n_taps)
        pad_l = max(0, *(taps - 1 - q[a] for a in range(s)))
        start = [q[a] - taps + 1 + pad_l for a in range(s)]
        # output length L = (H - 1) s - 2p + k + out_pad = s H + extra; each phase yields
        # T = ceil(L / s) = H + per_extra values, the convolution H + pad_l + pad_r - taps + 1
        extra = k + out_pad - 2 * p - s
        per_extra = -(-extra // s)
        pad_r = max(0, max(start) + per_extra + taps - 1 - pad_l)
        conv_extra = pad_l + pad_r - taps + 1
        drop = tuple(conv_extra - start[a] - per_extra for a in range(s))
        index = tuple(tuple(k0[a] + s * (taps - 1 - e) if taps - 1 - e < n_taps[a] else -1 for e in range(taps))
                      for a in range(s))
        return cls(s, taps, (pad_l, pad_r), tuple(start), drop, s * per_extra - extra, index)


def _cut(y: torch.Tensor, dim: int, start: int, drop: int) -> torch.Tensor:
    """``y`` without ``start`` entries at the front and ``drop`` at the end of ``dim``
    (constant slices: no size arithmetic for a tracer to freeze)."""
    return y.narrow(dim, start, y.shape[dim] - start - drop) if drop else y[(slice(None),) * dim + (slice(start, None),)]


class SubpixelConvTranspose2d(nn.Module):
    """A drop-in, numerically equivalent replacement of an ``nn.ConvTranspose2d`` (groups 1,
    dilation 1, zero padding), built from its weights."""

    def __init__(self, ct: nn.ConvTranspose2d) -> None:
        super().__init__()
        if ct.groups != 1 or ct.dilation != (1, 1) or ct.padding_mode != "zeros":
            raise ValueError("only ungrouped, undilated, zero-padded transposed convolutions")
        (kh, kw), (sh, sw) = ct.kernel_size, ct.stride
        (ph, pw), (oh, ow) = ct.padding, ct.output_padding  # type: ignore[misc]
        self.ay, self.ax = _Axis.plan(kh, sh, ph, oh), _Axis.plan(kw, sw, pw, ow)
        self.cout = ct.out_channels
        ay, ax = self.ay, self.ax
        w = ct.weight.detach()  # Cin x Cout x kh x kw
        phases = sh * sw
        weight = w.new_zeros(phases * self.cout, w.shape[0], ay.taps, ax.taps)
        for a in range(sh):
            for b in range(sw):
                rows = slice((a * sw + b) * self.cout, (a * sw + b + 1) * self.cout)
                for ey, ky in enumerate(ay.kernel_index[a]):
                    for ex, kx in enumerate(ax.kernel_index[b]):
                        if ky >= 0 and kx >= 0:
                            weight[rows, :, ey, ex] = w[:, :, ky, kx].t()
        self.conv = nn.Conv2d(w.shape[0], phases * self.cout, (ay.taps, ax.taps), bias=ct.bias is not None)
        self.conv.weight = nn.Parameter(weight, requires_grad=False)
        if ct.bias is not None:
            self.conv.bias = nn.Parameter(ct.bias.detach().repeat(phases), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ay, ax, c = self.ay, self.ax, self.cout
        y = self.conv(F.pad(x, (ax.pad[0], ax.pad[1], ay.pad[0], ay.pad[1])))  # B x (sh sw C) x . x .
        phases = []
        for a in range(ay.stride):
            for b in range(ax.stride):
                k = a * ax.stride + b
                ph = y[:, k * c:(k + 1) * c]
                phases.append(_cut(_cut(ph, 2, ay.start[a], ay.drop[a]), 3, ax.start[b], ax.drop[b]))
        z = torch.stack(phases, 2).unflatten(2, (ay.stride, ax.stride))  # B x C x a x b x T x U
        z = z.permute(0, 1, 4, 2, 5, 3).flatten(4, 5).flatten(2, 3)       # B x C x sT x sU
        return _cut(_cut(z, 2, 0, ay.crop), 3, 0, ax.crop)


def subpixel_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose strided ``ConvTranspose2d`` layers are
    :class:`SubpixelConvTranspose2d` (the model itself is not changed). Attributes the
    engine reads (``size_multiple``, ``card``, ``config``...) come along with the copy."""
    out = copy.deepcopy(model)
    for parent in list(out.modules()):
        for name, child in list(parent.named_children()):
            if (isinstance(child, nn.ConvTranspose2d) and max(child.stride) > 1 and child.groups == 1
                    and child.dilation == (1, 1) and child.padding_mode == "zeros"):
                setattr(parent, name, SubpixelConvTranspose2d(child))
    return out
