#!/usr/bin/env bash
# Make build/GANPaint.AppDir from the frozen bundle: the bundle with AppRun, desktop entry, icon
# and AppStream metadata, a folder that runs as it is (AppRun).
#
#   bash packaging/build.sh                  # the bundle in dist/ganpaint
#   bash packaging/appdir/make_appdir.sh     # build/GANPaint.AppDir, checked with AppRun --version
#
# No AppImage is made from it: no package registry this project can use (PyPI, npm, Debian)
# ships appimagetool or the AppImage type-2 runtime (the PyPI and npm AppImage builders download
# both from GitHub at run time), so packaging/README.md claims no AppImage (see "AppImage").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
HERE=packaging/appdir
DIST=${PKG_DIST:-dist}
BUNDLE="$DIST/ganpaint"
APPDIR=${APPDIR_OUT:-build/GANPaint.AppDir}
[ -x "$BUNDLE/ganpaint" ] || { echo "make_appdir: no bundle in $BUNDLE; run packaging/build.sh first" >&2; exit 1; }

rm -rf "$APPDIR"
mkdir -p "$APPDIR/usr/lib" "$APPDIR/usr/share/applications" "$APPDIR/usr/share/metainfo" \
         "$APPDIR/usr/share/icons/hicolor/scalable/apps"
cp -a "$BUNDLE" "$APPDIR/usr/lib/ganpaint"
install -m 0755 "$HERE/AppRun" "$APPDIR/AppRun"
install -m 0644 packaging/deb/ganpaint.desktop "$APPDIR/ganpaint.desktop"
install -m 0644 packaging/deb/ganpaint.desktop "$APPDIR/usr/share/applications/ganpaint.desktop"
install -m 0644 "$HERE/ganpaint.appdata.xml" "$APPDIR/usr/share/metainfo/ganpaint.appdata.xml"
install -m 0644 packaging/icons/ganpaint-256.png "$APPDIR/ganpaint.png"
ln -s ganpaint.png "$APPDIR/.DirIcon"
install -m 0644 packaging/icons/ganpaint.svg "$APPDIR/usr/share/icons/hicolor/scalable/apps/ganpaint.svg"
for s in 48 128 256; do
    install -D -m 0644 "packaging/icons/ganpaint-$s.png" "$APPDIR/usr/share/icons/hicolor/${s}x${s}/apps/ganpaint.png"
done

# checks: the desktop entry and metadata parse, and the AppDir starts
if command -v desktop-file-validate >/dev/null; then desktop-file-validate "$APPDIR/ganpaint.desktop"; fi
if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net --pedantic "$APPDIR/usr/share/metainfo/ganpaint.appdata.xml" || true
fi
"$APPDIR/AppRun" --version
echo "make_appdir: $APPDIR ($(du -sm "$APPDIR" | cut -f1) MB)"
