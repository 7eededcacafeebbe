"""File work off the GUI thread: one worker thread, results handed back on the GUI thread.

Saving, exporting and opening a large document take seconds (PNG encoding, zip, decoding).
The window takes what it needs on the GUI thread (``ora.snapshot``: copy-on-write, well
under a millisecond), hands the slow part to :class:`BackgroundIO` and goes on: the user
keeps painting while the file is written. Tasks run one at a time, in order, on one thread
(two saves of a 4000x3000 document never compete for memory and disk); a task submitted
with the ``key`` of one still waiting replaces it (two quick Saves write once, the newer
snapshot). ``on_done(result, error)`` runs on the GUI thread, delivered by a queued signal;
:meth:`BackgroundIO.wait` delivers at once (before the window closes, or before Open drops
a document whose save is still being written). The status bar shows what runs
(:attr:`BackgroundIO.indicator`: a label and a busy bar).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

log = logging.getLogger(__name__)

__all__ = ["BackgroundIO", "Task"]

Done = Callable[[Any, "BaseException | None"], None]


@dataclass(eq=False)
class Task:
    """One piece of background file work."""

    label: str
    key: str | None
    on_done: Done | None
    future: Future[Any] = field(default_factory=Future)
    delivered: bool = False
    #: replaced by a newer task with the same key before it started: never delivered
    superseded: bool = False


class BackgroundIO(QObject):
    """One worker thread for a window's file work (see the module docstring)."""

    #: emitted from the worker thread when a task ends (queued to the GUI thread)
    _ended = Signal(object)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor: ThreadPoolExecutor | None = None
        self._tasks: list[Task] = []
        self._ended.connect(self._deliver)
        self._indicator: QWidget | None = None
        self._label: QLabel | None = None

    # ------------------------------------------------------------------ indicator
    @property
    def indicator(self) -> QWidget:
        """A status-bar widget: what runs now and a busy bar; hidden while idle."""
        if self._indicator is None:
            w = QWidget()
            w.setObjectName("background_io_indicator")
            lay = QHBoxLayout(w)
            lay.setContentsMargins(0, 0, 0, 0)
            self._label = QLabel("")
            bar = QProgressBar()
            bar.setRange(0, 0)  # busy: the writers report no fraction
            bar.setMaximumWidth(90)
            bar.setMaximumHeight(14)
            bar.setTextVisible(False)
            lay.addWidget(self._label)
            lay.addWidget(bar)
            w.setVisible(bool(self._tasks))
            self._indicator = w
            self._show()
        return self._indicator

    def _show(self) -> None:
        if self._indicator is None or self._label is None:
            return
        live = [t for t in self._tasks if not t.superseded]
        self._label.setText(live[0].label + (f" (+{len(live) - 1})" if len(live) > 1 else "") if live else "")
        self._indicator.setVisible(bool(live))

    # ------------------------------------------------------------------ tasks
    @property
    def busy(self) -> bool:
        return any(not t.superseded for t in self._tasks)

    def pending(self, key: str | None = None) -> list[Task]:
        """Tasks not yet delivered (with ``key``: only those)."""
        return [t for t in self._tasks if not t.superseded and (key is None or t.key == key)]

    def submit(self, label: str, fn: Callable[..., Any], *args: Any, on_done: Done | None = None,
               key: str | None = None) -> Task:
        """Run ``fn(*args)`` on the worker thread; ``on_done(result, error)`` on the GUI thread."""
        if key is not None:
            for old in self._tasks:
                if old.key == key and not old.superseded:
                    # marked first: cancel() runs the future's done callback at once, here, and
                    # its delivery must see a superseded task (not report a cancelled save)
                    old.superseded = True
                    if not old.future.cancel():  # already running: it writes, then this one
                        old.superseded = False
        self._tasks = [t for t in self._tasks if not t.superseded]
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="ganpaint-file-io")
        task = Task(label, key, on_done)
        was_busy = self.busy
        task.future = self._executor.submit(fn, *args)
        self._tasks.append(task)
        # the callback runs on the worker thread (or here, if it already ended): the signal
        # queues the delivery to the GUI thread either way
        task.future.add_done_callback(lambda _f, t=task: self._ended.emit(t))
        self._show()
        if not was_busy:
            self.busy_changed.emit(True)
        return task

    def _deliver(self, task: Task) -> None:
        if task.delivered or task.superseded:
            return
        task.delivered = True
        if task in self._tasks:
            self._tasks.remove(task)
        result: Any = None
        error: BaseException | None = None
        try:
            result = task.future.result()
        except BaseException as exc:  # noqa: BLE001 - handed to on_done, which tells the user
            error = exc
        self._show()
        if not self.busy:
            self.busy_changed.emit(False)
        if task.on_done is not None:
            try:
                task.on_done(result, error)
            except Exception:  # noqa: BLE001 - a failing handler must not stop the others
                log.exception("handling the end of %r failed", task.label)

    def wait(self, timeout: float | None = None) -> bool:
        """Finish every task now (delivering each ``on_done``); the window keeps painting
        meanwhile (no user input is taken). False when ``timeout`` seconds passed first."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            tasks = [t for t in self._tasks if not t.superseded and not t.delivered]
            if not tasks:
                return True
            task = tasks[0]
            while not task.future.done():
                if end is not None and time.monotonic() > end:
                    return False
                wait_futures([task.future], timeout=0.02)
                if QCoreApplication.instance() is not None:
                    QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents, 10)
            self._deliver(task)

    def shutdown(self) -> None:
        """Wait for every task, then end the worker thread."""
        self.wait()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
