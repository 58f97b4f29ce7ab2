#!/usr/bin/env bash
# held.sh: memory per held call. Sets up N calls through b2buad (SIPp uac -> b2buad -> SIPp uas,
# media not anchored) and holds them all at once, then lets them end. Prints b2buad's PSS at its
# baseline, with N calls held, the KiB per held call, and after the calls ended and sofia's
# transaction timers (64*T1) expired: back near the baseline or not. When Kamailio is installed,
# the same with a stateful record-routing Kamailio with the dialog module as the reference (its
# processes' PSS summed, so its shared memory counts once).
#
# Usage: bench/load/held.sh [path/to/b2buad]      (or env B2BUAD; default build/api/b2buad)
# Loopback only, free ports, bounded in time; stops only the processes it started, by PID.
#
# Environment (defaults in brackets):
#   HELD_N        calls held at once [20000]
#   HELD_RATE     set-up rate, calls/s [500]
#   HELD_HOLD_S   how long all N stay up together once set up [15]
#   HELD_T1_MS    b2buad's sip_t1_ms; the after-figure waits 64*T1 + 3 s past the last BYE [500]
#   HELD_KAMAILIO auto (run Kamailio when installed) or 0 [auto]; KAMAILIO: its binary
#   SIPP, B2BUA_SCENARIOS as in cps.sh; HELD_KEEP=1 keeps the work dir
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B2BUAD=${1:-${B2BUAD:-$ROOT/build/api/b2buad}}
SCEN=${B2BUA_SCENARIOS:-$ROOT/tests/scenarios}
N=${HELD_N:-20000}
RATE=${HELD_RATE:-500}
HOLD_S=${HELD_HOLD_S:-15}
T1_MS=${HELD_T1_MS:-500}
SIPP=${SIPP:-sipp}
HOST=127.0.0.1
T0=$(date +%s)

die() { echo "held.sh: $*" >&2; exit 2; }
[ -x "$B2BUAD" ] || die "b2buad not executable: $B2BUAD (pass it as \$1 or B2BUAD)"
command -v "$SIPP" >/dev/null || die "sipp not found"
[ -f "$SCEN/uac_basic.xml" ] || die "no $SCEN/uac_basic.xml"

WORK=$(mktemp -d /tmp/b2bua-held.XXXXXX)
B2B_PID=""
UAS_PID=""
UAC_PID=""
KAM_PID=""

# free_ports, wait_udp_bound, pss_kb, kamailio_start/stop
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cleanup() {
  for pid in $UAC_PID $UAS_PID; do kill -TERM "$pid" 2>/dev/null; done
  if [ -n "$B2B_PID" ]; then
    kill -TERM "$B2B_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$B2B_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$B2B_PID" 2>/dev/null
  fi
  kamailio_stop
  if [ "${HELD_KEEP:-0}" = "1" ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

kib() { awk -v k="${1:-0}" 'BEGIN {printf "%.1f MiB", k / 1024}'; }

# Last row of SIPp's -trace_stat file: "created current successful failed".
sipp_now() {
  python3 - "$1" <<'EOF' 2>/dev/null || echo "0 0 0 0"
import sys
rows = [l.rstrip("\n").split(";") for l in open(sys.argv[1]) if l.strip()]
h, r = rows[0], rows[-1]
f = lambda name: r[h.index(name)]
print(f("OutgoingCall(C)"), f("CurrentCall"), f("SuccessfulCall(C)"), f("FailedCall(C)"))
EOF
}

# measure NAME PIDS...: runs the N calls against the server whose SIP port is $SRV_SIP and prints
# its memory figures. Bounded: set-up N/RATE + 60 s, hold HOLD_S, end N/RATE + 60 s.
measure() {
  local name=$1; shift
  local pids="$*" up cp hold_ms calls_up base held after cur created succ fail
  local setup_s=$(( N / RATE + 60 ))
  base=$(pss_kb $pids)
  up=$(free_ports 4) || die "no free ports"
  cp=$(free_ports 4) || die "no free ports"
  # Every call lasts long enough for the first to be still up when the last is set up.
  hold_ms=$(( (N / RATE + HOLD_S + 10) * 1000 ))
  "$SIPP" -sn uas -i $HOST -p "$up" -mp $((up + 4)) -m "$N" -nostdin -timeout $(( 2 * setup_s + HOLD_S ))s \
    >"$WORK/$name.uas.out" 2>&1 </dev/null &
  UAS_PID=$!
  wait_udp_bound "$up" || die "uas did not start"
  "$SIPP" -sf "$SCEN/uac_basic.xml" "$HOST:$up" -rsa "$HOST:$SRV_SIP" -s bob -i $HOST -p "$cp" \
    -mp $((cp + 4)) -m "$N" -r "$RATE" -l "$N" -d "$hold_ms" -nostdin \
    -timeout $(( 2 * setup_s + HOLD_S ))s -timeout_error \
    -trace_stat -stf "$WORK/$name.uac.csv" -fd 1 \
    >"$WORK/$name.uac.out" 2>&1 </dev/null &
  UAC_PID=$!
  # Wait until every call was created and the last answers are in (bounded).
  for _ in $(seq 1 $(( setup_s * 2 ))); do
    read -r created cur succ fail < <(sipp_now "$WORK/$name.uac.csv")
    [ "${created:-0}" -ge "$N" ] && break
    kill -0 "$UAC_PID" 2>/dev/null || break
    sleep 0.5
  done
  sleep 3
  read -r created cur succ fail < <(sipp_now "$WORK/$name.uac.csv")
  held=$(pss_kb $pids)
  calls_up=$cur
  printf '%s: %d calls created, %d held at the measurement (failed so far %d)\n' \
    "$name" "$created" "$calls_up" "$fail"
  # Let them end: the caller exits after its last BYE.
  for _ in $(seq 1 $(( (HOLD_S + setup_s) * 5 ))); do
    kill -0 "$UAC_PID" 2>/dev/null || break
    sleep 0.2
  done
  kill -0 "$UAC_PID" 2>/dev/null && kill -TERM "$UAC_PID"
  wait "$UAC_PID" 2>/dev/null
  UAC_PID=""
  read -r created cur succ fail < <(sipp_now "$WORK/$name.uac.csv")
  kill -TERM "$UAS_PID" 2>/dev/null; wait "$UAS_PID" 2>/dev/null; UAS_PID=""
  # sofia keeps each finished transaction 64*T1; b2buad's allocator returns pages after a short
  # decay.
  sleep $(( 64 * T1_MS / 1000 + 3 ))
  after=$(pss_kb $pids)
  printf '%s: %d calls successful, %d failed\n' "$name" "$succ" "$fail"
  printf '%s PSS: baseline %s, with %d calls held %s, after the calls and 64*T1 %s (%+.1f MiB from the baseline)\n' \
    "$name" "$(kib "$base")" "$calls_up" "$(kib "$held")" "$(kib "$after")" \
    "$(awk -v a="$after" -v b="$base" 'BEGIN {print (a - b) / 1024}')"
  if [ "${calls_up:-0}" -gt 0 ]; then
    PER_CALL=$(awk -v h="$held" -v b="$base" -v n="$calls_up" 'BEGIN {printf "%.1f", (h - b) / n}')
    printf '%s: %s KiB per held call\n' "$name" "$PER_CALL"
  else
    PER_CALL=""
  fi
}

# ---- b2buad ------------------------------------------------------------------------------------
SRV_SIP=$(free_ports 1) || die "no free port"
API_PORT=$(free_ports 1) || die "no free port"
cat > "$WORK/b2buad.json" <<EOF
// held.sh: pass-through, media not anchored, limits above N
{ "sip": {"listen": "$HOST:$SRV_SIP"}, "api": {"listen": "$HOST:$API_PORT"},
  "limits": {"max_calls": $(( N * 2 + 1000 )), "retry_after_s": 5},
  "timers": {"no_answer_ms": 60000, "sip_t1_ms": $T1_MS, "route_timeout_ms": 2000, "drain_ms": 3000},
  "media": {"mode": "bypass"},
  "log": {"level": "warn"} }
EOF
"$B2BUAD" --config "$WORK/b2buad.json" >"$WORK/b2buad.stdout" 2>"$WORK/b2buad.stderr" </dev/null &
B2B_PID=$!
wait_udp_bound "$SRV_SIP" || { cat "$WORK/b2buad.stderr" >&2; die "b2buad SIP port not bound"; }
sleep 2
echo "held.sh: $N calls at $RATE calls/s, held together ${HOLD_S} s; b2buad $B2BUAD (pid $B2B_PID)"
measure b2buad "$B2B_PID"
B2B_PER_CALL=$PER_CALL
kill -0 "$B2B_PID" 2>/dev/null || { echo "b2buad died; stderr tail:"; tail -5 "$WORK/b2buad.stderr"; }
kill -TERM "$B2B_PID" 2>/dev/null
for _ in $(seq 1 50); do kill -0 "$B2B_PID" 2>/dev/null || break; sleep 0.2; done
kill -KILL "$B2B_PID" 2>/dev/null
wait "$B2B_PID" 2>/dev/null
B2B_PID=""

# ---- Kamailio ----------------------------------------------------------------------------------
if [ "${HELD_KAMAILIO:-auto}" != 0 ] && command -v "${KAMAILIO:-kamailio}" >/dev/null; then
  SRV_SIP=$(free_ports 1) || die "no free port"
  # shm: the dialogs and transactions of N calls, with room
  if kamailio_start "$WORK" "$SRV_SIP" $(( 256 + N / 50 )); then
    sleep 1
    measure kamailio $KAM_PIDS
    KAM_PER_CALL=$PER_CALL
    kamailio_stop
    if [ -n "$B2B_PER_CALL" ] && [ -n "$KAM_PER_CALL" ]; then
      awk -v a="$B2B_PER_CALL" -v b="$KAM_PER_CALL" \
        'BEGIN {if (b > 0) printf "b2buad / kamailio per held call: %.1f\n", a / b}'
    fi
  else
    echo "kamailio did not start (log in $WORK/kamailio.log); no reference"
  fi
fi
echo "held.sh done in $(( $(date +%s) - T0 )) s"
