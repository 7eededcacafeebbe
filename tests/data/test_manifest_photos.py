"""Manifest writing, the Debian copyright reader, the whole-photo split, crops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ganpaint.data.debian import SourceError, fetch_deb, licence_of, parse_copyright
from ganpaint.data.manifest import Entry, Manifest, SourceRecord, read_manifest
from ganpaint.data.photos import Photo, lomiri_photos, random_crops, split_photos

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: lomiri-wallpapers

Files: warty-final-ubuntu.png
Copyright: 2004, Someone
License: CC-BY-SA-3.0

Files: 16.04/lake_by_Ann.jpg
Copyright: Ann Author, 2018
License: CC-BY-4.0

Files: 16.04/field_by_Bob.jpg
Copyright: Bob Builder, 2018
License: CC0-1.0

Files: 16.04/bridge_by_Cy.jpg
Copyright: 2018. Cy
License: CC-BY-SA-4.0

Files: debian/*
Copyright: 2018, Packager
License: Expat
"""


def test_manifest_round_trip_and_deterministic_bytes(tmp_path: Path) -> None:
    def make() -> Manifest:
        m = Manifest("demo", params={"seed": 1})
        m.add_source(SourceRecord("debian:pkg", "debian", "1.0", "pkg_1.0_all.deb", "ab" * 32))
        m.add(Entry("/b.svg", "Bob", "public-domain", "debian:pkg", ["train/A/b.png", "train/B/b.png"]))
        m.add(Entry("/a.jpg", "Ann", "CC-BY-4.0", "debian:pkg", ["test/a.png"], "test"))
        m.split = {"x/a": "test"}
        m.counts = {"train": 1}
        return m

    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    p1, p2 = make().write(tmp_path / "one"), make().write(tmp_path / "two")
    assert p1.read_bytes() == p2.read_bytes()
    back = read_manifest(tmp_path / "one")
    assert back.name == "demo" and len(back.entries) == 2
    assert back.licences() == {"CC-BY-4.0": 1, "public-domain": 2}
    assert {e.author for e in back.entries} == {"Ann", "Bob"}
    assert back.sources[0].sha256 == "ab" * 32


def test_read_manifest_refuses_other_json(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"name": "x"}')
    with pytest.raises(ValueError, match="not a GANPaint data manifest"):
        read_manifest(tmp_path)


def test_copyright_reader_last_match_wins_and_debian_glob_does_not_leak() -> None:
    st = parse_copyright(COPYRIGHT)
    assert licence_of(st, "lake_by_Ann.jpg").licence == "CC-BY-4.0"   # matched by base name
    assert licence_of(st, "debian/rules").licence == "Expat"
    assert licence_of(st, "unknown.jpg") is None


def test_lomiri_reader_keeps_cc0_and_cc_by_only(tmp_path: Path) -> None:
    doc = tmp_path / "usr/share/doc/lomiri-wallpapers-16.04"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(COPYRIGHT)
    bg = tmp_path / "usr/share/backgrounds"
    bg.mkdir(parents=True)
    for name in ("lake_by_Ann.jpg", "field_by_Bob.jpg", "bridge_by_Cy.jpg", "warty-final-ubuntu.png"):
        (bg / name).write_bytes(b"x")
    keep, out = lomiri_photos(tmp_path, "1.0")
    assert sorted((p.id, p.licence, p.author) for p in keep) == [
        ("lomiri/field_by_Bob", "CC0-1.0", "Bob Builder"), ("lomiri/lake_by_Ann", "CC-BY-4.0", "Ann Author")]
    assert [(e.licence, e.reason) for e in out] == [("CC-BY-SA-4.0", "share-alike or not permissive")]


def _photos(n: int, source: str) -> list[Photo]:
    return [Photo(f"{source}/p{i}", Path(f"p{i}.png"), "a", "CC0-1.0", f"{source} 1", f"p{i}") for i in range(n)]


def test_split_holds_out_whole_photos_deterministically() -> None:
    photos = _photos(10, "one") + _photos(5, "two") + _photos(2, "three")
    s1, s2 = split_photos(photos), split_photos(list(reversed(photos)))
    assert s1 == s2                                 # order does not matter
    assert set(s1) == {p.id for p in photos}        # every photo is in exactly one split
    assert set(s1.values()) == {"train", "test"}
    tests = [k for k, v in s1.items() if v == "test"]
    assert sum(t.startswith("one/") for t in tests) == 2
    assert sum(t.startswith("two/") for t in tests) == 1
    assert sum(t.startswith("three/") for t in tests) == 0  # too few to hold one out


def test_crops_at_several_scales() -> None:
    img = np.random.default_rng(0).uniform(0, 1, (300, 400, 3)).astype(np.float32)
    crops = random_crops(img, np.random.default_rng(1), 2, size=64, scales=(1.0, 0.5))
    assert len(crops) == 4 and {s for _, s in crops} == {1.0, 0.5}
    assert all(c.shape == (64, 64, 3) for c, _ in crops)


def test_missing_apt_get_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(SourceError, match="apt-get"):
        fetch_deb("openclipart-svg", tmp_path / "cache")
