"""Preferences: theme, undo memory, device, precision, pixel limit, autosave interval.

``PreferencesDialog(settings, save=None, parent=None)``: ``settings`` is a
``ganpaint.core.settings.Settings``; ``save(new_settings)`` persists it (default:
``new_settings.save()``). The dialog edits a copy; after OK, ``settings()`` is the new
object and ``settingsChanged(Settings)`` has been emitted with it. Cancel changes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from ganpaint.qt.dialogs.errors import show_error
from ganpaint.qt.icons import icon

#: settings field -> (label, choices or (minimum, maximum, suffix, scale), default, help).
#: A numeric field is shown as value / scale (pixels as megapixels, seconds as minutes).
FIELDS: dict[str, tuple[str, Any, Any, str]] = {
    "theme": ("Theme", ("light", "dark"), "light", "Colours of the window (applied at once)"),
    "history_limit_mb": ("Undo memory", (16, 65536, " MB", 1), 512,
                         "The oldest undo steps are dropped beyond this; your picture never is"),
    "device": ("Device", ("auto", "cpu", "cuda", "mps"), "auto",
               "Where models run: automatic picks CUDA, then Apple MPS, then the CPU"),
    "precision": ("Precision", ("full", "fast"), "full",
                  "Fast allows half precision on devices that support it (quicker, with tiny "
                  "differences in results)"),
    "max_pixels": ("Largest picture", (1, 100_000, " megapixels", 1_000_000), 250_000_000,
                   "Pictures declaring more pixels are refused when opened (protects against "
                   "decompression bombs); 250 megapixels opens A0 artwork at 300 dpi"),
    "autosave_interval_s": ("Autosave every", (0, 1440, " min", 60), 60,
                            "Save a recovery copy after this many minutes of changes (0 = off)"),
}
_CHOICE_TITLES = {"auto": "Automatic", "cpu": "CPU", "cuda": "CUDA (NVIDIA)", "mps": "MPS (Apple)",
                  "full": "Full (float32)", "fast": "Fast (half precision)",
                  "light": "Light", "dark": "Dark"}


def _default_saver(settings: Any) -> None:
    settings.save()


class PreferencesDialog(QDialog):
    settingsChanged = Signal(object)

    def __init__(
        self, settings: Any, save: Callable[[Any], None] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setWindowIcon(icon("settings"))
        self._settings = settings
        self._save = save if save is not None else _default_saver
        self.widgets: dict[str, QWidget] = {}
        form = QFormLayout(self)
        for key, (label, spec, default, help_text) in FIELDS.items():
            w = self._make(spec, getattr(settings, key, default))
            w.setToolTip(help_text)
            self.widgets[key] = w
            form.addRow(label + ":", w)
        note = QLabel("Device and precision take effect when GANPaint next starts; the pixel limit "
                      "applies to the next picture you open.")
        note.setWordWrap(True)
        note.setProperty("role", "hint")
        form.addRow(note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
        form.addRow(buttons)

    @staticmethod
    def _make(spec: Any, value: Any) -> QWidget:
        if isinstance(spec[0], str):
            combo = QComboBox()
            for choice in spec:
                combo.addItem(_CHOICE_TITLES.get(choice, choice), choice)
            i = combo.findData(str(value))
            combo.setCurrentIndex(max(0, i))
            return combo
        lo, hi, suffix, scale = spec
        box: QSpinBox | QDoubleSpinBox
        if scale == 1:
            box = QSpinBox()
        else:
            box = QDoubleSpinBox()
            box.setDecimals(1)
        box.setRange(lo, hi)
        box.setSuffix(suffix)
        box.setValue(value / scale if scale != 1 else int(value))
        return box

    def value(self, key: str) -> Any:
        """The value in the settings' own unit (pixels, seconds ...)."""
        w = self.widgets[key]
        if isinstance(w, QComboBox):
            return str(w.currentData())
        scale = FIELDS[key][1][3]
        return int(round(w.value() * scale))  # type: ignore[attr-defined]

    def set_value(self, key: str, value: Any) -> None:
        w = self.widgets[key]
        if isinstance(w, QComboBox):
            w.setCurrentIndex(max(0, w.findData(str(value))))
        else:
            scale = FIELDS[key][1][3]
            w.setValue(value / scale if scale != 1 else int(value))  # type: ignore[attr-defined]

    def restore_defaults(self) -> None:
        for key, (_label, _spec, default, _help) in FIELDS.items():
            self.set_value(key, default)

    def settings(self) -> Any:
        """A copy of the settings with this dialog's values (the original is not touched)."""
        changes = {key: self.value(key) for key in FIELDS if hasattr(self._settings, key)}
        return dataclasses.replace(self._settings, **changes)

    def accept(self) -> None:
        try:
            new = self.settings()
            if self._save is not None:
                self._save(new)
        except Exception as exc:  # ImageWriteError names the file; never lose the dialog
            show_error(self, "Preferences", f"The preferences could not be saved: {exc}")
            return
        self._settings = new
        self.settingsChanged.emit(new)
        super().accept()


def show_preferences(win: QWidget) -> None:
    """Edit → Preferences… for a main window. Uses ``win.app_settings`` when the window keeps
    one (else loads the saved settings); applies the theme and the undo limit at once and
    calls ``win.apply_settings(new)`` when the window has it."""
    from ganpaint.core.settings import Settings

    current = getattr(win, "app_settings", None) or Settings.load()
    dlg = PreferencesDialog(current, parent=win)
    if dlg.exec() != QDialog.DialogCode.Accepted:
        return
    apply_settings(win, dlg.settings())


def apply_settings(win: QWidget, new: Any) -> None:
    from PySide6.QtWidgets import QApplication

    from ganpaint.qt.theme import apply_theme

    if hasattr(win, "app_settings"):
        win.app_settings = new  # type: ignore[attr-defined]
    app = QApplication.instance()
    if isinstance(app, QApplication):
        apply_theme(app, new.theme)
    controller = getattr(win, "controller", None)
    doc = getattr(controller, "document", None)
    if doc is not None:
        doc.history.limit_mb = float(new.history_limit_mb)
    hook = getattr(win, "apply_settings", None)
    if callable(hook):
        hook(new)
