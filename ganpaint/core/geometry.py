"""Integer rectangles in pixel coordinates.

A ``Rect(x, y, w, h)`` covers the pixels ``x <= px < x + w`` and ``y <= py < y + h``.
It is frozen (hashable, safe to pass between threads and store in history). An empty
rect has ``w <= 0`` or ``h <= 0``; every empty rect behaves the same in set operations.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Rect"]


@dataclass(frozen=True, slots=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    # -- construction ---------------------------------------------------------------
    @classmethod
    def from_bounds(cls, x0: int, y0: int, x1: int, y1: int) -> Rect:
        """The rect with corners (x0, y0) inclusive and (x1, y1) exclusive."""
        return cls(int(x0), int(y0), int(x1) - int(x0), int(y1) - int(y0))

    @classmethod
    def empty(cls) -> Rect:
        return cls(0, 0, 0, 0)

    @classmethod
    def covering(cls, x0: float, y0: float, x1: float, y1: float) -> Rect:
        """The smallest integer rect that contains the real box [x0, x1) x [y0, y1)."""
        ix0, iy0 = math.floor(x0), math.floor(y0)
        return cls.from_bounds(ix0, iy0, max(ix0, math.ceil(x1)), max(iy0, math.ceil(y1)))

    # -- properties -----------------------------------------------------------------
    @property
    def right(self) -> int:
        """One past the last column."""
        return self.x + self.w

    @property
    def bottom(self) -> int:
        """One past the last row."""
        return self.y + self.h

    @property
    def area(self) -> int:
        return 0 if self.is_empty() else self.w * self.h

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return (self.w, self.h)

    def is_empty(self) -> bool:
        return self.w <= 0 or self.h <= 0

    # -- set operations ---------------------------------------------------------------
    def intersect(self, other: Rect) -> Rect:
        """The common part; ``Rect.empty()`` when they do not overlap."""
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1, y1 = min(self.right, other.right), min(self.bottom, other.bottom)
        if x1 <= x0 or y1 <= y0:
            return Rect.empty()
        return Rect(x0, y0, x1 - x0, y1 - y0)

    def union(self, other: Rect) -> Rect:
        """The bounding rect of both (an empty operand is ignored)."""
        if self.is_empty():
            return other if not other.is_empty() else Rect.empty()
        if other.is_empty():
            return self
        return Rect.from_bounds(
            min(self.x, other.x), min(self.y, other.y), max(self.right, other.right), max(self.bottom, other.bottom)
        )

    def intersects(self, other: Rect) -> bool:
        return not self.intersect(other).is_empty()

    def contains_point(self, px: float, py: float) -> bool:
        return self.x <= px < self.right and self.y <= py < self.bottom

    def contains(self, other: Rect) -> bool:
        """True when ``other`` lies inside this rect (an empty rect lies anywhere)."""
        if other.is_empty():
            return True
        return self.x <= other.x and self.y <= other.y and other.right <= self.right and other.bottom <= self.bottom

    # -- helpers ------------------------------------------------------------------------
    def translated(self, dx: int, dy: int) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.w, self.h)

    def adjusted(self, margin: int) -> Rect:
        """Grown by ``margin`` on every side (shrunk when negative)."""
        return Rect(self.x - margin, self.y - margin, self.w + 2 * margin, self.h + 2 * margin)

    def clipped(self, width: int, height: int) -> Rect:
        """Clipped to the canvas ``Rect(0, 0, width, height)``."""
        return self.intersect(Rect(0, 0, width, height))

    def slices(self) -> tuple[slice, slice]:
        """``(rows, cols)`` slices for indexing an array laid out like this rect's frame."""
        return (slice(self.y, self.bottom), slice(self.x, self.right))

    def slices_in(self, frame: Rect) -> tuple[slice, slice]:
        """Slices of this rect inside an array whose pixel (0, 0) is at ``frame.x, frame.y``."""
        return (slice(self.y - frame.y, self.bottom - frame.y), slice(self.x - frame.x, self.right - frame.x))

    def __iter__(self) -> Iterator[int]:
        # Lets callers write ``x, y, w, h = rect`` (and pass ``*rect`` to Qt's QRect).
        return iter((self.x, self.y, self.w, self.h))
