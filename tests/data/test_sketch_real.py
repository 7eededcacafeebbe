"""The sketch-real dataset (issue 17, what users draw): Canny and XDoG edge maps of photo
crops, split by whole photo, and only clip-art whose line art is its own strokes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganpaint.data.build import build, canny_lines
from ganpaint.data.sources import Sources


def test_canny_lines_are_thin_dark_lines_on_white() -> None:
    pytest.importorskip("cv2")
    img = np.full((64, 64, 3), 0.8, np.float32)
    img[16:48, 16:48] = (0.1, 0.2, 0.7)
    lines = canny_lines(img)
    assert lines.shape == (64, 64) and lines.dtype == np.float32
    assert set(np.unique(lines)) <= {0.0, 1.0}
    assert lines[30, 30] == 1.0 and lines[2, 2] == 1.0  # flat inside and outside: paper
    assert (lines[14:18, 30] == 0).any() and (lines[30, 46:50] == 0).any()  # the square's sides: ink
    assert (lines == 0).mean() < 0.1


def test_sketch_real_pairs_edge_maps_and_stroke_drawings(tmp_path: Path, fake_sources: Sources) -> None:
    pytest.importorskip("cairosvg")
    pytest.importorskip("cv2")
    res = build("sketch-real", tmp_path / "r", count=100, size=48, sources=fake_sources)
    out, m = res.out_dir, res.manifest
    for split in ("train", "test"):
        a = sorted(p.name for p in (out / split / "A").glob("*.png"))
        assert a == sorted(p.name for p in (out / split / "B").glob("*.png"))
    photos = sorted(p.name for p in (out / "train" / "A").glob("photo-*.png"))
    assert photos and {n.rsplit("-", 1)[1] for n in photos} == {"canny.png", "xdog.png"}
    canny = np.asarray(Image.open(out / "train" / "A" / next(n for n in photos if n.endswith("canny.png"))).convert("L"))
    assert canny.min() == 0 and np.median(canny) == 255
    # the flat-filled box (no stroke) gives no pair: its line art would come from colour edges
    clips = [e for e in m.entries if e.source == "test:svg"]
    assert clips and not any(e.origin.endswith("box.svg") for e in clips)
    assert any(e["origin"].endswith("box.svg") and "no strokes" in e["reason"] for e in m.excluded)
    test_ids = {k for k, v in m.split.items() if v == "test"}
    for p in (out / "train" / "A").glob("photo-*.png"):  # whole photos held out
        assert not any(p.name.startswith("photo-" + t.replace("/", "-") + "-") for t in test_ids)
