"""`torchrun --nproc_per_node=2 -m ganpaint train ...` on this machine's CPU (gloo), end to end:
a signal to one rank (SIGTERM) or to all of them (Ctrl+C in a terminal: SIGINT to the
process group, then torchrun's own) stops every rank within 15 s with one checkpoint, written
by rank 0; the run then resumes under one plain process and stores its model."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from ganpaint.cli.main import main
from ganpaint.engine.models.store import ModelStore
from ganpaint.train import load_checkpoint

TINY = ["--size", "32", "--batch", "2", "--set", "ngf=4", "--set", "ndf=4", "--set", "num_downs=5",
        "--set", "d_layers=1", "--set", "norm=instance", "--no-progress"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def data(tmp_path: Path, pictures, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "home"))
    monkeypatch.setenv("GANPAINT_DEVICE", "cpu")
    a, b = tmp_path / "A", tmp_path / "B"
    pictures(a, 4, size=(36, 36), seed=1)
    pictures(b, 4, size=(36, 36), seed=2)
    return a, b


def _torchrun(tmp_path: Path, a: Path, b: Path, run: Path) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / "torchrun.log"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
           f"--master_port={_free_port()}", "-m", "ganpaint", "train", "pix2pix", "--data", str(a),
           "--data-b", str(b), "--steps", "100000", "--as", "dist-tiny", "--run-dir", str(run),
           "--checkpoint-every", "3", *TINY]
    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    return proc, log


def _ranks(proc: subprocess.Popen) -> dict[int, psutil.Process]:
    out = {}
    for child in psutil.Process(proc.pid).children(recursive=True):
        try:
            rank = child.environ().get("RANK")
        except psutil.Error:
            continue
        if rank is not None and "ganpaint" in " ".join(child.cmdline()):
            out[int(rank)] = child
    return out


def _stop_and_time(proc: subprocess.Popen, run: Path, log: Path, how: str) -> float:
    try:
        deadline = time.monotonic() + 120
        while not (run / "checkpoint.safetensors").exists():
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "no checkpoint: training never got going\n" + log.read_text()[-3000:]
            time.sleep(0.1)
        ranks = _ranks(proc)
        assert sorted(ranks) == [0, 1], ranks
        t0 = time.monotonic()
        if how == "sigterm-rank-1":
            ranks[1].send_signal(signal.SIGTERM)
        else:  # Ctrl+C in a terminal: SIGINT to the whole process group
            os.killpg(proc.pid, signal.SIGINT)
        gone, alive = psutil.wait_procs(list(ranks.values()), timeout=15)
        took = time.monotonic() - t0
        assert not alive, f"ranks still running 15 s after {how}\n" + log.read_text()[-3000:]
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return took


@pytest.mark.slow
@pytest.mark.parametrize("how", ["sigterm-rank-1", "ctrl-c"])
def test_a_signal_stops_every_rank_with_a_checkpoint_and_one_process_resumes(
        tmp_path: Path, data: tuple[Path, Path], how: str) -> None:
    a, b = data
    run = tmp_path / "run"
    proc, log = _torchrun(tmp_path, a, b, run)
    took = _stop_and_time(proc, run, log, how)
    text = log.read_text()
    assert took < 15
    # torchrun itself reports the ranks' exit status 130 with a traceback of its own; none from ours
    assert re.search(r'File ".*/ganpaint/', text) is None and "KeyboardInterrupt" not in text, text[-3000:]
    assert "every process stops after this step" in text and "cancelled at step" in text
    assert text.count("cancelled at step") == 1  # rank 0 alone speaks
    step = load_checkpoint(run).step
    assert step >= 3 and f"cancelled at step {step};" in text
    assert load_checkpoint(run).meta["reason"] == "cancel"

    # resumed by one plain process (no torchrun), to a few steps more, and stored
    assert main(["train", "pix2pix", "--resume", str(run), "--steps", str(step + 2), "--no-progress"]) == 0
    assert load_checkpoint(run).step == step + 2
    entry = ModelStore().get("dist-tiny")
    assert entry.card.extra["training"]["steps"] == step + 2
