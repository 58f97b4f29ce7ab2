"""Routing, load balancing, failover, breakers, queue, redirect, header policy and SIGHUP reload,
with real SIPp callers and several SIPp backends on their own ports."""
import json
import os
import signal
import subprocess
import time
import unittest

from harness import (B2buaTestCase, HOST, free_port_block, main, start_b2bua_with, wait_until,
                     write_config)

CALLER_KEYS = {"caller": "alice", "xfoo": "bar"}


def invites(sipp):
    """How many INVITEs a uas_backend* / uas_silent SIPp logged (one line per INVITE)."""
    path = sipp._p("log")
    try:
        with open(path, errors="replace") as f:
            return [line for line in f if "INVITE " in line and "from=" in line
                    or line.startswith("INVITE ruser=")]
    except OSError:
        return []


def schema_errors(body, schema_file):
    """Validates a JSON body against schemas/<schema_file> with Debian's python3-jsonschema
    (the python3 running the tests may be another one). Returns "" or the error."""
    schema = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "schemas",
                          schema_file)
    code = ("import json,sys,jsonschema\n"
            "s=json.load(open(sys.argv[1]))\n"
            "jsonschema.Draft202012Validator(s).validate(json.load(sys.stdin))\n")
    r = subprocess.run(["/usr/bin/python3", "-c", code, schema], input=json.dumps(body),
                       capture_output=True, text=True, timeout=30)
    return "" if r.returncode == 0 else (r.stderr.strip().splitlines() or ["?"])[-1]


def uri(port):
    return "sip:%s:%d" % (HOST, port)


class RoutingTest(B2buaTestCase):

    def backend(self, name, scenario="uas_backend", port=None):
        """A SIPp backend (answers OPTIONS too); -m large because probes count as calls."""
        return self.sipp(name, scenario, calls=100000, timeout_s=120, port=port).start()

    def start(self, groups, routes, timers=None, breaker=None, limits=None):
        sections = {"groups": groups}
        if breaker is not None:
            sections["breaker"] = breaker
        return start_b2bua_with(self, sections, routes=routes, timers=timers, limits=limits)

    def call(self, srv, name="uac", calls=1, rate=None, hold_ms=None, keys=None,
             scenario="uac_call", **kwargs):
        k = dict(CALLER_KEYS)
        k.update(keys or {})
        return self.uac(srv, scenario, name=name, calls=calls, rate=rate, hold_ms=hold_ms,
                        keys=k, **kwargs)

    def backends(self, srv):
        status, body = srv.get("/v1/backends")
        self.assertEqual(status, 200, body)
        return {b["uri"]: b for b in body["backends"]}

    def assertBackendsSchema(self, srv):
        status, body = srv.get("/v1/backends")
        self.assertEqual(status, 200, body)
        self.assertEqual(schema_errors(body, "backends.schema.json"), "", body)

    def wait_state(self, srv, target, state, timeout=10.0):
        ok = wait_until(lambda: self.backends(srv).get(target, {}).get("state") == state, timeout)
        self.assertTrue(ok, "%s never became %s: %r" % (target, state, self.backends(srv)))

    # -- load balancing -------------------------------------------------------------------------

    def test_round_robin_spreads_calls_evenly(self):
        b = [self.backend("b%d" % i) for i in range(3)]
        srv = self.start({"pbx": {"strategy": "round_robin",
                                  "targets": [uri(x.port) for x in b]}},
                         [{"name": "all", "group": "pbx"}])
        uac = self.call(srv, calls=30, rate=15, hold_ms=100).run()
        self.assertSipp(uac, successful=30, failed=0)
        counts = [len(invites(x)) for x in b]
        # Tolerance: round robin is exact per call; allow 2 either way for calls in flight.
        for c in counts:
            self.assertTrue(8 <= c <= 12, "uneven spread %r" % counts)
        self.assertEqual(sum(counts), 30, counts)
        st = self.backends(srv)
        self.assertTrue(all(st[uri(x.port)]["state"] == "closed" for x in b), st)

    def test_weighted_gives_each_backend_its_share(self):
        b = [self.backend("b%d" % i) for i in range(2)]
        srv = self.start({"pbx": {"strategy": "weighted",
                                  "targets": [{"uri": uri(b[0].port), "weight": 3},
                                              {"uri": uri(b[1].port), "weight": 1}]}},
                         [{"name": "all", "group": "pbx"}])
        self.assertSipp(self.call(srv, calls=20, rate=20, hold_ms=50).run(), successful=20)
        counts = [len(invites(x)) for x in b]
        self.assertEqual(counts, [15, 5], "weights 3:1 over 20 calls")

    # -- failover and breakers ------------------------------------------------------------------

    def test_backend_answering_503_fails_over_and_its_breaker_opens(self):
        bad = self.backend("bad", "uas_backend_503")
        good = self.backend("good")
        srv = self.start({"pbx": {"strategy": "round_robin",
                                  "targets": [uri(bad.port), uri(good.port)]}},
                         [{"name": "all", "group": "pbx"}],
                         breaker={"failure_threshold": 3, "cooldown_ms": 60000})
        uac = self.call(srv, calls=12, rate=10, hold_ms=50).run()
        self.assertSipp(uac, successful=12, failed=0)  # the caller never saw the 503s
        st = self.backends(srv)[uri(bad.port)]
        self.assertEqual(st["state"], "open", st)
        self.assertGreaterEqual(st["total_failures"], 3, st)
        self.assertBackendsSchema(srv)
        self.assertEqual(len(invites(bad)), 3, "calls kept going to the open backend")
        self.assertEqual(len(invites(good)), 12)

    def test_silent_backend_fails_over_after_the_failover_timeout(self):
        silent = self.sipp("silent", "uas_silent", calls=100000, timeout_s=120).start()
        good = self.backend("good")
        srv = self.start({"pbx": {"strategy": "round_robin",
                                  "targets": [uri(silent.port), uri(good.port)]}},
                         [{"name": "all", "group": "pbx"}],
                         timers={"failover_timeout_ms": 300},
                         breaker={"failure_threshold": 2, "cooldown_ms": 60000})
        uac = self.call(srv, calls=6, rate=4, hold_ms=50).run()
        self.assertSipp(uac, successful=6, failed=0)
        self.assertEqual(self.backends(srv)[uri(silent.port)]["state"], "open")
        self.assertLessEqual(len(invites(silent)), 2)
        self.assertEqual(len(invites(good)), 6)

    def test_backend_not_running_fails_over_and_probes_bring_it_back(self):
        dead_port = free_port_block(1)
        good = self.backend("good")
        srv = self.start({"pbx": {"strategy": "round_robin",
                                  "targets": [uri(dead_port), uri(good.port)],
                                  "probe": {"interval_ms": 200, "timeout_ms": 300}}},
                         [{"name": "all", "group": "pbx"}],
                         breaker={"failure_threshold": 2, "cooldown_ms": 1000})
        self.assertSipp(self.call(srv, calls=4, rate=10, hold_ms=50).run(), successful=4)
        self.wait_state(srv, uri(dead_port), "open", timeout=5)
        revived = self.backend("revived", port=dead_port)
        self.wait_state(srv, uri(dead_port), "closed", timeout=10)
        st = self.backends(srv)[uri(dead_port)]
        self.assertEqual(st["last_probe_status"], 200, st)
        self.assertIsNotNone(st["last_probe_latency_ms"], st)
        self.assertBackendsSchema(srv)
        self.assertSipp(self.call(srv, name="uac2", calls=6, rate=10, hold_ms=50).run(),
                        successful=6)
        self.assertGreaterEqual(len(invites(revived)), 2, "recovered backend got no calls")

    def test_all_backends_down_gives_503_at_once_while_open(self):
        p1, p2 = free_port_block(1), free_port_block(1)
        srv = self.start({"pbx": {"targets": [uri(p1), uri(p2)]}},
                         [{"name": "all", "group": "pbx"}],
                         timers={"failover_timeout_ms": 500},
                         breaker={"failure_threshold": 1, "cooldown_ms": 60000})
        first = self.call(srv, name="first", scenario="uac_expect_503_warning",
                          keys={"warning": "b2bua.backend.all_failed"}).run()
        self.assertSipp(first, successful=1)
        self.wait_state(srv, uri(p1), "open", timeout=3)
        self.wait_state(srv, uri(p2), "open", timeout=3)
        t0 = time.monotonic()
        second = self.call(srv, name="second", scenario="uac_expect_503_warning",
                           keys={"warning": "b2bua.backend.all_down"}).run()
        self.assertSipp(second, successful=1)
        self.assertLess(time.monotonic() - t0, 2.0, "503 was not immediate")

    def test_operator_disables_and_enables_a_backend_over_rest(self):
        b = [self.backend("b%d" % i) for i in range(2)]
        srv = self.start({"pbx": {"strategy": "round_robin",
                                  "targets": [uri(x.port) for x in b]}},
                         [{"name": "all", "group": "pbx"}])
        target = uri(b[0].port)
        status, body = srv.request("PUT", "/v1/backends/" + target, {"state": "disabled"})
        self.assertEqual(status, 202, body)
        self.wait_state(srv, target, "disabled", timeout=3)
        self.assertSipp(self.call(srv, calls=6, rate=20, hold_ms=50).run(), successful=6)
        self.assertEqual(len(invites(b[0])), 0, "a disabled backend got calls")
        self.assertEqual(len(invites(b[1])), 6)
        status, body = srv.request("PUT", "/v1/backends/" + target, {"state": "enabled"})
        self.assertEqual(status, 202, body)
        self.wait_state(srv, target, "closed", timeout=3)
        self.assertSipp(self.call(srv, name="uac2", calls=4, rate=20, hold_ms=50).run(),
                        successful=4)
        self.assertEqual(len(invites(b[0])), 2, "round robin did not come back to it")
        # Bad input: unknown backend, bad body, wrong method.
        self.assertEqual(srv.request("PUT", "/v1/backends/sip:192.0.2.1:5060",
                                     {"state": "disabled"})[0], 404)
        status, body = srv.request("PUT", "/v1/backends/" + target, {"state": "off"})
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"]["code"], "bad_request")
        self.assertEqual(srv.request("PUT", "/v1/backends/" + target, "{not json")[0], 400)
        self.assertEqual(srv.request("GET", "/v1/backends/" + target)[0], 405)

    # -- queue ----------------------------------------------------------------------------------

    def test_queue_serves_by_priority_and_times_out_with_503(self):
        b = self.backend("b")
        srv = self.start({"pbx": {"targets": [{"uri": uri(b.port), "max_calls": 1}]}},
                         [{"name": "vip", "match": {"from": "vip*"}, "action": "queue",
                           "group": "pbx", "queue": {"priority": 5, "timeout_ms": 8000}},
                          {"name": "impatient", "match": {"from": "hurry*"}, "action": "queue",
                           "group": "pbx", "queue": {"priority": 9, "timeout_ms": 300}},
                          {"name": "others", "action": "queue", "group": "pbx",
                           "queue": {"priority": 1, "timeout_ms": 8000}}])
        first = self.call(srv, name="first", hold_ms=1500, keys={"caller": "first"}).start()
        self.assertTrue(wait_until(lambda: len(invites(b)) == 1, 5))
        low = self.call(srv, name="low", hold_ms=100, keys={"caller": "low"}).start()
        time.sleep(0.2)
        vip = self.call(srv, name="vip", hold_ms=100, keys={"caller": "vip"}).start()
        hurry = self.call(srv, name="hurry", scenario="uac_expect_503_warning",
                          keys={"caller": "hurry", "warning": "b2bua.queue.timeout"}).run()
        self.assertSipp(hurry, successful=1)
        for s in (first, vip, low):
            self.assertSipp(s, successful=1)
        order = [line.split("from=")[1].split()[0] for line in invites(b)]
        self.assertEqual(order, ["first", "vip", "low"], "not served by priority")

    # -- redirect, header policy, reload --------------------------------------------------------

    def test_redirect_answers_302_with_the_contact(self):
        srv = start_b2bua_with(self, {}, routes=[
            {"name": "moved", "action": "redirect", "contact": "sip:bob@192.0.2.7:5070"}])
        uac = self.call(srv, scenario="uac_expect_302",
                        keys={"contact": "sip:bob@192.0.2.7:5070"}).run()
        self.assertSipp(uac, successful=1)

    def test_route_header_policy_and_header_match(self):
        tagged = self.backend("tagged")
        other = self.backend("other")
        srv = start_b2bua_with(self, {}, routes=[
            {"name": "foo", "match": {"headers": {"X-Foo": "b*"}}, "targets": [uri(tagged.port)],
             "headers": {"copy": ["X-*"], "remove": ["X-Secret"], "add": {"X-Tenant": "acme"}}},
            {"name": "rest", "targets": [uri(other.port)]}])
        self.assertSipp(self.call(srv, keys={"xfoo": "bar"}).run(), successful=1)
        self.assertSipp(self.call(srv, name="uac2", keys={"xfoo": "zzz"}).run(), successful=1)
        got = invites(tagged)
        self.assertEqual(len(got), 1, got)
        self.assertIn("x_tenant=acme x_foo=bar x_secret= ", got[0])
        self.assertEqual(len(invites(other)), 1)
        self.assertIn("x_tenant= x_foo= x_secret= ", invites(other)[0])

    def test_sighup_reload_routes_new_calls_by_the_new_rule(self):
        a = self.backend("a")
        b = self.backend("b")
        srv = start_b2bua_with(self, {}, routes=[{"name": "to-a", "targets": [uri(a.port)]}])
        long_call = self.call(srv, name="long", hold_ms=3000).start()
        self.assertTrue(wait_until(lambda: len(invites(a)) == 1, 5))
        srv.config["routes"] = [{"name": "to-b", "targets": [uri(b.port)]}]
        write_config(srv.config_path, srv.config)
        srv.signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: "reload: 1 route(s)" in srv.logs(200), 5))
        self.assertSipp(self.call(srv, name="after").run(), successful=1)
        self.assertEqual(len(invites(b)), 1)
        # A broken file is refused and the rules stay as they are.
        with open(srv.config_path, "w") as f:
            f.write('{"routes": [{"targets": ["not a uri"]}]}')
        srv.signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: "reload refused" in srv.logs(200), 5))
        self.assertSipp(self.call(srv, name="after2").run(), successful=1)
        self.assertEqual(len(invites(b)), 2)
        self.assertSipp(long_call, successful=1)  # the call set up before the reload lived on
        self.assertEqual(len(invites(a)), 1)


if __name__ == "__main__":
    main()
