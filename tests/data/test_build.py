"""The dataset builders on generated inputs (no Debian packages, no network)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganpaint.data.build import BuildError, build, publish_manifest
from ganpaint.data.manifest import read_manifest
from ganpaint.data.sources import Sources

SIZE = 48


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.png"))


def _check_manifest_files(out: Path) -> None:
    m = read_manifest(out)
    listed = {f for e in m.entries for f in e.files}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*.png") if "/masks/" not in p.as_posix()}
    assert listed == on_disk  # every picture is attributed, and nothing listed is missing
    assert all(e.author and e.licence and e.source for e in m.entries)


def test_seasons_unpaired_train_and_paired_test(tmp_path: Path, fake_sources: Sources) -> None:
    res = build("seasons", tmp_path / "s", count=3, size=SIZE, sources=fake_sources)
    out = res.out_dir
    assert len(_names(out / "train/summer/render")) == 3 == len(_names(out / "train/winter/render"))
    assert _names(out / "test/summer") == _names(out / "test/winter") and len(_names(out / "test/summer")) == 3
    a = np.asarray(Image.open(out / "test/summer/00000.png"), np.float32)
    b = np.asarray(Image.open(out / "test/winter/00000.png"), np.float32)
    assert a.shape == (SIZE, SIZE, 3) and np.abs(a - b).mean() > 5  # same scene, other season
    # real summer photos come only from training photos, and only landscapes
    m = read_manifest(out)
    photo_entries = [e for e in m.entries if e.source == "test:photos"]
    assert photo_entries and all(m.split[f"test/{Path(e.origin).stem}"] == "train" for e in photo_entries)
    _check_manifest_files(out)
    assert json.loads((out / "build.json").read_text())["png_files"] == len(list(out.rglob("*.png")))


def test_builds_are_reproducible(tmp_path: Path, fake_sources: Sources) -> None:
    r1 = build("seasons", tmp_path / "one", count=1, size=SIZE, seed=4, sources=fake_sources)
    r2 = build("seasons", tmp_path / "two", count=1, size=SIZE, seed=4, sources=fake_sources)
    assert (r1.out_dir / "manifest.json").read_bytes() == (r2.out_dir / "manifest.json").read_bytes()
    for rel in ("train/winter/render/w-00000.png", "test/summer/00000.png"):
        assert (r1.out_dir / rel).read_bytes() == (r2.out_dir / rel).read_bytes()
    r3 = build("seasons", tmp_path / "three", count=1, size=SIZE, seed=5, sources=fake_sources)
    assert (r1.out_dir / "test/summer/00000.png").read_bytes() != (r3.out_dir / "test/summer/00000.png").read_bytes()


def test_inpaint_holds_out_whole_photos_with_masks(tmp_path: Path, fake_sources: Sources) -> None:
    pytest.importorskip("cairosvg")
    res = build("inpaint", tmp_path / "i", count=4, size=SIZE, sources=fake_sources)
    out, m = res.out_dir, res.manifest
    test_ids = {k for k, v in m.split.items() if v == "test"}
    assert test_ids
    for p in (out / "train/photo").glob("*.png"):
        assert not any(p.name.startswith("photo-" + t.replace("/", "-") + "-") for t in test_ids)
    test_photo_files = _names(out / "test/images")
    assert any(n.startswith("photo-") for n in test_photo_files) and any(n.startswith("scene-") for n in test_photo_files)
    assert _names(out / "test/masks") == test_photo_files
    for name in test_photo_files:
        cover = (np.asarray(Image.open(out / "test/masks" / name).convert("L")) > 127).mean()
        assert 0.05 <= cover <= 0.45
    # 5 SVGs, one a duplicate: at most 4 distinct drawings (minus any the content hash holds out)
    assert 1 <= len(_names(out / "train/clipart")) <= 4
    _check_manifest_files(out)


def test_sketch_pairs_share_names(tmp_path: Path, fake_sources: Sources) -> None:
    pytest.importorskip("cairosvg")
    res = build("sketch-pairs", tmp_path / "k", size=SIZE, sources=fake_sources)
    out = res.out_dir
    for split in ("train", "test"):
        if (out / split).exists():
            assert _names(out / split / "A") == _names(out / split / "B")
    a_files = list((out / "train/A").glob("clip-*.png")) + list((out / "test/A").glob("clip-*.png"))
    assert len(a_files) == 4
    sketch = np.asarray(Image.open(a_files[0]).convert("L"))
    assert sketch.min() < 80 and np.median(sketch) > 200  # dark lines on white
    assert res.counts["train/photo"] > 0 and res.counts["test/photo"] > 0
    _check_manifest_files(out)


def test_refuses_a_folder_that_is_not_a_dataset(tmp_path: Path, fake_sources: Sources) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "precious.txt").write_text("keep me")
    with pytest.raises(BuildError, match="not empty"):
        build("seasons", tmp_path / "mine", count=1, size=SIZE, sources=fake_sources)
    assert (tmp_path / "mine" / "precious.txt").read_text() == "keep me"
    (tmp_path / "cut").mkdir()  # an interrupted build: our marker, no manifest yet
    (tmp_path / "cut" / ".ganpaint-dataset").write_text("x")
    (tmp_path / "cut" / "train").mkdir()
    build("seasons", tmp_path / "cut", count=1, size=SIZE, sources=fake_sources)
    assert (tmp_path / "cut" / "manifest.json").exists()
    with pytest.raises(BuildError, match="unknown dataset"):
        build("nope", tmp_path / "x", sources=fake_sources)


def test_rebuild_replaces_old_files_and_publish_copies_manifest(tmp_path: Path, fake_sources: Sources) -> None:
    build("seasons", tmp_path / "s", count=3, size=SIZE, sources=fake_sources)
    build("seasons", tmp_path / "s", count=1, size=SIZE, sources=fake_sources)
    assert len(_names(tmp_path / "s/train/summer/render")) == 1
    target = publish_manifest(tmp_path / "s", "seasons", dest=tmp_path / "pub")
    assert target.read_bytes() == (tmp_path / "s/manifest.json").read_bytes()


def test_cli_data_build(tmp_path: Path, fake_sources: Sources, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    import ganpaint.data.build as b
    from ganpaint.cli.main import main

    monkeypatch.setattr(b, "fetch_sources", lambda *a, **k: fake_sources)
    code = main(["data", "build", "seasons", "--count", "1", "--size", str(SIZE), "--out", str(tmp_path / "c")])
    assert code == 0
    assert "test/pairs: 1" in capsys.readouterr().out
    assert main(["data", "build", "seasons", "--count", "0"]) == 2
    assert main(["data", "build", "nope"]) == 2
