"""Take the README's screenshot: the real main window on the sample picture.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot.py docs/images/main-window.png
    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot.py docs/images/main-window-dark.png --theme dark
    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot.py OUT.png --seed-grid docs/images/seed-grid.png

Opens resources/samples/meadow.png, adds a couple of layers (a brush stroke drawn with
the real brush, a blurred result layer from the classic plugin when it is installed),
makes an elliptic selection, and writes ``window.grab()`` to the PNG. Runs offscreen or
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

    from ganpaint.core.brush import BrushSettings, paint_stroke
    from ganpaint.core.geometry import Rect
    from ganpaint.core.layers import LayerKind
    from ganpaint.qt.app import create_window
    from ganpaint.qt.theme import apply_theme

    app, win = create_window(str(ROOT / "resources" / "samples" / "meadow.png"))
    apply_theme(app, theme)
    win.resize(1400, 860)
    win.show()
    app.processEvents()
    doc = win.controller.document

    # a result layer from the classic plugin, through the real job path
    spec = next((s for s in win.tool_specs() if s.id in ("desaturate", "blur")), None)
    if spec is not None:
        doc.select_ellipse(Rect(330, 120, 300, 250))
        win.run_tool(spec, {})
        deadline = time.monotonic() + 30
        while win.runner.pending() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        app.processEvents()

    # a sketch layer with a few strokes of the real brush (outside any selection)
    doc.select_none()
    doc.add_layer(name="Sketch", kind=LayerKind.SKETCH)
    for pts, colour, size in (
        ([(90, 420), (140, 395), (190, 405), (240, 385), (290, 398)], (250, 250, 250), 7),
        ([(80, 470), (150, 450), (220, 462), (300, 445)], (40, 30, 30), 5),
        ([(600, 330), (640, 300), (690, 310), (730, 285)], (200, 40, 40), 9),
    ):
        paint_stroke(doc, doc.active_index, pts, BrushSettings(size=size, hardness=0.7, color=colour))
    doc.select_ellipse(Rect(330, 120, 300, 250))
    win.controller.set_tool("ellipse_select")
    win.canvas.fit()
    for _ in range(5):
        app.processEvents()
        time.sleep(0.02)
    win.canvas._last_mouse = QPointF(win.canvas.width() * 0.3, win.canvas.height() * 0.6)  # noqa: SLF001
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = win.grab().save(str(out))
    if grid_out is not None:
        ok = shoot_seed_grid(app, win, Path(grid_out)) and ok
    win.controller.document.history.mark_clean()
    win.close()
    QApplication.processEvents()
    print(f"wrote {out}" if ok else f"could not write {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
