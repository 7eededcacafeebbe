"""The Tools panel: canvas tool buttons, brush settings, and the active plugin tool's panel.

``ToolsPanel(document=None, list_models=None, parent=None)``
Signals:
  ``toolChanged(str)``                 a canvas tool id from CANVAS_TOOLS was chosen;
  ``brushChanged(BrushSettings)``      size, hardness, opacity or colour changed;
  ``pluginToolChanged(str)``           the plugin tool chosen in the combo ("" = none);
  ``runRequested(str, dict, dict)``    tool id, values, role_layers (its Run button);
  ``liveChanged(str, dict, bool)``     tool id, values, preview: a live parameter moved
                                       (ParamPanel.liveChanged: drafts while a slider is held).
Canvas tools: brush, eraser, picker, rect_select, ellipse_select, lasso_select,
mask_brush, move (CANVAS_TOOLS gives title, icon and suggested shortcut of each).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QColorDialog,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ganpaint.core.specs import ToolSpec

# (id, title, shortcut) of every canvas tool, in button order: the main window's list, so
# the panel, the menus and the shortcuts never disagree
from ganpaint.qt.document_controller import CANVAS_TOOLS  # noqa: E402
from ganpaint.qt.icons import TOOL_ICONS, icon
from ganpaint.qt.param_fields import ListModels, colour_icon
from ganpaint.qt.params import ParamPanel
from ganpaint.qt.sliders import LabeledDoubleSlider, LabeledSlider

MAX_BRUSH = 1000
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrushSettings:
    """What the brush, eraser and mask brush paint with. ``color`` is RGB floats in [0, 1]."""

    size: int = 24
    hardness: float = 0.8
    opacity: float = 1.0
    color: tuple[float, float, float] = (0.0, 0.0, 0.0)


class _CurrentPageStack(QStackedWidget):
    """A stack as tall as the page it shows (QStackedWidget takes its tallest page's size and
    height-for-width, so in a scroll area a short tool scrolled over a long one's empty height)."""

    def __init__(self) -> None:
        super().__init__()
        self.currentChanged.connect(lambda _i: self.updateGeometry())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        page = self.currentWidget()
        return page.sizeHint() if page is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        page = self.currentWidget()
        return page.minimumSizeHint() if page is not None else super().minimumSizeHint()

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name (the scroll area asks it)
        page = self.currentWidget()
        return page.heightForWidth(width) if page is not None else super().heightForWidth(width)


class ToolsPanel(QWidget):
    toolChanged = Signal(str)
    brushChanged = Signal(object)
    pluginToolChanged = Signal(str)
    runRequested = Signal(str, object, object)
    liveChanged = Signal(str, object, bool)

    def __init__(
        self, document: Any = None, list_models: ListModels | None = None, parent: QWidget | None = None,
        *, jobs: Any = None, hidden_params: Any = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.list_models = list_models
        #: ``hidden_params(spec, values) -> names`` each tool panel asks (ParamPanel's)
        self.hidden_params = hidden_params
        self.jobs = jobs  # the JobBridge the panels draw seed thumbnails with
        self._brush = BrushSettings()
        self._specs: dict[str, ToolSpec] = {}
        self._panels: dict[str, ParamPanel] = {}

        # canvas tools
        self.tool_group = QButtonGroup(self)
        self.tool_group.setExclusive(True)
        self.tool_buttons: dict[str, QToolButton] = {}
        grid = QGridLayout()
        grid.setSpacing(2)
        for n, (tool_id, title, key) in enumerate(CANVAS_TOOLS):
            b = QToolButton()
            b.setCheckable(True)
            b.setIcon(icon(TOOL_ICONS[tool_id]))
            b.setIconSize(b.iconSize() * 1.25)
            b.setToolTip(f"{title} ({key})")
            b.setAutoRaise(True)
            b.setProperty("tool_id", tool_id)
            self.tool_group.addButton(b)
            self.tool_buttons[tool_id] = b
            grid.addWidget(b, n // 4, n % 4)
        self.tool_buttons["brush"].setChecked(True)
        self.tool_group.buttonToggled.connect(self._on_tool_toggled)

        # brush settings
        brush_box = QGroupBox("Brush")
        form = QFormLayout(brush_box)
        self.size = LabeledSlider(Qt.Orientation.Horizontal)
        self.size.setRange(1, MAX_BRUSH)
        self.size.setValue(self._brush.size)
        self.hardness = LabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.hardness.setRange(0.0, 1.0)
        self.hardness.setDecimals(2)
        self.hardness.setValue(self._brush.hardness)
        self.opacity = LabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0.0, 1.0)
        self.opacity.setDecimals(2)
        self.opacity.setValue(self._brush.opacity)
        self.color_button = QPushButton()
        self.color_button.clicked.connect(self.choose_color)
        form.addRow("Size:", self.size)
        form.addRow("Hardness:", self.hardness)
        form.addRow("Opacity:", self.opacity)
        form.addRow("Colour:", self.color_button)
        self.size.valueChanged.connect(lambda v: self._set_brush(size=int(v)))
        self.hardness.valueChanged.connect(lambda v: self._set_brush(hardness=float(v)))
        self.opacity.valueChanged.connect(lambda v: self._set_brush(opacity=float(v)))
        self._show_color()

        # plugin tool
        plugin_box = QGroupBox("Plugin tool")
        plugin_lay = QVBoxLayout(plugin_box)
        self.plugin_combo = QComboBox()
        self.plugin_combo.currentIndexChanged.connect(self._on_plugin_combo)
        self.stack = _CurrentPageStack()
        self.empty = QLabel("No plugin tools are loaded. Edit → Plugins… lists the plugins and why.")
        self.empty.setWordWrap(True)
        self.empty.setProperty("role", "hint")
        self.stack.addWidget(self.empty)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        # scroll vertically only: the parameter panel wraps to the dock's width
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # its room kept always: sliders keep their width when a longer tool needs the bar
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        scroll.setWidget(self.stack)
        self._scroll = scroll
        plugin_lay.addWidget(self.plugin_combo)
        plugin_lay.addWidget(scroll, 1)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(grid)
        lay.addWidget(brush_box)
        lay.addWidget(plugin_box, 1)
        self.set_plugin_tools([])

    # ------------------------------------------------------------------ canvas tools

    def tool(self) -> str:
        b = self.tool_group.checkedButton()
        return str(b.property("tool_id")) if b is not None else ""

    def set_tool(self, tool_id: str) -> None:
        if tool_id not in self.tool_buttons:
            raise KeyError(f"unknown canvas tool {tool_id!r}")
        self.tool_buttons[tool_id].setChecked(True)

    def _on_tool_toggled(self, button: QToolButton, checked: bool) -> None:
        if checked:
            self.toolChanged.emit(str(button.property("tool_id")))

    # ------------------------------------------------------------------ brush

    def brush(self) -> BrushSettings:
        return self._brush

    def set_brush(self, **changes: Any) -> None:
        """Change size, hardness, opacity and/or color (the widgets follow)."""
        new = replace(self._brush, **changes)
        with QSignalBlocker(self.size), QSignalBlocker(self.hardness), QSignalBlocker(self.opacity):
            self.size.setValue(int(new.size))
            self.hardness.setValue(float(new.hardness))
            self.opacity.setValue(float(new.opacity))
        self._set_brush(**changes)

    def set_color(self, rgb: tuple[float, float, float]) -> None:
        """The colour picker's result."""
        self._set_brush(color=rgb)

    def bigger_brush(self) -> None:
        """The ] key: about 15% larger (at least one pixel)."""
        s = self._brush.size
        self.set_brush(size=min(MAX_BRUSH, max(s + 1, round(s * 1.15))))

    def smaller_brush(self) -> None:
        """The [ key."""
        s = self._brush.size
        self.set_brush(size=max(1, min(s - 1, round(s / 1.15))))

    def choose_color(self) -> None:
        c = QColorDialog.getColor(QColor.fromRgbF(*self._brush.color), self, "Brush colour")
        if c.isValid():
            self.set_color((c.redF(), c.greenF(), c.blueF()))

    def _set_brush(self, **changes: Any) -> None:
        if "size" in changes:
            changes["size"] = max(1, min(MAX_BRUSH, int(round(changes["size"]))))
        if "color" in changes:
            changes["color"] = tuple(float(c) for c in changes["color"])[:3]
        new = replace(self._brush, **changes)
        if new == self._brush:
            return
        self._brush = new
        self._show_color()
        self.brushChanged.emit(new)

    def _show_color(self) -> None:
        self.color_button.setIcon(colour_icon(self._brush.color))
        self.color_button.setText(QColor.fromRgbF(*self._brush.color).name())

    # ------------------------------------------------------------------ plugin tools

    def set_plugin_tools(self, specs: list[ToolSpec] | dict[str, ToolSpec]) -> None:
        """The tools to offer (the plugin manager's ``tools()``), grouped by category.
        Panels of tools that remain keep their values."""
        items = list(specs.values()) if isinstance(specs, dict) else list(specs)
        current = self.plugin_tool()
        self._specs = {s.id: s for s in items}
        for tool_id in [t for t in self._panels if t not in self._specs]:
            panel = self._panels.pop(tool_id)
            panel.set_document(None)  # stop listening before the widget goes
            self.stack.removeWidget(panel)
            panel.deleteLater()
        with QSignalBlocker(self.plugin_combo):
            self.plugin_combo.clear()
            for spec in sorted(items, key=lambda s: (s.category, s.title.lower())):
                self.plugin_combo.addItem(f"{spec.category} › {spec.title}", spec.id)
                self.plugin_combo.setItemData(
                    self.plugin_combo.count() - 1, spec.description or spec.title, Qt.ItemDataRole.ToolTipRole
                )
        self.plugin_combo.setEnabled(bool(items))
        if current in self._specs:
            self.set_plugin_tool(current)
        elif items:
            self.plugin_combo.setCurrentIndex(0)
            self._on_plugin_combo(0)
        else:
            self.stack.setCurrentWidget(self.empty)
            self.pluginToolChanged.emit("")

    def plugin_tool(self) -> str:
        data = self.plugin_combo.currentData()
        return str(data) if data else ""

    def set_plugin_tool(self, tool_id: str) -> ParamPanel:
        """Make ``tool_id`` the active plugin tool and return its panel."""
        i = self.plugin_combo.findData(tool_id)
        if i < 0:
            raise KeyError(f"no plugin tool {tool_id!r}")
        if i != self.plugin_combo.currentIndex():
            self.plugin_combo.setCurrentIndex(i)  # -> _on_plugin_combo
        else:
            self._show_panel(tool_id)
        return self._panels[tool_id]

    def param_panel(self, tool_id: str | None = None) -> ParamPanel | None:
        """The panel of ``tool_id`` (default: the active plugin tool), if built."""
        return self._panels.get(tool_id or self.plugin_tool())

    def _on_plugin_combo(self, _index: int) -> None:
        tool_id = self.plugin_tool()
        if tool_id:
            self._show_panel(tool_id)
            self.pluginToolChanged.emit(tool_id)

    def _show_panel(self, tool_id: str) -> None:
        panel = self._panels.get(tool_id)
        if panel is None:
            panel = ParamPanel(self._specs[tool_id], self.document, self.list_models, jobs=self.jobs,
                               hidden_params=self.hidden_params)
            panel.runRequested.connect(self.runRequested)
            panel.liveChanged.connect(lambda values, preview, t=tool_id: self.liveChanged.emit(t, values, preview))
            self._panels[tool_id] = panel
            self.stack.addWidget(panel)
        self.stack.setCurrentWidget(panel)
        self._scroll.setWidgetResizable(True)  # re-fits the stack to this page now
        # a newly shown tool starts at its top, not at the last tool's scroll offset
        self._scroll.verticalScrollBar().setValue(0)

    def set_document(self, document: Any) -> None:
        """Follow another document (File > Open, New). When its active layer is a tool's
        result (an .ora saved with one selected), that tool's panel shows the layer's stored
        parameters at once, as when the layer is clicked."""
        self.document = document
        for panel in self._panels.values():
            panel.set_document(document)
        self.show_result(getattr(document, "active_layer", None))

    def show_result(self, layer: Any) -> ParamPanel | None:
        """``layer`` is a result of a loaded tool: make that tool the active plugin tool and
        show the layer's parameters (``ResultInfo.params``) silently, so nothing re-runs.
        Returns that panel; None, changing nothing, for any other layer."""
        info = getattr(layer, "result", None)
        if info is None or info.tool_id not in self._specs:
            return None
        pp = self.set_plugin_tool(info.tool_id)
        if pp.is_dragging():
            return pp  # never move a slider under the user's hand
        try:
            if pp.values() != dict(info.params):
                pp.set_values(dict(info.params), silent=True)
        except ValueError as exc:  # parameters of an older version of the tool
            log.info("cannot show the parameters of %s: %s", info.tool_id, exc)
        return pp

    def set_list_models(self, list_models: ListModels | None) -> None:
        self.list_models = list_models
        for panel in self._panels.values():
            for f in panel.fields.values():
                if hasattr(f, "_list_models"):
                    f._list_models = list_models
            panel.refresh_models()

    def refresh_models(self) -> None:
        """After the Models dialog changed the store."""
        for panel in self._panels.values():
            panel.refresh_models()
