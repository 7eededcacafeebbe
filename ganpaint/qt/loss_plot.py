"""A small live loss plot (QPainter; no plotting library): one line per loss name.

``LossPlot().set_history([(step, {"G": 1.2, "D": 0.7}), ...])`` redraws. Values are shown
on a shared linear axis between the smallest and largest value seen; long runs are thinned
to about one point per pixel so a repaint stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
History = Sequence[tuple[int, Mapping[str, float]]]


class LossPlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history: list[tuple[int, dict[str, float]]] = []
        self.setMinimumSize(240, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("Training losses per step")

    def set_history(self, history: History) -> None:
        self.history = [(int(s), {k: float(v) for k, v in d.items()}) for s, d in history]
        self.update()

    def names(self) -> list[str]:
        seen: dict[str, None] = {}
        for _, d in self.history:
            for k in d:
                seen.setdefault(k, None)
        return list(seen)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        p.fillRect(self.rect(), pal.base())
        text = pal.text().color()
        area = QRectF(self.rect()).adjusted(36, 8, -8, -22)
        p.setPen(QPen(text, 1))
        p.drawRect(area)
        if not self.history:
            p.drawText(area, Qt.AlignmentFlag.AlignCenter, "Losses appear here once training runs")
            return
        values = [v for _, d in self.history for v in d.values() if math.isfinite(v)]
        lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
        if hi - lo < 1e-9:
            lo, hi = lo - 0.5, hi + 0.5
        s0, s1 = self.history[0][0], self.history[-1][0]
        span = max(1, s1 - s0)
        # thin to about one point per pixel
        stride = max(1, len(self.history) // max(1, int(area.width())))
        pts = self.history[::stride]
        if pts[-1] is not self.history[-1]:
            pts.append(self.history[-1])
        for i, name in enumerate(self.names()):
            path = QPainterPath()
            started = False
            for step, d in pts:
                v = d.get(name)
                if v is None or not math.isfinite(v):
                    continue
                pt = QPointF(area.left() + (step - s0) / span * area.width(),
                             area.bottom() - (v - lo) / (hi - lo) * area.height())
                if started:
                    path.lineTo(pt)
                else:
                    path.moveTo(pt)
                    started = True
            colour = QColor(COLOURS[i % len(COLOURS)])
            p.setPen(QPen(colour, 1.5))
            p.drawPath(path)
            p.drawText(QPointF(area.left() + 6 + 70 * i, area.top() + 14), name)
        p.setPen(text)
        p.drawText(QRectF(0, area.top() - 6, 34, 14), Qt.AlignmentFlag.AlignRight, f"{hi:.3g}")
        p.drawText(QRectF(0, area.bottom() - 8, 34, 14), Qt.AlignmentFlag.AlignRight, f"{lo:.3g}")
        p.drawText(QRectF(area.left(), area.bottom() + 2, area.width(), 18), Qt.AlignmentFlag.AlignLeft, f"step {s0}")
        p.drawText(QRectF(area.left(), area.bottom() + 2, area.width(), 18), Qt.AlignmentFlag.AlignRight, f"step {s1}")
