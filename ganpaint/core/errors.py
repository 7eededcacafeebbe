"""The errors GANPaint raises for files it cannot read or write.

Every message names the file, so the GUI and the command line can show
``str(error)`` as it is (one line, no traceback).

    GanpaintError
      ImageReadError        a picture could not be opened (missing, corrupt, bomb, ...)
        FileFormatError     a container (OpenRaster, recovery file) is malformed
          LimitExceededError  a file is beyond a safety limit (pixel budget, size, nesting, count)
      ImageWriteError       a file could not be written (disk full, permission denied, ...)
"""

from __future__ import annotations

import errno
import os

__all__ = [
    "FileFormatError",
    "GanpaintError",
    "LimitExceededError",
    "ImageReadError",
    "ImageWriteError",
    "describe_os_error",
]


class GanpaintError(Exception):
    """Base of GANPaint's own errors. ``path`` is the file concerned (or None)."""

    def __init__(self, message: str, *, path: str | os.PathLike[str] | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.path = os.fspath(path) if path is not None else None
        self.reason = reason


class ImageReadError(GanpaintError):
    """A picture could not be read.

    ``truncated`` is True when the file ends early but its beginning decodes: the editor
    may offer to open the readable part (``read_image(..., allow_truncated=True)``).
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike[str] | None = None,
        reason: str = "",
        truncated: bool = False,
    ) -> None:
        super().__init__(message, path=path, reason=reason)
        self.truncated = truncated


class FileFormatError(ImageReadError):
    """A document container (OpenRaster zip, recovery file) is missing parts or malformed.

    A subclass of ImageReadError so that "open any file" code needs one except clause.
    """


class LimitExceededError(FileFormatError):
    """A file was refused, before it was decoded, for going beyond a safety limit: the
    document pixel budget, the size or nesting depth of its XML/JSON, its number of layers,
    or an absurd coordinate. ``reason`` says which ("too large", "too deep", "too many
    layers", "bad coordinate"). Nothing was allocated for its pixels."""


class ImageWriteError(GanpaintError):
    """A file could not be written; the previous file at that path is left intact."""


_REASONS = {
    getattr(errno, "EDQUOT", errno.ENOSPC): "disk quota exceeded",  # no EDQUOT on Windows
    errno.ENOSPC: "disk full",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EISDIR: "it is a folder",
    errno.ENAMETOOLONG: "file name too long",
    errno.EMFILE: "too many open files",
    errno.EIO: "input/output error",
}


def describe_os_error(exc: OSError) -> str:
    """A short human reason for an OSError ("disk full", "permission denied", ...)."""
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    return exc.strerror or str(exc) or type(exc).__name__
