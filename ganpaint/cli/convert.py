"""``ganpaint convert INPUT OUTPUT``: between every supported format; .ora is flattened."""

from __future__ import annotations

import argparse
from typing import Any

from ganpaint.cli.common import EXIT_OK, check_output_type, note, read_picture, write_picture


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "convert",
        help="convert a picture or .ora document to another format",
        description="Read INPUT (any supported picture or an .ora document, flattened) and write "
        "OUTPUT in the format its extension names (.ora writes a one-layer document).",
    )
    p.add_argument("input", metavar="INPUT")
    p.add_argument("output", metavar="OUTPUT")


def run(args: argparse.Namespace) -> int:
    check_output_type(args.output)
    rgba, icc = read_picture(args.input)
    for n in write_picture(args.output, rgba, icc):
        note(f"{args.output}: {n}")
    return EXIT_OK
