#!/usr/bin/env bash
# relay.sh: media relay capacity and added latency. N concurrent calls, each sending 50 RTP
# packets/s in both directions (G.711 sized, 172-byte datagrams), go through b2buad's relay and,
# in the same run, straight from socket to socket (the direct loopback path, the floor) and
# through rtpengine in userspace mode when it is installed (Debian package rtpengine-daemon).
# N rises; each path stops at its first N where the packets lost plus those later than
# RELAY_LATE_MS (a jitter buffer has dropped them) reach RELAY_LOSS_MAX %, or where the generator
# could not send the whole load (the machine is out of CPU). Reported per N: loss, late, one-way
# latency p50/p99/max and the latency the relay adds (relay percentile - direct p50 at the same
# N), and the CPU used over the measurement window (/proc/<pid>/stat, % of one core) by the relay
# process, by the generator and by all other processes (what else loaded the machine); then the
# capacities and the ratios between the paths.
#
# Usage: bench/load/relay.sh [path/to/b2buad]    (or env B2BUAD; default build/api/b2buad)
# The generator is bench/rtp/rtp_load.cpp (target rtp_load), taken from the b2buad build dir; it
# is built there with `cmake --build` when missing. Calls are set up by bench/load/relay_calls.py
# (raw SIP over UDP for b2buad, the ng protocol for rtpengine).
# Loopback only, free ports, bounded in time (RELAY_BUDGET_S); stops only what it started, by PID.
#
# Environment (defaults in brackets):
#   RELAY_CALLS       rising numbers of concurrent calls ["100 250 500 750 1000 1250 1500 2000 3000"]
#   RELAY_MEASURE_S   seconds measured per step [10]
#   RELAY_WARMUP_S    seconds of traffic before measuring [2]
#   RELAY_LOSS_MAX    lost + late packets, in percent, at which a path stops [0.1]
#   RELAY_LATE_MS     a packet later than this counts as lost [50]
#   RELAY_TRIES       attempts per step; a step passes on its first clean attempt [2]
#   RELAY_SLOTS       send slots per 20 ms: call i sends in slot i % SLOTS (both directions) [200]
#   RELAY_BUDGET_S    wall-clock budget; no step starts that would end after it [570]
#   RELAY_PATHS       paths to measure ["direct b2bua rtpengine"]
#   RELAY_B2B_WORKERS b2buad media.workers [1]
#   RELAY_RT_PRIORITY b2buad media.rt_priority: 1-99 runs its relay workers SCHED_FIFO [0]
#   RELAY_PIN=1       one core for the load, the others for the relay: the generator on the last
#                     CPU, b2buad's relay workers (media.cpus) and all of rtpengine on CPU 0 [0]
#   RELAY_RTPENGINE_THREADS  rtpengine --num-threads [rtpengine's default: one per core]
#   RELAY_INSTALL_RTPENGINE=1  apt-get install rtpengine-daemon when rtpengine is missing
#   RTPENGINE         the rtpengine binary [rtpengine]
#   RELAY_BUILD_DIR   the CMake build dir of b2buad and rtp_load [the dir above b2buad's api/]
#   RTP_LOAD          the generator binary [<build dir>/bench/rtp_load]
#   RELAY_KEEP=1      keep the work dir (logs, configs, results.jsonl)
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B2BUAD=${1:-${B2BUAD:-$ROOT/build/api/b2buad}}
CALLS=${RELAY_CALLS:-"100 250 500 750 1000 1250 1500 2000 3000"}
MEASURE_S=${RELAY_MEASURE_S:-10}
WARMUP_S=${RELAY_WARMUP_S:-2}
LOSS_MAX=${RELAY_LOSS_MAX:-0.1}
LATE_MS=${RELAY_LATE_MS:-50}
TRIES=${RELAY_TRIES:-2}
SLOTS=${RELAY_SLOTS:-200}
BUDGET_S=${RELAY_BUDGET_S:-570}
PATHS=${RELAY_PATHS:-"direct b2bua rtpengine"}
WORKERS=${RELAY_B2B_WORKERS:-1}
RTPE_THREADS=${RELAY_RTPENGINE_THREADS:-}
RTPENGINE=${RTPENGINE:-rtpengine}
PIN=${RELAY_PIN:-0}
RT_PRIORITY=${RELAY_RT_PRIORITY:-0}
DRIVER="$ROOT/bench/load/relay_calls.py"
HOST=127.0.0.1
T0=$(date +%s)

die() { echo "relay.sh: $*" >&2; exit 2; }
elapsed() { echo $(( $(date +%s) - T0 )); }
has_path() { case " $PATHS " in *" $1 "*) return 0 ;; esac; return 1; }

command -v python3 >/dev/null || die "python3 not found"
[ -f "$DRIVER" ] || die "no $DRIVER"
for n in $CALLS; do
  case $n in ''|*[!0-9]*) die "RELAY_CALLS must be numbers: $CALLS" ;; esac
  [ "$n" -ge 1 ] && [ "$n" -le 10000 ] || die "RELAY_CALLS: each N must be 1..10000"
done
case $MEASURE_S in ''|*[!0-9]*) die "RELAY_MEASURE_S must be whole seconds" ;; esac
case $WARMUP_S in ''|*[!0-9]*) die "RELAY_WARMUP_S must be whole seconds" ;; esac
case $TRIES in ''|*[!0-9]*|0) die "RELAY_TRIES must be a number >= 1" ;; esac

# --- the generator ---------------------------------------------------------------------------
BUILD_DIR=${RELAY_BUILD_DIR:-$(cd "$(dirname "$B2BUAD")/.." 2>/dev/null && pwd)}
GEN=${RTP_LOAD:-$BUILD_DIR/bench/rtp_load}
if [ ! -x "$GEN" ]; then
  [ -n "$BUILD_DIR" ] && [ -f "$BUILD_DIR/CMakeCache.txt" ] ||
    die "no generator at $GEN and no CMake build dir next to $B2BUAD (set RTP_LOAD)"
  echo "building rtp_load in $BUILD_DIR ..."
  timeout 300 cmake --build "$BUILD_DIR" --target rtp_load >/dev/null ||
    die "cmake --build $BUILD_DIR --target rtp_load failed (configure it with this source tree)"
  [ -x "$GEN" ] || die "rtp_load built but not at $GEN (set RTP_LOAD)"
fi

# --- what can be measured --------------------------------------------------------------------
NOTES=()
if has_path b2bua; then
  if [ ! -x "$B2BUAD" ]; then
    NOTES+=("b2buad: not executable at $B2BUAD; its path skipped")
    PATHS=${PATHS/b2bua/}
  elif ! "$B2BUAD" --print-default-config 2>/dev/null | grep -q '"media"'; then
    NOTES+=("b2buad: $B2BUAD has no media relay (no \"media\" in --print-default-config); skipped")
    PATHS=${PATHS/b2bua/}
  fi
fi
RTPE_VERSION=""
if has_path rtpengine; then
  if ! command -v "$RTPENGINE" >/dev/null && [ "${RELAY_INSTALL_RTPENGINE:-0}" = 1 ]; then
    echo "installing rtpengine-daemon (RELAY_INSTALL_RTPENGINE=1) ..."
    # Keep the package's init script from starting a daemon with its own config: a policy-rc.d
    # that denies, only if none exists, removed again afterwards.
    MADE_POLICY=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d &&
        MADE_POLICY=1
    fi
    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y --no-install-recommends \
      rtpengine-daemon >/tmp/relay-rtpengine-install.log 2>&1 ||
      NOTES+=("rtpengine: apt-get install failed (see /tmp/relay-rtpengine-install.log)")
    [ "$MADE_POLICY" = 1 ] && rm -f /usr/sbin/policy-rc.d
  fi
  if command -v "$RTPENGINE" >/dev/null; then
    RTPE_VERSION=$("$RTPENGINE" --version 2>&1 | awk '/Version/ {print $2; exit}')
  else
    NOTES+=("rtpengine: not installed (apt-get install rtpengine-daemon, or RELAY_INSTALL_RTPENGINE=1); skipped")
    PATHS=${PATHS/rtpengine/}
  fi
fi

WORK=$(mktemp -d /tmp/b2bua-relay.XXXXXX)
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
B2B_PID=""
RTPE_PID=""

stop_pid() {  # $1 = pid we started; TERM, bounded wait, then KILL
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
cleanup() {
  stop_pid "$B2B_PID"
  stop_pid "$RTPE_PID"
  if [ "${RELAY_KEEP:-0}" = "1" ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Room for the sockets: b2buad and rtpengine hold 4 per call, the generator 2.
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# free_ports N [LO HI]
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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
active_calls() {
  http_get /v1/stats | python3 -c "import json,sys; print(json.load(sys.stdin).get('active_calls',''))" 2>/dev/null
}

# Media port ranges: 4 ports (RTP+RTCP, two sides) per call and some slack, one range per relay,
# from 8000 up; control ports below 8000.
MAXN=0
for n in $CALLS; do [ "$n" -gt "$MAXN" ] && MAXN=$n; done
SPAN=$(( (4 * MAXN + 2000 + 1) / 2 * 2 ))
B_LO=8000; B_HI=$(( B_LO + SPAN - 1 ))
R_LO=$(( B_HI + 1 )); R_HI=$(( R_LO + SPAN - 1 ))
[ "$R_HI" -le 60999 ] || die "RELAY_CALLS up to $MAXN needs more ports than 8000-60999"

# Pinning (RELAY_PIN=1): the generator alone on the last CPU, the relay on CPU 0.
GEN_PIN=()
RELAY_TASKSET=()
B2B_CPUS=""
if [ "$PIN" = 1 ]; then
  [ "$(nproc)" -ge 2 ] || die "RELAY_PIN=1 needs 2 CPUs"
  command -v taskset >/dev/null || die "RELAY_PIN=1 needs taskset"
  GEN_PIN=(--gen-cpu $(( $(nproc) - 1 )))
  RELAY_TASKSET=(taskset -c 0)
  B2B_CPUS=", \"cpus\": [$(for _ in $(seq 1 "$WORKERS"); do printf '0,'; done | sed 's/,$//')]"
fi

# --- b2buad ----------------------------------------------------------------------------------
if has_path b2bua; then
  B2B_SIP=$(free_ports 1 4000 7900) || die "no free port"
  API_PORT=$(free_ports 1 4000 7900) || die "no free port"
  UAS_PORT=$(free_ports 1 4000 7900) || die "no free port"
  cat >"$WORK/b2buad.json" <<EOF
// relay.sh: every call to this script's callee, media anchored on 127.0.0.1
{ "sip": {"listen": "$HOST:$B2B_SIP"}, "api": {"listen": "$HOST:$API_PORT"},
  "limits": {"max_calls": 100000, "retry_after_s": 5},
  "routes": [{"name": "all", "match": {"to": "*"}, "action": "route",
              "targets": ["sip:$HOST:$UAS_PORT"]}],
  "media": {"mode": "relay", "listen_ip": "$HOST", "advertise": "$HOST", "ports": "$B_LO-$B_HI",
            "workers": $WORKERS, "timeout_s": 0, "rt_priority": $RT_PRIORITY$B2B_CPUS},
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
fi

# --- rtpengine -------------------------------------------------------------------------------
if has_path rtpengine; then
  NG_PORT=$(free_ports 1 4000 7900) || die "no free port"
  RTPE_ARGS=(--config-file=none --table=-1 --interface="$HOST" --listen-ng="$HOST:$NG_PORT"
             --port-min="$R_LO" --port-max="$R_HI" --foreground --log-stderr --log-level=4
             --delete-delay=0 --timeout=600)
  [ -n "$RTPE_THREADS" ] && RTPE_ARGS+=(--num-threads="$RTPE_THREADS")
  "${RELAY_TASKSET[@]}" "$RTPENGINE" "${RTPE_ARGS[@]}" >"$WORK/rtpengine.log" 2>&1 </dev/null &
  RTPE_PID=$!
  for _ in $(seq 1 50); do
    python3 "$DRIVER" ping --ng "$HOST:$NG_PORT" && break
    kill -0 "$RTPE_PID" 2>/dev/null || { tail -5 "$WORK/rtpengine.log" >&2; die "rtpengine exited at start"; }
    sleep 0.2
  done
  python3 "$DRIVER" ping --ng "$HOST:$NG_PORT" || die "rtpengine did not answer an ng ping"
fi

BUILD_TYPE=$(grep -m1 '^CMAKE_BUILD_TYPE' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null | cut -d= -f2)
echo "== relay.sh ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (+ uncommitted changes)'), build type: ${BUILD_TYPE:-unknown}"
echo "scenario: N calls x 2 directions x 50 pps, 172-byte RTP; ${WARMUP_S} s warm-up, ${MEASURE_S} s measured per step, up to $TRIES tries; a path stops at lost + late (> ${LATE_MS} ms) >= ${LOSS_MAX} %"
echo "generator: $GEN (one thread; $SLOTS send slots per 20 ms; kernel receive timestamps)"
[ "$PIN" = 1 ] && echo "pinning: generator on CPU $(( $(nproc) - 1 )), relays on CPU 0"
has_path b2bua && echo "b2buad: $B2BUAD (pid $B2B_PID, media.workers $WORKERS, rt_priority $RT_PRIORITY, ports $B_LO-$B_HI)"
has_path rtpengine && echo "rtpengine: $RTPE_VERSION userspace (--table=-1, threads ${RTPE_THREADS:-default}, pid $RTPE_PID, ports $R_LO-$R_HI)"
for n in "${NOTES[@]}"; do echo "note: $n"; done
echo "paths:$(for p in $PATHS; do printf ' %s' "$p"; done)"
echo

declare -A STOP
BUDGET_HIT=0
for n in $CALLS; do
  any=0
  for p in direct b2bua rtpengine; do
    has_path "$p" || continue
    [ "${STOP[$p]:-0}" = 1 ] && continue
    any=1
    extra=1
    [ "$p" != direct ] && extra=$(( n / 250 ))  # call setup and teardown
    est=$(( WARMUP_S + MEASURE_S + 3 + extra ))
    if [ $(( $(elapsed) + est )) -gt "$BUDGET_S" ]; then BUDGET_HIT=1; break 2; fi
    args=(run --mode "$p" --calls "$n" --gen "$GEN" --warmup-s "$WARMUP_S" --measure-s "$MEASURE_S"
          --loss-max "$LOSS_MAX" --slots "$SLOTS" --results "$RESULTS" "${GEN_PIN[@]}"
          --setup-timeout-s $(( 20 + n / 100 )) --teardown-timeout-s $(( 10 + n / 200 )))
    case $p in
      b2bua)
        if ! kill -0 "$B2B_PID" 2>/dev/null; then
          echo "  b2bua: b2buad is no longer running"; STOP[$p]=1; continue
        fi
        for _ in $(seq 1 50); do [ "$(active_calls)" = 0 ] && break; sleep 0.2; done
        args+=(--b2b "$HOST:$B2B_SIP" --uas-port "$UAS_PORT" --cpu-pid "$B2B_PID") ;;
      rtpengine)
        if ! kill -0 "$RTPE_PID" 2>/dev/null; then
          echo "  rtpengine: no longer running"; STOP[$p]=1; continue
        fi
        args+=(--ng "$HOST:$NG_PORT" --cpu-pid "$RTPE_PID") ;;
    esac
    args+=(--late-ms "$LATE_MS")
    rc=1
    for try in $(seq 1 "$TRIES"); do
      if [ "$try" -gt 1 ]; then
        [ $(( $(elapsed) + est )) -gt "$BUDGET_S" ] && { BUDGET_HIT=1; break; }
        [ "$p" = b2bua ] && for _ in $(seq 1 50); do [ "$(active_calls)" = 0 ] && break; sleep 0.2; done
        echo "    (try $try)"
      fi
      timeout $(( est + 120 )) python3 "$DRIVER" "${args[@]}"
      rc=$?
      [ "$rc" = 0 ] && break
      [ "$rc" = 2 ] && break  # the tooling failed: no second try
    done
    [ "$rc" != 0 ] && STOP[$p]=1
  done
  [ "$any" = 0 ] && break
done

echo
echo "== relay.sh result ($(elapsed) s)"
[ "$BUDGET_HIT" = 1 ] && echo "(stopped: time budget of $BUDGET_S s reached)"
python3 "$DRIVER" summary "$RESULTS" --loss-max "$LOSS_MAX"
if has_path b2bua; then
  echo "b2buad /v1/stats media: $(http_get /v1/stats | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin).get("media")))' 2>/dev/null)"
  if ! kill -0 "$B2B_PID" 2>/dev/null; then
    echo "b2buad is no longer running; stderr tail:"; tail -5 "$WORK/b2buad.stderr"
  fi
fi
if has_path rtpengine && ! kill -0 "$RTPE_PID" 2>/dev/null; then
  echo "rtpengine is no longer running; log tail:"; tail -5 "$WORK/rtpengine.log"
fi
exit 0
