"""Build the inpainting training folder and the held-out judging set.

    python tools/inpaint_data.py --out DIR --lomiri UNPACKED_DEB --skimage WHEEL_DIR --sklearn WHEEL_DIR
                                 [--clipart UNPACKED_DEB] [--scenes 800] [--clip 400]

Used when engineer I's ``ganpaint data build inpaint`` is not available. Sources (all
permissive; share-alike photos are skipped by licence, read from the Debian copyright file):

* Debian ``lomiri-wallpapers-16.04`` photos under CC0-1.0 or CC-BY-4.0 (``apt-get download`` +
  ``dpkg -x``); scikit-image's sample photos stated CC0 / public domain; scikit-learn's two
  sample photos (CC-BY-4.0 per its documentation);
* procedural landscapes from ``ganpaint.data.landscape`` (ours, CC0);
* Debian ``openclipart-svg`` drawings (public domain) rendered with ``ganpaint.data.clipart``.

Whole photos in HELD_OUT never reach the training folder: ``DIR/heldout/photos`` keeps them for
tools/eval_inpaint.py, which also renders procedural scenes from seeds disjoint from training.
Writes ``DIR/train/{photo,scene,clip}/*.png`` and ``DIR/manifest.json`` (file, source, author,
licence).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

#: whole photos kept out of training (judging only): two wallpapers, one scikit-image, one scikit-learn
HELD_OUT = ("life_by_Aitzol_Berasategi.jpg", "Wine_by_Jakkub_Mede.jpg", "coffee.png", "china.jpg")
OK_LICENCES = ("CC0-1.0", "CC-BY-4.0")
SKIMAGE_PHOTOS = {  # colour photos whose docstring in skimage/data/_fetchers.py says CC0 / public domain
    "astronaut.png": ("NASA", "public domain"),
    "chelsea.png": ("Stefan van der Walt", "CC0-1.0"),
    "coffee.png": ("Rachel Michetti", "CC0-1.0"),
    "rocket.jpg": ("SpaceX", "public domain"),
}
SKLEARN_PHOTOS = {"china.jpg": ("scikit-learn sample image", "CC-BY-4.0"),
                  "flower.jpg": ("scikit-learn sample image", "CC-BY-4.0")}
CROP = 160          # training pictures; the recipe crops 128 from them after scale jitter
SCENE_SEED0 = 0     # training scenes use seeds SCENE_SEED0 .. + n; judging uses 1_000_000 + k


def lomiri_photos(root: Path) -> list[tuple[Path, str, str]]:
    """(file, author, licence) of the permissively licensed lomiri wallpapers."""
    text = (root / "usr/share/doc/lomiri-wallpapers-16.04/copyright").read_text()
    out = []
    for block in text.split("\n\n"):
        m = re.search(r"Files: 16\.04/(\S+)\nCopyright: (.+)\nLicense: (\S+)", block)
        if m and m.group(3) in OK_LICENCES:
            path = root / "usr/share/backgrounds" / m.group(1)
            if path.exists():
                out.append((path, m.group(2).strip(), m.group(3)))
    return out


def photo_crops(img: Image.Image, rng: np.random.Generator, per_scale: int) -> list[Image.Image]:
    """Random CROP-px crops at several scales (shorter side 256 .. full)."""
    crops = []
    short = min(img.size)
    for target in (256, 420, 700, short):
        if target > short:
            continue
        s = target / short
        im = img.resize((max(CROP, round(img.width * s)), max(CROP, round(img.height * s))), Image.Resampling.LANCZOS)
        for _ in range(per_scale):
            x = int(rng.integers(0, im.width - CROP + 1))
            y = int(rng.integers(0, im.height - CROP + 1))
            crops.append(im.crop((x, y, x + CROP, y + CROP)))
    return crops


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--lomiri", type=Path, help="unpacked lomiri-wallpapers-16.04 .deb (dpkg -x)")
    ap.add_argument("--skimage", type=Path, help="unpacked scikit-image wheel")
    ap.add_argument("--sklearn", type=Path, help="unpacked scikit-learn wheel")
    ap.add_argument("--clipart", type=Path, help="unpacked openclipart-svg .deb")
    ap.add_argument("--scenes", type=int, default=800)
    ap.add_argument("--clip", type=int, default=400)
    ap.add_argument("--per-scale", type=int, default=30)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    train = args.out / "train"
    held = args.out / "heldout" / "photos"
    for d in (train / "photo", train / "scene", held):
        d.mkdir(parents=True, exist_ok=True)
    manifest: list[dict[str, str]] = []

    photos: list[tuple[Path, str, str]] = []
    if args.lomiri:
        photos += lomiri_photos(args.lomiri)
    if args.skimage:
        photos += [(args.skimage / "skimage/data" / n, a, lic) for n, (a, lic) in SKIMAGE_PHOTOS.items()]
    if args.sklearn:
        photos += [(args.sklearn / "sklearn/datasets/images" / n, a, lic) for n, (a, lic) in SKLEARN_PHOTOS.items()]
    for path, author, licence in photos:
        if not path.exists():
            print("missing", path)
            continue
        entry = {"source": path.name, "author": author, "licence": licence}
        if path.name in HELD_OUT:
            shutil.copy(path, held / path.name)
            manifest.append({"file": f"heldout/photos/{path.name}", **entry, "split": "held-out"})
            continue
        with Image.open(path) as src:
            img = src.convert("RGB")
        for k, crop in enumerate(photo_crops(img, rng, args.per_scale)):
            name = f"photo/{path.stem}-{k:03d}.png"
            if not (train / name).exists():  # re-runs only complete what is missing
                crop.save(train / name)
            manifest.append({"file": f"train/{name}", **entry, "split": "train"})
        print("photo", path.name, flush=True)

    from ganpaint.data.landscape import Scene, render

    for s in range(SCENE_SEED0, SCENE_SEED0 + args.scenes):
        name = f"scene/scene-{s:05d}.png"
        if not (train / name).exists():
            pic = render(Scene.random(s), "summer" if s % 4 else "winter", CROP)
            Image.fromarray((np.clip(pic, 0, 1) * 255 + 0.5).astype(np.uint8)).save(train / name)
        manifest.append({"file": f"train/{name}", "source": f"ganpaint.data.landscape seed {s}",
                         "author": "GANPaint developers", "licence": "CC0-1.0", "split": "train"})
    print("scenes done", flush=True)

    if args.clipart and args.clip:
        from ganpaint.data.clipart import ClipartError, render_pair

        files = sorted((args.clipart / "usr/share/openclipart/svg").rglob("*.svg"))
        order = np.random.default_rng(1).permutation(len(files))
        made = 0
        for i in order:
            if made >= args.clip:
                break
            try:
                pair = render_pair(files[i].read_bytes(), size=CROP, margin=4)
            except (ClipartError, OSError):
                continue
            name = f"clip/clip-{made:04d}.png"
            (train / "clip").mkdir(exist_ok=True)
            Image.fromarray((np.clip(pair.colour, 0, 1) * 255 + 0.5).astype(np.uint8)).save(train / name)
            manifest.append({"file": f"train/{name}", "source": f"openclipart-svg {files[i].relative_to(args.clipart)}",
                             "author": "Openclipart contributors", "licence": "public domain", "split": "train"})
            made += 1
        print("clipart done", made, flush=True)
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
