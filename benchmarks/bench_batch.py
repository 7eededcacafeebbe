"""Folder batches with ``--jobs N`` (issue 18, point 4): pictures per second of
``ganpaint run TOOL IN_DIR -o OUT_DIR --jobs N`` against ``--jobs 1``, in the same run.

Two tools: classic ``blur`` (cheap: mostly reading, the document and writing) and ``season``
(summer -> winter with its shipped default model, a neural tool). ``BATCH_PICTURES`` pictures
(default 24) of ``BATCH_SIZE`` px (default 384, smooth random colour fields). Each measurement is
the wall time of the whole command (start-up, worker starts and model loads included), run with
``--overwrite`` so every picture is redone; the value is the median over ``BENCH_REPEATS`` runs
(default 3; ``BENCH_QUICK=1``: 1), the runs of ``--jobs 1`` and ``--jobs N`` interleaved so a
change of the machine's load hits both. The command gets no ``OMP_NUM_THREADS``: ``--jobs 1``'s
worker uses every core, ``--jobs N``'s workers 1/N each. ``BATCH_JOBS`` (default 2) is N.

Beside pictures per second, the CPU seconds the command and its workers used per picture
(``getrusage`` of the finished children: user + system) and the cores they kept busy on average
(CPU / wall): on a machine shared with other work, what ``--jobs N`` costs in CPU and how much of
the machine it manages to use tell more than the wall time alone.

    python benchmarks/bench_batch.py            # or: python benchmarks/run.py --only batch
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
REPEATS = int(os.environ.get("BENCH_REPEATS", "1" if QUICK else "3"))
PICTURES = int(os.environ.get("BATCH_PICTURES", "24"))
SIZE = int(os.environ.get("BATCH_SIZE", "384"))
JOBS = int(os.environ.get("BATCH_JOBS", "2"))
TOOLS = ("blur", "season")


def _load() -> str:
    return "load {:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())


def make_pictures(folder: Path, n: int = PICTURES, size: int = SIZE) -> None:
    """Smooth random colour fields (blocks scaled up bicubic), one seed per picture."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        rng = np.random.default_rng(100 + i)
        small = rng.integers(0, 256, (size // 8, size // 8, 3), np.uint8)
        Image.fromarray(small).resize((size, size), Image.BICUBIC).save(folder / f"p{i:03d}.png")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "GANPAINT_THREADS"):
        env.pop(var, None)  # the command shares the cores out itself
    return env


def time_batch(tool: str, src: Path, out: Path, jobs: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its workers) of one ``ganpaint run`` over the folder."""
    cmd = [sys.executable, "-m", "ganpaint", "run", tool, str(src), "-o", str(out), "--jobs", str(jobs),
           "--overwrite", "-q"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=3600)
    took = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr[-2000:]}")
    return took, cpu


def measure(tools: tuple[str, ...] = TOOLS, jobs: int = JOBS) -> dict[str, dict[int, list[tuple[float, float]]]]:
    times: dict[str, dict[int, list[tuple[float, float]]]] = {}
    with tempfile.TemporaryDirectory(prefix="gp-bench-batch-") as tmp:
        src = Path(tmp) / "in"
        make_pictures(src)
        for tool in tools:
            times[tool] = {1: [], jobs: []}
            for _ in range(REPEATS):
                for j in (1, jobs):  # interleaved: load changes hit both
                    times[tool][j].append(time_batch(tool, src, Path(tmp) / f"{tool}-{j}", j))
    return times


def run() -> list[dict[str, Any]]:
    load = _load()
    times = measure()
    rows: list[dict[str, Any]] = []
    for tool, by_jobs in times.items():
        rate = {j: PICTURES / statistics.median(w for w, _ in ts) for j, ts in by_jobs.items()}
        for j, ts in sorted(by_jobs.items()):
            rows.append({"name": f"{tool} batch --jobs {j}", "value": rate[j], "unit": "pictures/s",
                         "target": "", "note": f"{PICTURES} x {SIZE} px; whole command, median of {len(ts)}: "
                         + ", ".join(f"{w:.1f}" for w, _ in ts) + f" s; {load}"})
            rows.append({"name": f"{tool} batch --jobs {j} CPU", "value": statistics.median(c for _, c in ts) / PICTURES,
                         "unit": "CPU s/picture", "target": "",
                         "note": "cores busy (CPU/wall): " + ", ".join(f"{c / w:.2f}" for w, c in ts)})
        rows.append({"name": f"{tool} batch --jobs {JOBS} / --jobs 1", "value": rate[JOBS] / rate[1], "unit": "x",
                     "target": f"<= {min(JOBS, os.cpu_count() or 1)}", "note": f"{os.cpu_count()} cores"})
    return rows


if __name__ == "__main__":
    for row in run():
        value = row["value"]
        print(f"{row['name']:34s} {value:8.3f} {row['unit']:11s} {row['note']}")
