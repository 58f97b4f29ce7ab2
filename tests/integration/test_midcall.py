"""Mid-call requests through b2buad with SIPp on both sides: hold and resume from either party
(RFC 6337 directions, o= versions), re-INVITE without SDP, DTMF by SIP INFO both ways, glare,
UPDATE in the early dialog (RFC 3311 with RFC 3262), session timers. Relay mode (the default) and
bypass."""

import re

import harness


def origin_versions(messages, direction, status=None, method=None, cseq="INVITE"):
    """The o= session versions of the SDP bodies of the matching traced messages, in order."""
    out = []
    for m in messages:
        if m.direction != direction or m.cseq_method != cseq:
            continue
        if status is not None and m.status != status:
            continue
        if method is not None and m.method != method:
            continue
        found = re.search(r"^o=\S+ \S+ (\d+) ", m.body, re.M)
        if found:
            out.append(int(found.group(1)))
    return out


def origin(body):
    """(user, version) of an SDP body's o= line."""
    found = re.search(r"^o=(\S+) \S+ (\d+) ", body, re.M)
    return (found.group(1), int(found.group(2))) if found else (None, None)


def audio_port(body):
    found = re.search(r"^m=audio (\d+) ", body, re.M)
    return int(found.group(1)) if found else None


def received(msgs, method=None, status=None, cseq=None):
    """The received messages with that request method, or that status (and CSeq method)."""
    return [m for m in msgs if m.direction == "received" and
            (method is None or m.method == method) and (status is None or m.status == status) and
            (cseq is None or m.cseq_method == cseq)]


class _MidCallBase(harness.B2buaTestCase):

    def start(self, mode="relay", **kwargs):
        first, last = harness.even_port_range(4)
        self.relay_ports = range(first, last + 1)
        return harness.start_b2bua_with(
            self, {"media": {"listen_ip": harness.HOST, "ports": "%d-%d" % (first, last),
                             "mode": mode}}, **kwargs)

    def call(self, srv, uac_scenario, uas_scenario, hold_ms=200, uas_ruser=None):
        uas = self.uas(srv, uas_scenario, ruser=uas_ruser)
        uac = self.uac(srv, uac_scenario, callee=uas, hold_ms=hold_ms).run()
        uas.wait()
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)
        return uac, uas


class MidCallTest(_MidCallBase):

    def caller_holds(self, mode):
        srv = self.start(mode)
        uac, uas = self.call(srv, "uac_hold_resume", "uas_accept_reinvite")
        msgs = harness.sipp_messages(uac.result.path("messages"))
        # The caller's 200s: first answer, hold answer, resume answer, the same resume again.
        versions = origin_versions(msgs, "received", status=200)
        self.assertEqual(len(versions), 4, versions)
        self.assertLess(versions[0], versions[1], "o= version must go up for the hold answer")
        self.assertLess(versions[1], versions[2], "o= version must go up for the resume answer")
        self.assertEqual(versions[2], versions[3], "o= version must stay when nothing changed")
        # What the callee got: the offers, and b2buad's own o= versions behave the same way.
        cmsgs = harness.sipp_messages(uas.result.path("messages"))
        offers = origin_versions(cmsgs, "received", method="INVITE")
        self.assertEqual(len(offers), 4, offers)
        self.assertTrue(offers[0] < offers[1] < offers[2] == offers[3], offers)
        return srv, msgs

    def test_caller_holds_and_resumes_relay(self):
        srv, msgs = self.caller_holds("relay")
        # Relay mode: every 200 names b2buad's address, never the callee's media port.
        for m in msgs:
            if m.direction == "received" and m.status == 200 and m.cseq_method == "INVITE":
                self.assertIn("c=IN IP4 %s" % harness.HOST, m.body)
                self.assertNotIn("o=callee", m.body)

    def test_caller_holds_and_resumes_bypass(self):
        srv, msgs = self.caller_holds("bypass")
        bodies = [m.body for m in msgs if m.direction == "received" and m.status == 200 and
                  m.cseq_method == "INVITE"]
        self.assertTrue(all("o=callee" in b for b in bodies), "bypass passes SDP untouched")

    def test_callee_holds_and_resumes(self):
        srv = self.start()
        uac, uas = self.call(srv, "uac_accept_reinvite", "uas_hold_resume", hold_ms=1500)
        msgs = harness.sipp_messages(uac.result.path("messages"))
        offers = [m for m in msgs if m.direction == "received" and m.method == "INVITE"]
        self.assertEqual(len(offers), 2)
        self.assertIn("a=sendonly", offers[0].body)
        self.assertIn("c=IN IP4 %s" % harness.HOST, offers[0].body)

    def test_hold_shows_in_the_call_table(self):
        """While the caller holds, GET /v1/calls shows the call on_hold and the A leg on_hold;
        the DTMF digit the caller sent is in its leg."""
        srv = self.start()
        uas = self.uas(srv, "uas_accept_reinvite", ruser=None)
        uac = self.uac(srv, "uac_hold_resume", callee=uas, hold_ms=2000).start(wait_bound=False)

        def dtmf_seen():
            status, body = srv.get("/v1/calls")
            calls = body.get("calls", []) if isinstance(body, dict) else []
            return calls[0] if calls and calls[0]["legs"][0].get("dtmf") == "5" else None

        call = harness.wait_until(dtmf_seen, 5.0)
        self.assertIsNotNone(call, "the DTMF digit never showed in the call table")
        self.assertEqual(call["state"], "answered", "resumed: no longer on hold")
        self.assertFalse(call["legs"][0]["on_hold"])
        uac.wait()
        uas.wait()
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)
        self.assertIn("leg=a hold", srv.logs(200))
        self.assertIn("leg=a resume", srv.logs(200))
        self.assertIn("leg=a dtmf digit=5 duration=160", srv.logs(200))

    def test_reinvite_without_sdp(self):
        srv = self.start()
        uac, uas = self.call(srv, "uac_reinvite_nosdp", "uas_offer_in_200")
        msgs = harness.sipp_messages(uas.result.path("messages"))
        acks = [m for m in msgs if m.direction == "received" and m.method == "ACK" and "m=audio" in m.body]
        self.assertEqual(len(acks), 1, "the callee's ACK must carry the caller's answer")
        self.assertIn("c=IN IP4 %s" % harness.HOST, acks[0].body)

    def test_reinvite_refused_481_ends_the_call_with_its_cause(self):
        """The callee answers the re-INVITE 481 (RFC 5057: its dialog is gone): the caller's
        re-INVITE fails, the caller gets b2buad's BYE with Reason cause=481, the call ends with
        that cause (not as a session timeout)."""
        srv = self.start()
        uac, uas = self.call(srv, "uac_reinvite_481", "uas_reinvite_481")
        msgs = harness.sipp_messages(uac.result.path("messages"))
        refused = [m for m in msgs if m.direction == "received" and m.cseq_method == "INVITE" and
                   m.status is not None and m.status >= 300]
        self.assertTrue(refused, "the caller's re-INVITE got no error")
        self.assertEqual(refused[0].status, 500, "a 481 of the far dialog is not the caller's")
        cdr = harness.wait_until(lambda: (srv.get("/v1/cdrs")[1].get("cdrs") or [None])[0], 5.0)
        self.assertIsNotNone(cdr, "no call record")
        self.assertEqual(cdr["disconnect_reason"], "dialog_ended")
        self.assertNotIn("b2bua.session.expired", srv.logs(300))

    def glare(self, uac_scenario, uas_scenario, hold_ms=300):
        """Both parties offer at once; returns the times b2buad sent its offer to the party that
        answered 491, first and retried."""
        srv = self.start()
        uac, uas = self.call(srv, uac_scenario, uas_scenario, hold_ms=hold_ms)
        crosser = uas if uas_scenario.endswith("_cross") else uac
        msgs = harness.sipp_messages(crosser.result.path("messages"))
        offers = [m.when for m in msgs if m.direction == "received" and m.method == "INVITE" and
                  "a=sendonly" in m.body]
        self.assertEqual(len(offers), 2, "the 491ed offer must be sent twice")
        self.assertIn("491 to our INVITE: retry in", srv.logs(200))
        return offers[1] - offers[0]

    def test_glare_caller_first_callee_crosses(self):
        """The callee answers b2buad's re-INVITE 491 after crossing it with its own: b2buad owns
        the B leg's Call-ID, so it retries after 2.1-4 s; both offers end up answered."""
        delay = self.glare("uac_glare", "uas_glare_cross")
        self.assertGreaterEqual(delay, 2.05)
        self.assertLess(delay, 4.6)

    def test_glare_callee_first_caller_crosses(self):
        """The same glare on the A leg: the caller owns its Call-ID, b2buad retries within 2 s."""
        delay = self.glare("uac_glare_cross", "uas_glare")
        self.assertLess(delay, 2.6)

    def test_100rel_from_the_callee_to_a_caller_with_100rel(self):
        """The callee's reliable 183 reaches a 100rel caller reliably, with its SDP; b2buad PRACKs
        the callee once (uas_100rel fails on a second PRACK) and relays the caller's PRACK."""
        srv = self.start()
        uac, uas = self.call(srv, "uac_100rel", "uas_100rel")
        msgs = harness.sipp_messages(uas.result.path("messages"))
        pracks = [m for m in msgs if m.direction == "received" and m.method == "PRACK"]
        self.assertEqual(len(pracks), 1)

    def test_100rel_from_the_callee_to_a_caller_without(self):
        """A caller without 100rel gets an ordinary 183, and the 200 repeats the early answer."""
        srv = self.start()
        uac, uas = self.call(srv, "uac_early_no100rel", "uas_100rel")
        msgs = harness.sipp_messages(uac.result.path("messages"))
        ok = [m for m in msgs if m.direction == "received" and m.status == 200 and
              m.cseq_method == "INVITE"]
        early = [m for m in msgs if m.direction == "received" and m.status == 183]
        self.assertTrue(ok and early)
        self.assertEqual(re.search(r"^m=.*$", ok[0].body, re.M).group(0),
                         re.search(r"^m=.*$", early[0].body, re.M).group(0))
        self.assertEqual(early[0].header("RSeq"), [])


class SessionTimerTest(_MidCallBase):
    """RFC 4028 on each leg, by sofia-sip's NUA: 422 below Min-SE, BYE with Reason on expiry."""

    def test_short_session_interval_gets_422(self):
        srv = self.start()
        before = srv.stats()
        uac = self.uac(srv, "uac_expect_422", callee=self.uas(srv, "uas_answer")).run()
        self.assertSipp(uac, successful=1)
        after = srv.wait_stats(lambda s: s["active_calls"] == 0)
        self.assertEqual(after["answered_calls"], before["answered_calls"])
        for s in self.sipps:
            if s.name == "uas":
                s.kill()

    def test_expired_session_ends_both_legs_with_reason(self):
        """The callee takes the refresher role (3 s) and never refreshes: b2buad BYEs it before
        the session expires and BYEs the caller with Reason cause=408 "Session timeout"."""
        srv = self.start(timers={"min_se_s": 2})
        uas = self.uas(srv, "uas_session_expires", ruser=None)
        uac = self.uac(srv, "uac_expect_session_bye", callee=uas).run()
        uas.wait()
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)
        def record():
            status, body = srv.get("/v1/cdrs?limit=5")
            return body["cdrs"] if status == 200 and body.get("cdrs") else None

        records = harness.wait_until(record, 3.0)
        self.assertTrue(records, "no call record")
        self.assertIn("session_expired", repr(records[-1]))

    def failed_refresh(self, status):
        """b2buad refreshes the B leg (refresher=uac, 2 s) with UPDATE and the callee answers
        `status` (403 or 503): both legs get BYE, the caller's with Reason cause=<code> "Session refresh
        failed". Returns the BYE the callee received."""
        srv = self.start(timers={"min_se_s": 2})
        uas = self.uas(srv, "uas_refresh_fails", ruser=None, keys={"refresh_status": status})
        uac = self.uac(srv, "uac_expect_refresh_bye", callee=uas, keys={"cause": status}).run()
        uas.wait()
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)
        byes = received(harness.sipp_messages(uas.result.path("messages")), method="BYE")
        self.assertEqual(len(byes), 1)
        return byes[0]

    def test_failed_refresh_ends_both_legs_with_reason(self):
        """A 503: sofia-sip's NUA ends the B leg's session itself (RFC 5057: the usage ends
        gracefully), with a BYE of its own that has no Reason (NUA has no way to give it one);
        the caller's BYE says why. (A 481 or 408 ends the B dialog in NUA at once, RFC 3261
        12.2.1.2, so no BYE goes there.)"""
        self.failed_refresh(503)

    def test_refused_refresh_byes_the_leg_with_reason(self):
        """A 403 leaves the session to b2buad, whose BYE on that leg carries the Reason too."""
        bye = self.failed_refresh(403)
        self.assertEqual(bye.header("Reason"), ['SIP;cause=403;text="Session refresh failed"'])



class EarlyUpdateTest(_MidCallBase):
    """RFC 3311 UPDATE in the early dialog, after the first offer/answer completed in the callee's
    reliable 183 (RFC 3262), carried to the other leg's early dialog; the 200 to the INVITE then
    carries no SDP and the call goes on."""

    def early_update(self, mode, uac_scenario, uas_scenario):
        srv = self.start(mode)
        uac, uas = self.call(srv, uac_scenario, uas_scenario)
        return (harness.sipp_messages(uac.result.path("messages")),
                harness.sipp_messages(uas.result.path("messages")))

    def assertRewritten(self, body, was, version):
        """Relay mode: b2buad's own o= (never the peer's) at `version`, a relay port."""
        self.assertEqual(origin(body)[1], version, body)
        self.assertNotEqual(origin(body)[0], was, body)
        self.assertIn(audio_port(body), self.relay_ports, body)

    def test_caller_updates_the_early_session_relay(self):
        caller, callee = self.early_update("relay", "uac_early_update", "uas_early_update")
        invite = received(callee, method="INVITE")[0]
        update = received(callee, method="UPDATE")
        self.assertEqual(len(update), 1)
        # b2buad's offer on the B leg: its own o=, one version up from the INVITE's, relay port
        self.assertRewritten(update[0].body, "caller", origin(invite.body)[1] + 1)
        self.assertIn("a=sendonly", update[0].body)
        early = received(caller, status=183)[0]
        answer = received(caller, status=200, cseq="UPDATE")
        self.assertEqual(len(answer), 1)
        self.assertRewritten(answer[0].body, "callee", origin(early.body)[1] + 1)
        self.assertEqual(audio_port(answer[0].body), audio_port(early.body))
        ok = received(caller, status=200, cseq="INVITE")
        self.assertEqual([m.body for m in ok], [""], "the 200 must not bring an SDP back")

    def test_caller_updates_the_early_session_bypass(self):
        caller, callee = self.early_update("bypass", "uac_early_update", "uas_early_update")
        self.assertEqual(origin(received(callee, method="UPDATE")[0].body), ("caller", 2))
        self.assertEqual(origin(received(caller, status=200, cseq="UPDATE")[0].body),
                         ("callee", 2))

    def test_callee_updates_the_early_session_relay(self):
        caller, callee = self.early_update("relay", "uac_early_update_in",
                                           "uas_early_update_out")
        early = received(caller, status=183)[0]
        update = received(caller, method="UPDATE")
        self.assertEqual(len(update), 1)
        self.assertRewritten(update[0].body, "callee", origin(early.body)[1] + 1)
        self.assertEqual(audio_port(update[0].body), audio_port(early.body))
        invite = received(callee, method="INVITE")[0]
        answer = received(callee, status=200, cseq="UPDATE")
        self.assertRewritten(answer[0].body, "caller", origin(invite.body)[1] + 1)
        self.assertEqual(audio_port(answer[0].body), audio_port(invite.body))

    def test_callee_updates_the_early_session_bypass(self):
        caller, callee = self.early_update("bypass", "uac_early_update_in",
                                           "uas_early_update_out")
        self.assertEqual(origin(received(caller, method="UPDATE")[0].body), ("callee", 2))
        self.assertEqual(origin(received(callee, status=200, cseq="UPDATE")[0].body),
                         ("caller", 2))

    def test_callee_update_to_a_caller_without_100rel_gets_488(self):
        """The caller got the early answer unreliably, so its early dialog can carry no offer:
        488 b2bua.offer.early_unreliable to the callee, nothing to the caller, whose 200 still
        repeats the early answer (uac_early_no100rel checks it)."""
        srv = self.start()
        uas = self.uas(srv, "uas_early_update_refused", ruser=None,
                       keys={"warning": "b2bua.offer.early_unreliable"})
        uac = self.uac(srv, "uac_early_no100rel", callee=uas).run()
        uas.wait()
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)
        caller = harness.sipp_messages(uac.result.path("messages"))
        self.assertEqual(received(caller, method="UPDATE"), [])

    def test_garbage_sdp_in_an_early_update_gets_488(self):
        """Relay mode reads every offer: an unreadable one is refused with 488
        b2bua.sdp.unparseable and never reaches the callee; the next UPDATE does."""
        caller, callee = self.early_update("relay", "uac_early_update_bad", "uas_early_update")
        self.assertEqual(len(received(callee, method="UPDATE")), 1)
        self.assertEqual(len(received(caller, status=488)), 1)


if __name__ == "__main__":
    harness.main()
