"""The seed grid of the face sliders: the StyleGAN2 thumbnails, the face the tool starts from."""

from __future__ import annotations

import numpy as np
from ganpaint_faces import ganpaint_register_tools
from ganpaint_faces.tool import run

from ganpaint.core.specs import ToolRequest
from ganpaint.engine.jobs.thumbnails import ThumbnailContext, load_thumbnail_function, thumbnail_params
from ganpaint.testing import RecordingContext

SPEC = ganpaint_register_tools()[0]
TINY = "tiny-gan"


def test_the_seed_has_the_stylegan_grid(ctx: RecordingContext) -> None:
    p = SPEC.param("seed")
    assert p.thumbnails == "ganpaint.latent.stylegan_thumbnails:thumbnails"
    assert thumbnail_params(SPEC, p, SPEC.default_params()).keys() == {"model", "psi"}  # not the sliders
    pic = load_thumbnail_function(p.thumbnails)({"model": TINY, "psi": 0.7}, [4], 16,
                                                ThumbnailContext(ctx, SPEC.id))[0]
    params = SPEC.resolve_params({"model": TINY, "seed": 4, "psi": 0.7, "size": 16})
    face = run(ToolRequest(SPEC.id, {}, params, canvas=(16, 16)), ctx).image
    assert np.abs(pic - face).max() < 1e-4
