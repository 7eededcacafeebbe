"""Upscale (Real-ESRGAN): GANPaint's path against plain eager PyTorch on the same weights.

x4 of a 256x256 crop of ``resources/samples/dragonfly.jpg``, medians of ``BENCH_REPEATS`` (3)
measured round-robin in one run, with ``BENCH_THREADS`` (2) torch threads:

* GANPaint's path: the ``upscale`` tool through ``ganpaint.testing.run_tool`` (the plugin host,
  the model store, ``spandrel_models.run_image`` with its automatic tile size, the Lanczos
  step, the result check), precision "full" and "fast" ("fast" on the CPU:
  ``spandrel_models.forward_for``, the engine's backend: OpenVINO bf16 for x4plus, bf16
  autocast for the small animevideov3; its first run, converting, is a row of its own);
* eager: spandrel's model loaded by spandrel itself from the same file and called directly under
  ``torch.inference_mode`` (fp32), and the same under bf16 autocast (what "fast" means for eager
  PyTorch on a CPU with AVX512-BF16/AMX);
* the project's fast CPU backend (``engine.inference.backends.select_runner``: OpenVINO, fp32 and bf16)
  on the same module, called directly: its conversion time too (the tool's "fast" is the bf16 one).

Every path's output is compared with eager fp32 (max 8-bit level difference). Then the peak
resident memory (VmHWM, in a fresh subprocess) of the tool at 1024x1024 input: x4plus in its
automatic tiles (the run is stopped after ``BENCH_MEM_TILES`` (2) tiles: every tile has the same
size, so the tiles' peak is reached in the first; ``BENCH_MEM_TILES=0`` runs the whole job, about
20 minutes here), realesr-animevideov3 whole (automatic: it fits) and in 256 px tiles.

The models come from the model store (``GANPAINT_DATA_DIR``): install them first with
``GANPAINT_DATA_DIR=/tmp/gp-bench ganpaint models fetch-realesrgan``.
``BENCH_PARTS=x4plus,openvino,anime,memory`` picks parts.

    GANPAINT_DATA_DIR=/tmp/gp-bench python benchmarks/run.py --only upscale
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as ganpaint.engine.inference.devices.prepare_torch_env

THREADS = int(os.environ.get("BENCH_THREADS", "2"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
MEM_TILES = int(os.environ.get("BENCH_MEM_TILES", "2"))
PARTS = set(os.environ.get("BENCH_PARTS", "x4plus,openvino,anime,memory").split(","))
SIDE = 256
CROP = (400, 200)  # top-left corner of the 256x256 crop on dragonfly.jpg (1024x768)
X4PLUS = "realesrgan-x4plus"
ANIME = "realesr-animevideov3"
ROOT = Path(__file__).resolve().parents[1]


def _row(name: str, value: Any, unit: str, target: str = "", note: str = "") -> dict[str, Any]:
    return {"name": name, "value": value, "unit": unit, "target": target, "note": note}


def _load() -> str:
    return "load {:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())


def _photo_crop(side: int = SIDE) -> Any:
    import numpy as np
    from PIL import Image

    from ganpaint.core.paths import resources_dir

    with Image.open(resources_dir() / "samples" / "dragonfly.jpg") as im:
        a = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    x0, y0 = CROP
    return np.ascontiguousarray(a[y0 : y0 + side, x0 : x0 + side])


def _installed() -> dict[str, Path]:
    from ganpaint.engine.models.store import ModelStore

    return {e.name: Path(e.path) for e in ModelStore().list(tool="upscale")}


def _levels(a: Any) -> Any:
    import numpy as np

    return np.round(np.clip(np.asarray(a, dtype=np.float32), 0.0, 1.0) * 255.0).astype(np.int32)


def _host() -> Any:
    from ganpaint.plugins.manager import PluginManager

    host = PluginManager(user_dirs=False)
    host.load()
    return host


def _time(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def bench_model(rows: list[dict[str, Any]], name: str, path: Path, *, openvino: bool) -> None:
    import numpy as np
    import torch

    from ganpaint.engine.inference.backends import openvino_available, select_runner
    from ganpaint.engine.models import spandrel_models as sm
    from ganpaint.testing import RecordingContext, run_tool

    spandrel = sm.import_spandrel()
    rgb = _photo_crop()
    x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
    host = _host()
    ref = spandrel.ModelLoader().load_from_file(str(path))
    model = ref.model.float().eval()

    def tool(precision: str) -> Any:
        ctx = RecordingContext(host=host, precision=precision)  # type: ignore[arg-type]
        return run_tool(host, "upscale", rgb, {"model": name}, ctx=ctx).image

    def eager() -> Any:
        with torch.inference_mode():
            return model(x)[0].permute(1, 2, 0).numpy()

    def eager_bf16() -> Any:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            return model(x)[0].float().permute(1, 2, 0).numpy()

    paths: dict[str, Any] = {"GANPaint fp32": lambda: tool("full"), "eager fp32": eager,
                             "GANPaint fast": lambda: tool("fast"), "eager bf16 autocast": eager_bf16}
    if openvino and openvino_available():
        for prec, label in (("full", "OpenVINO fp32"), ("fast", "OpenVINO bf16")):
            t = time.perf_counter()
            runner = select_runner(model, "cpu", prec)
            runner.call(x[:, :, :64, :64])
            rows.append(_row(f"{name}: prepare {label} (once per model)", time.perf_counter() - t, "s", "",
                             f"{runner.name} {runner.dtype}; no disk cache for a spandrel module"))
            if runner.name == "openvino":
                paths[label] = lambda call=runner.call: call(x)[0].clamp(0, 1).permute(1, 2, 0).numpy()
    desc = sm.load_spandrel(path)
    tile = sm.auto_tile(desc)
    t = time.perf_counter()
    warm = RecordingContext(host=host, precision="fast")
    run_tool(host, "upscale", rgb[:64, :64], {"model": name}, ctx=warm)
    fast = sm.forward_for(desc, warm)
    fast_how = "spandrel's call (fp32)" if fast is desc else "engine.inference.backends.select_runner('fast')"
    rows.append(_row(f"{name}: first 'fast' run of the tool, 64 px", time.perf_counter() - t, "s", "",
                     f"{fast_how}; converts the module once (OpenVINO, networks over 1 M parameters), later "
                     "processes read the converted graph from the cache folder; "
                     + "; ".join(m for _, m in warm.calls if "backend" in m or "precision" in m)))
    times: dict[str, list[float]] = {k: [] for k in paths}
    outs: dict[str, Any] = {}
    for _ in range(REPEATS):  # round-robin: the machine's load changes hit every path alike
        for label, fn in paths.items():
            dt, out = _time(fn)
            times[label].append(dt)
            outs.setdefault(label, out)
    want = _levels(outs["eager fp32"])
    base = statistics.median(times["eager fp32"])
    what = {"GANPaint fp32": f"upscale tool, auto tile {tile} px ({'one pass' if tile >= SIDE else 'tiled'})",
            "GANPaint fast": f"upscale tool, precision fast: {fast_how}",
            "eager fp32": "spandrel's model called directly",
            "eager bf16 autocast": "torch.autocast(cpu, bfloat16)",
            "OpenVINO fp32": "engine.inference.backends directly (the tool's full precision stays eager)",
            "OpenVINO bf16": "engine.inference.backends directly"}
    for label, ts in times.items():
        med = statistics.median(ts)
        diff = int(np.abs(_levels(outs[label]) - want).max())
        rows.append(_row(f"{name} x4 {SIDE} px: {label}", med, "s", "",
                         f"{base / med:.2f}x eager fp32; max {diff} level(s) from eager fp32; {what.get(label, '')}; "
                         f"runs {', '.join(f'{t:.1f}' for t in ts)}; {THREADS} threads; {_load()}"))


_MEM_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np, torch
    from PIL import Image
    torch.set_num_threads(int(sys.argv[3]))
    from ganpaint.core.paths import resources_dir
    from ganpaint.core.specs import JobCancelled
    from ganpaint.engine.models import spandrel_models as sm
    from ganpaint.engine.models.store import ModelStore
    from ganpaint.plugins.manager import PluginManager
    from ganpaint.testing import RecordingContext, run_tool

    name, tile, stop_after = sys.argv[1], int(sys.argv[2]), int(sys.argv[4])
    def status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    with Image.open(resources_dir() / "samples" / "dragonfly.jpg") as im:
        rgb = np.asarray(im.convert("RGB").resize((1024, 1024), Image.Resampling.BICUBIC), np.float32) / 255
    host = PluginManager(user_dirs=False)
    host.load()
    entry = {e.name: e for e in ModelStore().list(tool="upscale")}[name]
    desc = sm.load_spandrel(entry.path)  # the tool finds it in the model cache
    auto = sm.auto_tile(desc)

    class Ctx(RecordingContext):
        stamps = []
        def progress(self, fraction, message="", preview=None):
            self.stamps.append((time.perf_counter(), message))
            super().progress(fraction, message, preview)

    ctx = Ctx(host=host, cancel_after=(stop_after + 1) if stop_after else None)
    before = status("VmRSS")
    open("/proc/self/clear_refs", "w").write("5")
    t0 = time.perf_counter()
    done = True
    try:
        run_tool(host, "upscale", rgb, {"model": name, "tile": tile}, ctx=ctx)
    except JobCancelled:
        done = False
    wall = time.perf_counter() - t0
    tiles = [(t, m) for t, m in ctx.stamps if m.startswith("Tile ")]
    count = int(tiles[0][1].split(" of ")[1]) if tiles else 1
    per_tile = (ctx.stamps[-1][0] - tiles[0][0]) / max(1, len(tiles) - 1) if len(tiles) > 1 else wall
    print(json.dumps({"peak": status("VmHWM"), "before": before, "wall": wall, "done": done, "tiles": count,
                      "tiles_run": len(tiles) - (0 if done else 1), "per_tile": per_tile, "auto_tile": auto,
                      "context": sm._context(desc), "bytes_per_px": sm.bytes_per_pixel(desc)}))
    """
)


def bench_memory(rows: list[dict[str, Any]], name: str, tile: int, stop_after: int) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": str(THREADS)}
    done = subprocess.run([sys.executable, "-c", _MEM_SCRIPT, name, str(tile), str(THREADS), str(stop_after)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=7200)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no output")
    r = json.loads(done.stdout.strip().splitlines()[-1])
    how = f"tile {tile} px" if tile else f"auto tile {r['auto_tile']} px"
    tiled = r["tiles"] > 1
    if r["done"]:
        run = f"whole job {r['wall']:.1f} s"
    else:
        run = (f"stopped after {r['tiles_run']} of {r['tiles']} tiles ({r['per_tile']:.1f} s a tile: the whole job "
               f"about {r['per_tile'] * r['tiles'] / 60:.0f} min)")
    rows.append(_row(f"{name} x4 1024 px: peak memory ({how})", r["peak"] / 2**20, "MB", "",
                     f"{(r['peak'] - r['before']) / 2**20:.0f} MB above the loaded process; "
                     f"{r['tiles'] if tiled else 'no'} tiles, context {r['context']} px; estimate "
                     f"{r['bytes_per_px'] / 1024:.1f} KB/px; {run}; {THREADS} threads; {_load()}"))


def run() -> list[dict[str, Any]]:
    import torch

    torch.set_num_threads(THREADS)
    rows: list[dict[str, Any]] = []
    models = _installed()
    missing = [n for n in (X4PLUS, ANIME) if n not in models]
    if missing:
        return [_row("upscale: models not installed", None, "", "",
                     f"{', '.join(missing)} missing from {os.environ.get('GANPAINT_DATA_DIR') or 'the data folder'}: "
                     "run `ganpaint models fetch-realesrgan` (GANPAINT_DATA_DIR=/tmp/gp-bench for a scratch folder)")]
    if "x4plus" in PARTS:
        bench_model(rows, X4PLUS, models[X4PLUS], openvino="openvino" in PARTS)
    if "anime" in PARTS:
        bench_model(rows, ANIME, models[ANIME], openvino=False)
    if "memory" in PARTS:
        bench_memory(rows, X4PLUS, 0, MEM_TILES)
        bench_memory(rows, ANIME, 0, 0)
        bench_memory(rows, ANIME, 256, 0)
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import format_table  # type: ignore[import-not-found]

    print(format_table(run()))
