#!/usr/bin/python3
"""queries.py: how a clerk's queries grow with the store (make bench).

Builds stores of 10,000, 100,000 and 1,000,000 outgoing documents with their
history, then times, over one control-socket connection to the release
vanthud, the requests a clerk makes all day:
- `show ID` for random documents;
- `list --limit 50` (the newest page), and a page further back (`--before`);
- `list --state review --limit 50` (a reviewer's queue: few rows among many);
- `history ID` for random documents;
- `status`.
Each is reported as median and 99th percentile, with the daemon's start time
(which runs quick_check) and its peak RSS (VmHWM).

The first documents are made for real: vanthuctl creates them and the real
role users take one through draft, review, signing and issue, so every
column, the revision, the register entry and the six history entries have
the daemon's own shape. The rest are copies of those rows made in SQL with
the daemon stopped (new ids, numbers and hashes); the copied audit entries
carry random hashes, so this store's chain does not verify, which no query
here looks at. Nothing here fails on a time.
Prints one Markdown table on stdout; progress goes to stderr.
"""
import json
import os
import random
import socket
import sqlite3
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
os.environ.setdefault("VANTHU_BIN", os.path.join(REPO, "build"))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from harness import Daemon  # noqa: E402

import summary  # noqa: E402
from intake import peak_rss_kib  # noqa: E402

SIZES = [int(s) for s in os.environ.get("VANTHU_BENCH_SIZES", "10000,100000,1000000").split(",")]
EXAMPLE = os.path.join(REPO, "workflows", "thong-bao", "examples", "tb-chuyen-doi-so.xml")
# An office's store is mostly finished documents: one copy in 500 is still in
# flight (draft, review, signing, signed in turn), one in 25 was withdrawn, the
# rest are issued. A reviewer's queue is a few rows among very many.
IN_FLIGHT = ["draft", "review", "signing", "signed"]


def state_of(i, rng):
    if i % 500 == 0:
        return IN_FLIGHT[(i // 500) % len(IN_FLIGHT)]
    return "withdrawn" if rng.random() < 0.04 else "issued"


def say(*a):
    print(*a, file=sys.stderr, flush=True)


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""

    def call(self, cmd, **args):
        self.s.sendall(json.dumps({"cmd": cmd, "args": args}).encode() + b"\n")
        while b"\n" not in self.buf:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise EOFError("vanthud closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        reply = json.loads(line)
        if not reply.get("ok"):
            raise RuntimeError(f"{cmd} {args}: {reply}")
        return reply["result"]

    def close(self):
        self.s.close()


def seed(d):
    """One issued and one draft document, made by the real client as the real users."""
    xml = os.path.join(d.root, "tb.xml")
    with open(EXAMPLE, encoding="utf-8") as fh:
        open(xml, "w", encoding="utf-8").write(fh.read())
    os.chmod(xml, 0o644)
    ids = []
    for _ in range(2):
        r = d.ctl("new", "thong-bao", xml, user="vtt-ana", json_out=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        ids.append(r.json["result"]["id"])
    for user, action in [("vtt-ana", "submit"), ("vtt-binh", "approve"), ("vtt-chi", "sign"),
                         ("vtt-dung", "issue")]:
        r = d.ctl(action, str(ids[0]), user=user)
        if r.returncode != 0:
            raise RuntimeError(f"{action}: {r.stderr}")
    return ids


def grow(db, target):
    """Copies the seed rows until the store holds `target` documents."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    have = con.execute("SELECT max(id) FROM documents").fetchone()[0]
    if have >= target:
        con.close()
        return
    cols = [r[1] for r in con.execute("PRAGMA table_info(documents)") if r[1] != "id"]
    audit_cols = ["at", "uid", "actor", "action", "detail"]
    t0 = time.time()
    rng = random.Random(target)
    step = 50000
    with con:
        number = con.execute("SELECT coalesce(max(number), 0) FROM register").fetchone()[0]
        for lo in range(have + 1, target + 1, step):
            hi = min(lo + step - 1, target)
            docs, regs = [], []
            for i in range(lo, hi + 1):
                state = state_of(i, rng)
                if state == "issued":
                    number += 1
                    regs.append((i, number))
                docs.append((i, state, number if state == "issued" else None))
            con.execute("CREATE TEMP TABLE IF NOT EXISTS plan (id INTEGER PRIMARY KEY, "
                        "state TEXT, number INTEGER)")
            con.execute("DELETE FROM plan")
            con.executemany("INSERT INTO plan VALUES (?,?,?)", docs)
            # documents: the issued seed for issued copies, the draft seed for the others
            sel = ", ".join(
                "p.state" if c == "state" else
                "p.number" if c == "number" else
                "CASE WHEN p.number IS NULL THEN NULL ELSE printf('%02d/TB-UBND', p.number) END"
                if c == "symbol" else
                f"CASE WHEN p.state = 'issued' THEN i.{c} ELSE r.{c} END" for c in cols)
            con.execute(f"INSERT INTO documents (id, {', '.join(cols)}) SELECT p.id, {sel} "
                        "FROM plan p, documents i, documents r WHERE i.id = 1 AND r.id = 2")
            con.execute("INSERT INTO revisions SELECT p.id, v.revision, v.author_uid, v.author, v.at, "
                        "v.sha256, v.content FROM plan p, revisions v WHERE v.document_id = 1")
            con.execute("INSERT INTO register (body, series, year, term, type, number, "
                        "document_id, symbol, issued_on, "
                        "kind, summary, signer_name, recipients, archive, issued_by, issued_at) "
                        "SELECT g.body, g.series, g.year, g.term, g.type, p.number, p.id, "
                        "printf('%02d/TB-UBND', p.number), "
                        "g.issued_on, g.kind, g.summary, g.signer_name, g.recipients, g.archive, "
                        "g.issued_by, g.issued_at FROM plan p, register g "
                        "WHERE p.number IS NOT NULL AND g.document_id = 1")
            # history: the issued seed's six entries, or the draft's first, per copy
            con.execute(f"INSERT INTO audit ({', '.join(audit_cols)}, object, prev_hash, hash) "
                        f"SELECT {', '.join('a.' + c for c in audit_cols)}, 'document/' || p.id, "
                        "lower(hex(randomblob(32))), lower(hex(randomblob(32))) "
                        "FROM plan p JOIN audit a ON a.object = CASE WHEN p.state = 'issued' "
                        "THEN 'document/1' ELSE 'document/2' END ORDER BY p.id, a.id")
            say(f"  {hi:,} documents ({time.time() - t0:.0f} s)")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def timed(fn, n):
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    out.sort()
    return statistics.median(out), out[min(len(out) - 1, int(len(out) * 0.99))]


def measure(d, n):
    t0 = time.time()
    d.start(wait=False)
    d.wait_ready(timeout=1800)
    started = time.time() - t0
    c = Conn(d.socket)
    rng = random.Random(n)
    ids = lambda: rng.randint(1, n)  # noqa: E731
    c.call("show", id=ids())  # warm the caches once, as a running office's would be
    rows = {
        "show ID": timed(lambda: c.call("show", id=ids()), 2000),
        "list --limit 50": timed(lambda: c.call("list", limit=50), 500),
        "list --limit 50 --before ID": timed(lambda: c.call("list", limit=50, before=ids()), 500),
        "list --state review --limit 50": timed(lambda: c.call("list", state="review", limit=50), 200),
        "history ID": timed(lambda: c.call("history", id=ids()), 1000),
        "status": timed(lambda: c.call("status"), 200),
    }
    got = c.call("list", limit=50)["documents"]
    assert len(got) == 50 and got[0]["id"] == n, got[:1]
    assert c.call("list", state="review", limit=50)["documents"][0]["state"] == "review"
    assert len(c.call("history", id=1)["history"]) == 6
    c.close()
    rss = peak_rss_kib(d.proc.pid) / 1024
    d.stop()
    dbsize = os.path.getsize(d.db) / 1e9
    return started, rows, rss, dbsize


def main():
    d = Daemon()
    # a clerk's office logs warnings; the tests' debug level would log every request
    with open(d.conf, encoding="utf-8") as fh:
        conf = fh.read().replace("level = debug", "level = warning")
    with open(d.conf, "w", encoding="utf-8") as fh:
        fh.write(conf)
    results = []
    try:
        d.start()
        seed(d)
        d.stop()
        for n in SIZES:
            say(f"queries: growing the store to {n:,} documents")
            grow(d.db, n)
            say(f"queries: measuring at {n:,}")
            results.append((n, *measure(d, n)))
    finally:
        if d.proc and d.proc.poll() is None:
            d.kill()
        d.cleanup()
    names = list(results[0][2].keys())
    head = "| request | " + " | ".join(f"{n:,} documents" for n, *_ in results) + " | target |"
    print(head)
    print("|---" * (len(results) + 2) + "|")
    for name in names:
        cells = [f"median {r[2][name][0]:.2f} ms, p99 {r[2][name][1]:.2f} ms" for r in results]
        target = "p99 < 2 ms at 1,000,000" if name in ("show ID", "list --limit 50") else ""
        print(f"| `{name}` | " + " | ".join(cells) + f" | {target} |")
    print("| start (quick_check) to READY | " + " | ".join(f"{r[1]:.2f} s" for r in results) + " | |")
    print("| database size | " + " | ".join(f"{r[4]:.2f} GB" for r in results) + " | |")
    print("| peak RSS of vanthud | " + " | ".join(f"{r[3]:.1f} MB" for r in results) + " | < 64 MB |")
    print()
    first, last = results[0], results[-1]
    for name in ("show ID", "list --limit 50"):
        med, p99 = last[2][name]
        summary.add(f"Query `{name}` at {last[0]:,} documents",
                    f"median {med:.2f} ms, p99 {p99:.2f} ms", "p99 < 2 ms", p99 < 2)
    summary.add(f"Queries: growth of the worst p99 from {first[0]:,} to {last[0]:,} documents",
                f"{max(v[1] for v in first[2].values()):.2f} → "
                f"{max(v[1] for v in last[2].values()):.2f} ms (`history`, `status`, filtered list "
                "included)")
    peak = max(r[3] for r in results)
    summary.add("Queries: peak RSS of vanthud (all sizes)", f"{peak:.1f} MB", "< 64 MB", peak < 64)
    grow_by = last[0] / first[0]
    print(f"From {first[0]:,} to {last[0]:,} documents ({grow_by:,.0f}× the rows), the p99 of "
          + ", ".join(f"`{k}` went {first[2][k][1]:.2f} → {last[2][k][1]:.2f} ms" for k in names) + ".")


if __name__ == "__main__":
    main()
