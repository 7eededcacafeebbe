"""What the canvas draws over the picture: the selection's marching-ants outline.

The outline is built once per selection change (numpy finds the pixel edges where
the mask crosses 50 % and merges them into runs) and drawn every frame as a list of
lines in canvas coordinates, so zoom and pan cost nothing extra.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF

from ganpaint.core.document import Document
from ganpaint.core.geometry import Rect


def selection_mask(doc: Document) -> np.ndarray | None:
    """The selection as (h, w) uint8, or None when nothing is selected."""
    sel = doc.selection
    if sel is None or sel.is_empty():
        return None
    for attr in ("mask", "data", "array"):
        m = getattr(sel, attr, None)
        if isinstance(m, np.ndarray) and m.dtype == np.uint8:
            return m
    return (np.asarray(sel.as_float(), np.float32) * 255.0 + 0.5).astype(np.uint8)


def _runs(edge: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of True along axis 1 of a 2-D bool array: (row, start, end) each."""
    rows, cols = edge.shape
    padded = np.zeros((rows, cols + 2), np.int8)
    padded[:, 1:-1] = edge
    d = np.diff(padded, axis=1)
    sr, sc = np.nonzero(d == 1)
    er, ec = np.nonzero(d == -1)
    # np.nonzero walks row-major, so starts and ends pair up in order
    return sr, sc, ec


class SelectionOutline:
    """The boundary of ``mask >= 128`` as merged horizontal and vertical lines."""

    def __init__(self) -> None:
        self.segments: list[QLineF] = []
        self.bounds: Rect | None = None

    def rebuild(self, mask: np.ndarray | None, bbox: Rect | None = None) -> None:
        """``bbox``: where the mask is non-zero, when the caller knows it (saves a scan)."""
        self.segments = []
        self.bounds = None
        if mask is None:
            return
        if bbox is None:
            ys, xs = np.nonzero(mask)
            if ys.size == 0:
                return
            bbox = Rect.from_bounds(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        if bbox.is_empty():
            return
        x0, y0 = bbox.x, bbox.y
        # work on the bounding box plus a one-pixel border of "outside"
        sub = np.zeros((bbox.h + 2, bbox.w + 2), bool)
        sub[1:-1, 1:-1] = mask[bbox.slices()] >= 128
        if not sub.any():
            return
        self.bounds = bbox
        ox, oy = x0 - 1, y0 - 1
        segs: list[QLineF] = []
        # horizontal edges: between row r-1 and row r of sub -> canvas y = oy + r
        h_edge = sub[1:, :] != sub[:-1, :]
        r, s, e = _runs(h_edge)
        for ri, si, ei in zip(r.tolist(), s.tolist(), e.tolist(), strict=True):
            y = oy + ri + 1
            segs.append(QLineF(ox + si, y, ox + ei, y))
        # vertical edges: between column c-1 and c -> canvas x = ox + c
        v_edge = (sub[:, 1:] != sub[:, :-1]).T
        c, s, e = _runs(v_edge)
        for ci, si, ei in zip(c.tolist(), s.tolist(), e.tolist(), strict=True):
            x = ox + ci + 1
            segs.append(QLineF(x, oy + si, x, oy + ei))
        self.segments = segs
