"""A short load run: 2,000 calls at 200 calls/s through b2buad, none may fail."""

import os

import harness

CALLS = int(os.environ.get("B2BUA_LOAD_CALLS", "2000"))
RATE = int(os.environ.get("B2BUA_LOAD_RATE", "200"))


class LoadTest(harness.B2buaTestCase):

    idle_timeout = 20.0

    def test_2000_calls_at_200_cps_none_failed(self):
        srv = self.start_b2bua(log_level="warn")
        before = srv.stats()
        hold_ms = 500
        limit = RATE * 2  # concurrent calls: rate * (hold + setup) with room to spare
        duration = CALLS / RATE
        timeout_s = int(duration * 3 + 20)
        uas = self.uas(srv, "uas_answer", calls=CALLS, trace_msg=False, timeout_s=timeout_s)
        uac = self.uac(srv, "uac_basic", callee=uas, calls=CALLS, rate=RATE, limit=limit,
                       hold_ms=hold_ms, trace_msg=False, timeout_s=timeout_s).run()
        self.assertSipp(uac, successful=CALLS, failed=0)
        self.assertSipp(uas, successful=CALLS, failed=0)
        after = srv.wait_stats(lambda s: s["active_calls"] == 0, 20)
        self.assertEqual(after["active_calls"], 0, after)
        self.assertDelta(before, after, total_calls=CALLS, answered_calls=CALLS, failed_calls=0,
                         cancelled_calls=0)


if __name__ == "__main__":
    harness.main()
