"""Bad input never brings b2buad down: malformed SIP datagrams, broken INVITEs and garbage HTTP are
answered or dropped, and b2buad still answers OPTIONS and /health after each one."""

import os
import random
import socket
import time
import uuid

import harness

CRLF = "\r\n"


def request(method="OPTIONS", ruri=None, headers=None, body="", port=0, drop=(), extra=()):
    """A SIP request as text; `drop` leaves headers out, `extra` adds raw header lines."""
    branch = "z9hG4bK" + uuid.uuid4().hex[:16]
    h = {
        "Via": "SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport" % (port, branch),
        "From": "<sip:probe@127.0.0.1:%d>;tag=%s" % (port, uuid.uuid4().hex[:8]),
        "To": "<sip:bob@127.0.0.1>",
        "Call-ID": uuid.uuid4().hex + "@127.0.0.1",
        "CSeq": "1 " + method,
        "Max-Forwards": "70",
        "Contact": "<sip:probe@127.0.0.1:%d>" % port,
    }
    h.update(headers or {})
    lines = ["%s %s SIP/2.0" % (method, ruri or "sip:bob@127.0.0.1")]
    lines += ["%s: %s" % (k, v) for k, v in h.items() if k not in drop]
    lines += list(extra)
    lines.append("Content-Length: %d" % len(body.encode()))
    return (CRLF.join(lines) + CRLF + CRLF + body).encode()


SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"


def corpus(port, target):
    rng = random.Random(4475)  # fixed seed: the same garbage every run
    inv = dict(method="INVITE", ruri="sip:bob@%s" % target, port=port)
    yield "empty datagram", b""
    yield "one CRLF keep-alive", b"\r\n"
    yield "random bytes", bytes(rng.getrandbits(8) for _ in range(512))
    yield "random printable", "".join(chr(rng.randint(32, 126)) for _ in range(900)).encode()
    yield "request line only", b"INVITE sip:bob@127.0.0.1 SIP/2.0\r\n\r\n"
    yield "truncated headers", request(**inv)[:120]
    yield "no Via", request(drop=("Via",), **inv)
    yield "no From", request(drop=("From",), **inv)
    yield "no Call-ID", request(drop=("Call-ID",), **inv)
    yield "no CSeq", request(drop=("CSeq",), **inv)
    yield "bad CSeq", request(headers={"CSeq": "x INVITE"}, **inv)
    yield "CSeq method mismatch", request(headers={"CSeq": "1 BYE"}, **inv)
    yield "negative Max-Forwards", request(headers={"Max-Forwards": "-1"}, **inv)
    yield "huge Max-Forwards", request(headers={"Max-Forwards": "99999999999999999999"}, **inv)
    yield "Content-Length larger than the body", request(body=SDP, extra=("Content-Length: 99999",), **inv)
    yield "garbage SDP", request(body="this is not SDP\r\n", extra=("Content-Type: application/sdp",), **inv)
    yield "binary body", request(body="\x00\x01\x02sdp", extra=("Content-Type: application/sdp",), **inv)
    yield "tel: Request-URI", request(method="INVITE", ruri="tel:+15551234", port=port)
    yield "unknown scheme", request(method="INVITE", ruri="xyz:bob@127.0.0.1", port=port)
    yield "From without user", request(headers={"From": "<sip:127.0.0.1>;tag=1"}, **inv)
    yield "display name with quotes", request(headers={"From": '"A \\"q\\" B" <sip:a@h>;tag=2'}, **inv)
    yield "very long header", request(extra=("X-Long: " + "a" * 30000,), **inv)
    yield "10000 Via parameters", request(headers={"Via": "SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKx;%s" % (port, ";".join("p%d" % i for i in range(10000)))}, **inv)
    yield "ACK out of nowhere", request(method="ACK", port=port)
    yield "CANCEL out of nowhere", request(method="CANCEL", port=port)
    yield "BYE in no dialog without To tag", request(method="BYE", port=port)
    yield "unknown method", request(method="FOOBAR", port=port)
    yield "response to nothing", b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKnone\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nContent-Length: 0\r\n\r\n"
    yield "NUL bytes in headers", request(extra=("X-Nul: a\x00b",), **inv)


class BadInputTest(harness.B2buaTestCase):

    def options_ok(self, srv, sock):
        """Sends OPTIONS and waits (bounded) for 200 with its Call-ID."""
        port = sock.getsockname()[1]
        msg = request("OPTIONS", ruri="sip:%s" % srv.address, port=port)
        call_id = [l for l in msg.decode().split(CRLF) if l.startswith("Call-ID:")][0]
        sock.sendto(msg, (harness.HOST, srv.sip_port))
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                data, _ = sock.recvfrom(65535)
            except socket.timeout:
                continue
            text = data.decode(errors="replace")
            if call_id in text and text.startswith("SIP/2.0 200"):
                return True
        return False

    def test_malformed_sip_never_stops_b2buad(self):
        sink = self.sink()  # a target that never answers: routed INVITEs go nowhere
        srv = self.start_b2bua(routes=[{"name": "all", "match": {"to": "*"}, "action": "route",
                                        "targets": ["sip:" + sink.address]}],
                               timers={"sip_t1_ms": 50, "no_answer_ms": 1000})
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((harness.HOST, 0))
        sock.settimeout(0.2)
        self.addCleanup(sock.close)
        port = sock.getsockname()[1]
        for name, data in corpus(port, sink.address):
            with self.subTest(name):
                sock.sendto(data, (harness.HOST, srv.sip_port))
                self.assertTrue(srv.running(), "b2buad died after: " + name)
                self.assertTrue(self.options_ok(srv, sock), "no 200 to OPTIONS after: " + name)
        status, _ = harness.http_get(srv.api_port, "/health", timeout=2)
        self.assertEqual(status, 200)

    def test_garbage_http_never_stops_the_api(self):
        srv = self.start_b2bua()
        rng = random.Random(7)
        payloads = [b"\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                    bytes(rng.getrandbits(8) for _ in range(2048)),
                    b"GET /v1/calls HTTP/1.1\r\nHost: x\r\n" + b"X: " + b"a" * 20000 + b"\r\n\r\n",
                    b"POST /v1/calls HTTP/1.1\r\nContent-Length: 999999999\r\n\r\nabc"]
        for p in payloads:
            with socket.create_connection((harness.HOST, srv.api_port), timeout=2) as c:
                c.sendall(p)
                c.settimeout(2)
                try:
                    c.recv(4096)
                except (socket.timeout, ConnectionResetError):
                    pass
            status, _ = harness.http_get(srv.api_port, "/health", timeout=2)
            self.assertEqual(status, 200, "API down after %r" % p[:40])
        self.assertTrue(srv.running())


# ---------------------------------------------------------------------------------------------
# SDP b2buad cannot anchor (issue 17): a final response each, nothing left behind.

def offer_sdp(session_c, media_c=None):
    """An IPv4 offer with its session c= replaced and, if given, a media-level c= added."""
    lines = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", session_c, "t=0 0",
             "m=audio 4000 RTP/AVP 0"]
    if media_c:
        lines.append(media_c)
    lines.append("a=rtpmap:0 PCMU/8000")
    return CRLF.join(lines) + CRLF


BAD_OFFERS = [
    ("host name", offer_sdp("c=IN IP4 example.com"), 488, "b2bua.sdp.unsupported_address"),
    ("IPv6 c= in an IPv4 offer", offer_sdp("c=IN IP4 127.0.0.1", "c=IN IP6 ::1"), 488,
     "b2bua.sdp.address_family"),
    ("garbage address", offer_sdp("c=IN IP4 300.1.2.3"), 488, "b2bua.sdp.unparseable"),
    ("IPv6 literal called IP4", offer_sdp("c=IN IP4 ::1"), 488, "b2bua.sdp.unparseable"),
]


def header(text, name):
    for line in text.split(CRLF):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return None


class BadSdpRelayTest(harness.B2buaTestCase):
    """Relay mode, limits.max_calls 3: INVITEs whose SDP cannot be anchored each get a final
    response with a Warning id (a stranded one would hold a call slot, and the fourth would get
    503 b2bua.limits.max_calls), and a normal call still goes through afterwards."""

    def final_response(self, sock, call_id, timeout=5.0):
        """The first final response for `call_id` (bounded wait), or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, _ = sock.recvfrom(65535)
            except socket.timeout:
                continue
            text = data.decode(errors="replace")
            if not text.startswith("SIP/2.0 ") or header(text, "Call-ID") != call_id:
                continue
            if int(text.split(" ", 2)[1]) >= 200:
                return text
        return None

    def ack(self, sock, srv, invite, response):
        """ACK to a non-2xx final response: same branch, the response's To tag (RFC 3261 17.1.1.3)."""
        text = invite.decode()
        lines = ["ACK %s SIP/2.0" % text.split(" ")[1]]
        for name in ("Via", "From", "Call-ID", "Max-Forwards"):
            lines.append("%s: %s" % (name, header(text, name)))
        lines += ["To: %s" % header(response, "To"), "CSeq: 1 ACK", "Content-Length: 0"]
        sock.sendto((CRLF.join(lines) + CRLF + CRLF).encode(), (harness.HOST, srv.sip_port))

    def test_unanchorable_offers_are_answered_and_leave_nothing_behind(self):
        first, last = harness.even_port_range(4)
        srv = harness.start_b2bua_with(
            self, {"media": {"mode": "relay", "listen_ip": harness.HOST,
                             "ports": "%d-%d" % (first, last)}},
            limits={"max_calls": 3})
        ports_before = srv.stats()["media"]["ports_available"]
        uas = self.uas(srv, "uas_answer")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((harness.HOST, 0))
        sock.settimeout(0.2)
        self.addCleanup(sock.close)
        port = sock.getsockname()[1]
        for round_ in range(3):  # 12 INVITEs: four times max_calls
            for name, sdp, status, warning in BAD_OFFERS:
                with self.subTest(name=name, round=round_):
                    msg = request("INVITE", ruri="sip:bob@%s" % uas.address, port=port, body=sdp,
                                  extra=("Content-Type: application/sdp",))
                    call_id = header(msg.decode(), "Call-ID")
                    sock.sendto(msg, (harness.HOST, srv.sip_port))
                    resp = self.final_response(sock, call_id)
                    self.assertIsNotNone(resp, "no final response to an offer with " + name)
                    self.ack(sock, srv, msg, resp)
                    self.assertTrue(resp.startswith("SIP/2.0 %d " % status), resp[:200])
                    self.assertIn('"%s"' % warning, header(resp, "Warning") or "", resp[:600])
        after = srv.wait_stats(lambda s: s.get("active_calls") == 0 and
                               s["media"]["ports_available"] == ports_before, timeout=10)
        self.assertEqual(after.get("active_calls"), 0, after)
        self.assertEqual(after["media"]["ports_available"], ports_before, after)
        uac = self.uac(srv, "uac_basic", callee=uas, hold_ms=200).run()
        self.assertSipp(uac, successful=1)
        self.assertSipp(uas, successful=1)
        end = srv.wait_stats(lambda s: s.get("active_calls") == 0 and
                             s["media"]["ports_available"] == ports_before
                             and s["media"]["relays_active"] == 0, timeout=10)
        self.assertEqual(end.get("active_calls"), 0, end)
        self.assertEqual(end["media"]["ports_available"], ports_before, end)
        self.assertEqual(end["media"]["relays_active"], 0, end)
