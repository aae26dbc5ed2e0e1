#!/usr/bin/env bash
# The whole test suite, as CI and the README run it: installs what it needs, type-checks, then runs two lanes:
#   - this machine (Debian 12): the unit and end-to-end tests on real QEMU, sway, i3, dbus-daemon, GNOME Shell and Nix;
#   - the trixie lane: the tests of vitest's "trixie" project again inside a Debian 13 root (scripts/trixie/), with
#     GNOME Shell 48, QEMU 10, sway 1.10 and Nix 2.26. Where that root cannot be made, the lane says why and its
#     tests count as skipped.
# Arguments go to vitest in both lanes (e.g. a test file). docs/testing.md says what each lane covers.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
npm run --silent typecheck

reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
status=0
# What the tests start. One still running after the lane is a leak of some test: named below, not failed on (a
# process slow to exit would fail a run for nothing), so that the next reader finds it.
started_by_tests='^(qemu-system|virtiofsd|sway|swaybar|i3|i3bar|Xvfb|gnome-shell|dbus-daemon|wireguard-go|yggdrasil|passt|pasta|waypipe|remote-viewer|restic)'
running_before=" $(pgrep -d ' ' "$started_by_tests" || true) "
npx vitest run --project unit --project e2e --reporter=default --reporter=json --outputFile.json="$reports/host.json" "$@" || status=$?
for pid in $(pgrep "$started_by_tests" || true); do
  case "$running_before" in
    *" $pid "*) ;;
    *)
      # A zombie is already gone; its parent, about to exit, has not reaped it yet.
      [ "$(ps -o stat= -p "$pid" | cut -c1)" = Z ] || echo "left behind by a test: $(ps -o pid=,user=,etime=,args= -p "$pid" | cut -c1-200)" >&2
      ;;
  esac
done

echo
echo "=== trixie lane (Debian 13 root) ==="
lane_status=0
bash scripts/trixie/root.sh || lane_status=$?
if [ "$lane_status" -eq 0 ]; then
  bash scripts/trixie/run.sh "$reports/trixie.json" --passWithNoTests "$@" || status=$?
elif [ "$lane_status" -eq 2 ]; then
  echo "trixie lane: SKIPPED — the Debian 13 root cannot be made on this machine (reason above); its tests count as skipped"
  # Every test of the lane, none run: vitest reports tests filtered out by name as skipped, without running them.
  npx vitest run --project trixie --passWithNoTests -t '^the trixie lane cannot run here$' --reporter=json \
    --outputFile.json="$reports/trixie.json" "$@" >/dev/null || status=1
else
  echo "trixie lane: making the Debian 13 root failed (exit $lane_status)" >&2
  status=1
  echo '{"numPassedTests":0,"numFailedTests":1,"numPendingTests":0,"numTodoTests":0}' >"$reports/trixie.json"
fi

# One plain closing line for both lanes that any CI reader understands, counted from vitest's own JSON reports.
node -e '
  const { existsSync, readFileSync } = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const file of process.argv.slice(1)) {
    if (!existsSync(file)) {
      // A lane that ended without its report (vitest itself failed) is a failure, not an absence.
      console.error(`no test report ${file}: counted as one failure`);
      failed += 1;
      continue;
    }
    const r = JSON.parse(readFileSync(file, "utf8"));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$reports/host.json" "$reports/trixie.json" || status=1
exit "$status"
