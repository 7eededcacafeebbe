"""Time-based checkpoints: besides every N steps, the loop writes one when CHECKPOINT_EVERY_S
(2 minutes) of training passed since the last one, with the same file and resume as the
step-based ones. A fake clock stands in for the minutes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ganpaint.train import load_checkpoint, load_data, make_recipe, train
from ganpaint.train import loop as loop_mod

TINY = {"ngf": 4, "ndf": 4, "num_downs": 5, "crop": 32, "batch": 1}


class FakeClock:
    """The loop's clock (time.monotonic); the tests move it on between steps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    c = FakeClock()
    monkeypatch.setattr(loop_mod, "_clock", c)
    return c


def _run(recipe, data, run: Path, clock: FakeClock, steps: int, seconds_per_step: float, **kw):
    """Run to the end, advancing the fake clock by ``seconds_per_step`` after every step."""
    out = []
    for ev in train(recipe, data, steps=steps, run_dir=run, seed=0, **kw):
        out.append(ev)
        clock.now += seconds_per_step
    return out


def test_the_default_interval_is_at_most_two_minutes() -> None:
    import inspect

    default = inspect.signature(train).parameters["checkpoint_every_s"].default
    assert 0 < default <= 120 and default == loop_mod.CHECKPOINT_EVERY_S


def test_a_slow_run_checkpoints_every_two_minutes_without_step_checkpoints(tmp_path, paired_dirs, clock) -> None:
    recipe = make_recipe("pix2pix", TINY)
    data = load_data(*paired_dirs, paired="names")
    # 50 s between steps, no step-based checkpoints: one every third step (150 s >= 120 s)
    evs = _run(recipe, data, tmp_path / "r", clock, steps=8, seconds_per_step=50.0)
    steps = [e for e in evs if e.kind == "step"]
    assert [e.step for e in steps if e.checkpoint is not None] == [4, 7]
    assert load_checkpoint(tmp_path / "r").step == 8  # the final one


def test_time_and_step_checkpoints_combine_and_reset_each_other(tmp_path, paired_dirs, clock) -> None:
    recipe = make_recipe("pix2pix", TINY)
    data = load_data(*paired_dirs, paired="names")
    # 50 s between steps and every 5 steps: 4 (time), 5 (steps), 8 (time, counted from 5), 10 (steps)
    evs = _run(recipe, data, tmp_path / "r", clock, steps=11, seconds_per_step=50.0, checkpoint_every=5)
    assert [e.step for e in evs if e.kind == "step" and e.checkpoint is not None] == [4, 5, 8, 10]
    # fast steps: only the step-based ones
    evs = _run(recipe, data, tmp_path / "fast", clock, steps=9, seconds_per_step=1.0, checkpoint_every=4)
    assert [e.step for e in evs if e.kind == "step" and e.checkpoint is not None] == [4, 8]
    # 0 turns the timer off
    evs = _run(recipe, data, tmp_path / "off", clock, steps=5, seconds_per_step=500.0, checkpoint_every_s=0)
    assert [e.step for e in evs if e.kind == "step" and e.checkpoint is not None] == []


def test_a_crash_after_a_time_based_checkpoint_resumes_from_it(tmp_path, paired_dirs, clock) -> None:
    recipe = make_recipe("pix2pix", TINY)
    data = load_data(*paired_dirs, paired="names")
    run, crashed = tmp_path / "r", tmp_path / "crashed"
    gen = train(recipe, data, steps=10, run_dir=run, seed=0)
    for ev in gen:
        clock.now += 70.0  # a checkpoint is due two steps after the last one
        if ev.step == 4:
            # the process dies here: what is on disk is what the time-based checkpoint wrote
            shutil.copytree(run, crashed)
            break
    gen.close()
    ck = load_checkpoint(crashed)
    assert ck.step == 3 and ck.meta["reason"] == "periodic"
    resumed = list(train(recipe, data, steps=5, run_dir=crashed, resume=True))
    assert [e.step for e in resumed] == [4, 5, 5] and resumed[-1].kind == "done"
