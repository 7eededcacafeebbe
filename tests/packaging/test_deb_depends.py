"""packaging/deb/deb_depends.py: the system libraries the bundle leaves out become Depends (issue 13)."""

from __future__ import annotations

import importlib
import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


DD = _load("deb_depends", ROOT / "packaging" / "deb" / "deb_depends.py")
RULES = _load("bundle_rules", ROOT / "packaging" / "bundle_rules.py")


def test_every_left_out_system_library_has_a_debian_package():
    # with no linker cache and no dpkg (a build machine without the library), KNOWN answers
    for soname in RULES.EXAMPLE_HOST_SONAMES:
        assert DD.package_of(soname, {}, owner=lambda _p: ""), soname
    assert DD.package_of("libssl.so.3", {}) == "libssl3"
    assert DD.package_of("libstdc++.so.6", {}) == "libstdc++6"
    assert DD.package_of("libglib-2.0.so.0", {}) == "libglib2.0-0"


def test_dpkg_answers_first_and_libc6_gets_a_floor():
    needed = {"libfoo.so.1": Path("x"), "libssl.so.3": Path("y"), "libc.so.6": Path("z")}
    cache = {"libfoo.so.1": "/usr/lib/libfoo.so.1", "libc.so.6": "/lib/libc.so.6"}
    owners = {"/usr/lib/libfoo.so.1": "libfoo1", "/lib/libc.so.6": "libc6"}
    deps = DD.depends(needed, (2, 34), cache, owner=lambda p: owners.get(p, ""))
    assert deps == ["libc6 (>= 2.34)", "libfoo1", "libssl3"]


def _stdlib_module(name: str) -> Path | None:
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    path = getattr(module, "__file__", None)
    return Path(path) if path and path.endswith(".so") else None


@pytest.mark.skipif(not (shutil.which("readelf") and shutil.which("dpkg") and shutil.which("ldconfig")),
                    reason="needs readelf, dpkg and ldconfig (a Debian build machine)")
def test_a_bundle_needing_openssl_and_sqlite_depends_on_their_packages(tmp_path):
    ssl, sqlite = _stdlib_module("_ssl"), _stdlib_module("_sqlite3")
    if not (ssl and sqlite):
        pytest.skip("this Python has no shared _ssl/_sqlite3 modules")
    lib = tmp_path / "ganpaint" / "_internal" / "python3.11" / "lib-dynload"
    lib.mkdir(parents=True)
    shutil.copy(ssl, lib)
    shutil.copy(sqlite, lib)
    needed, glibc, n = DD.scan(tmp_path / "ganpaint")
    assert n == 2 and "libssl.so.3" in needed and glibc >= (2, 2)
    deps = DD.depends(needed, glibc, DD.linker_cache(), bundle=tmp_path / "ganpaint")
    assert deps[0].startswith("libc6 (>= 2.")
    assert "libssl3" in deps and "libsqlite3-0" in deps
