#!/usr/bin/python3
"""exchange.py: measures the exchange between offices in the release vanthud (make bench).

On loopback, as tests/e2e/test_exchange_cluster.py: three nats-server with JetStream (the
stream has 3 replicas) and a leaf node per office (tests/tools/natscluster.py); two offices
(tests/e2e/exchange_util.Office on the release build/vanthud and build/vanthuctl: the
province sends, the department receives), each with its own PKI, SoftHSM tokens, spool and
database, logging at warning.

Documents are taken to `signing` over one open connection per user (new, submit, approve),
then signed by the leader in batches (`vanthuctl sign ID ID ... --pkcs11`, one PIN), so that
nothing measured below renders a PDF:
- latency, idle: N_LAT documents (VANTHU_BENCH_XCH_LAT, default 50) issued one at a time by
  the clerk over one open connection; the clock starts when `issue` answers (the
  organisation's signature and seal are on the PDF, its deliveries and outbox committed) and
  stops when the receiver's register has it: a second open connection to the receiver's
  socket asks `status` in a tight loop (every 0.5 ms) and the arrival is the first answer
  whose exchange.received counter went up (incremented after the arrival's transaction
  committed). The receiver's own arrived_at (taken before it keeps the files and commits) is
  compared with the same wall clock as a check;
- throughput: the sender's leaf node is SIGKILLed (its link down), N_TP documents
  (VANTHU_BENCH_XCH_TP, default 1,000) are issued into the outbox, the leaf node is started
  again; packages per second = N_TP / (last registered at the receiver - the sender's link
  up again), with the reconnection apart. Afterwards: the receiver's register holds N_TP +
  N_LAT distinct DocumentIds numbered 1..n, nothing was refused, both outboxes drain.
Needs root (it acts as the test users). VANTHU_BENCH_XCH_KEEP=1 keeps its folder;
VANTHU_BENCH_XCH_PERF=FILE records `perf record -a -g` into FILE during the throughput run
(FILE.txt: `perf trace -s` of the receiver's system calls instead). Prints
Markdown tables on stdout. Nothing here fails on a time.
"""
import atexit
import base64
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
# the release build, not build/san: set before harness reads it
os.environ["VANTHU_BIN"] = os.path.join(REPO, "build")
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
sys.path.insert(0, os.path.join(REPO, "tests", "tools"))
from harness import IS_ROOT, request  # noqa: E402
from exchange_util import DEPARTMENT_ID, PROVINCE_ID, Office, make_pkis  # noqa: E402
from natscluster import Cluster  # noqa: E402
from test_workflow import Relay  # noqa: E402

import summary  # noqa: E402

N_LAT = int(os.environ.get("VANTHU_BENCH_XCH_LAT", "50"))
N_TP = int(os.environ.get("VANTHU_BENCH_XCH_TP", "1000"))
SIGN_BATCH = 100
TARGET_MEDIAN_MS = 200
TARGET_TP = 200


def stats(xs):
    s = sorted(xs)
    n = len(s)
    med = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    return med, s[max(math.ceil(n * 0.99) - 1, 0)]


def ms(x):
    return f"{x * 1000:,.0f} ms" if x >= 0.1 else f"{x * 1000:.1f} ms"


def mp(xs):
    med, p99 = stats(xs)
    return f"median {ms(med)}, p99 {ms(p99)}"


def iso_epoch(iso):
    """'2026-12-04T23:07:09.123Z' as seconds since the epoch."""
    base, frac = iso.rstrip("Z").split(".")
    t = time.mktime(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) - time.timezone
    return t + int(frac) / 1000


class Watch:
    """One open connection to an office's socket (as root: admin)."""

    def __init__(self, office):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(office.d.socket)

    def ask(self, cmd, **args):
        r = request(self.s, cmd, **args)
        if not r.get("ok"):
            raise RuntimeError(f"{cmd}: {r}")
        return r["result"]

    def exchange(self):
        return self.ask("status")["exchange"]

    def close(self):
        self.s.close()


def quiet(office):
    """As the other benchmarks: the daemon logs at warning, not the tests' debug."""
    with open(office.d.conf, encoding="utf-8") as fh:
        conf = fh.read()
    with open(office.d.conf, "w", encoding="utf-8") as fh:
        fh.write(conf.replace("level = debug", "level = warning"))


def prepare(sender, relays, n, tag):
    """n documents to SO-TTTT taken to `signing`, then signed by the leader; their ids."""
    with open(sender.doc_file("x", ["SO-TTTT"]), encoding="utf-8") as fh:
        template = fh.read()
    docs = []
    for i in range(n):
        xml = template.replace("<summary>x</summary>",
                               f"<summary>Thông báo {tag} số {i + 1} về chuyển đổi số</summary>")
        r = relays["vtt-ana"].call("new", kind="thong-bao",
                                   content=base64.b64encode(xml.encode()).decode())
        if not r["ok"]:
            raise RuntimeError(f"new: {r}")
        doc = r["result"]["id"]
        for user, action in (("vtt-ana", "submit"), ("vtt-binh", "approve")):
            r = relays[user].call("act", id=doc, action=action)
            if not r["ok"]:
                raise RuntimeError(f"{action} {doc}: {r}")
        docs.append(doc)
    for i in range(0, n, SIGN_BATCH):
        batch = [str(d) for d in docs[i:i + SIGN_BATCH]]
        r = sender.ctl("sign", *batch, "--pkcs11", sender.pki["module"], "--token", "lanh-dao",
                       "--pin-file", sender.leader_pin, user="vtt-chi", timeout=3600)
        if r.returncode != 0:
            raise RuntimeError(f"sign {batch[0]}..: {r.stdout}{r.stderr}")
    return docs


def issue(relays, doc):
    r = relays["vtt-dung"].call("act", id=doc, action="issue")
    if not r["ok"] or "publish_error" in r["result"]:
        raise RuntimeError(f"issue {doc}: {r}")


def all_incoming(w):
    out, before = [], 0
    while True:
        args = {"limit": 1000}
        if before:
            args["before"] = before
        page = w.ask("incoming", **args)["incoming"]
        if not page:
            return out
        out += page
        before = min(e["id"] for e in page)


def measure(top):
    res = {"n_lat": N_LAT, "n_tp": N_TP}
    cluster = Cluster(os.path.join(top, "nats"), size=3, leaves=2).start()
    infos, trust = make_pkis(top, ["tinh", "so"])

    def office(name, org_name, abbrev, org_id, units, leaf):
        o = Office(top, name, org_name=org_name, abbrev=abbrev, org_id=org_id, units=units,
                   info=infos[name], trust=trust,
                   exchange={"transport": "nats", "servers": cluster.url(leaf), "replicas": 3})
        quiet(o)
        return o
    tinh = office("tinh", "Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu", "UBND", PROVINCE_ID,
                  ["SO-TTTT"], "leaf1")
    so = office("so", "Sở Thông tin và Truyền thông", "STTTT", DEPARTMENT_ID, ["UBND-TINH"],
                "leaf2")
    relays, watches = {}, []
    try:
        so.start(ready_timeout=300)
        tinh.start(ready_timeout=300)
        relays = {n: Relay(tinh.d.socket, n) for n in ("vtt-ana", "vtt-binh", "vtt-dung")}
        rx = Watch(so)
        tx = Watch(tinh)
        watches = [rx, tx]

        t0 = time.perf_counter()
        lat_docs = prepare(tinh, relays, N_LAT, "độ trễ")
        tp_docs = prepare(tinh, relays, N_TP, "thông lượng")
        res["prepare_s"] = time.perf_counter() - t0

        # ---- latency, one at a time on an idle system
        lat, issue_t, own = [], [], []
        for doc in lat_docs:
            time.sleep(0.2)
            base = rx.exchange()["received"]
            t_req = time.perf_counter()
            issue(relays, doc)
            t_ret = time.perf_counter()
            wall_ret = time.time()
            while rx.exchange()["received"] <= base:
                time.sleep(0.0005)
            t_arr = time.perf_counter()
            lat.append(t_arr - t_ret)
            issue_t.append(t_ret - t_req)
            newest = rx.ask("incoming", limit=1)["incoming"][0]
            own.append(iso_epoch(newest["arrived_at"]) - wall_ret)
        res["lat"], res["issue"], res["own"] = lat, issue_t, own

        # ---- throughput: 1,000 issued while the sender's link is down, then the link up
        cluster.kill("leaf1")
        deadline = time.time() + 30
        while tx.exchange()["up"] and time.time() < deadline:
            time.sleep(0.05)
        t0 = time.perf_counter()
        for doc in tp_docs:
            issue(relays, doc)
        res["issue_all_s"] = time.perf_counter() - t0
        res["outbox_before"] = tx.exchange()["outbox"]
        base = rx.exchange()["received"]
        perf = None
        if os.environ.get("VANTHU_BENCH_XCH_PERF"):  # a profile of the whole machine meanwhile
            out = os.environ["VANTHU_BENCH_XCH_PERF"]
            if out.endswith(".txt"):  # the receiver's system calls, summed (perf trace -s)
                cmd = ["perf", "trace", "-s", "-p", str(so.d.proc.pid), "-o", out]
            else:
                cmd = ["perf", "record", "-F", "499", "-a", "-g", "-o", out]
            perf = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        t_restart = time.perf_counter()
        cluster.restart("leaf1")
        while not tx.exchange()["up"]:
            time.sleep(0.001)
        t_up = time.perf_counter()
        t_first = None
        while True:
            got = rx.exchange()["received"] - base
            now = time.perf_counter()
            if got > 0 and t_first is None:
                t_first = now
            if got >= N_TP:
                t_last = now
                break
            if now - t_up > 600:
                raise RuntimeError(f"only {got} of {N_TP} registered after 600 s")
            time.sleep(0.01)
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            perf.wait(60)
        res["reconnect_s"] = t_up - t_restart
        res["first_s"] = t_first - t_up
        res["tp_s"] = t_last - t_up
        res["tp"] = N_TP / (t_last - t_up)
        # the statuses back, and both outboxes empty
        t_drain = time.perf_counter()
        while tx.exchange()["outbox"] or rx.exchange()["outbox"]:
            if time.perf_counter() - t_drain > 300:
                raise RuntimeError("the outboxes did not drain")
            time.sleep(0.05)
        res["drain_s"] = time.perf_counter() - t_last
        # nothing lost or doubled
        inc = all_incoming(rx)
        keys = [e["doc_key"] for e in inc]
        nums = sorted(e["number"] for e in inc)
        res["check"] = (len(inc) == N_LAT + N_TP and len(set(keys)) == len(keys) and
                        nums == list(range(1, len(nums) + 1)) and
                        rx.ask("incoming.refused")["refused"] == [])
        res["rss_rx"] = proc_kb(so.d.proc.pid)
        res["rss_tx"] = proc_kb(tinh.d.proc.pid)
    finally:
        for w in watches:
            w.close()
        for r in relays.values():
            r.close()
        for o in (tinh, so):
            try:
                o.stop(timeout=60)
            except AssertionError as e:
                print(f"warning: {o.name}: {e}"[:400], file=sys.stderr)
            finally:
                o.cleanup()
        cluster.stop()
        atexit.unregister(cluster.stop)  # its folder is removed next
    return res


def proc_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def report(res):
    med, p99 = stats(res["lat"])
    omed, op99 = stats(res["own"])
    met_lat = med * 1000 < TARGET_MEDIAN_MS
    met_tp = res["tp"] > TARGET_TP
    print("| measure | result | target |")
    print("|---|---|---|")
    print(f"| {res['n_lat'] + res['n_tp']:,} documents to `signing` and signed by the leader "
          f"(`sign` {SIGN_BATCH} at a time, one PIN) | {res['prepare_s']:.0f} s | |")
    print(f"| `issue` (number, date, the organisation's signature and seal, deliveries and "
          f"outbox committed), {res['n_lat']} documents | {mp(res['issue'])} | |")
    print(f"| latency, idle: `issue` answered → in the receiver's register (its `status` "
          f"polled every 0.5 ms over one connection), {res['n_lat']} documents "
          f"| median {ms(med)}, p99 {ms(p99)} | median < {TARGET_MEDIAN_MS} ms |")
    print(f"| the same by the receiver's own arrived_at (taken before its files and commit) "
          f"| median {ms(omed)}, p99 {ms(op99)} | |")
    print(f"| {res['n_tp']:,} documents issued while the sender's leaf node is down "
          f"| {res['issue_all_s']:.1f} s; outbox {res['outbox_before']:,} | |")
    print(f"| leaf node restarted → the sender's link up | {res['reconnect_s']:.2f} s | |")
    print(f"| throughput: link up → the last of {res['n_tp']:,} registered "
          f"| {res['tp']:,.0f} packages/s ({res['tp_s']:.2f} s; the first after "
          f"{ms(res['first_s'])}) | > {TARGET_TP}/s |")
    print(f"| the last registered → both outboxes empty (the 01 and 03 back) "
          f"| {res['drain_s']:.2f} s | |")
    print(f"| the receiver's register: {res['n_lat'] + res['n_tp']:,} distinct DocumentIds, "
          f"numbered 1..n, nothing refused | {'yes' if res['check'] else '**no**'} | |")
    print(f"| peak RSS of vanthud: sender, receiver | {res['rss_tx'] / 1024:.1f} MB, "
          f"{res['rss_rx'] / 1024:.1f} MB | |")
    summary.add("Exchange: `issue` answered → in the receiver's register, idle "
                f"({res['n_lat']} documents, 3-node JetStream, leaf nodes)",
                f"median {ms(med)}, p99 {ms(p99)}", f"median < {TARGET_MEDIAN_MS} ms", met_lat)
    summary.add(f"Exchange: {res['n_tp']:,} documents sent at once (link up → last registered)",
                f"{res['tp']:,.0f} packages/s", f"> {TARGET_TP}/s", met_tp)


def main():
    if not IS_ROOT:
        print("exchange bench: needs root (it acts as the test users)", file=sys.stderr)
        return 1
    top = tempfile.mkdtemp(prefix="vanthu-bench-xch-")
    os.chmod(top, 0o755)
    try:
        res = measure(top)
    finally:
        if os.environ.get("VANTHU_BENCH_XCH_KEEP"):
            print("kept", top, file=sys.stderr)
        else:
            summary.discard(top)
    report(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
