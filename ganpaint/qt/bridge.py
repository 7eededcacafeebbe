"""The bridge from the job engine to Qt.

``ganpaint.engine.jobs.JobQueue`` emits psygnal events from its worker threads. Qt
widgets may only be touched on the GUI thread, so :class:`JobBridge` re-emits every
event as a Qt signal delivered through the GUI thread's event loop (a queued
connection). Progress is coalesced: a job that reports a thousand steps a second
costs the GUI one update per event-loop turn, the latest one.

It also offers debounced "replace" submissions for live sliders: the job factory is
called once the slider has been still for ``delay_ms`` and the job replaces any
earlier one with the same key (latest wins).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from shiboken6 import isValid

from ganpaint.engine.jobs import FinishedMessage, Job, JobQueue, ProgressMessage, QueueMode, StateMessage

JobFactory = Callable[[], Job]


class JobBridge(QObject):
    """Queued Qt signals for a :class:`JobQueue` (create it on the GUI thread).

    Signals (all delivered on the GUI thread):
      ``jobAdded(Job)``                  a job was submitted;
      ``jobState(StateMessage)``         RUNNING / PAUSED (with a reason) / RUNNING again;
      ``jobProgress(ProgressMessage)``   the latest progress of a job (coalesced);
      ``jobFinished(FinishedMessage)``   DONE (with ``result``), FAILED (``error``,
                                         ``traceback``) or CANCELLED;
      ``submitted(Job)``                 a debounced submission was made.
    """

    jobAdded = Signal(object)
    jobState = Signal(object)
    jobProgress = Signal(object)
    jobFinished = Signal(object)
    submitted = Signal(object)

    # worker-thread side: emitted in the worker, connected queued to the GUI side
    _relayAdded = Signal(object)
    _relayState = Signal(object)
    _relayFinished = Signal(object)
    _relayFlush = Signal()

    def __init__(self, queue: JobQueue, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.queue = queue
        self._lock = threading.Lock()
        self._latest: dict[str, ProgressMessage] = {}
        self._flush_pending = False
        self._debounce: dict[str, tuple[QTimer, JobFactory]] = {}
        self._jobs: dict[str, Job] = {}  # announced and not finished
        self._seen: set[str] = set()  # every job id announced (a few bytes each)
        q = Qt.ConnectionType.QueuedConnection
        self._relayAdded.connect(self._deliver_added, q)
        self._relayState.connect(self._deliver_state, q)
        self._relayFinished.connect(self._deliver_finished, q)
        self._relayFlush.connect(self._flush_progress, q)
        ev = queue.events
        ev.job_added.connect(self._on_added)
        ev.job_state.connect(self._on_state)
        ev.job_progress.connect(self._on_progress)
        ev.job_finished.connect(self._on_finished)
        self._connected = True

    # ------------------------------------------------------------ public API

    def submit(self, job: Job, mode: QueueMode = "queue") -> Job:
        """Submit now (``mode="replace"``: latest wins within the job's key)."""
        return self.queue.submit(job, mode)

    def submit_debounced(self, factory: JobFactory, key: str, delay_ms: int = 150) -> None:
        """Call ``factory()`` and submit its job with ``mode="replace"`` once no other
        call with the same ``key`` has come for ``delay_ms``. Ten slider moves in a row
        make one job, built from the last call's factory."""
        entry = self._debounce.get(key)
        if entry is None:
            timer = QTimer(self)
            timer.setSingleShot(True)
            timer.timeout.connect(lambda k=key: self._fire(k))
        else:
            timer = entry[0]
        self._debounce[key] = (timer, factory)
        timer.start(max(0, int(delay_ms)))

    def pending_debounced(self) -> list[str]:
        """Keys of debounced submissions still waiting."""
        return [k for k, (t, _) in self._debounce.items() if t.isActive()]

    def cancel(self, job_id: str) -> bool:
        return self.queue.cancel(job_id)

    def cancel_debounced(self, key: str) -> None:
        entry = self._debounce.get(key)
        if entry is not None:
            entry[0].stop()

    def job(self, job_id: str) -> Job | None:
        """The job with this id, as seen by the bridge (or asked from the queue)."""
        return self._jobs.get(job_id) or self.queue.get(job_id)

    def forget(self, job_id: str) -> None:
        """Let the queue drop a finished job (and its result)."""
        self._jobs.pop(job_id, None)
        self.queue.forget(job_id)

    def close(self) -> None:
        """Stop listening to the queue (the queue itself is left running)."""
        if not self._connected:
            return
        ev = self.queue.events
        for sig, slot in (
            (ev.job_added, self._on_added),
            (ev.job_state, self._on_state),
            (ev.job_progress, self._on_progress),
            (ev.job_finished, self._on_finished),
        ):
            sig.disconnect(slot, missing_ok=True)
        for timer, _ in self._debounce.values():
            timer.stop()
        self._connected = False

    # ------------------------------------------------------------ worker threads

    def _on_added(self, job: Job) -> None:
        if isValid(self):  # the queue may outlive the window
            self._relayAdded.emit(job)

    def _on_state(self, msg: StateMessage) -> None:
        if isValid(self):
            self._relayState.emit(msg)

    def _on_progress(self, msg: ProgressMessage) -> None:
        with self._lock:
            self._latest[msg.job_id] = msg
            if self._flush_pending:
                return
            self._flush_pending = True
        if isValid(self):
            self._relayFlush.emit()

    def _on_finished(self, msg: FinishedMessage) -> None:
        if isValid(self):
            self._relayFinished.emit(msg)

    # ------------------------------------------------------------ GUI thread

    # The queue emits job_added after the job is queued, so a fast worker can report a
    # job's state or even its end first. Listeners always see jobAdded first: whichever
    # message of a job arrives first announces the job, and the late jobAdded is dropped.

    def _deliver_added(self, job: Job) -> None:
        if job.id in self._seen:
            return
        self._seen.add(job.id)
        if not job.state.finished:
            self._jobs[job.id] = job
        self.jobAdded.emit(job)

    def _ensure_added(self, job_id: str) -> None:
        if job_id not in self._seen:
            job = self.queue.get(job_id)
            if job is not None:
                self._deliver_added(job)

    def _deliver_state(self, msg: StateMessage) -> None:
        self._ensure_added(msg.job_id)
        self.jobState.emit(msg)

    def _flush_progress(self) -> None:
        with self._lock:
            latest, self._latest = self._latest, {}
            self._flush_pending = False
        for msg in latest.values():
            self._ensure_added(msg.job_id)
            self.jobProgress.emit(msg)

    def _deliver_finished(self, msg: FinishedMessage) -> None:
        # progress of this job still waiting would arrive after its end: drop it
        with self._lock:
            self._latest.pop(msg.job_id, None)
        self._ensure_added(msg.job_id)
        self._jobs.pop(msg.job_id, None)  # results can be large: do not keep them alive here
        self.jobFinished.emit(msg)

    def _fire(self, key: str) -> None:
        entry = self._debounce.get(key)
        if entry is None:
            return
        job = entry[1]()
        self.submit(job, mode="replace")
        self.submitted.emit(job)
