"""End-to-end tests of `make install` and `make uninstall` into a DESTDIR.

The office's own files (vanthu.conf, units.xml, the calendar years) are
installed once into SYSCONFDIR/vanthu and never overwritten or removed; the
program files under PREFIX are replaced and removed. A real vanthud then runs
on what was installed and finds the office's edited files.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import REPO, Daemon

PREFIX = "/opt/vanthu"


def make(target, dest, *extra):
    r = subprocess.run(["make", "-s", "-C", REPO, target, f"DESTDIR={dest}", f"PREFIX={PREFIX}",
                        *extra], capture_output=True, timeout=900)
    out = r.stdout.decode("utf-8") + r.stderr.decode("utf-8")
    if r.returncode != 0:
        raise AssertionError(f"make {target} exited {r.returncode}:\n{out}")
    return out


def read(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def write(path, text):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


class Install(unittest.TestCase):

    def setUp(self):
        self.dest = tempfile.mkdtemp(prefix="vanthu-install-")
        os.chmod(self.dest, 0o755)
        self.root = self.dest + PREFIX
        self.etc = self.dest + "/etc/vanthu"

    def tearDown(self):
        shutil.rmtree(self.dest, ignore_errors=True)

    def test_program_files_and_unit(self):
        make("install", self.dest)
        for path in ("sbin/vanthud", "bin/vanthuctl", "share/man/man8/vanthud.8",
                     "share/man/man1/vanthuctl.1", "share/man/man5/vanthu.conf.5",
                     "share/vanthu/workflows/units.xsd",
                     "share/vanthu/workflows/thong-bao/workflow.xml",
                     "share/vanthu/workflows/calendar/calendar.xsd",
                     "share/vanthu/templates/thong-bao.docx",
                     "lib/systemd/system/vanthud.service"):
            self.assertTrue(os.path.exists(os.path.join(self.root, path)), path)
        self.assertTrue(os.access(os.path.join(self.root, "sbin/vanthud"), os.X_OK))
        unit = read(os.path.join(self.root, "lib/systemd/system/vanthud.service"))
        for line in ("Type=notify", "ExecStart=/opt/vanthu/sbin/vanthud -c /etc/vanthu/vanthu.conf",
                     "User=vanthu", "NoNewPrivileges=yes", "ProtectSystem=strict",
                     "PrivateTmp=yes", "ReadWritePaths="):
            self.assertIn(line, unit)
        conf = read(self.etc + "/vanthu.conf")
        for line in ("templates = /opt/vanthu/share/vanthu/templates",
                     "workflows = /opt/vanthu/share/vanthu/workflows",
                     "units = /etc/vanthu/units.xml", "calendar = /etc/vanthu/calendar"):
            self.assertIn(line + "\n", conf)
        self.assertNotIn("@", conf + unit)
        # the installed configuration parses (its /var paths need not exist here)
        r = subprocess.run([os.path.join(self.root, "sbin/vanthud"), "-n", "-c",
                            self.etc + "/vanthu.conf"], capture_output=True, timeout=60)
        for line in r.stderr.decode().splitlines():
            self.assertNotRegex(line, r"vanthu\.conf:\d+:", "a key or syntax error: " + line)

    def test_office_files_survive_install_twice_and_uninstall(self):
        out = make("install", self.dest)
        self.assertNotIn("kept", out)
        # the office's files are in /etc only, the program's schemas under share
        self.assertEqual(read(self.etc + "/units.xml"), read(REPO + "/workflows/units.xml"))
        self.assertEqual(read(self.etc + "/calendar/2026.xml"),
                         read(REPO + "/workflows/calendar/2026.xml"))
        self.assertFalse(os.path.exists(self.root + "/share/vanthu/workflows/units.xml"))
        self.assertFalse(os.path.exists(self.root + "/share/vanthu/workflows/calendar/2026.xml"))
        # the office edits its units, a calendar year and its configuration
        units = read(self.etc + "/units.xml").replace(
            "<name>Ủy ban nhân dân xã Phước Hội</name>", "<name>Ủy ban nhân dân phường Phước Hội</name>")
        write(self.etc + "/units.xml", units)
        cal = read(self.etc + "/calendar/2026.xml").replace(
            'name="Tết Dương lịch"', 'name="Tết Dương lịch (sửa tại cơ quan)"')
        write(self.etc + "/calendar/2026.xml", cal)
        conf = read(self.etc + "/vanthu.conf") + "; sửa tại cơ quan\n"
        write(self.etc + "/vanthu.conf", conf)
        out = make("install", self.dest)
        for f in ("units.xml", "calendar/2026.xml", "vanthu.conf"):
            self.assertIn(f"make install: kept the office's /etc/vanthu/{f}", out)
        self.assertEqual(read(self.etc + "/units.xml"), units)
        self.assertEqual(read(self.etc + "/calendar/2026.xml"), cal)
        self.assertEqual(read(self.etc + "/vanthu.conf"), conf)
        # a real vanthud, on what was installed, reads the office's edited files
        share = self.root + "/share/vanthu"
        d = Daemon(templates=share + "/templates", workflows=share + "/workflows",
                   extra=f"[paths]\nunits = {self.etc}/units.xml\ncalendar = {self.etc}/calendar\n")
        try:
            d.start()
            r = d.ctl("units", json_out=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            names = {u["code"]: u["name"] for u in r.json["result"]["units"]}
            self.assertEqual(names["XA-PHUOC-HOI"], "Ủy ban nhân dân phường Phước Hội")
            r = d.ctl("calendar", "explain", "2025-12-31", "1", json_out=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.json["result"]["days"][0]["reason"], "Tết Dương lịch (sửa tại cơ quan)")
            d.stop()
        finally:
            d.cleanup()
        # uninstall: the program goes, the office's files stay and are named
        out = make("uninstall", self.dest)
        self.assertFalse(os.path.exists(self.root + "/sbin/vanthud"))
        self.assertFalse(os.path.exists(self.root + "/share/man/man8/vanthud.8"))
        self.assertFalse(os.path.exists(self.root + "/share/vanthu"))
        self.assertEqual(read(self.etc + "/units.xml"), units)
        self.assertEqual(read(self.etc + "/calendar/2026.xml"), cal)
        self.assertEqual(read(self.etc + "/vanthu.conf"), conf)
        self.assertIn("make uninstall: left the office's files", out)
        for f in ("units.xml", "calendar/2026.xml", "calendar/2027.xml", "vanthu.conf"):
            self.assertIn(f"  /etc/vanthu/{f}\n", out)

    def test_units_edited_under_an_earlier_install_are_carried_over(self):
        # an install before this layout put units.xml under share/, where the office edited it
        old = self.root + "/share/vanthu/workflows"
        os.makedirs(old + "/calendar")
        units = read(REPO + "/workflows/units.xml").replace(
            "<short>UBND xã Phước Hội</short>", "<short>UBND P. Phước Hội</short>")
        write(old + "/units.xml", units)
        out = make("install", self.dest)
        self.assertIn("/etc/vanthu/units.xml: copied from the earlier install's", out)
        self.assertEqual(read(self.etc + "/units.xml"), units)
        # uninstall leaves the old copy too: it was the office's, not a program file
        out = make("uninstall", self.dest)
        self.assertEqual(read(old + "/units.xml"), units)
        self.assertIn(f"  {PREFIX}/share/vanthu/workflows/units.xml\n", out)


if __name__ == "__main__":
    unittest.main()
