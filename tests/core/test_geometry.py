from ganpaint.core.geometry import Rect


def test_intersect_and_union():
    a, b = Rect(0, 0, 10, 10), Rect(5, 5, 10, 10)
    assert a.intersect(b) == Rect(5, 5, 5, 5)
    assert a.union(b) == Rect(0, 0, 15, 15)
    assert a.intersect(Rect(20, 20, 5, 5)).is_empty()
    assert a.intersect(Rect(10, 0, 5, 5)).is_empty()  # touching edges do not overlap


def test_empty_rects_are_ignored_by_union():
    e = Rect.empty()
    assert e.is_empty() and Rect(3, 3, 0, 5).is_empty() and Rect(3, 3, 5, -1).is_empty()
    assert e.union(Rect(1, 2, 3, 4)) == Rect(1, 2, 3, 4)
    assert Rect(1, 2, 3, 4).union(Rect(100, 100, 0, 0)) == Rect(1, 2, 3, 4)
    assert e.area == 0 and Rect(0, 0, 3, 4).area == 12


def test_bounds_covering_and_helpers():
    assert Rect.from_bounds(2, 3, 7, 9) == Rect(2, 3, 5, 6)
    assert Rect.covering(1.5, 2.2, 3.1, 4.0) == Rect(1, 2, 3, 2)
    r = Rect(2, 3, 5, 6)
    assert (r.right, r.bottom) == (7, 9)
    assert r.translated(-2, 1) == Rect(0, 4, 5, 6)
    assert r.adjusted(1) == Rect(1, 2, 7, 8)
    assert Rect(-5, -5, 20, 20).clipped(10, 8) == Rect(0, 0, 10, 8)
    assert r.contains(Rect(3, 4, 1, 1)) and not r.contains(Rect(0, 0, 3, 3))
    assert r.contains_point(2, 3) and not r.contains_point(7, 3)
    x, y, w, h = r
    assert (x, y, w, h) == (2, 3, 5, 6)


def test_slices_index_arrays():
    import numpy as np

    a = np.arange(100).reshape(10, 10)
    r = Rect(2, 3, 4, 2)
    assert a[r.slices()].shape == (2, 4)
    assert a[r.slices()][0, 0] == a[3, 2]
    frame = Rect(1, 1, 9, 9)
    assert a[r.slices_in(frame)][0, 0] == a[2, 1]


def test_frozen_and_hashable():
    import dataclasses

    import pytest

    r = Rect(1, 2, 3, 4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.x = 5  # type: ignore[misc]
    assert {r, Rect(1, 2, 3, 4)} == {r}
