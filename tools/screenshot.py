"""Take the README's screenshot: the real main window on the sample picture.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot.py docs/images/main-window.png
    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshot.py docs/images/main-window-dark.png --theme dark

Opens resources/samples/meadow.png, adds a couple of layers (a brush stroke drawn with
the real brush, a blurred result layer from the classic plugin when it is installed),
makes an elliptic selection, and writes ``window.grab()`` to the PNG. Runs offscreen or
under Xvfb. User settings are kept out of it (a temporary data folder).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
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
    win.controller.document.history.mark_clean()
    win.close()
    QApplication.processEvents()
    print(f"wrote {out}" if ok else f"could not write {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
