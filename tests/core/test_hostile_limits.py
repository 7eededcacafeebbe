"""Hostile .ora files are refused before anything is decoded, with one sentence naming the file;
interrupted saves leave no garbage behind; saving through a symbolic link writes its target.

Every hostile file is built here. Pictures that declare huge sizes are hand-made PNGs whose
header tells the size and whose pixel data is a few bytes (they are refused before decoding,
so the data never matters); "huge" zip members are small members whose declared size in the
zip's central directory is patched (zipfile never unpacks more than the declared size).
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganpaint.cli.main import main as cli_main
from ganpaint.core import atomic
from ganpaint.core.atomic import atomic_write, clean_stale_temps, is_temp_name
from ganpaint.core.document import Document
from ganpaint.core.errors import FileFormatError, GanpaintError, LimitExceededError
from ganpaint.core.layers import Layer
from ganpaint.core.ora import (
    DEFAULT_MAX_DOCUMENT_PIXELS,
    MAX_LAYERS,
    MAX_XML_DEPTH,
    load_ora,
    read_ora,
    save_ora,
)
from ganpaint.core.recovery import RecoveryStore
from ganpaint.core.settings import Settings

NS = 'xmlns:ganpaint="https://ganpaint.org/ns/ora/1"'


# ------------------------------------------------------------------------------ builders


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height RGBA pixels and holds a few rows of data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _png(width: int, height: int, seed: int = 0) -> bytes:
    import io

    rgba = np.random.default_rng(seed).integers(0, 256, (height, width, 4), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    return buf.getvalue()


def _ora(path: Path, stack_xml: str | bytes, members: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "image/openraster", compress_type=zipfile.ZIP_STORED)
        data = stack_xml.encode("utf-8") if isinstance(stack_xml, str) else stack_xml
        zf.writestr("stack.xml", data, compress_type=zipfile.ZIP_DEFLATED)
        for name, blob in (members or {}).items():
            zf.writestr(name, blob, compress_type=zipfile.ZIP_DEFLATED)
    return path


def _declare_size(path: Path, member: str, size: int) -> None:
    """Patch the uncompressed size the zip's central directory declares for ``member``."""
    raw = bytearray(path.read_bytes())
    needle = member.encode()
    pos = 0
    while True:
        pos = raw.find(b"PK\x01\x02", pos)
        assert pos >= 0, member
        name_len = struct.unpack_from("<H", raw, pos + 28)[0]
        if bytes(raw[pos + 46: pos + 46 + name_len]) == needle:
            struct.pack_into("<I", raw, pos + 24, size)
            break
        pos += 4
    path.write_bytes(bytes(raw))


def _layers_xml(n: int, w: int = 0, h: int = 0, extra: str = "") -> str:
    layers = "".join(f'<layer name="L{i}" src="data/l{i}.png" {extra}/>' for i in range(n))
    size = f' w="{w}" h="{h}"' if w else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><image version="0.0.6"{size} {NS}><stack>{layers}</stack></image>'


def twelve_huge_layers(folder: Path) -> Path:
    """12 layers of 15,000 x 15,000 (225 Mpx each, under the per-picture limit): 2.7 Gpx in ~10 KB."""
    members = {f"data/l{i}.png": _png_header_only(15_000, 15_000) for i in range(12)}
    return _ora(folder / "twelve.ora", _layers_xml(12, 15_000, 15_000), members)


def huge_attachments(folder: Path) -> Path:
    """A result layer with 4 attachments declared as 1.5 GB each."""
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><image version="0.0.6" w="8" h="8" {NS}><stack>'
           '<layer name="R" src="data/r.png" ganpaint:id="abc" ganpaint:tool="t" ganpaint:kind="result"/>'
           "</stack></image>")
    members = {"data/r.png": _png(8, 8)}
    members.update({f"ganpaint/abc/blob{i}.bin": b"\0" * 1000 for i in range(4)})
    path = _ora(folder / "attachments.ora", xml, members)
    for i in range(4):
        _declare_size(path, f"ganpaint/abc/blob{i}.bin", 1_500_000_000)
    return path


def infinite_x(folder: Path) -> Path:
    return _ora(folder / "inf.ora", _layers_xml(1, 8, 8, extra='x="1e400"'), {"data/l0.png": _png(8, 8)})


def nested_groups(folder: Path, depth: int = 50_000) -> Path:
    xml = ('<?xml version="1.0" encoding="UTF-8"?><image version="0.0.6" w="8" h="8"><stack>'
           + "<stack>" * depth + '<layer name="deep" src="data/l0.png"/>' + "</stack>" * depth
           + "</stack></image>")
    return _ora(folder / "nested.ora", xml, {"data/l0.png": _png(8, 8)})


def many_layers(folder: Path) -> Path:
    return _ora(folder / "many.ora", _layers_xml(MAX_LAYERS + 1, 8, 8), {"data/l0.png": _png(8, 8)})


def huge_stack_xml(folder: Path) -> Path:
    filler = "<!--" + "x" * (17 << 20) + "-->"
    return _ora(folder / "bigxml.ora", _layers_xml(1, 8, 8).replace("<stack>", filler + "<stack>"),
                {"data/l0.png": _png(8, 8)})


def utf16_entities(folder: Path) -> Path:
    xml = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE image [<!ENTITY a "aaaaaaaaaa">'
           '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
           '<image w="8" h="8"><stack><layer name="&b;" src="data/l0.png"/></stack></image>')
    return _ora(folder / "utf16.ora", xml.encode("utf-16"), {"data/l0.png": _png(8, 8)})


HOSTILE = {
    "twelve_huge_layers": twelve_huge_layers,
    "huge_attachments": huge_attachments,
    "infinite_x": infinite_x,
    "nested_groups": nested_groups,
    "many_layers": many_layers,
    "huge_stack_xml": huge_stack_xml,
    "utf16_entities": utf16_entities,
}


# ------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_file_is_refused_in_one_sentence_naming_it(tmp_path: Path, kind: str) -> None:
    path = HOSTILE[kind](tmp_path)
    t0 = time.perf_counter()
    with pytest.raises(FileFormatError) as info:
        load_ora(path)
    assert time.perf_counter() - t0 < 5
    message = str(info.value)
    assert str(path) in message and info.value.path == str(path)
    assert "\n" not in message and message.endswith(".") and message.count(". ") == 0, message


@pytest.mark.parametrize("kind", ["twelve_huge_layers", "huge_attachments", "infinite_x", "nested_groups",
                                  "many_layers", "huge_stack_xml"])
def test_limit_refusals_are_limit_errors(tmp_path: Path, kind: str) -> None:
    with pytest.raises(LimitExceededError) as info:
        read_ora(HOSTILE[kind](tmp_path))
    assert info.value.reason in ("too large", "too deep", "too many layers", "bad coordinate")


def test_the_document_budget_counts_every_layer(tmp_path: Path) -> None:
    # three 50 x 50 layers on a 50 x 50 canvas = 10,000 pixels: within a budget of 10,000 ...
    members = {f"data/l{i}.png": _png(50, 50, i) for i in range(4)}
    ok = _ora(tmp_path / "ok.ora", _layers_xml(3, 50, 50), members)
    assert len(read_ora(ok, max_document_pixels=10_000).layers) == 3
    # ... a fourth layer is over it, although each picture is far below max_pixels
    over = _ora(tmp_path / "over.ora", _layers_xml(4, 50, 50), members)
    with pytest.raises(LimitExceededError, match="document limit") as info:
        read_ora(over, max_document_pixels=10_000)
    assert "over.ora" in str(info.value) and info.value.reason == "too large"
    assert len(read_ora(over).layers) == 4  # the default budget is far larger


def test_the_same_picture_used_by_many_layers_counts_each_time(tmp_path: Path) -> None:
    xml = _layers_xml(0, 40, 40).replace("<stack></stack>", "<stack>" + '<layer src="data/l0.png"/>' * 10 + "</stack>")
    path = _ora(tmp_path / "reuse.ora", xml, {"data/l0.png": _png(40, 40)})
    with pytest.raises(LimitExceededError):
        read_ora(path, max_document_pixels=40 * 40 * 5)
    assert len(read_ora(path, max_document_pixels=40 * 40 * 11).layers) == 10


def test_attachments_count_four_bytes_a_pixel(tmp_path: Path) -> None:
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><image w="10" h="10" {NS}><stack>'
           '<layer name="R" src="data/r.png" ganpaint:id="abc" ganpaint:tool="t" ganpaint:kind="result"/>'
           "</stack></image>")
    path = _ora(tmp_path / "att.ora", xml, {"data/r.png": _png(10, 10), "ganpaint/abc/a.bin": b"\1" * 4000})
    # canvas 100 + layer 100 + 4000 bytes / 4 = 1200
    assert read_ora(path, max_document_pixels=1200).layers[0].result.attachments == {"a.bin": b"\1" * 4000}
    with pytest.raises(LimitExceededError):
        read_ora(path, max_document_pixels=1199)


def test_the_budget_is_a_setting_with_a_gigapixel_default(tmp_path: Path) -> None:
    assert Settings().max_document_pixels == DEFAULT_MAX_DOCUMENT_PIXELS == 1_000_000_000
    settings = Settings.from_dict({"max_document_pixels": 5000})
    assert settings.max_document_pixels == 5000 and not settings.notes
    bad = Settings.from_dict({"max_document_pixels": "lots"})
    assert bad.max_document_pixels == 1_000_000_000 and bad.notes


def test_good_coordinates_still_open_and_groups_keep_their_offsets(tmp_path: Path) -> None:
    xml = ('<?xml version="1.0" encoding="UTF-8"?><image w="20" h="20"><stack>'
           '<stack x="3" y="4"><layer src="data/l0.png" x="-2.6" y="1e2"/></stack></stack></image>')
    contents = read_ora(_ora(tmp_path / "g.ora", xml, {"data/l0.png": _png(8, 8)}))
    assert (contents.layers[0].x, contents.layers[0].y) == (0, 104)


@pytest.mark.parametrize("value", ["1e400", "-inf", "nan", "5e6"])
def test_absurd_coordinates_are_refused(tmp_path: Path, value: str) -> None:
    path = _ora(tmp_path / "c.ora", _layers_xml(1, 8, 8, extra=f'y="{value}"'), {"data/l0.png": _png(8, 8)})
    with pytest.raises(LimitExceededError, match="coordinate") as info:
        read_ora(path)
    assert info.value.reason == "bad coordinate"


def test_an_infinite_canvas_size_is_refused(tmp_path: Path) -> None:
    path = _ora(tmp_path / "w.ora", _layers_xml(1).replace("<image ", '<image w="1e400" h="8" '),
                {"data/l0.png": _png(8, 8)})
    with pytest.raises(LimitExceededError, match="w.ora"):
        read_ora(path)


def test_nesting_just_within_the_limit_opens(tmp_path: Path) -> None:
    # image > stack > (depth - 3) groups > layer
    path = nested_groups(tmp_path, depth=MAX_XML_DEPTH - 3)
    assert len(read_ora(path).layers) == 1
    with pytest.raises(LimitExceededError, match="nests deeper"):
        read_ora(nested_groups(tmp_path, depth=MAX_XML_DEPTH - 2))


def test_deeply_nested_json_in_a_result_layer_is_dropped_with_a_note(tmp_path: Path) -> None:
    deep = "[" * 5000 + "]" * 5000
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><image w="8" h="8" {NS}><stack>'
           f'<layer name="R" src="data/r.png" ganpaint:tool="t" ganpaint:params=\'{{"a": {deep}}}\'/>'
           "</stack></image>")
    contents = read_ora(_ora(tmp_path / "json.ora", xml, {"data/r.png": _png(8, 8)}))
    assert contents.layers[0].result.params == {}
    assert any("params are unreadable" in n for n in contents.notes)


def test_peak_memory_while_refusing_stays_under_1_gb(tmp_path: Path) -> None:
    """Each hostile file is refused in a fresh process; its peak resident memory is measured."""
    paths = [str(build(tmp_path)) for build in HOSTILE.values()]
    script = textwrap.dedent("""
        import json, resource, sys
        from ganpaint.core.errors import GanpaintError
        from ganpaint.core.ora import load_ora
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        refused = []
        for path in sys.argv[1:]:
            try:
                load_ora(path)
            except GanpaintError as exc:
                refused.append(str(exc))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"base_kb": base, "peak_kb": peak, "refused": refused}))
    """)
    pytest.importorskip("resource")
    out = subprocess.run([sys.executable, "-c", script, *paths], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert len(report["refused"]) == len(paths), report
    peak_bytes = report["peak_kb"] * 1024  # ru_maxrss is in kilobytes on Linux
    assert peak_bytes < 1 << 30, report
    # and refusing costs little beyond the interpreter and imports (the 17 MB stack.xml is the largest)
    assert (report["peak_kb"] - report["base_kb"]) * 1024 < 200 << 20, report


# ------------------------------------------------------------------------------ CLI


def test_the_cli_names_the_file_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for build in (infinite_x, nested_groups, twelve_huge_layers):
        path = build(tmp_path)
        code = cli_main(["convert", str(path), str(tmp_path / "out.png")])
        err = capsys.readouterr().err.strip()
        assert code == 1
        assert err.count("\n") == 0 and str(path) in err and "Traceback" not in err, err
        assert not (tmp_path / "out.png").exists()


def test_the_cli_budget_comes_from_the_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    members = {f"data/l{i}.png": _png(50, 50, i) for i in range(2)}
    path = _ora(tmp_path / "two.ora", _layers_xml(2, 50, 50), members)
    monkeypatch.setenv("GANPAINT_MAX_DOCUMENT_PIXELS", "5000")
    assert cli_main(["convert", str(path), str(tmp_path / "out.png")]) == 1
    assert "document limit" in capsys.readouterr().err
    monkeypatch.setenv("GANPAINT_MAX_DOCUMENT_PIXELS", "7500")
    assert cli_main(["convert", str(path), str(tmp_path / "out.png")]) == 0


# ------------------------------------------------------------------------------ temp files


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _leftover(folder: Path, target: str, pid: int, age_s: float, size: int = 10) -> Path:
    p = folder / f".{target}.ganpaint-{pid}-abcd1234.tmp"
    p.write_bytes(b"\0" * size)
    t = time.time() - age_s
    os.utime(p, (t, t))
    return p


def _doc() -> Document:
    return Document.from_layers(4, 4, [Layer(np.full((4, 4, 4), 200, np.uint8), name="a")])


def test_temp_files_are_named_recognisably(tmp_path: Path) -> None:
    target = tmp_path / "pic.ora"
    with atomic_write(target) as fh:
        fh.write(b"x")
        temps = [p.name for p in tmp_path.iterdir() if p.name != "pic.ora"]
        assert len(temps) == 1 and is_temp_name(temps[0]), temps
        assert f"-{os.getpid()}-" in temps[0]
    assert not is_temp_name("pic.ora") and not is_temp_name(".pic.ora.abc.tmp")


def test_the_next_save_into_a_folder_removes_stale_temps(tmp_path: Path) -> None:
    dead = _dead_pid()
    old_dead = _leftover(tmp_path, "a.ora", dead, age_s=600, size=1 << 20)
    fresh_dead = _leftover(tmp_path, "b.ora", dead, age_s=0)  # its writer may be another computer's
    live_recent = _leftover(tmp_path, "c.ora", os.getppid(), age_s=600)
    live_ancient = _leftover(tmp_path, "d.ora", os.getppid(), age_s=atomic.STALE_AFTER_S + 60)
    strangers = [tmp_path / ".e.ora.tmp", tmp_path / "notes.tmp", tmp_path / ".f.ora.1234.tmp"]
    for p in strangers:
        p.write_bytes(b"keep")
        os.utime(p, (0, 0))
    save_ora(_doc(), tmp_path / "new.ora")
    assert not old_dead.exists() and not live_ancient.exists()
    assert fresh_dead.exists() and live_recent.exists()
    assert all(p.exists() for p in strangers)


def test_a_killed_save_leaves_a_temp_that_the_next_save_removes(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    if os.name != "posix":
        pytest.skip("SIGKILL")
    child = textwrap.dedent(f"""
        import sys, time
        from ganpaint.core.atomic import atomic_write
        with atomic_write({str(tmp_path / "doc.ora")!r}) as fh:
            fh.write(b"\\0" * (4 << 20)); fh.flush()
            print("writing", flush=True)
            time.sleep(60)
    """)
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    leftovers = [p for p in tmp_path.iterdir() if is_temp_name(p.name)]
    assert len(leftovers) == 3 and not (tmp_path / "doc.ora").exists()
    monkeypatch.setattr(atomic, "DEAD_WRITER_GRACE_S", 0)
    save_ora(_doc(), tmp_path / "doc.ora")
    assert [p.name for p in tmp_path.iterdir()] == ["doc.ora"]
    assert len(load_ora(tmp_path / "doc.ora").layers) == 1


def test_writes_in_progress_are_never_cleaned(tmp_path: Path) -> None:
    with atomic_write(tmp_path / "a.bin") as fh:
        fh.write(b"x")
        removed = clean_stale_temps(tmp_path, now=time.time() + 10 * atomic.STALE_AFTER_S)
        assert removed == []
    assert (tmp_path / "a.bin").read_bytes() == b"x"


def test_the_recovery_folder_is_cleaned_at_start(tmp_path: Path) -> None:
    stale = _leftover(tmp_path, "s-1.ora", _dead_pid(), age_s=600)
    RecoveryStore(tmp_path)
    assert not stale.exists()


# ------------------------------------------------------------------------------ symlinks


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need privileges on Windows")
def test_saving_through_a_symlink_writes_its_target(tmp_path: Path) -> None:
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    real = real_dir / "doc.ora"
    save_ora(_doc(), real)
    link = tmp_path / "link.ora"
    link.symlink_to(real)
    doc = load_ora(link)
    doc.add_layer(name="more")
    save_ora(doc, link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert len(load_ora(real).layers) == 2
    assert [p.name for p in real_dir.iterdir()] == ["doc.ora"] and sorted(p.name for p in tmp_path.iterdir()) == [
        "link.ora", "real"]


def test_opening_never_raises_anything_but_ganpaint_errors(tmp_path: Path) -> None:
    # a few malformed variants around the limits: each is a GanpaintError naming the file
    variants = {
        "noxml.ora": (_layers_xml(1, 8, 8).replace("</image>", ""), {"data/l0.png": _png(8, 8)}),
        "badpng.ora": (_layers_xml(1, 8, 8), {"data/l0.png": _png_header_only(8, 8)[:20]}),
        "nosize.ora": (_layers_xml(1), {"data/l0.png": _png_header_only(20_000, 20_000)}),
    }
    for name, (xml, members) in variants.items():
        path = _ora(tmp_path / name, xml, members)
        with pytest.raises(GanpaintError) as info:
            read_ora(path)
        assert name in str(info.value)
