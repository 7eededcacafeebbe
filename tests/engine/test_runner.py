"""run_tool: loading, result checks, and plugin faults turned into named errors."""

from __future__ import annotations

import sys
import types
from types import MappingProxyType
from typing import Any

import numpy as np
import pytest

from ganpaint.core.specs import JobCancelled, Role, ToolError, ToolRequest, ToolResult, ToolSpec
from ganpaint.engine.jobs import Job, JobContext, JobQueue, JobState
from ganpaint.engine.jobs.runner import ToolRunError, load_tool_function, make_tool_job, run_tool

H, W = 4, 5


def _spec(run: str = "fake_mod:fn", plugin: str = "fakeplug") -> ToolSpec:
    return ToolSpec(id="fake", title="Fake", run=run, plugin=plugin)


def _request() -> ToolRequest:
    img = np.full((H, W, 3), 0.5, np.float32)
    return ToolRequest("fake", MappingProxyType({Role.IMAGE: img}), MappingProxyType({}))


def _ctx() -> JobContext:
    return JobContext(Job("t", "interactive", lambda i, c: None))


def test_good_result_is_cleaned() -> None:
    def fn(req: ToolRequest, ctx: Any) -> ToolResult:
        return ToolResult(image=(req.image * 3).astype(np.float64) - 0.2, metadata={"k": (1, 2)})

    res = run_tool(_spec(), fn, _request(), _ctx())
    assert res.image.dtype == np.float32
    assert res.image.max() == 1.0 and res.image.min() == 1.0  # 1.3 clipped
    assert res.metadata == {"k": [1, 2]}  # JSON round trip


@pytest.mark.parametrize(
    ("result", "match"),
    [
        ("not a result", "expected a ToolResult"),
        (ToolResult(image=np.zeros((H, W), np.float32)), "shape"),
        (ToolResult(image=np.zeros((H + 1, W, 3), np.float32)), "shape"),
        (ToolResult(image=np.zeros((H, W, 3), np.uint8)), "dtype uint8"),
        (ToolResult(image=np.full((H, W, 3), np.nan, np.float32)), "NaN"),
        (ToolResult(image=np.zeros((H, W, 3), np.float32), alpha=np.zeros((H, W, 1), np.float32)), "alpha"),
        (ToolResult(image=np.zeros((H, W, 3), np.float32), metadata={"x": object()}), "JSON"),
        (ToolResult(image=np.zeros((H, W, 3), np.float32), attachments={"a": "text"}), "bytes"),
    ],
)
def test_bad_results_are_refused_naming_the_plugin(result: Any, match: str) -> None:
    with pytest.raises(ToolRunError, match=match) as info:
        run_tool(_spec(), lambda r, c: result, _request(), _ctx())
    assert "fakeplug" in info.value.user_message and "fake" in info.value.user_message
    assert info.value.traceback_text == ""


def test_tool_error_is_a_message_without_traceback() -> None:
    def fn(req: ToolRequest, ctx: Any) -> ToolResult:
        raise ToolError("select something first")

    with pytest.raises(ToolRunError) as info:
        run_tool(_spec(), fn, _request(), _ctx())
    assert info.value.user_message == "select something first"
    assert info.value.traceback_text == "" and info.value.user_error


def test_crash_names_plugin_and_keeps_traceback() -> None:
    def fn(req: ToolRequest, ctx: Any) -> ToolResult:
        raise ZeroDivisionError("oops")

    with pytest.raises(ToolRunError) as info:
        run_tool(_spec(), fn, _request(), _ctx())
    assert info.value.user_message == "plugin 'fakeplug', tool 'fake': failed: ZeroDivisionError: oops"
    assert "ZeroDivisionError" in info.value.traceback_text


def test_exit_in_a_tool_is_contained() -> None:
    def fn(req: ToolRequest, ctx: Any) -> ToolResult:
        sys.exit(4)

    with pytest.raises(ToolRunError, match="exit"):
        run_tool(_spec(), fn, _request(), _ctx())


def test_cancel_passes_through() -> None:
    def fn(req: ToolRequest, ctx: Any) -> ToolResult:
        raise JobCancelled()

    with pytest.raises(JobCancelled):
        run_tool(_spec(), fn, _request(), _ctx())


def test_lazy_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    mod = types.ModuleType("fake_mod")
    mod.fn = lambda req, ctx: ToolResult(image=np.zeros((H, W, 3), np.float32))  # type: ignore[attr-defined]
    mod.notcallable = 3  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_mod", mod)
    assert run_tool(_spec(), None, _request(), _ctx()).image.shape == (H, W, 3)
    with pytest.raises(ToolRunError, match="not callable"):
        load_tool_function(_spec("fake_mod:notcallable"))
    with pytest.raises(ToolRunError, match="cannot load 'no_such_mod_xyz:fn'") as info:
        load_tool_function(_spec("no_such_mod_xyz:fn"))
    assert "ModuleNotFoundError" in info.value.traceback_text
    seen: list[str] = []

    def resolver(lazy: str) -> Any:
        seen.append(lazy)
        return mod.fn  # type: ignore[attr-defined]

    load_tool_function(_spec("other:thing"), resolver)
    assert seen == ["other:thing"]


def test_tool_job_through_the_queue() -> None:
    q = JobQueue()
    try:
        def ok(req: ToolRequest, ctx: Any) -> ToolResult:
            ctx.progress(0.5)
            return ToolResult(image=1 - req.image)

        def bad(req: ToolRequest, ctx: Any) -> ToolResult:
            raise ToolError("needs a mask")

        a = q.submit(make_tool_job(_spec(), _request(), fn=ok))
        b = q.submit(make_tool_job(_spec(), _request(), fn=bad))
        assert a.wait(10) and b.wait(10)
        assert a.state is JobState.DONE and np.allclose(a.result.image, 0.5)
        assert a.key == "tool:fake"
        assert b.state is JobState.FAILED and b.error == "needs a mask" and b.traceback == ""
    finally:
        q.shutdown()


def test_the_preview_flag_reaches_the_tool_through_the_queue() -> None:
    """A live drag's draft request keeps ``preview=True`` through job freezing and the worker."""
    from ganpaint.core.document import Document
    from ganpaint.core.toolio import build_request

    doc = Document(W, H)
    doc.add_layer("Picture", np.full((H, W, 4), 200, np.uint8))
    spec = ToolSpec(id="fake", title="Fake", run="fake_mod:fn", inputs=())
    seen: list[bool] = []

    def fn(req: ToolRequest, ctx: Any) -> ToolResult:
        seen.append(req.preview)
        return ToolResult(image=np.zeros((H, W, 3), np.float32))

    assert build_request(doc, spec, None, {}).preview is False  # the Run button, the command line
    q = JobQueue()
    try:
        for flag in (True, False):
            job = q.submit(make_tool_job(spec, build_request(doc, spec, None, {}, preview=flag), fn=fn))
            assert job.wait(10) and job.state is JobState.DONE
            assert job.inputs.preview is flag
    finally:
        q.shutdown()
    assert seen == [True, False]
