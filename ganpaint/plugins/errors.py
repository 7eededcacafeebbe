"""Errors raised by the plugin host. Each one names the plugin it is about."""

from __future__ import annotations


class PluginError(Exception):
    """Base class: something went wrong in (or with) a named plugin."""

    def __init__(self, plugin: str, message: str) -> None:
        super().__init__(f"plugin {plugin!r}: {message}" if plugin else message)
        self.plugin = plugin
        self.message = message


class PluginLoadError(PluginError):
    """A plugin could not be imported or registered (recorded, never raised to the app)."""


class IncompatiblePluginError(PluginLoadError):
    """A plugin declares no ``GANPAINT_API_VERSION`` or a major version this host does not speak."""


class PluginRunError(PluginError):
    """A plugin's lazy code (``"module:attr"``) failed to import, or a tool raised while running.

    ``tool`` is the tool id when known. ``ToolError`` and ``JobCancelled`` are never
    wrapped: they are the normal ways for a tool to stop.
    """

    def __init__(self, plugin: str, message: str, tool: str = "") -> None:
        super().__init__(plugin, f"tool {tool!r}: {message}" if tool else message)
        self.tool = tool


class UnknownToolError(KeyError):
    """``PluginManager.tool(id)`` was asked for a tool no loaded plugin provides."""

    def __init__(self, tool_id: str, known: list[str]) -> None:
        super().__init__(tool_id)
        self.tool_id = tool_id
        self.known = known

    def __str__(self) -> str:
        known = ", ".join(self.known) or "none"
        return f"unknown tool {self.tool_id!r} (known tools: {known})"
