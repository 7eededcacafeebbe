"""ToolSpec.hidden_params: the panel hides the parameters a chosen model cannot use, and a
plugin's faulty hook (raising, hanging, answering nonsense, missing) hides nothing and never
reaches the window."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ganpaint.core.specs import ParamSpec, SpecError, ToolSpec
from ganpaint.qt.hidden_params import host_hidden_params
from ganpaint.qt.params import ParamPanel

pytestmark = pytest.mark.gui

SPEC = ToolSpec(
    id="gen", title="Generator", run="somewhere:run", inputs=(), plugin="genplug", hidden_params="somewhere:hide",
    params=(
        ParamSpec("model", "model"),
        ParamSpec("smile", "float", default=0.0, minimum=-3.0, maximum=3.0, live=True),
        ParamSpec("beard", "float", default=0.0, minimum=-3.0, maximum=3.0, live=True),
        ParamSpec("steps", "int", default=5, minimum=1, maximum=9, advanced=True),
    ),
)


def list_models(tool_id: str) -> list[tuple[str, str]]:
    return [("full", "Every slider"), ("nosmile", "No smile")]


def by_model(spec: ToolSpec, values: dict[str, Any]) -> list[str]:
    return {"nosmile": ["smile", "steps"], "full": []}.get(values["model"], [])


def shown(panel: ParamPanel, name: str) -> bool:
    return not panel.fields[name].isHidden() and not panel.labels[name].isHidden()


def test_model_change_hides_and_shows_rows(qtbot) -> None:
    panel = ParamPanel(SPEC, list_models=list_models, hidden_params=by_model)
    qtbot.addWidget(panel)
    panel.set_advanced_open(True)
    panel.show()
    assert panel.values()["model"] == "full" and panel.hidden == frozenset()
    panel.set_values({"smile": 2.0, "steps": 7})
    assert shown(panel, "smile")
    with qtbot.waitSignal(panel.valuesChanged, timeout=2000) as sig:
        panel.set_values({"model": "nosmile"})
    assert panel.hidden == {"smile", "steps"}
    assert not shown(panel, "smile") and not shown(panel, "steps") and shown(panel, "beard")
    # a hidden parameter goes back to its default: the run never gets the old value
    assert sig.args[0]["smile"] == 0.0 and sig.args[0]["steps"] == 5
    panel.set_values({"model": "full"})
    assert panel.hidden == frozenset() and shown(panel, "smile") and shown(panel, "steps")


def test_picking_a_model_in_the_combo_updates_rows(qtbot) -> None:
    panel = ParamPanel(SPEC, list_models=list_models, hidden_params=by_model)
    qtbot.addWidget(panel)
    panel.show()
    combo = panel.fields["model"].combo
    combo.setCurrentIndex(combo.findData("nosmile"))
    assert "smile" in panel.hidden and not shown(panel, "smile")


def test_tool_without_the_hook_is_never_asked(qtbot) -> None:
    asked: list[str] = []
    spec = ToolSpec(id="plain", title="Plain", run="somewhere:run", params=SPEC.params)
    panel = ParamPanel(spec, list_models=list_models,
                       hidden_params=lambda s, v: asked.append(s.id) or ["smile"])
    qtbot.addWidget(panel)
    panel.set_values({"model": "nosmile"})
    assert asked == [] and panel.hidden == frozenset()


def test_spec_checks_the_hook_string() -> None:
    with pytest.raises(SpecError, match="hidden_params"):
        ToolSpec(id="bad", title="Bad", run="m:run", hidden_params="not a lazy path")
    assert ToolSpec(id="ok", title="Ok", run="m:run").hidden_params == ""


class FakeManager:
    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.notes: list[tuple[str, str]] = []

    def resolve(self, lazy: str) -> Any:
        if isinstance(self.fn, Exception):
            raise self.fn
        return self.fn

    def note_error(self, plugin: str, message: str, key: str | None = None) -> None:
        self.notes.append((plugin, message))


class FakeStore:
    def path_for(self, name: str, tool: str) -> str:
        return f"/models/{tool}/{name}.safetensors"


def test_host_passes_values_and_model_path() -> None:
    seen: dict[str, Any] = {}

    def hook(params: dict[str, Any], model_path: Any) -> list[str]:
        seen["path"] = model_path(params["model"], "gen")
        return ["beard"]

    call = host_hidden_params(FakeManager(hook), FakeStore())
    assert call(SPEC, {"model": "full"}) == {"beard"}
    assert seen["path"] == "/models/gen/full.safetensors"


@pytest.mark.parametrize("hook, message", [
    (lambda p, mp: 1 / 0, "ZeroDivisionError"),
    (lambda p, mp: "smile", "string"),
    (lambda p, mp: [3], "parameter names"),
    (lambda p, mp: mp("x", "gen") and [], "no model store"),
])
def test_faulty_hook_hides_nothing_and_is_noted(hook: Any, message: str) -> None:
    mgr = FakeManager(hook)
    call = host_hidden_params(mgr, None)
    assert call(SPEC, {"model": "full"}) == frozenset()
    assert mgr.notes and mgr.notes[0][0] == "genplug" and message in mgr.notes[0][1]
    assert "every parameter is shown" in mgr.notes[0][1]


def test_unloadable_hook_hides_nothing() -> None:
    call = host_hidden_params(FakeManager(ImportError("no module")), FakeStore())
    assert call(SPEC, {"model": "full"}) == frozenset()


def test_hanging_hook_is_waited_for_once(qtbot) -> None:
    calls: list[int] = []

    def hang(params: dict[str, Any], model_path: Any) -> list[str]:
        calls.append(1)
        time.sleep(5)
        return ["smile"]

    mgr = FakeManager(hang)
    call = host_hidden_params(mgr, FakeStore(), timeout=0.2)
    t = time.perf_counter()
    panel = ParamPanel(SPEC, list_models=list_models, hidden_params=call)
    qtbot.addWidget(panel)
    first = time.perf_counter() - t
    assert panel.hidden == frozenset() and "0.2 s" in mgr.notes[0][1]
    t = time.perf_counter()
    panel.set_values({"model": "nosmile"})
    again = time.perf_counter() - t
    assert len(calls) == 1 and panel.hidden == frozenset()
    assert first < 4 and again < 0.2  # never the hook's 5 s; the second time not even the timeout
