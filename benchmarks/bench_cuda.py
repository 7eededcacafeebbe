"""GPU benchmarks (issue 18, point 3): run by tools/gpu_check.sh on a machine with CUDA.

Inference: for the ResNet-9 and U-Net-256 generators (ngf 64, random weights, as in
bench_inference) at 512 and 1024 px on ``cuda``: the median latency (after warm-up, synchronised)
of GANPaint's path (``engine.inference.backends.run_model``: the runner select_runner picks, tiling and
out-of-memory handling included) at "full" and "fast" precision, against eager PyTorch on the
SAME weights in fp32 and under autocast (the dtype "fast" picks: bf16, or fp16 without bf16),
measured round-robin; the fast path's mean error against eager fp32, in 8-bit levels.

Training: steps per second of each recipe (pix2pix, cyclegan, inpaint, sketch when its plugin is
installed, stylegan2) through ``ganpaint.train.train`` on cuda, fp32 and bf16 autocast (median of
the per-step rates after the first 3 steps).

Without CUDA, ``run()`` returns one row saying so. ``python benchmarks/bench_cuda.py OUT_DIR``
also writes ``OUT_DIR/bench_cuda.json`` and ``OUT_DIR/bench_cuda.md`` (a table for
docs/performance.md). ``BENCH_QUICK=1``: fewer repeats and steps.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
SIZES = (512, 1024)
ARCHS = {
    "ResNet-9": ("resnet_generator", {"ngf": 64, "n_blocks": 9, "norm": "instance"}),
    "U-Net-256": ("unet_generator", {"ngf": 64, "num_downs": 8, "norm": "batch"}),
}
TRAIN = {  # recipe -> (options, data kind); 128 px crops, batch 8
    "pix2pix": ({"crop": 128, "batch": 8, "num_downs": 7}, "paired"),
    "cyclegan": ({"crop": 128, "batch": 8, "pool_size": 0}, "unpaired"),
    "inpaint": ({"crop": 128, "batch": 8}, "single"),
    "sketch": ({"crop": 128, "batch": 8, "bn_recalibration": 0}, "paired"),
    "stylegan2": ({"crop": 64, "batch": 8}, "single"),
}


def _row(name: str, value: float, unit: str, target: str = "", note: str = "") -> dict[str, Any]:
    return {"name": name, "value": value, "unit": unit, "target": target, "note": note}


def _card() -> str:
    import torch

    p = torch.cuda.get_device_properties(0)
    return f"{p.name} ({p.total_memory / 1024**3:.0f} GiB, {torch.cuda.device_count()} visible)"


def _build(arch: str, cfg: dict[str, Any]) -> Any:
    from ganpaint.testing.random_weights import random_model

    return random_model(arch, cfg).to("cuda")


class _Ctx:
    """The little of a RunContext that run_model reads."""

    def __init__(self, precision: str) -> None:
        self.precision = precision
        self.device = "cuda"

    def progress(self, fraction: float, message: str = "", preview: Any = None) -> None:
        pass

    def cancelled(self) -> bool:
        return False


def _timed(fn: Any) -> float:
    import torch

    torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    return time.perf_counter() - t0


def bench_inference() -> list[dict[str, Any]]:
    import torch

    from ganpaint.engine.inference.backends import run_model
    from ganpaint.engine.inference.devices import fast_dtype

    fast = getattr(torch, fast_dtype("cuda") or "float16")
    rows = []
    reps = 3 if QUICK else 10
    for label, (arch, cfg) in ARCHS.items():
        model = _build(arch, cfg)
        for side in SIZES:
            x = torch.rand(1, 3, side, side, device="cuda") * 2 - 1
            ways = {
                "GANPaint full": lambda x=x, m=model: run_model(m, x, ctx=_Ctx("full")),
                "GANPaint fast": lambda x=x, m=model: run_model(m, x, ctx=_Ctx("fast")),
                "eager fp32": lambda x=x, m=model: m(x),
                f"eager autocast {str(fast).removeprefix('torch.')}": lambda x=x, m=model: _autocast(m, x, fast),
            }
            times: dict[str, list[float]] = {k: [] for k in ways}
            with torch.inference_mode():
                for fn in ways.values():  # warm-up (cudnn autotuning, allocator)
                    fn()
                for _ in range(reps):
                    for k, fn in ways.items():
                        times[k].append(_timed(fn))
                ref = model(x).float()
                err = float(((run_model(model, x, ctx=_Ctx("fast")).float() - ref).abs() * 127.5).mean())
            base = statistics.median(times["eager fp32"])
            for k, ts in times.items():
                med = statistics.median(ts)
                note = f"{base / med:.2f}x eager fp32"
                if k == "GANPaint fast":
                    note += f"; mean error {err:.2f} levels"
                rows.append(_row(f"{label} {side} px {k}", med, "s", "", note))
            del x
        del model
        torch.cuda.empty_cache()
    return rows


def _autocast(model: Any, x: Any, dtype: Any) -> Any:
    import torch

    with torch.autocast("cuda", dtype=dtype):
        return model(x).float()


def _pictures(root: Path) -> dict[str, dict[str, Any]]:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for sub in ("A", "B"):
        (root / sub).mkdir(parents=True, exist_ok=True)
        for i in range(24):
            arr = rng.integers(0, 255, (160, 160, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / sub / f"{i:03d}.png")
    a, b = str(root / "A"), str(root / "B")
    return {"paired": {"data": a, "data_b": b, "paired": "names"}, "unpaired": {"data": a, "data_b": b},
            "single": {"data": a}}


def _recipe(recipe_id: str, options: dict[str, Any]) -> Any:
    if recipe_id == "sketch":
        from ganpaint_sketch.training import SketchRecipe

        return SketchRecipe(**options)
    from ganpaint.train import make_recipe

    return make_recipe(recipe_id, options)


def bench_training() -> list[dict[str, Any]]:
    from ganpaint.train import load_data, train

    rows = []
    steps = 10 if QUICK else 30
    with tempfile.TemporaryDirectory(prefix="ganpaint-gpu-train-") as tmp:
        data_args = _pictures(Path(tmp) / "pics")
        for recipe_id, (opts, kind) in TRAIN.items():
            for bf16 in (False, True):
                try:
                    recipe = _recipe(recipe_id, opts)
                except ImportError as exc:
                    rows.append(_row(f"train {recipe_id}", float("nan"), "steps/s", "", f"skipped: {exc}"))
                    break
                d = data_args[kind]
                data = load_data(d["data"], d.get("data_b"), paired=d.get("paired"))
                run = Path(tmp) / f"{recipe_id}-{int(bf16)}"
                rates = []
                t_prev = time.perf_counter()
                for ev in train(recipe, data, steps=steps, run_dir=run, device="cuda", bf16=bf16,
                                checkpoint_every_s=0):
                    now = time.perf_counter()
                    if ev.kind == "step" and ev.step > 3:
                        rates.append(1.0 / max(now - t_prev, 1e-9))
                    t_prev = now
                label = "bf16" if bf16 else "fp32"
                rows.append(_row(f"train {recipe_id} {label} ({recipe.crop} px, batch {recipe.batch})",
                                 statistics.median(rates), "steps/s", "", f"{steps} steps"))
    return rows


def run() -> list[dict[str, Any]]:
    try:
        import torch
    except ImportError:
        return [_row("cuda", float("nan"), "", "", "torch is not installed")]
    if not torch.cuda.is_available():
        return [_row("cuda", float("nan"), "", "", "no CUDA device: nothing measured")]
    torch.backends.cudnn.benchmark = True
    card = _card()
    rows = [_row("card", float("nan"), "", "", card)]
    rows += bench_inference()
    rows += bench_training()
    return rows


def _markdown(rows: list[dict[str, Any]]) -> str:
    out = ["| benchmark | median | unit | note |", "|---|---|---|---|"]
    for r in rows:
        v = r["value"]
        text = "-" if v != v else (f"{v:.4g}")
        out.append(f"| {r['name']} | {text} | {r['unit']} | {r['note']} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out_dir.mkdir(parents=True, exist_ok=True)
    got = run()
    (out_dir / "bench_cuda.json").write_text(json.dumps(got, indent=1))
    (out_dir / "bench_cuda.md").write_text(_markdown(got))
    sys.stdout.write(_markdown(got))
