"""GANPaint's dialogs: plugins, models, about, preferences, resize, and error messages."""

from ganpaint.qt.dialogs.errors import build_error_box, show_error, show_plugin_error

__all__ = ["build_error_box", "show_error", "show_plugin_error"]
