"""Inference benchmarks (engineer G): GANPaint's path against plain eager PyTorch.

For the ResNet-9 and U-Net-256 generators at ngf=64 (random weights, built on ``meta`` and
filled without random init) at 256/512/1024 px: latency median of GANPaint's path
(``ganpaint.engine.inference.backends.select_runner``: OpenVINO when ``ganpaint[fast]`` is installed,
else eager) and of the eager reference on the SAME weights, measured round-robin in one
run; their ratio; peak memory (VmHWM after resetting it through /proc/self/clear_refs);
achieved GFLOP/s (convolution FLOPs counted analytically) and its share of the measured
fp32 matmul peak. Then: the "fast" setting at 512 px; each architecture tiled at 4096 px
(budget as configured, default cap 1.5 GB); 512 px ResNet-9 with 2 threads and one
busy-loop process vs 1 thread; the first result after start (subprocess: import, load a
model file, run once).

``BENCH_QUICK=1`` takes fewer repeats and skips 1024 px eager reference repeats;
``BENCH_SIZES=256,512`` limits the sizes (empty: none); ``BENCH_TILED=0`` skips the 4096 px runs,
``BENCH_COLD=0`` the cold starts; ``BENCH_PARTS=fast,busy`` picks parts; ``BENCH_ARCHS=U-Net-256``
picks architectures; ``BENCH_OUT=rows.jsonl`` appends rows as each part finishes.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as ganpaint.engine.inference.devices.prepare_torch_env

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "256,512,1024").split(",") if s.strip()]
TILED = os.environ.get("BENCH_TILED", "1") != "0"
COLD = os.environ.get("BENCH_COLD", "1") != "0"
#: which parts run (comma-separated: sizes,fast,busy,tiled,cold); all by default
PARTS = set(os.environ.get("BENCH_PARTS", "sizes,fast,busy,tiled,cold").split(","))
ARCHS = {
    "ResNet-9": ("resnet_generator", {"ngf": 64, "n_blocks": 9, "norm": "instance"}),
    "U-Net-256": ("unet_generator", {"ngf": 64, "num_downs": 8, "norm": "batch"}),
}


if os.environ.get("BENCH_ARCHS"):
    ARCHS = {k: v for k, v in ARCHS.items() if k in os.environ["BENCH_ARCHS"].split(",")}


def _reps(size: int) -> int:
    if QUICK:
        return 2 if size <= 512 else 1
    return {256: 5, 512: 3}.get(size, 2)


def _load() -> str:
    return "load {:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())


def _build(arch: str, cfg: dict[str, Any]) -> Any:
    from ganpaint.testing.random_weights import random_model

    return random_model(arch, cfg)


def conv_flops(model: Any, side: int) -> float:
    """2 x multiply-adds of every convolution for one side x side picture (meta run)."""
    import torch
    from torch import nn
    from torch.func import functional_call

    total = 0.0

    def hook(m: Any, args: Any, out: Any) -> None:
        nonlocal total
        k = m.kernel_size[0] * m.kernel_size[1]
        if isinstance(m, nn.ConvTranspose2d):
            total += 2.0 * args[0].numel() * m.out_channels * k / m.groups
        else:
            total += 2.0 * out.numel() * (m.in_channels / m.groups) * k

    hooks = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    state = {k: torch.empty_like(v, device="meta") for k, v in [*model.named_parameters(), *model.named_buffers()]}
    with torch.inference_mode():
        functional_call(model, state, (torch.empty(1, 3, side, side, device="meta"),))
    for h in hooks:
        h.remove()
    return total


def matmul_peak_gflops() -> float:
    import torch

    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    best = float("inf")
    for _ in range(4):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * 2048**3 / best / 1e9


def _reset_hwm() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _peak_mb(fn: Any) -> float:
    """Peak resident memory above the resident memory before ``fn`` (MB), NaN if unmeasurable."""
    if not _reset_hwm():
        fn()
        return float("nan")
    before = _status_kb("VmRSS")
    fn()
    return (_status_kb("VmHWM") - before) / 1024


def _row(name: str, value: float, unit: str, target: str = "", note: str = "") -> dict[str, Any]:
    return {"name": name, "value": value, "unit": unit, "target": target, "note": note}


def _busy_loop(stop: Any) -> None:
    x = 0
    while not stop.is_set():
        for _ in range(100000):
            x += 1


def bench_sizes(rows: list[dict[str, Any]], peak: float) -> dict[str, Any]:
    import torch

    from ganpaint.engine.inference.backends import select_runner

    models = {}
    for label, (arch, cfg) in ARCHS.items():
        model = _build(arch, cfg)
        t = time.perf_counter()
        runner = select_runner(model, "cpu", "full")
        runner.call(torch.zeros(1, 3, 256, 256))
        models[label] = (model, runner)
        rows.append(_row(f"{label}: prepare {runner.name} backend (once per model)", time.perf_counter() - t, "s"))
    for size in SIZES:
        x = torch.rand(1, 3, size, size) * 2 - 1
        for label, (model, runner) in models.items():
            fast = runner.call
            with torch.inference_mode():
                mem_ours = _peak_mb(lambda fast=fast, x=x: fast(x))  # also the warm-up
                mem_ref = _peak_mb(lambda model=model, x=x: model(x))
                ours, ref = [], []
                for _ in range(_reps(size)):  # round-robin: load changes hit both alike
                    t = time.perf_counter()
                    fast(x)
                    ours.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    model(x)
                    ref.append(time.perf_counter() - t)
            mo, mr = statistics.median(ours), statistics.median(ref)
            gf = conv_flops(model, size) / 1e9
            target = ""
            if size == 512:
                target = ">= 1.5x" if label == "ResNet-9" else ">= 2x"
            note = f"{runner.name} {mo:.2f} s vs eager {mr:.2f} s, {len(ours)} runs, {_load()}"
            rows.append(_row(f"{label} {size} px: latency ({runner.name})", mo, "s", "", note))
            rows.append(_row(f"{label} {size} px: eager reference", mr, "s"))
            rows.append(_row(f"{label} {size} px: speed vs eager", mr / mo, "x", target))
            rows.append(_row(f"{label} {size} px: peak memory ({runner.name} / eager)", mem_ours, "MB", "",
                             f"eager {mem_ref:.0f} MB"))
            rows.append(_row(f"{label} {size} px: achieved", gf / mo, "GFLOP/s", "",
                             f"{gf:.0f} GFLOP; {gf / mo / peak:.0%} of matmul peak; eager {gf / mr:.0f} GFLOP/s"))
    return models


def bench_fast(rows: list[dict[str, Any]], models: dict[str, Any]) -> None:
    import torch

    from ganpaint.engine.inference.backends import select_runner
    from ganpaint.engine.inference.devices import cpu_supports_bf16

    if not cpu_supports_bf16():
        rows.append(_row("fast (bf16) setting", float("nan"), "", ">= 3x", "unavailable: no AVX512-BF16/AMX"))
        return
    x = torch.rand(1, 3, 512, 512) * 2 - 1
    for label, (model, _) in models.items():
        runner = select_runner(model, "cpu", "fast")
        with torch.inference_mode():
            yf, y32 = runner.call(x), model(x)
            fast, ref = [], []
            for _ in range(_reps(512)):
                t = time.perf_counter()
                runner.call(x)
                fast.append(time.perf_counter() - t)
                t = time.perf_counter()
                model(x)
                ref.append(time.perf_counter() - t)
        err = float(((yf.float() - y32).abs() * 127.5).mean())
        rows.append(_row(f"{label} 512 px: fast ({runner.name} {runner.dtype}) vs eager fp32",
                         statistics.median(ref) / statistics.median(fast), "x", ">= 3x",
                         f"{statistics.median(fast):.2f} s; mean error {err:.2f} levels; {_load()}"))


def bench_tiled(rows: list[dict[str, Any]], models: dict[str, Any]) -> None:
    import torch

    from ganpaint.engine.inference.backends import run_model
    from ganpaint.engine.inference.memory import memory_budget_bytes

    x = torch.rand(1, 3, 4096, 4096) * 2 - 1
    for label, (model, _) in models.items():
        t = time.perf_counter()
        with torch.inference_mode():
            mem = _peak_mb(lambda model=model: run_model(model, x))
        took = time.perf_counter() - t
        rows.append(_row(f"{label} 4096 px tiled: peak memory", mem, "MB", "< 3000",
                         f"{took:.0f} s; budget {memory_budget_bytes('cpu') / 2**20:.0f} MB; {_load()}"))


def bench_busy(rows: list[dict[str, Any]], models: dict[str, Any]) -> None:
    import torch

    label = "ResNet-9" if "ResNet-9" in models else next(iter(models))
    model, runner = models[label]
    x = torch.rand(1, 3, 512, 512) * 2 - 1
    threads = torch.get_num_threads()

    def timed(n: int) -> float:
        out = []
        with torch.inference_mode():
            for _ in range(_reps(512)):
                t = time.perf_counter()
                runner.call(x)
                out.append(time.perf_counter() - t)
        return statistics.median(out)

    from ganpaint.engine.inference.devices import free_cores

    torch.set_num_threads(1)
    one = timed(1)
    torch.set_num_threads(2)
    stop = mp.get_context("fork").Event()
    proc = mp.get_context("fork").Process(target=_busy_loop, args=(stop,), daemon=True)
    proc.start()
    try:
        time.sleep(0.2)
        seen = free_cores()  # what the engine sees while the busy process runs
        two_busy = timed(2)
        torch.set_num_threads(1)
        one_busy = timed(1)  # the same busy machine with one thread asked for: shared caches, clock
    finally:
        stop.set()
        proc.join(5)
        torch.set_num_threads(threads)
    rows.append(_row(f"{label} 512 px ({runner.name}): 2 threads + 1 busy process", two_busy, "s",
                     f"<= 1 thread ({one:.2f} s)",
                     f"free cores seen: {seen}; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}; {_load()}"))
    rows.append(_row(f"{label} 512 px ({runner.name}): 1 thread + 1 busy process", one_busy, "s", "",
                     "reference: what one thread gets beside the busy process"))


COLD_SCRIPT = textwrap.dedent("""
    import time, sys
    t0 = time.perf_counter()
    from ganpaint.engine.inference.devices import prepare_torch_env
    prepare_torch_env()
    import numpy as np
    from ganpaint.engine.inference.translate import translate_array
    from ganpaint.engine.models.loading import load_model
    model = load_model(sys.argv[1])
    translate_array(model, np.full((512, 512, 3), 0.5, np.float32))
    print(time.perf_counter() - t0)
""")


def bench_cold(rows: list[dict[str, Any]], models: dict[str, Any]) -> None:
    from ganpaint.engine.models.cards import ModelCard
    from ganpaint.engine.models.store import ModelStore

    model, _ = models["ResNet-9"]
    with tempfile.TemporaryDirectory() as tmp:
        store = ModelStore(Path(tmp) / "models", include_resources=False)
        sd = {f"forward.{k}": v.contiguous() for k, v in model.state_dict().items()}
        card = ModelCard(architecture="resnet_generator", config=dict(ARCHS["ResNet-9"][1]), tool="translate")
        entry = store.add(sd, card, "bench-resnet9")
        env = dict(os.environ, GANPAINT_DATA_DIR=str(Path(tmp) / "data"))
        for backend in ("eager", "auto"):
            env["GANPAINT_BACKEND"] = backend
            times = []
            for _ in range(1 if backend == "eager" or QUICK else 2):  # auto: convert, then cached
                t = time.perf_counter()
                subprocess.run([sys.executable, "-c", COLD_SCRIPT, str(entry.path)], check=True, env=env,
                               capture_output=True, text=True)
                times.append(time.perf_counter() - t)
            note = "process start to 512 px result, ResNet-9 file"
            if len(times) > 1:
                note += f"; first run (converting) {times[0]:.1f} s"
            rows.append(_row(f"cold first result ({backend} backend)", times[-1], "s", "", f"{note}; {_load()}"))


def _section(rows: list[dict[str, Any]], name: str, fn: Any, *args: Any) -> Any:
    """Run one part; a failure becomes an error row and the other parts still run."""
    start = len(rows)
    try:
        return fn(rows, *args)
    except Exception as exc:  # benchmarks never gate anything: report and go on
        rows.append(_row(f"{name} FAILED", float("nan"), "", "", f"{type(exc).__name__}: {exc}"))
        return None
    finally:
        out = os.environ.get("BENCH_OUT")
        if out:  # rows so far, for long runs that may be interrupted
            import json

            with open(out, "a", encoding="utf-8") as f:
                for r in rows[start:]:
                    f.write(json.dumps(r) + "\n")


def run() -> list[dict[str, Any]]:
    import torch

    from ganpaint.engine.inference.devices import prepare_torch_env

    prepare_torch_env()
    torch.set_num_threads(2)
    rows: list[dict[str, Any]] = []
    peak = matmul_peak_gflops()
    rows.append(_row("fp32 matmul peak (2048^2, 2 threads)", peak, "GFLOP/s", "", _load()))
    models = _section(rows, "sizes", bench_sizes, peak)
    if models:
        if "fast" in PARTS:
            _section(rows, "fast", bench_fast, models)
        if "busy" in PARTS:
            _section(rows, "busy", bench_busy, models)
        if TILED and "tiled" in PARTS:
            _section(rows, "tiled", bench_tiled, models)
        if COLD and "cold" in PARTS:
            _section(rows, "cold", bench_cold, models)
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import format_table

    print(format_table(run()))
