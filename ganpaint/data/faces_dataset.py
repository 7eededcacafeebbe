"""The "faces" dataset: procedural cartoon faces + Noto emoji heads, labelled.

Layout (``ganpaint data build faces``; folders ``ganpaint.train.load_data`` reads)::

    train/render/r-000123.png   test/render/...   (render i: seed derive_seed(seed, "faces", i))
    train/emoji/e-<codepoints>-<v>.png  test/emoji/...  (each head on ``variants`` backgrounds)
    faces-<size>.npz   images uint8 (N, s, s, 3), labels float32 (N, A) (NaN = unknown),
                       names, kinds, split (0 train / 1 test), source (0 render / 1 emoji),
                       seeds (render seed, -1 for emoji), files
    labels.json        the attribute table, emoji labels (skin, age group, hair, beard, gender)
    manifest.json      attribution (ganpaint.data.manifest), build.json timing

Held out: the last 10 % of the renders, and the emoji heads whose key hashes into the
test 15 % (all backgrounds of one head on the same side).
"""

from __future__ import annotations

import colorsys
import hashlib
import json
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ganpaint._version import __version__
from ganpaint.core.atomic import atomic_write_text
from ganpaint.data import emoji, faces
from ganpaint.data.manifest import Entry, Manifest, SourceRecord

NAME = "faces"
DEFAULT_COUNT = 20000
DEFAULT_SIZE = 64
TEST_FRACTION = 0.1
EMOJI_TEST_PERCENT = 15
EMOJI_VARIANTS = 4
RENDERER = SourceRecord("ganpaint:faces", "generated", __version__, notes="ganpaint.data.faces (cartoon faces)")
EMOJI_AUTHOR = "Google Inc. and contributors (Noto Emoji)"
EMOJI_LICENCE = "Apache-2.0 (artwork); OFL-1.1 (font file)"
Progress = Callable[[int, int, str], None]


def _seed(seed: int, tag: str, i: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}/{tag}/{i}".encode()).digest()[:4], "little")


def emoji_split(key: str) -> str:
    rank = int(hashlib.sha256(f"faces-emoji-split-v1:{key}".encode()).hexdigest()[:8], 16)
    return "test" if rank % 100 < EMOJI_TEST_PERCENT else "train"


def emoji_background(key: str, v: int) -> tuple[tuple[float, float, float], float]:
    """A background like the renders' (soft colour, lightness = the background label)."""
    r = np.random.default_rng(_seed(0, f"emoji-bg/{key}", v)).random(3)
    light = float(r[0])
    rgb = colorsys.hls_to_rgb(float(r[1]), 0.12 + 0.78 * light, 0.15 + 0.4 * float(r[2]))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2])), light


def _render_chunk(job: tuple[list[int], int]) -> tuple[np.ndarray, np.ndarray]:
    seeds, size = job
    return faces.render_batch(seeds, size)


def _save(path: Path, img: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path, compress_level=6)


def build_faces(out: Path, *, seed: int = 0, count: int | None = None, size: int | None = None,
                workers: int = 1, progress: Progress | None = None, font_cache: Path | None = None,
                variants: int = EMOJI_VARIANTS, with_emoji: bool = True) -> Any:
    """Build the dataset into ``out``; returns ganpaint.data.build.BuildResult."""
    from ganpaint.data.build import BuildError, BuildResult, _prepare, sources_cache

    n = DEFAULT_COUNT if count is None else count
    size = DEFAULT_SIZE if size is None else size
    if n < 2:
        raise BuildError(f"faces needs at least 2 renders, not {n}")
    if size not in (32, 64, 128, 256):
        raise BuildError(f"faces are built at 32, 64, 128 or 256 px, not {size}")
    t0 = time.perf_counter()
    out = Path(out)
    _prepare(out)
    m = Manifest(NAME, params={"seed": seed, "count": n, "size": size, "emoji_variants": variants,
                               "builder": f"ganpaint {__version__}"})
    m.add_source(RENDERER)

    heads: list[emoji.EmojiHead] = []
    font: Path | None = None
    if with_emoji:
        cache = font_cache or sources_cache()
        try:
            font, pkg = emoji.fetch_font(cache)
        except Exception as exc:
            raise BuildError(f"cannot get the emoji font ({exc}); run 'apt-get update', or copy "
                             f"{emoji.PACKAGE}_*.deb into {cache / 'debs'}") from None
        heads = emoji.heads(font)
        lic = emoji.licences(pkg.root)
        m.add_source(SourceRecord(f"debian:{emoji.PACKAGE}", "debian", pkg.version, pkg.file, pkg.sha256,
                                  licence_file=emoji.COPYRIGHT_FILE,
                                  notes="; ".join(f"{x['part']}: {x['licence']} ({x['source']})" for x in lic)))

    # ---- renders
    n_test = max(1, int(round(n * TEST_FRACTION)))
    seeds = [_seed(seed, "faces", i) for i in range(n)]
    r_split = np.array([0] * (n - n_test) + [1] * n_test, np.uint8)
    chunk = 200
    jobs = [(seeds[i:i + chunk], size) for i in range(0, n, chunk)]
    images = np.empty((n, size, size, 3), np.uint8)
    labels = np.empty((n, len(faces.ATTRIBUTES)), np.float32)

    def results() -> Any:
        if workers <= 1:
            yield from map(_render_chunk, jobs)
            return
        with ProcessPoolExecutor(max_workers=workers) as pool:
            yield from pool.map(_render_chunk, jobs)

    done = 0
    files: list[str] = []
    for k, (imgs, labs) in enumerate(results()):
        i0 = k * chunk
        images[i0:i0 + len(imgs)] = imgs
        labels[i0:i0 + len(imgs)] = labs
        for j, img in enumerate(imgs):
            i = i0 + j
            rel = f"{'test' if r_split[i] else 'train'}/render/r-{i:06d}.png"
            _save(out / rel, img)
            files.append(rel)
        done += len(imgs)
        if progress:
            progress(done, n, "faces")
    for which, flag in (("train", 0), ("test", 1)):
        idx = np.flatnonzero(r_split == flag)
        m.add(Entry(f"faces.render(derive_seed({seed}, 'faces', i)), {idx[0]} <= i <= {idx[-1]}",
                    "GANPaint procedural renderer", "generated by GANPaint (no third-party content)",
                    RENDERER.id, [files[i] for i in idx], which))
        m.counts[f"{which}/render"] = int(len(idx))

    # ---- emoji heads
    e_images, e_labels, e_split, e_files, e_records = [], [], [], [], []
    col = {a: j for j, a in enumerate(faces.ATTRIBUTE_NAMES)}
    for h_i, head in enumerate(heads):
        split = emoji_split(head.key)
        attrs = head.labels.as_attributes()
        head_files = []
        for v in range(variants):
            bg, light = emoji_background(head.key, v)
            img = (emoji.render_head(font, head, size, bg) * 255 + 0.5).astype(np.uint8)  # type: ignore[arg-type]
            row = np.full(len(faces.ATTRIBUTES), np.nan, np.float32)
            for name, val in {**attrs, "background": light}.items():
                row[col[name]] = val
            rel = f"{split}/emoji/e-{head.key}-{v}.png"
            _save(out / rel, img)
            e_images.append(img)
            e_labels.append(row)
            e_split.append(1 if split == "test" else 0)
            e_files.append(rel)
            head_files.append(rel)
            e_records.append({"file": rel, **emoji.head_record(head), "background": round(light, 4)})
        m.add(Entry(f"{emoji.FONT_FILE} glyph {' '.join(f'U+{ord(c):04X}' for c in head.text)}",
                    EMOJI_AUTHOR, EMOJI_LICENCE, f"debian:{emoji.PACKAGE}", head_files, split, head.name))
        m.counts[f"{split}/emoji"] = m.counts.get(f"{split}/emoji", 0) + variants
        if progress and (h_i % 20 == 19 or h_i == len(heads) - 1):
            progress(h_i + 1, len(heads), "emoji heads")
    m.counts["emoji_heads"] = len(heads)

    # ---- arrays + labels
    ne = len(e_images)
    all_images = np.concatenate([images, np.stack(e_images)]) if ne else images
    all_labels = np.concatenate([labels, np.stack(e_labels)]) if ne else labels
    np.savez(out / f"faces-{size}.npz", images=all_images, labels=all_labels,
             names=np.array(faces.ATTRIBUTE_NAMES), kinds=np.array([a.kind for a in faces.ATTRIBUTES]),
             split=np.concatenate([r_split, np.array(e_split, np.uint8)]),
             source=np.concatenate([np.zeros(n, np.uint8), np.ones(ne, np.uint8)]),
             seeds=np.concatenate([np.array(seeds, np.int64), -np.ones(ne, np.int64)]),
             files=np.array(files + e_files))
    table = {
        "format": "ganpaint-faces-labels/1",
        "size": size,
        "attributes": [{"name": a.name, "kind": a.kind, "low": a.low, "high": a.high, "doc": a.doc}
                       for a in faces.ATTRIBUTES],
        "emoji_attribute_map": {
            "skin_tone": {k: v for k, v in emoji.FITZPATRICK_TONE.items()},
            "age": "baby/child -> 0, older -> 1, adult -> unknown",
            "hair_length": "bald -> 0", "hair_light": "white -> 1, blond -> 0.85", "hair_red": "red -> 1",
            "beard": "bearded person -> 1, else 0", "background": "the lightness drawn for the variant",
        },
        "emoji": e_records,
    }
    atomic_write_text(out / "labels.json", json.dumps(table, indent=1) + "\n")
    path = m.write(out)
    seconds = time.perf_counter() - t0
    nbytes = sum(f.stat().st_size for f in out.rglob("*.png"))
    (out / "build.json").write_text(json.dumps({"seconds": round(seconds, 1), "workers": workers,
                                                "png_files": n + ne, "bytes": nbytes,
                                                "manifest": path.name}, indent=1) + "\n")
    return BuildResult(NAME, out, m, seconds, dict(m.counts), nbytes)


def load_faces(folder: Path | str, size: int = DEFAULT_SIZE) -> dict[str, np.ndarray]:
    """The arrays of a built dataset (see the module doc); a clear error when missing."""
    p = Path(folder) / f"faces-{size}.npz"
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no faces dataset at {size} px here (run 'ganpaint data build faces')")
    with np.load(p) as z:
        return {k: z[k] for k in z.files}


# --------------------------------------------------------------------------- contact sheet


def _label_lines(row: np.ndarray) -> list[str]:
    v = dict(zip(faces.ATTRIBUTE_NAMES, row.tolist(), strict=True))
    flags = " ".join(k for k in ("glasses", "beard") if v[k] >= 0.5) or "-"
    return [f"smile{v['smile']:+.1f} eyes {v['eyes_open']:.1f}",
            f"hair L{v['hair_light']:.1f} R{v['hair_red']:.1f} len{v['hair_length']:.1f}",
            f"skin {v['skin_tone']:.1f} age {v['age']:.1f}",
            f"turn{v['head_turn']:+.1f} bg {v['background']:.1f}",
            flags]


def contact_sheet(folder: Path | str, out: Path | str, *, size: int = DEFAULT_SIZE, renders: int = 24,
                  heads: int = 16, cols: int = 8, scale: int = 2) -> Path:
    """A PNG of test renders with their labels, then emoji heads with theirs (pixels as built,
    enlarged ``scale`` times without smoothing)."""
    from PIL import ImageDraw, ImageFont

    data = load_faces(folder, size)
    table = json.loads((Path(folder) / "labels.json").read_text(encoding="utf-8"))
    by_file = {e["file"]: e for e in table["emoji"]}
    r_idx = np.flatnonzero((data["source"] == 0) & (data["split"] == 1))[:renders]
    e_all = np.flatnonzero(data["source"] == 1)
    e_idx = e_all[np.linspace(0, len(e_all) - 1, min(heads, len(e_all))).astype(int)] if len(e_all) else e_all
    tile, text_h = size * scale, 62
    font = ImageFont.load_default()
    items = [(i, _label_lines(data["labels"][i])) for i in r_idx]
    for i in e_idx:
        e = by_file[str(data["files"][i])]
        items.append((i, ["emoji " + (f"skin {e['skin']}" if e["skin"] else "yellow"),
                          f"{e['age_group']} {e['gender']}", f"hair {e['hair']}",
                          "beard" if e["beard"] else "-"]))
    rows = -(-len(items) // cols)
    sheet = Image.new("RGB", (cols * tile, rows * (tile + text_h)), (250, 250, 250))
    d = ImageDraw.Draw(sheet)
    for k, (i, lines) in enumerate(items):
        x, y = (k % cols) * tile, (k // cols) * (tile + text_h)
        pic = Image.fromarray(data["images"][i]).resize((tile, tile), Image.NEAREST)
        sheet.paste(pic, (x, y))
        for j, line in enumerate(lines):
            d.text((x + 3, y + tile + 2 + 12 * j), line, fill=(20, 20, 20), font=font)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, optimize=True)
    return out


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(prog="python -m ganpaint.data.faces_dataset",
                                 description="Draw the contact sheet of a built faces dataset.")
    ap.add_argument("folder")
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=DEFAULT_SIZE)
    a = ap.parse_args()
    print(contact_sheet(a.folder, a.out, size=a.size))
