#!/bin/sh
# The VM controller of a clan-desktop network VM (installed by nix/guest/controller.nix).
#
#   clan-vm-controller serve          tells clan-vmd on the control port that this generation is ready, and answers
#                                     its pings (the protocol of src/vmd/control-port.ts)
#   clan-vm-controller freeze|thaw    qemu-ga's fsfreeze hook: runs the backup hooks before and after a backup
#
# Where it looks can be moved, for tests: CLAN_SYSFS (/sys), CLAN_DEV (/dev), CLAN_CMDLINE (/proc/cmdline),
# CLAN_BACKUP_HOOKS (/etc/clan-desktop/backup-hooks.d).

set -u
set -f # Kernel parameters and hook names are split on whitespace below, never expanded as globs.

sysfs=${CLAN_SYSFS:-/sys}
dev=${CLAN_DEV:-/dev}
cmdline=${CLAN_CMDLINE:-/proc/cmdline}
hooks=${CLAN_BACKUP_HOOKS:-/etc/clan-desktop/backup-hooks.d}
control_port_name=org.clan.control.0
newline='
'

log() { echo "clan-vm-controller: $*" >&2; }

# The generation clan-vmd booted (clan.generation= in kernel-params), limited to characters that JSON needs no
# escape for, so that it can go into the ready line as it is.
generation() {
  parameters=$(cat "$cmdline")
  for parameter in $parameters; do
    case $parameter in
      clan.generation=*)
        value=${parameter#clan.generation=}
        case $value in
          '' | *[!A-Za-z0-9._-]*) ;;
          *) echo "$value"; return 0 ;;
        esac
        ;;
    esac
  done
  echo unknown
}

# /dev/vportNpM of the control port, found by its name: device numbering depends on the order of QEMU's options.
find_control_port() {
  set +f
  for name_file in "$sysfs"/class/virtio-ports/*/name; do
    if [ -r "$name_file" ] && [ "$(cat "$name_file")" = "$control_port_name" ]; then
      port_directory=${name_file%/name}
      echo "$dev/${port_directory##*/}"
      set -f
      return 0
    fi
  done
  set -f
  return 1
}

serve() {
  until port=$(find_control_port); do sleep 1; done # virtio_console may not have probed the device yet
  ready=$(printf '{"type":"ready","generation":"%s"}' "$(generation)")
  log "control port $port, generation $(generation)"
  # A virtio port can be opened only once, so reads and writes share fd 3. A write blocks until the host is
  # connected and a read ends when it disconnects; ready is then sent again, so that a restarted clan-vmd that
  # re-adopts this VM learns which generation runs.
  exec 3<>"$port"
  while :; do
    if ! printf '%s\n' "$ready" >&3 2>/dev/null; then
      sleep 1
      continue
    fi
    while IFS= read -r line <&3; do
      case $(printf '%s' "$line" | tr -d ' \t\r') in
        '{"type":"ping"}') printf '{"type":"pong"}\n' >&3 ;;
        *) log "ignoring a control-port message of ${#line} characters" ;;
      esac
    done
    log "host disconnected"
  done
}

# Executable files of the hooks directory, one a line, in name order.
hook_files() {
  set +f
  for hook in "$hooks"/*; do
    [ -f "$hook" ] && [ -x "$hook" ] && printf '%s\n' "$hook"
  done
  set -f
}

# Before a backup. When a hook fails, those that had frozen are thawed again, newest first, and the freeze fails:
# qemu-ga then reports the failure to the host, which backs up nothing rather than half-frozen state.
freeze() {
  frozen=''
  IFS=$newline
  for hook in $(hook_files); do
    if "$hook" freeze; then
      frozen="$hook$newline$frozen"
    else
      log "backup hook $hook failed to freeze; thawing the hooks that froze"
      for frozen_hook in $frozen; do
        "$frozen_hook" thaw || log "backup hook $frozen_hook failed to thaw"
      done
      return 1
    fi
  done
}

# After a backup, newest first; every hook is thawed even when one fails.
thaw() {
  status=0
  IFS=$newline
  for hook in $(hook_files | sort -r); do
    "$hook" thaw || { log "backup hook $hook failed to thaw"; status=1; }
  done
  return "$status"
}

case ${1:-} in
  serve) serve ;;
  freeze) freeze ;;
  thaw) thaw ;;
  *)
    echo "usage: clan-vm-controller serve|freeze|thaw" >&2
    exit 2
    ;;
esac
