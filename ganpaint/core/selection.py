"""The selection: a soft 8-bit mask the size of the canvas (255 = fully selected).

An empty selection (all zero) means "no selection": tools and brushes act everywhere.
The mask is read-only from outside (``Selection.mask`` is a non-writeable view); the
document changes it through undoable commands that store only the changed rect.

Shape builders (``rect_mask``, ``ellipse_mask``, ``lasso_mask``) return uint8 masks the
size of the canvas; ``combine`` applies a mode (replace, add, subtract, intersect) and
``feather`` softens an edge with a Gaussian blur (Pillow) limited to the shape's bbox;
``grow`` / ``shrink`` move the edge out / in by N pixels (Select > Grow / Shrink selection).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ganpaint.core.geometry import Rect

__all__ = [
    "SelectMode",
    "Selection",
    "changed_rect",
    "combine",
    "ellipse_mask",
    "feather",
    "grow",
    "lasso_mask",
    "mask_bbox",
    "rect_mask",
    "shrink",
    "to_mask8",
]

SelectMode = Literal["replace", "add", "subtract", "intersect"]
_SUPERSAMPLE_BUDGET = 32 << 20  # max pixels of a supersampled shape raster


def mask_bbox(mask: np.ndarray) -> Rect:
    """The bounding rect of the non-zero pixels (empty when there are none)."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return Rect.empty()
    cols = np.flatnonzero(mask[rows[0] : rows[-1] + 1].any(axis=0))
    return Rect.from_bounds(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def changed_rect(before: np.ndarray, after: np.ndarray) -> Rect:
    """The bounding rect of pixels that differ between two same-shaped arrays."""
    diff = before != after
    if diff.ndim == 3:
        diff = diff.any(axis=2)
    return mask_bbox(diff)


def to_mask8(mask: np.ndarray) -> np.ndarray:
    """bool, uint8 or float [0, 1] (h, w) -> new contiguous uint8 array."""
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"a mask must be 2-D (h, w), got shape {m.shape}")
    if m.dtype == np.bool_:
        return np.asarray(m.astype(np.uint8) * np.uint8(255))
    if m.dtype == np.uint8:
        return np.array(m, order="C", copy=True)
    if np.issubdtype(m.dtype, np.floating):
        return np.asarray(np.rint(np.clip(m, 0.0, 1.0) * 255.0), dtype=np.uint8)
    raise ValueError(f"unsupported mask dtype {m.dtype}")


class Selection:
    """A (height, width) uint8 soft mask with cached emptiness and bbox."""

    def __init__(self, width: int, height: int, mask: np.ndarray | None = None) -> None:
        if mask is None:
            self._mask = np.zeros((int(height), int(width)), np.uint8)
        else:
            self._mask = to_mask8(mask)
            if self._mask.shape != (int(height), int(width)):
                raise ValueError(f"mask shape {self._mask.shape} does not match canvas {width}x{height}")
        self._bbox: Rect | None = None

    @property
    def width(self) -> int:
        return int(self._mask.shape[1])

    @property
    def height(self) -> int:
        return int(self._mask.shape[0])

    @property
    def mask(self) -> np.ndarray:
        """The mask, read-only. Copy it to change it, then go through the document."""
        v = self._mask.view()
        v.flags.writeable = False
        return v

    def bbox(self) -> Rect:
        """Bounding rect of the selected pixels (cached until the next change)."""
        if self._bbox is None:
            self._bbox = mask_bbox(self._mask)
        return self._bbox

    def is_empty(self) -> bool:
        return self.bbox().is_empty()

    def as_float(self) -> np.ndarray:
        """float32 (h, w) in [0, 1]."""
        return self._mask.astype(np.float32) * np.float32(1 / 255)

    def region(self, rect: Rect) -> np.ndarray:
        """Read-only view of the mask over ``rect`` (which must lie inside the canvas)."""
        v = self._mask[rect.slices()]
        v.flags.writeable = False
        return v

    def copy(self) -> Selection:
        s = Selection(self.width, self.height)
        s._mask = self._mask.copy()
        s._bbox = self._bbox
        return s

    # -- mutation: only for commands in the core -----------------------------------------
    def write(self, rect: Rect, values: np.ndarray) -> None:
        """Overwrite ``rect`` with ``values`` (uint8 of the rect's shape)."""
        self._mask[rect.slices()] = values
        self._bbox = None

    def __repr__(self) -> str:
        return f"Selection({self.width}x{self.height}, bbox={self.bbox()})"


# -- shape builders ----------------------------------------------------------------------


def rect_mask(width: int, height: int, rect: Rect) -> np.ndarray:
    m = np.zeros((height, width), np.uint8)
    r = rect.clipped(width, height)
    if not r.is_empty():
        m[r.slices()] = 255
    return m


def _supersample_factor(box: Rect, antialias: bool) -> int:
    if not antialias:
        return 1
    for f in (4, 2):
        if box.area * f * f <= _SUPERSAMPLE_BUDGET:
            return f
    return 1


def _draw_shape(
    width: int, height: int, box: Rect, antialias: bool, draw: str, coords: Sequence[tuple[float, float]]
) -> np.ndarray:
    """Rasterise an ellipse or polygon given in canvas coordinates, drawn only over ``box``.

    Antialiasing supersamples the box (Pillow draws without coverage) and box-filters down.
    """
    m = np.zeros((height, width), np.uint8)
    box = box.clipped(width, height)
    if box.is_empty():
        return m
    f = _supersample_factor(box, antialias)
    img = Image.new("L", (box.w * f, box.h * f), 0)
    d = ImageDraw.Draw(img)
    # Pillow treats pixel (i, j) as the unit square at integer corner (i, j); shape coordinates
    # are continuous, so a point at x maps to (x - box.x) * f in the supersampled raster.
    pts = [((px - box.x) * f, (py - box.y) * f) for px, py in coords]
    if draw == "ellipse":
        (x0, y0), (x1, y1) = pts
        # Pillow's ellipse box is inclusive of its last pixel: subtract one raster pixel.
        d.ellipse([x0, y0, x1 - 1, y1 - 1], fill=255)
    else:
        d.polygon(pts, fill=255)
    if f > 1:
        img = img.reduce(f)
    m[box.slices()] = np.asarray(img, np.uint8)
    return m


def ellipse_mask(width: int, height: int, rect: Rect, antialias: bool = True) -> np.ndarray:
    """The ellipse inscribed in ``rect``."""
    if rect.is_empty():
        return np.zeros((height, width), np.uint8)
    return _draw_shape(
        width, height, rect, antialias, "ellipse", [(rect.x, rect.y), (rect.right, rect.bottom)]
    )


def lasso_mask(
    width: int, height: int, points: Sequence[tuple[float, float]], antialias: bool = True
) -> np.ndarray:
    """The closed polygon through ``points`` (canvas coordinates, even-odd fill)."""
    if len(points) < 3:
        return np.zeros((height, width), np.uint8)
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    box = Rect.covering(min(xs), min(ys), max(xs) + 1, max(ys) + 1)
    return _draw_shape(width, height, box, antialias, "polygon", [(float(x), float(y)) for x, y in points])


def feather(mask: np.ndarray, radius: float) -> np.ndarray:
    """Gaussian-soften ``mask`` (uint8) by ``radius`` pixels, working only near its content."""
    if radius <= 0:
        return mask
    box = mask_bbox(mask)
    if box.is_empty():
        return mask
    h, w = mask.shape
    pad = int(np.ceil(radius * 3)) + 1
    region = box.adjusted(pad).clipped(w, h)
    img = Image.fromarray(np.ascontiguousarray(mask[region.slices()]), "L")
    out = mask.copy()
    out[region.slices()] = np.asarray(img.filter(ImageFilter.GaussianBlur(radius)), np.uint8)
    return out


def combine(current: np.ndarray, shape: np.ndarray, mode: SelectMode) -> np.ndarray:
    """Apply a selection mode: replace, add (max), subtract, intersect (min)."""
    if mode == "replace":
        return shape
    if mode == "add":
        return np.asarray(np.maximum(current, shape))
    if mode == "subtract":
        # round(current * (1 - shape/255)) in integers
        keep = current.astype(np.uint16) * (255 - shape.astype(np.uint16)) + 127
        return np.asarray(keep // 255, dtype=np.uint8)
    if mode == "intersect":
        return np.asarray(np.minimum(current, shape))
    raise ValueError(f"unknown selection mode {mode!r} (replace, add, subtract, intersect)")


#: Grow / Shrink selection refuse more than this many pixels (each pixel is one pass)
MAX_GROW = 512


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """``mask`` (uint8) grown outwards by ``pixels``: a grey dilation, each pixel taking the
    largest value within that distance, so a soft (feathered) edge keeps its ramp, moved out.
    The neighbourhood alternates a 3 x 3 cross and a 3 x 3 square per pixel (an octagon,
    close to a disc). Only the bbox grown by ``pixels`` is worked on; 0 returns a copy."""
    m = np.asarray(mask, np.uint8)
    n = int(pixels)
    if n < 0 or n > MAX_GROW:
        raise ValueError(f"grow by 0 to {MAX_GROW} pixels, not {pixels}")
    box = mask_bbox(m)
    if n == 0 or box.is_empty():
        return m.copy()
    h, w = m.shape
    region = box.adjusted(n).clipped(w, h)
    out = m.copy()
    out[region.slices()] = grey_dilate(m[region.slices()], n)
    return out


def grey_dilate(values: np.ndarray, pixels: int) -> np.ndarray:
    """A 2-D array of any dtype dilated ``pixels`` times: each pass takes the largest value of
    the 3 x 3 cross, every other pass of the 3 x 3 square (together an octagon, close to a
    disc). Beyond the array counts as 0. Returns a new array."""
    cur = np.array(values, copy=True)
    for k in range(int(pixels)):
        p = np.pad(cur, 1, mode="constant", constant_values=0)
        nxt = np.maximum.reduce([cur, p[:-2, 1:-1], p[2:, 1:-1], p[1:-1, :-2], p[1:-1, 2:]])
        if k % 2:  # every other pass the diagonals too
            nxt = np.maximum.reduce([nxt, p[:-2, :-2], p[:-2, 2:], p[2:, :-2], p[2:, 2:]])
        cur = nxt
    return cur


def shrink(mask: np.ndarray, pixels: int) -> np.ndarray:
    """``mask`` (uint8) shrunk inwards by ``pixels`` (a grey erosion: ``grow`` of the
    unselected part). Beyond the canvas counts as selected, so an edge that touches the
    border stays on it (Select all shrinks to itself)."""
    m = np.asarray(mask, np.uint8)
    n = int(pixels)
    if n < 0 or n > MAX_GROW:
        raise ValueError(f"shrink by 0 to {MAX_GROW} pixels, not {pixels}")
    if n == 0:
        return m.copy()
    return np.asarray(255 - grow(255 - m, n), np.uint8)
