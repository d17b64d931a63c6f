#!/usr/bin/python3
"""intake.py: measures spool intake of the release vanthud (make bench).

- throughput: N valid reports dropped at once (renamed in), reports per
  second until the last receipt;
- latency: one report at a time on an idle daemon, drop to receipt, median
  and 99th percentile;
- the pipeline an administrator would otherwise script (xmllint --schema,
  then one sqlite3 INSERT per file) on the same files, and the ratio;
- peak RSS of vanthud (VmHWM).
Prints one Markdown table on stdout. Nothing here fails on a time.
"""
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from intake_util import report  # noqa: E402

import summary  # noqa: E402

VANTHUD = os.path.join(REPO, "build", "vanthud")


def start(root):
    conf = os.path.join(root, "vanthu.conf")
    with open(conf, "w") as fh:
        fh.write(f"""[paths]
spool = {root}/spool
database = {root}/vanthu.db
socket = {root}/run/vanthu.sock
templates = {REPO}/build/templates
workflows = {REPO}/workflows
[intake]
settle = 2000
rescan = 1000
batch = 1024
; each report names a round of its own, opened nowhere: the accepting path is measured
rounds = optional
[log]
level = warning
""")
    notify = os.path.join(root, "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(notify)
    ns.settimeout(30)
    proc = subprocess.Popen([VANTHUD, "-c", conf], env=dict(os.environ, NOTIFY_SOCKET=notify),
                            stderr=open(os.path.join(root, "log"), "w"))
    while b"READY=1" not in ns.recv(100):
        pass
    ns.close()
    return proc


def count_receipts(spool):
    n = 0
    for dirpath, _dirs, files in os.walk(os.path.join(spool, "receipts")):
        n += sum(1 for f in files if f.endswith(".receipt.xml"))
    return n


def status(sock):
    """The result of `status` on one open control connection (cheaper than a
    new connection each time, whose uid and role groups the daemon looks up)."""
    sock.sendall(b'{"cmd":"status"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("vanthud closed the connection")
        buf += chunk
    reply = json.loads(buf)
    if not reply.get("ok"):
        raise RuntimeError(reply)
    return reply["result"]


def inputs_done(sock):
    """Inputs recorded (cheaper to ask than listing receipts)."""
    return status(sock)["counts"]["inputs"]


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


# Folders of finished runs, removed only when every run is done: on an ext4
# without a journal (this machine's), creating a file looks past every inode
# freed in the last minutes (recently_deleted), and removing one run's 30,000
# files right before the next made that run's receipts pay for it.
LEFT = []


def throughput(n):
    root = tempfile.mkdtemp(prefix="vanthu-bench-")
    try:
        proc = start(root)
        staging = os.path.join(root, "staging")
        os.makedirs(staging)
        for i in range(n):
            with open(os.path.join(staging, f"r{i:05d}.xml"), "wb") as fh:
                fh.write(report(round=f"B{i}", value=i))
        inc = os.path.join(root, "spool", "incoming")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(os.path.join(root, "run", "vanthu.sock"))
        t0 = time.time()
        for name in os.listdir(staging):
            os.rename(os.path.join(staging, name), os.path.join(inc, name))
        while inputs_done(sock) < n:
            time.sleep(0.01)
        sock.close()
        # an input is answered when its receipt is in place: wait for the last ones
        while count_receipts(os.path.join(root, "spool")) < n:
            time.sleep(0.005)
        elapsed = time.time() - t0
        rss = peak_rss_kib(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        return n / elapsed, elapsed, rss
    finally:
        LEFT.append(root)


def latency(samples):
    root = tempfile.mkdtemp(prefix="vanthu-bench-")
    try:
        proc = start(root)
        spool = os.path.join(root, "spool")
        inc = os.path.join(spool, "incoming")
        rdir = os.path.join(spool, "receipts", "XA-PHUOC-HOI")
        times = []
        time.sleep(0.5)
        for i in range(samples):
            tmp = os.path.join(inc, f".l{i}.part")
            with open(tmp, "wb") as fh:
                fh.write(report(round=f"L{i}", value=i))
            want = f"l{i}.xml."
            t0 = time.perf_counter()
            os.rename(tmp, os.path.join(inc, f"l{i}.xml"))
            while True:
                try:
                    if any(f.startswith(want) for f in os.listdir(rdir)):
                        break
                except FileNotFoundError:
                    pass
                time.sleep(0.0005)
            times.append((time.perf_counter() - t0) * 1000)
        rss = peak_rss_kib(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        times.sort()
        return statistics.median(times), times[int(len(times) * 0.99) - 1], rss
    finally:
        LEFT.append(root)


def scripted(n):
    """xmllint --schema then sqlite3 INSERT, one process pair per file."""
    root = tempfile.mkdtemp(prefix="vanthu-bench-")
    try:
        db = os.path.join(root, "s.db")
        subprocess.run(["sqlite3", db, "PRAGMA journal_mode=WAL; CREATE TABLE r(name TEXT, "
                        "sha TEXT, body BLOB);"], check=True, capture_output=True)
        files = []
        for i in range(n):
            p = os.path.join(root, f"s{i}.xml")
            with open(p, "wb") as fh:
                fh.write(report(round=f"S{i}", value=i))
            files.append(p)
        schema = os.path.join(REPO, "workflows", "bao-cao", "schema.xsd")
        t0 = time.time()
        for p in files:
            subprocess.run(["xmllint", "--noout", "--schema", schema, p], check=True,
                           capture_output=True)
            subprocess.run(["sqlite3", db, f"PRAGMA synchronous=FULL; INSERT INTO r VALUES "
                            f"('{os.path.basename(p)}', '', readfile('{p}'));"],
                           check=True, capture_output=True)
        return n / (time.time() - t0)
    finally:
        LEFT.append(root)


def main():
    try:
        measure_all()
    finally:
        for root in LEFT:
            summary.discard(root)


def measure_all():
    rows = []
    r1k, t1k, rss1 = throughput(1000)
    r10k, t10k, rss2 = throughput(10000)
    med, p99, rss3 = latency(200)
    base = scripted(200)
    rows.append(("Intake, 1,000 reports at once", f"{r1k:,.0f} reports/s ({t1k:.2f} s)",
                 "≥ 2,000/s", f"{rss1 / 1024:.1f} MB"))
    rows.append(("Intake, 10,000 reports at once", f"{r10k:,.0f} reports/s ({t10k:.2f} s)",
                 "≥ 2,000/s", f"{rss2 / 1024:.1f} MB"))
    rows.append(("Scripted pipeline (xmllint --schema + sqlite3 per file)", f"{base:,.1f} reports/s",
                 "", ""))
    rows.append(("Intake ÷ scripted (10,000)", f"{r10k / base:,.0f}×", "≥ 20×", ""))
    rows.append(("Drop to receipt, idle daemon (200 reports)",
                 f"median {med:.1f} ms, p99 {p99:.1f} ms", "< 50 ms", f"{rss3 / 1024:.1f} MB"))
    summary.add("Intake: 1,000 reports at once", f"{r1k:,.0f} reports/s", "≥ 2,000/s", r1k >= 2000)
    summary.add("Intake: 10,000 reports at once", f"{r10k:,.0f} reports/s", "≥ 2,000/s",
                r10k >= 2000)
    summary.add("Intake ÷ scripted xmllint + sqlite3 (10,000)", f"{r10k / base:,.0f}×", "≥ 20×",
                r10k / base >= 20)
    summary.add("Intake: drop to receipt, idle", f"median {med:.1f} ms, p99 {p99:.1f} ms",
                "< 50 ms", p99 < 50)
    peak = max(rss1, rss2, rss3) / 1024
    summary.add("Intake: peak RSS of vanthud (all runs)", f"{peak:.1f} MB", "< 64 MB", peak < 64)
    print("| measure | result | target | peak RSS of vanthud |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
