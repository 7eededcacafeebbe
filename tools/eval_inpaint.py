"""Judge an inpainting model against OpenCV's Telea and Navier-Stokes inpainting.

    python tools/eval_inpaint.py --data DIR [--model FILE.safetensors] [--size 256]
        [--photo-crops 25] [--scenes 60] [--json OUT.json] [--sheet docs/images/inpaint-contact-sheet.png]

Test set (never seen in training): ``--photo-crops`` random crops of each whole photo in
``DIR/heldout/photos`` (tools/inpaint_data.py keeps them out of training), each photo first
scaled so its shorter side is 1-3x the crop; plus ``--scenes`` procedural landscapes from
seeds 1_000_000+ (training used seeds below 10_000). Holes: free-form strokes and boxes
(alternating) covering 10-40 % of the crop, from ganpaint.train.masks with fixed seeds.
The hole pixels of the input are zeroed, so no method can see what was there.

Methods, all in the same run on the same inputs: ours through the Inpaint tool's own
``run()`` (feather 0: a feather would blend the original hole content back in), our
parameter-free coarse stage alone (push-pull, the network's starting point), and
``cv2.inpaint`` with INPAINT_TELEA and INPAINT_NS (radius 5).

Metrics inside the hole, on [0, 1] RGB: PSNR (dB, from the mean squared error over hole
pixels), SSIM (the Gaussian-window SSIM map of Wang et al. 2004, sigma 1.5, averaged over
hole pixels; numpy, no scikit-image) and L1. Also checks that ours leaves every pixel
outside the hole unchanged (after 8-bit quantisation, as the editor stores it).
OpenCV is a test/eval-only dependency; the app never imports cv2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

SCENE_SEED0 = 1_000_000


# ----------------------------------------------------------------------------- metrics


def _gauss(sigma: float = 1.5, radius: int = 5) -> np.ndarray:
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def _blur(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Separable filter of (H, W) with reflect padding (same size)."""
    r = len(k) // 2
    p = np.pad(a, ((r, r), (0, 0)), mode="reflect")
    a = sum(k[i] * p[i:i + a.shape[0]] for i in range(len(k)))
    p = np.pad(a, ((0, 0), (r, r)), mode="reflect")
    return sum(k[i] * p[:, i:i + a.shape[1]] for i in range(len(k)))  # type: ignore[no-any-return]


def ssim_map(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM of two (H, W, C) pictures in [0, 1], averaged over channels."""
    k = _gauss()
    c1, c2 = 0.01**2, 0.03**2
    maps = []
    for c in range(x.shape[2]):
        a, b = x[..., c].astype(np.float64), y[..., c].astype(np.float64)
        mu_a, mu_b = _blur(a, k), _blur(b, k)
        va = _blur(a * a, k) - mu_a**2
        vb = _blur(b * b, k) - mu_b**2
        cov = _blur(a * b, k) - mu_a * mu_b
        maps.append(((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (va + vb + c2)))
    return np.mean(maps, axis=0)


def hole_metrics(out: np.ndarray, gt: np.ndarray, hole: np.ndarray) -> dict[str, float]:
    sel = hole > 0.5
    d = out.astype(np.float64) - gt.astype(np.float64)
    mse = float((d[sel] ** 2).mean())
    return {
        "psnr": 10.0 * float(np.log10(1.0 / max(mse, 1e-10))),
        "ssim": float(ssim_map(out, gt)[sel].mean()),
        "l1": float(np.abs(d[sel]).mean()),
    }


# ----------------------------------------------------------------------------- test set


def test_set(data: Path, size: int, photo_crops: int, scenes: int) -> list[tuple[str, np.ndarray]]:
    """[(kind, (size, size, 3) uint8)], deterministic."""
    rng = np.random.default_rng(2024)
    items: list[tuple[str, np.ndarray]] = []
    for path in sorted((data / "heldout" / "photos").glob("*")):
        with Image.open(path) as src:
            img = src.convert("RGB")
        for _ in range(photo_crops):
            short = size * float(rng.uniform(1.0, 3.0))
            s = short / min(img.size)
            im = img.resize((max(size, round(img.width * s)), max(size, round(img.height * s))), Image.Resampling.LANCZOS)
            x = int(rng.integers(0, im.width - size + 1))
            y = int(rng.integers(0, im.height - size + 1))
            items.append(("photo", np.asarray(im.crop((x, y, x + size, y + size)))))
    from ganpaint.data.landscape import Scene, render

    for k in range(scenes):
        pic = render(Scene.random(SCENE_SEED0 + k), "winter" if k % 4 == 3 else "summer", size)
        items.append(("scene", (np.clip(pic, 0, 1) * 255 + 0.5).astype(np.uint8)))
    return items


def holes(n: int, size: int) -> list[np.ndarray]:
    from ganpaint.train.masks import random_mask

    rng = np.random.default_rng(77)
    return [random_mask(rng, size, size, kind="box" if i % 2 else "stroke") for i in range(n)]


# ----------------------------------------------------------------------------- methods



def make_methods(model_file: str) -> dict[str, Any]:
    import cv2
    import ganpaint_inpaint
    import torch
    from ganpaint_inpaint import tool

    from ganpaint.nn.inpaint import push_pull_fill
    from ganpaint.testing import RecordingContext, make_request

    spec = ganpaint_inpaint.ganpaint_register_tools()[0]
    ctx = RecordingContext(models={("eval", spec.id): model_file})

    def ours(img8: np.ndarray, hole: np.ndarray) -> np.ndarray:
        req = make_request(img8, spec=spec, params={"model": "eval", "feather": 0}, mask=hole)
        return np.asarray(tool.run(req, ctx).image)  # type: ignore[arg-type]

    def coarse(img8: np.ndarray, hole: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(img8.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
        m = torch.from_numpy(hole)[None, None]
        y = push_pull_fill(x * (1 - m), m)[0].permute(1, 2, 0).numpy()
        return np.where(hole[..., None] > 0.5, (y + 1) / 2, img8 / 255.0).astype(np.float32)

    def cv(flag: int) -> Any:
        def f(img8: np.ndarray, hole: np.ndarray) -> np.ndarray:
            m8 = (hole > 0.5).astype(np.uint8) * 255
            # cv2 works on BGR; the channel order does not matter to these per-channel methods,
            # but keep the convention visible: RGB in, RGB out
            out = cv2.inpaint(np.ascontiguousarray(img8[..., ::-1]), m8, 5, flag)[..., ::-1]
            return out.astype(np.float32) / 255.0
        return f

    return {"ours": ours, "coarse only": coarse, "telea": cv(cv2.INPAINT_TELEA), "navier-stokes": cv(cv2.INPAINT_NS)}


# ----------------------------------------------------------------------------- sheet


def contact_sheet(rows: list[list[np.ndarray]], labels: list[str], path: Path, cell: int = 192) -> None:
    head = 22
    w = cell * len(labels)
    sheet = Image.new("RGB", (w, head + cell * len(rows)), (255, 255, 255))
    d = ImageDraw.Draw(sheet)
    for j, lab in enumerate(labels):
        d.text((j * cell + 6, 5), lab, fill=(0, 0, 0))
    for i, row in enumerate(rows):
        for j, pic in enumerate(row):
            im = Image.fromarray((np.clip(pic, 0, 1) * 255 + 0.5).astype(np.uint8))
            sheet.paste(im.resize((cell, cell), Image.Resampling.LANCZOS), (j * cell, head + i * cell))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, optimize=True)


# ----------------------------------------------------------------------------- main


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    items = test_set(args.data, args.size, args.photo_crops, args.scenes)
    masks = holes(len(items), args.size)
    methods = make_methods(str(args.model))
    scores: dict[str, dict[str, list[dict[str, float]]]] = {m: {"photo": [], "scene": []} for m in methods}
    times: dict[str, float] = dict.fromkeys(methods, 0.0)
    outside_max = 0
    examples: list[list[np.ndarray]] = []
    pick = _example_indices(items)
    for i, ((kind, gt8), hole) in enumerate(zip(items, masks, strict=True)):
        gt = gt8.astype(np.float32) / 255.0
        damaged = gt8.copy()
        damaged[hole > 0.5] = 0
        outs = {}
        for name, fn in methods.items():
            t = time.perf_counter()
            out = fn(damaged, hole)
            times[name] += time.perf_counter() - t
            outs[name] = out
            scores[name][kind].append(hole_metrics(out, gt, hole))
        q = np.clip(np.rint(outs["ours"] * 255), 0, 255).astype(np.uint8)
        outside_max = max(outside_max, int(np.abs(q.astype(int) - damaged.astype(int))[hole <= 0.5].max(initial=0)))
        if i in pick:
            shown = damaged.astype(np.float32) / 255.0
            shown[hole > 0.5] = (1.0, 0.0, 1.0)  # the hole in magenta
            examples.append([shown, outs["telea"], outs["navier-stokes"], outs["ours"], gt])
    report: dict[str, Any] = {"size": args.size, "n": {k: sum(1 for it in items if it[0] == k) for k in ("photo", "scene")},
                              "coverage": [0.1, 0.4], "methods": {}}
    for name, per in scores.items():
        entry: dict[str, Any] = {}
        for kind in ("photo", "scene", "all"):
            rows = per["photo"] + per["scene"] if kind == "all" else per[kind]
            if rows:
                entry[kind] = {m: round(float(np.mean([r[m] for r in rows])), 4) for m in ("psnr", "ssim", "l1")}
        entry["seconds_per_picture"] = round(times[name] / len(items), 4)
        report["methods"][name] = entry
    report["outside_mask_max_change_levels"] = outside_max
    if args.sheet:
        contact_sheet(examples, ["input (hole magenta)", "OpenCV Telea", "OpenCV Navier-Stokes", "ours", "ground truth"],
                      Path(args.sheet))
    return report


def _example_indices(items: list[tuple[str, np.ndarray]]) -> set[int]:
    photos = [i for i, it in enumerate(items) if it[0] == "photo"]
    scenes = [i for i, it in enumerate(items) if it[0] == "scene"]
    step = max(1, len(photos) // 4)
    return set(photos[::step][:4] + scenes[:: max(1, len(scenes) // 2)][:2])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="folder made by tools/inpaint_data.py")
    ap.add_argument("--model", type=Path, default=None, help="model file (default: the plugin's shipped model)")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--photo-crops", type=int, default=25, help="crops per held-out photo")
    ap.add_argument("--scenes", type=int, default=60)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--sheet", default=None, help="contact sheet PNG to write")
    args = ap.parse_args(argv)
    if args.model is None:
        from ganpaint_inpaint import MODEL_FILE

        args.model = MODEL_FILE
    report = evaluate(args)
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    ours = report["methods"]["ours"]["all"]["psnr"]
    best = max(report["methods"][m]["all"]["psnr"] for m in ("telea", "navier-stokes"))
    print(f"ours {ours:.2f} dB vs best baseline {best:.2f} dB: {'BEATS' if ours > best else 'does NOT beat'} both",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
