"""Every plugin-host test runs with its own empty data folder and a sys.path /
sys.modules that are put back afterwards, so nothing leaks between tests and no
plugin installed on the machine is seen unless a test asks for discovery."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# the helper modules gp_*.py beside this file are imported by name (the suite runs
# with --import-mode=importlib, which does not put test folders on sys.path)
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@pytest.fixture(autouse=True)
def _isolated(isolated_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        # only the throw-away plugin modules tests create; never GANPaint's or a library's
        if name.startswith(("tp_", "ganpaint_posterize", "threshold")):
            del sys.modules[name]
    importlib.invalidate_caches()
