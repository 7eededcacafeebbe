"""Filters menu: an entry titled "...", a tool with something to choose (parameters, or a layer
input besides the picture it works on), opens its panel in the Tools dock, focused, and runs
nothing; an entry without "..." (nothing to choose) runs the tool at once."""

from __future__ import annotations

import sys

import numpy as np
from PySide6.QtWidgets import QApplication

from ganpaint import InputSpec, Role, ToolResult, ToolSpec, hookimpl

GANPAINT_API_VERSION = 1


def flat(request, ctx):
    w, h = request.size
    return ToolResult(image=np.full((h, w, 3), 0.5, np.float32))


@hookimpl
def ganpaint_register_tools():
    # no parameters, but a layer to choose: still a panel
    return [ToolSpec(id="trace", title="Trace", run=f"{__name__}:flat", inputs=(InputSpec(Role.SKETCH),)),
            ToolSpec(id="dream", title="Dream", run=f"{__name__}:flat",
                     inputs=(InputSpec(Role.IMAGE, required=False),)),
            ToolSpec(id="noise", title="Noise", run=f"{__name__}:flat", inputs=())]


def _setup(window):
    window.plugin_manager.register(sys.modules[__name__], "menu-test")
    window._plugins_changed()  # the panel and the Filters menu follow the plugins
    window.new_document_silent(24, 16)
    return window.controller.document


def _submitted(window):
    seen = []
    window.runner.bridge.jobAdded.connect(seen.append)
    return seen


def test_titles_say_which_entries_open_a_panel(window):
    _setup(window)
    texts = {name[4:]: act.text() for name, act in window.action_map.items() if name.startswith("run_")}
    assert texts["invert"] == "Invert" and texts["noise"] == "Noise"  # nothing to choose
    for tool_id in ("blur", "sharpen", "desaturate", "trace", "dream"):
        assert texts[tool_id].endswith("..."), texts[tool_id]
    menu_texts = [a.text() for a in window.filters_menu.actions()]
    for sub in window.filters_menu.findChildren(type(window.filters_menu)):
        menu_texts += [a.text() for a in sub.actions()]
    assert "Gaussian blur..." in menu_texts and "Invert" in menu_texts
    # rebuilt after a plugin change: one action per tool, not a stale one beside it
    window._plugins_changed()
    names = [a.objectName() for a in window.actions()]
    assert names.count("action_run_blur") == 1 and names.count("action_run_trace") == 1


def test_an_entry_with_dots_opens_the_panel_and_runs_nothing(window, qtbot):
    doc = _setup(window)
    jobs = _submitted(window)
    dock = window.docks["tools"]
    dock.hide()
    window.tools_panel.set_plugin_tool("invert")
    for tool_id in ("blur", "trace", "dream"):
        n = len(doc.layers)
        window.action_map[f"run_{tool_id}"].trigger()
        assert jobs == [] and window.runner.pending() == [] and len(doc.layers) == n
        assert dock.isVisible()
        assert window.tools_panel.plugin_tool() == tool_id
        pp = window.tools_panel.param_panel()
        qtbot.waitUntil(lambda pp=pp: pp.isAncestorOf(QApplication.focusWidget()), timeout=3000)
    qtbot.wait(300)  # past any debounce: still nothing ran
    assert jobs == [] and len(doc.history.entries) == 0


def test_an_entry_without_dots_runs_at_once(window, qtbot):
    doc = _setup(window)
    n = len(doc.layers)
    window.action_map["run_invert"].trigger()
    assert len(window.runner.pending()) == 1
    qtbot.waitUntil(lambda: len(doc.layers) == n + 1, timeout=10000)
    window.action_map["run_noise"].trigger()
    qtbot.waitUntil(lambda: len(doc.layers) == n + 2, timeout=10000)
    assert doc.layers[-1].result.tool_id == "noise"
