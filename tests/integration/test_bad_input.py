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
