"""Writing an .ora file from a separate process, so that the editor's GUI thread never shares
the GIL with the writer.

A background Save of a large document takes seconds to tens of seconds (five 4000x3000
layers deflated at level 6: ~20 s on two busy cores). Written from a thread of the editor,
the writer's Python parts compete with the GUI thread for the GIL the whole time; from a
process they cannot. :func:`write_snapshot` is called on the editor's file thread
(``qt.background_io``) with an ``ora.snapshot`` and blocks until the file is written:

* the layers' pixels (and results' "before" pictures) are copied into one shared-memory
  block (:mod:`ganpaint.engine.jobs.shm`; one copy, no pickling of pixels); everything else
  (names, properties, result parameters, attachments) is pickled, small;
* a "spawn" process (fork is unsafe with Qt's and torch's threads) maps the block and calls
  ``ora.write_ora`` as the editor would (atomic: temp file beside the target, ``os.replace``;
  links followed; a full disk is an ImageWriteError), sends back "ok" or the error's one
  sentence, and ends;
* the process ignores SIGINT, SIGTERM and SIGHUP: a Ctrl+C in the terminal or a logout reaches
  the editor, which decides (it waits for the save before it exits). If the process dies anyway
  (SIGKILL, a crash), the old file is intact (the replace is the last step), its temp file is
  removed here, and the save fails with one sentence;
* the editor names and unlinks the block, always.

Where no process or shared memory can be made (no ``/dev/shm``, a sandbox), the file is
written in the calling thread instead, as before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
from typing import Any

import numpy as np

from ganpaint.core.atomic import remove_temps_of
from ganpaint.core.errors import GanpaintError, ImageWriteError
from ganpaint.core.ora import DocumentSnapshot, save_ora
from ganpaint.engine.jobs import shm

log = logging.getLogger(__name__)

__all__ = ["SaveProcessError", "write_snapshot"]


class SaveProcessError(ImageWriteError):
    """The writing process ended without saying how the save went (killed, crashed)."""


def write_snapshot(snap: DocumentSnapshot, path: str | os.PathLike[str], *, compress_level: int = 6) -> int:
    """Write ``snap`` to ``path`` as OpenRaster from a separate process; wait for it.

    Returns the writing process's pid (this process's own when it had to write here).
    Raises ImageWriteError (one sentence naming the file): the writer's own error (disk
    full, permission denied ...) or, when the process ended without an answer, a
    SaveProcessError; the old file at ``path`` is intact in both cases."""
    name = os.fspath(path)
    try:
        arrays, meta = _split(snap)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:  # a plugin's odd parameter value
        log.warning("saving %s in this process (cannot hand it to another: %s)", name, exc)
        save_ora(snap, name, compress_level=compress_level)
        return os.getpid()
    try:
        block, slots = shm.pack(arrays)
    except (OSError, ValueError) as exc:  # no shared memory here: write as before
        log.warning("saving %s in this process (no shared memory: %s)", name, exc)
        save_ora(snap, name, compress_level=compress_level)
        return os.getpid()
    try:
        return _run(block.name if block is not None else None, slots, meta, name, compress_level, snap)
    finally:
        shm.close_quietly(block, unlink=True)


def _split(snap: DocumentSnapshot) -> tuple[list[np.ndarray | None], bytes]:
    """The arrays that go through shared memory, and the rest of the snapshot, pickled."""
    arrays: list[np.ndarray | None] = []
    layers: list[dict[str, Any]] = []
    for layer in snap.layers:
        arrays.append(layer.pixels)
        info = None
        if layer.result is not None:
            info = layer.result.copy()
            arrays.append(info.before)
            info.before = None
        else:
            arrays.append(None)
        layers.append({"name": layer.name, "id": layer.id, "x": layer.x, "y": layer.y, "visible": layer.visible,
                       "opacity": layer.opacity, "blend": layer.blend.value, "locked": layer.locked,
                       "kind": layer.kind.value, "result": info})
    meta = {"width": snap.width, "height": snap.height, "active": snap.active, "icc": snap.icc_profile,
            "layers": layers}
    return arrays, pickle.dumps(meta, protocol=pickle.HIGHEST_PROTOCOL)


def _run(block: str | None, slots: list[Any], meta: bytes, name: str, level: int, snap: DocumentSnapshot) -> int:
    import multiprocessing
    from multiprocessing.connection import wait

    mp = multiprocessing.get_context("spawn")  # fork is unsafe with Qt's and torch's threads
    conn, child_conn = mp.Pipe(duplex=False)
    proc = mp.Process(target=_child, args=(child_conn, block, slots, meta, name, level),
                      name="ganpaint-save", daemon=False)
    try:
        proc.start()
    except OSError as exc:  # cannot start a process: write as before
        log.warning("saving %s in this process (cannot start one: %s)", name, exc)
        conn.close()
        child_conn.close()
        save_ora(snap, name, compress_level=level)
        return os.getpid()
    child_conn.close()
    answer: Any = None
    try:
        while answer is None:
            ready = wait([conn, proc.sentinel])
            if conn in ready:
                try:
                    answer = conn.recv()
                except (EOFError, OSError):
                    break  # the process is gone without a word
            elif proc.sentinel in ready:
                if conn.poll(0):
                    continue  # its last words are in the pipe
                break
        proc.join()
    finally:
        conn.close()
        if proc.is_alive():  # only when this thread was interrupted (KeyboardInterrupt)
            proc.kill()
            proc.join(5)
    pid = int(proc.pid or 0)
    if answer is None:
        removed = remove_temps_of(name, pid)
        how = _how_it_ended(proc.exitcode)
        log.warning("the process saving %s ended without an answer (%s); removed %d temp file(s)", name, how,
                    len(removed))
        raise SaveProcessError(
            f"Cannot save '{name}': the process writing it ended unexpectedly ({how}); the file on disk "
            "and the document are as they were.", path=name, reason="writer ended")
    if answer[0] == "ok":
        return pid
    _kind, message, reason = answer
    raise ImageWriteError(message, path=name, reason=reason)


def _how_it_ended(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


# --------------------------------------------------------------------------- in the process


def _child(conn: Any, block: str | None, slots: list[Any], meta: bytes, name: str, level: int) -> None:
    """The writing process: rebuild the layers on the shared pixels, write, answer, end."""
    for sig in ("SIGINT", "SIGTERM", "SIGHUP"):  # the editor decides; it waits for this save
        if hasattr(signal, sig):
            signal.signal(getattr(signal, sig), signal.SIG_IGN)
    block_shm = None
    try:
        from ganpaint.core.layers import Layer
        from ganpaint.core.ora import write_ora

        data = pickle.loads(meta)  # noqa: S301 - written by the editor that started this process
        if block is not None:
            from multiprocessing import shared_memory

            block_shm = shared_memory.SharedMemory(name=block)
        arrays = [None if s is None or block_shm is None else
                  np.ndarray(s.shape, np.dtype(s.dtype), buffer=block_shm.buf, offset=s.offset) for s in slots]
        layers = []
        for i, props in enumerate(data["layers"]):
            info = props.pop("result")
            if info is not None:
                info.before = arrays[2 * i + 1]
            # a writable, contiguous uint8 view: the Layer keeps it (no copy)
            layers.append(Layer(arrays[2 * i], result=info, **props))
        del arrays
        write_ora(name, data["width"], data["height"], layers, active=data["active"], icc_profile=data["icc"],
                  compress_level=level)
        del layers
        answer: tuple[Any, ...] = ("ok",)
    except GanpaintError as exc:
        answer = ("error", str(exc), getattr(exc, "reason", None) or "error")
    except MemoryError:
        answer = ("error", f"Cannot write '{name}': there is not enough memory to write it.", "out of memory")
    except Exception as exc:  # noqa: BLE001 - every failure is one sentence for the editor
        answer = ("error", f"Cannot write '{name}': {type(exc).__name__}: {exc}.", "error")
    with contextlib.suppress(Exception):
        conn.send(answer)
        conn.close()
    if block_shm is not None:
        with contextlib.suppress(Exception):
            block_shm.close()
