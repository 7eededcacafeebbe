""""fast" precision on the CPU: spandrel upscalers run on the engine's fast backend.

``spandrel_models.forward_for`` hands ESRGAN and SRVGGNetCompact modules to
``engine.inference.backends.select_runner`` in "fast" precision on the CPU (bf16 autocast for small
networks, OpenVINO for large ones where installed); full precision, other architectures and
other devices keep spandrel's own call. The vectors are small random BasicSR-layout networks
(test_spandrel_models' writers), so no conversion runs here; the real x4plus through OpenVINO is
tests/engine/test_upscale_cli_vs_ncnn.py's ``--precision fast`` case.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from ganpaint.engine.inference.devices import fast_dtype
from ganpaint.engine.models import spandrel_models as sm
from ganpaint.testing import RecordingContext


def _vectors() -> Any:
    spec = importlib.util.spec_from_file_location("_gp_spandrel_vectors", Path(__file__).with_name(
        "test_spandrel_models.py"))
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


V = _vectors()


def _levels(a: np.ndarray) -> np.ndarray:
    return np.round(np.clip(a, 0, 1) * 255).astype(np.int32)


def test_full_precision_keeps_spandrels_call() -> None:
    desc = sm.detect(V.rrdbnet_sd(nf=16, nb=1))
    assert sm.forward_for(desc, RecordingContext(precision="full")) is desc
    assert sm.forward_for(desc, None) is desc


def test_fast_precision_runs_the_engines_backend_and_stays_close() -> None:
    desc = sm.detect(V.rrdbnet_sd(nf=16, nb=1))
    rgb = np.random.default_rng(0).random((30, 40, 3), dtype=np.float32)
    full = sm.run_image(desc, rgb)
    ctx = RecordingContext(precision="fast")
    forward = sm.forward_for(desc, ctx)
    assert forward is not desc
    fast = sm.run_image(desc, rgb, ctx=RecordingContext(precision="fast"))
    assert fast.shape == full.shape == (120, 160, 3)
    diff = np.abs(_levels(fast) - _levels(full))
    if fast_dtype("cpu") is None:  # no bf16 on this CPU: float32, and the user is told
        assert diff.max() == 0
        assert any("full precision" in m for _, m in ctx.calls)
    else:  # bf16: a different rounding, the same picture
        assert diff.max() > 0
        assert diff.mean() < 2.0


def test_fast_precision_tiles_too() -> None:
    desc = sm.detect(V.compact_sd(nf=8, num_conv=2, scale=2))
    rgb = np.random.default_rng(1).random((53, 70, 3), dtype=np.float32)
    whole = sm.run_image(desc, rgb, tile=4096, ctx=RecordingContext(precision="fast"))
    ctx = RecordingContext(precision="fast")
    tiled = sm.run_image(desc, rgb, tile=24, ctx=ctx)
    assert any(m.startswith("Tile 2 of") for _, m in ctx.calls)
    assert np.abs(_levels(whole) - _levels(tiled)).max() <= 1
