"""Panels a painter can read (issue 11): plain labels and a tooltip on every field, research
knobs under a closed "Advanced" section, and sliders long enough to drag in the Tools dock
at the editor's default window size."""

from __future__ import annotations

import importlib

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QSlider

from ganpaint.core.specs import InputSpec, ParamSpec, Role, ToolSpec
from ganpaint.qt.sliders import MIN_SLIDER_WIDTH

BUILTIN = ("classic", "translate", "inpaint", "sketch", "season", "stylemix", "faces")
#: words only a researcher knows; a label must not be just one of these
RESEARCH_TERMS = {"psi", "crossover", "truncation", "latent", "z", "z_b", "inversion", "work_size", "steps",
                  "noise", "mode", "context", "feather"}


@pytest.fixture
def builtin_window(qtbot, answers):
    """The editor at its default size (no saved layout) with every built-in plugin."""
    from ganpaint.engine.jobs import JobQueue
    from ganpaint.plugins.manager import PluginManager
    from ganpaint.qt.mainwindow import MainWindow

    pm = PluginManager(discover=False, user_dirs=False)
    for name in BUILTIN:
        assert pm.register(importlib.import_module(f"ganpaint_{name}"), name).status == "loaded"
    queue = JobQueue()
    win = MainWindow(plugin_manager=pm, queue=queue, recovery=None)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    QApplication.processEvents()
    yield win
    win.controller.document.history.mark_clean()
    win.close()
    queue.shutdown(wait=True, timeout=10)


def _settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def _plain(label: str, name: str) -> bool:
    text = label.rstrip(":").strip()
    if not text:
        return False
    if "_" in name and text == name:
        return False
    return text.lower() not in RESEARCH_TERMS


def test_every_builtin_tool_is_registered(builtin_window) -> None:
    ids = set(builtin_window.tools_panel._specs)
    assert {"blur", "sharpen", "desaturate", "invert", "translate", "inpaint", "sketch", "season",
            "stylemix", "faces"} <= ids


def test_the_default_window_opens_at_its_default_size(builtin_window) -> None:
    from ganpaint.qt.mainwindow import TOOLS_DOCK_MIN_WIDTH

    assert (builtin_window.width(), builtin_window.height()) == (1280, 820)
    assert builtin_window.docks["tools"].width() >= TOOLS_DOCK_MIN_WIDTH


def test_every_builtin_panel_is_readable(builtin_window) -> None:
    tools = builtin_window.tools_panel
    for tool_id, spec in sorted(tools._specs.items()):
        panel = tools.set_plugin_tool(tool_id)
        _settle()
        for p in spec.params:
            field, label = panel.fields[p.name], panel.labels[p.name]
            assert p.help.strip(), f"{tool_id}.{p.name} has no help"
            assert field.toolTip() and label.toolTip() == field.toolTip(), f"{tool_id}.{p.name}"
            assert p.help.strip() in field.toolTip()
            assert _plain(label.text(), p.name), f"{tool_id}.{p.name}: label {label.text()!r}"
        for role, picker in panel.pickers.items():
            lab = panel.input_labels[role]
            assert picker.toolTip() and lab.toolTip() == picker.toolTip(), f"{tool_id} input {role}"
            assert "_" not in lab.text() and len(lab.text().rstrip(":")) <= 32, lab.text()
        assert all(i.help for i in spec.inputs), f"{tool_id}: an input without help"
        advanced = [p.name for p in spec.params if p.advanced]
        if advanced:
            assert panel.advanced_button is not None and panel.advanced_button.isVisible()
            assert not panel.advanced_open() and not panel.advanced_box.isVisible(), tool_id
            for name in advanced:
                assert not panel.fields[name].isVisible()
                assert panel.fields[name].parentWidget() is panel.advanced_box
        else:
            assert panel.advanced_button is None


def test_research_parameters_are_advanced(builtin_window) -> None:
    specs = builtin_window.tools_panel._specs
    expect = {"stylemix": {"crossover", "z", "z_b", "steps", "tune", "source", "noise"},
              "faces": {"z", "steps", "tune", "source", "noise", "direction", "amount"},
              "inpaint": {"work_size"}, "translate": {"mode", "seed"}}
    for tool_id, names in expect.items():
        assert {p.name for p in specs[tool_id].params if p.advanced} == names, tool_id
    # what a painter reaches for stays in view
    for tool_id, name in (("faces", "smile"), ("faces", "seed"), ("stylemix", "seed_b"), ("inpaint", "seed"),
                          ("season", "strength"), ("sketch", "hint_strength")):
        assert not specs[tool_id].param(name).advanced


def test_every_slider_is_long_enough_at_the_default_size(builtin_window) -> None:
    tools = builtin_window.tools_panel
    short: list[str] = []
    for name in ("size", "hardness", "opacity"):  # the brush, in the same dock
        w = getattr(tools, name).slider.width()
        if w < MIN_SLIDER_WIDTH:
            short.append(f"brush {name}: {w}")
    checked = 0
    for tool_id in sorted(tools._specs):
        panel = tools.set_plugin_tool(tool_id)
        panel.set_advanced_open(True)  # the advanced sliders must be usable too
        _settle()
        for slider in panel.findChildren(QSlider):
            assert slider.isVisible(), tool_id
            checked += 1
            if slider.width() < MIN_SLIDER_WIDTH:
                short.append(f"{tool_id}: {slider.width()} px")
        panel.set_advanced_open(False)
    assert checked >= 20 and not short, short


def test_the_narrowest_tools_dock_still_leaves_the_tool_sliders_usable(builtin_window) -> None:
    from ganpaint.qt.mainwindow import TOOLS_DOCK_MIN_WIDTH

    win = builtin_window
    win.resizeDocks([win.docks["tools"]], [120], Qt.Orientation.Horizontal)  # as far as a drag goes
    _settle()
    assert win.docks["tools"].width() == TOOLS_DOCK_MIN_WIDTH
    for tool_id in ("sharpen", "faces", "stylemix", "inpaint"):
        panel = win.tools_panel.set_plugin_tool(tool_id)
        panel.set_advanced_open(True)
        _settle()
        widths = [s.width() for s in panel.findChildren(QSlider)]
        assert widths and min(widths) >= MIN_SLIDER_WIDTH, (tool_id, widths)


def test_the_advanced_section_opens_and_keeps_reset_and_live_drafts(qtbot) -> None:
    from ganpaint.qt.params import ParamPanel

    spec = ToolSpec(
        id="t", title="T", run="x:y",
        inputs=(InputSpec(Role.IMAGE), InputSpec(Role.IMAGE_B, required=False)),
        params=(ParamSpec("strength", "float", default=0.5, minimum=0.0, maximum=1.0, live=True),
                ParamSpec("work_size", "int", default=256, minimum=64, maximum=1024, advanced=True,
                          help="Resolution the model runs at."),
                ParamSpec("sharp", "bool", advanced=True)),
    )
    panel = ParamPanel(spec)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    # labels and tooltips even where the plugin gave none
    assert panel.labels["work_size"].text() == "Work size:"
    assert panel.labels["sharp"].text() == "Sharp"  # a check box carries its own label
    assert "From 0 to 1; default 0.5." in panel.fields["strength"].toolTip()
    assert panel.labels["work_size"].toolTip().startswith("Resolution the model runs at.")
    assert panel.input_labels[Role.IMAGE_B].text() == "Second picture:"
    assert panel.pickers[Role.IMAGE].toolTip()
    assert panel.advanced_button.text() == "Advanced"
    assert not panel.advanced_open() and not panel.fields["work_size"].isVisible()

    qtbot.mouseClick(panel.advanced_button, Qt.MouseButton.LeftButton)
    assert panel.advanced_open() and panel.fields["work_size"].isVisible()
    assert panel.fields["sharp"].isVisible()
    qtbot.mouseClick(panel.advanced_button, Qt.MouseButton.LeftButton)
    assert not panel.advanced_open() and not panel.fields["work_size"].isVisible()

    # a hidden advanced field still takes part in values() and Reset
    panel.set_values({"work_size": 512, "sharp": True, "strength": 0.25})
    assert panel.values() == {"strength": 0.25, "work_size": 512, "sharp": True}
    panel.reset()
    assert panel.values() == {"strength": 0.5, "work_size": 256, "sharp": False}
    with qtbot.waitSignal(panel.liveChanged, timeout=2000) as live:
        panel.fields["strength"].set(0.75)
    assert live.args[0]["strength"] == 0.75 and live.args[1] is False


def test_third_party_specs_without_the_new_fields_still_work() -> None:
    p = ParamSpec("level", "float", default=0.5, minimum=0.0, maximum=1.0)
    assert p.advanced is False and p.help == ""
    assert InputSpec(Role.MASK, "Area", False).help == ""
    assert ParamSpec("x", "int", advanced=1).advanced is True


def test_labels_in_the_panel_are_qlabels_with_buddies(builtin_window) -> None:
    panel = builtin_window.tools_panel.set_plugin_tool("inpaint")
    label = panel.labels["work_size"]
    assert isinstance(label, QLabel) and label.buddy() is panel.fields["work_size"]
    assert label.text() == "Working size:"
