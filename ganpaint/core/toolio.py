"""The one path between a document and a tool, shared by the editor and the command line.

:func:`build_request` copies what a tool needs out of the document into a
:class:`ToolRequest` (canvas-size, float32, read-only arrays), so the tool never
touches the document from a worker. :func:`apply_result` turns the tool's
:class:`ToolResult` into ONE undoable command on the GUI thread.

Pure numpy: no torch, no Qt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from ganpaint.core.specs import OutputMode, Role, ToolError, ToolRequest, ToolResult, ToolSpec

if TYPE_CHECKING:
    from ganpaint.core.document import Document
    from ganpaint.core.history import Command
    from ganpaint.core.layers import Layer

__all__ = [
    "PreparedResult",
    "RequestInputs",
    "ResultError",
    "apply_result",
    "build_request",
    "composite_result",
    "layer_on_canvas",
    "gather_request",
    "mask_from_layer",
    "prepare_result",
    "result_pixels",
    "result_source",
    "validate_result",
]


class ResultError(ValueError):
    """A tool returned something that breaks the pixel convention."""


# ----------------------------------------------------------------------------- pixels


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def layer_on_canvas(pixels: np.ndarray, x: int, y: int, width: int, height: int) -> np.ndarray:
    """An (height, width, 4) uint8 RGBA copy of a layer placed at (x, y) on the canvas;
    transparent where the layer does not reach."""
    out = np.zeros((height, width, 4), np.uint8)
    lh, lw = pixels.shape[:2]
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + lw, width), min(y + lh, height)
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = pixels[y0 - y : y1 - y, x0 - x : x1 - x]
    return out


def _rgb_alpha(rgba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = rgba.astype(np.float32) / np.float32(255.0)
    return np.ascontiguousarray(f[..., :3]), np.ascontiguousarray(f[..., 3])


def sketch_from_rgba(rgba: np.ndarray) -> np.ndarray:
    """Line art over white: transparent counts as white."""
    rgb, a = _rgb_alpha(rgba)
    out: np.ndarray = rgb * a[..., None] + (np.float32(1.0) - a[..., None])
    return out


def mask_from_layer(rgba: np.ndarray) -> np.ndarray:
    """A MASK layer as (H, W) float32 in [0, 1]: a mask layer holds its mask in alpha."""
    return _rgb_alpha(rgba)[1]


def to_uint8(a: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(a * np.float32(255.0)), 0, 255).astype(np.uint8)


#: the largest side of a result of another size (``OutputMode.RESIZE``)
MAX_RESULT_SIDE = 1 << 16


def validate_result(request: ToolRequest, result: Any, *, any_size: bool = False) -> ToolResult:
    """Check a tool's result against the convention; return a clean copy.

    Image (H, W, 3) float (converted to float32) at the request's size, alpha None
    or (H, W); NaN/inf are refused, values are clipped to [0, 1]; metadata must be
    JSON-serialisable and attachments bytes. Raises :class:`ResultError`.
    ``any_size`` (tools with ``OutputMode.RESIZE``): the image may have any size up to
    :data:`MAX_RESULT_SIDE` a side, and the alpha must have the image's.
    """
    if not isinstance(result, ToolResult):
        raise ResultError(f"expected a ToolResult, got {type(result).__name__}")
    w, h = request.size
    if any_size and isinstance(result.image, np.ndarray) and result.image.ndim == 3:
        h, w = (int(n) for n in result.image.shape[:2])
        if not (1 <= w <= MAX_RESULT_SIDE and 1 <= h <= MAX_RESULT_SIDE):
            raise ResultError(f"image has shape {result.image.shape}; a side must be 1 to {MAX_RESULT_SIDE} px")
    image = _check_array("image", result.image, (h, w, 3))
    alpha = None if result.alpha is None else _check_array("alpha", result.alpha, (h, w))
    if not isinstance(result.metadata, Mapping):
        raise ResultError("metadata must be a dict")
    try:
        metadata = json.loads(json.dumps(dict(result.metadata)))
    except (TypeError, ValueError) as exc:
        raise ResultError(f"metadata is not JSON-serialisable ({exc})") from None
    attachments: dict[str, bytes] = {}
    for name, blob in dict(result.attachments).items():
        if not isinstance(name, str) or not isinstance(blob, (bytes, bytearray, memoryview)):
            raise ResultError(f"attachment {name!r} must be bytes under a string name")
        attachments[name] = bytes(blob)
    return ToolResult(
        image=image,
        alpha=alpha,
        name=str(result.name or ""),
        metadata=metadata,
        attachments=attachments,
        composited=bool(result.composited),
    )


def _check_array(what: str, arr: Any, shape: tuple[int, ...]) -> np.ndarray:
    if not isinstance(arr, np.ndarray):
        raise ResultError(f"{what} must be a numpy array, got {type(arr).__name__}")
    if arr.shape != shape:
        raise ResultError(f"{what} has shape {arr.shape}, expected {shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ResultError(f"{what} has dtype {arr.dtype}; the convention is float32 in [0, 1]")
    out = np.asarray(arr, dtype=np.float32)
    if not np.isfinite(out).all():
        raise ResultError(f"{what} contains NaN or infinite values")
    return np.clip(out, 0.0, 1.0)


def result_pixels(request: ToolRequest, result: ToolResult, *, any_size: bool = False) -> np.ndarray:
    """The (H, W, 4) uint8 RGBA of a result layer.

    Colour: ``result*m + original*(1-m)`` through the request's mask ``m`` (unless
    the tool composited itself, or there is no mask). Straight alpha: the result's
    alpha or else the source alpha, blended through the mask the same way.
    ``any_size``: a result of another size (``OutputMode.RESIZE``) is taken as it is.
    """
    image = result.image
    if any_size and image.shape[:2] != request.size[::-1]:
        if result.alpha is None and request.alpha is not None:
            raise ResultError("a result of another size than the picture must carry its own alpha")
        out = np.empty(image.shape[:2] + (4,), np.uint8)
        out[..., :3] = to_uint8(image)
        out[..., 3] = 255 if result.alpha is None else to_uint8(result.alpha)
        return out
    if image.shape[:2] != request.size[::-1]:
        raise ResultError(f"image has shape {image.shape}, expected the canvas size {request.size[::-1]}")
    image, alpha = composite_result(request, result)
    out = np.empty(image.shape[:2] + (4,), np.uint8)
    out[..., :3] = to_uint8(image)
    out[..., 3] = to_uint8(alpha)
    return out


def composite_result(request: ToolRequest, result: ToolResult) -> tuple[np.ndarray, np.ndarray]:
    """(RGB, straight alpha) as float32 in [0, 1]: the result through the request's mask, before
    :func:`result_pixels` rounds it to 8 bits (``ganpaint.testing.run_tool`` shows authors this).

    Colour ``result*m + original*(1-m)``; alpha the result's (else the source's) blended the
    same way. No mask, or ``result.composited``: the result as it is. A tool without an IMAGE
    input is transparent outside the mask."""
    image = result.image
    if image.shape[:2] != request.size[::-1]:
        raise ResultError(f"image has shape {image.shape}, expected the canvas size {request.size[::-1]}")
    src_alpha = request.alpha if request.alpha is not None else np.ones(image.shape[:2], np.float32)
    alpha = result.alpha if result.alpha is not None else src_alpha
    m = request.mask
    if m is not None and not result.composited:
        if Role.IMAGE in request.images:
            orig = request.images[Role.IMAGE]
            m3 = m[..., None]
            image = image * m3 + orig * (np.float32(1.0) - m3)
            alpha = alpha * m + src_alpha * (np.float32(1.0) - m)
        else:  # nothing to show outside the mask: transparent there
            alpha = alpha * m
    return np.asarray(image, np.float32), np.asarray(alpha, np.float32)


# ----------------------------------------------------------------------------- document


def build_request(
    doc: Document,
    spec: ToolSpec,
    role_layers: Mapping[Role, str] | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    preview: bool = False,
) -> ToolRequest:
    """Copy the inputs of ``spec`` out of ``doc``.

    ``role_layers`` maps a role to a layer id, or to None for "no layer" (an optional
    input the user left on "(none)": no default is taken for it, and a MASK role mapped to
    None means no mask at all, not the selection). IMAGE, when not in ``role_layers``,
    defaults to the active layer.
    Each image is canvas-size float32: IMAGE and IMAGE_B as RGB (IMAGE's straight
    alpha goes to ``request.alpha``), SKETCH composited over white, HINTS as RGBA.
    The mask is the MASK-role layer when one is given, else the selection (None when
    empty). ``params`` are coerced and completed with defaults (ValueError if bad).
    ``preview`` marks a draft run while a live slider is dragged (``ToolRequest.preview``).
    Raises :class:`ToolError` when a required input is missing.

    The same as ``gather_request(...).build()``: the editor gathers on the GUI thread
    (cheap: one uint8 copy per input layer) and builds in the job's thread.
    """
    return gather_request(doc, spec, role_layers, params, preview=preview).build()


class RequestInputs:
    """The part of :func:`build_request` that reads the document: the resolved parameters,
    a uint8 copy of each input layer's pixels (strokes change a layer's array in place) with
    its position, and a uint8 copy of the selection. :meth:`build` makes the float32
    :class:`ToolRequest` from them without the document, so it may run on another thread
    (a plain object, not a dataclass: a job's ``freeze`` passes it as it is)."""

    def __init__(self, tool_id: str, params: Mapping[str, Any], canvas: tuple[int, int], preview: bool) -> None:
        self.tool_id = tool_id
        self.params = params
        self.canvas = canvas
        self.preview = preview
        #: (role, pixels copy, x, y) per input layer, MASK included
        self.layers: list[tuple[Role, np.ndarray, int, int]] = []
        #: the selection's uint8 mask (a copy) when it is the mask, else None
        self.selection: np.ndarray | None = None
        self.source_name = ""
        #: ``ToolRequest.previous`` (a re-run's attachments)
        self.previous: Mapping[str, bytes] = {}

    def build(self) -> ToolRequest:
        """The float32 request (``build_request``'s arrays, bit for bit)."""
        w, h = self.canvas
        images: dict[Role, np.ndarray] = {}
        alpha: np.ndarray | None = None
        mask: np.ndarray | None = None
        for role, pixels, x, y in self.layers:
            rgba = layer_on_canvas(pixels, x, y, w, h)
            if role is Role.MASK:
                mask = mask_from_layer(rgba)
            elif role is Role.SKETCH:
                images[role] = sketch_from_rgba(rgba)
            elif role is Role.HINTS:
                images[role] = rgba.astype(np.float32) / np.float32(255.0)
            else:
                rgb, a = _rgb_alpha(rgba)
                images[role] = rgb
                if role is Role.IMAGE:
                    alpha = a
        if mask is None and self.selection is not None:
            mask = self.selection.astype(np.float32) * np.float32(1 / 255)  # Selection.as_float
        for arr in images.values():
            _readonly(arr)
        return ToolRequest(
            tool_id=self.tool_id,
            images=MappingProxyType(images),
            params=MappingProxyType(dict(self.params)),
            alpha=None if alpha is None else _readonly(alpha),
            mask=None if mask is None else _readonly(mask),
            source_name=self.source_name,
            canvas=(w, h),
            preview=bool(self.preview),
            previous=dict(self.previous),
        )


def gather_request(
    doc: Document,
    spec: ToolSpec,
    role_layers: Mapping[Role, str] | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    preview: bool = False,
) -> RequestInputs:
    """What :func:`build_request` reads from ``doc`` (same arguments, same errors), without
    the float conversion: see :class:`RequestInputs`."""
    chosen = {Role(k): v for k, v in (role_layers or {}).items()}
    resolved = spec.resolve_params(params or {})
    out = RequestInputs(spec.id, resolved, (doc.width, doc.height), preview)
    has_mask = False
    for inp in spec.inputs:
        role = inp.role
        layer_id = chosen.get(role)
        if role is Role.IMAGE and role not in chosen and doc.active_layer is not None:
            layer_id = doc.active_layer.id
        layer = _find(doc, layer_id) if layer_id is not None else None
        if role is Role.MASK:
            if layer is not None:
                out.layers.append((role, _frozen_copy(layer.pixels), layer.x, layer.y))
                has_mask = True
            elif role not in chosen and not doc.selection.is_empty():
                out.selection = _frozen_copy(doc.selection.mask)
                has_mask = True
            if not has_mask and inp.required:
                raise ToolError(f"{spec.title} needs a mask: make a selection or choose a mask layer")
            continue
        if layer is None:
            if inp.required:
                label = inp.label or role.value.replace("_", " ")
                raise ToolError(f"{spec.title} needs a layer for its {label} input")
            continue
        out.layers.append((role, _frozen_copy(layer.pixels), layer.x, layer.y))
        if role is Role.IMAGE:
            out.source_name = layer.name
    # A tool that acts on an image honours the selection even without a MASK input.
    if not has_mask and Role.MASK not in spec.roles() and not doc.selection.is_empty():
        out.selection = _frozen_copy(doc.selection.mask)
    return out


def _frozen_copy(a: np.ndarray) -> np.ndarray:
    return _readonly(np.array(a, copy=True))


def result_source(
    doc: Document, spec: ToolSpec, role_layers: Mapping[Role, str | None] | None = None
) -> str | None:
    """The id of the layer a new result of ``spec`` is made from: apply_result puts the
    result layer directly above it (and records it as the result's source). None when the
    tool generates from nothing: the result then goes on top of the stack.

    A tool with an IMAGE input: that layer (the active one when ``role_layers`` does not
    name it; None when it maps IMAGE to None, an optional picture left on "(none)").
    Otherwise the highest of its other input layers (a sketch and its hints: the result
    must not land under them); MASK layers do not count (they are not drawn).
    """
    chosen = {Role(k): v for k, v in (role_layers or {}).items()}
    roles = spec.roles()
    if Role.IMAGE in roles:
        if Role.IMAGE in chosen:
            lid = chosen[Role.IMAGE]
        else:
            lid = doc.active_layer.id if doc.active_layer is not None else None
        return lid if lid is not None and doc.find_layer(lid) is not None else None
    wanted = {chosen.get(r) for r in roles if r is not Role.MASK} - {None}
    top: str | None = None
    for layer in doc.layers:  # bottom -> top: the last one found is the highest
        if layer.id in wanted:
            top = layer.id
    return top


def _find(doc: Document, layer_id: str) -> Layer:
    layer = doc.find_layer(layer_id)
    if layer is None:
        raise ToolError(f"layer {layer_id!r} is no longer in the document")
    return layer


class PreparedResult:
    """What :func:`apply_result` computes from a result before it touches the document
    (:func:`prepare_result`, on the job's thread): the checked result, its RGBA pixels and,
    for a canvas-size NEW_LAYER result, the result layer itself."""

    def __init__(self, result: ToolResult, pixels: np.ndarray, layer: Layer | None, clean: bool) -> None:
        self.result = result
        self.pixels = pixels
        self.layer = layer
        #: the result needed no cleaning (``pixels`` are also ``result_pixels(request, result)``)
        self.clean = clean


def prepare_result(spec: ToolSpec, request: ToolRequest, result: Any,
                   source_layer_id: str | None) -> PreparedResult:
    """The document-free part of :func:`apply_result` (checks, compositing through the mask,
    8-bit rounding, the result layer): pass it back as ``apply_result(..., prepared=)``.
    Raises what ``apply_result`` would."""
    resize = spec.output is OutputMode.RESIZE
    clean = _is_clean(request, result)
    if not clean:
        result = validate_result(request, result, any_size=resize)
    pixels = result_pixels(request, result, any_size=resize)
    layer = None
    if spec.output is not OutputMode.REPLACE and pixels.shape[:2] == request.size[::-1]:
        layer = _result_layer(spec, request, result, pixels, None, source_layer_id, _source_rgba(request))
    return PreparedResult(result, pixels, layer, clean)


def apply_result(
    doc: Document,
    spec: ToolSpec,
    request: ToolRequest,
    result: ToolResult,
    source_layer_id: str | None,
    *,
    prepared: PreparedResult | None = None,
) -> Command:
    """Apply a result as ONE undoable command (executed on ``doc``) and return it.

    NEW_LAYER: a visible RESULT layer right above the source (on top of the stack when
    there is none: a tool that generated from nothing, or the source is gone; see
    :func:`result_source`); it becomes the active layer.
    carrying :class:`ResultInfo` (tool, plugin, model, params, metadata, attachments,
    and ``before``: the source as the tool saw it). REPLACE: the source layer's pixels
    inside the canvas are replaced (parts of the layer outside the canvas are kept).
    Colour and alpha go through the mask as :func:`result_pixels` says.
    ``prepared``: :func:`prepare_result` of this result, made beforehand (off the GUI thread).
    """
    from ganpaint.core.commands import InsertLayer, PixelPatch
    from ganpaint.core.geometry import Rect

    resize = spec.output is OutputMode.RESIZE
    if prepared is None:
        prepared = prepare_result(spec, request, result, source_layer_id)
    result, pixels = prepared.result, prepared.pixels
    source = doc.find_layer(source_layer_id) if source_layer_id else None
    cmd: Command
    if resize and pixels.shape[:2] != (doc.height, doc.width):
        cmd = _resize_with_result(doc, spec, request, result, pixels, source, source_layer_id)
    elif spec.output is OutputMode.REPLACE:
        if source is None:
            raise ToolError(f"{spec.title}: the layer it worked on is no longer in the document")
        if source.locked:
            raise ToolError(f"{spec.title}: layer '{source.name}' is locked")
        region = source.rect.clipped(doc.width, doc.height)
        if region.is_empty():
            raise ToolError(f"{spec.title}: layer '{source.name}' lies outside the canvas")
        in_layer = region.translated(-source.x, -source.y)
        before = source.pixels[in_layer.slices()].copy()
        after = np.ascontiguousarray(pixels[region.slices()])
        cmd = PixelPatch(spec.title, source.id, [(in_layer, before, after)])
    else:
        layers = list(doc.layers)
        index = layers.index(source) + 1 if source is not None and source in layers else len(layers)
        layer = prepared.layer
        if layer is None or doc.find_layer(layer.id) is not None:  # not made, or applied already
            layer = _result_layer(spec, request, result, pixels, source, source_layer_id, _source_rgba(request))
        assert layer.rect == Rect(0, 0, doc.width, doc.height)
        cmd = InsertLayer(layer, index, title=spec.title)
    doc.execute(cmd)
    return cmd


def _result_layer(spec: ToolSpec, request: ToolRequest, result: ToolResult, pixels: np.ndarray,
                  source: Layer | None, source_layer_id: str | None, before: np.ndarray | None) -> Layer:
    """The RESULT layer of a tool run: its pixels, its name, and the ResultInfo that re-runs it."""
    from ganpaint.core.layers import Layer, LayerKind, ResultInfo

    model = next((request.params.get(p.name) for p in spec.params if p.kind == "model"), None)
    info = ResultInfo(
        tool_id=spec.id,
        plugin=spec.plugin,
        model=str(model) if model else None,
        params=dict(request.params),
        source_layer_id=source.id if source is not None else source_layer_id,
        metadata=dict(result.metadata),
        attachments=dict(result.attachments),
        before=before,
    )
    name = result.name or (f"{spec.title} ({request.source_name})" if request.source_name else spec.title)
    return Layer(pixels, name=name, kind=LayerKind.RESULT, result=info)


def _resize_with_result(
    doc: Document,
    spec: ToolSpec,
    request: ToolRequest,
    result: ToolResult,
    pixels: np.ndarray,
    source: Layer | None,
    source_layer_id: str | None,
) -> Command:
    """``OutputMode.RESIZE``: Image > Resize to the result's size plus the result layer above
    the source, as one ReplaceStack (one undo step)."""
    from ganpaint.core.commands import ReplaceStack, StackState
    from ganpaint.core.transform import _resample, resize_image_command

    nh, nw = pixels.shape[:2]
    base = resize_image_command(doc, nw, nh)
    layers, props = list(base.after.layers), list(base.after.props)
    ids = [layer.id for layer in layers]
    index = ids.index(source.id) + 1 if source is not None and source.id in ids else len(layers)
    before = _source_rgba(request)
    layer = _result_layer(spec, request, result, pixels, source, source_layer_id,
                          None if before is None else _resample(before, nw, nh))
    layers.insert(index, layer)
    props.insert(index, layer.props())
    after = StackState(nw, nh, tuple(layers), base.after.selection, index, tuple(props))
    return ReplaceStack(spec.title, base.before, after)


def _source_rgba(request: ToolRequest) -> np.ndarray | None:
    if Role.IMAGE not in request.images:
        return None
    out = np.empty(request.image.shape[:2] + (4,), np.uint8)
    out[..., :3] = to_uint8(request.image)
    out[..., 3] = 255 if request.alpha is None else to_uint8(request.alpha)
    return out


def _is_clean(request: ToolRequest, result: ToolResult) -> bool:
    if not isinstance(result, ToolResult):
        return False
    w, h = request.size
    img = result.image
    return (
        isinstance(img, np.ndarray)
        and img.dtype == np.float32
        and img.shape == (h, w, 3)
        and (result.alpha is None or (result.alpha.dtype == np.float32 and result.alpha.shape == (h, w)))
    )
