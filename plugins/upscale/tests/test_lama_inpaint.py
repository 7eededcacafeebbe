"""The Inpaint tool runs a LaMa-class model (read by spandrel) through its own crop, mask and
compositing path when such a model is chosen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from ganpaint_inpaint import ganpaint_register_tools
from ganpaint_inpaint.tool import run

from ganpaint.core.toolio import result_pixels, validate_result
from ganpaint.engine.models import spandrel_models as sm
from ganpaint.engine.models.store import ModelStore
from ganpaint.testing import RecordingContext, make_request


@pytest.fixture(scope="module")
def lama_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sm.import_spandrel()
    from spandrel.architectures.LaMa import LaMa

    torch.manual_seed(0)
    sd = LaMa(in_nc=4, out_nc=3).state_dict()  # big-lama's shape, random weights
    desc = sm.detect(sd)
    card = sm.card_for(desc, name="tiny-lama")
    assert card.tool == "inpaint" and card.architecture == "spandrel:LaMa"
    store = ModelStore(tmp_path_factory.mktemp("lama-store"), include_resources=False)
    return store.add(sd, card, "tiny-lama").path


def test_inpaint_dispatches_to_lama(lama_path: Path) -> None:
    spec = ganpaint_register_tools()[0]
    rng = np.random.default_rng(0)
    image = rng.random((48, 56, 3), dtype=np.float32)
    mask = np.zeros((48, 56), np.float32)
    mask[16:30, 20:36] = 1.0
    ctx = RecordingContext(models={("tiny-lama", "inpaint"): str(lama_path)})
    # grow 0: this test checks the exact area; "Grow area" has tests of its own (plugins/inpaint)
    req = make_request(image, spec=spec, params={"model": "tiny-lama", "grow": 0}, mask=mask)
    res = validate_result(req, run(req, ctx))
    hole = mask > 0
    assert np.array_equal(res.image[~hole], image[~hole])  # outside the area: exactly the original
    assert np.isfinite(res.image).all() and np.abs(res.image[hole] - image[hole]).mean() > 0.01
    rgba = result_pixels(req, res)  # the host's compositing through the mask
    assert rgba.shape == (48, 56, 4) and res.metadata["model"] == "tiny-lama"
