"""OpenRaster: the layout other programs expect, an exact round trip, foreign files, bad files."""

from __future__ import annotations

import errno
import io
import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganpaint.core import atomic
from ganpaint.core.document import Document
from ganpaint.core.errors import FileFormatError, ImageReadError, ImageWriteError
from ganpaint.core.imageio import srgb_profile
from ganpaint.core.layers import BlendMode, Layer, LayerKind, ResultInfo
from ganpaint.core.ora import GANPAINT_NS, is_ora_path, load_ora, read_ora, save_ora, snapshot

G = "{" + GANPAINT_NS + "}"


def _pixels(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 4), dtype=np.uint8)


def _icc() -> bytes:
    raw = bytearray(srgb_profile())
    raw[80:84] = b"TEST"  # a valid RGB profile whose bytes are not our sRGB's
    raw[84:100] = bytes(16)
    return bytes(raw)


def _document() -> Document:
    result = ResultInfo(
        tool_id="classic.blur",
        plugin="ganpaint-classic",
        model="gaussian-v1",
        params={"radius": 2.5, "seed": 42, "style": "oil", "colour": [1, 0.5, 0], "nested": {"a": True}},
        source_layer_id="0" * 32,
        metadata={"elapsed_s": 0.25, "device": "cpu"},
        attachments={"latent.npy": b"\x93NUMPY fake", "maps/depth.png": b"\x89PNG not really"},
        before=_pixels(20, 30, 9),
    )
    layers = [
        Layer(_pixels(64, 80, 1), name="Background"),
        Layer(_pixels(40, 50, 2), name="Offset multiply", x=-10, y=30, opacity=0.5, blend=BlendMode.MULTIPLY),
        Layer(_pixels(20, 20, 3), name="Screen hidden", x=70, y=-5, visible=False, blend=BlendMode.SCREEN, locked=True),
        Layer(_pixels(64, 80, 4), name="Lines", kind=LayerKind.SKETCH, blend=BlendMode.OVERLAY, opacity=0.75),
        Layer(_pixels(10, 12, 5), name="Hints", kind=LayerKind.HINTS, x=3, y=4),
        Layer(_pixels(64, 80, 6), name="Mask", kind=LayerKind.MASK),
        Layer(_pixels(20, 30, 7), name="Blurred", kind=LayerKind.RESULT, x=5, y=6, result=result),
    ]
    doc = Document.from_layers(80, 64, layers, active=3)
    doc.icc_profile = _icc()
    return doc


def test_mimetype_is_first_stored_and_at_offset_30(tmp_path: Path) -> None:
    path = tmp_path / "doc.ora"
    save_ora(_document(), path)
    with zipfile.ZipFile(path) as zf:
        first = zf.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert zf.read("mimetype") == b"image/openraster"
        names = zf.namelist()
    raw = path.read_bytes()
    assert raw[30:38] == b"mimetype" and raw[38:54] == b"image/openraster"  # what file(1) sniffs
    for required in ("stack.xml", "mergedimage.png", "Thumbnails/thumbnail.png"):
        assert required in names
    assert sum(n.startswith("data/") and n.endswith(".png") for n in names) == 7


def test_a_reader_that_knows_only_the_spec(tmp_path: Path) -> None:
    """Read the file the way Krita/GIMP/MyPaint do: stack.xml, data PNGs, mergedimage."""
    doc = _document()
    path = tmp_path / "doc.ora"
    save_ora(doc, path)
    with zipfile.ZipFile(path) as zf:
        root = ET.fromstring(zf.read("stack.xml"))
        assert root.tag == "image" and (root.get("w"), root.get("h")) == ("80", "64")
        els = root.find("stack").findall("layer")  # type: ignore[union-attr]
        assert [e.get("name") for e in els] == [la.name for la in reversed(doc.layers)]  # top first
        by_name = {e.get("name"): e for e in els}
        off = by_name["Offset multiply"]
        assert (off.get("x"), off.get("y"), off.get("composite-op")) == ("-10", "30", "svg:multiply")
        assert float(off.get("opacity", "")) == pytest.approx(0.5)
        assert by_name["Screen hidden"].get("visibility") == "hidden"
        assert by_name["Lines"].get("composite-op") == "svg:overlay"
        assert by_name["Mask"].get("visibility") == "hidden"  # not picture content elsewhere either
        for e in els:
            with Image.open(io.BytesIO(zf.read(e.get("src", "")))) as im:
                layer = doc.layers[[la.name for la in doc.layers].index(e.get("name"))]
                assert im.size == (layer.width, layer.height)
                np.testing.assert_array_equal(np.asarray(im.convert("RGBA")), layer.pixels)
        with Image.open(io.BytesIO(zf.read("mergedimage.png"))) as merged:
            np.testing.assert_array_equal(np.asarray(merged.convert("RGBA")), doc.composite())
            assert merged.info.get("icc_profile") == doc.icc_profile
        with Image.open(io.BytesIO(zf.read("Thumbnails/thumbnail.png"))) as thumb:
            assert max(thumb.size) <= 256 and thumb.size == (80, 64)


def test_thumbnail_is_at_most_256_pixels(tmp_path: Path) -> None:
    doc = Document.from_layers(600, 300, [Layer(_pixels(300, 600, 1))])
    save_ora(doc, tmp_path / "big.ora", compress_level=1)
    with zipfile.ZipFile(tmp_path / "big.ora") as zf, Image.open(io.BytesIO(zf.read("Thumbnails/thumbnail.png"))) as t:
        assert t.size == (256, 128)


def test_round_trip_is_exact_with_every_extra(tmp_path: Path) -> None:
    doc = _document()
    path = tmp_path / "doc.ora"
    save_ora(doc, path)
    back = load_ora(path)
    assert (back.width, back.height) == (80, 64)
    assert back.path == str(path) and not back.modified and not back.history.can_undo()
    assert back.active_index == 3 and back.icc_profile == doc.icc_profile
    assert len(back.layers) == len(doc.layers)
    for a, b in zip(doc.layers, back.layers, strict=True):
        assert (b.id, b.name, b.x, b.y, b.visible, b.blend, b.locked, b.kind) == (
            a.id, a.name, a.x, a.y, a.visible, a.blend, a.locked, a.kind)
        assert b.opacity == pytest.approx(a.opacity, abs=1e-6)
        np.testing.assert_array_equal(b.pixels, a.pixels)
    ra, rb = doc.layers[-1].result, back.layers[-1].result
    assert ra is not None and rb is not None
    assert (rb.tool_id, rb.plugin, rb.model, rb.source_layer_id) == (ra.tool_id, ra.plugin, ra.model, ra.source_layer_id)
    assert rb.params == ra.params and rb.metadata == ra.metadata
    assert rb.attachments == ra.attachments
    assert rb.before is not None and ra.before is not None
    np.testing.assert_array_equal(rb.before, ra.before)
    assert all(la.result is None for la in back.layers[:-1])
    assert back.layers[5].visible  # the mask's own visibility survives its hidden ORA attribute
    np.testing.assert_array_equal(back.composite(), doc.composite())
    # and a second round trip changes nothing
    save_ora(back, tmp_path / "again.ora")
    again = read_ora(tmp_path / "again.ora")
    assert [la.id for la in again.layers] == [la.id for la in doc.layers]


def test_extras_live_in_the_namespace_and_under_ganpaint(tmp_path: Path) -> None:
    doc = _document()
    save_ora(doc, tmp_path / "doc.ora")
    with zipfile.ZipFile(tmp_path / "doc.ora") as zf:
        root = ET.fromstring(zf.read("stack.xml"))
        result_el = root.find("stack").findall("layer")[0]  # type: ignore[union-attr]
        assert result_el.get(G + "tool") == "classic.blur" and result_el.get(G + "kind") == "result"
        assert json.loads(result_el.get(G + "params", ""))["radius"] == 2.5
        rid = doc.layers[-1].id
        assert zf.read(f"ganpaint/{rid}/latent.npy") == b"\x93NUMPY fake"
        assert zf.read(f"ganpaint/{rid}/maps/depth.png") == b"\x89PNG not really"
        # no un-namespaced attribute other than the spec's
        spec = {"name", "src", "x", "y", "opacity", "visibility", "composite-op", "selected"}
        for el in root.iter("layer"):
            assert {k for k in el.attrib if not k.startswith(G)} <= spec


def test_save_does_not_mark_the_document_clean(tmp_path: Path) -> None:
    doc = Document.from_layers(4, 4, [Layer(_pixels(4, 4, 1))])
    doc.add_layer("new")
    assert doc.modified
    save_ora(doc, tmp_path / "a.ora")
    assert doc.modified


# --------------------------------------------------------------------------- foreign files


def _png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def _foreign(tmp_path: Path, stack_xml: str, files: dict[str, bytes], *, mimetype: bool = True) -> Path:
    path = tmp_path / "foreign.ora"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        if mimetype:
            zf.writestr("mimetype", "image/openraster", compress_type=zipfile.ZIP_STORED)
        zf.writestr("stack.xml", stack_xml)
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def test_a_krita_gimp_mypaint_like_file_with_offsets_and_a_group(tmp_path: Path) -> None:
    top, inner1, inner2, bottom = (_pixels(8, 10, s) for s in range(4))
    stack_xml = """<?xml version="1.0" encoding="UTF-8"?>
<image w="100" h="60" version="0.0.3">
  <stack>
    <layer name="Top" src="data/layer3.png" x="5" y="7" opacity="0.8" visibility="visible" composite-op="svg:screen"/>
    <stack name="Group" x="20" y="10" opacity="0.5" visibility="visible">
      <layer name="Inner top" src="data/layer2.png" x="1" y="2" selected="true"/>
      <layer name="Inner bottom" src="./data/layer1.png" composite-op="svg:color-dodge" visibility="hidden"/>
    </stack>
    <layer name="Background" src="data/layer0.png"/>
    <text>legacy element</text>
  </stack>
</image>"""
    path = _foreign(tmp_path, stack_xml, {
        "data/layer3.png": _png_bytes(top), "data/layer2.png": _png_bytes(inner1),
        "data/layer1.png": _png_bytes(inner2), "data/layer0.png": _png_bytes(bottom),
    })
    doc = load_ora(path)
    assert (doc.width, doc.height) == (100, 60)
    assert [la.name for la in doc.layers] == ["Background", "Inner bottom", "Inner top", "Top"]
    bg, ib, it, tp = doc.layers
    assert (bg.x, bg.y, bg.opacity, bg.blend, bg.visible) == (0, 0, 1.0, BlendMode.NORMAL, True)
    assert (ib.x, ib.y, ib.visible, ib.blend) == (20, 10, False, BlendMode.NORMAL)
    assert (it.x, it.y) == (21, 12) and it.opacity == pytest.approx(0.5)
    assert (tp.x, tp.y, tp.blend) == (5, 7, BlendMode.SCREEN) and tp.opacity == pytest.approx(0.8)
    np.testing.assert_array_equal(tp.pixels, top)
    np.testing.assert_array_equal(ib.pixels, inner2)
    assert doc.active_index == 2
    assert all(la.kind is LayerKind.RASTER and la.result is None for la in doc.layers)
    assert len({la.id for la in doc.layers}) == 4
    joined = " ".join(doc.notes)
    assert "1 layer group(s) were flattened" in joined
    assert "svg:color-dodge" in joined and "<text>" in joined


def test_missing_optional_parts_are_tolerated(tmp_path: Path) -> None:
    px = _pixels(6, 9, 1)
    stack_xml = '<image><stack><layer src="data/a.png"/><layer name="gone" src="data/missing.png"/></stack></image>'
    path = _foreign(tmp_path, stack_xml, {"data/a.png": _png_bytes(px)}, mimetype=False)
    contents = read_ora(path)
    assert (contents.width, contents.height) == (9, 6)  # no w/h: taken from the layers
    assert len(contents.layers) == 1 and contents.layers[0].name == "Layer 1"
    notes = " ".join(contents.notes)
    assert "mimetype" in notes and "'gone'" in notes and "no canvas size" in notes


# --------------------------------------------------------------------------- bad files


def test_not_a_zip(tmp_path: Path) -> None:
    (tmp_path / "x.ora").write_text("hello")
    with pytest.raises(FileFormatError, match=r"x\.ora.*not an OpenRaster file"):
        read_ora(tmp_path / "x.ora")


def test_zip_without_stack_xml(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "x.ora", "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(FileFormatError, match="without stack.xml"):
        read_ora(tmp_path / "x.ora")


def test_broken_xml_and_entities(tmp_path: Path) -> None:
    path = _foreign(tmp_path, "<image><stack><layer", {})
    with pytest.raises(FileFormatError, match="not valid XML"):
        read_ora(path)
    path = _foreign(tmp_path, '<!DOCTYPE x [<!ENTITY a "aaaa">]><image><stack/></image>', {})
    with pytest.raises(FileFormatError, match="entities"):
        read_ora(path)


def test_damaged_layer_picture(tmp_path: Path) -> None:
    path = _foreign(tmp_path, '<image w="4" h="4"><stack><layer name="L" src="data/a.png"/></stack></image>',
                    {"data/a.png": b"\x89PNG\r\n\x1a\n garbage"})
    with pytest.raises(FileFormatError, match=r"foreign\.ora.*layer 'L'"):
        read_ora(path)


def test_canvas_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = _foreign(tmp_path, '<image w="100000" h="100000"><stack/></image>', {})
    with pytest.raises(FileFormatError, match="100000 x 100000") as info:
        read_ora(path)
    assert info.value.reason == "too large"


def test_empty_missing_and_folder(tmp_path: Path) -> None:
    (tmp_path / "e.ora").write_bytes(b"")
    with pytest.raises(FileFormatError, match="empty"):
        read_ora(tmp_path / "e.ora")
    with pytest.raises(ImageReadError, match="no such file"):  # FileFormatError is an ImageReadError
        load_ora(tmp_path / "missing.ora")
    with pytest.raises(FileFormatError, match="folder"):
        read_ora(tmp_path)


def test_failed_save_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "doc.ora"
    save_ora(_document(), path)
    before = path.read_bytes()

    def full(*_a: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(ImageWriteError, match=r"doc\.ora.*disk full"):
        save_ora(Document.from_layers(4, 4, [Layer(_pixels(4, 4, 1))]), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.ora"]


def test_is_ora_path() -> None:
    assert is_ora_path("a/B.ORA") and not is_ora_path("a.png")


def test_a_snapshot_saves_the_same_file_from_another_thread(tmp_path: Path) -> None:
    import threading

    doc = _document()
    snap = snapshot(doc)
    doc.layers[0].writable_pixels()[:] = 0  # the user keeps painting (in place; copy-on-write) after the snapshot
    errors: list[BaseException] = []

    def work() -> None:
        try:
            save_ora(snap, tmp_path / "snap.ora")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert not errors
    back = load_ora(tmp_path / "snap.ora")
    assert back.layers[0].pixels.any()  # the snapshot, not the later strokes
    np.testing.assert_array_equal(back.layers[0].pixels, snap.layers[0].pixels)
    assert back.active_index == 3 and back.icc_profile == doc.icc_profile
    with zipfile.ZipFile(tmp_path / "snap.ora") as zf, Image.open(io.BytesIO(zf.read("mergedimage.png"))) as merged:
        ref = Document.from_layers(80, 64, [la.copy(new_id=False) for la in snap.layers])
        np.testing.assert_array_equal(np.asarray(merged.convert("RGBA")), ref.composite())


def test_layer_names_with_unicode_and_control_characters(tmp_path: Path) -> None:
    doc = Document.from_layers(4, 4, [Layer(_pixels(4, 4, 1), name="Ébauche ✓ <&> \"q\""),
                                      Layer(_pixels(4, 4, 2), name="tab\there\x01bell")])
    save_ora(doc, tmp_path / "n.ora")
    assert [la.name for la in load_ora(tmp_path / "n.ora").layers] == ["Ébauche ✓ <&> \"q\"", "tab\there" + "bell"]
