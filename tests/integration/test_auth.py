"""Digest authentication through the real b2buad: SIPp callers without, with wrong and with right
credentials, a replayed Authorization header, trusted sources (SIPp on 127.0.0.2), rate limiting,
407 challenges, OPTIONS challenged on request, routing on the authenticated user, hostile
Authorization headers, and backends that challenge b2buad (outbound credentials)."""
import hashlib
import re
import signal
import socket
import time

import harness
from harness import B2buaTestCase, HOST, main, sipp_messages, start_b2bua_with
from test_bad_input import CRLF, request

REALM = "b2b.test"
USERS = {"alice": {"password": "secret"}, "dave": {"password": "dave-pw"}}


def auth_section(**overrides):
    section = {"realm": REALM, "users": USERS}
    section.update(overrides)
    return section


def metric(srv, name, **labels):
    """The value of one sample of GET /metrics (0 when absent)."""
    status, text = srv.get("/metrics")
    if status != 200:
        raise AssertionError("GET /metrics -> %s" % status)
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(name + ("{" + want + "}" if want else " ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


class AuthTest(B2buaTestCase):

    def start(self, auth=None, routes=None, groups=None):
        sections = {}
        if auth is not None:
            sections["auth"] = auth
        if groups is not None:
            sections["groups"] = groups
        return start_b2bua_with(self, sections, routes=routes)

    def caller(self, srv, callee, scenario, user="alice", password="secret", **kwargs):
        # SIPp's digest uri is host:port without the user unless told; b2buad checks that it
        # names the Request-URI (RFC 7616 3.4.6), as a real phone's does.
        ruri = "bob@%s" % (callee.address if callee else srv.address)  # SIPp adds "sip:"
        extra = ["-au", user, "-ap", password, "-auth_uri", ruri] if user else []
        return self.uac(srv, scenario, callee=callee, extra=extra, **kwargs)

    def sent_auth_headers(self, sipp):
        """The Authorization values SIPp sent, in order."""
        return [v for m in sipp_messages(sipp._p("messages")) if m.direction == "sent"
                for v in m.header("Authorization")]

    # -- inbound: the five flows of the issue ---------------------------------------------------

    def test_no_credentials_get_a_401_challenge(self):
        srv = self.start(auth_section())
        sink = self.sink()
        res = self.caller(srv, sink, "uac_expect_401", user=None).run().result
        self.assertSipp(res, rc=0, successful=1)
        self.assertEqual(sink.requests("INVITE"), [], "an unauthenticated INVITE was routed")
        self.assertEqual(metric(srv, "b2bua_sip_auth_total", result="challenge"), 1)
        self.assertEqual(srv.stats()["total_calls"], 0)

    def test_correct_password_is_routed(self):
        srv = self.start(auth_section())
        uas = self.uas(srv)
        self.assertSipp(self.caller(srv, uas, "uac_auth").run(), rc=0, successful=1)
        self.assertSipp(uas.wait(), rc=0, successful=1)
        self.assertEqual(metric(srv, "b2bua_sip_auth_total", result="ok"), 1)
        self.assertEqual(metric(srv, "b2bua_sip_auth_total", result="challenge"), 1)
        self.assertEqual(srv.stats()["answered_calls"], 1)

    def test_wrong_password_gets_403(self):
        srv = self.start(auth_section())
        sink = self.sink()
        res = self.caller(srv, sink, "uac_auth_expect_403", password="guess",
                          keys={"warning": "b2bua.auth.failed"}).run().result
        self.assertSipp(res, rc=0, successful=1)
        self.assertEqual(sink.requests("INVITE"), [])
        self.assertEqual(metric(srv, "b2bua_sip_auth_total", result="failed"), 1)

    def test_unknown_user_gets_403(self):
        srv = self.start(auth_section())
        sink = self.sink()
        res = self.caller(srv, sink, "uac_auth_expect_403", user="mallory",
                          keys={"warning": "b2bua.auth.failed"}).run().result
        self.assertSipp(res, rc=0, successful=1)
        self.assertEqual(sink.requests("INVITE"), [])

    def test_replayed_credentials_get_403(self):
        srv = self.start(auth_section())
        uas = self.uas(srv)
        first = self.caller(srv, uas, "uac_auth").run()
        self.assertSipp(first, rc=0, successful=1)
        captured = self.sent_auth_headers(first)
        self.assertEqual(len(captured), 1, captured)
        self.assertIn('nc=00000001', captured[0].replace('"', ""))
        # Another "caller" sends the very same Authorization header (same nonce, nc, response).
        replay = self.uac(srv, "uac_auth_header", name="replay", callee=uas,
                          keys={"auth_header_name": "Authorization", "auth_header": captured[0],
                                "warning": "b2bua.auth.replay"}).run()
        self.assertSipp(replay, rc=0, successful=1)
        self.assertEqual(metric(srv, "b2bua_sip_auth_total", result="replay"), 1)
        self.assertEqual(srv.stats()["total_calls"], 1, "the replay became a call")

    def test_trusted_source_skips_the_challenge(self):
        srv = self.start(auth_section(trusted=["127.0.0.2/32", "10.0.0.0/8"]))
        uas = self.uas(srv)
        trusted = self.uac(srv, "uac_call", name="trusted", callee=uas, local_ip="127.0.0.2",
                           keys={"caller": "alice", "xfoo": "x"})
        self.assertSipp(trusted.run(), rc=0, successful=1)
        self.assertSipp(uas.wait(), rc=0, successful=1)
        self.assertEqual(metric(srv, "b2bua_sip_auth_total", result="trusted"), 1)
        # the same call from 127.0.0.1 is challenged
        other = self.caller(srv, uas, "uac_expect_401", name="untrusted", user=None).run()
        self.assertSipp(other, rc=0, successful=1)

    def test_sighup_applies_new_users(self):
        srv = self.start(auth_section())
        uas = self.uas(srv)
        srv.config["auth"]["users"] = {"alice": {"password": "changed"}}
        harness.write_config(srv.config_path, srv.config)
        srv.signal(signal.SIGHUP)
        self.assertTrue(harness.wait_until(lambda: "reload: auth applied, 1 user(s)"
                                           in srv.logs(200), 5), srv.logs(40))
        old = self.caller(srv, uas, "uac_auth_expect_403", name="old",
                          keys={"warning": "b2bua.auth.failed"}).run()
        self.assertSipp(old, rc=0, successful=1)
        new = self.caller(srv, uas, "uac_auth", name="new", password="changed").run()
        self.assertSipp(new, rc=0, successful=1)
        self.assertSipp(uas.wait(), rc=0, successful=1)

    # -- rate limiting, 407, routing --------------------------------------------------------------

    def test_repeated_failures_block_the_source(self):
        srv = self.start(auth_section(max_failures=2, failure_window_s=60, block_s=60))
        sink = self.sink()
        bad = self.caller(srv, sink, "uac_auth_expect_403", name="bad", password="guess", calls=2,
                          keys={"warning": "b2bua.auth.failed"}).run()
        self.assertSipp(bad, rc=0, successful=2)
        # blocked now: 403 at once, without a challenge, even with the right password next time
        blocked = self.uac(srv, "uac_auth_header", name="blocked", callee=sink,
                           keys={"auth_header_name": "X-Probe", "auth_header": "1",
                                 "warning": "b2bua.auth.rate_limited"}).run()
        self.assertSipp(blocked, rc=0, successful=1)
        self.assertEqual(metric(srv, "b2bua_sip_auth_total", result="rate_limited"), 1)
        self.assertIn("b2bua.auth.rate_limited: source 127.0.0.1 blocked for 60 s",
                      harness.tail(srv.stderr_path, 200) + harness.tail(srv.stdout_path, 200))
        # another source is not affected
        uas = self.uas(srv)
        ok = self.caller(srv, uas, "uac_auth", name="other", local_ip="127.0.0.2").run()
        self.assertSipp(ok, rc=0, successful=1)
        self.assertEqual(sink.requests("INVITE"), [])

    def test_proxy_challenge_uses_407(self):
        srv = self.start(auth_section(challenge="proxy", algorithms=["MD5"]))
        uas = self.uas(srv)
        res = self.caller(srv, uas, "uac_auth").run()
        self.assertSipp(res, rc=0, successful=1)
        received = [m for m in sipp_messages(res._p("messages")) if m.direction == "received"]
        self.assertIn(407, [m.status for m in received])
        self.assertTrue(any(m.header("Proxy-Authorization")
                            for m in sipp_messages(res._p("messages")) if m.direction == "sent"))

    def test_routes_match_the_authenticated_user(self):
        uas_port = harness.free_port_block(1)
        routes = [
            {"name": "alice", "match": {"auth_user": "alice"}, "action": "route",
             "targets": ["sip:%s:%d" % (HOST, uas_port)]},
            {"name": "others", "default": True, "action": "reject", "status": 403,
             "reason": "Forbidden"},
        ]
        srv = self.start(auth_section(), routes=routes)
        uas = self.uas(srv, port=uas_port)
        self.assertSipp(self.caller(srv, uas, "uac_auth", name="alice").run(), rc=0, successful=1)
        self.assertSipp(uas.wait(), rc=0, successful=1)
        dave = self.caller(srv, uas, "uac_auth_expect_403", name="dave", user="dave",
                           password="dave-pw", keys={"warning": "b2bua.route.rejected"}).run()
        self.assertSipp(dave, rc=0, successful=1)
        self.assertEqual(metric(srv, "b2bua_sip_auth_total", result="ok"), 2)

    # -- hostile input ----------------------------------------------------------------------------

    def test_malformed_authorization_headers_are_answered(self):
        # many failures in a row here: keep the rate limiter out of the way
        srv = self.start(auth_section(algorithms=["SHA-256", "MD5"], max_failures=1000))
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((HOST, 0))
        sock.settimeout(0.2)
        self.addCleanup(sock.close)
        port = sock.getsockname()[1]
        good_nonce = "0" * 64
        cases = [
            ("garbage", "Digest !!!", 400, "b2bua.auth.malformed"),
            # sofia's own parser drops what it cannot read: no credentials, a new challenge
            ("unterminated quote", 'Digest username="alice, realm="%s"' % REALM, 401,
             "b2bua.auth.challenge"),
            ("huge value", 'Digest username="%s", realm="%s"' % ("a" * 6000, REALM), 400,
             "b2bua.auth.malformed"),
            ("missing fields", 'Digest username="alice", realm="%s"' % REALM, 400,
             "b2bua.auth.malformed"),
            ("unknown algorithm",
             'Digest username="alice", realm="%s", nonce="%s", uri="sip:bob@%s", response="0",'
             ' algorithm=SHA-512, qop=auth, nc=00000001, cnonce="c"' % (REALM, good_nonce,
                                                                       srv.address),
             401, "b2bua.auth.challenge"),
            ("forged nonce",
             'Digest username="alice", realm="%s", nonce="%s", uri="sip:bob@%s", response="0",'
             ' qop=auth, nc=00000001, cnonce="c"' % (REALM, good_nonce, srv.address),
             401, "b2bua.auth.challenge"),
            ("other realm", 'Digest username="alice", realm="elsewhere", nonce="x", uri="u",'
             ' response="r"', 401, "b2bua.auth.challenge"),
            ("Basic scheme", "Basic YWxpY2U6c2VjcmV0", 401, "b2bua.auth.challenge"),
            ("Digest without parameters", "Digest", 401, "b2bua.auth.challenge"),
        ]
        for name, value, status, warning in cases:
            with self.subTest(name):
                msg = request("INVITE", ruri="sip:bob@%s" % srv.address, port=port,
                              extra=("Authorization: " + value,))
                call_id = re.search(rb"Call-ID: (\S+)", msg).group(1).decode()
                sock.sendto(msg, (HOST, srv.sip_port))
                answer = self.final_response(sock, call_id)
                self.assertIsNotNone(answer, "no final response to: " + name)
                self.assertTrue(answer.startswith("SIP/2.0 %d " % status), answer[:200])
                self.assertIn('"%s"' % warning, answer)
                self.assertTrue(srv.running())
        self.assertEqual(srv.stats()["total_calls"], 0)

    def test_options_is_challenged_when_configured(self):
        srv = self.start(auth_section(methods=["INVITE", "OPTIONS"], trusted=["127.0.0.2/32"]))
        sock = self.udp_socket(HOST)
        port = sock.getsockname()[1]
        ruri = "sip:%s" % srv.address

        def options(header=None):
            msg = request("OPTIONS", ruri=ruri, port=port,
                          extra=("Authorization: " + header,) if header else ())
            call_id = re.search(rb"Call-ID: (\S+)", msg).group(1).decode()
            sock.sendto(msg, (HOST, srv.sip_port))
            answer = self.final_response(sock, call_id)
            self.assertIsNotNone(answer)
            return answer

        challenge = options()
        self.assertTrue(challenge.startswith("SIP/2.0 401 "), challenge[:300])
        self.assertIn('"b2bua.auth.challenge"', challenge)
        nonce = re.search(r'WWW-Authenticate: Digest realm="b2b.test", nonce="([0-9a-f]{64})"',
                          challenge).group(1)
        # the digest computed here, independently of b2buad's code (RFC 7616, MD5, qop=auth)
        md5 = lambda text: hashlib.md5(text.encode()).hexdigest()
        ha1 = md5("alice:%s:secret" % REALM)
        ha2 = md5("OPTIONS:" + ruri)
        response = md5("%s:%s:00000001:c0ffee:auth:%s" % (ha1, nonce, ha2))
        header = ('Digest username="alice", realm="%s", nonce="%s", uri="%s", response="%s", '
                  'algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"' % (REALM, nonce, ruri,
                                                                           response))
        ok = options(header)
        self.assertTrue(ok.startswith("SIP/2.0 200 "), ok[:300])
        self.assertIn("Allow:", ok)
        replay = options(header)
        self.assertTrue(replay.startswith("SIP/2.0 403 "), replay[:300])
        self.assertIn('"b2bua.auth.replay"', replay)
        # a trusted source needs no credentials
        trusted = self.udp_socket("127.0.0.2")
        msg = request("OPTIONS", ruri=ruri, port=trusted.getsockname()[1])
        trusted.sendto(msg, (HOST, srv.sip_port))
        answer = self.final_response(trusted, re.search(rb"Call-ID: (\S+)", msg).group(1).decode())
        self.assertTrue(answer and answer.startswith("SIP/2.0 200 "), answer)
        self.assertEqual(srv.stats()["total_calls"], 0)

    def udp_socket(self, ip):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((ip, 0))
        sock.settimeout(0.2)
        self.addCleanup(sock.close)
        return sock

    def final_response(self, sock, call_id, timeout=3.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, _ = sock.recvfrom(65535)
            except socket.timeout:
                continue
            text = data.decode(errors="replace")
            if call_id in text and text.startswith("SIP/2.0 ") and not text.startswith("SIP/2.0 1"):
                return text
        return None

    # -- outbound: backends that challenge b2buad ------------------------------------------------

    def backend_setup(self, auth, scenario="uas_auth_challenge"):
        port = harness.free_port_block(1)
        target = {"uri": "sip:%s:%d" % (HOST, port)}
        if auth:
            target["auth"] = auth
        srv = self.start(groups={"be": {"targets": [target]}},
                         routes=[{"name": "be", "action": "route", "group": "be"}])
        uas = self.sipp("backend", scenario, port=port,
                        keys={"backend_user": "b2b", "backend_pass": "pw"}).start()
        return srv, uas

    def test_backend_challenge_is_answered_with_its_credentials(self):
        srv, uas = self.backend_setup({"user": "b2b", "password": "pw", "realm": "backend.test"})
        res = self.uac(srv, "uac_call", keys={"caller": "alice", "xfoo": "x"}).run()
        self.assertSipp(res, rc=0, successful=1)
        self.assertSipp(uas.wait(), rc=0, successful=1)
        self.assertIn("backend auth user=b2b valid=true", uas.result.log)

    def test_backend_challenges_to_mid_call_requests_are_answered(self):
        """A backend that lets the call in but challenges its re-INVITE (401) and INFO (407):
        b2buad sends each again with the backend's credentials, and the caller's hold, resume and
        DTMF succeed end to end."""
        srv, uas = self.backend_setup({"user": "b2b", "password": "pw", "realm": "backend.test"},
                                      "uas_reinvite_challenge")
        res = self.uac(srv, "uac_hold_resume").run()
        self.assertSipp(res, rc=0, successful=1)
        self.assertSipp(uas.wait(), rc=0, successful=1)
        self.assertIn("re-INVITE auth valid=true", uas.result.log)
        self.assertIn("INFO auth valid=true", uas.result.log)
        self.assertEqual(metric(srv, "b2bua_sip_responses_received_total", code="401"), 1)

    def test_backend_challenge_without_credentials_fails_the_call(self):
        srv, uas = self.backend_setup(None)
        res = self.uac(srv, "uac_auth_header", keys={
            "auth_header_name": "X-Probe", "auth_header": "1",
            "warning": "b2bua.target.auth_failed"}).run()
        self.assertSipp(res, rc=0, successful=1)

    def test_backend_rejecting_the_credentials_fails_the_call(self):
        srv, uas = self.backend_setup({"user": "b2b", "password": "wrong"})
        res = self.uac(srv, "uac_call", keys={"caller": "alice", "xfoo": "x"}).run().result
        self.assertSipp(res, rc=1, failed=1)  # uac_call wants a 200
        self.assertSipp(uas.wait(), rc=0, successful=1)
        self.assertIn("backend auth user=b2b valid=false", uas.result.log)
        finals = [m.status for m in sipp_messages(res.path("messages"))
                  if m.direction == "received" and m.status and m.status >= 200]
        self.assertEqual(finals, [403])


    def test_second_backend_challenge_fails_the_call(self):
        srv, uas = self.backend_setup({"user": "b2b", "password": "pw"}, "uas_auth_always")
        res = self.uac(srv, "uac_auth_header", keys={
            "auth_header_name": "X-Probe", "auth_header": "1",
            "warning": "b2bua.target.auth_failed"}).run()
        self.assertSipp(res, rc=0, successful=1)
        self.assertSipp(uas.wait(), rc=0, successful=1)  # two INVITEs: credentials sent once
        self.assertEqual(metric(srv, "b2bua_sip_responses_received_total", code="401"), 2)


if __name__ == "__main__":
    main()
