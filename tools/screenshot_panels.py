"""Screenshots of every tool panel and dialog at the default window size (issue 11's judge).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot_panels.py [OUT_DIR]

OUT_DIR defaults to docs/images/panels. The editor opens the sample photograph (the Makefile's
SAMPLE) in a window of its default size, with every installed plugin; then, for each plugin
tool, the Tools panel shows that tool and the whole window is grabbed (``tool-<id>.png``; with
the Advanced section open as ``tool-<id>-advanced.png`` where the tool has one). Each dialog of
the menus is opened as a user would open it and grabbed (``dialog-<name>.png``): modal dialogs
are grabbed instead of entering their event loop. User settings are kept out (a temporary data
folder), so the window is what a first start shows.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sample_path() -> Path:
    for line in (ROOT / "Makefile").read_text().splitlines():
        if line.startswith("SAMPLE :="):
            return ROOT / line.split(":=", 1)[1].strip()
    raise SystemExit("no SAMPLE in the Makefile")


def settle(app, seconds: float = 0.3) -> None:  # noqa: ANN001
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "images" / "panels"
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("GANPAINT_DATA_DIR", tempfile.mkdtemp(prefix="ganpaint-panels-"))
    sys.path.insert(0, str(ROOT))

    from PIL import Image
    from PySide6.QtWidgets import QApplication, QDialog, QWidget

    from ganpaint.qt.app import create_window

    app, win = create_window(str(sample_path()))
    win.show()
    settle(app, 1.0)
    for w in QApplication.topLevelWidgets():  # a first-run panel: shot on its own below
        if w is not win and w.isVisible() and isinstance(w, QDialog):
            w.grab().save(str(out / "dialog-welcome.png"))
            w.close()
    settle(app)
    size = (win.width(), win.height())
    written: list[str] = []

    def shoot(widget: QWidget, name: str) -> None:
        path = out / name
        if widget.grab().save(str(path)):
            # 256 colours: a third of the bytes, and the widgets stay exact
            pic = Image.open(path).convert("RGB")
            pic.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
            written.append(name)

    panel = win.tools_panel
    for spec in sorted(win.tool_specs(), key=lambda s: s.id):
        pp = panel.set_plugin_tool(spec.id)
        settle(app)
        shoot(win, f"tool-{spec.id}.png")
        if getattr(pp, "advanced_button", None) is not None and pp.advanced_button.isVisible():
            pp.set_advanced_open(True)
            settle(app)
            shoot(win, f"tool-{spec.id}-advanced.png")
            pp.set_advanced_open(False)

    # dialogs, through their menu actions; a modal exec() is replaced by show + grab + reject
    def fake_exec(dlg: QDialog) -> int:
        dlg.show()
        settle(app, 0.5)
        shoot(dlg, f"dialog-{current[0]}.png")
        dlg.reject()
        return int(QDialog.DialogCode.Rejected)

    current = [""]
    QDialog.exec = fake_exec  # type: ignore[method-assign]
    actions = {a.objectName() or a.text(): a for a in win.findChildren(type(win.menuBar().actions()[0]))}
    for name, key in (("new-image", "new"), ("preferences", "preferences"), ("plugins", "plugins"),
                      ("models", "models"), ("train", "train"), ("user-guide", "user_guide"),
                      ("welcome", "welcome"), ("about", "about")):
        act = actions.get(key) or actions.get(f"action_{key}")
        if act is None:
            act = next((a for a in actions.values() if a.text().replace("&", "").lower().startswith(key.replace("_", " "))), None)
        if act is None:
            print(f"no menu action for {name}")
            continue
        current[0] = name
        before = set(QApplication.topLevelWidgets())
        act.trigger()
        settle(app, 0.8)
        for w in QApplication.topLevelWidgets():  # non-modal windows (train, guide, welcome)
            if w not in before and w.isVisible() and w is not win:
                shoot(w, f"dialog-{name}.png")
                w.close()
        settle(app)

    win.controller.document.history.mark_clean()
    win.close()
    print(f"window {size[0]}x{size[1]}; wrote {len(written)} pictures to {out}: {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
