"""The plugin host (pluggy): hookspecs, manager, errors, discovery.

Call sites use :class:`PluginManager`'s typed methods, never ``pm.hook.*``.
Names are imported lazily: ``import ganpaint`` pulls in ``markers`` only.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ganpaint.plugins.errors import (
        IncompatiblePluginError,
        PluginError,
        PluginLoadError,
        PluginRunError,
        UnknownToolError,
    )
    from ganpaint.plugins.hookspecs import HostInfo
    from ganpaint.plugins.manager import PluginManager
    from ganpaint.plugins.records import PluginRecord
    from ganpaint.plugins.report import format_plugin_table

_WHERE = {
    "IncompatiblePluginError": "errors",
    "PluginError": "errors",
    "PluginLoadError": "errors",
    "PluginRunError": "errors",
    "UnknownToolError": "errors",
    "HostInfo": "hookspecs",
    "PluginManager": "manager",
    "PluginRecord": "records",
    "format_plugin_table": "report",
}

__all__ = [
    "HostInfo",
    "IncompatiblePluginError",
    "PluginError",
    "PluginLoadError",
    "PluginManager",
    "PluginRecord",
    "PluginRunError",
    "UnknownToolError",
    "format_plugin_table",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'ganpaint.plugins' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ganpaint.plugins.{module}"), name)
