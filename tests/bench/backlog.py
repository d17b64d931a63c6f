#!/usr/bin/python3
"""backlog.py: a clerk's `status` while 100,000 reports wait (make bench).

Writes N valid reports (VANTHU_BACKLOG, default 100,000) into spool/incoming
of a stopped release vanthud, as after a long outage or a mass upload, then
starts it. While it works through them, one connection asks `status` every
50 ms and the peak RSS (VmHWM) is read; the table gives status's median,
99th percentile and worst time, memory at the start, the peak, and the time
until every input has its receipt. Nothing here fails on a time.
"""
import os
import signal
import socket
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from intake import count_receipts, peak_rss_kib, report, start, status  # noqa: E402
import summary  # noqa: E402

N = int(os.environ.get("VANTHU_BACKLOG", "100000"))


def main():
    root = tempfile.mkdtemp(prefix="vanthu-backlog-")
    try:
        # the daemon makes its folders; start it once, stop it, then fill incoming/
        proc = start(root)
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        inc = os.path.join(root, "spool", "incoming")
        t0 = time.time()
        for i in range(N):
            with open(os.path.join(inc, f"b{i:06d}.xml"), "wb") as fh:
                fh.write(report(round=f"BL{i}", value=i))
        print(f"backlog: {N:,} files written in {time.time() - t0:.0f} s", file=sys.stderr)
        os.unlink(os.path.join(root, "notify.sock"))
        t0 = time.time()
        proc = start(root)
        started = time.time() - t0
        rss_start = peak_rss_kib(proc.pid)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(os.path.join(root, "run", "vanthu.sock"))
        lat = []
        while True:
            q0 = time.perf_counter()
            st = status(sock)
            lat.append((time.perf_counter() - q0) * 1000)
            if st["counts"]["inputs"] >= N:
                break
            time.sleep(0.05)
        while count_receipts(os.path.join(root, "spool")) < N:
            time.sleep(0.05)
        drained = time.time() - t0
        rss_peak = peak_rss_kib(proc.pid)
        sock.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)
        lat.sort()
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        summary.add(f"Backlog: `status` while {N:,} reports wait",
                    f"median {statistics.median(lat):.2f} ms, p99 {p99:.2f} ms, "
                    f"worst {lat[-1]:.2f} ms", "< 200 ms", lat[-1] < 200)
        summary.add("Backlog: peak RSS of vanthud", f"{rss_peak / 1024:.1f} MB", "< 64 MB",
                    rss_peak / 1024 < 64)
        print("| measure | result | target |")
        print("|---|---|---|")
        print(f"| `status` while {N:,} reports wait ({len(lat):,} requests, one every 50 ms) | "
              f"median {statistics.median(lat):.2f} ms, p99 {p99:.2f} ms, worst {lat[-1]:.2f} ms | "
              "< 200 ms |")
        print(f"| start to READY with {N:,} waiting | {started:.2f} s | |")
        print(f"| every input answered (start to last receipt) | {drained:.0f} s, "
              f"{N / drained:,.0f} reports/s | |")
        print(f"| RSS of vanthud: at READY, peak | {rss_start / 1024:.1f} MB, "
              f"{rss_peak / 1024:.1f} MB | < 64 MB |")
    finally:
        summary.discard(root)


if __name__ == "__main__":
    main()
