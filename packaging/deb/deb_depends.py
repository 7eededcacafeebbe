"""Print the Depends line of the .deb: the Debian packages that provide the shared libraries
the frozen bundle needs but does not carry.

    python3 packaging/deb/deb_depends.py /path/to/bundle

Every ELF file in the bundle is read with ``readelf -d`` (NEEDED sonames); a soname that
no file of the bundle provides is looked up in the linker cache (``ldconfig -p``) and its
file in dpkg's database (``dpkg -S``). Sonames that this machine does not have are mapped
by KNOWN below (Qt's platform plugins dlopen-link a few that a build machine may lack);
anything else is reported on stderr and left out. libc6 gets a minimum version: the
newest GLIBC_x.y symbol version the bundle asks for.
"""

from __future__ import annotations

import re
import subprocess
import sys
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


def main(bundle: Path) -> int:
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
    cache: dict[str, str] = {}
    for line in subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout.splitlines():
        m = re.match(r"\s+(\S+) \(([^)]*)\) => (\S+)", line)
        if m:  # the first entry of a soname is the native one on a single-arch machine
            cache.setdefault(m.group(1), m.group(3))
    packages: set[str] = set()
    for so, who in sorted(needed.items()):
        path = cache.get(so)
        pkg = ""
        if path:
            out = subprocess.run(["dpkg", "-S", str(Path(path).resolve())], capture_output=True, text=True)
            if out.returncode != 0:
                out = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
            if out.returncode == 0:
                pkg = out.stdout.split(":")[0].strip()
        pkg = pkg or KNOWN.get(so, "")
        if pkg:
            packages.add(pkg)
        else:
            print(f"deb_depends: no package known for {so} (needed by {who.relative_to(bundle)})", file=sys.stderr)
    packages.discard("libc6")
    deps = [f"libc6 (>= {glibc[0]}.{glibc[1]})"] + sorted(packages)
    print(", ".join(deps))
    print(f"deb_depends: {len(elves)} ELF files, {len(needed)} external libraries, {len(deps)} packages",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
