"""GANPaint's Style mixing tool: StyleGAN2's coarse / middle / fine styles from two latents.

The entry point loads this module; it only builds descriptors. The torch code is in
``ganpaint_stylemix.tool``, imported on the first run inside a worker. No default model
ships yet: the tool lists imported or trained StyleGAN2 generators (``ganpaint models
import FILE``, ``ganpaint train stylegan2``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganpaint import InputSpec, ModelSpec, ParamSpec, Role, ToolSpec, hookimpl

__version__ = "0.1.0"
GANPAINT_API_VERSION = 1

TOOL_ID = "stylemix"
DEFAULT_MODEL = "scenes-default"
MODEL_FILE = Path(__file__).parent / "models" / f"{DEFAULT_MODEL}.safetensors"
#: the largest crossover (a 4096 px generator has 22 style inputs); larger = all from A
MAX_STYLES = 32
#: draws the grid of seed pictures (the panel's grid button beside Seed A / Seed B)
THUMBNAILS = "ganpaint.latent.stylegan_thumbnails:thumbnails"


def params() -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("model", "model", label="Model", default=DEFAULT_MODEL if MODEL_FILE.is_file() else "",
                  help="A StyleGAN2 generator: the default scenes model, the faces model, or one imported "
                  "with `ganpaint models import`."),
        ParamSpec("seed", "seed", label="Seed A", help="Picture A: each number gives another generated picture "
                  "(your own picture, when the input layer holds one, takes its place).",
                  thumbnails=THUMBNAILS, thumbnail_params=("model", "psi")),
        ParamSpec("seed_b", "seed", label="Seed B", default=1,
                  help="Picture B, whose styles are mixed into picture A: each number gives another one.",
                  thumbnails=THUMBNAILS, thumbnail_params=("model", "psi")),
        # "coarse" by default: a first Run visibly mixes A and B ("custom" with the crossover,
        # which sits under Advanced, at its default kept all of A: the tool seemed to do nothing)
        ParamSpec("preset", "choice", label="Take from B", choices=("coarse", "middle", "fine", "custom"),
                  default="coarse", help="What picture B gives: coarse = layout and pose, middle = features, "
                  "fine = colours; custom = as set by 'Styles kept from A' under Advanced."),
        ParamSpec("crossover", "int", label="Styles kept from A", default=MAX_STYLES, minimum=0,
                  maximum=MAX_STYLES, step=1, advanced=True,
                  help="With 'Take from B' on custom: the first this many style inputs (crossover) come from A, "
                  "the rest from B (0 = all from B; the generator's number of style inputs or more = A alone)."),
        ParamSpec("psi", "float", label="Variety", default=1.0, minimum=0.0, maximum=1.5, step=0.05,
                  help="How unusual generated pictures may be: 1 = as the model makes them, lower = more "
                  "ordinary, 0 = the average picture (truncation psi)."),
        ParamSpec("noise", "choice", label="Fine detail", choices=("const", "random"), default="const",
                  advanced=True, help="const: the same fine detail (texture, strands) every time; random: "
                  "new fine detail from seed A (the generator's noise inputs)."),
        ParamSpec("size", "int", label="Output size", default=0, minimum=0, maximum=4096, step=16,
                  help="Side of the generated square in pixels (0 = the canvas's shorter side). "
                  "Your own picture keeps its size."),
        ParamSpec("enlarge", "bool", label="Sharper enlargement", default=False,
                  help="Enlarge the generator's small picture with an installed GAN upscaler (Real-ESRGAN: "
                  "`ganpaint models fetch-realesrgan`) instead of plain resizing; a few seconds more per run, "
                  "plain resizing when no upscaler is installed."),
        ParamSpec("z", "file", label="Latent file A (.npy)", advanced=True,
                  help="A z vector (dim,) or (1, dim), or a stored W+ latent.npy, for source A "
                  "(overrides seed A)."),
        ParamSpec("z_b", "file", label="Latent file B (.npy)", advanced=True,
                  help="The same for source B."),
        ParamSpec("source", "choice", label="Start from", choices=("auto", "generate", "invert"),
                  default="auto", advanced=True,
                  help="auto: your picture when the input layer holds one, else a generated one; generate: "
                  "always a generated picture; invert: always your picture (found in the model by inversion)."),
        ParamSpec("steps", "int", label="Matching steps", default=200, minimum=1, maximum=5000, step=50,
                  advanced=True, help="How long to search for your picture in the model (inversion steps): "
                  "more is closer but slower."),
        ParamSpec("tune", "int", label="Detail matching steps", default=200, minimum=0, maximum=2000, step=50,
                  advanced=True, help="After your picture is found in the model, a copy of the model is adjusted to "
                  "it for this many steps (pivotal tuning), so the picture keeps its own detail through the edit; "
                  "0 = off (faster, but the model redraws the picture in its own style)."),
    )


@hookimpl
def ganpaint_register_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            id=TOOL_ID,
            title="Style mixing",
            run="ganpaint_stylemix.tool:run",
            inputs=(InputSpec(Role.IMAGE, label="Your picture (optional)", required=False,
                              help="A picture to use as picture A instead of a generated one; leave on "
                              "(none) or a blank layer to generate."),),
            params=params(),
            description="Mix the styles of two StyleGAN2 latents: coarse styles move layout and pose, "
            "fine ones the colours. Source A is a seed, a latent file or your picture (inverted).",
            category="GAN",
            uses_torch=True,
            canvas=f"{__name__}:canvas",
        )
    ]


def canvas(params: Any, model_path: Any) -> tuple[int, int]:
    """On the command line without INPUT: the generator's own resolution (or ``size``)."""
    from ganpaint.latent.stylegan_tools import canvas_size

    return canvas_size(params, model_path, TOOL_ID)


@hookimpl
def ganpaint_register_models() -> list[ModelSpec]:
    if not MODEL_FILE.is_file():  # a source checkout before the model was trained
        return []
    return [ModelSpec(name=DEFAULT_MODEL, tool=TOOL_ID, path=str(MODEL_FILE),
                      title="Scenes (default, procedural landscapes, 64 px)", default=True)]
