"""What the frozen bundle leaves out, in one importable place.

packaging/ganpaint.spec applies these rules to PyInstaller's tables of contents (TOC entries
``(dest, src, typecode)``); tests/packaging/test_bundle_rules.py checks them without a build.

Three kinds of files are left out:

* **not needed**: torch's headers, cmake files, C++ test programs and test libraries, static
  libraries, stub files and every ``tests/`` folder (``DROP_DIRS``, ``DROP_FILES``, suffixes);
* **GTK**: Qt's GTK 3 platform theme (``libqgtk3.so``) and the GTK stack PyInstaller collects
  for it alone (``GTK_LIBS``: libgtk-3, libgdk-3, cairo, pango, gdk-pixbuf, harfbuzz, atk ...).
  GANPaint draws with Fusion and never asks for the GTK theme; with the plugin gone nothing in
  the bundle needs those libraries, so they are neither shipped nor Depends of the .deb;
* **host libraries** (Linux): every shared library PyInstaller copied from the build machine's
  system folders (/lib, /usr/lib, ...) to the top of ``_internal``: OpenSSL, sqlite, expat,
  krb5, systemd, glib, libstdc++, readline, zlib, the X11/xcb client libraries ... Frozen
  copies miss the distribution's security updates and raise the glibc floor to the build
  machine's. The .deb depends on the Debian packages instead (packaging/deb/deb_depends.py
  maps every library the bundle needs and does not carry to its package).

What the bundle does keep its own copy of (``OWN_COPY`` and everything inside a wheel):

* the xcb utility libraries of Qt's xcb platform plugin (``XCB_UTIL``): small and stable, and
  nine packages of their own in a clean install;
* ``libpython3.X.so``: the frozen interpreter. Its stdlib is compiled into the bundle's archive,
  and the bootloader loads exactly this build; Debian's libpython3.11 is another patch release.
* the libraries that arrive inside wheels (PySide6/Qt/lib, torch/lib, numpy.libs, pillow.libs,
  ...): the packages were built and tested against these exact builds, and Debian 12 has no
  package of the same versions (Qt 6.11, torch 2.13, OpenBLAS of numpy's wheel). They never
  come from a system folder, so the host-library rule cannot touch them.

``PKG_KEEP_HOST_LIBS=1`` (environment of the build) turns the host-library rule off, for a bundle
that must run on systems without those packages (e.g. the AppDir, copied to older distributions);
``PKG_KEEP_HOST_LIBS=libxcb-,libxkbcommon`` keeps only the libraries whose names start so (to
trade a few frozen copies of small, stable libraries for fewer packages in a minimal install).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: destination folders inside the bundle that the app never needs
DROP_DIRS = (
    "torch/include/", "torch/share/", "torch/test/", "torch/bin/", "torch/_inductor/codegen/aoti_runtime/",
    "functorch/examples/", "caffe2/", "torchgen/packaged/",
)
#: file names that are never needed (torch's test libraries; Qt's GTK 3 platform theme; Qt
#: Network, which GANPaint never imports (downloads use Python's urllib), with the plugins that
#: alone load it: network information, TLS backends, the VNC platform, TUIO touch over UDP;
#: its libgssapi_krb5 pulled five Kerberos packages into a clean install)
DROP_FILES = (
    "libjitbackend_test.so", "libbackend_with_compiler.so", "libaoti_custom_ops.so", "libtorchbind_test.so",
    "libqgtk3.so",
    "libQt6Network.so.6", "QtNetwork.abi3.so", "libqvnc.so", "libqtuiotouchplugin.so",
)
#: folders of Qt plugins that load Qt Network only
DROP_QT_NETWORK_DIRS = ("PySide6/Qt/plugins/networkinformation/", "PySide6/Qt/plugins/tls/")
#: kept although a rule above would drop it: torch's shared-memory manager (shared tensors)
KEEP = ("torch/bin/torch_shm_manager",)
#: suffixes of files only a compiler or a type checker reads
DROP_SUFFIXES = (".a", ".lib", ".h", ".hpp", ".cuh", ".cmake", ".pyi")

#: name prefixes of the libraries PyInstaller collects only for Qt's GTK 3 platform theme;
#: dropped wherever they come from (also with PKG_KEEP_HOST_LIBS=1)
GTK_LIBS = (
    "libgtk-3.so", "libgdk-3.so", "libatk-1.0.so", "libatk-bridge-2.0.so", "libatspi.so", "libepoxy.so",
    "libcairo.so", "libcairo-gobject.so", "libpango-1.0.so", "libpangocairo-1.0.so", "libpangoft2-1.0.so",
    "libgdk_pixbuf-2.0.so", "libharfbuzz.so", "libthai.so", "libdatrie.so", "libfribidi.so",
    "libgraphite2.so", "libpixman-1.so", "libXrender.so", "libXext.so", "libXi.so", "libXfixes.so",
    "libXcursor.so", "libXdamage.so", "libXcomposite.so", "libXinerama.so", "libXrandr.so",
    "libjpeg.so.62", "libcloudproviders.so",
)

#: where a Linux distribution keeps its shared libraries (multiarch folders are below these)
SYSTEM_LIB_DIRS = ("/lib/", "/lib64/", "/lib32/", "/usr/lib/", "/usr/lib64/", "/usr/lib32/", "/libx32/",
                   "/usr/libx32/")
#: system libraries the bundle keeps its own copy of (see the module docstring): the interpreter,
#: and the small xcb utility libraries Qt's xcb platform plugin loads (not among the issue's
#: security-relevant host libraries; shipping them keeps a clean bookworm install at <= 60
#: packages: they are nine packages of their own, libxcb-cursor0 ... libxkbcommon-x11-0)
OWN_COPY = ("libpython",)
XCB_UTIL = ("libxcb-util.so", "libxcb-image.so", "libxcb-render-util.so", "libxcb-cursor.so",
            "libxcb-icccm.so", "libxcb-keysyms.so", "libxcb-shape.so", "libxcb-xkb.so", "libxkbcommon-x11.so")

#: the host libraries the issue found frozen in (one soname each); deb_depends must map every one
#: to its Debian package, and the bundle must not carry them
EXAMPLE_HOST_SONAMES = (
    "libssl.so.3", "libcrypto.so.3", "libsqlite3.so.0", "libexpat.so.1", "libgssapi_krb5.so.2",
    "libkrb5.so.3", "libk5crypto.so.3", "libkrb5support.so.0", "libcom_err.so.2", "libsystemd.so.0",
    "libglib-2.0.so.0", "libgthread-2.0.so.0", "libstdc++.so.6", "libgcc_s.so.1", "libreadline.so.8",
    "libtinfo.so.6", "libz.so.1", "libffi.so.8", "libdbus-1.so.3",
)

DROPPED_NOT_NEEDED = "not needed"
DROPPED_GTK = "GTK 3 theme (unused)"
DROPPED_HOST = "host library (a Debian package instead)"


def keep_host_libs_requested(environ: os._Environ[str] | dict[str, str] | None = None) -> bool | tuple[str, ...]:
    """PKG_KEEP_HOST_LIBS: unset/0 = leave every system library out; 1 = keep them all; a comma
    list of name prefixes (``libxcb-,libxkbcommon``) = keep just those."""
    env = os.environ if environ is None else environ
    value = env.get("PKG_KEEP_HOST_LIBS", "0").strip()
    if value in ("", "0"):
        return False
    if value == "1":
        return True
    return tuple(p.strip() for p in value.split(",") if p.strip())


def _top_level(dest: str) -> bool:
    return "/" not in dest


def _is_extension_module(name: str) -> bool:
    """A Python extension module (a distribution's Python may keep them under /usr/lib)."""
    return ".cpython-" in name or ".abi3." in name or name.endswith(".pyd")


def is_system_library(src: str) -> bool:
    """True for a file under one of the system's library folders (symlinks resolved as given)."""
    s = src.replace("\\", "/")
    return s.startswith(SYSTEM_LIB_DIRS)


def is_gtk_library(dest: str) -> bool:
    name = dest.replace("\\", "/").rsplit("/", 1)[-1]
    return _top_level(dest.replace("\\", "/")) and name.startswith(GTK_LIBS)


def why_dropped(dest: str, src: str = "", typecode: str = "", *, platform: str = "linux",
                keep_host_libs: bool | tuple[str, ...] = False) -> str | None:
    """None when the entry stays in the bundle, else the reason it is left out."""
    d = dest.replace("\\", "/")
    name = d.rsplit("/", 1)[-1]
    if d.startswith(KEEP):
        return None
    if d.startswith(DROP_DIRS + DROP_QT_NETWORK_DIRS) or name in DROP_FILES or d.endswith(DROP_SUFFIXES):
        return DROPPED_NOT_NEEDED
    if any(p in ("tests", "__pycache__") for p in d.split("/")[:-1]):
        return DROPPED_NOT_NEEDED
    if not platform.startswith("linux"):
        return None
    if is_gtk_library(d):
        return DROPPED_GTK
    kept_by_request = keep_host_libs is True or (
        isinstance(keep_host_libs, tuple) and bool(keep_host_libs) and name.startswith(keep_host_libs))
    if (not kept_by_request and _top_level(d) and typecode in ("", "BINARY") and ".so" in name
            and not _is_extension_module(name) and not name.startswith(OWN_COPY + XCB_UTIL)
            and src and is_system_library(src)):
        return DROPPED_HOST
    return None


def filter_toc(toc: Iterable[Sequence[str]], *, platform: str = "linux",
               keep_host_libs: bool | tuple[str, ...] = False,
               ) -> tuple[list[tuple[str, ...]], list[tuple[str, str, str]]]:
    """Split a PyInstaller TOC into (kept entries, [(dest, src, reason)] of the dropped ones).

    A symbolic link (typecode SYMLINK, src = its target relative to the link) whose target was
    dropped goes too, so no dangling link is left in the bundle.
    """
    entries = [tuple(e) for e in toc]
    kept: list[tuple[str, ...]] = []
    dropped: list[tuple[str, str, str]] = []
    for e in entries:
        dest, src, typecode = (list(e) + ["", ""])[:3]
        reason = why_dropped(dest, src, typecode, platform=platform, keep_host_libs=keep_host_libs)
        if reason:
            dropped.append((dest, src, reason))
        else:
            kept.append(e)
    gone = {d.replace("\\", "/") for d, _, _ in dropped}
    final: list[tuple[str, ...]] = []
    for e in kept:
        dest, src, typecode = (list(e) + ["", ""])[:3]
        if typecode == "SYMLINK":
            target = posixpath.normpath(posixpath.join(posixpath.dirname(dest.replace("\\", "/")),
                                                       src.replace("\\", "/")))
            if target in gone:
                dropped.append((dest, src, "link to a dropped file"))
                continue
        final.append(e)
    return final, dropped


def host_libraries_md(dropped: Iterable[tuple[str, str, str]], kept: Iterable[Sequence[str]]) -> str:
    """LICENSES/HOST-LIBRARIES.md: which system libraries the bundle carries and which it leaves to
    the system (and so to the distribution's packages and security updates)."""
    left = sorted({d for d, _, r in dropped if r == DROPPED_HOST})
    gtk = sorted({d for d, _, r in dropped if r == DROPPED_GTK})
    own = sorted({e[0] for e in kept if len(e) > 1 and _top_level(e[0].replace("\\", "/"))
                  and ".so" in e[0] and is_system_library(str(e[1]))})
    lines = ["# System libraries and this bundle", "",
             "Shared libraries of the build machine's operating system are not frozen into the bundle;",
             "the program uses the ones the system provides (the .deb depends on their Debian packages),",
             "so they get the distribution's security updates.", ""]
    lines.append(f"## Carried by the bundle ({len(own)})")
    lines.append("")
    if own:
        lines += [f"* `{n}`" for n in own]
        lines += ["", "Those that are under the GNU LGPL 2.1 are covered by `LGPL-2.1.txt`; you may replace",
                  "them with your own build of the same interface (they are ordinary shared libraries in",
                  "`_internal/`)."]
    else:
        lines.append("* none besides the Python runtime `libpython3.*` (PSF-2.0, `third-party/Python-*`)")
    lines += ["", f"## Left to the system ({len(left)})", ""]
    lines += [f"* `{n}`" for n in left] or ["* none"]
    lines += ["", f"## Left out altogether: Qt's GTK 3 theme and what only it needs ({len(gtk)})", ""]
    lines += [f"* `{n}`" for n in gtk] or ["* none"]
    return "\n".join(lines) + "\n"


def project_info(path: Path | None = None, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The KEY=value pairs of packaging/project.env (the project's addresses, in one place).

    An environment variable of the same name, when set and not empty, wins over the file: a
    release build sets the real addresses without editing it (build_deb.sh does the same)."""
    env = os.environ if env is None else env
    out: dict[str, str] = {}
    for line in (path or HERE / "project.env").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            key = key.strip()
            out[key] = (env.get(key) or "").strip() or value.strip()
    return out
