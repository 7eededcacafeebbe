"""A faulty plugin is recorded under its own name and never stops the others."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from gp_plugin_samples import make_plugin, tool, tools_plugin

from ganpaint.plugins import PluginManager, PluginRecord, PluginRunError
from ganpaint.testing import run_tool

Register = Callable[..., PluginRecord]


def _healthy_survives(host: PluginManager) -> None:
    host.register(tools_plugin("healthy"), "healthy")
    assert host.record("healthy").status == "loaded"
    image = np.full((4, 4, 3), 0.25, np.float32)
    np.testing.assert_array_equal(run_tool(host, "healthy", image).image, image)


def test_plugin_that_fails_to_import(plugin_host: PluginManager, register_plugin: Register) -> None:
    rec = register_plugin("import definitely_not_a_module_xyz\n", "tp_broken_import")
    assert rec.name == "tp_broken_import" and rec.status == "failed"
    assert "import failed: ModuleNotFoundError" in rec.error
    assert "definitely_not_a_module_xyz" in rec.traceback
    _healthy_survives(plugin_host)


def test_plugin_that_exits_at_import(plugin_host: PluginManager, register_plugin: Register) -> None:
    rec = register_plugin("raise SystemExit(3)\n", "tp_exits")
    assert rec.status == "failed" and "SystemExit" in rec.error
    _healthy_survives(plugin_host)


def test_plugin_with_syntax_error(plugin_host: PluginManager, register_plugin: Register) -> None:
    rec = register_plugin("def broken(:\n", "tp_syntax")
    assert rec.status == "failed" and "SyntaxError" in rec.error


def test_hook_that_raises(plugin_host: PluginManager) -> None:
    def ganpaint_register_tools() -> list[object]:
        raise ValueError("cannot build my tools")

    rec = plugin_host.register(make_plugin(ganpaint_register_tools=ganpaint_register_tools), "raiser")
    assert rec.status == "failed"
    assert "ganpaint_register_tools raised ValueError: cannot build my tools" in rec.error
    assert "cannot build my tools" in rec.traceback
    assert rec.tools == [] and plugin_host.tools() == {}
    _healthy_survives(plugin_host)


def test_malformed_descriptor_fails_the_whole_plugin(plugin_host: PluginManager) -> None:
    good = tool("good-one")
    plugin = make_plugin(ganpaint_register_tools=lambda: [good, {"id": "dict-tool", "title": "x"}])
    rec = plugin_host.register(plugin, "malformed")
    assert rec.status == "failed"
    assert "item 1 is a dict, expected ToolSpec" in rec.error
    assert "good-one" not in plugin_host.tools()  # all or nothing: no half plugin
    _healthy_survives(plugin_host)


def test_descriptor_that_fails_its_own_validation(plugin_host: PluginManager) -> None:
    def ganpaint_register_tools() -> list[object]:
        return [tool("Bad Id!")]  # ToolSpec.__post_init__ raises SpecError here

    rec = plugin_host.register(make_plugin(ganpaint_register_tools=ganpaint_register_tools), "badid")
    assert rec.status == "failed" and "SpecError" in rec.error and "Bad Id!" in rec.error


def test_model_descriptor_of_wrong_type(plugin_host: PluginManager) -> None:
    rec = plugin_host.register(make_plugin(ganpaint_register_models=lambda: [tool("not-a-model")]), "wrongtype")
    assert rec.status == "failed" and "expected ModelSpec" in rec.error


@pytest.mark.parametrize("returned", [None, tool("single"), "blur", {"blur": 1}])
def test_hook_that_returns_a_non_list(plugin_host: PluginManager, returned: object) -> None:
    rec = plugin_host.register(make_plugin(ganpaint_register_tools=lambda: returned), "nonlist")
    assert rec.status == "failed"
    assert f"ganpaint_register_tools must return a list, got {type(returned).__name__}" in rec.error
    _healthy_survives(plugin_host)


def test_duplicate_ids_within_one_plugin(plugin_host: PluginManager) -> None:
    rec = plugin_host.register(tools_plugin("twice", "twice"), "dups")
    assert rec.status == "failed" and "duplicate tool id(s) twice" in rec.error


@pytest.mark.parametrize(
    ("api", "reason"),
    [
        (None, "does not declare GANPAINT_API_VERSION"),
        (2, "written for plugin API 2, this GANPaint speaks API 1"),
        (0, "written for plugin API 0"),
        ("1", "must be an int major version"),
    ],
)
def test_wrong_api_version_is_incompatible(plugin_host: PluginManager, api: object, reason: str) -> None:
    rec = plugin_host.register(make_plugin(api=api, ganpaint_register_tools=lambda: [tool("future")]), "future")
    assert rec.status == "incompatible"
    assert reason in rec.error
    assert "future" not in plugin_host.tools()
    _healthy_survives(plugin_host)


def test_unknown_hook_name_is_reported(plugin_host: PluginManager) -> None:
    plugin = make_plugin(ganpaint_register_tool=lambda: [tool("typo")])  # singular: a typo
    rec = plugin_host.register(plugin, "typo")
    assert rec.status == "failed" and "unknown hook(s) ganpaint_register_tool" in rec.error


def test_hookimpl_with_arguments_the_spec_lacks(plugin_host: PluginManager) -> None:
    rec = plugin_host.register(make_plugin(ganpaint_register_tools=lambda document: []), "badsig")
    assert rec.status == "failed" and "registration refused" in rec.error


def test_tool_whose_run_module_fails_to_import(
    plugin_host: PluginManager, register_plugin: Register, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the module exists (a missing one fails the plugin at registration) but its import fails
    (tmp_path / "tp_broken_runtime_module.py").write_text("import tp_missing_runtime_module\n\ndef run(r, c): ...\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    rec = register_plugin(
        """
        from ganpaint import ToolSpec, hookimpl
        GANPAINT_API_VERSION = 1

        @hookimpl
        def ganpaint_register_tools():
            return [ToolSpec(id="lazy-broken", title="Lazy", run="tp_broken_runtime_module:run")]
        """,
        "tp_lazy_owner",
    )
    assert rec.status == "loaded" and rec.tools == ["lazy-broken"]
    with pytest.raises(PluginRunError) as info:
        run_tool(plugin_host, "lazy-broken", np.zeros((2, 2, 3), np.float32))
    assert info.value.plugin == "tp_lazy_owner" and info.value.tool == "lazy-broken"
    assert "ModuleNotFoundError" in str(info.value)
    assert "tp_missing_runtime_module" in plugin_host.record("tp_lazy_owner").error
    _healthy_survives(plugin_host)


def test_tool_that_raises_while_running_names_nothing_else(plugin_host: PluginManager) -> None:
    plugin_host.register(tools_plugin("explodes", run="gp_sample_tools:explode"), "exploder")
    with pytest.raises(RuntimeError, match="boom while running"):
        run_tool(plugin_host, "explodes", np.zeros((2, 2, 3), np.float32))
    # the engine's runner wraps this with the plugin name; the host keeps a note for the dialog
    plugin_host.note_error("exploder", "tool 'explodes' failed: RuntimeError: boom while running", key="explodes")
    assert "boom while running" in plugin_host.record("exploder").error
    _healthy_survives(plugin_host)


def test_event_hook_that_raises_does_not_stop_the_others(plugin_host: PluginManager, tmp_path: Path) -> None:
    seen: list[str] = []

    def bad_saved(path: str) -> None:
        raise OSError("disk on fire")

    plugin_host.register(make_plugin(ganpaint_document_saved=bad_saved), "bad")
    plugin_host.register(make_plugin(ganpaint_document_saved=lambda path: seen.append(path)), "good")
    failures = plugin_host.document_saved(str(tmp_path / "a.png"))
    assert [(f.plugin, "disk on fire" in str(f)) for f in failures] == [("bad", True)]
    assert seen == [str(tmp_path / "a.png")]
    rec = plugin_host.record("bad")
    assert rec.status == "loaded" and "ganpaint_document_saved raised OSError: disk on fire" in rec.error


def test_startup_that_raises_is_isolated(plugin_host: PluginManager) -> None:
    calls: list[str] = []

    def boom(host_info: object) -> None:
        raise RuntimeError("no")

    plugin_host.register(make_plugin(ganpaint_startup=boom), "a")
    plugin_host.register(make_plugin(ganpaint_startup=lambda host_info: calls.append("b")), "b")
    plugin_host.register(make_plugin(ganpaint_shutdown=lambda: calls.append("b-down")), "c")
    assert [f.plugin for f in plugin_host.startup("test")] == ["a"]
    assert plugin_host.shutdown() == []
    assert calls == ["b", "b-down"]
