"""Reading and writing single pictures (PNG, JPEG, WebP, TIFF, BMP and whatever Pillow reads).

Everything comes in as (h, w, 4) uint8 straight RGBA. Conversions (16-bit, palette, CMYK,
greyscale, EXIF rotation, truncation, a misleading extension) are reported as human
``notes``; failures raise ImageReadError / ImageWriteError naming the file. Writing is
atomic (ganpaint.core.atomic): a failed export leaves the previous file intact.

Pillow's decompression-bomb limit is a process-wide global; we replace it by our own
configurable check of the *declared* size before any pixel is decoded (see _pillow_globals).
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np
from PIL import ExifTags, Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from ganpaint.core.atomic import atomic_write
from ganpaint.core.errors import ImageReadError, ImageWriteError, describe_os_error

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "SUPPORTED_READ",
    "SUPPORTED_WRITE",
    "LoadedImage",
    "file_filter",
    "format_for_path",
    "read_image",
    "read_image_bytes",
    "read_image_size",
    "srgb_profile",
    "write_image",
]

DEFAULT_MAX_PIXELS = 250_000_000  # A0 at 300 dpi is ~140 Mpx; 250 Mpx leaves room

# Extension -> Pillow format name. Reading also accepts anything else Pillow identifies.
_WRITE_FORMATS: dict[str, str] = {
    ".png": "PNG",
    ".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".jfif": "JPEG",
    ".webp": "WEBP",
    ".tif": "TIFF", ".tiff": "TIFF",
    ".bmp": "BMP", ".dib": "BMP",
}
_EXTRA_READ: dict[str, str] = {
    ".gif": "GIF", ".tga": "TGA", ".ico": "ICO",
    ".ppm": "PPM", ".pgm": "PPM", ".pbm": "PPM", ".pnm": "PPM",
}
SUPPORTED_WRITE: tuple[str, ...] = tuple(_WRITE_FORMATS)
SUPPORTED_READ: tuple[str, ...] = SUPPORTED_WRITE + tuple(_EXTRA_READ)

# Formats Pillow may report for a file whose extension names another (camera JPEGs are MPO).
_SAME_FORMAT = {"MPO": "JPEG", "DIB": "BMP"}

_PIL_LOCK = threading.RLock()


@dataclass
class LoadedImage:
    """A decoded picture. ``pixels`` is (h, w, 4) uint8 straight RGBA.

    ``icc_profile`` is the file's RGB colour profile (the pixels are in that space), or None
    for sRGB (including pictures we converted to sRGB). ``format`` is Pillow's format name
    ("PNG", "JPEG", ...) detected from the content; ``size`` is (width, height).
    """

    pixels: np.ndarray
    icc_profile: bytes | None
    notes: list[str] = field(default_factory=list)
    format: str = ""
    size: tuple[int, int] = (0, 0)


# --------------------------------------------------------------------------- reading


def read_image(
    path: str | os.PathLike[str],
    *,
    max_pixels: int | None = None,
    allow_truncated: bool = False,
) -> LoadedImage:
    """Decode ``path`` into straight RGBA uint8.

    ``max_pixels`` (default DEFAULT_MAX_PIXELS; the GUI/CLI pass Settings.max_pixels) bounds
    the declared width x height, checked before decoding. A truncated file raises
    ImageReadError with ``truncated=True`` unless ``allow_truncated``, in which case the
    readable part is returned with a note.
    """
    name = os.fspath(path)
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else int(max_pixels)
    with _open_for_reading(name) as fh:
        return _decode_or_partial(fh, name, limit, allow_truncated)


def read_image_bytes(
    data: bytes,
    *,
    name: str = "<memory>",
    max_pixels: int | None = None,
    allow_truncated: bool = False,
) -> LoadedImage:
    """read_image for a picture held in memory (zip members, the clipboard); ``name`` is
    used in messages and for the extension check."""
    if not data:
        raise ImageReadError(f"Cannot open '{name}': it is empty (0 bytes).", path=name, reason="empty")
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else int(max_pixels)
    return _decode_or_partial(io.BytesIO(data), name, limit, allow_truncated)


def read_image_size(fh: BinaryIO, *, name: str = "<memory>") -> tuple[int, int]:
    """The (width, height) a picture declares, read from its header without decoding any
    pixel (a few kilobytes are read from ``fh``, which may be a zip member). Used to check
    budgets before decoding. Raises ImageReadError when the header is not a picture's."""
    try:
        with _pillow_globals(max_pixels=None), Image.open(fh) as im:
            width, height = im.size
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for bad headers
        raise ImageReadError(
            f"Cannot open '{name}': its header is not that of a picture GANPaint can read ({type(exc).__name__}).",
            path=name, reason="not an image",
        ) from None
    return int(width), int(height)


def _decode_or_partial(fh: BinaryIO, name: str, limit: int, allow_truncated: bool) -> LoadedImage:
    head = fh.read(64)
    fh.seek(0)
    try:
        return _decode(fh, name, head, limit, truncated=False)
    except ImageReadError as exc:
        if not (exc.truncated and allow_truncated):
            raise
    fh.seek(0)
    loaded = _decode(fh, name, head, limit, truncated=True)
    loaded.notes.insert(0, "The file is truncated: only its readable part was opened; the rest is empty.")
    return loaded


def _open_for_reading(name: str) -> BinaryIO:
    def fail(reason: str, detail: str) -> ImageReadError:
        return ImageReadError(f"Cannot open '{name}': {detail}.", path=name, reason=reason)

    if os.path.isdir(name):
        raise fail("is a folder", "it is a folder, not a picture")
    try:
        fh = open(name, "rb")  # noqa: SIM115 - closed by the caller's with-block
    except FileNotFoundError:
        raise fail("not found", "no such file") from None
    except PermissionError:
        raise fail("permission denied", "permission denied") from None
    except OSError as exc:
        raise fail(describe_os_error(exc), describe_os_error(exc)) from None
    try:
        size = os.fstat(fh.fileno()).st_size
    except OSError:
        size = -1
    if size == 0:
        fh.close()
        raise fail("empty", "the file is empty (0 bytes)")
    return fh


def _decode(fh: BinaryIO, name: str, head: bytes, limit: int, *, truncated: bool) -> LoadedImage:
    notes: list[str] = []
    sniffed = _sniff(head)
    try:
        with _pillow_globals(max_pixels=None):
            opened = Image.open(fh)
    except UnidentifiedImageError:
        if head.startswith(b"PK\x03\x04") and b"image/openraster" in head:
            raise ImageReadError(
                f"Cannot open '{name}' as a single picture: it is an OpenRaster document (open it with "
                "ganpaint.core.ora.load_ora).", path=name, reason="openraster",
            ) from None
        if sniffed:
            raise ImageReadError(
                f"Cannot open '{name}': it starts like a {sniffed} file but is damaged or truncated.",
                path=name, reason="corrupt",
            ) from None
        raise ImageReadError(
            f"Cannot open '{name}': it is not a picture, or not one in a format GANPaint can read.",
            path=name, reason="not an image",
        ) from None
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as exc:
        raise ImageReadError(
            f"Cannot open '{name}': the file is damaged ({exc}).", path=name, reason="corrupt"
        ) from None

    im: Image.Image = opened
    fmt = opened.format or ""  # transposed copies lose it
    width, height = im.size
    if limit > 0 and width * height > limit:
        raise ImageReadError(
            f"Refused to open '{name}': it declares {width} x {height} pixels "
            f"({width * height / 1e6:,.0f} megapixels), more than the limit of {limit / 1e6:,.0f} "
            "megapixels; it may be a decompression bomb. The limit is 'max_pixels' in Preferences.",
            path=name, reason="too large",
        )
    _note_format(name, fmt, notes)
    rawmode = _rawmode(opened)
    try:
        with _pillow_globals(max_pixels=limit if limit > 0 else None, load_truncated=truncated):
            im.load()
            frames = getattr(im, "n_frames", 1)
            orientation = _orientation(im, notes)
            if orientation not in (None, 1):
                im = ImageOps.exif_transpose(im)
                notes.append(f"Rotated/flipped upright as its EXIF orientation ({orientation}) says.")
            rgba, icc = _to_rgba(im, rawmode, notes, name)
    except ImageReadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageReadError(
            f"Refused to open '{name}': a part of it is larger than the limit of "
            f"{limit / 1e6:,.0f} megapixels ({exc}).", path=name, reason="too large",
        ) from None
    except MemoryError:
        raise ImageReadError(
            f"Cannot open '{name}': not enough memory to decode {width} x {height} pixels.",
            path=name, reason="out of memory",
        ) from None
    except Exception as exc:  # Pillow raises many types for bad data (OSError, SyntaxError, zlib.error)
        if "truncated" in str(exc).lower() and not truncated:
            raise ImageReadError(
                f"Cannot open '{name}': the file is truncated (it ends before the picture does).",
                path=name, reason="truncated", truncated=True,
            ) from None
        raise ImageReadError(
            f"Cannot open '{name}': the picture data is damaged ({exc}).", path=name, reason="corrupt"
        ) from None
    if isinstance(frames, int) and frames > 1:
        notes.append(f"The file holds {frames} frames/pages; the first one was opened.")
    h, w = rgba.shape[:2]
    return LoadedImage(pixels=rgba, icc_profile=icc, notes=notes, format=fmt, size=(w, h))


@contextlib.contextmanager
def _pillow_globals(*, max_pixels: int | None, load_truncated: bool = False) -> Iterator[None]:
    """Set Pillow's process-wide limits for one decode, under a lock.

    Opening only parses the header, so it runs with Pillow's bomb check off (our own check on
    the declared size follows). Decoding runs with Pillow's limit raised to ours, never lowered.
    """
    with _PIL_LOCK:
        saved = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
        if max_pixels is None or saved[0] is None:
            Image.MAX_IMAGE_PIXELS = None
        else:
            Image.MAX_IMAGE_PIXELS = max(saved[0], max_pixels)
        ImageFile.LOAD_TRUNCATED_IMAGES = load_truncated
        try:
            with warnings.catch_warnings():
                # a frame or tile beyond the limit is refused, not merely warned about
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                yield
        finally:
            Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = saved


def _sniff(head: bytes) -> str:
    """The format a file's first bytes announce ('' when unknown)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head.startswith(b"BM"):
        return "BMP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    return ""


def _note_format(name: str, fmt: str, notes: list[str]) -> None:
    ext = Path(name).suffix.lower()
    expected = _WRITE_FORMATS.get(ext) or _EXTRA_READ.get(ext)
    actual = _SAME_FORMAT.get(fmt, fmt)
    if expected and actual and expected != actual:
        notes.append(f"The file is a {actual} picture although its name ends in '{ext}'; it was read as {actual}.")


def _rawmode(im: ImageFile.ImageFile) -> str:
    # The decoder's raw mode tells 16-bit sources apart (Pillow keeps only 8 bits of RGB);
    # it is gone after load(), so read it first.
    try:
        args = im.tile[0].args if im.tile else None
    except (AttributeError, IndexError):
        return ""
    if isinstance(args, str):
        return args
    if isinstance(args, tuple) and args and isinstance(args[0], str):
        return args[0]
    return ""


def _orientation(im: Image.Image, notes: list[str]) -> int | None:
    try:
        value = im.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # malformed EXIF must not stop the picture from opening
        notes.append("Its EXIF data is unreadable; orientation was not applied.")
        return None
    return value if isinstance(value, int) else None


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """The ICC bytes of LittleCMS's built-in sRGB profile (embedded in every export)."""
    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def _profile_space(icc: bytes) -> str | None:
    """The colour space of an ICC profile ('RGB', 'CMYK', 'GRAY', ...) or None if unreadable."""
    try:
        prof = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return str(prof.profile.xcolor_space).strip() or None
    except (OSError, ImageCms.PyCMSError, TypeError, ValueError):
        return None


def _via_profile(im: Image.Image, icc: bytes | None, label: str, notes: list[str]) -> Image.Image:
    """Convert a CMYK or greyscale picture to sRGB RGB, through its profile when usable."""
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            out = ImageCms.profileToProfile(
                im, src, ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")), outputMode="RGB"
            )
            if out is not None:
                notes.append(f"{label} converted to sRGB through its embedded colour profile.")
                return out
        except (OSError, ImageCms.PyCMSError, ValueError):
            pass
        notes.append(f"{label}: its colour profile could not be used; converted without it (colours approximate).")
    else:
        notes.append(f"{label} converted to sRGB.")
    return im.convert("RGB")


def _to_rgba(im: Image.Image, rawmode: str, notes: list[str], name: str) -> tuple[np.ndarray, bytes | None]:
    icc: bytes | None = im.info.get("icc_profile") or None
    mode = im.mode
    if ";16" in rawmode and mode in ("RGB", "RGBA"):
        notes.append("16 bits per channel reduced to 8 bits.")
    if mode in ("RGB", "RGBA", "RGBX", "RGBa", "P", "PA"):
        if mode in ("P", "PA"):
            notes.append("Indexed-colour (palette) picture converted to RGBA.")
        rgba = im.convert("RGBA")  # P with a transparent index becomes real alpha
        if icc is not None and _profile_space(icc) != "RGB":
            notes.append("Its embedded colour profile is not a usable RGB profile; treated as sRGB.")
            icc = None
        return np.array(rgba, dtype=np.uint8), icc

    alpha: np.ndarray | None = None
    if mode == "CMYK":
        rgb = _via_profile(im, icc, "CMYK picture", notes)
    elif mode in ("1", "L", "LA", "La"):
        if mode in ("LA", "La"):
            la = im.convert("LA")
            alpha = np.array(la.getchannel("A"), dtype=np.uint8)
            im = la.getchannel("L")
        grey = im.convert("L")
        label = "Black-and-white picture" if mode == "1" else "Greyscale picture"
        rgb = _via_profile(grey, icc if _profile_space(icc or b"") == "GRAY" else None, label, notes)
    elif mode.startswith("I") or mode == "F":
        grey8 = _wide_grey_to_8bit(im, notes)
        rgb = Image.fromarray(grey8, "L").convert("RGB")
    elif mode == "LAB":
        lab = ImageCms.createProfile("LAB")
        srgb = ImageCms.createProfile("sRGB")
        rgb = ImageCms.profileToProfile(im, lab, srgb, outputMode="RGB") or im.convert("RGB")
        notes.append("CIE Lab picture converted to sRGB.")
    else:
        try:
            rgb = im.convert("RGB")
        except (ValueError, OSError) as exc:
            raise ImageReadError(
                f"Cannot open '{name}': its colour mode {mode!r} is not supported ({exc}).",
                path=name, reason="unsupported",
            ) from None
        notes.append(f"{mode} picture converted to sRGB.")
    out = np.empty((rgb.height, rgb.width, 4), dtype=np.uint8)
    out[..., :3] = np.asarray(rgb.convert("RGB"), dtype=np.uint8)
    out[..., 3] = 255 if alpha is None else alpha
    return out, None  # the pixels are sRGB now


def _wide_grey_to_8bit(im: Image.Image, notes: list[str]) -> np.ndarray:
    # Pillow's convert("L") clips 16-bit values instead of scaling them, so scale here.
    arr = np.asarray(im)
    if im.mode.startswith("I;16") or (im.mode == "I" and arr.size and 0 <= arr.min() and arr.max() <= 65535):
        notes.append("16-bit greyscale picture converted to 8-bit sRGB.")
        return np.round(arr.astype(np.float64) / 257.0).astype(np.uint8)
    data = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    top = float(data.max()) if data.size else 1.0
    if im.mode == "F" and top <= 1.0:
        notes.append("32-bit floating-point greyscale picture converted to 8-bit sRGB.")
        scale = 1.0
    else:
        notes.append(f"{im.mode}-mode greyscale picture scaled by its brightest value to 8-bit sRGB.")
        scale = top if top > 0 else 1.0
    out: np.ndarray = np.round(np.clip(data / scale, 0.0, 1.0) * 255.0).astype(np.uint8)
    return out


# --------------------------------------------------------------------------- writing


def format_for_path(path: str | os.PathLike[str]) -> str | None:
    """Pillow's format name for writing ``path`` ('PNG', 'JPEG', 'WEBP', 'TIFF', 'BMP') or None."""
    return _WRITE_FORMATS.get(Path(os.fspath(path)).suffix.lower())


def write_image(
    path: str | os.PathLike[str],
    rgba: np.ndarray,
    *,
    icc_profile: bytes | None = None,
    quality: int = 95,
) -> list[str]:
    """Write (h, w, 4) (or (h, w, 3)) uint8 straight RGBA to ``path``, format by extension.

    Embeds ``icc_profile`` when it is an RGB profile, else sRGB (BMP: the header says sRGB).
    JPEG flattens transparency onto white. ``quality`` (1..100) applies to JPEG and WebP;
    WebP at 100 is lossless. Atomic. Returns notes (e.g. the JPEG flattening).
    """
    name = os.fspath(path)
    fmt = format_for_path(name)
    if fmt is None:
        ext = Path(name).suffix or "(none)"
        raise ImageWriteError(
            f"Cannot write '{name}': unknown picture type '{ext}'; use one of {', '.join(SUPPORTED_WRITE)}.",
            path=name, reason="unknown format",
        )
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] not in (3, 4) or 0 in rgba.shape[:2]:
        raise ValueError(f"write_image({name!r}): expected (h, w, 4) uint8 pixels, got {rgba.shape} {rgba.dtype}")
    if not 1 <= quality <= 100:
        raise ValueError(f"write_image({name!r}): quality must be 1..100, got {quality}")
    if os.path.isdir(name):
        raise ImageWriteError(f"Cannot write '{name}': it is a folder.", path=name, reason="is a folder")

    notes: list[str] = []
    if rgba.shape[2] == 3:
        rgba = np.dstack([rgba, np.full(rgba.shape[:2], 255, np.uint8)])
    opaque = bool((rgba[..., 3] == 255).all())
    icc = icc_profile if icc_profile and _profile_space(icc_profile) == "RGB" else srgb_profile()
    if icc_profile and icc is not icc_profile:
        notes.append("The given colour profile is not an RGB profile; sRGB was embedded instead.")

    kwargs: dict[str, Any] = {"icc_profile": icc}
    if fmt == "JPEG":
        if not opaque:
            notes.append("JPEG has no transparency: transparent areas were flattened onto white.")
        im = Image.fromarray(_flatten_on_white(rgba), "RGB")
        # 4:4:4 chroma at high quality: painted edges in saturated colours stay crisp.
        kwargs.update(quality=quality, subsampling=0 if quality >= 90 else 2, optimize=True)
    elif fmt == "PNG":
        im = Image.fromarray(np.ascontiguousarray(rgba[..., :3]) if opaque else rgba)
        kwargs.update(compress_level=6)
    elif fmt == "WEBP":
        im = Image.fromarray(rgba)
        kwargs.update(quality=quality, lossless=quality >= 100, exact=True, method=4)
    elif fmt == "TIFF":
        im = Image.fromarray(np.ascontiguousarray(rgba[..., :3]) if opaque else rgba)
        kwargs.update(compression="tiff_adobe_deflate")
    else:  # BMP
        im = Image.fromarray(np.ascontiguousarray(rgba[..., :3]), "RGB")
        kwargs = {}

    try:
        with atomic_write(name) as fh:
            if fmt == "BMP" and not opaque:
                fh.write(_bmp_v4_rgba(rgba))
            else:
                im.save(fh, format=fmt, **kwargs)
    except OSError as exc:
        reason = describe_os_error(exc)
        raise ImageWriteError(f"Cannot write '{name}': {reason}.", path=name, reason=reason) from None
    except (ValueError, TypeError, struct.error) as exc:
        raise ImageWriteError(f"Cannot write '{name}': encoding failed ({exc}).", path=name, reason="encoder") from None
    return notes


def _flatten_on_white(rgba: np.ndarray) -> np.ndarray:
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * a + 255.0 * (1.0 - a)
    out: np.ndarray = np.clip(np.round(rgb), 0, 255).astype(np.uint8)
    return out


def _bmp_v4_rgba(rgba: np.ndarray) -> bytes:
    """A 32-bit BMP with a BITMAPV4HEADER and an alpha mask, marked sRGB.

    Pillow's own BMP writer stores RGBA in a 40-byte header whose fourth byte readers treat as
    padding, so transparency would be lost; the V4 header with BI_BITFIELDS is what Windows,
    GIMP, Krita and Pillow read as alpha.
    """
    h, w = rgba.shape[:2]
    pixels = np.ascontiguousarray(rgba[::-1, :, [2, 1, 0, 3]]).tobytes()  # bottom-up BGRA
    header_size = 108
    offset = 14 + header_size
    file_header = struct.pack("<2sIHHI", b"BM", offset + len(pixels), 0, 0, offset)
    info = struct.pack(
        "<IiiHHIIiiII", header_size, w, h, 1, 32, 3, len(pixels), 2835, 2835, 0, 0
    )
    masks = struct.pack("<IIII", 0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000)
    colour_space = struct.pack("<I", 0x73524742) + bytes(36) + bytes(12)  # 'sRGB', endpoints, gamma
    return file_header + info + masks + colour_space + pixels


# --------------------------------------------------------------------------- dialogs


_FILTER_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("PNG", (".png",)),
    ("JPEG", (".jpg", ".jpeg", ".jpe", ".jfif")),
    ("WebP", (".webp",)),
    ("TIFF", (".tif", ".tiff")),
    ("BMP", (".bmp", ".dib")),
)


def file_filter(kind: Literal["open", "export", "save"] = "open") -> str:
    """Name filters for file dialogs, ';;'-separated (Qt's format).

    open: every readable type including OpenRaster; export: the flat picture formats;
    save: OpenRaster (the layered native format).
    """
    def pattern(exts: tuple[str, ...]) -> str:
        return " ".join(f"*{e}" for e in exts)

    ora = "OpenRaster (*.ora)"
    groups = [f"{label} ({pattern(exts)})" for label, exts in _FILTER_GROUPS]
    if kind == "save":
        return ora
    if kind == "export":
        return ";;".join(groups)
    everything = pattern((".ora",) + SUPPORTED_READ)
    return ";;".join([f"All supported pictures ({everything})", ora, *groups, "All files (*)"])
