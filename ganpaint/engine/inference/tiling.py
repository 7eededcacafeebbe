"""Full-resolution inference: overlapping tiles, feathered seams, whole-picture norm statistics.

Geometry along one axis (the same for both): windows of ``tile`` pixels start on multiples of
the model's ``size_multiple`` (so every strided layer sees the same pixel grid as the whole
picture would). Where two windows overlap, each throws away ``context`` pixels at its inner
edge (the pixels whose receptive field crosses the window edge) and the two cross-fade with
complementary linear ramps over the rest of the overlap. With ``context`` >= the receptive
radius, every pixel that gets weight is computed exactly as in one whole pass.

Normalisation that uses the statistics of its input (instance norm; batch norm in the
"published" mode) would see each tile's own statistics: seams and colour shifts. So a first
pass over a copy of the picture downscaled to fit the budget records every such layer's
per-channel (mean, var), and the tiles then normalise with those (:func:`frozen_norm_stats`).

Out of memory (torch.OutOfMemoryError, RuntimeError "out of memory", MemoryError) is caught
by :func:`run_full_resolution`: it retries with tiles half the size, then on the CPU, and
says so through ``ctx.progress``.

Cancel: ``ctx.progress`` is called before every tile, and while a model runs through
:func:`run_full_resolution` a forward pre-hook on each of its leaf modules asks
``ctx.cancelled()``, so a cancel lands between two layers of the running tile (well under a
second) instead of at the end of a tile that may take many seconds on the CPU. A converted
graph (OpenVINO, TorchScript) runs no hooks: there the cancel lands at the next tile.
"""

from __future__ import annotations

import contextlib
import gc
import math
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganpaint.engine.inference.memory import activation_bytes_per_pixel, memory_budget_bytes

__all__ = [
    "TilePlan",
    "axis_windows",
    "axis_weights",
    "cancel_checks",
    "capture_norm_stats",
    "frozen_norm_stats",
    "is_oom",
    "plan_tiles",
    "receptive_radius",
    "run_full_resolution",
    "run_tiled",
    "stat_norms",
]

Call = Callable[[torch.Tensor], torch.Tensor]
Stats = dict[nn.Module, tuple[torch.Tensor, torch.Tensor]]

#: bytes per pixel below which a picture runs whole without estimating (see run_full_resolution)
QUICK_FIT_BYTES_PER_PIXEL = 4096
#: width of the cross-fade between two tiles, in pixels (when the overlap allows)
BLEND = 32


# ----------------------------------------------------------------------------- geometry


def receptive_radius(model: nn.Module) -> int:
    """Upper bound of how far (in input pixels) an output pixel sees: the sum along the
    execution order of each conv's half-kernel times the stride product at its input."""
    radius = 0.0
    scale = 1.0
    hooks = []

    def hook(m: Any, args: Any, out: Any) -> None:
        nonlocal radius, scale
        k = m.kernel_size if isinstance(m.kernel_size, int) else max(m.kernel_size)
        s = m.stride if isinstance(m.stride, int) else max(m.stride)
        d = m.dilation if isinstance(m.dilation, int) else max(m.dilation)
        if isinstance(m, nn.modules.conv._ConvTransposeNd):
            # an output sees (k-1)/2 of its input pixels' spacing either side (rounded up)
            radius += (k - 1) / 2 * d * scale
            scale /= s
        else:
            radius += (k - 1) / 2 * d * scale
            scale *= s

    for m in model.modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            hooks.append(m.register_forward_hook(hook))
    try:
        from torch.func import functional_call

        mult = int(getattr(model, "size_multiple", 1))
        side = max(int(getattr(model, "min_size", 1)), mult, 16)
        side = -(-side // mult) * mult
        in_ch = int(getattr(getattr(model, "config", None), "in_channels", 3))
        probe = torch.empty((1, in_ch, side, side), device="meta")
        state = {k: torch.empty_like(v, device="meta") for k, v in [*model.named_parameters(), *model.named_buffers()]}
        with torch.inference_mode():
            functional_call(model, state, (probe,))
    except Exception:
        radius = max(radius, 64.0)  # unknown structure: a generous guess
    finally:
        for h in hooks:
            h.remove()
    return int(math.ceil(radius))


def axis_windows(length: int, tile: int, step: int, align: int = 1) -> list[tuple[int, int]]:
    """Windows [start, end) of ``tile`` px covering ``length``, starts spread evenly (on
    multiples of ``align``) with no two consecutive starts further apart than ``step``."""
    if tile >= length:
        return [(0, length)]
    gaps = -(-(length - tile) // max(1, step))
    starts = sorted({min(length - tile, (i * (length - tile) // gaps) // align * align) for i in range(gaps + 1)})
    starts[-1] = length - tile
    return [(s, s + tile) for s in starts]


def axis_weights(windows: list[tuple[int, int]], context: int) -> list[torch.Tensor]:
    """Per-window 1-D weights: 0 over ``context`` px at inner edges, a linear cross-fade over
    the rest of each overlap, 1 elsewhere. Adjacent windows' weights sum to 1."""
    out = []
    for i, (s, e) in enumerate(windows):
        w = torch.ones(e - s, dtype=torch.float32)
        if i > 0:  # overlap with the previous window: [s, prev_end)
            a, b = s + context, windows[i - 1][1] - context
            _ramp(w, s, a, b, rising=True)
        if i + 1 < len(windows):  # overlap with the next: [next_start, e)
            a, b = windows[i + 1][0] + context, e - context
            _ramp(w, s, a, b, rising=False)
        out.append(w)
    return out


def _ramp(w: torch.Tensor, origin: int, a: int, b: int, *, rising: bool) -> None:
    n = max(1, b - a)
    t = (torch.arange(n, dtype=torch.float32) + 0.5) / n
    ramp = t if rising else 1 - t
    lo, hi = a - origin, a - origin + n
    if rising:
        w[: max(0, lo)] = 0
        w[max(0, lo) : hi] *= ramp[max(0, -lo) :]
    else:
        w[lo:hi] *= ramp[: max(0, len(w) - lo)][: hi - lo]
        w[hi:] = 0


@dataclass(frozen=True)
class TilePlan:
    tile: int  #: window side in px
    context: int  #: px thrown away at each inner window edge
    step: int  #: distance between window starts (a multiple of the model's size multiple)
    rows: list[tuple[int, int]]
    cols: list[tuple[int, int]]

    @property
    def count(self) -> int:
        return len(self.rows) * len(self.cols)


def plan_tiles(height: int, width: int, tile: int, *, align: int = 1, radius: int = 0, blend: int = BLEND) -> TilePlan:
    """Windows for a ``height`` x ``width`` picture (both multiples of ``align``).

    ``context`` is ``radius`` (exact seams) when the overlap affords it (at most a quarter of
    the tile for context + fade on each side), else as much as fits."""
    tile = max(align, tile // align * align)
    tile = min(tile, max(height, width) // align * align or align)
    context = min(radius, max(0, (tile // 2 - blend) // 2))
    step = (tile - 2 * context - blend) // align * align
    if step <= 0:  # tiles barely larger than one multiple (U-Net-256 at 256 px): half-tile steps
        step = max(align, tile // 2 // align * align)
        context = max(0, (tile - step - 1) // 2) if tile > step else 0
    rows = axis_windows(height, min(tile, height), step, align)
    cols = axis_windows(width, min(tile, width), step, align)
    return TilePlan(tile=tile, context=context, step=step, rows=rows, cols=cols)


# ----------------------------------------------------------------------------- norm statistics


def stat_norms(model: nn.Module) -> list[nn.Module]:
    """Norm layers whose output depends on the statistics of their own input."""
    found: list[nn.Module] = []
    for m in model.modules():
        if isinstance(m, nn.modules.instancenorm._InstanceNorm):
            if m.training or not m.track_running_stats:
                found.append(m)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            if m.training or m.running_mean is None or not m.track_running_stats:
                found.append(m)
    return found


@contextlib.contextmanager
def capture_norm_stats(model: nn.Module) -> Iterator[Stats]:
    """Within the block, each forward fills the dict with every stat norm's input (mean, var)."""
    stats: Stats = {}

    def pre(m: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        x = args[0].float()
        dims = (0, 2, 3) if isinstance(m, nn.modules.batchnorm._BatchNorm) else (2, 3)
        var, mean = torch.var_mean(x, dim=dims, correction=0)
        stats[m] = (mean.reshape(-1), var.reshape(-1))

    hooks = [m.register_forward_pre_hook(pre) for m in stat_norms(model)]
    try:
        yield stats
    finally:
        for h in hooks:
            h.remove()


def _frozen_forward(self: Any, x: torch.Tensor) -> torch.Tensor:
    mean, var = self._ganpaint_frozen
    shape = (1, -1) + (1,) * (x.dim() - 2)
    scale = torch.rsqrt(var + self.eps)
    shift = -mean * scale
    if getattr(self, "weight", None) is not None:
        scale = scale * self.weight.float()
        shift = shift * self.weight.float() + self.bias.float()
    y: torch.Tensor = x * scale.to(x.dtype).reshape(shape) + shift.to(x.dtype).reshape(shape)
    return y


@contextlib.contextmanager
def frozen_norm_stats(model: nn.Module, stats: Stats) -> Iterator[None]:
    """Within the block, each stat norm normalises with ``stats`` instead of its input's."""
    patched = []
    try:
        for m, (mean, var) in stats.items():
            setattr(m, "_ganpaint_frozen", (mean, var))  # noqa: B010 - not a Module attribute
            m.forward = types.MethodType(_frozen_forward, m)
            patched.append(m)
        yield
    finally:
        for m in patched:
            del m.forward
            del m._ganpaint_frozen


def whole_picture_stats(model: nn.Module, x: torch.Tensor, call: Call, budget_bytes: int) -> Stats:
    """Norm statistics of ``x`` from one pass, on a copy downscaled to fit ``budget_bytes``."""
    align = int(getattr(model, "size_multiple", 1))
    least = int(getattr(model, "min_size", 1))
    h, w = x.shape[-2:]
    per_px = activation_bytes_per_pixel(model, x.dtype)
    scale = min(1.0, math.sqrt(budget_bytes / max(1.0, per_px * h * w)))

    def fit(n: int) -> int:
        return max(least, align, int(n * scale) // align * align)

    small = x if scale >= 1.0 else F.interpolate(x, size=(fit(h), fit(w)), mode="bilinear", antialias=True, align_corners=False)
    with capture_norm_stats(model) as stats:
        call(small)
    return dict(stats)


# ----------------------------------------------------------------------------- running


@contextlib.contextmanager
def cancel_checks(model: nn.Module, ctx: Any) -> Iterator[None]:
    """While inside, every leaf module of ``model`` checks ``ctx.cancelled()`` before it runs
    and raises the context's JobCancelled (through ``ctx.progress``) once it is set."""
    asked = getattr(ctx, "cancelled", None)
    if not callable(asked) or not isinstance(model, nn.Module):
        yield
        return

    def check(_m: nn.Module, _args: Any) -> None:
        if asked():
            ctx.progress(0.0, "Cancelling")  # raises the host's JobCancelled
            from ganpaint.core.specs import JobCancelled

            raise JobCancelled("cancelled")  # a context whose progress did not raise

    hooks = [m.register_forward_pre_hook(check) for m in model.modules() if not any(True for _ in m.children())]
    try:
        yield
    finally:
        for h in hooks:
            h.remove()



def is_oom(exc: BaseException) -> bool:
    if isinstance(exc, (MemoryError, torch.OutOfMemoryError)):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def run_tiled(
    model: nn.Module,
    x: torch.Tensor,
    plan: TilePlan,
    call: Call,
    *,
    stats: Stats | None = None,
    ctx: Any = None,
) -> torch.Tensor:
    """Run ``call`` on each window of ``plan`` and blend; ``stats`` freezes the stat norms."""
    wy = axis_weights(plan.rows, plan.context)
    wx = axis_weights(plan.cols, plan.context)
    out: torch.Tensor | None = None
    done, total = 0, plan.count
    frozen = frozen_norm_stats(model, stats) if stats else contextlib.nullcontext()
    with frozen:
        for (y0, y1), wrow in zip(plan.rows, wy, strict=True):
            for (x0, x1), wcol in zip(plan.cols, wx, strict=True):
                if ctx is not None:  # also where a cancel is honoured
                    ctx.progress(done / total, f"Tile {done + 1} of {total}")
                y = call(x[:, :, y0:y1, x0:x1])
                if out is None:
                    out = torch.zeros((y.shape[0], y.shape[1], *x.shape[-2:]), dtype=torch.float32, device=y.device)
                weight = (wrow[:, None] * wcol[None, :]).to(y.device)
                out[:, :, y0:y1, x0:x1] += y.float() * weight
                done += 1
    assert out is not None
    # weights are a partition of unity where two windows meet; dividing by their sum also
    # covers corners of three windows and degenerate narrow overlaps (separable: outer product)
    sy = torch.zeros(x.shape[-2])
    sx = torch.zeros(x.shape[-1])
    for (y0, y1), w in zip(plan.rows, wy, strict=True):
        sy[y0:y1] += w
    for (x0, x1), w in zip(plan.cols, wx, strict=True):
        sx[x0:x1] += w
    out /= (sy[:, None] * sx[None, :]).clamp_min(1e-6).to(out.device)
    return out


def tile_for_budget(model: nn.Module, budget_bytes: int, dtype: torch.dtype = torch.float32) -> int:
    align = int(getattr(model, "size_multiple", 1))
    side = int(math.sqrt(budget_bytes / activation_bytes_per_pixel(model, dtype)))
    return max(align, int(getattr(model, "min_size", 1)), side // align * align)


def run_full_resolution(
    model: nn.Module,
    x: torch.Tensor,
    call: Call,
    *,
    ctx: Any = None,
    budget_bytes: int | None = None,
    eager_call: Call | None = None,
    stats_call: Callable[[Stats], Call | None] | None = None,
) -> torch.Tensor:
    """``call(x)`` when it fits the memory budget, else tiled; retries smaller, then on the CPU,
    when memory runs out. Norm statistics are measured with ``eager_call`` (default ``call``)
    and applied by patching the module, which a converted graph does not see: ``stats_call``
    (if given and not returning None) makes a call that applies given statistics instead."""
    align = int(getattr(model, "size_multiple", 1))
    least = max(align, int(getattr(model, "min_size", 1)))
    h, w = int(x.shape[-2]), int(x.shape[-1])
    budget = budget_bytes if budget_bytes is not None else memory_budget_bytes(x.device)
    tile: int | None = None
    # the estimate runs the model on the meta device, whose first use imports ~3 s of torch
    # internals: pictures that fit even at a generous 4 KB/px (the zoo's generators need
    # 0.3-0.9 KB/px) skip it, so a first small result is not delayed
    # (a picture that fits by area runs whole, even when a square tile of that area would be
    # narrower than its long side: 2560x1600 in a 2500x2500 budget is one pass)
    if h * w * QUICK_FIT_BYTES_PER_PIXEL > budget and h * w * activation_bytes_per_pixel(model, x.dtype) > budget:
        tile = tile_for_budget(model, budget, x.dtype)
    home = x.device
    moved = False
    try:
        with cancel_checks(model, ctx):
            while True:
                try:
                    if tile is None:
                        return call(x)
                    return _tiled_pass(model, x, tile, eager_call or call, budget, ctx, stats_call)
                except Exception as exc:
                    if not is_oom(exc):
                        raise
                    del exc
                    _free(x.device)
                    smaller = (tile or max(h, w)) // 2 // align * align
                    if smaller >= least and smaller >= 2 * align:
                        tile = smaller
                        _say(ctx, f"Out of memory: retrying in {tile}x{tile} tiles")
                        continue
                    if x.device.type != "cpu" and not moved:
                        _say(ctx, f"Out of memory on {x.device}: retrying on the CPU")
                        model.to("cpu")
                        moved, x = True, x.to("cpu")
                        call = eager_call = model
                        stats_call = None
                        tile = tile_for_budget(model, memory_budget_bytes("cpu"), x.dtype)
                        tile = None if tile >= max(h, w) else tile
                        continue
                    raise
    finally:
        if moved:
            model.to(home)  # the cached model belongs to its device


def _tiled_pass(
    model: nn.Module,
    x: torch.Tensor,
    tile: int,
    call: Call,
    budget: int,
    ctx: Any,
    stats_call: Callable[[Stats], Call | None] | None,
) -> torch.Tensor:
    align = int(getattr(model, "size_multiple", 1))
    plan = plan_tiles(x.shape[-2], x.shape[-1], tile, align=align, radius=receptive_radius(model))
    if not stat_norms(model):
        return run_tiled(model, x, plan, call, ctx=ctx)
    _say(ctx, "Measuring the picture's statistics", 0.0)
    stats = whole_picture_stats(model, x, call, budget)
    fast = stats_call(stats) if stats_call is not None else None
    if fast is not None:
        return run_tiled(model, x, plan, fast, ctx=ctx)
    return run_tiled(model, x, plan, call, stats=stats, ctx=ctx)


def _free(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps" and hasattr(torch, "mps"):
        torch.mps.empty_cache()


def _say(ctx: Any, message: str, fraction: float = 0.0) -> None:
    if ctx is not None:
        ctx.progress(fraction, message)
