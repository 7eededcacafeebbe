"""Photos with permissive licences, the whole-photo train/test split, and crops.

Sources (each licence read from the package itself):
* Debian ``lomiri-wallpapers-16.04``: the photos whose copyright stanza says CC0-1.0 or
  CC-BY-4.0; share-alike ones (CC-BY-SA-*) are listed as excluded;
* the scikit-image wheel's ``skimage/data``: the pictures whose docstring in
  ``skimage/data/_fetchers.py`` states CC0 or public domain (the statement is checked in
  the wheel we unpacked; a picture whose statement is missing is excluded);
* the scikit-learn wheel's two sample photos (CC-BY-2.0, per its images/README.txt).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ganpaint.data.debian import licence_of, parse_copyright

#: licences the shipped defaults may learn from (no share-alike, no copyleft)
ALLOWED = {"CC0-1.0", "CC-BY-4.0", "CC-BY-2.0", "public-domain"}

LOMIRI = "lomiri-wallpapers-16.04"
SKIMAGE_VERSION = "0.26.0"
SKLEARN_VERSION = "1.9.1"


@dataclass(frozen=True)
class Photo:
    id: str           # stable, unique: "<source>/<file stem>"
    path: Path
    author: str
    licence: str
    source: str       # package name and version
    origin: str       # the file inside the package
    landscape: bool = False  # an outdoor scene (used by the seasons set as real summer photos)


@dataclass(frozen=True)
class Excluded:
    origin: str
    licence: str
    reason: str


#: scikit-image pictures: file, author as stated, licence, a phrase the docstring must contain
SKIMAGE = [
    ("astronaut.png", "NASA", "public-domain", "released into the public domain", False),
    ("camera.png", "Lav Varshney", "CC0-1.0", "CC0 by the photographer (Lav Varshney)", False),
    ("chelsea.png", "Stefan van der Walt", "CC0-1.0", "CC0 by the photographer (Stefan van der Walt)", False),
    ("coffee.png", "Rachel Michetti", "CC0-1.0", "CC0 by the photographer (Rachel Michetti)", False),
    ("rocket.jpg", "SpaceX", "public-domain", "captured by SpaceX", False),
    ("hubble_deep_field.jpg", "NASA", "public-domain", "may be freely used in the public domain", False),
    ("brick.png", "CC0Textures (Bricks25)", "CC0-1.0", "tex=Bricks25", False),
    ("grass.png", "linolafett", "CC0-1.0", "Grass-01-434853879", False),
    ("gravel.png", "CC0Textures (Gravel04)", "CC0-1.0", "tex=Gravel04", False),
]

#: Lomiri wallpapers that are outdoor scenes in leaf (looked at by eye)
LOMIRI_LANDSCAPES = {"aitzgorri_by_Aitzol_Berasategi", "picosdeeuropa_by_Aitzol_Berasategi",
                     "life_by_Aitzol_Berasategi", "seeding_by_Clements_Engelhardt",
                     "sunset_by_Aitzol_Berasategi"}


def _licence_name(raw: str) -> str:
    raw = raw.strip()
    return {"CC0": "CC0-1.0", "public domain": "public-domain"}.get(raw, raw)


def _author(copyright_field: str) -> str:
    first = copyright_field.splitlines()[0] if copyright_field else ""
    return re.sub(r"(^\d{4}[,.]?\s*|,?\s*\d{4}$)", "", first).strip(" ,.")


def lomiri_photos(root: Path, version: str) -> tuple[list[Photo], list[Excluded]]:
    """The CC0 / CC-BY-4.0 photos of the unpacked lomiri-wallpapers-16.04 package."""
    cfile = root / "usr/share/doc" / LOMIRI / "copyright"
    stanzas = parse_copyright(cfile.read_text(encoding="utf-8"))
    keep: list[Photo] = []
    out: list[Excluded] = []
    for p in sorted((root / "usr/share/backgrounds").glob("*.jpg")):
        st = licence_of(stanzas, p.name)
        origin = f"/usr/share/backgrounds/{p.name}"
        if st is None:
            out.append(Excluded(origin, "?", "no copyright stanza"))
            continue
        lic = _licence_name(st.licence)
        if lic not in ALLOWED:
            out.append(Excluded(origin, lic, "share-alike or not permissive"))
            continue
        keep.append(Photo(f"lomiri/{p.stem}", p, _author(st.copyright), lic, f"debian:{LOMIRI} {version}",
                          origin, p.stem in LOMIRI_LANDSCAPES))
    return keep, out


def skimage_photos(root: Path, version: str = SKIMAGE_VERSION) -> tuple[list[Photo], list[Excluded]]:
    data = root / "skimage" / "data"
    doc = (data / "_fetchers.py").read_text(encoding="utf-8") if (data / "_fetchers.py").exists() else ""
    keep: list[Photo] = []
    out: list[Excluded] = []
    for name, author, lic, phrase, land in SKIMAGE:
        origin = f"skimage/data/{name}"
        if not (data / name).exists():
            out.append(Excluded(origin, lic, "missing from the wheel"))
        elif phrase not in doc:
            out.append(Excluded(origin, lic, "licence statement not found in skimage/data/_fetchers.py"))
        else:
            keep.append(Photo(f"skimage/{Path(name).stem}", data / name, author, lic,
                              f"pypi:scikit-image {version}", origin, land))
    return keep, out


def sklearn_photos(root: Path, version: str = SKLEARN_VERSION) -> tuple[list[Photo], list[Excluded]]:
    images = root / "sklearn" / "datasets" / "images"
    readme = (images / "README.txt").read_text(encoding="utf-8") if (images / "README.txt").exists() else ""
    keep: list[Photo] = []
    out: list[Excluded] = []
    for block in re.split(r"\n(?=Image:)", readme):
        m = re.match(r"Image:\s*(\S+)", block)
        if not m:
            continue
        name = m.group(1)
        lic_url = re.search(r"^\[1\]\s*(\S+)", block, re.M)
        user = re.search(r"^\[2\]\s*\S*flickr\.com/photos/([^/\s]+)", block, re.M)
        lic = "?"
        if lic_url and "/by/2.0" in lic_url.group(1):
            lic = "CC-BY-2.0"
        origin = f"sklearn/datasets/images/{name}"
        if lic not in ALLOWED or not (images / name).exists():
            out.append(Excluded(origin, lic, "licence not recognised or file missing"))
            continue
        author = f"{user.group(1)} (Flickr)" if user else "see README.txt"
        keep.append(Photo(f"sklearn/{Path(name).stem}", images / name, author, lic,
                          f"pypi:scikit-learn {version}", origin, name == "china.jpg"))
    return keep, out


def split_photos(photos: list[Photo], test_fraction: float = 0.2, salt: str = "ganpaint-photos-v1") -> dict[str, str]:
    """Whole photos to "train" or "test", deterministic (a hash of the id, not a RNG).

    Within each source, photos are ordered by ``sha256(salt + id)`` and the first
    ``round(n * test_fraction)`` (at least one when a source has three or more) are held
    out, so every crop of a test photo is test data and no test photo leaks into training.
    """
    by_source: dict[str, list[Photo]] = {}
    for p in photos:
        by_source.setdefault(p.source.split(" ")[0], []).append(p)
    split: dict[str, str] = {}
    for group in by_source.values():
        ranked = sorted(group, key=lambda p: hashlib.sha256((salt + p.id).encode()).hexdigest())
        n_test = round(len(ranked) * test_fraction)
        if len(ranked) >= 3:
            n_test = max(1, n_test)
        for i, p in enumerate(ranked):
            split[p.id] = "test" if i < n_test else "train"
    return split


def load_rgb(path: Path, max_side: int = 2048) -> np.ndarray:
    """A photo as (h, w, 3) float32 in [0, 1] (grey pictures become grey RGB), at most
    ``max_side`` pixels on its longer side (crops never need more)."""
    with Image.open(path) as im:
        im = im.convert("RGB")
        if max(im.size) > max_side:
            im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        return np.asarray(im, np.float32) / 255.0


def random_crops(img: np.ndarray, rng: np.random.Generator, n: int, size: int = 256,
                 scales: tuple[float, ...] = (1.0, 0.6, 0.35)) -> list[tuple[np.ndarray, float]]:
    """``n`` square crops per scale: a crop's side is ``scale * min(h, w)`` (but at least
    ``size`` px when the photo allows), resized to ``size``. Returns (crop, scale) pairs."""
    h, w = img.shape[:2]
    out: list[tuple[np.ndarray, float]] = []
    for scale in scales:
        side = int(round(min(h, w) * scale))
        side = min(max(side, min(size, h, w)), h, w)
        for _ in range(n):
            y = int(rng.integers(0, h - side + 1))
            x = int(rng.integers(0, w - side + 1))
            crop = img[y:y + side, x:x + side]
            if side != size:
                pil = Image.fromarray((crop * 255 + 0.5).astype(np.uint8))
                crop = np.asarray(pil.resize((size, size), Image.Resampling.LANCZOS), np.float32) / 255.0
            out.append((crop.astype(np.float32), scale))
    return out
