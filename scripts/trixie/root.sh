#!/usr/bin/env bash
# Makes (once) the Debian 13 root the trixie lane runs in: `debootstrap --variant=minbase trixie` from
# deb.debian.org, then the lane's packages with apt inside the root. The host's apt sources are never touched.
# The root lives outside the checkout and is reused while its stamp (the package list and this script's version)
# matches; a changed list installs what is missing into the same root. Exit status 2: the root cannot be made
# here (not root, no debootstrap, no archive), with the reason on stderr.
set -euo pipefail
if [ -z "${CLAN_TRIXIE_OWN_MOUNTS:-}" ] && [ "$(id -u)" -eq 0 ]; then
  # A mount namespace of our own: nothing mounted here is visible on the host, even if this run is killed.
  exec env CLAN_TRIXIE_OWN_MOUNTS=1 unshare --mount --propagation private "$0" "$@"
fi
source "$(dirname "$0")/mounts.sh"

ROOT=${CLAN_TRIXIE_ROOT:-/var/cache/clan-desktop/trixie-root}
MIRROR=${CLAN_TRIXIE_MIRROR:-http://deb.debian.org/debian}
LANE_USER=clantest
ROOT_PACKAGES=(
  # the lane's Node and the commands the test harnesses call
  nodejs util-linux passwd procps ca-certificates
  # GNOME Shell 48 headless, its buses, gsettings and glib-compile-schemas, pixels of its screenshots
  gnome-shell gjs dbus libglib2.0-bin imagemagick
  # xwininfo: the size of a window the tests took a picture of
  x11-utils
  # clan-vmd's QEMU 10 for the test guest, and its D-Bus display (a loadable module in Debian 13)
  qemu-system-x86 qemu-system-modules-opengl qemu-utils e2fsprogs
  # sway 1.10 and wayland-info, which lists the globals a compositor advertises; waypipe, grim and weston's demo
  # clients for the app windows behind clan-wayland-filter and sway's security context
  sway wayland-utils waypipe grim weston
  # Nix 2.26
  nix-bin
  # clan-viewer (node-gtk, built on the host, loads the root's libgirepository-1.0 and GTK 4) under Xvfb
  libgirepository-1.0-1 gir1.2-gtk-4.0 xvfb
)
STAMP="$ROOT/.clan-desktop-packages"
want="version 1: ${ROOT_PACKAGES[*]}"

cannot() {
  echo "trixie lane: $*" >&2
  exit 2
}

[ "$(id -u)" -eq 0 ] || cannot "making the Debian 13 root needs root (chroot, mounts)"
root_is_current() { [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; }
root_is_current && exit 0
mkdir -p "$(dirname "$ROOT")"
# One maker at a time, and none while a lane runs in the root (run.sh holds the lock shared).
exec 9>"$ROOT.lock"
flock 9
root_is_current && exit 0
command -v debootstrap >/dev/null || cannot "debootstrap is not installed (apt-get install debootstrap)"

trap unmount_all EXIT
in_root() {
  chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "${@:2}"
}

if [ -d "$ROOT" ] && [ -f "$STAMP" ]; then
  # A root from an earlier package list: add what is missing in place.
  target=$ROOT
else
  # A new root is made next to its final place and renamed when complete, so an interrupted run leaves no
  # half-made root behind that a later run would trust.
  target="$ROOT.building"
  rm -rf "$target"
  echo "trixie lane: debootstrap --variant=minbase trixie from $MIRROR (once per machine)"
  started=$SECONDS
  if ! debootstrap --variant=minbase trixie "$target" "$MIRROR" >"$(dirname "$ROOT")/debootstrap.log" 2>&1; then
    rm -rf "$target"
    cannot "debootstrap failed (no archive at $MIRROR?); see $(dirname "$ROOT")/debootstrap.log"
  fi
  echo "trixie lane: base system in $((SECONDS - started)) s"
fi

mount_system "$target"
started=$SECONDS
apt_log="$(dirname "$ROOT")/apt.log"
echo "trixie lane: installing into the root: ${ROOT_PACKAGES[*]}"
in_root "$target" apt-get update -q >"$apt_log" 2>&1 || cannot "apt-get update in the Debian 13 root failed; see $apt_log"
in_root "$target" apt-get install -y -q --no-install-recommends "${ROOT_PACKAGES[@]}" >>"$apt_log" 2>&1 ||
  cannot "apt-get install in the Debian 13 root failed; see $apt_log"
in_root "$target" apt-get clean
# sway and GNOME Shell run as an unprivileged user; its home is the test harness's concern.
in_root "$target" sh -c "getent passwd $LANE_USER >/dev/null || useradd -m $LANE_USER"
echo "trixie lane: packages in $((SECONDS - started)) s"
unmount_all

echo "$want" >"$target/.clan-desktop-packages"
if [ "$target" != "$ROOT" ]; then
  rm -rf "$ROOT"
  mv "$target" "$ROOT"
fi
