"""Inpainting masks: free-form brush strokes and boxes, with a coverage range
(float32 (h, w), 1 = hole). Used for the fixed test masks of the inpaint set and by
training code that draws fresh masks per step."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw


def stroke_mask(rng: np.random.Generator, size: int, strokes: int | None = None) -> np.ndarray:
    """Free-form strokes: random walks drawn with a round brush of random width."""
    im = Image.new("L", (size, size), 0)
    dr = ImageDraw.Draw(im)
    for _ in range(strokes or int(rng.integers(1, 5))):
        x, y = rng.uniform(0, size, 2)
        width = int(rng.uniform(0.04, 0.12) * size) + 2
        ang = rng.uniform(0, 2 * math.pi)
        pts = [(x, y)]
        for _ in range(int(rng.integers(3, 9))):
            ang += rng.normal(0, 0.9)
            step = rng.uniform(0.08, 0.25) * size
            x = float(np.clip(x + step * math.cos(ang), 0, size - 1))
            y = float(np.clip(y + step * math.sin(ang), 0, size - 1))
            pts.append((x, y))
        dr.line(pts, fill=255, width=width, joint="curve")
        r = width / 2
        for px, py in pts:
            dr.ellipse((px - r, py - r, px + r, py + r), fill=255)
    return (np.asarray(im, np.float32) / 255.0 > 0.5).astype(np.float32)


def box_mask(rng: np.random.Generator, size: int, boxes: int | None = None) -> np.ndarray:
    m = np.zeros((size, size), np.float32)
    for _ in range(boxes or int(rng.integers(1, 3))):
        bw, bh = (rng.uniform(0.2, 0.5, 2) * size).astype(int)
        x, y = int(rng.integers(0, size - bw + 1)), int(rng.integers(0, size - bh + 1))
        m[y:y + bh, x:x + bw] = 1.0
    return m


def random_mask(rng: np.random.Generator, size: int, kind: str = "any", lo: float = 0.1,
                hi: float = 0.4, tries: int = 50) -> np.ndarray:
    """A stroke or box mask whose hole covers between ``lo`` and ``hi`` of the picture."""
    best, best_err = None, math.inf
    for _ in range(tries):
        k = kind if kind != "any" else ("strokes" if rng.random() < 0.6 else "boxes")
        m = stroke_mask(rng, size) if k == "strokes" else box_mask(rng, size)
        cov = float(m.mean())
        if lo <= cov <= hi:
            return m
        err = min(abs(cov - lo), abs(cov - hi))
        if err < best_err:
            best, best_err = m, err
    assert best is not None
    return best
