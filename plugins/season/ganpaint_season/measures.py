"""The figures Season transfer is judged by on real photos (numpy only).

* ``gradient_correlation``: Pearson correlation of the luma gradients (d/dx and d/dy of
  every pixel, taken together) of the output and the input; 1 = the same edges and texture;
* ``luma_ssim``: SSIM of the luma channels (11x11 gaussian window, sigma 1.5);
* ``flat_hf_ratio``: high-frequency energy (luma minus its 5x5 mean, squared) of the output
  over that of the input, in the input's flattest fifth (by 9x9 local standard deviation):
  a checkerboard or stripes on a clear sky raise it. Both energies include 8-bit
  quantisation noise ((1/255)^2 / 12, present in any photo), so a perfectly smooth
  synthetic sky does not divide by zero;
* ``snow_cover``: the share of pixels in the lower half with HSV value > 0.75 and
  saturation < 0.15.
"""

from __future__ import annotations

import numpy as np

from ganpaint_season.structure import LUMA, box


def luma(img: np.ndarray) -> np.ndarray:
    return np.asarray(img, np.float32)[..., :3] @ LUMA


def gradient_correlation(out: np.ndarray, ref: np.ndarray) -> float:
    go, gr = np.gradient(luma(out)), np.gradient(luma(ref))
    a = np.concatenate([g.ravel() for g in go]).astype(np.float64)
    b = np.concatenate([g.ravel() for g in gr]).astype(np.float64)
    a, b = a - a.mean(), b - b.mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 0 else 1.0


def _gauss_blur(x: np.ndarray, sigma: float = 1.5, size: int = 11) -> np.ndarray:
    t = np.arange(size, dtype=np.float64) - (size - 1) / 2
    k = np.exp(-(t**2) / (2 * sigma**2))
    k /= k.sum()
    n = size
    h, w = x.shape
    rows = sum(k[i] * x[i : h - n + 1 + i] for i in range(n))
    return sum(k[i] * rows[:, i : w - n + 1 + i] for i in range(n))  # type: ignore[return-value]


def luma_ssim(out: np.ndarray, ref: np.ndarray) -> float:
    x, y = luma(out).astype(np.float64), luma(ref).astype(np.float64)
    if min(x.shape) < 11:
        return float("nan")
    c1, c2 = 0.01**2, 0.03**2
    mx, my = _gauss_blur(x), _gauss_blur(y)
    sxx = _gauss_blur(x * x) - mx * mx
    syy = _gauss_blur(y * y) - my * my
    sxy = _gauss_blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(s.mean())


def flat_mask(ref: np.ndarray, share: float = 0.2) -> np.ndarray:
    """The input's flattest ``share`` of pixels (by the local standard deviation of luma)."""
    y = luma(ref)
    std = np.sqrt(np.maximum(box(y * y, 4) - box(y, 4) ** 2, 0.0))
    return std <= np.quantile(std, share)


def hf_energy(img: np.ndarray, mask: np.ndarray) -> float:
    y = luma(img)
    hf = y - box(y, 2)
    return float(np.mean(hf[mask] ** 2))


#: the energy of 8-bit rounding noise (uniform, one level wide)
QUANTISATION = (1.0 / 255.0) ** 2 / 12.0


def flat_hf_ratio(out: np.ndarray, ref: np.ndarray) -> float:
    mask = flat_mask(ref)
    return (hf_energy(out, mask) + QUANTISATION) / (hf_energy(ref, mask) + QUANTISATION)


def snow_cover(img: np.ndarray) -> float:
    img = np.asarray(img, np.float32)[..., :3]
    low = img[img.shape[0] // 2 :]
    mx, mn = low.max(-1), low.min(-1)
    sat = np.where(mx > 1e-6, (mx - mn) / np.maximum(mx, 1e-6), 0.0)
    return float(((mx > 0.75) & (sat < 0.15)).mean())
