"""exchange_util.py: offices that exchange documents, for the exchange's end-to-end tests.

An Office is one vanthud (the sanitizer build) with everything an office of
the exchange has: its own test PKI and SoftHSMv2 tokens (tests/tools/pki.py;
every office trusts every office's CA, as offices trust VGCA's), a seal and a
leader's signature image, [signing], an [organisation] id, its own units.xml
(whose units carry the other offices' ids) and an [exchange] section (NATS or
the folder transport). issue() takes a document through the whole workflow:
drafted by vtt-ana, submitted, approved by vtt-binh, signed with the leader's
token by vtt-chi (vanthuctl sign --pkcs11), issued by vtt-dung.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import time

from harness import Daemon, REPO

sys.path.insert(0, os.path.join(REPO, "tests", "tools"))
import pki  # noqa: E402
from test_esign import seal_png, signature_png  # noqa: E402

PROVINCE_ID = "000.00.00.H02"
DEPARTMENT_ID = "000.00.14.H02"
COMMUNE_ID = "001.14.32.H02"

EXAMPLE = os.path.join(REPO, "workflows", "thong-bao", "examples", "tb-chuyen-doi-so.xml")

UNITS_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<units xmlns="urn:vanthu:units:1">
  <group code="cap-tren" label="Cơ quan cấp trên"/>
  <group code="so-nganh" label="Sở, ban, ngành"/>
  <group code="cap-xa" label="UBND các xã, phường, thị trấn"/>
"""

# code: (group, name, short, id or None)
UNITS = {
    "UBND-TINH": ("cap-tren", "Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu", "UBND tỉnh", PROVINCE_ID),
    "SO-TTTT": ("so-nganh", "Sở Thông tin và Truyền thông", "Sở TT&amp;TT", DEPARTMENT_ID),
    "XA-PHUOC-HOI": ("cap-xa", "Ủy ban nhân dân xã Phước Hội", "UBND xã Phước Hội", COMMUNE_ID),
    "SO-NV": ("so-nganh", "Sở Nội vụ", "Sở Nội vụ", None),  # no id: paper
}


def units_xml(codes):
    out = [UNITS_HEAD]
    for c in codes:
        g, name, short, uid = UNITS[c]
        ident = f' id="{uid}"' if uid else ""
        out.append(f'  <unit code="{c}" group="{g}"{ident}>\n    <name>{name}</name>\n'
                   f'    <short>{short}</short>\n  </unit>\n')
    out.append("</units>\n")
    return "".join(out)


def run(*cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def make_pkis(top, names):
    """One PKI per office in top/NAME/pki, and top/trust.pem holding every office's CAs."""
    infos = {}
    trust = os.path.join(top, "trust.pem")
    with open(trust, "w") as out:
        for n in names:
            d = os.path.join(top, n, "pki")
            os.makedirs(d, exist_ok=True)
            infos[n] = pki.make(d)
            with open(infos[n]["trust_all"]) as f:
                out.write(f.read())
    run("chmod", "-R", "a+rwX", top)
    return infos, trust


class Office:
    """One office's vanthud with [signing] and [exchange]."""

    def __init__(self, top, name, *, org_name, abbrev, org_id, units, info, trust,
                 exchange):
        self.name = name
        self.dir = os.path.join(top, name)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.pki = info
        self.org_id = org_id
        self.softhsm = info["softhsm2_conf"]
        self.out = os.path.join(self.dir, "out")
        os.makedirs(self.out, exist_ok=True)
        os.chmod(self.out, 0o1777)
        sig = os.path.join(self.dir, "chu-ky.png")
        seal = os.path.join(self.dir, "con-dau.png")
        signature_png(sig)
        seal_png(seal)
        self.org_pin = os.path.join(self.dir, "co-quan.pin")
        with open(self.org_pin, "w") as f:
            f.write(info["tokens"]["co-quan"]["pin"] + "\n")
        os.chmod(self.org_pin, 0o600)
        self.leader_pin = os.path.join(self.dir, "lanh-dao.pin")
        with open(self.leader_pin, "w") as f:
            f.write(info["tokens"]["lanh-dao"]["pin"] + "\n")
        os.chmod(self.leader_pin, 0o644)
        units_path = os.path.join(self.dir, "units.xml")
        with open(units_path, "w", encoding="utf-8") as f:
            f.write(units_xml(units))
        # exchange None: an office without [exchange] (nothing goes by the axis)
        xlines = ["[exchange]"] + [f"{k} = {v}" for k, v in exchange.items()] \
            if exchange is not None else []
        extra = "\n".join([
            "[signing]",
            f"module = {info['module']}",
            "token = co-quan",
            "key = con-dau",
            f"pin_file = {self.org_pin}",
            f"trust = {trust}",
            f"seal_image = {seal}",
            "seal_size = 36",
            f"converter = {os.path.join(REPO, 'build', 'vanthu-convert')}",
            "[user vtt-chi]",
            f"certificate = {info['certs']['leader']['fingerprint']}",
            f"signature_image = {sig}",
            *xlines,
        ]) + "\n"
        os.makedirs(os.path.join(self.dir, "vanthud"), exist_ok=True)
        self.d = Daemon(root=os.path.join(self.dir, "vanthud"), org_name=org_name,
                        org_abbrev=abbrev, org_id=org_id, units=units_path, extra=extra)

    # SoftHSM finds its tokens through SOFTHSM2_CONF: each office has its own
    def _env(self):
        os.environ["SOFTHSM2_CONF"] = self.softhsm

    def start(self, **kw):
        self._env()
        kw.setdefault("ready_timeout", 240)
        self.d.start(**kw)
        return self

    def stop(self, **kw):
        return self.d.stop(**kw)

    def kill(self):
        self.d.kill()

    def ctl(self, *args, user="vtt-dung", **kw):
        self._env()
        kw.setdefault("timeout", 240)
        return self.d.ctl(*args, user=user, **kw)

    def j(self, *args, user="vtt-dung"):
        """vanthuctl --json ARGS as user; the result object (asserts ok)."""
        r = self.ctl(*args, user=user, json_out=True)
        if r.returncode != 0 or not r.json or not r.json.get("ok"):
            raise AssertionError(f"{self.name}: vanthuctl {' '.join(args)} as {user}: "
                                 f"{r.returncode}\n{r.stdout}\n{r.stderr}")
        return r.json["result"]

    def doc_file(self, summary, recipients, kind="thong-bao", to=()):
        """A thông báo (the example's words) with these Nơi nhận units (and Kính gửi for a
        công văn)."""
        text = open(EXAMPLE, encoding="utf-8").read()
        s, e = text.index("<summary>") + len("<summary>"), text.index("</summary>")
        text = text[:s] + summary + text[e:]
        s, e = text.index("<recipients>"), text.index("</recipients>") + len("</recipients>")
        rec = "<recipients>" + "".join(f'<recipient unit="{u}"/>' for u in recipients) + \
            "</recipients>"
        text = text[:s] + rec + text[e:]
        path = os.path.join(self.out, f"doc-{time.time_ns()}.xml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def issue(self, summary, recipients, answers=None, report=None, kind="thong-bao", path=None):
        """Drafts, reviews, signs with the leader's token and issues; (id, symbol). path: an
        input of kind of one's own instead of the example thông báo."""
        path = path or self.doc_file(summary, recipients)
        args = ["new", kind, path]
        if answers:
            args += ["--answers", str(answers)]
        if report:
            args += ["--report", report]
        doc = self.j(*args, user="vtt-ana")["id"]
        self.j("submit", str(doc), user="vtt-ana")
        self.j("approve", str(doc), user="vtt-binh")
        r = self.ctl("sign", str(doc), "--pkcs11", self.pki["module"], "--token", "lanh-dao",
                     "--pin-file", self.leader_pin, user="vtt-chi")
        if r.returncode != 0:
            raise AssertionError(f"{self.name}: sign {doc}: {r.stdout}\n{r.stderr}")
        res = self.j("issue", str(doc), user="vtt-dung")
        if "publish_error" in res:
            raise AssertionError(f"{self.name}: issue {doc}: {res['publish_error']}")
        return doc, res["symbol"]

    def incoming(self, **filters):
        args = ["incoming"]
        for k, v in filters.items():
            args += [f"--{k}", str(v)]
        return self.j(*args)["incoming"]

    def delivery(self, doc):
        return self.j("delivery", str(doc))

    def cleanup(self):
        self.d.cleanup()


def wait_for(what, pred, timeout=60, step=0.3):
    """pred() until it returns something true; that value. Fails with what after timeout."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = pred()
        except AssertionError as e:
            last = e
        if last and not isinstance(last, AssertionError):
            return last
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}; last: {last}")


def status_codes(office, doc, recipient):
    """The codes recipient sent back about doc, as office's delivery shows them."""
    return sorted({s["code"] for s in office.delivery(doc)["statuses"]
                   if s.get("recipient_id") == recipient})
