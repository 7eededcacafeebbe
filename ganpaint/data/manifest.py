"""The attribution manifest of a built dataset: which output files came from which
source file, by whom, under which licence, from which package; what was excluded and
why; and the whole-photo train/test split.

The JSON is deterministic (no timestamps, sorted) so a rebuild with the same inputs
writes the same bytes and the committed copy in resources/data-manifests/ diffs cleanly.
Timings live beside it in ``build.json``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ganpaint.core.atomic import atomic_write_text

MANIFEST_NAME = "manifest.json"
FORMAT = "ganpaint-data-manifest/1"


@dataclass
class SourceRecord:
    """One package (or generator) the data came from."""

    id: str            # e.g. "debian:openclipart-svg"
    kind: str          # "debian" | "wheel" | "generated" | "folder"
    version: str = ""
    file: str = ""     # the .deb / .whl
    sha256: str = ""
    licence_file: str = ""  # where the licences were read
    notes: str = ""


@dataclass
class Entry:
    """One source item and the files made from it."""

    origin: str        # the file inside its package (or a generator description)
    author: str
    licence: str
    source: str        # SourceRecord.id
    files: list[str] = field(default_factory=list)  # output paths relative to the dataset folder
    split: str = "train"
    title: str = ""


@dataclass
class Manifest:
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    sources: list[SourceRecord] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    excluded: list[dict[str, str]] = field(default_factory=list)  # origin, licence, reason
    split: dict[str, str] = field(default_factory=dict)           # photo id -> train/test
    counts: dict[str, int] = field(default_factory=dict)

    def add_source(self, rec: SourceRecord) -> None:
        if all(s.id != rec.id for s in self.sources):
            self.sources.append(rec)

    def add(self, entry: Entry) -> Entry:
        self.entries.append(entry)
        return entry

    def licences(self) -> dict[str, int]:
        """Number of output files per licence."""
        out: dict[str, int] = {}
        for e in self.entries:
            out[e.licence] = out.get(e.licence, 0) + len(e.files)
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "name": self.name,
            "params": self.params,
            "counts": dict(sorted(self.counts.items())),
            "licences": self.licences(),
            "split": dict(sorted(self.split.items())),
            "sources": [asdict(s) for s in sorted(self.sources, key=lambda s: s.id)],
            "excluded": sorted(self.excluded, key=lambda d: d.get("origin", "")),
            "entries": [asdict(e) for e in sorted(self.entries, key=lambda e: (e.source, e.origin, e.files))],
        }

    def to_json(self) -> str:
        """One entry per line: readable, and diffs stay small."""
        d = self.to_dict()
        entries = d.pop("entries")
        head = json.dumps(d, indent=1, sort_keys=False, ensure_ascii=False)
        lines = ",\n".join("  " + json.dumps(e, sort_keys=True, ensure_ascii=False) for e in entries)
        return head[:-2] + ',\n "entries": [\n' + lines + "\n ]\n}\n"

    def write(self, folder: Path) -> Path:
        path = Path(folder) / MANIFEST_NAME
        atomic_write_text(path, self.to_json())
        return path

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Manifest:
        if d.get("format") != FORMAT:
            raise ValueError(f"not a GANPaint data manifest (format {d.get('format')!r})")
        return cls(
            name=d["name"], params=d.get("params", {}),
            sources=[SourceRecord(**s) for s in d.get("sources", [])],
            entries=[Entry(**e) for e in d.get("entries", [])],
            excluded=list(d.get("excluded", [])), split=dict(d.get("split", {})),
            counts=dict(d.get("counts", {})),
        )


def read_manifest(path: Path) -> Manifest:
    p = Path(path)
    if p.is_dir():
        p = p / MANIFEST_NAME
    return Manifest.from_dict(json.loads(p.read_text(encoding="utf-8")))
