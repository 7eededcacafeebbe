"""Dockable panels: Layers, Tools (with the active plugin tool's parameters), History, Jobs.

Each panel is a plain QWidget; the main window puts it in a QDockWidget.
"""

from ganpaint.qt.panels.history import HistoryPanel
from ganpaint.qt.panels.jobs import JobsPanel
from ganpaint.qt.panels.layers import LayersPanel
from ganpaint.qt.panels.tools import CANVAS_TOOLS, BrushSettings, ToolsPanel

__all__ = ["CANVAS_TOOLS", "BrushSettings", "HistoryPanel", "JobsPanel", "LayersPanel", "ToolsPanel"]
