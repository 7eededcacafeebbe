"""The run functions named by the ToolSpecs (``"ganpaint_classic.tools:blur"``...).

Each takes the request's RGB picture, reports progress through ``ctx`` (which is
also where a cancel takes effect), and returns a ToolResult; alpha None means
"keep the source alpha", and the host composites through the selection.
"""

from __future__ import annotations

from ganpaint import RunContext, ToolRequest, ToolResult
from ganpaint_classic import filters


def blur(request: ToolRequest, ctx: RunContext) -> ToolResult:
    radius = float(request.params.get("radius", 2.0))
    ctx.progress(0.0, "blurring")
    out = filters.gaussian_blur(request.image, radius, lambda f: ctx.progress(f, "blurring"))
    return ToolResult(image=out, metadata={"radius": radius})


def sharpen(request: ToolRequest, ctx: RunContext) -> ToolResult:
    amount = float(request.params.get("amount", 1.0))
    radius = float(request.params.get("radius", 1.5))
    ctx.progress(0.0, "sharpening")
    out = filters.unsharp_mask(request.image, amount, radius, lambda f: ctx.progress(f, "sharpening"))
    return ToolResult(image=out, metadata={"amount": amount, "radius": radius})


def desaturate(request: ToolRequest, ctx: RunContext) -> ToolResult:
    amount = float(request.params.get("amount", 1.0))
    ctx.progress(0.0, "desaturating")
    out = filters.desaturate(request.image, amount)
    ctx.progress(1.0, "desaturating")
    return ToolResult(image=out, metadata={"amount": amount})


def invert(request: ToolRequest, ctx: RunContext) -> ToolResult:
    ctx.progress(0.0, "inverting")
    out = filters.invert(request.image)
    ctx.progress(1.0, "inverting")
    return ToolResult(image=out)
