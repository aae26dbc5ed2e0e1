#!/usr/bin/env bash
# Builds the tiny guest that end-to-end tests and the demo boot: Debian's cloud kernel (taken from its package,
# not installed) and an initramfs with busybox, the host's qemu-ga and test/guest/init.sh as /init.
# A second initramfs, initrd-waypipe, adds what the guest needs to forward a Wayland window (clan.waypipe-demo=1):
# waypipe, socat, weston-simple-touch and wayland-info (which lists the globals an app sees through each port). Debian's waypipe links ffmpeg's codecs, ≈ 150 MB of libraries with
# their dependencies, so only generations that forward a window boot it; every other test keeps the small one.
# Output: .cache/test-guest/{kernel,initrd,initrd-waypipe}. Skips all work when a stamp says the inputs are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

out=.cache/test-guest
init_script=test/guest/init.sh
qga=/usr/sbin/qemu-ga
busybox=/bin/busybox
waypipe_demo_binaries=(/usr/bin/waypipe /usr/bin/socat /usr/bin/weston-simple-touch /usr/bin/wayland-info)
# Built as modules in Debian's cloud kernel; their dependencies are added below.
modules=(virtio_pci virtio_console virtio_blk virtio_net virtio_balloon qemu_fw_cfg virtiofs)

for f in "$qga" "$busybox" "${waypipe_demo_binaries[@]}"; do
  [ -x "$f" ] || { echo "build-test-guest: $f is missing; run scripts/setup.sh" >&2; exit 1; }
done

# The binaries are inputs too: an upgraded qemu-ga must not run with the libraries of the old one.
stamp_want=$(cat scripts/build-test-guest.sh "$init_script" "$qga" "$busybox" "${waypipe_demo_binaries[@]}" | sha256sum | cut -d' ' -f1)
if [ -f "$out/kernel" ] && [ -f "$out/initrd" ] && [ -f "$out/initrd-waypipe" ] &&
  [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp_want" ]; then
  exit 0
fi

kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n1)
[ -n "$kpkg" ] || { echo "build-test-guest: apt-cache knows no linux-image-cloud-amd64; run apt-get update" >&2; exit 1; }

mkdir -p "$out"
work=$(mktemp -d "$out/build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The extracted package is kept: rebuilding after an init change then needs no download.
kdir=$out/$kpkg
if [ ! -d "$kdir" ]; then
  echo "build-test-guest: fetching $kpkg"
  (cd "$work" && apt-get download -q "$kpkg" 2>&1 | grep -v 'Download is performed unsandboxed' || true)
  deb=$(echo "$work"/"$kpkg"_*.deb)
  [ -f "$deb" ] || { echo "build-test-guest: apt-get download $kpkg failed" >&2; exit 1; }
  dpkg-deb -x "$deb" "$work/kpkg"
  # A concurrent build may have got there first; either copy serves.
  mv -T "$work/kpkg" "$kdir" 2>/dev/null || [ -d "$kdir/boot" ]
  find "$out" -mindepth 1 -maxdepth 1 -name 'linux-image-*' ! -name "$kpkg" -exec rm -rf {} +
fi
kver=${kpkg#linux-image-}
moddir=$kdir/lib/modules/$kver

root=$work/root
mkdir -p "$root"/{bin,usr/sbin,proc,sys,dev,run,tmp,etc,var,lib/modules}
ln -s ../run "$root/var/run"
cp "$init_script" "$root/init"
chmod 0755 "$root/init"

cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done

# A dynamic binary runs in the guest when it finds every library ldd names at the same path, plus the loader.
copy_with_libraries() {
  local binary=$1 dest=$2 lib
  mkdir -p "$dest$(dirname "$binary")"
  cp "$binary" "$dest$binary"
  for lib in $(ldd "$binary" | grep -o '/[^ ]*'); do
    mkdir -p "$dest$(dirname "$lib")"
    cp -L "$lib" "$dest$lib"
  done
}
copy_with_libraries "$qga" "$root"

# Modules in dependency order (depth first), read from each .ko's "depends=" modinfo field because
# the package ships no modules.dep and kmod is not installed.
declare -A loaded=()
load_order=()
add_module() {
  local name=$1 ko dep
  [ -z "${loaded[$name]:-}" ] || return 0
  loaded[$name]=1
  ko=$(find "$moddir/kernel" \( -name "$name.ko" -o -name "${name//_/-}.ko" \) -print -quit)
  [ -n "$ko" ] || { echo "build-test-guest: module $name not in $kpkg" >&2; exit 1; }
  for dep in $(tr '\0' '\n' <"$ko" | sed -n 's/^depends=//p' | tr ',' ' '); do
    add_module "$dep"
  done
  cp "$ko" "$root/lib/modules/"
  load_order+=("$(basename "$ko")")
}
for m in "${modules[@]}"; do add_module "$m"; done
printf '%s\n' "${load_order[@]}" >"$root/lib/modules/load-order"

archive() {
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null)
}
archive "$root" | gzip -9n >"$work/initrd"

# The kernel unpacks concatenated archives in order, so the waypipe initrd is the base one plus an overlay.
# The overlay stays uncompressed: QEMU loads the file at host speed, while decompressing ≈ 150 MB under TCG
# delays the boot (to the banner, on a loaded 2-core machine: 7 s uncompressed, 9–14 s with zstd -10, 10.4 s with
# gzip -9; the base initrd alone 5–6.5 s). The guest needs ≈ 400 MiB of RAM for it.
overlay=$work/waypipe-root
for binary in "${waypipe_demo_binaries[@]}"; do copy_with_libraries "$binary" "$overlay"; done
cp "$work/initrd" "$work/initrd-waypipe"
# The kernel reads an uncompressed archive after a compressed one only from a 4-byte boundary (it skips zeros).
truncate --size=%4 "$work/initrd-waypipe"
archive "$overlay" >>"$work/initrd-waypipe"

cp "$kdir/boot/vmlinuz-$kver" "$work/kernel"
mv "$work/kernel" "$out/kernel"
mv "$work/initrd" "$out/initrd"
mv "$work/initrd-waypipe" "$out/initrd-waypipe"
echo "$stamp_want" >"$out/stamp"
echo "build-test-guest: $out/kernel ($kver), $out/initrd ($(du -k "$out/initrd" | cut -f1) KiB)," \
  "$out/initrd-waypipe ($(du -k "$out/initrd-waypipe" | cut -f1) KiB)"
