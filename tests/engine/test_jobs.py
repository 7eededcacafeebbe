"""The job queue with real threads. Synchronised with events, never with sleeps."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from ganpaint.core.specs import JobCancelled, ToolError
from ganpaint.engine.jobs import (
    FinishedMessage,
    Job,
    JobContext,
    JobQueue,
    JobState,
    ProgressMessage,
    StateMessage,
    freeze,
)

T = 10.0  # generous timeout: only hit when the code under test is broken


@pytest.fixture
def queue() -> Iterator[JobQueue]:
    q = JobQueue()
    yield q
    q.shutdown(wait=True, timeout=T)


class Recorder:
    def __init__(self, q: JobQueue) -> None:
        self.lock = threading.Lock()
        self.finished: dict[str, FinishedMessage] = {}
        self.states: list[StateMessage] = []
        self.progress: list[ProgressMessage] = []
        q.events.job_finished.connect(self._fin)
        q.events.job_state.connect(self._state)
        q.events.job_progress.connect(self._prog)

    def _fin(self, m: FinishedMessage) -> None:
        with self.lock:
            self.finished[m.job_id] = m

    def _state(self, m: StateMessage) -> None:
        with self.lock:
            self.states.append(m)

    def _prog(self, m: ProgressMessage) -> None:
        with self.lock:
            self.progress.append(m)


def gated(started: threading.Event, gate: threading.Event, steps: int = 1000) -> Any:
    """A job function that signals it started, then steps (with progress) until the gate opens."""

    def fn(inputs: Any, ctx: JobContext) -> Any:
        started.set()
        for i in range(steps):
            ctx.progress(i / steps, f"step {i}")
            if gate.wait(0.01):
                return ("done", inputs)
        return ("ran out", inputs)

    return fn


def test_job_runs_and_reports(queue: JobQueue) -> None:
    rec = Recorder(queue)

    def fn(inputs: Any, ctx: JobContext) -> int:
        ctx.progress(0.5, "half", np.zeros((2, 2, 3), np.float32))
        return int(inputs["n"]) * 2

    job = queue.submit(Job("test", "interactive", fn, {"n": 21}))
    assert job.wait(T)
    assert job.state is JobState.DONE and job.result == 42
    fin = rec.finished[job.id]
    assert fin.state is JobState.DONE and fin.result == 42 and fin.error == ""
    (p,) = rec.progress
    assert p.fraction == 0.5 and p.message == "half" and not p.preview.flags.writeable
    assert [s.state for s in rec.states] == [JobState.RUNNING]


def test_inputs_are_an_immutable_copy(queue: JobQueue) -> None:
    arr = np.ones((4, 4), np.float32)
    job = Job("t", "interactive", lambda i, c: i["a"].sum(), {"a": arr, "l": [1, 2]})
    arr[:] = 7  # the caller changes its array after making the job
    assert job.inputs["a"].sum() == 16
    assert not job.inputs["a"].flags.writeable
    with pytest.raises(TypeError):
        job.inputs["b"] = 1
    assert job.inputs["l"] == (1, 2)
    queue.submit(job)
    assert job.wait(T) and job.result == 16


def test_freeze_rebuilds_frozen_dataclasses() -> None:
    from ganpaint.core.specs import Role, ToolRequest

    img = np.zeros((2, 3, 3), np.float32)
    req = ToolRequest("t", {Role.IMAGE: img}, {"x": 1})
    frozen = freeze(req)
    assert not frozen.image.flags.writeable and frozen.image is not img
    img[:] = 1
    assert frozen.image.max() == 0


def test_jobs_in_a_lane_run_in_order(queue: JobQueue) -> None:
    order: list[int] = []
    jobs = [queue.submit(Job("t", "interactive", lambda i, c: order.append(i), n)) for n in range(5)]
    assert all(j.wait(T) for j in jobs)
    assert order == [0, 1, 2, 3, 4]


def test_errors_are_isolated(queue: JobQueue) -> None:
    rec = Recorder(queue)

    def boom(inputs: Any, ctx: JobContext) -> None:
        raise RuntimeError("kaput\nsecond line")

    def user(inputs: Any, ctx: JobContext) -> None:
        raise ToolError("choose a smaller brush")

    def leave(inputs: Any, ctx: JobContext) -> None:
        raise SystemExit(3)  # a plugin calling exit() must not stop the worker

    a = queue.submit(Job("t", "interactive", boom))
    b = queue.submit(Job("t", "interactive", user))
    c = queue.submit(Job("t", "interactive", leave))
    d = queue.submit(Job("t", "interactive", lambda i, ctx: "still alive"))
    assert all(j.wait(T) for j in (a, b, c, d))
    assert a.state is JobState.FAILED
    assert rec.finished[a.id].error == "RuntimeError: kaput second line"
    assert "Traceback" in rec.finished[a.id].traceback
    assert b.state is JobState.FAILED and b.error == "choose a smaller brush" and b.traceback == ""
    assert c.state is JobState.FAILED
    assert d.state is JobState.DONE and d.result == "still alive"


def test_a_failing_listener_does_not_kill_the_worker(queue: JobQueue) -> None:
    def bad_listener(m: Any) -> None:
        raise ValueError("listener bug")

    queue.events.job_progress.connect(bad_listener)

    def fn(inputs: Any, ctx: JobContext) -> str:
        ctx.progress(0.1)
        return "ok"

    job = queue.submit(Job("t", "interactive", fn))
    assert job.wait(T) and job.state is JobState.DONE and job.result == "ok"


def test_cancel_running_job_at_next_progress_step(queue: JobQueue) -> None:
    rec = Recorder(queue)
    started, gate = threading.Event(), threading.Event()
    job = queue.submit(Job("t", "interactive", gated(started, gate)))
    assert started.wait(T)
    assert queue.cancel(job.id)
    assert job.wait(T)
    assert job.state is JobState.CANCELLED and job.result is None
    assert rec.finished[job.id].state is JobState.CANCELLED and rec.finished[job.id].result is None
    assert not queue.cancel(job.id)  # already over


def test_cancelled_job_result_is_discarded_even_if_it_returns(queue: JobQueue) -> None:
    started, release = threading.Event(), threading.Event()

    def ignores_cancel(inputs: Any, ctx: JobContext) -> str:
        started.set()
        release.wait(T)  # never calls progress: cannot be stopped, but its result must not count
        return "changed the world"

    job = queue.submit(Job("t", "interactive", ignores_cancel))
    assert started.wait(T)
    queue.cancel(job.id)
    release.set()
    assert job.wait(T)
    assert job.state is JobState.CANCELLED and job.result is None


def test_cancel_queued_job_never_runs(queue: JobQueue) -> None:
    started, gate = threading.Event(), threading.Event()
    ran = threading.Event()
    first = queue.submit(Job("t", "interactive", gated(started, gate)))
    second = queue.submit(Job("t", "interactive", lambda i, c: ran.set()))
    assert started.wait(T)
    assert queue.cancel(second.id)
    assert second.wait(T) and second.state is JobState.CANCELLED
    gate.set()
    assert first.wait(T) and first.state is JobState.DONE
    third = queue.submit(Job("t", "interactive", lambda i, c: "x"))
    assert third.wait(T)
    assert not ran.is_set()


def test_replace_latest_wins(queue: JobQueue) -> None:
    started, gate = threading.Event(), threading.Event()
    running = queue.submit(Job("preview", "interactive", gated(started, gate), 0, key="blur"), "replace")
    assert started.wait(T)
    # queued behind the running one, then replaced by the latest
    results: list[int] = []
    mids = [
        queue.submit(Job("preview", "interactive", lambda i, c: results.append(i), n, key="blur"), "replace")
        for n in (1, 2, 3)
    ]
    other = queue.submit(Job("preview", "interactive", lambda i, c: results.append(i), 99, key="sharpen"), "replace")
    assert all(j.wait(T) for j in mids + [running, other])
    assert running.state is JobState.CANCELLED  # the running one was cancelled
    assert [j.state for j in mids] == [JobState.CANCELLED, JobState.CANCELLED, JobState.DONE]
    assert other.state is JobState.DONE
    assert results == [3, 99]


def test_training_pauses_while_interactive_work_runs(queue: JobQueue) -> None:
    rec = Recorder(queue)
    order: list[str] = []
    t_started, stop_training = threading.Event(), threading.Event()
    i_started, i_gate = threading.Event(), threading.Event()

    def training(inputs: Any, ctx: JobContext) -> str:
        t_started.set()
        step = 0
        while not stop_training.is_set():
            ctx.progress(0.0, f"step {step}")
            order.append("train")
            step += 1
        return "trained"

    train = queue.submit(Job("train", "training", training))
    assert t_started.wait(T)

    def interactive(inputs: Any, ctx: JobContext) -> str:
        i_started.set()
        assert i_gate.wait(T)
        order.append("interactive")
        return "ok"

    job = queue.submit(Job("tool", "interactive", interactive))
    assert i_started.wait(T)
    # the training job must reach PAUSED (at its next step) while the interactive job runs
    paused = threading.Event()
    queue.events.job_state.connect(
        lambda m: paused.set() if (m.job_id == train.id and m.state is JobState.PAUSED) else None
    )
    if train.state is JobState.PAUSED:
        paused.set()
    assert paused.wait(T)
    assert train.state is JobState.PAUSED
    n_before = len(order)
    i_gate.set()
    assert job.wait(T) and job.state is JobState.DONE
    # training resumes by itself after the interactive job
    resumed = threading.Event()

    def watch(m: ProgressMessage) -> None:
        if m.job_id == train.id:
            resumed.set()

    queue.events.job_progress.connect(watch)
    assert resumed.wait(T)
    stop_training.set()
    assert train.wait(T) and train.state is JobState.DONE and train.result == "trained"
    # no training step ran between the pause and the interactive job's end
    assert order[n_before] == "interactive"
    reasons = [m.reason for m in rec.states if m.job_id == train.id and m.state is JobState.PAUSED]
    assert reasons and "interactive" in reasons[0]


def test_cancel_a_paused_training_job(queue: JobQueue) -> None:
    t_started = threading.Event()
    i_started, i_gate = threading.Event(), threading.Event()
    paused = threading.Event()

    def training(inputs: Any, ctx: JobContext) -> None:
        t_started.set()
        while True:
            ctx.progress(0.0)

    queue.events.job_state.connect(lambda m: paused.set() if m.state is JobState.PAUSED else None)
    train = queue.submit(Job("train", "training", training))
    assert t_started.wait(T)
    inter = queue.submit(Job("tool", "interactive", gated(i_started, i_gate)))
    assert paused.wait(T)
    assert queue.cancel(train.id)
    assert train.wait(T) and train.state is JobState.CANCELLED
    i_gate.set()
    assert inter.wait(T) and inter.state is JobState.DONE


def test_submit_checks(queue: JobQueue) -> None:
    with pytest.raises(ValueError, match="unknown lane"):
        queue.submit(Job("t", "gpu", lambda i, c: None))
    with pytest.raises(ValueError, match="mode"):
        queue.submit(Job("t", "interactive", lambda i, c: None), mode="stack")  # type: ignore[arg-type]
    job = queue.submit(Job("t", "interactive", lambda i, c: None))
    with pytest.raises(ValueError, match="already"):
        queue.submit(job)
    assert job.wait(T)
    assert not queue.cancel("no-such-id")


def test_shutdown_cancels_everything_and_stops() -> None:
    q = JobQueue()
    started, gate = threading.Event(), threading.Event()
    running = q.submit(Job("t", "interactive", gated(started, gate)))
    queued = q.submit(Job("t", "interactive", lambda i, c: "never"))
    assert started.wait(T)
    q.shutdown(wait=True, timeout=T)
    assert running.state is JobState.CANCELLED and queued.state is JobState.CANCELLED
    assert all(not lane_thread.is_alive() for lane_thread in (q._lanes[n].thread for n in q.lanes))
    with pytest.raises(RuntimeError):
        q.submit(Job("t", "interactive", lambda i, c: None))


def test_context_device_is_lazy_and_model_path_delegates() -> None:
    calls: list[str] = []

    def resolve() -> str:
        calls.append("x")
        return "cpu"

    q = JobQueue(device=resolve, model_resolver=lambda name, tool: f"/models/{tool}/{name}.safetensors")
    try:
        a = q.submit(Job("t", "interactive", lambda i, ctx: ctx.model_path("m", "translate")))
        assert a.wait(T) and a.result == "/models/translate/m.safetensors"
        assert calls == []  # nobody asked for the device
        b = q.submit(Job("t", "interactive", lambda i, ctx: ctx.device))
        c = q.submit(Job("t", "interactive", lambda i, ctx: ctx.device))
        assert b.wait(T) and c.wait(T) and b.result == c.result == "cpu"
        assert calls == ["x"]  # resolved once
    finally:
        q.shutdown()


def test_model_path_without_store_is_a_tool_error(queue: JobQueue) -> None:
    job = queue.submit(Job("t", "interactive", lambda i, ctx: ctx.model_path("m", "t")))
    assert job.wait(T) and job.state is JobState.FAILED and job.traceback == ""
    assert "no model store" in job.error


def test_only_the_newest_finished_jobs_are_kept() -> None:
    q = JobQueue(keep_finished=2)
    try:
        jobs = [q.submit(Job("t", "interactive", lambda i, c: i, n)) for n in range(5)]
        assert all(j.wait(T) for j in jobs)
        assert [j.inputs for j in q.jobs()] == [3, 4]
        q.forget(jobs[4].id)
        assert [j.inputs for j in q.jobs()] == [3]
    finally:
        q.shutdown()


def test_generator_jobs_report_progress_and_return(queue: JobQueue) -> None:
    rec = Recorder(queue)

    def gen(inputs: Any, ctx: JobContext) -> Any:
        yield 0.25
        yield (0.5, "half")
        yield None
        return "made"

    job = queue.submit(Job("t", "interactive", gen))
    assert job.wait(T) and job.state is JobState.DONE and job.result == "made"
    assert [(p.fraction, p.message) for p in rec.progress] == [(0.25, ""), (0.5, "half"), (0.0, "")]


def test_generator_job_cleans_up_on_cancel(queue: JobQueue) -> None:
    started = threading.Event()
    cleaned = threading.Event()

    def gen(inputs: Any, ctx: JobContext) -> Any:
        started.set()
        try:
            while True:
                yield 0.1
        except JobCancelled:  # arrives at the yield (a BaseException: catch it by name): save a checkpoint, stop
            cleaned.set()
            raise

    job = queue.submit(Job("t", "training", gen))
    assert started.wait(T)
    queue.cancel(job.id)
    assert job.wait(T) and job.state is JobState.CANCELLED
    assert cleaned.is_set()
