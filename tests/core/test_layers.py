import numpy as np
import pytest

from ganpaint.core.geometry import Rect
from ganpaint.core.layers import BlendMode, Layer, LayerKind, ResultInfo, as_rgba8


def test_layer_defaults_and_geometry():
    layer = Layer.blank(30, 20, "paint", x=5, y=-3)
    assert layer.pixels.shape == (20, 30, 4) and layer.pixels.dtype == np.uint8
    assert (layer.width, layer.height) == (30, 20)
    assert layer.rect == Rect(5, -3, 30, 20)
    assert layer.blend is BlendMode.NORMAL and layer.kind is LayerKind.RASTER
    assert len(layer.id) == 32 and layer.id != Layer.blank(1, 1).id


def test_layer_coerces_inputs():
    rgb = np.full((4, 5, 3), 7, np.uint8)
    layer = Layer(rgb, blend="multiply", kind="sketch", opacity=3.0)
    assert layer.pixels.shape == (4, 5, 4) and (layer.pixels[..., 3] == 255).all()
    assert layer.blend is BlendMode.MULTIPLY and layer.kind is LayerKind.SKETCH
    assert layer.opacity == 1.0
    with pytest.raises(ValueError):
        Layer(np.zeros((0, 4, 4), np.uint8))
    with pytest.raises(ValueError):
        Layer(np.zeros((4, 4, 2), np.uint8))


def test_as_rgba8_float_and_grey():
    f = np.zeros((2, 2, 4), np.float32)
    f[0, 0] = (1.0, 0.5, 0.0, 1.0)
    out = as_rgba8(f)
    assert out.dtype == np.uint8 and tuple(out[0, 0]) == (255, 128, 0, 255)
    grey = as_rgba8(np.full((2, 3), 9, np.uint8))
    assert grey.shape == (2, 3, 4) and tuple(grey[1, 2]) == (9, 9, 9, 255)


def test_copy_is_deep_with_new_id():
    info = ResultInfo("blur", plugin="classic", params={"r": 2}, before=np.zeros((2, 2, 4), np.uint8))
    layer = Layer(np.zeros((2, 2, 4), np.uint8), name="r", kind=LayerKind.RESULT, result=info)
    c = layer.copy()
    assert c.id != layer.id and c.name == "r"
    c.pixels[0, 0, 0] = 9
    c.result.params["r"] = 5
    assert layer.pixels[0, 0, 0] == 0 and layer.result.params["r"] == 2
    same = layer.copy(new_id=False)
    assert same.id == layer.id


def test_canvas_alpha_places_layer():
    px = np.zeros((2, 2, 4), np.uint8)
    px[..., 3] = 255
    layer = Layer(px, x=3, y=1)
    a = layer.canvas_alpha(5, 4)
    assert a.shape == (4, 5) and a.dtype == np.float32
    assert a[1:3, 3:5].min() == 1.0 and a.sum() == 4.0


def test_result_info_nbytes_and_props():
    info = ResultInfo("t", attachments={"x": b"abc"}, before=np.zeros((2, 2, 4), np.uint8))
    assert info.nbytes == 3 + 16
    layer = Layer.blank(2, 2)
    assert set(layer.props()) == {"name", "visible", "opacity", "blend", "locked", "kind", "x", "y"}
