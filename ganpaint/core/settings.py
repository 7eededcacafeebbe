"""User preferences, persisted as JSON in ``paths.config_dir()/settings.json``.

Loading never fails: a missing file gives the defaults; a corrupt file, or a value of the
wrong type or out of range, gives the default for what is wrong plus a line in ``notes``
(the GUI shows them once). Keys this version does not know are kept in ``extra`` and
written back, so an older GANPaint does not erase a newer one's preferences; the GUI may
keep its own small values there too (window layout, last folders).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ganpaint.core import paths
from ganpaint.core.atomic import atomic_write_text
from ganpaint.core.errors import ImageWriteError, describe_os_error

__all__ = ["MAX_RECENT", "Settings", "settings_path"]

MAX_RECENT = 10
_CHOICES: dict[str, tuple[str, ...]] = {
    "theme": ("light", "dark"),
    "device": ("auto", "cpu", "cuda", "mps"),
    "precision": ("full", "fast"),
}
# name -> (smallest, largest) accepted
_RANGES: dict[str, tuple[float, float]] = {
    "history_limit_mb": (16, 1 << 20),
    "max_pixels": (1, 1 << 40),
    "max_document_pixels": (1, 1 << 42),
    "inference_memory_mb": (0, 1 << 24),
    "autosave_interval_s": (0, 24 * 3600),  # 0 turns autosave off
    "plugin_load_timeout_s": (0.1, 3600),
}


def settings_path() -> Path:
    return paths.config_dir() / "settings.json"


@dataclass
class Settings:
    theme: str = "light"  #: light | dark
    history_limit_mb: int = 512  #: undo memory bound
    max_pixels: int = 250_000_000  #: refuse pictures declaring more pixels (decompression bombs)
    #: one document's total budget, checked before decoding: canvas + every layer + every result's
    #: "before" picture, in pixels, + attachments at 4 bytes a pixel (1 gigapixel ~ 4 GB of RGBA);
    #: an .ora beyond it is refused (ganpaint.core.ora.DEFAULT_MAX_DOCUMENT_PIXELS)
    max_document_pixels: int = 1_000_000_000
    device: str = "auto"  #: auto | cpu | cuda | mps (``--device`` overrides)
    precision: str = "full"  #: full (float32) | fast (half precision where the device allows)
    recent_files: list[str] = field(default_factory=list)  #: most recent first, at most 10
    disabled_plugins: list[str] = field(default_factory=list)
    inference_memory_mb: int = 0  #: memory budget for model work; 0 = choose automatically
    autosave_interval_s: int = 60  #: seconds of changes between autosaves; 0 = off
    #: seconds one plugin may take to load (in the probe process, ganpaint.plugins.probe) before it
    #: is marked "not responding" and skipped; $GANPAINT_PLUGIN_TIMEOUT overrides it
    plugin_load_timeout_s: float = 10.0
    extra: dict[str, Any] = field(default_factory=dict)  #: unknown keys, kept as they were
    notes: list[str] = field(default_factory=list, compare=False, repr=False)  #: load problems (not saved)

    # -- persistence -------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> Settings:
        """Read the settings; never raises (problems become defaults plus ``notes``)."""
        target = Path(path) if path is not None else settings_path()
        try:
            text = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeDecodeError) as exc:
            reason = describe_os_error(exc) if isinstance(exc, OSError) else "not UTF-8 text"
            return cls(notes=[f"Could not read the settings file '{target}' ({reason}); using the defaults."])
        try:
            data = json.loads(text)
        except ValueError as exc:
            return cls(notes=[f"The settings file '{target}' is damaged ({exc}); using the defaults."])
        if not isinstance(data, dict):
            return cls(notes=[f"The settings file '{target}' does not hold settings; using the defaults."])
        return cls.from_dict(data, source=str(target))

    def save(self, path: str | os.PathLike[str] | None = None) -> None:
        """Write the settings atomically; raises ImageWriteError naming the file on failure."""
        target = Path(path) if path is not None else settings_path()
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
        try:
            atomic_write_text(target, text)
        except OSError as exc:
            reason = describe_os_error(exc)
            raise ImageWriteError(f"Cannot save settings to '{target}': {reason}.", path=target, reason=reason) from None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        for f in fields(self):
            if f.name not in ("extra", "notes"):
                value = getattr(self, f.name)
                out[f.name] = list(value) if isinstance(value, list) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "settings") -> Settings:
        defaults = cls()
        known = {f.name for f in fields(cls)} - {"extra", "notes"}
        settings = cls(extra={k: v for k, v in data.items() if k not in known})
        for name in known:
            if name not in data:
                continue
            value, problem = _validate(name, data[name], getattr(defaults, name))
            setattr(settings, name, value)
            if problem:
                settings.notes.append(f"{source}: '{name}' {problem}; using {value!r}.")
        return settings

    # -- helpers -----------------------------------------------------------------------------
    def add_recent(self, path: str | os.PathLike[str]) -> None:
        """Put ``path`` first in the recent files (absolute, no duplicates, at most 10)."""
        p = os.path.abspath(os.fspath(path))
        key = os.path.normcase(p)
        rest = [r for r in self.recent_files if os.path.normcase(r) != key]
        self.recent_files = [p, *rest][:MAX_RECENT]

    def remove_recent(self, path: str | os.PathLike[str]) -> None:
        key = os.path.normcase(os.path.abspath(os.fspath(path)))
        self.recent_files = [r for r in self.recent_files if os.path.normcase(r) != key]

    def set_plugin_enabled(self, name: str, enabled: bool) -> None:
        rest = [n for n in self.disabled_plugins if n != name]
        self.disabled_plugins = rest if enabled else [*rest, name]


def _validate(name: str, value: Any, default: Any) -> tuple[Any, str]:
    """(accepted value, problem or '')."""
    if name in _CHOICES:
        if isinstance(value, str) and value.lower() in _CHOICES[name]:
            return value.lower(), ""
        return default, f"must be one of {', '.join(_CHOICES[name])}, not {value!r}"
    if name in _RANGES:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            return default, f"must be a number, not {value!r}"
        lo, hi = _RANGES[name]
        if not lo <= value <= hi:
            return default, f"must be between {lo:g} and {hi:g}, not {value!r}"
        return (float(value) if isinstance(default, float) else int(value)), ""
    if name in ("recent_files", "disabled_plugins"):
        if not isinstance(value, list):
            return default, f"must be a list, not {value!r}"
        items: list[str] = []
        for item in value:
            if isinstance(item, str) and item and item not in items:
                items.append(item)
        if name == "recent_files":
            items = items[:MAX_RECENT]
        dropped = len(value) - len(items)
        return items, (f"had {dropped} unusable or repeated entries" if dropped and name != "recent_files" else "")
    return value, ""  # pragma: no cover - every field is covered above
