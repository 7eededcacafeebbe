"""The Sketch to image tool's code (imported on first use, in a worker: it loads torch).

Two kinds of model work here:
* our own (card tool "sketch", 5 input channels: sketch, hint RGB, hint mask), and
* official pix2pix sketch models (edges2shoes / edges2handbags, imported with
  ``--tool sketch``): 3-channel U-Nets that take the edge picture as RGB. The
  official edges2* data has dark edges on white, as our sketch role does, so the
  sketch goes in as grey RGB; they take no hints.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from ganpaint.core.specs import Role, RunContext, ToolError, ToolRequest, ToolResult
from ganpaint.engine.cards import ModelFileError
from ganpaint.engine.inference import pad_amounts
from ganpaint.engine.loading import read_card
from ganpaint.engine.model_cache import default_cache
from ganpaint_sketch.hints import IN_CHANNELS

TOOL_ID = "sketch"
#: a sketch whose darkest pixel is lighter than this has no lines at all
EMPTY_SKETCH_LEVEL = 0.9


def sketch_grey(request: ToolRequest) -> np.ndarray:
    """The sketch role's picture as grey HxW in [0, 1] (1 = paper); transparent = white."""
    rgb = request.images.get(Role.SKETCH) if request.images else None
    if rgb is None:
        rgb = request.image
    rgb = np.asarray(rgb, dtype=np.float32)
    grey = rgb[..., :3].mean(axis=2) if rgb.ndim == 3 else rgb
    alpha = _alpha_of(request, Role.SKETCH)
    if alpha is not None:
        grey = grey * alpha + (1.0 - alpha)  # composite over white paper
    return np.nan_to_num(grey, nan=1.0).clip(0.0, 1.0).astype(np.float32)


def _alpha_of(request: ToolRequest, role: Role) -> np.ndarray | None:
    alphas = getattr(request, "alphas", None) or {}
    a = alphas.get(role) if isinstance(alphas, dict) else None
    if a is None and role == Role.SKETCH and Role.SKETCH not in (request.images or {}):
        a = request.alpha
    return None if a is None else np.asarray(a, dtype=np.float32).clip(0.0, 1.0)


def hints_of(request: ToolRequest, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
    """(hint RGB HxWx3, hint mask HxW) from the hints role's RGBA, or None."""
    hints = (request.images or {}).get(Role.HINTS)
    if hints is None:
        return None
    arr = np.asarray(hints, dtype=np.float32)
    if arr.shape[:2] != shape:
        raise ToolError(f"the hints layer is {arr.shape[1]}x{arr.shape[0]}, the sketch {shape[1]}x{shape[0]}")
    if arr.ndim == 3 and arr.shape[2] == 4:
        rgb, mask = arr[..., :3], arr[..., 3]
    else:
        alpha = _alpha_of(request, Role.HINTS)
        rgb = arr[..., :3]
        mask = alpha if alpha is not None else np.zeros(shape, np.float32)
    mask = (mask > 0.5).astype(np.float32)  # painted hints are flat dots: soft edges are not hints
    if not mask.any():
        return None
    return np.nan_to_num(rgb).clip(0, 1).astype(np.float32), mask


def run(request: ToolRequest, ctx: RunContext) -> ToolResult:
    params: dict[str, Any] = dict(request.params)
    name = str(params.get("model") or "")
    seed = int(params.get("seed") or 0)
    strength = float(params.get("hint_strength", 1.0))
    path = ctx.model_path(name, TOOL_ID)
    try:
        card = read_card(path)
    except ModelFileError as exc:
        raise ToolError(str(exc)) from None
    if card.architecture != "unet_generator":
        raise ToolError(
            f"model {name!r} is a {card.architecture} model for the {card.tool!r} tool, not a sketch model "
            "(a U-Net from 'ganpaint train sketch' or an official pix2pix edges2shoes/edges2handbags model)"
        )
    in_ch = int(card.config.get("in_channels", 3))
    if in_ch not in (3, IN_CHANNELS) or int(card.config.get("out_channels", 3)) != 3:
        raise ToolError(f"model {name!r} takes {in_ch} input channels; the sketch tool runs 3 (official pix2pix) "
                        f"or {IN_CHANNELS} (sketch + colour hints)")

    grey = sketch_grey(request)
    h, w = grey.shape
    if float(grey.min()) > EMPTY_SKETCH_LEVEL:
        raise ToolError("the sketch layer is empty (no dark lines): draw dark lines on white, "
                        "or pick the layer with the drawing as the sketch")
    try:
        # shipped weights are fp16 (file size); compute in float32, which every CPU runs well
        component = card.components[0] if card.components else None
        model = default_cache().get(path, component=component, device=ctx.device, dtype=torch.float32, ctx=ctx)
    except ModelFileError as exc:
        raise ToolError(str(exc)) from None
    hints = hints_of(request, (h, w)) if strength > 0 else None
    used_hints = in_ch == IN_CHANNELS and hints is not None
    if in_ch == IN_CHANNELS:
        planes = [grey[..., None]]
        if hints is not None:
            rgb, mask = hints
            planes += [rgb, (mask * strength)[..., None]]
        else:
            planes += [np.zeros((h, w, 3), np.float32), np.zeros((h, w, 1), np.float32)]
        x = np.concatenate(planes, axis=2)
    else:
        x = np.repeat(grey[..., None], 3, axis=2)
    out = run_generator(model, x, ctx=ctx, seed=seed, hint_input=in_ch == IN_CHANNELS)
    return ToolResult(
        image=out,
        name=f"Sketch to image ({name})",
        metadata={
            "model": name,
            "model_version": card.version,
            "model_sha256": card.sha256,
            "seed": seed,
            "hint_strength": strength,
            "hints_used": used_hints,
            "input_channels": in_ch,
        },
    )


def run_generator(model: nn.Module, x: np.ndarray, *, ctx: Any = None, seed: int = 0,
                  hint_input: bool = True) -> np.ndarray:
    """Run a sketch generator on an (H, W, C) float32 input in [0, 1] at full resolution.

    For the 5-channel input, channels are sketch, hint RGB, hint mask (see
    ``ganpaint_sketch.hints``). Padding: the picture part is reflected (a one-pixel side
    repeated); hints are padded with "no hint". Tiling above the memory budget is G's
    ``backends.run_model``. ``seed`` 0 = dropout off; any other seed switches dropout on
    with a private generator (batch norm keeps its stored statistics either way)."""
    h, w = x.shape[:2]
    if ctx is not None:
        ctx.progress(0.0, "Colouring the sketch")
    top, bottom, left, right = pad_amounts(model, h, w)
    widths = ((top, bottom), (left, right), (0, 0))
    mode = "reflect" if min(h, w) > 1 else "edge"
    if hint_input:
        sk = np.pad(x[..., :1], widths, mode=mode)  # type: ignore[call-overload]
        rest = np.pad(x[..., 1:], widths, mode="constant")
        x = np.concatenate([sk, rest], axis=2)
    else:
        x = np.pad(x, widths, mode=mode)  # type: ignore[call-overload]
    p = next(iter(model.parameters()))
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None].to(device=p.device, dtype=p.dtype)
    if hint_input:
        t = torch.cat([t[:, :4] * 2 - 1, t[:, 4:5] * 2 - 1], 1)
        # hint RGB is 0 where there is no hint (make_input's convention)
        t[:, 1:4] *= (t[:, 4:5] + 1) / 2
    else:
        t = t * 2 - 1
    from ganpaint.engine.backends import select_runner
    from ganpaint.engine.tiling import run_full_resolution

    model.eval()
    precision = str(getattr(ctx, "precision", "full") or "full")
    # a converted graph (OpenVINO) would skip the dropout hooks: variations run eagerly
    runner = select_runner(model, t.device, precision, mode="published" if seed else "eval", ctx=ctx)
    if runner.note and ctx is not None:
        ctx.progress(0.0, runner.note)
    with torch.inference_mode(), _dropout(model, seed):
        try:
            y = run_full_resolution(model, t, runner.call, ctx=ctx, eager_call=runner.eager,
                                    stats_call=runner.stats_call)
        except torch.OutOfMemoryError:
            raise
        except RuntimeError as exc:
            raise ToolError(f"the model could not run on a {w}x{h} picture: {str(exc).splitlines()[0]}") from exc
    y = y[0, :, top : top + h, left : left + w]
    out = ((y.float() + 1) / 2).clamp_(0, 1).permute(1, 2, 0).cpu().numpy()
    if ctx is not None:
        ctx.progress(1.0, "Coloured")
    return np.ascontiguousarray(out, dtype=np.float32)


@contextlib.contextmanager
def _dropout(model: nn.Module, seed: int) -> Iterator[None]:
    """Dropout on with a private seeded generator (the global RNG is untouched); seed 0 = off."""
    if not seed:
        yield
        return
    gen = torch.Generator(device=next(iter(model.parameters())).device).manual_seed(int(seed))

    def hook(m: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> torch.Tensor:
        p = float(getattr(m, "p", 0.0))
        if p <= 0.0:
            return out
        keep = torch.empty_like(args[0]).bernoulli_(1.0 - p, generator=gen)
        return args[0] * keep.div_(1.0 - p)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Dropout)]
    try:
        yield
    finally:
        for hd in handles:
            hd.remove()
