"""Running an image-to-image generator on a picture.

The official test-time convention: RGB in [0, 1] -> ``x * 2 - 1``; the generator; ``(y + 1) / 2``.
Sizes the architecture cannot take are PADDED (reflection, split between the two sides) up to
its multiple (4 for the ResNet, ``2 ** num_downs`` for the U-Net) and at least its minimum
size, then cropped back; never resized.

Modes for models with batch norm or dropout:

* ``"eval"`` (default): running statistics, no dropout; deterministic.
* ``"published"``: what the official test script does without ``--eval``: batch norm uses the
  statistics of this picture and dropout is active; ``seed`` makes it repeatable. The stored
  running statistics are never updated.

Entry point: :func:`translate_array`. (Tiling for pictures above a memory budget plugs in here.)
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from ganpaint.core.specs import ToolError

__all__ = ["Mode", "pad_amounts", "required_size", "translate_array"]

Mode = Literal["eval", "published"]

# published mode flips module flags; one run at a time per model
_locks: weakref.WeakKeyDictionary[nn.Module, threading.Lock] = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def _lock_for(model: nn.Module) -> threading.Lock:
    with _locks_guard:
        lock = _locks.get(model)
        if lock is None:
            lock = _locks[model] = threading.Lock()
        return lock


def required_size(model: nn.Module, height: int, width: int) -> tuple[int, int]:
    """The padded (height, width) the model takes for a picture of this size."""
    mult = int(getattr(model, "size_multiple", 1))
    least = int(getattr(model, "min_size", 1))

    def up(n: int) -> int:
        n = max(n, least)
        return -(-n // mult) * mult

    return up(height), up(width)


def pad_amounts(model: nn.Module, height: int, width: int) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) padding for a picture of this size."""
    ph, pw = required_size(model, height, width)
    dh, dw = ph - height, pw - width
    return dh // 2, dh - dh // 2, dw // 2, dw - dw // 2


def _model_device_dtype(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    for t in model.parameters():
        return t.device, t.dtype
    return torch.device("cpu"), torch.float32


@contextlib.contextmanager
def _published(model: nn.Module, seed: int | None) -> Iterator[None]:
    """Batch norm on per-picture statistics and dropout on, without touching stored statistics.

    Dropout draws from a private generator seeded with ``seed`` (never the global RNG, which a
    training run in the other lane may be using); the masks are the ones ``nn.Dropout`` in
    train mode would draw after ``torch.manual_seed(seed)``, so results match the reference.
    """
    device = _model_device_dtype(model)[0]
    gen = torch.Generator(device=device)
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed))

    def dropout_hook(m: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> torch.Tensor:
        p = float(getattr(m, "p", 0.0))
        if p <= 0.0:
            return out
        if p >= 1.0:
            return torch.zeros_like(args[0])
        noise = torch.empty_like(args[0]).bernoulli_(1.0 - p, generator=gen)
        return args[0] * noise.div_(1.0 - p)

    norms: list[tuple[nn.modules.batchnorm._BatchNorm, bool, bool]] = []
    hooks = []
    try:
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                norms.append((m, m.training, m.track_running_stats))
                # training mode with tracking off: batch statistics, running ones neither read nor updated
                m.train(True)
                m.track_running_stats = False
            elif isinstance(m, nn.modules.dropout._DropoutNd) and not m.training:
                hooks.append(m.register_forward_hook(dropout_hook))
        yield
    finally:
        for h in hooks:
            h.remove()
        for m, training, tracking in norms:
            m.train(training)
            m.track_running_stats = tracking


def translate_array(
    model: nn.Module,
    image: np.ndarray,
    *,
    ctx: Any = None,
    mode: Mode = "eval",
    seed: int | None = 0,
) -> np.ndarray:
    """Run ``model`` on an (H, W, 3) float32 RGB picture in [0, 1]; returns the same shape and range.

    ``ctx`` (a RunContext or None) receives progress and may cancel (``ctx.progress`` raises
    JobCancelled). ``mode`` is ``"eval"`` or ``"published"``; ``seed`` seeds dropout in published mode.
    """
    if mode not in ("eval", "published"):
        raise ToolError(f"unknown mode {mode!r} (expected eval or published)")
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ToolError(f"expected an (H, W, 3) RGB picture, got shape {arr.shape}")
    h, w = int(arr.shape[0]), int(arr.shape[1])
    if h < 1 or w < 1:
        raise ToolError(f"the picture is empty ({w}x{h})")
    in_ch = getattr(getattr(model, "config", None), "in_channels", 3)
    if in_ch != 3:
        raise ToolError(f"this model takes {in_ch}-channel input, not an RGB picture")
    if ctx is not None:
        ctx.progress(0.0, "Translating")

    top, bottom, left, right = pad_amounts(model, h, w)
    if arr.dtype == np.uint8:  # tolerated: 8-bit pixels are scaled to [0, 1]
        arr = arr.astype(np.float32) / 255.0
    x: np.ndarray = np.nan_to_num(arr.astype(np.float32, copy=False), nan=0.0).clip(0.0, 1.0)
    if top or bottom or left or right:
        # numpy's reflect repeats the reflection when the pad is wider than the picture;
        # a single-pixel side can only be repeated
        widths = ((top, bottom), (left, right), (0, 0))
        x = np.pad(x, widths, mode="reflect") if min(h, w) > 1 else np.pad(x, widths, mode="edge")
    device, dtype = _model_device_dtype(model)
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None].to(device=device, dtype=dtype)
    t = t * 2 - 1

    with _lock_for(model), torch.inference_mode():
        ctx_mgr = _published(model, seed) if mode == "published" else contextlib.nullcontext()
        with ctx_mgr:
            try:
                # backend choice, tiling above the memory budget, out-of-memory retries (engineer G)
                from ganpaint.engine.inference.backends import run_model

                y = run_model(model, t, ctx=ctx, mode=mode)
            except torch.OutOfMemoryError:
                raise  # the caller may retry smaller or elsewhere
            except RuntimeError as exc:
                raise ToolError(f"the model could not run on a {w}x{h} picture: {str(exc).splitlines()[0]}") from exc

    y = y[0, :, top : top + h, left : left + w]
    out = ((y.float() + 1) / 2).clamp_(0, 1).permute(1, 2, 0).cpu().numpy()
    if out.shape[2] == 1:
        out = np.repeat(out, 3, axis=2)
    if ctx is not None:
        ctx.progress(1.0, "Translated")
    return np.ascontiguousarray(out, dtype=np.float32)
