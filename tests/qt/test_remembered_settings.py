"""What GANPaint remembers between sessions (issue 11): the folder of the file dialogs,
the new-image choice, the brush, the canvas tool and the Tools panel's plugin tool.

Every test keeps its settings in a temporary GANPAINT_DATA_DIR (tests/qt/conftest.py), so
none touches the user's; a "new session" is a second MainWindow on the same folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QDialog, QFileDialog

from ganpaint.qt import file_actions
from ganpaint.qt.dialogs.new_image import NewImageDialog, last_choice


def _new_window(qtbot, pm):
    from ganpaint.engine.jobs import JobQueue
    from ganpaint.qt.mainwindow import MainWindow

    queue = JobQueue()
    win = MainWindow(plugin_manager=pm, queue=queue, recovery=None)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win, queue


def _close(win, queue) -> None:
    win.controller.document.history.mark_clean()
    assert win.close()
    queue.shutdown(wait=True, timeout=10)


# ----------------------------------------------------------------------------- C: dialog folders


def test_start_dir_without_history_is_pictures_or_home(monkeypatch, tmp_path):
    pictures = tmp_path / "Pictures"
    pictures.mkdir()
    monkeypatch.setattr(file_actions.QStandardPaths, "writableLocation", staticmethod(lambda _loc: str(pictures)))
    assert file_actions.start_dir(None) == str(pictures)
    # no Pictures folder on this machine: home
    monkeypatch.setattr(file_actions.QStandardPaths, "writableLocation",
                        staticmethod(lambda _loc: str(tmp_path / "missing")))
    assert file_actions.start_dir(None) == str(Path.home())


def test_dialogs_start_in_pictures_then_in_the_last_folder_across_sessions(qtbot, classic_pm, answers,
                                                                           monkeypatch, tmp_path):
    pictures = tmp_path / "Pictures"
    pictures.mkdir()
    monkeypatch.setattr(file_actions.QStandardPaths, "writableLocation", staticmethod(lambda _loc: str(pictures)))
    seen: list[str] = []
    work = tmp_path / "work"
    work.mkdir()
    target = work / "x.ora"

    def save_dialog(parent, title, start, *a, **k):
        seen.append(start)
        return (str(target), "")

    def open_dialog(parent, title, start, *a, **k):
        seen.append(start)
        return ("", "")

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_dialog))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(open_dialog))

    win, queue = _new_window(qtbot, classic_pm)
    assert win.files.last_dir == str(pictures)
    assert win.files.ask_open() is None
    assert seen[-1] == str(pictures)  # not the install folder, not the current directory
    assert win.save_as()
    assert Path(seen[-1]).parent == pictures  # Save As proposed Pictures/Untitled.ora
    assert target.is_file()
    assert win.files.ask_open() is None
    assert seen[-1] == str(work)  # the next dialog starts where the user saved
    _close(win, queue)

    win2, queue2 = _new_window(qtbot, classic_pm)  # a new session remembers it
    assert win2.files.last_dir == str(work)
    win2.files.ask_open_as_layer()
    assert seen[-1] == str(work)
    _close(win2, queue2)


def test_a_remembered_folder_that_is_gone_falls_back_to_pictures(qtbot, classic_pm, answers, monkeypatch, tmp_path):
    pictures = tmp_path / "Pictures"
    pictures.mkdir()
    monkeypatch.setattr(file_actions.QStandardPaths, "writableLocation", staticmethod(lambda _loc: str(pictures)))
    win, queue = _new_window(qtbot, classic_pm)
    gone = tmp_path / "gone"
    gone.mkdir()
    win.files.last_dir = str(gone)
    assert win.files.last_dir == str(gone)
    gone.rmdir()
    assert win.files.last_dir == str(pictures)
    _close(win, queue)


# ----------------------------------------------------------------------------- G: new image


def test_new_image_dialog_defaults_to_1024x768_white(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    settings = QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat)
    dlg = NewImageDialog(settings)
    qtbot.addWidget(dlg)
    c = dlg.choice()
    assert (c.width, c.height, c.background) == (1024, 768, "white")
    dlg.accept()
    assert dlg.result() == QDialog.DialogCode.Accepted
    doc = dlg.document
    assert (doc.width, doc.height) == (1024, 768) and len(doc.layers) == 1
    assert np.all(doc.layers[0].pixels == 255)
    assert not doc.modified


@pytest.mark.parametrize(("background", "color", "pixel"), [
    ("transparent", None, (255, 255, 255, 0)),
    ("color", (1.0, 0.5, 0.0), (255, 128, 0, 255)),
])
def test_new_image_dialog_backgrounds(qtbot, tmp_path, background, color, pixel):
    from PySide6.QtCore import QSettings

    settings = QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat)
    dlg = NewImageDialog(settings)
    qtbot.addWidget(dlg)
    dlg.set_values(width=300, height=200, background=background, color=color)
    dlg.accept()
    doc = dlg.document
    assert (doc.width, doc.height) == (300, 200)
    assert tuple(int(v) for v in doc.layers[0].pixels[5, 7]) == pixel
    # remembered: the next dialog (a new session reads the same file) starts with it
    again = NewImageDialog(QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    c = again.choice()
    assert (c.width, c.height, c.background) == (300, 200, background)
    if color is not None:
        assert c.color == pytest.approx(color)


def test_file_new_asks_and_installs_a_clean_document(window, monkeypatch):
    def fake_exec(dlg):
        dlg.set_values(width=320, height=240, background="transparent")
        dlg.accept()
        return dlg.result()

    monkeypatch.setattr(NewImageDialog, "exec", fake_exec)
    window.action_map["new"].trigger()
    doc = window.controller.document
    assert (doc.width, doc.height) == (320, 240)
    assert int(doc.layers[0].pixels[0, 0, 3]) == 0
    assert not window.controller.modified and "*" not in window.windowTitle()
    assert last_choice(window.settings).width == 320

    # Cancel keeps the document
    monkeypatch.setattr(NewImageDialog, "exec", lambda dlg: int(QDialog.DialogCode.Rejected))
    window.action_map["new"].trigger()
    assert window.controller.document is doc


def test_new_image_refuses_more_than_the_pixel_limit(qtbot, answers):
    dlg = NewImageDialog(None, max_pixels=1000)
    qtbot.addWidget(dlg)
    dlg.set_values(width=100, height=100)
    dlg.accept()
    assert dlg.document is None and dlg.result() != QDialog.DialogCode.Accepted
    assert answers.kinds() == ["warning"]


# ----------------------------------------------------------------------------- H: brush and tools


def test_brush_and_tools_are_remembered_between_sessions(qtbot, classic_pm, answers):
    win, queue = _new_window(qtbot, classic_pm)
    c = win.controller
    assert c.tool == "brush" and win.tools_panel.plugin_tool() != "invert"
    c.set_brush(size=42, hardness=0.25, opacity=0.5, color=(1.0, 0.0, 0.5))
    c.set_tool("eraser")
    win.tools_panel.set_plugin_tool("invert")
    _close(win, queue)

    win2, queue2 = _new_window(qtbot, classic_pm)
    c2 = win2.controller
    assert c2.tool == "eraser"
    assert (c2.brush.size, c2.brush.hardness, c2.brush.opacity) == (42, 0.25, 0.5)
    assert c2.brush.color == (1.0, 0.0, 0.5)
    panel = win2.tools_panel
    assert panel.tool() == "eraser" and win2.tool_actions["eraser"].isChecked()
    assert panel.size.value() == 42 and panel.hardness.value() == pytest.approx(0.25)
    assert panel.opacity.value() == pytest.approx(0.5)
    assert panel.brush().color == pytest.approx((1.0, 0.0, 0.5))
    assert panel.plugin_tool() == "invert"
    from ganpaint.qt.canvas_tools import EraserTool

    assert isinstance(win2.canvas.tool, EraserTool)  # the canvas paints with it

    # a change in the panel itself (the user's slider) is remembered too
    panel.size.setValue(7)
    c2.set_tool("rect_select")
    _close(win2, queue2)
    win3, queue3 = _new_window(qtbot, classic_pm)
    assert win3.controller.brush.size == 7 and win3.controller.tool == "rect_select"
    _close(win3, queue3)


def test_a_remembered_plugin_tool_waits_while_its_plugin_is_away(qtbot, classic_pm, answers):
    win, queue = _new_window(qtbot, classic_pm)
    win.tools_panel.set_plugin_tool("sharpen")
    _close(win, queue)

    win2, queue2 = _new_window(qtbot, None)  # no plugins this session: nothing offered
    assert win2.tools_panel.plugin_tool() == ""
    # the plugins come back (the Plugins dialog enabled them): the tool is chosen again
    win2.plugin_manager = classic_pm
    win2._plugins_changed()
    assert win2.tools_panel.plugin_tool() == "sharpen"
    _close(win2, queue2)


def test_broken_remembered_values_are_ignored(qtbot, classic_pm, answers):
    from ganpaint.qt.dialogs.new_image import NEW_IMAGE_KEY
    from ganpaint.qt.document_controller import EDITOR_STATE_KEY
    from ganpaint.qt.mainwindow import window_settings

    s = window_settings()
    s.setValue(EDITOR_STATE_KEY, '{"tool": "no-such-tool", "brush": {"size": "big", "color": [1, 2]}}')
    s.setValue(NEW_IMAGE_KEY, "not json")
    s.sync()
    win, queue = _new_window(qtbot, classic_pm)
    assert win.controller.tool == "brush"
    assert win.controller.brush.size == 16.0
    assert last_choice(win.settings).width == 1024
    _close(win, queue)
