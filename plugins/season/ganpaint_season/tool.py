"""The Season transfer tool's code (imported on first use, in a worker: it loads torch).

    check the model is an RGB image-to-image pair -> fill fully transparent pixels
    -> "Keep the picture" on (the default): ganpaint_season.structure runs the generator at
       its own scale and lays only its colour/light change onto the picture (snow where
       surfaces face up for winter; the change confined to vegetation for summer);
       off: translate_array on the whole picture (or tiles with whole-picture norm
       statistics above the memory budget), the network's raw output
    -> blend with the original by ``strength``.

The last translation is kept (one entry), so moving the live strength slider only
re-blends instead of running the network again.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any

import numpy as np

from ganpaint.core.specs import RunContext, ToolError, ToolRequest, ToolResult
from ganpaint.engine.inference.translate import translate_array
from ganpaint.engine.models.cards import ModelCard, ModelFileError
from ganpaint.engine.models.loading import read_card
from ganpaint.engine.models.model_cache import default_cache
from ganpaint_season import DEFAULT_MODEL, DIRECTIONS, TOOL_ID
from ganpaint_season.structure import summer_to_winter, winter_to_summer

#: architectures that map a picture to a picture of the same size
IMAGE_TO_IMAGE = ("resnet_generator", "unet_generator")
#: alpha below this counts as fully transparent (its RGB carries no picture)
TRANSPARENT = 1.0 / 255.0

_last_lock = threading.Lock()
_last: tuple[tuple[Any, ...], np.ndarray] | None = None


def run(request: ToolRequest, ctx: RunContext) -> ToolResult:
    p: dict[str, Any] = dict(request.params)
    name = str(p.get("model") or DEFAULT_MODEL)
    direction = str(p.get("direction") or "summer_to_winter")
    strength = float(p.get("strength", 1.0))
    keep = bool(p.get("keep_picture", True))
    if direction not in DIRECTIONS:
        raise ToolError(f"Season: unknown direction {direction!r} (expected {' or '.join(DIRECTIONS)})")
    if not 0.0 <= strength <= 1.0:
        raise ToolError(f"Season: strength {strength} is outside 0..1")
    component = DIRECTIONS[direction]

    image = np.asarray(request.image, dtype=np.float32)
    h, w = image.shape[:2]
    alpha = None if request.alpha is None else np.asarray(request.alpha, dtype=np.float32)
    path = ctx.model_path(name, TOOL_ID)
    card = check_model(name, path, component)
    metadata = {
        "model": name, "model_version": card.version, "model_sha256": card.sha256,
        "direction": direction, "component": component, "strength": strength, "keep_picture": keep,
    }
    result_name = f"{request.source_name} ({direction.replace('_', ' ')})" if request.source_name else "Season"
    out_alpha = None if alpha is None else alpha.copy()
    if strength == 0.0:  # nothing to blend in: the picture as it was (no model run)
        return ToolResult(image=image.copy(), alpha=out_alpha, name=result_name, metadata=metadata)
    if alpha is not None and not (alpha >= TRANSPARENT).any():
        raise ToolError(f"Season: the picture ({w}x{h}) is fully transparent; there is nothing to change")

    x = _fill_transparent(image, alpha)
    translated = _translate_cached(path, component, x, ctx, keep)
    out = translated if strength == 1.0 else image * (1.0 - strength) + translated * strength
    return ToolResult(image=np.clip(out, 0.0, 1.0).astype(np.float32, copy=False), alpha=out_alpha,
                      name=result_name, metadata=metadata)


def check_model(name: str, path: str, component: str) -> ModelCard:
    """The card of ``path`` if it is an RGB -> RGB generator with ``component``; else ToolError."""
    try:
        card = read_card(path)
    except ModelFileError as exc:
        raise ToolError(f"Season: {exc}") from None
    cfg = dict(card.config)
    if card.architecture not in IMAGE_TO_IMAGE or cfg.get("in_channels", 3) != 3 or cfg.get("out_channels", 3) != 3:
        raise ToolError(
            f"Season: model {name!r} is a {card.architecture} model for the {card.tool!r} tool, not a "
            f"picture-to-picture generator. Choose a season pair such as {DEFAULT_MODEL!r} (or import "
            "summer2winter.pth winter2summer.pth with --tool season)."
        )
    if card.components and component not in card.components:
        raise ToolError(
            f"Season: model {name!r} has only the {' and '.join(card.components)} generator, so it cannot "
            f"run {'winter to summer' if component == 'reverse' else 'summer to winter'}. Import both files "
            "of a CycleGAN pair (summer2winter.pth winter2summer.pth) to get both directions."
        )
    if not card.components and component != "forward":
        raise ToolError(f"Season: model {name!r} holds one generator only; it cannot run winter to summer")
    return card


def _fill_transparent(image: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Fully transparent pixels get the mean colour of the visible ones: their stored RGB
    is arbitrary (often black) and would otherwise skew the instance-norm statistics."""
    if alpha is None:
        return image
    hidden = alpha < TRANSPARENT
    if not hidden.any():
        return image
    out = image.copy()
    out[hidden] = image[~hidden].mean(axis=0)
    return out


def _translate_cached(path: str, component: str, x: np.ndarray, ctx: RunContext, keep: bool = True) -> np.ndarray:
    global _last
    st = os.stat(path)
    digest = hashlib.blake2b(np.ascontiguousarray(x).data, digest_size=16).hexdigest()
    key = (os.path.realpath(path), st.st_mtime_ns, st.st_size, component, str(ctx.device), x.shape, digest, keep)
    with _last_lock:
        if _last is not None and _last[0] == key:
            return _last[1]
    try:
        model = default_cache().get(path, component=component, device=ctx.device, ctx=ctx)
    except ModelFileError as exc:
        raise ToolError(f"Season: {exc}") from None
    if keep:
        how = summer_to_winter if component == "forward" else winter_to_summer
        out = how(x, lambda small: translate_array(model, small, ctx=ctx, mode="eval"))
    else:
        out = translate_array(model, x, ctx=ctx, mode="eval")
    out.setflags(write=False)  # shared with later runs through the cache
    with _last_lock:
        _last = (key, out)
    return out
