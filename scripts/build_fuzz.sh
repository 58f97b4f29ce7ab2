#!/usr/bin/env bash
# Configures and builds the libFuzzer targets (tests/fuzz) with clang into build-fuzz/ (or
# $B2BUA_FUZZ_BUILD_DIR, or the first argument). Used by build.sh and by ctest's fuzz.build entry.
# Fails when clang or libFuzzer is missing: the fuzz runs are part of the test suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-${B2BUA_FUZZ_BUILD_DIR:-$root/build-fuzz}}"
jobs="${B2BUA_JOBS:-$(nproc)}"
for tool in clang clang++; do
  command -v "$tool" >/dev/null || { echo "build_fuzz.sh: $tool not found (scripts/deps.sh installs it)" >&2; exit 1; }
done
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DB2BUA_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "${launcher[@]}" >/dev/null
cmake --build "$build" --parallel "$jobs"
