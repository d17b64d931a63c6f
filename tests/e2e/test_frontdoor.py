"""The front door (issue 13): no unit's file, name, timing or share can stop intake, misdirect a
receipt, reach another unit or touch the database. Each class here is one case that broke
before the spool was rebuilt on directory descriptors; every test drives the real vanthud
with real files, real uids and, for shares, a real smbd."""
import ctypes
import glob
import grp
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
import unittest

from harness import IS_ROOT, REPO, Daemon, DaemonTest, as_user, need_root
from intake_util import (drop, person_drop, person_folder, read_receipt, receipts, report, shown,
                         stem, wait_receipts)
from test_faults import SHIM, FaultDaemon

EXAMPLE = os.path.join(REPO, "workflows", "thong-bao", "examples", "tb-chuyen-doi-so.xml")
RENAME_EXCHANGE = 2
AT_FDCWD = -100


def sha(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def long_name(prefix, total=255):
    """A Vietnamese name of exactly `total` bytes (or one less when a character would not fit)."""
    words = "-báo-cáo-kết-quả-thực-hiện-chuyển-đổi-số-quý-I-năm-2024-của-Ủy-ban-nhân-dân-xã"
    name = prefix
    for ch in words * 10:
        if len((name + ch).encode()) > total - 4:
            break
        name += ch
    return name + ".xml"


def wait_for(pred, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Names(DaemonTest):
    """Case 1: a name that is not UTF-8 stops nothing; it is receipted under its shown form."""

    def test_not_utf8_then_a_good_report(self):
        bad = b"bao-cao-\xff.xml"
        d = os.path.join(self.d.spool, "incoming")
        with open(os.path.join(os.fsencode(d), bad), "wb") as fh:
            fh.write(report(round="R-BAD"))
        drop(self.d.spool, "tot.xml", report(unit="SO-TTTT", round="R-GOOD"))
        found = [read_receipt(p) for p in wait_receipts(self.d.spool, 2, 30)]
        by = {r["file"]: r for r in found}
        self.assertEqual(set(by), {"bao-cao-%FF.xml", "tot.xml"})
        self.assertEqual(by["bao-cao-%FF.xml"]["outcome"], "accepted")
        self.assertEqual(by["tot.xml"]["outcome"], "accepted")
        # the receipt's own file name is the shown form, findable by the unit
        self.assertTrue(os.path.basename(by["bao-cao-%FF.xml"]["path"]).startswith("bao-cao-%FF.xml."))
        self.assertEqual(os.listdir(os.path.join(self.d.spool, "claimed")), [])
        con = sqlite3.connect(self.d.db)
        raw = con.execute("SELECT source_raw FROM intake WHERE source_name = ?",
                          ("bao-cao-%FF.xml",)).fetchone()[0]
        con.close()
        self.assertEqual(bytes(raw), bad)
        self.assertNotIn("not an error", self.d.read_log())

    def test_long_names_are_cut_on_a_character_and_hashed(self):
        name = long_name("XA-")
        self.assertGreaterEqual(len(name.encode()), 254)
        drop(self.d.spool, name, report(round="R-LONG"), folder="XA-PHUOC-HOI")
        r = read_receipt(wait_receipts(self.d.spool, 1)[0])
        self.assertEqual(r["file"], name)
        base = os.path.basename(r["path"])
        base.encode("utf-8")    # whole characters only
        self.assertTrue(base.startswith(stem(name.encode())))
        self.assertLessEqual(len(stem(name.encode()).encode()), 200)
        self.assertRegex(stem(name.encode()), r"~[0-9a-f]{8}$")
        self.assertEqual(r["outcome"], "accepted")


@unittest.skipUnless(os.path.exists(SHIM), "build/faultshim.so is not built (make check builds it)")
@need_root
class KilledAtEachRename(unittest.TestCase):
    """Case 2: SIGKILL right after a rename into claimed/, or into receipts/, with 255-byte
    Vietnamese names: after the restart each file has one receipt under its full name, no
    temporary file anywhere, the same receipt number throughout."""

    def run_kill(self, glob_rule, after):
        d = FaultDaemon()
        try:
            d.start()
            names = [long_name(f"{i}-", 255 - i) for i in range(3)]
            data = {n: report(round=f"R-KILL-{i}", value=100 + i) for i, n in enumerate(names)}
            d.set_faults(f"rename KILL {glob_rule} after={after} count=1\n")
            for n in names:
                drop(d.spool, n, data[n], folder="XA-PHUOC-HOI")
            d.proc.wait(30)
            self.assertEqual(d.proc.returncode, -signal.SIGKILL, d.read_log()[-2000:])
            self.assertTrue(d.hits("rename"), "the shim never fired")
            d.logfh.close()
            d.notify.close()
            d.set_faults("")
            d.start()
            found = wait_receipts(d.spool, len(names), 60)
            time.sleep(1.0)
            found = receipts(d.spool)
            recs = [read_receipt(p) for p in found]
            self.assertEqual(sorted(r["file"] for r in recs), sorted(names), found)
            for r in recs:
                self.assertTrue(os.path.basename(r["path"]).startswith(stem(r["file"].encode())))
                self.assertEqual(r["outcome"], "accepted", r)
                self.assertEqual(r["sha256"], hashlib.sha256(data[r["file"]]).hexdigest())
                self.assertTrue(os.path.exists(r["path"][:-4] + ".txt"))
            every = [p for p in glob.glob(os.path.join(d.spool, "**"), recursive=True)]
            every += glob.glob(os.path.join(d.spool, "**", ".*"), recursive=True)
            self.assertEqual([p for p in every if ".tmp" in os.path.basename(p)], [])
            self.assertEqual(os.listdir(os.path.join(d.spool, "claimed")), [])
            con = sqlite3.connect(d.db)
            rows = con.execute("SELECT id, source_name FROM intake ORDER BY id").fetchall()
            con.close()
            self.assertEqual(sorted(n for _, n in rows), sorted(names))
            self.assertEqual(sorted(r["id"] for r in recs), [i for i, _ in rows])
            d.stop()
        finally:
            d.cleanup()

    def test_kill_after_rename_into_claimed(self):
        self.run_kill("*/claimed/*", 1)

    def test_kill_after_rename_into_receipts(self):
        self.run_kill("*/receipts/*", 1)


@need_root
class SwapLoop(DaemonTest):
    """Case 3: a unit's folder swapped with a link to the database's folder, in a loop
    (renameat2 RENAME_EXCHANGE): nothing outside the spool is ever opened, moved or removed."""

    def test_rename_exchange_loop(self):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                   ctypes.c_uint]
        inc = os.path.join(self.d.spool, "incoming")
        unit = os.path.join(inc, "SO-TTTT")
        os.makedirs(unit, exist_ok=True)
        # outside the spool: the database's folder, with a report-looking bait in it
        bait = os.path.join(self.d.root, "bait.xml")
        with open(bait, "wb") as fh:
            fh.write(report(unit="SO-TTTT", round="R-BAIT"))
        outside = {}
        for p in glob.glob(os.path.join(self.d.root, "*")):
            if os.path.isfile(p) and not p.startswith(self.d.db) and not p.endswith(".log"):
                outside[p] = sha(p)
        db_ino = os.stat(self.d.db).st_ino
        link = os.path.join(inc, ".swap")
        os.symlink(self.d.root, link)
        stop = threading.Event()
        swaps = [0]

        def swapper():
            while not stop.is_set():
                if libc.renameat2(AT_FDCWD, unit.encode(), AT_FDCWD, link.encode(),
                                  RENAME_EXCHANGE) == 0:
                    swaps[0] += 1
        t = threading.Thread(target=swapper, daemon=True)
        t.start()
        try:
            for i in range(40):
                drop(self.d.spool, f"swap-{i}.xml", report(unit="SO-TTTT", round=f"R-SW-{i}"))
                time.sleep(0.05)
            time.sleep(3)
        finally:
            stop.set()
            t.join()
        self.assertGreater(swaps[0], 100)
        # leave the real folder in place
        if os.path.islink(unit):
            libc.renameat2(AT_FDCWD, unit.encode(), AT_FDCWD, link.encode(), RENAME_EXCHANGE)
        wait_receipts(self.d.spool, 40, 60)
        self.assertEqual(os.stat(self.d.db).st_ino, db_ino)
        for p, h in outside.items():
            self.assertTrue(os.path.exists(p), p)
            self.assertEqual(sha(p), h, p)
        self.assertEqual(self.d.ctl("verify").returncode, 0)
        con = sqlite3.connect(self.d.db)
        self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        names = [n for (n,) in con.execute("SELECT source_name FROM intake")]
        con.close()
        self.assertNotIn("bait.xml", names)
        self.assertNotIn("vanthu.db", names)
        for sub in ("rejected", "accepted"):
            kept = [os.path.basename(p) for p in glob.glob(os.path.join(self.d.spool, sub, "**"),
                                                            recursive=True)]
            self.assertEqual([k for k in kept if "vanthu.db" in k or "bait" in k
                              or "vanthu.conf" in k], [])
        self.assertEqual(self.d.ctl("ping").returncode, 0)


class InPlaceWriter(DaemonTest):
    """Case 5: a writer that pauses before its last byte: the file is taken when it closes,
    and the receipt's SHA-256 and size are those of the original kept in accepted/."""

    def test_pause_before_the_last_byte(self):
        data = report(round="R-INPLACE")
        final = os.path.join(self.d.spool, "incoming", "tai-cho.xml")
        with open(final, "wb") as fh:
            fh.write(data[:-1])
            fh.flush()
            time.sleep(2.5)   # five settle times, a complete document already on disk
            self.assertEqual(receipts(self.d.spool), [])
            fh.write(data[-1:])
        r = read_receipt(wait_receipts(self.d.spool, 1)[0])
        self.assertEqual(r["outcome"], "accepted")
        self.assertEqual(r["size"], len(data))
        self.assertEqual(r["sha256"], hashlib.sha256(data).hexdigest())
        kept = glob.glob(os.path.join(self.d.spool, "accepted", "*", "*", "*", "*-tai-cho.xml"))
        self.assertEqual(len(kept), 1)
        self.assertEqual(sha(kept[0]), r["sha256"])
        # the same bytes again by rename: a duplicate, not a correction
        drop(self.d.spool, "lai.xml", data)
        r2 = [read_receipt(p) for p in wait_receipts(self.d.spool, 2) if "lai.xml" in p][0]
        self.assertEqual(r2["outcome"], "duplicate")


@need_root
class SmallOnes(DaemonTest):
    """Item 6."""

    def test_reports_page_by_bytes(self):
        summary = "Báo cáo kết quả triển khai chuyển đổi số " * 12
        for i in range(230):
            drop(self.d.spool, f"p{i:03d}.xml",
                 report(round=f"R-PAGE-{i:03d}", summary=summary + str(i), value=i))
        wait_receipts(self.d.spool, 230, 120)
        r = self.d.ctl("reports", "--limit", "200", json_out=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        res = r.json["result"]
        self.assertTrue(res.get("truncated"), list(res))
        self.assertLess(len(res["reports"]), 200)
        text = self.d.ctl("reports", "--limit", "200")
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertIn("Còn nữa: thêm --before %d" % res["next_before"], text.stdout)
        seen, before = [], None
        for _ in range(20):
            args = ["reports", "--limit", "200"] + (["--before", str(before)] if before else [])
            page = self.d.ctl(*args, json_out=True)
            self.assertEqual(page.returncode, 0, page.stderr)
            seen += [x["id"] for x in page.json["result"]["reports"]]
            before = page.json["result"].get("next_before")
            if before is None:
                break
        self.assertEqual(len(seen), 230)
        self.assertEqual(len(set(seen)), 230)

    def test_backup_never_replaces_a_file_it_did_not_write(self):
        foreign = os.path.join(self.d.root, "hosts")
        with open(foreign, "w") as fh:
            fh.write("127.0.0.1 localhost\n")
        before = sha(foreign)
        r = self.d.ctl("backup", foreign)
        self.assertEqual(r.returncode, 1)
        self.assertIn("E_INVALID", r.stderr)
        self.assertIn("không ghi đè", r.stderr)
        self.assertEqual(sha(foreign), before)
        # a symbolic link to it, and a hard link to an earlier backup, are refused too
        os.symlink(foreign, os.path.join(self.d.root, "link.db"))
        self.assertEqual(self.d.ctl("backup", os.path.join(self.d.root, "link.db")).returncode, 1)
        self.assertEqual(sha(foreign), before)
        ours = os.path.join(self.d.root, "ours.db")
        self.assertEqual(self.d.ctl("backup", ours).returncode, 0)
        # our own earlier backup may be replaced
        self.assertEqual(self.d.ctl("backup", ours).returncode, 0)
        os.link(ours, os.path.join(self.d.root, "ours-2.db"))
        self.assertEqual(self.d.ctl("backup", ours).returncode, 1)
        # a file of another user with a vanthu database in it is not ours either
        os.unlink(os.path.join(self.d.root, "ours-2.db"))
        os.chown(ours, pwd.getpwnam("vtt-ana").pw_uid, -1)
        self.assertEqual(self.d.ctl("backup", ours).returncode, 1)
        self.assertEqual([n for n in os.listdir(self.d.root) if n.startswith(".")], [])

    def test_hard_link_rejected_unread(self):
        secret = os.path.join(self.d.root, "secret.xml")
        with open(secret, "wb") as fh:
            fh.write(report(round="R-SECRET"))
        os.link(secret, os.path.join(self.d.spool, "incoming", "lien-ket.xml"))
        r = read_receipt(wait_receipts(self.d.spool, 1)[0])
        self.assertEqual(r["outcome"], "rejected")
        self.assertIn("R_LINKED", r["codes"])
        self.assertIsNone(r["sha256"])
        self.assertIsNone(r["size"])
        self.assertNotIn(hashlib.sha256(open(secret, "rb").read()).hexdigest(),
                         open(r["path"], encoding="utf-8").read())

    def test_draft_author_is_the_drafter_folder(self):
        data = open(EXAMPLE, "rb").read()
        person_drop(self.d.spool, "vtt-ana", "du-thao.xml", data)
        r = read_receipt(wait_receipts(self.d.spool, 1)[0])
        self.assertEqual(r["outcome"], "accepted", r)
        self.assertIn("/receipts/@vtt-ana/", r["path"])
        hist = self.d.ctl("history", str(r["document"]), json_out=True).json["result"]["history"]
        self.assertEqual(hist[0]["actor"], "vtt-ana")
        # a drafter's file moved into incoming/ by someone else is not the drafter's draft
        tmp = os.path.join(self.d.spool, "incoming", ".x")
        shutil.copy(EXAMPLE, tmp)
        os.chown(tmp, pwd.getpwnam("vtt-ana").pw_uid, -1)
        os.rename(tmp, os.path.join(self.d.spool, "incoming", "cua-ana.xml"))
        # a reviewer's own folder: not a drafter
        person_drop(self.d.spool, "vtt-binh", "cua-binh.xml", data)
        found = [read_receipt(p) for p in wait_receipts(self.d.spool, 3)]
        for name in ("cua-ana.xml", "cua-binh.xml"):
            rr = [x for x in found if x["file"] == name][0]
            self.assertEqual(rr["outcome"], "rejected", rr)
            self.assertIn("R_DENIED", rr["codes"])
        # nobody else can write into a drafter's folder
        folder = person_folder(self.d.spool, "vtt-ana")
        p = subprocess.run(["sh", "-c", f"echo x > '{folder}/gia.xml'"], capture_output=True,
                           preexec_fn=as_user("vtt-binh"))
        self.assertNotEqual(p.returncode, 0)
        docs = self.d.ctl("list", json_out=True).json["result"]["documents"]
        self.assertEqual(len(docs), 1)


@need_root
class SocketFolder(unittest.TestCase):
    """Item 6: vanthud never changes the mode of a folder it did not create, and refuses to
    start with the reason when the socket folder is unsafe."""

    def start_in(self, mode, owner=None):
        d = Daemon()
        run = os.path.join(d.root, "run")
        os.makedirs(run, exist_ok=True)
        os.chmod(run, mode)
        if owner:
            os.chown(run, pwd.getpwnam(owner).pw_uid, -1)
        self.addCleanup(d.cleanup)
        return d, run

    def test_existing_folder_left_alone(self):
        d, run = self.start_in(0o755)
        d.start()
        self.assertEqual(os.stat(run).st_mode & 0o7777, 0o755)
        self.assertEqual(d.ctl("ping").returncode, 0)
        d.stop()

    def test_made_when_missing(self):
        d = Daemon()
        self.addCleanup(d.cleanup)
        d.start()
        self.assertEqual(os.stat(os.path.join(d.root, "run")).st_mode & 0o7777, 0o750)
        d.stop()

    def test_unsafe_folders_refused(self):
        for mode, owner, why in ((0o777, None, "nhóm hoặc người khác ghi được vào thư mục"),
                                 (0o1777, None, "nhóm hoặc người khác ghi được vào thư mục"),
                                 (0o755, "vtt-ana", "thuộc uid")):
            d, run = self.start_in(mode, owner)
            d.start(wait=False)
            self.assertEqual(d.proc.wait(30), 1)
            d.logfh.close()
            d.notify.close()
            self.assertIn(why, d.read_log())
            self.assertIn("refusing to start", d.read_log())
            self.assertEqual(os.stat(run).st_mode & 0o7777, mode)


SAMBA_UNITS = ["XA-PHUOC-HOI", "SO-TTTT", "SO-TP"]


def unit_account(code):
    """The Unix user and group of a unit in the documented deployment: vtu-<code in lower case>."""
    return "vtu-" + code.lower()


def ensure_unit_account(code):
    name = unit_account(code)
    try:
        grp.getgrnam(name)
    except KeyError:
        subprocess.run(["groupadd", "--system", name], check=True)
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        "-g", name, name], check=True)
    return name


@need_root
@unittest.skipUnless(os.path.exists("/usr/sbin/smbd") and os.path.exists("/usr/bin/smbclient"),
                     "samba and smbclient are not installed (make deps installs them)")
class SambaDeployment(unittest.TestCase):
    """Case 4: three units, each with its own Unix group (units.xml unix-group) and its own
    two shares on a real smbd; each unit puts reports and reads its receipts, and nothing of
    another unit's."""

    def setUp(self):
        from samba import Samba, Unit
        self.d = Daemon()
        self.addCleanup(self.d.cleanup)
        wf = os.path.join(self.d.root, "workflows")
        shutil.copytree(os.path.join(REPO, "workflows"), wf)
        units_xml = os.path.join(wf, "units.xml")
        text = open(units_xml, encoding="utf-8").read()
        for code in SAMBA_UNITS:
            ensure_unit_account(code)
            text, n = re.subn(r'<unit code="%s" group=' % code,
                              '<unit code="%s" unix-group="%s" group=' % (code, unit_account(code)),
                              text)
            self.assertEqual(n, 1, code)
        open(units_xml, "w", encoding="utf-8").write(text)
        self.d.write_config(workflows=wf)
        self.d.start()
        sp = self.d.spool
        self.units = {c: Unit(c, unit_account(c), "mk-" + c.lower(), unit_account(c),
                              os.path.join(sp, "incoming", c), os.path.join(sp, "receipts", c))
                      for c in SAMBA_UNITS}
        self.smb = Samba(self.d.root, list(self.units.values()), spool=sp)
        self.smb.start()
        self.addCleanup(self.smb.stop)
        self.local = os.path.join(self.d.root, "local")
        os.makedirs(self.local)

    def put(self, unit, name, data):
        path = os.path.join(self.local, "up.xml")
        with open(path, "wb") as fh:
            fh.write(data)
        return self.smb.put(self.units[unit], self.smb.baocao(self.units[unit]), path, name)

    def test_three_units_isolated(self):
        sp = self.d.spool
        for c in SAMBA_UNITS:
            g = grp.getgrnam(unit_account(c)).gr_gid
            st = os.stat(os.path.join(sp, "incoming", c))
            self.assertEqual((st.st_gid, st.st_mode & 0o7777), (g, 0o2770), c)
            st = os.stat(os.path.join(sp, "receipts", c))
            self.assertEqual((st.st_gid, st.st_mode & 0o7777), (g, 0o2750), c)
        for sub in ("accepted", "rejected", "claimed"):
            self.assertEqual(os.stat(os.path.join(sp, sub)).st_mode & 0o007, 0, sub)
        self.assertEqual(os.stat(self.d.db).st_mode & 0o007, 0)
        # each unit puts its report and reads its own receipt over SMB
        for i, c in enumerate(SAMBA_UNITS):
            r = self.put(c, f"báo cáo quý {i + 1}.xml", report(unit=c, round="R-SMB"))
            self.assertTrue(r.ok, r.output)
        found = wait_receipts(sp, 3, 60)
        recs = [read_receipt(p) for p in found]
        self.assertEqual(sorted((r["unit"], r["outcome"]) for r in recs),
                         sorted((c, "accepted") for c in SAMBA_UNITS))
        for r in recs:
            u = self.units[r["unit"]]
            self.assertEqual(os.path.dirname(r["path"]), u.receipts)
            listing = self.smb.ls(u, self.smb.bienlai(u))
            self.assertTrue(listing.ok, listing.output)
            self.assertIn(os.path.basename(r["path"]), listing.entries)
            got = os.path.join(self.local, "got.xml")
            g = self.smb.get(u, self.smb.bienlai(u), os.path.basename(r["path"]), got)
            self.assertTrue(g.ok, g.output)
            self.assertEqual(open(got, "rb").read(), open(r["path"], "rb").read())
        a, b = self.units["XA-PHUOC-HOI"], self.units["SO-TTTT"]
        # A cannot connect to B's shares, nor read or write B's folders through the broad share
        self.assertTrue(self.smb.ls(a, self.smb.bienlai(b)).denied)
        path = os.path.join(self.local, "x.xml")
        with open(path, "wb") as fh:
            fh.write(report(unit="SO-TTTT", round="R-SMB-2"))
        self.assertTrue(self.smb.put(a, self.smb.baocao(b), path, "gia.xml").denied)
        from samba import TOAN_BO
        self.assertTrue(self.smb.ls(a, TOAN_BO, "receipts/SO-TTTT").denied)
        self.assertTrue(self.smb.put(a, TOAN_BO, path, "incoming/SO-TTTT/gia.xml").denied)
        for sub in ("accepted", "rejected", "claimed"):
            self.assertTrue(self.smb.ls(a, TOAN_BO, sub).denied, sub)
        self.assertEqual(os.listdir(os.path.join(sp, "incoming", "SO-TTTT")), [])
        # a report naming another unit, put in A's own share: rejected, B's report stands
        r = self.put("XA-PHUOC-HOI", "thay-so.xml", report(unit="SO-TTTT", round="R-SMB", value=1))
        self.assertTrue(r.ok, r.output)
        found = wait_receipts(sp, 4, 60)
        rej = [read_receipt(p) for p in found if "thay-so.xml" in p][0]
        self.assertEqual(rej["outcome"], "rejected")
        self.assertIn("R_UNIT_FOLDER", rej["codes"])
        self.assertEqual(os.path.dirname(rej["path"]), a.receipts)
        cur = self.d.ctl("reports", "--unit", "SO-TTTT", json_out=True).json["result"]["reports"]
        self.assertEqual(len(cur), 1)
        self.d.stop()
