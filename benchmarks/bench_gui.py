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
* worst main-thread stall of the real window (issue 12, point 4; target < 100 ms): a 10 ms
  QTimer heartbeat on the GUI thread records the largest gap between two beats while it
  saves (Save, .ora), autosaves (recovery folder), exports (PNG), runs a tool (Invert, in a
  worker process, applied as a result layer) on a 4000x3000 document of five layers, and
  applies a burst of queued results. Each action is started from the event loop and timed
  until its end; ``BENCH_STALL_REPEATS`` (default 3) repeats, the median of the worst gaps.
  The burst is 200 results on a 1000x750 five-layer document plus 6 on the 4000x3000 one: a
  finished Invert holds its request and result (144 MB each as float32 at 4000x3000) and its
  result layer is canvas-sized (48 MB), so 200 of them there would need ~60 GB.
  ``python benchmarks/bench_gui.py stalls`` runs only these rows. ``BENCH_STALL_CASES`` picks
  some of them (comma-separated: save, idle, autosave, export, tool, burst; ``burst`` alone
  runs only the two bursts; ``savethread`` is not run unless named: the same Save with the .ora
  written by the file thread itself, as before the writer process). ``idle`` is the control for Save: the same heartbeat over a window
  as long as the Save just measured, with nothing running, so a gap the loaded machine makes on
  its own is told apart from one the save causes. The save and idle rows also give the GUI
  thread's CPU time within their worst gap (the work itself; the rest of the gap is waiting).
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
    canvas.flush()  # builds the full composite cache once (not measured)
    canvas.repaint()
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


class _Heartbeat:
    """A 10 ms QTimer on the GUI thread; ``worst`` is the largest gap between two beats (ms)."""

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._beat)
        self.gaps: list[float] = []
        self._last = 0
        #: GUI-thread CPU time (ms) between beats: the work itself, without the waits a loaded
        #: machine adds to the wall-clock gaps
        self.cpu_gaps: list[float] = []
        self._last_cpu = 0.0

    def _beat(self) -> None:
        now = self.clock.nsecsElapsed()
        self.gaps.append((now - self._last) / 1e6)
        self._last = now
        cpu = time.thread_time()
        self.cpu_gaps.append((cpu - self._last_cpu) * 1000)
        self._last_cpu = cpu

    def measure(self, app, start, done, timeout: float = 300.0) -> float:  # noqa: ANN001
        """Beat, start ``start()`` from the event loop, spin until ``done()``; the worst gap."""
        from PySide6.QtCore import QTimer

        self.gaps = []
        self.cpu_gaps = []
        self.clock.start()
        self._last = self.clock.nsecsElapsed()
        self._last_cpu = time.thread_time()
        self.timer.start()
        started = [False]

        def go() -> None:
            started[0] = True
            start()

        QTimer.singleShot(20, go)
        end = time.perf_counter() + timeout
        while (not started[0] or not done()) and time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
        for _ in range(3):  # the beats right after the end count too
            app.processEvents()
            time.sleep(0.012)
        app.processEvents()
        self.timer.stop()
        if time.perf_counter() >= end:
            raise TimeoutError("the action did not end")
        return max(self.gaps) if self.gaps else float("nan")


def _five_layers(w: int, h: int):  # noqa: ANN202
    """A document of five opaque-ish layers with gradients and noise (a photo-like load for PNG)."""
    import numpy as np

    from ganpaint.core.document import Document

    doc = Document(w, h)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(5):
        px = np.empty((h, w, 4), np.uint8)
        px[..., 0] = ((xx * (i + 1)) // 16 % 256).astype(np.uint8)
        px[..., 1] = ((yy * (i + 2)) // 16 % 256).astype(np.uint8)
        px[..., 2] = rng.integers(0, 40, (h, w), dtype=np.uint8) + 100
        px[..., 3] = 255 if i == 0 else 160
        doc.add_layer(name=f"Layer {i}", pixels=px)
    doc.history.clear()
    return doc


#: the rows of bench_main_thread_stalls, for BENCH_STALL_CASES (all but savethread by default)
_STALL_CASES = ("save", "savethread", "idle", "autosave", "export", "tool", "burst")


def bench_main_thread_stalls(repeats: int | None = None) -> list[dict]:
    import numpy as np

    app = _app()
    import ganpaint_classic

    from ganpaint.core.recovery import RecoveryStore
    from ganpaint.engine.jobs import JobQueue
    from ganpaint.plugins.manager import PluginManager
    from ganpaint.qt.mainwindow import MainWindow

    reps = repeats or int(os.environ.get("BENCH_STALL_REPEATS", "3"))
    tmp = Path(tempfile.mkdtemp(prefix="ganpaint-bench-stall-"))
    pm = PluginManager(discover=False, user_dirs=False)
    pm.register(ganpaint_classic, "classic")
    queue = JobQueue()
    win = MainWindow(plugin_manager=pm, queue=queue, recovery=RecoveryStore(tmp / "recovery"))
    win.resize(1280, 820)
    win.show()
    win._autosave_interval_ms = 0  # no timer autosave inside the other measurements (autosave is its own row)
    app.processEvents()
    beat = _Heartbeat()
    spec = next(s for s in win.tool_specs() if s.id == "invert")
    results: dict[str, list[float]] = {}
    notes: dict[str, str] = {}

    def put(name: str, gap: float) -> None:
        results.setdefault(name, []).append(gap)
        print(f"  [stall] {name}: {gap:.0f} ms", file=sys.stderr, flush=True)

    big = _five_layers(4000, 3000)
    win.controller.set_document(big, None)
    io = win.files.io

    def settle() -> None:
        """The canvas shows everything (a change made for the next action is composited
        before it is measured: that is the layer operation's cost, not the save's)."""
        app.processEvents()
        win.canvas.flush()
        win.canvas.repaint()
        app.processEvents()

    settle()
    from ganpaint.core.ora import snapshot

    t0 = time.perf_counter()
    snapshot(big)
    snap_ms = (time.perf_counter() - t0) * 1000  # the part of a save/autosave/export on the GUI thread
    # BENCH_STALL_CASES: which rows (comma-separated); "burst" alone measures only the two bursts
    cases = set(os.environ.get("BENCH_STALL_CASES", "").replace(",", " ").split()) or set(_STALL_CASES) - {"savethread"}
    unknown = cases - set(_STALL_CASES)
    if unknown:
        raise SystemExit(f"BENCH_STALL_CASES: unknown case(s) {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(_STALL_CASES)}")
    only_burst = not cases - {"burst"}
    cpu_worst: dict[str, list[float]] = {}  # per row: the GUI thread's CPU time within its worst gap

    def worst_cpu(name: str) -> None:
        if beat.gaps and len(beat.cpu_gaps) == len(beat.gaps):
            i = max(range(len(beat.gaps)), key=beat.gaps.__getitem__)
            cpu_worst.setdefault(name, []).append(beat.cpu_gaps[i])

    window_s = 10.0  # the idle control's window: as long as the last Save (10 s without one)
    for r in range(0 if only_burst else reps):
        if "save" in cases:
            # Save (.ora, from a snapshot in the background)
            path = tmp / f"big{r}.ora"
            win.controller.set_path(str(path))
            big.set_layer_props(1, opacity=0.5 + 0.1 * r)  # modified: there is something to save
            settle()
            t0 = time.perf_counter()
            put("save", beat.measure(app, win.save, lambda p=path: not io.busy and p.exists()))
            window_s = time.perf_counter() - t0
            notes["save"] = f"write {window_s:.1f} s"
            worst_cpu("save")
        if "savethread" in cases:
            # the same Save written as before the writer process: ora.save_ora on the file thread
            from ganpaint.core import ora
            from ganpaint.engine.jobs import save_process

            in_process = save_process.write_snapshot
            save_process.write_snapshot = lambda snap, p, compress_level=6: ora.save_ora(  # type: ignore[assignment]
                snap, p, compress_level=compress_level)
            try:
                path = tmp / f"big{r}t.ora"
                win.controller.set_path(str(path))
                big.set_layer_props(1, opacity=0.55 + 0.1 * r)
                settle()
                t0 = time.perf_counter()
                put("savethread", beat.measure(app, win.save, lambda p=path: not io.busy and p.exists()))
                notes["savethread"] = f"write {time.perf_counter() - t0:.1f} s"
                worst_cpu("savethread")
            finally:
                save_process.write_snapshot = in_process
        if "idle" in cases:
            # the control: nothing runs, the same loop and heartbeat, a window as long as Save's
            settle()
            until = [0.0]

            def idle_start(w: float = window_s, u: list[float] = until) -> None:
                u[0] = time.perf_counter() + w

            put("idle", beat.measure(app, idle_start, lambda u=until: u[0] > 0 and time.perf_counter() >= u[0]))
            notes["idle"] = f"window {window_s:.1f} s, nothing running"
            worst_cpu("idle")
        if "autosave" in cases:
            # autosave (the recovery folder, the timer's path)
            big.set_layer_props(1, opacity=0.45 + 0.1 * r)
            settle()

            def autosave() -> None:
                win._autosave_dirty = True
                win._autosave_start(background=True)

            t0 = time.perf_counter()
            put("autosave", beat.measure(app, autosave, lambda: win._autosave_future is None))
            notes["autosave"] = f"write {time.perf_counter() - t0:.1f} s"
            worst_cpu("autosave")
        if "export" in cases:
            # export (PNG, flattened in the background)
            out = tmp / f"flat{r}.png"
            t0 = time.perf_counter()
            put("export", beat.measure(app, lambda o=out: win.files.export_to(str(o)),
                                       lambda o=out: not io.busy and o.exists()))
            notes["export"] = f"write {time.perf_counter() - t0:.1f} s"
        if "tool" not in cases:
            continue
        # a tool run (Invert on the background layer; applied as a result layer)
        applied: list[str] = []
        slot = lambda job_id, cmd, a=applied: a.append(job_id)  # noqa: E731
        win.runner.applied.connect(slot)
        big.active_index = 0
        t0 = time.perf_counter()
        put("tool", beat.measure(app, lambda: win.run_tool(spec, {}), lambda a=applied: bool(a)))
        notes["tool"] = f"run to applied {time.perf_counter() - t0:.1f} s"
        win.runner.applied.disconnect(slot)
        big.undo()
        big.history.clear()  # the result layer (and its before copy) is dropped
        settle()

    cpu: dict[int, list[float]] = {}  # per burst size: the largest GUI-thread CPU time between two beats

    def _cpu(n: int) -> str:
        vals = cpu.get(n, [])
        return f"median {statistics.median(vals):.0f} ms (all: {', '.join(f'{v:.0f}' for v in vals)})"

    def burst(doc, n: int) -> tuple[float, float]:  # noqa: ANN001
        win.controller.set_document(doc, None)
        settle()
        runner, bridge = win.runner, win.bridge
        held: list = []
        bridge.jobFinished.disconnect(runner._on_finished)
        bridge.jobFinished.connect(held.append)
        doc.active_index = 0
        for _ in range(n):
            win.run_tool(spec, {})
        end = time.perf_counter() + 600
        while len(held) < n and time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.005)
        bridge.jobFinished.disconnect(held.append)
        bridge.jobFinished.connect(runner._on_finished)
        n0 = len(doc.layers)

        def deliver() -> None:
            for msg in held:  # one event-loop turn's worth of finished jobs
                runner._on_finished(msg)

        t0 = time.perf_counter()
        gap = beat.measure(app, deliver, lambda: len(doc.layers) == n0 + n)
        cpu.setdefault(n, []).append(max(beat.cpu_gaps))
        return gap, time.perf_counter() - t0

    for _r in range(reps if "burst" in cases else 0):
        gap, dt = burst(_five_layers(1000, 750), 200)
        put("burst200", gap)
        notes["burst200"] = f"all applied in {dt:.1f} s; GUI-thread CPU in the worst gap {_cpu(200)}"
        gap, dt = burst(_five_layers(4000, 3000), 6)
        put("burst20big", gap)
        notes["burst20big"] = f"all applied in {dt:.1f} s; GUI-thread CPU in the worst gap {_cpu(6)}"
    win.controller.document.history.mark_clean()
    win.close()
    queue.shutdown(wait=True, timeout=10)
    del np
    labels = {
        "save": "gui: worst stall during Save (.ora), 4000x3000 x5 layers",
        "savethread": "gui: worst stall during Save written by a thread (before)",
        "idle": "gui: worst stall with nothing running (control), as long as Save",
        "autosave": "gui: worst stall during autosave, 4000x3000 x5 layers",
        "export": "gui: worst stall during Export (PNG), 4000x3000 x5 layers",
        "tool": "gui: worst stall during a tool run (Invert), 4000x3000 x5",
        "burst200": "gui: worst stall applying 200 queued results, 1000x750 x5",
        "burst20big": "gui: worst stall applying 6 queued results, 4000x3000 x5",
    }
    rows = []
    for key, label in labels.items():
        vals = results.get(key, [])
        if ("burst" if key.startswith("burst") else key) not in cases:
            continue
        cpu_note = ""
        if cpu_worst.get(key):
            c = cpu_worst[key]
            cpu_note = f"; GUI-thread CPU in the worst gap median {statistics.median(c):.0f} ms " \
                       f"(all: {', '.join(f'{v:.0f}' for v in c)})"
        rows.append({"name": label, "value": round(statistics.median(vals), 1) if vals else float("nan"),
                     "unit": "ms", "target": "< 100 ms",
                     "note": f"median of {len(vals)} (all: {', '.join(f'{v:.0f}' for v in vals)}); 10 ms heartbeat; "
                             f"{notes.get(key, '')}{cpu_note}; snapshot on the GUI thread {snap_ms:.0f} ms; "
                             f"load {os.getloadavg()[0]:.1f}"})
    return rows


def run() -> list[dict]:
    return [bench_startup(), bench_brush_repaint(), bench_brush_repaint(fit=True), bench_event_loop_stall(),
            *bench_main_thread_stalls()]


if __name__ == "__main__":
    rows = bench_main_thread_stalls() if sys.argv[1:] == ["stalls"] else run()
    for row in rows:
        print(f"{row['name']:<50} {row['value']:>9} {row['unit']:<3} target {row['target']:<8} {row['note']}")
