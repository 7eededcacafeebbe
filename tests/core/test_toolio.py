"""The document <-> tool path: requests copy the right pixels, results are applied as
one undoable command, composited through soft masks with straight alpha restored."""

from __future__ import annotations

import numpy as np
import pytest

from ganpaint.core.document import Document
from ganpaint.core.layers import LayerKind
from ganpaint.core.specs import InputSpec, OutputMode, ParamSpec, Role, ToolError, ToolResult, ToolSpec
from ganpaint.core.toolio import apply_result, build_request, result_pixels, validate_result

W, H = 6, 4


def _spec(**kw: object) -> ToolSpec:
    base: dict[str, object] = dict(id="t", title="Test tool", run="m:f", plugin="plug",
                                   params=(ParamSpec("amount", "float", default=0.5, minimum=0, maximum=1),
                                           ParamSpec("model", "model")))
    base.update(kw)
    return ToolSpec(**base)  # type: ignore[arg-type]


def _doc_with_layer(alpha: int = 255) -> tuple[Document, str]:
    doc = Document(W, H)
    px = np.zeros((H, W, 4), np.uint8)
    px[..., 0] = 200
    px[..., 1] = np.arange(W, dtype=np.uint8)[None, :] * 10
    px[..., 2] = 50
    px[..., 3] = alpha
    layer = doc.add_layer(name="Photo", pixels=px)
    return doc, layer.id


def test_request_is_a_readonly_float_copy() -> None:
    doc, lid = _doc_with_layer(alpha=128)
    req = build_request(doc, _spec(), {}, {"amount": "0.25"})
    assert req.image.dtype == np.float32 and req.image.shape == (H, W, 3)
    assert req.image[0, 3, 1] == pytest.approx(30 / 255)
    assert req.alpha is not None and req.alpha[0, 0] == pytest.approx(128 / 255)
    assert req.mask is None and req.source_name == "Photo"
    assert req.params["amount"] == 0.25 and req.params["model"] == ""
    assert not req.image.flags.writeable
    doc.find_layer(lid).pixels[:] = 0  # the document changes later: the request does not
    assert req.image[0, 0, 0] == pytest.approx(200 / 255)
    with pytest.raises(ValueError, match="unknown parameter"):
        build_request(doc, _spec(), {}, {"nope": 1})


def test_offset_layer_is_placed_on_the_canvas() -> None:
    doc = Document(W, H)
    layer = doc.add_layer(name="small", pixels=np.full((2, 2, 4), 255, np.uint8), x=-1, y=3)
    req = build_request(doc, _spec(), {Role.IMAGE: layer.id}, {})
    assert req.alpha is not None
    expected = np.zeros((H, W), np.float32)
    expected[3, 0] = 1.0  # only one pixel of the 2x2 layer lands on the canvas
    np.testing.assert_array_equal(req.alpha, expected)


def test_roles_sketch_hints_mask_layer_and_selection() -> None:
    doc, lid = _doc_with_layer()
    sketch = np.zeros((H, W, 4), np.uint8)
    sketch[0, 0] = (0, 0, 0, 255)  # a black line pixel; the rest transparent -> white
    sk = doc.add_layer(name="lines", pixels=sketch, kind=LayerKind.SKETCH)
    hints = np.zeros((H, W, 4), np.uint8)
    hints[1, 1] = (255, 0, 0, 255)
    hi = doc.add_layer(name="hints", pixels=hints, kind=LayerKind.HINTS)
    maskpx = np.zeros((H, W, 4), np.uint8)
    maskpx[:, :3, 3] = 255
    mk = doc.add_layer(name="mask", pixels=maskpx, kind=LayerKind.MASK)
    spec = _spec(inputs=(InputSpec(Role.IMAGE), InputSpec(Role.SKETCH), InputSpec(Role.HINTS),
                         InputSpec(Role.MASK)))
    req = build_request(doc, spec, {Role.IMAGE: lid, Role.SKETCH: sk.id, Role.HINTS: hi.id, Role.MASK: mk.id}, {})
    assert req.images[Role.SKETCH][0, 0].tolist() == [0, 0, 0]
    assert req.images[Role.SKETCH][2, 2].tolist() == [1, 1, 1]
    assert req.images[Role.HINTS].shape == (H, W, 4)
    assert req.images[Role.HINTS][1, 1].tolist() == [1, 0, 0, 1]
    assert req.mask is not None and req.mask[:, :3].min() == 1 and req.mask[:, 3:].max() == 0
    # without a mask layer the MASK role falls back to the selection
    sel = np.zeros((H, W), np.float32)
    sel[0, :] = 1
    doc.set_selection(sel)
    req2 = build_request(doc, spec, {Role.IMAGE: lid, Role.SKETCH: sk.id, Role.HINTS: hi.id}, {})
    assert req2.mask is not None and req2.mask[0].min() == 1 and req2.mask[1:].max() == 0


def test_missing_required_inputs_are_tool_errors() -> None:
    doc, lid = _doc_with_layer()
    with pytest.raises(ToolError, match="mask"):
        build_request(doc, _spec(inputs=(InputSpec(Role.IMAGE), InputSpec(Role.MASK))), {}, {})
    with pytest.raises(ToolError, match="sketch"):
        build_request(doc, _spec(inputs=(InputSpec(Role.SKETCH),)), {}, {})
    with pytest.raises(ToolError, match="no longer"):
        build_request(doc, _spec(), {Role.IMAGE: "gone"}, {})


def test_result_composited_through_a_soft_mask_with_alpha_restored() -> None:
    doc, lid = _doc_with_layer(alpha=100)
    soft = np.zeros((H, W), np.float32)
    soft[:, 0] = 1.0
    soft[:, 1] = 0.5  # grey: blends
    doc.set_selection(soft)
    req = build_request(doc, _spec(), {Role.IMAGE: lid}, {"model": "zebra"})
    white = np.ones((H, W, 3), np.float32)
    cmd = apply_result(doc, _spec(), req, ToolResult(image=white, metadata={"seed": 3},
                                                      attachments={"z.npy": b"123"}), lid)
    layer = doc.layers[-1]
    assert getattr(cmd, "layer", None) is layer
    assert layer.kind is LayerKind.RESULT and layer.name == "Test tool (Photo)"
    px = layer.pixels.astype(int)
    assert px[0, 0, :3].tolist() == [255, 255, 255]  # inside: the result
    assert px[0, 5, :3].tolist() == [200, 50, 50]  # outside: the original
    sel8 = doc.selection.mask[0, 1] / 255.0  # the selection is stored as 8 bit
    assert px[0, 1, 1] == round(255 * sel8 + 10 * (1 - sel8))  # grey mask: a blend
    assert (px[..., 3] == 100).all()  # straight alpha: the source's, restored
    info = layer.result
    assert info is not None and info.tool_id == "t" and info.plugin == "plug" and info.model == "zebra"
    assert info.params["amount"] == 0.5 and info.metadata == {"seed": 3} and info.attachments == {"z.npy": b"123"}
    assert info.source_layer_id == lid
    assert info.before is not None and info.before[0, 3].tolist() == [200, 30, 50, 100]
    # one undoable step
    assert doc.history.undo_title() == "Test tool"
    n = len(doc.layers)
    doc.undo()
    assert len(doc.layers) == n - 1
    doc.redo()
    assert doc.layers[-1] is layer


def test_result_alpha_and_self_composited_results() -> None:
    doc, lid = _doc_with_layer(alpha=255)
    sel = np.zeros((H, W), np.float32)
    sel[:, :2] = 1
    doc.set_selection(sel)
    req = build_request(doc, _spec(), {}, {})
    half = np.full((H, W), 0.5, np.float32)
    out = result_pixels(req, ToolResult(image=np.zeros((H, W, 3), np.float32), alpha=half))
    assert out[0, 0, 3] == 128 and out[0, 4, 3] == 255  # result alpha inside, source alpha outside
    out2 = result_pixels(req, ToolResult(image=np.zeros((H, W, 3), np.float32), composited=True))
    assert (out2[..., :3] == 0).all()  # the tool blended itself: no second compositing


def test_new_layer_goes_right_above_the_source() -> None:
    doc, lid = _doc_with_layer()
    doc.add_layer(name="top")
    req = build_request(doc, _spec(), {Role.IMAGE: lid}, {})
    apply_result(doc, _spec(), req, ToolResult(image=np.zeros((H, W, 3), np.float32)), lid)
    assert [la.name for la in doc.layers][-3:] == ["Photo", "Test tool (Photo)", "top"]


def test_replace_mode_is_one_undoable_step() -> None:
    doc, lid = _doc_with_layer()
    spec = _spec(output=OutputMode.REPLACE)
    layer = doc.find_layer(lid)
    before = layer.pixels.copy()
    req = build_request(doc, spec, {Role.IMAGE: lid}, {})
    n_layers, n_steps = len(doc.layers), doc.history.index
    apply_result(doc, spec, req, ToolResult(image=np.ones((H, W, 3), np.float32)), lid)
    assert len(doc.layers) == n_layers and doc.history.index == n_steps + 1
    assert (doc.find_layer(lid).pixels[..., :3] == 255).all()
    doc.undo()
    np.testing.assert_array_equal(doc.find_layer(lid).pixels, before)


def test_replace_on_a_locked_layer_is_refused() -> None:
    doc, lid = _doc_with_layer()
    spec = _spec(output=OutputMode.REPLACE)
    req = build_request(doc, spec, {Role.IMAGE: lid}, {})
    doc.set_layer_props(doc.index_of(lid), locked=True)
    with pytest.raises(ToolError, match="locked"):
        apply_result(doc, spec, req, ToolResult(image=np.ones((H, W, 3), np.float32)), lid)


def test_validate_result_refuses_nan() -> None:
    doc, lid = _doc_with_layer()
    req = build_request(doc, _spec(), {}, {})
    with pytest.raises(ValueError, match="NaN"):
        validate_result(req, ToolResult(image=np.full((H, W, 3), np.inf, np.float32)))
