"""Arrays between the editor and a worker process through one shared-memory block.

One block holds every array of a message (a request's pictures, alpha and mask; a
result's picture and alpha), each at a 64-byte aligned offset; the message itself
carries only :class:`Slot` descriptors. The side that reads gets views (no copy) or
copies, as it asks.

Ownership, so nothing is left in ``/dev/shm``: the editor names every block (a
result block too: the worker creates it under the name the editor gave, so the
editor can remove it when the worker died before saying so) and the editor unlinks
every block, once. The worker only creates, maps and closes. Spawned workers share
the editor's resource tracker, whose register/unregister calls form a set, so the
one unlink clears the double registration Python 3.11 makes on attach.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import shared_memory

import numpy as np

__all__ = ["PREFIX", "Slot", "block_name", "close_quietly", "layout", "pack", "unlink_name", "in_use", "unpack", "views", "write"]

#: every block this program makes starts with it (tests look for leftovers by it)
PREFIX = "gpw"
_ALIGN = 64


@dataclass(frozen=True)
class Slot:
    """Where one array sits in a block."""

    offset: int
    shape: tuple[int, ...]
    dtype: str


def block_name(tag: str = "") -> str:
    """A fresh block name (short: macOS allows 31 characters)."""
    return f"{PREFIX}{os.getpid():x}_{secrets.token_hex(5)}{tag}"


def layout(arrays: Sequence[np.ndarray | None]) -> tuple[list[np.ndarray | None], list[Slot | None], int]:
    """Contiguous arrays, their slots, and the bytes a block needs for them."""
    slots: list[Slot | None] = []
    contiguous: list[np.ndarray | None] = []
    offset = 0
    for arr in arrays:
        if arr is None:
            slots.append(None)
            contiguous.append(None)
            continue
        a = np.ascontiguousarray(arr)
        slots.append(Slot(offset, tuple(int(n) for n in a.shape), a.dtype.str))
        contiguous.append(a)
        offset += (a.nbytes + _ALIGN - 1) // _ALIGN * _ALIGN
    return contiguous, slots, offset


def write(shm: shared_memory.SharedMemory, contiguous: Sequence[np.ndarray | None],
          slots: Sequence[Slot | None]) -> None:
    """Copy arrays laid out by :func:`layout` into ``shm`` (large enough)."""
    for a, slot in zip(contiguous, slots, strict=True):
        if a is not None and slot is not None and a.nbytes:
            np.ndarray(slot.shape, np.dtype(slot.dtype), buffer=shm.buf, offset=slot.offset)[...] = a


def pack(arrays: Sequence[np.ndarray | None], name: str | None = None, *,
         reuse: shared_memory.SharedMemory | None = None, spare: float = 1.0,
         ) -> tuple[shared_memory.SharedMemory | None, list[Slot | None]]:
    """Copy ``arrays`` into one block; None where an array is None. ``reuse``: that block when
    they fit in it (its pages are already mapped: a fresh block costs a page fault per 4 KB,
    which dominates moving a picture), else a new one named ``name`` (or fresh), ``spare``
    times the size needed. No block (None) when there is nothing to carry and nothing to reuse."""
    contiguous, slots, total = layout(arrays)
    if reuse is not None and total <= reuse.size:
        write(reuse, contiguous, slots)
        return reuse, slots
    if total == 0:
        return None, slots
    size = max(total, int(total * spare) // _ALIGN * _ALIGN)
    shm = shared_memory.SharedMemory(name=name or block_name(), create=True, size=size)
    try:
        write(shm, contiguous, slots)
    except BaseException:
        close_quietly(shm, unlink=True)
        raise
    return shm, slots


def views(shm: shared_memory.SharedMemory | None, slots: Sequence[Slot | None], *, copy: bool
          ) -> list[np.ndarray | None]:
    """The arrays in ``shm``: read-only views of the block (``copy`` False: keep the block open
    while they are used) or writable copies."""
    out: list[np.ndarray | None] = []
    for slot in slots:
        if slot is None or shm is None:
            out.append(None)
            continue
        view = np.ndarray(slot.shape, np.dtype(slot.dtype), buffer=shm.buf, offset=slot.offset)
        if copy:
            out.append(view.copy())
        else:
            view.setflags(write=False)
            out.append(view)
        del view
    return out


def unpack(name: str | None, slots: Sequence[Slot | None], *, copy: bool
           ) -> tuple[shared_memory.SharedMemory | None, list[np.ndarray | None]]:
    """Map block ``name`` and return it with its arrays (see :func:`views`)."""
    if name is None:
        return None, [None for _ in slots]
    shm = shared_memory.SharedMemory(name=name)
    return shm, views(shm, slots, copy=copy)


def in_use(shm: shared_memory.SharedMemory) -> bool:
    """Whether some array still views ``shm``. A numpy view of the block holds a reference to
    its mmap (its ``base``); the block itself holds two (its attribute and its memoryview)."""
    import sys

    mm = getattr(shm, "_mmap", None)
    return mm is not None and sys.getrefcount(mm) > 4  # + our local name and getrefcount's argument


#: blocks still mapped by an array a tool kept (closed on a later try)
_pinned: list[shared_memory.SharedMemory] = []


def close_quietly(shm: shared_memory.SharedMemory | None, *, unlink: bool = False) -> None:
    """Close (and unlink) a block. A block some array still views cannot be unmapped yet:
    it stays mapped (its name is gone once unlinked) and is closed on a later call."""
    for old in list(_pinned):
        if not in_use(old):
            _pinned.remove(old)
            with contextlib.suppress(BufferError):
                old.close()
    if shm is None:
        return
    if unlink:
        with contextlib.suppress(FileNotFoundError):
            shm.unlink()
    if in_use(shm):  # unmapping under a live array would crash when it is read
        if shm not in _pinned:
            _pinned.append(shm)
        return
    try:
        shm.close()
    except BufferError:
        _pinned.append(shm)


def unlink_name(name: str) -> None:
    """Remove block ``name`` if it exists (a worker that died after making its result block)."""
    try:
        shm = shared_memory.SharedMemory(name=name)
    except (FileNotFoundError, ValueError, OSError):
        return
    close_quietly(shm, unlink=True)
