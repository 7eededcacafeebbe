"""Where plugins come from: entry points, the plugins folder, the packages folder;
and the off switches (GANPAINT_DISABLE_PLUGINS, safe mode)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from ganpaint.core import paths
from ganpaint.plugins import PluginManager
from ganpaint.plugins.discovery import BUILTIN_DISTRIBUTIONS, entry_point_candidates
from ganpaint.testing import run_tool, write_dist_info

PLUGIN_SOURCE = '''
from ganpaint import ToolSpec, ToolResult, hookimpl
import numpy as np

__version__ = "{version}"
GANPAINT_API_VERSION = 1

@hookimpl
def ganpaint_register_tools():
    return [ToolSpec(id="{tool}", title="{tool}", run="{module}:run")]

def run(request, ctx):
    ctx.progress(1.0)
    return ToolResult(image=np.asarray(request.image)[..., ::-1].copy())
'''


def _package(root: Path, module: str, tool: str, version: str = "1.2.3") -> None:
    pkg = root / module
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(PLUGIN_SOURCE.format(version=version, tool=tool, module=module))


def test_entry_point_in_a_dist_info_on_sys_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _package(tmp_path, "tp_ep_plugin", "swap-ep")
    write_dist_info(tmp_path, "tp-ep-plugin", "1.2.3", {"swapper": "tp_ep_plugin"})
    monkeypatch.syspath_prepend(str(tmp_path))
    host = PluginManager(discover=True, user_dirs=False)
    host.load()
    rec = host.record("swapper")
    assert (rec.status, rec.source, rec.version, rec.dist, rec.builtin) == (
        "loaded", "entry point", "1.2.3", "tp-ep-plugin", False,
    )
    assert rec.tools == ["swap-ep"]
    image = np.random.default_rng(0).random((3, 4, 3), dtype=np.float32)
    np.testing.assert_array_equal(run_tool(host, "swap-ep", image).image, image[..., ::-1])


def test_classic_is_found_as_a_builtin_through_its_entry_point() -> None:
    host = PluginManager(discover=True, user_dirs=False)
    host.load()
    rec = host.record("classic")
    assert rec.builtin and rec.dist == "ganpaint-classic" and rec.status == "loaded", rec.error
    assert {"blur", "sharpen", "desaturate", "invert"} <= set(host.tools())


def test_search_path_limits_discovery(tmp_path: Path) -> None:
    _package(tmp_path, "tp_only_here", "only-here")
    write_dist_info(tmp_path, "tp-only-here", "0.1", {"only": "tp_only_here"})
    cands = entry_point_candidates([str(tmp_path)])
    assert [(c.name, c.dist) for c in cands] == [("only", "tp-only-here")]


def test_single_file_plugin_in_the_plugins_folder() -> None:
    folder = paths.plugins_dir()
    (folder / "tp_single.py").write_text(PLUGIN_SOURCE.format(version="0.5", tool="swap-file", module="tp_single"))
    (folder / "_ignored.py").write_text("raise RuntimeError('must not be loaded')\n")
    (folder / "notes.txt").write_text("not a plugin")
    host = PluginManager(discover=False, user_dirs=True)
    host.load()
    assert [r.name for r in host.records()] == ["tp_single"]
    rec = host.record("tp_single")
    assert (rec.status, rec.source, rec.version) == ("loaded", "file", "0.5")
    image = np.zeros((2, 2, 3), np.float32)
    image[..., 0] = 1
    assert run_tool(host, "swap-file", image).image[0, 0].tolist() == [0, 0, 1]


def test_packages_folder_like_pip_install_target() -> None:
    target = paths.plugin_packages_dir()
    _package(target, "tp_pkgplug", "swap-pkg", version="2.0")
    write_dist_info(target, "tp-pkgplug", "2.0", {"pkgplug": "tp_pkgplug"})
    assert str(target) not in sys.path
    host = PluginManager(discover=True, user_dirs=True)
    host.load()
    rec = host.record("pkgplug")
    assert (rec.status, rec.source, rec.version) == ("loaded", "packages", "2.0"), rec.error
    assert str(target) == sys.path[-1]  # appended: never shadows GANPaint's own dependencies
    assert run_tool(host, "swap-pkg", np.zeros((2, 2, 3), np.float32)).image.shape == (2, 2, 3)


def test_env_var_disables_named_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    folder = paths.plugins_dir()
    for name in ("tp_env_a", "tp_env_b", "tp_env_c"):
        (folder / f"{name}.py").write_text(PLUGIN_SOURCE.format(version="1", tool=name.replace("_", "-"), module=name))
    monkeypatch.setenv("GANPAINT_DISABLE_PLUGINS", " tp_env_a, tp_env_c ,")
    host = PluginManager(discover=False, user_dirs=True)
    host.load()
    status = {r.name: (r.status, r.error) for r in host.records()}
    assert status["tp_env_a"] == ("disabled", "disabled by GANPAINT_DISABLE_PLUGINS")
    assert status["tp_env_c"][0] == "disabled"
    assert status["tp_env_b"] == ("loaded", "")
    assert set(host.tools()) == {"tp-env-b"}
    assert "tp_env_a" not in sys.modules, "a disabled plugin is never imported"


def test_env_var_accepts_distribution_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANPAINT_DISABLE_PLUGINS", "ganpaint-classic")
    host = PluginManager(discover=True, user_dirs=False)
    host.load()
    assert host.record("classic").status == "disabled"
    assert "blur" not in host.tools()


def test_safe_mode_loads_builtins_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _package(tmp_path, "tp_third_party", "third")
    write_dist_info(tmp_path, "tp-third-party", "1.0", {"third": "tp_third_party"})
    monkeypatch.syspath_prepend(str(tmp_path))
    (paths.plugins_dir() / "tp_single_safe.py").write_text(
        PLUGIN_SOURCE.format(version="1", tool="single-safe", module="tp_single_safe")
    )
    host = PluginManager(discover=True, safe_mode=True, user_dirs=True)
    host.load()
    status = {r.name: r.status for r in host.records()}
    assert status["classic"] == "loaded"
    assert status["third"] == "disabled" and status["tp_single_safe"] == "disabled"
    assert "safe mode" in host.record("third").error
    assert "third" not in host.tools() and "blur" in host.tools()
    assert "tp_third_party" not in sys.modules
    assert host.host_info().safe_mode


def test_builtin_set_names_the_shipped_distributions() -> None:
    assert "ganpaint-classic" in BUILTIN_DISTRIBUTIONS
    assert all(name.startswith("ganpaint-") for name in BUILTIN_DISTRIBUTIONS)


def test_a_file_plugin_cannot_shadow_an_imported_module() -> None:
    (paths.plugins_dir() / "json.py").write_text("GANPAINT_API_VERSION = 1\n")
    host = PluginManager(discover=False, user_dirs=True)
    host.load()
    rec = host.record("json")
    assert rec.status == "failed" and "already imported; rename the file" in rec.error
    import json

    assert hasattr(json, "dumps")
