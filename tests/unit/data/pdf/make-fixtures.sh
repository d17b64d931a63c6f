#!/bin/sh
# make-fixtures.sh: rebuilds the PDF fixtures of test_pdf.c from a DOCX made here with
# python-docx: two pages, Vietnamese text, a bookmark "vanthuSo" on page 1 and "vanthuNgay"
# on page 2, exported by LibreOffice with bookmarks as named destinations (PDF/A-2b).
# Run from anywhere: sh tests/unit/data/pdf/make-fixtures.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/lo.docx" <<'PY'
import sys
import docx
from docx.oxml.ns import qn
from docx.oxml import OxmlElement

def bookmark(par, name, bid):
    s = OxmlElement('w:bookmarkStart'); s.set(qn('w:id'), str(bid)); s.set(qn('w:name'), name)
    e = OxmlElement('w:bookmarkEnd'); e.set(qn('w:id'), str(bid))
    par._p.append(s); par.add_run('Số: ....'); par._p.append(e)

d = docx.Document()
d.add_paragraph('ỦY BAN NHÂN DÂN TỈNH')
bookmark(d.add_paragraph(), 'vanthuSo', 1)
d.add_paragraph('THÔNG BÁO kết luận của Chủ tịch Ủy ban nhân dân tỉnh')
for i in range(30):
    d.add_paragraph('Đoạn văn bản thứ %d: nội dung thông báo, tiếng Việt có dấu.' % (i + 1))
d.add_page_break()
bookmark(d.add_paragraph(), 'vanthuNgay', 2)
d.add_paragraph('Nơi nhận: như trên.')
d.save(sys.argv[1])
PY
cd "$tmp"
HOME="$tmp" soffice --headless --norestore \
  --convert-to 'pdf:writer_pdf_Export:{"ExportBookmarksToPDFDestination":{"type":"boolean","value":"true"},"SelectPdfVersion":{"type":"long","value":"2"}}' \
  lo.docx >/dev/null 2>&1
cp lo.pdf "$here/lo.pdf"
