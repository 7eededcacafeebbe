"""Hook specifications: the reference for plugin authors.

(Skeleton written by the coordinator; the plugin-host owner completes the docs.)
Every hook is prefixed ``ganpaint_``. Contribution hooks are named
``ganpaint_register_*`` and return a list of frozen descriptors from
``ganpaint.core.specs``; event hooks return None.

A plugin module (or object) also declares the plugin-API major version it was
written for as a module attribute ``GANPAINT_API_VERSION = 1``.
"""

from __future__ import annotations

from ganpaint.core.specs import ModelSpec, RecipeSpec, ToolSpec
from ganpaint.plugins.markers import hookspec


@hookspec
def ganpaint_register_tools() -> list[ToolSpec]:
    """Return the tools this plugin contributes."""
    raise NotImplementedError


@hookspec
def ganpaint_register_models() -> list[ModelSpec]:
    """Return the model files this plugin ships (read-only defaults)."""
    raise NotImplementedError


@hookspec
def ganpaint_register_recipes() -> list[RecipeSpec]:
    """Return the training recipes this plugin contributes."""
    raise NotImplementedError
