"""End-to-end tests of the exchange between two offices (issue 16): a province (P) and a commune
(C), each its own vanthud with its own PKI and tokens, exchanging issued documents through the
folder transport (the test plays the gateway, moving files from one office's exchange/out to the
other's exchange/in) and through a real nats-server with JetStream. The packages are read with
xml.etree, the PDF taken out of one with pdfsig and qpdf; everything else through the real
vanthuctl as real users (vtt-ana drafts, vtt-binh reviews, vtt-chi signs, vtt-dung is the văn thư)."""
import atexit
import base64
import csv
import datetime
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

from harness import IS_ROOT, REPO
from exchange_util import (COMMUNE_ID, DEPARTMENT_ID, PROVINCE_ID, Office, make_pkis,
                           status_codes, wait_for)

sys.path.insert(0, os.path.join(REPO, "tests", "tools"))
import natscluster  # noqa: E402

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
E = "{%s}" % NS
# exchange.md: MessageHeader's children, in this order (Content, DueDate optional)
HEADER_ORDER = ["From", "To", "Code", "PromulgationInfo", "DocumentType", "Subject", "Content",
                "SignerInfo", "DueDate", "ToPlaces", "OtherInfo", "SteeringType", "DocumentId",
                "ResponseFor"]
REQUIRED = ["From", "To", "Code", "PromulgationInfo", "DocumentType", "Subject", "SignerInfo",
            "OtherInfo", "SteeringType", "DocumentId"]
REGISTER_COLS = ["Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu", "Ngày tháng văn bản",
                 "Tên loại và trích yếu", "Đơn vị hoặc người nhận", "Ngày chuyển", "Ký nhận",
                 "Ghi chú"]
P_NAME = "Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu"
C_NAME = "Ủy ban nhân dân xã Phước Hội"
VIET = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹáàãéèíìóòõúùýĐ]",
                  re.I)
REPORT = os.path.join(REPO, "workflows", "bao-cao", "examples", "05-xa-phuoc-hoi.xml")


def local(tag):
    return tag.split("}", 1)[-1]


def spool_dir(office, which):
    return os.path.join(office.d.spool, "exchange", which)


def put(office, name, data):
    """A gateway's drop into office's exchange/in: a hidden temporary name, then renamed."""
    d = spool_dir(office, "in")
    tmp = os.path.join(d, "." + name + ".part")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(d, name))


def relay(offices, keep=None):
    """The gateway: every file of each office's exchange/out goes to its recipient's
    exchange/in (the recipient is the name's part before "~"). keep(name, data) sees each.
    The number of files moved."""
    by_id = {o.org_id: o for o in offices}
    n = 0
    for o in offices:
        out = spool_dir(o, "out")
        for name in sorted(os.listdir(out)):
            if name.startswith(".") or not name.endswith(".edxml"):
                continue  # vanthud's temporary NAME.tmp, renamed into place when complete
            dst = by_id.get(name.split("~")[0])
            if dst is None:
                continue
            path = os.path.join(out, name)
            with open(path, "rb") as f:
                data = f.read()
            if keep:
                keep(name, data)
            put(dst, name, data)
            os.unlink(path)
            n += 1
    return n


def pump(offices, what, pred, timeout=40):
    """Relays until pred() holds."""
    def step():
        relay(offices)
        return pred()
    return wait_for(what, step, timeout=timeout, step=0.3)


def out_package(office, key, timeout=20):
    """The bytes of the package for key waiting in office's exchange/out (left there)."""
    def find():
        for name in os.listdir(spool_dir(office, "out")):
            if name.startswith(".") or not name.endswith(".edxml"):
                continue
            with open(os.path.join(spool_dir(office, "out"), name), "rb") as f:
                data = f.read()
            if key.encode() in data and b"AttachmentEncoded" in data:
                return (name, data)
        return None
    return wait_for(f"the package of {key} in {office.name}'s exchange/out", find, timeout)


def take_out(office, name):
    os.unlink(os.path.join(spool_dir(office, "out"), name))


def header(pkg):
    root = ET.fromstring(pkg)
    mh = root.find(f"{E}edXMLEnvelope/{E}edXMLHeader/{E}MessageHeader")
    assert mh is not None, pkg[:400]
    return root, mh


def child_text(el, *path):
    for p in path:
        el = next((c for c in el if local(c.tag) == p), None)
        if el is None:
            return None
    return (el.text or "").strip()


def attachments(root):
    enc = next((c for c in root if local(c.tag) == "AttachmentEncoded"), None)
    out = []
    for a in (enc if enc is not None else []):
        out.append({local(c.tag): (c.text or "") for c in a})
    return out


def entry_by_key(office, key):
    for e in office.incoming(limit=1000):
        if e.get("doc_key") == key:
            return e
    return None


def txt(office, *args, user="vtt-dung"):
    """vanthuctl --wide ARGS as user (tables unwrapped): its stdout; asserts exit 0."""
    r = office.ctl("--wide", *args, user=user)
    if r.returncode != 0:
        raise AssertionError(f"{office.name}: vanthuctl {' '.join(args)}: {r.returncode}\n"
                             f"{r.stdout}\n{r.stderr}")
    return r.stdout


def alive(office):
    """Fails, with the end of its log, when office's vanthud has died."""
    p = office.d.proc
    if p is not None and p.poll() is not None:
        raise AssertionError(f"{office.name}'s vanthud exited {p.returncode}:\n"
                             + office.d.read_log()[-6000:])


def fail_json(test, office, *args, user):
    r = office.ctl(*args, user=user, json_out=True)
    test.assertEqual(r.returncode, 1, r.stdout + r.stderr)
    msg = r.json["error"]["message"]
    test.assertRegex(msg, VIET, msg)
    return r.json["error"]


@unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
class FolderExchange(unittest.TestCase):
    """P (the province) and C (the commune), the folder transport, the test the gateway."""

    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="vanthu-xch-")
        os.chmod(cls.top, 0o755)
        infos, trust = make_pkis(cls.top, ["P", "C"])
        cls.P = Office(cls.top, "P", org_name=P_NAME, abbrev="UBND", org_id=PROVINCE_ID,
                       units=["XA-PHUOC-HOI", "SO-NV"], info=infos["P"], trust=trust,
                       exchange={"transport": "folder"})
        cls.C = Office(cls.top, "C", org_name=C_NAME, abbrev="UBND", org_id=COMMUNE_ID,
                       units=["UBND-TINH", "SO-NV"], info=infos["C"], trust=trust,
                       exchange={"transport": "folder"})
        try:
            cls.P.start()
            cls.C.start()
        except Exception:
            cls.P.cleanup()
            cls.C.cleanup()
            raise
        cls.both = [cls.P, cls.C]

    @classmethod
    def tearDownClass(cls):
        try:
            for o in cls.both:
                o.stop()
        finally:
            for o in cls.both:
                o.cleanup()
            if os.environ.get("VANTHU_KEEP"):
                print("kept", cls.top)
            else:
                shutil.rmtree(cls.top, ignore_errors=True)

    def tearDown(self):
        for o in self.both:
            alive(o)

    def deliver(self, doc, codes=("01", "03")):
        """Relays until C's statuses codes about P's doc are back at P; C's entry."""
        key = self.P.delivery(doc)["key"]
        pump(self.both, f"statuses {codes} of {key}",
             lambda: set(codes) <= set(self.codes(doc)))
        return entry_by_key(self.C, key)

    def codes(self, doc, office=None, recipient=COMMUNE_ID):
        return ["%02d" % int(c) for c in status_codes(office or self.P, doc, recipient)]

    def p_issue(self, summary, units=("XA-PHUOC-HOI",)):
        doc, sym = self.P.issue(summary, list(units))
        return doc, sym, self.P.delivery(doc)["key"]

    # ---- 1 ----

    def test_1_package_register_and_statuses(self):
        P, C = self.P, self.C
        doc, sym, key = self.p_issue("Về việc triển khai liên thông văn bản điện tử",
                                     ("XA-PHUOC-HOI", "SO-NV"))
        shown = P.j("show", str(doc))
        issued = shown["issued_on"]
        self.assertEqual(key, f"{PROVINCE_ID},{issued.replace('-', '/')},{sym}")
        name, pkg = out_package(P, key)
        self.assertTrue(name.startswith(COMMUNE_ID + "~"), name)
        self.assertEqual(len(os.listdir(spool_dir(P, "out"))), 1)  # nothing for the paper one
        root, mh = header(pkg)
        self.assertEqual(root.tag, "edXML")  # no prefix, as AttachmentEncoded
        # the children of MessageHeader: exchange.md's order, each required one there
        tags = [local(c.tag) for c in mh]
        for c in mh:
            self.assertTrue(c.tag.startswith(E), c.tag)
        for t in REQUIRED:
            self.assertIn(t, tags)
        self.assertEqual([t for t in HEADER_ORDER if t in tags], tags)
        self.assertEqual(child_text(mh, "From", "OrganId"), PROVINCE_ID)
        self.assertEqual(child_text(mh, "From", "OrganName"), P_NAME)
        to = [c for c in mh if local(c.tag) == "To"]
        self.assertEqual([child_text(t, "OrganId") for t in to], [COMMUNE_ID])
        self.assertEqual(child_text(to[0], "OrganName"), C_NAME)
        places = [p.text for p in next(c for c in mh if local(c.tag) == "ToPlaces")]
        self.assertIn("Sở Nội vụ", places)
        num, notation = sym.split("/")
        self.assertEqual(child_text(mh, "Code", "CodeNumber"), num)
        self.assertEqual(child_text(mh, "Code", "CodeNotation"), notation)
        self.assertEqual(child_text(mh, "PromulgationInfo", "PromulgationDate"),
                         issued.replace("-", "/"))
        self.assertEqual(child_text(mh, "DocumentType", "TypeName"), "Thông báo")
        self.assertEqual(child_text(mh, "Subject"), "Về việc triển khai liên thông văn bản điện tử")
        self.assertEqual(child_text(mh, "SignerInfo", "Competence"), "TL.")
        self.assertEqual(child_text(mh, "SignerInfo", "FullName"), "Đặng Minh Thông")
        self.assertEqual(child_text(mh, "OtherInfo", "Priority"), "0")  # a thông báo: thường
        self.assertEqual(child_text(mh, "DocumentId"), key)
        # the attachment: exactly the sender's PDF, its SHA-256 in the Description
        pdf_p = os.path.join(P.out, f"p-{doc}.pdf")
        P.ctl("pdf", str(doc), "-o", pdf_p, user="vtt-dung")
        sent = open(pdf_p, "rb").read()
        atts = attachments(root)
        self.assertEqual(len(atts), 1, atts)
        self.assertEqual(atts[0]["ContentType"], "application/pdf")
        data = base64.b64decode(atts[0]["ContentTransferEncoded"])
        self.assertEqual(data, sent)
        self.assertIn(hashlib.sha256(data).hexdigest(), atts[0]["Description"])
        refs = root.findall(f"{E}edXMLEnvelope/{E}edXMLBody/{E}edXMLManifest/{E}Reference")
        self.assertEqual(len(refs), 1)
        self.assertEqual(child_text(refs[0], "ContentId"), atts[0]["ContentId"].strip())
        taken = os.path.join(self.top, f"taken-{doc}.pdf")
        with open(taken, "wb") as f:
            f.write(data)
        sig = subprocess.run(["pdfsig", taken], capture_output=True, text=True).stdout
        self.assertEqual(sig.count("Signature Validation: Signature is Valid."), 2, sig)
        q = subprocess.run(["qpdf", "--check", taken], capture_output=True, text=True)
        self.assertIn(q.returncode, (0, 3), q.stdout + q.stderr)
        self.assertIn("No syntax or stream encoding errors", q.stdout)

        # C registers it; 01 and 03 reach P
        e = self.deliver(doc)
        self.assertIsNotNone(e)
        self.assertEqual(e["sender_id"], PROVINCE_ID)
        self.assertEqual(e["code"], sym)
        self.assertEqual(e["state"], "registered")
        out = txt(C, "incoming")
        self.assertIn(sym, out)
        self.assertIn("đã vào sổ, chờ phân công", out)
        self.assertIn(P_NAME, out)
        show = txt(C, "incoming", "show", str(e["id"]))
        for s in (f"{e['number']}/", P_NAME, PROVINCE_ID, "Thông báo " + sym,
                  "Về việc triển khai liên thông văn bản điện tử", "qua cổng kết nối", key,
                  "hợp lệ", "đã vào sổ, chờ phân công"):
            self.assertIn(s, show)
        self.assertNotIn("KHÔNG hợp lệ", show)
        js = C.j("incoming", "show", str(e["id"]))["incoming"]
        self.assertEqual(js["pdf_sha256"], hashlib.sha256(sent).hexdigest())
        self.assertTrue(js["verify"]["all_valid"])
        self.assertEqual(js["verify"]["count"], 2)
        # the register as CSV: Phụ lục IV's columns, the row in Vietnamese
        r = C.ctl("incoming", "register", "--csv", user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("\ufeff"))
        rows = list(csv.reader(io.StringIO(r.stdout[1:], newline="")))
        self.assertEqual(rows[0], REGISTER_COLS)
        row = next(x for x in rows[1:] if x[3] == sym)
        self.assertEqual(row[1], str(e["number"]))
        self.assertEqual(row[2], P_NAME)
        y, m, d = issued.split("-")
        self.assertEqual(row[4], f"{int(d):02d}/{int(m):02d}/{y}")  # dd/mm/yyyy
        self.assertEqual(row[5], "Thông báo: Về việc triển khai liên thông văn bản điện tử")
        self.assertIn("điện tử", row[9])
        # the PDF as received: the same bytes
        pdf_c = os.path.join(C.out, f"c-{e['id']}.pdf")
        r = C.ctl("incoming", "pdf", str(e["id"]), "-o", pdf_c, user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(open(pdf_c, "rb").read(), sent)
        # kept once: the package as it came, named by its SHA-256; the PDF is read from it
        self.assertIsNone(js.get("pdf_path"))
        pkg = js["package_path"]
        with open(pkg, "rb") as f:
            kept = f.read()
        self.assertEqual(os.path.basename(pkg), hashlib.sha256(kept).hexdigest() + ".edxml")
        self.assertEqual([n for n in os.listdir(os.path.dirname(pkg)) if n.endswith(".pdf")], [])
        # a package changed on disk gives no PDF, and says so
        i = kept.index(b"AttachmentEncoded>")
        i = kept.index(b"ContentTransferEncoded>", i) + 200
        bad = kept[:i] + (b"A" if kept[i:i + 1] != b"A" else b"B") + kept[i + 1:]
        try:
            with open(pkg, "wb") as f:
                f.write(bad)
            r = C.ctl("incoming", "pdf", str(e["id"]), "-o", pdf_c + ".bad", user="vtt-dung")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("không còn nguyên vẹn", r.stderr)
            self.assertFalse(os.path.exists(pdf_c + ".bad"))
        finally:
            with open(pkg, "wb") as f:
                f.write(kept)
        # the sender's view
        out = txt(P, "delivery", str(doc))
        self.assertIn("03 đã tiếp nhận", out)
        self.assertIn("gửi bản giấy", out)
        self.assertIn("Sở Nội vụ", out)
        dl = {x["name"]: x for x in P.delivery(doc)["deliveries"]}
        self.assertEqual(dl["Sở Nội vụ"]["via"], "paper")
        self.assertEqual(dl[C_NAME]["via"], "exchange")
        self.assertEqual(int(dl[C_NAME]["status"]), 3)
        self.assertIsNotNone(dl[C_NAME]["arrived_at"])
        # show of the issued document says where it went
        self.assertIn("1 nơi nhận qua trục (1 đã đến), 1 bản giấy", txt(P, "show", str(doc)))

    # ---- 2 ----

    def test_2_assignment_progress_extension_reply(self):
        P, C = self.P, self.C
        doc, sym, key = self.p_issue("Về việc rà soát hồ sơ trực tuyến toàn trình")
        e = self.deliver(doc)
        eid = str(e["id"])
        # only a leader assigns
        err = fail_json(self, C, "assign", eid, "--lead", "vtt-hai", "--due", "+5", "-m",
                        "Giao xử lý", user="vtt-ana")
        self.assertEqual(err["code"], "E_DENIED")
        self.assertIn("lãnh đạo", err["message"])
        r = C.ctl("assign", eid, "--lead", "vtt-hai", "--support", "vtt-binh", "--info",
                  "vtt-dung", "--due", "+5", "-m", "Đồng chí Hải chủ trì, báo cáo trước hạn",
                  user="vtt-chi")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Đã phân công", r.stdout)
        shown = C.j("incoming", "show", eid)
        self.assertEqual(shown["incoming"]["state"], "assigned")
        lead = next(a for a in shown["assignments"] if a["role"] == "lead")
        self.assertEqual(lead["who"], "vtt-hai")
        # +5 working days: a weekday, at least five weekdays after today
        today = datetime.date.fromisoformat(shown["today"])
        due = datetime.date.fromisoformat(lead["due"])
        self.assertLess(due.weekday(), 5)
        naive, n = today, 0
        while n < 5:
            naive += datetime.timedelta(days=1)
            n += naive.weekday() < 5
        self.assertGreaterEqual(due, naive)
        self.assertLess((due - today).days, 40)
        support = next(a for a in shown["assignments"] if a["role"] == "support")
        self.assertEqual(support["due"], lead["due"])
        pump(self.both, "04 at P", lambda: "04" in self.codes(doc))
        # progress: the assignee only
        err = fail_json(self, C, "progress", eid, "-m", "Tôi xem giúp", user="vtt-giang")
        self.assertEqual(err["code"], "E_DENIED")
        self.assertIn("không được phân công", err["message"])
        fail_json(self, C, "progress", eid, "-m", "Để biết thôi", user="vtt-dung")
        r = C.ctl("progress", eid, "-m", "Đã tổng hợp số liệu của 6 ấp", user="vtt-hai")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        pump(self.both, "05 at P", lambda: "05" in self.codes(doc))
        st5 = [s for s in P.delivery(doc)["statuses"] if int(s["code"]) == 5]
        self.assertIn("Đã tổng hợp số liệu của 6 ấp", st5[0]["description"])
        # the extension, with its reason, in the audit trail
        fail_json(self, C, "extend", str(lead["id"]), "--due", "+10", "-m", "Xin thêm thời gian",
                  user="vtt-hai")
        reason = "Chờ số liệu bổ sung của Công an xã"
        r = C.ctl("extend", str(lead["id"]), "--due", "+10", "-m", reason, user="vtt-chi")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Đã gia hạn", r.stdout)
        lead2 = next(a for a in C.j("incoming", "show", eid)["assignments"] if a["role"] == "lead")
        self.assertGreater(lead2["due"], lead["due"])
        self.assertEqual(int(lead2["extended"]), 1)
        audit = txt(C, "audit", "--limit", "50")
        self.assertIn(reason, audit)
        self.assertIn(reason, C.ctl("--json", "audit", user="vtt-dung").stdout)
        # the sổ theo dõi
        fu = C.j("followup")
        row = next(x for x in fu["entries"] if x["number"] == e["number"])
        self.assertEqual(row["deadline"], lead2["due"])
        self.assertFalse(row["late"])
        self.assertIn("Đã tổng hợp số liệu", txt(C, "followup"))
        # the reply, drafted at C with --answers: the entry is done, P hears 06
        rdoc, rsym = C.issue("Báo cáo kết quả rà soát hồ sơ trực tuyến toàn trình", ["UBND-TINH"],
                             answers=e["id"])
        self.assertEqual(C.j("incoming", "show", eid)["incoming"]["state"], "done")
        fu = C.j("followup")
        row = next(x for x in fu["entries"] if x["number"] == e["number"])
        self.assertEqual(row["reply_symbol"], rsym)
        self.assertIn(rsym, txt(C, "followup"))
        pump(self.both, "06 at P", lambda: "06" in self.codes(doc))
        self.assertIn("06 hoàn thành", txt(P, "delivery", str(doc)))
        # the reply itself reaches P, naming what it answers
        rkey = C.delivery(rdoc)["key"]
        pump(self.both, "the reply registered at P", lambda: entry_by_key(P, rkey))
        pe = P.j("incoming", "show", str(entry_by_key(P, rkey)["id"]))["incoming"]
        self.assertEqual(pe["response_for"], key)
        # another entry closed without a reply
        doc2, _, _ = self.p_issue("Về việc cử cán bộ dự tập huấn kỹ năng số")
        e2 = str(self.deliver(doc2)["id"])
        fail_json(self, C, "incoming", "done", e2, "-m", "Không cần trả lời", user="vtt-hai")
        r = C.ctl("assign", e2, "--lead", "vtt-hai", "--due", "+3", "-m", "Đồng chí Hải dự",
                  user="vtt-chi")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        note = "Đã cử đồng chí Hải dự tập huấn, không cần văn bản trả lời"
        r = C.ctl("incoming", "done", e2, "-m", note, user="vtt-hai")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(C.j("incoming", "show", e2)["incoming"]["state"], "done")
        self.assertEqual(fail_json(self, C, "incoming", "done", e2, "-m", "lần nữa",
                                   user="vtt-chi")["code"], "E_STATE")
        # progress on a closed entry: refused, said in Vietnamese from its state
        err = fail_json(self, C, "progress", e2, "-m", "Báo cáo thêm", user="vtt-hai")
        self.assertEqual(err["code"], "E_STATE")
        self.assertEqual(err["message"], f"văn bản đến {e2} đã giải quyết xong")
        pump(self.both, "06 of the second at P", lambda: "06" in self.codes(doc2))
        st6 = [s for s in P.delivery(doc2)["statuses"] if int(s["code"]) == 6]
        self.assertEqual(st6[0]["description"], note)

    # ---- 3 ----

    def test_3_refusals(self):
        P, C = self.P, self.C
        made = {}
        for what in ("wrong", "pdf", "noatt", "broken", "links"):
            doc, sym, key = self.p_issue(f"Về việc kiểm thử gói tin ({what})")
            name, pkg = out_package(P, key)
            take_out(P, name)  # the gateway will bring an edited one
            made[what] = (doc, key, pkg)
        before = {x["id"] for x in C.j("incoming", "refused")["refused"]}
        # addressed to another office
        wrong = made["wrong"][2].replace(COMMUNE_ID.encode(), DEPARTMENT_ID.encode())
        self.assertNotEqual(wrong, made["wrong"][2])
        # one byte of the PDF changed, its SHA-256 updated: only the signature catches it
        pkg = made["pdf"][2].decode()
        m = re.search(r"(<ContentTransferEncoded>)([^<]*)(</ContentTransferEncoded>)", pkg)
        data = bytearray(base64.b64decode(m.group(2)))
        old = hashlib.sha256(data).hexdigest()
        at = data.index(b"\n") + 2  # inside the binary comment after %PDF-x.y: still a PDF
        data[at] ^= 0x01
        new = hashlib.sha256(data).hexdigest()
        self.assertIn(old, pkg)
        pkg = pkg[:m.start(2)] + base64.b64encode(bytes(data)).decode() + pkg[m.end(2):]
        badpdf = pkg.replace(old, new).encode()
        # no attachment at all
        noatt = re.sub(r"<Attachment>.*?</Attachment>", "", made["noatt"][2].decode(), flags=re.S)
        noatt = re.sub(r"<edXML:Reference\b.*?</edXML:Reference>", "", noatt, flags=re.S).encode()
        self.assertNotIn(b"ContentTransferEncoded", noatt)
        # malformed XML: cut in the middle of the attachment
        broken = made["broken"][2][:len(made["broken"][2]) // 2]
        cases = {"wrong": wrong, "pdf": badpdf, "noatt": noatt, "broken": broken}
        for what, data in cases.items():
            put(C, f"{PROVINCE_ID}~test-{what}.edxml", data)
        # a symlink and a hard-linked file: left alone, not read
        good = os.path.join(self.top, "links-package.edxml")
        with open(good, "wb") as f:
            f.write(made["links"][2])
        os.symlink(good, os.path.join(spool_dir(C, "in"), "symlink.edxml"))
        os.link(good, os.path.join(spool_dir(C, "in"), "hardlink.edxml"))

        def refused_now():
            rows = [x for x in C.j("incoming", "refused")["refused"] if x["id"] not in before]
            return rows if len(rows) >= 4 else None
        rows = wait_for("four refusals at C", refused_now, timeout=30)
        self.assertEqual(len(rows), 4, rows)
        by_key = {x["doc_key"]: x for x in rows}
        reasons = {w: by_key[made[w][1]]["reason"] for w in cases}
        for w, why in reasons.items():
            self.assertRegex(why, VIET, (w, why))
        self.assertIn("không gửi đến cơ quan này", reasons["wrong"])
        self.assertIn("Chữ ký số", reasons["pdf"])
        self.assertIn("đã bị sửa", reasons["pdf"])
        self.assertEqual(reasons["noatt"], "Gói tin không có văn bản điện tử (tệp PDF đã ký số)")
        self.assertEqual(reasons["broken"], "Gói tin không đúng định dạng edXML")
        self.assertEqual(len(set(reasons.values())), 4)
        for w in cases:
            self.assertIsNone(entry_by_key(C, made[w][1]), w)
        listing = txt(C, "incoming", "refused")
        for why in reasons.values():
            self.assertIn(why, listing)
        # every refusal named its sender: 02 with the reason reaches P
        for w in cases:
            doc = made[w][0]
            pump(self.both, f"02 of {w} at P", lambda: "02" in self.codes(doc))
            st = [s for s in P.delivery(doc)["statuses"] if int(s["code"]) == 2]
            self.assertEqual(st[0]["description"], reasons[w], w)
            self.assertIn("02 từ chối tiếp nhận", txt(P, "delivery", str(doc)))
        # the links are still there, untouched, and nothing was registered from them
        time.sleep(1.5)
        self.assertTrue(os.path.islink(os.path.join(spool_dir(C, "in"), "symlink.edxml")))
        self.assertTrue(os.path.exists(os.path.join(spool_dir(C, "in"), "hardlink.edxml")))
        self.assertEqual(os.stat(good).st_nlink, 2)
        self.assertIsNone(entry_by_key(C, made["links"][1]))
        self.assertIn("not a regular file with one link; left alone", C.d.read_log())
        self.assertEqual(len(refused_now()), 4)
        # the daemon keeps serving: the same package as a plain file is registered
        os.unlink(os.path.join(spool_dir(C, "in"), "symlink.edxml"))
        os.unlink(os.path.join(spool_dir(C, "in"), "hardlink.edxml"))
        put(C, f"{PROVINCE_ID}~links.edxml", made["links"][2])
        self.assertEqual(self.deliver(made["links"][0])["state"], "registered")
        self.assertGreaterEqual(C.j("status")["exchange"]["refused"], 4)

    # ---- 4 ----

    def test_4_duplicates_and_gapless_numbers(self):
        P, C = self.P, self.C
        today = P.j("incoming")["today"]
        keys = []
        for i in range(3):
            r = C.j("incoming", "add", "--from", "Sở Nội vụ", "--code", f"{40 + i}/SNV-VP",
                    "--date", today, "--type", "Công văn",
                    "--subject", f"Về việc tuyển dụng công chức cấp xã đợt {i + 1}")
            self.assertGreater(r["number"], 0)
            doc, sym, key = self.p_issue(f"Về việc thống kê số liệu đợt {i + 1}")
            name, pkg = out_package(P, key)
            take_out(P, name)
            # the same package twice at once, under two names
            put(C, f"{PROVINCE_ID}~a{i}.edxml", pkg)
            put(C, f"{PROVINCE_ID}~b{i}.edxml", pkg)
            self.deliver(doc)
            # and once more, later
            put(C, f"{PROVINCE_ID}~c{i}.edxml", pkg)
            wait_for("in/ emptied", lambda: not [n for n in os.listdir(spool_dir(C, "in"))
                                                 if not n.startswith(".")], timeout=20)
            keys.append(key)
        reg = C.j("incoming", "register")["entries"]
        numbers = [int(x["number"]) for x in reg]
        self.assertEqual(sorted(numbers), list(range(1, len(reg) + 1)))
        self.assertEqual(len(numbers), len(set(numbers)))
        for key in keys:
            self.assertEqual(sum(1 for x in reg if x.get("doc_key") == key), 1, key)
        self.assertEqual(len(C.incoming(limit=1000)), len(reg))
        vias = [x["via"] for x in sorted(reg, key=lambda x: int(x["number"]))][-6:]
        self.assertEqual(vias, ["paper", "folder"] * 3)
        self.assertIn("bản giấy", txt(C, "incoming", "register"))
        # a paper arrival is the clerk's: a drafter cannot add one
        r = C.ctl("incoming", "add", "--from", "X", "--code", "1/X", "--date", today, "--type",
                  "Công văn", "--subject", "Y", user="vtt-ana")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)

    # ---- 5 ----

    def test_5_recall(self):
        P, C = self.P, self.C
        d1, _, k1 = self.p_issue("Về việc tạm dừng thu phí dịch vụ công")
        d2, _, k2 = self.p_issue("Về việc điều chỉnh kế hoạch kiểm tra")
        self.deliver(d1)
        e2 = self.deliver(d2)
        r = C.ctl("assign", str(e2["id"]), "--lead", "vtt-hai", "--due", "+3", "-m", "Xử lý",
                  user="vtt-chi")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = P.ctl("recall", str(d1), user="vtt-dung")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)  # no reason: usage
        for d in (d1, d2):
            r = P.ctl("recall", str(d), "-m", "Văn bản ban hành nhầm, sẽ ban hành lại",
                      user="vtt-dung")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        def answers():
            a = {}
            for d in (d1, d2):
                x = next(x for x in P.delivery(d)["deliveries"] if x["recipient_id"] == COMMUNE_ID)
                a[d] = x["recall_answer"]
            return a if all(a.values()) else None
        a = pump(self.both, "answers to the recalls", answers)
        self.assertEqual(int(a[d1]), 15)
        self.assertEqual(int(a[d2]), 16)
        self.assertEqual(entry_by_key(C, k1)["state"], "recalled")
        self.assertEqual(entry_by_key(C, k2)["state"], "assigned")
        self.assertIn("bên gửi đã thu hồi", txt(C, "incoming", "show", str(entry_by_key(C, k1)["id"])))
        self.assertIn("15 đồng ý lấy lại", txt(P, "delivery", str(d1)))
        self.assertIn("16 từ chối lấy lại", txt(P, "delivery", str(d2)))
        err = fail_json(self, P, "recall", str(d1), "-m", "lần nữa", user="vtt-dung")
        self.assertEqual(err["code"], "E_STATE")
        # a recalled entry cannot be answered
        f = C.doc_file("Trả lời văn bản đã thu hồi", ["UBND-TINH"])
        r = C.ctl("--json", "new", "thong-bao", f, "--answers", str(entry_by_key(C, k1)["id"]),
                  user="vtt-ana")
        self.assertNotEqual(r.returncode, 0, r.stdout)

    # ---- 7 ----

    def test_7_round_across_offices(self):
        P, C = self.P, self.C
        today = datetime.date.fromisoformat(P.j("incoming")["today"])
        deadline = today + datetime.timedelta(days=21)
        while deadline.weekday() >= 5:
            deadline += datetime.timedelta(days=1)
        rid = "LT-CDS-2026"
        round_xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<round xmlns="urn:vanthu:round:1" id="{rid}">
  <subject>báo cáo kết quả triển khai chuyển đổi số năm 2026</subject>
  <request number="125" symbol="UBND-VP" date="{today}" issuer="Ủy ban nhân dân tỉnh"/>
  <units>
    <unit code="XA-PHUOC-HOI"/>
    <unit code="SO-NV"/>
  </units>
  <deadline date="{deadline}"/>
  <close working-days-after="3"/>
  <remind working-days-before="2"/>
  <conclusion kind="thong-bao">
    <drafting-unit>VP</drafting-unit>
    <chair>đồng chí Đặng Minh Thông, Phó Chủ tịch UBND tỉnh</chair>
    <signer login="vtt-chi">
      <line>KT. CHỦ TỊCH</line>
      <line>PHÓ CHỦ TỊCH</line>
      <name>Đặng Minh Thông</name>
    </signer>
    <recipients>
      <recipient group="cap-tren">Chủ tịch, các PCT UBND tỉnh (b/c)</recipient>
    </recipients>
    <archive>VT, VP</archive>
    <item>Các đơn vị chưa báo cáo khẩn trương gửi báo cáo.</item>
  </conclusion>
</round>
"""
        rpath = os.path.join(P.out, "round.xml")
        with open(rpath, "w", encoding="utf-8") as f:
            f.write(round_xml)
        os.chmod(rpath, 0o644)
        r = P.ctl("round", "new", rpath, user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        rep = open(REPORT, encoding="utf-8").read()
        rep = rep.replace('id="CDS-2024-Q1"', f'id="{rid}"').replace(
            'date="2024-03-10"', f'date="{today}"').replace(
            "<date>2024-03-27</date>", f"<date>{today}</date>")

        def report_file(name, text):
            path = os.path.join(C.out, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(path, 0o644)
            return path

        good = report_file("bao-cao.xml", rep)
        bad = report_file("bao-cao-hong.xml", rep.replace("<summary>", "<tom-tat>", 1)
                          .replace("</summary>", "</tom-tat>", 1))
        cdoc, csym = C.issue("Báo cáo kết quả triển khai chuyển đổi số năm 2026", ["UBND-TINH"],
                             report=good)
        bdoc, bsym = C.issue("Báo cáo kết quả chuyển đổi số (bản lỗi)", ["UBND-TINH"], report=bad)
        for d in (cdoc, bdoc):
            pump(self.both, f"03 of {d} at C",
                 lambda: "03" in self.codes(d, office=C, recipient=PROVINCE_ID))
        rd = P.j("round", rid)
        self.last_round = rd
        units = {u.get("code") or u.get("unit_code"): u for u in rd.get("units", [])}
        self.assertEqual(rd["on_time"], 1, rd)
        self.assertIn("XA-PHUOC-HOI", units, rd)
        self.assertEqual(units["XA-PHUOC-HOI"]["status"], "on_time", rd)
        self.assertNotEqual(units["SO-NV"]["status"], "on_time", rd)
        self.assertIn("Ủy ban nhân dân xã Phước Hội", txt(P, "round", rid))

        def desc03(d):
            return next(s["description"] for s in C.delivery(d)["statuses"] if int(s["code"]) == 3)
        ok, no = desc03(cdoc), desc03(bdoc)
        self.assertTrue(ok.startswith("Đã tiếp nhận, vào sổ văn bản đến. "), ok)
        self.assertNotEqual(ok, no)
        self.assertIn("Đợt báo cáo: " + rid, ok)
        self.assertIn("ĐÃ TIẾP NHẬN — báo cáo số", ok)
        self.assertTrue(no.startswith("Đã tiếp nhận, vào sổ văn bản đến. "), no)
        self.assertIn("BỊ TỪ CHỐI", no)
        self.assertIn("[R_SCHEMA]", no)
        self.assertIn("tom-tat", no)
        # both documents are in P's register all the same
        self.assertIsNotNone(entry_by_key(P, C.delivery(cdoc)["key"]))
        self.assertIsNotNone(entry_by_key(P, C.delivery(bdoc)["key"]))


@unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
class NatsExchange(unittest.TestCase):
    """The same two offices over one real nats-server with JetStream."""

    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="vanthu-xnats-")
        os.chmod(cls.top, 0o755)
        cls.nats = natscluster.Cluster(os.path.join(cls.top, "nats"), size=1, leaves=0)
        cls.nats.start()
        infos, trust = make_pkis(cls.top, ["P", "C"])
        x = {"transport": "nats", "servers": cls.nats.url("n1"), "retry_max": 2}
        cls.P = Office(cls.top, "P", org_name=P_NAME, abbrev="UBND", org_id=PROVINCE_ID,
                       units=["XA-PHUOC-HOI", "SO-NV"], info=infos["P"], trust=trust, exchange=x)
        cls.C = Office(cls.top, "C", org_name=C_NAME, abbrev="UBND", org_id=COMMUNE_ID,
                       units=["UBND-TINH", "SO-NV"], info=infos["C"], trust=trust, exchange=x)
        cls.both = [cls.P, cls.C]
        try:
            cls.P.start()
            cls.C.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            for o in cls.both:
                o.stop()
        finally:
            for o in cls.both:
                o.cleanup()
            cls.nats.stop()
            atexit.unregister(cls.nats.stop)  # its folder goes now
            if os.environ.get("VANTHU_KEEP"):
                print("kept", cls.top)
            else:
                shutil.rmtree(cls.top, ignore_errors=True)

    def tearDown(self):
        for o in self.both:
            alive(o)

    def codes(self, doc):
        return ["%02d" % int(c) for c in status_codes(self.P, doc, COMMUNE_ID)]

    def arrived(self, docs, timeout=60):
        """Waits until every doc is registered at C and 01, 03 are back at P; their keys."""
        keys = {d: self.P.delivery(d)["key"] for d in docs}
        wait_for("registered at C", lambda: all(entry_by_key(self.C, k) for k in keys.values()),
                 timeout=timeout)
        wait_for("01 and 03 at P", lambda: all({"01", "03"} <= set(self.codes(d)) for d in docs),
                 timeout=timeout)
        return keys

    def assert_once(self, keys):
        reg = self.C.j("incoming", "register")["entries"]
        numbers = sorted(int(x["number"]) for x in reg)
        self.assertEqual(numbers, list(range(1, len(reg) + 1)))
        for k in keys:
            self.assertEqual(sum(1 for x in reg if x.get("doc_key") == k), 1, k)

    def test_a_flow(self):
        doc, sym = self.P.issue("Về việc liên thông qua trục NATS", ["XA-PHUOC-HOI", "SO-NV"])
        keys = self.arrived([doc])
        e = entry_by_key(self.C, keys[doc])
        self.assertEqual(e["via"], "nats")
        self.assertIn("qua trục liên thông", txt(self.C, "incoming", "show", str(e["id"])))
        out = txt(self.P, "delivery", str(doc))
        self.assertIn("03 đã tiếp nhận", out)
        self.assertIn("gửi bản giấy", out)
        st = self.P.j("status")["exchange"]
        self.assertEqual(st["transport"], "nats")
        self.assertTrue(st["up"])
        r = self.C.ctl("assign", str(e["id"]), "--lead", "vtt-hai", "--due", "+2", "-m", "Xử lý",
                       user="vtt-chi")
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for("04 at P", lambda: "04" in self.codes(doc))
        self.assert_once(keys.values())

    def test_b_receiver_killed_during_delivery(self):
        docs = []
        for i in range(10):
            doc, _ = self.P.issue(f"Về việc số {i + 1} trong loạt mười văn bản", ["XA-PHUOC-HOI"])
            docs.append(doc)
            if i == 3:
                self.C.kill()  # SIGKILL while the stream is delivering
        self.assertTrue(self.C.d.proc.poll() is not None)
        self.C.start()
        keys = self.arrived(docs, timeout=90)
        self.assert_once(keys.values())
        for d in docs:
            self.assertEqual(sorted(set(self.codes(d))), ["01", "03"], d)

    def test_c_sender_killed_after_issue(self):
        doc, _ = self.P.issue("Về việc gửi ngay trước khi máy chủ tắt", ["XA-PHUOC-HOI"])
        self.P.kill()
        self.P.start()
        keys = self.arrived([doc])
        time.sleep(2)  # whatever the restarted sender resends is dropped or deduplicated
        self.assert_once(keys.values())
        wait_for("P's outbox empty", lambda: self.P.j("status")["exchange"]["outbox"] == 0, 30)

    def test_d_server_away(self):
        self.nats.kill("n1")
        try:
            wait_for("P sees the link down", lambda: not self.P.j("status")["exchange"]["up"], 30)
            doc, _ = self.P.issue("Về việc gửi khi trục liên thông ngừng", ["XA-PHUOC-HOI"])
            time.sleep(3)
            st = self.P.j("status")["exchange"]
            self.assertGreaterEqual(st["outbox"], 1, st)
            self.assertFalse(st["up"])
            self.assertIn("Liên thông", txt(self.P, "status"))
            self.assertIn("đang chờ gửi", txt(self.P, "delivery", str(doc)))
            key = self.P.delivery(doc)["key"]
            self.assertIsNone(entry_by_key(self.C, key))
        finally:
            self.nats.restart("n1")
        keys = self.arrived([doc], timeout=90)
        wait_for("P's outbox drained", lambda: self.P.j("status")["exchange"]["outbox"] == 0, 60)
        self.assert_once(keys.values())


@unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
class WithoutExchange(unittest.TestCase):
    """An office with [signing] and an id but no [exchange]: everything goes on paper."""

    def test_paper_only(self):
        top = tempfile.mkdtemp(prefix="vanthu-xnone-")
        os.chmod(top, 0o755)
        infos, trust = make_pkis(top, ["P"])
        P = Office(top, "P", org_name=P_NAME, abbrev="UBND", org_id=PROVINCE_ID,
                   units=["XA-PHUOC-HOI", "SO-NV"], info=infos["P"], trust=trust, exchange=None)
        try:
            P.start()
            doc, sym = P.issue("Về việc gửi văn bản khi chưa có liên thông", ["XA-PHUOC-HOI"])
            self.assertIn("không gửi qua trục", txt(P, "show", str(doc)))
            out = txt(P, "delivery", str(doc))
            self.assertIn("chưa cấu hình", out)
            self.assertFalse(P.delivery(doc)["exchange"])
            r = P.ctl("--json", "recall", str(doc), "-m", "Ban hành nhầm", user="vtt-dung")
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            err = json.loads(r.stdout)["error"]
            self.assertIn("chưa cấu hình liên thông", err["message"])
            self.assertFalse(os.path.exists(spool_dir(P, "out")))
            # the incoming register still takes paper
            r = P.j("incoming", "add", "--from", "Sở Nội vụ", "--code", "7/SNV", "--date",
                    P.j("incoming")["today"], "--type", "Công văn", "--subject", "Về việc X")
            self.assertEqual(r["number"], 1)
            P.stop()
        finally:
            P.cleanup()
            shutil.rmtree(top, ignore_errors=True)


class LateRecipient(unittest.TestCase):
    """A recipient that never says "đã đến" is shown late after [exchange] late_after minutes."""

    def test_late_after(self):
        top = tempfile.mkdtemp(prefix="vanthu-xlate-")
        os.chmod(top, 0o755)
        infos, trust = make_pkis(top, ["P"])
        # the folder transport with no gateway: the package waits in out/ and nobody answers
        P = Office(top, "P", org_name=P_NAME, abbrev="UBND", org_id=PROVINCE_ID,
                   units=["XA-PHUOC-HOI", "SO-NV"], info=infos["P"], trust=trust,
                   exchange={"transport": "folder", "late_after": 1})
        try:
            P.start()
            doc, sym = P.issue("Về việc một nơi nhận chưa báo đã đến", ["XA-PHUOC-HOI", "SO-NV"])
            rows = {d["name"]: d for d in P.delivery(doc)["deliveries"]}
            xa = rows["Ủy ban nhân dân xã Phước Hội"]
            self.assertEqual(xa["via"], "exchange")
            self.assertFalse(xa["late"])
            self.assertNotIn("CHẬM", txt(P, "delivery", str(doc)))
            time.sleep(62)
            d = P.delivery(doc)
            self.assertEqual(d["late_after"], 1)
            rows = {x["name"]: x for x in d["deliveries"]}
            self.assertTrue(rows["Ủy ban nhân dân xã Phước Hội"]["late"])
            self.assertFalse(rows["Sở Nội vụ"]["late"])  # paper is never late by exchange
            out = txt(P, "delivery", str(doc))
            self.assertIn("CHẬM", out)
            self.assertIn("1 nơi nhận chưa báo \"đã đến\" sau 1 phút", out)
            # exchange.md's Priority from a công văn's urgency mark: THƯỢNG KHẨN is 2
            cv = open(os.path.join(REPO, "workflows", "cong-van", "examples", "cv-bao-cao-nq02.xml"),
                      encoding="utf-8").read()
            cv = cv.replace("</drafting-unit>", "</drafting-unit>\n  <urgency>THƯỢNG KHẨN</urgency>")
            cv = re.sub(r'(  <to unit="[^"]*"/>\n)+', '  <to unit="XA-PHUOC-HOI"/>\n', cv)
            cv = re.sub(r"<recipients>.*</recipients>",
                        '<recipients><recipient unit="XA-PHUOC-HOI"/></recipients>', cv, flags=re.S)
            path = os.path.join(P.out, "cv-thuong-khan.xml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(cv)
            os.chmod(path, 0o644)
            cdoc, csym = P.issue(None, None, kind="cong-van", path=path)
            key = P.delivery(cdoc)["key"]
            pkgs = []
            for name in os.listdir(spool_dir(P, "out")):
                if name.endswith(".edxml") and not name.startswith("."):
                    with open(os.path.join(spool_dir(P, "out"), name), encoding="utf-8") as f:
                        text = f.read()
                    if key in text:
                        pkgs.append(ET.fromstring(text))
            self.assertEqual(len(pkgs), 1)
            ns = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"
            prio = pkgs[0].find(f".//{ns}OtherInfo/{ns}Priority")
            self.assertIsNotNone(prio)
            self.assertEqual(prio.text, "2")
            self.assertEqual(pkgs[0].find(f".//{ns}DocumentType/{ns}TypeName").text, "Công văn")
            P.stop()
        finally:
            P.cleanup()
            shutil.rmtree(top, ignore_errors=True)
