"""Normalisation layers as the CycleGAN/pix2pix reference uses them.

* ``"batch"``: ``BatchNorm2d(affine=True, track_running_stats=True)``. Convolutions that feed
  it carry no bias (the norm's shift makes one redundant), so official files have no
  ``conv.bias`` there.
* ``"instance"``: ``InstanceNorm2d(affine=False, track_running_stats=False)``: no parameters
  and no buffers, so those convolutions keep their bias.
* ``"none"``: identity; convolutions keep their bias.
"""

from __future__ import annotations

from typing import Literal

from torch import nn

NormKind = Literal["batch", "instance", "none"]
NORM_KINDS: tuple[str, ...] = ("batch", "instance", "none")


def check_norm(kind: str) -> NormKind:
    if kind not in NORM_KINDS:
        raise ValueError(f"unknown normalisation {kind!r} (expected one of {', '.join(NORM_KINDS)})")
    return kind  # type: ignore[return-value]


def norm_layer(kind: NormKind, channels: int) -> nn.Module:
    """A fresh normalisation module for ``channels`` feature maps."""
    if kind == "batch":
        return nn.BatchNorm2d(channels, affine=True, track_running_stats=True)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown normalisation {kind!r}")


def conv_bias(kind: NormKind) -> bool:
    """Whether a convolution followed by this norm has a bias (as in the reference)."""
    return kind != "batch"
