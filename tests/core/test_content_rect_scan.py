"""content_rect scans from the edges inwards: the same rect as a full scan, and an opaque
layer is read only near its border (issue 12 point 4: bursts of large results)."""

from __future__ import annotations

import numpy as np

from ganpaint.core.commands import content_rect
from ganpaint.core.geometry import Rect
from ganpaint.core.layers import Layer


def _full_scan(layer: Layer) -> Rect:
    alpha = layer.pixels[:, :, 3]
    rows = np.flatnonzero(alpha.any(axis=1))
    if rows.size == 0:
        return Rect.empty()
    cols = np.flatnonzero(alpha.any(axis=0))
    return Rect(layer.x + int(cols[0]), layer.y + int(rows[0]),
                int(cols[-1]) + 1 - int(cols[0]), int(rows[-1]) + 1 - int(rows[0]))


def test_same_rect_as_a_full_scan():
    rng = np.random.default_rng(3)
    for _ in range(300):
        h, w = int(rng.integers(1, 70)), int(rng.integers(1, 70))
        px = np.zeros((h, w, 4), np.uint8)
        for _ in range(int(rng.integers(0, 3))):
            y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
            px[y:y + int(rng.integers(1, 5)), x:x + int(rng.integers(1, 5)), 3] = int(rng.integers(1, 256))
        px[..., :3] = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)  # colour under alpha 0 is ignored
        layer = Layer(name="t", pixels=px, x=int(rng.integers(-5, 5)), y=int(rng.integers(-5, 5)))
        got, want = content_rect(layer), _full_scan(layer)
        assert got.is_empty() == want.is_empty()
        if not want.is_empty():
            assert got == want


class _CountingAlpha(np.ndarray):
    """An array that counts the elements its ``any`` reductions read."""

    read = 0

    def any(self, *a, **k):  # noqa: ANN002, ANN003, ANN201
        _CountingAlpha.read += self.size
        return np.asarray(self).any(*a, **k)


def test_an_opaque_layer_is_read_near_its_border_only():
    px = np.full((3000, 4000, 4), 255, np.uint8).view(_CountingAlpha)
    layer = Layer(name="big", pixels=px)
    _CountingAlpha.read = 0
    assert content_rect(layer) == Rect(0, 0, 4000, 3000)
    assert 0 < _CountingAlpha.read < 4000 * 3000 // 20  # the old full scan read it twice
