"""Precompute training samples for a guided inpainting generator: (picture, hole, guide fill).

    python tools/inpaint_pool.py --data ~/.cache/ganpaint/data/inpaint --out POOL.npz --count 3000 --seed 1

The guide (OpenCV's frequency selective reconstruction, ganpaint.nn.inpaint_guide) costs about
0.3 s per 160 px picture on one core, far more than a training step, so a training run
(tools/train_inpaint.py --pool) draws from pools made ahead, in parallel processes. Each sample:
a training picture (``DATA/train/photo`` with probability ``--photo-share``, else
``DATA/train/scene``; never ``DATA/test``), scaled so its side is 160-256 px, a random 160 px
crop turned by a multiple of 90 degrees and maybe mirrored, a random hole from
ganpaint.train.masks (8-40 %, 35 % boxes), and the guide's fill of that hole computed exactly
as the generator computes it (8-bit picture, hole pixels zeroed). Written as one .npz with
uint8 arrays ``x`` (N, 160, 160, 3), ``m`` (N, 160, 160: 1 = hole) and ``g`` (like ``x``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

CROP = 160


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="a `ganpaint data build inpaint` folder")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--photo-share", type=float, default=0.8)
    ap.add_argument("--guide", default="fsr")
    args = ap.parse_args(argv)

    from ganpaint.nn.inpaint_guide import MISSING, fsr_fill_u8, guide_available
    from ganpaint.train.masks import random_mask

    if args.guide != "fsr" or not guide_available(args.guide):
        raise SystemExit(f"inpaint_pool: guide {args.guide!r} cannot be computed here ({MISSING})")
    import cv2

    cv2.setNumThreads(1)
    photos = sorted((args.data / "train" / "photo").glob("*.png"))
    scenes = sorted((args.data / "train" / "scene").glob("*.png"))
    if not photos or not scenes:
        raise SystemExit(f"inpaint_pool: no training pictures in {args.data / 'train'} (ganpaint data build inpaint)")
    rng = np.random.default_rng(args.seed)
    n = args.count
    xs = np.zeros((n, CROP, CROP, 3), np.uint8)
    ms = np.zeros((n, CROP, CROP), np.uint8)
    gs = np.zeros((n, CROP, CROP, 3), np.uint8)
    t0 = time.time()
    i = 0
    while i < n:
        src = photos if rng.random() < args.photo_share else scenes
        with Image.open(src[int(rng.integers(len(src)))]) as im:
            im = im.convert("RGB")
            side = int(rng.integers(CROP, max(CROP, min(im.size)) + 1))
            if side != min(im.size):
                im = im.resize((side, side), Image.Resampling.LANCZOS)
            pic = np.asarray(im)
        y, x = (int(rng.integers(0, s - CROP + 1)) for s in pic.shape[:2])
        crop = np.rot90(pic[y:y + CROP, x:x + CROP], int(rng.integers(4)))
        crop = np.ascontiguousarray(crop[:, ::-1] if rng.random() < 0.5 else crop)
        hole = random_mask(rng, CROP, CROP, coverage=(0.08, 0.4), box_share=0.35) > 0.5
        fill = fsr_fill_u8(crop, hole)
        if fill is None:  # FSR refused this picture: draw another
            continue
        xs[i], ms[i], gs[i] = crop, hole, fill
        i += 1
        if i % 250 == 0:
            print(f"{i}/{n} {time.time() - t0:.0f} s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, x=xs, m=ms, g=gs)
    print(f"inpaint_pool: {n} samples in {time.time() - t0:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
