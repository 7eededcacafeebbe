"""numpy RGBA <-> QImage conversion.

The document holds straight (not premultiplied) RGBA uint8. Qt paints fastest from
``Format_ARGB32_Premultiplied`` (BGRA bytes on little-endian machines), so the canvas
keeps its composite cache in that format and this module converts regions into it.
Premultiplied formats never leave ganpaint.qt.
"""

from __future__ import annotations

import sys

import numpy as np
from PySide6.QtGui import QImage

# Byte order of Format_ARGB32(_Premultiplied) in memory: a 32-bit 0xAARRGGBB word.
_LITTLE = sys.byteorder == "little"
_BGRA_ORDER = (2, 1, 0, 3) if _LITTLE else (3, 0, 1, 2)  # index into RGBA for each memory byte


def rgba_to_qimage(rgba: np.ndarray) -> QImage:
    """A deep-copied ``Format_RGBA8888`` QImage of an (h, w, 4) straight uint8 array
    (or (h, w, 3) RGB, or (h, w) grey)."""
    arr = np.asarray(rgba)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"expected an (h, w, 3|4) array, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = np.clip(np.asarray(arr, dtype=np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if arr.shape[2] == 3:
        arr = np.concatenate([arr, np.full(arr.shape[:2] + (1,), 255, np.uint8)], axis=2)
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    img = QImage(arr.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
    return img.copy()  # detach from the numpy buffer


def qimage_to_rgba(image: QImage) -> np.ndarray:
    """An (h, w, 4) straight uint8 RGBA copy of any QImage."""
    img = image.convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    if w == 0 or h == 0:
        return np.zeros((h, w, 4), np.uint8)
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.bytesPerLine() * h)
    buf = buf.reshape(h, img.bytesPerLine())[:, : 4 * w]
    return buf.reshape(h, w, 4).copy()


def premultiply_into(dst_bgra: np.ndarray, rgba: np.ndarray) -> None:
    """Write straight ``rgba`` (h, w, 4 uint8) into ``dst_bgra``, a view of an
    ARGB32-premultiplied buffer of the same (h, w), premultiplying on the way.

    Integer maths with rounding, (c * a + 127) // 255, keeps opaque pixels exact.
    """
    a = rgba[:, :, 3:4].astype(np.uint16)
    rgb = (rgba[:, :, :3].astype(np.uint16) * a + 127) // 255
    if _LITTLE:
        dst_bgra[:, :, 0] = rgb[:, :, 2]
        dst_bgra[:, :, 1] = rgb[:, :, 1]
        dst_bgra[:, :, 2] = rgb[:, :, 0]
        dst_bgra[:, :, 3] = rgba[:, :, 3]
    else:
        dst_bgra[:, :, 0] = rgba[:, :, 3]
        dst_bgra[:, :, 1:4] = rgb


class ArgbBuffer:
    """A numpy-owned ARGB32-premultiplied image that a QImage paints from without copies.

    ``array`` is (h, w, 4) uint8 in memory byte order; ``image`` is a QImage over the
    same memory (kept valid as long as this object lives).
    """

    def __init__(self, width: int, height: int) -> None:
        self.width = max(1, int(width))
        self.height = max(1, int(height))
        self.array = np.zeros((self.height, self.width, 4), np.uint8)
        self.image = QImage(
            self.array.data, self.width, self.height, 4 * self.width,
            QImage.Format.Format_ARGB32_Premultiplied,
        )

    def write(self, x: int, y: int, rgba: np.ndarray) -> None:
        """Write a straight RGBA block with its top-left corner at (x, y)."""
        h, w = rgba.shape[:2]
        premultiply_into(self.array[y : y + h, x : x + w], rgba)

    def read_rgba(self) -> np.ndarray:
        """The buffer as straight RGBA (for tests)."""
        order = _BGRA_ORDER
        out = np.empty_like(self.array)
        for mem_i, rgba_i in enumerate(order):
            out[:, :, rgba_i] = self.array[:, :, mem_i]
        a = out[:, :, 3:4].astype(np.uint32)
        rgb = out[:, :, :3].astype(np.uint32)
        safe = np.maximum(a, 1)
        out[:, :, :3] = np.where(a > 0, np.minimum((rgb * 255 + safe // 2) // safe, 255), 0).astype(np.uint8)
        return out
