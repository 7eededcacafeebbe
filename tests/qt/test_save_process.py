"""Issue 12, point 4: a large document's Save is written by a separate process
(``engine.jobs.save_process``), so the GUI thread never shares the GIL with the writer.
The file is the same as one written in the editor; a writer that dies (SIGKILL) or fails
(a file the disk will not take) leaves the old file and says one sentence; nothing is lost."""

from __future__ import annotations

import os
import re
import signal
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ganpaint.core import ora
from ganpaint.engine.jobs import save_process, shm
from ganpaint.qt import file_actions


@pytest.fixture
def big(monkeypatch):
    """Every document counts as large: Save takes the background path."""
    monkeypatch.setattr(file_actions, "BACKGROUND_BYTES", 0)


@pytest.fixture
def writers(monkeypatch):
    """The pids write_snapshot reports for each background save."""
    pids: list[int] = []
    real = save_process.write_snapshot

    def record(snap, path, **kw):
        pid = real(snap, path, **kw)
        pids.append(pid)
        return pid

    monkeypatch.setattr(save_process, "write_snapshot", record)
    return pids


def _document(win, size=(160, 120), n=3, noise=False):
    from ganpaint.core.document import Document
    from ganpaint.core.layers import ResultInfo

    w, h = size
    doc = Document(w, h)
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(n):
        if noise:  # incompressible: the write takes a while
            px = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
        else:
            px = np.empty((h, w, 4), np.uint8)
            px[..., 0] = (xx * (i + 1)) % 256
            px[..., 1] = (yy * (i + 2)) % 256
            px[..., 2] = rng.integers(0, 40, (h, w), dtype=np.uint8)
        px[..., 3] = 255 if i == 0 else 170
        doc.add_layer(name=f"L{i}", pixels=px)
    # a result layer with its "before" picture, parameters and an attachment: all of it crosses
    res = doc.layers[-1]
    res.result = ResultInfo(tool_id="invert", plugin="classic", model="m1", params={"amount": 0.5, "name": "x"},
                            source_layer_id=doc.layers[0].id, metadata={"seed": 3},
                            attachments={"latent.npy": b"\x93NUMPY-bytes"},
                            before=rng.integers(0, 256, (h, w, 4), dtype=np.uint8))
    doc.set_layer_props(1, opacity=0.6)  # a step: the document is modified
    win.controller.set_document(doc, None)
    return doc


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _temps(folder: Path, name: str) -> list[tuple[Path, int]]:
    pat = re.compile(r"^\." + re.escape(name) + r"\.ganpaint-(\d+)-\w+\.tmp$")
    return [(p, int(m.group(1))) for p in folder.iterdir() if (m := pat.match(p.name))]


def test_save_is_written_by_another_process_and_equals_the_editors_own(qtbot, window, big, writers, monkeypatch,
                                                                       answers, tmp_path):
    doc = _document(window)
    want = [la.pixels.copy() for la in doc.layers]
    snap = ora.snapshot(doc)  # what the editor itself would write, for the byte comparison
    target = tmp_path / "proc.ora"
    window.controller.set_path(str(target))
    encoded: list[int] = []
    real_png = ora._png
    monkeypatch.setattr(ora, "_png", lambda *a, **k: encoded.append(1) or real_png(*a, **k))
    assert window.save()
    assert window.files.wait()
    assert answers.calls == []
    # another process wrote it: not ours, and no thread of ours deflated a picture
    assert len(writers) == 1 and writers[0] != os.getpid() and writers[0] > 0
    assert encoded == []
    assert not doc.modified and window.controller.path == str(target)
    monkeypatch.setattr(ora, "_png", real_png)
    mine = tmp_path / "mine.ora"
    ora.save_ora(snap, mine)
    got, ref = _members(target), _members(mine)
    assert list(got) == list(ref)  # same members, same order
    for name in ref:
        assert got[name] == ref[name], name  # byte for byte
    back = ora.load_ora(target)
    assert [la.name for la in back.layers] == ["L0", "L1", "L2"]
    for la, px in zip(back.layers, want, strict=True):
        np.testing.assert_array_equal(la.pixels, px)
    info = back.layers[-1].result
    assert info is not None and info.params == {"amount": 0.5, "name": "x"} and info.model == "m1"
    assert info.attachments == {"latent.npy": b"\x93NUMPY-bytes"}
    np.testing.assert_array_equal(info.before, doc.layers[-1].result.before)
    assert not [p for p in Path("/dev/shm").glob(f"{shm.PREFIX}{os.getpid():x}_*")]  # the block is gone


def _save_and_catch_the_writer(qtbot, window, target: Path) -> int:
    """Start a background Save of the window's document to ``target``; the writer's pid once
    it has opened its temp file (mid-write)."""
    assert window.save()
    found: list[int] = []

    def writing() -> bool:
        found[:] = [pid for _p, pid in _temps(target.parent, target.name)]
        return bool(found)

    qtbot.waitUntil(writing, timeout=20000)
    assert found[0] != os.getpid()
    return found[0]


def test_a_killed_writer_leaves_the_old_file_and_says_one_sentence(qtbot, window, big, answers, tmp_path):
    target = tmp_path / "keep.ora"
    doc = _document(window, size=(1600, 1200), n=2, noise=True)
    window.controller.set_path(str(target))
    ora.save_ora(ora.snapshot(doc), target)  # the file as saved before
    old = target.read_bytes()
    doc.set_layer_props(1, opacity=0.3)
    want = [la.pixels.copy() for la in doc.layers]
    pid = _save_and_catch_the_writer(qtbot, window, target)
    os.kill(pid, signal.SIGKILL)
    t0 = time.monotonic()
    assert not window.files.wait()
    assert time.monotonic() - t0 < 10
    warnings = [c for c in answers.calls if c[0] == "warning"]
    assert len(warnings) == 1 and warnings[0][1] == "Cannot save"
    text = warnings[0][2]
    assert text.startswith(f"Cannot save '{target}'") and "SIGKILL" in text
    assert "\n" not in text and text.count(". ") == 0 and text.endswith(".")
    assert target.read_bytes() == old  # the old file, intact
    assert _temps(tmp_path, target.name) == []  # the dead writer's temp file is removed
    # nothing lost: the document is as it was, still modified, and the next Save works
    assert doc.modified and doc.layers[1].opacity == pytest.approx(0.3)
    for la, px in zip(doc.layers, want, strict=True):
        np.testing.assert_array_equal(la.pixels, px)
    answers.calls.clear()
    assert window.save() and window.files.wait()
    assert answers.calls == [] and not doc.modified
    assert ora.load_ora(target).layers[1].opacity == pytest.approx(0.3)
    assert not [p for p in Path("/dev/shm").glob(f"{shm.PREFIX}{os.getpid():x}_*")]


def test_the_writer_ignores_ctrl_c_and_sigterm_and_finishes(qtbot, window, big, answers, tmp_path):
    """A Ctrl+C in the terminal or a logout's SIGTERM reaches the whole process group; the
    editor decides what happens (it waits for the save), so the writer goes on."""
    target = tmp_path / "finish.ora"
    doc = _document(window, size=(1600, 1200), n=2, noise=True)
    window.controller.set_path(str(target))
    pid = _save_and_catch_the_writer(qtbot, window, target)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break  # it had already finished
    assert window.files.wait()
    assert answers.calls == [] and not doc.modified
    assert [la.name for la in ora.load_ora(target).layers] == ["L0", "L1"]


def test_a_write_the_disk_refuses_is_the_writers_own_sentence(tmp_path, monkeypatch):
    """An OSError in the writing process (here: beyond the file-size limit, EFBIG, the way a full
    disk refuses bytes) arrives as the same ImageWriteError the editor's own write gives."""
    resource = pytest.importorskip("resource")
    from ganpaint.core.document import Document
    from ganpaint.core.errors import ImageWriteError

    doc = Document(600, 400)
    doc.add_layer(name="noise", pixels=np.random.default_rng(1).integers(0, 256, (400, 600, 4), dtype=np.uint8))
    target = tmp_path / "full.ora"
    target.write_bytes(b"the old file")
    snap = ora.snapshot(doc)
    real_run = save_process._run

    def limited(*args, **kw):
        # set after the shared block exists (its size is a file's too); the process inherits it
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, hard))
        try:
            return real_run(*args, **kw)
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))

    monkeypatch.setattr(save_process, "_run", limited)
    with pytest.raises(ImageWriteError) as info:
        save_process.write_snapshot(snap, target)
    err = info.value
    assert not isinstance(err, save_process.SaveProcessError)  # the writer answered
    assert str(err).startswith(f"Cannot write '{target}'") and "too large" in str(err).lower()
    assert err.reason and "\n" not in str(err)
    assert target.read_bytes() == b"the old file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full.ora"]  # its temp file went too
