"""The b2buad process: command line, start-up errors (exit 2, one line naming the key or address),
SIGTERM with a live call, and the REST API contract."""

import json
import os
import signal
import time
import socket
import subprocess

import harness


def run_b2buad(args, timeout=10):
    return subprocess.run([harness.b2buad_path()] + args, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


def stderr_lines(proc):
    return [l for l in proc.stderr.splitlines() if l.strip()]


class CommandLineTest(harness.B2buaTestCase):

    def test_help_exits_0(self):
        p = run_b2buad(["--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("--config", p.stdout + p.stderr)

    def test_version_exits_0(self):
        p = run_b2buad(["--version"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout + p.stderr, r"\d+\.\d+\.\d+")

    def assertStartupError(self, proc, needle):
        self.assertEqual(proc.returncode, 2, "exit status %s; stderr:\n%s" % (proc.returncode,
                                                                              proc.stderr))
        lines = stderr_lines(proc)
        self.assertEqual(len(lines), 1, "expected ONE line on stderr, got:\n%s" % proc.stderr)
        self.assertIn(needle, lines[0])

    def bad_config(self, section, key, value):
        cfg = harness.make_config(harness.free_port(), harness.free_port())
        cfg[section][key] = value
        path = harness.write_config(os.path.join(self.tmp, "bad.json"), cfg)
        return run_b2buad(["--config", path])

    def test_bad_config_exits_2_naming_the_key(self):
        cases = [("limits", "max_calls", -1, "limits.max_calls"),
                 ("limits", "max_calls", "many", "limits.max_calls"),
                 ("timers", "sip_t1_ms", "fast", "timers.sip_t1_ms"),
                 ("sip", "listen", "not an address", "sip.listen"),
                 ("log", "level", "loud", "log.level")]
        for section, key, value, needle in cases:
            with self.subTest(key=needle, value=value):
                self.assertStartupError(self.bad_config(section, key, value), needle)

    def test_bad_route_exits_2_naming_the_key(self):
        cfg = harness.make_config(harness.free_port(), harness.free_port(),
                                  routes=[{"name": "x", "match": {"to": "*"}, "action": "dance"}])
        path = harness.write_config(os.path.join(self.tmp, "bad.json"), cfg)
        self.assertStartupError(run_b2buad(["--config", path]), "routes")

    def test_malformed_json_exits_2(self):
        path = os.path.join(self.tmp, "broken.json")
        with open(path, "w") as f:
            f.write('{ "sip": { "listen": "127.0.0.1:5070" ')
        p = run_b2buad(["--config", path])
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(len(stderr_lines(p)), 1, p.stderr)

    def test_missing_config_file_exits_2(self):
        path = os.path.join(self.tmp, "does-not-exist.json")
        p = run_b2buad(["--config", path])
        self.assertStartupError(p, "does-not-exist.json")

    def test_sip_port_in_use_exits_2_naming_the_address(self):
        busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        try:
            srv = harness.B2bua(self.tmp, sip_port=port)
            harness.write_config(srv.config_path, srv.config)
            p = run_b2buad(["--config", srv.config_path])
        finally:
            busy.close()
        self.assertStartupError(p, "127.0.0.1:%d" % port)

    def test_api_port_in_use_exits_2_naming_the_address(self):
        busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        try:
            srv = harness.B2bua(self.tmp, api_port=port)
            harness.write_config(srv.config_path, srv.config)
            p = run_b2buad(["--config", srv.config_path])
        finally:
            busy.close()
        self.assertStartupError(p, "127.0.0.1:%d" % port)


class SigtermTest(harness.B2buaTestCase):

    def test_sigterm_ends_answered_call_with_bye_both_ways_and_exits_0(self):
        srv = self.start_b2bua(timers={"drain_ms": 3000})
        uas = self.uas(srv, "uas_answer")  # waits for a BYE after the ACK
        uac = self.uac(srv, "uac_callee_hangup", callee=uas).start(wait_bound=False)
        st = srv.wait_stats(lambda s: s["active_calls"] == 1 and s["answered_calls"] == 1, 5)
        self.assertEqual(st.get("answered_calls"), 1, "the call was not answered: %r" % st)
        srv.signal(signal.SIGTERM)
        rc = srv.wait_exit(10)
        self.assertEqual(rc, 0, "b2buad did not exit 0 within 10 s after SIGTERM")
        self.assertSipp(uac, successful=1)  # got BYE, answered 200
        self.assertSipp(uas, successful=1)  # got BYE, answered 200
        self.check_idle = False  # the server is gone; its counters cannot be read any more

    def test_sigterm_with_calls_outliving_the_drain_still_exits(self):
        """drain_ms 0: the calls are still up when the actors stop; b2buad must not wait for
        them forever (NUA ends them, and leg actors stop with the transport)."""
        srv = self.start_b2bua(timers={"drain_ms": 0})
        uas = self.uas(srv, "uas_answer")
        uac = self.uac(srv, "uac_basic", callee=uas, calls=3, rate=50, hold_ms=20000).start(
            wait_bound=False)
        st = srv.wait_stats(lambda s: s["active_calls"] == 3, 10)
        self.assertEqual(st["active_calls"], 3)
        t0 = time.monotonic()
        srv.signal(signal.SIGTERM)
        self.assertEqual(srv.wait_exit(10), 0)
        self.assertLess(time.monotonic() - t0, 10)
        uac.kill()
        self.check_idle = False

    def test_sigterm_when_idle_exits_0(self):
        srv = self.start_b2bua()
        srv.signal(signal.SIGTERM)
        self.assertEqual(srv.wait_exit(10), 0)
        self.check_idle = False


class RestTest(harness.B2buaTestCase):

    def test_health(self):
        srv = self.start_b2bua()
        status, body = srv.get("/health")
        self.assertEqual(status, 200)
        self.assertEqual(body, {"status": "ok"})

    def test_stats_fields(self):
        srv = self.start_b2bua()
        st = srv.stats()
        for key in ("active_calls", "total_calls", "answered_calls", "failed_calls",
                    "cancelled_calls"):
            self.assertIn(key, st)
            self.assertIsInstance(st[key], int, key)
            self.assertNotIsInstance(st[key], bool, key)
            self.assertEqual(st[key], 0, key)
        self.assertIn("uptime_s", st)
        self.assertIsInstance(st["uptime_s"], (int, float))
        self.assertGreaterEqual(st["uptime_s"], 0)

    def assertErrorBody(self, body):
        self.assertIsInstance(body, dict, body)
        self.assertIn("error", body)
        for key in ("code", "message", "details"):
            self.assertIn(key, body["error"], body)

    def test_calls_lists_live_call_with_two_legs(self):
        srv = self.start_b2bua()
        status, body = srv.get("/v1/calls")
        self.assertEqual(status, 200)
        self.assertEqual(body, {"calls": [], "count": 0, "total": 0, "limit": 100, "offset": 0})

        uas = self.uas(srv, "uas_answer")
        uac = self.uac(srv, "uac_basic", callee=uas, hold_ms=2500).start(wait_bound=False)
        srv.wait_stats(lambda s: s["answered_calls"] == 1, 5)
        status, body = srv.get("/v1/calls")
        self.assertEqual(status, 200, body)
        self.assertEqual(body.get("count"), 1, body)
        self.assertEqual(len(body["calls"]), 1, body)
        call = body["calls"][0]
        for key in ("id", "from", "to", "state", "start_time", "legs"):
            self.assertIn(key, call)
        self.assertIsInstance(call["id"], int)
        self.assertIn("alice", call["from"])
        self.assertIn("bob", call["to"])
        legs = call["legs"]
        self.assertEqual(len(legs), 2, legs)
        self.assertEqual(sorted(l["role"] for l in legs), ["a", "b"])
        for leg in legs:
            for key in ("id", "role", "state", "call_id"):
                self.assertIn(key, leg)
        a = [l for l in legs if l["role"] == "a"][0]
        b = [l for l in legs if l["role"] == "b"][0]
        self.assertIn("uac-marker", a["call_id"])
        self.assertNotIn("uac-marker", b["call_id"])

        status, one = srv.get("/v1/calls/%d" % call["id"])
        self.assertEqual(status, 200, one)
        self.assertEqual(one.get("id"), call["id"])
        self.assertEqual(len(one.get("legs", [])), 2, one)

        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)
        srv.wait_stats(lambda s: s["active_calls"] == 0)
        status, body = srv.get("/v1/calls")
        self.assertEqual(body.get("count"), 0, body)
        status, gone = srv.get("/v1/calls/%d" % call["id"])
        self.assertEqual(status, 404, gone)
        self.assertErrorBody(gone)

    def test_unknown_path_404_json(self):
        srv = self.start_b2bua()
        for path in ("/nope", "/v1/nothing", "/v1/calls/1/extra"):
            with self.subTest(path=path):
                status, body = srv.get(path)
                self.assertEqual(status, 404, body)
                self.assertErrorBody(body)

    def test_bad_call_id_400(self):
        srv = self.start_b2bua()
        for bad in ("abc", "-1", "1x", "99999999999999999999999"):
            with self.subTest(id=bad):
                status, body = srv.get("/v1/calls/" + bad)
                self.assertEqual(status, 400, body)
                self.assertErrorBody(body)

    def test_unknown_call_id_404(self):
        srv = self.start_b2bua()
        status, body = srv.get("/v1/calls/424242")
        self.assertEqual(status, 404, body)
        self.assertErrorBody(body)


if __name__ == "__main__":
    harness.main()
