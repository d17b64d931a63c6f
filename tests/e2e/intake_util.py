"""intake_util.py: building reports and reading receipts for the intake tests."""
import glob
import os
import time
import xml.etree.ElementTree as ET

NS = {"r": "urn:vanthu:receipt:1"}

REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<report xmlns="urn:vanthu:report:1" version="1">
  <unit code="{unit}">Ủy ban nhân dân xã Phước Hội</unit>
  <round id="{round}">
    <request number="125" symbol="UBND-VP" date="2024-03-10"/>
  </round>
  <number>{number}</number>
  <symbol>BC-UBND</symbol>
  <place>Phước Hội</place>
  <date>{date}</date>
  <summary>{summary}</summary>
  <period from="{pfrom}" to="{pto}"/>
  <body>
    <section>
      <title>I. KẾT QUẢ THỰC HIỆN</title>
      <p>Tiếp nhận {value} hồ sơ trong quý.</p>
      <section><title>1. Dịch vụ công</title><p>Đạt yêu cầu.</p></section>
    </section>
  </body>
  <indicators>
    <indicator code="HS-TIEP-NHAN" measure="hồ sơ"><name>Số hồ sơ tiếp nhận</name><value>{value}</value></indicator>
    <indicator code="DVC-TT" measure="%"><name>Tỷ lệ hồ sơ trực tuyến</name><value>47.2</value><target>50</target></indicator>
  </indicators>
  <signer authority="TM."><title>Chủ tịch</title><name>Huỳnh Văn Út</name></signer>
</report>
"""


def report(unit="XA-PHUOC-HOI", round="CDS-2024-Q1", number=18, date="2024-03-27",
           summary="Kết quả triển khai chuyển đổi số quý I năm 2024", pfrom="2024-01-01",
           pto="2024-03-31", value=612):
    return REPORT.format(unit=unit, round=round, number=number, date=date, summary=summary,
                         pfrom=pfrom, pto=pto, value=value).encode("utf-8")


def drop(spool, name, data, folder="", safe=True):
    """Writes a file into incoming/ the safe way (.part, then rename) unless safe is False."""
    d = os.path.join(spool, "incoming", folder)
    os.makedirs(d, exist_ok=True)
    final = os.path.join(d, name)
    if not safe:
        with open(final, "wb") as fh:
            fh.write(data)
        return final
    tmp = os.path.join(d, "." + name.replace("\n", "_") + ".part")
    if len(os.fsencode(os.path.basename(tmp))) > 255:     # a name near the limit
        tmp = os.path.join(d, ".drop-%d-%d.part" % (os.getpid(), time.monotonic_ns()))
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.rename(tmp, final)
    return final


def receipts(spool):
    return sorted(glob.glob(os.path.join(spool, "receipts", "**", "*.receipt.xml"), recursive=True))


def wait_receipts(spool, count, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = receipts(spool)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"expected {count} receipts, found {len(receipts(spool))}")


def read_receipt(path):
    root = ET.parse(path).getroot()
    errors = [(e.get("code"), int(e.get("line")), e.text or "")
              for e in root.findall("r:errors/r:error", NS)]
    rep = root.find("r:report", NS)
    sup = root.find("r:supersedes", NS)
    unit = root.find("r:unit", NS)
    doc = root.find("r:document", NS)
    with open(path[:-4] + ".txt", encoding="utf-8") as fh:
        text = fh.read()
    return {
        "id": int(root.get("id")),
        "outcome": root.find("r:outcome", NS).text,
        "file": root.find("r:file", NS).text,
        "folder": root.find("r:file", NS).get("folder"),
        "sha256": root.find("r:sha256", NS).text if root.find("r:sha256", NS) is not None else None,
        "size": int(root.find("r:size", NS).text) if root.find("r:size", NS) is not None else None,
        "report": int(rep.get("id")) if rep is not None else None,
        "supersedes": int(sup.get("report")) if sup is not None else None,
        "unit": unit.get("code") if unit is not None else None,
        "document": int(doc.get("id")) if doc is not None else None,
        "errors": errors,
        "codes": [e[0] for e in errors],
        "path": path,
        "text": text,
    }


# ---- names as shown (spool/README.md, "Names"), written here from the rule, not from names.c ----

def _escaped(cp):
    if cp < 0x20 or cp == 0x7F or 0x80 <= cp <= 0x9F:
        return True
    if cp < 0x80:
        return chr(cp) in '%\\:*?"<>|'
    return (cp == 0x061C or 0x200B <= cp <= 0x200F or 0x2028 <= cp <= 0x202E
            or 0x2060 <= cp <= 0x206F or cp == 0xFEFF)


def shown(raw):
    """The shown form of a raw name (bytes, or str taken as UTF-8)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    out, i = [], 0
    while i < len(raw):
        for n in (1, 2, 3, 4):
            try:
                ch = raw[i:i + n].decode("utf-8")
                break
            except UnicodeDecodeError:
                ch = None
        if ch is None or len(ch) != 1:
            out.append("%%%02X" % raw[i])
            i += 1
            continue
        b = ch.encode("utf-8")
        out.append("".join("%%%02X" % x for x in b) if _escaped(ord(ch)) else ch)
        i += len(b)
    return "".join(out)


def unshow(s):
    import re
    return re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), s.encode("utf-8"))


def stem(raw):
    """A receipt's file-name stem: the shown name, or when over 200 bytes its start and a hash."""
    import hashlib
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    s = shown(raw)
    if len(s.encode("utf-8")) <= 200:
        return s
    cut, i = "", 0
    while i < len(s):
        step = s[i:i + 3] if s[i] == "%" else s[i]
        if len((cut + step).encode("utf-8")) > 191:
            break
        cut += step
        i += len(step)
    return cut + "~" + hashlib.sha256(raw).hexdigest()[:8]


def person_folder(spool, login):
    """incoming/@login/: the folder of one person (a drafter, a clerk), as spool/README.md sets it up:
    owned by the login, group vanthud's (here root's), mode 2770. Returns its path."""
    import pwd
    pw = pwd.getpwnam(login)
    d = os.path.join(spool, "incoming", "@" + login)
    os.makedirs(d, exist_ok=True)
    os.chown(d, pw.pw_uid, os.getegid())
    os.chmod(d, 0o2770)
    return d


def person_drop(spool, login, name, data):
    """Drops data as name into login's own folder, the file owned by login, by rename."""
    import pwd
    d = person_folder(spool, login)
    tmp = os.path.join(d, "." + name + ".part")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.chown(tmp, pwd.getpwnam(login).pw_uid, -1)
    os.rename(tmp, os.path.join(d, name))
    return os.path.join(d, name)
