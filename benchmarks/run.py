"""Run every ``benchmarks/bench_*.py`` and print one table.

Each module exposes ``run() -> list[dict]`` with keys name, value, unit, target, note
(value: a median measured in this run). ``--only NAME`` runs the modules whose name
contains NAME (``--only engine`` runs bench_engine.py). A module that fails to import
or run gets an error row; the runner still exits 0 (benchmarks never gate the build).

    python benchmarks/run.py [--only NAME]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COLUMNS = ("benchmark", "value", "unit", "target", "note")


def discover(only: str | None = None) -> list[Path]:
    files = sorted(HERE.glob("bench_*.py"))
    if only:
        files = [f for f in files if only.lower() in f.stem.lower()]
    return files


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"ganpaint_bench_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _fmt_value(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN: not measured
            return "-"
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return "-" if value is None else str(value)


def run_all(files: list[Path]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in files:
        t0 = time.perf_counter()
        try:
            got = _load(path).run()
            for row in got:
                rows.append({"module": path.stem, **row})
        except Exception as exc:  # one broken benchmark must not hide the others
            traceback.print_exc(file=sys.stderr)
            rows.append({"module": path.stem, "name": f"{path.stem} FAILED", "value": None, "unit": "",
                         "target": "", "note": f"{type(exc).__name__}: {exc}"})
        print(f"[{path.stem}: {time.perf_counter() - t0:.1f} s]", file=sys.stderr)
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    cells = [list(COLUMNS)]
    for r in rows:
        cells.append([str(r.get("name", "")), _fmt_value(r.get("value")), str(r.get("unit", "")),
                      str(r.get("target", "") or ""), str(r.get("note", "") or "")])
    widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
    lines = []
    for n, c in enumerate(cells):
        parts = [c[0].ljust(widths[0]), c[1].rjust(widths[1]), c[2].ljust(widths[2]),
                 c[3].ljust(widths[3]), c[4]]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", metavar="NAME", help="run only bench modules whose name contains NAME")
    args = parser.parse_args(argv)
    # OMP_WAIT_POLICY etc. must be set before any bench module imports torch
    from ganpaint.engine.inference.devices import prepare_torch_env

    prepare_torch_env()
    files = discover(args.only)
    if not files:
        print(f"no benchmark matches {args.only!r}", file=sys.stderr)
        return 0
    print(format_table(run_all(files)))
    if "PySide6" in sys.modules:
        # The GUI benchmark leaves a QApplication behind; PySide6 6.12 can abort while the
        # interpreter finalises its objects ("bool_dealloc"). The table is printed: leave
        # without running finalisers.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
