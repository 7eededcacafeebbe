"""One lock for the bundle and its test run (issue 13, point 6): packaging/constraints-bundle.txt."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("lockfile", ROOT / "packaging" / "lockfile.py")
LF = importlib.util.module_from_spec(spec)
spec.loader.exec_module(LF)

PINS = LF.parse((ROOT / "packaging" / "constraints-bundle.txt").read_text(encoding="utf-8"))


def _requirement_names(pyproject: Path) -> set[str]:
    deps = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"].get("dependencies", [])
    return {LF.norm(re.match(r"[A-Za-z0-9._-]+", d).group(0)) for d in deps}


def test_the_lock_pins_the_cpu_torch_2_13_and_a_pyside_that_does_not_leak():
    assert PINS["torch"].split("+")[0] == "2.13.0"
    major, minor = (int(x) for x in PINS["pyside6-essentials"].split(".")[:2])
    assert (major, minor) < (6, 12) and PINS["shiboken6"] == PINS["pyside6-essentials"]
    assert "pyinstaller" in PINS and "pyinstaller-hooks-contrib" in PINS


def test_every_requirement_of_ganpaint_and_its_plugins_is_pinned():
    names = _requirement_names(ROOT / "pyproject.toml")
    for p in sorted((ROOT / "plugins").glob("*/pyproject.toml")):
        names |= _requirement_names(p)
    missing = sorted(n for n in names if not LF.is_local(n) and n not in PINS)
    assert not missing, f"not in packaging/constraints-bundle.txt: {missing} (bash packaging/lock_bundle.sh)"


def test_the_check_reports_any_drift():
    pins = {"torch": "2.13.0+cpu", "numpy": "2.4.6"}
    installed = {"torch": "2.14.1", "numpy": "2.4.6", "ganpaint-classic": "0.1.0", "pip": "23.2.1", "rich": "1.0"}
    assert LF.mismatches(installed, pins) == ["rich 1.0 is installed but not in the lock",
                                              "torch 2.14.1 is installed, the lock says 2.13.0+cpu"]
    assert LF.mismatches({"torch": "2.13.0+cpu", "numpy": "2.4.6"}, pins) == []


def test_the_lock_is_made_from_a_pip_report_without_local_projects():
    report = {"install": [
        {"metadata": {"name": "Torch", "version": "2.13.0+cpu"}, "download_info": {"url": "file:///w/torch.whl"}},
        {"metadata": {"name": "ganpaint", "version": "0.1.0"}, "download_info": {"url": "file:///src", "dir_info": {}}},
        {"metadata": {"name": "PySide6_Essentials", "version": "6.11.3"}, "download_info": {"url": "https://x"}},
    ]}
    text = LF.from_report(report, ["made by a test"])
    assert text == "# made by a test\npyside6-essentials==6.11.3\ntorch==2.13.0+cpu\n"


def test_build_sh_installs_and_checks_the_lock_and_smoke_frozen_checks_it_too():
    build = (ROOT / "packaging" / "build.sh").read_text(encoding="utf-8")
    assert '-c "$LOCK" -r "$LOCK"' in build and "packaging/lockfile.py check" in build
    assert "torch==2.13.0" not in build.replace("#", "\n#").split("set -euo")[1]  # no second pin
    smoke = (ROOT / "packaging" / "smoke_frozen.sh").read_text(encoding="utf-8")
    assert "packaging/lockfile.py check" in smoke
