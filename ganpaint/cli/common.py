"""Shared pieces of the sub-commands: errors with exit codes, the plugin host,
pictures and documents in and out, and a progress bar."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ganpaint.core.document import Document
    from ganpaint.plugins.manager import PluginManager

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

ORA_SUFFIX = ".ora"


class CliError(Exception):
    """A failure reported as one line on stderr; ``code`` is the exit status."""

    code = EXIT_FAILURE

    def __init__(self, message: str, code: int | None = None) -> None:
        from ganpaint.cli.messages import for_cli  # tools' words for the editor -> --mask

        super().__init__(" ".join(for_cli(str(message)).split()))
        if code is not None:
            self.code = code


class UsageError(CliError):
    """Bad command line (unknown tool, bad parameter value ...): exit status 2."""

    code = EXIT_USAGE


class Interrupted(CliError):
    """Ctrl+C: the job was cancelled and nothing was written."""

    code = EXIT_INTERRUPTED


def add_common_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Options accepted both before and after a sub-command. On sub-parsers the
    defaults are suppressed so a value given before the sub-command survives."""
    default: Any = None if top else argparse.SUPPRESS
    flag_default: Any = False if top else argparse.SUPPRESS
    parser.add_argument("--debug", action="store_true", default=flag_default,
                        help="show tracebacks and debug logging")
    parser.add_argument("--safe-mode", action="store_true", default=flag_default,
                        help="load built-in plugins only")
    parser.add_argument("--device", default=default, metavar="D",
                        help="auto (default), cpu, cuda, cuda:N or mps")


def check_named_device(option: str | None) -> str | None:
    """A device asked for by name (``--device cuda``, ``cuda:N``, ``mps``; else
    ``$GANPAINT_DEVICE``), resolved now, before any tool runs; None for ``auto``/``cpu`` (no
    torch import then). A machine without that device is a CliError in one sentence from the
    host, not a failure of the first plugin whose tool reads ``ctx.device``."""
    from ganpaint.engine.inference.devices import DeviceError, explicit_device, pick_device

    try:
        name = explicit_device(option)
    except DeviceError as exc:  # an unknown name
        raise UsageError(str(exc)) from None
    if name is None:
        return None
    try:
        return pick_device(name)
    except DeviceError as exc:
        where = f"--device {option}" if option else f"GANPAINT_DEVICE={name}"
        raise CliError(f"{where}: {exc}; use --device auto or --device cpu") from None


# --------------------------------------------------------------------------- plugins


def plugin_manager(args: argparse.Namespace, *, warn: bool = True, reprobe: bool = False) -> PluginManager:
    """A loaded plugin host honouring --safe-mode (and GANPAINT_DISABLE_PLUGINS).

    Plugins that hung or crashed while loading (ganpaint.plugins.probe) are skipped; with
    ``warn`` one line on stderr names them (and, in safe mode, those that did last time).
    ``reprobe`` loads even unchanged plugins in the probe process again."""
    from ganpaint.plugins.manager import PluginManager

    pm = PluginManager(safe_mode=bool(getattr(args, "safe_mode", False)))
    pm.load(use_cached_probe=not reprobe)
    if warn:
        warn_unloaded_plugins(pm)
    return pm


def warn_unloaded_plugins(pm: PluginManager) -> None:
    """One stderr line for plugins that hung or crashed while loading (the probe's verdicts),
    naming them and how to leave them off; nothing when there are none."""
    from ganpaint.plugins.report import startup_problems

    hung = [r for r in pm.records() if r.status == "not responding"
            or (r.status == "failed" and "crashed while loading" in r.error)
            or (r.status == "disabled" and "when last tried: " in r.error)]
    text = startup_problems(hung, safe_mode=pm.safe_mode, frontend="cli") if hung else ""
    if text:
        sys.stderr.write(f"ganpaint: warning: {text}\n")


# --------------------------------------------------------------------------- files


def is_ora(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() == ORA_SUFFIX


def supported_input(path: Path) -> bool:
    from ganpaint.core.imageio import SUPPORTED_READ

    return path.suffix.lower() in SUPPORTED_READ or path.suffix.lower() == ORA_SUFFIX


def check_output_type(path: str | os.PathLike[str]) -> None:
    """Refuse an output name we cannot write before doing any work."""
    from ganpaint.core.imageio import SUPPORTED_WRITE, format_for_path

    if is_ora(path) or format_for_path(path) is not None:
        return
    ext = Path(path).suffix or "(none)"
    raise UsageError(
        f"cannot write '{os.fspath(path)}': unknown picture type '{ext}' "
        f"(use .ora or one of {', '.join(SUPPORTED_WRITE)})"
    )


def read_picture(path: str | os.PathLike[str]) -> tuple[np.ndarray, bytes | None]:
    """(h, w, 4) uint8 RGBA of a picture, or of an .ora document flattened, and its
    colour profile. Truncated files are refused on the command line."""
    name = os.fspath(path)
    if not os.path.exists(name):
        raise CliError(f"cannot read '{name}': no such file")
    if os.path.isdir(name):
        raise CliError(f"cannot read '{name}': it is a folder")
    if is_ora(name):
        doc = read_document(name)
        return doc.composite(), None
    from ganpaint.core.imageio import read_image

    with _reading(name):
        loaded = read_image(name, max_pixels=max_pixels())
    return loaded.pixels, loaded.icc_profile


def read_document(path: str | os.PathLike[str]) -> Document:
    """An .ora document, within the settings' picture limit and document budget."""
    from ganpaint.core.ora import load_ora

    with _reading(os.fspath(path)):
        return load_ora(path, max_pixels=max_pixels(), max_document_pixels=max_document_pixels())


@contextlib.contextmanager
def _reading(name: str) -> Iterator[None]:
    """GANPaint's own errors pass as they are (they name the file); anything else a damaged
    or hostile file provokes becomes one line naming the file, not a bare exception name."""
    from ganpaint.core.errors import GanpaintError

    try:
        yield
    except (GanpaintError, CliError, KeyboardInterrupt):
        raise
    except MemoryError:
        raise CliError(f"cannot read '{name}': not enough memory") from None
    except Exception as exc:
        raise CliError(f"cannot read '{name}': {type(exc).__name__}: {exc}") from None


def write_document(doc: Document, path: str | os.PathLike[str]) -> None:
    """Atomic .ora write (a failure leaves an existing file intact)."""
    from ganpaint.core.ora import save_ora

    save_ora(doc, path)


def write_picture(path: str | os.PathLike[str], rgba: np.ndarray, icc: bytes | None = None) -> list[str]:
    """Atomic picture write, or a one-layer .ora for an .ora name."""
    if is_ora(path):
        from ganpaint.core.document import Document

        doc = Document(int(rgba.shape[1]), int(rgba.shape[0]))
        doc.add_layer(name=Path(path).stem, pixels=rgba)
        if icc:
            doc.icc_profile = icc
        write_document(doc, path)
        return []
    from ganpaint.core.imageio import write_image

    return write_image(path, rgba, icc_profile=icc)


def max_pixels() -> int | None:
    """The picture-size limit: ``$GANPAINT_MAX_PIXELS`` or the settings' value."""
    env = os.environ.get("GANPAINT_MAX_PIXELS", "").strip()
    if env.isdigit():
        return int(env)
    try:
        from ganpaint.core.settings import Settings

        return int(Settings.load().max_pixels)
    except Exception:  # an unreadable settings file must not stop the command line
        return None


def max_document_pixels() -> int | None:
    """The document budget of .ora files: ``$GANPAINT_MAX_DOCUMENT_PIXELS`` or the settings' value."""
    env = os.environ.get("GANPAINT_MAX_DOCUMENT_PIXELS", "").strip()
    if env.isdigit():
        return int(env)
    try:
        from ganpaint.core.settings import Settings

        return int(Settings.load().max_document_pixels)
    except Exception:  # an unreadable settings file must not stop the command line
        return None


def note(message: str) -> None:
    print(f"ganpaint: {message}", file=sys.stderr)


# --------------------------------------------------------------------------- progress


class ProgressBar:
    """A tqdm bar on stderr: overall progress over ``total`` items, each item
    reporting its own fraction in [0, 1]; the tool's message shows in the label."""

    def __init__(self, total: int, desc: str, enabled: bool = True) -> None:
        from tqdm import tqdm

        self._desc = desc
        self._item = ""
        self._total = total
        self._bar = tqdm(
            total=float(total), desc=desc, file=sys.stderr, disable=not enabled, leave=True,
            dynamic_ncols=True, bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]",
        )
        self._base = 0.0

    def _label(self, message: str = "") -> str:
        count = f"{min(int(self._base) + 1, self._total)}/{self._total}" if self._total > 1 else ""
        return " ".join(p for p in (self._desc, count, self._item, message) if p)

    def set_item(self, index: int, label: str = "") -> None:
        self._base = float(index)
        self._item = label
        self._bar.n = self._base
        self._bar.set_description_str(self._label(), refresh=False)
        self._bar.refresh()

    def update(self, fraction: float, message: str = "") -> None:
        self._bar.n = self._base + min(max(float(fraction), 0.0), 1.0)
        self._bar.set_description_str(self._label(message), refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()
