"""The SIP fuzzer (sip_fuzz.py) as a bounded ctest entry: a seeded stream of mutated requests and
damaged callee responses through the real b2buad, which must keep answering OPTIONS after every
batch, end every call once the stream stops, and give back its descriptors and memory.

B2BUA_FUZZ_MESSAGES (default 20000) and B2BUA_FUZZ_SEED (default 17) change the budget and seed."""

import json
import os
import re
import unittest

import harness
from sip_fuzz import Fuzzer
from sip_fuzz_gen import Generator
from sip_fuzz_ua import Dialog, Endpoints


class FixedPorts(Endpoints):
    """Endpoints whose addresses do not depend on the ports the kernel gave out."""

    def port(self, side, transport="udp"):
        return {"caller": 5001, "callee": 5002, "probe": 5003}[side] + (10 if transport == "tcp"
                                                                         else 0)


def stream(seed, count):
    ep = FixedPorts(seed)
    ep.b2b = (harness.HOST, 5060)
    for side in ("caller", "callee"):
        for i in range(4):
            ep.dialogs[side]["%s%d" % (side, i)] = Dialog(
                side, "%s%d" % (side, i), "<sip:a@h>;tag=1", "<sip:b@h>;tag=2",
                "sip:b@127.0.0.1:5060", "udp", None)
    try:
        gen = Generator(seed, tcp_share=0.0)
        return [(it.kind, it.notes, b"".join(it.payloads))
                for it in (gen.next(ep, n) for n in range(count))]
    finally:
        ep.shutdown()


class GeneratorTest(unittest.TestCase):

    def test_same_seed_gives_the_same_stream_and_another_seed_another(self):
        a, b, c = stream(5, 3000), stream(5, 3000), stream(6, 3000)
        self.assertEqual(a, b)
        self.assertNotEqual([x[2] for x in a], [x[2] for x in c])

    def test_stream_covers_the_templates_and_mutations(self):
        items = stream(9, 6000)
        kinds = {k for k, _, _ in items}
        for want in ("invite", "invite_valid", "reinvite", "update", "info", "bye", "options",
                     "register", "message", "unknown", "callee_bye", "callee_reinvite", "garbage"):
            self.assertIn(want, kinds)
        notes = {n for _, ns, _ in items for n in ns}
        for want in ("valid", "bad_uri", "number", "huge", "body.sdp_damaged", "body.multipart",
                     "weird_text", "drop", "frame.truncated"):
            self.assertIn(want, notes)
        valid = sum(1 for _, ns, _ in items if ns == ["valid"]) / len(items)
        self.assertTrue(0.02 < valid < 0.25, "share of valid messages %.3f" % valid)
        raw = b"".join(p for _, _, p in items)
        for needle in (b"Contact: *", b"tel:", b"urn:", b"http:", b"\x00", b"Session-Expires"):
            self.assertIn(needle, raw)
        self.assertTrue(re.search(rb"c=IN IP4 [a-z]", raw), "no host name in c=")


class SipFuzzTest(unittest.TestCase):

    def test_mutated_stream_never_stops_b2buad_nor_leaks(self):
        binary = harness.b2buad_path()
        if not os.access(binary, os.X_OK):
            self.fail("b2buad binary not found or not executable: %s (set B2BUAD)" % binary)
        messages = int(os.environ.get("B2BUA_FUZZ_MESSAGES", "20000"))
        # Memory after the drain (sip_fuzz.py): the live heap must come back within 16 MiB (the
        # leak check); resident memory only within 64 MiB (the allocator keeps pages of the peak).
        fz = Fuzzer(binary, seed=int(os.environ.get("B2BUA_FUZZ_SEED", "17")), messages=messages,
                    batch=500, rate=800.0, warmup=2000, max_seconds=120.0)
        rep = fz.run()
        diag = json.dumps(rep, indent=1, sort_keys=True)
        for f in fz.findings:
            diag += "\n--- %s at %s ---\n%s" % (f["kind"], f["where"], f["log_tail"])
        self.assertEqual(rep["findings"], [], diag)
        self.assertEqual(rep["fuzz_messages"], messages, "stopped early\n" + diag)
        self.assertEqual(rep["options_ok"], rep["batches"], diag)
        self.assertEqual(rep["endpoints"].get("fuzzer.internal_error", 0), 0, diag)
        # The stream reached real calls and their in-dialog paths, on both sides.
        self.assertGreater(rep["endpoints"].get("dialogs.caller", 0), 20, diag)
        self.assertGreater(rep["endpoints"].get("dialogs.callee", 0), 20, diag)
        self.assertGreater(rep["endpoints"].get("rx.callee.INVITE", 0), 100, diag)
        for kind in ("reinvite", "info", "callee_reinvite"):
            self.assertGreater(rep["kinds"].get(kind, 0), 0, diag)
        self.assertTrue(rep["final"] and rep["baseline"], diag)


if __name__ == "__main__":
    harness.main()
