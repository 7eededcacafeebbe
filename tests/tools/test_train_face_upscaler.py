"""tools/train_face_upscaler.py end to end on a few pairs: data, training, judging, shipping."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ganpaint.testing.tool_scripts import load_tool_script  # noqa: E402

T = load_tool_script("train_face_upscaler")


def test_pairs_are_the_same_face_at_two_sizes() -> None:
    lo, hi = T.render_pair(3)
    assert lo.shape == (64, 64, 3) and hi.shape == (256, 256, 3)
    down = T.resize(hi.astype(np.float32) / 255, 64, "area")
    assert T.psnr(down, lo.astype(np.float32) / 255) > 25  # one drawing, two resolutions


def test_degrade_keeps_range_and_shape() -> None:
    x = torch.rand(8, 3, 16, 16)
    y = T.degrade(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    assert not torch.equal(y, x)  # most pictures are degraded


def test_data_train_eval_ship(tmp_path: Path) -> None:
    from ganpaint.engine.models.cards import card_of_file
    from ganpaint.engine.models.spandrel_models import load_spandrel

    T.main(["data", "--out", str(tmp_path / "d"), "--n", "4"])
    pairs = np.load(tmp_path / "d" / "pairs.npz")
    assert pairs["lo"].shape == (4, 64, 64, 3) and int(pairs["indices"].max()) < T.N_TRAIN_INDICES
    ckpt = tmp_path / "ck.safetensors"
    T.main(["train", "--data", str(tmp_path / "d"), "--out", str(ckpt), "--steps", "3", "--batch", "2",
            "--crop", "8", "--feat", "8", "--conv", "2"])
    rep = T.cmd_eval(T.build_parser().parse_args(["eval", "--model", str(ckpt), "--n", "2",
                                                  "--out", str(tmp_path / "ev.json")]))
    assert set(rep["methods"]) == {"bicubic", "lanczos", "ck"} and rep["indices"][0] == T.N_TRAIN_INDICES
    T.main(["ship", "--model", str(ckpt), "--eval", str(tmp_path / "ev.json"), "--command", "cmd",
            "--out-dir", str(tmp_path / "ship")])
    shipped = tmp_path / "ship" / f"{T.NAME}.safetensors"
    card = card_of_file(shipped)
    assert card.tool == "upscale" and card.training_command == "cmd" and "heldout_render_psnr128" in card.metrics
    assert int(load_spandrel(shipped).scale) == 4
    assert json.loads(Path(str(shipped) + ".card.json").read_text())["sha256"] == card.sha256
