"""Issue 17, sketch at any canvas size: the drawing is measured, brought to the line scale
the model learned, run in windows of its training crop and brought back; no grid or
checkerboard in empty areas at 512, 1024 and 2048 px."""

from __future__ import annotations

import ganpaint_sketch
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from ganpaint_sketch.regions import TRAIN_LINE_WIDTH, WORK_SIDE, ink_growth, line_width, working_scale
from ganpaint_sketch.tool import colourise, run_generator, shrink_sketch

from ganpaint.engine.models.loading import load_model


def circles(n: int, width: float) -> np.ndarray:
    """Three circles drawn with a pen ``width`` px wide on an n x n sheet (1 = paper)."""
    yy, xx = np.mgrid[0:n, 0:n] / n
    g = np.ones((n, n), np.float32)
    for cy, cx, r in ((0.35, 0.35, 0.2), (0.6, 0.65, 0.25), (0.3, 0.75, 0.1)):
        g[np.abs(np.hypot(yy - cy, xx - cx) - r) * n < width / 2] = 0.0
    return g


def flat_hf(img: np.ndarray, grey: np.ndarray, margin: int) -> float:
    """Mean squared difference from the 3x3 box blur, over pixels with no line within ``margin``."""
    ink = torch.from_numpy((grey < 0.5).astype(np.float32))[None, None]
    k = 2 * margin + 1
    near = F.max_pool2d(F.max_pool2d(ink, (1, k), 1, (0, margin)), (k, 1), 1, (margin, 0))
    flat = near[0, 0].numpy() == 0
    t = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))[None]
    blur = F.avg_pool2d(t, 3, 1, 1, count_include_pad=False)[0].numpy().transpose(1, 2, 0)
    return float(((img - blur) ** 2).sum(axis=2)[flat].mean())


@pytest.fixture(scope="module")
def shipped() -> torch.nn.Module:
    return load_model(ganpaint_sketch.MODEL_FILE, dtype=torch.float32)


@pytest.mark.parametrize("width", [1, 3, 6, 12])
def test_line_width_is_measured(width: int) -> None:
    g = np.ones((300, 300), np.float32)
    for x in range(20, 280, 40):  # vertical strokes of the given width
        g[10:290, x : x + width] = 0.0
    assert line_width(g) == pytest.approx(width, rel=0.1)
    assert line_width(np.ones((8, 8), np.float32)) == 0.0


def test_working_scale_matches_lines_and_caps_the_picture() -> None:
    assert working_scale(circles(128, 1.5)) == 1.0  # the training scale: unchanged
    assert working_scale(circles(160, 8)) == pytest.approx(TRAIN_LINE_WIDTH / line_width(circles(160, 8)))
    assert working_scale(circles(2048, 1.5)) == pytest.approx(WORK_SIDE / 2048)
    # thin lines shrunk a lot are grown first, so they come out about the training width
    g = circles(1024, 1.0)
    s = working_scale(g)
    assert ink_growth(g, s) > 0
    small = (shrink_sketch(g, s)[0, 0].numpy() + 1) / 2
    assert small.shape == (WORK_SIDE, WORK_SIDE)
    assert 1.0 <= line_width(small) <= 2.5 * TRAIN_LINE_WIDTH


def test_large_pictures_run_in_windows_of_the_training_crop(shipped) -> None:
    seen: list[tuple[int, ...]] = []
    hook = shipped.register_forward_pre_hook(lambda _m, args: seen.append(tuple(args[0].shape)))
    try:
        out = colourise(shipped, circles(2048, 10))
    finally:
        hook.remove()
    assert out.shape == (2048, 2048, 3) and np.isfinite(out).all()
    assert len(seen) > 1 and all(s[-2:] == (128, 128) for s in seen)  # tiled, never larger than trained


@pytest.mark.parametrize("n,width", [(512, 4), (1024, 6), (2048, 10)])
def test_no_grid_in_empty_areas(shipped, n: int, width: int) -> None:
    """High-frequency energy in the empty paper is that of a smooth picture (1.5e-5, 1.3e-6 and
    9e-8 measured; the full-size run it replaces: 4.4e-4 at 512 with these weights, 9.5e-4 at
    512 and 1.9e-3 at 1024 with the previous ones, a visible grid)."""
    g = circles(n, width)
    out = colourise(shipped, g)
    assert flat_hf(out, g, n // 64) < 1e-4
    if n == 512:
        x = np.zeros((n, n, 5), np.float32)
        x[..., 0] = g
        assert flat_hf(run_generator(shipped, x), g, n // 64) > 2e-4  # the measure sees the old grid


def test_lines_stay_sharp_and_colours_match_the_small_run(shipped) -> None:
    """The result at 1024 px is the 128 px result brought back, with the drawing's own lines."""
    big, small = circles(1024, 8), circles(128, 1.0)
    out_big, out_small = colourise(shipped, big), colourise(shipped, small)
    assert out_big[big < 0.5].max() < 0.05  # lines laid on at full resolution
    paper = (big > 0.5) & (F.max_pool2d(torch.from_numpy((big < 0.5).astype(np.float32))[None, None], 41, 1, 20)
                           [0, 0].numpy() == 0)
    down = F.interpolate(torch.from_numpy(out_big.transpose(2, 0, 1))[None], size=(128, 128), mode="area")[0]
    near = np.abs(down.numpy().transpose(1, 2, 0) - out_small)
    keep = paper.reshape(128, 8, 128, 8).all(axis=(1, 3))
    assert float(near[keep].mean()) < 0.1


def test_colours_lose_the_checkerboards_before_they_are_enlarged() -> None:
    from ganpaint_sketch.tool import _binomial

    yy, xx = np.mgrid[0:32, 0:32]
    for period in (2, 4):
        board = ((yy // (period // 2) + xx // (period // 2)) % 2).astype(np.float32)
        out = _binomial(torch.from_numpy(np.stack([board] * 3))[None])[0].numpy()
        inner = out[:, 4:-4, 4:-4]
        assert float(inner.std()) < 1e-6 and float(inner.mean()) == pytest.approx(0.5)
    smooth = torch.linspace(0, 1, 32).view(1, 1, 1, 32).expand(1, 3, 32, 32)
    assert torch.allclose(_binomial(smooth)[..., 4:-4], smooth[..., 4:-4], atol=1e-6)  # ramps kept
