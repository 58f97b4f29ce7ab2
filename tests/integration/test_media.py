"""Media anchoring through b2buad with SIPp on both sides: SDP rewritten to b2buad's own ports,
real RTP (a pcap) relayed to an echoing callee and back, early media, the RTP timeout, bypass
(global and per route), and the SDP and port-pool errors (488, 503)."""

import os
import re
import time

import harness

PCAP_DIR = os.environ.get("SIPP_PCAP_DIR", "/usr/share/sip-tester")
G711A = os.path.join(PCAP_DIR, "g711a.pcap")        # played by uac_pcap_play
DTMF_1 = os.path.join(PCAP_DIR, "dtmf_2833_1.pcap")  # played by uac_pcap_early

ADVERTISE = harness.HOST  # media.advertise unset: the sip.listen host


def sdp_port(body):
    """The port of the first m=audio line, or None."""
    m = re.search(r"^m=audio (\d+) ", body, re.M)
    return int(m.group(1)) if m else None


def matching(messages, direction, method=None, status=None, cseq=None):
    """The traced messages that match, in order."""
    out = []
    for m in messages:
        if m.direction != direction:
            continue
        if method is not None and m.method != method:
            continue
        if status is not None and m.status != status:
            continue
        if cseq is not None and m.cseq_method != cseq:
            continue
        out.append(m)
    return out


def first(messages, direction, method=None, status=None, cseq=None):
    """The first traced message that matches, or None."""
    found = matching(messages, direction, method, status, cseq)
    return found[0] if found else None


def leg(call, role):
    legs = [l for l in call.get("legs", []) if l.get("role") == role]
    return legs[0] if legs else None


class MediaTestCase(harness.B2buaTestCase):
    """Each test gets a `pcap` link in its temp dir (SIPp's working directory) and a b2buad whose
    RTP sockets bind 127.0.0.1 in a range of its own."""

    def setUp(self):
        super().setUp()
        for path in (G711A, DTMF_1):
            if not os.path.isfile(path):
                self.fail("SIPp pcap file missing: %s (set SIPP_PCAP_DIR)" % path)
        os.symlink(PCAP_DIR, os.path.join(self.tmp, "pcap"))

    def start_media(self, pairs=4, routes=None, **media):
        """b2buad with media.ports a free range of `pairs` pairs; other media keys from `media`."""
        self.port_first, self.port_last = harness.even_port_range(pairs)
        cfg = {"listen_ip": harness.HOST, "ports": "%d-%d" % (self.port_first, self.port_last)}
        cfg.update(media)
        srv = harness.start_b2bua_with(self, {"media": cfg}, routes=routes)
        st = srv.stats()
        self.assertIsInstance(st.get("media"), dict, "no media section in /v1/stats: %r" % st)
        for key in ("packets", "bytes", "forwarded", "dropped", "relays_active",
                    "ports_available"):
            self.assertIsInstance(st["media"].get(key), int, "media.%s in %r" % (key, st))
        return srv

    def messages(self, sipp):
        """The SIP messages SIPp traced; call after it has ended (the trace is buffered)."""
        self.assertIsNotNone(sipp.result, "%s is still running" % sipp.name)
        return harness.sipp_messages(sipp.result.path("messages"))

    def assertRelayedSdp(self, body, what, not_port):
        """`body` is SDP rewritten by b2buad: c= and o= its own, m= port in media.ports, the
        PCMA/telephone-event formats kept. Returns the m= port."""
        self.assertRegex(body, r"(?m)^c=IN IP4 %s\r?$" % re.escape(ADVERTISE), what)
        self.assertRegex(body, r"(?m)^o=b2bua ", "%s: o= is not b2buad's own" % what)
        self.assertRegex(body, r"(?m)^m=audio \d+ RTP/AVP 8 101\r?$", what)
        self.assertRegex(body, r"(?m)^a=rtpmap:8 PCMA/8000\r?$", what)
        self.assertRegex(body, r"(?m)^a=rtpmap:101 telephone-event/8000\r?$", what)
        port = sdp_port(body)
        self.assertIsNotNone(port, what)
        self.assertTrue(self.port_first <= port <= self.port_last,
                        "%s: m= port %d not in media.ports %d-%d:\n%s" % (
                            what, port, self.port_first, self.port_last, body))
        self.assertEqual(port % 2, 0, "%s: odd RTP port %d" % (what, port))
        self.assertNotEqual(port, not_port, "%s: the peer's own port went through" % what)
        return port

    def wait_answered_call(self, srv, timeout=5.0):
        """The id of the one call in /v1/calls once it is answered."""
        st = srv.wait_stats(lambda s: s["active_calls"] == 1 and s["answered_calls"] >= 1,
                            timeout)
        self.assertEqual(st.get("active_calls"), 1, "the call was not up: %r" % st)
        status, body = srv.get("/v1/calls")
        self.assertEqual(status, 200, body)
        self.assertEqual(body.get("count"), 1, body)
        return body["calls"][0]["id"]

    def get_call(self, srv, call_id):
        status, body = srv.get("/v1/calls/%d" % call_id)
        return body if status == 200 and isinstance(body, dict) else None

    def assertMediaCounters(self, media, what):
        self.assertIsInstance(media, dict, "%s: media is %r" % (what, media))
        for key in ("packets", "bytes", "lost", "jitter_us"):
            self.assertIsInstance(media.get(key), int, "%s: media.%s in %r" % (what, key, media))
            self.assertGreaterEqual(media[key], 0, "%s: %r" % (what, media))
        for key in ("local", "remote"):
            self.assertRegex(str(media.get(key)), r"^[0-9.]+:\d+$", "%s: %r" % (what, media))


class RelayTest(MediaTestCase):

    def test_pcap_relayed_to_echoing_callee_and_back(self):
        """The caller plays g711a.pcap to b2buad's port; the callee echoes; SDP both ways carries
        b2buad's ports; the per-leg counters see the packets; ports go back to the pool."""
        sent = harness.pcap_udp_payloads(G711A)
        self.assertGreater(len(sent), 100, G711A)
        tolerance = max(5, len(sent) // 20)
        srv = self.start_media(pairs=4)
        start = srv.stats()["media"]
        uas = self.uas(srv, "uas_media_echo", ruser=None, extra=["-rtp_echo"],
                       recv_timeout_ms=20000)  # the BYE comes 10.5 s after the ACK
        # 7 s of pcap, then 3.5 s more so the counters are refreshed before the BYE.
        uac = self.uac(srv, "uac_pcap_play", callee=uas, hold_ms=10500).start(wait_bound=False)
        call_id = self.wait_answered_call(srv)

        snap, mid_stats = None, None
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and uac.running():
            call = self.get_call(srv, call_id)
            if call is not None:
                snap = call
                mid_stats = srv.stats()
                a, b = leg(call, "a"), leg(call, "b")
                ma = (a or {}).get("media") or {}
                mb = (b or {}).get("media") or {}
                if ma.get("packets", 0) >= len(sent) and mb.get("packets", 0) > 0:
                    break
            time.sleep(0.25)
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)

        # SDP: the callee's offer and the caller's answer name b2buad's ports, not the peers'.
        offer = first(self.messages(uas), "received", method="INVITE")
        self.assertIsNotNone(offer, "the callee got no INVITE")
        b_port = self.assertRelayedSdp(offer.body, "INVITE to the callee", uac.media_port)
        answer = first(self.messages(uac), "received", status=200, cseq="INVITE")
        self.assertIsNotNone(answer, "the caller got no 200")
        a_port = self.assertRelayedSdp(answer.body, "200 to the caller", uas.media_port)
        self.assertNotEqual(a_port, b_port)

        # REST, while the call was up.
        self.assertIsNotNone(snap, "GET /v1/calls/%d never answered while the call was up" %
                             call_id)
        self.assertEqual(snap.get("media_mode"), "relay", snap)
        ma, mb = leg(snap, "a").get("media"), leg(snap, "b").get("media")
        self.assertMediaCounters(ma, "leg a")
        self.assertMediaCounters(mb, "leg b")
        self.assertTrue(ma["local"].endswith(":%d" % a_port), "leg a local %r, SDP port %d" % (
            ma["local"], a_port))
        self.assertTrue(mb["local"].endswith(":%d" % b_port), "leg b local %r, SDP port %d" % (
            mb["local"], b_port))
        self.assertEqual(ma["remote"], "%s:%d" % (harness.HOST, uac.media_port), ma)
        self.assertEqual(mb["remote"], "%s:%d" % (harness.HOST, uas.media_port), mb)
        self.assertLessEqual(abs(ma["packets"] - len(sent)), tolerance,
                             "leg a received %d packets, the pcap has %d: %r" % (
                                 ma["packets"], len(sent), snap))
        self.assertEqual(ma["lost"], 0, "the pcap's sequence numbers have no gap: %r" % ma)
        self.assertTrue(252 * ma["packets"] <= ma["bytes"] <= 280 * ma["packets"],
                        "leg a: %d bytes for %d packets of 252 bytes" % (
                            ma["bytes"], ma["packets"]))
        self.assertGreater(mb["packets"], 0, "no echo came back from the callee: %r" % snap)
        self.assertLessEqual(mb["packets"], ma["packets"] + tolerance, snap)
        self.assertGreaterEqual(mid_stats["media"]["relays_active"], 1, mid_stats)
        self.assertLess(mid_stats["media"]["ports_available"], start["ports_available"],
                        mid_stats)

        # After the call: nothing active, every port back, the global counters add up.
        end = srv.wait_stats(lambda s: s["active_calls"] == 0 and
                             s["media"]["ports_available"] == start["ports_available"] and
                             s["media"]["relays_active"] == 0)
        self.assertEqual(end["active_calls"], 0, end)
        self.assertEqual(end["media"]["relays_active"], 0, end)
        self.assertEqual(end["media"]["ports_available"], start["ports_available"], end)
        self.assertGreaterEqual(end["media"]["packets"] - start["packets"],
                                ma["packets"] + mb["packets"], end)
        self.assertGreater(end["media"]["forwarded"], 0, end)
        self.assertLessEqual(end["media"]["forwarded"], end["media"]["packets"], end)
        status, gone = srv.get("/v1/calls/%d" % call_id)
        self.assertEqual(status, 404, gone)

    def test_early_media_183_anchored(self):
        """The 183's SDP carries b2buad's port too, and RTP sent to it before the answer reaches
        the callee (whose echo comes back)."""
        dtmf = harness.pcap_udp_payloads(DTMF_1)
        srv = self.start_media(pairs=4)
        uas = self.uas(srv, "uas_media_early", ruser=None, extra=["-rtp_echo"])
        uac = self.uac(srv, "uac_pcap_early", callee=uas, hold_ms=2500).start(wait_bound=False)
        call_id = self.wait_answered_call(srv)
        snap = None
        deadline = time.monotonic() + 2.2
        while time.monotonic() < deadline and uac.running():
            call = self.get_call(srv, call_id)
            if call is not None:
                snap = call
                ma = (leg(call, "a") or {}).get("media") or {}
                mb = (leg(call, "b") or {}).get("media") or {}
                if ma.get("packets", 0) >= len(dtmf) and mb.get("packets", 0) > 0:
                    break
            time.sleep(0.2)
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)

        early = first(self.messages(uac), "received", status=183)
        self.assertIsNotNone(early, "the caller got no 183")
        early_port = self.assertRelayedSdp(early.body, "183 to the caller", uas.media_port)
        answer = first(self.messages(uac), "received", status=200, cseq="INVITE")
        answer_port = self.assertRelayedSdp(answer.body, "200 to the caller", uas.media_port)
        self.assertEqual(early_port, answer_port, "b2buad's port changed between 183 and 200")
        offer = first(self.messages(uas), "received", method="INVITE")
        self.assertRelayedSdp(offer.body, "INVITE to the callee", uac.media_port)

        self.assertIsNotNone(snap, "GET /v1/calls/%d never answered" % call_id)
        ma, mb = leg(snap, "a").get("media"), leg(snap, "b").get("media")
        self.assertMediaCounters(ma, "leg a")
        self.assertMediaCounters(mb, "leg b")
        self.assertGreaterEqual(ma["packets"], len(dtmf),
                                "RTP sent during early media did not reach b2buad: %r" % snap)
        self.assertGreater(mb["packets"], 0, "the early RTP did not reach the callee: %r" % snap)

    def test_rtp_timeout_ends_call_with_bye_and_reason(self):
        """Nobody sends RTP: after media.timeout_s both sides get a BYE with Reason 'RTP
        timeout'."""
        srv = self.start_media(pairs=4, timeout_s=2)
        start = srv.stats()["media"]
        uas = self.uas(srv, "uas_media_silent_expect_bye", ruser=None)
        uac = self.uac(srv, "uac_pcap_silent_expect_bye", callee=uas).start(wait_bound=False)
        reasons = set()
        deadline = time.monotonic() + 12.0
        while time.monotonic() < deadline and uac.running():
            status, body = srv.get("/v1/calls")
            if status == 200 and isinstance(body, dict):
                for call in body.get("calls", []):
                    if call.get("end_reason"):
                        reasons.add(call["end_reason"])
            time.sleep(0.05)
        self.assertSipp(uac, successful=1)  # got a BYE whose Reason says "RTP timeout"
        self.assertSipp(uas, successful=1)  # likewise
        self.assertTrue(reasons <= {"rtp_timeout"},
                        "the call record gave end_reason %r" % sorted(reasons))

        for sipp, who in ((uac, "caller"), (uas, "callee")):
            msgs = self.messages(sipp)
            ack = first(msgs, "sent" if sipp is uac else "received", method="ACK")
            bye = first(msgs, "received", method="BYE")
            self.assertIsNotNone(ack, "no ACK in the %s's trace" % who)
            self.assertIsNotNone(bye, "the %s got no BYE" % who)
            reason = " ".join(bye.header("Reason"))
            self.assertIn("rtp timeout", reason.lower(), "%s's BYE: %s" % (who, bye.raw))
            waited = bye.when - ack.when
            self.assertGreaterEqual(waited, 1.5, "%s: BYE %.1f s after the ACK, timeout_s is 2" % (
                who, waited))
            self.assertLessEqual(waited, 5.0, "%s: BYE %.1f s after the ACK, timeout_s is 2" % (
                who, waited))
        end = srv.wait_stats(lambda s: s["active_calls"] == 0 and
                             s["media"]["ports_available"] == start["ports_available"])
        self.assertEqual(end["active_calls"], 0, end)
        self.assertEqual(end["media"]["ports_available"], start["ports_available"], end)


class BypassTest(MediaTestCase):

    def assertBodiesIdentical(self, uac, uas, call=0):
        """The SDP of the caller's INVITE and of the callee's 200 (the callee's `call`-th) crossed
        b2buad unchanged. Both SIPp must have ended (their traces are complete)."""
        offer_sent = first(self.messages(uac), "sent", method="INVITE")
        offers_got = matching(self.messages(uas), "received", method="INVITE")
        self.assertGreater(len(offers_got), call, "the callee got no INVITE")
        offer_got = offers_got[call]
        self.assertTrue(offer_sent.body.startswith("v=0"), offer_sent.raw)
        self.assertEqual(offer_got.body, offer_sent.body, "the offer was changed on the way")
        answers_sent = matching(self.messages(uas), "sent", status=200, cseq="INVITE")
        self.assertGreater(len(answers_sent), call, "the callee sent no 200")
        answer_sent = answers_sent[call]
        answer_got = first(self.messages(uac), "received", status=200, cseq="INVITE")
        self.assertIsNotNone(answer_got, "the caller got no 200")
        self.assertTrue(answer_sent.body.startswith("v=0"), answer_sent.raw)
        self.assertEqual(answer_got.body, answer_sent.body, "the answer was changed on the way")

    def assertBypassCall(self, srv, start):
        """While the one call is up: media_mode bypass, no media on the legs, no port taken."""
        call = self.get_call(srv, self.wait_answered_call(srv))
        self.assertIsNotNone(call)
        self.assertEqual(call.get("media_mode"), "bypass", call)
        for role in ("a", "b"):
            self.assertIn("media", leg(call, role), call)
            self.assertIsNone(leg(call, role)["media"], call)
        st = srv.stats()
        self.assertEqual(st["media"]["ports_available"], start["ports_available"], st)
        self.assertEqual(st["media"]["relays_active"], 0, st)

    def test_global_bypass_sdp_byte_identical(self):
        srv = self.start_media(pairs=2, mode="bypass")
        start = srv.stats()["media"]
        uas = self.uas(srv, "uas_media_echo", ruser=None)
        uac = self.uac(srv, "uac_basic", callee=uas, hold_ms=1500).start(wait_bound=False)
        self.assertBypassCall(srv, start)
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)
        self.assertBodiesIdentical(uac, uas)

    def test_route_bypass_overrides_relay(self):
        """Route "bob" says bypass, the catch-all route says nothing (media.mode relay)."""
        uas_port = harness.free_port_block(1)
        target = "sip:%s:%d" % (harness.HOST, uas_port)
        srv = self.start_media(pairs=2, routes=[
            {"name": "bob-bypass", "match": {"to": "bob*"}, "action": "route",
             "targets": [target], "media": "bypass"},
            {"name": "rest", "match": {"to": "*"}, "action": "route", "targets": [target]}])
        start = srv.stats()["media"]
        uas = self.uas(srv, "uas_media_echo", ruser=None, port=uas_port, calls=2)
        uac = self.uac(srv, "uac_basic", service="bob", hold_ms=1500).start(wait_bound=False)
        self.assertBypassCall(srv, start)
        self.assertSipp(uac, successful=1)
        srv.wait_stats(lambda s: s["active_calls"] == 0)

        relayed = self.uac(srv, "uac_basic", name="uac-carol", service="carol",
                           hold_ms=100).run()
        self.assertSipp(relayed, successful=1)
        self.assertSipp(uas, successful=2)
        self.assertBodiesIdentical(uac, uas, call=0)
        offers = matching(self.messages(uas), "received", method="INVITE")
        self.assertEqual(len(offers), 2, offers)
        port = sdp_port(offers[1].body)
        self.assertTrue(port is not None and self.port_first <= port <= self.port_last,
                        "the route without media did not relay:\n%s" % offers[1].body)


class MediaErrorsTest(MediaTestCase):

    def test_unparseable_offer_488_with_warning(self):
        srv = self.start_media(pairs=2)
        sink = self.sink()  # the Request-URI's target: must never see the INVITE
        uac = self.uac(srv, "uac_pcap_bad_sdp_488", callee=sink).run()
        self.assertSipp(uac, successful=1)  # 488 + Warning b2bua.sdp.unparseable
        self.assertEqual(sink.requests("INVITE"), [], "an unparseable offer was forwarded")

    def test_port_pool_exhausted_503_then_ports_come_back(self):
        """media.ports with 2 pairs is one call (A side and B side): the second call gets 503,
        a call after the first has ended works."""
        srv = self.start_media(pairs=2)
        start = srv.stats()["media"]
        uas = self.uas(srv, "uas_media_echo", ruser=None, calls=2)
        held = self.uac(srv, "uac_basic", name="uac-held", callee=uas, hold_ms=2500).start(
            wait_bound=False)
        self.wait_answered_call(srv)
        busy = srv.stats()
        self.assertLess(busy["media"]["ports_available"], start["ports_available"], busy)
        over = self.uac(srv, "uac_pcap_expect_503_ports", name="uac-over", callee=uas).run()
        self.assertSipp(over, successful=1)  # 503 + Retry-After + Warning ports_exhausted
        self.assertSipp(held, successful=1)
        back = srv.wait_stats(lambda s: s["active_calls"] == 0 and
                              s["media"]["ports_available"] == start["ports_available"])
        self.assertEqual(back["media"]["ports_available"], start["ports_available"], back)

        later = self.uac(srv, "uac_basic", name="uac-later", callee=uas, hold_ms=100).run()
        self.assertSipp(later, successful=1)
        self.assertSipp(uas, successful=2)
        offers = matching(self.messages(uas), "received", method="INVITE")
        self.assertEqual(len(offers), 2, "the refused call reached the callee: %r" % offers)
        for offer in offers:
            port = sdp_port(offer.body)
            self.assertTrue(port is not None and self.port_first <= port <= self.port_last,
                            offer.body)


if __name__ == "__main__":
    harness.main()
