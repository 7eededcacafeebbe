"""What the canvas draws besides the picture: the checkerboard, the pixel grid, the
selection's marching ants and the "before" side of the before/after compare.

The outline is built once per selection change (numpy finds the pixel edges where
the mask crosses 50 % and merges them into runs) and drawn every frame as a list of
lines in canvas coordinates, so zoom and pan cost nothing extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QLineF, QRect, QRectF
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap, QTransform

from ganpaint.core.document import Document
from ganpaint.core.geometry import Rect
from ganpaint.qt.qimage import rgba_to_qimage

if TYPE_CHECKING:
    from ganpaint.qt.canvas import Canvas


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


def checker_pixmap(cell: int = 8) -> QPixmap:
    """One tile of the transparency checkerboard."""
    pm = QPixmap(2 * cell, 2 * cell)
    pm.fill(QColor(204, 204, 204))
    p = QPainter(pm)
    p.fillRect(0, 0, cell, cell, QColor(153, 153, 153))
    p.fillRect(cell, cell, cell, cell, QColor(153, 153, 153))
    p.end()
    return pm


def paint_pixel_grid(p: QPainter, canvas: Canvas, visible: QRect) -> None:
    """One thin line per canvas pixel edge inside ``visible`` (widget coords)."""
    src = canvas.widget_rect_to_doc(visible)
    pen = QPen(QColor(128, 128, 128, 110))
    pen.setCosmetic(True)
    pen.setWidth(0)
    p.setPen(pen)
    z, ox, oy = canvas.zoom, canvas.offset.x(), canvas.offset.y()
    for x in range(src.x, src.x + src.w + 1):
        wx = round(x * z + ox)
        p.drawLine(wx, visible.top(), wx, visible.bottom())
    for y in range(src.y, src.y + src.h + 1):
        wy = round(y * z + oy)
        p.drawLine(visible.left(), wy, visible.right(), wy)


def paint_marching_ants(p: QPainter, canvas: Canvas, segments: list[QLineF], phase: int) -> None:
    """White line under a black dashed one whose offset moves with ``phase``."""
    if not segments:
        return
    p.save()
    p.translate(canvas.offset)
    p.scale(canvas.zoom, canvas.zoom)
    white = QPen(QColor(255, 255, 255))
    white.setCosmetic(True)
    p.setPen(white)
    p.drawLines(segments)
    black = QPen(QColor(0, 0, 0))
    black.setCosmetic(True)
    black.setDashPattern([4.0, 4.0])
    black.setDashOffset(phase)
    p.setPen(black)
    p.drawLines(segments)
    p.restore()


def paint_before(p: QPainter, canvas: Canvas, layer: Any, cache: tuple[str, int, QImage] | None
                 ) -> tuple[str, int, QImage] | None:
    """Draw a result layer's ``before`` over its place (painter in canvas coordinates).
    Returns the (layer id, array id, QImage) cache to pass back next time."""
    before = getattr(layer.result, "before", None)
    if before is None:
        return cache
    if cache is None or cache[:2] != (layer.id, id(before)):
        cache = (layer.id, id(before), rgba_to_qimage(before))
    img = cache[2]
    target = QRectF(layer.x, layer.y, img.width(), img.height())
    # the before picture replaces what the result shows; its transparent parts show the checkerboard
    brush = QBrush(checker_pixmap())
    brush.setTransform(QTransform.fromScale(1.0 / canvas.zoom, 1.0 / canvas.zoom))
    p.fillRect(target, brush)
    p.drawImage(target, img)
    return cache
