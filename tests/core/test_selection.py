import numpy as np
import pytest

from ganpaint.core.brush import BrushSettings, SelectionStroke
from ganpaint.core.document import Document
from ganpaint.core.geometry import Rect
from ganpaint.core.selection import (
    Selection,
    combine,
    ellipse_mask,
    feather,
    lasso_mask,
    mask_bbox,
    rect_mask,
    to_mask8,
)


def _doc(w=40, h=30):
    return Document.from_array(np.zeros((h, w, 4), np.uint8))


def test_selection_basics_and_readonly():
    s = Selection(10, 8)
    assert s.is_empty() and s.bbox().is_empty()
    with pytest.raises(ValueError):
        s.mask[0, 0] = 1
    s.write(Rect(2, 3, 4, 2), np.full((2, 4), 128, np.uint8))
    assert not s.is_empty() and s.bbox() == Rect(2, 3, 4, 2)
    f = s.as_float()
    assert f.dtype == np.float32 and abs(f[3, 2] - 128 / 255) < 1e-6 and f[0, 0] == 0


def test_rect_mask_exact_and_clipped():
    m = rect_mask(10, 10, Rect(-3, 4, 6, 100))
    assert m.dtype == np.uint8 and mask_bbox(m) == Rect(0, 4, 3, 6)
    assert set(np.unique(m)) == {0, 255}


def test_ellipse_area_and_antialias():
    m = ellipse_mask(100, 100, Rect(10, 20, 60, 40))
    area = m.astype(float).sum() / 255
    assert abs(area - np.pi * 30 * 20) / (np.pi * 30 * 20) < 0.01
    assert mask_bbox(m).intersect(Rect(10, 20, 60, 40)) == mask_bbox(m)
    soft = ((m > 0) & (m < 255)).sum()
    assert soft > 0  # antialiased edge
    hard = ellipse_mask(100, 100, Rect(10, 20, 60, 40), antialias=False)
    assert set(np.unique(hard)) <= {0, 255}


def test_lasso_triangle_area():
    pts = [(10.0, 10.0), (90.0, 10.0), (10.0, 70.0)]
    m = lasso_mask(100, 100, pts)
    area = m.astype(float).sum() / 255
    assert abs(area - 0.5 * 80 * 60) / (0.5 * 80 * 60) < 0.02
    assert m[20, 20] == 255 and m[65, 85] == 0
    assert lasso_mask(100, 100, pts[:2]).max() == 0  # fewer than 3 points select nothing


def test_combine_modes():
    a = rect_mask(10, 10, Rect(0, 0, 6, 10))
    b = rect_mask(10, 10, Rect(4, 0, 6, 10))
    assert mask_bbox(combine(a, b, "add")) == Rect(0, 0, 10, 10)
    assert mask_bbox(combine(a, b, "intersect")) == Rect(4, 0, 2, 10)
    assert mask_bbox(combine(a, b, "subtract")) == Rect(0, 0, 4, 10)
    assert combine(a, b, "replace") is b
    with pytest.raises(ValueError):
        combine(a, b, "xor")  # type: ignore[arg-type]


def test_feather_softens_edges_only_near_shape():
    m = rect_mask(60, 60, Rect(20, 20, 20, 20))
    f = feather(m, 3.0)
    assert f[30, 30] == 255 and f[0, 0] == 0 and 0 < f[30, 20] < 255


def test_to_mask8():
    assert to_mask8(np.array([[True, False]])).tolist() == [[255, 0]]
    assert to_mask8(np.array([[1.0, 0.5]], np.float32)).tolist() == [[255, 128]]
    with pytest.raises(ValueError):
        to_mask8(np.zeros((2, 2, 2)))


@pytest.mark.parametrize(
    "op",
    [
        lambda d: d.select_all(),
        lambda d: d.select_rect(Rect(3, 4, 10, 12)),
        lambda d: d.select_ellipse(Rect(3, 4, 20, 12), feather=2.0),
        lambda d: d.select_lasso([(1, 1), (30, 5), (12, 25)]),
    ],
)
def test_selection_commands_undo_redo_bit_exact(op):
    d = _doc()
    d.select_rect(Rect(0, 0, 5, 5))
    before = np.array(d.selection.mask)
    op(d)
    after = np.array(d.selection.mask)
    assert not np.array_equal(before, after)
    d.undo()
    assert np.array_equal(d.selection.mask, before)
    d.redo()
    assert np.array_equal(d.selection.mask, after)


def test_select_none_invert_and_modes_via_document():
    d = _doc()
    d.select_rect(Rect(0, 0, 10, 30))
    d.select_rect(Rect(30, 0, 10, 30), mode="add")
    assert d.selection.bbox() == Rect(0, 0, 40, 30)
    d.select_invert()
    assert d.selection.bbox() == Rect(10, 0, 20, 30)
    d.select_none()
    assert d.selection.is_empty() and d.mask_for_tool() is None
    n = len(d.history.entries)
    d.select_none()  # no change: no history step
    assert len(d.history.entries) == n


def test_selection_events_report_changed_rect():
    d = _doc()
    seen = []
    d.events.selection_changed.connect(seen.append)
    d.select_rect(Rect(5, 6, 7, 8))
    assert seen == [Rect(5, 6, 7, 8)]
    d.undo()
    assert seen[-1] == Rect(5, 6, 7, 8)


def test_mask_brush_adds_subtracts_and_undoes():
    d = _doc(200, 100)
    s = SelectionStroke(d, BrushSettings(size=10, hardness=1.0))
    changed = s.add_point(20, 50)
    changed = changed.union(s.add_point(150, 50))
    assert changed.contains(Rect(20, 48, 130, 4))
    s.finish()
    assert d.selection.mask[50, 80] == 255 and d.selection.mask[10, 80] == 0
    assert d.selection.bbox().y >= 44 and d.selection.bbox().bottom <= 56
    snap = np.array(d.selection.mask)
    sub = SelectionStroke(d, BrushSettings(size=10, hardness=1.0), subtract=True)
    sub.add_point(80, 50)
    sub.finish()
    assert d.selection.mask[50, 80] == 0 and d.selection.mask[50, 30] == 255
    d.undo()
    assert np.array_equal(d.selection.mask, snap)
    d.undo()
    assert d.selection.is_empty()
    d.redo()
    assert np.array_equal(d.selection.mask, snap)
