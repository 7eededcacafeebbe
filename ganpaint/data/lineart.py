"""Photo to line art: the extended difference of Gaussians (XDoG, Winnemoeller et al. 2012).

Any picture, a user's photo folder included, becomes a "sketch" (dark lines on white)
to pair with the picture itself for sketch-to-image training.
"""

from __future__ import annotations

import numpy as np

from ganpaint.data.noise import gaussian_blur

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """(h, w, 3) float RGB in [0, 1] -> (h, w) float32 luma."""
    if rgb.ndim == 2:
        return rgb.astype(np.float32)
    return (rgb[..., :3].astype(np.float32) @ LUMA).astype(np.float32)


def xdog(
    rgb: np.ndarray, *, sigma: float = 1.0, k: float = 1.6, tau: float = 0.985, eps: float = 0.0,
    phi: float = 120.0, smooth: float = 0.6,
) -> np.ndarray:
    """Line art of a picture: (h, w) float32, 1 = paper, 0 = ink.

    ``D = G_sigma - tau * G_{k sigma}`` of the luminance is slightly positive on flat areas
    and negative on the dark side of every edge; ``1 + tanh(phi * (D - eps))`` below ``eps``
    turns those into soft dark lines. ``sigma`` sets the line scale (in pixels), ``smooth`` a
    pre-blur against noise and film grain.
    """
    if sigma <= 0 or k <= 1:
        raise ValueError("xdog needs sigma > 0 and k > 1")
    lum = luminance(rgb)
    if smooth > 0:
        lum = gaussian_blur(lum, smooth)
    d = gaussian_blur(lum, sigma) - tau * gaussian_blur(lum, sigma * k)
    out = np.where(d >= eps, 1.0, 1.0 + np.tanh(phi * (d - eps)))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def sketch_rgb(lines: np.ndarray) -> np.ndarray:
    """(h, w) paper/ink values -> (h, w, 3) float32 grey picture (what the sketch tool reads)."""
    return np.repeat(np.clip(lines, 0.0, 1.0)[..., None], 3, axis=2).astype(np.float32)


def edge_lines(rgba: np.ndarray, *, low: float = 0.06, high: float = 0.2) -> np.ndarray:
    """Line art from colour boundaries (for drawings without strokes): 1 = paper, 0 = ink.

    The gradient magnitude of the slightly blurred colour and alpha channels, mapped to ink
    between ``low`` and ``high``.
    """
    x = gaussian_blur(rgba.astype(np.float32), 0.7)
    gy = np.zeros(x.shape[:2], np.float32)
    gx = np.zeros(x.shape[:2], np.float32)
    for c in range(x.shape[2]):
        ch = x[..., c]
        dy = np.zeros_like(ch)
        dx = np.zeros_like(ch)
        dy[1:-1] = (ch[2:] - ch[:-2]) * 0.5
        dx[:, 1:-1] = (ch[:, 2:] - ch[:, :-2]) * 0.5
        gy = np.maximum(gy, np.abs(dy))
        gx = np.maximum(gx, np.abs(dx))
    mag = np.hypot(gx, gy)
    t = np.clip((mag - low) / (high - low), 0.0, 1.0)
    return (1.0 - t * t * (3 - 2 * t)).astype(np.float32)
