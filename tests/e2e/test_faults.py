"""End-to-end tests under faults: the real vanthud with tests/faults/faultshim.c preloaded.

Each test switches a fault on at a chosen point (a full disk or a failing one
under the SQLite WAL, the database's fsync, the receipts, the move into
accepted/, the issued DOCX, a workflow step), checks what the daemon says and
does while it lasts, switches it off, and checks that the daemon finishes the
work on its own, without a restart: no receipt and no reply says "done" unless
it is in the database, nothing is lost, every input ends with one outcome.
"""
import glob
import os
import sqlite3
import subprocess
import time
import unittest
import xml.etree.ElementTree as ET

from harness import IS_ROOT, REPO, VANTHUD, Daemon
from intake_util import NS, drop, person_drop, read_receipt, receipts, report

SHIM = os.path.join(REPO, "build", "faultshim.so")
EXAMPLE = os.path.join(REPO, "workflows", "thong-bao", "examples", "tb-chuyen-doi-so.xml")


def sanitizer_runtime():
    """The libasan a sanitizer build links, which must come first in LD_PRELOAD."""
    out = subprocess.run(["ldd", VANTHUD], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "libasan" in line and "=>" in line:
            return line.split("=>")[1].split("(")[0].strip()
    return None


class FaultDaemon(Daemon):
    """A Daemon whose vanthud (only: never vanthuctl) runs with the fault shim."""

    def __init__(self, **config):
        super().__init__(**config)
        self.rules = os.path.join(self.root, "faults.rules")
        self.faultlog = os.path.join(self.root, "faults.log")
        self.set_faults("")

    def set_faults(self, text):
        """Replaces the rule file (a new inode, so the shim sees it at once)."""
        tmp = self.rules + ".new"
        with open(tmp, "w") as fh:
            fh.write(text)
        os.rename(tmp, self.rules)
        time.sleep(0.05)

    def hits(self, op=None):
        """The calls the shim failed, as "OP ERRNO PATH" lines."""
        try:
            with open(self.faultlog) as fh:
                lines = fh.read().splitlines()
        except FileNotFoundError:
            return []
        return [l for l in lines if op is None or l.split(" ", 1)[0] == op]

    def start(self, *args, **kw):
        libs = [p for p in (sanitizer_runtime(), SHIM) if p]
        saved = {k: os.environ.get(k) for k in ("LD_PRELOAD", "VANTHU_FAULT_CTL", "VANTHU_FAULT_LOG")}
        os.environ.update(LD_PRELOAD=" ".join(libs), VANTHU_FAULT_CTL=self.rules,
                          VANTHU_FAULT_LOG=self.faultlog)
        try:
            return super().start(*args, **kw)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def wait_for(pred, timeout=15, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def spool_files(spool, folder):
    return sorted(p for p in glob.glob(os.path.join(spool, folder, "**", "*"), recursive=True)
                  if os.path.isfile(p) and not os.path.basename(p).startswith("."))


@unittest.skipUnless(os.path.exists(SHIM), "build/faultshim.so is not built (make check builds it)")
class Faults(unittest.TestCase):

    def setUp(self):
        self.d = FaultDaemon()
        self.d.start()

    def tearDown(self):
        try:
            if self.d.proc is not None and self.d.proc.poll() is None:
                self.d.set_faults("")
                self.d.stop()
        finally:
            self.d.cleanup()

    # ---- helpers ----

    def log_since(self, mark):
        return self.d.read_log()[mark:]

    def daemon_log_has(self, mark, *words):
        """A line of vanthud's own log after mark that holds every word."""
        for line in self.log_since(mark).splitlines():
            if all(w in line for w in words):
                return line
        return None

    def assert_serving(self):
        st = self.d.ctl("status", json_out=True)
        self.assertEqual(st.returncode, 0, st.stderr)
        self.assertEqual(self.d.ctl("ping").returncode, 0)
        rep = self.d.ctl("reports", json_out=True)
        self.assertEqual(rep.returncode, 0, rep.stderr)
        return st.json["result"]

    def drop_reports(self, n, tag):
        names = []
        for i in range(n):
            name = f"{tag}-{i}.xml"
            drop(self.d.spool, name, report(unit="XA-PHUOC-HOI", round=f"R-{tag}-{i}",
                                             number=100 + i, value=500 + i))
            names.append(name)
        return names

    def db_intake(self):
        """The intake rows, read beside the running daemon (a busy moment is waited out)."""
        for attempt in range(20):
            con = sqlite3.connect(f"file:{self.d.db}?mode=ro", uri=True, timeout=10)
            try:
                return con.execute("SELECT id, source_name, outcome, report_id FROM intake "
                                   "ORDER BY id").fetchall()
            except sqlite3.OperationalError:
                if attempt == 19:
                    raise
                time.sleep(0.1)
            finally:
                con.close()

    def assert_no_receipt_for(self, names):
        got = {read_receipt(p)["file"] for p in receipts(self.d.spool)}
        self.assertFalse(got & set(names), "a receipt was written during the fault")

    def finish_and_check(self, names):
        """Faults off: every input gets exactly one outcome, backed by the database."""
        found = wait_for(lambda: (lambda r: r if len(r) >= len(names) else None)(
            [p for p in receipts(self.d.spool) if read_receipt(p)["file"] in names]),
            timeout=20, what=f"{len(names)} receipts after the fault cleared")
        wait_for(lambda: not spool_files(self.d.spool, "claimed") and
                 not spool_files(self.d.spool, "incoming"), timeout=20,
                 what="claimed/ and incoming/ to empty")
        time.sleep(0.3)
        self.d.stop()
        # the database after the daemon stopped: integrity, and one row per input
        out = subprocess.run(["sqlite3", self.d.db, "PRAGMA integrity_check;"],
                             capture_output=True, text=True)
        self.assertEqual(out.stdout.strip(), "ok", out.stdout + out.stderr)
        rows = self.db_intake()
        by_name = {}
        for rid, src, outcome, rep in rows:
            by_name.setdefault(src, []).append((rid, outcome, rep))
        recs = [read_receipt(p) for p in receipts(self.d.spool)]
        for name in names:
            self.assertEqual(len(by_name.get(name, [])), 1, (name, by_name.get(name)))
            mine = [r for r in recs if r["file"] == name]
            self.assertEqual(len(mine), 1, (name, [r["path"] for r in mine]))
            rid, outcome, rep = by_name[name][0]
            self.assertEqual((mine[0]["id"], mine[0]["outcome"]), (rid, outcome))
            self.assertEqual(outcome, "accepted")
        self.assertEqual(len(spool_files(self.d.spool, "accepted")), len(names))
        self.assertEqual(spool_files(self.d.spool, "claimed"), [])
        # leftovers of failed writes are gone or replaced: no temporary receipt remains
        self.assertEqual(glob.glob(os.path.join(self.d.spool, "receipts", "**", ".*.tmp"),
                                   recursive=True), [])
        # a restart sees the same records, and the audit chain verifies
        self.d.set_faults("")
        self.d.start()
        v = self.d.ctl("verify", json_out=True)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertTrue(v.json["result"]["intact"], v.json)
        rep = self.d.ctl("reports", "--limit", "200", json_out=True).json["result"]["reports"]
        self.assertEqual(sorted(r["id"] for r in rep),
                         sorted(x[3] for x in self.db_intake() if x[3]))
        return found

    # ---- the scenarios ----

    def error_lines(self, mark, *words):
        return [l for l in self.log_since(mark).splitlines()
                if " error: " in l and all(w in l for w in words)]

    def test_wal_full_while_reports_arrive(self):
        """ENOSPC on every write to the WAL: nothing is recorded, nothing is lost, retried."""
        names = self.drop_reports(2, "before")
        wait_for(lambda: len(receipts(self.d.spool)) == 2, what="the first receipts")
        mark = len(self.d.read_log())
        self.d.set_faults("write ENOSPC */vanthu.db-wal\n")
        late = self.drop_reports(4, "wal")
        line = wait_for(lambda: self.daemon_log_has(mark, "cannot record"), what="the intake error")
        self.assertIn("database or disk is full (write failed: No space left on device)", line)
        self.assertTrue(self.d.hits("write"))
        self.assert_serving()
        time.sleep(1.0)  # five rescans under the fault
        self.assert_no_receipt_for(late)
        self.assertEqual(len(self.db_intake()), 2)
        left = spool_files(self.d.spool, "claimed") + spool_files(self.d.spool, "incoming")
        self.assertEqual(len(left), len(late), left)
        # one error, not one per rescan; the retries go on at debug level
        self.assertEqual(len(self.error_lines(mark, "cannot record")), 1, self.log_since(mark))
        self.assertGreater(len(self.log_since(mark).split("cannot record")), 3)
        self.assertTrue(self.error_lines(mark, "attempt", "retrying"))
        self.d.set_faults("")
        wait_for(lambda: self.daemon_log_has(mark, "intake: working again"), what="the recovery")
        self.finish_and_check(names + late)

    def test_database_fsync_eio(self):
        """EIO on fsync of the database and its WAL: a commit that failed is never reported."""
        mark = len(self.d.read_log())
        self.d.set_faults("fsync EIO */vanthu.db*\n")
        names = self.drop_reports(3, "fsync")
        line = wait_for(lambda: self.daemon_log_has(mark, "cannot record"), what="the intake error")
        self.assertIn("disk I/O error (fsync failed", line)
        self.assertTrue(self.d.hits("fsync") or self.d.hits("fdatasync"))
        # SQLite's own report (debug) names the file and the errno
        self.assertTrue(self.daemon_log_has(mark, "SQLite reports", "vanthu.db-wal",
                                            "Input/output error"), self.log_since(mark))
        self.assert_serving()
        time.sleep(0.5)
        self.assert_no_receipt_for(names)
        self.assertEqual(self.db_intake(), [])
        self.d.set_faults("")
        self.finish_and_check(names)

    def test_claim_and_accepted_rename_fail(self):
        """A claim that fails leaves the file in incoming/; a move into accepted/ that fails
        leaves it in claimed/ with its receipt (it is recorded); both finish later."""
        mark = len(self.d.read_log())
        self.d.set_faults("rename ENOSPC */claimed/*\n")
        names = self.drop_reports(2, "claim")
        line = wait_for(lambda: self.daemon_log_has(mark, "cannot claim"), what="the claim error")
        self.assertIn("No space left on device", line)
        self.assertTrue(self.d.hits("rename"))
        time.sleep(0.3)
        self.assertEqual(len(spool_files(self.d.spool, "incoming")), 2)
        self.assertEqual(self.db_intake(), [])
        self.assert_serving()
        mark = len(self.d.read_log())
        self.d.set_faults("rename EIO */accepted/*\n")
        line = wait_for(lambda: self.daemon_log_has(mark, "cannot move"), what="the move error")
        self.assertIn("(rename): Input/output error", line)
        self.assert_serving()
        time.sleep(0.5)
        # recorded, so the receipts may say so; the originals wait in claimed/
        self.assertEqual(len(spool_files(self.d.spool, "claimed")), 2)
        self.assertEqual(len(self.db_intake()), 2)
        self.assertEqual(spool_files(self.d.spool, "accepted"), [])
        self.d.set_faults("")
        self.finish_and_check(names)

    def test_receipt_write_full(self):
        """ENOSPC while writing receipts, then EIO on their syncfs: recorded, no receipt yet,
        written once the disk is back."""
        mark = len(self.d.read_log())
        self.d.set_faults("write ENOSPC */receipts/*\n")
        names = self.drop_reports(3, "rcpt")
        line = wait_for(lambda: self.daemon_log_has(mark, "cannot write the receipt"),
                        what="the receipt error")
        self.assertIn("No space left on device", line)
        self.assertTrue(self.d.hits("write"))
        self.assert_serving()
        time.sleep(0.5)
        self.assertEqual(receipts(self.d.spool), [])
        # the partial files are removed, not left to fill the disk
        self.assertEqual(glob.glob(os.path.join(self.d.spool, "receipts", "**", ".*.tmp"),
                                   recursive=True), [])
        self.assertEqual(len(spool_files(self.d.spool, "claimed")), 3)
        self.assertEqual(len(self.db_intake()), 3)
        # then the flush of the written receipts fails: still none is put in place
        mark = len(self.d.read_log())
        self.d.set_faults("syncfs EIO *\n")
        line = wait_for(lambda: self.daemon_log_has(mark, "syncfs"), what="the syncfs error")
        self.assertIn("Input/output error", line)
        self.assertTrue(self.d.hits("syncfs"))
        self.assertEqual(receipts(self.d.spool), [])
        self.assert_serving()
        self.d.set_faults("")
        self.finish_and_check(names)

    @unittest.skipUnless(IS_ROOT, "needs root to drop a file as the drafter")
    def test_draft_receipt_rewritten_after_a_kill(self):
        """A draft dropped by a drafter is recorded, its receipts cannot be put in place, and
        vanthud is killed: the receipt written after the restart still names the draft's
        document (the crash loop caught this only when a kill fell in that window)."""
        mark = len(self.d.read_log())
        self.d.set_faults("rename EIO */receipts/*\n")
        # a draft comes from the drafter's own folder, incoming/@vtt-ana/
        with open(EXAMPLE, "rb") as src:
            person_drop(self.d.spool, "vtt-ana", "draft.xml", src.read())
        wait_for(lambda: self.daemon_log_has(mark, "cannot rename"), what="the receipt rename error")
        rows = wait_for(lambda: self.db_intake(), what="the intake row")
        self.assertEqual(len(rows), 1)
        con = sqlite3.connect(f"file:{self.d.db}?mode=ro", uri=True, timeout=10)
        doc = con.execute("SELECT document_id FROM intake").fetchone()[0]
        con.close()
        self.assertIsNotNone(doc, "the intake row does not name the document it created")
        self.assertEqual(receipts(self.d.spool), [])
        self.d.kill()
        self.d.set_faults("")
        self.d.start()
        found = wait_for(lambda: receipts(self.d.spool), what="the receipt after the restart")
        root = ET.parse(found[0]).getroot()
        got = root.find("r:document", NS)
        self.assertIsNotNone(got, ET.tostring(root, encoding="unicode"))
        self.assertEqual(int(got.get("id")), doc)
        self.assertEqual(got.get("kind"), "Thông báo")
        text = open(found[0][:-len(".xml")] + ".txt", encoding="utf-8").read()
        self.assertIn(f"số {doc}", text)

    def test_rejected_reasons_rename_fails(self):
        """A rejected input whose reasons file cannot be put in place stays in claimed/ (it used
        to go to rejected/ with its reasons left as a hidden temporary file for ever)."""
        mark = len(self.d.read_log())
        self.d.set_faults("rename EIO *.reasons.txt\n")
        drop(self.d.spool, "hong.xml", b"<report xmlns='urn:vanthu:report:1'><unit")
        line = wait_for(lambda: self.daemon_log_has(mark, "cannot rename", "reasons.txt"),
                        what="the rename error")
        self.assertIn("Input/output error", line)
        self.assertTrue(self.d.hits("rename"))
        time.sleep(0.5)
        self.assertEqual(len(spool_files(self.d.spool, "claimed")), 1)
        self.assertEqual(spool_files(self.d.spool, "rejected"), [])
        self.assertEqual([r[2] for r in self.db_intake()], ["rejected"])
        self.assert_serving()
        self.d.set_faults("")
        wait_for(lambda: not spool_files(self.d.spool, "claimed"), what="claimed/ to empty")
        rej = os.listdir(os.path.join(self.d.spool, "rejected"))
        # kept as <receipt number>-<name>, with its reasons beside it
        self.assertEqual(len([n for n in rej if n.endswith("-hong.xml")]), 1, rej)
        self.assertEqual(len([n for n in rej if n.endswith("-hong.xml.reasons.txt")]), 1, rej)
        self.assertEqual([n for n in rej if n.startswith(".")], [], rej)
        recs = [read_receipt(p) for p in receipts(self.d.spool)]
        self.assertEqual([(r["file"], r["outcome"]) for r in recs], [("hong.xml", "rejected")])

    def test_backup_disk_full(self):
        """ENOSPC while writing a backup: an error code, no partial file; works once space is back."""
        bk = os.path.join(self.d.root, "bk")
        os.makedirs(bk)
        dest = os.path.join(bk, "vanthu-copy.db")
        self.d.set_faults("write ENOSPC */bk/*\n")
        r = self.d.ctl("backup", dest, json_out=True)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertTrue(self.d.hits("write"))
        self.assertEqual(os.listdir(bk), [])
        self.assert_serving()
        self.d.set_faults("")
        r = self.d.ctl("backup", dest, json_out=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(os.listdir(bk), ["vanthu-copy.db"])

    # ---- outgoing documents ----

    def signed_doc(self):
        """A Thông báo taken to 'signed' by the real users; its id."""
        xml = os.path.join(self.d.root, "tb.xml")
        with open(EXAMPLE, encoding="utf-8") as src, open(xml, "w", encoding="utf-8") as fh:
            fh.write(src.read())
        os.chmod(xml, 0o644)
        r = self.d.ctl("new", "thong-bao", xml, user="vtt-ana", json_out=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        doc = r.json["result"]["id"]
        for user, action in (("vtt-ana", "submit"), ("vtt-binh", "approve"), ("vtt-chi", "sign")):
            r = self.d.ctl(action, str(doc), user=user)
            self.assertEqual(r.returncode, 0, (action, r.stdout, r.stderr))
        return doc

    def doc_state(self, doc):
        r = self.d.ctl("show", str(doc), json_out=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.json["result"]

    def audit_ok(self):
        v = self.d.ctl("verify", json_out=True)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertTrue(v.json["result"]["intact"], v.json)
        return v.json["result"]["checked"]

    def open_fds(self, part):
        fds = os.path.join("/proc", str(self.d.proc.pid), "fd")
        out = []
        for fd in os.listdir(fds):
            try:
                target = os.readlink(os.path.join(fds, fd))
            except OSError:
                continue
            if part in target:
                out.append(target)
        return out

    @unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
    def test_issued_docx_disk_full(self):
        """ENOSPC, then EIO on fsync, writing the issued DOCX: the issue stands, the daemon
        tries again on its own and writes the file once the disk is back."""
        doc = self.signed_doc()
        mark = len(self.d.read_log())
        self.d.set_faults("write ENOSPC */outgoing/*\n")
        r = self.d.ctl("issue", str(doc), user="vtt-dung", json_out=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("No space left on device", r.json["result"]["publish_error"])
        self.assertTrue(self.d.hits("write"))
        line = self.daemon_log_has(mark, "DOCX or PDF could not be written")
        self.assertIn("No space left on device", line)
        self.assertEqual(self.doc_state(doc)["state"], "issued")
        self.assert_serving()
        # the next tries fail on fsync instead; no descriptor or partial file is left behind
        self.d.set_faults("fsync EIO */outgoing/*\n")
        wait_for(lambda: self.d.hits("fsync"), what="a retry that reaches fsync")
        time.sleep(0.2)
        self.assertTrue(self.daemon_log_has(mark, "fsync", "Input/output error"), self.log_since(mark))
        self.assertEqual(self.open_fds("/outgoing/"), [])
        self.assertEqual(glob.glob(os.path.join(self.d.spool, "outgoing", "**", "*.docx*"),
                                   recursive=True), [])
        self.assert_serving()
        self.d.set_faults("")
        docx = wait_for(lambda: glob.glob(os.path.join(self.d.spool, "outgoing", "*", "*.docx")),
                        timeout=20, what="the DOCX once the disk is back")
        self.assertEqual(len(docx), 1, docx)
        out = os.path.join(self.d.root, "copy.docx")
        r = self.d.ctl("render", str(doc), "-o", out)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(out, "rb") as a, open(docx[0], "rb") as b:
            self.assertEqual(a.read(), b.read())
        self.audit_ok()

    @unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
    def test_transition_fails_cleanly(self):
        """A workflow step whose commit fails: an error code, the state, register and trail
        unchanged, the reason in the log; the same step works once the fault clears."""
        doc = self.signed_doc()
        before = self.doc_state(doc)
        trail = self.audit_ok()
        for rules, says in (("write ENOSPC */vanthu.db-wal\n", "write failed: No space left on device"),
                            ("fsync EIO */vanthu.db*\n", "fsync failed")):
            mark = len(self.d.read_log())
            self.d.set_faults(rules)
            r = self.d.ctl("issue", str(doc), user="vtt-dung", json_out=True)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertEqual(r.json["error"]["code"], "E_INTERNAL", r.json)
            self.assertTrue(self.daemon_log_has(mark, "act issue on", says), self.log_since(mark))
            self.assert_serving()
            self.assertEqual(self.doc_state(doc), before)
            reg = self.d.ctl("register", json_out=True)
            self.assertEqual(reg.returncode, 0, reg.stderr)
            self.assertEqual(reg.json["result"]["entries"], [])
            self.assertEqual(self.audit_ok(), trail)
        self.d.set_faults("")
        r = self.d.ctl("issue", str(doc), user="vtt-dung", json_out=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(r.json["result"]["symbol"].startswith("01/"), r.json)
        self.assertNotIn("publish_error", r.json["result"])
        self.assertEqual(self.audit_ok(), trail + 2)   # the issue and its published file
        self.d.stop()
        out = subprocess.run(["sqlite3", self.d.db, "PRAGMA integrity_check;"],
                             capture_output=True, text=True)
        self.assertEqual(out.stdout.strip(), "ok", out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main()
