"""``ganpaint plugins``: every plugin seen, its tools and its load errors."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ganpaint.cli.common import EXIT_OK, plugin_manager


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "plugins",
        help="list plugins, their tools and load errors",
        description="List every plugin found (entry points, the user's plugin folders), "
        "its status, tools and any error; built-ins are marked '*'. "
        "--safe-mode shows what safe mode loads.",
    )
    p.add_argument("--traceback", action="store_true", help="also print the tracebacks of failed plugins")


def run(args: argparse.Namespace) -> int:
    from ganpaint.plugins.report import format_plugin_table

    pm = plugin_manager(args)
    tracebacks = bool(getattr(args, "traceback", False) or getattr(args, "debug", False))
    sys.stdout.write(format_plugin_table(pm.records(), tracebacks=tracebacks).rstrip("\n") + "\n")
    return EXIT_OK
