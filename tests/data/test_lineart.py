"""XDoG line art and colour-edge line art on synthetic pictures."""

from __future__ import annotations

import numpy as np
import pytest

from ganpaint.data.lineart import edge_lines, sketch_rgb, xdog


def _disk(size: int = 96, r: float = 25.0) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[:size, :size] + 0.5
    dist = np.hypot(yy - size / 2, xx - size / 2)
    img = np.full((size, size, 3), 0.85, np.float32)
    img[dist < r] = (0.15, 0.2, 0.6)
    return img, np.abs(dist - r)


def test_xdog_draws_lines_on_edges_and_leaves_flat_areas_white() -> None:
    img, edge_dist = _disk()
    lines = xdog(img)
    assert lines.shape == img.shape[:2] and lines.dtype == np.float32
    ink = lines < 0.5
    assert ink.sum() > 60                       # the outline is drawn ...
    assert (edge_dist[ink] <= 4.0).all()        # ... only near the edge
    assert (lines[edge_dist > 8] > 0.9).all()   # flat inside and outside: paper
    # every direction around the circle has some ink (a closed outline)
    yy, xx = np.nonzero(ink)
    ang = np.arctan2(yy - 48, xx - 48)
    hist, _ = np.histogram(ang, bins=12, range=(-np.pi, np.pi))
    assert (hist > 0).all()


def test_xdog_of_a_flat_picture_is_blank() -> None:
    assert (xdog(np.full((32, 32, 3), 0.4, np.float32)) == 1.0).all()


def test_xdog_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError):
        xdog(np.zeros((8, 8, 3), np.float32), sigma=0)


def test_edge_lines_follow_colour_boundaries() -> None:
    img, edge_dist = _disk()
    rgba = np.concatenate([img, np.ones(img.shape[:2] + (1,), np.float32)], axis=2)
    lines = edge_lines(rgba)
    ink = lines < 0.5
    assert ink.sum() > 60 and (edge_dist[ink] <= 3.0).all()
    assert sketch_rgb(lines).shape == img.shape
