"""A live slider dragged on a result layer, through the real window: drafts while the
slider is held (no undo steps, at most one draft job in flight), exactly one undo step on
release that undoes to the layer before the drag, and nothing lost when the release run
fails or the drag ends where it started."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest

from ganpaint import ParamSpec, ToolResult, ToolSpec, hookimpl

GANPAINT_API_VERSION = 1
TOOL = "shade"
#: (level, preview) of every run, in the worker
CALLS: list[tuple[float, bool]] = []
#: a release run at this level raises (a draft at it does not)
FAIL_AT: list[float] = []
IN_FLIGHT = threading.Semaphore(1)
OVERLAP: list[bool] = []


def shade(request, ctx):
    """Paints the canvas grey at ``level``; drafts take a little while, as a real tool's would."""
    level = float(request.params["level"])
    if not IN_FLIGHT.acquire(blocking=False):
        OVERLAP.append(True)
    try:
        CALLS.append((level, request.preview))
        ctx.progress(0.5, "shading")
        time.sleep(0.04 if request.preview else 0.01)
        if not request.preview and any(abs(level - f) < 1e-6 for f in FAIL_AT):
            raise RuntimeError("the shader broke")
        w, h = request.size
        return ToolResult(image=np.full((h, w, 3), level, np.float32), metadata={"draft": request.preview})
    finally:
        IN_FLIGHT.release()


@hookimpl
def ganpaint_register_tools():
    return [ToolSpec(id=TOOL, title="Shade", run=f"{__name__}:shade", inputs=(),
                     params=(ParamSpec("level", "float", default=0.2, minimum=0.0, maximum=1.0, step=0.05,
                                       live=True),))]


@pytest.fixture
def shaded(window, qtbot):
    """The window with one Shade result layer at level 0.2, active, its panel shown."""
    CALLS.clear()
    FAIL_AT.clear()
    OVERLAP.clear()
    window.plugin_manager.register(sys.modules[__name__], "shade-test")
    window.tools_panel.set_plugin_tools(window.tool_specs())
    window.new_document_silent(24, 16)
    doc = window.controller.document
    spec = next(s for s in window.tool_specs() if s.id == TOOL)
    applied: list[str] = []
    window.runner.applied.connect(lambda job_id, cmd: applied.append(job_id))
    window.run_tool(spec, {"level": 0.2})
    qtbot.waitUntil(lambda: bool(applied), timeout=10000)
    layer = doc.active_layer
    assert layer.result is not None and layer.result.tool_id == TOOL
    panel = window.tools_panel.set_plugin_tool(TOOL)
    qtbot.waitUntil(lambda: panel.values()["level"] == pytest.approx(0.2), timeout=2000)
    qtbot.wait(250)  # past the panel's debounce: showing the layer's values re-runs nothing
    CALLS.clear()
    return window, doc, layer, panel


def _grey(layer) -> int:
    return int(layer.pixels[0, 0, 0])


def _drag(qtbot, window, panel, positions, *, pause_ms=25):
    """Hold the level slider, move it through ``positions`` (slider steps of 0.05), checking
    at every move that no undo step appeared and at most one draft job is in flight."""
    doc = window.controller.document
    steps = doc.history.index
    slider = panel.fields["level"].widget.slider
    slider.setSliderDown(True)
    for pos in positions:
        slider.setSliderPosition(pos)
        qtbot.wait(pause_ms)
        drafts = [job_id for job_id, p in window.runner._pending.items()
                  if p.preview and not getattr(window.bridge.job(job_id), "cancel_requested", True)]
        assert len(drafts) <= 1, "one draft job in flight at a time (besides replaced ones ending)"
        assert doc.history.index == steps, "a draft added an undo step"
    return slider


def test_drafts_add_no_undo_step_and_release_adds_exactly_one(shaded, qtbot):
    window, doc, layer, panel = shaded
    steps, entries = doc.history.index, list(doc.history.entries)
    base_pixels = layer.pixels.copy()
    assert _grey(layer) == round(0.2 * 255)
    slider = _drag(qtbot, window, panel, [5, 7, 9, 11, 13, 15, 16])
    qtbot.waitUntil(lambda: _grey(layer) != round(0.2 * 255), timeout=5000)  # a draft is shown
    qtbot.wait(150)
    assert doc.history.index == steps and list(doc.history.entries) == entries
    assert layer.result.params["level"] == pytest.approx(0.2)  # drafts change only the pixels
    assert window.runner.is_dragging(layer.id)
    drafts = [lv for lv, preview in CALLS if preview]
    assert drafts and all(preview for _, preview in CALLS)
    assert len(drafts) < 7  # values that came while a draft ran waited (only the newest ran)
    slider.setSliderDown(False)
    qtbot.waitUntil(lambda: not window.runner.is_dragging(layer.id), timeout=10000)
    qtbot.waitUntil(lambda: not window.runner.pending(), timeout=10000)
    assert CALLS[-1] == (pytest.approx(0.8), False)  # the release run, full quality
    assert doc.history.index == steps + 1 and len(doc.history.entries) == len(entries) + 1
    assert layer.result.params["level"] == pytest.approx(0.8)
    assert layer.result.metadata["draft"] is False
    assert _grey(layer) == round(0.8 * 255)
    assert not OVERLAP
    # the one step undoes to the layer before the drag, and redoes to the release result
    window.controller.undo()
    assert np.array_equal(layer.pixels, base_pixels)
    assert layer.result.params["level"] == pytest.approx(0.2) and doc.history.index == steps
    qtbot.waitUntil(lambda: panel.values()["level"] == pytest.approx(0.2), timeout=2000)
    window.controller.redo()
    assert _grey(layer) == round(0.8 * 255) and layer.result.params["level"] == pytest.approx(0.8)


def test_a_failed_release_run_puts_the_layer_back(shaded, qtbot, answers):
    window, doc, layer, panel = shaded
    steps = doc.history.index
    base_pixels = layer.pixels.copy()
    FAIL_AT.append(0.6)
    failed: list[str] = []
    window.runner.toolFailed.connect(lambda spec, message, tb: failed.append(message))
    slider = _drag(qtbot, window, panel, [6, 9, 12])
    qtbot.waitUntil(lambda: _grey(layer) != round(0.2 * 255), timeout=5000)
    slider.setSliderDown(False)
    qtbot.waitUntil(lambda: bool(failed), timeout=10000)
    assert "the shader broke" in failed[0]
    assert any(kind == "open" and "Shade" in title for kind, title, _ in answers.calls)  # shown
    assert not window.runner.is_dragging(layer.id)
    assert np.array_equal(layer.pixels, base_pixels) and layer.result.params["level"] == pytest.approx(0.2)
    assert doc.history.index == steps
    # the next drag works as usual
    FAIL_AT.clear()
    slider = _drag(qtbot, window, panel, [8, 10])
    slider.setSliderDown(False)
    qtbot.waitUntil(lambda: layer.result.params["level"] == pytest.approx(0.5), timeout=10000)
    assert doc.history.index == steps + 1


def test_dragging_back_to_the_start_leaves_no_step(shaded, qtbot):
    window, doc, layer, panel = shaded
    steps = doc.history.index
    base_pixels = layer.pixels.copy()
    slider = _drag(qtbot, window, panel, [8, 12, 8])
    qtbot.waitUntil(lambda: _grey(layer) != round(0.2 * 255), timeout=5000)
    slider.setSliderPosition(4)  # back where it was: 0.2
    slider.setSliderDown(False)
    qtbot.waitUntil(lambda: not window.runner.is_dragging(layer.id), timeout=5000)
    qtbot.waitUntil(lambda: not window.runner.pending(), timeout=10000)
    qtbot.wait(100)
    assert doc.history.index == steps
    assert np.array_equal(layer.pixels, base_pixels)


def test_a_second_drag_before_the_first_result_is_one_step(shaded, qtbot):
    window, doc, layer, panel = shaded
    steps = doc.history.index
    base_pixels = layer.pixels.copy()
    slider = _drag(qtbot, window, panel, [6, 8], pause_ms=10)
    slider.setSliderDown(False)  # the release run is queued ...
    slider = _drag(qtbot, window, panel, [10, 14], pause_ms=10)  # ... and overtaken by a new drag
    slider.setSliderDown(False)
    qtbot.waitUntil(lambda: not window.runner.is_dragging(layer.id), timeout=10000)
    qtbot.waitUntil(lambda: not window.runner.pending(), timeout=10000)
    qtbot.wait(100)
    assert layer.result.params["level"] == pytest.approx(0.7)
    assert doc.history.index in (steps + 1, steps + 2)  # the first release may have landed first
    window.controller.undo()
    if doc.history.index == steps + 1:
        window.controller.undo()
    assert np.array_equal(layer.pixels, base_pixels)


def test_a_key_press_on_the_slider_is_a_final_run(shaded, qtbot):
    window, doc, layer, panel = shaded
    steps = doc.history.index
    panel.fields["level"].set(0.35)  # keys, wheel, typing: no drag
    qtbot.waitUntil(lambda: layer.result.params["level"] == pytest.approx(0.35), timeout=10000)
    assert CALLS and all(not preview for _, preview in CALLS)
    assert doc.history.index == steps + 1
