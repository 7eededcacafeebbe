"""Numpy helpers of the Inpaint tool: where to crop, how to fill alpha.

Pure numpy (no torch), so they are cheap to test. Masks are (H, W) float32 in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganpaint.core.selection import grey_dilate

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


def grow_mask(mask: np.ndarray, pixels: int) -> np.ndarray:
    """``mask`` (H, W) in [0, 1] grown outwards by ``pixels``: a grey dilation (each pixel
    takes the largest value within the distance), so a soft edge keeps its ramp, moved out.
    The neighbourhood alternates a 3 x 3 cross and a 3 x 3 square per pixel of growth (an
    octagon, close to a disk). Only the mask's bounding box grown by ``pixels`` is worked
    on; nothing beyond it changes. 0 returns the mask unchanged."""
    m = np.asarray(mask, dtype=np.float32)
    n = int(pixels)
    b = bbox(m > EPS)
    if n <= 0 or b is None:
        return m.copy()
    h, w = m.shape
    box = Box(max(0, b.x0 - n), max(0, b.y0 - n), min(w, b.x1 + n), min(h, b.y1 + n))
    out = m.copy()
    out[box.slices] = grey_dilate(m[box.slices], n)  # the host's Grow Selection, on floats
    return out


def inner_distance(hole: np.ndarray, limit: int) -> np.ndarray:
    """For each hole pixel, its 4-connected distance (1, 2, ...) to the nearest non-hole
    pixel, capped at ``limit``; 0 outside the hole. Beyond the picture's border counts
    as hole, so the border itself is not an edge."""
    d = np.zeros(hole.shape, np.int32)
    cur = hole.copy()
    for k in range(1, limit + 1):
        if not cur.any():
            break
        d[cur] = k
        p = np.pad(cur, 1, mode="constant", constant_values=True)
        cur = cur & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    return d


def push_pull(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Smoothly fill where ``known`` (weights in [0, 1]) is low, from where it is high.
    (H, W) or (H, W, C) float32, any size (1 x N and N x 1 included). Used for alpha,
    which the network does not paint.

    Push: halve (rounding up) down to a single pixel, each coarse pixel holding the mean of
    ``values * known`` and of ``known`` over the fine pixels it really covers (a 2 x 1 or
    1 x 1 block at an odd edge, no edge copies). Pull: from that pixel back up, a pixel
    whose share of known pixels is w takes ``up + w * (mean - up)``, ``mean`` being the
    known-weighted average under it and ``up`` the coarser estimate. So the result is a
    convex combination of the known values everywhere (a constant stays exactly that
    constant), fully known pixels keep their value, and a cell with nothing known under it
    takes the coarser estimate, never 0. Only when nothing at all is known is it 0."""
    v = (values if values.ndim == 3 else values[..., None]).astype(np.float32)
    k = np.clip(known.astype(np.float32), 0.0, 1.0)[..., None]
    levels = [(v * k, k)]
    while max(levels[-1][1].shape[:2]) > 1:
        s, w = levels[-1]
        levels.append((_half(s), _half(w)))
    s, w = levels[-1]
    est = np.where(w > 0, s / np.maximum(w, np.float32(1e-12)), np.float32(0.0))
    for s, w in reversed(levels[:-1]):
        up = _upsample(est, s.shape[:2])
        mean = s / np.maximum(w, np.float32(1e-12))
        est = np.where(w >= 1, mean, up + w * (mean - up))
    out = est.astype(np.float32)
    return out if values.ndim == 3 else out[..., 0]


def _half(a: np.ndarray) -> np.ndarray:
    """(h, w, c) -> (ceil(h/2), ceil(w/2), c): the mean over the pixels each 2 x 2 block
    really holds (an odd last row or column is averaged on its own, not doubled)."""
    h, w = a.shape[:2]
    p = np.pad(a, ((0, h % 2), (0, w % 2), (0, 0)))
    total = p[0::2, 0::2] + p[1::2, 0::2] + p[0::2, 1::2] + p[1::2, 1::2]
    ny = np.full((h + 1) // 2, 2.0, np.float32)
    nx = np.full((w + 1) // 2, 2.0, np.float32)
    if h % 2:
        ny[-1] = 1.0
    if w % 2:
        nx[-1] = 1.0
    return (total / (ny[:, None, None] * nx[None, :, None])).astype(np.float32)


def _upsample(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Bilinear resize of a coarse level (h, w, c) to the finer level ``shape`` (H, W) it
    was halved from: fine pixel i lies at coarse coordinate (i - 0.5) / 2 (clamped)."""
    h, w = a.shape[:2]
    H, W = shape[:2]
    ys = np.clip((np.arange(H) - 0.5) / 2.0, 0, h - 1)
    xs = np.clip((np.arange(W) - 0.5) / 2.0, 0, w - 1)
    y0 = np.floor(ys).astype(int)
    x0 = np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy = (ys - y0).astype(np.float32)[:, None, None]
    fx = (xs - x0).astype(np.float32)[None, :, None]
    # a + f * (b - a): a constant comes out exactly that constant
    top = a[y0][:, x0] + fx * (a[y0][:, x1] - a[y0][:, x0])
    bot = a[y1][:, x0] + fx * (a[y1][:, x1] - a[y1][:, x0])
    return top + fy * (bot - top)
