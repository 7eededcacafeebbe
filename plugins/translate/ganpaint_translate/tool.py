"""The Translate tool's code (imported on first use, in a worker: it loads torch)."""

from __future__ import annotations

from typing import Any

from ganpaint.core.specs import RunContext, ToolError, ToolRequest, ToolResult
from ganpaint.engine.inference.translate import translate_array
from ganpaint.engine.models.cards import ModelFileError
from ganpaint.engine.models.loading import read_card
from ganpaint.engine.models.model_cache import default_cache

TOOL_ID = "translate"


def run(request: ToolRequest, ctx: RunContext) -> ToolResult:
    params: dict[str, Any] = dict(request.params)
    name = str(params.get("model") or "")
    direction = str(params.get("direction") or "forward")
    mode = str(params.get("mode") or "eval")
    seed = int(params.get("seed") or 0)
    path = ctx.model_path(name, TOOL_ID)
    try:
        card = read_card(path)
        if card.components and direction not in card.components:
            have = " and ".join(card.components)
            raise ToolError(
                f"model {name!r} has no {direction} generator (it has {have}); import a CycleGAN pair "
                "with two files to get both directions"
            )
        model = default_cache().get(path, component=direction, device=ctx.device, ctx=ctx)
    except ModelFileError as exc:
        raise ToolError(str(exc)) from None
    out = translate_array(model, request.image, ctx=ctx, mode=mode, seed=seed)  # type: ignore[arg-type]
    label = name if direction == "forward" else f"{name}, reverse"
    return ToolResult(
        image=out,
        name=f"{request.source_name or 'Layer'} ({label})" if request.source_name else f"Translate ({label})",
        metadata={
            "model": name,
            "model_version": card.version,
            "model_sha256": card.sha256,
            "architecture": card.architecture,
            "direction": direction,
            "mode": mode,
            "seed": seed,
        },
    )
