"""Call detail records in SQLite: N calls of mixed outcome give exactly N records with the right
codes, reasons and parties (and /v1/cdrs filters and pages them); a kill -9 of b2buad loses no
record of a call that ended more than a second before, and a call that was up at the kill is
recorded (disconnect reason restart) by the next b2buad on the same database."""

import os
import signal
import sqlite3
import time

import harness
import schemas


def iso_seconds(iso):
    """Seconds since the epoch of an ISO 8601 UTC time as the API writes it (ms precision)."""
    import calendar
    base, _, frac = iso.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + float("0." + (frac or "0"))


def route(target, pattern, name):
    return {"name": name, "match": {"to": pattern}, "action": "route", "targets": [target]}


class CdrTest(harness.B2buaTestCase):

    def wait_cdrs(self, srv, total, timeout=5):
        page = harness.wait_until(
            lambda: (lambda r: r[1] if r[0] == 200 and r[1]["total"] >= total else None)(
                srv.get("/v1/cdrs?limit=1000")), timeout)
        self.assertIsNotNone(page, "not %d records: %r" % (total, srv.get("/v1/cdrs")))
        return page

    def test_mixed_outcomes_give_exactly_one_record_each(self):
        ports = {k: harness.free_port_block(1) for k in ("answer", "busy", "ring", "hang")}
        target = lambda k: "sip:127.0.0.1:%d" % ports[k]
        srv = self.start_b2bua(routes=[
            route(target("answer"), "bob", "to-answer"), route(target("busy"), "busy", "to-busy"),
            route(target("ring"), "ring", "to-ring"), route(target("hang"), "hang", "to-hang"),
            {"name": "deny", "match": {"to": "rej*"}, "action": "reject", "status": 403}])
        uas = {
            "answer": self.uas(srv, "uas_answer", name="uas-answer", port=ports["answer"],
                               calls=3),
            "busy": self.uas(srv, "uas_busy_486", name="uas-busy", ruser=None,
                             port=ports["busy"], calls=2),
            "ring": self.uas(srv, "uas_ring_forever", name="uas-ring", ruser=None,
                             port=ports["ring"]),
            "hang": self.uas(srv, "uas_hangup", name="uas-hang", ruser=None, port=ports["hang"],
                             hold_ms=200),
        }
        runs = [("uac_basic", "bob", 3), ("uac_expect_486", "busy", 2),
                ("uac_expect_403", "rej1", 1), ("uac_expect_404", "nobody", 2),
                ("uac_cancel", "ring", 1), ("uac_callee_hangup", "hang", 1)]
        t0 = int(time.time() * 1000)
        for scenario_name, service, calls in runs:
            uac = self.uac(srv, scenario_name, name="uac-" + service, service=service,
                           calls=calls, rate=20).run()
            self.assertSipp(uac, successful=calls)
        for u in uas.values():
            self.assertSipp(u)
        n = sum(c for _, _, c in runs)
        page = self.wait_cdrs(srv, n)
        time.sleep(0.3)  # nothing more may come
        page = self.wait_cdrs(srv, n)
        self.assertEqual(page["total"], n, page)
        self.assertEqual(schemas.errors(page, "cdrs"), [])
        cdrs = page["cdrs"]
        by_to = {}
        for r in cdrs:
            by_to.setdefault(r["to"].split("@")[0].split(":")[1], []).append(r)
        outcome = {k: sorted((r["final_status"], r["disconnect_reason"], r["hangup_by"])
                             for r in v) for k, v in by_to.items()}
        self.assertEqual(outcome, {
            "bob": [(200, "caller_bye", "caller")] * 3,
            "busy": [(486, "failed", "callee")] * 2,
            "rej1": [(403, "route_rejected", "b2bua")],
            "nobody": [(404, "route_no_match", "b2bua")] * 2,
            "ring": [(487, "cancelled", "caller")],
            "hang": [(200, "callee_bye", "callee")],
        })
        for r in by_to["bob"]:
            self.assertEqual(r["route"], "to-answer")
            self.assertEqual(r["backend"], target("answer"))
            self.assertIn("uac-marker", r["a_call_id"])
            self.assertNotIn("uac-marker", r["b_call_id"])
            self.assertIsNotNone(r["answer_time"])
            self.assertGreaterEqual(r["duration_s"], 0)
        for r in by_to["nobody"] + by_to["rej1"]:
            self.assertIsNone(r["b_call_id"])
            self.assertEqual(r["backend"], "")
        self.assertEqual(len({r["id"] for r in cdrs}), n)
        # Filters and paging
        self.assertEqual(srv.get("/v1/cdrs?to=busy")[1]["total"], 2)
        self.assertEqual(srv.get("/v1/cdrs?from=alice&to=bob")[1]["total"], 3)
        self.assertEqual(srv.get("/v1/cdrs?since=%d" % (t0 - 60000))[1]["total"], n)
        self.assertEqual(srv.get("/v1/cdrs?until=%d" % t0)[1]["total"], 0)
        self.assertEqual(srv.get("/v1/cdrs?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00.000Z")
                         [1]["total"], 0)
        p1 = srv.get("/v1/cdrs?limit=4")[1]
        p2 = srv.get("/v1/cdrs?limit=4&offset=4")[1]
        p3 = srv.get("/v1/cdrs?limit=4&offset=8")[1]
        self.assertEqual((p1["count"], p2["count"], p3["count"]), (4, 4, n - 8))
        self.assertEqual([r["id"] for r in p1["cdrs"] + p2["cdrs"] + p3["cdrs"]],
                         [r["id"] for r in cdrs])
        one = srv.get("/v1/cdrs/%d" % cdrs[0]["id"])
        self.assertEqual(one, (200, cdrs[0]))
        st = srv.stats()
        self.assertEqual(st["failed_by_reason"],
                         {"failed": 2, "route_rejected": 1, "route_no_match": 2})
        self.assertEqual(st["setup_time_ms"]["count"], 4)

    def test_kill_9_loses_no_record_of_a_call_ended_a_second_before(self):
        uas_port = harness.free_port_block(1)
        srv = harness.B2bua(self.tmp, routes=[route("sip:127.0.0.1:%d" % uas_port, "*", "all")])
        srv.config["cdr"] = {"path": "calls.sqlite", "flush_ms": 500}  # the slowest allowed
        self.servers.append(srv)
        srv.start()
        uas = self.uas(srv, "uas_answer", port=uas_port, calls=25, timeout_s=60)
        done = self.uac(srv, "uac_basic", name="uac-done", calls=20, rate=40).run()
        self.assertSipp(done, successful=20)
        ended_at = time.monotonic()
        held = self.uac(srv, "uac_basic", name="uac-held", calls=3, rate=50,
                        hold_ms=30000).start(wait_bound=False)
        st = srv.wait_stats(lambda s: s["active_calls"] == 3 and s["answered_calls"] == 23, 5)
        self.assertEqual(st["answered_calls"], 23, st)
        time.sleep(max(0.0, 1.05 - (time.monotonic() - ended_at)))
        os.kill(srv.pid, signal.SIGKILL)
        self.assertEqual(srv.wait_exit(5), -signal.SIGKILL)
        self.check_idle = False
        held.kill()
        uas.kill()
        db = sqlite3.connect(os.path.join(self.tmp, "calls.sqlite"))
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            self.assertEqual(db.execute("PRAGMA journal_mode").fetchone()[0], "wal")
            rows = db.execute("SELECT final_status, disconnect_reason, hangup_by, answer_ms > 0, "
                              "end_ms >= answer_ms FROM cdr ORDER BY id").fetchall()
        finally:
            db.close()
        self.assertEqual(len(rows), 20, "records of finished calls lost or extra: %r" % rows)
        self.assertEqual(set(rows), {(200, "caller_bye", "caller", 1, 1)})

    def test_call_up_at_kill_9_is_recorded_as_restart_by_the_next_b2buad(self):
        uas_port = harness.free_port_block(1)
        routes = [route("sip:127.0.0.1:%d" % uas_port, "*", "all")]
        db_path = os.path.join(self.tmp, "calls.sqlite")
        first = harness.B2bua(self.tmp, routes=routes)
        first.config["cdr"] = {"path": "calls.sqlite", "flush_ms": 50}
        self.servers.append(first)
        first.start()
        uas = self.uas(first, "uas_answer", port=uas_port, calls=2, timeout_s=60)
        self.assertSipp(self.uac(first, "uac_basic", name="uac-done").run(), successful=1)
        held = self.uac(first, "uac_basic", name="uac-held", hold_ms=30000).start(wait_bound=False)
        st = first.wait_stats(lambda s: s["active_calls"] == 1 and s["answered_calls"] == 2, 5)
        self.assertEqual((st["active_calls"], st["answered_calls"]), (1, 2), st)
        live = first.get("/v1/calls")[1]["calls"]
        self.assertEqual(len(live), 1, live)
        live = live[0]

        def journaled():  # the answered call's journal row is committed (flush_ms 50)
            db = sqlite3.connect(db_path)
            try:
                return db.execute("SELECT count(*) FROM cdr_journal WHERE answer_ms > 0"
                                  ).fetchone()[0] == 1
            finally:
                db.close()
        self.assertTrue(harness.wait_until(journaled, 3), "no journal row for the live call")
        os.kill(first.pid, signal.SIGKILL)
        self.assertEqual(first.wait_exit(5), -signal.SIGKILL)
        killed_at = time.time()
        held.kill()
        uas.kill()

        second = harness.B2bua(self.tmp, routes=routes)
        second.config["cdr"] = {"path": "calls.sqlite", "flush_ms": 50}
        second.stdout_path += ".2"
        second.stderr_path += ".2"
        self.servers.append(second)
        second.start()  # checked idle at the end by tearDown
        page = self.wait_cdrs(second, 2)
        self.assertEqual(page["total"], 2, page)
        self.assertEqual(schemas.errors(page, "cdrs"), [])
        done, up = page["cdrs"]
        self.assertEqual((done["disconnect_reason"], done["run"]), ("caller_bye", 1), done)
        self.assertEqual(up["disconnect_reason"], "restart", up)
        self.assertEqual((up["call"], up["run"]), (live["id"], 1))
        self.assertEqual((up["from"], up["to"]), (live["from"], live["to"]))
        self.assertEqual(up["a_call_id"], live["legs"][0]["call_id"])
        self.assertEqual(up["b_call_id"], live["legs"][1]["call_id"])
        self.assertEqual(up["backend"], "sip:127.0.0.1:%d" % uas_port)
        self.assertEqual(up["route"], "all")
        self.assertEqual((up["hangup_by"], up["final_status"]), ("b2bua", 200))
        self.assertEqual(up["answer_time"], live["answer_time"])
        self.assertIsNotNone(up["answer_time"])
        self.assertGreaterEqual(up["duration_s"], 0)
        end = iso_seconds(up["end_time"])
        self.assertGreaterEqual(end, iso_seconds(up["answer_time"]))
        self.assertLessEqual(end, killed_at + 0.001)
        self.assertIn("b2bua.cdr.recovered: 1 call(s)", harness.tail(second.stderr_path, 200) +
                      harness.tail(second.stdout_path, 200))
        # The new run's calls are told apart from the old run's by run.
        uas2 = self.uas(second, "uas_answer", name="uas-2", port=uas_port)
        self.assertSipp(self.uac(second, "uac_basic", name="uac-after").run(), successful=1)
        self.assertSipp(uas2)
        page = self.wait_cdrs(second, 3)
        self.assertEqual(page["total"], 3, page)
        self.assertEqual(page["cdrs"][2]["run"], 2)
        self.assertEqual(len({(r["run"], r["call"]) for r in page["cdrs"]}), 3)
        self.assertEqual([r["disconnect_reason"] for r in page["cdrs"]].count("restart"), 1)
        db = sqlite3.connect(db_path)
        try:
            self.assertEqual(db.execute("SELECT count(*) FROM cdr_journal").fetchone()[0], 0)
        finally:
            db.close()

    def test_unopenable_cdr_path_exits_2_naming_the_key(self):
        srv = harness.B2bua(self.tmp)
        srv.config["cdr"] = {"path": os.path.join(self.tmp, "no-such-dir", "cdr.sqlite")}
        harness.write_config(srv.config_path, srv.config)
        import subprocess
        p = subprocess.run([harness.b2buad_path(), "--config", srv.config_path],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 2, p.stderr)
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn("cdr.path %s" % srv.config["cdr"]["path"], lines[0])

    def test_empty_cdr_path_turns_records_off(self):
        srv = harness.B2bua(self.tmp)
        srv.config["cdr"] = {"path": ""}
        self.servers.append(srv)
        srv.start()
        status, body = srv.get("/v1/cdrs")
        self.assertEqual(status, 503, body)
        self.assertEqual(body["error"]["code"], "backend_unavailable")
        self.assertFalse(any(f.endswith(".sqlite") for f in os.listdir(self.tmp)))

if __name__ == "__main__":
    harness.main()
