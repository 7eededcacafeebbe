"""Bad input and faults: each gets a clear error naming the file, and nothing is lost."""

from __future__ import annotations

import errno
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganpaint.core import atomic
from ganpaint.core.errors import GanpaintError, ImageReadError, ImageWriteError
from ganpaint.core.imageio import DEFAULT_MAX_PIXELS, read_image, write_image


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header declaring width x height RGB pixels, with a few bytes of data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _bomb_tiff(width: int, height: int) -> bytes:
    """A little-endian TIFF whose first IFD declares width x height 8-bit grey pixels."""
    entries = [  # tag, type (3 SHORT, 4 LONG), count, value
        (256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1),
        (262, 3, 1, 1), (273, 4, 1, 8 + 2 + 12 * 9 + 4), (277, 3, 1, 1),
        (278, 4, 1, height), (279, 4, 1, 16),
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        packed = struct.pack("<HI", value, 0)[:4] if typ == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, typ, count) + packed
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + bytes(16)


def _picture(tmp_path: Path, name: str = "ok.png", size: int = 64) -> Path:
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (size, size, 4), dtype=np.uint8)).save(tmp_path / name)
    return tmp_path / name


# --------------------------------------------------------------------------- bombs


@pytest.mark.parametrize("builder,name", [(_bomb_png, "bomb.png"), (_bomb_tiff, "bomb.tif")])
def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path, builder, name) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(builder(100_000, 100_000))
    assert path.stat().st_size < 1000
    with pytest.raises(ImageReadError) as info:
        read_image(path)
    msg = str(info.value)
    assert str(path) in msg and "100000 x 100000" in msg and "250 megapixels" in msg
    assert info.value.reason == "too large"


def test_pixel_limit_is_configurable(tmp_path: Path) -> None:
    path = _picture(tmp_path, size=40)  # 1600 pixels
    with pytest.raises(ImageReadError, match="40 x 40"):
        read_image(path, max_pixels=1599)
    assert read_image(path, max_pixels=1600).size == (40, 40)
    assert DEFAULT_MAX_PIXELS == 250_000_000


def test_our_limit_overrides_a_lower_pillow_global(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Pillow's own default (89 Mpx, error at 179 Mpx) is below ours (250 Mpx): a picture between
    # the two must open. Shrink both scales so the test decodes a tiny picture.
    path = _picture(tmp_path, size=40)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    assert read_image(path, max_pixels=10_000).pixels.shape == (40, 40, 4)
    assert Image.MAX_IMAGE_PIXELS == 100


# --------------------------------------------------------------------------- damaged files


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_truncated_file_is_refused_then_readable_part_offered(tmp_path: Path, ext: str) -> None:
    full = tmp_path / f"full{ext}"
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)).save(full)
    cut = tmp_path / f"cut{ext}"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError) as info:
        read_image(cut)
    assert info.value.truncated and str(cut) in str(info.value) and "truncated" in str(info.value)
    part = read_image(cut, allow_truncated=True)
    assert part.pixels.shape == (128, 128, 4)
    assert any("truncated" in n for n in part.notes)
    reference = read_image(full).pixels
    # the top rows decoded identically (JPEG: the first MCU rows)
    np.testing.assert_array_equal(part.pixels[:8], reference[:8])


def test_zero_byte_file(tmp_path: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageReadError, match=r"empty\.png.*empty \(0 bytes\)"):
        read_image(tmp_path / "empty.png")


def test_text_file_named_png(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("this is not a picture\n" * 20)
    with pytest.raises(ImageReadError, match=r"notes\.png.*not a picture") as info:
        read_image(tmp_path / "notes.png")
    assert not info.value.truncated


def test_wrong_extension_is_read_by_content_with_a_note(tmp_path: Path) -> None:
    Image.new("RGB", (8, 8), (10, 200, 30)).save(tmp_path / "photo.png", format="JPEG")
    loaded = read_image(tmp_path / "photo.png")
    assert loaded.format == "JPEG"
    assert any("JPEG picture although its name ends in '.png'" in n for n in loaded.notes)


def test_corrupt_pixel_data(tmp_path: Path) -> None:
    path = _picture(tmp_path, size=200)
    data = bytearray(path.read_bytes())
    data[3000:3040] = b"\x00" * 40
    path.write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match=r"ok\.png.*damaged"):
        read_image(path)


def test_damaged_header(tmp_path: Path) -> None:
    path = _picture(tmp_path)
    data = bytearray(path.read_bytes())
    data[16:24] = b"\xff" * 8  # IHDR width/height, CRC now wrong
    path.write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match=r"ok\.png.*PNG file but is damaged"):
        read_image(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match=r"nope\.png.*no such file"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(ImageReadError, match="it is a folder"):
        read_image(tmp_path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _picture(tmp_path)
    real_open = open

    def deny(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.fspath(file) == str(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    with pytest.raises(ImageReadError, match=r"ok\.png.*permission denied"):
        read_image(path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_for_real(tmp_path: Path) -> None:
    path = _picture(tmp_path)
    path.chmod(0)
    try:
        with pytest.raises(ImageReadError, match="permission denied"):
            read_image(path)
    finally:
        path.chmod(0o644)


def test_errors_share_one_base() -> None:
    assert issubclass(ImageReadError, GanpaintError) and issubclass(ImageWriteError, GanpaintError)


# --------------------------------------------------------------------------- failed writes


def _previous(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "out.png"
    write_image(path, np.full((4, 4, 4), 7, np.uint8))
    return path, path.read_bytes()


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_destination_folder_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ImageWriteError) as info:
        write_image(tmp_path / "file" / "out.png", np.zeros((2, 2, 4), np.uint8))
    assert "file/out.png" in str(info.value).replace(os.sep, "/")
    assert info.value.reason == "a part of the path is not a folder"


@pytest.mark.parametrize("where", ["fsync", "replace", "write"])
def test_disk_full_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    path, before = _previous(tmp_path)

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "write":
        monkeypatch.setattr(Image.Image, "save", lambda self, fp, *a, **k: full())
    else:
        monkeypatch.setattr(atomic.os, where, full)
    with pytest.raises(ImageWriteError, match=r"out\.png.*disk full"):
        write_image(path, np.full((64, 64, 4), 200, np.uint8))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_unwritable_folder_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, before = _previous(tmp_path)

    def denied(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", denied)
    with pytest.raises(ImageWriteError, match=r"out\.png.*permission denied"):
        write_image(path, np.zeros((4, 4, 4), np.uint8))
    monkeypatch.undo()
    assert path.read_bytes() == before and _leftovers(tmp_path) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_folder_for_real(tmp_path: Path) -> None:
    path, before = _previous(tmp_path)
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(ImageWriteError, match="permission denied"):
            write_image(path, np.zeros((4, 4, 4), np.uint8))
    finally:
        tmp_path.chmod(0o755)
    assert path.read_bytes() == before


def test_encoder_failure_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, before = _previous(tmp_path)

    def broken(self, fp, *args, **kwargs):  # type: ignore[no-untyped-def]
        fp.write(b"half a picture")
        raise ValueError("encoder exploded")

    monkeypatch.setattr(Image.Image, "save", broken)
    with pytest.raises(ImageWriteError, match=r"out\.png.*encoder exploded"):
        write_image(path, np.zeros((4, 4, 4), np.uint8))
    monkeypatch.undo()
    assert path.read_bytes() == before and _leftovers(tmp_path) == []


def test_writing_onto_a_folder(tmp_path: Path) -> None:
    (tmp_path / "pic.png").mkdir()
    with pytest.raises(ImageWriteError, match="is a folder"):
        write_image(tmp_path / "pic.png", np.zeros((2, 2, 4), np.uint8))


def test_an_openraster_file_is_named_as_such(tmp_path: Path) -> None:
    from ganpaint.core.document import Document
    from ganpaint.core.ora import save_ora

    save_ora(Document.from_array(np.zeros((2, 2, 4), np.uint8)), tmp_path / "doc.png")
    with pytest.raises(ImageReadError, match="OpenRaster document") as info:
        read_image(tmp_path / "doc.png")
    assert info.value.reason == "openraster"
