"""Worker processes (issue 12, point 1): what running tools outside the editor's process costs.

For two tools on a 512 px picture, classic ``invert`` and ``season`` (summer -> winter with its
shipped default model), through the editor's job path (``make_tool_job`` on a ``JobQueue``):

* cold: the first run in a fresh process (``python bench_workers.py cold MODE TOOL``, timed from
  submit to result after the queue exists; for a worker this includes starting it: a spawn,
  Python, numpy, the plugin's imports, torch and the model for season);
* warm: the median of later runs (the worker kept; season gets a one-level different picture
  each time, it keeps its last translation for the live slider);

in-process (a queue without a pool, as before) and in a worker (the editor's pool). And the
transport of a large picture (4000 x 3000 RGB float32, 144 MB): copied into the shared-memory
block a warm worker keeps and viewed there (the pool's path from the second run), into a new
block (the first run), and pickled (dumps + loads in one process: a lower bound, a pipe adds
two more copies). Repeats:
``BENCH_REPEATS`` (default 7; ``BENCH_QUICK=1``: 3).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import statistics
import subprocess
import sys
import time
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
REPEATS = int(os.environ.get("BENCH_REPEATS", "3" if QUICK else "7"))
SIZE = 512


def _load() -> str:
    return "load {:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())


def _tool(name: str) -> tuple[Any, Any]:
    """(spec, model resolver) of a benchmarked tool."""
    if name == "invert":
        import ganpaint_classic

        spec = next(s for s in ganpaint_classic.ganpaint_register_tools() if s.id == "invert")
        return dataclasses.replace(spec, plugin="classic"), None
    from ganpaint_season import DEFAULT_MODEL, MODEL_FILE, TOOL_ID, ganpaint_register_tools

    spec = dataclasses.replace(ganpaint_register_tools()[0], plugin="season")

    def resolve(model: str, tool: str) -> str:
        assert (model, tool) == (DEFAULT_MODEL, TOOL_ID), (model, tool)
        return str(MODEL_FILE)

    return spec, resolve


def _picture(i: int = 0) -> Any:
    import numpy as np

    rng = np.random.default_rng(5)
    base = rng.random((SIZE // 8, SIZE // 8, 3), dtype=np.float32)
    img = np.kron(base, np.ones((8, 8, 1), np.float32))  # a blocky picture, 512 px
    return np.clip(img + i / 255.0, 0, 1).astype(np.float32)


def _request(spec: Any, i: int = 0) -> Any:
    from ganpaint.testing import make_request

    return make_request(_picture(i), spec=spec)


def _queue(mode: str, resolve: Any) -> Any:
    from ganpaint.engine.jobs import JobQueue
    from ganpaint.engine.jobs.workers import WorkerPool

    return JobQueue(model_resolver=resolve, pool=WorkerPool() if mode == "worker" else None)


def _time_run(queue: Any, spec: Any, request: Any) -> float:
    from ganpaint.engine.jobs import JobState
    from ganpaint.engine.jobs.runner import make_tool_job

    t0 = time.perf_counter()
    job = queue.submit(make_tool_job(spec, request))
    job.wait()
    dt = time.perf_counter() - t0
    if job.state is not JobState.DONE:
        raise RuntimeError(f"{spec.id} ({job.state.value}): {job.error}")
    return dt


def cold(mode: str, tool: str) -> float:
    """The first run in this (fresh) process."""
    spec, resolve = _tool(tool)
    queue = _queue(mode, resolve)
    try:
        return _time_run(queue, spec, _request(spec))
    finally:
        queue.shutdown()


def _cold_in_fresh_process(mode: str, tool: str) -> float:
    out = subprocess.run([sys.executable, __file__, "cold", mode, tool], capture_output=True, text=True,
                         timeout=600, check=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def warm(mode: str, tool: str) -> list[float]:
    spec, resolve = _tool(tool)
    queue = _queue(mode, resolve)
    try:
        _time_run(queue, spec, _request(spec, 0))  # warm-up: worker started, model loaded
        return [_time_run(queue, spec, _request(spec, i + 1)) for i in range(REPEATS)]
    finally:
        queue.shutdown()


def transport(reps: int) -> tuple[list[float], list[float], list[float]]:
    """Seconds to move a 4000x3000 RGB float32 picture: a new shared-memory block, the block a
    warm worker keeps (what the pool does from the second run on), and pickling."""
    import numpy as np

    from ganpaint.engine.jobs import shm

    big = np.random.default_rng(0).random((3000, 4000, 3), dtype=np.float32)
    shm_t, reuse_t, pickle_t = [], [], []
    kept, slots = shm.pack([big])
    mapped, _ = shm.unpack(kept.name if kept else None, [], copy=False)
    for _ in range(reps):
        t0 = time.perf_counter()
        shm.pack([big], reuse=kept)
        (view,) = shm.views(mapped, slots, copy=False)
        float(view[0, 0, 0])
        reuse_t.append(time.perf_counter() - t0)
        del view
    shm.close_quietly(mapped)
    shm.close_quietly(kept, unlink=True)
    for _ in range(reps):
        t0 = time.perf_counter()
        block, slots = shm.pack([big])
        mapped, (view,) = shm.unpack(block.name if block else None, slots, copy=False)
        float(view[0, 0, 0])
        shm_t.append(time.perf_counter() - t0)
        del view
        shm.close_quietly(mapped)
        shm.close_quietly(block, unlink=True)
        t0 = time.perf_counter()
        back = pickle.loads(pickle.dumps(big, protocol=pickle.HIGHEST_PROTOCOL))
        float(back[0, 0, 0])
        pickle_t.append(time.perf_counter() - t0)
        del back
    return shm_t, reuse_t, pickle_t


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for tool in ("invert", "season"):
        try:
            _tool(tool)
        except ImportError as exc:
            rows.append({"name": f"workers: {tool}", "value": None, "unit": "", "target": "", "note": str(exc)})
            continue
        got: dict[str, float] = {}
        for mode in ("in-process", "worker"):
            got[f"{mode} cold"] = _cold_in_fresh_process(mode, tool)
            times = warm(mode, tool)
            got[f"{mode} warm"] = statistics.median(times)
        for which in ("cold", "warm"):
            a, b = got[f"in-process {which}"], got[f"worker {which}"]
            rows.append({"name": f"{tool} {SIZE}px {which}: in-process / worker", "value": round(b, 4), "unit": "s",
                         "target": "", "note": f"in-process {a:.4f} s, worker {b:.4f} s (x{b / a:.2f}, "
                                               f"+{(b - a) * 1000:.0f} ms); "
                                               + (f"median of {REPEATS}; " if which == "warm" else "first run, fresh process; ")
                                               + _load()})
    shm_t, reuse_t, pickle_t = transport(max(3, REPEATS // 2))
    s, r, p = statistics.median(shm_t), statistics.median(reuse_t), statistics.median(pickle_t)
    rows.append({"name": "4000x3000 float32 picture (144 MB): kept shared block / pickle", "value": round(r, 4),
                 "unit": "s", "target": "", "note": f"kept block {r * 1000:.0f} ms, new block {s * 1000:.0f} ms, "
                                                   f"pickle dumps+loads {p * 1000:.0f} ms (x{p / r:.1f} the kept "
                                                   f"block); median of {len(shm_t)}; {_load()}"})
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "cold":
        print(json.dumps({"seconds": cold(sys.argv[2], sys.argv[3])}))
    else:
        for row in run():
            print(row)
