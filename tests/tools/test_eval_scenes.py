"""tools/eval_scenes.py: issue 17's scenes figures (layout diversity, inversion vs a 16 px thumbnail)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganpaint.nn.stylegan2 import Generator, StyleGAN2Config

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    name = "eval_scenes_under_test"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "eval_scenes.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


def _photo(path: Path, w: int, h: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(path)
    return path


def test_thumbnail_baseline_keeps_flat_pictures_and_loses_fine_detail() -> None:
    T = _tool()
    flat = np.full((1, 64, 64, 3), 0.4, np.float32)
    assert np.abs(T.thumbnail_baseline(flat) - flat).max() < 1 / 255 + 1e-6
    yy, xx = np.mgrid[0:64, 0:64]
    checker = (((yy + xx) % 2).astype(np.float32)[None, :, :, None]).repeat(3, -1)
    back = T.thumbnail_baseline(checker)
    assert back.shape == checker.shape and np.abs(back - 0.5).max() < 0.02  # a 1 px pattern averages out


def test_photo_crops_are_seeded_squares_of_every_photo(tmp_path: Path) -> None:
    T = _tool()
    photos = [("a/one", _photo(tmp_path / "one.png", 300, 200, 1)), ("b/two", _photo(tmp_path / "two.png", 120, 160, 2))]
    crops, names = T.photo_crops(photos, 3, 32, seed=5)
    again, _ = T.photo_crops(photos, 3, 32, seed=5)
    other, _ = T.photo_crops(photos, 3, 32, seed=6)
    assert crops.shape == (6, 32, 32, 3) and crops.dtype == np.float32 and 0 <= crops.min() and crops.max() <= 1
    assert names == ["a/one#0", "a/one#1", "a/one#2", "b/two#0", "b/two#1", "b/two#2"]
    assert np.array_equal(crops, again) and not np.array_equal(crops, other)


def test_layout_figure_tells_a_collapsed_generator_from_the_data(tmp_path: Path) -> None:
    """The samples' 8x8 thumbnail spread against the data's: a generator whose pictures barely
    differ scores far below the target, the data against itself scores about 1."""
    T = _tool()
    torch.manual_seed(0)
    G = Generator(StyleGAN2Config(size=16, style_dim=16, n_mlp=2, channels=(16, 16, 8))).eval()
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, (64, 16, 16, 3), dtype=np.uint8)
    with torch.no_grad():  # collapse it: the last layer's output bias is all that is left
        for name, p in G.named_parameters():
            if "to_rgb" in name and "bias" not in name:
                p.mul_(1e-4)
    fig = T.layout_figures(G, data, 64, 0)
    assert fig["thumb8_data"] > 1.0 and fig["thumb8_ratio"] < T.LAYOUT_TARGET / 5
    pics_like_data = rng.integers(0, 256, (64, 16, 16, 3), dtype=np.uint8)
    C = T.C
    ratio = C.mean_pairwise(C.thumbs(pics_like_data)) / C.mean_pairwise(C.thumbs(data))
    assert ratio == pytest.approx(1.0, abs=0.05)


def test_main_writes_the_table_for_a_model_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    T = _tool()
    torch.manual_seed(0)
    G = Generator(StyleGAN2Config(size=16, style_dim=16, n_mlp=2, channels=(16, 16, 8))).eval()
    ckpt = tmp_path / "g.pt"
    data = tmp_path / "data"
    data.mkdir()
    for i in range(8):
        _photo(data / f"{i}.png", 16, 16, i)
    photos = [("x/p", _photo(tmp_path / "p.png", 80, 60, 9))]
    monkeypatch.setattr(T, "held_out_photos", lambda cache=None: photos)

    class Loaded:
        label = "tiny"

    Loaded.G = G
    monkeypatch.setattr(T.E, "load_generator", lambda ref: Loaded)
    out = tmp_path / "rep.json"
    sheet, mixes = tmp_path / "sheet.png", tmp_path / "mixes.png"
    assert T.main(["--model", str(ckpt), "--data", str(data), "--n", "8", "--crops", "2", "--steps", "3",
                   "--tune", "30", "--out", str(out), "--sheet", str(sheet), "--mix-sheet", str(mixes),
                   "--label", "tiny"]) == 0
    rep = json.loads(out.read_text())
    row = rep["models"][str(ckpt)]
    assert rep["crops"] == ["x/p#0", "x/p#1"] and len(rep["thumbnail_psnr"]) == 2
    assert len(row["invert_psnr"]) == 2 and 0 <= row["beats_thumbnail"] <= 2 and row["thumb8_ratio"] > 0
    assert "| tiny (W+) |" in rep["table"] and "16 px thumbnail (baseline)" in rep["table"]
    # detail matching: reported beside the inversion alone, and closer to each crop
    assert row["tune_steps"] == 30 and len(row["tuned_psnr"]) == 2
    assert all(t > w for t, w in zip(row["tuned_psnr"], row["invert_psnr"], strict=True))
    assert "| tiny (W+ and 30 tuning steps) |" in rep["table"]
    assert sheet.is_file() and mixes.is_file()


def test_structure_figure_ignores_palette_and_sees_where_things_are() -> None:
    """Two pictures with the same horizon in different colours have the same structure
    thumbnail; moving the horizon changes it."""
    T = _tool()
    a = np.zeros((1, 32, 32, 3), np.uint8)
    a[0, :12] = (90, 140, 230)  # sky
    a[0, 12:] = (40, 120, 30)  # grass
    b = (255 - a).astype(np.uint8)[:, :, :, ::-1].copy()  # another palette, same layout ...
    b[0, :12], b[0, 12:] = (250, 200, 120), (90, 60, 20)  # ... sky brighter than ground, as in a
    c = np.zeros_like(a)
    c[0, :24] = (90, 140, 230)
    c[0, 24:] = (40, 120, 30)  # the horizon lower down
    sa, sb, sc = (T.structure_thumbs(x) for x in (a, b, c))
    assert np.abs(sa - sb).max() < 1e-6
    assert np.abs(sa - sc).max() > 1.0
    assert np.allclose(T.structure_thumbs(np.full((1, 16, 16, 3), 77, np.uint8)), 0.0)
