"""Judge a StyleGAN2 model (issue 5): sample quality, attribute sliders, inversion, contact sheet.

Run at one thread beside trainings (OMP_NUM_THREADS=1; the tool also sets torch's threads):

    python tools/eval_stylegan.py fd --model faces-default --checkpoints /root/runs/faces \\
        --data ~/.cache/ganpaint/data/faces/train/render --n 500 --out /tmp/fd-faces.json
    python tools/eval_stylegan.py sliders --model faces-default --n 64 --range 3 --out /tmp/sliders.json
    python tools/eval_stylegan.py invert --model faces-default \\
        --data ~/.cache/ganpaint/data/faces/test/render --n 16 --steps 200 --out /tmp/invert.json
    python tools/eval_stylegan.py sheet --model faces-default --model-b scenes-default \\
        --out docs/images/stylegan_contact_sheet.png
    python tools/eval_stylegan.py snapshot /root/runs/faces --every 120   # keep each checkpoint's EMA G

A model is a store name (``faces-default``, ``name@3``), a model file (safetensors with a
card), a training checkpoint file or a run folder (its ``checkpoint.safetensors``; the EMA
generator is evaluated, as training stores it). A run folder holds only its latest
checkpoint (the loop overwrites it), so ``snapshot`` copies the EMA generator of every new
checkpoint to ``RUN/snapshots/ema-stepNNNNNN.safetensors`` while a run trains; ``fd
--checkpoints RUN`` then evaluates all of them plus the current checkpoint, in step order.

fd      Frechet distance in the space of the attribute classifier's 128-d penultimate layer
        (ganpaint.train.attributes.extract_features; no downloaded Inception weights) between
        N samples (truncation psi 1, fresh random noise per picture: the distribution training
        matches; the same z and noise for every checkpoint) and N real pictures. 2N real
        pictures are drawn (seeded) and split into halves A and B; every number is a distance
        between two sets of N (FD is biased upwards by about 1/N, so only equal-N numbers
        compare): model = mean of FD(samples, A) and FD(samples, B); floor = FD(A, B);
        baselines: a randomly initialised generator of the same architecture, B blurred
        (downsampled 4x and back), B replaced by each picture's mean colour.
        Real pictures go through the training loop's own resize (shorter side to the
        generator's size, centre crop), then the classifier's area resize.
sliders For every direction of the model's DirectionSet that is a label boundary
        (``info["attribute"]`` names a classifier attribute): n seeds (z of seed 10000, not
        the seed-0 z the directions were fitted on; psi 0.7, const noise: the faces tool's defaults), amounts -R..R in 7 steps applied with the faces tool's
        ``apply_sliders``, every picture classified. Attribute values are in units of their
        range (binary: probability). Reported: Spearman rank correlation of the target
        attribute with the amount (mean over seeds), target change (+R minus -R), mean |change|
        of the other attributes, their ratio; identity: the distance moved by +-1 unit against
        the distance between two different seeds, in classifier features, in "identity
        features" (the features with the 11 attribute read-out directions projected out) and
        as PSNR of 8x8 low-passed pictures. Baseline: random unit directions in W scaled like
        the boundaries (one unit = the std of w along them), each credited with the attribute
        it happens to move most.
invert  PSNR and SSIM (numpy, 11x11 gaussian window) at the generator's resolution of held-out
        pictures inverted with ganpaint.latent.inversion.invert (the tools' own inversion,
        const noise), against the mean-latent picture (synthesize(w_avg)) and the best of K
        random samples (psi 1) per picture.
sheet   Contact sheet: samples, style-mix grids (rows A, columns B; coarse / middle / fine
        styles from B, the stylemix tool's presets) and slider sweeps for one or two models.
snapshot Keep each new checkpoint's EMA generator of a training run (see above).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from ganpaint.latent.interfacegan import judge_sweep, spearman  # noqa: F401  (shared with `ganpaint directions label`)
from ganpaint.nn import stylegan_sampling as S
from ganpaint.nn.stylegan2 import Generator

PICTURE_EXT = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}
SNAPSHOT_DIR = "snapshots"

# ============================================================================== small metrics


def to_u8(x: np.ndarray) -> np.ndarray:
    """Float pictures in [0, 1] -> uint8 (rounded)."""
    return (np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def to_float(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two pictures in [0, 1] (uint8 pictures are scaled); 100 dB when equal."""
    mse = float(np.mean((to_float(a).astype(np.float64) - to_float(b)) ** 2))
    return 100.0 if mse <= 1e-10 else 10.0 * math.log10(1.0 / mse)


def _gauss_kernel(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def _blur_valid(img: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Separable 'valid' filtering of (H, W, C) with the 1-D kernel k."""
    n, (h, w) = len(k), img.shape[:2]
    rows = sum(k[i] * img[i:h - n + 1 + i] for i in range(n))
    return np.asarray(sum(k[i] * rows[:, i:w - n + 1 + i] for i in range(n)))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM (Wang et al. 2004: gaussian window 11 / sigma 1.5, K1 0.01, K2 0.03, range 1)
    over the valid window positions and the channels of two (H, W, 3) pictures."""
    x, y = to_float(a).astype(np.float64), to_float(b).astype(np.float64)
    k = _gauss_kernel(min(11, x.shape[0], x.shape[1]) | 1)
    c1, c2 = 0.01**2, 0.03**2
    mx, my = _blur_valid(x, k), _blur_valid(y, k)
    vx = _blur_valid(x * x, k) - mx * mx
    vy = _blur_valid(y * y, k) - my * my
    cxy = _blur_valid(x * y, k) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s.mean())


def frechet(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    from ganpaint.train.attributes import frechet_distance

    return frechet_distance(feats_a, feats_b)


def blurred(pics: np.ndarray, factor: int = 4) -> np.ndarray:
    """uint8 (N, H, W, 3) area-downsampled by ``factor`` and bilinearly upsampled back."""
    t = torch.from_numpy(to_float(pics)).permute(0, 3, 1, 2)
    h, w = t.shape[-2:]
    small = torch.nn.functional.adaptive_avg_pool2d(t, (max(1, h // factor), max(1, w // factor)))
    up = torch.nn.functional.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
    return to_u8(up.permute(0, 2, 3, 1).numpy())


def flat_colour(pics: np.ndarray) -> np.ndarray:
    """Each picture replaced by its mean colour."""
    m = to_float(pics).mean(axis=(1, 2), keepdims=True)
    return to_u8(np.broadcast_to(m, pics.shape).copy())


def low_pass(pics: np.ndarray, side: int = 8) -> np.ndarray:
    """(N, H, W, 3) -> (N, side, side, 3) float area averages (the coarse layout and colours)."""
    t = torch.from_numpy(to_float(pics)).permute(0, 3, 1, 2)
    return torch.nn.functional.adaptive_avg_pool2d(t, side).permute(0, 2, 3, 1).numpy()


# ============================================================================== the judge


@dataclass
class Judge:
    """What measures pictures: attribute predictions (N, K) in attribute units, features
    (N, F), the attributes' names and ranges, and optionally a projection (F, F) that keeps
    the features the attribute read-outs do not see ("identity features")."""

    names: tuple[str, ...]
    spans: np.ndarray
    predict: Callable[[np.ndarray], np.ndarray]
    features: Callable[[np.ndarray], np.ndarray]
    identity: np.ndarray | None = None


def classifier_judge(path: str | None = None) -> Judge:
    """The attribute classifier (default: resources/models) as a Judge."""
    from ganpaint.train import attributes as A

    clf, _ = A.load_classifier(path) if path else A.load_default()
    cfg = clf.config
    spans = np.array([1.0 if k == "binary" else hi - lo for k, lo, hi in zip(cfg.kinds, cfg.lows, cfg.highs,
                                                                            strict=True)])
    w = clf.head.weight.detach().double().numpy()  # (K, F): what the attribute heads read
    q, _ = np.linalg.qr(w.T)  # orthonormal basis of the read-out space
    proj = np.eye(w.shape[1]) - q @ q.T
    return Judge(tuple(cfg.names), spans, lambda p: A.predict(clf, p).astype(np.float64),
                 lambda p: A.extract_features(clf, p), proj)


# ============================================================================== generators


@dataclass
class Loaded:
    G: Generator
    label: str            # for tables
    name: str = ""        # store / card name (directions are saved under it)
    sha256: str = ""      # the card's weights digest ("" for training checkpoints)
    step: int | None = None
    path: str = ""


def _checkpoint_meta(path: Path) -> dict[str, Any] | None:
    from safetensors import safe_open

    from ganpaint.train.checkpoints import META_KEY

    with safe_open(str(path), "pt") as f:
        text = (f.metadata() or {}).get(META_KEY)
    return None if text is None else dict(json.loads(text))


def _generator_from_checkpoint(path: Path, meta: dict[str, Any]) -> Loaded:
    from safetensors import safe_open

    from ganpaint.train.recipes import make_recipe

    if meta.get("recipe") != "stylegan2":
        raise SystemExit(f"{path}: a {meta.get('recipe')!r} checkpoint, not stylegan2")
    recipe = make_recipe("stylegan2", meta["config"])
    with safe_open(str(path), "pt") as f:
        keys = list(f.keys())
        prefix = "ema/G/" if any(k.startswith("ema/G/") for k in keys) else "model/G/"
        sd = {k[len(prefix):]: f.get_tensor(k) for k in keys if k.startswith(prefix)}
    G = Generator(recipe.generator_config())
    G.load_state_dict(sd, strict=True)
    G.eval().requires_grad_(False)
    step = int(meta["step"])
    run = path.parent.parent if path.parent.name == SNAPSHOT_DIR else path.parent
    label = f"{run.name} step {step}" + (" (no EMA)" if prefix == "model/G/" else "")
    return Loaded(G, label, step=step, path=str(path))


def load_generator(ref: str) -> Loaded:
    """A store name, a model file, a training checkpoint or a run folder -> the generator."""
    from ganpaint.engine.models.loading import load_model, read_card
    from ganpaint.train.checkpoints import CHECKPOINT_NAME

    p = Path(ref).expanduser()
    if p.is_dir():
        p = p / CHECKPOINT_NAME
        if not p.is_file():
            raise SystemExit(f"{ref}: a folder without {CHECKPOINT_NAME}")
    if p.is_file():
        meta = _checkpoint_meta(p)
        if meta is not None:
            return _generator_from_checkpoint(p, meta)
        card = read_card(p)
        G = load_model(p, component="g_ema")
        name = card.name or p.name.removesuffix(".safetensors")
        return Loaded(G, name, name, card.sha256, path=str(p))  # type: ignore[arg-type]
    from ganpaint.engine.models.cards import ModelFileError
    from ganpaint.engine.models.store import ModelStore

    try:
        entry = ModelStore().get(ref)
    except ModelFileError as exc:
        raise SystemExit(f"{ref}: not a file, run folder or stored model ({exc})") from None
    if entry.card.architecture != "stylegan2":
        raise SystemExit(f"{ref}: a {entry.card.architecture} model, not a StyleGAN2 generator")
    G = load_model(entry.path, component="g_ema", card=entry.card)
    return Loaded(G, entry.ref, entry.name, entry.card.sha256, path=str(entry.path))  # type: ignore[arg-type]


def run_checkpoints(run_dir: str | Path) -> list[Path]:
    """A run folder's snapshots and its current checkpoint (or a folder of snapshots kept
    with ``snapshot --dest``), in step order, one per step."""
    run = Path(run_dir)
    files = sorted((run / SNAPSHOT_DIR).glob("*.safetensors")) + sorted(run.glob("*.safetensors"))
    by_step: dict[int, Path] = {}
    for f in files:
        if f.is_file() and (meta := _checkpoint_meta(f)) is not None:
            by_step.setdefault(int(meta["step"]), f)
    if not by_step:
        raise SystemExit(f"{run}: no training checkpoint or snapshot")
    return [by_step[s] for s in sorted(by_step)]


def initial_generator(G: Generator, seed: int = 0) -> Generator:
    """A randomly initialised generator of G's architecture (what training starts from)."""
    torch.manual_seed(seed)
    return Generator(G.config).eval().requires_grad_(False)


# ============================================================================== pictures


def list_pictures(dirs: Sequence[str | Path]) -> list[Path]:
    out: list[Path] = []
    for d in dirs:
        d = Path(d).expanduser()
        out += sorted(p for p in d.rglob("*") if p.suffix.lower() in PICTURE_EXT and p.is_file())
    return out


def read_pictures(files: Sequence[Path], size: int) -> np.ndarray:
    """uint8 (N, size, size, 3): the training loop's evaluation view (shorter side to
    ``size``, bicubic; centre crop)."""
    from ganpaint.train.augment import apply, centre_draw

    out = np.empty((len(files), size, size, 3), np.uint8)
    for i, f in enumerate(files):
        with Image.open(f) as im:
            out[i] = np.asarray(apply(im.convert("RGB"), centre_draw(size), size))
    return out


def pick_files(files: Sequence[Path], n: int, seed: int) -> list[Path]:
    if n > len(files):
        raise SystemExit(f"asked for {n} real pictures, the data has {len(files)}")
    order = np.random.default_rng(seed).permutation(len(files))[:n]
    return [files[i] for i in order]


@torch.inference_mode()
def sample_pictures(G: Generator, n: int, seed: int, *, psi: float = 1.0, noise: str = "random",
                    batch: int = 16) -> np.ndarray:
    """uint8 (n, H, W, 3) from z = sample_z(G, n, seed); random noise drawn per batch from
    seed-derived seeds (the same pictures for every generator of one architecture)."""
    z = S.sample_z(G, n, seed)
    avg = S.w_avg(G) if psi != 1.0 else None
    out = []
    for i in range(0, n, batch):
        w = S.z_to_w(G, z[i:i + batch])
        if avg is not None:
            w = S.truncate(w, avg, psi)
        out.append(to_u8(S.to_pictures(S.synthesize(G, w, noise=noise, seed=seed * 7919 + i))))  # type: ignore[arg-type]
    return np.concatenate(out)


@torch.inference_mode()
def synth_u8(G: Generator, ws: torch.Tensor, noise: str = "const", batch: int = 16) -> np.ndarray:
    return np.concatenate([to_u8(S.to_pictures(S.synthesize(G, ws[i:i + batch], noise=noise)))  # type: ignore[arg-type]
                           for i in range(0, ws.shape[0], batch)])


@torch.inference_mode()
def seed_ws(G: Generator, n: int, seed: int, psi: float) -> torch.Tensor:
    """W+ latents (n, n_styles, dim) of n seeds, truncated towards w_avg (the tools' source)."""
    w = S.z_to_w(G, S.sample_z(G, n, seed))
    if psi != 1.0:
        w = S.truncate(w, S.w_avg(G), psi)
    return S.broadcast(G, w).clone()


# ============================================================================== fd


def fd_rows(sets: dict[str, np.ndarray], real_a: np.ndarray, real_b: np.ndarray,
            features: Callable[[np.ndarray], np.ndarray]) -> dict[str, Any]:
    """FD of every generated set (N pictures) against real halves A and B (N each), the floor
    FD(A, B) and the degraded-real baselines. Every set must have N pictures."""
    n = len(real_a)
    if len(real_b) != n or any(len(v) != n for v in sets.values()):
        raise ValueError("every set must have the same number of pictures (FD depends on N)")
    fa, fb = features(real_a), features(real_b)
    rows: dict[str, Any] = {"floor (real A vs real B)": {"fd": frechet(fa, fb)}}
    for label, pics in {**sets, "blurred real B (4x)": blurred(real_b), "mean-colour real B": flat_colour(real_b)}.items():
        f = features(pics)
        if label in sets:
            da, db = frechet(f, fa), frechet(f, fb)
            rows[label] = {"fd": (da + db) / 2, "fd_a": da, "fd_b": db}
        else:
            rows[label] = {"fd": frechet(f, fa)}
    floor = rows["floor (real A vs real B)"]["fd"]
    for r in rows.values():
        r["over_floor"] = r["fd"] / floor if floor > 0 else math.inf
    return {"n": n, "rows": rows}


def cmd_fd(args: argparse.Namespace) -> dict[str, Any]:
    judge = classifier_judge(args.classifier)
    refs: list[str] = [str(p) for r in args.checkpoints for p in run_checkpoints(r)] + list(args.model)
    if not refs:
        raise SystemExit("give --model and/or --checkpoints")
    files = list_pictures(args.data)
    t0 = time.perf_counter()
    loaded = [load_generator(r) for r in refs[:1]]
    size = loaded[0].G.size
    real = read_pictures(pick_files(files, 2 * args.n, args.seed), size)
    real_a, real_b = real[:args.n], real[args.n:]
    sets: dict[str, np.ndarray] = {}
    timing: dict[str, float] = {}
    init = initial_generator(loaded[0].G, args.seed)
    t = time.perf_counter()
    sets["random init generator"] = sample_pictures(init, args.n, args.seed + 1, psi=1.0, noise=args.noise)
    timing["random init generator"] = time.perf_counter() - t
    means: dict[str, list[float]] = {}
    for i, ref in enumerate(refs):
        ld = loaded[0] if i == 0 else load_generator(ref)
        if ld.G.size != size:
            raise SystemExit(f"{ref}: {ld.G.size} px, the first model is {size} px")
        label = ld.label if ld.label not in sets else f"{ld.label} ({ref})"
        t = time.perf_counter()
        sets[label] = sample_pictures(ld.G, args.n, args.seed + 1, psi=args.psi, noise=args.noise)
        timing[label] = time.perf_counter() - t
        means[label] = judge.predict(sets[label]).mean(0).tolist()
        print(f"  sampled {label}: {timing[label]:.1f} s", file=sys.stderr, flush=True)
    rep = fd_rows(sets, real_a, real_b, judge.features)
    means["real A"] = judge.predict(real_a).mean(0).tolist()
    rep.update({"what": "Frechet distance, attribute-classifier features (128-d)", "models": refs,
                "data": [str(d) for d in args.data], "real_pictures_available": len(files), "size": size,
                "psi": args.psi, "noise": args.noise, "seed": args.seed, "sampling_seconds": timing,
                "attribute_names": list(judge.names), "attribute_means": means,
                "seconds": time.perf_counter() - t0})
    lines = [f"FD, classifier features, N = {args.n} per set (psi {args.psi}, {args.noise} noise)", "",
             "| set | FD | vs A | vs B | / floor |", "|---|---|---|---|---|"]
    for label, r in rep["rows"].items():
        ab = " | ".join(f"{r[k]:.4f}" if k in r else "" for k in ("fd_a", "fd_b"))
        lines.append(f"| {label} | {r['fd']:.4f} | {ab} | {r['over_floor']:.1f} |")
    rep["table"] = "\n".join(lines)
    return rep


# ============================================================================== sliders


def identity_distances(judge: Judge, base: np.ndarray, moved: Sequence[np.ndarray]) -> dict[str, float]:
    """How far pictures moved (each of ``moved`` against ``base``, same seeds) relative to the
    distance between different seeds (base[i] against base[i+1])."""
    fb = judge.features(base)
    other = np.roll(np.arange(len(base)), -1)
    fm = [judge.features(m) for m in moved]
    out: dict[str, float] = {}
    spaces = [("features", None)] + ([("identity_features", judge.identity)] if judge.identity is not None else [])
    for key, proj in spaces:
        def d(x: np.ndarray, y: np.ndarray, proj: np.ndarray | None = proj) -> float:
            diff = x - y if proj is None else (x - y) @ proj
            return float(np.linalg.norm(diff, axis=1).mean())

        moved_d = float(np.mean([d(f, fb) for f in fm]))
        seeds_d = d(fb, fb[other])
        out[f"{key}_moved"], out[f"{key}_seeds"] = moved_d, seeds_d
        out[f"{key}_ratio"] = moved_d / seeds_d if seeds_d > 0 else math.inf
    lb = low_pass(base)
    out["lowpass_psnr_moved"] = float(np.mean([np.mean([psnr(x, y) for x, y in zip(low_pass(m), lb, strict=True)])
                                               for m in moved]))
    out["lowpass_psnr_seeds"] = float(np.mean([psnr(lb[i], lb[j]) for i, j in enumerate(other)]))
    return out


def slider_sweeps(G: Generator, ws: torch.Tensor, ds: Any, names: Sequence[str], amounts: Sequence[float],
                  *, noise: str = "const", model: str = "", progress: Callable[[str], None] | None = None,
                  ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The base pictures (amount 0) and, per direction, uint8 (n, len(amounts), H, W, 3),
    moved with the faces tool's ``apply_sliders``."""
    from ganpaint_faces.tool import apply_sliders

    base = synth_u8(G, ws, noise)
    out = {}
    for name in names:
        cols = []
        for a in amounts:
            cols.append(base if a == 0 else synth_u8(G, apply_sliders(ws, ds, {name: float(a)}, model), noise))
        out[name] = np.stack(cols, axis=1)
        if progress:
            progress(name)
    return base, out


def random_directions(G: Generator, k: int, seed: int, n_w: int = 2000) -> Any:
    """k random unit directions in W, each scaled like ``compute_directions`` scales its
    directions (std of w along it)."""
    from ganpaint.engine.models.directions import DirectionSet, std_along, w_samples

    _, w = w_samples(G, n_w, seed + 101)
    gen = torch.Generator().manual_seed(seed + 202)
    ds = DirectionSet("random", "", G.style_dim)
    for i in range(k):
        v = torch.randn(G.style_dim, generator=gen)
        v = v / v.norm()
        ds.add(f"random{i}", v, kind="random", scale=std_along(w, v))
    return ds


def judge_sliders(G: Generator, ds: Any, judge: Judge, *, n: int, amounts: Sequence[float], psi: float = 0.7,
                  noise: str = "const", seed: int = 0, random_k: int = 6, model: str = "",
                  only: Sequence[str] = (), progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Every label-boundary direction of ``ds`` (its ``attribute`` is one of judge.names)
    judged on n seeds, plus ``random_k`` random directions as the baseline."""
    amounts = [float(a) for a in amounts]
    if 0.0 not in amounts:
        raise ValueError("the amounts must include 0 (the unmoved picture)")
    i_m1 = amounts.index(-1.0) if -1.0 in amounts else None
    i_p1 = amounts.index(1.0) if 1.0 in amounts else None
    labelled = {name: info["attribute"] for name, info in ds.info.items()
                if info.get("attribute") in judge.names and (not only or name in only)}
    ws = seed_ws(G, n, seed, psi)
    base, sweeps = slider_sweeps(G, ws, ds, list(labelled), amounts, noise=noise, model=model, progress=progress)
    base_attrs = judge.predict(base)
    rows: dict[str, Any] = {}

    def analyse(pics: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        attrs = judge.predict(pics.reshape(-1, *pics.shape[2:])).reshape(pics.shape[0], pics.shape[1], -1)
        moved = [pics[:, i] for i in (i_m1, i_p1) if i is not None] or [pics[:, int(np.argmax(amounts))]]
        return attrs, identity_distances(judge, base, moved)

    for name, attr in labelled.items():
        attrs, ident = analyse(sweeps[name])
        r = judge_sweep(attrs, amounts, judge.names.index(attr), judge.spans)
        r["worst_other"] = judge.names[r["worst_other"]] if r["worst_other"] is not None else None
        rows[name] = {"attribute": attr, "scale": ds.scale(name), "layers": ds.info[name].get("layers"), **r,
                      "identity": ident}
    rnd = random_directions(G, random_k, seed) if random_k else None
    baseline: dict[str, Any] = {}
    if rnd is not None:
        _, rsweeps = slider_sweeps(G, ws, rnd, list(rnd.vectors), amounts, noise=noise, model="random",
                                   progress=progress)
        for name, pics in rsweeps.items():
            attrs, ident = analyse(pics)
            per = [judge_sweep(attrs, amounts, t, judge.spans) for t in range(len(judge.names))]
            best = int(np.argmax([abs(p["target_change"]) for p in per]))
            baseline[name] = {"best_attribute": judge.names[best], "ratio": abs(per[best]["ratio"]),
                              "spearman": abs(per[best]["spearman"]),
                              "target_change": abs(per[best]["target_change"]),
                              "mean_ratio_all_attributes": float(np.mean([abs(p["ratio"]) for p in per])),
                              "identity": ident}
    summary: dict[str, Any] = {}
    if baseline:
        vals = list(baseline.values())
        summary = {"ratio_median": float(np.median([v["ratio"] for v in vals])),
                   "ratio_max": float(np.max([v["ratio"] for v in vals])),
                   "spearman_mean": float(np.mean([v["spearman"] for v in vals])),
                   "identity_features_ratio_mean": float(np.mean([v["identity"]["features_ratio"] for v in vals]))}
    ident_amounts = [amounts[i] for i in (i_m1, i_p1) if i is not None] or [max(amounts)]
    return {"amounts": amounts, "identity_amounts": ident_amounts, "n": n, "psi": psi, "noise": noise, "seed": seed, "attribute_names": list(judge.names),
            "base_attribute_means": base_attrs.mean(0).tolist(), "directions": rows,
            "random_baseline": baseline, "random_summary": summary, "unjudged": sorted(set(ds.vectors) - set(labelled))}


def _directions_for(ld: Loaded, args: argparse.Namespace) -> Any:
    from ganpaint.engine.models.directions import compute_directions, find_directions, load_directions

    if args.compute_directions:
        with tempfile.TemporaryDirectory() as tmp:
            compute_directions(ld.G, "eval", ld.sha256 or "none", samples=args.compute_directions, labels="auto",
                               classifier=args.classifier, root=tmp)
            return load_directions("eval", root=tmp)
    name = args.directions or ld.name
    if not name:
        raise SystemExit(f"{ld.label}: no stored directions for a training checkpoint; use --compute-directions N")
    from ganpaint.engine.models.cards import ModelFileError

    try:
        # a plugin's default keeps its directions beside its file (not for --directions: another name)
        ds = find_directions(name, sha256=ld.sha256 or None, style_dim=ld.G.style_dim,
                             model_file="" if args.directions else ld.path)
    except ModelFileError as exc:
        raise SystemExit(str(exc)) from None
    if ds is None:
        raise SystemExit(f"model {name!r} has no directions: `ganpaint directions compute --model {name}` "
                         "(or --compute-directions N here, not saved)")
    return ds


def cmd_sliders(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    ld = load_generator(args.model)
    judge = classifier_judge(args.classifier)
    ds = _directions_for(ld, args)
    amounts = np.linspace(-args.range, args.range, args.steps).round(6).tolist()
    rep = judge_sliders(ld.G, ds, judge, n=args.n, amounts=amounts, psi=args.psi, noise=args.noise, seed=args.seed,
                        random_k=args.random, model=ld.name, only=args.only,
                        progress=lambda name: print(f"  swept {name} ({time.perf_counter() - t0:.0f} s)",
                                                    file=sys.stderr, flush=True))
    rep.update({"model": args.model, "label": ld.label, "seconds": time.perf_counter() - t0})
    lines = [f"Sliders of {ld.label}: n = {args.n} seeds, psi {args.psi}, amounts {amounts[0]:g}..{amounts[-1]:g}; "
             "changes in units of each attribute's range (+R minus -R)", "",
             "| slider | attribute | Spearman | target change | others mean abs | ratio | worst other | "
             "id-feat moved/seeds | feat moved/seeds | low-pass PSNR moved / seeds |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in rep["directions"].items():
        i = r["identity"]
        lines.append(f"| {name} | {r['attribute']} | {r['spearman']:.3f} | {r['target_change']:+.3f} | "
                     f"{r['others_mean_abs_change']:.3f} | {r['ratio']:.1f} | {r['worst_other']} "
                     f"{r['worst_other_abs_change']:.3f} | {i.get('identity_features_ratio', float('nan')):.2f} | "
                     f"{i['features_ratio']:.2f} | {i['lowpass_psnr_moved']:.1f} / {i['lowpass_psnr_seeds']:.1f} |")
    for name, r in rep["random_baseline"].items():
        i = r["identity"]
        lines.append(f"| {name} | (best: {r['best_attribute']}) | {r['spearman']:.3f} | {r['target_change']:.3f} | | "
                     f"{r['ratio']:.1f} | | {i.get('identity_features_ratio', float('nan')):.2f} | "
                     f"{i['features_ratio']:.2f} | {i['lowpass_psnr_moved']:.1f} / {i['lowpass_psnr_seeds']:.1f} |")
    if rep["random_summary"]:
        s = rep["random_summary"]
        lines += ["", f"random directions: ratio median {s['ratio_median']:.1f}, max {s['ratio_max']:.1f}; "
                      f"|Spearman| mean {s['spearman_mean']:.3f}"]
    add_verdicts(rep)
    if rep["verdicts"]:
        lines += ["", "shipping rule (Spearman >= 0.9, change >= 0.25, ratio above the random median):"]
        lines += [f"- {name}: {why or 'meets it'}" for name, why in rep["verdicts"].items()]
    if args.withhold:
        lines += ["", withhold_failing(ld, args, rep["verdicts"])]
    rep["table"] = "\n".join(lines)
    return rep


def add_verdicts(rep: dict[str, Any]) -> None:
    """``rep["verdicts"]``: per judged slider, why it fails the shipping rule ('' = it meets
    it); empty without a random baseline (the rule needs its median ratio)."""
    from ganpaint.latent.interfacegan import slider_verdict

    median = rep["random_summary"].get("ratio_median") if rep["random_summary"] else None
    rep["verdicts"] = ({name: slider_verdict(row, median) for name, row in rep["directions"].items()}
                       if median is not None else {})


def withhold_failing(ld: Loaded, args: argparse.Namespace, verdicts: dict[str, str]) -> str:
    """Rewrite the model's saved directions without the sliders that fail the rule (each
    recorded in the file's ``withheld`` with why), so the faces panel does not offer them."""
    from ganpaint.engine.models.direction_files import saved_direction_names
    from ganpaint.engine.models.directions import load_directions, save_directions

    if args.compute_directions or args.directions:
        raise SystemExit("--withhold rewrites the model's own saved directions: not with --compute-directions "
                         "or --directions")
    if not verdicts:
        raise SystemExit("--withhold needs the random baseline (--random > 0)")
    found = saved_direction_names(ld.name, ld.path)
    if found is None:
        raise SystemExit(f"model {ld.name!r} has no saved directions to rewrite")
    root = found.path.parent.parent
    ds = load_directions(ld.name, sha256=ld.sha256 or None, root=root)
    assert ds is not None
    failing = {name: why for name, why in verdicts.items() if why and name in ds.vectors}
    for name, why in failing.items():
        ds.withhold(name, why)
    save_directions(ds, root)
    return (f"withheld from {found.path}: {', '.join(failing) or 'none'}; kept: "
            f"{', '.join(n for n, why in verdicts.items() if not why) or 'none'}")


# ============================================================================== inversion


def judge_inversion(G: Generator, targets: np.ndarray, *, steps: int, k_random: int = 256, seed: int = 0,
                    noise: str = "const", progress: Callable[[int, float], None] | None = None,
                    keep: int = 0, init_G: Generator | None = None, encoder: Any = None) -> dict[str, Any]:
    """targets: float (n, size, size, 3) in [0, 1] at G's resolution. PSNR/SSIM of the
    inverted reconstruction, of the mean-latent picture and of the best of ``k_random``
    samples (psi 1, best by PSNR per target); with ``init_G`` (an untrained generator of the
    same architecture) also of the same inversion through it: how much of the reconstruction
    the W+ latent alone buys. With ``encoder`` (a LatentEncoder for G) also of its guess alone
    and of the same inversion started from that guess instead of the mean latent.
    ``keep`` first rows of pictures are returned."""
    from ganpaint.latent.inversion import invert

    with torch.inference_mode():
        mean_pic = S.to_pictures(S.synthesize(G, S.w_avg(G)[None], noise=noise))[0]  # type: ignore[arg-type]
    rand = to_float(sample_pictures(G, k_random, seed + 303, psi=1.0, noise=noise)) if k_random else None
    rows: dict[str, list[float]] = {k: [] for k in ("inverted_psnr", "inverted_ssim", "mean_psnr", "mean_ssim",
                                                       "best_random_psnr", "best_random_ssim", "init_inverted_psnr",
                                                       "init_inverted_ssim", "encoder_guess_psnr",
                                                       "encoder_guess_ssim", "encoder_inverted_psnr",
                                                       "encoder_inverted_ssim", "seconds")}
    shown: list[list[np.ndarray]] = []
    for i, tgt in enumerate(targets):
        t = time.perf_counter()
        state = invert(G, tgt, steps=steps, noise=noise)
        with torch.inference_mode():
            rec = S.to_pictures(S.synthesize(G, state.ws, noise=noise))[0]  # type: ignore[arg-type]
        rows["seconds"].append(time.perf_counter() - t)
        rows["inverted_psnr"].append(psnr(rec, tgt))
        rows["inverted_ssim"].append(ssim(rec, tgt))
        rows["mean_psnr"].append(psnr(mean_pic, tgt))
        rows["mean_ssim"].append(ssim(mean_pic, tgt))
        best = None
        if rand is not None:
            mse = ((rand - tgt[None]) ** 2).mean(axis=(1, 2, 3))
            best = rand[int(np.argmin(mse))]
            rows["best_random_psnr"].append(psnr(best, tgt))
            rows["best_random_ssim"].append(ssim(best, tgt))
        row = [tgt, mean_pic, best if best is not None else mean_pic]
        if init_G is not None:
            init_state = invert(init_G, tgt, steps=steps, noise=noise)
            with torch.inference_mode():
                init_rec = S.to_pictures(S.synthesize(init_G, init_state.ws, noise=noise))[0]  # type: ignore[arg-type]
            rows["init_inverted_psnr"].append(psnr(init_rec, tgt))
            rows["init_inverted_ssim"].append(ssim(init_rec, tgt))
            row.append(init_rec)
        if encoder is not None:
            with torch.inference_mode():
                x = torch.from_numpy(np.ascontiguousarray(tgt)).permute(2, 0, 1)[None].mul(2).sub(1)
                guess = S.broadcast(G, encoder(x.float()).to(G.input.input)).clone()
                guess_pic = S.to_pictures(S.synthesize(G, guess, noise=noise))[0]  # type: ignore[arg-type]
            enc_state = invert(G, tgt, steps=steps, noise=noise, init_ws=guess)
            with torch.inference_mode():
                enc_rec = S.to_pictures(S.synthesize(G, enc_state.ws, noise=noise))[0]  # type: ignore[arg-type]
            rows["encoder_guess_psnr"].append(psnr(guess_pic, tgt))
            rows["encoder_guess_ssim"].append(ssim(guess_pic, tgt))
            rows["encoder_inverted_psnr"].append(psnr(enc_rec, tgt))
            rows["encoder_inverted_ssim"].append(ssim(enc_rec, tgt))
            row += [guess_pic, enc_rec]
        if i < keep:
            shown.append([*row, rec])
        if progress:
            progress(i, rows["inverted_psnr"][-1])
    n = len(targets)
    summary = {k: float(np.mean(v)) for k, v in rows.items() if v}
    summary["inverted_beats_mean"] = int(np.sum(np.array(rows["inverted_psnr"]) > np.array(rows["mean_psnr"])))
    if rows["init_inverted_psnr"]:
        summary["inverted_beats_init_inverted"] = int(np.sum(np.array(rows["inverted_psnr"])
                                                             > np.array(rows["init_inverted_psnr"])))
    if rows["encoder_inverted_psnr"]:
        summary["encoder_inverted_beats_inverted"] = int(np.sum(np.array(rows["encoder_inverted_psnr"])
                                                                > np.array(rows["inverted_psnr"])))
    if rows["best_random_psnr"]:
        summary["inverted_beats_best_random"] = int(np.sum(np.array(rows["inverted_psnr"])
                                                           > np.array(rows["best_random_psnr"])))
    return {"n": n, "steps": steps, "k_random": k_random, "noise": noise, "summary": summary, "each": rows,
            "pictures": shown}


def cmd_invert(args: argparse.Namespace) -> dict[str, Any]:
    from ganpaint.latent.inversion import resize_picture

    t0 = time.perf_counter()
    ld = load_generator(args.model)
    files = pick_files(list_pictures(args.data), args.n, args.seed)
    targets = []
    for f in files:
        with Image.open(f) as im:
            rgb = np.asarray(im.convert("RGB"), np.float32) / 255.0
        targets.append(resize_picture(rgb, ld.G.size, ld.G.size))
    init_G = None if args.no_init_baseline else initial_generator(ld.G, args.seed)
    encoder = None
    if args.encoder:
        from ganpaint.latent.encoders import load_encoder

        encoder = load_encoder(args.encoder)
        if encoder is None:
            raise SystemExit(f"{args.encoder}: not a readable encoder file")
    rep = judge_inversion(ld.G, np.stack(targets), steps=args.steps, k_random=args.k_random, seed=args.seed,
                          keep=args.strip_rows if args.strip else 0, init_G=init_G, encoder=encoder,
                          progress=lambda i, p: print(f"  {i + 1}/{args.n}: {p:.2f} dB "
                                                      f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True))
    pics = rep.pop("pictures")
    if args.strip and pics:
        grid_sheet([("", [(f"{i}", row) for i, row in enumerate(pics)],
                     ["target", "mean latent", f"best of {args.k_random}"] + ([] if init_G is None else ["untrained"])
                     + ([] if encoder is None else ["encoder guess", "from encoder"]) + [ld.label])],
                   Path(args.strip), cell=96, title=f"Inversion of held-out pictures, {args.steps} steps: {ld.label} "
                   "(untrained = the same inversion through a randomly initialised generator)")
    rep.update({"model": args.model, "label": ld.label, "data": [str(d) for d in args.data],
                "files": [f.name for f in files], "seconds": time.perf_counter() - t0})
    s = rep["summary"]
    lines = [f"Inversion of {args.n} held-out pictures by {ld.label} ({args.steps} steps, const noise, "
             f"{s['seconds']:.1f} s each)", "", "| method | PSNR dB | SSIM |", "|---|---|---|",
             f"| mean latent | {s['mean_psnr']:.2f} | {s['mean_ssim']:.3f} |"]
    if "best_random_psnr" in s:
        lines.append(f"| best of {args.k_random} samples | {s['best_random_psnr']:.2f} | {s['best_random_ssim']:.3f} |")
    if "init_inverted_psnr" in s:
        lines.append(f"| inverted through an untrained generator | {s['init_inverted_psnr']:.2f} | "
                     f"{s['init_inverted_ssim']:.3f} |")
    if "encoder_guess_psnr" in s:
        lines.append(f"| encoder guess (no optimisation) | {s['encoder_guess_psnr']:.2f} | {s['encoder_guess_ssim']:.3f} |")
        lines.append(f"| inverted from the encoder guess | {s['encoder_inverted_psnr']:.2f} | "
                     f"{s['encoder_inverted_ssim']:.3f} |")
    lines += [f"| inverted | {s['inverted_psnr']:.2f} | {s['inverted_ssim']:.3f} |", "",
              f"inverted beats the mean latent on {s['inverted_beats_mean']}/{args.n}"
              + (f", the best random sample on {s['inverted_beats_best_random']}/{args.n}"
                 if "inverted_beats_best_random" in s else "")
              + (f", the untrained generator's inversion on {s['inverted_beats_init_inverted']}/{args.n}"
                 if "inverted_beats_init_inverted" in s else "")]
    rep["table"] = "\n".join(lines)
    return rep


# ============================================================================== contact sheet

Section = tuple[str, list[tuple[str, list[np.ndarray]]], list[str]]  # title, rows (label, cells), column heads


def grid_sheet(sections: Sequence[Section], out: Path, *, cell: int = 80, title: str = "") -> Path:
    """Sections stacked vertically: a title line, column heads, rows of labelled pictures."""
    pad, left, line = 3, 92, 14
    cols = max((len(cells) for _, rows, _ in sections for _, cells in rows), default=1)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    texts = [title] + [t for t, _, _ in sections]
    width = max(left + cols * (cell + pad) + pad, *(int(measure.textlength(t)) + 2 * pad for t in texts))
    height = (line + pad) * bool(title) + sum(
        (line + pad) * bool(t) + (line + pad) * bool(heads) + len(rows) * (cell + pad) + pad
        for t, rows, heads in sections)
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    y = pad
    if title:
        draw.text((pad, y), title, fill="black")
        y += line + pad
    for t, rows, heads in sections:
        if t:
            draw.text((pad, y), t, fill=(20, 20, 120))
            y += line + pad
        if heads:
            for j, h in enumerate(heads):
                draw.text((left + j * (cell + pad), y), h[: cell // 6], fill="black")
            y += line + pad
        for label, cells in rows:
            for k, chunk in enumerate(label.split("\n")[:4]):
                draw.text((pad, y + 4 + k * 12), chunk[:15], fill="black")
            for j, pic in enumerate(cells):
                tile = Image.fromarray(to_u8(to_float(pic))).resize((cell, cell), Image.Resampling.LANCZOS)
                sheet.paste(tile, (left + j * (cell + pad), y))
            y += cell + pad
        y += pad
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out


def preset_range(n_styles: int, preset: str) -> tuple[int, int]:
    """The stylemix tool's presets (ganpaint_stylemix.tool.preset_range): style inputs from B."""
    from ganpaint_stylemix.tool import preset_range as tool_range

    return tool_range(n_styles, preset)  # type: ignore[no-any-return]


def model_sections(G: Generator, label: str, ds: Any, *, seed: int, psi: float, n_samples: int, n_mix: int,
                   amounts: Sequence[float], slider_names: Sequence[str] = ()) -> list[Section]:
    """Samples, one style-mix grid per preset, and slider sweeps of one model."""
    secs: list[Section] = []
    samples = to_float(synth_u8(G, seed_ws(G, n_samples, seed, psi)))
    per_row = min(n_samples, 10)
    secs.append((f"{label}: samples (seeds {seed}..{seed + n_samples - 1}, psi {psi}, const noise)",
                 [("", list(samples[i:i + per_row])) for i in range(0, n_samples, per_row)], []))
    wa, wb = seed_ws(G, n_mix, seed + 100, psi), seed_ws(G, n_mix, seed + 200, psi)
    pa, pb = to_float(synth_u8(G, wa)), to_float(synth_u8(G, wb))
    blocks = []
    for preset in ("coarse", "middle", "fine"):
        lo, hi = preset_range(G.n_styles, preset)
        mixed = wa[:, None].repeat(1, n_mix, 1, 1)  # (A, B, styles, dim)
        mixed[:, :, lo:hi] = wb[None, :, lo:hi]
        blocks.append((preset, lo, hi, to_float(synth_u8(G, mixed.reshape(-1, *wa.shape[1:]))).reshape(n_mix, n_mix, *pa.shape[1:])))
    rows: list[tuple[str, list[np.ndarray]]] = [("B ->", [np.ones_like(pa[0])] + [pb[j] for _ in blocks
                                                                                   for j in range(n_mix)])]
    for i in range(n_mix):
        rows.append((f"A{i}", [pa[i]] + [pic for *_, pics in blocks for pic in pics[i]]))
    heads = ["A"] + [f"{p} {lo}-{hi - 1}" if j == 0 else "" for p, lo, hi, _ in blocks for j in range(n_mix)]
    secs.append((f"{label}: style mixing, row A with styles of column B (coarse / middle / fine of "
                  f"{G.n_styles} inputs)", rows, heads))
    if ds is not None and slider_names:
        from ganpaint_faces.tool import apply_sliders

        ws = seed_ws(G, 1, seed, psi)
        srows = []
        for name in slider_names:
            cells = [synth_u8(G, apply_sliders(ws, ds, {name: float(a)}, label))[0] for a in amounts]
            srows.append((name, [to_float(c) for c in cells]))
        secs.append((f"{label}: slider sweeps on seed {seed}", srows, [f"{a:+g}" for a in amounts]))
    return secs


def _sheet_directions(ld: Loaded) -> Any:
    from ganpaint.engine.models.cards import ModelFileError
    from ganpaint.engine.models.directions import find_directions

    if not ld.name:
        return None
    try:
        return find_directions(ld.name, sha256=ld.sha256 or None, style_dim=ld.G.style_dim,
                               model_file=ld.path)
    except ModelFileError as exc:
        print(f"  {ld.label}: {exc}", file=sys.stderr)
        return None


def cmd_sheet(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    amounts = np.linspace(-args.range, args.range, 7).round(6).tolist()
    sections: list[Section] = []
    info = {}
    for ref, wanted in [(args.model, args.sliders), (args.model_b, args.sliders_b)]:
        if not ref:
            continue
        ld = load_generator(ref)
        ds = _sheet_directions(ld)
        names = [n for n in wanted if ds is not None and n in ds.vectors]
        if ref == args.model and not wanted and ds is not None:
            from ganpaint_faces import SLIDERS  # the faces tool's sliders, else every label direction

            names = [n for n in SLIDERS if n in ds.vectors] or [n for n, i in ds.info.items() if i.get("attribute")]
        sections += model_sections(ld.G, ld.label, ds, seed=args.seed, psi=args.psi, n_samples=args.samples,
                                   n_mix=args.mix, amounts=amounts, slider_names=names)
        info[ld.label] = {"path": ld.path, "sliders": names}
    out = grid_sheet(sections, Path(args.out), cell=args.cell)
    return {"out": str(out), "models": info, "seconds": time.perf_counter() - t0,
            "table": f"contact sheet -> {out}"}


# ============================================================================== snapshot


def snapshot_once(run_dir: str | Path, dest: str | Path | None = None) -> Path | None:
    """Copy the EMA generator (and the recipe metadata) of ``run_dir``'s current checkpoint to
    ``dest/ema-stepNNNNNN.safetensors`` unless that step is kept already; the new file or None."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    from ganpaint.train.checkpoints import CHECKPOINT_NAME, META_KEY

    src = Path(run_dir) / CHECKPOINT_NAME
    if not src.is_file():
        return None
    with safe_open(str(src), "pt") as f:  # the loop replaces the file atomically: this is one version
        meta = json.loads((f.metadata() or {})[META_KEY])
        keys = [k for k in f.keys() if k.startswith("ema/G/")] or [k for k in f.keys() if k.startswith("model/G/")]
        tensors = {k: f.get_tensor(k) for k in keys}
    out_dir = Path(dest) if dest else Path(run_dir) / SNAPSHOT_DIR
    target = out_dir / f"ema-step{int(meta['step']):06d}.safetensors"
    if target.exists():
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    keep = {k: meta[k] for k in ("format", "step", "recipe", "config", "seed", "steps", "elapsed_s", "losses", "bf16")
            if k in meta}
    tmp = target.with_name(f".{target.name}.tmp")
    save_file(tensors, str(tmp), metadata={META_KEY: json.dumps(keep)})
    os.replace(tmp, target)
    return target


def cmd_snapshot(args: argparse.Namespace) -> dict[str, Any]:
    kept = []
    while True:
        new = snapshot_once(args.run, args.dest)
        if new is not None:
            kept.append(str(new))
            print(f"kept {new}", flush=True)
        run_info = Path(args.run) / "run.json"
        meta = _checkpoint_meta(Path(args.run) / "checkpoint.safetensors") if (Path(args.run) / "checkpoint.safetensors").is_file() else None
        total = json.loads(run_info.read_text()).get("steps") if run_info.is_file() else None
        if args.every <= 0 or (meta is not None and total is not None and int(meta["step"]) >= int(total)):
            break
        time.sleep(args.every)
    return {"kept": kept, "table": f"{len(kept)} snapshot(s) kept"}


# ============================================================================== command line


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p: argparse.ArgumentParser, out_help: str = "JSON report to write") -> None:
        p.add_argument("--out", help=out_help)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--classifier", help="attribute classifier file (default: resources/models)")

    p = sub.add_parser("fd", help="Frechet distance in classifier features, per model / checkpoint")
    p.add_argument("--model", nargs="*", default=[], help="store names, model files, checkpoints or run folders")
    p.add_argument("--checkpoints", nargs="*", default=[], help="run folders: every snapshot + the current checkpoint")
    p.add_argument("--data", nargs="+", required=True, help="folders of real pictures (searched recursively)")
    p.add_argument("--n", type=int, default=500, help="pictures per set (2N real pictures are read)")
    p.add_argument("--psi", type=float, default=1.0)
    p.add_argument("--noise", choices=("random", "const"), default="random")
    common(p)
    p = sub.add_parser("sliders", help="monotonicity, selectivity and identity of the label-boundary sliders")
    p.add_argument("--model", required=True)
    p.add_argument("--directions", help="the store name whose directions to use (default: the model's)")
    p.add_argument("--compute-directions", type=int, default=0, metavar="SAMPLES",
                   help="compute directions here from this many samples (not saved) instead of loading them")
    p.add_argument("--only", nargs="*", default=[], help="judge only these sliders")
    p.add_argument("--n", type=int, default=64, help="seeds")
    p.add_argument("--range", type=float, default=3.0)
    p.add_argument("--steps", type=int, default=7, help="amounts from -range to range (odd: includes 0)")
    p.add_argument("--psi", type=float, default=0.7)
    p.add_argument("--noise", choices=("random", "const"), default="const")
    p.add_argument("--random", type=int, default=6, help="random directions for the baseline")
    p.add_argument("--withhold", action="store_true",
                   help="rewrite the model's saved directions without the sliders that fail the shipping rule "
                   "(the faces panel then hides them); the reasons are kept in the file")
    common(p)
    # the z of seed 0 are the samples `ganpaint directions compute` fits the boundaries on: judge on others
    p.set_defaults(seed=10_000)
    p = sub.add_parser("invert", help="inversion PSNR/SSIM against the mean latent and the best random sample")
    p.add_argument("--model", required=True)
    p.add_argument("--data", nargs="+", required=True, help="held-out pictures")
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--k-random", type=int, default=256, help="random samples for the best-of-K baseline (0 = off)")
    p.add_argument("--no-init-baseline", action="store_true",
                   help="skip inverting through an untrained generator (halves the time)")
    p.add_argument("--encoder", metavar="FILE", help="an inversion encoder (ganpaint.latent.encoders) for this model: "
                   "also judge its guess and the inversion started from it")
    p.add_argument("--strip", help="PNG: target / mean / best random / inverted for the first rows")
    p.add_argument("--strip-rows", type=int, default=6)
    common(p)
    p = sub.add_parser("sheet", help="contact sheet of samples, style mixes and slider sweeps")
    p.add_argument("--model", required=True)
    p.add_argument("--model-b")
    p.add_argument("--out", required=True, help="PNG to write")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--psi", type=float, default=0.7)
    p.add_argument("--samples", type=int, default=10)
    p.add_argument("--mix", type=int, default=3, help="A and B seeds of the style-mix grids")
    p.add_argument("--range", type=float, default=3.0)
    p.add_argument("--sliders", nargs="*", default=[],
                   help="slider rows of --model (default: the faces tool's sliders it has directions for)")
    p.add_argument("--sliders-b", nargs="*", default=[], help="slider rows of --model-b (default: none), e.g. pc0 pc1")
    p.add_argument("--cell", type=int, default=80)
    p.add_argument("--json")
    p = sub.add_parser("snapshot", help="keep the EMA generator of each new checkpoint of a training run")
    p.add_argument("run", help="run folder")
    p.add_argument("--every", type=float, default=120, help="seconds between looks (0 = once)")
    p.add_argument("--dest", help=f"where to keep them (default RUN/{SNAPSHOT_DIR})")
    p.add_argument("--out")
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    fn = {"fd": cmd_fd, "sliders": cmd_sliders, "invert": cmd_invert, "sheet": cmd_sheet, "snapshot": cmd_snapshot}
    rep = fn[args.cmd](args)
    print(rep.get("table", ""))
    out = args.json if args.cmd == "sheet" else args.out
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(rep, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
