"""'Grow area' (issue 16, masks a painter makes): the tool grows the mask it receives by N px
before filling, so a halo around the removed object goes too, and touches nothing beyond."""

from __future__ import annotations

import ganpaint_inpaint
import numpy as np
from ganpaint_inpaint import tool
from ganpaint_inpaint.geometry import grow_mask

from ganpaint.core.toolio import result_pixels, to_uint8, validate_result
from ganpaint.testing import make_request

SPEC = ganpaint_inpaint.ganpaint_register_tools()[0]
HALO = np.array([1.0, 1.0, 0.2], np.float32)


def _object_with_halo(h: int = 48, w: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A grey picture with a red 10x12 object and a 2 px yellow ring (its halo) around it;
    the mask covers the object only, as a selection of it would."""
    img = np.full((h, w, 3), 0.4, np.float32)
    img[..., 1] = np.linspace(0.2, 0.6, w, dtype=np.float32)[None, :]  # a gentle gradient
    ring = np.zeros((h, w), bool)
    ring[17:33, 24:40] = True
    obj = np.zeros((h, w), bool)
    obj[19:31, 26:38] = True
    ring &= ~obj
    img[ring] = HALO
    img[obj] = [0.9, 0.1, 0.1]
    return img, obj.astype(np.float32), ring


def test_grow_area_parameter() -> None:
    p = SPEC.param("grow")
    assert p.kind == "int" and p.default == 4 and p.minimum == 0
    assert p.label == "Grow area" and "halo" in p.help


def test_the_halo_ring_is_filled_and_nothing_beyond_the_grown_area_changes(ctx) -> None:  # type: ignore[no-untyped-def]
    img, mask, ring = _object_with_halo()
    req = make_request(img, spec=SPEC, params={"model": "tiny-inpaint", "grow": 4}, mask=mask)
    res = validate_result(req, tool.run(req, ctx))
    out = result_pixels(req, res)[..., :3].astype(int)
    grown = grow_mask(mask, 4)
    assert (grown[ring] == 1).all()
    # every halo pixel is replaced, and the halo colour does not feed the fill
    halo8 = to_uint8(HALO).astype(int)
    assert (np.abs(out[ring] - halo8).max(axis=-1) > 100).all()
    assert out[grown > 0][..., 2].max() < 200  # the fill comes from the grey/green surroundings
    # beyond the grown area: the exact original pixels
    beyond = grown == 0
    assert np.array_equal(out[beyond], to_uint8(img)[beyond].astype(int))
    assert res.metadata["grow"] == 4


def test_without_growing_the_halo_stays(ctx) -> None:  # type: ignore[no-untyped-def]
    img, mask, ring = _object_with_halo()
    req = make_request(img, spec=SPEC, params={"model": "tiny-inpaint", "grow": 0}, mask=mask)
    out = result_pixels(req, validate_result(req, tool.run(req, ctx)))[..., :3]
    assert np.array_equal(out[ring], to_uint8(img)[ring])


def test_grow_mask_is_a_grey_dilation_within_n_pixels() -> None:
    m = np.zeros((21, 25), np.float32)
    m[10, 12] = 1.0
    m[10, 13] = 0.5
    g = grow_mask(m, 3)
    ys, xs = np.nonzero(g > 0)
    assert ys.min() == 7 and ys.max() == 13  # 3 px up and down
    assert xs.min() == 9 and xs.max() == 16  # 3 px left of the pixel, 3 px right of the soft one
    assert g[10, 12] == 1.0 and g[10, 15] == 1.0  # the larger value wins...
    assert g[10, 16] == 0.5  # ...and the soft edge moves out with it
    assert g[7, 9] == 0.0  # corners farther than 3 px stay out (an octagon, not a square)
    assert np.array_equal(grow_mask(m, 0), m)


def test_grow_mask_at_the_border_and_odd_sizes() -> None:
    m = np.zeros((1, 9), np.float32)
    m[0, 0] = 1.0
    assert np.array_equal(grow_mask(m, 2), np.array([[1, 1, 1, 0, 0, 0, 0, 0, 0]], np.float32))
    assert np.array_equal(grow_mask(np.zeros((5, 7), np.float32), 3), np.zeros((5, 7), np.float32))


def test_growing_that_would_cover_everything_fills_the_area_as_given(ctx) -> None:  # type: ignore[no-untyped-def]
    img = np.full((6, 6, 3), 0.5, np.float32)
    mask = np.zeros((6, 6), np.float32)
    mask[2:4, 2:4] = 1.0
    req = make_request(img, spec=SPEC, params={"model": "tiny-inpaint", "grow": 10}, mask=mask)
    res = tool.run(req, ctx)
    assert res.metadata["grow"] == 0 and res.composited is False
