"""The management API against the real b2buad: every endpoint's success answer validated against its
schema, unknown ids (404), bad input (400, 413), the bearer token (401), DELETE /v1/calls/{id} on
a ringing and on an answered SIPp call, PUT /v1/routes (also under load), and /metrics parsed as
Prometheus text."""

import re

import harness
import schemas

TOKEN = "t0ken-for-tests"

# (method, path) of every protected endpoint, with a path that exists.
PROTECTED = [("GET", "/metrics"), ("GET", "/v1"), ("GET", "/v1/stats"), ("GET", "/v1/calls"),
             ("GET", "/v1/calls/1"), ("DELETE", "/v1/calls/1"), ("GET", "/v1/backends"),
             ("GET", "/v1/routes"), ("PUT", "/v1/routes"), ("GET", "/v1/cdrs"),
             ("GET", "/v1/cdrs/1")]


def route_all(target, name="all", pattern="*"):
    return {"name": name, "match": {"to": pattern}, "action": "route", "targets": [target]}


class ApiCase(harness.B2buaTestCase):

    def start(self, **kwargs):
        kwargs.setdefault("token", TOKEN)
        srv = harness.B2bua(self.tmp, **kwargs)
        self.servers.append(srv)
        return srv.start()

    def assertValid(self, body, schema):
        errs = schemas.errors(body, schema)
        self.assertEqual(errs, [], "%s does not match %s.schema.json: %r" % (body, schema, errs))

    def assertError(self, answer, status, code):
        got, body = answer
        self.assertEqual(got, status, body)
        self.assertValid(body, "error")
        self.assertEqual(body["error"]["code"], code, body)
        return body


class EndpointTest(ApiCase):

    def test_every_endpoint_answers_its_schema(self):
        srv = self.start()
        self.assertEqual(srv.get("/health"), (200, {"status": "ok"}))
        self.assertEqual(srv.get("/ready"), (200, {"status": "ready"}))
        for path, schema in (("/v1/stats", "stats"), ("/v1/calls", "calls"),
                             ("/v1/backends", "backends"), ("/v1/routes", "routes"),
                             ("/v1/cdrs", "cdrs")):
            with self.subTest(path=path):
                status, body = srv.get(path)
                self.assertEqual(status, 200, body)
                self.assertValid(body, schema)
        self.assertEqual(srv.get("/v1/backends")[1], {"backends": []})
        status, doc = srv.get("/v1")
        self.assertEqual(status, 200)
        on_disk, refs = schemas.openapi_refs()
        self.assertEqual(doc, on_disk, "GET /v1 is not schemas/openapi.json")
        for method, path in PROTECTED + [("GET", "/health"), ("GET", "/ready")]:
            template = re.sub(r"/1$", "/{id}", path)
            self.assertIn(method.lower(), doc["paths"].get(template, {}),
                          "%s %s is not documented in openapi.json" % (method, template))
        for ref in set(refs):
            self.assertIn(ref.split("#")[0], schemas._store, "dangling $ref %s" % ref)
        status, text = srv.get("/metrics")
        self.assertEqual(status, 200)
        self.assertIn("b2bua_calls_total 0", text)

    def test_missing_or_wrong_token_is_401_on_every_protected_endpoint(self):
        srv = self.start()
        for method, path in PROTECTED:
            for token in (None, "wrong", TOKEN + "x", ""):
                with self.subTest(method=method, path=path, token=token):
                    body = {"routes": []} if method == "PUT" else None
                    self.assertError(srv.request(method, path, body, token=token), 401,
                                     "unauthorized")
        for path in ("/health", "/ready"):  # probes need no token
            self.assertEqual(harness.http_get(srv.api_port, path)[0], 200)

    def test_without_a_configured_token_no_header_is_needed(self):
        srv = self.start(token=None)
        self.assertEqual(srv.get("/v1/stats")[0], 200)
        self.assertEqual(srv.get("/metrics")[0], 200)

    def test_unknown_ids_are_404(self):
        srv = self.start()
        self.assertError(srv.get("/v1/calls/424242"), 404, "call_not_found")
        self.assertError(srv.request("DELETE", "/v1/calls/424242"), 404, "call_not_found")
        self.assertError(srv.get("/v1/cdrs/424242"), 404, "cdr_not_found")
        self.assertError(srv.get("/v1/nothing"), 404, "not_found")

    def test_bad_input_is_400_with_the_parameter_named(self):
        srv = self.start()
        for path in ("/v1/calls/abc", "/v1/calls/0", "/v1/cdrs/-1", "/v1/cdrs/x1"):
            with self.subTest(path=path):
                self.assertError(srv.get(path), 400, "bad_id")
        self.assertError(srv.request("DELETE", "/v1/calls/1x"), 400, "bad_id")
        for query, param in (("/v1/calls?limit=0", "limit"), ("/v1/calls?offset=-1", "offset"),
                             ("/v1/calls?colour=red", "colour"), ("/v1/cdrs?limit=1001", "limit"),
                             ("/v1/cdrs?since=yesterday", "since"),
                             ("/v1/cdrs?until=2026-13-01T00:00:00Z", "until")):
            with self.subTest(query=query):
                body = self.assertError(srv.get(query), 400, "bad_query")
                self.assertEqual(body["error"]["details"]["parameter"], param)
        self.assertError(srv.get("/v1/cdrs?from=%zz"), 400, "bad_query")

    def test_put_routes_rejects_bad_bodies_naming_the_rule_and_field(self):
        srv = self.start()
        before = srv.get("/v1/routes")[1]
        self.assertError(srv.request("PUT", "/v1/routes", '{"routes": ['), 400, "bad_json")
        self.assertError(srv.request("PUT", "/v1/routes", [1, 2]), 400, "bad_request")
        self.assertError(srv.request("PUT", "/v1/routes", {"rules": []}), 400, "bad_request")
        bad = {"routes": [route_all("sip:127.0.0.1:5080"),
                          {"name": "x", "match": {"from": 7}, "targets": ["sip:h"]}]}
        body = self.assertError(srv.request("PUT", "/v1/routes", bad), 400, "bad_routes")
        self.assertEqual(body["error"]["details"],
                         {"path": "routes[1].match.from", "rule": "must be a string"})
        bad = {"routes": [{"name": "y", "action": "reject", "status": 99}]}
        body = self.assertError(srv.request("PUT", "/v1/routes", bad), 400, "bad_routes")
        self.assertEqual(body["error"]["details"]["path"], "routes[0].status")
        self.assertEqual(srv.get("/v1/routes")[1], before, "a rejected PUT changed the routes")

    def test_bodies_over_the_limit_are_413(self):
        srv = self.start()
        huge = {"routes": [route_all("sip:127.0.0.1:5080", name="r%d" % i)
                           for i in range(1500)]}
        self.assertError(srv.request("PUT", "/v1/routes", huge, timeout=5), 413, "too_large")
        self.assertEqual(srv.get("/health")[0], 200)


class RoutesTest(ApiCase):

    def test_put_routes_takes_effect_for_the_next_call(self):
        srv = self.start(routes=[{"name": "deny", "match": {"to": "*"}, "action": "reject",
                                  "status": 403}])
        uac = self.uac(srv, "uac_expect_403", name="uac-denied").run()
        self.assertSipp(uac, successful=1)
        uas = self.uas(srv, "uas_answer")
        new = {"routes": [route_all("sip:%s" % uas.address, name="open")]}
        status, body = srv.request("PUT", "/v1/routes", new)
        self.assertEqual(status, 200, body)
        self.assertValid(body, "routes")
        self.assertEqual(body, new)
        self.assertEqual(srv.get("/v1/routes")[1], new)
        uac2 = self.uac(srv, "uac_basic", name="uac-open").run()
        self.assertSipp(uac2, successful=1)
        self.assertSipp(uas, successful=1)

    def test_put_routes_during_load_fails_no_call(self):
        calls = 150
        uas_port = harness.free_port_block(1)
        target = "sip:127.0.0.1:%d" % uas_port
        set_a = {"routes": [route_all(target, name="a", pattern="bob")]}
        set_b = {"routes": [{"name": "never", "match": {"to": "nobody*"}, "action": "reject",
                             "status": 403}, route_all(target, name="b")]}
        srv = self.start(routes=set_a["routes"])
        uas = self.uas(srv, "uas_answer", port=uas_port, calls=calls, timeout_s=60)
        uac = self.uac(srv, "uac_basic", calls=calls, rate=50, limit=30, timeout_s=60).start(
            wait_bound=False)
        puts = 0
        while uac.running() and puts < 200:
            status, body = srv.request("PUT", "/v1/routes", set_b if puts % 2 == 0 else set_a)
            self.assertEqual(status, 200, body)
            puts += 1
            harness.time.sleep(0.02)
        self.assertSipp(uac, successful=calls, failed=0)
        self.assertSipp(uas, successful=calls)
        self.assertGreater(puts, 10, "the load ended before the routes were swapped a few times")
        st = srv.wait_stats(lambda s: s["active_calls"] == 0)
        self.assertEqual(st["answered_calls"], calls)
        self.assertEqual(st["failed_calls"], 0)
        status, page = srv.get("/v1/cdrs?limit=1000")
        routes = {r["route"] for r in page["cdrs"]}
        self.assertEqual(routes, {"a", "b"}, "both rule sets should have routed calls")


class DeleteCallTest(ApiCase):

    def live_call(self, srv, state):
        def find():
            status, body = srv.get("/v1/calls?state=" + state)
            return body["calls"][0] if status == 200 and body["count"] == 1 else None
        call = harness.wait_until(find, 5)
        self.assertIsNotNone(call, "no %s call: %r" % (state, srv.get("/v1/calls")))
        return call

    def test_delete_ringing_call_cancels_the_callee_and_answers_480(self):
        srv = self.start()
        uas = self.uas(srv, "uas_ring_forever", ruser=None)  # asserts the CANCEL, sends 487
        uac = self.uac(srv, "uac_expect_480_hangup", callee=uas).start(wait_bound=False)
        call = self.live_call(srv, "ringing")
        status, body = srv.request("DELETE", "/v1/calls/%d" % call["id"], timeout=12)
        self.assertEqual(status, 200, body)
        self.assertValid(body, "call")
        self.assertEqual(body["id"], call["id"])
        self.assertEqual(body["state"], "ended")
        self.assertEqual(body["end_reason"], "operator_hangup")
        self.assertEqual(body["final_status"], 480)
        self.assertEqual([l["state"] for l in body["legs"]], ["ended", "ended"])
        for leg in body["legs"]:
            self.assertIsNotNone(leg["ringing_time"], leg)  # the 180 came and was relayed
            self.assertGreaterEqual(leg["ringing_time"], leg["created_time"])
            self.assertGreaterEqual(leg["ended_time"], leg["ringing_time"])
        self.assertSipp(uac, successful=1)  # 480 with Warning b2bua.call.hangup
        self.assertSipp(uas, successful=1)  # CANCEL received
        self.assertError(srv.get("/v1/calls/%d" % call["id"]), 404, "call_not_found")

    def test_delete_answered_call_sends_bye_both_ways(self):
        srv = self.start()
        uas = self.uas(srv, "uas_answer")                       # waits for a BYE after the ACK
        uac = self.uac(srv, "uac_callee_hangup", callee=uas).start(wait_bound=False)  # as well
        call = self.live_call(srv, "answered")
        status, body = srv.request("DELETE", "/v1/calls/%d" % call["id"], timeout=12)
        self.assertEqual(status, 200, body)
        self.assertValid(body, "call")
        self.assertEqual(body["end_reason"], "operator_hangup")
        self.assertEqual(body["final_status"], 200)
        self.assertIsNotNone(body["end_time"])
        a, b = body["legs"]
        self.assertIn("SIPpTag00", a["remote_tag"])  # the caller's From tag
        self.assertTrue(a["local_tag"])              # our To tag towards the caller
        self.assertIn("SIPpTag01", b["remote_tag"])  # the callee's To tag
        self.assertTrue(b["local_tag"])              # our From tag towards the callee
        self.assertNotEqual(a["local_tag"], b["local_tag"])
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)
        cdr = harness.wait_until(lambda: srv.get("/v1/cdrs")[1]["cdrs"], 3)
        self.assertEqual(len(cdr), 1)
        self.assertEqual(cdr[0]["hangup_by"], "operator")
        self.assertEqual(cdr[0]["call"], call["id"])


class MetricsTest(ApiCase):

    def test_metrics_parse_as_prometheus_text_with_house_names(self):
        from prometheus_client.parser import text_string_to_metric_families
        uas_port = harness.free_port_block(1)
        target = "sip:127.0.0.1:%d" % uas_port
        srv = self.start(routes=[route_all(target)])
        uas = self.uas(srv, "uas_answer", port=uas_port, calls=2)
        uac = self.uac(srv, "uac_basic", calls=2, rate=10).run()
        self.assertSipp(uac, successful=2)
        srv.wait_stats(lambda s: s["active_calls"] == 0)
        harness.wait_until(lambda: srv.get("/v1/cdrs")[1].get("total") == 2, 3)
        status, text = srv.get("/metrics")
        self.assertEqual(status, 200)
        check_exposition(self, text)
        families = {f.name: f for f in text_string_to_metric_families(text)}
        for f in families.values():
            self.assertRegex(f.name, r"^b2bua_[a-z0-9_]+$")
        def value(name, **labels):
            for s in (x for f in families.values() for x in f.samples):
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    return s.value
            self.fail("no sample %s%r" % (name, labels))
        self.assertEqual(families["b2bua_calls"].type, "counter")
        self.assertEqual(value("b2bua_calls_total"), 2)
        self.assertEqual(value("b2bua_calls_answered_total"), 2)
        self.assertEqual(value("b2bua_calls_active"), 0)
        self.assertEqual(value("b2bua_sip_requests_total", method="INVITE"), 2)
        self.assertEqual(value("b2bua_sip_requests_total", method="BYE"), 2)
        self.assertGreaterEqual(value("b2bua_sip_requests_total", method="ACK"), 2)
        self.assertEqual(value("b2bua_sip_responses_total", code="200"), 2)
        self.assertGreaterEqual(value("b2bua_sip_responses_received_total", code="200"), 2)
        self.assertEqual(families["b2bua_call_setup_seconds"].type, "histogram")
        self.assertEqual(value("b2bua_call_setup_seconds_count"), 2)
        self.assertEqual(value("b2bua_call_duration_seconds_count"), 2)
        self.assertEqual(value("b2bua_call_ended_total", by="caller"), 2)
        self.assertGreater(value("b2bua_process_resident_memory_bytes"), 1e6)
        self.assertIn("b2bua_rtp_packets", families)
        self.assertEqual(value("b2bua_backend_state", backend=target), 0)  # closed
        self.assertEqual(value("b2bua_backend_active_calls", backend=target), 0)
        self.assertEqual(value("b2bua_cdr_written_total"), 2)


def check_exposition(case, text):
    """A strict reading of the text format: HELP and TYPE once before a family's samples, sample
    lines well formed, counters' samples end in _total, histogram buckets cumulative with +Inf
    equal to _count."""
    label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*"'
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{%s(?:,%s)*\})? (?P<value>\S+)$'
                        % (label, label))
    types, helps, seen = {}, set(), set()
    buckets = {}
    case.assertTrue(text.endswith("\n"))
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            case.assertNotIn(name, helps, "HELP twice for " + name)
            helps.add(name)
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            case.assertNotIn(name, types, "TYPE twice for " + name)
            case.assertIn(kind, ("counter", "gauge", "histogram"))
            case.assertNotIn(name, seen, "TYPE after samples of " + name)
            types[name] = kind
        else:
            m = sample.match(line)
            case.assertIsNotNone(m, "malformed sample line: %r" % line)
            name, value = m.group(1), float(m.group("value"))
            family = re.sub(r"_(bucket|sum|count)$", "", name) if re.sub(
                r"_(bucket|sum|count)$", "", name) in types else name
            case.assertIn(family, types, "sample before its TYPE: " + line)
            seen.add(family)
            if types[family] == "counter":
                case.assertTrue(name.endswith("_total"), "counter without _total: " + name)
            if types[family] == "gauge":
                case.assertFalse(name.endswith("_total"), "gauge named _total: " + name)
            if name.endswith("_bucket"):
                buckets.setdefault(family, []).append(value)
            if types[family] == "histogram" and name.endswith("_count"):
                b = buckets.get(family, [])
                case.assertEqual(b, sorted(b), "buckets not cumulative in " + family)
                case.assertEqual(b[-1], value, "+Inf bucket != _count in " + family)


if __name__ == "__main__":
    harness.main()
