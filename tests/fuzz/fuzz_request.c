/*
 * fuzz_request.c: libFuzzer target owning what a control-socket client's
 * bytes go through: the framing (proto_buf_append/next/consume, the
 * PROTO_MAX_LINE cap), proto_parse_request, and then ctl.c's dispatch:
 * the command table, every command's argument checking, and the command
 * itself against a real but throw-away database and the real catalog
 * (workflows/, build/templates). Replies are encoded as they would be sent.
 *
 * The commands are found through ctl_command_find (ctl_priv.h) and called
 * without a socket; the commands see the catalog loaded here (fctl.cat), as
 * a running daemon's see the one main.c gives them. The input is the byte stream a client writes, any number of lines;
 * it is fed in uneven pieces as a socket would deliver it. Every line may
 * name its sender in a "_peer" field (see set_peer).
 */
#include "ctl_priv.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <libxml/parser.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "clock.h"
#include "config.h"
#include "diag.h"
#include "fuzz_util.h"
#include "log.h"
#include "proto.h"
#include "store.h"
#include "xmlin.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void set_peer(json_t *root);

/* At most this many lines of one input are handled (a client may send thousands). */
#define FUZZ_MAX_LINES 64

static struct config cfg;
static struct store *store;
static struct catalog *catalog;
static struct ctl fctl;
static struct conn fconn;
/* TMP_BASE/vanthu-fuzz-request-PID: in /dev/shm when there is one (SQLite's fsyncs cost nothing) */
#define TMP_PREFIX "vanthu-fuzz-request-"
static const char *tmp_base = "/dev/shm";
static char tmpdir[64];
static char tmp_spool[sizeof(tmpdir) + 16];
static char tmp_db[sizeof(tmpdir) + 16];
static char *empty_db;          /* the bytes of a new, empty database */
static size_t empty_db_len;

/*
 * Every input starts from the same empty database, so that a crash replays
 * alone: the file is rewritten from empty_db and opened again.
 */
static void fresh_store(void)
{
	char side[sizeof(tmp_db) + 8], err[512];
	FILE *f;

	store_close(store);
	store = NULL;
	snprintf(side, sizeof(side), "%s-wal", tmp_db);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", tmp_db);
	unlink(side);
	f = fopen(tmp_db, "wb");
	if (f == NULL || fwrite(empty_db, 1, empty_db_len, f) != empty_db_len || fclose(f) != 0 ||
	    store_open(tmp_db, &store, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_request: cannot renew the database: %s\n", tmp_db);
		abort();
	}
	fctl.store = store;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

/* Removes the folders of runs that died without cleaning up (a crash, a kill). */
static void remove_stale(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(tmp_base);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid;
		if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0)
			continue;
		pid = strtol(de->d_name + strlen(TMP_PREFIX), &end, 10);
		if (*end != '\0' || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp_base, de->d_name);
		nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	closedir(d);
}

static void cleanup(void)
{
	store_close(store);
	store = NULL;
	free(empty_db);
	empty_db = NULL;
	catalog_unref(catalog);
	catalog = NULL;
	config_free(&cfg);
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *dup_path(const char *dir, const char *rel)
{
	char buf[PATH_MAX + 64];

	fuzz_path(buf, sizeof(buf), dir, rel);
	return strdup(buf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[PATH_MAX], err[512];
	struct diag_list errs;

	(void)argc; (void)argv;
	xmlin_init();
	/* the commands log what goes wrong inside; a fuzzer's failures are expected */
	log_set_level(LOG_LEVEL_ERR);
	if (access(tmp_base, W_OK) != 0)
		tmp_base = "/tmp";
	remove_stale();
	snprintf(tmpdir, sizeof(tmpdir), "%s/" TMP_PREFIX "%ld", tmp_base, (long)getpid());
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);  /* an earlier run with our pid */
	/* a state organisation and a Party committee, so that both kinds of body are reached */
	static const char party[] = "[body TU]\nkind = party\nname = Ban Thường vụ Tỉnh ủy\n"
	    "collective = Ban Thường vụ\nterm = 2020-2025 2020-10-10\nterm = 2025-2030 2025-10-15\n";
	diag_init(&errs);
	if (clock_init() != 0 || fuzz_srcdir(dir, sizeof(dir)) != 0 || mkdir(tmpdir, 0700) != 0 ||
	    config_load_string("fuzz.conf", party, sizeof(party) - 1, &cfg, &errs) != 0)
		abort();
	diag_free(&errs);
	snprintf(tmp_spool, sizeof(tmp_spool), "%s/spool", tmpdir);
	snprintf(tmp_db, sizeof(tmp_db), "%s/vanthu.db", tmpdir);
	free(cfg.workflows);
	free(cfg.templates);
	free(cfg.spool);
	free(cfg.database);
	cfg.workflows = dup_path(dir, "workflows");
	cfg.templates = dup_path(dir, "build/templates");
	cfg.spool = strdup(tmp_spool);
	cfg.database = strdup(tmp_db);
	if (cfg.workflows == NULL || cfg.templates == NULL || cfg.spool == NULL ||
	    cfg.database == NULL || mkdir(tmp_spool, 0750) != 0)
		abort();
	diag_init(&errs);
	if (catalog_load(&cfg, &catalog, &errs) != 0) {
		diag_print(&errs, stderr);
		fprintf(stderr, "fuzz_request: the catalog did not load (run `make templates`)\n");
		abort();
	}
	diag_free(&errs);
	/* an empty database, made once and copied before every input (see fresh_store) */
	if (store_open(tmp_db, &store, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_request: %s\n", err);
		abort();
	}
	store_close(store);
	store = NULL;
	if (xmlin_read_file(tmp_db, 64 * 1024 * 1024, &empty_db, &empty_db_len, &errs) != 0) {
		diag_print(&errs, stderr);
		abort();
	}
	atexit(cleanup);
	fctl.cfg = &cfg;
	/* a borrowed pointer: cleanup frees the catalog, not the never-stopped fctl */
	fctl.cat = catalog;
	fctl.started = time(NULL);
	fctl.nconns = 1;
	fconn.ctl = &fctl;
	fconn.peer.gid = getgid();
	fconn.peer.pid = getpid();
	set_peer(NULL);
	return 0;
}

/* An encoded reply line must exist: a NULL one closes the client's connection. */
static void check_reply(char *line, size_t len, const char *what, const char *msg)
{
	if (line == NULL) {
		fprintf(stderr, "fuzz_request: the %s reply could not be encoded (message: %s)\n", what,
		    msg ? msg : "");
		abort();
	}
	if (len == 0 || line[len - 1] != '\n')
		abort();
	/* VANTHU_FUZZ_VERBOSE=1 shows the replies, to check what a seed reaches */
	if (getenv("VANTHU_FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "%.300s\n", line);
	free(line);
}

/*
 * Who sends the line: the daemon learns it from the kernel (peer.c); here a
 * request may carry "_peer": {"uid": N, "login": "...", "roles": N}, a field
 * the daemon ignores, so that one input can walk a document from drafter to
 * reviewer, signer and clerk. Without it the caller is uid 1000 with every role.
 */
static void set_peer(json_t *root)
{
	json_t *p = json_object_get(root, "_peer");
	json_t *uid = json_object_get(p, "uid"), *login = json_object_get(p, "login");
	json_t *roles = json_object_get(p, "roles");

	fconn.peer.uid = 1000;
	snprintf(fconn.peer.login, sizeof(fconn.peer.login), "vanthu");
	fconn.peer.roles = ROLES_ALL;
	if (json_is_integer(uid) && json_integer_value(uid) >= 0 && json_integer_value(uid) < 65536)
		fconn.peer.uid = (uid_t)json_integer_value(uid);
	if (json_is_string(login))
		snprintf(fconn.peer.login, sizeof(fconn.peer.login), "%s", json_string_value(login));
	if (json_is_integer(roles))
		fconn.peer.roles = (unsigned)json_integer_value(roles) & ROLES_ALL;
}

/* What handle_line does, with the reply encoded and dropped instead of written. */
static void handle(const char *line, size_t len)
{
	struct proto_request req;
	const struct command *cmd = NULL;
	json_t *result = NULL;
	char msg[8192] = "";
	size_t n = 0;
	int rc;

	rc = proto_parse_request(line, len, &req, msg, sizeof(msg));
	if (rc != 0) {
		check_reply(proto_encode_error(rc, msg, &n), n, "error", msg);
		return;
	}
	/* What vanthuctl would send for the same request parses back to the same command. */
	char *again = proto_encode_request(req.cmd, req.args);
	if (again == NULL)
		abort();
	if (strlen(again) <= PROTO_MAX_LINE) {
		struct proto_request back;
		char msg2[256];
		if (proto_parse_request(again, strlen(again) - 1, &back, msg2, sizeof(msg2)) != 0 ||
		    strcmp(back.cmd, req.cmd) != 0 || !json_equal(back.args, req.args)) {
			fprintf(stderr, "fuzz_request: a re-encoded request reads differently: %s\n", msg2);
			abort();
		}
		proto_request_free(&back);
	}
	free(again);

	set_peer(req.root);
	cmd = ctl_command_find(req.cmd);
	if (fconn.peer.roles == 0) {
		check_reply(proto_encode_error(E_DENIED, "không thuộc nhóm vai trò nào", &n), n, "error",
		    NULL);
		goto out;
	}
	if (cmd != NULL && (cmd->roles & fconn.peer.roles) == 0) {
		check_reply(proto_encode_error(E_DENIED, "cần vai trò khác", &n), n, "error", NULL);
		goto out;
	}
	/* backup runs on the worker pool of a loop this target does not run */
	if (cmd == NULL || strcmp(cmd->name, "backup") == 0) {
		check_reply(proto_encode_error(E_UNKNOWN_CMD, "không có lệnh", &n), n, "error", NULL);
		goto out;
	}
	rc = cmd->fn(&fconn, req.args, &result, msg, sizeof(msg));
	if (rc == CMD_ASYNC) {
		fprintf(stderr, "fuzz_request: %s went asynchronous\n", cmd->name);
		abort();
	}
	if (rc != 0) {
		json_decref(result);
		check_reply(proto_encode_error(rc, msg, &n), n, "error", msg);
	} else if (result != NULL) {
		check_reply(proto_encode_ok(result, &n), n, "ok", NULL);
	}
out:
	proto_request_free(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_buf in;
	const char *line;
	size_t len, consumed, off = 0, piece = 1;
	int lines = 0, closed = 0;

	fresh_store();
	proto_buf_init(&in);
	while (off < size && !closed) {
		/* pieces of 1, 4, 9, ... bytes, then 8 KiB: short reads and long ones */
		size_t n = piece * piece < 8192 ? piece * piece : 8192;
		if (n > size - off)
			n = size - off;
		piece++;
		if (proto_buf_append(&in, (const char *)data + off, n) != 0)
			abort();
		off += n;
		for (;;) {
			int rc = proto_buf_next(&in, &line, &len, &consumed);
			if (rc == 0)
				break;
			if (rc < 0) {
				/* the daemon answers E_PROTO and closes the connection */
				closed = 1;
				break;
			}
			if (consumed > in.len || len > PROTO_MAX_LINE || len >= consumed)
				abort();
			if (len > 0 && lines++ < FUZZ_MAX_LINES)
				handle(line, len);
			proto_buf_consume(&in, consumed);
		}
		/* what conn_process would hold unanswered is capped */
		if (!closed && in.len > PROTO_MAX_LINE + 2)
			abort();
	}
	proto_buf_free(&in);
	return 0;
}
