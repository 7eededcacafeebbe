"""Tiles of a spandrel model must see all of its receptive field, and be as large as memory allows.

The vector is an SRVGGNetCompact (BasicSR layout) whose every convolution copies its input one
pixel to the left, so each output pixel is exactly the input 62 px to its right (plus the
upsampled input): a tile whose inner edge throws away less than 62 px gets the wrong pixels
there (the cap was 48 px before; realesrgan-x4plus's measured influence reaches about 80 px).
"""

from __future__ import annotations

import numpy as np
import torch

from ganpaint.engine.inference.tiling import receptive_radius
from ganpaint.engine.models import spandrel_models as sm

NUM_CONV = 60  # + first and last convolution: 62 one-pixel steps


def shifting_compact_sd(num_conv: int = NUM_CONV, nf: int = 3, scale: int = 2) -> dict[str, torch.Tensor]:
    sd: dict[str, torch.Tensor] = {}
    for i in range(num_conv + 1):
        w = torch.zeros(nf, 3 if i == 0 else nf, 3, 3)
        for c in range(3):
            w[c, c, 1, 2] = 1.0  # out(y, x) = in(y, x + 1)
        sd[f"body.{2 * i}.weight"] = w
        sd[f"body.{2 * i}.bias"] = torch.zeros(nf)
        sd[f"body.{2 * i + 1}.weight"] = torch.ones(nf)  # PReLU slope 1: identity
    last = torch.zeros(3 * scale * scale, nf, 3, 3)
    for c in range(3):
        last[c * scale * scale : (c + 1) * scale * scale, c, 1, 2] = 0.3
    sd[f"body.{2 * (num_conv + 1)}.weight"] = last
    sd[f"body.{2 * (num_conv + 1)}.bias"] = torch.zeros(3 * scale * scale)
    return sd


def test_tiles_keep_a_receptive_field_wider_than_48_px() -> None:
    desc = sm.detect(shifting_compact_sd())
    assert receptive_radius(desc.model) == NUM_CONV + 2
    rgb = np.random.default_rng(0).random((20, 400, 3), dtype=np.float32) * 0.7
    whole = sm.run_image(desc, rgb, tile=4096)
    x = np.arange(400)
    want = rgb + 0.3 * np.where((x + NUM_CONV + 2 < 400)[None, :, None], np.roll(rgb, -(NUM_CONV + 2), axis=1), 0)
    np.testing.assert_allclose(whole[::2, ::2], want, atol=1e-6)  # the vector does what it says
    tiled = sm.run_image(desc, rgb, tile=16)
    assert np.abs(tiled - whole).max() < 1e-5


def test_tiling_really_happens_and_uses_the_whole_radius() -> None:
    from ganpaint.testing import RecordingContext

    desc = sm.detect(shifting_compact_sd())
    rgb = np.random.default_rng(1).random((12, 400, 3), dtype=np.float32) * 0.7
    ctx = RecordingContext()
    sm.run_image(desc, rgb, tile=16, ctx=ctx)
    assert any(m.startswith("Tile 2 of") for _, m in ctx.calls)  # 400 px wide: more than one tile
    assert sm._context(desc) == NUM_CONV + 2


def test_auto_tile_follows_the_networks_memory() -> None:
    small = sm.detect(shifting_compact_sd(num_conv=4, nf=3))
    wide = sm.detect(shifting_compact_sd(num_conv=4, nf=48))
    assert sm.bytes_per_pixel(small) < sm.bytes_per_pixel(wide)
    assert sm.auto_tile(small) >= sm.auto_tile(wide)
