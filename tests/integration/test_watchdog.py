"""The SIP watchdog and the log's last words, on the real b2buad: a b2b-sofia thread frozen from
outside (ptrace) makes /health and /ready answer 503 sip_stalled and b2buad exit with status 70;
a line logged just before a kill -9 is in the output file."""

import ctypes
import os
import signal
import time

import harness

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
EXIT_STALLED = 70


def thread_id(pid, name):
    """The TID of the thread of `pid` named `name`, or None."""
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if f.read().strip() == name:
                    return int(tid)
        except OSError:
            pass
    return None


class ThreadFreezer:
    """Stops one thread of another process, and only that thread, with PTRACE_SEIZE and
    PTRACE_INTERRUPT (no signal is sent, so the rest of the process runs on)."""

    def __init__(self):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        self.libc.ptrace.restype = ctypes.c_long
        self.tid = None

    def freeze(self, tid):
        if self.libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
            return "PTRACE_SEIZE: %s" % os.strerror(ctypes.get_errno())
        self.tid = tid
        if self.libc.ptrace(PTRACE_INTERRUPT, tid, None, None) != 0:
            return "PTRACE_INTERRUPT: %s" % os.strerror(ctypes.get_errno())
        return None

    def reap(self):
        """Collects the frozen thread's ptrace reports (its stop, its exit): the process it belongs
        to cannot be reaped by its parent before the tracer has taken the thread's exit."""
        if self.tid is None:
            return
        for _ in range(50):
            try:
                pid, _ = os.waitpid(self.tid, os.WNOHANG | 0x40000000)  # __WALL
            except ChildProcessError:
                self.tid = None
                return
            if pid == 0:
                return

    def release(self):
        """Detaches if the thread still exists."""
        self.reap()
        if self.tid is not None:
            self.libc.ptrace(PTRACE_DETACH, self.tid, None, None)
            self.tid = None


class WatchdogTest(harness.B2buaTestCase):

    def start_with_watchdog(self, watchdog_ms):
        srv = harness.B2bua(self.tmp)
        srv.config["sip"]["watchdog_ms"] = watchdog_ms
        self.servers.append(srv)
        return srv.start()

    def test_frozen_sip_thread_gives_503_sip_stalled_then_exit_70(self):
        srv = self.start_with_watchdog(500)
        self.assertEqual(srv.get("/health")[0], 200)
        time.sleep(1.0)  # well past one watchdog period: heartbeats are flowing
        self.assertEqual(srv.get("/health")[0], 200, "a healthy SIP thread was taken for stalled")
        tid = thread_id(srv.pid, "b2b-sofia")
        self.assertIsNotNone(tid, "no b2b-sofia thread in /proc/%d/task" % srv.pid)
        freezer = ThreadFreezer()
        err = freezer.freeze(tid)
        if err and "Operation not permitted" in err:
            freezer.release()
            self.skipTest("ptrace is not permitted here: %s" % err)
        try:
            self.assertIsNone(err, err)
            frozen_at = time.monotonic()
            seen = {}
            deadline = frozen_at + 4.0
            while time.monotonic() < deadline and len(seen) < 2:
                for path in ("/health", "/ready"):
                    status, body = srv.get(path, timeout=0.5)
                    if status == 503 and path not in seen:
                        seen[path] = (time.monotonic() - frozen_at, body)
                time.sleep(0.02)
            self.assertEqual(set(seen), {"/health", "/ready"},
                             "no 503 from both probes within 4 s: %r\n%s" % (seen, srv.logs()))
            for path, (after, body) in seen.items():
                self.assertGreaterEqual(after, 0.45, "%s went 503 before watchdog_ms" % path)
                self.assertEqual(body["error"]["code"], "sip_stalled", body)
            rc = None
            deadline = time.monotonic() + 6.0
            while rc is None and time.monotonic() < deadline:
                freezer.reap()
                rc = srv.wait_exit(0.05)
            self.assertEqual(rc, EXIT_STALLED, "exit status %r\n%s" % (rc, srv.logs()))
            first_503 = min(after for after, _ in seen.values())
            self.assertGreaterEqual(time.monotonic() - frozen_at - first_503, 0.8,
                                    "exited without the grace that lets probes see the 503")
        finally:
            freezer.release()
        self.check_idle = False
        with open(srv.stderr_path, errors="replace") as f:
            log = f.read()
        self.assertIn("b2bua.sip.stalled: thread b2b-sofia has not turned its event loop", log)
        self.assertIn("b2bua.sip.stalled: new calls are refused", log)
        self.assertIn("b2buad: exiting with status 70", log)

    def test_watchdog_off_never_declares(self):
        srv = self.start_with_watchdog(0)
        time.sleep(0.5)
        self.assertEqual(srv.get("/health")[0], 200)
        self.assertEqual(srv.stop(), 0)
        with open(srv.stderr_path, errors="replace") as f:
            self.assertNotIn("b2bua.sip.stalled", f.read())

    def test_last_line_before_kill_9_is_in_the_output_file(self):
        srv = self.start_b2bua()
        # The log call runs before the HTTP answer is written: once the answer is here, the line
        # was handed to the logger, and only a buffer inside the process could still hold it.
        marker = "watchdog-test-%d" % os.getpid()
        status, body = srv.request("PUT", "/v1/routes",
                                   {"routes": [{"name": marker, "match": {"to": "*"},
                                                "targets": ["sip:127.0.0.1:9"]}]})
        self.assertEqual(status, 200, body)
        os.kill(srv.pid, signal.SIGKILL)
        self.assertEqual(srv.wait_exit(5.0), -signal.SIGKILL)
        self.check_idle = False
        with open(srv.stderr_path, errors="replace") as f:
            log = f.read()
        self.assertIn("b2bua.routes.replaced: 1 rule(s)", log,
                      "the last line before kill -9 is missing:\n" + log[-2000:])


if __name__ == "__main__":
    harness.main()
