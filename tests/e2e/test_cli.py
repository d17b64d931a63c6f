"""End-to-end: what a clerk reads from vanthuctl: Vietnamese dates and figures, 80 columns, the register."""
import csv
import io
import os
import unittest

from harness import IS_ROOT, REPO, Daemon
from intake_util import drop, read_receipt, receipts, report, wait_receipts

EXAMPLE = os.path.join(REPO, "workflows", "thong-bao", "examples", "tb-chuyen-doi-so.xml")
NS = "urn:vanthu:document:1"

# a công văn to four units, two of them Kính gửi only: the register must list every one
CONG_VAN = f"""<?xml version="1.0" encoding="UTF-8"?>
<cong-van xmlns="{NS}">
  <drafting-unit>SNV</drafting-unit>
  <summary>đôn đốc báo cáo kết quả triển khai chuyển đổi số quý I năm 2024 của các đơn vị</summary>
  <to unit="SO-TTTT"/>
  <to unit="SO-TP"/>
  <to unit="HUYEN-DAT-DO"/>
  <body><p>Đề nghị các đơn vị gửi báo cáo trước ngày 25/3/2024.</p></body>
  <signer login="vtt-chi"><line>KT. CHỦ TỊCH</line><line>PHÓ CHỦ TỊCH</line><name>Đặng Minh Thông</name></signer>
  <recipients><recipient unit="TP-BA-RIA"/><recipient unit="SO-TP"/></recipients>
  <archive>VT, SNV</archive>
</cong-van>
"""


def example():
    with open(EXAMPLE, encoding="utf-8") as fh:
        return fh.read()


@unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
class ClerkReads(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon()
        cls.d.start()
        drop(cls.d.spool, "bao-cao.xml", report())
        wait_receipts(cls.d.spool, 1)
        cls.report_id = read_receipt(receipts(cls.d.spool)[0])["report"]
        # a long summary, and a document issued to a hundred-odd characters of recipients
        for kind, xml in (("thong-bao", example()), ("cong-van", CONG_VAN)):
            path = os.path.join(cls.d.root, f"{kind}.xml")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(xml)
            os.chmod(path, 0o644)
            r = cls.d.ctl("new", kind, path, user="vtt-ana", json_out=True)
            assert r.returncode == 0, r.stderr
            doc = str(r.json["result"]["id"])
            for user, action in (("vtt-ana", "submit"), ("vtt-binh", "approve"),
                                 ("vtt-chi", "sign"), ("vtt-dung", "issue")):
                r = cls.d.ctl(action, doc, user=user)
                assert r.returncode == 0, (action, r.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def lines(self, *args, user="vtt-giang"):
        r = self.d.ctl(*args, user=user)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.splitlines()

    def test_tables_fit_80_columns(self):
        for args in (("units",), ("list",), ("register",), ("reports",), ("audit", "--limit", "50"),
                     ("report", str(self.report_id))):
            lines = self.lines(*args, user="vtt-dung")
            self.assertGreater(len(lines), 1, args)
            longest = max(len(line) for line in lines)
            self.assertLessEqual(longest, 80, (args, [line for line in lines if len(line) > 80]))
        # --wide: the full width, one line a unit
        wide = self.lines("--wide", "units")
        self.assertGreater(max(len(line) for line in wide), 80)
        narrow = self.lines("units")
        self.assertGreater(len(narrow), len(wide))
        # the columns stay aligned: each unit's code starts a line, the names follow in one column
        start = narrow[1].index("Ủy") if "Ủy" in narrow[1] else narrow[0].index("Tên đơn vị")
        self.assertEqual(narrow[0].index("Tên đơn vị"), start)

    def test_report_in_vietnamese_form(self):
        text = "\n".join(self.lines("report", str(self.report_id)))
        self.assertIn("ngày 27/03/2024", text)
        self.assertNotIn("2024-03-27", text)
        self.assertIn("47,2%", text)
        self.assertNotIn("47.2", text)
        self.assertIn("từ 01/01/2024 đến 31/03/2024", text)

    def test_history_fits_and_client_errors_in_vietnamese(self):
        lines = self.lines("history", "1")
        self.assertLessEqual(max(len(line) for line in lines), 80)
        self.assertIn("Dự thảo → Chờ duyệt", " ".join(" ".join(lines).split()))
        r = self.d.ctl("new", "thong-bao", "/khong/co/tep.xml", user="vtt-ana")
        self.assertEqual(r.returncode, 2)
        self.assertIn("không có tệp hay thư mục đó", r.stderr)
        r = self.d.ctl("render", "1", "-o", "/proc/khong-ghi-duoc.docx", user="vtt-ana")
        self.assertEqual(r.returncode, 1)
        self.assertNotIn("No such file", r.stderr)
        self.assertNotIn("Permission denied", r.stderr)

    def test_audit_in_vietnam_time_and_sentences(self):
        text = "\n".join(self.lines("audit", "--limit", "50", user="vtt-dung"))
        self.assertIn("(giờ Việt Nam, UTC+7)", text)
        self.assertNotRegex(text, r"\d{4}-\d\d-\d\dT\d\d:\d\d")   # no ISO UTC times
        self.assertNotIn('{"', text)                             # no raw JSON
        flat = " ".join(text.split())
        self.assertIn("Dự thảo → Chờ duyệt", flat)
        self.assertIn("Đã ký, chờ ban hành → Đã ban hành, số 01/TB-UBND", flat)
        self.assertRegex(flat, r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d")

    def test_outside_the_socket_group_is_told_to_join_it(self):
        r = self.d.ctl("status", user="nobody")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn('người dùng nobody chưa thuộc nhóm "vtt-sock" của ổ cắm', r.stderr)
        self.assertIn("sudo adduser nobody vtt-sock", r.stderr)
        # no daemon there at all: said so, with where to look
        r = self.d.ctl("status", socket_path=os.path.join(self.d.root, "khong-co.sock"))
        self.assertEqual(r.returncode, 3)
        self.assertIn("vanthud chưa chạy", r.stderr)

    def test_register_csv_for_excel(self):
        r = self.d.ctl("register", "--csv", user="vtt-dung")
        raw = r.stdout.encode("utf-8")
        self.assertTrue(raw.startswith(b"\xef\xbb\xbf"), raw[:20])
        rows = list(csv.reader(io.StringIO(r.stdout.lstrip("\ufeff"))))
        self.assertEqual(rows[0], ["Số, ký hiệu văn bản", "Ngày tháng văn bản",
                                   "Tên loại và trích yếu nội dung", "Người ký", "Nơi nhận văn bản",
                                   "Đơn vị, người nhận bản lưu", "Số lượng bản", "Ghi chú"])
        cv = [row for row in rows[1:] if "UBND-SNV" in row[0]][0]
        # every recipient of the công văn once, its Kính gửi first
        self.assertEqual(cv[4], "Sở TT&TT; Sở Tư pháp; UBND huyện Đất Đỏ; UBND thành phố Bà Rịa")
        self.assertEqual(cv[6], "6")   # four recipients, two filed copies
        plain = self.d.ctl("register", "--csv", "--no-bom", user="vtt-dung").stdout
        self.assertTrue(plain.startswith('"Số, ký hiệu'))


if __name__ == "__main__":
    unittest.main()
