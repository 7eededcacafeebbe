"""Print the Depends line of the .deb: the Debian packages that provide the shared libraries
the frozen bundle needs but does not carry.

    python3 packaging/deb/deb_depends.py /path/to/bundle

Every ELF file in the bundle is read with ``readelf -d`` (NEEDED sonames); a soname that
no file of the bundle provides is looked up in the linker cache (``ldconfig -p``) and its
file in dpkg's database (``dpkg -S``). Sonames that this machine does not have are mapped
by KNOWN below: Qt's platform plugins link a few that a build machine may lack, and the
system libraries the bundle no longer carries (packaging/bundle_rules.py: OpenSSL, sqlite,
expat, krb5, systemd, glib, libstdc++, readline ...) must become Depends wherever the build
machine got them from. Anything else is reported on stderr and left out. libc6 gets a minimum
version: the newest GLIBC_x.y symbol version the bundle asks for.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

#: soname -> Debian 12 package, for libraries a build machine may not have installed
KNOWN = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    # system libraries the bundle leaves to Debian (bundle_rules: host libraries), Debian 12 names
    "libssl.so.3": "libssl3",
    "libcrypto.so.3": "libssl3",
    "libsqlite3.so.0": "libsqlite3-0",
    "libexpat.so.1": "libexpat1",
    "libgssapi_krb5.so.2": "libgssapi-krb5-2",
    "libkrb5.so.3": "libkrb5-3",
    "libk5crypto.so.3": "libk5crypto3",
    "libkrb5support.so.0": "libkrb5support0",
    "libcom_err.so.2": "libcom-err2",
    "libkeyutils.so.1": "libkeyutils1",
    "libsystemd.so.0": "libsystemd0",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
    "libgmodule-2.0.so.0": "libglib2.0-0",
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
    "libreadline.so.8": "libreadline8",
    "libncursesw.so.6": "libncursesw6",
    "libtinfo.so.6": "libtinfo6",
    "libpanelw.so.6": "libncursesw6",
    "libz.so.1": "zlib1g",
    "libbz2.so.1.0": "libbz2-1.0",
    "liblzma.so.5": "liblzma5",
    "libzstd.so.1": "libzstd1",
    "libffi.so.8": "libffi8",
    "libuuid.so.1": "libuuid1",
    "libgdbm.so.6": "libgdbm6",
    "libgdbm_compat.so.4": "libgdbm-compat4",
    "libnsl.so.2": "libnsl2",
    "libtirpc.so.3": "libtirpc3",
    "libmpdec.so.3": "libmpdec3",
    "libpcre2-8.so.0": "libpcre2-8-0",
    "libX11.so.6": "libx11-6",
    "libxcb.so.1": "libxcb1",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libfreetype.so.6": "libfreetype6",
    "libpng16.so.16": "libpng16-16",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
}
#: Qt plugins we do not want to pull system packages in for (optional backends: the
#: editor runs on xcb or wayland; these are for kiosk/embedded devices and printing
#: dialogs of other desktops). Their missing libraries are not dependencies.
OPTIONAL_PLUGIN_DIRS = ("egldeviceintegrations", "platformthemes", "wayland-graphics-integration-client",
                        "printsupport", "generic", "sqldrivers", "multimedia", "tls", "networkinformation",
                        "position", "sensors", "texttospeech", "webview", "virtualkeyboard",
                        "qmltooling", "renderers", "canbus", "designer", "assetimporters", "sceneparsers",
                        "geometryloaders", "renderplugins", "gamepads")
#: platform plugins the editor does not use (vnc/kms/linuxfb...)
OPTIONAL_PLATFORMS = ("libqeglfs", "libqlinuxfb", "libqvnc", "libqvkkhrdisplay", "libqminimalegl",
                      "libqdirectfb", "libqbsdfb")


def _is_elf(p: Path) -> bool:
    try:
        with p.open("rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def _optional(p: Path) -> bool:
    parts = p.parts
    if "plugins" in parts:
        after = parts[parts.index("plugins") + 1:]
        if after and after[0] in OPTIONAL_PLUGIN_DIRS:
            return True
        if after and after[0] == "platforms" and p.name.startswith(OPTIONAL_PLATFORMS):
            return True
    return False


def scan(bundle: Path) -> tuple[dict[str, Path], tuple[int, int], int]:
    """({soname the bundle needs and does not carry: first file needing it}, newest GLIBC, ELF count)."""
    elves = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink() and _is_elf(p)]
    provided = {p.name for p in bundle.rglob("*")}
    needed: dict[str, Path] = {}
    glibc = (2, 0)
    for p in elves:
        text = subprocess.run(["readelf", "-dV", "--wide", str(p)], capture_output=True, text=True).stdout
        for so in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", text):
            if so not in provided and not _optional(p):
                needed.setdefault(so, p)
        for major, minor in re.findall(r"Name: GLIBC_(\d+)\.(\d+)", text):
            glibc = max(glibc, (int(major), int(minor)))
    return needed, glibc, len(elves)


def linker_cache() -> dict[str, str]:
    cache: dict[str, str] = {}
    for line in subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout.splitlines():
        m = re.match(r"\s+(\S+) \(([^)]*)\) => (\S+)", line)
        if m:  # the first entry of a soname is the native one on a single-arch machine
            cache.setdefault(m.group(1), m.group(3))
    return cache


def dpkg_owner(path: str) -> str:
    """The package that installed ``path`` (dpkg -S), or ''."""
    for candidate in (str(Path(path).resolve()), path):
        try:
            out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        except OSError:
            return ""
        if out.returncode == 0:
            return out.stdout.split(":")[0].strip()
    return ""


def package_of(soname: str, cache: dict[str, str], owner: Callable[[str], str] = dpkg_owner) -> str:
    """The Debian package that provides ``soname``: this machine's dpkg database first, else KNOWN."""
    path = cache.get(soname)
    return (owner(path) if path else "") or KNOWN.get(soname, "")


def depends(needed: dict[str, Path], glibc: tuple[int, int], cache: dict[str, str],
            owner: Callable[[str], str] = dpkg_owner, bundle: Path | None = None) -> list[str]:
    """The Depends list: libc6 with its minimum version, then the other packages, sorted."""
    packages: set[str] = set()
    for so, who in sorted(needed.items()):
        pkg = package_of(so, cache, owner)
        if pkg:
            packages.add(pkg)
        else:
            where = who.relative_to(bundle) if bundle else who
            print(f"deb_depends: no package known for {so} (needed by {where})", file=sys.stderr)
    packages.discard("libc6")
    return [f"libc6 (>= {glibc[0]}.{glibc[1]})"] + sorted(packages)


def main(bundle: Path) -> int:
    needed, glibc, n_elves = scan(bundle)
    deps = depends(needed, glibc, linker_cache(), bundle=bundle)
    print(", ".join(deps))
    print(f"deb_depends: {n_elves} ELF files, {len(needed)} external libraries, {len(deps)} packages",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
