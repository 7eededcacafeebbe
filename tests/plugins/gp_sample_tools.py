"""Run functions the test plugins name lazily ("gp_sample_tools:...")."""

from __future__ import annotations

import numpy as np

from ganpaint import RunContext, ToolRequest, ToolResult


def identity(request: ToolRequest, ctx: RunContext) -> ToolResult:
    ctx.progress(1.0)
    return ToolResult(image=np.array(request.image, dtype=np.float32))


def explode(request: ToolRequest, ctx: RunContext) -> ToolResult:
    raise RuntimeError("boom while running")


NOT_CALLABLE = 42
