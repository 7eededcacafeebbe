"""Numpy helpers of the Inpaint tool: where to crop, how to feather, how to fill alpha.

Pure numpy (no torch), so they are cheap to test. Masks are (H, W) float32 in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: a mask value at or below this counts as "not selected" (half a level of 8 bits)
EPS = 0.5 / 255.0
MIN_CONTEXT = 32


@dataclass(frozen=True)
class Box:
    """x0, y0 inclusive; x1, y1 exclusive (numpy slicing order: rows y, columns x)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)


def bbox(mask: np.ndarray) -> Box | None:
    """Bounding box of the True pixels of a boolean (H, W) array; None when there are none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return Box(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def context_box(hole: np.ndarray, valid: np.ndarray, context: float) -> Box:
    """The hole's bounding box grown by ``context`` x its larger side (at least 32 px) on
    each side, clipped to the picture, and grown further (doubling) until it holds enough
    known pixels to fill from (a quarter of the hole's area, or all there are)."""
    h, w = hole.shape
    b = bbox(hole)
    assert b is not None
    margin = max(MIN_CONTEXT, int(round(context * max(b.width, b.height))))
    need = min(int(valid.sum()), max(1, int(hole.sum()) // 4))
    while True:
        box = Box(max(0, b.x0 - margin), max(0, b.y0 - margin), min(w, b.x1 + margin), min(h, b.y1 + margin))
        whole = box == Box(0, 0, w, h)
        if whole or int(valid[box.slices].sum()) >= need:
            return box
        margin *= 2


def inner_distance(hole: np.ndarray, limit: int) -> np.ndarray:
    """For each hole pixel, its 4-connected distance (1, 2, ...) to the nearest non-hole
    pixel, capped at ``limit``; 0 outside the hole. Beyond the picture's border counts
    as hole, so a hole touching the border is not feathered against it."""
    d = np.zeros(hole.shape, np.int32)
    cur = hole.copy()
    for k in range(1, limit + 1):
        if not cur.any():
            break
        d[cur] = k
        p = np.pad(cur, 1, mode="constant", constant_values=True)
        cur = cur & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    return d


def paste_weight(mask: np.ndarray, feather: int) -> np.ndarray:
    """How much of the fill each pixel takes: the mask times an inner ramp ``feather``
    pixels wide. Zero wherever the mask is (at most EPS): outside pixels never change."""
    sel = mask > EPS
    weight = np.where(sel, mask, np.float32(0.0)).astype(np.float32)
    if feather > 0:
        ramp = inner_distance(sel, feather).astype(np.float32) / np.float32(feather)
        weight *= np.minimum(ramp, np.float32(1.0))
    return weight


def push_pull(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Smoothly fill where ``known`` (weights in [0, 1]) is low, from where it is high.
    (H, W) or (H, W, C) float32. The numpy twin of ganpaint.nn.inpaint.push_pull_fill,
    used for alpha, which the network does not paint."""
    v = values if values.ndim == 3 else values[..., None]
    k = known.astype(np.float32)[..., None]
    levels = [(v * k, k)]
    while min(levels[-1][1].shape[:2]) > 1:
        s, w = levels[-1]
        levels.append((_half(s), _half(w)))
    s, w = levels[-1]
    est = s / np.maximum(w, 1e-6)
    for s, w in reversed(levels[:-1]):
        up = _upsample(est, s.shape[:2])
        est = w * (s / np.maximum(w, 1e-6)) + (1.0 - w) * up
    out = est.astype(np.float32)
    return out if values.ndim == 3 else out[..., 0]


def _half(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[:2]
    if h % 2 or w % 2:
        a = np.pad(a, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    return 0.25 * (a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2])


def _upsample(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Bilinear (pixel centres aligned) resize of (h, w, c) to ``shape`` (H, W)."""
    h, w = a.shape[:2]
    H, W = shape[:2]
    ys = np.clip((np.arange(H) + 0.5) * h / H - 0.5, 0, h - 1)
    xs = np.clip((np.arange(W) + 0.5) * w / W - 0.5, 0, w - 1)
    y0 = np.floor(ys).astype(int)
    x0 = np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = a[y0][:, x0] * (1 - fx) + a[y0][:, x1] * fx
    bot = a[y1][:, x0] * (1 - fx) + a[y1][:, x1] * fx
    return top * (1 - fy) + bot * fy
