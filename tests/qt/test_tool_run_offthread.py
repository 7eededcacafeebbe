"""Issue 12, point 4: a tool run does its per-pixel work off the GUI thread.

The GUI thread only copies the input layers (uint8) and swaps the prepared result in as one
undoable command; the float32 request, the compositing through the mask, the 8-bit rounding
and the result layer are made in the job's thread. The result, the layer it makes and its
undo/redo are the same as when everything ran on the GUI thread (``build_request`` +
``apply_result``)."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from ganpaint.core import toolio
from ganpaint.core.document import Document
from ganpaint.core.geometry import Rect
from ganpaint.core.specs import OutputMode


def _doc(w: int, h: int) -> Document:
    rng = np.random.default_rng(3)
    doc = Document(w, h)
    for i in range(3):
        px = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
        if i == 0:
            px[..., 3] = 255
        doc.add_layer(name=f"Layer {i}", pixels=px)
    return doc


def _invert(window, output: OutputMode | None = None):  # noqa: ANN001, ANN202
    spec = next(s for s in window.tool_specs() if s.id == "invert")
    return spec if output is None else dataclasses.replace(spec, output=output)


def test_the_per_pixel_work_of_a_run_is_not_on_the_gui_thread(window, qtbot, monkeypatch):
    """Float conversion and compositing (the ~1 s each of a 12 Mpx run) happen in other threads."""
    doc = _doc(400, 300)
    window.controller.set_document(doc, None)
    doc.select_rect(Rect(50, 40, 200, 150))
    doc.active_index = 1
    on_gui: list[str] = []
    main = threading.main_thread()

    def watch(name):  # noqa: ANN001, ANN202
        real = getattr(toolio, name)

        def wrapped(*a, **k):  # noqa: ANN002, ANN003, ANN202
            if threading.current_thread() is main:
                on_gui.append(name)
            return real(*a, **k)

        monkeypatch.setattr(toolio, name, wrapped)

    for name in ("_rgb_alpha", "to_uint8", "result_pixels", "composite_result", "layer_on_canvas"):
        watch(name)
    applied: list = []
    window.runner.applied.connect(lambda job_id, cmd: applied.append(cmd))
    n = len(doc.layers)
    assert window.run_tool(_invert(window), {})
    qtbot.waitUntil(lambda: bool(applied), timeout=30000)
    assert len(doc.layers) == n + 1
    assert on_gui == []
    # a live re-run of the result layer (slider released) and a draft: the same
    layer = doc.layers[2]
    assert layer.result is not None and layer.result.tool_id == "invert"
    steps = doc.history.index
    assert window.runner.rerun(layer.id, _invert(window), {}, preview=False)
    qtbot.waitUntil(lambda: len(applied) == 2, timeout=30000)
    assert doc.history.index == steps + 1
    shown: list = []
    doc.events.pixels_changed.connect(shown.append)
    assert window.runner.rerun(layer.id, _invert(window), {}, preview=True)
    qtbot.waitUntil(lambda: not window.runner.pending() and bool(shown), timeout=30000)
    assert on_gui == []


def _run_both(window, qtbot, spec, doc: Document, ref: Document, source_index: int) -> None:  # noqa: ANN001
    """Run ``spec`` on ``doc`` through the runner, and apply the same result to ``ref`` the
    old way (request and result handled on this thread)."""
    results: list = []
    window.bridge.jobFinished.connect(lambda msg: results.append(msg.result))
    applied: list = []
    window.runner.applied.connect(lambda job_id, cmd: applied.append(cmd))
    doc.active_index = ref.active_index = source_index
    assert window.run_tool(spec, {})
    qtbot.waitUntil(lambda: bool(applied) and bool(results), timeout=30000)
    request = toolio.build_request(ref, spec, None, {})
    toolio.apply_result(ref, spec, request, results[-1], ref.layers[source_index].id)


def _same(a: Document, b: Document) -> None:
    assert len(a.layers) == len(b.layers)
    for la, lb in zip(a.layers, b.layers, strict=True):
        assert la.name == lb.name and (la.x, la.y) == (lb.x, lb.y) and la.kind == lb.kind
        assert np.array_equal(la.pixels, lb.pixels)
        assert (la.result is None) == (lb.result is None)
        if la.result is not None:
            assert la.result.params == lb.result.params
            assert la.result.source_layer_id == a.layers[a.layers.index(la) - 1].id
            assert np.array_equal(la.result.before, lb.result.before)
    assert a.active_index == b.active_index


@pytest.mark.parametrize("output", [None, OutputMode.REPLACE])
def test_result_and_undo_match_the_gui_thread_path(window, qtbot, output):
    """Through a selection, with a half-transparent source: the new result layer (or the
    replaced pixels) and undo/redo are bit-identical to the in-thread path."""
    doc, ref = _doc(96, 64), _doc(96, 64)
    for d in (doc, ref):
        d.select_ellipse(Rect(10, 8, 60, 40))
    window.controller.set_document(doc, None)
    spec = _invert(window, output)
    before = [layer.pixels.copy() for layer in doc.layers]
    _run_both(window, qtbot, spec, doc, ref, 1)
    _same(doc, ref)
    if output is OutputMode.REPLACE:
        assert not np.array_equal(doc.layers[1].pixels, before[1])
    doc.undo()
    ref.undo()
    _same(doc, ref)
    assert all(np.array_equal(layer.pixels, b) for layer, b in zip(doc.layers, before, strict=True))
    doc.redo()
    ref.redo()
    _same(doc, ref)


def test_a_stroke_after_queuing_does_not_reach_the_request(window, qtbot):
    """The GUI thread's copy is taken when the run is queued: pixels changed in place
    afterwards (a brush stroke) are not what the tool sees, as before."""
    doc = _doc(64, 48)
    window.controller.set_document(doc, None)
    spec = _invert(window)
    held: list = []
    runner, bridge = window.runner, window.bridge
    bridge.jobFinished.disconnect(runner._on_finished)
    bridge.jobFinished.connect(held.append)
    doc.active_index = 0
    seen = doc.layers[0].pixels.copy()
    job_id = window.run_tool(spec, {})
    doc.layers[0].pixels[...] = 7  # in place, as PixelPatch and the brush write
    qtbot.waitUntil(lambda: bool(held), timeout=30000)
    request = runner._pending[job_id].request
    assert np.array_equal(toolio.to_uint8(request.image), seen[..., :3])
    bridge.jobFinished.connect(runner._on_finished)
    runner._on_finished(held[0])
    qtbot.waitUntil(lambda: not runner.pending(), timeout=10000)
