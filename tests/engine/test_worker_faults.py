"""Injected faults against the real worker pool (issue 12, point 1): a tool that hangs, crashes,
exits, eats memory or raises ends only its own worker; the job says so in one sentence naming the
plugin and the tool; the next run gets a fresh worker; other plugins never wait for a hung one.
Deadlines are asserted with a 3x margin."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ganpaint.core.specs import JobCancelled, Role, ToolRequest, ToolSpec
from ganpaint.engine.jobs import JobQueue, JobState
from ganpaint.engine.jobs.runner import make_tool_job
from ganpaint.engine.jobs.shm import PREFIX
from ganpaint.engine.jobs.workers import WorkerPool

T = 60.0  # generous: a worker's first start imports Python and numpy on a busy machine

FAULT_TOOLS = textwrap.dedent('''
    import ctypes, os, time
    import numpy as np
    from ganpaint.core.specs import ToolResult

    def pid(request, ctx):
        ctx.progress(0.5, "half")
        return ToolResult(1.0 - request.image, metadata={"pid": os.getpid()})

    def hang(request, ctx):
        open(request.params["marker"], "w").close()
        while True:  # never reports progress
            time.sleep(0.05)

    def swallow(request, ctx):
        open(request.params["marker"], "w").close()
        while True:
            try:
                ctx.progress(0.1)
            except Exception:  # a plugin that swallows every error
                pass
            time.sleep(0.02)

    def segfault(request, ctx):
        ctypes.string_at(0)

    def exit_(request, ctx):
        os._exit(3)

    def hog(request, ctx):
        block = np.ones(1 << 30, np.uint8)  # 1 GB, every page touched
        time.sleep(30)
        return ToolResult(request.image + block[:1])

    def raises(request, ctx):
        raise RuntimeError("the plugin fell over")
''')


@pytest.fixture(scope="module")
def tools_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("faulttools")
    (d / "gp_fault_tools.py").write_text(FAULT_TOOLS)
    return d


@pytest.fixture
def queue(tools_dir: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(tools_dir))  # spawned workers get the editor's sys.path
    q = JobQueue(pool=WorkerPool(size=4, stall_s=120, memory_mb=512))
    yield q
    q.shutdown(wait=True, timeout=10)


def spec(name: str, plugin: str = "faults") -> ToolSpec:
    return ToolSpec(id=name, title=name, run=f"gp_fault_tools:{name}", plugin=plugin)


def request(marker: Path | None = None) -> ToolRequest:
    img = np.random.default_rng(0).random((32, 48, 3), dtype=np.float32)
    return ToolRequest("t", {Role.IMAGE: img}, {"marker": str(marker or "")})


def run(q: JobQueue, name: str, plugin: str = "faults", marker: Path | None = None) -> Any:
    job = q.submit(make_tool_job(spec(name, plugin), request(marker)))
    assert job.wait(T), f"{name} did not end"
    return job


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + T
    while not path.exists():
        assert time.monotonic() < deadline, "the tool never started"
        time.sleep(0.02)


def recovered(q: JobQueue, before: int, plugin: str = "faults") -> float:
    """Runs the plugin again: a fresh worker does the work. Returns the seconds it took."""
    t0 = time.monotonic()
    job = run(q, "pid", plugin)
    assert job.state is JobState.DONE, job.error
    assert job.result.metadata["pid"] != before and job.result.metadata["pid"] != os.getpid()
    return time.monotonic() - t0


def worker_pid(q: JobQueue, plugin: str = "faults") -> int:
    job = run(q, "pid", plugin)
    assert job.state is JobState.DONE, job.error
    return int(job.result.metadata["pid"])


def leftovers() -> list[str]:
    prefix = f"{PREFIX}{os.getpid():x}_"
    return [n for n in os.listdir("/dev/shm") if n.startswith(prefix)] if os.path.isdir("/dev/shm") else []


def test_jobcancelled_is_not_an_exception() -> None:
    assert not issubclass(JobCancelled, Exception) and issubclass(JobCancelled, BaseException)


def test_hung_tool_without_progress_is_cancelled_within_a_second(queue: JobQueue, tmp_path: Path) -> None:
    before = worker_pid(queue)
    marker = tmp_path / "m"
    job = queue.submit(make_tool_job(spec("hang"), request(marker)))
    wait_for(marker)
    t0 = time.monotonic()
    queue.cancel(job.id)
    assert job.wait(T)
    took = time.monotonic() - t0
    assert job.state is JobState.CANCELLED and job.result is None
    assert took < 3.0, f"cancel took {took:.2f} s"
    print(f"hang: cancelled in {took:.2f} s, recovered in {recovered(queue, before):.2f} s")


def test_cancel_is_not_swallowed_by_except_exception(queue: JobQueue, tmp_path: Path) -> None:
    before = worker_pid(queue)
    marker = tmp_path / "m"
    job = queue.submit(make_tool_job(spec("swallow"), request(marker)))
    wait_for(marker)
    t0 = time.monotonic()
    queue.cancel(job.id)
    assert job.wait(T) and job.state is JobState.CANCELLED
    assert time.monotonic() - t0 < 3.0
    # it stopped by itself (JobCancelled passed its except Exception): the warm worker lives on
    assert worker_pid(queue) == before


@pytest.mark.parametrize(("tool", "words"), [("segfault", "crashed (signal SIGSEGV)"),
                                             ("exit_", "ended unexpectedly (exit code 3)")])
def test_crash_ends_only_the_worker(queue: JobQueue, tool: str, words: str) -> None:
    before = worker_pid(queue)
    t0 = time.monotonic()
    job = run(queue, tool)
    assert job.state is JobState.FAILED and job.result is None
    assert job.error.startswith(f"plugin 'faults', tool '{tool}' {words}"), job.error
    assert "\n" not in job.error and job.error.count(". ") == 0
    assert leftovers() == []  # the dead worker's shared memory went with it
    print(f"{tool}: '{job.error}' after {time.monotonic() - t0:.2f} s; "
          f"the next run (fresh worker) took {recovered(queue, before):.2f} s")
    queue.shutdown(wait=True, timeout=10)
    assert leftovers() == []  # the dead worker's blocks too


def test_memory_beyond_the_limit_ends_the_worker(queue: JobQueue) -> None:
    before = worker_pid(queue)
    t0 = time.monotonic()
    job = run(queue, "hog")
    took = time.monotonic() - t0
    assert job.state is JobState.FAILED
    assert job.error.startswith("plugin 'faults', tool 'hog' used more than 512 MB of memory"), job.error
    assert took < 25  # killed at the limit, not after the tool's 30 s
    assert leftovers() == []
    print(f"hog: '{job.error}' after {took:.2f} s, recovered in {recovered(queue, before):.2f} s")
    queue.shutdown(wait=True, timeout=10)
    assert leftovers() == []  # the dead worker's blocks too


def test_a_tool_that_raises_keeps_its_warm_worker(queue: JobQueue) -> None:
    before = worker_pid(queue)
    job = run(queue, "raises")
    assert job.state is JobState.FAILED
    assert job.error == "plugin 'faults', tool 'raises': failed: RuntimeError: the plugin fell over"
    assert "RuntimeError" in job.traceback
    assert worker_pid(queue) == before


def test_a_stalled_tool_is_ended_after_the_stall_limit(tools_dir: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tools_dir))
    q = JobQueue(pool=WorkerPool(stall_s=1.0))
    try:
        before = worker_pid(q)  # the worker is up: the stall limit counts from here
        t0 = time.monotonic()
        job = run(q, "hang", marker=tmp_path / "m")
        took = time.monotonic() - t0
        assert job.state is JobState.FAILED
        assert job.error.startswith("plugin 'faults', tool 'hang' stopped responding (nothing for 1 s)")
        assert 1.0 <= took < 3.0 + 1.0
        recovered(q, before)
    finally:
        q.shutdown(wait=True, timeout=10)


def test_other_plugins_run_while_one_hangs(queue: JobQueue, tmp_path: Path) -> None:
    marker = tmp_path / "m"
    hung = queue.submit(make_tool_job(spec("hang", "stuck"), request(marker)))
    wait_for(marker)
    t0 = time.monotonic()
    other = run(queue, "pid", "healthy")  # another plugin: its own lane and worker
    assert other.state is JobState.DONE and not hung.state.finished
    print(f"another plugin's tool ran in {time.monotonic() - t0:.2f} s while one hung")
    queue.cancel(hung.id)
    assert hung.wait(T) and hung.state is JobState.CANCELLED


def test_shutdown_ends_a_running_tool_and_leaves_no_shared_memory(tools_dir: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tools_dir))
    pool = WorkerPool()
    q = JobQueue(pool=pool)
    marker = tmp_path / "m"
    job = q.submit(make_tool_job(spec("hang"), request(marker)))
    wait_for(marker)
    pids = list(pool.pids().values())
    t0 = time.monotonic()
    q.shutdown(wait=True, timeout=10)
    assert job.wait(T) and job.state is JobState.CANCELLED
    assert time.monotonic() - t0 < 3.0
    assert pool.pids() == {} and leftovers() == []
    import psutil

    assert pids and not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
                            for p in pids)
