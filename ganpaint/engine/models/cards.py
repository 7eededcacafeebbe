"""The model card: what a model file is, where it came from, how to run it.

A card travels in two places: inside the safetensors file's metadata under the key
``"ganpaint.card"`` (authoritative: it cannot get separated from the weights) and as
``<file>.card.json`` beside it (so people and the Models dialog can read it without
opening the weights). Both hold the same JSON object, ``ModelCard.to_json()``.

No torch here: listing the store must stay cheap.

Cards are untrusted input (anyone can drop a file into the models folder): a card is at most
``MAX_CARD_BYTES`` (checked with stat before reading a ``.card.json``), a safetensors header
read for its card at most ``MAX_HEADER_BYTES``, and both are parsed with a depth limit
(``ganpaint.core.limits``). Whatever is wrong with a card is a ModelFileError naming its file,
so a bad card hides only its own model.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from ganpaint.core.errors import GanpaintError
from ganpaint.core.limits import MAX_JSON_DEPTH, loads_bounded

__all__ = ["CARD_FORMAT", "MAX_CARD_BYTES", "MAX_HEADER_BYTES", "METADATA_KEY", "ModelCard", "ModelFileError", "utc_now"]

#: safetensors metadata key that holds the card JSON
METADATA_KEY = "ganpaint.card"
#: version of the card format itself (bumped on incompatible changes)
CARD_FORMAT = 1
#: the largest card accepted (the shipped ones are 5-15 KB)
MAX_CARD_BYTES = 1 << 20
#: the largest safetensors header read to find a card (headers of GANPaint's models are ~15 KB)
MAX_HEADER_BYTES = 16 << 20

_NAME_RE = re.compile(r"^[a-z][a-z0-9_\-]*$")


class ModelFileError(GanpaintError):
    """A model file (checkpoint, safetensors, card) cannot be read, recognised or stored.

    The message names the file and says what did not match; show ``str(error)`` as it is.
    """


def utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def default_io() -> dict[str, Any]:
    """The pix2pix/CycleGAN convention: RGB in, RGB out, both mapped to [-1, 1]."""
    return {"color": "RGB", "range": [-1.0, 1.0], "in_channels": 3, "out_channels": 3}


@dataclass(frozen=True)
class ModelCard:
    """Everything GANPaint knows about a stored model.

    ``architecture`` names a builder registered in ``ganpaint.engine.models.loading`` (``"resnet_generator"``,
    ``"unet_generator"``, or one a plugin registers) and ``config`` is its options.
    ``components`` lists the networks the file holds, each stored with its name as a key
    prefix (``"forward.model.1.weight"``); for translation models they are the directions,
    ``("forward",)`` or ``("forward", "reverse")`` for a CycleGAN pair. An empty tuple means
    the file's keys belong to one network, unprefixed.
    ``sha256`` is the digest of the weights (names, dtypes, shapes and bytes, in name order),
    so it does not depend on the metadata; ``source_files`` records the files a model was
    imported from (name and sha256 of each file).
    """

    architecture: str
    config: dict[str, Any]
    tool: str
    name: str = ""
    title: str = ""
    description: str = ""
    components: tuple[str, ...] = ("forward",)
    io: dict[str, Any] = field(default_factory=default_io)
    training_data: tuple[dict[str, Any], ...] = ()
    licence: str = ""
    training_command: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""
    version: int = 1
    source: str = ""
    source_files: tuple[dict[str, Any], ...] = ()
    created: str = ""
    #: free-form extras a plugin needs (JSON values only)
    extra: dict[str, Any] = field(default_factory=dict)
    format: int = CARD_FORMAT

    def __post_init__(self) -> None:
        if not isinstance(self.architecture, str) or not self.architecture:
            raise ValueError("model card: architecture must be a non-empty string")
        if not isinstance(self.config, dict):
            raise ValueError("model card: config must be an object")
        if not isinstance(self.tool, str) or not _NAME_RE.match(self.tool):
            raise ValueError(f"model card: tool {self.tool!r} is not a tool id")
        if self.name and not _NAME_RE.match(self.name):
            raise ValueError(f"model card: name {self.name!r} must be lower-case letters, digits, '-' or '_'")
        if not isinstance(self.version, int) or self.version < 1:
            raise ValueError("model card: version must be an integer >= 1")
        object.__setattr__(self, "components", tuple(self.components))
        object.__setattr__(self, "training_data", tuple(self.training_data))
        object.__setattr__(self, "source_files", tuple(self.source_files))
        for comp in self.components:
            if not isinstance(comp, str) or not re.match(r"^[A-Za-z_][\w]*$", comp):
                raise ValueError(f"model card: component name {comp!r} is not an identifier")
        if len(set(self.components)) != len(self.components):
            raise ValueError("model card: duplicate component names")
        for key in ("io", "metrics", "extra"):
            if not isinstance(getattr(self, key), dict):
                raise ValueError(f"model card: {key} must be an object")
        for key in ("name", "title", "description", "licence", "training_command", "sha256", "source", "created"):
            if not isinstance(getattr(self, key), str):
                raise ValueError(f"model card: {key} must be a string")

    def replace(self, **changes: Any) -> ModelCard:
        return dataclasses.replace(self, **changes)

    # -- JSON --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for key in ("components", "training_data", "source_files"):
            d[key] = list(d[key])
        return d

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Any) -> ModelCard:
        if not isinstance(data, dict):
            raise ValueError("a model card must be a JSON object")
        fields = {f.name for f in dataclasses.fields(cls)}
        data = dict(data)
        if "license" in data and "licence" not in data:  # the US spelling other tools write
            data["licence"] = data.pop("license")
        data.setdefault("config", {})  # an architecture without options
        known = {k: v for k, v in data.items() if k in fields}
        # keep fields written by a newer GANPaint instead of dropping them silently
        unknown = {k: v for k, v in data.items() if k not in fields}
        if unknown:
            known["extra"] = {**dict(known.get("extra") or {}), **unknown}
        if int(known.get("format", CARD_FORMAT)) > CARD_FORMAT:
            raise ValueError(f"card format {known['format']} is newer than this GANPaint understands")
        try:
            return cls(**known)
        except TypeError as exc:
            raise ValueError(f"model card is missing a field: {exc}") from None

    @classmethod
    def from_json(cls, text: str, *, path: str | os.PathLike[str] | None = None) -> ModelCard:
        where = f"{os.fspath(path)}: " if path is not None else ""
        try:
            return cls.from_dict(loads_bounded(text, max_bytes=MAX_CARD_BYTES, max_depth=MAX_JSON_DEPTH))
        except (ValueError, TypeError, RecursionError, OverflowError) as exc:
            raise ModelFileError(f"{where}bad model card: {exc}", path=path, reason="bad card") from None

    # -- for people ----------------------------------------------------------------------------
    def summary(self) -> str:
        """One line: architecture and its main options."""
        c = self.config
        if self.architecture == "resnet_generator":
            arch = f"ResNet generator, {c.get('n_blocks')} blocks"
        elif self.architecture == "unet_generator":
            arch = f"U-Net generator, {c.get('num_downs')} levels"
        else:
            arch = self.architecture
        bits = [arch]
        if "ngf" in c:
            bits.append(f"ngf {c['ngf']}")
        if "in_channels" in c:
            bits.append(f"{c['in_channels']}->{c.get('out_channels')} channels")
        if "norm" in c:
            bits.append(f"{c['norm']} norm")
        if "dropout" in c:
            bits.append("dropout" if c["dropout"] else "no dropout")
        if len(self.components) > 1:
            bits.append("directions: " + "/".join(self.components))
        return ", ".join(bits)


def read_safetensors_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file, read from its header (no torch, no tensor data)."""
    import struct

    p = os.fspath(path)
    try:
        with open(p, "rb") as fh:
            raw = fh.read(8)
            if len(raw) != 8:
                raise ValueError("file too short")
            (n,) = struct.unpack("<Q", raw)
            if n > MAX_HEADER_BYTES:
                raise ValueError(f"its header is {n:,} bytes, more than the limit of {MAX_HEADER_BYTES:,}")
            if n > os.fstat(fh.fileno()).st_size - 8:
                raise ValueError("header cut short")
            header = fh.read(n)
            if len(header) != n:
                raise ValueError("header cut short")
        data = loads_bounded(header, max_bytes=MAX_HEADER_BYTES)
        if not isinstance(data, dict):
            raise ValueError("the header is not an object")
        meta = data.get("__metadata__") or {}
        if not isinstance(meta, dict):
            raise ValueError("metadata is not an object")
        return {str(k): str(v) for k, v in meta.items()}
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{p}: not a readable safetensors file ({exc})", path=p) from None


def card_of_file(path: str | os.PathLike[str]) -> ModelCard:
    """The card of a model file: embedded metadata first, else ``<file>.card.json`` / ``<stem>.card.json``."""
    p = os.fspath(path)
    try:
        return _card_of_file(p)
    except ModelFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - a hostile card must hide only its own model
        raise ModelFileError(f"{p}: unreadable model card ({type(exc).__name__}: {exc})", path=p) from None


def _card_of_file(p: str) -> ModelCard:
    meta = read_safetensors_metadata(p)
    if METADATA_KEY in meta:
        return ModelCard.from_json(meta[METADATA_KEY], path=p)
    base, _ = os.path.splitext(p)
    for side in (p + ".card.json", base + ".card.json"):
        if os.path.isfile(side):
            return ModelCard.from_json(_read_card_file(side), path=side)
    raise ModelFileError(f"{p}: the file has no model card (metadata {METADATA_KEY!r} or a .card.json beside it)", path=p)


def _read_card_file(side: str) -> str:
    """The text of a ``.card.json``, its size checked with stat before anything is read."""
    try:
        size = os.stat(side).st_size
        if size > MAX_CARD_BYTES:
            raise ModelFileError(
                f"{side}: bad model card: it is {size:,} bytes, more than the limit of {MAX_CARD_BYTES:,}",
                path=side, reason="too large",
            )
        with open(side, "rb") as fh:
            raw = fh.read(MAX_CARD_BYTES + 1)  # the file may have grown since the stat
        return raw.decode("utf-8")
    except OSError as exc:
        raise ModelFileError(f"{side}: cannot read the model card ({exc.strerror or exc})", path=side) from None
    except UnicodeDecodeError:
        raise ModelFileError(f"{side}: bad model card: it is not UTF-8 text", path=side, reason="bad card") from None
