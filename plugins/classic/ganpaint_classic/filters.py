"""The filters as plain functions on (H, W, C) float32 arrays in [0, 1].

No GANPaint types here, so they are easy to test and to reuse.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

#: Rec. 709 luma weights (the primaries of sRGB)
LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)

#: below this sigma a sampled kernel is cheap and more exact than box passes
_DIRECT_MAX_SIGMA = 3.0

Progress = Callable[[float], None]


def _noop(_: float) -> None:
    pass


def gaussian_blur(image: np.ndarray, sigma: float, progress: Progress = _noop) -> np.ndarray:
    """Blur each channel with a Gaussian of standard deviation ``sigma`` pixels.

    Edges are mirrored. Small sigmas use a sampled separable kernel; larger ones
    three box passes per axis (cumulative sums: cost independent of sigma), which
    match a Gaussian to within a few 1/1000.
    """
    img = np.asarray(image, dtype=np.float32)
    if sigma <= 0:
        return img.copy()
    planes = img[..., None] if img.ndim == 2 else img
    out = np.empty_like(planes)
    channels = planes.shape[2]
    direct = sigma <= _DIRECT_MAX_SIGMA
    widths = [] if direct else _box_widths(sigma)
    # progress after every one-axis pass, so a big picture reports well under a second apart
    total = channels * (2 if direct else 2 * len(widths))
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        progress(done / total)

    for c in range(channels):
        plane = planes[..., c]
        if direct:
            kernel = _gaussian_kernel(sigma)
            for axis in (0, 1):
                plane = _convolve_axis(plane, kernel, axis)
                step()
        else:
            # all passes run along rows (contiguous memory: several times faster than
            # summing down columns); the plane is transposed in between. Box passes
            # commute, so doing the horizontal ones first changes nothing.
            for width in widths:
                plane = _box_rows(plane, width // 2)
                step()
            plane = np.ascontiguousarray(plane.T)
            for width in widths:
                plane = _box_rows(plane, width // 2)
                step()
            plane = plane.T
        out[..., c] = plane
    return out[..., 0] if img.ndim == 2 else out


def _gaussian_kernel(sigma: float) -> np.ndarray:
    r = max(1, math.ceil(3.0 * sigma))
    x = np.arange(-r, r + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def _convolve_axis(plane: np.ndarray, kernel: np.ndarray, axis: int) -> np.ndarray:
    r = len(kernel) // 2
    pad = [(0, 0), (0, 0)]
    pad[axis] = (r, r)
    padded = np.pad(plane, pad, mode="symmetric")
    n = plane.shape[axis]
    out = np.zeros_like(plane)
    for i, weight in enumerate(kernel):
        out += weight * (padded[i : i + n] if axis == 0 else padded[:, i : i + n])
    return out


def _box_widths(sigma: float, passes: int = 3) -> list[int]:
    """Odd box widths whose ``passes`` successive box blurs have variance sigma^2
    (the "Gaussian from boxes" recipe: widths w and w + 2 mixed)."""
    ideal = math.sqrt(12.0 * sigma * sigma / passes + 1.0)
    lower = math.floor(ideal)
    if lower % 2 == 0:
        lower -= 1
    upper = lower + 2
    m = round((12.0 * sigma * sigma - passes * lower * lower - 4 * passes * lower - 3 * passes) / (-4 * lower - 4))
    return [lower if i < m else upper for i in range(passes)]


def _box_rows(plane: np.ndarray, r: int) -> np.ndarray:
    """Mean over a window of 2r + 1 pixels along each row (mirrored edges)."""
    if r <= 0:
        return plane
    padded = np.pad(plane, [(0, 0), (r + 1, r)], mode="symmetric")
    # float64 sums: a float32 running sum over thousands of pixels would lose the low bits
    csum = np.cumsum(padded, axis=1, dtype=np.float64)
    w = 2 * r + 1
    diff = csum[:, w:] - csum[:, :-w]
    diff *= 1.0 / w
    return diff.astype(np.float32)


def unsharp_mask(image: np.ndarray, amount: float, radius: float, progress: Progress = _noop) -> np.ndarray:
    """``image + amount * (image - blur(image, radius))``, clipped to [0, 1]."""
    img = np.asarray(image, dtype=np.float32)
    blurred = gaussian_blur(img, radius, progress)
    return np.clip(img + np.float32(amount) * (img - blurred), 0.0, 1.0).astype(np.float32)


def desaturate(image: np.ndarray, amount: float) -> np.ndarray:
    """Mix each pixel with its luma; ``amount`` 1 gives r = g = b exactly."""
    img = np.asarray(image, dtype=np.float32)
    luma = (img @ LUMA)[..., None]
    a = np.float32(amount)
    # written as a lerp so that amount = 1 gives exactly the luma in every channel
    return np.clip((np.float32(1.0) - a) * img + a * luma, 0.0, 1.0).astype(np.float32)


def invert(image: np.ndarray) -> np.ndarray:
    """``1 - image``."""
    return (np.float32(1.0) - np.asarray(image, dtype=np.float32)).astype(np.float32)
