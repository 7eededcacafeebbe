"""Line scale and hint regions of a sketch (numpy only; the tool and the judging use them).

The default model learned at one line scale: clip-art drawings of about 128-143 px with
lines about 1.4 px wide (median over the training drawings). A drawing at another scale
is measured here and brought to that one (``working_scale``), and colour hints are
spread inside the regions the lines close (``hint_fill``), so a hint never crosses a
closed line whatever the network does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganpaint_sketch.metrics import LINE_LEVEL, label_regions

#: median line width (px) of the training drawings at the scale the model saw them
#: (2 x ink area / ink-paper boundary length of 60 train-split clip-art drawings at 135 px: 1.36)
TRAIN_LINE_WIDTH = 1.4
#: the model's training crop; the working picture is run in windows of this size
TRAIN_SIDE = 128
#: longest side of the working picture: above ~200 px the colour field of the default model
#: breaks into purple and blue patches in large empty areas (measured on Canny edges of
#: held-out photos at 512 and 1024 px; 128-192 px stayed clean)
WORK_SIDE = 192
#: inverse-distance blend: distances softened by this share of the picture's longer side
#: (on training-split photos at 512 px, 16 px scored as the unsoftened blend and left smaller spots
#: around dots; on stroke drawings +0.05 dB)
SOFTENING = 0.03


def line_width(grey: np.ndarray) -> float:
    """Mean width (px) of the lines of a sketch (HxW, 1 = paper): twice the ink area over
    the length of the ink-paper boundary (a line of width w and length L has area wL and a
    boundary of 2L). 0 when there is no ink."""
    ink = np.asarray(grey) < LINE_LEVEL
    area = int(ink.sum())
    edges = int((ink[:, 1:] != ink[:, :-1]).sum() + (ink[1:] != ink[:-1]).sum())
    return 0.0 if area == 0 or edges == 0 else 2.0 * area / edges


def working_scale(grey: np.ndarray) -> float:
    """The factor (<= 1) that brings a sketch to the model's line scale: lines about
    ``TRAIN_LINE_WIDTH`` px wide, and the picture at most ``WORK_SIDE`` px long."""
    h, w = grey.shape[:2]
    s = 1.0
    width = line_width(grey)
    if width > TRAIN_LINE_WIDTH:
        s = TRAIN_LINE_WIDTH / width
    return float(min(s, WORK_SIDE / max(h, w)))


def ink_growth(grey: np.ndarray, scale: float) -> int:
    """Pixels to grow the ink by on each side before shrinking by ``scale``, so that the
    lines come out about ``TRAIN_LINE_WIDTH`` px wide at the working scale (thin lines
    would otherwise fade to grey when averaged down)."""
    want = TRAIN_LINE_WIDTH / max(scale, 1e-6)
    return max(0, int(round((want - max(line_width(grey), 1.0)) / 2)))


@dataclass(frozen=True)
class HintSample:
    region: int  #: the region label the sample lies in
    y: float  #: centroid of the dot's pixels inside that region
    x: float
    colour: np.ndarray  #: mean RGB of those pixels


def hint_samples(regions: np.ndarray, hint_rgb: np.ndarray, hint_mask: np.ndarray) -> list[HintSample]:
    """One sample per (painted dot, region it touches): a dot painted across a line gives a
    sample on each side; dot pixels on the line itself are ignored."""
    on = hint_mask > 0.5
    dots = label_regions(on)
    both = (dots >= 0) & (regions >= 0)
    if not both.any():
        return []
    n_reg = int(regions.max()) + 1
    key = dots[both] * n_reg + regions[both]
    uniq, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    yy, xx = np.nonzero(both)
    sy = np.bincount(inv, weights=yy) / counts
    sx = np.bincount(inv, weights=xx) / counts
    cols = np.stack([np.bincount(inv, weights=hint_rgb[..., c][both]) / counts for c in range(3)], axis=1)
    return [HintSample(int(k % n_reg), float(sy[i]), float(sx[i]), cols[i].astype(np.float32))
            for i, k in enumerate(uniq)]


def hint_fill(grey: np.ndarray, hint_rgb: np.ndarray, hint_mask: np.ndarray, *, nearest: bool = False,
              power: float = 2.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spread colour hints inside the regions the sketch's lines close.

    Returns (fill HxWx3, covered HxW bool, regions HxW int). A region (4-connected paper
    pixels, lines are pixels darker than ``LINE_LEVEL``) that holds hint samples is
    covered: with one sample it takes that colour; with several, ``nearest`` picks the
    closest sample's colour (the flat-fill baseline), else colours blend by inverse
    distance to the power ``power`` (Shepard, the distance softened by ``SOFTENING`` of the
    picture's side so a dot is not a spot), so a long region painted two colours shades
    from one to the other. Line pixels and regions without hints are not covered;
    no colour ever reaches a region other than the one its dot was painted in."""
    h, w = grey.shape
    regions = label_regions(np.asarray(grey) >= LINE_LEVEL)
    fill = np.zeros((h, w, 3), np.float32)
    covered = np.zeros((h, w), bool)
    samples = hint_samples(regions, hint_rgb, hint_mask)
    if not samples:
        return fill, covered, regions
    soft = SOFTENING * max(h, w)
    by_region: dict[int, list[HintSample]] = {}
    for s in samples:
        by_region.setdefault(s.region, []).append(s)
    flat = regions.ravel()
    order = np.argsort(flat, kind="stable")
    starts = np.searchsorted(flat[order], np.arange(int(flat.max()) + 2))
    out = fill.reshape(-1, 3)
    for r, group in by_region.items():
        idx = order[starts[r] : starts[r + 1]]
        if len(group) == 1:
            out[idx] = group[0].colour
        else:
            py, px = (idx // w).astype(np.float32), (idx % w).astype(np.float32)
            d2 = np.stack([(py - s.y) ** 2 + (px - s.x) ** 2 for s in group])
            colours = np.stack([s.colour for s in group])
            if nearest:
                out[idx] = colours[np.argmin(d2, axis=0)]
            else:
                wts = 1.0 / (d2 + soft * soft) ** (power / 2)
                out[idx] = (wts.T @ colours) / wts.sum(axis=0)[:, None]
        covered.ravel()[idx] = True
    return fill, covered, regions


def region_fill_baseline(grey: np.ndarray, hint_rgb: np.ndarray, hint_mask: np.ndarray) -> np.ndarray:
    """The "fill each region with its hint colour" baseline: each region takes the colour
    of its nearest hint inside it, regions without a hint take the mean hint colour, and
    lines stay as drawn (grey)."""
    fill, covered, _ = hint_fill(grey, hint_rgb, hint_mask, nearest=True)
    on = hint_mask > 0.5
    mean = hint_rgb[on].mean(axis=0) if on.any() else np.ones(3, np.float32)
    out = np.where(covered[..., None], fill, mean.astype(np.float32))
    line = np.asarray(grey) < LINE_LEVEL
    out[line] = np.asarray(grey)[line][:, None]
    return out.astype(np.float32)
