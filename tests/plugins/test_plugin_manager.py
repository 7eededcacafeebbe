"""The typed facade: registering, what plugins contribute, lazy code, events, enable/disable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gp_plugin_samples import full_plugin, make_plugin, tool, tools_plugin

from ganpaint import PLUGIN_API_VERSION, ToolSpec
from ganpaint.core.settings import Settings
from ganpaint.plugins import HostInfo, PluginManager, PluginRunError, UnknownToolError
from ganpaint.testing import RecordingContext, run_tool


def test_registered_plugin_contributes_tools_with_plugin_set(plugin_host: PluginManager) -> None:
    record = plugin_host.register(tools_plugin("alpha", "beta"), "sample")
    assert record.status == "loaded", record.error
    assert record.tools == ["alpha", "beta"]
    assert record.source == "registered"
    tools = plugin_host.tools()
    assert list(tools) == ["alpha", "beta"]
    assert all(isinstance(t, ToolSpec) and t.plugin == "sample" for t in tools.values())
    assert plugin_host.tool("beta").plugin == "sample"


def test_unknown_tool_lists_known_ids(plugin_host: PluginManager) -> None:
    plugin_host.register(tools_plugin("alpha"), "sample")
    with pytest.raises(UnknownToolError) as info:
        plugin_host.tool("gamma")
    assert isinstance(info.value, KeyError)
    assert "gamma" in str(info.value) and "alpha" in str(info.value)


def test_models_and_recipes_carry_their_plugin(plugin_host: PluginManager) -> None:
    log: list[tuple[str, Any]] = []
    record = plugin_host.register(full_plugin(log), "full")
    assert record.status == "loaded", record.error
    assert [m.name for m in plugin_host.models()] == ["full-model"]
    assert plugin_host.models()[0].plugin == "full"
    assert list(plugin_host.recipes()) == ["full-recipe"]
    assert plugin_host.recipes()["full-recipe"].plugin == "full"
    assert record.models == ["full-model"] and record.recipes == ["full-recipe"]
    # contribution hooks were called exactly once each, at registration
    assert [h for h, _ in log] == ["ganpaint_register_tools", "ganpaint_register_models", "ganpaint_register_recipes"]


def test_resolve_imports_once_and_caches(plugin_host: PluginManager) -> None:
    plugin_host.register(tools_plugin("alpha"), "sample")
    fn = plugin_host.resolve("gp_sample_tools:identity")
    assert fn is plugin_host.resolve("gp_sample_tools:identity")
    assert fn is plugin_host.tool_function("alpha")
    image = np.random.default_rng(1).random((5, 7, 3), dtype=np.float32)
    ctx = RecordingContext()
    result = run_tool(plugin_host, "alpha", image, ctx=ctx)
    np.testing.assert_array_equal(result.image, image)
    assert ctx.calls == [(1.0, "")]


def test_resolve_error_names_the_plugin_and_tool(plugin_host: PluginManager) -> None:
    plugin_host.register(tools_plugin("alpha", run="gp_sample_tools:NOT_CALLABLE"), "sample")
    with pytest.raises(PluginRunError) as info:
        plugin_host.tool_function("alpha")
    assert info.value.plugin == "sample" and info.value.tool == "alpha"
    assert "not a callable" in str(info.value)
    assert "NOT_CALLABLE" in plugin_host.record("sample").error


def test_tool_id_conflict_first_wins_second_is_recorded(plugin_host: PluginManager) -> None:
    plugin_host.register(tools_plugin("shared", "one"), "first")
    second = plugin_host.register(tools_plugin("shared", "two"), "second")
    assert plugin_host.tool("shared").plugin == "first"
    assert second.status == "loaded"
    assert second.tools == ["two"]
    assert "'shared' is already provided by plugin 'first'" in second.error
    assert set(plugin_host.tools()) == {"shared", "one", "two"}


def test_events_reach_every_plugin_with_their_arguments(plugin_host: PluginManager, tmp_path: Path) -> None:
    log_a: list[tuple[str, Any]] = []
    log_b: list[tuple[str, Any]] = []
    plugin_host.register(full_plugin(log_a), "a")
    plugin_host.register(make_plugin(ganpaint_document_saved=lambda: log_b.append(("saved-no-args", None))), "b")
    assert plugin_host.startup("test") == []
    saved = tmp_path / "x.ora"
    assert plugin_host.document_saved(str(saved)) == []
    assert plugin_host.shutdown() == []
    events = [(h, a) for h, a in log_a if not h.startswith("ganpaint_register")]
    assert [h for h, _ in events] == ["ganpaint_startup", "ganpaint_document_saved", "ganpaint_shutdown"]
    info = events[0][1]
    assert isinstance(info, HostInfo)
    assert info.frontend == "test" and info.api_version == PLUGIN_API_VERSION and not info.safe_mode
    assert events[1][1] == str(saved)
    # an implementation may take fewer arguments than the spec
    assert log_b == [("saved-no-args", None)]


def test_set_enabled_takes_effect_now_and_is_remembered(isolated_data_dir: Path) -> None:
    host = PluginManager(discover=False, user_dirs=True)
    host.load()
    host.register(tools_plugin("alpha"), "sample")
    changes: list[None] = []
    host.changed.connect(lambda: changes.append(None))
    rec = host.set_enabled("sample", False)
    assert rec.status == "disabled" and "alpha" not in host.tools()
    assert changes, "the changed signal must fire so the dialog can refresh"
    assert Settings.load().disabled_plugins == ["sample"]
    # a new host (next start) remembers it
    again = PluginManager(discover=False, user_dirs=True)
    again.load()
    assert again.register(tools_plugin("alpha"), "sample").status == "disabled"
    assert "disabled in the Plugins dialog" in again.record("sample").error
    # and re-enabling brings the tools back at once
    assert host.set_enabled("sample", True).status == "loaded"
    assert "alpha" in host.tools()
    assert Settings.load().disabled_plugins == []


def test_disabling_the_winner_of_a_conflict_lets_the_other_tool_through(plugin_host: PluginManager) -> None:
    plugin_host.register(tools_plugin("shared"), "first")
    plugin_host.register(tools_plugin("shared"), "second")
    assert plugin_host.tool("shared").plugin == "first"
    plugin_host.set_enabled("first", False)
    assert plugin_host.tool("shared").plugin == "second"
    assert plugin_host.record("second").error == ""


def test_duplicate_plugin_name_is_recorded_not_merged(plugin_host: PluginManager) -> None:
    plugin_host.register(tools_plugin("alpha"), "same")
    dup = plugin_host.register(tools_plugin("beta"), "same")
    assert dup.status == "failed" and dup.name == "same#2"
    assert "already loaded" in dup.error
    assert "beta" not in plugin_host.tools()


def test_load_is_idempotent_and_discovery_off_sees_nothing() -> None:
    host = PluginManager(discover=False, user_dirs=False)
    assert host.load() == []
    assert host.load() == []
    assert host.tools() == {}


def test_set_enabled_unknown_name_raises_keyerror(plugin_host: PluginManager) -> None:
    with pytest.raises(KeyError):
        plugin_host.set_enabled("nobody", False)


def test_tool_helper_builds_valid_specs() -> None:
    # guards the shared test helper itself
    assert tool("x").run == "gp_sample_tools:identity"


def test_set_enabled_updates_the_apps_own_settings_object(isolated_data_dir: Path) -> None:
    settings = Settings.load()
    settings.add_recent(str(isolated_data_dir / "picture.png"))
    settings.disabled_plugins = ["old"]
    host = PluginManager(discover=False, user_dirs=False, settings=settings)
    host.load()
    assert host.register(tools_plugin("x"), "old").status == "disabled"
    host.register(tools_plugin("alpha"), "sample")
    host.set_enabled("sample", False)
    host.set_enabled("old", True)
    # the same object the app holds was changed (its next save keeps the choice) and saved
    assert settings.disabled_plugins == ["sample"]
    reread = Settings.load()
    assert reread.disabled_plugins == ["sample"] and reread.recent_files == settings.recent_files
    assert host.tool("x").plugin == "old"


def test_unwritable_settings_still_disable_for_this_run(monkeypatch: pytest.MonkeyPatch) -> None:
    host = PluginManager(discover=False, user_dirs=True)
    host.load()
    host.register(tools_plugin("alpha"), "sample")

    def refuse(self: Settings, path: object = None) -> None:
        raise OSError("read-only file system")

    monkeypatch.setattr(Settings, "save", refuse)  # (chmod would not stop root, which CI may be)
    rec = host.set_enabled("sample", False)
    assert rec.status == "disabled" and "alpha" not in host.tools()
    assert Settings.load().disabled_plugins == []
