"""JobBridge: engine events from worker threads arrive as Qt signals on the GUI thread."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from ganpaint.engine.jobs import Job, JobQueue, JobState
from ganpaint.qt.bridge import JobBridge


@pytest.fixture
def queue():
    q = JobQueue()
    yield q
    q.shutdown(wait=True, timeout=5)


@pytest.fixture
def bridge(qtbot, queue):
    b = JobBridge(queue)
    yield b
    b.close()


def _work(inputs, ctx):
    for i in range(5):
        ctx.progress((i + 1) / 5, f"step {i + 1}")
    return {"worker": threading.current_thread().name, "n": inputs["n"] * 2}


def test_progress_and_finish_arrive_on_gui_thread(qtbot, bridge):
    app_thread = QApplication.instance().thread()
    seen: list[tuple[str, bool]] = []
    progress: list[float] = []
    bridge.jobAdded.connect(lambda job: seen.append(("added", QThread.currentThread() is app_thread)))
    bridge.jobState.connect(lambda m: seen.append(("state", QThread.currentThread() is app_thread)))

    def on_progress(msg):
        seen.append(("progress", QThread.currentThread() is app_thread))
        progress.append(msg.fraction)

    bridge.jobProgress.connect(on_progress)
    job = Job("double", "interactive", _work, inputs={"n": 21}, title="Double")
    with qtbot.waitSignal(bridge.jobFinished, timeout=5000) as blocker:
        bridge.submit(job)
    msg = blocker.args[0]
    seen.append(("finished", QThread.currentThread() is app_thread))
    assert msg.state is JobState.DONE
    assert msg.result["n"] == 42
    # the work really ran in a worker thread, not on the GUI thread
    assert msg.result["worker"] != threading.main_thread().name
    kinds = [k for k, _ in seen]
    assert "added" in kinds and "progress" in kinds
    assert all(on_gui for _, on_gui in seen), seen
    # coalesced, but the last reported fraction always arrives and in order
    assert progress and progress[-1] == pytest.approx(1.0)
    assert progress == sorted(progress)
    assert bridge.job(job.id) is job


def test_failure_and_cancel_are_delivered(qtbot, bridge):
    def boom(inputs, ctx):
        raise RuntimeError("kaputt")

    with qtbot.waitSignal(bridge.jobFinished, timeout=5000) as blocker:
        bridge.submit(Job("boom", "interactive", boom))
    assert blocker.args[0].state is JobState.FAILED
    assert "kaputt" in blocker.args[0].error

    gate = threading.Event()

    def slow(inputs, ctx):
        gate.wait(5)
        ctx.progress(0.5)
        return 1

    job = bridge.submit(Job("slow", "interactive", slow))
    with qtbot.waitSignal(bridge.jobFinished, timeout=5000) as blocker:
        assert bridge.cancel(job.id)
        gate.set()
    assert blocker.args[0].state is JobState.CANCELLED
    assert blocker.args[0].result is None


def test_debounced_replace_coalesces_rapid_calls(qtbot, bridge):
    made: list[int] = []
    finished: list = []
    bridge.jobFinished.connect(finished.append)

    def factory_for(i):
        def make():
            made.append(i)
            return Job("preview", "interactive", lambda inputs, ctx: inputs, inputs=i, key="live")

        return make

    for i in range(10):
        bridge.submit_debounced(factory_for(i), key="live", delay_ms=60)
    assert bridge.pending_debounced() == ["live"]
    with qtbot.waitSignal(bridge.submitted, timeout=3000):
        pass
    qtbot.waitUntil(lambda: len(finished) == 1, timeout=3000)
    qtbot.wait(150)
    assert made == [9]  # one job, built from the last call
    assert len(finished) == 1 and finished[0].result == 9
    assert bridge.pending_debounced() == []
