"""The .ora writer's PNG encoder (issue 12, point 4: a background save must not hold the GIL):
numpy filtering + zlib, no Pillow encoder; the files read back exactly, with their profile."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ganpaint.core import ora


@pytest.mark.parametrize("shape", [(1, 1), (37, 53), (128, 3)])
def test_png_round_trip(shape) -> None:
    rng = np.random.default_rng(sum(shape))
    rgba = rng.integers(0, 256, (*shape, 4), dtype=np.uint8)
    data = ora._png(rgba, None, 6)
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        assert im.format == "PNG" and im.mode == "RGBA"
        np.testing.assert_array_equal(np.asarray(im), rgba)
        assert "icc_profile" not in im.info


def test_png_carries_the_profile_and_compresses() -> None:
    icc = bytes(range(256)) * 3
    flat = np.zeros((300, 400, 4), np.uint8)
    flat[..., 0] = np.arange(400, dtype=np.uint8)[None, :]
    flat[..., 3] = 255
    data = ora._png(flat, icc, 6)
    assert len(data) < flat.nbytes // 50  # a gradient deflates well with the Up filter
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        assert im.info["icc_profile"] == icc
        np.testing.assert_array_equal(np.asarray(im), flat)


def test_png_does_not_use_pillows_encoder(monkeypatch) -> None:
    """Pillow's PNG encoder holds the GIL for every output block: not on the save path."""
    def refuse(*a, **k):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("Pillow's encoder was used")

    monkeypatch.setattr(Image.Image, "save", refuse)
    rgba = np.full((20, 30, 4), 7, np.uint8)
    ora._png(rgba, b"icc", 6)
