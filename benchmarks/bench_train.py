"""Training throughput: GANPaint's loop against a plain eager PyTorch loop.

For each recipe, at a small size, the benchmark trains the same architecture with
the same batch two ways, alternating blocks of steps in one process so both see the
same machine state:

* ours: ``ganpaint.train.train`` reading pictures from a folder (Pillow, scale
  jitter, crop, flip), with its schedule, loss bookkeeping and events;
* reference: a loop written here in plain eager PyTorch, on tensors preloaded in
  memory (crop and flip by slicing), the same networks, optimisers and losses.

The ratio ours/reference should be >= 1 (the issue's target: no worse). Then the
same recipes with ``bf16=True`` against fp32, with the losses checked to stay finite.

    python benchmarks/run.py --only train        (or: python benchmarks/bench_train.py)
"""

# ruff: noqa: E402  (torch must load after prepare_torch_env)
from __future__ import annotations

import functools
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ganpaint.engine.inference.devices import prepare_torch_env

prepare_torch_env()  # thread count and OMP_WAIT_POLICY before torch loads (as the app does)

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ganpaint.nn import NLayerDiscriminator, ResnetConfig, ResnetGenerator, UnetConfig, UnetGenerator
from ganpaint.train import load_data, make_recipe, train
from ganpaint.train.recipes.base import init_weights

ROUNDS = 4  # alternating blocks per measurement
BLOCK = 2  # steps per block
WARMUP = 1

#: bf16 pays off only where convolutions dominate: measured here at 64 px (batch 1) the
#: per-forward weight casts made a pix2pix step slower, at 256 px 1.5x faster; so the bf16
#: ratio is measured at a realistic crop, with fewer steps
BF16_CROP = {"pix2pix": {"num_downs": 8, "crop": 256}, "cyclegan": {"crop": 128}}
BF16_ROUNDS = 3

CASES = {
    # recipe id: (options, data kind); "small size": 64 px crops, full-width networks (ngf 64)
    "pix2pix": ({"generator": "unet", "num_downs": 6, "ngf": 64, "crop": 64, "batch": 1}, "names"),
    "cyclegan": ({"n_blocks": 9, "ngf": 64, "crop": 64, "batch": 1}, None),
}


def _pictures(root: Path, n: int, size: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    a, b = root / "A", root / "B"
    for d in (a, b):
        d.mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (size, size + 8, 3), dtype=np.uint8)).save(d / f"{i:03d}.png")
    return a, b


# --------------------------------------------------------------------------------------
# the plain reference loops (what one would write without GANPaint)
# --------------------------------------------------------------------------------------


def _preload(folder: Path) -> torch.Tensor:
    arrs = [np.asarray(Image.open(p).convert("RGB"), np.float32) / 127.5 - 1 for p in sorted(folder.glob("*.png"))]
    return torch.from_numpy(np.stack(arrs)).permute(0, 3, 1, 2).contiguous()


def _crop(x: torch.Tensor, crop: int, g: torch.Generator) -> torch.Tensor:
    i = int(torch.randint(0, x.shape[0], (1,), generator=g))
    y0 = int(torch.randint(0, x.shape[2] - crop + 1, (1,), generator=g))
    x0 = int(torch.randint(0, x.shape[3] - crop + 1, (1,), generator=g))
    out = x[i : i + 1, :, y0 : y0 + crop, x0 : x0 + crop]
    return out.flip(3) if torch.rand(1, generator=g) < 0.5 else out


def _reference_pix2pix(opts: dict[str, Any], a: Path, b: Path) -> Callable[[], dict[str, float]]:
    crop = opts["crop"]
    G = UnetGenerator(UnetConfig(ngf=opts["ngf"], num_downs=opts["num_downs"]))
    D = NLayerDiscriminator(6, 64, 3, norm="batch")
    init_weights(G)
    init_weights(D)
    og = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    xa, xb = _preload(a), _preload(b)
    g = torch.Generator().manual_seed(0)

    def step() -> dict[str, float]:
        i = int(torch.randint(0, xa.shape[0], (1,), generator=g))
        y0 = int(torch.randint(0, xa.shape[2] - crop + 1, (1,), generator=g))
        x0 = int(torch.randint(0, xa.shape[3] - crop + 1, (1,), generator=g))
        ra = xa[i : i + 1, :, y0 : y0 + crop, x0 : x0 + crop]
        rb = xb[i : i + 1, :, y0 : y0 + crop, x0 : x0 + crop]
        fake = G(ra)
        od.zero_grad()
        pf = D(torch.cat([ra, fake.detach()], 1))
        pr = D(torch.cat([ra, rb], 1))
        ld = 0.5 * (F.binary_cross_entropy_with_logits(pf, torch.zeros_like(pf))
                    + F.binary_cross_entropy_with_logits(pr, torch.ones_like(pr)))
        ld.backward()
        od.step()
        for p in D.parameters():
            p.requires_grad_(False)
        og.zero_grad()
        pf = D(torch.cat([ra, fake], 1))
        lg = F.binary_cross_entropy_with_logits(pf, torch.ones_like(pf)) + 100 * F.l1_loss(fake, rb)
        lg.backward()
        og.step()
        for p in D.parameters():
            p.requires_grad_(True)
        return {"G": lg.item(), "D": ld.item()}

    return step


def _reference_cyclegan(opts: dict[str, Any], a: Path, b: Path) -> Callable[[], dict[str, float]]:
    crop = opts["crop"]
    cfg = ResnetConfig(ngf=opts["ngf"], n_blocks=opts["n_blocks"])
    GA, GB = ResnetGenerator(cfg), ResnetGenerator(cfg)
    DA, DB = NLayerDiscriminator(3, 64, 3, norm="instance"), NLayerDiscriminator(3, 64, 3, norm="instance")
    for m in (GA, GB, DA, DB):
        init_weights(m)
    og = torch.optim.Adam([*GA.parameters(), *GB.parameters()], lr=2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam([*DA.parameters(), *DB.parameters()], lr=2e-4, betas=(0.5, 0.999))
    xa, xb = _preload(a), _preload(b)
    g = torch.Generator().manual_seed(0)
    pool_a: list[torch.Tensor] = []
    pool_b: list[torch.Tensor] = []

    def pooled(pool: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        x = x.detach()
        if len(pool) < 50:
            pool.append(x)
            return x
        if torch.rand(1, generator=g) < 0.5:
            k = int(torch.randint(0, 50, (1,), generator=g))
            pool[k], x = x, pool[k]
        return x

    def step() -> dict[str, float]:
        ra, rb = _crop(xa, crop, g), _crop(xb, crop, g)
        fb, fa = GA(ra), GB(rb)
        reca, recb = GB(fb), GA(fa)
        for p in [*DA.parameters(), *DB.parameters()]:
            p.requires_grad_(False)
        og.zero_grad()
        lg = ((DA(fb) - 1) ** 2).mean() + ((DB(fa) - 1) ** 2).mean()
        lg = lg + 10 * (F.l1_loss(reca, ra) + F.l1_loss(recb, rb))
        lg = lg + 5 * (F.l1_loss(GA(rb), rb) + F.l1_loss(GB(ra), ra))
        lg.backward()
        og.step()
        for p in [*DA.parameters(), *DB.parameters()]:
            p.requires_grad_(True)
        od.zero_grad()
        pb, pa = pooled(pool_b, fb), pooled(pool_a, fa)
        lda = 0.5 * (((DA(rb) - 1) ** 2).mean() + (DA(pb) ** 2).mean())
        lda.backward()
        ldb = 0.5 * (((DB(ra) - 1) ** 2).mean() + (DB(pa) ** 2).mean())
        ldb.backward()
        od.step()
        return {"G": lg.item(), "D": lda.item() + ldb.item()}

    return step


REFERENCES = {"pix2pix": _reference_pix2pix, "cyclegan": _reference_cyclegan}


# --------------------------------------------------------------------------------------
# measuring
# --------------------------------------------------------------------------------------


def _ours(recipe_id: str, opts: dict[str, Any], paired: str | None, a: Path, b: Path, run: Path,
          bf16: bool, steps: int) -> Iterator[Any]:
    recipe = make_recipe(recipe_id, opts)
    data = load_data(a, b, paired=paired)  # type: ignore[arg-type]
    return train(recipe, data, steps=steps, run_dir=run, seed=0, bf16=bf16, checkpoint_every=0)


def _block(fn: Callable[[], Any], block: int) -> float:
    t0 = time.perf_counter()
    for _ in range(block):
        fn()
    return block / (time.perf_counter() - t0)


def _alternate(
    first: Callable[[], Any], second: Callable[[], Any], rounds: int = ROUNDS, block: int = BLOCK
) -> tuple[float, float]:
    for _ in range(WARMUP):
        first()
        second()
    r1, r2 = [], []
    for _ in range(rounds):
        r1.append(_block(first, block))
        r2.append(_block(second, block))
    return statistics.median(r1), statistics.median(r2)


def _bench_recipe(recipe_id: str, root: Path) -> list[dict[str, Any]]:
    opts, paired = CASES[recipe_id]
    size = opts["crop"] + opts["crop"] // 8
    a, b = _pictures(root / recipe_id, 8, size)
    total = (WARMUP + ROUNDS * BLOCK) * 2 + 4
    what = (f"{'U-Net-' + str(2 ** opts['num_downs']) if recipe_id == 'pix2pix' else 'ResNet-9'}, "
            f"ngf {opts['ngf']}, {opts['crop']} px, batch {opts['batch']}")

    ours = _ours(recipe_id, opts, paired, a, b, root / f"run-{recipe_id}", False, total)
    ref = REFERENCES[recipe_id](opts, a, b)
    s_ours, s_ref = _alternate(functools.partial(next, ours), ref)
    ours.close()
    del ours, ref  # free the first pair of models before building the next
    print(f"[bench_train] {recipe_id}: ours {s_ours:.3g}, plain {s_ref:.3g} steps/s", file=sys.stderr)
    rows = [
        {"name": f"train {recipe_id}: GANPaint loop", "value": s_ours, "unit": "steps/s", "target": "",
         "note": what},
        {"name": f"train {recipe_id}: plain eager loop", "value": s_ref, "unit": "steps/s", "target": "",
         "note": "same networks and batch, tensors preloaded"},
        {"name": f"train {recipe_id}: speed ratio ours/plain", "value": s_ours / s_ref, "unit": "x",
         "target": ">= 1.0", "note": "median of alternating blocks; ours uses fused Adam, plain the default"},
    ]

    big = {**opts, **BF16_CROP[recipe_id]}
    big_a, big_b = _pictures(root / f"{recipe_id}-big", 4, big["crop"] + big["crop"] // 8)
    n_big = (1 + BF16_ROUNDS) * 2 + 2
    fp32 = _ours(recipe_id, big, paired, big_a, big_b, root / f"run-{recipe_id}-fp32", False, n_big)
    bf16 = _ours(recipe_id, big, paired, big_a, big_b, root / f"run-{recipe_id}-bf16", True, n_big)
    bf16_losses: list[float] = []

    def bf16_step() -> None:
        ev = next(bf16)
        bf16_losses.extend(ev.losses.values())

    s_bf16, s_fp32 = _alternate(bf16_step, functools.partial(next, fp32), rounds=BF16_ROUNDS, block=1)
    fp32.close()
    bf16.close()
    finite = all(math.isfinite(v) for v in bf16_losses)
    rows += [
        {"name": f"train {recipe_id}: bf16 autocast speed ratio", "value": s_bf16 / s_fp32, "unit": "x",
         "target": "> 1.0", "note": f"{big['crop']} px: bf16 {s_bf16:.3g} vs fp32 {s_fp32:.3g} steps/s"},
        {"name": f"train {recipe_id}: bf16 losses finite", "value": "yes" if finite else "NO", "unit": "",
         "target": "yes", "note": f"{len(bf16_losses)} loss values over {WARMUP + BF16_ROUNDS} steps"},
    ]
    return rows


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ganpaint-bench-train-") as tmp:
        for recipe_id in CASES:
            rows += _bench_recipe(recipe_id, Path(tmp))
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<46} {row['value']!s:>10.6} {row['unit']:<8} target {row['target']:<7} {row['note']}")
