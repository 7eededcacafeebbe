"""Issue 12, point 5: the automatic inference budget follows available memory (minus a
margin), so pictures that fit run untiled; a tiled run honours a cancel within a second."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from ganpaint.core.specs import JobCancelled
from ganpaint.engine.inference import memory, tiling

GB = 1024**3


@pytest.fixture
def auto_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GANPAINT_INFERENCE_MEMORY_MB", raising=False)
    monkeypatch.setattr(memory, "_configured_mb", lambda: 0)


def _fake_psutil(monkeypatch: pytest.MonkeyPatch, available: int) -> None:
    import psutil

    monkeypatch.setattr(psutil, "virtual_memory", lambda: SimpleNamespace(available=available, total=2 * available))


@pytest.mark.parametrize("available_gb", [2, 8, 32, 64])
def test_budget_is_available_memory_minus_a_margin(monkeypatch: pytest.MonkeyPatch, auto_budget: None,
                                                   available_gb: int) -> None:
    _fake_psutil(monkeypatch, available_gb * GB)
    assert memory.available_memory_bytes() == available_gb * GB
    budget = memory.memory_budget_bytes("cpu")
    margin = max(memory.MARGIN_MIN_BYTES, available_gb * GB // 4)
    assert budget == available_gb * GB - margin
    # it grows with the machine: no fixed cap as the former 1.5 GB
    if available_gb >= 8:
        assert budget > 4 * GB


def test_budget_never_below_the_minimum(monkeypatch: pytest.MonkeyPatch, auto_budget: None) -> None:
    _fake_psutil(monkeypatch, 512 * 1024**2)
    assert memory.memory_budget_bytes("cpu") == memory.MIN_BUDGET_BYTES


def test_overrides_still_win(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_psutil(monkeypatch, 64 * GB)
    monkeypatch.setenv("GANPAINT_INFERENCE_MEMORY_MB", "300")
    assert memory.memory_budget_bytes("cpu") == 300 * 2**20
    assert memory.memory_budget_bytes("cpu", override_mb=40) == 40 * 2**20


def test_a_2560x1600_picture_runs_untiled_when_memory_allows(monkeypatch: pytest.MonkeyPatch,
                                                             auto_budget: None) -> None:
    """With 8 GB available, a model needing 1 KB per pixel (4 GB at 2560x1600) runs in one pass
    (also when a square tile of the budget's area, 2508 px, is narrower than the picture)."""
    _fake_psutil(monkeypatch, 8 * GB)
    calls: list[tuple[int, ...]] = []

    class Probe(nn.Module):
        size_multiple = 4

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            calls.append(tuple(x.shape))
            return x

    model = Probe()
    monkeypatch.setattr(tiling, "activation_bytes_per_pixel", lambda m, dtype=torch.float32: 1024.0)
    monkeypatch.setattr(tiling, "receptive_radius", lambda m: 0)
    x = torch.empty((1, 3, 1600, 2560), device="meta")
    tiling.run_full_resolution(model, x, model)
    assert calls == [(1, 3, 1600, 2560)]
    # and the former budget (1.5 GB) would have tiled it
    calls.clear()
    tiling.run_full_resolution(model, x, model, budget_bytes=1536 * 1024**2)
    assert len(calls) > 1


class _SlowNet(nn.Module):
    """Many slow leaf layers: one tile takes ``layers * delay`` seconds."""

    size_multiple = 1

    def __init__(self, layers: int, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.body = nn.Sequential(*[_Sleep(delay) for _ in range(layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class _Sleep(nn.Module):
    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        time.sleep(self.delay)
        return x


class _Ctx:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.messages: list[str] = []

    def progress(self, fraction: float, message: str = "", preview: object = None) -> None:
        self.messages.append(message)
        if self.event.is_set():
            raise JobCancelled("cancelled")

    def cancelled(self) -> bool:
        return self.event.is_set()


def test_tiled_cancel_lands_within_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    # each tile runs 100 layers of 50 ms = 5 s: a check between tiles alone would take > 3 s
    model = _SlowNet(100, 0.05)
    monkeypatch.setattr(tiling, "activation_bytes_per_pixel", lambda m, dtype=torch.float32: 4096.0)
    monkeypatch.setattr(tiling, "receptive_radius", lambda m: 0)
    x = torch.zeros((1, 3, 64, 64))
    ctx = _Ctx()
    budget = int(4096.0 * 32 * 32)  # 32 px tiles: several tiles
    timer = threading.Timer(0.5, ctx.event.set)
    timer.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(JobCancelled):
            tiling.run_full_resolution(model, x, model, ctx=ctx, budget_bytes=budget)
    finally:
        timer.cancel()
    elapsed = time.monotonic() - t0 - 0.5
    assert any(m.startswith("Tile") for m in ctx.messages)  # it really was tiled
    assert elapsed < 3.0, f"cancel took {elapsed:.1f} s"
    # the hooks are gone afterwards
    assert all(not m._forward_pre_hooks for m in model.modules())
