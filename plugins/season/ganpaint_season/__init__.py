"""GANPaint's Season transfer tool: summer <-> winter with a CycleGAN pair trained here.

The entry point loads this module; it only builds descriptors. The torch code is in
``ganpaint_season.tool``, imported on the first run inside a worker. The default model
ships inside this package (``models/season-default.safetensors`` + its card), so
installing the plugin brings a working tool.
"""

from __future__ import annotations

from pathlib import Path

from ganpaint import InputSpec, ModelSpec, ParamSpec, Role, ToolSpec, hookimpl

__version__ = "0.1.0"
GANPAINT_API_VERSION = 1

TOOL_ID = "season"
DEFAULT_MODEL = "season-default"
MODEL_FILE = Path(__file__).parent / "models" / f"{DEFAULT_MODEL}.safetensors"

#: direction parameter -> the component of a CycleGAN pair that runs it
#: (an official pair is imported as summer2winter.pth winter2summer.pth: forward, reverse)
DIRECTIONS: dict[str, str] = {"summer_to_winter": "forward", "winter_to_summer": "reverse"}

HELP = (
    "Turn a summer landscape into winter, or winter into summer, with a CycleGAN pair. "
    "The default model learned from a SYNTHETIC winter: GANPaint's own procedural landscape "
    "renders (snow on surfaces that face up, bare trees, frozen water, colder light) plus a few "
    "real summer photos. It has never seen a real winter photo: do not expect realistic snow "
    "on photographs. By default the tool keeps your picture: it takes only the network's change of "
    "colour and light, adds snow where surfaces face up, and in summer changes only vegetation. "
    "Official CycleGAN season models "
    "(summer2winter / winter2summer, imported with --tool season) can be chosen instead."
)


@hookimpl
def ganpaint_register_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            id=TOOL_ID,
            title="Season transfer",
            run="ganpaint_season.tool:run",
            inputs=(InputSpec(Role.IMAGE, label="Picture", help="The landscape layer to change."),),
            params=(
                ParamSpec("model", "model", label="Model", default=DEFAULT_MODEL,
                          help="A season pair: the default (trained by GANPaint on procedural summer and "
                          "synthetic winter renders) or an imported CycleGAN summer2winter/winter2summer pair."),
                ParamSpec("direction", "choice", label="Direction", choices=tuple(DIRECTIONS),
                          help="Turn summer into winter, or winter into summer."),
                ParamSpec("strength", "float", label="Strength", default=1.0, minimum=0.0, maximum=1.0, step=0.05,
                          live=True, help="How much of the change to keep: 1 = all of it, 0 = the picture "
                          "unchanged."),
                ParamSpec("keep_picture", "bool", label="Keep the picture", default=True,
                          help="On: the network runs at the scale it learned and only its change of colour "
                          "and light is laid onto your picture, which keeps its own edges and texture; winter "
                          "adds snow where surfaces face up, summer changes only vegetation and snow-covered "
                          "ground (never sky, water, wood or buildings). Off: the network's raw output."),
            ),
            description=HELP,
            category="GAN",
            uses_torch=True,
        )
    ]


@hookimpl
def ganpaint_register_models() -> list[ModelSpec]:
    if not MODEL_FILE.is_file():  # a source checkout before the model was trained
        return []
    return [ModelSpec(name=DEFAULT_MODEL, tool=TOOL_ID, path=str(MODEL_FILE), title="Season transfer (default, "
                      "synthetic winter)", default=True)]
