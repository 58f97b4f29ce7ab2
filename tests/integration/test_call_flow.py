"""Call flows through b2buad with SIPp on both sides: answer, hang-ups, early media, CANCEL,
relayed errors, the no-answer and target timeouts, topology hiding."""

import re
import time

import harness


class CallFlowTest(harness.B2buaTestCase):
    """Pass-through b2buad (no routes): each call goes to its own Request-URI."""

    def test_basic_call_caller_hangs_up(self):
        srv = self.start_b2bua()
        before = srv.stats()
        uas = self.uas(srv, "uas_answer")
        uac = self.uac(srv, "uac_basic", callee=uas, hold_ms=300).run()
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)
        after = srv.wait_stats(lambda s: s["active_calls"] == 0)
        self.assertDelta(before, after, total_calls=1, answered_calls=1, failed_calls=0,
                         cancelled_calls=0)

    def test_caller_with_quoted_display_name(self):
        """Phones send From: "Alice Smith" <sip:...>; the call must go through, with a well-formed
        From on the callee side."""
        srv = self.start_b2bua()
        uas = self.uas(srv, "uas_answer")
        uac = self.uac(srv, "uac_display_name", callee=uas, hold_ms=100).run()
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)
        self.assertNotIn('""', uas.result.log, "the display name was quoted twice")

    def test_callee_hangs_up(self):
        srv = self.start_b2bua()
        uas = self.uas(srv, "uas_hangup", ruser=None, hold_ms=300)
        uac = self.uac(srv, "uac_callee_hangup", callee=uas).run()
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)

    def test_early_media_180_and_183_relayed(self):
        srv = self.start_b2bua()
        uas = self.uas(srv, "uas_ringing_early", ruser=None)
        uac = self.uac(srv, "uac_ringing_early", callee=uas, hold_ms=200).run()
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)
        # The 183 the caller saw carries the callee's SDP (codecs kept), anchored by default: its
        # m= port is b2buad's relay port, not the callee's (test_media covers the relay itself).
        m = re.search(r"m=audio (\d+) RTP/AVP 8 101", uac.result.log)
        self.assertIsNotNone(m, "no SDP with the callee's codecs in the 183")
        self.assertNotEqual(int(m.group(1)), uas.media_port)

    def test_cancel_before_answer(self):
        srv = self.start_b2bua()
        before = srv.stats()
        uas = self.uas(srv, "uas_ring_forever", ruser=None)
        uac = self.uac(srv, "uac_cancel", callee=uas).run()
        self.assertSipp(uac, successful=1)  # 200 for CANCEL and 487 for the INVITE
        self.assertSipp(uas, successful=1)  # the callee got a CANCEL and sent 487
        after = srv.wait_stats(lambda s: s["active_calls"] == 0)
        self.assertDelta(before, after, total_calls=1, cancelled_calls=1, answered_calls=0)

    def test_busy_486_relayed_with_reason(self):
        srv = self.start_b2bua()
        before = srv.stats()
        uas = self.uas(srv, "uas_busy_486", ruser=None)
        uac = self.uac(srv, "uac_expect_486", callee=uas).run()
        self.assertSipp(uac, successful=1)  # 486 Busy Here, no Warning of b2buad's
        self.assertSipp(uas, successful=1)
        after = srv.wait_stats(lambda s: s["active_calls"] == 0)
        self.assertDelta(before, after, total_calls=1, failed_calls=1, answered_calls=0)

    def test_no_answer_timeout_480_and_cancel_to_callee(self):
        srv = self.start_b2bua(timers={"no_answer_ms": 1000})
        uas = self.uas(srv, "uas_ring_forever", ruser=None)
        uac = self.uac(srv, "uac_expect_480", callee=uas).run()
        self.assertSipp(uac, successful=1)  # 480 with Warning b2bua.call.no_answer
        self.assertSipp(uas, successful=1)  # CANCEL received, 487 sent, ACK received
        self.assertGreaterEqual(uac.result.elapsed, 0.9, "480 came before no_answer_ms")
        self.assertLess(uac.result.elapsed, 6.0, "480 came far after no_answer_ms")

    def test_target_never_answers_408(self):
        srv = self.start_b2bua(timers={"sip_t1_ms": 100})  # INVITE timeout 64*T1 = 6.4 s
        sink = self.sink()
        uac = self.uac(srv, "uac_expect_408", callee=sink, recv_timeout_ms=15000).run()
        self.assertSipp(uac, successful=1)  # 408 with Warning b2bua.target.timeout
        self.assertGreaterEqual(uac.result.elapsed, 5.0, "408 came before 64*T1")
        self.assertLess(uac.result.elapsed, 12.0, "408 came far after 64*T1")
        invites = sink.requests("INVITE")
        self.assertGreaterEqual(len(invites), 3, "b2buad did not retransmit the INVITE with T1")

    def test_topology_hiding(self):
        """The callee sees b2buad (Contact, fresh Call-ID and From tag), never the caller."""
        srv = self.start_b2bua()
        uas = self.uas(srv, "uas_answer")  # its own checks: Contact, Call-ID marker, From tag
        uac = self.uac(srv, "uac_basic", callee=uas).run()
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)
        line = [l for l in uas.result.log.splitlines() if l.startswith("INVITE ruser=")]
        self.assertEqual(len(line), 1, uas.result.log)
        self.assertIn("contact=%s " % srv.address, line[0])
        self.assertNotIn("uac-marker", line[0])
        self.assertNotIn(uac.address, line[0], "the caller's address reached the callee")
        self.assertIn("to_user=bob ", line[0])
        # The callee's address does not reach the caller either: the 200's Contact is b2buad's.
        msgs = open(uac.result.path("messages"), errors="replace").read()
        contacts = re.findall(r"^Contact:.*$", msgs.split("SIP/2.0 200")[1], re.M | re.I)
        self.assertTrue(contacts, "no Contact in the 200 the caller got")
        self.assertIn(srv.address, contacts[0])
        self.assertNotIn(uas.address, contacts[0])


if __name__ == "__main__":
    harness.main()
