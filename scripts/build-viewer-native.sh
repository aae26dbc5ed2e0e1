#!/usr/bin/env bash
# Builds clan-viewer's native parts into dist/viewer/, where src/viewer/ loads them: the screen surface
# (native/screen-surface.cc: a cairo surface over a memory file, for node-gtk) and the copy-path filter
# (native/copy-path-filter.cc: QEMU 7.2's pixels written into that file on GDBus's thread). Built against the Node
# that runs the build (its headers sit beside it: <prefix>/include/node), cairo and GIO (libcairo2-dev,
# libglib2.0-dev), as node-gtk is.
set -euo pipefail
cd "$(dirname "$0")/.."
node_headers=$(node -p 'require("node:path").resolve(process.execPath, "../../include/node")')
if [ ! -f "$node_headers/node.h" ]; then
  echo "build-viewer-native: Node's headers are not in $node_headers (the nodejs package ships them)" >&2
  exit 1
fi
mkdir -p dist/viewer
build() {
  local name=$1 packages=$2
  # -isystem: Node's and V8's headers do not build warning-free themselves.
  # shellcheck disable=SC2046 # pkg-config prints several words on purpose
  g++ -std=c++17 -O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong -shared -fPIC \
    -isystem "$node_headers" $(pkg-config --cflags "$packages") \
    -o "dist/viewer/$name.node.tmp" "src/viewer/native/$name.cc" $(pkg-config --libs "$packages")
  mv "dist/viewer/$name.node.tmp" "dist/viewer/$name.node"
}
build screen-surface cairo
build copy-path-filter gio-2.0
