"""Running one tool: import its lazy code, call it, check what it returned.

Shared by the editor (inside a :class:`~ganpaint.engine.jobs.Job`) and the
command line (synchronously). Whatever a plugin does wrong comes back as a
:class:`ToolRunError` naming the plugin and the tool; ``JobCancelled`` passes
through untouched (it is how a job stops).
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
from ganpaint.engine.jobs import INTERACTIVE, Job, JobContext, one_line

__all__ = ["ToolRunError", "load_tool_function", "make_tool_job", "run_tool"]


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


def make_tool_job(
    spec: ToolSpec,
    request: ToolRequest,
    *,
    fn: ToolFunction | None = None,
    resolver: Resolver | None = None,
    key: str | None = None,
    lane: str = INTERACTIVE,
    title: str = "",
) -> Job:
    """A job that runs ``spec`` on ``request``; its result is the checked ToolResult.
    ``key`` (default the tool id) groups live previews for ``submit(mode="replace")``."""

    def work(req: ToolRequest, ctx: JobContext) -> ToolResult:
        return run_tool(spec, fn, req, ctx, resolver=resolver)

    return Job(
        kind="tool",
        lane=lane,
        fn=work,
        inputs=request,
        key=key if key is not None else f"tool:{spec.id}",
        title=title or spec.title,
    )
