"""Masks a painter makes (issue 16, point 3): the mask eraser, Select > Grow / Shrink
selection, and Inpaint's live low-resolution preview while its panel is open."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication, QInputDialog

from ganpaint.core.document import Document
from ganpaint.core.geometry import Rect
from ganpaint.core.selection import grow, shrink

from .conftest import drag, noise_document, shown_canvas


def _doc(w: int = 64, h: int = 48) -> Document:
    return noise_document(w, h, seed=3)


# ----------------------------------------------------------------------------- grow / shrink


def test_grow_and_shrink_move_the_edge_by_n_pixels():
    m = np.zeros((40, 50), np.uint8)
    m[15:25, 20:30] = 255  # a 10 x 10 square
    g = grow(m, 3)
    ys, xs = np.nonzero(g == 255)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (12, 27, 17, 32)
    assert g[12, 17] == 0  # the octagon cuts the far corner (close to a disc, not a square)
    s = shrink(m, 3)
    ys, xs = np.nonzero(s == 255)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (18, 21, 23, 26)
    assert not shrink(m, 5).any()  # shrunk away
    full = np.full((8, 9), 255, np.uint8)
    assert (shrink(full, 4) == 255).all()  # beyond the canvas counts as selected
    np.testing.assert_array_equal(grow(m, 0), m)
    with pytest.raises(ValueError):
        grow(m, -1)


def test_grow_keeps_a_soft_edge_ramp_moved_out():
    m = np.zeros((1, 30), np.uint8)
    m[0, :10] = 255
    m[0, 10:14] = [192, 128, 64, 16]
    g = grow(np.repeat(m, 5, axis=0), 4)[2]
    np.testing.assert_array_equal(g[:14], 255)
    np.testing.assert_array_equal(g[14:18], [192, 128, 64, 16])
    assert not g[18:].any()


def test_document_grow_and_shrink_are_one_undoable_step_each():
    doc = _doc()
    doc.select_rect(Rect(20, 10, 10, 10))
    before = doc.selection.mask.copy()
    n = len(doc.history.entries)
    doc.grow_selection(2)
    assert len(doc.history.entries) == n + 1 and "Grow selection" in doc.history.entries[-1]
    assert doc.selection.mask[9, 25] == 255 and doc.selection.mask[7, 25] == 0
    doc.undo()
    np.testing.assert_array_equal(doc.selection.mask, before)
    doc.shrink_selection(2)
    assert doc.selection.mask[10, 25] == 0 and doc.selection.mask[12, 25] == 255
    doc.select_none()
    with pytest.raises(ValueError, match="nothing is selected"):
        doc.grow_selection(3)


def test_select_menu_grow_and_shrink_ask_for_pixels(window, monkeypatch):
    doc = window.controller.document
    doc.select_rect(Rect(40, 40, 20, 20))
    asked = []

    def get_int(parent, title, label, value, lo, hi, *a, **k):
        asked.append((title, value, lo, hi))
        return answer

    monkeypatch.setattr(QInputDialog, "getInt", staticmethod(get_int))
    answer = (5, True)
    n = len(doc.history.entries)
    window.action_map["select_grow"].trigger()
    assert asked[-1][0] == "Grow Selection" and asked[-1][2] == 1
    assert doc.selection.bbox() == Rect(35, 35, 30, 30)
    assert len(doc.history.entries) == n + 1
    window.action_map["select_shrink"].trigger()
    assert asked[-1][1] == 5  # the last amount is offered again
    assert doc.selection.bbox() == Rect(40, 40, 20, 20)
    answer = (3, False)  # cancelled: nothing changes
    window.action_map["select_shrink"].trigger()
    assert doc.selection.bbox() == Rect(40, 40, 20, 20)
    doc.undo()
    assert doc.selection.bbox() == Rect(35, 35, 30, 30)


# ----------------------------------------------------------------------------- mask eraser


@pytest.fixture
def canvas(qtbot):
    return shown_canvas(qtbot, _doc())


def test_mask_eraser_removes_from_the_selection_with_size_and_hardness(canvas):
    doc = canvas.document
    doc.select_all()
    canvas.controller.set_tool("mask_eraser")
    assert canvas._tint is not None  # noqa: SLF001 - the quick-mask tint shows while erasing
    canvas.controller.set_brush(size=12, hardness=1.0, opacity=1.0)
    p = canvas.doc_to_widget(QPointF(20.5, 20.5))
    drag(canvas, [p, p + QPointF(1, 0)])
    assert doc.selection.mask[20, 20] == 0
    assert doc.selection.mask[20, 40] == 255 and doc.selection.mask[2, 2] == 255
    hard_ring = int(doc.selection.mask[20, 25])
    doc.undo()
    assert (doc.selection.mask == 255).all()
    # a soft brush of the same size leaves a ramp where the hard one cut cleanly
    canvas.controller.set_brush(size=12, hardness=0.0, opacity=1.0)
    drag(canvas, [p, p + QPointF(1, 0)])
    soft = doc.selection.mask
    assert soft[20, 20] < 60
    assert 0 < int(soft[20, 24]) < 255 and int(soft[20, 25]) >= hard_ring
    # Alt adds instead (the mask brush's opposite)
    doc.select_none()
    from PySide6.QtCore import Qt

    drag(canvas, [p, p + QPointF(1, 0)], modifiers=Qt.KeyboardModifier.AltModifier)
    assert doc.selection.mask[20, 20] > 200


def test_mask_eraser_is_a_canvas_tool_with_a_shortcut_and_icon(window):
    from ganpaint.qt.icons import TOOL_ICONS, icon_path

    act = window.tool_actions["mask_eraser"]
    assert act.shortcut().toString() == "Shift+Q"
    act.trigger()
    assert window.controller.tool == "mask_eraser"
    assert icon_path(TOOL_ICONS["mask_eraser"]).is_file()


# ----------------------------------------------------------------------------- live preview


@pytest.fixture
def inpaint_window(qtbot, answers):
    import ganpaint_classic
    import ganpaint_inpaint

    from ganpaint.engine.jobs import JobQueue
    from ganpaint.engine.models.store import ModelStore
    from ganpaint.plugins.manager import PluginManager
    from ganpaint.qt.mainwindow import MainWindow

    pm = PluginManager(discover=False, user_dirs=False)
    pm.register(ganpaint_classic, "classic")
    pm.register(ganpaint_inpaint, "inpaint")
    store = ModelStore(defaults=pm.models())  # the shipped default model
    queue = JobQueue(model_resolver=store.path_for)
    win = MainWindow(plugin_manager=pm, queue=queue, recovery=None, model_store=store)
    qtbot.addWidget(win)
    win.resize(1100, 750)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.controller.document.history.mark_clean()
    win.close()
    queue.shutdown(wait=True, timeout=30)


def _picture_doc(w: int = 480, h: int = 320) -> Document:
    doc = Document(w, h)
    yy, xx = np.mgrid[0:h, 0:w]
    px = np.zeros((h, w, 4), np.uint8)
    px[..., 0] = (xx * 255 // w).astype(np.uint8)
    px[..., 1] = (yy * 255 // h).astype(np.uint8)
    px[..., 2] = 90
    px[..., 3] = 255
    px[100:140, 200:260, :3] = 250  # the "object" to remove
    doc.add_layer(name="Photo", pixels=px)
    doc.history.clear()
    return doc


def test_scale_request_shrinks_inputs_and_pixel_parameters():
    import ganpaint_inpaint

    from ganpaint.core.toolio import build_request
    from ganpaint.qt.fill_preview import scale_request

    spec = ganpaint_inpaint.ganpaint_register_tools()[0]
    doc = _picture_doc(1024, 512)
    doc.select_rect(Rect(400, 200, 100, 50))
    req = build_request(doc, spec, None, {"grow": 8})
    small, s = scale_request(req, 256)
    assert s == 0.25 and small.size == (256, 128) and small.preview
    assert small.image.shape == (128, 256, 3) and small.mask.shape == (128, 256) and small.alpha.shape == (128, 256)
    assert small.params["grow"] == 2 and small.params["work_size"] == 256
    assert small.mask[55, 112] == pytest.approx(1.0) and small.mask[62, 112] == pytest.approx(0.5) and small.mask[10, 10] == 0
    assert scale_request(small, 256)[1] == 1.0  # small enough: unchanged


def _wait_preview(qtbot, fp, runs: int) -> None:
    qtbot.waitUntil(lambda: fp.runs >= runs and fp.job_id is None and fp.image is not None, timeout=60000)


def test_live_preview_runs_debounced_at_reduced_size_and_changes_nothing(inpaint_window, qtbot):
    win = inpaint_window
    fp = win.fill_preview
    other = next(s.id for s in win.tool_specs() if s.id != "inpaint")
    win.tools_panel.set_plugin_tool(other)
    win.controller.set_document(_picture_doc())
    doc = win.controller.document
    doc.select_rect(Rect(190, 90, 80, 60))
    qtbot.wait(600)
    assert fp.runs == 0  # not while another tool's panel is shown
    win.tools_panel.set_plugin_tool("inpaint")
    # several quick changes make one run (debounced), at most PREVIEW_SIDE pixels a side
    for k in range(4):
        doc.select_rect(Rect(190 - k, 90, 80 + k, 60))
    _wait_preview(qtbot, fp, 1)
    assert fp.runs == 1
    assert max(fp.image.width(), fp.image.height()) == 256
    from ganpaint.qt.qimage import qimage_to_rgba

    rgba = qimage_to_rgba(fp.image)
    s = 256 / 480
    inside = rgba[int(120 * s), int(230 * s)]
    assert inside[3] == 255 and inside[:3].max() < 240  # the white object is filled from around it
    assert rgba[5, 5, 3] == 0  # nothing shown away from the area
    # the document did not change: no result layer, no history step of the preview
    assert len(doc.layers) == 1
    assert not any("Inpaint" in e for e in doc.history.entries)
    # the canvas draws it over the picture
    img = win.canvas.grab().toImage()
    assert not img.isNull()
    # turning it off clears it; switching to another tool's panel too
    win.action_map["fill_preview"].trigger()
    assert fp.image is None
    win.action_map["fill_preview"].trigger()
    _wait_preview(qtbot, fp, 2)
    win.tools_panel.set_plugin_tool(other)
    QApplication.processEvents()
    assert fp.image is None
    # an empty selection: no preview run at all
    win.tools_panel.set_plugin_tool("inpaint")
    doc.select_none()
    runs = fp.runs
    qtbot.wait(600)
    assert fp.runs == runs and fp.image is None
