"""ParamPanel: built from a ToolSpec, values coerced by the specs, seed dice, debouncing,
layer pickers by role."""

from __future__ import annotations

import numpy as np
import pytest

from ganpaint.core.specs import InputSpec, ParamSpec, Role, ToolSpec
from ganpaint.qt.param_fields import (
    BoolField,
    ChoiceField,
    ColorField,
    FileField,
    FloatField,
    IntField,
    ModelField,
    SeedField,
    StringField,
)
from ganpaint.qt.params import SELECTION, ParamPanel

ALL_KINDS = ToolSpec(
    id="everything",
    title="Everything",
    run="somewhere:run",
    inputs=(InputSpec(Role.IMAGE), InputSpec(Role.SKETCH), InputSpec(Role.MASK, required=False)),
    params=(
        ParamSpec("strength", "float", default=0.5, minimum=0.0, maximum=1.0, step=0.05, live=True),
        ParamSpec("free_float", "float", default=2.5),
        ParamSpec("steps", "int", default=8, minimum=1, maximum=50),
        ParamSpec("seed", "seed", default=7),
        ParamSpec("invert", "bool"),
        ParamSpec("mode", "choice", choices=("fast", "best")),
        ParamSpec("tint", "color", default=(1.0, 0.5, 0.0)),
        ParamSpec("lut", "file"),
        ParamSpec("weights", "model"),
        ParamSpec("prompt", "string", default="cat"),
    ),
)


def list_models(tool_id: str) -> list[tuple[str, str]]:
    assert tool_id == "everything"
    return [("small", "Small model"), ("big", "Big model")]


@pytest.fixture
def panel(qtbot):
    p = ParamPanel(ALL_KINDS, document=None, list_models=list_models)
    qtbot.addWidget(p)
    return p


def test_every_kind_builds_a_widget(panel):
    expected = {
        "strength": FloatField, "free_float": FloatField, "steps": IntField, "seed": SeedField,
        "invert": BoolField, "mode": ChoiceField, "tint": ColorField, "lut": FileField,
        "weights": ModelField, "prompt": StringField,
    }
    assert {k: type(v) for k, v in panel.fields.items()} == expected
    assert set(panel.pickers) == {Role.IMAGE, Role.SKETCH, Role.MASK}


def test_values_are_the_coerced_defaults(panel):
    v = panel.values()
    assert v == {
        "strength": 0.5, "free_float": 2.5, "steps": 8, "seed": 7, "invert": False, "mode": "fast",
        "tint": (1.0, 0.5, 0.0), "lut": "", "weights": "small", "prompt": "cat",
    }
    assert isinstance(v["steps"], int) and isinstance(v["strength"], float)


def test_edits_come_back_coerced(panel):
    panel.fields["strength"].widget.setValue(0.75)
    panel.fields["steps"].widget.setValue(20)
    panel.fields["invert"].box.setChecked(True)
    panel.fields["mode"].combo.setCurrentIndex(1)
    panel.fields["tint"].set("#0000ff")
    panel.fields["lut"].edit.setText("/tmp/x.cube")
    panel.fields["weights"].combo.setCurrentIndex(1)
    v = panel.values()
    assert v["strength"] == pytest.approx(0.75)
    assert v["steps"] == 20 and v["invert"] is True and v["mode"] == "best"
    assert v["tint"] == (0.0, 0.0, 1.0) and v["lut"] == "/tmp/x.cube" and v["weights"] == "big"
    panel.reset()
    assert panel.values() == ALL_KINDS.default_params() | {"weights": "small"}


def test_set_values_rejects_bad_values(panel):
    panel.set_values({"steps": "12", "unknown": 1})
    assert panel.values()["steps"] == 12
    with pytest.raises(ValueError, match="steps"):
        panel.set_values({"steps": 500})


def test_dice_changes_the_seed(panel, qtbot):
    seed = panel.fields["seed"]
    before = panel.values()["seed"]
    seed.dice.click()
    after = panel.values()["seed"]
    assert after != before and 0 <= after <= 2**31 - 1


def test_live_changes_are_debounced_into_one(panel, qtbot):
    live: list[dict] = []
    changed: list[dict] = []
    panel.liveChanged.connect(lambda values, preview: live.append({**values, "preview": preview}))
    panel.valuesChanged.connect(changed.append)
    slider = panel.fields["strength"].widget
    for i in range(10):
        slider.setValue(0.05 * (i + 1))
    qtbot.waitUntil(lambda: len(live) >= 1, timeout=2000)
    qtbot.wait(300)
    assert len(live) == 1 and len(changed) == 1
    assert live[0]["strength"] == pytest.approx(0.5)
    assert live[0]["preview"] is False  # not a drag: the changes are final
    # a non-live parameter announces the values, but asks for no live preview
    panel.fields["steps"].widget.setValue(3)
    qtbot.waitUntil(lambda: len(changed) == 2, timeout=2000)
    qtbot.wait(200)
    assert len(live) == 1


def _drag(qtbot, field, positions, *, pause_ms=10):
    """Press the slider's handle, move it through ``positions`` (slider steps), let go:
    what QSlider does for a mouse drag (sliderPressed, valueChanged per move, sliderReleased)."""
    slider = field.widget.slider
    slider.setSliderDown(True)
    for pos in positions:
        slider.setSliderPosition(pos)
        qtbot.wait(pause_ms)
    slider.setSliderDown(False)


def test_a_held_slider_sends_drafts_then_one_final_on_release(panel, qtbot):
    live: list[tuple[float, bool]] = []
    changed: list[dict] = []
    panel.liveChanged.connect(lambda values, preview: live.append((values["strength"], preview)))
    panel.valuesChanged.connect(changed.append)
    field = panel.fields["strength"]
    assert not panel.is_dragging()
    field.widget.slider.setSliderDown(True)
    assert panel.is_dragging() and field.is_held()
    for pos in range(2, 12):  # the slider has 20 positions (step 0.05)
        field.widget.slider.setSliderPosition(pos)
        qtbot.wait(10)
    drafts = [v for v, preview in live if preview]
    assert drafts and drafts[0] == pytest.approx(0.1)  # the first move is drafted at once
    assert len(drafts) < 10  # throttled: not one per move
    assert not any(not preview for _, preview in live)  # nothing final while held
    qtbot.wait(300)  # holding still: the debounced valuesChanged may come, but no final
    assert not any(not preview for _, preview in live)
    field.widget.slider.setSliderDown(False)
    assert not panel.is_dragging()
    finals = [v for v, preview in live if not preview]
    assert finals == [pytest.approx(0.55)]  # at once on release, with the released value
    n = len(live)
    qtbot.wait(300)
    assert len(live) == n  # the debounce does not send the final a second time
    assert changed and changed[-1]["strength"] == pytest.approx(0.55)


def test_press_and_release_without_moving_sends_nothing(panel, qtbot):
    live: list[bool] = []
    panel.liveChanged.connect(lambda values, preview: live.append(preview))
    _drag(qtbot, panel.fields["strength"], [])
    qtbot.wait(250)
    assert live == []


def test_holding_a_non_live_slider_is_no_drag(panel, qtbot):
    live: list[bool] = []
    panel.liveChanged.connect(lambda values, preview: live.append(preview))
    _drag(qtbot, panel.fields["steps"], [3, 5, 9])
    assert not panel.is_dragging()
    qtbot.wait(250)
    assert live == []


def test_a_real_mouse_drag_on_the_handle(panel, qtbot):
    """Mouse events on the slider itself (offscreen platform): press on the handle, move, let go."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtWidgets import QStyle, QStyleOptionSlider

    live: list[tuple[float, bool]] = []
    panel.liveChanged.connect(lambda values, preview: live.append((values["strength"], preview)))
    panel.resize(500, 400)
    panel.show()
    qtbot.waitExposed(panel)
    slider = panel.fields["strength"].widget.slider
    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    handle = slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                           QStyle.SubControl.SC_SliderHandle, slider)
    start = handle.center()
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=start)
    assert slider.isSliderDown() and panel.is_dragging()
    for dx in range(10, 130, 20):
        qtbot.mouseMove(slider, QPoint(start.x() + dx, start.y()))
        qtbot.wait(15)
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=QPoint(start.x() + 120, start.y()))
    assert not panel.is_dragging()
    assert any(preview for _, preview in live)
    finals = [v for v, preview in live if not preview]
    assert len(finals) == 1 and finals[0] == pytest.approx(panel.values()["strength"]) and finals[0] > 0.5


def test_run_emits_tool_values_and_layers(panel, qtbot):
    with qtbot.waitSignal(panel.runRequested) as blocker:
        panel.run_button.setEnabled(True)
        panel.run_button.click()
    tool_id, values, roles = blocker.args
    assert tool_id == "everything" and values == panel.values() and roles == panel.role_layers()


def test_model_store_unavailable_is_tolerated(qtbot):
    def broken(tool_id):
        raise OSError("store folder missing")

    spec = ToolSpec(id="t", title="T", run="m:f", params=(ParamSpec("weights", "model"),))
    p = ParamPanel(spec, list_models=broken)
    qtbot.addWidget(p)
    field = p.fields["weights"]
    assert not field.combo.isEnabled() and "unavailable" in field.toolTip()
    assert p.values() == {"weights": ""}


def test_role_pickers_follow_the_document(qtbot):
    from ganpaint.core.document import Document
    from ganpaint.core.layers import LayerKind

    doc = Document(16, 12)
    base = doc.add_layer(name="Photo")
    sketch = doc.add_layer(name="Lines", kind=LayerKind.SKETCH)
    mask = doc.add_layer(name="Where", kind=LayerKind.MASK)
    doc.add_layer(name="Top")
    p = ParamPanel(ALL_KINDS, document=doc, list_models=list_models)
    qtbot.addWidget(p)
    # sketch role: the sketch layer first and chosen; image role: the active layer
    sk = p.pickers[Role.SKETCH]
    assert sk.itemData(0) == sketch.id and sk.layer_id() == sketch.id
    assert p.pickers[Role.IMAGE].layer_id() == doc.active_layer.id
    # mask role: "Selection" plus only mask layers (optional input -> "(none)" too)
    mk = p.pickers[Role.MASK]
    datas = [mk.itemData(i) for i in range(mk.count())]
    assert datas == [None, SELECTION, mask.id]
    assert mk.layer_id() == SELECTION
    roles = p.role_layers()
    assert roles == {Role.IMAGE: doc.active_layer.id, Role.SKETCH: sketch.id}
    # a user's choice survives a layer change; new layers appear
    img = p.pickers[Role.IMAGE]
    img.setCurrentIndex(img.findData(base.id))
    img.user_chose = True
    doc.add_layer(name="Newer", pixels=np.zeros((12, 16, 4), np.uint8))
    assert img.layer_id() == base.id
    assert any(img.itemText(i) == "Newer" for i in range(img.count()))
    p.set_document(None)
    assert p.pickers[Role.IMAGE].layer_id() is None and not p.run_button.isEnabled()


def test_ten_rapid_slider_moves_make_one_job(panel, qtbot):
    from ganpaint.engine.jobs import Job, JobQueue
    from ganpaint.qt.bridge import JobBridge

    queue = JobQueue()
    bridge = JobBridge(queue)
    try:
        added, finished = [], []
        bridge.jobAdded.connect(added.append)
        bridge.jobFinished.connect(finished.append)

        def preview(values, _draft):
            job = Job("preview", "interactive", lambda inputs, ctx: inputs["strength"], inputs=values, key="live")
            bridge.submit(job, mode="replace")

        panel.liveChanged.connect(preview)
        slider = panel.fields["strength"].widget
        for i in range(10):
            slider.setValue(0.1 + 0.05 * i)
            qtbot.wait(5)  # a quick hand: well under the 150 ms debounce between moves
        qtbot.waitUntil(lambda: len(finished) == 1, timeout=3000)
        qtbot.wait(300)
        assert len(added) == 1 and len(finished) == 1
        assert finished[0].result == pytest.approx(0.55)
    finally:
        bridge.close()
        queue.shutdown(wait=True, timeout=5)
