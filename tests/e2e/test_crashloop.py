"""The crash loop (tests/crash/crashloop.py) for a few cycles, so that `make check` runs it.

`make soak` runs the same script for 50 cycles. A failure prints the
script's output: each violation by name, the seed to run it again with.
"""
import os
import random
import subprocess
import unittest

from harness import BIN, IS_ROOT, REPO

CRASHLOOP = os.path.join(REPO, "tests", "crash", "crashloop.py")


@unittest.skipUnless(IS_ROOT, "needs root: real role users act through vanthuctl")
class CrashLoop(unittest.TestCase):

    def test_sigkill_under_load_keeps_every_promise(self):
        seed = int(os.environ.get("VANTHU_CRASH_SEED", random.randrange(1 << 30)))
        proc = subprocess.run(["/usr/bin/python3", CRASHLOOP, "--cycles", "3", "--seed", str(seed),
                               "--bin", os.path.abspath(BIN)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        out = proc.stdout.decode("utf-8", "replace")
        self.assertEqual(proc.returncode, 0, f"crashloop --seed {seed} failed:\n{out[-20000:]}")
        self.assertIn("crashloop: OK", out)
