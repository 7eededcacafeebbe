#!/usr/bin/env bash
# Copy the sources that build.sh installs (GANPaint and every plugins/*/) into a fresh folder with
# no build output in it: no build/, *.egg-info or __pycache__. setuptools builds in the source
# folder and reuses an old build/lib, so a module deleted from a plugin would otherwise still ship.
#
#   bash packaging/clean_sources.sh DEST      # DEST is emptied first
#
# In a git checkout the copy holds the tracked files and the untracked ones git does not ignore
# (what `git status` shows), as they are on disk now; elsewhere, the folders minus build output.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DEST=${1:?usage: clean_sources.sh DEST}
case "$DEST" in /*) ;; *) DEST="$ROOT/$DEST" ;; esac
PATHS=(pyproject.toml setup.py setup.cfg MANIFEST.in README.md LICENSE ganpaint plugins)

rm -rf "$DEST"
mkdir -p "$DEST"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard -- "${PATHS[@]}" \
        | while IFS= read -r -d '' f; do
              # a tracked file deleted from the work tree is not copied; build output never is
              case "/$f/" in */build/*|*.egg-info/*|*/__pycache__/*) continue ;; esac
              [ -f "$f" ] && printf '%s\0' "$f"
          done \
        | tar --null -T - -cf - | tar -C "$DEST" -xf -
else
    existing=()
    for p in "${PATHS[@]}"; do [ -e "$p" ] && existing+=("$p"); done
    tar --exclude=build --exclude='*.egg-info' --exclude=__pycache__ -cf - "${existing[@]}" | tar -C "$DEST" -xf -
fi
echo "clean_sources: $(find "$DEST" -type f | wc -l) files in $DEST"
