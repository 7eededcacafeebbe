"""GANPaint's Inpaint tool: fills the selection (or a mask layer) with a GAN trained here.

The entry point loads this module; it only builds descriptors. The torch code is in
``ganpaint_inpaint.tool``, imported on the first run inside a worker. The default model
ships inside this package (``models/inpaint-default.safetensors`` + its card), so
installing the plugin brings a working tool.
"""

from __future__ import annotations

from pathlib import Path

from ganpaint import InputSpec, ModelSpec, ParamSpec, Role, ToolSpec, hookimpl

__version__ = "0.1.0"
GANPAINT_API_VERSION = 1

TOOL_ID = "inpaint"
DEFAULT_MODEL = "inpaint-default"
MODEL_FILE = Path(__file__).parent / "models" / f"{DEFAULT_MODEL}.safetensors"
#: the Texture parameter's default, chosen on training photos (ganpaint.nn.inpaint.TEXTURE_NEAR,
#: docs/models.md, Inpainting)
DEFAULT_TEXTURE = 0.75


@hookimpl
def ganpaint_register_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            id=TOOL_ID,
            title="Inpaint",
            run="ganpaint_inpaint.tool:run",
            inputs=(
                InputSpec(Role.IMAGE, label="Picture", help="The layer to repair or to remove something from."),
                InputSpec(Role.MASK, label="Area to fill",
                          help="Where new content is painted: the selection, or a mask layer. A soft "
                          "(feathered) edge blends the new content with the old picture."),
            ),
            params=(
                ParamSpec("model", "model", label="Model", default=DEFAULT_MODEL,
                          help="An inpainting model (the default was trained by GANPaint on photos and "
                          "procedural landscapes)."),
                ParamSpec("seed", "seed", label="Variation",
                          help="0 gives the plain fill; every other number gives another version of it."),
                ParamSpec("grow", "int", label="Grow area", default=4, minimum=0, maximum=64, step=1,
                          help="Grows the area to fill by this many pixels, so the halo around the "
                          "removed object goes too. 0 fills exactly the area given."),
                ParamSpec("context", "float", label="Surroundings looked at", default=1.0, minimum=0.25,
                          maximum=4.0, step=0.25,
                          help="How much picture around the area the model looks at, as a multiple of the "
                          "area's size (at least 32 pixels)."),
                ParamSpec("texture", "float", label="Texture", default=DEFAULT_TEXTURE, minimum=0.0, maximum=2.0,
                          step=0.25,
                          help="How much fine detail is laid over the fill: grain and thin lines continued "
                          "from the edge of the area, and deeper inside texture copied from elsewhere in the "
                          "picture. 0 gives the smoothest fill. Models without a texture guide ignore it."),
                ParamSpec("work_size", "int", label="Working size", default=512, minimum=64, maximum=2048,
                          step=32, advanced=True,
                          help="Largest side the model runs at; a larger area with its context is "
                          "filled at this size and only the fill is scaled up."),
            ),
            description="Fill the selection or a painted mask with new content that fits its "
            "surroundings (remove objects, repair damage). Pixels outside the area stay as they are.",
            category="GAN",
            uses_torch=True,
        )
    ]


@hookimpl
def ganpaint_register_models() -> list[ModelSpec]:
    if not MODEL_FILE.is_file():  # a source checkout before the model was trained
        return []
    return [ModelSpec(name=DEFAULT_MODEL, tool=TOOL_ID, path=str(MODEL_FILE), title="Inpaint (default)", default=True)]
