"""Atomic file writes: write beside the target, fsync, then rename over it.

A crash, a full disk or an exception while writing never leaves a half-written
file at the target path: either the old file is still there, untouched, or the
new one is complete. The temporary file lives in the target's folder (so the
final ``os.replace`` is a rename within one file system) and is removed on failure.

A path that is a symbolic link is written through: the file the link points to is
replaced, and the link stays a link.

Temporary files are named ``.<target>.ganpaint-<pid>-<random>.tmp``. A process killed
while writing leaves one behind; ``clean_stale_temps(folder)`` removes those whose
writing process is gone (after a short grace) or that have not changed for
``STALE_AFTER_S``. Every atomic write cleans its folder that way (at most once a
minute per folder), and the recovery and model folders are cleaned when opened.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "STALE_AFTER_S",
    "atomic_path",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "clean_stale_temps",
    "is_temp_name",
]

#: a temporary file unchanged for this long is a leftover, whoever wrote it
STALE_AFTER_S = 30 * 60
#: a temporary file of a process that no longer runs is a leftover once this old
DEAD_WRITER_GRACE_S = 120
#: an atomic write cleans its folder at most this often (per process)
_CLEAN_EVERY_S = 60.0

_TEMP_TAG = "ganpaint"
# .<target>.ganpaint-<pid>-<random>.tmp (mkstemp's random part: letters, digits, '_')
_TEMP_RE = re.compile(r"^\..+\." + _TEMP_TAG + r"-(?P<pid>[0-9]{1,10})-[A-Za-z0-9_]{4,16}\.tmp$")
# what the model store and the engine wrote before: .<target>.<pid>.tmp (only cleaned with legacy=True)
_LEGACY_RE = re.compile(r"^\..+\.(?P<pid>[0-9]{1,10})\.tmp$")

_lock = threading.Lock()
_in_flight: set[str] = set()  # temp files this process is writing now (never cleaned)
_cleaned_at: dict[str, float] = {}  # folder -> monotonic time of its last cleaning


@contextlib.contextmanager
def _replacing(path: str | os.PathLike[str]) -> Iterator[tuple[int, str, Path]]:
    """(fd, temp name, target) of a new temporary file beside ``path`` (links followed); when
    the block ends without error the temp file takes the target's mode and replaces it, the
    folder is synced and cleaned now and then; on any error the temp file is removed and the
    target stays. The block owns ``fd`` and must fsync what it wrote."""
    target = _resolve(path)
    fd, tmp_name = _make_temp(target)
    try:
        yield fd, tmp_name, target
        _set_mode(tmp_name, target)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    finally:
        with _lock:
            _in_flight.discard(tmp_name)
    _fsync_folder(target.parent)
    _clean_now_and_then(target.parent)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a binary file object that replaces ``path`` when the block ends without error.

    Raises OSError (unchanged) when the temporary file cannot be created, written,
    flushed to disk or renamed; callers turn it into a message naming the file.
    A symbolic link at ``path`` is followed: its target file is replaced.
    """
    with _replacing(path) as (fd, _tmp_name, _target), os.fdopen(fd, "wb") as fh:
        yield fh
        fh.flush()
        # fsync before the rename: otherwise a power cut can leave an empty file
        # under the new name on some file systems (ext4 delalloc).
        os.fsync(fh.fileno())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Like atomic_write, for writers that need a file name (``safetensors.save_file``):
    yields the path of an empty temporary file beside the target (same naming, so a
    killed process's leftover is cleaned) and renames it over the target when the block
    ends without error. Symbolic links are followed as in atomic_write."""
    with _replacing(path) as (fd, tmp_name, _target):
        os.close(fd)
        yield Path(tmp_name)
        with open(tmp_name, "rb+") as fh:
            os.fsync(fh.fileno())


def _resolve(path: str | os.PathLike[str]) -> Path:
    # Saving through a symbolic link must replace the file it points to, not the link
    # (os.replace over the link would turn it into an ordinary file).
    return Path(os.path.realpath(os.fspath(path)))


def _temp_stem(target: Path) -> str:
    """The part of a temp file's name taken from its target's (long names are cut)."""
    return target.name if len(target.name) <= 120 else target.name[:120]


def _make_temp(target: Path) -> tuple[int, str]:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{_temp_stem(target)}.{_TEMP_TAG}-{os.getpid()}-", suffix=".tmp",
                                    dir=target.parent)
    with _lock:
        _in_flight.add(tmp_name)
    return fd, tmp_name


def is_temp_name(name: str, *, legacy: bool = False) -> bool:
    """Whether ``name`` (a file name) is an atomic write's temporary file."""
    return bool(_TEMP_RE.match(name) or (legacy and _LEGACY_RE.match(name)))


def clean_stale_temps(
    folder: str | os.PathLike[str],
    *,
    legacy: bool = False,
    now: float | None = None,
) -> list[Path]:
    """Remove leftover temporary files of interrupted atomic writes in ``folder`` (not below it).

    A temp file goes when the process that wrote it no longer runs and it is older than
    DEAD_WRITER_GRACE_S, or when it has not changed for STALE_AFTER_S (a pid reused by
    another program, a file written from another computer). This process's own writes in
    progress are never touched. ``legacy`` also cleans ``.<name>.<pid>.tmp`` files (the
    model store's former naming; only for folders GANPaint owns). Never raises; returns
    what was removed.
    """
    now = time.time() if now is None else now

    def stale(entry: os.DirEntry[str], pid: int) -> bool:
        with _lock:
            busy = set(_in_flight)
        if entry.path in busy or os.path.realpath(entry.path) in busy:
            return False
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            return False
        if not stat.S_ISREG(st.st_mode):
            return False  # never a link or a folder
        age = now - st.st_mtime
        return age > STALE_AFTER_S or (age > DEAD_WRITER_GRACE_S and not _writer_alive(pid))

    return _sweep(folder, stale, legacy=legacy)


def remove_temps_of(path: str | os.PathLike[str], pid: int) -> list[Path]:
    """Remove the temporary files that process ``pid`` left beside ``path``'s target (links
    followed) while writing it: for a writer known to be gone (it was killed or crashed), so
    they need not wait for :func:`clean_stale_temps`. Never raises; returns what was removed."""
    target = _resolve(path)
    prefix = f".{_temp_stem(target)}."
    return _sweep(target.parent, lambda entry, writer: writer == pid and entry.name.startswith(prefix))


def _sweep(folder: str | os.PathLike[str], doomed: Callable[[os.DirEntry[str], int], bool], *,
           legacy: bool = False) -> list[Path]:
    """Unlink the atomic-write temp files in ``folder`` (``legacy``: the old naming too) for
    which ``doomed(entry, writer_pid)`` holds. Never raises; returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_RE.match(entry.name) or (_LEGACY_RE.match(entry.name) if legacy else None)
        if m is None or not doomed(entry, int(m.group("pid"))):
            continue
        try:
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def _writer_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours but not in flight: an earlier write of this process that failed to clean up
    from ganpaint.core.recovery import process_alive  # recovery imports this module

    try:
        return process_alive(pid)
    except Exception:  # noqa: BLE001 - when in doubt, the file is not stale yet
        return True


def _clean_now_and_then(folder: Path) -> None:
    key = os.fspath(folder)
    t = time.monotonic()
    with _lock:
        last = _cleaned_at.get(key)
        if last is not None and t - last < _CLEAN_EVERY_S:
            return
        _cleaned_at[key] = t
    clean_stale_temps(folder)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_write(path) as fh:
        fh.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _set_mode(tmp_name: str, target: Path) -> None:
    # mkstemp creates 0600 files; keep an existing file's permissions, otherwise
    # give the usual permissions of a new file (0666 minus the umask).
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    with contextlib.suppress(OSError):
        os.chmod(tmp_name, mode)


def _umask() -> int:
    # os.umask() can only be read by setting it, which races with other threads;
    # Linux publishes it in /proc instead.
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
