"""The Inpaint tool's code (imported on first use, in a worker: it loads torch).

    crop around the hole with context -> zero the hole (and transparent pixels) so nothing
    that was there can reach the fill -> downscale to the working size when larger -> run
    the generator there -> scale only the fill back up -> every pixel under the mask takes
    the fill, every other pixel keeps its exact value.

The result is not composited by the tool: the host blends it with the original through
the mask (``toolio.result_pixels``), so a soft selection edge is honoured there, by the
selection's own softness, and nowhere else does the removed content come back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ganpaint.core.specs import RunContext, ToolError, ToolRequest, ToolResult
from ganpaint.engine.models.cards import ModelFileError
from ganpaint.engine.models.loading import read_card, register_architecture
from ganpaint.engine.models.model_cache import default_cache
from ganpaint.nn.inpaint import InpaintConfig, InpaintGenerator, inpaint_tensor
from ganpaint.nn.inpaint_guide import MISSING, guide_available
from ganpaint_inpaint import DEFAULT_MODEL, DEFAULT_TEXTURE, TOOL_ID
from ganpaint_inpaint.geometry import EPS, Box, context_box, grow_mask, inner_distance, push_pull

ARCHITECTURE = "inpaint_gated"
#: amplitude (in the model's [-1, 1] range) of the low-frequency noise that makes variations
VARIATION_NOISE = 0.25


def _build(config: dict[str, Any]) -> InpaintGenerator:
    return InpaintGenerator(InpaintConfig.from_dict(config))


register_architecture(ARCHITECTURE, _build)


def run(request: ToolRequest, ctx: RunContext) -> ToolResult:
    p: dict[str, Any] = dict(request.params)
    name = str(p.get("model") or DEFAULT_MODEL)
    seed = int(p.get("seed") or 0)
    context = float(p.get("context") or 1.0)
    work_size = max(16, int(p.get("work_size") or 512))
    grow = max(0, int(p.get("grow") or 0))
    texture = min(2.0, max(0.0, float(p.get("texture", DEFAULT_TEXTURE) or 0.0)))

    image = np.asarray(request.image, dtype=np.float32)
    h, w = image.shape[:2]
    mask = request.mask
    if mask is None or not (np.asarray(mask) > EPS).any():
        raise ToolError("Inpaint: the mask is empty. Select the area to fill (or paint it on a mask layer) first.")
    mask = np.asarray(mask, dtype=np.float32)
    alpha = None if request.alpha is None else np.asarray(request.alpha, dtype=np.float32)
    if grow:  # the halo of the removed object goes too; nothing beyond the grown area is read as hole
        grown = grow_mask(mask, grow)
        left = grown <= EPS if alpha is None else (grown <= EPS) & (alpha >= 0.5)
        if left.any():
            mask = grown
        else:  # growing would leave nothing to fill from (a tiny picture): fill the area as given
            grow = 0
    hole = mask > EPS
    # transparent pixels have no meaningful colour: the model does not fill from them
    valid = ~hole if alpha is None else (~hole & (alpha >= 0.5))
    if not valid.any():
        what = "the whole picture" if alpha is None or bool(hole.all()) else "every opaque pixel"
        raise ToolError(
            f"Inpaint: the mask covers {what} ({w}x{h}), so nothing is left to fill from. "
            "Select only what should be replaced."
        )

    model, card = _load(name, ctx)
    ctx.progress(0.1, "Inpainting")
    box = context_box(hole, valid, context)
    if isinstance(model, InpaintGenerator):
        fill = _fill_crop(model, image[box.slices], valid[box.slices], work_size, seed, ctx, texture)
    else:  # a LaMa-class model read by spandrel: same crop, mask and compositing
        fill = _fill_crop_spandrel(model, image[box.slices], valid[box.slices], work_size, seed)
    ctx.progress(0.9, "Pasting")

    out = image.copy()
    region = out[box.slices]  # a view: writes go into out
    h_crop = hole[box.slices]
    region[h_crop] = fill[h_crop]  # the whole hole, at full weight (the host applies soft edges)
    out_alpha = None if alpha is None else _fill_alpha(alpha, hole, box)
    if grow:
        # the host blends through the mask it gave, which the halo is outside of: blend here
        # through the grown mask instead (its soft edge included); beyond it, exact originals
        m = mask[..., None]
        out = np.where(m > 0, out * m + image * (1.0 - m), image).astype(np.float32)
        if out_alpha is not None and alpha is not None:
            out_alpha = np.where(mask > 0, out_alpha * mask + alpha * (1.0 - mask), alpha).astype(np.float32)
    ctx.progress(1.0, "Done")
    notes = {}
    if isinstance(model, InpaintGenerator) and not guide_available(model.config.guide):
        # the model runs on its push-pull stage alone: a smoother fill than it was trained for
        notes["note"] = f"filled without the model's {model.config.guide.upper()} guide: {MISSING}"
    return ToolResult(
        image=out,
        alpha=out_alpha,
        composited=bool(grow),
        name=f"{request.source_name} (inpainted)" if request.source_name else "Inpaint",
        metadata={
            "model": name,
            "model_version": card.version,
            "model_sha256": card.sha256,
            "seed": seed,
            "context": context,
            "work_size": work_size,
            "grow": grow,
            "texture": texture,
            "box": [box.x0, box.y0, box.width, box.height],
            **notes,
        },
    )


def _load(name: str, ctx: RunContext) -> tuple[Any, Any]:
    """Our generator, or the spandrel descriptor of an imported LaMa-class model."""
    from ganpaint.engine.models.spandrel_models import is_spandrel_card, load_spandrel

    path = ctx.model_path(name, TOOL_ID)
    try:
        card = read_card(path)
        if is_spandrel_card(card) and card.tool == TOOL_ID:
            desc = load_spandrel(path, ctx.device, ctx=ctx)
            if str(desc.purpose) != "Inpainting":
                raise ToolError(f"Inpaint: model {name!r} is a {desc.purpose} model, not an inpainting model")
            return desc, card
        if card.architecture != ARCHITECTURE or card.tool != TOOL_ID:
            raise ToolError(
                f"Inpaint: model {name!r} is a {card.tool!r} model ({card.architecture}), not an inpainting "
                f"model. Choose an inpainting model such as {DEFAULT_MODEL!r}."
            )
        model = default_cache().get(path, component="forward", device=ctx.device, ctx=ctx)
    except ModelFileError as exc:
        raise ToolError(f"Inpaint: {exc}") from None
    if not isinstance(model, InpaintGenerator):
        raise ToolError(f"Inpaint: model {name!r} did not load as an inpainting generator")
    return model, card


def _fill_crop(
    model: InpaintGenerator, crop: np.ndarray, valid: np.ndarray, work_size: int, seed: int, ctx: RunContext,
    texture: float = 0.0,
) -> np.ndarray:
    """The model's picture for ``crop`` (H, W, 3 in [0, 1]) at full crop size, made from
    the ``valid`` pixels only (the others are zeroed first, so what the hole held cannot
    reach it); only its hole pixels are used. Runs at ``work_size`` when the crop is larger."""
    ch, cw = crop.shape[:2]
    device = torch.device(ctx.device)
    known = torch.from_numpy(valid.astype(np.float32))[None, None].to(device)
    x = (torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1)))[None].to(device) * 2 - 1) * known
    scale = min(1.0, work_size / max(ch, cw))
    if scale < 1.0:
        sh, sw = max(1, round(ch * scale)), max(1, round(cw * scale))
        xs = F.interpolate(x, size=(sh, sw), mode="area")
        ks = F.interpolate(known, size=(sh, sw), mode="area")
        xs = xs / ks.clamp_min(1e-6)          # average of the known pixels only
        hole_s = (ks < 0.999).float()         # any unknown pixel under it: let the model paint it
    else:
        sh, sw = ch, cw
        xs, hole_s = x, 1 - known
    noise = _variation_noise(seed, sh, sw, device) if seed else None
    flip = seed % 2 == 1
    with torch.inference_mode():
        xi, hi, ni = xs, hole_s, noise
        if flip:  # the network is not mirror-symmetric: a flipped run is another plausible fill
            xi, hi = xi.flip(-1), hi.flip(-1)
            ni = None if ni is None else ni.flip(-1)
        # pad to the network's multiple here, picture AND hole in the same mode, so a padded
        # pixel is a copy of a real pixel with that pixel's own known/unknown flag
        m = model.size_multiple
        xi, hi = _pad_to_multiple(xi, m), _pad_to_multiple(hi, m)
        ni = None if ni is None else _pad_to_multiple(ni, m)
        ctx.progress(0.3, "Inpainting")
        y = inpaint_tensor(model, xi.to(next(model.parameters()).dtype), hi, ni, texture).float()[..., :sh, :sw]
        if flip:
            y = y.flip(-1)
        if scale < 1.0:
            y = F.interpolate(y, size=(ch, cw), mode="bicubic", align_corners=False)
    out = ((y[0].clamp(-1, 1) + 1) / 2).permute(1, 2, 0).cpu().numpy()
    return np.ascontiguousarray(out, dtype=np.float32)


def _fill_crop_spandrel(desc: Any, crop: np.ndarray, valid: np.ndarray, work_size: int, seed: int) -> np.ndarray:
    """:func:`_fill_crop` for a LaMa-class model (spandrel): the unknown pixels are zeroed
    and marked 1 in its mask; runs at ``work_size`` when the crop is larger; an odd seed
    runs it mirrored (another plausible fill)."""
    from ganpaint.engine.models.spandrel_models import run_masked

    ch, cw = crop.shape[:2]
    known = valid.astype(np.float32)
    x = crop * known[..., None]
    scale = min(1.0, work_size / max(ch, cw))
    if scale < 1.0:
        sh, sw = max(1, round(ch * scale)), max(1, round(cw * scale))
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]
        kt = torch.from_numpy(known)[None, None]
        xs = F.interpolate(xt, size=(sh, sw), mode="area")
        ks = F.interpolate(kt, size=(sh, sw), mode="area")
        x = (xs / ks.clamp_min(1e-6))[0].permute(1, 2, 0).numpy()
        hole = (ks[0, 0] < 0.999).numpy()
    else:
        hole = known < 0.5
    if seed % 2 == 1:
        x, hole = x[:, ::-1], hole[:, ::-1]
    y = run_masked(desc, np.ascontiguousarray(x), np.ascontiguousarray(hole))
    if seed % 2 == 1:
        y = y[:, ::-1]
    if scale < 1.0:
        yt = torch.from_numpy(np.ascontiguousarray(y.transpose(2, 0, 1)))[None]
        y = F.interpolate(yt, size=(ch, cw), mode="bicubic", align_corners=False)[0].permute(1, 2, 0).numpy()
    return np.ascontiguousarray(np.clip(y, 0.0, 1.0), dtype=np.float32)


def _pad_to_multiple(t: torch.Tensor, m: int) -> torch.Tensor:
    """Pad (B, C, H, W) at the bottom and right up to multiples of ``m``: reflect, or
    replicate when the picture is too small to reflect."""
    h, w = t.shape[-2:]
    ph, pw = (-h) % m, (-w) % m
    if not (ph or pw):
        return t
    return F.pad(t, (0, pw, 0, ph), mode="reflect" if h > ph and w > pw else "replicate")


def _variation_noise(seed: int, h: int, w: int, device: torch.device) -> torch.Tensor:
    """Seeded low-frequency noise (structure-sized blobs, not pixel grain)."""
    gen = torch.Generator().manual_seed(int(seed))
    small = torch.randn(1, 3, max(1, h // 8), max(1, w // 8), generator=gen)
    return (F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False) * VARIATION_NOISE).to(device)


def _fill_alpha(alpha: np.ndarray, hole: np.ndarray, box: Box) -> np.ndarray:
    """Alpha inside the hole continues the alpha just around it (a hole in an opaque object
    becomes fully opaque, whatever alpha the hole had: an erased area included); outside
    the mask it is unchanged. The hole's own alpha is never read."""
    h = hole[box.slices]
    a = np.where(h, np.float32(0.0), alpha[box.slices])
    d = inner_distance(~h, 3)  # distances capped at 3: 1 and 2 = the ring the hole continues
    filled = np.clip(push_pull(a, ((d > 0) & (d < 3)).astype(np.float32)), 0.0, 1.0)
    out = alpha.copy()
    out[box.slices] = np.where(h, filled, a)
    return out
