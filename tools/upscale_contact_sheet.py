"""Contact sheet of x4 upscales of real photo crops: nearest, bicubic, realesr-animevideov3, realesrgan-x4plus.

Crops (64x64 px, native pixels, no resizing before the upscale) come from photos no GANPaint
model was trained on:

* ``resources/samples/dragonfly.jpg`` ("Dragonfly" by Bolly, CC-BY-SA-4.0, excluded from every
  data set; see resources/samples/CREDITS.md);
* ``Picture_0B_by_freespace.jpg`` (Trevor "Freespace", CC-BY-4.0) and ``Wine_by_Jakkub_Mede.jpg``
  (Jakub Mede, CC-BY-4.0) from Debian's ``lomiri-wallpapers-16.04``: the photos the data
  manifests put in the *test* split (held out). They are read from the data builders' source
  cache (``ganpaint.data.build.sources_cache()``, filled by building a data set; ``--sources``
  names another); without it the sheet uses more dragonfly crops and says so.

Real-ESRGAN's own training data (DF2K, OST) does not include these photos as far as we know.

Columns: the input enlarged by nearest neighbour, bicubic (Pillow), then the two Real-ESRGAN
models through ``spandrel_models.run_image`` (the upscale tool's path), read from the model
store (``GANPAINT_DATA_DIR``; install with ``ganpaint models fetch-realesrgan``).

Printed figures:
* sharpness per column: mean gradient magnitude of the luminance (0-255 scale, central
  differences) over the x4 results of the crops (no reference: higher = more edges, real or not);
* fidelity: a 256x256 region around each crop is reduced x4 (Pillow, box filter), enlarged x4
  back by each method and compared with the original region: PSNR and SSIM (luminance,
  11 px Gaussian window, sigma 1.5, K1 0.01, K2 0.03), and the same sharpness figure of the
  enlarged-back region beside the original region's.

    GANPAINT_DATA_DIR=/tmp/gp-bench .venv/bin/python tools/upscale_contact_sheet.py [-o docs/images/upscale-contact-sheet.png]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
SIDE = 64  # crop side, px (5 rows of 4 x4 cells stay under 1.5 MB as PNG)
REGION = 256  # side of the region reduced and enlarged back for PSNR/SSIM
SCALE = 4
MODELS = ("realesr-animevideov3", "realesrgan-x4plus")
COLUMNS = ("input (nearest x4)", "bicubic x4", "realesr-animevideov3", "realesrgan-x4plus")
LOMIRI = "debian/lomiri-wallpapers-16.04/usr/share/backgrounds"
#: (file, label, crop centre x, y); "sample:" = resources/samples, else the lomiri folder
CROPS = (
    ("sample:dragonfly.jpg", "dragonfly: head and wings", 586, 285),
    ("sample:dragonfly.jpg", "dragonfly: catkins", 700, 410),
    (f"{LOMIRI}/Picture_0B_by_freespace.jpg", "fig (Freespace)", 1480, 930),
    (f"{LOMIRI}/Picture_0B_by_freespace.jpg", "concrete (Freespace)", 760, 1420),
    (f"{LOMIRI}/Wine_by_Jakkub_Mede.jpg", "drum lacing (Mede)", 600, 2420),
)
#: used instead of a lomiri crop when the source cache is absent
FALLBACK = (("sample:dragonfly.jpg", "dragonfly: leaves", 300, 560), ("sample:dragonfly.jpg", "dragonfly: twig", 720, 600),
            ("sample:dragonfly.jpg", "dragonfly: leaf edge", 180, 120))


SOURCES: Path | None = None  #: --sources


def _open(ref: str) -> np.ndarray | None:
    if ref.startswith("sample:"):
        path = ROOT / "resources" / "samples" / ref.split(":", 1)[1]
    else:
        from ganpaint.data.build import sources_cache

        path = (SOURCES or sources_cache()) / ref
    if not path.is_file():
        return None
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def _box(img: np.ndarray, cx: int, cy: int, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    x0 = min(max(0, cx - side // 2), w - side)
    y0 = min(max(0, cy - side // 2), h - side)
    return np.ascontiguousarray(img[y0 : y0 + side, x0 : x0 + side])


def pick_crops() -> tuple[list[tuple[str, np.ndarray, np.ndarray]], list[str]]:
    """(label, SIDE crop, REGION region around it) per row, and notes on what was missing."""
    rows, notes, spare = [], [], list(FALLBACK)
    cache: dict[str, np.ndarray | None] = {}
    for ref, label, cx, cy in CROPS:
        if ref not in cache:
            cache[ref] = _open(ref)
        img = cache[ref]
        if img is None:
            notes.append(f"{ref} not found (build a data set to fill the source cache); a dragonfly crop instead")
            ref, label, cx, cy = spare.pop(0)
            img = cache.setdefault(ref, _open(ref))
            assert img is not None
        rows.append((label, _box(img, cx, cy, SIDE), _box(img, cx, cy, REGION)))
    return rows, notes


# ----------------------------------------------------------------------------- methods
def _pil(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.round(np.clip(a, 0, 1) * 255).astype(np.uint8))


def _arr(im: Image.Image) -> np.ndarray:
    return np.asarray(im, dtype=np.float32) / 255.0


def upscalers() -> dict[str, object]:
    from ganpaint.engine.models import spandrel_models as sm
    from ganpaint.engine.models.store import ModelStore

    found = {e.name: e.path for e in ModelStore().list(tool="upscale")}
    missing = [m for m in MODELS if m not in found]
    if missing:
        sys.exit(f"not installed: {', '.join(missing)}; run `ganpaint models fetch-realesrgan` "
                 "(with the same GANPAINT_DATA_DIR)")
    methods: dict[str, object] = {
        "input (nearest x4)": lambda a: _arr(_pil(a).resize((a.shape[1] * SCALE, a.shape[0] * SCALE),
                                                            Image.Resampling.NEAREST)),
        "bicubic x4": lambda a: _arr(_pil(a).resize((a.shape[1] * SCALE, a.shape[0] * SCALE), Image.Resampling.BICUBIC)),
    }
    for name in MODELS:
        desc = sm.load_spandrel(found[name])
        methods[name] = lambda a, desc=desc: sm.run_image(desc, a.astype(np.float32))
    return methods


# ----------------------------------------------------------------------------- measures
def luma(a: np.ndarray) -> np.ndarray:
    return (np.clip(a, 0, 1) * 255.0) @ np.array([0.299, 0.587, 0.114], np.float32)


def gradient_magnitude(a: np.ndarray) -> float:
    gy, gx = np.gradient(luma(a))
    return float(np.mean(np.hypot(gx, gy)))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((luma(a) - luma(b)) ** 2))
    return float("inf") if mse == 0 else 10 * math.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of the luminance (Wang et al. 2004: Gaussian window 11, sigma 1.5; valid region)."""
    x = torch.from_numpy(luma(a))[None, None].double()
    y = torch.from_numpy(luma(b))[None, None].double()
    t = torch.arange(11, dtype=torch.float64) - 5
    g = torch.exp(-(t**2) / (2 * 1.5**2))
    g = g / g.sum()
    win = (g[:, None] * g[None, :])[None, None]

    def blur(z: torch.Tensor) -> torch.Tensor:
        return F.conv2d(z, win)

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(s.mean())


# ----------------------------------------------------------------------------- sheet
def sheet(rows: list[tuple[str, list[np.ndarray]]]) -> Image.Image:
    cell, gap, head = SIDE * SCALE, 4, 22
    width = len(COLUMNS) * cell + (len(COLUMNS) - 1) * gap
    height = head + len(rows) * (cell + head) + (len(rows) - 1) * gap
    out = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(out)
    for j, title in enumerate(COLUMNS):
        draw.text((j * (cell + gap) + 6, 5), title, fill=(0, 0, 0))
    y = head
    for label, cells in rows:
        draw.text((6, y + 4), label, fill=(60, 60, 60))
        y += head
        for j, a in enumerate(cells):
            out.paste(_pil(a), (j * (cell + gap), y))
        y += cell + gap
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "images" / "upscale-contact-sheet.png")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sources", type=Path, help="the data builders' source cache (default: "
                        "ganpaint.data.build.sources_cache(), which follows GANPAINT_DATA_DIR)")
    args = parser.parse_args(argv)
    global SOURCES
    SOURCES = args.sources
    torch.set_num_threads(args.threads)
    crops, notes = pick_crops()
    methods = upscalers()
    grid: list[tuple[str, list[np.ndarray]]] = []
    sharp: dict[str, list[float]] = {c: [] for c in COLUMNS}
    fid: dict[str, list[tuple[float, float, float]]] = {c: [] for c in COLUMNS}
    for label, crop, region in crops:
        cells = []
        small = _arr(_pil(region).resize((REGION // SCALE, REGION // SCALE), Image.Resampling.BOX))
        for name in COLUMNS:
            fn = methods[name]
            big = fn(crop)  # type: ignore[operator]
            cells.append(big)
            sharp[name].append(gradient_magnitude(big))
            back = fn(small)  # type: ignore[operator]
            fid[name].append((psnr(back, region), ssim(back, region), gradient_magnitude(back)))
        grid.append((label, cells))
        print(f"{label}: " + "; ".join(f"{n} PSNR {fid[n][-1][0]:.2f} SSIM {fid[n][-1][1]:.3f}" for n in COLUMNS),
              flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    sheet(grid).save(args.output, optimize=True)
    print(f"\nwrote {args.output} ({args.output.stat().st_size / 1e6:.2f} MB), {len(grid)} crops of {SIDE} px")
    for n in notes:
        print("note:", n)
    original = float(np.mean([gradient_magnitude(r) for _, _, r in crops]))
    print(f"\n| column | sharpness: x4 of the {SIDE} px crops | {REGION} px regions reduced x4 and enlarged back: "
          f"sharpness (original {original:.2f}) | PSNR (dB) | SSIM |")
    print("|---|---|---|---|---|")
    for n in COLUMNS:
        p, s, g = (float(np.mean([f[i] for f in fid[n]])) for i in range(3))
        print(f"| {n} | {np.mean(sharp[n]):.2f} | {g:.2f} | {p:.2f} | {s:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
