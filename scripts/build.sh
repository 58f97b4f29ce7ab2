#!/usr/bin/env bash
# Configures and builds b2bua into build/ (or $B2BUA_BUILD_DIR). Used by run.sh and test.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${B2BUA_BUILD_DIR:-$root/build}"
type="${B2BUA_BUILD_TYPE:-RelWithDebInfo}"
jobs="${B2BUA_JOBS:-$(nproc)}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="$type" >/dev/null
cmake --build "$build" --parallel "$jobs" "$@"
