"""The Plugins dialog: every plugin the host saw, what it contributes, and what went wrong.

``PluginsDialog(manager, parent=None)``: ``manager`` is a ganpaint.plugins PluginManager
(``records()``, ``set_enabled(name, enabled)``, ``changed`` signal). Ticking a plugin's
box calls ``set_enabled``, which the manager remembers in the user's settings.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from ganpaint.qt.icons import icon

COLUMNS = ("Enabled", "Name", "Version", "Tools", "Status", "Error")
_STATUS_TEXT = {
    "loaded": "Loaded",
    "failed": "Failed",
    "disabled": "Disabled",
    "incompatible": "Incompatible",
}


class PluginsDialog(QDialog):
    """Table of PluginRecords with an enable box per plugin and the selected plugin's details.

    Signal ``enabledChanged(str, bool)`` after a successful ``set_enabled``.
    """

    enabledChanged = Signal(str, bool)

    def __init__(self, manager: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.setWindowTitle("Plugins")
        self.setWindowIcon(icon("plugin"))
        self.resize(820, 480)
        self._records: list[Any] = []

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.currentCellChanged.connect(lambda *_: self._show_details())

        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Select a plugin to see where it comes from and any error in full.")

        note = QLabel(
            "Unticking a plugin removes its tools now and keeps it off at every start; "
            "restart GANPaint to unload its code completely (and after re-enabling a plugin "
            "that failed)."
        )
        note.setWordWrap(True)
        note.setProperty("role", "hint")

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)

        lay = QVBoxLayout(self)
        lay.addWidget(split, 1)
        lay.addWidget(note)
        lay.addWidget(buttons)
        changed = getattr(manager, "changed", None)
        if changed is not None:
            changed.connect(self.refresh)
        self.finished.connect(self._disconnect)
        self.refresh()

    def _disconnect(self, *_: Any) -> None:
        changed = getattr(self.manager, "changed", None)
        if changed is not None:
            changed.disconnect(self.refresh, missing_ok=True)

    # ------------------------------------------------------------------ table

    def refresh(self) -> None:
        """Re-read the manager's records (keeps the selected row)."""
        if not isValid(self):
            return
        current = self.table.currentRow()
        try:
            self._records = list(self.manager.records())
        except Exception as exc:  # never let the dialog die with the host
            self._records = []
            self.details.setPlainText(f"The plugin host could not list plugins: {exc}")
        with QSignalBlocker(self.table):
            self.table.setRowCount(len(self._records))
            for row, rec in enumerate(self._records):
                self._fill_row(row, rec)
        if self._records:
            self.table.selectRow(min(max(current, 0), len(self._records) - 1))
        self._show_details()

    def _fill_row(self, row: int, rec: Any) -> None:
        status = str(getattr(rec, "status", ""))
        enabled_item = QTableWidgetItem()
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if "#" not in rec.name:  # a duplicate name cannot be switched separately
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        enabled_item.setFlags(flags)
        enabled_item.setCheckState(Qt.CheckState.Unchecked if status == "disabled" else Qt.CheckState.Checked)
        enabled_item.setData(Qt.ItemDataRole.UserRole, rec.name)
        self.table.setItem(row, 0, enabled_item)
        name = rec.name + ("  (built-in)" if getattr(rec, "builtin", False) else "")
        tools = ", ".join(getattr(rec, "tools", []) or []) or "—"
        error = str(getattr(rec, "error", "") or "")
        cells = (name, str(getattr(rec, "version", "") or ""), tools, _STATUS_TEXT.get(status, status), error)
        for col, text in enumerate(cells, start=1):
            item = QTableWidgetItem(text)
            item.setToolTip(text if col != 1 else str(getattr(rec, "location", "") or rec.name))
            if col == 4 and status in ("failed", "incompatible"):
                item.setIcon(icon("error"))
            elif col == 4 and error:
                item.setIcon(icon("warning"))
            self.table.setItem(row, col, item)

    def record_at(self, row: int) -> Any:
        return self._records[row] if 0 <= row < len(self._records) else None

    def _show_details(self) -> None:
        rec = self.record_at(self.table.currentRow())
        if rec is None:
            return
        lines = [
            f"Plugin: {rec.name}",
            f"Version: {getattr(rec, 'version', '') or 'unknown'}",
            f"Status: {_STATUS_TEXT.get(rec.status, rec.status)}",
            f"Source: {getattr(rec, 'source', '')}"
            + (f" ({rec.dist})" if getattr(rec, "dist", "") else ""),
            f"Location: {getattr(rec, 'location', '') or '—'}",
            f"Tools: {', '.join(getattr(rec, 'tools', []) or []) or '—'}",
            f"Models: {', '.join(getattr(rec, 'models', []) or []) or '—'}",
            f"Recipes: {', '.join(getattr(rec, 'recipes', []) or []) or '—'}",
        ]
        if getattr(rec, "error", ""):
            lines += ["", "Error:", rec.error]
        if getattr(rec, "traceback", ""):
            lines += ["", "Details:", rec.traceback]
        self.details.setPlainText("\n".join(lines))

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 0:
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        enabled = item.checkState() == Qt.CheckState.Checked
        try:
            self.manager.set_enabled(name, enabled)
        except Exception as exc:
            from ganpaint.qt.dialogs.errors import show_error

            show_error(self, "Plugins", f"Could not {'enable' if enabled else 'disable'} {name}: {exc}")
        else:
            self.enabledChanged.emit(name, enabled)
        self.refresh()


def show_plugins(win: QWidget) -> None:
    """Edit → Plugins… for a main window with a ``plugin_manager``."""
    manager = getattr(win, "plugin_manager", None)
    if manager is None:
        from ganpaint.qt.dialogs.errors import show_error

        show_error(win, "Plugins", "The plugin host is not running (GANPaint was started without plugins).")
        return
    PluginsDialog(manager, win).exec()
