"""The embeddable facade: b2bua::SimpleB2bua in a program of its own (simple_b2bua_probe), with
synchronous and asynchronous routing callbacks, call_count() and list_calls(), driven by SIPp."""

import os
import subprocess
import time

import harness


def probe_path():
    return os.environ.get("B2BUA_PROBE") or os.path.join(
        os.path.dirname(harness.b2buad_path()), "..", "tests", "integration", "simple_b2bua_probe")


class Probe:
    """The probe process: commands on stdin, answers on stdout, every read bounded."""

    def __init__(self, mode, sip_address, target, extra=()):
        self.proc = subprocess.Popen([probe_path(), mode, sip_address, target] + list(extra),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.address = sip_address

    def line(self, timeout=5.0):
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise AssertionError("simple_b2bua_probe said nothing for %.0f s" % timeout)
        return self.proc.stdout.readline().strip()

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.line()

    def count(self):
        fields = dict(kv.split("=", 1) for kv in self.ask("count").split())
        return int(fields["count"]), int(fields["listed"]), int(fields["legs"]), fields["from"]

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode


class SimpleB2buaTest(harness.B2buaTestCase):

    def start_probe(self, mode, target_sipp, address, extra=()):
        probe = Probe(mode, address, "sip:" + target_sipp.address, extra)
        self.addCleanup(probe.stop)
        self.assertEqual(probe.line(), "ready", probe.proc.stderr.read() if probe.proc.poll() else "")
        return probe

    def check_call_through(self, mode):
        address = "%s:%d" % (harness.HOST, harness.free_port())
        uas = self.sipp("uas", "uas_answer", keys={"ruser": "bob", "b2bua": address}).start()
        probe = self.start_probe(mode, uas, address)
        uac = self.sipp("uac", "uac_basic", remote=probe.address, hold_ms=1500).start(
            wait_bound=False)
        # While the call is held, the facade sees it.
        deadline = time.monotonic() + 5
        seen = (0, 0, 0, "-")
        while time.monotonic() < deadline:
            seen = probe.count()
            if seen[0] == 1 and seen[1] == 1:
                break
            time.sleep(0.1)
        self.assertEqual(seen[0], 1, "call_count() during the call")
        self.assertEqual(seen[1], 1, "list_calls() during the call")
        self.assertEqual(seen[2], 2, "the listed call has both legs")
        self.assertIn("sip:alice@", seen[3])
        res = uac.wait()
        self.assertEqual(res.rc, 0, res.describe())
        self.assertEqual(uas.wait().rc, 0, uas.result.describe())
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and probe.count()[0] != 0:
            time.sleep(0.1)
        self.assertEqual(probe.count()[:2], (0, 0), "calls left after both sides hung up")
        self.assertEqual(probe.stop(), 0)

    def test_async_route_callback_bridges_a_call(self):
        self.check_call_through("async")

    def test_sync_route_callback_bridges_a_call(self):
        self.check_call_through("sync")

    def test_on_dtmf_and_on_event_see_the_callers_digit_hold_and_resume(self):
        address = "%s:%d" % (harness.HOST, harness.free_port())
        uas = self.sipp("uas", "uas_accept_reinvite").start()
        probe = self.start_probe("sync", uas, address)
        self.assertEqual(probe.ask("events"), "dtmf=- other=-")
        uac = self.sipp("uac", "uac_hold_resume", remote=probe.address, hold_ms=200).run()
        self.assertEqual(uac.result.rc, 0, uac.result.describe())
        self.assertEqual(uas.wait().rc, 0, uas.result.describe())
        # uac_hold_resume: hold, resume, the same resume again (no event), INFO Signal=5 160 ms.
        self.assertEqual(probe.ask("events"), "dtmf=a:5:160 other=hold:a,resume:a")
        self.assertEqual(probe.stop(), 0)

    def test_route_callback_without_target_gives_404(self):
        address = "%s:%d" % (harness.HOST, harness.free_port())
        uas = self.sipp("uas", "uas_answer", keys={"ruser": "bob", "b2bua": address}).start()
        for mode in ("async", "sync"):
            probe = self.start_probe(mode, uas, address)
            uac = self.sipp("uac-" + mode, "uac_expect_404", remote=probe.address,
                            service="nobody").run()
            self.assertEqual(uac.result.rc, 0, uac.result.describe())
            self.assertEqual(probe.count()[0], 0)
            self.assertEqual(probe.stop(), 0)

    def test_require_auth_challenges_and_passes_the_user_to_the_route_callback(self):
        address = "%s:%d" % (harness.HOST, harness.free_port())
        uas = self.sipp("uas", "uas_answer", keys={"ruser": "bob", "b2bua": address}).start()
        probe = self.start_probe("auth", uas, address)
        anonymous = self.sipp("anon", "uac_expect_401", remote=probe.address).run()
        self.assertEqual(anonymous.result.rc, 0, anonymous.result.describe())
        alice = self.sipp("alice", "uac_auth", remote=probe.address,
                          extra=["-au", "alice", "-ap", "secret",
                                 "-auth_uri", "bob@" + probe.address]).run()
        self.assertEqual(alice.result.rc, 0, alice.result.describe())
        self.assertEqual(uas.wait().rc, 0, uas.result.describe())
        self.assertEqual(probe.stop(), 0)

    def test_route_builder_with_fallback_failover_and_added_header(self):
        address = "%s:%d" % (harness.HOST, harness.free_port())
        dead = "sip:%s:%d" % (harness.HOST, harness.free_port_block(1))
        uas = self.sipp("uas", "uas_backend", calls=100).start()
        probe = self.start_probe("builder", uas, address, [dead])
        # The fallback sends the call to the dead target; add_failover moves it to the live one.
        uac = self.sipp("uac", "uac_call", remote=probe.address,
                        keys={"caller": "alice", "xfoo": "bar"}).run()
        self.assertEqual(uac.result.rc, 0, uac.result.describe())
        with open(uas._p("log")) as f:
            got = [line for line in f if line.startswith("INVITE from=")]
        self.assertEqual(len(got), 1, got)
        self.assertIn("x_tenant=probe", got[0])  # add_header
        self.assertIn("x_foo= ", got[0])          # nothing copied unless a rule says so
        # The builder's reject rule answers before the fallback.
        res = self.sipp("uac403", "uac_expect_403", remote=probe.address, service="nobody").run()
        self.assertEqual(res.result.rc, 0, res.result.describe())
        self.assertEqual(probe.stop(), 0)
