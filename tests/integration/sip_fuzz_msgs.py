"""SIP messages for sip_fuzz.py: a small parser, well-formed templates, and seeded mutators of
headers, bodies and framing. Standard library only; every function takes the random.Random it
draws from, so one seed gives one stream."""

CRLF = "\r\n"
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length",
           "c": "content-type", "k": "supported", "x": "session-expires", "s": "subject",
           "e": "content-encoding", "o": "event", "r": "refer-to", "u": "allow-events"}


class Msg:
    """A parsed SIP message: first line, [name, value] headers in order, body bytes."""

    def __init__(self, first, headers, body=b""):
        self.first = first
        self.headers = headers
        self.body = body

    @staticmethod
    def parse(data):
        """A Msg from bytes, or None when there is no header block."""
        head, sep, body = data.partition(b"\r\n\r\n")
        if not sep:
            return None
        lines = head.decode("utf-8", "surrogateescape").split(CRLF)
        headers = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and headers:
                headers[-1][1] += " " + line.strip()
                continue
            name, colon, value = line.partition(":")
            if colon:
                headers.append([name.strip(), value.strip()])
        return Msg(lines[0], headers, body)

    def all(self, name):
        want = name.lower()
        return [v for k, v in self.headers if COMPACT.get(k.lower(), k.lower()) == want]

    def get(self, name, default=""):
        values = self.all(name)
        return values[0] if values else default

    @property
    def is_request(self):
        return not self.first.startswith("SIP/2.0 ")

    @property
    def method(self):
        return self.first.split(" ", 1)[0] if self.is_request else None

    @property
    def status(self):
        try:
            return None if self.is_request else int(self.first.split(" ")[1])
        except (IndexError, ValueError):
            return 0

    def cseq(self):
        """(number, method) of CSeq; (0, "") when it does not parse."""
        parts = self.get("CSeq").split()
        try:
            return int(parts[0]), parts[1] if len(parts) > 1 else ""
        except (IndexError, ValueError):
            return 0, ""

    def serialize(self):
        head = CRLF.join([self.first] + ["%s: %s" % (k, v) for k, v in self.headers])
        return head.encode("utf-8", "surrogateescape") + b"\r\n\r\n" + self.body


def tag_of(value):
    """The tag parameter of a From/To value, or ""."""
    for part in value.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        if k.lower() == "tag":
            return v
    return ""


def uri_of(value):
    """The URI inside <...> of a name-addr, or the value up to the first ';'."""
    if "<" in value and ">" in value:
        return value[value.index("<") + 1:value.index(">")]
    return value.split(";")[0].strip()


def sdp(port, version=1, ip="127.0.0.1"):
    return CRLF.join(["v=0", "o=fuzz %d %d IN IP4 %s" % (port, version, ip), "s=-",
                      "c=IN IP4 %s" % ip, "t=0 0", "m=audio %d RTP/AVP 0 8 101" % port,
                      "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
                      "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=sendrecv"]) + CRLF


def request(method, ruri, via, frm, to, call_id, cseq, contact=None, body="", ctype=None,
            extra=()):
    """A well-formed request Msg (Content-Length added later by finish())."""
    h = [["Via", via], ["Max-Forwards", "70"], ["From", frm], ["To", to], ["Call-ID", call_id],
         ["CSeq", "%d %s" % (cseq, method)]]
    if contact:
        h.append(["Contact", contact])
    h += [list(x) for x in extra]
    body = body.encode("utf-8", "surrogateescape") if isinstance(body, str) else body
    if body and ctype:
        h.append(["Content-Type", ctype])
    return Msg("%s %s SIP/2.0" % (method, ruri), h, body)


def response(req, status, reason, to_tag=None, extra=(), body=b"", ctype=None):
    """A response Msg to `req` (Via, From, To, Call-ID, CSeq copied; To tag added if missing)."""
    h = [["Via", v] for v in req.all("Via")]
    to = req.get("To")
    if to_tag and not tag_of(to):
        to += ";tag=" + to_tag
    h += [["From", req.get("From")], ["To", to], ["Call-ID", req.get("Call-ID")],
          ["CSeq", req.get("CSeq")]]
    h += [list(x) for x in extra]
    body = body.encode("utf-8", "surrogateescape") if isinstance(body, str) else body
    if body and ctype:
        h.append(["Content-Type", ctype])
    return Msg("SIP/2.0 %d %s" % (status, reason), h, body)


def finish(msg):
    """Appends Content-Length for the body as it is now; returns msg."""
    msg.headers.append(["Content-Length", str(len(msg.body))])
    return msg


# ---------------------------------------------------------------------------------------------
# Values a mutator picks from

BAD_URIS = ["*", "<tel:+15551234567>", "tel:+1-555", "<urn:service:sos>", "<http://example.com/x>",
            "<sip:>", "<sip:@>", "<sip:bob@[::1>", "<sip:bob@callee.invalid>", "<sip:bob@localhost>",
            "<sip:bob@127.0.0.1:99999>", "<sips:bob@127.0.0.1;transport=tls>", "<mailto:a@b>",
            "<sip:bob@127.0.0.1;maddr=host.invalid>", "<sip:bob@127.0.0.1;transport=sctp>",
            "<sip:bob@[::1]:5060>", "<>", "<sip:%s@127.0.0.1>" % ("b" * 300), "sip:bob@127.0.0.1",
            "<sip:bob@127.0.0.1>;expires=-1", "<sip:bob@0.0.0.0:0>", "<sip:bob@255.255.255.255>"]
HOST_URIS = ["<sip:bob@callee.invalid>", "<sip:bob@example.com:5060>", "<sip:bob@localhost:1>",
             "<sip:bob@nonexistent.example;transport=tcp>"]
NUMBERS = ["0", "1", "-1", "2", "90", "99999999999999999999", "4294967296", "2147483647", "abc", "",
           " ", "0x10", "1.5", "1;refresher=uas", "1;refresher=uac", "3;refresher=bogus", "1e9",
           "90;refresher=", "-0", "00000000000000000001"]
WEIRD_TEXT = ["\u00dcn\u00efc\u00f8d\u00e9 \u260e \u202e", "\udcff\udcfe", "\x00", "a\x00b",
              "\x7f\x01\x1b[31m", "%00%ff", "\"unterminated", "<<<>>>", ";;;==;", "\t \t"]
CTYPES = ["text/plain", "application/sdp;charset=xyz", "", "multipart/mixed",
          "application/SDP", "application/dtmf-relay", "application/x-garbage", "application/sdp, x/y"]
METHODS = ["FOOBAR", "PUBLISH", "SUBSCRIBE", "NOTIFY", "REFER", "PRACK", "invite", "INVITE\x00",
           "I" * 200, "BYE", "UPDATE", "MESSAGE"]


def _pick_index(rng, msg, names=None):
    idx = [i for i, (k, _) in enumerate(msg.headers)
           if names is None or COMPACT.get(k.lower(), k.lower()) in names]
    return rng.choice(idx) if idx else None


def m_drop(rng, msg, big):
    i = _pick_index(rng, msg)
    if i is not None:
        del msg.headers[i]


def m_duplicate(rng, msg, big):
    i = _pick_index(rng, msg)
    if i is not None:
        k, v = msg.headers[i]
        msg.headers.insert(i + rng.randint(0, 2), [k, v if rng.random() < 0.5 else v + "x"])


def m_truncate(rng, msg, big):
    i = _pick_index(rng, msg)
    if i is not None and msg.headers[i][1]:
        msg.headers[i][1] = msg.headers[i][1][:rng.randrange(len(msg.headers[i][1]))]


def m_huge(rng, msg, big):
    i = _pick_index(rng, msg)
    if i is not None:
        n = rng.choice([300, 2000, 9000, 30000] + ([70000] if big else []))
        msg.headers[i][1] += rng.choice(["a", ";p", ",", "%41"]) * (n // 2)


def m_bad_uri(rng, msg, big):
    name = rng.choice(["Contact", "Contact", "Route", "Record-Route", "From", "To", "ruri"])
    value = rng.choice(BAD_URIS + HOST_URIS if rng.random() < 0.3 else BAD_URIS)
    if name == "ruri" and msg.is_request:
        parts = msg.first.split(" ")
        msg.first = " ".join([parts[0], uri_of(value) or "*"] + parts[2:])
        return
    i = _pick_index(rng, msg, {name.lower()})
    if name in ("From", "To") and i is not None:
        tag = tag_of(msg.headers[i][1])
        msg.headers[i][1] = value + (";tag=" + tag if tag else "")
    elif i is not None:
        msg.headers[i][1] = value
    else:
        msg.headers.insert(1, [name, value])


def m_host_contact(rng, msg, big):
    i = _pick_index(rng, msg, {"contact"})
    value = rng.choice(HOST_URIS)
    if i is None:
        msg.headers.insert(1, ["Contact", value])
    else:
        msg.headers[i][1] = value


def m_number(rng, msg, big):
    name = rng.choice(["Session-Expires", "Min-SE", "Max-Forwards", "CSeq", "Content-Length",
                       "Expires", "Retry-After", "RSeq", "RAck"])
    value = rng.choice(NUMBERS)
    i = _pick_index(rng, msg, {name.lower()})
    if name == "CSeq" and i is not None:
        method = msg.headers[i][1].split()[-1] if msg.headers[i][1].split() else "INVITE"
        value = value + " " + (method if rng.random() < 0.7 else rng.choice(METHODS))
    if i is None:
        msg.headers.insert(rng.randint(1, len(msg.headers)), [name, value])
        if name == "Session-Expires":
            msg.headers.insert(1, ["Supported", "timer"])
    else:
        msg.headers[i][1] = value


def m_weird_text(rng, msg, big):
    i = _pick_index(rng, msg)
    if i is not None:
        v = msg.headers[i][1]
        at = rng.randint(0, len(v))
        msg.headers[i][1] = v[:at] + rng.choice(WEIRD_TEXT) + v[at:]


def m_header_name(rng, msg, big):
    bad = rng.choice(["X Bad Header", "", "No\x00Name", "V" * 500, "Via ", "\u00c4rger", "::"])
    msg.headers.insert(rng.randint(0, len(msg.headers)), [bad, rng.choice(["v", "", ":"])])


def m_start_line(rng, msg, big):
    if msg.is_request:
        m, _, rest = msg.first.partition(" ")
        msg.first = rng.choice(["%s %s" % (m.lower(), rest), "%s  %s" % (m, rest),
                                msg.first.replace("SIP/2.0", rng.choice(["SIP/3.0", "", "SIP/2"])),
                                "%s %s" % (rng.choice(METHODS), rest), m, msg.first + " extra"])
    else:
        msg.first = rng.choice(["SIP/2.0 99 Low", "SIP/2.0 700 High", "SIP/2.0 abc x", "SIP/2.0",
                                "SIP/2.0 200", "SIP/2.0 2000000000000 OK"])


def m_compact_case(rng, msg, big):
    rev = {v: k for k, v in COMPACT.items()}
    for h in msg.headers:
        low = h[0].lower()
        if low in rev and rng.random() < 0.5:
            h[0] = rev[low]
        elif rng.random() < 0.3:
            h[0] = h[0].swapcase()


def m_fold(rng, msg, big):
    i = _pick_index(rng, msg)
    if i is not None:
        v = msg.headers[i][1]
        at = rng.randint(0, len(v))
        msg.headers[i][1] = v[:at] + rng.choice(["\r\n ", "\r\n\t", "\r\n", "\n "]) + v[at:]


def m_many(rng, msg, big):
    name = rng.choice(["Via", "X-Fuzz", "Route", "Record-Route", "Supported", "Require"])
    n = rng.choice([50, 300, 1500])
    value = {"Via": "SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK%d", "Route": "<sip:127.0.0.1:%d;lr>",
             "Record-Route": "<sip:127.0.0.%d;lr>", "Require": "x%d"}.get(name, "v%d")
    for k in range(n):
        msg.headers.insert(1, [name, value % k])


def m_via(rng, msg, big):
    i = _pick_index(rng, msg, {"via"})
    if i is not None:
        msg.headers[i][1] = rng.choice([
            "SIP/2.0/UDP 127.0.0.1:5060", "SIP/2.0/XYZ 127.0.0.1;branch=z9hG4bKa",
            "SIP/2.0/UDP [::1]:5060;branch=z9hG4bKb", "SIP/2.0/UDP host.invalid;branch=z9hG4bKc",
            "SIP/2.0/UDP 127.0.0.1:0;branch=;rport=abc;received=x", "SIP/1.0/UDP 127.0.0.1",
            "SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK" + "q" * 2000, "garbage"])


def m_required(rng, msg, big):
    msg.headers.insert(1, [rng.choice(["Require", "Proxy-Require", "Supported"]),
                           rng.choice(["100rel", "timer", "foo, bar", "100rel, timer", ",,,", ""])])


HEADER_MUTATORS = [m_drop, m_duplicate, m_truncate, m_huge, m_bad_uri, m_bad_uri, m_host_contact,
                   m_number, m_number, m_weird_text, m_header_name, m_start_line, m_compact_case,
                   m_fold, m_many, m_via, m_required]


# ---------------------------------------------------------------------------------------------
# Bodies

def damage_sdp(rng, text):
    """SDP text damaged one to three lines at a time."""
    lines = text.split(CRLF)
    for _ in range(rng.randint(1, 3)):
        if not lines:
            lines = [""]
        i = rng.randrange(len(lines))
        op = rng.randrange(11)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            lines[i] = lines[i][:rng.randrange(len(lines[i]) + 1)]
        elif op == 3:
            lines[i] = "c=IN IP4 " + rng.choice(["media.invalid", "example.com", "localhost",
                                                 "0.0.0.0", "999.1.1.1", "", "::1"])
        elif op == 4:
            lines[i] = rng.choice(["c=IN IP6 ::1", "c=IN IP4", "c=XX IP4 127.0.0.1", "c="])
        elif op == 5:
            lines[i] = "m=%s %s %s %s" % (rng.choice(["audio", "video", "x", ""]),
                                          rng.choice(["0", "99999", "-1", "4000/2", "abc"]),
                                          rng.choice(["RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVPF", ""]),
                                          rng.choice(["0", "", "96 97", "abc", "0 " * 300]))
        elif op == 6:
            lines[i] = rng.choice(["a=rtpmap:96 ", "a=rtpmap:x y/z", "a=fmtp:101", "a=rtpmap:101 "
                                   "telephone-event/0", "a=ptime:-1", "a=rtcp:99999", "a=" + "z" * 5000])
        elif op == 7:
            lines.insert(i, rng.choice(WEIRD_TEXT))
        elif op == 8:
            lines += ["m=audio %d RTP/AVP 0" % (4000 + 2 * k) for k in range(rng.choice([2, 40, 300]))]
        elif op == 9:
            lines[i] = lines[i].replace("=", rng.choice(["", " = ", "=="]), 1)
        else:
            lines = [l for l in lines if not l.startswith(rng.choice(["v=", "o=", "s=", "t=", "c="]))]
    sep = CRLF if rng.random() < 0.85 else rng.choice(["\n", "\r", ""])
    return sep.join(lines)


def multipart(rng, sdp_text):
    b = "fuzzb%d" % rng.randrange(1000)
    parts = ["--%s\r\nContent-Type: application/sdp\r\n\r\n%s" % (b, sdp_text),
             "--%s\r\nContent-Type: application/isup\r\n\r\n\x01\x02\x03" % b,
             "--%s--\r\n" % b if rng.random() < 0.7 else "--%s" % b]
    return "multipart/mixed;boundary=" + rng.choice([b, b, "", '"' + b]), CRLF.join(parts)


def mutate_body(rng, msg):
    """Damages the body (or its Content-Type); returns the mutation's name."""
    op = rng.randrange(6)
    ctype_i = _pick_index(rng, msg, {"content-type"})
    text = msg.body.decode("utf-8", "surrogateescape")
    if op <= 1 and not text:
        op = 3
    if op == 2 and ctype_i is None:
        op = 4
    if op <= 1:
        msg.body = damage_sdp(rng, text).encode("utf-8", "surrogateescape")
        return "body.sdp_damaged"
    if op == 2:
        msg.headers[ctype_i][1] = rng.choice(CTYPES)
        return "body.content_type"
    if op == 3:
        ctype, body = multipart(rng, text or sdp(4000))
        if ctype_i is None:
            msg.headers.append(["Content-Type", ctype])
        else:
            msg.headers[ctype_i][1] = ctype
        msg.body = body.encode("utf-8", "surrogateescape")
        return "body.multipart"
    if op == 4:
        msg.body = bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 64, 1500])))
        return "body.random_bytes"
    if ctype_i is not None:
        del msg.headers[ctype_i]
    return "body.no_content_type"


def mutate(rng, msg, big=False):
    """Applies 1-3 mutations to msg (body ones only if it has or may carry a body); finishes it
    with Content-Length; returns the mutation names."""
    names = []
    if rng.random() < 0.35:
        names.append(mutate_body(rng, msg))
    finish(msg)
    for _ in range(rng.randint(1, 3) if not names or rng.random() < 0.5 else 0):
        m = rng.choice(HEADER_MUTATORS)
        m(rng, msg, big)
        names.append(m.__name__[2:])
    return names


def frame_udp(rng, data):
    """Framing damage for one datagram: (datagrams, name)."""
    op = rng.randrange(4)
    if op == 0:
        return [data[:rng.randrange(1, max(2, len(data)))]], "frame.truncated"
    if op == 1:
        return [data + bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200)))], "frame.trailing"
    if op == 2:
        return [data + data], "frame.two_in_one"
    return [b"\r\n\r\n" + data], "frame.leading_crlf"
