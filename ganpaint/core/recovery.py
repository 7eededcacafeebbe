"""Autosave to a recovery folder, and recovery after a crash (no timers here: the GUI calls us).

Each autosave is an OpenRaster file plus a small JSON sidecar naming the original file, the
time, a title, and the writing process (pid, its start time where the OS tells it, and a
session id). On a clean exit the GUI calls ``discard(doc_key)`` for each document and then
``clear_session()``. At the next start, ``pending()`` lists what a process that is no longer
running left behind; ``restore(entry)`` reopens it as a modified document.

    store = RecoveryStore()                    # paths.recovery_dir(), a new session id
    store.save(doc, doc_key="doc-1")           # soon after the first change, then each interval
    store.discard("doc-1")                     # the document was saved or closed
    for entry in RecoveryStore().pending(): doc = store.restore(entry); ...; store.discard_entry(entry)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganpaint.core import paths
from ganpaint.core.atomic import atomic_write_text, clean_stale_temps
from ganpaint.core.errors import ImageWriteError, describe_os_error
from ganpaint.core.ora import DocumentSnapshot, load_ora, save_ora

if TYPE_CHECKING:
    from ganpaint.core.document import Document

__all__ = ["RecoveryEntry", "RecoveryStore", "process_alive"]

_SIDECAR_VERSION = 1


@dataclass(frozen=True)
class RecoveryEntry:
    """One autosaved document. ``saved_at`` is seconds since the epoch."""

    doc_key: str
    ora_path: Path
    meta_path: Path
    original_path: str | None
    title: str
    saved_at: float
    pid: int
    session_id: str

    @property
    def label(self) -> str:
        """For the recovery dialog: the title and when it was saved."""
        return f"{self.title} (autosaved {time.strftime('%Y-%m-%d %H:%M', time.localtime(self.saved_at))})"


class RecoveryStore:
    def __init__(
        self,
        folder: str | os.PathLike[str] | None = None,
        *,
        session_id: str | None = None,
        compress_level: int = 1,
    ) -> None:
        self.folder = Path(folder) if folder is not None else paths.recovery_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(self.folder)  # what autosaves of killed processes left half-written
        self.session_id = session_id or uuid.uuid4().hex
        self.pid = os.getpid()
        self._pid_start = _process_start(self.pid)
        self._compress_level = compress_level  # autosave favours speed over file size

    # -- this session ---------------------------------------------------------------------------
    def save(self, doc: Document | DocumentSnapshot, doc_key: str, *, title: str | None = None) -> RecoveryEntry:
        """Autosave ``doc`` (atomically; an older autosave of it stays until this one is complete).

        Pass ``ora.snapshot(doc)`` to run the save in a worker thread (big documents take seconds).

        Raises ImageWriteError naming the recovery file (e.g. disk full). The document's own
        state (path, modified) is not touched.
        """
        stem = self._stem(self.session_id, doc_key)
        ora_path, meta_path = self.folder / f"{stem}.ora", self.folder / f"{stem}.json"
        original = doc.path
        shown = title or (Path(original).name if original else "Untitled")
        save_ora(doc, ora_path, compress_level=self._compress_level)
        meta = {
            "version": _SIDECAR_VERSION,
            "doc_key": doc_key,
            "ora": ora_path.name,
            "original_path": original,
            "title": shown,
            "saved_at": time.time(),
            "pid": self.pid,
            "pid_start": self._pid_start,
            "session": self.session_id,
        }
        try:
            atomic_write_text(meta_path, json.dumps(meta, indent=1))
        except OSError as exc:
            reason = describe_os_error(exc)
            raise ImageWriteError(f"Cannot write '{meta_path}': {reason}.", path=meta_path, reason=reason) from None
        entry = self._entry(meta, meta_path)
        assert entry is not None  # we just wrote every field
        return entry

    def discard(self, doc_key: str) -> None:
        """Forget this session's autosave of ``doc_key`` (saved or closed without a crash)."""
        stem = self._stem(self.session_id, doc_key)
        for suffix in (".json", ".ora"):  # sidecar first: an ora without one is ignored
            with contextlib.suppress(OSError):
                (self.folder / f"{stem}{suffix}").unlink()

    def clear_session(self) -> None:
        """Remove every autosave of this session (clean exit)."""
        for meta_path in self.folder.glob(f"{self.session_id}-*.json"):
            self._remove(meta_path, meta_path.with_suffix(".ora"))

    # -- after a crash --------------------------------------------------------------------------
    def pending(self) -> list[RecoveryEntry]:
        """Autosaves left by processes that are no longer running, newest first."""
        found: list[RecoveryEntry] = []
        for meta_path in self.folder.glob("*.json"):
            meta = _read_json(meta_path)
            if meta is None or meta.get("session") == self.session_id:
                continue
            entry = self._entry(meta, meta_path)
            if entry is None or not entry.ora_path.is_file():
                continue
            pid_start = meta.get("pid_start")
            if process_alive(entry.pid, pid_start if isinstance(pid_start, (int, float)) else None):
                continue  # another GANPaint window is running and owns it
            found.append(entry)
        found.sort(key=lambda e: e.saved_at, reverse=True)
        return found

    def restore(self, entry: RecoveryEntry, **doc_kwargs: Any) -> Document:
        """Reopen an autosave: the document keeps its original path and is marked modified.

        Raises FileFormatError naming the recovery file when it is damaged.
        """
        doc = load_ora(entry.ora_path, **doc_kwargs)
        doc.path = entry.original_path
        doc.modified = True
        doc.notes.insert(0, f"Recovered from an autosave of {time.ctime(entry.saved_at)}.")
        return doc

    def discard_entry(self, entry: RecoveryEntry) -> None:
        """Remove a pending autosave (recovered and re-saved, or declined by the user)."""
        self._remove(entry.meta_path, entry.ora_path)

    # -- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _stem(session_id: str, doc_key: str) -> str:
        # doc_key may be anything (a path, "doc-3"); a hash keeps file names short and safe
        return f"{session_id}-{hashlib.sha1(doc_key.encode('utf-8')).hexdigest()[:16]}"

    def _entry(self, meta: dict[str, Any], meta_path: Path) -> RecoveryEntry | None:
        try:
            ora_name = str(meta["ora"])
            if Path(ora_name).name != ora_name:  # only files inside the folder
                return None
            original = meta.get("original_path")
            return RecoveryEntry(
                doc_key=str(meta["doc_key"]),
                ora_path=self.folder / ora_name,
                meta_path=meta_path,
                original_path=str(original) if original else None,
                title=str(meta.get("title") or "Untitled"),
                saved_at=float(meta["saved_at"]),
                pid=int(meta["pid"]),
                session_id=str(meta["session"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    @staticmethod
    def _remove(meta_path: Path, ora_path: Path) -> None:
        for p in (meta_path, ora_path):
            with contextlib.suppress(OSError):
                p.unlink()


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _process_start(pid: int) -> float | None:
    """The process's start time in clock ticks since boot (Linux), to detect a reused pid."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return float(fields[19])  # field 22 overall; 20 after "pid (comm)"
    except (OSError, IndexError, ValueError):
        return None


def process_alive(pid: int, start: float | None = None) -> bool:
    """Whether process ``pid`` runs (and, when ``start`` is known, is the same process)."""
    if pid <= 0:
        return False
    if os.name == "nt":
        return _windows_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    if start is not None:
        now = _process_start(pid)
        if now is not None and now != start:
            return False  # the pid was reused by a newer process
    return True


def _windows_alive(pid: int) -> bool:  # pragma: no cover - exercised on Windows only
    # os.kill on Windows terminates the process, so ask the kernel instead.
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return False
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)
