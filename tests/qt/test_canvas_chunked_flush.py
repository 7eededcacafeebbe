"""Issue 12, point 4: a large dirty area is composited over several paints, a bounded piece
each, so the window keeps turning; in the end the canvas shows exactly the composite."""

from __future__ import annotations

import numpy as np

from ganpaint.core.document import Document
from ganpaint.qt import canvas as canvas_module
from ganpaint.qt.canvas import Canvas
from ganpaint.qt.document_controller import DocumentController


def _doc() -> Document:
    rng = np.random.default_rng(3)
    doc = Document(2500, 1000)
    for i in range(3):
        px = rng.integers(0, 256, (1000, 2500, 4), dtype=np.uint8)
        px[..., 3] = 255 if i == 0 else 128
        doc.add_layer(name=f"L{i}", pixels=px)
    return doc


def test_a_big_dirty_area_fills_in_over_several_paints(qtbot, monkeypatch):
    doc = _doc()
    canvas = Canvas(DocumentController(doc))
    qtbot.addWidget(canvas)
    canvas.resize(800, 500)
    canvas.show()
    qtbot.waitExposed(canvas)
    canvas.flush()
    composited: list[int] = []
    real = doc.composite

    def counting(rect=None, **kw):  # noqa: ANN001, ANN202
        composited.append(rect.w * rect.h)
        return real(rect, **kw)

    monkeypatch.setattr(doc, "composite", counting)
    doc.set_layer_props(2, opacity=0.5)  # the whole canvas changes
    canvas.flush(0.0)  # what a paint does, with no time to spare: one chunk
    cw, ch = canvas_module.FLUSH_CHUNK
    assert composited == [cw * ch] and canvas._dirty  # the rest is still dirty
    asked: list = []
    monkeypatch.setattr(canvas, "update", lambda *a: asked.append(a))
    qtbot.waitUntil(lambda: bool(asked), timeout=5000)  # the next paint is asked for by itself
    paints = 1
    while canvas._dirty and paints < 1000:
        canvas.flush(0.0)
        paints += 1
    assert not canvas._dirty and paints > 10
    assert sum(composited) == 2500 * 1000  # every pixel once
    want = real()  # opaque: straight and premultiplied agree
    got = canvas._buffer.read_rgba()
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1


def test_flush_without_a_budget_does_everything_at_once(qtbot):
    doc = _doc()
    canvas = Canvas(DocumentController(doc))
    qtbot.addWidget(canvas)
    canvas.flush()
    assert not canvas._dirty
