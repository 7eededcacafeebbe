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
            inputs=(InputSpec(Role.IMAGE, label="Picture",
                              help="The layer to turn into the other kind of picture."),),
            params=(
                ParamSpec("model", "model", label="Model",
                          help="Which change to make (horse to zebra, photo to Monet ...): a pix2pix or "
                          "CycleGAN model from the model store."),
                ParamSpec(
                    "direction",
                    "choice",
                    label="Direction",
                    choices=("forward", "reverse"),
                    help="forward makes the model's usual change (horse to zebra); reverse undoes it (zebra to "
                    "horse), for models imported as a pair.",
                ),
                ParamSpec(
                    "mode",
                    "choice",
                    label="Run mode",
                    choices=("eval", "published"),
                    advanced=True,
                    help="eval: the same picture every time (stored batch-norm statistics, no dropout). "
                    "published: per-picture statistics and dropout, as the official pictures were made.",
                ),
                ParamSpec("seed", "seed", label="Variation", advanced=True,
                          help="In the published run mode, each number gives a slightly different picture."),
            ),
            description="Turn the picture into another domain with an image-to-image GAN "
            "(horse to zebra, photo to Monet, summer to winter, labels to facade ...).",
            category="GAN",
            uses_torch=True,
        )
    ]
