"""GUI benchmarks: start-up time, brush repaint cost on a big canvas, event-loop stalls.

``run() -> list[dict]`` (name, value, unit, target, note), called by benchmarks/run.py;
``python benchmarks/bench_gui.py`` prints the rows. Qt runs offscreen.

* start to window shown: median of 5 fresh subprocesses (after one unmeasured warm-up
  run); time from spawn to the child's "shown" line (printed once the window is exposed
  and one event-loop turn has run); the child also reports whether torch was imported.
  The children may write bytecode caches (PYTHONDONTWRITEBYTECODE is dropped), as an
  installed GANPaint has them (pip compiles on install): otherwise every run would
  compile our modules from source again.
* repaint per brush mouse-move on a 4096x4096 document: ``BrushStroke.add_point`` (which
  paints and emits pixels_changed) plus ``canvas.repaint()`` of the widget rect it dirtied,
  median over a long stroke at 100 % zoom.
* worst event-loop stall: a 5 ms QTimer records the largest gap while a CPU-busy job
  runs for several seconds on the engine's interactive lane.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import os, sys, time
t_import = time.perf_counter()
from ganpaint.qt.app import create_window  # first, as `ganpaint` itself imports Qt
from PySide6.QtCore import QTimer
app, win = create_window(sys.argv[1])
win.show()
def shown():
    print("shown", "torch" in sys.modules, flush=True)
    win.controller.document.history.mark_clean()
    win.close()
    app.quit()
QTimer.singleShot(0, shown)
app.exec()
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["GANPAINT_DATA_DIR"] = tempfile.mkdtemp(prefix="ganpaint-bench-")
    return env


def bench_startup(n: int = 5) -> dict:
    sample = str(ROOT / "resources" / "samples" / "meadow.png")
    times: list[float] = []
    torch_seen = False
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    cpu: list[float] = []  # user+sys CPU seconds of each child: far less affected by load
    for i in range(n + 1):  # run 0 warms the disk and bytecode caches, unmeasured
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN) if resource else None
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", _CHILD, sample], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, env=_env(), cwd=str(ROOT))
        assert proc.stdout is not None
        line = ""
        for line in proc.stdout:
            if line.startswith("shown"):
                if i > 0:
                    times.append(time.perf_counter() - t0)
                torch_seen = torch_seen or line.split()[1] == "True"
                break
        proc.wait(timeout=60)
        if resource and ru0 is not None and i > 0:
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime)
    med = statistics.median(times) if times else float("nan")
    cpu_note = f"child CPU time median {statistics.median(cpu):.2f} s (whole run, incl. closing); " if cpu else ""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {"name": "gui: start to window shown (median of 5)", "value": round(med, 3), "unit": "s",
            "target": "< 1.5 s",
            "note": f"sample picture opened; torch imported: {'YES' if torch_seen else 'no'}; runs={len(times)}; "
                    f"{cpu_note}"
                    f"load average {load_before:.1f} -> {load:.1f} on {os.cpu_count()} cores; "
                    f"all runs: {', '.join(f'{t:.2f}' for t in times)}"}


def _app():  # noqa: ANN202
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("GANPAINT_DATA_DIR", tempfile.mkdtemp(prefix="ganpaint-bench-"))
    from ganpaint.qt.app import ensure_app

    return ensure_app()


def bench_brush_repaint(size: int = 4096, moves: int = 300, fit: bool = False) -> dict:
    import numpy as np

    app = _app()
    from ganpaint.core.brush import BrushSettings, BrushStroke
    from ganpaint.core.document import Document
    from ganpaint.qt.canvas import Canvas
    from ganpaint.qt.document_controller import DocumentController

    doc = Document(size, size)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (size, size, 4), dtype=np.uint8)
    base[:, :, 3] = 255
    doc.add_layer(name="Background", pixels=base)
    doc.add_layer(name="Paint")
    ctrl = DocumentController(doc)
    canvas = Canvas(ctrl)
    canvas.resize(1600, 1000)
    canvas.show()
    if fit:
        canvas.fit()
    else:
        canvas.set_zoom(1.0)
    app.processEvents()
    canvas.repaint()  # builds the full composite cache once (not measured)
    app.processEvents()
    stroke = BrushStroke(doc, 1, BrushSettings(size=40, hardness=0.7, color=(200, 30, 30)))
    origin = canvas.widget_to_doc(canvas.rect().center())
    step = 4 if not fit else 12  # mouse moves of a few screen pixels at either zoom
    times: list[float] = []
    for i in range(moves):
        x = origin.x() - moves * step / 2 + i * step
        y = origin.y() + 200 * np.sin(i / 25)
        t0 = time.perf_counter()
        r = stroke.add_point(x, y)
        if not r.is_empty():
            canvas.repaint(canvas.doc_rect_to_widget(r))
        times.append(time.perf_counter() - t0)
    stroke.finish()
    canvas.close()
    med = statistics.median(times) * 1000
    p95 = sorted(times)[int(0.95 * len(times))] * 1000
    where = f"fit ({canvas.zoom * 100:.0f} %)" if fit else "100 %"
    return {"name": f"gui: brush repaint per mouse move, 4096x4096, {where}", "value": round(med, 2),
            "unit": "ms", "target": "< 16 ms",
            "note": f"median of {moves} moves (add_point + repaint of the dirty rect), p95 {p95:.1f} ms, 2 layers"}


def bench_event_loop_stall(seconds: float = 4.0) -> dict:
    import numpy as np

    app = _app()
    from PySide6.QtCore import QElapsedTimer, QTimer

    from ganpaint.engine.jobs import Job, JobQueue
    from ganpaint.qt.bridge import JobBridge

    queue = JobQueue()
    bridge = JobBridge(queue)

    def busy(inputs, ctx):  # noqa: ANN001, ANN202 - CPU-bound numpy and pure-Python work
        t_end = time.perf_counter() + seconds
        a = np.random.default_rng(0).random((512, 512), dtype=np.float32)
        i = 0
        while time.perf_counter() < t_end:
            a = np.tanh(a @ a.T * 0.001)
            s = 0
            for k in range(20000):  # holds the GIL in pure Python too
                s += k
            i += 1
            ctx.progress(min((time.perf_counter() - t_end + seconds) / seconds, 1.0), f"step {i}")
        return i

    done = []
    bridge.jobFinished.connect(lambda msg: done.append(msg))
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        gaps.append((now - last[0]) / 1e6)
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()
    bridge.submit(Job("bench", "interactive", busy, None))
    t_end = time.perf_counter() + seconds + 10
    while not done and time.perf_counter() < t_end:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    bridge.close()
    queue.shutdown()
    worst = max(gaps) if gaps else float("nan")
    return {"name": "gui: worst event-loop stall during a busy job", "value": round(worst, 1), "unit": "ms",
            "target": "< 50 ms",
            "note": f"5 ms timer, {seconds:.0f} s CPU-bound job (numpy + Python), {len(gaps)} ticks, "
                    f"median gap {statistics.median(gaps) if gaps else 0:.1f} ms"}


def run() -> list[dict]:
    return [bench_startup(), bench_brush_repaint(), bench_brush_repaint(fit=True), bench_event_loop_stall()]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<50} {row['value']:>9} {row['unit']:<3} target {row['target']:<8} {row['note']}")
