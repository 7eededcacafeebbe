"""Recovery: autosaves survive a crashed process and are offered back; a clean exit leaves none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ganpaint.core.document import Document
from ganpaint.core.errors import FileFormatError
from ganpaint.core.layers import Layer
from ganpaint.core.recovery import RecoveryStore, process_alive


def _doc(seed: int = 0, path: str | None = None) -> Document:
    rng = np.random.default_rng(seed)
    doc = Document.from_layers(16, 12, [Layer(rng.integers(0, 256, (12, 16, 4), dtype=np.uint8), name="Paint")])
    doc.path = path
    return doc


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _as_crashed(store: RecoveryStore, folder: Path) -> None:
    """Rewrite this store's sidecars as if written by a process that has since died."""
    pid = _dead_pid()
    for meta in folder.glob(f"{store.session_id}-*.json"):
        data = json.loads(meta.read_text())
        data["pid"], data["pid_start"] = pid, None
        meta.write_text(json.dumps(data))


def test_default_folder_is_the_recovery_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path))
    assert RecoveryStore().folder == tmp_path / "recovery"


def test_own_and_live_sessions_are_not_pending(tmp_path: Path) -> None:
    store = RecoveryStore(tmp_path)
    entry = store.save(_doc(), "doc-1")
    assert entry.ora_path.is_file() and entry.meta_path.is_file()
    assert store.pending() == []
    # another window of a running GANPaint (this very process) owns its autosaves
    assert RecoveryStore(tmp_path).pending() == []


def test_a_crashed_session_is_offered_and_restored(tmp_path: Path) -> None:
    crashed = RecoveryStore(tmp_path)
    original = _doc(1, path="/pictures/cat.ora")
    original.add_layer("unsaved work")
    crashed.save(original, "doc-1")
    crashed.save(_doc(2), "doc-2", title="Untitled 2")
    _as_crashed(crashed, tmp_path)

    later = RecoveryStore(tmp_path)
    pending = later.pending()
    assert sorted(e.doc_key for e in pending) == ["doc-1", "doc-2"]
    assert pending[0].saved_at >= pending[1].saved_at  # newest first
    entry = next(e for e in pending if e.doc_key == "doc-1")
    assert entry.title == "cat.ora" and entry.original_path == "/pictures/cat.ora" and "autosaved" in entry.label
    doc = later.restore(entry)
    assert doc.path == "/pictures/cat.ora" and doc.modified
    assert [la.name for la in doc.layers] == ["Paint", "unsaved work"]
    np.testing.assert_array_equal(doc.layers[0].pixels, original.layers[0].pixels)
    assert "Recovered" in doc.notes[0]
    later.discard_entry(entry)
    assert [e.doc_key for e in later.pending()] == ["doc-2"]


def test_clean_exit_leaves_nothing(tmp_path: Path) -> None:
    store = RecoveryStore(tmp_path)
    store.save(_doc(), "a")
    store.save(_doc(), "b")
    store.discard("a")
    assert len(list(tmp_path.glob("*.ora"))) == 1
    store.clear_session()
    assert list(tmp_path.iterdir()) == []


def test_autosave_again_replaces_the_previous_one(tmp_path: Path) -> None:
    store = RecoveryStore(tmp_path)
    store.save(_doc(1), "a")
    store.save(_doc(2), "a")
    assert len(list(tmp_path.glob("*.ora"))) == 1 and len(list(tmp_path.glob("*.json"))) == 1
    _as_crashed(store, tmp_path)
    (entry,) = RecoveryStore(tmp_path).pending()
    np.testing.assert_array_equal(RecoveryStore(tmp_path).restore(entry).layers[0].pixels, _doc(2).layers[0].pixels)


def test_a_real_crash_in_another_process(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import os, numpy as np
        from ganpaint.core.document import Document
        from ganpaint.core.recovery import RecoveryStore
        doc = Document.from_array(np.full((8, 8, 4), 99, np.uint8))
        doc.path = "/x/picture.png"
        RecoveryStore({str(tmp_path)!r}).save(doc, "doc-1")
        os._exit(3)  # no clean-up, like a crash
    """)
    env = {k: v for k, v in os.environ.items() if k != "GANPAINT_DATA_DIR"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=60)
    assert result.returncode == 3, result.stderr.decode()
    (entry,) = RecoveryStore(tmp_path).pending()
    doc = RecoveryStore(tmp_path).restore(entry)
    assert doc.path == "/x/picture.png" and (doc.layers[0].pixels == 99).all()


def test_junk_in_the_folder_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{bad")
    (tmp_path / "y.json").write_text(json.dumps({"ora": "../../etc/passwd", "doc_key": "k", "saved_at": 1,
                                                 "pid": 1, "session": "s"}))
    (tmp_path / "z.json").write_text(json.dumps({"ora": "missing.ora", "doc_key": "k", "saved_at": 1,
                                                 "pid": _dead_pid(), "session": "s"}))
    (tmp_path / "orphan.ora").write_bytes(b"")
    assert RecoveryStore(tmp_path).pending() == []


def test_a_damaged_autosave_raises_naming_the_file(tmp_path: Path) -> None:
    store = RecoveryStore(tmp_path)
    entry = store.save(_doc(), "a")
    _as_crashed(store, tmp_path)
    entry.ora_path.write_bytes(b"PK\x03\x04 cut short")
    (pending,) = RecoveryStore(tmp_path).pending()
    with pytest.raises(FileFormatError, match=str(entry.ora_path.name)):
        RecoveryStore(tmp_path).restore(pending)


def test_process_alive() -> None:
    assert process_alive(os.getpid())
    assert not process_alive(_dead_pid())
    assert not process_alive(0)
    from ganpaint.core.recovery import _process_start

    start = _process_start(os.getpid())
    if start is not None:  # Linux: a reused pid with another start time counts as dead
        assert process_alive(os.getpid(), start)
        assert not process_alive(os.getpid(), start + 1)


def test_saving_a_snapshot(tmp_path: Path) -> None:
    from ganpaint.core.ora import snapshot

    store = RecoveryStore(tmp_path)
    entry = store.save(snapshot(_doc(5, path="/a/b.png")), "k")
    assert entry.title == "b.png" and entry.original_path == "/a/b.png"
