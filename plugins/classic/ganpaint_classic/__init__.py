"""GANPaint's classical filters, registered like any third-party plugin.

This module is what the entry point loads: it only builds descriptors. The
filter code lives in ``ganpaint_classic.tools`` and is imported on first use.
"""

from __future__ import annotations

from ganpaint import ParamSpec, ToolSpec, hookimpl

__version__ = "0.1.0"
GANPAINT_API_VERSION = 1

_TOOLS = "ganpaint_classic.tools"


@hookimpl
def ganpaint_register_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            id="blur",
            title="Gaussian blur",
            run=f"{_TOOLS}:blur",
            description="Soften the picture with a Gaussian of the given radius (sigma, in pixels).",
            params=(
                ParamSpec("radius", "float", default=2.0, minimum=0.0, maximum=100.0, step=0.5,
                          help="Standard deviation of the Gaussian, in pixels.", live=True),
            ),
        ),
        ToolSpec(
            id="sharpen",
            title="Sharpen",
            run=f"{_TOOLS}:sharpen",
            description="Unsharp mask: add back the difference between the picture and a blurred copy.",
            params=(
                ParamSpec("amount", "float", default=1.0, minimum=0.0, maximum=5.0, step=0.1,
                          help="How much of the detail to add back.", live=True),
                ParamSpec("radius", "float", default=1.5, minimum=0.1, maximum=50.0, step=0.1,
                          help="Radius of the blur that defines 'detail', in pixels.", live=True),
            ),
        ),
        ToolSpec(
            id="desaturate",
            title="Desaturate",
            run=f"{_TOOLS}:desaturate",
            description="Fade colours towards grey (Rec. 709 luma).",
            params=(
                ParamSpec("amount", "float", default=1.0, minimum=0.0, maximum=1.0, step=0.05,
                          help="0 keeps the colours, 1 gives grey.", live=True),
            ),
        ),
        ToolSpec(
            id="invert",
            title="Invert",
            run=f"{_TOOLS}:invert",
            description="Negative of the picture (alpha is kept).",
        ),
    ]
