"""Judge an inpainting model against OpenCV's Telea and Navier-Stokes inpainting.

    ganpaint data build inpaint --count 300 --workers 2          # -> ~/.cache/ganpaint/data/inpaint
    python tools/eval_inpaint.py --data ~/.cache/ganpaint/data/inpaint [--model FILE.safetensors]
        [--json OUT.json] [--sheet docs/images/inpaint-contact-sheet.png] [--limit N]
    python tools/eval_inpaint.py --data ~/.cache/ganpaint/data/inpaint --gain-study
    python tools/eval_inpaint.py --data ~/.cache/ganpaint/data/inpaint --texture-study 80

Test set: the builder's held-out split, ``DIR/test/images`` (256 px crops of whole photos
that ganpaint.data.photos.split_photos keeps out of training, plus procedural scenes from
test-only seeds) with the fixed mask of each picture in ``DIR/test/masks`` (same file name;
free-form strokes and boxes covering 10-35 %, from ganpaint.data.masks). Before judging, the
tool checks that no test photo has a crop in ``DIR/train`` and that no test picture is
pixel-identical to a training picture. The hole pixels of the input are zeroed, so no
method can see what was there.

Methods, all in the same run on the same inputs: ours through the Inpaint tool's own
``run()`` (its image as returned, before the host's compositing; the masks are binary), our
parameter-free coarse stage alone (push-pull with the model's own gain), and ``cv2.inpaint``
with INPAINT_TELEA and INPAINT_NS (radius 5). For a guided model (``InpaintConfig.guide``, e.g.
OpenCV's FSR, ganpaint.nn.inpaint_guide) also "first stage" (the blend of guide and push-pull
the network starts from and refines) and the guide alone; the contact sheet then shows the
first stage in place of push-pull.

Metrics inside the hole, on [0, 1] RGB: PSNR (dB, from the mean squared error over hole
pixels), SSIM (the Gaussian-window SSIM map of Wang et al. 2004, sigma 1.5, averaged over
hole pixels; numpy, no scikit-image), L1, and edge strength (``edge_strength``: the mean
Sobel gradient magnitude of the luminance on the 0-255 scale over hole pixels; "truth" is
the real photo's, so a blurred fill scores low). Scores are given per picture kind and, for
the held-out photos, per hole kind (``mask_kind``: "boxes" or "free-form" strokes), each
with the mean of per-picture values. Also checks that ours leaves every pixel
outside the hole unchanged (after 8-bit quantisation, as the editor stores it).
Telea and Navier-Stokes are judged here only; the app's own use of OpenCV is the FSR guide.

``--gain-study`` never reads ``DIR/test``: it scores the push-pull stage alone for several
blend gains on the TRAINING pictures (``DIR/train/{photo,scene,clipart}``) with random
10-40 % holes from ganpaint.train.masks; it is how ganpaint.nn.inpaint.PUSH_PULL_GAIN was chosen.
``--texture-study N`` never reads ``DIR/test`` either: it is how the Texture detail's ramp
(ganpaint.nn.inpaint.TEXTURE_NEAR / TEXTURE_FAR) and the Texture default were chosen.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

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


def edge_strength(rgb: np.ndarray, hole: np.ndarray) -> float:
    """Mean Sobel gradient magnitude (3 x 3, 1-2-1 weights, unnormalised) of the luminance
    of ``rgb`` (floats in [0, 1], measured on the 0-255 scale) over the hole pixels."""
    y = (np.asarray(rgb, np.float64)[..., :3] @ np.array([0.299, 0.587, 0.114])) * 255.0
    p = np.pad(y, 1, mode="reflect")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    sel = hole > 0.5
    return float(np.hypot(gx, gy)[sel].mean()) if sel.any() else 0.0


def mask_kind(hole: np.ndarray) -> str:
    """"boxes" for a union of axis-aligned rectangles (ganpaint.data.masks.box_mask), else
    "free-form". A rectangle has 2 x 2 windows holding an odd number of hole pixels only at
    its corners (and where two boxes cross); a round-brush stroke has them all along its
    curved edge."""
    m = (np.asarray(hole) > 0.5).astype(np.int32)
    s = m[:-1, :-1] + m[1:, :-1] + m[:-1, 1:] + m[1:, 1:]
    return "boxes" if int(np.count_nonzero(s % 2)) <= 16 else "free-form"


def hole_metrics(out: np.ndarray, gt: np.ndarray, hole: np.ndarray, ssim: bool = True) -> dict[str, float]:
    sel = hole > 0.5
    d = out.astype(np.float64) - gt.astype(np.float64)
    mse = float((d[sel] ** 2).mean())
    r = {"psnr": 10.0 * float(np.log10(1.0 / max(mse, 1e-10))), "l1": float(np.abs(d[sel]).mean()),
         "edge": edge_strength(out, hole)}
    if ssim:
        r["ssim"] = float(ssim_map(out, gt)[sel].mean())
    return r


# ----------------------------------------------------------------------------- test set


def _kind(path: Path) -> str:
    return "scene" if path.name.startswith("scene-") else "photo"


def _photo_id(path: Path) -> str:
    """``photo-lomiri-Wine_by_Jakkub_Mede-007.png`` -> ``lomiri-Wine_by_Jakkub_Mede`` (the whole photo)."""
    return path.stem[len("photo-"):].rsplit("-", 1)[0]


def _digest(path: Path) -> str:
    with Image.open(path) as im:
        return hashlib.sha256(np.asarray(im.convert("RGB")).tobytes()).hexdigest()


def leak_check(data: Path) -> dict[str, Any]:
    """Refuse a test set that shares a whole photo or a picture with the training folder."""
    test = sorted((data / "test" / "images").glob("*.png"))
    train = sorted((data / "train").glob("*/*.png"))
    test_photos = sorted({_photo_id(p) for p in test if _kind(p) == "photo"})
    train_photos = sorted({_photo_id(p) for p in train if p.parent.name == "photo"})
    shared = sorted(set(test_photos) & set(train_photos))
    train_digests = {_digest(p) for p in train}
    same = [p.name for p in test if _digest(p) in train_digests]
    if shared or same:
        raise SystemExit(f"test data leaks into training: photos {shared}, identical pictures {same[:5]}")
    return {"test_photos": test_photos, "train_photos": len(train_photos), "train_pictures": len(train),
            "identical_pictures": 0}


def test_set(data: Path) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """[(kind, name, (H, W, 3) uint8 picture, (H, W) float32 hole)] of ``data/test``: the
    builder's held-out pictures and the fixed mask of each (same file name, 255 = hole)."""
    items = []
    for path in sorted((data / "test" / "images").glob("*.png")):
        with Image.open(path) as im:
            pic = np.asarray(im.convert("RGB"))
        with Image.open(data / "test" / "masks" / path.name) as im:
            hole = (np.asarray(im.convert("L")) > 127).astype(np.float32)
        items.append((_kind(path), path.name, pic, hole))
    if not items:
        raise SystemExit(f"no test pictures in {data / 'test' / 'images'} (run: ganpaint data build inpaint)")
    return items


# ----------------------------------------------------------------------------- gain study (training data only)


def gain_study(data: Path, gains: list[float], per_kind: int, seed: int = 0) -> dict[str, Any]:
    """Hole PSNR / L1 of the push-pull fill alone for each gain, on ``per_kind`` training
    pictures of each kind (``data/train/{photo,scene,clipart}``) with random 10-40 % holes
    from ganpaint.train.masks (the training distribution). Never reads ``data/test``."""
    import torch

    from ganpaint.nn.inpaint import push_pull_fill
    from ganpaint.train.masks import random_mask

    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"per_kind": per_kind, "seed": seed, "gains": gains, "psnr": {}, "l1": {}}
    for kind in ("photo", "scene", "clipart"):
        files = sorted((data / "train" / kind).glob("*.png"))
        if not files:
            continue
        pick = [files[i] for i in rng.permutation(len(files))[:per_kind]]
        rows: dict[float, list[tuple[float, float]]] = {g: [] for g in gains}
        for f in pick:
            with Image.open(f) as im:
                pic = np.asarray(im.convert("RGB"), np.float32) / 255.0
            hole = random_mask(rng, pic.shape[0], pic.shape[1])
            x = torch.from_numpy(pic * 2 - 1).permute(2, 0, 1)[None]
            m = torch.from_numpy(hole)[None, None]
            for g in gains:
                y = (push_pull_fill(x * (1 - m), m, g)[0].permute(1, 2, 0).numpy().clip(-1, 1) + 1) / 2
                r = hole_metrics(y, pic, hole, ssim=False)
                rows[g].append((r["psnr"], r["l1"]))
        out["psnr"][kind] = {str(g): round(float(np.mean([a for a, _ in rows[g]])), 3) for g in gains}
        out["l1"][kind] = {str(g): round(float(np.mean([b for _, b in rows[g]])), 4) for g in gains}
    judged = [k for k in ("photo", "scene") if k in out["psnr"]]
    out["psnr"]["photo+scene"] = {str(g): round(float(np.mean([out["psnr"][k][str(g)] for k in judged])), 3)
                                  for g in gains}
    out["best_photo+scene"] = max(gains, key=lambda g: out["psnr"]["photo+scene"][str(g)])
    return out


#: the texture study's grid: ramps (TEXTURE_NEAR, TEXTURE_FAR) and the amounts of each source
STUDY_RAMPS = ((4, 12), (8, 20), (12, 28))
STUDY_AMOUNTS = (0.5, 0.75, 1.0)


def texture_study(data: Path, model_file: str, count: int, seed: int = 11) -> dict[str, Any]:
    """How the Texture detail (ganpaint.nn.inpaint.texture_detail: FSR's near the hole's edge,
    shift-map's deep inside) trades hole PSNR for edge strength, on ``count`` TRAINING photo
    crops (``data/train/photo``; never ``data/test``), strokes and boxes in turn from
    ganpaint.data.masks (the test masks' generator). For each ramp and pair of amounts:
    the PSNR change against Texture 0 and the edge strength as a share of the photo's, per
    hole kind. ``pick`` applies the rule fixed before judging: among the settings whose
    edge strength reaches half the photo's on both kinds, the least total PSNR loss (on the
    figures as reported, rounded to 0.001 dB; on a tie the first in the grid's order)."""
    import ganpaint_inpaint.tool  # noqa: F401  (registers the model's architecture)
    import torch

    from ganpaint.data.masks import random_mask
    from ganpaint.engine.models.loading import load_model
    from ganpaint.nn.inpaint import (
        TEXTURE_SIGMA,
        InpaintGenerator,
        gaussian_blur,
        inpaint_tensor,
        texture_ramp,
    )
    from ganpaint.nn.inpaint_guide import guide_fill

    model = load_model(model_file, component="forward")
    assert isinstance(model, InpaintGenerator)
    files = sorted((data / "train" / "photo").glob("*.png"))
    rng = np.random.default_rng(seed)
    pick = [files[i] for i in rng.permutation(len(files))[:count]]
    settings = [(r, fa, ea) for r in STUDY_RAMPS for fa in STUDY_AMOUNTS for ea in STUDY_AMOUNTS]
    rows: dict[str, list[dict[str, Any]]] = {"strokes": [], "boxes": []}
    for n, f in enumerate(pick):
        with Image.open(f) as im:
            pic8 = np.asarray(im.convert("RGB"))
        kind = "strokes" if n % 2 == 0 else "boxes"
        hole = random_mask(rng, pic8.shape[0], kind)
        x = torch.from_numpy(pic8.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
        m = torch.from_numpy(hole)[None, None]
        with torch.no_grad():
            base = inpaint_tensor(model, x * (1 - m), m)
            pp = base  # stands in where a fill cannot be computed
            details = [t - gaussian_blur(t, TEXTURE_SIGMA) for t in
                       (guide_fill("fsr", x * (1 - m), m, pp), guide_fill("shiftmap", x * (1 - m), m, pp))]
        pic = pic8 / 255.0

        def score(t: torch.Tensor, pic: np.ndarray = pic, hole: np.ndarray = hole) -> tuple[float, float]:
            y = np.where(hole[..., None] > 0.5, (t[0].permute(1, 2, 0).numpy().clip(-1, 1) + 1) / 2, pic)
            return hole_metrics(y, pic, hole, ssim=False)["psnr"], edge_strength(y, hole)

        row: dict[str, Any] = {"base": score(base), "truth_edge": edge_strength(pic, hole)}
        for (near, far), fa, ea in settings:
            w = texture_ramp(m, near, far)
            row[f"{near}-{far} {fa:g}/{ea:g}"] = score(base + m * ((1 - w) * fa * details[0] + w * ea * details[1]))
        rows[kind].append(row)
    table: dict[str, dict[str, list[float]]] = {}
    for key in [k for k in rows["strokes"][0] if k not in ("base", "truth_edge")]:
        table[key] = {}
        for kind, rr in rows.items():
            truth = float(np.mean([r["truth_edge"] for r in rr]))
            loss = float(np.mean([r[key][0] - r["base"][0] for r in rr]))
            table[key][kind] = [round(loss, 3), round(float(np.mean([r[key][1] for r in rr])) / truth, 3)]
    base_share = {kind: round(float(np.mean([r["base"][1] for r in rr]) / np.mean([r["truth_edge"] for r in rr])), 3)
                  for kind, rr in rows.items()}
    ok = [k for k, v in table.items() if all(v[kind][1] >= 0.5 for kind in rows)]
    best = max(ok, key=lambda k: sum(table[k][kind][0] for kind in rows)) if ok else None
    return {"count": count, "seed": seed, "texture_0_edge_share": base_share,
            "settings": {k: {kind: {"psnr_change_db": v[kind][0], "edge_share": v[kind][1]} for kind in rows}
                         for k, v in table.items()},
            "rule": "edge share >= 0.5 on both hole kinds, then the least total PSNR loss", "pick": best}


# ----------------------------------------------------------------------------- methods


def make_methods(model_file: str) -> dict[str, Any]:
    import cv2
    import ganpaint_inpaint
    import torch
    from ganpaint_inpaint import tool

    from ganpaint.engine.models.loading import read_card
    from ganpaint.nn.inpaint import InpaintConfig, InpaintGenerator, push_pull_fill
    from ganpaint.nn.inpaint_guide import MISSING, guide_available
    from ganpaint.testing import RecordingContext, make_request

    spec = ganpaint_inpaint.ganpaint_register_tools()[0]
    ctx = RecordingContext(models={("eval", spec.id): model_file})
    cfg = InpaintConfig.from_dict(dict(read_card(model_file).config))
    gain = cfg.coarse_gain  # the model's own coarse stage
    stages = InpaintGenerator(cfg)  # only its parameter-free first stage is used

    def ours(img8: np.ndarray, hole: np.ndarray) -> np.ndarray:
        # grow 0: the held-out holes are exact (no halo), and the baselines fill exactly them
        req = make_request(img8, spec=spec, params={"model": "eval", "grow": 0}, mask=hole)
        return np.asarray(tool.run(req, ctx).image)  # type: ignore[arg-type]

    def coarse(img8: np.ndarray, hole: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(img8.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
        m = torch.from_numpy(hole)[None, None]
        y = push_pull_fill(x * (1 - m), m, gain)[0].permute(1, 2, 0).numpy().clip(-1, 1)
        return np.where(hole[..., None] > 0.5, (y + 1) / 2, img8 / 255.0).astype(np.float32)

    def staged(blend: float) -> Any:
        """The guided model's first stage: ``blend`` x its guide + the rest push-pull (1 = the
        guide alone), in the hole; computed as the generator computes it, on the whole picture."""
        def f(img8: np.ndarray, hole: np.ndarray) -> np.ndarray:
            x = torch.from_numpy(img8.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
            m = torch.from_numpy(hole)[None, None]
            with torch.no_grad():
                y = stages.first_stage(x * (1 - m), m, blend=blend)[0][0].permute(1, 2, 0).numpy().clip(-1, 1)
            return np.where(hole[..., None] > 0.5, (y + 1) / 2, img8 / 255.0).astype(np.float32)
        return f

    def cv(flag: int) -> Any:
        def f(img8: np.ndarray, hole: np.ndarray) -> np.ndarray:
            m8 = (hole > 0.5).astype(np.uint8) * 255
            # cv2 works on BGR; the channel order does not matter to these per-channel methods,
            # but keep the convention visible: RGB in, RGB out
            out = cv2.inpaint(np.ascontiguousarray(img8[..., ::-1]), m8, 5, flag)[..., ::-1]
            return out.astype(np.float32) / 255.0
        return f

    methods = {"ours": ours, "coarse only": coarse, "telea": cv(cv2.INPAINT_TELEA), "navier-stokes": cv(cv2.INPAINT_NS)}
    if cfg.guide:
        if not guide_available(cfg.guide):
            raise SystemExit(f"eval_inpaint: the model needs its {cfg.guide} guide: {MISSING}")
        # the network's own starting point, and the guide alone
        methods["first stage"] = staged(cfg.guide_blend)
        methods[f"{cfg.guide} alone"] = staged(1.0)
    return methods


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
    leaks = leak_check(args.data)
    items = test_set(args.data)
    if args.limit:
        items = items[:: max(1, len(items) // args.limit)][: args.limit]
    methods = make_methods(str(args.model))
    methods["truth"] = lambda img8, hole: None  # placeholder: the real picture (edge strength only)
    # picture kinds, and the held-out photos split by hole kind
    groups = {i: [it[0]] + ([f"photo/{mask_kind(it[3])}"] if it[0] == "photo" else []) for i, it in enumerate(items)}
    kinds = sorted({g for gs in groups.values() for g in gs})
    scores: dict[str, dict[str, list[dict[str, float]]]] = {m: {k: [] for k in kinds} for m in methods}
    times: dict[str, float] = dict.fromkeys(methods, 0.0)
    outside_max = 0
    examples: list[list[np.ndarray]] = []
    pick = set(_example_indices(items))
    for i, (_kind_i, _name, gt8, hole) in enumerate(items):
        gt = gt8.astype(np.float32) / 255.0
        damaged = gt8.copy()
        damaged[hole > 0.5] = 0
        outs = {}
        for name, fn in methods.items():
            t = time.perf_counter()
            out = gt if name == "truth" else fn(damaged, hole)
            times[name] += time.perf_counter() - t
            outs[name] = out
            r = hole_metrics(out, gt, hole, ssim=name != "truth")
            for g in groups[i]:
                scores[name][g].append(r)
        q = np.clip(np.rint(outs["ours"] * 255), 0, 255).astype(np.uint8)
        outside_max = max(outside_max, int(np.abs(q.astype(int) - damaged.astype(int))[hole <= 0.5].max(initial=0)))
        if i in pick:
            shown = damaged.astype(np.float32) / 255.0
            shown[hole > 0.5] = (1.0, 0.0, 1.0)  # the hole in magenta
            examples.append([shown, outs["telea"], outs["navier-stokes"], outs.get("first stage", outs["coarse only"]),
                             outs["ours"], gt])
    cover = [float(it[3].mean()) for it in items]
    report: dict[str, Any] = {
        "data": str(args.data), "size": int(items[0][2].shape[0]),
        "n": {k: sum(1 for gs in groups.values() if k in gs) for k in kinds},
        "coverage": [round(min(cover), 3), round(max(cover), 3)], "coverage_mean": round(float(np.mean(cover)), 3),
        "leak_check": leaks, "methods": {},
    }
    for name, per in scores.items():
        entry: dict[str, Any] = {}
        for kind in [*kinds, "all"]:
            rows = [r for k in kinds if "/" not in k for r in per[k]] if kind == "all" else per[kind]
            if rows:
                entry[kind] = {m: round(float(np.mean([r[m] for r in rows])), 4 if m != "edge" else 2)
                               for m in ("psnr", "ssim", "l1", "edge") if m in rows[0]}
        if name == "truth":
            entry = {k: {"edge": v["edge"]} for k, v in entry.items()}
        else:
            entry["seconds_per_picture"] = round(times[name] / len(items), 4)
        report["methods"][name] = entry
    report["outside_mask_max_change_levels"] = outside_max
    if args.sheet:
        first = "first stage" if "first stage" in methods else "push-pull alone"
        contact_sheet(examples, ["input (hole magenta)", "OpenCV Telea", "OpenCV Navier-Stokes", first,
                                 "ours", "ground truth"], Path(args.sheet))
    return report


def _example_indices(items: list[tuple[str, str, np.ndarray, np.ndarray]]) -> list[int]:
    """Six held-out photos for the contact sheet: three with free-form holes and three with
    boxes, spread over the photos (the list is sorted by photo)."""
    out: list[int] = []
    for kind in ("free-form", "boxes"):
        idx = [i for i, it in enumerate(items) if it[0] == "photo" and mask_kind(it[3]) == kind]
        step = max(1, len(idx) // 3)
        out += idx[step // 2::step][:3]
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True,
                    help="folder made by `ganpaint data build inpaint` (train/, test/images, test/masks)")
    ap.add_argument("--model", type=Path, default=None, help="model file (default: the plugin's shipped model)")
    ap.add_argument("--limit", type=int, default=0, help="judge only this many test pictures (a quick look)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--sheet", default=None, help="contact sheet PNG to write")
    ap.add_argument("--gain-study", action="store_true",
                    help="instead of judging: hole PSNR of the push-pull stage alone per gain, on TRAINING pictures")
    ap.add_argument("--gains", default="4,8,16,24,32,48,64,128")
    ap.add_argument("--per-kind", type=int, default=400, help="gain study: training pictures per kind")
    ap.add_argument("--seed", type=int, default=0, help="gain study: seed of the picture order and the holes")
    ap.add_argument("--texture-study", type=int, default=0, metavar="N",
                    help="instead of judging: the Texture detail's ramps and amounts on N TRAINING photo crops")
    args = ap.parse_args(argv)
    if args.texture_study:
        from ganpaint_inpaint import MODEL_FILE

        report = texture_study(args.data, str(args.model or MODEL_FILE), args.texture_study,
                               args.seed if args.seed else 11)
        text = json.dumps(report, indent=1)
        print(text)
        if args.json:
            args.json.write_text(text + "\n")
        return 0
    if args.gain_study:
        report = gain_study(args.data, [float(g) for g in args.gains.split(",")], args.per_kind, args.seed)
        text = json.dumps(report, indent=1)
        print(text)
        if args.json:
            args.json.write_text(text + "\n")
        return 0
    if args.model is None:
        from ganpaint_inpaint import MODEL_FILE

        args.model = MODEL_FILE
    report = evaluate(args)
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    m = report["methods"]
    for kind in [k for k in m["ours"] if k.startswith("photo/")] + ["all"]:
        ours = m["ours"][kind]["psnr"]
        best = max(m[k][kind]["psnr"] for k in ("telea", "navier-stokes"))
        edge, truth = m["ours"][kind]["edge"], m["truth"][kind]["edge"]
        first = "first stage" if "first stage" in m else "coarse only"
        print(f"{kind}: ours {ours:.2f} dB vs best OpenCV {best:.2f} dB ({ours - best:+.2f}; goal >= +0.5), "
              f"over its first stage {ours - m[first][kind]['psnr']:+.2f} dB (goal >= +1), "
              f"edge strength {edge:.1f} vs the real photo's {truth:.1f} (goal >= half)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
