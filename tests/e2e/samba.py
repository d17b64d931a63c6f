"""samba.py: a real Samba server (smbd) on loopback for the end-to-end tests.

It owns one smbd, its smb.conf, its passdb and its state, all inside a
temporary folder of the test's, and the smbclient runs that let a test act as
each unit. It does not own the spool: the test (or the daemon) makes the
folders and their modes; smbd only serves them, doing every file access as the
unit's Unix user, so what a unit may do over SMB is what the file system lets
that user do (plus the share's own valid users / read only).

    units = [Unit("XA-PHUOC-HOI", "vtt-unit-xa-phuoc-hoi", "pw", "vtt-u-xa-phuoc-hoi",
                  incoming="/…/spool/incoming/XA-PHUOC-HOI",
                  receipts="/…/spool/receipts/XA-PHUOC-HOI")]
    with Samba(root, units, spool="/…/spool") as smb:
        r = smb.put(units[0], smb.baocao(units[0]), "/tmp/a.xml", "báo-cáo quý 1.xml")
        assert r.ok, r.output
        assert smb.ls(units[0], "toan-bo", "accepted").denied

Samba(root, units, spool=None, extra_shares=True)
    root: a folder for smbd's own state (root/samba/ is made 0700 and holds
    smb.conf, the tdbsam passdb, lock/state/cache/pid/ncalrpc dirs and
    log/smbd.log). units: Unit objects, or dicts / objects with the attributes
    code, user, password, group, incoming, receipts (the Unix users and groups
    must exist). spool: the spool root, needed for [toan-bo].
    Shares: [baocao-<code lower>] = unit.incoming, writable, valid users = the
    unit's user; [bienlai-<code lower>] = unit.receipts, read only, the same
    valid users; and, with extra_shares, the deliberately over-broad
    [toan-bo] = spool, writable, valid users = every unit's user.
    Files created over SMB get mode 0640 (create mask = force create mode =
    0640; the setgid incoming folder gives them the unit's group).
start() / stop(), or use it as a context manager. start() picks a free port
    on 127.0.0.1, registers every user with `smbpasswd -a -s`, runs
    `smbd --foreground --no-process-group --debug-stdout -s smb.conf` in a
    session of its own and waits until an authenticated `smbclient -L` works
    (AssertionError with smbd's log after 30 s, or at once if smbd dies).
    stop() sends SIGTERM and checks smbd went (exit 0, or death by its own
    SIGTERM: on exit smbd's parent does kill(0, SIGTERM) to its process group,
    which is why it must not share ours), then ends what is left: smbd's
    children, and samba-dcerpcd with its rpcd_* workers, which smbd starts on
    demand (for -L) as daemons of their own session, found by their
    --configfile=<our smb.conf>. stop() is registered with atexit, and smbd's
    stdin is a pipe only this process holds (smbd --foreground exits on EOF
    there), so smbd does not outlive the test even if Python is killed.
client(unit, share, commands, timeout=30) -> Result
    runs `smbclient //127.0.0.1/SHARE -p PORT -U user%password -c COMMANDS`
    as root with a client smb.conf of its own (never /etc/samba/smb.conf).
    commands: a string or a list of strings, joined with "; ". Names inside
    commands must be quoted with quote(): smbclient splits -c at every ';'
    (even inside quotes) and has no escape for '"', so quote() refuses names
    holding ';', '"' or control characters. '/' in remote names is fine
    (smbclient turns it into '\\').
put(unit, share, local_path, remote_name), get(unit, share, remote_name,
    local_path), ls(unit, share, path=""), rename(unit, share, a, b,
    replace=False), rm(unit, share, name): one smbclient command each,
    -> Result. A put is done in place: smbd creates the name itself
    (O_CREAT|O_EXCL, mode 0640, then fchmod 0640), writes, sets the times at
    close: inotify sees CREATE, OPEN, ATTRIB, MODIFY, ATTRIB, CLOSE_WRITE (a
    put over an existing name: OPEN, MODIFY..., ATTRIB, CLOSE_WRITE); a
    rename is one renameat(2): MOVED_FROM, MOVED_TO.
baocao(unit), bienlai(unit): the unit's share names; TOAN_BO = "toan-bo".

Result(rc, output) is a named tuple (so `rc, out = smb.client(...)` works):
    output is stdout and stderr together; .status is the first NT_STATUS_* code
    in the output (or None). smbclient's exit code with -c is that of the LAST
    command only, and some failures still exit 0, so:
    .ok      rc == 0 and no NT_STATUS_* code at all in the output;
    .denied  an NT_STATUS_* code of DENIED in the output. What Samba 4.17
             says: ACCESS_DENIED for a share whose valid users leave the user
             out (at tree connect, rc 1), for a file or folder the Unix user
             may not read, write or traverse, and for a put or del in a read
             only share (del then exits 0!); LOGON_FAILURE for a bad user or
             password; BAD_NETWORK_NAME for no such share. Also counted:
             NETWORK_ACCESS_DENIED, MEDIA_WRITE_PROTECTED, ACCOUNT_DISABLED,
             WRONG_PASSWORD.
    A test of "refused" should assert .denied, not just `not .ok`, so that a
    typo (OBJECT_NAME_NOT_FOUND) does not pass for a refusal.
    .entries parses an ls listing into {name: attributes} ("." and ".." left
    out; attributes such as "A", "D", "N").
"""
import atexit
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import NamedTuple

SMBD = "/usr/sbin/smbd"
SMBCLIENT = "/usr/bin/smbclient"
SMBPASSWD = "/usr/bin/smbpasswd"
HOST = "127.0.0.1"
RPCDS = ("rpcd_classic", "rpcd_epmapper", "rpcd_fsrvp", "rpcd_lsad", "rpcd_mdssvc",
         "rpcd_spoolss", "rpcd_winreg")
TOAN_BO = "toan-bo"
START_TIMEOUT = 30
DENIED = frozenset({
    "NT_STATUS_ACCESS_DENIED", "NT_STATUS_NETWORK_ACCESS_DENIED",
    "NT_STATUS_MEDIA_WRITE_PROTECTED", "NT_STATUS_LOGON_FAILURE",
    "NT_STATUS_BAD_NETWORK_NAME", "NT_STATUS_ACCOUNT_DISABLED",
    "NT_STATUS_WRONG_PASSWORD",
})
_STATUS = re.compile(r"NT_STATUS_[A-Z0-9_]+")
# smbclient's ls line: two spaces, name, attributes, size, then a ctime() date.
_LS_LINE = re.compile(r"^  (.+?)\s+([A-Z]*)\s+(\d+)\s+\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$")
# Names smbclient cannot take inside -c (see quote()).
_UNQUOTABLE = re.compile(r'[";\x00-\x1f\x7f]')


@dataclass(frozen=True)
class Unit:
    code: str
    user: str
    password: str
    group: str
    incoming: str
    receipts: str


class Result(NamedTuple):
    rc: int
    output: str

    @property
    def status(self):
        m = _STATUS.search(self.output)
        return m.group(0) if m else None

    @property
    def ok(self):
        return self.rc == 0 and self.status is None

    @property
    def denied(self):
        return any(s in DENIED for s in _STATUS.findall(self.output))

    @property
    def entries(self):
        out = {}
        for line in self.output.splitlines():
            m = _LS_LINE.match(line)
            if m and m.group(1) not in (".", ".."):
                out[m.group(1)] = m.group(2)
        return out


def quote(name):
    """name in double quotes for smbclient -c; ValueError if it cannot be said."""
    if _UNQUOTABLE.search(name):
        raise ValueError(f"smbclient -c cannot carry the name {name!r}")
    return f'"{name}"'


def as_unit(obj):
    """A Unit from a Unit, a dict or any object with the same attributes."""
    if isinstance(obj, Unit):
        return obj
    fields = Unit.__dataclass_fields__
    if isinstance(obj, dict):
        return Unit(**{k: obj[k] for k in fields})
    return Unit(**{k: getattr(obj, k) for k in fields})


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _group_pids(pgid):
    """The processes still in process group pgid."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.getpgid(int(name)) == pgid:
                    pids.append(int(name))
            except OSError:
                pass
    return pids


def _wait_reaped(pids, grace=3):
    """Waits (not an error) until the ended pids leave /proc: the orphans are
    init's zombies for a moment, which `pgrep smbd` would still list."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in pids):
        time.sleep(0.05)


def _end_pids(pids, grace=5):
    """SIGTERM to pids, SIGKILL to those alive after grace s; the ones that
    needed more than SIGTERM."""
    def alive(pid):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False
    pids = [p for p in set(pids) if alive(p)]
    for p in pids:
        os.kill(p, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    stubborn = [p for p in pids if alive(p)]
    for p in stubborn:
        os.kill(p, signal.SIGKILL)
    return stubborn


def _env():
    env = {k: v for k, v in os.environ.items()
           if k not in ("PASSWD", "PASSWD_FD", "USER", "LOGNAME", "KRB5CCNAME")}
    env["LC_ALL"] = "C.UTF-8"
    return env


class Samba:
    """One smbd on 127.0.0.1:<free port> serving the units' shares."""

    def __init__(self, root, units, spool=None, extra_shares=True):
        self.units = [as_unit(u) for u in units]
        if not self.units:
            raise ValueError("Samba needs at least one unit")
        if extra_shares and spool is None:
            raise ValueError("[toan-bo] needs the spool root")
        self.spool = spool
        self.extra_shares = extra_shares
        self.dir = os.path.join(os.path.abspath(root), "samba")
        self.conf = os.path.join(self.dir, "smb.conf")
        self.client_conf = os.path.join(self.dir, "client.conf")
        self.log = os.path.join(self.dir, "log", "smbd.log")
        self.port = None
        self.proc = None
        self.start_seconds = None

    # ---- shares ----

    @staticmethod
    def baocao(unit):
        return "baocao-" + as_unit(unit).code.lower()

    @staticmethod
    def bienlai(unit):
        return "bienlai-" + as_unit(unit).code.lower()

    # ---- configuration ----

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _global(self):
        d = self._path
        return {
            "server role": "standalone server",
            "workgroup": "VANTHU",
            "netbios name": "VANTHU-TEST",
            "smb ports": str(self.port),
            "interfaces": HOST,
            "bind interfaces only": "yes",
            "hosts allow": HOST,
            "disable netbios": "yes",
            "unix charset": "UTF-8",
            "passdb backend": "tdbsam:" + d("private/passdb.tdb"),
            "map to guest": "never",
            "restrict anonymous": "2",
            "private dir": d("private"),
            "lock directory": d("lock"),
            "state directory": d("state"),
            "cache directory": d("cache"),
            "pid directory": d("run"),
            "ncalrpc dir": d("run/ncalrpc"),
            "winbindd socket directory": d("run/winbindd"),
            "usershare path": "",
            "usershare max shares": "0",
            "log file": d("log/log.%m"),
            "max log size": "0",
            "log level": "1",
            "load printers": "no",
            "printing": "bsd",
            "printcap name": "/dev/null",
            "disable spoolss": "yes",
            "obey pam restrictions": "no",
            "unix password sync": "no",
            "unix extensions": "no",
            "nt acl support": "no",
            "store dos attributes": "no",
            "map archive": "no",
            "map hidden": "no",
            "map system": "no",
            "map readonly": "no",
            "create mask": "0640",
            "force create mode": "0640",
            "directory mask": "0750",
            "force directory mode": "0750",
            "inherit permissions": "no",
            "wide links": "no",
            # samba-dcerpcd (started on demand) exits once its workers do.
            **{f"{rpcd}:idle_seconds": "10" for rpcd in RPCDS},
        }

    def _shares(self):
        shares = {}
        for u in self.units:
            shares[self.baocao(u)] = {"path": u.incoming, "read only": "no", "valid users": u.user}
            shares[self.bienlai(u)] = {"path": u.receipts, "read only": "yes", "valid users": u.user}
        if self.extra_shares:
            shares[TOAN_BO] = {"path": self.spool, "read only": "no",
                               "valid users": " ".join(u.user for u in self.units)}
        return shares

    def config_text(self):
        lines = ["[global]"] + [f"\t{k} = {v}" for k, v in self._global().items()]
        for name, opts in self._shares().items():
            lines += ["", f"[{name}]"] + [f"\t{k} = {v}" for k, v in opts.items()]
        return "\n".join(lines) + "\n"

    def client_text(self):
        d = self._path
        opts = {
            "unix charset": "UTF-8",
            "workgroup": "VANTHU",
            "disable netbios": "yes",
            "client min protocol": "SMB2_10",
            "client use kerberos": "off",
            "name resolve order": "host",
            "lock directory": d("client/lock"),
            "state directory": d("client/state"),
            "cache directory": d("client/cache"),
            "private dir": d("client/private"),
            "log level": "0",
        }
        return "[global]\n" + "".join(f"\t{k} = {v}\n" for k, v in opts.items())

    def _write_config(self):
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        os.chmod(self.dir, 0o700)
        for sub in ("private", "lock", "state", "cache", "run", "log",
                    "client/lock", "client/state", "client/cache", "client/private"):
            os.makedirs(self._path(sub), mode=0o700, exist_ok=True)
        for path, text in ((self.conf, self.config_text()), (self.client_conf, self.client_text())):
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)

    def _add_users(self):
        for u in self.units:
            p = subprocess.run([SMBPASSWD, "-c", self.conf, "-a", "-s", u.user],
                               input=f"{u.password}\n{u.password}\n", text=True,
                               capture_output=True, timeout=30, env=_env())
            if p.returncode != 0:
                raise AssertionError(f"smbpasswd -a {u.user} failed ({p.returncode}):\n"
                                     + p.stdout + p.stderr)

    # ---- life ----

    def start(self):
        t0 = time.monotonic()
        self.port = free_port()
        self._write_config()
        self._add_users()
        self.logfh = open(self.log, "ab")
        # stdin is a pipe only we hold: smbd --foreground exits on its EOF, so
        # it also goes if this Python dies. A session of its own, because
        # smbd's parent does kill(0, SIGTERM) to its process group on exit.
        self.proc = subprocess.Popen(
            [SMBD, "--foreground", "--no-process-group", "--debug-stdout", "-s", self.conf],
            stdin=subprocess.PIPE, stdout=self.logfh, stderr=subprocess.STDOUT,
            start_new_session=True, env=_env(), cwd=self.dir)
        atexit.register(self.stop)
        try:
            self._wait_up(t0 + START_TIMEOUT)
        except BaseException:
            self._end(check=False)
            raise
        self.start_seconds = time.monotonic() - t0
        return self

    def _wait_up(self, deadline):
        last = "smbd never accepted a connection"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"smbd exited {self.proc.returncode} while starting:\n"
                                     + self.read_log())
            if self._port_open():
                r = self.client(self.units[0], None, None, timeout=10)
                if r.ok:
                    return
                last = f"smbclient -L: rc {r.rc}\n{r.output}"
            time.sleep(0.1)
        raise AssertionError(f"smbd did not come up in {START_TIMEOUT} s ({last}):\n"
                             + self.read_log())

    def _port_open(self):
        try:
            with socket.create_connection((HOST, self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self, timeout=15):
        """Stops smbd (SIGTERM); AssertionError unless it exits cleanly in time."""
        self._end(check=True, timeout=timeout)

    def _end(self, check, timeout=15):
        proc, self.proc = self.proc, None
        if proc is None:
            return
        atexit.unregister(self.stop)
        problem = None
        ours = self._helper_pids() + _group_pids(proc.pid)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            problem = f"smbd did not exit within {timeout} s of SIGTERM"
            proc.kill()
            proc.wait()
        # smbd's exit handler SIGTERMs its own process group, itself included.
        if problem is None and proc.returncode not in (0, -signal.SIGTERM):
            problem = f"smbd exited {proc.returncode}"
        proc.stdin.close()
        self.logfh.close()
        leftovers = _end_pids(self._helper_pids() + _group_pids(proc.pid))
        if problem is None and leftovers:
            problem = f"processes {leftovers} survived SIGTERM"
        _wait_reaped(ours + leftovers)
        if check and problem:
            raise AssertionError(problem + ":\n" + self.read_log())

    def _helper_pids(self):
        """samba-dcerpcd and its rpcd_* workers: smbd starts them on demand
        (for smbclient -L) as daemons of their own session, outside smbd's
        process group; they carry --configfile=<our smb.conf>."""
        mark = ("--configfile=" + self.conf).encode()
        pids = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open(f"/proc/{name}/cmdline", "rb") as fh:
                        if mark in fh.read().split(b"\0"):
                            pids.append(int(name))
                except OSError:
                    pass
        return pids

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self._end(check=exc[0] is None)

    def read_log(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except FileNotFoundError:
            return ""

    # ---- clients ----

    def client(self, unit, share, commands, timeout=30):
        """smbclient as unit on share (share None: `-L`, the share list)."""
        u = as_unit(unit)
        cmd = [SMBCLIENT, "-s", self.client_conf, "-p", str(self.port),
               "-U", f"{u.user}%{u.password}", "-t", str(timeout)]
        if share is None:
            cmd += ["-L", HOST]
        else:
            cmd.append(f"//{HOST}/{share}")
        if commands is not None:
            if not isinstance(commands, str):
                commands = "; ".join(commands)
            cmd += ["-c", commands]
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=timeout + 5, env=_env())
        except subprocess.TimeoutExpired as e:
            out = (e.output or b"").decode("utf-8", "replace")
            raise AssertionError(f"smbclient {share} {commands!r} timed out:\n{out}") from None
        return Result(p.returncode, p.stdout.decode("utf-8", "replace"))

    def put(self, unit, share, local_path, remote_name):
        return self.client(unit, share, f"put {quote(local_path)} {quote(remote_name)}")

    def get(self, unit, share, remote_name, local_path):
        return self.client(unit, share, f"get {quote(remote_name)} {quote(local_path)}")

    def ls(self, unit, share, path=""):
        """Lists the folder path (relative to the share; "" = its root)."""
        target = path.rstrip("/") + "/" if path else ""
        return self.client(unit, share, f"ls {quote(target + '*')}")

    def rename(self, unit, share, a, b, replace=False):
        """rename a to b (smbd does rename(2)); an existing b gives
        NT_STATUS_OBJECT_NAME_COLLISION unless replace (smbclient's -f)."""
        return self.client(unit, share, f"rename {quote(a)} {quote(b)}" + (" -f" if replace else ""))

    def rm(self, unit, share, name):
        return self.client(unit, share, f"del {quote(name)}")
