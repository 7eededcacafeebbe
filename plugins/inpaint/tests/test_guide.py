"""The guided generator: OpenCV's FSR fill as a second first stage (ganpaint.nn.inpaint_guide),
its fallback when opencv-contrib is missing, the recipe's precomputed guides, the tool's note, and
the texture detail (FSR's near the hole's edge, shift-map's deep inside)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from ganpaint.core import opencv_fill
from ganpaint.engine.models.store import ModelStore
from ganpaint.nn.inpaint import InpaintConfig, InpaintGenerator, inpaint_tensor, push_pull_fill
from ganpaint.nn.inpaint_guide import FILLS, fill_u8, fsr_fill_u8, guide_available, guide_fill
from ganpaint.testing import RecordingContext, make_request
from ganpaint.train import make_recipe

needs_fsr = pytest.mark.skipif(not guide_available("fsr"), reason="opencv-contrib (cv2.xphoto) is not installed")


def _stripes(h: int = 64, w: int = 64) -> np.ndarray:
    """Diagonal stripes (period 8): FSR continues them, a smooth fill cannot."""
    y, x = np.mgrid[0:h, 0:w]
    v = 0.5 + 0.4 * np.sin(2 * np.pi * (x + y) / 8.0)
    return (np.stack([v, 1 - v, np.full_like(v, 0.3)], -1) * 255).round().astype(np.uint8)


def _stripes_case(h: int = 32, w: int = 48, rows: slice = slice(8, 20),
                  cols: slice = slice(10, 30)) -> tuple[torch.Tensor, torch.Tensor]:
    """h x w stripes on the model's scale with the hole (rows, cols) zeroed: (known, hole);
    by default 32 x 48 with a 12 x 20 hole."""
    pic = _stripes(h, w)
    x = torch.from_numpy(pic.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
    hole = torch.zeros(1, 1, h, w)
    hole[..., rows, cols] = 1
    return x * (1 - hole), hole


@needs_fsr
def test_fsr_fill_keeps_known_pixels_and_continues_texture() -> None:
    pic = _stripes()
    hole = np.zeros((64, 64), bool)
    hole[24:40, 20:44] = True
    out = fsr_fill_u8(pic, hole)
    assert out is not None and out.dtype == np.uint8 and out.shape == pic.shape
    assert np.array_equal(out[~hole], pic[~hole])
    err_fsr = np.abs(out[hole].astype(float) - pic[hole]).mean()
    x = torch.from_numpy(pic.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
    m = torch.from_numpy(hole.astype(np.float32))[None, None]
    pp = ((push_pull_fill(x * (1 - m), m)[0].permute(1, 2, 0).numpy() + 1) * 127.5)
    err_pp = np.abs(pp[hole] - pic[hole]).mean()
    assert err_fsr < 0.5 * err_pp  # the stripes run on; push-pull gives their mean


@needs_fsr
@pytest.mark.parametrize("kind", sorted(FILLS))
@pytest.mark.parametrize("shape", [(1, 9), (9, 1), (4, 4), (63, 65)])
def test_fills_at_odd_sizes_never_raise(kind: str, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    pic = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    hole = np.zeros(shape, bool)
    hole.flat[::3] = True
    out = fill_u8(kind, pic, hole)
    assert out is None or (out.shape == pic.shape and np.array_equal(out[~hole], pic[~hole]))


@needs_fsr
@pytest.mark.parametrize("kind", sorted(FILLS))
def test_fill_edge_cases(kind: str) -> None:
    pic = _stripes(16, 16)
    assert fill_u8(kind, pic, np.ones((16, 16), bool)) is None  # nothing known
    # nothing to fill: returned as it is (shift-map itself would crash the process here)
    assert np.array_equal(fill_u8(kind, pic, np.zeros((16, 16), bool)), pic)
    assert np.array_equal(fill_u8(kind, pic[:1, :1], np.zeros((1, 1), bool)), pic[:1, :1])


def test_without_opencv_contrib_the_guide_is_the_push_pull_fill(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opencv_fill, "_xphoto", lambda: None)
    assert not guide_available("fsr") and guide_available("")
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    hole = torch.zeros(2, 1, 16, 16)
    hole[..., 4:10, 3:12] = 1
    fallback = push_pull_fill(x * (1 - hole), hole)
    assert torch.equal(guide_fill("fsr", x * (1 - hole), hole, fallback), fallback)
    with pytest.raises(ValueError, match="unknown inpainting fill"):
        guide_fill("patchmatch", x, hole, fallback)


def test_guided_config_round_trips_and_validates() -> None:
    cfg = InpaintConfig(width=4, dilations=(1,), guide="fsr", guide_blend=0.25)
    assert InpaintConfig.from_dict(cfg.to_dict()) == cfg
    assert InpaintConfig.from_dict({"width": 4}).guide == ""  # older cards: no guide
    with pytest.raises(ValueError, match="guide must be"):
        InpaintConfig(guide="lama")
    with pytest.raises(ValueError, match="guide_blend"):
        InpaintConfig(guide="fsr", guide_blend=1.5)
    assert InpaintGenerator(cfg).e1.conv.in_channels == 8
    assert InpaintGenerator(InpaintConfig(width=4)).e1.conv.in_channels == 5


@needs_fsr
def test_untrained_guided_generator_starts_from_the_blend_of_both_stages() -> None:
    g = InpaintGenerator(InpaintConfig(width=4, dilations=(1,), guide="fsr", guide_blend=0.25)).eval()
    known, hole = _stripes_case()
    with torch.no_grad():
        y = inpaint_tensor(g, known, hole)
    pp = push_pull_fill(known, hole)
    fsr = guide_fill("fsr", known, hole, pp)
    assert not torch.allclose(fsr, pp, atol=0.05)
    want = (known + hole * (pp + 0.25 * (fsr - pp))).clamp(-1, 1)
    assert torch.allclose(y, want, atol=1e-5)
    # a guide handed in is used as it is (the training pools)
    with torch.no_grad():
        y2 = g(known, hole, guide=pp)
    assert torch.allclose(y2 * hole, (known + hole * pp) * hole, atol=1e-5)


def test_recipe_trains_a_guided_generator_from_given_holes_and_guides() -> None:
    recipe = make_recipe("inpaint", {"width": 4, "dilations": [1], "crop": 32, "batch": 2, "guide": "fsr",
                                     "adv_weight": 0.0, "feature_matching": 0.0, "hole_loss": "l2", "lr": 1e-2})
    assert recipe.generator_config().guide == "fsr"
    t = recipe.build("cpu")
    torch.manual_seed(0)
    real = torch.rand(2, 3, 32, 32) * 2 - 1
    hole = torch.zeros(2, 1, 32, 32)
    hole[..., 8:24, 8:24] = 1
    guide = real.clone()  # a perfect guide: the generator must learn to trust it
    before = float(((t.G(real * (1 - hole), hole, guide=guide) - real) ** 2 * hole).mean().detach())
    for _ in range(30):
        t.step({"A": real, "hole": hole, "guide": guide})
    after = float(((t.G(real * (1 - hole), hole, guide=guide) - real) ** 2 * hole).mean().detach())
    assert after < 0.5 * before
    _, card = t.export({"G": t.G})
    opts = type(recipe).options_from_card(card["architecture"], card["config"])
    assert opts["guide"] == "fsr" and opts["guide_blend"] == 0.5


def test_tool_says_when_the_guide_library_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      save_generator: Any) -> None:
    import ganpaint_inpaint
    from ganpaint_inpaint import tool

    torch.manual_seed(0)
    g = InpaintGenerator(InpaintConfig(width=4, dilations=(1,), guide="fsr"))
    path = save_generator(ModelStore(root=tmp_path), "guided", g)
    ctx = RecordingContext(models={("guided", "inpaint"): str(path)})
    spec = ganpaint_inpaint.ganpaint_register_tools()[0]
    pic = _stripes(40, 40).astype(np.float32) / 255
    hole = np.zeros((40, 40), np.float32)
    hole[10:25, 12:30] = 1
    req = make_request(pic, spec=spec, params={"model": "guided", "grow": 0}, mask=hole)
    if guide_available("fsr"):
        assert "note" not in tool.run(req, ctx).metadata
    monkeypatch.setattr(opencv_fill, "_xphoto", lambda: None)
    res = tool.run(req, ctx)
    assert "opencv-contrib" in res.metadata["note"]
    out = np.asarray(res.image)
    assert np.isfinite(out).all() and np.array_equal(out[hole == 0], np.asarray(req.image)[hole == 0])


@needs_fsr
def test_texture_adds_the_texture_detail_in_the_hole_only() -> None:
    from ganpaint.nn.inpaint import texture_detail

    g = InpaintGenerator(InpaintConfig(width=4, dilations=(1,), guide="fsr")).eval()
    known, hole = _stripes_case()
    with torch.no_grad():
        pp = push_pull_fill(known, hole)
        fsr = guide_fill("fsr", known, hole, pp)
        plain = g(known, hole, guide=fsr)
        tex = g(known, hole, guide=fsr, texture=0.75)
        detail = texture_detail(known, hole, fsr)
    assert torch.allclose(tex - plain, 0.75 * hole * detail, atol=1e-5)
    assert float((detail * hole).abs().mean()) > 0.02  # the stripes' detail is really there
    # an unguided model has no detail to add
    u = InpaintGenerator(InpaintConfig(width=4, dilations=(1,))).eval()
    with torch.no_grad():
        assert torch.equal(u(known, hole, texture=1.0), u(known, hole))


def _big_hole_case() -> tuple[torch.Tensor, torch.Tensor]:
    """96 x 96 stripes with a 56 x 56 hole zeroed (depth up to 28 px): (known, hole)."""
    return _stripes_case(96, 96, slice(20, 76), slice(20, 76))


@needs_fsr
def test_texture_detail_is_fsrs_near_the_edge_and_shift_maps_deep_inside() -> None:
    from ganpaint.nn.inpaint import TEXTURE_SIGMA, gaussian_blur, hole_depth, texture_detail

    # grain (i.i.d. noise): FSR's fit of a few frequencies fades into a smooth fill deep
    # inside, shift-map copies grain there
    hole = _big_hole_case()[1]
    x = torch.rand(1, 3, 96, 96, generator=torch.Generator().manual_seed(0)) * 2 - 1
    known = x * (1 - hole)
    pp = push_pull_fill(known, hole)
    fsr = guide_fill("fsr", known, hole, pp)
    sm = guide_fill("shiftmap", known, hole, pp)
    detail = texture_detail(known, hole, fsr, near=4, far=12)
    depth = hole_depth(hole, 12).expand_as(known)
    d_fsr = fsr - gaussian_blur(fsr, TEXTURE_SIGMA)
    d_sm = sm - gaussian_blur(sm, TEXTURE_SIGMA)
    near, deep = (depth > 0) & (depth <= 4), depth >= 12
    assert torch.allclose(detail[near], d_fsr[near], atol=1e-6)
    assert torch.allclose(detail[deep], d_sm[deep], atol=1e-6)
    truth = float((x - gaussian_blur(x, TEXTURE_SIGMA))[deep].abs().mean())
    assert float(d_sm[deep].abs().mean()) > 0.7 * truth
    assert float(d_fsr[deep].abs().mean()) < 0.5 * float(d_sm[deep].abs().mean())


def test_without_opencv_contrib_the_texture_is_the_guides_detail(monkeypatch: pytest.MonkeyPatch) -> None:
    from ganpaint.nn.inpaint import TEXTURE_SIGMA, gaussian_blur, texture_detail

    monkeypatch.setattr(opencv_fill, "_xphoto", lambda: None)
    known, hole = _big_hole_case()
    g = torch.rand_like(known) * 2 - 1  # any guide
    assert torch.allclose(texture_detail(known, hole, g), g - gaussian_blur(g, TEXTURE_SIGMA), atol=1e-6)


def test_hole_depth_counts_pixels_to_the_nearest_known_one() -> None:
    from ganpaint.nn.inpaint import hole_depth

    hole = torch.zeros(1, 1, 20, 30)
    hole[..., 4:15, 6:27] = 1  # 11 x 21 box
    d = hole_depth(hole, 50)[0, 0]
    ys, xs = torch.meshgrid(torch.arange(20), torch.arange(30), indexing="ij")
    inside = torch.minimum(torch.minimum(ys - 3, 15 - ys), torch.minimum(xs - 5, 27 - xs))
    assert torch.equal(d, torch.where(hole[0, 0] > 0.5, inside.float(), torch.zeros(())))
    assert torch.equal(hole_depth(hole, 3)[0, 0], d.clamp(max=3))
    # the picture's border is not known: a hole along the top edge is deepest there
    top = torch.zeros(1, 1, 10, 10)
    top[..., :3, :] = 1
    assert hole_depth(top, 10)[0, 0, :3, 5].tolist() == [3.0, 2.0, 1.0]
    # a free-form hole: close to the Euclidean distance (the rings are octagons)
    rng = np.random.default_rng(1)
    m = np.zeros((40, 40), bool)
    for cy, cx, r in rng.integers(5, 35, (4, 3)):
        m |= (np.mgrid[0:40, 0:40][0] - cy) ** 2 + (np.mgrid[0:40, 0:40][1] - cx) ** 2 < (r % 9 + 3) ** 2
    d = hole_depth(torch.from_numpy(m.astype(np.float32))[None, None], 60)[0, 0].numpy()
    ky, kx = np.nonzero(~m)
    for y, x in zip(*np.nonzero(m), strict=True):
        euclid = np.sqrt((ky - y) ** 2 + (kx - x) ** 2).min()
        assert abs(d[y, x] - euclid) <= 0.1 * euclid + 1.0


def test_gaussian_blur_keeps_constants_and_sizes() -> None:
    from ganpaint.nn.inpaint import gaussian_blur

    for shape in ((1, 3, 1, 9), (2, 3, 4, 4), (1, 3, 63, 65)):
        flat = torch.full(shape, 0.37)
        assert torch.allclose(gaussian_blur(flat, 1.5), flat, atol=1e-6)
    x = torch.rand(1, 3, 40, 40)
    assert float(gaussian_blur(x, 1.5).std()) < float(x.std())


@needs_fsr
def test_a_large_picture_is_guided_at_the_capped_size_and_scaled_back() -> None:
    pic = _stripes(64, 64)
    x = torch.from_numpy(pic.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
    hole = torch.zeros(1, 1, 64, 64)
    hole[..., 20:44, 16:40] = 1
    known = x * (1 - hole)
    pp = push_pull_fill(known, hole)
    small = guide_fill("fsr", known, hole, pp, max_side=32)  # computed at 32 x 32, scaled up
    full = guide_fill("fsr", known, hole, pp, max_side=64)
    assert small.shape == x.shape and torch.isfinite(small).all()
    assert not torch.equal(small, full)
    sel = hole.expand_as(x) > 0.5
    err = {name: float((t - x)[sel].abs().mean()) for name, t in (("small", small), ("full", full), ("pp", pp))}
    assert err["full"] <= err["small"] < err["pp"], err  # still continues the stripes, less sharply


@needs_fsr
def test_the_tool_gives_the_same_textured_fill_every_run(guided_ctx: RecordingContext) -> None:
    """Same picture, same parameters (Texture on, a hole deep enough for shift-map's texture):
    the same pixels, run after run. Shift-map in the tool's own process failed this (its fill
    varied with other work beside it); it runs in a child process (ganpaint.core.opencv_fill)."""
    import ganpaint_inpaint
    from ganpaint_inpaint import tool

    spec = ganpaint_inpaint.ganpaint_register_tools()[0]
    yy, xx = np.mgrid[0:63, 0:65].astype(np.float32)
    rng = np.random.default_rng(0)
    pic = np.clip(np.stack([xx / 64, yy / 62, 0.5 + 0.3 * np.sin(xx / 5)], -1) + rng.normal(0, 0.03, (63, 65, 3)), 0, 1)
    pic = (np.rint(pic * 255) / 255).astype(np.float32)
    hole = np.zeros((63, 65), np.float32)
    hole[20:41, 22:47] = 1
    req = make_request(pic, spec=spec, params={"model": "tiny-inpaint", "grow": 0}, mask=hole)
    first = tool.run(req, guided_ctx)
    assert first.metadata["texture"] > 0
    for _ in range(8):
        assert np.array_equal(np.asarray(tool.run(req, guided_ctx).image), np.asarray(first.image))
