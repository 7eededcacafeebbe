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

# the smoke test, inside the .app
QT_QPA_PLATFORM=offscreen "$APP/Contents/MacOS/ganpaint" --smoke-test build/smoke-macos

if [ -n "${SIGN_ID:-}" ]; then
    # hardened runtime; torch and Qt need no extra entitlements for CPU use
    codesign --force --deep --options runtime --timestamp --sign "$SIGN_ID" "$APP"
    codesign --verify --deep --strict "$APP"
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
fi
echo "build_dmg: $DMG"
