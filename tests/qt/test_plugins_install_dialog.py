"""Edit > Plugins > Install from file… / Uninstall (issue 13): a wheel built in the test is installed
through the dialog (QFileDialog answered by the test), its tool then runs through the window's
job path; a wheel needing a missing distribution is refused in the dialog; a .py installs; the
licence column shows each plugin's licence; Uninstall removes the files and the tools."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ganpaint.core import paths
from ganpaint.core.layers import LayerKind
from ganpaint.qt.dialogs.plugins import LICENCE_COLUMN, PluginsDialog

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
from gp_wheel_maker import make_wheel  # noqa: E402

PY_PLUGIN = '''# SPDX-License-Identifier: BSD-3-Clause
from ganpaint import ToolResult, ToolSpec, hookimpl

GANPAINT_API_VERSION = 1


@hookimpl
def ganpaint_register_tools():
    return [ToolSpec(id="tp_dlg_same", title="Same", run="tp_dlg_file:run")]


def run(request, ctx):
    return ToolResult(image=request.image.copy())
'''


def _choose(monkeypatch, path: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))


def _row(dlg: PluginsDialog, name: str) -> int:
    return next(r for r in range(dlg.table.rowCount()) if dlg.record_at(r).name == name)


def _run(qtbot, win, tool_id: str) -> np.ndarray:
    from PySide6.QtWidgets import QApplication

    spec = win.plugin_manager.tools()[tool_id]
    assert win.run_tool(spec, {}) is not None
    deadline = time.monotonic() + 30
    while win.runner.pending() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    QApplication.processEvents()
    results = [ly for ly in win.controller.document.layers if ly.kind == LayerKind.RESULT]
    assert results, "no result layer"
    return results[-1].pixels


def test_install_wheel_through_the_dialog_then_its_tool_runs(qtbot, window, monkeypatch, tmp_path) -> None:
    dlg = PluginsDialog(window.plugin_manager, window)
    qtbot.addWidget(dlg)
    _choose(monkeypatch, make_wheel(tmp_path, module="tp_dlg_inv", dist="tp-dlg-inv", tool="tp_dlg_inv"))
    dlg.install_button.click()
    assert "Installed tp-dlg-inv 1.0" in dlg.status.text() and "tp_dlg_inv" in dlg.status.text()
    assert (paths.plugin_packages_dir() / "tp_dlg_inv" / "__init__.py").is_file()
    row = _row(dlg, "tp_dlg_inv")
    assert dlg.table.item(row, LICENCE_COLUMN).text() == "MIT"
    assert dlg.uninstall_button.isEnabled()
    assert "Licence: MIT" in dlg.details.toPlainText()

    doc = window.controller.document
    before = doc.composite()[..., :3].astype(int)
    out = _run(qtbot, window, "tp_dlg_inv")
    assert out.shape[:2] == before.shape[:2]
    assert np.abs(out[..., :3].astype(int) - (255 - before)).max() <= 1  # inverted

    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    dlg.table.selectRow(_row(dlg, "tp_dlg_inv"))
    dlg.uninstall_button.click()
    assert "Removed tp-dlg-inv" in dlg.status.text()
    assert not (paths.plugin_packages_dir() / "tp_dlg_inv").exists()
    assert "tp_dlg_inv" not in window.plugin_manager.tools()
    assert all(dlg.record_at(r).name != "tp_dlg_inv" for r in range(dlg.table.rowCount()))


def test_missing_dependency_is_refused_in_the_dialog(qtbot, window, monkeypatch, tmp_path) -> None:
    dlg = PluginsDialog(window.plugin_manager, window)
    qtbot.addWidget(dlg)
    _choose(monkeypatch, make_wheel(tmp_path, module="tp_dlg_needy", dist="tp-dlg-needy", tool="tp_dlg_needy",
                                    requires=("gp-not-in-ganpaint-xyz>=1",)))
    dlg.install_button.click()
    text = dlg.status.text()
    assert text.startswith("Not installed:") and "gp-not-in-ganpaint-xyz>=1" in text
    assert "tp_dlg_needy" not in window.plugin_manager.tools()
    assert not list(paths.plugin_packages_dir().iterdir())


def test_single_file_plugin_installs_shows_licence_and_uninstalls(qtbot, window, monkeypatch, tmp_path) -> None:
    src = tmp_path / "tp_dlg_file.py"
    src.write_text(PY_PLUGIN)
    dlg = PluginsDialog(window.plugin_manager, window)
    qtbot.addWidget(dlg)
    _choose(monkeypatch, src)
    dlg.install_button.click()
    assert "Installed tp_dlg_file" in dlg.status.text()
    assert (paths.plugins_dir() / "tp_dlg_file.py").is_file()
    assert "tp_dlg_same" in window.plugin_manager.tools()
    assert dlg.table.item(_row(dlg, "tp_dlg_file"), LICENCE_COLUMN).text() == "BSD-3-Clause"
    # a built-in cannot be uninstalled here
    dlg.table.selectRow(_row(dlg, "classic"))
    assert not dlg.uninstall_button.isEnabled()
    assert not dlg.uninstall_selected(confirm=False)
    dlg.table.selectRow(_row(dlg, "tp_dlg_file"))
    assert dlg.uninstall_selected(confirm=False)
    assert not (paths.plugins_dir() / "tp_dlg_file.py").exists()
    assert "tp_dlg_same" not in window.plugin_manager.tools()
