"""Random hole masks for inpainting: free-form brush strokes and boxes, seeded.

    rng = np.random.default_rng(seed)
    hole = random_mask(rng, 128, 128)                  # float32 (h, w), 1 = hole
    hole = random_mask(rng, 256, 256, kind="box", coverage=(0.1, 0.4))

Free-form strokes follow the DeepFill v2 recipe (a polyline of random vertices with
angles drawn around alternating directions, a thick round brush), added one stroke at a
time until a coverage target drawn from ``coverage`` is reached. Boxes are one to three
rectangles sized towards the target. The result's coverage always lies in ``coverage``
(masks outside it are redrawn). Pure numpy + Pillow, deterministic given the generator.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw

MaskKind = Literal["stroke", "box", "any"]
_TRIES = 50


def stroke_mask(rng: np.random.Generator, h: int, w: int, target: float) -> np.ndarray:
    """Free-form strokes added until the hole covers at least ``target`` of the picture."""
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    side = min(h, w)
    covered = 0.0
    for _ in range(64):
        width = max(2, int(rng.uniform(0.04, 0.14) * side))
        n = int(rng.integers(3, 10))
        x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        heading = float(rng.uniform(0, 2 * math.pi))
        points = [(x, y)]
        for _ in range(n):
            # bounded random turns: strokes wander rather than spiral
            heading += float(rng.uniform(-0.9, 0.9))
            length = float(rng.uniform(0.08, 0.3)) * side
            x = min(max(x + length * math.cos(heading), 0.0), w - 1.0)
            y = min(max(y + length * math.sin(heading), 0.0), h - 1.0)
            points.append((x, y))
        draw.line(points, fill=255, width=width, joint="curve")
        r = width / 2
        for px, py in points:
            draw.ellipse((px - r, py - r, px + r, py + r), fill=255)
        covered = float((np.asarray(img) > 127).mean())
        if covered >= target:
            break
    return (np.asarray(img) > 127).astype(np.float32)


def box_mask(rng: np.random.Generator, h: int, w: int, target: float) -> np.ndarray:
    """One to three rectangles whose union is sized towards ``target``."""
    out = np.zeros((h, w), np.float32)
    n = int(rng.integers(1, 4))
    for k in range(n):
        share = target / n * float(rng.uniform(0.8, 1.3))
        aspect = float(math.exp(rng.uniform(-0.7, 0.7)))
        bh = int(round(min(h, math.sqrt(share * h * w / aspect))))
        bw = int(round(min(w, share * h * w / max(bh, 1))))
        bh, bw = max(1, bh), max(1, bw)
        y = int(rng.integers(0, h - bh + 1))
        x = int(rng.integers(0, w - bw + 1))
        out[y:y + bh, x:x + bw] = 1.0
        if out.mean() >= target and k < n - 1:
            break
    return out


def random_mask(
    rng: np.random.Generator,
    h: int,
    w: int,
    *,
    kind: MaskKind = "any",
    coverage: tuple[float, float] = (0.1, 0.4),
    box_share: float = 0.3,
) -> np.ndarray:
    """A (h, w) float32 hole mask (1 = hole) covering a share of the picture in ``coverage``.

    kind: "stroke", "box", or "any" (boxes with probability ``box_share``)."""
    lo, hi = coverage
    if not (0.0 < lo <= hi < 1.0):
        raise ValueError(f"coverage must satisfy 0 < low <= high < 1, got {coverage!r}")
    if h < 4 or w < 4:
        raise ValueError(f"mask size must be at least 4x4, got {w}x{h}")
    best: np.ndarray | None = None
    best_err = math.inf
    for _ in range(_TRIES):
        use_box = kind == "box" or (kind == "any" and rng.random() < box_share)
        target = float(rng.uniform(lo, hi))
        m = box_mask(rng, h, w, target) if use_box else stroke_mask(rng, h, w, target)
        c = float(m.mean())
        if lo <= c <= hi:
            return m
        err = lo - c if c < lo else c - hi
        if err < best_err:
            best, best_err = m, err
    # rare: trim or grow the closest draw into range with a box (keeps the call total)
    assert best is not None
    return _force_coverage(rng, best, lo, hi)


def _force_coverage(rng: np.random.Generator, m: np.ndarray, lo: float, hi: float) -> np.ndarray:
    h, w = m.shape
    m = m.copy()
    if m.mean() > hi:
        rows = int(h * (1 - hi / max(m.mean(), 1e-6))) + 1
        m[:rows] = 0.0
    side = 1
    while m.mean() < lo and side <= max(h, w):
        y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
        m[max(0, y - side):y + side, max(0, x - side):x + side] = 1.0
        side += 1
    return m


def random_masks(
    rng: np.random.Generator, n: int, h: int, w: int, **kw: object
) -> np.ndarray:
    """``n`` masks as an (n, 1, h, w) float32 array."""
    return np.stack([random_mask(rng, h, w, **kw)[None] for _ in range(n)])  # type: ignore[arg-type]
