"""End-to-end tests of the workflow: real uids draft, review, sign and issue; the register."""
import base64
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

from harness import (REPO, SAN_ENV, VANTHUCTL, VANTHUD, Daemon, DaemonTest, as_user, need_root,
                     IS_ROOT)

EXAMPLE = os.path.join(REPO, "workflows", "thong-bao", "examples", "tb-chuyen-doi-so.xml")


def doc_xml(summary="Kết luận của đồng chí Phó Chủ tịch UBND tỉnh tại cuộc họp", signer="vtt-chi"):
    text = open(EXAMPLE, encoding="utf-8").read()
    start = text.index("<summary>") + len("<summary>")
    end = text.index("</summary>")
    text = text[:start] + summary + text[end:]
    return text.replace('login="vtt-chi"', f'login="{signer}"' if signer else "")


class Relay:
    """A client connection opened as a given user (SO_PEERCRED sees that uid)."""

    # a daemon that dies mid-request must fail the test, never hang it
    CODE = ("import socket,sys\n"
            "s=socket.socket(socket.AF_UNIX);s.settimeout(120);s.connect(sys.argv[1]);"
            "f=s.makefile('rwb')\n"
            "for line in sys.stdin.buffer:\n"
            "    f.write(line);f.flush();r=f.readline()\n"
            "    if not r: sys.stdout.buffer.write(b'{\"ok\":false,\"error\":{\"code\":\"DEAD\","
            "\"message\":\"vanthud closed the connection\"}}\\n');sys.stdout.flush();sys.exit(1)\n"
            "    sys.stdout.buffer.write(r);sys.stdout.flush()\n")

    def __init__(self, sock, user):
        self.p = subprocess.Popen(["/usr/bin/python3", "-c", self.CODE, sock], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, preexec_fn=as_user(user) if user else None)

    def call(self, cmd, **args):
        self.p.stdin.write(json.dumps({"cmd": cmd, "args": args}).encode() + b"\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def close(self):
        self.p.stdin.close()
        self.p.wait(10)


def new_doc(relay, xml=None, kind="thong-bao"):
    content = base64.b64encode((xml or doc_xml()).encode()).decode()
    return relay.call("new", kind=kind, content=content)


@unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
class Flow(DaemonTest):

    def setUp(self):
        super().setUp()
        self.u = {n: Relay(self.d.socket, n) for n in
                  ("vtt-ana", "vtt-binh", "vtt-chi", "vtt-dung", "vtt-hai", "vtt-giang")}

    def tearDown(self):
        for r in self.u.values():
            r.close()
        super().tearDown()

    def act(self, user, id, action, comment=None):
        args = {"id": id, "action": action}
        if comment is not None:
            args["comment"] = comment
        return self.u[user].call("act", **args)

    def test_vanthuctl_edit_names_the_revision(self):
        xml = os.path.join(self.d.root, "tb-edit.xml")
        open(xml, "w", encoding="utf-8").write(doc_xml(summary="Bản đầu"))
        os.chmod(xml, 0o644)
        r = self.d.ctl("new", "thong-bao", xml, user="vtt-ana", json_out=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = r.json["result"]["id"]
        for revision in (2, 3):
            r = self.d.ctl("edit", str(doc), xml, user="vtt-hai")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.strip(), "Đã lưu bản thứ %d của văn bản số %d." % (revision, doc))
        show = self.d.ctl("show", str(doc), user="vtt-ana", json_out=True).json["result"]
        self.assertEqual(show["revision"], 3)
        self.assertEqual(show["editor"], "vtt-hai")

    def test_full_flow_with_real_uids_and_vanthuctl(self):
        xml = os.path.join(self.d.root, "tb.xml")
        open(xml, "w", encoding="utf-8").write(doc_xml())
        os.chmod(xml, 0o644)
        r = self.d.ctl("new", "thong-bao", xml, user="vtt-ana", json_out=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = r.json["result"]["id"]
        steps = [("vtt-ana", "submit"), ("vtt-binh", "approve"), ("vtt-chi", "sign"),
                 ("vtt-dung", "issue")]
        for user, action in steps:
            r = self.d.ctl(action, str(doc), user=user)
            self.assertEqual(r.returncode, 0, (user, action, r.stderr))
        show = self.d.ctl("show", str(doc), user="vtt-giang", json_out=True).json["result"]
        self.assertEqual(show["state"], "issued")
        self.assertEqual(show["state_label"], "Đã ban hành")
        self.assertEqual(show["symbol"], "01/TB-UBND")
        self.assertEqual(show["number"], 1)
        text = self.d.ctl("show", str(doc), user="vtt-giang").stdout
        self.assertIn("01/TB-UBND", text)
        self.assertIn("Đã ban hành", text)
        hist = self.d.ctl("history", str(doc), user="vtt-giang", json_out=True).json["result"]["history"]
        self.assertEqual([h["action"] for h in hist],
                         ["create", "submit", "approve", "sign", "issue", "publish"])
        self.assertEqual([h["actor"] for h in hist],
                         ["vtt-ana", "vtt-ana", "vtt-binh", "vtt-chi", "vtt-dung", "vtt-dung"])
        self.assertEqual(hist[-2]["detail"]["symbol"], "01/TB-UBND")
        self.assertTrue(hist[-1]["detail"]["path"].endswith("/outgoing/%s/01-TB-UBND.docx"
                                                            % show["issued_on"][:4]))
        reg = self.d.ctl("register", "--csv", user="vtt-dung")
        lines = reg.stdout.strip().splitlines()
        self.assertEqual(lines[0].split('","')[0], '\ufeff"Số, ký hiệu văn bản')  # Excel's BOM
        self.assertIn('"01/TB-UBND"', lines[1])
        self.assertIn("Sở TT&TT", lines[1])
        self.assertEqual(self.d.ctl("verify", user="vtt-giang").returncode, 0)

    def test_separation_of_duties(self):
        doc = new_doc(self.u["vtt-hai"])["result"]["id"]       # hai: drafter and clerk
        self.assertTrue(self.act("vtt-hai", doc, "submit")["ok"])
        # the reviewer cannot be the drafter; a drafter without the role cannot approve
        r = self.act("vtt-hai", doc, "approve")
        self.assertEqual(r["error"]["code"], "E_DENIED")
        r = self.act("vtt-ana", doc, "approve")
        self.assertEqual(r["error"]["code"], "E_DENIED")
        self.assertIn("người kiểm duyệt", r["error"]["message"])
        # only a signer signs, and nobody issues what is not signed
        r = self.act("vtt-dung", doc, "issue")
        self.assertEqual(r["error"]["code"], "E_STATE")
        self.assertTrue(self.act("vtt-binh", doc, "approve")["ok"])
        r = self.act("vtt-binh", doc, "sign")
        self.assertEqual(r["error"]["code"], "E_DENIED")
        r = self.act("vtt-dung", doc, "issue")
        self.assertEqual(r["error"]["code"], "E_STATE")
        self.assertIn("Chờ ký", r["error"]["message"])
        # return needs a comment
        r = self.act("vtt-chi", doc, "return")
        self.assertEqual(r["error"]["code"], "E_INVALID")
        self.assertTrue(self.act("vtt-chi", doc, "return", "Sửa lại phần kết luận")["ok"])
        # a reviewer who edited the draft may not approve it
        edit = self.u["vtt-hai"].call("edit", id=doc, content=base64.b64encode(
            doc_xml(summary="Bản sửa").encode()).decode())
        self.assertTrue(edit["ok"], edit)
        self.assertEqual(edit["result"]["revision"], 2)
        show = self.u["vtt-ana"].call("show", id=doc)["result"]
        self.assertEqual(show["revision"], 2)
        self.assertEqual(show["summary"], "Bản sửa")
        # edit only while a draft
        self.assertTrue(self.act("vtt-hai", doc, "submit")["ok"])
        r = self.u["vtt-ana"].call("edit", id=doc, content=base64.b64encode(doc_xml().encode()).decode())
        self.assertEqual(r["error"]["code"], "E_STATE")

    def test_named_signer_and_author_only(self):
        doc = new_doc(self.u["vtt-ana"], doc_xml(signer="someone-else"))["result"]["id"]
        r = self.act("vtt-hai", doc, "submit")
        self.assertEqual(r["error"]["code"], "E_DENIED")  # not the author
        self.assertTrue(self.act("vtt-ana", doc, "submit")["ok"])
        self.assertTrue(self.act("vtt-binh", doc, "approve")["ok"])
        r = self.act("vtt-chi", doc, "sign")
        self.assertEqual(r["error"]["code"], "E_DENIED")
        self.assertIn("someone-else", r["error"]["message"])
        r = self.act("vtt-ana", doc, "withdraw")
        self.assertEqual(r["error"]["code"], "E_INVALID")
        self.assertTrue(self.act("vtt-ana", doc, "withdraw", "Không ban hành nữa")["ok"])
        r = self.act("vtt-ana", doc, "submit")
        self.assertEqual(r["error"]["code"], "E_STATE")

    def test_bad_inputs(self):
        r = new_doc(self.u["vtt-ana"], "<thong-bao/>")
        self.assertEqual(r["error"]["code"], "E_INVALID")
        r = new_doc(self.u["vtt-ana"], doc_xml().replace('unit="SO-TTTT"', 'unit="KHONG-CO"'))
        self.assertEqual(r["error"]["code"], "E_INVALID")
        self.assertIn("KHONG-CO", r["error"]["message"])
        r = new_doc(self.u["vtt-ana"], kind="khong-co")
        self.assertEqual(r["error"]["code"], "E_NOT_FOUND")
        r = new_doc(self.u["vtt-binh"])
        self.assertEqual(r["error"]["code"], "E_DENIED")
        r = self.u["vtt-ana"].call("new", kind="thong-bao", content="%%%")
        self.assertEqual(r["error"]["code"], "E_INVALID")
        r = self.act("vtt-ana", 9999, "submit")
        self.assertEqual(r["error"]["code"], "E_NOT_FOUND")
        doc = new_doc(self.u["vtt-ana"])["result"]["id"]
        r = self.act("vtt-ana", doc, "fly")
        self.assertEqual(r["error"]["code"], "E_NOT_FOUND")

    def test_void_and_register(self):
        ids = []
        for _ in range(3):
            doc = new_doc(self.u["vtt-ana"])["result"]["id"]
            for user, action in (("vtt-ana", "submit"), ("vtt-binh", "approve"), ("vtt-chi", "sign"),
                                 ("vtt-dung", "issue")):
                self.assertTrue(self.act(user, doc, action)["ok"])
            ids.append(doc)
        year = self.u["vtt-dung"].call("register")["result"]["year"]
        r = self.u["vtt-dung"].call("void", year=year, number=2)
        self.assertEqual(r["error"]["code"], "E_INVALID")
        r = self.u["vtt-ana"].call("void", year=year, number=2, reason="x")
        self.assertEqual(r["error"]["code"], "E_DENIED")
        self.assertTrue(self.u["vtt-dung"].call("void", year=year, number=2,
                                                reason="Ban hành nhầm")["ok"])
        r = self.u["vtt-dung"].call("void", year=year, number=2, reason="lần nữa")
        self.assertEqual(r["error"]["code"], "E_STATE")
        self.assertIn("đã bị hủy trước đó", r["error"]["message"])
        r = self.u["vtt-dung"].call("void", year=year, number=9, reason="không có")
        self.assertEqual(r["error"]["code"], "E_NOT_FOUND")
        reg = self.u["vtt-giang"].call("register")["result"]["entries"]
        self.assertEqual([e["number"] for e in reg], [1, 2, 3])
        self.assertEqual(reg[1]["void_reason"], "Ban hành nhầm")
        # the voided number is never given again
        doc = new_doc(self.u["vtt-ana"])["result"]["id"]
        for user, action in (("vtt-ana", "submit"), ("vtt-binh", "approve"), ("vtt-chi", "sign")):
            self.act(user, doc, action)
        self.assertEqual(self.act("vtt-dung", doc, "issue")["result"]["symbol"], "04/TB-UBND")
        text = self.d.ctl("register", user="vtt-dung").stdout
        self.assertIn("SỔ ĐĂNG KÝ VĂN BẢN ĐI", text)
        self.assertIn("ĐÃ HỦY: Ban hành nhầm", text)
        # the register refuses edits even to another program
        con = sqlite3.connect(self.d.db)
        with self.assertRaises(sqlite3.DatabaseError):
            con.execute("UPDATE register SET number = 9 WHERE number = 1")
        with self.assertRaises(sqlite3.DatabaseError):
            con.execute("DELETE FROM register")
        with self.assertRaises(sqlite3.DatabaseError):
            con.execute("UPDATE register SET summary = 'sửa' WHERE number = 1")
        with self.assertRaises(sqlite3.DatabaseError):
            con.execute("UPDATE register SET void_reason = 'x' WHERE number = 2")
        con.close()

    def test_clerk_commands_refuse_and_name(self):
        doc = new_doc(self.u["vtt-ana"])["result"]["id"]
        # a filter that names nothing is a mistake, said with what there is
        r = self.d.ctl("list", "--state", "nope", user="vtt-giang", json_out=True)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.json["error"]["code"], "E_INVALID")
        self.assertIn("draft (Dự thảo)", r.json["error"]["message"])
        r = self.d.ctl("list", "--kind", "nope", user="vtt-giang", json_out=True)
        self.assertEqual(r.json["error"]["code"], "E_INVALID")
        self.assertIn("thong-bao (Thông báo)", r.json["error"]["message"])
        r = self.d.ctl("list", "--kind", "thong-bao", "--state", "draft", user="vtt-giang",
                       json_out=True)
        self.assertEqual([d["id"] for d in r.json["result"]["documents"]], [doc])
        # show names the login who may sign
        shown = self.d.ctl("show", str(doc), user="vtt-giang").stdout
        self.assertIn("(tài khoản ký: vtt-chi)", shown)
        # render without -o names the file: a draft's, then the issued one's own name
        work = tempfile.mkdtemp(dir=self.d.root)
        os.chmod(work, 0o777)
        r = subprocess.run([VANTHUCTL, "-s", self.d.socket, "render", str(doc)], cwd=work,
                           capture_output=True, preexec_fn=as_user("vtt-ana"), env=dict(os.environ, **SAN_ENV))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(os.listdir(work)), ["du-thao-%d.docx" % doc])
        for user, action in (("vtt-ana", "submit"), ("vtt-binh", "approve"), ("vtt-chi", "sign"),
                             ("vtt-dung", "issue")):
            self.assertTrue(self.act(user, doc, action)["ok"])
        r = subprocess.run([VANTHUCTL, "-s", self.d.socket, "--json", "render", str(doc)], cwd=work,
                           capture_output=True, preexec_fn=as_user("vtt-ana"), env=dict(os.environ, **SAN_ENV))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(out["result"]["path"], "01-TB-UBND.docx")
        self.assertTrue(os.path.exists(os.path.join(work, "01-TB-UBND.docx")))
        # a file that cannot be written here is a refusal (1), not a usage error (2)
        r = self.d.ctl("render", str(doc), "-o", "/nonexistent/x.docx", user="vtt-ana")
        self.assertEqual(r.returncode, 1, r.stderr)
        # void: without -m the hint says what is missing; voided, the document says so
        year = self.u["vtt-dung"].call("register")["result"]["year"]
        r = self.d.ctl("void", "1", "--year", str(year), user="vtt-dung")
        self.assertEqual(r.returncode, 2)
        self.assertIn("phải ghi rõ lý do", r.stderr)
        r = self.d.ctl("void", "1", "--year", str(year), "-m", "Ban hành nhầm", user="vtt-dung")
        self.assertEqual(r.returncode, 0, r.stderr)
        shown = self.d.ctl("show", str(doc), user="vtt-giang").stdout
        self.assertIn("ĐÃ HỦY SỐ — Ban hành nhầm (vtt-dung", shown)
        r = subprocess.run([VANTHUCTL, "-s", self.d.socket, "render", str(doc)], cwd=work,
                           capture_output=True, preexec_fn=as_user("vtt-ana"), env=dict(os.environ, **SAN_ENV))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ĐÃ BỊ HỦY (Ban hành nhầm)", r.stdout.decode())
        self.assertTrue(os.path.exists(os.path.join(work, "01-TB-UBND-DA-HUY-SO.docx")))

    def test_register_continues_the_paper_register(self):
        year = self.u["vtt-dung"].call("register")["result"]["year"]
        args = ("register", "start", "--next", "3552", "--year", str(year))
        # an admin's step: a clerk is told who may
        r = self.d.ctl(*args, "-m", "sổ giấy đến số 3551", user="vtt-dung", json_out=True)
        self.assertEqual(r.json["error"]["code"], "E_DENIED")
        self.assertIn("quản trị (admin)", r.json["error"]["message"])
        # without a reason, refused before it reaches the daemon
        self.assertEqual(self.d.ctl(*args, user="vtt-lan").returncode, 2)
        r = self.d.ctl(*args, "-m", "Sổ đăng ký giấy năm nay đã cấp đến số 3551", user="vtt-lan")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("sẽ mang số 3552", r.stdout)
        # once only
        r = self.d.ctl(*args, "-m", "lần nữa", user="vtt-lan", json_out=True)
        self.assertEqual(r.json["error"]["code"], "E_STATE")
        reg = self.u["vtt-giang"].call("register")["result"]
        self.assertEqual((reg["next"], reg["start"]), (3552, 3552))
        self.assertIn("văn bản đầu tiên sẽ mang số 3552", self.d.ctl("register", user="vtt-dung").stdout)
        # the series continues from there, gapless
        symbols = []
        for _ in range(2):
            doc = new_doc(self.u["vtt-ana"])["result"]["id"]
            for user, action in (("vtt-ana", "submit"), ("vtt-binh", "approve"), ("vtt-chi", "sign"),
                                 ("vtt-dung", "issue")):
                res = self.act(user, doc, action)
                self.assertTrue(res["ok"], res)
            symbols.append(res["result"]["symbol"])
        self.assertEqual(symbols, ["3552/TB-UBND", "3553/TB-UBND"])
        self.assertTrue(os.path.exists(os.path.join(self.d.spool, "outgoing", str(year),
                                                    "3552-TB-UBND.docx")))
        # after an issue the start can no longer move, for nobody may go back or over a number
        r = self.d.ctl("register", "start", "--next", "10", "--year", str(year), "-m", "lùi",
                       user="vtt-lan", json_out=True)
        self.assertEqual(r.json["error"]["code"], "E_STATE")
        self.assertIn("đã có 2 văn bản", r.json["error"]["message"])
        # another year's series is its own
        r = self.d.ctl("register", "start", "--next", "7", "--year", str(year + 1), "-m", "sổ giấy",
                       user="vtt-lan")
        self.assertEqual(r.returncode, 0, r.stderr)
        audit = [e for e in self.d.ctl("audit", "--limit", "100", user="vtt-giang",
                                       json_out=True).json["result"]["entries"]
                 if e["action"] == "register.start"]
        self.assertEqual(len(audit), 2)
        for e in audit:
            e["detail"] = json.loads(e["detail"]) if isinstance(e["detail"], str) else e["detail"]
        first = [e for e in audit if e["detail"]["series"] == str(year)]
        self.assertEqual(len(first), 1)
        self.assertEqual(first[0]["detail"]["reason"], "Sổ đăng ký giấy năm nay đã cấp đến số 3551")
        self.assertEqual(first[0]["detail"]["next"], 3552)
        self.assertEqual(first[0]["actor"], "vtt-lan")
        con = sqlite3.connect(self.d.db)
        with self.assertRaises(sqlite3.DatabaseError):
            con.execute("UPDATE register_start SET next = 1")
        with self.assertRaises(sqlite3.DatabaseError):
            con.execute("DELETE FROM register_start")
        con.close()

    def test_cong_van_symbol(self):
        xml = """<?xml version="1.0" encoding="UTF-8"?>
<cong-van xmlns="urn:vanthu:document:1">
  <drafting-unit>SNV</drafting-unit>
  <urgency>KHẨN</urgency>
  <summary>V/v báo cáo kết quả chuyển đổi số quý I năm 2024</summary>
  <to unit="SO-TTTT"/>
  <body><p>Ủy ban nhân dân tỉnh đề nghị các đơn vị báo cáo.</p></body>
  <signer><line>KT. CHỦ TỊCH</line><line>PHÓ CHỦ TỊCH</line><name>Đặng Minh Thông</name></signer>
  <archive>VT, SNV</archive>
</cong-van>"""
        doc = new_doc(self.u["vtt-ana"], xml, kind="cong-van")
        self.assertTrue(doc["ok"], doc)
        doc = doc["result"]["id"]
        for user, action in (("vtt-ana", "submit"), ("vtt-binh", "approve"), ("vtt-chi", "sign")):
            self.assertTrue(self.act(user, doc, action)["ok"])
        self.assertEqual(self.act("vtt-dung", doc, "issue")["result"]["symbol"], "01/UBND-SNV")

    def test_concurrent_issuing_is_gapless(self):
        docs = []
        for _ in range(12):
            d = new_doc(self.u["vtt-ana"])["result"]["id"]
            for user, action in (("vtt-ana", "submit"), ("vtt-binh", "approve"), ("vtt-chi", "sign")):
                self.assertTrue(self.act(user, d, action)["ok"])
            docs.append(d)
        # several clerk clients issue at the same moment
        clerks = [Relay(self.d.socket, "vtt-dung") for _ in range(4)]
        for i, d in enumerate(docs):
            c = clerks[i % 4]
            c.p.stdin.write(json.dumps({"cmd": "act", "args": {"id": d, "action": "issue"}}).encode()
                            + b"\n")
        for c in clerks:
            c.p.stdin.flush()
        got = []
        for i, d in enumerate(docs):
            got.append(json.loads(clerks[i % 4].p.stdout.readline()))
        for c in clerks:
            c.close()
        self.assertTrue(all(g["ok"] for g in got), got)
        numbers = sorted(int(g["result"]["symbol"].split("/")[0]) for g in got)
        self.assertEqual(numbers, list(range(1, 13)))

    def test_list_and_overdue(self):
        a = new_doc(self.u["vtt-ana"])["result"]["id"]
        b = new_doc(self.u["vtt-hai"])["result"]["id"]
        self.act("vtt-ana", a, "submit")
        mine = self.u["vtt-ana"].call("list", mine=True)["result"]["documents"]
        self.assertEqual([d["id"] for d in mine], [a])
        review = self.u["vtt-giang"].call("list", state="review")["result"]["documents"]
        self.assertEqual([d["id"] for d in review], [a])
        self.assertEqual(review[0]["state_label"], "Chờ duyệt")
        self.assertEqual(self.u["vtt-giang"].call("overdue")["result"]["documents"], [])
        self.assertIn(b, [d["id"] for d in self.u["vtt-giang"].call("list")["result"]["documents"]])
        show = self.u["vtt-binh"].call("show", id=a)["result"]
        self.assertEqual([x["action"] for x in show["actions"]], ["approve", "return"])
        self.assertFalse(show["overdue"])


@unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
class Clock(unittest.TestCase):
    """The test build's clock (VANTHU_FAKE_NOW): year rollover and time limits."""

    def run_daemon(self, when):
        return Daemon().start(now=when)

    def issue_one(self, users):
        d_id = new_doc(users["vtt-ana"])["result"]["id"]
        for user, action in (("vtt-ana", "submit"), ("vtt-binh", "approve"), ("vtt-chi", "sign")):
            self.assertTrue(users[user].call("act", id=d_id, action=action)["ok"])
        return users["vtt-dung"].call("act", id=d_id, action="issue")["result"]

    def test_year_rollover(self):
        d = self.run_daemon("2026-12-31T23:59:57")
        try:
            users = {n: Relay(d.socket, n) for n in ("vtt-ana", "vtt-binh", "vtt-chi", "vtt-dung")}
            first = self.issue_one(users)
            second = self.issue_one(users)
            self.assertEqual(first["symbol"], "01/TB-UBND")
            self.assertEqual(second["symbol"], "02/TB-UBND")
            time.sleep(4)
            third = self.issue_one(users)
            self.assertEqual(third["symbol"], "01/TB-UBND")
            reg26 = users["vtt-dung"].call("register", year=2026)["result"]["entries"]
            reg27 = users["vtt-dung"].call("register", year=2027)["result"]["entries"]
            self.assertEqual([e["number"] for e in reg26], [1, 2])
            self.assertEqual([(e["number"], e["issued_on"]) for e in reg27], [(1, "2027-01-01")])
            for u in users.values():
                u.close()
            d.stop()
        finally:
            d.cleanup()

    def test_overdue_after_the_limit(self):
        d = self.run_daemon("2026-03-02T08:00:00")
        try:
            ana = Relay(d.socket, "vtt-ana")
            doc = new_doc(ana)["result"]["id"]
            self.assertTrue(ana.call("act", id=doc, action="submit")["ok"])
            ana.close()
            d.stop()
            # three days later the review (limit 2 days) is overdue
            d.start(now="2026-03-05T09:00:00")
            r = d.ctl("overdue", user="vtt-giang", json_out=True)
            docs = r.json["result"]["documents"]
            self.assertEqual([x["id"] for x in docs], [doc])
            self.assertEqual(docs[0]["days_over"], 1)
            self.assertIn("quá 1 ngày làm việc", d.ctl("overdue", user="vtt-giang").stdout)
            d.stop()
        finally:
            d.cleanup()

    def test_time_limits_count_working_days(self):
        # submitted on Friday 13 February 2026, the eve of Tết: on Tuesday 24 February,
        # eleven calendar days later, only Monday 23 and Tuesday 24 were working days
        d = self.run_daemon("2026-02-13T08:00:00")
        try:
            ana = Relay(d.socket, "vtt-ana")
            doc = new_doc(ana)["result"]["id"]
            self.assertTrue(ana.call("act", id=doc, action="submit")["ok"])
            ana.close()
            d.stop()
            d.start(now="2026-02-24T16:00:00")
            self.assertEqual(d.ctl("overdue", user="vtt-giang", json_out=True)
                             .json["result"]["documents"], [])
            show = d.ctl("show", str(doc), user="vtt-giang", json_out=True).json["result"]
            self.assertEqual(show["working_days"], 2)
            self.assertFalse(show["overdue"])
            d.stop()
            d.start(now="2026-02-25T09:00:00")
            self.assertEqual([x["id"] for x in d.ctl("overdue", user="vtt-giang", json_out=True)
                              .json["result"]["documents"]], [doc])
            d.stop()
        finally:
            d.cleanup()

    def test_release_build_ignores_the_fake_clock(self):
        release = os.path.join(REPO, "build", "vanthud")
        self.assertTrue(os.path.exists(release), "make check builds the release binary too")
        out = subprocess.run(["strings", release], capture_output=True).stdout
        self.assertFalse(b"VANTHU_FAKE_NOW" in out, "the release build reads the fake clock")
        san = subprocess.run(["strings", VANTHUD], capture_output=True).stdout
        self.assertTrue(b"VANTHU_FAKE_NOW" in san, "the test build should read it")


@unittest.skipUnless(IS_ROOT, "needs root to act as several real users")
class ModelBased(DaemonTest):
    """Thousands of random actions by random users, checked against a model after each step."""

    USERS = {"vtt-ana": {"drafter"}, "vtt-hai": {"drafter", "clerk"}, "vtt-binh": {"reviewer"},
             "vtt-chi": {"signer"}, "vtt-dung": {"clerk"}, "vtt-giang": {"auditor"}}
    FLOW = {  # action: (from states, to, roles, comment, not_author, author_only, named_signer)
        "submit": ({"draft"}, "review", {"drafter"}, False, False, True, False),
        "approve": ({"review"}, "signing", {"reviewer"}, False, True, False, False),
        "return": ({"review", "signing"}, "draft", {"reviewer", "signer"}, True, False, False, False),
        "sign": ({"signing"}, "signed", {"signer"}, False, True, False, True),
        "issue": ({"signed"}, "issued", {"clerk"}, False, False, False, False),
        "withdraw": ({"draft", "review", "signing"}, "withdrawn", {"drafter", "admin"}, True, False,
                     True, False),
    }

    def test_random_actions(self):
        rng = random.Random(int(os.environ.get("VANTHU_MODEL_SEED", "20261122")))
        relays = {u: Relay(self.d.socket, u) for u in self.USERS}
        docs = {}   # id -> dict(state, drafter, editor, signer)
        issued = []
        steps = int(os.environ.get("VANTHU_MODEL_STEPS", "2000"))
        for step in range(steps):
            user = rng.choice(list(self.USERS))
            roles = self.USERS[user]
            r = rng.random()
            if r < 0.12 or not docs:
                signer = rng.choice(["vtt-chi", None])
                res = new_doc(relays[user], doc_xml(signer=signer))
                allowed = "drafter" in roles
                self.assertEqual(res["ok"], allowed, (step, user, res))
                if res["ok"]:
                    docs[res["result"]["id"]] = {"state": "draft", "drafter": user, "editor": user,
                                                 "signer": signer}
                continue
            doc_id = rng.choice(list(docs))
            doc = docs[doc_id]
            if r < 0.2:
                res = relays[user].call("edit", id=doc_id, content=base64.b64encode(
                    doc_xml(summary=f"Bản sửa {step}", signer=doc["signer"]).encode()).decode())
                allowed = doc["state"] == "draft" and "drafter" in roles
                self.assertEqual(res["ok"], allowed, (step, user, doc, res))
                if allowed:
                    doc["editor"] = user
                continue
            # mostly a step the document could take, by someone who might take it; sometimes anything
            fitting = [a for a, f in self.FLOW.items() if doc["state"] in f[0] and a != "withdraw"]
            if fitting and rng.random() < 0.75:
                action = rng.choice(fitting)
                able = [u for u, rs in self.USERS.items() if rs & self.FLOW[action][2]]
                if rng.random() < 0.7:
                    user = rng.choice(able)
                    roles = self.USERS[user]
            else:
                action = rng.choice(list(self.FLOW))
            comment = rng.choice([None, "Ý kiến"])
            frm, to, need, needs_comment, not_author, author_only, named = self.FLOW[action]
            allowed = (doc["state"] in frm and roles & need
                       and not (author_only and user != doc["drafter"] and "admin" not in roles)
                       and not (not_author and user in (doc["drafter"], doc["editor"]))
                       and not (named and doc["signer"] and doc["signer"] != user)
                       and not (needs_comment and not comment))
            args = {"id": doc_id, "action": action}
            if comment:
                args["comment"] = comment
            res = relays[user].call("act", **args)
            self.assertEqual(bool(res["ok"]), bool(allowed), (step, user, action, doc, res))
            if not res["ok"]:
                self.assertIn(res["error"]["code"], ("E_STATE", "E_DENIED", "E_INVALID"))
                if doc["state"] not in frm:
                    self.assertEqual(res["error"]["code"], "E_STATE")
                continue
            doc["state"] = to
            if action == "issue":
                issued.append(int(res["result"]["symbol"].split("/")[0]))
                # numbers are gapless: always the next one
                self.assertEqual(sorted(issued), list(range(1, len(issued) + 1)))
            if step % 250 == 0:
                self.check_replay(relays["vtt-giang"], docs)
        self.check_replay(relays["vtt-giang"], docs)
        v = relays["vtt-giang"].call("verify")["result"]
        self.assertTrue(v["intact"], v)
        reg = relays["vtt-giang"].call("register")["result"]["entries"]
        self.assertEqual([e["number"] for e in reg], list(range(1, len(issued) + 1)))
        self.assertGreater(len(issued), 20, "the walk should issue many documents")
        for r in relays.values():
            r.close()

    def check_replay(self, relay, docs):
        for doc_id, doc in docs.items():
            show = relay.call("show", id=doc_id)["result"]
            self.assertEqual(show["state"], doc["state"])
            hist = relay.call("history", id=doc_id)["result"]["history"]
            state = None
            for h in hist:
                d = h["detail"]
                if "to" not in d:
                    continue  # not a step: the publishing of the issued file
                self.assertEqual(d["from"] or None, state if h["action"] != "create" else None)
                state = d["to"]
            self.assertEqual(state, show["state"])


class IntakeHistory(DaemonTest):

    def test_intake_outcomes_in_the_same_history(self):
        from intake_util import drop, report, wait_receipts
        drop(self.d.spool, "a.xml", report())
        drop(self.d.spool, "b.xml", b"<hong")
        wait_receipts(self.d.spool, 2)
        entries = self.d.ctl("audit", "--limit", "50", json_out=True).json["result"]["entries"]
        intake = [e for e in entries if e["action"] == "report.intake"]
        self.assertEqual(len(intake), 2)
        outcomes = sorted(json.loads(e["detail"])["to"] for e in intake)
        self.assertEqual(outcomes, ["accepted", "rejected"])
        self.assertTrue(all(json.loads(e["detail"])["from"] == "received" for e in intake))
        self.assertTrue(self.d.ctl("verify", json_out=True).json["result"]["intact"])


class Definitions(unittest.TestCase):

    def test_invalid_workflow_refused_by_check_and_reload(self):
        d = Daemon()
        try:
            wf = os.path.join(d.root, "workflows")
            shutil.copytree(os.path.join(REPO, "workflows"), wf)
            d.write_config(workflows=wf)
            d.start()
            path = os.path.join(wf, "thong-bao", "workflow.xml")
            good = open(path, encoding="utf-8").read()
            bad = good.replace('to="review"', 'to="nowhere"', 1)
            open(path, "w", encoding="utf-8").write(bad)
            r = subprocess.run([VANTHUD, "-n", "-c", d.conf], capture_output=True, timeout=30,
                               env=dict(os.environ, **SAN_ENV))
            self.assertEqual(r.returncode, 1)
            self.assertIn('trạng thái không có "nowhere"'.encode(), r.stderr)
            d.proc.send_signal(signal.SIGHUP)
            time.sleep(1)
            self.assertIn("reload refused", d.read_log())
            # the running definition stays: the flow still works
            self.assertEqual(d.ctl("ping").returncode, 0)
            open(path, "w", encoding="utf-8").write(good.replace('label="Chờ duyệt"',
                                                                  'label="Chờ kiểm duyệt"'))
            d.proc.send_signal(signal.SIGHUP)
            time.sleep(1)
            open(path, "w", encoding="utf-8").write("<workflow")
            r = subprocess.run([VANTHUD, "-n", "-c", d.conf], capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 1)
            d.stop()
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
