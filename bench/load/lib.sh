#!/usr/bin/env bash
# Shared helpers of the load scripts in bench/load (sourced, not run).

# free_ports N [LO HI]: prints the first of N consecutive ports free for UDP and TCP on 127.0.0.1,
# searched between LO and HI (default 20000-32000, below the kernel's ephemeral range); fails when
# 300 random tries found none.
free_ports() {
  python3 - "$1" "${2:-20000}" "${3:-32000}" <<'EOF'
import random, socket, sys
n, lo, hi = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def ok(p):
    ss = []
    try:
        for k in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, k); ss.append(s); s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        for s in ss: s.close()
for _ in range(300):
    b = random.randrange(lo, hi - n)
    if all(ok(p) for p in range(b, b + n)):
        print(b); sys.exit(0)
sys.exit(1)
EOF
}
