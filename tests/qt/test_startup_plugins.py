"""The window opens while plugins load beside it (issue 12, point 2): a plugin whose import
hangs or crashes does not hold the window back, and once loading ends the status bar, the
Filters menu, the Tools panel and the Plugins dialog say what happened."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

HANG = "import time\ntime.sleep(1000)\n"
SEGV = "import ctypes\nctypes.string_at(0)\n"
ROOT = Path(__file__).resolve().parents[2]


def _plugins(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tp_st_hang.py").write_text(HANG)
    (folder / "tp_st_segv.py").write_text(SEGV)


def _filters_texts(win) -> list[str]:  # noqa: ANN001
    texts = []
    for act in win.filters_menu.actions():
        menu = act.menu()
        texts += [a.text() for a in menu.actions()] if menu is not None else [act.text()]
    return texts


def test_window_shows_at_once_and_names_plugins_that_hang_or_crash(qtbot, answers, monkeypatch):
    from ganpaint.core import paths
    from ganpaint.qt.app import create_window
    from ganpaint.qt.dialogs.plugins import PluginsDialog
    from ganpaint.qt.mainwindow import LOADING_PLUGINS

    limit = 4.0
    monkeypatch.setenv("GANPAINT_PLUGIN_TIMEOUT", str(limit))
    _plugins(paths.plugins_dir())
    start = time.monotonic()
    app, win = create_window(None, None, wait_for_plugins=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    shown = time.monotonic() - start
    try:
        pm = win.plugin_manager
        assert shown < 5.0 / 3, f"the window took {shown:.2f} s"  # the 5 s promise with a 3x margin
        assert not pm.is_loaded and win.plugins_loading()  # the hanging plugin is still being probed
        assert _filters_texts(win) == ["Loading plugins…"]
        assert win.statusBar().currentMessage() == LOADING_PLUGINS
        assert win.tools_panel.plugin_combo.placeholderText() == LOADING_PLUGINS

        got: list[bool] = []
        win.pluginsLoaded.connect(lambda: got.append(True))
        qtbot.waitUntil(lambda: not win.plugins_loading(), timeout=int(3 * (limit + 10) * 1000))
        assert got == [True] and pm.is_loaded
        message = win.statusBar().currentMessage()
        assert "tp_st_hang (not responding)" in message and "tp_st_segv (failed)" in message
        assert "--safe-mode" in message
        assert "Invert" in _filters_texts(win)
        assert "invert" in {win.tools_panel.plugin_combo.itemData(i)
                            for i in range(win.tools_panel.plugin_combo.count())}
        assert not {"tp_st_hang", "tp_st_segv"} & set(sys.modules)

        dialog = PluginsDialog(pm, win)
        qtbot.addWidget(dialog)
        rows = {dialog.table.item(r, 1).text(): dialog.table.item(r, 4).text()
                for r in range(dialog.table.rowCount())}
        assert rows["tp_st_hang"] == "Not responding" and rows["tp_st_segv"] == "Failed"
        dialog.close()
    finally:
        win.controller.document.history.mark_clean()
        win.close()


def test_create_window_waits_for_plugins_by_default(qtbot, answers):
    from ganpaint.qt.app import create_window

    app, win = create_window(None, None)
    qtbot.addWidget(win)
    try:
        assert not win.plugins_loading() and win.plugin_manager.is_loaded
        assert "invert" in {s.id for s in win.tool_specs()}
        assert "Invert" in _filters_texts(win)
        # the plugins' default models reach the store once loaded
        assert win.model_store is not None and win.model_store.defaults == tuple(win.plugin_manager.models())
    finally:
        win.controller.document.history.mark_clean()
        win.close()


@pytest.mark.slow  # a fresh interpreter starting the editor: a few seconds on a loaded machine
def test_editor_process_shows_its_window_within_5_s_of_starting(tmp_path):
    """From process start (interpreter, Qt, the window) with a plugin whose import hangs at
    the default 10 s limit: the window is up well before the probe gives up on it."""
    _plugins(tmp_path / "plugins")
    code = (
        "import sys, time\n"
        "from ganpaint.smoke import _since_process_start\n"
        "from ganpaint.qt.app import create_window\n"
        "app, win = create_window(None, None, wait_for_plugins=False)\n"
        "win.show(); app.processEvents()\n"
        "print('SHOWN', round(_since_process_start(), 3), win.plugins_loading(), flush=True)\n"
        "win.controller.document.history.mark_clean(); win.close()\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "GANPAINT_DATA_DIR": str(tmp_path)}
    env.pop("GANPAINT_PLUGIN_TIMEOUT", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=env, cwd=str(ROOT))
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("SHOWN")), "")
    assert line, out.stderr[-2000:]
    _, seconds, loading = line.split()
    assert float(seconds) < 5.0, line
    assert loading == "True"  # shown while the hanging plugin was still being probed


def test_closing_the_editor_while_plugins_load_ends_it(qtbot, answers, monkeypatch):
    """run_gui returns when the window is closed before loading ends; the Welcome window that
    waits for the plugins does not pop up afterwards (it would keep the application running)."""
    import argparse
    import threading

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ganpaint.core import paths
    from ganpaint.qt.app import run_gui
    from ganpaint.qt.mainwindow import MainWindow

    monkeypatch.setenv("GANPAINT_PLUGIN_TIMEOUT", "2")
    _plugins(paths.plugins_dir())
    seen: dict = {}

    def close_at_once():
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not wins:
            QTimer.singleShot(20, close_at_once)
            return
        seen["pm"] = wins[-1].plugin_manager
        seen["loading"] = wins[-1].plugins_loading()
        wins[-1].controller.document.history.mark_clean()
        wins[-1].close()

    QTimer.singleShot(0, close_at_once)
    timer = threading.Timer(60, lambda: QApplication.instance().quit())  # a hang fails, not blocks
    timer.start()
    start = time.monotonic()
    try:
        rc = run_gui(None, argparse.Namespace(safe_mode=False, device="cpu", debug=False))
    finally:
        timer.cancel()
    assert rc == 0 and time.monotonic() - start < 30
    assert seen["loading"]
    assert seen["pm"].wait_loaded(60)
    qtbot.wait(300)  # the loader's signal arrives: no Welcome window shows up for a closed editor
    from ganpaint.qt.dialogs.welcome import WelcomeDialog

    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, WelcomeDialog) and w.isVisible()]
