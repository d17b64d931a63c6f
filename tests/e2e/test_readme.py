"""The README's samples are a real run: each is replayed and compared.

A sample is a fenced block of README.md whose first line is a prompt:
"$ " is the administrator under `make run` (root, who is always admin), and
"vtt-ana$ ", "vtt-binh$ " ... are the test users of harness.py (vtt-ana
drafts, vtt-binh reviews, and so on). The lines up to the next prompt are what the command
prints. Every sample runs, in the README's order, on one real vanthud with a
fresh database, so the numbers (receipt 1, report 1, document 1) are the
README's. Only what differs from run to run is normalised, each by a rule
of NORMALISE below: times and dates of today, the pid, the uptime, the
database's path and size, the spool and configuration paths. The rest —
counts, schema version, SHA-256 and size of an example, numbers, names,
states — must be exactly what the README shows.

Commands it knows: vanthuctl (or build/vanthuctl), and cp, mv, ls, cat
within spool/ (cp from the repository), as the README's intake sample uses.
"""
import os
import re
import shlex
import shutil
import subprocess
import time
import unittest

from harness import REPO, SAN_ENV, VANTHUCTL, DaemonTest, as_user

README = os.path.join(REPO, "README.md")
PROMPT = re.compile(r"^((?:vtt-[a-z]+)?)\$ (.*)$")

# (pattern, replacement): applied to the README's text and to the real output alike.
NORMALISE = [
    (re.compile(r"\(pid \d+\)"), "(pid N)"),
    (re.compile(r"^(Thời gian chạy:\s+).*$"), r"\1<uptime>"),
    (re.compile(r"^(Cơ sở dữ liệu:\s+)\S+ \([\d.,]+ [KMG]?B, "), r"\1<path> (<size>, "),
    (re.compile(r"^(Thư mục tiếp nhận:\s+).*$"), r"\1<spool>"),
    (re.compile(r"^(Tệp cấu hình:\s+).*$"), r"\1<config>"),
    (re.compile(r"\d\d:\d\d:\d\d ngày \d\d/\d\d/\d{4}"), "<time> ngày <date>"),
    (re.compile(r"\d\d/\d\d/\d{4} \d\d:\d\d"), "<date> <time>"),
]


def normalise(lines):
    out = []
    for line in lines:
        line = line.rstrip()
        for pattern, repl in NORMALISE:
            line = pattern.sub(repl, line)
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return out


def samples(text):
    """[(block's first line number, [(user, command, [expected lines])])] of every prompt block."""
    found = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            start = i + 1
            j = start
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            body = lines[start:j]
            if body and PROMPT.match(body[0]):
                steps = []
                for line in body:
                    m = PROMPT.match(line)
                    if m:
                        steps.append((m.group(1), m.group(2), []))
                    else:
                        steps[-1][2].append(line)
                found.append((start + 1, steps))
            i = j + 1
        else:
            i += 1
    return found


class Readme(DaemonTest):
    # what `make run` runs on: the embedded default's intake, which takes reports only for
    # rounds opened in vanthu (the harness takes any, for the intake tests)
    config = {"intake_rounds": "required"}

    def spool_path(self, arg):
        self.assertTrue(arg.startswith("spool/"), f"a README sample works outside spool/: {arg}")
        return os.path.join(self.d.spool, arg[len("spool/"):])

    def wait_for(self, path):
        """A receipt is written a moment after the drop: wait for it (never a failure on time)."""
        deadline = time.time() + 60
        while not os.path.exists(path) and time.time() < deadline:
            time.sleep(0.05)

    def run_step(self, user, command):
        args = shlex.split(command)
        if args[0] in ("vanthuctl", "build/vanthuctl"):
            login = user or None
            r = subprocess.run([VANTHUCTL, "-s", self.d.socket, *args[1:]], capture_output=True,
                               timeout=60, cwd=REPO, env=dict(os.environ, **SAN_ENV),
                               preexec_fn=as_user(login) if login else None)
            return (r.stdout + r.stderr).decode("utf-8")
        self.assertEqual(user, "", f"only the administrator's prompt runs {args[0]}")
        if args[0] == "cp":
            shutil.copyfile(os.path.join(REPO, args[1]), self.spool_path(args[2]))
            return ""
        if args[0] == "mv":
            os.rename(self.spool_path(args[1]), self.spool_path(args[2]))
            return ""
        if args[0] == "ls":
            path = self.spool_path(args[1])
            self.wait_for(path)

            def shown():   # as ls shows them: no dot-files (a receipt being written is one)
                return sorted(n for n in os.listdir(path) if not n.startswith("."))
            # both files of each receipt: the .xml is renamed in after the .txt
            deadline = time.time() + 60
            while (not shown() or len(shown()) % 2) and time.time() < deadline:
                time.sleep(0.05)
            return "".join(n + "\n" for n in shown())
        if args[0] == "cat":
            path = self.spool_path(args[1])
            self.wait_for(path)
            with open(path, encoding="utf-8") as fh:
                return fh.read()
        self.fail(f"README sample command this test cannot run: {command}")

    def test_samples_match_a_real_run(self):
        with open(README, encoding="utf-8") as fh:
            blocks = samples(fh.read())
        commands = [c for _, steps in blocks for _, c, _ in steps]
        # the samples the README must keep (issue 14): status, whoami, a receipt, a document
        for needed in ("vanthuctl status", "vanthuctl whoami", "cat spool/receipts/",
                       "vanthuctl new cong-van", "vanthuctl show"):
            self.assertTrue(any(needed in c for c in commands), f"README has no sample of {needed}")
        for line_no, steps in blocks:
            for user, command, expected in steps:
                with self.subTest(line=line_no, command=command):
                    raw = self.run_step(user, command)
                    got = normalise(raw.splitlines())
                    want = normalise(expected)
                    self.assertEqual(want, got, f"README.md:{line_no}: `{command}` prints "
                                     "otherwise today; update the sample from this real output:\n"
                                     + raw)


class Normalising(unittest.TestCase):
    """The rules normalise only what varies: a sample with a wrong count still differs."""

    def test_rules(self):
        a = normalise(["vanthud 0.1.0 đang chạy (pid 3264)", "Thời gian chạy:      3 phút 12 giây",
                       "Cơ sở dữ liệu:       /x/vanthu.db (24,1 KB, lược đồ 1)",
                       "Nhận lúc:   15:56:04 ngày 22/11/2026 (giờ Việt Nam)"])
        b = normalise(["vanthud 0.1.0 đang chạy (pid 99)", "Thời gian chạy:      2 giây",
                       "Cơ sở dữ liệu:       /tmp/y.db (233,4 KB, lược đồ 1)",
                       "Nhận lúc:   01:11:22 ngày 05/12/2026 (giờ Việt Nam)"])
        self.assertEqual(a, b)
        self.assertNotEqual(normalise(["Cơ sở dữ liệu:       /x (1 KB, lược đồ 1)"]),
                            normalise(["Cơ sở dữ liệu:       /x (1 KB, lược đồ 9)"]))
        self.assertNotEqual(normalise(["Kích thước: 7154 byte"]), normalise(["Kích thước: 4497 byte"]))


if __name__ == "__main__":
    unittest.main()
