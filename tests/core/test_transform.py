import numpy as np
import pytest

from ganpaint.core.document import Document
from ganpaint.core.geometry import Rect
from ganpaint.core.layers import Layer, LayerKind, ResultInfo

rng = np.random.default_rng(3)


def _doc():
    d = Document.from_array(rng.integers(0, 256, (30, 40, 4), dtype=np.uint8))
    small = rng.integers(0, 256, (6, 8, 4), dtype=np.uint8)
    info = ResultInfo("blur", before=rng.integers(0, 256, (6, 8, 4), dtype=np.uint8))
    d.insert_layer(Layer(small, name="small", x=5, y=3, kind=LayerKind.RESULT, result=info))
    d.select_rect(Rect(2, 2, 10, 5))
    return d


def _snapshot(d):
    return (
        d.size,
        [(la.id, la.name, la.rect, la.pixels.copy(), la.props()) for la in d.layers],
        np.array(d.selection.mask),
        d.composite(),
    )


def _same(a, b):
    assert a[0] == b[0]
    assert len(a[1]) == len(b[1])
    for la, lb in zip(a[1], b[1], strict=True):
        assert la[:3] == lb[:3] and la[4] == lb[4]
        assert np.array_equal(la[3], lb[3])
    assert np.array_equal(a[2], b[2]) and np.array_equal(a[3], b[3])


OPS = {
    "crop": lambda d: d.crop_to_selection(),
    "crop_rect": lambda d: d.crop(Rect(10, 4, 20, 20)),
    "resize_image": lambda d: d.resize_image(20, 45),
    "resize_canvas": lambda d: d.resize_canvas(60, 20, "bottom-right"),
    "rotate90": lambda d: d.rotate(90),
    "rotate180": lambda d: d.rotate(180),
    "rotate270": lambda d: d.rotate(270),
    "flip_h": lambda d: d.flip("h"),
    "flip_v": lambda d: d.flip("v"),
    "move": lambda d: d.move_layer_by(1, 7, -2),
}


@pytest.mark.parametrize("name", list(OPS))
def test_transform_undo_redo_bit_exact(name):
    d = _doc()
    before = _snapshot(d)
    OPS[name](d)
    after = _snapshot(d)
    assert d.history.entries[-1]
    d.undo()
    _same(_snapshot(d), before)
    d.redo()
    _same(_snapshot(d), after)


def test_rotate_90_matches_numpy_and_keeps_offsets():
    d = _doc()
    comp = d.composite()
    d.rotate(90)
    assert d.size == (30, 40)
    assert np.array_equal(d.composite(), np.rot90(comp, -1))
    d.rotate(270)
    assert np.array_equal(d.composite(), comp)


@pytest.mark.parametrize("deg", [90, 180, 270])
def test_rotations_match_numpy(deg):
    d = _doc()
    comp, sel = d.composite(), np.array(d.selection.mask)
    d.rotate(deg)
    k = {90: -1, 180: 2, 270: 1}[deg]
    assert np.array_equal(d.composite(), np.rot90(comp, k))
    assert np.array_equal(d.selection.mask, np.rot90(sel, k))
    small = d.layers[1]
    assert small.result.before.shape == small.pixels.shape


def test_flip_matches_numpy():
    d = _doc()
    comp = d.composite()
    d.flip("h")
    assert np.array_equal(d.composite(), comp[:, ::-1])
    d.flip("v")
    assert np.array_equal(d.composite(), comp[::-1, ::-1])
    with pytest.raises(ValueError):
        d.flip("diagonal")


def test_crop_to_selection():
    d = _doc()
    comp = d.composite()
    d.crop_to_selection()
    assert d.size == (10, 5)
    assert np.array_equal(d.composite(), comp[2:7, 2:12])
    assert d.selection.mask.min() == 255
    assert d.layers[0].rect == Rect(0, 0, 10, 5)  # the background covers the new canvas
    d.select_none()
    with pytest.raises(ValueError):
        d.crop_to_selection()


def test_resize_canvas_anchor_and_background_grows():
    d = _doc()
    comp = d.composite()
    d.resize_canvas(50, 36, "center")
    assert d.size == (50, 36)
    out = d.composite()
    assert np.array_equal(out[3:33, 5:45], comp)
    assert out[:3].max() == 0
    assert d.layers[0].rect == Rect(0, 0, 50, 36)  # paintable everywhere
    assert d.layers[1].rect == Rect(10, 6, 8, 6)  # a small layer is only shifted
    d.resize_canvas(20, 20, (0.0, 0.0))
    assert d.size == (20, 20)
    with pytest.raises(ValueError):
        d.resize_canvas(10, 10, "middle")


def test_layer_entirely_cropped_away_becomes_tiny_transparent():
    d = _doc()
    d.crop(Rect(30, 20, 10, 10))
    small = d.layers[1]
    assert small.pixels.shape == (1, 1, 4) and small.pixels.max() == 0


def test_resize_image_scales_layers_and_positions():
    d = _doc()
    d.resize_image(80, 60)
    assert d.size == (80, 60)
    assert d.layers[0].rect == Rect(0, 0, 80, 60)
    assert d.layers[1].rect == Rect(10, 6, 16, 12)
    assert d.selection.bbox().contains(Rect(5, 5, 18, 8))
    with pytest.raises(ValueError):
        d.resize_image(0, 5)


def test_resize_does_not_bleed_colour_from_transparent_pixels():
    px = np.zeros((8, 8, 4), np.uint8)
    px[:, :4] = (255, 0, 0, 255)
    px[:, 4:] = (0, 255, 0, 0)  # invisible green
    d = Document.from_array(px)
    d.resize_image(16, 16)
    red = d.layers[0].pixels
    visible = red[..., 3] > 20
    assert red[visible, 1].max() < 10


def test_move_layer_repaints_old_and_new_place():
    d = _doc()
    seen = []
    d.events.pixels_changed.connect(seen.append)
    d.move_layer_by(1, 10, 0)
    assert d.layers[1].rect == Rect(15, 3, 8, 6)
    assert seen[-1] == Rect(5, 3, 18, 6)
    d.move_layer_by(1, 1, 0, merge=True)
    d.move_layer_by(1, 1, 0, merge=True)
    assert d.history.entries[-2:] == ["Move layer", "Move layer"]
    d.undo()
    assert d.layers[1].x == 15
