#!/usr/bin/env bash
# Build the frozen bundle (packaging/build.sh) and prove it works, headless:
#   1. `ganpaint --smoke-test` in a clean environment, from a foreign folder: window, every
#      built-in plugin through its entry point (each plugins/*/ entry-point name must be loaded),
#      one tool, save, screenshot;
#   2. start-up times: `ganpaint --version` and the smoke test's "main window shown";
#   3. the command line: `ganpaint plugins`, `ganpaint run blur`;
#   4. a wheel plugin installed AFTER freezing the packaged user's way, by the frozen
#      `ganpaint plugins install FILE.whl` (the code behind the Plugins dialog's Install from
#      file), is found and runs; then `ganpaint plugins uninstall` removes it
#      (packaging/testdata/ganpaint-posterize-demo, built into a wheel by the build venv); and the
#      same wheel through the Plugins dialog (packaging/testdata/dialog_install_check.py);
#   5. the smoke test again under xvfb-run (a real X server, xcb platform) when xvfb-run exists;
#   6. the long-session test of the Qt binding (tests/qt/test_long_session.py: 2,000 strokes,
#      layer operations and tool runs in a real window) with the bundle's own Python, PySide6 and
#      Qt (ganpaint --run-python), when the dev venv (SMOKE_PYTEST, default .venv/bin/python)
#      has pytest; SMOKE_LONG_SESSION=0 skips it.
# The build venv must match packaging/constraints-bundle.txt (checked first): the bundle and its
# test run use that one lock.
#
#   nice -n 10 bash packaging/smoke_frozen.sh        # build + test
#   SMOKE_NO_BUILD=1 bash packaging/smoke_frozen.sh  # test the bundle already in dist/
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DIST=${PKG_DIST:-dist}
APP="$ROOT/$DIST/ganpaint/ganpaint"
OUT="$ROOT/build/smoke-frozen"
BUILD_PY=${PKG_VENV:-build/pkg-venv}/bin/python

if [ "${SMOKE_NO_BUILD:-0}" != 1 ]; then
    t0=$(date +%s)
    bash packaging/build.sh
    echo "smoke_frozen: build took $(( $(date +%s) - t0 )) s"
fi
[ -x "$APP" ] || { echo "smoke_frozen: no bundle at $APP (run packaging/build.sh)"; exit 1; }
# one lock for the bundle and its test run: the build venv (whose pip installs the test plugin in
# step 4, and which the bundle was frozen from) must still be packaging/constraints-bundle.txt
"$BUILD_PY" packaging/lockfile.py check

rm -rf "$OUT"
mkdir -p "$OUT"
# the entry-point names of every built-in plugin in this tree: each must load in the bundle
# (SMOKE_EXPECT=a,b overrides, e.g. to test an older bundle while plugins/ grew)
EXPECT=${SMOKE_EXPECT:-$(python3 - <<'EOF'
import glob, tomllib
names = []
for p in sorted(glob.glob("plugins/*/pyproject.toml")):
    with open(p, "rb") as f:
        eps = tomllib.load(f).get("project", {}).get("entry-points", {}).get("ganpaint.plugins", {})
    names += list(eps)
print(",".join(names))
EOF
)}
echo "smoke_frozen: bundle $(du -sm "$DIST/ganpaint" | cut -f1) MB, expecting plugins: $EXPECT"

# A clean environment: nothing from the source tree, the dev venv or the user's data can leak in.
run_clean() {
    (cd /tmp && env -i HOME="$OUT/home" PATH=/usr/bin:/bin LANG=C.UTF-8 \
        QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" GANPAINT_SMOKE_EXPECT="$EXPECT" \
        ${GANPAINT_DATA_DIR:+GANPAINT_DATA_DIR="$GANPAINT_DATA_DIR"} "$@")
}
mkdir -p "$OUT/home"

echo "== 1. smoke test (offscreen)"
t0=$(date +%s.%N)
run_clean "$APP" --smoke-test "$OUT/offscreen" | tee "$OUT/smoke-offscreen.log"
echo "smoke_frozen: smoke test wall time $(echo "$(date +%s.%N) - $t0" | bc) s"

echo "== 2. start-up"
for i in 1 2 3; do
    t0=$(date +%s.%N)
    run_clean "$APP" --version >/dev/null
    echo "smoke_frozen: ganpaint --version run $i: $(echo "$(date +%s.%N) - $t0" | bc) s"
done
grep "smoke: window:" "$OUT/smoke-offscreen.log" || true

echo "== 3. command line"
run_clean "$APP" plugins | tee "$OUT/plugins.log"
run_clean "$APP" run blur "$ROOT/resources/samples/meadow.png" -o "$OUT/cli-blur.png"
[ -s "$OUT/cli-blur.png" ] && echo "smoke_frozen: ganpaint run blur wrote $OUT/cli-blur.png"

echo "== 4. a wheel plugin installed after freezing (frozen 'ganpaint plugins install')"
DATA="$OUT/userdata"
mkdir -p "$DATA"
cp -r packaging/testdata/ganpaint-posterize-demo "$OUT/posterize-src"  # no build output in the tree
"$BUILD_PY" -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation \
    -w "$OUT/wheels" "$OUT/posterize-src"
WHEEL=$(ls "$OUT"/wheels/ganpaint_posterize_demo-*.whl)
GANPAINT_DATA_DIR="$DATA" run_clean "$APP" plugins install "$WHEEL" | tee "$OUT/plugin-install.log"
[ -d "$DATA/plugin-packages/ganpaint_posterize_demo" ] || { echo "smoke_frozen: the wheel was not unpacked"; exit 1; }
GANPAINT_DATA_DIR="$DATA" run_clean "$APP" plugins | tee "$OUT/plugins-user.log"
grep -q "posterize_demo" "$OUT/plugins-user.log"
GANPAINT_DATA_DIR="$DATA" run_clean "$APP" run posterize_demo "$ROOT/resources/samples/meadow.png" \
    -o "$OUT/cli-posterize.png"
[ -s "$OUT/cli-posterize.png" ]
EXPECT="$EXPECT,posterize_demo" GANPAINT_DATA_DIR="$DATA" run_clean "$APP" --smoke-test "$OUT/user-plugin" \
    | tee "$OUT/smoke-user-plugin.log"
GANPAINT_DATA_DIR="$DATA" run_clean "$APP" plugins uninstall ganpaint-posterize-demo
GANPAINT_DATA_DIR="$DATA" run_clean "$APP" plugins > "$OUT/plugins-after-uninstall.log"
if grep -q "posterize_demo" "$OUT/plugins-after-uninstall.log"; then
    echo "smoke_frozen: posterize_demo still listed after uninstall"; exit 1
fi
echo "smoke_frozen: the wheel installed by the frozen 'ganpaint plugins install' was found and ran; uninstall removed it"
# the same wheel through the Plugins dialog's Install from file, its tool run in the window, Uninstall
GANPAINT_DATA_DIR="$OUT/userdata-dialog" run_clean "$APP" --run-python \
    "$ROOT/packaging/testdata/dialog_install_check.py" "$WHEEL" | tee "$OUT/dialog-install.log"
grep -q "dialog-install: PASSED" "$OUT/dialog-install.log"

if command -v xvfb-run >/dev/null; then
    echo "== 5. smoke test under xvfb-run (xcb)"
    QT_QPA_PLATFORM=xcb run_clean xvfb-run -a -s "-screen 0 1600x1000x24" "$APP" --smoke-test "$OUT/xvfb" \
        | tee "$OUT/smoke-xvfb.log"
fi
SMOKE_PYTEST=${SMOKE_PYTEST:-.venv/bin/python}
if [ "${SMOKE_LONG_SESSION:-1}" != 0 ] && "$SMOKE_PYTEST" -c "import pytest" 2>/dev/null; then
    echo "== 6. long-session test with the bundle's Python and Qt (ganpaint --run-python)"
    t0=$(date +%s)
    GANPAINT_FROZEN_APP="$APP" QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 "$SMOKE_PYTEST" -m pytest -q \
        -p no:xdist -p no:cacheprovider tests/qt/test_long_session.py | tee "$OUT/long-session.log"
    echo "smoke_frozen: long session with the frozen app passed in $(( $(date +%s) - t0 )) s"
else
    echo "== 6. long-session test skipped (no pytest in $SMOKE_PYTEST, or SMOKE_LONG_SESSION=0)"
fi
echo "smoke_frozen: PASSED (logs and pictures in $OUT)"
