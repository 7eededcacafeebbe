"""Execution backends: what actually runs a generator's forward pass.

* ``eager``: the module itself, float32 (always available, the reference).
* ``openvino``: the CPU path when the optional extra ``ganpaint[fast]`` is installed. Measured
  here (docs/performance.md): 1.3-1.9x eager in float32 and 2-4x in bf16, same results within
  a level. The module is converted once per loaded model (8-25 s, shown as progress) with a
  dynamic picture size; the converted graph is kept on disk under the cache folder, keyed by
  the model file's sha256, so later sessions skip the conversion.
* ``"fast"`` precision: bf16 where the CPU has native bf16 (AVX512-BF16/AMX), fp16/bf16
  autocast on CUDA (autocast keeps reductions and norms in float32), fp16 autocast on MPS.
  Without bf16 on the CPU the run stays float32 and says so.

torch.jit.trace + freeze (oneDNN, channels_last) was measured at 0.95-1.06x eager here after a
20-240 s trace, and torch.compile costs 20-40 s per picture size: neither is used.

Models with fewer than :data:`MIN_CONVERT_PARAMS` parameters always run eagerly: conversion
would cost more than it saves (and keeps tests fast).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganpaint.engine.inference.tiling import Stats, frozen_norm_stats, run_full_resolution, stat_norms
from ganpaint.nn.subpixel import subpixel_copy

__all__ = [
    "MIN_CONVERT_PARAMS",
    "Runner",
    "fast_dtype_for",
    "openvino_available",
    "run_model",
    "select_runner",
]

log = logging.getLogger(__name__)

MIN_CONVERT_PARAMS = 1_000_000
#: changes whenever the graph handed to OpenVINO changes, so stale cached conversions are not reused
GRAPH_VERSION = "g2"
Call = Callable[[torch.Tensor], torch.Tensor]

_ov_lock = threading.Lock()
_ov_models: weakref.WeakKeyDictionary[nn.Module, dict[str, Any]] = weakref.WeakKeyDictionary()
_ov_failed: weakref.WeakSet[nn.Module] = weakref.WeakSet()


@dataclass
class Runner:
    name: str  #: "eager", "eager-autocast", "openvino"
    dtype: str  #: "float32", "bfloat16", "float16"
    call: Call  #: the fast path
    eager: Call  #: the module itself (with autocast when fast): used where hooks must apply
    note: str = ""  #: why the choice was made, for the user when precision was downgraded
    #: given whole-picture norm statistics, a fast call applying them (tiles); None = eager
    stats_call: Callable[[Stats], Call | None] | None = None


def openvino_available() -> bool:
    if os.environ.get("GANPAINT_BACKEND", "").strip().lower() == "eager":
        return False
    return importlib.util.find_spec("openvino") is not None


def fast_dtype_for(device: torch.device) -> torch.dtype | None:
    from ganpaint.engine.inference.devices import fast_dtype

    name = fast_dtype(str(device))
    return None if name is None else getattr(torch, name)


def _eager(model: nn.Module, device: torch.device, dtype: torch.dtype | None) -> Call:
    if dtype is None:
        return model

    def call(x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device.type, dtype=dtype):
            y: torch.Tensor = model(x)
        return y.float()

    return call


def _param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _cache_file(model: nn.Module, suffix: str = "") -> Path | None:
    card = getattr(model, "card", None)
    sha = getattr(card, "sha256", "") if card is not None else ""
    if not sha:
        return None
    import openvino as ov

    from ganpaint.core.paths import cache_dir

    comp = getattr(model, "component", None) or "main"
    return cache_dir() / "openvino" / f"{sha[:32]}-{comp}{suffix}-{GRAPH_VERSION}-ov{ov.__version__}-torch{torch.__version__}.xml"


class _StatsInput(nn.Module):
    """The model with its stat norms' (mean, var) as extra inputs: a converted graph that tiles
    with whole-picture statistics (see ganpaint.engine.inference.tiling)."""

    def __init__(self, model: nn.Module, norms: list[nn.Module]) -> None:
        super().__init__()
        self.model = model
        self._norms = norms

    def forward(self, x: torch.Tensor, *stats: torch.Tensor) -> torch.Tensor:
        pairs = {m: (stats[2 * i], stats[2 * i + 1]) for i, m in enumerate(self._norms)}
        with frozen_norm_stats(self.model, pairs):
            y: torch.Tensor = self.model(x)
        return y


def _convert(model: nn.Module, ctx: Any, *, with_stats: bool = False, subpixel: bool = False) -> Any:
    """The OpenVINO model for ``model`` (converted once; from the disk cache when there).

    ``subpixel``: strided transposed convolutions become ordinary ones (ganpaint.nn.subpixel).
    OpenVINO runs transposed convolutions only with its fp32 kernels, ordinary ones in bf16 on
    AMX: measured U-Net-256 at 512 px in bf16 0.14 s -> 0.06 s. In fp32 the rewrite gains
    nothing (0.18 s both) and the ResNet's 3x3 transposed layers get 16/9 the work, so the
    fp32 graph keeps them."""
    import openvino as ov

    core = ov.Core()
    target = _cache_file(model, ("-stats" if with_stats else "") + ("-subpixel" if subpixel else ""))
    if target is not None and target.is_file():
        try:
            return core.read_model(str(target))
        except Exception:  # a damaged cache entry: convert again
            log.warning("ignoring the unreadable OpenVINO cache %s", target)
    if ctx is not None:
        ctx.progress(0.0, "Preparing the fast CPU backend (once per model)")
    mult = int(getattr(model, "size_multiple", 1))
    side = max(int(getattr(model, "min_size", 1)), mult, 64)
    side = -(-side // mult) * mult
    in_ch = int(getattr(getattr(model, "config", None), "in_channels", 3))
    example: tuple[torch.Tensor, ...] = (torch.zeros(1, in_ch, side, side),)
    shapes: list[tuple[int, ...]] = [(1, in_ch, -1, -1)]
    plain = subpixel_copy(model) if subpixel else model
    module: nn.Module = plain
    if with_stats:
        norms = stat_norms(plain)
        module = _StatsInput(plain, norms)
        for m in norms:
            c = int(getattr(m, "num_features"))  # noqa: B009 - a norm module, typed as Module
            example += (torch.zeros(c), torch.ones(c))
            shapes += [(c,), (c,)]
    with torch.inference_mode(False), torch.no_grad():
        ov_model = ov.convert_model(module, example_input=example if with_stats else example[0], input=shapes)
    if target is not None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".part.xml")
            ov.save_model(ov_model, str(tmp), compress_to_fp16=False)
            os.replace(tmp.with_suffix(".bin"), target.with_suffix(".bin"))
            os.replace(tmp, target)
        except OSError as exc:  # a read-only cache only costs time
            log.warning("could not keep the converted model: %s", exc)
    return ov_model


def _threads_now() -> int:
    """Threads for the next OpenVINO call: torch's thread count, fewer while other programs
    keep cores busy (see ganpaint.engine.inference.devices.free_cores)."""
    from ganpaint.engine.inference.devices import free_cores

    return max(1, min(torch.get_num_threads(), free_cores()))


def _compiled(model: nn.Module, precision: str, ctx: Any, *, with_stats: bool = False,
              threads: int | None = None) -> Any:
    """The compiled OpenVINO network (cached per model object, precision and thread count),
    or None if it cannot be made."""
    threads = max(1, torch.get_num_threads() if threads is None else threads)
    with _ov_lock:
        if model in _ov_failed:
            return None
        compiled = _ov_models.setdefault(model, {})
        subpixel = precision == "bfloat16"
        kind = ("stats" if with_stats else "plain") + ("-subpixel" if subpixel else "")
        key = f"{kind}-{precision}-{threads}"
        if key not in compiled:
            try:
                import openvino as ov

                ov_model = compiled.get(kind)
                if ov_model is None:
                    ov_model = compiled[kind] = _convert(model, ctx, with_stats=with_stats, subpixel=subpixel)
                config = {
                    "INFERENCE_PRECISION_HINT": "bf16" if precision == "bfloat16" else "f32",
                    "PERFORMANCE_HINT": "LATENCY",
                    "INFERENCE_NUM_THREADS": threads,
                }
                compiled[key] = ov.Core().compile_model(ov_model, "CPU", config)
            except Exception as exc:  # an op OpenVINO cannot take: eager is always right
                log.warning("OpenVINO could not take this model (%s); running it eagerly", exc)
                _ov_failed.add(model)
                return None
        return compiled[key]


def _openvino(model: nn.Module, precision: str, ctx: Any) -> Call | None:
    if _compiled(model, precision, ctx) is None:
        return None

    def call(x: torch.Tensor) -> torch.Tensor:
        net = _compiled(model, precision, ctx, threads=_threads_now())
        if net is None:  # the variant for this thread count failed to compile: eager is always right
            return model(x)  # type: ignore[no-any-return]
        request = net.create_infer_request()  # one per call: requests are not thread-safe
        result = request.infer({0: x.detach().float().contiguous().numpy()})
        return torch.from_numpy(result[0].copy())

    return call


def _openvino_stats(model: nn.Module, precision: str, ctx: Any) -> Callable[[Stats], Call | None]:
    """Given whole-picture statistics, a converted call that tiles with them (or None)."""

    def make(stats: Stats) -> Call | None:
        if _compiled(model, precision, ctx, with_stats=True) is None:
            return None
        feeds = [t.detach().float().contiguous().numpy() for m in stat_norms(model) for t in stats[m]]

        def call(x: torch.Tensor) -> torch.Tensor:
            inputs = {0: x.detach().float().contiguous().numpy()}
            inputs.update({i + 1: f for i, f in enumerate(feeds)})
            net = _compiled(model, precision, ctx, with_stats=True, threads=_threads_now())
            if net is None:
                with frozen_norm_stats(model, stats):
                    return model(x)  # type: ignore[no-any-return]
            result = net.create_infer_request().infer(inputs)
            return torch.from_numpy(result[0].copy())

        return call

    return make


def select_runner(model: nn.Module, device: torch.device | str, precision: str = "full", *, mode: str = "eval", ctx: Any = None) -> Runner:
    """The fastest safe way to run ``model`` on ``device`` at ``precision`` ("full"/"fast")."""
    device = torch.device(device)
    note = ""
    want: torch.dtype | None = None
    if precision == "fast":
        want = fast_dtype_for(device)
        if want is None:
            note = "fast precision needs bf16 on this CPU (AVX512-BF16 or AMX); running in full precision"
    eager = _eager(model, device, want)
    dtype_name = str(want).removeprefix("torch.") if want is not None else "float32"
    if (
        device.type == "cpu"
        and mode == "eval"
        and _param_count(model) >= MIN_CONVERT_PARAMS
        and openvino_available()
    ):
        call = _openvino(model, dtype_name, ctx)
        if call is not None:
            return Runner("openvino", dtype_name, call, eager, note, _openvino_stats(model, dtype_name, ctx))
    return Runner("eager" if want is None else "eager-autocast", dtype_name, eager, eager, note)


def run_model(model: nn.Module, x: torch.Tensor, *, ctx: Any = None, mode: str = "eval", budget_bytes: int | None = None) -> torch.Tensor:
    """Run ``model`` on ``x`` (B x C x H x W on the model's device) at full resolution with the
    backend :func:`select_runner` picks for ``ctx.precision``; tiles above the memory budget."""
    precision = str(getattr(ctx, "precision", "full") or "full")
    runner = select_runner(model, x.device, precision, mode=mode, ctx=ctx)
    if runner.note and ctx is not None:
        ctx.progress(0.0, runner.note)
    # after an out-of-memory fallback the result may be on the CPU; the caller moves it there anyway
    return run_full_resolution(
        model, x, runner.call, ctx=ctx, budget_bytes=budget_bytes, eager_call=runner.eager, stats_call=runner.stats_call
    )
