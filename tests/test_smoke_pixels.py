"""The smoke test's pixel step (issue 13, item 10): every built-in tool runs through the window's
job path on a known input and its result is checked (size, opaque where the input is, finite,
statistic within the band of ganpaint/smoke_reference.json); a broken tool fails the step."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from ganpaint import smoke  # noqa: E402
from ganpaint.core.specs import ToolResult  # noqa: E402


@pytest.fixture
def window(tmp_path, monkeypatch):
    monkeypatch.setenv("GANPAINT_DATA_DIR", str(tmp_path / "data"))
    from ganpaint.plugins.manager import PluginManager
    from ganpaint.qt.app import create_window

    pm = PluginManager()
    pm.load()
    app, win = create_window(None, None, plugin_manager=pm)
    yield app, win
    smoke._close({"app": app, "win": win, "pm": pm})


def test_pixel_step_passes_for_every_builtin_tool(window, tmp_path) -> None:
    app, win = window
    lines: list[tuple[str, str, str]] = []
    text = smoke.pixel_step(app, win, tmp_path, 120, line=lambda *a: lines.append(a))
    checked = {t.strip() for t in text.split("(", 1)[1].split(")", 1)[0].split(",")}
    assert {"blur", "invert", "inpaint", "sketch"} <= checked
    assert not [entry for entry in lines if entry[1] == "FAIL"]
    reference = json.loads(smoke.REFERENCE_FILE.read_text())["tools"]
    assert checked <= set(reference)


def test_a_transparent_result_fails_the_step(window, tmp_path, monkeypatch) -> None:
    app, win = window
    import ganpaint_classic.tools as classic_tools

    def ghost(request, ctx):  # the inpaint ghost: half-transparent pixels in the processed area
        h, w = request.image.shape[:2]
        return ToolResult(image=np.asarray(request.image).copy(), alpha=np.full((h, w), 0.5, np.float32))

    monkeypatch.setattr(classic_tools, "invert", ghost)
    monkeypatch.setattr(win.queue, "pool", None)  # run in this process, where the patch is
    invert = win.plugin_manager.tools()["invert"]
    monkeypatch.setattr(smoke, "builtin_tools", lambda _win: [invert])
    lines: list[tuple[str, str, str]] = []
    with pytest.raises(smoke.SmokeFailure, match="invert"):
        smoke.pixel_step(app, win, tmp_path, 60, line=lambda *a: lines.append(a))
    assert any(s == "FAIL" and "not opaque" in t for _, s, t in lines)


def test_reference_band_catches_blank_and_inverted_results() -> None:
    ref = {"size": [96, 64], "mean": [88.0, 131.7, 70.6], "std": 40.8}
    assert smoke.compare_to_reference("blur", {"size": [96, 64], "mean": [90.0, 128.0, 74.0], "std": 38.0}, ref) == ""
    inverted = {"size": [96, 64], "mean": [255 - 88.0, 255 - 131.7, 255 - 70.6], "std": 40.8}
    assert "channel means" in smoke.compare_to_reference("blur", inverted, ref)
    blank = {"size": [96, 64], "mean": [88.0, 131.7, 70.6], "std": 0.5}
    assert "spread" in smoke.compare_to_reference("blur", blank, ref)
    assert "size" in smoke.compare_to_reference("blur", {**ref, "size": [48, 32]}, ref)
    assert "no reference" in smoke.compare_to_reference("new_tool", ref, {})


def test_write_reference_records_the_statistics(window, tmp_path, monkeypatch) -> None:
    app, win = window
    tools = win.plugin_manager.tools()
    monkeypatch.setattr(smoke, "builtin_tools", lambda _win: [tools["blur"], tools["invert"]])
    target = tmp_path / "ref.json"
    smoke.pixel_step(app, win, tmp_path, 60, write_reference=True, reference_file=target)
    written = json.loads(target.read_text())["tools"]
    assert set(written) == {"blur", "invert"} and written["blur"]["size"] == [96, 64]
    assert smoke.pixel_step(app, win, tmp_path, 60, reference_file=target).startswith("2 tools checked")
