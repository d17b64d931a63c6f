"""End-to-end tests of spool intake: real files into the real daemon, receipts read back."""
import glob
import gzip
import hashlib
import os
import random
import signal
import sqlite3
import stat
import subprocess
import threading
import time
import unittest

from harness import IS_ROOT, REPO, Daemon, DaemonTest, need_root
from intake_util import drop, read_receipt, receipts, report, shown, stem, unshow, wait_receipts


class IntakeCase(DaemonTest):

    def one(self, name, data, folder="", safe=True, timeout=30):
        """Drops one file; returns its receipt (there must be exactly one new one)."""
        before = set(receipts(self.d.spool))
        drop(self.d.spool, name, data, folder, safe)
        found = wait_receipts(self.d.spool, len(before) + 1, timeout)
        new = [p for p in found if p not in before]
        self.assertEqual(len(new), 1, new)
        time.sleep(0.3)
        self.assertEqual(len(receipts(self.d.spool)), len(before) + 1)
        # the daemon still serves
        self.assertEqual(self.d.ctl("ping").returncode, 0)
        return read_receipt(new[0])

    def assert_rejected(self, r, code):
        self.assertEqual(r["outcome"], "rejected", r)
        self.assertIn(code, r["codes"], r)
        self.assertIn("BỊ TỪ CHỐI", r["text"])
        self.assertIn(f"[{code}]", r["text"])
        rejected = self.d.ctl("rejected", json_out=True).json["result"]["rejected"]
        self.assertIn(r["id"], [e["receipt"] for e in rejected])
        kept = os.path.join(self.d.spool, "rejected", f"{r['id']}-{stem(unshow(r['file']))}")
        self.assertTrue(os.path.lexists(kept), os.listdir(os.path.join(self.d.spool, "rejected")))
        self.assertTrue(os.path.exists(kept + ".reasons.txt"))


class Accepting(IntakeCase):

    def test_valid_report_accepted(self):
        data = report()
        r = self.one("bao-cao-quy-1.xml", data)
        self.assertEqual(r["outcome"], "accepted")
        self.assertEqual(r["unit"], "XA-PHUOC-HOI")
        self.assertEqual(r["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(os.path.dirname(r["path"]), os.path.join(self.d.spool, "receipts", "XA-PHUOC-HOI"))
        self.assertIn("ĐÃ TIẾP NHẬN — báo cáo số %d" % r["report"], r["text"])
        # the original moved to accepted/YYYY/MM/DD and nothing is left behind
        moved = glob.glob(os.path.join(self.d.spool, "accepted", "*", "*", "*", "*bao-cao-quy-1.xml"))
        self.assertEqual(len(moved), 1)
        self.assertEqual(open(moved[0], "rb").read(), data)
        self.assertEqual(os.listdir(os.path.join(self.d.spool, "incoming")), [])
        self.assertEqual(os.listdir(os.path.join(self.d.spool, "claimed")), [])
        rep = self.d.ctl("reports", json_out=True).json["result"]["reports"]
        self.assertEqual([x["id"] for x in rep], [r["report"]])
        full = self.d.ctl("report", str(r["report"]), json_out=True).json["result"]
        self.assertEqual(full["summary"], "Kết quả triển khai chuyển đổi số quý I năm 2024")
        self.assertEqual([i["code"] for i in full["indicators"]], ["HS-TIEP-NHAN", "DVC-TT"])
        self.assertEqual(full["receipt"]["receipt"], r["id"])
        self.assertEqual(full["content"]["body"][0]["title"], "I. KẾT QUẢ THỰC HIỆN")
        orig = subprocess.run([*self.ctl_cmd(), "report", str(r["report"]), "--xml"],
                              capture_output=True, timeout=30)
        self.assertEqual(orig.returncode, 0)
        self.assertEqual(orig.stdout, data)
        # with --json, still JSON: the text of the original in "xml"
        asjson = self.d.ctl("report", str(r["report"]), "--xml", json_out=True)
        self.assertEqual(asjson.returncode, 0, asjson.stderr)
        self.assertEqual(asjson.json["result"]["xml"].encode("utf-8"), data)
        self.assertEqual(asjson.json["result"]["bytes"], len(data))
        text = self.d.ctl("report", str(r["report"])).stdout
        self.assertIn("Ủy ban nhân dân xã Phước Hội (XA-PHUOC-HOI)", text)
        self.assertIn("HS-TIEP-NHAN", text)

    def ctl_cmd(self):
        from harness import VANTHUCTL
        return [VANTHUCTL, "-s", self.d.socket]

    def test_duplicate_and_superseding(self):
        first = self.one("a.xml", report())
        dup = self.one("a-lan-2.xml", report())
        self.assertEqual(dup["outcome"], "duplicate")
        self.assertEqual(dup["report"], first["report"])
        self.assertIn("TRÙNG LẶP", dup["text"])
        fixed = self.one("a-sua.xml", report(value=640))
        self.assertEqual(fixed["outcome"], "superseding")
        self.assertEqual(fixed["supersedes"], first["report"])
        self.assertIn("THAY THẾ báo cáo số %d" % first["report"], fixed["text"])
        reps = self.d.ctl("reports", json_out=True).json["result"]["reports"]
        self.assertEqual(len(reps), 2)
        old = self.d.ctl("report", str(first["report"]), json_out=True).json["result"]
        self.assertEqual(old["superseded_by"], fixed["report"])
        # another round from the same unit is a new report, not a correction
        other = self.one("quy-2.xml", report(round="CDS-2024-Q2"))
        self.assertEqual(other["outcome"], "accepted")

    def test_utf16_with_bom_accepted(self):
        data = report().decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
        raw = b"\xff\xfe" + data.encode("utf-16-le")
        r = self.one("utf16.xml", raw)
        self.assertEqual(r["outcome"], "accepted", r)
        full = self.d.ctl("report", str(r["report"]), json_out=True).json["result"]
        self.assertEqual(full["unit_name"], "Ủy ban nhân dân xã Phước Hội")

    def test_nfd_text_stored_as_nfc(self):
        import unicodedata
        nfd = unicodedata.normalize("NFD", "Kết quả triển khai chuyển đổi số")
        r = self.one("nfd.xml", report(summary=nfd))
        self.assertEqual(r["outcome"], "accepted")
        full = self.d.ctl("report", str(r["report"]), json_out=True).json["result"]
        self.assertEqual(full["summary"], unicodedata.normalize("NFC", nfd))
        self.assertNotEqual(full["summary"], nfd)

    def test_odd_names(self):
        for name in ("báo cáo quý I.xml", "Đất Đỏ — tháng 3.xml", "dòng\nmới.xml"):
            r = self.one(name, report(value=random.randint(1, 10**6)))
            self.assertIn(r["outcome"], ("accepted", "superseding"))
            self.assertEqual(r["file"], shown(name))
            self.assertEqual(unshow(r["file"]), name.encode("utf-8"))
            self.assertNotIn("\n", os.path.basename(r["path"]))

    def test_unit_folder(self):
        r = self.one("x.xml", report(), folder="XA-PHUOC-HOI")
        self.assertEqual(r["outcome"], "accepted")
        self.assertEqual(r["folder"], "XA-PHUOC-HOI")
        r = self.one("y.xml", report(unit="XA-PHUOC-HOI"), folder="XA-LOC-AN")
        self.assert_rejected(r, "R_UNIT_FOLDER")
        self.assertEqual(os.path.dirname(r["path"]), os.path.join(self.d.spool, "receipts", "XA-LOC-AN"))

    def test_filters(self):
        self.one("a.xml", report())
        self.one("b.xml", report(unit="XA-LOC-AN"))
        self.one("c.xml", report(unit="XA-LOC-AN", round="OTHER"))
        units = [r["unit_code"] for r in
                 self.d.ctl("reports", "--unit", "XA-LOC-AN", json_out=True).json["result"]["reports"]]
        self.assertEqual(units, ["XA-LOC-AN", "XA-LOC-AN"])
        rounds = self.d.ctl("reports", "--round", "OTHER", json_out=True).json["result"]["reports"]
        self.assertEqual(len(rounds), 1)
        self.assertEqual(len(self.d.ctl("reports", "--since", "2000-01-01", json_out=True)
                             .json["result"]["reports"]), 3)
        self.assertEqual(len(self.d.ctl("reports", "--since", "2999-01-01", json_out=True)
                             .json["result"]["reports"]), 0)
        self.assertEqual(self.d.ctl("reports", "--since", "2024-02-30").returncode, 1)
        self.assertEqual(self.d.ctl("report", "999").returncode, 1)


class Rejecting(IntakeCase):
    config = {"intake_max_size": 65536}

    def test_not_well_formed(self):
        r = self.one("hong.xml", b"<report><unit>abc</report>")
        self.assert_rejected(r, "R_NOT_XML")
        self.assertGreater(r["errors"][0][1], 0)  # a line number

    def test_not_xml_at_all(self):
        self.assert_rejected(self.one("van-ban.xml", b"Bao cao quy 1\n"), "R_NOT_XML")

    def test_schema_invalid_lists_every_error(self):
        bad = report().replace(b"<number>18</number>", "<number>mười tám</number>".encode())
        bad = bad.replace(b'<date>2024-03-27</date>', b'<date>27/03/2024</date>')
        bad = bad.replace(b'<signer authority="TM.">', b'<signer authority="Chu tich">')
        r = self.one("sai.xml", bad)
        self.assert_rejected(r, "R_SCHEMA")
        self.assertGreaterEqual(r["codes"].count("R_SCHEMA"), 3, r["errors"])
        lines = [e[1] for e in r["errors"]]
        self.assertEqual(len(set(lines)), len(lines))
        self.assertIn("dòng", r["text"])

    def test_every_error_at_once_with_what_was_expected(self):
        # a misplaced element stops libxml2 checking the rest of the sequence: the bad day
        # and the decimal commas after it are still found, each saying what was expected
        bad = report().replace(b"<summary>", b"<tom-tat>", 1).replace(b"</summary>", b"</tom-tat>", 1)
        bad = bad.replace(b"<date>2024-03-27</date>", b"<date>2024-02-30</date>")
        bad = bad.replace(b"<value>47.2</value>", b"<value>61,8</value>")
        bad = bad.replace(b"<target>50</target>", "<target>năm mươi</target>".encode())
        r = self.one("ba-loi.xml", bad)
        self.assertEqual(r["outcome"], "rejected")
        self.assertEqual(sorted(r["codes"]), ["R_DATE", "R_NUMBER", "R_NUMBER", "R_SCHEMA"], r["errors"])
        text = " ".join(r["text"].split())
        self.assertIn("ngày báo cáo \"2024-02-30\" không phải là một ngày có thật", text)
        self.assertIn("\"61,8\" không phải là một số như lược đồ quy định; cần số thập phân với "
                      "dấu chấm ngăn phần lẻ, không có dấu ngăn hàng nghìn: 61.8", text)
        self.assertIn("ví dụ 61.8 hoặc 4215", text)
        self.assertIn("<tom-tat> không được phép ở vị trí này; cần", text)
        # a well-formed file that only has a day in the wrong form says which form
        r = self.one("ngay.xml", report(date="27/03/2024"))
        self.assertIn("R_SCHEMA", r["codes"])

    def test_external_entity(self):
        xxe = (b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
               b'<report xmlns="urn:vanthu:report:1">&x;</report>')
        r = self.one("xxe.xml", xxe)
        self.assert_rejected(r, "R_DOCTYPE")
        self.assertNotIn("root:", r["text"])
        self.assertNotIn("root:", open(r["path"], encoding="utf-8").read())

    def test_billion_laughs(self):
        ents = ['<!ENTITY a0 "lol">'] + [
            f'<!ENTITY a{i} "{("&a%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
        doc = ('<?xml version="1.0"?>\n<!DOCTYPE r [' + "".join(ents) + ']>\n'
               '<report xmlns="urn:vanthu:report:1">&a9;</report>').encode()
        t = time.time()
        r = self.one("lol.xml", doc)
        self.assertLess(time.time() - t, 20)
        self.assert_rejected(r, "R_DOCTYPE")

    def test_external_dtd(self):
        doc = (b'<?xml version="1.0"?>\n<!DOCTYPE report SYSTEM "http://127.0.0.1:9/x.dtd">\n'
               + report().split(b"\n", 1)[1])
        self.assert_rejected(self.one("dtd.xml", doc), "R_DOCTYPE")


    def test_too_large(self):
        big = report().replace(b"<p>", b"<p>" + b"x" * 70000, 1)
        r = self.one("lon.xml", big)
        self.assert_rejected(r, "R_TOO_LARGE")

    def test_invalid_utf8(self):
        bad = report().replace("Phước Hội</place>".encode(), b"Ph\xff\xfe H\xc3</place>")
        self.assert_rejected(self.one("utf8.xml", bad), "R_ENCODING")

    def test_nul_bytes(self):
        bad = report().replace(b"<number>", b"<number>\x00", 1)
        self.assert_rejected(self.one("nul.xml", bad), "R_ENCODING")

    def test_empty_file(self):
        self.assert_rejected(self.one("rong.xml", b""), "R_EMPTY")

    def test_gzip_named_xml(self):
        self.assert_rejected(self.one("nen.xml", gzip.compress(report())), "R_GZIP")

    def test_unknown_unit(self):
        r = self.one("la.xml", report(unit="XA-KHONG-CO"))
        self.assert_rejected(r, "R_UNIT_UNKNOWN")
        self.assertEqual(os.path.dirname(r["path"]), os.path.join(self.d.spool, "receipts"))

    def test_dates_and_period(self):
        self.assert_rejected(self.one("ngay.xml", report(date="2024-02-30")), "R_DATE")
        self.assert_rejected(self.one("ky.xml", report(pfrom="2024-04-01", pto="2024-03-31")),
                             "R_PERIOD")
        self.assert_rejected(self.one("som.xml", report(date="2023-12-31")), "R_PERIOD")

    def test_symlink(self):
        link = os.path.join(self.d.spool, "incoming", "lien-ket.xml")
        os.symlink("/etc/passwd", link)
        r = self.one("unused", b"", safe=None) if False else None
        found = wait_receipts(self.d.spool, 1)
        r = read_receipt(found[0])
        self.assert_rejected(r, "R_NOT_FILE")
        self.assertNotIn("root:", r["text"])
        self.assertTrue(os.path.exists("/etc/passwd"))

    def test_fifo(self):
        os.mkfifo(os.path.join(self.d.spool, "incoming", "ong.xml"))
        r = read_receipt(wait_receipts(self.d.spool, 1)[0])
        self.assert_rejected(r, "R_NOT_FILE")

    def test_folder_named_xml(self):
        os.mkdir(os.path.join(self.d.spool, "incoming", "thu-muc.xml"))
        r = read_receipt(wait_receipts(self.d.spool, 1)[0])
        self.assert_rejected(r, "R_NOT_FILE")
        time.sleep(0.5)
        self.assertEqual(len(receipts(self.d.spool)), 1)

    def test_skipped_names_never_read(self):
        inc = os.path.join(self.d.spool, "incoming")
        for n in (".an.xml", "dang-ghi.xml.part", "tam.tmp", "sao-luu.xml~"):
            with open(os.path.join(inc, n), "wb") as fh:
                fh.write(b"not xml")
        time.sleep(1.5)
        self.assertEqual(receipts(self.d.spool), [])
        self.assertEqual(len(os.listdir(inc)), 4)
        log = self.d.read_log()
        self.assertEqual(log.count("ignoring dang-ghi.xml.part"), 1)

class Slow(IntakeCase):
    # a generous settle time: a busy test machine may pause the writer, and an
    # incomplete file that rests for the settle time is (rightly) rejected
    config = {"intake_settle": 5000}

    def test_written_one_byte_every_100ms(self):
        data = report().rstrip()  # ends with the root's closing '>'
        path = os.path.join(self.d.spool, "incoming", "cham.xml")
        head, tail = data[:-40], data[-40:]
        with open(path, "wb", buffering=0) as fh:
            fh.write(head)
            for i in range(len(tail)):
                time.sleep(0.1)
                self.assertEqual(receipts(self.d.spool), [], "taken before it was complete")
                fh.write(tail[i:i + 1])
        self.assertEqual(open(glob.glob(os.path.join(self.d.spool, "*", "**", "*cham.xml"),
                                        recursive=True)[0] if not os.path.exists(path) else path,
                              "rb").read(), data)
        r = read_receipt(wait_receipts(self.d.spool, 1)[0])
        self.assertEqual(r["outcome"], "accepted", r)
        time.sleep(1)
        self.assertEqual(len(receipts(self.d.spool)), 1)



class Deep(IntakeCase):

    def test_ten_thousand_nested_elements(self):
        doc = b"<a>" * 10000 + b"</a>" * 10000
        self.assert_rejected(self.one("sau.xml", doc), "R_TOO_DEEP")


class Unreadable(unittest.TestCase):

    @need_root
    def test_file_the_daemon_cannot_read(self):
        d = Daemon()
        try:
            import pwd
            uid = pwd.getpwnam("vtt-dung").pw_uid
            for dirpath, dirnames, filenames in os.walk(d.root):
                os.chown(dirpath, uid, -1)
            d.start(user="vtt-dung")
            path = os.path.join(d.spool, "incoming", "khoa.xml")
            with open(path, "wb") as fh:
                fh.write(report())
            os.chmod(path, 0o600)  # root's, unreadable to the daemon's user
            r = read_receipt(wait_receipts(d.spool, 1)[0])
            self.assertEqual(r["outcome"], "rejected")
            self.assertIn("R_UNREADABLE", r["codes"])
            self.assertEqual(d.ctl("ping").returncode, 0)
            d.stop()
        finally:
            d.cleanup()


class Volume(unittest.TestCase):

    def test_files_dropped_while_stopped(self):
        d = Daemon()
        try:
            os.makedirs(os.path.join(d.spool, "incoming"))
            for i in range(30):
                drop(d.spool, f"r{i}.xml", report(unit="XA-LOC-AN" if i % 2 else "XA-PHUOC-HOI",
                                                   round=f"R{i}"))
            d.start()
            wait_receipts(d.spool, 30)
            outcomes = [read_receipt(p)["outcome"] for p in receipts(d.spool)]
            self.assertEqual(outcomes, ["accepted"] * 30)
            d.stop()
        finally:
            d.cleanup()

    def test_twenty_thousand_at_once(self):
        d = Daemon()
        try:
            d.start()
            inc = os.path.join(d.spool, "incoming")
            tmpdir = os.path.join(d.root, "staging")
            os.makedirs(tmpdir)
            n = 20000
            for i in range(n):
                # every tenth invalid, the rest valid reports of many rounds
                data = b"<khong-hop-le/>" if i % 10 == 0 else report(round=f"R{i}", value=i)
                with open(os.path.join(tmpdir, f"f{i:05d}.xml"), "wb") as fh:
                    fh.write(data)
            for name in os.listdir(tmpdir):
                os.rename(os.path.join(tmpdir, name), os.path.join(inc, name))
            found = wait_receipts(d.spool, n, timeout=900)
            self.assertEqual(len(found), n)
            self.assertEqual(os.listdir(inc), [])
            st = d.ctl("status", json_out=True).json["result"]["counts"]
            self.assertEqual(st["inputs"], n)
            self.assertEqual(st["rejected"], n // 10)
            self.assertEqual(st["reports"], n - n // 10)
            d.stop()
        finally:
            d.cleanup()


class Liveness(unittest.TestCase):

    def test_files_arriving_during_a_batch_are_taken_without_a_rescan(self):
        # The rescan timer is an hour: only the watch's events can bring these in.
        # Files dropped while a batch runs must be taken when it ends, not an hour later.
        d = Daemon(intake_batch=20, intake_rescan=3600000)
        try:
            d.start()
            names = []
            for i in range(300):
                names.append(drop(d.spool, f"live{i:03d}.xml", report(round=f"LV{i}", value=i)))
                if i % 25 == 0:
                    time.sleep(0.05)
            found = wait_receipts(d.spool, len(names), timeout=120)
            self.assertEqual(len(found), len(names))
            self.assertEqual(os.listdir(os.path.join(d.spool, "incoming")), [])
            d.stop()
        finally:
            d.cleanup()


class CrashSafety(unittest.TestCase):

    def test_sigkill_during_flood(self):
        d = Daemon(intake_batch=64)
        try:
            d.start()
            inc = os.path.join(d.spool, "incoming")
            names = []
            rng = random.Random(7)
            stop = threading.Event()

            def flood():
                for i in range(1500):
                    if stop.is_set():
                        break
                    kind = rng.random()
                    if kind < 0.1:
                        data = b"<hong"
                    elif kind < 0.2 and names:
                        data = report(round="DUP")  # duplicates of one report
                    else:
                        data = report(round=f"K{i}", value=i)
                    name = f"k{i:04d}.xml"
                    drop(d.spool, name, data)
                    names.append(name)
                    if i % 50 == 0:
                        time.sleep(0.02)

            t = threading.Thread(target=flood)
            t.start()
            for cycle in range(5):
                time.sleep(rng.uniform(0.2, 1.0))
                d.kill()
                d.start()
            t.join()
            time.sleep(1)
            deadline = time.time() + 300
            while time.time() < deadline:
                if not os.listdir(inc) and not os.listdir(os.path.join(d.spool, "claimed")):
                    break
                time.sleep(0.2)
            self.assertEqual(os.listdir(inc), [])
            self.assertEqual(os.listdir(os.path.join(d.spool, "claimed")), [])
            d.stop()
            con = sqlite3.connect(d.db)
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            rows = con.execute("SELECT source_name, count(*) FROM intake GROUP BY source_name").fetchall()
            per_name = dict(rows)
            self.assertEqual(sorted(per_name), sorted(names))
            self.assertEqual(set(per_name.values()), {1}, [k for k, v in per_name.items() if v != 1])
            # one receipt per input, and the DUP round recorded once, the rest as duplicates
            self.assertEqual(len(receipts(d.spool)), len(names))
            dup_reports = con.execute("SELECT count(*) FROM reports WHERE round_id='DUP'").fetchone()[0]
            self.assertLessEqual(dup_reports, 1)
            con.close()
        finally:
            d.cleanup()


class Units(DaemonTest):

    def test_units_in_vietnamese_order(self):
        r = self.d.ctl("units", json_out=True)
        names = [u["name"] for u in r.json["result"]["units"]]
        self.assertGreater(len(names), 40)
        # byte order would put every name starting with Đ or Ủ after Z; vi collation does not
        first = [n[0] for n in names]
        self.assertLess(max(i for i, c in enumerate(first) if c == "C"),
                        min(i for i, c in enumerate(first) if c == "Đ"))
        self.assertLess(max(i for i, c in enumerate(first) if c == "Đ"),
                        min(i for i, c in enumerate(first) if c == "H"))
        self.assertNotEqual(names, sorted(names))
        text = self.d.ctl("units").stdout
        self.assertIn("Tên đơn vị", text)
        self.assertIn("XA-PHUOC-HOI", text)
        # --wide: one unit a line, the whole name on it
        wide = self.d.ctl("--wide", "units").stdout.splitlines()
        self.assertIn("Ủy ban nhân dân xã Phước Hội", [l for l in wide if l.startswith("XA-PHUOC-HOI ")][0])

    def test_reload_units(self):
        import shutil
        wf = os.path.join(self.d.root, "workflows")
        shutil.copytree(os.path.join(REPO, "workflows"), wf)
        self.d.write_config(workflows=wf)
        self.d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        units_xml = os.path.join(wf, "units.xml")
        text = open(units_xml, encoding="utf-8").read()
        text = text.replace("</units>", '  <unit code="XA-MOI" group="cap-xa"><name>Ủy ban nhân dân xã Mới'
                            '</name><short>UBND xã Mới</short></unit>\n</units>')
        open(units_xml, "w", encoding="utf-8").write(text)
        self.d.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline:
            codes = [u["code"] for u in self.d.ctl("units", json_out=True).json["result"]["units"]]
            if "XA-MOI" in codes:
                break
            time.sleep(0.1)
        self.assertIn("XA-MOI", codes)
        drop(self.d.spool, "moi.xml", report(unit="XA-MOI"))
        r = read_receipt(wait_receipts(self.d.spool, 1)[0])
        self.assertEqual(r["outcome"], "accepted")
        # a broken registry is refused and the running one stays
        open(units_xml, "w", encoding="utf-8").write("<units>")
        self.d.proc.send_signal(signal.SIGHUP)
        time.sleep(1)
        self.assertIn("reload refused", self.d.read_log())
        codes = [u["code"] for u in self.d.ctl("units", json_out=True).json["result"]["units"]]
        self.assertIn("XA-MOI", codes)


if __name__ == "__main__":
    unittest.main()
