"""``WorkerPool.set_workers`` (issue 18, point 4, ``ganpaint run --jobs N``): one plugin's runs spread
over up to N worker processes at once, each started with its share of the threads; never more than N;
the usual one warm worker per plugin otherwise."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ganpaint.core.specs import Role, ToolRequest, ToolSpec
from ganpaint.engine.jobs import JobQueue, JobState
from ganpaint.engine.jobs.runner import make_tool_job, tool_lane
from ganpaint.engine.jobs.shm import PREFIX
from ganpaint.engine.jobs.workers import WorkerPool

TOOLS = textwrap.dedent('''
    import os, time
    from ganpaint.core.specs import ToolResult

    def nap(request, ctx):
        t0 = time.time()
        time.sleep(1.0)
        return ToolResult(1.0 - request.image, metadata={"pid": os.getpid(), "start": t0, "end": time.time(),
                          "threads": os.environ.get("OMP_NUM_THREADS")})
''')


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "gp_pool_jobs_tools.py").write_text(TOOLS)
    monkeypatch.syspath_prepend(str(tmp_path))


def leftovers() -> list[str]:
    prefix = f"{PREFIX}{os.getpid():x}_"
    return [n for n in os.listdir("/dev/shm") if n.startswith(prefix)] if os.path.isdir("/dev/shm") else []


def run_spread(pool: WorkerPool, lanes: int, pictures: int) -> list[dict]:  # type: ignore[type-arg]
    spec = ToolSpec(id="nap", title="Nap", run="gp_pool_jobs_tools:nap", plugin="jobsplug")
    rng = np.random.default_rng(3)
    queue = JobQueue(pool=pool)
    try:
        jobs = []
        for i in range(pictures):
            image = rng.random((16, 12, 3), dtype=np.float32)
            request = ToolRequest("t", {Role.IMAGE: image}, {})
            job = queue.submit(make_tool_job(spec, request, lane=f"{tool_lane(spec)}#{i % lanes}"))
            jobs.append((job, image))
        for job, image in jobs:
            assert job.wait(120), "a run never ended"
            assert job.state is JobState.DONE, job.error
            np.testing.assert_array_equal(job.result.image, 1.0 - image)
        return [job.result.metadata for job, _ in jobs]
    finally:
        queue.shutdown()


def test_set_workers_spreads_one_plugin_over_n_processes_with_their_threads(tools) -> None:  # type: ignore[no-untyped-def]
    pool = WorkerPool(size=4, threads=3)
    assert pool.key_of(ToolSpec(id="nap", title="Nap", run="m:f", plugin="jobsplug")) == "jobsplug"
    pool.set_workers("jobsplug", 2)
    runs = run_spread(pool, lanes=3, pictures=6)  # three lanes, but at most two workers
    pids = {r["pid"] for r in runs}
    assert len(pids) == 2 and os.getpid() not in pids
    assert {r["threads"] for r in runs} == {"3"}
    spans = sorted((r["start"], r["end"]) for r in runs)
    at_once = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)  # runs going on as each starts
    assert at_once == 2, spans  # two at once, never three
    assert not leftovers()
    with pytest.raises(ValueError):
        pool.set_workers("jobsplug", 0)


def test_without_set_workers_a_plugin_keeps_one_worker(tools) -> None:  # type: ignore[no-untyped-def]
    runs = run_spread(WorkerPool(size=4), lanes=2, pictures=3)
    assert len({r["pid"] for r in runs}) == 1
    assert not leftovers()
