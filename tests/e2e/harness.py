"""harness.py: what the end-to-end tests share.

A Daemon runs the real vanthud (the sanitizer build) in a temporary folder
with a configuration of its own, waits for its READY=1 on a notify socket of
the test's, and stops it with SIGTERM, checking that it exits 0 and that its
log holds no sanitizer report. ctl() runs the real vanthuctl, as root or as
one of the test users (real uids, created here with useradd).
"""
import grp
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("VANTHU_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "san"))
VANTHUD = os.path.abspath(os.path.join(BIN, "vanthud"))
VANTHUCTL = os.path.abspath(os.path.join(BIN, "vanthuctl"))
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

SOCKET_GROUP = "vtt-sock"
ROLE_GROUPS = {
    "drafter": "vtt-drafter", "reviewer": "vtt-reviewer", "signer": "vtt-signer",
    "clerk": "vtt-clerk", "admin": "vtt-admin", "auditor": "vtt-auditor",
}
# Test users: login -> roles. Every one is in the socket group.
USERS = {
    "vtt-ana": ["drafter"],
    "vtt-binh": ["reviewer"],
    "vtt-chi": ["signer"],
    "vtt-dung": ["clerk"],
    "vtt-giang": ["auditor"],
    "vtt-hai": ["drafter", "clerk"],
    "vtt-lan": ["admin"],
    "vtt-norole": [],
}

SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:halt_on_error=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}

IS_ROOT = os.geteuid() == 0


def need_root(test):
    return unittest.skipUnless(IS_ROOT, "needs root to create test users")(test)


def _ensure_group(name):
    try:
        grp.getgrnam(name)
    except KeyError:
        subprocess.run(["groupadd", "--system", name], check=True)


_users_ready = False


def ensure_users():
    """Creates the test groups and users once (idempotent across runs)."""
    global _users_ready
    if _users_ready or not IS_ROOT:
        return
    _ensure_group(SOCKET_GROUP)
    for g in ROLE_GROUPS.values():
        _ensure_group(g)
    for login, roles in USERS.items():
        groups = [SOCKET_GROUP] + [ROLE_GROUPS[r] for r in roles]
        try:
            pwd.getpwnam(login)
            subprocess.run(["usermod", "-G", ",".join(groups), login], check=True)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                            "/usr/sbin/nologin", "-G", ",".join(groups), login], check=True)
    _users_ready = True


def as_user(login):
    """preexec_fn that becomes login with its groups."""
    pw = pwd.getpwnam(login)

    def become():
        os.initgroups(login, pw.pw_gid)
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return become


def config_text(root, **over):
    paths = {
        "spool": os.path.join(root, "spool"),
        "database": os.path.join(root, "vanthu.db"),
        "socket": os.path.join(root, "run", "vanthu.sock"),
        "templates": os.path.join(REPO, "build", "templates"),
        "workflows": os.path.join(REPO, "workflows"),
    }
    if IS_ROOT:
        paths["socket_group"] = SOCKET_GROUP
    if "units" in over:  # an office's own registry (the exchange tests give units ids)
        paths["units"] = over.pop("units")
    limits = {"max_clients": 256, "max_clients_per_uid": 64, "idle_timeout": 300}
    # rounds = optional: the intake tests send reports to rounds nobody opened (a round code
    # per report keeps them apart). An office's default is required; the tests of rounds and
    # of refusing an unknown round ask for it (intake_rounds="required").
    intake = {"settle": 500, "rescan": 200, "rounds": "optional"}
    for k in list(over):
        if k in paths:
            paths[k] = over.pop(k)
        elif k in limits:
            limits[k] = over.pop(k)
        elif k.startswith("intake_"):
            intake[k[7:]] = over.pop(k)
    org = {
        "name": over.pop("org_name", "Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu"),
        "abbreviation": over.pop("org_abbrev", "UBND"),
        "place": "Bà Rịa - Vũng Tàu",
    }
    if "org_id" in over:
        org["id"] = over.pop("org_id")
    rounds_drafter = over.pop("rounds_drafter", "vtt-ana")
    extra = over.pop("extra", "")  # raw sections appended: [body ABBR] of Party committees
    assert not over, over
    lines = ["[paths]"] + [f"{k} = {v}" for k, v in paths.items()]
    lines += ["[organisation]"] + [f"{k} = {v}" for k, v in org.items()]
    lines += ["[roles]"] + [f"{k} = {v}" for k, v in ROLE_GROUPS.items()]
    lines += ["[limits]"] + [f"{k} = {v}" for k, v in limits.items()]
    lines += ["[intake]"] + [f"{k} = {v}" for k, v in intake.items()]
    lines += ["[rounds]", f"drafter = {rounds_drafter}"]
    lines += ["[log]", "level = debug"]
    lines += ["[user vtt-chi]", "full_name = Đặng Minh Thông", "title = Phó Chủ tịch",
              "authority = KT.", "party_title = Phó Bí thư"]
    return "\n".join(lines) + "\n" + extra


class Daemon:
    """One vanthud in its own temporary folder."""

    def __init__(self, root=None, **config):
        self.own_root = root is None
        self.root = root or tempfile.mkdtemp(prefix="vanthu-e2e-")
        os.chmod(self.root, 0o755)
        self.conf = os.path.join(self.root, "vanthu.conf")
        self.socket = os.path.join(self.root, "run", "vanthu.sock")
        self.db = os.path.join(self.root, "vanthu.db")
        self.spool = os.path.join(self.root, "spool")
        self.log = os.path.join(self.root, "vanthud.log")
        self.proc = None
        ensure_users()
        self.write_config(**config)

    def write_config(self, **config):
        with open(self.conf, "w", encoding="utf-8") as fh:
            fh.write(config_text(self.root, **config))

    def start(self, wait=True, extra_args=(), user=None, now=None, ready_timeout=30):
        """Starts vanthud; now ("YYYY-MM-DDTHH:MM:SS", Vietnam time) sets the test clock."""
        notify_path = os.path.join(self.root, "notify.sock")
        if os.path.exists(notify_path):
            os.unlink(notify_path)
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(notify_path)
        env = dict(os.environ, NOTIFY_SOCKET=notify_path, **SAN_ENV)
        env.pop("JOURNAL_STREAM", None)
        if now:
            env["VANTHU_FAKE_NOW"] = now
        self.logfh = open(self.log, "ab")
        if user:
            os.chown(notify_path, pwd.getpwnam(user).pw_uid, -1)
        self.proc = subprocess.Popen([VANTHUD, "-c", self.conf, *extra_args], env=env,
                                     stdout=self.logfh, stderr=self.logfh, cwd=self.root,
                                     preexec_fn=as_user(user) if user else None)
        if wait:
            self.wait_ready(ready_timeout)
        return self

    def wait_ready(self, timeout=30):
        self.notify.settimeout(0.2)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                msg = self.notify.recv(4096).decode()
                if "READY=1" in msg:
                    return
            except socket.timeout:
                pass
            if self.proc.poll() is not None:
                raise AssertionError(f"vanthud exited {self.proc.returncode} before READY=1:\n"
                                     + self.read_log())
        raise AssertionError("vanthud did not send READY=1 in time:\n" + self.read_log())

    def notifications(self, timeout=5):
        """The next notify datagram, or None."""
        self.notify.settimeout(timeout)
        try:
            return self.notify.recv(4096).decode()
        except socket.timeout:
            return None

    def read_log(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except FileNotFoundError:
            return ""

    def assert_clean_log(self):
        log = self.read_log()
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehavior"):
            if marker in log:
                raise AssertionError(f"sanitizer report in vanthud's log:\n{log}")

    def stop(self, sig=signal.SIGTERM, expect=0, timeout=30):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("vanthud did not stop within %d s:\n%s" % (timeout, self.read_log()))
        self.logfh.close()
        self.notify.close()
        self.assert_clean_log()
        if expect is not None and rc != expect:
            raise AssertionError(f"vanthud exited {rc}, expected {expect}:\n" + self.read_log())
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            self.logfh.close()
            self.notify.close()

    def cleanup(self):
        self.kill()
        if self.own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    # ---- clients ----

    def ctl(self, *args, user=None, json_out=False, timeout=60, socket_path=None):
        """Runs vanthuctl; returns CompletedProcess with text stdout/stderr (and .json)."""
        cmd = [VANTHUCTL, "-s", socket_path or self.socket]
        if json_out:
            cmd.append("--json")
        cmd += list(args)
        env = dict(os.environ, **SAN_ENV)
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env,
                              preexec_fn=as_user(user) if user else None, cwd=self.root)
        proc.stdout = proc.stdout.decode("utf-8")
        proc.stderr = proc.stderr.decode("utf-8")
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            if marker in proc.stderr:
                raise AssertionError("sanitizer report in vanthuctl:\n" + proc.stderr)
        proc.json = None
        if json_out and proc.stdout.strip():
            proc.json = json.loads(proc.stdout)
        return proc

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.socket)
        return s


def send_lines(sock, data):
    sock.sendall(data)


def read_reply(sock, buf=b""):
    """Reads one reply line from sock; returns (obj, rest)."""
    while b"\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed before a reply; got %r" % buf[:200])
        buf += chunk
    line, rest = buf.split(b"\n", 1)
    return json.loads(line), rest


def request(sock, cmd, **args):
    sock.sendall(json.dumps({"cmd": cmd, "args": args}).encode() + b"\n")
    obj, rest = read_reply(sock)
    assert rest == b"", rest
    return obj


class DaemonTest(unittest.TestCase):
    """A test case with one running daemon as self.d."""

    config = {}
    started = True   # False: each test starts it, at its own (test clock) date

    def setUp(self):
        self.d = Daemon(**self.config)
        if self.started:
            self.d.start()

    def tearDown(self):
        try:
            if self.d.proc is not None and self.d.proc.poll() is None:
                self.d.stop()
        finally:
            self.d.cleanup()
