"""A contact sheet of built datasets (docs/images/data-samples.png).

    python -m ganpaint.data.preview docs/images/data-samples.png [CACHE_DATA_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

TILE = 128
COLS = 8


def _load(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB").resize((TILE, TILE), Image.Resampling.LANCZOS), np.uint8)


def _row(tiles: list[np.ndarray]) -> np.ndarray:
    tiles = (tiles + [np.full((TILE, TILE, 3), 255, np.uint8)] * COLS)[:COLS]
    return np.concatenate(tiles, axis=1)


def _pairs(a_dir: Path, b_dir: Path, n: int, prefix: str = "") -> list[np.ndarray]:
    names = sorted(p.name for p in a_dir.glob(f"{prefix}*.png") if (b_dir / p.name).exists())
    step = max(1, len(names) // max(1, n))
    out: list[np.ndarray] = []
    for name in names[::step][:n]:
        out += [_load(b_dir / name), _load(a_dir / name)]
    return out


def _masked(root: Path, n: int) -> list[np.ndarray]:
    names = sorted(p.name for p in (root / "test/masks").glob("*.png"))
    step = max(1, len(names) // max(1, n))
    out: list[np.ndarray] = []
    for name in names[::step][:n]:
        img = _load(root / "test/images" / name).astype(np.float32)
        mask = _load(root / "test/masks" / name)[..., :1].astype(np.float32) / 255.0
        out.append(img)
        out.append((img * (1 - mask) + np.array([255, 0, 255], np.float32) * mask).astype(np.uint8))
    return [t.astype(np.uint8) for t in out]


def contact_sheet(data_root: Path, out: Path) -> Path:
    blocks: list[tuple[str, list[np.ndarray]]] = []
    s = data_root / "seasons" / "test"
    if s.exists():
        pairs = _pairs(s / "winter", s / "summer", 8)
        blocks += [("seasons: the same scene in summer and winter (test pairs)", pairs[:8]), ("", pairs[8:16])]
    k = data_root / "sketch-pairs"
    if k.exists():
        blocks.append(("sketch-pairs: clip-art colour and its line art (strokes or colour edges)",
                       _pairs(k / "train/A", k / "train/B", 4, "clip-")))
        blocks.append(("sketch-pairs: photo crops and their XDoG line art",
                       _pairs(k / "train/A", k / "train/B", 4, "photo-")))
    i = data_root / "inpaint"
    if i.exists():
        blocks.append(("inpaint: held-out test pictures and their fixed masks (10-40 %)", _masked(i, 4)))
    rows = []
    for title, tiles in blocks:
        if title:
            band = Image.new("RGB", (TILE * COLS, 18), "white")
            ImageDraw.Draw(band).text((4, 3), title, fill="black")
            rows.append(np.asarray(band))
        rows.append(_row(tiles))
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(out, optimize=True)
    return out


if __name__ == "__main__":
    from ganpaint.core.paths import cache_dir

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/images/data-samples.png")
    root = Path(sys.argv[2]) if len(sys.argv) > 2 else cache_dir() / "data"
    print(contact_sheet(root, target))
