"""`ganpaint train` end to end on tiny models (GANPAINT_DATA_DIR = tmp_path)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from ganpaint.cli.main import main

TINY = ["--set", "ngf=4", "--set", "ndf=4", "--set", "num_downs=5", "--size", "32", "--no-progress"]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "gp-data"
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(root))
    monkeypatch.setenv("GANPAINT_DEVICE", "cpu")
    return root


def _entry(name: str):
    from ganpaint.engine.models.store import ModelStore

    return ModelStore().get(name)


def test_train_pix2pix_makes_a_store_entry(data_dir: Path, paired_dirs, capsys) -> None:
    a, b = paired_dirs
    (a / "junk.png").write_bytes(b"broken")
    rc = main(["train", "pix2pix", "--data", str(a), "--data-b", str(b), "--steps", "3", "--as", "tiny", *TINY])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "stored as tiny@1" in out and "skipped 1 unreadable file" in err
    entry = _entry("tiny")
    card = entry.card
    assert (card.architecture, card.tool, card.components) == ("unet_generator", "translate", ("forward",))
    assert card.config["ngf"] == 4 and card.config["num_downs"] == 5
    assert card.training_command.startswith("ganpaint train pix2pix --data ")
    assert "--steps 3 --as tiny" in card.training_command
    training = card.extra["training"]
    assert training["steps"] == 3 and training["data"]["pairs"] == 5 and training["data"]["skipped"] == 1
    assert training["time_s"] > 0 and set(training["final_losses"]) == {"G_gan", "G_L1", "D"}
    assert "l1" in card.metrics and [d["folder"] for d in card.training_data] == [str(a), str(b)]
    assert (data_dir / "runs" / "tiny" / "checkpoint.safetensors").is_file()

    # the stored model loads through the engine's loader and runs
    import torch

    from ganpaint.engine.models.loading import load_model

    g = load_model(entry.path)
    out = g(torch.zeros(1, 3, 32, 32))
    assert out.shape == (1, 3, 32, 32) and torch.isfinite(out).all()

    # continue the run to 5 steps: a new version of the model
    rc = main(["train", "pix2pix", "--resume", "tiny", "--steps", "5", "--no-progress"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "stored as tiny@2" in out
    assert _entry("tiny").card.extra["training"]["steps"] == 5

    # fine-tune from the stored model under another name (architecture taken from its card)
    rc = main(["train", "pix2pix", "--data", str(a), "--data-b", str(b), "--from", "tiny", "--steps", "1",
               "--as", "tuned", "--size", "32", "--no-progress"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert _entry("tuned").card.description.startswith("fine-tuned from tiny@2")


def test_train_cyclegan_stores_both_directions(data_dir: Path, paired_dirs, capsys) -> None:
    a, b = paired_dirs
    rc = main(["train", "cyclegan", "--data", str(a), "--data-b", str(b), "--steps", "2", "--as", "pair",
               "--set", "ngf=4", "--set", "ndf=4", "--set", "n_blocks=1", "--size", "32", "--bf16",
               "--no-progress"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    entry = _entry("pair")
    assert entry.card.components == ("forward", "reverse") and "cycle_l1" in entry.card.metrics
    from ganpaint.engine.models.loading import load_model

    assert load_model(entry.path, component="reverse").component == "reverse"


def test_empty_folder_is_one_line_and_exit_1(data_dir: Path, tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    rc = main(["train", "cyclegan", "--data", str(empty), "--data-b", str(empty), "--steps", "2", "--as", "x"])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.strip().count("\n") == 0 and "no readable pictures in" in err and str(empty) in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "colour=3"], "has no option 'colour'"),
        (["--set", "ngf=many"], "--set ngf=many"),
        (["--size", "33"], "multiple of 32"),
        (["--resume", "nothing-here"], "no training run 'nothing-here'"),
        (["--from", "unknown-model"], "no model named 'unknown-model'"),
    ],
)
def test_bad_arguments_are_one_line(data_dir: Path, paired_dirs, capsys, extra, message) -> None:
    a, b = paired_dirs
    rc = main(["train", "pix2pix", "--data", str(a), "--data-b", str(b), "--steps", "2", "--as", "x",
               "--set", "num_downs=5", *extra])
    err = capsys.readouterr().err
    assert rc == 1 and message in err and err.strip().count("\n") == 0, err


def test_existing_run_needs_resume(data_dir: Path, paired_dirs, capsys) -> None:
    a, b = paired_dirs
    args = ["train", "pix2pix", "--data", str(a), "--data-b", str(b), "--steps", "1", "--as", "r", *TINY]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 1
    assert "already holds a training run" in capsys.readouterr().err


def test_ctrl_c_writes_a_checkpoint_and_says_how_to_resume(
    data_dir: Path, paired_dirs, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ganpaint.cli.train as cli_train

    def press_ctrl_c(run: Path, step: int, samples) -> None:
        if step == 2:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(cli_train, "_save_samples", press_ctrl_c)
    a, b = paired_dirs
    rc = main(["train", "pix2pix", "--data", str(a), "--data-b", str(b), "--steps", "50", "--as", "stopme",
               "--sample-every", "1", *TINY])
    err = capsys.readouterr().err
    assert rc == 130
    assert "cancelled at step 2" in err and "--resume" in err
    run = data_dir / "runs" / "stopme"
    from ganpaint.train import load_checkpoint

    assert load_checkpoint(run).step == 2
    assert json.loads((run / "run.json").read_text())["name"] == "stopme"
    rc = main(["train", "pix2pix", "--resume", str(run), "--steps", "3", "--no-progress"])
    assert rc == 0


def test_unknown_recipe_lists_the_available_ones(data_dir: Path, paired_dirs, capsys) -> None:
    rc = main(["train", "gaugan", "--safe-mode", "--data", str(paired_dirs[0]), "--steps", "1", "--as", "x"])
    err = capsys.readouterr().err
    assert rc == 1 and "unknown recipe 'gaugan'" in err and "cyclegan" in err and "pix2pix" in err


def test_inpaint_recipe_rebuilds_a_stored_generator_from_its_card() -> None:
    from ganpaint.nn.inpaint import PUSH_PULL_GAIN
    from ganpaint.train.recipes.inpaint import ARCHITECTURE, InpaintRecipe

    opts = InpaintRecipe.options_from_card(ARCHITECTURE, {"width": 8, "dilations": [2, 4],
                                                          "coarse_gain": PUSH_PULL_GAIN})
    assert opts == {"width": 8, "dilations": (2, 4), "guide": "", "guide_blend": 0.5}
    assert InpaintRecipe(**opts).generator_config().to_dict()["width"] == 8
    with pytest.raises(ValueError, match="starts from an inpaint_gated model"):
        InpaintRecipe.options_from_card("resnet_generator", {"ngf": 4})
    with pytest.raises(ValueError, match="coarse_gain"):
        InpaintRecipe.options_from_card(ARCHITECTURE, {"width": 8, "dilations": [2], "coarse_gain": 3.0})
