#!/usr/bin/env bash
# Installs what is missing, builds everything (the clang fuzz build too), and runs every test (unit,
# SIPp integration and the fuzz runs) through ctest. Extra arguments go to ctest, e.g.
# scripts/test.sh -R unit
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/deps.sh"
"$root/scripts/build.sh"
"$root/scripts/build_fuzz.sh"
cd "${B2BUA_BUILD_DIR:-$root/build}"
exec ctest --output-on-failure --timeout 600 "$@"
