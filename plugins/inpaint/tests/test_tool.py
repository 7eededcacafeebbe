"""The Inpaint tool: registration, the paste contract (pixels outside the mask are
exactly unchanged), variations, large pictures, and every bad input of issue 4."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import ganpaint_inpaint
import numpy as np
import pytest
import torch
from ganpaint_inpaint import geometry, tool

from ganpaint.core.specs import Role, ToolError
from ganpaint.core.toolio import result_pixels, validate_result
from ganpaint.engine.models.store import ModelStore
from ganpaint.nn import ResnetConfig, ResnetGenerator
from ganpaint.testing import RecordingContext, make_request

SPEC = ganpaint_inpaint.ganpaint_register_tools()[0]


def _run(img, mask, ctx, alpha=None, **params):  # type: ignore[no-untyped-def]
    req = make_request(img, spec=SPEC, params={"model": "tiny-inpaint", "grow": 0, **params}, mask=mask, alpha=alpha)
    return req, validate_result(req, tool.run(req, ctx))


def _box_mask(h: int, w: int, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    m = np.zeros((h, w), np.float32)
    m[y0:y1, x0:x1] = 1.0
    return m


# ----------------------------------------------------------------------------- registration


def test_entry_point_spec_and_api_version() -> None:
    eps = [ep for ep in entry_points(group="ganpaint.plugins") if ep.name == "inpaint"]
    assert eps and eps[0].value == "ganpaint_inpaint"
    assert ganpaint_inpaint.GANPAINT_API_VERSION == 1
    assert SPEC.id == "inpaint" and SPEC.uses_torch
    assert SPEC.roles() == (Role.IMAGE, Role.MASK)
    assert SPEC.param("model").kind == "model"
    assert SPEC.param("seed").kind == "seed"
    assert {p.name for p in SPEC.params} == {"model", "seed", "context", "work_size", "grow", "texture"}


def test_default_model_spec_points_into_the_package() -> None:
    specs = ganpaint_inpaint.ganpaint_register_models()
    if not ganpaint_inpaint.MODEL_FILE.is_file():
        assert specs == []
        return
    (spec,) = specs
    assert spec.name == "inpaint-default" and spec.tool == "inpaint" and spec.default
    assert Path(spec.path).parent.parent == Path(ganpaint_inpaint.__file__).parent
    assert Path(spec.path).stat().st_size <= 30 * 2**20


def test_import_does_not_load_torch() -> None:
    code = "import sys, ganpaint_inpaint; ganpaint_inpaint.ganpaint_register_tools(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------- the paste contract


def test_outside_the_mask_is_exactly_unchanged(ctx, make_picture) -> None:  # type: ignore[no-untyped-def]
    img = make_picture()
    mask = _box_mask(96, 128, 30, 60, 40, 90)
    mask[60:64, 40:90] = 0.4  # a soft edge, as a feathered selection has
    req, res = _run(img, mask, ctx)
    assert not res.composited  # the host blends through the (soft) mask
    out = res.image
    outside = mask == 0
    assert np.array_equal(out[outside], img[outside])
    inside = mask == 1
    assert np.abs(out[inside] - img[inside]).mean() > 0.02  # the hole really got new content
    # and through the host's compositing into 8-bit RGBA: still identical outside
    rgba = result_pixels(req, res)
    src = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
    assert np.array_equal(rgba[..., :3][outside], src[outside])


def test_context_box_grows_until_there_is_something_to_fill_from() -> None:
    hole = np.zeros((300, 300), bool)
    hole[100:140, 100:120] = True
    b = geometry.context_box(hole, ~hole, 1.0)
    assert (b.x0, b.y0, b.x1, b.y1) == (60, 60, 160, 180)
    # no known pixel near the hole: the box doubles until it reaches some
    valid = np.zeros_like(hole)
    valid[0:5, :] = True
    b = geometry.context_box(hole, valid, 0.25)
    assert b.y0 < 5


def test_variations_differ_by_seed_and_repeat(ctx, make_picture) -> None:  # type: ignore[no-untyped-def]
    img = make_picture()
    mask = _box_mask(96, 128, 20, 70, 30, 100)
    inside = mask == 1
    outs = {s: _run(img, mask, ctx, seed=s)[1].image for s in (0, 1, 2)}
    assert np.abs(outs[1] - outs[0])[inside].mean() > 1e-3
    assert np.abs(outs[2] - outs[1])[inside].mean() > 1e-3
    assert np.array_equal(_run(img, mask, ctx, seed=2)[1].image, outs[2])
    for o in outs.values():
        assert np.array_equal(o[~inside], img[~inside])


def test_large_area_runs_at_the_working_size(ctx, make_picture) -> None:  # type: ignore[no-untyped-def]
    img = make_picture(300, 400)
    mask = _box_mask(300, 400, 50, 250, 60, 340)
    _, res = _run(img, mask, ctx, work_size=64)
    assert res.metadata["box"] == [0, 0, 400, 300]
    assert np.array_equal(res.image[mask == 0], img[mask == 0])
    assert np.isfinite(res.image).all()


def test_small_hole_in_large_picture_crops_around_it(ctx, make_picture) -> None:  # type: ignore[no-untyped-def]
    img = make_picture(600, 800)
    mask = _box_mask(600, 800, 300, 320, 400, 410)
    _, res = _run(img, mask, ctx, context=1.0)
    assert res.metadata["box"] == [368, 268, 74, 84]  # 32 px of context around the 10x20 hole


# ----------------------------------------------------------------------------- bad input


def test_empty_mask_is_a_clear_error(ctx, make_picture) -> None:  # type: ignore[no-untyped-def]
    img = make_picture()
    for mask in (None, np.zeros((96, 128), np.float32), np.full((96, 128), 0.001, np.float32)):
        with pytest.raises(ToolError, match="mask is empty"):
            _run(img, mask, ctx)


def test_mask_covering_everything_is_a_clear_error(ctx, make_picture) -> None:  # type: ignore[no-untyped-def]
    img = make_picture()
    with pytest.raises(ToolError, match="covers the whole picture"):
        _run(img, np.ones((96, 128), np.float32), ctx)


def test_one_pixel_picture(ctx) -> None:  # type: ignore[no-untyped-def]
    img = np.full((1, 1, 3), 0.5, np.float32)
    with pytest.raises(ToolError, match="covers the whole picture"):
        _run(img, np.ones((1, 1), np.float32), ctx)
    with pytest.raises(ToolError, match="mask is empty"):
        _run(img, np.zeros((1, 1), np.float32), ctx)
    # two pixels, one to fill: works (replicate padding up to the network's multiple of 4)
    img2 = np.array([[[0.2, 0.4, 0.6], [0.9, 0.9, 0.9]]], np.float32)
    _, res = _run(img2, np.array([[0.0, 1.0]], np.float32), ctx)
    assert np.array_equal(res.image[0, 0], img2[0, 0]) and np.isfinite(res.image).all()


def test_picture_with_alpha(ctx, make_picture) -> None:  # type: ignore[no-untyped-def]
    img = make_picture()
    alpha = np.ones((96, 128), np.float32)
    alpha[:, :20] = 0.0  # a transparent strip: its colour means nothing
    mask = _box_mask(96, 128, 30, 60, 40, 90)
    _, res = _run(img, mask, ctx, alpha=alpha)
    assert res.alpha is not None
    assert np.array_equal(res.alpha[mask == 0], alpha[mask == 0])
    # a hole inside an opaque area stays opaque: alpha continues its surroundings
    assert res.alpha[mask == 1].min() > 0.99
    assert np.array_equal(res.image[mask == 0], img[mask == 0])
    # everything not selected is transparent: nothing to fill from
    with pytest.raises(ToolError, match="every opaque pixel"):
        _run(img, mask, ctx, alpha=np.where(mask > 0, 1.0, 0.0).astype(np.float32))


def test_wrong_kind_of_model_is_a_clear_error(tmp_path, make_picture, save_generator) -> None:  # type: ignore[no-untyped-def]
    store = ModelStore(root=tmp_path)
    torch.manual_seed(0)
    path = save_generator(store, "not-inpaint", ResnetGenerator(ResnetConfig(ngf=4, n_blocks=1)),
                          tool="translate", architecture="resnet_generator")
    ctx = RecordingContext(models={("not-inpaint", "inpaint"): str(path)})
    req = make_request(make_picture(), spec=SPEC, params={"model": "not-inpaint"},
                       mask=_box_mask(96, 128, 10, 20, 10, 20))
    with pytest.raises(ToolError, match="not an inpainting model"):
        tool.run(req, ctx)


def test_unknown_model_is_a_clear_error(make_picture) -> None:  # type: ignore[no-untyped-def]
    req = make_request(make_picture(), spec=SPEC, params={"model": "nope"}, mask=_box_mask(96, 128, 10, 20, 10, 20))
    with pytest.raises(ToolError, match="nope"):
        tool.run(req, RecordingContext())


# ----------------------------------------------------------------------------- the shipped model

needs_default = pytest.mark.skipif(not ganpaint_inpaint.MODEL_FILE.is_file(), reason="default model not trained yet")


@needs_default
def test_shipped_default_fills_a_real_result(make_picture) -> None:  # type: ignore[no-untyped-def]
    """Smoke test: the default model on a small picture gives a real fill (not the input,
    not a constant, close to the surroundings) and leaves everything else identical."""
    from ganpaint.engine.models.store import resolve_model_path

    specs = ganpaint_inpaint.ganpaint_register_models()
    path = resolve_model_path("inpaint-default", "inpaint", defaults=specs)
    ctx = RecordingContext(models={("inpaint-default", "inpaint"): str(path)})
    img = make_picture(64, 96, seed=3)
    mask = _box_mask(64, 96, 20, 44, 30, 66)
    damaged = img.copy()
    damaged[mask == 1] = 0.0  # the model must not see what was there
    req = make_request(damaged, spec=SPEC, params={"model": "inpaint-default", "grow": 0}, mask=mask)
    out = validate_result(req, tool.run(req, ctx)).image
    inside, outside = mask == 1, mask == 0
    assert np.array_equal(out[outside], damaged[outside])
    fill = out[inside]
    assert np.abs(fill - damaged[inside]).mean() > 0.1   # not the (zeroed) input
    assert fill.std(axis=0).max() > 0.01                 # not a constant
    assert np.abs(fill - img[inside]).mean() < 0.12      # near the smooth truth


@needs_default
@pytest.mark.slow
def test_command_line_fills_through_the_mask(tmp_path, isolated_data_dir, make_picture) -> None:  # type: ignore[no-untyped-def]
    """`ganpaint run inpaint IN --mask M -o OUT` with the default model (found in the plugin
    package, nothing in the user's store): only the white area of the mask, grown by the
    default 4 px, changes."""
    from PIL import Image

    img = (make_picture(64, 80, seed=4) * 255).astype(np.uint8)
    mask = np.zeros((64, 80), np.uint8)
    mask[20:40, 25:55] = 255
    Image.fromarray(img).save(tmp_path / "in.png")
    Image.fromarray(mask).save(tmp_path / "m.png")
    proc = subprocess.run(
        [sys.executable, "-m", "ganpaint", "run", "inpaint", str(tmp_path / "in.png"), "--mask", str(tmp_path / "m.png"),
         "-o", str(tmp_path / "out.png")], capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = np.asarray(Image.open(tmp_path / "out.png").convert("RGB"))
    from ganpaint_inpaint.geometry import grow_mask

    beyond = grow_mask(mask / 255.0, 4) == 0
    assert np.array_equal(out[beyond], img[beyond])
    assert not np.array_equal(out[mask == 255], img[mask == 255])
