"""Canvas tools: mouse gestures turned into core commands.

Each tool gets canvas coordinates (floats, in canvas pixels) from the Canvas and
produces undoable commands through the Document: the brush builds a
``ganpaint.core.brush.BrushStroke`` point by point (the layer is painted as the
mouse moves; the stroke becomes one history step on release), the selection tools
call ``doc.select_*``, the move tool ``doc.set_layer_props(x=, y=)``.
Tools never hold document state between gestures.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QCursor, QPainter, QPainterPath, QPen, QPolygonF

from ganpaint.core.geometry import Rect

if TYPE_CHECKING:
    from ganpaint.qt.canvas import Canvas

Mods = Qt.KeyboardModifier


def _selection_mode(mods: Qt.KeyboardModifier) -> str:
    """Shift adds, Alt (or Ctrl) subtracts, Shift+Alt intersects, else replace."""
    shift = bool(mods & Mods.ShiftModifier)
    sub = bool(mods & (Mods.AltModifier | Mods.ControlModifier))
    if shift and sub:
        return "intersect"
    if shift:
        return "add"
    if sub:
        return "subtract"
    return "replace"


class CanvasTool:
    """Base class: a tool that does nothing (subclasses override what they need)."""

    id = ""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas

    @property
    def doc(self):  # noqa: ANN201 - Document
        return self.canvas.document

    @property
    def controller(self):  # noqa: ANN201 - DocumentController
        return self.canvas.controller

    def press(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None: ...

    def move(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None: ...

    def release(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None: ...

    def cancel(self) -> None: ...

    def hover(self, old: QPointF | None, new: QPointF | None) -> None: ...

    def paint_overlay(self, p: QPainter) -> None: ...

    def cursor(self) -> QCursor:
        return QCursor(Qt.CursorShape.CrossCursor)

    def status(self, text: str) -> None:
        self.controller.status_message.emit(text)


# ----------------------------------------------------------------------------- painting


class BrushTool(CanvasTool):
    """Brush and eraser on the active layer; the mask brush on the selection.

    The outline of the brush follows the mouse (only its old and new rects repaint).
    Alt+click picks a colour (brush only).
    """

    id = "brush"
    eraser = False
    target = "layer"  # or "selection"

    def __init__(self, canvas: Canvas) -> None:
        super().__init__(canvas)
        self._stroke = None

    def _begin(self, pt: QPointF) -> None:
        from ganpaint.core.brush import BrushSettings, BrushStroke, SelectionStroke

        b = self.controller.brush
        settings = BrushSettings(
            size=b.size, hardness=b.hardness, opacity=b.opacity,
            color=tuple(round(c * 255) for c in b.color),  # type: ignore[arg-type]
            eraser=self.eraser,
        )
        if self.target == "selection":
            self._stroke = SelectionStroke(self.doc, settings, subtract=not b.mask_add)
        else:
            self._stroke = BrushStroke(self.doc, self.doc.active_index, settings)

    def press(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        if self.target == "layer" and not self.eraser and mods & Mods.AltModifier:
            PickerTool(self.canvas).press(pt, mods)
            return
        layer = self.doc.active_layer
        if self.target == "layer":
            if layer is None:
                self.status("No layer to paint on: add a layer first")
                return
            if layer.locked:
                self.status(f"Layer {layer.name!r} is locked")
                return
            if not layer.visible:
                self.status(f"Layer {layer.name!r} is hidden")
        try:
            self._begin(pt)
        except (ValueError, RuntimeError) as exc:
            self.status(str(exc))
            self._stroke = None
            return
        self._add(pt)

    def _add(self, pt: QPointF) -> None:
        if self._stroke is None:
            return
        self._stroke.add_point(pt.x(), pt.y(), self.canvas.pressure)

    def move(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        self._add(pt)

    def release(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        if self._stroke is None:
            return
        stroke, self._stroke = self._stroke, None
        stroke.finish()

    def cancel(self) -> None:
        if self._stroke is not None:
            stroke, self._stroke = self._stroke, None
            stroke.cancel()

    # the brush outline -------------------------------------------------------------
    def _outline_rect(self, wpos: QPointF) -> QRect:
        r = self.controller.brush.size * self.canvas.zoom / 2.0 + 3
        return QRect(int(wpos.x() - r) - 1, int(wpos.y() - r) - 1, int(2 * r) + 3, int(2 * r) + 3)

    def hover(self, old: QPointF | None, new: QPointF | None) -> None:
        for p in (old, new):
            if p is not None:
                self.canvas.update(self._outline_rect(p))

    def paint_overlay(self, p: QPainter) -> None:
        pos = self.canvas.last_mouse()
        if pos is None:
            return
        r = max(self.controller.brush.size * self.canvas.zoom / 2.0, 1.5)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(0, 0, 0, 160), 1))
        p.drawEllipse(pos, r + 0.5, r + 0.5)
        p.setPen(QPen(QColor(255, 255, 255, 200), 1))
        p.drawEllipse(pos, r - 0.5, r - 0.5)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)


class EraserTool(BrushTool):
    id = "eraser"
    eraser = True


class MaskBrushTool(BrushTool):
    """Paints into the selection (adds; with ``brush.mask_add`` False, or Alt held, removes)."""

    id = "mask_brush"
    target = "selection"

    def press(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        if mods & Mods.AltModifier:
            add = not self.controller.brush.mask_add
            from dataclasses import replace

            saved = self.controller.brush
            self.controller._brush = replace(saved, mask_add=add)  # noqa: SLF001 - for this stroke only
            try:
                super().press(pt, Mods.NoModifier)
            finally:
                self.controller._brush = saved  # noqa: SLF001
            return
        super().press(pt, mods)


class MaskEraserTool(MaskBrushTool):
    """Removes from the selection with the brush's size and hardness (Alt held: adds);
    the mask brush's opposite, whatever ``brush.mask_add`` says."""

    id = "mask_eraser"

    def press(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        from dataclasses import replace

        saved = self.controller.brush
        self.controller._brush = replace(saved, mask_add=bool(mods & Mods.AltModifier))  # noqa: SLF001 - this stroke
        try:
            BrushTool.press(self, pt, Mods.NoModifier)
        finally:
            self.controller._brush = saved  # noqa: SLF001


class PickerTool(CanvasTool):
    """Click or drag: the foreground colour becomes the composite's colour there."""

    id = "picker"

    def press(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        self._pick(pt)

    def move(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        self._pick(pt)

    def _pick(self, pt: QPointF) -> None:
        x, y = math.floor(pt.x()), math.floor(pt.y())
        doc = self.doc
        if not (0 <= x < doc.width and 0 <= y < doc.height):
            return
        px = doc.composite(Rect(x, y, 1, 1))[0, 0]
        if px[3] == 0:
            self.status("Transparent here: colour unchanged")
            return
        self.controller.set_brush(color=(px[0] / 255.0, px[1] / 255.0, px[2] / 255.0))
        self.status(f"Picked #{int(px[0]):02x}{int(px[1]):02x}{int(px[2]):02x}")


# ----------------------------------------------------------------------------- selection


class _DragTool(CanvasTool):
    def __init__(self, canvas: Canvas) -> None:
        super().__init__(canvas)
        self._start: QPointF | None = None
        self._end: QPointF | None = None
        self._mode = "replace"

    def _dirty(self) -> QRect:
        if self._start is None or self._end is None:
            return QRect()
        a = self.canvas.doc_to_widget(self._start)
        b = self.canvas.doc_to_widget(self._end)
        return QRectF(a, b).normalized().toAlignedRect().adjusted(-3, -3, 3, 3)

    def press(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        self._start = self._end = pt
        self._mode = _selection_mode(mods)

    def move(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        if self._start is None:
            return
        old = self._dirty()
        self._end = self._constrain(pt, mods)
        self.canvas.update(old.united(self._dirty()))

    def _constrain(self, pt: QPointF, mods: Qt.KeyboardModifier) -> QPointF:
        # Shift after the press makes a square/circle (GIMP and Photoshop habit);
        # the mode was fixed at the press.
        return pt

    def cancel(self) -> None:
        dirty = self._dirty()
        self._start = self._end = None
        self.canvas.update(dirty)

    def _doc_rect(self) -> Rect:
        assert self._start is not None and self._end is not None
        x0, x1 = sorted((self._start.x(), self._end.x()))
        y0, y1 = sorted((self._start.y(), self._end.y()))
        return Rect.from_bounds(round(x0), round(y0), round(x1), round(y1))

    def release(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        if self._start is None:
            return
        self._end = pt
        rect = self._doc_rect()
        dirty = self._dirty()
        self._start = self._end = None
        self.canvas.update(dirty)
        if rect.w < 1 or rect.h < 1:
            if self._mode == "replace" and not self.doc.selection.is_empty():
                self.doc.select_none()  # a click without a drag deselects
            return
        self._commit(rect)

    def _commit(self, rect: Rect) -> None:
        raise NotImplementedError

    def _draw_shape(self, p: QPainter, r: QRectF) -> None:
        raise NotImplementedError

    def paint_overlay(self, p: QPainter) -> None:
        """The dragged outline: black under white dashes, visible on any picture."""
        if self._start is None or self._end is None:
            return
        a, b = self.canvas.doc_to_widget(self._start), self.canvas.doc_to_widget(self._end)
        r = QRectF(a, b).normalized()
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(0, 0, 0), 1))
        self._draw_shape(p, r)
        p.setPen(QPen(QColor(255, 255, 255), 1, Qt.PenStyle.DashLine))
        self._draw_shape(p, r)


class RectSelectTool(_DragTool):
    id = "rect_select"

    def _commit(self, rect: Rect) -> None:
        self.doc.select_rect(rect, mode=self._mode)

    def _draw_shape(self, p: QPainter, r: QRectF) -> None:
        p.drawRect(r)


class EllipseSelectTool(_DragTool):
    id = "ellipse_select"

    def _commit(self, rect: Rect) -> None:
        self.doc.select_ellipse(rect, mode=self._mode)

    def _draw_shape(self, p: QPainter, r: QRectF) -> None:
        p.drawEllipse(r)


class LassoSelectTool(CanvasTool):
    """Free-hand polygon: drag to draw, release to close."""

    id = "lasso_select"

    def __init__(self, canvas: Canvas) -> None:
        super().__init__(canvas)
        self._points: list[QPointF] = []
        self._mode = "replace"

    def press(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        self._points = [pt]
        self._mode = _selection_mode(mods)

    def move(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        if not self._points:
            return
        last = self._points[-1]
        # skip sub-pixel jitter (in screen pixels) to keep the polygon small
        if abs(pt.x() - last.x()) * self.canvas.zoom + abs(pt.y() - last.y()) * self.canvas.zoom < 2:
            return
        self._points.append(pt)
        a, b = self.canvas.doc_to_widget(last), self.canvas.doc_to_widget(pt)
        self.canvas.update(QRectF(a, b).normalized().toAlignedRect().adjusted(-3, -3, 3, 3))

    def release(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        pts, self._points = self._points, []
        self.canvas.update()
        if len(pts) < 3:
            if self._mode == "replace" and not self.doc.selection.is_empty():
                self.doc.select_none()
            return
        self.doc.select_lasso([(p.x(), p.y()) for p in pts], mode=self._mode)

    def cancel(self) -> None:
        self._points = []
        self.canvas.update()

    def paint_overlay(self, p: QPainter) -> None:
        if len(self._points) < 2:
            return
        poly = QPolygonF([self.canvas.doc_to_widget(q) for q in self._points])
        path = QPainterPath()
        path.addPolygon(poly)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(0, 0, 0), 1))
        p.drawPath(path)
        p.setPen(QPen(QColor(255, 255, 255), 1, Qt.PenStyle.DashLine))
        p.drawPath(path)


# ----------------------------------------------------------------------------- move


class MoveTool(CanvasTool):
    """Drag the active layer. While dragging, an outline shows where it will land; the
    move is one undoable command on release (the document is not touched before)."""

    id = "move"

    def __init__(self, canvas: Canvas) -> None:
        super().__init__(canvas)
        self._start: QPointF | None = None
        self._delta = (0, 0)

    def cursor(self) -> QCursor:
        return QCursor(Qt.CursorShape.SizeAllCursor)

    def _frame(self) -> QRect:
        layer = self.doc.active_layer
        if layer is None:
            return QRect()
        dx, dy = self._delta
        return self.canvas.doc_rect_to_widget(Rect(layer.x + dx, layer.y + dy, layer.width, layer.height))

    def press(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        layer = self.doc.active_layer
        if layer is None:
            return
        if layer.locked:
            self.status(f"Layer {layer.name!r} is locked")
            return
        self._start = pt
        self._delta = (0, 0)

    def move(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        if self._start is None:
            return
        old = self._frame()
        self._delta = (round(pt.x() - self._start.x()), round(pt.y() - self._start.y()))
        self.canvas.update(old.united(self._frame()).adjusted(-3, -3, 3, 3))
        self.status(f"Move by {self._delta[0]}, {self._delta[1]}")

    def release(self, pt: QPointF, mods: Qt.KeyboardModifier) -> None:
        if self._start is None:
            return
        self.move(pt, mods)
        dx, dy = self._delta
        self._start = None
        self._delta = (0, 0)
        layer = self.doc.active_layer
        if layer is not None and (dx or dy):
            self.doc.set_layer_props(self.doc.active_index, x=layer.x + dx, y=layer.y + dy)
        self.canvas.update()

    def cancel(self) -> None:
        self._start = None
        self._delta = (0, 0)
        self.canvas.update()

    def paint_overlay(self, p: QPainter) -> None:
        if self._start is None:
            return
        r = self._frame()
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(0, 0, 0), 1))
        p.drawRect(r.adjusted(1, 1, -2, -2))
        p.setPen(QPen(QColor(80, 170, 255), 1, Qt.PenStyle.DashLine))
        p.drawRect(r.adjusted(1, 1, -2, -2))


TOOL_CLASSES: dict[str, type[CanvasTool]] = {
    cls.id: cls
    for cls in (BrushTool, EraserTool, PickerTool, RectSelectTool, EllipseSelectTool, LassoSelectTool,
                MaskBrushTool, MaskEraserTool, MoveTool)
}


def make_tool(tool_id: str, canvas: Canvas) -> CanvasTool:
    try:
        return TOOL_CLASSES[tool_id](canvas)
    except KeyError:
        raise ValueError(f"unknown canvas tool {tool_id!r}") from None
