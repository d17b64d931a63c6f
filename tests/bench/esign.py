#!/usr/bin/python3
"""esign.py: measures electronic originals in the release vanthud (make bench).

One office with [signing], set up as tests/e2e/test_esign.py does (a test CA
and SoftHSMv2 tokens from tests/tools/pki.py, a blue signature and a red
seal, the warm converter build/vanthu-convert), and N documents
(VANTHU_BENCH_ESIGN, default 200) taken to `issued`:
- the drafter's and reviewer's steps over one open connection per user;
- `vanthuctl sign ID --pkcs11 ... --token lanh-dao --pin-file F` as the
  leader (vtt-chi), one real vanthuctl per document, timed from the outside:
  the signing copy rendered, converted to PDF by the warm LibreOffice,
  prepared, signed on the leader's token, checked and recorded;
- `issue` by the clerk (vtt-dung), timed from the request to its answer,
  which comes after the PDF is written to outgoing/ and its SHA-256 recorded
  (each file is then checked: there, under outgoing/, its SHA-256 the one
  recorded);
- the naive way on the first K of the same documents (VANTHU_BENCH_ESIGN_NAIVE,
  default all N): `vanthuctl render ID -o F.docx`, `soffice --headless
  --convert-to pdf` with a fresh profile, `pdfsig -add-signature` with an NSS
  database holding the organisation's key; each result checked by pdfsig;
- the organisation's signing step alone: build/bench_esign on a PDF the
  leader signed in this run (CMS and incremental update, 200 rounds); its
  last output checked by pdfsig;
- the RSS of vanthud (VmHWM, VmRSS) and, apart, of the converter (the
  vanthu-convert child of vanthud, LibreOffice loaded in it, and anything it
  started).
Needs root (it acts as the test users). VANTHU_BENCH_ESIGN_KEEP=1 keeps its folder. Prints Markdown tables on stdout.
Nothing here fails on a time.
"""
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
# the release build, not build/san: set before harness reads it
os.environ["VANTHU_BIN"] = os.path.join(REPO, "build")
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from harness import Daemon, IS_ROOT  # noqa: E402
from test_workflow import Relay, doc_xml, new_doc  # noqa: E402
from test_esign import seal_png, signature_png  # noqa: E402

import summary  # noqa: E402

PKI_TOOL = os.path.join(REPO, "tests", "tools", "pki.py")
BENCH_ESIGN = os.path.join(REPO, "build", "bench_esign")
CONVERTER = os.path.join(REPO, "build", "vanthu-convert")
N = int(os.environ.get("VANTHU_BENCH_ESIGN", "200"))
K = min(N, int(os.environ.get("VANTHU_BENCH_ESIGN_NAIVE", str(N))))
ROUNDS = 200
TARGET_ISSUE_S = 1.0
TARGET_RATIO = 5
TARGET_STEP_MS = 10
TARGET_RSS_MB = 64
NSS_NICK = "co-quan"
NSS_PW = "bench-nss"


def run(*cmd, ok=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if ok and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def stats(xs):
    """(median, p99) of a list, as intake.py takes them."""
    s = sorted(xs)
    n = len(s)
    med = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    return med, s[max(math.ceil(n * 0.99) - 1, 0)]


def ms(x):
    return f"{x * 1000:,.0f} ms" if x >= 0.1 else f"{x * 1000:.1f} ms"


def mp(xs):
    med, p99 = stats(xs)
    return f"median {ms(med)}, p99 {ms(p99)}"


def proc_status(pid):
    """VmHWM and VmRSS (kB) of a process, (0, 0) when it is gone."""
    out = {"VmHWM": 0, "VmRSS": 0}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                k = line.split(":")[0]
                if k in out:
                    out[k] = int(line.split()[1])
    except OSError:
        pass
    return out["VmHWM"], out["VmRSS"]


def children():
    """{ppid: [(pid, comm)]} of every process now."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                st = fh.read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append((int(d), comm))
    return kids


def converter_memory(daemon_pid):
    """(pid, VmHWM, VmRSS of vanthu-convert, VmRSS of all it started) in kB, or None."""
    kids = children()
    conv = [p for p, c in kids.get(daemon_pid, []) if c.startswith("vanthu-convert")]
    if not conv:
        return None
    pid = conv[0]
    hwm, rss = proc_status(pid)
    below, todo = 0, [pid]
    while todo:
        for p, _c in kids.get(todo.pop(), []):
            below += proc_status(p)[1]
            todo.append(p)
    return pid, hwm, rss, below


class Office:
    """The PKI, the images and the PIN files of test_esign.py, in tmp."""

    def __init__(self, tmp):
        self.tmp = tmp
        run("/usr/bin/python3", PKI_TOOL, "make", os.path.join(tmp, "pki"))
        with open(os.path.join(tmp, "pki", "pki.json"), encoding="utf-8") as f:
            self.pki = json.load(f)
        run("chmod", "-R", "a+rwX", os.path.join(tmp, "pki"))
        os.environ["SOFTHSM2_CONF"] = self.pki["softhsm2_conf"]
        self.sig_png = os.path.join(tmp, "chu-ky.png")
        self.seal_png = os.path.join(tmp, "con-dau.png")
        signature_png(self.sig_png)
        seal_png(self.seal_png)
        self.org_pin = self.pin_file("co-quan.pin", "co-quan", 0o600)
        self.leader_pin = self.pin_file("lanh-dao.pin", "lanh-dao", 0o644)

    def pin_file(self, name, token, mode):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(self.pki["tokens"][token]["pin"] + "\n")
        os.chmod(path, mode)
        return path

    def signing_conf(self):
        return "\n".join([
            "[signing]",
            f"module = {self.pki['module']}",
            "token = co-quan",
            "key = con-dau",
            f"pin_file = {self.org_pin}",
            f"trust = {self.pki['ca']['cert']}",
            f"seal_image = {self.seal_png}",
            "seal_size = 36",
            f"converter = {CONVERTER}",
            "[user vtt-chi]",
            f"certificate = {self.pki['certs']['leader']['fingerprint']}",
            f"signature_image = {self.sig_png}",
        ]) + "\n"

    def nss_db(self):
        """An NSS database holding the organisation's key and certificate (nick NSS_NICK)."""
        db = os.path.join(self.tmp, "nss")
        os.makedirs(db)
        org = self.pki["certs"]["org"]
        p12 = os.path.join(self.tmp, "co-quan.p12")
        run("openssl", "pkcs12", "-export", "-inkey", org["key"], "-in", org["cert"],
            "-certfile", self.pki["ca"]["cert"], "-name", NSS_NICK, "-passout", f"pass:{NSS_PW}",
            "-out", p12)
        pwfile = os.path.join(self.tmp, "nss.pw")
        with open(pwfile, "w") as f:
            f.write(NSS_PW + "\n")
        run("certutil", "-N", "-d", f"sql:{db}", "-f", pwfile)
        run("pk12util", "-i", p12, "-d", f"sql:{db}", "-W", NSS_PW, "-k", pwfile)
        return db


def pdfsig_valid(path):
    """How many signatures pdfsig finds valid in a file."""
    out = run("pdfsig", "-nocert", path, ok=False).stdout
    return out.count("Signature Validation: Signature is Valid.")


def measure(tmp):
    office = Office(tmp)
    outdir = os.path.join(tmp, "out")
    os.makedirs(outdir)
    os.chmod(outdir, 0o1777)
    os.makedirs(os.path.join(tmp, "office"))
    d = Daemon(root=os.path.join(tmp, "office"), extra=office.signing_conf())
    # as the other benchmarks: the daemon logs at warning, not the tests' debug
    with open(d.conf, encoding="utf-8") as fh:
        conf = fh.read()
    with open(d.conf, "w", encoding="utf-8") as fh:
        fh.write(conf.replace("level = debug", "level = warning"))
    res = {"n": N, "k": K}
    t0 = time.perf_counter()
    d.start(ready_timeout=300)  # LibreOffice's first start makes its profile
    res["ready_s"] = time.perf_counter() - t0
    relays = {}
    try:
        relays = {n: Relay(d.socket, n) for n in ("vtt-ana", "vtt-binh", "vtt-dung")}
        docs = []
        t0 = time.perf_counter()
        for i in range(N):
            r = new_doc(relays["vtt-ana"], doc_xml(
                f"Kết luận số {i + 1} của đồng chí Phó Chủ tịch UBND tỉnh về chuyển đổi số"))
            if not r["ok"]:
                raise RuntimeError(f"new: {r}")
            doc = r["result"]["id"]
            for user, action in (("vtt-ana", "submit"), ("vtt-binh", "approve")):
                r = relays[user].call("act", id=doc, action=action)
                if not r["ok"]:
                    raise RuntimeError(f"{action} {doc}: {r}")
            docs.append(doc)
        res["to_signing_s"] = time.perf_counter() - t0

        pki = office.pki
        sign_t = []
        for doc in docs:
            t0 = time.perf_counter()
            r = d.ctl("sign", str(doc), "--pkcs11", pki["module"], "--token", "lanh-dao",
                      "--pin-file", office.leader_pin, user="vtt-chi", timeout=240)
            sign_t.append(time.perf_counter() - t0)
            if r.returncode != 0:
                raise RuntimeError(f"sign {doc}: {r.stderr}{r.stdout}")
        res["sign"] = sign_t

        outgoing = os.path.realpath(os.path.join(d.spool, "outgoing"))
        issue_t, sizes = [], []
        for doc in docs:
            t0 = time.perf_counter()
            r = relays["vtt-dung"].call("act", id=doc, action="issue")
            issue_t.append(time.perf_counter() - t0)
            if not r["ok"] or "publish_error" in r["result"]:
                raise RuntimeError(f"issue {doc}: {r}")
        for doc in docs:
            e = relays["vtt-dung"].call("show", id=doc)["result"]["electronic"]
            path = e["pdf_path"]
            if e["state"] != "issued" or not os.path.realpath(path).startswith(outgoing + "/"):
                raise RuntimeError(f"document {doc}: no issued PDF under outgoing/: {e}")
            with open(path, "rb") as fh:
                data = fh.read()
            if hashlib.sha256(data).hexdigest() != e["pdf_sha256"]:
                raise RuntimeError(f"document {doc}: {path} does not match its SHA-256")
            sizes.append(len(data))
        res["issue"] = issue_t
        res["pdf_bytes"] = sum(sizes) / len(sizes)
        res["check_valid"] = pdfsig_valid(path)  # the last one: both signatures

        res["rss"] = proc_status(d.proc.pid)
        res["conv"] = converter_memory(d.proc.pid)

        # the signing step alone, on a PDF the leader signed in this run
        leader_pdfs = sorted(f for f in os.listdir(os.path.join(d.spool, "signing"))
                             if f.endswith(".signed.pdf"))
        res["step"] = step_alone(office, os.path.join(d.spool, "signing", leader_pdfs[0]), tmp)

        res["naive"] = naive(office, d, docs[:K], outdir, tmp)
        # the daemon again after the naive renders
        res["rss_end"] = proc_status(d.proc.pid)
    finally:
        for r in relays.values():
            r.close()
        try:
            d.stop(timeout=60)
        finally:
            d.cleanup()
    return res


def step_alone(office, leader_pdf, tmp):
    if not os.path.exists(BENCH_ESIGN):
        return {"why": f"{BENCH_ESIGN} is not built (make build/bench_esign)"}
    out_pdf = os.path.join(tmp, "step.pdf")
    p = run(BENCH_ESIGN, leader_pdf, office.pki["module"], "co-quan", "con-dau", office.org_pin,
            office.seal_png, office.pki["ca"]["cert"], str(ROUNDS), out_pdf, ok=False)
    if p.returncode != 0:
        return {"why": (p.stderr or p.stdout).strip().splitlines()[-1:]}
    parts = {}
    for line in p.stdout.splitlines():
        name, _, rest = line.partition(": ")
        if "median" in rest:
            bits = rest.replace(",", "").split()
            parts[name] = (float(bits[bits.index("median") + 1]), float(bits[bits.index("p99") + 1]),
                           float(bits[bits.index("max") + 1]))
        elif name == "input":
            parts["input_bytes"] = int(rest.split()[0])
    parts["valid"] = pdfsig_valid(out_pdf)
    return parts


def naive(office, d, docs, outdir, tmp):
    """The same documents the naive way; times of each part and of the chain."""
    db = office.nss_db()
    res = {"render": [], "soffice": [], "pdfsig": [], "chain": [], "valid": 0}
    for doc in docs:
        docx = os.path.join(outdir, f"naive-{doc}.docx")
        pdf = os.path.join(outdir, f"naive-{doc}.pdf")
        signed = os.path.join(outdir, f"naive-{doc}-signed.pdf")
        profile = os.path.join(tmp, f"lo-profile-{doc}")
        t0 = time.perf_counter()
        r = d.ctl("render", str(doc), "-o", docx, user="vtt-dung")
        t1 = time.perf_counter()
        if r.returncode != 0:
            raise RuntimeError(f"render {doc}: {r.stderr}")
        run("soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
            "pdf", "--outdir", outdir, docx)
        t2 = time.perf_counter()
        run("pdfsig", "-add-signature", "-nssdir", f"sql:{db}", "-nss-pwd", NSS_PW, "-nick",
            NSS_NICK, "-kpw", NSS_PW, "-reason", "Phát hành", pdf, signed)
        t3 = time.perf_counter()
        res["render"].append(t1 - t0)
        res["soffice"].append(t2 - t1)
        res["pdfsig"].append(t3 - t2)
        res["chain"].append(t3 - t0)
        res["valid"] += pdfsig_valid(signed) == 1
        shutil.rmtree(profile, ignore_errors=True)
    return res


def report(res):
    n, k = res["n"], res["k"]
    sign, issue = res["sign"], res["issue"]
    both = [a + b for a, b in zip(sign, issue)]
    nv = res["naive"]
    issue_med, issue_p99 = stats(issue)
    both_med, _ = stats(both)
    chain_med, _ = stats(nv["chain"])
    ratio = chain_med / both_med
    ratio_issue = chain_med / issue_med
    hwm, rss = res["rss"]
    hwm_end, rss_end = res["rss_end"]
    hwm = max(hwm, hwm_end)
    conv = res["conv"]
    step = res["step"]

    print("| measure | result | target |")
    print("|---|---|---|")
    print(f"| vanthud start to READY (the converter loads LibreOffice) | {res['ready_s']:.1f} s | |")
    print(f"| {n} documents to `signing` (new, submit, approve over one connection per user) | "
          f"{res['to_signing_s']:.1f} s | |")
    print(f"| `vanthuctl sign ID --pkcs11` as the leader, {n} documents (signing copy rendered, "
          f"DOCX→PDF by the warm LibreOffice, leader's token, checked, recorded) | {mp(sign)} | |")
    print(f"| `issue` → signed PDF in outgoing/ with its SHA-256 recorded, {n} documents "
          f"(number and date stamped, the leader's signature checked, the organisation's "
          f"signature and seal; {res['pdf_bytes'] / 1024:,.0f} KiB each) | {mp(issue)} | "
          f"median < {TARGET_ISSUE_S:.0f} s |")
    q = max(n // 10, 1)
    if n >= 20:
        print(f"| the same over the run: the first and the last {q} documents' medians | `sign` "
              f"{ms(stats(sign[:q])[0])} → {ms(stats(sign[-q:])[0])}; `issue` "
              f"{ms(stats(issue[:q])[0])} → {ms(stats(issue[-q:])[0])} | |")
    print(f"| vanthu per document: `sign` + `issue` | {mp(both)} | |")
    print(f"| naive per document, {k} of the same documents: `vanthuctl render` + `soffice "
          f"--headless --convert-to pdf` (fresh profile) + `pdfsig -add-signature` (NSS) | "
          f"{mp(nv['chain'])} (render {mp(nv['render'])}; soffice {mp(nv['soffice'])}; "
          f"pdfsig {mp(nv['pdfsig'])}) | |")
    print(f"| naive ÷ vanthu (`sign` + `issue`), medians | {ratio:,.1f}× (naive ÷ `issue` alone: "
          f"{ratio_issue:,.0f}×) | ≥ {TARGET_RATIO}× |")
    if "step" in step:
        s = step["step"]
        print(f"| the organisation's signing step alone (bench_esign, {ROUNDS} rounds on a "
              f"{step['input_bytes'] / 1024:,.0f} KiB leader-signed PDF): stamps placed, "
              f"pdf_prepare, digest, signed attributes, SoftHSM RSA-2048 signature, cms_assemble, "
              f"pdf_embed | median {s[0]:.2f} ms, p99 {s[1]:.2f} ms, max {s[2]:.2f} ms | "
              f"< {TARGET_STEP_MS} ms |")
        parts = "; ".join(f"{name} {step[name][0]:.2f}" for name in
                          ("prepare", "cms", "token", "assemble") if name in step)
        print(f"| its parts, medians (ms) | {parts} | |")
        v = step["verify"]
        print(f"| before it at issue: the leader's signature read and verified | median "
              f"{v[0]:.2f} ms, p99 {v[1]:.2f} ms | |")
    else:
        print(f"| the signing step alone | not run: {step['why']} | < {TARGET_STEP_MS} ms |")
    print(f"| RSS of vanthud after the run: peak (VmHWM), now (VmRSS) | {hwm / 1024:.1f} MB, "
          f"{rss_end / 1024:.1f} MB | < {TARGET_RSS_MB} MB |")
    if conv:
        pid, chwm, crss, below = conv
        extra = f"; its children {below / 1024:.1f} MB" if below else ", no children"
        print(f"| RSS of the converter (vanthu-convert with LibreOffice in it), apart | peak "
              f"{chwm / 1024:.1f} MB, now {crss / 1024:.1f} MB{extra} | |")
    else:
        print("| RSS of the converter | not found among vanthud's children | |")
    checks = [f"{n} issued PDFs under outgoing/ matching their recorded SHA-256",
              f"pdfsig finds the last one's {res['check_valid']} of 2 signatures valid",
              f"{nv['valid']} of {k} naive PDFs signed valid"]
    if "valid" in step:
        checks.append(f"bench_esign's last output: {step['valid']} of 2 valid")
    print()
    print("Checked: " + "; ".join(checks) + ".")

    summary.add(f"Signing: `vanthuctl sign` with a PKCS#11 token ({n} documents)", mp(sign))
    summary.add(f"Signing: `issue` → signed PDF in outgoing/ ({n} documents)", mp(issue),
                f"median < {TARGET_ISSUE_S:.0f} s", issue_med < TARGET_ISSUE_S)
    summary.add(f"Signing: naive render + soffice + pdfsig per document ({k} documents)",
                mp(nv["chain"]))
    summary.add("Signing: naive ÷ vanthu (`sign` + `issue`), medians",
                f"{ratio:,.1f}× (÷ `issue` alone {ratio_issue:,.0f}×)", f"≥ {TARGET_RATIO}×",
                ratio >= TARGET_RATIO)
    if "step" in step:
        s = step["step"]
        summary.add("Signing: the signing step alone (CMS + incremental update)",
                    f"median {s[0]:.2f} ms, p99 {s[1]:.2f} ms",
                    f"< {TARGET_STEP_MS} ms (median and p99)", s[1] < TARGET_STEP_MS)
    else:
        summary.add("Signing: the signing step alone", "not run", f"< {TARGET_STEP_MS} ms", False)
    summary.add("Signing: peak RSS of vanthud", f"{hwm / 1024:.1f} MB", f"< {TARGET_RSS_MB} MB",
                hwm / 1024 < TARGET_RSS_MB)
    if conv:
        summary.add("Signing: RSS of the converter (LibreOffice), apart",
                    f"peak {conv[1] / 1024:.1f} MB, now {conv[2] / 1024:.1f} MB")


def main():
    if not IS_ROOT:
        print("| measure | result | target |\n|---|---|---|\n"
              "| electronic originals | not run: needs root (it acts as the test users) | |")
        summary.add("Signing: electronic originals", "not run (needs root)")
        return
    tmp = tempfile.mkdtemp(prefix="vanthu-bench-esign-")
    os.chmod(tmp, 0o755)
    try:
        report(measure(tmp))
    finally:
        if os.environ.get("VANTHU_BENCH_ESIGN_KEEP"):
            sys.stderr.write(f"esign.py: kept {tmp}\n")
        else:
            summary.discard(tmp)


if __name__ == "__main__":
    main()
