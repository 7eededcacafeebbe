"""A wheel plugin installed through the Plugins dialog runs: the packaged user's path, end to end.

    ganpaint --run-python packaging/testdata/dialog_install_check.py WHEEL [PICTURE]

Run by the frozen app (smoke_frozen.sh, chroot_test.sh), with offscreen Qt and a data folder of
its own (GANPAINT_DATA_DIR). It opens the editor window with every plugin, opens Edit > Plugins…,
answers the file chooser of "Install from file…" with WHEEL (the posterize demo of
packaging/testdata), and checks: the dialog says it installed it, the tool is in the window, it
runs through the window's job path on PICTURE (default: the bundled sample) and its result is
posterized (every channel on the 4 levels 0, 85, 170, 255; a picture with many values before);
then Uninstall in the dialog removes it. Prints one line per check; exit status 0 = all passed.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(wheel: str, picture: str | None) -> int:
    import numpy as np
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from ganpaint.core import paths
    from ganpaint.core.layers import LayerKind
    from ganpaint.qt.app import create_window
    from ganpaint.qt.dialogs.plugins import PluginsDialog

    def say(step: str, ok: bool, text: str) -> None:
        print(f"dialog-install: {step}: {'ok' if ok else 'FAIL'} {text}", flush=True)
        if not ok:
            raise SystemExit(1)

    app, window = create_window(None, None)
    window.show()
    picture = picture or str(paths.resources_dir() / "samples" / "meadow.png")
    say("window", window.open_path(picture) is not None, f"opened {picture}")
    app.processEvents()

    QFileDialog.getOpenFileName = staticmethod(lambda *a, **k: (wheel, ""))  # the user picks WHEEL
    dlg = PluginsDialog(window.plugin_manager, window)
    dlg.install_button.click()
    status = dlg.status.text()
    say("install", "Installed ganpaint-posterize-demo" in status, status)
    target = paths.plugin_packages_dir() / "ganpaint_posterize_demo" / "__init__.py"
    say("files", target.is_file(), f"{target}")

    spec = window.plugin_manager.tools().get("posterize_demo")
    say("tool", spec is not None, "posterize_demo is one of the window's tools")
    doc = window.controller.document
    before = doc.composite()[..., :3]
    say("run", window.run_tool(spec, {}) is not None, "submitted through the window's job path")
    deadline = time.monotonic() + 120
    while window.runner.pending() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    app.processEvents()
    results = [ly for ly in window.controller.document.layers if ly.kind == LayerKind.RESULT]
    say("result", bool(results), f"{len(results)} result layer(s)")
    out = results[-1].pixels[..., :3]
    values = sorted(int(v) for v in np.unique(out))
    say("pixels", out.shape == before.shape and set(values) <= {0, 85, 170, 255} and len(np.unique(before)) > 4,
        f"{out.shape[1]}x{out.shape[0]}, values {values} (input had {len(np.unique(before))})")

    QMessageBox.question = staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
    row = next(r for r in range(dlg.table.rowCount()) if dlg.record_at(r).name == "posterize_demo")
    dlg.table.selectRow(row)
    dlg.uninstall_button.click()
    say("uninstall", not target.exists() and "posterize_demo" not in window.plugin_manager.tools(),
        dlg.status.text())
    window.controller.document.history.mark_clean()
    dlg.close()
    window.close()
    print("dialog-install: PASSED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
