#!/usr/bin/env bash
# The demo: headless sway, a session bus, clan-vmd and clan-sessiond, all as an unprivileged user (sway refuses
# root, and a real session runs as its user), with two demo networks on the test guest. It switches to the
# "family" workspace, shows the VM going from stopped to running, and saves a screenshot of that workspace
# with the VM's display on it. Then it waits (Ctrl-C ends it and cleans up); --exit ends it at once.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"

wait_for_exit=1
[ "${1:-}" = "--exit" ] && wait_for_exit=0
if [ "$(id -u)" -ne 0 ]; then
  echo "demo: run as root: it installs packages and creates the unprivileged user clan-demo" >&2
  exit 1
fi

bash scripts/setup.sh >/dev/null

USER_NAME=clan-demo
id "$USER_NAME" >/dev/null 2>&1 || useradd -m "$USER_NAME"
UID_=$(id -u "$USER_NAME")
DEMO=/tmp/clan-desktop-demo
OUT="$REPO/demo-output"
# The user exists for the demo alone: whatever runs as it is a previous demo's (clan-vmd, started by D-Bus
# activation, and its VMs do not name $DEMO on their command lines).
end_demo_processes() {
  pkill -u "$USER_NAME" 2>/dev/null || true
  sleep 1
  pkill -KILL -u "$USER_NAME" 2>/dev/null || true
}
end_demo_processes
rm -rf "$DEMO"
mkdir -p "$DEMO" "$OUT"
RUNTIME="$DEMO/run"
mkdir -m 0700 "$RUNTIME"
chown -R "$USER_NAME:" "$DEMO"

as_user() {
  setpriv --reuid="$UID_" --regid="$UID_" --init-groups env -i PATH="$PATH" HOME="$DEMO" \
    XDG_RUNTIME_DIR="$RUNTIME" XDG_CONFIG_HOME="$DEMO/config" XDG_STATE_HOME="$DEMO/state" \
    DBUS_SESSION_BUS_ADDRESS="unix:path=$RUNTIME/bus" WAYLAND_DISPLAY=wayland-1 \
    ${SWAYSOCK:+SWAYSOCK="$SWAYSOCK"} "$@"
}

pids=()
cleanup() {
  as_user node "$REPO/bin/clanctl.js" vm list >/dev/null 2>&1 && \
    as_user gdbus call --session -d org.clan.Desktop.VMs1 -o /org/clan/Desktop/VMs1 \
      -m org.clan.Desktop.VMs1.Manager.Shutdown true >/dev/null 2>&1 || true
  sleep 1
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  end_demo_processes
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "generations of two demo networks (the test guest: a tiny Linux that reports ready)"
as_user node --import tsx -e "
  import { makeGeneration } from '$REPO/test/helpers/test-guest.ts';
  await makeGeneration('$DEMO/generations/family-1', { generation: 'family-1', vm: { display: 'spice' } });
  await makeGeneration('$DEMO/generations/club-1', { generation: 'club-1' });
"
mkdir -p "$DEMO/config/clan-desktop"
cat >"$DEMO/config/clan-desktop/config.json" <<JSON
{
  "\$schema": "$REPO/docs/schemas/config.schema.json",
  "networks": {
    "family": { "label": "family", "workspaces": ["2:family"], "colour": "#2e7dbf",
                "source": { "profile": "$DEMO/generations/family-1" }, "onLeave": { "action": "pause" } },
    "club":   { "label": "chess club", "workspaces": ["3:club"], "colour": "#b5462f",
                "source": { "profile": "$DEMO/generations/club-1" }, "onLeave": { "action": "stop", "afterSeconds": 30 } }
  }
}
JSON
chown -R "$USER_NAME:" "$DEMO"
echo "config: $DEMO/config/clan-desktop/config.json"

step "headless sway, as $USER_NAME"
# The networks' keys and status bar come from clan-desktop itself, as a user would include them.
as_user node "$REPO/bin/clanctl.js" sway-config --with-bar >"$DEMO/clan-desktop.sway.conf"
cat >"$DEMO/sway.conf" <<CONF
output HEADLESS-1 resolution 1280x800
font pango:DejaVu Sans Mono 10
default_border normal
set \$mod Mod4
include $DEMO/clan-desktop.sway.conf
CONF
as_user env WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman \
  sway -c "$DEMO/sway.conf" >"$DEMO/sway.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do compgen -G "$RUNTIME/sway-ipc.*.sock" >/dev/null && break; sleep 0.05; done
SWAYSOCK=$(compgen -G "$RUNTIME/sway-ipc.*.sock" | head -1)
[ -n "$SWAYSOCK" ] || { echo "sway did not start:"; cat "$DEMO/sway.log"; exit 1; }
export SWAYSOCK
echo "sway IPC: $SWAYSOCK"

step "session bus, clan-vmd and clan-sessiond"
as_user dbus-daemon --session --address="unix:path=$RUNTIME/bus" --nofork --nopidfile >"$DEMO/dbus.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$RUNTIME/bus" ] && break; sleep 0.05; done
as_user node "$REPO/bin/clan-vmd.js" >"$DEMO/clan-vmd.log" 2>&1 &
pids+=($!)
as_user node "$REPO/bin/clan-sessiond.js" >"$DEMO/clan-sessiond.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do grep -q "serving org.clan.Desktop.Session1" "$DEMO/clan-sessiond.log" 2>/dev/null && break; sleep 0.05; done
cat "$DEMO/clan-vmd.log" "$DEMO/clan-sessiond.log"

cat >"$DEMO/clanctl" <<WRAP
#!/usr/bin/env bash
# clanctl as the demo user, on the demo's session bus and sway.
exec setpriv --reuid=$UID_ --regid=$UID_ --init-groups env -i PATH="$PATH" HOME="$DEMO" XDG_RUNTIME_DIR="$RUNTIME" \\
  DBUS_SESSION_BUS_ADDRESS="unix:path=$RUNTIME/bus" SWAYSOCK="$SWAYSOCK" node "$REPO/bin/clanctl.js" "\$@"
WRAP
chmod +x "$DEMO/clanctl"

step "before: clanctl status"
"$DEMO/clanctl" status

step "switch to workspace 2:family (swaymsg workspace 2:family)"
swaymsg -q workspace 2:family
for _ in $(seq 600); do
  "$DEMO/clanctl" status --json | grep -q '"vmState": "running"' && break
  sleep 0.1
done
# The viewer window appears a moment after the VM is ready.
for _ in $(seq 100); do swaymsg -t get_tree | grep -q '"clan:family"' && break; sleep 0.1; done
sleep 1

step "after: clanctl status"
"$DEMO/clanctl" status

SHOT="$OUT/family-workspace.png"
WAYLAND_DISPLAY="$RUNTIME/wayland-1" grim -o HEADLESS-1 "$SHOT"
chmod 644 "$SHOT"
step "screenshot of the family workspace: $SHOT"

cat <<NEXT

What to try next (in another terminal, while this demo runs):
  $DEMO/clanctl status                 every network, its workspace and VM state
  swaymsg workspace 3:club             enter the chess club: its VM starts; family pauses
  swaymsg workspace 2:family           back: family resumes at once
  the bar at the top of the screenshot: every network's state; $DEMO/clan-desktop.sway.conf has its keys
  $DEMO/clanctl vm list                the VMs as clan-vmd sees them
  $DEMO/clanctl vm log family          the guest's console
  edit $DEMO/config/clan-desktop/config.json   changes apply live; a broken edit is reported and ignored
  WAYLAND_DISPLAY=$RUNTIME/wayland-1 grim shot.png   a screenshot of the headless desktop
Logs: $DEMO/*.log
NEXT

if [ "$wait_for_exit" = 1 ]; then
  echo; echo "The demo runs until you press Ctrl-C."
  while sleep 3600; do :; done
fi
