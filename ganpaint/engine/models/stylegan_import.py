"""Importing StyleGAN2 generators in rosinality's stylegan2-pytorch layout.

Converted FFHQ / LSUN / church weights circulate as ``{"g_ema": state_dict, "latent_avg": w}``;
training checkpoints of that project hold ``g``, ``d``, ``g_ema``, optimiser states and
``args`` (an ``argparse.Namespace``) and no ``latent_avg``. Both are read with
``torch.load(weights_only=True)``; for ``args`` exactly one class, ``argparse.Namespace`` (an
attribute bag, no behaviour), is allow-listed, for the duration of that one call.

NVIDIA's own ``.pkl`` releases are pickled Python objects whose ordinary unpickling runs code
from the file; the model store sends them to ``engine.models.nvlabs_convert`` (a restricted
unpickler that runs nothing) before this module is asked, and this reader still refuses them.

The architecture (resolution, widths per resolution, latent size, mapping depth) is read off
the key names and shapes; the channel multiplier comes from ``args`` or is recognised from the
widths. The model is stored as component ``g_ema`` of architecture ``"stylegan2"`` with its
mean latent in ``g_ema.latent_avg`` (computed from 4096 z of seed 0 when the file has none),
listed by the ``stylemix`` and ``faces`` tools.
"""

from __future__ import annotations

import argparse
import os
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from ganpaint.engine.models.cards import ModelCard, ModelFileError
from ganpaint.nn.stylegan2 import Generator, StyleGAN2Config, standard_widths

__all__ = [
    "ARCHITECTURE",
    "COMPONENT",
    "STYLEGAN_TOOLS",
    "StyleGAN2Detection",
    "detect_stylegan2",
    "import_checkpoint",
    "read_rosinality",
    "sniff",
    "stylegan_card",
]

ARCHITECTURE = "stylegan2"
#: the stored generator's key prefix (the EMA generator, as rosinality names it)
COMPONENT = "g_ema"
#: the tools that list StyleGAN2 generators: the first is the card's ``tool``, the rest ``tools``
STYLEGAN_TOOLS: tuple[str, ...] = ("stylemix", "faces")
#: the only class a training checkpoint needs beyond tensors and containers
SAFE_CLASSES: tuple[type, ...] = (argparse.Namespace,)
#: rosinality's default; the file cannot show it (it scales weights at run time)
DEFAULT_LR_MLP = 0.01

_SNIFF_LIMIT = 64 << 20  # bytes of pickle examined when looking for key names
_STYLE_KEY = re.compile(r"^style\.(\d+)\.weight$")


# ---------------------------------------------------------------------------------------------
# recognising files without unpickling them
# ---------------------------------------------------------------------------------------------
def sniff(path: str | os.PathLike[str]) -> Literal["rosinality", "nvidia"] | None:
    """What a file looks like, from its bytes only (nothing is unpickled).

    "nvidia" for ``.pkl`` files and pickles that reference NVIDIA's dnnlib / torch_utils;
    "rosinality" when the pickle names the keys of a rosinality generator; otherwise None.
    """
    p = Path(path)
    if p.suffix.lower() == ".pkl":
        return "nvidia"
    data = _pickle_bytes(p)
    if data is None:
        return None
    if b"dnnlib" in data or b"torch_utils" in data:
        return "nvidia"
    if b"conv1.conv.modulation.weight" in data and b"to_rgb1" in data:
        return "rosinality"
    return None


def _pickle_bytes(p: Path) -> bytes | None:
    """The pickle stream of a torch file: ``data.pkl`` of a zip checkpoint, or the file's start."""
    try:
        with open(p, "rb") as fh:
            head = fh.read(4)
            if head.startswith(b"\x80"):  # a legacy torch.save / plain pickle stream
                return head + fh.read(_SNIFF_LIMIT)
        if not head.startswith(b"PK\x03\x04"):
            return None
        with zipfile.ZipFile(p) as zf:
            names = [n for n in zf.namelist() if n == "data.pkl" or n.endswith("/data.pkl")]
            if not names or zf.getinfo(names[0]).file_size > _SNIFF_LIMIT:
                return None
            return zf.read(names[0])
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return None  # F's reader reports damaged files with its own messages


def nvidia_refusal(path: str | os.PathLike[str]) -> str:
    return (
        f"{os.fspath(path)}: refused: NVIDIA's StyleGAN .pkl files are pickled Python objects, and "
        "unpickling one executes code from the file, which GANPaint never does. Convert it to "
        "rosinality's stylegan2-pytorch layout (its convert_weight.py, run only where you trust the "
        "file) and import the resulting .pt."
    )


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RosinalityFile:
    """The parts of a rosinality checkpoint GANPaint uses."""

    g_ema: dict[str, torch.Tensor]
    latent_avg: torch.Tensor | None
    #: the training options (``args``) as JSON values, or {}
    args: dict[str, Any] = field(default_factory=dict)
    #: which entry the generator came from ("g_ema", "g" or "" for a bare state dict)
    source_key: str = "g_ema"


def read_rosinality(path: str | os.PathLike[str]) -> RosinalityFile:
    """Load a rosinality checkpoint weights-only (``argparse.Namespace`` allow-listed)."""
    from ganpaint.engine.models.checkpoints import _torch_load_safely  # F's reader: its error messages

    p = Path(path)
    if not p.is_file():
        raise ModelFileError(f"{p}: no such file", path=p)
    if sniff(p) == "nvidia":
        raise ModelFileError(nvidia_refusal(p), path=p, reason="unsafe")
    with open(p, "rb") as fh:
        head = fh.read(8)
    with torch.serialization.safe_globals(list(SAFE_CLASSES)):
        obj = _torch_load_safely(p, head)
    if not isinstance(obj, Mapping):
        raise ModelFileError(f"{p}: expected a dict with g_ema (rosinality layout), found a {type(obj).__name__}", path=p)
    if isinstance(obj.get("g_ema"), Mapping):
        key, sd = "g_ema", obj["g_ema"]
    elif isinstance(obj.get("g"), Mapping):
        key, sd = "g", obj["g"]
    elif "conv1.conv.modulation.weight" in obj:
        key, sd = "", obj
    else:
        found = ", ".join(map(str, list(obj)[:6]))
        raise ModelFileError(f"{p}: no StyleGAN2 generator (g_ema) in the file; it holds {found}", path=p)
    tensors: dict[str, torch.Tensor] = {}
    for k, v in sd.items():
        if not isinstance(v, torch.Tensor):
            raise ModelFileError(f"{p}: {key or 'state dict'} entry {k!r} is not a tensor", path=p)
        k = k[len("module."):] if k.startswith("module.") else k
        tensors[k] = v.float() if v.is_floating_point() else v
    avg = obj.get("latent_avg") if key else None
    if avg is not None and not isinstance(avg, torch.Tensor):
        raise ModelFileError(f"{p}: latent_avg is not a tensor", path=p)
    return RosinalityFile(tensors, None if avg is None else avg.float().reshape(-1), _jsonable_args(obj.get("args")), key)


def _jsonable_args(args: Any) -> dict[str, Any]:
    if isinstance(args, argparse.Namespace):
        args = vars(args)
    if not isinstance(args, Mapping):
        return {}
    out: dict[str, Any] = {}
    for k, v in args.items():
        out[str(k)] = v if isinstance(v, bool | int | float | str) or v is None else str(v)
    return out


# ---------------------------------------------------------------------------------------------
# recognising the architecture
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StyleGAN2Detection:
    config: StyleGAN2Config
    #: where the channel multiplier came from: "args", "widths" or "" (not determinable)
    multiplier_from: str = ""

    def describe(self) -> str:
        c = self.config
        res = list(c.widths())
        widths = "/".join(str(w) for w in c.channels)
        mult = {
            "args": f", channel multiplier {c.channel_multiplier} (from the file's args)",
            "widths": f", channel multiplier {c.channel_multiplier}",
            "": "",
        }[self.multiplier_from]
        return (
            f"StyleGAN2 generator (rosinality stylegan2-pytorch layout): {c.size} px, {c.n_styles} style inputs, "
            f"latent size {c.style_dim}, mapping depth {c.n_mlp}, widths {widths} at {res[0]}-{res[-1]} px{mult}"
        )


def _dim(sd: Mapping[str, torch.Tensor], key: str, axis: int, ndim: int, where: str) -> int:
    t = sd.get(key)
    if t is None:
        raise ModelFileError(f"{where}not a StyleGAN2 generator: key {key} is missing")
    if t.dim() != ndim:
        raise ModelFileError(f"{where}{key} has shape {tuple(t.shape)}, expected {ndim} dimensions")
    return int(t.shape[axis])


def detect_stylegan2(
    sd: Mapping[str, torch.Tensor], args: Mapping[str, Any] | None = None, *, path: str | os.PathLike[str] | None = None
) -> StyleGAN2Detection:
    """Read the generator's architecture off a rosinality ``g_ema`` state dict."""
    where = f"{os.fspath(path)}: " if path is not None else ""
    layers = sorted(int(hit.group(1)) for k in sd if (hit := _STYLE_KEY.match(k)))
    if not layers or layers != list(range(1, len(layers) + 1)):
        raise ModelFileError(f"{where}mapping layers should be style.1 ... style.N, found style.{layers}")
    style_dim = _dim(sd, "style.1.weight", 1, 2, where)
    widths = [_dim(sd, "input.input", 1, 4, where)]
    n_up = sum(1 for k in sd if re.match(r"^to_rgbs\.\d+\.conv\.weight$", k))
    for i in range(n_up):
        widths.append(_dim(sd, f"convs.{2 * i}.conv.weight", 1, 5, where))
    size = 4 * 2**n_up
    mult: int | None = None
    origin = ""
    a = dict(args or {})
    if isinstance(a.get("channel_multiplier"), int):
        mult, origin = int(a["channel_multiplier"]), "args"
    elif size >= 64:
        for m in (1, 2, 4, 8):
            if list(standard_widths(size, m)) == widths:
                mult, origin = m, "widths"
                break
    try:
        cfg = StyleGAN2Config(size=size, style_dim=style_dim, n_mlp=len(layers), channels=tuple(widths),
                              channel_multiplier=mult, lr_mlp=DEFAULT_LR_MLP)
    except ValueError as exc:
        raise ModelFileError(f"{where}not a usable StyleGAN2 generator: {exc}") from None
    if isinstance(a.get("size"), int) and a["size"] != size:
        raise ModelFileError(f"{where}args say {a['size']} px but the weights are for {size} px")
    return StyleGAN2Detection(cfg, origin)


# ---------------------------------------------------------------------------------------------
# the store's entry point
# ---------------------------------------------------------------------------------------------
def stylegan_card(config: StyleGAN2Config, *, tool: str | None = None, **fields: Any) -> ModelCard:
    """A card for a stored StyleGAN2 generator, listed by ``tool`` (default stylemix) and the
    other StyleGAN tools (``extra["tools"]``)."""
    primary = tool or STYLEGAN_TOOLS[0]
    extra = dict(fields.pop("extra", {}) or {})
    extra["tools"] = [t for t in STYLEGAN_TOOLS if t != primary]
    extra.setdefault("n_styles", config.n_styles)
    io = {"color": "RGB", "range": [-1.0, 1.0], "latent": "z", "latent_dim": config.style_dim,
          "in_channels": 0, "out_channels": 3}
    return ModelCard(ARCHITECTURE, config.to_dict(), primary, components=(COMPONENT,), io=io, extra=extra, **fields)


def import_checkpoint(
    path: str | os.PathLike[str], *, name: str, tool: str | None = None
) -> tuple[dict[str, torch.Tensor], ModelCard, list[str]] | None:
    """(tensors, card, report lines) for a rosinality StyleGAN2 checkpoint; None for any other
    file (the caller goes on with its own readers). Raises ModelFileError for NVIDIA pickles
    and for StyleGAN files that do not fit."""
    from ganpaint.engine.models.checkpoints import check_keys, file_sha256
    from ganpaint.nn.stylegan_sampling import MEAN_LATENT_SAMPLES, MEAN_LATENT_SEED, mean_latent

    p = Path(path)
    kind = sniff(p)
    if kind is None:
        return None
    if kind == "nvidia":
        raise ModelFileError(nvidia_refusal(p), path=p, reason="unsafe")
    rf = read_rosinality(p)
    det = detect_stylegan2(rf.g_ema, rf.args, path=p)
    cfg = det.config
    sd = dict(rf.g_ema)
    if rf.latent_avg is not None:
        if rf.latent_avg.numel() != cfg.style_dim:
            raise ModelFileError(f"{p}: latent_avg has {rf.latent_avg.numel()} values, the latent size is {cfg.style_dim}", path=p)
        sd["latent_avg"] = rf.latent_avg
        avg_note = "mean latent: the file's latent_avg"
    else:
        sd["latent_avg"] = torch.zeros(cfg.style_dim)
    with torch.device("meta"):
        check_keys(Generator(cfg), sd, path=p)
    if rf.latent_avg is None:
        G = Generator(cfg)
        G.load_state_dict(sd)
        G.eval()
        sd["latent_avg"] = mean_latent(G, MEAN_LATENT_SAMPLES, MEAN_LATENT_SEED)
        avg_note = (f"mean latent: computed from {MEAN_LATENT_SAMPLES} z samples (seed {MEAN_LATENT_SEED}); "
                    "the file has no latent_avg")
    card = stylegan_card(
        cfg,
        tool=tool,
        title=name,
        source=f"imported from {p.name} (rosinality stylegan2-pytorch)",
        source_files=({"file": p.name, "sha256": file_sha256(p)},),
        extra={
            "upstream_layout": "rosinality/stylegan2-pytorch",
            "generator_key": rf.source_key or "(state dict)",
            "latent_avg": "file" if rf.latent_avg is not None else
            f"computed: mean of w over {MEAN_LATENT_SAMPLES} z, seed {MEAN_LATENT_SEED}",
            "training_args": rf.args,
            "lr_mlp_assumed": cfg.lr_mlp,
        },
    )
    lines = [f"{p.name}: {det.describe()}", f"  {avg_note}"]
    if rf.source_key == "g":
        lines.append("  note: no g_ema in the file; imported the non-averaged generator g")
    tools = [card.tool, *card.extra["tools"]]
    lines.append(f"  listed by the {' and '.join(tools)} tools")
    tensors = {f"{COMPONENT}.{k}": v.contiguous() for k, v in sd.items()}
    return tensors, card, lines
