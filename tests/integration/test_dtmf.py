"""DTMF conversion through b2buad (issue 6) with SIPp on both sides, relay mode: RFC 4733 events
from the caller (a pcap) reach a callee in `dtmf.callee` "info" mode as SIP INFO; an INFO from
the caller reaches a callee in "rfc4733" mode as RFC 4733 packets on its media port (a socket this
test owns). INFO relayed as INFO both ways is covered by test_midcall."""

import os
import struct

import harness

PCAP_DIR = os.environ.get("SIPP_PCAP_DIR", "/usr/share/sip-tester")
DTMF_1 = os.path.join(PCAP_DIR, "dtmf_2833_1.pcap")


class RtpSink(harness.UdpSink):
    """A media port on 127.0.0.1 that keeps every datagram it receives as bytes."""

    def __init__(self):
        super().__init__()
        self.packets = []

    def _keep(self, data):
        self.packets.append(data)

    def events(self, pt):
        """The RFC 4733 packets of payload type `pt`: (marker, seq, timestamp, ssrc, event, end,
        duration) each."""
        out = []
        for p in list(self.packets):
            if len(p) < 16 or p[0] >> 6 != 2 or p[1] & 0x7F != pt:
                continue
            seq, ts, ssrc = struct.unpack("!HII", p[2:12])
            cc = p[0] & 0x0F
            body = p[12 + 4 * cc:]
            if len(body) < 4:
                continue
            out.append((bool(p[1] & 0x80), seq, ts, ssrc, body[0], bool(body[1] & 0x80),
                        struct.unpack("!H", body[2:4])[0]))
        return out


class DtmfTest(harness.B2buaTestCase):

    def setUp(self):
        super().setUp()
        if not os.path.isfile(DTMF_1):
            self.fail("SIPp pcap file missing: %s (set SIPP_PCAP_DIR)" % DTMF_1)
        os.symlink(PCAP_DIR, os.path.join(self.tmp, "pcap"))

    def start(self, **dtmf):
        first, last = harness.even_port_range(4)
        return harness.start_b2bua_with(self, {
            "media": {"listen_ip": harness.HOST, "ports": "%d-%d" % (first, last)},
            "dtmf": dtmf})

    def messages(self, sipp):
        return harness.sipp_messages(sipp.result.path("messages"))

    def first(self, sipp, direction, method=None, status=None):
        for m in self.messages(sipp):
            if m.direction != direction:
                continue
            if (method is None or m.method == method) and (status is None or m.status == status):
                return m
        return None

    def test_rfc4733_from_the_caller_reaches_an_info_callee_as_info(self):
        """dtmf.callee "info": telephone-event is stripped from the callee's offer and kept in the
        caller's answer; the caller's RFC 4733 digit 1 (pcap) becomes INFO Signal=1 to the callee
        (uas_expect_dtmf_info checks it) and shows in the A leg's dtmf while the call is up."""
        srv = self.start(callee="info")
        uas = self.uas(srv, "uas_expect_dtmf_info", ruser=None)
        uac = self.uac(srv, "uac_pcap_dtmf", callee=uas, hold_ms=3000).start(wait_bound=False)

        def digit_seen():
            status, body = srv.get("/v1/calls")
            calls = body.get("calls", []) if status == 200 and isinstance(body, dict) else []
            if not calls:
                return None
            status, call = srv.get("/v1/calls/%d" % calls[0]["id"])
            if status == 200 and call["legs"][0].get("dtmf") == "1":
                return call
            return None

        call = harness.wait_until(digit_seen, 6.0)
        uac.wait()
        uas.wait()
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)
        self.assertIsNotNone(call, "GET /v1/calls/{id} never showed digit 1 on the A leg")
        self.assertEqual(call["legs"][1].get("dtmf", ""), "", call)
        offer = self.first(uas, "received", method="INVITE")
        self.assertNotIn("telephone-event", offer.body, "the info callee was offered RFC 4733")
        info = self.first(uas, "received", method="INFO")
        self.assertIsNotNone(info)
        self.assertRegex(info.body, r"Signal=1\r?\nDuration=280")
        logs = srv.logs(300)
        self.assertIn("leg=a dtmf digit=1 duration=280", logs)
        self.assertIn("leg=b dtmf digit=1 sent as INFO", logs)

    def test_info_from_the_caller_reaches_an_rfc4733_callee_as_events(self):
        """dtmf.callee "rfc4733": the caller offers no telephone-event; b2buad adds it to the
        callee's offer (uas_answer_te_port checks it) and takes it out of the answer; the
        caller's INFO Signal=5 is answered 200 and the callee's media port receives digit 5 as
        RFC 4733 events: marker first, one timestamp, growing durations, the end packet 3 times."""
        sink = RtpSink().start()
        self.sinks.append(sink)  # stopped by tearDown
        srv = self.start(callee="rfc4733")
        uas = self.uas(srv, "uas_answer_te_port", ruser=None, keys={"te_port": sink.port})
        uac = self.uac(srv, "uac_info_dtmf", callee=uas, hold_ms=1000).run()
        uas.wait()
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)
        answer = self.first(uac, "received", status=200)
        self.assertNotIn("telephone-event", answer.body,
                         "the caller never offered telephone-event: the answer must not carry it")
        events = sink.events(101)
        self.assertGreaterEqual(len(events), 5, "RFC 4733 packets received: %r" % events)
        self.assertTrue(all(e[4] == 5 for e in events), events)
        self.assertTrue(events[0][0], "the first packet must carry the marker bit")
        self.assertFalse(any(e[0] for e in events[1:]), events)
        self.assertEqual(len({e[2] for e in events}), 1, "one timestamp for the event")
        self.assertEqual(len({e[3] for e in events}), 1, "one SSRC")
        ends = [e for e in events if e[5]]
        self.assertEqual(len(ends), 3, "the end packet is sent three times: %r" % events)
        self.assertEqual(ends[0][6], 1280, "160 ms at 8 kHz")
        durations = [e[6] for e in events]
        self.assertEqual(durations, sorted(durations))
        seqs = [e[1] for e in events]
        self.assertEqual(seqs, [(seqs[0] + k) % 65536 for k in range(len(seqs))])
        self.assertIn("leg=b dtmf digit=5 sent as RFC 4733 events", srv.logs(300))


if __name__ == "__main__":
    harness.main()
