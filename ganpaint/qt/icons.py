"""The application's icons: simple SVGs drawn for GANPaint, rendered at any size.

The SVG files live in ``ganpaint/qt/resources/icons`` (inside the package so a wheel ships
them). They are drawn with one neutral ink colour (``#5a5a5a``); ``icon()`` swaps it for
the current theme's text colour when painting, so the same files serve the light and dark
themes and icons already on screen follow a theme change.
Rendering goes through a small QIconEngine, so icons stay sharp on high-DPI screens.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QIconEngine, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

ICON_DIR = Path(__file__).resolve().parent / "resources" / "icons"
_INK = "#5a5a5a"

#: Canvas tools -> icon names (used by the Tools panel and the main window's actions).
TOOL_ICONS: dict[str, str] = {
    "brush": "brush",
    "eraser": "eraser",
    "picker": "picker",
    "rect_select": "select-rect",
    "ellipse_select": "select-ellipse",
    "lasso_select": "select-lasso",
    "mask_brush": "mask-brush",
    "mask_eraser": "mask-eraser",
    "move": "move",
}


def icon_names() -> list[str]:
    """Names of every icon shipped (file stems)."""
    return sorted(p.stem for p in ICON_DIR.glob("*.svg"))


def icon_path(name: str) -> Path:
    path = ICON_DIR / f"{name}.svg"
    if not path.is_file():
        raise KeyError(f"no icon named {name!r} in {ICON_DIR}")
    return path


class _SvgEngine(QIconEngine):
    """Renders one SVG at whatever size Qt asks for, in the current palette's ink colour
    (so icons already on screen follow a theme change); disabled icons are drawn faded."""

    def __init__(self, svg: str) -> None:
        super().__init__()
        self._svg = svg
        self._renderers: dict[str, QSvgRenderer] = {}  # ink colour -> renderer

    def _current_renderer(self, selected: bool = False) -> QSvgRenderer:
        ink = _ink_colour(selected)
        r = self._renderers.get(ink)
        if r is None:
            if len(self._renderers) > 4:  # a few theme switches: keep the cache small
                self._renderers.clear()
            r = self._renderers[ink] = QSvgRenderer(QByteArray(self._svg.replace(_INK, ink).encode("utf-8")))
        return r

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        painter.save()
        if mode == QIcon.Mode.Disabled:
            painter.setOpacity(0.35)
        # on a selected row the ink follows the highlighted text, not the window text
        renderer = self._current_renderer(selected=mode == QIcon.Mode.Selected)
        renderer.render(painter, rect.toRectF() if hasattr(rect, "toRectF") else rect)
        painter.restore()

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        pm = QPixmap(size)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        self.paint(painter, QRect(QPoint(0, 0), size), mode, state)
        painter.end()
        return pm

    def clone(self) -> QIconEngine:
        return _SvgEngine(self._svg)


def _ink_colour(selected: bool = False) -> str:
    if QGuiApplication.instance() is None:
        return _INK
    pal = QGuiApplication.palette()
    if selected:
        return pal.color(QPalette.ColorRole.HighlightedText).name()
    text = pal.color(QPalette.ColorRole.WindowText)
    base = pal.color(QPalette.ColorRole.Window)
    # a mid-tone of the text colour: readable, quieter than text
    mixed = QColor(
        (text.red() * 3 + base.red()) // 4,
        (text.green() * 3 + base.green()) // 4,
        (text.blue() * 3 + base.blue()) // 4,
    )
    return mixed.name()


@cache
def icon(name: str) -> QIcon:
    """The named icon; it is drawn in the current theme's ink colour whenever it is painted.
    Unknown names raise KeyError."""
    return QIcon(_SvgEngine(icon_path(name).read_text(encoding="utf-8")))


def clear_cache() -> None:
    """Forget the loaded icons (not needed for a theme change: icons re-ink themselves)."""
    icon.cache_clear()
