"""A third-party plugin installed after freezing: one posterize tool (numpy only)."""

from __future__ import annotations

import numpy as np

from ganpaint import ParamSpec, RunContext, ToolRequest, ToolResult, ToolSpec, hookimpl

__version__ = "0.1.0"
GANPAINT_API_VERSION = 1


@hookimpl
def ganpaint_register_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            id="posterize_demo",
            title="Posterize (demo plugin)",
            run="ganpaint_posterize_demo:posterize",
            params=(ParamSpec("levels", "int", default=4, minimum=2, maximum=32),),
            description="Reduce each channel to a few levels.",
        )
    ]


def posterize(request: ToolRequest, ctx: RunContext) -> ToolResult:
    levels = int(request.params.get("levels", 4))
    ctx.progress(0.0, "posterizing")
    out = np.round(request.image * (levels - 1)) / (levels - 1)
    return ToolResult(image=out.astype(np.float32), metadata={"levels": levels})
