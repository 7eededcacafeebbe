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

__all__ = ["PREFIX", "Slot", "block_name", "close_quietly", "pack", "unlink_name", "unpack"]

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


def pack(arrays: Sequence[np.ndarray | None], name: str | None = None
         ) -> tuple[shared_memory.SharedMemory | None, list[Slot | None]]:
    """Copy ``arrays`` into one new block (named ``name`` or fresh); None where an array is
    None. No block (None) when there is nothing to carry."""
    slots: list[Slot | None] = []
    offset = 0
    contiguous: list[np.ndarray | None] = []
    for arr in arrays:
        if arr is None:
            slots.append(None)
            contiguous.append(None)
            continue
        a = np.ascontiguousarray(arr)
        slots.append(Slot(offset, tuple(int(n) for n in a.shape), a.dtype.str))
        contiguous.append(a)
        offset += (a.nbytes + _ALIGN - 1) // _ALIGN * _ALIGN
    if offset == 0:
        return None, slots
    shm = shared_memory.SharedMemory(name=name or block_name(), create=True, size=offset)
    try:
        for a, slot in zip(contiguous, slots, strict=True):
            if a is not None and slot is not None and a.nbytes:
                np.ndarray(slot.shape, np.dtype(slot.dtype), buffer=shm.buf, offset=slot.offset)[...] = a
    except BaseException:
        close_quietly(shm, unlink=True)
        raise
    return shm, slots


def unpack(name: str | None, slots: Sequence[Slot | None], *, copy: bool
           ) -> tuple[shared_memory.SharedMemory | None, list[np.ndarray | None]]:
    """Map block ``name`` and return its arrays: read-only views of the block (``copy``
    False: keep the block open while they are used) or writable copies."""
    if name is None:
        return None, [None for _ in slots]
    shm = shared_memory.SharedMemory(name=name)
    out: list[np.ndarray | None] = []
    for slot in slots:
        if slot is None:
            out.append(None)
            continue
        view = np.ndarray(slot.shape, np.dtype(slot.dtype), buffer=shm.buf, offset=slot.offset)
        if copy:
            out.append(view.copy())
        else:
            view.setflags(write=False)
            out.append(view)
        del view
    return shm, out


#: blocks still mapped by an array a tool kept (closed on a later try)
_pinned: list[shared_memory.SharedMemory] = []


def close_quietly(shm: shared_memory.SharedMemory | None, *, unlink: bool = False) -> None:
    """Close (and unlink) a block. A block some array still views cannot be unmapped yet:
    it stays mapped (its name is gone once unlinked) and is closed on a later call."""
    for old in list(_pinned):
        try:
            old.close()
            _pinned.remove(old)
        except BufferError:
            pass
    if shm is None:
        return
    if unlink:
        with contextlib.suppress(FileNotFoundError):
            shm.unlink()
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
