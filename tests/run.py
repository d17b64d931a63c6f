#!/usr/bin/python3
"""run.py: runs every suite of `make check` and prints one closing line.

Unit suites are the cmocka binaries (TAP output, one line per test); the
end-to-end suites are the Python files in tests/e2e, which start the real
vanthud and drive it with the real vanthuctl. The last line is
"N passed, M failed" counted over all of them; the exit status is 1 when
anything failed.
"""
import argparse
import os
import re
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def run_unit(path):
    env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="TAP")
    proc = subprocess.run([path], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=600)
    out = proc.stdout.decode("utf-8", "replace")
    passed = len(re.findall(r"^ok \d+", out, re.M))
    failed = len(re.findall(r"^not ok \d+", out, re.M))
    name = os.path.basename(path)
    for line in out.splitlines():
        if line.startswith(("ok ", "not ok ")):
            print(f"{name}: {line}")
    if proc.returncode != 0 and failed == 0:
        # A crash or a sanitizer report after the tests ran: the suite fails.
        failed = 1
    if failed:
        print(out)
    return passed, failed


class CountingResult(unittest.TextTestResult):
    pass


def run_e2e(bindir):
    os.environ["VANTHU_BIN"] = os.path.abspath(bindir)
    sys.path.insert(0, os.path.join(HERE, "e2e"))
    suite = unittest.defaultTestLoader.discover(os.path.join(HERE, "e2e"), pattern="test_*.py",
                                               top_level_dir=os.path.join(HERE, "e2e"))
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=CountingResult)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    return passed, failed, skipped


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="folder of the sanitizer build")
    ap.add_argument("--unit", default="", help="unit test binaries to run")
    ap.add_argument("--e2e-only", action="store_true")
    args = ap.parse_args()
    passed = failed = skipped = 0
    start = time.time()
    if not args.e2e_only:
        for name in args.unit.split():
            p, f = run_unit(os.path.join(args.bin, name))
            passed += p
            failed += f
    sys.stdout.flush()
    p, f, s = run_e2e(args.bin)
    passed += p
    failed += f
    skipped += s
    print(f"# {time.time() - start:.1f} s")
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
