"""Hostile SIP never takes b2buad down (issue 17): a Contact no request can be sent to, a request
that sofia-sip could not create, a caller whose Contact needs DNS while DNS is down, TCP peers
that send garbage and close, methods nobody knows. Each test fails on the code before its fix."""

import os
import re
import socket
import threading
import time
import uuid

import harness

CRLF = "\r\n"
SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def header(text, name):
    m = re.search(r"^%s:\s*(.*?)\r?$" % re.escape(name), text, re.M | re.I)
    return m.group(1) if m else None


def status_of(text):
    m = re.match(r"SIP/2.0 (\d{3})", text)
    return int(m.group(1)) if m else None


class Peer:
    """A raw SIP caller on a UDP socket of its own. It answers every request b2buad sends it
    (200, or what `answers` says by method) and keeps them in `requests`."""

    def __init__(self, srv, contact=None):
        self.srv = srv
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((harness.HOST, 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.contact = contact or "<sip:alice@127.0.0.1:%d>" % self.port
        self.call_id = uuid.uuid4().hex + "@127.0.0.1"
        self.tag = uuid.uuid4().hex[:8]
        self.cseq = 0
        self.remote_tag = None
        self.remote_target = None
        self.requests = []
        self.to_uri = None  # From and To of a callee (adopt), else built from the Request-URI
        self.from_uri = "<sip:alice@127.0.0.1:%d>" % self.port

    def close(self):
        self.sock.close()

    def request(self, method, ruri, headers=(), body="", branch=None, cseq=None, to_tag=True,
                ctype="application/sdp"):
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        branch = branch or "z9hG4bK" + uuid.uuid4().hex[:16]
        host = re.sub(r"^sips?:", "", ruri).split("@")[-1].split(";")[0]
        to = self.to_uri or "<sip:bob@%s>" % host
        if to_tag and self.remote_tag:
            to += ";tag=" + self.remote_tag
        lines = ["%s %s SIP/2.0" % (method, ruri),
                 "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport" % (self.port, branch),
                 "From: %s;tag=%s" % (self.from_uri, self.tag),
                 "To: " + to, "Call-ID: " + self.call_id, "CSeq: %d %s" % (cseq, method),
                 "Max-Forwards: 70", "Contact: " + self.contact]
        lines += list(headers)
        if body:
            lines.append("Content-Type: " + ctype)
        lines.append("Content-Length: %d" % len(body.encode()))
        data = (CRLF.join(lines) + CRLF + CRLF + body).encode()
        self.sock.sendto(data, (harness.HOST, self.srv.sip_port))
        return branch, cseq

    def _answer(self, text, body=""):
        """200 to a request from b2buad, copying the transaction's headers; to an INVITE with our
        tag, Contact and `body` (SDP)."""
        keep = [l for l in text.split(CRLF)
                if re.match(r"(Via|From|To|Call-ID|CSeq|Record-Route):", l, re.I)]
        if not re.search(r"^To:.*;tag=", text, re.M | re.I):
            keep = [l + ";tag=" + self.tag if re.match(r"To:", l, re.I) else l for l in keep]
            keep.append("Contact: " + self.contact)
        if body:
            keep.append("Content-Type: application/sdp")
        resp = CRLF.join(["SIP/2.0 200 OK"] + keep + ["Content-Length: %d" % len(body)])
        self.sock.sendto((resp + CRLF + CRLF + body).encode(), (harness.HOST, self.srv.sip_port))

    def adopt(self, invite):
        """Answers b2buad's INVITE 200 with SDP and takes the callee's side of its dialog."""
        self._answer(invite, SDP)
        self.call_id = header(invite, "Call-ID")
        self.remote_tag = re.search(r"tag=([^;>\s]+)", header(invite, "From")).group(1)
        self.to_uri = re.sub(r";tag=.*", "", header(invite, "From"))
        self.from_uri = header(invite, "To")
        self.remote_target = re.search(r"<([^>]+)>", header(invite, "Contact")).group(1)

    def wait(self, predicate, timeout, answer=True):
        """Reads until a message satisfies `predicate`; answers b2buad's requests meanwhile
        (unless `answer` is false)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            text = data.decode(errors="replace")
            if not text.startswith("SIP/2.0"):
                self.requests.append(text)
                if answer and not text.startswith("ACK "):
                    offer = text.startswith("INVITE ") and "\r\n\r\nv=0" in text
                    self._answer(text, SDP if offer else "")
            if predicate(text):
                return text
        return None

    def response(self, cseq, method, timeout=5.0, final=True):
        def match(t):
            st = status_of(t)
            return (st is not None and header(t, "CSeq") == "%d %s" % (cseq, method) and
                    (st >= 200 or not final))
        return self.wait(match, timeout)

    def ack_non2xx(self, ruri, branch, cseq):
        """The ACK of a non-2xx final response: same branch and CSeq number as its INVITE."""
        self.request("ACK", ruri, branch=branch, cseq=cseq)

    def call(self, ruri, headers=()):
        """INVITE with SDP; on 200 sends the ACK. Returns the final response's text."""
        branch, cseq = self.request("INVITE", ruri, headers=headers, body=SDP)
        return self.complete_call(ruri, branch, cseq)

    def complete_call(self, ruri, branch, cseq):
        """The rest of `call` once its INVITE is sent."""
        resp = self.response(cseq, "INVITE", timeout=10)
        if resp is None:
            return None
        if status_of(resp) < 300:
            self.remote_tag = re.search(r"tag=([^;>\s]+)", header(resp, "To")).group(1)
            m = re.search(r"<([^>]+)>", header(resp, "Contact") or "")
            self.remote_target = m.group(1) if m else ruri
            self.request("ACK", self.remote_target, cseq=cseq)
        else:
            self.ack_non2xx(ruri, branch, cseq)
        return resp


class HostileSipTest(harness.B2buaTestCase):

    def hang_up(self, srv, peer):
        """DELETE /v1/calls/{id} of the only call while `peer` answers b2buad's BYE (the DELETE
        returns when the call has ended). Returns (HTTP status, seconds, the BYE or None)."""
        status, calls = srv.get("/v1/calls")
        self.assertEqual(status, 200)
        call_id = calls["calls"][0]["id"]
        out = {}
        t0 = time.monotonic()
        t = threading.Thread(target=lambda: out.update(
            r=srv.request("DELETE", "/v1/calls/%s" % call_id, timeout=10)))
        t.start()
        bye = peer.wait(lambda m: m.startswith("BYE "), 10)
        t.join(12)
        return out.get("r", (None, None))[0], time.monotonic() - t0, bye

    def peer(self, srv, contact=None):
        p = Peer(srv, contact)
        self.addCleanup(p.close)
        return p

    def options_ok(self, srv):
        p = self.peer(srv)
        _, cseq = p.request("OPTIONS", "sip:%s" % srv.address)
        resp = p.response(cseq, "OPTIONS", timeout=3)
        return resp is not None and status_of(resp) == 200

    def callee(self, srv):
        """A SIPp callee that answers and then waits for the BYE (pass-through: R-URI names it)."""
        uas = self.uas(srv, "uas_answer")
        return uas, "sip:bob@%s" % uas.address

    def test_invite_with_a_contact_no_request_can_go_to_is_refused(self):
        """Before: answered 200, and sofia aborted (nua_dialog.c '*at') when the session refresh
        came due. Now 400 with Warning b2bua.sip.bad_contact: no dialog, no call slot."""
        srv = self.start_b2bua(timers={"min_se_s": 2, "session_expires_s": 2})
        uas, ruri = self.callee(srv)
        for contact in ("*", "<tel:+15551234>", "<urn:service:sos>", "<http://example.com/x>",
                        "<sip:a@h1>, <sip:b@h2>"):
            with self.subTest(contact=contact):
                p = self.peer(srv, contact)
                resp = p.call(ruri, headers=("Supported: timer", "Session-Expires: 2;refresher=uas"))
                self.assertIsNotNone(resp, "no final response")
                self.assertEqual(status_of(resp), 400, resp)
                self.assertIn("b2bua.sip.bad_contact", header(resp, "Warning") or "")
        time.sleep(3)  # a refresh would have come due by now
        self.assertTrue(srv.running(), srv.logs())
        self.assertTrue(self.options_ok(srv))
        self.assertEqual(srv.stats()["active_calls"], 0)

    def test_reinvite_with_a_bad_contact_never_breaks_the_dialog(self):
        """A re-INVITE with a tel: Contact (sofia takes it as the new target on receipt) gets 400;
        the call goes on: b2buad's session refreshes and its BYE still reach the caller, at the
        address its packets come from. Before: the refresh failed to be created, NUA recursed."""
        srv = self.start_b2bua(timers={"min_se_s": 2, "session_expires_s": 4})
        uas, ruri = self.callee(srv)
        p = self.peer(srv)
        resp = p.call(ruri, headers=("Supported: timer", "Session-Expires: 4;refresher=uas"))
        self.assertEqual(status_of(resp), 200, resp)
        p.contact = "<tel:+15551234>"
        branch, cseq = p.request("INVITE", p.remote_target, body=SDP)
        resp = p.response(cseq, "INVITE")
        self.assertEqual(status_of(resp), 400, resp)
        self.assertIn("b2bua.sip.bad_contact", header(resp, "Warning") or "")
        p.ack_non2xx(p.remote_target, branch, cseq)
        # b2buad is the refresher towards the caller: its refresh (UPDATE) arrives within 4 s.
        refresh = p.wait(lambda t: t.startswith("UPDATE ") or t.startswith("INVITE "), 6)
        self.assertIsNotNone(refresh, "no session refresh reached the caller")
        status, _, bye = self.hang_up(srv, p)
        self.assertEqual(status, 200)
        self.assertIsNotNone(bye, "no BYE reached the caller")
        uas.wait(timeout=10)
        self.assertTrue(srv.running(), srv.logs())
        self.assertTrue(self.options_ok(srv))

    def test_caller_contact_with_a_host_name_and_dns_down(self):
        """The caller's Contact is a host name and DNS does not answer (b2buad's resolv.conf names
        a loopback address nobody serves): b2buad's BYE goes to where the caller's packets come
        from, without a lookup. Before: the SIP thread spun on port 53 and never handled SIP again."""
        self.assertTrue(harness.namespaces_work(), "this test needs `unshare -m` (run as root)")
        srv = self.start_b2bua()
        uas, ruri = self.callee(srv)
        p = self.peer(srv, "<sip:alice@caller.invalid:5070>")
        resp = p.call(ruri)
        self.assertEqual(status_of(resp), 200, resp)
        status, took, bye = self.hang_up(srv, p)
        self.assertEqual(status, 200, "DELETE of the call")
        self.assertLess(took, 3.0)
        self.assertIsNotNone(bye, "no BYE reached the caller's source address")
        self.assertIn("caller.invalid", bye.split(CRLF)[0])  # the Request-URI is its Contact
        self.assertTrue(self.options_ok(srv))
        uas.wait(timeout=10)
        srv.wait_stats(lambda s: s.get("active_calls") == 0, 5)
        t0 = time.monotonic()
        self.assertEqual(srv.stop(timeout=8), 0, "SIGTERM must still stop b2buad")
        self.assertLess(time.monotonic() - t0, 8)
        self.check_idle = False

    def ringer(self, repeat, send_487):
        """A raw callee on its own UDP socket: rings (180; with `repeat` 180, 181, 182... every
        0.7 s), answers CANCEL with 200 and, with `send_487`, the INVITE with 487. Returns the
        socket and a dict that gets "cancel" (and "n", provisional responses sent)."""
        callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        callee.bind((harness.HOST, 0))
        callee.settimeout(0.1)
        self.addCleanup(callee.close)
        stop = threading.Event()
        got = {}

        def reply(request, status_line, to, src, extra=()):
            keep = [l for l in request.split(CRLF) if re.match(r"(Via|From|Call-ID|CSeq):", l)]
            msg = CRLF.join([status_line, "To: " + to] + keep + list(extra) +
                            ["Content-Length: 0", "", ""])
            callee.sendto(msg.encode(), src)

        def ring():
            invite, src, last = None, None, 0.0
            deadline = time.monotonic() + 20
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    data, src_ = callee.recvfrom(65535)
                    text = data.decode(errors="replace")
                    if text.startswith("INVITE "):
                        invite, src = text, src_
                    elif text.startswith("CANCEL "):
                        got["cancel"] = text
                        reply(text, "SIP/2.0 200 OK", header(text, "To"), src_)
                        if send_487:
                            reply(invite, "SIP/2.0 487 Request Terminated",
                                  header(invite, "To") + ";tag=ringer", src_)
                except socket.timeout:
                    pass
                due = not got.get("n") or (repeat and time.monotonic() - last > 0.7)
                if invite and "cancel" not in got and due:
                    last = time.monotonic()
                    n = got["n"] = got.get("n", 0) + 1  # 180, 181, 182...: each one new
                    reply(invite, "SIP/2.0 %d Ringing" % (180 + n % 3 if n > 1 else 180),
                          header(invite, "To") + ";tag=ringer", src,
                          ["Contact: <sip:ringer@127.0.0.1:%d>" % callee.getsockname()[1]])

        t = threading.Thread(target=ring)
        t.start()
        self.addCleanup(lambda: (stop.set(), t.join(5)))
        return callee, got

    def test_a_callee_that_never_answers_our_cancel_is_let_go(self):
        """RFC 3261 9.1: the callee answers CANCEL 200 but never sends 487; 64*T1 after the
        CANCEL b2buad takes the INVITE as cancelled, and the call leaves /v1/calls. Before: it
        stayed there, 'ending', for good."""
        srv = self.start_b2bua(timers={"no_answer_ms": 1000, "sip_t1_ms": 50})
        callee, got = self.ringer(repeat=False, send_487=False)
        p = self.peer(srv)
        resp = p.call("sip:bob@127.0.0.1:%d" % callee.getsockname()[1])
        self.assertEqual(status_of(resp), 480, resp)
        # The callee's thread records the CANCEL; the caller's 480 may come first.
        self.assertTrue(harness.wait_until(lambda: "cancel" in got, 3.0), "no CANCEL: %r" % got)
        gone = harness.wait_until(lambda: srv.get("/v1/calls")[1].get("calls") == [], 8.0, 0.2)
        self.assertTrue(gone, "call still listed: %r" % (srv.get("/v1/calls")[1],))

    def test_no_call_outlives_the_setup_deadline(self):
        """A callee that sends 180, 181, 182... every 0.7 s and never answers restarts the bridge's no-answer
        timer each time; timers.setup_deadline_ms still ends the call: 500 to the caller, CANCEL
        to the callee, the slot back."""
        srv = self.start_b2bua(timers={"no_answer_ms": 1500, "route_timeout_ms": 500,
                                       "setup_deadline_ms": 3000})
        callee, got = self.ringer(repeat=True, send_487=True)
        p = self.peer(srv)
        t0 = time.monotonic()
        resp = p.call("sip:bob@127.0.0.1:%d" % callee.getsockname()[1])
        took = time.monotonic() - t0
        self.assertIsNotNone(resp, "no final response")
        self.assertEqual(status_of(resp), 500, resp)
        self.assertIn("b2bua.call.setup_deadline", header(resp, "Warning") or "")
        self.assertGreater(took, 2.9)
        self.assertLess(took, 6.0)
        harness.wait_until(lambda: "cancel" in got, 3.0)
        self.assertIn("cancel", got, "the callee got no CANCEL")
        srv.wait_stats(lambda s: s.get("active_calls") == 0, 5)

    def test_callee_2xx_with_a_contact_no_request_can_go_to(self):
        """A callee answers 200 with `Contact: *`: NUA's ACK and b2buad's BYE go to the route
        target's address (NUTAG_PROXY) instead of failing to be created; the caller gets 502
        b2bua.target.bad_contact. Before: NUA could not create the ACK or BYE."""
        srv = self.start_b2bua()
        callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        callee.bind((harness.HOST, 0))
        callee.settimeout(0.1)
        self.addCleanup(callee.close)
        got = []
        stop = threading.Event()

        def answer():
            deadline = time.monotonic() + 15
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    data, src = callee.recvfrom(65535)
                except socket.timeout:
                    continue
                text = data.decode(errors="replace")
                got.append(text)
                keep = [l for l in text.split(CRLF) if re.match(r"(Via|From|Call-ID|CSeq):", l)]
                to = header(text, "To")
                if text.startswith("INVITE "):
                    to += ";tag=badcontact"
                    lines = ["SIP/2.0 200 OK", "To: " + to] + keep + [
                        "Contact: *", "Content-Type: application/sdp",
                        "Content-Length: %d" % len(SDP), "", SDP]
                elif text.startswith("BYE ") or text.startswith("CANCEL "):
                    lines = ["SIP/2.0 200 OK", "To: " + to] + keep + ["Content-Length: 0", "", ""]
                else:
                    continue
                callee.sendto(CRLF.join(lines).encode(), src)

        t = threading.Thread(target=answer)
        t.start()
        self.addCleanup(lambda: (stop.set(), t.join(5)))
        p = self.peer(srv)
        resp = p.call("sip:bob@127.0.0.1:%d" % callee.getsockname()[1])
        self.assertIsNotNone(resp, "no final response")
        self.assertEqual(status_of(resp), 502, resp)
        self.assertIn("b2bua.target.bad_contact", header(resp, "Warning") or "")
        self.assertTrue(harness.wait_until(
            lambda: any(m.startswith("BYE ") for m in got), 5.0), "the callee got no BYE: %r" % got)
        self.assertTrue(any(m.startswith("ACK ") for m in got), "the callee's 200 was not ACKed")
        self.assertTrue(srv.running(), srv.logs())
        self.assertTrue(self.options_ok(srv))

    def test_a_2xx_waits_for_the_callers_prack(self):
        """RFC 3262 3: the callee's 200 comes while our reliable 183 to the caller is not PRACKed
        yet; b2buad holds the 200 until the PRACK (sofia would keep it as a saved signal, whose
        clean-up crashed b2buad under the SIP fuzzer)."""
        srv = self.start_b2bua()
        uas = self.uas(srv, "uas_100rel", ruser=None)
        p = self.peer(srv)
        ruri = "sip:bob@%s" % uas.address
        _, cseq = p.request("INVITE", ruri, headers=("Supported: 100rel",), body=SDP)
        early = p.wait(lambda t: t.startswith("SIP/2.0 183"), 5)
        self.assertIsNotNone(early, "no 183")
        rseq = header(early, "RSeq")
        self.assertTrue(rseq, "the 183 is not reliable: %s" % early)
        early_200 = p.wait(lambda t: t.startswith("SIP/2.0 200") and "INVITE" in header(t, "CSeq"), 1.5)
        self.assertIsNone(early_200, "a 200 before the PRACK")
        p.remote_tag = re.search(r"tag=([^;>\s]+)", header(early, "To")).group(1)
        target = re.search(r"<([^>]+)>", header(early, "Contact")).group(1)
        _, pcseq = p.request("PRACK", target, headers=("RAck: %s %d INVITE" % (rseq, cseq),))
        answer = p.wait(lambda t: t.startswith("SIP/2.0 200") and
                        header(t, "CSeq") == "%d INVITE" % cseq, 5)
        self.assertIsNotNone(answer, "no 200 after the PRACK")
        p.request("ACK", target, cseq=cseq)
        _, bcseq = p.request("BYE", target)
        self.assertEqual(status_of(p.response(bcseq, "BYE")), 200)
        uas.wait(timeout=10)
        self.assertTrue(srv.running())

    def test_a_caller_that_never_pracks_gets_504(self):
        """RFC 3262 3: no PRACK for our reliable 183 within 64*T1 (3.2 s at T1 50 ms): the held 200
        is never sent; the caller gets 504 (NUA's, or b2bua.call.no_prack from the SIP thread's sweep
        if NUA has not sent one) and the answered callee a BYE."""
        srv = self.start_b2bua(timers={"sip_t1_ms": 50})
        uas = self.uas(srv, "uas_100rel", ruser=None)
        p = self.peer(srv)
        _, cseq = p.request("INVITE", "sip:bob@%s" % uas.address, headers=("Supported: 100rel",),
                            body=SDP)
        self.assertIsNotNone(p.wait(lambda t: t.startswith("SIP/2.0 183"), 5), "no 183")
        final = p.response(cseq, "INVITE", timeout=8)
        self.assertIsNotNone(final, "no final response")
        self.assertEqual(status_of(final), 504, final)  # sofia's own at 64*T1, else ours
        uas.wait(timeout=10)
        self.assertSipp(uas, successful=1)
        self.assertTrue(srv.running())

    def test_a_reinvite_never_waits_behind_our_info_in_sofia(self):
        """F7 (SIGSEGV in su_msg_destroy under the SIP fuzzer). NUA queues a re-INVITE behind an
        INFO still open on the dialog and starts it from the next ACK it gets; when our BYE has
        begun meanwhile, that start fails, and NUA frees the server request whose ACK it is
        handling (nua_session.c process_ack; ASan: heap-use-after-free). Now the callee's
        re-INVITE gets 491 b2bua.offer.leg_busy while our INFO to the caller is open, and never
        reaches NUA's queue. Before: no answer to it, and the ACK below read freed memory."""
        srv = self.start_b2bua()
        a, c = self.peer(srv), self.peer(srv)
        ruri = "sip:bob@127.0.0.1:%d" % c.port
        branch, cseq = a.request("INVITE", ruri, body=SDP)
        invite = c.wait(lambda t: t.startswith("INVITE "), 5)
        self.assertIsNotNone(invite, "the INVITE did not reach the callee")
        c.adopt(invite)
        self.assertEqual(status_of(a.complete_call(ruri, branch, cseq)), 200)
        # The caller re-INVITEs (the callee answers it) and holds the ACK of our 200.
        _, rcseq = a.request("INVITE", a.remote_target, body=SDP)
        self.assertIsNotNone(c.wait(lambda t: t.startswith("INVITE "), 5), "no re-INVITE relayed")
        self.assertEqual(status_of(a.response(rcseq, "INVITE", timeout=10) or ""), 200)
        # The callee's INFO reaches the caller, who holds its answer.
        c.request("INFO", c.remote_target, body="Signal=5\r\nDuration=160\r\n",
                  ctype="application/dtmf-relay")
        info = a.wait(lambda t: t.startswith("INFO "), 5, answer=False)
        self.assertIsNotNone(info, "the INFO did not reach the caller")
        _, ccseq = c.request("INVITE", c.remote_target, body=SDP)
        refused = c.response(ccseq, "INVITE", timeout=12)
        self.assertIsNotNone(refused, "no final response to the callee's re-INVITE")
        self.assertEqual(status_of(refused), 491, refused)
        self.assertIn("b2bua.offer.leg_busy", header(refused, "Warning") or "")
        c.request("ACK", c.remote_target, cseq=ccseq)
        # The callee hangs up (our BYE to the caller waits for the INFO), the caller answers the
        # INFO (the BYE goes out), then ACKs its re-INVITE's 200.
        _, bcseq = c.request("BYE", c.remote_target)
        self.assertEqual(status_of(c.response(bcseq, "BYE")), 200)
        a._answer(info)
        self.assertIsNotNone(a.wait(lambda t: t.startswith("BYE "), 5), "no BYE to the caller")
        a.request("ACK", a.remote_target, cseq=rcseq)
        self.assertTrue(self.options_ok(srv))
        self.assertTrue(srv.running(), srv.logs())
        self.assertFalse([r for r in a.requests if r.startswith("INVITE ")],
                         "a re-INVITE reached the caller while its INFO was open")

    def test_a_huge_body_in_the_second_message_of_one_tcp_read(self):
        """F10: tport parses what follows a message in one TCP read in a message msg_next()
        creates without NTATAG_MAXSIZE, so its Content-Length sized one allocation: 2 GiB or more
        aborted b2buad (su_alloc.c: size < 1 << SIZEBITS). Now both get 413, as a lone one does."""
        srv = self.start_b2bua()

        def options(n, content_length, body=""):
            return ("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK-f10-%d\r\n"
                    "From: <sip:a@127.0.0.1>;tag=f10\r\nTo: <sip:b@127.0.0.1>\r\n"
                    "Call-ID: f10-%d@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                    "Content-Length: %s\r\n\r\n%s" % (srv.address, n, n, content_length, body))

        for data in (options(1, "3000000000", "abc"),
                     options(2, "0") + options(3, "3000000000", "abc"),
                     options(4, "0") + options(5, "3145728", "abc")):
            got = b""
            with socket.create_connection((harness.HOST, srv.sip_port), timeout=2) as conn:
                conn.sendall(data.encode())
                deadline = time.monotonic() + 3
                while b"SIP/2.0 413" not in got and time.monotonic() < deadline:
                    try:
                        chunk = conn.recv(65535)
                    except socket.timeout:
                        break
                    if not chunk:
                        break
                    got += chunk
            self.assertTrue(srv.running(), srv.logs())
            self.assertIn(b"SIP/2.0 413", got, data[:60])
        self.assertTrue(self.options_ok(srv))

    def test_unknown_method_gets_501_with_allow(self):
        """RFC 3261 8.2.1 / 21.5.2, out of a dialog and in one."""
        srv = self.start_b2bua()
        p = self.peer(srv)
        _, cseq = p.request("FOOBAR", "sip:bob@%s" % srv.address)
        resp = p.response(cseq, "FOOBAR", timeout=3)
        self.assertIsNotNone(resp, "no answer to an unknown method")
        self.assertEqual(status_of(resp), 501, resp)
        self.assertIn("INVITE", header(resp, "Allow") or "")
        uas, ruri = self.callee(srv)
        p = self.peer(srv)
        self.assertEqual(status_of(p.call(ruri)), 200)
        _, cseq = p.request("FOOBAR", p.remote_target)
        resp = p.response(cseq, "FOOBAR", timeout=3)
        self.assertIsNotNone(resp, "no answer to an unknown method in a dialog")
        self.assertEqual(status_of(resp), 501, resp)
        _, cseq = p.request("BYE", p.remote_target)
        self.assertEqual(status_of(p.response(cseq, "BYE")), 200)
        uas.wait(timeout=10)
        self.assertTrue(self.options_ok(srv))

    def test_tcp_peers_that_send_garbage_and_close_leave_no_descriptor(self):
        """RFC 4475 lwsruri over TCP, then close: sofia drops the message; the connection must
        not stay in CLOSE_WAIT. 100 such connections, descriptors back to the baseline."""
        srv = harness.B2bua(self.tmp)
        srv.config["sip"]["tcp_idle_ms"] = 2000
        self.servers.append(srv)
        srv.start()
        fd_dir = "/proc/%d/fd" % srv.pid
        baseline = len(os.listdir(fd_dir))
        garbage = ("INVITE sip:user@example.com; lr SIP/2.0\r\n"
                   "To: sip:user@example.com;tag=3xfe-9921883-z9f\r\n"
                   "From: sip:caller@example.net;tag=231413434\r\n"
                   "Max-Forwards: 5\r\nCall-ID: 2fbb4b7c-6d2f-47fb-b07e-1e0e12cd03bc\r\n"
                   "CSeq: 2452 INVITE\r\n"
                   "Via: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK-lwsruri\r\n"
                   "Contact: <sip:caller@127.0.0.1:1>\r\nContent-Length: 0\r\n\r\n").encode()
        for _ in range(100):
            with socket.create_connection((harness.HOST, srv.sip_port), timeout=2) as c:
                c.sendall(garbage)
        grown = len(os.listdir(fd_dir))
        back = harness.wait_until(lambda: len(os.listdir(fd_dir)) <= baseline + 2, 20.0, 0.2)
        self.assertTrue(back, "descriptors: %d before, %d after 100 connections, %d 20 s later" % (
            baseline, grown, len(os.listdir(fd_dir))))
        self.assertTrue(self.options_ok(srv))


if __name__ == "__main__":
    harness.main()
