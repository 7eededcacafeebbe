"""Augmentations for training pictures: scale jitter, random crop, horizontal flip.

Parameters are drawn from a numpy ``Generator`` the dataset seeds from
(seed, step, index in batch), so a resumed run draws exactly what the
uninterrupted run would have drawn. Paired pictures share one draw.
Pure Pillow + numpy; no torchvision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Augment:
    """How training crops are made.

    crop:          side of the square crop, in pixels
    scale_jitter:  the shorter side is resized to ``crop * s`` with s uniform in
                   [1, scale_jitter] before cropping (the reference resizes 256 px
                   crops to 286 px, a ratio of about 1.12)
    flip:          flip left-right with probability 1/2
    """

    crop: int
    scale_jitter: float = 1.12
    flip: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.crop, int) or self.crop < 8:
            raise ValueError(f"crop size must be an integer >= 8, got {self.crop!r}")
        if not (1.0 <= self.scale_jitter <= 4.0):
            raise ValueError(f"scale_jitter must be in [1, 4], got {self.scale_jitter!r}")


@dataclass(frozen=True)
class Draw:
    """One augmentation draw: resize the shorter side to ``short``, crop at
    fractional offsets (fx, fy) in [0, 1) of the slack, then maybe flip."""

    short: int
    fx: float
    fy: float
    flip: bool


def draw(aug: Augment, rng: np.random.Generator) -> Draw:
    s = float(rng.uniform(1.0, aug.scale_jitter)) if aug.scale_jitter > 1.0 else 1.0
    fx, fy = float(rng.random()), float(rng.random())
    flip = bool(rng.random() < 0.5) if aug.flip else False
    return Draw(short=max(aug.crop, round(aug.crop * s)), fx=fx, fy=fy, flip=flip)


def centre_draw(crop: int) -> Draw:
    """The evaluation view: shorter side to ``crop``, centre crop, no flip."""
    return Draw(short=crop, fx=0.5, fy=0.5, flip=False)


def apply(img: Image.Image, d: Draw, crop: int) -> Image.Image:
    """Resize (shorter side to ``d.short``), crop ``crop`` x ``crop``, flip."""
    w, h = img.size
    scale = d.short / min(w, h)
    nw, nh = max(crop, round(w * scale)), max(crop, round(h * scale))
    if (nw, nh) != (w, h):
        img = img.resize((nw, nh), Image.Resampling.BICUBIC)
    x = min(int(d.fx * (nw - crop + 1)), nw - crop)
    y = min(int(d.fy * (nh - crop + 1)), nh - crop)
    img = img.crop((x, y, x + crop, y + crop))
    if d.flip:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return img


def to_array(img: Image.Image) -> np.ndarray:
    """RGB picture -> (3, H, W) float32 in [-1, 1] (the generators' convention)."""
    a = np.asarray(img, dtype=np.float32)
    return np.ascontiguousarray((a / 127.5 - 1.0).transpose(2, 0, 1))
