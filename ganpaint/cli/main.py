"""The command-line dispatcher: ``ganpaint [FILE]`` or ``ganpaint COMMAND ...``.

Sub-commands are modules of this package named in :data:`SUBCOMMANDS`; each exposes
``add_parser(subparsers) -> None`` (registering a parser under the module's name)
and ``run(args) -> int``. A module that is not there (yet) is skipped. Modules keep
their heavy imports inside ``run`` so building the parser stays cheap.

Exit codes: 0 success, 2 usage error, 1 failure with one line on stderr
(tracebacks only with --debug), 130 interrupted (Ctrl+C).

This package never imports Qt: the GUI is started by ``ganpaint.__main__``,
which passes a ``gui`` callable to :func:`main`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from types import ModuleType

from ganpaint._version import __version__
from ganpaint.cli.common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CliError,
    UsageError,
    add_common_options,
)

#: sub-command modules (ganpaint.cli.<name>), in the order ``--help`` lists them
SUBCOMMANDS: list[str] = ["run", "convert", "tools", "plugins", "models", "train", "data", "directions"]

GuiRunner = Callable[[str | None, argparse.Namespace], int]

_OPTIONS_WITH_VALUE = ("--device",)


class _Parser(argparse.ArgumentParser):
    """argparse that exits with status 2 and a one-line message on usage errors."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n(see '{self.prog} --help')\n")


def _load_subcommands(debug: bool = False) -> dict[str, ModuleType]:
    mods: dict[str, ModuleType] = {}
    for name in SUBCOMMANDS:
        modname = f"{__package__}.{name}"
        try:
            mods[name] = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name != modname:  # the module exists but something it imports is missing
                _warn_broken(name, exc, debug)
        except Exception as exc:  # a broken sub-command must not take the others down
            _warn_broken(name, exc, debug)
    return mods


def _warn_broken(name: str, exc: BaseException, debug: bool) -> None:
    print(f"ganpaint: the '{name}' command is unavailable: {type(exc).__name__}: {exc}", file=sys.stderr)
    if debug:
        traceback.print_exception(exc)


def build_parser(modules: dict[str, ModuleType] | None = None) -> argparse.ArgumentParser:
    """The full parser (sub-commands included): for --help and for dispatch."""
    parser = _Parser(
        prog="ganpaint",
        description="GANPaint: an image editor whose tools are GAN plugins. "
        "Without a command, opens the editor (on FILE if given).",
        usage="ganpaint [options] [FILE]\n       ganpaint [options] COMMAND [ARGS ...]",
    )
    parser.add_argument("--version", action="version", version=f"ganpaint {__version__}")
    add_common_options(parser, top=True)
    mods = _load_subcommands() if modules is None else modules
    if mods:
        sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, prog="ganpaint")
        for name, mod in list(mods.items()):
            try:
                mod.add_parser(sub)
            except Exception as exc:  # one broken command must not take the others down
                _warn_broken(name, exc, False)
                sub.choices.pop(name, None)
                del mods[name]
                continue
            p = sub.choices.get(name)
            if p is not None:
                add_common_options(p, top=False)
    return parser


def _gui_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ganpaint", usage="ganpaint [options] [FILE]")
    parser.add_argument("--version", action="version", version=f"ganpaint {__version__}")
    add_common_options(parser, top=True)
    parser.add_argument("file", nargs="?", metavar="FILE", help="a picture or .ora document to open")
    return parser


def _first_positional(argv: Sequence[str]) -> str | None:
    skip = False
    for i, tok in enumerate(argv):
        if skip:
            skip = False
            continue
        if tok == "--":
            return argv[i + 1] if i + 1 < len(argv) else None
        if tok.startswith("-") and tok != "-":
            if tok in _OPTIONS_WITH_VALUE:
                skip = True
            continue
        return tok
    return None


def main(argv: Sequence[str] | None = None, gui: GuiRunner | None = None) -> int:
    """Parse ``argv`` and run; returns the exit status (never raises SystemExit)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(args_list, gui)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_FAILURE)


def _main(argv: list[str], gui: GuiRunner | None) -> int:
    first = _first_positional(argv)
    head = argv if first is None else argv[: argv.index(first)]
    wants_help = any(t in ("-h", "--help") for t in head)
    if first in SUBCOMMANDS or wants_help:
        debug = "--debug" in argv
        mods = _load_subcommands(debug)
        if first is not None and first not in mods and not wants_help:
            print(f"ganpaint: error: the '{first}' command is not available in this installation",
                  file=sys.stderr)
            return EXIT_USAGE
        parser = build_parser(mods)
        args = parser.parse_args(argv)
        _setup_logging(args.debug)
        return _dispatch(mods[args.command], args)
    # The editor: ``ganpaint [options] [FILE]``. --version is answered here without
    # importing any sub-command, plugin, torch or Qt.
    args = _gui_parser().parse_args(argv)
    if args.file is not None and _looks_like_command(args.file):
        print(f"ganpaint: error: unknown command '{args.file}' (commands: {', '.join(SUBCOMMANDS)}; "
              "or give a picture to open)", file=sys.stderr)
        return EXIT_USAGE
    _setup_logging(args.debug)
    if gui is None:
        print("ganpaint: error: the editor is not available from here; use 'python -m ganpaint'",
              file=sys.stderr)
        return EXIT_FAILURE
    return _dispatch_gui(gui, args)


def _looks_like_command(token: str) -> bool:
    """A bare word that is not a file: a mistyped command rather than a picture."""
    import os

    return not os.path.exists(token) and "." not in token and "/" not in token and os.sep not in token


def _setup_logging(debug: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="ganpaint: %(levelname)s: %(name)s: %(message)s",
    )


def _check_common(args: argparse.Namespace) -> None:
    from ganpaint.engine.inference.devices import DeviceError, check_device_name

    try:
        check_device_name(getattr(args, "device", None))
    except DeviceError as exc:
        raise UsageError(str(exc)) from None


def _dispatch(module: ModuleType, args: argparse.Namespace) -> int:
    def call() -> int:
        _check_common(args)
        return int(module.run(args))

    return _guarded(call, args)


def _dispatch_gui(gui: GuiRunner, args: argparse.Namespace) -> int:
    def call() -> int:
        from ganpaint.cli.common import check_named_device

        _check_common(args)
        # `ganpaint --device cuda photo.jpg` on a machine without CUDA: the host says so now,
        # instead of the first GAN tool failing in the plugin's name
        check_named_device(getattr(args, "device", None))
        return int(gui(args.file, args))

    return _guarded(call, args)


def _guarded(call: Callable[[], int], args: argparse.Namespace) -> int:
    """Turn every failure into an exit status and (unless --debug) one line."""
    debug = bool(getattr(args, "debug", False))
    try:
        return call()
    except KeyboardInterrupt:
        print("ganpaint: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except CliError as exc:
        if debug:
            traceback.print_exc()
        print(f"ganpaint: error: {exc}", file=sys.stderr)
        return exc.code
    except Exception as exc:
        if debug:
            traceback.print_exc()
        from ganpaint.core.errors import GanpaintError

        if isinstance(exc, GanpaintError):  # names the file: a user-level failure
            print(f"ganpaint: error: {_one_line(str(exc))}", file=sys.stderr)
        else:
            hint = "" if debug else " (run with --debug for the traceback)"
            print(f"ganpaint: error: {type(exc).__name__}: {_one_line(str(exc))}{hint}", file=sys.stderr)
        return EXIT_FAILURE


def _one_line(text: str) -> str:
    from ganpaint.cli.messages import for_cli

    return " ".join(for_cli(text).split())
