"""Community models through spandrel: import, describe, load and run them.

spandrel (MIT, chaiNNer's loader) recognises several dozen published architectures from the
keys and shapes of their weights: ESRGAN/Real-ESRGAN, SRVGGNetCompact, SwinIR, HAT, DAT, ...
(upscalers), GFPGAN and RestoreFormer (faces), SCUNet, DRUNet, FBCNN, NAFNet, ... (denoise,
de-JPEG, deblur) and LaMa (inpainting). GANPaint uses only the main ``spandrel`` package;
``spandrel_extra_arches`` (non-commercial or GPL-incompatible licences) is never imported.

Reading is safe: safetensors files with safetensors; ``.pth``/``.ckpt`` with
``torch.load(weights_only=True)`` first and, for files that need more (some Lightning
checkpoints), spandrel's own restricted unpickler, which admits only tensors, storages and
ordered dicts. Nothing is ever plainly unpickled; TorchScript files (programs, not weights)
are refused with one sentence.

In the model store such a model is an ordinary safetensors file (the state dict spandrel
detected, unprefixed: ``components=()``) whose card has ``architecture = "spandrel:<id>"``
and, in ``config``, what :func:`describe` reports (architecture, purpose, scale, channels,
size requirements, tiling, the licence of the architecture's code). The card's tool comes
from the purpose (:data:`PURPOSE_TOOLS`). :func:`load_spandrel` rebuilds the network from
the weights (detection again: the card is informative) and caches it like other models.

``import spandrel`` imports torchvision; :func:`import_spandrel` first installs a stand-in
where torchvision cannot be imported (``_torchvision_standin``).
"""

from __future__ import annotations

import math
import os
import pickle
import warnings
import weakref
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganpaint.engine.models.cards import ModelCard, ModelFileError

__all__ = [
    "ARCH_LICENCES",
    "PURPOSE_TOOLS",
    "SPANDREL_PREFIX",
    "ArchLicence",
    "card_for",
    "describe",
    "detect",
    "import_file",
    "import_spandrel",
    "is_spandrel_card",
    "load_spandrel",
    "read_weights",
    "run_image",
    "run_masked",
]

#: card architecture of a spandrel model: ``"spandrel:ESRGAN"``
SPANDREL_PREFIX = "spandrel:"
#: spandrel's purpose -> the GANPaint tool that lists such models
PURPOSE_TOOLS: dict[str, str] = {
    "SR": "upscale",
    "FaceSR": "restore_faces",
    "Inpainting": "inpaint",
    "Restoration": "restore",
}
#: at most this many pixels of each tile's inner edge are thrown away (see run_image). The
#: receptive radius of deep networks is far larger (realesrgan-x4plus: 351 px), but what reaches
#: that far is tiny. x4plus on a 400x200 photo crop in the smallest tiles, against one whole pass:
#: context 48 px, up to 5.2 levels off at the seams; 64 px, 0.08 level; 80 px, 0.009 level.
MAX_CONTEXT = 80
#: measured peak memory of a spandrel network over its meta-device simulation (the hooks do not
#: see functional ops: RRDBNet's concatenations and upsampling 1.68, SRVGGNetCompact 1.53)
PEAK_FACTOR = 2.0
_BYTES_PER_PIXEL: weakref.WeakKeyDictionary[torch.nn.Module, float] = weakref.WeakKeyDictionary()
#: architectures whose descriptor calls the module itself (``model(image)``): in "fast" precision
#: on the CPU the engine's fast backends (ganpaint.engine.inference.backends) may run the module instead.
#: realesrgan-x4plus at 256 px, 2 threads: OpenVINO bf16 4.7x eager fp32 (docs/performance.md)
FAST_ARCHS = frozenset({"ESRGAN", "Compact"})


@dataclass(frozen=True)
class ArchLicence:
    """The licence of an architecture's code in spandrel (its ``__arch/LICENSE`` file)."""

    spdx: str
    gpl_compatible: bool
    note: str = ""


_APACHE = ArchLicence("Apache-2.0", True)
_MIT = ArchLicence("MIT", True)
_BSD3 = ArchLicence("BSD-3-Clause", True)
_TENCENT = ArchLicence(
    "Apache-2.0", True,
    "Tencent's GFPGAN licence: Apache-2.0 for the code spandrel runs (the 'clean' GFPGAN/StyleGAN2 "
    "modules); its third-party NVIDIA and DFDNet parts are not used by the architecture",
)

#: from spandrel 0.4.2's ``architectures/<id>/__arch/LICENSE`` files (read at tag v0.4.2 of
#: github.com/chaiNNer-org/spandrel; how they were checked: docs/models.md). An architecture
#: missing here (a newer spandrel) is refused until someone reads its licence.
ARCH_LICENCES: dict[str, ArchLicence] = {
    "ATD": _APACHE, "CRAFT": _APACHE, "DAT": _APACHE, "DCTLSA": _APACHE, "DITN": _APACHE,
    "ESRGAN": _APACHE, "FBCNN": _APACHE, "IPT": _APACHE, "LaMa": _APACHE, "OmniSR": _APACHE,
    "RGT": _APACHE, "SAFMN": _APACHE, "SAFMNBCIE": _APACHE, "SCUNet": _APACHE, "SPAN": _APACHE,
    "SeemoRe": _APACHE, "Swin2SR": _APACHE, "SwinIR": _APACHE,
    "Compact": _BSD3, "MMRealSR": _BSD3,
    "DRCT": _MIT, "DRUNet": _MIT, "DnCNN": _MIT, "FDAT": _MIT, "FFTformer": _MIT, "GRL": _MIT,
    "HAT": _MIT, "HVICIDNet": _MIT, "KBNet": _MIT, "MixDehazeNet": _MIT, "MoESR": _MIT, "MoSR": _MIT,
    "NAFNet": _MIT, "PLKSR": _MIT, "RCAN": _MIT, "RealCUGAN": _MIT, "RetinexFormer": _MIT, "Uformer": _MIT,
    "GFPGAN": _TENCENT, "RestoreFormer": _TENCENT,
    "AuraSR": ArchLicence("CC-BY-SA-4.0", True, "one-way compatible with GPL-3.0 (Creative Commons, 2015)"),
    "SwiftSRGAN": ArchLicence("CC0-1.0", True),
}

StateDict = dict[str, torch.Tensor]


# ------------------------------------------------------------------------------------ import
def import_spandrel() -> Any:
    """The ``spandrel`` module, with a torchvision stand-in installed first where needed."""
    from ganpaint.engine.models._torchvision_standin import ensure_torchvision

    ensure_torchvision()
    import spandrel

    return spandrel


def spandrel_version() -> str:
    try:
        from importlib.metadata import version

        return version("spandrel")
    except Exception:  # noqa: BLE001 - only for the card
        return "?"


# ------------------------------------------------------------------------------------ reading
def is_torchscript(path: str | os.PathLike[str]) -> bool:
    """A TorchScript archive: a zip with compiled code (``code/``) and ``constants.pkl``."""
    try:
        if not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False
    return any(n.endswith("/constants.pkl") or "/code/" in n for n in names)


def read_weights(path: str | os.PathLike[str]) -> StateDict:
    """The tensors of a model file, unwrapped the way spandrel does (``params_ema`` before
    ``params``, ``state_dict``, ``model``, ...; ``module.``/``netG.`` prefixes removed).

    safetensors: no pickling at all. ``.pth``/``.ckpt``: ``torch.load(weights_only=True)``,
    then spandrel's restricted unpickler; a TorchScript file is refused. Raises ModelFileError.
    """
    from ganpaint.engine.models.checkpoints import (
        _looks_like_safetensors,
        _torch_load_safely,
        model_file_head,
        read_safetensors,
    )

    p, head = model_file_head(path)
    if _looks_like_safetensors(p, head):
        obj: Any = read_safetensors(p)[0]
    else:
        if is_torchscript(p):
            raise ModelFileError(
                f"{p}: refused: it is a TorchScript program, not a file of weights, and GANPaint runs no "
                "code from model files; import the network's state dict (.pth or .safetensors) instead.",
                path=p, reason="torchscript",
            )
        try:
            obj = _torch_load_safely(p, head)
        except ModelFileError as exc:
            if exc.reason != "unsafe":
                raise
            obj = _restricted_load(p)
            if obj is None:
                raise
    return _state_dict_of(obj, p)


def _restricted_load(p: Path) -> Any | None:
    """``torch.load`` through spandrel's restricted unpickler (tensors, storages and ordered
    dicts only: any other global is refused before anything is built). None if it refuses."""
    spandrel = import_spandrel()
    del spandrel
    from spandrel.__helpers.unpickler import RestrictedUnpickle  # type: ignore[import-not-found]

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(str(p), map_location="cpu", pickle_module=RestrictedUnpickle, weights_only=False)
    except (pickle.UnpicklingError, RuntimeError, ValueError, EOFError, OSError, KeyError, AttributeError):
        return None


def _state_dict_of(obj: Any, p: Path | None) -> StateDict:
    where = f"{p}: " if p is not None else ""
    if not isinstance(obj, Mapping):
        raise ModelFileError(f"{where}no state dict of tensors found in the file (it holds a {type(obj).__name__})",
                             path=p)
    spandrel = import_spandrel()
    sd = spandrel.canonicalize_state_dict(dict(obj))
    if not isinstance(sd, Mapping):
        raise ModelFileError(f"{where}no state dict of tensors found in the file", path=p)
    tensors = {str(k): v for k, v in sd.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise ModelFileError(f"{where}no state dict of tensors found in the file", path=p)
    return tensors


# ------------------------------------------------------------------------------------ detecting
def detect(sd: Mapping[str, torch.Tensor], *, path: str | os.PathLike[str] | None = None) -> Any:
    """The spandrel descriptor of ``sd`` (on the CPU, float32, eval mode).

    Raises ModelFileError: no architecture recognises the keys ("unknown architecture"), the
    architecture's licence is not known to be GPL-compatible, or the weights do not build.
    """
    spandrel = import_spandrel()
    where = f"{os.fspath(path)}: " if path is not None else ""
    sd = dict(sd)
    arch = None
    for support in spandrel.MAIN_REGISTRY.architectures("detection"):
        try:
            if support.architecture.detect(sd):
                arch = support.architecture
                break
        except Exception:  # noqa: BLE001 - a detector tripping over odd shapes means "not this one"
            continue
    if arch is None:
        sample = ", ".join(list(sd)[:4]) or "none"
        raise ModelFileError(
            f"{where}unknown architecture: the weights are not a pix2pix/CycleGAN generator, a StyleGAN2 "
            f"checkpoint or any architecture spandrel {spandrel_version()} recognises ({len(sd)} tensors, "
            f"starting with {sample}).",
            path=path, reason="unknown architecture",
        )
    check_licence(str(arch.id), path=path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            desc = arch.load(sd)
    except Exception as exc:  # noqa: BLE001 - spandrel raises KeyError/RuntimeError/AssertionError
        text = str(exc).strip().splitlines()
        raise ModelFileError(
            f"{where}the weights look like {arch.name} but do not build into it "
            f"({type(exc).__name__}: {text[0][:160] if text else ''}).",
            path=path,
        ) from None
    desc.model.float()
    desc.eval()
    desc.model.requires_grad_(False)
    return desc


def check_licence(arch_id: str, *, path: str | os.PathLike[str] | None = None) -> ArchLicence:
    where = f"{os.fspath(path)}: " if path is not None else ""
    lic = ARCH_LICENCES.get(arch_id)
    if lic is None:
        raise ModelFileError(
            f"{where}refused: it is a {arch_id} model, and the licence of spandrel's {arch_id} code has not "
            "been checked against GANPaint's GPL-3.0-or-later yet (see docs/models.md).",
            path=path, reason="licence",
        )
    if not lic.gpl_compatible:
        raise ModelFileError(
            f"{where}refused: spandrel's {arch_id} code is licensed {lic.spdx}, which is not compatible "
            "with GANPaint's GPL-3.0-or-later.",
            path=path, reason="licence",
        )
    return lic


def describe(desc: Any) -> dict[str, Any]:
    """What a card records about a spandrel model (JSON values only)."""
    arch = desc.architecture
    req = desc.size_requirements
    lic = ARCH_LICENCES.get(str(arch.id))
    purpose = str(desc.purpose)
    return {
        "arch": str(arch.id),
        "arch_name": str(arch.name),
        "purpose": purpose,
        "tool": PURPOSE_TOOLS.get(purpose, "restore"),
        "scale": int(desc.scale),
        "in_channels": int(desc.input_channels),
        "out_channels": int(desc.output_channels),
        "size": {"minimum": int(req.minimum), "multiple_of": int(req.multiple_of), "square": bool(req.square)},
        "tiling": desc.tiling.name.lower(),
        "tags": [str(t) for t in desc.tags],
        "supports_half": bool(desc.supports_half),
        "supports_bfloat16": bool(desc.supports_bfloat16),
        "masked": purpose == "Inpainting",
        "code_licence": lic.spdx if lic else "unknown",
        "code_licence_note": lic.note if lic else "",
        "spandrel": spandrel_version(),
    }


def card_for(desc: Any, *, name: str, tool: str | None = None, source: str = "",
             source_files: tuple[dict[str, Any], ...] = ()) -> ModelCard:
    """A card for a detected model (the store fills in name, version, sha256)."""
    info = describe(desc)
    what = {"SR": f"x{info['scale']} upscaler", "FaceSR": "face restoration model",
            "Inpainting": "inpainting model", "Restoration": "restoration model (denoise/de-JPEG/deblur)"}
    description = (
        f"{info['arch_name']} {what.get(info['purpose'], 'model')}, detected by spandrel {info['spandrel']}; "
        f"the architecture's code is {info['code_licence']}. The licence of the weights is whatever their "
        "publisher chose: check it before sharing results commercially."
    )
    return ModelCard(
        architecture=SPANDREL_PREFIX + info["arch"],
        config=info,
        tool=tool or info["tool"],
        components=(),
        title=name,
        description=description,
        io={"color": "RGB" if info["in_channels"] == 3 else f"{info['in_channels']} channels",
            "range": [0.0, 1.0], "in_channels": info["in_channels"], "out_channels": info["out_channels"]},
        licence="weights: unknown (imported file); code: " + info["code_licence"],
        source=source,
        source_files=source_files,
    )


def import_file(path: str | os.PathLike[str], *, name: str, tool: str | None = None,
                sd: Mapping[str, torch.Tensor] | None = None) -> tuple[StateDict, ModelCard, list[str]]:
    """Tensors, card and report lines for storing a community model file.

    ``sd``: the file's tensors when the caller has read them already."""
    from ganpaint.engine.models.checkpoints import file_sha256

    p = Path(path)
    tensors = dict(sd) if sd is not None else read_weights(p)
    desc = detect(tensors, path=p)
    card = card_for(desc, name=name, tool=tool, source=f"imported from {p.name}",
                    source_files=({"file": p.name, "sha256": file_sha256(p)},))
    c = card.config
    size = c["size"]
    needs = [f"at least {size['minimum']} px" if size["minimum"] else "",
             f"multiples of {size['multiple_of']} px" if size["multiple_of"] > 1 else "",
             "square" if size["square"] else ""]
    lines = [
        f"{p.name}: {c['arch_name']} ({c['purpose']}, detected by spandrel {c['spandrel']}), scale x{c['scale']}, "
        f"{c['in_channels']}->{c['out_channels']} channels",
        f"  size: {', '.join(n for n in needs if n) or 'any'}; tiling {c['tiling']}; "
        f"code licence {c['code_licence']}",
    ]
    return {k: v.detach().cpu() for k, v in tensors.items()}, card, lines


def is_spandrel_card(card: ModelCard) -> bool:
    """Whether a card describes a model spandrel runs (ours, or a converter's)."""
    arch = card.architecture
    return arch == "spandrel" or arch.startswith(SPANDREL_PREFIX) or "spandrel" in card.extra


# ------------------------------------------------------------------------------------ loading
def load_spandrel(path: str | os.PathLike[str], device: str | torch.device = "cpu", *, ctx: Any = None) -> Any:
    """The spandrel descriptor of a model-store file, on ``device`` (cached per file and device)."""
    from ganpaint.engine.models.model_cache import default_cache

    module = default_cache().get(path, component="spandrel", device=str(device), ctx=ctx, loader=_load_module)
    return module.ganpaint_descriptor  # type: ignore[union-attr]


def _load_module(path: str | os.PathLike[str], *, component: Any = None, device: Any = "cpu",
                 dtype: Any = None) -> torch.nn.Module:
    from ganpaint.engine.models.checkpoints import read_safetensors

    p = Path(path)
    tensors, card = read_safetensors(p)
    desc = detect(tensors, path=p)
    if card is not None and card.architecture.startswith(SPANDREL_PREFIX):
        want = card.architecture[len(SPANDREL_PREFIX):]
        if want != str(desc.architecture.id):
            raise ModelFileError(f"{p}: the card says {want} but the weights are {desc.architecture.id}", path=p)
    desc.to(torch.device(device))
    if dtype is not None:
        desc.to(dtype)
    module: torch.nn.Module = desc.model
    module.ganpaint_descriptor = desc  # type: ignore[assignment]
    if card is not None and card.sha256:
        module.card = card  # type: ignore[assignment]  # keys the fast backend's converted graph on disk
    return module


# ------------------------------------------------------------------------------------ running
def _to_tensor(rgb: np.ndarray, channels: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    a = np.asarray(rgb, dtype=np.float32)
    if channels == 1:
        a = (a[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    elif channels != a.shape[-1]:
        raise ModelFileError(f"the model takes {channels} channels; GANPaint gives it RGB pictures only")
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))[None].to(device=device, dtype=dtype)


def _to_rgb(y: torch.Tensor) -> np.ndarray:
    out = y[0].float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
    if out.shape[-1] == 1:
        out = np.repeat(out, 3, axis=-1)
    return np.ascontiguousarray(out[..., :3], dtype=np.float32)


def _context(desc: Any) -> int:
    from ganpaint.engine.inference.tiling import receptive_radius

    try:
        radius = receptive_radius(desc.model)
    except Exception:  # noqa: BLE001 - an unusual structure: the cap
        radius = MAX_CONTEXT
    return int(min(MAX_CONTEXT, max(4, radius)))


def bytes_per_pixel(desc: Any) -> float:
    """Peak bytes per input pixel of one float32 forward: the engine's meta-device simulation
    (well under a second even for RRDBNet) times :data:`PEAK_FACTOR`; where the simulation
    cannot run the network, a rough guess (~64 features, ~8 live maps, at output size)."""
    model = desc.model
    hit = _BYTES_PER_PIXEL.get(model)
    if hit is not None:
        return hit
    from ganpaint.engine.inference.memory import _simulate_peak

    req = desc.size_requirements
    mult = max(1, int(req.multiple_of))
    side = -(-max(64, int(req.minimum)) // mult) * mult
    try:
        peak = _simulate_peak(model, side, int(desc.input_channels), torch.float32)
    except Exception:  # noqa: BLE001 - an unusual network: the guess
        peak = 0
    per_px = peak / side**2 * PEAK_FACTOR if peak > 0 else 4.0 * 64 * 8 * max(1, int(desc.scale)) ** 2
    _BYTES_PER_PIXEL[model] = per_px
    return per_px


def auto_tile(desc: Any, device: str | torch.device = "cpu") -> int:
    """A tile side that fits the memory budget (:func:`bytes_per_pixel`)."""
    from ganpaint.engine.inference.memory import memory_budget_bytes

    budget = memory_budget_bytes(device)
    side = int(math.sqrt(budget / bytes_per_pixel(desc)))
    req = desc.size_requirements
    side = max(side, req.minimum, 64)
    return max(req.multiple_of, min(side, 2048) // req.multiple_of * req.multiple_of)


def forward_for(desc: Any, ctx: Any = None) -> Any:
    """What runs one piece of a picture: spandrel's descriptor; in "fast" precision
    (``ctx.precision``) on the CPU, for :data:`FAST_ARCHS` that need no padding, the engine's
    fast backend on the module (``select_runner``: OpenVINO in bf16 where the CPU has bf16 and
    the network is large, bf16 autocast otherwise, float32 where the CPU has no bf16)."""
    req = desc.size_requirements
    if (str(getattr(ctx, "precision", "full") or "full") != "fast" or desc.device.type != "cpu"
            or str(desc.architecture.id) not in FAST_ARCHS or int(req.multiple_of) != 1 or req.square):
        return desc
    from ganpaint.engine.inference.backends import select_runner

    runner = select_runner(desc.model, desc.device, "fast", ctx=ctx)
    if runner.note and ctx is not None:
        ctx.progress(0.0, runner.note)
    minimum = int(req.minimum)

    def call(x: torch.Tensor) -> torch.Tensor:
        if min(x.shape[-2:]) < minimum:
            return desc(x)  # type: ignore[no-any-return]  # spandrel pads it
        return runner.call(x).float().clamp_(0, 1)

    return call


def run_image(desc: Any, rgb: np.ndarray, *, tile: int | None = None, ctx: Any = None,
              dtype: torch.dtype | None = None) -> np.ndarray:
    """Run an image-to-image model on ``rgb`` ((H, W, 3) float32 in [0, 1]); returns
    (H*scale, W*scale, 3). Larger pictures than ``tile`` go in overlapping tiles (the
    engine's tile plan: every tile drops ``context`` px at its inner edges, neighbours
    cross-fade over the rest of the overlap), so results are seam-free at any size.
    ``ctx.precision == "fast"`` on the CPU: :func:`forward_for`."""
    from ganpaint.engine.inference.tiling import axis_weights, plan_tiles

    forward = forward_for(desc, ctx)
    device = desc.device
    dtype = dtype or desc.dtype
    x = _to_tensor(rgb, int(desc.input_channels), device, dtype)
    h, w = x.shape[-2:]
    s = int(desc.scale)
    tile = int(tile or auto_tile(desc, device))
    internal = desc.tiling.name == "INTERNAL"
    if internal or max(h, w) <= tile:
        if ctx is not None:
            ctx.progress(0.0, "Running the model")
        with torch.inference_mode():
            return _to_rgb(forward(x))
    mult = int(desc.size_requirements.multiple_of)
    tile = max(tile, int(desc.size_requirements.minimum), mult)
    context = _context(desc)
    # the tile plan keeps context + fade within a quarter of the tile each side: make room for
    # the whole context (the receptive radius, so tiles agree with one whole pass)
    tile = max(tile, 4 * context + 8)
    blend = max(1, min(32, tile // 2 - 2 * context))
    plan = plan_tiles(h, w, tile, align=mult, radius=context, blend=blend)
    rows = [(a * s, b * s) for a, b in plan.rows]
    cols = [(a * s, b * s) for a, b in plan.cols]
    wy, wx = axis_weights(rows, plan.context * s), axis_weights(cols, plan.context * s)
    out = torch.zeros((1, 3 if desc.output_channels >= 3 else 1, h * s, w * s), dtype=torch.float32)
    total, done = plan.count, 0
    with torch.inference_mode():
        for (y0, y1), wr in zip(plan.rows, wy, strict=True):
            for (x0, x1), wc in zip(plan.cols, wx, strict=True):
                if ctx is not None:
                    ctx.progress(done / total, f"Tile {done + 1} of {total}")
                y = forward(x[:, :, y0:y1, x0:x1]).float().cpu()[:, : out.shape[1]]
                out[:, :, y0 * s : y1 * s, x0 * s : x1 * s] += y * (wr[:, None] * wc[None, :])
                done += 1
    sy, sx = torch.zeros(h * s), torch.zeros(w * s)
    for (a, b), wv in zip(rows, wy, strict=True):
        sy[a:b] += wv
    for (a, b), wv in zip(cols, wx, strict=True):
        sx[a:b] += wv
    out /= (sy[:, None] * sx[None, :]).clamp_min(1e-6)
    return _to_rgb(out)


def run_masked(desc: Any, rgb: np.ndarray, hole: np.ndarray, *, dtype: torch.dtype | None = None) -> np.ndarray:
    """Run an inpainting model (LaMa) on ``rgb`` with ``hole`` ((H, W) bool or 0/1: 1 = fill);
    returns (H, W, 3). The whole picture in one pass (such models need the global view)."""
    device = desc.device
    dtype = dtype or desc.dtype
    x = _to_tensor(rgb, int(desc.input_channels), device, dtype)
    m = torch.from_numpy(np.asarray(hole, dtype=np.float32))[None, None].to(device=device, dtype=dtype)
    with torch.inference_mode():
        return _to_rgb(desc(x, (m > 0.5).to(dtype)))
