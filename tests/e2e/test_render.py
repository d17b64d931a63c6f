"""End-to-end tests of rendering: the DOCX vanthud writes, read back by independent readers.

One daemon drafts, issues and renders every document of this suite as real users
(vtt-ana drafts, vtt-binh approves, vtt-chi signs, vtt-dung issues; `vanthuctl render`
fetches each file). The files are then read by:
- LibreOffice (DOCX to PDF; every file in one soffice run with a profile of its own)
  and poppler's pdftotext, pdffonts and pdfinfo;
- python3-docx, with the formatting resolved through the styles by this file;
- pandoc (DOCX to plain text);
- check_package() below: a structural checker of the package and of the
  WordprocessingML that Word is strict about, run on every DOCX of the suite.
What is checked comes from templates-docx/README.md (the data contract) and
../shared/format-vn.md (the layout of Nghị định 30/2020), not from incidental
details of a template.

pdftotext runs with -tsv rather than in its default text mode: the default mode
joins a word hyphenated at the end of a line to the next line and drops the
hyphen ("Bà Rịa-" + "Vũng Tàu" gives "Bà RịaVũng Tàu"), which no word-for-word
comparison survives. -tsv gives the same lines (no -layout), word by word, with
their positions; pdf_words() joins such a word keeping its hyphen.

The readers are Debian packages that `make deps` installs; a missing one fails the
suite with that message, nothing is skipped.
"""
import datetime
import hashlib
import os
import posixpath
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unicodedata
import unittest
import urllib.parse
import xml.etree.ElementTree as ET
import zipfile
from xml.sax.saxutils import escape

from harness import IS_ROOT, REPO, SAN_ENV, VANTHUD, Daemon

try:
    import docx
    import docx.enum.section
    import docx.table
    from docx.text.paragraph import Paragraph
except ImportError:  # reported by setUpClass, with what installs it
    docx = None

if docx is not None:
    from docx.oxml.text.run import CT_R

    def _run_text(r):
        """A run's text as Word shows it. python-docx 0.8 drops w:noBreakHyphen (a hyphen in
        Word) and keeps U+2060 WORD JOINER (zero width, invisible): symbols are written with
        both so that no line breaks inside them (issue 14, item 5)."""
        out = []
        for c in r:
            tag = c.tag if isinstance(c.tag, str) else ""
            if tag.endswith("}t"):
                out.append(c.text or "")
            elif tag.endswith("}tab"):
                out.append("\t")
            elif tag.endswith("}br") or tag.endswith("}cr"):
                out.append("\n")
            elif tag.endswith("}noBreakHyphen"):
                out.append("-")
        return "".join(out).replace("\u2060", "")

    CT_R.text = property(_run_text, CT_R.text.fset)

FIXTURE = os.path.join(REPO, "tests", "fixtures", "render", "seed-002.xml")
SEED_TEXT = os.path.join(REPO, "..", "shared", "seeds", "002-thong-bao-ket-luan.txt")
UNITS = os.path.join(REPO, "workflows", "units.xml")
PLACE = "Bà Rịa - Vũng Tàu"          # [organisation] place of the harness' configuration
ISSUER_LINES = ["ỦY BAN NHÂN DÂN", "TỈNH BÀ RỊA - VŨNG TÀU"]
QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"

DOC_NS = "urn:vanthu:document:1"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PR = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
XML_NS = "http://www.w3.org/XML/1998/namespace"

READERS = {  # command: the Debian package that `make deps` installs for it
    "soffice": "libreoffice-writer-nogui",
    "pdftotext": "poppler-utils",
    "pdffonts": "poppler-utils",
    "pdfinfo": "poppler-utils",
    "pandoc": "pandoc",
}


def q(tag, ns=W):
    return "{%s}%s" % (ns, tag)


def nfc(s):
    return unicodedata.normalize("NFC", s)


def words(text):
    """The words of text; a non-breaking hyphen (U+2011, how pandoc reads w:noBreakHyphen) is a
    hyphen, a WORD JOINER (U+2060) nothing."""
    return nfc(text).replace("\u2011", "-").replace("\u2060", "").split()


SYMBOL = re.compile(r"\d+[-/][A-ZĐ][A-Za-zĐđ]*(?:[-/][A-Za-zĐđ]+)*")


def symbols_cut(lines, texts):
    """The symbols of texts (02-NQ/TU, 3552/UBND-SNV) that the PDF's lines do not hold whole
    as often as the texts have them."""
    want = {}
    for t in texts:
        for m in SYMBOL.findall(t):
            want[m] = want.get(m, 0) + 1
    got = " \n ".join(ln.text for ln in lines)
    return {m: (n, len(re.findall(r"(?<![\w/-])" + re.escape(m) + r"(?![\w/-])", got)))
            for m, n in want.items()
            if len(re.findall(r"(?<![\w/-])" + re.escape(m) + r"(?![\w/-])", got)) < n}


# ---------------------------------------------------------------- input documents

def x(s):
    return escape(s, {'"': "&quot;", "'": "&apos;"})


def signer_xml(lines, name, login="vtt-chi"):
    attr = f' login="{login}"' if login else ""
    return (f"<signer{attr}>" + "".join(f"<line>{x(s)}</line>" for s in lines)
            + f"<name>{x(name)}</name></signer>")


def body_xml(items):
    """items: (element, text) pairs; an element ending in "!" takes its text as markup
    (inline <b>, <i>, <br/>)."""
    return "<body>" + "".join(f"<{k[:-1]}>{t}</{k[:-1]}>" if k.endswith("!") else f"<{k}>{x(t)}</{k}>"
                              for k, t in items) + "</body>"


def recipients_xml(recipients):
    """recipients: ("unit", CODE) or ("text", LINE) pairs; None: no element at all."""
    if recipients is None:
        return ""
    out = []
    for kind, v in recipients:
        out.append(f'<recipient unit="{x(v)}"/>' if kind == "unit" else f"<recipient>{x(v)}</recipient>")
    return "<recipients>" + "".join(out) + "</recipients>"


def thong_bao_xml(summary, body, recipients, archive="VT, CBTH",
                  lines=("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"), name="Đặng Minh Thông", summary_markup=False):
    summ = summary if summary_markup else x(summary)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<thong-bao xmlns="{DOC_NS}">'
            f"<summary>{summ}</summary>{body_xml(body)}{signer_xml(lines, name)}"
            f"{recipients_xml(recipients)}<archive>{x(archive)}</archive></thong-bao>\n")


def cong_van_xml(summary, to, body, recipients=None, urgency=None, unit="SNV", archive="VT, SNV"):
    """to: ("unit", CODE) or ("text", NAME) pairs."""
    tos = "".join(f'<to unit="{x(v)}"/>' if k == "unit" else f"<to>{x(v)}</to>" for k, v in to)
    urg = f"<urgency>{x(urgency)}</urgency>" if urgency else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<cong-van xmlns="{DOC_NS}">'
            f"<drafting-unit>{unit}</drafting-unit>{urg}<summary>{x(summary)}</summary>{tos}"
            f"{body_xml(body)}{signer_xml(('KT. CHỦ TỊCH', 'PHÓ CHỦ TỊCH'), 'Đặng Minh Thông')}"
            f"{recipients_xml(recipients)}<archive>{x(archive)}</archive></cong-van>\n")


def bao_cao_xml(summary, body, columns, rows, recipients, archive="VT, CĐS", to=(), title=None):
    """columns: (code, label, measure); rows: (unit code or None, name, [(code, value)]);
    to: Kính gửi, ("unit", CODE) or ("text", NAME) pairs; title: the table's title line."""
    cols = "".join(f'<column code="{c}" label="{x(l)}" measure="{x(m)}"/>' for c, l, m in columns)
    rws = []
    for code, name, values in rows:
        u = f' unit="{code}"' if code else ""
        rws.append(f'<row{u} name="{x(name)}">'
                   + "".join(f'<value code="{c}">{x(v)}</value>' for c, v in values) + "</row>")
    tos = "".join(f'<to unit="{x(v)}"/>' if k == "unit" else f"<to>{x(v)}</to>" for k, v in to)
    ttl = f' title="{x(title)}"' if title else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bao-cao-tong-hop xmlns="{DOC_NS}">'
            f"<summary>{x(summary)}</summary>{tos}{body_xml(body)}<table{ttl}>{cols}{''.join(rws)}</table>"
            f"{signer_xml(('KT. CHỦ TỊCH', 'PHÓ CHỦ TỊCH'), 'Đặng Minh Thông')}"
            f"{recipients_xml(recipients)}<archive>{x(archive)}</archive></bao-cao-tong-hop>\n")


def read_input(path_or_text):
    """The fields of an input document, for what its rendering must show."""
    root = ET.fromstring(path_or_text.encode()) if path_or_text.lstrip().startswith("<") else \
        ET.parse(path_or_text).getroot()
    d = lambda t: q(t, DOC_NS)  # noqa: E731
    # the text of an element with inline <b>, <i> (all of its text) and <br/> (a newline)
    def text(e):
        if e is None:
            return None
        return (e.text or "") + "".join(("\n" if c.tag == d("br") else text(c)) + (c.tail or "")
                                        for c in e)
    body = [(c.tag.split("}")[1], text(c)) for c in root.find(d("body"))]
    sg = root.find(d("signer"))
    return {
        "summary": text(root.find(d("summary"))),
        "body": body,
        "bold": [text(b) for b in root.find(d("body")).iter(d("b"))],
        "signer_lines": [e.text for e in sg.findall(d("line"))],
        "signer_name": sg.findtext(d("name")),
        "recipients": [(("unit", e.get("unit")) if e.get("unit") else ("text", e.text or ""))
                       for e in root.iter(d("recipient"))],
        "archive": root.findtext(d("archive")),
    }


def load_units():
    ns = {"u": "urn:vanthu:units:1"}
    root = ET.parse(UNITS).getroot()
    groups = [g.get("code") for g in root.findall("u:group", ns)]
    units = {u.get("code"): {"group": u.get("group"), "short": u.findtext("u:short", namespaces=ns),
                             "name": u.findtext("u:name", namespaces=ns)}
             for u in root.findall("u:unit", ns)}
    return groups, units


def closed(body):
    """The body as rendered: the last paragraph ends with "./." (templates-docx/README.md)."""
    out = list(body)
    for i in range(len(out) - 1, -1, -1):
        if out[i][0] == "p":
            t = out[i][1]
            if not t.endswith("./."):
                t = (t[:-1] if t.endswith(".") else t) + "./."
            out[i] = ("p", t)
            break
    return out


def utc_now():
    """Now, UTC, to the second below (the package's dates are written to the second)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def vn_today():
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=7)).date()


def date_line(day):
    """format-vn.md: a day below 10 and the months 1 and 2 get a leading zero."""
    dd = f"{day.day:02d}"
    mm = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"{PLACE}, ngày {dd} tháng {mm} năm {day.year}"


# ---------------------------------------------------------------- readers

def require_readers():
    """Fails, naming the Debian packages, when a reader of the rendered DOCX is missing."""
    missing = [f"{c} (Debian package {p})" for c, p in READERS.items() if shutil.which(c) is None]
    if docx is None:
        missing.append("the Python module docx (Debian package python3-docx)")
    if missing:
        raise AssertionError("the readers of the rendered DOCX are missing: " + ", ".join(missing)
                             + "; `make deps` installs them")


def run(cmd, timeout=300, **kw):
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{cmd[0]} exited {p.returncode}:\n"
                             + p.stderr.decode("utf-8", "replace")[-3000:])
    return p.stdout.decode("utf-8")


def soffice(files, target, outdir, timeout=900):
    """One LibreOffice run over several files, with a profile of its own. soffice exits 0
    even when a conversion fails: every expected output is checked to exist."""
    if not files:   # soffice without a file to convert starts an office and never exits
        return {}, [], ""
    profile = tempfile.mkdtemp(prefix="vanthu-lo-profile-")
    try:
        cmd = ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--nolockcheck", "--convert-to", target, "--outdir", outdir, *files]
        p = subprocess.run(cmd, capture_output=True, timeout=timeout,
                           env=dict(os.environ, HOME=profile))
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    ext = target.split(":")[0]
    out, missing = {}, []
    for f in files:
        o = os.path.join(outdir, os.path.splitext(os.path.basename(f))[0] + "." + ext)
        if os.path.isfile(o) and os.path.getsize(o) > 0:
            out[f] = o
        else:
            missing.append(f)
    log = (p.stdout + p.stderr).decode("utf-8", "replace")[-3000:]
    return out, missing, log


class Line:
    """One line of pdftotext -tsv: its page and words (text, left, top, width, height)."""

    def __init__(self, page):
        self.page = page
        self.words = []

    @property
    def text(self):
        return " ".join(w[0] for w in self.words)

    @property
    def top(self):
        return min(w[2] for w in self.words)

    @property
    def bottom(self):
        return max(w[2] + w[4] for w in self.words)

    @property
    def left(self):
        return min(w[1] for w in self.words)

    @property
    def right(self):
        return max(w[1] + w[3] for w in self.words)

    def __repr__(self):
        return f"<p{self.page} y={self.top:.0f} {self.text!r}>"


LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"}


def pdf_lines(pdf):
    out = run(["pdftotext", "-tsv", pdf, "-"])
    lines, key = [], None
    for row in out.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        k = tuple(cols[1:5])
        if k != key:
            lines.append(Line(int(cols[1])))
            key = k
        text = nfc("".join(LIGATURES.get(c, c) for c in "\t".join(cols[11:])))
        lines[-1].words.append((text, float(cols[6]), float(cols[7]), float(cols[8]), float(cols[9])))
    return lines


def pdf_words(lines):
    """The words of lines in order; a word cut after its hyphen at a line end is joined again."""
    out, join = [], False
    for ln in lines:
        ws = [w[0] for w in ln.words]
        if join and ws and out:
            out[-1] += ws.pop(0)
        out.extend(ws)
        join = bool(out) and len(out[-1]) > 1 and out[-1].endswith("-")
    return out


def same_row(lines, line):
    """The words on the baseline of line's first word, left to right, whatever pdftotext's
    lines: it cuts a line where a wide blank is (the blank number and day of a draft)."""
    y, page = line.words[0][2], line.page
    return sorted((w for ln in lines if ln.page == page for w in ln.words if abs(w[2] - y) < 1.5),
                  key=lambda w: w[1])


def gap(a, b):
    """The blank between two words (text, left, top, width, height), in points."""
    return b[1] - (a[1] + a[3])


def page_gray(pdf, page, dpi=288):
    """Page `page` of pdf as gray pixels: (width, height, bytes, pixels per point)."""
    with tempfile.TemporaryDirectory() as d:
        run(["pdftoppm", "-gray", "-r", str(dpi), "-f", str(page), "-l", str(page), pdf,
             os.path.join(d, "p")])
        name = [f for f in os.listdir(d) if f.endswith(".pgm")][0]
        with open(os.path.join(d, name), "rb") as fh:
            data = fh.read()
    magic, size, depth, px = data.split(b"\n", 3)
    w, h = map(int, size.split())
    return w, h, px, dpi / 72


def rule_under(pdf, line, min_len=60):
    """(top of the first solid horizontal rule under line, in pt; lowest ink of line, in pt):
    a rule is a row with a dark run of at least min_len pt."""
    w, h, px, sc = page_gray(pdf, line.page)
    ink, y0 = None, int(line.top * sc)
    for y in range(y0, min(h, y0 + int(60 * sc))):
        row = px[y * w:(y + 1) * w]
        best = cur = 0
        for v in row:
            cur = cur + 1 if v < 128 else 0
            best = max(best, cur)
        if best >= min_len * sc and y > y0 + 4 * sc:
            return y / sc, ink
        if any(v < 128 for v in row[int(line.left * sc):int(line.right * sc) + 1]):
            ink = (y + 1) / sc
    return None, ink


def pdf_fonts(pdf):
    out = run(["pdffonts", pdf]).splitlines()
    return [re.sub(r"^[A-Z]{6}\+", "", ln.split()[0]) for ln in out[2:] if ln.strip()]


def pdf_pages(pdf):
    m = re.search(r"^Pages:\s+(\d+)", run(["pdfinfo", pdf]), re.M)
    return int(m.group(1))


def times_installed():
    """Is Times New Roman itself installed (fontconfig's list, else the font folders)?"""
    if shutil.which("fc-list"):
        p = subprocess.run(["fc-list", ":family=Times New Roman", "family"], capture_output=True)
        return b"Times New Roman" in p.stdout
    pattern = re.compile(r"^(times(bd|bi|i)?\.ttf|times ?new ?roman.*\.ttf)$", re.I)
    for top in ("/usr/share/fonts", "/usr/local/share/fonts", os.path.expanduser("~/.fonts")):
        for _, _, files in os.walk(top):
            if any(pattern.match(f) for f in files):
                return True
    return False


def find_run(haystack, needle):
    """Index of needle as a contiguous run in haystack, or -1."""
    n = len(needle)
    for i in range(len(haystack) - n + 1):
        if haystack[i:i + n] == needle:
            return i
    return -1


def word_diff(expected, got):
    """Where expected stops matching got (from got's best starting point), for a message."""
    best, start = -1, 0
    for j in range(len(got)):
        k = 0
        while k < len(expected) and j + k < len(got) and got[j + k] == expected[k]:
            k += 1
        if k > best:
            best, start = k, j
    if best == len(expected):
        return "no difference"
    i, j = best, start + best
    return (f"{best} of {len(expected)} words match, then expected "
            f"{' '.join(expected[max(0, i - 4):i + 8])!r}, got {' '.join(got[max(0, j - 4):j + 8])!r}")


# ---------------------------------------------------------------- the structural checker

PPR_ORDER = ("pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers "
             "pBdr shd tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE "
             "autoSpaceDN bidi adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents "
             "suppressOverlap jc textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle "
             "rPr sectPr pPrChange").split()
# CT_ParaRPr (the paragraph mark's rPr) starts with the revision marks; CT_RPr ends with rPrChange.
RPR_ORDER = ("ins del moveFrom moveTo rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline "
             "shadow emboss imprint noProof snapToGrid vanish webHidden color spacing w kern position sz "
             "szCs highlight u effect bdr shd fitText vertAlign rtl cs em lang eastAsianLayout "
             "specVanish oMath rPrChange").split()
REVISION_MARKS = {"ins", "del", "moveFrom", "moveTo", "rPrChange", "pPrChange", "sectPrChange",
                  "tblPrChange", "trPrChange", "tcPrChange", "tblGridChange", "numberingChange",
                  "cellIns", "cellDel", "cellMerge", "customXmlInsRangeStart",
                  "customXmlDelRangeStart", "moveFromRangeStart", "moveToRangeStart"}
EXPECTED_TYPES = {  # relationship type (last segment): content type of its target
    "officeDocument": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",),
    "styles": ("application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml",),
    "settings": ("application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml",),
    "fontTable": ("application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml",),
    "header": ("application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml",),
    "footer": ("application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml",),
    "numbering": ("application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml",),
    "core-properties": ("application/vnd.openxmlformats-package.core-properties+xml",),
    "extended-properties": ("application/vnd.openxmlformats-officedocument.extended-properties+xml",),
}


def _rels_source(rels_name):
    """The part a .rels part describes ("" for the package)."""
    d, f = posixpath.split(rels_name)
    base = posixpath.dirname(d)
    return posixpath.join(base, f[:-len(".rels")]) if f != ".rels" else ""


def check_package(path):
    """Problems of a DOCX package that Word or the OPC rules refuse; [] when none."""
    problems = []
    with zipfile.ZipFile(path) as z:
        names = [i.filename for i in z.infolist() if not i.filename.endswith("/")]
        dups = {n for n in names if names.count(n) > 1}
        if dups:
            problems.append(f"duplicate zip entries: {sorted(dups)}")
        lower = {n.lower(): n for n in names}
        data = {n: z.read(n) for n in names}
    if "[Content_Types].xml" not in data:
        return problems + ["no [Content_Types].xml"]
    trees = {}
    for n, b in data.items():
        if n.endswith(".xml") or n.endswith(".rels"):
            try:
                trees[n] = ET.fromstring(b)
            except ET.ParseError as e:
                problems.append(f"{n}: not well-formed XML: {e}")

    # content types
    ct = trees.get("[Content_Types].xml")
    if ct is None:
        return problems
    defaults = {e.get("Extension").lower(): e.get("ContentType") for e in ct.findall(q("Default", CT))}
    overrides = {urllib.parse.unquote(e.get("PartName")).lstrip("/").lower(): e.get("ContentType")
                 for e in ct.findall(q("Override", CT))}
    for o in overrides:
        if o not in lower:
            problems.append(f"[Content_Types].xml overrides /{o}, which is not in the package")

    def ctype(name):
        if name.lower() in overrides:
            return overrides[name.lower()]
        base = posixpath.basename(name)
        return defaults.get(base.rsplit(".", 1)[1].lower()) if "." in base else None
    for n in names:
        if n != "[Content_Types].xml" and ctype(n) is None:
            problems.append(f"{n} has no content type (neither Default nor Override)")

    # relationships: unique ids, targets present, expected content types
    rel_ids = {}
    for n in names:
        if not n.endswith(".rels") or n not in trees:
            continue
        src = _rels_source(n)
        if src and src not in data:
            problems.append(f"{n} describes {src}, which is not in the package")
        ids = set()
        for rel in trees[n].findall(q("Relationship", PR)):
            rid = rel.get("Id")
            if rid in ids:
                problems.append(f"{n}: relationship id {rid} is used twice")
            ids.add(rid)
            if rel.get("TargetMode") == "External":
                continue
            target = urllib.parse.unquote(rel.get("Target", ""))
            full = target.lstrip("/") if target.startswith("/") else \
                posixpath.normpath(posixpath.join(posixpath.dirname(src), target))
            if full not in data:
                problems.append(f"{n}: {rid} targets {target}, which is not in the package")
                continue
            kind = rel.get("Type", "").rsplit("/", 1)[-1]
            if kind in EXPECTED_TYPES and ctype(full) not in EXPECTED_TYPES[kind]:
                problems.append(f"{n}: {full} ({kind}) has content type {ctype(full)}")
        rel_ids[src] = ids
    if not any(rel.get("Type", "").endswith("/officeDocument")
               for rel in trees.get("_rels/.rels", ET.Element("x")).findall(q("Relationship", PR))):
        problems.append("_rels/.rels names no main document (officeDocument)")

    # the WordprocessingML parts
    bookmarks, revisions, docprs, sdts = {}, {}, {}, {}
    for n, root in trees.items():
        if not n.startswith("word/") or n.endswith(".rels"):
            continue
        raw = data[n].decode("utf-8", "replace")
        if "<?vt " in raw or "\ue000" in raw or "\ue001" in raw:
            problems.append(f"{n}: a marker of the template compiler is left in the output")
        ids_here = rel_ids.get(n, set())
        ends = []
        for el in root.iter():
            tag = el.tag if isinstance(el.tag, str) else ""
            for a, v in el.attrib.items():
                if a.startswith("{%s}" % R) and v not in ids_here:
                    problems.append(f"{n}: {tag.split('}')[-1]} refers to relationship {v}, "
                                    "which its .rels does not have")
            if not tag.startswith("{%s}" % W) and tag != q("docPr", WP):
                continue
            local = tag.split("}")[1]
            if tag == q("docPr", WP):
                if el.get("id") in docprs:
                    problems.append(f"{n}: drawing id (wp:docPr) {el.get('id')} also used in "
                                    f"{docprs[el.get('id')]}")
                docprs[el.get("id")] = n
            elif local == "bookmarkStart":
                i = el.get(q("id"))
                if i in bookmarks:
                    problems.append(f"{n}: bookmark w:id {i} is used twice")
                bookmarks[i] = n
            elif local == "bookmarkEnd":
                ends.append(el.get(q("id")))
            elif local in REVISION_MARKS:
                i = el.get(q("id"))
                if i in revisions:
                    problems.append(f"{n}: revision w:id {i} is used twice")
                revisions[i] = n
            elif local == "sdtPr":
                i = el.find(q("id"))
                if i is not None:
                    if i.get(q("val")) in sdts:
                        problems.append(f"{n}: content control w:id {i.get(q('val'))} is used twice")
                    sdts[i.get(q("val"))] = n
            elif local in ("pPr", "rPr"):
                order = PPR_ORDER if local == "pPr" else RPR_ORDER
                last, last_name = -1, None
                for c in el:
                    if not isinstance(c.tag, str) or not c.tag.startswith("{%s}" % W):
                        continue
                    cn = c.tag.split("}")[1]
                    if cn not in order:
                        problems.append(f"{n}: w:{cn} is not a child of w:{local}")
                        continue
                    if order.index(cn) <= last:
                        problems.append(f"{n}: in w:{local}, w:{cn} comes after w:{last_name} "
                                        "(ECMA-376 order)")
                    last, last_name = order.index(cn), cn
            elif local == "tc":
                blocks = [c for c in el if c.tag != q("tcPr")]
                if not any(c.tag == q("p") for c in blocks):
                    problems.append(f"{n}: a table cell has no paragraph")
                elif blocks[-1].tag != q("p"):
                    problems.append(f"{n}: a table cell does not end with a paragraph")
            elif local == "tr":
                if el.find(q("tc")) is None:
                    problems.append(f"{n}: a table row has no cell")
            elif local == "tbl":
                if el.find(q("tr")) is None:
                    problems.append(f"{n}: a table has no row")
                if el.find(q("tblGrid")) is None:
                    problems.append(f"{n}: a table has no w:tblGrid")
            elif local in ("t", "instrText", "delText"):
                t = el.text or ""
                if "{{" in t or "}}" in t:
                    problems.append(f"{n}: a template tag is left in the text: {t[:80]!r}")
                if t != t.strip() and el.get(q("space", XML_NS)) != "preserve":
                    problems.append(f"{n}: w:{local} {t[:40]!r} starts or ends with a space "
                                    "without xml:space=\"preserve\"")
        for i in ends:
            if i not in bookmarks:
                problems.append(f"{n}: w:bookmarkEnd {i} has no w:bookmarkStart")
    if docx is not None:
        try:
            docx.Document(path)
        except Exception as e:  # noqa: BLE001 - any failure to open is the finding
            problems.append(f"python-docx cannot open it: {e!r}")
    return problems


# ---------------------------------------------------------------- formatting through the styles

def on(v):
    return v is None or v.lower() in ("1", "true", "on")


class Fmt:
    """Run and paragraph properties of a python-docx Document, resolved as Word does:
    direct formatting, then the character style, the paragraph style and their basedOn
    chains, then the document defaults."""

    def __init__(self, document):
        self.doc = document
        root = document.styles.element
        self.styles = {s.get(q("styleId")): s for s in root.findall(q("style"))}
        self.default = {}
        for sid, s in self.styles.items():
            if on(s.get(q("default"))) and s.get(q("default")) is not None:
                self.default.setdefault(s.get(q("type")), sid)
        dd = root.find(q("docDefaults"))
        self.def_rpr = dd.find(f"{q('rPrDefault')}/{q('rPr')}") if dd is not None else None
        self.def_ppr = dd.find(f"{q('pPrDefault')}/{q('pPr')}") if dd is not None else None

    def chain(self, sid):
        seen = set()
        while sid and sid in self.styles and sid not in seen:
            seen.add(sid)
            s = self.styles[sid]
            yield s
            b = s.find(q("basedOn"))
            sid = b.get(q("val")) if b is not None else None

    def pstyle(self, p):
        ps = p.find(f"{q('pPr')}/{q('pStyle')}")
        return ps.get(q("val")) if ps is not None else self.default.get("paragraph")

    def r_levels(self, r, p):
        levels = []
        rpr = r.find(q("rPr"))
        if rpr is not None:
            levels.append(rpr)
        rs = rpr.find(q("rStyle")) if rpr is not None else None
        for s in self.chain(rs.get(q("val")) if rs is not None else self.default.get("character")):
            levels += [e for e in [s.find(q("rPr"))] if e is not None]
        for s in self.chain(self.pstyle(p)):
            levels += [e for e in [s.find(q("rPr"))] if e is not None]
        if self.def_rpr is not None:
            levels.append(self.def_rpr)
        return levels

    def p_levels(self, p):
        levels = [e for e in [p.find(q("pPr"))] if e is not None]
        for s in self.chain(self.pstyle(p)):
            levels += [e for e in [s.find(q("pPr"))] if e is not None]
        if self.def_ppr is not None:
            levels.append(self.def_ppr)
        return levels

    def toggle(self, r, p, name):
        for lv in self.r_levels(r, p):
            e = lv.find(q(name))
            if e is not None:
                return on(e.get(q("val")))
        return False

    def r_attr(self, r, p, name, attr="val"):
        for lv in self.r_levels(r, p):
            e = lv.find(q(name))
            if e is not None and e.get(q(attr)) is not None:
                return e.get(q(attr))
        return None

    def font(self, r, p, slot):
        """The font of one slot, or "theme:..." when a theme font decides it."""
        for lv in self.r_levels(r, p):
            e = lv.find(q("rFonts"))
            if e is None:
                continue
            if e.get(q(slot + "Theme")) is not None:
                return "theme:" + e.get(q(slot + "Theme"))
            if e.get(q(slot)) is not None:
                return e.get(q(slot))
        return None

    def p_attr(self, p, name, attr="val"):
        for lv in self.p_levels(p):
            e = lv.find(q(name))
            if e is not None and e.get(q(attr)) is not None:
                return e.get(q(attr))
        return None

    def has_border(self, r, p):
        """A border around the run (w:bdr) or the paragraph (w:pBdr, four sides)."""
        b = self.r_attr(r, p, "bdr")
        if b not in (None, "nil", "none"):
            return True
        for lv in self.p_levels(p):
            e = lv.find(q("pBdr"))
            if e is not None:
                sides = [e.find(q(s)) for s in ("top", "left", "bottom", "right")]
                return all(s is not None and s.get(q("val")) not in ("nil", "none") for s in sides)
        return False


def text_runs(p):
    """The runs of a paragraph element that hold text."""
    out = []
    for r in p.iter(q("r")):
        t = "".join(e.text or "" for e in r.iter(q("t")))
        if t.strip():
            out.append(r)
    return out


class DocxView:
    """A rendered DOCX as python-docx reads it, with resolved formatting."""

    def __init__(self, path):
        self.path = path
        self.doc = docx.Document(path)
        self.fmt = Fmt(self.doc)
        self.paras = [Paragraph(p, self.doc._body) for p in self.doc.element.body.iter(q("p"))]
        sec = self.doc.sections[0]
        self.headers = [sec.header, sec.first_page_header]

    def find(self, text):
        return [p for p in self.paras if p.text == text]

    def one(self, text, problems):
        found = self.find(text)
        if len(found) != 1:
            problems.append(f"{len(found)} paragraphs read {text!r} (expected one)")
            return None
        return found[0]

    def check(self, p, label, problems, bold=None, italic=None, size=None, jc=None, upper=False,
              border=False, bold_runs=()):
        """Checks a paragraph's runs: bold/italic True or False, size (min, max) in points;
        bold_runs: texts of runs that the input made bold (<b>), which must be."""
        if p is None:
            return
        el, runs = p._p, text_runs(p._p)
        if not runs:
            problems.append(f"{label}: no text")
        for r in runs:
            t = "".join(e.text or "" for e in r.iter(q("t")))
            if t in bold_runs:
                if not self.fmt.toggle(r, el, "b"):
                    problems.append(f"{label}: run {t!r} is not bold, the input says <b>")
                continue
            for name, want in (("b", bold), ("i", italic)):
                if want is not None and self.fmt.toggle(r, el, name) != want:
                    problems.append(f"{label}: run {t!r} is {'not ' if want else ''}"
                                    f"{'bold' if name == 'b' else 'italic'}")
            if size is not None:
                sz = self.fmt.r_attr(r, el, "sz")
                pt = int(sz) / 2 if sz else 10  # Word's default without any w:sz
                if not size[0] <= pt <= size[1]:
                    problems.append(f"{label}: run {t!r} is {pt} pt, format-vn.md says "
                                    f"{size[0]}-{size[1]} pt")
            if border and not self.fmt.has_border(r, el):
                problems.append(f"{label}: run {t!r} is not in a box (w:bdr or w:pBdr)")
        if upper and p.text != nfc(p.text).upper():
            problems.append(f"{label}: {p.text!r} is not upper case")
        if jc is not None:
            got = self.fmt.p_attr(el, "jc") or "left"
            if got not in jc:
                problems.append(f"{label}: alignment {got}, expected {'/'.join(jc)}")

    def body_paragraph(self, p, label, problems, bold_runs=()):
        """format-vn.md: justified, first line 1 cm or 1.27 cm, at least 6 pt between
        paragraphs, line spacing single to 1.5, 13-14 pt, not bold (but what the input
        made bold, bold_runs)."""
        self.check(p, label, problems, bold=False, size=(13, 14), jc=("both", "distribute"),
                   bold_runs=bold_runs)
        if p is None:
            return
        el = p._p
        first = self.fmt.p_attr(el, "ind", "firstLine")
        cm = int(first or 0) / 567.0
        if not 0.95 <= cm <= 1.3:
            problems.append(f"{label}: first-line indent {cm:.2f} cm, expected about 1 cm")
        after = int(self.fmt.p_attr(el, "spacing", "after") or 0)
        before = int(self.fmt.p_attr(el, "spacing", "before") or 0)
        if max(after, before) < 120:
            problems.append(f"{label}: {max(after, before) / 20} pt between paragraphs, "
                            "format-vn.md asks at least 6 pt")
        line = self.fmt.p_attr(el, "spacing", "line")
        rule = self.fmt.p_attr(el, "spacing", "lineRule") or "auto"
        if line is not None and rule == "auto" and not 240 <= int(line) <= 360:
            problems.append(f"{label}: line spacing {int(line) / 240:.2f}, expected single to 1.5")

    def all_runs(self):
        """(run, paragraph) elements with text in the body and every header."""
        out = []
        for root in [self.doc.element.body] + [h._element for h in self.headers]:
            for p in root.iter(q("p")):
                out += [(r, p) for r in text_runs(p)]
        return out

    def cell_of(self, text):
        """(table index, column index) of the first cell holding a paragraph that reads text."""
        for ti, t in enumerate(self.doc.tables):
            for row in t.rows:
                for ci, cell in enumerate(row.cells):
                    if any(p.text == text for p in cell.paragraphs):
                        return ti, ci
        return None


def borderless(fmt, table):
    """No visible border on the table or its cells (format-vn: borderless columns)."""
    tblpr = table._tbl.tblPr
    levels = [tblpr]
    st = tblpr.find(q("tblStyle"))
    if st is not None:
        levels += [s.find(q("tblPr")) for s in fmt.chain(st.get(q("val")))]
    for lv in levels:
        if lv is None:
            continue
        b = lv.find(q("tblBorders"))
        if b is not None:
            for side in b:
                if side.get(q("val")) not in ("nil", "none"):
                    return False
            break
    for tc in table._tbl.iter(q("tcBorders")):
        for side in tc:
            if side.get(q("val")) not in ("nil", "none"):
                return False
    return True


# ---------------------------------------------------------------- the suite

@unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
class Render(unittest.TestCase):
    """Every document is rendered once in setUpClass; each test reads the results."""

    docs = {}      # name: dict(kind, xml, id, docx, pdf, lines, fonts, pages, error)
    errors = {}    # step: message, for the steps that are not one document

    @classmethod
    def setUpClass(cls):
        require_readers()
        cls.tmp = tempfile.mkdtemp(prefix="vanthu-render-")
        os.chmod(cls.tmp, 0o755)
        cls.out = os.path.join(cls.tmp, "docx")
        os.makedirs(cls.out)
        os.chmod(cls.out, 0o777)   # vanthuctl writes there as each test user
        cls.docs, cls.errors, cls.crashed, cls.logs = {}, {}, False, {}
        cls.groups, cls.units = load_units()
        d = Daemon()
        try:
            d.start()
            cls.render_all(d)
        except Exception as e:  # noqa: BLE001 - recorded, reported by the tests that need it
            cls.errors["daemon"] = f"{type(e).__name__}: {e}"
        finally:
            try:
                if d.proc is not None and d.proc.poll() is None:
                    d.stop()
            except Exception as e:  # noqa: BLE001 - a sanitizer report: test_0 says so
                cls.logs["vanthud"] = str(e)[-6000:]
            d.cleanup()
        cls.resave_template()
        cls.convert_all()

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("VANTHU_KEEP_RENDER"):
            print(f"\ntest_render: files kept in {cls.tmp}")
        elif getattr(cls, "tmp", None):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- rendering

    @classmethod
    def new(cls, d, name, kind, xml):
        rec = cls.docs.setdefault(name, {"kind": kind, "xml": xml})
        path = os.path.join(d.root, f"{name}.xml")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(xml)
        os.chmod(path, 0o644)
        r = d.ctl("new", kind, path, user="vtt-ana", json_out=True)
        if r.returncode != 0:
            raise AssertionError(f"{name}: vanthuctl new {kind} exited {r.returncode}: "
                                 f"{r.stdout} {r.stderr}")
        rec["id"] = r.json["result"]["id"]
        return rec

    @classmethod
    def render(cls, d, name, user="vtt-ana", doc_id=None):
        rec = cls.docs.setdefault(name, {})
        path = os.path.join(cls.out, f"{name}.docx")
        r = d.ctl("render", str(doc_id or rec["id"]), "-o", path, user=user)
        if r.returncode != 0 or not os.path.isfile(path):
            raise AssertionError(f"{name}: vanthuctl render exited {r.returncode}: {r.stderr}")
        m = re.search(r"\((\d+) byte, SHA-256 ([0-9a-f]{64})\)", r.stdout)
        rec["docx"], rec["printed"] = path, m.groups() if m else r.stdout
        return rec

    @classmethod
    def step(cls, d, name, fn):
        """Runs one document's steps; a failure is kept for that document's test. When the
        daemon died on it, its log goes with the failure and a new daemon takes over the
        same folder, so that one crash does not hide the other documents' results."""
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            msg = f"{type(e).__name__}: {e}"
            if d.proc is not None and d.proc.poll() is not None:
                msg += f"\nvanthud died (exit {d.proc.returncode}); its log ends:\n{d.read_log()[-4000:]}"
                cls.crashed = True
                d.logfh.close()
                d.notify.close()
                d.start()
            cls.docs.setdefault(name, {})["error"] = msg

    @classmethod
    def render_all(cls, d):
        cls.step(d, "seed", lambda: cls.render_seed(d))
        for name, kind, xml in cls.documents():
            cls.step(d, name, lambda n=name, k=kind, s=xml: (cls.new(d, n, k, s), cls.render(d, n)))
        # a thong-bao must name at least one recipient (its schema): refused, not rendered
        path = os.path.join(d.root, "no-recipient.xml")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(thong_bao_xml("Không có nơi nhận", [("p", "Nội dung.")], []))
        os.chmod(path, 0o644)
        cls.no_recipient = d.ctl("new", "thong-bao", path, user="vtt-ana", json_out=True)

    @classmethod
    def render_seed(cls, d):
        with open(FIXTURE, encoding="utf-8") as fh:
            xml = fh.read()
        rec = cls.new(d, "seed", "thong-bao", xml)
        t0 = utc_now()
        cls.render(d, "seed-draft", doc_id=rec["id"])     # still a draft
        cls.docs["seed-draft"]["window"] = (t0, utc_now())
        cls.docs["seed-draft"].update(kind="thong-bao", xml=xml, id=rec["id"])
        before = vn_today()
        for user, action in (("vtt-ana", "submit"), ("vtt-binh", "approve"), ("vtt-chi", "sign"),
                             ("vtt-dung", "issue")):
            t0 = utc_now()
            r = d.ctl(action, str(rec["id"]), user=user)
            if r.returncode != 0:
                raise AssertionError(f"seed: {action} by {user} exited {r.returncode}: {r.stderr}")
        rec["window"] = (t0, utc_now())    # around the issue
        rec["dates"] = {before, vn_today()}
        show = d.ctl("show", str(rec["id"]), user="vtt-dung", json_out=True).json["result"]
        rec["symbol"], rec["issued_on"] = show.get("symbol"), show.get("issued_on")
        cls.render(d, "seed", user="vtt-dung")
        year = (show.get("issued_on") or str(vn_today()))[:4]
        rec["outgoing"] = os.path.join(d.spool, "outgoing", year, "01-TB-UBND.docx")
        rec["outgoing_bytes"] = None
        if os.path.exists(rec["outgoing"]):
            with open(rec["outgoing"], "rb") as fh:
                rec["outgoing_bytes"] = fh.read()

    @classmethod
    def documents(cls):
        """(name, kind, input XML) of every other document of the suite."""
        docs = []
        body = [("p", "Ủy ban nhân dân tỉnh đề nghị các cơ quan, đơn vị báo cáo kết quả thực hiện "
                      "chuyển đổi số quý I năm 2024 về Sở Thông tin và Truyền thông trước ngày 15/4/2024."),
                ("p", "Đề nghị các cơ quan, đơn vị quan tâm, thực hiện.")]
        docs.append(("cv-one", "cong-van", cong_van_xml(
            "báo cáo kết quả chuyển đổi số quý I năm 2024", [("unit", "SO-NV")], body,
            recipients=[("unit", "HUYEN-DAT-DO"), ("unit", "SO-TTTT")], urgency="KHẨN")))
        docs.append(("cv-many", "cong-van", cong_van_xml(
            "đôn đốc báo cáo chuyển đổi số",
            [("unit", "SO-NV"), ("unit", "SO-TC"), ("unit", "TP-VUNG-TAU"),
             ("text", "Ban Quản lý dự án đô thị thông minh")], body,
            recipients=[("unit", "SO-TTTT")])))
        cols = [("dvc", "Tỷ lệ hồ sơ trực tuyến toàn trình", "%"),
                ("kyso", "Tỷ lệ văn bản điện tử có ký số", "%"),
                ("sohoa", "Số dịch vụ công trực tuyến", "dịch vụ")]
        rows = [("SO-TTTT", "Sở Thông tin và Truyền thông", [("dvc", "85.5"), ("kyso", "97.2"),
                                                             ("sohoa", "42")]),
                ("SO-NV", "Sở Nội vụ", [("kyso", "98"), ("dvc", "61.3")]),
                ("TP-BA-RIA", "UBND thành phố Bà Rịa", [("sohoa", "12")]),
                ("XA-PHUOC-HOI", "UBND xã Phước Hội", [])]
        docs.append(("bc", "bao-cao-tong-hop", bao_cao_xml(
            "Tổng hợp kết quả thực hiện các chỉ tiêu chuyển đổi số quý I năm 2024",
            [("basis", "Căn cứ Nghị quyết 02-NQ/TU ngày 28/5/2021 của Ban Chấp hành Đảng bộ tỉnh;"),
             ("p", "Sở Thông tin và Truyền thông tổng hợp kết quả như sau:"),
             ("p", "Trên đây là kết quả thực hiện các chỉ tiêu chuyển đổi số quý I năm 2024.")],
            cols, rows, [("unit", "SO-TTTT")], to=[("text", "Ủy ban nhân dân tỉnh")],
            title="Kết quả thực hiện các chỉ tiêu chuyển đổi số quý I năm 2024")))
        cls.bc_table = (cols, rows)
        # the kind's example: figures placed by <figures/>, a bold deadline after them
        with open(os.path.join(REPO, "workflows", "bao-cao-tong-hop", "examples",
                               "bc-cds-2024-q1.xml"), encoding="utf-8") as fh:
            docs.append(("bc-example", "bao-cao-tong-hop", fh.read()))
        # a báo cáo tổng hợp over several pages: its closing paragraph keeps with the signature
        many = [(None, f"UBND xã số {i:02d}", [("dvc", f"{50 + i}.5"), ("kyso", f"{60 + i}")])
                for i in range(1, 19)]
        docs.append(("bc-long", "bao-cao-tong-hop", bao_cao_xml(
            "Tổng hợp kết quả chuyển đổi số của cấp xã quý I năm 2024",
            [("p", "Sở Thông tin và Truyền thông tổng hợp kết quả của các xã như sau:"),
             ("p", "Trên đây là kết quả chuyển đổi số của cấp xã quý I năm 2024.")],
            cols, many, [("unit", "SO-TTTT")], to=[("text", "Ủy ban nhân dân tỉnh")])))

        # hostile values
        cls.hostile = 'A & B < C > D "E" \'F\' </w:t><w:b/> G &amp; ]]> H'
        docs.append(("h-escape", "thong-bao", thong_bao_xml(
            "Thông báo " + cls.hostile,
            [("p", "Đoạn đầu: " + cls.hostile + "."),
             ("heading", "1. Mục " + cls.hostile),
             ("basis", "Căn cứ " + cls.hostile + ";"),
             ("p", "Dòng một\nDòng hai " + cls.hostile),
             ("p", "Kết thúc.")],
            [("text", "Nơi nhận " + cls.hostile), ("unit", "SO-KHDT")],
            archive="VT, " + cls.hostile,
            lines=("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"), name="Tên " + cls.hostile)))
        sentence = "Câu thứ {} của đoạn văn dài, kiểm tra việc ngắt dòng, căn đều hai bên và dàn trang. "
        long_p, i = "", 1
        while len(long_p) < 5000:
            long_p += sentence.format(i)
            i += 1
        long_p = long_p[:5000]
        long_p = long_p[:-1] + "." if long_p[-1] == " " else long_p
        cls.long_p = long_p
        docs.append(("h-long", "thong-bao", thong_bao_xml(
            "Thông báo có một đoạn 5.000 ký tự", [("p", long_p), ("p", "Đoạn cuối.")],
            [("unit", "SO-TTTT")])))
        cls.nfd = {
            "summary": "Về việc tăng cường ứng dụng công nghệ thông tin trong hoạt động của cơ quan",
            "p": "Các sở, ban, ngành, địa phương khẩn trương triển khai; Ủy ban nhân dân huyện Đất Đỏ "
                 "và thị xã Phú Mỹ báo cáo kết quả trước ngày 15 tháng 4.",
            "heading": "2. Về chuyển đổi số ở cấp xã, phường, thị trấn",
            "basis": "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
            "recipient": "Ủy ban nhân dân các huyện, thị xã, thành phố (để thực hiện)",
            "line": "kt. chủ tịch",
            "name": "Nguyễn Thị Ánh Hồng",
            "archive": "VT, CĐS, Đặng Hữu Lộc",
        }
        dd = {k: unicodedata.normalize("NFD", v) for k, v in cls.nfd.items()}
        assert all(not unicodedata.is_normalized("NFC", v) for v in dd.values())
        docs.append(("h-nfd", "thong-bao", thong_bao_xml(
            dd["summary"], [("basis", dd["basis"]), ("heading", dd["heading"]), ("p", dd["p"])],
            [("text", dd["recipient"])], archive=dd["archive"],
            lines=(dd["line"], unicodedata.normalize("NFD", "PHÓ CHỦ TỊCH")), name=dd["name"])))
        cls.nfd_table = ("Ủy ban nhân dân xã Phước Hội", "Tỷ lệ hộ gia đình có đường truyền",
                         "hộ dân")
        docs.append(("h-nfd-table", "bao-cao-tong-hop", bao_cao_xml(
            unicodedata.normalize("NFD", "Tổng hợp số liệu của cấp xã"),
            [("p", unicodedata.normalize("NFD", "Số liệu như bảng dưới đây."))],
            [("ht", unicodedata.normalize("NFD", cls.nfd_table[1]),
              unicodedata.normalize("NFD", cls.nfd_table[2]))],
            [("XA-PHUOC-HOI", unicodedata.normalize("NFD", cls.nfd_table[0]), [("ht", "1250")])],
            [("unit", "XA-PHUOC-HOI")])))
        docs.append(("h-r0", "cong-van", cong_van_xml(
            "không có nơi nhận nào ngoài Kính gửi", [("unit", "SO-TTTT")],
            [("p", "Nội dung công văn.")], recipients=None)))
        docs.append(("h-r1", "thong-bao", thong_bao_xml(
            "Thông báo có một nơi nhận", [("p", "Nội dung thông báo.")], [("unit", "SO-TTTT")])))
        # inline bold and italic, a line break in the trích yếu, a quotation (issue 14, item 8)
        docs.append(("h-rich", "thong-bao", thong_bao_xml(
            "Kết luận của hội nghị<br/>trực tuyến về <i>chuyển đổi số</i>",
            [("p!", "Các sở hoàn thành <b>trước ngày 30/4/2024</b> việc rà soát dữ liệu "
                    "(<i>có kế hoạch riêng</i>)."),
             ("quote!", "“Chuyển đổi số là nhiệm vụ của cả hệ thống chính trị.”"),
             ("p", "Đề nghị các cơ quan thực hiện.")],
            [("unit", "SO-TTTT")], summary_markup=True)))
        # symbols at every place of a line: none may break at its hyphen or slash (item 5)
        cls.symbol_paras = [("Văn bản " * k + "theo Nghị quyết 02-NQ/TU, Công văn 3552/UBND-SNV, "
                             "Quyết định 3324/QĐ-UBND và Thông báo 923/TB-UBND của tỉnh.")
                            for k in range(12)]
        docs.append(("h-symbols", "thong-bao", thong_bao_xml(
            "Thông báo về Nghị quyết 02-NQ/TU", [("p", t) for t in cls.symbol_paras],
            [("unit", "SO-TTTT")])))
        # notices whose body ends low on a page: the signature must keep the end of the body
        # (issue 14, item 4); one paragraph more each, so that the end falls at every height
        fill = ("Các sở, ban, ngành, địa phương tiếp tục rà soát, hoàn thiện cơ sở dữ liệu "
                "chuyên ngành, bảo đảm kết nối, chia sẻ dữ liệu với hệ thống thông tin của tỉnh.")
        cls.fills = []
        for n in range(23, 31, 2):
            name = f"h-fill-{n}"
            cls.fills.append(name)
            docs.append((name, "thong-bao", thong_bao_xml(
                f"Thông báo có {n} đoạn", [("p", f"{i}. {fill}") for i in range(1, n + 1)]
                + [("p", "Văn phòng Ủy ban nhân dân tỉnh theo dõi, đôn đốc thực hiện.")],
                [("unit", "SO-TTTT"), ("unit", "SO-NV")])))
        codes = sorted(cls.units, key=lambda c: hashlib.sha256(c.encode()).hexdigest())
        many = [("unit", c) for c in codes]
        many += [("text", f"Đơn vị nhận số {i:03d}, phòng ban trực thuộc")
                 for i in range(1, 301 - len(many))]
        cls.r300 = many
        docs.append(("h-r300", "thong-bao", thong_bao_xml(
            "Thông báo gửi 300 nơi nhận", [("p", "Nội dung thông báo gửi nhiều nơi.")], many)))
        return docs

    @classmethod
    def resave_template(cls):
        """Item 9: thong-bao.docx re-saved by LibreOffice, loaded by a second daemon."""
        name = "resaved-draft"
        rec = cls.docs.setdefault(name, {})
        try:
            src = os.path.join(REPO, "build", "templates", "thong-bao.docx")
            lo = os.path.join(cls.tmp, "lo-resave")
            os.makedirs(lo)
            out, missing, log = soffice([src], 'docx:MS Word 2007 XML', lo)
            if missing:
                raise AssertionError("LibreOffice did not re-save thong-bao.docx:\n" + log)
            tdir = os.path.join(cls.tmp, "templates")
            os.makedirs(tdir)
            shutil.copy(out[src], os.path.join(tdir, "thong-bao.docx"))
            for other in os.listdir(os.path.join(REPO, "build", "templates")):
                if other.endswith(".docx") and other != "thong-bao.docx":
                    shutil.copy(os.path.join(REPO, "build", "templates", other), tdir)
            rec["template"] = os.path.join(tdir, "thong-bao.docx")
            d = Daemon(templates=tdir)
            try:
                d.start()
                with open(FIXTURE, encoding="utf-8") as fh:
                    cls.new(d, name, "thong-bao", fh.read())
                cls.render(d, name)
                try:
                    d.stop()
                except AssertionError as e:
                    cls.logs["vanthud (re-saved template)"] = str(e)[-6000:]
            finally:
                d.cleanup()
        except Exception as e:  # noqa: BLE001
            rec["error"] = f"{type(e).__name__}: {e}"

    @classmethod
    def convert_all(cls):
        files = [r["docx"] for r in cls.docs.values() if r.get("docx") and not r.get("error")]
        pdfdir = os.path.join(cls.tmp, "pdf")
        os.makedirs(pdfdir)
        out, missing, log = soffice(files, "pdf", pdfdir)
        for rec in cls.docs.values():
            f = rec.get("docx")
            if f in out:
                rec["pdf"] = out[f]
                try:
                    rec["lines"] = pdf_lines(out[f])
                    rec["fonts"] = pdf_fonts(out[f])
                    rec["pages"] = pdf_pages(out[f])
                except Exception as e:  # noqa: BLE001
                    rec["pdf_error"] = str(e)
            elif f in missing:
                rec["pdf_error"] = f"LibreOffice did not convert {os.path.basename(f)} to PDF:\n{log}"

    # ---- access for the tests

    def doc(self, name, pdf=True):
        for step, msg in self.errors.items():
            self.fail(f"{step}: {msg}")
        rec = self.docs.get(name)
        self.assertIsNotNone(rec, f"{name} was never rendered")
        if rec.get("error"):
            self.fail(rec["error"])
        if pdf:
            if rec.get("pdf_error"):
                self.fail(rec["pdf_error"])
            self.assertIn("lines", rec, f"{name}: no PDF text")
        return rec

    def view(self, name):
        return DocxView(self.doc(name, pdf=False)["docx"])

    def body_lines(self, rec, view=None):
        """pdftotext lines without the page header (the page number sits in the top margin)."""
        top = (view or DocxView(rec["docx"])).doc.sections[0].top_margin.pt
        return [ln for ln in rec["lines"] if ln.bottom > top + 1]

    def texts(self, rec):
        return [ln.text for ln in rec["lines"]]

    def assert_words_in_order(self, expected, got, label):
        expected = [w for w in expected]
        if find_run(got, expected) < 0:
            self.fail(f"{label}: the words are not all there, in order:\n{word_diff(expected, got)}")

    def assert_structure(self, name):
        problems = check_package(self.doc(name, pdf=False)["docx"])
        self.assertEqual(problems, [], f"{name}: the package is not sound")

    def docx_text(self, name):
        """Every paragraph's text in the DOCX (body and headers), in order."""
        v = self.view(name)
        out = [p.text for p in v.paras]
        for h in v.headers:
            out += [p.text for p in h.paragraphs]
        return out

    # ---- 0. the daemons

    def test_0_daemons_exit_cleanly(self):
        """Every vanthud of this suite stopped with SIGTERM, exit 0, no sanitizer report."""
        self.assertFalse(self.crashed, "vanthud died while rendering (see the failing document)")
        self.assertEqual(self.logs, {}, "vanthud did not stop cleanly")

    # ---- 1. the seed, issued

    def test_1_seed_fixture_is_the_seed_word_for_word(self):
        if not os.path.exists(SEED_TEXT):
            self.skipTest(f"{SEED_TEXT} is not on this machine (the shared seeds)")
        with open(SEED_TEXT, encoding="utf-8") as fh:
            raw = fh.read().replace("**", "")
        lines = [re.sub(r"^#+\s*", "", ln).strip() for ln in raw.splitlines()]
        lines = [ln for ln in lines if ln]
        start = lines.index("THÔNG BÁO") + 1
        stop = lines.index("Nơi nhận:")
        inp = read_input(FIXTURE)
        self.assertEqual(words(" ".join(lines[start:stop])),
                         words(" ".join([inp["summary"]] + [t for _, t in inp["body"]])))
        seed_recipients = [ln for ln in lines[stop + 1:] if ln.startswith("- ")]
        self.assertEqual(seed_recipients[:-1], [f"- {v};" for _, v in inp["recipients"]])
        self.assertEqual(seed_recipients[-1], f"- Lưu: {inp['archive']}")
        self.assertEqual(lines[-4:], inp["signer_lines"] + [inp["signer_name"]])

    def test_1_seed_issued_file_is_the_outgoing_file(self):
        rec = self.doc("seed", pdf=False)
        self.assertEqual(rec["symbol"], "01/TB-UBND")
        self.assertIsNotNone(rec["outgoing_bytes"], f"no {rec['outgoing']}")
        with open(rec["docx"], "rb") as fh:
            data = fh.read()
        self.assertEqual(data, rec["outgoing_bytes"],
                         "vanthuctl render differs from spool/outgoing/YYYY/01-TB-UBND.docx")
        self.assertEqual(tuple(rec["printed"]), (str(len(data)), hashlib.sha256(data).hexdigest()),
                         "the size and SHA-256 vanthuctl printed are not the file's")

    def test_1_seed_pdf_text(self):
        rec = self.doc("seed")
        inp = read_input(FIXTURE)
        view = DocxView(rec["docx"])
        lines = self.body_lines(rec, view)
        texts = [ln.text for ln in lines]
        self.assertGreaterEqual(rec["pages"], 1)
        got = pdf_words(lines)
        expected = words(" ".join(["THÔNG BÁO", inp["summary"]] + [t for _, t in closed(inp["body"])]))
        self.assert_words_in_order(expected, got, "seed: title, summary and body in the PDF")
        issued = [date_line(dt) for dt in rec["dates"]]
        self.assertTrue(any(dl in texts for dl in issued),
                        f"no date line {' or '.join(issued)} in {texts[:12]}")
        for line in ISSUER_LINES + [QUOC_HIEU, TIEU_NGU, "Số: 01/TB-UBND", "THÔNG BÁO", "Nơi nhận:"]:
            self.assertIn(line, texts)
        noi_nhan = [f"- {v};" for _, v in inp["recipients"]] + [f"- Lưu: {inp['archive']}"]
        got_nn = [t for t in texts if t.startswith("- ") and t in noi_nhan]
        self.assertEqual(got_nn, noi_nhan, "the Nơi nhận lines, in order")
        sig = inp["signer_lines"] + [inp["signer_name"]]
        idx = [texts.index(s) if s in texts else -1 for s in sig]
        self.assertNotIn(-1, idx, f"signature lines {sig} not all in {texts[-15:]}")
        self.assertEqual(idx, sorted(idx), "signature lines out of order")

    def test_1_pdf_fonts_are_times_new_roman(self):
        self.doc("seed")
        if times_installed():
            ok, what = ("TimesNewRoman",), "Times New Roman"
        else:   # not installed: LibreOffice substitutes its metric twin, nothing else will do
            ok, what = ("LiberationSerif",), ("Liberation Serif (Times New Roman's substitute; "
                                              "Times New Roman is not installed)")
        bad = {}
        for name, rec in self.docs.items():
            if not rec.get("fonts") and rec.get("pdf"):
                bad[name] = "pdffonts lists no font"
            odd = [f for f in rec.get("fonts", []) if not f.replace(" ", "").startswith(ok)]
            if odd:
                bad[name] = odd
        self.assertEqual(bad, {}, f"fonts other than {what} in the PDFs")

    def test_1_seed_docx_names_times_new_roman_in_every_font_slot(self):
        self.doc("seed", pdf=False)
        for name in [n for n, r in self.docs.items() if r.get("docx")]:
            v = self.view(name)
            problems = set()
            for r, p in v.all_runs():
                for slot in ("ascii", "hAnsi", "cs", "eastAsia"):
                    f = v.fmt.font(r, p, slot)
                    if f != "Times New Roman":
                        problems.add(f"{slot}: {f}")
                lang = v.fmt.r_attr(r, p, "lang")
                if lang != "vi-VN":
                    problems.add(f"language {lang}, format-vn.md says vi-VN")
                color = v.fmt.r_attr(r, p, "color")
                if color not in (None, "auto", "000000"):
                    problems.add(f"colour {color}, format-vn.md says black")
            self.assertEqual(sorted(problems), [], f"{name}: runs not in Times New Roman, vi-VN, black")

    def test_1_page_number_only_from_page_two(self):
        rec = self.doc("seed")
        if rec["pages"] < 2:   # the seed fits one page: use the 300-recipient notice
            rec = self.doc("h-r300")
        self.assertGreaterEqual(rec["pages"], 2)
        view = DocxView(rec["docx"])
        sec = view.doc.sections[0]
        top = sec.top_margin.pt
        centre = (sec.left_margin.pt + sec.page_width.pt - sec.right_margin.pt) / 2
        for page in range(1, rec["pages"] + 1):
            head = [ln for ln in rec["lines"] if ln.page == page and ln.bottom <= top + 1]
            if page == 1:
                self.assertEqual(head, [], "page 1 shows something in the top margin")
                continue
            self.assertEqual([ln.text for ln in head], [str(page)], f"page {page}: its number on top")
            mid = (head[0].left + head[0].right) / 2
            self.assertLess(abs(mid - centre), 12, f"page {page}: the number is not centred")
        # and the DOCX says so: a PAGE field in the default header, none on the first page
        self.assertTrue(sec.different_first_page_header_footer, "no w:titlePg")
        hx = ET.tostring(sec.header._element, encoding="unicode")
        fx = ET.tostring(sec.first_page_header._element, encoding="unicode")
        self.assertRegex(hx, r"(instrText[^>]*>\s*PAGE\b|w:instr=\"\s*PAGE\b)")
        self.assertNotRegex(fx, r"PAGE")
        self.assertEqual("".join(p.text for p in sec.first_page_header.paragraphs).strip(), "")
        problems = []
        for p in sec.header.paragraphs:
            for r in text_runs(p._p):
                sz = int(view.fmt.r_attr(r, p._p, "sz") or 20) / 2
                if not 13 <= sz <= 14:
                    problems.append(f"page number {sz} pt, format-vn.md says 13-14")
            if (view.fmt.p_attr(p._p, "jc") or "left") != "center":
                problems.append("the page number is not centred")
        self.assertEqual(problems, [])

    # ---- 2. python-docx on the seed

    def test_2_seed_docx_layout(self):
        v = self.view("seed")
        inp = read_input(FIXTURE)
        sec = v.doc.sections[0]
        self.assertEqual(sec.page_width.twips, 11906, "A4 width")
        self.assertEqual(sec.page_height.twips, 16838, "A4 height")
        self.assertIn(sec.orientation, (docx.enum.section.WD_ORIENT.PORTRAIT,))
        for label, length, lo, hi in (("top", sec.top_margin, 20, 25), ("bottom", sec.bottom_margin, 20, 25),
                                      ("left", sec.left_margin, 30, 35), ("right", sec.right_margin, 15, 20)):
            self.assertTrue(lo - 0.05 <= length.mm <= hi + 0.05,
                            f"{label} margin {length.mm:.2f} mm, format-vn.md says {lo}-{hi} mm")
        # the header: a table of two borderless columns, issuer left, Quốc hiệu and Tiêu ngữ right
        head = v.doc.tables[0]
        self.assertEqual(len(head.columns), 2, "the header table has two columns")
        self.assertTrue(borderless(v.fmt, head), "the header table has visible borders")
        issuer = "\n".join(ISSUER_LINES)
        self.assertEqual(v.cell_of(issuer), (0, 0), "the issuer is in the header's left column")
        self.assertEqual(v.cell_of(QUOC_HIEU), (0, 1), "Quốc hiệu in the header's right column")
        self.assertEqual(v.cell_of(TIEU_NGU), (0, 1), "Tiêu ngữ in the header's right column")
        widths = [c.width for c in head.columns]
        if all(widths):
            share = widths[0] / sum(widths)
            self.assertTrue(0.3 <= share <= 0.5, f"left column {share:.0%}, format-vn.md says about 40 %")
        problems = []
        v.check(v.one(issuer, problems), "issuer", problems, bold=True, size=(12, 13), jc=("center",),
                upper=True)
        v.check(v.one(QUOC_HIEU, problems), "Quốc hiệu", problems, bold=True, size=(12, 13),
                jc=("center",))
        v.check(v.one(TIEU_NGU, problems), "Tiêu ngữ", problems, bold=True, size=(13, 14),
                jc=("center",))
        v.check(v.one("Số: 01/TB-UBND", problems), "number", problems, bold=False, italic=False,
                size=(13, 13), jc=("center",))
        dl = [p for p in v.paras if any(p.text == date_line(dt) for dt in self.docs["seed"]["dates"])]
        self.assertEqual(len(dl), 1, "one date line")
        v.check(dl[0], "date line", problems, italic=True, bold=False, size=(13, 14), jc=("center",))
        v.check(v.one("THÔNG BÁO", problems), "title", problems, bold=True, size=(13, 14), jc=("center",))
        v.check(v.one(inp["summary"], problems), "summary", problems, bold=True, size=(13, 14),
                jc=("center",))
        for i, (kind, text) in enumerate(closed(inp["body"])):
            p = v.one(text, problems)
            if kind == "heading":
                v.check(p, f"heading {i}", problems, bold=True, size=(13, 14))
            else:
                v.body_paragraph(p, f"body paragraph {i} {text[:30]!r}", problems,
                                 bold_runs=inp["bold"])
        # the seed's three bold deadlines, as the input marks them (issue 14, item 8)
        bold = [r for p in v.paras for r in text_runs(p._p)
                if "".join(e.text or "" for e in r.iter(q("t"))) == "trong tháng 01/2023"
                and v.fmt.toggle(r, p._p, "b")]
        self.assertEqual(len(bold), 3, "the seed's bold 'trong tháng 01/2023'")
        for line in inp["signer_lines"]:
            v.check(v.one(line, problems), f"signer line {line!r}", problems, bold=True, size=(13, 14),
                    jc=("center",), upper=True)
        v.check(v.one(inp["signer_name"], problems), "signer's name", problems, bold=True,
                size=(13, 14), jc=("center",))
        v.check(v.one("Nơi nhận:", problems), "Nơi nhận:", problems, bold=True, italic=True,
                size=(12, 12))
        for _, r in inp["recipients"]:
            v.check(v.one(f"- {r};", problems), f"recipient {r!r}", problems, bold=False,
                    size=(11, 11))
        v.check(v.one(f"- Lưu: {inp['archive']}", problems), "Lưu", problems, bold=False, size=(11, 11))
        self.assertEqual(problems, [], "seed: the layout of format-vn.md")
        # the signature block: two borderless columns, recipients left, signature right
        where = v.cell_of("Nơi nhận:")
        self.assertIsNotNone(where, "Nơi nhận: is not in a table")
        self.assertEqual(where[1], 0, "Nơi nhận in the left column")
        self.assertEqual(v.cell_of(inp["signer_name"]), (where[0], 1), "the signature in the right column")
        self.assertTrue(borderless(v.fmt, v.doc.tables[where[0]]), "the signature table has borders")

    # ---- 3. pandoc

    def test_3_seed_pandoc_plain_text(self):
        rec = self.doc("seed", pdf=False)
        inp = read_input(FIXTURE)
        got = words(run(["pandoc", "-f", "docx", "-t", "plain", "--wrap=none", rec["docx"]]))
        expected = words(" ".join(["THÔNG BÁO", inp["summary"]] + [t for _, t in closed(inp["body"])]))
        self.assert_words_in_order(expected, got, "seed: pandoc's text")
        for line in ["Số: 01/TB-UBND", f"- Lưu: {inp['archive']}"] + inp["signer_lines"]:
            self.assertGreaterEqual(find_run(got, words(line)), 0, f"pandoc: {line!r}")

    # ---- 4. the structure of every DOCX of the suite

    def test_4_structure_of_every_rendered_docx(self):
        self.doc("seed", pdf=False)
        names = [n for n, r in self.docs.items() if r.get("docx")]
        self.assertGreaterEqual(len(names), 12)
        report = {}
        for n in names:
            problems = check_package(self.docs[n]["docx"])
            if n == "resaved-draft":  # judged against its template by test_9
                problems = self.new_problems(n)
            if problems:
                report[n] = problems
        self.assertEqual(report, {}, "packages with problems")

    def new_problems(self, name):
        """Problems of a document rendered from the re-saved template that the template itself
        does not have (what LibreOffice wrote is LibreOffice's; what rendering adds is ours)."""
        rec = self.docs[name]
        own = {p for p in check_package(rec["template"]) if "template tag" not in p}
        return sorted({p for p in check_package(rec["docx"])} - own)

    def test_4_checker_finds_what_it_looks_for(self):
        """The checker itself, on packages broken on purpose from the seed."""
        src = self.doc("seed", pdf=False)["docx"]
        with zipfile.ZipFile(src) as z:
            parts = {i.filename: z.read(i.filename) for i in z.infolist()}
        doc = parts["word/document.xml"].decode()
        cases = {
            "order": doc.replace("<w:b/>", "<w:b/><w:rFonts w:ascii=\"Times New Roman\"/>", 1),
            "tag": doc.replace("THÔNG BÁO", "{{title}}", 1),
            "cell": re.sub(r"(<w:tc>\s*<w:tcPr>.*?</w:tcPr>).*?(</w:tc>)", r"\1\2", doc, count=1,
                           flags=re.S),
            "space": doc.replace("Độc lập - Tự do - Hạnh phúc<", "Độc lập - Tự do - Hạnh phúc <", 1),
        }
        expect = {"order": "ECMA-376 order", "tag": "template tag", "cell": "has no paragraph",
                  "space": "xml:space"}
        for case, xml in cases.items():
            path = os.path.join(self.tmp, f"broken-{case}.docx")
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
                for n, b in parts.items():
                    z.writestr(n, xml.encode() if n == "word/document.xml" else b)
            problems = check_package(path)
            self.assertTrue(any(expect[case] in p for p in problems), (case, problems))
        path = os.path.join(self.tmp, "broken-rels.docx")
        with zipfile.ZipFile(path, "w") as z:
            for n, b in parts.items():
                if n != "word/header1.xml" and n != "word/styles.xml":
                    z.writestr(n, b)
        problems = check_package(path)
        self.assertTrue(any("header1.xml, which is not in the package" in p for p in problems), problems)

    # ---- 5. a draft

    def assert_blank_number(self, lines, symbol):
        """A draft: "Số:", a blank a number would fill, then "/SYMBOL"; returns the row."""
        texts = [ln.text for ln in lines]
        starts = [ln for ln in lines if ln.words[0][0] == "Số:"]
        self.assertEqual(len(starts), 1, texts[:15])
        row = same_row(lines, starts[0])
        i = [w[0] for w in row].index("Số:")
        self.assertEqual(row[i + 1][0], symbol, "the draft's number is blank: " + str(row))
        self.assertGreater(gap(row[i], row[i + 1]), 12, f"the blank before {symbol} is too narrow")
        return row

    def test_5_draft_has_blank_number_and_day(self):
        rec = self.doc("seed-draft")
        lines = self.body_lines(rec)
        texts = [ln.text for ln in lines]
        row = self.assert_blank_number(lines, "/TB-UBND")
        place = words(PLACE)[0]
        ws = row[[w[0] for w in row].index(place):]
        self.assertEqual(" ".join(w[0] for w in ws), f"{PLACE}, ngày tháng năm {vn_today().year}",
                         "the draft's date line")
        for a, b in (("ngày", "tháng"), ("tháng", "năm")):
            i = [w[0] for w in ws].index(a)
            self.assertEqual(ws[i + 1][0], b)
            self.assertGreater(gap(ws[i], ws[i + 1]), 12, f"the blank after {a!r} is too narrow")
        self.assertFalse(any("01/TB-UBND" in t for t in texts), "a draft has no number")

    # ---- 6. công văn

    def test_6_cong_van_one_recipient(self):
        rec = self.doc("cv-one")
        view = DocxView(rec["docx"])
        lines = self.body_lines(rec, view)
        texts = [ln.text for ln in lines]
        self.assertIn("KHẨN", texts, "the urgency is shown")
        row = self.assert_blank_number(lines, "/UBND-SNV")
        number = row[:2]   # "Số:", "/UBND-SNV"
        vv = [ln for ln in lines if ln.text.startswith("V/v ")]
        self.assertEqual(len(vv), 1, texts[:15])
        self.assertGreater(vv[0].top, number[0][2], "V/v is under the number")
        mid_page = view.doc.sections[0].page_width.pt / 2
        for ln in lines:   # every line of V/v, down to the urgency, in the left column
            if vv[0].top <= ln.top < next(x.top for x in lines if x.text == "KHẨN"):
                self.assertLess(ln.right, mid_page, f"V/v is in the left column: {ln}")
        self.assert_words_in_order(words("V/v báo cáo kết quả chuyển đổi số quý I năm 2024"),
                                   pdf_words(lines), "V/v")
        to = self.units["SO-NV"]["name"]
        self.assertTrue(any(re.fullmatch(r"Kính gửi: " + re.escape(to) + r"\.?", t) for t in texts),
                        f"'Kính gửi: {to}' on one line: {texts}")
        self.assert_noi_nhan(texts, ["- Như trên;", f"- {self.units['SO-TTTT']['short']};",
                                     f"- {self.units['HUYEN-DAT-DO']['short']};", "- Lưu: VT, SNV."])
        problems = []
        urg = [p for p in view.paras if p.text.strip() == "KHẨN"]
        self.assertEqual(len(urg), 1)
        view.check(urg[0], "urgency", problems, bold=True, size=(13, 14), border=True)
        vv_p = view.one("V/v báo cáo kết quả chuyển đổi số quý I năm 2024", problems)
        view.check(vv_p, "V/v", problems, bold=False, size=(12, 13))
        num_p = [p for p in view.paras if p.text.startswith("Số:")]
        if vv_p is not None and len(num_p) == 1:   # format-vn.md: 6 pt under the number
            space = int(view.fmt.p_attr(vv_p._p, "spacing", "before") or 0) + int(
                view.fmt.p_attr(num_p[0]._p, "spacing", "after") or 0)
            if space < 120:
                problems.append(f"V/v is {space / 20} pt under the number, format-vn.md says 6 pt")
        kg = [p for p in view.paras if p.text.startswith("Kính gửi:")]
        self.assertEqual(len(kg), 1)
        view.check(kg[0], "Kính gửi", problems, bold=False, size=(13, 14))
        self.assertEqual(problems, [])

    def test_6_cong_van_several_recipients(self):
        rec = self.doc("cv-many")
        texts = [ln.text for ln in self.body_lines(rec)]
        many = [f"- {self.units[c]['name']};" for c in ("SO-NV", "SO-TC", "TP-VUNG-TAU")]
        many.append("- Ban Quản lý dự án đô thị thông minh.")
        i = next((k for k, t in enumerate(texts) if t.startswith("Kính gửi:")), None)
        self.assertIsNotNone(i, texts)
        got = texts[i:i + len(many) + 1]
        if got[0] == "Kính gửi:":
            self.assertEqual(got[1:], many)
        else:   # the first recipient on the line of "Kính gửi:", the others aligned under it
            self.assertEqual([got[0]] + got[1:len(many)], ["Kính gửi: " + many[0]] + many[1:])
        for u in ("KHẨN", "THƯỢNG KHẨN", "HỎA TỐC"):
            self.assertNotIn(u, texts, "no urgency was given")
        self.assert_noi_nhan(texts, ["- Như trên;", f"- {self.units['SO-TTTT']['short']};",
                                     "- Lưu: VT, SNV."])

    def assert_noi_nhan(self, texts, expected):
        i = texts.index("Nơi nhận:") if "Nơi nhận:" in texts else self.fail(f"no Nơi nhận: {texts}")
        got = [t for t in texts[i + 1:] if t.startswith("- ")][:len(expected)]
        self.assertEqual(got, expected, "the Nơi nhận lines")

    # ---- 7. báo cáo tổng hợp

    def test_7_bao_cao_table_rows(self):
        rec = self.doc("bc")
        v = DocxView(rec["docx"])
        cols, rows = self.bc_table
        label = {c: l for c, l, _ in cols}
        measure = {c: m for c, _, m in cols}
        values = [(name, label[c], val.replace(".", ","), measure[c]) for _, name, vals in rows
                  for c, val in vals]
        # the data table: the one whose rows hold the units' names
        names = {n for _, n, _ in rows}
        tables = [t for t in v.doc.tables
                  if any(c.text in names for row in t.rows for c in row.cells)]
        self.assertEqual(len(tables), 1, "one data table")
        t = tables[0]
        self.assertEqual(len(t.rows), len(values) + 1, "a header row and one row per value")
        got = []
        for row in t.rows[1:]:
            cells = [c.text for c in row.cells]
            match = [vv for vv in values if all(any(c == part for c in cells) for part in vv)]
            self.assertTrue(match, f"row {cells} is none of the values")
            got.append(match[0])
        self.assertEqual(sorted(got), sorted(values), "one row per (unit, indicator) value")
        stt = [row.cells[0].text for row in t.rows[1:]]
        self.assertEqual(stt, [str(i) for i in range(1, len(values) + 1)], "STT numbers the rows")
        empty = [(ri, ci, t.rows[0].cells[ci].text) for ri, row in enumerate(t.rows)
                 for ci, c in enumerate(row.cells) if not c.text.strip()]
        self.assertEqual(empty, [], "empty cells (row, column, column header)")
        pdf = pdf_words(self.body_lines(rec, v))
        for vv in values:
            self.assertGreaterEqual(find_run(pdf, words(vv[2])), 0, vv)

    # ---- 8. hostile values

    def test_8_escaping(self):
        rec = self.doc("h-escape")
        self.assert_structure("h-escape")
        h = self.hostile
        text = self.docx_text("h-escape")
        for want in ("Thông báo " + h, "Đoạn đầu: " + h + ".", "1. Mục " + h, "Căn cứ " + h + ";",
                     "Dòng một\nDòng hai " + h, "Kết thúc./.", "- Nơi nhận " + h + ";",
                     "- Lưu: VT, " + h + ".", "Tên " + h):
            self.assertIn(want, text, "the value, exactly, as one paragraph")
        v = self.view("h-escape")
        problems = []
        v.body_paragraph(v.one("Đoạn đầu: " + h + ".", problems), "hostile paragraph", problems)
        self.assertEqual(problems, [], "the literal </w:t><w:b/> made nothing bold")
        pdf = pdf_words(self.body_lines(rec, v))
        for want in ("Thông báo " + h, "Đoạn đầu: " + h + ".", "1. Mục " + h, "Căn cứ " + h + ";",
                     "Dòng hai " + h, "Kết thúc./."):
            self.assert_words_in_order(words(want), pdf, "hostile text in the PDF")
        plain = words(run(["pandoc", "-f", "docx", "-t", "plain", "--wrap=none", rec["docx"]]))
        self.assert_words_in_order(words("Đoạn đầu: " + h + "."), plain, "hostile text, pandoc")

    def test_8_newline_in_a_paragraph_is_a_line_break(self):
        """templates-docx/README.md: a newline in a value becomes a line break. In a justified
        body paragraph the line before the break must not be stretched across the page."""
        rec = self.doc("h-escape")
        v = self.view("h-escape")
        br = [p for p in v.paras if p.text.startswith("Dòng một\n")]
        self.assertEqual(len(br), 1)
        self.assertEqual(len(br[0]._p.findall(f".//{q('br')}")), 1, "a newline is one w:br")
        lines = self.body_lines(rec, v)
        first = next(ln for ln in lines if ln.words[0][0] == "Dòng" and len(ln.words) == 1
                     or ln.text == "Dòng một")
        row = same_row(lines, first)
        self.assertEqual([w[0] for w in row], ["Dòng", "một"], "the line before the break")
        self.assertLess(gap(row[0], row[1]), 12,
                        "the words before the line break are spread over the whole line "
                        f"({gap(row[0], row[1]):.0f} pt between 'Dòng' and 'một')")

    def test_8_long_paragraph(self):
        rec = self.doc("h-long")
        self.assert_structure("h-long")
        self.assertEqual(len(self.long_p), 5000)
        self.assertIn(self.long_p, self.docx_text("h-long"))
        self.assertIn("Đoạn cuối./.", self.docx_text("h-long"))
        self.assertGreaterEqual(rec["pages"], 1)
        self.assert_words_in_order(words(self.long_p + " Đoạn cuối./."), pdf_words(self.body_lines(rec)),
                                   "the 5,000-character paragraph in the PDF")

    def test_8_nfd_comes_out_nfc(self):
        rec = self.doc("h-nfd")
        self.assert_structure("h-nfd")
        text = self.docx_text("h-nfd")
        bad = [t for t in text if not unicodedata.is_normalized("NFC", t)]
        self.assertEqual(bad, [], "text not in NFC")
        n = self.nfd
        for want in (n["summary"], n["basis"], n["heading"], n["p"] + "/.", f"- {n['recipient']};",
                     f"- Lưu: {n['archive']}.", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", n["name"]):
            self.assertIn(want, text)
        pdf = pdf_words(self.body_lines(rec))
        self.assert_words_in_order(words(" ".join([n["summary"], n["basis"], n["heading"],
                                                   n["p"] + "/."])),
                                   pdf, "NFC text in the PDF")

    def test_8_nfd_in_table_attributes_comes_out_nfc(self):
        """Row names, column labels and measures are attributes of the input: NFC as well."""
        self.doc("h-nfd-table")
        self.assert_structure("h-nfd-table")
        v = self.view("h-nfd-table")
        cells = [c.text for t in v.doc.tables for row in t.rows for c in row.cells]
        bad = [c for c in cells if not unicodedata.is_normalized("NFC", c)]
        self.assertEqual(bad, [], "table cells not in NFC")
        for want in self.nfd_table:
            self.assertIn(want, cells)

    def test_8_recipients_none(self):
        rec = self.doc("h-r0")
        self.assert_structure("h-r0")
        v = DocxView(rec["docx"])
        ti, ci = v.cell_of("Nơi nhận:")
        cell = [row.cells[ci] for row in v.doc.tables[ti].rows if any(
            p.text == "Nơi nhận:" for p in row.cells[ci].paragraphs)][0]
        lines = [p.text for p in cell.paragraphs if p.text.strip()]
        self.assertEqual(lines, ["Nơi nhận:", "- Như trên;", "- Lưu: VT, SNV."])
        self.assert_noi_nhan([ln.text for ln in self.body_lines(rec, v)],
                             ["- Như trên;", "- Lưu: VT, SNV."])
        r = self.no_recipient
        self.assertEqual(r.returncode, 1, "a thong-bao without any recipient is refused")
        self.assertEqual(r.json["error"]["code"] if r.json else r.stderr, "E_INVALID")

    def test_8_recipients_one(self):
        rec = self.doc("h-r1")
        self.assert_structure("h-r1")
        self.assertIn("- Sở TT&TT;", self.docx_text("h-r1"))
        self.assert_noi_nhan([ln.text for ln in self.body_lines(rec)], ["- Sở TT&TT;", "- Lưu: VT, CBTH."])

    def test_8_recipients_three_hundred(self):
        rec = self.doc("h-r300")
        self.assert_structure("h-r300")
        # registry units first, group by group in the registry's order; then free text, as given
        units = [self.units[c] for k, c in self.r300 if k == "unit"]
        free = [f"- {t};" for k, t in self.r300 if k == "text"]
        text = self.docx_text("h-r300")
        got = [t for t in text if t.startswith("- ") and not t.startswith("- Lưu:")]
        self.assertEqual(len(got), 300)
        n = len(units)
        for g in self.groups:
            block = [f"- {u['short']};" for u in units if u["group"] == g]
            self.assertEqual(sorted(got[:len(block)]), sorted(block), f"group {g}")
            got = got[len(block):]
            n -= len(block)
        self.assertEqual(n, 0)
        self.assertEqual(got, free, "lines without a group keep the drafter's order")
        pdf = [ln.text for ln in self.body_lines(rec)]
        lines = [t for t in pdf if t.startswith("- ")]
        rendered = [t for t in text if t.startswith("- ")]
        self.assertEqual(lines, rendered, "every Nơi nhận line is on the PDF, in order "
                                          f"({len(lines)} of {len(rendered)})")

    # ---- 9. a template re-saved by LibreOffice

    def test_9_template_resaved_by_libreoffice(self):
        rec = self.doc("resaved-draft")
        orig = self.doc("seed-draft")
        self.assertEqual(self.new_problems("resaved-draft"), [],
                         "rendering added problems to the re-saved template's own")
        with zipfile.ZipFile(rec["template"]) as z:
            doc = z.read("word/document.xml").decode()
        self.assertIn("w:document", doc)
        a, b = pdf_words(orig["lines"]), pdf_words(rec["lines"])
        self.assertEqual(b, a, "the re-saved template gives other text:\n" + word_diff(a, b))

    # ---- 10. the package's properties, no template comments (issue 14, item 2)

    def test_10_core_properties_are_the_documents(self):
        inp = read_input(FIXTURE)
        org = "Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu"   # harness' [organisation] name
        for name in ("seed", "seed-draft"):
            rec = self.doc(name, pdf=False)
            cp = docx.Document(rec["docx"]).core_properties
            self.assertEqual(cp.title, "Thông báo: " + inp["summary"], name)
            self.assertEqual(cp.author, org, name)
            self.assertEqual(cp.last_modified_by, org, name)
            lo, hi = rec["window"]
            for what, t in (("created", cp.created), ("modified", cp.modified)):
                self.assertIsNotNone(t, f"{name}: no {what}")
                t = t if t.tzinfo else t.replace(tzinfo=datetime.timezone.utc)
                self.assertTrue(lo - datetime.timedelta(seconds=1) <= t <= hi,
                                f"{name}: {what} {t} is not the time it was "
                                f"{'issued' if name == 'seed' else 'rendered'} ({lo} to {hi})")
        cv = docx.Document(self.doc("cv-one", pdf=False)["docx"]).core_properties
        self.assertEqual(cv.title, "Công văn: V/v báo cáo kết quả chuyển đổi số quý I năm 2024")

    def test_10_no_template_comment_in_any_part(self):
        self.doc("seed", pdf=False)
        found = {}
        for name, rec in self.docs.items():
            if not rec.get("docx") or name == "resaved-draft":
                continue
            with zipfile.ZipFile(rec["docx"]) as z:
                for n in z.namelist():
                    if (n.endswith(".xml") or n.endswith(".rels")) and b"<!--" in z.read(n):
                        found.setdefault(name, []).append(n)
        self.assertEqual(found, {}, "XML comments of the template in the rendered DOCX")

    # ---- 11. a draft says so (issue 14, item 3)

    def test_11_draft_carries_du_thao_issued_does_not(self):
        mark = "DỰ THẢO"
        v = self.view("seed-draft")
        boxed = [p for p in v.paras if p.text.strip() == mark]
        self.assertEqual(len(boxed), 1, "one DỰ THẢO paragraph in the draft")
        problems = []
        v.check(boxed[0], "DỰ THẢO", problems, bold=True, size=(13, 14), jc=("right",), border=True)
        self.assertEqual(problems, [])
        rec = self.doc("seed-draft")
        lines = self.body_lines(rec, v)
        at = [ln for ln in lines if ln.text == mark]
        self.assertEqual(len(at), 1, [ln.text for ln in lines[:6]])
        qh = next(ln for ln in lines if ln.text.startswith(QUOC_HIEU) or QUOC_HIEU in ln.text)
        self.assertEqual(at[0].page, 1)
        self.assertLess(at[0].bottom, qh.top + 1, "DỰ THẢO above the Quốc hiệu")
        self.assertGreater(at[0].left, v.doc.sections[0].page_width.pt / 2, "DỰ THẢO at the right")
        plain = run(["pandoc", "-f", "docx", "-t", "plain", "--wrap=none", rec["docx"]])
        self.assertIn(mark, plain)
        for name in ("seed",):
            self.assertNotIn(mark, " ".join(self.docx_text(name)), f"{name} is issued")
            self.assertNotIn(mark, " ".join(self.texts(self.doc(name))), f"{name} is issued")

    # ---- 12. no signature page without body text (issue 14, item 4)

    def signature_alone(self, name):
        """None when the page of the signer's name also shows body text above the signature
        block, else what that page shows."""
        rec = self.doc(name)
        inp = read_input(rec["xml"])
        v = DocxView(rec["docx"])
        lines = self.body_lines(rec, v)
        sig = [ln for ln in lines if ln.text.endswith(inp["signer_name"])]
        if not sig:
            return f"no signer's name in {[ln.text for ln in lines[-8:]]}"
        page = sig[-1].page
        if page == 1:
            return None
        here = [ln for ln in lines if ln.page == page]
        top = min([ln.top for ln in here if ln.text.startswith(("Nơi nhận:", inp["signer_lines"][0]))]
                  or [sig[-1].top])
        above = [ln.text for ln in here if ln.bottom <= top + 1]
        return None if above else f"page {page} of {rec['pages']}: {[ln.text for ln in here][:6]}"

    def test_12_signature_page_holds_body_text(self):
        self.doc("seed")
        every = [n for n, r in self.docs.items() if r.get("pages", 0) >= 2 and r.get("xml")
                 and n != "resaved-draft"]
        # a Nơi nhận of 300 lines runs over pages of its own: its row may split (no keepNext,
        # no cantSplit) and starts under the body, so its signature's page holds body text too
        multi = [n for n in every if n != "h-r300"]
        self.assertIn("h-r300", every)
        # the fills run over two pages; together they end at every height of the page
        self.assertGreaterEqual(len([n for n in multi if n.startswith("h-fill-")]), 4, multi)
        self.assertIn("bc-long", multi, "a báo cáo tổng hợp over several pages")
        alone = {n: self.signature_alone(n) for n in every}
        alone = {n: a for n, a in alone.items() if a}
        self.assertEqual(sorted(alone), [], "the signature block alone on its page:\n"
                         + "\n".join(f"{n}: {a}" for n, a in sorted(alone.items())))
        # the last paragraph carries keepNext, in every multi-page document
        for n in multi:
            inp = read_input(self.docs[n]["xml"])
            v = self.view(n)
            last = [p for p in v.paras if p.text == closed(inp["body"])[-1][1]]
            self.assertEqual(len(last), 1, n)
            self.assertIsNotNone(last[0]._p.find(f"{q('pPr')}/{q('keepNext')}"), n)

    # ---- 13. báo cáo tổng hợp: Kính gửi, the figures titled inside the body (issue 14, item 10)

    def test_13_bao_cao_figures_inside_the_body(self):
        rec = self.doc("bc")
        v = DocxView(rec["docx"])
        title = "Kết quả thực hiện các chỉ tiêu chuyển đổi số quý I năm 2024"
        closing = "Trên đây là kết quả thực hiện các chỉ tiêu chuyển đổi số quý I năm 2024./."
        body = list(v.doc.element.body)
        names = {n for _, n, _ in self.bc_table[1]}
        at = {}
        for i, el in enumerate(body):
            if el.tag == q("tbl") and any(c.text in names for row in docx.table.Table(el, v.doc._body).rows
                                          for c in row.cells):
                at["table"] = i
            elif el.tag == q("p"):
                t = Paragraph(el, v.doc._body).text
                for key, want in (("title", title), ("closing", closing),
                                  ("intro", "Sở Thông tin và Truyền thông tổng hợp kết quả như sau:"),
                                  ("kinh_gui", "Kính gửi: Ủy ban nhân dân tỉnh")):
                    if t == want:
                        at[key] = i
            if el.tag == q("tbl") and "Nơi nhận:" in "".join(t.text or "" for t in el.iter(q("t"))):
                at["signature"] = i
        self.assertEqual(sorted(at), ["closing", "intro", "kinh_gui", "signature", "table", "title"], at)
        self.assertEqual(sorted(at, key=at.get), ["kinh_gui", "intro", "title", "table", "closing",
                                                  "signature"], "the order in the body")
        problems = []
        v.check(v.one(title, problems), "the table's title", problems, bold=True, jc=("center",))
        self.assertEqual(problems, [])
        # LibreOffice: the same order on the page, "./." after the figures
        got = pdf_words(self.body_lines(rec, v))
        for a, b in (("Kính gửi: Ủy ban nhân dân tỉnh", "Căn cứ"), (title, "STT"), ("STT", closing),
                     (closing, "Nơi nhận:")):
            ia, ib = find_run(got, words(a)), find_run(got, words(b))
            self.assertTrue(0 <= ia < ib, f"{a!r} before {b!r} in the PDF")
        plain = words(run(["pandoc", "-f", "docx", "-t", "plain", "--wrap=none", rec["docx"]]))
        self.assertLess(find_run(plain, words(title)), find_run(plain, words(closing)), "pandoc")
        self.assertGreaterEqual(find_run(plain, words(title)), 0, "pandoc: the title line")
        # the example places its figures with <figures/>: between the paragraph that announces
        # them and the two after them, the deadline bold
        rec = self.doc("bc-example")
        got = pdf_words(self.body_lines(rec))
        order = ["các cơ quan, đơn vị như sau:", "Kết quả thực hiện các chỉ tiêu chuyển đổi số quý I",
                 "STT", "Các đơn vị chưa đạt chỉ tiêu", "kính báo cáo Ủy ban nhân dân tỉnh./.", "Nơi nhận:"]
        at = [find_run(got, words(w)) for w in order]
        self.assertTrue(all(a >= 0 for a in at) and at == sorted(at), list(zip(order, at)))
        v = DocxView(rec["docx"])
        dl = v.one("Các đơn vị chưa đạt chỉ tiêu hoàn thành việc khắc phục trước ngày 30/6/2024.",
                   problems := [])
        v.body_paragraph(dl, "the deadline's paragraph", problems, bold_runs=("trước ngày 30/6/2024",))
        self.assertEqual(problems, [])
        # one paragraph only: the figures after it, "./." on its own line after them
        text = self.docx_text("h-nfd-table")
        self.assertIn("Số liệu như bảng dưới đây.", text)
        self.assertEqual([t for t in text if t.endswith("./.")], ["./."])
        self.assertNotIn("Kính gửi:", " ".join(text), "no Kính gửi when the report names none")

    # ---- 14. inline bold and italic, a line break, a quotation (issue 14, item 8)

    def test_14_inline_markup(self):
        rec = self.doc("h-rich")
        self.assert_structure("h-rich")
        v = DocxView(rec["docx"])
        text = ("Các sở hoàn thành trước ngày 30/4/2024 việc rà soát dữ liệu (có kế hoạch riêng).")
        p = v.one(text, problems := [])
        self.assertEqual(problems, [])
        looks = {}
        for r in text_runs(p._p):
            t = "".join(e.text or "" for e in r.iter(q("t")))
            looks[t] = (v.fmt.toggle(r, p._p, "b"), v.fmt.toggle(r, p._p, "i"),
                        v.fmt.r_attr(r, p._p, "sz"), v.fmt.font(r, p._p, "ascii"))
        self.assertEqual(looks.get("trước ngày 30/4/2024", (None,))[:2], (True, False), looks)
        self.assertEqual(looks.get("có kế hoạch riêng", (None,))[:2], (False, True), looks)
        plain = [t for t in looks if t not in ("trước ngày 30/4/2024", "có kế hoạch riêng")]
        self.assertTrue(plain and all(looks[t][:2] == (False, False) for t in plain), looks)
        self.assertEqual(len({lk[2:] for lk in looks.values()}), 1, f"one size and font: {looks}")
        v.check(p, "the paragraph with inline markup", problems, size=(13, 14), jc=("both", "distribute"))
        quote = v.one("“Chuyển đổi số là nhiệm vụ của cả hệ thống chính trị.”", problems)
        v.check(quote, "quotation", problems, italic=True, bold=False, size=(13, 14))
        summary = v.one("Kết luận của hội nghị\ntrực tuyến về chuyển đổi số", problems)
        v.check(summary, "trích yếu", problems, bold=True, size=(13, 14), jc=("center",))
        if summary is not None:
            self.assertEqual(len(summary._p.findall(f".//{q('br')}")), 1, "<br/> is one w:br")
        self.assertEqual(problems, [])
        # pandoc reads the same emphasis
        md = run(["pandoc", "-f", "docx", "-t", "markdown-smart", "--wrap=none", rec["docx"]])
        self.assertIn("**trước ngày 30/4/2024**", md)
        self.assertIn("*có kế hoạch riêng*", md)
        self.assertIn("*“Chuyển đổi số là nhiệm vụ của cả hệ thống chính trị.”*", md)
        # LibreOffice: the words in order, the trích yếu on two lines
        lines = self.body_lines(rec, v)
        self.assert_words_in_order(words(text + " “Chuyển đổi số là nhiệm vụ của cả hệ thống chính trị.” "
                                         "Đề nghị các cơ quan thực hiện./."), pdf_words(lines),
                                   "the rich body in the PDF")
        texts = [ln.text for ln in lines]
        self.assertIn("Kết luận của hội nghị", texts, "the line break in the trích yếu")
        self.assertIn("trực tuyến về chuyển đổi số", texts)

    # ---- 15. the rule under the trích yếu is clear of the text (issue 14, item 9)

    def test_15_rule_under_the_summary_clears_descenders(self):
        """The short line under the trích yếu is at least 6 pt under the lowest ink of its last
        line (a descender, a dot below: "ộ", "ậ"), not touching them."""
        problems = []
        for name, last in (("h-r1", "Thông báo có một nơi nhận"), ("seed", "nhân dân tỉnh."),
                           ("bc", "Tổng hợp kết quả thực hiện các chỉ tiêu chuyển đổi số quý I năm 2024")):
            rec = self.doc(name)
            at = [ln for ln in rec["lines"] if ln.page == 1 and ln.text == last]
            if len(at) != 1:
                problems.append(f"{name}: the trích yếu's last line {last!r} is not one line")
                continue
            rule, ink = rule_under(rec["pdf"], at[0])
            if rule is None or ink is None:
                problems.append(f"{name}: no rule under {last!r}")
            elif rule - ink < 6:
                problems.append(f"{name}: the rule is {rule - ink:.1f} pt under the text's lowest ink")
        self.assertEqual(problems, [])

    # ---- 16. no symbol breaks at its hyphen or slash (issue 14, item 5)

    def test_16_symbols_stay_whole_on_their_line(self):
        rec = self.doc("h-symbols")
        lines = self.body_lines(rec)
        self.assertEqual(symbols_cut(lines, self.symbol_paras), {},
                         "symbols cut at a line end (count in the input, whole in the PDF)")
        seed = self.doc("seed")
        inp = read_input(FIXTURE)
        self.assertEqual(symbols_cut(self.body_lines(seed), [t for _, t in inp["body"]]), {}, "seed")
        # the number line and the DOCX: w:noBreakHyphen in the symbol, the words read as written
        v = self.view("h-symbols")
        p = v.one(self.symbol_paras[0], problems := [])
        self.assertEqual(problems, [])
        self.assertGreaterEqual(len(p._p.findall(f".//{q('noBreakHyphen')}")), 4)
        num = [p for p in self.view("seed").paras if p.text == "Số: 01/TB-UBND"]
        self.assertEqual(len(num), 1)
        self.assertEqual(len(num[0]._p.findall(f".//{q('noBreakHyphen')}")), 1)


def broken_template(src, dst):
    """thong-bao.docx with a misspelt field ({{sumary}}) and a section never closed (the first
    {{/parent}} gone): two errors of one file, issue 14, item 1."""
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as w:
        for i in z.infolist():
            b = z.read(i.filename)
            if i.filename == "word/document.xml":
                t = b.decode()
                assert "{{summary}}" in t and "{{/parent}}" in t
                b = t.replace("{{summary}}", "{{sumary}}").replace("{{/parent}}", "", 1).encode()
            w.writestr(i, b)


class TemplateFields(unittest.TestCase):
    """vanthud -n and SIGHUP refuse a template whose tag is no field of its kind, with its other
    errors (issue 14, item 1)."""

    WANT = ("thong-bao.docx:word/document.xml", "{{#parent}} không được đóng",
            "{{sumary}} không phải là trường của loại văn bản ke-hoach, thong-bao "
            "(có phải là {{summary}}?)")

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="vanthu-fields-")
        os.chmod(self.tmp, 0o755)
        self.good = os.path.join(REPO, "build", "templates")
        self.tdir = os.path.join(self.tmp, "templates")
        shutil.copytree(self.good, self.tdir)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_check_lists_the_typo_with_the_other_error(self):
        broken_template(os.path.join(self.good, "thong-bao.docx"),
                        os.path.join(self.tdir, "thong-bao.docx"))
        d = Daemon(templates=self.tdir)
        try:
            p = subprocess.run([VANTHUD, "-n", "-c", d.conf], capture_output=True, timeout=60,
                               env=dict(os.environ, **SAN_ENV), cwd=d.root)
        finally:
            d.cleanup()
        out = (p.stdout + p.stderr).decode()
        self.assertEqual(p.returncode, 1, out)
        lines = [ln for ln in out.splitlines() if self.WANT[0] in ln]
        self.assertTrue(any(self.WANT[1] in ln for ln in lines), out)
        self.assertTrue(any(self.WANT[2] in ln for ln in lines), out)

    @unittest.skipUnless(IS_ROOT, "the daemon's socket group needs root")
    def test_reload_refuses_it_and_keeps_the_running_one(self):
        d = Daemon(templates=self.tdir)
        try:
            d.start()
            broken_template(os.path.join(self.good, "thong-bao.docx"),
                            os.path.join(self.tdir, "thong-bao.docx.part"))
            os.rename(os.path.join(self.tdir, "thong-bao.docx.part"),
                      os.path.join(self.tdir, "thong-bao.docx"))
            d.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 20
            while time.time() < deadline and self.WANT[2] not in d.read_log():
                time.sleep(0.1)
            log = d.read_log()
            self.assertIn(self.WANT[2], log)
            self.assertIn(self.WANT[1], log)
            self.assertIsNone(d.proc.poll(), "vanthud keeps running on its loaded templates")
            d.stop()
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
