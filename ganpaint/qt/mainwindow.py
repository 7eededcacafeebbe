"""The main window: canvas in the middle, panels docked around, menus and shortcuts.

It owns the job queue's Qt bridge and the tool runner, autosaves to the recovery
folder, remembers its layout and recent files (an ini file in the config folder), and
asks before a modified document would be lost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QWidget

from ganpaint.core.paths import config_dir
from ganpaint.core.specs import ToolError, ToolSpec
from ganpaint.engine.jobs import JobQueue
from ganpaint.qt.bridge import JobBridge
from ganpaint.qt.canvas import Canvas
from ganpaint.qt.document_controller import (
    CANVAS_TOOLS,
    DocumentController,
    load_editor_state,
    remember_editor_state,
)
from ganpaint.qt.file_actions import FileActions
from ganpaint.qt.menus import build_menus
from ganpaint.qt.tool_runner import ToolRunner

log = logging.getLogger(__name__)
MAX_RECENT = 10
AUTOSAVE_MS = 60_000
#: what the status bar, the Filters menu and the Tools panel say while plugins load
LOADING_PLUGINS = "Loading plugins…"
#: The Tools dock's width when there is no saved layout: every slider of the built-in tools
#: and of the brush gets at least sliders.MIN_SLIDER_WIDTH pixels (tests/qt/
#: test_panel_readability.py). The narrowest it may be dragged still leaves a tool panel's
#: sliders that much, and lets the window shrink to 700 pixels.
TOOLS_DOCK_WIDTH = 340
TOOLS_DOCK_MIN_WIDTH = 296
#: autosave waits for a pause of this long in the changes (each change restarts the wait) ...
AUTOSAVE_QUIET_MS = 2_500
#: ... but the first autosave after opening or creating a document waits at most this long
#: for such a pause (continuous painting still gets saved), later ones at most the interval
AUTOSAVE_FIRST_MAX_MS = 8_000


def window_settings() -> QSettings:
    """Window layout and recent files, in the config folder (GANPAINT_DATA_DIR moves it)."""
    return QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    """The editor window. ``action_map`` maps a name ("open", "undo", ...) to its QAction."""

    #: plugins finished loading in the background (``start_plugin_loading``); tools are listed
    pluginsLoaded = Signal()

    def __init__(
        self,
        controller: DocumentController | None = None,
        *,
        plugin_manager: Any = None,
        queue: JobQueue | None = None,
        recovery: Any = None,
        model_store: Any = None,
        settings: Any = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setAcceptDrops(True)
        fresh = controller is None
        self.controller = controller or DocumentController(parent=self)
        self.plugin_manager = plugin_manager
        self.model_store = model_store
        self._own_queue = queue is None
        self.queue = queue if queue is not None else JobQueue()
        self.bridge = JobBridge(self.queue, self)
        self.runner = ToolRunner(self.controller, self.bridge, self)
        self.runner.toolFailed.connect(self._on_tool_failed)
        self.files = FileActions(self, self.controller)
        self.files.on_saved = self._after_save  # also when a background save ends
        self.files.on_opened = self.add_recent
        self.files.confirm_replace = self.maybe_save  # the document changed while a file was read
        self.recovery = recovery
        self.settings = window_settings()
        autosave_ms = AUTOSAVE_MS
        self._history_limit_mb: float | None = None
        #: the one Settings object of this run (shared with the plugin manager, so a
        #: save from here never overwrites what the Plugins dialog remembered)
        self._app_settings: Any = settings
        if settings is None:
            try:
                from ganpaint.core.settings import Settings

                self._app_settings = Settings.load()
            except Exception as exc:  # noqa: BLE001 - defaults then
                log.info("settings not read: %s", exc)
        prefs = self._app_settings
        if prefs is not None:
            autosave_ms = int(prefs.autosave_interval_s) * 1000
            self._history_limit_mb = float(prefs.history_limit_mb)
        self.action_map: dict[str, QAction] = {}
        self.docks: dict[str, QDockWidget] = {}
        self.tool_actions: dict[str, QAction] = {}
        self.tools_panel: Any = None
        #: plugins are being loaded in a background thread (start_plugin_loading)
        self._plugins_pending = False
        self._plugin_loader: Any = None
        #: start-up notes (settings problems) repeated when the plugins have loaded
        self.startup_notes: list[str] = []

        # the brush and canvas tool of the last session (remember_editor_state keeps them)
        self.controller.restore_editor_state(load_editor_state(self.settings))
        self.canvas = Canvas(self.controller, self)
        from ganpaint.qt.canvas_view import CanvasView

        self.canvas_view = CanvasView(self.canvas, self)
        self.setCentralWidget(self.canvas_view)
        self._build_status_bar()
        self._build_docks()
        build_menus(self)
        from ganpaint.qt.fill_preview import FillPreview

        self.fill_preview = FillPreview(self)  # Inpaint's live low-resolution preview
        # hold \ for before/after wherever the focus is in the window (not only on the canvas)
        self.action_map["compare"] = self.canvas.add_compare_action(self)
        remember_editor_state(self.settings, self.controller, self.tools_panel)
        self._restore_layout()

        self._init_autosave(autosave_ms)
        c = self.controller
        c.path_changed.connect(lambda _p: self._update_title())
        c.modified_changed.connect(lambda _m: self._update_title())
        c.document_replaced.connect(self._on_document_replaced)
        c.status_message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        c.tool_changed.connect(self._on_tool_changed)
        self._on_document_replaced(c.document)
        if fresh:
            self.new_document_silent()

    # ------------------------------------------------------------------ building
    def add_action(
        self, name: str, text: str, slot: Callable[[], Any] | None = None, shortcut: Any = None,
        *, checkable: bool = False, tip: str = "",
    ) -> QAction:
        act = QAction(text, self)
        act.setObjectName(f"action_{name}")
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                act.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                act.setShortcut(QKeySequence(shortcut))
        act.setCheckable(checkable)
        if tip:
            act.setStatusTip(tip)
        if slot is not None:
            act.triggered.connect(lambda _checked=False, f=slot: f())
        self.addAction(act)  # shortcuts work even when a menu is hidden
        self.action_map[name] = act
        return act

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self._pos_label = QLabel("")
        self._zoom_label = QLabel("")
        self._size_label = QLabel("")
        for w in (self.files.io.indicator, self._pos_label, self._size_label, self._zoom_label):
            sb.addPermanentWidget(w)
        self.canvas.zoom_changed.connect(lambda z: self._zoom_label.setText(f"{z * 100:.0f} %"))
        self.canvas.cursor_moved.connect(lambda x, y: self._pos_label.setText(f"{x}, {y}"))

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def _build_docks(self) -> None:
        right, left = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.LeftDockWidgetArea
        for name, title, area, make in (
            ("tools", "Tools", left, self._make_tools_panel),
            ("layers", "Layers", right, self._make_layers_panel),
            ("history", "History", right, self._make_history_panel),
            ("jobs", "Jobs", right, self._make_jobs_panel),
        ):
            try:
                widget = make()
            except Exception as exc:  # noqa: BLE001 - a broken panel must not stop the editor
                log.exception("the %s panel failed to build", name)
                widget = QLabel(f"The {title} panel failed: {exc}")
                widget.setWordWrap(True)
            self._dock(name, title, widget, area)
        if "history" in self.docks and "jobs" in self.docks:
            self.tabifyDockWidget(self.docks["history"], self.docks["jobs"])
            self.docks["history"].raise_()
        self.docks["tools"].setMinimumWidth(TOOLS_DOCK_MIN_WIDTH)

    def _make_layers_panel(self) -> QWidget:
        from ganpaint.qt.panels.layers import LayersPanel

        panel = LayersPanel(self.controller.document)
        self.controller.document_replaced.connect(panel.set_document)
        panel.errorOccurred.connect(lambda text: self.statusBar().showMessage(text, 6000))
        return panel

    def _make_history_panel(self) -> QWidget:
        from ganpaint.qt.panels.history import HistoryPanel

        panel = HistoryPanel(self.controller.document)
        self.controller.document_replaced.connect(panel.set_document)
        return panel

    def _make_jobs_panel(self) -> QWidget:
        from ganpaint.qt.panels.jobs import JobsPanel

        return JobsPanel(self.bridge)

    def _make_tools_panel(self) -> QWidget:
        from ganpaint.qt.panels.tools import ToolsPanel

        c = self.controller
        from ganpaint.qt.hidden_params import host_hidden_params

        panel = ToolsPanel(c.document, self.list_models if self.model_store is not None else None,
                           jobs=self.bridge, hidden_params=host_hidden_params(self.plugin_manager, self.model_store))
        self.tools_panel = panel
        panel.set_plugin_tools(self.tool_specs())
        b = c.brush
        panel.set_brush(size=int(round(b.size)), hardness=b.hardness, opacity=b.opacity, color=b.color)
        panel.set_tool(c.tool)
        # two-way sync; each side ignores a value it already has, so no loop
        panel.toolChanged.connect(c.set_tool)
        panel.brushChanged.connect(
            lambda nb: c.set_brush(size=nb.size, hardness=nb.hardness, opacity=nb.opacity, color=nb.color))
        c.tool_changed.connect(panel.set_tool)
        c.brush_changed.connect(
            lambda nb: panel.set_brush(size=int(round(nb.size)), hardness=nb.hardness, opacity=nb.opacity,
                                       color=tuple(nb.color)))
        c.document_replaced.connect(panel.set_document)
        panel.runRequested.connect(self._run_from_panel)
        panel.liveChanged.connect(self._on_live_changed)
        pm = self.plugin_manager
        if pm is not None and hasattr(pm, "changed"):
            pm.changed.connect(self._plugins_changed)
        return panel

    def list_models(self, tool_id: str) -> list[tuple[str, str]]:
        """(name, title) of the store's models for a tool (the parameter panel's model lists)."""
        if self.model_store is None:
            return []
        try:
            entries = self.model_store.list(tool_id)
        except Exception as exc:  # noqa: BLE001 - a broken store lists nothing
            log.warning("cannot list models for %s: %s", tool_id, exc)
            return []
        return [(e.name, getattr(e.card, "title", "") or e.name) for e in entries]

    def apply_settings(self, new: Any) -> None:
        """Called by the Preferences dialog after it applied theme and undo limit."""
        self._history_limit_mb = float(new.history_limit_mb)
        self._autosave_interval_ms = int(new.autosave_interval_s) * 1000
        if self._autosave_interval_ms <= 0:
            self._autosave_timer.stop()
        elif self._autosave_dirty:
            self._schedule_autosave()
        self.canvas.update()

    # ------------------------------------------------------------------ plugins loading beside the window
    def plugins_loading(self) -> bool:
        """Plugins are still being loaded in the background: tool lists are empty for now."""
        return self._plugins_pending

    def start_plugin_loading(self, *, defer: bool = False) -> None:
        """Load the plugin manager's plugins in a background thread (ganpaint.qt.plugin_loading):
        menus and panels say "Loading plugins…" until ``pluginsLoaded``, then list the tools;
        the status bar names plugins that failed or did not respond. ``defer`` starts the
        thread in the event loop's first turn, once the window is up (scanning for entry
        points holds the GIL, and the probe process competes for the CPU)."""
        pm = self.plugin_manager
        if pm is None or self._plugin_loader is not None:
            return
        from ganpaint.qt.plugin_loading import PluginLoader

        self._plugins_pending = True
        self._plugin_loader = PluginLoader(pm, self)
        self._plugin_loader.finished.connect(self._on_plugins_loaded)
        self._plugins_changed()
        self.statusBar().showMessage(LOADING_PLUGINS)
        if defer:
            QTimer.singleShot(0, self._plugin_loader.start)
        else:
            self._plugin_loader.start()

    def wait_for_plugins(self, timeout: float = 120.0) -> bool:
        """Process events until background plugin loading has finished and the window shows
        its tools (tests, smoke test, screenshots); False on timeout."""
        from PySide6.QtWidgets import QApplication

        end = time.monotonic() + timeout
        while self._plugins_pending and time.monotonic() < end:
            QApplication.processEvents()
            pm = self.plugin_manager
            if pm is not None and hasattr(pm, "wait_loaded"):
                pm.wait_loaded(0.02)
            else:
                time.sleep(0.02)
        QApplication.processEvents()
        return not self._plugins_pending

    def _on_plugins_loaded(self) -> None:
        self._plugins_pending = False
        pm = self.plugin_manager
        if self.model_store is not None and pm is not None:
            try:
                self.model_store.defaults = tuple(pm.models())
            except Exception as exc:  # noqa: BLE001 - tools without models still run
                log.warning("plugin models not listed: %s", exc)
        if pm is not None and hasattr(pm, "changed"):
            pm.changed.emit()  # on this (the GUI) thread: panels, menus and dialogs refresh
        else:
            self._plugins_changed()
        message = ""
        if pm is not None:
            from ganpaint.plugins.report import startup_problems

            try:
                message = startup_problems(pm.records(), safe_mode=bool(getattr(pm, "safe_mode", False)))
            except Exception as exc:  # noqa: BLE001
                log.warning("plugin records not read: %s", exc)
        if self._plugin_loader is not None and self._plugin_loader.error:
            message = f"Plugins could not be loaded: {self._plugin_loader.error}"
        message = " ".join([*self.startup_notes, message]).strip()
        if message:
            self.statusBar().showMessage(message, 30000)
        elif self.statusBar().currentMessage() == LOADING_PLUGINS:
            self.statusBar().clearMessage()
        self.pluginsLoaded.emit()

    def _plugins_changed(self) -> None:
        from ganpaint.qt.menus import rebuild_filters_menu

        panel = getattr(self, "tools_panel", None)
        combo = getattr(panel, "plugin_combo", None)
        if combo is not None:
            combo.setPlaceholderText(LOADING_PLUGINS if self._plugins_pending else "")

        if getattr(self, "tools_panel", None) is not None:
            self.tools_panel.set_plugin_tools(self.tool_specs())
        if hasattr(self, "filters_menu"):
            rebuild_filters_menu(self)

    # ------------------------------------------------------------------ state
    def _on_document_replaced(self, doc: Any) -> None:
        old_key = getattr(self, "_current_key", None)
        self._autosave_wait()  # a write still running must not re-create the old slot
        if old_key is not None and self.recovery is not None:
            try:
                self.recovery.discard(old_key)
            except Exception as exc:  # noqa: BLE001
                log.warning("could not remove the recovery file: %s", exc)
        self._current_key = self._doc_key()
        limit = getattr(self, "_history_limit_mb", None)
        if limit:
            doc.history.limit_mb = float(limit)
        doc.events.history_changed.connect(self._mark_autosave)
        doc.events.active_changed.connect(lambda *_: self._show_result_params(switch_tool=True))
        doc.events.history_changed.connect(lambda *_: self._show_result_params(switch_tool=False))
        doc.events.size_changed.connect(lambda *_: self._update_size_label())
        self._update_title()
        self._update_size_label()
        self._autosave_reset()

    def _update_size_label(self) -> None:
        d = self.controller.document
        self._size_label.setText(f"{d.width} x {d.height}")

    def _update_title(self) -> None:
        star = "*" if self.controller.modified else ""
        self.setWindowTitle(f"{self.controller.display_name()}{star} - GANPaint")

    def _on_tool_changed(self, tool_id: str) -> None:
        act = self.tool_actions.get(tool_id)
        if act is not None:
            act.setChecked(True)

    # ------------------------------------------------------------------ files
    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path = self.files.ask_open()
        if path:
            self.open_path(path)

    def open_path(self, path: str) -> bool:
        """Open a file (a large one is read in the background: True = being opened)."""
        return self.files.open_path(str(path))

    def save(self) -> bool:
        """Save (a large document from a snapshot, in the background: True = started)."""
        return self.files.save()

    def save_as(self) -> bool:
        return self.files.save_as()

    def _after_save(self, path: str) -> None:
        """A save ended well (FileActions.on_saved): recent files, recovery slot, plugins."""
        self.add_recent(path)
        self._discard_recovery()
        if self.controller.modified:  # changed while a background save wrote the snapshot
            self._mark_autosave()
        if self.plugin_manager is not None:
            for err in self.plugin_manager.document_saved(path):  # never raises; failures listed
                log.warning("%s", err)

    def new_document(self, width: int = 1024, height: int = 768) -> None:
        if not self.maybe_save():
            return
        self.new_document_silent(width, height)

    def new_document_silent(self, width: int = 1024, height: int = 768) -> None:
        """A white canvas with one layer, replacing the current document without asking."""
        from ganpaint.qt.document_controller import blank_document

        # built with an empty, clean history: a new picture is not "modified" until edited
        self.controller.set_document(blank_document(width, height), None)

    @property
    def app_settings(self) -> Any:
        """The application's Settings (None only if the settings module failed)."""
        return self._app_settings

    @app_settings.setter
    def app_settings(self, new: Any) -> None:
        # The Preferences dialog hands back an edited copy: copy its fields into the
        # object the plugin manager also holds instead of replacing it.
        cur = self._app_settings
        if cur is None or new is None or new is cur:
            self._app_settings = new if cur is None else cur
            return
        import dataclasses

        for f in dataclasses.fields(cur):
            if f.name not in ("disabled_plugins", "notes"):  # the Plugins dialog owns that list
                setattr(cur, f.name, getattr(new, f.name))

    def save_app_settings(self) -> None:
        s = self._app_settings
        if s is None:
            return
        try:
            s.save()
        except Exception as exc:  # noqa: BLE001 - a read-only config folder must not stop the editor
            log.warning("settings not saved: %s", exc)

    def recent_files(self) -> list[str]:
        """Most recent first (kept in settings.json, shared with the command line)."""
        s = self._app_settings
        return list(s.recent_files) if s is not None else []

    def add_recent(self, path: str) -> None:
        s = self._app_settings
        if s is None:
            return
        s.add_recent(path)
        self.save_app_settings()
        rebuild = getattr(self, "_rebuild_recent_menu", None)
        if rebuild:
            rebuild()

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current document (saved, discarded, or clean)."""
        if not self.controller.modified:
            return True
        B = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self, "Save changes?",
            f"{self.controller.display_name()} has unsaved changes. Save them first?",
            B.Save | B.Discard | B.Cancel, B.Save,
        )
        if answer == B.Save:
            return self.save() and self.files.wait() and not self.controller.modified
        return answer == B.Discard

    # ------------------------------------------------------------------ autosave
    # The first change after opening or creating a document is saved to the recovery folder
    # as soon as the changes pause for AUTOSAVE_QUIET_MS (at most AUTOSAVE_FIRST_MAX_MS after
    # it); later changes at most one interval after they were made, and no more often than
    # once per interval. The document is snapshotted on the GUI thread (ora.snapshot,
    # copy-on-write: O(layers), no pixels copied) and written by a worker thread (seconds for a big document), so
    # painting goes on meanwhile. A kill at any moment loses at most one interval of work.
    def _init_autosave(self, interval_ms: int) -> None:
        self._autosave_interval_ms = int(interval_ms)
        self._autosave_quiet_ms = AUTOSAVE_QUIET_MS
        self._autosave_first_max_ms = AUTOSAVE_FIRST_MAX_MS
        self._autosave_dirty = False
        #: monotonic time of the oldest change not yet autosaved / of the last autosave
        #: (None: none since this document was opened, created or saved)
        self._autosave_first_change: float | None = None
        self._autosave_last: float | None = None
        self._autosave_timer = QTimer(self)
        self._autosave_timer.setSingleShot(True)
        self._autosave_timer.timeout.connect(self._autosave_due)
        self._autosave_executor: Any = None  # one worker thread, made on the first write
        self._autosave_future: Any = None  # the write in flight
        self._autosave_poll = QTimer(self)  # checks the write in flight (no Qt call from the worker)
        self._autosave_poll.setInterval(100)
        self._autosave_poll.timeout.connect(self._autosave_check_done)

    def _autosave_reset(self) -> None:
        """A new document in the window: nothing to save yet; its first change is saved soon."""
        if not hasattr(self, "_autosave_timer"):
            return
        self._autosave_timer.stop()
        self._autosave_dirty = False
        self._autosave_first_change = None
        self._autosave_last = None

    def _mark_autosave(self, *args: object) -> None:
        if not hasattr(self, "_autosave_timer"):
            return
        if not self._autosave_dirty:
            self._autosave_dirty = True
            self._autosave_first_change = time.monotonic()
        self._schedule_autosave()

    def _schedule_autosave(self) -> None:
        """(Re)start the autosave timer for the pending changes (a debounce with a maximum wait)."""
        interval = self._autosave_interval_ms
        if interval <= 0 or self.recovery is None or not self._autosave_dirty:
            return
        now = time.monotonic()
        first = self._autosave_first_change if self._autosave_first_change is not None else now
        if self._autosave_last is None:
            latest = first + min(self._autosave_first_max_ms, interval) / 1000
            earliest = now
        else:
            latest = first + interval / 1000
            earliest = self._autosave_last + interval / 1000  # <= latest: the last save was before `first`
        due = max(earliest, min(now + self._autosave_quiet_ms / 1000, latest))
        self._autosave_timer.start(max(0, int(round((due - now) * 1000))))

    def _autosave_due(self) -> None:
        if self._autosave_future is not None:
            return  # a write is running; its end schedules the next one
        self._autosave_start(background=True)

    def _doc_key(self) -> str:
        # one recovery slot per document object shown in this window
        return f"doc-{id(self.controller.document):x}"

    def _autosave_start(self, *, background: bool) -> bool:
        if not self._autosave_dirty or self.recovery is None or not self.controller.modified:
            if not self.controller.modified:  # back at the saved state: nothing to protect
                self._autosave_dirty = False
                self._autosave_first_change = None
            return False
        from ganpaint.core.ora import snapshot

        key, title = self._doc_key(), self.controller.display_name()
        try:
            snap = snapshot(self.controller.document)
        except Exception as exc:  # noqa: BLE001 - autosave must never disturb the user
            self._autosave_failed(exc)
            return False
        self._autosave_dirty = False
        self._autosave_first_change = None
        self._autosave_last = time.monotonic()
        if background:
            if self._autosave_executor is None:
                from concurrent.futures import ThreadPoolExecutor

                self._autosave_executor = ThreadPoolExecutor(1, thread_name_prefix="ganpaint-autosave")
            self._autosave_future = self._autosave_executor.submit(self.recovery.save, snap, key, title=title)
            self._autosave_poll.start()
            return True
        try:
            self.recovery.save(snap, key, title=title)
        except Exception as exc:  # noqa: BLE001
            self._autosave_failed(exc)
            return False
        return True

    def _autosave_failed(self, exc: BaseException) -> None:
        log.warning("autosave failed: %s", exc)
        self.statusBar().showMessage(f"Autosave failed: {exc}", 6000)
        if not self._autosave_dirty:  # try again within an interval
            self._autosave_dirty = True
            self._autosave_first_change = time.monotonic()

    def _autosave_check_done(self) -> None:
        fut = self._autosave_future
        if fut is not None and not fut.done():
            return
        self._autosave_finish()
        self._schedule_autosave()  # changes made while it was writing

    def _autosave_finish(self) -> bool:
        """Collect the write in flight (waiting for it); False if it failed."""
        fut, self._autosave_future = self._autosave_future, None
        self._autosave_poll.stop()
        if fut is None:
            return True
        try:
            fut.result()
        except Exception as exc:  # noqa: BLE001
            self._autosave_failed(exc)
            return False
        return True

    def _autosave_wait(self) -> None:
        """Wait for a write in flight (before its slot is discarded or the window closes)."""
        if getattr(self, "_autosave_future", None) is not None:
            self._autosave_finish()

    def autosave(self) -> bool:
        """Write the document to the recovery folder now if it changed since the last autosave
        (on this thread; the timer's autosaves write in a worker thread)."""
        self._autosave_wait()
        return self._autosave_start(background=False)

    def _discard_recovery(self) -> None:
        self._autosave_wait()
        if self.recovery is not None:
            try:
                self.recovery.discard(self._doc_key())
            except Exception as exc:  # noqa: BLE001
                log.warning("could not remove the recovery file: %s", exc)
        if hasattr(self, "_autosave_timer"):  # saved or closed: the next change is a first change
            self._autosave_timer.stop()
            self._autosave_dirty = False
            self._autosave_first_change = None
            self._autosave_last = None

    # ------------------------------------------------------------------ plugin tools
    def tool_specs(self) -> list[ToolSpec]:
        pm = self.plugin_manager
        if pm is None:
            return []
        try:
            tools = pm.tools()
        except Exception as exc:  # noqa: BLE001
            log.warning("plugin manager failed to list tools: %s", exc)
            return []
        return list(tools.values()) if isinstance(tools, dict) else list(tools)

    def run_tool(self, spec: ToolSpec, params: dict[str, Any] | None = None,
                 role_layers: dict[Any, str] | None = None) -> str | None:
        """Queue a plugin tool on the current document; None (with a message) if it cannot run.

        Without ``params`` the Tools panel's values for the tool are used (its defaults at
        first), and the panel shows that tool so it can be tuned and run again."""
        panel = getattr(self, "tools_panel", None)
        if params is None and panel is not None:
            try:
                pp = panel.set_plugin_tool(spec.id)
                params, role_layers = pp.values(), pp.role_layers()
            except (KeyError, ValueError) as exc:
                log.warning("the tools panel gave no parameters for %s: %s", spec.id, exc)
        try:
            return self.runner.run(spec, params, role_layers)
        except (ToolError, ValueError) as exc:
            QMessageBox.warning(self, spec.title, str(exc))
            return None

    def _run_from_panel(self, tool_id: str, params: dict[str, Any], role_layers: dict[Any, str]) -> None:
        spec = next((s for s in self.tool_specs() if s.id == tool_id), None)
        if spec is None:
            QMessageBox.warning(self, "Tool", f"The tool {tool_id!r} is no longer available")
            return
        self.run_tool(spec, dict(params), dict(role_layers))

    def _show_result_params(self, *, switch_tool: bool) -> None:
        """The active layer is a tool's result: the Tools panel shows that tool with the
        layer's parameters (after an undo too), so moving a live slider re-runs it."""
        panel = getattr(self, "tools_panel", None)
        layer = self.controller.document.active_layer
        info = getattr(layer, "result", None)
        if panel is None or info is None:
            return
        if not switch_tool and panel.plugin_tool() != info.tool_id:
            return
        try:
            pp = panel.set_plugin_tool(info.tool_id) if switch_tool else panel.param_panel(info.tool_id)
            if pp is not None and pp.is_dragging():
                return  # never move a slider under the user's hand; the release re-runs anyway
            if pp is not None and pp.values() != dict(info.params):
                pp.set_values(dict(info.params), silent=True)
        except (KeyError, ValueError) as exc:  # the tool's plugin is not loaded, or old parameters
            log.info("cannot show the parameters of %s: %s", info.tool_id, exc)

    def _on_live_changed(self, tool_id: str, params: dict[str, Any], preview: bool = False) -> None:
        """A live parameter moved: when the active layer is this tool's result, re-run it
        (``preview``: a draft while the slider is held; the release sends the final values)."""
        layer = self.controller.document.active_layer
        info = getattr(layer, "result", None)
        if layer is None or info is None or info.tool_id != tool_id:
            return
        if dict(info.params) == dict(params) and not self.runner.is_dragging(layer.id):
            return  # already what the layer shows (the panel was just synced to it)
        spec = next((s for s in self.tool_specs() if s.id == tool_id), None)
        if spec is None:
            return
        try:
            self.runner.rerun(layer.id, spec, dict(params), preview=preview)
        except (ToolError, ValueError) as exc:
            self.statusBar().showMessage(str(exc), 6000)

    def _on_tool_failed(self, spec: ToolSpec, message: str, traceback: str) -> None:
        """A tool raised or returned something unusable: say which plugin, keep the document.

        A plugin fault (a traceback, or a message naming the plugin) is also noted on the
        plugin's record so the Plugins dialog shows it; a ToolError is the user's to fix
        (a missing selection, say) and is only shown."""
        plugin = spec.plugin or "?"
        plugin_fault = bool(traceback) or message.startswith(("plugin ", "tool "))
        if plugin_fault:
            pm = self.plugin_manager
            if pm is not None and spec.plugin and hasattr(pm, "note_error"):
                try:
                    pm.note_error(spec.plugin, f"{spec.title}: {message}", key=spec.id)
                except Exception as exc:  # noqa: BLE001 - reporting must not fail the report
                    log.warning("could not note the plugin error: %s", exc)
            text = (f"The plugin '{plugin}' failed while running {spec.title}.\n\n{message}\n\n"
                    "Nothing was changed. Edit > Plugins... lists the plugin's errors.")
        else:  # a ToolError: the tool's own sentence, in plain words
            from ganpaint.qt.dialogs.errors import tool_problem_text

            text = tool_problem_text(spec.title, spec.plugin, message)
        title = f"{spec.title} failed" if plugin_fault else f"{spec.title} could not run"
        self.statusBar().showMessage(f"{title}: {message}", 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("tool_failed_box")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        if traceback:
            box.setDetailedText(traceback)
        box.open()  # not modal to the event loop: the window keeps running

    # ------------------------------------------------------------------ layout, drops, close
    def _restore_layout(self) -> None:
        geo = self.settings.value("geometry")
        state = self.settings.value("state")
        if isinstance(geo, QByteArray) and not geo.isEmpty():
            self.restoreGeometry(geo)
        else:
            self.resize(1280, 820)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        else:
            self.resizeDocks([self.docks["tools"]], [TOOLS_DOCK_WIDTH], Qt.Orientation.Horizontal)

    def save_layout(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        self.settings.sync()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        # let the drag finish before a dialog may appear
        QTimer.singleShot(0, self, lambda p=paths[0]: self.maybe_save() and self.open_path(p))

    def end_session(self) -> None:
        """End without asking (SIGTERM/SIGHUP: nobody is there to answer): autosave what changed
        since the last autosave and keep it, so the next start offers it back, then close."""
        self._ending_session = True
        self.files.wait()
        self._autosave_wait()
        if self.controller.modified:
            self._autosave_dirty = True  # whatever the timer thought: the last state must be there
            self.autosave()
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        ending = getattr(self, "_ending_session", False)
        self.files.wait()  # a save in flight ends first (and marks the document saved)
        if not ending and not self.maybe_save():
            event.ignore()
            return
        self.save_layout()
        self._autosave_timer.stop()
        if not ending:
            self._discard_recovery()
        if self._autosave_executor is not None:
            self._autosave_executor.shutdown(wait=True)
            self._autosave_executor = None
        self.files.io.shutdown()
        if self.recovery is not None and not ending:
            try:
                self.recovery.clear_session()
            except Exception as exc:  # noqa: BLE001
                log.warning("could not clear the recovery folder: %s", exc)
        self.bridge.close()
        if self._own_queue:
            self.queue.shutdown(wait=False)
        event.accept()


def _white(width: int, height: int):  # -> np.ndarray
    import numpy as np

    return np.full((height, width, 4), 255, np.uint8)


__all__ = ["CANVAS_TOOLS", "MainWindow", "window_settings"]
