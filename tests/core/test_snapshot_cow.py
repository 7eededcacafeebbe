"""ora.snapshot is copy-on-write: it shares the layers' pixel arrays (read-only for good) and
every writer copies a shared array before changing it, so a snapshot being saved in the
background keeps exactly the pixels it was taken with, whatever the user does meanwhile."""

from __future__ import annotations

import numpy as np
import pytest

from ganpaint.core.brush import BrushSettings, BrushStroke, SelectionStroke
from ganpaint.core.document import Document
from ganpaint.core.geometry import Rect
from ganpaint.core.layers import Layer, LayerKind, ResultInfo, is_shared, share_pixels
from ganpaint.core.ora import read_ora, save_ora, snapshot
from ganpaint.core.specs import OutputMode, Role, ToolResult, ToolSpec
from ganpaint.core.toolio import apply_result, build_request

W, H = 64, 48


def _doc() -> Document:
    rng = np.random.default_rng(7)
    layers = [Layer(rng.integers(0, 256, (H, W, 4), dtype=np.uint8), name=f"L{i}") for i in range(4)]
    layers[0].pixels[..., 3] = 255
    res = Layer(rng.integers(0, 256, (H, W, 4), dtype=np.uint8), name="R", kind=LayerKind.RESULT,
                result=ResultInfo("t", plugin="p", params={"a": 1}, before=np.zeros((H, W, 4), np.uint8)))
    return Document.from_layers(W, H, [*layers, res])


def _deep(snap) -> list[tuple]:
    """What the snapshot holds, copied (compared bit-exact later)."""
    return [(la.id, la.pixels.copy(), la.props(), dict(la.result.params) if la.result else None)
            for la in snap.layers]


def _assert_same(snap, deep: list[tuple]) -> None:
    assert len(snap.layers) == len(deep)
    for la, (lid, px, props, params) in zip(snap.layers, deep, strict=True):
        assert la.id == lid
        np.testing.assert_array_equal(la.pixels, px)
        assert la.props() == props
        assert (dict(la.result.params) if la.result else None) == params


def _brush(**kw) -> BrushSettings:
    return BrushSettings(**{"size": 9.0, "hardness": 0.7, "color": (250, 10, 20), **kw})


def _spec(**kw) -> ToolSpec:
    return ToolSpec(**{"id": "t", "title": "Tool", "run": "m:f", "plugin": "plug", **kw})


def test_snapshot_shares_the_arrays_instead_of_copying() -> None:
    doc = _doc()
    snap = snapshot(doc)
    for la, sl in zip(doc.layers, snap.layers, strict=True):
        assert sl.pixels is la.pixels and is_shared(la.pixels) and not la.pixels.flags.writeable
        assert sl is not la
    with pytest.raises(ValueError, match="read-only"):  # a writer that forgot to copy fails loudly
        doc.layers[0].pixels[0, 0] = 1


def test_share_pixels_copies_a_view_whose_base_would_stay_writeable() -> None:
    base = np.zeros((4, 6, 4), np.uint8)
    view = base[1:3]
    shared = share_pixels(view)
    assert shared is not view and not np.shares_memory(shared, base) and is_shared(shared)
    assert not is_shared(view) and not is_shared(np.zeros(3))


def _mask_brush(doc: Document) -> None:
    ms = SelectionStroke(doc, _brush(), subtract=True)
    ms.add_point(10, 10)
    ms.add_point(30, 20)
    ms.finish()


def _tool(doc: Document, output: OutputMode, value: float) -> None:
    lid = doc.layers[3].id
    spec = _spec(output=output)
    req = build_request(doc, spec, {Role.IMAGE: lid}, {})
    apply_result(doc, spec, req, ToolResult(image=np.full((H, W, 3), value, np.float32)), lid)


def _is(a: np.ndarray, b: np.ndarray) -> None:
    assert a is b and not a.flags.writeable


def _undo_all(doc: Document) -> None:
    while doc.undo():
        pass


def _redo_all(doc: Document) -> None:
    while doc.redo():
        pass


def test_every_kind_of_edit_leaves_the_snapshot_bit_exact(tmp_path) -> None:
    doc = _doc()
    res_id = doc.layers[4].id
    snap = snapshot(doc)
    deep = _deep(snap)
    edits = [
        ("brush", lambda: doc.paint_stroke(0, [(5, 5), (40, 30), (60, 2)], _brush())),
        ("eraser", lambda: doc.paint_stroke(1, [(3, 40), (50, 10)], _brush(eraser=True))),
        ("fill", lambda: doc.replace_pixels(2, np.full((10, 12, 4), 9, np.uint8), rect=Rect(4, 6, 12, 10))),
        ("tool result, replace", lambda: _tool(doc, OutputMode.REPLACE, 1.0)),
        ("tool result, new layer", lambda: _tool(doc, OutputMode.NEW_LAYER, 0.0)),
        # a re-run replaces the result's array; undo puts the old (shared) array back, and the
        # next write must copy it again: the mark is on the array, not on the layer
        ("result re-run", lambda: doc.set_result_info(res_id, ResultInfo("t", plugin="p", params={"a": 2}),
                                                      np.full((H, W, 4), 77, np.uint8))),
        ("undo re-run", doc.undo),
        ("the old array is back", lambda: _is(doc.find_layer(res_id).pixels, snap.layers[4].pixels)),
        ("fill the restored array", lambda: doc.replace_pixels(doc.index_of(res_id), np.full((H, W, 4), 3, np.uint8))),
        ("brush on it", lambda: doc.paint_stroke(doc.index_of(res_id), [(1, 1), (60, 40)], _brush())),
        ("layer props", lambda: doc.set_layer_props(1, opacity=0.25, name="renamed", visible=False)),
        ("move", lambda: doc.move_layer_by(2, 7, -3)),
        ("selection", lambda: doc.set_selection(np.full((H, W), 255, np.uint8))),
        ("mask brush", lambda: _mask_brush(doc)),
        ("brush in the selection", lambda: doc.paint_stroke(0, [(2, 2), (20, 20)], _brush())),
        ("select none", doc.select_none),
        ("crop", lambda: doc.crop(Rect(3, 2, 50, 40))),
        ("resize", lambda: doc.resize_image(80, 60)),
        ("canvas size", lambda: doc.resize_canvas(90, 70)),
        ("rotate", lambda: doc.rotate(90)),
        ("flip", lambda: doc.flip("h")),
        ("merge down", lambda: doc.merge_down(len(doc.layers) - 1)),
        ("flatten", doc.flatten),
        ("undo all", lambda: _undo_all(doc)),  # the shared arrays come back, still read-only
        ("redo all", lambda: _redo_all(doc)),
        ("undo all again", lambda: _undo_all(doc)),
        ("brush after undo", lambda: doc.paint_stroke(0, [(5, 40), (60, 5)], _brush(color=(1, 2, 3)))),
        ("fill after undo", lambda: doc.replace_pixels(3, np.full((H, W, 4), 200, np.uint8))),
        ("undo", doc.undo),
        ("redo", doc.redo),
    ]
    for name, edit in edits:
        edit()
        try:
            _assert_same(snap, deep)
        except AssertionError as exc:
            raise AssertionError(f"the snapshot changed after: {name}") from exc
    assert doc.find_layer(res_id) is not None and len(doc.layers) == 5
    # and what is written is what the snapshot saw
    save_ora(snap, tmp_path / "s.ora")
    back = read_ora(tmp_path / "s.ora")
    for la, (_, px, _, _) in zip(back.layers, deep, strict=True):
        np.testing.assert_array_equal(la.pixels, px)


def _twin_strokes(snap_at: int | None) -> tuple[Document, object, list | None]:
    doc = _doc()
    pts = [(4, 4), (20, 9), (35, 30), (50, 12), (62, 44)]
    stroke = BrushStroke(doc, 0, _brush(size=13.0))
    snap = deep = None
    for i, (x, y) in enumerate(pts):
        if i == snap_at:
            snap = snapshot(doc)  # autosave fires during a long stroke
            deep = _deep(snap)
        stroke.add_point(x, y)
    stroke.finish()
    return doc, snap, deep


@pytest.mark.parametrize("snap_at", [0, 2, 4])
def test_snapshot_taken_mid_stroke_is_unchanged_and_the_stroke_goes_on(snap_at: int) -> None:
    plain, _, _ = _twin_strokes(None)
    doc, snap, deep = _twin_strokes(snap_at)
    _assert_same(snap, deep)
    # the stroke continued in a copy: the same result as without a snapshot, one undo step
    np.testing.assert_array_equal(doc.layers[0].pixels, plain.layers[0].pixels)
    assert doc.layers[0].pixels is not snap.layers[0].pixels
    doc.undo()
    plain.undo()
    np.testing.assert_array_equal(doc.layers[0].pixels, plain.layers[0].pixels)
    _assert_same(snap, deep)


def test_a_stroke_cancelled_after_a_snapshot_leaves_the_snapshot_alone() -> None:
    doc = _doc()
    original = doc.layers[0].pixels.copy()
    stroke = BrushStroke(doc, 0, _brush())
    stroke.add_point(3, 3)
    stroke.add_point(40, 30)
    snap = snapshot(doc)
    deep = _deep(snap)
    stroke.cancel()
    _assert_same(snap, deep)
    np.testing.assert_array_equal(doc.layers[0].pixels, original)


def test_two_snapshots_and_edits_between_them() -> None:
    doc = _doc()
    s1 = snapshot(doc)
    d1 = _deep(s1)
    doc.paint_stroke(0, [(1, 1), (60, 40)], _brush())
    s2 = snapshot(doc)
    d2 = _deep(s2)
    assert s2.layers[1].pixels is s1.layers[1].pixels  # untouched layers are shared by both
    doc.paint_stroke(0, [(60, 1), (1, 40)], _brush(color=(0, 255, 0)))
    doc.undo()
    doc.undo()
    _assert_same(s1, d1)
    _assert_same(s2, d2)


def test_random_edits_with_snapshots_taken_along_the_way() -> None:
    """300 random edits (strokes, fills, results, undo/redo, transforms) with a snapshot every
    few steps, some mid-stroke: every snapshot still holds what it was taken with."""
    rng = np.random.default_rng(11)
    doc = _doc()
    taken: list[tuple] = []
    stroke = None

    def point() -> tuple[float, float]:
        return float(rng.uniform(0, doc.width)), float(rng.uniform(0, doc.height))

    for step in range(300):
        if step % 7 == 0:
            snap = snapshot(doc)
            taken.append((snap, _deep(snap)))
        if stroke is not None:
            stroke.add_point(*point())
            if rng.random() < 0.3:
                stroke.finish() if rng.random() < 0.8 else stroke.cancel()
                stroke = None
            continue
        op = int(rng.integers(0, 9))
        i = int(rng.integers(0, len(doc.layers)))
        if op == 0:
            stroke = BrushStroke(doc, i, _brush(eraser=bool(rng.random() < 0.3)))
            stroke.add_point(*point())
        elif op == 1:
            doc.paint_stroke(i, [point(), point()], _brush())
        elif op == 2:
            la = doc.layers[i]
            w, h = int(rng.integers(1, la.width + 1)), int(rng.integers(1, la.height + 1))
            doc.replace_pixels(i, rng.integers(0, 256, (h, w, 4), dtype=np.uint8), rect=Rect(0, 0, w, h))
        elif op == 3:
            doc.undo()
        elif op == 4:
            doc.redo()
        elif op == 5 and doc.layers[i].kind is LayerKind.RESULT:
            la = doc.layers[i]
            doc.set_result_info(la.id, ResultInfo("t", params={"s": step}),
                                rng.integers(0, 256, la.pixels.shape, dtype=np.uint8))
        elif op == 6:
            doc.rotate(90) if rng.random() < 0.5 else doc.flip("v")
        elif op == 7 and len(doc.layers) > 1 and i > 0:
            doc.merge_down(i)
        elif op == 8:
            doc.set_layer_props(i, opacity=float(rng.uniform(0, 1)))
    if stroke is not None:
        stroke.finish()
    assert len(taken) > 40
    for snap, deep in taken:
        _assert_same(snap, deep)
