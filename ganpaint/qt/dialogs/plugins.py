"""The Plugins dialog: every plugin the host saw, what it contributes, and what went wrong.

``PluginsDialog(manager, parent=None)``: ``manager`` is a ganpaint.plugins PluginManager
(``records()``, ``set_enabled(name, enabled)``, ``changed`` signal). Ticking a plugin's
box calls ``set_enabled``, which the manager remembers in the user's settings.

"Install from file..." installs (or updates) a wheel or single-file plugin into the user data
folder without pip (``ganpaint.plugins.install``) and loads it at once; "Uninstall" removes a
plugin installed that way. The Licence column reads each plugin's metadata (or its SPDX line).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from ganpaint.qt.icons import icon

COLUMNS = ("Enabled", "Name", "Version", "Tools", "Status", "Error", "Licence")
LICENCE_COLUMN = 6
INSTALL_FILTER = "Plugins (*.whl *.py);;Wheels (*.whl);;Single-file plugins (*.py)"
_STATUS_TEXT = {
    "loaded": "Loaded",
    "failed": "Failed",
    "disabled": "Disabled",
    "incompatible": "Incompatible",
    "not responding": "Not responding",
    "loading": "Loading…",
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
        self._installed: dict[str, Any] = {}  # plugin name -> InstalledPlugin (from a file)
        self._licences: dict[tuple[str, str], str] = {}

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)  # the error
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
        self.install_button = QPushButton("Install from file…")
        self.install_button.setToolTip(
            "Install or update a plugin from a wheel (.whl) or a single Python file (.py); "
            "no Python or pip needed. It goes into your GANPaint data folder."
        )
        self.install_button.clicked.connect(self.install_from_file)
        self.uninstall_button = QPushButton("Uninstall")
        self.uninstall_button.setToolTip("Remove the selected plugin (only plugins installed from a file)")
        self.uninstall_button.clicked.connect(self.uninstall_selected)
        buttons.addButton(self.install_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.uninstall_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        lay = QVBoxLayout(self)
        lay.addWidget(split, 1)
        lay.addWidget(note)
        lay.addWidget(self.status)
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
        self._installed = {}
        try:
            from ganpaint.plugins.install import installed_plugins

            for plugin in installed_plugins():
                for name in plugin.plugins:
                    self._installed[name] = plugin
        except Exception:  # noqa: BLE001 - an unreadable data folder: nothing to uninstall
            pass
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
            if col == 4 and status in ("failed", "incompatible", "not responding"):
                item.setIcon(icon("error"))
            elif col == 4 and error:
                item.setIcon(icon("warning"))
            self.table.setItem(row, col, item)
        licence = self.licence_of(rec)
        item = QTableWidgetItem(licence or "—")
        item.setToolTip(licence or "The plugin does not say")
        self.table.setItem(row, LICENCE_COLUMN, item)

    def licence_of(self, rec: Any) -> str:
        """The plugin's licence: an installed file's metadata, else its distribution's or file's."""
        installed = self._installed.get(rec.name)
        if installed is not None:
            return str(installed.licence)
        key = (str(getattr(rec, "dist", "") or ""), str(getattr(rec, "location", "") or ""))
        if key not in self._licences:
            from ganpaint.plugins.install import licence_of

            try:
                self._licences[key] = licence_of(*key)
            except Exception:  # noqa: BLE001 - shown only
                self._licences[key] = ""
        return self._licences[key]

    def installed_at(self, row: int) -> Any:
        """The InstalledPlugin behind a row (None for built-ins and plugins installed otherwise)."""
        rec = self.record_at(row)
        return None if rec is None else self._installed.get(rec.name)

    # ------------------------------------------------------------------ install / uninstall

    def install_from_file(self, path: str | None = None) -> bool:
        """Ask for a .whl or .py (unless ``path``), install or update it, and load it now.
        The outcome is written under the table; returns whether it installed."""
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Install Plugin", str(Path.home()), INSTALL_FILTER)
        if not path:
            return False
        from ganpaint.plugins.install import InstallError, activate, install

        try:
            result = install(path)
        except InstallError as exc:
            text = str(exc)
            self._say(f"Not installed: {text}" + ("" if text.endswith(".") else "."), error=True)
            return False
        except Exception as exc:  # noqa: BLE001 - never let the dialog die with the host
            self._say(f"Not installed: {type(exc).__name__}: {exc}", error=True)
            return False
        message = result.summary()
        try:
            loaded = activate(self.manager, result.plugin)
        except InstallError as exc:
            message += f" {exc}."
        else:
            if result.replaced is not None and not loaded:
                message += " Restart GANPaint to use the new version."
            elif loaded:
                tools = sorted({t for r in loaded for t in (getattr(r, "tools", []) or [])})
                message += f" Its tools are ready: {', '.join(tools)}." if tools else ""
        self._say(message)
        self.refresh()
        self._select(result.plugin.plugins[0] if result.plugin.plugins else "")
        return True

    def uninstall_selected(self, confirm: bool = True) -> bool:
        rec = self.record_at(self.table.currentRow())
        installed = self.installed_at(self.table.currentRow())
        if rec is None or installed is None:
            self._say("Only plugins installed from a file can be uninstalled here.", error=True)
            return False
        if confirm:
            answer = QMessageBox.question(
                self, "Uninstall Plugin",
                f"Remove {installed.name} {installed.version}".rstrip() + f" from {installed.path.parent}?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        from ganpaint.plugins.install import InstallError, deactivate, uninstall

        try:
            uninstall(installed.name)
        except (InstallError, OSError) as exc:
            self._say(f"Not uninstalled: {exc}", error=True)
            return False
        try:
            deactivate(self.manager, installed)
        except Exception:  # noqa: BLE001 - removed from disk: gone after a restart anyway
            pass
        self._say(f"Removed {installed.name}. Restart GANPaint to unload its code completely.")
        self.refresh()
        return True

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setProperty("role", "error" if error else "hint")

    def _select(self, name: str) -> None:
        for row, rec in enumerate(self._records):
            if rec.name == name:
                self.table.selectRow(row)
                return

    def record_at(self, row: int) -> Any:
        return self._records[row] if 0 <= row < len(self._records) else None

    def _show_details(self) -> None:
        rec = self.record_at(self.table.currentRow())
        self.uninstall_button.setEnabled(rec is not None and rec.name in self._installed)
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
        lines.append(f"Licence: {self.licence_of(rec) or 'not stated'}")
        installed = self._installed.get(rec.name)
        if installed is not None:
            lines.append(f"Installed from a file into: {installed.path.parent} (Uninstall removes it)")
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
