from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from ganpaint.train import TrainError, checkpoints, load_checkpoint, save_checkpoint


def _tiny() -> tuple[nn.Module, torch.optim.Optimizer]:
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 1, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.999))
    net(torch.randn(2, 3, 8, 8)).mean().backward()
    opt.step()
    return net, opt


def test_round_trip_restores_weights_optimiser_and_rng(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net, opt = _tiny()
    extra = {"pool": torch.randn(2, 3, 4, 4), "empty": torch.zeros(0)}
    np.random.seed(3)
    random.seed(3)
    path = save_checkpoint(tmp_path, step=7, modules={"net": net}, optimizers={"opt": opt}, extra=extra, meta={"x": 1})
    expect_torch, expect_np, expect_py = torch.rand(3), np.random.rand(3), random.random()

    torch.manual_seed(99)
    net2, opt2 = _tiny()
    ckpt = load_checkpoint(tmp_path)
    assert ckpt.path == path and ckpt.step == 7 and ckpt.meta["x"] == 1
    checkpoints.restore_state(ckpt, modules={"net": net2}, optimizers={"opt": opt2})
    checkpoints.restore_rng(ckpt)
    for (k, a), b in zip(net.state_dict().items(), net2.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
    s1, s2 = opt.state_dict(), opt2.state_dict()
    for idx in s1["state"]:
        for f in s1["state"][idx]:
            assert torch.equal(s1["state"][idx][f], s2["state"][idx][f])
    assert s2["param_groups"][0]["betas"] == [0.5, 0.999] or tuple(s2["param_groups"][0]["betas"]) == (0.5, 0.999)
    assert torch.equal(ckpt.extra()["pool"], extra["pool"]) and ckpt.extra()["empty"].numel() == 0
    assert torch.equal(torch.rand(3), expect_torch)
    assert np.array_equal(np.random.rand(3), expect_np)
    assert random.random() == expect_py


def test_failing_write_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    net, opt = _tiny()
    save_checkpoint(tmp_path, step=1, modules={"net": net}, optimizers={"opt": opt})
    before = (tmp_path / checkpoints.CHECKPOINT_NAME).read_bytes()

    def disk_full(f, data: bytes) -> None:
        f.write(data[: len(data) // 3])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoints, "_write_all", disk_full)
    with torch.no_grad():
        net[0].weight.add_(1.0)
    with pytest.raises(OSError, match="No space"):
        save_checkpoint(tmp_path, step=2, modules={"net": net}, optimizers={"opt": opt})
    assert (tmp_path / checkpoints.CHECKPOINT_NAME).read_bytes() == before
    assert not list(tmp_path.glob("*.tmp"))
    assert load_checkpoint(tmp_path).step == 1


def test_truncated_or_foreign_files_are_refused(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net, opt = _tiny()
    path = save_checkpoint(tmp_path, step=1, modules={"net": net}, optimizers={"opt": opt})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(TrainError, match="damaged"):
        load_checkpoint(tmp_path)
    path.write_bytes(b"\x80\x04\x95pickle")
    with pytest.raises(TrainError, match="damaged"):
        load_checkpoint(path)
    with pytest.raises(TrainError, match="no checkpoint"):
        load_checkpoint(tmp_path / "elsewhere")


def test_checkpoint_of_another_architecture_is_a_clear_error(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net, opt = _tiny()
    save_checkpoint(tmp_path, step=1, modules={"net": net}, optimizers={"opt": opt})
    other = nn.Conv2d(3, 1, 1)
    with pytest.raises(TrainError, match="does not fit"):
        checkpoints.restore_state(load_checkpoint(tmp_path), modules={"net": other}, optimizers={})
