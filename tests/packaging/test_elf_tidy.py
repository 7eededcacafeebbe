"""packaging/elf_tidy.py: no search paths of the build machine, no symbol tables (lintian, issue 13)."""

from __future__ import annotations

import ctypes
import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("elf_tidy", ROOT / "packaging" / "elf_tidy.py")
ET = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ET)

pytestmark = pytest.mark.skipif(not (shutil.which("gcc") and shutil.which("strip")), reason="needs gcc and strip")


def _lib(folder: Path, name: str, rpath: str) -> Path:
    src = folder / f"{name}.c"
    src.write_text("int answer(void) { return 42; }\n", encoding="utf-8")
    out = folder / f"{name}.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-g", "-o", str(out), str(src), f"-Wl,-rpath,{rpath}"], check=True)
    src.unlink()
    return out


def test_absolute_search_paths_go_origin_ones_stay_and_symbols_are_stripped(tmp_path):
    internal = tmp_path / "bundle" / "_internal"
    internal.mkdir(parents=True)
    only_abs = _lib(internal, "libabs", "/root/.pyenv/versions/3.11.7/lib")
    mixed = _lib(internal, "libmixed", "$ORIGIN/../lib:/opt/elsewhere/lib:$ORIGIN")
    origin = _lib(internal, "liborigin", "$ORIGIN")
    top = tmp_path / "bundle" / "ganpaint"  # the bootloader: never touched
    shutil.copy(only_abs, top)
    before_top = top.read_bytes()
    assert ET.search_paths(only_abs) and ET.has_symbol_table(only_abs)

    counts = ET.tidy(tmp_path / "bundle")

    assert counts["search_paths"] == 2 and counts["stripped"] == 3 and counts["strip_failed"] == 0
    assert ET.search_paths(only_abs) == {}
    assert list(ET.search_paths(mixed).values()) == ["$ORIGIN/../lib:$ORIGIN"]
    assert list(ET.search_paths(origin).values()) == ["$ORIGIN"]
    assert not any(ET.has_symbol_table(p) for p in (only_abs, mixed, origin))
    assert top.read_bytes() == before_top
    readelf = subprocess.run(["readelf", "-d", str(only_abs)], capture_output=True, text=True).stdout
    assert "RPATH" not in readelf and "RUNPATH" not in readelf
    for p in (only_abs, mixed, origin):  # still loads and runs
        assert ctypes.CDLL(str(p)).answer() == 42


def test_a_library_strip_would_break_is_left_as_it_was(tmp_path):
    """binutils' strip leaves numpy's patchelf-edited OpenBLAS with load segments the dynamic
    loader refuses ("address/offset not page-aligned"): the bundle keeps the original."""
    import numpy

    libs = sorted(Path(numpy.__file__).parent.parent.glob("numpy.libs/libscipy_openblas*.so"))
    if not libs or shutil.which("strip") is None:
        pytest.skip("no vendored OpenBLAS in this numpy, or no strip")
    lib = tmp_path / "_internal" / "numpy.libs" / libs[0].name
    lib.parent.mkdir(parents=True)
    shutil.copyfile(libs[0], lib)
    before = lib.read_bytes()
    assert ET.loads_page_aligned(lib)
    probe = tmp_path / "probe.so"
    subprocess.run(["strip", "--strip-unneeded", "-o", str(probe), str(lib)], check=True)
    if ET.loads_page_aligned(probe):
        pytest.skip("this strip keeps the segments aligned: nothing to guard against here")
    counts = ET.tidy(tmp_path)
    assert counts["strip_failed"] >= 1
    assert lib.read_bytes() == before and ET.loads_page_aligned(lib)
    ctypes.CDLL(str(lib))  # still loads
