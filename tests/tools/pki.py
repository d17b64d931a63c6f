#!/usr/bin/python3
"""pki.py: a throw-away test PKI and SoftHSMv2 tokens for the signing tests.

    pki.py make DIR

builds, with the openssl CLI, softhsm2-util and pkcs11-tool only:

- DIR/ca: a root CA with a Vietnamese CN (UTF8String), and another CA nobody
  trusts;
- DIR/certs: one RSA 2048 key and certificate per role (see ROLES), plus an
  EC P-256 leader: PEM and DER certificates, PKCS#8 PEM keys;
- DIR/softhsm: softhsm2.conf (export SOFTHSM2_CONF=DIR/softhsm/softhsm2.conf)
  and three tokens: "lanh-dao" (the leader), "co-quan" (the organisation),
  "thu-nghiem" (every other key, each with its own id);
- DIR/pki.json: every path, PIN, label, id and SHA-256 fingerprint, and the
  module's path:
    {"dir", "module", "softhsm2_conf",
     "tokens": {LABEL: {"pin", "so_pin"}},
     "ca", "other_ca": {"cn", "cert" (PEM), "der", "key", "fingerprint"},
     "certs": {ROLE: {"cn", "org", "key_type" ("rsa"/"ec"), "key_usage",
                      "not_before", "not_after" (YYYYMMDDHHMMSSZ), "issuer"
                      ("ca"/"other_ca"), "cert" (PEM), "der", "key" (PKCS#8
                      PEM), "token", "pin", "label", "id" (hex), "fingerprint"}}}
  ROLE is one of leader, org, leader2, expired, notyet, untrusted, keyenc
  (keyUsage keyEncipherment only), leader_ec (P-256).

Whatever an earlier run left in DIR/ca, DIR/certs and DIR/softhsm is removed
first, so a run always gives a fresh, consistent PKI. Takes a few seconds.
"""
import json
import os
import shutil
import subprocess
import sys

MODULE = "/usr/lib/softhsm/libsofthsm2.so"

CA_CN = "Cục Chứng thực số thử nghiệm"
OTHER_CA_CN = "CA lạ không tin cậy"

# token label: (user PIN, SO PIN)
TOKENS = {
    "lanh-dao": ("1234", "12345678"),
    "co-quan": ("4321", "87654321"),
    "thu-nghiem": ("5678", "12341234"),
}

SIGN_KU = "critical,digitalSignature,nonRepudiation"
# Normal certificates are valid from 2020 to the end of 2049 (still UTCTime).
VALID = ("20200101000000Z", "20491231235959Z")

# name: (CN, O, key type, key usage, validity, issuer, token, label, id)
ROLES = {
    "leader": ("Nguyễn Văn Thông", "Ủy ban nhân dân xã Thử Nghiệm", "rsa", SIGN_KU, VALID,
               "ca", "lanh-dao", "chu-ky", "01"),
    "org": ("Ủy ban nhân dân xã Thử Nghiệm", "Ủy ban nhân dân xã Thử Nghiệm", "rsa", SIGN_KU,
            VALID, "ca", "co-quan", "con-dau", "01"),
    "leader2": ("Trần Thị Hương", "Ủy ban nhân dân xã Thử Nghiệm", "rsa", SIGN_KU, VALID,
                "ca", "thu-nghiem", "lanh-dao-2", "02"),
    "expired": ("Lê Văn Hết Hạn", "Ủy ban nhân dân xã Thử Nghiệm", "rsa", SIGN_KU,
                ("20200101000000Z", "20210101000000Z"), "ca", "thu-nghiem", "het-han", "03"),
    "notyet": ("Phạm Văn Chưa Tới", "Ủy ban nhân dân xã Thử Nghiệm", "rsa", SIGN_KU,
               ("20900101000000Z", "20950101000000Z"), "ca", "thu-nghiem", "chua-toi", "04"),
    "untrusted": ("Hoàng Văn Lạ", "Cơ quan lạ", "rsa", SIGN_KU, VALID, "other_ca",
                  "thu-nghiem", "la", "05"),
    "keyenc": ("Vũ Văn Mã Hóa", "Ủy ban nhân dân xã Thử Nghiệm", "rsa",
               "critical,keyEncipherment", VALID, "ca", "thu-nghiem", "ma-hoa", "06"),
    "leader_ec": ("Nguyễn Văn Thông", "Ủy ban nhân dân xã Thử Nghiệm", "ec", SIGN_KU, VALID,
                  "ca", "thu-nghiem", "chu-ky-ec", "07"),
    # issued by an intermediate CA (as VGCA's end certificates are), not by the root
    "leader_sub": ("Đỗ Thị Cấp Hai", "Ủy ban nhân dân xã Thử Nghiệm", "rsa", SIGN_KU, VALID,
                   "sub_ca", "thu-nghiem", "chu-ky-sub", "08"),
}

SUB_CA_CN = "Cục Chứng thực số thử nghiệm cấp 2"

CONF = """\
[ req ]
distinguished_name = dn
string_mask = utf8only
utf8 = yes
prompt = no
[ dn ]
CN = unused
[ ca ]
default_ca = ca_default
[ ca_default ]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/new
serial = {dir}/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ policy_any ]
countryName = optional
organizationName = optional
commonName = supplied
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
"""


def run(args, env=None):
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if proc.returncode != 0:
        sys.stderr.write("pki.py: %s failed:\n%s%s" % (" ".join(args),
                         proc.stdout.decode("utf-8", "replace"),
                         proc.stderr.decode("utf-8", "replace")))
        sys.exit(1)
    return proc.stdout


def genkey(path, kind):
    if kind == "ec":
        run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", path])
    else:
        run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
             "-out", path])


def subj(cn, org):
    s = "/C=VN"
    if org:
        s += "/O=" + org
    return s + "/CN=" + cn


class CA:
    """One CA folder: key, certificate, and an `openssl ca` database."""

    def __init__(self, dirpath, cn, serial, parent=None):
        self.dir = dirpath
        self.cn = cn
        os.makedirs(os.path.join(dirpath, "new"))
        with open(os.path.join(dirpath, "index.txt"), "w"):
            pass
        self.serial = serial
        self.conf = os.path.join(dirpath, "openssl.cnf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(CONF.format(dir=dirpath))
        self.key = os.path.join(dirpath, "ca.key")
        self.pem = os.path.join(dirpath, "ca.pem")
        self.der = os.path.join(dirpath, "ca.der")
        genkey(self.key, "rsa")
        csr = os.path.join(dirpath, "ca.csr")
        run(["openssl", "req", "-new", "-config", self.conf, "-utf8", "-key", self.key,
             "-subj", subj(cn, None), "-out", csr])
        if parent is None:
            self.sign(csr, self.pem, ("20000101000000Z", "20491231235959Z"), None, selfsign=True)
        else:
            ext = os.path.join(dirpath, "ca.ext")
            with open(ext, "w") as f:
                f.write("basicConstraints = critical,CA:true\nkeyUsage = critical,keyCertSign,"
                        "cRLSign\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n")
            # a serial of its own, so the parent's end certificates keep theirs (0x1001...)
            keep, parent.serial = parent.serial, serial - 1
            parent.sign(csr, self.pem, ("20000101000000Z", "20491231235959Z"), ext)
            parent.serial = keep
        run(["openssl", "x509", "-in", self.pem, "-outform", "DER", "-out", self.der])

    def sign(self, csr, out, validity, extfile, selfsign=False):
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("%04X\n" % self.serial)
        self.serial += 1
        args = ["openssl", "ca", "-batch", "-config", self.conf, "-utf8", "-preserveDN",
                "-notext", "-md", "sha256", "-startdate", validity[0], "-enddate", validity[1],
                "-in", csr, "-out", out]
        if selfsign:
            args += ["-selfsign", "-keyfile", self.key, "-extensions", "v3_ca"]
        else:
            args += ["-cert", self.pem, "-keyfile", self.key, "-extfile", extfile]
        run(args)


def fingerprint(der_path):
    out = run(["openssl", "x509", "-inform", "DER", "-in", der_path, "-noout", "-fingerprint",
               "-sha256"]).decode()
    return out.strip().split("=", 1)[1].replace(":", "").lower()


def make(top):
    top = os.path.abspath(top)
    os.makedirs(top, exist_ok=True)
    for sub in ("ca", "other_ca", "sub_ca", "certs", "softhsm"):
        shutil.rmtree(os.path.join(top, sub), ignore_errors=True)
    certs_dir = os.path.join(top, "certs")
    os.makedirs(certs_dir)

    cas = {"ca": CA(os.path.join(top, "ca"), CA_CN, 0x1000),
           "other_ca": CA(os.path.join(top, "other_ca"), OTHER_CA_CN, 0x2000)}
    cas["sub_ca"] = CA(os.path.join(top, "sub_ca"), SUB_CA_CN, 0x3000, parent=cas["ca"])

    hsm = os.path.join(top, "softhsm")
    os.makedirs(os.path.join(hsm, "tokens"))
    conf = os.path.join(hsm, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n"
                "slots.removable = false\n" % os.path.join(hsm, "tokens"))
    env = dict(os.environ, SOFTHSM2_CONF=conf)
    for label, (pin, so_pin) in TOKENS.items():
        run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin,
             "--so-pin", so_pin], env=env)

    info = {"dir": top, "module": MODULE, "softhsm2_conf": conf, "tokens": {}, "certs": {}}
    for label, (pin, so_pin) in TOKENS.items():
        info["tokens"][label] = {"pin": pin, "so_pin": so_pin}
    for name, ca in cas.items():
        info[name] = {"cn": ca.cn, "cert": ca.pem, "der": ca.der, "key": ca.key,
                      "fingerprint": fingerprint(ca.der)}

    for name, (cn, org, kind, ku, validity, issuer, token, label, kid) in ROLES.items():
        key = os.path.join(certs_dir, name + ".key")
        csr = os.path.join(certs_dir, name + ".csr")
        ext = os.path.join(certs_dir, name + ".ext")
        pem = os.path.join(certs_dir, name + ".pem")
        der = os.path.join(certs_dir, name + ".der")
        genkey(key, kind)
        run(["openssl", "req", "-new", "-config", cas[issuer].conf, "-utf8", "-key", key,
             "-subj", subj(cn, org), "-out", csr])
        with open(ext, "w") as f:
            f.write("basicConstraints = CA:false\nkeyUsage = %s\n"
                    "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n" % ku)
        cas[issuer].sign(csr, pem, validity, ext)
        run(["openssl", "x509", "-in", pem, "-outform", "DER", "-out", der])
        pin = TOKENS[token][0]
        run(["softhsm2-util", "--import", key, "--token", token, "--label", label, "--id", kid,
             "--pin", pin], env=env)
        run(["pkcs11-tool", "--module", MODULE, "--token-label", token, "--login", "--pin", pin,
             "--write-object", der, "--type", "cert", "--id", kid, "--label", label], env=env)
        info["certs"][name] = {
            "cn": cn, "org": org, "key_type": kind, "key_usage": ku, "not_before": validity[0],
            "not_after": validity[1], "issuer": issuer, "cert": pem, "der": der, "key": key,
            "token": token, "pin": pin, "label": label, "id": kid, "fingerprint": fingerprint(der),
        }

    # the root and the intermediate, as an office's trust file holds VGCA's
    info["trust_all"] = os.path.join(top, "trust-all.pem")
    with open(info["trust_all"], "w") as out:
        for name in ("ca", "sub_ca"):
            with open(cas[name].pem) as f:
                out.write(f.read())
    with open(os.path.join(top, "pki.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, ensure_ascii=False, indent=1)
    return info


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "make":
        sys.stderr.write("usage: pki.py make DIR\n")
        return 2
    make(sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
