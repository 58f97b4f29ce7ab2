#!/usr/bin/env bash
# Installs every Debian package b2bua needs to build, run and test. Idempotent: installs only what is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libcaf-dev libsofia-sip-ua-dev libboost-dev libboost-system-dev nlohmann-json3-dev
  libspdlog-dev libcli11-dev libjemalloc-dev libcctz-dev tzdata doctest-dev
  libsqlite3-dev libssl-dev
  sip-tester curl python3 python3-jsonschema python3-prometheus-client procps psmisc
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Another apt or dpkg may hold the lock (unattended upgrades on a fresh machine): wait for it, bounded.
wait_for_lock() {
  local i
  for i in $(seq 1 120); do
    if ! fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock >/dev/null 2>&1; then
      return 0
    fi
    [ "$i" -eq 1 ] && echo "deps.sh: waiting for the dpkg lock" >&2
    sleep 2
  done
  echo "deps.sh: the dpkg lock is still held after 240 s" >&2
  return 1
}

echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
for attempt in 1 2 3; do
  wait_for_lock || true
  if $SUDO apt-get update -qq && \
     $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    exit 0
  fi
  echo "deps.sh: apt-get failed (attempt $attempt), retrying" >&2
  sleep 5
done
echo "deps.sh: could not install ${missing[*]}" >&2
exit 1
