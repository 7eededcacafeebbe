"""How much memory model work may use, and how much a picture of a given size needs.

The budget (bytes of activations one forward pass may allocate) comes from, in order:
an explicit argument, ``$GANPAINT_INFERENCE_MEMORY_MB``, ``Settings.inference_memory_mb``
(0 = automatic), else what the OS reports available now (``psutil.virtual_memory().available``)
minus a safety margin (:func:`safety_margin_bytes`: a quarter of it, at least
:data:`MARGIN_MIN_BYTES`), or 70 % of free CUDA memory on a GPU.

Why available-minus-margin and no fixed cap: a picture whose activations fit in memory runs
in one pass, which is 3-5x faster than tiles (a 2560x1600 season run: docs/performance.md);
the former 1.5 GB cap tiled such pictures on machines with plenty of memory. The margin
keeps room for the picture's own arrays, the editor's document and whatever else runs, so
the machine does not swap. Tiled runs still honour a cancel within a fraction of a second:
:func:`ganpaint.engine.inference.tiling.run_tiled` checks it between tiles and between the model's
layers inside a tile.

The activation estimate runs the model once on the ``meta`` device (shapes only: no memory,
no arithmetic, a few milliseconds) and simulates what eager PyTorch keeps alive: the input
of every module still running (a residual block holds ``x`` for its sum, a U-Net level holds
its skip tensor for the concatenation) plus the input and output of the layer running now.
The peak of that, times :data:`SAFETY` for allocator slack and oneDNN workspaces, divided by
the probe's pixel count, gives bytes per input pixel. Checked against measured VmHWM (see
docs/performance.md).
"""

from __future__ import annotations

import os
import threading
import weakref
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = [
    "MARGIN_MIN_BYTES",
    "activation_bytes_per_pixel",
    "available_memory_bytes",
    "fits",
    "memory_budget_bytes",
    "safety_margin_bytes",
]

#: the automatic budget leaves at least this much of the available memory unused ...
MARGIN_MIN_BYTES = 1024**3
#: ... or this fraction of it, whichever is more
MARGIN_FRACTION = 0.25
MIN_BUDGET_BYTES = 128 * 1024**2
#: measured peak / simulated peak was 1.1-1.4 on the CPU for the ResNet and U-Net generators
SAFETY = 1.5

_cache: weakref.WeakKeyDictionary[nn.Module, dict[tuple[str, int], float]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def available_memory_bytes() -> int:
    """Memory the OS could give us now without swapping (psutil's ``available``; MemAvailable
    on Linux), or a guess of 2 GB when it cannot tell."""
    try:
        import psutil

        avail = int(psutil.virtual_memory().available)
        if avail > 0:
            return avail
    except Exception:  # noqa: BLE001 - psutil missing or unsupported here: the fallbacks below
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
        if pages > 0 and size > 0:
            return int(pages) * int(size)
    except (ValueError, OSError, AttributeError):
        pass
    return 2 * 1024**3


def safety_margin_bytes(available: int) -> int:
    """What the automatic budget leaves unused of ``available`` bytes."""
    return max(MARGIN_MIN_BYTES, int(available * MARGIN_FRACTION))


def _configured_mb() -> int:
    env = os.environ.get("GANPAINT_INFERENCE_MEMORY_MB", "").strip()
    if env:
        try:
            return max(0, int(float(env)))
        except ValueError:
            pass
    try:
        from ganpaint.core.settings import Settings

        return max(0, int(Settings.load().inference_memory_mb))
    except Exception:  # settings must never stop a run
        return 0


def memory_budget_bytes(device: str | torch.device = "cpu", override_mb: int | None = None) -> int:
    """Bytes of activations one forward pass may use on ``device``."""
    mb = override_mb if override_mb is not None and override_mb > 0 else _configured_mb()
    if mb > 0:
        return int(mb) * 1024**2
    dev = torch.device(device)
    if dev.type == "cuda" and torch.cuda.is_available():
        free, _total = torch.cuda.mem_get_info(dev)
        return max(MIN_BUDGET_BYTES, int(free * 0.7))
    avail = available_memory_bytes()
    return max(MIN_BUDGET_BYTES, avail - safety_margin_bytes(avail))


def _nbytes(t: Any) -> int:
    return int(t.numel() * t.element_size()) if isinstance(t, torch.Tensor) else 0


def _simulate_peak(model: nn.Module, side: int, in_channels: int, dtype: torch.dtype) -> int:
    """Peak live bytes of one eager forward on a ``side`` x ``side`` picture (meta tensors)."""
    held: list[torch.Tensor] = []  # inputs of modules still running
    peak = 0

    def live_held() -> int:
        seen: set[int] = set()
        total = 0
        for t in held:
            if id(t) not in seen:
                seen.add(id(t))
                total += _nbytes(t)
        return total

    def pre(m: nn.Module, args: tuple[Any, ...]) -> None:
        held.append(args[0] if args and isinstance(args[0], torch.Tensor) else torch.empty(0))

    def post(m: nn.Module, args: tuple[Any, ...], out: Any) -> None:
        nonlocal peak
        x = held.pop()
        if not any(True for _ in m.children()):  # a leaf: its input and output are both alive
            out_b = 0 if (out is x) else _nbytes(out)  # in-place activations allocate nothing
            peak = max(peak, live_held() + _nbytes(x) + out_b)

    hooks = []
    for m in model.modules():
        hooks.append(m.register_forward_pre_hook(pre))
        hooks.append(m.register_forward_hook(post))
    # a meta copy of the model: parameters without storage, so the probe costs nothing
    try:
        probe = torch.empty((1, in_channels, side, side), device="meta", dtype=dtype)
        with torch.inference_mode():
            _run_on_meta(model, probe)
    finally:
        for h in hooks:
            h.remove()
    return peak


def _run_on_meta(model: nn.Module, probe: torch.Tensor) -> None:
    """Forward ``probe`` through ``model`` with every parameter and buffer swapped for meta."""
    from torch.func import functional_call

    state = {
        k: torch.empty_like(v, device="meta", dtype=probe.dtype if v.is_floating_point() else v.dtype)
        for k, v in [*model.named_parameters(), *model.named_buffers()]
    }
    functional_call(model, state, (probe,))


def activation_bytes_per_pixel(model: nn.Module, dtype: torch.dtype = torch.float32) -> float:
    """Estimated peak activation bytes per input pixel of one eager forward (with :data:`SAFETY`)."""
    mult = int(getattr(model, "size_multiple", 1))
    least = int(getattr(model, "min_size", 1))
    side = max(least, mult, 64)
    side = -(-side // mult) * mult
    if side < 2 * mult and side < 512:
        side *= 2  # a couple of strided steps so borders do not dominate the estimate
    in_ch = int(getattr(getattr(model, "config", None), "in_channels", 3))
    key = (str(dtype), side)
    with _cache_lock:
        hit = _cache.get(model, {}).get(key)
    if hit is not None:
        return hit
    try:
        peak = _simulate_peak(model, side, in_ch, dtype)
    except Exception:  # a model the meta device cannot run: assume a wide full-resolution network
        peak = 0
    per_px = peak / float(side * side) * SAFETY if peak > 0 else 2048.0
    with _cache_lock:
        _cache.setdefault(model, {})[key] = per_px
    return per_px


def fits(model: nn.Module, height: int, width: int, budget_bytes: int, dtype: torch.dtype = torch.float32) -> bool:
    """Whether one untiled pass over a (padded) ``height`` x ``width`` picture fits the budget."""
    return activation_bytes_per_pixel(model, dtype) * height * width <= budget_bytes
