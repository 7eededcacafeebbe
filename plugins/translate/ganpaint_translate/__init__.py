"""GANPaint's Translate tool: image-to-image generators (pix2pix, CycleGAN) from the model store.

The entry point loads this module; it only builds descriptors. The torch code is in
``ganpaint_translate.tool`` and is imported on the first run, inside a worker.
"""

from __future__ import annotations

from ganpaint import InputSpec, ParamSpec, Role, ToolSpec, hookimpl

__version__ = "0.1.0"
GANPAINT_API_VERSION = 1

TOOL_ID = "translate"


@hookimpl
def ganpaint_register_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            id=TOOL_ID,
            title="Translate",
            run="ganpaint_translate.tool:run",
            inputs=(InputSpec(Role.IMAGE),),
            params=(
                ParamSpec("model", "model", help="A pix2pix or CycleGAN generator from the model store."),
                ParamSpec(
                    "direction",
                    "choice",
                    choices=("forward", "reverse"),
                    help="reverse runs the second generator of a CycleGAN pair (imported with two files).",
                ),
                ParamSpec(
                    "mode",
                    "choice",
                    choices=("eval", "published"),
                    help="eval: stored batch-norm statistics, no dropout (deterministic). "
                    "published: per-picture statistics and dropout, as the official pictures were made.",
                ),
                ParamSpec("seed", "seed", help="Seeds dropout in published mode."),
            ),
            description="Turn the picture into another domain with an image-to-image GAN "
            "(horse to zebra, photo to Monet, summer to winter, labels to facade ...).",
            category="GAN",
            uses_torch=True,
        )
    ]
