"""Tidy the ELF files of the frozen bundle (Linux) after PyInstaller, before it is tested and packed.

* **Search paths of the build machine**: an RPATH/RUNPATH entry that is an absolute folder (pyenv's
  ``/root/.pyenv/versions/3.11.7/lib`` in its libpython and lib-dynload modules, for one) means
  nothing on the user's machine and makes lintian report ``custom-library-search-path``. Those
  entries are removed; ``$ORIGIN`` entries (the wheels' own, relative to the library) stay.
  Done in place on the dynamic section, like ``chrpath -d``: no tool needed.
* **Symbol tables**: shared objects that still carry a ``.symtab`` (torch's and numpy's libraries,
  the Python runtime) are stripped as Debian's dh_strip does (``strip --strip-unneeded
  --remove-section=.comment --remove-section=.note``): the dynamic symbols that
  linking and loading use stay, the static symbol table and debug sections go (lintian:
  ``unstripped-binary-or-object``; and the bundle gets smaller).

The programs at the top of the bundle (``ganpaint``, PyInstaller's bootloader with its archive
appended to it) are never touched: stripping one would cut that archive off.

    python3 packaging/elf_tidy.py dist/ganpaint     # build.sh runs it on Linux
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

DT_NULL, DT_STRTAB, DT_RPATH, DT_RUNPATH = 0, 5, 15, 29
PT_LOAD, PT_DYNAMIC = 1, 2
SHT_SYMTAB = 2


def _elf64le(f) -> bool:
    f.seek(0)
    ident = f.read(16)
    return len(ident) == 16 and ident[:4] == b"\x7fELF" and ident[4] == 2 and ident[5] == 1


def _program_headers(f) -> list[tuple[int, int, int, int]]:
    """[(p_type, p_offset, p_vaddr, p_filesz)] of an ELF64 little-endian file."""
    f.seek(0x20)
    (phoff,) = struct.unpack("<Q", f.read(8))
    f.seek(0x36)
    phentsize, phnum = struct.unpack("<HH", f.read(4))
    out = []
    for i in range(phnum):
        f.seek(phoff + i * phentsize)
        p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack("<IIQQQQ", f.read(40))
        out.append((p_type, p_offset, p_vaddr, p_filesz))
    return out


def _dynamic(f) -> tuple[int, list[tuple[int, int]], int] | None:
    """(file offset of the dynamic array, its entries up to DT_NULL, room in entries), or None."""
    dyn = [h for h in _program_headers(f) if h[0] == PT_DYNAMIC]
    if not dyn:
        return None
    _, offset, _, size = dyn[0]
    f.seek(offset)
    raw = f.read(size)
    entries = []
    for i in range(len(raw) // 16):
        tag, val = struct.unpack_from("<qQ", raw, i * 16)
        if tag == DT_NULL:
            break
        entries.append((tag, val))
    return offset, entries, len(raw) // 16


def _file_offset(f, vaddr: int) -> int:
    for p_type, p_offset, p_vaddr, p_filesz in _program_headers(f):
        if p_type == PT_LOAD and p_vaddr <= vaddr < p_vaddr + p_filesz:
            return vaddr - p_vaddr + p_offset
    raise ValueError("address outside the loaded segments")


def _string(f, offset: int) -> bytes:
    f.seek(offset)
    out = b""
    while not out.endswith(b"\0"):
        chunk = f.read(256)
        if not chunk:
            break
        out += chunk
    return out.split(b"\0", 1)[0]


def search_paths(path: Path) -> dict[str, str]:
    """{"RPATH"|"RUNPATH": value} of an ELF64 little-endian file ({} for anything else)."""
    with open(path, "rb") as f:
        if not _elf64le(f):
            return {}
        found = _dynamic(f)
        if not found:
            return {}
        _, entries, _ = found
        strtab = next((v for t, v in entries if t == DT_STRTAB), None)
        if strtab is None:
            return {}
        base = _file_offset(f, strtab)
        names = {DT_RPATH: "RPATH", DT_RUNPATH: "RUNPATH"}
        return {names[t]: _string(f, base + v).decode("utf-8", "replace") for t, v in entries if t in names}


def _relative(part: str) -> bool:
    return part.startswith(("$ORIGIN", "${ORIGIN}"))


def drop_absolute_search_paths(path: Path) -> list[str]:
    """Remove the non-$ORIGIN parts of the file's RPATH/RUNPATH; returns the parts removed."""
    removed: list[str] = []
    with open(path, "r+b") as f:
        if not _elf64le(f):
            return removed
        found = _dynamic(f)
        if not found:
            return removed
        offset, entries, room = found
        strtab = next((v for t, v in entries if t == DT_STRTAB), None)
        if strtab is None:
            return removed
        base = _file_offset(f, strtab)
        kept_entries = []
        for tag, val in entries:
            if tag not in (DT_RPATH, DT_RUNPATH):
                kept_entries.append((tag, val))
                continue
            old = _string(f, base + val)
            parts = [p for p in old.decode("utf-8", "replace").split(":") if p]
            keep = [p for p in parts if _relative(p)]
            removed += [p for p in parts if not _relative(p)]
            if not keep:
                continue  # the whole entry goes
            kept_entries.append((tag, val))
            if len(keep) != len(parts):  # shorter string in place, NUL-padded
                new = ":".join(keep).encode()
                f.seek(base + val)
                f.write(new + b"\0" * (len(old) - len(new) + 1))
        if len(kept_entries) != len(entries):
            f.seek(offset)
            padded = kept_entries + [(DT_NULL, 0)] * (room - len(kept_entries))
            f.write(b"".join(struct.pack("<qQ", t, v) for t, v in padded))
    return removed


def has_symbol_table(path: Path) -> bool:
    with open(path, "rb") as f:
        if not _elf64le(f):
            return False
        f.seek(0x28)
        (shoff,) = struct.unpack("<Q", f.read(8))
        f.seek(0x3A)
        shentsize, shnum = struct.unpack("<HH", f.read(4))
        for i in range(shnum):
            f.seek(shoff + i * shentsize + 4)
            (sh_type,) = struct.unpack("<I", f.read(4))
            if sh_type == SHT_SYMTAB:
                return True
    return False


def _is_elf(p: Path) -> bool:
    try:
        with open(p, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def loads_page_aligned(path: Path, page: int = 4096) -> bool:
    """True when every PT_LOAD segment's file offset and address agree modulo the page size,
    which the dynamic loader requires ("ELF load command address/offset not page-aligned").
    binutils' strip can break this on libraries patchelf edited (auditwheel's vendored
    libraries, such as numpy's OpenBLAS): such a result must not be kept."""
    with open(path, "rb") as f:
        if not _elf64le(f):
            return True
        return all(off % page == vaddr % page for typ, off, vaddr, _size in _program_headers(f) if typ == 1)


def tidy(bundle: Path, strip: str | None = "strip") -> dict[str, int]:
    """Tidy every ELF file below ``bundle/_internal``; returns counts."""
    counts = {"elf": 0, "search_paths": 0, "stripped": 0, "strip_failed": 0}
    strip_tool = shutil.which(strip) if strip else None
    for p in sorted(Path(bundle, "_internal").rglob("*")):
        if p.is_symlink() or not p.is_file() or not _is_elf(p):
            continue
        counts["elf"] += 1
        if drop_absolute_search_paths(p):
            counts["search_paths"] += 1
        if strip_tool and has_symbol_table(p) and not p.name.endswith((".o", ".ko")):
            mode = p.stat().st_mode
            tmp = p.with_name(p.name + ".elf-tidy")
            done = subprocess.run([strip_tool, "--strip-unneeded", "--remove-section=.comment",
                                   "--remove-section=.note", "-o", str(tmp), str(p)], capture_output=True, text=True)
            if done.returncode == 0 and loads_page_aligned(tmp):
                os.replace(tmp, p)
                p.chmod(mode)
                counts["stripped"] += 1
            else:
                tmp.unlink(missing_ok=True)
                counts["strip_failed"] += 1
                why = done.stderr.strip() if done.returncode else "the result's load segments are not page-aligned"
                print(f"elf_tidy: left unstripped {p.relative_to(bundle)}: {why}", file=sys.stderr)
    return counts


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    bundle = Path(argv[0])
    if not (bundle / "_internal").is_dir():
        print(f"elf_tidy: {bundle} has no _internal folder (not a PyInstaller one-folder bundle)", file=sys.stderr)
        return 1
    c = tidy(bundle)
    print(f"elf_tidy: {c['elf']} ELF files; absolute search paths removed from {c['search_paths']}, "
          f"{c['stripped']} stripped ({c['strip_failed']} could not be)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
