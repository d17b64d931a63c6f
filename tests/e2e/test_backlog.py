"""test_backlog.py: a backlog larger than the intake queue, with a clerk asking.

5,000 reports wait in incoming/ when vanthud starts (more than its queue of
4,096 candidates, so it must come back for the rest). While it works, a
clerk's `status` is asked over and over on one connection: every request is
answered, the count of inputs never goes back, and at the end every file has
exactly one outcome and one receipt. `make bench` (tests/bench/backlog.py)
measures the same with 100,000 files, the answer times and the memory.
"""
import os
import sqlite3
import time
import unittest

from harness import Daemon, read_reply, need_root
from intake_util import receipts, report

N = 5000


class Backlog(unittest.TestCase):

    @need_root
    def test_status_answers_through_a_backlog(self):
        d = Daemon(intake_batch=256)
        try:
            d.start()
            d.stop()
            inc = os.path.join(d.spool, "incoming")
            names = [f"b{i:05d}.xml" for i in range(N)]
            for i, name in enumerate(names):
                with open(os.path.join(inc, name), "wb") as fh:
                    fh.write(report(round=f"BL{i}", value=i))
            d.start()
            s = d.connect()
            seen, answers = [], 0
            deadline = time.time() + 600
            while time.time() < deadline:
                s.sendall(b'{"cmd":"status"}\n')
                reply, rest = read_reply(s)
                self.assertEqual(rest, b"")
                self.assertTrue(reply["ok"], reply)
                answers += 1
                seen.append(reply["result"]["counts"]["inputs"])
                if seen[-1] >= N:
                    break
                time.sleep(0.05)
            s.close()
            self.assertEqual(seen[-1], N, "the backlog was not worked through in time")
            self.assertEqual(seen, sorted(seen), "the count of inputs went back")
            # it answered while work was waiting, not only after
            self.assertTrue(any(0 < v < N for v in seen), seen[:20])
            deadline = time.time() + 120
            while len(receipts(d.spool)) < N and time.time() < deadline:
                time.sleep(0.2)
            self.assertEqual(len(receipts(d.spool)), N)
            self.assertEqual(os.listdir(inc), [])
            self.assertEqual(os.listdir(os.path.join(d.spool, "claimed")), [])
            d.stop()
            con = sqlite3.connect(d.db)
            rows = dict(con.execute("SELECT source_name, count(*) FROM intake GROUP BY source_name"))
            self.assertEqual(sorted(rows), names)
            self.assertEqual(set(rows.values()), {1})
            self.assertEqual(con.execute("SELECT count(*) FROM intake WHERE outcome = 'accepted'")
                             .fetchone()[0], N)
            con.close()
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
