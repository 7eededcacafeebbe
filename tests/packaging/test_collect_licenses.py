"""packaging/collect_licenses.py: the notices the bundle ships, run against this environment."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _module():
    spec = importlib.util.spec_from_file_location("collect_licenses", ROOT / "packaging" / "collect_licenses.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_notices_name_qt_and_credit_the_sample_photo(tmp_path):
    out = _module().collect(tmp_path / "LICENSES", ROOT)
    index = (out / "THIRD-PARTY.md").read_text(encoding="utf-8")
    assert "PySide6" in index and (out / "LGPL-3.0.txt").is_file()
    samples = (out / "SAMPLES.md").read_text(encoding="utf-8")
    assert "CC-BY-SA-4.0" in samples and "Dragonfly" in samples and "Bolly" in samples
