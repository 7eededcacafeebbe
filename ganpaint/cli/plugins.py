"""``ganpaint plugins``: every plugin seen, its tools and its load errors;
``ganpaint plugins install FILE`` / ``uninstall NAME``: a wheel or single-file plugin in the
user data folder, without pip (``ganpaint.plugins.install``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ganpaint.cli.common import EXIT_OK, CliError, plugin_manager


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "plugins",
        help="list plugins, their tools and load errors",
        description="List every plugin found (entry points, the user's plugin folders), "
        "its status, tools and any error; built-ins are marked '*'. "
        "--safe-mode shows what safe mode loads.",
    )
    p.add_argument("--traceback", action="store_true", help="also print the tracebacks of failed plugins")
    p.add_argument("--reprobe", action="store_true",
                   help="load every plugin in the probe process again, even unchanged ones (plugins that "
                   "hang or crash while loading are marked 'not responding' or 'failed')")
    actions = p.add_subparsers(dest="plugins_action", metavar="ACTION")
    inst = actions.add_parser(
        "install",
        help="install (or update) a plugin from a wheel or a single .py file",
        description="Install a plugin without pip: a .py is copied into the user data folder's "
        "plugins/, a wheel is unpacked into its plugin-packages/. A plugin already installed is "
        "replaced (an update). Wheels for another platform, or needing a library GANPaint does "
        "not include, are refused.",
    )
    inst.add_argument("file", metavar="FILE", help="a .whl or .py file")
    uninst = actions.add_parser(
        "uninstall",
        help="remove a plugin installed with 'ganpaint plugins install'",
        description="Remove a plugin from the user data folder: its distribution name (for a "
        "wheel), its file name without .py, or a plugin name it provides.",
    )
    uninst.add_argument("name", metavar="NAME", help="the plugin to remove")


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "plugins_action", None)
    if action in ("install", "uninstall"):
        return _install_or_uninstall(action, args)
    from ganpaint.plugins.report import format_plugin_table

    pm = plugin_manager(args, warn=False, reprobe=bool(getattr(args, "reprobe", False)))
    tracebacks = bool(getattr(args, "traceback", False) or getattr(args, "debug", False))
    sys.stdout.write(format_plugin_table(pm.records(), tracebacks=tracebacks).rstrip("\n") + "\n")
    return EXIT_OK


def _install_or_uninstall(action: str, args: argparse.Namespace) -> int:
    from ganpaint.plugins.install import InstallError, install, uninstall

    try:
        if action == "install":
            result = install(args.file)
            p = result.plugin
            where = p.path.parent if p.kind == "wheel" else p.path
            licence = f"; licence: {p.licence}" if p.licence else ""
            sys.stdout.write(f"{result.summary()} Plugin(s): {', '.join(p.plugins)}; in {where}{licence}\n")
        else:
            p = uninstall(args.name)
            sys.stdout.write(f"Removed {p.name} {p.version}".rstrip() + f" from {p.path.parent}\n")
    except InstallError as exc:
        raise CliError(str(exc)) from None
    return EXIT_OK
