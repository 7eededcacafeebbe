"""The host's private bookkeeping: one :class:`Entry` per plugin, the checks a
plugin passes before it counts as loaded, and the maps of what loaded plugins
contribute (first wins on a conflicting id). Used by ``manager`` only."""

from __future__ import annotations

import dataclasses
import traceback as tb_module
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import pluggy

from ganpaint.core.specs import PLUGIN_API_VERSION, ModelSpec, RecipeSpec, SpecError, ToolSpec
from ganpaint.plugins.discovery import Candidate
from ganpaint.plugins.hookspecs import CONTRIBUTION_HOOKS, HOOK_NAMES
from ganpaint.plugins.markers import PROJECT_NAME
from ganpaint.plugins.records import PluginSource, PluginStatus

#: The attribute a plugin module/object declares its plugin-API major version in.
API_VERSION_ATTR = "GANPAINT_API_VERSION"

_DESCRIPTOR_TYPE: dict[str, type] = {
    "ganpaint_register_tools": ToolSpec,
    "ganpaint_register_models": ModelSpec,
    "ganpaint_register_recipes": RecipeSpec,
}


class ContributionError(Exception):
    """A contribution hook raised or returned something unusable."""

    def __init__(self, message: str, traceback: str = "") -> None:
        super().__init__(message)
        self.traceback = traceback


@dataclass
class Entry:
    """Everything the host knows about one plugin; ``records()`` hands out copies."""

    name: str
    source: PluginSource
    version: str = ""
    dist: str = ""
    builtin: bool = False
    location: str = ""
    status: PluginStatus = "loaded"
    errors: list[str] = field(default_factory=list)
    tracebacks: list[str] = field(default_factory=list)
    #: errors at run time (lazy import failed, event hook raised), keyed so repeats do not pile up
    run_errors: dict[str, str] = field(default_factory=dict)
    candidate: Candidate | None = None
    obj: object | None = None
    tools: list[ToolSpec] = field(default_factory=list)
    models: list[ModelSpec] = field(default_factory=list)
    recipes: list[RecipeSpec] = field(default_factory=list)

    def fail(self, status: PluginStatus, message: str, traceback: str = "") -> None:
        self.status = status
        self.errors.append(message)
        if traceback:
            self.tracebacks.append(traceback)
        self.tools, self.models, self.recipes = [], [], []


def describe(exc: BaseException) -> str:
    """``Type: first line of the message``."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def check_api_version(obj: object) -> str:
    """'' when ``obj`` speaks our plugin API, else the reason it does not."""
    host_major = PLUGIN_API_VERSION[0]
    if not hasattr(obj, API_VERSION_ATTR):
        return (
            f"it does not declare {API_VERSION_ATTR} (add `{API_VERSION_ATTR} = {host_major}` "
            "to the plugin module)"
        )
    declared = getattr(obj, API_VERSION_ATTR)
    if isinstance(declared, bool) or not isinstance(declared, int):
        return f"{API_VERSION_ATTR} must be an int major version, got {declared!r}"
    if declared != host_major:
        return f"written for plugin API {declared}, this GANPaint speaks API {host_major}"
    return ""


def unknown_hooks(obj: object) -> list[str]:
    """Hook implementations named ``ganpaint_*`` that match no hookspec (typos)."""
    return sorted(
        attr
        for attr in dir(obj)
        if attr.startswith("ganpaint_")
        and attr not in HOOK_NAMES
        and hasattr(getattr(obj, attr, None), f"{PROJECT_NAME}_impl")
    )


def impls_of(pm: pluggy.PluginManager, hook_name: str, plugin: str) -> list[pluggy.HookImpl]:
    """The implementations of one hook by one plugin (so each is called on its own)."""
    caller = getattr(pm.hook, hook_name)
    return [impl for impl in caller.get_hookimpls() if impl.plugin_name == plugin]


def collect(pm: pluggy.PluginManager, entry: Entry) -> None:
    """Call each contribution hook of one plugin, one implementation at a time, and
    keep the validated descriptors (with ``plugin`` set) on ``entry``.
    Raises :class:`ContributionError` on the first problem."""
    got: dict[str, list[Any]] = {hook: [] for hook in CONTRIBUTION_HOOKS}
    for hook in CONTRIBUTION_HOOKS:
        expected = _DESCRIPTOR_TYPE[hook]
        for impl in impls_of(pm, hook, entry.name):
            if impl.hookwrapper or impl.wrapper:
                raise ContributionError(f"{hook}: wrappers are not supported for contribution hooks")
            try:
                result = impl.function()
            except (Exception, SystemExit) as exc:
                raise ContributionError(f"{hook} raised {describe(exc)}", tb_module.format_exc()) from exc
            if not isinstance(result, list | tuple):
                raise ContributionError(f"{hook} must return a list, got {type(result).__name__}")
            for i, item in enumerate(result):
                if not isinstance(item, expected):
                    raise ContributionError(
                        f"{hook}: item {i} is a {type(item).__name__}, expected {expected.__name__}"
                    )
                try:
                    got[hook].append(dataclasses.replace(cast(Any, item), plugin=entry.name))
                except SpecError as exc:
                    raise ContributionError(f"{hook}: item {i}: {exc}") from exc
    tools: list[ToolSpec] = got["ganpaint_register_tools"]
    recipes: list[RecipeSpec] = got["ganpaint_register_recipes"]
    models: list[ModelSpec] = got["ganpaint_register_models"]
    for kind, ids in (("tool", [t.id for t in tools]), ("recipe", [r.id for r in recipes])):
        dups = sorted({i for i in ids if ids.count(i) > 1})
        if dups:
            raise ContributionError(f"duplicate {kind} id(s) {', '.join(dups)}")
    entry.tools, entry.models, entry.recipes = tools, models, recipes


@dataclass
class Contributions:
    """What the loaded plugins contribute, merged in load order."""

    tools: dict[str, ToolSpec] = field(default_factory=dict)
    recipes: dict[str, RecipeSpec] = field(default_factory=dict)
    models: list[ModelSpec] = field(default_factory=list)
    #: lazy "module:attr" string -> the plugin that registered it
    lazy_owner: dict[str, str] = field(default_factory=dict)
    #: plugin -> the ids it lost to a plugin loaded earlier
    conflicts: dict[str, list[str]] = field(default_factory=dict)


def merge(entries: Iterable[Entry]) -> Contributions:
    """Merge the loaded entries' descriptors; the first plugin to claim an id keeps it."""
    out = Contributions()
    seen_models: set[tuple[str, str]] = set()

    def conflict(entry: Entry, message: str) -> None:
        out.conflicts.setdefault(entry.name, []).append(message)

    for entry in entries:
        if entry.status != "loaded":
            continue
        for tool in entry.tools:
            if tool.id in out.tools:
                conflict(entry, f"tool {tool.id!r} is already provided by plugin {out.tools[tool.id].plugin!r}; skipped")
                continue
            out.tools[tool.id] = tool
            for lazy in (tool.run, tool.canvas, tool.hidden_params):
                if lazy:
                    out.lazy_owner.setdefault(lazy, entry.name)
        for recipe in entry.recipes:
            if recipe.id in out.recipes:
                owner = out.recipes[recipe.id].plugin
                conflict(entry, f"recipe {recipe.id!r} is already provided by plugin {owner!r}; skipped")
                continue
            out.recipes[recipe.id] = recipe
            out.lazy_owner.setdefault(recipe.factory, entry.name)
        for model in entry.models:
            key = (model.tool, model.name)
            if key in seen_models:
                conflict(entry, f"model {model.name!r} for tool {model.tool!r} is already provided; skipped")
                continue
            seen_models.add(key)
            out.models.append(model)
    return out
