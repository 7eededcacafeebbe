"""``ganpaint`` / ``python -m ganpaint``: the editor by default, sub-commands for headless work.

The OpenMP environment is prepared first, before anything can import torch
(see ganpaint.engine.inference.devices). The GUI package is imported only when the editor
is actually opened, so ``ganpaint --version`` and the sub-commands never load Qt.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _run_gui(path: str | None, args: argparse.Namespace) -> int:
    from ganpaint.qt.app import run_gui

    return int(run_gui(path, args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ganpaint`` script; returns the exit status."""
    import multiprocessing

    # a frozen build starts its tool worker processes (spawn) through this executable: they
    # run here and exit instead of opening the editor (a no-op when not frozen)
    multiprocessing.freeze_support()
    args = list(sys.argv[1:] if argv is None else argv)
    # a frozen build's shift-map child (ganpaint/core/opencv_fill.py): numpy and OpenCV only,
    # answered before torch is imported
    if args[:1] == ["--opencv-fill-child"]:
        from ganpaint.core.opencv_fill import child_main

        return child_main()
    from ganpaint.engine.inference.devices import prepare_torch_env

    prepare_torch_env()
    if args[:1] == ["--plugin-probe-child"]:  # a frozen build's plugin probe (ganpaint/plugins/probe.py)
        from ganpaint.plugins.probe_child import main as probe_main

        return probe_main()
    if args[:1] == ["--smoke-test"]:  # installers' self-test: ganpaint --smoke-test [DIR] (ganpaint/smoke.py)
        from ganpaint.smoke import run as smoke_run

        rest = [a for a in args[1:] if a != "--write-reference"]  # --write-reference: smoke_reference.json
        return smoke_run(rest[0] if rest else None, write_reference="--write-reference" in args)
    if args[:1] == ["--run-python"] and len(args) > 1:
        # ganpaint --run-python SCRIPT [ARGS]: SCRIPT as __main__ in this interpreter; for the frozen
        # bundle, where it is the way to run a check with the bundle's own Python, Qt and torch
        # (packaging/smoke_frozen.sh runs tests/qt/long_session_driver.py so)
        import runpy

        sys.argv = args[1:]
        runpy.run_path(args[1], run_name="__main__")
        return 0
    from ganpaint.cli.main import main as cli_main

    return cli_main(argv, gui=_run_gui)


if __name__ == "__main__":
    sys.exit(main())
