#!/usr/bin/env bash
# Make build/GANPaint.AppDir from the frozen bundle, ready for appimagetool.
#
#   bash packaging/build.sh                  # the bundle in dist/ganpaint
#   bash packaging/appdir/make_appdir.sh     # build/GANPaint.AppDir, checked with AppRun --version
#
# The last step runs on a release machine that has appimagetool (it is not packaged for
# Debian 12 and cannot be fetched here):
#   ARCH=x86_64 appimagetool build/GANPaint.AppDir dist/GANPaint-<version>-x86_64.AppImage
# (add -u "gh-releases-zsync|<owner>|<repo>|latest|GANPaint-*x86_64.AppImage.zsync" for updates
# and --sign to sign). Build on the oldest distribution you support: the bundle needs that
# glibc or newer, and the libraries listed as Depends in the .deb (X11/xcb, fontconfig, GL)
# come from the host, as for every AppImage.
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
echo "make_appdir: $APPDIR ($(du -sm "$APPDIR" | cut -f1) MB); final step on a release machine:"
echo "  ARCH=x86_64 appimagetool $APPDIR $DIST/GANPaint-$(sed -n 's/^__version__ *= *"\(.*\)"/\1/p' ganpaint/_version.py)-x86_64.AppImage"
