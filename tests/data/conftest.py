"""Generated stand-ins for the Debian/PyPI sources: a few photos and SVGs in tmp."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganpaint.data.manifest import SourceRecord
from ganpaint.data.photos import Photo
from ganpaint.data.sources import Sources, list_clipart

SVGS = {
    "ball.svg": '<circle cx="50" cy="50" r="35" fill="#e03020" stroke="#000" stroke-width="3"/>',
    "box.svg": '<rect x="15" y="20" width="70" height="60" fill="#2060d0"/>',
    "house.svg": '<path d="M20 80 L20 45 L50 20 L80 45 L80 80 Z" fill="#f0c040" stroke="#402000" '
                 'stroke-width="4"/>',
    "leaf.svg": '<ellipse cx="50" cy="50" rx="40" ry="20" fill="#30a040" stroke="#103010" stroke-width="2"/>',
}


def make_sources(root: Path, n_photos: int = 6, clipart: bool = True) -> Sources:
    rng = np.random.default_rng(0)
    photos = []
    for i in range(n_photos):
        yy, xx = np.mgrid[:180, :240] / 240.0
        img = np.stack([xx, yy, 0.5 + 0.4 * np.sin(6 * xx + i)], -1) + rng.normal(0, 0.03, (180, 240, 3))
        img[40:100, 60 + 10 * i:140 + 10 * i] = rng.uniform(0, 1, 3)  # an object with edges
        p = root / "photos" / f"photo{i}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(p)
        photos.append(Photo(f"test/photo{i}", p, f"Author {i}", "CC0-1.0", "test:photos 1", f"/photos/photo{i}.png",
                            landscape=i % 2 == 0))
    src = Sources(photos=photos, records=[SourceRecord("test:photos", "folder", "1")])
    if clipart:
        d = root / "svg"
        d.mkdir(parents=True, exist_ok=True)
        for name, body in SVGS.items():
            (d / name).write_text(f'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">{body}</svg>')
        (d / "copy-of-ball.svg").write_bytes((d / "ball.svg").read_bytes())  # duplicates are kept once
        src.clipart = list_clipart(d, "test:svg", prefix="/svg")
        src.records.append(SourceRecord("test:svg", "folder", "1"))
    return src


@pytest.fixture
def fake_sources(tmp_path: Path) -> Sources:
    return make_sources(tmp_path / "src")
