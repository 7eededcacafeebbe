#!/usr/bin/env bash
# Build the Debian package from the frozen bundle: dist/ganpaint_<version>_<arch>.deb
#
#   bash packaging/build.sh            # first: the bundle in dist/ganpaint
#   bash packaging/deb/build_deb.sh
#
# Layout: /opt/ganpaint (the bundle), /usr/bin/ganpaint (wrapper), the desktop entry, the
# icon in hicolor (48, 128, 256 px and scalable), /usr/share/doc/ganpaint (copyright and a
# link to the bundle's LICENSES). Depends is computed: every shared library the bundle's ELF
# files need that is not inside the bundle is looked up with dpkg -S on the build machine
# (build on the oldest Debian you support: Debian 12 here). Compressed with zstd.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
HERE=packaging/deb
DIST=${PKG_DIST:-dist}
BUNDLE="$DIST/ganpaint"
[ -x "$BUNDLE/ganpaint" ] || { echo "build_deb: no bundle in $BUNDLE; run packaging/build.sh first" >&2; exit 1; }

VERSION=$(sed -n 's/^__version__ *= *"\(.*\)"/\1/p' ganpaint/_version.py)
ARCH=$(dpkg --print-architecture)
STAGE="build/deb/ganpaint_${VERSION}_${ARCH}"
OUT="$DIST/ganpaint_${VERSION}_${ARCH}.deb"

rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
         "$STAGE/usr/share/doc/ganpaint" "$STAGE/usr/share/icons/hicolor/scalable/apps"
cp -a "$BUNDLE" "$STAGE/opt/ganpaint"
install -m 0755 "$HERE/ganpaint.sh" "$STAGE/usr/bin/ganpaint"
install -m 0644 "$HERE/ganpaint.desktop" "$STAGE/usr/share/applications/ganpaint.desktop"
install -m 0644 packaging/icons/ganpaint.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/ganpaint.svg"
for s in 48 128 256; do
    install -D -m 0644 "packaging/icons/ganpaint-$s.png" "$STAGE/usr/share/icons/hicolor/${s}x${s}/apps/ganpaint.png"
done
ln -s /opt/ganpaint/_internal/LICENSES "$STAGE/usr/share/doc/ganpaint/LICENSES"
cat > "$STAGE/usr/share/doc/ganpaint/copyright" <<COPY
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: GANPaint

Files: *
Copyright: The GANPaint developers
License: GPL-3.0-or-later
 On Debian systems the full text is in /usr/share/common-licenses/GPL-3.

Files: opt/ganpaint/_internal/*
Comment: the bundled Python runtime and libraries: Qt for Python / Qt (LGPL-3.0),
 PyTorch (BSD-3-Clause) and others; each is listed with its licence in
 /opt/ganpaint/_internal/LICENSES/THIRD-PARTY.md, with the licence texts beside it.
COPY
# no group/world-writable files, directories searchable
chmod -R u+rwX,go+rX,go-w "$STAGE/opt" "$STAGE/usr"

echo "build_deb: computing Depends from the bundle's shared-library needs"
DEPENDS=$(python3 "$HERE/deb_depends.py" "$STAGE/opt/ganpaint")
# fontconfig is bundled but reads its configuration and fonts from the system: without them
# Qt draws every letter as a box (seen in the chroot test of a minimal Debian)
DEPENDS="$DEPENDS, fontconfig-config, fonts-dejavu-core | fonts-liberation2"
SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE/" -e "s/@DEPENDS@/$DEPENDS/" \
    "$HERE/control.in" > "$STAGE/DEBIAN/control"
cat "$STAGE/DEBIAN/control" | sed -n '1,6p'

t0=$(date +%s)
dpkg-deb --root-owner-group -Zzstd --build "$STAGE" "$OUT"
echo "build_deb: $OUT ($(du -m "$OUT" | cut -f1) MB, installed ${SIZE} kB) in $(( $(date +%s) - t0 )) s"
dpkg-deb --info "$OUT" | sed -n '1,4p'
