from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from ganpaint.train import TrainError, load_checkpoint, load_data, make_recipe, train

# tiny recipes: ngf 4, 32-64 px, a few steps
P2P = {"ngf": 4, "ndf": 4, "num_downs": 6, "crop": 64, "batch": 2, "feature_matching": 1.0}
CYC = {"ngf": 4, "ndf": 4, "n_blocks": 1, "crop": 32, "pool_size": 2, "ema": 0.9}


def _run_all(gen):
    return list(gen)


def _checkpoint_tensors(run: Path) -> tuple[dict[str, torch.Tensor], dict]:
    c = load_checkpoint(run)
    meta = {k: v for k, v in c.meta.items() if k not in ("elapsed_s", "reason")}
    return c.tensors, meta


def _assert_same_run(a: Path, b: Path) -> None:
    ta, ma = _checkpoint_tensors(a)
    tb, mb = _checkpoint_tensors(b)
    assert ta.keys() == tb.keys()
    for k in ta:
        assert torch.equal(ta[k], tb[k]), f"{k} differs"
    assert ma == mb


@pytest.mark.parametrize(
    ("recipe_id", "opts", "paired"),
    [("pix2pix", P2P, "names"), ("cyclegan", CYC, None)],
)
def test_resume_is_bit_exact(tmp_path: Path, paired_dirs, deterministic, recipe_id, opts, paired) -> None:
    """N steps straight == k steps, cancel, resume to N: every weight, optimiser
    moment, EMA, image pool and RNG state identical."""
    recipe = make_recipe(recipe_id, opts)
    data = load_data(*paired_dirs, paired=paired)
    n, k = 6, 3  # k past the point where the image pools are full and start drawing
    evs = _run_all(train(recipe, data, steps=n, run_dir=tmp_path / "straight", seed=3, checkpoint_every=2))
    assert [e.kind for e in evs] == ["step"] * n + ["done"]

    stop = threading.Event()
    cut = []
    for ev in train(recipe, data, steps=n, run_dir=tmp_path / "cut", seed=3, cancel=stop, checkpoint_every=2):
        cut.append(ev)
        if ev.step == k:
            stop.set()
    assert cut[-1].kind == "cancelled" and cut[-1].step == k
    assert load_checkpoint(tmp_path / "cut").step == k  # the cancelled run's checkpoint loads

    resumed = _run_all(train(recipe, data, steps=n, run_dir=tmp_path / "cut", resume=True, seed=999,
                             checkpoint_every=2))
    assert [e.step for e in resumed] == [4, 5, 6, 6]
    assert resumed[-1].losses == evs[-1].losses
    _assert_same_run(tmp_path / "straight", tmp_path / "cut")
    sa, sb = evs[-1].result.state_dict, resumed[-1].result.state_dict
    assert all(torch.equal(sa[key], sb[key]) for key in sa)


def test_closing_the_generator_writes_a_checkpoint(tmp_path: Path, paired_dirs) -> None:
    recipe = make_recipe("pix2pix", P2P, num_downs=5, crop=32)
    data = load_data(*paired_dirs, paired="names")
    gen = train(recipe, data, steps=10, run_dir=tmp_path / "r", seed=0)
    for ev in gen:
        if ev.step == 2:
            break
    gen.close()
    assert load_checkpoint(tmp_path / "r").step == 2
    # continue it to the end
    last = _run_all(train(recipe, data, steps=3, run_dir=tmp_path / "r", resume=True))[-1]
    assert last.kind == "done" and last.step == 3


def test_events_carry_progress_samples_and_result(tmp_path: Path, paired_dirs) -> None:
    recipe = make_recipe("pix2pix", P2P, num_downs=5, crop=32, ema=0.5)
    data = load_data(*paired_dirs, paired="names")
    evs = _run_all(train(recipe, data, steps=4, run_dir=tmp_path / "r", seed=0, sample_every=2, checkpoint_every=3))
    steps = [e for e in evs if e.kind == "step"]
    assert [e.step for e in steps] == [1, 2, 3, 4] and all(e.total == 4 for e in steps)
    assert set(steps[0].losses) == {"G_gan", "G_L1", "G_fm", "D"}
    assert steps[-1].eta_s == 0 and steps[0].eta_s > 0 and steps[0].steps_per_s > 0
    assert [e.samples is not None for e in steps] == [False, True, False, True]
    for pic in steps[1].samples.values():
        assert pic.shape == (32, 32, 3) and pic.dtype == np.float32 and 0 <= pic.min() and pic.max() <= 1
    assert [e.checkpoint is not None for e in steps] == [False, False, True, False]
    done = evs[-1]
    assert done.kind == "done" and done.checkpoint is not None
    card = done.result.card
    assert card["architecture"] == "unet_generator" and card["components"] == ["forward"]
    assert card["config"]["num_downs"] == 5 and card["tool"] == "translate"
    assert card["extra"]["training"]["steps"] == 4 and card["extra"]["training"]["data"]["pairs"] == 5
    assert math.isfinite(card["metrics"]["l1"]) and done.result.metric_name == "l1"
    assert all(k.startswith("forward.") for k in done.result.state_dict)


def test_fine_tuning_starts_from_given_weights(tmp_path: Path, paired_dirs) -> None:
    recipe = make_recipe("pix2pix", P2P, num_downs=5, crop=32, lr=1e-12)
    data = load_data(*paired_dirs, paired="names")
    first = _run_all(train(recipe, data, steps=1, run_dir=tmp_path / "a", seed=0))[-1].result.state_dict
    again = _run_all(train(recipe, data, steps=1, run_dir=tmp_path / "b", seed=7, init_weights=first))
    tuned = again[-1].result.state_dict
    # a different seed would give other initial weights; with a negligible lr the
    # result stays at the given weights (up to Adam's first step of ~lr)
    for key, v in first.items():
        if v.is_floating_point() and "running" not in key:
            assert torch.allclose(tuned[key], v, atol=1e-9), key
    wrong = make_recipe("pix2pix", P2P, num_downs=6, crop=64)
    with pytest.raises(TrainError, match="starting model does not fit"):
        next(train(wrong, data, steps=1, run_dir=tmp_path / "c", init_weights=first))


def test_bf16_autocast_keeps_losses_finite(tmp_path: Path, paired_dirs) -> None:
    data_p = load_data(*paired_dirs, paired="names")
    data_u = load_data(*paired_dirs)
    for rid, opts, data in (("pix2pix", {**P2P, "num_downs": 5, "crop": 32}, data_p), ("cyclegan", CYC, data_u)):
        evs = _run_all(train(make_recipe(rid, opts), data, steps=4, run_dir=tmp_path / rid, bf16=True))
        for e in evs:
            assert all(math.isfinite(v) for v in e.losses.values()), (rid, e.losses)
        assert math.isfinite(evs[-1].result.metric)
        assert all(v.dtype == torch.float32 for v in evs[-1].result.state_dict.values() if v.is_floating_point())


def test_wrong_data_and_bad_resume_are_clear(tmp_path: Path, paired_dirs) -> None:
    unpaired = load_data(*paired_dirs)
    with pytest.raises(TrainError, match="pix2pix needs paired pictures"):
        next(train(make_recipe("pix2pix", P2P), unpaired, steps=2, run_dir=tmp_path / "x"))
    single = load_data(paired_dirs[0])
    with pytest.raises(TrainError, match="cyclegan needs two folders"):
        next(train(make_recipe("cyclegan", CYC), single, steps=2, run_dir=tmp_path / "x"))
    with pytest.raises(TrainError, match="no checkpoint"):
        next(train(make_recipe("cyclegan", CYC), unpaired, steps=2, run_dir=tmp_path / "y", resume=True))
    _run_all(train(make_recipe("cyclegan", CYC), unpaired, steps=1, run_dir=tmp_path / "z"))
    with pytest.raises(TrainError, match="other recipe options"):
        next(train(make_recipe("cyclegan", CYC, ngf=8), unpaired, steps=2, run_dir=tmp_path / "z", resume=True))
    with pytest.raises(TrainError, match="already holds a training run"):
        next(train(make_recipe("cyclegan", CYC), unpaired, steps=2, run_dir=tmp_path / "z"))


@pytest.mark.parametrize(
    ("recipe_id", "opts", "message"),
    [
        ("pix2pix", {"crop": 100}, "multiple of 256"),
        ("pix2pix", {"gan_loss": "wgan"}, "gan_loss must be one of"),
        ("pix2pix", {"lr": -1}, "lr must be"),
        ("pix2pix", {"betas": (0.5, 1.5)}, "betas"),
        ("pix2pix", {"colour": 1}, "unknown option"),
        ("cyclegan", {"batch": 0}, "batch must be"),
        ("cyclegan", {"crop": 30}, "multiple of 4"),
        ("cyclegan", {"ema": 1.0}, "ema must be"),
        ("gaugan", {}, "unknown recipe"),
    ],
)
def test_recipes_are_validated_at_construction(recipe_id, opts, message) -> None:
    with pytest.raises(ValueError, match=message):
        make_recipe(recipe_id, opts)


def test_recipes_are_frozen() -> None:
    r = make_recipe("cyclegan")
    assert (r.lambda_cycle, r.identity, r.gan_loss, r.pool_size, r.n_blocks) == (10.0, 0.5, "lsgan", 50, 9)
    p = make_recipe("pix2pix")
    assert (p.l1_weight, p.lr, p.betas, p.generator) == (100.0, 2e-4, (0.5, 0.999), "unet")
    with pytest.raises(AttributeError):
        p.lr = 1.0  # type: ignore[misc]


def test_drive_closes_and_checkpoints_when_the_consumer_raises(tmp_path: Path, paired_dirs) -> None:
    from ganpaint.train import drive

    class Stop(Exception):
        pass

    def progress(ev) -> None:
        if ev.step == 2:
            raise Stop

    recipe = make_recipe("pix2pix", P2P, num_downs=5, crop=32)
    data = load_data(*paired_dirs, paired="names")
    with pytest.raises(Stop):
        drive(train(recipe, data, steps=9, run_dir=tmp_path / "r"), progress)
    assert load_checkpoint(tmp_path / "r").step == 2
    last = drive(train(recipe, data, steps=3, run_dir=tmp_path / "r", resume=True))
    assert last is not None and last.kind == "done" and last.step == 3


def test_a_run_from_before_a_new_recipe_option_still_resumes(tmp_path: Path, paired_dirs) -> None:
    """A checkpoint written before an option existed (bn_recalibration here) resumes when the
    option is at its default, and is refused when it is not."""
    import json

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from ganpaint.train import checkpoints as ck

    data = load_data(*paired_dirs, paired="names")
    run = tmp_path / "old"
    _run_all(train(make_recipe("pix2pix", P2P), data, steps=1, run_dir=run))
    path = ck.checkpoint_path(run)  # rewrite its options as an older GANPaint wrote them
    tensors = load_file(str(path))
    with safe_open(str(path), "pt") as f:
        metadata = dict(f.metadata())
    meta = json.loads(metadata["ganpaint.checkpoint"])
    del meta["config"]["bn_recalibration"]
    metadata["ganpaint.checkpoint"] = json.dumps(meta)
    save_file(tensors, str(path), metadata=metadata)

    events = _run_all(train(make_recipe("pix2pix", P2P), data, steps=2, run_dir=run, resume=True))
    assert events[-1].kind == "done" and events[-1].step == 2
    with pytest.raises(TrainError, match="other recipe options"):
        next(train(make_recipe("pix2pix", P2P, bn_recalibration=3), data, steps=3, run_dir=run, resume=True))
