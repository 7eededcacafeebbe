"""File → New: the size and background of a new picture.

``NewImageDialog(settings=None, parent=None)`` asks for width, height and background
(white, transparent or a colour of the user's choice). It starts with what was chosen last
time (kept in ``settings``, the window's QSettings, across sessions), else 1024 x 768 white.
On OK it remembers the choice and builds ``dialog.document``: one layer, a clean history.

``show_new_image(window)`` is the menu's entry: it asks to save the current document
first, runs the dialog and puts the new document in the window.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ganpaint.core.document import Document
from ganpaint.qt.document_controller import blank_document
from ganpaint.qt.param_fields import colour_icon

log = logging.getLogger(__name__)

#: where the last choice is remembered in the window's QSettings
NEW_IMAGE_KEY = "new_image/last"
MAX_SIDE = 32768
BACKGROUNDS = (("white", "White"), ("transparent", "Transparent"), ("color", "Colour"))


@dataclass(frozen=True)
class NewImageChoice:
    width: int = 1024
    height: int = 768
    background: str = "white"  #: white | transparent | color
    color: tuple[float, float, float] = (1.0, 1.0, 1.0)  #: RGB in [0, 1], for "color"

    def fill(self) -> tuple[int, int, int, int]:
        """The background as RGBA 0..255."""
        if self.background == "transparent":
            return (255, 255, 255, 0)
        if self.background == "color":
            r, g, b = (round(min(max(c, 0.0), 1.0) * 255) for c in self.color)
            return (r, g, b, 255)
        return (255, 255, 255, 255)

    @classmethod
    def from_dict(cls, data: Any) -> NewImageChoice:
        """A choice from remembered values; whatever is missing or wrong is the default."""
        d = cls()
        if not isinstance(data, dict):
            return d

        def side(v: Any, default: int) -> int:
            return int(v) if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_SIDE else default

        bg = data.get("background")
        c = data.get("color")
        ok_colour = (isinstance(c, (list, tuple)) and len(c) == 3
                     and all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in c))
        return cls(
            width=side(data.get("width"), d.width),
            height=side(data.get("height"), d.height),
            background=bg if bg in {k for k, _ in BACKGROUNDS} else d.background,
            color=tuple(float(v) for v in c) if ok_colour else d.color,  # type: ignore[union-attr]
        )


def last_choice(settings: QSettings | None) -> NewImageChoice:
    if settings is None:
        return NewImageChoice()
    raw = settings.value(NEW_IMAGE_KEY)
    try:
        return NewImageChoice.from_dict(json.loads(raw) if isinstance(raw, str) and raw else None)
    except ValueError:
        return NewImageChoice()


def remember_choice(settings: QSettings | None, choice: NewImageChoice) -> None:
    if settings is None:
        return
    data = asdict(choice)
    data["color"] = list(choice.color)
    settings.setValue(NEW_IMAGE_KEY, json.dumps(data))
    settings.sync()


class NewImageDialog(QDialog):
    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None,
                 max_pixels: int | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New Image")
        self.setObjectName("new_image_dialog")
        self.settings = settings
        self.max_pixels = max_pixels
        #: the new picture, built on OK
        self.document: Document | None = None
        self._color = (1.0, 1.0, 1.0)

        self.width_box = QSpinBox()
        self.height_box = QSpinBox()
        for box in (self.width_box, self.height_box):
            box.setRange(1, MAX_SIDE)
            box.setSuffix(" px")
            box.setAccelerated(True)
        self.background = QComboBox()
        for key, title in BACKGROUNDS:
            self.background.addItem(title, key)
        self.color_button = QPushButton()
        self.color_button.setToolTip("The background colour")
        self.color_button.clicked.connect(self.choose_color)
        self.background.currentIndexChanged.connect(lambda _i: self._update_color_button())
        bg_row = QHBoxLayout()
        bg_row.addWidget(self.background, 1)
        bg_row.addWidget(self.color_button)
        self.size_note = QLabel()
        self.size_note.setProperty("role", "hint")
        self.width_box.valueChanged.connect(lambda _v: self._update_note())
        self.height_box.valueChanged.connect(lambda _v: self._update_note())

        form = QFormLayout()
        form.addRow("&Width:", self.width_box)
        form.addRow("&Height:", self.height_box)
        bg_label = QLabel("&Background:")  # a row of two widgets has no automatic buddy: name it
        bg_label.setBuddy(self.background)
        form.addRow(bg_label, bg_row)
        form.addRow("", self.size_note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(buttons)
        self.set_choice(last_choice(settings))
        self.width_box.setFocus()
        self.width_box.selectAll()

    # ------------------------------------------------------------------ values
    def choice(self) -> NewImageChoice:
        return NewImageChoice(self.width_box.value(), self.height_box.value(),
                              str(self.background.currentData()), self._color)

    def set_choice(self, choice: NewImageChoice) -> None:
        self.width_box.setValue(choice.width)
        self.height_box.setValue(choice.height)
        self._color = tuple(choice.color)  # type: ignore[assignment]
        self.background.setCurrentIndex(max(0, self.background.findData(choice.background)))
        self._update_color_button()
        self._update_note()

    def set_values(self, width: int | None = None, height: int | None = None, background: str | None = None,
                   color: tuple[float, float, float] | None = None) -> None:
        c = self.choice()
        self.set_choice(NewImageChoice(
            width if width is not None else c.width, height if height is not None else c.height,
            background if background is not None else c.background, tuple(color) if color is not None else c.color))

    def choose_color(self) -> None:
        c = QColorDialog.getColor(QColor.fromRgbF(*self._color), self, "Background colour")
        if c.isValid():
            self._color = (c.redF(), c.greenF(), c.blueF())
            self.background.setCurrentIndex(self.background.findData("color"))
            self._update_color_button()

    def _update_color_button(self) -> None:
        self.color_button.setIcon(colour_icon(self._color))
        self.color_button.setText(QColor.fromRgbF(*self._color).name())

    def _update_note(self) -> None:
        w, h = self.width_box.value(), self.height_box.value()
        self.size_note.setText(f"{w * h / 1e6:.1f} megapixels, {w * h * 4 / (1 << 20):.0f} MB per layer")

    # ------------------------------------------------------------------ OK
    def accept(self) -> None:
        choice = self.choice()
        limit = self.max_pixels
        if limit is not None and choice.width * choice.height > limit:
            QMessageBox.warning(self, "New Image", f"{choice.width} x {choice.height} is more than the "
                                f"{limit / 1e6:g} megapixels allowed in Preferences.")
            return
        try:
            self.document = blank_document(choice.width, choice.height, choice.fill())
        except (MemoryError, ValueError) as exc:
            QMessageBox.warning(self, "New Image", f"Cannot make a {choice.width} x {choice.height} picture: {exc}")
            return
        try:
            remember_choice(self.settings, choice)
        except Exception as exc:  # noqa: BLE001 - remembering must not stop a new picture
            log.warning("the new-image choice was not remembered: %s", exc)
        super().accept()


def show_new_image(win: Any) -> bool:
    """File → New: ask to save, ask size and background, show the new picture."""
    if not win.maybe_save():
        return False
    settings = getattr(win, "settings", None)
    prefs = getattr(win, "app_settings", None)
    limit = getattr(prefs, "max_pixels", None)
    dlg = NewImageDialog(settings if isinstance(settings, QSettings) else None, win,
                         max_pixels=int(limit) if isinstance(limit, int) else None)
    try:
        if dlg.exec() != QDialog.DialogCode.Accepted or dlg.document is None:
            return False
        win.controller.set_document(dlg.document, None)
        return True
    finally:
        dlg.deleteLater()
