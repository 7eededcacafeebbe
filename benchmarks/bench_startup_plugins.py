"""Start-up with plugins (issue 12, point 2): process start to window shown (``gui``), importing the
plugin host and ``PluginManager().load()`` (``load``), ``ganpaint plugins`` and ``ganpaint run invert``
on a 64x48 picture (``run``), each in a fresh interpreter, for three plugin sets:

* ``builtins``: the built-in plugins only (never probed);
* ``third``: plus one well-behaved single-file plugin (probed: ``first`` run with an empty probe
  cache, ``cached`` runs after it);
* ``hang``: plus a plugin whose import sleeps 1000 s (the limit at its default, 10 s).

``--src DIR`` runs another checkout's ``ganpaint`` package (put first on PYTHONPATH), for the
figures before the change; repeat it (``--src installed --src DIR``) and the runs alternate. Prints one line per case: median and all wall times in seconds.
A case that does not finish within ``--limit`` seconds reads "> LIMIT" (the editor or the
command hung).

    python benchmarks/bench_startup_plugins.py [--src installed --src DIR] [--runs 5] [--cases gui,plugins,run]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOOD = '''
from ganpaint import ToolSpec, ToolResult, hookimpl
GANPAINT_API_VERSION = 1

@hookimpl
def ganpaint_register_tools():
    return [ToolSpec(id="bench-third", title="Third", run="bench_third:run")]

def run(request, ctx):
    return ToolResult(image=request.image)
'''
HANG = "import time\ntime.sleep(1000)\n"

GUI_CODE = (
    "from ganpaint.smoke import _since_process_start\n"
    "from ganpaint.qt.app import create_window\n"
    "import inspect\n"
    "kw = {'wait_for_plugins': False} if 'wait_for_plugins' in inspect.signature(create_window).parameters else {}\n"
    "app, win = create_window(None, None, **kw)\n"
    "win.show(); app.processEvents()\n"
    "print('SHOWN', _since_process_start(), flush=True)\n"
    "win.controller.document.history.mark_clean(); win.close()\n"
    "import os; os._exit(0)\n"
)

LOAD_CODE = (
    "import time\n"
    "t = time.perf_counter()\n"
    "from ganpaint.plugins.manager import PluginManager\n"
    "PluginManager().load()\n"
    "print('LOAD', time.perf_counter() - t, flush=True)\n"
)


def _env(data: Path, src: str | None) -> dict[str, str]:
    env = {**os.environ, "GANPAINT_DATA_DIR": str(data), "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1"}
    env.pop("GANPAINT_PLUGIN_TIMEOUT", None)
    if src:  # the children run in ``data``, not in a checkout, so SRC's ganpaint is the one found
        env["PYTHONPATH"] = os.pathsep.join([str(Path(src).resolve()), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _one(case: str, data: Path, src: str | None, picture: Path, limit: float) -> float | None:
    if case == "gui":
        cmd = [sys.executable, "-c", GUI_CODE]
    elif case == "load":
        cmd = [sys.executable, "-c", LOAD_CODE]
    elif case == "plugins":
        cmd = [sys.executable, "-m", "ganpaint", "plugins"]
    else:
        cmd = [sys.executable, "-m", "ganpaint", "run", "invert", str(picture), "-o", str(data / "out.png")]
    start = time.monotonic()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, env=_env(data, src), cwd=data)
    except subprocess.TimeoutExpired:
        return None
    took = time.monotonic() - start
    if case in ("gui", "load"):
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith(("SHOWN", "LOAD"))), "")
        return float(line.split()[1]) if line else None
    return took if out.returncode == 0 else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", action="append", default=[],
                    help="a checkout's folder holding the ganpaint package to time (repeat to compare, runs "
                    "alternate between them; 'installed' is the installed one, the default)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cases", default="gui,load,plugins,run")
    ap.add_argument("--sets", default="builtins,third,hang")
    ap.add_argument("--limit", type=float, default=40.0, help="seconds before a run counts as hung")
    args = ap.parse_args()
    from PIL import Image

    sources = [None if s in ("", "installed") else s for s in (args.src or ["installed"])]
    root = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    picture = root / "in.png"
    Image.new("RGB", (64, 48), (200, 100, 50)).save(picture)
    for src in sources:
        where = subprocess.run([sys.executable, "-c", "import ganpaint; print(ganpaint.__file__)"],
                               capture_output=True, text=True, env=_env(root, src), cwd=root).stdout.strip()
        print(f"ganpaint from {where}", flush=True)
    try:
        for plugin_set in args.sets.split(","):
            for case in args.cases.split(","):
                times: dict[int, list[float | None]] = {i: [] for i in range(len(sources))}
                datas = []
                for i in range(len(sources)):
                    data = root / f"{plugin_set}-{case}-{i}"
                    (data / "plugins").mkdir(parents=True)
                    if plugin_set in ("third", "hang"):
                        (data / "plugins" / "bench_third.py").write_text(GOOD)
                    if plugin_set == "hang":
                        (data / "plugins" / "bench_hang.py").write_text(HANG)
                    datas.append(data)
                for _ in range(args.runs):
                    for i, src in enumerate(sources):
                        times[i].append(_one(case, datas[i], src, picture, args.limit))
                for i, src in enumerate(sources):
                    got = times[i]
                    shown = [f"> {args.limit:g}" if t is None else f"{t:.2f}" for t in got]
                    done = [t for t in got if t is not None]
                    med = f"{statistics.median(done):.2f}" if len(done) == len(got) else f"> {args.limit:g}"
                    label = src or "installed"
                    print(f"{label:14.14s} {plugin_set:9s} {case:8s} median {med} s "
                          f"(first {shown[0]}, then {', '.join(shown[1:])})", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
