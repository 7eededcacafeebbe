"""The History panel: every kept undo step; clicking a row undoes or redoes to it.

``HistoryPanel(document=None, parent=None)``; ``set_document(doc)``. Row 0 is the oldest
kept state, row i the state after step i. Steps that can be redone are shown faded.
Signal ``jumped(int)`` after a click moved the history (the new index).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, QSize, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget
from shiboken6 import isValid

from ganpaint.qt.icons import icon


def steps_text(n: int) -> str:
    """"1 step", "2 steps", "0 steps": the footer's count."""
    return f"{n} step" if n == 1 else f"{n} steps"


class HistoryPanel(QWidget):
    jumped = Signal(int)

    def __init__(self, document: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: Any = None
        self.list = QListWidget()
        self.list.setUniformItemSizes(True)
        self.list.setIconSize(QSize(12, 12))  # fits a text row: a larger icon is clipped
        self.list.itemClicked.connect(self._on_clicked)
        self.list.currentRowChanged.connect(self._on_row)
        self.memory = QLabel()
        self.memory.setProperty("role", "hint")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.memory)
        self.set_document(document)

    def set_document(self, document: Any) -> None:
        if self.document is not None:
            self.document.events.history_changed.disconnect(self.refresh, missing_ok=True)
        self.document = document
        if document is not None:
            document.events.history_changed.connect(self.refresh)
        self.refresh()

    def refresh(self, *_: Any) -> None:
        if not isValid(self):  # the document outlived this panel
            return
        with QSignalBlocker(self.list):
            self.list.clear()
            if self.document is None:
                self.memory.setText("")
                return
            hist = self.document.history
            dropped = getattr(hist, "dropped", 0)
            first = QListWidgetItem(icon("document-new"), "Opened" if not dropped else "Oldest kept step")
            self.list.addItem(first)
            faded = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
            for i, title in enumerate(hist.entries, start=1):
                item = QListWidgetItem(title)
                if i > hist.index:  # undone: still redoable
                    item.setForeground(faded)
                    font = QFont(item.font())
                    font.setItalic(True)
                    item.setFont(font)
                self.list.addItem(item)
            self.list.setCurrentRow(hist.index)
            self.list.scrollToItem(self.list.currentItem())
            mb = getattr(hist, "nbytes", 0) / (1024 * 1024)
            self.memory.setText(f"{steps_text(len(hist.entries))}, {mb:.1f} of {hist.limit_mb:.0f} MB")

    def _on_clicked(self, item: QListWidgetItem) -> None:
        self._jump(self.list.row(item))

    def _on_row(self, row: int) -> None:
        # keyboard navigation moves the history too
        if self.document is not None and row >= 0 and row != self.document.history.index:
            self._jump(row)

    def _jump(self, row: int) -> None:
        if self.document is None or row < 0:
            return
        hist = self.document.history
        if row != hist.index:
            hist.goto(row)
            self.jumped.emit(hist.index)
