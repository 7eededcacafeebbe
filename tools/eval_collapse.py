"""Mode collapse of a StyleGAN2 faces model, in issue 17's own figures (point 1).

    OMP_NUM_THREADS=1 python tools/eval_collapse.py --data DATA/train/render \\
        --model plugins/faces/ganpaint_faces/models/faces-default.safetensors \\
        --checkpoints /work/runs/faces/ft1 --n 1000 --out /work/runs/faces/collapse.json

For every model (store name, model file, checkpoint or run folder; ``--checkpoints RUN``
adds every snapshot of a run, in step order, so the figures form a curve):

deciles  N samples (psi 1, fresh noise: what training matches) are classified by the
         attribute classifier; for every attribute, the edges of the deciles of the *training
         data's* distribution of that attribute (the classifier's predictions on real set A)
         split the samples into ten bins; reported: each bin's share, the smallest share per
         attribute and over all attributes (the issue's target: every bin >= 2 %). Real set B
         through the same edges is the reference (about 10 % each).
fd       Frechet distance in the classifier's 128-d features, samples against real A and B
         (mean), N each; floor FD(A, B) (tools/eval_stylegan.fd_rows).
diversity mean pairwise distance between samples: in classifier features and between 8x8
         thumbnails (pixel values 0..1, the issue's layout figure), each as a ratio to the same
         figure of real set B (1.0 = as varied as the data).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import eval_stylegan as E  # noqa: E402

DECILES = 10
TARGET_SHARE = 0.02


def decile_edges(reference: np.ndarray) -> np.ndarray:
    """(DECILES - 1, K) inner decile edges of each column of ``reference`` (N, K)."""
    qs = np.arange(1, DECILES) / DECILES
    return np.quantile(reference, qs, axis=0)


def decile_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(K, DECILES): the share of rows of ``values`` (N, K) in each decile bin of each column."""
    n, k = values.shape
    out = np.zeros((k, DECILES))
    for j in range(k):
        bins = np.searchsorted(edges[:, j], values[:, j], side="right")
        out[j] = np.bincount(bins, minlength=DECILES)[:DECILES] / max(n, 1)
    return out


def mean_pairwise(x: np.ndarray, max_n: int = 1000) -> float:
    """Mean Euclidean distance over all pairs of rows of ``x`` (N, D) (first ``max_n`` rows)."""
    x = np.asarray(x, np.float64)[:max_n].reshape(min(len(x), max_n), -1)
    sq = (x * x).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0)
    n = len(x)
    return float(np.sqrt(d2)[np.triu_indices(n, 1)].mean()) if n > 1 else 0.0


def thumbs(pics: np.ndarray, side: int = 8) -> np.ndarray:
    """uint8 (N, H, W, 3) -> float (N, side*side*3) area-averaged thumbnails in 0..1."""
    t = torch.from_numpy(pics).permute(0, 3, 1, 2).float() / 255.0
    return torch.nn.functional.adaptive_avg_pool2d(t, side).reshape(len(pics), -1).numpy()


def collapse_row(pics: np.ndarray, judge: E.Judge, edges: np.ndarray, fa: np.ndarray, fb: np.ndarray,
                 ref_div: dict[str, float]) -> dict[str, Any]:
    pred = judge.predict(pics)
    shares = decile_shares(pred, edges)
    feats = judge.features(pics)
    fd = (E.frechet(feats, fa) + E.frechet(feats, fb)) / 2
    div_f, div_t = mean_pairwise(feats), mean_pairwise(thumbs(pics))
    mins = shares.min(1)
    return {"fd": fd, "min_decile_share": float(mins.min()),
            "attributes_meeting_2pct": int((mins >= TARGET_SHARE).sum()),
            "min_share_per_attribute": {n: round(float(m), 4) for n, m in zip(judge.names, mins, strict=True)},
            "decile_shares": {n: [round(float(s), 4) for s in row] for n, row in zip(judge.names, shares, strict=True)},
            "diversity_features": div_f, "diversity_thumbs8": div_t,
            "diversity_features_vs_real": div_f / ref_div["features"],
            "diversity_thumbs8_vs_real": div_t / ref_div["thumbs8"]}


@torch.inference_mode()
def tool_seeds(G: Any, seeds: range, psi: float = 0.7) -> np.ndarray:
    """uint8 (len(seeds), H, W, 3): what the faces tool draws for each seed (one z per seed,
    truncated by ``psi`` towards w_avg, const noise)."""
    S = E.S
    out = []
    for s in seeds:
        w = S.z_to_w(G, S.sample_z(G, 1, s))
        if psi != 1.0:
            w = S.truncate(w, S.w_avg(G), psi)
        out.append(E.to_u8(S.to_pictures(S.synthesize(G, S.broadcast(G, w), noise="const"))))
    return np.concatenate(out)


def contact_sheet(models: list[tuple[str, Any]], out: Path, *, seeds: int = 32, cols: int = 8, psi: float = 0.7,
                  scale: int = 2) -> Path:
    """One block of ``seeds`` pictures (seeds 0 ...) per model, a caption above each."""
    from PIL import Image, ImageDraw

    blocks = []
    for label, G in models:
        pics = tool_seeds(G, range(seeds), psi)
        n, h, w, _ = pics.shape
        rows = -(-n // cols)
        img = Image.new("RGB", (cols * w * scale, rows * h * scale + 16), "white")
        ImageDraw.Draw(img).text((4, 2), f"{label}: seeds 0-{seeds - 1}, psi {psi}", fill="black")
        for i, p in enumerate(pics):
            tile = Image.fromarray(p).resize((w * scale, h * scale), Image.NEAREST)
            img.paste(tile, ((i % cols) * w * scale, 16 + (i // cols) * h * scale))
        blocks.append(img)
    sheet = Image.new("RGB", (max(b.width for b in blocks), sum(b.height + 8 for b in blocks)), "white")
    y = 0
    for b in blocks:
        sheet.paste(b, (0, y))
        y += b.height + 8
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", nargs="*", default=[])
    ap.add_argument("--checkpoints", nargs="*", default=[], help="run folders: every snapshot + the checkpoint")
    ap.add_argument("--data", nargs="+", required=True, help="training pictures (the decile reference)")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--psi", type=float, default=1.0)
    ap.add_argument("--out")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sheet", help="also write a contact sheet (PNG) of seeds 0-31 of every --model (psi 0.7)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    refs = list(args.model) + [str(p) for r in args.checkpoints for p in E.run_checkpoints(r)]
    if not refs:
        raise SystemExit("give --model and/or --checkpoints")
    t0 = time.perf_counter()
    judge = E.classifier_judge(None)
    first = E.load_generator(refs[0])
    size = first.G.size
    real = E.read_pictures(E.pick_files(E.list_pictures(args.data), 2 * args.n, args.seed), size)
    real_a, real_b = real[:args.n], real[args.n:]
    edges = decile_edges(judge.predict(real_a))
    fa, fb = judge.features(real_a), judge.features(real_b)
    ref_div = {"features": mean_pairwise(fb), "thumbs8": mean_pairwise(thumbs(real_b))}
    rows: dict[str, Any] = {}
    real_row = collapse_row(real_b, judge, edges, fa, fb, ref_div)
    real_row["fd"] = E.frechet(fb, fa)  # the floor: FD(B, A)
    rows["real B (reference)"] = real_row
    for i, ref in enumerate(refs):
        ld = first if i == 0 else E.load_generator(ref)
        pics = E.sample_pictures(ld.G, args.n, args.seed + 1, psi=args.psi, noise="random")
        label = ld.label if ld.label not in rows else f"{ld.label} ({ref})"
        rows[label] = {"ref": ref, "step": ld.step, **collapse_row(pics, judge, edges, fa, fb, ref_div)}
        print(f"  {label}: FD {rows[label]['fd']:.3f}  min decile {rows[label]['min_decile_share']:.3f}",
              file=sys.stderr, flush=True)
    if args.sheet:
        contact_sheet([(m, E.load_generator(m).G) for m in args.model], Path(args.sheet))
    lines = [f"Collapse figures, N = {args.n} samples (psi {args.psi}), reference {2 * args.n} training pictures",
             "", "| set | FD | min decile share | attributes with every decile >= 2 % | diversity feat. / real |"
             " 8x8 thumbs / real |", "|---|---|---|---|---|---|"]
    for label, r in rows.items():
        lines.append(f"| {label} | {r['fd']:.3f} | {100 * r['min_decile_share']:.1f} % | "
                     f"{r['attributes_meeting_2pct']}/{len(judge.names)} | {r['diversity_features_vs_real']:.3f} | "
                     f"{r['diversity_thumbs8_vs_real']:.3f} |")
    rep = {"n": args.n, "psi": args.psi, "seed": args.seed, "data": args.data, "attribute_names": list(judge.names),
           "rows": rows, "table": "\n".join(lines), "seconds": time.perf_counter() - t0}
    print(rep["table"])
    if args.out:
        Path(args.out).write_text(json.dumps(rep, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
