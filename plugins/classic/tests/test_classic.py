"""The classical filters, checked on real pixels, through the plugin host."""

from __future__ import annotations

import ganpaint_classic
import numpy as np
import pytest
from ganpaint_classic import filters

from ganpaint.plugins import PluginManager
from ganpaint.testing import RecordingContext, run_tool

TOOLS = ("blur", "sharpen", "desaturate", "invert")


@pytest.fixture
def host(plugin_host: PluginManager) -> PluginManager:
    record = plugin_host.register(ganpaint_classic, "classic")
    assert record.status == "loaded", record.error
    return plugin_host


@pytest.fixture
def picture() -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.random((40, 50, 3), dtype=np.float32)


def _step_edge() -> np.ndarray:
    img = np.full((20, 30, 3), 0.3, np.float32)
    img[:, 15:] = 0.7
    return img


@pytest.mark.parametrize("tool_id", TOOLS)
def test_every_tool_runs_with_no_parameters_and_reports_progress(
    host: PluginManager, picture: np.ndarray, tool_id: str
) -> None:
    ctx = RecordingContext()
    result = run_tool(host, tool_id, picture, ctx=ctx)
    assert result.image.shape == picture.shape and result.image.dtype == np.float32
    assert 0.0 <= result.image.min() and result.image.max() <= 1.0
    assert ctx.calls, f"{tool_id} never called ctx.progress"
    assert result.alpha is None  # the source alpha is kept
    assert not np.array_equal(result.image, picture), f"{tool_id} with defaults changed nothing"


def test_registered_through_the_entry_point_as_a_builtin() -> None:
    host = PluginManager(discover=True, user_dirs=False)
    host.load()
    rec = host.record("classic")
    assert rec.status == "loaded" and rec.builtin and rec.tools == list(TOOLS)


def test_invert_twice_is_identity(host: PluginManager, picture: np.ndarray) -> None:
    once = run_tool(host, "invert", picture).image
    np.testing.assert_allclose(once, 1.0 - picture, atol=1e-7)
    twice = run_tool(host, "invert", once).image
    np.testing.assert_allclose(twice, picture, atol=1e-6)


def test_desaturate_gives_equal_channels(host: PluginManager, picture: np.ndarray) -> None:
    grey = run_tool(host, "desaturate", picture).image
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])
    expected = picture @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    np.testing.assert_allclose(grey[..., 0], expected, atol=1e-6)


def test_desaturate_amount_zero_keeps_colours(host: PluginManager, picture: np.ndarray) -> None:
    same = run_tool(host, "desaturate", picture, {"amount": 0.0}).image
    np.testing.assert_allclose(same, picture, atol=1e-7)
    half = run_tool(host, "desaturate", picture, {"amount": 0.5}).image
    spread = lambda im: float(np.mean(im.max(axis=2) - im.min(axis=2)))  # noqa: E731
    assert 0.3 * spread(picture) < spread(half) < 0.7 * spread(picture)


def test_blur_lowers_variance_and_keeps_the_mean(host: PluginManager, picture: np.ndarray) -> None:
    blurred = run_tool(host, "blur", picture).image
    assert blurred.var() < 0.2 * picture.var()
    assert abs(float(blurred.mean()) - float(picture.mean())) < 0.01
    more = run_tool(host, "blur", picture, {"radius": 8.0}).image
    assert more.var() < blurred.var()


def test_blur_radius_zero_is_identity_and_constant_stays_constant(host: PluginManager) -> None:
    flat = np.full((9, 11, 3), 0.4, np.float32)
    for radius in (0.0, 1.0, 6.0, 30.0):
        out = run_tool(host, "blur", flat, {"radius": radius}).image
        np.testing.assert_allclose(out, flat, atol=1e-6)


@pytest.mark.parametrize("sigma", [1.0, 2.5, 4.0, 9.0])
def test_blur_matches_a_sampled_gaussian(sigma: float) -> None:
    # reference: a dense 2-D Gaussian applied to a single bright pixel gives the kernel itself
    size = 81
    impulse = np.zeros((size, size), np.float32)
    impulse[size // 2, size // 2] = 1.0
    out = filters.gaussian_blur(impulse, sigma)
    r = np.arange(size) - size // 2
    g = np.exp(-0.5 * (r / sigma) ** 2)
    ref = np.outer(g, g) / np.outer(g, g).sum()
    assert abs(out.sum() - 1.0) < 1e-4
    assert np.abs(out - ref).max() < 0.12 * ref.max()
    # and the spread is right: the measured variance along one axis is sigma^2 (+-10 %)
    var = float((out.sum(axis=0) * r**2).sum())
    assert abs(var - sigma**2) < 0.1 * sigma**2 + 0.05


def test_sharpen_raises_edge_contrast(host: PluginManager) -> None:
    edge = _step_edge()
    sharp = run_tool(host, "sharpen", edge).image
    # across the edge the dark side gets darker and the bright side brighter (overshoot)
    assert sharp[10, 14, 0] < edge[10, 14, 0] - 0.02
    assert sharp[10, 15, 0] > edge[10, 15, 0] + 0.02
    grad = lambda im: float(np.abs(np.diff(im[..., 0], axis=1)).max())  # noqa: E731
    assert grad(sharp) > grad(edge)
    # far from the edge nothing changes
    np.testing.assert_allclose(sharp[:, :5], edge[:, :5], atol=1e-5)
    stronger = run_tool(host, "sharpen", edge, {"amount": 3.0}).image
    assert grad(stronger) > grad(sharp)


def test_sharpen_amount_zero_is_identity(host: PluginManager, picture: np.ndarray) -> None:
    out = run_tool(host, "sharpen", picture, {"amount": 0.0}).image
    np.testing.assert_allclose(out, picture, atol=1e-6)


def test_cancel_is_honoured_at_a_progress_step(host: PluginManager, picture: np.ndarray) -> None:
    from ganpaint import JobCancelled

    with pytest.raises(JobCancelled):
        run_tool(host, "blur", picture, ctx=RecordingContext(cancel_after=1))


def test_parameters_are_declared_with_ranges() -> None:
    specs = {t.id: t for t in ganpaint_classic.ganpaint_register_tools()}
    assert set(specs) == set(TOOLS)
    assert specs["blur"].param("radius").default == 2.0
    assert specs["sharpen"].default_params() == {"amount": 1.0, "radius": 1.5}
    assert specs["invert"].params == ()
    with pytest.raises(ValueError):
        specs["desaturate"].resolve_params({"amount": 2.0})
    assert all(not t.uses_torch for t in specs.values())
