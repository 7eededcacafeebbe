"""The scenes default (style mixing) in issue 17's own figures (point 4).

    OMP_NUM_THREADS=1 python tools/eval_scenes.py \\
        --model plugins/stylemix/ganpaint_stylemix/models/scenes-default.safetensors \\
        --encoder plugins/stylemix/ganpaint_stylemix/models/encoders/scenes-default.safetensors \\
        --data ~/.cache/ganpaint/data/scenes-renders --out scenes-eval.json --sheet scenes-invert.png

layout   mean pairwise distance between 8x8 thumbnails (area averages, values 0..1) of N samples
         (psi 1, fresh noise) and of N training pictures (``--data``); the issue's target: the
         samples' figure at least half the data's. Also the same ratio at 16x16, and "structure":
         the ratio for 8x8 luminance thumbnails each standardised to mean 0 and spread 1, so
         palette and brightness drop out and only where things are (horizon, peaks, trees) counts.
invert   held-out real photographs: square crops of the photos that ``split_photos`` puts in
         "test" (no default model ever trains on them), ``--crops`` per photo at seeded places and
         scales, brought to the generator's size. For each: PSNR/SSIM of the inversion (the
         plugin's own ``invert``, from the shipped encoder's guess when ``--encoder`` is given, else
         from the mean latent) against the "16 px thumbnail" baseline: the crop area-averaged to
         16x16 and scaled back up (bicubic). Target: inversion above the thumbnail.
         ``--tune N`` adds the tools' detail matching (pivotal tuning, ``ganpaint.latent.
         pivotal_tuning``): a copy of the generator tuned N steps to each crop at the inverted
         latent, reported beside the inversion alone ("W+" and "W+ and tuning" rows).

Several ``--model`` values are judged in one run (same crops, same samples' seeds).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import eval_collapse as C  # noqa: E402
import eval_stylegan as E  # noqa: E402

from ganpaint.nn import stylegan_sampling as S  # noqa: E402

LAYOUT_TARGET = 0.5


def held_out_photos(cache: Path | None = None) -> list[tuple[str, Path]]:
    """(id, path) of the real photographs in the "test" split (sorted by id)."""
    from ganpaint.data.photos import split_photos
    from ganpaint.data.sources import fetch_sources

    src = fetch_sources(cache or (Path.home() / ".cache/ganpaint/data"), clipart=False)
    split = split_photos(src.photos)
    return sorted((p.id, p.path) for p in src.photos if split[p.id] == "test")


def photo_crops(photos: list[tuple[str, Path]], per_photo: int, size: int, seed: int = 0
                ) -> tuple[np.ndarray, list[str]]:
    """float (n, size, size, 3) in 0..1: ``per_photo`` square crops of each photo, side 40-100 %
    of its short side at a seeded place, area-resized to ``size``."""
    rng = np.random.default_rng(seed)
    out, names = [], []
    for pid, path in photos:
        with Image.open(path) as im:
            im = im.convert("RGB")
            im.draft("RGB", (1024, 1024))
            w, h = im.size
            for k in range(per_photo):
                side = int(min(w, h) * rng.uniform(0.4, 1.0))
                x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
                crop = im.crop((x, y, x + side, y + side)).resize((size, size), Image.Resampling.BOX)
                out.append(np.asarray(crop, np.float32) / 255.0)
                names.append(f"{pid}#{k}")
    return np.stack(out), names


def thumbnail_baseline(targets: np.ndarray, side: int = 16) -> np.ndarray:
    """Each target area-averaged to side x side and scaled back up with bicubic resampling."""
    out = []
    for t in targets:
        im = Image.fromarray(E.to_u8(t))
        small = im.resize((side, side), Image.Resampling.BOX)
        out.append(np.asarray(small.resize(im.size, Image.Resampling.BICUBIC), np.float32) / 255.0)
    return np.stack(out)


def structure_thumbs(pics_u8: np.ndarray, side: int = 8) -> np.ndarray:
    """(N, side*side): luminance thumbnails, each standardised (mean 0, spread 1; flat ones stay 0)."""
    rgb = C.thumbs(pics_u8, side).reshape(len(pics_u8), 3, side * side)  # channels first
    t = np.einsum("ncp,c->np", rgb, np.array([0.299, 0.587, 0.114]))
    t = t - t.mean(1, keepdims=True)
    return t / np.maximum(t.std(1, keepdims=True), 1e-3)


def layout_figures(G: Any, real_u8: np.ndarray, n: int, seed: int) -> dict[str, float]:
    pics = E.sample_pictures(G, n, seed, psi=1.0, noise="random")
    out: dict[str, float] = {}
    for side in (8, 16):
        s, r = C.mean_pairwise(C.thumbs(pics, side)), C.mean_pairwise(C.thumbs(real_u8, side))
        out[f"thumb{side}_samples"], out[f"thumb{side}_data"], out[f"thumb{side}_ratio"] = s, r, s / r
    s, r = C.mean_pairwise(structure_thumbs(pics)), C.mean_pairwise(structure_thumbs(real_u8))
    out["structure_samples"], out["structure_data"], out["structure_ratio"] = s, r, s / r
    return out


def judge(gen: Any, ws: torch.Tensor, target: np.ndarray, psnrs: list[float], ssims: list[float],
          sheet_row: list[np.ndarray] | None) -> np.ndarray:
    """``gen``'s picture of the latent ``ws``, scored against ``target`` (PSNR, SSIM appended)
    and added to the contact sheet's row when there is one."""
    with torch.inference_mode():
        rec = E.to_float(S.to_pictures(S.synthesize(gen, ws, noise="const")))[0]
    psnrs.append(E.psnr(rec, target))
    ssims.append(E.ssim(rec, target))
    if sheet_row is not None:
        sheet_row.append(rec)
    return rec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", nargs="+", required=True, help="store names, model files or checkpoints")
    ap.add_argument("--encoder", nargs="*", default=[], help="an encoder file per --model ('-' for none)")
    ap.add_argument("--label", nargs="*", default=[], help="a name per --model for the table and sheet")
    ap.add_argument("--data", nargs="+", required=True, help="training pictures (the layout reference)")
    ap.add_argument("--n", type=int, default=1000, help="samples and training pictures for the layout figure")
    ap.add_argument("--crops", type=int, default=8, help="crops per held-out photo")
    ap.add_argument("--steps", type=int, default=200, help="inversion steps (the plugin's default)")
    ap.add_argument("--tune", type=int, default=0,
                    help="also report the tools' detail matching: N pivotal-tuning steps (the tools' default: 200)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip", nargs="*", default=[], choices=("layout", "invert"))
    ap.add_argument("--out")
    ap.add_argument("--sheet", help="PNG: target / thumbnail / inversion per model, first 8 crops")
    ap.add_argument("--mix-sheet", help="PNG (with --tune): style mixes of the first 4 crops with seed B = 1 and 2, "
                    "coarse and fine styles from B, synthesised by the model and by the tuned copy")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    from ganpaint.latent.inversion import invert

    encoders = args.encoder + ["-"] * (len(args.model) - len(args.encoder))
    real_files = E.pick_files(E.list_pictures(args.data), args.n, args.seed)
    rep: dict[str, Any] = {"models": {}, "n": args.n, "steps": args.steps, "crops_per_photo": args.crops}
    sheet_rows: list[list[np.ndarray]] = []
    mix_sections: list[Any] = []
    heads = ["target", "16 px thumbnail"]
    targets = None
    for ref, enc_path in zip(args.model, encoders, strict=True):
        ld = E.load_generator(ref)
        G = ld.G
        label = args.label[len(rep["models"])] if len(args.label) > len(rep["models"]) else ld.label
        row: dict[str, Any] = {"label": label}
        if "layout" not in args.skip:
            row.update(layout_figures(G, E.read_pictures(real_files, G.size), args.n, args.seed))
        if "invert" not in args.skip:
            if targets is None:
                photos = held_out_photos()
                targets, names = photo_crops(photos, args.crops, G.size, args.seed)
                thumbs = thumbnail_baseline(targets)
                rep["held_out_photos"] = [p for p, _ in photos]
                rep["crops"] = names
                rep["thumbnail_psnr"] = [E.psnr(a, b) for a, b in zip(thumbs, targets, strict=True)]
                rep["thumbnail_ssim"] = [E.ssim(a, b) for a, b in zip(thumbs, targets, strict=True)]
                sheet_rows = [[t, b] for t, b in zip(targets[:8], thumbs[:8], strict=True)]
            encoder = None
            if enc_path != "-":
                from ganpaint.latent.encoders import load_encoder

                encoder = load_encoder(enc_path)
            ps, ss, tps, tss = [], [], [], []
            for i, tgt in enumerate(targets):
                init = None
                if encoder is not None:
                    with torch.inference_mode():
                        x = torch.from_numpy(np.ascontiguousarray(tgt)).permute(2, 0, 1)[None].mul(2).sub(1)
                        init = S.broadcast(G, encoder(x.float()).to(G.input.input)).clone()
                state = invert(G, tgt, steps=args.steps, init_ws=init)
                row_cells = sheet_rows[i] if i < len(sheet_rows) else None
                rec = judge(G, state.ws, tgt, ps, ss, row_cells)
                if args.tune > 0:
                    from ganpaint.latent.pivotal_tuning import tune

                    tuned = tune(G, state.ws, tgt, steps=args.tune).G
                    rec_t = judge(tuned, state.ws, tgt, tps, tss, row_cells)
                    if args.mix_sheet and i < 4:
                        if i == 0:
                            mix_sections.append((label, [], ["target", "model", "tuned copy"] + [
                                f"{who} B{b} {pre}" for b in (1, 2) for pre in ("coarse", "fine")
                                for who in ("model", "tuned")]))
                        cells = [tgt, rec, rec_t]
                        for b in (1, 2):
                            with torch.inference_mode():
                                ws_b = S.broadcast(G, S.z_to_w(G, S.sample_z(G, 1, b)))
                            for pre in ("coarse", "fine"):
                                lo, hi = S.style_groups(G)[pre]
                                ws = state.ws.clone()
                                ws[:, lo:hi] = ws_b[:, lo:hi]
                                for gen in (G, tuned):
                                    with torch.inference_mode():
                                        cells.append(E.to_float(S.to_pictures(S.synthesize(gen, ws)))[0])
                        mix_sections[-1][1].append((rep["crops"][i], cells))
            thumb = np.array(rep["thumbnail_psnr"])
            row.update({"invert_psnr": ps, "invert_ssim": ss, "invert_psnr_mean": float(np.mean(ps)),
                        "invert_ssim_mean": float(np.mean(ss)),
                        "beats_thumbnail": int(np.sum(np.array(ps) > thumb))})
            heads.append(f"{label} W+")
            if args.tune > 0:
                row.update({"tune_steps": args.tune, "tuned_psnr": tps, "tuned_ssim": tss,
                            "tuned_psnr_mean": float(np.mean(tps)), "tuned_ssim_mean": float(np.mean(tss)),
                            "tuned_beats_thumbnail": int(np.sum(np.array(tps) > thumb))})
                heads.append(f"+ tuning {args.tune}")
        rep["models"][ref] = row
        print(f"{label}: done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    lines = ["| model | 8x8 thumbs: samples / data | 16x16 | structure | inversion PSNR dB | SSIM | beats thumbnail |",
             "|---|---|---|---|---|---|---|"]
    if "thumbnail_psnr" in rep:
        lines.append(f"| 16 px thumbnail (baseline) | | | | {np.mean(rep['thumbnail_psnr']):.2f} | "
                     f"{np.mean(rep['thumbnail_ssim']):.3f} | |")
    for row in rep["models"].values():
        lay = (f"{row['thumb8_ratio']:.3f} ({row['thumb8_samples']:.3f} / {row['thumb8_data']:.3f}) | "
               f"{row['thumb16_ratio']:.3f} | {row['structure_ratio']:.3f}") if "thumb8_ratio" in row else " | | "
        inv = (f"{row['invert_psnr_mean']:.2f} | {row['invert_ssim_mean']:.3f} | "
               f"{row['beats_thumbnail']}/{len(row['invert_psnr'])}") if "invert_psnr" in row else " | | "
        lines.append(f"| {row['label']}{' (W+)' if 'invert_psnr' in row else ''} | {lay} | {inv} |")
        if "tuned_psnr" in row:
            lines.append(f"| {row['label']} (W+ and {row['tune_steps']} tuning steps) | | | | "
                         f"{row['tuned_psnr_mean']:.2f} | {row['tuned_ssim_mean']:.3f} | "
                         f"{row['tuned_beats_thumbnail']}/{len(row['tuned_psnr'])} |")
    rep["table"] = "\n".join(lines)
    rep["seconds"] = time.perf_counter() - t0
    print(rep["table"])
    if args.sheet and sheet_rows:
        E.grid_sheet([("", [(rep["crops"][i], r) for i, r in enumerate(sheet_rows)], heads)], Path(args.sheet),
                     cell=96, title=f"Held-out real photos: inversion ({args.steps} steps) vs the 16 px thumbnail")
    if args.mix_sheet and mix_sections:
        E.grid_sheet(mix_sections, Path(args.mix_sheet), cell=72,
                     title="Held-out real photos: style mixes of the inverted photo with seeds 1 and 2, "
                           f"by the model and by its copy tuned {args.tune} steps")
    if args.out:
        Path(args.out).write_text(json.dumps(rep, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
