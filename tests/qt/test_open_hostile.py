"""File > Open of a hostile .ora: a dialog naming the file, and the document in the window stays."""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import pytest


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_declaring(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _chunk(b"IEND", b""))


def _ora(path: Path, body: str, members: dict[str, bytes], size: str = 'w="8" h="8"') -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "image/openraster")
        zf.writestr("stack.xml", f'<?xml version="1.0"?><image {size}><stack>{body}</stack></image>')
        for name, blob in members.items():
            zf.writestr(name, blob, compress_type=zipfile.ZIP_DEFLATED)
    return path


def _hostile(tmp_path: Path) -> dict[str, Path]:
    small = {"data/a.png": _png_declaring(8, 8)}
    huge = {f"data/l{i}.png": _png_declaring(15_000, 15_000) for i in range(12)}
    return {
        "infinite x": _ora(tmp_path / "inf.ora", '<layer src="data/a.png" x="1e400"/>', small),
        "nested groups": _ora(tmp_path / "nested.ora",
                              "<stack>" * 50_000 + '<layer src="data/a.png"/>' + "</stack>" * 50_000, small),
        "12 huge layers": _ora(tmp_path / "twelve.ora",
                               "".join(f'<layer src="data/l{i}.png"/>' for i in range(12)), huge,
                               size='w="15000" h="15000"'),
    }


@pytest.mark.parametrize("kind", ["infinite x", "nested groups", "12 huge layers"])
def test_open_shows_a_dialog_naming_the_file(window, answers, tmp_path, kind):
    path = _hostile(tmp_path)[kind]
    old = window.controller.document
    assert not window.open_path(str(path))
    assert window.controller.document is old
    dialog, title, text = answers.calls[-1]
    assert dialog == "warning" and title == "Cannot open"
    assert str(path) in text and "\n" not in text


def test_an_unexpected_error_while_opening_is_a_dialog_too(window, answers, tmp_path, monkeypatch):
    from ganpaint.core import ora

    path = _ora(tmp_path / "fine.ora", '<layer src="data/a.png"/>', {"data/a.png": _png_declaring(8, 8)})

    def broken(*_a, **_k):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(ora, "load_ora", broken)
    old = window.controller.document
    assert not window.open_path(str(path))
    assert window.controller.document is old
    dialog, _title, text = answers.calls[-1]
    assert dialog == "warning" and str(path) in text and "RecursionError" in text


def test_open_uses_the_settings_document_budget(window, answers, tmp_path):
    from ganpaint.core.document import Document
    from ganpaint.core.ora import save_ora

    doc = Document(40, 40)
    for _ in range(3):
        doc.add_layer(name="l")
    save_ora(doc, tmp_path / "three.ora")
    window.app_settings.max_document_pixels = 40 * 40 * 2  # canvas + 3 layers = 4 x 1600
    assert not window.open_path(str(tmp_path / "three.ora"))
    assert "document limit" in answers.calls[-1][2] and "three.ora" in answers.calls[-1][2]
    window.app_settings.max_document_pixels = 1_000_000_000
    assert window.open_path(str(tmp_path / "three.ora"))
