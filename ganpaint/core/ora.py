"""OpenRaster (.ora): GANPaint's native layered format, shared with Krita, GIMP and MyPaint.

A zip holding, in this order: ``mimetype`` (stored, uncompressed: "image/openraster"),
``stack.xml``, ``data/<layer>.png``, ``Thumbnails/thumbnail.png`` (at most 256 px) and
``mergedimage.png`` (the full composite). stack.xml lists layers top first.

GANPaint's extras live where other programs do not look: attributes in the
``ganpaint:`` namespace (https://ganpaint.org/ns/ora/1) on each <layer> (id, kind, locked,
and for result layers tool, plugin, model, params and metadata as JSON, source) and files
under ``ganpaint/<layer-id>/`` (the result's attachments, and its "before" picture). The
document's RGB colour profile, when it is not sRGB, is embedded in every PNG (iCCP).

MASK layers are not picture content: they are written hidden (so other programs' composite
matches mergedimage.png) with their real visibility in ``ganpaint:visible``.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.parsers import expat

import numpy as np
from PIL import Image

from ganpaint.core.atomic import atomic_write
from ganpaint.core.errors import (
    FileFormatError,
    GanpaintError,
    ImageReadError,
    ImageWriteError,
    LimitExceededError,
    describe_os_error,
)
from ganpaint.core.imageio import DEFAULT_MAX_PIXELS, read_image_bytes, read_image_size
from ganpaint.core.layers import BlendMode, Layer, LayerKind, ResultInfo, share_pixels
from ganpaint.core.limits import loads_bounded

if TYPE_CHECKING:
    from ganpaint.core.document import Document

__all__ = [
    "DEFAULT_MAX_DOCUMENT_PIXELS",
    "GANPAINT_NS",
    "DocumentSnapshot",
    "ORA_MIMETYPE",
    "OraContents",
    "is_ora_path",
    "load_ora",
    "read_ora",
    "save_ora",
    "snapshot",
    "write_ora",
]

ORA_MIMETYPE = "image/openraster"
GANPAINT_NS = "https://ganpaint.org/ns/ora/1"
THUMBNAIL_MAX = 256
_G = "{" + GANPAINT_NS + "}"

_OP_OF_BLEND = {
    BlendMode.NORMAL: "svg:src-over",
    BlendMode.MULTIPLY: "svg:multiply",
    BlendMode.SCREEN: "svg:screen",
    BlendMode.OVERLAY: "svg:overlay",
}
_BLEND_OF_OP = {op: mode for mode, op in _OP_OF_BLEND.items()}
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAX_XML_BYTES = 16 << 20

ET.register_namespace("ganpaint", GANPAINT_NS)

_Fail = Callable[..., FileFormatError]


@dataclass
class OraContents:
    """What read_ora found: canvas size, layers bottom -> top, the active layer's index."""

    width: int
    height: int
    layers: list[Layer]
    active: int | None = None
    icc_profile: bytes | None = None
    notes: list[str] = field(default_factory=list)


def is_ora_path(path: str | os.PathLike[str]) -> bool:
    return Path(os.fspath(path)).suffix.lower() == ".ora"


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class DocumentSnapshot:
    """A copy of what an .ora file needs, safe to write from a worker thread while the user
    keeps painting. Copy-on-write: the layers share the document's pixel arrays, made
    read-only for good (``layers.share_pixels``); the document's writers copy such an array
    before changing it, so the snapshot keeps the pixels it was taken with."""

    width: int
    height: int
    layers: tuple[Layer, ...]
    active: int | None
    icc_profile: bytes | None
    path: str | None


def snapshot(doc: Document) -> DocumentSnapshot:
    """Copy ``doc`` for saving elsewhere (call on the GUI thread). Costs O(layers), not
    O(pixels): the pixels are shared copy-on-write, see DocumentSnapshot."""
    layers = tuple(_shared_copy(layer) for layer in doc.layers)
    active = doc.active_index if 0 <= doc.active_index < len(layers) else None
    return DocumentSnapshot(doc.width, doc.height, layers, active, getattr(doc, "icc_profile", None), doc.path)


def _shared_copy(layer: Layer) -> Layer:
    """``layer`` with its own properties and result info but its pixels shared (read-only)."""
    layer.pixels = share_pixels(layer.pixels)  # the same array (a copy only for a view)
    return Layer(layer.pixels, name=layer.name, id=layer.id, x=layer.x, y=layer.y, visible=layer.visible,
                 opacity=layer.opacity, blend=layer.blend, locked=layer.locked, kind=layer.kind,
                 result=layer.result.copy() if layer.result is not None else None)


def save_ora(doc: Document | DocumentSnapshot, path: str | os.PathLike[str], *, compress_level: int = 6) -> None:
    """Write a document (or a snapshot of one) to ``path`` atomically; raises ImageWriteError.

    Does not mark the document clean: the caller does, with ``doc.mark_clean(path)``, so that
    autosaves to the recovery folder leave it modified.
    """
    if isinstance(doc, DocumentSnapshot):
        write_ora(path, doc.width, doc.height, list(doc.layers), active=doc.active,
                  icc_profile=doc.icc_profile, compress_level=compress_level)
        return
    layers = list(doc.layers)
    write_ora(
        path,
        doc.width,
        doc.height,
        layers,
        composite=doc.composite(),
        active=doc.active_index if 0 <= doc.active_index < len(layers) else None,
        icc_profile=getattr(doc, "icc_profile", None),
        compress_level=compress_level,
    )


def write_ora(
    path: str | os.PathLike[str],
    width: int,
    height: int,
    layers: list[Layer],
    *,
    composite: np.ndarray | None = None,
    active: int | None = None,
    icc_profile: bytes | None = None,
    compress_level: int = 6,
) -> None:
    """Write an OpenRaster file from layers (bottom -> top). ``composite`` is the (height, width, 4)
    merged picture (computed from the non-mask layers when None). Raises ImageWriteError."""
    name = os.fspath(path)
    if composite is None:
        from ganpaint.core.blend import composite_layers
        from ganpaint.core.geometry import Rect

        content = [la for la in layers if la.kind is not LayerKind.MASK]
        composite = composite_layers(content, Rect(0, 0, width, height))
    if composite.shape != (height, width, 4) or composite.dtype != np.uint8:
        raise ValueError(f"write_ora({name!r}): composite must be ({height}, {width}, 4) uint8, got {composite.shape}")
    if os.path.isdir(name):
        raise ImageWriteError(f"Cannot write '{name}': it is a folder.", path=name, reason="is a folder")
    try:
        with atomic_write(name) as fh, zipfile.ZipFile(fh, "w", allowZip64=True) as zf:
            # mimetype first and stored: other programs identify the file by its first bytes
            zf.writestr(zipfile.ZipInfo("mimetype"), ORA_MIMETYPE, compress_type=zipfile.ZIP_STORED)
            members: list[tuple[str, bytes]] = []
            stack_xml = _stack_xml(width, height, layers, active, members, icc_profile, compress_level)
            zf.writestr("stack.xml", stack_xml, compress_type=zipfile.ZIP_DEFLATED)
            for member, data in members:
                # PNGs are already deflated; storing them saves time and nothing else
                kind = zipfile.ZIP_STORED if member.endswith(".png") else zipfile.ZIP_DEFLATED
                zf.writestr(member, data, compress_type=kind)
            zf.writestr("Thumbnails/thumbnail.png", _thumbnail(composite), compress_type=zipfile.ZIP_STORED)
            zf.writestr(
                "mergedimage.png", _png(composite, icc_profile, compress_level), compress_type=zipfile.ZIP_STORED
            )
    except OSError as exc:
        reason = describe_os_error(exc)
        raise ImageWriteError(f"Cannot write '{name}': {reason}.", path=name, reason=reason) from None
    except (ValueError, TypeError) as exc:
        raise ImageWriteError(f"Cannot write '{name}': {exc}.", path=name, reason="encoder") from None


def _stack_xml(
    width: int,
    height: int,
    layers: list[Layer],
    active: int | None,
    members: list[tuple[str, bytes]],
    icc: bytes | None,
    compress_level: int,
) -> bytes:
    root = ET.Element("image", {"version": "0.0.6", "w": str(width), "h": str(height), "xres": "72", "yres": "72"})
    root.set(_G + "version", "1")
    stack = ET.SubElement(root, "stack")
    used: set[str] = set()
    for index in range(len(layers) - 1, -1, -1):  # the spec lists the top layer first
        layer = layers[index]
        lid = layer.id if _SAFE_ID.match(layer.id) and layer.id not in used else f"layer{index}"
        used.add(lid)
        src = f"data/{lid}.png"
        members.append((src, _png(layer.pixels, icc, compress_level)))
        is_mask = layer.kind is LayerKind.MASK
        attrs = {
            "name": _xml_text(layer.name),
            "src": src,
            "x": str(layer.x),
            "y": str(layer.y),
            "opacity": f"{layer.opacity:.6g}",
            "visibility": "visible" if layer.visible and not is_mask else "hidden",
            "composite-op": _OP_OF_BLEND[layer.blend],
        }
        if index == active:
            attrs["selected"] = "true"
        el = ET.SubElement(stack, "layer", attrs)
        el.set(_G + "id", lid)
        el.set(_G + "kind", layer.kind.value)
        el.set(_G + "locked", "true" if layer.locked else "false")
        if is_mask:
            el.set(_G + "visible", "true" if layer.visible else "false")
        if layer.result is not None:
            _write_result(el, lid, layer.result, members, compress_level)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _write_result(el: ET.Element, lid: str, info: ResultInfo, members: list[tuple[str, bytes]], level: int) -> None:
    el.set(_G + "tool", _xml_text(info.tool_id))
    el.set(_G + "plugin", _xml_text(info.plugin))
    if info.model is not None:
        el.set(_G + "model", _xml_text(info.model))
    el.set(_G + "params", json.dumps(info.params, default=_json_default, sort_keys=True))
    el.set(_G + "metadata", json.dumps(info.metadata, default=_json_default, sort_keys=True))
    if info.source_layer_id is not None:
        el.set(_G + "source", _xml_text(info.source_layer_id))
    for key, data in info.attachments.items():
        members.append((f"ganpaint/{lid}/{_safe_member(key)}", bytes(data)))
    if info.before is not None:
        before = f"ganpaint/{lid}/_before.png"
        el.set(_G + "before", before)
        members.append((before, _png(info.before, None, level)))


def _xml_text(text: str) -> str:
    # control characters cannot appear in XML 1.0 even escaped; a pasted layer name may hold one
    return _XML_INVALID.sub("", str(text))


def _json_default(obj: Any) -> Any:
    # numpy scalars and arrays sneak into params from plugins; store their plain values
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, bytes):
        return obj.hex()
    return str(obj)


def _safe_member(key: str) -> str:
    parts = [p for p in key.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    if not parts:
        raise ValueError(f"attachment name {key!r} is not a file name")
    return "/".join(parts)


def _png(rgba: np.ndarray, icc: bytes | None, compress_level: int) -> bytes:
    """An RGBA PNG, encoded so that a save in a background thread leaves the GUI thread free:
    each row is "Up"-filtered with numpy and the whole is deflated by ``zlib.compress``,
    which both run without the GIL (Pillow's PNG encoder holds it for each output block:
    hundreds of milliseconds of a 4000x3000 layer under load, a frozen window)."""
    a = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = a.shape[:2]
    rows = a.reshape(h, w * 4)
    raw = np.empty((h, w * 4 + 1), np.uint8)
    raw[:, 0] = 2  # filter type Up: each byte minus the one above (the row above the first is zeros)
    raw[:1, 1:] = rows[:1]
    np.subtract(rows[1:], rows[:-1], out=raw[1:, 1:])
    out = [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))]
    if icc:
        out.append(_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc, 9)))
    out.append(_chunk(b"IDAT", zlib.compress(raw, max(0, min(9, int(compress_level))))))
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def _thumbnail(composite: np.ndarray) -> bytes:
    im = Image.fromarray(np.ascontiguousarray(composite), "RGBA")
    im.thumbnail((THUMBNAIL_MAX, THUMBNAIL_MAX), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


# --------------------------------------------------------------------------- reading
#
# An .ora file is untrusted input. Before any pixel is decoded, the reader checks:
#  * stack.xml: at most _MAX_XML_BYTES, MAX_XML_DEPTH levels, MAX_XML_ELEMENTS elements and
#    MAX_LAYERS layers, no DTD or entity (parsed with expat, handlers refuse them);
#  * every coordinate is a finite number within +-MAX_COORD and the canvas within max_pixels;
#  * each picture's declared size (its header, read from the zip member) within max_pixels;
#  * the whole document within the budget max_document_pixels: the canvas, every layer and
#    every result's "before" picture in pixels, plus its attachments (4 bytes = 1 pixel,
#    from the zip's declared member sizes, which zipfile enforces while unpacking).
# A refusal raises LimitExceededError (a FileFormatError) naming the file.

#: one document's budget (canvas + layers + before pictures + attachments/4), in pixels
DEFAULT_MAX_DOCUMENT_PIXELS = 1_000_000_000
MAX_XML_DEPTH = 64
MAX_XML_ELEMENTS = 50_000
MAX_LAYERS = 4096
MAX_COORD = 1 << 20
MAX_MEMBERS = 100_000


def load_ora(
    path: str | os.PathLike[str],
    *,
    max_pixels: int | None = None,
    max_document_pixels: int | None = None,
    **doc_kwargs: Any,
) -> Document:
    """Open an OpenRaster file as a Document (history empty, clean; ``doc.notes`` says what was
    adapted). Raises FileFormatError (an ImageReadError) naming the file; LimitExceededError
    (a FileFormatError) when it is beyond a limit (see read_ora)."""
    from ganpaint.core.document import Document

    contents = read_ora(path, max_pixels=max_pixels, max_document_pixels=max_document_pixels)
    doc = Document.from_layers(contents.width, contents.height, contents.layers, active=contents.active, **doc_kwargs)
    doc.path = os.fspath(path)
    doc.icc_profile = contents.icc_profile
    doc.notes = list(contents.notes)
    return doc


def read_ora(
    path: str | os.PathLike[str],
    *,
    max_pixels: int | None = None,
    max_document_pixels: int | None = None,
) -> OraContents:
    """Read an OpenRaster file into layers (bottom -> top), whoever wrote it.

    ``max_pixels`` bounds each picture and the canvas (default DEFAULT_MAX_PIXELS), and
    ``max_document_pixels`` the whole document (default DEFAULT_MAX_DOCUMENT_PIXELS; the
    GUI and the command line pass Settings.max_document_pixels); both are checked before
    anything is decoded. 0 or less turns a limit off.
    """
    name = os.fspath(path)
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else int(max_pixels)
    budget = DEFAULT_MAX_DOCUMENT_PIXELS if max_document_pixels is None else int(max_document_pixels)

    def fail(detail: str, reason: str = "corrupt") -> FileFormatError:
        return FileFormatError(f"Cannot open '{name}': {detail}.", path=name, reason=reason)

    if os.path.isdir(name):
        raise fail("it is a folder, not a file", "is a folder")
    try:
        size = os.path.getsize(name)
        fh = open(name, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise fail("no such file", "not found") from None
    except OSError as exc:
        raise fail(describe_os_error(exc), describe_os_error(exc)) from None
    if size == 0:
        fh.close()
        raise fail("the file is empty (0 bytes)", "empty")
    with fh:
        try:
            with zipfile.ZipFile(fh) as zf:
                return _read_zip(zf, name, limit, budget, fail)
        except GanpaintError:
            raise
        except zipfile.BadZipFile as exc:
            raise fail(f"it is not an OpenRaster file or it is damaged ({exc})") from None
        except (zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
            raise fail(f"the archive cannot be read ({exc})") from None
        except MemoryError:
            raise fail("there is not enough memory to open it", "out of memory") from None
        except Exception as exc:  # noqa: BLE001 - a hostile file must not escape as a stray error
            raise fail(f"it is damaged ({type(exc).__name__}: {exc})") from None


class _Refused(Exception):
    """Raised inside the XML handlers; becomes a LimitExceededError naming the file."""

    def __init__(self, detail: str, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _refuse(name: str, detail: str, reason: str) -> LimitExceededError:
    return LimitExceededError(f"Refused to open '{name}': {detail}.", path=name, reason=reason)


@dataclass
class _Planned:
    """A layer to read: its element, group offsets and the declared sizes, before decoding."""

    el: ET.Element
    lname: str
    src: str
    ox: int
    oy: int
    opacity: float
    visible: bool
    size: tuple[int, int] | None
    attachments: list[str] = field(default_factory=list)
    before: str | None = None


def _read_zip(zf: zipfile.ZipFile, name: str, limit: int, budget: int, fail: _Fail) -> OraContents:
    notes: list[str] = []
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _refuse(name, f"its archive holds {len(infos):,} files, more than the limit of {MAX_MEMBERS:,}",
                      "too many files")
    names = set(zf.namelist())
    if "stack.xml" not in names:
        raise fail("it is a zip archive without stack.xml, not an OpenRaster file")
    if not infos or infos[0].filename != "mimetype" or _member(zf, "mimetype", 1024, fail).strip() != ORA_MIMETYPE.encode():
        notes.append("The file does not start with the OpenRaster mimetype entry; it was read anyway.")

    if zf.getinfo("stack.xml").file_size > _MAX_XML_BYTES:
        raise _refuse(name, f"its stack.xml would unpack to {zf.getinfo('stack.xml').file_size:,} bytes, more "
                      f"than the limit of {_MAX_XML_BYTES:,}", "too large")
    root = _parse_stack_xml(_member(zf, "stack.xml", _MAX_XML_BYTES, fail), name, fail)
    stack = root.find("stack")
    if root.tag != "image" or stack is None:
        raise fail("stack.xml has no <image><stack> structure")

    def coord(text: str | None, what: str) -> int:
        return _coord(text, what, name)

    width, height = _dim(root.get("w"), "w", name), _dim(root.get("h"), "h", name)
    _check_canvas(width, height, limit, fail)  # before any layer is decoded

    entries: list[tuple[ET.Element, int, int, float, bool]] = []  # top first
    groups = _walk(stack, 0, 0, 1.0, True, entries, notes, coord)
    if groups:
        notes.append(f"{groups} layer group(s) were flattened into separate layers.")

    # -- plan: sizes from the pictures' headers and the zip's member sizes, nothing decoded
    per_layer = _per_layer_bytes(limit, budget)
    by_folder: dict[str, list[str]] = {}
    for member in sorted(names):
        if member.startswith("ganpaint/") and not member.endswith("/"):
            folder, _, _rest = member[len("ganpaint/"):].partition("/")
            if _rest:
                by_folder.setdefault(folder, []).append(member)
    plan: list[_Planned] = []
    total = 0  # pixels, attachments at 4 bytes a pixel
    for el, ox, oy, group_opacity, group_visible in reversed(entries):  # bottom -> top
        lname = el.get("name") or f"Layer {len(plan) + 1}"
        src = (el.get("src") or "").lstrip("./")
        if src not in names:
            notes.append(f"Layer '{lname}': its picture '{src}' is missing from the file; the layer was left out.")
            continue
        coord(el.get("x"), f"layer '{lname}' x")
        coord(el.get("y"), f"layer '{lname}' y")
        item = _Planned(el, lname, src, ox, oy, group_opacity, group_visible,
                        _declared_size(zf, src, f"{name}:{src}", per_layer, fail))
        if item.size is not None:
            w, h = item.size
            if limit > 0 and w * h > limit:
                raise _refuse(name, f"layer '{lname}' ({src}) declares {w} x {h} pixels ({w * h / 1e6:,.0f} "
                              f"megapixels), more than the limit of {limit / 1e6:,.0f} megapixels per picture "
                              "('max_pixels' in Preferences)", "too large")
            total += w * h
        if el.get(_G + "tool"):
            stored_id = el.get(_G + "id")
            before_src = el.get(_G + "before")
            if before_src and before_src in names:
                item.before = before_src
                bsize = _declared_size(zf, before_src, f"{name}:{before_src}", per_layer, None)
                if bsize is None or (limit > 0 and bsize[0] * bsize[1] > limit):
                    item.before = None  # read as damaged: before/after compare off
                    notes.append(f"Layer '{lname}': its 'before' picture is damaged; before/after compare is off.")
                else:
                    total += bsize[0] * bsize[1]
            if stored_id:
                item.attachments = [m for m in by_folder.get(stored_id, ()) if m != before_src]
                total += sum(-(-zf.getinfo(m).file_size // 4) for m in item.attachments)
        plan.append(item)

    if width < 1 or height < 1:
        width, height = _fallback_size(zf, names, plan, per_layer, fail)
        notes.append("stack.xml gives no canvas size; it was taken from the picture.")
        _check_canvas(width, height, limit, fail)
    total += width * height
    if budget > 0 and total > budget:
        raise _refuse(
            name,
            f"its canvas, {len(plan)} layer(s) and their attachments add up to {total / 1e6:,.0f} megapixels, "
            f"more than the document limit of {budget / 1e6:,.0f} megapixels ('max_document_pixels' in the "
            "settings)",
            "too large",
        )

    # -- decode, within the checked sizes
    layers: list[Layer] = []
    active: int | None = None
    icc: bytes | None = None
    used_ids: set[str] = set()
    for item in plan:
        try:
            data = _member(zf, item.src, per_layer, fail)
            loaded = read_image_bytes(data, name=f"{name}:{item.src}", max_pixels=limit)
            del data
        except ImageReadError as exc:
            raise fail(f"layer '{item.lname}' ({item.src}) cannot be read: {exc}") from None
        notes.extend(f"Layer '{item.lname}': {n}" for n in loaded.notes)
        if icc is None and loaded.icc_profile is not None:
            icc = loaded.icc_profile
        layer = _layer_from(item.el, item.lname, loaded.pixels, item.ox, item.oy, item.opacity, item.visible,
                            used_ids, notes, coord)
        layer.result = _result_from(item, zf, limit, per_layer, fail, notes)
        if item.el.get("selected", "").lower() == "true":
            active = len(layers)
        layers.append(layer)
    return OraContents(width, height, layers, active, icc, notes)


def _per_layer_bytes(limit: int, budget: int) -> int:
    """The most bytes one zip member may unpack to: a picture's compressed data is far smaller
    than its pixels; within the document budget too (4 bytes a pixel)."""
    cap = limit * 8 + (1 << 20) if limit > 0 else 1 << 40
    if budget > 0:
        cap = min(cap, budget * 4 + (1 << 20))
    return cap


def _parse_stack_xml(data: bytes, name: str, fail: _Fail) -> ET.Element:
    """stack.xml as an ElementTree, with expat driven directly so that depth, element and layer
    counts are checked while parsing and a DTD (entities, external references) is refused."""
    root: ET.Element | None = None
    open_elements: list[ET.Element] = []
    counts = {"elements": 0, "layers": 0}

    def qname(raw: str) -> str:
        # expat reports namespaced names as "uri}local" with namespace_separator="}"
        return "{" + raw if "}" in raw else raw

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal root
        counts["elements"] += 1
        if len(open_elements) >= MAX_XML_DEPTH:
            raise _Refused(f"its stack.xml nests deeper than {MAX_XML_DEPTH} levels", "too deep")
        if counts["elements"] > MAX_XML_ELEMENTS:
            raise _Refused(f"its stack.xml holds more than {MAX_XML_ELEMENTS:,} elements", "too many elements")
        el = ET.Element(qname(tag), {qname(k): v for k, v in attrs.items()})
        if el.tag == "layer":
            counts["layers"] += 1
            if counts["layers"] > MAX_LAYERS:
                raise _Refused(f"it has more than {MAX_LAYERS:,} layers", "too many layers")
        if open_elements:
            open_elements[-1].append(el)
        elif root is None:
            root = el
        open_elements.append(el)

    def end(_tag: str) -> None:
        open_elements.pop()

    def no_dtd(*_args: Any) -> None:
        raise _Refused("its stack.xml declares a DTD or entities, which OpenRaster files never need", "corrupt")

    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    parser.UnparsedEntityDeclHandler = no_dtd
    parser.ExternalEntityRefHandler = no_dtd
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        if exc.reason == "corrupt":  # a DTD: malformed for OpenRaster, not a limit
            raise fail(str(exc)) from None
        raise _refuse(name, str(exc), exc.reason) from None
    except expat.ExpatError as exc:
        raise fail(f"stack.xml is not valid XML ({exc})") from None
    if root is None:
        raise fail("stack.xml is empty")
    return root


def _check_canvas(width: int, height: int, limit: int, fail: _Fail) -> None:
    if limit > 0 and width * height > limit:
        raise fail(
            f"it declares a {width} x {height} canvas, more than the limit of {limit / 1e6:,.0f} megapixels",
            "too large",
        )


def _walk(
    stack: ET.Element,
    ox: int,
    oy: int,
    opacity: float,
    visible: bool,
    out: list[tuple[ET.Element, int, int, float, bool]],
    notes: list[str],
    coord: Callable[[str | None, str], int],
) -> int:
    """Collect <layer> elements top first, folding nested <stack> groups into their layers
    (the nesting depth is bounded by the parser)."""
    groups = 0
    for child in stack:
        if child.tag == "layer":
            out.append((child, ox, oy, opacity, visible))
        elif child.tag == "stack":
            groups += 1
            op = child.get("composite-op", "svg:src-over")
            if op not in ("svg:src-over", "pass-through"):
                notes.append(f"Group '{child.get('name', '')}': its blend mode {op} was not kept.")
            gname = child.get("name", "")
            groups += _walk(
                child,
                _clamp_coord(ox + coord(child.get("x"), f"group '{gname}' x")),
                _clamp_coord(oy + coord(child.get("y"), f"group '{gname}' y")),
                opacity * _opacity(child.get("opacity")),
                visible and child.get("visibility", "visible") != "hidden",
                out,
                notes,
                coord,
            )
        elif isinstance(child.tag, str):
            notes.append(f"A <{child.tag}> element in stack.xml is not supported and was skipped.")
    return groups


def _layer_from(
    el: ET.Element,
    lname: str,
    pixels: np.ndarray,
    ox: int,
    oy: int,
    group_opacity: float,
    group_visible: bool,
    used_ids: set[str],
    notes: list[str],
    coord: Callable[[str | None, str], int],
) -> Layer:
    op = el.get("composite-op", "svg:src-over")
    blend = _BLEND_OF_OP.get(op)
    if blend is None:
        notes.append(f"Layer '{lname}': blend mode {op} is not supported; it is shown as normal.")
        blend = BlendMode.NORMAL
    try:
        kind = LayerKind(el.get(_G + "kind", "raster"))
    except ValueError:
        notes.append(f"Layer '{lname}': unknown kind {el.get(_G + 'kind')!r}; read as a raster layer.")
        kind = LayerKind.RASTER
    visible = el.get("visibility", "visible") != "hidden"
    if _G + "visible" in el.attrib:
        visible = el.get(_G + "visible") == "true"
    lid = el.get(_G + "id") or ""
    props: dict[str, Any] = {}
    if _SAFE_ID.match(lid) and lid not in used_ids:
        props["id"] = lid
    layer = Layer(
        pixels,
        name=lname,
        x=_clamp_coord(ox + coord(el.get("x"), f"layer '{lname}' x")),
        y=_clamp_coord(oy + coord(el.get("y"), f"layer '{lname}' y")),
        visible=visible and group_visible,
        opacity=_opacity(el.get("opacity")) * group_opacity,
        blend=blend,
        locked=el.get(_G + "locked", el.get("edit-locked", "false")).lower() == "true",
        kind=kind,
        **props,
    )
    used_ids.add(layer.id)
    return layer


def _result_from(
    item: _Planned,
    zf: zipfile.ZipFile,
    limit: int,
    per_member: int,
    fail: _Fail,
    notes: list[str],
) -> ResultInfo | None:
    el = item.el
    tool = el.get(_G + "tool")
    if not tool:
        return None
    lname = el.get("name", "")

    def load_json(attr: str) -> dict[str, Any]:
        raw = el.get(_G + attr)
        if not raw:
            return {}
        try:
            value = loads_bounded(raw, max_bytes=_MAX_XML_BYTES)
        except ValueError:
            notes.append(f"Layer '{lname}': its stored {attr} are unreadable and were dropped.")
            return {}
        return value if isinstance(value, dict) else {}

    info = ResultInfo(
        tool_id=tool,
        plugin=el.get(_G + "plugin", ""),
        model=el.get(_G + "model"),
        params=load_json("params"),
        source_layer_id=el.get(_G + "source"),
        metadata=load_json("metadata"),
    )
    folder = f"ganpaint/{el.get(_G + 'id')}/"
    for member in item.attachments:
        info.attachments[member[len(folder):]] = _member(zf, member, per_member, fail)
    if item.before is not None:
        try:
            data = _member(zf, item.before, per_member, fail)
            info.before = read_image_bytes(data, name=item.before, max_pixels=limit).pixels
        except ImageReadError:
            notes.append(f"Layer '{lname}': its 'before' picture is damaged; before/after compare is off.")
    return info


def _member(zf: zipfile.ZipFile, member: str, max_bytes: int, fail: _Fail) -> bytes:
    info = zf.getinfo(member)
    if info.file_size > max_bytes:
        raise fail(f"'{member}' would unpack to {info.file_size:,} bytes, more than allowed", "too large")
    try:
        return zf.read(member)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise fail(f"'{member}' is damaged ({exc})") from None


def _declared_size(
    zf: zipfile.ZipFile, member: str, label: str, max_bytes: int, fail: _Fail | None
) -> tuple[int, int] | None:
    """A member picture's declared (width, height) from its header. Damaged or over-long
    members raise ``fail`` (None: give None instead), as reading them would."""
    info = zf.getinfo(member)
    try:
        if info.file_size > max_bytes:
            if fail is None:
                return None
            raise fail(f"'{member}' would unpack to {info.file_size:,} bytes, more than allowed", "too large")
        with zf.open(member) as fh:
            return read_image_size(fh, name=label)  # type: ignore[arg-type]
    except ImageReadError:
        return None  # decoding says what is wrong with it
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        if fail is None:
            return None
        raise fail(f"'{member}' is damaged ({exc})") from None


def _fallback_size(
    zf: zipfile.ZipFile, names: set[str], plan: list[_Planned], max_bytes: int, fail: _Fail
) -> tuple[int, int]:
    if "mergedimage.png" in names:
        size = _declared_size(zf, "mergedimage.png", "mergedimage.png", max_bytes, None)
        if size is not None:
            return size
    sized = [p for p in plan if p.size is not None]
    if not sized:
        raise fail("it has neither a canvas size nor any layer")
    return (max(max(_clamp_coord(p.ox + _int(p.el.get("x"), 0)), 0) + p.size[0] for p in sized if p.size),
            max(max(_clamp_coord(p.oy + _int(p.el.get("y"), 0)), 0) + p.size[1] for p in sized if p.size))


def _number(text: str | None) -> float | None:
    """A number attribute: None when absent or not a number; may be inf or nan."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _coord(text: str | None, what: str, name: str) -> int:
    """A position: 0 when absent or not a number; refused when not finite or beyond MAX_COORD."""
    value = _number(text)
    if value is None:
        return 0
    if not math.isfinite(value) or abs(value) > MAX_COORD:
        raise _refuse(name, f"its {what} coordinate {text!r} is not a usable position (beyond "
                      f"+-{MAX_COORD:,} pixels)", "bad coordinate")
    return int(round(value))


def _clamp_coord(value: int) -> int:
    # nested group offsets add up; keep the sum within the same bounds
    return max(-MAX_COORD * 4, min(MAX_COORD * 4, value))


def _dim(text: str | None, what: str, name: str) -> int:
    """A canvas size attribute: 0 when absent (taken from the pictures then); refused when not finite."""
    value = _number(text)
    if value is None:
        return 0
    if not math.isfinite(value) or value > 1 << 31:
        raise _refuse(name, f"its canvas {what}={text!r} is not a usable size", "bad coordinate")
    return int(round(value))


def _int(text: str | None, default: int) -> int:
    value = _number(text)
    if value is None or not math.isfinite(value):
        return default
    return int(round(value))


def _opacity(text: str | None) -> float:
    value = _number(text)
    if value is None or value != value:  # NaN -> opaque
        return 1.0
    return min(1.0, max(0.0, value))
