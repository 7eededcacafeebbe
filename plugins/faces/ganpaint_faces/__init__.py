"""GANPaint's Face attribute sliders: move a StyleGAN2 latent along named directions.

Directions are per generator (``ganpaint directions compute --model NAME`` /
``ganpaint directions import``); the sliders are declared statically for the default faces
attributes and matched to the model's saved directions by name. The torch code is in
``ganpaint_faces.tool``, imported on the first run inside a worker. No default model ships yet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganpaint import InputSpec, ModelSpec, ParamSpec, Role, ToolSpec, hookimpl

__version__ = "0.1.0"
GANPAINT_API_VERSION = 1

TOOL_ID = "faces"
DEFAULT_MODEL = "faces-default"
MODEL_FILE = Path(__file__).parent / "models" / f"{DEFAULT_MODEL}.safetensors"
#: slider name -> help; the model's direction of the same name drives it
SLIDERS: dict[str, str] = {
    "smile": "Smile (negative: frown).",
    "eyes": "Eye openness.",
    "glasses": "Glasses.",
    "hair_length": "Hair length (negative: towards bald).",
    "age": "Age marks (wrinkles, eye bags).",
    "beard": "Beard.",
    "turn": "Head turn (left / right).",
    "hair_light": "Hair colour: darker / lighter.",
    "hair_red": "Hair colour: towards red.",
    "skin_tone": "Skin tone: lighter / darker.",
    "background": "Background: darker / lighter.",
}


def params() -> tuple[ParamSpec, ...]:
    sliders = tuple(
        ParamSpec(name, "float", default=0.0, minimum=-3.0, maximum=3.0, step=0.1, live=True,
                  help=f"{text} In standard deviations of the latents along the direction.")
        for name, text in SLIDERS.items()
    )
    return (
        ParamSpec("model", "model", default=DEFAULT_MODEL if MODEL_FILE.is_file() else "",
                  help="A StyleGAN2 generator with directions "
                  "(`ganpaint directions compute --model NAME`)."),
        ParamSpec("seed", "seed", help="The face: the latent of this seed (unless a z file or a picture is given).",
                  thumbnails="ganpaint.engine.stylegan_thumbnails:thumbnails", thumbnail_params=("model", "psi")),
        ParamSpec("z", "file", label="Latent (.npy)", help="A z vector (dim,) or (1, dim), or a stored W+ latent.npy."),
        ParamSpec("psi", "float", label="Truncation", default=0.7, minimum=0.0, maximum=1.5, step=0.05,
                  help="Pull generated latents towards the mean face (1 = none)."),
        *sliders,
        ParamSpec("direction", "string", label="Other direction",
                  help="Any other saved direction of the model, by name: pc0 ... pc9 (GANSpace), sefa0 ... "
                  "sefa9 (SeFa), or one imported with `ganpaint directions import` "
                  "(`ganpaint directions list --model NAME` lists them)."),
        ParamSpec("amount", "float", label="Other amount", default=0.0, minimum=-3.0, maximum=3.0, step=0.1,
                  live=True, help="How far to move along the other direction, in standard deviations."),
        ParamSpec("noise", "choice", choices=("const", "random"), default="const",
                  help="const: the generator's stored noise (repeatable); random: fresh noise from the seed."),
        ParamSpec("size", "int", label="Output size", default=0, minimum=0, maximum=4096, step=16,
                  help="Side of the generated square (0 = the canvas's shorter side); an inverted picture "
                  "keeps its own size."),
        ParamSpec("source", "choice", choices=("auto", "generate", "invert"), default="auto",
                  help="auto: invert the input picture when it holds one (a blank layer means generate)."),
        ParamSpec("steps", "int", label="Inversion steps", default=200, minimum=1, maximum=5000, step=50,
                  help="Optimisation steps when inverting a picture (kept between slider moves)."),
    )


@hookimpl
def ganpaint_register_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            id=TOOL_ID,
            title="Face attribute sliders",
            run="ganpaint_faces.tool:run",
            inputs=(InputSpec(Role.IMAGE, label="Face to invert (optional)", required=False),),
            params=params(),
            description="Generate a face (or invert yours) and move it along attribute directions: "
            "smile, eyes, glasses, hair length and colour, age, beard, head turn, skin tone, background, "
            "or any other saved direction.",
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
                      title="Faces (default, cartoon faces and emoji heads, 64 px)", default=True)]
