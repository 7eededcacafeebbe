"""End to end through the real window: open, paint, select, run a plugin tool, undo,
redo, save .ora, reopen, compare pixels."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF

from ganpaint.core.layers import LayerKind
from ganpaint.core.paths import resources_dir

from .conftest import drag


def test_paint_select_run_undo_save_reopen(window, qtbot, tmp_path, monkeypatch):
    sample = resources_dir() / "samples" / "meadow.png"
    assert window.open_path(str(sample))
    doc = window.controller.document
    assert (doc.width, doc.height) == (768, 512)
    assert window.windowTitle().startswith("meadow.png")
    cv = window.canvas

    # paint a red stroke on a new layer with the mouse
    window.action_map["layer_new"].trigger()
    window.controller.set_tool("brush")
    window.controller.set_brush(size=10, hardness=1.0, opacity=1.0, color=(1.0, 0.0, 0.0))
    pts = [cv.doc_to_widget(QPointF(x, 100)) for x in range(100, 301, 20)]
    drag(cv, pts)
    paint = doc.layers[doc.active_index]
    assert tuple(paint.pixels[100, 200]) == (255, 0, 0, 255)
    assert window.windowTitle().startswith("meadow.png*")

    # select a rectangle over part of the picture
    window.controller.set_tool("rect_select")
    drag(cv, [cv.doc_to_widget(QPointF(50, 50)), cv.doc_to_widget(QPointF(250, 200))])
    assert doc.selection.bbox().x == 50 and doc.selection.bbox().right == 250

    # run Invert on the background through the menu; the job runs on the engine
    doc.active_index = 0
    n_layers = len(doc.layers)
    window.action_map["run_invert"].trigger()
    qtbot.waitUntil(lambda: len(doc.layers) == n_layers + 1, timeout=15000)
    result = doc.layers[1]
    assert result.kind == LayerKind.RESULT and result.result is not None
    assert result.result.tool_id == "invert"
    base = doc.layers[0].pixels
    inside, outside = (120, 150), (400, 300)  # (y, x)
    assert np.array_equal(result.pixels[inside][:3], 255 - base[inside][:3])
    # composited through the selection: outside it the result shows the source unchanged
    assert np.array_equal(result.pixels[outside], base[outside]) or result.pixels[outside][3] == 0
    comp = doc.composite()
    assert np.array_equal(window.canvas.cache_rgba(), comp)

    # undo removes the result layer, redo brings it back
    window.action_map["undo"].trigger()
    assert len(doc.layers) == n_layers
    assert all(la.kind != LayerKind.RESULT for la in doc.layers)
    window.action_map["redo"].trigger()
    assert len(doc.layers) == n_layers + 1 and doc.layers[1].kind == LayerKind.RESULT

    # save as .ora, reopen, compare
    target = tmp_path / "meadow-edit.ora"
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))
    assert window.action_map["save"].trigger() is None and target.exists()
    assert "*" not in window.windowTitle() and window.windowTitle().startswith("meadow-edit.ora")
    layers_before = [(la.name, la.kind, la.pixels.copy()) for la in doc.layers]
    comp_before = doc.composite()
    assert window.open_path(str(target))
    doc2 = window.controller.document
    assert doc2 is not doc
    assert [(la.name, la.kind) for la in doc2.layers] == [(n, k) for n, k, _ in layers_before]
    for la, (_, _, px) in zip(doc2.layers, layers_before, strict=True):
        assert np.array_equal(la.pixels, px)
    assert doc2.layers[1].result is not None and doc2.layers[1].result.tool_id == "invert"
    assert np.array_equal(doc2.composite(), comp_before)
    assert np.array_equal(window.canvas.cache_rgba(), comp_before)


def test_a_failing_tool_shows_an_error_and_changes_nothing(window, qtbot, answers):
    from ganpaint.core.specs import ToolSpec

    spec = ToolSpec(id="broken", title="Broken", run="ganpaint_nonexistent_module:run", plugin="test")
    doc = window.controller.document
    n = len(doc.layers)
    steps = doc.history.index
    failed = []
    window.runner.failed.connect(lambda *a: failed.append(a))
    job_id = window.run_tool(spec, {})
    assert job_id
    qtbot.waitUntil(lambda: bool(failed), timeout=10000)
    assert "broken" in failed[0][1].lower() or "ganpaint_nonexistent_module" in failed[0][1]
    assert len(doc.layers) == n and doc.history.index == steps
    assert window.isVisible()


def test_live_parameter_change_reruns_the_active_result_as_one_step(window, qtbot):
    window.new_document_silent(160, 120)
    doc = window.controller.document
    spec = next(s for s in window.tool_specs() if s.id == "blur")
    # a picture with an edge, so the blur radius shows
    px = np.zeros((doc.height, doc.width, 4), np.uint8)
    px[:, : doc.width // 2, :3] = 255
    px[:, :, 3] = 255
    doc.replace_pixels(0, px)
    n = len(doc.layers)
    window.run_tool(spec, {"radius": 1.0})
    qtbot.waitUntil(lambda: len(doc.layers) == n + 1, timeout=15000)
    result = doc.active_layer
    assert result.result.tool_id == "blur" and result.result.params["radius"] == 1.0
    first = result.pixels.copy()
    steps = doc.history.index
    window._on_live_changed("blur", {"radius": 6.0})  # what the panel's debounced signal calls
    qtbot.waitUntil(lambda: doc.active_layer.result.params["radius"] == 6.0, timeout=15000)
    assert doc.history.index == steps + 1 and len(doc.layers) == n + 1
    assert not np.array_equal(doc.active_layer.pixels, first)
    assert np.array_equal(window.canvas.cache_rgba(), doc.composite())
    window.controller.undo()
    assert doc.active_layer.result.params["radius"] == 1.0
    assert np.array_equal(doc.active_layer.pixels, first)


def test_tools_panel_run_button_and_brush_sync(window, qtbot):
    from PySide6.QtCore import Qt

    window.new_document_silent(96, 64)
    doc = window.controller.document
    panel = window.tools_panel
    panel.set_brush(size=33)
    assert window.controller.brush.size == 33
    window.controller.set_brush(color=(0.0, 1.0, 0.0))
    assert tuple(panel.brush().color) == (0.0, 1.0, 0.0)
    pp = panel.set_plugin_tool("invert")
    n = len(doc.layers)
    qtbot.mouseClick(pp.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(doc.layers) == n + 1, timeout=15000)
    assert doc.active_layer.result.tool_id == "invert"
    assert tuple(doc.active_layer.pixels[5, 5][:3]) == (0, 0, 0)  # white inverted


def slow_tool(request, ctx):
    """A tool that reports progress until it is cancelled (used by the cancel test)."""
    import time

    for i in range(1000):
        ctx.progress(i / 1000, "working")
        time.sleep(0.01)
    raise AssertionError("the job was not cancelled")


def test_cancelled_job_changes_nothing(window, qtbot):
    from ganpaint.core.specs import ToolSpec
    from ganpaint.engine.jobs import JobState

    window.new_document_silent(32, 24)
    doc = window.controller.document
    spec = ToolSpec(id="slow", title="Slow", run=f"{__name__}:slow_tool", plugin="test")
    steps, n = doc.history.index, len(doc.layers)
    cancelled = []
    window.runner.cancelled.connect(cancelled.append)
    progressed = []
    window.bridge.jobProgress.connect(progressed.append)
    job_id = window.run_tool(spec, {})
    qtbot.waitUntil(lambda: bool(progressed), timeout=10000)
    jobs_panel = window.docks["jobs"].widget()
    jobs_panel.cancel(job_id)  # the Jobs panel's cancel button
    qtbot.waitUntil(lambda: cancelled == [job_id], timeout=10000)
    assert jobs_panel.state_of(job_id) is JobState.CANCELLED
    assert window.bridge.job(job_id) is None  # handled jobs are forgotten (results can be large)
    assert doc.history.index == steps and len(doc.layers) == n
