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
THUMBNAILS = "ganpaint.engine.stylegan_thumbnails:thumbnails"


def params() -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("model", "model", default=DEFAULT_MODEL if MODEL_FILE.is_file() else "",
                  help="A StyleGAN2 generator: the default scenes model, the faces model, or one imported "
                  "with `ganpaint models import`."),
        ParamSpec("seed", "seed", label="Seed A", help="Source A: the latent of this seed (unless a z file "
                  "or an input picture is given).", thumbnails=THUMBNAILS, thumbnail_params=("model", "psi")),
        ParamSpec("seed_b", "seed", label="Seed B", default=1, help="Source B: the latent of this seed.",
                  thumbnails=THUMBNAILS, thumbnail_params=("model", "psi")),
        ParamSpec("preset", "choice", label="Styles from B", choices=("custom", "coarse", "middle", "fine"),
                  default="custom", help="coarse = layout and pose, middle = features, fine = colours come "
                  "from B; custom = the first 'crossover' style inputs from A, the rest from B."),
        ParamSpec("crossover", "int", label="Crossover", default=MAX_STYLES, minimum=0, maximum=MAX_STYLES,
                  step=1, help="custom: the first K style inputs from A, the rest from B (0 = all B; "
                  "the number of style inputs or more = A alone)."),
        ParamSpec("psi", "float", label="Truncation", default=1.0, minimum=0.0, maximum=1.5, step=0.05,
                  help="Pull generated latents towards the mean picture (1 = none, lower = more typical)."),
        ParamSpec("noise", "choice", choices=("const", "random"), default="const",
                  help="const: the generator's stored noise (repeatable); random: fresh noise from seed A."),
        ParamSpec("size", "int", label="Output size", default=0, minimum=0, maximum=4096, step=16,
                  help="Side of the generated square in pixels (0 = the canvas's shorter side). "
                  "An inverted picture keeps its own size."),
        ParamSpec("z", "file", label="Latent A (.npy)", help="A z vector (dim,) or (1, dim), or a stored W+ "
                  "latent.npy, for source A (overrides seed A)."),
        ParamSpec("z_b", "file", label="Latent B (.npy)", help="The same for source B."),
        ParamSpec("source", "choice", choices=("auto", "generate", "invert"), default="auto",
                  help="auto: invert the input picture when it holds one (a blank layer means generate)."),
        ParamSpec("steps", "int", label="Inversion steps", default=200, minimum=1, maximum=5000, step=50,
                  help="Optimisation steps when inverting a picture."),
    )


@hookimpl
def ganpaint_register_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            id=TOOL_ID,
            title="Style mixing",
            run="ganpaint_stylemix.tool:run",
            inputs=(InputSpec(Role.IMAGE, label="Picture to invert (optional)", required=False),),
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
    from ganpaint.engine.stylegan_tools import canvas_size

    return canvas_size(params, model_path, TOOL_ID)


@hookimpl
def ganpaint_register_models() -> list[ModelSpec]:
    if not MODEL_FILE.is_file():  # a source checkout before the model was trained
        return []
    return [ModelSpec(name=DEFAULT_MODEL, tool=TOOL_ID, path=str(MODEL_FILE),
                      title="Scenes (default, procedural landscapes, 64 px)", default=True)]
