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
