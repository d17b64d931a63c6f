"""End-to-end: a reporting round lived as a clerk lives it, with the daemon restarted between steps."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

from harness import IS_ROOT, REPO, Daemon, as_user
from intake_util import drop, person_drop, read_receipt, receipts, report, wait_receipts

EXAMPLES = os.path.join(REPO, "workflows", "bao-cao", "examples")
ROUND = os.path.join(REPO, "workflows", "dot-bao-cao", "examples", "cds-2024-q1.xml")
MEETING = os.path.join(REPO, "workflows", "dot-bao-cao", "examples", "ket-luan-hop-2024-04-05.xml")


def read(path):
    """An example as a test office uses it: its signer placeholder is vtt-chi, a real signer."""
    with open(path, "rb") as fh:
        return fh.read().replace(b'login="lanh-dao-ky"', b'login="vtt-chi"')


def copy_example(path, dest):
    with open(dest, "wb") as fh:
        fh.write(read(path))


def example(name):
    with open(os.path.join(EXAMPLES, name), "rb") as fh:
        return fh.read()


def pdf_text(docx, workdir):
    """LibreOffice (its own profile) then pdftotext: the words of the document, one string."""
    profile = tempfile.mkdtemp(prefix="lo-profile-")
    try:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                        "--convert-to", "pdf", "--outdir", workdir, docx],
                       capture_output=True, timeout=300)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    pdf = os.path.join(workdir, os.path.splitext(os.path.basename(docx))[0] + ".pdf")
    if not os.path.exists(pdf):
        raise AssertionError("LibreOffice did not convert %s (make deps installs it)" % docx)
    out = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, timeout=60).stdout.decode()
    return " ".join(out.split())


def assert_in_order(test, text, lines):
    pos = 0
    for line in lines:
        want = " ".join(line.split())
        at = text.find(want, pos)
        test.assertGreaterEqual(at, 0, f"not found after position {pos}: {want!r}\n{text}")
        pos = at + len(want)


@unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
class Story(unittest.TestCase):

    def setUp(self):
        self.d = Daemon(intake_rounds="required")  # an office's default

    def tearDown(self):
        self.d.cleanup()

    def restart(self, now):
        if self.d.proc is not None and self.d.proc.poll() is None:
            self.d.stop()
        self.d.start(now=now)
        # the daemon takes due steps at start; give the timer a moment
        time.sleep(1.0)

    def docs(self):
        return self.d.ctl("list", user="vtt-giang", json_out=True).json["result"]["documents"]

    def round(self):
        r = self.d.ctl("round", "CDS-2024-Q1", user="vtt-giang", json_out=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.json["result"]

    def drop_report(self, name, data, count):
        drop(self.d.spool, name, data)
        wait_receipts(self.d.spool, count)
        return read_receipt(sorted(receipts(self.d.spool), key=lambda p: int(p.split(".")[-3]))[-1])

    def test_round_story(self):
        work = os.path.join(self.d.root, "work")
        os.makedirs(work)
        round_file = os.path.join(work, "round.xml")
        copy_example(ROUND, round_file)
        os.chmod(work, 0o777)  # the users write their DOCX here
        os.chmod(round_file, 0o644)

        # Monday 18/3: the clerk opens the round; two units report, one of them only after a
        # rejected first try
        self.restart("2024-03-18T09:00:00")
        r = self.d.ctl("round", "new", round_file, user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Đã mở đợt báo cáo CDS-2024-Q1", r.stdout)
        self.assertEqual(self.d.ctl("round", "new", round_file, user="vtt-dung").returncode, 1)
        self.assertEqual(self.drop_report("so-tttt.xml", example("01-so-tttt.xml"), 1)["outcome"],
                         "accepted")
        broken = example("05-xa-phuoc-hoi.xml").replace(b"<summary>", b"<tom-tat>", 1)
        bad = self.drop_report("phuoc-hoi.xml", broken, 2)
        self.assertEqual(bad["outcome"], "rejected")
        good = self.drop_report("phuoc-hoi-sua.xml", example("05-xa-phuoc-hoi.xml"), 3)
        self.assertEqual(good["outcome"], "accepted")
        rd = self.round()
        self.assertEqual((rd["on_time"], rd["late"], rd["missing"]), (2, 0, 4))
        self.assertEqual(self.docs(), [])

        # Wednesday 20/3: another unit reports on time
        self.restart("2024-03-20T10:00:00")
        self.assertEqual(self.drop_report("so-tp.xml", example("02-so-tu-phap.xml"), 4)["outcome"],
                         "accepted")
        self.assertEqual(self.docs(), [])

        # Thursday 21/3, 09:00: the reminder time (two working days before Monday 25/3) has
        # come; the daemon drafts the công văn đôn đốc at start, to exactly the missing units
        self.restart("2024-03-21T09:00:00")
        docs = self.docs()
        self.assertEqual(len(docs), 1, docs)
        self.assertEqual(docs[0]["kind"], "cong-van")
        self.assertEqual(docs[0]["drafter"], "vtt-ana")
        remind_id = docs[0]["id"]
        out = os.path.join(work, "don-doc.docx")
        r = self.d.ctl("render", str(remind_id), "-o", out, user="vtt-ana")
        self.assertEqual(r.returncode, 0, r.stderr)
        text = pdf_text(out, work)
        kinh_gui = text[text.index("Kính gửi:"):text.index("Thực hiện")]
        for name in ("Ủy ban nhân dân huyện Đất Đỏ", "Ủy ban nhân dân thành phố Bà Rịa",
                     "Ủy ban nhân dân thị trấn Long Hải"):
            self.assertIn(name, kinh_gui)
        for name in ("Sở Thông tin và Truyền thông", "Sở Tư pháp", "xã Phước Hội"):
            self.assertNotIn(name, kinh_gui)
        assert_in_order(self, kinh_gui, ["- Ủy ban nhân dân huyện Đất Đỏ;",
                                         "- Ủy ban nhân dân thành phố Bà Rịa;",
                                         "- Ủy ban nhân dân thị trấn Long Hải."])
        self.assertIn("V/v đôn đốc báo cáo kết quả triển khai chuyển đổi số quý I năm 2024", text)
        self.assertIn("chậm nhất ngày 25/3/2024", text)
        # a restart at the same moment does not fire it again
        self.restart("2024-03-21T09:30:00")
        self.assertEqual(len(self.docs()), 1)

        # Tuesday 26/3: a unit reports after the deadline: late
        self.restart("2024-03-26T10:00:00")
        late = self.drop_report("dat-do.xml", example("03-huyen-dat-do.xml"), 5)
        self.assertEqual(late["outcome"], "accepted")
        # its receipt says it is late, with the deadline; an on-time one says nothing of it
        self.assertIn("GỬI MUỘN: hạn báo cáo của đợt là ngày 25/03/2024", late["text"])
        rnode = ET.parse(late["path"]).getroot().find("{urn:vanthu:receipt:1}round")
        self.assertEqual((rnode.get("late"), rnode.get("deadline")), ("true", "2024-03-25"))
        ontime = [read_receipt(p) for p in receipts(self.d.spool) if "so-tp" in p][0]
        self.assertNotIn("MUỘN", ontime["text"])
        self.assertEqual(len(self.docs()), 1)
        rd = self.round()
        status = {u["unit_code"]: u["status"] for u in rd["units"]}
        self.assertEqual(status, {"SO-TTTT": "on_time", "XA-PHUOC-HOI": "on_time",
                                  "SO-TP": "on_time", "HUYEN-DAT-DO": "late",
                                  "TP-BA-RIA": "missing", "TT-LONG-HAI": "missing"})
        # the units in Vietnamese collation order
        names = [u["name"] for u in rd["units"]]
        self.assertEqual(names[0], "Sở Thông tin và Truyền thông")
        self.assertEqual(names[-1], "Ủy ban nhân dân xã Phước Hội")

        # Friday 29/3: the round closed at the end of 28/3 (three working days after the
        # deadline) while the daemon was down; the conclusion is drafted at start, once
        self.restart("2024-03-29T08:00:00")
        docs = self.docs()
        self.assertEqual(len(docs), 2, docs)
        concl = [d for d in docs if d["kind"] == "thong-bao"]
        self.assertEqual(len(concl), 1)
        concl_id = concl[0]["id"]
        # the reminder nobody sent is withdrawn with the round, and says why
        show = self.d.ctl("show", str(remind_id), user="vtt-giang", json_out=True).json["result"]
        self.assertEqual(show["state"], "withdrawn")
        hist = self.d.ctl("history", str(remind_id), user="vtt-giang",
                          json_out=True).json["result"]["history"]
        self.assertEqual(hist[-1]["detail"]["comment"], "đợt báo cáo CDS-2024-Q1 đã hết hạn và đóng")
        self.restart("2024-03-29T08:30:00")
        self.assertEqual(len(self.docs()), 2)
        # none open is not none at all
        self.assertEqual(self.d.ctl("rounds", user="vtt-giang").stdout.strip(),
                         "Không có đợt báo cáo nào đang mở; 1 đợt đã đóng (xem: vanthuctl rounds "
                         "--all).")
        # nobody corrected a report: no legend for the mark
        self.assertNotIn("thay thế", self.d.ctl("round", "CDS-2024-Q1", user="vtt-giang").stdout)
        rounds = self.d.ctl("rounds", "--all", user="vtt-giang", json_out=True).json["result"]["rounds"]
        self.assertEqual(rounds[0]["state"], "closed")
        self.assertEqual(rounds[0]["conclusion_doc"], concl_id)

        # a unit reports after the round closed: kept, marked, not in the conclusion's counts
        late = self.drop_report("ba-ria.xml", example("04-tp-ba-ria.xml"), 6)
        self.assertEqual(late["outcome"], "accepted")
        self.assertIn("GỬI SAU KHI ĐỢT BÁO CÁO ĐÃ ĐÓNG", late["text"])
        rnode = ET.parse(late["path"]).getroot().find("{urn:vanthu:receipt:1}round")
        self.assertEqual(rnode.get("after-close"), "true")
        rd = self.round()
        self.assertEqual((rd["on_time"], rd["late"], rd["missing"], rd["after_close"]), (3, 1, 1, 1))
        self.assertEqual(rd["closed_counts"], {"on_time": 3, "late": 1, "missing": 2, "units": 6})
        self.assertEqual({u["unit_code"]: u["status"] for u in rd["units"]}["TP-BA-RIA"], "after_close")
        shown = self.d.ctl("round", "CDS-2024-Q1", user="vtt-giang").stdout
        self.assertIn("Kết quả hiện nay: 3 đúng hạn, 1 muộn, 1 chưa báo cáo, 1 gửi sau khi đóng đợt",
                      " ".join(shown.split()))
        self.assertIn("Khi đóng đợt: 3 đúng hạn, 1 muộn, 2 chưa báo cáo (số liệu của kết luận, "
                      "văn bản số %d)" % concl_id, " ".join(shown.split()))
        self.assertIn("sau khi đóng đợt", shown)

        # the people take it from there: review, sign, issue as number 01 of 2024
        for user, action in (("vtt-ana", "submit"), ("vtt-binh", "approve"), ("vtt-chi", "sign"),
                             ("vtt-dung", "issue")):
            r = self.d.ctl(action, str(concl_id), user=user)
            self.assertEqual(r.returncode, 0, (user, action, r.stderr))
        show = self.d.ctl("show", str(concl_id), user="vtt-giang", json_out=True).json["result"]
        self.assertEqual(show["symbol"], "01/TB-UBND")
        self.assertEqual(show["issued_on"], "2024-03-29")
        issued = os.path.join(self.d.spool, "outgoing", "2024", "01-TB-UBND.docx")
        self.assertTrue(os.path.exists(issued))
        text = pdf_text(issued, work)
        # the header's two columns come out cell by cell: present, in any order
        for line in ("ỦY BAN NHÂN DÂN", "TỈNH BÀ RỊA - VŨNG TÀU", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                     "Độc lập - Tự do - Hạnh phúc", "Số: 01/TB-UBND",
                     "Bà Rịa - Vũng Tàu, ngày 29 tháng 3 năm 2024"):
            self.assertIn(line, text)
        # the rest line by line, in order
        assert_in_order(self, text, [
            "THÔNG BÁO",
            "Tình hình gửi báo cáo kết quả triển khai chuyển đổi số quý I năm 2024",
            "Thực hiện Công văn số 125/UBND-VP ngày 10/3/2024 của Ủy ban nhân dân tỉnh",
            "1. Các đơn vị báo cáo đúng hạn (3/6)",
            "Sở Thông tin và Truyền thông, Sở Tư pháp, Ủy ban nhân dân xã Phước Hội.",
            "2. Các đơn vị báo cáo muộn (1/6)",
            "Ủy ban nhân dân huyện Đất Đỏ.",
            "3. Các đơn vị chưa báo cáo (2/6)",
            "Ủy ban nhân dân thành phố Bà Rịa, Ủy ban nhân dân thị trấn Long Hải.",
            "4. Tổng hợp chỉ tiêu",
            "5. Kết luận",
            "a) Các đơn vị chưa báo cáo khẩn trương gửi báo cáo trong 03 ngày làm việc.",
            "Nơi nhận:", "- Chủ tịch, các PCT UBND tỉnh (b/c);",
            "- Lưu: VT, VP.",
        ])
        # the totals, as summed and averaged by hand from the four reports' examples
        totals = " ".join(text[text.index("4. Tổng hợp chỉ tiêu"):text.index("5. Kết luận")].split())
        assert_in_order(self, totals, [
            # weighed by each unit's files received: (82.5×286 + 91.3×4215 + 54.6×5127 +
            # 47.2×612) / 10240
            "- Tỷ lệ hồ sơ trực tuyến toàn trình: bình quân 70,0%, gia quyền theo \"Số hồ sơ "
            "tiếp nhận\" của từng đơn vị (4 đơn vị báo cáo).",
            "- Số hồ sơ tiếp nhận: tổng cộng 10.240 hồ sơ (4 đơn vị báo cáo).",
            "- Số chứng thư số đã cấp: tổng cộng 63 chứng thư (4 đơn vị báo cáo).",
            "- Tỷ lệ văn bản đi được ký số: bình quân 98,3% (3 đơn vị báo cáo).",
            "- Số tài khoản định danh điện tử mức độ 2 được kích hoạt: tổng cộng 4.327 tài khoản "
            "(2 đơn vị báo cáo).",
        ])
        self.assertIn("KT. CHỦ TỊCH", text)
        self.assertIn("Đặng Minh Thông", text)
        # nothing lost: the history of the round and the audit chain
        self.assertTrue(self.d.ctl("verify", user="vtt-giang", json_out=True).json["result"]["intact"])
        entries = self.d.ctl("audit", "--limit", "200", user="vtt-giang",
                             json_out=True).json["result"]["entries"]
        actions = [e["action"] for e in entries]
        self.assertEqual(actions.count("round.remind"), 1)
        self.assertEqual(actions.count("round.close"), 1)
        self.assertEqual(actions.count("report.intake"), 6)
        self.d.stop()

    def open_round(self, at):
        work = os.path.join(self.d.root, "work")
        os.makedirs(work)
        os.chmod(work, 0o777)
        round_file = os.path.join(work, "round.xml")
        copy_example(ROUND, round_file)
        os.chmod(round_file, 0o644)
        self.restart(at)
        r = self.d.ctl("round", "new", round_file, user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stderr)
        return work

    def reminder_parts(self, docx, work):
        text = pdf_text(docx, work)
        return text[text.index("Kính gửi:"):text.index("Thực hiện")], text

    def test_reminder_follows_the_round_until_issued(self):
        work = self.open_round("2024-03-18T09:00:00")
        self.drop_report("so-tttt.xml", example("01-so-tttt.xml"), 1)
        # the unit corrects its report: marked, with the legend for the mark
        fixed = example("01-so-tttt.xml").replace(b"<value>14</value>", b"<value>15</value>", 1)
        self.assertEqual(self.drop_report("so-tttt-sua.xml", fixed, 2)["outcome"], "superseding")
        shown = self.d.ctl("round", "CDS-2024-Q1", user="vtt-giang").stdout
        self.assertIn("đúng hạn*", shown)
        self.assertIn("(* đã gửi báo cáo thay thế)", shown)
        # Thursday 21/3: the reminder goes to the five units still missing
        self.restart("2024-03-21T09:00:00")
        docs = self.docs()
        self.assertEqual(len(docs), 1, docs)
        rid = str(docs[0]["id"])
        out = os.path.join(work, "draft.docx")
        self.assertEqual(self.d.ctl("render", rid, "-o", out, user="vtt-ana").returncode, 0)
        kinh_gui, text = self.reminder_parts(out, work)
        self.assertIn("Sở Tư pháp", kinh_gui)
        self.assertIn("xã Phước Hội", kinh_gui)
        self.assertIn("Đến nay, 5/6 đơn vị chưa gửi báo cáo.", text)
        # two units report before the drafter submits: they leave its Kính gửi at submit
        self.drop_report("so-tp.xml", example("02-so-tu-phap.xml"), 3)
        self.drop_report("phuoc-hoi.xml", example("05-xa-phuoc-hoi.xml"), 4)
        r = self.d.ctl("submit", rid, user="vtt-ana")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.d.ctl("render", rid, "-o", out, user="vtt-ana").returncode, 0)
        kinh_gui, text = self.reminder_parts(out, work)
        self.assertNotIn("Sở Tư pháp", kinh_gui)
        self.assertNotIn("xã Phước Hội", kinh_gui)
        for name in ("huyện Đất Đỏ", "thành phố Bà Rịa", "thị trấn Long Hải"):
            self.assertIn(name, kinh_gui)
        self.assertIn("Đến nay, 3/6 đơn vị chưa gửi báo cáo.", text)
        hist = self.d.ctl("history", rid, user="vtt-giang", json_out=True).json["result"]["history"]
        self.assertEqual([h["action"] for h in hist], ["create", "edit", "submit"])
        self.assertEqual(hist[1]["actor"], "vanthud")
        self.assertEqual(hist[1]["detail"]["comment"],
                         "Kính gửi cập nhật theo đợt báo cáo: bỏ Sở Tư pháp, Ủy ban nhân dân xã "
                         "Phước Hội (đã gửi báo cáo); còn 3/6 đơn vị chưa gửi")
        shown = self.d.ctl("history", rid, user="vtt-giang").stdout
        self.assertIn("bỏ Sở Tư pháp", shown)
        # reviewed and signed; one more unit reports before the clerk issues it
        for user, action in (("vtt-binh", "approve"), ("vtt-chi", "sign")):
            r = self.d.ctl(action, rid, user=user)
            self.assertEqual(r.returncode, 0, (user, action, r.stderr))
        self.restart("2024-03-22T09:00:00")
        self.drop_report("dat-do.xml", example("03-huyen-dat-do.xml"), 5)
        # somebody who may not issue it changes nothing
        self.assertNotEqual(self.d.ctl("issue", rid, user="vtt-giang").returncode, 0)
        hist = self.d.ctl("history", rid, user="vtt-giang", json_out=True).json["result"]["history"]
        self.assertEqual(len(hist), 5)
        r = self.d.ctl("issue", rid, user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stderr)
        issued = os.path.join(self.d.spool, "outgoing", "2024", "01-UBND-VP.docx")
        self.assertTrue(os.path.exists(issued), os.listdir(os.path.dirname(issued)))
        kinh_gui, text = self.reminder_parts(issued, work)
        self.assertNotIn("huyện Đất Đỏ", kinh_gui)
        self.assertIn("thành phố Bà Rịa", kinh_gui)
        self.assertIn("thị trấn Long Hải", kinh_gui)
        self.assertIn("Đến nay, 2/6 đơn vị chưa gửi báo cáo.", text)
        hist = self.d.ctl("history", rid, user="vtt-giang", json_out=True).json["result"]["history"]
        self.assertEqual([h["action"] for h in hist],
                         ["create", "edit", "submit", "approve", "sign", "edit", "issue", "publish"])
        self.assertIn("bỏ Ủy ban nhân dân huyện Đất Đỏ", hist[5]["detail"]["comment"])
        self.assertTrue(self.d.ctl("verify", user="vtt-giang", json_out=True).json["result"]["intact"])
        self.d.stop()

    def test_reminder_withdrawn_when_its_round_closes(self):
        self.open_round("2024-03-18T09:00:00")
        self.restart("2024-03-21T09:00:00")
        docs = self.docs()
        self.assertEqual(len(docs), 1, docs)
        rid = str(docs[0]["id"])
        self.assertEqual(self.d.ctl("submit", rid, user="vtt-ana").returncode, 0)
        # no unit reported; the count did not change, so no edit
        hist = self.d.ctl("history", rid, user="vtt-giang", json_out=True).json["result"]["history"]
        self.assertEqual([h["action"] for h in hist], ["create", "submit"])
        r = self.d.ctl("round", "close", "CDS-2024-Q1", user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stderr)
        show = self.d.ctl("show", rid, user="vtt-giang", json_out=True).json["result"]
        self.assertEqual(show["state"], "withdrawn")
        hist = self.d.ctl("history", rid, user="vtt-giang", json_out=True).json["result"]["history"]
        self.assertEqual(hist[-1]["action"], "withdraw")
        self.assertEqual(hist[-1]["actor"], "vanthud")
        self.assertEqual(hist[-1]["detail"]["comment"], "đợt báo cáo CDS-2024-Q1 đã được vtt-dung đóng")
        r = self.d.ctl("approve", rid, user="vtt-binh", json_out=True)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.json["error"]["code"], "E_STATE")
        self.d.stop()

    def test_a_report_for_no_round_is_refused_naming_the_open_ones(self):
        self.open_round("2024-03-18T09:00:00")
        typo = example("05-xa-phuoc-hoi.xml").replace(b'<round id="CDS-2024-Q1">',
                                                       b'<round id="CDS-2024-QI">', 1)
        r = self.drop_report("phuoc-hoi.xml", typo, 1)
        self.assertEqual(r["outcome"], "rejected")
        self.assertEqual(r["codes"], ["R_ROUND"])
        text = " ".join(r["text"].split())
        self.assertIn('không có đợt báo cáo "CDS-2024-QI"; các đợt đang mở mà đơn vị này phải '
                      'báo cáo: CDS-2024-Q1 (hạn 25/03/2024)', text)
        self.assertTrue(os.path.exists(os.path.join(self.d.spool, "rejected")))
        # the unit is still missing, as it is: nothing was counted
        self.assertEqual({u["unit_code"]: u["status"] for u in self.round()["units"]}["XA-PHUOC-HOI"],
                         "missing")
        # a unit that no open round waits for is told so
        other = report(unit="XA-LOC-AN", round="CDS-2024-Q1-SAI")
        r = self.drop_report("loc-an.xml", other.encode() if isinstance(other, str) else other, 2)
        self.assertIn("hiện không có đợt nào đang mở mà đơn vị này phải báo cáo", r["text"])
        # the right code goes through
        self.assertEqual(self.drop_report("phuoc-hoi-2.xml", example("05-xa-phuoc-hoi.xml"), 3)
                         ["outcome"], "accepted")
        # a restart after the refusal finds it recorded, and its receipt the same
        self.restart("2024-03-18T10:00:00")
        rej = self.d.ctl("rejected", user="vtt-giang", json_out=True).json["result"]["rejected"]
        self.assertEqual(sorted(e["errors"][0]["code"] for e in rej), ["R_ROUND", "R_ROUND"])
        self.d.stop()

    def test_opening_an_example_today(self):
        """The shipped example, as a new office opens it on 4 December 2026."""
        work = os.path.join(self.d.root, "work")
        os.makedirs(work)
        os.chmod(work, 0o777)
        raw = os.path.join(work, "mau.xml")
        shutil.copy(ROUND, raw)
        os.chmod(raw, 0o644)
        self.restart("2026-12-04T09:00:00")
        # as shipped: its leader is a placeholder the office must fill in
        r = self.d.ctl("round", "new", raw, user="vtt-dung", json_out=True)
        self.assertEqual(r.json["error"]["code"], "E_INVALID")
        self.assertIn("[R_SIGNER]", r.json["error"]["message"])
        self.assertIn('tài khoản ký "lanh-dao-ky" không có trên máy chủ này', r.json["error"]["message"])
        # a login that is no signer is refused too
        notsigner = os.path.join(work, "khong-ky.xml")
        with open(notsigner, "wb") as fh:
            fh.write(read(ROUND).replace(b'login="vtt-chi"', b'login="vtt-ana"'))
        os.chmod(notsigner, 0o644)
        r = self.d.ctl("round", "new", notsigner, user="vtt-dung", json_out=True)
        self.assertIn('tài khoản "vtt-ana" không có vai trò ký', r.json["error"]["message"])
        # the leader filled in: its 2024 dates are past, said one by one, nothing opened
        filled = os.path.join(work, "dot.xml")
        copy_example(ROUND, filled)
        os.chmod(filled, 0o644)
        r = self.d.ctl("round", "new", filled, user="vtt-dung", json_out=True)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.json["error"]["code"], "E_STATE")
        msg = r.json["error"]["message"]
        for part in ("ngày đôn đốc 21/3/2024 đã qua", "hạn báo cáo 25/3/2024 đã qua",
                     "ngày cuối nhận báo cáo muộn 28/3/2024 đã qua", "--force", "--today"):
            self.assertIn(part, msg)
        self.assertEqual(self.d.ctl("rounds", "--all", user="vtt-giang",
                                    json_out=True).json["result"]["rounds"], [])
        # --today: the request is dated today, the deadline as far after it as in the file
        r = self.d.ctl("round", "new", filled, "--today", user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stderr)
        rd = self.round()
        self.assertEqual(rd["req_date"], "2026-12-04")
        self.assertEqual(rd["deadline"], "2026-12-19")  # 10/3 -> 25/3: fifteen days
        self.assertEqual(rd["state"], "open")
        self.assertEqual(self.docs(), [])
        # --force records a past round on purpose (it closes at once, with its conclusion)
        old = os.path.join(work, "cu.xml")
        with open(old, "wb") as fh:
            fh.write(read(ROUND).replace(b'id="CDS-2024-Q1"', b'id="CDS-2024-Q1-CU"'))
        os.chmod(old, 0o644)
        r = self.d.ctl("round", "new", old, "--force", user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stderr)
        time.sleep(1.0)
        docs = self.docs()
        self.assertEqual([d["kind"] for d in docs], ["thong-bao"])
        # an automatic draft's fields are changed without writing the input again
        concl = str(docs[0]["id"])
        exported = os.path.join(work, "ket-luan.xml")
        r = self.d.ctl("edit", concl, "--export", exported, user="vtt-ana")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("vanthuctl edit %s %s" % (concl, exported), r.stdout)
        with open(exported, encoding="utf-8") as fh:
            text = fh.read()
        self.assertIn("<signer", text)
        with open(exported, "w", encoding="utf-8") as fh:
            fh.write(text.replace("Đặng Minh Thông", "Nguyễn Văn Hòa"))
        r = self.d.ctl("edit", concl, exported, user="vtt-ana")
        self.assertEqual(r.returncode, 0, r.stderr)
        show = self.d.ctl("show", concl, user="vtt-giang", json_out=True).json["result"]
        self.assertEqual(show["signer_name"], "Nguyễn Văn Hòa")
        self.assertEqual(show["revision"], 2)
        self.d.stop()

    def test_closed_by_a_clerk_into_a_summary_report_with_a_table(self):
        work = os.path.join(self.d.root, "work")
        os.makedirs(work)
        os.chmod(work, 0o777)
        round_file = os.path.join(work, "round.xml")
        text = read(ROUND).decode("utf-8").replace('<conclusion kind="thong-bao">',
                                                    '<conclusion kind="bao-cao-tong-hop">')
        with open(round_file, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(round_file, 0o644)
        self.restart("2024-03-19T09:00:00")
        self.assertEqual(self.d.ctl("round", "new", round_file, user="vtt-dung").returncode, 0)
        self.drop_report("so-tttt.xml", example("01-so-tttt.xml"), 1)
        self.drop_report("so-tp.xml", example("02-so-tu-phap.xml"), 2)
        r = self.d.ctl("round", "close", "CDS-2024-Q1", user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = int(re.search(r"văn bản số (\d+)", r.stdout).group(1))
        self.assertEqual(r.stdout.strip(), "Đã đóng đợt báo cáo CDS-2024-Q1; dự thảo kết luận là "
                         "văn bản số %d." % doc)
        out = os.path.join(work, "tong-hop.docx")
        r = self.d.ctl("render", str(doc), "-o", out, user="vtt-ana")
        self.assertEqual(r.returncode, 0, r.stderr)
        # python-docx, a reader of its own, sees the figures table
        import docx
        tables = docx.Document(out).tables
        rows = [[" ".join(c.text.split()) for c in row.cells] for t in tables for row in t.rows]
        header = ["STT", "Đơn vị", "Chỉ tiêu", "Kết quả", "Đơn vị tính", "Chỉ tiêu giao"]
        self.assertIn(header, rows)
        data = rows[rows.index(header) + 1:rows.index(header) + 9]
        # the figures of the two reports' examples, as a Vietnamese reader writes them
        self.assertEqual(data, [
            ["1", "Sở TT&TT", "Tỷ lệ hồ sơ trực tuyến toàn trình", "82,5", "%", "80"],
            ["2", "Sở TT&TT", "Số hồ sơ tiếp nhận", "286", "hồ sơ", "—"],
            ["3", "Sở TT&TT", "Số chứng thư số đã cấp", "14", "chứng thư", "—"],
            ["4", "Sở TT&TT", "Tỷ lệ văn bản đi được ký số", "98,6", "%", "95"],
            ["5", "Sở Tư pháp", "Tỷ lệ hồ sơ trực tuyến toàn trình", "91,3", "%", "80"],
            ["6", "Sở Tư pháp", "Số hồ sơ tiếp nhận", "4.215", "hồ sơ", "—"],
            ["7", "Sở Tư pháp", "Số chứng thư số đã cấp", "9", "chứng thư", "—"],
            ["8", "Sở Tư pháp", "Tỷ lệ văn bản đi được ký số", "100", "%", "95"],
        ])
        # and the totals above it, in the same hand; a report proposes, it does not conclude
        body = " ".join(p.text for p in docx.Document(out).paragraphs)
        self.assertIn("Tổng hợp báo cáo kết quả triển khai chuyển đổi số quý I năm 2024", body)
        self.assertIn("5. Đề xuất, kiến nghị", body)
        # the table of figures stands under the totals, titled, before the proposals
        import subprocess as sp
        flat = " ".join(sp.run(["pandoc", "-t", "plain", out], capture_output=True,
                               timeout=120).stdout.decode().split())
        self.assertLess(flat.index("4. Tổng hợp chỉ tiêu"), flat.index("Sở TT&TT"))
        self.assertLess(flat.index("Sở TT&TT"), flat.index("5. Đề xuất, kiến nghị"))
        self.assertNotIn("kết luận như sau", body)
        self.assertIn("- Số hồ sơ tiếp nhận: tổng cộng 4.501 hồ sơ (2 đơn vị báo cáo).", body)
        self.assertIn("- Tỷ lệ hồ sơ trực tuyến toàn trình: bình quân 90,7%, gia quyền theo \"Số hồ "
                      "sơ tiếp nhận\" của từng đơn vị (2 đơn vị báo cáo).", body)
        # a rate without a base: the plain average, with one decimal
        self.assertIn("- Tỷ lệ văn bản đi được ký số: bình quân 99,3% (2 đơn vị báo cáo).", body)
        self.d.stop()

    def test_meeting_and_spool_drops(self):
        self.restart("2024-04-05T15:00:00")
        # a round whose dates are all past is refused, saying how to record it on purpose
        person_drop(self.d.spool, "vtt-dung", "dot-cu.xml", read(ROUND))
        wait_receipts(self.d.spool, 1)
        old = read_receipt(receipts(self.d.spool)[0])
        self.assertEqual(old["outcome"], "rejected")
        self.assertEqual(old["codes"], ["R_PAST", "R_PAST", "R_PAST", "R_PAST"])
        self.assertIn('allow-past="true"', old["text"])
        self.assertIn("hạn báo cáo 25/3/2024 đã qua", old["text"])
        # with allow-past, a round dropped by a clerk opens it; dropped again, a duplicate
        # (from the clerk's own folder, incoming/@vtt-dung/: the folder names the sender)
        past = read(ROUND).replace(b"<round ", b'<round allow-past="true" ', 1)
        for n, name in enumerate(("dot.xml", "dot-lan-2.xml")):
            person_drop(self.d.spool, "vtt-dung", name, past)
            wait_receipts(self.d.spool, n + 2)
        outcomes = sorted(read_receipt(p)["outcome"] for p in receipts(self.d.spool))
        self.assertEqual(outcomes, ["accepted", "duplicate", "rejected"])
        self.assertTrue(all("/receipts/@vtt-dung/" in p for p in receipts(self.d.spool)))
        # a meeting's conclusions dropped by someone with no role there: refused
        person_drop(self.d.spool, "vtt-giang", "hop-1.xml", read(MEETING))
        wait_receipts(self.d.spool, 4)
        refused = [read_receipt(p) for p in receipts(self.d.spool) if "hop-1" in p][0]
        self.assertIn("R_DENIED", refused["codes"])
        # the same sent by the secretariat (a drafter) becomes a Thông báo draft
        meeting = os.path.join(self.d.root, "hop.xml")
        copy_example(MEETING, meeting)
        os.chmod(meeting, 0o644)
        r = self.d.ctl("meeting", meeting, user="vtt-hai", json_out=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = r.json["result"]["document"]
        show = self.d.ctl("show", str(doc), user="vtt-giang", json_out=True).json["result"]
        self.assertEqual(show["kind"], "thong-bao")
        hist = self.d.ctl("history", str(doc), user="vtt-giang", json_out=True).json["result"]["history"]
        self.assertEqual([(h["action"], h["actor"]) for h in hist],
                         [("create", "vtt-ana"), ("meeting.sent", "vtt-hai")])
        self.assertEqual(sorted(show["recipients"].split("; ")),
                         ["Sở TT&TT", "UBND huyện Đất Đỏ", "UBND xã Phước Hội"])
        # the same meeting sent again, by command or by folder, is the draft it made already
        ndocs = len(self.docs())
        again = self.d.ctl("meeting", meeting, user="vtt-hai", json_out=True)
        self.assertEqual(again.returncode, 1)
        self.assertEqual(again.json["error"]["code"], "E_STATE")
        self.assertIn("văn bản số %d" % doc, again.json["error"]["message"])
        person_drop(self.d.spool, "vtt-hai", "hop-lai.xml", read(MEETING))
        wait_receipts(self.d.spool, 5)
        dup = [read_receipt(p) for p in receipts(self.d.spool) if "hop-lai" in p][0]
        self.assertEqual(dup["outcome"], "duplicate")
        self.assertIn("văn bản số %d" % doc, dup["text"])
        self.assertEqual(dup["document"], doc)
        self.assertEqual(len(self.docs()), ndocs)
        # once its draft is withdrawn, the meeting may be sent anew
        r = self.d.ctl("withdraw", str(doc), "-m", "soạn lại", user="vtt-ana")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.d.ctl("meeting", meeting, user="vtt-hai", json_out=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotEqual(r.json["result"]["document"], doc)
        self.d.stop()


class Calendar(unittest.TestCase):

    def test_explain(self):
        d = Daemon()
        try:
            d.start()
            r = d.ctl("calendar", "explain", "2026-02-12", "5", json_out=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.json["result"]["result"], "2026-02-26")
            text = d.ctl("calendar", "explain", "2026-02-12", "5").stdout
            self.assertIn("nghỉ: Tết Nguyên đán Bính Ngọ", text)
            self.assertIn("5 ngày làm việc kể từ 12/02/2026: 26/02/2026", text)
            self.assertEqual(d.ctl("calendar", "explain", "2026-02-30", "5").returncode, 1)
            self.assertEqual(d.ctl("calendar", "explain", "2026-02-10").returncode, 2)
            d.stop()
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
