"""A re-run of a result layer hands the tool the attachments stored with that layer
(``ToolRequest.previous``), also after the document was saved as .ora and reopened: what an
inverted face's sliders need to skip the inversion."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from ganpaint import ParamSpec, ToolResult, ToolSpec, hookimpl
from ganpaint.qt.file_actions import save_document

GANPAINT_API_VERSION = 1
TOOL = "remember"
SEEN: list[dict[str, bytes]] = []


def remember(request, ctx):
    SEEN.append(dict(request.previous))
    w, h = request.size
    level = float(request.params["level"])
    return ToolResult(image=np.full((h, w, 3), level, np.float32),
                      attachments={"state.bin": f"made at {level:.2f}".encode()})


@hookimpl
def ganpaint_register_tools():
    return [ToolSpec(id=TOOL, title="Remember", run=f"{__name__}:remember", inputs=(),
                     params=(ParamSpec("level", "float", default=0.2, minimum=0.0, maximum=1.0, live=True),))]


def _applied(window):
    done: list[str] = []
    window.runner.applied.connect(lambda job_id, cmd: done.append(job_id))
    return done


def test_rerun_gets_the_layers_attachments_also_after_reopening(window, qtbot, tmp_path) -> None:
    SEEN.clear()
    window.plugin_manager.register(sys.modules[__name__], "remember-test")
    window.new_document_silent(20, 12)
    spec = next(s for s in window.tool_specs() if s.id == TOOL)
    done = _applied(window)
    window.run_tool(spec, {"level": 0.2})
    qtbot.waitUntil(lambda: len(done) == 1, timeout=10000)
    assert SEEN == [{}]  # a new result: nothing before it
    layer = window.controller.document.active_layer
    window.runner.rerun(layer.id, spec, {"level": 0.4})
    qtbot.waitUntil(lambda: len(done) == 2, timeout=10000)
    assert SEEN[-1] == {"state.bin": b"made at 0.20"}
    assert layer.result.attachments == {"state.bin": b"made at 0.40"}

    path = tmp_path / "kept.ora"
    save_document(window.controller.document, str(path))
    window.new_document_silent(8, 8)
    assert window.open_path(str(path))
    reopened = next(lay for lay in window.controller.document.layers if lay.result is not None)
    window.runner.rerun(reopened.id, spec, {"level": 0.6})
    qtbot.waitUntil(lambda: len(done) == 3, timeout=10000)
    assert SEEN[-1] == {"state.bin": b"made at 0.40"}
    assert int(reopened.pixels[0, 0, 0]) == pytest.approx(round(0.6 * 255), abs=1)
