#!/usr/bin/env bash
# Build GANPaint.app and GANPaint-<version>-<arch>.dmg on macOS (11 or newer; cannot run on
# the Linux build machine). Needs Python 3.11 (python.org or Homebrew, with a shared
# libpython: both have it) and Xcode's command-line tools (hdiutil, codesign, notarytool).
#
#   bash packaging/macos/build_dmg.sh
#   SIGN_ID="Developer ID Application: ..." NOTARY_PROFILE=ganpaint bash packaging/macos/build_dmg.sh
#
# The same spec (packaging/ganpaint.spec) makes dist/ganpaint (one folder) and, on macOS,
# the BUNDLE dist/GANPaint.app around it (icon converted from packaging/icons by Pillow).
# PyPI's macOS torch wheels are CPU + MPS builds: PKG_TORCH_SPEC=torch==2.13.0 takes one.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
[ "$(uname)" = Darwin ] || { echo "build_dmg: run this on macOS" >&2; exit 1; }

PYTHON=${PYTHON:-python3.11} bash packaging/build.sh
APP=dist/GANPaint.app
VERSION=$(sed -n 's/^__version__ *= *"\(.*\)"/\1/p' ganpaint/_version.py)
ARCH=$(uname -m)

smoke() {  # the smoke test, inside the .app (before signing, and again after: signing can break it)
    QT_QPA_PLATFORM=offscreen "$APP/Contents/MacOS/ganpaint" --smoke-test "build/smoke-macos-$1"
}
smoke unsigned

if [ -n "${SIGN_ID:-}" ]; then
    # Sign inside-out, never 'codesign --deep' (it signs nested code with the app's options and
    # entitlements and misses code outside the standard places): first every Mach-O library and
    # executable inside Contents (deepest paths first), then the .app itself, all with the
    # hardened runtime and packaging/macos/entitlements.plist (torch's JIT needs executable
    # memory; PyInstaller's unpacked libraries are not signed by Apple).
    ENT=packaging/macos/entitlements.plist
    find "$APP/Contents" -type f \( -name '*.dylib' -o -name '*.so' -o -perm -u+x \) -print0 \
        | xargs -0 file | grep 'Mach-O' | cut -d: -f1 | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2- \
        | while IFS= read -r f; do
            codesign --force --options runtime --timestamp --entitlements "$ENT" --sign "$SIGN_ID" "$f"
        done
    codesign --force --options runtime --timestamp --entitlements "$ENT" --sign "$SIGN_ID" "$APP"
    codesign --verify --strict --verbose=2 "$APP"
    smoke signed
fi

if [ -n "${SIGN_ID:-}" ] && [ -n "${NOTARY_PROFILE:-}" ]; then
    # notarise the .app itself and staple its ticket, so a copy dragged out of the .dmg opens
    # offline; the .dmg is notarised and stapled again below
    ditto -c -k --keepParent "$APP" build/GANPaint-app.zip
    xcrun notarytool submit build/GANPaint-app.zip --keychain-profile "$NOTARY_PROFILE" --wait
    xcrun stapler staple "$APP"
fi

STAGE=build/dmg
rm -rf "$STAGE"
mkdir -p "$STAGE"
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
DMG="dist/GANPaint-$VERSION-$ARCH.dmg"
hdiutil create -volname "GANPaint $VERSION" -srcfolder "$STAGE" -ov -format UDZO "$DMG"

if [ -n "${SIGN_ID:-}" ] && [ -n "${NOTARY_PROFILE:-}" ]; then
    codesign --sign "$SIGN_ID" --timestamp "$DMG"
    xcrun notarytool submit "$DMG" --keychain-profile "$NOTARY_PROFILE" --wait
    xcrun stapler staple "$DMG"
    spctl --assess --type execute --verbose "$APP"
fi
echo "build_dmg: $DMG"
