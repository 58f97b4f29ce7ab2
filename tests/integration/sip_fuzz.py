"""A SIP-level fuzzer of b2buad (issue 17): seeded, mutated requests from a caller over UDP and
TCP, in and out of dialogs it really established, towards a b2buad that routes every INVITE to the
fuzzer's own callee, which answers with damaged responses and sends BYEs and re-INVITEs of its own.
After every batch: b2buad still runs and answers OPTIONS within 2 s. At the end: active_calls and
GET /v1/calls back to empty, descriptors and memory back near the baseline taken after warm-up.

  python3 sip_fuzz.py --b2buad PATH --messages N --seed S --batch B [--tcp-share F] [--rate R]
                      [--report FILE] [--keep-going] [--max-seconds T]

Standard library only; 127.0.0.1, free ports; only the b2buad it started is stopped, by PID."""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import harness
from sip_fuzz_gen import Generator
from sip_fuzz_ua import Endpoints

T1_MS = 50
TIMERS = {"sip_t1_ms": T1_MS, "no_answer_ms": 3000, "failover_timeout_ms": 1000,
          "session_expires_s": 6, "min_se_s": 2, "drain_ms": 2000}
# Tolerances for "back near the baseline" (see README, Testing). Descriptors: exact but for two (a
# REST connection being closed, a sofia tport being reaped). Memory, two checks: the live heap
# (jemalloc's stats.allocated, b2bua_process_heap_bytes{kind="allocated"}) is the leak check, 16 MiB
# plus 10 %: SQLite's page cache, sofia's hash tables (they keep the size of their peak) and what
# is still in flight (seen after drains: 6.5 MiB at the baseline, then 13.3, 6.5 and 14.9 MiB);
# resident memory (RSS and anonymous) is only bounded, 64 MiB plus 10 %: after a peak of 80-130 MiB
# the allocator keeps partly used pages (measured: live heap +4.5 MiB after 80k messages while RSS
# stayed 18 MiB up, and RSS after drains at 200k/400k/600k messages 70/66/51 MiB: no growth).
# The baseline is taken after a warm-up of 2,000 messages and a drain.
FD_SLACK = 2
TCP_IDLE_MS = 3000
UDP_MAX = 65000
MEM_SLACK_BYTES = 64 << 20
HEAP_SLACK_BYTES = 16 << 20
MEM_SLACK_RATIO = 0.10


def proc_figures(pid):
    """{'fds', 'rss', 'pss', 'anonymous'} of a process (bytes), from /proc; {} when it is gone."""
    try:
        fds = len(os.listdir("/proc/%d/fd" % pid))
        out = {"fds": fds}
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("Rss", "Pss", "Anonymous"):
                    out[key.lower()] = int(rest.split()[0]) * 1024
        return out
    except (OSError, ValueError, IndexError):
        return {}


def tcp_states(pid):
    """{TCP state name: count} of the sockets a process holds (from /proc/net/tcp*)."""
    names = {"01": "ESTABLISHED", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
             "0A": "LISTEN", "04": "FIN_WAIT1", "05": "FIN_WAIT2", "09": "LAST_ACK"}
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        return {}
    out = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[9] in inodes:
                        state = names.get(cols[3], cols[3])
                        out[state] = out.get(state, 0) + 1
        except (OSError, IndexError, StopIteration):
            pass
    return out


def epoll_watch(pid, sip_port):
    """Which descriptors each epoll instance of a process watches, and which one is the SIP UDP
    socket: tells a SIP thread that stopped reading from one that cannot answer."""
    want = "0100007F:%04X" % sip_port
    udp_inode = None
    try:
        with open("/proc/net/udp") as f:
            for line in f:
                cols = line.split()
                if len(cols) > 9 and cols[1] == want:
                    udp_inode = cols[9]
        out = {}
        for fd in os.listdir("/proc/%d/fd" % pid):
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            if link == "socket:[%s]" % udp_inode:
                out["sip_udp_fd"] = int(fd)
            if "eventpoll" in link:
                with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                    out["epoll%s" % fd] = [int(l.split()[1]) for l in f if l.startswith("tfd:")]
        return out
    except (OSError, ValueError, IndexError):
        return {}


def udp_drops(port):
    """The kernel's drop counter of the UDP socket bound to 127.0.0.1:port (None if unknown)."""
    want = "0100007F:%04X" % port
    try:
        with open("/proc/net/udp") as f:
            for line in f:
                cols = line.split()
                if len(cols) > 12 and cols[1] == want:
                    return int(cols[12])
    except (OSError, ValueError):
        pass
    return None


def thread_cpu(pid):
    """{thread name: utime+stime ticks} of a process."""
    out = {}
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                stat = f.read()
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            out["%s/%s" % (name, tid)] = int(fields[11]) + int(fields[12])
    except (OSError, ValueError):
        pass
    return out


class Fuzzer:
    def __init__(self, binary, seed=1, messages=20000, batch=500, tcp_share=0.25, rate=800.0,
                 warmup=2000, workdir=None, keep_going=False, max_seconds=3600.0,
                 log_level="warn", idle_every=0, out=sys.stderr, mem_slack_bytes=MEM_SLACK_BYTES):
        self.binary, self.seed, self.messages, self.batch = binary, seed, messages, batch
        self.mem_slack_bytes = mem_slack_bytes
        self.rate, self.warmup, self.keep_going = rate, warmup, keep_going
        self.max_seconds, self.log_level, self.out = max_seconds, log_level, out
        self.idle_every = idle_every  # 0: drain and measure only at the end
        self.workdir = workdir or tempfile.mkdtemp(prefix="sipfuzz-%d-" % seed)
        self.ep = Endpoints(seed)
        self.gen = Generator(seed, tcp_share=tcp_share)
        self.srv = None
        self.sent = 0
        self.n = 0
        self.findings = []
        self.checks = {"batches": 0, "options_ok": 0, "segments": 0}
        self.probe_max = 0.0
        self.kinds = {}
        self.batch_items = []
        self.baseline = {}
        self.final = {}
        self.figures = []

    def say(self, text):
        self.out.write("[sip_fuzz] %s\n" % text)
        self.out.flush()

    # -- b2buad ---------------------------------------------------------------------------------
    def start_b2bua(self):
        callee_udp = "sip:%s:%d" % (harness.HOST, self.ep.port("callee"))
        callee_tcp = "sip:%s:%d;transport=tcp" % (harness.HOST, self.ep.port("callee", "tcp"))
        routes = [{"name": "tcp", "match": {"to": "tcp*"}, "action": "route", "targets": [callee_tcp]},
                  {"name": "udp", "match": {"to": "*"}, "action": "route", "targets": [callee_udp]}]
        seg = os.path.join(self.workdir, "b2buad-%d" % self.checks["segments"])
        os.makedirs(seg, exist_ok=True)
        self.srv = harness.B2bua(seg, routes=routes, timers=TIMERS, binary=self.binary,
                                 log_level=self.log_level)
        # TCP connections nobody uses (ours, abandoned on purpose) are closed after 3 s, so the
        # descriptor check at the end does not wait for the default 120 s.
        self.srv.config["sip"]["tcp_idle_ms"] = TCP_IDLE_MS
        self.srv.start()
        self.ep.b2b = (harness.HOST, self.srv.sip_port)
        self.checks["segments"] += 1

    def restart(self):
        self.srv.stop(timeout=3)
        for c in list(self.ep.conns):
            self.ep.close(c)
        for table in (self.ep.dialogs["caller"], self.ep.dialogs["callee"], self.ep.pending,
                      self.ep.callee_open):
            table.clear()
        self.start_b2bua()

    # -- sending --------------------------------------------------------------------------------
    def dispatch(self, item):
        ep = self.ep
        if item.transport == "udp":
            for p in item.payloads:
                ep.send(item.side, "udp", p[:UDP_MAX])  # a datagram cut short is fuzz too
            return
        if item.plan in ("garbage_close", "partial_close"):
            conn = ep.connect(item.side)
            if conn is not None:
                ep.send_tcp(conn, item.payloads[0])
                ep.pump(0.005)
                ep.close(conn)
            return
        conn = item.conn if item.conn is not None and not item.conn.closed else \
            ep.caller_conn(item.n % 3)
        for p in item.payloads:
            ep.send_tcp(conn, p)

    def send_batch(self, count, record=True):
        """Generates and sends `count` items at `rate`, handling whatever comes back."""
        self.batch_items = []
        start = time.monotonic()
        for i in range(count):
            item = self.gen.next(self.ep, self.n)
            self.n += 1
            if record:
                self.batch_items.append(item)
            self.kinds[item.kind] = self.kinds.get(item.kind, 0) + 1
            self.dispatch(item)
            self.sent += 1
            ahead = start + (i + 1) / self.rate - time.monotonic()
            self.ep.pump(max(0.0, ahead))

    # -- checks ---------------------------------------------------------------------------------
    def check_alive(self, where):
        """None when b2buad runs and answers OPTIONS within 2 s, else the finding (recorded)."""
        if not self.srv.running():
            rc = self.srv.wait_exit(1)
            return self.finding("crash", where, "b2buad exited with %s (negative: signal); %s" % (
                rc, self.core_backtrace()))
        status, took = self.ep.options_probe(self.n)
        self.probe_max = max(self.probe_max, took)
        if status is None:
            late = self.reprobe(10.0)
            return self.finding("hang", where, "no answer to OPTIONS within 2 s, sent 4 times "
                                "(%s; kernel drops on the SIP socket: %s); thread CPU "
                                "ticks over 1 s: %s; epoll sets: %s; stacks: %s" % (
                                    late, udp_drops(self.srv.sip_port), self.spinning(), epoll_watch(self.srv.pid, self.srv.sip_port),
                                    self.stacks()))
        if status != 200:
            return self.finding("options", where, "OPTIONS answered %s" % status)
        self.checks["options_ok"] += 1
        return None

    def reprobe(self, limit):
        """After a probe went unanswered: does b2buad answer a new one within `limit` seconds?"""
        start = time.monotonic()
        k = 0
        while time.monotonic() - start < limit:
            k += 1
            status, _ = self.ep.options_probe(self.n * 100 + k, timeout=1.0)
            if status is not None:
                return "answered %s again after %.1f s" % (status, time.monotonic() - start)
        return "still no answer after %.0f s more" % limit

    def spinning(self):
        pid = self.srv.pid
        a = thread_cpu(pid)
        time.sleep(1.0)
        b = thread_cpu(pid)
        return {k: b[k] - a.get(k, 0) for k in b if b[k] - a.get(k, 0) > 0}

    def core_backtrace(self):
        """The crashing thread's backtrace from a core file in b2buad's directory, if any."""
        cores = [f for f in os.listdir(self.srv.workdir) if f.startswith("core")]
        gdb = shutil.which("gdb")
        if not cores or not gdb:
            return "no core file (core_pattern %s)" % _read("/proc/sys/kernel/core_pattern")
        core = os.path.join(self.srv.workdir, cores[0])
        path = os.path.join(self.workdir, "crash-%d.txt" % len(self.findings))
        try:
            with open(path, "w") as f:
                subprocess.run([gdb, "-batch", "-ex", "bt 40", "-ex", "thread apply all bt 8",
                                self.binary, core], stdout=f, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, timeout=120)
        except (OSError, subprocess.TimeoutExpired):
            return "gdb failed on %s" % core
        os.unlink(core)  # hundreds of MB each; the backtrace is kept
        return "backtrace in " + path

    def stacks(self):
        """gdb's backtrace of every b2buad thread into a file (when gdb is there and may attach)."""
        gdb = shutil.which("gdb")
        if not gdb:
            return "(no gdb)"
        path = os.path.join(self.workdir, "stacks-%d.txt" % len(self.findings))
        try:
            with open(path, "w") as f:
                subprocess.run([gdb, "-p", str(self.srv.pid), "-batch", "-ex",
                                "thread apply all bt 25"], stdout=f, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return "(gdb failed)"
        return path

    def finding(self, kind, where, detail):
        first = self.batch_items[0].n if self.batch_items else self.n
        path = os.path.join(self.workdir, "finding-%d-%s-seed%d-msg%d.json" % (
            len(self.findings), kind, self.seed, first))
        self.write_batch(path)
        f = {"kind": kind, "where": where, "seed": self.seed, "messages": [first, self.n - 1],
             "detail": detail, "batch_file": path, "log_tail": self.srv.logs(25)}
        self.findings.append(f)
        self.say("FINDING %s at %s (messages %d..%d, seed %d): %s\n  batch: %s" % (
            kind, where, first, self.n - 1, self.seed, detail, path))
        return f

    def write_batch(self, path):
        """The last batch's messages, for --replay and for reading."""
        items = [{"n": it.n, "what": it.describe(), "side": it.side, "transport": it.transport,
                  "plan": it.plan, "payloads": [base64.b64encode(p).decode() for p in it.payloads],
                  "text": [p.decode("utf-8", "replace")[:4000] for p in it.payloads]}
                 for it in self.batch_items]
        with open(path, "w") as f:
            json.dump({"seed": self.seed, "items": items}, f, indent=1)

    # -- idle: drain and measure ----------------------------------------------------------------
    def drain(self, timeout=20.0):
        """BYE on every dialog we hold, close our TCP connections, then wait (bounded) until
        b2buad has no call left. Returns (ok, detail)."""
        ep = self.ep
        ep.draining = True
        for side in ("caller", "callee"):
            for d in list(ep.dialogs[side].values()):
                it = _Plain(self.n, d.transport)
                msg = self.gen.dialog_request(ep, it, d, "BYE", side)
                ep.send(side, it.transport, _finish(msg), it.conn)
            ep.dialogs[side].clear()
        deadline = time.monotonic() + timeout
        st, calls = {}, None
        while time.monotonic() < deadline:
            ep.pump(0.3)
            try:
                st = self.srv.stats()
            except AssertionError:
                st = {}
            status, body = self.srv.get("/v1/calls")
            calls = body.get("calls") if status == 200 and isinstance(body, dict) else body
            if st.get("active_calls") == 0 and calls == []:
                break
        for c in list(ep.conns):
            ep.close(c)
        ep.pump(T1_MS * 64 / 1000.0 + 1.0)  # sofia keeps finished transactions for 64*T1
        ep.draining = False
        if st.get("active_calls") != 0 or calls != []:
            return False, "after %.0f s: active_calls=%s, calls: %s" % (
                timeout, st.get("active_calls"), _calls(calls))
        return True, ""

    def settle(self, base, timeout=15.0):
        """Waits (bounded) for fds and memory to come back within the slack of `base`."""
        deadline = time.monotonic() + timeout
        while True:
            now = self.measure()
            bad = self.leaks(base, now)
            if not bad or time.monotonic() >= deadline:
                return now, bad
            self.ep.pump(0.5)

    def measure(self):
        """proc_figures of b2buad plus 'heap', its live heap from /metrics (when answered)."""
        out = proc_figures(self.srv.pid)
        try:
            status, body = self.srv.get("/metrics", timeout=2.0)
        except OSError:
            return out
        if status == 200:
            text = body if isinstance(body, str) else body.decode("utf-8", "replace")
            for line in text.splitlines():
                if line.startswith('b2bua_process_heap_bytes{kind="allocated"} '):
                    out["heap"] = int(float(line.split()[-1]))
        return out

    def leaks(self, base, now):
        if not now:
            return ["process gone"]
        bad = []
        if now["fds"] > base["fds"] + FD_SLACK:
            bad.append("fds %d -> %d (slack %d)" % (base["fds"], now["fds"], FD_SLACK))
        # PSS is reported, not checked: it shares library pages with every other process mapping
        # them, so it moves when other b2buads (parallel tests) start or stop.
        if "heap" in base and "heap" not in now:
            bad.append("the live heap figure is gone from /metrics")
        for key, slack in (("heap", HEAP_SLACK_BYTES), ("rss", self.mem_slack_bytes),
                           ("anonymous", self.mem_slack_bytes)):
            if key not in base:
                continue
            limit = base[key] * (1 + MEM_SLACK_RATIO) + slack
            if now.get(key, 0) > limit:
                bad.append("%s %.1f MiB -> %.1f MiB (limit %.1f MiB)" % (
                    key, base[key] / 2**20, now[key] / 2**20, limit / 2**20))
        return bad

    def new_baseline(self):
        self.send_batch(self.warmup, record=True)
        ok, detail = self.drain()
        if not ok:
            self.finding("stuck_calls", "warm-up", detail)
        self.baseline = self.measure()
        if "heap" not in self.baseline:
            self.finding("no_heap_figure", "warm-up", "GET /metrics has no "
                         "b2bua_process_heap_bytes{kind=\"allocated\"}: the leak check needs it")
        self.say("baseline after %d warm-up messages: %s" % (self.warmup, _fig(self.baseline)))

    # -- the run --------------------------------------------------------------------------------
    def run(self):
        t0 = time.monotonic()
        self.start_b2bua()
        try:
            self.new_baseline()
            fuzz_start, fuzz_sent = time.monotonic(), self.sent
            budget = self.messages
            last_idle = self.sent
            while budget > 0 and time.monotonic() - t0 < self.max_seconds:
                count = min(self.batch, budget)
                self.send_batch(count)
                budget -= count
                self.checks["batches"] += 1
                if self.check_alive("batch %d" % self.checks["batches"]) is not None:
                    if not self.keep_going:
                        self.srv.stop(timeout=3)  # crashed or hung: nothing left to measure
                        break
                    self.restart()
                    self.new_baseline()
                if self.idle_every and self.sent - last_idle >= self.idle_every and budget > 0:
                    last_idle = self.sent
                    self.finish_checks("checkpoint at %d messages" % self.sent)
                    self.say("checkpoint at %d messages: %s" % (self.sent, _fig(self.measure())))
                if self.checks["batches"] % 20 == 0:
                    self.say("%d messages, %.0f msg/s, %d findings, %s" % (
                        self.sent, (self.sent - fuzz_sent) / (time.monotonic() - fuzz_start),
                        len(self.findings), _fig(proc_figures(self.srv.pid))))
            fuzz_time = time.monotonic() - fuzz_start
            self.finish_checks()
        finally:
            self.srv.stop()
            self.ep.shutdown()
        return self.report(time.monotonic() - t0, fuzz_time, self.sent - fuzz_sent)

    def finish_checks(self, where="end"):
        if not self.srv.running():
            return
        self.batch_items = self.batch_items[-200:]
        ok, detail = self.drain()
        if not ok:
            self.finding("stuck_calls", where, detail)
        self.final, bad = self.settle(self.baseline)
        self.say("%s, after the drain: %s (baseline %s)" % (where, _fig(self.final),
                                                            _fig(self.baseline)))
        if bad:
            self.finding("leak", where, "; ".join(bad) + "; b2buad's TCP sockets by state: %s"
                         % tcp_states(self.srv.pid))

    def report(self, elapsed, fuzz_time, fuzz_sent):
        return {"seed": self.seed, "messages": self.sent, "fuzz_messages": fuzz_sent,
                "seconds": round(elapsed, 1), "msgs_per_s": round(fuzz_sent / max(fuzz_time, 1e-9), 1),
                "batches": self.checks["batches"], "options_ok": self.checks["options_ok"],
                "b2buad_starts": self.checks["segments"], "probe_max_s": round(self.probe_max, 3),
                "baseline": self.baseline, "final": self.final,
                "tolerance": {"fds": FD_SLACK, "mem_bytes": self.mem_slack_bytes,
                              "heap_bytes": HEAP_SLACK_BYTES,
                              "mem_ratio": MEM_SLACK_RATIO},
                "kinds": self.kinds, "endpoints": dict(self.ep.stats),
                "findings": [{k: v for k, v in f.items() if k != "log_tail"} for f in self.findings],
                "ok": not self.findings, "workdir": self.workdir}


class _Plain:
    """The bits of an Item that Generator.dialog_request reads."""

    def __init__(self, n, transport):
        self.n, self.transport, self.conn, self.side = n, transport, None, "caller"


def _finish(msg):
    from sip_fuzz_msgs import finish
    return finish(msg).serialize()


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return "?"


def allow_core_dumps():
    """Raises this process's (so b2buad's) core size limit to the hard limit."""
    try:
        import resource
        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass


def _calls(calls):
    """A short text of GET /v1/calls: id, state, end reason, and per leg call-id/state/remote."""
    if not isinstance(calls, list):
        return repr(calls)[:300]
    out = []
    for c in calls[:10]:
        legs = ["%s %s %s media=%s" % (l.get("call_id"), l.get("state"), l.get("remote"),
                                      (l.get("media") or {}).get("remote")) for l in c.get("legs", [])]
        out.append("#%s %s end_reason=%s status=%s route=%s legs=[%s]" % (
            c.get("id"), c.get("state"), c.get("end_reason"), c.get("final_status"), c.get("route"),
            "; ".join(legs)))
    return " | ".join(out) + (" (+%d more)" % (len(calls) - 10) if len(calls) > 10 else "")


def _fig(f):
    if not f:
        return "(gone)"
    return "fds=%d heap=%.1fMiB rss=%.1fMiB anon=%.1fMiB pss=%.1fMiB" % (
        f["fds"], f.get("heap", 0) / 2**20, f.get("rss", 0) / 2**20, f.get("anonymous", 0) / 2**20,
        f.get("pss", 0) / 2**20)


def replay(binary, path, workdir):
    """Sends the messages of a batch file (written at a finding) to a fresh b2buad, one by one,
    probing OPTIONS after each; prints the first message after which the probe fails."""
    with open(path) as f:
        items = json.load(f)["items"]
    fz = Fuzzer(binary, workdir=workdir, warmup=0)
    fz.start_b2bua()
    try:
        for k, it in enumerate(items):
            for p in (base64.b64decode(x) for x in it["payloads"]):
                if it["transport"] == "tcp":
                    c = fz.ep.connect(it["side"])
                    fz.ep.send_tcp(c, p)
                else:
                    fz.ep.send(it["side"], "udp", p)
            fz.ep.pump(0.01)
            if fz.check_alive("replay item %d" % k) is not None:
                print("fails after item %d: %s" % (k, it["what"]))
                return 1
        print("no failure in %d items" % len(items))
        return 0
    finally:
        fz.srv.stop()
        fz.ep.shutdown()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--b2buad", default=harness.b2buad_path())
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--tcp-share", type=float, default=0.25)
    p.add_argument("--rate", type=float, default=800.0, help="messages per second (a cap)")
    p.add_argument("--warmup", type=int, default=2000)
    p.add_argument("--max-seconds", type=float, default=3600.0)
    p.add_argument("--keep-going", action="store_true", help="restart b2buad after a finding")
    p.add_argument("--log-level", default="warn")
    p.add_argument("--idle-every", type=int, default=0,
                   help="also drain and compare with the baseline every N messages")
    p.add_argument("--report", help="write the JSON report here")
    p.add_argument("--workdir", help="keep b2buad logs and batch files here")
    p.add_argument("--replay", help="replay a finding's batch file instead of fuzzing")
    a = p.parse_args(argv)
    allow_core_dumps()
    workdir = a.workdir or tempfile.mkdtemp(prefix="sipfuzz-%d-" % a.seed)
    os.makedirs(workdir, exist_ok=True)
    if a.replay:
        return replay(os.path.abspath(a.b2buad), a.replay, workdir)
    fz = Fuzzer(os.path.abspath(a.b2buad), a.seed, a.messages, a.batch, a.tcp_share, a.rate,
                a.warmup, workdir, a.keep_going, a.max_seconds, a.log_level, a.idle_every)
    rep = fz.run()
    text = json.dumps(rep, indent=1, sort_keys=True)
    if a.report:
        with open(a.report, "w") as f:
            f.write(text + "\n")
    print(text)
    if rep["ok"] and not a.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if rep["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
