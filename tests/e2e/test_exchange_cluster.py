"""End-to-end: a reporting round lived by three offices over a three-node NATS JetStream cluster.

On loopback: three nats-server with JetStream (the stream has 3 replicas) and one leaf node
per office (tests/tools/natscluster.py); three vanthud (exchange_util.Office: the province's
People's Committee, a department, a commune), each with its own spool, database, PKI, tokens
and users, each talking to its own leaf node only.

The story: the province opens a round for the department and the commune; the commune answers
with a Thông báo carrying its report (the second attachment) through the exchange, and the
province's intake counts it; at the reminder time the province's vanthud drafts the công văn
đôn đốc to the department alone, which is signed, issued, and reaches the department's
incoming register; the province closes the round and its conclusion notice goes to both; the
commune assigns it, reports progress, and its reply closes it. Along the way the hub node the
province's leaf node is attached to is SIGKILLed and restarted, every vanthud is SIGKILLed
while sending and while receiving, and the commune's link (its leaf node) is down for 60 s
while the conclusion is sent. At the end, through the real vanthuctl: every package is in each
recipient's incoming register exactly once, every register is gapless from 1, every status
reached its sender (the province's delivery shows 01 03 04 05 06 from the commune), nothing was
refused, `verify` holds at every office, and `pdf verify` passes on a received PDF.

The offices share one test clock (Daemon now=): it starts on Monday 18/3/2024 and runs on
from every restart; it jumps three days when the province restarts into the reminder time.
"""
import atexit
import datetime
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import unittest

from harness import IS_ROOT, REPO
from exchange_util import (COMMUNE_ID, DEPARTMENT_ID, PROVINCE_ID, Office, make_pkis,
                           status_codes, wait_for)

sys.path.insert(0, os.path.join(REPO, "tests", "tools"))
from natscluster import Cluster  # noqa: E402

ROUND = os.path.join(REPO, "workflows", "dot-bao-cao", "examples", "cds-2024-q1.xml")
REPORT = os.path.join(REPO, "workflows", "bao-cao", "examples", "05-xa-phuoc-hoi.xml")
START = datetime.datetime(2024, 3, 18, 9, 0, 0)  # Monday; the round's reminder is on 21/3
CUT_S = 60  # the commune's link is down this long


def codes(office, doc, recipient):
    return sorted(int(c) for c in status_codes(office, doc, recipient))


@unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
class ExchangeCluster(unittest.TestCase):

    def setUp(self):
        self.top = tempfile.mkdtemp(prefix="vanthu-xcluster-")
        os.chmod(self.top, 0o755)
        self.cluster = Cluster(os.path.join(self.top, "nats"), size=3, leaves=3).start()
        self.leaf = {"tinh": "leaf1", "so": "leaf2", "xa": "leaf3"}
        infos, trust = make_pkis(self.top, ["tinh", "so", "xa"])
        self.trust = trust
        self.jump = datetime.timedelta(0)
        self.real0 = time.time()

        def office(name, org_name, abbrev, org_id, units):
            return Office(self.top, name, org_name=org_name, abbrev=abbrev, org_id=org_id,
                          units=units, info=infos[name], trust=trust,
                          exchange={"transport": "nats",
                                    "servers": self.cluster.url(self.leaf[name]),
                                    "replicas": 3, "retry_max": 5})
        self.tinh = office("tinh", "Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu", "UBND", PROVINCE_ID,
                           ["SO-TTTT", "XA-PHUOC-HOI", "SO-NV"])
        self.so = office("so", "Sở Thông tin và Truyền thông", "STTTT", DEPARTMENT_ID,
                         ["UBND-TINH"])
        self.xa = office("xa", "Ủy ban nhân dân xã Phước Hội", "UBND", COMMUNE_ID,
                         ["UBND-TINH"])
        self.offices = [self.tinh, self.so, self.xa]
        self.kills = []  # (office, what it was doing, the last exchange line of its log)

    def tearDown(self):
        for o in getattr(self, "offices", []):
            o.cleanup()
        self.cluster.stop()
        atexit.unregister(self.cluster.stop)  # its folder is removed here
        if os.environ.get("VANTHU_KEEP"):
            print("kept", self.top)
        else:
            shutil.rmtree(self.top, ignore_errors=True)

    # ---- the shared test clock ----
    def now(self):
        t = START + self.jump + datetime.timedelta(seconds=time.time() - self.real0)
        return t.strftime("%Y-%m-%dT%H:%M:%S")

    def start(self, o):
        o.start(now=self.now())

    def kill(self, o, doing):
        o.kill()
        lines = [l for l in o.d.read_log().splitlines() if "exchange:" in l]
        self.kills.append((o.name, doing, lines[-1] if lines else ""))
        self.start(o)

    def arm(self, o, pattern, doing, timeout=90):
        """From now on, a thread watches o's log; as soon as a new line matches pattern it
        SIGKILLs o. finish() (after the action that makes o log it) waits for that kill and
        restarts o."""
        seen = len(o.d.read_log())
        rx = re.compile(pattern)
        state = {"line": None}

        def watch():
            deadline = time.time() + timeout
            while time.time() < deadline:
                m = rx.search(o.d.read_log()[seen:])
                if m:
                    o.d.proc.kill()
                    state["line"] = m.group(0)
                    return
                time.sleep(0.002)
        t = threading.Thread(target=watch, daemon=True)
        t.start()

        def finish():
            t.join(timeout + 5)
            if state["line"] is None:
                raise AssertionError(f"{o.name}: no {pattern!r} in its log")
            o.d.proc.wait()
            o.d.logfh.close()
            o.d.notify.close()
            self.kill(o, doing)
        return finish

    # ---- helpers ----
    def entry(self, o, doc_key, timeout=120):
        return wait_for(f"{doc_key} in {o.name}'s incoming register",
                        lambda: [e for e in o.incoming() if e["doc_key"] == doc_key],
                        timeout=timeout)[0]

    def docs(self, o):
        return o.j("list", user="vtt-giang")["documents"]

    def take_through(self, o, doc):
        """A draft vanthud wrote: submitted, approved, signed with the leader's token, issued."""
        o.j("submit", str(doc), user="vtt-ana")
        o.j("approve", str(doc), user="vtt-binh")
        r = o.ctl("sign", str(doc), "--pkcs11", o.pki["module"], "--token", "lanh-dao",
                  "--pin-file", o.leader_pin, user="vtt-chi")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        res = o.j("issue", str(doc), user="vtt-dung")
        self.assertNotIn("publish_error", res)
        return res["symbol"]

    def key(self, o, doc):
        return wait_for(f"{o.name}: the DocumentId of {doc}",
                        lambda: o.delivery(doc).get("key"), timeout=60)

    def round_units(self):
        r = self.tinh.j("round", "CDS-2024-Q1", user="vtt-giang")
        return {u["unit_code"]: u["status"] for u in r["units"]}

    def test_round_through_the_cluster(self):
        t0 = time.time()
        for o in self.offices:
            self.start(o)

        # ---- the province opens the round for the department and the commune
        with open(ROUND, encoding="utf-8") as f:
            text = f.read().replace('login="lanh-dao-ky"', 'login="vtt-chi"')
        s, e = text.index("<units>"), text.index("</units>") + len("</units>")
        text = text[:s] + '<units><unit code="SO-TTTT"/><unit code="XA-PHUOC-HOI"/></units>' + text[e:]
        round_file = os.path.join(self.tinh.out, "round.xml")
        with open(round_file, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(round_file, 0o644)
        r = self.tinh.ctl("round", "new", round_file, user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.round_units(), {"SO-TTTT": "missing", "XA-PHUOC-HOI": "missing"})

        # ---- the commune answers with its report; SIGKILLed while it sends, the province
        # SIGKILLed while it takes the package in
        report = os.path.join(self.xa.out, "05-xa-phuoc-hoi.xml")
        shutil.copy(REPORT, report)
        os.chmod(report, 0o644)
        tinh_killed = self.arm(self.tinh, r"exchange: the report .*",
                               "receiving the commune's answer (killed when its report was taken)")
        answer, _ = self.xa.issue("Báo cáo kết quả triển khai chuyển đổi số quý I năm 2024",
                                  ["UBND-TINH"], report=report)
        self.kill(self.xa, "sending its answer (killed as issue returned)")
        tinh_killed()
        answer_key = self.key(self.xa, answer)
        e_answer = self.entry(self.tinh, answer_key)
        wait_for("the commune's report counted by the province's intake",
                 lambda: self.round_units()["XA-PHUOC-HOI"] == "on_time", timeout=60)
        self.assertEqual(self.round_units()["SO-TTTT"], "missing")
        wait_for("01 and 03 from the province at the commune",
                 lambda: codes(self.xa, answer, PROVINCE_ID) == [1, 3], timeout=60)
        # the 03 carries the report's receipt
        st03 = [s for s in self.xa.delivery(answer)["statuses"] if int(s["code"]) == 3]
        self.assertIn("Đã tiếp nhận", st03[0]["description"])

        # ---- Thursday 21/3: the province restarts into the reminder time; vanthud drafts the
        # công văn đôn đốc to the department alone. The hub node its leaf node is attached to
        # is SIGKILLed before the reminder is sent, and restarted after it arrived.
        self.tinh.stop()
        self.jump = datetime.timedelta(days=3)
        self.start(self.tinh)
        reminder = wait_for("the reminder drafted", lambda: [
            d for d in self.docs(self.tinh) if d["kind"] == "cong-van"], timeout=30)
        self.assertEqual(len(reminder), 1, reminder)
        reminder = reminder[0]["id"]
        hub = self.cluster.hub_of(self.leaf["tinh"])
        self.assertIsNotNone(hub)
        self.cluster.kill(hub)
        so_killed = self.arm(self.so, r"exchange: registered .*", "receiving the reminder "
                             "(killed when it was registered, its 01 03 in the outbox)")
        self.take_through(self.tinh, reminder)
        reminder_key = self.key(self.tinh, reminder)
        d = {x["recipient_id"]: x["via"] for x in self.tinh.delivery(reminder)["deliveries"]
             if x.get("recipient_id")}
        self.assertEqual(d, {DEPARTMENT_ID: "exchange"})
        so_killed()
        self.entry(self.so, reminder_key)
        self.cluster.restart(hub)
        wait_for("01 and 03 from the department about the reminder",
                 lambda: codes(self.tinh, reminder, DEPARTMENT_ID) == [1, 3], timeout=90)

        # ---- the commune's link is cut for 60 s; meanwhile the province closes the round and
        # its conclusion goes to both (the province SIGKILLed while it sends)
        self.cluster.kill(self.leaf["xa"])
        cut = time.time()
        r = self.tinh.ctl("round", "close", "CDS-2024-Q1", user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        concl = [d for d in self.docs(self.tinh) if d["kind"] == "thong-bao"
                 and d["state"] not in ("issued", "withdrawn")]
        self.assertEqual(len(concl), 1, concl)
        concl = concl[0]["id"]
        self.take_through(self.tinh, concl)
        self.kill(self.tinh, "sending the conclusion (killed as issue returned)")
        concl_key = self.key(self.tinh, concl)
        self.assertEqual(sorted(x["recipient_id"] for x in self.tinh.delivery(concl)["deliveries"]
                                if x.get("recipient_id")), sorted([DEPARTMENT_ID, COMMUNE_ID]))
        self.entry(self.so, concl_key)
        wait_for("01 and 03 from the department about the conclusion",
                 lambda: codes(self.tinh, concl, DEPARTMENT_ID) == [1, 3], timeout=60)
        # nothing reaches the commune while its link is down
        while time.time() - cut < CUT_S:
            self.assertEqual([e for e in self.xa.incoming() if e["doc_key"] == concl_key], [])
            self.assertEqual(codes(self.tinh, concl, COMMUNE_ID), [])
            time.sleep(2)
        self.assertFalse(self.xa.j("status")["exchange"]["up"])
        xa_killed = self.arm(self.xa, r"exchange: registered .*",
                             "receiving the conclusion after the cut (killed when registered)")
        self.cluster.restart(self.leaf["xa"])
        xa_killed()
        e_concl = self.entry(self.xa, concl_key)
        wait_for("01 and 03 from the commune after the cut",
                 lambda: codes(self.tinh, concl, COMMUNE_ID) == [1, 3], timeout=60)

        # ---- the commune assigns it, reports progress, and its reply closes it
        self.xa.j("assign", str(e_concl["id"]), "--lead", "vtt-ana", "--due", "+5",
                  "-m", "Đồng chí Ana chủ trì, tham mưu văn bản trả lời", user="vtt-chi")
        self.xa.j("progress", str(e_concl["id"]), "-m", "Đang tổng hợp số liệu", user="vtt-ana")
        reply, _ = self.xa.issue("Báo cáo việc thực hiện kết luận về chuyển đổi số",
                                 ["UBND-TINH"], answers=e_concl["id"])
        reply_key = self.key(self.xa, reply)
        wait_for("04 05 06 from the commune at the province",
                 lambda: codes(self.tinh, concl, COMMUNE_ID) == [1, 3, 4, 5, 6], timeout=60)
        e_reply = self.entry(self.tinh, reply_key)
        wait_for("01 and 03 from the province about the reply",
                 lambda: codes(self.xa, reply, PROVINCE_ID) == [1, 3], timeout=60)
        self.assertEqual([e for e in self.xa.incoming() if e["id"] == e_concl["id"]][0]["state"],
                         "done")

        # ---- nothing lost, nothing doubled
        expected = {  # office: the DocumentIds it received, in the order they were sent
            self.tinh: [answer_key, reply_key],
            self.so: [reminder_key, concl_key],
            self.xa: [concl_key],
        }
        for o, keys in expected.items():
            reg = o.j("incoming", "register", "--year", "2024")["entries"]
            self.assertEqual([x["number"] for x in reg], list(range(1, len(reg) + 1)), o.name)
            self.assertEqual(sorted(x["doc_key"] for x in reg), sorted(keys), o.name)
            self.assertEqual(len(o.incoming()), len(keys), o.name)
            self.assertEqual(o.j("incoming", "refused")["refused"], [], o.name)
        # every status reached its sender; the province's delivery shows every one of them
        self.assertEqual(codes(self.tinh, concl, COMMUNE_ID), [1, 3, 4, 5, 6])
        self.assertEqual(codes(self.tinh, concl, DEPARTMENT_ID), [1, 3])
        self.assertEqual(codes(self.tinh, reminder, DEPARTMENT_ID), [1, 3])
        self.assertEqual(codes(self.xa, answer, PROVINCE_ID), [1, 3])
        self.assertEqual(codes(self.xa, reply, PROVINCE_ID), [1, 3])
        dl = self.tinh.delivery(concl)
        hist = [(s["recipient_id"], int(s["code"])) for s in dl["statuses"]]
        self.assertEqual(len(hist), len(set(hist)), hist)  # one per (recipient, code)
        for x in dl["deliveries"]:
            if x.get("recipient_id"):
                self.assertFalse(x["late"], x)
        # every outbox is empty
        for o in self.offices:
            wait_for(f"{o.name}'s outbox empty", lambda o=o: o.j("status")["exchange"]["outbox"] == 0,
                     timeout=30)
        # the round counted the commune once
        rd = self.tinh.j("round", "CDS-2024-Q1", user="vtt-giang")
        self.assertEqual(rd["state"], "closed")
        self.assertEqual((rd["on_time"], rd["late"], rd["missing"]), (1, 0, 1), rd)
        self.assertEqual(rd.get("after_close", 0), 0, rd)  # a redelivered package is no new report
        self.assertEqual(self.round_units(), {"SO-TTTT": "missing", "XA-PHUOC-HOI": "on_time"})
        # the audit chain holds at every office
        for o in self.offices:
            v = o.j("verify", user="vtt-giang")
            self.assertTrue(v["intact"], (o.name, v))
        # a received PDF: its signatures valid and trusted
        pdf = os.path.join(self.xa.out, "ket-luan.pdf")
        r = self.xa.ctl("incoming", "pdf", str(e_concl["id"]), "-o", pdf, user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = self.xa.ctl("pdf", "verify", pdf, "--trust", self.trust, user="vtt-dung",
                        json_out=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(r.json["result"]["all_valid"], r.stdout)
        self.assertGreaterEqual(r.json["result"]["count"], 2)  # the leader's and the office's
        for o in self.offices:
            o.stop()
        print(f"\n{type(self).__name__}: {time.time() - t0:.0f} s; kills: "
              + json.dumps(self.kills, ensure_ascii=False), file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
