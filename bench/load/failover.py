"""failover.py (run by failover.sh): one of three backends killed in the middle of a call load.

Three SIPp backends (tests/scenarios/uas_backend.xml, answering OPTIONS too) behind a round-robin
group with OPTIONS probes; a SIPp caller at FO_RATE calls/s for FO_RUN_S s; FO_KILL_AT_S s in,
backend 2 gets SIGKILL. Prints the failed calls the caller saw (before and after the breaker
opened), the calls that backend had in flight when it died, and the time from the kill to its
breaker opening. Loopback only, free ports, bounded; stops only the processes it started."""
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HOST = "127.0.0.1"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import free_port, free_port_block, udp_port_bound, wait_until  # noqa: E402

B2BUAD = os.environ.get("B2BUAD", os.path.join(ROOT, "build", "api", "b2buad"))
SIPP = os.environ.get("SIPP", "sipp")
SCEN = os.environ.get("B2BUA_SCENARIOS", os.path.join(ROOT, "tests", "scenarios"))
RATE = int(os.environ.get("FO_RATE", "200"))
RUN_S = int(os.environ.get("FO_RUN_S", "20"))
KILL_AT = float(os.environ.get("FO_KILL_AT_S", "8"))
HOLD_MS = int(os.environ.get("FO_HOLD_MS", "1000"))
PROBE_MS = int(os.environ.get("FO_PROBE_MS", "500"))


def get(api, path):
    try:
        with urllib.request.urlopen("http://%s:%d%s" % (HOST, api, path), timeout=2) as r:
            return json.loads(r.read().decode())
    except Exception:
        return None


def main():
    work = tempfile.mkdtemp(prefix="b2bua-failover.")
    procs = []

    def spawn(cmd, name):
        out = open(os.path.join(work, name + ".out"), "wb")
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                             cwd=work)
        procs.append(p)
        return p

    try:
        ports = [free_port_block(1) for _ in range(3)]
        backends = []
        for i, port in enumerate(ports):
            backends.append(spawn([SIPP, "-sf", os.path.join(SCEN, "uas_backend.xml"), "-i", HOST,
                                   "-p", str(port), "-mp", str(free_port_block(4)), "-m",
                                   "10000000", "-nostdin", "-timeout", "%ds" % (RUN_S + 60)],
                                  "backend%d" % i))
            if not wait_until(lambda: udp_port_bound(port), 5):
                sys.exit("failover.py: backend %d did not start" % i)
        sip, api = free_port(), free_port()
        cfg = {"sip": {"listen": "%s:%d" % (HOST, sip)}, "api": {"listen": "%s:%d" % (HOST, api)},
               "limits": {"max_calls": 100000},
               "media": {"mode": "bypass"},
               "breaker": {"failure_threshold": 3, "cooldown_ms": 5000},
               "groups": {"pbx": {"strategy": "round_robin",
                                  "targets": ["sip:%s:%d" % (HOST, p) for p in ports],
                                  "probe": {"interval_ms": PROBE_MS, "timeout_ms": 500}}},
               "routes": [{"name": "all", "group": "pbx"}],
               "log": {"level": "warn"}}
        with open(os.path.join(work, "b2buad.json"), "w") as f:
            json.dump(cfg, f)
        spawn([B2BUAD, "--config", os.path.join(work, "b2buad.json")], "b2buad")
        if not wait_until(lambda: get(api, "/health") is not None and udp_port_bound(sip), 10):
            sys.exit("failover.py: b2buad did not start")
        calls = RATE * RUN_S
        stat = os.path.join(work, "uac_stat.csv")
        uac = spawn([SIPP, "-sf", os.path.join(SCEN, "uac_basic.xml"), "%s:%d" % (HOST, sip),
                     "-s", "bob", "-i", HOST, "-p", str(free_port_block(1)),
                     "-mp", str(free_port_block(4)), "-m", str(calls), "-r", str(RATE),
                     "-d", str(HOLD_MS), "-nostdin", "-timeout", "%ds" % (RUN_S + 40),
                     "-recv_timeout", "10000", "-trace_stat", "-stf", stat, "-fd", "1"], "uac")
        time.sleep(KILL_AT)
        victim = "sip:%s:%d" % (HOST, ports[1])
        state = {b["uri"]: b for b in (get(api, "/v1/backends") or {}).get("backends", [])}
        in_flight = state.get(victim, {}).get("active_calls", -1)
        t_kill = time.time()
        os.kill(backends[1].pid, signal.SIGKILL)
        opened = None
        while time.time() - t_kill < 15:
            b = {x["uri"]: x for x in (get(api, "/v1/backends") or {}).get("backends", [])}
            if b.get(victim, {}).get("state") in ("open", "half_open"):
                opened = time.time()
                break
            time.sleep(0.01)
        try:
            uac.wait(timeout=RUN_S + 60)
        except subprocess.TimeoutExpired:
            uac.kill()
        before = after = total = 0
        with open(stat) as f:
            rows = list(csv.reader(f, delimiter=";"))
        head = rows[0]
        ci, fi = head.index("CurrentTime"), head.index("FailedCall(P)")
        for row in rows[1:]:
            if len(row) <= fi:
                continue
            # CurrentTime: "YYYY-MM-DD\tHH:MM:SS.usec\tEPOCH.usec"
            t = float(row[ci].split("\t")[-1])
            n = int(row[fi])
            total += n
            if opened is not None and t > opened:
                after += n
            else:
                before += n
        summary = get(api, "/v1/stats") or {}
        print("failover: %d calls at %d/s, hold %d ms, backend 2 of 3 killed at %.0f s" % (
            calls, RATE, HOLD_MS, KILL_AT))
        print("  calls in flight on the killed backend: %d" % in_flight)
        if opened is None:
            print("  breaker did NOT open within 15 s")
        else:
            print("  kill -> breaker open: %.0f ms (probe interval %d ms)" % (
                (opened - t_kill) * 1000, PROBE_MS))
        print("  failed calls seen by the caller: %d (before the breaker opened: %d, after: %d)" % (
            total, before, after))
        print("  b2buad final responses: %s" % summary.get("final_responses"))
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if os.environ.get("FO_KEEP") == "1":
            print("work dir kept: %s" % work)


if __name__ == "__main__":
    main()
