"""Background jobs: a queue with two lanes, cooperative cancel, latest-wins replace.

No Qt here. Signals are psygnal signals emitted *from the worker threads*;
``ganpaint.qt`` re-emits them as queued Qt signals on the GUI thread.

Lanes: ``"interactive"`` (tool runs, previews) and ``"training"`` (long runs).
Each lane has one worker thread, so jobs in a lane run one at a time, in order.
A lane named ``"interactive:<name>"`` (a plugin's own tool lane, see
:func:`ganpaint.engine.jobs.runner.tool_lane`) is made on first use when the queue
has an ``"interactive"`` lane, so one plugin's hung tool never holds up another's;
all of them count as interactive. A job on a lane that is not interactive pauses at
its next progress step while an interactive job is queued or running, so the two
never fight for the device; it resumes by itself afterwards.

A queue given a :class:`~ganpaint.engine.jobs.workers.WorkerPool` runs tool jobs in
worker processes (``ctx.pool``) and shuts the pool down with itself.

Cancel is cooperative for in-process jobs: ``ctx.progress`` raises :class:`JobCancelled`
at the job's next step (a tool in a worker process is ended if it does not stop soon).
A cancelled job's result is discarded, whatever the function returned.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import itertools
import logging
import threading
import traceback as tb_module
import uuid
from collections import deque
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
from psygnal import Signal, SignalGroup

from ganpaint.core.specs import JobCancelled

log = logging.getLogger(__name__)

INTERACTIVE = "interactive"
TRAINING = "training"

QueueMode = Literal["queue", "replace"]


def is_interactive(lane: str) -> bool:
    """``"interactive"`` or a plugin's own interactive lane (``"interactive:<name>"``)."""
    return lane == INTERACTIVE or lane.startswith(INTERACTIVE + ":")

ModelResolver = Callable[[str, str], str]
DeviceResolver = Callable[[], str]


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True)
class ProgressMessage:
    """A job reported progress. ``preview`` is a read-only copy (or None)."""

    job_id: str
    fraction: float
    message: str = ""
    preview: np.ndarray | None = None


@dataclass(frozen=True)
class StateMessage:
    """A job changed state (RUNNING, PAUSED, RUNNING again ...); ``reason`` says why."""

    job_id: str
    state: JobState
    reason: str = ""


@dataclass(frozen=True)
class FinishedMessage:
    """A job ended. ``result`` is None unless ``state`` is DONE. ``error`` is one line
    for the user; ``traceback`` is empty for user errors (ToolError) and cancels."""

    job_id: str
    state: JobState
    result: Any = None
    error: str = ""
    traceback: str = ""


def freeze(value: Any) -> Any:
    """An immutable copy of ``value`` for a job's inputs.

    Writable numpy arrays are copied and made read-only (read-only arrays are
    trusted as they are); dicts become read-only mappings, lists become tuples;
    dataclass instances are rebuilt with frozen fields. Other objects pass through.
    """
    if isinstance(value, np.ndarray):
        if not value.flags.writeable:
            return value
        out = value.copy()
        out.setflags(write=False)
        return out
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return tuple(freeze(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if not f.init:
                continue
            old = getattr(value, f.name)
            new = freeze(old)
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


_counter = itertools.count(1)


@dataclass(eq=False)
class Job:
    """A unit of background work. ``fn(inputs, ctx)`` runs in the lane's worker.

    ``inputs`` is frozen on construction (see :func:`freeze`): the job never
    shares mutable state with the document. ``key`` groups jobs for
    ``submit(mode="replace")`` (default: ``kind``).
    """

    kind: str
    lane: str
    fn: Callable[[Any, JobContext], Any]
    inputs: Any = None
    key: str | None = None
    title: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: set by the queue; read from any thread
    state: JobState = JobState.QUEUED
    result: Any = None
    error: str = ""
    traceback: str = ""
    seq: int = field(default_factory=lambda: next(_counter))

    def __post_init__(self) -> None:
        self.inputs = freeze(self.inputs)
        if not self.title:
            self.title = self.kind
        self._cancel = threading.Event()
        self._done = threading.Event()
        #: cancelled because a newer job with its key replaced it (a live slider's draft), not by
        #: the user: a worker finishing it gets longer before it is ended (its models stay loaded)
        self.superseded = False

    @property
    def replace_key(self) -> str:
        return self.key if self.key is not None else self.kind

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job finished (any end state); False on timeout."""
        return self._done.wait(timeout)

    def __repr__(self) -> str:
        return f"Job({self.kind!r}, lane={self.lane!r}, id={self.id[:8]}, state={self.state.value})"


class JobContext:
    """The :class:`ganpaint.core.specs.RunContext` a job's function receives."""

    def __init__(
        self,
        job: Job,
        queue: JobQueue | None = None,
        *,
        device: str | DeviceResolver = "cpu",
        precision: Literal["full", "fast"] = "full",
        model_resolver: ModelResolver | None = None,
        on_progress: Callable[[ProgressMessage], None] | None = None,
    ) -> None:
        self.job = job
        self._queue = queue
        self._device = device
        self.precision: Literal["full", "fast"] = precision
        self._model_resolver = model_resolver
        self._on_progress = on_progress

    @property
    def pool(self) -> Any:
        """The queue's worker pool (tool jobs run in its processes), or None: run in-process."""
        return getattr(self._queue, "pool", None)

    @property
    def device(self) -> str:
        # Resolved on first use, so a tool that never asks never imports torch.
        if callable(self._device):
            self._device = self._device()
        return self._device

    @device.setter
    def device(self, value: str) -> None:
        self._device = value

    def cancelled(self) -> bool:
        return self.job.cancel_requested

    def progress(self, fraction: float, message: str = "", preview: np.ndarray | None = None) -> None:
        if self.job.cancel_requested:
            raise JobCancelled()
        frac = float(min(max(fraction, 0.0), 1.0)) if np.isfinite(fraction) else 0.0
        if preview is not None:
            preview = np.array(preview, copy=True)
            preview.setflags(write=False)
        msg = ProgressMessage(self.job.id, frac, str(message), preview)
        if self._on_progress is not None:
            self._on_progress(msg)
        if self._queue is not None:
            self._queue._emit(self._queue.events.job_progress, msg)
            self._queue._maybe_pause(self.job)
        if self.job.cancel_requested:
            raise JobCancelled()

    def model_path(self, name: str, tool: str) -> str:
        from ganpaint.core.specs import ToolError

        if self._model_resolver is None:
            raise ToolError(f"no model store is available to find model {name!r} for tool {tool!r}")
        return self._model_resolver(name, tool)


class JobEvents(SignalGroup):
    job_added = Signal(Job)
    job_state = Signal(StateMessage)
    job_progress = Signal(ProgressMessage)
    job_finished = Signal(FinishedMessage)


class _Lane:
    def __init__(self, name: str) -> None:
        self.name = name
        self.pending: deque[Job] = deque()
        self.current: Job | None = None
        self.thread: threading.Thread | None = None


class JobQueue:
    """Lanes of background jobs, one worker thread per lane.

    ``device`` is a device string or a callable returning one (called lazily, in
    the worker, the first time a job asks); ``model_resolver(name, tool) -> path``
    backs ``ctx.model_path`` (the model store).
    """

    def __init__(
        self,
        lanes: tuple[str, ...] = (INTERACTIVE, TRAINING),
        *,
        device: str | DeviceResolver = "cpu",
        precision: Literal["full", "fast"] = "full",
        model_resolver: ModelResolver | None = None,
        keep_finished: int = 50,
        pool: Any = None,
    ) -> None:
        if not lanes or len(set(lanes)) != len(lanes):
            raise ValueError("lanes must be distinct names")
        self.events = JobEvents()
        self.precision: Literal["full", "fast"] = precision
        self.model_resolver = model_resolver
        #: a WorkerPool for tool jobs (owned: shut down with the queue), or None
        self.pool = pool
        self._device_src: str | DeviceResolver = device
        self._device_lock = threading.Lock()
        self._cond = threading.Condition()
        self._lanes = {name: _Lane(name) for name in lanes}
        self._jobs: dict[str, Job] = {}
        # Finished jobs hold their inputs and results (pictures): keep only the newest few.
        self._finished: deque[str] = deque()
        self._keep_finished = max(0, int(keep_finished))
        self._closed = False
        for lane in self._lanes.values():
            self._start_lane(lane)

    def _start_lane(self, lane: _Lane) -> None:
        lane.thread = threading.Thread(
            target=self._worker, args=(lane,), name=f"ganpaint-{lane.name}", daemon=True
        )
        lane.thread.start()

    # ---------------------------------------------------------------- public API

    @property
    def lanes(self) -> tuple[str, ...]:
        with self._cond:
            return tuple(self._lanes)

    def submit(self, job: Job, mode: QueueMode = "queue") -> Job:
        """Queue ``job`` on its lane. ``mode="replace"``: latest wins among jobs with
        the same key (queued ones are dropped as CANCELLED, a running one is cancelled)."""
        if mode not in ("queue", "replace"):
            raise ValueError(f"unknown queue mode {mode!r}")
        if job.lane not in self._lanes and not (is_interactive(job.lane) and INTERACTIVE in self._lanes):
            raise ValueError(f"unknown lane {job.lane!r} (lanes: {', '.join(self._lanes)})")
        dropped: list[Job] = []
        with self._cond:
            if self._closed:
                raise RuntimeError("the job queue is shut down")
            if job.lane not in self._lanes:  # a plugin's own interactive lane, made on first use
                self._lanes[job.lane] = _Lane(job.lane)
                self._start_lane(self._lanes[job.lane])
            if job.state is not JobState.QUEUED or job.id in self._jobs:
                raise ValueError(f"{job!r} was already submitted")
            if mode == "replace":
                for lane in self._lanes.values():
                    for other in list(lane.pending):
                        if other.replace_key == job.replace_key:
                            lane.pending.remove(other)
                            other._cancel.set()
                            dropped.append(other)
                    cur = lane.current
                    if cur is not None and cur.replace_key == job.replace_key and not cur.cancel_requested:
                        cur.superseded = True
                        cur._cancel.set()
            self._jobs[job.id] = job
            self._lanes[job.lane].pending.append(job)
            self._cond.notify_all()
        for other in dropped:
            self._finish(other, JobState.CANCELLED)
        self._emit(self.events.job_added, job)
        return job

    def cancel(self, job_id: str) -> bool:
        """Request cancel. A queued job ends at once; a running or paused one at its
        next progress step. Returns False when the job is unknown or already ended."""
        drop: Job | None = None
        with self._cond:
            job = self._jobs.get(job_id)
            if job is not None and not job.state.finished and job.superseded:
                job.superseded = False  # the user's cancel on a replaced job: no longer patient
                return True
            if job is None or job.state.finished or job.cancel_requested:
                return False
            job._cancel.set()
            lane = self._lanes[job.lane]
            if job in lane.pending:
                lane.pending.remove(job)
                drop = job
            self._cond.notify_all()  # wakes a paused job so it can raise
        if drop is not None:
            self._finish(drop, JobState.CANCELLED)
        return True

    def get(self, job_id: str) -> Job | None:
        with self._cond:
            return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        """Jobs known to the queue, in submission order: every unfinished one and the
        newest ``keep_finished`` finished ones (unless :meth:`forget` dropped them)."""
        with self._cond:
            return sorted(self._jobs.values(), key=lambda j: j.seq)

    def forget(self, job_id: str) -> None:
        """Drop a finished job from :meth:`jobs` (the Jobs panel's "clear")."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is not None and job.state.finished:
                del self._jobs[job_id]
                if job_id in self._finished:
                    self._finished.remove(job_id)

    def busy(self, lane: str) -> bool:
        """Jobs queued or running on ``lane`` (``"interactive"``: on any interactive lane)."""
        with self._cond:
            if lane == INTERACTIVE:
                return self._interactive_busy()
            return self._lane_busy(self._lanes[lane])

    def device(self) -> str:
        """The device jobs run on (resolved once, on first use)."""
        with self._device_lock:
            if callable(self._device_src):
                self._device_src = self._device_src()
            return self._device_src

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> None:
        """Cancel every queued and running job and stop the workers.
        ``wait``: join the worker threads (up to ``timeout`` seconds each)."""
        dropped: list[Job] = []
        with self._cond:
            if not self._closed:
                self._closed = True
                for lane in self._lanes.values():
                    while lane.pending:
                        job = lane.pending.popleft()
                        job._cancel.set()
                        dropped.append(job)
                    if lane.current is not None:
                        lane.current._cancel.set()
            self._cond.notify_all()
        for job in dropped:
            self._finish(job, JobState.CANCELLED)
        if self.pool is not None:  # ends the workers (a running tool is cancelled with its job)
            self.pool.shutdown()
        if wait:
            for lane in list(self._lanes.values()):
                if lane.thread is not None and lane.thread is not threading.current_thread():
                    lane.thread.join(timeout)

    # ---------------------------------------------------------------- internals

    @staticmethod
    def _lane_busy(lane: _Lane) -> bool:
        return lane.current is not None or bool(lane.pending)

    def _interactive_busy(self) -> bool:
        return any(self._lane_busy(lane) for name, lane in self._lanes.items() if is_interactive(name))

    def _emit(self, signal: Any, *args: Any) -> None:
        # A failing listener must never kill a worker or lose a job's end.
        try:
            signal.emit(*args)
        except Exception:
            log.exception("a job-event listener failed")

    def _maybe_pause(self, job: Job) -> None:
        """Called from a job's progress step: a non-interactive job waits here while
        interactive work is queued or running."""
        if is_interactive(job.lane):
            return
        with self._cond:
            if not self._interactive_busy() or job.cancel_requested or self._closed:
                return
            job.state = JobState.PAUSED
        self._emit(
            self.events.job_state,
            StateMessage(job.id, JobState.PAUSED, "paused while an interactive job runs"),
        )
        with self._cond:
            self._cond.wait_for(
                lambda: not self._interactive_busy() or job.cancel_requested or self._closed
            )
            job.state = JobState.RUNNING
        self._emit(self.events.job_state, StateMessage(job.id, JobState.RUNNING, "resumed"))

    def _worker(self, lane: _Lane) -> None:
        from ganpaint.engine.inference.devices import prepare_torch_env

        prepare_torch_env()  # before any tool imports torch in this process
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(lane.pending) or self._closed)
                if not lane.pending:  # closed and nothing left
                    return
                job = lane.pending.popleft()
                lane.current = job
                job.state = JobState.RUNNING
            self._emit(self.events.job_state, StateMessage(job.id, JobState.RUNNING, ""))
            self._run(lane, job)

    def _run(self, lane: _Lane, job: Job) -> None:
        ctx = JobContext(
            job, self, device=self.device, precision=self.precision, model_resolver=self.model_resolver
        )
        state, result, error, trace = JobState.DONE, None, "", ""
        try:
            result = job.fn(job.inputs, ctx)
            if inspect.isgenerator(result):
                result = drive_generator(result, ctx)
        except JobCancelled:
            state = JobState.CANCELLED
        except BaseException as exc:  # noqa: BLE001 - errors never kill a worker
            state = JobState.FAILED
            error, trace = describe_error(exc)
            # The message carries the error; whoever shows it decides about the traceback.
            log.debug("job %s failed: %s", job.title, error)
        if job.cancel_requested:  # a cancelled job changes nothing, whatever it did after
            state, result, error, trace = JobState.CANCELLED, None, "", ""
        with self._cond:
            lane.current = None
            self._cond.notify_all()  # paused training may resume
        self._finish(job, state, result, error, trace)

    def _finish(
        self, job: Job, state: JobState, result: Any = None, error: str = "", trace: str = ""
    ) -> None:
        job.state, job.result, job.error, job.traceback = state, result, error, trace
        if state is JobState.CANCELLED and not error:
            job.error = "cancelled"
        with self._cond:
            self._finished.append(job.id)
            while len(self._finished) > self._keep_finished:
                self._jobs.pop(self._finished.popleft(), None)
        self._emit(self.events.job_finished, FinishedMessage(job.id, state, result, job.error, trace))
        job._done.set()


def drive_generator(gen: Generator[Any, Any, Any], ctx: JobContext) -> Any:
    """Run a generator job (superqt's worker style): every ``yield`` reports progress
    and is where cancel takes effect; the generator's ``return`` value is the result.

    A yielded value is a fraction, a ``(fraction, message[, preview])`` tuple, or an
    object with a ``fraction`` attribute (and optional ``message``/``preview``). On
    cancel, :class:`JobCancelled` is thrown into the generator at its ``yield``, so
    its ``except``/``finally`` blocks can clean up (save a checkpoint, say).
    """
    try:
        item = next(gen)
        while True:
            try:
                fraction, message, preview = _progress_of(item)
                ctx.progress(fraction, message, preview)
            except JobCancelled as exc:
                item = gen.throw(exc)
                continue
            item = next(gen)
    except StopIteration as stop:
        return stop.value
    finally:
        gen.close()


def _progress_of(item: Any) -> tuple[float, str, np.ndarray | None]:
    if item is None:
        return 0.0, "", None
    if isinstance(item, (int, float)):
        return float(item), "", None
    if isinstance(item, tuple):
        frac = float(item[0]) if item else 0.0
        msg = str(item[1]) if len(item) > 1 and item[1] is not None else ""
        prev = item[2] if len(item) > 2 else None
        return frac, msg, prev
    frac = float(getattr(item, "fraction", 0.0) or 0.0)
    return frac, str(getattr(item, "message", "") or ""), getattr(item, "preview", None)


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(one-line message, traceback text) for a failed job.

    An exception with ``user_message`` / ``traceback_text`` attributes (the
    runner's :class:`~ganpaint.engine.jobs.runner.ToolRunError`) supplies its own;
    a :class:`~ganpaint.core.specs.ToolError` has no traceback (the user can fix it).
    """
    from ganpaint.core.specs import ToolError

    msg = getattr(exc, "user_message", None)
    if msg is not None:
        return one_line(str(msg)), str(getattr(exc, "traceback_text", "") or "")
    text = one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, ToolError):
        return text, ""
    trace = "".join(tb_module.format_exception(type(exc), exc, exc.__traceback__))
    return f"{type(exc).__name__}: {text}", trace


def one_line(text: str) -> str:
    return " ".join(text.split())
