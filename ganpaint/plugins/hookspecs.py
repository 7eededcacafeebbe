"""Hook specifications: the reference for plugin authors.

Every hook is prefixed ``ganpaint_``. A plugin implements any subset of them with
functions (or methods) of the same name marked ``@ganpaint.hookimpl``; an
implementation may accept fewer arguments than the spec lists.

*Contribution hooks* are named ``ganpaint_register_*``. The host calls them once,
right after it loads the plugin, and each returns a **list** of frozen descriptors
from ``ganpaint.core.specs``. Descriptors name their code as lazy
``"module:attr"`` strings, so discovery never imports a plugin's heavy modules.
A plugin whose contribution hook raises, returns something other than a list, or
returns a malformed descriptor is not loaded at all (status ``failed``); other
plugins are not affected.

*Event hooks* return None. Each implementation is called on its own; one that
raises is recorded against its plugin and the others still run.

A plugin module (or object) also declares the plugin-API **major** version it was
written for, as an attribute ``GANPAINT_API_VERSION = 1``. A plugin without it, or
with another major version, is not loaded (status ``incompatible``).

``docs/plugins.md`` carries a hook reference generated from this module
(``python -m ganpaint.plugins.docgen``); a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ganpaint.core.specs import ModelSpec, RecipeSpec, ToolSpec
from ganpaint.plugins.markers import hookspec


@dataclass(frozen=True)
class HostInfo:
    """What ``ganpaint_startup`` tells a plugin about the application that loaded it."""

    #: GANPaint's version, e.g. "0.1.0"
    app_version: str
    #: the plugin API this host implements, (major, minor)
    api_version: tuple[int, int]
    #: "gui" (the editor), "cli" (a command) or "test" (ganpaint.testing)
    frontend: Literal["gui", "cli", "test"]
    #: the user data folder (plugins, models, settings live below it)
    data_dir: str
    #: True when started with --safe-mode (only built-in plugins are loaded)
    safe_mode: bool = False


# --------------------------------------------------------------------------------------
# Contribution hooks
# --------------------------------------------------------------------------------------


@hookspec
def ganpaint_register_tools() -> list[ToolSpec]:
    """Contribute tools (filters, generators) to the Tools panel and the command line.

    Called once per plugin, right after the host loads it, before any window is
    shown. Keep it cheap: build descriptors only; the tool's code is named by
    ``ToolSpec.run`` (``"package.module:function"``) and imported on first use,
    inside a worker thread.

    Args:
        none.

    Returns:
        A list of ``ToolSpec``. Ids must be unique within the plugin; an id another
        plugin registered first is skipped and noted on this plugin's record. The
        host fills in ``ToolSpec.plugin``.
    """
    raise NotImplementedError


@hookspec
def ganpaint_register_models() -> list[ModelSpec]:
    """Contribute model files the plugin ships (read-only defaults of the model store).

    Called once per plugin, right after the host loads it. Do not open or hash the
    files here: the model store reads them when a tool first needs one.

    Args:
        none.

    Returns:
        A list of ``ModelSpec``; ``ModelSpec.path`` is an absolute path to a
        safetensors file inside the plugin's package, ``ModelSpec.tool`` the id of
        the tool that uses it. The host fills in ``ModelSpec.plugin``.
    """
    raise NotImplementedError


@hookspec
def ganpaint_register_recipes() -> list[RecipeSpec]:
    """Contribute training recipes (what "Train a model" offers for a tool).

    Called once per plugin, right after the host loads it. ``RecipeSpec.factory``
    names the recipe's code lazily; it is imported when training starts.

    Args:
        none.

    Returns:
        A list of ``RecipeSpec`` with ids unique across plugins (first wins). The host
        fills in ``RecipeSpec.plugin``.
    """
    raise NotImplementedError


# --------------------------------------------------------------------------------------
# Event hooks
# --------------------------------------------------------------------------------------


@hookspec
def ganpaint_startup(host_info: HostInfo) -> None:
    """The application finished loading plugins and is about to show its window
    (or run its command).

    Called once per run, after every plugin's contribution hooks, on the main
    thread. Use it for cheap set-up (read your own settings); never import torch
    or load models here, since the window waits for this call.

    Args:
        host_info: a ``HostInfo`` with the app version, the host's plugin API
            version, the front end ("gui", "cli" or "test"), the user data folder
            and whether safe mode is on.

    Returns:
        None.
    """


@hookspec
def ganpaint_shutdown() -> None:
    """The application is closing.

    Called once per run, on the main thread, after running jobs were cancelled and
    before the process exits. Flush and close what you opened; keep it quick.

    Args:
        none.

    Returns:
        None.
    """


@hookspec
def ganpaint_document_saved(path: str) -> None:
    """A document was written to disk successfully (Save, Save As, Export, or a
    ``ganpaint run`` output).

    Called on the main thread after the file was renamed into place, so the file at
    ``path`` is complete. Not called for autosave to the recovery folder.

    Args:
        path: the absolute path of the file just written (.ora, .png, ...).

    Returns:
        None.
    """


#: The hook names, in the order the reference lists them.
HOOK_NAMES: tuple[str, ...] = (
    "ganpaint_register_tools",
    "ganpaint_register_models",
    "ganpaint_register_recipes",
    "ganpaint_startup",
    "ganpaint_shutdown",
    "ganpaint_document_saved",
)
CONTRIBUTION_HOOKS: tuple[str, ...] = HOOK_NAMES[:3]
EVENT_HOOKS: tuple[str, ...] = HOOK_NAMES[3:]
