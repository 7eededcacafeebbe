"""Integration of the window with the rest: shared Settings, plugin errors, job clean-up,
pixel limits and notes on open, open-as-layer, the packaged user guide, job previews,
scroll bars, the checkerboard, the plain-Qt sliders and a light start-up."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QMessageBox

from ganpaint.core.specs import ToolResult, ToolSpec

ROOT = Path(__file__).resolve().parents[2]


def _png(path, w=40, h=30, seed=0):
    rng = np.random.default_rng(seed)
    px = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    px[:, :, 3] = 255
    Image.fromarray(px, "RGBA").save(path)
    return px


def raising_tool(request, ctx):
    raise RuntimeError("the model exploded")


PREVIEW_SEEN = threading.Event()


def preview_tool(request, ctx):
    """Reports two previews, waits until the test saw one, returns the inverted image."""
    img = np.asarray(request.image, dtype=np.float32)
    ctx.progress(0.5, "half way", preview=np.zeros((8, 12, 3), np.float32))
    ctx.progress(0.9, "nearly", preview=1.0 - img)
    PREVIEW_SEEN.wait(10)  # progress still queued when a job ends is dropped by the bridge
    return ToolResult(image=1.0 - img)


# ----------------------------------------------------------------------------- settings


def test_window_and_plugin_manager_share_one_settings_object(qtbot, monkeypatch, answers, tmp_path):
    """Disabling a plugin in the Plugins dialog survives the window's own later saves."""
    import ganpaint_classic

    from ganpaint.core.settings import Settings
    from ganpaint.engine.jobs import JobQueue
    from ganpaint.plugins.manager import PluginManager
    from ganpaint.qt.app import create_window

    settings = Settings.load()
    pm = PluginManager(discover=False, user_dirs=False, settings=settings)
    pm.register(ganpaint_classic, "classic")
    monkeypatch.setattr("ganpaint.qt.app._settings", lambda: settings)
    queue = JobQueue()
    app, win = create_window(None, plugin_manager=pm, queue=queue, recovery=None)
    qtbot.addWidget(win)
    try:
        assert win.app_settings is settings
        pm.set_enabled("classic", False)  # what the Plugins dialog's check box calls
        win.add_recent(str(tmp_path / "a.png"))  # the window saves the settings afterwards
        win.action_map["theme_dark"].trigger()
        on_disk = Settings.load()
        assert "classic" in on_disk.disabled_plugins
        assert on_disk.recent_files[0].endswith("a.png") and on_disk.theme == "dark"
        # Preferences hand back an edited copy: it is copied into the shared object
        new = Settings.from_dict(settings.to_dict())
        new.history_limit_mb = 77
        new.disabled_plugins = []
        win.app_settings = new
        assert win.app_settings is settings and settings.history_limit_mb == 77
        assert "classic" in settings.disabled_plugins  # the Plugins dialog owns that list
    finally:
        win.action_map["theme_light"].trigger()
        win.close()
        queue.shutdown(wait=True, timeout=10)


def test_open_uses_the_settings_pixel_limit(window, answers, tmp_path):
    _png(tmp_path / "big.png", 60, 50)
    window.app_settings.max_pixels = 1000  # 60x50 = 3000 pixels is over the limit
    old = window.controller.document
    assert not window.open_path(str(tmp_path / "big.png"))
    assert window.controller.document is old
    kind, _title, text = answers.calls[-1]
    assert kind == "warning" and "big.png" in text
    assert not window.files.open_as_layer(str(tmp_path / "big.png"))
    window.app_settings.max_pixels = 250_000_000
    assert window.open_path(str(tmp_path / "big.png"))


def test_conversion_notes_are_shown_in_the_status_bar(window, tmp_path):
    path = tmp_path / "print.jpg"
    Image.new("CMYK", (20, 10), (0, 255, 255, 0)).save(path)
    assert window.open_path(str(path))
    msg = window.statusBar().currentMessage()
    assert "CMYK" in msg or "cmyk" in msg.lower(), msg


def test_open_as_layer_is_one_step_and_offers_a_damaged_file(window, answers, tmp_path):
    px = _png(tmp_path / "layer.png", 20, 10)
    doc = window.controller.document
    n, steps = len(doc.layers), doc.history.index
    assert window.files.open_as_layer(str(tmp_path / "layer.png"))
    assert len(doc.layers) == n + 1 and doc.history.index == steps + 1
    top = doc.active_layer
    assert top.name == "layer" and np.array_equal(top.pixels, px)
    doc.undo()
    assert len(doc.layers) == n
    # a truncated picture: refused, then offered as its readable part
    _png(tmp_path / "full.png", 200, 150)
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) * 2 // 3])
    answers.question_answer = QMessageBox.StandardButton.Cancel
    assert not window.files.open_as_layer(str(tmp_path / "cut.png"))
    assert len(doc.layers) == n
    answers.question_answer = QMessageBox.StandardButton.Open
    assert window.files.open_as_layer(str(tmp_path / "cut.png"))
    assert len(doc.layers) == n + 1 and doc.active_layer.width == 200
    assert "layer_open" in window.action_map


def test_paste_is_one_history_step(window, tmp_path):
    _png(tmp_path / "p.png", 40, 30)
    window.open_path(str(tmp_path / "p.png"))
    doc = window.controller.document
    window.action_map["copy"].trigger()
    steps = doc.history.index
    window.action_map["paste"].trigger()
    assert doc.history.index == steps + 1 and len(doc.layers) == 2
    doc.undo()
    assert len(doc.layers) == 1


# ----------------------------------------------------------------------------- plugin tools


def test_a_raising_tool_is_noted_on_its_plugin_and_named(window, qtbot, answers):
    pm = window.plugin_manager
    spec = ToolSpec(id="explode", title="Explode", run=f"{__name__}:raising_tool", plugin="classic")
    doc = window.controller.document
    n, steps = len(doc.layers), doc.history.index
    failed = []
    window.runner.toolFailed.connect(lambda *a: failed.append(a))
    job_id = window.run_tool(spec, {})
    qtbot.waitUntil(lambda: bool(failed), timeout=10000)
    assert len(doc.layers) == n and doc.history.index == steps
    rec = pm.record("classic")
    assert any("the model exploded" in str(e) for e in getattr(rec, "run_errors", {}).values()) or \
        "the model exploded" in str(rec.error or "") or "exploded" in repr(rec), repr(rec)
    kind, title, text = answers.calls[-1]
    assert kind == "open" and "Explode" in title and "'classic'" in text and "exploded" in text
    assert window.queue.get(job_id) is None  # the failed job was forgotten too


def test_applied_jobs_are_forgotten_and_previews_shown(window, qtbot):
    window.new_document_silent(24, 16)
    doc = window.controller.document
    spec = ToolSpec(id="previewer", title="Previewer", run=f"{__name__}:preview_tool", plugin="test")
    applied = []
    window.runner.applied.connect(lambda job_id, cmd: applied.append(job_id))
    PREVIEW_SEEN.clear()
    window.bridge.jobProgress.connect(lambda msg: msg.fraction > 0.8 and PREVIEW_SEEN.set())
    job_id = window.run_tool(spec, {})
    qtbot.waitUntil(lambda: bool(applied), timeout=10000)
    assert len(doc.layers) == 2
    assert window.queue.get(job_id) is None and window.bridge.job(job_id) is None
    panel = window.docks["jobs"].widget()
    pm = panel.preview_of(job_id)
    assert pm is not None and (pm.width(), pm.height()) == (24, 16)  # the latest preview
    assert not panel.preview.isHidden() or not window.docks["jobs"].isVisible()
    panel.clear_finished()
    assert panel.preview.isHidden()


# ----------------------------------------------------------------------------- help


def test_user_guide_is_shipped_inside_the_package(qtbot, monkeypatch, tmp_path):
    from ganpaint.qt.dialogs import about

    packaged = about.PACKAGED_GUIDE
    assert packaged.is_file(), "ganpaint/qt/resources/user-guide.md is missing"
    assert packaged.read_text(encoding="utf-8") == (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8"), (
        "the packaged guide is out of date: cp docs/user-guide.md ganpaint/qt/resources/user-guide.md")
    # an installed package has no repository around it: the packaged copy is used
    monkeypatch.setattr(about, "__file__", str(tmp_path / "site" / "ganpaint" / "qt" / "dialogs" / "about.py"))
    assert about.user_guide_path() == packaged
    dlg = about.UserGuideDialog()
    qtbot.addWidget(dlg)
    assert "GANPaint" in dlg.browser.toPlainText()


# ----------------------------------------------------------------------------- canvas


def test_scroll_bars_follow_and_drive_the_view(window, qtbot):
    window.new_document_silent(2000, 1500)
    view, cv = window.canvas_view, window.canvas
    cv.actual_size()
    h = view.hbar
    assert h.minimum() < h.value() < h.maximum()
    off = cv.offset
    h.setValue(h.value() + 100)
    assert abs(cv.offset.x() - (off.x() - 100)) <= 1  # bars count whole pixels
    view.vbar.setValue(view.vbar.value() - 50)
    assert abs(cv.offset.y() - (off.y() + 50)) <= 1
    cv.pan_by(-30, 0)  # space-drag / middle button: the bar follows
    assert h.value() == round(-cv.offset.x())
    cv.set_zoom(4.0)
    assert h.maximum() > 2000 * 4 - cv.width()


def test_transparency_shows_a_checkerboard(window, qtbot):
    from ganpaint.qt.qimage import qimage_to_rgba

    window.new_document_silent(64, 64)
    doc = window.controller.document
    doc.add_layer(name="Empty")
    doc.delete_layer(0)  # only a fully transparent layer is left
    cv = window.canvas
    cv.set_zoom(4.0)
    qtbot.wait(10)
    shot = qimage_to_rgba(cv.grab().toImage())
    c = cv.doc_to_widget(QPointF(32, 32))
    dpr = shot.shape[1] / cv.width()
    y0, x0 = int(c.y() * dpr), int(c.x() * dpr)
    patch = shot[y0 - 40:y0 + 40, x0 - 40:x0 + 40, :3].reshape(-1, 3)
    greys = {tuple(p) for p in patch}
    assert len(greys) >= 2  # two alternating tones ...
    assert all(abs(int(r) - int(g)) < 8 and abs(int(g) - int(b)) < 8 for r, g, b in greys)  # ... both grey


# ----------------------------------------------------------------------------- widgets


def test_plain_qt_sliders_keep_slider_and_box_in_step(qtbot):
    from ganpaint.qt.sliders import LabeledDoubleSlider, LabeledSlider

    s = LabeledSlider()
    qtbot.addWidget(s)
    seen = []
    s.valueChanged.connect(seen.append)
    s.setRange(1, 500)
    s.setValue(40)
    assert s.value() == 40 and s.slider.value() == 40 and seen == [40]
    s.slider.setValue(70)  # dragging the slider
    assert s.value() == 70 and seen[-1] == 70
    s.setValue(9999)
    assert s.value() == 500
    d = LabeledDoubleSlider()
    qtbot.addWidget(d)
    got = []
    d.valueChanged.connect(got.append)
    d.setDecimals(2)
    d.setRange(0.0, 2.0)
    d.setSingleStep(0.05)
    d.setValue(0.75)
    assert d.value() == pytest.approx(0.75) and got[-1] == pytest.approx(0.75)
    assert d.slider.value() == 15  # 0.75 / 0.05
    d.slider.setValue(30)
    assert d.value() == pytest.approx(1.5) and got[-1] == pytest.approx(1.5)


@pytest.mark.slow  # a fresh interpreter starting the window: a few seconds on a loaded machine
def test_start_up_imports_neither_torch_nor_superqt_nor_plugin_tools(tmp_path):
    """The window comes up without torch, superqt, or any module a tool names lazily."""
    code = (
        "import sys\n"
        "from ganpaint.qt.app import create_window\n"
        "app, win = create_window(sys.argv[1])\n"
        "win.show(); app.processEvents()\n"
        "pm = win.plugin_manager\n"
        "lazy = {t.run.partition(':')[0] for t in pm.tools().values()} if pm else set()\n"
        "bad = sorted(m for m in ('torch', 'superqt', 'qtpy', *lazy) if m in sys.modules)\n"
        "print('TOOLS', len(pm.tools()) if pm else 0, 'BAD', ','.join(bad) or '-')\n"
        "win.controller.document.history.mark_clean(); win.close()\n"
    )
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen", "GANPAINT_DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "resources" / "samples" / "meadow.png")],
                         capture_output=True, text=True, timeout=120, env=env, cwd=str(ROOT))
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("TOOLS")), "")
    assert line, out.stderr[-2000:]
    _, n_tools, _, bad = line.split()
    assert int(n_tools) >= 4  # the classic plugin's tools are registered ...
    assert bad == "-", f"imported at start-up: {bad}"  # ... but nothing heavy is imported


# ----------------------------------------------------------------------------- canvas operations


def test_crop_flip_and_rotate_from_the_menus(window, tmp_path):
    from ganpaint.core.geometry import Rect

    px = _png(tmp_path / "p.png", 40, 30)
    window.open_path(str(tmp_path / "p.png"))
    doc = window.controller.document
    doc.select_rect(Rect(4, 5, 20, 10))
    window.action_map["crop"].trigger()
    assert (doc.width, doc.height) == (20, 10)
    assert np.array_equal(doc.composite(), px[5:15, 4:24])
    window.action_map["flip_h"].trigger()
    assert np.array_equal(doc.composite(), px[5:15, 4:24][:, ::-1])
    window.action_map["rotate_180"].trigger()
    assert np.array_equal(doc.composite(), px[5:15, 4:24][::-1, :])
    for _ in range(3):
        window.action_map["undo"].trigger()
    assert (doc.width, doc.height) == (40, 30) and np.array_equal(doc.composite(), px)
    assert np.array_equal(window.canvas.cache_rgba(), doc.composite())


def test_brush_opacity_and_hardness_reach_the_pixels(window):
    from .conftest import drag as drag_

    window.new_document_silent(120, 60)
    doc = window.controller.document
    doc.add_layer(name="Paint")
    cv, c = window.canvas, window.controller
    c.set_tool("brush")
    c.set_brush(size=20, hardness=1.0, opacity=0.5, color=(0.0, 0.0, 1.0))
    a, b = cv.doc_to_widget(QPointF(10, 15)), cv.doc_to_widget(QPointF(50, 15))
    drag_(cv, [a, (a + b) / 2, b])
    px = doc.layers[1].pixels
    assert tuple(px[15, 30, :3]) == (0, 0, 255) and abs(int(px[15, 30, 3]) - 128) <= 2  # half opacity
    c.set_brush(size=20, hardness=0.0, opacity=1.0, color=(1.0, 0.0, 0.0))
    a, b = cv.doc_to_widget(QPointF(10, 45)), cv.doc_to_widget(QPointF(50, 45))
    drag_(cv, [a, (a + b) / 2, b])
    centre, edge = int(px[45, 30, 3]), int(px[45 - 8, 30, 3])
    assert centre > 200 and 0 < edge < centre  # a soft brush fades towards its edge
    c.set_tool("eraser")
    c.set_brush(size=10, hardness=1.0, opacity=1.0)
    p = cv.doc_to_widget(QPointF(30, 15))
    drag_(cv, [p, p + QPointF(1, 0)])
    assert px[15, 30, 3] == 0


def test_icons_on_a_selected_row_use_the_highlighted_text_colour(qtbot):
    from PySide6.QtGui import QGuiApplication, QIcon, QPalette

    from ganpaint.qt.icons import icon

    pal = QGuiApplication.palette()
    want = pal.color(QPalette.ColorRole.HighlightedText)
    img = icon("lock").pixmap(48, 48, QIcon.Mode.Selected).toImage()
    opaque = [img.pixelColor(x, y) for x in range(img.width()) for y in range(img.height())
              if img.pixelColor(x, y).alpha() == 255]
    assert opaque
    assert all(abs(c.red() - want.red()) + abs(c.green() - want.green()) + abs(c.blue() - want.blue()) < 12
               for c in opaque)


def test_selecting_a_result_layer_shows_its_tool_and_parameters(window, qtbot):
    window.new_document_silent(48, 32)
    doc = window.controller.document
    spec = next(s for s in window.tool_specs() if s.id == "blur")
    n = len(doc.layers)
    window.run_tool(spec, {"radius": 2.0})
    qtbot.waitUntil(lambda: len(doc.layers) == n + 1, timeout=15000)
    panel = window.tools_panel
    window.tools_panel.set_plugin_tool("invert")
    doc.active_index = 0
    steps = doc.history.index
    doc.active_index = n
    assert panel.plugin_tool() == "blur"
    assert panel.param_panel("blur").values()["radius"] == 2.0
    qtbot.wait(400)  # longer than the live debounce: showing the values re-runs nothing
    assert doc.history.index == steps and not window.runner.pending()
    # a live change is one step; undo brings the panel back to the layer's old value
    window._on_live_changed("blur", {**panel.param_panel("blur").values(), "radius": 5.0})
    qtbot.waitUntil(lambda: doc.active_layer.result.params["radius"] == 5.0, timeout=15000)
    qtbot.waitUntil(lambda: panel.param_panel("blur").values()["radius"] == 5.0, timeout=5000)
    window.controller.undo()
    assert panel.param_panel("blur").values()["radius"] == 2.0
