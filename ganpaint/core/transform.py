"""Whole-document transforms as undoable commands: crop, resize image/canvas, rotate, flip.

Each function builds a ``ReplaceStack`` command from the document's current state without
changing it; ``Document`` executes it. Layers keep their ids (history steps find them by
id). Result layers' ``before`` pictures are transformed with their layer so the
before/after compare stays aligned.

Canvas-size changes (crop, resize canvas) follow one rule: a layer that covered the whole
old canvas covers the whole new one (so a background can be painted in new area), any
other layer is shifted and clipped to the new canvas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import numpy as np
from PIL import Image

from ganpaint.core.commands import ReplaceStack, StackState
from ganpaint.core.geometry import Rect
from ganpaint.core.layers import Layer
from ganpaint.core.selection import Selection

if TYPE_CHECKING:
    from ganpaint.core.document import Document

__all__ = [
    "ANCHORS",
    "Anchor",
    "crop_command",
    "flip_command",
    "resize_canvas_command",
    "resize_image_command",
    "rotate_command",
]

Anchor = str | tuple[float, float]
#: anchor name -> where the old canvas sits in the new one (fraction of the size difference)
ANCHORS: dict[str, tuple[float, float]] = {
    "top-left": (0.0, 0.0),
    "top": (0.5, 0.0),
    "top-right": (1.0, 0.0),
    "left": (0.0, 0.5),
    "center": (0.5, 0.5),
    "right": (1.0, 0.5),
    "bottom-left": (0.0, 1.0),
    "bottom": (0.5, 1.0),
    "bottom-right": (1.0, 1.0),
}
_ArrayFn = Callable[[np.ndarray], np.ndarray]


def _with(layer: Layer, pixels_fn: _ArrayFn, x: int, y: int) -> Layer:
    """A new Layer object (same id and properties) with transformed pixels and position."""
    new = Layer(
        pixels_fn(layer.pixels),
        name=layer.name,
        id=layer.id,
        x=x,
        y=y,
        visible=layer.visible,
        opacity=layer.opacity,
        blend=layer.blend,
        locked=layer.locked,
        kind=layer.kind,
        result=layer.result.copy() if layer.result is not None else None,
    )
    if new.result is not None and new.result.before is not None:
        if new.result.before.shape == layer.pixels.shape:
            new.result.before = pixels_fn(new.result.before)
        else:
            new.result.before = None  # misaligned already: drop rather than mislead
    return new


def _state(doc: Document, width: int, height: int, layers: list[Layer], mask: np.ndarray) -> StackState:
    active = min(doc.active_index, len(layers) - 1)
    return StackState(width, height, tuple(layers), Selection(width, height, mask), max(active, 0),
                      tuple(layer.props() for layer in layers))


def _shift_clip(doc: Document, dx: int, dy: int, width: int, height: int) -> list[Layer]:
    old_canvas = Rect(0, 0, doc.width, doc.height)
    new_canvas = Rect(0, 0, width, height)
    out: list[Layer] = []
    for layer in doc.layers:
        shifted = layer.rect.translated(dx, dy)
        target = new_canvas if layer.rect.contains(old_canvas) else shifted.intersect(new_canvas)
        if target.is_empty():  # nothing of it remains on the canvas: keep a 1x1 transparent layer
            out.append(_with(layer, lambda a: np.zeros((1, 1) + a.shape[2:], a.dtype), 0, 0))
        elif target == shifted:
            out.append(_with(layer, lambda a: a, target.x, target.y))  # pixels shared, not copied
        else:
            def relayout(a: np.ndarray, shifted: Rect = shifted, target: Rect = target) -> np.ndarray:
                res = np.zeros((target.h, target.w) + a.shape[2:], a.dtype)
                inter = shifted.intersect(target)
                if not inter.is_empty():
                    res[inter.slices_in(target)] = a[inter.slices_in(shifted)]
                return res

            out.append(_with(layer, relayout, target.x, target.y))
    return out


def _shift_mask(mask: np.ndarray, dx: int, dy: int, width: int, height: int) -> np.ndarray:
    h, w = mask.shape
    res = np.zeros((height, width), np.uint8)
    src = Rect(dx, dy, w, h)
    inter = src.intersect(Rect(0, 0, width, height))
    if not inter.is_empty():
        res[inter.slices()] = mask[inter.slices_in(src)]
    return res


def crop_command(doc: Document, rect: Rect, title: str = "Crop") -> ReplaceStack:
    """Crop the canvas to ``rect`` (canvas coordinates, clipped to the canvas)."""
    r = rect.clipped(doc.width, doc.height)
    if r.is_empty():
        raise ValueError("nothing to crop to: the rectangle is empty or outside the canvas")
    layers = _shift_clip(doc, -r.x, -r.y, r.w, r.h)
    mask = doc.selection.mask[r.slices()].copy()
    return ReplaceStack(title, StackState.capture(doc), _state(doc, r.w, r.h, layers, mask))


def resize_canvas_command(doc: Document, width: int, height: int, anchor: Anchor = "center") -> ReplaceStack:
    """Change the canvas size; ``anchor`` says where the old picture stays (a name or (fx, fy))."""
    width, height = int(width), int(height)
    if width < 1 or height < 1:
        raise ValueError(f"canvas size must be at least 1x1, got {width}x{height}")
    if isinstance(anchor, str):
        if anchor not in ANCHORS:
            raise ValueError(f"unknown anchor {anchor!r}; one of {', '.join(ANCHORS)}")
        fx, fy = ANCHORS[anchor]
    else:
        fx, fy = anchor
    dx, dy = round((width - doc.width) * fx), round((height - doc.height) * fy)
    layers = _shift_clip(doc, dx, dy, width, height)
    mask = _shift_mask(doc.selection.mask, dx, dy, width, height)
    return ReplaceStack("Resize canvas", StackState.capture(doc), _state(doc, width, height, layers, mask))


def _resample(a: np.ndarray, w: int, h: int) -> np.ndarray:
    if a.shape[1] == w and a.shape[0] == h:
        return a.copy()
    mode = "RGBA" if a.ndim == 3 else "L"
    # Pillow premultiplies RGBA internally when resampling, so no colour bleeds from
    # transparent pixels.
    img = Image.fromarray(np.ascontiguousarray(a), mode).resize((w, h), Image.Resampling.LANCZOS)
    return np.asarray(img, np.uint8).copy()


def resize_image_command(doc: Document, width: int, height: int) -> ReplaceStack:
    """Scale every layer (and the selection) so the canvas becomes ``width`` x ``height``."""
    width, height = int(width), int(height)
    if width < 1 or height < 1:
        raise ValueError(f"image size must be at least 1x1, got {width}x{height}")
    sx, sy = width / doc.width, height / doc.height
    layers = []
    for layer in doc.layers:
        x0, y0 = round(layer.x * sx), round(layer.y * sy)
        w = max(1, round((layer.x + layer.width) * sx) - x0)
        h = max(1, round((layer.y + layer.height) * sy) - y0)
        def scale(a: np.ndarray, w: int = w, h: int = h) -> np.ndarray:
            return _resample(a, w, h)

        layers.append(_with(layer, scale, x0, y0))
    mask = _resample(np.asarray(doc.selection.mask), width, height)
    return ReplaceStack("Resize image", StackState.capture(doc), _state(doc, width, height, layers, mask))


def rotate_command(doc: Document, degrees: Literal[90, 180, 270] | int) -> ReplaceStack:
    """Rotate the document clockwise by 90, 180 or 270 degrees."""
    deg = int(degrees) % 360
    if deg not in (90, 180, 270):
        raise ValueError(f"rotation must be 90, 180 or 270 degrees, got {degrees}")
    k = {90: -1, 180: 2, 270: 1}[deg]  # np.rot90 turns counter-clockwise for positive k
    cw, ch = doc.width, doc.height
    nw, nh = (ch, cw) if deg != 180 else (cw, ch)

    def rot(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.rot90(a, k))

    layers = []
    for layer in doc.layers:
        x, y, w, h = layer.rect
        if deg == 90:
            pos = (ch - (y + h), x)
        elif deg == 180:
            pos = (cw - (x + w), ch - (y + h))
        else:
            pos = (y, cw - (x + w))
        layers.append(_with(layer, rot, *pos))
    mask = rot(np.asarray(doc.selection.mask))
    return ReplaceStack(f"Rotate {deg}°", StackState.capture(doc), _state(doc, nw, nh, layers, mask))


def flip_command(doc: Document, horizontal: bool) -> ReplaceStack:
    """Mirror the document left-right (``horizontal=True``) or top-bottom."""
    def flip(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a[:, ::-1] if horizontal else a[::-1])

    layers = []
    for layer in doc.layers:
        if horizontal:
            pos = (doc.width - (layer.x + layer.width), layer.y)
        else:
            pos = (layer.x, doc.height - (layer.y + layer.height))
        layers.append(_with(layer, flip, *pos))
    mask = flip(np.asarray(doc.selection.mask))
    title = "Flip horizontally" if horizontal else "Flip vertically"
    return ReplaceStack(title, StackState.capture(doc), _state(doc, doc.width, doc.height, layers, mask))
