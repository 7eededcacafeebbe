"""packaging/testdata/dialog_install_check.py, the frozen app's "a wheel plugin installed through the
Plugins dialog runs" check (smoke_frozen.sh, chroot_test.sh), here from the source tree: it must
pass with the real demo wheel, and fail when the wheel's tool does not do its job."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "testdata" / "dialog_install_check.py"
DEMO = ROOT / "packaging" / "testdata" / "ganpaint-posterize-demo"


def _wheel(tmp_path: Path, *, broken: bool = False) -> Path:
    src = tmp_path / "src"
    shutil.copytree(DEMO, src)
    if broken:  # the tool returns its input: not posterized
        init = src / "ganpaint_posterize_demo" / "__init__.py"
        init.write_text(init.read_text().replace("out = np.round(", "out = request.image + 0 * np.round("))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path / "w"), str(src)], check=True, timeout=120)
    return next((tmp_path / "w").glob("ganpaint_posterize_demo-*.whl"))


def _check(tmp_path: Path, wheel: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GANPAINT_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run([sys.executable, "-m", "ganpaint", "--run-python", str(SCRIPT), str(wheel)],
                          capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)


def test_the_demo_wheel_installs_through_the_dialog_runs_and_uninstalls(tmp_path):
    p = _check(tmp_path, _wheel(tmp_path))
    assert p.returncode == 0, p.stdout + p.stderr[-3000:]
    for step in ("install: ok", "tool: ok", "pixels: ok", "uninstall: ok", "PASSED"):
        assert f"dialog-install: {step}" in p.stdout


@pytest.mark.slow
def test_a_tool_that_does_not_posterize_fails_the_check(tmp_path):
    p = _check(tmp_path, _wheel(tmp_path, broken=True))
    assert p.returncode == 1
    assert "dialog-install: pixels: FAIL" in p.stdout
