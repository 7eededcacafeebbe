"""GANPaint's classical filters, registered like any third-party plugin.

This module is what the entry point loads: it only builds descriptors. The
filter code lives in ``ganpaint_classic.tools`` and is imported on first use.
"""

from __future__ import annotations

from ganpaint import InputSpec, ParamSpec, Role, ToolSpec, hookimpl

__version__ = "0.1.0"
GANPAINT_API_VERSION = 1

_TOOLS = "ganpaint_classic.tools"


def _picture(verb: str) -> tuple[InputSpec, ...]:
    return (InputSpec(Role.IMAGE, label="Picture", help=f"The layer to {verb}."),)


@hookimpl
def ganpaint_register_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            id="blur",
            title="Gaussian blur",
            run=f"{_TOOLS}:blur",
            inputs=_picture("blur"),
            description="Soften the picture with a Gaussian of the given radius (sigma, in pixels).",
            params=(
                ParamSpec("radius", "float", label="Blur size", default=2.0, minimum=0.0, maximum=100.0,
                          step=0.5, help="How far the softening spreads, in pixels (0 leaves the picture sharp).",
                          live=True),
            ),
        ),
        ToolSpec(
            id="sharpen",
            title="Sharpen",
            run=f"{_TOOLS}:sharpen",
            inputs=_picture("sharpen"),
            description="Unsharp mask: add back the difference between the picture and a blurred copy.",
            params=(
                ParamSpec("amount", "float", label="Strength", default=1.0, minimum=0.0, maximum=5.0, step=0.1,
                          help="How strongly edges and details are crisped up (0 changes nothing).", live=True),
                ParamSpec("radius", "float", label="Detail size", default=1.5, minimum=0.1, maximum=50.0, step=0.1,
                          help="How large the details that get sharpened are, in pixels: small for fine "
                          "texture, large for broad edges.", live=True),
            ),
        ),
        ToolSpec(
            id="desaturate",
            title="Desaturate",
            run=f"{_TOOLS}:desaturate",
            inputs=_picture("take the colour out of"),
            description="Fade colours towards grey (Rec. 709 luma).",
            params=(
                ParamSpec("amount", "float", label="Strength", default=1.0, minimum=0.0, maximum=1.0, step=0.05,
                          help="How much colour to take out: 0 keeps the colours, 1 gives shades of grey.",
                          live=True),
            ),
        ),
        ToolSpec(
            id="invert",
            title="Invert",
            run=f"{_TOOLS}:invert",
            inputs=_picture("turn into its negative"),
            description="Negative of the picture (alpha is kept).",
        ),
    ]
