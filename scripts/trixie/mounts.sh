# Sourced by scripts/trixie/*.sh: bind mounts into the Debian 13 root, each recorded so that unmount_all undoes them
# in reverse order. The callers run in a mount namespace of their own (unshare --mount), so that even a killed run
# leaves no mount on the host; unmount_all still runs from their EXIT trap.

LANE_MOUNTS=()

# mount_into ROOT TARGET MOUNT-ARGS...: mounts onto ROOT/TARGET (created if missing) and records it.
mount_into() {
  local root=$1 target=$2
  shift 2
  mkdir -p "$root$target"
  mount "$@" "$root$target"
  LANE_MOUNTS+=("$root$target")
}

# read_only_bind ROOT TARGET SOURCE: SOURCE appears read-only at ROOT/TARGET.
read_only_bind() {
  mount_into "$1" "$2" --bind "$3"
  mount -o remount,bind,ro "$1$2"
}

# The kernel file systems and a private /run and /tmp: what apt, dbus-daemon, GNOME Shell and QEMU need.
mount_system() {
  local root=$1
  mount_into "$root" /proc -t proc proc
  mount_into "$root" /sys -t sysfs -o ro sysfs
  mount_into "$root" /dev --bind /dev
  mount_into "$root" /dev/pts --bind /dev/pts
  mount_into "$root" /dev/shm -t tmpfs -o mode=1777 tmpfs
  mount_into "$root" /run -t tmpfs -o mode=0755 tmpfs
  mount_into "$root" /tmp -t tmpfs -o mode=1777 tmpfs
}

unmount_all() {
  local i
  for ((i = ${#LANE_MOUNTS[@]} - 1; i >= 0; i--)); do
    umount "${LANE_MOUNTS[i]}" || umount --lazy "${LANE_MOUNTS[i]}" || echo "trixie lane: cannot unmount ${LANE_MOUNTS[i]}" >&2
  done
  LANE_MOUNTS=()
}
