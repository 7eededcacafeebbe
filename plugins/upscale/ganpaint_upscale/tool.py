"""The Upscale, Restore faces and Restore tools' code (imported on first use, in a worker).

Upscale: transparent pixels get the colour of their visible neighbours (so no dark fringe
grows at alpha edges) -> the model at its native scale, in overlapping tiles
(``spandrel_models.run_image``) -> once more while the asked factor is above what was
reached (a x2 model for x4) -> Lanczos to the asked size. Alpha is enlarged with Lanczos
from the original. The host resizes the image to the result (``OutputMode.RESIZE``).

Restore faces: the selection's bounding box (or the whole picture) -> the model's input
size (square, at least its minimum) -> the model -> back to the box -> pasted; the host
blends it through the selection. Restore: the model over the picture, tiled, same size.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch
from PIL import Image

from ganpaint.core.specs import RunContext, ToolError, ToolRequest, ToolResult
from ganpaint.engine.models.cards import ModelCard, ModelFileError
from ganpaint.engine.models.loading import read_card
from ganpaint.engine.models.spandrel_models import load_spandrel, run_image
from ganpaint_upscale import DEFAULT_UPSCALER, HOW_TO_GET, RESTORE, RESTORE_FACES, UPSCALE

TITLES = {UPSCALE: "Upscale", RESTORE_FACES: "Restore faces", RESTORE: "Restore"}
#: alpha below this counts as fully transparent (its RGB carries no picture)
TRANSPARENT = 1.0 / 255.0
#: the largest result the upscaler makes, in pixels
MAX_RESULT_PIXELS = 250_000_000


# ----------------------------------------------------------------------------- models
def _installed(tool: str) -> list[str]:
    try:
        from ganpaint.engine.models.store import ModelStore

        return [e.name for e in ModelStore().list(tool=tool)]
    except Exception:  # noqa: BLE001 - only to pick a default
        return []


def _load(tool: str, name: str, ctx: RunContext) -> tuple[Any, ModelCard, str]:
    """(spandrel descriptor, card, name) of the chosen model, or ToolError in one sentence."""
    title = TITLES[tool]
    if not name or (name == DEFAULT_UPSCALER and tool == UPSCALE):
        try:
            path = ctx.model_path(name or "", tool) if name else ""
        except ToolError:
            path = ""
        if not path:
            others = _installed(tool)
            if not others:
                raise ToolError(f"{title}: no model is installed for this tool; {HOW_TO_GET[tool]}")
            name = others[0]
    try:
        path = ctx.model_path(name, tool)
    except ToolError as exc:
        raise ToolError(f"{title}: {exc}") from None
    try:
        card = read_card(path)
        desc = load_spandrel(path, ctx.device, ctx=ctx)
    except ModelFileError as exc:
        raise ToolError(f"{title}: {exc}") from None
    if tool != UPSCALE and int(desc.scale) != 1:
        raise ToolError(f"{title}: model {name!r} enlarges x{desc.scale}; choose it in the Upscale tool instead")
    if str(desc.purpose) == "Inpainting":
        raise ToolError(f"{title}: model {name!r} is an inpainting model; choose it in the Inpaint tool instead")
    return desc, card, name


def _autocast(desc: Any, ctx: RunContext) -> Any:
    """fp16 on CUDA in "fast" precision for models that support it; else nothing."""
    if str(ctx.device).startswith("cuda") and getattr(ctx, "precision", "full") == "fast" and desc.supports_half:
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return contextlib.nullcontext()


def _metadata(name: str, card: ModelCard, desc: Any, **more: Any) -> dict[str, Any]:
    return {"model": name, "model_version": card.version, "model_sha256": card.sha256,
            "architecture": str(desc.architecture.id), "native_scale": int(desc.scale), **more}


# ----------------------------------------------------------------------------- pixels
def resize(a: np.ndarray, width: int, height: int) -> np.ndarray:
    """Lanczos resize of (H, W) or (H, W, C) float32 (each channel as a float picture)."""
    if a.shape[1] == width and a.shape[0] == height:
        return a.astype(np.float32, copy=True)
    planes = a[..., None] if a.ndim == 2 else a
    out = np.stack([
        np.asarray(Image.fromarray(np.ascontiguousarray(planes[..., c], dtype=np.float32), "F")
                   .resize((width, height), Image.Resampling.LANCZOS), np.float32)
        for c in range(planes.shape[-1])
    ], axis=-1)
    return np.clip(out[..., 0] if a.ndim == 2 else out, 0.0, 1.0)


def fill_transparent(rgb: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Fully transparent pixels take the colour of the nearest visible ones (push-pull over a
    pyramid): their stored RGB is arbitrary, often black, and would bleed into the edges."""
    if alpha is None:
        return rgb
    seen = alpha >= TRANSPARENT
    if seen.all() or not seen.any():
        return rgb
    w = seen.astype(np.float32)
    levels: list[tuple[np.ndarray, np.ndarray]] = []
    c, m = rgb * w[..., None], w
    while True:
        levels.append((c, m))
        if max(c.shape[:2]) <= 1:
            break
        c, m = _half(c), _half(m)
    col = c / np.maximum(m, 1e-8)[..., None]
    for c, m in reversed(levels[:-1]):
        up = np.repeat(np.repeat(col, 2, axis=0), 2, axis=1)[: c.shape[0], : c.shape[1]]
        col = np.where((m > 1e-8)[..., None], c / np.maximum(m, 1e-8)[..., None], up)
    return np.where(seen[..., None], rgb, col).astype(np.float32)


def _half(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[:2]
    pad = [(0, h % 2), (0, w % 2)] + [(0, 0)] * (a.ndim - 2)
    a = np.pad(a, pad)
    return a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]


def target_size(w: int, h: int, factor: str, fit_w: int, fit_h: int, native: int) -> tuple[int, int, float]:
    """(width, height, scale) of the result."""
    if factor == "fit":
        if fit_w <= 0 and fit_h <= 0:
            raise ToolError("Upscale: with 'fit', give the width or the height to fit (or both)")
        sx = fit_w / w if fit_w > 0 else float("inf")
        sy = fit_h / h if fit_h > 0 else float("inf")
        s = min(sx, sy)
    elif factor == "native":
        s = float(native)
    else:
        try:
            s = float(factor)
        except ValueError:
            raise ToolError(f"Upscale: unknown factor {factor!r} (native, 2, 3, 4 or fit)") from None
    tw, th = max(1, round(w * s)), max(1, round(h * s))
    if tw * th > MAX_RESULT_PIXELS:
        raise ToolError(f"Upscale: the result would be {tw}x{th}, more than {MAX_RESULT_PIXELS // 1_000_000} "
                        "million pixels; choose a smaller factor or fit size")
    return tw, th, s


# ----------------------------------------------------------------------------- tools
def upscale(request: ToolRequest, ctx: RunContext) -> ToolResult:
    p: dict[str, Any] = dict(request.params)
    image = np.asarray(request.image, dtype=np.float32)
    h, w = image.shape[:2]
    alpha = None if request.alpha is None else np.asarray(request.alpha, dtype=np.float32)
    desc, card, name = _load(UPSCALE, str(p.get("model") or ""), ctx)
    native = max(1, int(desc.scale))
    factor = str(p.get("factor") or "native")
    tw, th, s = target_size(w, h, factor, int(p.get("width") or 0), int(p.get("height") or 0), native)
    tile = int(p.get("tile") or 0) or None
    x = fill_transparent(image, alpha)
    reached, passes = 1, 0
    with _autocast(desc, ctx):
        while native > 1 and (passes == 0 or (reached < s and passes < 3)):
            ctx.progress(0.0, f"Upscaling x{native} (pass {passes + 1})" if passes else f"Upscaling x{native}")
            x = run_image(desc, x, tile=tile, ctx=ctx)
            reached *= native
            passes += 1
        if native == 1:  # a 1x "SR" model: it sharpens, Lanczos enlarges
            x = run_image(desc, x, tile=tile, ctx=ctx)
            passes = 1
    ctx.progress(0.95, "Resizing")
    out = resize(x, tw, th)
    out_alpha = None if alpha is None else resize(alpha, tw, th)
    ctx.progress(1.0, "Done")
    return ToolResult(
        image=out, alpha=out_alpha,
        name=f"{request.source_name} (x{s:g})" if request.source_name else f"Upscale x{s:g}",
        metadata=_metadata(name, card, desc, factor=factor, scale=s, size=[tw, th], passes=passes),
    )


def restore(request: ToolRequest, ctx: RunContext) -> ToolResult:
    p: dict[str, Any] = dict(request.params)
    image = np.asarray(request.image, dtype=np.float32)
    alpha = None if request.alpha is None else np.asarray(request.alpha, dtype=np.float32)
    strength = float(p.get("strength", 1.0))
    desc, card, name = _load(RESTORE, str(p.get("model") or ""), ctx)
    box = _box(request.mask, image.shape[:2], margin=_margin(desc))
    y0, y1, x0, x1 = box
    crop = fill_transparent(image, alpha)[y0:y1, x0:x1]
    with _autocast(desc, ctx):
        fixed = run_image(desc, crop, tile=int(p.get("tile") or 0) or None, ctx=ctx)
    out = image.copy()
    out[y0:y1, x0:x1] = image[y0:y1, x0:x1] * (1 - strength) + fixed * strength
    return ToolResult(image=np.clip(out, 0, 1), name=f"{request.source_name} (restored)" if request.source_name
                      else "Restore", metadata=_metadata(name, card, desc, strength=strength, box=list(box)))


def restore_faces(request: ToolRequest, ctx: RunContext) -> ToolResult:
    p: dict[str, Any] = dict(request.params)
    image = np.asarray(request.image, dtype=np.float32)
    alpha = None if request.alpha is None else np.asarray(request.alpha, dtype=np.float32)
    strength = float(p.get("strength", 1.0))
    desc, card, name = _load(RESTORE_FACES, str(p.get("model") or ""), ctx)
    y0, y1, x0, x1 = _box(request.mask, image.shape[:2], margin=0)
    crop = fill_transparent(image, alpha)[y0:y1, x0:x1]
    ch, cw = crop.shape[:2]
    req = desc.size_requirements
    side = int(req.minimum) or max(64, ch, cw)  # GFPGAN/RestoreFormer: their 512 px
    side = -(-side // int(req.multiple_of)) * int(req.multiple_of)
    ctx.progress(0.1, "Restoring the face")
    with _autocast(desc, ctx):
        face = run_image(desc, resize(crop, side, side), tile=side, ctx=None)
    fixed = resize(face, cw, ch)
    out = image.copy()
    out[y0:y1, x0:x1] = image[y0:y1, x0:x1] * (1 - strength) + fixed * strength
    ctx.progress(1.0, "Done")
    where = "the selection" if request.mask is not None else "the whole picture (no selection; no face detector)"
    return ToolResult(image=np.clip(out, 0, 1),
                      name=f"{request.source_name} (face restored)" if request.source_name else "Restore faces",
                      metadata=_metadata(name, card, desc, strength=strength, box=[x0, y0, x1 - x0, y1 - y0],
                                         area=where))


def _margin(desc: Any) -> int:
    return 32


def _box(mask: np.ndarray | None, shape: tuple[int, ...], margin: int) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1): the selection's bounding box grown by ``margin``; the whole picture
    without a selection."""
    h, w = shape[:2]
    if mask is None:
        return 0, h, 0, w
    ys, xs = np.nonzero(np.asarray(mask) > 1e-3)
    if ys.size == 0:
        return 0, h, 0, w
    return (max(0, int(ys.min()) - margin), min(h, int(ys.max()) + 1 + margin),
            max(0, int(xs.min()) - margin), min(w, int(xs.max()) + 1 + margin))
