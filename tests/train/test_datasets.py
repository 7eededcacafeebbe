from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganpaint.train import Augment, TrainError, load_data, scan_folder


def test_corrupt_and_non_image_files_are_skipped_and_counted(tmp_path: Path, pictures) -> None:
    folder = tmp_path / "pics"
    pictures(folder, 3)
    pictures(folder / "nested" / "deeper", 2, seed=5, ext="jpg")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    (folder / "notes.txt").write_text("not a picture")
    good = (folder / "000.png").read_bytes()
    (folder / "truncated.png").write_bytes(good[: len(good) // 2])
    (folder / ".hidden.png").write_bytes(b"x")
    scan = scan_folder(folder)
    assert len(scan.files) == 5  # recursive
    skipped = {p.name for p, _ in scan.skipped}
    assert {"broken.png", "notes.txt", "truncated.png"} <= skipped
    assert ".hidden.png" not in skipped
    data = load_data(folder)
    assert data.describe()["skipped"] == len(scan.skipped)
    batch = data.batch(0, 2, Augment(32), seed=0)
    assert batch["A"].shape == (2, 3, 32, 32)


def test_empty_folder_names_the_folder(tmp_path: Path, pictures) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(TrainError, match="no readable pictures in .*empty"):
        load_data(empty)


def test_folder_of_junk_says_what_was_skipped(tmp_path: Path, pictures) -> None:
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.png").write_bytes(b"not png")
    with pytest.raises(TrainError, match=r"no readable pictures in .*junk \(1 files skipped: a.png"):
        load_data(junk)


def test_missing_folder(tmp_path: Path, pictures) -> None:
    with pytest.raises(TrainError, match="does not exist"):
        load_data(tmp_path / "nowhere")


def test_pairs_by_name_and_unmatched_count(tmp_path: Path, pictures) -> None:
    pictures(tmp_path / "A", 4)
    pictures(tmp_path / "B", 3, seed=3, ext="jpg")  # 000..002.jpg pair with 000..002.png
    data = load_data(tmp_path / "A", tmp_path / "B", paired="names")
    d = data.describe()
    assert d["pairs"] == 3 and d["unmatched"] == 1
    b = data.batch(0, 1, Augment(32, scale_jitter=1.0, flip=False), seed=0)
    assert set(b) == {"A", "B"}


def test_no_pairs_is_an_error(tmp_path: Path, pictures) -> None:
    pictures(tmp_path / "A", 2)
    (tmp_path / "B").mkdir()
    Image.new("RGB", (40, 40)).save(tmp_path / "B" / "other.png")
    with pytest.raises(TrainError, match="partner of the same name"):
        load_data(tmp_path / "A", tmp_path / "B", paired="names")


def test_side_by_side_ab_split(tmp_path: Path, pictures) -> None:
    folder = tmp_path / "ab"
    folder.mkdir()
    left = np.zeros((32, 32, 3), np.uint8)
    right = np.full((32, 32, 3), 255, np.uint8)
    Image.fromarray(np.concatenate([left, right], 1)).save(folder / "x.png")
    aug = Augment(32, scale_jitter=1.0, flip=False)
    b = load_data(folder, paired="ab").batch(0, 1, aug, seed=0)
    assert torch.all(b["A"] == -1) and torch.all(b["B"] == 1)
    r = load_data(folder, paired="ab", reverse=True).batch(0, 1, aug, seed=0)
    assert torch.all(r["A"] == 1) and torch.all(r["B"] == -1)


def test_batches_are_a_function_of_seed_and_step(tmp_path: Path, pictures) -> None:
    pictures(tmp_path / "A", 5)
    pictures(tmp_path / "B", 7, seed=9)
    aug = Augment(32)
    d1 = load_data(tmp_path / "A", tmp_path / "B")
    d2 = load_data(tmp_path / "A", tmp_path / "B")
    for step in (0, 3, 11):  # also across epochs
        x, y = d1.batch(step, 2, aug, seed=4), d2.batch(step, 2, aug, seed=4)
        assert torch.equal(x["A"], y["A"]) and torch.equal(x["B"], y["B"])
    assert not torch.equal(d1.batch(0, 2, aug, seed=4)["A"], d1.batch(1, 2, aug, seed=4)["A"])
    assert not torch.equal(d1.batch(0, 2, aug, seed=4)["A"], d1.batch(0, 2, aug, seed=5)["A"])


def test_every_picture_is_visited_once_per_epoch(tmp_path: Path, pictures) -> None:
    from ganpaint.train.datasets import _pick

    pictures(tmp_path / "A", 6)
    data = load_data(tmp_path / "A")
    n = len(data.a_train)
    for epoch in range(3):
        seen = [_pick(5, 0, epoch * n + i, data.a_train) for i in range(n)]
        assert sorted(seen) == list(data.a_train)
    # epochs are shuffled differently
    assert [_pick(5, 0, i, data.a_train) for i in range(n)] != [_pick(5, 0, n + i, data.a_train) for i in range(n)]


def test_holdout_from_ten_pictures(tmp_path: Path, pictures) -> None:
    pictures(tmp_path / "A", 20, size=(32, 32))
    pictures(tmp_path / "B", 20, size=(32, 32), seed=4)
    data = load_data(tmp_path / "A", tmp_path / "B", paired="names")
    assert len(data.a_holdout) == 2 and not set(data.a_holdout) & set(data.a_train)
    assert data.holdout_is_separate
    assert data.holdout_batch(32)["A"].shape[0] == 2


def test_unpaired_ab_needs_no_data_b(tmp_path: Path, pictures) -> None:
    pictures(tmp_path / "A", 2)
    with pytest.raises(TrainError, match="drop --data-b"):
        load_data(tmp_path / "A", tmp_path / "A", paired="ab")
