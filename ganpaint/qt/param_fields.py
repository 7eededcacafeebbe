"""Editors for one tool parameter each, made from a ParamSpec (used by ParamPanel).

``make_field(spec, tool_id, list_models)`` returns a ParamField: ``get()`` the raw value,
``set(value)``, and a ``changed`` signal. ParamPanel coerces ``get()`` through the spec.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
)

from ganpaint.core.specs import ParamSpec
from ganpaint.qt.icons import icon
from ganpaint.qt.sliders import LabeledDoubleSlider, LabeledSlider

ListModels = Callable[[str], list[tuple[str, str]]]
SEED_MAX = 2**31 - 1


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def param_tooltip(spec: ParamSpec) -> str:
    """The tooltip of a parameter's field and label: its ``help``, then (for a number) the
    range and the default, so a plugin that gives no help still gets a useful tooltip."""
    parts = [spec.help.strip()] if spec.help.strip() else []
    if spec.kind in ("float", "int") and spec.minimum is not None and spec.maximum is not None:
        parts.append(f"From {_shown(spec.minimum)} to {_shown(spec.maximum)}; default {_shown(spec.default)}.")
    elif spec.kind == "seed":
        parts.append("The dice button picks a number at random.")
    elif not parts:
        parts.append(spec.title + ".")
    return " ".join(parts)


class ParamField(QWidget):
    """One parameter's editor: ``get()`` the raw value, ``set(v)``, ``changed`` signal.

    ``held(bool)``: True when the user presses the field's slider handle, False when it is
    let go (the moves in between are a drag); ``is_held()`` says which. Fields without a
    slider never emit it."""

    changed = Signal()
    held = Signal(bool)

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self._lay = QHBoxLayout(self)
        self._lay.setContentsMargins(0, 0, 0, 0)
        self.setToolTip(param_tooltip(spec))

    def _watch_slider(self, widget: Any) -> None:
        slider = getattr(widget, "slider", None)  # LabeledSlider / LabeledDoubleSlider
        if slider is not None:
            slider.sliderPressed.connect(lambda: self.held.emit(True))
            slider.sliderReleased.connect(lambda: self.held.emit(False))

    def reset_to_default(self) -> None:
        """Put this one parameter back to its default (the panel's Reset does all of them);
        a change is announced as if the user had made it, so a live parameter re-runs once."""
        self.set(self.spec.default)

    def context_menu(self) -> QMenu:
        """The field's right-click menu: "Reset to default"."""
        menu = QMenu(self)
        default = self.spec.default
        shown = f"{default:g}" if isinstance(default, float) else str(default)
        act = menu.addAction(f"Reset to default ({shown})" if shown else "Reset to default")
        act.triggered.connect(self.reset_to_default)
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 - Qt's name
        self.context_menu().exec(event.globalPos())

    def is_held(self) -> bool:
        slider = getattr(getattr(self, "widget", None), "slider", None)
        return bool(slider is not None and slider.isSliderDown())

    def get(self) -> Any:
        raise NotImplementedError

    def set(self, value: Any) -> None:
        raise NotImplementedError


class FloatField(ParamField):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        step = spec.step or 0.0
        decimals = max(2, len(f"{step:g}".partition(".")[2])) if step else 3
        if spec.minimum is not None and spec.maximum is not None:
            w: Any = LabeledDoubleSlider(Qt.Orientation.Horizontal)
            w.setDecimals(decimals)
            w.setRange(float(spec.minimum), float(spec.maximum))
            if step:
                w.setSingleStep(step)
        else:  # unbounded: a spin box, a slider would have no ends
            w = QDoubleSpinBox()
            w.setDecimals(decimals)
            w.setRange(
                -1e9 if spec.minimum is None else float(spec.minimum),
                1e9 if spec.maximum is None else float(spec.maximum),
            )
            w.setSingleStep(step or 0.1)
        self.widget = w
        w.setValue(float(spec.default))
        w.valueChanged.connect(self.changed)
        self._watch_slider(w)
        self._lay.addWidget(w)

    def get(self) -> float:
        v = float(self.widget.value())
        lo, hi = self.spec.minimum, self.spec.maximum  # slider arithmetic may overshoot by an ulp
        if lo is not None:
            v = max(v, float(lo))
        if hi is not None:
            v = min(v, float(hi))
        return v

    def set(self, value: Any) -> None:
        self.widget.setValue(float(value))


class IntField(ParamField):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        lo, hi = spec.minimum, spec.maximum
        if lo is not None and hi is not None and hi - lo <= 100_000:
            w: Any = LabeledSlider(Qt.Orientation.Horizontal)
        else:
            w = QSpinBox()
        w.setRange(int(lo) if lo is not None else -(2**31), int(hi) if hi is not None else SEED_MAX)
        if spec.step:
            w.setSingleStep(max(1, int(spec.step)))
        self.widget = w
        w.setValue(int(spec.default))
        w.valueChanged.connect(self.changed)
        self._watch_slider(w)
        self._lay.addWidget(w)

    def get(self) -> int:
        return int(self.widget.value())

    def set(self, value: Any) -> None:
        self.widget.setValue(int(value))


class SeedField(ParamField):
    """A seed: a spin box and a dice button that draws a new random seed."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.spin = QSpinBox()
        self.spin.setRange(0, SEED_MAX)
        self.spin.setValue(int(spec.default))
        self.spin.valueChanged.connect(self.changed)
        self.dice = QToolButton()
        self.dice.setIcon(icon("dice"))
        self.dice.setToolTip("Roll a new random seed")
        self.dice.clicked.connect(self.roll)
        self._lay.addWidget(self.spin, 1)
        self._lay.addWidget(self.dice)

    def roll(self) -> int:
        old = self.spin.value()
        new = old
        while new == old:
            new = random.randint(0, SEED_MAX)
        self.spin.setValue(new)
        return new

    def get(self) -> int:
        return int(self.spin.value())

    def set(self, value: Any) -> None:
        self.spin.setValue(int(value))


class BoolField(ParamField):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.box = QCheckBox()
        self.box.setChecked(bool(spec.default))
        self.box.toggled.connect(self.changed)
        self._lay.addWidget(self.box)

    def get(self) -> bool:
        return self.box.isChecked()

    def set(self, value: Any) -> None:
        self.box.setChecked(bool(value))


class ChoiceField(ParamField):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.combo = QComboBox()
        for c in spec.choices:
            self.combo.addItem(c.replace("_", " "), c)
        self.set(spec.default)
        self.combo.currentIndexChanged.connect(self.changed)
        self._lay.addWidget(self.combo, 1)

    def get(self) -> str:
        return str(self.combo.currentData())

    def set(self, value: Any) -> None:
        i = self.combo.findData(str(value))
        if i >= 0:
            self.combo.setCurrentIndex(i)


def colour_icon(rgb: tuple[float, float, float], size: int = 16) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(QColor.fromRgbF(*rgb))
    return QIcon(pm)


class ColorField(ParamField):
    """A swatch button; clicking opens the colour dialog."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.button = QPushButton()
        self.button.clicked.connect(self.choose)
        self._lay.addWidget(self.button, 1)
        self._rgb: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self.set(spec.default)

    def choose(self) -> None:
        from PySide6.QtWidgets import QColorDialog

        c = QColorDialog.getColor(QColor.fromRgbF(*self._rgb), self, self.spec.title)
        if c.isValid():
            self.set((c.redF(), c.greenF(), c.blueF()))

    def get(self) -> tuple[float, float, float]:
        return self._rgb

    def set(self, value: Any) -> None:
        rgb = self.spec.coerce(value)
        if rgb == self._rgb and self.button.text():
            return
        self._rgb = rgb
        self.button.setIcon(colour_icon(rgb))
        self.button.setText(QColor.fromRgbF(*rgb).name())
        self.changed.emit()


class FileField(ParamField):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.edit = QLineEdit(str(spec.default))
        self.edit.textChanged.connect(self.changed)
        self.browse = QToolButton()
        self.browse.setIcon(icon("folder-open"))
        self.browse.setToolTip("Choose a file")
        self.browse.clicked.connect(self._browse)
        self._lay.addWidget(self.edit, 1)
        self._lay.addWidget(self.browse)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.spec.title, self.edit.text())
        if path:
            self.edit.setText(path)

    def get(self) -> str:
        return self.edit.text()

    def set(self, value: Any) -> None:
        self.edit.setText("" if value is None else str(value))


class StringField(ParamField):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.edit = QLineEdit(str(spec.default))
        self.edit.textChanged.connect(self.changed)
        self._lay.addWidget(self.edit, 1)

    def get(self) -> str:
        return self.edit.text()

    def set(self, value: Any) -> None:
        self.edit.setText("" if value is None else str(value))


class ModelField(ParamField):
    """A combo of the model store's models for a tool (``list_models(tool_id)``)."""

    def __init__(
        self, spec: ParamSpec, tool_id: str, list_models: ListModels | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(spec, parent)
        self.tool_id = spec.model_tool or tool_id
        self._list_models = list_models
        self.combo = QComboBox()
        self.combo.currentIndexChanged.connect(self.changed)
        self._lay.addWidget(self.combo, 1)
        self.refresh()
        self.set(spec.default)

    def refresh(self) -> None:
        """Re-read the store (after Import or Remove in the Models dialog)."""
        keep = self.get() if self.combo.count() else None
        models: list[tuple[str, str]] = []
        if self._list_models is not None:
            try:
                models = list(self._list_models(self.tool_id))
            except Exception as exc:  # the store is optional; say why the list is empty
                self.setToolTip(f"The model store is unavailable: {exc}")
        with QSignalBlocker(self.combo):
            self.combo.clear()
            for name, title in models:
                self.combo.addItem(title or name, name)
            if not models:
                self.combo.addItem("(no models installed)", "")
        self.combo.setEnabled(bool(models))
        if keep:
            self.set(keep)

    def get(self) -> str:
        data = self.combo.currentData()
        return "" if data is None else str(data)

    def set(self, value: Any) -> None:
        """Select the model named ``value``; an empty name selects the first (the default)."""
        i = self.combo.findData(str(value)) if value else 0
        if i >= 0:
            self.combo.setCurrentIndex(i)


_FIELDS: dict[str, type[ParamField]] = {
    "float": FloatField, "int": IntField, "seed": SeedField, "bool": BoolField,
    "choice": ChoiceField, "color": ColorField, "file": FileField, "string": StringField,
}


def make_field(spec: ParamSpec, tool_id: str, list_models: ListModels | None = None) -> ParamField:
    """The editor widget for one parameter."""
    if spec.kind == "model":
        return ModelField(spec, tool_id, list_models)
    return _FIELDS[spec.kind](spec)
