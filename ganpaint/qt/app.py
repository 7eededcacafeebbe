"""Starting the editor: QApplication, theme, plugins, the job engine, the window.

``run_gui(path, args)`` is what ``ganpaint [FILE]`` calls. ``create_window`` builds
everything without entering the event loop (tests, tools/screenshot.py, benchmarks).
Nothing here imports torch: the engine resolves the device lazily, on the first job.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

# The Qt-free stack the window needs is imported BEFORE PySide6: PySide6 installs an
# import hook that reads the source of every module imported after it (looking for
# ``__feature__``), which costs ~0.1 s CPU at start-up for these modules alone.
import ganpaint.core.document  # noqa: F401
import ganpaint.core.recovery  # noqa: F401
import ganpaint.engine.jobs  # noqa: F401
import ganpaint.plugins.manager  # noqa: F401

# isort: split
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

log = logging.getLogger(__name__)


def ensure_app() -> QApplication:
    """The QApplication (created once, high-DPI aware)."""
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        from ganpaint.qt.file_open import GANPaintApplication

        # opens the documents macOS sends as QFileOpenEvent (Finder, the Dock icon)
        app = GANPaintApplication(sys.argv[:1])
        app.setApplicationName("GANPaint")
        app.setOrganizationName("GANPaint")
        app.setApplicationDisplayName("GANPaint")
        from ganpaint.qt.binding_check import guard_against_leaking_binding

        guard_against_leaking_binding()
    return app  # type: ignore[return-value]


def _settings() -> Any:
    try:
        from ganpaint.core.settings import Settings

        return Settings.load()
    except Exception as exc:  # noqa: BLE001 - settings missing or unreadable: defaults
        log.info("settings not loaded: %s", exc)
        return None


def apply_saved_theme(app: QApplication, settings: Any) -> str:
    from ganpaint.qt.theme import apply_theme

    name = getattr(settings, "theme", None) or "light"
    try:
        return apply_theme(app, name)
    except ValueError:
        return apply_theme(app, "light")


def _device_resolver(args: Any, settings: Any):  # noqa: ANN202
    pref = getattr(args, "device", None) or getattr(settings, "device", None) or None

    def resolve() -> str:
        from ganpaint.engine.inference.devices import pick_device

        return pick_device(pref)

    return resolve


def create_window(path: str | None = None, args: Any = None, *, plugin_manager: Any = None,
                  queue: Any = None, recovery: Any = None, load_plugins: bool = True,
                  wait_for_plugins: bool = True):  # noqa: ANN201
    """Build the application objects and the (not yet shown) MainWindow.

    With ``load_plugins`` (and no ``plugin_manager``) the plugins load in a background
    thread beside the window (``MainWindow.start_plugin_loading``); ``wait_for_plugins``
    then waits for them before returning (tests, the smoke test, screenshots). The editor
    itself (``run_gui``) does not wait: the window shows at once and lists the tools when
    they are there."""
    app = ensure_app()
    settings = _settings()
    apply_saved_theme(app, settings)

    from ganpaint.qt.mainwindow import MainWindow

    pm = plugin_manager
    load_later = pm is None and load_plugins
    if load_later:
        pm = _plugin_manager(args, settings)
    store = _model_store(pm)
    if queue is None:
        from ganpaint.engine.jobs import JobQueue
        from ganpaint.engine.jobs.workers import WorkerPool, pool_settings

        # tools run in per-plugin worker processes (the queue shuts the pool down with itself)
        queue = JobQueue(device=_device_resolver(args, settings),
                         precision="fast" if getattr(settings, "precision", "full") == "fast" else "full",
                         model_resolver=store.path_for if store is not None else None,
                         pool=WorkerPool(settings=pool_settings(settings)))
    if recovery is None:
        recovery = _recovery_store()
    window = MainWindow(plugin_manager=pm, queue=queue, recovery=recovery, model_store=store, settings=settings)
    window._own_queue = True  # the window shuts the queue down when it closes
    notes = list(getattr(settings, "notes", []) or [])
    if pm is not None and not load_later:
        from ganpaint.plugins.report import startup_problems

        problems = startup_problems(pm.records(), safe_mode=bool(getattr(pm, "safe_mode", False)))
        if problems:
            notes.append(problems)
    if notes:
        window.statusBar().showMessage(" ".join(notes), 15000)
    if load_later and pm is not None:
        window.startup_notes = notes  # shown again with what the plugins have to say
        window.start_plugin_loading(defer=not wait_for_plugins)
        if wait_for_plugins:
            window.wait_for_plugins()
    if path:
        window.open_path(path)
    else:
        window.new_document_silent()
    return app, window


def _plugin_manager(args: Any, settings: Any = None) -> Any:
    """The plugin host, not loaded yet (the window loads it in the background)."""
    try:
        from ganpaint.plugins.manager import PluginManager

        # the app's own Settings object: the Plugins dialog's enable/disable updates it,
        # so the window's later saves (recent files, theme) keep the choice
        return PluginManager(safe_mode=bool(getattr(args, "safe_mode", False)), settings=settings)
    except Exception as exc:  # noqa: BLE001 - the editor runs without plugins
        log.exception("plugins could not be loaded: %s", exc)
        return None


def _model_store(pm: Any) -> Any:
    """The model store (user models + defaults shipped by plugins); None if unavailable."""
    try:
        from ganpaint.engine.models.store import ModelStore

        return ModelStore(defaults=pm.models() if pm is not None else ())
    except Exception as exc:  # noqa: BLE001 - tools without models still run
        log.warning("model store unavailable: %s", exc)
        return None


def _recovery_store() -> Any:
    try:
        from ganpaint.core.recovery import RecoveryStore

        return RecoveryStore()
    except Exception as exc:  # noqa: BLE001 - no autosave then, but the editor works
        log.info("recovery store unavailable: %s", exc)
        return None


def offer_recovery(window: Any) -> bool:
    """After a crash: offer the autosaved documents a previous run left behind."""
    store = window.recovery
    if store is None:
        return False
    try:
        entries = list(store.pending())
    except Exception as exc:  # noqa: BLE001
        log.warning("cannot list recovery files: %s", exc)
        return False
    if not entries:
        return False
    e = entries[0]
    B = QMessageBox.StandardButton
    more = f" (and {len(entries) - 1} older)" if len(entries) > 1 else ""
    answer = QMessageBox.question(
        window, "Recover unsaved work?",
        f"GANPaint did not close normally last time. An autosaved copy was found: {e.label}{more}.\n\n"
        "Open: recover it now. Discard: delete the autosaved copies. Ignore: decide next time.",
        B.Open | B.Discard | B.Ignore, B.Open,
    )
    if answer == B.Open:
        try:
            doc = store.restore(e)
        except Exception as exc:  # noqa: BLE001 - a damaged recovery file must not stop the start
            QMessageBox.warning(window, "Recovery failed", str(exc))
            return False
        original = doc.path
        is_ora = bool(original) and str(original).lower().endswith(".ora")
        window.controller.set_document(doc, original if is_ora else None, original)
        window.controller.status_message.emit(" ".join(getattr(doc, "notes", [])) or f"Recovered {e.title}")
        # keep a copy in this session's slot before dropping the old one
        window._autosave_dirty = True
        window.autosave()
        store.discard_entry(e)
        return True
    if answer == B.Discard:
        for entry in entries:
            try:
                store.discard_entry(entry)
            except Exception as exc:  # noqa: BLE001
                log.warning("cannot delete a recovery file: %s", exc)
    return False


def show_first_start(window: Any, path: str | None) -> None:
    """The very first start: the sample photo (when no file was given) and the Welcome window."""
    try:
        from ganpaint.qt.dialogs.welcome import first_start

        first_start(window, os.fspath(path) if path else None)
    except Exception as exc:  # noqa: BLE001 - a welcome must never stop the editor
        log.warning("the welcome window failed: %s", exc)


def run_gui(path: str | None, args: Any = None) -> int:
    """Open the editor (on ``path`` when given) and run until the window closes."""
    app, window = create_window(None, args, wait_for_plugins=False)
    window.show()

    def after_shown() -> None:
        # the window shows first; recovery and the picture come in the next turn of the loop
        if not offer_recovery(window) and path:
            window.open_path(os.fspath(path))
        # documents macOS sent as QFileOpenEvent so far open now, later ones at once
        from ganpaint.qt.file_open import attach_file_open

        sent = attach_file_open(app, window)
        first = path or (sent[0] if sent else None)
        # the Welcome window lists the GAN tools: it waits for the plugins (and is not
        # shown when the editor was closed meanwhile: it would keep the application running)
        if window.plugins_loading():
            window.pluginsLoaded.connect(lambda: window.isVisible() and show_first_start(window, first))
        else:
            show_first_start(window, first)

    QTimer.singleShot(0, after_shown)

    def on_quit_signal(_signum: int) -> None:
        window.end_session()
        app.quit()

    from ganpaint.qt.quit_signals import quit_on_signals

    with quit_on_signals(app, on_quit_signal):
        rc = app.exec()
    pm = window.plugin_manager
    if pm is not None:
        try:
            pm.shutdown()
        except Exception as exc:  # noqa: BLE001
            log.warning("plugin shutdown failed: %s", exc)
    return int(rc)
