"""Issue 12, point 4: a layer operation costs O(changed pixels), not O(layers).

Counted, not timed: the canvas area each operation announces as changed (pixels_changed,
what a view re-composites), and how many (layer, tile) pieces the compositor reads to
redraw it, at 10 and at 200 layers. Also ``Document.batch``: a burst of changes announced once.
"""

from __future__ import annotations

import numpy as np
import pytest

from ganpaint.core import blend
from ganpaint.core.document import Document
from ganpaint.core.geometry import Rect
from ganpaint.core.layers import Layer

W, H = 1024, 768
PATCH = 64


def _doc(n_layers: int) -> Document:
    """An opaque background plus n-1 canvas-sized layers, each with one small patch of paint."""
    doc = Document(W, H)
    bg = np.full((H, W, 4), 255, np.uint8)
    doc.add_layer(name="bg", pixels=bg)
    for i in range(n_layers - 1):
        px = np.zeros((H, W, 4), np.uint8)
        y, x = (i * 37) % (H - PATCH), (i * 53) % (W - PATCH)
        px[y:y + PATCH, x:x + PATCH] = (200, 10, 10, 255)
        doc.add_layer(name=f"l{i}", pixels=px)
    doc.history.clear()
    return doc


def _announced(doc: Document, op) -> int:
    """Pixels of the canvas area ``op`` announces as changed."""
    rects: list[Rect] = []
    doc.events.pixels_changed.connect(rects.append)
    try:
        op(doc)
    finally:
        doc.events.pixels_changed.disconnect(rects.append)
    return sum(r.w * r.h for r in rects)


OPS = {
    "add": lambda d: d.add_layer(name="new"),
    "delete": lambda d: d.delete_layer(len(d.layers) // 2),
    "hide": lambda d: d.set_layer_props(len(d.layers) // 2, visible=False),
    "opacity": lambda d: d.set_layer_props(len(d.layers) // 2, opacity=0.5),
    "blend": lambda d: d.set_layer_props(len(d.layers) // 2, blend="multiply"),
    "move": lambda d: d.move_layer(len(d.layers) // 2, len(d.layers) // 2 + 1),
    "offset": lambda d: d.move_layer_by(len(d.layers) // 2, 5, 3),
    "merge": lambda d: d.merge_down(len(d.layers) // 2),
    "rename": lambda d: d.set_layer_props(len(d.layers) // 2, name="x"),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_a_layer_operation_announces_only_the_pixels_it_changes(name: str) -> None:
    small, large = _doc(10), _doc(200)
    a_small, a_large = _announced(small, OPS[name]), _announced(large, OPS[name])
    # the same, whatever the number of layers, and far below the canvas (the patch, at most
    # two patches and an offset for merge/move-by): the former layer rect was the whole canvas
    assert a_small == a_large
    # (merge: the bounding box of the two layers' patches)
    bound = W * H // 20 if name == "merge" else 2 * (PATCH + 5) * (PATCH + 3)
    assert a_large <= bound, f"{name}: {a_large} px announced"
    # and undo announces as little
    assert _announced(large, lambda d: d.undo()) <= bound


def test_the_changed_area_is_still_repainted_right() -> None:
    doc = _doc(12)
    i = 5
    before = doc.composite()
    for op in (lambda d: d.set_layer_props(i, visible=False), lambda d: d.move_layer_by(i, 7, -4),
               lambda d: d.set_layer_props(i, opacity=0.3), lambda d: d.merge_down(i),
               lambda d: d.delete_layer(i), lambda d: d.move_layer(3, 8)):
        full_before = doc.composite()
        rects: list[Rect] = []
        doc.events.pixels_changed.connect(rects.append)
        op(doc)
        doc.events.pixels_changed.disconnect(rects.append)
        full_after = doc.composite()
        changed = np.argwhere((full_before != full_after).any(axis=2))
        for y, x in changed:  # every pixel that changed lies in an announced rect
            assert any(r.x <= x < r.x + r.w and r.y <= y < r.y + r.h for r in rects), (op, x, y)
    while doc.undo():
        pass
    np.testing.assert_array_equal(doc.composite(), before)


def _pieces_read(doc: Document, rect: Rect) -> int:
    count = [0]
    real = blend._visible_parts

    def counting(layers, r):  # noqa: ANN001, ANN202
        parts, opaque = real(layers, r)
        count[0] += len(parts)
        return parts, opaque

    blend._visible_parts = counting
    try:
        doc.composite(rect)
    finally:
        blend._visible_parts = real
    return count[0]


def test_compositing_under_a_stack_of_opaque_results_reads_only_the_top() -> None:
    """200 opaque canvas-sized results: a tile reads the topmost one, not all 200."""
    doc = Document(256, 256)
    for i in range(200):
        doc.add_layer(name=f"r{i}", pixels=np.full((256, 256, 4), (i, 0, 0, 255), np.uint8))
    tiles = (256 // blend._TILE) ** 2
    assert _pieces_read(doc, doc.rect) == tiles
    assert doc.composite()[0, 0, 0] == 199


def test_batch_announces_a_burst_once() -> None:
    doc = _doc(3)
    seen: dict[str, list] = {"layers": [], "pixels": [], "history": [], "active": []}
    doc.events.layers_changed.connect(lambda: seen["layers"].append(1))
    doc.events.pixels_changed.connect(seen["pixels"].append)
    doc.events.history_changed.connect(lambda: seen["history"].append(1))
    doc.events.active_changed.connect(seen["active"].append)
    with doc.batch():
        for k in range(20):
            px = np.zeros((10, 10, 4), np.uint8)
            px[..., 3] = 255
            doc.insert_layer(Layer(px, name=f"r{k}", x=k * 20, y=k * 10))
        assert not any(seen.values())  # nothing announced inside
    assert len(seen["layers"]) == 1 and len(seen["history"]) == 1
    assert seen["active"] == [len(doc.layers) - 1]
    assert seen["pixels"] == [Rect(0, 0, 19 * 20 + 10, 19 * 10 + 10)]
    assert len(doc.history.entries) == 20  # still one undo step each
