"""packaging/bundle_rules.py: what the frozen bundle leaves out (issue 13, points 1 and 2)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _rules():
    spec = importlib.util.spec_from_file_location("bundle_rules", ROOT / "packaging" / "bundle_rules.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


R = _rules()
SYS = "/usr/lib/x86_64-linux-gnu/"
SITE = "/build/pkg-venv/lib/python3.11/site-packages/"


def test_the_gtk3_theme_and_the_gtk_stack_are_left_out():
    toc = [
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", SITE + "PySide6/Qt/plugins/platformthemes/libqgtk3.so", "BINARY"),
        ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", SITE + "x/libqxdgdesktopportal.so", "BINARY"),
        ("libgtk-3.so.0", SYS + "libgtk-3.so.0", "BINARY"),
        ("libgdk-3.so.0", SYS + "libgdk-3.so.0", "BINARY"),
        ("libcairo.so.2", SYS + "libcairo.so.2", "BINARY"),
        ("libpango-1.0.so.0", SYS + "libpango-1.0.so.0", "BINARY"),
        ("libgdk_pixbuf-2.0.so.0", SYS + "libgdk_pixbuf-2.0.so.0", "BINARY"),
        ("libharfbuzz.so.0", SYS + "libharfbuzz.so.0", "BINARY"),
    ]
    # even when the system libraries are kept on purpose (PKG_KEEP_HOST_LIBS=1), GTK goes
    kept, dropped = R.filter_toc(toc, platform="linux", keep_host_libs=True)
    assert [e[0] for e in kept] == ["PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so"]
    reasons = {d: why for d, _, why in dropped}
    assert reasons["libgtk-3.so.0"] == reasons["libgdk-3.so.0"] == R.DROPPED_GTK
    assert reasons["libharfbuzz.so.0"] == R.DROPPED_GTK


def test_the_build_machines_system_libraries_are_left_to_the_system():
    for soname in R.EXAMPLE_HOST_SONAMES:
        assert R.why_dropped(soname, SYS + soname, "BINARY") == R.DROPPED_HOST, soname
        assert R.why_dropped(soname, "/lib/x86_64-linux-gnu/" + soname, "BINARY") == R.DROPPED_HOST
        # the switch for bundles that must carry them, and other platforms, keep them
        assert R.why_dropped(soname, SYS + soname, "BINARY", keep_host_libs=True) is None
        assert R.why_dropped(soname, SYS + soname, "BINARY", platform="win32") is None


def test_what_the_bundle_needs_its_own_copy_of_stays():
    keep = [
        # the frozen interpreter, wherever it comes from (Debian's python keeps it in /usr/lib)
        ("libpython3.11.so.1.0", SYS + "libpython3.11.so.1.0", "BINARY"),
        ("libpython3.11.so.1.0", "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0", "BINARY"),
        # libraries inside wheels, at the top level or in their package folders
        ("libQt6Core.so.6", SITE + "PySide6/Qt/lib/libQt6Core.so.6", "BINARY"),
        ("torch/lib/libtorch_cpu.so", SITE + "torch/lib/libtorch_cpu.so", "BINARY"),
        ("numpy.libs/libquadmath-96973f99.so.0.0.0", SITE + "numpy.libs/libquadmath-96973f99.so.0.0.0", "BINARY"),
        # the standard library's extension modules, even from a distribution's /usr/lib
        ("python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so",
         "/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so", "EXTENSION"),
        ("_ssl.cpython-311-x86_64-linux-gnu.so", "/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so",
         "EXTENSION"),
        ("torch/bin/torch_shm_manager", SITE + "torch/bin/torch_shm_manager", "BINARY"),
    ]
    kept, dropped = R.filter_toc(keep, platform="linux")
    assert not dropped, dropped
    assert len(kept) == len(keep)


def test_files_never_needed_are_left_out():
    for dest in ("torch/include/ATen/ATen.h", "torch/bin/test_api", "torch/lib/libjitbackend_test.so",
                 "numpy/tests/test_x.py", "PIL/__pycache__/x.pyc", "torch/lib/libfoo.a", "torch/_C/__init__.pyi"):
        assert R.why_dropped(dest, SITE + dest, "DATA") == R.DROPPED_NOT_NEEDED, dest


def test_a_link_to_a_dropped_library_goes_with_it():
    toc = [
        ("libssl.so.3", SYS + "libssl.so.3", "BINARY"),
        ("libssl.so", "libssl.so.3", "SYMLINK"),
        ("PySide6/Qt/lib/libQt6Core.so", "libQt6Core.so.6", "SYMLINK"),
    ]
    kept, dropped = R.filter_toc(toc, platform="linux")
    assert [e[0] for e in kept] == ["PySide6/Qt/lib/libQt6Core.so"]
    assert {d for d, _, _ in dropped} == {"libssl.so.3", "libssl.so"}


def test_host_libraries_md_lists_what_was_left_to_the_system():
    toc = [("libssl.so.3", SYS + "libssl.so.3", "BINARY"), ("libgtk-3.so.0", SYS + "libgtk-3.so.0", "BINARY"),
           ("libpython3.11.so.1.0", SYS + "libpython3.11.so.1.0", "BINARY")]
    kept, dropped = R.filter_toc(toc, platform="linux")
    text = R.host_libraries_md(dropped, kept)
    left = text.split("## Left to the system")[1].split("##")[0]
    assert "`libssl.so.3`" in left and "libgtk" not in left
    carried = text.split("## Carried by the bundle")[1].split("##")[0]
    assert "`libpython3.11.so.1.0`" in carried


def test_the_spec_applies_these_rules():
    spec = (ROOT / "packaging" / "ganpaint.spec").read_text(encoding="utf-8")
    assert "bundle_rules.filter_toc" in spec and "HOST-LIBRARIES.md" in spec
    assert "_GTK_ONLY_LIBS" not in spec  # one list, in bundle_rules


def test_project_info_reads_the_one_place_for_the_addresses():
    info = R.project_info()
    assert info["GANPAINT_SOURCE_URL"].startswith("https://")
    assert "<" in info["GANPAINT_MAINTAINER"] and not info["GANPAINT_MAINTAINER"].rstrip(">").endswith(".invalid")


def test_pkg_keep_host_libs_all_none_or_some():
    assert R.keep_host_libs_requested({}) is False
    assert R.keep_host_libs_requested({"PKG_KEEP_HOST_LIBS": "1"}) is True
    some = R.keep_host_libs_requested({"PKG_KEEP_HOST_LIBS": "libxcb-, libxkbcommon"})
    assert some == ("libxcb-", "libxkbcommon")
    assert R.why_dropped("libxcb-icccm.so.4", SYS + "libxcb-icccm.so.4", "BINARY", keep_host_libs=some) is None
    assert R.why_dropped("libssl.so.3", SYS + "libssl.so.3", "BINARY", keep_host_libs=some) == R.DROPPED_HOST


def test_qt_network_and_its_plugins_are_left_out_and_the_xcb_utilities_stay():
    for dest in ("PySide6/Qt/lib/libQt6Network.so.6", "PySide6/QtNetwork.abi3.so",
                 "PySide6/Qt/plugins/tls/libqopensslbackend.so",
                 "PySide6/Qt/plugins/networkinformation/libqnetworkmanager.so",
                 "PySide6/Qt/plugins/platforms/libqvnc.so"):
        assert R.why_dropped(dest, "/x/site-packages/" + dest, "BINARY") == R.DROPPED_NOT_NEEDED, dest
    assert R.why_dropped("PySide6/Qt/plugins/platforms/libqxcb.so", "/x/libqxcb.so", "BINARY") is None
    for name in ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxkbcommon-x11.so.0"):
        assert R.why_dropped(name, f"/lib/x86_64-linux-gnu/{name}", "BINARY") is None, name
    # the xcb client library itself and the keyboard library (it needs Debian's xkb-data) stay Depends
    for name in ("libxcb.so.1", "libxkbcommon.so.0"):
        assert R.why_dropped(name, f"/lib/x86_64-linux-gnu/{name}", "BINARY") == R.DROPPED_HOST, name
