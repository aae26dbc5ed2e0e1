#!/usr/bin/env bash
# Runs the trixie lane's tests (vitest project "trixie") inside the Debian 13 root that root.sh made, with that
# root's Node 20, GNOME Shell 48, QEMU 10, sway 1.10 and Nix 2.26. The checkout is bind-mounted read-only and
# seen through an overlay whose writes (builds, vitest's cache) vanish with the run; so are node_modules and .cache
# when they are links to elsewhere. What the tests save in .cache/test-output (screenshots) is copied to
# $OUTPUT. Usage: run.sh REPORT.json [vitest arguments...]; the JSON report of the run is copied to REPORT.json.
set -euo pipefail
if [ -z "${CLAN_TRIXIE_OWN_MOUNTS:-}" ]; then
  # A mount namespace of our own: nothing mounted here is visible on the host, even if this run is killed.
  exec env CLAN_TRIXIE_OWN_MOUNTS=1 unshare --mount --propagation private "$0" "$@"
fi
source "$(dirname "$0")/mounts.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=${CLAN_TRIXIE_ROOT:-/var/cache/clan-desktop/trixie-root}
CHECKOUT=/clan-desktop
OUTPUT=${CLAN_TRIXIE_OUTPUT:-$(dirname "$ROOT")/trixie-test-output}
report=$1
shift
[ -f "$ROOT/.clan-desktop-packages" ] || { echo "trixie lane: no Debian 13 root at $ROOT (scripts/trixie/root.sh makes it)" >&2; exit 2; }

# Shared with other lanes, exclusive against root.sh changing the root's packages.
exec 9>"$ROOT.lock"
flock -s 9
trap unmount_all EXIT
mount_system "$ROOT"
# Scratch space for the overlays' upper layers, in the root's private /tmp, gone after the run.
scratch=/tmp/lane-overlays
mkdir -p "$ROOT$scratch"

# overlay_of NAME SOURCE TARGET: SOURCE, read-only, appears writable at ROOT/TARGET.
overlay_of() {
  local name=$1 source=$2 target=$3
  read_only_bind "$ROOT" "/lane/$name" "$source"
  mkdir -p "$ROOT$scratch/$name/upper" "$ROOT$scratch/$name/work"
  mount_into "$ROOT" "$target" -t overlay overlay \
    -o "lowerdir=$ROOT/lane/$name,upperdir=$ROOT$scratch/$name/upper,workdir=$ROOT$scratch/$name/work"
}

overlay_of checkout "$REPO" "$CHECKOUT"
# Everything removed below is removed in the overlay only: make sure it is there.
mountpoint -q "$ROOT$CHECKOUT" || { echo "trixie lane: the checkout's overlay is not mounted" >&2; exit 1; }
for linked in node_modules .cache; do
  if [ -L "$REPO/$linked" ]; then
    # A link (a worktree sharing another checkout's) would point outside the root: show its target instead.
    rm "$ROOT$CHECKOUT/$linked"
    overlay_of "$linked" "$(readlink -f "$REPO/$linked")" "$CHECKOUT/$linked"
  fi
done
# The lane's own test output, not the host's earlier one.
rm -rf "$ROOT$CHECKOUT/.cache/test-output"

status=0
chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  ${CLAN_TEST_VERBOSE:+CLAN_TEST_VERBOSE=1} \
  sh -c 'cd "$0" && exec node node_modules/vitest/vitest.mjs run --project trixie --reporter=default --reporter=json --outputFile.json=/tmp/lane-report.json "$@"' \
  "$CHECKOUT" "$@" || status=$?
cp "$ROOT/tmp/lane-report.json" "$report" || status=1
# A test that leaves a process behind is a bug of that test: name it, then end it so that the root unmounts.
for proc in /proc/[0-9]*; do
  if [ "$(readlink "$proc/root" 2>/dev/null)" = "$ROOT" ]; then
    echo "trixie lane: left behind by a test: pid ${proc#/proc/} $(tr '\0' ' ' <"$proc/cmdline" | cut -c1-160)" >&2
    kill -KILL "${proc#/proc/}" 2>/dev/null || true
  fi
done
rm -rf "$OUTPUT"
if [ -d "$ROOT$CHECKOUT/.cache/test-output" ]; then
  cp -r "$ROOT$CHECKOUT/.cache/test-output" "$OUTPUT"
  echo "trixie lane: test output (screenshots) in $OUTPUT"
fi
exit "$status"
