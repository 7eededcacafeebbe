"""The main window: title, shortcuts, menus, open/close safety, drops, clipboard, autosave."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox

from ganpaint.core.geometry import Rect


def _png(path, w=40, h=30, seed=0):
    rng = np.random.default_rng(seed)
    px = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    px[:, :, 3] = 255
    Image.fromarray(px, "RGBA").save(path)
    return px


def test_title_shows_file_name_and_modified_star(window, tmp_path):
    _png(tmp_path / "cat.png")
    assert window.open_path(str(tmp_path / "cat.png"))
    assert window.windowTitle().startswith("cat.png - ")
    assert "*" not in window.windowTitle()
    window.controller.document.select_all()
    assert window.windowTitle().startswith("cat.png* - ")
    window.controller.undo()
    assert "*" not in window.windowTitle()


def test_standard_shortcuts_exist(window):
    def keys(name):
        return [s.toString(QKeySequence.SequenceFormat.PortableText) for s in window.action_map[name].shortcuts()]

    assert "Ctrl+O" in keys("open")
    assert "Ctrl+S" in keys("save")
    assert "Ctrl+Shift+S" in keys("save_as")
    assert "Ctrl+Z" in keys("undo")
    assert {"Ctrl+Shift+Z", "Ctrl+Y"} <= set(keys("redo"))
    assert "Ctrl+Q" in keys("quit")
    assert keys("brush_smaller") == ["["] and keys("brush_bigger") == ["]"]
    for name in ("copy", "paste", "select_all", "zoom_fit", "zoom_100", "export"):
        assert keys(name), name


def test_bracket_keys_change_the_brush_size(window, qtbot):
    window.activateWindow()
    window.canvas.setFocus()
    size = window.controller.brush.size
    qtbot.keyClick(window.canvas, Qt.Key.Key_BracketRight)
    assert window.controller.brush.size > size
    qtbot.keyClick(window.canvas, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(window.canvas, Qt.Key.Key_BracketLeft)
    assert window.controller.brush.size < size
    # single-letter tool keys, and the Tools panel follows
    qtbot.keyClick(window.canvas, Qt.Key.Key_E)
    assert window.controller.tool == "eraser" and window.canvas.tool.id == "eraser"
    assert window.tools_panel.tool() == "eraser"
    qtbot.keyClick(window.canvas, Qt.Key.Key_L)
    assert window.canvas.tool.id == "lasso_select"


def test_menus_and_filters_from_the_plugin_manager(window):
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == ["File", "Edit", "Select", "Image", "Layer", "Filters", "View", "Help"]
    for tool in ("blur", "sharpen", "desaturate", "invert"):
        assert f"run_{tool}" in window.action_map
    assert window.action_map["run_invert"].text() == "Invert"  # no parameters: no "..."
    assert window.action_map["run_blur"].text().endswith("...")


def test_close_with_changes_asks_and_can_be_cancelled(window, answers):
    window.controller.document.select_all()
    answers.question_answer = QMessageBox.StandardButton.Cancel
    assert not window.close()
    assert window.isVisible()
    assert answers.kinds() == ["question"]
    answers.question_answer = QMessageBox.StandardButton.Discard
    assert window.close()


def test_close_with_save_writes_the_document(window, answers, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    window.controller.document.select_all()
    target = tmp_path / "kept.ora"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))
    answers.question_answer = QMessageBox.StandardButton.Save
    assert window.close()
    assert target.exists() and target.stat().st_size > 0


def test_open_errors_keep_the_current_document(window, answers, tmp_path):
    doc = window.controller.document
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"this is not a picture at all")
    assert not window.open_path(str(bad))
    assert window.controller.document is doc
    kind, title, text = answers.calls[-1]
    assert kind == "warning" and "broken.png" in text


def test_truncated_picture_offers_the_readable_part(window, answers, tmp_path):
    src = tmp_path / "full.png"
    _png(src, 200, 150)
    data = src.read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[: len(data) * 2 // 3])
    answers.question_answer = QMessageBox.StandardButton.Cancel
    old = window.controller.document
    assert not window.open_path(str(cut))
    assert window.controller.document is old
    assert answers.calls[-1][0] == "question" and "cut.png" in answers.calls[-1][2]
    answers.question_answer = QMessageBox.StandardButton.Open
    assert window.open_path(str(cut))
    assert (window.controller.document.width, window.controller.document.height) == (200, 150)


def test_drop_a_file_opens_it(window, qtbot, tmp_path):
    px = _png(tmp_path / "dropped.png", 33, 22)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "dropped.png"))])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    qtbot.waitUntil(lambda: window.controller.document.width == 33, timeout=3000)
    assert np.array_equal(window.controller.document.composite(), px)
    assert window.recent_files()[0].endswith("dropped.png")


def test_recent_files_and_layout_are_remembered(window, qtbot, tmp_path, classic_pm, answers):
    _png(tmp_path / "a.png")
    _png(tmp_path / "b.png")
    window.open_path(str(tmp_path / "a.png"))
    window.open_path(str(tmp_path / "b.png"))
    assert [p.rsplit("/", 1)[-1] for p in window.recent_files()[:2]] == ["b.png", "a.png"]
    window.docks["history"].hide()
    window.resize(760, 520)  # inside the offscreen screen (restoreGeometry clamps to it)
    window.close()
    from ganpaint.engine.jobs import JobQueue
    from ganpaint.qt.mainwindow import MainWindow

    queue = JobQueue()
    win2 = MainWindow(plugin_manager=classic_pm, queue=queue)
    qtbot.addWidget(win2)
    win2.show()
    try:
        assert win2.recent_files()[0].endswith("b.png")
        assert win2.docks["history"].isHidden()
        assert (win2.width(), win2.height()) == (760, 520)
    finally:
        win2.close()
        queue.shutdown()


def test_copy_and_paste_as_a_new_layer(window, tmp_path):
    px = _png(tmp_path / "p.png", 40, 30)
    window.open_path(str(tmp_path / "p.png"))
    doc = window.controller.document
    doc.select_rect(Rect(5, 6, 10, 8))
    window.action_map["copy"].trigger()
    window.action_map["paste"].trigger()
    assert len(doc.layers) == 2
    top = doc.layers[doc.active_index]
    assert (top.x, top.y, top.width, top.height) == (5, 6, 10, 8)
    assert np.array_equal(top.pixels, px[6:14, 5:15])
    window.controller.undo()
    window.controller.undo()
    assert len(doc.layers) == 1


def test_document_menu_operations_are_undoable(window):
    doc = window.controller.document
    w, h = doc.width, doc.height
    window.action_map["rotate_cw"].trigger()
    assert (doc.width, doc.height) == (h, w)
    window.action_map["layer_new"].trigger()
    assert len(doc.layers) == 2
    window.action_map["undo"].trigger()
    window.action_map["undo"].trigger()
    assert (doc.width, doc.height, len(doc.layers)) == (w, h, 1)
    window.action_map["redo"].trigger()
    assert (doc.width, doc.height) == (h, w)
    assert np.array_equal(window.canvas.cache_rgba(), doc.composite())


def _window_with(qtbot, pm, store):
    from ganpaint.engine.jobs import JobQueue
    from ganpaint.qt.mainwindow import MainWindow

    queue = JobQueue()
    win = MainWindow(plugin_manager=pm, queue=queue, recovery=store)
    qtbot.addWidget(win)
    return win, queue


def test_autosave_only_after_changes_and_cleared_on_clean_close(qtbot, classic_pm, answers, tmp_path):
    from ganpaint.core.recovery import RecoveryStore

    store = RecoveryStore(tmp_path / "rec")
    win, queue = _window_with(qtbot, classic_pm, store)
    try:
        assert not win.autosave()  # nothing changed
        win.controller.document.select_all()
        assert win.autosave()
        assert len(list((tmp_path / "rec").glob("*.ora"))) == 1
        assert not win.autosave()  # no change since
    finally:
        win.close()  # answers: Discard
        queue.shutdown()
    assert not list((tmp_path / "rec").glob("*.ora"))  # a clean exit leaves no autosave


def test_crash_recovery_is_offered_at_start(qtbot, classic_pm, answers, tmp_path):
    import json

    from ganpaint.core.document import Document
    from ganpaint.core.recovery import RecoveryStore
    from ganpaint.qt.app import offer_recovery

    # a previous run that crashed: its autosave and a sidecar naming a dead process
    crashed = RecoveryStore(tmp_path / "rec", session_id="crashed")
    doc = Document(30, 20)
    doc.add_layer(name="Lost work", pixels=np.full((20, 30, 4), 77, np.uint8))
    doc.path = str(tmp_path / "lost.ora")
    entry = crashed.save(doc, "doc-1")
    meta = json.loads(entry.meta_path.read_text())
    meta["pid"], meta["pid_start"] = 2**22 + 12345, None
    entry.meta_path.write_text(json.dumps(meta))

    win, queue = _window_with(qtbot, classic_pm, RecoveryStore(tmp_path / "rec"))
    try:
        answers.question_answer = QMessageBox.StandardButton.Open
        assert offer_recovery(win)
        assert answers.calls[-1][0] == "question" and "lost.ora" in answers.calls[-1][2]
        got = win.controller.document
        assert [la.name for la in got.layers] == ["Lost work"]
        assert np.array_equal(got.layers[0].pixels, doc.layers[0].pixels)
        assert win.controller.modified and win.windowTitle().startswith("lost.ora*")
        assert win.controller.path == str(tmp_path / "lost.ora")
        assert not entry.meta_path.exists()  # taken over by this session's autosave
    finally:
        win.controller.document.history.mark_clean()
        win.close()
        queue.shutdown()


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_theme_switch(window, theme):
    window.action_map[f"theme_{theme}"].trigger()
    from ganpaint.qt.theme import current_theme

    assert current_theme(QApplication.instance()) == theme


def test_run_gui_opens_the_file_and_returns_on_close(qtbot, answers, tmp_path):
    import argparse

    from PySide6.QtCore import QTimer

    from ganpaint.qt.app import run_gui
    from ganpaint.qt.mainwindow import MainWindow

    _png(tmp_path / "start.png", 50, 40)
    seen = {}

    def check_and_close():
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not wins or wins[-1].controller.document.width != 50 or wins[-1].plugins_loading():
            QTimer.singleShot(50, check_and_close)  # plugins load beside the window
            return
        win = wins[-1]
        seen["title"] = win.windowTitle()
        seen["tools"] = sorted(s.id for s in win.tool_specs())
        win.close()

    QTimer.singleShot(50, check_and_close)
    rc = run_gui(str(tmp_path / "start.png"), argparse.Namespace(safe_mode=True, device="cpu", debug=False))
    assert rc == 0
    assert seen["title"].startswith("start.png - GANPaint")
    assert {"blur", "desaturate", "invert", "sharpen"} <= set(seen["tools"])  # built-ins load in safe mode


def test_save_failure_is_reported_and_keeps_the_document_modified(window, answers, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    target = blocker / "doc.ora"  # a file where a folder should be
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))
    window.controller.document.select_all()
    assert not window.save()
    kind, title, text = answers.calls[-1]
    assert kind == "warning" and "doc.ora" in text
    assert window.controller.modified and window.controller.path is None
    assert "*" in window.windowTitle()
