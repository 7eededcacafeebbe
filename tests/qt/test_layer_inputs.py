"""Layer pickers of a tool's inputs: the layer the user picks is the layer the tool gets.

"(none)" on an optional picture (Style mixing, Face sliders) means the tool generates: the
request carries no picture (no falling back to the active layer, which the tool would spend
seconds inverting), the pick survives layer changes, and the result goes on top. A colour-hints
layer picked for Sketch stays picked when layers are added, renamed or made active.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PySide6.QtCore import Qt

from ganpaint import InputSpec, ParamSpec, Role, ToolResult, ToolSpec, hookimpl
from ganpaint.core.layers import LayerKind
from ganpaint.core.toolio import build_request, result_source

GANPAINT_API_VERSION = 1
#: (had a picture, preview) of every run of the test generator, in the worker
RUNS: list[tuple[bool, bool]] = []


def generate(request, ctx):
    """A cheap stand-in for Style mixing: "inverts" a given picture, else paints a level."""
    RUNS.append((Role.IMAGE in request.images, request.preview))
    w, h = request.size
    level = float(request.params["level"])
    return ToolResult(image=np.full((h, w, 3), level, np.float32))


def colour_in(request, ctx):
    """A cheap stand-in for Sketch to image: an opaque mid grey."""
    w, h = request.size
    return ToolResult(image=np.full((h, w, 3), 0.5, np.float32))


@hookimpl
def ganpaint_register_tools():
    return [ToolSpec(id="gen", title="Generate", run=f"{__name__}:generate",
                     inputs=(InputSpec(Role.IMAGE, label="Picture to invert (optional)", required=False),),
                     params=(ParamSpec("level", "float", default=0.25, minimum=0.0, maximum=1.0, step=0.05,
                                       live=True),)),
            ToolSpec(id="colour_in", title="Colour in", run=f"{__name__}:colour_in",
                     inputs=(InputSpec(Role.SKETCH), InputSpec(Role.HINTS, required=False)))]


def _opaque(doc, value):
    return np.full((doc.height, doc.width, 4), (value, value, value, 255), np.uint8)


def pick(qtbot, combo, data) -> None:
    """Choose the entry holding ``data`` as a user does: open the list, click the entry."""
    i = combo.findData(data)
    assert i >= 0, f"{data!r} is not offered"
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=2000)
    rect = view.visualRect(view.model().index(i, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: not view.isVisible(), timeout=2000)
    assert combo.currentIndex() == i


def _specs(module):
    return {s.id: s for s in module.ganpaint_register_tools()}


@pytest.mark.parametrize("plugin, tool_id", [("ganpaint_stylemix", "stylemix"), ("ganpaint_faces", "faces")])
def test_none_for_an_optional_picture_builds_a_request_without_one(window, qtbot, monkeypatch, plugin, tool_id):
    """The shipped generators: "(none)" -> no picture in the request, kept across layer changes;
    the job is captured, the model never runs."""
    module = __import__(plugin)
    window.plugin_manager.register(module, plugin)
    window.tools_panel.set_plugin_tools(window.tool_specs())
    window.new_document_silent(32, 24)
    doc = window.controller.document
    photo = doc.add_layer(name="Photo", pixels=_opaque(doc, 90))  # active: what used to get inverted
    assert doc.active_layer is photo
    panel = window.tools_panel.set_plugin_tool(tool_id)
    picker = panel.pickers[Role.IMAGE]
    assert picker.layer_id() is None  # an optional picture starts on "(none)": the tool generates
    doc.active_index = 0
    doc.active_index = len(doc.layers) - 1  # an active-layer change does not pull the photo in
    assert picker.layer_id() is None
    pick(qtbot, picker, photo.id)
    pick(qtbot, picker, None)  # and back to "(none)", the user's choice
    # layers change and the active layer moves: the user's "(none)" stays
    doc.add_layer(name="Paint")
    doc.set_layer_props(0, name="Renamed background")
    doc.active_index = 1
    assert picker.currentText() == "(none)" and picker.layer_id() is None
    assert panel.role_layers() == {Role.IMAGE: None}

    submitted = []
    monkeypatch.setattr(window.runner.bridge, "submit", lambda job, mode="queue": submitted.append(job) or job)
    panel.run_button.click()
    assert len(submitted) == 1, window.statusBar().currentMessage()
    request = submitted[0].inputs.build()  # the job builds its float32 request off the GUI thread
    assert Role.IMAGE not in request.images and request.alpha is None and request.source_name == ""
    assert window.runner._pending[submitted[0].id].source_layer_id is None  # -> on top of the stack
    # and a picked picture is still passed on (inverting stays possible)
    pick(qtbot, picker, photo.id)
    req = build_request(doc, _specs(module)[tool_id], panel.role_layers(), panel.values())
    assert np.all(req.images[Role.IMAGE] == np.float32(90 / 255))


def test_generated_result_goes_on_top_and_its_live_rerun_gets_no_picture(window, qtbot):
    """Through the real runner with a cheap generator: "(none)" -> the tool gets no picture,
    the result is the top layer (above an opaque one), a live slider re-runs it without a
    picture too (not with the result layer itself, which is then the active one)."""
    RUNS.clear()
    window.plugin_manager.register(sys.modules[__name__], "gen-test")
    window.tools_panel.set_plugin_tools(window.tool_specs())
    window.new_document_silent(20, 14)
    doc = window.controller.document
    doc.add_layer(name="Opaque cover", pixels=_opaque(doc, 200))
    doc.active_index = 0  # the white background, under the cover
    panel = window.tools_panel.set_plugin_tool("gen")
    pick(qtbot, panel.pickers[Role.IMAGE], None)
    panel.run_button.click()
    qtbot.waitUntil(lambda: len(doc.layers) == 3, timeout=10000)
    assert RUNS == [(False, False)]
    top = doc.layers[-1]
    assert top.kind == LayerKind.RESULT and top.visible and doc.active_layer is top
    assert top.result.source_layer_id is None
    assert np.array_equal(doc.composite()[..., :3], np.full((14, 20, 3), 64, np.uint8))  # 0.25 on top
    # a live parameter re-runs the generated result: still no picture
    window.runner.rerun(top.id, panel.spec, {"level": 0.5})
    qtbot.waitUntil(lambda: top.result.params["level"] == 0.5, timeout=10000)
    assert RUNS[-1] == (False, False)


def test_sketch_hints_pick_survives_layer_changes(qtbot):
    import ganpaint_sketch

    from ganpaint.core.document import Document
    from ganpaint.qt.params import ParamPanel

    spec = _specs(ganpaint_sketch)["sketch"]
    doc = Document(16, 12)
    doc.add_layer(name="Paper", pixels=_opaque(doc, 255))
    lines = doc.add_layer(name="Lines", kind=LayerKind.SKETCH)
    dots = doc.add_layer(name="Dots", kind=LayerKind.HINTS)
    colours = doc.add_layer(name="Colours")
    panel = ParamPanel(spec, document=doc)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    hints = panel.pickers[Role.HINTS]
    assert hints.layer_id() == dots.id  # a hints layer is offered first

    pick(qtbot, hints, colours.id)  # another layer holds the user's hints
    doc.add_layer(name="New", kind=LayerKind.HINTS)  # layers_changed
    doc.set_layer_props(doc.layers.index(colours), name="Colours 2")  # a rename
    doc.active_index = 1  # active_changed
    assert hints.layer_id() == colours.id and hints.currentText() == "Colours 2"
    assert panel.role_layers() == {Role.SKETCH: lines.id, Role.HINTS: colours.id}

    pick(qtbot, hints, None)  # no hints at all, though hints layers exist
    doc.add_layer(name="Another")
    doc.active_index = 0
    assert hints.layer_id() is None and hints.currentText() == "(none)"
    req = build_request(doc, spec, panel.role_layers(), panel.values())
    assert Role.HINTS not in req.images and Role.SKETCH in req.images

    # the picked layer deleted: back to the default, which then follows the document again
    pick(qtbot, hints, colours.id)
    doc.delete_layer(doc.layers.index(colours))
    assert hints.layer_id() == doc.layers_by_kind(LayerKind.HINTS)[-1].id
    assert not hints.user_chose


def test_optional_mask_on_none_means_no_mask():
    """A MASK role mapped to None is "(none)": neither a mask layer nor the selection."""
    from ganpaint.core.document import Document
    from ganpaint.core.geometry import Rect

    spec = ToolSpec(id="masked", title="Masked", run="m:f",
                    inputs=(InputSpec(Role.IMAGE), InputSpec(Role.MASK, required=False)))
    doc = Document(8, 6)
    doc.add_layer(name="Base", pixels=_opaque(doc, 10))
    doc.select_rect(Rect(1, 1, 3, 3))
    assert build_request(doc, spec, {}).mask is not None  # "Selection" (not named): the selection
    assert build_request(doc, spec, {Role.MASK: None}).mask is None
    assert result_source(doc, spec, {Role.MASK: None}) == doc.layers[0].id


def test_sketch_result_is_not_hidden_under_its_sketch(window, qtbot):
    """The active layer is the paper under an opaque line drawing: the result goes above the
    sketch and its hints, so the user sees it."""
    window.plugin_manager.register(sys.modules[__name__], "gen-test")
    window.tools_panel.set_plugin_tools(window.tool_specs())
    window.new_document_silent(20, 14)
    doc = window.controller.document
    doc.add_layer(name="Lines", pixels=_opaque(doc, 250), kind=LayerKind.SKETCH)
    dots = doc.add_layer(name="Dots", kind=LayerKind.HINTS)
    doc.active_index = 0
    panel = window.tools_panel.set_plugin_tool("colour_in")
    panel.run_button.click()
    qtbot.waitUntil(lambda: len(doc.layers) == 4, timeout=10000)
    assert doc.layers.index(doc.active_layer) == doc.layers.index(dots) + 1
    assert doc.active_layer.kind == LayerKind.RESULT and doc.active_layer.visible
    assert (doc.composite()[..., :3] == 128).all()
