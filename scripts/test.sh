#!/usr/bin/env bash
# The whole test suite, as CI and the README run it: installs what it needs, type-checks, then runs the unit
# and end-to-end tests on real QEMU, sway, i3, dbus-daemon and Nix.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
npm run --silent typecheck

report=$(mktemp --suffix=.json)
trap 'rm -f "$report"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?

# One plain closing line that any CI reader understands, counted from vitest's own JSON report.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$report" || status=1
exit "$status"
