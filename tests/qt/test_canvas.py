"""The canvas: cached composite, dirty-rect repaint, zoom/pan, tools, overlays."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QKeyEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from ganpaint.core.document import Document
from ganpaint.core.geometry import Rect
from ganpaint.core.layers import LayerKind, ResultInfo
from ganpaint.qt.canvas_overlays import SelectionOutline
from ganpaint.qt.qimage import ArgbBuffer, qimage_to_rgba, rgba_to_qimage

from .conftest import drag, noise_document, send_mouse, shown_canvas


def _doc(w: int = 64, h: int = 48) -> Document:
    return noise_document(w, h, seed=1)


@pytest.fixture
def canvas(qtbot):
    return shown_canvas(qtbot, _doc())


# ----------------------------------------------------------------------------- conversions


def test_qimage_round_trip_keeps_straight_alpha():
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (7, 5, 4), dtype=np.uint8)
    back = qimage_to_rgba(rgba_to_qimage(rgba))
    assert back.shape == (7, 5, 4)
    assert np.array_equal(back, rgba)


def test_argb_buffer_premultiplies_and_reads_back():
    buf = ArgbBuffer(4, 2)
    rgba = np.array([[[255, 0, 0, 255], [0, 255, 0, 128], [0, 0, 255, 0], [10, 20, 30, 255]]] * 2, np.uint8)
    buf.write(0, 0, rgba)
    # what Qt sees is premultiplied: half-alpha green is 128/255 of full green
    img = buf.image.convertToFormat(buf.image.Format.Format_ARGB32)
    assert img.pixelColor(1, 0).green() == 255 and img.pixelColor(1, 0).alpha() == 128
    back = buf.read_rgba()
    assert np.array_equal(back[:, [0, 3]], rgba[:, [0, 3]])  # opaque pixels exact
    assert back[0, 2, 3] == 0


# ----------------------------------------------------------------------------- cache and repaint


def test_cache_matches_document_composite(canvas):
    doc = canvas.document
    assert np.array_equal(canvas.cache_rgba(), doc.composite())


def test_pixels_changed_recomposites_only_the_dirty_rect(canvas, qtbot):
    doc = canvas.document
    canvas.repaint()
    calls = []
    real = doc.composite

    def spy(rect=None, **kw):
        calls.append(rect)
        return real(rect, **kw)

    doc.composite = spy  # type: ignore[method-assign]
    updates: list[QRect] = []
    real_update = canvas.update
    canvas.update = lambda *a: (updates.append(a[0] if a else None), real_update(*a))  # type: ignore[method-assign]
    doc.add_layer(name="Dot")
    canvas.repaint()  # the new layer's own repaint
    calls.clear()
    updates.clear()
    from ganpaint.core.brush import BrushSettings, BrushStroke

    stroke = BrushStroke(doc, doc.active_index, BrushSettings(size=4, color=(255, 255, 255)))
    changed = stroke.add_point(10, 10)
    canvas.repaint()
    stroke.finish()
    assert not changed.is_empty() and changed.w < 16 and changed.h < 16
    assert calls and calls[-1] == changed  # only the dab's rect was composited again
    assert updates[-1] is not None and updates[-1].width() < canvas.width()  # a partial widget update
    doc.composite = real  # type: ignore[method-assign]
    assert np.array_equal(canvas.cache_rgba(), doc.composite())


def test_undo_and_layer_changes_keep_cache_in_sync(canvas):
    doc = canvas.document
    doc.add_layer(name="Top", pixels=np.full((10, 10, 4), 200, np.uint8), x=5, y=6)
    doc.set_layer_props(1, opacity=0.5)
    assert np.array_equal(canvas.cache_rgba(), doc.composite())
    doc.set_layer_props(1, visible=False)
    assert np.array_equal(canvas.cache_rgba(), doc.composite())
    doc.undo()
    doc.undo()
    doc.undo()
    assert len(doc.layers) == 1
    assert np.array_equal(canvas.cache_rgba(), doc.composite())


def test_rendered_pixels_show_the_document(canvas):
    canvas.set_zoom(4.0)
    img = canvas.grab().toImage()
    doc = canvas.document
    # the widget pixel at the centre of canvas pixel (3, 2) has that pixel's colour
    wp = canvas.doc_to_widget(QPointF(3.5, 2.5)).toPoint()
    dpr = img.devicePixelRatio()
    c = img.pixelColor(int(wp.x() * dpr), int(wp.y() * dpr))
    assert (c.red(), c.green(), c.blue()) == tuple(int(v) for v in doc.composite()[2, 3, :3])


# ----------------------------------------------------------------------------- view


def _wheel(widget, pos: QPointF, delta: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    ev = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(0, 0), QPoint(0, delta), Qt.MouseButton.NoButton,
                     modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def test_wheel_zoom_keeps_the_pixel_under_the_cursor(canvas):
    pos = QPointF(123.0, 77.0)
    before = canvas.widget_to_doc(pos)
    z0 = canvas.zoom
    _wheel(canvas, pos, 120)
    assert canvas.zoom > z0
    after = canvas.widget_to_doc(pos)
    assert abs(after.x() - before.x()) < 1e-6 and abs(after.y() - before.y()) < 1e-6
    _wheel(canvas, pos, -360)
    assert canvas.zoom < z0
    again = canvas.widget_to_doc(pos)
    assert abs(again.x() - before.x()) < 1e-6 and abs(again.y() - before.y()) < 1e-6


def test_fit_and_actual_size(canvas):
    canvas.fit()
    doc = canvas.document
    tl = canvas.doc_to_widget(QPointF(0, 0))
    br = canvas.doc_to_widget(QPointF(doc.width, doc.height))
    assert 0 <= tl.x() and br.x() <= canvas.width() and 0 <= tl.y() and br.y() <= canvas.height()
    assert canvas.zoom > 1  # a 64x48 picture is enlarged to fit 400x300
    canvas.actual_size()
    assert canvas.zoom == 1.0


def test_middle_button_and_space_drag_pan(canvas, qtbot):
    o = canvas.offset
    drag(canvas, [QPointF(100, 100), QPointF(130, 90), QPointF(150, 80)], button=Qt.MouseButton.MiddleButton)
    assert canvas.offset == o + QPointF(50, -20)
    o = canvas.offset
    QApplication.sendEvent(canvas, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier))
    n_layers_before = canvas.document.history.index
    drag(canvas, [QPointF(100, 100), QPointF(90, 110)])
    QApplication.sendEvent(canvas, QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier))
    assert canvas.offset == o + QPointF(-10, 10)
    assert canvas.document.history.index == n_layers_before  # panning painted nothing


def test_pixel_grid_only_at_high_zoom(canvas, monkeypatch):
    drawn = []
    monkeypatch.setattr(canvas, "_paint_grid", lambda p, r: drawn.append(canvas.zoom))
    canvas.set_zoom(4.0)
    canvas.repaint()
    assert not drawn
    canvas.set_zoom(8.0)
    canvas.repaint()
    assert drawn and drawn[-1] == 8.0


# ----------------------------------------------------------------------------- tools


def test_brush_stroke_with_the_mouse_is_one_undo_step(canvas):
    doc = canvas.document
    doc.add_layer(name="Paint")
    canvas.controller.set_brush(size=6, color=(1.0, 0.0, 0.0), opacity=1.0, hardness=1.0)
    steps = doc.history.index
    a = canvas.doc_to_widget(QPointF(10, 10))
    b = canvas.doc_to_widget(QPointF(40, 10))
    drag(canvas, [a, (a + b) / 2, b])
    assert doc.history.index == steps + 1
    px = doc.layers[1].pixels
    assert tuple(px[10, 25]) == (255, 0, 0, 255)
    assert px[30, 25, 3] == 0  # far from the stroke nothing changed
    assert np.array_equal(canvas.cache_rgba(), doc.composite())
    doc.undo()
    assert doc.layers[1].pixels[10, 25, 3] == 0
    assert np.array_equal(canvas.cache_rgba(), doc.composite())


def test_eraser_and_picker(canvas):
    doc = canvas.document
    canvas.controller.set_tool("picker")
    send_mouse(canvas, "press", canvas.doc_to_widget(QPointF(5.5, 7.5)))
    send_mouse(canvas, "release", canvas.doc_to_widget(QPointF(5.5, 7.5)))
    expect = tuple(round(v / 255.0, 6) for v in doc.composite()[7, 5, :3])
    assert tuple(round(v, 6) for v in canvas.controller.brush.color) == expect
    canvas.controller.set_tool("eraser")
    canvas.controller.set_brush(size=5, hardness=1.0, opacity=1.0)
    p = canvas.doc_to_widget(QPointF(30, 20))
    drag(canvas, [p, p + QPointF(1, 0)])
    assert doc.layers[0].pixels[20, 30, 3] == 0


def test_selection_tools_and_modes(canvas):
    doc = canvas.document
    canvas.controller.set_tool("rect_select")
    w = canvas.doc_to_widget
    drag(canvas, [w(QPointF(10, 10)), w(QPointF(20, 15)), w(QPointF(30, 20))])
    m = doc.selection.mask
    assert m[15, 20] == 255 and m[5, 5] == 0 and doc.selection.bbox() == Rect(10, 10, 20, 10)
    # shift adds an ellipse
    canvas.controller.set_tool("ellipse_select")
    drag(canvas, [w(QPointF(40, 30)), w(QPointF(60, 46))], modifiers=Qt.KeyboardModifier.ShiftModifier)
    m = doc.selection.mask
    assert m[15, 20] == 255 and m[38, 50] == 255
    # lasso replaces
    canvas.controller.set_tool("lasso_select")
    drag(canvas, [w(QPointF(2, 2)), w(QPointF(12, 2)), w(QPointF(12, 12)), w(QPointF(2, 12))])
    m = doc.selection.mask
    assert m[7, 7] == 255 and m[15, 20] == 0
    QApplication.processEvents()  # the outline is rebuilt once per event-loop turn
    assert canvas._outline.segments  # marching ants are drawn  # noqa: SLF001
    # a click without a drag deselects
    canvas.controller.set_tool("rect_select")
    drag(canvas, [w(QPointF(50, 5)), w(QPointF(50, 5))])
    assert doc.selection.is_empty()
    QApplication.processEvents()
    assert not canvas._outline.segments  # noqa: SLF001


def test_mask_brush_paints_the_selection(canvas):
    doc = canvas.document
    canvas.controller.set_tool("mask_brush")
    canvas.controller.set_brush(size=8, hardness=1.0, opacity=1.0)
    p = canvas.doc_to_widget(QPointF(32, 24))
    drag(canvas, [p, p + QPointF(2, 0)])
    assert doc.selection.mask[24, 32] == 255
    assert doc.selection.mask[2, 2] == 0
    # quick-mask tint: red over the unselected part, clear over the painted part
    tint = canvas._tint.read_rgba()  # noqa: SLF001
    assert tint[2, 2, 3] > 0 and tint[2, 2, 0] > tint[2, 2, 1]
    assert tint[24, 32, 3] == 0
    doc.undo()
    assert doc.selection.is_empty()
    assert canvas._tint.read_rgba()[24, 32, 3] > 0  # noqa: SLF001
    canvas.controller.set_tool("brush")
    assert canvas._tint is None  # noqa: SLF001


def test_move_tool_is_one_command_on_release(canvas):
    doc = canvas.document
    doc.add_layer(name="Sticker", pixels=np.full((8, 8, 4), 255, np.uint8), x=4, y=4)
    canvas.controller.set_tool("move")
    steps = doc.history.index
    a = canvas.doc_to_widget(QPointF(6, 6))
    b = canvas.doc_to_widget(QPointF(16, 11))
    send_mouse(canvas, "press", a)
    send_mouse(canvas, "move", (a + b) / 2)
    assert doc.layers[1].x == 4  # nothing moves in the document before release
    send_mouse(canvas, "move", b)
    send_mouse(canvas, "release", b)
    assert (doc.layers[1].x, doc.layers[1].y) == (14, 9)
    assert doc.history.index == steps + 1
    assert np.array_equal(canvas.cache_rgba(), doc.composite())


def test_locked_layer_is_not_painted(canvas):
    doc = canvas.document
    doc.set_layer_props(0, locked=True)
    before = doc.layers[0].pixels.copy()
    messages = []
    canvas.controller.status_message.connect(messages.append)
    p = canvas.doc_to_widget(QPointF(30, 20))
    drag(canvas, [p, p + QPointF(3, 0)])
    assert np.array_equal(doc.layers[0].pixels, before)
    assert any("locked" in m for m in messages)


def test_compare_key_shows_before_of_a_result_layer(canvas):
    doc = canvas.document
    before = doc.layers[0].pixels.copy()
    inverted = before.copy()
    inverted[:, :, :3] = 255 - inverted[:, :, :3]
    info = ResultInfo(tool_id="invert", plugin="test", before=before)
    doc.add_layer(name="Result", pixels=inverted, kind=LayerKind.RESULT, result=info)
    canvas.set_zoom(4.0)
    wp = canvas.doc_to_widget(QPointF(3.5, 2.5)).toPoint()

    def colour():
        img = canvas.grab().toImage()
        dpr = img.devicePixelRatio()
        c = img.pixelColor(int(wp.x() * dpr), int(wp.y() * dpr))
        return (c.red(), c.green(), c.blue())

    assert colour() == tuple(int(v) for v in inverted[2, 3, :3])
    canvas.setFocus()
    QApplication.sendEvent(canvas, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Backslash, Qt.KeyboardModifier.NoModifier))
    assert canvas.comparing
    assert colour() == tuple(int(v) for v in before[2, 3, :3])
    QApplication.sendEvent(canvas, QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_Backslash,
                                             Qt.KeyboardModifier.NoModifier))
    assert not canvas.comparing
    assert colour() == tuple(int(v) for v in inverted[2, 3, :3])


# ----------------------------------------------------------------------------- overlays


def test_selection_outline_of_a_rectangle():
    mask = np.zeros((10, 12), np.uint8)
    mask[2:5, 3:9] = 255
    out = SelectionOutline()
    out.rebuild(mask)
    assert out.bounds == Rect(3, 2, 6, 3)
    lines = sorted((ln.x1(), ln.y1(), ln.x2(), ln.y2()) for ln in out.segments)
    assert lines == sorted([(3, 2, 9, 2), (3, 5, 9, 5), (3, 2, 3, 5), (9, 2, 9, 5)])
