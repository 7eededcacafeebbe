"""Atomic file writes: write beside the target, fsync, then rename over it.

A crash, a full disk or an exception while writing never leaves a half-written
file at the target path: either the old file is still there, untouched, or the
new one is complete. The temporary file lives in the target's folder (so the
final ``os.replace`` is a rename within one file system) and is removed on failure.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a binary file object that replaces ``path`` when the block ends without error.

    Raises OSError (unchanged) when the temporary file cannot be created, written,
    flushed to disk or renamed; callers turn it into a message naming the file.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            # fsync before the rename: otherwise a power cut can leave an empty file
            # under the new name on some file systems (ext4 delalloc).
            os.fsync(fh.fileno())
        _set_mode(tmp_name, target)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_folder(folder)


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
