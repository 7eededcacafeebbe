"""Every plugin shipped in plugins/ counts as built-in (safe mode loads it; its faults are ours)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from ganpaint.plugins.discovery import BUILTIN_DISTRIBUTIONS

ROOT = Path(__file__).resolve().parents[2]


def test_every_plugin_in_the_repository_is_a_builtin_distribution():
    shipped = {tomllib.loads(p.read_text())["project"]["name"] for p in ROOT.glob("plugins/*/pyproject.toml")}
    assert "ganpaint-upscale" in shipped
    assert shipped <= BUILTIN_DISTRIBUTIONS, sorted(shipped - BUILTIN_DISTRIBUTIONS)
