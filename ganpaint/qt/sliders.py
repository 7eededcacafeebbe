"""Labelled sliders made of plain Qt widgets: a QSlider beside a spin box.

They replace superqt's QLabeledSlider / QLabeledDoubleSlider in the panels built at
start-up: importing superqt (through qtpy) cost about a second of start-up time. Only
the part of their API the panels use is provided: ``setRange``, ``setValue``,
``value``, ``setSingleStep``, ``setDecimals`` (float) and a ``valueChanged`` signal
carrying the new value (int or float). The slider and the box stay in step; a value
typed in the box is kept exactly (not rounded to a slider position).

The slider takes every pixel the row can spare and the box keeps its own width, so a
wider dock gives a longer, finer slider (see ``MIN_SLIDER_WIDTH``).
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QWidget,
)

_STEPS = 1000  # slider positions of a float slider with no finer step
#: The shortest slider that is still comfortable to drag, in pixels: the editor's Tools dock
#: opens wide enough for every built-in tool's sliders to have at least this much.
MIN_SLIDER_WIDTH = 160


def _expand(slider: QSlider, box: QAbstractSpinBox) -> None:
    """The slider grows with the row; the box stays as wide as its longest value."""
    slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    box.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)


class LabeledSlider(QWidget):
    """An integer slider with a spin box showing (and editing) its value."""

    valueChanged = Signal(int)  # noqa: N815 - Qt naming

    def __init__(self, orientation: Qt.Orientation = Qt.Orientation.Horizontal,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(orientation)
        self.box = QSpinBox()
        self.box.setKeyboardTracking(False)
        _expand(self.slider, self.box)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.box)
        self.slider.valueChanged.connect(self._from_slider)
        self.box.valueChanged.connect(self._from_box)

    def setRange(self, lo: int, hi: int) -> None:  # noqa: N802
        with QSignalBlocker(self.slider), QSignalBlocker(self.box):
            self.slider.setRange(int(lo), int(hi))
            self.box.setRange(int(lo), int(hi))

    def setSingleStep(self, step: int) -> None:  # noqa: N802
        self.slider.setSingleStep(int(step))
        self.box.setSingleStep(int(step))

    def minimum(self) -> int:
        return self.slider.minimum()

    def maximum(self) -> int:
        return self.slider.maximum()

    def value(self) -> int:
        return self.box.value()

    def setValue(self, value: int) -> None:  # noqa: N802
        self.box.setValue(int(value))  # the box's valueChanged moves the slider and emits

    def _from_slider(self, v: int) -> None:
        self.box.setValue(v)

    def _from_box(self, v: int) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setValue(v)
        self.valueChanged.emit(v)


class LabeledDoubleSlider(QWidget):
    """A float slider with a spin box; the slider maps the range onto integer positions."""

    valueChanged = Signal(float)  # noqa: N815 - Qt naming

    def __init__(self, orientation: Qt.Orientation = Qt.Orientation.Horizontal,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lo, self._hi, self._step = 0.0, 1.0, 0.0
        self.slider = QSlider(orientation)
        self.slider.setRange(0, _STEPS)
        self.box = QDoubleSpinBox()
        self.box.setKeyboardTracking(False)
        self.box.setRange(0.0, 1.0)
        _expand(self.slider, self.box)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.box)
        self.slider.valueChanged.connect(self._from_slider)
        self.box.valueChanged.connect(self._from_box)

    def _positions(self) -> int:
        span = self._hi - self._lo
        if self._step > 0 and span > 0:
            return max(1, min(100_000, round(span / self._step)))
        return _STEPS

    def _relayout(self) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, self._positions())
            self.slider.setValue(self._to_pos(self.box.value()))

    def _to_pos(self, v: float) -> int:
        span = self._hi - self._lo
        return 0 if span <= 0 else round((v - self._lo) / span * self._positions())

    def setRange(self, lo: float, hi: float) -> None:  # noqa: N802
        self._lo, self._hi = float(lo), float(hi)
        with QSignalBlocker(self.box):
            self.box.setRange(self._lo, self._hi)
        self._relayout()

    def setDecimals(self, n: int) -> None:  # noqa: N802
        with QSignalBlocker(self.box):
            self.box.setDecimals(int(n))

    def setSingleStep(self, step: float) -> None:  # noqa: N802
        self._step = float(step)
        self.box.setSingleStep(self._step)
        self._relayout()

    def minimum(self) -> float:
        return self._lo

    def maximum(self) -> float:
        return self._hi

    def value(self) -> float:
        return float(self.box.value())

    def setValue(self, value: float) -> None:  # noqa: N802
        self.box.setValue(float(value))

    def _from_slider(self, pos: int) -> None:
        n = self._positions()
        self.box.setValue(self._lo + (self._hi - self._lo) * pos / n)

    def _from_box(self, v: float) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setValue(self._to_pos(v))
        self.valueChanged.emit(float(v))


__all__ = ["MIN_SLIDER_WIDTH", "LabeledDoubleSlider", "LabeledSlider"]
