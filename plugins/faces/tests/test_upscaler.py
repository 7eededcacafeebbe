"""The shipped faces-upscale-x4: registered for the upscale tool, read by spandrel, and better
than bicubic resizing on held-out face renders (the test indices of the faces data set)."""

from __future__ import annotations

from pathlib import Path

import ganpaint_faces
import numpy as np
import pytest

from ganpaint.testing.tool_scripts import load_tool_script


@pytest.fixture(scope="module")
def shipped() -> Path:
    if not ganpaint_faces.UPSCALER_FILE.is_file():
        pytest.skip("no faces upscaler in this checkout")
    return ganpaint_faces.UPSCALER_FILE


def test_registered_for_the_upscale_tool(shipped: Path) -> None:
    specs = {m.name: m for m in ganpaint_faces.ganpaint_register_models()}
    up = specs[ganpaint_faces.UPSCALER]
    assert up.tool == "upscale" and Path(up.path) == shipped and not up.default


def test_beats_bicubic_on_held_out_renders(shipped: Path) -> None:
    from ganpaint.engine.models.spandrel_models import load_spandrel, run_image

    T = load_tool_script("train_face_upscaler")
    desc = load_spandrel(shipped)
    assert int(desc.scale) == 4 and desc.architecture.id == "Compact"
    ours, bicubic = [], []
    for i in range(T.N_TRAIN_INDICES, T.N_TRAIN_INDICES + 6):  # never trained on
        lo_u8, hi_u8 = T.render_pair(i)
        lo, hi = lo_u8.astype(np.float32) / 255, hi_u8.astype(np.float32) / 255
        up = np.clip(run_image(desc, lo), 0, 1)
        assert up.shape == hi.shape == (256, 256, 3)
        ours.append(T.psnr(up, hi))
        bicubic.append(T.psnr(T.resize(lo, 256, "bicubic"), hi))
    assert np.mean(ours) > np.mean(bicubic) + 0.5, (ours, bicubic)


def test_the_default_face_is_enlarged_by_its_cards_upscaler(shipped: Path, isolated_data_dir: Path) -> None:
    """Sharper enlargement is on by default; the default model's card names Real-ESRGAN's
    animevideov3 first (not installed here) and the shipped faces-upscale-x4 second."""
    from ganpaint_faces.tool import run

    from ganpaint.core.specs import ToolRequest
    from ganpaint.latent.stylegan_tools import Loaded, card_upscaler
    from ganpaint.testing import RecordingContext

    model = ganpaint_faces.MODEL_FILE
    order = card_upscaler(Loaded(None, ganpaint_faces.DEFAULT_MODEL, "", str(model)))  # type: ignore[arg-type]
    assert ganpaint_faces.UPSCALER in order
    spec = ganpaint_faces.ganpaint_register_tools()[0]
    ctx = RecordingContext(models={(ganpaint_faces.DEFAULT_MODEL, "faces"): str(model),
                                   (ganpaint_faces.UPSCALER, "upscale"): str(shipped)})
    params = spec.resolve_params({"seed": 3})
    assert params["enlarge"] is True and params["model"] == ganpaint_faces.DEFAULT_MODEL
    big = run(ToolRequest(spec.id, {}, params, canvas=(192, 192)), ctx)
    plain = run(ToolRequest(spec.id, {}, {**params, "enlarge": False}, canvas=(192, 192)), ctx)
    assert big.metadata["upscaler"] == ganpaint_faces.UPSCALER and plain.metadata["upscaler"] == ""
    assert big.image.shape == plain.image.shape == (192, 192, 3)
    assert np.abs(big.image - plain.image).mean() > 1e-3  # the learned enlargement, not the resize
