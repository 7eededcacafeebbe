"""Document-model benchmarks (ganpaint.core): compositing, brush, undo memory.

* composite of a 64x64 region of a 4096x4096 document with 5 layers (mixed blend modes,
  opacities, partly transparent), median of 300 calls;
* one brush ``add_point`` on a 4096x4096 layer (size 40, a stroke of 300 moves), and the
  same move plus the composite of the rect it changed (what the canvas repaints per move);
* history memory after 500 strokes on a 4096x4096 document with a 50 MB limit;
* a full 4096x4096 composite of the 5 layers, and of a photo with one painted layer.

``python benchmarks/bench_core.py`` prints the rows; benchmarks/run.py collects them.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

from ganpaint.core.brush import BrushSettings, BrushStroke
from ganpaint.core.document import Document
from ganpaint.core.geometry import Rect
from ganpaint.core.layers import BlendMode

SIZE = 4096


def _document(history_limit_mb: float = 512.0) -> Document:
    rng = np.random.default_rng(0)
    base = np.empty((SIZE, SIZE, 4), np.uint8)
    base[..., :3] = rng.integers(0, 256, (SIZE, 1, 3), dtype=np.uint8)  # cheap varied content
    base[..., 3] = 255
    doc = Document.from_array(base, history_limit_mb=history_limit_mb)
    modes = [BlendMode.NORMAL, BlendMode.MULTIPLY, BlendMode.SCREEN, BlendMode.OVERLAY]
    for i, mode in enumerate(modes):
        px = np.zeros((SIZE, SIZE, 4), np.uint8)
        px[:, :, i % 3] = 200
        px[:, :, 3] = np.linspace(0, 255, SIZE, dtype=np.uint8)[None, :]  # partly transparent
        doc.add_layer(f"layer {i}", pixels=px, blend=mode, opacity=0.8)
    doc.history.clear()
    return doc


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000.0


def bench_composite(doc: Document) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    samples = []
    for _ in range(300):
        x, y = (int(v) for v in rng.integers(0, SIZE - 64, 2))
        t = time.perf_counter()
        doc.composite(Rect(x, y, 64, 64))
        samples.append(time.perf_counter() - t)
    return {"name": "composite 64x64 of 4096^2, 5 layers", "value": _median_ms(samples), "unit": "ms",
            "target": "< 2", "note": "median of 300, mixed blend modes"}


def bench_brush(doc: Document) -> list[dict[str, Any]]:
    settings = BrushSettings(size=40, hardness=0.7, color=(20, 40, 200), opacity=0.8)
    move, repaint = [], []
    stroke = BrushStroke(doc, doc.active_index, settings)
    for i in range(300):
        x, y = 500 + i * 9.5, 800 + 300 * np.sin(i / 20.0)  # pointer moves ~10 px per event
        t = time.perf_counter()
        changed = stroke.add_point(x, y, 1.0)
        t1 = time.perf_counter()
        if not changed.is_empty():
            doc.composite(changed)
        t2 = time.perf_counter()
        move.append(t1 - t)
        repaint.append(t2 - t)
    t = time.perf_counter()
    stroke.finish()
    finish_ms = (time.perf_counter() - t) * 1000.0
    return [
        {"name": "brush add_point on 4096^2 (size 40)", "value": _median_ms(move), "unit": "ms",
         "target": "< 5", "note": f"median of 300 moves; finish() {finish_ms:.1f} ms"},
        {"name": "brush move + composite of changed rect", "value": _median_ms(repaint), "unit": "ms",
         "target": "< 16", "note": "core part of the per-move repaint (5 layers)"},
    ]


def bench_history_memory() -> dict[str, Any]:
    doc = Document.from_array(np.zeros((SIZE, SIZE, 4), np.uint8), history_limit_mb=50)
    rng = np.random.default_rng(2)
    settings = BrushSettings(size=30, hardness=0.8, color=(200, 0, 0))
    t = time.perf_counter()
    for _ in range(500):
        x, y = rng.uniform(50, SIZE - 250, 2)
        stroke = BrushStroke(doc, 0, settings)
        for k in range(12):  # a short stroke of ~200 px
            stroke.add_point(x + 16 * k, y + 8 * k)
        stroke.finish()
    elapsed = time.perf_counter() - t
    mb = doc.history.nbytes / (1024 * 1024)
    return {"name": "history after 500 strokes, 50 MB limit", "value": mb, "unit": "MB", "target": "<= 50",
            "note": f"{len(doc.history.entries)} steps kept, {doc.history.dropped} dropped; "
                    f"{elapsed / 500 * 1000:.1f} ms/stroke"}


def bench_full_composite(doc: Document) -> dict[str, Any]:
    t = time.perf_counter()
    doc.composite()
    return {"name": "full composite 4096^2, 5 layers", "value": time.perf_counter() - t, "unit": "s",
            "target": "-", "note": "one run (export, flatten)"}


def bench_photo_composite() -> dict[str, Any]:
    rng = np.random.default_rng(3)
    px = rng.integers(0, 256, (SIZE, SIZE, 4), dtype=np.uint8)
    px[..., 3] = 255
    doc = Document.from_array(px)
    doc.add_layer("paint")
    doc.paint_stroke(1, [(100, 100), (3000, 2000)], BrushSettings(size=30))
    t = time.perf_counter()
    doc.composite()
    return {"name": "full composite 4096^2, photo + stroke layer", "value": time.perf_counter() - t, "unit": "s",
            "target": "-", "note": "one run (opening a picture, then painting)"}


def run() -> list[dict[str, Any]]:
    doc = _document()
    rows = [bench_composite(doc), *bench_brush(doc), bench_history_memory(), bench_full_composite(doc),
            bench_photo_composite()]
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<45} {row['value']:>10.3f} {row['unit']:<3} target {row['target']:<6} {row['note']}")
