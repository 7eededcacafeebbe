"""The canvas with scroll bars: the main window's central widget.

The Canvas keeps its own view transform (zoom + offset); the scroll bars only mirror
it. A bar's value is the page's left (top) edge seen from the view: ``-offset``. Its
range lets the page scroll half a view past each edge, and always includes where the
user panned to (space-drag may go further), so moving a bar never jumps the view.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QScrollBar, QWidget

from ganpaint.qt.canvas import Canvas


class CanvasView(QWidget):
    """``canvas`` plus a horizontal and a vertical scroll bar that follow and drive it."""

    def __init__(self, canvas: Canvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CanvasView")
        self.canvas = canvas
        self.hbar = QScrollBar(Qt.Orientation.Horizontal)
        self.vbar = QScrollBar(Qt.Orientation.Vertical)
        for bar in (self.hbar, self.vbar):
            bar.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the canvas ([, ], space ...)
        lay = QGridLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(canvas, 0, 0)
        lay.addWidget(self.vbar, 0, 1)
        lay.addWidget(self.hbar, 1, 0)
        self._syncing = False
        canvas.view_changed.connect(self.sync)
        canvas.controller.document_replaced.connect(lambda _d: self.sync())
        self.hbar.valueChanged.connect(lambda v: self._scrolled(v, horizontal=True))
        self.vbar.valueChanged.connect(lambda v: self._scrolled(v, horizontal=False))
        self.sync()

    def sync(self) -> None:
        """Set both bars from the canvas's zoom, offset and size."""
        c = self.canvas
        try:
            doc = c.document
        except AssertionError:  # no document yet
            return
        off = c.offset
        self._syncing = True
        try:
            for bar, page, view, pos in (
                (self.hbar, doc.width * c.zoom, c.width(), -off.x()),
                (self.vbar, doc.height * c.zoom, c.height(), -off.y()),
            ):
                margin = view / 2.0
                lo = math.floor(min(-margin, pos))
                hi = math.ceil(max(page - view + margin, pos))
                bar.setRange(lo, max(lo, hi))
                bar.setPageStep(max(1, int(view)))
                bar.setSingleStep(max(1, int(view / 20)))
                bar.setValue(round(pos))
        finally:
            self._syncing = False

    def _scrolled(self, value: int, *, horizontal: bool) -> None:
        if self._syncing:
            return
        off = self.canvas.offset
        if horizontal:
            self.canvas.pan_by(-value - off.x(), 0)
        else:
            self.canvas.pan_by(0, -value - off.y())


__all__ = ["CanvasView"]
