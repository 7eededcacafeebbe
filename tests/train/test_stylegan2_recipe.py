"""The StyleGAN2 recipe on the shared training loop: options, losses and regularisers,
EMA, resume, the stored model, and `ganpaint train stylegan2` (tiny models)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganpaint.cli.main import main
from ganpaint.engine.models.cards import ModelCard
from ganpaint.engine.models.loading import load_model
from ganpaint.engine.models.store import ModelStore
from ganpaint.nn.stylegan2 import Generator
from ganpaint.train import load_data, make_recipe, train
from ganpaint.train.recipes.stylegan2 import StyleGAN2Recipe, grid, options_from_card, sliced_wasserstein

TINY = {"crop": 16, "batch": 4, "style_dim": 16, "n_mlp": 2, "channel_max": 16, "d_reg_every": 2}
TINY_CLI = ["--size", "16", "--batch", "4", "--set", "style_dim=16", "--set", "n_mlp=2",
            "--set", "channel_max=16", "--no-progress"]


def _run(recipe, data, run_dir: Path, steps: int, **kw):
    return list(train(recipe, data, steps=steps, run_dir=run_dir, seed=3, **kw))


# ------------------------------------------------------------------------------------ options
def test_defaults_and_validation() -> None:
    r = make_recipe("stylegan2")
    assert isinstance(r, StyleGAN2Recipe) and r.data_kind == "single"
    assert r.channels() == (256, 256, 256, 128, 64)  # min(4096 // res, 256) at 4 ... 64 px
    assert r.generator_config().n_styles == 10
    assert make_recipe("stylegan2", crop=32, widths="8,8,8,4").generator_config().channels == (8, 8, 8, 4)
    for bad, msg in [({"crop": 48}, "power of two"), ({"widths": "8,8"}, "channels must be 5 positive widths"),
                     ({"crop": 32, "widths": "8,x"}, "comma-separated integers"),
                     ({"diffaug": "color,zoom"}, "unknown augmentation zoom"),
                     ({"mixing": 1.5}, "mixing must be a probability"), ({"r1": -1.0}, "r1 must be")]:
        with pytest.raises(ValueError, match=msg):
            make_recipe("stylegan2", bad)


def test_style_mixing_regularisation_latents() -> None:
    torch.manual_seed(0)
    t = make_recipe("stylegan2", TINY, mixing=1.0).build("cpu")
    ws = t._latents(64)
    k = t.G.n_styles
    switches = (ws[:, 1:] != ws[:, :-1]).any(-1).sum(1)  # where a picture changes latent
    assert switches.eq(1).all()  # mixing = 1: every picture takes two latents, switching once
    first = (ws[:, 1:] != ws[:, :-1]).any(-1).float().argmax(1) + 1
    assert first.min() >= 1 and first.max() <= k - 1 and len(set(first.tolist())) > 1
    t0 = make_recipe("stylegan2", TINY, mixing=0.0).build("cpu")
    ws0 = t0._latents(16)
    assert (ws0 == ws0[:, :1]).all()


# ------------------------------------------------------------------------------------ training
def test_training_steps_regularisers_ema_and_the_stored_model(tmp_path: Path, pictures) -> None:
    pictures(tmp_path / "faces", 12, size=(20, 24))
    data = load_data(tmp_path / "faces")
    recipe = make_recipe("stylegan2", TINY)
    events = _run(recipe, data, tmp_path / "run", 4, sample_every=4)
    steps = [e for e in events if e.kind == "step"]
    assert [e.step for e in steps] == [1, 2, 3, 4]
    # lazy R1 on steps 0 and 2 (d_reg_every = 2) only
    assert ["R1" in e.losses for e in steps] == [True, False, True, False]
    assert all(set(e.losses) >= {"G", "D", "D_real", "D_fake"} for e in steps)
    assert steps[-1].samples is not None and steps[-1].samples["samples"].shape == (64, 64, 3)  # 4x4 grid
    done = events[-1]
    assert done.kind == "done" and done.result is not None
    res = done.result
    assert res.metric_name == "swd16" and res.metric is not None and res.metric > 0
    card = ModelCard.from_dict(dict(res.card))
    assert (card.architecture, card.tool, card.components) == ("stylegan2", "stylemix", ("g_ema",))
    assert card.extra["tools"] == ["faces"] and card.extra["training"]["recipe"] == "stylegan2"
    entry = ModelStore(tmp_path / "models", include_resources=False).add(res.state_dict, card, "faces-tiny")
    assert entry.tools == ("stylemix", "faces")
    g = load_model(entry.path)
    assert isinstance(g, Generator) and torch.equal(g.latent_avg, g.mean_latent(4096, 0))
    # the stored model is the EMA generator: equal to the run's EMA copy, not to the live G
    from safetensors.torch import load_file

    saved = load_file(str(tmp_path / "run" / "checkpoint.safetensors"))
    key = "conv1.conv.weight"
    assert torch.equal(saved[f"ema/G/{key}"], g.state_dict()[key])
    assert not torch.equal(saved[f"model/G/{key}"], g.state_dict()[key])
    with torch.no_grad():
        out = g(g.mapping(torch.randn(2, 16))[:, None].expand(-1, g.n_styles, -1))
    assert out.shape == (2, 3, 16, 16) and torch.isfinite(out).all()


@pytest.mark.slow
def test_resume_continues_bit_for_bit(tmp_path: Path, pictures, deterministic) -> None:
    pictures(tmp_path / "pics", 8, size=(16, 16))
    data = load_data(tmp_path / "pics")
    recipe = make_recipe("stylegan2", {**TINY, "d_reg_every": 3})
    straight = _run(recipe, data, tmp_path / "a", 4)[-1].result
    events = train(recipe, data, steps=4, run_dir=tmp_path / "b", seed=3)
    for ev in events:
        if ev.step == 2:
            events.close()  # stop: a checkpoint of step 2
            break
    resumed = _run(recipe, data, tmp_path / "b", 4, resume=True)[-1].result
    for k, v in straight.state_dict.items():
        assert torch.equal(v, resumed.state_dict[k]), k


# ------------------------------------------------------------------------------------ helpers
def test_grid_and_sliced_wasserstein() -> None:
    x = torch.arange(5.0).view(5, 1, 1, 1).expand(5, 3, 2, 2)
    g = grid(x, 2)
    assert g.shape == (1, 3, 6, 4) and g[0, 0, 0, 2] == 1 and g[0, 0, 4, 0] == 4 and g[0, 0, 4, 2] == -1
    a = torch.randn(32, 48)
    assert sliced_wasserstein(a, a) == 0
    assert sliced_wasserstein(a, a + 0.5) > sliced_wasserstein(a, a + 0.1) > 0


def test_options_from_card_rebuild_the_architecture() -> None:
    cfg = make_recipe("stylegan2", TINY).generator_config()
    opts = options_from_card(cfg.to_dict())
    assert make_recipe("stylegan2", {**opts, "channel_max": 1}).generator_config().channels == cfg.channels


# ------------------------------------------------------------------------------------ command line
@pytest.mark.slow
def test_cli_train_stylegan2_and_fine_tune_from_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pictures,
                                                    capsys) -> None:
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GANPAINT_DEVICE", "cpu")
    pictures(tmp_path / "pics", 6, size=(24, 20))
    rc = main(["train", "stylegan2", "--data", str(tmp_path / "pics"), "--steps", "2", "--as", "sg", *TINY_CLI])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "stored as sg@1 for the 'stylemix' tool" in out
    store = ModelStore()
    first = store.get("sg", tool="faces")
    assert first.card.training_command.startswith("ganpaint train stylegan2 --data ")
    # fine-tune: --from adopts the stored architecture (widths, latent size, mapping depth)
    rc = main(["train", "stylegan2", "--data", str(tmp_path / "pics"), "--steps", "1", "--as", "sg2",
               "--from", "sg", "--no-progress"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    second = store.get("sg2")
    assert second.card.config == first.card.config
