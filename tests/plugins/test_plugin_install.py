"""Installing plugins from a file without pip (ganpaint.plugins.install, issue 13 "plugins for
packaged users"): a wheel is unpacked into plugin-packages/, a .py copied into plugins/, the
manager finds them at the next start (and at once through ``activate``), requirements GANPaint
lacks are refused, an update replaces the old files, uninstall removes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gp_wheel_maker import make_wheel

from ganpaint.core import paths
from ganpaint.plugins.install import (
    InstallError,
    activate,
    install,
    installed_plugins,
    licence_of,
    uninstall,
)
from ganpaint.plugins.manager import PluginManager
from ganpaint.testing import run_tool

PY_PLUGIN = '''# SPDX-License-Identifier: Apache-2.0
import numpy as np

from ganpaint import ToolResult, ToolSpec, hookimpl

__version__ = "2.0"
GANPAINT_API_VERSION = 1


@hookimpl
def ganpaint_register_tools():
    return [ToolSpec(id="tp_half", title="Half", run="tp_half:run")]


def run(request, ctx):
    return ToolResult(image=(request.image * 0.5).astype(np.float32))
'''


def _fresh_host() -> PluginManager:
    pm = PluginManager(search_path=[])  # entry points of plugin-packages/ only, plus plugins/*.py
    pm.load()
    return pm


def _image() -> np.ndarray:
    return np.linspace(0, 1, 8 * 6 * 3, dtype=np.float32).reshape(6, 8, 3)


def test_wheel_installs_and_its_tool_runs_after_a_restart(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    result = install(wheel)
    assert result.replaced is None and result.plugin.name == "tp-invert"
    assert result.plugin.licence == "MIT" and result.plugin.plugins == ["tp_invert"]
    target = paths.plugin_packages_dir()
    assert (target / "tp_invert" / "__init__.py").is_file()
    info = target / "tp_invert-1.0.dist-info"
    assert (info / "INSTALLER").read_text().strip() == "ganpaint" and (info / "entry_points.txt").is_file()

    host = _fresh_host()
    rec = host.record("tp_invert")
    assert rec.status == "loaded", rec.error
    assert rec.source == "packages" and rec.dist == "tp-invert"
    assert licence_of(rec.dist, rec.location) == "MIT"
    img = _image()
    out = run_tool(host, "tp_invert", img)
    np.testing.assert_allclose(out.image, 1.0 - img, atol=1e-6)


def test_activate_loads_into_a_running_host(tmp_path: Path) -> None:
    host = _fresh_host()
    assert "tp_invert" not in host.tools()
    result = install(make_wheel(tmp_path))
    records = activate(host, result.plugin)
    assert [r.name for r in records] == ["tp_invert"] and records[0].status == "loaded"
    out = run_tool(host, "tp_invert", _image())
    assert out.image[0, 0, 0] == pytest.approx(1.0)


def test_missing_dependency_is_refused_in_one_sentence(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, requires=("numpy>=1", "gp-no-such-dist-xyz>=2"))
    with pytest.raises(InstallError) as err:
        install(wheel)
    msg = str(err.value)
    assert "gp-no-such-dist-xyz>=2" in msg and "does not include" in msg and "numpy" not in msg.split("needs")[1]
    assert not list(paths.plugin_packages_dir().iterdir())  # nothing written


def test_dependency_the_app_has_in_a_wrong_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InstallError, match=r"numpy>=999 \(GANPaint has"):
        install(make_wheel(tmp_path, requires=("numpy>=999",)))
    # an extra's requirement is optional, and one GANPaint has is fine
    install(make_wheel(tmp_path, requires=("numpy", "gp-no-such-dist-xyz; extra == 'fancy'")))


def test_wheel_for_another_platform_is_refused(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, tag="cp27-cp27mu-win32",
                       extra_files={"tp_invert/_speed.pyd": b"MZ not really"})
    with pytest.raises(InstallError, match="cp27-cp27mu-win32.*cannot load"):
        install(wheel)


def test_wheel_shadowing_an_app_module_or_damaged_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InstallError, match="'numpy', which GANPaint already has"):
        install(make_wheel(tmp_path, module="numpy"))
    wheel = make_wheel(tmp_path)
    import zipfile

    damaged = tmp_path / "damaged" / wheel.name
    damaged.parent.mkdir()
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data.replace(b"1.0 - request", b"2.0 - request"))
    with pytest.raises(InstallError, match="does not match the wheel's RECORD"):
        install(damaged)


def test_update_replaces_and_uninstall_removes_everything(tmp_path: Path) -> None:
    old = make_wheel(tmp_path, version="1.0", extra_files={"tp_invert/old_only.py": b"X = 1\n"})
    install(old)
    new_dir = tmp_path / "new"
    new_dir.mkdir()
    result = install(make_wheel(new_dir, version="1.1"))
    assert result.replaced == "1.0" and result.plugin.version == "1.1"
    assert "Updated tp-invert 1.1 (was 1.0)" in result.summary()
    target = paths.plugin_packages_dir()
    assert not (target / "tp_invert" / "old_only.py").exists()  # the old version's file is gone
    assert not (target / "tp_invert-1.0.dist-info").exists()
    assert [p.version for p in installed_plugins()] == ["1.1"]

    removed = uninstall("tp_invert")  # by plugin name; the distribution name works too
    assert removed.name == "tp-invert"
    assert list(target.iterdir()) == []
    with pytest.raises(InstallError, match="no plugin named"):
        uninstall("tp-invert")


def test_single_file_plugin_installs_runs_and_uninstalls(tmp_path: Path) -> None:
    src = tmp_path / "tp_half.py"
    src.write_text(PY_PLUGIN)
    result = install(src)
    assert result.plugin.kind == "file" and result.plugin.licence == "Apache-2.0"
    assert (paths.plugins_dir() / "tp_half.py").read_text() == PY_PLUGIN
    host = _fresh_host()
    assert host.record("tp_half").status == "loaded"
    out = run_tool(host, "tp_half", _image())
    np.testing.assert_allclose(out.image, _image() * 0.5, atol=1e-6)
    assert install(src).replaced == "2.0"  # installing again is an update
    uninstall("tp_half")
    assert not (paths.plugins_dir() / "tp_half.py").exists()
    assert installed_plugins() == []


def test_not_a_plugin_is_refused(tmp_path: Path) -> None:
    for name, text in (("tp_syntax.py", "def broken(:\n"), ("tp_plain.py", "X = 1\n")):
        f = tmp_path / name
        f.write_text(text)
        with pytest.raises(InstallError):
            install(f)
    with pytest.raises(InstallError, match="neither a wheel"):
        (tmp_path / "x.zip").write_bytes(b"PK")
        install(tmp_path / "x.zip")
    assert installed_plugins() == []


def test_cli_install_and_uninstall(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ganpaint.cli.main import main

    assert main(["plugins", "install", str(make_wheel(tmp_path))]) == 0
    assert "Installed tp-invert 1.0" in capsys.readouterr().out
    assert main(["plugins", "install", str(make_wheel(tmp_path, dist="tp-needy", module="tp_needy",
                                                      tool="tp_needy", requires=("gp-absent-xyz",)))]) == 1
    assert "gp-absent-xyz" in capsys.readouterr().err
    assert main(["plugins", "uninstall", "tp-invert"]) == 0
    assert "Removed tp-invert 1.0" in capsys.readouterr().out
    assert installed_plugins() == []
