"""Compositing of straight-alpha RGBA uint8 layers, limited to a region.

The maths follows the W3C "Compositing and Blending" model: with backdrop colour Cb and
alpha ab, source colour Cs and alpha as (layer alpha times layer opacity),

    co = as * (1 - ab) * Cs + as * ab * B(Cb, Cs) + (1 - as) * ab * Cb     (premultiplied)
    ao = as + ab * (1 - as)

The accumulator is kept premultiplied (cb = ab * Cb), which makes every mode here free of
divisions: ab * B(Cb, Cs) is written in terms of cb and ab, and NORMAL is one formula on
all four channels. Only the final conversion to straight alpha divides. Work is float32
on the requested rect only, in tiles, so a full 4096x4096 composite never allocates more
than a few MB at once; hidden (under an opaque layer) and empty layer tiles are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ganpaint.core.geometry import Rect
from ganpaint.core.layers import BlendMode

__all__ = ["Compositable", "blend_over", "composite_layers", "to_rgba8"]

_INV255 = np.float32(1.0 / 255.0)
_TILE = 128  # side of the tiles a large rect is cut into: 256 KB of float32 RGBA stays in cache


class Compositable(Protocol):
    """What the compositor reads from a layer (Layer satisfies it)."""

    pixels: np.ndarray
    x: int
    y: int
    visible: bool
    opacity: float
    blend: BlendMode


def blend_over(
    acc: np.ndarray, src: np.ndarray, opacity: float, mode: BlendMode, *, empty: bool = False
) -> None:
    """Composite ``src`` onto ``acc``, in place.

    ``src``: (h, w, 4) uint8 straight RGBA. ``acc``: (h, w, 4) float32 premultiplied RGBA.
    ``empty=True`` promises ``acc`` is all zero (the first layer): every mode is then a copy.
    """
    s = src.astype(np.float32)
    a_s = s[:, :, 3:4] * np.float32(opacity / 255.0)  # (h, w, 1): source alpha with opacity
    if empty:
        s *= a_s * _INV255
        s[:, :, 3:4] = a_s
        acc[...] = s
        return
    inv = 1.0 - a_s
    if mode is BlendMode.NORMAL:
        # Premultiplied "over" is the same formula for colour and alpha:
        # acc = src_premul + (1 - as) * acc, on all four channels at once (contiguous).
        s *= a_s * _INV255
        s[:, :, 3:4] = a_s
        acc *= inv
        acc += s
        return
    # The other modes also work on all four channels (numpy is slow on (h, w, 3) views of
    # (h, w, 4) arrays); the alpha channel's value is computed separately and written last.
    cs = s
    cs *= _INV255
    cb = acc
    ab = acc[:, :, 3:4].copy()
    mixed: np.ndarray
    if mode is BlendMode.MULTIPLY:
        mixed = cb * cs  # ab * Cb*Cs
    elif mode is BlendMode.SCREEN:
        mixed = ab - cb  # ab * (Cb + Cs - Cb*Cs) = cb + Cs*(ab - cb)
        mixed *= cs
        mixed += cb
    elif mode is BlendMode.OVERLAY:
        # hard-light(Cs, Cb) chosen by the backdrop: Cb <= 0.5 <=> cb <= 0.5*ab
        #   low:  ab * 2*Cb*Cs                       = 2*cs*cb
        #   high: ab * screen(Cb, 2*Cs - 1)          = cb + (2*Cs - 1)*(ab - cb)
        two_cs = cs * 2.0
        mixed = ab - cb
        mixed *= two_cs - 1.0
        mixed += cb
        # Select the low branch arithmetically: masked/where ops are slow on random masks.
        low = (cb <= ab * 0.5).astype(np.float32)
        low *= cb * two_cs - mixed
        mixed += low
    else:  # pragma: no cover - the enum is closed
        raise ValueError(f"unknown blend mode {mode!r}")
    # co = as*(1-ab)*Cs + as*mixed + (1-as)*cb ;  ao = as + (1-as)*ab
    co = cs * (1.0 - ab)
    co += mixed
    co *= a_s
    acc *= inv
    acc += co
    ab *= inv
    ab += a_s
    acc[:, :, 3:4] = ab


def to_rgba8(acc: np.ndarray) -> np.ndarray:
    """Premultiplied float32 accumulator (h, w, 4) -> straight RGBA uint8 (h, w, 4), rounded."""
    alpha = acc[:, :, 3:4]
    res: np.ndarray
    if alpha.min() >= 1.0:  # opaque everywhere (the usual picture): nothing to un-premultiply
        res = np.minimum(acc, 1.0)
    else:
        res = np.zeros(acc.shape, np.float32)
        np.divide(acc, alpha, out=res, where=alpha > 0.0)
        res[:, :, 3:4] = alpha
    np.clip(res, 0.0, 1.0, out=res)
    res *= 255.0
    res += 0.5  # the uint8 cast truncates: +0.5 makes it round half up
    return res.astype(np.uint8)


_Part = tuple[Compositable, Rect, np.ndarray]


def _visible_parts(layers: Sequence[Compositable], rect: Rect) -> tuple[list[_Part], bool]:
    """The layer pieces that show in ``rect``, and whether the first one is opaque over all of it.

    Walks from the top down and stops at the first opaque NORMAL layer that covers the whole
    rect (everything under it is hidden), so a tile under a stack of opaque results costs
    the layers above the topmost one, not all of them."""
    above: list[_Part] = []
    for layer in reversed(layers):
        if not layer.visible or layer.opacity <= 0.0:
            continue
        h, w = layer.pixels.shape[:2]
        lrect = Rect(layer.x, layer.y, w, h)
        inter = rect.intersect(lrect)
        if inter.is_empty():
            continue
        src = layer.pixels[inter.slices_in(lrect)]
        if (
            inter == rect
            and layer.opacity >= 1.0
            and BlendMode(layer.blend) is BlendMode.NORMAL
            and bool((src[:, :, 3] == 255).all())
        ):
            above.reverse()
            return [(layer, inter, src), *_nonempty(above)], True
        above.append((layer, inter, src))
    above.reverse()
    return _nonempty(above), False


def _nonempty(parts: list[_Part]) -> list[_Part]:
    # Fully transparent pieces (sparse paint layers, new layers) change nothing.
    return [p for p in parts if p[2][:, :, 3].any()]


def _composite_into(acc: np.ndarray, parts: list[_Part], rect: Rect, acc_has_content: bool) -> None:
    first = not acc_has_content
    for layer, inter, src in parts:
        blend_over(acc[inter.slices_in(rect)], src, layer.opacity, BlendMode(layer.blend),
                   empty=first and inter == rect)
        first = False


def composite_layers(
    layers: Sequence[Compositable], rect: Rect, background: np.ndarray | None = None
) -> np.ndarray:
    """Composite ``layers`` (bottom -> top, canvas coordinates) over ``rect``.

    Returns an (rect.h, rect.w, 4) uint8 straight-alpha array; pixels no layer covers are
    transparent (or ``background``, an RGBA uint8 array of the rect's shape, when given).
    Large rects are done in tiles, so memory stays small and hidden or empty parts of
    layers are skipped tile by tile.
    """
    if rect.is_empty():
        return np.zeros((max(rect.h, 0), max(rect.w, 0), 4), np.uint8)
    out = np.empty((rect.h, rect.w, 4), np.uint8)
    for ty in range(0, rect.h, _TILE):
        for tx in range(0, rect.w, _TILE):
            sub = Rect(rect.x + tx, rect.y + ty, min(_TILE, rect.w - tx), min(_TILE, rect.h - ty))
            parts, opaque_base = _visible_parts(layers, sub)
            dst = out[ty : ty + sub.h, tx : tx + sub.w]
            if opaque_base and len(parts) == 1:
                dst[...] = parts[0][2]  # one opaque layer shows as it is (a photo): no maths
                continue
            acc = np.zeros((sub.h, sub.w, 4), np.float32)
            if background is not None and not opaque_base:
                blend_over(acc, background[ty : ty + sub.h, tx : tx + sub.w], 1.0, BlendMode.NORMAL)
            _composite_into(acc, parts, sub, acc_has_content=background is not None and not opaque_base)
            dst[...] = to_rgba8(acc)
    return out
