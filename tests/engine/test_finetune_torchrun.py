"""engine.jobs.finetune.torchrun_command: the Train dialog's multi-GPU run as a torchrun command
line with the options a one-GPU fine-tune uses; run here on the CPU (gloo) with the device
switched, it trains and stores the model."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganpaint.engine.jobs import finetune as ft


def _pictures(folder: Path, n: int, seed: int = 0) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    return str(folder)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from ganpaint.engine.models.store import ModelStore

    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "home"))
    return ModelStore(include_resources=False)


def _after(cmd: tuple[str, ...], flag: str) -> str:
    return cmd[cmd.index(flag) + 1]


def test_command_carries_the_recipe_options_and_a_global_batch(tmp_path: Path, store) -> None:
    a, b = _pictures(tmp_path / "a", 3), _pictures(tmp_path / "b", 3, 1)
    req = ft.FinetuneRequest("unpaired", (a, b), batch=3, size=64, steps=20, lr=1e-4, name="winter",
                             options={"ngf": 8})
    launch = ft.torchrun_command(req, gpus=2, store=store, runs_root=tmp_path / "runs", python="py")
    cmd = launch.command
    assert cmd[:6] == ("py", "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m")
    assert cmd[6:11] == ("ganpaint", "--device", "cuda", "train", "cyclegan")
    assert (_after(cmd, "--data"), _after(cmd, "--data-b")) == (a, b)
    assert _after(cmd, "--batch") == "4"  # 3 rounded up to a multiple of the 2 processes
    assert (_after(cmd, "--size"), _after(cmd, "--steps"), _after(cmd, "--as")) == ("64", "20", "winter")
    sets = {cmd[i + 1] for i, t in enumerate(cmd) if t == "--set"}
    assert {"lr=0.0001", "ngf=8"} <= sets
    assert launch.name == "winter" and Path(launch.run_dir).parent == tmp_path / "runs"
    assert _after(cmd, "--run-dir") == launch.run_dir and "--paired" not in cmd

    paired = ft.torchrun_command(ft.FinetuneRequest("paired", (a, b)), gpus=4, store=store, runs_root=tmp_path)
    assert _after(paired.command, "--paired") == "names" and "pix2pix" in paired.command
    assert int(_after(paired.command, "--batch")) % 4 == 0
    with pytest.raises(ft.FinetuneError, match="sketch family"):
        ft.torchrun_command(ft.FinetuneRequest("sketch", (a,)), gpus=2, store=store)
    with pytest.raises(ft.FinetuneError, match="at least 2 GPUs"):
        ft.torchrun_command(ft.FinetuneRequest("inpaint", (a,)), gpus=1, store=store)


@pytest.mark.slow
def test_the_command_trains_and_stores_on_two_cpu_processes(tmp_path: Path, store) -> None:
    pics = _pictures(tmp_path / "pics", 4)
    req = ft.FinetuneRequest("inpaint", (pics,), batch=2, size=32, steps=2, name="two-procs",
                             options={"width": 4, "dilations": (2,), "ndf": 4, "d_layers": 2})
    launch = ft.torchrun_command(req, gpus=2, store=store, runs_root=tmp_path / "runs")
    cmd = list(launch.command)
    cmd[cmd.index("cuda")] = "cpu"  # the machine has no GPU: gloo on the CPU instead
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "stored as two-procs@1" in r.stdout
    entry = store.get("two-procs")
    assert entry.card.extra["training"]["options"]["dilations"] == [2]
    assert (Path(launch.run_dir) / "checkpoint.safetensors").is_file()
