"""The Face attribute sliders tool (runs in a worker; torch is imported here)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganpaint.core.specs import RunContext, ToolError, ToolRequest, ToolResult
from ganpaint.engine.models.cards import ModelFileError
from ganpaint.engine.models.directions import DirectionSet
from ganpaint.latent.stylegan_tools import (
    card_upscaler,
    draft_metadata,
    draft_size,
    enlarge_for,
    load_generator,
    model_directions,
    npy_bytes,
    pending_draft,
    place,
    source_latent,
    stored_inversion,
)
from ganpaint.nn import stylegan_sampling as S
from ganpaint_faces import SLIDERS, TOOL_ID


def apply_sliders(ws: torch.Tensor, ds: DirectionSet | None, amounts: dict[str, float], model: str) -> torch.Tensor:
    """ws + sum(amount * scale * direction) over the non-zero sliders (on the style inputs the
    direction names, default all). A non-zero slider without a direction is a ToolError."""
    moved = [n for n, a in amounts.items() if a != 0.0]
    missing = [n for n in moved if ds is None or n not in ds.vectors]
    withheld = [n for n in missing if ds is not None and n in ds.withheld]
    if withheld:
        assert ds is not None
        raise ToolError("; ".join(f"model {model!r} ships no {n} slider (it failed the rule a slider must "
                                  f"meet: {ds.withheld[n]})" for n in withheld)
                        + f" (`ganpaint directions compute --model {model}` computes every slider anyway)")
    if missing:
        have = ", ".join(sorted(ds.vectors)) if ds is not None and ds.vectors else "none"
        raise ToolError(
            f"model {model!r} has no direction for {', '.join(missing)} (its directions: {have}); compute "
            f"them with `ganpaint directions compute --model {model}` or import one with "
            f"`ganpaint directions import FILE --for {model} --as {missing[0]}`")
    out = ws.clone()
    for name in moved:
        assert ds is not None
        d = torch.from_numpy(ds.vectors[name]).to(out)
        lo, hi = ds.info[name].get("layers", [0, out.shape[1]])
        out[:, lo:hi] += amounts[name] * ds.scale(name) * d
    return out


def run(request: ToolRequest, ctx: RunContext) -> ToolResult:
    p = request.params
    ld = load_generator(ctx, p["model"], TOOL_ID)
    G = ld.G
    amounts = {n: float(p[n]) for n in SLIDERS}
    other = str(p.get("direction") or "").strip()
    if other and float(p.get("amount") or 0.0):
        amounts[other] = amounts.get(other, 0.0) + float(p["amount"])
    try:
        ds = model_directions(ld)
    except ModelFileError as exc:  # another generator's directions, or a damaged file
        if any(amounts.values()):
            raise ToolError(str(exc)) from None
        ds = None
    ctx.progress(0.05, "latent")
    src = source_latent(ld, request, ctx, seed=p["seed"], z_file=p["z"], psi=p["psi"], mode=p["source"],
                        steps=p["steps"], noise=p["noise"], span=(0.05, 0.9),
                        tune_steps=int(p.get("tune", 0) or 0))
    if src.kind == "pending":  # a draft while the picture is not inverted yet
        return pending_draft(request, src)
    ws = apply_sliders(src.ws, ds, amounts, ld.name)
    with torch.inference_mode():
        ctx.progress(0.92, "synthesising")
        picture = S.to_pictures(S.synthesize(src.generator(G), ws, noise=p["noise"], seed=p["seed"],
                                             max_size=draft_size(G, request)))[0]
    upscaler = ""
    if p.get("enlarge"):
        picture, upscaler = enlarge_for(picture, request, p["size"], src.kind == "inverted", ctx,
                                        prefer=card_upscaler(ld))
    image, alpha = place(picture, request, p["size"], src.kind == "inverted")
    meta: dict[str, Any] = {"model": ld.name, "generator_sha256": ld.sha256, "source": src.kind,
                            **{f"source_{n}": v for n, v in src.info.items()},
                            "sliders": {n: a for n, a in amounts.items() if a}, "latent": "latent.npy", "upscaler": upscaler,
                            **draft_metadata(G, request, src)}
    return ToolResult(image=np.ascontiguousarray(image), alpha=alpha, name=f"Face ({ld.name})", metadata=meta,
                      attachments={"latent.npy": npy_bytes(ws), "latent_source.npy": npy_bytes(src.ws),
                                   **stored_inversion(src)})
