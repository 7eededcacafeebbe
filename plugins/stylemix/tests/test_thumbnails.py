"""The seed grid of Style mixing: both seeds name the StyleGAN2 thumbnails, and a seed's
picture is what the tool makes of that seed alone."""

from __future__ import annotations

import numpy as np
from ganpaint_stylemix import ganpaint_register_tools
from ganpaint_stylemix.tool import run

from ganpaint.core.specs import ToolRequest
from ganpaint.engine.jobs.thumbnails import ThumbnailContext, load_thumbnail_function, thumbnail_params
from ganpaint.testing import RecordingContext

SPEC = ganpaint_register_tools()[0]
TINY = "tiny-gan"


def test_both_seeds_have_the_stylegan_grid() -> None:
    for name in ("seed", "seed_b"):
        p = SPEC.param(name)
        assert p.thumbnails == "ganpaint.latent.stylegan_thumbnails:thumbnails"
        assert thumbnail_params(SPEC, p, SPEC.default_params()).keys() == {"model", "psi"}


def test_a_thumbnail_is_the_tools_picture_of_that_seed(ctx: RecordingContext) -> None:
    thumbs = load_thumbnail_function(SPEC.param("seed").thumbnails)
    pics = thumbs({"model": TINY, "psi": 0.7}, [5, 8], 16, ThumbnailContext(ctx, SPEC.id))

    def tool(**params) -> np.ndarray:  # type: ignore[no-untyped-def]
        p = SPEC.resolve_params({"model": TINY, "psi": 0.7, "size": 16, **params})
        return run(ToolRequest(SPEC.id, {}, p, canvas=(16, 16)), ctx).image

    assert np.abs(pics[0] - tool(seed=5, crossover=32, preset="custom")).max() < 1e-4  # all styles from A
    assert np.abs(pics[1] - tool(seed=0, seed_b=8, crossover=0, preset="custom")).max() < 1e-4  # all from B
