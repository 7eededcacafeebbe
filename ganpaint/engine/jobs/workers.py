"""The worker pool: each plugin's tools run in that plugin's own warm worker process.

A :class:`WorkerPool` keeps at most ``size`` workers, one per plugin that has run a tool
(least recently used idle ones go first). A worker is a "spawn" process running
:func:`ganpaint.engine.jobs.child.main`; it stays up between runs, so a plugin's loaded
models stay loaded. The job thread that calls :meth:`WorkerPool.run_tool` waits on the
worker's pipe and meanwhile

* forwards progress to the job's context and answers ``ctx.model_path`` / ``ctx.device``
  (resolved in the editor, exactly as for an in-process tool);
* on cancel, sets the worker's shared cancel flag (``ctx.progress`` raises
  ``JobCancelled`` there) and ends the worker if it has not stopped ``grace_s`` later;
* ends the worker when it sends nothing for ``stall_s`` seconds (a hang), when its
  resident memory passes the limit (polled every ``poll_s``), or notices it died
  (a segfault, ``os._exit``). The job then fails with one sentence naming the plugin and
  tool; the next run starts a fresh worker.

:func:`worker_generator` runs a generator (a training loop) in a one-off process the same way:
a cancel lets it write its checkpoint, then it is killed after a grace period.

Settings (``Settings.extra`` keys, or environment variables, which win):
``worker_processes`` / ``GANPAINT_WORKERS`` (pool size, default 4),
``worker_stall_s`` / ``GANPAINT_WORKER_STALL_S`` (default 120),
``worker_memory_mb`` / ``GANPAINT_WORKER_MEMORY_MB`` (default 0: 3/4 of the memory
available when the worker starts).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import multiprocessing
import os
import pickle
import signal
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ganpaint.core.specs import JobCancelled, ToolRequest, ToolResult, ToolSpec
from ganpaint.engine.jobs import shm
from ganpaint.engine.jobs.runner import ToolRunError

__all__ = ["WorkerJobError", "WorkerPool", "WorkerSettings", "pool_settings", "worker_generator"]

MB = 1 << 20


@dataclass(frozen=True)
class WorkerSettings:
    #: most workers kept (one per plugin); the least recently used idle one goes first
    size: int = 4
    #: a running tool that sends nothing (progress, a question) for this long is ended
    stall_s: float = 120.0
    #: a worker's resident memory limit in MB; 0: ``memory_fraction`` of the available memory
    memory_mb: int = 0
    memory_fraction: float = 0.75
    #: how long a cancelled tool has to stop by itself before its worker is ended
    grace_s: float = 0.4
    #: the same for a run replaced by a newer one (a live slider's draft): finishing it keeps the
    #: worker and its loaded models, which is worth more than starting the next draft early
    superseded_grace_s: float = 10.0
    #: how often the waiting thread looks at the worker (memory, liveness, cancel)
    poll_s: float = 0.05
    #: a new worker must be up (Python and the host's modules imported) within this
    start_s: float = 120.0
    #: torch threads in each worker (its share of the cores when several run at once); 0: the default
    threads: int = 0


def pool_settings(settings: Any = None, environ: Mapping[str, str] | None = None, **overrides: Any) -> WorkerSettings:
    """WorkerSettings from the app's Settings (its ``extra`` keys) and the environment."""
    env = os.environ if environ is None else environ
    extra = dict(getattr(settings, "extra", None) or {})
    values: dict[str, Any] = {}
    for field_name, key, var, kind in (("size", "worker_processes", "GANPAINT_WORKERS", int),
                                       ("stall_s", "worker_stall_s", "GANPAINT_WORKER_STALL_S", float),
                                       ("memory_mb", "worker_memory_mb", "GANPAINT_WORKER_MEMORY_MB", int)):
        for raw in (env.get(var), extra.get(key)):
            if raw is None or raw == "":
                continue
            try:
                value = kind(raw)
            except (TypeError, ValueError):
                continue
            if value >= 0 and not (field_name == "size" and value < 1):
                values[field_name] = value
                break
    values.update({k: v for k, v in overrides.items() if v is not None})
    return WorkerSettings(**values)


def _who(spec: ToolSpec) -> str:
    return f"plugin {spec.plugin!r}, tool {spec.id!r}" if spec.plugin else f"tool {spec.id!r}"


def _failure(spec: ToolSpec, what: str) -> ToolRunError:
    """A worker had to be ended: one sentence naming the plugin and the tool."""
    err = ToolRunError(spec, "x")
    err.reason = f"{what}; its worker was ended and the next run starts a fresh one"
    err.user_message = f"{_who(spec)} {err.reason}"
    err.args = (err.user_message,)
    return err


def _exit_text(code: int | None) -> str:
    if code is None:
        return "stopped"
    if code < 0:
        try:
            return f"crashed (signal {signal.Signals(-code).name})"
        except ValueError:
            return f"crashed (signal {-code})"
    return f"ended unexpectedly (exit code {code})"


def _module_file(run: str) -> str:
    """The file of ``run``'s module when the editor imported it from a path of its own (a
    single-file plugin from the plugins folder, not on ``sys.path``); the worker imports it
    from there the same way. Empty otherwise."""
    import sys

    name = run.partition(":")[0]
    module = sys.modules.get(name)
    if "." in name or module is None:
        return ""
    return str(getattr(module, "__file__", "") or "")


class _Worker:
    def __init__(self, key: str, mp: Any, settings: WorkerSettings) -> None:
        from ganpaint.engine.jobs import child

        self.key = key
        self.settings = settings
        self.cancel = mp.Event()
        self.conn, child_conn = mp.Pipe(duplex=True)
        self.process = mp.Process(target=child.main, args=(child_conn, self.cancel, os.getpid(), settings.threads),
                                  name=f"ganpaint-worker-{key}", daemon=False)
        self.process.start()
        child_conn.close()
        self.lock = threading.Lock()
        self.ready = False
        self.dead = False
        #: the shared-memory blocks kept between runs (a fresh block costs a page fault per 4 KB):
        #: requests go into ``in_block``; the worker writes results into ``out_block``
        self.in_block: Any = None
        self.out_block: Any = None
        #: the worker said a tool kept a view of ``in_block``: the next request gets a new one
        self.in_pinned = False
        self.limit = self._limit()
        self.started = time.monotonic()

    def _limit(self) -> int:
        if self.settings.memory_mb > 0:
            return int(self.settings.memory_mb) * MB
        import psutil

        return int(psutil.virtual_memory().available * self.settings.memory_fraction)

    def rss(self) -> int:
        import psutil

        try:
            return int(psutil.Process(self.process.pid).memory_info().rss)
        except (psutil.Error, ValueError, TypeError):
            return 0

    def release(self) -> None:
        """Remove the blocks kept for this worker (it is gone or going)."""
        shm.close_quietly(self.in_block, unlink=True)
        shm.close_quietly(self.out_block, unlink=True)
        self.in_block = self.out_block = None

    def kill(self) -> None:
        self.dead = True
        with contextlib.suppress(Exception):
            self.process.kill()
        self.process.join(5.0)
        with contextlib.suppress(Exception):
            self.conn.close()
        self.release()

    def stop(self, timeout: float = 1.0) -> None:
        """Ask an idle worker to leave; end it if it does not."""
        if not self.dead:
            with contextlib.suppress(Exception):
                self.conn.send(("exit",))
            self.process.join(timeout)
        if self.process.is_alive():
            self.kill()
        self.dead = True
        with contextlib.suppress(Exception):
            self.conn.close()
        self.release()


class WorkerPool:
    """Per-plugin worker processes for tool runs; see the module's docstring.

    ``WorkerPool(size=4)``: at most ``size`` warm workers. Thread-safe: each job thread
    calls :meth:`run_tool`; runs for one plugin take turns on its worker.
    """

    def __init__(self, size: int | None = None, *, settings: WorkerSettings | None = None, **options: Any) -> None:
        base = settings or WorkerSettings()
        if size is not None:
            options["size"] = size
        self.settings = dataclasses.replace(base, **options) if options else base
        if self.settings.size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self._mp = multiprocessing.get_context("spawn")  # fork is unsafe with Qt's and torch's threads
        self._lock = threading.Lock()
        self._workers: OrderedDict[str, _Worker] = OrderedDict()
        #: workers a plugin may have at once (:meth:`set_workers`); 1 when not named
        self._counts: dict[str, int] = {}
        self._closed = False
        #: (plugin key, what happened, seconds) of each worker ended by a fault (newest last)
        self.incidents: list[tuple[str, str, float]] = []
        ref = weakref.ref(self)
        self._atexit = lambda: (p.shutdown() if (p := ref()) is not None else None)
        atexit.register(self._atexit)

    @property
    def size(self) -> int:
        return self.settings.size

    def pids(self) -> dict[str, int]:
        """The live workers' process ids by plugin."""
        with self._lock:
            return {k: w.process.pid for k, w in self._workers.items() if not w.dead and w.process.pid}

    def shutdown(self) -> None:
        """End every worker (a running tool is ended: its job ends cancelled)."""
        with self._lock:
            self._closed = True
            workers = list(self._workers.values())
            self._workers.clear()
        for w in workers:
            if w.lock.acquire(timeout=0.0):
                try:
                    w.stop()
                finally:
                    w.lock.release()
            else:
                w.kill()  # busy: its waiting thread sees the pool closed and ends the job as cancelled
        with contextlib.suppress(Exception):
            atexit.unregister(self._atexit)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # ---------------------------------------------------------------- running a tool

    def run_tool(self, spec: ToolSpec, request: ToolRequest, ctx: Any, *, run: str | None = None) -> ToolResult:
        """Run ``spec`` (its ``run`` string, or ``run``) on ``request`` in its plugin's worker;
        returns the checked ToolResult. Raises JobCancelled or ToolRunError, as ``run_tool``."""
        key = self.key_of(spec, run)
        count = self._counts.get(key, 1)
        while count > 1:  # several workers for this plugin: the first idle one, or a new one
            worker = self._acquire_free(key, count)
            try:
                if worker.dead:
                    continue
                return self._run(worker, spec, request, ctx, run or spec.run)
            finally:
                worker.lock.release()
        while True:
            worker = self._acquire(key)
            with worker.lock:
                if worker.dead:  # ended while we waited for our turn: take a fresh one
                    continue
                return self._run(worker, spec, request, ctx, run or spec.run)

    def _acquire(self, key: str) -> _Worker:
        with self._lock:
            if self._closed:
                raise JobCancelled()
            worker = self._workers.get(key)
            if worker is not None and (worker.dead or not worker.process.is_alive()):
                del self._workers[key]
                worker = None
            if worker is None:
                self._make_room()
                worker = _Worker(key, self._mp, self.settings)
                self._workers[key] = worker
            self._workers.move_to_end(key)
            return worker

    def _make_room(self) -> None:
        """Stop idle workers, least recently used first, until a new one fits in ``size``
        (busy ones are never stopped: the pool may then go over ``size`` for a while).
        The caller holds ``self._lock``."""
        for other_key, other in list(self._workers.items()):
            if len(self._workers) < self.settings.size:
                break
            if other.lock.acquire(timeout=0.0):  # idle: the least recently used goes
                try:
                    del self._workers[other_key]
                    other.stop()
                finally:
                    other.lock.release()

    @staticmethod
    def key_of(spec: ToolSpec, run: str | None = None) -> str:
        """The pool's key for ``spec``'s workers: its plugin (or the module of its function)."""
        return spec.plugin or (run or spec.run).partition(":")[0]

    def set_workers(self, key: str, count: int) -> None:
        """Let plugin ``key`` (:meth:`key_of`) have up to ``count`` workers at once, each with its
        own process and models (``ganpaint run --jobs N``); runs beyond that wait for a free one.
        The pool's ``size`` should be at least ``count``."""
        if count < 1:
            raise ValueError("a plugin needs at least one worker")
        with self._lock:
            self._counts[key] = int(count)

    def _acquire_free(self, key: str, count: int) -> _Worker:
        """An idle worker of ``key`` (its lock held by the caller now), or a new one in a free slot
        (``key``, ``key#1`` ... ``key#<count-1>``); waits while all ``count`` are busy."""
        slots = [key] + [f"{key}#{i}" for i in range(1, count)]
        while True:
            with self._lock:
                if self._closed:
                    raise JobCancelled()
                for slot in slots:
                    worker = self._workers.get(slot)
                    if worker is not None and not worker.dead and worker.process.is_alive() \
                            and worker.lock.acquire(timeout=0.0):
                        self._workers.move_to_end(slot)
                        return worker
                for slot in slots:
                    worker = self._workers.get(slot)
                    if worker is not None and (worker.dead or not worker.process.is_alive()) \
                            and worker.lock.acquire(timeout=0.0):  # ended, nobody waits on it
                        worker.lock.release()
                        del self._workers[slot]
                        worker = None
                    if worker is None:
                        self._make_room()
                        worker = _Worker(slot, self._mp, self.settings)
                        worker.lock.acquire()
                        self._workers[slot] = worker
                        return worker
            time.sleep(0.01)

    def _discard(self, worker: _Worker, what: str) -> None:
        worker.kill()
        with self._lock:
            if self._workers.get(worker.key) is worker:
                del self._workers[worker.key]
            if what:
                self.incidents.append((worker.key, what, time.monotonic() - worker.started))

    def _run(self, worker: _Worker, spec: ToolSpec, request: ToolRequest, ctx: Any, run: str) -> ToolResult:
        roles = list(request.images)
        arrays = [request.images[r] for r in roles] + [request.alpha, request.mask]
        bare = dataclasses.replace(request, images={r: None for r in roles}, alpha=None, mask=None,
                                   params=dict(request.params), previous=dict(request.previous))
        fields = {"id": spec.id, "plugin": spec.plugin, "run": run, "output": spec.output,
                  "module_file": _module_file(run)}
        keep = None if worker.in_pinned else worker.in_block
        block, slots = shm.pack(arrays, name=shm.block_name("i"), reuse=keep)
        if block is not worker.in_block:
            shm.close_quietly(worker.in_block, unlink=True)  # the worker's mapping stays while it needs it
            worker.in_block, worker.in_pinned = block, False
        # the name the worker gives a new result block, when the one it has is too small
        result_block = shm.block_name("o")
        worker.cancel.clear()
        try:
            try:
                worker.conn.send(("run", fields, bare, block.name if block else None, slots, result_block,
                                  getattr(ctx, "precision", "full")))
            except (OSError, ValueError):
                self._discard(worker, "")
                raise _failure(spec, _exit_text(worker.process.exitcode)) from None
            return self._wait(worker, spec, ctx, result_block)
        except BaseException:
            shm.unlink_name(result_block)  # made by a worker that died before saying so
            raise

    def _wait(self, worker: _Worker, spec: ToolSpec, ctx: Any, result_block: str) -> ToolResult:
        s = self.settings
        last = time.monotonic()
        cancel_at: float | None = None
        while True:
            now = time.monotonic()
            if cancel_at is None and (ctx.cancelled() or self._closed):
                worker.cancel.set()
                cancel_at = now
            job = getattr(ctx, "job", None)
            grace = s.superseded_grace_s if getattr(job, "superseded", False) else s.grace_s
            if cancel_at is not None and now - cancel_at > grace:
                self._discard(worker, "" if self._closed else "cancelled without stopping")
                raise JobCancelled()
            limit_s = s.stall_s if worker.ready else max(s.stall_s, s.start_s)
            if now - last > limit_s:
                self._discard(worker, "stopped responding")
                raise _failure(spec, f"stopped responding (nothing for {limit_s:g} s)")
            if worker.limit and worker.rss() > worker.limit:
                self._discard(worker, "memory")
                raise _failure(spec, f"used more than {worker.limit // MB} MB of memory")
            try:
                if not worker.conn.poll(s.poll_s):
                    if not worker.process.is_alive():
                        raise EOFError
                    continue
                msg = worker.conn.recv()
            except (EOFError, OSError):
                worker.process.join(1.0)
                code = worker.process.exitcode
                cancelled = cancel_at is not None or self._closed
                self._discard(worker, "" if cancelled else _exit_text(code))
                if cancelled:
                    raise JobCancelled() from None
                raise _failure(spec, _exit_text(code)) from None
            last = time.monotonic()
            kind = msg[0]
            if kind == "ready":
                worker.ready = True
            elif kind == "progress":
                try:
                    ctx.progress(msg[1], msg[2], msg[3])
                except JobCancelled:
                    if cancel_at is None:
                        worker.cancel.set()
                        cancel_at = time.monotonic()
            elif kind == "ask":
                self._answer(worker, ctx, msg[1:])
            elif kind == "pinned":  # a tool kept a view of the request's block: do not reuse it
                worker.in_pinned = True
            elif kind == "done":
                _, bare, name, slots = msg
                if worker.out_block is None or worker.out_block.name != name:
                    shm.close_quietly(worker.out_block, unlink=True)
                    worker.out_block, _ = shm.unpack(name, [], copy=True)
                image, alpha = shm.views(worker.out_block, slots, copy=True)
                return dataclasses.replace(bare, image=image, alpha=alpha)
            elif kind == "error":
                _, reason, trace, user_error = msg
                raise ToolRunError(spec, reason, trace, user_error=user_error)
            elif kind == "cancelled":
                raise JobCancelled()

    @staticmethod
    def _answer(worker: _Worker, ctx: Any, question: tuple[Any, ...]) -> None:
        try:
            if question[0] == "device":
                value: Any = ctx.device
            elif question[0] == "model_path":
                value = ctx.model_path(question[1], question[2])
            else:
                raise ValueError(f"unknown question {question[0]!r}")
            reply: tuple[Any, ...] = ("answer", True, value)
        except Exception as exc:  # noqa: BLE001 - the tool sees it as a ToolError
            reply = ("answer", False, str(exc) or type(exc).__name__)
        worker.conn.send(reply)


class WorkerJobError(Exception):
    """A generator run in a worker process (:func:`worker_generator`) failed, or its worker was ended.
    ``user_error``: the generator raised a problem the user can fix (its own message, no traceback)."""

    def __init__(self, message: str, traceback_text: str = "", *, user_error: bool = False) -> None:
        super().__init__(message)
        self.traceback_text = traceback_text
        self.user_error = user_error


def worker_generator(target: str, kwargs: Mapping[str, Any], *, cancel: Any, what: str = "the run",
                     grace_s: float = 15.0, stall_s: float | None = None, memory_mb: int = 0,
                     memory_fraction: float = 0.75, poll_s: float = 0.05) -> Any:
    """Run the generator ``target(**kwargs, cancel=...)`` ("module:attr") in a process of its own and
    yield what it yields (pickled across). A training run goes through here.

    ``cancel()`` (polled here) sets the worker's flag, which the generator's own ``cancel`` sees: it is
    expected to write a checkpoint and end; it gets ``grace_s`` seconds to do so, and is then killed
    (the last checkpoint stands). Closing this generator (the consumer stopped: a job cancel) does the
    same. A crash, ``stall_s`` seconds without a value (None: no limit) or resident memory beyond the
    limit (``memory_mb``, 0: ``memory_fraction`` of the available memory) ends the worker and raises
    :class:`WorkerJobError` with one sentence naming ``what``."""
    import psutil

    from ganpaint.engine.jobs import child

    mp = multiprocessing.get_context("spawn")
    flag = mp.Event()
    conn, child_conn = mp.Pipe(duplex=True)
    packed = pickle.dumps(dict(kwargs), protocol=pickle.HIGHEST_PROTOCOL)
    proc = mp.Process(target=child.generator_main, args=(child_conn, flag, os.getpid(), target, packed),
                      name="ganpaint-worker-generator", daemon=False)
    proc.start()
    child_conn.close()
    limit = int(memory_mb) * MB if memory_mb > 0 else int(psutil.virtual_memory().available * memory_fraction)
    last = time.monotonic()
    stop_at: float | None = None
    finished = False

    def rss() -> int:
        try:
            return int(psutil.Process(proc.pid).memory_info().rss)
        except (psutil.Error, ValueError, TypeError):
            return 0

    def end(reason: str) -> WorkerJobError:
        with contextlib.suppress(Exception):
            proc.kill()
        proc.join(5.0)
        return WorkerJobError(f"{what} {reason}; its worker was ended and the last checkpoint stands")

    try:
        while True:
            now = time.monotonic()
            if stop_at is None and cancel():
                flag.set()
                stop_at = now
            if stop_at is not None and now - stop_at > grace_s:
                with contextlib.suppress(Exception):
                    proc.kill()
                proc.join(5.0)
                finished = True
                return
            if stall_s is not None and stop_at is None and now - last > stall_s:
                raise end(f"stopped responding (nothing for {stall_s:g} s)")
            if limit and rss() > limit:
                raise end(f"used more than {limit // MB} MB of memory")
            try:
                if not conn.poll(poll_s):
                    if not proc.is_alive():
                        raise EOFError
                    continue
                msg = pickle.loads(conn.recv_bytes())
            except (EOFError, OSError) as exc:
                proc.join(1.0)
                finished = True
                if proc.exitcode is None:  # alive, but what it sent could not be read
                    raise end(f"sent what could not be read ({type(exc).__name__}: {exc})") from exc
                raise end(_exit_text(proc.exitcode)) from None
            last = time.monotonic()
            if msg[0] == "event":
                yield msg[1]
            elif msg[0] == "end":
                finished = True
                proc.join(5.0)
                return
            elif msg[0] == "error":
                finished = True
                proc.join(5.0)
                raise WorkerJobError(msg[1], msg[2], user_error=bool(msg[3]))
    finally:
        if not finished and proc.is_alive():  # the consumer stopped (a job cancel): checkpoint, then end
            flag.set()
            deadline = time.monotonic() + grace_s
            while proc.is_alive() and time.monotonic() < deadline:
                with contextlib.suppress(EOFError, OSError):
                    if conn.poll(poll_s):
                        conn.recv_bytes()  # drain, so the worker never blocks on a full pipe
            if proc.is_alive():
                proc.kill()
            proc.join(5.0)
        with contextlib.suppress(Exception):
            conn.close()
