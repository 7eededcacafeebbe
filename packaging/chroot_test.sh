#!/usr/bin/env bash
# Prove the .deb installs into a clean Debian 12 (bookworm) and runs there, headless.
#
#   sudo bash packaging/chroot_test.sh [dist/ganpaint_<version>_amd64.deb]
#
# 1. a minimal bookworm (debootstrap --variant=minbase) is made once and kept as
#    build/chroot-bookworm-base.tar; every run unpacks it afresh into build/chroot, so each
#    test starts from a clean system;
# 2. the .deb is installed with apt (--no-install-recommends: its Depends alone must be
#    enough; apt fetches them from the mirror);
# 3. `ganpaint --smoke-test` runs inside with QT_QPA_PLATFORM=offscreen (and again under
#    xvfb-run on the xcb platform with CHROOT_XVFB=1, which installs xvfb in the chroot);
# 4. a wheel plugin (packaging/testdata/ganpaint-posterize-demo, built on the host) is installed
#    through the Plugins dialog's Install from file, run in the window and uninstalled
#    (ganpaint --run-python packaging/testdata/dialog_install_check.py);
# 5. the logs and pictures are copied to build/chroot-smoke/.
# Needs root and the Debian mirror; installs debootstrap with apt-get when it is missing. MIRROR= sets
# the mirror; by default the first Debian (non-security) one of this machine's apt sources.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SUITE=${SUITE:-bookworm}
CHROOT="$ROOT/build/chroot"
BASE="$ROOT/build/chroot-$SUITE-base.tar"
RESULTS="$ROOT/build/chroot-smoke"
DEB=${1:-$(ls -t dist/ganpaint_*.deb 2>/dev/null | head -n 1)}
say() { echo "chroot_test: $*"; }

[ "$(id -u)" = 0 ] || { say "needs root (debootstrap, mount, chroot)"; exit 1; }
[ -n "$DEB" ] && [ -f "$DEB" ] || { say "no .deb given or found in dist/ (run packaging/deb/build_deb.sh)"; exit 1; }
if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap \
        || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; } \
        || { say "could not install debootstrap"; exit 1; }
fi

if [ -z "${MIRROR:-}" ]; then
    MIRROR=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' \
             | grep -v -e security -e '^$' | grep -m1 debian || true)
    [ -n "$MIRROR" ] || MIRROR=$(grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' \
             | grep -v security | grep -m1 debian || true)
    MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi

cleanup() {
    for m in dev/pts dev sys proc; do
        mountpoint -q "$CHROOT/$m" 2>/dev/null && umount -l "$CHROOT/$m" || true
    done
}
trap cleanup EXIT

t0=$(date +%s)
if [ ! -f "$BASE" ]; then
    say "debootstrap $SUITE from $MIRROR (once; kept as $BASE)"
    cleanup
    rm -rf "$CHROOT"
    debootstrap --variant=minbase "$SUITE" "$CHROOT" "$MIRROR"
    tar -C "$CHROOT" -cf "$BASE" .
fi
say "fresh $SUITE tree from $BASE"
cleanup
rm -rf "$CHROOT"
mkdir -p "$CHROOT"
tar -C "$CHROOT" -xf "$BASE"

mount -t proc proc "$CHROOT/proc"
mount --bind /sys "$CHROOT/sys"
mount --bind /dev "$CHROOT/dev"
mount --bind /dev/pts "$CHROOT/dev/pts"
cp /etc/resolv.conf "$CHROOT/etc/resolv.conf"
cp "$DEB" "$CHROOT/tmp/"
in_chroot() {
    chroot "$CHROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
APT=(apt-get -q -y -o APT::Sandbox::User=root)

say "installing $(basename "$DEB") with apt"
before=$(in_chroot dpkg-query -f '.\n' -W | wc -l)
in_chroot "${APT[@]}" update >/dev/null
t1=$(date +%s)
in_chroot "${APT[@]}" install --no-install-recommends "/tmp/$(basename "$DEB")" | tail -n 3
after=$(in_chroot dpkg-query -f '.\n' -W | wc -l)
say "installed in $(( $(date +%s) - t1 )) s; apt added $((after - before - 1)) dependency packages"
in_chroot dpkg -s ganpaint | sed -n '1,2p;/^Version/p'
in_chroot ls -l /usr/bin/ganpaint /usr/share/applications/ganpaint.desktop /usr/share/icons/hicolor/256x256/apps/ganpaint.png

mkdir -p "$RESULTS"
rm -rf "${RESULTS:?}"/*
say "smoke test (offscreen) inside the chroot"
in_chroot env QT_QPA_PLATFORM=offscreen ganpaint --version
in_chroot env QT_QPA_PLATFORM=offscreen ganpaint --smoke-test /tmp/smoke-offscreen | tee "$RESULTS/smoke-offscreen.log"
cp -r "$CHROOT/tmp/smoke-offscreen" "$RESULTS/"

say "a wheel plugin installed through the Plugins dialog (Install from file) inside the chroot"
WHEELS="$ROOT/build/chroot-wheel"
rm -rf "$WHEELS" && mkdir -p "$WHEELS"
cp -r packaging/testdata/ganpaint-posterize-demo "$WHEELS/src"  # no build output in the tree
"${PKG_VENV:-build/pkg-venv}/bin/python" -m pip wheel -q --disable-pip-version-check --no-deps \
    --no-build-isolation -w "$WHEELS" "$WHEELS/src"
WHEEL=$(basename "$(ls "$WHEELS"/ganpaint_posterize_demo-*.whl)")
cp "$WHEELS/$WHEEL" packaging/testdata/dialog_install_check.py "$CHROOT/tmp/"
in_chroot env QT_QPA_PLATFORM=offscreen GANPAINT_DATA_DIR=/tmp/userdata-dialog \
    ganpaint --run-python /tmp/dialog_install_check.py "/tmp/$WHEEL" | tee "$RESULTS/dialog-install.log"
grep -q "dialog-install: PASSED" "$RESULTS/dialog-install.log"

if [ "${CHROOT_XVFB:-0}" = 1 ]; then
    say "smoke test under xvfb-run (xcb) inside the chroot"
    in_chroot "${APT[@]}" install --no-install-recommends xvfb xauth | tail -n 1
    in_chroot env QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" ganpaint --smoke-test /tmp/smoke-xvfb \
        | tee "$RESULTS/smoke-xvfb.log"
    cp -r "$CHROOT/tmp/smoke-xvfb" "$RESULTS/"
fi

say "removing the package again (apt purge)"
in_chroot "${APT[@]}" purge ganpaint | tail -n 1
in_chroot test ! -e /opt/ganpaint && say "/opt/ganpaint removed"
say "PASSED in $(( $(date +%s) - t0 )) s (logs and pictures in $RESULTS)"
