"""A long editing session in a real MainWindow, run as its own process by test_long_session.py.

    python long_session_driver.py STROKES OUT.json

Paints STROKES brush strokes with real mouse events on the canvas (the event loop runs between
them, so the canvas repaints as it does for a person), does a layer operation every 8 strokes
(add, rename, hide/show, opacity, duplicate, raise, merge down, delete, undo/redo), and runs a
plugin tool through the job queue every 40 strokes. Writes what it did and how the process
looked (None's reference count, resident memory, history size) to OUT.json. An abort of the
interpreter shows as a non-zero exit status with no JSON.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(strokes: int, out_path: str) -> int:
    import ganpaint_classic
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from ganpaint.engine.jobs import JobQueue
    from ganpaint.plugins.manager import PluginManager
    from ganpaint.qt.app import ensure_app
    from ganpaint.qt.mainwindow import MainWindow

    app = ensure_app()
    pm = PluginManager(discover=False, user_dirs=False)
    pm.register(ganpaint_classic, "classic")
    queue = JobQueue()
    win = MainWindow(plugin_manager=pm, queue=queue, recovery=None)
    win.resize(1100, 750)
    win.show()
    win.new_document_silent(640, 480)
    app.processEvents()
    canvas = win.canvas
    doc = lambda: win.controller.document  # noqa: E731 - the window may swap documents
    specs = {s.id: s for s in win.tool_specs()}
    tools = [t for t in ("invert", "blur", "desaturate", "sharpen") if t in specs]

    left, nobutton = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    kinds = {"press": QEvent.Type.MouseButtonPress, "move": QEvent.Type.MouseMove,
             "release": QEvent.Type.MouseButtonRelease}

    def mouse(kind: str, x: float, y: float) -> None:
        p = canvas.doc_to_widget(QPointF(x, y))
        button = nobutton if kind == "move" else left
        buttons = nobutton if kind == "release" else left
        ev = QMouseEvent(kinds[kind], p, QPointF(canvas.mapToGlobal(p.toPoint())), button, buttons,
                         Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(canvas, ev)

    def wait_for(cond, timeout: float = 30.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            app.processEvents()
            if cond():
                return True
            time.sleep(0.002)
        return False

    none_start = sys.getrefcount(None)
    rss_start = rss_mb()
    counts = {"strokes": 0, "layer_ops": 0, "tool_runs": 0, "tool_failures": 0, "undo_redo": 0}
    t0 = time.monotonic()
    doc().add_layer(name="Paint")
    for i in range(strokes):
        win.controller.set_brush(size=4 + i % 20, color=((i * 37) % 256 / 255, (i * 91) % 256 / 255, 0.5),
                                 opacity=1.0, hardness=0.5 + (i % 5) / 10)
        d = doc()
        x0, y0 = (i * 53) % (d.width - 60) + 10, (i * 29) % (d.height - 60) + 10
        mouse("press", x0, y0)
        for k in range(1, 6):
            mouse("move", x0 + 9 * k, y0 + 5 * k)
        mouse("release", x0 + 45, y0 + 25)
        app.processEvents()
        counts["strokes"] += 1

        if i % 8 == 7:
            op = (i // 8) % 9
            layers = len(d.layers)
            if op == 0:
                d.add_layer(name=f"Layer {i}")
            elif op == 1:
                d.set_layer_props(d.active_index, name=f"Renamed {i}")
            elif op == 2:
                d.set_layer_props(d.active_index, visible=False)
                d.set_layer_props(d.active_index, visible=True)
            elif op == 3:
                d.set_layer_props(d.active_index, opacity=0.5 + (i % 5) / 10)
            elif op == 4 and layers < 12:
                d.duplicate_layer(d.active_index)
            elif op == 5 and d.active_index > 0:
                d.move_layer(d.active_index, d.active_index - 1)
            elif op == 6 and d.active_index > 0:
                d.merge_down(d.active_index)
            elif op == 7 and layers > 2:
                d.delete_layer(d.active_index)
            else:
                d.undo()
                d.redo()
                counts["undo_redo"] += 1
            d.active_index = len(d.layers) - 1
            counts["layer_ops"] += 1
            app.processEvents()

        if tools and i % 40 == 39:
            spec = specs[tools[(i // 40) % len(tools)]]
            before = len(d.layers)
            params = {"radius": 2.0} if spec.id == "blur" else None
            if win.run_tool(spec, params) is None or not wait_for(lambda b=before: len(doc().layers) > b):
                counts["tool_failures"] += 1
            else:
                counts["tool_runs"] += 1
            doc().active_index = len(doc().layers) - 1

    app.processEvents()
    d = doc()
    import numpy as np

    cache_matches = bool(np.array_equal(canvas.cache_rgba(), d.composite()))
    from ganpaint.qt.binding_check import none_leak_per_call
    report = {
        **counts,
        "seconds": round(time.monotonic() - t0, 2),
        "none_refcount_start": none_start,
        "none_refcount_end": sys.getrefcount(None),
        # a leaking binding is survived thanks to ganpaint.qt.binding_check's cushion; say so all the same
        "binding_leak_per_call": none_leak_per_call(),
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_end": round(rss_mb(), 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "history_steps": len(d.history.entries),
        "layers": len(d.layers),
        "cache_matches_composite": cache_matches,
    }
    d.history.mark_clean()
    win.close()
    queue.shutdown(wait=True, timeout=10)
    with open(out_path, "w") as f:
        json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), sys.argv[2]))
