"""Integration harness: runs the real b2buad between SIPp callers and callees on 127.0.0.1.

Standard library only. Everything is bounded: each wait has a deadline, each process a timeout, and
only processes started here are stopped, by their PID. Environment:
  B2BUAD           path of the b2buad binary (default: <repo>/build/api/b2buad; or --b2buad PATH
                   when a test module is run as a script)
  B2BUA_SCENARIOS  folder of the SIPp scenarios (default: <repo>/tests/scenarios)
  SIPP             the SIPp binary (default: sipp)
  B2BUA_KEEP       "1" keeps every temp dir, not only those of failed tests
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
HOST = "127.0.0.1"
UAC_CALL_ID = "uac-marker-%u-%p@%s"  # the callee checks this marker never crosses the bridge


def b2buad_path():
    return os.environ.get("B2BUAD") or os.path.join(REPO, "build", "api", "b2buad")


def scenarios_dir():
    return os.environ.get("B2BUA_SCENARIOS") or os.path.join(REPO, "tests", "scenarios")


def sipp_binary():
    return os.environ.get("SIPP", "sipp")


def scenario(name):
    path = os.path.join(scenarios_dir(), name if name.endswith(".xml") else name + ".xml")
    if not os.path.isfile(path):
        raise FileNotFoundError(path)
    return path


# ---------------------------------------------------------------------------------------------
# Ports

_handed_out = set()
_port_lock = threading.Lock()


def _can_bind(port):
    """True when `port` is free for both UDP and TCP on 127.0.0.1."""
    socks = []
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            socks.append(s)
            s.bind((HOST, port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def free_port():
    """A port free for UDP and TCP: the kernel picks one (bind to port 0), we check TCP too."""
    with _port_lock:
        for _ in range(100):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind((HOST, 0))
                port = s.getsockname()[1]
            finally:
                s.close()
            if port not in _handed_out and _can_bind(port):
                _handed_out.add(port)
                return port
    raise RuntimeError("no free port after 100 tries")


def free_port_block(count):
    """`count` consecutive free ports (SIPp media needs mp..mp+3). Picked below the ephemeral range
    so that kernel-chosen ports (free_port) do not land in the block."""
    with _port_lock:
        rng = random.Random()
        for _ in range(300):
            base = rng.randrange(20000, 32000 - count)
            block = range(base, base + count)
            if any(p in _handed_out for p in block):
                continue
            if all(_can_bind(p) for p in block):
                _handed_out.update(block)
                return base
    raise RuntimeError("no free block of %d ports after 300 tries" % count)


def udp_port_bound(port):
    """True when some process has UDP 127.0.0.1:port (or 0.0.0.0:port) bound. Reads /proc, so it
    never races with the process that is about to bind."""
    want = {"0100007F:%04X" % port, "00000000:%04X" % port}
    try:
        with open("/proc/net/udp") as f:
            next(f)
            return any(line.split()[1] in want for line in f)
    except OSError:
        return False


def wait_until(predicate, timeout, interval=0.05):
    """Polls `predicate` until it returns a truthy value or `timeout` seconds pass. Returns the last
    value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# Config


def make_config(sip_port, api_port, routes=None, limits=None, timers=None, log_level="info"):
    """The config dict of one b2buad run. No `routes` key = pass-through."""
    cfg = {
        "sip": {"listen": "%s:%d" % (HOST, sip_port)},
        "api": {"listen": "%s:%d" % (HOST, api_port)},
        "limits": {"max_calls": 10000, "retry_after_s": 5},
        "timers": {"no_answer_ms": 60000, "sip_t1_ms": 500, "route_timeout_ms": 2000,
                   "drain_ms": 5000},
        "log": {"level": log_level},
        # Media relay on loopback, in a range apart from the SIPp ports free_port_block hands out
        # (20000-32000) and from the kernel's ephemeral ports; busy ports are skipped by the pool.
        "media": {"listen_ip": HOST, "ports": "61000-61999"},
    }
    cfg["limits"].update(limits or {})
    cfg["timers"].update(timers or {})
    if routes is not None:
        cfg["routes"] = routes
    return cfg


def write_config(path, cfg, comment=True):
    text = json.dumps(cfg, indent=2)
    if comment:  # the config format allows comments; keep one so that path stays tested
        text = "// written by tests/integration/harness.py\n" + text
    with open(path, "w") as f:
        f.write(text + "\n")
    return path


# ---------------------------------------------------------------------------------------------
# REST


def http_get(port, path, timeout=2.0, token=None):
    """GET http://127.0.0.1:port/path. Returns (status, body) where body is parsed JSON when it
    parses, else the text. (None, error text) when nothing answered."""
    return http_request(port, "GET", path, timeout=timeout, token=token)


def http_request(port, method, path, body=None, timeout=2.0, token=None, headers=None):
    """Any request; `body` (bytes, str, or an object sent as JSON). Returns (status, body) as
    http_get does."""
    url = "http://%s:%d%s" % (HOST, port, path)
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        return None, str(e)
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


# ---------------------------------------------------------------------------------------------
# b2buad


def tail(path, lines=60):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no %s)" % path


DEAD_NAMESERVER = "127.0.0.213"
_namespaces = None


def namespaces_work():
    """True when `unshare -m` and a bind mount work here (root on Linux: CI and developers)."""
    global _namespaces
    if _namespaces is None:
        try:
            _namespaces = subprocess.run(
                ["unshare", "-m", "sh", "-c", "mount --bind /dev/null /etc/resolv.conf"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                timeout=10).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _namespaces = False
    return _namespaces


class B2bua:
    """One b2buad process with its config, ports and captured output in `workdir`."""

    def __init__(self, workdir, routes=None, limits=None, timers=None, sip_port=None,
                 api_port=None, log_level="info", binary=None, token=None):
        self.workdir = workdir
        self.binary = binary or b2buad_path()
        self.sip_port = sip_port or free_port()
        self.api_port = api_port or free_port()
        self.config = make_config(self.sip_port, self.api_port, routes, limits, timers, log_level)
        self.token = token  # api.token: sent by get() and request()
        if token is not None:
            self.config["api"]["token"] = token
        self.config_path = os.path.join(workdir, "b2buad.json")
        self.stdout_path = os.path.join(workdir, "b2buad.stdout")
        self.stderr_path = os.path.join(workdir, "b2buad.stderr")
        self.proc = None
        self.returncode = None

    @property
    def address(self):
        return "%s:%d" % (HOST, self.sip_port)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def command(self):
        """b2buad's command line: in a mount namespace of its own whose /etc/resolv.conf names
        `DEAD_NAMESERVER` (loopback, nobody answers), so that no test sends a DNS query off this
        machine; the same PID (unshare and sh exec). Plain b2buad where namespaces are refused."""
        cmd = [self.binary, "--config", self.config_path]
        if not namespaces_work():
            return cmd
        resolv = os.path.join(self.workdir, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver %s\noptions timeout:1 attempts:1\n" % DEAD_NAMESERVER)
        return ["unshare", "-m", "sh", "-c",
                'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv] + cmd

    def start(self, timeout=10.0):
        """Starts b2buad and waits (bounded) until GET /health answers ok and its SIP port is bound."""
        write_config(self.config_path, self.config)
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.command(),
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         cwd=self.workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                raise RuntimeError("b2buad exited with %s while starting:\n%s" %
                                   (self.returncode, self.logs()))
            status, body = http_get(self.api_port, "/health", timeout=0.5)
            if status == 200 and isinstance(body, dict) and body.get("status") == "ok" \
                    and udp_port_bound(self.sip_port):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("b2buad not healthy after %.0f s:\n%s" % (timeout, self.logs()))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.running():
            os.kill(self.proc.pid, sig)

    def wait_exit(self, timeout):
        """Waits for the process to end; returns its exit status or None if still running."""
        if self.proc is None:
            return None
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self, timeout=8.0):
        """SIGTERM, then SIGKILL after `timeout` seconds. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait_exit(timeout) is None:
                self.proc.kill()
                self.wait_exit(5)
        self.returncode = self.proc.returncode
        return self.returncode

    def logs(self, lines=60):
        return "--- b2buad stderr (tail) ---\n%s\n--- b2buad stdout (tail) ---\n%s" % (
            tail(self.stderr_path, lines), tail(self.stdout_path, lines))

    # REST
    def get(self, path, timeout=2.0):
        return http_get(self.api_port, path, timeout, token=self.token)

    def request(self, method, path, body=None, timeout=2.0, **kwargs):
        kwargs.setdefault("token", self.token)
        return http_request(self.api_port, method, path, body, timeout, **kwargs)

    def stats(self):
        status, body = self.get("/v1/stats")
        if status != 200 or not isinstance(body, dict):
            raise AssertionError("GET /v1/stats -> %s %r" % (status, body))
        return body

    def wait_stats(self, predicate, timeout=10.0):
        """Polls /v1/stats until predicate(stats) holds; returns the last stats."""
        last = {}

        def check():
            nonlocal last
            try:
                last = self.stats()
            except AssertionError:
                return False
            return predicate(last)

        wait_until(check, timeout, interval=0.1)
        return last


# ---------------------------------------------------------------------------------------------
# SIPp


class SippResult:
    def __init__(self, name, rc, workdir, elapsed):
        self.name = name
        self.rc = rc
        self.workdir = workdir
        self.elapsed = elapsed
        self.screen = _read(self.path("screen"))
        self.errors = _read(self.path("errors"))
        self.log = _read(self.path("log"))
        self.successful = _counter(self.screen, "Successful call")
        self.failed = _counter(self.screen, "Failed call")

    def path(self, kind):
        return os.path.join(self.workdir, "%s.%s.txt" % (self.name, kind))

    def describe(self):
        return ("sipp %s: exit %s after %.1f s, successful=%s failed=%s\n--- errors ---\n%s\n"
                "--- log ---\n%s\n--- messages (tail) ---\n%s" % (
                    self.name, self.rc, self.elapsed, self.successful, self.failed,
                    self.errors.strip()[-3000:] or "(none)", self.log.strip()[-1500:] or "(none)",
                    tail(self.path("messages"), 40)))


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _counter(screen, label):
    """The cumulative column of a SIPp screen counter line, e.g. 'Successful call | 0 | 12'."""
    for line in screen.splitlines():
        if line.strip().startswith(label):
            nums = re.findall(r"\d+", line)
            if nums:
                return int(nums[-1])
    return None


class Sipp:
    """One SIPp process. uac: give `remote`; uas: no remote. Call `start()` then `wait()`, or `run()`.

    keys: -key name value pairs (scenario keywords such as ruser, b2bua).
    rsa: send every packet to this address while the Request-URI names `remote` (pass-through).
    local_ip: the address SIPp binds (another loopback address, e.g. 127.0.0.2, is another source).
    """

    def __init__(self, workdir, name, scenario_name, remote=None, service="bob", calls=1,
                 rate=None, limit=None, hold_ms=None, keys=None, rsa=None, timeout_s=30,
                 recv_timeout_ms=10000, trace_msg=True, extra=None, port=None, local_ip=None):
        self.workdir = workdir
        self.name = name
        self.port = port or free_port_block(1)
        self.media_port = free_port_block(4)
        self.timeout_s = timeout_s
        cmd = [sipp_binary(), "-sf", scenario(scenario_name)]
        if remote:
            cmd += [remote, "-s", service, "-cid_str", UAC_CALL_ID]
        cmd += ["-i", local_ip or HOST, "-p", str(self.port), "-mp", str(self.media_port),
                "-m", str(calls), "-nostdin", "-timeout", "%ds" % timeout_s, "-timeout_error",
                "-recv_timeout", str(recv_timeout_ms),
                "-trace_err", "-error_file", self._p("errors"),
                "-trace_screen", "-screen_file", self._p("screen"),
                "-trace_logs", "-log_file", self._p("log")]
        if trace_msg:
            cmd += ["-trace_msg", "-message_file", self._p("messages")]
        if rate is not None:
            cmd += ["-r", str(rate)]
        if limit is not None:
            cmd += ["-l", str(limit)]
        if hold_ms is not None:
            cmd += ["-d", str(hold_ms)]
        if rsa:
            cmd += ["-rsa", rsa]
        for k, v in (keys or {}).items():
            cmd += ["-key", k, str(v)]
        cmd += list(extra or [])
        self.cmd = cmd
        self.proc = None
        self.started = None
        self.result = None

    @property
    def address(self):
        return "%s:%d" % (HOST, self.port)

    def _p(self, kind):
        return os.path.join(self.workdir, "%s.%s.txt" % (self.name, kind))

    def start(self, wait_bound=True):
        with open(self._p("cmd"), "w") as f:
            f.write(" ".join(self.cmd) + "\n")
        out = open(self._p("stdout"), "wb")
        try:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, cwd=self.workdir)
        finally:
            out.close()
        self.started = time.monotonic()
        if wait_bound:
            ok = wait_until(lambda: udp_port_bound(self.port) or self.proc.poll() is not None, 5.0)
            if not ok or self.proc.poll() is not None:
                raise RuntimeError("sipp %s did not bind %d:\n%s" % (
                    self.name, self.port, tail(self._p("stdout"), 20)))
        return self

    def wait(self, timeout=None):
        """Waits for SIPp to end (bounded by its own -timeout plus a margin, then SIGKILL)."""
        if self.result:
            return self.result
        limit = timeout if timeout is not None else self.timeout_s + 15
        try:
            rc = self.proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = "killed after %.0f s" % limit
        self.result = SippResult(self.name, rc, self.workdir, time.monotonic() - self.started)
        return self.result

    def run(self, timeout=None):
        """Starts SIPp and waits for it to end; returns self (the outcome is in .result)."""
        self.start(wait_bound=False).wait(timeout)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


class UdpSink:
    """A SIP target that never answers: it swallows datagrams and counts the INVITEs."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.datagrams = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @property
    def address(self):
        return "%s:%d" % (HOST, self.port)

    def start(self):
        self._thread.start()
        return self

    def _loop(self):
        while not self._stop.is_set():
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                break
            self._keep(data)

    def _keep(self, data):
        self.datagrams.append((time.monotonic(), data.decode("utf-8", "replace")))

    def requests(self, method):
        return [d for _, d in self.datagrams if d.startswith(method + " ")]

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


# ---------------------------------------------------------------------------------------------
# Test case base


class B2buaTestCase(unittest.TestCase):
    """Gives each test a temp dir, helpers to start b2buad and SIPp, and after each test asserts
    that b2buad's active_calls is back to 0. On failure prints b2buad's log tail and SIPp's
    error files and keeps the temp dir."""

    idle_timeout = 10.0

    def setUp(self):
        if not os.access(b2buad_path(), os.X_OK):
            self.fail("b2buad binary not found or not executable: %s (set B2BUAD)" % b2buad_path())
        self.tmp = tempfile.mkdtemp(prefix="b2bua-it-%s-" % self._testMethodName)
        self.servers = []
        self.sipps = []
        self.sinks = []
        self.check_idle = True

    def tearDown(self):
        for s in self.sipps:
            s.kill()
            if s.proc is not None and s.result is None:
                s.wait(timeout=5)  # collects its files for the diagnostics
        for sink in self.sinks:
            sink.stop()
        try:
            if self.check_idle:
                for srv in self.servers:
                    if srv.running():
                        st = srv.wait_stats(lambda s: s.get("active_calls") == 0,
                                            self.idle_timeout)
                        self.assertEqual(st.get("active_calls"), 0,
                                         "active_calls not back to 0 after the test: %r" % st)
        finally:
            for srv in self.servers:
                srv.stop()

    def run(self, result=None):
        result = result if result is not None else self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        super().run(result)
        failed = len(result.failures) + len(result.errors) > before
        tmp = getattr(self, "tmp", None)
        if not tmp:
            return result
        if failed:
            self._print_diagnostics()
        if failed or os.environ.get("B2BUA_KEEP") == "1":
            sys.stderr.write("\n[harness] kept %s\n" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        return result

    def _print_diagnostics(self):
        out = ["", "=" * 30 + " diagnostics for %s " % self.id() + "=" * 30]
        for srv in getattr(self, "servers", []):
            out.append("b2buad pid=%s exit=%s sip=%s api=%d" % (
                srv.pid, srv.returncode, srv.address, srv.api_port))
            out.append(srv.logs(80))
        for s in getattr(self, "sipps", []):
            res = s.result or SippResult(s.name, None, s.workdir, 0)
            out.append(res.describe())
        sys.stderr.write("\n".join(out) + "\n")

    # helpers ---------------------------------------------------------------------------------
    def start_b2bua(self, **kwargs):
        srv = B2bua(self.tmp, **kwargs)
        self.servers.append(srv)
        return srv.start()

    def sipp(self, name, scenario_name, **kwargs):
        s = Sipp(self.tmp, name, scenario_name, **kwargs)
        self.sipps.append(s)
        return s

    def uas(self, srv, scenario_name="uas_answer", name="uas", ruser="bob", keys=None,
            **kwargs):
        """A SIPp callee, started and bound. keys ruser/b2bua are set for the checks in
        uas_answer*; ruser=None leaves them out."""
        k = {}
        if ruser is not None:
            k = {"ruser": ruser, "b2bua": srv.address}
        k.update(keys or {})
        return self.sipp(name, scenario_name, keys=k, **kwargs).start()

    def uac(self, srv, scenario_name, name="uac", callee=None, **kwargs):
        """A SIPp caller towards b2buad. With `callee` (pass-through), the Request-URI names the
        callee and the packets go to b2buad (-rsa)."""
        if callee is not None:
            return self.sipp(name, scenario_name, remote=callee.address, rsa=srv.address,
                             **kwargs)
        return self.sipp(name, scenario_name, remote=srv.address, **kwargs)

    def sink(self):
        s = UdpSink().start()
        self.sinks.append(s)
        return s

    def assertSipp(self, sipp_or_result, rc=0, successful=None, failed=None):
        res = sipp_or_result.wait() if isinstance(sipp_or_result, Sipp) else sipp_or_result
        self.assertEqual(res.rc, rc, "unexpected SIPp exit status\n" + res.describe())
        if successful is not None:
            self.assertEqual(res.successful, successful, res.describe())
        if failed is not None:
            self.assertEqual(res.failed, failed, res.describe())
        return res

    def assertDelta(self, before, after, **expected):
        """Asserts after[k] - before[k] == v for each counter k=v."""
        for key, want in expected.items():
            self.assertIn(key, after, "missing %s in stats %r" % (key, after))
            self.assertEqual(after[key] - before.get(key, 0), want,
                             "%s changed by %d, expected %d (before %r, after %r)" % (
                                 key, after[key] - before.get(key, 0), want, before, after))


def main():
    """Entry point for `python3 test_x.py [--b2buad PATH] [unittest args]`."""
    argv = list(sys.argv)
    if "--b2buad" in argv:
        i = argv.index("--b2buad")
        os.environ["B2BUAD"] = os.path.abspath(argv[i + 1])
        del argv[i:i + 2]
    unittest.main(module="__main__", argv=argv, verbosity=2)


# ---------------------------------------------------------------------------------------------
# Media helpers (test_media.py): config sections beyond make_config, SIPp message traces, pcap
# files, RTP port ranges.

def start_b2bua_with(case, sections, **kwargs):
    """Like B2buaTestCase.start_b2bua, with whole top-level config sections set on top of
    make_config (e.g. {"media": {...}}). The server is stopped and checked by case.tearDown."""
    srv = B2bua(case.tmp, **kwargs)
    for key, value in sections.items():
        srv.config[key] = value
    case.servers.append(srv)
    return srv.start()


def even_port_range(pairs):
    """(first, last): a free range of `pairs` RTP/RTCP port pairs on 127.0.0.1 whose first port is
    even, e.g. for media.ports "first-last"."""
    base = free_port_block(2 * pairs + 1)
    first = base + (base % 2)
    return first, first + 2 * pairs - 1


_TRACE_SEP = re.compile(
    rb"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\n"
    rb"(\w+) message (sent|received) (?:\[(\d+)\] bytes :|\((\d+) bytes\):)\n\n", re.M)


class TracedMessage:
    """One SIP message of a SIPp -trace_msg file."""

    def __init__(self, when, direction, raw):
        self.when = when            # seconds since the epoch (local time of the trace)
        self.direction = direction  # "sent" or "received"
        self.raw = raw              # the message exactly as on the wire (latin-1 text)
        head, _, self.body = raw.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.first_line = lines[0]
        self.headers = lines[1:]

    @property
    def method(self):
        """The request method, or None for a response."""
        return None if self.first_line.startswith("SIP/2.0") else self.first_line.split(" ")[0]

    @property
    def status(self):
        """The response status code, or None for a request."""
        if not self.first_line.startswith("SIP/2.0 "):
            return None
        return int(self.first_line.split(" ")[1])

    def header(self, name):
        """Values of every header `name` (case-insensitive, compact forms not mapped)."""
        want = name.lower()
        out = []
        for line in self.headers:
            key, sep, value = line.partition(":")
            if sep and key.strip().lower() == want:
                out.append(value.strip())
        return out

    @property
    def cseq_method(self):
        values = self.header("CSeq")
        return values[0].split()[-1] if values else None

    def __repr__(self):
        return "<%s %s>" % (self.direction, self.first_line)


def sipp_messages(path):
    """The messages of a SIPp -trace_msg file, in order, as TracedMessage."""
    import datetime
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    out = []
    for m in _TRACE_SEP.finditer(data):
        size = int(m.group(4) or m.group(5))
        raw = data[m.end():m.end() + size].decode("latin-1")
        stamp = m.group(1).decode()
        fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in stamp else "%Y-%m-%d %H:%M:%S"
        when = datetime.datetime.strptime(stamp, fmt).timestamp()
        out.append(TracedMessage(when, m.group(3).decode(), raw))
    return out


def pcap_udp_payloads(path):
    """The UDP payload sizes of the IPv4/IPv6 packets in a classic pcap file, in order.
    Link types: Ethernet (with 802.1Q), Linux cooked (SLL), raw IP, BSD loopback."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError("%s: not a classic pcap file (magic %r)" % (path, magic))
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    sizes = []
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:  # Ethernet
            ethertype, ip_off = struct.unpack("!H", pkt[12:14])[0], 14
            while ethertype in (0x8100, 0x88A8) and len(pkt) >= ip_off + 4:
                ethertype, ip_off = struct.unpack("!H", pkt[ip_off + 2:ip_off + 4])[0], ip_off + 4
        elif linktype == 113:  # Linux cooked capture
            ethertype, ip_off = struct.unpack("!H", pkt[14:16])[0], 16
        elif linktype in (101, 12, 228, 229):  # raw IP
            ethertype, ip_off = None, 0
        elif linktype == 0:  # BSD loopback: 4-byte family in host order
            ethertype, ip_off = None, 4
        else:
            raise ValueError("%s: unsupported pcap link type %d" % (path, linktype))
        ip = pkt[ip_off:]
        if not ip:
            continue
        version = ip[0] >> 4
        if version == 4 and ethertype in (None, 0x0800) and len(ip) >= 20:
            ihl, proto = (ip[0] & 0x0F) * 4, ip[9]
            udp = ip[ihl:]
        elif version == 6 and ethertype in (None, 0x86DD) and len(ip) >= 40:
            proto, udp = ip[6], ip[40:]  # no extension headers in RTP captures
        else:
            continue
        if proto == 17 and len(udp) >= 8:
            sizes.append(struct.unpack("!H", udp[4:6])[0] - 8)
    return sizes
