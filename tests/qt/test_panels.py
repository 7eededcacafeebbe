"""Layers, History, Jobs and Tools panels driven with qtbot against a real Document and JobQueue."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from ganpaint.core.document import Document
from ganpaint.core.layers import BlendMode, LayerKind
from ganpaint.core.specs import ParamSpec, ToolSpec
from ganpaint.engine.jobs import Job, JobQueue, JobState
from ganpaint.qt.bridge import JobBridge
from ganpaint.qt.panels import BrushSettings, HistoryPanel, JobsPanel, LayersPanel, ToolsPanel
from ganpaint.qt.panels.jobs import PAUSED_TEXT
from ganpaint.qt.panels.layers import COL_LOCK, COL_NAME, COL_VISIBLE


@pytest.fixture
def doc():
    d = Document(32, 24)
    d.add_layer(name="Background", pixels=np.full((24, 32, 4), 200, np.uint8))
    d.add_layer(name="Ink")
    return d


@pytest.fixture
def layers(qtbot, doc):
    p = LayersPanel(doc)
    qtbot.addWidget(p)
    return p


def _item(panel, index):
    return panel.tree.topLevelItem(panel.row_of(index))


def test_layers_list_shows_the_stack_top_first(layers, doc):
    assert layers.tree.topLevelItemCount() == 2
    assert layers.tree.topLevelItem(0).text(COL_NAME) == "Ink"
    assert layers.tree.currentItem().text(COL_NAME) == doc.active_layer.name


def test_layer_buttons_are_undoable_document_operations(layers, doc):
    layers.buttons["add"].click()
    assert len(doc.layers) == 3 and layers.tree.topLevelItemCount() == 3
    layers.buttons["duplicate"].click()
    assert len(doc.layers) == 4 and doc.active_layer.name.endswith("copy")
    layers.buttons["down"].click()
    assert doc.layers[2].name.endswith("copy")
    layers.buttons["delete"].click()
    assert len(doc.layers) == 3
    doc.undo()
    assert len(doc.layers) == 4 and layers.tree.topLevelItemCount() == 4
    layers.buttons["flatten"].click()
    assert len(doc.layers) == 1 and layers.tree.topLevelItemCount() == 1
    doc.undo()
    assert len(doc.layers) == 4


def test_visibility_lock_name_and_selection(layers, doc, qtbot):
    layers._on_clicked(_item(layers, 1), COL_VISIBLE)
    assert doc.layers[1].visible is False
    layers._on_clicked(_item(layers, 0), COL_LOCK)
    assert doc.layers[0].locked is True
    layers.rename(1, "Lines")
    assert doc.layers[1].name == "Lines" and _item(layers, 1).text(COL_NAME) == "Lines"
    layers.tree.setCurrentItem(_item(layers, 0))
    assert doc.active_index == 0
    for _ in range(3):  # choosing the active layer is not a history step
        doc.undo()
    assert doc.layers[1].name == "Ink" and doc.layers[1].visible and not doc.layers[0].locked


def test_opacity_drag_is_one_step_and_blend_and_kind(layers, doc):
    steps = len(doc.history.entries)
    for v in (90, 70, 50):
        layers.opacity.setValue(v)
    assert doc.active_layer.opacity == pytest.approx(0.5)
    assert len(doc.history.entries) == steps + 1  # the drag merged into one step
    layers.blend.setCurrentIndex(layers.blend.findData("multiply"))
    assert doc.active_layer.blend is BlendMode.MULTIPLY
    layers.kind.setCurrentIndex(layers.kind.findData("sketch"))
    assert doc.active_layer.kind is LayerKind.SKETCH
    assert _item(layers, doc.active_index).text(2) == "sketch"
    doc.undo()
    assert doc.active_layer.kind is LayerKind.RASTER and layers.kind.currentData() == "raster"


def test_refused_operation_reports_an_error(layers, doc, qtbot):
    doc.set_layer_props(0, locked=True)
    doc.active_index = 1
    with qtbot.waitSignal(layers.errorOccurred) as blocker:
        layers.buttons["merge"].click()
    assert "locked" in blocker.args[0]
    assert len(doc.layers) == 2


def test_thumbnails_follow_pixel_changes(layers, doc, qtbot):
    before = _item(layers, 1).icon(COL_NAME).pixmap(40).toImage()
    doc.replace_pixels(1, np.full((24, 32, 4), (255, 0, 0, 255), np.uint8))
    qtbot.waitUntil(lambda: _item(layers, 1).icon(COL_NAME).pixmap(40).toImage() != before, timeout=2000)


def test_history_panel_jumps(qtbot, doc):
    p = HistoryPanel(doc)
    qtbot.addWidget(p)
    n = len(doc.history.entries)
    assert p.list.count() == n + 1 and p.list.currentRow() == n
    doc.add_layer(name="Third")
    assert p.list.count() == n + 2
    with qtbot.waitSignal(p.jumped):
        p._on_clicked(p.list.item(1))
    assert doc.history.index == 1 and len(doc.layers) == 1
    assert p.list.currentRow() == 1
    p._on_clicked(p.list.item(n + 1))
    assert doc.history.index == n + 1 and len(doc.layers) == 3


@pytest.fixture
def bridge(qtbot):
    q = JobQueue()
    b = JobBridge(q)
    yield b
    b.close()
    q.shutdown(wait=True, timeout=5)


def test_jobs_panel_follows_a_job(qtbot, bridge):
    panel = JobsPanel(bridge)
    qtbot.addWidget(panel)

    def work(inputs, ctx):
        for i in range(4):
            ctx.progress((i + 1) / 4, f"tile {i + 1} of 4")
        return "ok"

    with qtbot.waitSignal(bridge.jobFinished, timeout=5000):
        job = bridge.submit(Job("t", "interactive", work, title="Blur"))
    assert panel.state_of(job.id) is JobState.DONE
    row = panel.rows[job.id]
    assert row.bar.value() == 1000 and row.item.text(0) == "Blur" and not row.cancel.isEnabled()
    panel.clear_finished()
    assert job.id not in panel.rows and bridge.queue.get(job.id) is None


def test_jobs_panel_cancel_and_paused_training(qtbot, bridge):
    panel = JobsPanel(bridge)
    qtbot.addWidget(panel)
    started, release, never = threading.Event(), threading.Event(), threading.Event()

    def training(inputs, ctx):
        started.set()
        for _ in range(2000):  # ~10 s of steps, whatever ``release`` does: the cancel ends it
            ctx.progress(0.5, "epoch 1")
            never.wait(0.005)
        return None

    def interactive(inputs, ctx):
        release.wait(5)
        ctx.progress(1.0)
        return 1

    train = bridge.submit(Job("train", "training", training, title="Training"))
    assert started.wait(5)
    inter = bridge.submit(Job("tool", "interactive", interactive, title="Tool"))
    qtbot.waitUntil(lambda: panel.state_of(train.id) is JobState.PAUSED, timeout=5000)
    assert panel.message_of(train.id) == PAUSED_TEXT
    release.set()
    qtbot.waitUntil(lambda: panel.state_of(inter.id) is JobState.DONE, timeout=5000)
    qtbot.waitUntil(lambda: panel.state_of(train.id) is JobState.RUNNING, timeout=5000)
    with qtbot.waitSignal(bridge.jobFinished, timeout=5000):
        panel.rows[train.id].cancel.click()
    assert panel.state_of(train.id) is JobState.CANCELLED


def test_tools_panel_canvas_tools_and_brush(qtbot, doc):
    p = ToolsPanel(doc)
    qtbot.addWidget(p)
    assert p.tool() == "brush"
    with qtbot.waitSignal(p.toolChanged) as blocker:
        p.tool_buttons["lasso_select"].click()
    assert blocker.args == ["lasso_select"] and p.tool() == "lasso_select"
    with qtbot.waitSignal(p.brushChanged) as blocker:
        p.size.setValue(40)
    assert isinstance(blocker.args[0], BrushSettings) and blocker.args[0].size == 40
    p.bigger_brush()
    assert p.brush().size == 46 and p.size.value() == 46
    p.smaller_brush()
    assert p.brush().size == 40
    p.set_brush(size=1)
    p.smaller_brush()
    assert p.brush().size == 1
    p.set_color((1.0, 0.0, 0.0))
    assert p.brush().color == (1.0, 0.0, 0.0) and p.color_button.text() == "#ff0000"


def test_tools_panel_plugin_tools(qtbot, doc):
    p = ToolsPanel(doc)
    qtbot.addWidget(p)
    assert not p.plugin_combo.isEnabled()
    blur = ToolSpec(id="blur", title="Blur", run="m:f", params=(ParamSpec("radius", "float", default=2.0,
                                                                          minimum=0, maximum=50, live=True),))
    inv = ToolSpec(id="invert", title="Invert", run="m:g", category="Colour")
    with qtbot.waitSignal(p.pluginToolChanged):
        p.set_plugin_tools([blur, inv])
    assert p.plugin_tool() == "invert"  # "Colour" sorts before "Filters"
    panel = p.set_plugin_tool("blur")
    panel.fields["radius"].set(5.0)
    with qtbot.waitSignal(p.liveChanged, timeout=2000) as blocker:
        pass
    assert blocker.args[0] == "blur" and blocker.args[1]["radius"] == 5.0
    with qtbot.waitSignal(p.runRequested) as blocker:
        panel.run_button.click()
    tool_id, values, roles = blocker.args
    assert tool_id == "blur" and values == {"radius": 5.0} and list(roles.values()) == [doc.active_layer.id]
    # values survive a tool switch and a refreshed tool list
    p.set_plugin_tool("invert")
    p.set_plugin_tools({"blur": blur, "invert": inv})
    assert p.param_panel("blur").values() == {"radius": 5.0}
    p.set_plugin_tools([])
    assert p.plugin_tool() == "" and p.param_panel("blur") is None


def test_every_icon_renders_and_follows_the_theme(qapp):
    from PySide6.QtGui import QPalette

    from ganpaint.qt import icons, theme

    names = icons.icon_names()
    assert {"brush", "eraser", "picker", "select-rect", "select-ellipse", "select-lasso", "mask-brush",
            "move", "dice", "run"} <= set(names)
    for name in names:
        img = icons.icon(name).pixmap(32, 32).toImage()
        assert any(img.pixelColor(x, y).alpha() > 0 for y in range(32) for x in range(32)), name
    move = icons.icon("move")  # one icon object, as a button holds it
    try:
        theme.apply_theme(qapp, "dark")
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() < 80
        dark_ink = move.pixmap(32, 32).toImage().pixelColor(16, 16)
        theme.apply_theme(qapp, "light")
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > 200
        light_ink = move.pixmap(32, 32).toImage().pixelColor(16, 16)
        assert dark_ink.lightness() > light_ink.lightness()  # light strokes on a dark window
        with pytest.raises(ValueError):
            theme.apply_theme(qapp, "neon")
    finally:
        theme.apply_theme(qapp, "light")


def test_document_outlives_its_panels(qtbot, doc):
    from shiboken6 import delete

    from ganpaint.qt.params import ParamPanel

    spec = ToolSpec(id="t", title="T", run="m:f")
    panels = [LayersPanel(doc), HistoryPanel(doc), ParamPanel(spec, doc)]
    for p in panels:
        delete(p)  # the C++ widget is gone, the Python wrapper lives on
    doc.add_layer(name="After")  # must not raise into the document's caller
    doc.active_index = 0
    doc.undo()
    assert len(doc.layers) == 2


def test_dragging_a_row_moves_the_layer(layers, doc):
    doc.add_layer(name="Top")
    names = lambda: [la.name for la in reversed(doc.layers)]  # noqa: E731 - as the list shows them
    assert names() == ["Top", "Ink", "Background"]
    layers.tree.rowMoved.emit(0, 2)  # drag "Top" to the bottom
    assert names() == ["Ink", "Background", "Top"]
    assert [layers.tree.topLevelItem(r).text(COL_NAME) for r in range(3)] == names()
    doc.undo()
    assert names() == ["Top", "Ink", "Background"]
