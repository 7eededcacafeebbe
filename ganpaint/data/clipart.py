"""Clip-art (SVG) into colour pictures and matching line art.

The colour picture is the SVG rendered by cairosvg onto white. The line art is the same
SVG with every fill removed and every stroke made black, rendered at the same size, so
lines sit exactly on the colour picture's outlines. Drawings without strokes (flat
fills only) get their line art from the colour boundaries instead (``method="edges"``);
in drawings with strokes, shapes that have none are outlined by their colour boundaries
too, away from the strokes (``"strokes+edges"``).
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ganpaint.data.lineart import edge_lines

SVG_NS = "http://www.w3.org/2000/svg"
DC = "{http://purl.org/dc/elements/1.1/}"
CC = "{http://web.resource.org/cc/}"
CC2 = "{http://creativecommons.org/ns#}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
MAX_SVG_BYTES = 1_500_000  # larger files are rare, slow to render and mostly maps

_STYLE_FILL = re.compile(r"(?<![-\w])fill\s*:\s*[^;}\"]+")
_STYLE_STROKE = re.compile(r"(?<![-\w])stroke\s*:\s*(?!none)[^;}\"]+")


class ClipartError(ValueError):
    """An SVG that cannot be used (unreadable, empty, too large ...)."""


@dataclass(frozen=True)
class SvgInfo:
    title: str
    author: str
    licence_url: str


@dataclass
class ClipartPair:
    colour: np.ndarray  # (size, size, 3) float32 on white
    lines: np.ndarray   # (size, size) float32, 1 = paper, 0 = ink
    method: str         # "strokes", "strokes+edges" (unstroked shapes outlined) or "edges"
    coverage: float     # share of the square the drawing covers


def _parse(data: bytes) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise ClipartError(f"not a readable SVG ({exc})") from None


def read_info(data: bytes) -> SvgInfo:
    """Title, author (dc:creator) and licence URL (cc:license) from the SVG's RDF metadata."""
    root = _parse(data)
    title = author = lic = ""
    for work in root.iter():
        if work.tag in (CC + "Work", CC2 + "Work"):
            t = work.find(DC + "title")
            title = (t.text or "").strip() if t is not None else ""
            who = work.find(f"{DC}creator/*/{DC}title")
            author = (who.text or "").strip() if who is not None else ""
            for tag in (CC + "license", CC2 + "license"):
                el = work.find(tag)
                if el is not None:
                    lic = el.get(RDF + "resource", "")
            break
    return SvgInfo(title, author, lic)


def _fix_style(style: str) -> str:
    style = _STYLE_FILL.sub("fill:none", style)
    style = re.sub(r"(?<![-\w])fill-opacity\s*:\s*[^;]+", "fill-opacity:0", style)
    style = _STYLE_STROKE.sub("stroke:#000000", style)
    style = re.sub(r"(?<![-\w])stroke-opacity\s*:\s*[^;]+", "stroke-opacity:1", style)
    return style


def strip_fills(data: bytes) -> bytes:
    """The SVG with fills removed and strokes black (text without strokes disappears)."""
    root = _parse(data)
    root.set("fill", "none")
    parents = {c: p for p in root.iter() for c in p}
    drop = []
    for el in root.iter():
        local = el.tag.rsplit("}", 1)[-1]
        if local == "image":  # embedded bitmaps are neither fill nor stroke
            drop.append(el)
            continue
        if local == "style" and el.text:
            el.text = _fix_style(el.text)
        if "fill" in el.attrib:
            el.set("fill", "none")
        stroke = el.get("stroke")
        if stroke is not None and stroke.strip() != "none":
            el.set("stroke", "#000000")
        if "stroke-opacity" in el.attrib:
            el.set("stroke-opacity", "1")
        if "style" in el.attrib:
            el.set("style", _fix_style(el.get("style", "")))
    for el in drop:
        if el in parents:
            parents[el].remove(el)
    return ET.tostring(root)


def _aspect(data: bytes) -> float | None:
    root = _parse(data)
    vb = root.get("viewBox")
    if vb:
        parts = re.split(r"[\s,]+", vb.strip())
        if len(parts) == 4:
            try:
                w, h = float(parts[2]), float(parts[3])
                if w > 0 and h > 0:
                    return w / h
            except ValueError:
                pass
    try:
        w = float(re.match(r"[\d.]+", root.get("width", "")).group())  # type: ignore[union-attr]
        h = float(re.match(r"[\d.]+", root.get("height", "")).group())  # type: ignore[union-attr]
        return w / h if w > 0 and h > 0 else None
    except (AttributeError, ValueError):
        return None


def _render_rgba(data: bytes, width: int, height: int) -> np.ndarray:
    import cairosvg  # optional dependency (the "data" extra); imported only when rendering

    png = cairosvg.svg2png(bytestring=data, output_width=width, output_height=height)
    with Image.open(io.BytesIO(png)) as im:
        rgba = np.asarray(im.convert("RGBA"), np.float32) / 255.0
    return rgba


def _fit(aspect: float, inner: int) -> tuple[int, int]:
    if aspect >= 1:
        return inner, max(1, round(inner / aspect))
    return max(1, round(inner * aspect)), inner


def _place(rgba: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((size, size, 4), np.float32)
    h, w = rgba.shape[:2]
    y, x = (size - h) // 2, (size - w) // 2
    out[y:y + h, x:x + w] = rgba
    return out


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    """Binary dilation by a (2r+1) square, separable, no scipy."""
    out = mask.copy()
    for axis in (0, 1):
        src = out.copy()
        n = src.shape[axis]
        for d in range(1, r + 1):
            lo = [slice(None)] * 2
            hi = [slice(None)] * 2
            lo[axis], hi[axis] = slice(0, n - d), slice(d, n)
            out[tuple(lo)] |= src[tuple(hi)]
            out[tuple(hi)] |= src[tuple(lo)]
    return out


def render_colour(data: bytes, size: int = 256, margin: int = 8, *, min_coverage: float = 0.03) -> np.ndarray:
    """Only the colour picture (on white) of one SVG: (size, size, 3) float32."""
    if len(data) > MAX_SVG_BYTES:
        raise ClipartError(f"too large ({len(data)} bytes)")
    w, h = _fit(_aspect(data) or 1.0, size - 2 * margin)
    try:
        colour = _place(_render_rgba(data, w, h), size)
    except Exception as exc:
        raise ClipartError(f"cannot render ({type(exc).__name__}: {exc})") from None
    alpha = colour[..., 3:]
    if float((alpha > 0.5).mean()) < min_coverage:
        raise ClipartError("nearly empty drawing")
    return (colour[..., :3] * alpha + (1.0 - alpha)).astype(np.float32)


def render_pair(data: bytes, size: int = 256, margin: int = 8, *, min_coverage: float = 0.03,
                min_ink: float = 0.004, max_ink: float = 0.3) -> ClipartPair:
    """Colour picture and line art of one SVG, centred in a ``size`` square with ``margin``.

    Raises :class:`ClipartError` for SVGs that are unreadable, nearly empty, or whose
    line art is empty or a solid blot (lines thicker than the drawing).
    """
    if len(data) > MAX_SVG_BYTES:
        raise ClipartError(f"too large ({len(data)} bytes)")
    aspect = _aspect(data) or 1.0
    w, h = _fit(aspect, size - 2 * margin)
    try:
        colour = _place(_render_rgba(data, w, h), size)
        strokes = _place(_render_rgba(strip_fills(data), w, h), size)
    except ClipartError:
        raise
    except Exception as exc:  # cairosvg raises many types for odd SVGs
        raise ClipartError(f"cannot render ({type(exc).__name__}: {exc})") from None
    alpha = colour[..., 3]
    coverage = float((alpha > 0.5).mean())
    if coverage < min_coverage:
        raise ClipartError(f"nearly empty drawing (covers {coverage:.1%})")
    rgb = colour[..., :3] * alpha[..., None] + (1.0 - alpha[..., None])  # onto white
    ink = np.clip(strokes[..., 3] * 1.5, 0.0, 1.0)
    edges = 1.0 - edge_lines(np.concatenate([rgb, alpha[..., None]], axis=2))
    if float((ink > 0.5).mean()) < min_ink:
        method, ink = "edges", edges
    else:
        # Shapes drawn without a stroke (a filled face next to stroked eyes) still need an
        # outline: add colour boundaries, except beside a stroke (no doubled lines).
        extra = edges * ~_dilate(ink > 0.3, 3)
        method = "strokes+edges" if float((extra > 0.5).mean()) > 0.002 else "strokes"
        ink = np.maximum(ink, extra)
    share = float((ink > 0.5).mean())
    if share < min_ink:
        raise ClipartError("no lines (neither strokes nor colour edges)")
    if share > max_ink:
        raise ClipartError(f"line art is a blot ({share:.0%} ink)")
    return ClipartPair(rgb.astype(np.float32), (1.0 - ink).astype(np.float32), method, coverage)
