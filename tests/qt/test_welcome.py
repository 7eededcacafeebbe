"""The first start: the sample photo, the Welcome window (once), Help > Welcome, Try it."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "resources" / "samples"
GAN_PLUGINS = ("season", "inpaint", "sketch", "stylemix", "faces", "translate")


@pytest.fixture
def gan_window(qtbot, answers):
    """A main window whose plugin host has the built-in GAN plugins (descriptors only: no torch)."""
    import importlib

    from ganpaint.engine.jobs import JobQueue
    from ganpaint.engine.models.store import ModelStore
    from ganpaint.plugins.manager import PluginManager
    from ganpaint.qt.mainwindow import MainWindow

    pm = PluginManager(discover=False, user_dirs=False)
    for name in GAN_PLUGINS:
        pm.register(importlib.import_module(f"ganpaint_{name}"), name)
    queue = JobQueue()
    win = MainWindow(plugin_manager=pm, queue=queue, recovery=None, model_store=ModelStore(defaults=pm.models()))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    dlg = getattr(win, "_welcome_window", None)
    if dlg is not None:
        from shiboken6 import isValid

        if isValid(dlg):
            dlg.close()
    win.controller.document.history.mark_clean()
    win.close()
    queue.shutdown(wait=True, timeout=10)


def _start_and_look(seen: list[dict]) -> int:
    """One real start (run_gui, no file, built-in plugins): note what shows, then close the
    main window only (the Welcome window must not keep the application running)."""
    from ganpaint.qt.app import run_gui
    from ganpaint.qt.mainwindow import MainWindow

    state: dict = {"tries": 0}

    def look() -> None:
        state["tries"] += 1
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        win = wins[-1] if wins else None
        # the start-up hook runs in the loop's first turn after the window shows: wait a few turns
        if win is None or state["tries"] < 5:
            QTimer.singleShot(20, look)
            return
        dlg = getattr(win, "_welcome_window", None)
        seen.append({"welcome": dlg is not None and dlg.isVisible(), "title": win.windowTitle(),
                     "width": win.controller.document.width, "settings": dict(win.app_settings.extra)})
        win.controller.document.history.mark_clean()
        win.close()

    QTimer.singleShot(20, look)
    return run_gui(None, argparse.Namespace(safe_mode=True, device="cpu", debug=False))


def test_first_start_shows_welcome_on_the_sample_and_the_second_start_does_not(qtbot, answers):
    seen: list[dict] = []
    assert _start_and_look(seen) == 0
    first = seen[0]
    assert first["welcome"]
    assert first["title"].startswith("dragonfly.jpg")  # the sample photo opened
    assert first["width"] == 1024
    assert first["settings"].get("welcome_shown") is True

    assert _start_and_look(seen) == 0
    second = seen[1]
    assert not second["welcome"]
    assert not second["title"].startswith("dragonfly.jpg")  # an empty canvas, as before
    for w in QApplication.topLevelWidgets():  # no Welcome window left from the first start
        assert not (w.objectName() == "welcome" and w.isVisible())


def test_first_start_keeps_the_file_given_on_the_command_line(gan_window):
    from ganpaint.qt.dialogs.welcome import first_start

    gan_window.open_path(str(SAMPLES / "meadow.png"))
    assert first_start(gan_window, str(SAMPLES / "meadow.png"))
    assert gan_window.windowTitle().startswith("meadow.png")
    assert gan_window._welcome_window.isVisible()
    assert not first_start(gan_window, None)  # remembered in the settings: once only


def test_help_welcome_shows_it_with_a_picture_per_tool(gan_window, qtbot):
    assert gan_window.app_settings.extra.get("welcome_shown") is None
    gan_window.action_map["welcome"].trigger()
    dlg = gan_window._welcome_window
    qtbot.waitUntil(dlg.isVisible, timeout=2000)
    assert not dlg.isModal()
    assert set(GAN_PLUGINS) <= set(dlg.try_buttons)
    for tool in ("season", "inpaint", "sketch", "stylemix", "faces"):
        pix = dlg.thumbnails[tool].pixmap()
        assert pix is not None and not pix.isNull(), tool
    assert "needs a model" in dlg.thumbnails["translate"].text()
    assert all(b.isEnabled() for b in dlg.try_buttons.values())
    gan_window.action_map["welcome"].trigger()  # a second time: the same window, not another
    assert gan_window._welcome_window is dlg


@pytest.mark.parametrize("tool", ["inpaint", "faces"])
def test_try_it_selects_the_tool_in_the_tools_panel(gan_window, qtbot, tool):
    from ganpaint.qt.dialogs.welcome import show_welcome

    panel = gan_window.tools_panel
    other = "season" if tool != "season" else "inpaint"
    panel.set_plugin_tool(other)
    gan_window.docks["tools"].hide()
    dlg = show_welcome(gan_window)
    dlg.try_buttons[tool].click()
    assert panel.plugin_tool() == tool
    assert gan_window.docks["tools"].isVisible()
    assert gan_window.statusBar().currentMessage()  # says what to do next


def test_try_it_is_disabled_for_a_tool_whose_plugin_is_not_loaded(window):
    from ganpaint.qt.dialogs.welcome import show_welcome

    dlg = show_welcome(window)  # the classic plugin only
    assert not dlg.try_buttons["season"].isEnabled()
    dlg.close()


def test_get_better_models_opens_the_get_models_view(gan_window, monkeypatch):
    import ganpaint.qt.dialogs.get_models as get_models
    from ganpaint.qt.dialogs.welcome import show_welcome

    calls = []
    monkeypatch.setattr(get_models, "show_get_models", lambda win: calls.append(win))
    show_welcome(gan_window).models_button.click()
    assert calls == [gan_window]


def test_the_sample_is_a_credited_photo_that_no_model_trained_on():
    from ganpaint.qt.dialogs.welcome import SAMPLE_NAME, sample_path

    path = sample_path()
    assert path == SAMPLES / SAMPLE_NAME and path.is_file()
    assert path.stat().st_size < 400_000
    with Image.open(path) as im:
        assert im.format == "JPEG"
        assert max(im.size) == 1024
        rgb = np.asarray(im.convert("RGB"))
    # a photograph, not a drawing: a procedural picture has a few thousand colours at most
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 50_000

    credits = (SAMPLES / "CREDITS.md").read_text(encoding="utf-8")
    entry = credits.split(f"## {SAMPLE_NAME}", 1)[1].split("\n## ", 1)[0]
    for needed in ("Bolly", "CC-BY-SA-4.0", "lomiri-wallpapers-16.04", "Dragonfly_by_Bolly.jpg", "1024 x 768"):
        assert needed in entry, needed

    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^SAMPLE := resources/samples/{re.escape(SAMPLE_NAME)}$", makefile, re.M)

    # every photo data set lists it as excluded and puts it in no split
    for manifest in sorted((ROOT / "resources" / "data-manifests").glob("*.json")):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        assert not any("Dragonfly_by_Bolly" in key for key in data.get("split", {})), manifest.name
        if any(s.get("id") == "debian:lomiri-wallpapers-16.04" for s in data.get("sources", [])):
            excluded = [e["origin"] for e in data.get("excluded", [])]
            assert "/usr/share/backgrounds/Dragonfly_by_Bolly.jpg" in excluded, manifest.name


def test_welcome_pictures_are_small_and_match_the_shipped_models():
    from ganpaint.engine.models.store import ModelStore
    from ganpaint.plugins.manager import PluginManager
    from ganpaint.qt.dialogs.welcome import THUMBS_DIR

    pngs = sorted(THUMBS_DIR.glob("*.png"))
    assert {p.stem for p in pngs} == {"season", "inpaint", "sketch", "stylemix", "faces"}
    assert sum(p.stat().st_size for p in pngs) < 600_000
    record = json.loads((THUMBS_DIR / "thumbs.json").read_text(encoding="utf-8"))
    pm = PluginManager(safe_mode=True)
    pm.load()
    store = ModelStore(defaults=pm.models())
    for tool, info in record["tools"].items():
        card = store.get(info["model"], tool=tool).card
        assert card.sha256 == info["model_sha256"], (
            f"the {tool} default model changed: rerun tools/make_welcome_thumbs.py")
