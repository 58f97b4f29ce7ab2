#!/usr/bin/env bash
# One ctest fuzz entry: runs a libFuzzer target for a bounded time over its seed corpus.
#   run_fuzz.sh <fuzz binary> <seed corpus dir> <seconds> [extra libFuzzer flags]
# New inputs go to a scratch corpus under the build dir, never into the repository. A crash, leak,
# timeout, out-of-memory or sanitizer report makes libFuzzer exit non-zero and fails the entry; the
# reproducer is kept as <build dir>/fuzz-artifacts/<target>-crash-... (rerun: <binary> <file>).
set -euo pipefail
bin="$1" seeds="$2" seconds="$3"
shift 3
if [ ! -x "$bin" ]; then
  echo "run_fuzz.sh: $bin is not built (scripts/build_fuzz.sh; needs clang and libclang-rt-14-dev)" >&2
  exit 1
fi
[ -d "$seeds" ] || { echo "run_fuzz.sh: no seed corpus $seeds" >&2; exit 1; }
name="$(basename "$bin")"
out="$(dirname "$bin")/fuzz-artifacts"
work="$(dirname "$bin")/fuzz-corpus/$name"
mkdir -p "$out" "$work"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
  -max_len=8192 -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$out/$name-" \
  "$@" "$work" "$seeds" </dev/null
