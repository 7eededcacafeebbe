import sys
import types

import numpy as np
import pytest

from ganpaint.core.document import Document
from ganpaint.core.geometry import Rect
from ganpaint.core.layers import BlendMode, Layer, LayerKind, LayerLockedError, ResultInfo

rng = np.random.default_rng(7)


def _px(h, w, opaque=False):
    p = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    if opaque:
        p[..., 3] = 255
    return p


def _doc():
    d = Document.from_array(_px(20, 30, opaque=True))
    d.add_layer("a", pixels=_px(20, 30), blend=BlendMode.MULTIPLY, opacity=0.7)
    d.add_layer("b", pixels=_px(8, 9), x=4, y=5, kind=LayerKind.SKETCH)
    d.history.clear()
    d.mark_clean()
    return d


def _state(d):
    return (
        d.size,
        d.active_index,
        [(la.id, la.props(), la.pixels.copy(), la.result) for la in d.layers],
        d.composite(),
    )


def _assert_same(a, b):
    assert a[0] == b[0] and a[1] == b[1]
    assert len(a[2]) == len(b[2])
    for x, y in zip(a[2], b[2], strict=True):
        assert x[0] == y[0] and x[1] == y[1] and x[3] is y[3]
        assert np.array_equal(x[2], y[2])
    assert np.array_equal(a[3], b[3])


OPS = {
    "add": lambda d: d.add_layer("new"),
    "add_pixels": lambda d: d.add_layer("p", pixels=_px(5, 5), index=0, x=-2, y=3),
    "delete": lambda d: d.delete_layer(1),
    "delete_top": lambda d: d.delete_layer(2),
    "duplicate": lambda d: d.duplicate_layer(2),
    "move_up": lambda d: d.move_layer(0, 2),
    "move_down": lambda d: d.move_layer(2, 0),
    "merge_down": lambda d: d.merge_down(2),
    "merge_down_blend": lambda d: d.merge_down(1),
    "flatten": lambda d: d.flatten(),
    "props": lambda d: d.set_layer_props(1, name="x", visible=False, opacity=0.2, blend="screen", locked=True),
    "kind": lambda d: d.set_layer_props(0, kind=LayerKind.HINTS),
    "replace_pixels": lambda d: d.replace_pixels(1, _px(20, 30)),
    "replace_rect": lambda d: d.replace_pixels(2, _px(3, 4), rect=Rect(1, 2, 4, 3)),
    "result_info": lambda d: d.set_result_info(d.layers[1].id, ResultInfo("t", params={"s": 1}), _px(6, 6), xy=(2, 2)),
}


@pytest.mark.parametrize("name", list(OPS))
def test_layer_ops_undo_redo_bit_exact(name):
    d = _doc()
    before = _state(d)
    OPS[name](d)
    after = _state(d)
    assert d.modified and d.history.can_undo() and len(d.history.entries) == 1
    d.undo()
    _assert_same(_state(d), before)
    assert not d.modified
    d.redo()
    _assert_same(_state(d), after)
    d.undo()
    d.redo()
    _assert_same(_state(d), after)


def test_add_layer_above_active_and_events():
    d = _doc()
    seen = {"layers": 0, "active": [], "pixels": [], "history": 0}
    d.events.layers_changed.connect(lambda: seen.__setitem__("layers", seen["layers"] + 1))
    d.events.active_changed.connect(seen["active"].append)
    d.events.pixels_changed.connect(seen["pixels"].append)
    d.events.history_changed.connect(lambda: seen.__setitem__("history", seen["history"] + 1))
    d.active_index = 0
    layer = d.add_layer("mid")
    assert d.layers[1] is layer and d.active_layer is layer
    assert seen["layers"] == 1 and seen["active"] == [0, 1] and seen["history"] == 1
    assert seen["pixels"] == []  # a transparent layer changes no pixel of the picture
    assert layer.pixels.shape == (20, 30, 4) and layer.pixels.max() == 0


def test_find_index_and_kinds():
    d = _doc()
    b = d.layers[2]
    assert d.find_layer(b.id) is b and d.find_layer("nope") is None
    assert d.index_of(b) == 2 and d.index_of(b.id) == 2
    assert d.layers_by_kind(LayerKind.SKETCH) == [b]
    assert d.layers_by_kind("raster") == d.layers[:2]
    with pytest.raises(ValueError):
        d.index_of("nope")
    with pytest.raises(ValueError):
        d.insert_layer(b)  # already there


def test_composite_rect_matches_full_and_masks_excluded():
    d = _doc()
    full = d.composite()
    assert full.shape == (20, 30, 4)
    r = Rect(3, 4, 11, 9)
    assert np.array_equal(d.composite(r), full[r.slices()])
    mask = np.zeros((20, 30, 4), np.uint8)
    mask[..., 3] = 255
    d.add_layer("mask", pixels=mask, kind=LayerKind.MASK)
    assert np.array_equal(d.composite(), full)
    assert not np.array_equal(d.composite(include_masks=True), full)


def test_mask_for_tool_selection_and_mask_layer():
    d = _doc()
    assert d.mask_for_tool() is None
    d.select_rect(Rect(0, 0, 10, 20))
    m = d.mask_for_tool()
    assert m.dtype == np.float32 and m.shape == (20, 30) and m[:, :10].min() == 1 and m[:, 10:].max() == 0
    alpha = np.zeros((4, 4, 4), np.uint8)
    alpha[..., 3] = 255
    ml = d.add_layer("m", pixels=alpha, kind=LayerKind.MASK, x=2, y=2)
    mm = d.mask_for_tool(ml.id)
    assert mm.sum() == 16 and mm[2, 2] == 1.0


def test_merge_down_result_and_refusals():
    d = _doc()
    # A NORMAL lower layer merges without changing the picture (a blend-mode lower layer is
    # composited in isolation first, as in every editor, so it would not).
    d.set_layer_props(1, blend="normal")
    comp = d.composite()
    lower_id = d.layers[1].id
    merged = d.merge_down(2)
    assert len(d.layers) == 2 and merged.id == lower_id and merged.name == "a"
    assert merged.opacity == 1.0 and merged.rect == Rect(0, 0, 30, 20)
    assert np.abs(d.composite().astype(int) - comp.astype(int)).max() <= 2
    with pytest.raises(ValueError):
        d.merge_down(0)
    d.set_layer_props(0, locked=True)
    with pytest.raises(LayerLockedError):
        d.merge_down(1)


def test_flatten_keeps_masks_and_picture():
    d = _doc()
    comp = d.composite()
    mask = d.add_layer("m", kind=LayerKind.MASK)
    flat = d.flatten()
    assert d.layers == [flat, mask] and np.array_equal(flat.pixels, comp)


def test_set_layer_props_validation_and_noop():
    d = _doc()
    with pytest.raises(ValueError):
        d.set_layer_props(0, colour="red")
    with pytest.raises(ValueError):
        d.set_layer_props(0, blend="dodge")
    d.set_layer_props(0, name=d.layers[0].name)  # unchanged: no step
    assert d.history.entries == []
    d.set_layer_props(1, opacity=0.5, merge=True)
    d.set_layer_props(1, opacity=0.4, merge=True)
    d.set_layer_props(1, opacity=0.3, merge=True)
    assert len(d.history.entries) == 1 and d.layers[1].opacity == 0.3
    d.undo()
    assert d.layers[1].opacity == pytest.approx(0.7)


def test_replace_pixels_stores_only_the_difference():
    d = Document.from_array(np.zeros((100, 100, 4), np.uint8))
    new = np.zeros((100, 100, 4), np.uint8)
    new[10:12, 20:25] = 200
    d.replace_pixels(0, new)
    assert d.history.nbytes == 2 * 2 * 5 * 4
    with pytest.raises(ValueError):
        d.replace_pixels(0, np.zeros((5, 5, 4), np.uint8))
    d.set_layer_props(0, locked=True)
    with pytest.raises(LayerLockedError):
        d.replace_pixels(0, new)


def test_set_result_info_changes_params_and_pixels_in_one_step():
    d = _doc()
    info = ResultInfo("blur", plugin="classic", params={"radius": 2})
    layer = d.add_layer("r", pixels=_px(20, 30), kind=LayerKind.RESULT, result=info)
    new_info = ResultInfo("blur", plugin="classic", params={"radius": 5})
    new_px = _px(20, 30)
    d.set_result_info(layer.id, new_info, new_px)
    assert layer.result is new_info and np.array_equal(layer.pixels, new_px)
    d.undo()
    assert layer.result is info and layer.result.params == {"radius": 2}
    assert not np.array_equal(layer.pixels, new_px)
    with pytest.raises(ValueError):
        d.set_result_info("missing", new_info)


def test_modified_tracking_and_setter():
    d = _doc()
    assert not d.modified
    d.add_layer("x")
    assert d.modified
    d.mark_clean("/tmp/x.ora")
    assert not d.modified and d.path == "/tmp/x.ora"
    d.modified = True
    assert d.modified
    d.modified = False
    assert not d.modified


def test_delete_last_layer_and_empty_doc():
    d = Document(10, 10)
    assert d.layers == [] and d.active_layer is None and d.active_index == -1
    assert d.composite().max() == 0
    d.add_layer("only")
    d.delete_layer(0)
    assert d.layers == [] and d.active_index == -1
    d.undo()
    assert len(d.layers) == 1 and d.active_index == 0
    with pytest.raises(ValueError):
        Document(0, 5)
    with pytest.raises(IndexError):
        d.active_index = 5


def test_from_array_and_from_layers():
    d = Document.from_array(np.ones((4, 6, 3), np.float32))
    assert d.size == (6, 4) and d.layers[0].pixels.max() == 255 and not d.modified
    layers = [Layer.blank(6, 4, "a"), Layer.blank(3, 3, "b", x=1)]
    e = Document.from_layers(6, 4, layers, active=0)
    assert e.layers == layers and e.active_index == 0 and e.history.entries == []


def _fake_imageio(monkeypatch, pixels):
    mod = types.ModuleType("ganpaint.core.imageio")

    class Loaded:
        def __init__(self):
            self.pixels = pixels
            self.icc_profile = b"icc"
            self.notes = ["converted from CMYK"]
            self.format = "PNG"

    mod.read_image = lambda path: Loaded()
    monkeypatch.setitem(sys.modules, "ganpaint.core.imageio", mod)


def test_from_image_and_open_as_layer(monkeypatch, tmp_path):
    px = _px(7, 9)
    _fake_imageio(monkeypatch, px)
    d = Document.from_image(tmp_path / "cat.png")
    assert d.size == (9, 7) and d.layers[0].name == "cat" and d.icc_profile == b"icc"
    assert d.notes == ["converted from CMYK"] and d.path.endswith("cat.png") and not d.modified
    layer = d.open_image_as_layer(tmp_path / "dog.png")
    assert layer.name == "dog" and np.array_equal(layer.pixels, px) and d.active_layer is layer
    d.undo()
    assert len(d.layers) == 1


def test_paint_stroke_through_document():
    from ganpaint.core.brush import BrushSettings

    d = Document.from_array(np.zeros((50, 50, 4), np.uint8))
    cmd = d.paint_stroke(None, [(10, 10), (40, 40)], BrushSettings(size=5, color=(1, 2, 3)))
    assert cmd is not None and d.history.entries == ["Brush stroke"]
    assert tuple(d.layers[0].pixels[25, 25]) == (1, 2, 3, 255)
