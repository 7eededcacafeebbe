"""Layers: one raster each, straight-alpha RGBA uint8, placed at (x, y) on the canvas.

A layer may be smaller or larger than the canvas and may stick out of it. Its pixels are
changed only through undoable commands (see ``ganpaint.core.document``); the history keeps
references to Layer objects, so code outside the core must treat them as read-only.

Pixel arrays are copy-on-write: ``share_pixels`` (what ``ora.snapshot`` uses) makes an array
read-only for good instead of copying it, and every writer takes ``Layer.writable_pixels()``,
which puts a private copy on the layer first when its array is shared.
"""

from __future__ import annotations

import enum
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ganpaint.core.geometry import Rect

__all__ = ["BlendMode", "Layer", "LayerKind", "LayerLockedError", "ResultInfo", "as_rgba8", "is_shared",
           "share_pixels"]

# Arrays handed out by share_pixels, by id (weak: an entry goes with its array, so an id
# reused by a later array is never taken for a shared one).
_SHARED: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()


def share_pixels(pixels: np.ndarray) -> np.ndarray:
    """``pixels`` itself, made read-only for good, to be kept by a reader (a snapshot being
    saved) while the layer goes on being edited: writers copy it first (copy-on-write).

    The mark is per array, not per layer: undo may put a shared array back on a layer, and
    it is still copied before the next write. An array that does not own its memory (a view)
    cannot be protected this way (its base stays writeable), so a view is copied instead.
    """
    if pixels.base is not None or not pixels.flags.c_contiguous:
        pixels = np.array(pixels, copy=True, order="C")
    pixels.flags.writeable = False
    _SHARED[id(pixels)] = pixels
    return pixels


def is_shared(pixels: np.ndarray) -> bool:
    """True for an array ``share_pixels`` returned (read-only; never written again)."""
    return _SHARED.get(id(pixels)) is pixels


class LayerKind(enum.StrEnum):
    """What a layer is for; tools ask for layers by role (sketch, hints, mask ...)."""

    RASTER = "raster"  #: ordinary picture content
    SKETCH = "sketch"  #: line drawing (dark lines on white or on transparency)
    HINTS = "hints"  #: colour hints (alpha says where a hint is)
    MASK = "mask"  #: a mask held in alpha; not part of the composite (the canvas shows it as an overlay)
    RESULT = "result"  #: a plugin result; carries ResultInfo so it can be re-run


class BlendMode(enum.StrEnum):
    NORMAL = "normal"
    MULTIPLY = "multiply"
    SCREEN = "screen"
    OVERLAY = "overlay"


class LayerLockedError(ValueError):
    """The layer is locked against pixel changes."""


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class ResultInfo:
    """How a result layer was made, so it can be shown, saved (.ora) and re-run.

    ``before`` is an (h, w, 4) uint8 copy of what was under the result (same size and
    position as the layer) for the before/after compare; arrays are never modified in place.
    """

    tool_id: str
    plugin: str = ""
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    source_layer_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    attachments: dict[str, bytes] = field(default_factory=dict)
    before: np.ndarray | None = None

    def copy(self) -> ResultInfo:
        """A copy whose dicts can be changed without touching this one (arrays are shared)."""
        return ResultInfo(
            tool_id=self.tool_id,
            plugin=self.plugin,
            model=self.model,
            params=dict(self.params),
            source_layer_id=self.source_layer_id,
            metadata=dict(self.metadata),
            attachments=dict(self.attachments),
            before=self.before,
        )

    @property
    def nbytes(self) -> int:
        n = sum(len(v) for v in self.attachments.values())
        return n + (int(self.before.nbytes) if self.before is not None else 0)


def as_rgba8(pixels: np.ndarray) -> np.ndarray:
    """Convert (h, w, 3|4) uint8, or float in [0, 1], or (h, w) grey to contiguous RGBA uint8.

    Always returns a new array (callers may keep it).
    """
    a = np.asarray(pixels)
    if a.ndim == 2:
        a = a[:, :, None].repeat(3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"expected pixels of shape (h, w, 3) or (h, w, 4), got {a.shape}")
    if a.dtype != np.uint8:
        if np.issubdtype(a.dtype, np.floating):
            a = np.rint(np.clip(a, 0.0, 1.0) * 255.0).astype(np.uint8)
        else:
            raise ValueError(f"expected uint8 or float pixels, got {a.dtype}")
    if a.shape[2] == 3:
        out = np.empty(a.shape[:2] + (4,), np.uint8)
        out[:, :, :3] = a
        out[:, :, 3] = 255
        return out
    return np.array(a, dtype=np.uint8, order="C", copy=True)


@dataclass(eq=False)
class Layer:
    """One raster layer. Compare layers by ``id`` (``==`` is identity)."""

    pixels: np.ndarray
    name: str = "Layer"
    id: str = field(default_factory=_new_id)
    x: int = 0
    y: int = 0
    visible: bool = True
    opacity: float = 1.0
    blend: BlendMode = BlendMode.NORMAL
    locked: bool = False
    kind: LayerKind = LayerKind.RASTER
    result: ResultInfo | None = None

    def __post_init__(self) -> None:
        p = self.pixels
        if not (isinstance(p, np.ndarray) and p.dtype == np.uint8 and p.ndim == 3 and p.shape[2] == 4):
            self.pixels = as_rgba8(p)
        elif not p.flags.c_contiguous or not (p.flags.writeable or is_shared(p)):
            self.pixels = np.ascontiguousarray(p).copy()
        if self.pixels.shape[0] < 1 or self.pixels.shape[1] < 1:
            raise ValueError(f"layer {self.name!r} has no pixels (shape {self.pixels.shape})")
        self.blend = BlendMode(self.blend)
        self.kind = LayerKind(self.kind)
        self.opacity = float(min(1.0, max(0.0, self.opacity)))
        self.x, self.y = int(self.x), int(self.y)

    @classmethod
    def blank(cls, width: int, height: int, name: str = "Layer", **props: Any) -> Layer:
        """A fully transparent layer."""
        return cls(np.zeros((int(height), int(width), 4), np.uint8), name=name, **props)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def rect(self) -> Rect:
        """Where the layer lies in canvas coordinates."""
        return Rect(self.x, self.y, self.width, self.height)

    @property
    def nbytes(self) -> int:
        n = int(self.pixels.nbytes)
        return n + (self.result.nbytes if self.result is not None else 0)

    def writable_pixels(self) -> np.ndarray:
        """The layer's pixels, to be changed in place: a shared (read-only) array is first
        replaced by a private copy, so a snapshot holding it keeps what it saw."""
        if not self.pixels.flags.writeable:
            self.pixels = self.pixels.copy()
        return self.pixels

    def props(self) -> dict[str, Any]:
        """The settable properties (see ``Document.set_layer_props``)."""
        return {
            "name": self.name,
            "visible": self.visible,
            "opacity": self.opacity,
            "blend": self.blend,
            "locked": self.locked,
            "kind": self.kind,
            "x": self.x,
            "y": self.y,
        }

    def copy(self, *, new_id: bool = True, name: str | None = None) -> Layer:
        """A deep copy of pixels and result info; a new id unless ``new_id=False``."""
        return Layer(
            self.pixels.copy(),
            name=self.name if name is None else name,
            id=_new_id() if new_id else self.id,
            x=self.x,
            y=self.y,
            visible=self.visible,
            opacity=self.opacity,
            blend=self.blend,
            locked=self.locked,
            kind=self.kind,
            result=self.result.copy() if self.result is not None else None,
        )

    def canvas_alpha(self, width: int, height: int) -> np.ndarray:
        """This layer's alpha placed on a (height, width) canvas, float32 in [0, 1]."""
        out = np.zeros((height, width), np.float32)
        r = self.rect.clipped(width, height)
        if not r.is_empty():
            out[r.slices()] = self.pixels[r.slices_in(self.rect) + (3,)] * np.float32(1 / 255)
        return out

    def __repr__(self) -> str:
        return (
            f"Layer({self.name!r}, {self.kind.value}, {self.width}x{self.height} at ({self.x}, {self.y}), "
            f"opacity={self.opacity:g}, {self.blend.value}{'' if self.visible else ', hidden'})"
        )
