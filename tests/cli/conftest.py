"""Fixtures for the command-line tests: an isolated data folder with a single-file
plugin of misbehaving tools, sample pictures, and helpers to run ``ganpaint``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

PLUGIN_NAME = "gp_cli_faults"

PLUGIN_SOURCE = textwrap.dedent(
    '''
    """Test plugin: tools that fail in every way a plugin can."""
    import os
    import time

    import numpy as np

    from ganpaint import ParamSpec, ToolError, ToolResult, ToolSpec, hookimpl

    GANPAINT_API_VERSION = 1
    M = __name__


    @hookimpl
    def ganpaint_register_tools():
        return [
            ToolSpec(id="crash", title="Crash", run=f"{M}:crash"),
            ToolSpec(id="refuse", title="Refuse", run=f"{M}:refuse"),
            ToolSpec(id="nan", title="NaN", run=f"{M}:nan"),
            ToolSpec(id="slow", title="Slow", run=f"{M}:slow",
                     params=(ParamSpec("marker", "string"),)),
            ToolSpec(id="brokenimport", title="Broken", run="gp_cli_broken_runtime:run"),
            ToolSpec(id="generate", title="Generate", run=f"{M}:generate", inputs=()),
            ToolSpec(id="modelled", title="Modelled", run=f"{M}:modelled",
                     params=(ParamSpec("model", "model"),)),
        ]


    def crash(request, ctx):
        raise RuntimeError("the plugin fell over")


    def refuse(request, ctx):
        raise ToolError("this picture is too small for the tool")


    def nan(request, ctx):
        return ToolResult(image=np.full(request.image.shape, np.nan, np.float32))


    def slow(request, ctx):
        marker = request.params["marker"]
        if marker:
            open(marker, "w").close()
        end = time.monotonic() + 60
        while time.monotonic() < end:
            ctx.progress(0.5, "working")
            time.sleep(0.02)
        return ToolResult(image=request.image)


    def generate(request, ctx):
        w, h = request.size
        return ToolResult(image=np.full((h, w, 3), 0.5, np.float32))


    def modelled(request, ctx):
        path = ctx.model_path(request.params["model"], "modelled")
        return ToolResult(image=request.image, metadata={"model": path})
    '''
)


@dataclass
class Result:
    code: int
    out: str
    err: str


def data_with_plugin(tmp_path: Path, name: str, source: str) -> Path:
    """``tmp_path/data``: an isolated GANPaint data folder whose plugins/ holds ``name``.py."""
    data = tmp_path / "data"
    (data / "plugins").mkdir(parents=True)
    (data / "plugins" / f"{name}.py").write_text(source)
    return data


def plugin_env(tmp_path: Path, name: str, source: str, **extra: str) -> dict[str, str]:
    """The environment for a ``ganpaint`` subprocess that sees only the single-file plugin
    ``name`` (``data_with_plugin``), one OpenMP thread, and ``extra``."""
    e = dict(os.environ)
    e.update(GANPAINT_DATA_DIR=str(data_with_plugin(tmp_path, name, source)), OMP_NUM_THREADS="1", **extra)
    e.pop("GANPAINT_DISABLE_PLUGINS", None)
    return e


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("gpdata")
    (d / "plugins").mkdir()
    (d / "plugins" / f"{PLUGIN_NAME}.py").write_text(PLUGIN_SOURCE)
    # "brokenimport"'s module exists (a missing one fails the whole plugin when it registers)
    # but its import fails when the tool runs; the packages folder is on sys.path
    (d / "plugin-packages").mkdir()
    (d / "plugin-packages" / "gp_cli_broken_runtime.py").write_text(
        "import gp_no_such_module_xyz  # noqa: F401\n\n\ndef run(request, ctx):\n    pass\n")
    return d


@pytest.fixture
def env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment for both in-process and subprocess runs."""
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("GANPAINT_DISABLE_PLUGINS", raising=False)
    monkeypatch.delenv("GANPAINT_DEVICE", raising=False)
    return dict(os.environ)


@pytest.fixture
def cli(env: dict[str, str], capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``ganpaint`` in-process: cli("run", "blur", ...) -> Result."""
    from ganpaint.__main__ import main

    def run(*argv: str) -> Result:
        code = main([str(a) for a in argv])
        cap = capsys.readouterr()
        return Result(code, cap.out, cap.err)

    return run


@pytest.fixture
def sub(env: dict[str, str], tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run ``python -m ganpaint`` in a subprocess -> Result."""

    def run(*argv: str, timeout: float = 120) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "ganpaint", *[str(a) for a in argv]],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run
