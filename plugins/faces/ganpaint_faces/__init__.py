"""GANPaint's Face attribute sliders: move a StyleGAN2 latent along named directions.

Directions are per generator (``ganpaint directions compute --model NAME`` /
``ganpaint directions import``); the sliders are declared statically for the default faces
attributes and matched to the model's saved directions by name. The panel hides the sliders
the chosen model has no direction for (``hidden_sliders``): the shipped default's directions
leave out those that failed the shipping rule (``tools/eval_stylegan.py sliders --withhold``).
The torch code is in ``ganpaint_faces.tool``, imported on the first run inside a worker.
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
#: the learned x4 enlargement made for the default (tools/train_face_upscaler.py); its card
#: names it (``extra.upscaler``), so "Sharper enlargement" uses it for this model
UPSCALER = "faces-upscale-x4"
UPSCALER_FILE = Path(__file__).parent / "models" / f"{UPSCALER}.safetensors"
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
#: slider name -> what the panel calls it
LABELS: dict[str, str] = {
    "smile": "Smile",
    "eyes": "Eyes open",
    "glasses": "Glasses",
    "hair_length": "Hair length",
    "age": "Age",
    "beard": "Beard",
    "turn": "Head turn",
    "hair_light": "Hair lightness",
    "hair_red": "Red hair",
    "skin_tone": "Skin tone",
    "background": "Background",
}


def params() -> tuple[ParamSpec, ...]:
    sliders = tuple(
        ParamSpec(name, "float", label=LABELS.get(name, ""), default=0.0, minimum=-3.0, maximum=3.0, step=0.1,
                  live=True, help=f"{text} 0 leaves the face as it is; slide either way for less or more.")
        for name, text in SLIDERS.items()
    )
    return (
        ParamSpec("model", "model", label="Model", default=DEFAULT_MODEL if MODEL_FILE.is_file() else "",
                  help="The face generator (StyleGAN2); the sliders need its saved directions "
                  "(`ganpaint directions compute --model NAME` makes them)."),
        ParamSpec("seed", "seed", label="Face",
                  help="Which generated face to start from: each number gives another face (your own picture, "
                  "when the input layer holds one, takes its place).",
                  thumbnails="ganpaint.latent.stylegan_thumbnails:thumbnails", thumbnail_params=("model", "psi")),
        ParamSpec("z", "file", label="Latent file (.npy)", advanced=True,
                  help="A z vector (dim,) or (1, dim), or a stored W+ latent.npy (overrides the face number)."),
        ParamSpec("psi", "float", label="Variety", default=0.7, minimum=0.0, maximum=1.5, step=0.05,
                  help="How unusual generated faces may be: 1 = as the model makes them, lower = more "
                  "ordinary, 0 = the average face (truncation psi)."),
        *sliders,
        ParamSpec("direction", "string", label="Other direction", advanced=True,
                  help="Any other saved direction of the model, by name: pc0 ... pc9 (GANSpace), sefa0 ... "
                  "sefa9 (SeFa), or one imported with `ganpaint directions import` "
                  "(`ganpaint directions list --model NAME` lists them)."),
        ParamSpec("amount", "float", label="Other direction amount", default=0.0, minimum=-3.0, maximum=3.0,
                  step=0.1, live=True, advanced=True,
                  help="How far to move along the other direction, in standard deviations."),
        ParamSpec("noise", "choice", label="Fine detail", choices=("const", "random"), default="const",
                  advanced=True, help="const: the same fine detail (skin, strands of hair) every time; random: "
                  "new fine detail from the face number (the generator's noise inputs)."),
        ParamSpec("size", "int", label="Output size", default=0, minimum=0, maximum=4096, step=16,
                  help="Side of the generated square in pixels (0 = the canvas's shorter side); your own "
                  "picture keeps its size."),
        ParamSpec("enlarge", "bool", label="Sharper enlargement", default=True,
                  help="Enlarge the generator's small picture with a learned upscaler instead of plain "
                  "resizing: the default model's own (faces-upscale-x4), else an installed one (Real-ESRGAN: "
                  "`ganpaint models fetch-realesrgan`); plain resizing when there is none. Slider previews "
                  "while you drag are resized plainly."),
        ParamSpec("source", "choice", label="Start from", choices=("auto", "generate", "invert"), default="auto",
                  advanced=True,
                  help="auto: your picture when the input layer holds one, else a generated face; generate: "
                  "always a generated face; invert: always your picture (found in the model by inversion)."),
        ParamSpec("steps", "int", label="Matching steps", default=200, minimum=1, maximum=5000, step=50,
                  advanced=True, help="How long to search for your picture in the model (inversion steps): "
                  "more is closer but slower. The match is kept between slider moves."),
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
            title="Face attribute sliders",
            run="ganpaint_faces.tool:run",
            inputs=(InputSpec(Role.IMAGE, label="Your face picture (optional)", required=False,
                              help="A face to edit instead of a generated one; leave on (none) or a blank "
                              "layer to generate."),),
            params=params(),
            description="Generate a face (or invert yours) and move it along attribute directions: "
            "smile, eyes, glasses, hair length and colour, age, beard, head turn, skin tone, background, "
            "or any other saved direction. Only the sliders the chosen model does well are shown.",
            category="GAN",
            uses_torch=True,
            canvas=f"{__name__}:canvas",
            hidden_params=f"{__name__}:hidden_sliders",
        )
    ]


def hidden_sliders(params: Any, model_path: Any) -> list[str]:
    """The sliders the chosen model cannot drive: those its saved directions lack. A model
    without any saved directions hides none (moving one then says how to compute them);
    nor does an unknown model or an unreadable directions file (the run reports those)."""
    from ganpaint.engine.models.direction_files import saved_direction_names

    name = str(params.get("model") or "")
    if not name:
        return []
    try:
        found = saved_direction_names(name, model_path(name, TOOL_ID))
    except Exception:  # noqa: BLE001 - unknown model, unreadable file: the tool's run says why
        return []
    if found is None:
        return []
    return [s for s in SLIDERS if s not in found.names]


def canvas(params: Any, model_path: Any) -> tuple[int, int]:
    """On the command line without INPUT: the generator's own resolution (or ``size``)."""
    from ganpaint.latent.stylegan_tools import canvas_size

    return canvas_size(params, model_path, TOOL_ID)


@hookimpl
def ganpaint_register_models() -> list[ModelSpec]:
    """The default generator and its upscaler, each when its file is there (a source checkout
    before training has neither)."""
    models = []
    if MODEL_FILE.is_file():
        models.append(ModelSpec(name=DEFAULT_MODEL, tool=TOOL_ID, path=str(MODEL_FILE),
                                title="Faces (default, cartoon faces and emoji heads, 64 px)", default=True))
    if UPSCALER_FILE.is_file():
        models.append(ModelSpec(name=UPSCALER, tool="upscale", path=str(UPSCALER_FILE),
                                title="Faces enlargement x4 (for the cartoon faces default)"))
    return models
