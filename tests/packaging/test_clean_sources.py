"""Stale build output never reaches the bundle (issue 13, point 5)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not shutil.which("git"), reason="needs git")
def test_the_copy_build_sh_installs_from_has_no_old_build_lib(tmp_path):
    repo = tmp_path / "repo"
    (repo / "packaging").mkdir(parents=True)
    shutil.copy(ROOT / "packaging" / "clean_sources.sh", repo / "packaging")
    (repo / ".gitignore").write_text("build/\n*.egg-info/\n__pycache__/\n", encoding="utf-8")
    (repo / "pyproject.toml").write_text("[project]\nname='ganpaint'\n", encoding="utf-8")
    plugin = repo / "plugins" / "demo"
    (plugin / "ganpaint_demo").mkdir(parents=True)
    (plugin / "pyproject.toml").write_text("[project]\nname='ganpaint-demo'\n", encoding="utf-8")
    (plugin / "ganpaint_demo" / "__init__.py").write_text("", encoding="utf-8")
    (plugin / "ganpaint_demo" / "gone.py").write_text("x = 1\n", encoding="utf-8")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    # an earlier build left setuptools output behind; then the module was deleted, a new one added
    (plugin / "build" / "lib" / "ganpaint_demo").mkdir(parents=True)
    (plugin / "build" / "lib" / "ganpaint_demo" / "gone.py").write_text("x = 1\n", encoding="utf-8")
    (plugin / "ganpaint_demo.egg-info").mkdir()
    (plugin / "ganpaint_demo.egg-info" / "SOURCES.txt").write_text("gone.py\n", encoding="utf-8")
    (plugin / "ganpaint_demo" / "gone.py").unlink()
    (plugin / "ganpaint_demo" / "new.py").write_text("y = 2\n", encoding="utf-8")

    proc = subprocess.run(["bash", str(repo / "packaging" / "clean_sources.sh"), "build/pkg-src"], cwd=tmp_path,
                          capture_output=True, text=True, env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"})
    assert proc.returncode == 0, proc.stderr
    copy = repo / "build" / "pkg-src"
    files = sorted(str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file())
    assert files == ["plugins/demo/ganpaint_demo/__init__.py", "plugins/demo/ganpaint_demo/new.py",
                     "plugins/demo/pyproject.toml", "pyproject.toml"]


def test_make_clean_removes_the_plugins_build_output():
    if not shutil.which("make"):
        pytest.skip("needs make")
    out = subprocess.run(["make", "-n", "clean"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "plugins/*/build" in out and "plugins/*/*.egg-info" in out


def test_make_package_deb_and_appdir_do_what_the_readme_says():
    if not shutil.which("make"):
        pytest.skip("needs make")
    run = {t: subprocess.run(["make", "-n", t], cwd=ROOT, capture_output=True, text=True).stdout
           for t in ("package", "deb", "appdir")}
    assert "packaging/build.sh" in run["package"] and "build_deb" not in run["package"]
    assert "packaging/build.sh" in run["deb"] and "packaging/deb/build_deb.sh" in run["deb"]
    assert "packaging/build.sh" in run["appdir"] and "packaging/appdir/make_appdir.sh" in run["appdir"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`make package` builds the desktop bundle (the one-folder" in readme and "`make deb`" in readme
