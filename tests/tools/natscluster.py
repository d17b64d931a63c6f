#!/usr/bin/python3
"""natscluster.py: real nats-server processes on loopback for the exchange's tests.

A hub of `size` JetStream servers (1: a single server; 3: a cluster with routes) and `leaves`
leaf nodes, one per office, each connected to the hub by `leafnodes remotes` with every hub URL.
Everything lives in one folder: a config, a JetStream store and a log per server, and
state.json (ports, pids) so that a later call of this script (kill, restart, stop) finds them.

Leaf nodes and JetStream (nats-server 2.9.10, checked by `selftest`): a leaf connection always
denies the plain JetStream API ($JS.API.>, $KV.>, $OBJ.>) of a non-system account, whether the
leaf runs JetStream or not ("JetStream Not Extended, adding deny" in the leaf's log; see
server/leafnode.go), so a leaf without JetStream does NOT simply pass the hub's API on. What
works, with clients unchanged: the hub's JetStream has a `domain` (DOMAIN below), which makes the
hub accept "$JS.hub.API.>" for every account, and each leaf sets
`default_js_domain: { "$G": "hub" }`, which maps its clients' "$JS.API.>" to "$JS.hub.API.>",
a subject the leaf connection lets through. A client on a leaf then creates streams and
consumers, publishes with acknowledgements, fetches from pull consumers and acks ($JS.ACK.> is
not denied) as it would on the hub, with no API prefix of its own; a client on a hub node works
as usual. (The server warns that default_js_domain is a temporary compatibility option; the
alternative is a client-side domain, i.e. the API prefix "$JS.hub.API".) Users of the leaf's
`authorization` block are in its $G, so the mapping holds with user/password too.

Module use (the e2e tests):
    c = Cluster("/tmp/x", size=3, leaves=2); c.start()   # stopped at exit too
    c.url("leaf1"), c.urls(), c.kill("n2"), c.restart("n2"), c.stop()
CLI (the unit tests, manual use); every command prints "name url" lines for the servers:
    natscluster.py start DIR [--size 3] [--leaves 1] [--user U --password P] [--max-payload N]
    natscluster.py kill DIR NAME | restart DIR NAME | stop DIR | urls DIR | selftest DIR
    natscluster.py hubof DIR LEAF   (prints the hub node's name only)
"""
import argparse
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

DOMAIN = "hub"  # the hub's JetStream domain
SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


def free_ports(n):
    """n distinct free ports: each socket stays bound until all are chosen (one at a time,
    the kernel may hand the same ephemeral port out twice: a node once got its client and
    monitoring ports equal, and exited)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def http_json(port, path, timeout=1.0):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return json.loads(r.read().decode())


class Cluster:
    def __init__(self, base, size=3, leaves=1, user=None, password=None, max_payload=None):
        self.base = os.path.abspath(base)
        self.size, self.leaves = size, leaves
        self.user, self.password, self.max_payload = user, password, max_payload
        self.nodes = {}  # name -> {"kind", "port", "http", "cport", "lport", "pid"}
        self._registered = False

    # ---- state shared with later CLI calls ----
    def _state_path(self):
        return os.path.join(self.base, "state.json")

    def save(self):
        with open(self._state_path(), "w") as f:
            json.dump({"size": self.size, "leaves": self.leaves, "user": self.user,
                       "password": self.password, "max_payload": self.max_payload,
                       "nodes": self.nodes}, f, indent=1)

    @classmethod
    def load(cls, base):
        with open(os.path.join(os.path.abspath(base), "state.json")) as f:
            st = json.load(f)
        c = cls(base, st["size"], st["leaves"], st["user"], st["password"], st["max_payload"])
        c.nodes = st["nodes"]
        return c

    # ---- names and URLs ----
    def hub_names(self):
        return ["n%d" % (i + 1) for i in range(self.size)]

    def leaf_names(self):
        return ["leaf%d" % (i + 1) for i in range(self.leaves)]

    def url(self, name):
        return "nats://127.0.0.1:%d" % self.nodes[name]["port"]

    def urls(self):
        return {n: self.url(n) for n in self.nodes}

    def hub_urls(self):
        return ",".join(self.url(n) for n in self.hub_names())

    # ---- configs ----
    def _config(self, name):
        n = self.nodes[name]
        d = os.path.join(self.base, name)
        lines = ["server_name: %s" % name, "listen: 127.0.0.1:%d" % n["port"],
                 "http: 127.0.0.1:%d" % n["http"], "pid_file: %s/server.pid" % d]
        if self.max_payload:
            lines.append("max_payload: %d" % self.max_payload)
        if n["kind"] == "hub":
            lines.append('jetstream { store_dir: "%s/js", domain: %s, max_memory_store: 64MB, '
                         'max_file_store: 1GB }' % (d, DOMAIN))
            if self.size > 1:
                routes = ", ".join("nats-route://127.0.0.1:%d" % self.nodes[o]["cport"]
                                   for o in self.hub_names() if o != name)
                lines.append("cluster { name: vanthu, listen: 127.0.0.1:%d, routes: [%s] }"
                             % (n["cport"], routes))
            lines.append("leafnodes { listen: 127.0.0.1:%d }" % n["lport"])
        else:
            remotes = ", ".join('"nats-leaf://127.0.0.1:%d"' % self.nodes[h]["lport"]
                                for h in self.hub_names())
            lines.append("leafnodes { reconnect: 1, remotes: [ { urls: [%s] } ] }" % remotes)
            # no JetStream here: $JS.API.> of $G is sent to the hub's domain (see the top)
            lines.append('default_js_domain: { "$G": "%s" }' % DOMAIN)
            if self.user:
                lines.append('authorization { user: "%s", password: "%s" }'
                             % (self.user, self.password))
        return "\n".join(lines) + "\n"

    # ---- processes ----
    def _spawn(self, name):
        d = os.path.join(self.base, name)
        os.makedirs(d, exist_ok=True)
        conf = os.path.join(d, "server.conf")
        with open(conf, "w") as f:
            f.write(self._config(name))
        log = open(os.path.join(d, "server.log"), "ab")
        p = subprocess.Popen([SERVER, "-c", conf], stdout=log, stderr=log,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.nodes[name]["pid"] = p.pid
        self._procs[name] = p

    _procs = {}

    def start(self, timeout=30):
        os.makedirs(self.base, exist_ok=True)
        self._procs = {}
        ports = iter(free_ports(4 * len(self.hub_names()) + 2 * len(self.leaf_names())))
        for name in self.hub_names():
            self.nodes[name] = {"kind": "hub", "port": next(ports), "http": next(ports),
                                "cport": next(ports), "lport": next(ports), "pid": 0}
        for name in self.leaf_names():
            self.nodes[name] = {"kind": "leaf", "port": next(ports), "http": next(ports),
                                "pid": 0}
        if not self._registered:
            atexit.register(self.stop)
            self._registered = True
        for name in self.nodes:
            self._spawn(name)
        self.save()
        for name in self.nodes:
            self.wait_ready(name, timeout)
        return self

    def _alive(self, name):
        pid = self.nodes[name].get("pid", 0)
        if not pid:
            return False
        p = self._procs.get(name)
        if p is not None:
            return p.poll() is None
        try:  # not our child (a later CLI call): zombie-free check through /proc
            with open("/proc/%d/stat" % pid) as f:
                return f.read().split(")")[-1].split()[0] != "Z"
        except OSError:
            return False

    def _signal(self, name, sig):
        if self._alive(name):
            try:
                os.kill(self.nodes[name]["pid"], sig)
            except ProcessLookupError:
                pass
        p = self._procs.get(name)
        deadline = time.time() + 10
        while self._alive(name) and time.time() < deadline:
            time.sleep(0.02)
        if p is not None:
            p.poll()
        self.nodes[name]["pid"] = 0
        self.save()

    def kill(self, name):
        """SIGKILL: no goodbye to routes, leaves or clients."""
        self._signal(name, signal.SIGKILL)

    def restart(self, name, timeout=30):
        if self._alive(name):
            self._signal(name, signal.SIGTERM)
        self._spawn(name)
        self.save()
        self.wait_ready(name, timeout)

    def stop(self):
        for name in list(self.nodes):
            if self._alive(name):
                os.kill(self.nodes[name]["pid"], signal.SIGKILL)
        for name in list(self.nodes):
            self._signal(name, signal.SIGKILL)

    def hub_of(self, leaf):
        """The hub node leaf is attached to now (from the leaf's /leafz), or None."""
        ports = {self.nodes[h]["lport"]: h for h in self.hub_names()}
        for l in http_json(self.nodes[leaf]["http"], "/leafz").get("leafs", []):
            if l.get("port") in ports:
                return ports[l["port"]]
        return None

    def wait_ready(self, name, timeout=30):
        """Monitoring answers; a hub node's /healthz is ok (JetStream current), a leaf node has
        its leaf connection up."""
        n = self.nodes[name]
        deadline = time.time() + timeout
        last = "no answer"
        while time.time() < deadline:
            if not self._alive(name):
                raise RuntimeError("%s exited; see %s/%s/server.log" % (name, self.base, name))
            try:
                if n["kind"] == "hub":
                    h = http_json(n["http"], "/healthz")
                    if h.get("status") == "ok":
                        return
                    last = str(h)
                else:
                    v = http_json(n["http"], "/varz")
                    if v.get("leafnodes", 0) > 0:
                        return
                    last = "no leaf connection"
            except OSError as e:
                last = str(e)
            except ValueError as e:
                last = str(e)
            time.sleep(0.1)
        raise RuntimeError("%s not ready after %ss: %s" % (name, timeout, last))


def watch(base, owner):
    """A detached watcher: once process `owner` is gone (a crashed test), every server of
    base (pids re-read, as restart changes them) is killed."""
    if os.fork() != 0:
        return
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    while True:
        time.sleep(0.5)
        try:
            os.kill(owner, 0)
            if os.path.exists(os.path.join(base, "state.json")):
                continue
            os._exit(0)  # stopped and removed: nothing to watch
        except ProcessLookupError:
            break
        except PermissionError:
            continue
    try:
        Cluster.load(base).stop()
    except Exception:
        pass
    os._exit(0)


def selftest(base):
    """A client on leaf1 (no JetStream of its own) reaches the hub's JetStream API: the
    account info request answers, and a stream made through the leaf holds a message."""
    c = Cluster(base, size=3, leaves=1).start()
    try:
        s = socket.create_connection(("127.0.0.1", c.nodes["leaf1"]["port"]), timeout=5)
        f = s.makefile("rb")
        f.readline()  # INFO

        def request(subj, payload=b""):
            s.sendall(b'CONNECT {"verbose":false,"headers":true}\r\nSUB _R.1 1\r\n'
                      b"PUB %s _R.1 %d\r\n%s\r\nPING\r\n" % (subj.encode(), len(payload), payload))
            while True:
                line = f.readline()
                if line.startswith(b"MSG"):
                    n = int(line.split()[-1])
                    body = f.read(n + 2)[:-2]
                    return json.loads(body)
        info = request("$JS.API.INFO")
        assert "error" not in info, info
        cfg = json.dumps({"name": "T", "subjects": ["t.>"], "num_replicas": 3}).encode()
        made = request("$JS.API.STREAM.CREATE.T", cfg)
        assert "error" not in made, made
        ack = request("t.1", b"hello")
        assert ack.get("stream") == "T" and ack.get("seq") == 1, ack
        print("selftest ok: JetStream reached through the leaf node:", ack)
        s.close()
    finally:
        c.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cmd", choices=["start", "kill", "restart", "stop", "urls", "selftest",
                                       "hubof"])
    ap.add_argument("dir")
    ap.add_argument("name", nargs="?")
    ap.add_argument("--size", type=int, default=3)
    ap.add_argument("--leaves", type=int, default=1)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--max-payload", type=int)
    ap.add_argument("--owner", type=int, help="stop every server when this process is gone")
    a = ap.parse_args()
    if a.cmd == "selftest":
        selftest(a.dir)
        return 0
    if a.cmd == "start":
        c = Cluster(a.dir, a.size, a.leaves, a.user, a.password, a.max_payload)
        try:
            c.start()
        except Exception:
            c.stop()
            raise
        atexit.unregister(c.stop)  # the servers outlive this call; `stop` ends them
        if a.owner:
            watch(c.base, a.owner)
    else:
        c = Cluster.load(a.dir)
        if a.cmd in ("kill", "restart", "hubof") and a.name not in c.nodes:
            ap.error("unknown server %r" % a.name)
        if a.cmd == "hubof":
            print(c.hub_of(a.name) or "none")
            return 0
        if a.cmd == "kill":
            c.kill(a.name)
        elif a.cmd == "restart":
            c.restart(a.name)
        elif a.cmd == "stop":
            c.stop()
    for n, u in c.urls().items():
        print(n, u)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
