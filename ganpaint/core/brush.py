"""Round brush strokes: painted live, recorded as one undoable step of touched tiles.

The canvas calls, per mouse move::

    stroke = BrushStroke(doc, layer_index, settings)
    changed = stroke.add_point(x, y, pressure)   # paints now, emits pixels_changed(changed)
    stroke.finish()                              # records one history step, paints nothing

A stroke keeps a coverage map (max of its dabs) and the original pixels of every 64x64
tile it touches. Pixels are recomputed from the originals and the coverage, so a stroke
never builds up past its opacity where its dabs overlap, and the history step stores only
the touched tiles (before and after), keeping undo memory bounded. Painting is limited to
the canvas, the layer, and the selection when there is one.

``SelectionStroke`` is the same machinery painting into the selection mask (mask brush).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
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
    """Originals of the touched tiles of ``target`` plus the stroke's coverage map.

    The full-size buffers come from np.zeros, which the OS maps lazily: only pages the
    stroke touches cost memory, so a dab on a 4096x4096 layer stays cheap.
    """

    def __init__(self, target: np.ndarray) -> None:
        self.target = target
        h, w = target.shape[:2]
        self.before = np.zeros(target.shape, target.dtype)  # not zeros_like: that writes every page
        self.coverage = np.zeros((h, w), np.float32)
        self.saved = np.zeros(((h + TILE - 1) // TILE, (w + TILE - 1) // TILE), bool)

    def prepare(self, r: Rect) -> None:
        """Save the originals of the tiles ``r`` (target coordinates) touches."""
        ty0, ty1 = r.y // TILE, (r.bottom - 1) // TILE + 1
        tx0, tx1 = r.x // TILE, (r.right - 1) // TILE + 1
        sub = self.saved[ty0:ty1, tx0:tx1]
        if sub.all():
            return
        for j, i in np.argwhere(~sub):
            t = self.tile_rect(ty0 + int(j), tx0 + int(i))
            self.before[t.slices()] = self.target[t.slices()]
        sub[:] = True

    def tile_rect(self, ty: int, tx: int) -> Rect:
        h, w = self.target.shape[:2]
        return Rect(tx * TILE, ty * TILE, TILE, TILE).clipped(w, h)

    def tiles(self) -> Iterable[Rect]:
        for ty, tx in np.argwhere(self.saved):
            yield self.tile_rect(int(ty), int(tx))


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
        self.buf.prepare(local)
        cov = self.buf.coverage[local.slices()]
        np.maximum(cov, a, out=cov)
        sl = local.slices()
        self.buf.target[sl] = self._compose(self.buf.before[sl], cov)
        return r

    def _limit(self, r: Rect, a: np.ndarray) -> np.ndarray:
        return a

    def _compose(self, before: np.ndarray, cov: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _emit(self, canvas_rect: Rect) -> None:
        raise NotImplementedError

    def _restore(self) -> None:
        for t in self.buf.tiles():
            self.buf.target[t.slices()] = self.buf.before[t.slices()]


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
        self._color = np.array(settings.color, np.float32)

    def _limit(self, r: Rect, a: np.ndarray) -> np.ndarray:
        if self._selection is None:
            return a
        return a * (self._selection.region(r) * np.float32(1 / 255))

    def _compose(self, before: np.ndarray, cov: np.ndarray) -> np.ndarray:
        a = cov * np.float32(self.settings.opacity)
        ab = before[:, :, 3].astype(np.float32) * np.float32(1 / 255)
        out = before.copy()
        if self.settings.eraser:
            out[:, :, 3] = ab * (1.0 - a) * 255.0 + 0.5
        else:
            keep = ab * (1.0 - a)
            ao = a + keep
            with np.errstate(divide="ignore", invalid="ignore"):
                rgb = (self._color * a[:, :, None] + before[:, :, :3] * keep[:, :, None]) / ao[:, :, None]
            paint = ao > 0.0
            out[paint, :3] = np.clip(rgb[paint] + 0.5, 0.0, 255.0)
            out[:, :, 3] = ao * 255.0 + 0.5
        # Exactly untouched where the coverage is zero (no rounding drift outside the dabs).
        np.copyto(out, before, where=(a <= 0.0)[:, :, None])
        return out

    def _emit(self, canvas_rect: Rect) -> None:
        self.doc._notify_pixels(canvas_rect)

    def finish(self) -> Command | None:
        """Record the stroke as one history step (nothing is repainted). None if it changed nothing."""
        if self.finished:
            return None
        self.finished = True
        tiles = []
        for t in self.buf.tiles():
            before = self.buf.before[t.slices()]
            after = self.layer.pixels[t.slices()]
            if not np.array_equal(before, after):
                tiles.append((t, before.copy(), after.copy()))
        self.buf = _TileBuffer(np.zeros((1, 1, 4), np.uint8))  # free the stroke buffers
        if not tiles:
            return None
        cmd = PixelPatch(self.title, self.layer.id, tiles)
        self.doc.history.push(cmd, done=True)
        return cmd

    def cancel(self) -> None:
        """Undo the live painting without recording anything."""
        if self.finished:
            return
        bounds = Rect.empty()
        for t in self.buf.tiles():
            bounds = bounds.union(t)
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
        bounds = Rect.empty()
        for t in self.buf.tiles():
            bounds = bounds.union(t)
        if bounds.is_empty():
            return None
        mask = self.selection._mask
        before = mask[bounds.slices()].copy()
        for t in self.buf.tiles():
            before[t.slices_in(bounds)] = self.buf.before[t.slices()]
        after = mask[bounds.slices()].copy()
        self.buf = _TileBuffer(np.zeros((1, 1), np.uint8))
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
