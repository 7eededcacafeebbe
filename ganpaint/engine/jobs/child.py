"""What runs inside a worker process: a loop that runs one tool at a time for the editor.

Started by :class:`~ganpaint.engine.jobs.workers.WorkerPool` with the "spawn" start
method; it imports the plugin's code itself (``spec.run``), so the plugin's module-level
caches (loaded models) stay warm between runs. Messages on the pipe, editor -> worker:
``("run", spec, request, block, slots, result_block, precision)``, ``("answer", ok,
value)``, ``("exit",)``; worker -> editor: ``("ready", pid)``, ``("loaded",)``,
``("progress", fraction, message, preview)``, ``("ask", "device" | "model_path", ...)``,
``("done", result, slots)``, ``("error", reason, traceback, user_error)``, ``("cancelled",)``.
Pictures travel in shared memory (:mod:`ganpaint.engine.jobs.shm`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import signal
import sys
import threading
import time
import traceback as tb_module
from types import SimpleNamespace
from typing import Any

import numpy as np

from ganpaint.core.specs import JobCancelled, ToolError, ToolRequest, ToolResult
from ganpaint.engine.jobs import shm


class ChildContext:
    """The RunContext a tool gets in the worker: progress and questions go to the editor;
    cancel is the editor's shared flag."""

    def __init__(self, conn: Any, cancel: Any, precision: str) -> None:
        self._conn = conn
        self._cancel = cancel
        self.precision = precision
        self._device: str | None = None

    @property
    def device(self) -> str:
        if self._device is None:  # asked once, only by tools that need it (the editor may import torch)
            self._device = str(self._ask("device"))
        return self._device

    @device.setter
    def device(self, value: str) -> None:
        self._device = value

    def cancelled(self) -> bool:
        return bool(self._cancel.is_set())

    def progress(self, fraction: float, message: str = "", preview: np.ndarray | None = None) -> None:
        if self._cancel.is_set():
            raise JobCancelled()
        frac = float(min(max(fraction, 0.0), 1.0)) if np.isfinite(fraction) else 0.0
        if preview is not None:
            preview = np.ascontiguousarray(preview)
        self._conn.send(("progress", frac, str(message), preview))
        if self._cancel.is_set():
            raise JobCancelled()

    def model_path(self, name: str, tool: str) -> str:
        return str(self._ask("model_path", name, tool))

    def _ask(self, *question: Any) -> Any:
        self._conn.send(("ask", *question))
        _, ok, value = self._conn.recv()
        if not ok:
            raise ToolError(str(value))
        return value


def _watch_parent(parent_pid: int) -> None:
    """End this worker when the editor is gone (killed: it could not say so)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(0)


#: torch threads this worker was given (``WorkerSettings.threads``, e.g. ``ganpaint run --jobs N``); 0: the default
_threads = 0


def main(conn: Any, cancel: Any, parent_pid: int, threads: int = 0) -> None:
    """The worker's loop (the process target). ``threads`` > 0: this worker's share of the
    cores (torch's intra-op threads, set before torch is imported and again once it is)."""
    global _threads
    # Ctrl+C in a terminal reaches the whole process group: the editor decides about cancel.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="ganpaint-parent-watch", daemon=True).start()
    from ganpaint.engine.inference.devices import prepare_torch_env

    if threads > 0:  # wins over the inherited environment: N workers share the cores
        _threads = int(threads)
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "GANPAINT_THREADS"):
            os.environ[var] = str(_threads)
    prepare_torch_env()
    conn.send(("ready", os.getpid()))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] == "exit":
            return
        if msg[0] == "run":
            _run(conn, cancel, *msg[1:])


def _import_from_file(name: str, path: str) -> None:
    """A single-file plugin the editor imported from its file (not on ``sys.path``): import it
    here from the same file under the same name, as plugin discovery does."""
    import importlib.util
    import sys

    if not path or name in sys.modules or importlib.util.find_spec(name) is not None:
        return
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


#: the editor's request block, mapped once and kept while the editor reuses it
_in: Any = None
#: this worker's result block (the editor maps it once; a larger result gets a new one)
_out: Any = None


def _map_request(block: str | None) -> Any:
    global _in
    if block is None:
        return None
    if _in is None or _in.name != block:
        shm.close_quietly(_in)  # the editor unlinked it; unmapped once no array views it
        _in = None
        _in, _ = shm.unpack(block, [], copy=False)
    return _in


def _run(conn: Any, cancel: Any, spec_fields: dict[str, Any], request: ToolRequest, block: str | None,
         slots: list[Any], result_block: str, precision: str) -> None:
    global _out
    from ganpaint.engine.jobs.queue import freeze
    from ganpaint.engine.jobs.runner import ToolRunError, load_tool_function, run_tool

    spec: Any = SimpleNamespace(**spec_fields)
    mapped = _map_request(block)
    reply: tuple[Any, ...]
    try:
        arrays = shm.views(mapped, slots, copy=False)
        n_images = len(request.images)
        images = dict(zip(request.images, arrays[:n_images], strict=True))
        req = freeze(dataclasses.replace(request, images=images, alpha=arrays[n_images], mask=arrays[n_images + 1]))
        del arrays, images
        ctx = ChildContext(conn, cancel, precision)
        try:
            _import_from_file(spec.run.partition(":")[0], spec.module_file)
            fn = load_tool_function(spec)
            if _threads and "torch" in sys.modules:  # the tool's import brought torch: its share of threads
                from ganpaint.engine.inference.devices import configure_torch

                configure_torch()
            conn.send(("loaded",))
            result = run_tool(spec, fn, req, ctx)
        except JobCancelled:
            reply = ("cancelled",)
        except ToolRunError as exc:
            reply = ("error", exc.reason, exc.traceback_text, exc.user_error)
        except BaseException as exc:  # noqa: BLE001 - reported, the worker lives on
            reply = ("error", f"failed: {type(exc).__name__}: {exc}", tb_module.format_exc(), False)
        else:
            del req
            try:
                out, out_slots = shm.pack([result.image, result.alpha], name=result_block, reuse=_out)
            except (OSError, MemoryError) as exc:  # no room for the result (a full /dev/shm, say)
                reply = ("error", f"its result could not be handed over: {type(exc).__name__}: {exc}", "", False)
            else:
                if out is not _out:
                    shm.close_quietly(_out)  # the editor unlinks the old one when it sees the new name
                    _out = out
                reply = ("done", ToolResult(image=np.zeros((0, 0, 3), np.float32), alpha=None, name=result.name,
                                            metadata=dict(result.metadata), attachments=dict(result.attachments),
                                            composited=result.composited),
                         out.name if out is not None else None, out_slots)
            del result
    finally:
        req = result = None  # noqa: F841 - drop this run's views before looking for kept ones
    if mapped is not None and shm.in_use(mapped):
        conn.send(("pinned",))
    conn.send(reply)


def generator_main(conn: Any, cancel: Any, parent_pid: int, target: str, kwargs_pickle: bytes) -> None:
    """A one-off worker (a training run): call ``target(**kwargs, cancel=...)``, a generator, and send
    each value it yields as ``("event", value)``, then ``("end",)`` or ``("error", message, traceback,
    user_error)``. ``cancel()`` is the editor's flag; the generator is expected to notice it, write
    what it must (a checkpoint) and end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="ganpaint-parent-watch", daemon=True).start()
    import importlib

    from ganpaint.engine.inference.devices import prepare_torch_env

    prepare_torch_env()
    try:
        module_name, _, attr = target.partition(":")
        fn: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            fn = getattr(fn, part)
        # the arguments come as a plain pickle (tensors copied: no shared handles to outlive)
        events = fn(**pickle.loads(kwargs_pickle), cancel=cancel.is_set)
        try:
            for value in events:
                # plain pickle: multiprocessing's own would hand torch tensors over as shared-memory
                # handles that vanish once this process drops them
                conn.send_bytes(pickle.dumps(("event", value), protocol=pickle.HIGHEST_PROTOCOL))
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()
        conn.send_bytes(pickle.dumps(("end",)))
    except BaseException as exc:  # noqa: BLE001 - reported to the editor, which ends the job
        from ganpaint.core.errors import GanpaintError

        user = isinstance(exc, (ToolError, GanpaintError)) or type(exc).__name__ == "TrainError"
        with contextlib.suppress(Exception):
            conn.send_bytes(pickle.dumps(("error", str(exc) or type(exc).__name__, tb_module.format_exc(), user)))
