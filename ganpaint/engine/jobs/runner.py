"""Running one tool: import its lazy code, call it, check what it returned.

Shared by the editor and the command line (both inside a :class:`~ganpaint.engine.jobs.Job`)
and by the worker process a tool runs in (``child``). Whatever a plugin does wrong
comes back as a :class:`ToolRunError` naming the plugin and the tool; ``JobCancelled``
passes through untouched (it is how a job stops).

:func:`make_tool_job` runs the tool in the queue's worker pool when it has one (the
editor's and ``ganpaint run``'s queues do), else in the lane's thread (tests, and
the plugin author's ``ganpaint.testing``).
"""

from __future__ import annotations

import importlib
import traceback as tb_module
from collections.abc import Callable
from typing import Any

from ganpaint.core.specs import (
    JobCancelled,
    OutputMode,
    RunContext,
    ToolError,
    ToolFunction,
    ToolRequest,
    ToolResult,
    ToolSpec,
)
from ganpaint.core.toolio import ResultError, validate_result
from ganpaint.engine.jobs.queue import INTERACTIVE, Job, JobContext, one_line

__all__ = ["ToolRunError", "importable_name", "load_tool_function", "make_tool_job", "run_tool", "tool_lane"]


class ToolRunError(Exception):
    """A tool could not run or returned something unusable.

    ``user_message`` is one line naming the plugin and tool; ``traceback_text`` is
    empty when the tool raised :class:`ToolError` (a problem the user can fix) or
    returned a malformed result (the message says what was wrong).
    """

    def __init__(self, spec: ToolSpec, message: str, traceback_text: str = "", *, user_error: bool = False) -> None:
        who = f"plugin {spec.plugin!r}, tool {spec.id!r}" if spec.plugin else f"tool {spec.id!r}"
        self.plugin = spec.plugin
        self.tool = spec.id
        self.reason = one_line(message)
        self.user_message = self.reason if user_error else f"{who}: {self.reason}"
        self.traceback_text = traceback_text
        self.user_error = user_error
        super().__init__(self.user_message)


Resolver = Callable[[str], Callable[..., Any]]


def load_tool_function(spec: ToolSpec, resolver: Resolver | None = None) -> ToolFunction:
    """Import ``spec.run`` ("module:attr"), through ``resolver`` when given (the plugin
    manager's cached ``resolve``). Raises :class:`ToolRunError` on failure."""
    try:
        if resolver is not None:
            obj: Any = resolver(spec.run)
        else:
            module_name, _, attr = spec.run.partition(":")
            obj = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
    except (Exception, SystemExit) as exc:
        trace = tb_module.format_exc()
        message = getattr(exc, "message", None)
        if hasattr(exc, "plugin") and isinstance(message, str):
            raise ToolRunError(spec, message, trace) from exc  # a PluginError: already says what failed
        raise ToolRunError(spec, f"cannot load {spec.run!r}: {type(exc).__name__}: {exc}", trace) from exc
    if not callable(obj):
        raise ToolRunError(spec, f"{spec.run!r} is not callable")
    return obj  # type: ignore[no-any-return]


def run_tool(
    spec: ToolSpec,
    fn: ToolFunction | None,
    request: ToolRequest,
    ctx: RunContext,
    *,
    resolver: Resolver | None = None,
) -> ToolResult:
    """Run a tool and return its checked result (float32, clipped to [0, 1]).

    ``fn`` None: load ``spec.run`` first (inside the caller's thread: a worker),
    through ``resolver`` when given (``PluginManager.resolve``).
    Raises :class:`JobCancelled` when the job was cancelled and
    :class:`ToolRunError` for every other failure.
    """
    if fn is None:
        fn = load_tool_function(spec, resolver)
    try:
        result = fn(request, ctx)
    except JobCancelled:
        raise
    except SystemExit as exc:  # a plugin calling exit() must not end the program
        raise ToolRunError(spec, f"called exit({exc.code})", tb_module.format_exc()) from exc
    except ToolError as exc:
        raise ToolRunError(spec, str(exc) or "the tool refused to run", user_error=True) from exc
    except MemoryError as exc:
        raise ToolRunError(spec, "out of memory (try a smaller picture or selection)") from exc
    except Exception as exc:
        trace = tb_module.format_exc()
        raise ToolRunError(spec, f"failed: {type(exc).__name__}: {exc}", trace) from exc
    if ctx.cancelled():
        raise JobCancelled()
    try:
        return validate_result(request, result, any_size=spec.output is OutputMode.RESIZE)
    except ResultError as exc:
        raise ToolRunError(spec, f"returned a bad result: {exc}") from exc


def tool_lane(spec: ToolSpec) -> str:
    """The interactive lane of ``spec``'s plugin: tools of one plugin run one at a time, and
    a hung tool holds up only its own plugin's lane."""
    owner = spec.plugin or spec.run.partition(":")[0] or spec.id
    return f"{INTERACTIVE}:{owner}"


def importable_name(fn: Any) -> str | None:
    """``"module:qualname"`` a fresh process can import ``fn`` by, or None (a lambda, a
    function defined inside another, one defined in ``__main__``)."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<" in qualname:
        return None
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return f"{module}:{qualname}" if obj is fn else None


def make_tool_job(
    spec: ToolSpec,
    request: ToolRequest,
    *,
    fn: ToolFunction | None = None,
    resolver: Resolver | None = None,
    key: str | None = None,
    lane: str | None = None,
    title: str = "",
) -> Job:
    """A job that runs ``spec`` on ``request``; its result is the checked ToolResult.
    ``key`` (default the tool id) groups live previews for ``submit(mode="replace")``;
    ``lane`` defaults to the plugin's own interactive lane (:func:`tool_lane`).

    On a queue with a worker pool the tool runs in its plugin's worker process, which
    imports ``spec.run`` itself (or ``fn`` by its module path); a ``fn`` no other process
    can import (a lambda, a nested function) runs in the lane's thread, as without a pool."""

    def work(req: ToolRequest, ctx: JobContext) -> ToolResult:
        pool = ctx.pool
        if pool is not None:
            target = spec.run if fn is None else importable_name(fn)
            if target:
                return pool.run_tool(spec, req, ctx, run=target)  # type: ignore[no-any-return]
        return run_tool(spec, fn, req, ctx, resolver=resolver)

    return Job(
        kind="tool",
        lane=lane or tool_lane(spec),
        fn=work,
        inputs=request,
        key=key if key is not None else f"tool:{spec.id}",
        title=title or spec.title,
    )
