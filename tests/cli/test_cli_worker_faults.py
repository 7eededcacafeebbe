"""``ganpaint run`` with tools that hang, crash or eat memory (issue 12, point 1): the tool runs in
a worker process, so Ctrl+C ends a tool that never reports progress within a second, and a crash or
an allocation beyond the limit is one line naming the plugin and the tool; nothing is written."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .conftest import plugin_env

PLUGIN = textwrap.dedent('''
    import ctypes, time
    import numpy as np
    from ganpaint import ParamSpec, ToolResult, ToolSpec, hookimpl

    GANPAINT_API_VERSION = 1
    M = __name__

    @hookimpl
    def ganpaint_register_tools():
        return [ToolSpec(id="hang", title="Hang", run=f"{M}:hang", params=(ParamSpec("marker", "string"),)),
                ToolSpec(id="segv", title="Segv", run=f"{M}:segv"),
                ToolSpec(id="hog", title="Hog", run=f"{M}:hog")]

    def hang(request, ctx):
        open(request.params["marker"], "w").close()
        while True:  # never calls ctx.progress
            time.sleep(0.05)

    def segv(request, ctx):
        ctypes.string_at(0)

    def hog(request, ctx):
        block = np.ones(1 << 30, np.uint8)
        time.sleep(30)
        return ToolResult(request.image + block[:1])
''')


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return plugin_env(tmp_path, "gp_cli_worker_faults", PLUGIN, GANPAINT_WORKER_MEMORY_MB="512")


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    path = tmp_path / "in.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (10, 16, 3), np.uint8)).save(path)
    return path


def test_ctrl_c_ends_a_hung_tool_within_a_second(env, picture, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    marker, out = tmp_path / "started", tmp_path / "o.png"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganpaint", "run", "hang", str(picture), "-o", str(out), "--set", f"marker={marker}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the tool never started"
            time.sleep(0.05)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "nothing was written" in err and "Traceback" not in err
    assert took < 3.0, f"Ctrl+C took {took:.2f} s"  # was 30 s before tools ran in workers
    assert not out.exists()
    print(f"Ctrl+C on a hung tool: the command ended {took:.2f} s later")


@pytest.mark.parametrize(("tool", "words"), [("segv", "crashed (signal SIGSEGV)"),
                                             ("hog", "used more than 512 MB of memory")])
def test_a_crash_or_memory_hog_is_one_line_naming_the_plugin(env, picture, tmp_path: Path, tool: str,
                                                            words: str) -> None:
    out = tmp_path / "o.png"
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "ganpaint", "run", tool, str(picture), "-o", str(out)],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    errors = [line for line in r.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and f"plugin 'gp_cli_worker_faults', tool '{tool}' {words}" in errors[0], r.stderr
    assert "Traceback" not in r.stderr and not out.exists()
    print(f"{tool}: '{errors[0].strip()}' after {time.monotonic() - t0:.2f} s (the whole command)")
