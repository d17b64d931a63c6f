#!/usr/bin/python3
"""crashloop.py: the crash loop of issue #7 — SIGKILL vanthud at random moments under load.

This file owns the crash loop: one standalone script that starts the real
vanthud (the sanitizer build by default) in a temporary folder through
tests/e2e/harness.py and, while it runs, concurrently

  - floods spool/incoming/ with inputs: new reports, exact duplicates,
    superseding corrections, malformed files, reports in a unit's own
    folder (right and wrong unit), files written the safe way (.part, then
    rename) and in place the way a careless unit writes them (in chunks,
    and some never finished), drafts dropped by a drafter (owned by
    vtt-ana), and reporting rounds (long past, or open until every unit
    has reported) and meetings' conclusions dropped by the clerk;
  - moves documents through the workflow with vanthuctl as the real role
    users (vtt-ana drafts, vtt-binh reviews, vtt-chi signs digitally with a
    SoftHSMv2 token, vtt-dung issues, which seals the PDF with the
    organisation's token, and voids): create, submit, approve or return and edit, sign,
    issue, withdraw, void. A worker whose call is cut by the kill waits for
    the daemon, reads the document's state and goes on or retries;
  - takes `vanthuctl backup`s as root, asking again for a cut one;

kills vanthud with SIGKILL after a random delay (some kills aimed at an
issue in flight, some just after READY=1, some while it starts), restarts it
and repeats `--cycles` times. It then lets everything settle (daemon up, incoming/ and
claimed/ empty), stops the daemon with SIGTERM and checks:

  - every input file has exactly one outcome: one intake row per name, one
    receipt agreeing with it, its original in accepted/ or rejected/,
    nothing left in incoming/ or claimed/, nothing vanished; contents sent
    twice are one report, corrections chain, malformed files are rejected;
  - the register: every number of each series given once, no gap (a state
    body's series is a year; every third document is the Party committee
    TU's, whose series are a type within its term); every issued document numbered and registered, nothing else
    numbered; every issue the client saw (or whose reply the kill cut) is
    either issued with its number or not issued, never half; voids stick;
  - every signed document has its leader's PDF with its recorded SHA-256,
    every issued one its sealed PDF beside the DOCX, and pdfsig finds its
    two signatures valid (--no-signing: DOCX only, as before);
  - every issued DOCX exists in spool/outgoing with its recorded SHA-256,
    and nothing else is there; no temporary file is left in the spool, and
    every backup the client was given checks, with nothing beside it;
  - the audit chain verifies (`vanthuctl verify`, and prev_hash links), and
    every input and every number has its audit entry;
  - `PRAGMA integrity_check` and `foreign_key_check`;
  - rounds: each automatic draft taken once; a round every unit has
    reported to is concluded;
  - no sanitizer report in the daemon's log, no E_INTERNAL to a client.

It prints a line per cycle and a summary, and exits 1 naming every
violation (0 when there is none, 2 when it cannot run: not root).

    tests/crash/crashloop.py --cycles 50 --seed 1 [--bin build/san] [--keep]
"""
import argparse
import glob
import hashlib
import json
import os
import pwd
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
E2E = os.path.join(REPO, "tests", "e2e")

UNITS = ["XA-PHUOC-HOI", "TT-LONG-HAI", "SO-TTTT", "SO-TP", "HUYEN-DAT-DO", "TP-BA-RIA"]
DOC_EXAMPLE = os.path.join(REPO, "workflows", "thong-bao", "examples", "tb-chuyen-doi-so.xml")
ROUND_EXAMPLE = os.path.join(REPO, "workflows", "dot-bao-cao", "examples", "cds-2024-q1.xml")
MEETING_EXAMPLE = os.path.join(REPO, "workflows", "dot-bao-cao", "examples",
                               "ket-luan-hop-2024-04-05.xml")
SAN_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehavior")


class Dead(Exception):
    """vanthud exited without being killed: the run stops there."""


class Violations:
    def __init__(self):
        self.lock = threading.Lock()
        self.items = []

    def add(self, what, detail=""):
        with self.lock:
            self.items.append((what, detail))
            print(f"VIOLATION: {what}: {detail}"[:2000], flush=True)


PARTY = """[body TU]
kind = party
name = Ban Thường vụ Tỉnh ủy
collective = Ban Thường vụ
term = 2020-2025 2020-10-10
term = 2025-2030 2025-10-15
"""


SIGNING = {}   # the PKI and [signing] of this run (make_signing); empty with --no-signing
TOKEN_LOCK = threading.Lock()


def make_signing(root):
    """A test CA and SoftHSMv2 tokens (tests/tools/pki.py), the images, [signing]; vtt-chi's
    vanthuctl arguments."""
    sys.path.insert(0, E2E)
    import test_esign
    top = os.path.join(root, "pki")
    subprocess.run(["/usr/bin/python3", os.path.join(REPO, "tests", "tools", "pki.py"), "make",
                    top], check=True, capture_output=True)
    pki = json.load(open(os.path.join(top, "pki.json"), encoding="utf-8"))
    subprocess.run(["chmod", "-R", "a+rwX", top], check=True)
    os.environ["SOFTHSM2_CONF"] = pki["softhsm2_conf"]
    sig, seal = os.path.join(top, "chu-ky.png"), os.path.join(top, "con-dau.png")
    test_esign.signature_png(sig)
    test_esign.seal_png(seal)
    org_pin, leader_pin = os.path.join(top, "co-quan.pin"), os.path.join(top, "lanh-dao.pin")
    with open(org_pin, "w") as f:
        f.write(pki["tokens"]["co-quan"]["pin"] + "\n")
    os.chmod(org_pin, 0o600)
    with open(leader_pin, "w") as f:
        f.write(pki["tokens"]["lanh-dao"]["pin"] + "\n")
    os.chmod(leader_pin, 0o644)
    SIGNING.update(pki=pki, extra="\n".join([
        "[signing]", f"module = {pki['module']}", "token = co-quan", "key = con-dau",
        f"pin_file = {org_pin}", f"trust = {pki['ca']['cert']}", f"seal_image = {seal}",
        "seal_size = 36", f"converter = {os.path.join(REPO, 'build', 'vanthu-convert')}",
        "[user vtt-chi]", f"certificate = {pki['certs']['leader']['fingerprint']}",
        f"signature_image = {sig}"]) + "\n",
        args=["--pkcs11", pki["module"], "--token", "lanh-dao", "--pin-file", leader_pin])


def doc_xml(summary, issuer=None):
    text = open(DOC_EXAMPLE, encoding="utf-8").read()
    start = text.index("<summary>") + len("<summary>")
    end = text.index("</summary>")
    text = text[:start] + summary + text[end:]
    if issuer:
        text = text.replace('xmlns="urn:vanthu:document:1"',
                            f'xmlns="urn:vanthu:document:1" issuer="{issuer}"', 1)
    return text


def round_xml(rid, units=None):
    """The example round (long past: closed at once) or, with units, one open until 2027."""
    with open(ROUND_EXAMPLE, encoding="utf-8") as fh:
        text = fh.read().replace('id="CDS-2024-Q1"', f'id="{rid}"', 1)
    text = text.replace('login="lanh-dao-ky"', 'login="vtt-chi"')
    if not units:  # recorded on purpose with its dates past (else refused: R_PAST)
        text = text.replace("<round ", '<round allow-past="true" ', 1)
    if units:
        start, end = text.index("<units>"), text.index("</units>")
        text = (text[:start] + "<units>" + "".join(f'<unit code="{u}"/>' for u in units) +
                text[end:]).replace('<deadline date="2024-03-25"/>', '<deadline date="2027-06-30"/>')
    return text.encode("utf-8")


def meeting_xml(n):
    """A meeting of its own: no round, so its date and its summary (numbered) name it; the
    same meeting sent twice would be its first draft (a duplicate)."""
    with open(MEETING_EXAMPLE, encoding="utf-8") as fh:
        text = fh.read().replace('login="lanh-dao-ky"', 'login="vtt-chi"')
    text = text.replace(' round="CDS-2024-Q1"', "", 1)
    return text.replace("quý I năm 2024</summary>", f"quý I năm 2024 (lần {n})</summary>", 1
                        ).encode("utf-8")


class Flood(threading.Thread):
    """Writes inputs into incoming/ until stopped; remembers every name it wrote."""

    def __init__(self, d, rng, rate, viol):
        super().__init__(name="flood", daemon=True)
        self.d, self.rng, self.rate, self.viol = d, rng, rate, viol
        self.stop = threading.Event()
        self.inputs = []          # dicts: name, folder, kind, sha, unit, round
        self.sent_reports = []    # (unit, round, data) of valid reports already sent
        self.live_rounds = []     # (round, units): open rounds that close when all have reported
        self.seq = 0
        self.cycle = 0
        self.writers = []         # in-place writers still going
        self.lock = threading.Lock()
        self.ana = pwd.getpwnam("vtt-ana")
        self.dung = pwd.getpwnam("vtt-dung")

    def note(self, name, folder, kind, data, unit=None, rnd=None):
        with self.lock:
            self.inputs.append({"name": name, "folder": folder, "kind": kind, "unit": unit,
                                "round": rnd, "sha": hashlib.sha256(data).hexdigest()})

    def path(self, folder, name):
        if folder.startswith("@"):
            from intake_util import person_folder
            d = person_folder(self.d.spool, folder[1:])
        else:
            d = os.path.join(self.d.spool, "incoming", folder)
            os.makedirs(d, exist_ok=True)
        return os.path.join(d, name)

    def name_for(self, kind):
        """Most names are plain; some are long Vietnamese ones near the 255-byte limit, some
        are not UTF-8 at all (as a Samba or Windows client may write), some hold odd characters."""
        base = f"c{self.cycle:02d}-{self.seq:05d}-{kind}"
        style = self.rng.choices(["plain", "long", "notutf8", "odd"], [70, 15, 8, 7])[0]
        if style == "long":
            words = "-báo-cáo-kết-quả-triển-khai-chuyển-đổi-số-quý-I-năm-2024-của-Ủy-ban"
            name = base
            limit = self.rng.randrange(200, 256) - len(".xml")
            for ch in words * 8:
                if len((name + ch).encode("utf-8")) > limit:
                    break
                name += ch
            return name + ".xml"
        if style == "notutf8":
            return os.fsdecode(base.encode() + b"-b\xe1o-c\xe1o-\xff\xfe.xml")
        if style == "odd":
            return base + self.rng.choice(["-50%.xml", "-a:b?.xml", "-tab\there.xml",
                                           "-\u202egpj.xml", "-khoảng trắng .xml"])
        return base + ".xml"

    def safe(self, folder, name, data, owner=None):
        final = self.path(folder, name)
        tmp = os.path.join(os.path.dirname(final), f".w{self.seq:05d}-{len(self.inputs)}.part")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
        if owner is not None:
            os.chown(tmp, owner.pw_uid, owner.pw_gid)
        os.rename(tmp, final)

    def in_place(self, folder, name, data, finish=True):
        """A careless writer: the final name, a few chunks with pauses under the settle time."""
        final = self.path(folder, name)
        rng = random.Random(self.rng.random())
        cuts = sorted(rng.sample(range(1, int(len(data) * 0.9)), 2))

        def write():
            with open(final, "wb") as fh:
                fh.write(data[:cuts[0]])
                fh.flush()
                time.sleep(rng.uniform(0.02, 0.15))
                fh.write(data[cuts[0]:cuts[1]])
                fh.flush()
                if not finish:
                    return
                time.sleep(rng.uniform(0.02, 0.15))
                fh.write(data[cuts[1]:])
        t = threading.Thread(target=write, daemon=True)
        t.start()
        self.writers.append(t)

    def report(self, unit, rnd, value, number=18):
        from intake_util import report
        return report(unit=unit, round=rnd, value=value, number=number)

    def one(self):
        r = self.rng
        self.seq += 1
        kind = r.choices(["new", "dup", "fix", "bad", "trunc", "inplace", "broken", "folder",
                          "wrongfolder", "draft", "round", "meeting", "liveround"],
                         [30, 10, 12, 6, 4, 8, 2, 8, 3, 5, 2, 2, 2])[0]
        if kind in ("dup", "fix") and not self.sent_reports:
            kind = "new"
        name = self.name_for(kind)
        folder = ""
        unit = rnd = None
        if kind == "new" or kind == "inplace" or kind == "folder":
            unit = r.choice(UNITS)
            rnd = f"R{self.seq:05d}"
            if self.live_rounds and r.random() < 0.3:   # a report a live round waits for
                rnd, units = r.choice(self.live_rounds)
                unit = r.choice(units)
            data = self.report(unit, rnd, value=self.seq)
            self.sent_reports.append((unit, rnd, data))
            if kind == "folder":
                folder = unit
        elif kind == "dup":
            unit, rnd, data = r.choice(self.sent_reports)
        elif kind == "fix":
            unit, rnd, _ = r.choice(self.sent_reports)
            data = self.report(unit, rnd, value=100000 + self.seq, number=19)
            self.sent_reports.append((unit, rnd, data))
        elif kind == "wrongfolder":
            unit = "SO-TP"
            folder = "XA-PHUOC-HOI"
            data = self.report(unit, f"W{self.seq:05d}", value=self.seq)
        elif kind == "bad":
            data = r.choice([b"<hong", b"", b"not xml at all\n", b"\x00\x01\x02",
                             b'<?xml version="1.0"?><report xmlns="urn:vanthu:report:1"/>'])
        elif kind == "trunc" or kind == "broken":
            full = self.report(r.choice(UNITS), f"T{self.seq:05d}", value=self.seq)
            data = full if kind == "broken" else full[:r.randrange(10, len(full) // 2)]
        elif kind == "draft":
            data = doc_xml(f"Dự thảo thả vào thư mục c{self.cycle:02d}-{self.seq:05d}").encode("utf-8")
        elif kind == "meeting":
            data = meeting_xml(self.seq)
        elif kind == "liveround":
            rnd = f"LIVE-{self.seq:05d}"
            data = round_xml(rnd, r.sample(UNITS, 2))
            self.live_rounds.append((rnd, [u for u in UNITS if f'"{u}"'.encode() in data]))
        else:  # round
            rnd = f"VONG-{self.seq:05d}"
            data = round_xml(rnd)
        if kind == "inplace":
            self.in_place(folder, name, data)
        elif kind == "broken":
            self.in_place(folder, name, data, finish=False)
            data = None  # what lands is a prefix: its SHA-256 is not checked
        elif kind == "draft":       # a drafter's own folder names the author
            folder = "@vtt-ana"
            self.safe(folder, name, data, owner=self.ana)
        elif kind in ("round", "meeting", "liveround"):
            folder = "@vtt-dung"
            self.safe(folder, name, data, owner=self.dung)
        elif kind == "trunc" and r.random() < 0.5:
            with open(self.path(folder, name), "wb") as fh:   # in place, and never finished
                fh.write(data)
        else:
            self.safe(folder, name, data)
        self.note(name, folder, kind, data if data is not None else b"", unit, rnd)
        if kind == "round" and r.random() < 0.5:    # the same round dropped again
            self.seq += 1
            again = f"c{self.cycle:02d}-{self.seq:05d}-rounddup.xml"
            self.safe("@vtt-dung", again, data, owner=self.dung)
            self.note(again, "@vtt-dung", "rounddup", data, None, rnd)

    def run(self):
        while not self.stop.is_set():
            try:
                self.one()
            except Exception as e:  # a test bug, not a daemon one; say so and go on
                self.viol.add("flood writer failed", repr(e))
            time.sleep(self.rng.expovariate(self.rate))

    def finish(self):
        self.stop.set()
        self.join()
        for t in self.writers:
            t.join()


class Worker(threading.Thread):
    """Moves documents through the workflow as the real users; survives kills."""

    def __init__(self, d, idx, rng, viol, up, issuing, dead):
        super().__init__(name=f"worker{idx}", daemon=True)
        self.d, self.idx, self.rng, self.viol, self.up = d, idx, rng, viol, up
        self.issuing = issuing   # set while an issue call is on its way: a kill aims at it
        self.dead = dead         # vanthud died on its own: give up
        self.stop = threading.Event()
        self.docs = {}      # id -> summary, states seen, symbol the client saw issued, ...
        self.voids = []     # (body, series, number) the client saw voided
        self.cuts = 0
        self.steps = 0
        self.calls = 0
        self.call_time = 0.0
        self.n = 0

    # ---- plumbing ----

    def wait_up(self):
        deadline = time.time() + 120
        while time.time() < deadline and not self.dead.is_set():
            # set only between READY=1 and the next kill: the socket answers
            if self.up.wait(0.5):
                return not self.dead.is_set()
        if not self.dead.is_set():
            self.viol.add("daemon unreachable for 120 s", self.name)
        return False

    def call(self, *args, user):
        """(rc, json) with rc 3 meaning the daemon was unreachable or the call was cut."""
        t0 = time.time()
        try:
            p = self.d.ctl(*args, user=user, json_out=True, timeout=90)
            self.calls += 1
            self.call_time += time.time() - t0
        except Exception as e:
            self.viol.add("vanthuctl failed", f"{args}: {e!r}")
            return 99, None
        j = None
        try:
            j = json.loads(p.stdout) if p.stdout.strip() else None
        except ValueError:
            pass
        if p.returncode == 1 and j and j.get("error", {}).get("code") == "E_INTERNAL":
            self.viol.add("E_INTERNAL to a client", f"{args} as {user}: {j['error']}")
        if p.returncode == 3:
            time.sleep(0.05)   # down: the caller asks again once it is up
        self.last_err = p.stderr
        return p.returncode, j

    def state(self, doc):
        while True:
            if not self.wait_up():
                return None
            rc, j = self.call("show", str(doc), user="vtt-giang")
            if rc == 0:
                return j["result"]
            if rc != 3:
                self.viol.add("show failed", f"document {doc}: rc {rc} {j}")
                return None

    def find_by_summary(self, summary):
        con = sqlite3.connect(self.d.db, timeout=30)
        try:
            return [r[0] for r in con.execute("SELECT id FROM documents WHERE summary = ?",
                                              (summary,))]
        finally:
            con.close()

    # ---- steps ----

    def create(self):
        self.n += 1
        summary = f"Văn bản thử vòng sập w{self.idx} số {self.n}"
        issuer = "TU" if self.n % 3 == 1 else None   # each worker's first, then every third
        path = os.path.join(self.d.root, "docs", f"w{self.idx}-{self.n}.xml")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(doc_xml(summary, issuer))
        os.chmod(path, 0o644)
        while not self.stop.is_set():
            rc, j = self.call("new", "thong-bao", path, user="vtt-ana")
            if rc == 0:
                doc = j["result"]["id"]
                break
            if rc != 3:
                self.viol.add("new refused", f"{summary}: {j}")
                return None
            self.cuts += 1
            if not self.wait_up():
                return None
            found = self.find_by_summary(summary)
            if len(found) > 1:
                self.viol.add("one `new` made several documents", f"{summary}: {found}")
            if found:
                doc = found[0]
                break
        else:
            return None
        self.docs[doc] = {"summary": summary, "seen": ["draft"], "issued": None, "number": None,
                          "withdrawn": False, "cut_issue": False, "issuer": issuer}
        return doc

    def step(self, doc, user, action, frm, to, *extra):
        """One workflow step; True when the document is now in `to`."""
        while True:
            if action == "issue":
                self.issuing.set()
            rc, j = self.call(action, str(doc), *extra, user=user)
            self.steps += 1
            if rc == 0:
                res = j["result"]
                if res.get("state") != to:
                    self.viol.add("step answered another state", f"{doc} {action}: {res}")
                if action == "issue":
                    self.docs[doc]["issued"] = res.get("symbol")
                    if not res.get("symbol"):
                        self.viol.add("issue answered without a number", f"{doc}: {res}")
                self.docs[doc]["seen"].append(to)
                return True
            if rc != 3:
                self.viol.add("step refused", f"document {doc} {action} as {user} ({frm}->{to}): "
                              f"{j} {getattr(self, 'last_err', '')[-500:]}")
                return False
            self.cuts += 1
            if action == "issue":
                self.docs[doc]["cut_issue"] = True
            s = self.state(doc)
            if s is None:
                return False
            if s["state"] == to:
                if action == "issue":
                    self.docs[doc]["issued"] = s.get("symbol")
                self.docs[doc]["seen"].append(to)
                return True
            if s["state"] != frm:
                self.viol.add("cut step left an unexpected state",
                              f"document {doc} {action} {frm}->{to}: now {s['state']}")
                return False
            if self.stop.is_set():
                return False

    def edit(self, doc):
        path = os.path.join(self.d.root, "docs", f"w{self.idx}-{doc}-edit.xml")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(doc_xml(self.docs[doc]["summary"], self.docs[doc]["issuer"]))
        os.chmod(path, 0o644)
        while True:
            rc, j = self.call("edit", str(doc), path, user="vtt-ana")
            if rc == 0:
                return True
            if rc != 3:
                self.viol.add("edit refused", f"document {doc}: {j}")
                return False
            self.cuts += 1
            s = self.state(doc)
            if s is None or s["state"] != "draft":
                return False
            if self.stop.is_set():
                return True   # the edit may or may not have been kept; both are fine

    def void(self, doc):
        sym = self.docs[doc]["issued"]
        s = self.state(doc)
        if s is None or not s.get("number"):
            self.viol.add("issued document without a number", f"{doc}: {s}")
            return
        number, series = s["number"], s["series"]
        if s.get("issuer"):   # a Party committee's: its type within its term
            term, typ = series.split("/")
            where = ("--body", s["issuer"], "--term", term, "--type", typ)
        else:
            where = ("--year", series)
        key = (s.get("body"), series, number)
        cut = False
        while True:
            rc, j = self.call("void", str(number), *where, "-m",
                              f"Hủy thử số {sym}", user="vtt-dung")
            if rc == 0:
                self.voids.append(key)
                return
            if rc == 1 and cut and j and j["error"]["code"] == "E_NOT_FOUND":
                self.voids.append(key)   # the cut call had voided it
                return
            if rc != 3:
                self.viol.add("void refused", f"{sym}: {j}")
                return
            cut = True
            self.cuts += 1
            if not self.wait_up():
                return

    def one_doc(self):
        doc = self.create()
        if doc is None:
            return
        r = self.rng.random()
        ok = True
        if r < 0.1:
            self.step(doc, "vtt-ana", "withdraw", "draft", "withdrawn", "-m", "Không gửi nữa")
            self.docs[doc]["withdrawn"] = True
            return
        plan = [("vtt-ana", "submit", "draft", "review")]
        if r < 0.3:
            plan.append(("vtt-binh", "return", "review", "draft", "-m", "Sửa lại trích yếu"))
        for user, action, frm, to, *extra in plan:
            ok = ok and self.step(doc, user, action, frm, to, *extra)
        if not ok:
            return
        if r < 0.3:
            if not self.edit(doc) or not self.step(doc, "vtt-ana", "submit", "draft", "review"):
                return
        for user, action, frm, to in [("vtt-binh", "approve", "review", "signing"),
                                      ("vtt-chi", "sign", "signing", "signed"),
                                      ("vtt-dung", "issue", "signed", "issued")]:
            extra = SIGNING.get("args", []) if action == "sign" else []
            if extra:
                # one leader, one token: SoftHSMv2's file store is not read reliably while
                # another process writes it, and a real token signs one thing at a time
                with TOKEN_LOCK:
                    ok = self.step(doc, user, action, frm, to, *extra)
            else:
                ok = self.step(doc, user, action, frm, to)
            if not ok:
                return
        if self.rng.random() < 0.1:
            self.void(doc)

    def run(self):
        while not self.stop.is_set():
            if not self.wait_up():
                return
            try:
                self.one_doc()
            except Exception as e:
                self.viol.add("worker failed", repr(e))
                time.sleep(0.5)


class Backups(threading.Thread):
    """An admin (root) taking `vanthuctl backup` now and then; a cut one is asked again."""

    def __init__(self, d, rng, viol, up, dead):
        super().__init__(name="backups", daemon=True)
        self.d, self.rng, self.viol, self.up, self.dead = d, rng, viol, up, dead
        self.stop = threading.Event()
        self.dir = os.path.join(d.root, "backups")
        self.done = []     # files the client was told are written
        self.cuts = 0
        self.pending = None  # a path whose backup was cut and not yet asked again

    def run(self):
        n = 0
        while not self.stop.wait(self.rng.uniform(0.5, 2.5)):
            n += 1
            path = os.path.join(self.dir, f"b-{n:03d}.db")
            while not self.dead.is_set():
                if not self.up.wait(0.5):
                    continue
                p = self.d.ctl("backup", path, json_out=True, timeout=120)
                if p.returncode == 0:
                    self.done.append(path)
                    break
                if p.returncode != 3:
                    self.viol.add("backup refused", f"{path}: {p.stdout} {p.stderr}")
                    break
                self.cuts += 1
                time.sleep(0.05)
                if self.stop.is_set():
                    self.pending = path  # cut by the last kill: asked again by finish()
                    break

    def finish(self):
        """The backup the last kill cut is asked again of the daemon now up, as an admin does:
        it removes what the cut one left and gives its file."""
        if self.pending is None:
            return
        p = self.d.ctl("backup", self.pending, json_out=True, timeout=120)
        if p.returncode == 0:
            self.done.append(self.pending)
        else:
            self.viol.add("backup asked again refused", f"{self.pending}: {p.stdout} {p.stderr}")

    def check(self):
        for path in self.done:
            try:
                con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                ok = con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
                con.close()
            except sqlite3.Error as e:
                ok = repr(e)
            if ok is not True:
                self.viol.add("a backup the client was given does not check", f"{path}: {ok}")
        strays = [n for n in os.listdir(self.dir) if not re.fullmatch(r"b-\d{3}\.db", n)]
        if strays:
            self.viol.add("temporary files left beside the backups", str(strays))


def files_under(top):
    """Every file below top, dot-files too (glob would skip them)."""
    for base, _, names in os.walk(top):
        for n in names:
            yield os.path.join(base, n)


def receipts_of(spool):
    """{(folder, file): [receipt dict]} from every receipt XML; and stray temporary files."""
    from intake_util import read_receipt
    out, strays = {}, []
    for path in files_under(os.path.join(spool, "receipts")):
        base = os.path.basename(path)
        if not re.search(r"\.\d+\.receipt\.(xml|txt)$", base) or base.startswith("."):
            strays.append(path)
            continue
        if not base.endswith(".xml"):
            continue
        rec = read_receipt(path)
        out.setdefault((rec["folder"] or "", rec["file"]), []).append(rec)
    return out, strays


def settle(d, flood, viol, timeout=180):
    inc = os.path.join(d.spool, "incoming")
    claimed = os.path.join(d.spool, "claimed")
    deadline = time.time() + timeout
    want = len(flood.inputs)
    while time.time() < deadline:
        if d.proc.poll() is not None:
            viol.add("vanthud died on its own while settling",
                     f"exit {d.proc.returncode}: {d.read_log()[-3000:]}")
            return
        left = list(files_under(inc)) + os.listdir(claimed)
        got = len(glob.glob(os.path.join(d.spool, "receipts", "**", "*.receipt.xml"),
                            recursive=True))
        if not left and got >= want:
            return
        time.sleep(0.25)
    viol.add("did not settle", f"left in incoming/claimed: {left[:10]} ({len(left)}); "
             f"receipts {got} of {want}")


def check_db_live(d, viol, label):
    """Cheap checks while the daemon runs: integrity and the register's series."""
    con = sqlite3.connect(d.db, timeout=30)
    try:
        ic = con.execute("PRAGMA integrity_check").fetchall()
        if ic != [("ok",)]:
            viol.add(f"{label}: integrity_check", str(ic[:5]))
        check_register(con, viol, label)
    finally:
        con.close()


def check_register(con, viol, label):
    series = {}
    for body, ser, number in con.execute("SELECT body, series, number FROM register"):
        series.setdefault((body, ser), []).append(number)
    for (body, year), nums in series.items():
        nums.sort()
        if nums != list(range(1, len(nums) + 1)):
            missing = sorted(set(range(1, max(nums) + 1)) - set(nums))
            dups = sorted({n for n in nums if nums.count(n) > 1})
            viol.add(f"{label}: register series {body} {year} not gapless",
                     f"missing {missing[:20]}, twice {dups[:20]}")
    return series


def final_checks(d, flood, workers, viol, ctl_register):
    con = sqlite3.connect(d.db, timeout=30)
    con.row_factory = sqlite3.Row
    q = lambda sql, *a: con.execute(sql, a).fetchall()  # noqa: E731
    # ---- the database itself ----
    ic = [tuple(r) for r in q("PRAGMA integrity_check")]
    if ic != [("ok",)]:
        viol.add("integrity_check", str(ic[:5]))
    fk = [tuple(r) for r in q("PRAGMA foreign_key_check")]
    if fk:
        viol.add("foreign_key_check", str(fk[:5]))

    # ---- every input: exactly one outcome ----
    intake = {}
    for r in q("SELECT * FROM intake"):
        intake.setdefault((r["source_folder"], r["source_name"]), []).append(dict(r))
    from intake_util import shown, stem
    # names as vanthud shows them (spool/README.md): what the rows and receipts carry
    written = {(i["folder"], shown(os.fsencode(i["name"]))): i for i in flood.inputs}
    for key in written:
        n = len(intake.get(key, []))
        if n != 1:
            viol.add("input without exactly one intake row", f"{key}: {n} rows")
    for key in intake:
        if key not in written:
            viol.add("intake row for a name the flood never wrote", str(key))
    recs, strays = receipts_of(d.spool)
    if strays:
        viol.add("stray files in receipts/", str(strays[:10]))
    if sum(len(v) for v in recs.values()) != len(written):
        viol.add("receipts and inputs differ in number",
                 f"{sum(len(v) for v in recs.values())} receipts, {len(written)} inputs")
    for p in files_under(d.spool):
        base = os.path.basename(p)
        if base.endswith((".tmp", ".part")) or ".tmp-" in base:
            viol.add("temporary file left in the spool", p)
    for key, inp in written.items():
        rs = recs.get(key, [])
        rows = intake.get(key, [])
        if len(rs) != 1:
            viol.add("input without exactly one receipt", f"{key}: {[r['path'] for r in rs]}")
            continue
        if len(rows) != 1:
            continue
        row, rc = rows[0], rs[0]
        if rc["id"] != row["id"] or rc["outcome"] != row["outcome"] or rc["sha256"] != row["sha256"]:
            viol.add("receipt disagrees with the intake row",
                     f"{key}: receipt {rc['id']} {rc['outcome']} / row {row['id']} {row['outcome']}")
        if (row["document_id"] or None) != rc["document"]:
            viol.add("receipt does not name the document the input became",
                     f"{key}: receipt {rc['id']} names {rc['document']}, intake says "
                     f"{row['document_id']}")
        # where the original went
        sub = "rejected" if row["outcome"] == "rejected" else "accepted/*/*/*"
        kept = f"{row['id']}-{stem(os.fsencode(inp['name']))}"
        if not glob.glob(os.path.join(d.spool, sub, glob.escape(kept))):
            viol.add("original not moved out of claimed/", f"{key} ({kept})")
        k = inp["kind"]
        # a report's outcome depends on which of the same unit's files is taken first
        # (a copy or a correction may overtake the original); the contents are checked below
        report = {"accepted", "duplicate", "superseding"}
        expect = {"bad": {"rejected"}, "trunc": {"rejected"}, "broken": {"rejected"},
                  "wrongfolder": {"rejected"}, "new": report, "inplace": report,
                  "folder": report, "dup": report, "fix": report, "draft": {"accepted"}, "meeting": {"accepted"},
                  "liveround": {"accepted"},
                  "round": {"accepted", "duplicate"}, "rounddup": {"accepted", "duplicate"}}[k]
        if row["outcome"] not in expect:
            viol.add("unexpected outcome", f"{key} ({k}): {row['outcome']} {row['errors'][:300]}")
        if k not in ("broken",) and row["sha256"] != inp["sha"] and row["outcome"] != "rejected":
            viol.add("recorded SHA-256 differs from what was written", str(key))
        if k in ("draft", "meeting") and not row["document_id"]:
            viol.add("a dropped draft became no document", str(key))
    # contents: one report per (unit, bytes); corrections chain to one current report
    per_content = {}
    for key, inp in written.items():
        if inp["kind"] in ("new", "dup", "fix", "inplace", "folder"):
            per_content.setdefault((inp["unit"], inp["sha"]), []).append(key)
    for (unit, sha), keys in per_content.items():
        n = q("SELECT count(*) FROM reports WHERE unit_code = ? AND sha256 = ?", unit, sha)[0][0]
        outs = sorted(intake[k][0]["outcome"] for k in keys if len(intake.get(k, [])) == 1)
        if n != 1 or sum(o != "duplicate" for o in outs) != 1:
            viol.add("the same bytes are not exactly one report",
                     f"{unit} {sha[:12]}: {n} reports, outcomes {outs}")
    for r in q("SELECT unit_code, round_id, count(*) AS n, sum(superseded_by IS NULL) AS cur "
               "FROM reports GROUP BY unit_code, round_id"):
        if r["cur"] != 1:
            viol.add("a unit's round has not exactly one current report",
                     f"{r['unit_code']} {r['round_id']}: {r['n']} reports, {r['cur']} current")
    # every intake has its audit entry, once
    aud = {r[0]: r[1] for r in q("SELECT object, count(*) FROM audit WHERE action = "
                                 "'report.intake' GROUP BY object")}
    for rows in intake.values():
        for row in rows:
            obj = "intake/%d" % row["id"]
            if aud.get(obj) != 1:
                viol.add("intake without exactly one audit entry", f"{obj}: {aud.get(obj)}")

    # ---- the register and the documents ----
    series = check_register(con, viol, "final")
    reg = {r["document_id"]: dict(r) for r in q("SELECT * FROM register")}
    if len(reg) != sum(len(v) for v in series.values()):
        viol.add("a document holds several numbers", "")
    for doc in q("SELECT * FROM documents"):
        d_id, issued = doc["id"], doc["state"] == "issued"
        has_num = doc["number"] is not None
        if issued != has_num or issued != (d_id in reg):
            viol.add("half-issued document", f"{d_id}: state {doc['state']}, number "
                     f"{doc['number']}, in register {d_id in reg}")
        if d_id in reg and (reg[d_id]["number"] != doc["number"] or
                            reg[d_id]["symbol"] != doc["symbol"]):
            viol.add("document and register disagree", f"{d_id}: {doc['symbol']} / "
                     f"{reg[d_id]['symbol']}")
        if issued:
            if not doc["out_path"] or not doc["out_sha256"]:
                viol.add("issued document without its DOCX recorded", str(d_id))
            elif not os.path.isfile(doc["out_path"]):
                viol.add("issued DOCX missing", f"{d_id}: {doc['out_path']}")
            else:
                sha = hashlib.sha256(open(doc["out_path"], "rb").read()).hexdigest()
                if sha != doc["out_sha256"]:
                    viol.add("issued DOCX does not match its SHA-256", f"{d_id}: {doc['out_path']}")
    if SIGNING:
        check_signed(q, viol)
    audited = {r[0] for r in q("SELECT object FROM audit WHERE action = 'issue'")}
    for d_id in reg:
        if f"document/{d_id}" not in audited:
            viol.add("number without its issue audit entry", str(d_id))
    recorded = {os.path.realpath(r[0]) for r in q("SELECT out_path FROM documents "
                                                   "WHERE out_path IS NOT NULL UNION "
                                                   "SELECT pdf_path FROM documents "
                                                   "WHERE pdf_path IS NOT NULL")}
    for p in files_under(os.path.join(d.spool, "outgoing")):
        if os.path.realpath(p) not in recorded:
            viol.add("stray file in outgoing/", p)
    docs = {r["id"]: dict(r) for r in q("SELECT * FROM documents")}
    for w in workers:
        for d_id, m in w.docs.items():
            row = docs.get(d_id)
            if row is None:
                viol.add("a document the client made is gone", str(d_id))
                continue
            if m["issued"] is not None and (row["state"] != "issued" or row["symbol"] != m["issued"]):
                viol.add("the client saw it issued, the store does not",
                         f"{d_id}: client {m['issued']}, store {row['state']} {row['symbol']}")
            if "issued" in m["seen"] and row["state"] != "issued":
                viol.add("issued document changed state", f"{d_id}: {row['state']}")
            if m["withdrawn"] and "withdrawn" in m["seen"] and row["state"] != "withdrawn":
                viol.add("withdrawn document changed state", f"{d_id}: {row['state']}")
        for body, ser, number in w.voids:
            r = q("SELECT voided_at FROM register WHERE body = ? AND series = ? AND number = ?",
                  body, ser, number)
            if not r or r[0][0] is None:
                viol.add("a void the client saw is not in the register", f"{body} {ser} {number}")
    # the register as vanthuctl prints it
    party = sum(len(nums) for (body, _), nums in series.items() if body == "TU")
    print(f"crashloop: {party} Party numbers (TU) among "
          f"{sum(len(n) for n in series.values())} in the register", flush=True)
    for (body, ser), nums in series.items():
        entries = ctl_register.get((body, ser))
        if entries is None or sorted(e["number"] for e in entries) != sorted(nums):
            viol.add("`vanthuctl register` differs from the store", f"{body} {ser}")

    # ---- rounds: every automatic draft once ----
    for r in q("SELECT id, reminder_doc, conclusion_doc, state FROM rounds"):
        drafts = {x[0] for x in q("SELECT id FROM documents WHERE round_id = ?", r["id"])}
        own = {x for x in (r["reminder_doc"], r["conclusion_doc"]) if x}
        missing = q("SELECT count(*) FROM round_units u WHERE round_id = ? AND NOT EXISTS "
                    "(SELECT 1 FROM reports p WHERE p.round_id = u.round_id AND "
                    "p.unit_code = u.unit_code)", r["id"])[0][0]
        if missing == 0 and (r["state"] != "closed" or not r["conclusion_doc"]):
            viol.add("every unit reported, the round is not concluded",
                     f"{r['id']}: {r['state']}, conclusion {r['conclusion_doc']}")
        if drafts != own:
            viol.add("a round's automatic drafts are not taken once",
                     f"{r['id']}: documents {sorted(drafts)}, recorded {sorted(own)}")

    # ---- the audit chain links ----
    prev = None
    for r in q("SELECT id, prev_hash, hash FROM audit ORDER BY id"):
        if prev is not None and r["prev_hash"] != prev:
            viol.add("audit chain broken", f"entry {r['id']}")
            break
        prev = r["hash"]
    stats = {
        "inputs": len(written), "intake": sum(len(v) for v in intake.values()),
        "reports": q("SELECT count(*) FROM reports")[0][0],
        "documents": len(docs), "issued": len(reg),
        "voided": q("SELECT count(*) FROM register WHERE voided_at IS NOT NULL")[0][0],
        "rounds": q("SELECT count(*) FROM rounds")[0][0],
        "concluded": q("SELECT count(*) FROM rounds WHERE conclusion_doc IS NOT NULL")[0][0],
        "audit": q("SELECT count(*) FROM audit")[0][0],
    }
    con.close()
    return stats


def check_signed(q, viol):
    """Signed digitally: the leader's PDF; issued: the sealed PDF, two valid signatures."""
    def same(path, sha):
        return path and os.path.isfile(path) and \
            hashlib.sha256(open(path, "rb").read()).hexdigest() == sha
    n = 0
    for doc in q("SELECT * FROM documents WHERE state IN ('signed', 'issued')"):
        d_id = doc["id"]
        if not same(doc["signed_pdf_path"], doc["signed_pdf_sha256"]):
            viol.add("signed document without its leader's PDF", f"{d_id}: {doc['signed_pdf_path']}")
            continue
        if doc["state"] != "issued":
            continue
        if not same(doc["pdf_path"], doc["pdf_sha256"]):
            viol.add("issued document without its sealed PDF", f"{d_id}: {doc['pdf_path']}")
            continue
        roles = [r[0] for r in q("SELECT role FROM signatures WHERE document_id = ? "
                                 "AND pdf_sha256 IN (?, ?) ORDER BY id", d_id,
                                 doc["signed_pdf_sha256"], doc["pdf_sha256"])]
        if roles != ["leader", "organisation"]:
            viol.add("signatures recorded are not the leader's then the organisation's",
                     f"{d_id}: {roles}")
        out = subprocess.run(["pdfsig", doc["pdf_path"]], capture_output=True, text=True).stdout
        if out.count("Signature Validation: Signature is Valid.") != 2 or "Signature #3" in out:
            viol.add("sealed PDF not two valid signatures (pdfsig)", f"{d_id}:\n{out[:1500]}")
        n += 1
    print(f"crashloop: {n} sealed PDFs checked with pdfsig", flush=True)


def scan_log(d, viol):
    """Sanitizer reports are violations; error lines are counted, and the first few shown."""
    log = d.read_log()
    for marker in SAN_MARKERS:
        if marker in log:
            i = log.index(marker)
            viol.add("sanitizer report in vanthud's log", log[max(0, i - 200):i + 3000])
            break
    errors = [line for line in log.splitlines() if " vanthud error: " in line]
    for line in errors[:5]:
        print(f"log: {line[:300]}")
    return len(errors)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cycles", type=int, default=5)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--bin", default=os.path.join(REPO, "build", "san"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--no-signing", action="store_true",
                    help="no [signing]: documents are signed and issued as DOCX only")
    ap.add_argument("--workers", type=int, default=4, help="document workers")
    ap.add_argument("--rate", type=float, default=40, help="inputs per second, on average")
    ap.add_argument("--min-up", type=float, default=1.0, help="shortest life of a daemon, s")
    ap.add_argument("--max-up", type=float, default=4.0, help="longest life of a daemon, s")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("crashloop: needs root (real role users act through vanthuctl)", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    os.environ["VANTHU_BIN"] = os.path.abspath(args.bin)
    sys.path.insert(0, E2E)
    import harness
    started = time.time()
    rng = random.Random(seed)
    viol = Violations()
    root = tempfile.mkdtemp(prefix="vanthu-crash-")
    print(f"crashloop: {args.cycles} cycles, seed {seed}, bin {harness.VANTHUD}, folder {root}",
          flush=True)
    # settle at its default (2 s): a careless writer's pauses stay well under it even on a
    # loaded machine, so a file written in place is never taken half written
    if not args.no_signing:
        make_signing(root)
    d = harness.Daemon(root=root, intake_batch=32, intake_settle=2000,
                       extra=PARTY + SIGNING.get("extra", ""))
    for sub in ("docs", "backups"):
        os.makedirs(os.path.join(root, sub))
        os.chmod(os.path.join(root, sub), 0o755)
    up = threading.Event()
    flood = Flood(d, random.Random(rng.random()), args.rate, viol)
    issuing = threading.Event()
    dead = threading.Event()
    workers = [Worker(d, i, random.Random(rng.random()), viol, up, issuing, dead)
               for i in range(args.workers)]

    def alive(secs, until=None):
        """Waits secs (or until `until` is set) watching vanthud; False once it died on its own."""
        end = time.time() + secs
        while True:
            if d.proc.poll() is not None:
                if not dead.is_set():
                    dead.set()
                    viol.add("vanthud died on its own",
                             f"exit {d.proc.returncode} in cycle {flood.cycle}:\n"
                             f"{d.read_log()[-3000:]}")
                return False
            left = end - time.time()
            if left <= 0 or (until is not None and until.is_set()):
                return True
            time.sleep(min(0.05, left))

    backups = Backups(d, random.Random(rng.random()), viol, up, dead)
    stats = {}
    try:
        d.start()
        up.set()
        flood.start()
        for w in workers:
            w.start()
        backups.start()
        for cycle in range(1, args.cycles + 1):
            flood.cycle = cycle
            t0 = time.time()
            life = rng.uniform(args.min_up, args.max_up)
            aim = rng.random() < 0.4
            if rng.random() < 0.15:
                life = rng.uniform(0, 0.3)  # soon after READY=1: replaying claimed/, publishing
                aim = False
                ok = alive(life)
            elif aim:
                # some kills aim at an issue in flight: numbered, DOCX half written
                ok = alive(args.min_up)
                issuing.clear()
                ok = ok and alive(max(0.0, life - args.min_up), until=issuing)
                ok = ok and alive(rng.uniform(0, 0.4))
                life = time.time() - t0
            else:
                ok = alive(life)
            if not ok:
                break
            up.clear()
            pid = d.proc.pid
            d.kill()
            down = rng.uniform(0, 0.5)
            time.sleep(down)
            early = ""
            if rng.random() < 0.15:
                # killed again while starting (opening the database, before READY=1)
                d.start(wait=False)
                t = rng.uniform(0.02, 0.4)
                time.sleep(t)
                early = f", killed again {t:.2f} s into its start"
                if d.proc.poll() is not None:
                    viol.add("vanthud exited while starting", d.read_log()[-3000:])
                d.kill()
            d.start()
            up.set()
            check_db_live(d, viol, f"cycle {cycle}")
            issued = sum(1 for w in workers for m in w.docs.values() if m["issued"])
            print(f"cycle {cycle:3d}: pid {pid} killed after {life:.2f} s"
                  f"{' (aimed at an issue)' if aim else ''}, down {down:.2f} s{early}; "
                  f"inputs {len(flood.inputs)}, documents {sum(len(w.docs) for w in workers)}, "
                  f"issued {issued}, cut calls {sum(w.cuts for w in workers)}, "
                  f"{sum(w.calls for w in workers)} calls avg "
                  f"{sum(w.call_time for w in workers) / max(1, sum(w.calls for w in workers)):.2f} s, "
                  f"violations {len(viol.items)} ({time.time() - t0:.1f} s)", flush=True)
        flood.finish()
        backups.stop.set()
        for w in workers:
            w.stop.set()
        backups.join(180)
        for w in workers:
            w.join(180)
            if w.is_alive():
                viol.add("worker did not finish", w.name)
        if dead.is_set():
            scan_log(d, viol)
            raise Dead()
        settle(d, flood, viol)
        backups.finish()
        r = d.ctl("verify", user="vtt-giang", json_out=True)
        if r.returncode != 0:
            viol.add("vanthuctl verify", r.stdout[:2000] + r.stderr[:2000])
        ctl_register = {}
        con = sqlite3.connect(d.db, timeout=30)
        keys = con.execute("SELECT DISTINCT body, series, term, type FROM register").fetchall()
        con.close()
        for body, ser, term, typ in keys:
            where = ("--body", body, "--term", term, "--type", typ) if term else \
                ("--body", body, "--year", ser)
            r = d.ctl("register", *where, user="vtt-dung", json_out=True)
            if r.returncode != 0:
                viol.add("vanthuctl register", r.stderr)
            else:
                ctl_register[(body, ser)] = r.json["result"]["entries"]
        try:
            d.stop()
        except AssertionError as e:
            viol.add("vanthud did not stop cleanly", str(e)[-3000:])
        log_errors = scan_log(d, viol)
        stats = final_checks(d, flood, workers, viol, ctl_register)
        stats["log errors"] = log_errors
        backups.check()
        stats["backups"] = f"{len(backups.done)} (calls cut {backups.cuts})"
    except Dead:
        print("crashloop: vanthud died on its own; the final checks are skipped", flush=True)
    except Exception as e:
        import traceback
        traceback.print_exc()
        viol.add("crashloop itself failed", repr(e))
    finally:
        flood.stop.set()
        backups.stop.set()
        for w in workers:
            w.stop.set()
        d.kill()
    took = time.time() - started
    print(f"crashloop: {args.cycles} cycles in {took:.1f} s (seed {seed}): " +
          ", ".join(f"{k} {v}" for k, v in stats.items()) +
          f"; cut client calls {sum(w.cuts for w in workers)}, issue calls cut "
          f"{sum(m['cut_issue'] for w in workers for m in w.docs.values())} (then issued "
          f"{sum(m['cut_issue'] and m['issued'] is not None for w in workers for m in w.docs.values())})",
          flush=True)
    if args.keep:
        print(f"crashloop: kept {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    if viol.items:
        kinds = {}
        for what, _ in viol.items:
            kinds[what] = kinds.get(what, 0) + 1
        print(f"crashloop: FAILED, {len(viol.items)} violations:")
        for what, n in kinds.items():
            print(f"  - {what} (x{n})")
        return 1
    print("crashloop: OK, no violation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
