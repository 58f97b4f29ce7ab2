#!/usr/bin/env bash
# failover.sh: one of three backends killed in the middle of a 200 calls/s load. Prints the failed
# calls the caller saw (goal: 0 after the breaker opens, fewer than the killed backend's in-flight
# calls before) and the time from the kill to the breaker opening. See failover.py.
#
# Usage: bench/load/failover.sh [path/to/b2buad]    (or env B2BUAD; default build/api/b2buad)
# Environment: FO_RATE [200] FO_RUN_S [20] FO_KILL_AT_S [8] FO_HOLD_MS [1000] FO_PROBE_MS [500]
#              FO_KEEP=1 keeps the work dir. Loopback only, bounded, stops only what it started.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export B2BUAD=${1:-${B2BUAD:-$ROOT/build/api/b2buad}}
[ -x "$B2BUAD" ] || { echo "failover.sh: b2buad not executable: $B2BUAD" >&2; exit 2; }
command -v "${SIPP:-sipp}" >/dev/null || { echo "failover.sh: sipp not found" >&2; exit 2; }
exec timeout 300 python3 "$ROOT/bench/load/failover.py"
