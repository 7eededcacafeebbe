"""Issue 12, point 4: Save, Save As, export and open of large documents run in the background
from a snapshot; the user goes on painting; failures are one sentence and lose nothing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ganpaint.core import ora
from ganpaint.qt import file_actions


@pytest.fixture
def big(monkeypatch):
    """Every document counts as large: it takes the background path."""
    monkeypatch.setattr(file_actions, "BACKGROUND_BYTES", 0)
    monkeypatch.setattr(file_actions, "BACKGROUND_OPEN_BYTES", 0)


@pytest.fixture
def gate(monkeypatch):
    """A background Save's write (``save_process.write_snapshot``, which the file thread calls)
    waits for ``gate.set()`` (the write is 'slow'); records its calls."""
    from ganpaint.engine.jobs import save_process

    ev = threading.Event()
    ev.calls = []  # type: ignore[attr-defined]
    real = save_process.write_snapshot

    def slow(doc, path, **kw):
        ev.calls.append((path, [la.pixels.copy() for la in doc.layers]))  # type: ignore[attr-defined]
        assert ev.wait(20), "the test never opened the gate"
        return real(doc, path, **kw)

    monkeypatch.setattr(save_process, "write_snapshot", slow)
    return ev


def _doc_with_layers(win, n: int = 2, size=(96, 64)):
    from ganpaint.core.document import Document

    w, h = size
    doc = Document(w, h)
    rng = np.random.default_rng(1)
    for i in range(n):
        px = rng.integers(0, 255, (h, w, 4), dtype=np.uint8)
        px[..., 3] = 255
        doc.add_layer(name=f"L{i}", pixels=px)
    win.controller.set_document(doc, None)
    return doc


def _paint(doc, value: int) -> None:
    px = doc.layers[-1].pixels.copy()
    px[:8, :8, :3] = value
    doc.replace_pixels(len(doc.layers) - 1, px, title=f"paint {value}")


def test_save_runs_in_the_background_and_writes_the_snapshot(qtbot, window, big, gate, tmp_path):
    doc = _doc_with_layers(window)
    _paint(doc, 10)
    expected = [la.pixels.copy() for la in doc.layers]
    target = tmp_path / "big.ora"
    window.controller.set_path(str(target))
    t0 = time.monotonic()
    assert window.save()  # returns while the writer waits at the gate
    assert time.monotonic() - t0 < 5
    assert window.files.io.busy and window.files.io.indicator.isVisibleTo(window)
    assert "Saving big.ora" in window.files.io._label.text()
    # the user goes on: paint and add a layer while the write is held
    _paint(doc, 200)
    doc.add_layer(name="later")
    assert not target.exists() and doc.modified
    gate.set()
    assert window.files.wait()
    assert not window.files.io.busy and not window.files.io.indicator.isVisibleTo(window)
    # the file is the document as it was when Save was pressed
    back = ora.load_ora(target)
    assert [la.name for la in back.layers] == ["L0", "L1"]
    for got, want in zip(back.layers, expected, strict=True):
        np.testing.assert_array_equal(got.pixels, want)
    # still modified (changed since), and undoing the two later steps reaches the saved state
    assert doc.modified
    doc.undo()
    assert doc.modified
    doc.undo()
    assert not doc.modified
    assert window.controller.path == str(target)
    assert str(target) in window.recent_files()


def test_a_second_save_while_one_waits_is_coalesced(qtbot, window, big, gate, answers, tmp_path):
    doc = _doc_with_layers(window)
    target = tmp_path / "c.ora"
    window.controller.set_path(str(target))
    _paint(doc, 1)
    assert window.save()
    qtbot.waitUntil(lambda: len(gate.calls) == 1, timeout=5000)  # the first write has started
    _paint(doc, 2)
    assert window.save()  # queued behind the first
    _paint(doc, 3)
    assert window.save()  # replaces the queued one: its snapshot is newer
    newest = doc.layers[-1].pixels.copy()
    assert len(window.files.io.pending("save")) == 2
    gate.set()
    assert window.files.wait()
    assert len(gate.calls) == 2  # the middle save was never written
    np.testing.assert_array_equal(gate.calls[1][1][-1], newest)
    np.testing.assert_array_equal(ora.load_ora(target).layers[-1].pixels, newest)
    assert not doc.modified
    assert answers.calls == []  # the replaced save is no failure: no "Cannot save" box


def test_a_failed_background_save_says_one_sentence_and_loses_nothing(qtbot, window, big, answers, tmp_path):
    doc = _doc_with_layers(window)
    _paint(doc, 7)
    before = [la.pixels.copy() for la in doc.layers]
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    target = blocker / "x.ora"  # its folder is a file: cannot be written
    window.controller.set_path(str(target))
    assert window.save()
    assert not window.files.wait()
    warnings = [c for c in answers.calls if c[0] == "warning"]
    assert len(warnings) == 1 and warnings[0][1] == "Cannot save"
    text = warnings[0][2]
    assert str(target) in text and "\n" not in text and text.count(". ") == 0
    assert doc.modified and len(doc.layers) == 2
    for la, want in zip(doc.layers, before, strict=True):
        np.testing.assert_array_equal(la.pixels, want)
    assert window.files.io.pending() == []


def test_closing_the_window_waits_for_a_save_in_flight(qtbot, window, big, gate, tmp_path):
    doc = _doc_with_layers(window)
    _paint(doc, 9)
    target = tmp_path / "close.ora"
    window.controller.set_path(str(target))
    assert window.save()
    threading.Timer(0.3, gate.set).start()
    assert window.close()
    assert target.is_file() and not doc.modified  # written, and nobody was asked to save again


def test_open_in_the_background_swaps_the_document_in_when_ready(qtbot, window, big, monkeypatch, tmp_path):
    from ganpaint.core.document import Document

    src = Document(80, 50)
    src.add_layer(name="A", pixels=np.full((50, 80, 4), 90, np.uint8))
    path = tmp_path / "in.ora"
    ora.save_ora(src, path)
    held = threading.Event()
    real = file_actions.load_document

    def slow_load(*a, **k):
        assert held.wait(20)
        return real(*a, **k)

    monkeypatch.setattr(file_actions, "load_document", slow_load)
    old = window.controller.document
    assert window.open_path(str(path))  # started: the window still shows the old document
    assert window.controller.document is old and window.files.io.busy
    held.set()
    qtbot.waitUntil(lambda: window.controller.document is not old, timeout=10000)
    new = window.controller.document
    assert (new.width, new.height) == (80, 50) and [la.name for la in new.layers] == ["A"]
    assert window.controller.path == str(path) and not new.modified
    assert str(path) in window.recent_files()


def test_a_failed_background_open_keeps_the_document(qtbot, window, big, answers, tmp_path):
    bad = tmp_path / "bad.ora"
    bad.write_bytes(b"PK\x03\x04 this is no zip")
    old = window.controller.document
    assert window.open_path(str(bad))
    window.files.wait()
    assert window.controller.document is old
    warnings = [c for c in answers.calls if c[0] == "warning"]
    assert len(warnings) == 1 and str(bad) in warnings[0][2]


def test_export_in_the_background(qtbot, window, big, tmp_path):
    from ganpaint.core.imageio import read_image

    doc = _doc_with_layers(window, 1)
    want = doc.composite()
    out = tmp_path / "flat.png"
    assert window.files.export_to(str(out))
    _paint(doc, 0)  # after the snapshot: not in the file
    window.files.wait()
    np.testing.assert_array_equal(read_image(out).pixels, want)


def test_small_documents_still_save_at_once(qtbot, window, tmp_path):
    doc = _doc_with_layers(window)
    _paint(doc, 5)
    target = tmp_path / "small.ora"
    window.controller.set_path(str(target))
    assert window.save()
    assert target.is_file() and not doc.modified and not window.files.io.busy


def test_leftover_temps_are_cleaned_and_saves_through_a_symlink_write_the_target(qtbot, window, tmp_path):
    """Point 4's smaller defects (done in core.atomic): checked through the window's Save."""
    import os

    real = tmp_path / "real"
    real.mkdir()
    dead = real / f".doc.ora.ganpaint-{2**22 + 12345}-abcd.tmp"  # a writer pid that does not exist
    dead.write_bytes(b"x" * 100)
    old_t = time.time() - 3 * 60
    os.utime(dead, (old_t, old_t))
    link = tmp_path / "link.ora"
    target = real / "doc.ora"
    _doc_with_layers(window)
    window.controller.set_path(str(target))
    assert window.save()  # the first write into the folder removes the dead writer's temp
    assert not dead.exists()
    link.symlink_to(target)
    window.controller.set_path(str(link))
    _paint(window.controller.document, 77)
    assert window.save()
    assert link.is_symlink() and Path(os.readlink(link)) == target
    assert ora.load_ora(target).layers[-1].pixels[0, 0, 0] == 77
    assert not [p for p in real.iterdir() if p.name.endswith(".tmp")]
