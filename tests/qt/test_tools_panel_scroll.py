"""Switching plugin tools: the panel is as tall as the shown tool and starts at its top."""

from __future__ import annotations

import pytest

from ganpaint import ParamSpec, ToolSpec

pytestmark = pytest.mark.gui


def _spec(tool_id: str, n: int) -> ToolSpec:
    return ToolSpec(id=tool_id, title=tool_id.title(), run="ganpaint_classic.tools:invert",
                    params=tuple(ParamSpec(f"p{i}", "float", default=0.5, minimum=0.0, maximum=1.0,
                                           label=f"Amount {i}", help="An amount.") for i in range(n)))


def test_a_short_tool_after_a_tall_one_is_shown_from_its_top(window, qtbot):
    panel = window.tools_panel
    panel.set_plugin_tools({"tall": _spec("tall", 30), "short": _spec("short", 1)})
    panel.set_plugin_tool("tall")
    qtbot.wait(50)
    bar = panel.stack.parentWidget().parentWidget().verticalScrollBar()  # noqa: SLF001
    assert bar.maximum() > 0  # 30 sliders do not fit: the panel scrolls
    bar.setValue(bar.maximum())
    short = panel.set_plugin_tool("short")
    qtbot.wait(50)
    assert bar.value() == 0
    # the stack follows the short page, not the tallest page ever shown
    assert panel.stack.height() <= max(short.sizeHint().height(), panel.stack.parentWidget().parentWidget().viewport().height()) + 2  # noqa: SLF001
    assert short.visibleRegion().boundingRect().top() == 0
