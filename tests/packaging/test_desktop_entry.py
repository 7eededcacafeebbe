"""The desktop entry of the .deb and the AppDir validates (issue 13, point 4: Version=1.5 made
make_appdir.sh exit 1 on Debian 12 once desktop-file-utils was installed)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = ROOT / "packaging" / "deb" / "ganpaint.desktop"
needs_validator = pytest.mark.skipif(not shutil.which("desktop-file-validate"),
                                     reason="desktop-file-utils is not installed")


def test_the_entry_names_a_spec_version_debian_12_knows():
    version = re.search(r"^Version=(.*)$", DESKTOP.read_text(encoding="utf-8"), re.M).group(1)
    assert version in ("1.0", "1.1", "1.2", "1.3", "1.4")  # desktop-file-utils 0.26 (Debian 12)


@needs_validator
def test_the_debs_desktop_entry_validates():
    proc = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert proc.returncode == 0 and "error" not in proc.stdout, proc.stdout + proc.stderr


@needs_validator
def test_make_appdir_validates_its_entries_and_finishes(tmp_path):
    bundle = tmp_path / "dist" / "ganpaint"
    bundle.mkdir(parents=True)
    fake = bundle / "ganpaint"
    fake.write_text("#!/bin/sh\necho 'ganpaint 0.1.0'\n", encoding="utf-8")
    fake.chmod(0o755)
    appdir = tmp_path / "GANPaint.AppDir"
    env = {**os.environ, "PKG_DIST": str(tmp_path / "dist"), "APPDIR_OUT": str(appdir)}
    proc = subprocess.run(["bash", str(ROOT / "packaging" / "appdir" / "make_appdir.sh")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ganpaint 0.1.0" in proc.stdout
    for entry in (appdir / "ganpaint.desktop", appdir / "usr" / "share" / "applications" / "ganpaint.desktop"):
        check = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout
