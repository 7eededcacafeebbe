"""Error messages the user can act on: a one-line message, details (a traceback) folded away.

``show_error`` is modal; ``build_error_box`` returns the same box unshown (tests, or a
non-blocking ``box.open()``).
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def build_error_box(
    parent: QWidget | None, title: str, message: str, details: str | None = None, *, warning: bool = False
) -> QMessageBox:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Critical)
    box.setWindowTitle(title)
    box.setText(message)
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    return box


def show_error(parent: QWidget | None, title: str, message: str, details: str | None = None) -> None:
    """Show a modal error box: ``message`` says what happened and what to do; ``details``
    (for example a traceback) sit behind the "Show Details..." button."""
    build_error_box(parent, title, message, details).exec()


def plugin_error_text(plugin: str, message: str) -> str:
    return (
        f"The plugin “{plugin}” failed: {message}\n\n"
        "Your document is unchanged. If this keeps happening, disable the plugin in "
        "Edit → Plugins… and tell its author (the details below help them)."
    )


def tool_problem_text(tool: str, plugin: str, message: str) -> str:
    """A tool's ``ToolError`` (a problem the user can fix, such as a missing selection or
    model) in plain words: the tool's own sentence, then that nothing changed. No plugin
    jargon up front; the plugin is named last, for a user who wants to know whose words
    these are."""
    sentence = " ".join(message.split()) or "it stopped without saying why"
    sentence = sentence[:1].upper() + sentence[1:]
    if sentence[-1] not in ".!?…":
        sentence += "."
    source = f" (This message comes from the plugin “{plugin}”.)" if plugin else ""
    return f"{tool} could not run. {sentence}\n\nNothing was changed.{source}"


def build_plugin_error_box(
    parent: QWidget | None, plugin: str, message: str, details: str | None = None
) -> QMessageBox:
    return build_error_box(parent, f"Plugin {plugin} failed", plugin_error_text(plugin, message), details)


def show_plugin_error(parent: QWidget | None, plugin: str, message: str, details: str | None = None) -> None:
    """The "plugin failed" message, naming the plugin (used when a tool raises while running)."""
    build_plugin_error_box(parent, plugin, message, details).exec()
