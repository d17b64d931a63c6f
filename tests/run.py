#!/usr/bin/python3
"""run.py: runs every suite of `make check` and prints one closing line.

Unit suites are the cmocka binaries (TAP output, one line per test); the
end-to-end suites are the Python files in tests/e2e, which start the real
vanthud and drive it with the real vanthuctl. The last line is
"N passed, M failed" counted over all of them; the exit status is 1 when
anything failed.

With --fuzz, each libFuzzer target of tests/fuzz first replays every input
of tests/fuzz/regress/TARGET/ and then fuzzes for --fuzz-seconds on
tests/fuzz/corpus/TARGET/ (new inputs go to FUZZ_BIN/corpus/TARGET/, crashes
to FUZZ_BIN/crashes/TARGET/), two targets at a time; each target counts as
one test.
"""
import argparse
import concurrent.futures
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


# -max_len of each target: a report or a template part is some KB, a request or a config less.
FUZZ_MAX_LEN = {"fuzz_report": 16384, "fuzz_request": 16384, "fuzz_template": 65536,
                "fuzz_config": 4096, "fuzz_pdf": 65536}
FUZZ_FLAGS = ["-rss_limit_mb=2048", "-timeout=10"]


def fuzz_env():
    env = dict(os.environ)
    # Later options win: leaks are always failures, whatever the caller set.
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=1:allocator_may_return_null=1"
    env["UBSAN_OPTIONS"] = env.get("UBSAN_OPTIONS", "") + ":print_stacktrace=1:halt_on_error=1"
    env["VANTHU_SRCDIR"] = os.path.dirname(HERE)
    return env


def fuzz_tail(out, lines=60):
    """The end of libFuzzer's output, where the sanitizer's report is."""
    return "\n".join(out.splitlines()[-lines:])


def run_fuzz_target(fuzzbin, name, seconds):
    """Replays the regressions, then fuzzes. (passed, report lines)."""
    exe = os.path.join(fuzzbin, name)
    max_len = f"-max_len={FUZZ_MAX_LEN.get(name, 8192)}"
    report = []
    if not os.access(exe, os.X_OK):
        return False, [f"{name}: not ok: {exe} is missing (make {exe})"]
    env = fuzz_env()
    regress = os.path.join(HERE, "fuzz", "regress", name)
    inputs = sorted(os.path.join(regress, f) for f in os.listdir(regress)) \
        if os.path.isdir(regress) else []
    inputs = [f for f in inputs if os.path.isfile(f)]
    if inputs:
        proc = subprocess.run([exe, max_len] + FUZZ_FLAGS + inputs, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        if proc.returncode != 0:
            out = proc.stdout.decode("utf-8", "replace")
            bad = re.findall(r"^Running: (\S+)", out, re.M)
            report.append(f"{name}: not ok: regression input {bad[-1] if bad else '?'} fails")
            report.append(fuzz_tail(out))
            return False, report
    work = os.path.join(fuzzbin, "corpus", name)
    crashes = os.path.join(fuzzbin, "crashes", name)
    os.makedirs(work, exist_ok=True)
    os.makedirs(crashes, exist_ok=True)
    cmd = [exe, max_len] + FUZZ_FLAGS + [f"-max_total_time={seconds}", "-print_final_stats=1",
                                         f"-artifact_prefix={crashes}/"]
    dictionary = os.path.join(HERE, "fuzz", name + ".dict")
    if os.path.isfile(dictionary):
        cmd.append(f"-dict={dictionary}")
    # New inputs go to the first folder: build/, never the committed corpus.
    cmd += [work, os.path.join(HERE, "fuzz", "corpus", name)]
    start = time.time()
    try:
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=seconds * 3 + 300)
        out, rc = proc.stdout.decode("utf-8", "replace"), proc.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = (e.stdout or b"").decode("utf-8", "replace"), -1
    took = time.time() - start
    runs = re.findall(r"^stat::number_of_executed_units:\s*(\d+)", out, re.M)
    speed = re.findall(r"^stat::average_exec_per_sec:\s*(\d+)", out, re.M)
    cov = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)", out)
    stats = (f"{runs[-1] if runs else '?'} runs, {speed[-1] if speed else '?'} exec/s, "
             f"cov {cov[-1][0] if cov else '?'}, ft {cov[-1][1] if cov else '?'}, "
             f"corpus {cov[-1][2] if cov else '?'}, {took:.0f} s")
    if rc != 0:
        found = re.findall(r"Test unit written to (\S+)", out)
        report.append(f"{name}: not ok: {stats}")
        report.append(fuzz_tail(out))
        if found:
            report.append(f"{name}: reproducer: {found[-1]}")
            report.append(f"{name}: replay with: {exe} {found[-1]}")
        return False, report
    report.append(f"{name}: ok: {stats}")
    return True, report


def run_fuzz(fuzzbin, names, seconds):
    """Every target, two at a time (the test machine has two cores)."""
    passed = failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(run_fuzz_target, fuzzbin, n, seconds) for n in names]
        for fut in futures:
            ok, report = fut.result()
            print("\n".join(report))
            sys.stdout.flush()
            passed += ok
            failed += not ok
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
    ap.add_argument("--bin", help="folder of the sanitizer build")
    ap.add_argument("--unit", default="", help="unit test binaries to run")
    ap.add_argument("--e2e-only", action="store_true")
    ap.add_argument("--fuzz", default="", help="libFuzzer binaries to run (tests/fuzz)")
    ap.add_argument("--fuzz-bin", default="build/fuzz", help="folder of the fuzz binaries")
    ap.add_argument("--fuzz-seconds", type=int, default=30, help="how long each target fuzzes")
    ap.add_argument("--fuzz-only", action="store_true", help="run the fuzz targets alone")
    args = ap.parse_args()
    if not args.fuzz_only and not args.bin:
        ap.error("--bin is required (unless --fuzz-only)")
    passed = failed = skipped = 0
    start = time.time()
    if not args.e2e_only and not args.fuzz_only:
        for name in args.unit.split():
            p, f = run_unit(os.path.join(args.bin, name))
            passed += p
            failed += f
    if args.fuzz and not args.e2e_only:
        fstart = time.time()
        p, f = run_fuzz(args.fuzz_bin, args.fuzz.split(), args.fuzz_seconds)
        print(f"# fuzzing: {time.time() - fstart:.1f} s")
        passed += p
        failed += f
    sys.stdout.flush()
    if not args.fuzz_only:
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
