#!/usr/bin/env bash
# Installs what is missing, builds, and runs b2buad. Without arguments it runs the embedded default
# config (pass-through B2BUA on 0.0.0.0:5060, REST API on 127.0.0.1:8080); any arguments go to
# b2buad, e.g. scripts/run.sh --config examples/configs/static_route.json
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/deps.sh"
"$root/scripts/build.sh" --target b2buad
exec "${B2BUA_BUILD_DIR:-$root/build}/api/b2buad" "$@"
