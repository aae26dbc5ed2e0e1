#!/usr/bin/env bash
# Builds clan-wayland-filter (src/session/wayland-filter/, C: Node cannot pass file descriptors over a socket) into
# dist/, where clan-sessiond looks for it. Needs only gcc and libc.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p dist
gcc -std=c11 -O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
  -o dist/clan-wayland-filter.tmp src/session/wayland-filter/*.c
mv dist/clan-wayland-filter.tmp dist/clan-wayland-filter
