"""Backend choice: eager by default for small models, OpenVINO when installed, bf16 for "fast"."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from torch import nn

from ganpaint.engine.inference import backends, devices
from ganpaint.nn import ResnetConfig, ResnetGenerator
from ganpaint.testing import RecordingContext


def _model() -> nn.Module:
    torch.manual_seed(0)
    return ResnetGenerator(ResnetConfig(ngf=4, n_blocks=1)).eval()


def test_small_models_run_eagerly_in_full_precision() -> None:
    m = _model()
    r = backends.select_runner(m, "cpu", "full")
    assert r.name == "eager" and r.dtype == "float32" and r.call is m and not r.note


def test_fast_without_cpu_bf16_stays_float32_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "cpu_supports_bf16", lambda: False)
    r = backends.select_runner(_model(), "cpu", "fast")
    assert r.dtype == "float32" and "bf16" in r.note


def test_fast_with_cpu_bf16_uses_autocast_within_a_few_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "cpu_supports_bf16", lambda: True)
    m = _model()
    r = backends.select_runner(m, "cpu", "fast")
    assert r.name == "eager-autocast" and r.dtype == "bfloat16"
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.inference_mode():
        y32, y16 = m(x), r.call(x)
    assert y16.dtype == torch.float32
    assert ((y16 - y32).abs() * 127.5).mean() < 3.0  # bf16 has 8 mantissa bits


def test_published_mode_never_converts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "MIN_CONVERT_PARAMS", 0)
    r = backends.select_runner(_model(), "cpu", "full", mode="published")
    assert r.name == "eager"


def test_env_switch_disables_openvino(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANPAINT_BACKEND", "eager")
    assert not backends.openvino_available()


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("openvino") is None, reason="ganpaint[fast] not installed")
def test_openvino_matches_eager(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "MIN_CONVERT_PARAMS", 0)
    m = _model()
    ctx = RecordingContext()
    r = backends.select_runner(m, "cpu", "full", ctx=ctx)
    assert r.name == "openvino"
    for side in (32, 48):  # one conversion serves every picture size
        x = torch.rand(1, 3, side, side) * 2 - 1
        with torch.inference_mode():
            assert torch.allclose(r.call(x), m(x), atol=1e-4)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("openvino") is None, reason="ganpaint[fast] not installed")
def test_openvino_tiles_with_whole_picture_statistics(monkeypatch: pytest.MonkeyPatch) -> None:
    from ganpaint.engine.inference.tiling import plan_tiles, receptive_radius, run_tiled, whole_picture_stats

    monkeypatch.setattr(backends, "MIN_CONVERT_PARAMS", 0)
    m = _model()  # instance norm
    r = backends.select_runner(m, "cpu", "full")
    assert r.name == "openvino" and r.stats_call is not None
    x = torch.rand(1, 3, 256, 256) * 2 - 1
    plan = plan_tiles(256, 256, 192, align=4, radius=receptive_radius(m))
    assert plan.context >= receptive_radius(m) and plan.count > 1
    with torch.inference_mode():
        stats = whole_picture_stats(m, x, m, 1 << 40)
        fast = r.stats_call(stats)
        assert fast is not None
        eager = run_tiled(m, x, plan, m, stats=stats)
        converted = run_tiled(m, x, plan, fast)
        assert torch.allclose(converted, eager, atol=1e-4)
        assert torch.allclose(eager, m(x), atol=1e-4)  # exact statistics: tiling changes nothing


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("openvino") is None, reason="ganpaint[fast] not installed")
def test_fast_openvino_runs_transposed_convolutions_as_subpixel(monkeypatch: pytest.MonkeyPatch) -> None:
    """bf16 converts a sub-pixel copy (OpenVINO has no bf16 transposed convolution); fp32 keeps
    the model's own graph; both stay within a few levels of eager, the model untouched."""
    from ganpaint.nn import UnetConfig, UnetGenerator

    monkeypatch.setattr(backends, "MIN_CONVERT_PARAMS", 0)
    monkeypatch.setattr(devices, "cpu_supports_bf16", lambda: True)
    torch.manual_seed(0)
    m = UnetGenerator(UnetConfig(ngf=8, num_downs=5)).eval()
    keys = list(m.state_dict())
    converted: list[tuple[bool, bool]] = []
    real_convert = backends._convert

    def spy(model, ctx, *, with_stats=False, subpixel=False):  # type: ignore[no-untyped-def]
        converted.append((with_stats, subpixel))
        return real_convert(model, ctx, with_stats=with_stats, subpixel=subpixel)

    monkeypatch.setattr(backends, "_convert", spy)
    fast = backends.select_runner(m, "cpu", "fast")
    full = backends.select_runner(m, "cpu", "full")
    assert (fast.name, fast.dtype, full.name) == ("openvino", "bfloat16", "openvino")
    assert converted == [(False, True), (False, False)]
    x = torch.rand(1, 3, 64, 96) * 2 - 1
    with torch.inference_mode():
        ref = m(x)
        assert ((fast.call(x) - ref).abs() * 127.5).mean() < 2.0
        assert torch.allclose(full.call(x), ref, atol=1e-4)
    assert list(m.state_dict()) == keys


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("openvino") is None, reason="ganpaint[fast] not installed")
def test_openvino_drops_to_one_thread_while_another_program_is_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "MIN_CONVERT_PARAMS", 0)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    m = _model()
    r = backends.select_runner(m, "cpu", "full")
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    for free, threads in ((2, 2), (1, 1)):
        monkeypatch.setattr(devices, "free_cores", lambda free=free: free)
        with torch.inference_mode():
            assert torch.allclose(r.call(x), m(x), atol=1e-4)
        assert f"plain-float32-{threads}" in backends._ov_models[m]


def test_free_cores_counts_what_others_keep_running(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "usable_cores", lambda: 2)
    for running, free in ((1, 2), (2, 1), (5, 1)):
        monkeypatch.setattr(devices, "_running_now", lambda running=running: running)
        assert devices.free_cores(samples=3, interval_s=0) == free
    readings = iter([1, 3, 1])  # one passing spike does not count: the median of the readings
    monkeypatch.setattr(devices, "_running_now", lambda: next(readings))
    assert devices.free_cores(samples=3, interval_s=0) == 2
    monkeypatch.setattr(devices, "_running_now", lambda: None)  # no /proc: every core is free
    assert devices.free_cores() == 2
