#!/usr/bin/env bash
# cps.sh: finds the highest clean call rate through b2buad (SIPp uac -> b2buad -> SIPp uas) and,
# in the same run, through a second b2buad binary (optional, e.g. the previous commit's), through
# a Kamailio proxy (when installed: stateful, record-routing, dialog module; the reference for a
# proxy's cost) and SIPp straight to SIPp (the generator's own ceiling). Prints each server's CPU
# per call at CPS_CPU_RATE as ratios (b2buad to Kamailio, to SIPp-to-SIPp, to the second b2buad),
# b2buad's CPU per thread at that rate, and its memory (baseline, peak, after the load settles).
#
# Usage: bench/load/cps.sh [path/to/b2buad [path/to/reference-b2buad]]
#        (or env B2BUAD and B2BUAD_REF; default build/api/b2buad and no reference)
# Loopback only, free ports, bounded in time; stops only the processes it started, by PID.
#
# What "clean" means, and why it is stricter than "no failed call". An earlier version called a rate
# clean when SIPp counted no failed call, and reported 2,000-2,500 calls/s where a measurement from
# outside found 1,500. Three things made the difference:
#   - SIPp paces calls on its own CPU. On 2 shared cores it falls behind `-r` and sends the same
#     number of calls over a longer time, every one successful: the run was counted clean at a rate
#     that was never offered. A run now takes the rate SIPp achieved (calls / time from the first
#     to the last call created, from its -trace_stat file) and is clean only when that is at least
#     CPS_MIN_ACHIEVED (95 %) of the target.
#   - SIPp retransmits an unanswered INVITE or BYE after 500 ms, so an overloaded server that
#     drops or delays requests still ends with every call "successful". A clean run now has at most
#     CPS_MAX_RETRANS_PCT (1 %) retransmissions per call; the count is printed with each run.
#   - A rate used to pass on the best of its tries. It now passes only when every try is clean
#     (CPS_TRIES, default 2), which is what "two runs each" means.
#
# Environment (defaults in brackets):
#   CPS_RATES     rising call rates to try ["500 1000 1500 2000 2500 3000 4000 5000"]
#   CPS_RUN_S     seconds of calls per run [15]
#   CPS_TRIES     runs per rate; every one must be clean; a server's ladder stops at its first
#                 rate that is not [2]
#   CPS_CPU_RATE  the rate whose CPU per call is compared and whose per-thread CPU is shown; every
#                 try runs there for every server, even above its last clean rate [1000]
#   CPS_HOLD_MS   call hold time (-d) [1000]
#   CPS_BUDGET_S  wall-clock budget for the whole script; no run starts that would end after it [1500]
#   CPS_MIN_ACHIEVED     lowest achieved/target rate for a clean run [0.95]
#   CPS_MAX_RETRANS_PCT  most retransmissions per 100 calls for a clean run [1]
#   CPS_KAMAILIO  auto (run Kamailio when installed) or 0 [auto]; KAMAILIO: its binary [kamailio]
#   SIPP          the SIPp binary [sipp]
# Thread names: CAF 0.17.6 names its scheduler workers "caf.multiplexer" (worker.hpp), the timer
# thread "caf.clock"; b2b-sofia is the SIP thread, b2b-cdr the call-record writer.
#   B2BUA_SCENARIOS  folder of the SIPp scenarios [<repo>/tests/scenarios]
#   CPS_MEDIA     b2buad's media.mode: relay (every call's RTP anchored, ports set up and torn
#                 down per call) or bypass [relay]. The issue's goals are measured with bypass.
#   CPS_KEEP=1    keep the work dir (SIPp screens, stat files, logs)
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B2BUAD=${1:-${B2BUAD:-$ROOT/build/api/b2buad}}
B2BUAD_REF=${2:-${B2BUAD_REF:-}}
SCEN=${B2BUA_SCENARIOS:-$ROOT/tests/scenarios}
RATES=${CPS_RATES:-"500 1000 1500 2000 2500 3000 4000 5000"}
RUN_S=${CPS_RUN_S:-15}
TRIES=${CPS_TRIES:-2}
CPU_RATE=${CPS_CPU_RATE:-1000}
HOLD_MS=${CPS_HOLD_MS:-1000}
BUDGET_S=${CPS_BUDGET_S:-1500}
MIN_ACHIEVED=${CPS_MIN_ACHIEVED:-0.95}
MAX_RETRANS_PCT=${CPS_MAX_RETRANS_PCT:-1}
SIPP=${SIPP:-sipp}
HOST=127.0.0.1
T0=$(date +%s)

die() { echo "cps.sh: $*" >&2; exit 2; }
[ -x "$B2BUAD" ] || die "b2buad not executable: $B2BUAD (pass it as \$1 or B2BUAD)"
[ -z "$B2BUAD_REF" ] || [ -x "$B2BUAD_REF" ] || die "reference b2buad not executable: $B2BUAD_REF"
command -v "$SIPP" >/dev/null || die "sipp not found"
command -v python3 >/dev/null || die "python3 not found (used to pick free ports)"
[ -f "$SCEN/uac_basic.xml" ] || die "no $SCEN/uac_basic.xml"

WORK=$(mktemp -d /tmp/b2bua-cps.XXXXXX)
UAS_PID=""
UAC_PID=""
KAM_PID=""
declare -A SRV_PID SRV_SIP SRV_API

# free_ports, wait_udp_bound, cpu_ticks, thread_ticks, kamailio_start/stop
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stop_b2buad() {  # $1 = pid
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$1" 2>/dev/null
}

cleanup() {
  for pid in $UAC_PID $UAS_PID; do
    kill -TERM "$pid" 2>/dev/null
  done
  for m in "${!SRV_PID[@]}"; do
    [ "$m" = kamailio ] || stop_b2buad "${SRV_PID[$m]}"
  done
  kamailio_stop
  if [ "${CPS_KEEP:-0}" = "1" ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

http_get() {  # $1 = API port, $2 = path; prints the body or nothing
  python3 - "$1" "$2" <<'EOF' 2>/dev/null
import sys, urllib.request
try:
    with urllib.request.urlopen("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), timeout=2) as r:
        print(r.read().decode())
except Exception:
    pass
EOF
}

stat_field() {  # $1 = API port, $2 = field name of /v1/stats
  http_get "$1" /v1/stats | python3 -c "import json,sys; print(json.load(sys.stdin).get('$2',''))" 2>/dev/null
}

status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null; }
screen_count() {  # $1 = screen file, $2 = label; cumulative column
  grep -m1 "$2" "$1" 2>/dev/null | grep -o '[0-9]\+' | tail -1
}
elapsed() { echo $(( $(date +%s) - T0 )); }

# From SIPp's -trace_stat file ($1, one row a second): "achieved_rate retransmissions", the rate
# being the calls created divided by the time from the start to the last call's creation
# (interpolated between rows).
sipp_stat() {
  python3 - "$1" <<'EOF' 2>/dev/null || echo "0 0"
import sys
rows = [l.rstrip("\n").split(";") for l in open(sys.argv[1]) if l.strip()]
head, rows = rows[0], rows[1:]
t = lambda r, name: float(r[head.index(name)].split("\t")[-1])
n = lambda r, name: int(r[head.index(name)])
total = n(rows[-1], "OutgoingCall(C)")
start, prev = t(rows[0], "StartTime"), (t(rows[0], "StartTime"), 0)
for r in rows:
    now, c = t(r, "CurrentTime"), n(r, "OutgoingCall(C)")
    if c >= total:
        last = prev[0] + (now - prev[0]) * (total - prev[1]) / max(c - prev[1], 1)
        break
    prev = (now, c)
span = max(last - start, 1e-3)
print("%.0f %d" % ((total - 1) / span if total > 1 else 0, n(rows[-1], "Retransmissions(C)")))
EOF
}

# ------------------------------------------------------------------------------------------------
# Servers, started once for the whole run so that memory before/after can be compared.
CPS_MEDIA=${CPS_MEDIA:-relay}
start_b2buad() {  # $1 = mode name, $2 = binary
  local m=$1 sip api pid
  sip=$(free_ports 1) || die "no free port"
  api=$(free_ports 1) || die "no free port"
  cat > "$WORK/$m.json" <<EOF
// cps.sh: pass-through, limits high so that only capacity limits the rate
{ "sip": {"listen": "$HOST:$sip"}, "api": {"listen": "$HOST:$api"},
  "limits": {"max_calls": 100000, "retry_after_s": 5},
  "timers": {"no_answer_ms": 60000, "sip_t1_ms": 500, "route_timeout_ms": 2000, "drain_ms": 3000},
  "media": {"mode": "$CPS_MEDIA", "listen_ip": "$HOST", "ports": "10000-29999"},
  "log": {"level": "warn"} }
EOF
  "$2" --config "$WORK/$m.json" >"$WORK/$m.stdout" 2>"$WORK/$m.stderr" </dev/null &
  pid=$!
  SRV_PID[$m]=$pid; SRV_SIP[$m]=$sip; SRV_API[$m]=$api
  for _ in $(seq 1 100); do
    [ "$(http_get "$api" /health)" != "" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/$m.stderr" >&2; die "$m: b2buad exited at start"; }
    sleep 0.1
  done
  [ "$(http_get "$api" /health)" != "" ] || die "$m: b2buad did not answer /health within 10 s"
  wait_udp_bound "$sip" || die "$m: b2buad SIP port not bound"
}

MODES="b2bua"
start_b2buad b2bua "$B2BUAD"
if [ -n "$B2BUAD_REF" ]; then
  start_b2buad ref "$B2BUAD_REF"
  MODES="$MODES ref"
fi
if [ "${CPS_KAMAILIO:-auto}" != 0 ] && command -v "${KAMAILIO:-kamailio}" >/dev/null; then
  ksip=$(free_ports 1) || die "no free port"
  if kamailio_start "$WORK" "$ksip" 512; then
    SRV_PID[kamailio]=$KAM_PID; SRV_SIP[kamailio]=$ksip
    MODES="$MODES kamailio"
  else
    echo "cps.sh: kamailio did not start (log: $WORK/kamailio.log); going on without it" >&2
  fi
fi
MODES="$MODES direct"
sleep 1
RSS_BASE=$(status_kb "${SRV_PID[b2bua]}" VmRSS)
CLK_TCK=$(getconf CLK_TCK)

server_pids() {  # $1 = mode
  case $1 in
    kamailio) echo "$KAM_PIDS" ;;
    direct) ;;
    *) echo "${SRV_PID[$1]}" ;;
  esac
}

# One run: $1 = mode, $2 = rate. Sets RUN_OK (1/0), RUN_DESC, RUN_CPU_S (server), RUN_SIPP_CPU_S
# (caller and callee), RUN_CALLS, and for b2buad modes the per-thread ticks in $WORK/threads.$1.
run_once() {
  local mode=$1 rate=$2 calls=$(( $2 * RUN_S )) tag="$1-$2-$(date +%s%N)"
  local up cp limit tmo rsa=() c0 c1 w0 w1 s_uac=0 s_uas=0 v ok fail rc ach retr pids
  up=$(free_ports 4) || { RUN_OK=0; RUN_DESC="no free ports"; return; }
  cp=$(free_ports 4) || { RUN_OK=0; RUN_DESC="no free ports"; return; }
  limit=$(( rate * (HOLD_MS + 3000) / 1000 + 100 ))
  tmo=$(( RUN_S + HOLD_MS / 1000 + 30 ))
  [ "$mode" != direct ] && rsa=(-rsa "$HOST:${SRV_SIP[$mode]}")
  pids=$(server_pids "$mode")
  "$SIPP" -sn uas -i $HOST -p "$up" -mp $((up + 4)) -m "$calls" -nostdin -timeout "${tmo}s" \
    -timeout_error -trace_err -error_file "$WORK/$tag.uas.err" \
    -trace_screen -screen_file "$WORK/$tag.uas.screen" >"$WORK/$tag.uas.out" 2>&1 </dev/null &
  UAS_PID=$!
  wait_udp_bound "$up" || { RUN_OK=0; RUN_DESC="uas did not start"; kill "$UAS_PID"; UAS_PID=""; return; }
  c0=$(cpu_ticks $pids); w0=$(date +%s%N)
  [ "$mode" = b2bua ] || [ "$mode" = ref ] && thread_ticks "$pids" >"$WORK/t0"
  "$SIPP" -sf "$SCEN/uac_basic.xml" "$HOST:$up" "${rsa[@]}" -s bob -i $HOST -p "$cp" \
    -mp $((cp + 4)) -m "$calls" -r "$rate" -l "$limit" -d "$HOLD_MS" -nostdin \
    -timeout "${tmo}s" -timeout_error -recv_timeout 10000 \
    -trace_stat -stf "$WORK/$tag.uac.csv" -fd 1 \
    -trace_err -error_file "$WORK/$tag.uac.err" -trace_screen -screen_file "$WORK/$tag.uac.screen" \
    >"$WORK/$tag.uac.out" 2>&1 </dev/null &
  UAC_PID=$!
  # Bounded wait for the caller (its own -timeout plus a margin), then for the callee. SIPp's CPU
  # is sampled while it runs (the last sample is at most 0.1 s before it exits).
  for _ in $(seq 1 $(( (tmo + 15) * 10 ))); do
    kill -0 "$UAC_PID" 2>/dev/null || break
    v=$(cpu_ticks "$UAC_PID"); [ "$v" -gt "$s_uac" ] && s_uac=$v
    v=$(cpu_ticks "$UAS_PID"); [ "$v" -gt "$s_uas" ] && s_uas=$v
    sleep 0.1
  done
  kill -0 "$UAC_PID" 2>/dev/null && kill -KILL "$UAC_PID"
  wait "$UAC_PID" 2>/dev/null; rc=$?
  UAC_PID=""
  c1=$(cpu_ticks $pids); w1=$(date +%s%N)
  [ "$mode" = b2bua ] || [ "$mode" = ref ] && thread_ticks "$pids" >"$WORK/t1"
  v=$(cpu_ticks "$UAS_PID"); [ "$v" -gt "$s_uas" ] && s_uas=$v
  # The callee keeps each call 4 s (timewait of -sn uas) before it exits; its counts are not
  # needed, so give it a short grace and stop it.
  for _ in $(seq 1 10); do kill -0 "$UAS_PID" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$UAS_PID" 2>/dev/null && kill -TERM "$UAS_PID"
  wait "$UAS_PID" 2>/dev/null
  UAS_PID=""
  ok=$(screen_count "$WORK/$tag.uac.screen" "Successful call"); ok=${ok:-0}
  fail=$(screen_count "$WORK/$tag.uac.screen" "Failed call"); fail=${fail:-0}
  read -r ach retr < <(sipp_stat "$WORK/$tag.uac.csv")
  RUN_CALLS=$ok
  RUN_CPU_S=$(awk -v a="$c0" -v b="$c1" -v t="$CLK_TCK" 'BEGIN {printf "%.2f", (b - a) / t}')
  RUN_SIPP_CPU_S=$(awk -v a="$s_uac" -v b="$s_uas" -v t="$CLK_TCK" 'BEGIN {printf "%.2f", (a + b) / t}')
  if [ "$mode" = b2bua ] || [ "$mode" = ref ]; then
    awk 'NR == FNR {a[$1] = $2; w[$1] = $3; next} {print $1, $2 - a[$1], $3 - w[$1]}' "$WORK/t0" "$WORK/t1" \
      >"$WORK/threads.$mode.$rate"
    echo "_wall_ms $(( (w1 - w0) / 1000000 )) $ok" >>"$WORK/threads.$mode.$rate"
  fi
  RUN_OK=0
  if [ "$rc" = 0 ] && [ "$fail" = 0 ] && [ "$ok" = "$calls" ] &&
     awk -v a="$ach" -v r="$rate" -v m="$MIN_ACHIEVED" -v x="$retr" -v c="$calls" \
       -v p="$MAX_RETRANS_PCT" 'BEGIN {exit !(a >= r * m && x * 100 <= c * p)}'; then
    RUN_OK=1
  fi
  RUN_DESC="exit=$rc ok=$ok failed=$fail of $calls, achieved ${ach}/s, retrans $retr"
  [ "$mode" != direct ] && RUN_DESC="$RUN_DESC, cpu=${RUN_CPU_S}s"
  RUN_DESC="$RUN_DESC, sipp cpu=${RUN_SIPP_CPU_S}s"
  if [ "$mode" = b2bua ] || [ "$mode" = ref ]; then
    RUN_DESC="$RUN_DESC peak_rss=$(( $(status_kb "${SRV_PID[$mode]}" VmHWM) / 1024 ))MB"
    # let the calls of this run end before the next one starts (bounded)
    for _ in $(seq 1 75); do [ "$(stat_field "${SRV_API[$mode]}" active_calls)" = 0 ] && break; sleep 0.2; done
  fi
}

declare -A RESULT BEST STOP CPU_AT SIPP_AT
BUDGET_HIT=0

printf 'b2buad: %s (pid %d, SIP %s:%d)\n' "$B2BUAD" "${SRV_PID[b2bua]}" "$HOST" "${SRV_SIP[b2bua]}"
[ -n "$B2BUAD_REF" ] && printf 'reference b2buad: %s (pid %d)\n' "$B2BUAD_REF" "${SRV_PID[ref]}"
[ -n "$KAM_PID" ] && printf 'kamailio: pids %s(SIP %s:%d)\n' "$KAM_PIDS" "$HOST" "${SRV_SIP[kamailio]}"
printf 'modes: %s; runs of %d s, calls held %d ms, %d tries per rate (all must be clean), budget %d s\n' \
  "$MODES" "$RUN_S" "$HOLD_MS" "$TRIES" "$BUDGET_S"

# The CPU comparison rate runs every try for every server even when a ladder has stopped below
# it (the CPU per call is compared there), without counting for the clean rate then.
for rate in $RATES; do
  left=0
  for mode in $MODES; do [ "${STOP[$mode]:-0}" = 1 ] || left=1; done
  [ "$left" = 1 ] || [ "$rate" -le "$CPU_RATE" ] || break
  for mode in $MODES; do
    [ "${STOP[$mode]:-0}" = 1 ] && [ "$rate" != "$CPU_RATE" ] && continue
    was_stopped=${STOP[$mode]:-0}
    clean=0
    for try in $(seq 1 "$TRIES"); do
      if [ $(( $(elapsed) + RUN_S + HOLD_MS / 1000 + 15 )) -gt "$BUDGET_S" ]; then
        BUDGET_HIT=1; break 3
      fi
      if [ "$mode" != direct ] && ! kill -0 "${SRV_PID[$mode]}" 2>/dev/null; then
        RESULT[$mode,$rate]="died"; STOP[$mode]=1; break
      fi
      run_once "$mode" "$rate"
      printf '  %-8s %5d cps try %d: %s %s\n' "$mode" "$rate" "$try" \
        "$([ "$RUN_OK" = 1 ] && echo clean || echo NOT-CLEAN)" "$RUN_DESC"
      if [ "$rate" = "$CPU_RATE" ] && [ "${RUN_CALLS:-0}" -gt 0 ]; then
        CPU_AT[$mode]="${CPU_AT[$mode]:-} $(awk -v c="$RUN_CPU_S" -v n="$RUN_CALLS" 'BEGIN {print c * 1000 / n}')"
        SIPP_AT[$mode]="${SIPP_AT[$mode]:-} $(awk -v c="$RUN_SIPP_CPU_S" -v n="$RUN_CALLS" 'BEGIN {print c * 1000 / n}')"
      fi
      [ "$RUN_OK" = 1 ] && clean=$(( clean + 1 ))
      [ "$RUN_OK" = 1 ] || [ "$rate" = "$CPU_RATE" ] || break
    done
    if [ "$was_stopped" = 1 ]; then
      RESULT[$mode,$rate]="($clean/$TRIES clean)"
    elif [ "$clean" = "$TRIES" ]; then
      RESULT[$mode,$rate]="clean x$TRIES"; BEST[$mode]=$rate
    else
      RESULT[$mode,$rate]=${RESULT[$mode,$rate]:-"not clean"}; STOP[$mode]=1
    fi
  done
done

# Memory after the load settles: wait for active_calls 0, then a few seconds more.
for _ in $(seq 1 50); do [ "$(stat_field "${SRV_API[b2bua]}" active_calls)" = 0 ] && break; sleep 0.2; done
sleep 3
B2B_PID=${SRV_PID[b2bua]}
RSS_AFTER=$(status_kb "$B2B_PID" VmRSS)
HWM=$(status_kb "$B2B_PID" VmHWM)
ACTIVE_END=$(stat_field "${SRV_API[b2bua]}" active_calls)

mean() { echo "$*" | awk '{s = 0; for (i = 1; i <= NF; i++) s += $i; if (NF) printf "%.3f", s / NF}'; }

echo
echo "== cps.sh result ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(elapsed) s)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
BUILD_TYPE=$(grep -m1 '^CMAKE_BUILD_TYPE' "$(dirname "$B2BUAD")/../CMakeCache.txt" 2>/dev/null | cut -d= -f2)
echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none), build type: ${BUILD_TYPE:-unknown}, media: $CPS_MEDIA"
echo "scenario: uac_basic.xml -> [server] -> sipp -sn uas; -d $HOLD_MS; $RUN_S s per run;" \
  "clean = no failed call, achieved >= $MIN_ACHIEVED of the rate, retransmissions <= $MAX_RETRANS_PCT per 100 calls, on every try"
printf '%8s' rate; for m in $MODES; do printf '  %-14s' "$m"; done; echo
for rate in $RATES; do
  line=$(printf '%8s' "$rate"); any=0
  for m in $MODES; do
    r=${RESULT[$m,$rate]:-}; [ -n "$r" ] && any=1
    line="$line$(printf '  %-14s' "${r:--}")"
  done
  [ "$any" = 1 ] && echo "$line"
done
[ "$BUDGET_HIT" = 1 ] && echo "(stopped: time budget of $BUDGET_S s reached)"
for m in $MODES; do echo "highest clean rate, $m: ${BEST[$m]:-0} cps"; done

echo
echo "CPU per 1000 calls at $CPU_RATE cps (mean of the tries; ms of CPU per call):"
for m in $MODES; do
  [ -n "${CPU_AT[$m]:-}" ] || continue
  if [ "$m" = direct ]; then
    echo "  direct   SIPp caller+callee $(mean ${SIPP_AT[$m]}) s"
  else
    echo "  $(printf '%-8s' "$m") server $(mean ${CPU_AT[$m]}) s, SIPp caller+callee $(mean ${SIPP_AT[$m]}) s"
  fi
done
ours=$(mean ${CPU_AT[b2bua]:-})
ratio() {  # $1 = label, $2 = reference s per 1000 calls
  [ -n "$ours" ] && [ -n "$2" ] && awk -v a="$ours" -v b="$2" -v l="$1" \
    'BEGIN {if (b > 0) printf "  b2buad / %s: %.2f\n", l, a / b}'
}
echo "ratios of b2buad's CPU per call at $CPU_RATE cps:"
ratio "reference b2buad" "$(mean ${CPU_AT[ref]:-})"
ratio "kamailio" "$(mean ${CPU_AT[kamailio]:-})"
ratio "SIPp-to-SIPp (caller+callee)" "$(mean ${SIPP_AT[direct]:-})"
for m in b2bua ref; do
  f="$WORK/threads.$m.$CPU_RATE"
  [ -f "$f" ] || continue
  wall=$(awk '$1 == "_wall_ms" {print $2}' "$f")
  n=$(awk '$1 == "_wall_ms" {print $3}' "$f")
  echo "$m threads at $CPU_RATE cps (last try, $n calls over the caller's $(( wall / 1000 )) s):"
  echo "  thread           CPU s     % core  wake-ups/call (voluntary context switches)"
  grep -v '^_wall_ms' "$f" | sort -k2,2nr | awk -v t="$CLK_TCK" -v w="$wall" -v n="${n:-0}" \
    '$2 > 0 || $3 * 10 > n {printf "  %-16s %6.2f s  %5.1f %%  %5.2f\n", $1, $2 / t,
                            100 * $2 / t / (w / 1000), n ? $3 / n : 0}'
done
kb() { awk -v k="${1:-0}" 'BEGIN {printf "%.1f MB", k / 1024}'; }
echo "b2buad memory: baseline RSS $(kb "$RSS_BASE"), peak (VmHWM) $(kb "$HWM"), after load settled $(kb "$RSS_AFTER") (active_calls=$ACTIVE_END)"
for m in b2bua ref; do
  [ -n "${SRV_PID[$m]:-}" ] || continue
  if ! kill -0 "${SRV_PID[$m]}" 2>/dev/null; then
    echo "$m b2buad is no longer running; stderr tail:"; tail -5 "$WORK/$m.stderr"
  fi
done
exit 0
