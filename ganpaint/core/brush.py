"""Round brush strokes: painted live, recorded as one undoable step of touched tiles.

The canvas calls, per mouse move::

    stroke = BrushStroke(doc, layer_index, settings)
    changed = stroke.add_point(x, y, pressure)   # paints now, emits pixels_changed(changed)
    stroke.finish()                              # records one history step, paints nothing

A stroke keeps, for every 64x64 tile it touches, the tile's original pixels and a
coverage map (the max of its dabs). Pixels are recomputed from the originals and the
coverage, so a stroke never builds up past its opacity where its dabs overlap, and the
history step stores only the touched tiles (before and after), keeping undo memory
bounded. Painting is limited to the canvas, the layer, and the selection when there is one.

``SelectionStroke`` is the same machinery painting into the selection mask (mask brush).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ganpaint.core.commands import PixelPatch, SelectionPatch
from ganpaint.core.geometry import Rect
from ganpaint.core.history import Command
from ganpaint.core.layers import LayerLockedError

if TYPE_CHECKING:
    from ganpaint.core.document import Document

__all__ = ["BrushSettings", "BrushStroke", "SelectionStroke", "dab_mask", "paint_stroke"]

TILE = 64


@dataclass(frozen=True)
class BrushSettings:
    size: float = 20.0  #: diameter in canvas pixels
    hardness: float = 0.8  #: 1 = hard edge (1 px antialiased), 0 = soft all the way
    opacity: float = 1.0  #: the most a stroke adds, however often its dabs overlap
    color: tuple[int, int, int] = (0, 0, 0)  #: RGB 0..255
    eraser: bool = False  #: remove alpha instead of painting colour
    spacing: float = 0.25  #: distance between dabs as a fraction of the size
    pressure_size: bool = True  #: pressure scales the diameter

    def __post_init__(self) -> None:
        if not self.size > 0:
            raise ValueError(f"brush size must be positive, got {self.size}")
        object.__setattr__(self, "hardness", float(min(1.0, max(0.0, self.hardness))))
        object.__setattr__(self, "opacity", float(min(1.0, max(0.0, self.opacity))))
        object.__setattr__(self, "color", tuple(int(min(255, max(0, c))) for c in self.color[:3]))


def dab_mask(cx: float, cy: float, diameter: float, hardness: float) -> tuple[Rect, np.ndarray]:
    """Coverage of one round dab centred at (cx, cy): its rect and float32 values in [0, 1]."""
    r = max(diameter / 2.0, 0.5)
    rect = Rect.covering(cx - r, cy - r, cx + r, cy + r)
    ys = np.arange(rect.y, rect.bottom, dtype=np.float32) + np.float32(0.5 - cy)
    xs = np.arange(rect.x, rect.right, dtype=np.float32) + np.float32(0.5 - cx)
    d = np.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2)
    falloff = max(r * (1.0 - hardness), 1.0)  # at least one pixel: the edge is antialiased
    a = np.clip((np.float32(r) - d) * np.float32(1.0 / falloff), 0.0, 1.0)
    return rect, a * a * (3.0 - 2.0 * a)  # smoothstep: no visible ring at the falloff start


class _TileBuffer:
    """Originals and coverage of the TILE x TILE tiles of ``target`` a stroke touched.

    Tiles are separate small arrays, allocated on first touch: memory and cost follow
    what the stroke covers, never the layer size.
    """

    def __init__(self, target: np.ndarray) -> None:
        self.target = target
        self.before: dict[tuple[int, int], np.ndarray] = {}
        self.coverage: dict[tuple[int, int], np.ndarray] = {}

    def tile_rect(self, ty: int, tx: int) -> Rect:
        h, w = self.target.shape[:2]
        return Rect(tx * TILE, ty * TILE, TILE, TILE).clipped(w, h)

    def touch(self, r: Rect) -> Iterator[tuple[Rect, Rect, np.ndarray, np.ndarray]]:
        """Per tile ``r`` (target coordinates) overlaps: (tile, part of r in it, original, coverage).

        Saves the originals of tiles touched for the first time.
        """
        for ty in range(r.y // TILE, (r.bottom - 1) // TILE + 1):
            for tx in range(r.x // TILE, (r.right - 1) // TILE + 1):
                key = (ty, tx)
                t = self.tile_rect(ty, tx)
                before = self.before.get(key)
                if before is None:
                    before = self.before[key] = self.target[t.slices()].copy()
                    self.coverage[key] = np.zeros((t.h, t.w), np.float32)
                yield t, r.intersect(t), before, self.coverage[key]

    def tiles(self) -> Iterator[tuple[Rect, np.ndarray]]:
        """(tile rect, original pixels) of every touched tile."""
        for (ty, tx), before in self.before.items():
            yield self.tile_rect(ty, tx), before

    def bounds(self) -> Rect:
        out = Rect.empty()
        for t, _ in self.tiles():
            out = out.union(t)
        return out


class _Stroke:
    """Dab placement along the pointer path (shared by the colour and the mask brush)."""

    def __init__(self, doc: Document, settings: BrushSettings, frame: Rect, target: np.ndarray) -> None:
        self.doc = doc
        self.settings = settings
        self.frame = frame  # where target's pixel (0, 0) lies on the canvas
        self.buf = _TileBuffer(target)
        self.clip = frame.intersect(Rect(0, 0, doc.width, doc.height))
        self._last: tuple[float, float, float] | None = None
        self._carry = 0.0  # distance travelled since the last dab
        self.finished = False

    def _diameter(self, pressure: float) -> float:
        s = self.settings
        return s.size * max(pressure, 0.01) if s.pressure_size else s.size

    def add_point(self, x: float, y: float, pressure: float = 1.0) -> Rect:
        """Paint up to (x, y) and return the changed canvas rect (possibly empty)."""
        if self.finished:
            raise RuntimeError("the stroke is finished")
        changed = Rect.empty()
        if self._last is None:
            changed = self._dab(x, y, pressure)
            self._carry = 0.0
        else:
            x0, y0, p0 = self._last
            length = math.hypot(x - x0, y - y0)
            pos = 0.0
            while length > 0.0:
                t = pos / length
                step = max(self.settings.spacing * self._diameter(p0 + (pressure - p0) * t), 1.0)
                # The carry may exceed a step that shrank with pressure: never go backwards.
                nxt = max(pos + step - self._carry, pos)
                if nxt > length:
                    break
                t = nxt / length
                changed = changed.union(self._dab(x0 + (x - x0) * t, y0 + (y - y0) * t, p0 + (pressure - p0) * t))
                pos, self._carry = nxt, 0.0
            self._carry += length - pos
        self._last = (x, y, pressure)
        if not changed.is_empty():
            self._emit(changed)
        return changed

    def _dab(self, cx: float, cy: float, pressure: float) -> Rect:
        rect, a = dab_mask(cx, cy, self._diameter(pressure), self.settings.hardness)
        r = rect.intersect(self.clip)
        if r.is_empty():
            return r
        a = a[r.slices_in(rect)]
        a = self._limit(r, a)
        local = r.translated(-self.frame.x, -self.frame.y)
        target = self._writable_target()
        for tile, part, before, coverage in self.buf.touch(local):
            in_tile = part.slices_in(tile)
            cov = coverage[in_tile]
            np.maximum(cov, a[part.slices_in(local)], out=cov)
            target[part.slices()] = self._compose(before[in_tile], cov)
        return r

    def _writable_target(self) -> np.ndarray:
        """The array to paint into. A snapshot taken before or during the stroke (autosave
        fires mid-stroke) makes it read-only (``layers.share_pixels``): the stroke then goes
        on in a copy, which ``_own_copy`` puts where the old array was."""
        if not self.buf.target.flags.writeable:
            self.buf.target = self._own_copy(self.buf.target)
        return self.buf.target

    def _own_copy(self, target: np.ndarray) -> np.ndarray:
        return target  # nothing shares the target: numpy refuses the write, never a silent change

    def _limit(self, r: Rect, a: np.ndarray) -> np.ndarray:
        return a

    def _compose(self, before: np.ndarray, cov: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _emit(self, canvas_rect: Rect) -> None:
        raise NotImplementedError

    def _restore(self) -> None:
        target = self._writable_target()
        for t, before in self.buf.tiles():
            target[t.slices()] = before


class BrushStroke(_Stroke):
    """A colour (or eraser) stroke on one layer."""

    def __init__(
        self, doc: Document, layer_index: int, settings: BrushSettings, title: str | None = None
    ) -> None:
        layer = doc.layers[layer_index]
        if layer.locked:
            raise LayerLockedError(f"layer {layer.name!r} is locked")
        super().__init__(doc, settings, layer.rect, layer.pixels)
        self.layer = layer
        self.title = title or ("Eraser" if settings.eraser else "Brush stroke")
        self._selection = None if doc.selection.is_empty() else doc.selection
        self._color4 = np.array((*settings.color, 0), np.float32)

    def _limit(self, r: Rect, a: np.ndarray) -> np.ndarray:
        if self._selection is None:
            return a
        return a * (self._selection.region(r) * np.float32(1 / 255))

    def _compose(self, before: np.ndarray, cov: np.ndarray) -> np.ndarray:
        a = (cov * np.float32(self.settings.opacity))[:, :, None]
        b = before.astype(np.float32)
        keep = b[:, :, 3:4] * np.float32(1 / 255)  # backdrop alpha ...
        keep *= 1.0 - a  # ... times what the paint leaves of it
        if self.settings.eraser:
            b[:, :, 3:4] = keep * 255.0
        else:
            # "over" on all four channels at once (numpy is slow on (h, w, 3) views):
            # colour = (C*a + Cb*keep) / (a + keep), alpha = a + keep.
            ao = a + keep
            b *= keep
            b += self._color4 * a
            np.divide(b, ao, out=b, where=ao > 0.0)
            b[:, :, 3:4] = ao * 255.0
        b += 0.5  # the uint8 cast truncates: round half up
        out = b.astype(np.uint8)
        # Exactly untouched where the coverage is zero (no rounding drift outside the dabs).
        np.copyto(out, before, where=a <= 0.0)
        return out

    def _own_copy(self, target: np.ndarray) -> np.ndarray:
        if self.layer.pixels is target:
            return self.layer.writable_pixels()
        return target.copy()  # the layer's array was swapped under the stroke: paint on a private copy

    def _emit(self, canvas_rect: Rect) -> None:
        self.doc._notify_pixels(canvas_rect)

    def finish(self) -> Command | None:
        """Record the stroke as one history step (nothing is repainted). None if it changed nothing."""
        if self.finished:
            return None
        self.finished = True
        tiles = []
        for t, before in self.buf.tiles():
            after = self.layer.pixels[t.slices()]
            if not np.array_equal(before, after):  # touched but unchanged (outside the selection)
                tiles.append((t, before, after.copy()))
        self.buf = _TileBuffer(self.buf.target)  # drop the coverage maps
        if not tiles:
            return None
        cmd = PixelPatch(self.title, self.layer.id, tiles)
        self.doc.history.push(cmd, done=True)
        return cmd

    def cancel(self) -> None:
        """Undo the live painting without recording anything."""
        if self.finished:
            return
        bounds = self.buf.bounds()
        self._restore()
        self.finished = True
        if not bounds.is_empty():
            self.doc._notify_pixels(bounds.translated(self.frame.x, self.frame.y))


class SelectionStroke(_Stroke):
    """The mask brush: paints into the selection (adds, or subtracts with ``subtract=True``)."""

    def __init__(
        self, doc: Document, settings: BrushSettings, subtract: bool = False, title: str | None = None
    ) -> None:
        self.selection = doc.selection
        super().__init__(doc, settings, Rect(0, 0, doc.width, doc.height), self.selection._mask)
        self.subtract = subtract or settings.eraser
        self.title = title or ("Mask brush (subtract)" if self.subtract else "Mask brush")

    def _compose(self, before: np.ndarray, cov: np.ndarray) -> np.ndarray:
        a = cov * np.float32(self.settings.opacity)
        b = before.astype(np.float32)
        out = b * (1.0 - a) if self.subtract else b + (255.0 - b) * a
        res = (out + 0.5).astype(np.uint8)
        np.copyto(res, before, where=a <= 0.0)
        return res

    def _emit(self, canvas_rect: Rect) -> None:
        self.selection._bbox = None  # pixels changed behind Selection.write's back
        self.doc.events.selection_changed.emit(canvas_rect)

    def finish(self) -> Command | None:
        if self.finished:
            return None
        self.finished = True
        bounds = self.buf.bounds()
        if bounds.is_empty():
            return None
        mask = self.selection._mask
        before = mask[bounds.slices()].copy()
        for t, original in self.buf.tiles():
            before[t.slices_in(bounds)] = original
        after = mask[bounds.slices()].copy()
        self.buf = _TileBuffer(mask)
        if np.array_equal(before, after):
            return None
        cmd = SelectionPatch(self.title, bounds, before, after)
        self.doc.history.push(cmd, done=True)
        return cmd

    def cancel(self) -> None:
        if not self.finished:
            self._restore()
            self.finished = True
            self._emit(Rect(0, 0, self.doc.width, self.doc.height))


def paint_stroke(
    doc: Document,
    layer_index: int,
    points: Iterable[tuple[float, ...]],
    settings: BrushSettings,
) -> Command | None:
    """Paint a whole stroke at once (command line, tests, scripts) and record it.

    ``points`` are (x, y) or (x, y, pressure) in canvas coordinates.
    """
    stroke = BrushStroke(doc, layer_index, settings)
    for p in points:
        stroke.add_point(p[0], p[1], p[2] if len(p) > 2 else 1.0)
    return stroke.finish()
