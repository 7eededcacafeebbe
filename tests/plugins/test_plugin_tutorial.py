"""The tutorial in docs/plugins.md works: its files are extracted from the page,
installed (as a dist-info on sys.path, in the packages folder with pip, and as a
single file in the plugins folder) and found through discovery."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from ganpaint.core import paths
from ganpaint.plugins import PluginManager
from ganpaint.plugins.docgen import DEFAULT_DOC
from ganpaint.testing import RecordingContext, run_tool, write_dist_info

_BLOCK = re.compile(r"<!-- file: (?P<path>[^ ]+) -->\n```[a-z]*\n(?P<body>.*?)```", re.S)


def extract(dest: Path) -> dict[str, Path]:
    """Write every ``<!-- file: path -->`` code block of docs/plugins.md under ``dest``."""
    written = {}
    for match in _BLOCK.finditer(DEFAULT_DOC.read_text(encoding="utf-8")):
        target = dest / match["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(match["body"], encoding="utf-8")
        written[match["path"]] = target
    return written


@pytest.fixture
def tutorial(tmp_path: Path) -> Path:
    files = extract(tmp_path)
    assert {
        "ganpaint-posterize/pyproject.toml",
        "ganpaint-posterize/ganpaint_posterize/__init__.py",
        "ganpaint-posterize/ganpaint_posterize/tool.py",
        "ganpaint-posterize/tests/test_posterize.py",
        "plugins-folder/threshold.py",
        "examples/test_a_plugin_with_a_model.py",
    } <= set(files)
    return tmp_path


def _install_as_dist_info(project: Path, site: Path) -> str:
    """What `pip install` leaves: the package on the path and a dist-info with the
    entry points read from the tutorial's own pyproject.toml."""
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    eps = meta["entry-points"]["ganpaint.plugins"]
    write_dist_info(site, meta["name"], meta["version"], eps)
    (site / "ganpaint_posterize").symlink_to(project / "ganpaint_posterize", target_is_directory=True)
    return str(meta["name"])


def test_tutorial_plugin_is_found_through_its_entry_point(
    tutorial: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    site.mkdir()
    dist = _install_as_dist_info(tutorial / "ganpaint-posterize", site)
    monkeypatch.syspath_prepend(str(site))
    host = PluginManager(discover=True, user_dirs=False)
    host.load()
    rec = host.record("posterize")
    assert (rec.status, rec.source, rec.dist, rec.version, rec.builtin) == (
        "loaded", "entry point", dist, "1.0.0", False,
    ), rec.error
    assert "ganpaint_posterize.tool" not in sys.modules, "discovery must not import the tool code"
    image = np.random.default_rng(2).random((10, 12, 3), dtype=np.float32)
    ctx = RecordingContext()
    out = run_tool(host, "posterize", image, ctx=ctx).image  # defaults: 4 levels
    assert set(np.round(np.unique(out) * 3, 5)) <= {0.0, 1.0, 2.0, 3.0}
    assert ctx.calls and "ganpaint_posterize.tool" in sys.modules


def test_tutorial_single_file_plugin_in_the_plugins_folder(tutorial: Path) -> None:
    (paths.plugins_dir() / "threshold.py").write_text((tutorial / "plugins-folder/threshold.py").read_text())
    host = PluginManager(discover=False, user_dirs=True)
    host.load()
    assert host.record("threshold").status == "loaded"
    image = np.zeros((2, 2, 3), np.float32)
    image[0, 0] = 0.9
    out = run_tool(host, "threshold", image).image
    assert out[0, 0].tolist() == [1, 1, 1] and out[1, 1].tolist() == [0, 0, 0]


@pytest.mark.slow
def test_tutorial_tests_pass_with_the_shipped_fixtures(tutorial: Path) -> None:
    """The tutorial's own tests and the page's example test file, run by pytest as an author would."""
    project = tutorial / "ganpaint-posterize"
    env = dict(os.environ, PYTHONPATH=str(project), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project / "tests"),
         str(tutorial / "examples")],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 passed" in proc.stdout


@pytest.mark.slow
def test_tutorial_pyproject_ships_the_package_data(tutorial: Path, tmp_path: Path) -> None:
    """A plugin built from the page's pyproject.toml installs the model files in its package."""
    project = tutorial / "ganpaint-posterize"
    models = project / "ganpaint_posterize" / "models"
    models.mkdir()
    (models / "tones.safetensors").write_bytes(b"weights")
    (models / "tones.safetensors.card.json").write_text("{}")
    target = tmp_path / "installed"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(target), str(project)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    installed = target / "ganpaint_posterize" / "models"
    assert (installed / "tones.safetensors").read_bytes() == b"weights"
    assert (installed / "tones.safetensors.card.json").is_file()


@pytest.mark.slow
def test_tutorial_installed_with_pip_target_into_the_packages_folder(tutorial: Path) -> None:
    target = paths.plugin_packages_dir()
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(target), str(tutorial / "ganpaint-posterize")],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    host = PluginManager(discover=True, user_dirs=True)
    host.load()
    rec = host.record("posterize")
    assert (rec.status, rec.source, rec.version) == ("loaded", "packages", "1.0.0"), rec.error
    out = run_tool(host, "posterize", np.full((3, 3, 3), 0.55, np.float32), {"levels": 2}).image
    assert (out == 1.0).all()
