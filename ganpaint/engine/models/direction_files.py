"""Where a generator's saved latent directions live, and which names they hold, without torch.

The Qt panel asks which sliders a chosen model can drive while the user picks it, in the
GUI process where torch is not loaded; :func:`saved_direction_names` answers from the
safetensors header alone (no vectors read). The vectors themselves are read by
:mod:`ganpaint.engine.models.directions`.

* ``directions_path(model, root=None)``: ``<models dir>/directions/<model>.safetensors``.
* ``saved_direction_names(model, model_file="")``: the names in the file the tools would
  load (the user's models folder first, then ``directions/`` beside ``model_file``) and the
  sliders withheld from it with their reasons; None when there is no such file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DIRECTIONS_KEY", "SavedNames", "directions_path", "saved_direction_names"]

#: the safetensors metadata key holding the directions' JSON description
DIRECTIONS_KEY = "ganpaint.directions"
_MAX_HEADER = 1 << 24  # a directions header is a few kB; more is not one of ours


@dataclass(frozen=True)
class SavedNames:
    """What one directions file holds: its direction names, and the sliders left out of it
    because they failed the shipping rule (name -> why)."""

    path: Path
    names: frozenset[str]
    withheld: dict[str, str] = field(default_factory=dict)


def directions_path(model: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Where ``model``'s directions live: ``<models dir>/directions/<model>.safetensors``."""
    if root is None:
        from ganpaint.core.paths import models_dir

        root = models_dir()
    return Path(root) / "directions" / f"{model}.safetensors"


def _read_header(path: Path) -> dict[str, object]:
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise ValueError("shorter than a safetensors header")
        size = int.from_bytes(head, "little")
        if not 0 < size <= _MAX_HEADER:
            raise ValueError(f"header of {size} bytes")
        raw = f.read(size)
    if len(raw) != size:
        raise ValueError("truncated header")
    header = json.loads(raw)
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    return header


def saved_direction_names(model: str, model_file: str | os.PathLike[str] = "") -> SavedNames | None:
    """The direction names of the file the tools would load for ``model`` (as
    ``directions.find_directions`` looks: the user's models folder, then beside
    ``model_file``). None when neither has a file; ValueError / OSError when the file
    found is not a readable directions file."""
    roots: list[Path | None] = [None]
    if model_file:
        roots.append(Path(model_file).parent)
    for root in roots:
        path = directions_path(model, root)
        if not path.is_file():
            continue
        header = _read_header(path)
        meta_raw = header.get("__metadata__", {})
        meta = json.loads(meta_raw.get(DIRECTIONS_KEY, "{}")) if isinstance(meta_raw, dict) else {}
        withheld = meta.get("withheld", {}) if isinstance(meta, dict) else {}
        names = frozenset(k for k in header if k != "__metadata__")
        return SavedNames(path, names, {str(k): str(v) for k, v in dict(withheld).items()})
    return None
