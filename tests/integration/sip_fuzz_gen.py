"""The message stream of sip_fuzz.py: a seeded, grammar-aware generator over well-formed
templates (INVITE with SDP; re-INVITE, UPDATE, INFO, BYE, CANCEL, ACK, PRACK inside dialogs the
fuzzer established; the callee's own BYE, re-INVITE and INFO; OPTIONS, REGISTER, MESSAGE, unknown
methods, stray responses, garbage), mutated by sip_fuzz_msgs. Same seed, same choices; the
identifiers of in-dialog messages come from the dialogs that really exist at that moment."""

import random

from sip_fuzz_msgs import (Msg, finish, frame_udp, mutate, request, sdp, METHODS, WEIRD_TEXT)

HOST = "127.0.0.1"
KINDS = [("invite_valid", 7), ("invite", 18), ("reinvite", 7), ("update", 5), ("info", 7),
         ("bye", 3), ("cancel", 3), ("ack", 2), ("prack", 1), ("callee_bye", 2),
         ("callee_reinvite", 3), ("callee_info", 2), ("options", 7), ("register", 6),
         ("message", 6), ("unknown", 4), ("response", 2), ("garbage", 3)]
IN_DIALOG = {"reinvite": "INVITE", "update": "UPDATE", "info": "INFO", "bye": "BYE", "ack": "ACK",
             "prack": "PRACK"}
FROM_CALLEE = {"callee_bye": "BYE", "callee_reinvite": "INVITE", "callee_info": "INFO"}
TCP_PLANS = [("normal", 70), ("split", 10), ("pipeline", 8), ("garbage_close", 6),
             ("partial_close", 6)]
DTMF = ["Signal=5\r\nDuration=160\r\n", "Signal=*\r\nDuration=100\r\n", "Signal=99\r\n",
        "Signal=\r\nDuration=-1\r\n", "Duration=160\r\n", "Signal=1\nDuration=99999999999\n"]


class Item:
    """One generated message: what to send, from which side, how; notes say what was done."""

    def __init__(self, n, kind, side="caller", transport="udp"):
        self.n = n
        self.kind = kind
        self.side = side
        self.transport = transport
        self.plan = "udp"
        self.payloads = []
        self.notes = []
        self.conn = None

    def describe(self):
        return "#%d %s %s/%s %s [%s]" % (self.n, self.kind, self.side, self.transport, self.plan,
                                         ",".join(self.notes))


class Generator:
    """next(ep, n) gives item number n; `valid_share` of the items are left unmutated."""

    def __init__(self, seed, tcp_share=0.25, valid_share=0.05, max_dialogs=30):
        self.seed = seed
        self.rng = random.Random(seed)
        self.tcp_share = tcp_share
        self.valid_share = valid_share
        self.max_dialogs = max_dialogs

    def pick(self, table):
        return self.rng.choices([k for k, _ in table], [w for _, w in table])[0]

    def next(self, ep, n):
        rng = self.rng
        kind = self.pick(KINDS)
        transport = "tcp" if rng.random() < self.tcp_share else "udp"
        mutated = kind != "invite_valid" and rng.random() >= self.valid_share
        if kind == "invite_valid" and len(ep.dialogs["caller"]) >= self.max_dialogs:
            kind, mutated = "bye", False  # keep the number of calls bounded
        item = Item(n, kind, transport=transport)
        if kind in FROM_CALLEE:
            msg = self.from_callee(ep, item)
        elif kind in IN_DIALOG or kind == "cancel":
            msg = self.in_dialog(ep, item)
        else:
            msg = self.out_of_dialog(ep, item)
        if msg is None:  # no dialog to use: an OPTIONS instead
            item.kind, item.conn, item.side, item.transport = "options", None, "caller", transport
            msg = self.out_of_dialog(ep, item)
        if isinstance(msg, bytes):
            item.payloads = [msg]
        else:
            if mutated:
                item.notes = mutate(rng, msg, big=item.transport == "tcp")
            else:
                finish(msg)
                item.notes = ["valid"]
            item.payloads = [msg.serialize()]
            self.register(ep, item, msg)
        self.framing(ep, item, mutated)
        return item

    def register(self, ep, item, msg):
        if item.kind in ("invite", "invite_valid") and item.side == "caller":
            ep.pending[msg.get("Call-ID")] = (msg, item.transport, item.conn)
            while len(ep.pending) > 2000:
                ep.pending.popitem(last=False)
        if item.kind == "bye" and item.notes == ["valid"]:
            ep.dialogs["caller"].pop(msg.get("Call-ID"), None)
        if item.kind == "callee_bye" and item.notes == ["valid"]:
            ep.dialogs["callee"].pop(msg.get("Call-ID"), None)

    # -- TCP and UDP framing --------------------------------------------------------------------
    def framing(self, ep, item, mutated):
        rng = self.rng
        if item.transport == "udp":
            if mutated and rng.random() < 0.06:
                item.payloads, name = frame_udp(rng, item.payloads[0])
                item.notes.append(name)
            return
        item.plan = self.pick(TCP_PLANS) if mutated else "normal"
        data = item.payloads[0]
        if item.plan == "split":
            cuts = sorted(rng.sample(range(1, max(2, len(data))), min(3, max(1, len(data) - 1))))
            item.payloads = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
        elif item.plan == "pipeline":
            item.payloads = [data + self.options(ep, item, "tcp").serialize()]
        elif item.plan == "garbage_close":
            item.payloads = [bytes(rng.getrandbits(8) for _ in range(rng.choice([16, 600, 5000])))]
        elif item.plan == "partial_close":
            item.payloads = [data[:rng.randrange(1, max(2, len(data)))]]

    # -- templates ------------------------------------------------------------------------------
    def conn_for(self, ep, item):
        if item.transport != "tcp":
            return None
        if item.conn is None:
            item.conn = ep.caller_conn(item.n % 3)
            if item.conn is None:
                item.transport = "udp"
        return item.conn

    def base(self, ep, item, method, user="bob", body="", ctype=None, extra=()):
        n = item.n
        conn = self.conn_for(ep, item)
        tr = item.transport
        return request(method, "sip:%s@%s:%d" % (user, HOST, ep.b2b[1]),
                       ep.via("caller", tr, "n%d" % n, conn),
                       "\"Fuzz %d\" <sip:alice@%s>;tag=f%d" % (n, HOST, n),
                       "<sip:%s@%s>" % (user, HOST), "fz%d-%d@fuzz" % (self.seed, n), 1,
                       ep.contact("caller", tr), body, ctype, extra)

    def options(self, ep, item, transport):
        return finish(request("OPTIONS", "sip:%s:%d" % ep.b2b, ep.via("caller", transport,
                                                                      "o%d" % item.n, item.conn),
                              "<sip:alice@%s>;tag=o%d" % (HOST, item.n), "<sip:%s:%d>" % ep.b2b,
                              "fzo%d-%d@fuzz" % (self.seed, item.n), 1))

    def out_of_dialog(self, ep, item):
        rng, kind = self.rng, item.kind
        if kind in ("invite", "invite_valid"):
            user = "tcpbob" if rng.random() < 0.3 else "bob"
            extra = [["Supported", rng.choice(["timer", "timer, 100rel", "100rel", "replaces"])]]
            if rng.random() < 0.4:
                extra += [["Session-Expires", rng.choice(["90", "1800", "120;refresher=uac"])]]
            return self.base(ep, item, "INVITE", user, sdp(30000 + 2 * (item.n % 1000)),
                             "application/sdp", extra)
        if kind == "register":
            msg = self.base(ep, item, "REGISTER", "alice", extra=[["Expires", "60"]])
            msg.first = "REGISTER sip:%s:%d SIP/2.0" % ep.b2b
            return msg
        if kind == "message":
            return self.base(ep, item, "MESSAGE", body=rng.choice(["hello", WEIRD_TEXT[0], "x" * 900]),
                             ctype="text/plain")
        if kind == "unknown":
            return self.base(ep, item, rng.choice(METHODS[:6] + ["FOO", "X-BAR", "NOTIFY"]))
        if kind == "response":
            return self.stray_response(ep, item)
        if kind == "garbage":
            return self.garbage(item)
        return self.options(ep, item, self.conn_for(ep, item) and item.transport or "udp")

    def stray_response(self, ep, item):
        rng = self.rng
        dialogs = list(ep.dialogs["caller"].values())
        call_id = rng.choice(dialogs).call_id if dialogs and rng.random() < 0.5 else \
            "stray%d@fuzz" % item.n
        self.conn_for(ep, item)
        return Msg("SIP/2.0 %d OK" % rng.choice([100, 180, 200, 200, 481, 500]),
                   [["Via", "SIP/2.0/UDP %s:%d;branch=z9hG4bKstray%d" % (HOST, ep.b2b[1], item.n)],
                    ["From", "<sip:a@%s>;tag=x%d" % (HOST, item.n)],
                    ["To", "<sip:b@%s>;tag=y%d" % (HOST, item.n)], ["Call-ID", call_id],
                    ["CSeq", "%d %s" % (rng.randint(1, 200), rng.choice(["INVITE", "BYE", "UPDATE"]))]])

    def garbage(self, item):
        rng = self.rng
        item.notes = ["garbage"]
        choice = rng.randrange(4)
        if choice == 0:
            return bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 100, 1400])))
        if choice == 1:
            return "".join(chr(rng.randint(32, 126)) for _ in range(rng.choice([10, 900]))).encode()
        if choice == 2:
            return b"INVITE sip:bob@127.0.0.1 SIP/2.0\r\n" * rng.choice([1, 50]) + b"\r\n"
        return b"\r\n" * rng.choice([1, 2, 500])

    def in_dialog(self, ep, item):
        rng = self.rng
        if item.kind == "cancel":
            return self.cancel(ep, item)
        dialogs = list(ep.dialogs["caller"].values())
        if not dialogs:
            return None
        d = dialogs[rng.randrange(len(dialogs))]
        return self.dialog_request(ep, item, d, IN_DIALOG[item.kind], "caller")

    def from_callee(self, ep, item):
        dialogs = list(ep.dialogs["callee"].values())
        if not dialogs:
            return None
        d = dialogs[self.rng.randrange(len(dialogs))]
        item.side = "callee"
        return self.dialog_request(ep, item, d, FROM_CALLEE[item.kind], "callee")

    def dialog_request(self, ep, item, d, method, side):
        rng = self.rng
        item.transport = d.transport
        item.conn = d.conn
        if d.transport == "tcp" and (d.conn is None or d.conn.closed):
            item.conn = ep.caller_conn(item.n % 3) if side == "caller" else ep.connect("callee")
            if item.conn is None:
                item.transport = "udp"
        d.cseq += 1
        body, ctype, extra = "", None, []
        if method == "INVITE" or (method == "UPDATE" and rng.random() < 0.5):
            body, ctype = sdp(30000 + 2 * (item.n % 1000), d.cseq), "application/sdp"
        elif method == "INFO":
            body, ctype = rng.choice(DTMF), "application/dtmf-relay"
        if method == "PRACK":
            extra = [["RAck", "%d %d INVITE" % (rng.randint(0, 3), rng.randint(0, 3))]]
        cseq = d.cseq if method != "ACK" else rng.randint(1, d.cseq)
        return request(method, d.target, ep.via(side, item.transport, "n%d" % item.n, item.conn),
                       d.local, d.remote, d.call_id, cseq, ep.contact(side, item.transport), body,
                       ctype, extra)

    def cancel(self, ep, item):
        if not ep.pending:
            return None
        keys = list(ep.pending.keys())
        inv, transport, conn = ep.pending[keys[self.rng.randrange(len(keys))]]
        item.transport, item.conn = transport, conn
        if transport == "tcp" and (conn is None or conn.closed):
            return None
        num, _ = inv.cseq()
        return Msg(inv.first.replace("INVITE", "CANCEL", 1) if inv.first.startswith("INVITE")
                   else "CANCEL sip:bob@%s SIP/2.0" % HOST,
                   [["Via", inv.get("Via")], ["Max-Forwards", "70"], ["From", inv.get("From")],
                    ["To", inv.get("To")], ["Call-ID", inv.get("Call-ID")],
                    ["CSeq", "%d CANCEL" % num]])
