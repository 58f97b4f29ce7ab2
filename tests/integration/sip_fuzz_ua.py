"""The fuzzer's own SIP endpoints (sip_fuzz.py): a caller side that establishes and answers
dialogs through b2buad, a callee (UDP and TCP UAS) that answers b2buad's INVITEs with damaged
responses, and the OPTIONS probe. One thread, one selector; every socket is on 127.0.0.1."""

import collections
import heapq
import itertools
import random
import selectors
import socket
import time
import traceback

from sip_fuzz_msgs import (CRLF, Msg, finish, mutate, request, response, sdp, tag_of, uri_of,
                           damage_sdp, BAD_URIS, HOST_URIS, NUMBERS)

HOST = "127.0.0.1"
# Retry-After values of the callee's refusals: odd but short. A 503 with a long one (2147483647)
# opens the backend's breaker for that long, and then no fuzzed call reaches the callee again.
RETRY_AFTER = ["0", "1", "2", "", "abc", "-1", "1;duration=5", "1.5", " ", "0x1", "1 (busy)"]
MAX_TCP_BUFFER = 1 << 20

# What the callee does with a new INVITE, and how often (weights).
CALLEE_BEHAVIOURS = [("ok", 30), ("ok_delayed", 6), ("bad_contact", 6), ("host_contact", 2),
                     ("no_to_tag", 4), ("broken_sdp_18x", 5), ("broken_sdp_2xx", 5), ("host_c", 1),
                     ("rr_garbage", 4), ("session_expires", 6), ("glare_491", 3), ("busy_503", 4),
                     ("other_final", 4), ("silence", 3), ("ring_forever", 3), ("mutated", 8),
                     ("reliable_18x", 2)]


class Dialog:
    """One dialog the fuzzer holds, as caller (towards b2buad's A leg) or callee (its B leg)."""

    def __init__(self, side, call_id, local, remote, target, transport, conn):
        self.side = side
        self.call_id = call_id
        self.local = local      # our From (caller) / To (callee) value, with our tag
        self.remote = remote    # theirs, with their tag (may be missing: damaged on purpose)
        self.target = target    # Request-URI for in-dialog requests
        self.transport = transport
        self.conn = conn
        self.cseq = 100


class Conn:
    """One TCP connection: the side it belongs to and what was read but not yet framed."""

    def __init__(self, sock, side):
        self.sock = sock
        self.side = side
        self.buf = bytearray()
        self.closed = False
        self.port = sock.getsockname()[1]


def frame_tcp(buf):
    """Splits complete SIP messages off a TCP buffer. Returns (messages, ok); ok is False when the
    stream cannot be framed (then the connection is dropped)."""
    out = []
    while True:
        while buf[:2] == b"\r\n":
            del buf[:2]
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return out, len(buf) < MAX_TCP_BUFFER
        head = Msg.parse(bytes(buf[:end + 4]))
        try:
            length = int(head.get("Content-Length", "0") or 0) if head else 0
        except ValueError:
            return out, False
        if length < 0 or length > MAX_TCP_BUFFER:
            return out, False
        if len(buf) < end + 4 + length:
            return out, True
        out.append(bytes(buf[:end + 4 + length]))
        del buf[:end + 4 + length]


def _request_uri(msg, fallback):
    """The Request-URI of a request we sent (its start line may be damaged on purpose)."""
    parts = msg.first.split(" ")
    return parts[1] if len(parts) > 1 and parts[1] else fallback


class Endpoints:
    """Sockets, dialogs and the answering logic of both sides. `b2b` is (host, port) of b2buad."""

    def __init__(self, seed, max_dialogs=30):
        self.rng = random.Random(seed ^ 0x5EED)
        self.sel = selectors.DefaultSelector()
        self.b2b = None
        self.max_dialogs = max_dialogs
        self.udp = {}
        for side in ("caller", "callee", "probe"):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((HOST, 0))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
            s.setblocking(False)
            self.udp[side] = s
            self.sel.register(s, selectors.EVENT_READ, ("udp", side))
        self.listeners = {}
        for side in ("caller", "callee"):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((HOST, 0))
            s.listen(64)
            s.setblocking(False)
            self.listeners[side] = s
            self.sel.register(s, selectors.EVENT_READ, ("listen", side))
        self.conns = []
        self.caller_conns = []  # persistent caller connections to b2buad
        self.dialogs = {"caller": collections.OrderedDict(), "callee": collections.OrderedDict()}
        self.pending = collections.OrderedDict()   # caller INVITEs: call_id -> (msg, transport, conn)
        self.callee_txn = collections.OrderedDict()  # branch -> responses sent (retransmissions)
        self.callee_open = collections.OrderedDict()  # call_id -> (req, reply) INVITEs not final
        self.timers = []
        self.seq = itertools.count()
        self.probe_answers = {}
        self.stats = collections.Counter()
        self.tags = itertools.count(1)
        # While draining, every in-dialog request but BYE gets 481: a call kept up only by our
        # answers to its session refreshes ends, so what is left is b2buad's.
        self.draining = False

    # -- addresses ------------------------------------------------------------------------------
    def port(self, side, transport="udp"):
        s = self.udp[side] if transport == "udp" else self.listeners[side]
        return s.getsockname()[1]

    def contact(self, side, transport):
        user = "alice" if side == "caller" else "bob"
        if transport == "tcp":
            return "<sip:%s@%s:%d;transport=tcp>" % (user, HOST, self.port(side, "tcp"))
        return "<sip:%s@%s:%d>" % (user, HOST, self.port(side))

    def via(self, side, transport, branch, conn=None):
        if transport == "tcp":
            port = conn.port if conn else self.port(side, "tcp")
            return "SIP/2.0/TCP %s:%d;branch=z9hG4bK%s" % (HOST, port, branch)
        return "SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport" % (HOST, self.port(side), branch)

    # -- sending --------------------------------------------------------------------------------
    def connect(self, side):
        """A new TCP connection from `side` to b2buad, or None when it cannot connect."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(1.0)
        try:
            s.connect(self.b2b)
        except OSError:
            s.close()
            self.stats["tcp.connect_failed"] += 1
            return None
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._adopt(s, side)

    def _adopt(self, s, side):
        s.settimeout(1.0)
        c = Conn(s, side)
        self.conns.append(c)
        self.sel.register(s, selectors.EVENT_READ, ("tcp", c))
        return c

    def caller_conn(self, index):
        """One of three persistent caller connections, reconnected when closed."""
        while len(self.caller_conns) <= index:
            self.caller_conns.append(None)
        c = self.caller_conns[index]
        if c is None or c.closed:
            c = self.caller_conns[index] = self.connect("caller")
        return c

    def close(self, c):
        if c.closed:
            return
        c.closed = True
        try:
            self.sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()
        self.conns.remove(c)

    def send_tcp(self, c, data):
        if c is None or c.closed:
            self.stats["tcp.send_on_closed"] += 1
            return False
        try:
            c.sock.sendall(data)
            return True
        except OSError:
            self.stats["tcp.send_failed"] += 1
            self.close(c)
            return False

    def send(self, side, transport, data, conn=None, addr=None):
        if transport == "tcp":
            return self.send_tcp(conn, data)
        try:
            self.udp[side].sendto(data, addr or self.b2b)
            return True
        except OSError:
            self.stats["udp.send_failed"] += 1
            return False

    def later(self, delay, fn):
        heapq.heappush(self.timers, (time.monotonic() + delay, next(self.seq), fn))

    # -- the loop -------------------------------------------------------------------------------
    def pump(self, timeout):
        """Handles whatever arrives within `timeout` seconds (and due timers)."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                heapq.heappop(self.timers)[2]()
            wait = deadline - now
            if self.timers:
                wait = min(wait, self.timers[0][0] - now)
            for key, _ in self.sel.select(max(0.0, wait)):
                self._readable(*key.data)
            if time.monotonic() >= deadline:
                return

    def _readable(self, kind, what):
        if kind == "udp":
            for _ in range(64):
                try:
                    data, addr = self.udp[what].recvfrom(70000)
                except (BlockingIOError, InterruptedError):
                    return
                except OSError:
                    return
                self.on_message(what, data, lambda d, a=addr, s=what: self.send(s, "udp", d, addr=a),
                                "udp", None)
        elif kind == "listen":
            try:
                s, _ = self.listeners[what].accept()
            except OSError:
                return
            self._adopt(s, what)
        else:
            self._tcp_readable(what)

    def _tcp_readable(self, c):
        try:
            data = c.sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.close(c)
            return
        c.buf += data
        msgs, ok = frame_tcp(c.buf)
        for m in msgs:
            self.on_message(c.side, m, lambda d, conn=c: self.send_tcp(conn, d), "tcp", c)
        if not ok:
            self.stats["tcp.unframeable"] += 1
            self.close(c)

    def on_message(self, side, data, reply, transport, conn):
        try:
            self._on_message(side, data, reply, transport, conn)
        except Exception:  # a bug of the fuzzer: counted (tests assert 0), the run goes on
            self.stats["fuzzer.internal_error"] += 1
            if self.stats["fuzzer.internal_error"] <= 3:
                traceback.print_exc()

    def _on_message(self, side, data, reply, transport, conn):
        msg = Msg.parse(data)
        if msg is None:
            self.stats["rx.unparseable"] += 1
            return
        self.stats["rx.%s" % side] += 1
        if side == "probe":
            if not msg.is_request:
                self.probe_answers[msg.get("Call-ID")] = msg.status
            return
        if msg.is_request:
            (self.caller_request if side == "caller" else self.callee_request)(
                msg, reply, transport, conn)
        else:
            self.on_response(side, msg, transport, conn)

    # -- responses to what we sent --------------------------------------------------------------
    def on_response(self, side, msg, transport, conn):
        num, method = msg.cseq()
        status = msg.status or 0
        self.stats["rx.%s.%dxx" % (side, status // 100)] += 1
        if method != "INVITE" or status < 200:
            return
        call_id = msg.get("Call-ID")
        if status >= 300:
            ruri = self._ruri_of(call_id, msg)
            self.pending.pop(call_id, None)
            ack = Msg("ACK %s SIP/2.0" % ruri,
                      [["Via", msg.get("Via")], ["Max-Forwards", "70"], ["From", msg.get("From")],
                       ["To", msg.get("To")], ["Call-ID", call_id], ["CSeq", "%d ACK" % num]])
            self.send(side, transport, finish(ack).serialize(), conn)
            return
        d = self.dialogs[side].get(call_id)
        if d is None and side == "caller" and call_id in self.pending:
            inv, tr, c = self.pending.pop(call_id)
            target = uri_of(msg.get("Contact")) or _request_uri(inv, "")
            if not target.startswith("sip:"):
                target = "sip:%s:%d" % self.b2b
            d = Dialog("caller", call_id, inv.get("From"), msg.get("To"), target, tr, c)
            self.dialogs["caller"][call_id] = d
            self.stats["dialogs.caller"] += 1
        if d is None:
            return
        ack = request("ACK", d.target, self.via(side, transport, "ack%d" % next(self.seq), conn),
                      d.local, msg.get("To"), call_id, num)
        self.send(side, transport, finish(ack).serialize(), conn)

    def _ruri_of(self, call_id, msg):
        p = self.pending.get(call_id)
        fallback = uri_of(msg.get("To")) or "sip:%s:%d" % self.b2b
        return _request_uri(p[0], fallback) if p else fallback

    # -- requests b2buad sends to the caller ----------------------------------------------------
    def caller_request(self, req, reply, transport, conn):
        method = req.method
        self.stats["rx.caller.%s" % method] += 1
        if method == "ACK":
            return
        call_id = req.get("Call-ID")
        if self.draining and method != "BYE":
            reply(finish(response(req, 481, "Gone")).serialize())
            return
        extra, body, ctype = [["Contact", self.contact("caller", transport)]], b"", None
        if method == "BYE":
            self.dialogs["caller"].pop(call_id, None)
        if method in ("INVITE", "UPDATE") and req.body:
            body, ctype = sdp(40000 + 2 * (sum(call_id.encode("utf-8", "surrogateescape")) % 1000), 2), "application/sdp"
        elif method == "INVITE":
            body, ctype = sdp(40000, 2), "application/sdp"
        reply(finish(response(req, 200, "OK", extra=extra, body=body, ctype=ctype)).serialize())

    # -- the callee -----------------------------------------------------------------------------
    def callee_request(self, req, reply, transport, conn):
        method = req.method
        self.stats["rx.callee.%s" % method] += 1
        branch = req.get("Via").partition("branch=")[2].split(";")[0]
        call_id = req.get("Call-ID")
        if method == "INVITE" and not tag_of(req.get("To")):
            if branch in self.callee_txn:  # a retransmission: what we sent, again
                for data in self.callee_txn[branch]:
                    reply(data)
                return
            self.callee_txn[branch] = []
            while len(self.callee_txn) > 5000:
                self.callee_txn.popitem(last=False)
            self.new_invite(req, branch, reply, transport, conn)
            return
        if method == "ACK":
            return
        if method == "CANCEL":
            reply(finish(response(req, 200, "OK")).serialize())
            pending = self.callee_open.pop(call_id, None)
            if pending:
                inv, rep = pending
                rep(finish(response(inv, 487, "Request Terminated", to_tag="c" + call_id[-6:]))
                    .serialize())
            return
        if method == "BYE":
            self.dialogs["callee"].pop(call_id, None)
        if self.draining and method != "BYE":
            reply(finish(response(req, 481, "Gone")).serialize())
            return
        self.in_dialog(req, reply, transport)

    def in_dialog(self, req, reply, transport):
        """Answers b2buad's in-dialog request: mostly 200, sometimes damaged or refused."""
        r = self.rng.random()
        extra = [["Contact", self.contact("callee", transport)]]
        body, ctype = b"", None
        if req.method in ("INVITE", "UPDATE") and (req.body or req.method == "INVITE"):
            body, ctype = sdp(42000, 3), "application/sdp"
        if r < 0.08 and req.method != "BYE":
            msg = response(req, self.rng.choice([491, 481, 500, 488, 415, 408, 403]), "No")
            msg.headers.append(["Retry-After", self.rng.choice(RETRY_AFTER)])
            finish(msg)
        elif r < 0.16:
            msg = response(req, 200, "OK", extra=extra, body=body, ctype=ctype)
            self.stats["callee.damaged_in_dialog"] += 1
            mutate(self.rng, msg)
        else:
            msg = finish(response(req, 200, "OK", extra=extra, body=body, ctype=ctype))
        reply(msg.serialize())

    def new_invite(self, req, branch, reply, transport, conn):
        behaviour = self.rng.choices([b for b, _ in CALLEE_BEHAVIOURS],
                                     [w for _, w in CALLEE_BEHAVIOURS])[0]
        self.stats["callee.%s" % behaviour] += 1
        call_id = req.get("Call-ID")
        tag = "c%d" % next(self.tags)
        cached = self.callee_txn[branch]

        def send(msg):
            data = msg.serialize()
            cached.append(data)
            reply(data)

        def answer(status, reason, extra=(), body=b"", ctype="application/sdp", raw=None):
            msg = raw or response(req, status, reason, to_tag=tag, extra=extra, body=body,
                                  ctype=ctype)
            if raw is None:
                finish(msg)
            if status >= 200:
                self.callee_open.pop(call_id, None)
            if 200 <= status < 300:
                self._callee_dialog(req, msg, transport, conn)
            send(msg)

        contact = [["Contact", self.contact("callee", transport)]]
        good = sdp(44000 + 2 * (next(self.seq) % 500))
        send(finish(response(req, 100, "Trying")))
        self.callee_open[call_id] = (req, reply)
        while len(self.callee_open) > 2000:
            self.callee_open.popitem(last=False)
        self._behave(behaviour, answer, contact, good, req, tag)

    def _behave(self, b, answer, contact, good, req, tag):
        rng = self.rng
        if b == "ok":
            answer(180, "Ringing", contact, ctype=None)
            answer(200, "OK", contact, good)
        elif b == "ok_delayed":
            answer(180, "Ringing", contact, ctype=None)
            self.later(rng.uniform(0.05, 0.6), lambda: answer(200, "OK", contact, good))
        elif b in ("bad_contact", "host_contact"):
            value = rng.choice(["*", "<tel:+15551234>", "<urn:service:x>", "<http://h/x>", ""] +
                               BAD_URIS[:4]) if b == "bad_contact" else rng.choice(HOST_URIS)
            answer(200, "OK", [["Contact", value]] if value else [], good)
        elif b == "no_to_tag":
            answer(200, "OK", contact, good, raw=finish(response(req, 200, "OK", extra=contact,
                                                                 body=good, ctype="application/sdp")))
        elif b == "broken_sdp_18x":
            answer(183, "Session Progress", contact, damage_sdp(rng, good))
            answer(200, "OK", contact, damage_sdp(rng, good))
        elif b == "broken_sdp_2xx":
            body = rng.choice([damage_sdp(rng, good), "", "garbage", good])
            answer(200, "OK", contact, body, ctype=rng.choice(["application/sdp", "text/plain"]))
        elif b == "host_c":
            answer(200, "OK", contact, good.replace("c=IN IP4 127.0.0.1", "c=IN IP4 media.invalid"))
        elif b == "rr_garbage":
            rr = rng.choice(BAD_URIS + ["<sip:127.0.0.1:1;lr>", "garbage,,,", "<sip:x;lr>, *"])
            answer(200, "OK", contact + [["Record-Route", rr]], good)
        elif b == "session_expires":
            answer(200, "OK", contact + [["Session-Expires", rng.choice(NUMBERS)],
                                         ["Require", rng.choice(["timer", "", "timer, foo"])]], good)
        elif b in ("glare_491", "busy_503", "other_final"):
            self._refuse(b, answer, contact)
        elif b == "ring_forever":
            answer(180, "Ringing", contact, ctype=None)
        elif b == "mutated":
            msg = response(req, rng.choice([180, 183, 200, 200]), "OK", to_tag=tag, extra=contact,
                           body=good, ctype="application/sdp")
            mutate(rng, msg)
            answer(msg.status or 200, "", raw=msg)
        elif b == "reliable_18x":
            answer(183, "Session Progress", contact + [["Require", "100rel"], ["RSeq", "1"]], good)
            self.later(rng.uniform(0.05, 0.3), lambda: answer(200, "OK", contact, ctype=None))
        # "silence": nothing after the 100

    def _refuse(self, b, answer, contact):
        rng = self.rng
        if b == "glare_491":
            answer(491, "Request Pending", ctype=None)
        elif b == "busy_503":
            answer(503, "Service Unavailable", [["Retry-After", rng.choice(RETRY_AFTER)]], ctype=None)
        else:
            status = rng.choice([302, 404, 480, 486, 488, 500, 600, 603, 699])
            extra = [["Contact", rng.choice(BAD_URIS)]] if status == 302 else []
            answer(status, "Refused", extra, ctype=None)

    def _callee_dialog(self, req, resp, transport, conn):
        call_id = req.get("Call-ID")
        if call_id in self.dialogs["callee"]:
            return
        target = uri_of(req.get("Contact"))
        if not target.startswith("sip:"):
            target = "sip:%s:%d" % self.b2b
        self.dialogs["callee"][call_id] = Dialog("callee", call_id, resp.get("To"), req.get("From"),
                                                 target, transport, conn)
        self.stats["dialogs.callee"] += 1
        while len(self.dialogs["callee"]) > 4 * self.max_dialogs:
            self.dialogs["callee"].popitem(last=False)

    # -- the probe ------------------------------------------------------------------------------
    def options_probe(self, n, timeout=2.0):
        """Sends OPTIONS from the probe socket; returns (status or None, seconds)."""
        call_id = "probe-%d@fuzz" % n
        port = self.port("probe")
        msg = request("OPTIONS", "sip:%s:%d" % self.b2b, "SIP/2.0/UDP %s:%d;branch=z9hG4bKp%d;rport"
                      % (HOST, port, n), "<sip:probe@%s:%d>;tag=p%d" % (HOST, port, n),
                      "<sip:%s:%d>" % self.b2b, call_id, 1)
        data = finish(msg).serialize()
        start = time.monotonic()
        sent_at = start
        self.send("probe", "udp", data)
        while time.monotonic() - start < timeout:
            self.pump(0.02)
            if call_id in self.probe_answers:
                return self.probe_answers.pop(call_id), time.monotonic() - start
            if time.monotonic() - sent_at >= 0.5:  # RFC 3261 timer E: UDP may lose one datagram
                sent_at = time.monotonic()
                self.stats["probe.retransmitted"] += 1
                self.send("probe", "udp", data)
        return None, time.monotonic() - start

    def shutdown(self):
        for c in list(self.conns):
            self.close(c)
        for s in list(self.udp.values()) + list(self.listeners.values()):
            try:
                self.sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()
        self.sel.close()


__all__ = ["Endpoints", "Dialog", "Conn", "frame_tcp", "CRLF"]
