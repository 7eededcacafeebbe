"""Seed thumbnails for StyleGAN2 tools (style mixing, face sliders): the picture each seed gives.

Named by those tools' seed parameters as ``thumbnails="ganpaint.latent.stylegan_thumbnails:thumbnails"``
with ``thumbnail_params=("model", "psi")``. Runs in a worker (see ganpaint.engine.jobs.thumbnails).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ganpaint.latent.stylegan_tools import load_generator
from ganpaint.nn import stylegan_sampling as S

__all__ = ["thumbnails"]


def thumbnails(params: Mapping[str, Any], seeds: Sequence[int], size: int, ctx: Any) -> list[np.ndarray]:
    """The pictures of ``seeds`` as the tools generate them (the same z per seed, truncation
    ``params["psi"]``, the generator's stored noise), in one batch, shrunk to ``size`` pixels
    (a generator smaller than that gives its own size). ``params["model"]`` empty = the first
    StyleGAN2 model of the tool (``ctx.tool_id``); a clear ToolError when there is none."""
    ld = load_generator(ctx, str(params.get("model") or ""), str(getattr(ctx, "tool_id", "") or ""))
    G = ld.G
    psi = float(params.get("psi", 1.0))
    if not seeds:
        return []
    with torch.inference_mode():
        z = torch.cat([S.sample_z(G, 1, int(s)) for s in seeds])
        w = S.z_to_w(G, z)
        if psi != 1.0:
            w = S.truncate(w, S.w_avg(G), psi)
        images = S.synthesize(G, w, noise="const").float().clamp(-1, 1)
        if images.shape[-1] > size:  # a box filter: every output pixel the mean of its area
            images = F.interpolate(images, size=(size, size), mode="area")
        return list(S.to_pictures(images))
