"""The worker pool's ordinary path: warm per-plugin workers, progress and questions forwarded,
pictures through shared memory (bit-exact, nothing left behind), the LRU cap, the fallback for
functions no other process can import, and plugin lanes that count as interactive."""

from __future__ import annotations

import os
import textwrap
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ganpaint.core.specs import Role, ToolRequest, ToolResult, ToolSpec
from ganpaint.engine.jobs import INTERACTIVE, TRAINING, Job, JobQueue, JobState, ProgressMessage
from ganpaint.engine.jobs.runner import make_tool_job, tool_lane
from ganpaint.engine.jobs.shm import PREFIX, pack, unpack
from ganpaint.engine.jobs.workers import WorkerPool, pool_settings

T = 60.0

TOOLS = textwrap.dedent('''
    import os
    import numpy as np
    from ganpaint.core.specs import ToolResult

    CACHE = []  # a plugin's module-level cache (a loaded model)

    def echo(request, ctx):
        CACHE.append(1)
        ctx.progress(0.25, "quarter", np.full((2, 2, 3), 0.5, np.float32))
        out = request.image[..., ::-1] * 0.5 + (0 if request.mask is None else request.mask[..., None] / 2)
        return ToolResult(out, alpha=request.alpha, metadata={"pid": os.getpid(), "runs": len(CACHE),
                          "path": ctx.model_path("m1", "echo"), "device": ctx.device,
                          "precision": ctx.precision, "roles": sorted(r.value for r in request.images),
                          "writeable": bool(request.image.flags.writeable)},
                          attachments={"blob": b"abc"})

    KEPT = []

    def keep(request, ctx):  # keeps a view of its input (a cache of the last picture, say)
        intact = all(float(a.sum()) == s for a, s in KEPT)
        KEPT.append((request.image[1:], float(request.image[1:].sum())))
        return ToolResult(request.image, metadata={"intact": intact})

    def slow(request, ctx):  # a long step without progress (a model's forward pass, say)
        import time
        time.sleep(float(request.params.get("seconds", 1.0)))
        return ToolResult(request.image, metadata={"pid": os.getpid()})

    def full_shm(request, ctx):  # /dev/shm full when the worker hands the result over (once)
        from ganpaint.engine.jobs import shm
        real = shm.pack
        def pack(*a, **k):
            shm.pack = real
            raise OSError(28, "No space left on device")
        shm.pack = pack
        return ToolResult(request.image)

    def unknown_model(request, ctx):
        return ToolResult(request.image, metadata={"path": ctx.model_path("nope", "x")})
''')


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "gp_pool_tools.py").write_text(TOOLS)
    monkeypatch.syspath_prepend(str(tmp_path))


def resolver(name: str, tool: str) -> str:
    if name == "nope":
        from ganpaint.core.specs import ToolError

        raise ToolError(f"no model {name!r} for {tool!r}")
    return f"/models/{tool}/{name}"


def spec(name: str, plugin: str) -> ToolSpec:
    return ToolSpec(id=name, title=name, run=f"gp_pool_tools:{name}", plugin=plugin)


def req(h: int = 40, w: int = 24) -> ToolRequest:
    rng = np.random.default_rng(1)
    return ToolRequest("t", {Role.IMAGE: rng.random((h, w, 3), dtype=np.float32),
                             Role.SKETCH: rng.random((h, w, 3), dtype=np.float32)}, {"a": 1},
                       alpha=rng.random((h, w), dtype=np.float32), mask=(rng.random((h, w)) * 255).astype(np.uint8))


def leftovers() -> list[str]:
    prefix = f"{PREFIX}{os.getpid():x}_"
    return [n for n in os.listdir("/dev/shm") if n.startswith(prefix)] if os.path.isdir("/dev/shm") else []


def test_warm_worker_result_progress_and_questions(tools: None) -> None:
    q = JobQueue(pool=WorkerPool(size=2), model_resolver=resolver, device="cpu", precision="fast")
    seen: list[ProgressMessage] = []
    q.events.job_progress.connect(seen.append)
    try:
        r = req()
        first = q.submit(make_tool_job(spec("echo", "p1"), r))
        assert first.wait(T) and first.state is JobState.DONE, first.error
        second = q.submit(make_tool_job(spec("echo", "p1"), r))
        assert second.wait(T) and second.state is JobState.DONE, second.error
    finally:
        q.shutdown(wait=True, timeout=10)
    a, b = first.result, second.result
    assert a.metadata["pid"] != os.getpid() and a.metadata["pid"] == b.metadata["pid"]  # warm
    assert (a.metadata["runs"], b.metadata["runs"]) == (1, 2)  # the module's cache survived
    assert a.metadata["path"] == "/models/echo/m1" and a.metadata["device"] == "cpu"
    assert a.metadata["precision"] == "fast" and a.metadata["roles"] == ["image", "sketch"]
    assert a.metadata["writeable"] is False and a.attachments == {"blob": b"abc"}
    want = r.image[..., ::-1] * 0.5 + r.mask[..., None] / 2
    np.testing.assert_array_equal(a.image, np.clip(want, 0, 1).astype(np.float32))
    np.testing.assert_array_equal(a.alpha, r.alpha)
    mine = [m for m in seen if m.job_id == first.id]
    assert mine and mine[0].fraction == 0.25 and mine[0].message == "quarter"
    assert mine[0].preview is not None and mine[0].preview.shape == (2, 2, 3)
    assert first.lane == tool_lane(spec("echo", "p1")) == "interactive:p1"
    assert leftovers() == []


def test_model_path_errors_reach_the_tool_as_tool_errors(tools: None) -> None:
    q = JobQueue(pool=WorkerPool(), model_resolver=resolver)
    try:
        job = q.submit(make_tool_job(spec("unknown_model", "p1"), req()))
        assert job.wait(T)
    finally:
        q.shutdown(wait=True, timeout=10)
    assert job.state is JobState.FAILED and job.error == "no model 'nope' for 'x'" and job.traceback == ""


def test_least_recently_used_worker_goes_at_the_cap(tools: None) -> None:
    pool = WorkerPool(size=1)
    q = JobQueue(pool=pool, model_resolver=resolver)
    try:
        a = q.submit(make_tool_job(spec("echo", "p1"), req()))
        assert a.wait(T) and a.state is JobState.DONE, a.error
        assert set(pool.pids()) == {"p1"}
        b = q.submit(make_tool_job(spec("echo", "p2"), req()))
        assert b.wait(T) and b.state is JobState.DONE, b.error
        assert set(pool.pids()) == {"p2"}
        assert b.result.metadata["pid"] != a.result.metadata["pid"]
    finally:
        q.shutdown(wait=True, timeout=10)


def test_a_function_no_process_can_import_runs_in_process() -> None:
    q = JobQueue(pool=WorkerPool())
    try:
        job = q.submit(make_tool_job(spec("x", "p"), req(), fn=lambda r, ctx: ToolResult(r.image,
                                                                                         metadata={"pid": os.getpid()})))
        assert job.wait(T) and job.state is JobState.DONE
    finally:
        q.shutdown(wait=True, timeout=10)
    assert job.result.metadata["pid"] == os.getpid()


def test_shared_memory_round_trip_is_exact_and_cleaned() -> None:
    arrays: list[Any] = [np.arange(30, dtype=np.float32).reshape(2, 5, 3), None, np.ones((3, 1), np.uint8)]
    block, slots = pack(arrays)
    assert block is not None and block.name.startswith(PREFIX)
    mapped, out = unpack(block.name, slots, copy=False)
    np.testing.assert_array_equal(out[0], arrays[0])
    assert out[1] is None and not out[0].flags.writeable
    del out
    from ganpaint.engine.jobs.shm import close_quietly

    close_quietly(mapped)
    close_quietly(block, unlink=True)
    assert leftovers() == []


def test_plugin_lanes_count_as_interactive_for_the_training_pause() -> None:
    q = JobQueue()
    go, running = threading.Event(), threading.Event()

    def tool(inputs: Any, ctx: Any) -> None:
        running.set()
        go.wait(T)

    def train(inputs: Any, ctx: Any) -> None:
        while not go.is_set():
            ctx.progress(0.5)
        ctx.progress(1.0)

    try:
        t = q.submit(Job("tool", f"{INTERACTIVE}:someplugin", tool))
        assert running.wait(T) and q.busy(INTERACTIVE)
        tr = q.submit(Job("train", TRAINING, train))
        deadline = threading.Event()
        deadline.wait(0.3)
        assert tr.state is JobState.PAUSED
        go.set()
        assert t.wait(T) and tr.wait(T) and tr.state is JobState.DONE
    finally:
        q.shutdown(wait=True, timeout=10)
    only_training = JobQueue(lanes=(TRAINING,))
    with pytest.raises(ValueError):  # plugin lanes are made only beside an interactive lane
        only_training.submit(Job("x", f"{INTERACTIVE}:p", tool))
    only_training.shutdown()


def test_pool_settings_from_settings_and_environment() -> None:
    class S:
        extra = {"worker_processes": 2, "worker_stall_s": 5, "worker_memory_mb": "bad"}

    s = pool_settings(S(), environ={"GANPAINT_WORKER_MEMORY_MB": "512", "GANPAINT_WORKERS": "0"})
    assert (s.size, s.stall_s, s.memory_mb) == (2, 5.0, 512)
    assert pool_settings(None, environ={}).memory_mb == 0  # 0: from the available memory
    assert WorkerPool(size=3).size == 3


def test_a_kept_view_of_a_request_is_never_overwritten(tools: None) -> None:
    q = JobQueue(pool=WorkerPool())
    try:
        for i in range(3):
            r = ToolRequest("t", {Role.IMAGE: np.full((16, 16, 3), i / 4, np.float32)}, {})
            job = q.submit(make_tool_job(spec("keep", "p1"), r))
            assert job.wait(T) and job.state is JobState.DONE, job.error
            assert job.result.metadata["intact"] is True
            np.testing.assert_array_equal(job.result.image, r.image)
    finally:
        q.shutdown(wait=True, timeout=10)
    assert leftovers() == []


def test_a_replaced_draft_finishes_in_its_warm_worker_but_a_user_cancel_ends_it(tools: None) -> None:
    q = JobQueue(pool=WorkerPool())

    def draft(seconds: float) -> Job:
        r = ToolRequest("t", {Role.IMAGE: np.zeros((8, 8, 3), np.float32)}, {"seconds": seconds})
        return make_tool_job(spec("slow", "p1"), r, key="live:x")

    try:
        warm = q.submit(draft(0.0))
        assert warm.wait(T) and warm.state is JobState.DONE, warm.error
        pid = warm.result.metadata["pid"]
        first = q.submit(draft(1.0), mode="replace")
        time_to_start = threading.Event()
        time_to_start.wait(0.3)
        second = q.submit(draft(0.0), mode="replace")  # a newer slider value: the first is replaced
        assert first.wait(T) and second.wait(T)
        assert first.state is JobState.CANCELLED and second.state is JobState.DONE, second.error
        assert second.result.metadata["pid"] == pid  # the replaced run was let finish: still warm

        stuck = q.submit(draft(60.0), mode="replace")
        time_to_start.wait(0.3)
        newer = q.submit(draft(0.0), mode="replace")
        import time

        t0 = time.monotonic()
        assert q.cancel(stuck.id)  # the user presses Cancel on the replaced one: no more patience
        assert stuck.wait(T) and stuck.state is JobState.CANCELLED
        assert time.monotonic() - t0 < 3.0
        assert newer.wait(T) and newer.state is JobState.DONE
        assert newer.result.metadata["pid"] != pid  # that worker was ended
    finally:
        q.shutdown(wait=True, timeout=10)


def test_a_result_that_cannot_be_handed_over_fails_the_run_not_the_worker(tools: None) -> None:
    pool = WorkerPool()
    q = JobQueue(pool=pool, model_resolver=resolver)
    try:
        job = q.submit(make_tool_job(spec("full_shm", "p1"), req()))
        assert job.wait(T) and job.state is JobState.FAILED
        assert job.error == ("plugin 'p1', tool 'full_shm': its result could not be handed over: "
                             "OSError: [Errno 28] No space left on device")
        worker = pool.pids()["p1"]
        again = q.submit(make_tool_job(spec("echo", "p1"), req()))
        assert again.wait(T) and again.state is JobState.DONE, again.error
        assert again.result.metadata["pid"] == worker  # the worker lived on
    finally:
        q.shutdown(wait=True, timeout=10)
