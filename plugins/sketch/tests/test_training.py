"""The ``sketch`` recipe (pix2pix with sampled colour hints) and the judging helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from ganpaint_sketch.hints import make_input, sample_hints
from ganpaint_sketch.metrics import flat_fill, gradient_magnitude, label_regions, psnr, region_classes, ssim
from ganpaint_sketch.training import SketchRecipe
from PIL import Image

from ganpaint.train import load_data, train


def _pairs(root: Path, n: int = 4, size: int = 48) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    for i in range(n):
        colour = np.ones((size, size, 3), np.uint8) * 255
        lines = np.ones((size, size, 3), np.uint8) * 255
        y0, x0 = rng.integers(4, size // 2, size=2)
        colour[y0 : y0 + 16, x0 : x0 + 16] = rng.integers(0, 255, size=3)
        lines[y0, x0 : x0 + 16] = lines[y0 + 15, x0 : x0 + 16] = 0
        lines[y0 : y0 + 16, x0] = lines[y0 : y0 + 16, x0 + 15] = 0
        for sub, arr in (("A", lines), ("B", colour)):
            (root / sub).mkdir(parents=True, exist_ok=True)
            Image.fromarray(arr).save(root / sub / f"p{i}.png")
    return root / "A", root / "B"


TINY = {"ngf": 4, "ndf": 4, "num_downs": 5, "crop": 32, "batch": 2}


@pytest.mark.slow  # the first training run in a process pays ~30 s of one-off set-up on a loaded machine
@pytest.mark.parametrize("adversarial", [True, False])
def test_recipe_trains_a_five_channel_sketch_model(tmp_path: Path, adversarial: bool) -> None:
    a, b = _pairs(tmp_path / "data")
    data = load_data(a, b, paired="names")
    recipe = SketchRecipe(**TINY, adversarial=adversarial)
    events = list(train(recipe, data, steps=2, run_dir=tmp_path / "run", seed=0))
    done = events[-1]
    assert done.kind == "done" and done.result is not None
    card = done.result.card
    assert card["tool"] == "sketch" and card["architecture"] == "unet_generator"
    assert card["config"]["in_channels"] == 5
    assert all(k.startswith("forward.") for k in done.result.state_dict)
    assert ("D" in done.losses) is adversarial and "G_L1" in done.losses
    assert card["extra"]["training"]["options"]["adversarial"] is adversarial
    # the stored generator's batch norm was re-estimated on training batches, dropout off
    assert card["extra"]["training"]["bn_recalibration"] == {"batches": 160, "batch": 2, "layers": 7}


@pytest.mark.slow
def test_recipe_resumes_bit_for_bit(tmp_path: Path) -> None:
    a, b = _pairs(tmp_path / "data")
    data = load_data(a, b, paired="names")
    recipe = SketchRecipe(**TINY)
    whole = list(train(recipe, data, steps=3, run_dir=tmp_path / "r1", seed=0))[-1].result
    gen = train(recipe, data, steps=3, run_dir=tmp_path / "r2", seed=0)
    next(gen)
    gen.close()  # stop after one step: a checkpoint is written
    resumed = list(train(recipe, data, steps=3, run_dir=tmp_path / "r2", resume=True))[-1].result
    for k, v in whole.state_dict.items():
        torch.testing.assert_close(resumed.state_dict[k], v, rtol=0, atol=0)


def test_bad_options_are_named() -> None:
    with pytest.raises(ValueError, match="hint_none"):
        SketchRecipe(hint_none=2.0)
    with pytest.raises(ValueError, match="U-Net"):
        SketchRecipe(generator="resnet")


def test_sampled_hints_are_true_colours_and_seeded() -> None:
    target = torch.rand(3, 3, 40, 40) * 2 - 1
    rgb, mask = sample_hints(target, torch.Generator().manual_seed(1), p_none=0.0)
    rgb2, mask2 = sample_hints(target, torch.Generator().manual_seed(1), p_none=0.0)
    assert torch.equal(rgb, rgb2) and torch.equal(mask, mask2)
    assert set(mask.unique().tolist()) <= {0.0, 1.0} and mask.sum() > 0
    assert torch.all(rgb[mask.expand_as(rgb) == 0] == 0)
    # every hint colour is a colour of the target picture
    i, _, y, x = (mask[:, 0:1] > 0).nonzero()[0]
    colour = rgb[i, :, y, x]
    assert ((target[i] - colour.view(3, 1, 1)).abs().sum(0) < 1e-6).any()
    _, none = sample_hints(target, torch.Generator().manual_seed(1), p_none=1.0)
    assert none.sum() == 0
    x5 = make_input(target[:, :1], rgb, mask)
    assert x5.shape == (3, 5, 40, 40) and x5[:, 4].min() == -1


def test_label_regions_and_flat_fill() -> None:
    g = np.ones((12, 12), np.float32)
    g[2, 2:9] = g[8, 2:9] = 0.0
    g[2:9, 2] = g[2:9, 8] = 0.0  # a closed box
    g[0:12, 10] = 0.0  # a wall cutting off the right edge strip
    labels = label_regions(g >= 0.5)
    assert labels.max() + 1 == 3  # outside, inside the box, the strip right of the wall
    line, outside, closed = region_classes(g)
    assert closed[5, 5] and not closed[0, 0] and outside[0, 0] and outside[5, 11] and line[2, 2]
    out = flat_fill(g, np.array([0.2, 0.4, 0.6], np.float32), np.array([1.0, 1.0, 1.0], np.float32))
    np.testing.assert_allclose(out[5, 5], [0.2, 0.4, 0.6])
    np.testing.assert_allclose(out[0, 0], [1, 1, 1])
    np.testing.assert_allclose(out[2, 2], [0, 0, 0])


def test_metrics() -> None:
    rng = np.random.default_rng(0)
    a = rng.random((32, 32, 3)).astype(np.float32)
    assert ssim(a, a) == pytest.approx(1.0) and psnr(a, a) == 100.0
    noisy = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1).astype(np.float32)
    assert 0 < ssim(a, noisy) < 0.99 and 15 < psnr(a, noisy) < 25
    flat = np.full_like(a, 0.5)
    assert gradient_magnitude(flat) == 0.0 and gradient_magnitude(a) > 0.1


@pytest.mark.slow
def test_cli_fine_tunes_a_stored_sketch_model_and_refuses_an_rgb_one(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """`ganpaint train sketch --from MODEL` rebuilds the 5-channel generator from the card
    (SketchRecipe.options_from_card); a 3-channel translate model is refused by name."""
    from ganpaint.cli.main import main
    from ganpaint.engine.models.store import ModelStore

    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "gp"))
    monkeypatch.setenv("GANPAINT_DEVICE", "cpu")
    a, b = _pairs(tmp_path / "data")
    common = ["--data", str(a), "--data-b", str(b), "--paired", "names", "--size", "32", "--batch", "2",
              "--no-progress"]
    tiny = ["--set", "ngf=4", "--set", "ndf=4", "--set", "num_downs=5"]
    assert main(["train", "sketch", *common, *tiny, "--steps", "1", "--as", "base"]) == 0
    # no ngf/num_downs given: they come from the base model's card
    assert main(["train", "sketch", *common, "--set", "ndf=4", "--from", "base", "--steps", "1", "--as", "tuned"]) == 0
    tuned = ModelStore().get("tuned").card
    assert tuned.config["in_channels"] == 5 and (tuned.config["ngf"], tuned.config["num_downs"]) == (4, 5)
    # the plugin's shipped default is a starting point too (it is not in the user's folder)
    assert main(["train", "sketch", *common, "--size", "128", "--set", "ndf=4", "--from", "sketch-default", "--steps", "1",
                 "--as", "from-default"]) == 0
    assert ModelStore().get("from-default").card.config["ngf"] == 32
    assert main(["train", "pix2pix", *common, *tiny, "--steps", "1", "--as", "rgb"]) == 0
    capsys.readouterr()
    assert main(["train", "sketch", *common, "--from", "rgb", "--steps", "1", "--as", "x"]) == 1
    assert "cannot start a sketch run" in capsys.readouterr().err
