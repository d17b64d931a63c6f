"""End-to-end tests of the foundation: the real vanthud, the real vanthuctl, real uids."""
import json
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import time
import unittest

from harness import (IS_ROOT, REPO, VANTHUCTL, VANTHUD, SAN_ENV, Daemon, DaemonTest, need_root,
                     read_reply, request)


class StatusAndIdentity(DaemonTest):

    def test_status_readable_and_json(self):
        r = self.d.ctl("status")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("đang chạy", r.stdout)
        self.assertIn("Cơ sở dữ liệu:", r.stdout)
        self.assertIn("Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu (UBND)", r.stdout)
        self.assertIn(os.path.realpath(self.d.db), r.stdout)
        j = self.d.ctl("status", json_out=True)
        self.assertEqual(j.returncode, 0)
        res = j.json["result"]
        self.assertTrue(j.json["ok"])
        self.assertEqual(res["database"]["path"], os.path.realpath(self.d.db))
        self.assertEqual(res["database"]["schema_version"], 12)
        self.assertGreater(res["database"]["bytes"], 0)
        self.assertGreaterEqual(res["counts"]["audit"], 1)  # daemon.start
        self.assertEqual(res["counts"]["documents"], 0)
        self.assertRegex(r.stdout, r"Văn bản đi: +0\n")
        self.assertEqual(res["pid"], self.d.proc.pid)
        self.assertEqual(res["config"], self.d.conf)

    def test_ping(self):
        r = self.d.ctl("ping")
        self.assertEqual(r.returncode, 0)
        self.assertIn("trả lời", r.stdout)

    def test_whoami_root_is_admin(self):
        r = self.d.ctl("whoami", json_out=True)
        self.assertEqual(r.json["result"]["user"], "root")
        self.assertIn("admin", r.json["result"]["roles"])
        r = self.d.ctl("whoami")
        self.assertIn("quản trị", r.stdout)

    @need_root
    def test_whoami_real_uids(self):
        expect = {"vtt-ana": ["drafter"], "vtt-binh": ["reviewer"], "vtt-chi": ["signer"],
                  "vtt-dung": ["clerk"], "vtt-giang": ["auditor"], "vtt-hai": ["drafter", "clerk"]}
        for user, roles in expect.items():
            r = self.d.ctl("whoami", user=user, json_out=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.json["result"]["user"], user)
            self.assertEqual(sorted(r.json["result"]["roles"]), sorted(roles))
        r = self.d.ctl("whoami", user="vtt-chi")
        self.assertIn("lãnh đạo ký", r.stdout)
        self.assertIn("Đặng Minh Thông", r.stdout)
        self.assertIn("Phó Chủ tịch", r.stdout)
        self.assertIn("KT.", r.stdout)

    @need_root
    def test_uid_without_role_refused(self):
        r = self.d.ctl("status", user="vtt-norole")
        self.assertEqual(r.returncode, 1)
        self.assertIn("E_DENIED", r.stderr)
        self.assertIn("vtt-norole", r.stderr)
        r = self.d.ctl("whoami", user="vtt-norole", json_out=True)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.json["error"]["code"], "E_DENIED")
        # still serving everyone else
        self.assertEqual(self.d.ctl("status").returncode, 0)

    @need_root
    def test_uid_outside_socket_group_cannot_connect(self):
        r = self.d.ctl("status", user="nobody")
        self.assertEqual(r.returncode, 3)
        self.assertIn("không có quyền kết nối tới vanthud", r.stderr)
        self.assertIn('chưa thuộc nhóm "vtt-sock"', r.stderr)

    @need_root
    def test_role_gated_commands(self):
        backup = os.path.join(self.d.root, "by-ana.db")
        r = self.d.ctl("backup", backup, user="vtt-ana")
        self.assertEqual(r.returncode, 1)
        self.assertIn("E_DENIED", r.stderr)
        self.assertFalse(os.path.exists(backup))
        self.assertEqual(self.d.ctl("audit", user="vtt-ana").returncode, 1)
        self.assertEqual(self.d.ctl("audit", user="vtt-giang").returncode, 0)
        self.assertEqual(self.d.ctl("verify", user="vtt-dung").returncode, 0)

    def test_socket_modes(self):
        st = os.stat(self.d.socket)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        dst = os.stat(os.path.dirname(self.d.socket))
        self.assertEqual(stat.S_IMODE(dst.st_mode), 0o750)
        if IS_ROOT:
            import grp
            self.assertEqual(st.st_gid, grp.getgrnam("vtt-sock").gr_gid)

    def test_spool_folders_made(self):
        for name in ("incoming", "claimed", "accepted", "rejected", "receipts", "outgoing"):
            self.assertTrue(os.path.isdir(os.path.join(self.d.spool, name)), name)


class Protocol(DaemonTest):

    def test_garbage_then_valid_on_same_connection(self):
        s = self.d.connect()
        s.sendall(b"this is not json\n")
        r, _ = read_reply(s)
        self.assertFalse(r["ok"])
        self.assertEqual(r["error"]["code"], "E_PROTO")
        self.assertIn("JSON", r["error"]["message"])
        s.sendall(b"[1,2]\n")
        r, _ = read_reply(s)
        self.assertEqual(r["error"]["code"], "E_PROTO")
        r = request(s, "no-such-command")
        self.assertEqual(r["error"]["code"], "E_UNKNOWN_CMD")
        r = request(s, "ping")
        self.assertTrue(r["ok"])
        s.close()

    def test_pipelined_requests_answered_in_order(self):
        s = self.d.connect()
        cmds = ["ping", "whoami", "bogus", "status", "ping"] * 20
        s.sendall(b"".join(json.dumps({"cmd": c, "x-unknown-field": [1]}).encode() + b"\n"
                           for c in cmds))
        buf = b""
        for c in cmds:
            r, buf = read_reply(s, buf)
            if c == "bogus":
                self.assertEqual(r["error"]["code"], "E_UNKNOWN_CMD")
            elif c == "ping":
                self.assertTrue(r["result"]["pong"])
            elif c == "whoami":
                self.assertIn("roles", r["result"])
            else:
                self.assertIn("uptime", r["result"])
        s.close()

    def test_bad_args(self):
        s = self.d.connect()
        s.sendall(b'{"cmd":"audit","args":"x"}\n')
        r, _ = read_reply(s)
        self.assertEqual(r["error"]["code"], "E_PROTO")
        r = request(s, "audit", limit=0)
        self.assertEqual(r["error"]["code"], "E_INVALID")
        r = request(s, "audit", limit="many")
        self.assertEqual(r["error"]["code"], "E_INVALID")
        r = request(s, "backup", path="relative.db")
        self.assertEqual(r["error"]["code"], "E_INVALID")
        r = request(s, "backup")
        self.assertEqual(r["error"]["code"], "E_INVALID")
        s.close()

    def test_oversized_line(self):
        s = self.d.connect()
        s.sendall(b'{"cmd":"ping","pad":"' + b"x" * 70000)
        r, _ = read_reply(s)
        self.assertEqual(r["error"]["code"], "E_PROTO")
        # the daemon closes that connection ...
        s.settimeout(5)
        try:
            rest = s.recv(100)
        except ConnectionResetError:
            rest = b""
        self.assertEqual(rest, b"")
        s.close()
        # ... and keeps serving everyone else
        self.assertEqual(self.d.ctl("status").returncode, 0)

    def test_line_of_exactly_the_cap_is_read(self):
        s = self.d.connect()
        head = b'{"cmd":"ping","pad":"'
        tail = b'"}'
        line = head + b"y" * (65536 - len(head) - len(tail)) + tail
        self.assertEqual(len(line), 65536)
        s.sendall(line + b"\n")
        r, _ = read_reply(s)
        self.assertTrue(r["ok"], r)
        s.close()

    def test_fifty_idle_connections_do_not_block(self):
        idle = [self.d.connect() for _ in range(50)]
        # half of them send half a request and stall
        for s in idle[:25]:
            s.sendall(b'{"cmd":"sta')
        t = time.time()
        r = self.d.ctl("status", json_out=True)
        self.assertEqual(r.returncode, 0)
        self.assertLess(time.time() - t, 20)  # generous: a block would hang until the ctl timeout
        self.assertGreaterEqual(r.json["result"]["counts"]["connections"], 51)
        for s in idle:
            s.close()

    def test_client_vanishing_mid_request(self):
        for _ in range(20):
            s = self.d.connect()
            s.sendall(b'{"cmd":"status"}\n{"cmd":"ping"}\n')
            s.close()
        self.assertEqual(self.d.ctl("ping").returncode, 0)


class Limits(DaemonTest):
    config = {"idle_timeout": 2, "max_clients": 8, "max_clients_per_uid": 4}

    def test_idle_timeout_closes(self):
        s = self.d.connect()
        s.settimeout(10)
        t = time.time()
        self.assertEqual(s.recv(10), b"")
        self.assertGreater(time.time() - t, 1.0)
        s.close()

    def test_per_uid_cap(self):
        held = [self.d.connect() for _ in range(4)]
        for s in held:
            self.assertTrue(request(s, "ping")["ok"])
        extra = self.d.connect()
        r, _ = read_reply(extra)
        self.assertEqual(r["error"]["code"], "E_BUSY")
        extra.close()
        if IS_ROOT:
            # another uid is not held back by root's connections
            self.assertEqual(self.d.ctl("ping", user="vtt-ana").returncode, 0)
        for s in held:
            s.close()
        time.sleep(0.3)
        self.assertEqual(self.d.ctl("ping").returncode, 0)

    @need_root
    def test_total_cap(self):
        held = []
        for user_sock in range(4):
            held.append(self.d.connect())
        for s in held:
            self.assertTrue(request(s, "ping")["ok"])
        # four more from other uids fill the daemon to 8
        others = []
        for u in ("vtt-ana", "vtt-binh", "vtt-chi", "vtt-dung"):
            p = subprocess.Popen(["/usr/bin/python3", "-c",
                                  "import socket,sys,time;s=socket.socket(socket.AF_UNIX);"
                                  "s.connect(sys.argv[1]);print('up',flush=True);time.sleep(30)",
                                  self.d.socket], stdout=subprocess.PIPE,
                                 preexec_fn=__import__("harness").as_user(u))
            self.assertEqual(p.stdout.readline().strip(), b"up")
            others.append(p)
        time.sleep(0.3)
        r = self.d.ctl("ping", user="vtt-giang", json_out=True)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.json["error"]["code"], "E_BUSY")
        for p in others:
            p.kill()
            p.wait()
        for s in held:
            s.close()


class Lifecycle(unittest.TestCase):

    def setUp(self):
        self.d = Daemon()

    def tearDown(self):
        self.d.cleanup()

    def test_sigterm_exits_zero_and_removes_socket(self):
        self.d.start()
        s = self.d.connect()
        self.assertTrue(request(s, "ping")["ok"])
        self.assertEqual(self.d.stop(signal.SIGTERM), 0)
        self.assertFalse(os.path.exists(self.d.socket))
        self.assertIn("stopped", self.d.read_log())
        s.close()

    def test_systemd_told_what_it_waits_for(self):
        # a large store's quick_check takes a while: systemd shows why before READY=1
        self.d.start(wait=False)
        seen = []
        while not any("READY=1" in m for m in seen):
            m = self.d.notifications(timeout=30)
            self.assertIsNotNone(m, seen)
            seen.append(m)
        self.assertEqual(seen[0], "STATUS=checking the database")
        self.assertEqual(seen[-1].split("\n"), ["READY=1", "STATUS=serving"])
        self.assertEqual(self.d.stop(), 0)

    def test_sigint_exits_zero(self):
        self.d.start()
        self.assertEqual(self.d.stop(signal.SIGINT), 0)
        self.assertFalse(os.path.exists(self.d.socket))

    def test_data_present_after_restart(self):
        self.d.start()
        backup = os.path.join(self.d.root, "b1.db")
        self.assertEqual(self.d.ctl("backup", backup).returncode, 0)
        first = self.d.ctl("audit", "--limit", "50", json_out=True).json["result"]["entries"]
        self.d.stop()
        self.d.start()
        after = self.d.ctl("audit", "--limit", "50", json_out=True).json["result"]["entries"]
        actions = [e["action"] for e in reversed(after)]
        self.assertEqual(actions[:4], ["daemon.start", "backup", "daemon.stop", "daemon.start"])
        self.assertEqual(after[-len(first):], first)
        self.assertEqual(after[-2]["object"], backup)
        v = self.d.ctl("verify", json_out=True).json["result"]
        self.assertTrue(v["intact"])
        self.assertEqual(v["checked"], 4)
        self.d.stop()

    def test_second_daemon_refused(self):
        self.d.start()
        env = dict(os.environ, **SAN_ENV)
        r = subprocess.run([VANTHUD, "-c", self.d.conf], capture_output=True, timeout=30, env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"another vanthud (pid %d)" % self.d.proc.pid, r.stderr)
        # same spool, another socket and database: the lock still refuses it
        other = Daemon()
        try:
            other.write_config(spool=self.d.spool)
            r = subprocess.run([VANTHUD, "-c", other.conf], capture_output=True, timeout=30,
                               env=env)
            self.assertEqual(r.returncode, 1)
            self.assertIn(b"already running on this spool", r.stderr)
        finally:
            other.cleanup()
        self.assertEqual(self.d.ctl("ping").returncode, 0)
        self.d.stop()

    def test_socket_in_use_by_another_daemon(self):
        self.d.start()
        other = Daemon()
        try:
            other.write_config(socket=self.d.socket)
            env = dict(os.environ, **SAN_ENV)
            r = subprocess.run([VANTHUD, "-c", other.conf], capture_output=True, timeout=30,
                               env=env)
            self.assertEqual(r.returncode, 1)
            self.assertIn(b"another daemon is answering", r.stderr)
        finally:
            other.cleanup()
        self.assertEqual(self.d.ctl("ping").returncode, 0)
        self.d.stop()

    def test_stale_socket_after_crash(self):
        self.d.start()
        self.d.kill()  # SIGKILL: the socket file stays behind
        self.assertTrue(os.path.exists(self.d.socket))
        self.d.start()
        self.assertEqual(self.d.ctl("ping").returncode, 0)
        self.assertIn("stale socket", self.d.read_log())
        self.d.stop()

    def test_file_in_place_of_socket_is_not_removed(self):
        os.makedirs(os.path.dirname(self.d.socket), exist_ok=True)
        with open(self.d.socket, "w") as fh:
            fh.write("not a socket")
        self.d.start(wait=False)
        self.assertEqual(self.d.proc.wait(30), 1)
        self.assertIn("đã có và không phải là socket", self.d.read_log())
        with open(self.d.socket) as fh:
            self.assertEqual(fh.read(), "not a socket")

    def test_foreign_database_untouched(self):
        with open(self.d.db, "w") as fh:
            fh.write("Sổ đăng ký văn bản đi — bản giấy\n")
        before = open(self.d.db, "rb").read()
        self.d.start(wait=False)
        self.assertEqual(self.d.proc.wait(30), 1)
        self.assertIn("not an SQLite database", self.d.read_log())
        self.assertEqual(open(self.d.db, "rb").read(), before)
        self.assertFalse(os.path.exists(self.d.db + "-wal"))
        r = subprocess.run([VANTHUD, "-n", "-c", self.d.conf], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"database:", r.stderr)

    def test_other_programs_sqlite_untouched(self):
        con = sqlite3.connect(self.d.db)
        con.execute("CREATE TABLE contacts(name TEXT)")
        con.commit()
        con.close()
        self.d.start(wait=False)
        self.assertEqual(self.d.proc.wait(30), 1)
        self.assertIn("another program", self.d.read_log())

    def test_spool_cannot_be_created(self):
        blocker = os.path.join(self.d.root, "blocker")
        open(blocker, "w").close()
        self.d.write_config(spool=os.path.join(blocker, "spool"))
        self.d.start(wait=False)
        self.assertEqual(self.d.proc.wait(30), 1)
        log = self.d.read_log()
        self.assertIn("spool: không tạo được " + os.path.join(blocker, "spool") + ": "
                      + blocker + " không phải là thư mục", log)

    @need_root
    def test_spool_not_writable_for_daemon_user(self):
        # run the daemon as an unprivileged user on a spool it cannot write
        spool = os.path.join(self.d.root, "ro-spool")
        os.makedirs(spool)
        os.chmod(spool, 0o555)
        self.d.write_config(spool=spool)
        env = dict(os.environ, **SAN_ENV)
        r = subprocess.run([VANTHUD, "-c", self.d.conf], capture_output=True, timeout=30,
                           env=env, preexec_fn=__import__("harness").as_user("vtt-ana"))
        self.assertEqual(r.returncode, 1)
        self.assertIn(spool.encode(), r.stderr)
        self.assertIn("không có quyền".encode(), r.stderr)

    def test_sighup_reload(self):
        self.d.start()
        self.d.write_config(org_name="Ủy ban nhân dân xã Long Hải")
        self.d.proc.send_signal(signal.SIGHUP)
        self.assertIn("RELOADING=1", self.d.notifications())
        self.assertIn("READY=1", self.d.notifications())
        r = self.d.ctl("status", json_out=True)
        self.assertEqual(r.json["result"]["organisation"]["name"], "Ủy ban nhân dân xã Long Hải")
        # a broken configuration is refused; the running one stays
        with open(self.d.conf, "a") as fh:
            fh.write("[limits]\nmax_clients = lots\n")
        self.d.proc.send_signal(signal.SIGHUP)
        self.assertIn("RELOADING=1", self.d.notifications())
        self.assertIn("READY=1", self.d.notifications())
        r = self.d.ctl("status", json_out=True)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.json["result"]["organisation"]["name"], "Ủy ban nhân dân xã Long Hải")
        log = self.d.read_log()
        self.assertIn("reload refused", log)
        self.assertIn("max_clients", log)
        actions = [e["action"] for e in
                   self.d.ctl("audit", json_out=True).json["result"]["entries"]]
        self.assertEqual(actions.count("config.reload"), 1)
        self.d.stop()

    def test_backup_is_consistent_and_online(self):
        self.d.start()
        dest = os.path.join(self.d.root, "sao-lưu.db")
        r = self.d.ctl("backup", dest)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Đã sao lưu", r.stdout)
        con = sqlite3.connect(dest)
        self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        self.assertEqual(con.execute("PRAGMA application_id").fetchone()[0], 0x564e5448)
        self.assertGreaterEqual(con.execute("SELECT count(*) FROM audit").fetchone()[0], 1)
        con.close()
        self.assertEqual([n for n in os.listdir(self.d.root) if ".tmp" in n], [])
        # relative path from the client's folder
        r = self.d.ctl("backup", "rel.db")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.d.root, "rel.db")))
        # the live database itself is refused
        r = self.d.ctl("backup", self.d.db)
        self.assertEqual(r.returncode, 1)
        self.assertIn("E_INVALID", r.stderr)
        self.assertEqual(self.d.ctl("ping").returncode, 0)
        self.d.stop()


class ConfigCheck(unittest.TestCase):

    def setUp(self):
        self.d = Daemon()

    def tearDown(self):
        self.d.cleanup()

    def run_check(self, conf):
        return subprocess.run([VANTHUD, "-n", "-c", conf], capture_output=True, timeout=30,
                              env=dict(os.environ, **SAN_ENV))

    def test_good_config(self):
        r = self.run_check(self.d.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("cấu hình hợp lệ".encode(), r.stdout)
        # -n creates nothing
        self.assertFalse(os.path.exists(self.d.spool))
        self.assertFalse(os.path.exists(self.d.db))

    def test_every_problem_listed(self):
        with open(self.d.conf, "a", encoding="utf-8") as fh:
            fh.write("[limits]\nidle_timeout = -5\n[paths]\nspol = /x\n[log]\nlevel = chatty\n")
        lines = open(self.d.conf, encoding="utf-8").read().splitlines()
        r = self.run_check(self.d.conf)
        self.assertEqual(r.returncode, 1)
        err = r.stderr.decode()
        n_idle = lines.index("idle_timeout = -5") + 1
        n_spol = lines.index("spol = /x") + 1
        n_level = lines.index("level = chatty") + 1
        self.assertIn(f"{self.d.conf}:{n_idle}: idle_timeout: cần một số nguyên từ 1 đến 86400, "
                      "không phải '-5'", err)
        self.assertIn(f"{self.d.conf}:{n_spol}: không có khóa 'spol' trong [paths]", err)
        self.assertIn(f"{self.d.conf}:{n_level}: level: 'chatty' không phải là một trong", err)
        self.assertEqual(err.strip().splitlines()[-1],
                         f"{self.d.conf}: 3 lỗi; vanthud sẽ không chạy với cấu hình này")
        self.assertEqual(len(err.strip().splitlines()), 4)
        # the daemon refuses to start on it too
        r = subprocess.run([VANTHUD, "-c", self.d.conf], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 1)

    def test_missing_file(self):
        r = self.run_check(os.path.join(self.d.root, "absent.conf"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("absent.conf: không mở được: không có tệp hay thư mục đó".encode(), r.stderr)

    def test_missing_folders_named(self):
        self.d.write_config(templates=os.path.join(self.d.root, "no-templates"))
        r = self.run_check(self.d.conf)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"templates: " + os.path.join(self.d.root, "no-templates").encode(), r.stderr)

    def test_embedded_default(self):
        # from a folder with the repository's layout
        r = subprocess.run([VANTHUD, "-n"], capture_output=True, timeout=30, cwd=REPO)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("cấu hình dựng sẵn: cấu hình hợp lệ".encode(), r.stdout)

    def test_independent_faults_all_in_one_run(self):
        """Four faults in four stages: -n names every one, and the start refuses the same list."""
        root = self.d.root
        broken_units = os.path.join(root, "units.xml")
        with open(broken_units, "w", encoding="utf-8") as fh:
            fh.write('<units xmlns="urn:vanthu:units:1"><unit code="X"/>\n')   # not closed
        spool = os.path.join(root, "no", "such", "spool")    # vanthud makes one level only
        self.d.write_config(templates=os.path.join(root, "no-templates"), spool=spool,
                            socket_group="vtt-no-such-group",
                            extra=f"[paths]\nunits = {broken_units}\n")
        r = self.run_check(self.d.conf)
        self.assertEqual(r.returncode, 1)
        err = r.stderr.decode()
        expect = [
            f"spool: không tạo được {spool}: {os.path.dirname(spool)}: không có tệp hay thư mục đó",
            "socket_group: không có nhóm 'vtt-no-such-group'",
            f"templates: {root}/no-templates: không có tệp hay thư mục đó",
            f"{broken_units}:",
        ]
        for text in expect:
            self.assertIn(text, err)
        problems = err.strip().splitlines()
        self.assertRegex(problems[-1], r": \d+ lỗi; vanthud sẽ không chạy")
        self.assertIn(f"{len(problems) - 1} lỗi", problems[-1])
        self.assertFalse(os.path.exists(os.path.join(root, "no")))
        # the start refuses, before making anything, with exactly the problems -n listed
        self.d.start(wait=False)
        self.assertEqual(self.d.proc.wait(30), 1)
        self.d.logfh.close()
        self.d.notify.close()
        logged = [line.split(" vanthud error: ", 1)[1] for line in self.d.read_log().splitlines()
                  if " vanthud error: " in line]
        self.assertEqual(logged[:-1], problems[:-1])
        self.assertIn(f"refusing to start: {len(problems) - 1} problems", logged[-1])
        self.assertFalse(os.path.exists(os.path.join(root, "no")))
        self.assertFalse(os.path.exists(self.d.db))

    @need_root
    def test_socket_group_the_daemon_is_not_in(self):
        # vtt-ana may not give the socket to vtt-clerk: -n says so, as the start would fail
        home = os.path.join(self.d.root, "ana")
        os.makedirs(home)
        os.chown(home, __import__("pwd").getpwnam("vtt-ana").pw_uid, -1)
        self.d.write_config(spool=os.path.join(home, "spool"), database=os.path.join(home, "v.db"),
                            socket=os.path.join(home, "run", "s.sock"), socket_group="vtt-clerk")
        r = subprocess.run([VANTHUD, "-n", "-c", self.d.conf], capture_output=True, timeout=30,
                           env=dict(os.environ, **SAN_ENV),
                           preexec_fn=__import__("harness").as_user("vtt-ana"))
        self.assertEqual(r.returncode, 1, r.stderr.decode())
        self.assertIn("socket_group: vanthud (uid", r.stderr.decode())
        self.assertIn("không ở trong nhóm 'vtt-clerk'", r.stderr.decode())
        self.assertEqual(len(r.stderr.decode().strip().splitlines()), 2)


class Options(unittest.TestCase):
    """vanthud's own options: --help, --version, and a wrong one."""

    def test_help_names_every_option(self):
        for arg in ("-h", "--help"):
            r = subprocess.run([VANTHUD, arg], capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 0)
            out = r.stdout.decode()
            self.assertTrue(out.startswith("cách dùng: vanthud"), out)
            for opt in ("-c TỆP", "--config", "-n", "--check", "-V", "--version", "-h", "--help"):
                self.assertIn(opt, out)

    def test_version_is_version_h(self):
        with open(os.path.join(REPO, "daemon", "version.h")) as fh:
            version = __import__("re").search(r'VANTHU_VERSION "([^"]+)"', fh.read()).group(1)
        for arg in ("-V", "--version"):
            r = subprocess.run([VANTHUD, arg], capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 0)
            self.assertEqual(r.stdout.decode(), f"vanthud {version}\n")

    def test_wrong_option_exits_2_in_vietnamese(self):
        for args in (["--bogus"], ["-x"], ["-c"], ["extra"]):
            r = subprocess.run([VANTHUD, *args], capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 2, args)
            err = r.stderr.decode()
            self.assertTrue(err.startswith("vanthud: "), err)
            self.assertIn("cách dùng: vanthud", err)
            self.assertNotIn("invalid option", err)
            self.assertNotIn("unrecognized", err)


class SchemaMessages(DaemonTest):
    """libxml2's own words never reach a unit: its follow-up on a bad value is translated too."""

    def test_no_precomputed_value_in_vietnamese(self):
        from intake_util import drop, read_receipt, wait_receipts
        with open(os.path.join(REPO, "workflows/bao-cao/examples/05-xa-phuoc-hoi.xml"),
                  encoding="utf-8") as fh:
            text = fh.read()
        bad = text.replace('indicator code="DVC-TT"', 'indicator code="DVC TT"', 1)
        self.assertNotEqual(bad, text)
        drop(self.d.spool, "bad-code.xml", bad.encode("utf-8"))
        rec = read_receipt(wait_receipts(self.d.spool, 1)[0])
        self.assertEqual(rec["outcome"], "rejected")
        messages = [m for _, _, m in rec["errors"]]
        self.assertTrue(any("không đúng định dạng" in m for m in messages), messages)
        self.assertIn('thuộc tính "code" của <indicator> có giá trị không hợp lệ (lỗi ngay trên) '
                      'nên không kiểm tra được nó có trùng lặp hay không', messages)
        for m in messages + [rec["text"]]:
            self.assertNotIn("precomputed", m)
            self.assertNotIn("không đúng lược đồ:", m)


class Client(unittest.TestCase):

    def test_usage_errors_exit_2(self):
        for args in ([], ["frobnicate"], ["status", "extra"], ["audit", "--limit", "x"],
                     ["backup"], ["-s"], ["--bogus"]):
            r = subprocess.run([VANTHUCTL, *args], capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 2, args)
            self.assertTrue(r.stderr, args)

    def test_help(self):
        r = subprocess.run([VANTHUCTL, "--help"], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        self.assertIn("cách dùng".encode(), r.stdout)

    def test_unreachable_exit_3(self):
        r = subprocess.run([VANTHUCTL, "-s", "/nonexistent/vanthu.sock", "status"],
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 3)
        self.assertIn("không có ổ cắm /nonexistent/vanthu.sock: vanthud chưa chạy".encode(), r.stderr)
        env = dict(os.environ, VANTHU_SOCKET="/nonexistent/env.sock")
        r = subprocess.run([VANTHUCTL, "ping"], capture_output=True, timeout=30, env=env)
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"/nonexistent/env.sock", r.stderr)

    def test_server_closing_without_reply_exit_3(self):
        import tempfile
        d = tempfile.mkdtemp()
        path = os.path.join(d, "s.sock")
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(path)
        srv.listen(1)
        p = subprocess.Popen([VANTHUCTL, "-s", path, "status"], stderr=subprocess.PIPE)
        c, _ = srv.accept()
        c.recv(1000)
        c.close()
        self.assertEqual(p.wait(30), 3)
        self.assertIn("đóng kết nối".encode(), p.stderr.read())
        srv.close()


if __name__ == "__main__":
    unittest.main()

