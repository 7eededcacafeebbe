"""Issue 12, point 4: while a burst of results is applied, the GUI thread's work per event-loop
turn stays bounded: a slice of the burst stops BEFORE it would pass the runner's budget
(counting the next result and the batch's announcement), the Layers panel samples only new
layers when the list changes, and its thumbnail check is sliced too.

The time is a fake clock advanced by instrumented functions (a result costs 10 ms, the
announcement 2 ms per result), so the bounds are exact and do not depend on the machine's load."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ganpaint.core.document import Document
from ganpaint.qt import tool_runner as runner_module
from ganpaint.qt.panels import layers as layers_module
from ganpaint.qt.panels.layers import COL_NAME, LayersPanel

from .conftest import held_results


class _Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def perf_counter(self) -> float:
        return self.t


def test_each_slice_of_a_burst_stays_within_the_budget(window, qtbot, monkeypatch):
    doc = window.controller.document
    runner = window.runner
    held = held_results(window, qtbot, 12)
    clock = _Clock()
    monkeypatch.setattr(runner_module, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    per_result, per_announced = 0.010, 0.002
    slices: list[list[float]] = []  # [work, results] of each slice
    real_finish = runner._finish

    def finish(msg):  # noqa: ANN001, ANN202
        if not slices or slices[-1][2]:
            slices.append([0.0, 0, False])
        clock.t += per_result
        slices[-1][0] += per_result
        slices[-1][1] += 1
        return real_finish(msg)

    def announced() -> None:  # the views' refresh at the end of the batch
        cost = per_announced * slices[-1][1]
        clock.t += cost
        slices[-1][0] += cost
        slices[-1][2] = True

    monkeypatch.setattr(runner, "_finish", finish)
    doc.events.layers_changed.connect(announced)
    runner.batch_budget_s = 0.03
    n0 = len(doc.layers)
    for msg in held:
        runner._on_finished(msg)
    qtbot.waitUntil(lambda: len(doc.layers) == n0 + 12, timeout=20000)
    doc.events.layers_changed.disconnect(announced)
    assert sum(s[1] for s in slices) == 12  # every result applied, each its own undo step
    assert doc.history.index >= 12
    # the first slice knows no announcement cost yet (10+10+10 = 30 ms of results, then the
    # announcement); the later ones count it in and stay within the budget
    assert all(s[1] >= 1 for s in slices)
    assert len(slices) >= 4  # the burst was spread over several turns
    for work, count, _ in slices[1:]:
        assert work <= runner.batch_budget_s + 1e-9, (work, count)
    assert slices[0][0] <= runner.batch_budget_s + 3 * per_announced + 1e-9


def test_a_list_change_samples_only_the_new_layers(qtbot, monkeypatch):
    doc = Document(400, 300)
    for i in range(30):
        px = np.zeros((300, 400, 4), np.uint8)
        px[i * 5:i * 5 + 5, :, :] = 255
        doc.add_layer(name=f"L{i}", pixels=px)
    panel = LayersPanel(doc)
    qtbot.addWidget(panel)
    sampled: list[str] = []
    real = LayersPanel._thumb

    def counting(self, layer):  # noqa: ANN001, ANN202
        sampled.append(layer.name)
        return real(self, layer)

    monkeypatch.setattr(LayersPanel, "_thumb", counting)
    filled: list[str] = []
    real_fill = LayersPanel._fill
    monkeypatch.setattr(LayersPanel, "_fill", lambda self, item, layer: filled.append(layer.name)
                        or real_fill(self, item, layer))

    def shown() -> list[str]:
        return [panel.tree.topLevelItem(r).text(COL_NAME) for r in range(panel.tree.topLevelItemCount())]

    doc.active_index = 10
    with doc.batch():  # two results land above the active layer, in the middle of the list
        doc.add_layer(name="r1", pixels=np.full((300, 400, 4), 200, np.uint8))
        doc.add_layer(name="r2", pixels=np.full((300, 400, 4), 100, np.uint8))
    assert sorted(sampled) == ["r1", "r2"]  # not the 30 rows already shown
    assert sorted(filled) == ["r1", "r2"]  # the rows that moved down keep their contents
    assert shown() == [la.name for la in reversed(doc.layers)]
    # reorder, delete and undo still follow the document
    doc.move_layer(3, 20)
    doc.delete_layer(5)
    assert shown() == [la.name for la in reversed(doc.layers)]
    doc.undo()
    doc.undo()
    doc.undo()
    assert shown() == [la.name for la in reversed(doc.layers)]
    assert panel.tree.currentItem() is panel.tree.topLevelItem(panel.row_of(doc.active_index))


def test_thumbnail_checks_are_sliced_and_reach_every_row(qtbot, monkeypatch):
    doc = Document(200, 100)
    for i in range(20):
        doc.add_layer(name=f"L{i}", pixels=np.zeros((100, 200, 4), np.uint8))
    panel = LayersPanel(doc)
    qtbot.addWidget(panel)
    clock = _Clock()
    monkeypatch.setattr(layers_module, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    sampled: list[str] = []
    real = LayersPanel._thumb

    def costly(self, layer):  # noqa: ANN001, ANN202
        clock.t += 0.004  # 4 ms a row
        sampled.append(layer.name)
        return real(self, layer)

    monkeypatch.setattr(LayersPanel, "_thumb", costly)
    panel.thumbs_budget_s = 0.01
    bottom = doc.layers[0]
    icon_before = panel.tree.topLevelItem(19).icon(COL_NAME).cacheKey()
    bottom.pixels[:] = 255  # the bottom row (the last one checked) changes
    panel.refresh_thumbnails()
    assert len(sampled) == 3  # 12 ms of checks, then the rest waits for the next turn
    qtbot.waitUntil(lambda: len(sampled) >= 20, timeout=5000)
    qtbot.wait(20)
    assert len(sampled) == 20  # every row once, then it stops
    assert panel.tree.topLevelItem(19).icon(COL_NAME).cacheKey() != icon_before
