"""Small plugin objects shared by the tests (importable helpers, not tests; tests/plugins is on sys.path)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ganpaint import ModelSpec, ParamSpec, RecipeSpec, ToolSpec, hookimpl


def make_plugin(*, api: Any = 1, **hooks: Any) -> SimpleNamespace:
    """A plugin object whose hooks are the given functions (marked as hookimpls)."""
    ns = SimpleNamespace()
    if api is not None:
        ns.GANPAINT_API_VERSION = api
    for name, fn in hooks.items():
        setattr(ns, name, hookimpl(fn))
    return ns


def tool(tool_id: str, run: str = "gp_sample_tools:identity", **kw: Any) -> ToolSpec:
    return ToolSpec(id=tool_id, title=tool_id.capitalize(), run=run, **kw)


def tools_plugin(*ids: str, **kw: Any) -> SimpleNamespace:
    specs = [tool(i, **kw) for i in ids]
    return make_plugin(ganpaint_register_tools=lambda: specs)


def full_plugin(log: list[tuple[str, Any]]) -> SimpleNamespace:
    """Implements every hook; appends (hook, argument) to ``log`` when called."""

    def ganpaint_register_tools() -> list[ToolSpec]:
        log.append(("ganpaint_register_tools", None))
        return [tool("full-tool", params=(ParamSpec("strength", "float", default=0.5, minimum=0, maximum=1),))]

    def ganpaint_register_models() -> list[ModelSpec]:
        log.append(("ganpaint_register_models", None))
        return [ModelSpec(name="full-model", tool="full-tool", path="/nowhere/full.safetensors")]

    def ganpaint_register_recipes() -> list[RecipeSpec]:
        log.append(("ganpaint_register_recipes", None))
        return [RecipeSpec(id="full-recipe", title="Full", factory="gp_sample_tools:identity")]

    def ganpaint_startup(host_info: Any) -> None:
        log.append(("ganpaint_startup", host_info))

    def ganpaint_shutdown() -> None:
        log.append(("ganpaint_shutdown", None))

    def ganpaint_document_saved(path: str) -> None:
        log.append(("ganpaint_document_saved", path))

    return make_plugin(
        ganpaint_register_tools=ganpaint_register_tools,
        ganpaint_register_models=ganpaint_register_models,
        ganpaint_register_recipes=ganpaint_register_recipes,
        ganpaint_startup=ganpaint_startup,
        ganpaint_shutdown=ganpaint_shutdown,
        ganpaint_document_saved=ganpaint_document_saved,
    )
