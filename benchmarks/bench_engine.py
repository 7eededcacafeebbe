"""Job-engine and command-line benchmarks.

* cancel latency: time from ``JobQueue.cancel()`` to the job having finished, for a
  CPU-busy job that reports progress every ~0.1 s (median of 15 cancels at varied
  moments), and for the classic blur tool on a 2048x2048 picture (the real tool's
  progress granularity);
* start time of ``python -m ganpaint --version`` and of ``python -c "import ganpaint"``
  (fresh subprocesses, median of 5), with a bare ``python -c pass`` for reference.

``python benchmarks/bench_engine.py`` prints the rows; benchmarks/run.py collects them.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

import numpy as np

RUNS = 15


def _busy_job(step_s: float) -> Any:
    def fn(inputs: Any, ctx: Any) -> str:
        started: threading.Event = inputs["started"]
        started.set()
        x = np.random.default_rng(0).random((64, 64))
        while True:
            t_end = time.perf_counter() + step_s
            while time.perf_counter() < t_end:  # keep a core busy between progress steps
                x = (x @ x.T) / 64.0
            ctx.progress(0.5, "busy")

    return fn


def bench_cancel_latency(step_s: float = 0.1) -> dict[str, Any]:
    from ganpaint.engine.jobs import Job, JobQueue

    q = JobQueue()
    lat: list[float] = []
    try:
        for i in range(RUNS):
            started = threading.Event()
            job = q.submit(Job("bench", "interactive", _busy_job(step_s), {"started": started}))
            started.wait(10)
            time.sleep(0.05 + (i % 5) * 0.037)  # cancel at different points of a step
            t0 = time.perf_counter()
            q.cancel(job.id)
            job.wait(10)
            lat.append(time.perf_counter() - t0)
    finally:
        q.shutdown()
    return {
        "name": "cancel latency, busy job (progress every 0.1 s)",
        "value": statistics.median(lat) * 1000, "unit": "ms", "target": "< 100",
        "note": f"max {max(lat) * 1000:.0f} ms over {RUNS} cancels",
    }


def bench_cancel_blur(size: int = 2048) -> dict[str, Any]:
    name = f"cancel latency, classic blur {size}x{size}"
    try:
        import ganpaint_classic  # noqa: F401
    except ImportError:
        return {"name": name, "value": float("nan"), "unit": "ms", "target": "< 1000",
                "note": "ganpaint-classic not installed"}
    from types import MappingProxyType

    from ganpaint.core.specs import Role, ToolRequest, ToolSpec
    from ganpaint.engine.jobs import JobQueue, JobState
    from ganpaint.engine.jobs.runner import make_tool_job

    spec = ToolSpec(id="blur", title="Blur", run="ganpaint_classic.tools:blur", plugin="classic")
    img = np.random.default_rng(1).random((size, size, 3), dtype=np.float32)
    img.setflags(write=False)
    req = ToolRequest("blur", MappingProxyType({Role.IMAGE: img}), MappingProxyType({"radius": 8.0}))
    q = JobQueue()
    lat: list[float] = []
    completed = 0
    try:
        for i in range(7):
            first = threading.Event()
            job = make_tool_job(spec, req)
            q.events.job_progress.connect(lambda m, j=job, e=first: e.set() if m.job_id == j.id else None)
            q.submit(job)
            first.wait(30)
            time.sleep(0.05 + i * 0.05)
            t0 = time.perf_counter()
            q.cancel(job.id)
            job.wait(60)
            if job.state is JobState.CANCELLED:
                lat.append(time.perf_counter() - t0)
            else:
                completed += 1
    finally:
        q.shutdown()
    value = statistics.median(lat) * 1000 if lat else float("nan")
    return {"name": name, "value": value, "unit": "ms", "target": "< 1000",
            "note": f"max {max(lat) * 1000:.0f} ms" + (f"; {completed} finished first" if completed else "")
            if lat else "every run finished before the cancel"}


def _median_start(argv: list[str], runs: int = 5) -> float:
    env = dict(os.environ)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_startup() -> list[dict[str, Any]]:
    py = sys.executable
    bare = _median_start([py, "-c", "pass"])
    imp = _median_start([py, "-c", "import ganpaint"])
    ver = _median_start([py, "-m", "ganpaint", "--version"])
    check = subprocess.run(
        [py, "-c", "import sys\nfrom ganpaint.__main__ import main\nmain(['--version'])\n"
                   "print([m for m in ('torch', 'PySide6') if m in sys.modules])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip().splitlines()[-1]
    return [
        {"name": "start: python -c 'import ganpaint'", "value": imp * 1000, "unit": "ms", "target": "< 500",
         "note": f"bare python {bare * 1000:.0f} ms"},
        {"name": "start: python -m ganpaint --version", "value": ver * 1000, "unit": "ms", "target": "< 500",
         "note": f"heavy modules imported: {check}"},
    ]


def run() -> list[dict[str, Any]]:
    return [bench_cancel_latency(), bench_cancel_blur(), *bench_startup()]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<52} {row['value']:>9.1f} {row['unit']:<3} target {row['target']:<8} {row['note']}")
