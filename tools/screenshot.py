"""Take the README's screenshot: the real main window on the sample photo, as a first start shows it.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot.py docs/images/main-window.png --welcome docs/images/welcome.png
    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot.py docs/images/main-window-dark.png --theme dark
    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot.py OUT.png --seed-grid docs/images/seed-grid.png

Opens the sample photo (resources/samples/dragonfly.jpg) in a window of the default size,
runs season transfer inside an elliptic selection through the real job path (a result
layer), and writes ``window.grab()`` to the PNG. ``--welcome PATH`` also writes the first
start's Welcome window to PATH. Runs offscreen or
under Xvfb. User settings are kept out of it (a temporary data folder).
``--seed-grid PATH`` also writes the Style mixing tool's seed grid (the shipped model's
pictures, or its message when no model is there) to PATH.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _option(argv: list[str], name: str) -> str | None:
    """The value of ``--name VALUE`` / ``--name=VALUE``, removed from ``argv``."""
    for i, a in enumerate(argv):
        if a == name and i + 1 < len(argv):
            value = argv[i + 1]
            del argv[i:i + 2]
            return value
        if a.startswith(name + "="):
            del argv[i]
            return a.split("=", 1)[1]
    return None


def shoot_seed_grid(app, win, out: Path) -> bool:  # noqa: ANN001
    """Open the Style mixing tool's seed grid, wait for its pictures, write its grab to ``out``."""
    panel = win.tools_panel
    if panel is None or not any(s.id == "stylemix" for s in win.tool_specs()):
        print("the stylemix plugin is not loaded: no seed grid")
        return False
    params = panel.set_plugin_tool("stylemix")
    params.fields["seed"].set(3)
    params.fields["seed_b"].set(6)
    grid = params.seed_pickers.open("seed_b")
    grid.resize(grid.sizeHint())
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (grid.is_busy() or not (grid.picture(0) or grid.message.isVisible())):
        app.processEvents()
        time.sleep(0.02)
    for _ in range(5):  # the message, if any, re-lays the window out
        app.processEvents()
        time.sleep(0.02)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = grid.grab().save(str(out))
    grid.close()
    print(f"wrote {out}" if ok else f"could not write {out}")
    return bool(ok)


def main(argv: list[str]) -> int:
    argv = list(argv)
    grid_out = _option(argv, "--seed-grid")
    welcome_out = _option(argv, "--welcome")
    args = [a for a in argv[1:] if not a.startswith("--theme")]
    theme = "light"
    for i, a in enumerate(argv):
        if a == "--theme" and i + 1 < len(argv):
            theme = argv[i + 1]
            args.remove(theme)
        elif a.startswith("--theme="):
            theme = a.split("=", 1)[1]
    out = Path(args[0] if args else "docs/images/main-window.png")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("GANPAINT_DATA_DIR", tempfile.mkdtemp(prefix="ganpaint-shot-"))
    sys.path.insert(0, str(ROOT))

    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    from ganpaint.core.geometry import Rect
    from ganpaint.qt.app import create_window
    from ganpaint.qt.dialogs.welcome import sample_path, show_welcome
    from ganpaint.qt.theme import apply_theme

    app, win = create_window(str(sample_path()))
    apply_theme(app, theme)
    win.show()  # the default window size: what a first start shows
    app.processEvents()
    doc = win.controller.document

    # a GAN result on the photo through the real job path: season transfer inside an ellipse
    # (winter on the leaves around the dragonfly), falling back to a classic filter
    doc.select_ellipse(Rect(560, 170, 420, 330))
    spec = next((s for i in ("season", "desaturate", "blur") for s in win.tool_specs() if s.id == i), None)
    if spec is not None:
        win.run_tool(spec, {})
        deadline = time.monotonic() + 300
        while win.runner.pending() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)
        app.processEvents()

    doc.select_ellipse(Rect(560, 170, 420, 330))
    win.controller.set_tool("ellipse_select")
    win.canvas.fit()
    for _ in range(5):
        app.processEvents()
        time.sleep(0.02)
    win.canvas._last_mouse = QPointF(win.canvas.width() * 0.3, win.canvas.height() * 0.6)  # noqa: SLF001
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = win.grab().save(str(out))
    if welcome_out is not None:
        # the first start's Welcome window (it opens over the main window)
        dlg = show_welcome(win)
        for _ in range(5):
            app.processEvents()
            time.sleep(0.02)
        Path(welcome_out).parent.mkdir(parents=True, exist_ok=True)
        ok = dlg.grab().save(welcome_out) and ok
        dlg.close()
        print(f"wrote {welcome_out}")
    if grid_out is not None:
        ok = shoot_seed_grid(app, win, Path(grid_out)) and ok
    win.controller.document.history.mark_clean()
    win.close()
    QApplication.processEvents()
    print(f"wrote {out}" if ok else f"could not write {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
