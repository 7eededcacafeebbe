"""StyleGAN2 generation latency on this machine (CPU, eager PyTorch, fp32, inference mode).

z -> mapping -> truncation -> synthesis with the stored noise, per call, for:

* the training recipe's default widths at 64 and 128 px (256 up to 16 px, then
  4096 // resolution: what `ganpaint train stylegan2` builds unless told otherwise);
* the published full-width configuration (512 up to 32 px, channel multiplier 2) at 64 px,
  batch 1 only (the size of converted checkpoints at that resolution; ~20x the recipe's work);

at batch 1 (a preview) and batch 8 (a thumbnail grid), with each batch's convolution form:
grouped per-sample weights (batch 1) and shared weights with scaled activations (batch > 1).
Each row is a median wall time; the note gives the CPU time and the other form's time.

    python benchmarks/run.py --only stylegan2
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from ganpaint.engine.inference.devices import prepare_torch_env

prepare_torch_env()  # the app's OpenMP settings (passive waits, thread count), before torch loads

import torch  # noqa: E402

from ganpaint.nn import stylegan_sampling as S  # noqa: E402
from ganpaint.nn.stylegan2 import Generator, ModulatedConv2d, StyleGAN2Config  # noqa: E402
from ganpaint.train.recipes.stylegan2 import StyleGAN2Recipe  # noqa: E402

REPEATS = 3


def _set_form(g: Generator, fused: bool | None) -> None:
    for m in g.modules():
        if isinstance(m, ModulatedConv2d):
            m.fused = fused


def _time(g: Generator, batch: int) -> tuple[float, float]:
    z = S.sample_z(g, batch, seed=0)
    with torch.inference_mode():
        S.generate(g, z, psi=0.7)  # warm-up
        wall, cpu = [], []
        for _ in range(REPEATS):
            t, c = time.perf_counter(), time.process_time()
            S.generate(g, z, psi=0.7)
            wall.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def _configs() -> list[tuple[str, StyleGAN2Config]]:
    out = []
    for size in (64, 128):
        out.append((f"recipe default {size} px", StyleGAN2Recipe(crop=size).generator_config()))
    out.append(("published widths 64 px", StyleGAN2Config(size=64, style_dim=512, n_mlp=8)))
    return out


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for label, cfg in _configs():
        torch.manual_seed(0)
        g = Generator(cfg).eval()
        g.latent_avg.copy_(g.mean_latent(1024))
        widths = "/".join(map(str, cfg.channels))
        for batch in (1, 8) if label.startswith("recipe") else (1,):
            _set_form(g, None)
            wall, cpu = _time(g, batch)
            _set_form(g, batch > 1)  # the form auto does NOT pick, for comparison
            other, _ = _time(g, batch)
            _set_form(g, None)
            chosen = "grouped" if batch == 1 else "shared"
            alt = "shared" if batch == 1 else "grouped"
            rows.append({
                "name": f"stylegan2 {label} batch {batch}",
                "value": wall / batch,
                "unit": "ms/img",
                "target": "< 150 (64 px preview)" if batch == 1 and cfg.size == 64 else "",
                "note": f"{chosen}: {wall:.0f} ms/call, cpu {cpu:.0f} ms; {alt}: {other:.0f} ms/call; widths {widths}",
            })
            print(f"{rows[-1]['name']:<48} {rows[-1]['value']:>8.1f} ms/img  {rows[-1]['note']}", file=sys.stderr,
                  flush=True)
    return rows


if __name__ == "__main__":
    run()  # prints each row as it is measured
