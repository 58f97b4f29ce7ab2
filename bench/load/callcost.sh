#!/usr/bin/env bash
# callcost.sh: instructions per call of b2buad, by thread, counted by valgrind's callgrind: a count
# that does not depend on what else the machine runs (cps.sh's CPU seconds do). Runs each binary
# given under callgrind, passes CALLCOST_CALLS calls at a low rate (SIPp uac -> b2buad -> SIPp
# uas, media not anchored, CDRs on), counts from the first call to 2 s after the last, and prints
# instructions per call for each thread (names from /proc/PID/task/*/comm; CAF 0.17.6 calls its
# scheduler workers "caf.multiplexer") and, for two binaries, the second's ratio to the first.
# Kernel work (system calls, wake-ups) is not counted: see cps.sh's per-thread CPU and wake-ups.
#
# Usage: bench/load/callcost.sh path/to/b2buad [path/to/other-b2buad]
# Environment: CALLCOST_CALLS [300], CALLCOST_RATE [20], CALLCOST_KEEP=1 keeps the work dir
# (callgrind.out.* files for callgrind_annotate), CALLCOST_TOP=N prints the N functions with the
# most instructions (inclusive) of each binary's SIP thread and CAF worker [0].
# Loopback only, free ports, bounded in time; stops only the processes it started, by PID.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCEN=${B2BUA_SCENARIOS:-$ROOT/tests/scenarios}
CALLS=${CALLCOST_CALLS:-300}
RATE=${CALLCOST_RATE:-20}
TOP=${CALLCOST_TOP:-0}
SIPP=${SIPP:-sipp}
HOST=127.0.0.1
die() { echo "callcost.sh: $*" >&2; exit 2; }
[ $# -ge 1 ] || die "usage: callcost.sh b2buad [other-b2buad]"
command -v valgrind >/dev/null || die "valgrind not found"
command -v callgrind_control >/dev/null || die "callgrind_control not found"
for b in "$@"; do [ -x "$b" ] || die "not executable: $b"; done

WORK=$(mktemp -d /tmp/b2bua-callcost.XXXXXX)
VG_PID=""; UAS_PID=""; UAC_PID=""
cleanup() {
  for pid in $UAC_PID $UAS_PID $VG_PID; do kill -TERM "$pid" 2>/dev/null; done
  [ -n "$VG_PID" ] && { sleep 1; kill -KILL "$VG_PID" 2>/dev/null; }
  if [ "${CALLCOST_KEEP:-0}" = 1 ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# measure N BINARY: prints "thread Ir" lines into $WORK/N.ir, and TOTAL.
measure() {
  local n=$1 bin=$2 sip api up cp i t names ok
  sip=$(free_ports 1) || die "no free port"
  api=$(free_ports 1) || die "no free port"
  mkdir -p "$WORK/$n"
  cat >"$WORK/$n/b2buad.json" <<EOF
{ "sip": {"listen": "$HOST:$sip"}, "api": {"listen": "$HOST:$api"},
  "limits": {"max_calls": 100000, "retry_after_s": 5},
  "timers": {"no_answer_ms": 60000, "sip_t1_ms": 500, "route_timeout_ms": 2000, "drain_ms": 3000},
  "media": {"mode": "bypass"}, "log": {"level": "warn"} }
EOF
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$WORK/$n/callgrind.out" \
    "$bin" --config "$WORK/$n/b2buad.json" >"$WORK/$n/vg.out" 2>&1 </dev/null &
  VG_PID=$!
  for _ in $(seq 1 600); do grep -q "0100007F:$(printf '%04X' "$sip") " /proc/net/udp && break; sleep 0.1; done
  sleep 3
  names=$(for t in $(ls /proc/$VG_PID/task | sort -n); do tr ' ' '_' <"/proc/$VG_PID/task/$t/comm"; done)
  callgrind_control -z "$VG_PID" >/dev/null 2>&1
  up=$(free_ports 4) || die "no free ports"
  cp=$(free_ports 4) || die "no free ports"
  "$SIPP" -sn uas -i $HOST -p "$up" -mp $((up + 4)) -m "$CALLS" -nostdin -timeout 300s \
    >"$WORK/$n/uas.out" 2>&1 </dev/null &
  UAS_PID=$!
  wait_udp_bound "$up" || die "uas did not start"
  "$SIPP" -sf "$SCEN/uac_basic.xml" "$HOST:$up" -rsa "$HOST:$sip" -s bob -i $HOST -p "$cp" \
    -mp $((cp + 4)) -m "$CALLS" -r "$RATE" -d 1000 -nostdin -timeout 300s -timeout_error \
    -trace_screen -screen_file "$WORK/$n/uac.screen" >"$WORK/$n/uac.out" 2>&1 </dev/null &
  UAC_PID=$!
  wait "$UAC_PID"; UAC_PID=""
  ok=$(grep -m1 'Successful call' "$WORK/$n/uac.screen" | grep -o '[0-9]\+' | tail -1)
  sleep 2
  callgrind_control -d "$VG_PID" >/dev/null 2>&1
  for _ in $(seq 1 100); do ls "$WORK/$n"/callgrind.out.1-* >/dev/null 2>&1 && break; sleep 0.2; done
  sleep 1
  kill -TERM "$UAS_PID" 2>/dev/null; wait "$UAS_PID" 2>/dev/null; UAS_PID=""
  kill -TERM "$VG_PID" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$VG_PID" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$VG_PID" 2>/dev/null; wait "$VG_PID" 2>/dev/null; VG_PID=""
  i=1
  for t in $names; do
    f=$(printf '%s/%s/callgrind.out.1-%02d' "$WORK" "$n" "$i")
    [ -f "$f" ] && echo "$t $(awk '/^summary:/ {print $2}' "$f")"
    i=$((i + 1))
  done | awk '{s[$1] += $2} END {for (k in s) print k, s[k]}' >"$WORK/$n.ir"
  echo "${ok:-0}" >"$WORK/$n.calls"
  echo "$bin: ${ok:-0} of $CALLS calls successful"
  if [ "$TOP" -gt 0 ]; then
    i=1
    for t in $names; do
      f=$(printf '%s/%s/callgrind.out.1-%02d' "$WORK" "$n" "$i")
      if [ -f "$f" ] && { [ "$t" = b2b-sofia ] || [ "$t" = caf.multiplexer ]; }; then
        echo "  top $TOP (inclusive) in $t:"
        callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null |
          awk '/^-+$/ {d++; next} d >= 3 && NF' | head -n "$(( TOP + 8 ))" | tail -n "$TOP" |
          cut -c1-160 | sed 's/^/    /'
      fi
      i=$((i + 1))
    done
  fi
}

n=0
for b in "$@"; do
  n=$((n + 1))
  measure "$n" "$b"
done

echo
printf '%-18s' "Ir per call"; for i in $(seq 1 "$n"); do printf '%14s' "binary $i"; done
[ "$n" = 2 ] && printf '%10s' "2/1"
echo
threads=$(cat "$WORK"/*.ir | awk '{print $1}' | sort -u)
for t in $threads TOTAL; do
  printf '%-18s' "$t"
  vals=()
  for i in $(seq 1 "$n"); do
    c=$(cat "$WORK/$i.calls"); [ "$c" -gt 0 ] || c=1
    if [ "$t" = TOTAL ]; then v=$(awk -v c="$c" '{s += $2} END {printf "%.0f", s / c}' "$WORK/$i.ir")
    else v=$(awk -v k="$t" -v c="$c" '$1 == k {printf "%.0f", $2 / c}' "$WORK/$i.ir"); fi
    vals+=("${v:-0}")
    printf '%14s' "${v:-0}"
  done
  [ "$n" = 2 ] && awk -v a="${vals[0]}" -v b="${vals[1]}" 'BEGIN {if (a > 0) printf "%10.2f", b / a; else printf "%10s", "-"}'
  echo
done
