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
import torch.nn.functional as F
from torch import nn

from ganpaint.core.specs import Role, RunContext, ToolError, ToolRequest, ToolResult
from ganpaint.engine.inference.translate import pad_amounts
from ganpaint.engine.models.cards import ModelFileError
from ganpaint.engine.models.loading import read_card
from ganpaint.engine.models.model_cache import default_cache
from ganpaint.nn.filters import gaussian_taps, separable
from ganpaint_sketch.hints import IN_CHANNELS
from ganpaint_sketch.metrics import LINE_LEVEL, label_regions
from ganpaint_sketch.regions import TRAIN_SIDE, hint_fill, ink_growth, working_scale

TOOL_ID = "sketch"
#: how much of a model's own light and shade stays on a region filled from hints, for a model
#: not trained on spread hints (0 = the flat spread colour: on training-split photos and
#: drawings, 0 / 0.25 / 1 scored 12.97 / 12.82 / 11.40 dB, tools/eval_sketch.py --real --split train)
SHADING = 0.0
#: the low-pass (px at the working scale) of the network's colours inside each closed region:
#: half the 128 px window, so one window's guess never shows as a square patch
REGION_SIGMA = 64.0
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
    scale = 1.0
    if in_ch == IN_CHANNELS:
        scale = working_scale(grey)
        out = colourise(model, grey, hints, strength=strength, seed=seed, ctx=ctx,
                        region_hints=(card.extra or {}).get("hint_input") == "regions")
    else:
        x = np.repeat(grey[..., None], 3, axis=2)
        out = run_generator(model, x, ctx=ctx, seed=seed, hint_input=False)
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
            "working_scale": round(scale, 4),
        },
    )


def shrink_sketch(grey: np.ndarray, scale: float) -> torch.Tensor:
    """A sketch (HxW, 1 = paper) at ``scale`` as the model's sketch plane, 1x1xhxw in [-1, 1]:
    the ink grown first (``regions.ink_growth``) so lines stay about 1.4 px wide, then
    shrunk by area."""
    h, w = grey.shape
    hs, ws = max(1, round(h * scale)), max(1, round(w * scale))
    grow = ink_growth(grey, scale)
    ink = torch.from_numpy(np.ascontiguousarray(1.0 - grey, dtype=np.float32))[None, None]
    if grow > 0:
        k = 2 * grow + 1  # a square max filter, separable
        ink = F.max_pool2d(F.max_pool2d(ink, (1, k), stride=1, padding=(0, grow)), (k, 1), stride=1, padding=(grow, 0))
    if (hs, ws) != (h, w):
        ink = F.interpolate(ink, size=(hs, ws), mode="area")
    return 1.0 - 2.0 * ink.clamp(0, 1)


def hint_planes(fill: np.ndarray, covered: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """Hints spread over their regions (``regions.hint_fill``) as the model's hint planes at
    ``size`` (h, w): 1x4xhxw, RGB x mask in [-1, 1] and the mask (1 hinted, -1 not), by area."""
    m = torch.from_numpy(covered.astype(np.float32))[None, None]
    rgb = torch.from_numpy(np.ascontiguousarray(fill.transpose(2, 0, 1), dtype=np.float32))[None] * 2 - 1
    planes = torch.cat([rgb * m, m], 1)
    if tuple(planes.shape[-2:]) != tuple(size):
        planes = F.interpolate(planes, size=size, mode="area")
    return torch.cat([planes[:, :3], planes[:, 3:] * 2 - 1], 1)


def colourise(model: nn.Module, grey: np.ndarray, hints: tuple[np.ndarray, np.ndarray] | None = None, *,
              strength: float = 1.0, seed: int = 0, ctx: Any = None, region_hints: bool = False,
              shading: float | None = None, smooth: bool = True) -> np.ndarray:
    """Colour a sketch (HxW grey, 1 = paper) of any size with a 5-channel sketch model.

    1. The drawing is brought to the line scale the model learned (``regions.working_scale``,
       ``shrink_sketch``).
    2. The model runs there in windows of its training crop (128 px, overlapping, blended):
       it never sees a picture larger than the ones it learned from.
    3. Its colours are low-passed inside each region the lines close at the working scale
       (``region_smooth``; ``smooth``), so a region never changes colour where one window's
       guess meets the next: empty paper gets one even tone instead of square patches.
       They are brought back to the canvas size (bicubic).
    4. Hints (RGB, mask) are spread inside the regions the lines close (``regions.hint_fill``).
       A model trained on such spread hints (``region_hints``: card extra ``hint_input``
       "regions") colours and shades the hinted regions in a second pass; another model's
       hinted regions get the spread colour with ``shading`` of its own light and shade.
       ``strength`` blends them over the hint-free colours. Regions without a hint keep the
       hint-free pass, so no hint ever reaches across a closed line.
    5. The drawing's own lines are laid on top at full resolution (multiplied)."""
    h, w = grey.shape
    scale = working_scale(grey)
    sketch = shrink_sketch(grey, scale)
    hs, ws = sketch.shape[-2:]
    p = next(iter(model.parameters()))

    def colours(planes: torch.Tensor) -> np.ndarray:
        cond = torch.cat([sketch, planes], 1).to(device=p.device, dtype=p.dtype)
        with torch.inference_mode(), _dropout(model, seed):
            y = _run_windows(model, cond, ctx)
        col = _binomial(((y.float().cpu() + 1) / 2).clamp(0, 1))
        if smooth:
            col = region_smooth(col, sketch)
        if (hs, ws) != (h, w):
            col = F.interpolate(col, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)
        return col[0].permute(1, 2, 0).numpy().astype(np.float32)

    if ctx is not None:
        ctx.progress(0.0, f"Colouring the sketch at {ws}x{hs} (its line scale)")
    out = colours(torch.cat([torch.zeros(1, 3, hs, ws), -torch.ones(1, 1, hs, ws)], 1))
    if hints is not None and strength > 0:
        rgb, mask = hints
        fill, covered, regions = hint_fill(grey, rgb, mask)
        if covered.any():
            if region_hints:
                hinted = colours(hint_planes(fill, covered, (hs, ws)))
            else:
                k = SHADING if shading is None else shading
                lum = out.mean(axis=2)
                lab = np.where(covered, regions, -1).ravel()
                keep = lab >= 0
                n = int(lab.max()) + 1
                count = np.bincount(lab[keep], minlength=n)
                mean = np.bincount(lab[keep], weights=lum.ravel()[keep], minlength=n) / np.maximum(count, 1)
                shade = (lum.ravel() - mean[np.maximum(lab, 0)]).reshape(h, w)
                hinted = np.clip(fill + k * shade[..., None], 0, 1)
            out = np.where(covered[..., None], strength * hinted + (1 - strength) * out, out)
    # the drawing's lines, sharp at any size: dark strokes laid over the colours (a pixel a stroke
    # covers by a share a has grey 1 - a and becomes (1 - a) x colour)
    out = out * grey[..., None]
    if ctx is not None:
        ctx.progress(1.0, "Coloured")
    return np.ascontiguousarray(out.clip(0, 1), dtype=np.float32)


def region_smooth(col: torch.Tensor, sketch: torch.Tensor, sigma: float = REGION_SIGMA) -> torch.Tensor:
    """The colours (1x3xhxw in [0, 1]) low-passed inside each region the sketch's lines close
    (sketch 1x1xhxw in [-1, 1], lines below ``LINE_LEVEL``): a Gaussian of ``sigma`` px
    normalised by the region's own mask, so no colour crosses a line and a region's colour
    varies only slowly (the windows' separate guesses do not show as patches). Regions no
    larger than ``sigma`` take their mean; line pixels take the mean of the smoothed
    colours around them (the lines are drawn over them later)."""
    grey = ((sketch[0, 0].float().cpu() + 1) / 2).numpy()
    regions = label_regions(grey >= LINE_LEVEL)
    if int(regions.max(initial=-1)) < 0:
        return col
    h, w = grey.shape
    c = col[0].float().clone()
    flat = regions.ravel()
    keep = flat >= 0
    n = int(flat.max()) + 1
    count = np.bincount(flat[keep], minlength=n).astype(np.float64)
    src = c.reshape(3, -1).numpy()
    mean = np.stack([np.bincount(flat[keep], weights=src[k][keep], minlength=n) for k in range(3)], 1)
    mean /= np.maximum(count, 1)[:, None]
    out = np.zeros((3, h * w), np.float32)
    out[:, keep] = mean[flat[keep]].T
    yy, xx = np.nonzero(regions >= 0)
    lab = regions[yy, xx]
    y0, y1 = np.full(n, h), np.full(n, -1)
    x0, x1 = np.full(n, w), np.full(n, -1)
    np.minimum.at(y0, lab, yy)
    np.maximum.at(y1, lab, yy)
    np.minimum.at(x0, lab, xx)
    np.maximum.at(x1, lab, xx)
    rad = max(1, int(3 * sigma))
    g = gaussian_taps(sigma, rad)
    out3 = out.reshape(3, h, w)
    for r in np.nonzero(np.maximum(y1 - y0, x1 - x0) + 1 > sigma)[0]:
        sl = (slice(int(y0[r]), int(y1[r]) + 1), slice(int(x0[r]), int(x1[r]) + 1))
        m = torch.from_numpy((regions[sl] == r).astype(np.float32))[None, None]
        x = torch.cat([c[(slice(None),) + sl][None] * m, m], 1)
        x = separable(x, g, "zeros")  # a normalised convolution: values * mask and mask alike
        sm = (x[0, :3] / x[0, 3:].clamp_min(1e-6)).numpy()
        mk = m[0, 0].numpy() > 0
        out3[(slice(None),) + sl][:, mk] = sm[:, mk]
    # line pixels: the mean of the smoothed paper colours within a few pixels
    paper = torch.from_numpy((regions >= 0).astype(np.float32))[None, None]
    field = torch.from_numpy(out3)[None]
    num, den = F.avg_pool2d(field * paper, 5, 1, 2), F.avg_pool2d(paper, 5, 1, 2)
    for _ in range(64):
        if bool((den > 0).all()):
            break
        num, den = F.avg_pool2d(num, 5, 1, 2), F.avg_pool2d(den, 5, 1, 2)
    fill = (num / den.clamp_min(1e-12))[0]
    res = torch.where(paper[0].bool(), field[0], fill)
    return res[None].clamp(0, 1).to(col.dtype)


def _binomial(x: torch.Tensor) -> torch.Tensor:
    """A [1, 2, 2, 2, 1] / 8 filter along both axes (edges repeated): no response at periods of
    2 and 4 px, so it removes the transposed convolutions' checkerboards of the working picture
    exactly, which bringing the colours back to a large canvas would otherwise enlarge into a
    visible lattice (seen at 2048 px before it)."""
    c = x.shape[1]
    k = torch.tensor([1.0, 2.0, 2.0, 2.0, 1.0], dtype=x.dtype) / 8
    x = F.conv2d(F.pad(x, (2, 2, 0, 0), mode="replicate"), k.view(1, 1, 1, 5).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(F.pad(x, (0, 0, 2, 2), mode="replicate"), k.view(1, 1, 5, 1).repeat(c, 1, 1, 1), groups=c)


def _run_windows(model: nn.Module, cond: torch.Tensor, ctx: Any) -> torch.Tensor:
    """The model on a 1x5xHxW input in windows of its training crop (rounded up to its size
    multiple), padded with paper/no hint to at least one window, overlaps blended."""
    from ganpaint.engine.inference.tiling import cancel_checks, plan_tiles, run_tiled

    m = int(getattr(model, "size_multiple", 1))
    win = -(-TRAIN_SIDE // m) * m
    h, w = cond.shape[-2:]
    ph, pw = max(0, win - h), max(0, win - w)
    top, left = ph // 2, pw // 2
    if ph or pw:
        pad = torch.cat([torch.ones_like(cond[:, :1]), torch.zeros_like(cond[:, 1:4]), -torch.ones_like(cond[:, 4:])], 1)
        big = pad[:, :, :1, :1].expand(1, cond.shape[1], h + ph, w + pw).clone()
        big[:, :, top : top + h, left : left + w] = cond
        cond = big
    plan = plan_tiles(cond.shape[-2], cond.shape[-1], win, radius=win // 8, blend=win // 4)
    model.eval()
    with cancel_checks(model, ctx):
        y = run_tiled(model, cond, plan, model, ctx=ctx)
    return y[:, :, top : top + h, left : left + w]


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
    from ganpaint.engine.inference.backends import select_runner
    from ganpaint.engine.inference.tiling import run_full_resolution

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
