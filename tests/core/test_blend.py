import numpy as np
import pytest

from ganpaint.core.blend import composite_layers
from ganpaint.core.geometry import Rect
from ganpaint.core.layers import BlendMode, Layer

rng = np.random.default_rng(0)


def _reference(layers, width, height):
    """Straight float64 W3C compositing, pixel formulas written out (no premultiplication)."""
    cb = np.zeros((height, width, 3))
    ab = np.zeros((height, width, 1))
    for layer in layers:
        if not layer.visible:
            continue
        src = np.zeros((height, width, 4))
        r = layer.rect.clipped(width, height)
        src[r.slices()] = layer.pixels[r.slices_in(layer.rect)] / 255.0
        cs, a_s = src[..., :3], src[..., 3:] * layer.opacity
        if layer.blend is BlendMode.NORMAL:
            b = cs
        elif layer.blend is BlendMode.MULTIPLY:
            b = cb * cs
        elif layer.blend is BlendMode.SCREEN:
            b = cb + cs - cb * cs
        else:
            b = np.where(cb <= 0.5, 2 * cb * cs, 1 - 2 * (1 - cb) * (1 - cs))
        co = a_s * (1 - ab) * cs + a_s * ab * b + (1 - a_s) * ab * cb
        ao = a_s + ab * (1 - a_s)
        cb = np.where(ao > 0, co / np.where(ao > 0, ao, 1), 0)
        ab = ao
    return np.concatenate([cb, ab], axis=2)


def _random_layer(w, h, **kw):
    px = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    return Layer(px, **kw)


@pytest.mark.parametrize("mode", list(BlendMode))
@pytest.mark.parametrize("opacity", [1.0, 0.37])
def test_modes_match_reference(mode, opacity):
    base = _random_layer(24, 16)
    top = _random_layer(20, 10, x=3, y=4, blend=mode, opacity=opacity)
    got = composite_layers([base, top], Rect(0, 0, 24, 16)).astype(float) / 255.0
    ref = _reference([base, top], 24, 16)
    assert np.abs(got[..., 3] - ref[..., 3]).max() <= 1 / 255 + 1e-9
    # colour is only well defined where there is some alpha
    visible = ref[..., 3] > 0.05
    assert np.abs(got[..., :3] - ref[..., :3])[visible].max() <= 2 / 255 + 1e-9


def test_single_layer_is_exact():
    layer = _random_layer(33, 17)
    assert np.array_equal(composite_layers([layer], Rect(0, 0, 33, 17)), _exact_straight(layer.pixels))


def _exact_straight(px):
    out = px.copy()
    out[px[..., 3] == 0, :3] = 0  # fully transparent pixels have no colour
    return out


def test_opaque_pixels_round_trip_exactly():
    px = rng.integers(0, 256, (10, 10, 4), dtype=np.uint8)
    px[..., 3] = 255
    assert np.array_equal(composite_layers([Layer(px)], Rect(0, 0, 10, 10)), px)


def test_region_equals_slice_of_full():
    layers = [_random_layer(40, 30), _random_layer(25, 25, x=7, y=-5, blend=BlendMode.OVERLAY, opacity=0.6),
              _random_layer(10, 10, x=30, y=20, blend=BlendMode.MULTIPLY)]
    full = composite_layers(layers, Rect(0, 0, 40, 30))
    r = Rect(5, 3, 17, 21)
    assert np.array_equal(composite_layers(layers, r), full[r.slices()])


def test_outside_layers_transparent_and_hidden_skipped():
    top = Layer(np.full((4, 4, 4), 255, np.uint8), x=2, y=2, visible=False)
    base = Layer(np.full((4, 4, 4), 255, np.uint8), x=2, y=2)
    out = composite_layers([base, top], Rect(0, 0, 8, 8))
    assert out[:2].max() == 0 and out[6:].max() == 0
    assert (out[2:6, 2:6] == 255).all()
    beyond = composite_layers([base], Rect(-10, -10, 5, 5))
    assert beyond.shape == (5, 5, 4) and beyond.max() == 0


def test_banded_composite_matches(monkeypatch):
    import ganpaint.core.blend as blend

    layers = [_random_layer(50, 40), _random_layer(50, 40, blend=BlendMode.SCREEN, opacity=0.5)]
    whole = composite_layers(layers, Rect(0, 0, 50, 40))
    monkeypatch.setattr(blend, "_TILE", 7)  # force several tiles
    assert np.array_equal(composite_layers(layers, Rect(0, 0, 50, 40)), whole)


def test_background_under_layers():
    bg = np.zeros((3, 3, 4), np.uint8)
    bg[...] = (0, 0, 255, 255)
    top = Layer(np.zeros((3, 3, 4), np.uint8))
    out = composite_layers([top], Rect(0, 0, 3, 3), background=bg)
    assert np.array_equal(out, bg)


def test_opaque_top_layer_hides_everything_below():
    below = _random_layer(20, 20, blend=BlendMode.SCREEN)
    top = Layer(rng.integers(0, 256, (20, 20, 4), dtype=np.uint8))
    top.pixels[..., 3] = 255
    out = composite_layers([below, top], Rect(0, 0, 20, 20))
    assert np.array_equal(out, top.pixels)
    # not opaque everywhere: the layer below shows through there (checked against the reference)
    top.pixels[3, 4, 3] = 128
    got = composite_layers([below, top], Rect(0, 0, 20, 20)).astype(float) / 255
    ref = _reference([below, top], 20, 20)
    assert np.abs(got - ref).max() <= 2 / 255 + 1e-9
    assert not np.array_equal(got[3, 4], top.pixels[3, 4] / 255)


def test_empty_and_sparse_layers_over_opaque_base(monkeypatch):
    import ganpaint.core.blend as blend

    monkeypatch.setattr(blend, "_TILE", 8)  # tiles where the sparse layer is empty, and where it is not
    base = Layer(rng.integers(0, 256, (24, 24, 4), dtype=np.uint8))
    base.pixels[..., 3] = 255
    empty = Layer(np.zeros((24, 24, 4), np.uint8))
    assert np.array_equal(composite_layers([base, empty], Rect(0, 0, 24, 24)), base.pixels)
    sparse = Layer(np.zeros((24, 24, 4), np.uint8), blend=BlendMode.MULTIPLY)
    sparse.pixels[2:5, 3:6] = (10, 200, 30, 180)
    got = composite_layers([base, empty, sparse], Rect(0, 0, 24, 24))
    ref = _reference([base, empty, sparse], 24, 24)
    assert np.abs(got / 255.0 - ref).max() <= 2 / 255 + 1e-9
    assert np.array_equal(got[8:], base.pixels[8:])
