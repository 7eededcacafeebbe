"""Reading and writing single pictures: every format, and every colour conversion, with notes."""

from __future__ import annotations

import io
import itertools
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganpaint.core import imageio
from ganpaint.core.errors import ImageWriteError
from ganpaint.core.imageio import (
    SUPPORTED_READ,
    SUPPORTED_WRITE,
    file_filter,
    format_for_path,
    read_image,
    srgb_profile,
    write_image,
)


def _rgba(h: int = 24, w: int = 32, seed: int = 0, opaque: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    if opaque:
        a[..., 3] = 255
    return a


def _smooth(h: int = 32, w: int = 48) -> np.ndarray:
    """An opaque gradient picture that lossy codecs keep within a few levels."""
    y, x = np.mgrid[0:h, 0:w]
    out = np.empty((h, w, 4), np.uint8)
    out[..., 0] = (x * 255 // (w - 1)).astype(np.uint8)
    out[..., 1] = (y * 255 // (h - 1)).astype(np.uint8)
    out[..., 2] = 128
    out[..., 3] = 255
    return out


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png16_rgb(arr: np.ndarray) -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write one)."""
    h, w, _ = arr.shape
    raw = b"".join(b"\x00" + arr[r].astype(">u2").tobytes() for r in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(raw)) + _png_chunk(b"IEND", b"")


def _tiff16(arr: np.ndarray, alpha: bool = False) -> bytes:
    """An uncompressed 16-bit-per-channel RGB(A) TIFF, as scanners and raw developers write."""
    h, w, c = arr.shape
    data = arr.astype("<u2").tobytes()
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, c, 0), (259, 3, 1, 1), (262, 3, 1, 2),
               (273, 4, 1, 0), (277, 3, 1, c), (278, 4, 1, h), (279, 4, 1, len(data)), (284, 3, 1, 1)]
    if alpha:
        entries.append((338, 3, 1, 2))  # unassociated alpha
    bps_off = 8 + 2 + 12 * len(entries) + 4
    data_off = bps_off + 2 * c
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        value = {258: bps_off, 273: data_off}.get(tag, value)
        packed = struct.pack("<HH", value, 0) if typ == 3 and count == 1 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, typ, count) + packed
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack(f"<{c}H", *([16] * c)) + data


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _cmyk_profile(lightness) -> bytes:  # type: ignore[no-untyped-def]
    """A minimal ICC v2 CMYK->Lab profile (lut8 A2B0, 2-point grid) with L* = lightness(c,m,y,k), a*=b*=0.

    Built by hand because no CMYK profile ships with Pillow or the system.
    """
    clut = bytearray()
    for c, m, y, k in itertools.product(range(2), repeat=4):
        clut += bytes([round(lightness(c, m, y, k) * 255 / 100), 128, 128])
    ident = bytes(range(256))
    lut = b"mft1" + bytes(4) + bytes([4, 3, 2, 0]) + b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    lut += ident * 4 + bytes(clut) + ident * 3
    desc_text = b"test CMYK\0"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(desc_text)) + desc_text + bytes(8) + bytes(3) + bytes(67)
    tags = [
        (b"desc", desc),
        (b"wtpt", b"XYZ " + bytes(4) + _s15(0.9642) + _s15(1.0) + _s15(0.8249)),
        (b"cprt", b"text" + bytes(4) + b"none\0"),
        (b"A2B0", lut),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = struct.pack(">I", len(tags)), b""
    for sig, data in tags:
        data += bytes(-len(data) % 4)
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = struct.pack(">I", offset + len(body)) + bytes(4) + struct.pack(">I", 0x02100000) + b"prtrCMYKLab "
    header += bytes(12) + b"acsp" + bytes(24) + struct.pack(">I", 0) + _s15(0.9642) + _s15(1.0) + _s15(0.8249)
    header += bytes(128 - len(header))
    return header + table + body


def _adobe_rgb_like_profile() -> bytes:
    """A valid RGB profile whose bytes differ from our sRGB one (creator 'TEST', no profile ID),
    to check that an opened file's own profile is kept, byte for byte."""
    raw = bytearray(srgb_profile())
    raw[80:84] = b"TEST"
    raw[84:100] = bytes(16)
    return bytes(raw)


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("ext", [".png", ".tif", ".tiff", ".bmp", ".webp"])
def test_lossless_round_trip_keeps_every_pixel_and_alpha(tmp_path: Path, ext: str) -> None:
    pixels = _rgba()
    target = tmp_path / f"pic{ext}"
    notes = write_image(target, pixels, quality=100)
    assert notes == []
    loaded = read_image(target)
    assert loaded.pixels.dtype == np.uint8 and loaded.pixels.shape == (24, 32, 4)
    assert loaded.size == (32, 24)
    np.testing.assert_array_equal(loaded.pixels, pixels)
    assert loaded.format == format_for_path(target)


@pytest.mark.parametrize("ext", [".png", ".tif", ".bmp"])
def test_opaque_round_trip(tmp_path: Path, ext: str) -> None:
    pixels = _rgba(opaque=True)
    write_image(tmp_path / f"o{ext}", pixels)
    np.testing.assert_array_equal(read_image(tmp_path / f"o{ext}").pixels, pixels)


@pytest.mark.parametrize("ext", [".jpg", ".jpeg", ".webp"])
def test_lossy_round_trip_is_close(tmp_path: Path, ext: str) -> None:
    pixels = _smooth()
    write_image(tmp_path / f"p{ext}", pixels, quality=95)
    loaded = read_image(tmp_path / f"p{ext}")
    diff = np.abs(loaded.pixels.astype(int) - pixels.astype(int))
    assert diff[..., :3].mean() < 2.5 and diff.max() < 40
    assert (loaded.pixels[..., 3] == 255).all()


def test_jpeg_flattens_alpha_on_white_with_a_note(tmp_path: Path) -> None:
    pixels = np.zeros((16, 16, 4), np.uint8)
    pixels[..., 0] = 255  # red, fully transparent on the left half
    pixels[:, 8:, 3] = 255
    notes = write_image(tmp_path / "a.jpg", pixels)
    assert any("white" in n for n in notes)
    out = read_image(tmp_path / "a.jpg").pixels
    assert (out[4:12, 1:5, :3] > 240).all()  # transparent -> white
    assert out[8, 13, 0] > 240 and out[8, 13, 1] < 20  # opaque red stays red


def test_exports_embed_srgb_or_the_given_rgb_profile(tmp_path: Path) -> None:
    pixels = _rgba(opaque=True)
    for ext in (".png", ".jpg", ".webp", ".tif"):
        write_image(tmp_path / f"s{ext}", pixels)
        with Image.open(tmp_path / f"s{ext}") as im:
            assert im.info.get("icc_profile") == srgb_profile(), ext
    custom = _adobe_rgb_like_profile()
    assert custom != srgb_profile()
    write_image(tmp_path / "c.png", pixels, icc_profile=custom)
    loaded = read_image(tmp_path / "c.png")
    assert loaded.icc_profile == custom


def test_a_non_rgb_profile_is_replaced_by_srgb_on_export(tmp_path: Path) -> None:
    notes = write_image(tmp_path / "x.png", _rgba(), icc_profile=_cmyk_profile(lambda *c: 50))
    assert any("not an RGB profile" in n for n in notes)
    with Image.open(tmp_path / "x.png") as im:
        assert im.info["icc_profile"] == srgb_profile()


def test_bmp_with_alpha_is_a_v4_bitmap_other_readers_understand(tmp_path: Path) -> None:
    pixels = _rgba()
    write_image(tmp_path / "a.bmp", pixels)
    data = (tmp_path / "a.bmp").read_bytes()
    assert data[:2] == b"BM" and struct.unpack("<I", data[14:18])[0] == 108  # BITMAPV4HEADER
    with Image.open(tmp_path / "a.bmp") as im:  # Pillow's own reader, not ours
        assert im.mode == "RGBA"
        np.testing.assert_array_equal(np.asarray(im), pixels)


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageWriteError, match=r"pic\.xyz.*unknown picture type"):
        write_image(tmp_path / "pic.xyz", _rgba())
    assert not (tmp_path / "pic.xyz").exists()


def test_bad_arrays_are_programming_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_image(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError):
        write_image(tmp_path / "a.png", np.zeros((4, 4, 4), np.float32))
    with pytest.raises(ValueError):
        write_image(tmp_path / "a.jpg", _rgba(), quality=0)


def test_three_channel_input_is_written_opaque(tmp_path: Path) -> None:
    rgb = _rgba(opaque=True)[..., :3].copy()
    write_image(tmp_path / "rgb.png", rgb)
    out = read_image(tmp_path / "rgb.png").pixels
    np.testing.assert_array_equal(out[..., :3], rgb)
    assert (out[..., 3] == 255).all()


# --------------------------------------------------------------------------- conversions


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # stored 32 wide x 16 high: left half red, right half blue; orientation 6 = rotate 90 CW to view
    stored = np.zeros((16, 32, 3), np.uint8)
    stored[:, :16, 0] = 255
    stored[:, 16:, 2] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "rot.jpg", exif=exif, quality=95)
    loaded = read_image(tmp_path / "rot.jpg")
    assert loaded.pixels.shape == (32, 16, 4) and loaded.size == (16, 32)
    assert loaded.format == "JPEG"
    # after a clockwise quarter turn the red (left) half is on top
    assert loaded.pixels[4, 8, 0] > 200 and loaded.pixels[4, 8, 2] < 50
    assert loaded.pixels[28, 8, 2] > 200 and loaded.pixels[28, 8, 0] < 50
    assert any("EXIF orientation" in n for n in loaded.notes)


def test_16bit_greyscale_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    grey = np.array([[0, 257 * 64, 65535, 257 * 200]], dtype=np.uint16)
    Image.fromarray(grey).save(tmp_path / "g16.png")
    loaded = read_image(tmp_path / "g16.png")
    np.testing.assert_array_equal(loaded.pixels[0, :, 0], [0, 64, 255, 200])
    np.testing.assert_array_equal(loaded.pixels[0, :, 0], loaded.pixels[0, :, 2])
    assert (loaded.pixels[..., 3] == 255).all()
    assert any("16-bit" in n for n in loaded.notes)


def test_16bit_rgb_png(tmp_path: Path) -> None:
    arr = np.array([[[65535, 0, 257 * 100], [257 * 10, 257 * 20, 257 * 30]]], dtype=np.uint16)
    (tmp_path / "rgb16.png").write_bytes(_png16_rgb(arr))
    loaded = read_image(tmp_path / "rgb16.png")
    np.testing.assert_array_equal(loaded.pixels[0, :, :3], [[255, 0, 100], [10, 20, 30]])
    assert any("16 bits per channel" in n for n in loaded.notes)


@pytest.mark.parametrize("alpha", [False, True])
def test_16bit_rgb_and_rgba_tiff(tmp_path: Path, alpha: bool) -> None:
    arr = np.array([[[65535, 0, 257 * 100, 65535], [257 * 10, 257 * 20, 257 * 30, 257 * 128]]], np.uint16)
    (tmp_path / "t16.tif").write_bytes(_tiff16(arr if alpha else arr[..., :3], alpha))
    loaded = read_image(tmp_path / "t16.tif")
    expected = [[255, 0, 100, 255], [10, 20, 30, 128 if alpha else 255]]
    assert loaded.pixels[0].tolist() == expected
    assert any("16 bits per channel" in n for n in loaded.notes)


def test_16bit_tiff_greyscale(tmp_path: Path) -> None:
    Image.fromarray(np.full((3, 3), 257 * 77, np.uint16)).save(tmp_path / "g.tif")
    assert (read_image(tmp_path / "g.tif").pixels[..., :3] == 77).all()


def test_palette_with_transparency(tmp_path: Path) -> None:
    im = Image.new("P", (4, 2))
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    im.putdata([0, 1, 2, 0, 1, 1, 2, 2])
    im.save(tmp_path / "p.png", transparency=1)
    loaded = read_image(tmp_path / "p.png")
    px = loaded.pixels
    assert px[0, 0].tolist() == [255, 0, 0, 255]
    assert px[0, 1, 3] == 0  # index 1 is the transparent one
    assert px[0, 2].tolist() == [0, 0, 255, 255]
    assert any("palette" in n for n in loaded.notes)


def test_palette_gif_with_transparency_and_frames(tmp_path: Path) -> None:
    frames = [Image.new("P", (4, 4), i) for i in range(3)]
    for f in frames:
        f.putpalette([10, 20, 30, 200, 100, 50, 0, 0, 0] + [0] * (256 * 3 - 9))
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], transparency=2)
    loaded = read_image(tmp_path / "a.gif")
    assert loaded.pixels[0, 0].tolist() == [10, 20, 30, 255]
    assert any("3 frames" in n for n in loaded.notes)


@pytest.mark.parametrize("ext", [".jpg", ".tif"])
def test_cmyk_without_profile(tmp_path: Path, ext: str) -> None:
    cmyk = np.zeros((8, 8, 4), np.uint8)
    cmyk[:4, :, 0] = 255  # cyan on top
    Image.frombytes("CMYK", (8, 8), cmyk.tobytes()).save(tmp_path / f"c{ext}", quality=100)
    loaded = read_image(tmp_path / f"c{ext}")
    top, bottom = loaded.pixels[1, 1], loaded.pixels[6, 6]
    assert top[0] < 20 and top[1] > 230 and top[2] > 230  # cyan
    assert (bottom[:3] > 235).all()  # paper white
    assert loaded.icc_profile is None and any("CMYK" in n for n in loaded.notes)


@pytest.mark.parametrize("ext", [".jpg", ".tif"])
def test_cmyk_is_converted_through_its_embedded_profile(tmp_path: Path, ext: str) -> None:
    # A grey-only press: cyan prints as L*=60 grey, black at half strength as L*=25.
    # A naive conversion would give cyan (0, 255, 255) and mid grey 127.
    profile = _cmyk_profile(lambda c, m, y, k: 100.0 - 40.0 * c if not k else 0.0)
    cmyk = np.zeros((8, 8, 4), np.uint8)
    cmyk[:4, :, 0] = 255
    Image.frombytes("CMYK", (8, 8), cmyk.tobytes()).save(tmp_path / f"c{ext}", icc_profile=profile, quality=100)
    loaded = read_image(tmp_path / f"c{ext}")
    top = loaded.pixels[1, 1, :3].astype(int)
    assert abs(top[0] - top[2]) < 6 and 125 < top[0] < 165  # grey near sRGB of L*=60 (~145)
    assert any("embedded colour profile" in n for n in loaded.notes)
    assert loaded.icc_profile is None  # the pixels are sRGB now


@pytest.mark.parametrize("mode", ["L", "LA", "1"])
def test_greyscale_modes(tmp_path: Path, mode: str) -> None:
    base = Image.new("LA", (4, 4), (200, 90))
    im = base.convert(mode) if mode != "LA" else base
    im.save(tmp_path / "g.png")
    loaded = read_image(tmp_path / "g.png")
    px = loaded.pixels[0, 0]
    assert px[0] == px[1] == px[2]
    assert px[0] == (255 if mode == "1" else 200)
    assert px[3] == (90 if mode == "LA" else 255)
    assert any("reyscale" in n or "Black-and-white" in n for n in loaded.notes)


def test_float_and_32bit_greyscale_tiff(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32), "F").save(tmp_path / "f.tif")
    assert read_image(tmp_path / "f.tif").pixels[0, :, 0].tolist() == [0, 128, 255]
    Image.fromarray(np.array([[0, 65535, 257 * 3]], np.int32), "I").save(tmp_path / "i.tif")
    assert read_image(tmp_path / "i.tif").pixels[0, :, 0].tolist() == [0, 255, 3]


def test_rgb_profile_is_kept_and_pixels_untouched(tmp_path: Path) -> None:
    pixels = _rgba(opaque=True)
    custom = _adobe_rgb_like_profile()
    Image.fromarray(pixels[..., :3]).save(tmp_path / "p.png", icc_profile=custom)
    loaded = read_image(tmp_path / "p.png")
    assert loaded.icc_profile == custom
    np.testing.assert_array_equal(loaded.pixels, pixels)


def test_damaged_rgb_profile_is_dropped_with_a_note(tmp_path: Path) -> None:
    Image.fromarray(_rgba(opaque=True)[..., :3]).save(tmp_path / "p.png", icc_profile=b"not a profile at all")
    loaded = read_image(tmp_path / "p.png")
    assert loaded.icc_profile is None and any("profile" in n for n in loaded.notes)


def test_pillow_globals_are_restored() -> None:
    before = (Image.MAX_IMAGE_PIXELS, imageio.ImageFile.LOAD_TRUNCATED_IMAGES)
    buf = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buf, "PNG")
    with imageio._pillow_globals(max_pixels=10**12, load_truncated=True):
        assert imageio.ImageFile.LOAD_TRUNCATED_IMAGES is True
    assert (Image.MAX_IMAGE_PIXELS, imageio.ImageFile.LOAD_TRUNCATED_IMAGES) == before


# --------------------------------------------------------------------------- dialogs


def test_extension_tuples_and_file_filters() -> None:
    for ext in (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"):
        assert ext in SUPPORTED_WRITE and ext in SUPPORTED_READ
    assert ".gif" in SUPPORTED_READ and ".gif" not in SUPPORTED_WRITE
    opening = file_filter("open")
    assert opening.startswith("All supported pictures (") and "*.ora" in opening and "*.webp" in opening
    assert opening.endswith("All files (*)")
    export = file_filter("export").split(";;")
    assert "PNG (*.png)" in export and all("ora" not in f for f in export)
    assert file_filter("save") == "OpenRaster (*.ora)"
    assert format_for_path("A.JPG") == "JPEG" and format_for_path("x.ora") is None
