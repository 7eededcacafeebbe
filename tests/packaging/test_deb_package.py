"""packaging/deb/build_deb.sh on a stand-in bundle: the .deb's hygiene (issue 13, point 8)."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not (shutil.which("dpkg-deb") and shutil.which("readelf")),
                                reason="needs dpkg-deb and readelf (Debian)")


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("deb")
    bundle = tmp / "dist" / "ganpaint"
    (bundle / "_internal" / "LICENSES").mkdir(parents=True)
    shutil.copy("/bin/true", bundle / "ganpaint")  # an ELF program as the bootloader's stand-in
    (bundle / "_internal" / "LICENSES" / "README.md").write_text("notices\n", encoding="utf-8")
    if shutil.which("gcc"):  # a shared library shipped 0755, as the Qt wheels ship theirs
        src = tmp / "demo.c"
        src.write_text('#include <stdio.h>\nint demo(void) { return puts("demo"); }\n', encoding="utf-8")
        lib = bundle / "_internal" / "libdemo.so.1"
        subprocess.run(["gcc", "-shared", "-fPIC", "-s", "-O2", "-o", str(lib), str(src), "-Wl,-z,relro,-z,now"],
                       check=True)
        lib.chmod(0o755)
    env = {**os.environ, "PKG_DIST": str(tmp / "dist"), "PKG_BUILD": str(tmp / "build"), "PKG_DEB_COMPRESS": "gzip"}
    env.pop("PKG_LINTIAN", None)
    proc = subprocess.run(["bash", str(ROOT / "packaging" / "deb" / "build_deb.sh")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    debs = list((tmp / "dist").glob("ganpaint_*.deb"))
    assert len(debs) == 1
    stage = next((tmp / "build" / "deb").iterdir())
    return debs[0], stage


def test_control_names_homepage_a_real_maintainer_and_no_heavy_recommends(deb):
    path, stage = deb
    control = (stage / "DEBIAN" / "control").read_text(encoding="utf-8")
    fields = dict(re.findall(r"^([A-Za-z-]+): (.*)$", control, re.M))
    assert re.fullmatch(r"\d+\.\d+\.\d+-1", fields["Version"])
    assert path.name == f"ganpaint_{fields['Version']}_{fields['Architecture']}.deb"
    assert fields["Homepage"].startswith("https://")
    assert not re.search(r"\.invalid>?$", fields["Maintainer"]) and re.search(r"<[^@]+@[^>]+>$", fields["Maintainer"])
    assert "Recommends" not in fields  # xdg-utils pulled 174 packages in; it is a Suggests now
    assert fields["Depends"].startswith("libc6 (>= 2.")
    assert all(len(line) <= 80 for line in control.splitlines() if line.startswith(" "))  # the description


def test_changelog_copyright_and_md5sums(deb):
    _, stage = deb
    doc = stage / "usr" / "share" / "doc" / "ganpaint"
    control = (stage / "DEBIAN" / "control").read_text(encoding="utf-8")
    version = re.search(r"^Version: (.*)$", control, re.M).group(1)
    changelog = gzip.decompress((doc / "changelog.Debian.gz").read_bytes()).decode()
    assert changelog.startswith(f"ganpaint ({version}) ")
    assert re.search(r"^ -- .+ <.+@.+>  \w{3}, \d\d \w{3} \d{4} ", changelog, re.M)
    # DEP-5: a Format line, and every Files paragraph has Copyright and License
    copyright_text = (doc / "copyright").read_text(encoding="utf-8")
    assert copyright_text.startswith("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/")
    paragraphs = [p for p in copyright_text.split("\n\n") if p.strip()]
    files = [p for p in paragraphs if p.startswith("Files:")]
    assert files and all("\nCopyright: " in p and "\nLicense: " in p for p in files)
    assert "GPL-3" in copyright_text and "Source: https://" in copyright_text
    # md5sums: every file outside DEBIAN/, with the right sums
    listed = {}
    for line in (stage / "DEBIAN" / "md5sums").read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    files_on_disk = {str(p.relative_to(stage)) for p in stage.rglob("*")
                     if p.is_file() and not p.is_symlink() and p.relative_to(stage).parts[0] != "DEBIAN"}
    assert set(listed) == files_on_disk
    for name, digest in listed.items():
        assert hashlib.md5((stage / name).read_bytes()).hexdigest() == digest
    assert "usr/share/man/man1/ganpaint.1.gz" in listed


@pytest.mark.skipif(not shutil.which("lintian"), reason="lintian is not installed")
def test_lintian_finds_no_error_but_files_in_opt(deb):
    path, _ = deb
    out = subprocess.run(["lintian", "--tag-display-limit", "0", str(path)], capture_output=True, text=True,
                         timeout=300).stdout
    errors = [line for line in out.splitlines() if line.startswith("E:") and "dir-or-file-in-opt" not in line]
    assert not errors, out
    assert "hardening-no-pie" not in out and "no-homepage-field" not in out


def test_shared_libraries_lose_their_execute_bits_programs_keep_theirs(deb):
    _, stage = deb
    lib = stage / "opt" / "ganpaint" / "_internal" / "libdemo.so.1"
    if not lib.exists():
        pytest.skip("no gcc to make a shared library")
    assert lib.stat().st_mode & 0o777 == 0o644
    assert (stage / "opt" / "ganpaint" / "ganpaint").stat().st_mode & 0o111
