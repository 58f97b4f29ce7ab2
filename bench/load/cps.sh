#!/usr/bin/env bash
# cps.sh: finds the highest call rate with zero failed calls through b2buad (SIPp uac -> b2buad ->
# SIPp uas) and, in the same run, SIPp straight to SIPp as the reference ceiling. Also reports
# b2buad's CPU seconds per 1,000 calls and its memory (baseline, peak, after the load settles).
#
# Usage: bench/load/cps.sh [path/to/b2buad]      (or env B2BUAD; default build/api/b2buad)
# Loopback only, free ports, bounded in time; stops only the processes it started, by PID.
#
# Environment (defaults in brackets):
#   CPS_RATES     rising call rates to try ["500 1000 1500 2000 2500 3000 4000 5000"]
#   CPS_RUN_S     seconds of calls per run [15]
#   CPS_TRIES     attempts per rate; a rate passes on its first clean attempt and the ladder
#                 stops at the first rate that fails every attempt [2]
#   CPS_HOLD_MS   call hold time (-d) [1000]
#   CPS_BUDGET_S  wall-clock budget for the whole script; no run starts that would end after it [570]
#   SIPP          the SIPp binary [sipp]
#   B2BUA_SCENARIOS  folder of the SIPp scenarios [<repo>/tests/scenarios]
#   CPS_MEDIA     b2buad's media.mode: relay (every call's RTP anchored, ports set up and torn
#                 down per call) or bypass [relay]
#   CPS_KEEP=1    keep the work dir (SIPp screens and b2buad logs)
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B2BUAD=${1:-${B2BUAD:-$ROOT/build/api/b2buad}}
SCEN=${B2BUA_SCENARIOS:-$ROOT/tests/scenarios}
RATES=${CPS_RATES:-"500 1000 1500 2000 2500 3000 4000 5000"}
RUN_S=${CPS_RUN_S:-15}
TRIES=${CPS_TRIES:-2}
HOLD_MS=${CPS_HOLD_MS:-1000}
BUDGET_S=${CPS_BUDGET_S:-570}
SIPP=${SIPP:-sipp}
HOST=127.0.0.1
T0=$(date +%s)

die() { echo "cps.sh: $*" >&2; exit 2; }
[ -x "$B2BUAD" ] || die "b2buad not executable: $B2BUAD (pass it as \$1 or B2BUAD)"
command -v "$SIPP" >/dev/null || die "sipp not found"
command -v python3 >/dev/null || die "python3 not found (used to pick free ports)"
[ -f "$SCEN/uac_basic.xml" ] || die "no $SCEN/uac_basic.xml"

WORK=$(mktemp -d /tmp/b2bua-cps.XXXXXX)
B2B_PID=""
UAS_PID=""
UAC_PID=""

cleanup() {
  for pid in $UAC_PID $UAS_PID; do
    kill -TERM "$pid" 2>/dev/null
  done
  if [ -n "$B2B_PID" ] && kill -0 "$B2B_PID" 2>/dev/null; then
    kill -TERM "$B2B_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$B2B_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$B2B_PID" 2>/dev/null
  fi
  if [ "${CPS_KEEP:-0}" = "1" ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_ports N [LO HI]
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Waits (bounded) until UDP 127.0.0.1:$1 is bound by someone; reads /proc, never binds.
wait_udp_bound() {
  local hex
  hex=$(printf '%04X' "$1")
  for _ in $(seq 1 100); do
    grep -q "0100007F:$hex " /proc/net/udp 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

http_get() {  # $1 = path; prints the body or nothing
  python3 - "$API_PORT" "$1" <<'EOF' 2>/dev/null
import sys, urllib.request
try:
    with urllib.request.urlopen("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), timeout=2) as r:
        print(r.read().decode())
except Exception:
    pass
EOF
}

stat_field() {  # $1 = field name of /v1/stats
  http_get /v1/stats | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1',''))" 2>/dev/null
}

cpu_ticks() { sed 's/.*) //' "/proc/$B2B_PID/stat" 2>/dev/null | awk '{print $12 + $13}'; }
status_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$B2B_PID/status" 2>/dev/null; }
screen_count() {  # $1 = screen file, $2 = label; cumulative column
  grep -m1 "$2" "$1" 2>/dev/null | grep -o '[0-9]\+' | tail -1
}
elapsed() { echo $(( $(date +%s) - T0 )); }

# ------------------------------------------------------------------------------------------------
# b2buad, started once for the whole run so memory before/after can be compared.
CPS_MEDIA=${CPS_MEDIA:-relay}
B2B_SIP=$(free_ports 1) || die "no free port"
API_PORT=$(free_ports 1) || die "no free port"
cat > "$WORK/b2buad.json" <<EOF
// cps.sh: pass-through, limits high so that only capacity limits the rate
{ "sip": {"listen": "$HOST:$B2B_SIP"}, "api": {"listen": "$HOST:$API_PORT"},
  "limits": {"max_calls": 100000, "retry_after_s": 5},
  "timers": {"no_answer_ms": 60000, "sip_t1_ms": 500, "route_timeout_ms": 2000, "drain_ms": 3000},
  "media": {"mode": "$CPS_MEDIA", "listen_ip": "$HOST", "ports": "10000-29999"},
  "log": {"level": "warn"} }
EOF
"$B2BUAD" --config "$WORK/b2buad.json" >"$WORK/b2buad.stdout" 2>"$WORK/b2buad.stderr" </dev/null &
B2B_PID=$!
for _ in $(seq 1 100); do
  [ "$(http_get /health)" != "" ] && break
  kill -0 "$B2B_PID" 2>/dev/null || { cat "$WORK/b2buad.stderr" >&2; die "b2buad exited at start"; }
  sleep 0.1
done
[ "$(http_get /health)" != "" ] || die "b2buad did not answer /health within 10 s"
wait_udp_bound "$B2B_SIP" || die "b2buad SIP port not bound"
sleep 1
RSS_BASE=$(status_kb VmRSS)
CLK_TCK=$(getconf CLK_TCK)

# One run: $1 = mode (b2bua|direct), $2 = rate. Sets RUN_OK (1/0), RUN_DESC, RUN_CPU_S, RUN_CALLS.
run_once() {
  local mode=$1 rate=$2 calls=$(( $2 * RUN_S )) tag="$1-$2-$(date +%s%N)"
  local up cp limit tmo rsa=() c0 c1 ok fail rc
  up=$(free_ports 4) || { RUN_OK=0; RUN_DESC="no free ports"; return; }
  cp=$(free_ports 4) || { RUN_OK=0; RUN_DESC="no free ports"; return; }
  limit=$(( rate * (HOLD_MS + 3000) / 1000 + 100 ))
  tmo=$(( RUN_S + HOLD_MS / 1000 + 30 ))
  [ "$mode" = b2bua ] && rsa=(-rsa "$HOST:$B2B_SIP")
  "$SIPP" -sn uas -i $HOST -p "$up" -mp $((up + 4)) -m "$calls" -nostdin -timeout "${tmo}s" \
    -timeout_error -trace_err -error_file "$WORK/$tag.uas.err" \
    -trace_screen -screen_file "$WORK/$tag.uas.screen" >"$WORK/$tag.uas.out" 2>&1 </dev/null &
  UAS_PID=$!
  wait_udp_bound "$up" || { RUN_OK=0; RUN_DESC="uas did not start"; kill "$UAS_PID"; UAS_PID=""; return; }
  c0=$(cpu_ticks)
  "$SIPP" -sf "$SCEN/uac_basic.xml" "$HOST:$up" "${rsa[@]}" -s bob -i $HOST -p "$cp" \
    -mp $((cp + 4)) -m "$calls" -r "$rate" -l "$limit" -d "$HOLD_MS" -nostdin \
    -timeout "${tmo}s" -timeout_error -recv_timeout 10000 \
    -trace_err -error_file "$WORK/$tag.uac.err" -trace_screen -screen_file "$WORK/$tag.uac.screen" \
    >"$WORK/$tag.uac.out" 2>&1 </dev/null &
  UAC_PID=$!
  # Bounded wait for the caller (its own -timeout plus a margin), then for the callee.
  for _ in $(seq 1 $(( (tmo + 15) * 5 ))); do kill -0 "$UAC_PID" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$UAC_PID" 2>/dev/null && kill -KILL "$UAC_PID"
  wait "$UAC_PID" 2>/dev/null; rc=$?
  UAC_PID=""
  c1=$(cpu_ticks)
  # The callee keeps each call 4 s (timewait of -sn uas) before it exits; its counts are not
  # needed, so give it a short grace and stop it.
  for _ in $(seq 1 10); do kill -0 "$UAS_PID" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$UAS_PID" 2>/dev/null && kill -TERM "$UAS_PID"
  wait "$UAS_PID" 2>/dev/null
  UAS_PID=""
  ok=$(screen_count "$WORK/$tag.uac.screen" "Successful call"); ok=${ok:-0}
  fail=$(screen_count "$WORK/$tag.uac.screen" "Failed call"); fail=${fail:-0}
  RUN_CALLS=$ok
  RUN_CPU_S=""
  if [ "$mode" = b2bua ] && [ -n "$c0" ] && [ -n "$c1" ]; then
    RUN_CPU_S=$(awk -v a="$c0" -v b="$c1" -v t="$CLK_TCK" 'BEGIN {printf "%.2f", (b - a) / t}')
  fi
  if [ "$rc" = 0 ] && [ "$fail" = 0 ] && [ "$ok" = "$calls" ]; then RUN_OK=1; else RUN_OK=0; fi
  RUN_DESC="exit=$rc ok=$ok failed=$fail of $calls"
  if [ "$mode" = b2bua ]; then
    RUN_DESC="$RUN_DESC cpu=${RUN_CPU_S}s peak_rss_so_far=$(( $(status_kb VmHWM) / 1024 ))MB"
    # let the calls of this run end before the next one starts (bounded)
    for _ in $(seq 1 75); do [ "$(stat_field active_calls)" = 0 ] && break; sleep 0.2; done
  fi
}

BEST_B2B=0; BEST_DIRECT=0
STOP_B2B=0; STOP_DIRECT=0
CPU_AT_BEST=""; CPU_TOTAL_S=0; CALLS_TOTAL=0
BUDGET_HIT=0
declare -A RESULT

printf 'b2buad: %s (pid %d, SIP %s:%d)\n' "$B2BUAD" "$B2B_PID" "$HOST" "$B2B_SIP"
printf 'runs of %d s, calls held %d ms, up to %d tries per rate, budget %d s\n' \
  "$RUN_S" "$HOLD_MS" "$TRIES" "$BUDGET_S"

for rate in $RATES; do
  [ "$STOP_B2B" = 1 ] && [ "$STOP_DIRECT" = 1 ] && break
  for mode in b2bua direct; do
    if [ "$mode" = b2bua ]; then [ "$STOP_B2B" = 1 ] && continue; else [ "$STOP_DIRECT" = 1 ] && continue; fi
    passed=0
    for try in $(seq 1 "$TRIES"); do
      if [ $(( $(elapsed) + RUN_S + HOLD_MS / 1000 + 15 )) -gt "$BUDGET_S" ]; then
        BUDGET_HIT=1; break 3
      fi
      if [ "$mode" = b2bua ] && ! kill -0 "$B2B_PID" 2>/dev/null; then
        RESULT[$mode,$rate]="b2buad died"; STOP_B2B=1; break
      fi
      run_once "$mode" "$rate"
      printf '  %-6s %5d cps try %d: %s %s\n' "$mode" "$rate" "$try" \
        "$([ "$RUN_OK" = 1 ] && echo clean || echo FAILED)" "$RUN_DESC"
      if [ "$mode" = b2bua ] && [ -n "$RUN_CPU_S" ] && [ "${RUN_CALLS:-0}" -gt 0 ]; then
        CPU_TOTAL_S=$(awk -v a="$CPU_TOTAL_S" -v b="$RUN_CPU_S" 'BEGIN {print a + b}')
        CALLS_TOTAL=$(( CALLS_TOTAL + RUN_CALLS ))
      fi
      if [ "$RUN_OK" = 1 ]; then
        passed=1
        if [ "$mode" = b2bua ]; then
          BEST_B2B=$rate
          CPU_AT_BEST=$(awk -v c="$RUN_CPU_S" -v n="$RUN_CALLS" 'BEGIN {printf "%.3f", c * 1000 / n}')
        else
          BEST_DIRECT=$rate
        fi
        break
      fi
    done
    RESULT[$mode,$rate]=$([ "$passed" = 1 ] && echo "clean (try $try)" || echo "failed x$TRIES")
    if [ "$passed" = 0 ]; then
      if [ "$mode" = b2bua ]; then STOP_B2B=1; else STOP_DIRECT=1; fi
    fi
  done
done

# Memory after the load settles: wait for active_calls 0, then a few seconds more.
for _ in $(seq 1 50); do [ "$(stat_field active_calls)" = 0 ] && break; sleep 0.2; done
sleep 3
RSS_AFTER=$(status_kb VmRSS)
HWM=$(status_kb VmHWM)
ACTIVE_END=$(stat_field active_calls)

echo
echo "== cps.sh result ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(elapsed) s)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
BUILD_TYPE=$(grep -m1 '^CMAKE_BUILD_TYPE' "$(dirname "$B2BUAD")/../CMakeCache.txt" 2>/dev/null | cut -d= -f2)
echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none), build type: ${BUILD_TYPE:-unknown}"
echo "scenario: uac_basic.xml -> [b2buad pass-through] -> sipp -sn uas; -d $HOLD_MS; $RUN_S s per run"
printf '%8s  %-22s %-22s\n' rate "via b2buad" "SIPp direct"
for rate in $RATES; do
  a=${RESULT[b2bua,$rate]:-}; b=${RESULT[direct,$rate]:-}
  [ -z "$a$b" ] && continue
  printf '%8s  %-22s %-22s\n' "$rate" "${a:--}" "${b:--}"
done
[ "$BUDGET_HIT" = 1 ] && echo "(stopped: time budget of $BUDGET_S s reached)"
echo "highest clean rate via b2buad: $BEST_B2B cps"
echo "highest clean rate SIPp direct: $BEST_DIRECT cps (the ceiling on this machine)"
if [ "$BEST_DIRECT" -gt 0 ]; then
  awk -v a="$BEST_B2B" -v b="$BEST_DIRECT" 'BEGIN {printf "ratio b2buad/direct: %.2f\n", a / b}'
fi
[ -n "$CPU_AT_BEST" ] && echo "b2buad CPU at $BEST_B2B cps: $CPU_AT_BEST s per 1000 calls"
if [ "$CALLS_TOTAL" -gt 0 ]; then
  awk -v c="$CPU_TOTAL_S" -v n="$CALLS_TOTAL" \
    'BEGIN {printf "b2buad CPU over all runs: %.3f s per 1000 calls (%d calls)\n", c * 1000 / n, n}'
fi
kb() { awk -v k="${1:-0}" 'BEGIN {printf "%.1f MB", k / 1024}'; }
echo "b2buad memory: baseline RSS $(kb "$RSS_BASE"), peak (VmHWM) $(kb "$HWM"), after load settled $(kb "$RSS_AFTER") (active_calls=$ACTIVE_END)"
if ! kill -0 "$B2B_PID" 2>/dev/null; then
  echo "b2buad is no longer running; stderr tail:"; tail -5 "$WORK/b2buad.stderr"
fi
exit 0
