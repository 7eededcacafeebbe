"""tools/eval_inpaint.py's hole kinds and edge strength (issue 16, point 2: figures per hole
kind on the held-out photos), and tools/train_inpaint.py end to end on a tiny data folder."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _tiny_data(tmp_path: Path, *, size: int, count: int, seed: int, x_mul: int, y_mul: int) -> Path:
    """A data folder laid out like `ganpaint data build inpaint`'s, with ``count`` striped noisy
    training pictures per kind (picture i: x * (i + x_mul), y * y_mul, noise) and empty test folders."""
    rng = np.random.default_rng(seed)
    data = tmp_path / "data"
    for sub in ("train/photo", "train/scene", "test/images", "test/masks"):
        (data / sub).mkdir(parents=True)
    yy, xx = np.mgrid[0:size, 0:size]
    for i in range(count):
        for sub in ("train/photo", "train/scene"):
            pic = np.stack([(xx * (i + x_mul)) % 256, (yy * y_mul) % 256, rng.integers(0, 256, (size, size))], 2)
            Image.fromarray(pic.astype(np.uint8)).save(data / sub / f"p{i}.png")
    return data


@pytest.fixture(scope="module")
def ev():
    return _load("eval_inpaint")


def test_mask_kind_tells_boxes_from_strokes(ev):
    from ganpaint.data.masks import box_mask, random_mask, stroke_mask

    for seed in range(40):
        rng = np.random.default_rng(seed)
        assert ev.mask_kind(box_mask(rng, 256)) == "boxes"
        assert ev.mask_kind(stroke_mask(rng, 256)) == "free-form"
    # the builder's test masks (random_mask picks the kind itself): each is one of the two
    kinds = {ev.mask_kind(random_mask(np.random.default_rng(s), 256)) for s in range(30)}
    assert kinds == {"boxes", "free-form"}


def test_edge_strength_is_zero_on_flat_and_sobel_on_a_step(ev):
    hole = np.ones((16, 16), np.float32)
    assert ev.edge_strength(np.full((16, 16, 3), 0.4), hole) == 0.0
    step = np.zeros((16, 16, 3))
    step[:, 8:] = 1.0
    e = ev.edge_strength(step, hole)
    # two columns each side of the step see 1 + 2 + 1 = 4 times 255 levels; 16 columns in all
    assert e == pytest.approx(2 * 4 * 255 / 16)
    only_flat = np.zeros((16, 16), np.float32)
    only_flat[:, :4] = 1
    assert ev.edge_strength(step, only_flat) == 0.0  # judged over the hole only


def test_train_inpaint_runs_and_writes_a_curve_and_snapshots(tmp_path, monkeypatch):
    data = _tiny_data(tmp_path, size=64, count=3, seed=0, x_mul=1, y_mul=3)
    yy, xx = np.mgrid[0:64, 0:64]
    box = np.zeros((64, 64), np.uint8)
    box[20:40, 10:30] = 255
    stroke = np.zeros((64, 64), np.uint8)
    for k in range(40):
        stroke[10 + k, 10 + k // 2:16 + k // 2] = 255
    for name, m in (("photo-a-000.png", box), ("photo-b-000.png", stroke)):
        Image.fromarray(np.stack([xx * 4 % 256, yy * 4 % 256, xx * 0 + 90], 2).astype(np.uint8)).save(data / "test/images" / name)
        Image.fromarray(m).save(data / "test/masks" / name)
    tr = _load("train_inpaint")
    out = tmp_path / "run"
    assert tr.main(["--data", str(data), "--out", str(out), "--steps", "3", "--batch", "2", "--crop", "32",
                    "--eval-every", "0"]) == 0
    lines = [json.loads(x) for x in (out / "curve.jsonl").read_text().splitlines()]
    base = lines[0]["baselines"]
    assert set(base["telea"]) == {"boxes", "free-form"}
    assert base["truth_edge"]["boxes"]["edge"] > 0
    steps = [x["step"] for x in lines[1:]]
    assert steps[-1] == 3 and steps == sorted(steps)
    snap = out / "snap-000003.safetensors"
    from ganpaint.engine.models.loading import read_card

    assert read_card(snap).architecture == "inpaint_gated"


def test_guided_run_from_a_precomputed_pool(tmp_path):
    """tools/inpaint_pool.py makes (picture, hole, FSR fill) samples; tools/train_inpaint.py --pool
    --guide fsr widens the shipped generator's first layer and trains a guided one from them."""
    from ganpaint.nn.inpaint_guide import guide_available

    if not guide_available("fsr"):
        pytest.skip("opencv-contrib (cv2.xphoto) is not installed")
    data = _tiny_data(tmp_path, size=96, count=2, seed=1, x_mul=2, y_mul=5)
    yy, xx = np.mgrid[0:96, 0:96]
    box = np.zeros((96, 96), np.uint8)
    box[30:60, 20:50] = 255
    Image.fromarray(np.stack([xx * 2 % 256, yy * 2 % 256, xx * 0 + 90], 2).astype(np.uint8)).save(
        data / "test/images" / "photo-a-000.png")
    Image.fromarray(box).save(data / "test/masks" / "photo-a-000.png")
    pool = tmp_path / "pool.npz"
    assert _load("inpaint_pool").main(["--data", str(data), "--out", str(pool), "--count", "3", "--seed", "2"]) == 0
    z = np.load(pool)
    assert z["x"].shape == (3, 160, 160, 3) and z["m"].shape == (3, 160, 160) and z["g"].shape == z["x"].shape
    hole = z["m"].astype(bool)
    assert 0.08 <= hole.mean() <= 0.4 and np.array_equal(z["g"][~hole], z["x"][~hole])
    out = tmp_path / "run"
    tr = _load("train_inpaint")
    assert tr.main(["--data", str(data), "--out", str(out), "--steps", "2", "--batch", "2", "--eval-every", "0",
                    "--pool", str(pool), "--guide", "fsr"]) == 0
    lines = [json.loads(x) for x in (out / "curve.jsonl").read_text().splitlines()]
    assert "first stage" in lines[0]["baselines"]
    from ganpaint.engine.models.loading import read_card

    assert read_card(out / "snap-000002.safetensors").config["guide"] == "fsr"


def test_widen_first_layer_keeps_the_old_channels():
    import torch

    tr = _load("train_inpaint")
    old = {"forward.e1.conv.weight": torch.randn(8, 5, 5, 5), "forward.out.bias": torch.zeros(3)}
    own = {"e1.conv.weight": torch.empty(8, 8, 5, 5)}
    wide = tr.widen_first_layer(old, own)["forward.e1.conv.weight"]
    assert wide.shape == (8, 8, 5, 5)
    assert torch.equal(wide[:, :5], old["forward.e1.conv.weight"]) and not wide[:, 5:].any()
    assert tr.widen_first_layer(old, {"e1.conv.weight": torch.empty(8, 5, 5, 5)}) == old


def test_texture_study_reads_only_training_photos_and_applies_its_rule(ev, tmp_path):
    data = _tiny_data(tmp_path, size=64, count=4, seed=2, x_mul=2, y_mul=5)
    for sub in ("test/images", "test/masks"):
        (data / sub).rmdir()
    (data / "test").rmdir()  # no held-out split at all: the study must not need one
    from ganpaint_inpaint import MODEL_FILE

    rep = ev.texture_study(data, str(MODEL_FILE), count=4, seed=3)
    assert len(rep["settings"]) == len(ev.STUDY_RAMPS) * len(ev.STUDY_AMOUNTS) ** 2
    for v in rep["settings"].values():
        for kind in ("strokes", "boxes"):
            assert np.isfinite(v[kind]["psnr_change_db"]) and v[kind]["edge_share"] > 0
    # more detail, more edge: the largest amounts beat Texture 0 on the striped noise
    top = rep["settings"]["8-20 1/1"]
    assert all(top[k]["edge_share"] > rep["texture_0_edge_share"][k] for k in ("strokes", "boxes"))
    # in the grid's order: on a tie the first setting wins
    ok = [k for k, v in rep["settings"].items() if min(v["strokes"]["edge_share"], v["boxes"]["edge_share"]) >= 0.5]
    if ok:
        loss = {k: rep["settings"][k]["strokes"]["psnr_change_db"] + rep["settings"][k]["boxes"]["psnr_change_db"]
                for k in ok}
        assert rep["pick"] == max(ok, key=loss.__getitem__)
    else:
        assert rep["pick"] is None
