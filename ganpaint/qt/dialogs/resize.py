"""Resize Image (scale every layer) and Resize Canvas (add or cut borders, with an anchor).

``ResizeDialog(width, height, mode="image"|"canvas", parent=None)``; after ``exec()``:
``new_size() -> (w, h)`` and, for the canvas, ``anchor() -> str`` — one of the names of
``ganpaint.core.transform.ANCHORS`` ("top-left", "top", ..., "center", ..., "bottom-right"),
ready for ``Document.resize_canvas(w, h, anchor)``.
"""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QWidget,
)

ANCHOR_GRID: tuple[tuple[str, str, str], ...] = (
    ("top-left", "top", "top-right"),
    ("left", "center", "right"),
    ("bottom-left", "bottom", "bottom-right"),
)
_ARROWS = {"top-left": "↖", "top": "↑", "top-right": "↗", "left": "←", "center": "●", "right": "→",
           "bottom-left": "↙", "bottom": "↓", "bottom-right": "↘"}
MAX_SIDE = 65535


class ResizeDialog(QDialog):
    def __init__(
        self, width: int, height: int, mode: Literal["image", "canvas"] = "image", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        if mode not in ("image", "canvas"):
            raise ValueError(f"mode must be 'image' or 'canvas', not {mode!r}")
        self.mode = mode
        self.old = (int(width), int(height))
        self.setWindowTitle("Resize Image" if mode == "image" else "Resize Canvas")
        form = QFormLayout(self)

        self.unit = QComboBox()
        self.unit.addItems(["pixels", "percent"])
        self.w = QDoubleSpinBox()
        self.h = QDoubleSpinBox()
        for box in (self.w, self.h):
            box.setDecimals(0)
            box.setRange(1, MAX_SIDE)
        self.w.setValue(width)
        self.h.setValue(height)
        self.keep = QCheckBox("Keep aspect ratio")
        self.keep.setChecked(mode == "image")
        form.addRow("Units:", self.unit)
        form.addRow("Width:", self.w)
        form.addRow("Height:", self.h)
        form.addRow("", self.keep)
        self.w.valueChanged.connect(lambda _v: self._linked(self.w))
        self.h.valueChanged.connect(lambda _v: self._linked(self.h))
        self.unit.currentIndexChanged.connect(self._unit_changed)

        self.anchor_group = QButtonGroup(self)
        self._anchor_buttons: dict[str, QToolButton] = {}
        if mode == "canvas":
            grid_host = QWidget()
            grid = QGridLayout(grid_host)
            grid.setSpacing(2)
            grid.setContentsMargins(0, 0, 0, 0)
            for r, row in enumerate(ANCHOR_GRID):
                for c, name in enumerate(row):
                    b = QToolButton()
                    b.setCheckable(True)
                    b.setText(_ARROWS[name])
                    b.setToolTip(f"Keep the picture at the {name.replace('-', ' ')}")
                    b.setFixedSize(28, 28)
                    self.anchor_group.addButton(b)
                    self._anchor_buttons[name] = b
                    grid.addWidget(b, r, c)
            self._anchor_buttons["center"].setChecked(True)
            row_host = QHBoxLayout()
            row_host.addWidget(grid_host)
            row_host.addStretch(1)
            form.addRow("Anchor:", row_host)

        self.info = QLabel()
        self.info.setProperty("role", "hint")
        form.addRow(self.info)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.w.valueChanged.connect(self._update_info)
        self.h.valueChanged.connect(self._update_info)
        self._update_info()

    # ------------------------------------------------------------------ values

    def new_size(self) -> tuple[int, int]:
        w, h = self.w.value(), self.h.value()
        if self.unit.currentIndex() == 1:
            w, h = self.old[0] * w / 100.0, self.old[1] * h / 100.0
        return (max(1, min(MAX_SIDE, round(w))), max(1, min(MAX_SIDE, round(h))))

    def set_size(self, width: int, height: int) -> None:
        with QSignalBlocker(self.w), QSignalBlocker(self.h):
            self.unit.setCurrentIndex(0)
            self.w.setValue(width)
            self.h.setValue(height)
        self._update_info()

    def anchor(self) -> str:
        for name, b in self._anchor_buttons.items():
            if b.isChecked():
                return name
        return "center"

    def set_anchor(self, name: str) -> None:
        if name not in self._anchor_buttons:
            raise ValueError(f"unknown anchor {name!r}")
        self._anchor_buttons[name].setChecked(True)

    # ------------------------------------------------------------------ internals

    def _linked(self, changed: QDoubleSpinBox) -> None:
        if not self.keep.isChecked():
            return
        ow, oh = self.old
        other = self.h if changed is self.w else self.w
        with QSignalBlocker(other):
            if self.unit.currentIndex() == 1:
                other.setValue(changed.value())
            elif changed is self.w:
                other.setValue(max(1, round(changed.value() * oh / ow)))
            else:
                other.setValue(max(1, round(changed.value() * ow / oh)))
        self._update_info()

    def _unit_changed(self, index: int) -> None:
        w, h = self.w.value(), self.h.value()
        ow, oh = self.old
        with QSignalBlocker(self.w), QSignalBlocker(self.h):
            if index == 1:  # pixels -> percent
                self.w.setDecimals(1)
                self.h.setDecimals(1)
                self.w.setValue(100.0 * w / ow)
                self.h.setValue(100.0 * h / oh)
            else:
                self.w.setValue(round(ow * w / 100.0))
                self.h.setValue(round(oh * h / 100.0))
                self.w.setDecimals(0)
                self.h.setDecimals(0)
        self._update_info()

    def _update_info(self, *_: object) -> None:
        w, h = self.new_size()
        mp = w * h / 1e6
        self.info.setText(f"{self.old[0]} × {self.old[1]} → {w} × {h} pixels ({mp:.1f} megapixels)")


def _resize(win: QWidget, mode: Literal["image", "canvas"]) -> bool:
    from ganpaint.qt.dialogs.errors import show_error

    doc = win.controller.document  # type: ignore[attr-defined]
    dlg = ResizeDialog(doc.width, doc.height, mode, win)
    if dlg.exec() != QDialog.DialogCode.Accepted:
        return False
    w, h = dlg.new_size()
    if (w, h) == (doc.width, doc.height):
        return False
    try:
        if mode == "image":
            doc.resize_image(w, h)
        else:
            doc.resize_canvas(w, h, dlg.anchor())
    except (ValueError, MemoryError) as exc:
        show_error(win, dlg.windowTitle(), f"Cannot resize to {w} × {h}: {exc}")
        return False
    return True


def resize_image_dialog(win: QWidget) -> bool:
    """Image → Resize Image… for a main window with ``controller.document``."""
    return _resize(win, "image")


def resize_canvas_dialog(win: QWidget) -> bool:
    """Image → Resize Canvas…"""
    return _resize(win, "canvas")
