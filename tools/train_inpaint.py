"""Continue training the shipped inpainting generator on real-photo crops, judging
held-out real photos along the way (issue 16, point 2: a curve of hole PSNR against
training minutes).

    nice -n 10 env OMP_NUM_THREADS=1 python tools/train_inpaint.py \\
        --data ~/.cache/ganpaint/data/inpaint --out /work/runs/inpaint/run1 --minutes 90

It uses the recipe's generator, discriminator and losses (``InpaintTrainer.step``) but its
own batches: ``--photo-share`` of each batch are crops of the builder's ``train/photo``
(whole photos the test split never sees), the rest ``train/scene`` (procedural). Each
``--eval-every`` minutes the EMA generator is scored on the held-out real photos
(``test/images/photo-*`` with their fixed masks), split by hole kind (free-form strokes or
boxes, told apart by the mask's shape: ``mask_kind``), against its own push-pull first stage
and OpenCV's Telea and Navier-Stokes (computed once, same pictures); each evaluation is
appended to ``OUT/curve.jsonl`` and its weights saved as ``OUT/snap-STEP.safetensors``
(the store's layout: ``forward.*`` keys, the card in the metadata). Training data only; the
test split is read for judging, never for a gradient.

A guided generator (issue 16: OpenCV's FSR fill beside push-pull, ganpaint.nn.inpaint_guide):

    python tools/inpaint_pool.py --data DATA --out POOL1.npz --count 3000 --seed 1    # one per core
    python tools/train_inpaint.py --data DATA --out RUN --pool POOL1.npz --pool POOL2.npz --guide fsr

``--guide`` builds the guided generator and starts it from ``--init`` (an unguided model's first
layer gains zero-initialised input channels, ``widen_first_layer``); ``--pool`` draws every batch
from precomputed (picture, hole, guide) samples, turned and mirrored, instead of --data's folders.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_inpaint import edge_strength, mask_kind  # noqa: E402 - the judge's own definitions


def _load(folder: Path) -> np.ndarray:
    return np.stack([np.asarray(Image.open(p).convert("RGB")) for p in sorted(folder.glob("*.png"))])


def held_out_photos(data: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    items = []
    for p in sorted((data / "test" / "images").glob("photo-*.png")):
        img = np.asarray(Image.open(p).convert("RGB"))
        hole = (np.asarray(Image.open(data / "test" / "masks" / p.name).convert("L"), np.float32) / 255.0 > 0.5).astype(np.float32)
        items.append((mask_kind(hole), img, hole))
    return items


def _psnr(out: np.ndarray, gt: np.ndarray, hole: np.ndarray) -> float:
    sel = hole > 0.5
    mse = float(np.mean((out[sel].astype(np.float64) - gt[sel].astype(np.float64)) ** 2))
    return 10 * np.log10(1.0 / max(mse, 1e-10))


def judge(fill: Any, items: list[tuple[str, np.ndarray, np.ndarray]]) -> dict[str, dict[str, float]]:
    """Mean hole PSNR (dB, [0, 1] scale) and edge strength per hole kind."""
    rows: dict[str, list[tuple[float, float]]] = {}
    for kind, img, hole in items:
        out = fill(img, hole)
        rows.setdefault(kind, []).append((_psnr(out, img / 255.0, hole), edge_strength(out, hole)))
    return {k: {"psnr": round(float(np.mean([a for a, _ in v])), 4), "edge": round(float(np.mean([b for _, b in v])), 2),
                "n": len(v)} for k, v in sorted(rows.items())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--init", default="plugins/inpaint/ganpaint_inpaint/models/inpaint-default.safetensors")
    ap.add_argument("--minutes", type=float, default=90.0)
    ap.add_argument("--steps", type=int, default=10**9)
    ap.add_argument("--eval-every", type=float, default=8.0, help="minutes between held-out evaluations")
    ap.add_argument("--batch", type=int, default=6)
    ap.add_argument("--crop", type=int, default=160)
    ap.add_argument("--photo-share", type=float, default=0.75)
    ap.add_argument("--ema", type=float, default=0.998)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="recipe option (JSON value)")
    ap.add_argument("--pool", type=Path, action="append", default=[],
                    help="precomputed samples (tools/inpaint_pool.py: pictures, holes, guide fills); "
                         "batches are drawn from these instead of --data's training folders")
    ap.add_argument("--guide", default=None, help="train a guided generator (e.g. fsr), initialised from --init")
    args = ap.parse_args(argv)

    import cv2
    import safetensors.torch
    import torch

    from ganpaint.engine.models.loading import read_card
    from ganpaint.nn.inpaint import InpaintGenerator, inpaint_tensor, push_pull_fill
    from ganpaint.train.recipes import make_recipe

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    opts: dict[str, Any] = {"width": 16, "adv_weight": 0.0, "feature_matching": 0.0, "hole_loss": "l2", "lr": 3e-4,
                            "batch": args.batch, "crop": args.crop}
    for kv in args.set:
        k, v = kv.split("=", 1)
        opts[k] = json.loads(v)
    card = read_card(args.init)
    if args.guide is not None:
        opts["guide"] = args.guide
    elif card.config.get("guide"):
        opts.update({k: card.config[k] for k in ("guide", "guide_blend") if k in card.config})
    recipe = make_recipe("inpaint", opts)
    trainer = recipe.build("cpu")
    init = safetensors.torch.load_file(args.init)
    trainer.load_init(widen_first_layer(init, trainer.G.state_dict()))
    G = trainer.G
    ema = {k: v.detach().clone() for k, v in G.state_dict().items()}
    card = _card_for(card, recipe)
    gain = card.config.get("coarse_gain", 32.0)

    pools = [np.load(p) for p in args.pool]
    pool = {k: np.concatenate([p[k] for p in pools]) for k in ("x", "m", "g")} if pools else None
    photos, scenes = (None, None) if pool else (_load(args.data / "train" / "photo"), _load(args.data / "train" / "scene"))
    items = held_out_photos(args.data)
    args.out.mkdir(parents=True, exist_ok=True)
    log = (args.out / "curve.jsonl").open("a")

    def to_t(img: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(img.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]

    def run_model(state: dict[str, torch.Tensor]) -> Any:
        g = InpaintGenerator(recipe.generator_config())
        g.load_state_dict(state)
        g.eval()

        def fill(img: np.ndarray, hole: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                y = inpaint_tensor(g, to_t(img) * (1 - torch.from_numpy(hole)[None, None]), torch.from_numpy(hole)[None, None])
            return ((y[0].permute(1, 2, 0).numpy() + 1) / 2).clip(0, 1)
        return fill

    def coarse(img: np.ndarray, hole: np.ndarray) -> np.ndarray:
        m = torch.from_numpy(hole)[None, None]
        y = push_pull_fill(to_t(img) * (1 - m), m, gain)[0].permute(1, 2, 0).numpy().clip(-1, 1)
        return np.where(hole[..., None] > 0.5, (y + 1) / 2, img / 255.0)

    stages = InpaintGenerator(recipe.generator_config())  # only its parameter-free first stage is used

    def first_stage(img: np.ndarray, hole: np.ndarray) -> np.ndarray:
        m = torch.from_numpy(hole)[None, None]
        with torch.no_grad():
            y = stages.first_stage(to_t(img) * (1 - m), m)[0]
        return np.where(hole[..., None] > 0.5, (y[0].permute(1, 2, 0).numpy().clip(-1, 1) + 1) / 2, img / 255.0)

    def cv(flag: int) -> Any:
        return lambda img, hole: cv2.inpaint(img, (hole > 0.5).astype(np.uint8) * 255, 5, flag).astype(np.float64) / 255.0

    t0 = time.time()
    base = {"telea": judge(cv(cv2.INPAINT_TELEA), items), "navier-stokes": judge(cv(cv2.INPAINT_NS), items),
            "coarse only": judge(coarse, items), "truth_edge": judge(lambda i, h: i / 255.0, items),
            "start": judge(run_model(ema), items)}
    if recipe.guide:
        base["first stage"] = judge(first_stage, items)
    log.write(json.dumps({"baselines": base, "options": opts, "args": {k: str(v) for k, v in vars(args).items()}}) + "\n")
    log.flush()
    print("baselines", json.dumps(base), flush=True)

    def evaluate(step: int, train_s: float) -> None:
        res = judge(run_model(ema), items)
        rec = {"step": step, "train_minutes": round(train_s / 60, 2), "ours": res}
        log.write(json.dumps(rec) + "\n")
        log.flush()
        print(json.dumps(rec), flush=True)
        sd = {f"forward.{k}": v.contiguous() for k, v in ema.items()}
        meta = {"ganpaint.card": json.dumps({**card.to_dict(), "description": f"snapshot step {step}"})}
        safetensors.torch.save_file(sd, str(args.out / f"snap-{step:06d}.safetensors"), metadata=meta)

    train_s, last_eval, step = 0.0, 0.0, 0
    while step < args.steps and train_s < args.minutes * 60:
        ts = time.time()
        if pool is not None:
            batch = _pool_batch(pool, rng, args.batch)
        else:
            batch = {"A": _folder_batch(photos, scenes, rng, args.batch, args.photo_share, recipe.crop)}
        # constant, then linear down to 10 % over the last 40 % of the time budget
        frac = train_s / (args.minutes * 60)
        lr_f = 1.0 if frac < 0.6 else max(0.1, 1.0 - 0.9 * (frac - 0.6) / 0.4)
        for g in trainer.optimizers.values():
            for pg in g.param_groups:
                pg["lr"] = lr_f * (recipe.lr if g is trainer.optimizers["G"] else recipe.d_lr)
        with torch.autocast("cpu", torch.bfloat16, enabled=args.bf16):
            losses = trainer.step(batch)
        with torch.no_grad():
            for k, v in G.state_dict().items():
                if v.dtype.is_floating_point:
                    ema[k].mul_(args.ema).add_(v.detach(), alpha=1 - args.ema)
                else:
                    ema[k].copy_(v)
        step += 1
        train_s += time.time() - ts
        if step % 50 == 0:
            print(f"step {step} {train_s / 60:.1f} min {json.dumps({k: round(v, 4) for k, v in losses.items()})}", flush=True)
        if train_s - last_eval >= args.eval_every * 60:
            last_eval = train_s
            evaluate(step, train_s)
    evaluate(step, train_s)
    print(f"done {step} steps, {train_s / 60:.1f} training minutes, {(time.time() - t0) / 60:.1f} wall", flush=True)
    return 0


def _folder_batch(photos: np.ndarray, scenes: np.ndarray, rng: np.random.Generator, n: int, photo_share: float,
                  c: int) -> Any:
    """n random crops (flips, some 90-degree turns): a share of photos, the rest scenes."""
    import torch

    n_photo = int(rng.binomial(n, photo_share))
    crops = []
    for i in range(n):
        src = photos if i < n_photo else scenes
        img = src[rng.integers(len(src))]
        y, x = rng.integers(0, img.shape[0] - c + 1), rng.integers(0, img.shape[1] - c + 1)
        crop = img[y:y + c, x:x + c]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        crop = np.rot90(crop, int(rng.integers(4))) if rng.random() < 0.25 else crop
        crops.append(np.ascontiguousarray(crop))
    return torch.from_numpy(np.stack(crops).astype(np.float32) / 127.5 - 1).permute(0, 3, 1, 2).contiguous()


def _pool_batch(pool: dict[str, np.ndarray], rng: np.random.Generator, n: int) -> dict[str, Any]:
    """n samples of a precomputed pool; the batch is turned by one multiple of 90 degrees and maybe
    mirrored, all its samples alike (picture, hole and guide together)."""
    import torch

    idx = rng.integers(0, len(pool["x"]), size=n)
    k, flip = int(rng.integers(4)), bool(rng.random() < 0.5)

    def prep(a: np.ndarray) -> Any:
        a = np.rot90(a, k, axes=(1, 2))
        a = a[:, :, ::-1] if flip else a
        return torch.from_numpy(np.ascontiguousarray(a))

    x = prep(pool["x"][idx]).float().div(127.5).sub(1).permute(0, 3, 1, 2).contiguous()
    g = prep(pool["g"][idx]).float().div(127.5).sub(1).permute(0, 3, 1, 2).contiguous()
    m = prep(pool["m"][idx]).float()[:, None].contiguous()
    return {"A": x, "hole": m, "guide": g}


def widen_first_layer(init: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """``init`` (store keys, ``forward.*``) for a generator whose first convolution reads more
    input channels (a guided model started from an unguided one): the old channels keep their
    weights, the new ones start at zero, so the start computes what ``init`` did on its inputs."""
    out = dict(init)
    key = "forward.e1.conv.weight"
    w, target = init.get(key), own.get("e1.conv.weight")
    if w is not None and target is not None and w.shape != target.shape:
        wide = target.new_zeros(target.shape)
        wide[:, : w.shape[1]] = w
        out[key] = wide
    return out


def _card_for(card: Any, recipe: Any) -> Any:
    """The snapshot card: ``card`` with the recipe's generator config (a guided run's guide)."""
    import dataclasses

    return dataclasses.replace(card, config={**dict(card.config), **recipe.generator_config().to_dict()})


if __name__ == "__main__":
    raise SystemExit(main())
