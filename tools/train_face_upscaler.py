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
def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    r = torch.arange(-3, 4, dtype=x.dtype)
    g = torch.exp(-(r ** 2) / (2 * sigma ** 2))
    g = g / g.sum()
    y = F.conv2d(F.pad(x, (3, 3, 0, 0), mode="replicate"), g.view(1, 1, 1, 7).repeat(3, 1, 1, 1), groups=3)
    return F.conv2d(F.pad(y, (0, 0, 3, 3), mode="replicate"), g.view(1, 1, 7, 1).repeat(3, 1, 1, 1), groups=3)


def _jpeg(x: torch.Tensor, quality: int) -> torch.Tensor:
    import io

    from PIL import Image

    arr = (x[0].permute(1, 2, 0).clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=quality)
    out = np.asarray(Image.open(buf).convert("RGB"), np.float32) / 255
    return torch.from_numpy(out).permute(2, 0, 1)[None]


def degrade(x: torch.Tensor, gen: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """x (B, 3, h, w) in [0, 1] -> what a generator's picture of the same face looks like next
    to a clean render: per picture a Gaussian blur (sigma up to 1.5 px), noise (std up to
    0.04), and half the time JPEG (quality 40-95) for blotches; a quarter stay clean.
    ``strength`` scales blur and noise (the first, mild version of this model used 0.5)."""
    out = []
    for k in range(x.shape[0]):
        y = x[k:k + 1]
        u = torch.rand(5, generator=gen)
        if u[0] < 0.25:
            out.append(y)
            continue
        sigma = float(u[1]) * 1.5 * strength
        if sigma > 0.15:
            y = _blur(y, sigma)
        y = y + torch.randn(y.shape, generator=gen) * float(u[2]) * 0.04 * strength
        if u[3] < 0.5:
            y = _jpeg(y, 40 + int(float(u[4]) * 55))
        out.append(y.clamp(0, 1))
    return torch.cat(out)


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
        out = net(degrade(lr_b, gen, args.degrade))
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

    meta = {"degrade": str(args.degrade), "feat": str(args.feat), "conv": str(args.conv), "step": str(step), "steps": str(args.steps),
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
    through = None
    if args.through:
        from ganpaint.engine.models.loading import load_model

        through = load_model(args.through, component="g_ema").eval()
    t0 = time.perf_counter()
    for k, i in enumerate(indices):
        lo_u8, hi_u8 = render_pair(i)
        lo = lo_u8.astype(np.float32) / 255
        if through is not None:
            lo = generator_version(through, lo, args.invert_steps)
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
    source = f"the generator's inversions ({args.invert_steps} steps) of " if args.through else ""
    rep["input"] = "generator" if args.through else "render"
    lines = [f"64 -> 256 px on {source}{len(indices)} held-out face renders (test indices {indices[0]}..{indices[-1]}); "
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


def generator_version(G: Any, picture: np.ndarray, steps: int) -> np.ndarray:
    """The generator's own drawing of ``picture``: its inversion into G, synthesised (what
    the faces tool enlarges, for a face whose true 256 px drawing is known)."""
    from ganpaint.latent.inversion import invert
    from ganpaint.nn import stylegan_sampling as S

    state = invert(G, picture, steps=steps, noise="const")
    with torch.inference_mode():
        return S.to_pictures(S.synthesize(G, state.ws, noise="const"))[0]


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


def cmd_sheet(args: argparse.Namespace) -> None:
    """The generator's own pictures (no ground truth): seeds of a faces model at psi 0.7, each
    enlarged by bicubic resizing and by every upscaler given, side by side."""
    from ganpaint.engine.models.loading import load_model
    from ganpaint.nn import stylegan_sampling as S

    torch.set_num_threads(args.threads)
    G = load_model(args.generator, component="g_ema").eval()
    ups = {Path(r).stem if Path(r).is_file() else r: load_upscaler(r) for r in args.model}
    rows = []
    with torch.inference_mode():
        w = S.truncate(S.z_to_w(G, S.sample_z(G, args.seeds, args.seed)), S.w_avg(G), 0.7)
        pics = S.to_pictures(S.synthesize(G, S.broadcast(G, w), noise="const"))
    for pic in pics:
        x = np.asarray(pic, np.float32)
        row = [resize(x, 256, "bicubic")]
        for desc in ups.values():
            up = run_upscaler(desc, x)
            row.append(up if up.shape[0] == 256 else resize(up, 256, "area" if up.shape[0] > 256 else "bicubic"))
        rows.append(row)
    write_sheet(rows, Path(args.out), ["bicubic", *ups])


# ------------------------------------------------------------------------------------ shipping
def cmd_ship(args: argparse.Namespace) -> None:
    from safetensors import safe_open

    from ganpaint.engine.models.cards import ModelCard
    from ganpaint.engine.models.store import ModelStore

    with safe_open(args.model, "pt") as f:
        sd = {k: f.get_tensor(k) for k in f.keys()}
        meta = f.metadata() or {}
    metrics: dict[str, float] = {}
    tables = []
    stem = Path(args.model).stem
    for path in args.eval or []:
        ev = json.loads(Path(path).read_text())
        prefix = f"heldout_{ev.get('input', 'render')}"
        for method, key in ((stem, ""), ("bicubic", "_bicubic"), ("realesr-animevideov3", "_animevideov3")):
            for k, v in ev.get("methods", {}).get(method, {}).items():
                metrics[f"{prefix}{key}_{k}"] = round(v, 4)
        tables.append(ev.get("table", ""))
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
        extra={"evaluation": tables},
    )
    target = Path(args.out_dir) if args.out_dir else TARGET
    target.mkdir(parents=True, exist_ok=True)
    tmp_root = target / ".ship-tmp"
    import shutil

    try:
        added = ModelStore(root=tmp_root, include_resources=False).add(sd, card, NAME)
        out = target / f"{NAME}.safetensors"
        added.path.replace(out)
        Path(str(added.path) + ".card.json").replace(Path(str(out) + ".card.json"))
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KB)")


def build_parser() -> argparse.ArgumentParser:
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
    p.add_argument("--degrade", type=float, default=1.0, help="strength of the low-resolution degradation")
    p = sub.add_parser("eval")
    p.add_argument("--model", nargs="*", help="training checkpoints or shipped files of this tool")
    p.add_argument("--upscaler", nargs="*", help="model-store upscalers to compare (e.g. realesrgan-x4plus)")
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out")
    p.add_argument("--sheet", help="PNG: bicubic / truth / each learned upscaler, first rows")
    p.add_argument("--sheet-rows", type=int, default=8)
    p.add_argument("--through", metavar="GENERATOR",
                   help="enlarge the generator's own drawing of each test face (its inversion) instead of the "
                   "clean 64 px render: what the faces tool enlarges")
    p.add_argument("--invert-steps", type=int, default=100)
    p = sub.add_parser("sheet", help="contact sheet of a faces generator's seeds, enlarged each way")
    p.add_argument("--generator", required=True, help="a faces StyleGAN2 .safetensors")
    p.add_argument("--model", nargs="+", required=True, help="upscalers (checkpoints, files or store names)")
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    p = sub.add_parser("ship")
    p.add_argument("--model", required=True)
    p.add_argument("--eval", nargs="*", help="eval JSONs (on clean renders and --through the generator)")
    p.add_argument("--command")
    p.add_argument("--out-dir", help="write here instead of the faces plugin's models folder")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    {"data": cmd_data, "train": cmd_train, "eval": cmd_eval, "sheet": cmd_sheet, "ship": cmd_ship}[args.cmd](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
