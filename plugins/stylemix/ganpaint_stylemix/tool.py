"""The Style mixing tool (runs in a worker; torch is imported here, not at discovery)."""

from __future__ import annotations

from typing import Any

import torch

from ganpaint.core.specs import RunContext, ToolRequest, ToolResult
from ganpaint.latent.stylegan_tools import (
    draft_metadata,
    draft_size,
    enlarge_for,
    load_generator,
    npy_bytes,
    pending_draft,
    place,
    read_latent_file,
    source_latent,
    stored_inversion,
)
from ganpaint.nn import stylegan_sampling as S

TOOL_ID = "stylemix"


def preset_range(n_styles: int, preset: str) -> tuple[int, int]:
    """The style inputs [start, stop) a preset takes from a StyleGAN2 B. FFHQ 1024 px (18
    inputs) has coarse 0-3 (4-8 px), middle 4-7 (16-32 px), fine 8-17; smaller generators
    scale that. (Any generator: ``S.style_groups(G)[preset]``; StyleGAN3 splits by its layers' bands.)"""
    b1, b2 = max(1, round(n_styles * 4 / 18)), max(2, round(n_styles * 8 / 18))
    return {"coarse": (0, b1), "middle": (b1, b2), "fine": (b2, n_styles)}[preset]


def mix_styles(G: Any, ws_a: torch.Tensor, ws_b: torch.Tensor, preset: str, crossover: int) -> torch.Tensor:
    if preset == "custom":
        return S.mix(G, ws_a, ws_b, crossover)
    lo, hi = S.style_groups(G)[preset]
    out = S.broadcast(G, ws_a).clone()
    out[:, lo:hi] = S.broadcast(G, ws_b)[:, lo:hi]
    return out


def run(request: ToolRequest, ctx: RunContext) -> ToolResult:
    p = request.params
    ld = load_generator(ctx, p["model"], TOOL_ID)
    G = ld.G
    ctx.progress(0.05, "source A")
    src = source_latent(ld, request, ctx, seed=p["seed"], z_file=p["z"], psi=p["psi"], mode=p["source"],
                        steps=p["steps"], noise=p["noise"], span=(0.05, 0.9),
                        tune_steps=int(p.get("tune", 0) or 0))
    if src.kind == "pending":  # a draft while the picture is not inverted yet
        return pending_draft(request, src)
    with torch.inference_mode():
        if p["z_b"]:
            kind, lat = read_latent_file(p["z_b"], G)
            ws_b = S.on_generator(G, lat) if kind == "latent" else S.broadcast(G, S.z_to_w(G, lat))
        else:
            ws_b = S.broadcast(G, S.z_to_w(G, S.sample_z(G, 1, p["seed_b"])))
        if p["psi"] != 1.0 and not (p["z_b"] and kind == "latent"):
            ws_b = S.truncate(ws_b, S.w_avg(G), p["psi"])
        ws = mix_styles(G, src.ws, ws_b, p["preset"], p["crossover"])
        ctx.progress(0.92, "synthesising")
        picture = S.to_pictures(S.synthesize(src.generator(G), ws, noise=p["noise"], seed=p["seed"],
                                             max_size=draft_size(G, request)))[0]
    upscaler = ""
    if p.get("enlarge"):
        picture, upscaler = enlarge_for(picture, request, p["size"], src.kind == "inverted", ctx)
    image, alpha = place(picture, request, p["size"], src.kind == "inverted")
    k = max(0, min(p["crossover"], G.n_styles))
    meta: dict[str, Any] = {"model": ld.name, "generator_sha256": ld.sha256, "source_a": src.kind,
                            **{f"a_{n}": v for n, v in src.info.items()}, "n_styles": G.n_styles,
                            "styles_from_b": list(range(k, G.n_styles)) if p["preset"] == "custom"
                            else list(range(*S.style_groups(G)[p["preset"]])),
                            "latent": "latent.npy", "upscaler": upscaler, **draft_metadata(G, request, src)}
    return ToolResult(image=image, alpha=alpha, name=f"Style mix ({ld.name})", metadata=meta,
                      attachments={**stored_inversion(src), "latent.npy": npy_bytes(ws), "latent_a.npy": npy_bytes(src.ws),
                                   "latent_b.npy": npy_bytes(ws_b)})
