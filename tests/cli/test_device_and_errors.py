"""A device the machine lacks is the host's sentence, before any tool runs; a tool's ToolError
names its plugin on the command line (issue 12, point 6)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganpaint.engine.inference import devices


def _picture(path: Path) -> Path:
    Image.fromarray(np.full((8, 8, 3), 100, np.uint8)).save(path)
    return path


@pytest.fixture
def no_cuda(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """This machine has no CUDA (whatever the real one has); records what was asked for."""
    asked: list[str] = []

    def pick(preference: str | None = None) -> str:
        asked.append(str(preference))
        if str(preference).startswith("cuda"):
            raise devices.DeviceError("CUDA was requested but this machine has no CUDA device that torch can use")
        return "cpu"

    monkeypatch.setattr(devices, "pick_device", pick)
    return asked


def test_device_cuda_without_cuda_is_one_sentence_before_the_tool_runs(cli, tmp_path: Path, no_cuda) -> None:  # type: ignore[no-untyped-def]
    src, out, marker = _picture(tmp_path / "in.png"), tmp_path / "out.png", tmp_path / "ran"
    # "slow" writes the marker as soon as it runs: it must never start
    r = cli("run", "slow", src, "-o", out, "--set", f"marker={marker}", "--device", "cuda")
    assert r.code == 1, r.err
    lines = r.err.strip().splitlines()
    assert lines == ["ganpaint: error: --device cuda: CUDA was requested but this machine has no CUDA device "
                     "that torch can use; use --device auto or --device cpu"], r.err
    assert "plugin" not in r.err and not marker.exists() and not out.exists()
    assert no_cuda == ["cuda"]


def test_the_environment_variable_is_named_when_it_asked_for_cuda(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, no_cuda, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GANPAINT_DEVICE", "cuda:1")
    r = cli("run", "invert", _picture(tmp_path / "in.png"), "-o", tmp_path / "out.png")
    assert r.code == 1 and r.err.startswith("ganpaint: error: GANPAINT_DEVICE=cuda:1: CUDA was requested"), r.err


def test_auto_and_cpu_resolve_lazily_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GANPAINT_DEVICE", raising=False)
    assert devices.explicit_device(None) is None and devices.explicit_device("cpu") is None
    assert devices.explicit_device("auto") is None and devices.explicit_device("CUDA:0") == "cuda:0"
    monkeypatch.setenv("GANPAINT_DEVICE", "mps")
    assert devices.explicit_device(None) == "mps" and devices.explicit_device("cpu") is None
    with pytest.raises(devices.DeviceError, match="unknown device"):
        devices.explicit_device("tpu")


def test_the_editor_is_not_started_on_a_missing_device(no_cuda, capsys: pytest.CaptureFixture[str]) -> None:
    from ganpaint.cli.main import _dispatch_gui

    started: list[object] = []
    args = argparse.Namespace(file=None, device="cuda", debug=False, safe_mode=False)
    code = _dispatch_gui(lambda path, a: started.append(path) or 0, args)
    assert code == 1 and started == []
    assert "--device cuda: CUDA was requested" in capsys.readouterr().err
    assert _dispatch_gui(lambda path, a: started.append(path) or 0, argparse.Namespace(
        file=None, device="cpu", debug=False, safe_mode=False)) == 0 and started == [None]


def test_a_tool_error_names_the_plugin_and_tool_on_the_command_line(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("run", "refuse", _picture(tmp_path / "in.png"), "-o", tmp_path / "out.png", "-q")
    assert r.code == 1
    assert r.err.strip() == ("ganpaint: error: plugin 'gp_cli_faults', tool 'refuse': "
                             "this picture is too small for the tool"), r.err
    r = cli("run", "crash", _picture(tmp_path / "in.png"), "-o", tmp_path / "out.png", "-q")  # named once, not twice
    assert r.err.count("plugin 'gp_cli_faults'") == 1, r.err
