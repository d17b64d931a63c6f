"""End-to-end tests of electronic originals (issue 15): the leader signs with a real PKCS#11
token (SoftHSMv2), the văn thư issues, the organisation's token signs with the seal; the PDF
is checked by pdfsig, qpdf, openssl cms, pdftotext and pdftoppm, never only by vanthu."""
import base64
import datetime
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import unittest
import zlib

from harness import REPO, Daemon, IS_ROOT
from test_workflow import Relay, doc_xml, new_doc

PKI_TOOL = os.path.join(REPO, "tests", "tools", "pki.py")


def png(path, w, h, pixel, dpi=None):
    """A PNG (RGBA) whose pixel(x, y) gives (r, g, b, a); dpi: its pHYs."""
    rows = b"".join(b"\0" + b"".join(bytes(pixel(x, y)) for x in range(w)) for y in range(h))

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xffffffff)

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
    if dpi:
        ppm = round(dpi / 0.0254)
        data += chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))
    data += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def signature_png(path):
    """Blue ink strokes on a transparent ground, 5 x 2 cm at 150 dpi."""
    def px(x, y):
        on = abs((y - 60) - 40 * __import__("math").sin(x / 25.0)) < 5 or abs(x - y * 2.5) < 4
        return (20, 40, 200, 255) if on else (255, 255, 255, 0)
    png(path, 295, 118, px, dpi=150)


def seal_png(path):
    """A red ring and star on a transparent ground, 36 mm."""
    n = 212  # 36 mm at 150 dpi

    def px(x, y):
        r = ((x - n / 2) ** 2 + (y - n / 2) ** 2) ** 0.5
        on = n / 2 - 8 < r < n / 2 - 1 or n / 2 - 22 < r < n / 2 - 18 or r < 18
        return (220, 20, 30, 255) if on else (255, 255, 255, 0)
    png(path, n, n, px, dpi=150)


def run(*cmd, ok=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if ok and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def byte_ranges(pdf):
    return [tuple(int(v) for v in m.groups()) for m in
            re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)]


def ppm_pixels(path):
    """(width, height, bytes) of a binary PPM (P6, 255)."""
    data = open(path, "rb").read()
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P6", parts[0]
    return int(parts[1]), int(parts[2]), parts[4]


def ink_boxes(ppm):
    """Bounding boxes (x0, y0, x1, y1) of the blue and the red pixels of a page."""
    w, h, px = ppm_pixels(ppm)
    boxes = {"blue": None, "red": None}
    for y in range(h):
        row = px[y * w * 3:(y + 1) * w * 3]
        for x in range(w):
            r, g, b = row[3 * x], row[3 * x + 1], row[3 * x + 2]
            kind = "blue" if b > 150 and r < 120 and g < 150 else \
                "red" if r > 170 and g < 110 and b < 110 else None
            if kind:
                bx = boxes[kind]
                boxes[kind] = (x, y, x, y) if bx is None else \
                    (min(bx[0], x), min(bx[1], y), max(bx[2], x), max(bx[3], y))
    return boxes


@unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
class ElectronicOriginal(unittest.TestCase):
    """One office with [signing]: SoftHSM tokens, a test CA, a seal and a signature image."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vanthu-esign-")
        os.chmod(cls.tmp, 0o755)
        cls.out = os.path.join(cls.tmp, "out")  # where the clerk saves files
        os.makedirs(cls.out)
        os.chmod(cls.out, 0o1777)
        run("/usr/bin/python3", PKI_TOOL, "make", os.path.join(cls.tmp, "pki"))
        with open(os.path.join(cls.tmp, "pki", "pki.json"), encoding="utf-8") as f:
            cls.pki = json.load(f)
        # the leader (vtt-chi) uses the token from the terminal; the daemon, the office's
        run("chmod", "-R", "a+rwX", os.path.join(cls.tmp, "pki"))
        os.environ["SOFTHSM2_CONF"] = cls.pki["softhsm2_conf"]
        # times are Vietnam's whatever the server's zone: this one runs in New York
        cls.tz = os.environ.get("TZ")
        os.environ["TZ"] = "America/New_York"
        cls.sig_png = os.path.join(cls.tmp, "chu-ky.png")
        cls.seal_png = os.path.join(cls.tmp, "con-dau.png")
        signature_png(cls.sig_png)
        seal_png(cls.seal_png)
        cls.org_pin = os.path.join(cls.tmp, "co-quan.pin")
        with open(cls.org_pin, "w") as f:
            f.write(cls.pki["tokens"]["co-quan"]["pin"] + "\n")
        os.chmod(cls.org_pin, 0o600)
        cls.leader_pin = os.path.join(cls.tmp, "lanh-dao.pin")
        with open(cls.leader_pin, "w") as f:
            f.write(cls.pki["tokens"]["lanh-dao"]["pin"] + "\n")
        os.chmod(cls.leader_pin, 0o644)
        cls.bad_pin = os.path.join(cls.tmp, "sai.pin")
        with open(cls.bad_pin, "w") as f:
            f.write("9999\n")
        os.chmod(cls.bad_pin, 0o644)
        cls.test_pin = os.path.join(cls.tmp, "thu-nghiem.pin")
        with open(cls.test_pin, "w") as f:
            f.write(cls.pki["tokens"]["thu-nghiem"]["pin"] + "\n")
        os.chmod(cls.test_pin, 0o644)
        extra = "\n".join([
            "[signing]",
            f"module = {cls.pki['module']}",
            "token = co-quan",
            "key = con-dau",
            f"pin_file = {cls.org_pin}",
            f"trust = {cls.pki['trust_all']}",  # the root and an intermediate, as VGCA's
            f"seal_image = {cls.seal_png}",
            "seal_size = 36",
            f"converter = {os.path.join(REPO, 'build', 'vanthu-convert')}",
            "[user vtt-chi]",
            f"certificate = {cls.pki['certs']['leader']['fingerprint']}",
            f"signature_image = {cls.sig_png}",
        ]) + "\n"
        os.makedirs(os.path.join(cls.tmp, "office"))
        cls.d = Daemon(root=os.path.join(cls.tmp, "office"), extra=extra)
        cls.d.start(ready_timeout=180)  # LibreOffice's first start makes its profile
        cls.u = {n: Relay(cls.d.socket, n) for n in ("vtt-ana", "vtt-binh", "vtt-chi", "vtt-dung")}

    @classmethod
    def tearDownClass(cls):
        if cls.tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = cls.tz
        for r in cls.u.values():
            r.close()
        try:
            cls.d.stop()
        finally:
            cls.d.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- helpers ----

    def to_signing(self, summary="Kết luận của đồng chí Phó Chủ tịch UBND tỉnh về chuyển đổi số"):
        r = new_doc(self.u["vtt-ana"], doc_xml(summary))
        self.assertTrue(r["ok"], r)
        doc = r["result"]["id"]
        for user, action in (("vtt-ana", "submit"), ("vtt-binh", "approve")):
            r = self.u[user].call("act", id=doc, action=action)
            self.assertTrue(r["ok"], r)
        return doc

    def sign(self, doc, *extra, pin=None, token="lanh-dao"):
        args = ["sign", str(doc), "--pkcs11", self.pki["module"], "--token", token,
                "--pin-file", pin or self.leader_pin, *extra]
        return self.d.ctl(*args, user="vtt-chi", timeout=240)

    def state(self, doc):
        return self.u["vtt-dung"].call("show", id=doc)["result"]

    def issued_pdf(self, doc):
        out = os.path.join(self.out, f"issued-{doc}.pdf")
        r = self.d.ctl("pdf", str(doc), "-o", out, user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stderr)
        return out

    def signed_and_issued(self, summary):
        doc = self.to_signing(summary)
        r = self.sign(doc)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        r = self.u["vtt-dung"].call("act", id=doc, action="issue")
        self.assertTrue(r["ok"], r)
        self.assertNotIn("publish_error", r["result"])
        return doc, r["result"]["symbol"]

    # ---- the flow ----

    def test_sign_then_issue_gives_a_valid_original(self):
        summary = "Kết luận của đồng chí Phó Chủ tịch UBND tỉnh về chuyển đổi số năm 2026"
        doc = self.to_signing(summary)
        # a plain `sign` is refused: this leader signs digitally
        r = self.d.ctl("sign", str(doc), user="vtt-chi")
        self.assertEqual(r.returncode, 1)
        self.assertIn("ký số", r.stderr)
        self.assertIn("--pkcs11", r.stderr)
        r = self.sign(doc)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        self.assertIn("Đã ký số văn bản số", r.stdout)
        shown = self.state(doc)
        self.assertEqual(shown["state"], "signed")
        self.assertEqual(shown["electronic"]["state"], "signed")
        self.assertEqual([s["role"] for s in shown["electronic"]["signatures"]], ["leader"])
        # a second leader's signature is refused
        r = self.sign(doc)
        self.assertEqual(r.returncode, 1)
        r = self.u["vtt-dung"].call("act", id=doc, action="issue")
        self.assertTrue(r["ok"], r)
        symbol = r["result"]["symbol"]
        shown = self.state(doc)
        self.assertEqual(shown["electronic"]["state"], "issued")
        self.assertEqual([s["role"] for s in shown["electronic"]["signatures"]],
                         ["leader", "organisation"])
        # beside the DOCX, the same name
        self.assertTrue(shown["electronic"]["pdf_path"].endswith(
            symbol.replace("/", "-") + ".pdf"), shown["electronic"]["pdf_path"])
        self.assertTrue(os.path.exists(shown["electronic"]["pdf_path"][:-4] + ".docx"))
        pdf = self.issued_pdf(doc)
        data = open(pdf, "rb").read()

        # pdfsig: two signatures, both valid, the second over the whole file
        out = run("pdfsig", pdf, ok=False).stdout
        self.assertEqual(out.count("Signature Validation: Signature is Valid."), 2, out)
        self.assertIn("Signature #2", out)
        self.assertNotIn("Signature #3", out)
        self.assertRegex(out, r"Signature #2:(.|\n)*Total document signed")
        self.assertIn("ETSI.CAdES.detached", out)
        # qpdf: the structure
        q = run("qpdf", "--check", pdf, ok=False)
        self.assertIn(q.returncode, (0, 3), q.stdout + q.stderr)
        self.assertIn("No syntax or stream encoding errors", q.stdout)
        # openssl cms: each CMS over its byte ranges, to the test CA
        ranges = byte_ranges(data)
        self.assertEqual(len(ranges), 2)
        for i, (a, b, c, n) in enumerate(ranges):
            # /Contents is the DER and zero padding: its length is the outer SEQUENCE's (a
            # signature may end in a zero byte, so the padding cannot just be stripped)
            raw = bytes.fromhex(data[a + b + 1:c - 1].decode())
            self.assertEqual(raw[0], 0x30)
            if raw[1] & 0x80:
                k = raw[1] & 0x7F
                raw = raw[:2 + k + int.from_bytes(raw[2:2 + k], "big")]
            else:
                raw = raw[:2 + raw[1]]
            cms = os.path.join(self.tmp, f"sig-{doc}-{i}.der")
            content = os.path.join(self.tmp, f"content-{doc}-{i}.bin")
            open(cms, "wb").write(raw)
            open(content, "wb").write(data[a:a + b] + data[c:c + n])
            v = run("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", cms,
                    "-content", content, "-CAfile", self.pki["ca"]["cert"], "-purpose", "any",
                    "-out", "/dev/null", ok=False)
            self.assertEqual(v.returncode, 0, v.stderr)
            self.assertIn("Verification successful", v.stderr)
            printed = run("openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", cms).stdout
            self.assertIn("id-smime-aa-signingCertificateV2", printed)
            self.assertNotIn("signingTime", printed)
        # pdftotext: the number and the day in their places, the body word for word
        text = run("pdftotext", "-layout", pdf, "-").stdout
        num = symbol.split("/")[0]
        self.assertRegex(text, r"Số:\s*" + num + r"\s*/TB-UBND")
        issued_on = shown["issued_on"]
        y, m, d = issued_on.split("-")
        mm = m if int(m) <= 2 else str(int(m))
        self.assertRegex(text, rf"ngày\s+{d}\s+tháng\s+{mm}\s+năm\s+{y}")
        flat = " ".join(text.split())
        self.assertIn(" ".join(summary.split()), flat)
        self.assertNotIn("DỰ THẢO", text)
        docx_text = run("pandoc", "-t", "plain", "--wrap=none",
                        shown["electronic"]["pdf_path"][:-4] + ".docx").stdout
        body = [p for p in docx_text.split("\n") if len(p.split()) > 12 and "|" not in p]
        self.assertGreaterEqual(len(body), 3)
        for para in body:
            self.assertIn(" ".join(para.split()), flat)
        # the images in their places: blue signature between the title and the name, the red
        # seal over its left third
        pages = int(re.search(r"Pages:\s+(\d+)", run("pdfinfo", pdf).stdout).group(1))
        ppm = os.path.join(self.tmp, f"page-{doc}")
        run("pdftoppm", "-r", "72", "-f", str(pages), "-l", str(pages), pdf, ppm)
        page = [f for f in os.listdir(self.tmp) if f.startswith(f"page-{doc}")][0]
        boxes = ink_boxes(os.path.join(self.tmp, page))
        self.assertIsNotNone(boxes["blue"], "no blue signature on the last page")
        self.assertIsNotNone(boxes["red"], "no red seal on the last page")
        bx, rx = boxes["blue"], boxes["red"]
        bbox = run("pdftotext", "-bbox", "-f", str(pages), "-l", str(pages), pdf, "-").stdout
        words = re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]+)<', bbox)
        name_top = max(float(t) for t, _, w in words if w == "Thông")
        title_bottom = max(float(b) for t, b, w in words if w == "PHÒNG" and float(b) < name_top)
        self.assertGreater(bx[1], title_bottom - 2)
        self.assertLess(bx[3], name_top + 2)
        self.assertLess(rx[0], bx[0])                          # the seal starts left of it
        self.assertGreater(rx[2], bx[0])                       # and covers its left part
        self.assertLess(rx[2], bx[0] + (bx[2] - bx[0]) * 0.6)  # about a third, not all of it
        seal_mm = (rx[2] - rx[0]) * 25.4 / 72
        self.assertAlmostEqual(seal_mm, 36, delta=2.5)
        # vanthuctl pdf verify, in words and as JSON
        r = self.d.ctl("pdf", "verify", pdf, user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("2 chữ ký số", r.stdout)
        self.assertIn("Nguyễn Văn Thông — hợp lệ", r.stdout)
        self.assertIn("Mọi chữ ký đều hợp lệ.", r.stdout)
        self.assertRegex(r.stdout, r"\+07:00")
        j = self.d.ctl("pdf", "verify", pdf, user="vtt-dung", json_out=True).json
        sigs = j["result"]["signatures"]
        self.assertEqual([s["whole"] for s in sigs], [False, True])
        self.assertTrue(all(s["valid"] and s["trusted"] for s in sigs))
        self.assertEqual(sigs[0]["signer"], "Nguyễn Văn Thông")
        self.assertEqual(sigs[1]["signer"], "Ủy ban nhân dân xã Thử Nghiệm")
        vn = datetime.timezone(datetime.timedelta(hours=7))
        for sg in sigs:
            self.assertTrue(sg["signed_at"].endswith("+07:00"), sg["signed_at"])
            when = datetime.datetime.fromisoformat(sg["signed_at"])
            self.assertEqual(when.utcoffset(), datetime.timedelta(hours=7))
            self.assertLess(abs((datetime.datetime.now(vn) - when).total_seconds()), 900)
        self.assertIn(b"+07'00'", data)   # /M, in the PDF's own form

    def test_status_reports_the_converter_apart(self):
        r = self.d.ctl("status", user="vtt-dung", json_out=True).json["result"]
        self.assertTrue(r["signing"]["configured"])
        pid = r["signing"]["converter_pid"]
        self.assertGreater(pid, 0)
        with open(f"/proc/{pid}/comm") as f:
            self.assertEqual(f.read().strip()[:15], "vanthu-convert"[:15])
        with open(f"/proc/{pid}/status") as f:
            ppid = int(re.search(r"PPid:\s+(\d+)", f.read()).group(1))
        self.assertEqual(ppid, self.d.proc.pid)
        self.assertGreater(r["signing"]["converter_rss_kb"], 0)
        self.assertGreater(r["rss_kb"], 0)
        out = self.d.ctl("status", user="vtt-dung").stdout
        self.assertRegex(out, r"Ký số:\s+có; bộ chuyển PDF \(LibreOffice\) pid \d+")

    def test_a_leader_signs_several_with_one_pin(self):
        docs = [self.to_signing(f"Kết luận số {i} về việc ký nhiều văn bản một lần")
                for i in (1, 2, 3)]
        r = self.sign(docs[0], str(docs[1]), str(docs[2]))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.count("Đã ký số văn bản số"), 3, r.stdout)
        for doc in docs:
            self.assertEqual(self.state(doc)["electronic"]["state"], "signed")
        # one of them not signable: the others are signed, the exit says it
        more = [self.to_signing("Kết luận về việc ký lô có văn bản đã ký") for _ in (1, 2)]
        r = self.sign(more[0], str(docs[0]), str(more[1]))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout.count("Đã ký số văn bản số"), 2, r.stdout)
        self.assertIn("E_STATE", r.stderr)

    def test_electronic_copies(self):
        doc, symbol = self.signed_and_issued("Kết luận về việc sao văn bản điện tử")
        out = os.path.join(self.out, f"copy-{doc}.pdf")
        r = self.d.ctl("copy", str(doc), "-o", out, user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        m = re.search(r"Đã làm bản sao điện tử (\d+)/SY-UBND \(SAO Y\)", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        first = int(m.group(1))
        # pdfsig: the original's two signatures still valid, the copy's third over all of it
        sig = run("pdfsig", out, ok=False).stdout
        self.assertEqual(sig.count("Signature Validation: Signature is Valid."), 3, sig)
        self.assertRegex(sig, r"Signature #3:(.|\n)*Total document signed")
        q = run("qpdf", "--check", out, ok=False)
        self.assertIn("No syntax or stream encoding errors", q.stdout)
        # top right of page 1, 10 pt: the form, the copying body, the copy's number, the time
        bbox = run("pdftotext", "-bbox", "-f", "1", "-l", "1", out, "-").stdout
        width = float(re.search(r'<page width="([\d.]+)"', bbox).group(1))
        words = re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">'
                           r'([^<]+)<', bbox)
        # inside the top margin (20 mm), above the header
        top = [(float(x), float(y0), float(y1), w) for x, y0, y1, w in words
               if float(y1) < 20 * 72 / 25.4]
        self.assertTrue(top, bbox[:2000])
        self.assertTrue(all(x > width / 2 for x, _, _, _ in top), top)
        self.assertTrue(all(abs((y1 - y0) - 10 * 1.15) < 3 for _, y0, y1, _ in top), top)
        line = " ".join(w for _, _, _, w in top)
        self.assertIn("SAO Y", line)
        self.assertIn("Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu", line)
        self.assertIn(f"Số: {first:02d}/SY-UBND", line)
        self.assertRegex(line, r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00")
        r = self.d.ctl("pdf", "verify", out, user="vtt-dung", json_out=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(len(r.json["result"]["signatures"]), 3)
        # the next copy takes the next number; SAO LỤC; show lists both
        out2 = os.path.join(self.out, f"copy2-{doc}.pdf")
        r = self.d.ctl("copy", str(doc), "--form", "sao-luc", "-o", out2, user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"{first + 1:02d}/SY-UBND (SAO LỤC)", r.stdout)
        self.assertIn("SAO LỤC", run("pdftotext", "-f", "1", "-l", "1", out2, "-").stdout)
        again = os.path.join(self.out, f"copy-again-{doc}.pdf")
        r = self.d.ctl("pdf", str(doc), "--copy", str(first), "-o", again, user="vtt-ana")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(open(again, "rb").read(), open(out, "rb").read())
        r = self.d.ctl("pdf", str(doc), "--copy", "99", "-o", again, user="vtt-ana")
        self.assertEqual(r.returncode, 1)
        self.assertIn("không có bản sao số 99", r.stderr)
        shown = self.state(doc)["electronic"]["copies"]
        self.assertEqual([c["form"] for c in shown], ["SAO Y", "SAO LỤC"])
        text = self.d.ctl("show", str(doc), user="vtt-dung").stdout
        self.assertIn(f"{first:02d}/SY-UBND (SAO Y), vtt-dung", text)
        # only the văn thư copies; only an issued original is copied; forms are the law's
        r = self.d.ctl("copy", str(doc), "-o", out2, user="vtt-ana")
        self.assertEqual(r.returncode, 1)
        self.assertIn("E_DENIED", r.stderr)
        r = self.d.ctl("copy", str(doc), "--form", "trich-sao", "-o", out2, user="vtt-dung")
        self.assertEqual(r.returncode, 1)
        self.assertIn("sao-y", r.stderr)
        unsigned = self.to_signing("Kết luận chưa ký, không sao được")
        r = self.d.ctl("copy", str(unsigned), "-o", out2, user="vtt-dung")
        self.assertEqual(r.returncode, 1)
        self.assertIn("chưa có bản gốc điện tử", r.stderr)

    def test_verify_reads_another_tools_signature(self):
        """A PDF that another office's tool signed after ours (poppler's pdfsig, with NSS:
        adbe.pkcs7.detached) is read and checked by `pdf verify` like ours."""
        doc, _ = self.signed_and_issued("Kết luận về việc nhận văn bản đã ký của nơi khác")
        pdf = self.issued_pdf(doc)
        nss = os.path.join(self.tmp, f"nss-{doc}")
        os.makedirs(nss)
        org = self.pki["certs"]["org"]
        p12 = os.path.join(self.tmp, f"org-{doc}.p12")
        run("openssl", "pkcs12", "-export", "-inkey", org["key"], "-in", org["cert"],
            "-certfile", self.pki["ca"]["cert"], "-out", p12, "-passout", "pass:x", "-name", "org")
        run("certutil", "-N", "-d", f"sql:{nss}", "--empty-password")
        run("pk12util", "-i", p12, "-d", f"sql:{nss}", "-W", "x")
        other = os.path.join(self.out, f"other-{doc}.pdf")
        run("pdfsig", "-nssdir", f"sql:{nss}", "-add-signature", "-nick", "org", "-reason",
            "Đã tiếp nhận", pdf, other)
        r = self.d.ctl("pdf", "verify", other, user="vtt-dung", json_out=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        sigs = r.json["result"]["signatures"]
        self.assertEqual(len(sigs), 3)
        self.assertEqual(sigs[2]["subfilter"], "adbe.pkcs7.detached")
        self.assertEqual(sigs[2]["reason"], "Đã tiếp nhận")
        self.assertEqual([s["whole"] for s in sigs], [False, False, True])
        self.assertTrue(all(s["valid"] for s in sigs))
        # ours still cover their revisions: what came after them is reported, not hidden
        self.assertLess(sigs[1]["revision_end"], os.path.getsize(other))
        out = self.d.ctl("pdf", "verify", other, user="vtt-dung").stdout
        self.assertIn("tệp đến phiên bản này", out)
        self.assertIn("Mọi chữ ký đều hợp lệ.", out)

    def test_tampering_is_seen_by_pdfsig_and_verify(self):
        doc, _ = self.signed_and_issued("Kết luận về công tác cải cách hành chính quý IV")
        pdf = self.issued_pdf(doc)
        data = open(pdf, "rb").read()
        (a1, b1, c1, n1), (a2, b2, c2, n2) = byte_ranges(data)
        first_end = c1 + n1

        def tampered(at, name):
            path = os.path.join(self.tmp, f"{name}-{doc}.pdf")
            b = bytearray(data)
            b[at] ^= 0x01
            open(path, "wb").write(bytes(b))
            return path

        # a byte of the body (the first revision): both signatures fail
        body = None
        for m in re.finditer(rb"stream\r?\n", data[:b1]):
            end = data.index(b"endstream", m.end())
            if end - m.end() >= 64:
                body = (m.end() + end) // 2
                break
        self.assertIsNotNone(body)
        self.assertLess(body, b1)
        p = tampered(body, "body")
        out = run("pdfsig", p, ok=False).stdout
        self.assertEqual(out.count("Signature is Valid"), 0, out)
        r = self.d.ctl("pdf", "verify", p, "--trust", self.pki["ca"]["cert"], json_out=True)
        self.assertEqual(r.returncode, 1)
        self.assertEqual([s["valid"] for s in r.json["result"]["signatures"]], [False, False])
        # a byte of what issue added (the number, the date, the seal): only the organisation's
        # the middle of a stream's data that issue wrote (an image, a glyph, the stamps: not an
        # object's number or the cross-reference table, which would damage the file instead)
        gap = (a2 + b2, c2)  # the organisation's /Contents
        added = None
        for m in re.finditer(rb"stream\r?\n", data[first_end:]):
            start = first_end + m.end()
            end = data.index(b"endstream", start)
            if end - start >= 64 and not gap[0] <= start < gap[1]:
                added = (start + end) // 2
                break
        self.assertIsNotNone(added, "no stream of some length in what issue added")
        p = tampered(added, "added")
        out = run("pdfsig", p, ok=False).stdout
        self.assertEqual(out.count("Signature is Valid"), 1, out)
        r = self.d.ctl("pdf", "verify", p, "--trust", self.pki["ca"]["cert"], json_out=True)
        self.assertEqual(r.returncode, 1)
        self.assertEqual([s["valid"] for s in r.json["result"]["signatures"]], [True, False])
        self.assertIn("CÓ CHỮ KÝ KHÔNG HỢP LỆ",
                      self.d.ctl("pdf", "verify", p, "--trust", self.pki["ca"]["cert"]).stdout)
        # the daemon's own copy is checked too: pdf refuses a changed file
        path = self.state(doc)["electronic"]["pdf_path"]
        keep = open(path, "rb").read()
        try:
            open(path, "wb").write(open(p, "rb").read())
            r = self.d.ctl("pdf", str(doc), "-o", os.path.join(self.out, "x.pdf"), user="vtt-dung")
            self.assertEqual(r.returncode, 1)
            self.assertIn("SHA-256", r.stderr)
        finally:
            open(path, "wb").write(keep)

    # ---- refusals: nothing changes ----

    def assert_unchanged(self, doc):
        shown = self.state(doc)
        self.assertEqual(shown["state"], "signing")
        self.assertEqual(shown["electronic"]["state"], "none")

    def sign_at_a_terminal(self, doc, pin):
        """vanthuctl sign as the leader at a terminal (a pty): the PIN typed at its prompt."""
        import pty
        import select
        from harness import VANTHUCTL, SAN_ENV, as_user
        pid, fd = pty.fork()
        if pid == 0:
            try:
                as_user("vtt-chi")()
                env = dict(os.environ, **SAN_ENV)
                os.execve(VANTHUCTL, [VANTHUCTL, "-s", self.d.socket, "sign", str(doc),
                                      "--pkcs11", self.pki["module"], "--token", "lanh-dao"], env)
            finally:
                os._exit(127)
        out, sent = b"", False
        while True:
            r, _, _ = select.select([fd], [], [], 120)
            if not r:
                break
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if not sent and "Mã PIN của thiết bị ký số: ".encode() in out:
                os.write(fd, pin.encode() + b"\n")
                sent = True
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")

    def test_pin_asked_at_the_terminal_without_echo(self):
        doc = self.to_signing("Kết luận về việc ký với mã PIN gõ tại màn hình")
        rc, out = self.sign_at_a_terminal(doc, "9999")
        self.assertEqual(rc, 1, out)
        self.assertIn("sai mã PIN", out)
        prompt = "Mã PIN của thiết bị ký số: "
        self.assertEqual(out.split(prompt, 1)[1].split("\n", 1)[0].strip(), "", out)  # no echo
        self.assert_unchanged(doc)
        rc, out = self.sign_at_a_terminal(doc, self.pki["tokens"]["lanh-dao"]["pin"])
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.split(prompt, 1)[1].split("\n", 1)[0].strip(), "", out)
        self.assertIn("Đã ký số văn bản số", out)
        self.assertEqual(self.state(doc)["electronic"]["state"], "signed")

    def test_wrong_pin_changes_nothing(self):
        doc = self.to_signing("Kết luận về việc kiểm tra mã PIN")
        r = self.sign(doc, pin=self.bad_pin)
        self.assertEqual(r.returncode, 1)
        self.assertIn("sai mã PIN", r.stderr)
        self.assert_unchanged(doc)

    def test_certificates_that_may_not_sign(self):
        doc = self.to_signing("Kết luận về việc kiểm tra chứng thư số")
        cases = {"leader2": "không phải chứng thư đã đăng ký", "expired": "hiệu lực",
                 "untrusted": "tin cậy", "keyenc": "không được dùng để ký số"}
        for name, words in cases.items():
            c = self.pki["certs"][name]
            r = self.sign(doc, "--key", c["label"], token="thu-nghiem", pin=self.test_pin)
            self.assertEqual(r.returncode, 1, (name, r.stdout))
            self.assertIn(words, r.stderr, name)
            self.assert_unchanged(doc)

    def test_signature_not_by_the_certificate_is_refused(self):
        doc = self.to_signing("Kết luận về việc kiểm tra chữ ký")
        cert = open(self.pki["certs"]["leader"]["der"], "rb").read().hex()
        r = self.u["vtt-chi"].call("sign.prepare", id=doc, certificate=cert)
        self.assertTrue(r["ok"], r)
        tbs = bytes.fromhex(r["result"]["tbs_sha256"])
        # signed by another key (the second leader's), over the right digest
        digest = os.path.join(self.tmp, f"tbs-{doc}")
        open(digest, "wb").write(tbs)
        sig = run("openssl", "pkeyutl", "-sign", "-inkey", self.pki["certs"]["leader2"]["key"],
                  "-in", digest, "-pkeyopt", "digest:sha256", "-out", digest + ".sig")
        del sig
        bad = open(digest + ".sig", "rb").read().hex()
        r = self.u["vtt-chi"].call("sign.finish", id=doc, signature=bad)
        self.assertFalse(r["ok"])
        self.assertIn("không khớp", r["error"]["message"])
        self.assert_unchanged(doc)
        # the right key then signs it: the prepared PDF was kept
        sig = run("openssl", "pkeyutl", "-sign", "-inkey", self.pki["certs"]["leader"]["key"],
                  "-in", digest, "-pkeyopt", "digest:sha256", "-out", digest + ".ok")
        r = self.u["vtt-chi"].call("sign.finish", id=doc,
                                  signature=open(digest + ".ok", "rb").read().hex())
        self.assertTrue(r["ok"], r)
        self.assertEqual(self.state(doc)["electronic"]["state"], "signed")

    def test_preparation_survives_a_restart(self):
        """What sign.prepare made is on disk and in the database: the leader's signature is
        taken after vanthud was stopped and started again."""
        doc = self.to_signing("Kết luận về việc ký sau khi vanthud khởi động lại")
        cert = open(self.pki["certs"]["leader"]["der"], "rb").read().hex()
        r = self.u["vtt-chi"].call("sign.prepare", id=doc, certificate=cert)
        self.assertTrue(r["ok"], r)
        digest = os.path.join(self.tmp, f"tbs-restart-{doc}")
        open(digest, "wb").write(bytes.fromhex(r["result"]["tbs_sha256"]))
        run("openssl", "pkeyutl", "-sign", "-inkey", self.pki["certs"]["leader"]["key"],
            "-in", digest, "-pkeyopt", "digest:sha256", "-out", digest + ".sig")
        for relay in self.u.values():
            relay.close()
        self.d.stop()
        self.d.start(ready_timeout=180)
        type(self).u = {n: Relay(self.d.socket, n) for n in
                        ("vtt-ana", "vtt-binh", "vtt-chi", "vtt-dung")}
        r = self.u["vtt-chi"].call("sign.finish", id=doc,
                                  signature=open(digest + ".sig", "rb").read().hex())
        self.assertTrue(r["ok"], r)
        self.assertEqual(self.state(doc)["electronic"]["state"], "signed")
        # nothing of the conversion is left; the prepared PDF went with the step
        left = sorted(os.listdir(os.path.join(self.d.spool, "signing")))
        self.assertFalse([n for n in left if n.endswith((".tmp", ".docx"))], left)
        self.assertNotIn(f"{doc}.prepared.pdf", left)

    def test_issue_needs_the_leaders_signature(self):
        doc = self.to_signing("Kết luận về việc ban hành khi chưa ký")
        r = self.u["vtt-dung"].call("act", id=doc, action="issue")
        self.assertFalse(r["ok"])
        self.assert_unchanged(doc)
        r = self.d.ctl("pdf", str(doc), "-o", os.path.join(self.out, f"none-{doc}.pdf"),
                       user="vtt-dung")
        self.assertEqual(r.returncode, 1)
        self.assertIn("chưa có bản gốc điện tử", r.stderr)


@unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
class WithoutSigning(unittest.TestCase):
    """An office without [signing] issues DOCX only, as before, and says so."""

    def test_docx_only_and_show_says_so(self):
        d = Daemon()
        try:
            d.start()
            u = {n: Relay(d.socket, n) for n in ("vtt-ana", "vtt-binh", "vtt-chi", "vtt-dung")}
            r = new_doc(u["vtt-ana"])
            doc = r["result"]["id"]
            for user, action in (("vtt-ana", "submit"), ("vtt-binh", "approve"),
                                 ("vtt-chi", "sign"), ("vtt-dung", "issue")):
                r = u[user].call("act", id=doc, action=action)
                self.assertTrue(r["ok"], r)
            shown = u["vtt-dung"].call("show", id=doc)["result"]
            self.assertEqual(shown["electronic"]["state"], "none")
            self.assertFalse(shown["electronic"]["signing_configured"])
            r = d.ctl("pdf", str(doc), "-o", f"/tmp/vanthu-none-{os.getpid()}.pdf",
                      user="vtt-dung")
            self.assertEqual(r.returncode, 1)
            self.assertIn("chưa có bản gốc điện tử", r.stderr)
            out = d.ctl("show", str(doc), user="vtt-dung").stdout
            self.assertRegex(out, r"Bản gốc điện tử:\s+không có \(vanthud chưa cấu hình ký số\)")
            r = d.ctl("pdf", "verify", "/nonexistent.pdf", user="vtt-dung")
            self.assertEqual(r.returncode, 1)
            self.assertIn("--trust", r.stderr)
            for rr in u.values():
                rr.close()
            d.stop()
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
