#!/usr/bin/env python3
"""relay_calls.py: one step of bench/load/relay.sh, and its final summary.

  relay_calls.py run --mode direct|b2bua|rtpengine --calls N --gen PATH [options]
      Starts the RTP generator (bench/rtp/rtp_load.cpp) for N calls, sets up N relayed calls
      (b2bua: raw SIP over UDP, this process is both the caller and the callee; rtpengine: ng
      offer/answer; direct: none), lets the generator measure, tears the calls down and appends
      one JSON line to --results. Prints one human line. Exit 0: every call set up and loss below
      --loss-max; 1: not (the ladder stops for this path); 2: the tooling itself failed.
  relay_calls.py ping --ng HOST:PORT        exit 0 when rtpengine answers an ng ping
  relay_calls.py summary FILE [--loss-max PCT]

Standard library only; talks to 127.0.0.1 only (the addresses given); every wait has a deadline.
"""

import argparse
import json
import os
import random
import re
import select
import socket
import subprocess
import sys
import time

HOST = "127.0.0.1"


# ---------------------------------------------------------------------------------------------
# Generator process

class Gen:
    """rtp_load as a child: line protocol on stdin/stdout (see rtp_load.cpp)."""

    def __init__(self, args, calls, direct, cpu_pids, label):
        cmd = [args.gen, "--calls", str(calls), "--warmup-s", str(args.warmup_s),
               "--measure-s", str(args.measure_s), "--drain-ms", str(args.drain_ms),
               "--pps", str(args.pps), "--slots", str(args.slots), "--late-ms", str(args.late_ms), "--label", label, "--wait-s", str(args.setup_timeout_s + 60)]
        if direct:
            cmd.append("--direct")
        if args.gen_cpu is not None:
            cmd = ["taskset", "-c", str(args.gen_cpu)] + cmd
        for p in cpu_pids:
            cmd += ["--cpu-pid", str(p)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.buf = b""
        self.ports = {}

    def line(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("rtp_load: no output in time")
            r, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    err = self.proc.stderr.read().decode(errors="replace").strip()
                    raise RuntimeError("rtp_load exited: " + (err or "no message"))
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def read_ports(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            ln = self.line(deadline)
            if ln == "ready":
                return self.ports
            w = ln.split()
            if w and w[0] == "port":
                self.ports[int(w[1])] = (int(w[2]), int(w[3]))

    def go(self, peers):
        """peers: {call: ((ip, port) caller sends to, (ip, port) callee sends to)}."""
        out = []
        for c, (a, b) in sorted(peers.items()):
            out.append("peer %d %s:%d %s:%d\n" % (c, a[0], a[1], b[0], b[1]))
        out.append("go\n")
        self.proc.stdin.write("".join(out).encode())
        self.proc.stdin.flush()

    def result(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            ln = self.line(deadline)
            if ln.startswith("result "):
                return json.loads(ln[len("result "):])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass


# ---------------------------------------------------------------------------------------------
# SDP and SIP helpers

def offer_sdp(call, port, sess):
    return ("v=0\r\n"
            "o=- %d 1 IN IP4 %s\r\n"
            "s=b2rr-%d\r\n"
            "c=IN IP4 %s\r\n"
            "t=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=ptime:20\r\n"
            "a=x-b2rr-call:%d\r\n"
            "a=sendrecv\r\n") % (sess, HOST, call, HOST, port, call)


def sdp_media(sdp):
    """(address, port, call marker or None) of the first m=audio line."""
    addr, port, call, sname = None, None, None, None
    for ln in sdp.replace("\r\n", "\n").split("\n"):
        if ln.startswith("c=IN IP4 ") and (addr is None or port is not None):
            addr = ln.split()[2].split("/")[0]
        elif ln.startswith("m=audio ") and port is None:
            port = int(ln.split()[1].split("/")[0])
        elif ln.startswith("a=x-b2rr-call:"):
            call = int(ln.split(":", 1)[1])
        elif ln.startswith("s=b2rr-"):
            sname = int(ln[len("s=b2rr-"):])
    if call is None:
        call = sname
    return addr, port, call


COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length",
           "c": "content-type"}


class Msg:
    def __init__(self, data):
        text = data.decode("utf-8", errors="replace")
        head, _, body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.first = lines[0]
        self.headers = []
        for ln in lines[1:]:
            if ln[:1] in (" ", "\t") and self.headers:
                n, v = self.headers[-1]
                self.headers[-1] = (n, v + " " + ln.strip())
                continue
            n, _, v = ln.partition(":")
            n = n.strip().lower()
            self.headers.append((COMPACT.get(n, n), v.strip()))
        self.body = body
        self.is_response = self.first.startswith("SIP/2.0 ")
        self.status = int(self.first.split()[1]) if self.is_response else 0
        self.method = "" if self.is_response else self.first.split()[0]

    def get(self, name):
        for n, v in self.headers:
            if n == name:
                return v
        return ""

    def all(self, name):
        return [v for n, v in self.headers if n == name]

    def cseq_method(self):
        parts = self.get("cseq").split()
        return parts[1] if len(parts) > 1 else ""


def tag_of(value):
    m = re.search(r";\s*tag=([^;>\s]+)", value)
    return m.group(1) if m else ""


def uri_of(value):
    m = re.search(r"<([^>]+)>", value)
    return m.group(1) if m else value.split(";")[0].strip()


def response(req, code, reason, to_tag=None, extra="", body=""):
    to = req.get("to")
    if to_tag and not tag_of(to):
        to += ";tag=" + to_tag
    lines = ["SIP/2.0 %d %s" % (code, reason)]
    lines += ["Via: " + v for v in req.all("via")]
    lines += ["From: " + req.get("from"), "To: " + to, "Call-ID: " + req.get("call-id"),
              "CSeq: " + req.get("cseq")]
    if extra:
        lines.append(extra)
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body.encode()))
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def udp_socket(port=0, reuse=False):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    for size in (8 << 20, 4 << 20, 1 << 20):
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
            break
        except OSError:
            continue
    s.bind((HOST, port))
    s.setblocking(False)
    return s


def drain(sock):
    out = []
    while True:
        try:
            data, addr = sock.recvfrom(65536)
        except (BlockingIOError, InterruptedError):
            return out
        except ConnectionRefusedError:
            continue
        out.append((data, addr))


# ---------------------------------------------------------------------------------------------
# b2buad: this process is the caller (UAC socket) and the callee (UAS socket)

class SipCalls:
    def __init__(self, b2b, uas_port, ports, rate, window):
        self.b2b = b2b
        self.uac = udp_socket()
        self.uas = udp_socket(uas_port, reuse=True)
        self.uac_port = self.uac.getsockname()[1]
        self.uas_port = uas_port
        self.ports = ports  # call -> (caller gen port, callee gen port)
        self.rate = rate
        self.window = window
        self.run = "%x" % random.getrandbits(40)
        self.calls = {}      # call -> dict
        self.by_cid = {}     # our Call-ID -> call
        self.uas_legs = {}   # b2buad's Call-ID -> dict(call, ok200)
        self.errors = {}
        self.passthrough = 0

    def cid(self, c):
        return "b2rr-%s-%d@%s" % (self.run, c, HOST)

    def invite(self, c):
        st = self.calls[c]
        body = offer_sdp(c, self.ports[c][0], 1000 + c)
        msg = ("INVITE sip:b2rr%d@%s:%d SIP/2.0\r\n"
               "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%s-%d-i;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:gen%d@%s>;tag=f%s%d\r\n"
               "To: <sip:b2rr%d@%s>\r\n"
               "Call-ID: %s\r\n"
               "CSeq: 1 INVITE\r\n"
               "Contact: <sip:gen%d@%s:%d>\r\n"
               "Content-Type: application/sdp\r\n"
               "Content-Length: %d\r\n\r\n%s") % (
            c, self.b2b[0], self.b2b[1], HOST, self.uac_port, self.run, c, c, HOST, self.run, c,
            c, HOST, self.cid(c), c, HOST, self.uac_port, len(body), body)
        st["invite"] = msg.encode()
        self.uac.sendto(st["invite"], self.b2b)
        st["sent_at"] = time.monotonic()

    def ack(self, c, msg, cseq="1"):
        st = self.calls[c]
        to = msg.get("to")
        ruri = uri_of(msg.get("contact")) if msg.status < 300 and msg.get("contact") else \
            "sip:b2rr%d@%s:%d" % (c, self.b2b[0], self.b2b[1])
        branch = "z9hG4bK-%s-%d-%s" % (self.run, c, "a" if msg.status < 300 else "i")
        out = ("ACK %s SIP/2.0\r\n"
               "Via: SIP/2.0/UDP %s:%d;branch=%s;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s ACK\r\n"
               "Content-Length: 0\r\n\r\n") % (ruri, HOST, self.uac_port, branch,
                                                msg.get("from"), to, self.cid(c), cseq)
        self.uac.sendto(out.encode(), self.b2b)
        st["to"] = to
        st["ruri"] = ruri

    def bye(self, c):
        st = self.calls[c]
        out = ("BYE %s SIP/2.0\r\n"
               "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%s-%d-b;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:gen%d@%s>;tag=f%s%d\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 2 BYE\r\n"
               "Content-Length: 0\r\n\r\n") % (st["ruri"], HOST, self.uac_port, self.run, c, c,
                                                HOST, self.run, c, st["to"], self.cid(c))
        st["bye"] = out.encode()
        self.uac.sendto(st["bye"], self.b2b)
        st["bye_at"] = time.monotonic()

    def on_uac(self, data):
        msg = Msg(data)
        if not msg.is_response:
            # b2buad hanging up or asking something of the caller: say yes.
            if msg.method != "ACK":
                self.uac.sendto(response(msg, 200, "OK"), self.b2b)
            return
        c = self.by_cid.get(msg.get("call-id"))
        if c is None:
            return
        st = self.calls[c]
        meth = msg.cseq_method()
        if meth == "INVITE":
            st["provisional"] = True
            if msg.status < 200:
                return
            if msg.status >= 300:
                self.ack(c, msg)
                if st["state"] == "inviting":
                    st["state"] = "failed"
                    self.errors[msg.status] = self.errors.get(msg.status, 0) + 1
                return
            self.ack(c, msg)  # also for retransmitted 200s
            if st["state"] == "inviting":
                addr, port, _ = sdp_media(msg.body)
                st["a_side"] = (addr, port)
                st["state"] = "up"
        elif meth == "BYE" and msg.status >= 200:
            st["state"] = "done"

    def on_uas(self, data, addr):
        msg = Msg(data)
        if msg.is_response:
            return
        cid = msg.get("call-id")
        if msg.method == "INVITE":
            leg = self.uas_legs.get(cid)
            if leg is None:
                a, port, c = sdp_media(msg.body)
                if c is None or c not in self.calls:
                    self.uas.sendto(response(msg, 488, "Not Acceptable Here", to_tag="x"), addr)
                    return
                if port == self.ports[c][0]:
                    self.passthrough += 1
                body = offer_sdp(c, self.ports[c][1], 2000 + c)
                ok = response(msg, 200, "OK", to_tag="u%s%d" % (self.run, c),
                              extra="Contact: <sip:uas%d@%s:%d>" % (c, HOST, self.uas_port),
                              body=body)
                leg = {"call": c, "ok": ok}
                self.uas_legs[cid] = leg
                self.calls[c]["b_side"] = (a, port)
            self.uas.sendto(leg["ok"], addr)
        elif msg.method == "ACK":
            return
        else:  # BYE, CANCEL, OPTIONS, ...
            self.uas.sendto(response(msg, 200, "OK"), addr)

    def pump(self, timeout):
        r, _, _ = select.select([self.uac, self.uas], [], [], max(timeout, 0))
        if self.uac in r:
            for data, _ in drain(self.uac):
                self.on_uac(data)
        if self.uas in r:
            for data, addr in drain(self.uas):
                self.on_uas(data, addr)

    def setup(self, calls, timeout):
        """Returns {call: (A side, B side)} for the calls that are up."""
        for c in calls:
            self.calls[c] = {"state": "new", "provisional": False, "tries": 0}
            self.by_cid[self.cid(c)] = c
        pending = list(calls)
        t0 = time.monotonic()
        deadline = t0 + timeout
        sent = 0
        while time.monotonic() < deadline:
            now = time.monotonic()
            inflight = sum(1 for c in calls[:sent] if self.calls[c]["state"] == "inviting")
            allowed = int((now - t0) * self.rate) + 1
            while pending and sent < allowed and inflight < self.window:
                c = pending.pop(0)
                self.calls[c]["state"] = "inviting"
                self.calls[c]["tries"] = 1
                self.invite(c)
                sent += 1
                inflight += 1
            for c in calls[:sent]:
                st = self.calls[c]
                if st["state"] == "inviting" and not st["provisional"]:
                    if now - st["sent_at"] > 0.5 * (2 ** (st["tries"] - 1)):
                        if st["tries"] >= 5:
                            st["state"] = "failed"
                            self.errors["timeout"] = self.errors.get("timeout", 0) + 1
                        else:
                            st["tries"] += 1
                            self.uac.sendto(st["invite"], self.b2b)
                            st["sent_at"] = now
            if not pending and all(self.calls[c]["state"] != "inviting" for c in calls):
                break
            self.pump(0.02)
        # A little more so that the callee side has seen every INVITE we got a 200 for.
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            self.pump(0.02)
        up = {}
        for c in calls:
            st = self.calls[c]
            if st["state"] == "up" and st.get("a_side") and st.get("b_side"):
                up[c] = (st["a_side"], st["b_side"])
            elif st["state"] == "inviting":
                self.errors["timeout"] = self.errors.get("timeout", 0) + 1
        return up

    def teardown(self, timeout):
        todo = [c for c, st in self.calls.items() if st["state"] == "up"]
        t0 = time.monotonic()
        deadline = t0 + timeout
        sent = 0
        while time.monotonic() < deadline:
            now = time.monotonic()
            allowed = int((now - t0) * self.rate * 2) + 1
            while sent < len(todo) and sent < allowed:
                self.bye(todo[sent])
                self.calls[todo[sent]]["bye_tries"] = 1
                sent += 1
            for c in todo[:sent]:
                st = self.calls[c]
                if st["state"] == "up" and now - st["bye_at"] > 0.5 * (2 ** (st["bye_tries"] - 1)):
                    if st["bye_tries"] < 5:
                        st["bye_tries"] += 1
                        self.uac.sendto(st["bye"], self.b2b)
                        st["bye_at"] = now
            if sent == len(todo) and all(self.calls[c]["state"] != "up" for c in todo):
                break
            self.pump(0.02)
        end = time.monotonic() + 0.2  # answer b2buad's BYEs to the callee
        while time.monotonic() < end:
            self.pump(0.02)
        return sum(1 for c in todo if self.calls[c]["state"] != "done")

    def close(self):
        self.uac.close()
        self.uas.close()


# ---------------------------------------------------------------------------------------------
# rtpengine ng protocol (bencode over UDP)

def benc(x):
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, str):
        x = x.encode()
    if isinstance(x, bytes):
        return b"%d:%s" % (len(x), x)
    if isinstance(x, list):
        return b"l" + b"".join(benc(v) for v in x) + b"e"
    if isinstance(x, dict):
        return b"d" + b"".join(benc(k) + benc(v) for k, v in sorted(x.items())) + b"e"
    raise TypeError(type(x))


def bdec(data, i=0):
    ch = data[i:i + 1]
    if ch == b"i":
        j = data.index(b"e", i)
        return int(data[i + 1:j]), j + 1
    if ch == b"l":
        out, i = [], i + 1
        while data[i:i + 1] != b"e":
            v, i = bdec(data, i)
            out.append(v)
        return out, i + 1
    if ch == b"d":
        out, i = {}, i + 1
        while data[i:i + 1] != b"e":
            k, i = bdec(data, i)
            v, i = bdec(data, i)
            out[k.decode()] = v
        return out, i + 1
    j = data.index(b":", i)
    n = int(data[i:j])
    return data[j + 1:j + 1 + n], j + 1 + n


class Ng:
    def __init__(self, ng, window=64):
        self.ng = ng
        self.sock = udp_socket()
        self.window = window
        self.seq = 0
        self.run = "%x" % random.getrandbits(40)

    def batch(self, reqs, timeout):
        """reqs: list of (key, dict). Returns {key: reply dict or None}."""
        out = {}
        inflight = {}  # cookie -> [key, payload, sent_at, tries]
        todo = list(reqs)
        deadline = time.monotonic() + timeout
        while (todo or inflight) and time.monotonic() < deadline:
            while todo and len(inflight) < self.window:
                key, d = todo.pop(0)
                self.seq += 1
                cookie = "%s_%d" % (self.run, self.seq)
                payload = cookie.encode() + b" " + benc(d)
                self.sock.sendto(payload, self.ng)
                inflight[cookie] = [key, payload, time.monotonic(), 1]
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if r:
                for data, _ in drain(self.sock):
                    cookie, _, rest = data.partition(b" ")
                    ent = inflight.pop(cookie.decode(errors="replace"), None)
                    if ent is None:
                        continue
                    try:
                        out[ent[0]], _ = bdec(rest)
                    except (ValueError, IndexError):
                        out[ent[0]] = None
            now = time.monotonic()
            for cookie, ent in inflight.items():
                if now - ent[2] > 1.0 and ent[3] < 4:
                    self.sock.sendto(ent[1], self.ng)
                    ent[2] = now
                    ent[3] += 1
        for ent in inflight.values():
            out[ent[0]] = None
        return out

    def cid(self, c):
        return "b2rr-%s-%d" % (self.run, c)

    def setup(self, calls, ports, timeout, errors):
        deadline = time.monotonic() + timeout
        flags = {"ICE": "remove", "replace": ["origin", "session-connection"]}
        offers = self.batch([(c, dict(flags, command="offer", **{
            "call-id": self.cid(c), "from-tag": "f%d" % c,
            "sdp": offer_sdp(c, ports[c][0], 1000 + c)})) for c in calls],
            max(deadline - time.monotonic(), 1))
        b_side = {}
        for c in calls:
            rep = offers.get(c)
            if rep and rep.get("result") == b"ok":
                addr, port, _ = sdp_media(rep["sdp"].decode())
                b_side[c] = (addr, port)
            else:
                why = (rep or {}).get("error-reason", b"no answer")
                why = why.decode() if isinstance(why, bytes) else str(why)
                errors["offer: " + why] = errors.get("offer: " + why, 0) + 1
        answers = self.batch([(c, dict(flags, command="answer", **{
            "call-id": self.cid(c), "from-tag": "f%d" % c, "to-tag": "t%d" % c,
            "sdp": offer_sdp(c, ports[c][1], 2000 + c)})) for c in b_side],
            max(deadline - time.monotonic(), 1))
        up = {}
        for c in b_side:
            rep = answers.get(c)
            if rep and rep.get("result") == b"ok":
                addr, port, _ = sdp_media(rep["sdp"].decode())
                up[c] = ((addr, port), b_side[c])
            else:
                why = (rep or {}).get("error-reason", b"no answer")
                why = why.decode() if isinstance(why, bytes) else str(why)
                errors["answer: " + why] = errors.get("answer: " + why, 0) + 1
        self.up = list(up)
        return up

    def teardown(self, timeout):
        reps = self.batch([(c, {"command": "delete", "call-id": self.cid(c), "from-tag": "f%d" % c})
                           for c in self.up], timeout)
        return sum(1 for c in self.up if not (reps.get(c) and reps[c].get("result") == b"ok"))

    def close(self):
        self.sock.close()


def hostport(s):
    h, _, p = s.rpartition(":")
    return (h, int(p))


# ---------------------------------------------------------------------------------------------
# Commands

def cmd_ping(args):
    ng = Ng(hostport(args.ng))
    rep = ng.batch([(0, {"command": "ping"})], 1.0).get(0)
    ng.close()
    return 0 if rep and rep.get("result") == b"pong" else 1


def others_cpu(r):
    """CPU of every other process in the window, % of one core (None if unknown)."""
    allp = r.get("all_procs_cpu_pct")
    if allp is None or allp < 0:
        return None
    return max(allp - r.get("gen_cpu_pct", 0) - sum(r.get("cpu_pct", {}).values()), 0.0)


def fmt_lat(r):
    lat = r.get("lat_us", {})
    return "p50 %7.1f p99 %8.1f max %9.1f" % (lat.get("p50", -1), lat.get("p99", -1),
                                             lat.get("max", -1))


def cmd_run(args):
    n = args.calls
    cpu_pids = [args.cpu_pid] if args.cpu_pid else []
    label = "%s-%d" % (args.mode, n)
    rec = {"path": args.mode, "calls": n, "calls_up": 0, "setup_s": 0.0, "setup_errors": {},
           "teardown_failed": 0}
    gen = None
    sess = None
    try:
        gen = Gen(args, n, args.mode == "direct", cpu_pids, label)
        ports = gen.read_ports(60)
        if len(ports) != n:
            raise RuntimeError("rtp_load printed %d of %d ports" % (len(ports), n))
        t0 = time.monotonic()
        peers = {}
        if args.mode == "direct":
            rec["calls_up"] = n
        elif args.mode == "b2bua":
            sess = SipCalls(hostport(args.b2b), args.uas_port, ports, args.cps, args.window)
            peers = sess.setup(list(range(n)), args.setup_timeout_s)
            rec["setup_errors"] = {str(k): v for k, v in sess.errors.items()}
            if sess.passthrough:
                rec["setup_errors"]["sdp not rewritten (no media relay)"] = sess.passthrough
        else:
            sess = Ng(hostport(args.ng))
            errors = {}
            peers = sess.setup(list(range(n)), ports, args.setup_timeout_s, errors)
            rec["setup_errors"] = errors
        rec["setup_s"] = round(time.monotonic() - t0, 2)
        if args.mode != "direct":
            rec["calls_up"] = len(peers)
            bad = [c for c, (a, b) in peers.items() if a[0] is None or b[0] is None
                   or a[1] in (None, 0) or b[1] in (None, 0)]
            for c in bad:
                del peers[c]
            if bad:
                rec["setup_errors"]["no address or port in SDP"] = len(bad)
                rec["calls_up"] = len(peers)
            nonlocal_hosts = sorted(({a[0] for a, b in peers.values()} |
                                     {b[0] for a, b in peers.values()}) - {HOST})
            if nonlocal_hosts:
                raise RuntimeError("relay advertised a non-loopback address %s; not sending there"
                                   % ",".join(nonlocal_hosts))
        if rec["calls_up"] == 0 or (args.mode == "b2bua" and sess.passthrough):
            gen.stop()
            gen = None
        else:
            gen.go(peers)
            res = gen.result(args.warmup_s + args.measure_s + args.drain_ms / 1000 + 60)
            rec.update(res)
            rec["path"] = args.mode
            rec["calls"] = n
    except (RuntimeError, OSError, ValueError) as e:
        rec["error"] = str(e)
    finally:
        if gen:
            gen.stop()
        if sess:
            try:
                rec["teardown_failed"] = sess.teardown(args.teardown_timeout_s)
            except OSError as e:
                rec["teardown_error"] = str(e)
            sess.close()
    loss = rec.get("loss_pct")
    if loss is not None:
        # Did the generator offer the load? Packets due in the window against those sent in it.
        due = 2.0 * rec["calls_up"] * args.pps * rec.get("window_s", args.measure_s)
        rec["offered_pct"] = round(100.0 * rec["measured_sent"] / due, 2) if due else 0.0
        rec["bad_pct"] = round(loss + rec.get("late_pct", 0.0), 4)
    clean = ("error" not in rec and rec["calls_up"] == n and loss is not None
             and rec["bad_pct"] < args.loss_max and rec["offered_pct"] >= 99.0)
    rec["clean"] = clean
    with open(args.results, "a") as f:
        f.write(json.dumps(rec, sort_keys=True) + "\n")
    line = "  %-9s %5d calls: " % (args.mode, n)
    if "error" in rec:
        line += "ERROR " + rec["error"]
    elif loss is None:
        line += "set up %d/%d (%s)" % (rec["calls_up"], n, json.dumps(rec["setup_errors"]))
    else:
        cpu = rec.get("cpu_pct", {}).get(str(args.cpu_pid)) if args.cpu_pid else None
        oth = others_cpu(rec)
        line += ("%s loss %.4f%% (%d/%d) late %.4f%%  lat us %s  cpu: relay %s gen %5.1f%%"
                 " others %s") % (
            "clean" if clean else "LOSSY", loss, rec["lost"], rec["measured_sent"],
            rec.get("late_pct", 0), fmt_lat(rec),
            "%5.1f%%" % cpu if cpu is not None else "   - ", rec.get("gen_cpu_pct", -1),
            "%5.1f%%" % oth if oth is not None else "-")
        if rec["offered_pct"] < 99.0:
            line += "  GENERATOR BEHIND: sent %.1f%% of the packets due (max lag %.1f ms)" % (
                rec["offered_pct"], rec.get("max_tick_lag_us", 0) / 1000)
        if rec["calls_up"] != n:
            line += "  set up only %d/%d %s" % (rec["calls_up"], n, json.dumps(rec["setup_errors"]))
        if args.mode != "direct":
            line += "  setup %.1fs" % rec["setup_s"]
        k = rec.get("kernel", {})
        if k.get("udp_rcvbuf_errors") or k.get("softnet_dropped"):
            line += "  kernel drops: socket buffers %d, backlog %d" % (
                k.get("udp_rcvbuf_errors", 0), k.get("softnet_dropped", 0))
        if rec.get("stray") or rec.get("send_errors") or rec.get("duplicates"):
            line += "  stray %d send_err %d dup %d" % (rec.get("stray", 0),
                                                       rec.get("send_errors", 0),
                                                       rec.get("duplicates", 0))
    if rec.get("teardown_failed"):
        line += "  (teardown: %d calls not confirmed)" % rec["teardown_failed"]
    print(line, flush=True)
    if "error" in rec:
        return 2
    return 0 if clean else 1


def cmd_summary(args):
    recs = []
    with open(args.file) as f:
        for ln in f:
            ln = ln.strip()
            if ln:
                recs.append(json.loads(ln))
    paths = [p for p in ("direct", "b2bua", "rtpengine") if any(r["path"] == p for r in recs)]
    names = {"direct": "direct (floor)", "b2bua": "b2buad", "rtpengine": "rtpengine"}
    by = {(r["path"], r["calls"]): r for r in recs}
    ns = sorted({r["calls"] for r in recs})

    def cap(p):
        best = 0
        for n in ns:
            r = by.get((p, n))
            if r is None:
                continue
            if not r.get("clean"):
                break
            best = n
        return best

    def added(p, n, q):
        r, d = by.get((p, n)), by.get(("direct", n))
        if not r or not d or "lat_us" not in r or "lat_us" not in d:
            return None
        return r["lat_us"][q] - d["lat_us"]["p50"]

    print("per step (latency: one-way, from send to the sink socket's queue, microseconds; "
          "+pXX = relay pXX - direct p50 at the same N;\n  CPU in %% of one core over the "
          "window (the host has %s): the relay process, the generator, all other processes):"
          % (recs[0].get("host_cpus", "?") if recs else "?"))
    hdr = "%-15s %6s %8s %8s %8s %8s %9s %8s %8s %9s %7s %6s %6s" % (
        "path", "calls", "loss %", "late %", "p50", "p99", "max", "+p50", "+p99", "+max",
        "relay%", "gen%", "other%")
    print(hdr)
    for n in ns:
        for p in paths:
            r = by.get((p, n))
            if r is None:
                continue
            if "lat_us" not in r:
                why = r.get("error") or "set up %d/%d %s" % (r["calls_up"], n,
                                                              json.dumps(r["setup_errors"]))
                print("%-15s %6d  %s" % (names[p], n, why))
                continue
            lat = r["lat_us"]
            cpus = list(r.get("cpu_pct", {}).values())

            def f(v, w):
                return ("%" + str(w) + ".1f") % v if v is not None else ("%" + str(w) + "s") % "-"
            print("%-15s %6d %8.4f %8.4f %8.1f %8.1f %9.1f %s %s %s %s %6.1f %6.1f%s" % (
                names[p], n, r["loss_pct"], r.get("late_pct", 0), lat["p50"], lat["p99"],
                lat["max"],
                f(added(p, n, "p50") if p != "direct" else None, 8),
                f(added(p, n, "p99") if p != "direct" else None, 8),
                f(added(p, n, "max") if p != "direct" else None, 9),
                f(cpus[0] if cpus else None, 7), r.get("gen_cpu_pct", -1),
                others_cpu(r) if others_cpu(r) is not None else -1, "" if r.get("clean") else "  <- not clean%s" % (
                    " (generator sent %.1f%% of the load)" % r["offered_pct"]
                    if r.get("offered_pct", 100) < 99 else "")))
    print()
    late_ms = next((r["late_ms"] for r in recs if "late_ms" in r), None)
    print("capacity (highest N with lost + late < %g %% of the packets%s, every call set up, the "
          "load fully offered, no failed step below it):"
          % (args.loss_max, (", late = over %g ms" % late_ms) if late_ms else ""))
    caps = {p: cap(p) for p in paths}
    for p in paths:
        tried = [n for n in ns if (p, n) in by]
        first_bad = next((n for n in tried if not by[(p, n)].get("clean")), None)
        if first_bad:
            b = by[(p, first_bad)]
            if "error" in b:
                why = "error: " + b["error"]
            elif b.get("calls_up", 0) != first_bad:
                why = "set up %d/%d calls" % (b.get("calls_up", 0), first_bad)
            else:
                why = "lost %.3f %% + late %.3f %%" % (b.get("loss_pct", 100), b.get("late_pct", 0))
                if b.get("offered_pct", 100) < 99:
                    why += ", generator sent only %.1f %% of the load" % b["offered_pct"]
            note = "first failure at %d: %s" % (first_bad, why)
        else:
            note = ("no failure up to %d (ladder or budget ended)" % tried[-1]) if tried else \
                "not run"
        print("  %-15s %6d   (%s)" % (names[p], caps[p], note))
    print()
    print("ratios (same machine, same run):")
    def failed(p):
        return any(not r.get("clean") for (q, _), r in by.items() if q == p)
    bound = ""
    if "b2bua" in caps and "rtpengine" in caps:
        if not failed("b2bua") and not failed("rtpengine"):
            bound = " (neither failed within the ladder: not a capacity ratio)"
        elif not failed("b2bua"):
            bound = " (b2buad did not fail within the ladder: a lower bound)"
        elif not failed("rtpengine"):
            bound = " (rtpengine did not fail within the ladder: an upper bound)"
        if caps["rtpengine"] > 0:
            print("  capacity b2buad / rtpengine: %.2f   (goal >= 1.5)%s"
                  % (caps["b2bua"] / caps["rtpengine"], bound))
        else:
            print("  capacity b2buad / rtpengine: n/a (rtpengine had no clean step)")
    elif "b2bua" in caps:
        print("  capacity b2buad / rtpengine: n/a (rtpengine not run)")
    for p in ("b2bua", "rtpengine"):
        if p in caps and caps.get("direct"):
            print("  capacity %s / direct floor: %.2f" % (names[p], caps[p] / caps["direct"]))
    for n in ns:
        parts = []
        for p in ("b2bua", "rtpengine"):
            a99 = added(p, n, "p99")
            if a99 is not None:
                r = by[(p, n)]
                d = by[("direct", n)]
                parts.append("%s +p50 %.1f +p99 %.1f +max %.1f us (p99 %.1fx direct p99)" % (
                    names[p], added(p, n, "p50"), a99, added(p, n, "max"),
                    r["lat_us"]["p99"] / d["lat_us"]["p99"] if d["lat_us"]["p99"] > 0 else 0))
        if len(parts) == 2:
            rb, rr = added("b2bua", n, "p99"), added("rtpengine", n, "p99")
            parts.append("b2buad/rtpengine added p99 %.2f" % (rb / rr if rr and rr > 0 else
                                                               float("nan")))
        if parts:
            print("  %5d calls: %s" % (n, "; ".join(parts)))
    a = added("b2bua", 1000, "p99")
    if a is not None:
        print("  goal p99 added latency < 200 us at 1000 calls: b2buad %.1f us -> %s"
              % (a, "met" if a < 200 and by[("b2bua", 1000)].get("clean") else "NOT met"))
    else:
        print("  goal p99 added latency < 200 us at 1000 calls: no b2buad measurement at 1000")
    if "b2bua" in caps and "rtpengine" in caps and caps["rtpengine"] > 0:
        ok = caps["b2bua"] >= 1.5 * caps["rtpengine"]
        if ok and failed("rtpengine"):
            verdict = "met"
        elif not ok and failed("b2bua"):
            verdict = "NOT met"
        else:
            verdict = "undetermined" + bound
        print("  goal capacity >= 1.5x rtpengine: %s" % verdict)
    cpu_lines = []
    for p in ("b2bua", "rtpengine"):
        r = by.get((p, 1000))
        if r and r.get("cpu_pct"):
            cpu_lines.append("%s %.1f%%" % (names[p], list(r["cpu_pct"].values())[0]))
    if cpu_lines:
        print("  relay CPU at 1000 calls (% of one core): " + ", ".join(cpu_lines))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--mode", choices=["direct", "b2bua", "rtpengine"], required=True)
    r.add_argument("--calls", type=int, required=True)
    r.add_argument("--gen", required=True)
    r.add_argument("--b2b", help="b2buad SIP host:port")
    r.add_argument("--uas-port", type=int, help="the callee port b2buad routes to")
    r.add_argument("--ng", help="rtpengine ng host:port")
    r.add_argument("--cpu-pid", type=int, default=0)
    r.add_argument("--gen-cpu", type=int, help="pin the generator to this CPU")
    r.add_argument("--warmup-s", type=float, default=2.0)
    r.add_argument("--measure-s", type=float, default=10.0)
    r.add_argument("--drain-ms", type=int, default=500)
    r.add_argument("--pps", type=int, default=50)
    r.add_argument("--slots", type=int, default=200,
                   help="send slots per packet interval (calls spread over them)")
    r.add_argument("--cps", type=float, default=1000.0, help="call setup rate")
    r.add_argument("--window", type=int, default=200, help="INVITEs in flight at most")
    r.add_argument("--setup-timeout-s", type=float, default=60.0)
    r.add_argument("--teardown-timeout-s", type=float, default=30.0)
    r.add_argument("--loss-max", type=float, default=0.1,
                   help="percent of packets lost or late at which the step fails")
    r.add_argument("--late-ms", type=float, default=50.0,
                   help="a packet later than this counts as lost (a jitter buffer dropped it)")
    r.add_argument("--results", required=True)
    p = sub.add_parser("ping")
    p.add_argument("--ng", required=True)
    s = sub.add_parser("summary")
    s.add_argument("file")
    s.add_argument("--loss-max", type=float, default=0.1)
    args = ap.parse_args()
    if args.cmd == "run":
        if args.mode == "b2bua" and not (args.b2b and args.uas_port):
            ap.error("--mode b2bua needs --b2b and --uas-port")
        if args.mode == "rtpengine" and not args.ng:
            ap.error("--mode rtpengine needs --ng")
        if not 1 <= args.calls <= 20000:
            ap.error("--calls must be 1..20000")
        return cmd_run(args)
    if args.cmd == "ping":
        return cmd_ping(args)
    return cmd_summary(args)


if __name__ == "__main__":
    sys.exit(main())
