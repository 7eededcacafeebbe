"""Judging helpers (numpy only): PSNR, SSIM, sharpness, and the flat-fill baseline.

Used by tools/eval_sketch.py and the tests; no scikit-image or scipy at run time.
"""

from __future__ import annotations

import numpy as np

LINE_LEVEL = 0.5  # sketch grey below this is a line


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two pictures in [0, 1] (capped at 100 dB for identical pictures)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 100.0 if mse <= 1e-10 else 10.0 * np.log10(1.0 / mse)


def _gauss_kernel(sigma: float = 1.5, radius: int = 5) -> np.ndarray:
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-(x * x) / (2 * sigma * sigma))
    return k / k.sum()


def _blur(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Separable 'valid' convolution of an HxW array."""
    r = len(k) // 2
    h, w = x.shape
    rows = sum(k[i] * x[:, i : w - 2 * r + i] for i in range(len(k)))
    return sum(k[i] * rows[i : h - 2 * r + i, :] for i in range(len(k)))  # type: ignore[no-any-return]


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM (Wang et al. 2004: gaussian window sigma 1.5, 11 taps, K1 0.01, K2 0.03,
    data range 1), averaged over the colour channels."""
    a = np.atleast_3d(a).astype(np.float64)
    b = np.atleast_3d(b).astype(np.float64)
    if min(a.shape[:2]) < 11:
        raise ValueError("SSIM needs pictures of at least 11x11 pixels")
    k = _gauss_kernel()
    c1, c2 = 0.01**2, 0.03**2
    vals = []
    for c in range(a.shape[2]):
        x, y = a[..., c], b[..., c]
        mx, my = _blur(x, k), _blur(y, k)
        sxx = _blur(x * x, k) - mx * mx
        syy = _blur(y * y, k) - my * my
        sxy = _blur(x * y, k) - mx * my
        m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        vals.append(float(m.mean()))
    return float(np.mean(vals))


def gradient_magnitude(img: np.ndarray) -> float:
    """Mean gradient magnitude (forward differences) of the grey picture."""
    g = np.atleast_3d(img).astype(np.float64).mean(axis=2)
    gx = np.diff(g, axis=1)[:-1, :]
    gy = np.diff(g, axis=0)[:, :-1]
    return float(np.mean(np.sqrt(gx * gx + gy * gy)))


def label_regions(free: np.ndarray) -> np.ndarray:
    """4-connected components of the True pixels of ``free`` (HxW bool).

    Returns int64 labels (-1 where ``free`` is False; components numbered 0..n-1 in
    scan order). Union-find by hooking each edge's larger root onto the smaller and
    pointer jumping, vectorised with numpy (converges in a few dozen rounds)."""
    h, w = free.shape
    n = h * w
    parent = np.arange(n, dtype=np.int64)
    f = free.ravel()
    idx = np.arange(n).reshape(h, w)
    right = (free[:, :-1] & free[:, 1:])
    down = (free[:-1, :] & free[1:, :])
    p = np.concatenate([idx[:, :-1][right], idx[:-1, :][down]])
    q = np.concatenate([idx[:, 1:][right], idx[1:, :][down]])
    while True:
        rp, rq = parent[p], parent[q]
        lo, hi = np.minimum(rp, rq), np.maximum(rp, rq)
        moving = lo != hi
        if not moving.any():
            break
        np.minimum.at(parent, hi[moving], lo[moving])
        while True:  # compress: every pixel points at its root
            nxt = parent[parent]
            if np.array_equal(nxt, parent):
                break
            parent = nxt
    roots = np.where(f, parent, -1)
    out = np.full(n, -1, dtype=np.int64)
    uniq, inv = np.unique(roots[f], return_inverse=True)
    out[f] = inv
    del uniq
    return out.reshape(h, w)


def region_classes(sketch_grey: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(line, outside, closed) HxW bool masks of a sketch: line pixels, regions touching
    the border (the paper around the drawing) and closed regions inside it."""
    line = sketch_grey < LINE_LEVEL
    labels = label_regions(~line)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    border = border[border >= 0]
    outside = np.isin(labels, border) & ~line
    closed = ~line & ~outside
    return line, outside, closed


def flat_fill(sketch_grey: np.ndarray, closed_colour: np.ndarray, outside_colour: np.ndarray) -> np.ndarray:
    """The baseline: every closed region of the sketch filled with one colour (the
    training set's mean inside closed regions), the outside with the training set's
    mean outside colour, lines kept as drawn."""
    line, outside, closed = region_classes(sketch_grey)
    out = np.empty(sketch_grey.shape + (3,), np.float32)
    out[closed] = closed_colour
    out[outside] = outside_colour
    out[line] = sketch_grey[line][:, None]
    return out
