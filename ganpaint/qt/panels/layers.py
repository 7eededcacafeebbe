"""The Layers panel: the stack (top first) with visibility, thumbnail, name, kind badge and
lock; the active layer's opacity, blend mode and kind below; buttons for add, delete,
duplicate, up, down, merge down and flatten.

``LayersPanel(document=None, parent=None)``; ``set_document(doc)``. Every change goes through
a Document method, so each is one undoable step (opacity drags merge into one step).
The panel holds no layer state of its own: it redraws from the document's events.
Signal ``errorOccurred(str)``: an operation was refused (a locked layer, nothing below to
merge into ...); the main window shows it in the status bar.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from PySide6.QtCore import QRect, QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QDropEvent, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from ganpaint.core.layers import BlendMode, LayerKind
from ganpaint.qt.icons import icon
from ganpaint.qt.sliders import LabeledSlider

COL_VISIBLE, COL_NAME, COL_KIND, COL_LOCK = range(4)
#: item data role holding what a row shows (refresh fills a row again only when it changed)
_LOOK_ROLE = Qt.ItemDataRole.UserRole + 7
#: item data role holding the row's layer id
_ID_ROLE = Qt.ItemDataRole.UserRole
THUMB = 40
BADGE_COLOURS = {"sketch": "#5b6ee1", "hints": "#d9822b", "mask": "#c0392b", "result": "#2e9d5b"}


def thumbnail(pixels: np.ndarray, size: int = THUMB) -> QPixmap:
    """A small picture of an (h, w, 4) uint8 straight-alpha layer over a checkerboard."""
    h, w = pixels.shape[:2]
    step = max(1, int(np.ceil(max(h, w) / size)))
    small = np.ascontiguousarray(pixels[::step, ::step, :4])
    sh, sw = small.shape[:2]
    img = QImage(small.data, sw, sh, sw * 4, QImage.Format.Format_RGBA8888).copy()
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    x0, y0 = (size - sw) // 2, (size - sh) // 2
    p.drawImage(x0, y0, _checkerboard(size), 0, 0, sw, sh)
    p.drawImage(x0, y0, img)
    p.end()
    return pm


_CHECKERS: dict[int, QImage] = {}


def _checkerboard(size: int, cell: int = 5) -> QImage:
    """The checkerboard under thumbnails, drawn once per size (its top-left part is used; a
    burst of new result rows drew ~50 cells for each)."""
    img = _CHECKERS.get(size)
    if img is None:
        img = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        p = QPainter(img)
        for yy in range(0, size, cell):
            for xx in range(0, size, cell):
                light = ((xx // cell) + (yy // cell)) % 2 == 0
                p.fillRect(xx, yy, min(cell, size - xx), min(cell, size - yy),
                           QColor("#ffffff" if light else "#cccccc"))
        p.end()
        _CHECKERS[size] = img
    return img


def _small_icon(name: str, box: int = THUMB, size: int = 18) -> QIcon:
    """An icon drawn small in the middle of a thumbnail-sized box (the list has one icon size).

    Kept per name, size, screen scale and theme colours: the list asks for two per row on
    every rebuild, and drawing them was most of a rebuild's time at 200 layers."""
    from PySide6.QtGui import QGuiApplication, QPalette

    dpr = QGuiApplication.primaryScreen().devicePixelRatio() if QGuiApplication.primaryScreen() else 1.0
    pal = QGuiApplication.palette()
    key = (name, box, size, dpr, pal.color(QPalette.ColorRole.WindowText).rgba(),
           pal.color(QPalette.ColorRole.Window).rgba(), pal.color(QPalette.ColorRole.HighlightedText).rgba())
    hit = _SMALL_ICONS.get(key)
    if hit is not None:
        return hit
    if len(_SMALL_ICONS) > 64:  # theme switches: keep it small
        _SMALL_ICONS.clear()
    _SMALL_ICONS[key] = out = _draw_small_icon(name, box, size, dpr)
    return out


_SMALL_ICONS: dict[tuple[Any, ...], QIcon] = {}


def _draw_small_icon(name: str, box: int, size: int, dpr: float) -> QIcon:
    out = QIcon()
    # a Selected pixmap of its own (drawn in the highlighted-text colour): without it Qt
    # tints the normal one with the highlight, and it fades into the selected row
    for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected):
        pm = QPixmap(round(box * dpr), round(box * dpr))
        pm.setDevicePixelRatio(dpr)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        off = (box - size) // 2
        icon(name).paint(p, QRect(off, off, size, size), Qt.AlignmentFlag.AlignCenter, mode)
        p.end()
        out.addPixmap(pm, mode)
    return out


def _kind_value(layer: Any) -> str:
    kind = getattr(layer, "kind", LayerKind.RASTER)
    return str(getattr(kind, "value", kind))


class _LayerTree(QTreeWidget):
    """The list; a drag reorders layers through the document (Qt never moves rows itself)."""

    rowMoved = Signal(int, int)  # from tree row, to tree row

    def __init__(self) -> None:
        super().__init__()
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        src = self.indexOfTopLevelItem(self.currentItem()) if self.currentItem() else -1
        target = self.itemAt(event.position().toPoint())
        n = self.topLevelItemCount()
        if target is None:
            dst = n - 1
        else:
            dst = self.indexOfTopLevelItem(target)
            below = self.dropIndicatorPosition() == QAbstractItemView.DropIndicatorPosition.BelowItem
            if below and dst < src:
                dst += 1
            elif not below and dst > src:
                dst -= 1
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if 0 <= src < n and 0 <= dst < n and src != dst:
            self.rowMoved.emit(src, dst)


class LayersPanel(QWidget):
    errorOccurred = Signal(str)

    def __init__(self, document: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: Any = None
        self.tree = _LayerTree()
        self.tree.rowMoved.connect(self.move_row)
        self.tree.setColumnCount(4)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIconSize(QSize(THUMB, THUMB))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        # a long name keeps its start and its end ("Inpaint … (copy 2)"), with a tooltip
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        for col in (COL_VISIBLE, COL_KIND, COL_LOCK):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemClicked.connect(self._on_clicked)
        self.tree.itemChanged.connect(self._on_item_changed)
        self.tree.currentItemChanged.connect(self._on_current)

        self.opacity = LabeledSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setToolTip("Opacity of the active layer (%)")
        self.opacity.valueChanged.connect(self._on_opacity)
        self.blend = QComboBox()
        for mode in BlendMode:
            self.blend.addItem(mode.value.capitalize(), mode.value)
        self.blend.currentIndexChanged.connect(self._on_blend)
        self.kind = QComboBox()
        for kind in LayerKind:
            self.kind.addItem(kind.value.capitalize(), kind.value)
        self.kind.setToolTip("What the layer is for: tools offer sketch, hints and mask layers for those inputs")
        self.kind.currentIndexChanged.connect(self._on_kind)
        props = QFormLayout()
        props.addRow("Opacity:", self.opacity)
        props.addRow("Blend:", self.blend)
        props.addRow("Kind:", self.kind)

        self.buttons: dict[str, QToolButton] = {}
        row = QHBoxLayout()
        row.setSpacing(1)
        for name, icon_name, tip, slot in (
            ("add", "layer-add", "New layer", self.add_layer),
            ("duplicate", "layer-duplicate", "Duplicate layer", self.duplicate_layer),
            ("up", "layer-up", "Move layer up", self.move_up),
            ("down", "layer-down", "Move layer down", self.move_down),
            ("merge", "merge-down", "Merge down", self.merge_down),
            ("flatten", "flatten", "Flatten image", self.flatten),
            ("delete", "layer-delete", "Delete layer", self.delete_layer),
        ):
            b = QToolButton()
            b.setIcon(icon(icon_name))
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.clicked.connect(slot)
            self.buttons[name] = b
            row.addWidget(b)
        row.addStretch(1)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.tree, 1)
        lay.addLayout(props)
        lay.addLayout(row)

        self._thumb_timer = QTimer(self)
        self._thumb_timer.setSingleShot(True)
        self._thumb_timer.setInterval(250)  # thumbnails lag strokes a little; painting stays fast
        self._thumb_timer.timeout.connect(self.refresh_thumbnails)
        #: layer id -> (sampled pixels' key, thumbnail icon)
        self._thumbs: dict[str, tuple[Any, QIcon]] = {}
        self._thumb_row = 0  # where a sliced refresh_thumbnails goes on
        self.set_document(document)

    # ------------------------------------------------------------------ document

    def set_document(self, document: Any) -> None:
        old = self.document
        if old is not None:
            ev = old.events
            ev.layers_changed.disconnect(self.refresh, missing_ok=True)
            ev.active_changed.disconnect(self._sync_active, missing_ok=True)
            ev.pixels_changed.disconnect(self._schedule_thumbs, missing_ok=True)
        self.document = document
        self._thumbs.clear()
        if document is not None:
            ev = document.events
            ev.layers_changed.connect(self.refresh)
            ev.active_changed.connect(self._sync_active)
            ev.pixels_changed.connect(self._schedule_thumbs)
        self.refresh()

    def row_of(self, index: int) -> int:
        """Tree row of the layer at document index ``index`` (the top layer is row 0)."""
        return len(self.document.layers) - 1 - index

    def index_of_row(self, row: int) -> int:
        return len(self.document.layers) - 1 - row

    def refresh(self, *_: Any) -> None:
        """Bring the list in line with the document (layers_changed). Rows are kept and only
        those whose layer or look changed are filled again (a burst of 200 new results costs
        200 new rows, not a rebuild of the whole list per result)."""
        if not isValid(self):  # the document outlived this panel
            return
        with QSignalBlocker(self.tree):
            if self.document is None:
                self.tree.clear()
                self._update_controls()
                return
            layers = list(reversed(self.document.layers))
            tree = self.tree
            # rows follow their layer: new layers get rows inserted where they belong, so the
            # rows below a burst of new results keep their contents (not all filled again)
            wanted = {la.id for la in layers}
            for r in range(tree.topLevelItemCount() - 1, -1, -1):
                if tree.topLevelItem(r).data(COL_NAME, _ID_ROLE) not in wanted:
                    tree.takeTopLevelItem(r)
            rows = {tree.topLevelItem(r).data(COL_NAME, _ID_ROLE): tree.topLevelItem(r)
                    for r in range(tree.topLevelItemCount())}
            for row, layer in enumerate(layers):
                item = tree.topLevelItem(row)
                if item is not None and item.data(COL_NAME, _ID_ROLE) == layer.id:
                    continue
                moved = rows.get(layer.id)
                if moved is not None:  # a reordered layer: its row moves
                    tree.takeTopLevelItem(tree.indexOfTopLevelItem(moved))
                    tree.insertTopLevelItem(row, moved)
                else:
                    new = QTreeWidgetItem()
                    new.setFlags(new.flags() | Qt.ItemFlag.ItemIsEditable)
                    new.setData(COL_NAME, _ID_ROLE, layer.id)
                    tree.insertTopLevelItem(row, new)
            for row, layer in enumerate(layers):
                item = tree.topLevelItem(row)
                thumb = self._icon(layer)
                look = repr((layer.id, layer.name, bool(layer.visible), bool(layer.locked), _kind_value(layer), id(thumb)))
                if item.data(COL_NAME, _LOOK_ROLE) != look:
                    item.setData(COL_NAME, Qt.ItemDataRole.UserRole, layer.id)
                    self._fill(item, layer)
                    item.setData(COL_NAME, _LOOK_ROLE, look)
            ids = {la.id for la in self.document.layers}
            for gone in [k for k in self._thumbs if k not in ids]:
                del self._thumbs[gone]
        self._sync_active()

    def _icon(self, layer: Any) -> QIcon:
        """The thumbnail shown for ``layer``: a known layer keeps its icon (a change of its
        pixels is announced and redrawn by refresh_thumbnails; sampling every layer on each
        list change cost ~80 us a layer), a new one is drawn."""
        kept = self._thumbs.get(layer.id)
        return kept[1] if kept is not None else self._thumb(layer)

    def _thumb(self, layer: Any) -> QIcon:
        """The layer's thumbnail icon, drawn again only when its sampled pixels changed (a
        rebuild of the list after one layer operation then draws one thumbnail, not all)."""
        px = layer.pixels
        h, w = px.shape[:2]
        step = max(1, int(np.ceil(max(h, w) / THUMB)))
        sample = np.ascontiguousarray(px[::step, ::step, :4])
        key = (sample.shape, hash(sample.tobytes()))
        hit = self._thumbs.get(layer.id)
        if hit is not None and hit[0] == key:
            return hit[1]
        ic = QIcon(thumbnail(px))
        self._thumbs[layer.id] = (key, ic)
        return ic

    def _fill(self, item: QTreeWidgetItem, layer: Any) -> None:
        item.setIcon(COL_VISIBLE, _small_icon("visible" if layer.visible else "hidden"))
        item.setToolTip(COL_VISIBLE, "Hide layer" if layer.visible else "Show layer")
        item.setText(COL_NAME, layer.name)
        item.setIcon(COL_NAME, self._icon(layer))
        kind = _kind_value(layer)
        # a long name is elided in the row; the tooltip always has all of it
        item.setToolTip(COL_NAME, f"{layer.name}\n{kind.capitalize()} layer"
                        + ("" if layer.visible else ", hidden") + (", locked" if layer.locked else ""))
        item.setText(COL_KIND, "" if kind == "raster" else kind)
        if kind in BADGE_COLOURS:
            item.setForeground(COL_KIND, QColor(BADGE_COLOURS[kind]))
        item.setToolTip(COL_KIND, f"{kind.capitalize()} layer")
        item.setIcon(COL_LOCK, _small_icon("lock" if layer.locked else "unlock"))
        item.setToolTip(COL_LOCK, "Unlock layer" if layer.locked else "Lock layer")

    #: seconds of thumbnail checking per event-loop turn; the rest of the rows follow next turn
    thumbs_budget_s = 0.01

    def refresh_thumbnails(self) -> None:
        """Redraw the thumbnails whose sampled pixels changed, in slices of at most about
        ``thumbs_budget_s`` (200 layers cost ~16 ms to sample), resuming at the next row."""
        if self.document is None or not isValid(self):
            return
        layers = list(reversed(self.document.layers))
        start = self._thumb_row if self._thumb_row < len(layers) else 0
        end = time.perf_counter() + self.thumbs_budget_s
        with QSignalBlocker(self.tree):
            for row in range(start, len(layers)):
                item = self.tree.topLevelItem(row)
                if item is not None:
                    item.setIcon(COL_NAME, self._thumb(layers[row]))
                if row + 1 < len(layers) and time.perf_counter() > end:
                    self._thumb_row = row + 1
                    QTimer.singleShot(0, self, self.refresh_thumbnails)
                    return
        self._thumb_row = 0

    def _schedule_thumbs(self, *_: Any) -> None:
        if not isValid(self):
            return
        if not self._thumb_timer.isActive():
            self._thumb_timer.start()

    def _sync_active(self, *_: Any) -> None:
        if not isValid(self):
            return
        doc = self.document
        if doc is not None and 0 <= doc.active_index < len(doc.layers):
            with QSignalBlocker(self.tree):
                self.tree.setCurrentItem(self.tree.topLevelItem(self.row_of(doc.active_index)))
        self._update_controls()

    def _update_controls(self) -> None:
        doc = self.document
        layer = doc.active_layer if doc is not None else None
        for w in (self.opacity, self.blend, self.kind):
            w.setEnabled(layer is not None)
        n = len(doc.layers) if doc is not None else 0
        i = doc.active_index if doc is not None else -1
        self.buttons["add"].setEnabled(doc is not None)
        for name in ("duplicate", "delete"):
            self.buttons[name].setEnabled(layer is not None)
        self.buttons["up"].setEnabled(layer is not None and i < n - 1)
        self.buttons["down"].setEnabled(layer is not None and i > 0)
        self.buttons["merge"].setEnabled(layer is not None and i > 0)
        self.buttons["flatten"].setEnabled(n > 0)
        if layer is None:
            return
        with QSignalBlocker(self.opacity), QSignalBlocker(self.blend), QSignalBlocker(self.kind):
            self.opacity.setValue(round(layer.opacity * 100))
            self.blend.setCurrentIndex(max(0, self.blend.findData(str(getattr(layer.blend, "value", layer.blend)))))
            self.kind.setCurrentIndex(max(0, self.kind.findData(_kind_value(layer))))

    # ------------------------------------------------------------------ user actions

    def _do(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a document operation; a refusal becomes errorOccurred, not a crash."""
        if self.document is None:
            return None
        try:
            return fn(*args, **kwargs)
        except (ValueError, IndexError, KeyError) as exc:  # LayerLockedError is a ValueError
            self.errorOccurred.emit(str(exc))
            return None

    def _on_current(self, current: QTreeWidgetItem | None, _previous: Any = None) -> None:
        if self.document is None or current is None:
            return
        i = self.index_of_row(self.tree.indexOfTopLevelItem(current))
        if i != self.document.active_index:
            self.document.active_index = i

    def _on_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        i = self.index_of_row(self.tree.indexOfTopLevelItem(item))
        layer = self.document.layers[i]
        if column == COL_VISIBLE:
            self.set_visible(i, not layer.visible)
        elif column == COL_LOCK:
            self._do(self.document.set_layer_props, i, locked=not layer.locked)

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if column != COL_NAME or self.document is None:
            return
        i = self.index_of_row(self.tree.indexOfTopLevelItem(item))
        name = item.text(COL_NAME).strip()
        if name and name != self.document.layers[i].name:
            self._do(self.document.set_layer_props, i, name=name)
        else:
            with QSignalBlocker(self.tree):
                item.setText(COL_NAME, self.document.layers[i].name)

    def set_visible(self, index: int, visible: bool) -> None:
        self._do(self.document.set_layer_props, index, visible=visible)

    def rename(self, index: int, name: str) -> None:
        """Rename as if typed in the list (for tests and the Layer menu)."""
        item = self.tree.topLevelItem(self.row_of(index))
        item.setText(COL_NAME, name)

    def _on_opacity(self, value: int) -> None:
        self._do(self.document.set_layer_props, None, merge=True, opacity=value / 100.0)

    def _on_blend(self, _index: int) -> None:
        self._do(self.document.set_layer_props, None, blend=BlendMode(self.blend.currentData()))

    def _on_kind(self, _index: int) -> None:
        self._do(self.document.set_layer_props, None, kind=LayerKind(self.kind.currentData()))

    def add_layer(self) -> None:
        if self.document is not None:
            n = len(self.document.layers) + 1
            self._do(self.document.add_layer, name=f"Layer {n}")

    def duplicate_layer(self) -> None:
        self._do(self.document.duplicate_layer)

    def delete_layer(self) -> None:
        self._do(self.document.delete_layer)

    def move_up(self) -> None:
        i = self.document.active_index if self.document is not None else -1
        if 0 <= i < len(self.document.layers) - 1:
            self._do(self.document.move_layer, i, i + 1)

    def move_row(self, src_row: int, dst_row: int) -> None:
        """Drag and drop in the list: tree rows (top first) -> one undoable move."""
        if self.document is not None:
            self._do(self.document.move_layer, self.index_of_row(src_row), self.index_of_row(dst_row))

    def move_down(self) -> None:
        i = self.document.active_index if self.document is not None else -1
        if i > 0:
            self._do(self.document.move_layer, i, i - 1)

    def merge_down(self) -> None:
        self._do(self.document.merge_down)

    def flatten(self) -> None:
        self._do(self.document.flatten)
