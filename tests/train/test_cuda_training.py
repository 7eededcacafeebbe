"""On a CUDA machine only (marker ``cuda``; tools/gpu_check.sh runs ``pytest -m cuda``):
every recipe trains a few steps on the GPU in fp32 and bf16 and resumes there; with 2 GPUs,
2 nccl processes (SyncBatchNorm: pix2pix with batch norm, whose statistics then span the
global batch) reach the losses and weights of 1 process on one GPU."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from ganpaint.train import load_checkpoint, load_data, train

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

HERE = Path(__file__).resolve().parent


def _helpers():
    import importlib.util

    spec = importlib.util.spec_from_file_location("ganpaint_test_distributed", HERE / "test_distributed.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("bf16", [False, True])
def test_every_recipe_trains_on_the_gpu(tmp_path: Path, pictures, bf16: bool) -> None:
    h = _helpers()
    for rid, opts in h.RECIPES.items():
        d = h._data_args(rid, tmp_path, pictures)
        data = load_data(d["data"], d.get("data_b"), paired=d.get("paired"))
        events = list(train(h._recipe_with(rid, opts), data, steps=3, run_dir=tmp_path / rid, device="cuda",
                            bf16=bf16, checkpoint_every_s=0))
        assert events[-1].kind == "done", rid
        assert all(math.isfinite(v) for e in events for v in e.losses.values()), rid
        ck = load_checkpoint(tmp_path / rid)
        assert any(k.startswith("rng/cuda/") for k in ck.tensors), rid


def test_resume_on_the_gpu_continues(tmp_path: Path, pictures) -> None:
    h = _helpers()
    d = h._data_args("pix2pix", tmp_path, pictures)
    data = load_data(d["data"], d.get("data_b"), paired=d.get("paired"))
    stop = {"n": 0}

    def cancel() -> bool:
        return stop["n"] >= 2

    run = tmp_path / "run"
    for ev in train(h._recipe("pix2pix"), data, steps=4, run_dir=run, device="cuda", cancel=cancel,
                    checkpoint_every_s=0):
        stop["n"] = ev.step
    assert load_checkpoint(run).step == 2
    last = list(train(h._recipe("pix2pix"), data, steps=4, run_dir=run, device="cuda", resume=True))[-1]
    assert last.kind == "done" and last.step == 4


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 GPUs")
def test_two_gpus_with_syncbatchnorm_match_one(tmp_path: Path, pictures) -> None:
    h = _helpers()
    opts = {**h.RECIPES["pix2pix"], "norm": "batch"}
    data = h._data_args("pix2pix", tmp_path, pictures)
    spec = {"recipe": "pix2pix", "options": opts, "data": data, "steps": 3, "run_dir": str(tmp_path / "two")}
    two = h._two_processes(tmp_path, [spec], device="cuda")
    one = h._one_process("pix2pix", data, tmp_path / "one", 3, options=opts, device="cuda")
    # cuDNN's reductions are not bit-stable across batch splits: a looser tolerance than on the CPU
    h._assert_close_losses(one, two[spec["run_dir"]], rel=2e-3, abs_=1e-4)
    h._assert_close_weights(tmp_path / "one", tmp_path / "two", rtol=2e-3, atol=1e-3)
