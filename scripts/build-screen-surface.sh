#!/usr/bin/env bash
# Builds clan-viewer's screen surface (src/viewer/native/screen-surface.cc: a cairo surface over a memory file, for
# node-gtk) into dist/viewer/, where src/viewer/screen-surface.ts loads it. Built against the Node that runs the
# build (its headers sit beside it: <prefix>/include/node) and cairo (libcairo2-dev), as node-gtk is.
set -euo pipefail
cd "$(dirname "$0")/.."
node_headers=$(node -p 'require("node:path").resolve(process.execPath, "../../include/node")')
if [ ! -f "$node_headers/node.h" ]; then
  echo "build-screen-surface: Node's headers are not in $node_headers (the nodejs package ships them)" >&2
  exit 1
fi
mkdir -p dist/viewer
# -isystem: Node's and V8's headers do not build warning-free themselves.
# shellcheck disable=SC2046 # pkg-config prints several words on purpose
g++ -std=c++17 -O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong -shared -fPIC \
  -isystem "$node_headers" $(pkg-config --cflags cairo) \
  -o dist/viewer/screen-surface.node.tmp src/viewer/native/screen-surface.cc $(pkg-config --libs cairo)
mv dist/viewer/screen-surface.node.tmp dist/viewer/screen-surface.node
