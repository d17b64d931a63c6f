"""End-to-end tests of Party documents: the same pipeline for a Party committee, in its format.

One office issues for a state body ([organisation], UBND) and for two Party bodies ([body TU],
the provincial standing board, and [body BCĐ], a ward committee's steering board). Real users
draft, review, sign and issue; `vanthuctl render` fetches each DOCX, which is then read by
LibreOffice (to PDF, then pdftotext), python3-docx and pandoc, as test_render.py does for state
documents. What is checked comes from ../shared/format-vn.md ("Party documents") and the seed
plan ../shared/seeds/003-ke-hoach-dang.txt, whose input XML is
workflows/ke-hoach/examples/kh-02-bcd-uong-bi.xml.

- PartyRender: the header (ĐẢNG CỘNG SẢN VIỆT NAM with its line, the parent committee, the
  issuing committee with its star), "Số 02-KH/BCĐ" without a colon, the date on the number's
  row, T/M and K/T lines, "Nơi nhận:" underlined, lines ending in ",", the last "- Lưu …"
  without a colon, the page number from page 2, the margins; the seed plan word for word.
- PartyRegister: a series per type within a term, a new term starting again at 01, gapless
  under concurrent issuing, `vanthuctl register` and `void` for a Party body, and the refusals.
- PartyRound: a round opened by a Party plan; its reminder and conclusion come out as Party
  documents signed "T/M BAN THƯỜNG VỤ".
"""
import json
import os
import re
import shutil
import tempfile
import time
import unittest
import zipfile

from harness import IS_ROOT, REPO, Daemon, DaemonTest
from test_render import (DocxView, check_package, find_run, nfc, pdf_lines, pdf_words,
                         require_readers, run, same_row, soffice, word_diff, words)
from test_workflow import Relay

SEED_PLAN = os.path.join(REPO, "..", "shared", "seeds", "003-ke-hoach-dang.txt")
PLAN_XML = os.path.join(REPO, "workflows", "ke-hoach", "examples", "kh-02-bcd-uong-bi.xml")
ROUND = os.path.join(REPO, "workflows", "dot-bao-cao", "examples", "cds-2024-q1.xml")
MEETING = os.path.join(REPO, "workflows", "dot-bao-cao", "examples", "ket-luan-hop-2024-04-05.xml")
DCSVN = "ĐẢNG CỘNG SẢN VIỆT NAM"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

PARTY = """[body TU]
kind = party
name = Ban Thường vụ Tỉnh ủy
parent = Đảng bộ tỉnh Quảng Ninh
place = Quảng Ninh
collective = Ban Thường vụ
term = 2020-2025 2020-10-10
term = 2025-2030 2025-10-15
[body BCĐ]
kind = party
name = Ban Chỉ đạo về phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số
parent = Đảng ủy phường Uông Bí
place = Uông Bí
collective = Ban Chỉ đạo
term = 2025-2030 2025-06-30
"""
FLOW = (("vtt-ana", "submit"), ("vtt-binh", "approve"), ("vtt-chi", "sign"), ("vtt-dung", "issue"))


def x(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def party_doc(kind, issuer, summary, body, lines, name="Nguyễn Văn Đọc", recipients=(),
              archive="Văn phòng Tỉnh ủy", to=(), signer="vtt-chi", closing=None):
    """An input XML of kind issued by issuer (None: the organisation); closing: the input's
    closing attribute ("true"/"false"), None: absent."""
    attr = f' issuer="{issuer}"' if issuer else ""
    attr += f' closing="{closing}"' if closing else ""
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{kind} xmlns="urn:vanthu:document:1"{attr}>']
    if kind == "cong-van":
        out.append("<drafting-unit>VP</drafting-unit>")
    out.append(f"<summary>{x(summary)}</summary>")
    out += [f'<to unit="{u}"/>' for u in to]
    out.append("<body>" + "".join(f"<{k}>{x(t)}</{k}>" for k, t in body) + "</body>")
    out.append(f'<signer login="{signer}">' + "".join(f"<line>{x(s)}</line>" for s in lines)
               + f"<name>{x(name)}</name></signer>")
    if recipients or kind != "cong-van":
        out.append("<recipients>" + "".join(f"<recipient>{x(r)}</recipient>" for r in recipients)
                   + "</recipients>")
    out.append(f"<archive>{x(archive)}</archive></{kind}>")
    return "\n".join(out)


def write(d, name, text):
    path = os.path.join(d.root, name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o644)
    return path


def new(d, kind, text, name="doc.xml"):
    r = d.ctl("new", kind, write(d, name, text), user="vtt-ana", json_out=True)
    if r.returncode != 0:
        raise AssertionError(f"vanthuctl new {kind}: {r.stdout} {r.stderr}")
    return r.json["result"]["id"]


def drive(d, doc_id, steps=FLOW):
    """Takes doc_id through steps as the real users; the issue's symbol (or None)."""
    symbol = None
    for user, action in steps:
        r = d.ctl(action, str(doc_id), user=user)
        if r.returncode != 0:
            raise AssertionError(f"{action} {doc_id} by {user}: {r.stderr}")
        m = re.search(r"Số, ký hiệu: (\S+)\.", r.stdout)
        symbol = m.group(1) if m else symbol
    return symbol


def bottom_line(view, p):
    """A solid line under paragraph p: its bottom border (direct or from its style)."""
    for lv in view.fmt.p_levels(p._p):
        b = lv.find(f"{W}pBdr/{W}bottom")
        if b is not None:
            return b.get(f"{W}val") not in ("nil", "none")
    return False


def seed_lines():
    with open(SEED_PLAN, encoding="utf-8") as fh:
        raw = nfc(fh.read())
    return [ln.strip() for ln in raw.replace("***", "").replace("**", "").replace("*", "")
            .splitlines() if ln.strip()]


@unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
class PartyRender(unittest.TestCase):
    """Every document is issued and rendered once in setUpClass, on 8 July 2025 (the seed's date)."""

    @classmethod
    def setUpClass(cls):
        require_readers()
        cls.tmp = tempfile.mkdtemp(prefix="vanthu-party-")
        os.chmod(cls.tmp, 0o777)
        cls.recs, cls.error, cls.log_error = {}, None, None
        d = Daemon(extra=PARTY)
        try:
            d.start(now="2025-07-08T09:00:00")
            cls.render_all(d)
        except Exception as e:  # noqa: BLE001 - reported by every test
            cls.error = f"{type(e).__name__}: {e}"
        finally:
            try:
                if d.proc is not None and d.proc.poll() is None:
                    d.stop()
            except Exception as e:  # noqa: BLE001 - a sanitizer report
                cls.log_error = str(e)[-6000:]
            cls.outgoing = sorted(os.path.relpath(os.path.join(p, f), d.spool)
                                  for p, _, fs in os.walk(os.path.join(d.spool, "outgoing"))
                                  for f in fs)
            d.cleanup()
        cls.widest_dates()
        files = [r["docx"] for r in cls.recs.values() if "docx" in r]
        out, missing, log = soffice(files, "pdf", cls.tmp)
        for rec in cls.recs.values():
            pdf = out.get(rec.get("docx"))
            if pdf:
                rec["pdf"] = pdf
                rec["lines"] = pdf_lines(pdf)
            elif "docx" in rec:
                rec["pdf_error"] = f"LibreOffice did not convert {rec['docx']}:\n{log}"

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("VANTHU_KEEP_RENDER"):
            print(f"\ntest_party: files kept in {cls.tmp}")
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def render(cls, d, name, doc_id, user="vtt-dung"):
        path = os.path.join(cls.tmp, f"{name}.docx")
        r = d.ctl("render", str(doc_id), "-o", path, user=user)
        if r.returncode != 0:
            raise AssertionError(f"render {name}: {r.stderr}")
        cls.recs.setdefault(name, {})["docx"] = path

    @classmethod
    def render_all(cls, d):
        with open(PLAN_XML, encoding="utf-8") as fh:
            plan = fh.read()
        # an earlier plan takes 01: the seed is the Ban Chỉ đạo's second, 02-KH/BCĐ
        first = new(d, "ke-hoach", plan, "kh1.xml")
        cls.recs["plan-01"] = {"symbol": drive(d, first)}
        seed = new(d, "ke-hoach", plan, "kh2.xml")
        cls.render(d, "plan-draft", seed, user="vtt-ana")
        cls.recs["plan"] = {"symbol": drive(d, seed)}
        cls.render(d, "plan", seed)
        tb = new(d, "thong-bao", party_doc(
            "thong-bao", "TU", "Kết luận của Ban Thường vụ Tỉnh ủy về chuyển đổi số quý III năm 2025",
            [("p", "Ngày 01/7/2025, Ban Thường vụ Tỉnh ủy họp nghe báo cáo tình hình chuyển đổi số."),
             ("heading", "1. Đánh giá chung"),
             ("p", "Các cấp ủy đã tập trung lãnh đạo, chỉ đạo."),
             ("p", "Văn phòng Tỉnh ủy theo dõi, đôn đốc việc thực hiện.")],
            ["T/M Ban Thường vụ", "Phó Bí thư"], "Lê Văn Minh",
            ["Các đảng ủy trực thuộc Tỉnh ủy", "Các ban xây dựng Đảng của Tỉnh ủy",
             "Các đồng chí Tỉnh ủy viên"]), "tb.xml")
        cls.recs["tb"] = {"symbol": drive(d, tb)}
        cls.render(d, "tb", tb)
        # a drafter may write the state prefix: a Party document prints K/T
        kt = new(d, "thong-bao", party_doc(
            "thong-bao", "TU", "Thông báo ý kiến của Thường trực Tỉnh ủy",
            [("p", "Thường trực Tỉnh ủy có ý kiến như sau.")], ["KT. Bí thư", "Phó Bí thư"],
            "Lê Văn Minh", ["Các đảng ủy trực thuộc"]), "kt.xml")
        cls.recs["kt"] = {"symbol": drive(d, kt)}
        cls.render(d, "kt", kt)
        cv = new(d, "cong-van", party_doc(
            "cong-van", "TU", "báo cáo kết quả chuyển đổi số quý III năm 2025",
            [("p", "Ban Thường vụ Tỉnh ủy đề nghị các đơn vị báo cáo trước ngày 15/10/2025.")],
            ["T/L Ban Thường vụ", "Chánh Văn phòng"], "Trần Thị Hoa",
            ["Văn phòng Trung ương Đảng (để báo cáo)"], to=("SO-TTTT", "SO-NV")), "cv.xml")
        cls.recs["cv"] = {"symbol": drive(d, cv)}
        cls.render(d, "cv", cv)
        # the drafter asks for the closing mark the Party's guide does not have
        cl = new(d, "thong-bao", party_doc(
            "thong-bao", "TU", "Thông báo có dấu kết thúc",
            [("p", "Ban Thường vụ Tỉnh ủy thông báo để các đơn vị biết, thực hiện.")],
            ["T/M Ban Thường vụ", "Phó Bí thư"], "Lê Văn Minh", ["Các đảng ủy trực thuộc"],
            closing="true"), "cl.xml")
        cls.render(d, "closing", cl, user="vtt-ana")   # a draft: the register stays as it is

    @classmethod
    def widest_dates(cls):
        """Copies of tb and plan whose date line reads the widest day and month, "ngày 28 tháng
        12", after a place as long as a province's name (the issue's line wrapped there), for
        LibreOffice to lay out with the rest (issue 14, item 6)."""
        for name, place in (("tb", "Quảng Ninh"), ("plan", "Uông Bí")):
            src = cls.recs.get(name, {}).get("docx")
            if not src:
                continue
            out = os.path.join(cls.tmp, f"{name}-date-max.docx")
            with zipfile.ZipFile(src) as z, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as w:
                for i in z.infolist():
                    b = z.read(i.filename)
                    if i.filename == "word/document.xml":
                        b = re.sub(f"{place}, ngày [0-9]+ tháng [0-9]+ năm [0-9]+".encode(),
                                   "Bà Rịa - Vũng Tàu, ngày 28 tháng 12 năm 2026".encode(), b)
                    w.writestr(i, b)
            cls.recs[f"{name}-date-max"] = {"docx": out, "place": place}

    # ---- access

    def rec(self, name, pdf=True):
        if self.error:
            self.fail(self.error)
        rec = self.recs.get(name)
        self.assertIsNotNone(rec, f"{name} was never rendered")
        if pdf:
            self.assertNotIn("pdf_error", rec, rec.get("pdf_error"))
            self.assertIn("lines", rec, f"{name}: no PDF")
        return rec

    def pdf_texts(self, name):
        return [ln.text for ln in self.rec(name)["lines"]]

    def view(self, name):
        return DocxView(self.rec(name, pdf=False)["docx"])

    # ---- tests

    def test_0_daemon_exits_cleanly(self):
        self.assertIsNone(self.error)
        self.assertIsNone(self.log_error, "vanthud did not stop cleanly")

    def test_numbers_and_files(self):
        self.assertEqual(self.rec("plan-01", pdf=False)["symbol"], "01-KH/BCĐ")
        self.assertEqual(self.rec("plan", pdf=False)["symbol"], "02-KH/BCĐ")
        self.assertEqual(self.rec("tb", pdf=False)["symbol"], "01-TB/TU")
        self.assertEqual(self.rec("kt", pdf=False)["symbol"], "02-TB/TU")
        self.assertEqual(self.rec("cv", pdf=False)["symbol"], "01-CV/TU")
        # the issued files sit under the term whose register numbered them
        self.assertEqual(self.outgoing, ["outgoing/2020-2025/01-CV-TU.docx",
                                         "outgoing/2020-2025/01-TB-TU.docx",
                                         "outgoing/2020-2025/02-TB-TU.docx",
                                         "outgoing/2025-2030/01-KH-BCĐ.docx",
                                         "outgoing/2025-2030/02-KH-BCĐ.docx"])
        for name in ("plan", "tb", "kt", "cv", "plan-draft"):
            self.assertEqual(check_package(self.rec(name, pdf=False)["docx"]), [], name)

    def test_header_reads_as_the_party_table(self):
        problems = []
        for name, parent, issuer, number, place in (
                ("plan", "ĐẢNG ỦY PHƯỜNG UÔNG BÍ", None, "Số 02-KH/BCĐ", "Uông Bí"),
                ("tb", "ĐẢNG BỘ TỈNH QUẢNG NINH", "BAN THƯỜNG VỤ TỈNH ỦY", "Số 01-TB/TU", "Quảng Ninh"),
                ("cv", "ĐẢNG BỘ TỈNH QUẢNG NINH", "BAN THƯỜNG VỤ TỈNH ỦY", "Số 01-CV/TU", "Quảng Ninh")):
            v = self.view(name)
            p = v.one(DCSVN, problems)
            v.check(p, f"{name}: Đảng Cộng sản Việt Nam", problems, bold=True, size=(15, 15))
            if p is not None and not bottom_line(v, p):
                problems.append(f"{name}: no line under {DCSVN}")
            v.check(v.one(parent, problems), f"{name}: parent committee", problems, bold=False,
                    size=(14, 14), upper=True)
            if issuer:
                iss = v.one(issuer, problems)
                v.check(iss, f"{name}: issuing committee", problems, bold=True, size=(14, 14))
                if iss is not None:
                    after = v.paras[[q._p for q in v.paras].index(iss._p) + 1].text
                    if after.strip() != "*":
                        problems.append(f"{name}: {after!r} under the issuing committee, not a star")
            num = v.one(number, problems)
            v.check(num, f"{name}: number", problems, bold=False, size=(14, 14))
            if any(p.text.startswith("Số:") for p in v.paras):
                problems.append(f"{name}: a 'Số:' with a colon")
            # the PDF: the date line on the number's row, to its right, in italic (python-docx)
            lines = self.rec(name)["lines"]
            row = [ln for ln in lines if ln.text.startswith("Số ")]
            if not row:
                problems.append(f"{name}: no number line in the PDF: {self.pdf_texts(name)[:12]}")
                continue
            got = " ".join(w[0] for w in same_row(lines, row[0]))
            if not got.startswith(number) or f"{place}, ngày" not in got:
                problems.append(f"{name}: the number's row reads {got!r}")
            date = [p for p in v.paras if p.text.startswith(f"{place}, ngày")]
            v.check(date[0] if date else None, f"{name}: date line", problems, italic=True,
                    size=(14, 14))
        self.assertEqual(problems, [])

    def test_seed_date_and_issuer_lines(self):
        texts = self.pdf_texts("plan")
        self.assertIn("Uông Bí, ngày 08 tháng 7 năm 2025", " ".join(texts))
        got = pdf_words(self.rec("plan")["lines"])
        self.assertGreaterEqual(find_run(got, words(
            "BAN CHỈ ĐẠO VỀ PHÁT TRIỂN KHOA HỌC, CÔNG NGHỆ, ĐỔI MỚI SÁNG TẠO VÀ CHUYỂN ĐỔI SỐ")), 0,
            texts[:12])

    def test_draft_leaves_the_number_blank(self):
        v = self.view("plan-draft")
        nums = [p.text for p in v.paras if p.text.startswith("Số ")]
        self.assertEqual(len(nums), 1, nums)
        self.assertRegex(nums[0], r"^Số \s+-KH/BCĐ$")
        self.assertTrue(any(re.fullmatch(r"Uông Bí, ngày\s+tháng\s+năm 2025", p.text.strip())
                            for p in v.paras))

    def test_authority_lines(self):
        problems = []
        for name, lines in (("tb", ["T/M BAN THƯỜNG VỤ", "PHÓ BÍ THƯ"]),
                            ("kt", ["K/T BÍ THƯ", "PHÓ BÍ THƯ"]),
                            ("cv", ["T/L BAN THƯỜNG VỤ", "CHÁNH VĂN PHÒNG"]),
                            ("plan", ["BÍ THƯ ĐẢNG ỦY", "kiêm", "TRƯỞNG BAN CHỈ ĐẠO"])):
            v = self.view(name)
            for line in lines:
                v.check(v.one(line, problems), f"{name}: {line}", problems, bold=True, size=(14, 14))
            texts = self.pdf_texts(name)
            at = [i for i, t in enumerate(texts) if lines[0] in t]
            if not at:
                problems.append(f"{name}: {lines[0]} not in the PDF")
            if any(t.startswith(("KT.", "TM.", "TL.")) for t in (p.text for p in v.paras)):
                problems.append(f"{name}: a state prefix on a Party document")
        self.assertEqual(problems, [])

    def test_noi_nhan(self):
        problems = []
        for name, count, last in (("tb", 3, "- Lưu Văn phòng Tỉnh ủy."),
                                  ("plan", 7, "- Lưu VPĐU, BCD."),
                                  ("cv", 2, "- Lưu Văn phòng Tỉnh ủy.")):
            v = self.view(name)
            head = v.one("Nơi nhận:", problems)
            if head is None:
                continue
            v.check(head, f"{name}: Nơi nhận", problems, size=(14, 14))
            runs = [r for r in head._p.iter(f"{W}r")
                    if "".join(t.text or "" for t in r.iter(f"{W}t")).strip()]
            if not runs or any(v.fmt.r_attr(r, head._p, "u") in (None, "none") for r in runs):
                problems.append(f"{name}: 'Nơi nhận:' is not underlined")
            paras = [p for p in v.paras]
            i = [p._p for p in paras].index(head._p)
            block = [p for p in paras[i + 1:i + 2 + count]]
            texts = [p.text for p in block]
            if texts[-1] != last:
                problems.append(f"{name}: the last Nơi nhận line is {texts[-1]!r}, not {last!r}")
            for p in block[:-1]:
                if not (p.text.startswith("- ") and p.text.endswith(",")):
                    problems.append(f"{name}: recipient line {p.text!r} does not end with ','")
            for p in block:
                v.check(p, f"{name}: {p.text}", problems, size=(12, 12))
            if "Lưu:" in " ".join(texts):
                problems.append(f"{name}: 'Lưu:' with a colon")
        # "- Như trên," first in a công văn
        v = self.view("cv")
        self.assertIn("- Như trên,", [p.text for p in v.paras])
        self.assertEqual(problems, [])

    def test_page_and_margins(self):
        for name in ("plan", "tb"):
            v = self.view(name)
            sec = v.doc.sections[0]
            self.assertAlmostEqual(sec.top_margin.mm, 20, delta=0.2)
            self.assertAlmostEqual(sec.bottom_margin.mm, 20, delta=0.2)
            self.assertAlmostEqual(sec.left_margin.mm, 30, delta=0.2)
            self.assertAlmostEqual(sec.right_margin.mm, 15, delta=0.2)
            self.assertTrue(sec.different_first_page_header_footer, name)
        # the plan runs over several pages: no number on page 1, "2" top centre on page 2
        lines = self.rec("plan")["lines"]
        pages = max(ln.page for ln in lines)
        self.assertGreater(pages, 2)
        first = [ln for ln in lines if ln.page == 1]
        self.assertNotEqual(first[0].text.strip(), "1")
        for page in (2, pages):
            top = min((ln for ln in lines if ln.page == page), key=lambda ln: ln.top)
            self.assertEqual(top.text.strip(), str(page))
            width = 595.3
            mid = (top.left + top.right) / 2
            self.assertLess(abs(mid - (30 / 25.4 * 72 + (width - (45 / 25.4 * 72)) / 2)), 20)

    def test_seed_plan_word_for_word(self):
        """The seed's plan, from the input XML: its header, its sections and its Nơi nhận."""
        if not os.path.exists(SEED_PLAN):
            self.skipTest(f"{SEED_PLAN} is not on this machine (the shared seeds)")
        lines = seed_lines()
        start = lines.index("KẾ HOẠCH") + 1
        stop = lines.index("Nơi nhận:")
        body = " ".join(lines[start:stop])
        got = pdf_words(self.rec("plan")["lines"])
        # the page numbers (in the top margin) out; the "-----" under the summary ends in a
        # hyphen, so pdf_words joins it to the next line's first word
        top = self.view("plan").doc.sections[0].top_margin.pt
        body_words = pdf_words([ln for ln in self.rec("plan")["lines"] if ln.bottom > top + 1])
        got_text = [w[5:] if w.startswith("-----") else w for w in body_words if w != "-----"]
        # the body ends as the seed does, without "./." (the Party's guide has no closing mark)
        expected = [w for w in words(body) if w]
        self.assertFalse(body.endswith("./."))
        self.assertGreaterEqual(find_run(got_text, expected), 0, word_diff(expected, got_text))
        # the header: the parent committee and KẾ HOẠCH, the number in the Party's style
        text = " ".join(got)
        self.assertIn("ĐẢNG ỦY PHƯỜNG UÔNG BÍ", text)
        self.assertIn(DCSVN, text)
        self.assertIn("Số 02-KH/BCĐ", text)
        self.assertIn("KẾ HOẠCH", text)
        # Nơi nhận as the seed lists it: the same lines, ',' after each, "- Lưu ..." last
        seed_rec = [ln for ln in lines[stop + 1:] if ln.startswith("- ")]
        v = self.view("plan")
        paras = [p.text for p in v.paras]
        i = paras.index("Nơi nhận:")
        self.assertEqual(paras[i + 1:i + 1 + len(seed_rec)], seed_rec)
        # the signature block as the seed ends: office, "kiêm", office, name
        i = paras.index(lines[-4])
        self.assertEqual(paras[i:i + 4], lines[-4:])
        # pandoc, a third reader, sees the same words
        plain = run(["pandoc", "-t", "plain", "--wrap=none", self.rec("plan", pdf=False)["docx"]])
        pw = words(plain)
        self.assertGreaterEqual(find_run(pw, expected[:60]), 0, word_diff(expected[:60], pw))
        for ln in seed_rec:
            self.assertIn(ln, " ".join(plain.split()))

    def test_closing_mark_as_the_party_guide_and_the_input_say(self):
        """Issue 14, item 7: no "./." by default on a Party document; closing="true" asks it."""
        for name, last in (("tb", "Văn phòng Tỉnh ủy theo dõi, đôn đốc việc thực hiện."),
                           ("plan", "- Kế hoạch này được phổ biến, quán triệt tới chi bộ."),
                           ("closing", "Ban Thường vụ Tỉnh ủy thông báo để các đơn vị biết, "
                                       "thực hiện./.")):
            v = self.view(name)
            paras = [p.text for p in v.paras]
            self.assertIn(last, paras, name)
            self.assertEqual([t for t in paras if t.endswith("./.")], [last] if name == "closing"
                             else [], name)
            # the "-----" under the summary ends in a hyphen: pdf_words joins it to the next word
            got = [w[5:] if w.startswith("-----") else w for w in pdf_words(self.rec(name)["lines"])]
            self.assertGreaterEqual(find_run(got, words(last)), 0, f"{name}: {last!r} in the PDF")

    def test_date_line_fits_one_line(self):
        """Issue 14, item 6: the widest date of the place stays on the number's row."""
        problems = []
        for name in ("tb", "plan", "tb-date-max", "plan-date-max"):
            lines = self.rec(name)["lines"]
            at = [ln for ln in lines if ln.page == 1 and re.search(r", ngày \d+ tháng", ln.text)]
            if len(at) != 1:
                problems.append(f"{name}: {[ln.text for ln in lines[:10]]}")
                continue
            row = " ".join(w[0] for w in same_row(lines, at[0]))
            if not re.search(r", ngày \d+ tháng \d+ năm \d{4}$", row):
                problems.append(f"{name}: the date line's row reads {row!r}")
        self.assertEqual(problems, [])

    def test_signature_centred_under_the_party_name(self):
        """The signer's block stands under ĐẢNG CỘNG SẢN VIỆT NAM, as the Party's guide lays it
        out, whatever the header's columns."""
        problems = []
        for name, signer in (("tb", "Lê Văn Minh"), ("plan", "Nguyễn Chiến Thắng"),
                             ("cv", "Trần Thị Hoa")):
            lines = self.rec(name)["lines"]
            mid = {t: [(ln.left + ln.right) / 2 for ln in lines if ln.text == t] for t in (DCSVN, signer)}
            if not mid[DCSVN] or not mid[signer]:
                problems.append(f"{name}: {mid}")
            elif abs(mid[DCSVN][0] - mid[signer][-1]) > 3:
                problems.append(f"{name}: the signer's name is centred at {mid[signer][-1]:.1f} pt, "
                                f"{DCSVN} at {mid[DCSVN][0]:.1f} pt")
        self.assertEqual(problems, [])

    def test_signature_page_holds_body_text(self):
        """Issue 14, item 4: the ten-page plan's last page has body text above the signature."""
        lines = self.rec("plan")["lines"]
        top = self.view("plan").doc.sections[0].top_margin.pt
        pages = max(ln.page for ln in lines)
        self.assertGreater(pages, 2)
        name = [ln for ln in lines if ln.text.endswith("Nguyễn Chiến Thắng")]
        self.assertEqual(name[-1].page, pages)
        here = [ln for ln in lines if ln.page == pages and ln.bottom > top + 1]
        block = min(ln.top for ln in here if ln.text.startswith(("Nơi nhận:", "BÍ THƯ ĐẢNG ỦY")))
        above = [ln.text for ln in here if ln.bottom <= block + 1]
        self.assertTrue(above, f"page {pages} holds only the signature: {[ln.text for ln in here]}")
        v = self.view("plan")
        last = [p for p in v.paras if p.text == "- Kế hoạch này được phổ biến, quán triệt tới chi bộ."]
        self.assertIsNotNone(last[0]._p.find(f"{W}pPr/{W}keepNext"), "keepNext on the last paragraph")


class PartyDaemon(DaemonTest):
    """A daemon with the Party bodies configured, started by each test at its own date."""

    config = {"extra": PARTY}
    started = False


@unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
class PartyRegister(PartyDaemon):

    def signed(self, kind, issuer="TU", n=1):
        out = []
        for i in range(n):
            text = party_doc(kind, issuer, f"Văn bản thử số {i + 1}", [("p", "Nội dung.")],
                             ["T/M Ban Thường vụ", "Phó Bí thư"], recipients=["Các đảng ủy trực thuộc"],
                             to=("SO-TTTT",) if kind == "cong-van" else ())
            doc = new(self.d, kind, text, f"{kind}-{i}.xml")
            drive(self.d, doc, FLOW[:3])
            out.append(doc)
        return out

    def issue(self, doc):
        return drive(self.d, doc, FLOW[3:])

    def register(self, *args, user="vtt-dung"):
        r = self.d.ctl("register", *args, user=user, json_out=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.json["result"]

    def test_series_per_type_within_a_term_and_a_new_term(self):
        # the evening before the 2025-2030 term begins (15/10/2025)
        self.d.start(now="2025-10-14T23:59:40")
        kh = self.signed("ke-hoach", n=3)
        tb = self.signed("thong-bao", n=1)
        st = self.signed("thong-bao", issuer=None, n=1)
        show = self.d.ctl("show", str(kh[0]), user="vtt-dung").stdout
        self.assertRegex(show, r"Cơ quan ban hành: +Ban Thường vụ Tỉnh ủy \(TU\)\n")
        self.assertRegex(self.d.ctl("show", str(st[0]), user="vtt-dung").stdout,
                         r"Cơ quan ban hành: +Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu \(UBND\)\n")
        self.assertRegex(self.d.ctl("whoami", user="vtt-chi").stdout,
                         r"Chức vụ trong Đảng: *Phó Bí thư\n")
        self.assertEqual(self.issue(kh[0]), "01-KH/TU")
        self.assertEqual(self.issue(tb[0]), "01-TB/TU")
        self.assertEqual(self.issue(kh[1]), "02-KH/TU")
        self.assertEqual(self.issue(st[0]), "01/TB-UBND")   # the state register runs apart
        self.assertEqual(self.register("--body", "TU")["term"], "2020-2025")
        # past midnight (Vietnam time): the new term numbers from 01 again
        while self.d.ctl("register", "--body", "TU", user="vtt-dung",
                         json_out=True).json["result"]["term"] != "2025-2030":
            time.sleep(0.5)
        self.assertEqual(self.issue(kh[2]), "01-KH/TU")
        old = self.register("--body", "TU", "--term", "2020-2025")
        self.assertEqual([(e["type"], e["number"], e["symbol"]) for e in old["entries"]],
                         [("KH", 1, "01-KH/TU"), ("KH", 2, "02-KH/TU"), ("TB", 1, "01-TB/TU")])
        self.assertEqual([e["issued_on"] for e in old["entries"]], ["2025-10-14"] * 3)
        cur = self.register("--body", "TU")
        self.assertEqual(cur["term"], "2025-2030")
        self.assertEqual([(e["symbol"], e["issued_on"]) for e in cur["entries"]],
                         [("01-KH/TU", "2025-10-15")])
        only_tb = self.register("--body", "TU", "--term", "2020-2025", "--type", "TB")
        self.assertEqual([e["symbol"] for e in only_tb["entries"]], ["01-TB/TU"])
        state = self.register("--year", "2025")
        self.assertEqual([e["symbol"] for e in state["entries"]], ["01/TB-UBND"])
        # the table a clerk reads
        text = self.d.ctl("register", "--body", "TU", "--term", "2020-2025", user="vtt-dung").stdout
        self.assertIn("SỔ ĐĂNG KÝ VĂN BẢN ĐI — Ban Thường vụ Tỉnh ủy (TU) — nhiệm kỳ 2020-2025", text)
        self.assertLess(text.index("== Kế hoạch (KH) =="), text.index("== Thông báo (TB) =="))
        self.assertIn("Số, ký hiệu văn bản: 02-KH/TU", " ".join(text.split()))
        csv = self.d.ctl("register", "--body", "TU", "--term", "2020-2025", "--csv",
                         user="vtt-giang").stdout
        self.assertEqual(csv.count("\r\n"), 4)
        # void a Party number: by type within the term; it stays taken
        r = self.d.ctl("void", "2", "--body", "TU", "--term", "2020-2025", "--type", "KH", "-m",
                       "Ban hành nhầm", user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Đã hủy số 2 loại KH nhiệm kỳ 2020-2025 của TU", r.stdout)
        r = self.d.ctl("void", "2", "--body", "TU", "--term", "2020-2025", "--type", "KH", "-m",
                       "lần nữa", user="vtt-dung", json_out=True)
        self.assertEqual(r.json["error"]["code"], "E_STATE")  # voided already
        old = self.register("--body", "TU", "--term", "2020-2025", "--type", "KH")
        self.assertEqual(old["entries"][1]["void_reason"], "Ban hành nhầm")
        # what the register refuses to guess
        for args, code in ((("--body", "TU", "--year", "2025"), "E_INVALID"),
                           (("--type", "KH"), "E_INVALID"),
                           (("--body", "XX"), "E_NOT_FOUND"),
                           (("--body", "TU", "--term", "2015-2020"), "E_NOT_FOUND")):
            r = self.d.ctl("register", *args, user="vtt-dung", json_out=True)
            self.assertEqual(r.json["error"]["code"], code, args)
        r = self.d.ctl("void", "1", "--body", "TU", "--year", "2025", "-m", "x", user="vtt-dung",
                       json_out=True)
        self.assertEqual(r.json["error"]["code"], "E_INVALID")
        self.d.stop()

    def test_concurrent_issuing_is_gapless_per_type(self):
        self.d.start(now="2026-03-02T09:00:00")
        docs = self.signed("ke-hoach", n=6) + self.signed("thong-bao", n=5) + \
            self.signed("cong-van", n=4)
        clerks = [Relay(self.d.socket, "vtt-dung") for _ in range(4)]
        for i, doc in enumerate(docs):
            clerks[i % 4].p.stdin.write(json.dumps(
                {"cmd": "act", "args": {"id": doc, "action": "issue"}}).encode() + b"\n")
        for c in clerks:
            c.p.stdin.flush()
        got = [json.loads(clerks[i % 4].p.stdout.readline()) for i in range(len(docs))]
        for c in clerks:
            c.close()
        self.assertTrue(all(g["ok"] for g in got), got)
        by_type = {}
        for g in got:
            m = re.fullmatch(r"(\d+)-(KH|TB|CV)/TU", g["result"]["symbol"])
            self.assertIsNotNone(m, g)
            by_type.setdefault(m.group(2), []).append(int(m.group(1)))
        self.assertEqual({k: sorted(v) for k, v in by_type.items()},
                         {"KH": list(range(1, 7)), "TB": list(range(1, 6)), "CV": list(range(1, 5))})
        entries = self.register("--body", "TU")["entries"]
        self.assertEqual(len(entries), 15)
        self.d.stop()

    def test_refusals(self):
        self.d.start(now="2026-03-02T09:00:00")
        # an issuer the configuration does not have
        text = party_doc("thong-bao", "XX", "Thử", [("p", "Nội dung.")], ["T/M Ban Thường vụ", "Bí thư"],
                         recipients=["Các đảng ủy"])
        r = self.d.ctl("new", "thong-bao", write(self.d, "xx.xml", text), user="vtt-ana", json_out=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("[R_ISSUER] dòng 2: cơ quan ban hành \"XX\" không có trong cấu hình",
                      r.json["error"]["message"])
        # a kind without a Party template, for a Party committee
        bc = ('<?xml version="1.0" encoding="UTF-8"?>\n<bao-cao-tong-hop xmlns="urn:vanthu:document:1" '
              'issuer="TU"><summary>Tổng hợp</summary><body><p>Nội dung.</p></body>'
              '<signer><line>T/M Ban Thường vụ</line><name>Lê Văn Minh</name></signer>'
              '<recipients><recipient>Các đảng ủy</recipient></recipients><archive>VP</archive>'
              '</bao-cao-tong-hop>')
        r = self.d.ctl("new", "bao-cao-tong-hop", write(self.d, "bc.xml", bc), user="vtt-ana",
                       json_out=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("loại văn bản \"Báo cáo tổng hợp\" không có mẫu của Đảng; TU là cấp ủy Đảng",
                      r.json["error"]["message"])
        # a draft whose body left the configuration is not numbered
        doc = self.signed("ke-hoach", issuer="BCĐ")[0]
        self.d.stop()
        self.d.write_config(extra=PARTY.split("[body BCĐ]")[0])
        self.d.start(now="2026-03-02T09:00:00")
        r = self.d.ctl("issue", str(doc), user="vtt-dung")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cơ quan ban hành \"BCĐ\" của văn bản này không còn trong cấu hình", r.stderr)
        self.assertEqual(self.register("--body", "TU")["entries"], [])
        self.d.stop()

    def test_no_term_yet(self):
        self.d.start(now="2020-10-09T09:00:00")
        doc = self.signed("ke-hoach")[0]
        r = self.d.ctl("issue", str(doc), user="vtt-dung")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("chưa có nhiệm kỳ nào của TU bắt đầu trước ngày 09/10/2020", r.stderr)
        self.d.stop()


@unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
class PartyRound(PartyDaemon):
    """A provincial standing board's plan asks units to report; its drafts are the board's."""

    def round_xml(self):
        with open(ROUND, encoding="utf-8") as fh:
            text = fh.read().replace('login="lanh-dao-ky"', 'login="vtt-chi"')
        text = text.replace('id="CDS-2024-Q1"', 'id="CDS-2024-Q1" issuer="TU"')
        # the plan names no issuer: it is the board's own, and cited as the board's
        text = re.sub(r'<request [^>]*/>', '<request number="538" symbol="KH/TU" date="2024-03-10"/>',
                      text)
        # the signer named, no lines: the drafts sign "T/M" the board, with vtt-chi's party_title
        text = re.sub(r"<signer login=\"vtt-chi\">.*?</signer>",
                      '<signer login="vtt-chi"><name>Đặng Minh Thông</name></signer>', text,
                      flags=re.S)
        text = text.replace("<archive>VT, VP</archive>", "<archive>Văn phòng Tỉnh ủy</archive>")
        return text

    def test_round_opened_by_a_party_plan(self):
        work = os.path.join(self.d.root, "work")
        os.makedirs(work)
        os.chmod(work, 0o777)
        round_file = write(self.d, "round.xml", self.round_xml())
        # the reminder is due two working days before the deadline (25/3/2024)
        self.d.start(now="2024-03-21T09:00:00")
        r = self.d.ctl("round", "new", round_file, user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.d.stop()
        self.d.start(now="2024-03-22T09:00:00")
        time.sleep(1.0)
        docs = self.d.ctl("list", user="vtt-giang", json_out=True).json["result"]["documents"]
        reminders = [x for x in docs if x["kind"] == "cong-van"]
        self.assertEqual(len(reminders), 1, docs)
        r = self.d.ctl("round", "close", "CDS-2024-Q1", user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stderr)
        concl = int(re.search(r"văn bản số (\d+)", r.stdout).group(1))
        outs = {}
        for name, doc in (("reminder", reminders[0]["id"]), ("conclusion", concl)):
            out = os.path.join(work, f"{name}.docx")
            r = self.d.ctl("render", str(doc), "-o", out, user="vtt-ana")
            self.assertEqual(r.returncode, 0, r.stderr)
            outs[name] = out
        # the conclusion goes through the workflow and takes the board's own number
        for user, action in FLOW:
            r = self.d.ctl(action, str(concl), user=user)
            self.assertEqual(r.returncode, 0, (action, r.stderr))
        self.assertIn("Số, ký hiệu: 01-TB/TU.", r.stdout)
        self.d.stop()
        out, missing, log = soffice(list(outs.values()), "pdf", work)
        self.assertEqual(missing, [], log)
        for name, path in outs.items():
            lines = pdf_lines(out[path])
            text = " ".join(" ".join(ln.text for ln in lines).split())
            self.assertIn(DCSVN, text, name)
            self.assertIn("ĐẢNG BỘ TỈNH QUẢNG NINH", text, name)
            self.assertIn("BAN THƯỜNG VỤ TỈNH ỦY", text, name)
            self.assertIn("T/M BAN THƯỜNG VỤ", text, name)
            self.assertIn("PHÓ BÍ THƯ", text, name)
            self.assertIn("Kế hoạch số 538-KH/TU, ngày 10/3/2024 của Ban Thường vụ Tỉnh ủy", text,
                          name)
            self.assertIn("- Lưu Văn phòng Tỉnh ủy.", text, name)
            self.assertNotIn("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", text, name)
            self.assertNotIn("KT. CHỦ TỊCH", text, name)
            self.assertIn("Quảng Ninh, ngày", text, name)
        # a draft's number is blank, in the Party's style
        v = DocxView(outs["reminder"])
        self.assertTrue(any(re.fullmatch(r"Số \s+-CV/TU", p.text) for p in v.paras),
                        [p.text for p in v.paras][:12])

    def test_meeting_of_the_standing_board(self):
        """A meeting's conclusions, issued by the board: its notice signed T/M BAN THƯỜNG VỤ."""
        with open(MEETING, encoding="utf-8") as fh:
            text = fh.read().replace('login="lanh-dao-ky"', 'login="vtt-chi"')
        text = text.replace(' round="CDS-2024-Q1"', ' issuer="TU"')
        text = re.sub(r"<signer login=\"vtt-chi\">.*?</signer>",
                      '<signer login="vtt-chi"><name>Đặng Minh Thông</name></signer>', text, flags=re.S)
        self.d.start(now="2024-04-05T15:00:00")
        r = self.d.ctl("meeting", write(self.d, "meeting.xml", text), user="vtt-dung", json_out=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        doc = r.json["result"]["document"]
        work = os.path.join(self.d.root, "work")
        os.makedirs(work)
        os.chmod(work, 0o777)
        out = os.path.join(work, "meeting.docx")
        r = self.d.ctl("render", str(doc), "-o", out, user="vtt-ana")
        self.assertEqual(r.returncode, 0, r.stderr)
        paras = [p.text for p in DocxView(out).paras]
        i = paras.index("T/M BAN THƯỜNG VỤ")
        self.assertEqual(paras[i + 1:i + 3], ["PHÓ BÍ THƯ", "Đặng Minh Thông"])
        self.assertIn(DCSVN, paras)
        self.assertIn("BAN THƯỜNG VỤ TỈNH ỦY", paras)
        self.assertTrue(any(re.fullmatch(r"Số \s+-TB/TU", p) for p in paras), paras[:12])
        self.assertIn("- Lưu VT, TH.", paras)
        for user, action in FLOW:
            r = self.d.ctl(action, str(doc), user=user)
            self.assertEqual(r.returncode, 0, (action, r.stderr))
        self.assertIn("Số, ký hiệu: 01-TB/TU.", r.stdout)
        self.d.stop()

    def test_round_refused_without_a_party_template(self):
        text = self.round_xml().replace('<conclusion kind="thong-bao">',
                                        '<conclusion kind="bao-cao-tong-hop">')
        self.d.start(now="2024-03-12T09:00:00")
        r = self.d.ctl("round", "new", write(self.d, "r.xml", text), user="vtt-dung")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("R_ISSUER", r.stdout + r.stderr)
        self.assertIn("không có mẫu của Đảng", r.stdout + r.stderr)
        # a Party round's signer with four lines of its own: no room left under T/M
        text = re.sub(r'<signer login="vtt-chi">', '<signer login="vtt-chi"><line>Phó Bí thư</line>'
                      '<line>kiêm</line><line>Trưởng Ban Chỉ đạo</line><line>Tỉnh ủy</line>',
                      self.round_xml())
        r = self.d.ctl("round", "new", write(self.d, "f.xml", text), user="vtt-dung", json_out=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("chỉ còn chỗ cho 3 dòng chức vụ", r.json["error"]["message"])
        # a state round must give its signer's lines
        text = self.round_xml().replace(' issuer="TU"', "")
        r = self.d.ctl("round", "new", write(self.d, "s.xml", text), user="vtt-dung")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("<signer> cần các dòng thẩm quyền", r.stdout + r.stderr)
        self.d.stop()


if __name__ == "__main__":
    unittest.main()
