"""Issue 12, point 4: results that arrive in one event-loop turn are applied as one batch:
one layers-list rebuild, one history redraw, one composite of the changed area; each result
is still its own undo step."""

from __future__ import annotations

import numpy as np

from ganpaint.core import document as document_module

from .conftest import held_results


def test_a_long_burst_is_spread_over_several_turns(window, qtbot):
    """Past the time budget of one turn, the rest waits for the next: the window keeps
    painting and taking input between the slices; every result still arrives."""
    doc = window.controller.document
    runner = window.runner
    held = held_results(window, qtbot, 6)
    runner.batch_budget_s = 0.0  # every result past the first of a turn waits for the next
    layers_changed: list[int] = []
    doc.events.layers_changed.connect(lambda: layers_changed.append(1))
    n_layers = len(doc.layers)
    for msg in held:
        runner._on_finished(msg)
    qtbot.waitUntil(lambda: len(doc.layers) == n_layers + 6, timeout=10000)
    assert len(layers_changed) == 6  # six slices of one
    assert runner.pending() == []


def test_a_burst_of_results_is_applied_as_one_batch(window, qtbot, monkeypatch):
    window.runner.batch_budget_s = 60.0  # all of them fit one turn here, however loaded the machine
    doc = window.controller.document
    spec = next(s for s in window.tool_specs() if s.id == "invert")
    runner, bridge = window.runner, window.bridge
    # hold the finished messages back, then hand them over in one turn
    held: list = []
    bridge.jobFinished.disconnect(runner._on_finished)
    bridge.jobFinished.connect(held.append)
    n = 12
    doc.active_index = 0
    for _ in range(n):
        assert window.run_tool(spec, {})
    qtbot.waitUntil(lambda: len(held) == n, timeout=60000)
    bridge.jobFinished.disconnect(held.append)
    bridge.jobFinished.connect(runner._on_finished)
    qtbot.wait(50)
    window.canvas.repaint()

    counts = {"layers": 0, "history": 0, "pixels": 0, "composite": 0}
    announced: list = []
    doc.events.pixels_changed.connect(announced.append)
    doc.events.layers_changed.connect(lambda: counts.__setitem__("layers", counts["layers"] + 1))
    doc.events.history_changed.connect(lambda: counts.__setitem__("history", counts["history"] + 1))
    doc.events.pixels_changed.connect(lambda r: counts.__setitem__("pixels", counts["pixels"] + 1))
    real = document_module.composite_layers

    def counting(layers, rect, *a, **k):  # noqa: ANN001, ANN202
        counts["composite"] += rect.w * rect.h
        return real(layers, rect, *a, **k)

    monkeypatch.setattr(document_module, "composite_layers", counting)
    applied: list[str] = []
    runner.applied.connect(lambda job_id, cmd: applied.append(job_id))
    steps = doc.history.index
    layers_before = len(doc.layers)
    for msg in held:  # one event-loop turn's deliveries
        runner._on_finished(msg)
    assert not applied  # applied after the turn, together
    qtbot.waitUntil(lambda: len(applied) == n, timeout=10000)
    window.canvas.flush()
    assert counts["layers"] == 1 and counts["history"] == 1 and counts["pixels"] == 1
    # the canvas composites the changed area once (not once per result)
    assert counts["composite"] == announced[0].w * announced[0].h
    assert len(doc.layers) == layers_before + n
    assert doc.history.index == steps + n  # one undo step per result
    # the layers list shows every result
    assert window.docks["layers"].widget().tree.topLevelItemCount() == len(doc.layers)
    doc.undo()
    assert len(doc.layers) == layers_before + n - 1
    assert runner.pending() == []


def test_a_single_result_is_still_applied(window, qtbot):
    doc = window.controller.document
    spec = next(s for s in window.tool_specs() if s.id == "invert")
    before = doc.layers[0].pixels.copy()
    doc.active_index = 0
    applied: list[str] = []
    window.runner.applied.connect(lambda job_id, cmd: applied.append(job_id))
    assert window.run_tool(spec, {})
    qtbot.waitUntil(lambda: bool(applied), timeout=60000)
    top = doc.active_layer
    assert top.result is not None
    np.testing.assert_array_equal(top.pixels[..., :3], 255 - before[..., :3])
