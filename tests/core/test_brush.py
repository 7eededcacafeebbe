import numpy as np
import pytest

from ganpaint.core.brush import TILE, BrushSettings, BrushStroke, dab_mask
from ganpaint.core.document import Document
from ganpaint.core.geometry import Rect
from ganpaint.core.layers import LayerLockedError


def _doc(w=200, h=120, fill=(255, 255, 255, 255)):
    px = np.zeros((h, w, 4), np.uint8)
    px[...] = fill
    return Document.from_array(px)


def test_dab_mask_shape_and_hardness():
    rect, a = dab_mask(10.0, 10.0, 8.0, 1.0)
    assert rect == Rect(6, 6, 8, 8) and a.shape == (8, 8)
    assert a.max() == 1.0 and a.min() >= 0.0
    _, soft = dab_mask(10.0, 10.0, 8.0, 0.0)
    assert soft.sum() < a.sum()  # a soft brush covers less
    assert a[4, 4] == 1.0 and a[0, 0] < 0.2


def test_stroke_paints_colour_and_is_one_undo_step():
    d = _doc()
    original = d.layers[0].pixels.copy()
    s = BrushStroke(d, 0, BrushSettings(size=10, hardness=1.0, color=(255, 0, 0)))
    changed = s.add_point(20, 60)
    for x in range(30, 181, 10):
        changed = changed.union(s.add_point(x, 60))
    assert changed.contains(Rect(20, 57, 160, 6))
    px = d.layers[0].pixels
    assert tuple(px[60, 100]) == (255, 0, 0, 255)
    assert tuple(px[20, 100]) == (255, 255, 255, 255)
    n = len(d.history.entries)
    cmd = s.finish()
    assert cmd is not None and len(d.history.entries) == n + 1
    after = px.copy()
    d.undo()
    assert np.array_equal(d.layers[0].pixels, original)
    d.redo()
    assert np.array_equal(d.layers[0].pixels, after)


def test_live_painting_emits_pixels_changed_and_finish_does_not():
    d = _doc()
    seen = []
    d.events.pixels_changed.connect(seen.append)
    s = BrushStroke(d, 0, BrushSettings(size=6))
    r = s.add_point(50, 50)
    assert seen == [r] and not r.is_empty()
    s.finish()
    assert seen == [r]


def test_spacing_places_dabs_along_path():
    d = _doc(400, 50, fill=(0, 0, 0, 0))
    s = BrushStroke(d, 0, BrushSettings(size=8, hardness=1.0, color=(0, 0, 255)))
    s.add_point(10, 25)
    s.add_point(390, 25)  # one long move: dabs every ~2 px in between
    alpha = d.layers[0].pixels[25, 10:390, 3]
    assert alpha.min() == 255


def test_opacity_does_not_build_up_within_a_stroke():
    d = _doc(100, 40, fill=(0, 0, 0, 0))
    s = BrushStroke(d, 0, BrushSettings(size=10, hardness=1.0, opacity=0.5, color=(0, 255, 0)))
    for x in range(10, 90):
        s.add_point(x, 20)
    s.add_point(10, 20)  # back over the same place
    a = d.layers[0].pixels[20, 15:85, 3]
    assert a.min() == a.max() == 128
    s.finish()
    s2 = BrushStroke(d, 0, BrushSettings(size=10, hardness=1.0, opacity=0.5, color=(0, 255, 0)))
    s2.add_point(50, 20)
    s2.finish()  # a second stroke does build up
    assert d.layers[0].pixels[20, 50, 3] == 192


def test_eraser_removes_alpha_keeps_colour():
    d = _doc(60, 60, fill=(10, 20, 30, 255))
    s = BrushStroke(d, 0, BrushSettings(size=10, hardness=1.0, eraser=True))
    s.add_point(30, 30)
    s.finish()
    assert d.layers[0].pixels[30, 30, 3] == 0
    assert tuple(d.layers[0].pixels[30, 30, :3]) == (10, 20, 30)
    assert d.layers[0].pixels[5, 5, 3] == 255


def test_painting_is_limited_by_selection():
    d = _doc()
    d.select_rect(Rect(0, 0, 100, 120))
    s = BrushStroke(d, 0, BrushSettings(size=20, hardness=1.0, color=(0, 0, 0)))
    s.add_point(80, 60)
    s.add_point(120, 60)
    s.finish()
    px = d.layers[0].pixels
    assert tuple(px[60, 95]) == (0, 0, 0, 255)
    assert tuple(px[60, 105]) == (255, 255, 255, 255)


def test_painting_on_offset_layer_and_outside_is_clipped():
    d = _doc(100, 100)
    layer = d.add_layer("small", pixels=np.zeros((20, 20, 4), np.uint8), x=40, y=40)
    idx = d.index_of(layer)
    s = BrushStroke(d, idx, BrushSettings(size=10, hardness=1.0, color=(9, 9, 9)))
    assert s.add_point(5, 5).is_empty()  # outside the layer
    r = s.add_point(45, 45)
    assert Rect(40, 40, 20, 20).contains(r) and not r.is_empty()
    s.finish()
    assert tuple(layer.pixels[5, 5]) == (9, 9, 9, 255)


def test_stroke_stores_only_touched_tiles():
    d = Document.from_array(np.zeros((1024, 1024, 4), np.uint8))
    s = BrushStroke(d, 0, BrushSettings(size=8))
    s.add_point(100, 100)
    s.add_point(900, 900)
    cmd = s.finish()
    # a diagonal line touches about 2 tiles per tile row, far less than its bbox
    assert cmd.nbytes <= 2 * 3 * (1024 // TILE) * TILE * TILE * 4
    bbox_bytes = 2 * 800 * 800 * 4  # before + after of the stroke's bounding box
    assert cmd.nbytes < bbox_bytes / 3


def test_cancel_restores_and_records_nothing():
    d = _doc()
    original = d.layers[0].pixels.copy()
    s = BrushStroke(d, 0, BrushSettings(size=30))
    s.add_point(50, 50)
    s.add_point(150, 80)
    s.cancel()
    assert np.array_equal(d.layers[0].pixels, original) and d.history.entries == []
    assert s.finish() is None


def test_empty_stroke_records_nothing_and_locked_layer_refused():
    d = _doc()
    s = BrushStroke(d, 0, BrushSettings(size=4))
    s.add_point(-100, -100)
    assert s.finish() is None and d.history.entries == []
    d.set_layer_props(0, locked=True)
    with pytest.raises(LayerLockedError):
        BrushStroke(d, 0, BrushSettings())


def test_pressure_scales_size():
    d = _doc(200, 60, fill=(0, 0, 0, 0))
    d.paint_stroke(0, [(50, 30, 1.0)], BrushSettings(size=20, hardness=1.0))
    d.paint_stroke(0, [(150, 30, 0.25)], BrushSettings(size=20, hardness=1.0))
    a = d.layers[0].pixels[..., 3]
    assert (a[:, :100] > 0).sum() > 8 * (a[:, 100:] > 0).sum()


def test_settings_validation():
    with pytest.raises(ValueError):
        BrushSettings(size=0)
    s = BrushSettings(hardness=3, opacity=-1, color=(300, -4, 5))
    assert (s.hardness, s.opacity, s.color) == (1.0, 0.0, (255, 0, 5))


def test_many_strokes_stay_under_history_limit():
    """500 small strokes on a 4096x4096 document: undo memory stays under the limit."""
    d = Document.from_array(np.zeros((4096, 4096, 4), np.uint8), history_limit_mb=8)
    rng = np.random.default_rng(1)
    settings = BrushSettings(size=6, hardness=1.0, color=(200, 0, 0))
    last = None
    for _ in range(500):
        x, y = rng.uniform(10, 4080, 2)
        s = BrushStroke(d, 0, settings)
        s.add_point(x, y)
        s.add_point(x + 4, y + 3)
        s.finish()
        last = (int(y), int(x))
    assert d.history.nbytes <= 8 * 1024 * 1024
    assert d.history.dropped > 0 and len(d.history.entries) < 500
    assert d.layers[0].pixels[last][3] == 255  # the document keeps every stroke
    while d.history.undo():
        pass
    assert d.layers[0].pixels[..., 3].any()  # strokes older than the kept steps remain
