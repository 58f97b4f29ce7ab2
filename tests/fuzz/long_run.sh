#!/usr/bin/env bash
# The longer local fuzz run: each target in turn (one process, nice 19) until it has executed
# RUNS inputs (default 10 million) or run SECONDS (default 3600), whichever comes first; then a line
# of figures per target. Corpora grow in <fuzz build>/tests/fuzz/long-corpus/<target>; findings
# land in <fuzz build>/tests/fuzz/fuzz-artifacts/. Needs scripts/build_fuzz.sh first.
#   tests/fuzz/long_run.sh [target ...]        (default: all)
# Environment: B2BUA_FUZZ_BUILD_DIR, RUNS, SECONDS_PER_TARGET, TIMEOUT_S (a single input's limit,
# default 10 s; libFuzzer measures it in wall-clock time, so on a busy machine, where nice 19
# starves this process, raise it: a 0.25 s input was once reported as a 10 s timeout).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${B2BUA_FUZZ_BUILD_DIR:-$root/build-fuzz}/tests/fuzz"
runs="${RUNS:-10000000}"
seconds="${SECONDS_PER_TARGET:-3600}"
timeout_s="${TIMEOUT_S:-10}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(rtp dtmf_info sdp rest media_session config digest)
summary="$build/long-run-summary.txt"
mkdir -p "$build/fuzz-artifacts"
status=0
for t in "${targets[@]}"; do
  bin="$build/${t}_fuzz"
  [ -x "$bin" ] || { echo "long_run.sh: $bin is not built" >&2; exit 1; }
  corpus="$build/long-corpus/$t"
  mkdir -p "$corpus"
  log="$build/long-run-$t.log"
  start=$(date +%s)
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
    nice -n 19 "$bin" -runs="$runs" -max_total_time="$seconds" -timeout="$timeout_s" -rss_limit_mb=2048 \
      -malloc_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
      -artifact_prefix="$build/fuzz-artifacts/$t-" "$corpus" "$root/tests/fuzz/corpus/$t" \
      </dev/null >"$log" 2>&1
  rc=$?
  [ $rc -eq 0 ] || status=1
  done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  printf '%s rc=%s executions=%s exec/s=%s wall=%ss corpus_files=%s | %s\n' "$t" "$rc" "${execs:-?}" \
    "${rate:-?}" "$(( $(date +%s) - start ))" "$(ls "$corpus" | wc -l)" "${done_line:-no DONE line (see $log)}" \
    | tee -a "$summary"
done
exit $status
