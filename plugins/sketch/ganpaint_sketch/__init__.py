"""GANPaint's Sketch to image tool: colours line art with a pix2pix GAN trained here.

The entry point loads this module; it only builds descriptors. The torch code is in
``ganpaint_sketch.tool`` (run) and ``ganpaint_sketch.training`` (the ``sketch``
recipe), imported on first use. The default model ships inside this package
(``models/sketch-default.safetensors`` + its card).
"""

from __future__ import annotations

from pathlib import Path

from ganpaint import InputSpec, ModelSpec, ParamSpec, RecipeSpec, Role, ToolSpec, hookimpl

__version__ = "0.1.0"
GANPAINT_API_VERSION = 1

TOOL_ID = "sketch"
DEFAULT_MODEL = "sketch-default"
MODEL_FILE = Path(__file__).parent / "models" / f"{DEFAULT_MODEL}.safetensors"


@hookimpl
def ganpaint_register_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            id=TOOL_ID,
            title="Sketch to image",
            run="ganpaint_sketch.tool:run",
            inputs=(
                InputSpec(Role.SKETCH, label="Sketch",
                          help="The line drawing: dark lines on white (transparent counts as white)."),
                InputSpec(Role.HINTS, label="Colour hints (optional)", required=False,
                          help="A layer with a few dots of colour that say which colour each region gets."),
            ),
            params=(
                ParamSpec("model", "model", label="Model", default=DEFAULT_MODEL,
                          help="A sketch model: the default (trained by GANPaint on public-domain clip-art) or "
                          "an official pix2pix edges2shoes / edges2handbags model imported with --tool sketch."),
                ParamSpec("seed", "seed", label="Variation",
                          help="0 gives the model's plain answer; every other number gives another version "
                          "of the colouring."),
                ParamSpec("hint_strength", "float", label="Hint strength", default=1.0, minimum=0.0, maximum=1.0,
                          step=0.05,
                          help="How strongly the painted colour hints steer the colours (0 ignores them). "
                          "Official pix2pix models take no hints."),
            ),
            description="Turn a line drawing into a coloured picture. Paint a few dots of colour on a hints "
            "layer to steer the colours of regions. The result goes into a new layer.",
            category="GAN",
            uses_torch=True,
        )
    ]


@hookimpl
def ganpaint_register_models() -> list[ModelSpec]:
    if not MODEL_FILE.is_file():  # a source checkout before the model was trained
        return []
    return [ModelSpec(name=DEFAULT_MODEL, tool=TOOL_ID, path=str(MODEL_FILE), title="Sketch to image (default)",
                      default=True)]


@hookimpl
def ganpaint_register_recipes() -> list[RecipeSpec]:
    return [
        RecipeSpec(id="sketch", title="Sketch to image (pix2pix with colour hints)",
                   factory="ganpaint_sketch.training:default_recipe",
                   description="pix2pix on line art -> colour pairs; the generator also takes colour hints "
                   "sampled from the ground truth. --set adversarial=false trains the L1-only ablation.")
    ]
