"""Season transfer (engineer O): latency of the tool with its shipped default model.

Runs ``ganpaint_season.tool.run`` (the path the editor and ``ganpaint run season`` take:
card check -> model cache -> translate_array -> backends/tiling -> blend) on a procedural
summer render scaled to 512, 1024 and 4096 px squares, summer -> winter, strength 1.
The tool keeps its last translation for the live strength slider, so each repeat uses a
slightly different picture (a one-level change) to measure a real run. The first run at each
size (model load, graph conversion when OpenVINO is installed) is reported separately.
Peak memory: VmHWM of this process after resetting it through /proc/self/clear_refs.

``BENCH_SIZES=512,1024`` limits the sizes; ``BENCH_QUICK=1`` takes one repeat.

Tiled vs untiled (issue 12, point 5): the same 2560x1600 picture with the former fixed budget
(1.5 GB, ``$GANPAINT_INFERENCE_MEMORY_MB=1536``: tiled) and with the automatic one (available
memory minus a margin: one pass where memory allows); time and peak RSS of each, one run
after one unmeasured warm-up. ``BENCH_TILING=0`` skips it; ``python benchmarks/bench_season.py
tiling`` runs only it.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "512,1024,4096").split(",") if s.strip()]
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
TARGETS = {512: "< 2 s", 1024: "< 8 s", 4096: "< 3 min (tiled)"}


def _load() -> str:
    return "load {:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _picture(size: int) -> Any:
    import numpy as np
    from PIL import Image

    from ganpaint.data.landscape import Scene, render

    base = render(Scene.random(7), "summer", 384)
    img = Image.fromarray((base * 255 + 0.5).astype(np.uint8)).resize((size, size), Image.BICUBIC)
    return np.asarray(img, np.float32) / 255.0


def run() -> list[dict[str, Any]]:
    import numpy as np
    import torch
    from ganpaint_season import DEFAULT_MODEL, MODEL_FILE, TOOL_ID, ganpaint_register_tools
    from ganpaint_season.tool import run as run_tool

    from ganpaint.engine.inference.devices import prepare_torch_env
    from ganpaint.testing import RecordingContext, make_request

    prepare_torch_env()
    if not MODEL_FILE.is_file():
        return [{"name": "season: default model", "value": None, "unit": "", "target": "",
                 "note": f"missing {MODEL_FILE}"}]
    spec = ganpaint_register_tools()[0]
    ctx = RecordingContext(models={(DEFAULT_MODEL, TOOL_ID): str(MODEL_FILE)})
    rows: list[dict[str, Any]] = []
    for size in SIZES:
        img = _picture(size)
        # one run at 4096 px (minutes under load; the first run is the measurement)
        reps = 0 if size >= 2048 else (1 if QUICK else 3)
        times: list[float] = []
        first = 0.0
        _reset_peak()
        for i in range(reps + 1):
            x = np.clip(img + i / 255.0, 0, 1).astype(np.float32)  # a new picture: no cached translation
            req = make_request(x, spec=spec)
            t0 = time.perf_counter()
            out = run_tool(req, ctx)
            dt = time.perf_counter() - t0
            assert out.image.shape == x.shape
            if i == 0:
                first = dt
            if i > 0 or reps == 0:
                times.append(dt)
        peak = _peak_mb()
        msgs = sorted({m for _, m in ctx.calls if m and "ile" in m})[:2]
        rows.append({
            "name": f"season {size}px summer->winter (default model)",
            "value": round(statistics.median(times), 2), "unit": "s", "target": TARGETS.get(size, ""),
            "note": f"median of {len(times)}; first run {first:.2f} s; peak RSS {peak:.0f} MB; "
                    f"threads {torch.get_num_threads()}; {_load()}" + (f"; {'; '.join(msgs)}" if msgs else ""),
        })
        ctx.calls.clear()
    if os.environ.get("BENCH_TILING", "1") != "0":
        rows += run_tiling()
    return rows


def run_tiling(width: int = 2560, height: int = 1600) -> list[dict[str, Any]]:
    import numpy as np
    from ganpaint_season import DEFAULT_MODEL, MODEL_FILE, TOOL_ID, ganpaint_register_tools
    from ganpaint_season.tool import run as run_tool
    from PIL import Image

    from ganpaint.engine.inference.devices import prepare_torch_env
    from ganpaint.engine.inference.memory import memory_budget_bytes
    from ganpaint.testing import RecordingContext, make_request

    prepare_torch_env()
    if not MODEL_FILE.is_file():
        return []
    spec = ganpaint_register_tools()[0]
    ctx = RecordingContext(models={(DEFAULT_MODEL, TOOL_ID): str(MODEL_FILE)})
    sq = (_picture(max(width, height)) * 255 + 0.5).astype(np.uint8)
    img = np.asarray(Image.fromarray(sq).resize((width, height), Image.BICUBIC), np.float32) / 255.0
    rows: list[dict[str, Any]] = []
    saved = os.environ.get("GANPAINT_INFERENCE_MEMORY_MB")
    try:
        for n, (label, mb) in enumerate((("tiled, former 1.5 GB budget", "1536"), ("automatic budget", "0"))):
            os.environ["GANPAINT_INFERENCE_MEMORY_MB"] = mb
            budget = memory_budget_bytes("cpu") / 2**30
            times: list[float] = []
            peak = None
            for i in range(2):  # run 0 warms up (model load, conversion), unmeasured
                x = np.clip(img + (2 * n + i) / 255.0, 0, 1).astype(np.float32)
                ctx.calls.clear()
                _reset_peak()
                t0 = time.perf_counter()
                out = run_tool(make_request(x, spec=spec), ctx)
                times.append(time.perf_counter() - t0)
                peak = _peak_mb()
                assert out.image.shape == x.shape
            tiles = sorted({m for _, m in ctx.calls if m and m.startswith("Tile")})
            rows.append({
                "name": f"season {width}x{height}: {label}", "value": round(times[-1], 2), "unit": "s",
                "target": "", "note": f"budget {budget:.1f} GB; {'tiled: ' + tiles[-1] if tiles else 'one pass'}; "
                                      f"peak RSS {peak:.0f} MB; warm-up run {times[0]:.1f} s; {_load()}"})
    finally:
        if saved is None:
            os.environ.pop("GANPAINT_INFERENCE_MEMORY_MB", None)
        else:
            os.environ["GANPAINT_INFERENCE_MEMORY_MB"] = saved
    return rows


if __name__ == "__main__":
    import sys

    for r in run_tiling() if sys.argv[1:] == ["tiling"] else run():
        print(r)
