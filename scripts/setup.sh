#!/usr/bin/env bash
# Installs what the demo and the test suite need, once: Debian packages, then node modules.
# Idempotent: packages already installed are not fetched again; node modules are installed only when the lockfile
# changed.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  # VMs and their guest
  qemu-system-x86 qemu-utils busybox-static qemu-guest-agent socat
  # buses
  dbus
  # window managers and what drives them headless
  sway grim i3-wm xvfb x11-utils imagemagick
  # status bars the bar module is tested on, and keystrokes for the config snippet's bindings
  waybar i3blocks wtype xdotool
  # displays of network VMs; weston for the Wayland demo client the test guest forwards with waypipe, and
  # wayland-utils for wayland-info, which lists the globals a client sees (on the host and in the test guest)
  virt-viewer waypipe weston wayland-utils
  # compilers: node-gtk's native binding and clan-wayland-filter (C: Node cannot pass file descriptors)
  gcc g++ make
  # clan-viewer and clan-manager: node-gtk (an optional npm dependency) builds against these and draws with GTK 4
  pkg-config libgirepository1.0-dev libcairo2-dev gir1.2-gtk-4.0 gir1.2-adw-1
  # the accessibility bus and library through which the manager's test reads and drives its window
  at-spi2-core gir1.2-atspi-2.0
  # GNOME: the shell the extension is tested in (headless), its JavaScript runtime, glib-compile-schemas
  gnome-shell gjs
  # generations, rebuilds and sources
  nix-bin git ca-certificates
  # each network's VPN in its own network namespace (docs/vpn.md); passt's pasta and util-linux's unshare, nsenter
  # and setpriv for the rootless namespaces of a clan-vmd without privileges, and for QEMU's own uid
  wireguard-go wireguard-tools yggdrasil nftables iproute2 procps passt util-linux
  # lint of the shell scripts that run inside network VMs
  shellcheck
  # test/nix: the guest's yggdrasil key script (jq) and the NixOS VM test's script, parsed as Python
  jq python3
  # vm.json audio "host": QEMU's PulseAudio module (in qemu-system-gui) and a PulseAudio server to play into
  qemu-system-gui pulseaudio pulseaudio-utils
  # backups of network VMs' state disks; e2fsprogs makes and inspects the test guest's ext4 state disk
  restic e2fsprogs
  # the shells whose clanctl completions are tested (bash is always there)
  zsh fish
  # the Debian 13 root of the trixie lane (scripts/trixie/root.sh makes it; docs/testing.md)
  debootstrap
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

stamp=node_modules/.package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # Not `npm ci`: npm 11 writes lockfiles without other platforms' optional packages (rollup's native builds) and
  # then rejects them in `npm ci` as out of sync (npm/cli#4828 and its npm 11 successors). `npm install
  # --no-save` installs exactly the locked versions and never rewrites package.json or the lockfile.
  echo "setup: npm install (locked versions)"
  npm install --no-audit --no-fund --no-save
  echo "$want" >"$stamp"
fi

npm run --silent build
bash scripts/build-test-guest.sh
