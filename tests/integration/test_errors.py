"""Errors b2buad generates itself (each with its Warning id), routing rules, and the SIP checks:
no route 404, route reject 403, max_calls 503, unknown dialog 481, OPTIONS, Max-Forwards, loops."""

import harness


def route_all(target, name="all", pattern="*"):
    return {"name": name, "match": {"to": pattern}, "action": "route", "targets": [target]}


def route_reject(pattern, status=403, reason="Forbidden", name="deny"):
    return {"name": name, "match": {"to": pattern}, "action": "reject", "status": status,
            "reason": reason}


class ErrorsTest(harness.B2buaTestCase):

    def test_no_route_matches_404_with_warning(self):
        srv = self.start_b2bua(routes=[route_all("sip:127.0.0.1:9", name="only-777",
                                                 pattern="777*")])
        before = srv.stats()
        uac = self.uac(srv, "uac_expect_404", service="bob").run()
        self.assertSipp(uac, successful=1)  # 404 + Warning b2bua.route.no_match
        after = srv.wait_stats(lambda s: s["active_calls"] == 0)
        self.assertLessEqual(after["total_calls"] - before["total_calls"], 1)
        self.assertEqual(after["answered_calls"], before["answered_calls"])

    def test_route_reject_403_with_warning(self):
        sink = self.sink()  # the route after the reject rule: must never be called
        srv = self.start_b2bua(routes=[route_reject("666*"),
                                       route_all("sip:127.0.0.1:%d" % sink.port)])
        uac = self.uac(srv, "uac_expect_403", service="666123").run()
        self.assertSipp(uac, successful=1)  # 403 Forbidden + Warning b2bua.route.rejected
        self.assertEqual(sink.requests("INVITE"), [], "a rejected call was forwarded")

    def test_first_matching_rule_wins_and_sip_uri_patterns(self):
        """`sip:` patterns match the URI; the first matching rule decides."""
        uas_port = harness.free_port_block(1)
        srv = self.start_b2bua(routes=[
            route_all("sip:127.0.0.1:%d" % uas_port, name="dave-uri", pattern="sip:dave@*"),
            route_reject("*", status=403, reason="Forbidden", name="rest")])
        uas = self.uas(srv, "uas_answer", ruser="dave", port=uas_port)
        uac = self.uac(srv, "uac_basic", service="dave").run()
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)
        uac2 = self.uac(srv, "uac_expect_403", name="uac-other", service="erin").run()
        self.assertSipp(uac2, successful=1)

    def test_over_max_calls_503_with_retry_after(self):
        srv = self.start_b2bua(limits={"max_calls": 1, "retry_after_s": 7})
        uas = self.uas(srv, "uas_answer")
        held = self.uac(srv, "uac_basic", name="uac-held", callee=uas, hold_ms=3000).start(
            wait_bound=False)
        st = srv.wait_stats(lambda s: s["active_calls"] == 1 and s["answered_calls"] >= 1, 5)
        self.assertEqual(st.get("active_calls"), 1, "the first call was not up: %r" % st)
        over = self.uac(srv, "uac_expect_503", name="uac-over", callee=uas).run()
        self.assertSipp(over, successful=1)  # 503 + Retry-After + Warning b2bua.limits.max_calls
        self.assertIn("Retry-After: 7", open(over.result.path("messages")).read())
        self.assertSipp(held, successful=1)
        self.assertSipp(uas, successful=1)  # the callee saw only the first call

    def test_unknown_dialog_481(self):
        srv = self.start_b2bua()
        uac = self.uac(srv, "uac_unknown_dialog").run()
        self.assertSipp(uac, successful=1)

    def test_options_answered_200(self):
        srv = self.start_b2bua()
        before = srv.stats()
        uac = self.uac(srv, "uac_options").run()
        self.assertSipp(uac, successful=1)
        self.assertEqual(srv.stats()["total_calls"], before["total_calls"],
                         "OPTIONS counted as a call")

    def test_max_forwards_zero_483(self):
        srv = self.start_b2bua()
        sink = self.sink()
        uac = self.uac(srv, "uac_max_forwards_zero", callee=sink).run()
        self.assertSipp(uac, successful=1)  # 483 + Warning b2bua.sip.too_many_hops
        self.assertEqual(sink.requests("INVITE"), [], "an INVITE with Max-Forwards 0 was forwarded")

    def test_max_forwards_decremented_across_the_bridge(self):
        srv = self.start_b2bua()
        uas = self.uas(srv, "uas_answer_mf4")  # checks Max-Forwards: 4
        uac = self.uac(srv, "uac_max_forwards_5", callee=uas).run()  # sends 5
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)

    def test_call_routed_to_itself_482_not_looped(self):
        sip_port = harness.free_port()
        srv = self.start_b2bua(sip_port=sip_port,
                               routes=[route_all("sip:127.0.0.1:%d" % sip_port, name="self")])
        before = srv.stats()
        uac = self.uac(srv, "uac_expect_482").run()
        self.assertSipp(uac, successful=1)  # 482 + Warning b2bua.sip.loop
        after = srv.wait_stats(lambda s: s["active_calls"] == 0)
        self.assertLessEqual(after["total_calls"] - before["total_calls"], 1,
                             "the call looped through b2buad: %r -> %r" % (before, after))
        opt = self.uac(srv, "uac_options", name="uac-options").run()
        self.assertSipp(opt, successful=1)  # still alive and answering

    def test_target_without_user_keeps_called_user(self):
        uas_port = harness.free_port_block(1)
        srv = self.start_b2bua(routes=[route_all("sip:127.0.0.1:%d" % uas_port)])
        uas = self.uas(srv, "uas_answer", ruser="bob", port=uas_port)
        uac = self.uac(srv, "uac_basic", service="bob").run()
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)  # R-URI user bob

    def test_target_with_user_replaces_called_user(self):
        uas_port = harness.free_port_block(1)
        srv = self.start_b2bua(routes=[route_all("sip:carol@127.0.0.1:%d" % uas_port)])
        uas = self.uas(srv, "uas_answer", ruser="carol", port=uas_port)
        uac = self.uac(srv, "uac_basic", service="bob").run()
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)  # R-URI user carol
        self.assertIn("to_user=bob ", uas.result.log, "the To user was not kept")


if __name__ == "__main__":
    harness.main()
