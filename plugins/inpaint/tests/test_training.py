"""The inpainting network, the hole masks and the training recipe on H's loop (tiny sizes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganpaint.nn.inpaint import (
    InpaintConfig,
    InpaintGenerator,
    SNPatchDiscriminator,
    inpaint_tensor,
    push_pull_fill,
)
from ganpaint.train import RECIPES, load_data, make_recipe, train
from ganpaint.train.masks import random_mask, random_masks

# ----------------------------------------------------------------------------- masks


@pytest.mark.parametrize("kind", ["stroke", "box", "any"])
def test_masks_cover_ten_to_forty_percent_and_repeat(kind: str) -> None:
    rng = np.random.default_rng(5)
    cover = [float(random_mask(rng, 64, 96, kind=kind).mean()) for _ in range(40)]  # type: ignore[arg-type]
    assert min(cover) >= 0.1 and max(cover) <= 0.4
    a = random_mask(np.random.default_rng(9), 64, 64, kind=kind)  # type: ignore[arg-type]
    b = random_mask(np.random.default_rng(9), 64, 64, kind=kind)  # type: ignore[arg-type]
    assert np.array_equal(a, b) and set(np.unique(a)) <= {0.0, 1.0}


def test_masks_reject_bad_arguments() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="coverage"):
        random_mask(rng, 32, 32, coverage=(0.5, 0.2))
    with pytest.raises(ValueError, match="at least 4x4"):
        random_mask(rng, 2, 32)
    assert random_masks(rng, 3, 16, 24).shape == (3, 1, 16, 24)


# ----------------------------------------------------------------------------- networks


def test_push_pull_keeps_known_pixels_and_fills_flat_areas_flat() -> None:
    x = torch.rand(1, 3, 37, 50) * 2 - 1
    hole = torch.zeros(1, 1, 37, 50)
    hole[..., 10:30, 5:40] = 1
    y = push_pull_fill(x * (1 - hole), hole)
    assert torch.allclose(y * (1 - hole), x * (1 - hole), atol=1e-6)
    flat = torch.full((1, 3, 37, 50), 0.3)
    assert torch.allclose(push_pull_fill(flat * (1 - hole), hole), flat, atol=1e-5)
    assert torch.equal(push_pull_fill(x, torch.ones(1, 1, 37, 50)), torch.zeros(1, 3, 37, 50))


def test_untrained_generator_returns_the_coarse_fill_and_any_size_works() -> None:
    torch.manual_seed(0)
    g = InpaintGenerator(InpaintConfig(width=4, dilations=(1, 2))).eval()
    x = torch.rand(1, 3, 21, 30) * 2 - 1
    hole = torch.zeros(1, 1, 21, 30)
    hole[..., 5:15, 8:20] = 1
    with torch.no_grad():
        out = inpaint_tensor(g, x, hole)
    assert out.shape == x.shape
    assert torch.equal(out * (1 - hole), x * (1 - hole))  # known pixels exactly kept
    x, hole = x[..., :20, :28], hole[..., :20, :28]  # no padding: compare with the coarse fill
    with torch.no_grad():
        out = inpaint_tensor(g, x, hole)
    expected = push_pull_fill(x * (1 - hole), hole)  # zero-initialised head: the coarse fill
    assert torch.allclose(out * hole, expected.clamp(-1, 1) * hole, atol=1e-5)


def test_config_round_trip_and_validation() -> None:
    cfg = InpaintConfig(width=8, dilations=(2, 4))
    assert InpaintConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="width"):
        InpaintConfig(width=3)
    with pytest.raises(ValueError, match="unknown"):
        InpaintConfig.from_dict({"width": 8, "depth": 3})


def test_discriminator_features() -> None:
    d = SNPatchDiscriminator(ndf=4, n_layers=3)
    logits, feats = d(torch.rand(2, 3, 32, 32), torch.zeros(2, 1, 32, 32), return_features=True)
    assert logits.shape == (2, 1, 4, 4) and len(feats) == 3


# ----------------------------------------------------------------------------- recipe + loop

TINY = {"width": 4, "dilations": (1, 2), "ndf": 4, "d_layers": 2, "crop": 32, "batch": 2, "ema": 0.9}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pics")
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(d / f"p{i}.png")
    return d


def test_recipe_is_registered_and_validated() -> None:
    assert "inpaint" in RECIPES
    r = make_recipe("inpaint", TINY)
    assert r.data_kind == "single" and r.id == "inpaint"
    with pytest.raises(ValueError, match="coverage"):
        make_recipe("inpaint", coverage_min=0.5, coverage_max=0.2)
    with pytest.raises(ValueError, match="multiple of 4"):
        make_recipe("inpaint", crop=30)


@pytest.mark.slow
def test_training_runs_exports_an_inpaint_card_and_resumes_exactly(folder: Path, tmp_path: Path) -> None:
    recipe = make_recipe("inpaint", TINY)
    data = load_data(folder)
    events = list(train(recipe, data, steps=2, run_dir=tmp_path / "a", seed=3))
    done = events[-1]
    assert done.kind == "done" and done.result is not None
    assert {"G_L1", "G_adv", "G_fm", "D"} <= set(events[0].losses)
    card = done.result.card
    assert card["architecture"] == "inpaint_gated" and card["tool"] == "inpaint"
    assert done.result.metric_name == "hole_psnr" and np.isfinite(done.result.metric)
    g = InpaintGenerator(InpaintConfig.from_dict(card["config"]))
    g.load_state_dict({k.removeprefix("forward."): v for k, v in done.result.state_dict.items()})

    # stop after one step, resume: the same weights as the uninterrupted run (masks included)
    it = train(recipe, data, steps=2, run_dir=tmp_path / "b", seed=3)
    next(it)
    it.close()
    resumed = list(train(recipe, data, steps=2, run_dir=tmp_path / "b", resume=True))[-1]
    assert resumed.result is not None
    for k, v in done.result.state_dict.items():
        assert torch.equal(v, resumed.result.state_dict[k]), k


def test_reconstruction_only_run_leaves_the_discriminator_alone(folder: Path, tmp_path: Path) -> None:
    """adv_weight = feature_matching = 0: L1 only, the discriminator is neither used nor trained."""
    recipe = make_recipe("inpaint", {**TINY, "adv_weight": 0.0, "feature_matching": 0.0})
    trainer = recipe.build("cpu")
    before = {k: v.clone() for k, v in trainer.D.state_dict().items()}
    g_before = {k: v.clone() for k, v in trainer.G.state_dict().items()}
    batch = {"A": torch.rand(2, 3, 32, 32) * 2 - 1}
    losses = trainer.step(batch)
    assert set(losses) == {"G_L1"}
    assert all(torch.equal(v, trainer.D.state_dict()[k]) for k, v in before.items())
    assert any(not torch.equal(v, trainer.G.state_dict()[k]) for k, v in g_before.items())


def test_l2_hole_loss_is_the_squared_error_inside_the_hole() -> None:
    """hole_loss="l2" weighs squared errors in the hole (PSNR's measure); known pixels keep L1."""
    import torch

    from ganpaint.train.recipes.inpaint import InpaintRecipe

    with pytest.raises(ValueError, match="hole_loss"):
        make_recipe("inpaint", TINY, hole_loss="l3")
    torch.manual_seed(0)
    real = torch.rand(2, 3, 32, 32) * 2 - 1
    losses = {}
    for kind in ("l1", "l2"):
        recipe = InpaintRecipe(**{**TINY, "hole_loss": kind, "adv_weight": 0.0, "feature_matching": 0.0})
        trainer = recipe.build("cpu")
        torch.manual_seed(1)  # the same hole and the same generator output for both
        losses[kind] = trainer.step({"A": real})["G_L1"]
    assert np.isfinite(losses["l1"]) and np.isfinite(losses["l2"])
    # errors inside the hole are below 1 on the [-1, 1] scale at the start, so squaring shrinks them
    assert losses["l2"] < losses["l1"]
