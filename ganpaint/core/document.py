"""The document: canvas size, the layer stack, the selection and the history.

Every change goes through an undoable command (one history step each) and announces what
it changed through ``events`` (a psygnal SignalGroup), so views repaint only that:

    pixels_changed(Rect)      canvas region whose composite changed
    layers_changed()          the list, the order or a property of a layer changed
    active_changed(int)       the active layer index
    selection_changed(Rect)   canvas region of the selection that changed
    size_changed(int, int)    the canvas size (width, height)
    history_changed()         undo/redo/new step/clean state

The document lives on the GUI thread. Jobs get copies (``composite``, ``mask_for_tool``,
``layer.pixels.copy()``) and their result comes back as one command.

Private hooks used by the commands module: ``_layers`` (the list), ``_active``,
``_width``/``_height``, ``_set_active(i)`` and ``_notify_pixels(rect)``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from psygnal import Signal, SignalGroup

from ganpaint.core import transform
from ganpaint.core.blend import composite_layers
from ganpaint.core.brush import BrushSettings, paint_stroke
from ganpaint.core.commands import (
    InsertLayer,
    MoveLayer,
    PixelPatch,
    RemoveLayer,
    ReplaceStack,
    SelectionPatch,
    SetLayerProps,
    SetResultInfo,
    StackState,
    content_rect,
    normalise_props,
)
from ganpaint.core.geometry import Rect
from ganpaint.core.history import Command, History
from ganpaint.core.layers import BlendMode, Layer, LayerKind, LayerLockedError, ResultInfo, as_rgba8
from ganpaint.core.selection import (
    Selection,
    SelectMode,
    changed_rect,
    combine,
    ellipse_mask,
    feather,
    grow,
    lasso_mask,
    rect_mask,
    shrink,
    to_mask8,
)

__all__ = ["Document", "DocumentEvents"]


class DocumentEvents(SignalGroup):
    pixels_changed = Signal(Rect)
    layers_changed = Signal()
    active_changed = Signal(int)
    selection_changed = Signal(Rect)
    size_changed = Signal(int, int)
    history_changed = Signal()


class Document:
    """A layered picture. Layers are ordered bottom -> top."""

    def __init__(self, width: int, height: int, *, history_limit_mb: float = 512.0) -> None:
        width, height = int(width), int(height)
        if width < 1 or height < 1:
            raise ValueError(f"a document must be at least 1x1 pixels, got {width}x{height}")
        self._width, self._height = width, height
        self._layers: list[Layer] = []
        self._active = -1
        self.selection = Selection(width, height)
        self.events = DocumentEvents()
        self.history = History(self, history_limit_mb, on_change=self.events.history_changed.emit)
        self.path: str | None = None
        #: ICC profile of the picture this document was opened from (kept for export)
        self.icc_profile: bytes | None = None
        #: messages from opening (conversions applied) for the GUI to show once
        self.notes: list[str] = []

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_array(cls, rgba: np.ndarray, name: str = "Background", **kwargs: Any) -> Document:
        """A one-layer document from (h, w, 3|4) uint8 or float [0, 1] pixels; history empty, clean."""
        pixels = as_rgba8(rgba)
        doc = cls(pixels.shape[1], pixels.shape[0], **kwargs)
        doc._layers.append(Layer(pixels, name=name))
        doc._active = 0
        return doc

    @classmethod
    def from_layers(
        cls, width: int, height: int, layers: Iterable[Layer], *, active: int | None = None, **kwargs: Any
    ) -> Document:
        """A document from ready layers (file readers); history empty, clean."""
        doc = cls(width, height, **kwargs)
        doc._layers.extend(layers)
        doc._active = (len(doc._layers) - 1 if active is None else active) if doc._layers else -1
        return doc

    @classmethod
    def from_image(cls, path: str | os.PathLike[str], **kwargs: Any) -> Document:
        """Open a picture as a one-layer document (raises ganpaint.core.errors.ImageReadError)."""
        from ganpaint.core.imageio import read_image  # lazy: image I/O is not needed to edit

        img = read_image(path)
        doc = cls.from_array(img.pixels, name=Path(path).stem or "Background", **kwargs)
        doc.path = os.fspath(path)
        doc.icc_profile = img.icc_profile
        doc.notes = list(img.notes)
        return doc

    # -- state ------------------------------------------------------------------------------
    @property
    def width(self) -> int:
        return self._width

    @property
    def height(self) -> int:
        return self._height

    @property
    def size(self) -> tuple[int, int]:
        return (self._width, self._height)

    @property
    def rect(self) -> Rect:
        return Rect(0, 0, self._width, self._height)

    @property
    def layers(self) -> list[Layer]:
        """The stack, bottom -> top. Read it; change it only through the methods below."""
        return self._layers

    @property
    def active_index(self) -> int:
        """Index of the active layer (-1 when there are no layers). Setting it is not a history step."""
        return self._active

    @active_index.setter
    def active_index(self, index: int) -> None:
        if not -1 <= index < len(self._layers):
            raise IndexError(f"layer index {index} out of range (0..{len(self._layers) - 1})")
        self._set_active(index)

    @property
    def active_layer(self) -> Layer | None:
        return self._layers[self._active] if 0 <= self._active < len(self._layers) else None

    @property
    def modified(self) -> bool:
        """True when the document differs from its last saved (clean) state."""
        return not self.history.is_clean()

    @modified.setter
    def modified(self, value: bool) -> None:
        if value:
            self.history.mark_dirty()
        else:
            self.history.mark_clean()

    def mark_clean(self, path: str | os.PathLike[str] | None = None) -> None:
        """Record a successful save (and the file name when given)."""
        if path is not None:
            self.path = os.fspath(path)
        self.history.mark_clean()

    def find_layer(self, layer_id: str) -> Layer | None:
        for layer in self._layers:
            if layer.id == layer_id:
                return layer
        return None

    def index_of(self, layer: Layer | str) -> int:
        """Index of a layer (object or id); ValueError when it is not in the document."""
        lid = layer if isinstance(layer, str) else layer.id
        for i, candidate in enumerate(self._layers):
            if candidate.id == lid:
                return i
        raise ValueError(f"layer {lid} is not in the document")

    def layers_by_kind(self, kind: LayerKind | str) -> list[Layer]:
        kind = LayerKind(kind)
        return [layer for layer in self._layers if layer.kind is kind]

    # -- reading pixels ---------------------------------------------------------------------
    def composite(self, rect: Rect | None = None, *, include_masks: bool = False) -> np.ndarray:
        """(h, w, 4) uint8 straight RGBA of the visible stack over ``rect`` (default: the canvas).

        MASK layers are left out unless ``include_masks`` (a mask is not picture content);
        the rect may extend past the canvas (outside is transparent).
        """
        r = self.rect if rect is None else rect
        layers = self._layers if include_masks else [la for la in self._layers if la.kind is not LayerKind.MASK]
        return composite_layers(layers, r)

    def mask_for_tool(self, layer_id: str | None = None) -> np.ndarray | None:
        """Where a tool may act, float32 (h, w) in [0, 1]; None means everywhere.

        With ``layer_id`` the alpha of that layer (a MASK layer, usually) placed on the
        canvas; otherwise the selection, or None when nothing is selected.
        """
        if layer_id is not None:
            layer = self.find_layer(layer_id)
            if layer is None:
                raise ValueError(f"layer {layer_id} is not in the document")
            return layer.canvas_alpha(self._width, self._height)
        return None if self.selection.is_empty() else self.selection.as_float()

    # -- history ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Announce the changes made inside once, at the end: one ``layers_changed``, one
        ``history_changed``, the last ``active_changed`` and ``size_changed``, and one
        ``pixels_changed`` / ``selection_changed`` of the union of their rects. Each change
        stays its own history step. Used to apply a burst of tool results: views then
        rebuild and re-composite once, not once per result."""
        ev = self.events
        with contextlib.ExitStack() as stack:
            # resumed in reverse: size, layers, pixels, selection, active, then history
            stack.enter_context(ev.history_changed.paused(_last))
            stack.enter_context(ev.active_changed.paused(_last))
            stack.enter_context(ev.selection_changed.paused(_union))
            stack.enter_context(ev.pixels_changed.paused(_union))
            stack.enter_context(ev.layers_changed.paused(_last))
            stack.enter_context(ev.size_changed.paused(_last))
            yield

    def execute(self, cmd: Command, *, merge: bool = False) -> Command:
        """Do ``cmd`` and record it as one history step."""
        self.history.push(cmd, merge=merge)
        return cmd

    def undo(self) -> bool:
        return self.history.undo()

    def redo(self) -> bool:
        return self.history.redo()

    # -- layers -----------------------------------------------------------------------------
    def _index(self, index: int | None) -> int:
        i = self._active if index is None else index
        if not 0 <= i < len(self._layers):
            raise IndexError(f"layer index {i} out of range (0..{len(self._layers) - 1})")
        return i

    def add_layer(
        self,
        name: str = "Layer",
        pixels: np.ndarray | None = None,
        kind: LayerKind = LayerKind.RASTER,
        index: int | None = None,
        *,
        x: int = 0,
        y: int = 0,
        result: ResultInfo | None = None,
        title: str | None = None,
        **props: Any,
    ) -> Layer:
        """Add a layer (transparent canvas-sized when ``pixels`` is None) above the active one,
        or at ``index``. ``props``: visible, opacity, blend, locked. Returns the new layer."""
        if pixels is None:
            layer = Layer.blank(self._width, self._height, name, kind=kind, x=x, y=y, result=result, **props)
        else:
            layer = Layer(as_rgba8(pixels), name=name, kind=kind, x=x, y=y, result=result, **props)
        return self.insert_layer(layer, index, title=title or f"Add {name}")

    def insert_layer(self, layer: Layer, index: int | None = None, *, title: str = "Add layer") -> Layer:
        """Insert a ready Layer (paste, plugin result) at ``index`` (default: above the active one)."""
        if self.find_layer(layer.id) is not None:
            raise ValueError(f"layer {layer.name!r} is already in the document")
        i = self._active + 1 if index is None else index
        i = max(0, min(i, len(self._layers)))
        self.execute(InsertLayer(layer, i, title))
        return layer

    def delete_layer(self, index: int | None = None) -> None:
        self.execute(RemoveLayer(self._index(index), f"Delete {self._layers[self._index(index)].name}"))

    def duplicate_layer(self, index: int | None = None) -> Layer:
        i = self._index(index)
        copy = self._layers[i].copy(name=f"{self._layers[i].name} copy")
        return self.insert_layer(copy, i + 1, title=f"Duplicate {self._layers[i].name}")

    def move_layer(self, src: int, dst: int) -> None:
        """Move the layer at ``src`` so it ends up at index ``dst``."""
        src, dst = self._index(src), self._index(dst)
        if src != dst:
            self.execute(MoveLayer(src, dst))

    def set_layer_props(self, index: int | None = None, *, merge: bool = False, **props: Any) -> None:
        """Change name, visible, opacity, blend, locked, kind, x, y as one step.

        ``merge=True`` folds consecutive changes of the same properties of the same layer
        into one step (slider drags, move-tool drags).
        """
        layer = self._layers[self._index(index)]
        new = normalise_props(props)
        new = {k: v for k, v in new.items() if getattr(layer, k) != v}
        if new:
            self.execute(SetLayerProps(layer, new, _props_title(new)), merge=merge)

    def move_layer_by(self, index: int | None, dx: int, dy: int, *, merge: bool = False) -> None:
        """The move tool: shift a layer by (dx, dy) canvas pixels."""
        layer = self._layers[self._index(index)]
        self.set_layer_props(self._index(index), merge=merge, x=layer.x + int(dx), y=layer.y + int(dy))

    def merge_down(self, index: int | None = None) -> Layer:
        """Merge a layer into the one below; the result keeps the lower layer's id, name and blend."""
        i = self._index(index)
        if i == 0:
            raise ValueError("the bottom layer has nothing below to merge into")
        upper, lower = self._layers[i], self._layers[i - 1]
        if lower.locked:
            raise LayerLockedError(f"layer {lower.name!r} is locked")
        base = _unplaced(lower, visible=True, blend=BlendMode.NORMAL)
        parts = [base, upper] if upper.visible else [base]
        area = lower.rect.union(upper.rect) if upper.visible else lower.rect
        merged = Layer(
            composite_layers(parts, area), name=lower.name, id=lower.id, x=area.x, y=area.y,
            visible=lower.visible, blend=lower.blend, kind=lower.kind,
        )
        after = list(self._layers)
        after[i - 1 : i + 1] = [merged]
        # the picture changes (if at all) only where either layer has content
        dirty = content_rect(upper).union(content_rect(lower))
        self._replace(f"Merge {upper.name} down", after, i - 1, dirty=dirty)
        return merged

    def flatten(self) -> Layer:
        """One canvas-sized layer of the visible picture; MASK layers are kept above it."""
        flat = Layer(self.composite(), name="Background")
        masks = self.layers_by_kind(LayerKind.MASK)
        self._replace("Flatten", [flat, *masks], 0)
        return flat

    def _replace(self, title: str, layers: Sequence[Layer], active: int, *, dirty: Rect | None = None) -> None:
        before = StackState.capture(self)
        after = StackState(self._width, self._height, tuple(layers), self.selection, active,
                           tuple(layer.props() for layer in layers))
        self.execute(ReplaceStack(title, before, after, dirty=dirty))

    def replace_pixels(
        self, index: int | None, pixels: np.ndarray, *, rect: Rect | None = None, title: str = "Replace pixels"
    ) -> None:
        """Overwrite a layer's pixels (all, or ``rect`` in layer coordinates) as one step.

        Only the bounding box of the pixels that actually differ is stored in the history.
        """
        layer = self._layers[self._index(index)]
        if layer.locked:
            raise LayerLockedError(f"layer {layer.name!r} is locked")
        r = Rect(0, 0, layer.width, layer.height) if rect is None else rect
        new = as_rgba8(pixels)
        if new.shape[:2] != (r.h, r.w) or not Rect(0, 0, layer.width, layer.height).contains(r):
            raise ValueError(f"pixels of shape {new.shape} do not fit {r} of layer {layer.name!r}")
        diff = changed_rect(layer.pixels[r.slices()], new)
        if diff.is_empty():
            return
        tile = diff.translated(r.x, r.y)
        before = layer.pixels[tile.slices()].copy()
        self.execute(PixelPatch(title, layer.id, [(tile, before, new[diff.slices()].copy())]))

    def set_result_info(
        self,
        layer_id: str,
        info: ResultInfo | None,
        pixels: np.ndarray | None = None,
        *,
        xy: tuple[int, int] | None = None,
        title: str = "Change parameters",
    ) -> None:
        """Change a result layer's parameters (and its pixels/position) in one undoable step."""
        layer = self.find_layer(layer_id)
        if layer is None:
            raise ValueError(f"layer {layer_id} is not in the document")
        new_pixels = as_rgba8(pixels) if pixels is not None else None
        self.execute(SetResultInfo(layer, info, new_pixels, xy, title))

    # -- painting ---------------------------------------------------------------------------
    def paint_stroke(
        self, layer_index: int | None, points: Iterable[tuple[float, ...]], settings: BrushSettings
    ) -> Command | None:
        """Paint a complete stroke (see ganpaint.core.brush.BrushStroke for live painting)."""
        return paint_stroke(self, self._index(layer_index), points, settings)

    # -- selection --------------------------------------------------------------------------
    def set_selection(self, mask: np.ndarray | None, title: str = "Selection") -> None:
        """Replace the selection (bool/uint8/float (h, w) mask; None = select nothing)."""
        new = np.zeros((self._height, self._width), np.uint8) if mask is None else to_mask8(mask)
        if new.shape != (self._height, self._width):
            raise ValueError(f"mask shape {new.shape} does not match the canvas {self._width}x{self._height}")
        cur = self.selection.mask
        diff = changed_rect(cur, new)
        if diff.is_empty():
            return
        self.execute(SelectionPatch(title, diff, cur[diff.slices()].copy(), new[diff.slices()].copy()))

    def _select_shape(self, shape: np.ndarray, mode: SelectMode, feather_radius: float, title: str) -> None:
        if feather_radius > 0:
            shape = feather(shape, feather_radius)
        self.set_selection(combine(np.asarray(self.selection.mask), shape, mode), title)

    def select_all(self) -> None:
        self.set_selection(np.full((self._height, self._width), 255, np.uint8), "Select all")

    def select_none(self) -> None:
        self.set_selection(None, "Select none")

    def select_invert(self) -> None:
        self.set_selection(255 - np.asarray(self.selection.mask), "Invert selection")

    def select_rect(self, rect: Rect, mode: SelectMode = "replace", feather: float = 0.0) -> None:
        self._select_shape(rect_mask(self._width, self._height, rect), mode, feather, "Rectangle selection")

    def select_ellipse(
        self, rect: Rect, mode: SelectMode = "replace", feather: float = 0.0, antialias: bool = True
    ) -> None:
        shape = ellipse_mask(self._width, self._height, rect, antialias)
        self._select_shape(shape, mode, feather, "Ellipse selection")

    def select_lasso(
        self,
        points: Sequence[tuple[float, float]],
        mode: SelectMode = "replace",
        feather: float = 0.0,
        antialias: bool = True,
    ) -> None:
        shape = lasso_mask(self._width, self._height, points, antialias)
        self._select_shape(shape, mode, feather, "Lasso selection")

    def grow_selection(self, pixels: int) -> None:
        """Move the selection's edge out by ``pixels`` (one undoable step)."""
        if self.selection.is_empty():
            raise ValueError("nothing is selected")
        self.set_selection(grow(np.asarray(self.selection.mask), pixels), f"Grow selection by {int(pixels)} px")

    def shrink_selection(self, pixels: int) -> None:
        """Move the selection's edge in by ``pixels`` (one undoable step)."""
        if self.selection.is_empty():
            raise ValueError("nothing is selected")
        self.set_selection(shrink(np.asarray(self.selection.mask), pixels), f"Shrink selection by {int(pixels)} px")

    # -- canvas operations ------------------------------------------------------------------
    def crop(self, rect: Rect) -> None:
        self.execute(transform.crop_command(self, rect))

    def crop_to_selection(self) -> None:
        if self.selection.is_empty():
            raise ValueError("nothing is selected")
        self.execute(transform.crop_command(self, self.selection.bbox(), "Crop to selection"))

    def resize_image(self, width: int, height: int) -> None:
        self.execute(transform.resize_image_command(self, width, height))

    def resize_canvas(self, width: int, height: int, anchor: transform.Anchor = "center") -> None:
        self.execute(transform.resize_canvas_command(self, width, height, anchor))

    def rotate(self, degrees: int) -> None:
        """Rotate clockwise by 90, 180 or 270 degrees."""
        self.execute(transform.rotate_command(self, degrees))

    def flip(self, direction: str = "h") -> None:
        """Mirror: "h" (left-right) or "v" (top-bottom)."""
        if direction not in ("h", "v", "horizontal", "vertical"):
            raise ValueError(f"flip direction must be 'h' or 'v', got {direction!r}")
        self.execute(transform.flip_command(self, direction in ("h", "horizontal")))

    # -- files ------------------------------------------------------------------------------
    def open_image_as_layer(self, path: str | os.PathLike[str], index: int | None = None) -> Layer:
        """Read a picture and add it as a new layer at the canvas origin (one history step)."""
        from ganpaint.core.imageio import read_image

        img = read_image(path)
        self.notes = list(img.notes)
        name = Path(path).stem or "Layer"
        return self.insert_layer(Layer(img.pixels, name=name), index, title=f"Open {name} as layer")

    # -- hooks for commands -----------------------------------------------------------------
    def _set_active(self, index: int) -> None:
        index = max(-1, min(index, len(self._layers) - 1))
        if index != self._active:
            self._active = index
            self.events.active_changed.emit(index)

    def _notify_pixels(self, rect: Rect) -> None:
        r = rect.clipped(self._width, self._height)
        if not r.is_empty():
            self.events.pixels_changed.emit(r)

    def __repr__(self) -> str:
        return f"Document({self._width}x{self._height}, {len(self._layers)} layers, path={self.path!r})"


def _last(_old: tuple[Any, ...], new: tuple[Any, ...]) -> tuple[Any, ...]:
    return new


def _union(old: tuple[Any, ...], new: tuple[Any, ...]) -> tuple[Any, ...]:
    return (old[0].union(new[0]),)


def _unplaced(layer: Layer, **overrides: Any) -> Layer:
    """A shallow stand-in for compositing (shares pixels; never enters the document)."""
    props = {"x": layer.x, "y": layer.y, "visible": layer.visible, "opacity": layer.opacity,
             "blend": layer.blend, **overrides}
    return Layer(layer.pixels, name=layer.name, id=layer.id, **props)


def _props_title(props: dict[str, Any]) -> str:
    keys = set(props)
    if keys <= {"x", "y"}:
        return "Move layer"
    if keys == {"name"}:
        return "Rename layer"
    if keys == {"visible"}:
        return "Show layer" if props["visible"] else "Hide layer"
    return "Layer " + ", ".join(sorted(keys))
