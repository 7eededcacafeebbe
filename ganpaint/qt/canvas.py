"""The canvas: a view of the document's composite with zoom, pan and the canvas tools.

Repaint only what changed: the canvas keeps the composite in a premultiplied ARGB
buffer (``ArgbBuffer``). ``doc.events.pixels_changed(rect)`` marks that canvas rect
dirty and asks Qt to update only its widget rect; the next paint composites just the
dirty rects (``doc.composite(rect)``) into the buffer, then draws the exposed region.
A brush dab on a 4096x4096 document therefore costs a few thousand pixels, not 16 M.
A large dirty area (a new canvas-sized result on 4000x3000) is composited in chunks of
:data:`FLUSH_CHUNK` with at most :data:`FLUSH_BUDGET_S` of work per paint: the rest stays
dirty and the next paint (one event-loop turn later) goes on, so the window never freezes
while the picture fills in; ``flush()`` without a budget still does all of it at once.

View transform: widget = offset + doc * zoom (logical pixels; Qt scales for high-DPI).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QImage,
    QInputDevice,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTabletEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication, QWidget

from ganpaint.core.document import Document
from ganpaint.core.geometry import Rect
from ganpaint.core.layers import LayerKind
from ganpaint.qt.canvas_overlays import (
    SelectionOutline,
    checker_pixmap,
    paint_before,
    paint_marching_ants,
    paint_pixel_grid,
    selection_mask,
)
from ganpaint.qt.canvas_tools import CanvasTool, make_tool
from ganpaint.qt.document_controller import DocumentController
from ganpaint.qt.qimage import ArgbBuffer

MIN_ZOOM = 1.0 / 64.0
MAX_ZOOM = 64.0
GRID_ZOOM = 8.0  # pixel grid from this zoom up
COMPARE_KEY = Qt.Key.Key_Backslash
TINT_RGB = (220, 40, 60)  # quick-mask colour over what the mask brush has not selected
TINT_ALPHA = 110
#: seconds of compositing one paint may spend before the rest waits for the next paint
FLUSH_BUDGET_S = 0.03
#: the largest piece of a dirty area composited at once (canvas pixels: width, height)
FLUSH_CHUNK = (1024, 128)


class Canvas(QWidget):
    """Custom-painted document view. Tools are driven by ``controller.tool``."""

    zoom_changed = Signal(float)
    #: zoom, offset or widget size changed (the scroll bars of CanvasView follow)
    view_changed = Signal()
    cursor_moved = Signal(int, int)  # canvas pixel under the mouse (may be outside the document)

    def __init__(self, controller: DocumentController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("Canvas")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAcceptDrops(False)  # the main window takes drops
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setMinimumSize(200, 150)

        self._zoom = 1.0
        self._offset = QPointF(0.0, 0.0)
        self._fit_pending = True  # fit on the first resize with a real size
        self._fit_mode = True  # re-fit on resize until the user zooms or pans
        self._checker = QBrush(checker_pixmap())
        self._background = QColor(64, 64, 64)

        self._doc: Document | None = None
        self._buffer: ArgbBuffer | None = None
        self._dirty: list[Rect] = []
        self._outline = SelectionOutline()
        self._tint: ArgbBuffer | None = None  # quick-mask tint while the mask brush is active
        self._outline_pending = False

        self._space_down = False
        self._panning = False
        self._pan_last = QPointF()
        self._compare = False
        #: callables drawing over the picture in document coordinates (the fill preview)
        self.overlay_painters: list[Callable[[QPainter], None]] = []
        self._compare_cache: tuple[str, int, QImage] | None = None
        self._watching_release = False  # the compare key was pressed through the window's action
        self._last_mouse: QPointF | None = None
        #: pen pressure of the current brush event (1.0 for a mouse)
        self.pressure = 1.0
        self._tablet_pressure = 1.0

        self._ants_timer = QTimer(self)
        self._ants_timer.setInterval(180)
        self._ants_timer.timeout.connect(self._step_ants)
        self._ants_phase = 0

        self.tool: CanvasTool = make_tool(controller.tool, self)
        controller.tool_changed.connect(self._on_tool_changed)
        controller.brush_changed.connect(lambda _b: self._update_tool_overlay())
        controller.document_replaced.connect(self.set_document)
        self.set_document(controller.document)

    # ------------------------------------------------------------------ document
    @property
    def document(self) -> Document:
        assert self._doc is not None
        return self._doc

    def set_document(self, doc: Document) -> None:
        if self._doc is not None:
            ev = self._doc.events
            for sig, slot in self._slots():
                try:
                    getattr(ev, sig).disconnect(slot)
                except Exception:  # noqa: BLE001 - not connected
                    pass
        self._doc = doc
        for sig, slot in self._slots():
            getattr(doc.events, sig).connect(slot)
        self._buffer = ArgbBuffer(doc.width, doc.height)
        self._dirty = [Rect(0, 0, doc.width, doc.height)]
        self._compare_cache = None
        self._refresh_selection()
        self._fit_mode = True
        if self.width() > 0 and self.isVisible():
            self.fit()
        else:
            self._fit_pending = True
        self.update()

    def _slots(self) -> list[tuple[str, object]]:
        return [
            ("pixels_changed", self._on_pixels_changed),
            ("layers_changed", self._on_layers_changed),
            ("selection_changed", self._on_selection_changed),
            ("size_changed", self._on_size_changed),
        ]

    def _on_pixels_changed(self, rect: Rect | None = None) -> None:
        self.invalidate(rect)

    def _on_layers_changed(self, *args: object) -> None:
        # The core's layer commands also emit pixels_changed for the area they touch,
        # so nothing is re-composited here; only the overlays may need a repaint.
        self._compare_cache = None
        if self._compare:
            self.update()

    def _on_size_changed(self, *args: object) -> None:
        doc = self.document
        self._buffer = ArgbBuffer(doc.width, doc.height)
        self._dirty = [Rect(0, 0, doc.width, doc.height)]
        self._refresh_selection()
        self.fit()

    def _on_selection_changed(self, rect: Rect | None = None) -> None:
        # The tint follows at once, only over ``rect``; the outline (a scan of the mask's
        # bounding box) is rebuilt once per event-loop turn, so a mask-brush stroke
        # emitting one change per dab costs one rebuild per repaint, not one per dab.
        doc = self.document
        r = Rect(0, 0, doc.width, doc.height) if rect is None else rect.clipped(doc.width, doc.height)
        if self._tint is not None and not r.is_empty():
            self._write_tint(r)
            self.update(self.doc_rect_to_widget(r))
        if not self._outline_pending:
            self._outline_pending = True
            QTimer.singleShot(0, self, self._rebuild_outline)  # cancelled if the canvas is gone

    def _rebuild_outline(self) -> None:
        self._outline_pending = False
        if self._doc is None:
            return
        old = self._outline.bounds
        mask = selection_mask(self._doc)
        bbox = self._doc.selection.bbox() if mask is not None else None
        self._outline.rebuild(mask, bbox)
        if self._outline.segments and self.isVisible():
            self._ants_timer.start()
        elif not self._outline.segments:
            self._ants_timer.stop()
        for b in (old, self._outline.bounds):
            if b is not None and not b.is_empty():
                self.update(self.doc_rect_to_widget(b).adjusted(-2, -2, 2, 2))

    def _refresh_selection(self) -> None:
        """Rebuild the outline now and the tint (shown while the mask brush is active)."""
        self._outline_pending = False
        self._rebuild_outline()
        doc = self.document
        if self.controller.tool in ("mask_brush", "mask_eraser"):
            self._tint = ArgbBuffer(doc.width, doc.height)
            self._write_tint(Rect(0, 0, doc.width, doc.height))
        else:
            self._tint = None

    def _write_tint(self, r: Rect) -> None:
        """Quick-mask look: unselected pixels tinted red, selected ones clear."""
        assert self._tint is not None
        m = self.document.selection.mask[r.slices()]
        block = np.empty((r.h, r.w, 4), np.uint8)
        block[:, :, 0], block[:, :, 1], block[:, :, 2] = TINT_RGB
        block[:, :, 3] = ((255 - m.astype(np.uint16)) * TINT_ALPHA // 255).astype(np.uint8)
        self._tint.write(r.x, r.y, block)

    def invalidate(self, rect: Rect | None = None) -> None:
        """Mark a canvas rect (None = everything) for re-compositing and repaint it."""
        doc = self.document
        full = Rect(0, 0, doc.width, doc.height)
        r = full if rect is None else rect.intersect(full)
        if r.is_empty():
            return
        self._add_dirty(r)
        self.update(self.doc_rect_to_widget(r))

    def _add_dirty(self, r: Rect) -> None:
        # merge with an overlapping dirty rect so a stroke stays a handful of rects
        for i, d in enumerate(self._dirty):
            if not d.intersect(r).is_empty():
                self._dirty[i] = d.union(r)
                return
        self._dirty.append(r)

    def flush(self, budget_s: float | None = None) -> None:
        """Composite the dirty rects into the cache. ``budget_s``: stop after that much work
        (in chunks of FLUSH_CHUNK), leave the rest dirty and paint again in the next turn."""
        if not self._dirty or self._buffer is None:
            return
        doc = self.document
        if budget_s is None:
            dirty, self._dirty = self._dirty, []
            for r in dirty:
                self._buffer.write(r.x, r.y, doc.composite(r))
            return
        deadline = time.perf_counter() + budget_s
        cw, ch = FLUSH_CHUNK
        while self._dirty:
            r = self._dirty[0]
            if r.w * r.h <= cw * ch:
                piece = self._dirty.pop(0)
            else:  # the top band's first chunk; the rest of the band and the rect below stay
                piece = Rect(r.x, r.y, min(cw, r.w), min(ch, r.h))
                rest = [Rect(r.x + piece.w, r.y, r.w - piece.w, piece.h), Rect(r.x, r.y + piece.h, r.w, r.h - piece.h)]
                self._dirty[0:1] = [q for q in rest if not q.is_empty()]
            self._buffer.write(piece.x, piece.y, doc.composite(piece))
            if self._dirty and time.perf_counter() > deadline:
                QTimer.singleShot(0, self, self._continue_flush)
                return

    def _continue_flush(self) -> None:
        for r in self._dirty:
            self.update(self.doc_rect_to_widget(r))

    # ------------------------------------------------------------------ view transform
    @property
    def zoom(self) -> float:
        return self._zoom

    @property
    def offset(self) -> QPointF:
        return QPointF(self._offset)

    def widget_to_doc(self, p: QPointF) -> QPointF:
        return QPointF((p.x() - self._offset.x()) / self._zoom, (p.y() - self._offset.y()) / self._zoom)

    def doc_to_widget(self, p: QPointF) -> QPointF:
        return QPointF(p.x() * self._zoom + self._offset.x(), p.y() * self._zoom + self._offset.y())

    def doc_rect_to_widget(self, r: Rect) -> QRect:
        z, ox, oy = self._zoom, self._offset.x(), self._offset.y()
        x0 = math.floor(r.x * z + ox) - 1
        y0 = math.floor(r.y * z + oy) - 1
        x1 = math.ceil((r.x + r.w) * z + ox) + 1
        y1 = math.ceil((r.y + r.h) * z + oy) + 1
        return QRect(x0, y0, x1 - x0, y1 - y0)

    def widget_rect_to_doc(self, r: QRect) -> Rect:
        """The canvas pixels a widget rect shows, clipped to the document (may be empty)."""
        doc = self.document
        x0 = max(0, math.floor((r.left() - self._offset.x()) / self._zoom))
        y0 = max(0, math.floor((r.top() - self._offset.y()) / self._zoom))
        x1 = min(doc.width, math.ceil((r.left() + r.width() - self._offset.x()) / self._zoom))
        y1 = min(doc.height, math.ceil((r.top() + r.height() - self._offset.y()) / self._zoom))
        return Rect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the canvas point under ``anchor`` (widget coords; default the centre) fixed."""
        zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        if anchor is None:
            anchor = QPointF(self.width() / 2.0, self.height() / 2.0)
        doc_pt = self.widget_to_doc(anchor)
        self._zoom = zoom
        self._offset = QPointF(anchor.x() - doc_pt.x() * zoom, anchor.y() - doc_pt.y() * zoom)
        self._fit_mode = False
        self.update()
        self.zoom_changed.emit(zoom)
        self.view_changed.emit()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.set_zoom(self._zoom * factor, anchor)

    def zoom_in(self) -> None:
        self.zoom_by(math.sqrt(2.0))

    def zoom_out(self) -> None:
        self.zoom_by(1.0 / math.sqrt(2.0))

    def fit(self) -> None:
        """Fit the whole document in the view, centred."""
        doc = self.document
        w, h = max(self.width(), 1), max(self.height(), 1)
        margin = 16
        z = min((w - 2 * margin) / doc.width, (h - 2 * margin) / doc.height)
        self._zoom = min(max(z, MIN_ZOOM), MAX_ZOOM)
        self._center_doc()
        self._fit_mode = True
        self._fit_pending = False
        self.update()
        self.zoom_changed.emit(self._zoom)
        self.view_changed.emit()

    def actual_size(self) -> None:
        """100 %: one canvas pixel per (logical) screen pixel, keeping the centre."""
        self.set_zoom(1.0)

    def _center_doc(self) -> None:
        doc = self.document
        self._offset = QPointF(
            round((self.width() - doc.width * self._zoom) / 2.0),
            round((self.height() - doc.height * self._zoom) / 2.0),
        )

    def pan_by(self, dx: float, dy: float) -> None:
        self._offset += QPointF(dx, dy)
        self._fit_mode = False
        self.update()
        self.view_changed.emit()

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        self.flush(FLUSH_BUDGET_S)
        doc = self.document
        p = QPainter(self)
        exposed = event.rect()
        p.fillRect(exposed, self._background)
        # the page exactly as the image will cover it (a float rect: no seam at the edges)
        page_f = QRectF(self._offset.x(), self._offset.y(), doc.width * self._zoom, doc.height * self._zoom)
        visible = page_f.toAlignedRect().intersected(exposed)
        if not visible.isEmpty() and self._buffer is not None:
            # checkerboard in screen space, anchored to the page so it pans with it
            self._checker.setTransform(QTransform.fromTranslate(round(page_f.x()), round(page_f.y())))
            p.fillRect(page_f.intersected(QRectF(exposed)), self._checker)
            src = self.widget_rect_to_doc(exposed)
            if not src.is_empty():
                p.save()
                p.setClipRect(visible)
                p.translate(self._offset)
                p.scale(self._zoom, self._zoom)
                if self._zoom < 1.0:
                    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
                qsrc = QRectF(src.x, src.y, src.w, src.h)
                p.drawImage(qsrc, self._buffer.image, qsrc)
                if self._compare:
                    self._paint_compare(p)
                if self._tint is not None:
                    p.drawImage(qsrc, self._tint.image, qsrc)
                for paint_overlay in self.overlay_painters:
                    paint_overlay(p)
                p.restore()
            if self._zoom >= GRID_ZOOM:
                self._paint_grid(p, visible)
        self._paint_selection(p, exposed)
        self.tool.paint_overlay(p)
        if self._compare:
            p.setPen(QColor(255, 255, 255))
            p.drawText(QRect(8, 8, 300, 20), Qt.AlignmentFlag.AlignLeft, "Before (release \\ to see the result)")
        p.end()

    def _paint_grid(self, p: QPainter, visible: QRect) -> None:
        paint_pixel_grid(p, self, visible)

    def _paint_selection(self, p: QPainter, exposed: QRect) -> None:
        paint_marching_ants(p, self, self._outline.segments, self._ants_phase)

    def _paint_compare(self, p: QPainter) -> None:
        layer = self.compare_layer()
        if layer is not None:
            self._compare_cache = paint_before(p, self, layer, self._compare_cache)

    def _step_ants(self) -> None:
        if not self._outline.segments or not self.isVisible():
            return
        self._ants_phase = (self._ants_phase + 2) % 8
        b = self._outline.bounds
        if b is not None:
            self.update(self.doc_rect_to_widget(b).adjusted(-2, -2, 2, 2))

    def compare_layer(self):  # -> Layer | None
        """The result layer before/after compares: the active one, else the topmost visible result."""
        doc = self.document
        act = doc.active_layer
        if act is not None and act.kind == LayerKind.RESULT and act.result is not None:
            return act
        for layer in reversed(doc.layers):
            if layer.visible and layer.kind == LayerKind.RESULT and layer.result is not None:
                return layer
        return None

    def set_compare(self, on: bool) -> None:
        if on and self.compare_layer() is None:
            self.controller.status_message.emit("Before/after: no result layer to compare")
            return
        if on != self._compare:
            self._compare = on
            self.update()

    @property
    def comparing(self) -> bool:
        return self._compare

    def add_compare_action(self, window: QWidget) -> QAction:
        """Hold ``\\`` anywhere in ``window`` (a panel may have the focus) to see the
        before state; the release shows the result again. A text field still types it."""
        act = QAction("Before/After (hold)", window)
        act.setObjectName("action_compare")
        act.setShortcut(QKeySequence(COMPARE_KEY))
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.setAutoRepeat(False)  # held: one press, then the release ends it
        act.triggered.connect(self._compare_held)
        window.addAction(act)
        self._compare_action = act
        return act

    def _compare_held(self) -> None:
        self.set_compare(True)
        app = QApplication.instance()
        if self._compare and app is not None and not self._watching_release:
            app.installEventFilter(self)
            self._watching_release = True

    def _stop_watching_release(self) -> None:
        app = QApplication.instance()
        if self._watching_release and app is not None:
            app.removeEventFilter(self)
        self._watching_release = False

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        # installed on the application only while the compare key is held (see _compare_held)
        t = event.type()
        if self._watching_release and (
            (t == QEvent.Type.KeyRelease and event.key() == COMPARE_KEY and not event.isAutoRepeat())
            or t == QEvent.Type.ApplicationDeactivate
        ):
            self._stop_watching_release()
            self.set_compare(False)
        return super().eventFilter(obj, event)

    # ------------------------------------------------------------------ tools
    def _on_tool_changed(self, tool_id: str) -> None:
        self.tool.cancel()
        self.tool = make_tool(tool_id, self)
        self.setCursor(self.tool.cursor())
        self._refresh_selection()
        self.update()

    def _update_tool_overlay(self) -> None:
        self.update()

    # ------------------------------------------------------------------ input
    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._doc is not None and (self._fit_pending or self._fit_mode):
            self.fit()
        self.view_changed.emit()

    def showEvent(self, event) -> None:  # noqa: N802, ANN001
        super().showEvent(event)
        if self._fit_pending and self._doc is not None:
            self.fit()
        if self._outline.segments:
            self._ants_timer.start()

    def hideEvent(self, event) -> None:  # noqa: N802, ANN001
        super().hideEvent(event)
        self._ants_timer.stop()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta == 0:
            delta = event.pixelDelta().y()
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier and not (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.pan_by(0, delta / 2)  # shift+wheel scrolls
        elif delta:
            self.zoom_by(2.0 ** (delta / 480.0), event.position())  # one notch = x1.19
        event.accept()

    def tabletEvent(self, event: QTabletEvent) -> None:  # noqa: N802
        # Remember the pen pressure and let Qt turn the event into the mouse event that follows.
        self._tablet_pressure = max(0.0, min(1.0, float(event.pressure())))
        event.ignore()

    def _update_pressure(self, event: QMouseEvent) -> None:
        dev = event.pointingDevice()
        pen = dev is not None and dev.type() in (QInputDevice.DeviceType.Stylus, QInputDevice.DeviceType.Airbrush)
        self.pressure = self._tablet_pressure if pen else 1.0

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.setFocus()
        self._update_pressure(event)
        pos = event.position()
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space_down
        ):
            self._panning = True
            self._pan_last = pos
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if event.button() == Qt.MouseButton.LeftButton:
            self.tool.press(self.widget_to_doc(pos), event.modifiers())
        elif event.button() == Qt.MouseButton.RightButton:
            self.tool.cancel()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        old = self._last_mouse
        self._last_mouse = pos
        d = self.widget_to_doc(pos)
        self.cursor_moved.emit(math.floor(d.x()), math.floor(d.y()))
        if self._panning:
            delta = pos - self._pan_last
            self._pan_last = pos
            self.pan_by(delta.x(), delta.y())
            return
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._update_pressure(event)
            self.tool.move(d, event.modifiers())
        self.tool.hover(old, pos)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._panning and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._panning = False
            self.setCursor(Qt.CursorShape.OpenHandCursor if self._space_down else self.tool.cursor())
            return
        if event.button() == Qt.MouseButton.LeftButton:
            self.tool.release(self.widget_to_doc(event.position()), event.modifiers())

    def leaveEvent(self, event) -> None:  # noqa: N802, ANN001
        old = self._last_mouse
        self._last_mouse = None
        self.tool.hover(old, None)
        super().leaveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.isAutoRepeat():
            if event.key() in (Qt.Key.Key_Space, COMPARE_KEY):
                return
        if event.key() == Qt.Key.Key_Space:
            self._space_down = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if event.key() == COMPARE_KEY:
            self.set_compare(True)
            return
        if event.key() == Qt.Key.Key_Escape:
            self.tool.cancel()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.isAutoRepeat():
            return
        if event.key() == Qt.Key.Key_Space:
            self._space_down = False
            if not self._panning:
                self.setCursor(self.tool.cursor())
            return
        if event.key() == COMPARE_KEY:
            self._stop_watching_release()
            self.set_compare(False)
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802, ANN001
        # a key released while another widget has focus must not leave us stuck
        self._space_down = False
        if self._compare and not self._watching_release:  # held window-wide: the release ends it
            self.set_compare(False)
        super().focusOutEvent(event)

    # ------------------------------------------------------------------ helpers for tools
    def last_mouse(self) -> QPointF | None:
        return self._last_mouse

    def cache_rgba(self) -> np.ndarray:
        """The cached composite as straight RGBA (tests compare it with doc.composite())."""
        self.flush()
        assert self._buffer is not None
        return self._buffer.read_rgba()
