"""Train, judge and ship ``faces-upscale-x4``: the learned enlargement of the faces default.

The faces generator draws 64 px pictures; the tool shows them at 128 px or more. This trains a
Real-ESRGAN Compact network (SRVGGNetCompact, spandrel's ``Compact`` layout, so the model store
and ``gan_enlarge`` load it like any spandrel upscaler) to take a face drawn at 64 px to the same
face drawn at 256 px. Both come from GANPaint's own renderer (``ganpaint.data.faces``), which draws
one set of face parameters at any size, so every pair is exact. Training faces are those of the
faces data set's training indices (render i < 18,000, the seeds ``faces_dataset`` uses); judging
uses its held-out test indices (18,000 and up), which no model trains on.

The low-resolution side is degraded the way a generator's picture differs from a clean render
(a little blur, noise), so the network sharpens the generator's output rather than only clean
renders.

  python tools/train_face_upscaler.py data --out DIR [--n 3000]          # training pairs (npz)
  python tools/train_face_upscaler.py train --data DIR --out CKPT [--steps 4000]
  python tools/train_face_upscaler.py eval --model CKPT [--upscaler NAME ...] [--n 200] --out JSON
  python tools/train_face_upscaler.py ship --model CKPT --eval JSON --command "..."
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
NAME = "faces-upscale-x4"
TARGET = ROOT / "plugins" / "faces" / "ganpaint_faces" / "models"
N_TRAIN_INDICES = 18_000  # faces_dataset: renders 0 .. 17,999 train, 18,000 .. 19,999 test
SCALE = 4
LR = 64


def _seed(i: int) -> int:
    from ganpaint.data.faces_dataset import _seed as dataset_seed

    return dataset_seed(0, "faces", i)


def render_pair(i: int) -> tuple[np.ndarray, np.ndarray]:
    """Render i of the faces data set at 64 px (as the data set draws it) and at 256 px."""
    from ganpaint.data import faces

    p = faces.sample_params(_seed(i))
    return faces.render_params(p, LR), faces.render_params(p, LR * SCALE, supersample=2)


def network(num_feat: int = 32, num_conv: int = 12) -> torch.nn.Module:
    from spandrel.architectures.Compact import Compact

    return Compact(num_in_ch=3, num_out_ch=3, num_feat=num_feat, num_conv=num_conv, upscale=SCALE, act_type="prelu")


# ------------------------------------------------------------------------------------ data
def cmd_data(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    idx = np.sort(rng.choice(N_TRAIN_INDICES, size=args.n, replace=False))
    lo = np.empty((args.n, LR, LR, 3), np.uint8)
    hi = np.empty((args.n, LR * SCALE, LR * SCALE, 3), np.uint8)
    t0 = time.perf_counter()
    for k, i in enumerate(idx):
        lo[k], hi[k] = render_pair(int(i))
        if k % 500 == 0:
            print(f"rendered {k}/{args.n} ({time.perf_counter() - t0:.0f} s)", flush=True)
    np.savez(out / "pairs.npz", lo=lo, hi=hi, indices=idx)
    print(f"wrote {out / 'pairs.npz'}: {args.n} pairs of training indices")


# ------------------------------------------------------------------------------------ training
def degrade(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """x (B, 3, h, w) in [0, 1]: per picture a Gaussian blur of sigma 0 .. 0.8 px and noise of
    std 0 .. 0.02 (what a generator's soft, slightly noisy picture looks like against a render)."""
    b = x.shape[0]
    sig = torch.rand(b, generator=gen) * 0.8
    r = torch.arange(-2, 3, dtype=x.dtype)
    out = []
    for k in range(b):
        if sig[k] < 0.1:
            out.append(x[k:k + 1])
            continue
        g = torch.exp(-(r ** 2) / (2 * float(sig[k]) ** 2))
        g = g / g.sum()
        y = F.conv2d(F.pad(x[k:k + 1], (2, 2, 0, 0), mode="replicate"), g.view(1, 1, 1, 5).repeat(3, 1, 1, 1), groups=3)
        y = F.conv2d(F.pad(y, (0, 0, 2, 2), mode="replicate"), g.view(1, 1, 5, 1).repeat(3, 1, 1, 1), groups=3)
        out.append(y)
    y = torch.cat(out)
    noise = torch.randn(y.shape, generator=gen) * (torch.rand(b, 1, 1, 1, generator=gen) * 0.02)
    return (y + noise).clamp(0, 1)


def cmd_train(args: argparse.Namespace) -> None:
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    d = np.load(Path(args.data) / "pairs.npz")
    lo = torch.from_numpy(d["lo"]).permute(0, 3, 1, 2).float() / 255
    hi = torch.from_numpy(d["hi"]).permute(0, 3, 1, 2).float() / 255
    net = network(args.feat, args.conv)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.steps, eta_min=args.lr * 0.05)
    n, c = lo.shape[0], args.crop
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        pick = torch.randint(0, n, (args.batch,), generator=gen)
        ys = torch.randint(0, LR - c + 1, (args.batch,), generator=gen)
        xs = torch.randint(0, LR - c + 1, (args.batch,), generator=gen)
        lr_b = torch.stack([lo[p, :, y:y + c, x:x + c] for p, y, x in zip(pick, ys, xs, strict=True)])
        hr_b = torch.stack([hi[p, :, y * SCALE:(y + c) * SCALE, x * SCALE:(x + c) * SCALE]
                            for p, y, x in zip(pick, ys, xs, strict=True)])
        if torch.rand(1, generator=gen) < 0.5:
            lr_b, hr_b = lr_b.flip(3), hr_b.flip(3)
        out = net(degrade(lr_b, gen))
        loss = F.l1_loss(out, hr_b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == args.steps:
            print(f"step {step}/{args.steps} L1 {loss.item():.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)
        if step % 1000 == 0 or step == args.steps:
            save_checkpoint(net, args, step)


def save_checkpoint(net: torch.nn.Module, args: argparse.Namespace, step: int) -> None:
    from safetensors.torch import save_file

    meta = {"feat": str(args.feat), "conv": str(args.conv), "step": str(step), "steps": str(args.steps),
            "batch": str(args.batch), "crop": str(args.crop), "lr": str(args.lr), "seed": str(args.seed)}
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, args.out, metadata=meta)


# ------------------------------------------------------------------------------------ judging
def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * math.log10(1.0 / mse) if mse > 0 else math.inf


def edge_strength(x: np.ndarray) -> float:
    """Mean gradient magnitude of the luminance (how sharp the drawing's edges are)."""
    lum = x @ np.array([0.299, 0.587, 0.114])
    gy, gx = np.gradient(lum)
    return float(np.mean(np.hypot(gx, gy)))


def resize(x: np.ndarray, side: int, method: str) -> np.ndarray:
    from PIL import Image

    im = Image.fromarray(np.clip(x * 255 + 0.5, 0, 255).astype(np.uint8))
    res = {"bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS, "area": Image.Resampling.BOX}
    return np.asarray(im.resize((side, side), res[method]), np.float32) / 255


def load_upscaler(ref: str) -> Any:
    """A spandrel descriptor: a training checkpoint of this tool, a .safetensors file, or a
    model-store name for the upscale tool."""
    from ganpaint.engine.models.spandrel_models import load_spandrel

    p = Path(ref)
    if p.is_file() and p.suffix == ".safetensors" and not Path(str(p) + ".card.json").exists():
        from safetensors.torch import load_file
        from spandrel import ModelLoader

        desc = ModelLoader().load_from_state_dict(load_file(str(p)))
        desc.model.eval()
        return desc
    if p.is_file():
        return load_spandrel(p)
    from ganpaint.engine.models.store import ModelStore

    return load_spandrel(ModelStore().get(ref, tool="upscale").path)


def run_upscaler(desc: Any, x: np.ndarray) -> np.ndarray:
    from ganpaint.engine.models.spandrel_models import run_image

    return np.clip(run_image(desc, np.ascontiguousarray(x, np.float32)), 0, 1)


def cmd_eval(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).parent))
    from eval_stylegan import ssim as ssim_np  # the SSIM the faces figures use

    torch.set_num_threads(args.threads)
    indices = list(range(N_TRAIN_INDICES, N_TRAIN_INDICES + args.n))  # held-out test renders
    methods: dict[str, Any] = {"bicubic": "bicubic", "lanczos": "lanczos"}
    for ref in [*(args.model or []), *(args.upscaler or [])]:
        methods[Path(ref).stem if Path(ref).is_file() else ref] = load_upscaler(ref)
    rows: dict[str, dict[str, list[float]]] = {m: {"psnr128": [], "ssim128": [], "psnr256": [], "ssim256": [],
                                                   "edge256": []} for m in methods}
    truth_edge: list[float] = []
    sheet: list[list[np.ndarray]] = []
    t0 = time.perf_counter()
    for k, i in enumerate(indices):
        lo_u8, hi_u8 = render_pair(i)
        lo = lo_u8.astype(np.float32) / 255
        hi256 = hi_u8.astype(np.float32) / 255
        hi128 = resize(hi256, 128, "area")
        truth_edge.append(edge_strength(hi256))
        row = [resize(lo, 256, "bicubic"), hi256]
        for m, how in methods.items():
            up = resize(lo, 256, how) if isinstance(how, str) else run_upscaler(how, lo)
            if up.shape[0] != 256:
                up = resize(up, 256, "area" if up.shape[0] > 256 else "bicubic")
            up128 = resize(up, 128, "area")
            r = rows[m]
            r["psnr256"].append(psnr(up, hi256))
            r["ssim256"].append(ssim_np(up, hi256))
            r["psnr128"].append(psnr(up128, hi128))
            r["ssim128"].append(ssim_np(up128, hi128))
            r["edge256"].append(edge_strength(up))
            if not isinstance(how, str):
                row.append(up)
        if k < args.sheet_rows:
            sheet.append(row)
        if k % 50 == 0:
            print(f"judged {k}/{len(indices)} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    summary = {m: {key: float(np.mean(v)) for key, v in r.items()} for m, r in rows.items()}
    rep = {"n": len(indices), "indices": [indices[0], indices[-1]], "truth_edge256": float(np.mean(truth_edge)),
           "methods": summary}
    lines = [f"64 -> 256 px on {len(indices)} held-out face renders (test indices {indices[0]}..{indices[-1]}); "
             f"the 256 px render's edge strength {rep['truth_edge256']:.4f}", "",
             "| method | PSNR 256 | SSIM 256 | PSNR 128 | SSIM 128 | edge 256 |", "|---|---|---|---|---|---|"]
    for m, s in summary.items():
        lines.append(f"| {m} | {s['psnr256']:.2f} | {s['ssim256']:.3f} | {s['psnr128']:.2f} | {s['ssim128']:.3f} | "
                     f"{s['edge256']:.4f} |")
    rep["table"] = "\n".join(lines)
    print(rep["table"])
    if args.out:
        Path(args.out).write_text(json.dumps(rep, indent=1))
    if args.sheet and sheet:
        write_sheet(sheet, Path(args.sheet), ["bicubic", "truth", *[m for m in methods if not isinstance(methods[m], str)]])
    return rep


def write_sheet(rows: list[list[np.ndarray]], out: Path, titles: list[str]) -> None:
    from PIL import Image, ImageDraw

    cell = rows[0][0].shape[0]
    im = Image.new("RGB", (cell * len(rows[0]), 14 + cell * len(rows)), "white")
    d = ImageDraw.Draw(im)
    for j, t in enumerate(titles):
        d.text((j * cell + 4, 1), t, fill="black")
    for r, row in enumerate(rows):
        for j, x in enumerate(row):
            im.paste(Image.fromarray(np.clip(x * 255 + 0.5, 0, 255).astype(np.uint8)), (j * cell, 14 + r * cell))
    im.save(out)
    print(f"wrote {out}")


# ------------------------------------------------------------------------------------ shipping
def cmd_ship(args: argparse.Namespace) -> None:
    from safetensors import safe_open

    from ganpaint.engine.models.cards import ModelCard
    from ganpaint.engine.models.store import ModelStore

    with safe_open(args.model, "pt") as f:
        sd = {k: f.get_tensor(k) for k in f.keys()}
        meta = f.metadata() or {}
    ev = json.loads(Path(args.eval).read_text()) if args.eval else {}
    ours = ev.get("methods", {}).get(Path(args.model).stem, {})
    metrics = {f"heldout_{k}": round(v, 4) for k, v in ours.items()}
    for base in ("bicubic", "lanczos"):
        for k, v in ev.get("methods", {}).get(base, {}).items():
            metrics[f"heldout_{base}_{k}"] = round(v, 4)
    card = ModelCard(
        architecture="spandrel:Compact",
        config={"num_feat": int(meta.get("feat", 32)), "num_conv": int(meta.get("conv", 12)), "upscale": SCALE,
                "act_type": "prelu", "training": meta},
        tool="upscale",
        title="Faces enlargement x4 (GANPaint, for the cartoon faces default)",
        description="Enlarges the faces default's 64 px pictures four times (Real-ESRGAN Compact layout), trained "
        "on GANPaint's face renderer drawing the same face at 64 and 256 px. Made for cartoon faces; use "
        "Real-ESRGAN for photographs.",
        components=(),
        io={"color": "RGB", "range": [0.0, 1.0], "in_channels": 3, "out_channels": 3},
        training_data=({"name": "GANPaint face renders (ganpaint.data.faces), training indices 0-17,999",
                        "licence": "GPL-3.0-or-later (generated by GANPaint's own code)",
                        "pictures": int(meta.get("steps", 0)) * int(meta.get("batch", 0))},),
        licence="GPL-3.0-or-later",
        training_command=args.command or "",
        source="trained by GANPaint",
        metrics=metrics,
        extra={"evaluation": ev.get("table", "")},
    )
    TARGET.mkdir(parents=True, exist_ok=True)
    tmp_root = TARGET / ".ship-tmp"
    import shutil

    try:
        added = ModelStore(root=tmp_root, include_resources=False).add(sd, card, NAME)
        out = TARGET / f"{NAME}.safetensors"
        added.path.replace(out)
        Path(str(added.path) + ".card.json").replace(Path(str(out) + ".card.json"))
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KB)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("data")
    p.add_argument("--out", required=True)
    p.add_argument("--n", type=int, default=3000)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("train")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--crop", type=int, default=32, help="low-resolution crop side")
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--feat", type=int, default=32)
    p.add_argument("--conv", type=int, default=12)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("eval")
    p.add_argument("--model", nargs="*", help="training checkpoints or shipped files of this tool")
    p.add_argument("--upscaler", nargs="*", help="model-store upscalers to compare (e.g. realesrgan-x4plus)")
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out")
    p.add_argument("--sheet", help="PNG: bicubic / truth / each learned upscaler, first rows")
    p.add_argument("--sheet-rows", type=int, default=8)
    p = sub.add_parser("ship")
    p.add_argument("--model", required=True)
    p.add_argument("--eval")
    p.add_argument("--command")
    args = ap.parse_args(argv)
    {"data": cmd_data, "train": cmd_train, "eval": cmd_eval, "ship": cmd_ship}[args.cmd](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
