"""Light and dark themes, applied app-wide: the Fusion style, a palette and a little QSS.

Fusion draws the same on every platform and follows the palette fully, so one palette per
theme is enough; the QSS only adds what a palette cannot say (panel headers, badges).
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from ganpaint.qt import icons

THEMES = ("light", "dark")

_COLOURS: dict[str, dict[str, str]] = {
    "light": {
        "window": "#efefef", "text": "#1e1e1e", "base": "#ffffff", "alt": "#f5f5f5",
        "button": "#e4e4e4", "highlight": "#2f7bd6", "hl_text": "#ffffff", "mid": "#b8b8b8",
        "disabled": "#9a9a9a", "link": "#1d63b8", "tooltip": "#ffffe6",
    },
    "dark": {
        "window": "#2b2b2b", "text": "#dcdcdc", "base": "#1f1f1f", "alt": "#262626",
        "button": "#383838", "highlight": "#3d8ee6", "hl_text": "#ffffff", "mid": "#555555",
        "disabled": "#6e6e6e", "link": "#6aaef5", "tooltip": "#3a3a3a",
    },
}

_QSS = """
QDockWidget::title {{ padding: 4px 6px; background: {button}; }}
QToolButton:checked {{ background: {highlight}; color: {hl_text}; border-radius: 3px; }}
QLabel[role="badge"] {{ border-radius: 3px; padding: 0 4px; color: {hl_text}; }}
QLabel[role="hint"] {{ color: {disabled}; }}
QProgressBar {{ max-height: 14px; text-align: center; }}
"""


def palette_for(name: str) -> QPalette:
    """The QPalette of a theme ("light" or "dark")."""
    if name not in _COLOURS:
        raise ValueError(f"unknown theme {name!r} (known: {', '.join(THEMES)})")
    c = {k: QColor(v) for k, v in _COLOURS[name].items()}
    R, G = QPalette.ColorRole, QPalette.ColorGroup
    pal = QPalette()
    pal.setColor(R.Window, c["window"])
    pal.setColor(R.WindowText, c["text"])
    pal.setColor(R.Base, c["base"])
    pal.setColor(R.AlternateBase, c["alt"])
    pal.setColor(R.ToolTipBase, c["tooltip"])
    pal.setColor(R.ToolTipText, c["text"])
    pal.setColor(R.PlaceholderText, c["disabled"])
    pal.setColor(R.Text, c["text"])
    pal.setColor(R.Button, c["button"])
    pal.setColor(R.ButtonText, c["text"])
    pal.setColor(R.BrightText, QColor("#ff5050"))
    pal.setColor(R.Highlight, c["highlight"])
    pal.setColor(R.HighlightedText, c["hl_text"])
    pal.setColor(R.Link, c["link"])
    pal.setColor(R.Mid, c["mid"])
    pal.setColor(R.Midlight, c["mid"].lighter(120))
    pal.setColor(R.Dark, c["mid"].darker(150))
    pal.setColor(R.Shadow, QColor("#000000"))
    for role in (R.WindowText, R.Text, R.ButtonText):
        pal.setColor(G.Disabled, role, c["disabled"])
    return pal


def stylesheet_for(name: str) -> str:
    return _QSS.format(**_COLOURS[name])


def apply_theme(app: QApplication, name: str) -> str:
    """Apply a theme to the whole application. ``name`` is "light", "dark" or "system"
    (system picks dark when the platform's colour scheme is dark). Returns the theme used."""
    if name == "system":
        from PySide6.QtCore import Qt

        scheme = app.styleHints().colorScheme()
        name = "dark" if scheme == Qt.ColorScheme.Dark else "light"
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r} (known: light, dark, system)")
    if "Fusion" in QStyleFactory.keys():
        app.setStyle("Fusion")
    app.setPalette(palette_for(name))
    app.setStyleSheet(stylesheet_for(name))
    app.setProperty("ganpaint_theme", name)
    icons.clear_cache()  # icons take the ink colour of the new palette
    return name


def current_theme(app: QApplication) -> str:
    value = app.property("ganpaint_theme")
    return str(value) if value else "light"
