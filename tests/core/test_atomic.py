"""atomic_write: the target is either the old file or the complete new one, never a mix."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ganpaint.core import atomic
from ganpaint.core.atomic import atomic_write, atomic_write_bytes, atomic_write_text


def test_writes_a_new_file(tmp_path: Path) -> None:
    with atomic_write(tmp_path / "a.bin") as fh:
        fh.write(b"hello")
    assert (tmp_path / "a.bin").read_bytes() == b"hello"
    assert os.listdir(tmp_path) == ["a.bin"]


def test_the_target_is_untouched_until_the_block_ends(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    with atomic_write(target) as fh:
        fh.write(b"new")
        fh.flush()
        assert target.read_text() == "old"
        temps = [p for p in tmp_path.iterdir() if p != target]
        assert len(temps) == 1 and temps[0].name.startswith(".a.txt.")
    assert target.read_text() == "new"


def test_an_exception_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as fh:
            fh.write(b"partial")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_a_failed_rename_leaves_the_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")

    def fail(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["a.txt"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_permissions_of_an_existing_file_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    target.chmod(0o640)
    atomic_write_bytes(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_new_file_gets_ordinary_permissions_not_0600(tmp_path: Path) -> None:
    atomic_write_bytes(tmp_path / "n.txt", b"x")
    mode = stat.S_IMODE((tmp_path / "n.txt").stat().st_mode)
    assert mode == 0o666 & ~atomic._umask()


def test_relative_path_in_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    atomic_write_text("rel.txt", "ok")
    assert (tmp_path / "rel.txt").read_text() == "ok"


def test_remove_temps_of_takes_only_that_writers_files_beside_the_real_target(tmp_path):
    from ganpaint.core.atomic import remove_temps_of

    real = tmp_path / "real"
    real.mkdir()
    (real / "doc.ora").write_bytes(b"old")
    link = tmp_path / "link.ora"
    link.symlink_to(real / "doc.ora")
    mine = [real / ".doc.ora.ganpaint-4242-abcd1234.tmp", real / ".doc.ora.ganpaint-4242-zz_99xyz.tmp"]
    others = [real / ".doc.ora.ganpaint-4243-abcd1234.tmp",  # another writer
              real / ".other.ora.ganpaint-4242-abcd1234.tmp",  # the same writer, another file
              real / "doc.ora.ganpaint-4242-abcd1234.tmp"]  # not a temp name
    for f in mine + others:
        f.write_bytes(b"partial")
    removed = remove_temps_of(link, 4242)  # through the link: the target's folder
    assert sorted(removed) == sorted(mine)
    assert all(not f.exists() for f in mine) and all(f.exists() for f in others)
    assert (real / "doc.ora").read_bytes() == b"old" and link.is_symlink()
    assert remove_temps_of(tmp_path / "missing" / "x.ora", 4242) == []  # no folder: nothing, no error
