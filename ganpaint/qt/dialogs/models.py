"""The Models dialog: the model store's entries, Import... and Remove.

``ModelsDialog(store, tools=None, parent=None)``: ``store`` is the model store
(ganpaint.engine.models.store.ModelStore) with ``list()``, ``import_files(path, path_b=None,
name=None, tool=None)`` (two files: a CycleGAN pair) and ``remove(name)``; None (or a store that raises) shows the table empty with the reason and
disables the buttons. ``tools`` is ``[(tool_id, title), ...]`` offered when importing.
Entries may be objects or dicts; a field is looked up on the entry, then on its ``card``.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from ganpaint.qt.dialogs.errors import show_error
from ganpaint.qt.icons import icon

COLUMNS = ("Name", "Tool", "Architecture", "Size", "Licence", "Source")
MODEL_FILTER = "Model files (*.safetensors *.pth *.pt *.ckpt);;All files (*)"
_NAME_RE = re.compile(r"^[a-z][a-z0-9_\-]*$")


def entry_field(entry: Any, name: str, default: Any = "") -> Any:
    """A field of a store entry: the entry's own attribute/key, else its card's."""
    for holder in (entry, getattr(entry, "card", None) if not isinstance(entry, dict) else entry.get("card")):
        if holder is None:
            continue
        value = holder.get(name) if isinstance(holder, dict) else getattr(holder, name, None)
        if value not in (None, ""):
            return value
    return default


def human_size(n: Any) -> str:
    try:
        size = float(n)
    except (TypeError, ValueError):
        return str(n or "")
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def _is_read_only(entry: Any) -> bool:
    return any(bool(entry_field(entry, key, False)) for key in ("readonly", "read_only", "builtin"))


class ImportModelDialog(QDialog):
    """Asks the store name and tool for files being imported."""

    def __init__(self, paths: list[str], tools: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import Model")
        stem = re.sub(r"[^a-z0-9_\-]+", "-", Path(paths[0]).stem.lower()).strip("-_") or "model"
        if not stem[0].isalpha():
            stem = "m-" + stem
        self.name_edit = QLineEdit(stem)
        self.tool_combo = QComboBox()
        self.tool_combo.addItem("(as the model card says, or as detected)", "")
        for tool_id, title in tools:
            self.tool_combo.addItem(f"{title} ({tool_id})", tool_id)
        form = QFormLayout(self)
        form.addRow("Files:", QLabel("\n".join(Path(p).name for p in paths)))
        form.addRow("Name:", self.name_edit)
        form.addRow("For tool:", self.tool_combo)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.name_edit.textChanged.connect(self._validate)
        self._validate()

    def _validate(self) -> None:
        ok = bool(_NAME_RE.match(self.name_edit.text()))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
        self.name_edit.setToolTip("" if ok else "lower-case letters, digits, '-' or '_', starting with a letter")

    def name(self) -> str:
        return self.name_edit.text()

    def tool(self) -> str:
        """The chosen tool id, or "" to take the tool from the file's card."""
        data = self.tool_combo.currentData()
        return str(data) if data else ""


class ModelsDialog(QDialog):
    """Signal ``storeChanged()`` after an import or a removal (refresh model combos)."""

    storeChanged = Signal()
    importFinished = Signal(bool, str)
    _relayImport = Signal(bool, str, str)  # emitted in the import thread, delivered queued

    def __init__(
        self, store: Any, tools: list[tuple[str, str]] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.tools = list(tools or [])
        self.setWindowTitle("Models")
        self.setWindowIcon(icon("model"))
        self.resize(840, 420)
        self._entries: list[Any] = []
        self._importing = False
        self._relayImport.connect(self._import_done, Qt.ConnectionType.QueuedConnection)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.currentCellChanged.connect(lambda *_: self._update_buttons())

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setProperty("role", "hint")
        self.import_button = QPushButton("Import…")
        self.import_button.clicked.connect(self.import_models)
        self.remove_button = QPushButton(icon("layer-delete"), "Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.get_button = QPushButton("Get models…")
        self.get_button.setObjectName("models_get")
        self.get_button.setToolTip("Download published models (CycleGAN, pix2pix, StyleGAN, Real-ESRGAN, ...) "
                                   "from the catalogue")
        self.get_button.clicked.connect(self.get_models)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        row = QHBoxLayout()
        row.addWidget(self.import_button)
        row.addWidget(self.remove_button)
        row.addWidget(self.get_button)
        row.addStretch(1)
        row.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.status)
        lay.addLayout(row)
        self.refresh()

    # ------------------------------------------------------------------ table

    @property
    def available(self) -> bool:
        return self.store is not None

    def refresh(self) -> None:
        if self._importing:
            return
        if self.store is None:
            self._entries = []
            self.status.setText("The model store is not available, so models cannot be listed or imported.")
        else:
            try:
                self._entries = list(self.store.list())
                self.status.setText(
                    f"{len(self._entries)} model(s). Shipped models are read-only; imported and "
                    "trained ones can be removed."
                )
            except Exception as exc:
                self._entries = []
                self.status.setText(f"The model store could not be read: {exc}")
        self.table.setRowCount(len(self._entries))
        for r, e in enumerate(self._entries):
            cells = (
                entry_field(e, "name"),
                entry_field(e, "tool"),
                entry_field(e, "architecture"),
                human_size(entry_field(e, "size_bytes", entry_field(e, "size", ""))),
                entry_field(e, "licence", entry_field(e, "license", "unknown")),
                entry_field(e, "source", entry_field(e, "plugin", "")),
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(str(text))
                item.setToolTip(str(entry_field(e, "description", "")) or str(text))
                if c == 0 and _is_read_only(e):
                    item.setIcon(icon("lock"))
                self.table.setItem(r, c, item)
        self._update_buttons()

    def selected_entry(self) -> Any:
        r = self.table.currentRow()
        return self._entries[r] if 0 <= r < len(self._entries) else None

    def select_name(self, name: str) -> bool:
        for r, e in enumerate(self._entries):
            if entry_field(e, "name") == name:
                self.table.selectRow(r)
                return True
        return False

    def _update_buttons(self) -> None:
        self.import_button.setEnabled(self.available and not self._importing)
        entry = self.selected_entry()
        self.remove_button.setEnabled(
            self.available and not self._importing and entry is not None and not _is_read_only(entry)
        )

    # ------------------------------------------------------------------ actions

    def import_models(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import Model", "", MODEL_FILTER)
        if not paths:
            return
        if len(paths) > 2:
            show_error(self, "Import Model", "Choose one model file, or two for a CycleGAN pair "
                       "(the forward generator first, then the reverse one).")
            return
        ask = ImportModelDialog(paths, self.tools, self)
        if ask.exec() != QDialog.DialogCode.Accepted:
            return
        self.import_files(paths, ask.name(), ask.tool())

    def import_files(self, paths: list[str], name: str, tool: str = "") -> bool:
        """Start importing (the second half of Import...): one file, or two for a CycleGAN
        pair; ``tool`` "" takes the tool from the card. The store reads and converts the
        weights (torch) in a background thread so the window stays responsive;
        ``importFinished(ok, message)`` follows, and errors are shown, not raised.
        Returns False when nothing was started."""
        if self.store is None or not paths or self._importing:
            return False
        self._importing = True
        self._update_buttons()
        files = ", ".join(Path(p).name for p in paths)
        self.status.setText(f"Importing {files}…")
        self.setCursor(Qt.CursorShape.BusyCursor)
        second = paths[1] if len(paths) > 1 else None

        def work() -> None:
            try:
                entry = self.store.import_files(paths[0], second, name=name or None, tool=tool or None)
            except Exception as exc:  # reported on the GUI thread
                self._relayImport.emit(False, f"Could not import {files}: {exc}", name)
            else:
                # community models land under the tool of their detected purpose (upscale, ...)
                where = f" for the {entry.tool!r} tool" if isinstance(getattr(entry, "tool", None), str) else ""
                self._relayImport.emit(True, f"Imported {files} as {name or 'a new model'}{where}.", name)

        threading.Thread(target=work, name="ganpaint-model-import", daemon=True).start()
        return True

    def _import_done(self, ok: bool, message: str, name: str) -> None:
        if not isValid(self):
            return
        self._importing = False
        self.unsetCursor()
        self.refresh()
        if ok:
            self.select_name(name)
            self.status.setText(message)
            self.storeChanged.emit()
        else:
            show_error(self, "Import Model", message)
        self.importFinished.emit(ok, message)

    def get_models(self) -> None:
        """Get models…: the catalogue (ganpaint.qt.dialogs.get_models); the list is refreshed after."""
        from ganpaint.qt.dialogs.get_models import show_get_models

        dlg = show_get_models(self.parentWidget() or self, store=self.store)
        self.refresh()
        if getattr(dlg, "imported", None):
            self.storeChanged.emit()

    def remove_selected(self, confirm: bool = True) -> bool:
        entry = self.selected_entry()
        if entry is None or self.store is None or _is_read_only(entry):
            return False
        name = entry_field(entry, "name")
        if confirm:
            answer = QMessageBox.question(
                self, "Remove Model", f"Remove the model “{name}” and its files from the store?"
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            self.store.remove(name)
        except Exception as exc:
            show_error(self, "Remove Model", f"Could not remove {name}: {exc}")
            return False
        self.refresh()
        self.storeChanged.emit()
        return True


def show_models(win: QWidget) -> None:
    """Models… for a main window with ``model_store`` (may be None) and ``tool_specs()``."""
    store = getattr(win, "model_store", None)
    specs = win.tool_specs() if hasattr(win, "tool_specs") else []
    dlg = ModelsDialog(store, [(s.id, s.title) for s in specs], win)
    panel = getattr(win, "tools_panel", None)
    if panel is not None:
        dlg.storeChanged.connect(panel.refresh_models)
    dlg.exec()
