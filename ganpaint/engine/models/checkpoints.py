"""Reading checkpoint files safely, and recognising the official generator architectures.

``.pth``/``.pt`` files are opened ONLY with ``torch.load(weights_only=True)``: a file that
needs full unpickling (it carries Python objects or code) is refused, and nothing in it runs.
safetensors files are read with safetensors (no pickling at all).

``detect_generator(state_dict)`` reads the architecture of a pytorch-CycleGAN-and-pix2pix
generator off its key names and shapes and returns a :class:`Detection`, or raises
:class:`ModelFileError` saying which keys/shapes did not match.
"""

from __future__ import annotations

import os
import pickle
import re
import struct
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganpaint.engine.models.cards import METADATA_KEY, ModelCard, ModelFileError

__all__ = [
    "Detection",
    "ModelFileError",
    "check_keys",
    "detect_generator",
    "read_checkpoint",
    "read_safetensors",
    "weights_sha256",
]

StateDict = dict[str, torch.Tensor]

_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "netG", "generator", "params")
_STALE_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------
def read_checkpoint(path: str | os.PathLike[str]) -> StateDict:
    """A flat ``name -> tensor`` dict from a ``.pth``/``.pt``/``.ckpt`` or ``.safetensors`` file.

    Unwraps ``{"state_dict": ...}``-style containers and ``module.`` prefixes (DataParallel).
    Raises ModelFileError for a missing, truncated, unsafe or tensor-less file.
    """
    p, head = model_file_head(path)
    if _looks_like_safetensors(p, head):
        tensors, _ = read_safetensors(p)
        return tensors
    obj = _torch_load_safely(p, head)
    return _unwrap(obj, p)


def model_file_head(path: str | os.PathLike[str]) -> tuple[Path, bytes]:
    """The file's path and its first 8 bytes (enough to tell safetensors, zip and pickle apart).
    Raises ModelFileError for a missing or empty file."""
    p = Path(path)
    if not p.is_file():
        raise ModelFileError(f"{p}: no such file", path=p)
    if p.stat().st_size == 0:
        raise ModelFileError(f"{p}: the file is empty", path=p)
    with open(p, "rb") as fh:
        return p, fh.read(8)


def read_safetensors(path: str | os.PathLike[str]) -> tuple[StateDict, ModelCard | None]:
    """Tensors and the embedded card (None when the file has none) of a safetensors file."""
    from safetensors import SafetensorError, safe_open

    p = Path(path)
    try:
        with safe_open(str(p), framework="pt", device="cpu") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"{p}: not a readable safetensors file ({_one_line(exc)})", path=p) from None
    card = None
    if METADATA_KEY in meta:
        card = ModelCard.from_json(meta[METADATA_KEY], path=p)
    return tensors, card


def _looks_like_safetensors(p: Path, head: bytes) -> bool:
    if p.suffix.lower() == ".safetensors":
        return True
    # an 8-byte little-endian header length followed by '{'
    if len(head) == 8:
        n = int.from_bytes(head, "little")
        if 2 <= n < 100_000_000:
            with open(p, "rb") as fh:
                fh.seek(8)
                return fh.read(1) == b"{"
    return False


def _torch_load_safely(p: Path, head: bytes) -> Any:
    is_zip = head.startswith(b"PK\x03\x04")
    if is_zip and not zipfile.is_zipfile(p):
        # torch.save writes a zip; without its central directory (at the end) it was cut short
        raise ModelFileError(f"{p}: the file is truncated or damaged (its zip directory is missing)", path=p)
    if not is_zip and not head.startswith(b"\x80"):
        # neither torch.save's zip nor a pickle stream (which starts with the PROTO opcode)
        raise ModelFileError(f"{p}: not a model file (neither a PyTorch checkpoint nor safetensors)", path=p)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols; we report errors ourselves
            return torch.load(str(p), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ModelFileError(_refusal(p, str(exc)), path=p, reason="unsafe") from None
    except (EOFError, IndexError, struct.error):
        raise ModelFileError(f"{p}: the file is truncated or damaged (it ends early)", path=p) from None
    except RuntimeError as exc:
        text = _one_line(exc)
        if "central directory" in text or "corrupt" in text or "truncated" in text.lower():
            raise ModelFileError(f"{p}: the file is truncated or damaged ({text})", path=p) from None
        raise ModelFileError(f"{p}: not a readable checkpoint ({text})", path=p) from None
    except (ValueError, OSError, zipfile.BadZipFile, KeyError) as exc:
        raise ModelFileError(f"{p}: not a readable checkpoint ({_one_line(exc)})", path=p) from None


def _refusal(p: Path, text: str) -> str:
    """The message for a file the weights-only unpickler refused."""
    m = re.search(r"unsupported GLOBAL ([\w.]+)|Unsupported global: GLOBAL ([\w.]+)", text)
    what = f" ({m.group(1) or m.group(2)})" if m else ""
    if m is None and "Unsupported operand" in text:
        body = "it is a pickle that a plain torch.save of tensors never writes"
    else:
        body = f"it holds Python objects{what}, not only tensors"
    return (
        f"{p}: refused: {body}; reading it would mean running code from the file, which GANPaint "
        "never does. If you trust the file, re-save the network's state_dict with torch.save "
        "(or as safetensors) and import that."
    )


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _is_tensor_dict(obj: Any) -> bool:
    return isinstance(obj, Mapping) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()
    )


def _unwrap(obj: Any, p: Path) -> StateDict:
    if not _is_tensor_dict(obj) and isinstance(obj, Mapping):
        inner = [obj[k] for k in _WRAPPER_KEYS if k in obj and _is_tensor_dict(obj[k])]
        if not inner:
            inner = [v for v in obj.values() if _is_tensor_dict(v)]
        if len(inner) == 1:
            obj = inner[0]
        elif len(inner) > 1:
            names = [k for k, v in obj.items() if _is_tensor_dict(v)]
            raise ModelFileError(
                f"{p}: the file holds several networks ({', '.join(map(str, names[:6]))}); "
                "export the generator's state_dict alone",
                path=p,
            )
    if not _is_tensor_dict(obj):
        kind = type(obj).__name__
        raise ModelFileError(f"{p}: no state dict of tensors found in the file (it holds a {kind})", path=p)
    out: StateDict = {}
    for k, v in obj.items():
        out[k[len("module.") :] if k.startswith("module.") else k] = v
    return out


def drop_stale_norm_buffers(sd: Mapping[str, torch.Tensor]) -> tuple[StateDict, list[str]]:
    """Remove InstanceNorm running statistics that files saved by PyTorch 0.4 carry.

    A norm layer whose ``weight`` is absent but ``running_mean``/``running_var``/
    ``num_batches_tracked`` are present is an affine-free InstanceNorm: those buffers are
    unused at test time, and the official test script deletes them too.
    """
    dropped: list[str] = []
    out: StateDict = {}
    for k, v in sd.items():
        mod, _, leaf = k.rpartition(".")
        if leaf in _STALE_SUFFIXES and f"{mod}.weight" not in sd:
            dropped.append(k)
            continue
        out[k] = v
    return out, dropped


def weights_sha256(sd: Mapping[str, torch.Tensor]) -> str:
    """Digest of names, dtypes, shapes and bytes, in name order (independent of file metadata)."""
    import hashlib

    h = hashlib.sha256()
    for k in sorted(sd):
        t = sd[k].detach().cpu().contiguous()
        h.update(f"{k}|{t.dtype}|{tuple(t.shape)}|".encode())
        if t.numel():
            # reshape(-1) first: a 0-d tensor cannot be viewed as bytes
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# recognising the architecture
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Detection:
    """What ``detect_generator`` found. ``config`` feeds the builder named by ``architecture``."""

    architecture: str
    config: dict[str, Any]
    #: the official option name ("resnet_9blocks", "unet_256", ...)
    official_name: str
    #: False when the file cannot show it (U-Net dropout leaves no keys); the config holds the guess
    dropout_visible: bool
    dropped_keys: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        c = self.config
        if self.architecture == "resnet_generator":
            arch = f"ResNet generator ({self.official_name}): {c['n_blocks']} residual blocks"
        else:
            size = 2 ** c["num_downs"]
            arch = f"U-Net generator ({self.official_name}): depth {c['num_downs']} ({size} px multiples)"
        drop = ("dropout" if c["dropout"] else "no dropout") + ("" if self.dropout_visible else " (assumed)")
        lines = [
            arch,
            f"  width ngf={c['ngf']}, channels {c['in_channels']} -> {c['out_channels']}, "
            f"{c['norm']} norm, {drop}",
        ]
        if self.dropped_keys:
            lines.append(f"  dropped {len(self.dropped_keys)} unused InstanceNorm running-stat keys")
        lines += [f"  {n}" for n in self.notes]
        return "\n".join(lines)


_RESNET_KEY = re.compile(r"^model\.(\d+)\.(?:conv_block\.(\d+)\.)?(weight|bias|running_mean|running_var|num_batches_tracked)$")


def detect_generator(
    sd: Mapping[str, torch.Tensor], *, path: str | os.PathLike[str] | None = None
) -> tuple[Detection, StateDict]:
    """Recognise a ResNet or U-Net generator; returns the detection and the cleaned state dict.

    Raises ModelFileError naming what did not match.
    """
    where = f"{os.fspath(path)}: " if path is not None else ""
    clean, dropped = drop_stale_norm_buffers(sd)
    if "model.1.weight" in clean and any(".conv_block." in k for k in clean):
        det = _detect_resnet(clean, where)
    elif "model.model.0.weight" in clean:
        det = _detect_unet(clean, where)
    else:
        sample = ", ".join(list(clean)[:5]) or "none"
        raise ModelFileError(
            f"{where}unknown architecture: expected the keys of a pix2pix/CycleGAN generator "
            f"(ResNet: model.1.weight and model.N.conv_block.*; U-Net: model.model.0.weight), "
            f"found {len(clean)} keys starting with: {sample}",
            path=path,
        )
    det = Detection(**{**det.__dict__, "dropped_keys": tuple(dropped)})
    # the decisive test: build it and compare every key and shape
    check_keys(_build(det), clean, path=path)
    return det, clean


def _shape(sd: Mapping[str, torch.Tensor], key: str, ndim: int, where: str) -> tuple[int, ...]:
    t = sd.get(key)
    if t is None:
        raise ModelFileError(f"{where}expected key {key} is missing")
    if t.dim() != ndim:
        raise ModelFileError(f"{where}{key} has shape {tuple(t.shape)}, expected {ndim} dimensions")
    return tuple(int(s) for s in t.shape)


def _detect_resnet(sd: StateDict, where: str) -> Detection:
    blocks: dict[int, set[int]] = {}
    for k, t in sd.items():
        m = _RESNET_KEY.match(k)
        if m is None:
            continue  # reported as an unexpected key by check_keys
        if m.group(2) is not None and m.group(3) == "weight" and t.dim() == 4:
            blocks.setdefault(int(m.group(1)), set()).add(int(m.group(2)))
    idx = sorted(blocks)
    if idx != list(range(10, 10 + len(idx))):
        raise ModelFileError(f"{where}ResNet blocks should be model.10, model.11, ...; found model.{idx}")
    convs = {frozenset(v) for v in blocks.values()}
    # (conv indices in conv_block) -> (padding, dropout); reflect and replicate look alike: the
    # reference's default, reflect, is assumed
    layouts = {
        frozenset({1, 5}): ("reflect", False),
        frozenset({1, 6}): ("reflect", True),
        frozenset({0, 3}): ("zero", False),
        frozenset({0, 4}): ("zero", True),
    }
    if len(convs) != 1 or next(iter(convs)) not in layouts:
        found = sorted(set().union(*blocks.values())) if blocks else []
        raise ModelFileError(
            f"{where}ResNet block convolutions at conv_block.{found}; expected 1 and 5 (no dropout), "
            "1 and 6 (dropout), or 0 and 3/4 (zero padding)"
        )
    padding, dropout = layouts[next(iter(convs))]
    ngf, in_nc = _shape(sd, "model.1.weight", 4, where)[:2]
    n_blocks = len(idx)
    last = 10 + n_blocks + 7
    out_nc = _shape(sd, f"model.{last}.weight", 4, where)[0]
    norm = "batch" if "model.2.weight" in sd else "instance"
    cfg = dict(in_channels=in_nc, out_channels=out_nc, ngf=ngf, n_blocks=n_blocks, norm=norm,
               dropout=dropout, padding=padding)
    return Detection("resnet_generator", cfg, f"resnet_{n_blocks}blocks", dropout_visible=True)


def _detect_unet(sd: StateDict, where: str) -> Detection:
    depth = 2
    prefix = "model.model.1.model."
    if not any(k.startswith(prefix) for k in sd):
        raise ModelFileError(f"{where}U-Net generator without inner blocks (no model.model.1.model.* keys)")
    while any(k.startswith(prefix + "3.model.") for k in sd):
        prefix += "3.model."
        depth += 1
    ngf, in_nc = _shape(sd, "model.model.0.weight", 4, where)[:2]
    out_nc = _shape(sd, "model.model.3.weight", 4, where)[1]
    norm = "batch" if "model.model.1.model.2.weight" in sd else "instance"
    if depth < 5:
        raise ModelFileError(f"{where}U-Net depth {depth} is below the minimum of 5 the reference builds")
    # dropout leaves no keys; pix2pix trains its U-Nets with dropout by default
    cfg = dict(in_channels=in_nc, out_channels=out_nc, ngf=ngf, num_downs=depth, norm=norm, dropout=True)
    official = f"unet_{2 ** depth}"
    note = "dropout cannot be read from the file; assumed on (pix2pix default; matters only in published mode)"
    return Detection("unet_generator", cfg, official, dropout_visible=False, notes=(note,))


def _build(det: Detection) -> torch.nn.Module:
    from ganpaint.engine.models.loading import build_model

    return build_model(det.architecture, det.config)


def check_keys(
    model: torch.nn.Module, sd: Mapping[str, torch.Tensor], *, path: str | os.PathLike[str] | None = None
) -> None:
    """Raise ModelFileError listing a few missing keys, extra keys and shape mismatches."""
    where = f"{os.fspath(path)}: " if path is not None else ""
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = [k for k in want if k not in sd]
    extra = [k for k in sd if k not in want]
    wrong = [f"{k} {tuple(sd[k].shape)} (expected {want[k]})" for k in want if k in sd and tuple(sd[k].shape) != want[k]]
    if not (missing or extra or wrong):
        return
    parts = []
    for label, items in (("missing keys", missing), ("unexpected keys", extra), ("wrong shapes", wrong)):
        if items:
            more = f" and {len(items) - 4} more" if len(items) > 4 else ""
            parts.append(f"{label} ({len(items)}): {', '.join(items[:4])}{more}")
    raise ModelFileError(f"{where}the weights do not fit the architecture: " + "; ".join(parts), path=path)


# StyleGAN2 generators are a built-in architecture too (imported by stylegan_import). Registered
# here because every path that stores or loads a model imports this module first.
def _register_stylegan2() -> None:
    from ganpaint.engine.models.loading import register_architecture
    from ganpaint.nn.stylegan2 import build_generator

    register_architecture("stylegan2", build_generator)


_register_stylegan2()
