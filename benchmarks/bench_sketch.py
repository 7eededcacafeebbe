"""Sketch to image latency with the shipped default model: square sketches of 512, 1024 and
4096 px (random closed shapes in dark lines on white) plus a few hint dots, through the
tool's run(): since issue 17 the drawing is brought to the model's line scale (at most
192 px), run in 128 px windows, brought back, and the hints spread over their regions. The
baseline rows, in the same run, are the old way: the whole canvas through the U-Net
(``tool.run_generator``) at 512 and 1024 px. The model is loaded once before timing; each
row is the median of a few runs (1 at 4096 px). Torch uses the usual thread count
(GANPAINT_THREADS / all cores), as in the editor.

``python benchmarks/bench_sketch.py`` prints the rows; benchmarks/run.py collects them.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np


def _sketch(n: int, rng: np.random.Generator) -> np.ndarray:
    """Outlines of random ellipses and boxes, line width ~n/256 px, on white."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (n, n), 255)
    d = ImageDraw.Draw(img)
    width = max(1, n // 256)
    for _ in range(12):
        x0, y0 = rng.integers(0, n * 3 // 4, size=2)
        w, h = rng.integers(n // 10, n // 3, size=2)
        box = (int(x0), int(y0), int(x0 + w), int(y0 + h))
        (d.ellipse if rng.random() < 0.5 else d.rectangle)(box, outline=0, width=width)
    a = np.asarray(img, np.float32) / 255.0
    return np.repeat(a[..., None], 3, axis=2)


def _hints(n: int, rng: np.random.Generator) -> np.ndarray:
    h = np.zeros((n, n, 4), np.float32)
    r = max(2, n // 64)
    for _ in range(6):
        y, x = rng.integers(r, n - r, size=2)
        h[y - r:y + r, x - r:x + r] = (*rng.random(3), 1.0)
    return h


def run() -> list[dict[str, Any]]:
    import ganpaint_sketch
    from ganpaint_sketch import tool

    from ganpaint.core.specs import Role
    from ganpaint.engine.inference.devices import prepare_torch_env
    from ganpaint.testing import RecordingContext, make_request

    prepare_torch_env()
    if not ganpaint_sketch.MODEL_FILE.is_file():
        return [{"name": "sketch: default model", "value": float("nan"), "unit": "s", "target": "",
                 "note": "not trained yet"}]
    spec = ganpaint_sketch.ganpaint_register_tools()[0]
    ctx = RecordingContext(models={("sketch-default", spec.id): str(ganpaint_sketch.MODEL_FILE)})
    rng = np.random.default_rng(0)
    rows = []
    for n, runs, target in ((512, 5, "< 1 s"), (1024, 3, "< 3 s"), (4096, 1, "< 30 s")):
        sk = _sketch(n, rng)
        req = make_request(sk, spec=spec, params={"model": "sketch-default"},
                           extra={Role.SKETCH: sk, Role.HINTS: _hints(n, rng)})
        if n == 512:
            tool.run(req, ctx)  # load + warm up
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            tool.run(req, ctx)
            times.append(time.perf_counter() - t0)
        rows.append({
            "name": f"sketch: {n}x{n} with hints, default model", "value": statistics.median(times), "unit": "s",
            "target": target,
            "note": f"median of {runs}; at the line scale in 128 px windows, hints spread over regions",
        })
        if n <= 1024:  # the baseline: the whole canvas through the U-Net, dots as the model's hints
            import torch

            from ganpaint.engine.models.loading import load_model

            model = load_model(ganpaint_sketch.MODEL_FILE, dtype=torch.float32)
            x = np.concatenate([sk[..., :1], _hints(n, np.random.default_rng(1))], axis=2)
            tool.run_generator(model, x)
            old = []
            for _ in range(runs):
                t0 = time.perf_counter()
                tool.run_generator(model, x)
                old.append(time.perf_counter() - t0)
            rows.append({"name": f"sketch: {n}x{n} whole canvas (before issue 17)", "value": statistics.median(old),
                         "unit": "s", "target": "", "note": f"median of {runs}; baseline, same run"})
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<45} {row['value']:8.3f} {row['unit']:<3} target {row['target']:<8} {row['note']}")
