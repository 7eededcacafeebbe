"""The memory budget and the activation estimate (no timing)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganpaint.engine.inference import memory
from ganpaint.nn import ResnetConfig, ResnetGenerator


def test_available_memory_is_positive() -> None:
    assert memory.available_memory_bytes() > 0


def test_budget_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("GANPAINT_INFERENCE_MEMORY_MB", "300")
    assert memory.memory_budget_bytes("cpu") == 300 * 2**20
    assert memory.memory_budget_bytes("cpu", override_mb=50) == 50 * 2**20
    monkeypatch.setenv("GANPAINT_INFERENCE_MEMORY_MB", "0")
    monkeypatch.setattr(memory, "_configured_mb", lambda: 0)
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 1000 * 2**20)
    # available minus the margin (at least 1 GB), never under the minimum budget
    assert memory.memory_budget_bytes("cpu") == memory.MIN_BUDGET_BYTES
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 64 * 2**30)
    assert memory.memory_budget_bytes("cpu") == 48 * 2**30  # no fixed cap any more


def test_settings_value_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from ganpaint.core import settings

    monkeypatch.delenv("GANPAINT_INFERENCE_MEMORY_MB", raising=False)
    monkeypatch.setattr(settings.Settings, "load", classmethod(lambda cls, path=None: cls(inference_memory_mb=123)))
    assert memory.memory_budget_bytes("cpu") == 123 * 2**20


def test_estimate_of_a_plain_conv_chain_matches_a_hand_count() -> None:
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(True), nn.Conv2d(16, 8, 3, padding=1)).eval()
    # largest moment: conv2 running, its input 16 ch + output 8 ch alive, and the picture
    # (3 ch) the caller still holds; the in-place ReLU adds nothing
    want = (3 + 16 + 8) * 4 * memory.SAFETY
    assert memory.activation_bytes_per_pixel(model) == pytest.approx(want, rel=0.01)


def test_estimate_grows_with_width_and_halves_with_bf16() -> None:
    narrow = ResnetGenerator(ResnetConfig(ngf=8, n_blocks=2)).eval()
    wide = ResnetGenerator(ResnetConfig(ngf=16, n_blocks=2)).eval()
    a, b = memory.activation_bytes_per_pixel(narrow), memory.activation_bytes_per_pixel(wide)
    assert 1.7 < b / a < 2.3
    assert memory.activation_bytes_per_pixel(wide, torch.bfloat16) == pytest.approx(b / 2, rel=0.01)
    assert memory.fits(wide, 64, 64, int(b * 64 * 64) + 1)
    assert not memory.fits(wide, 64, 64, int(b * 64 * 64) - 100)
