"""Where a new result layer goes: directly above the layer it was made from, on top of the
stack when it was made from nothing, visible and active, so a result never hides under an
opaque layer the tool had nothing to do with."""

from __future__ import annotations

import numpy as np

from ganpaint.core.document import Document
from ganpaint.core.layers import LayerKind
from ganpaint.core.specs import InputSpec, Role, ToolResult, ToolSpec
from ganpaint.core.toolio import apply_result, build_request, result_source

W, H = 12, 8


def _opaque(value: int) -> np.ndarray:
    return np.full((H, W, 4), (value, value, value, 255), np.uint8)


def _run(doc: Document, spec: ToolSpec, role_layers=None, level: float = 0.5):
    """What the editor and the command line do: request, source, apply."""
    request = build_request(doc, spec, role_layers)
    result = ToolResult(image=np.full((H, W, 3), level, np.float32))
    apply_result(doc, spec, request, result, result_source(doc, spec, role_layers))
    layer = doc.active_layer
    assert layer is not None and layer.kind == LayerKind.RESULT and layer.visible and layer.opacity == 1.0
    return layer


def _names(doc: Document) -> list[str]:
    return [la.name for la in doc.layers]


def test_a_filter_result_goes_directly_above_its_source():
    doc = Document(W, H)
    doc.add_layer(name="Back", pixels=_opaque(10))
    photo = doc.add_layer(name="Photo", pixels=_opaque(90))
    doc.add_layer(name="Cover", pixels=_opaque(200))
    doc.active_index = 1
    spec = ToolSpec(id="f", title="F", run="m:f")
    layer = _run(doc, spec)
    assert _names(doc) == ["Back", "Photo", layer.name, "Cover"]
    assert layer.result.source_layer_id == photo.id
    # a picture named explicitly wins over the active layer
    doc.active_index = 0
    layer = _run(doc, spec, {Role.IMAGE: photo.id})
    assert doc.layers.index(layer) == doc.layers.index(photo) + 1


def test_a_generator_result_goes_on_top_not_above_the_active_layer():
    doc = Document(W, H)
    doc.add_layer(name="Back", pixels=_opaque(10))
    doc.add_layer(name="Cover", pixels=_opaque(200))
    doc.active_index = 0  # the active layer is under an opaque one
    no_inputs = ToolSpec(id="g", title="Generate", run="m:g", inputs=())
    layer = _run(doc, no_inputs, level=1.0)
    assert doc.layers[-1] is layer and layer.result.source_layer_id is None
    assert (doc.composite()[..., :3] == 255).all()  # what it made is what the user sees
    # an optional picture left on "(none)": made from nothing as well
    optional = ToolSpec(id="s", title="Mix", run="m:s", inputs=(InputSpec(Role.IMAGE, required=False),))
    doc.active_index = 0
    layer = _run(doc, optional, {Role.IMAGE: None}, level=0.0)
    assert doc.layers[-1] is layer and (doc.composite()[..., :3] == 0).all()
    assert layer.result.before is None  # nothing was under it to compare with


def test_a_sketch_result_goes_above_its_sketch_and_hints_layers():
    doc = Document(W, H)
    doc.add_layer(name="Paper", pixels=_opaque(255))
    lines = doc.add_layer(name="Lines", pixels=_opaque(250), kind=LayerKind.SKETCH)  # lines on white
    dots = doc.add_layer(name="Dots", kind=LayerKind.HINTS)
    doc.add_layer(name="Notes on top", pixels=_opaque(30))
    doc.active_index = 0  # still on the paper
    spec = ToolSpec(id="sk", title="Sketch", run="m:sk",
                    inputs=(InputSpec(Role.SKETCH), InputSpec(Role.HINTS, required=False)))
    layer = _run(doc, spec, {Role.SKETCH: lines.id, Role.HINTS: dots.id})
    assert _names(doc) == ["Paper", "Lines", "Dots", layer.name, "Notes on top"]
    assert layer.result.source_layer_id == dots.id
    # without hints: right above the sketch (which would otherwise cover the result)
    layer = _run(doc, spec, {Role.SKETCH: lines.id, Role.HINTS: None})
    assert doc.layers.index(layer) == doc.layers.index(lines) + 1


def test_source_gone_or_mask_only_goes_on_top():
    doc = Document(W, H)
    doc.add_layer(name="Back", pixels=_opaque(10))
    mask = doc.add_layer(name="Where", kind=LayerKind.MASK)
    doc.add_layer(name="Cover", pixels=_opaque(200))
    spec = ToolSpec(id="m", title="M", run="m:m", inputs=(InputSpec(Role.MASK),))
    assert result_source(doc, spec, {Role.MASK: mask.id}) is None  # masks are not drawn
    assert result_source(doc, ToolSpec(id="f", title="F", run="m:f"), {Role.IMAGE: "gone"}) is None
    request = build_request(doc, ToolSpec(id="f", title="F", run="m:f"), {Role.IMAGE: doc.layers[0].id})
    apply_result(doc, ToolSpec(id="f", title="F", run="m:f"), request,
                 ToolResult(image=np.zeros((H, W, 3), np.float32)), "no-such-layer")
    assert doc.layers[-1].kind == LayerKind.RESULT
