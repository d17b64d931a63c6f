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
    return {
        "id": int(root.get("id")),
        "outcome": root.find("r:outcome", NS).text,
        "file": root.find("r:file", NS).text,
        "folder": root.find("r:file", NS).get("folder"),
        "sha256": root.find("r:sha256", NS).text,
        "report": int(rep.get("id")) if rep is not None else None,
        "supersedes": int(sup.get("report")) if sup is not None else None,
        "unit": unit.get("code") if unit is not None else None,
        "document": int(doc.get("id")) if doc is not None else None,
        "errors": errors,
        "codes": [e[0] for e in errors],
        "path": path,
        "text": open(path[:-4] + ".txt", encoding="utf-8").read(),
    }
