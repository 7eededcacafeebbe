#!/usr/bin/env bash
# Build the Debian package from the frozen bundle: dist/ganpaint_<version>-<revision>_<arch>.deb
#
#   bash packaging/build.sh            # first: the bundle in dist/ganpaint (make package)
#   bash packaging/deb/build_deb.sh    # or: make deb (both steps)
#
# Layout: /opt/ganpaint (the bundle), /usr/bin/ganpaint (wrapper) and its manual page, the desktop
# entry, the icon in hicolor (48, 128, 256 px and scalable), /usr/share/doc/ganpaint (a
# machine-readable copyright file, changelog.Debian.gz, and a link to the bundle's LICENSES with
# the source offer). DEBIAN/md5sums lists every file. Depends is computed: every shared library the
# bundle's ELF files need that is not inside the bundle (the bundle leaves the system's own
# libraries out: packaging/bundle_rules.py) is looked up with dpkg -S on the build machine (build
# on the oldest Debian you support: Debian 12 here). Compressed with xz (PKG_DEB_COMPRESS).
#
# Knobs: PKG_DIST (default dist: the bundle is $PKG_DIST/ganpaint, the .deb goes there too),
# PKG_BUILD (default build: the staging folder), PKG_DEB_REVISION (default 1), PKG_DEB_COMPRESS
# (default xz; gzip is faster, zstd is smaller and faster but lintian rejects it), PKG_LINTIAN=1 (run
# lintian on the result; minutes for the full bundle).
# Homepage and Maintainer come from packaging/project.env (or the environment variables of the
# same names: GANPAINT_HOMEPAGE, GANPAINT_MAINTAINER, GANPAINT_SOURCE_URL).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
HERE=packaging/deb
DIST=${PKG_DIST:-dist}
BUNDLE="$DIST/ganpaint"
[ -x "$BUNDLE/ganpaint" ] || { echo "build_deb: no bundle in $BUNDLE; run packaging/build.sh first" >&2; exit 1; }

# an environment variable of the same name wins over packaging/project.env (a release build sets
# the real addresses so; bundle_rules.project_info does the same for the bundle's SOURCE.md)
project() { if [ -n "${!1:-}" ]; then printf '%s\n' "${!1}"; else sed -n "s/^$1=//p" packaging/project.env; fi; }
UPSTREAM=$(sed -n 's/^__version__ *= *"\(.*\)"/\1/p' ganpaint/_version.py)
VERSION="$UPSTREAM-${PKG_DEB_REVISION:-1}"
ARCH=$(dpkg --print-architecture)
MAINTAINER=$(project GANPAINT_MAINTAINER)
HOMEPAGE=$(project GANPAINT_HOMEPAGE)
SOURCE_URL=$(project GANPAINT_SOURCE_URL)
STAGE="${PKG_BUILD:-build}/deb/ganpaint_${VERSION}_${ARCH}"
OUT="$DIST/ganpaint_${VERSION}_${ARCH}.deb"
DOC="$STAGE/usr/share/doc/ganpaint"
# dates from the last commit, so that two builds of one commit are the same
EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
YEAR=$(date -u -d "@$EPOCH" +%Y)

rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" "$DOC" \
         "$STAGE/usr/share/man/man1" "$STAGE/usr/share/icons/hicolor/scalable/apps"
cp -a "$BUNDLE" "$STAGE/opt/ganpaint"
install -m 0755 "$HERE/ganpaint.sh" "$STAGE/usr/bin/ganpaint"
gzip -9n -c "$HERE/ganpaint.1" > "$STAGE/usr/share/man/man1/ganpaint.1.gz"
install -m 0644 "$HERE/ganpaint.desktop" "$STAGE/usr/share/applications/ganpaint.desktop"
install -m 0644 packaging/icons/ganpaint.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/ganpaint.svg"
for s in 48 128 256; do
    install -D -m 0644 "packaging/icons/ganpaint-$s.png" "$STAGE/usr/share/icons/hicolor/${s}x${s}/apps/ganpaint.png"
done
ln -s /opt/ganpaint/_internal/LICENSES "$DOC/LICENSES"

# the machine-readable copyright file (DEP-5); later paragraphs override earlier ones
cat > "$DOC/copyright" <<COPY
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: GANPaint
Upstream-Contact: $MAINTAINER
Source: $SOURCE_URL
Comment: This binary package is a frozen bundle. The written offer of the source code
 (GPL-3.0 section 6) and the exact source of every component are in
 /usr/share/doc/ganpaint/LICENSES/SOURCE.md and QT.md; every bundled Python
 distribution is listed with its licence in LICENSES/THIRD-PARTY.md, with the
 licence texts beside it.

Files: *
Copyright: $YEAR The GANPaint developers
License: GPL-3.0-or-later

Files: opt/ganpaint/_internal/PySide6/* opt/ganpaint/_internal/shiboken6/*
Copyright: The Qt Company Ltd. and other contributors (see QT.md)
License: LGPL-3.0-only
 On Debian systems, the complete text of the GNU Lesser General Public License
 version 3 can be found in "/usr/share/common-licenses/LGPL-3". Third-party code
 inside Qt: see /usr/share/doc/ganpaint/LICENSES/QT.md.

Files: opt/ganpaint/_internal/torch/* opt/ganpaint/_internal/functorch/* opt/ganpaint/_internal/torchgen/*
Copyright: PyTorch contributors (Facebook, Inc. and its affiliates, and others)
License: BSD-3-Clause
 The full text, with the notices of the third-party code inside PyTorch, is in
 /usr/share/doc/ganpaint/LICENSES/third-party/torch-*/.

License: GPL-3.0-or-later
 This program is free software: you can redistribute it and/or modify it under
 the terms of the GNU General Public License as published by the Free Software
 Foundation, either version 3 of the License, or (at your option) any later
 version.
 .
 On Debian systems, the complete text of the GNU General Public License version
 3 can be found in "/usr/share/common-licenses/GPL-3".
COPY

# changelog.Debian.gz: one entry for this binary build
{
    echo "ganpaint ($VERSION) unstable; urgency=medium"
    echo
    echo "  * Binary package of GANPaint $UPSTREAM, made from the frozen bundle"
    echo "    by packaging/deb/build_deb.sh. The source and its history:"
    echo "    $SOURCE_URL"
    echo
    echo " -- $MAINTAINER  $(LC_ALL=C date -u -R -d "@$EPOCH")"
} > "$STAGE/changelog.tmp"
gzip -9n -c "$STAGE/changelog.tmp" > "$DOC/changelog.Debian.gz"
rm "$STAGE/changelog.tmp"

# no group/world-writable files, directories searchable
chmod -R u+rwX,go+rX,go-w "$STAGE/opt" "$STAGE/usr"
# shared libraries are not programs (wheels ship Qt's and others with 0755: lintian
# shared-library-is-executable); the bundle's programs keep their execute bits
find "$STAGE/opt" -type f \( -name '*.so' -o -name '*.so.*' \) -perm /111 -exec chmod a-x {} +

echo "build_deb: computing Depends from the bundle's shared-library needs"
DEPENDS=$(python3 "$HERE/deb_depends.py" "$STAGE/opt/ganpaint")
# fontconfig is bundled but reads its configuration and fonts from the system: without them
# Qt draws every letter as a box (seen in the chroot test of a minimal Debian)
DEPENDS="$DEPENDS, fontconfig-config, fonts-dejavu-core | fonts-liberation2"
SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
# sed replacement text: escape the characters sed treats specially
esc() { printf '%s' "$1" | sed -e 's/[\/&|]/\\&/g'; }
sed -e "s|@VERSION@|$(esc "$VERSION")|" -e "s|@ARCH@|$(esc "$ARCH")|" -e "s|@SIZE@|$(esc "$SIZE")|" \
    -e "s|@DEPENDS@|$(esc "$DEPENDS")|" -e "s|@MAINTAINER@|$(esc "$MAINTAINER")|" \
    -e "s|@HOMEPAGE@|$(esc "$HOMEPAGE")|" "$HERE/control.in" > "$STAGE/DEBIAN/control"
sed -n '1,7p' "$STAGE/DEBIAN/control"

# DEBIAN/md5sums: every file of the package (not DEBIAN/), paths relative to /
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -print0 | LC_ALL=C sort -z \
    | xargs -0 -r md5sum | sed 's|  \./|  |') > "$STAGE/DEBIAN/md5sums"
chmod 0644 "$STAGE/DEBIAN/control" "$STAGE/DEBIAN/md5sums"

t0=$(date +%s)
# xz: the compression Debian's tools and lintian accept (zstd members are "malformed" to them)
dpkg-deb --root-owner-group "-Z${PKG_DEB_COMPRESS:-xz}" --build "$STAGE" "$OUT"
echo "build_deb: $OUT ($(du -m "$OUT" | cut -f1) MB, installed ${SIZE} kB) in $(( $(date +%s) - t0 )) s"
dpkg-deb --info "$OUT" | sed -n '1,4p'
if [ "${PKG_LINTIAN:-0}" = 1 ]; then
    echo "build_deb: lintian (errors about files in /opt are expected: the bundle lives there)"
    lintian --no-tag-display-limit "$OUT" || true
fi
