"""Small numpy helpers shared by the renderers: seeded spectral noise, periodic
bilinear sampling, smoothstep, separable Gaussian blur. No torch, no scipy."""

from __future__ import annotations

import numpy as np

FloatArray = np.ndarray


def spectral_noise(
    rng: np.random.Generator, n: int, slope: float, *, low: float = 0.0, high: float = 1.0
) -> FloatArray:
    """A periodic (n, n) field with amplitude spectrum 1/f**slope, zero mean, unit std.

    ``low``/``high`` keep only frequencies in that fraction of the Nyquist band, so a
    macro field (layout) and a detail field (texture) can come from different seeds.
    """
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.rfftfreq(n)[None, :]
    f = np.sqrt(fx * fx + fy * fy) / 0.5  # 0 .. ~1.41, 1 = Nyquist
    f[0, 0] = 1.0
    amp = f ** (-slope)
    amp[(f < low) | (f > high)] = 0.0
    amp[0, 0] = 0.0
    spec = (rng.standard_normal(amp.shape) + 1j * rng.standard_normal(amp.shape)) * amp
    field = np.fft.irfft2(spec, s=(n, n))
    std = float(field.std())
    return (field / std if std > 0 else field).astype(np.float32)


def sample_periodic(field: FloatArray, x: FloatArray, z: FloatArray, period: float) -> FloatArray:
    """Bilinear lookup of a periodic square field (rows = z, cols = x) at world coordinates."""
    n = field.shape[0]
    fx = np.asarray(x, dtype=np.float32) * np.float32(n / period)
    fz = np.asarray(z, dtype=np.float32) * np.float32(n / period)
    x0 = np.floor(fx)
    z0 = np.floor(fz)
    tx = fx - x0
    tz = fz - z0
    if n & (n - 1) == 0:  # power of two: wrap with a mask (much cheaper than %)
        xi = x0.astype(np.int32) & (n - 1)
        zi = z0.astype(np.int32) & (n - 1)
        xj = (xi + 1) & (n - 1)
        zj = (zi + 1) & (n - 1)
    else:
        xi = x0.astype(np.int64) % n
        zi = z0.astype(np.int64) % n
        xj = (xi + 1) % n
        zj = (zi + 1) % n
    flat = field.ravel()
    zi *= n
    zj *= n
    top = flat[zi + xi] * (1 - tx) + flat[zi + xj] * tx
    bot = flat[zj + xi] * (1 - tx) + flat[zj + xj] * tx
    return (top * (1 - tz) + bot * tz).astype(np.float32)


def smoothstep(e0: float, e1: float, x: FloatArray) -> FloatArray:
    """Hermite step from 0 at e0 to 1 at e1 (e0 > e1 gives a falling step)."""
    t = np.clip((np.asarray(x, dtype=np.float32) - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def mix(a: FloatArray, b: FloatArray, t: FloatArray) -> FloatArray:
    return a + (b - a) * t


def gaussian_kernel(sigma: float) -> FloatArray:
    radius = max(1, int(np.ceil(3.0 * sigma)))
    xs = np.arange(-radius, radius + 1, dtype=np.float32)
    k = np.exp(-0.5 * (xs / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def gaussian_blur(img: FloatArray, sigma: float) -> FloatArray:
    """Separable Gaussian blur of an (h, w) or (h, w, c) float array, edges reflected."""
    if sigma <= 0:
        return img.astype(np.float32, copy=True)
    k = gaussian_kernel(sigma)
    r = len(k) // 2
    out = img.astype(np.float32)
    for axis in (0, 1):
        n = out.shape[axis]
        pad = [(0, 0)] * out.ndim
        pad[axis] = (r, r)
        mode = "reflect" if n > r else "edge"
        p = np.pad(out, pad, mode=mode)
        acc = np.zeros_like(out)
        for i, w in enumerate(k):
            acc += w * np.take(p, np.arange(i, i + n), axis=axis)
        out = acc
    return out
