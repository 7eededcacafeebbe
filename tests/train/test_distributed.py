"""Multi-process training on this machine's CPU (gloo): 2 processes reach the losses and the
weights of 1 process with the same global batch, for every recipe (tiny models, 32 px,
no normalisation (a conv bias before instance norm has a zero gradient, which Adam turns
into full-size steps of float noise), no image pool, no dropout: nothing that depends on batch
statistics; StyleGAN2 with a global batch of 8, so its minibatch-stddev groups match); a run
stopped under 2 processes resumes under 1; the pieces (shards, draws, environment)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ganpaint.train import distributed as dd
from ganpaint.train import load_checkpoint, load_data, train
from ganpaint.train.draws import SampleDraws, draw_key

HERE = Path(__file__).resolve().parent
WORKER = HERE / "dist_worker.py"
ROOT = HERE.parents[1]

IMG = {"crop": 32, "batch": 4, "scale_jitter": 1.1}
GAN = {"norm": "none", "ngf": 4, "ndf": 4, "d_layers": 1}
RECIPES = {
    "pix2pix": {**IMG, **GAN, "generator": "unet", "num_downs": 5, "dropout": False},
    "cyclegan": {**IMG, **GAN, "n_blocks": 1, "pool_size": 0},
    "inpaint": {**IMG, "width": 4, "dilations": (2,), "ndf": 4, "d_layers": 2, "ema": 0.9},
    "sketch": {**IMG, **GAN, "num_downs": 5, "dropout": False, "bn_recalibration": 0, "max_hints": 3},
    "stylegan2": {"crop": 16, "batch": 8, "style_dim": 8, "n_mlp": 1, "channel_max": 8, "d_reg_every": 2},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _data_args(recipe_id: str, root: Path, pictures) -> dict:
    a, b = root / "A", root / "B"
    if not a.exists():
        pictures(a, 6, size=(40, 36), seed=1)
        pictures(b, 6, size=(40, 36), seed=2)
    if recipe_id in ("pix2pix", "sketch"):
        return {"data": str(a), "data_b": str(b), "paired": "names"}
    if recipe_id == "cyclegan":
        return {"data": str(a), "data_b": str(b)}
    return {"data": str(a)}


def _recipe(recipe_id: str):
    return _recipe_with(recipe_id, RECIPES[recipe_id])


def _recipe_with(recipe_id: str, options: dict):
    sys.path.insert(0, str(HERE))
    try:
        from dist_worker import recipe_for
    finally:
        sys.path.remove(str(HERE))
    return recipe_for(recipe_id, options)


def _two_processes(tmp_path: Path, runs: list[dict], timeout: float = 240, device: str = "cpu") -> dict:
    job = tmp_path / "job.json"
    out = tmp_path / "out.json"
    job.write_text(json.dumps({"runs": runs, "out": str(out), "device": device}))
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()), "WORLD_SIZE": "2",
           "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(job)], env={**env, "RANK": str(r), "LOCAL_RANK": str(r)},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for r in range(2)]
    logs = []
    try:
        for p in procs:
            logs.append(p.communicate(timeout=timeout)[0])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert all(p.returncode == 0 for p in procs), "\n".join(logs)[-4000:]
    return json.loads(out.read_text())


def _one_process(recipe_id: str, data: dict, run_dir: Path, steps: int, resume: bool = False,
                 options: dict | None = None, device: str = "cpu") -> list:
    d = load_data(data["data"], data.get("data_b"), paired=data.get("paired"))
    recipe = _recipe(recipe_id) if options is None else _recipe_with(recipe_id, options)
    events = train(recipe, d, steps=steps, run_dir=run_dir, seed=5, resume=resume, checkpoint_every_s=0,
                   device=device)
    return [[e.kind, e.step, dict(e.losses)] for e in events]


def _assert_close_losses(one: list, two: list, rel: float = 1e-4, abs_: float = 1e-5) -> None:
    assert [(k, s) for k, s, _ in one] == [(k, s) for k, s, _ in two]
    for (_, step, a), (_, _, b) in zip(one, two, strict=True):
        assert set(a) == set(b)
        for key in a:
            assert a[key] == pytest.approx(b[key], rel=rel, abs=abs_), (step, key, a[key], b[key])


def _assert_close_weights(run_a: Path, run_b: Path, prefixes: tuple[str, ...] = ("model/", "ema/"),
                          rtol: float = 1e-4, atol: float = 1e-5) -> int:
    ta, tb = load_checkpoint(run_a).tensors, load_checkpoint(run_b).tensors
    keys = [k for k in ta if k.startswith(prefixes)]
    assert keys and set(keys) == {k for k in tb if k.startswith(prefixes)}
    for k in keys:
        torch.testing.assert_close(ta[k], tb[k], rtol=rtol, atol=atol, msg=lambda m, k=k: f"{k}: {m}")
    return len(keys)


# ----------------------------------------------------------------------------------- pieces
def test_shards_are_the_distributed_samplers_split_and_need_a_multiple() -> None:
    assert dd.shard(8, dd.DistContext(0, 2)) == (0, 2, 4, 6)
    assert dd.shard(8, dd.DistContext(1, 2)) == (1, 3, 5, 7)
    assert dd.shard(6, dd.SINGLE) == tuple(range(6))
    with pytest.raises(Exception, match="multiple of the number of processes"):
        dd.shard(5, dd.DistContext(0, 2))


def test_environment_backend_and_device() -> None:
    env = {"RANK": "1", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "TORCHELASTIC_RUN_ID": "x"}
    ctx = dd.env_context(env)
    assert (ctx.rank, ctx.world, ctx.local_rank, ctx.enabled, ctx.is_main) == (1, 4, 1, True, False)
    assert dd.env_context({}) == dd.SINGLE and not dd.SINGLE.enabled
    assert dd.launched_by_torchrun(env) and not dd.launched_by_torchrun({})
    assert dd.backend_for("cuda:1") == "nccl" and dd.backend_for("cpu") == "gloo"
    assert dd.process_device("cuda", ctx) == "cuda:1" and dd.process_device("cpu", ctx) == "cpu"
    assert dd.process_device("cuda", dd.SINGLE) == "cuda"
    with pytest.raises(Exception, match="not a valid process number"):
        dd.env_context({"RANK": "2", "WORLD_SIZE": "2"})


def test_batch_shares_are_the_pictures_of_the_whole_batch(tmp_path: Path, pictures) -> None:
    pictures(tmp_path / "a", 5)
    data = load_data(tmp_path / "a")
    aug = _recipe("pix2pix").augment()
    whole = data.batch(3, 4, aug, 9)["A"]
    assert torch.equal(data.batch(3, 4, aug, 9, indices=(1, 3))["A"], whole[[1, 3]])


def test_draws_are_keyed_by_seed_step_and_global_index() -> None:
    a, b = SampleDraws(1, 2, (0, 1, 2, 3)), SampleDraws(1, 2, (1, 3))
    assert a.key(3, "holes") == b.key(1, "holes") and a.key(1, "holes") == b.key(0, "holes")
    assert a.key(1, "holes") != a.key(1, "noise") != SampleDraws(1, 3, (1,)).key(0, "noise")
    assert draw_key(1, 2) != draw_key(2, 1) and 0 <= draw_key(-1, 5) < 2**63
    assert torch.equal(torch.rand(3, generator=a.torch(3, "x")), torch.rand(3, generator=b.torch(1, "x")))


# ------------------------------------------------------------------------- 2 processes vs 1
@pytest.mark.slow
def test_two_processes_match_one_for_every_recipe_and_resume_under_one(tmp_path: Path, pictures) -> None:
    """Each recipe 2 steps under 2 gloo processes (global batch 4, or 8 for StyleGAN2 whose
    minibatch-stddev groups then match) against 1 process: the same mean losses at every step
    and the same weights, EMA included. Then a pix2pix run that rank 1 stops at step 2 of 3
    resumes under 1 process and ends where the uninterrupted 1-process run ends."""
    runs = []
    for rid in RECIPES:
        runs.append({"recipe": rid, "options": RECIPES[rid], "data": _data_args(rid, tmp_path, pictures),
                     "steps": 2, "run_dir": str(tmp_path / "two" / rid)})
    stopped = {"recipe": "pix2pix", "options": RECIPES["pix2pix"], "data": _data_args("pix2pix", tmp_path, pictures),
               "steps": 3, "run_dir": str(tmp_path / "two" / "stopped"), "stop_after": 1, "stop_rank": 1}
    two = _two_processes(tmp_path, [*runs, stopped])

    for spec in runs:
        rid = spec["recipe"]
        one = _one_process(rid, spec["data"], tmp_path / "one" / rid, 2)
        _assert_close_losses(one, two[spec["run_dir"]])
        assert one[-1][0] == "done"
        n = _assert_close_weights(tmp_path / "one" / rid, Path(spec["run_dir"]))
        assert n > 4, rid

    # the stopped run: rank 1 asked, both stopped at the same step with one checkpoint (rank 0's)
    ev = two[stopped["run_dir"]]
    assert ev[-1][0] == "cancelled" and ev[-1][1] == 2
    assert load_checkpoint(stopped["run_dir"]).step == 2
    resumed = _one_process("pix2pix", stopped["data"], Path(stopped["run_dir"]), 3, resume=True)
    assert [(k, s) for k, s, _ in resumed] == [("step", 3), ("done", 3)]
    whole = _one_process("pix2pix", stopped["data"], tmp_path / "one" / "whole", 3)
    _assert_close_losses(whole[-2:], resumed)
    _assert_close_weights(tmp_path / "one" / "whole", Path(stopped["run_dir"]))
