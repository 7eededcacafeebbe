"""Issue 16, correct compositing: the fill replaces every pixel under the mask (fully opaque
where the picture is), leaves every other pixel alone, never sees what was under the mask,
and a soft selection edge is applied by the host's compositing, not by the tool."""

from __future__ import annotations

import ganpaint_inpaint
import numpy as np
import pytest
from ganpaint_inpaint import geometry, tool

from ganpaint.core.specs import ToolResult
from ganpaint.core.toolio import result_pixels, to_uint8, validate_result
from ganpaint.testing import make_request

SPEC = ganpaint_inpaint.ganpaint_register_tools()[0]


def _run(img, mask, ctx, alpha=None, **params):  # type: ignore[no-untyped-def]
    req = make_request(img, spec=SPEC, params={"model": "tiny-inpaint", "grow": 0, **params}, mask=mask, alpha=alpha)
    return req, validate_result(req, tool.run(req, ctx))


def _picture(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([x / max(w - 1, 1), y / max(h - 1, 1), 0.5 + 0.3 * np.sin(x / 5.0)], axis=-1)
    return np.clip(base + rng.normal(0, 0.03, (h, w, 3)), 0, 1).astype(np.float32)


def _q(a: np.ndarray) -> np.ndarray:
    """As the editor stores it: 8 bits."""
    return np.clip(np.rint(a * 255), 0, 255).astype(np.float32) / 255


# (h, w, hole rows, hole columns): odd sizes, thin pictures, holes on each border
CASES = [
    (63, 65, slice(20, 41), slice(22, 47)),
    (63, 65, slice(40, 63), slice(0, 30)),      # bottom-left corner
    (63, 65, slice(0, 63), slice(50, 65)),      # a full-height strip on the right border
    (65, 63, slice(0, 9), slice(0, 63)),        # a full-width strip on the top border
    (1, 37, slice(0, 1), slice(10, 17)),        # 1 x N
    (37, 1, slice(25, 37), slice(0, 1)),        # N x 1, touching the bottom
    (30, 47, slice(5, 30), slice(41, 47)),      # not a multiple of 4, hole on the padded sides
    # one known row/column between the hole and the padded sides: the network's reflect
    # padding copied hole pixels there while the mask's replicate padding called them known
    (30, 47, slice(10, 29), slice(40, 46)),
]


def _mask(h: int, w: int, rows: slice, cols: slice) -> np.ndarray:
    m = np.zeros((h, w), np.float32)
    m[rows, cols] = 1.0
    return m


# ----------------------------------------------------------------------------- push-pull


def test_push_pull_of_a_63x65_picture_has_no_empty_cells() -> None:
    """The old pyramid stopped at 1 x 2 and set an empty cell to 0: ones known only at the
    left came out 0.0 on the right."""
    v = np.ones((63, 65), np.float32)
    k = np.zeros((63, 65), np.float32)
    k[:, :10] = 1.0
    assert np.array_equal(geometry.push_pull(v, k), v)
    corner = np.zeros_like(k)
    corner[0, 0] = 1.0
    assert np.array_equal(geometry.push_pull(v, corner), v)


@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (2, 1), (1, 37), (37, 1), (63, 65), (65, 63), (5, 300)])
def test_push_pull_is_a_normalised_fill(shape) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    h, w = shape
    # a constant known anywhere is that constant everywhere, exactly
    for y, x in ((0, 0), (h - 1, w - 1), (h // 2, w // 2)):
        k = np.zeros(shape, np.float32)
        k[y, x] = 1.0
        assert np.array_equal(geometry.push_pull(np.full(shape, 0.7, np.float32), k), np.full(shape, 0.7, np.float32))
    # known values are kept; the rest lies within their range (a convex combination)
    v = rng.random((h, w, 3)).astype(np.float32)
    k = (rng.random(shape) < 0.3).astype(np.float32)
    k.flat[0] = 1.0
    out = geometry.push_pull(v, k)
    assert out.shape == v.shape and out.dtype == np.float32
    assert np.array_equal(out[k == 1], v[k == 1])
    known = v[k == 1]
    assert (out >= known.min(axis=0) - 1e-6).all() and (out <= known.max(axis=0) + 1e-6).all()
    # what lies under unknown pixels does not matter
    v2 = np.where(k[..., None] == 1, v, 1.0 - v).astype(np.float32)
    assert np.array_equal(geometry.push_pull(v2, k), out)


# ----------------------------------------------------------------------------- the tool


@pytest.mark.parametrize(("h", "w", "rows", "cols"), CASES)
def test_opaque_in_opaque_out_and_outside_untouched(ctx, h, w, rows, cols) -> None:  # type: ignore[no-untyped-def]
    img = _q(_picture(h, w))
    mask = _mask(h, w, rows, cols)
    alpha = np.ones((h, w), np.float32)
    req, res = _run(img, mask, ctx, alpha=alpha)
    assert res.alpha is not None and np.array_equal(res.alpha, alpha)  # no ghost: every hole pixel opaque
    outside = mask == 0
    assert np.array_equal(res.image[outside], img[outside])
    rgba = result_pixels(req, res)
    assert (rgba[..., 3] == 255).all()
    assert np.array_equal(rgba[..., :3][outside], to_uint8(img)[outside])
    # without an alpha channel the result is opaque too
    req2, res2 = _run(img, mask, ctx)
    assert res2.alpha is None and (result_pixels(req2, res2)[..., 3] == 255).all()


@pytest.mark.parametrize(("h", "w", "rows", "cols"), CASES)
def test_what_was_under_the_mask_never_reaches_the_result(ctx, h, w, rows, cols) -> None:  # type: ignore[no-untyped-def]
    """Two pictures that differ only under the mask (colour and alpha: a black erased hole,
    a white one, an object) give identical results, so every masked pixel is replaced and
    none of the old content shows (no ghost, no outline)."""
    _check_under_the_mask_never_reaches_the_result(ctx, h, w, rows, cols)


@pytest.mark.parametrize(("h", "w", "rows", "cols"), CASES)
def test_nor_through_the_fsr_guide(guided_ctx, h, w, rows, cols) -> None:  # type: ignore[no-untyped-def]
    """The same with a guided model: the FSR guide reads the zeroed hole too."""
    _check_under_the_mask_never_reaches_the_result(guided_ctx, h, w, rows, cols)


def _check_under_the_mask_never_reaches_the_result(ctx, h, w, rows, cols) -> None:  # type: ignore[no-untyped-def]
    mask = _mask(h, w, rows, cols)
    hole = mask > 0
    base = _q(_picture(h, w))
    alpha = np.ones((h, w), np.float32)
    results = []
    for fill, a in ((0.0, 0.0), (1.0, 1.0), (None, 0.4)):
        img = base.copy()
        img[hole] = _q(_picture(h, w, seed=7))[hole] if fill is None else fill
        al = alpha.copy()
        al[hole] = a
        req, res = _run(img, mask, ctx, alpha=al)
        results.append((result_pixels(req, res), res))
    first = results[0]
    for rgba, res in results[1:]:
        assert np.array_equal(res.image, first[1].image)
        assert np.array_equal(res.alpha, first[1].alpha)
        assert np.array_equal(rgba, first[0])
    # the hole's alpha continues the opaque surroundings, even where the hole was transparent
    assert (first[0][..., 3] == 255).all()


def test_large_area_at_the_working_size_ignores_the_hole_too(ctx) -> None:  # type: ignore[no-untyped-def]
    h, w = 150, 203
    mask = _mask(h, w, slice(20, 150), slice(30, 203))
    outs = []
    for v in (0.0, 1.0):
        img = _picture(h, w)
        img[mask > 0] = v
        outs.append(_run(img, mask, ctx, work_size=64, seed=3)[1].image)
    assert np.array_equal(outs[0], outs[1])


def test_transparent_hole_in_an_opaque_picture_becomes_opaque(ctx) -> None:  # type: ignore[no-untyped-def]
    """An erased area (alpha 0) selected and filled: the fill is opaque like its surroundings,
    and a transparent part of the picture elsewhere stays transparent."""
    h, w = 63, 65
    img = _picture(h, w)
    alpha = np.ones((h, w), np.float32)
    alpha[:, 55:] = 0.0
    mask = _mask(h, w, slice(20, 40), slice(10, 30))
    alpha[mask > 0] = 0.0
    _, res = _run(img, mask, ctx, alpha=alpha)
    assert res.alpha is not None
    assert (res.alpha[mask > 0] == 1.0).all()
    assert np.array_equal(res.alpha[mask == 0], alpha[mask == 0])


def test_a_soft_edge_is_the_hosts_blend_of_fill_and_original(ctx) -> None:  # type: ignore[no-untyped-def]
    """The tool fills every selected pixel at full weight; the host mixes the original back
    in only by the selection's own softness (result * m + original * (1 - m))."""
    h, w = 48, 64
    img = _q(_picture(h, w))
    mask = _mask(h, w, slice(12, 36), slice(16, 48))
    mask[11, 16:48] = 0.4
    mask[36, 16:48] = 0.75
    req, res = _run(img, mask, ctx)
    assert not res.composited
    soft = (mask > 0) & (mask < 1)
    # the tool's own output does not depend on what the soft pixels held
    img2 = img.copy()
    img2[mask > 0] = 0.0
    _, res2 = _run(img2, mask, ctx)
    assert np.array_equal(res.image, res2.image)
    # the host's compositing gives the soft pixels their share of the original
    m = mask[..., None]
    want = to_uint8(res.image * m + img * (1 - m))
    rgba = result_pixels(req, res)
    assert np.array_equal(rgba[..., :3], want)
    assert np.abs(rgba[..., :3][soft].astype(int) - to_uint8(res.image)[soft].astype(int)).max() > 0
    assert np.array_equal(rgba[..., :3][mask == 0], to_uint8(img)[mask == 0])


def test_apply_result_honours_the_selection_softness(ctx) -> None:  # type: ignore[no-untyped-def]
    """Through the document: the result layer is fill where the selection is full, the
    original where it is empty, and the selection's mix in between."""
    from ganpaint.core.document import Document
    from ganpaint.core.toolio import apply_result, build_request, result_source

    h, w = 40, 56
    img8 = to_uint8(_picture(h, w))
    rgba = np.concatenate([img8, np.full((h, w, 1), 255, np.uint8)], axis=-1)
    doc = Document.from_array(rgba)
    sel = _mask(h, w, slice(10, 30), slice(12, 40))
    sel[9, 12:40] = 0.5
    doc.set_selection(sel)
    req = build_request(doc, SPEC, params={"model": "tiny-inpaint", "grow": 0})
    assert req.mask is not None and np.allclose(req.mask, sel, atol=1 / 255)
    res = validate_result(req, tool.run(req, ctx))
    apply_result(doc, SPEC, req, res, result_source(doc, SPEC))
    out = doc.active_layer.pixels
    m = req.mask[..., None]
    assert np.array_equal(out[..., :3], to_uint8(res.image * m + req.image * (1 - m)))
    assert np.array_equal(out[..., :3][req.mask == 0], img8[req.mask == 0])
    assert (out[..., 3] == 255).all()


def test_the_tool_has_no_feather_of_its_own() -> None:
    """The old 'Soft edge' knob mixed the removed content back in (a light or dark outline
    around an erased hole): a soft edge is now the selection's."""
    assert "feather" not in {p.name for p in SPEC.params}
    assert not hasattr(geometry, "paste_weight")


def test_result_is_not_composited_by_the_tool(ctx) -> None:  # type: ignore[no-untyped-def]
    img = _picture(20, 20)
    mask = _mask(20, 20, slice(5, 15), slice(5, 15))
    req = make_request(img, spec=SPEC, params={"model": "tiny-inpaint", "grow": 0}, mask=mask)
    res = tool.run(req, ctx)
    assert isinstance(res, ToolResult) and res.composited is False
    assert "feather" not in res.metadata
