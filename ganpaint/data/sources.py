"""The inputs of the builders, fetched into a cache (or handed in by tests)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ganpaint.data.debian import fetch_deb, fetch_wheel
from ganpaint.data.manifest import SourceRecord
from ganpaint.data.photos import (
    LOMIRI,
    SKIMAGE_VERSION,
    SKLEARN_VERSION,
    Excluded,
    Photo,
    lomiri_photos,
    skimage_photos,
    sklearn_photos,
)

CLIPART = "openclipart-svg"
CLIPART_DIR = "usr/share/openclipart/svg"


@dataclass(frozen=True)
class ClipSource:
    path: Path
    origin: str     # the path inside the package
    digest: str     # sha256 of the SVG bytes (duplicates across categories share it)
    source: str     # SourceRecord.id


@dataclass
class Sources:
    photos: list[Photo] = field(default_factory=list)
    clipart: list[ClipSource] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)
    records: list[SourceRecord] = field(default_factory=list)


def list_clipart(root: Path, source_id: str, prefix: str = "/" + CLIPART_DIR) -> list[ClipSource]:
    """Every distinct SVG under ``root`` (sorted; byte-identical duplicates kept once)."""
    seen: set[str] = set()
    out: list[ClipSource] = []
    for p in sorted(root.rglob("*.svg")):
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        out.append(ClipSource(p, f"{prefix}/{p.relative_to(root).as_posix()}", digest, source_id))
    return out


def fetch_sources(cache: Path, *, clipart: bool = True, photos: bool = True) -> Sources:
    """Fetch and unpack what the builders need (Debian packages and two wheels)."""
    src = Sources()
    if clipart:
        pkg = fetch_deb(CLIPART, cache)
        rec = SourceRecord(f"debian:{CLIPART}", "debian", pkg.version, pkg.file, pkg.sha256,
                           f"/usr/share/doc/{CLIPART}/copyright",
                           "public domain (Creative Commons Public Domain Dedication); authors from each "
                           "SVG's dc:creator")
        src.records.append(rec)
        src.clipart = list_clipart(pkg.root / CLIPART_DIR, rec.id)
    if photos:
        pkg = fetch_deb(LOMIRI, cache)
        keep, out = lomiri_photos(pkg.root, pkg.version)
        src.records.append(SourceRecord(f"debian:{LOMIRI}", "debian", pkg.version, pkg.file, pkg.sha256,
                                        f"/usr/share/doc/{LOMIRI}/copyright",
                                        "only CC0-1.0 and CC-BY-4.0 photos are used"))
        src.photos += keep
        src.excluded += out
        for name, version, members, reader, lic_file in (
            ("scikit-image", SKIMAGE_VERSION, "skimage/data/", skimage_photos, "skimage/data/_fetchers.py"),
            ("scikit-learn", SKLEARN_VERSION, "sklearn/datasets/images/", sklearn_photos,
             "sklearn/datasets/images/README.txt"),
        ):
            whl = fetch_wheel(name, version, cache, members)
            keep, out = reader(whl.root, version)
            src.records.append(SourceRecord(f"pypi:{name}", "wheel", version, whl.file, whl.sha256, lic_file))
            src.photos += keep
            src.excluded += out
    return src
