#!/usr/bin/env bash
# Build the frozen bundle (packaging/build.sh) and prove it works, headless:
#   1. `ganpaint --smoke-test` in a clean environment, from a foreign folder: window, every
#      built-in plugin through its entry point (each plugins/*/ entry-point name must be loaded),
#      one tool, save, screenshot;
#   2. start-up times: `ganpaint --version` and the smoke test's "main window shown";
#   3. the command line: `ganpaint plugins`, `ganpaint run blur`;
#   4. a pure-Python plugin installed AFTER freezing with `pip install --target
#      <data>/plugin-packages` is found and runs (packaging/testdata/ganpaint-posterize-demo);
#   5. the smoke test again under xvfb-run (a real X server, xcb platform) when xvfb-run exists.
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

echo "== 4. a pure-Python plugin installed after freezing (pip --target)"
DATA="$OUT/userdata"
mkdir -p "$DATA/plugin-packages"
"$BUILD_PY" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation \
    --target "$DATA/plugin-packages" packaging/testdata/ganpaint-posterize-demo
GANPAINT_DATA_DIR="$DATA" run_clean "$APP" plugins | tee "$OUT/plugins-user.log"
grep -q "posterize_demo" "$OUT/plugins-user.log"
GANPAINT_DATA_DIR="$DATA" run_clean "$APP" run posterize_demo "$ROOT/resources/samples/meadow.png" \
    -o "$OUT/cli-posterize.png"
[ -s "$OUT/cli-posterize.png" ]
EXPECT="$EXPECT,posterize_demo" GANPAINT_DATA_DIR="$DATA" run_clean "$APP" --smoke-test "$OUT/user-plugin" \
    | tee "$OUT/smoke-user-plugin.log"
echo "smoke_frozen: the plugin in $DATA/plugin-packages was found and ran"

if command -v xvfb-run >/dev/null; then
    echo "== 5. smoke test under xvfb-run (xcb)"
    QT_QPA_PLATFORM=xcb run_clean xvfb-run -a -s "-screen 0 1600x1000x24" "$APP" --smoke-test "$OUT/xvfb" \
        | tee "$OUT/smoke-xvfb.log"
fi
echo "smoke_frozen: PASSED (logs and pictures in $OUT)"
