/*
 * ctl.c: the control-socket server. Accepts clients on a Unix socket, learns
 * who each is from the kernel (peer.c), reads JSON-line requests (proto.c),
 * answers them in order through one command table, and enforces the caps:
 * connections in total and per uid, an idle timeout, one line at most
 * PROTO_MAX_LINE bytes. A request that takes time (backup) runs on libuv's
 * worker pool; the connection's later requests wait for it, so replies keep
 * their order.
 */
#include "ctl.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "peer.h"
#include "proto.h"
#include "clock.h"
#include "esign.h"
#include "hash.h"
#include "publish.h"
#include "rounds.h"
#include "report.h"
#include "workflow.h"
#include "units.h"
#include "version.h"

#define CMD_ASYNC (-1)
/* A fetched file travels in pieces of this many bytes: 48 KiB once in base64, well inside a
 * reply line. */
#define FETCH_CHUNK 36864
#define WRITE_QUEUE_CAP (1024 * 1024)

struct conn;

struct ctl {
	uv_loop_t *loop;            /* borrowed */
	uv_pipe_t server;
	const struct config *cfg;   /* borrowed; replaced by ctl_set_config */
	struct store *store;        /* borrowed */
	struct catalog *cat;        /* a reference: the catalog in use; NULL until loaded */
	struct esign *es;           /* borrowed: the office's signing; NULL without [signing] */
	void (*on_change)(void *);  /* borrowed: a round was opened (its steps may be due) */
	void *on_change_arg;
	void (*on_publish_failed)(void *);  /* borrowed: an issued DOCX waits to be written */
	void *on_publish_failed_arg;
	struct conn *conns;         /* owned list */
	unsigned nconns;
	time_t started;
	struct timespec started_real;  /* CLOCK_REALTIME_COARSE, never the test clock: file times */
	int stopping;
	int server_open;
	int bound;                  /* the socket file is ours to remove */
	void (*done)(void *arg);
	void *done_arg;
	char socket_path[PATH_MAX];
};

struct conn {
	uv_pipe_t pipe;
	uv_timer_t idle;
	struct ctl *ctl;            /* borrowed back-pointer */
	struct conn *prev, *next;
	struct peer peer;
	struct proto_buf in;
	int handles_open;
	int busy;                   /* an async request is in flight */
	int closing;                /* no more requests are read */
	int close_started;          /* shutdown or close of the handles has begun */
	int close_after_write;      /* a fatal protocol error: close once the reply is out */
	int reading;
};

/* A backup running on the worker pool; owned by itself until after_backup. */
struct backup_job {
	uv_work_t work;
	struct conn *conn;          /* borrowed; kept open while busy */
	char *dbpath, *dest;        /* owned */
	struct timespec since;      /* the daemon's start: older leftovers of a cut backup go */
	int rc;
	int64_t bytes;
	char err[512];
};

typedef int (*cmd_fn)(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen);

struct command {
	const char *name;
	unsigned roles;  /* any of these roles may call it */
	cmd_fn fn;
};

#define ROLES_ALL (ROLE_DRAFTER | ROLE_REVIEWER | ROLE_SIGNER | ROLE_CLERK | ROLE_ADMIN | ROLE_AUDITOR)

static void conn_close(struct conn *c);
static void conn_process(struct conn *c);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
static void conn_maybe_done(struct ctl *ctl);

/* ---- replies ---- */

struct write_req {
	uv_write_t req;
	char *line;   /* owned */
};

static void on_write(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct conn *c = req->data;

	free(w->line);
	free(w);
	if (status < 0) {
		if (status != UV_ECANCELED)
			log_debug("client %s: write failed: %s", c->peer.login, uv_strerror(status));
		conn_close(c);
		return;
	}
	if (c->close_after_write && uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) == 0) {
		conn_close(c);
		return;
	}
	/* Back-pressure: reading resumes once the client has taken its replies. */
	if (!c->closing && !c->busy && !c->reading &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) < WRITE_QUEUE_CAP)
		conn_process(c);
}

static void conn_send(struct conn *c, char *line, size_t len)
{
	struct write_req *w;
	uv_buf_t buf;

	if (line == NULL) {
		log_err("out of memory encoding a reply to %s", c->peer.login);
		conn_close(c);
		return;
	}
	if (uv_is_closing((uv_handle_t *)&c->pipe)) {
		free(line);
		return;
	}
	w = malloc(sizeof(*w));
	if (w == NULL) {
		free(line);
		conn_close(c);
		return;
	}
	w->line = line;
	w->req.data = c;
	buf = uv_buf_init(line, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, on_write) != 0) {
		free(line);
		free(w);
		conn_close(c);
	}
}

static void send_error(struct conn *c, enum proto_error code, const char *msg)
{
	size_t len = 0;
	char *line = proto_encode_error(code, msg, &len);

	conn_send(c, line, len);
}

static void send_ok(struct conn *c, json_t *result)
{
	size_t len = 0;
	char *line = proto_encode_ok(result, &len);

	if (line != NULL && len > PROTO_MAX_LINE + 1) {
		free(line);
		send_error(c, E_INTERNAL, "câu trả lời vượt quá 64 KiB; hãy giới hạn bằng --limit");
		return;
	}
	conn_send(c, line, len);
}


/* ---- paging ---- */

/* What the rows of one list reply may take; the rest of the line is the envelope. */
#define PAGE_BYTES (PROTO_MAX_LINE - 8192)
/* A row with more errors than fit keeps this many. */
#define PAGE_ROW_ERRORS 10

static size_t json_size(const json_t *v)
{
	char *t = json_dumps(v, JSON_COMPACT);
	size_t n = t ? strlen(t) : PAGE_BYTES;

	free(t);
	return n;
}

/*
 * Makes result[key], a list of rows newest first, fit one reply line: keeps
 * the rows that fit in PAGE_BYTES (a row too large on its own keeps its
 * first errors only) and, when rows were left out or the page is full,
 * says where the next page starts: "next_before", the id (idkey) of the
 * last row given, for the request's "before".
 */
static void page_list(json_t *result, const char *key, const char *idkey, json_int_t limit)
{
	json_t *list = json_object_get(result, key), *row;
	size_t total = 2, n = json_array_size(list), keep = 0;

	for (; keep < n; keep++) {
		size_t sz;
		row = json_array_get(list, keep);
		sz = json_size(row) + 1;
		if (sz > PAGE_BYTES / 2 && json_is_array(json_object_get(row, "errors"))) {
			json_t *errs = json_object_get(row, "errors");
			size_t ne = json_array_size(errs);
			while (json_array_size(errs) > PAGE_ROW_ERRORS)
				json_array_remove(errs, json_array_size(errs) - 1);
			json_object_set_new(row, "errors_omitted",
			    json_integer((json_int_t)(ne - json_array_size(errs))));
			sz = json_size(row) + 1;
		}
		if (total + sz > PAGE_BYTES && keep > 0)
			break;
		if (total + sz > PAGE_BYTES) {
			/* one row alone larger than a reply: only its id, and where to read it */
			json_t *small = json_pack("{s:O, s:b}", idkey, json_object_get(row, idkey),
			    "omitted", 1);
			if (small == NULL || json_array_set_new(list, keep, small) != 0)
				break;
			sz = json_size(small) + 1;
		}
		total += sz;
	}
	if (keep < n) {
		while (json_array_size(list) > keep)
			json_array_remove(list, json_array_size(list) - 1);
		json_object_set_new(result, "truncated", json_true());
	}
	if ((keep < n || (json_int_t)keep >= limit) && keep > 0) {
		json_t *id = json_object_get(json_array_get(list, keep - 1), idkey);
		if (json_is_integer(id))
			json_object_set_new(result, "next_before", json_integer(json_integer_value(id)));
	}
}

/* ---- commands ---- */

static int cmd_ping(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	(void)c; (void)args; (void)msg; (void)msglen;
	*result = json_pack("{s:b, s:s}", "pong", 1, "version", VANTHU_VERSION);
	return 0;
}

/* A process's resident memory (VmRSS) in KiB, -1 when it cannot be read. */
static long process_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(fp);
	return kb;
}

static int cmd_status(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct ctl *ctl = c->ctl;
	const struct config *cfg = ctl->cfg;
	struct store_stats stats;
	char err[256], dbpath[PATH_MAX];
	struct timespec ts;
	time_t now;

	clock_now(&ts);
	now = ts.tv_sec;

	(void)args;
	if (realpath(store_path(ctl->store), dbpath) == NULL)
		snprintf(dbpath, sizeof(dbpath), "%s", store_path(ctl->store));
	if (store_stats(ctl->store, &stats, err, sizeof(err)) != STORE_OK) {
		log_err("status: %s", err);
		snprintf(msg, msglen, "không đọc được cơ sở dữ liệu (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	*result = json_pack("{s:s, s:i, s:I, s:I, s:{s:s, s:I, s:i}, s:s, s:s, s:{s:s, s:s, s:s, s:s},"
	    " s:{s:I, s:i}}",
	    "version", VANTHU_VERSION,
	    "pid", (int)getpid(),
	    "started", (json_int_t)ctl->started,
	    "uptime", (json_int_t)(now - ctl->started),
	    "database", "path", dbpath, "bytes", (json_int_t)stats.file_bytes,
	    "schema_version", stats.schema_version,
	    "spool", cfg->spool,
	    "config", cfg->path ? cfg->path : "",
	    "organisation", "name", cfg->bodies[0].name, "parent", cfg->bodies[0].parent,
	    "abbreviation", cfg->bodies[0].abbrev, "place", cfg->bodies[0].place,
	    "counts", "audit", (json_int_t)stats.audit_entries, "connections", (int)ctl->nconns);
	if (*result != NULL) {
		json_t *counts = json_object_get(*result, "counts");
		json_object_set_new(counts, "reports", json_integer(stats.reports));
		json_object_set_new(counts, "rejected", json_integer(stats.rejected));
		json_object_set_new(counts, "inputs", json_integer(stats.inputs));
		json_object_set_new(counts, "documents", json_integer(stats.documents));
		/* signing, and the converter's memory, which is LibreOffice's and not vanthud's */
		pid_t cpid = esign_converter_pid(ctl->es);
		long rss_kb = cpid > 0 ? process_rss_kb(cpid) : -1;
		json_object_set_new(*result, "signing", json_pack("{s:b, s:i, s:I}", "configured",
		    ctl->es != NULL, "converter_pid", (int)cpid, "converter_rss_kb",
		    (json_int_t)rss_kb));
		json_object_set_new(*result, "rss_kb", json_integer(process_rss_kb(getpid())));
	}
	return 0;
}

static json_t *role_list(unsigned roles)
{
	json_t *list = json_array();

	for (int r = 0; list != NULL && r < ROLE_COUNT; r++)
		if (roles & (1u << r))
			json_array_append_new(list, json_string(config_role_name(r)));
	return list;
}

static int cmd_whoami(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const struct config_user *u = config_find_user(c->ctl->cfg, c->peer.login);

	(void)args; (void)msg; (void)msglen;
	*result = json_pack("{s:I, s:s, s:o, s:s?, s:s?, s:s?, s:s?}",
	    "uid", (json_int_t)c->peer.uid, "user", c->peer.login, "roles", role_list(c->peer.roles),
	    "full_name", u ? u->full_name : NULL, "title", u ? u->title : NULL,
	    "authority", u ? u->authority : NULL, "party_title", u ? u->party_title : NULL);
	return 0;
}

struct audit_collect {
	json_t *list;
};

static int collect_audit(const struct store_audit_entry *e, void *arg)
{
	struct audit_collect *a = arg;

	return json_array_append_new(a->list, json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s}",
	    "id", (json_int_t)e->id, "at", e->at, "uid", (json_int_t)e->uid, "actor", e->actor,
	    "action", e->action, "object", e->object, "detail", e->detail, "hash", e->hash));
}

static int cmd_audit(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_t *jl = json_object_get(args, "limit"), *jb = json_object_get(args, "before");
	json_int_t limit = 20, before = 0;
	struct audit_collect a;
	char err[256];

	if (jl != NULL) {
		if (!json_is_integer(jl) || json_integer_value(jl) < 1 || json_integer_value(jl) > 200) {
			snprintf(msg, msglen, "\"limit\" phải là số nguyên từ 1 đến 200");
			return E_INVALID;
		}
		limit = json_integer_value(jl);
	}
	if (jb != NULL) {
		if (!json_is_integer(jb) || json_integer_value(jb) < 1) {
			snprintf(msg, msglen, "\"before\" phải là số thứ tự dương của một mục nhật ký");
			return E_INVALID;
		}
		before = json_integer_value(jb);
	}
	a.list = json_array();
	if (a.list == NULL) {
		snprintf(msg, msglen, "hết bộ nhớ");
		return E_INTERNAL;
	}
	if (store_audit_list(c->ctl->store, before, (int)limit, collect_audit, &a, err,
	        sizeof(err)) != STORE_OK) {
		log_err("audit: %s", err);
		json_decref(a.list);
		snprintf(msg, msglen, "không đọc được nhật ký kiểm tra (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	*result = json_pack("{s:o}", "entries", a.list);
	if (*result != NULL)
		page_list(*result, "entries", "id", limit);
	return 0;
}

static int cmd_verify(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	int64_t bad = 0, checked = 0;
	char err[256];

	(void)args;
	if (store_audit_verify(c->ctl->store, &bad, &checked, err, sizeof(err)) != STORE_OK) {
		log_err("verify: %s", err);
		snprintf(msg, msglen, "không đọc được nhật ký kiểm tra (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	if (bad != 0)
		log_err("audit chain broken at entry %lld", (long long)bad);
	*result = json_pack("{s:b, s:I, s:I}", "intact", bad == 0, "checked", (json_int_t)checked,
	    "first_bad", (json_int_t)bad);
	return 0;
}

static void run_backup(uv_work_t *work)
{
	struct backup_job *job = work->data;

	job->rc = store_backup(job->dbpath, job->dest, &job->since, &job->bytes, job->err,
	    sizeof(job->err));
}

static void after_backup(uv_work_t *work, int status)
{
	struct backup_job *job = work->data;
	struct conn *c = job->conn;
	struct ctl *ctl = c->ctl;
	char err[256];

	c->busy = 0;
	if (status == 0 && job->rc == STORE_OK) {
		char detail[PATH_MAX + 64];
		log_info("backup of %s to %s by %s: %lld bytes", job->dbpath, job->dest,
		    c->peer.login, (long long)job->bytes);
		snprintf(detail, sizeof(detail), "%lld bytes", (long long)job->bytes);
		if (store_audit_append(ctl->store, (int64_t)c->peer.uid, c->peer.login, "backup",
		        job->dest, detail, err, sizeof(err)) != STORE_OK)
			log_err("audit: %s", err);
		send_ok(c, json_pack("{s:s, s:I}", "path", job->dest, "bytes", (json_int_t)job->bytes));
	} else if (status == 0 && job->rc == STORE_INVALID) {
		send_error(c, E_INVALID, job->err);
	} else {
		log_err("backup to %s by %s failed: %s", job->dest, c->peer.login,
		    status ? uv_strerror(status) : job->err);
		char msg[700];
		snprintf(msg, sizeof(msg), "sao lưu thất bại: %s", status ? uv_strerror(status) : job->err);
		send_error(c, E_INTERNAL, msg);
	}
	free(job->dbpath);
	free(job->dest);
	free(job);
	if (c->closing) {
		conn_close(c);
		conn_maybe_done(ctl);
	} else {
		conn_process(c);
	}
}

static int cmd_backup(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_t *jp = json_object_get(args, "path");
	struct backup_job *job;
	const char *path;

	(void)result;
	if (!json_is_string(jp) || json_string_length(jp) == 0 ||
	    json_string_length(jp) >= PATH_MAX - 32) {
		snprintf(msg, msglen, "thiếu \"path\": đường dẫn tuyệt đối của tệp sao lưu");
		return E_INVALID;
	}
	path = json_string_value(jp);
	if (path[0] != '/') {
		snprintf(msg, msglen, "đường dẫn sao lưu phải là đường dẫn tuyệt đối: %s", path);
		return E_INVALID;
	}
	job = calloc(1, sizeof(*job));
	if (job == NULL || (job->dbpath = strdup(store_path(c->ctl->store))) == NULL ||
	    (job->dest = strdup(path)) == NULL) {
		if (job != NULL) {
			free(job->dbpath);
			free(job);
		}
		snprintf(msg, msglen, "hết bộ nhớ");
		return E_INTERNAL;
	}
	job->conn = c;
	job->since = c->ctl->started_real;
	job->work.data = job;
	if (uv_queue_work(c->ctl->loop, &job->work, run_backup, after_backup) != 0) {
		free(job->dbpath);
		free(job->dest);
		free(job);
		snprintf(msg, msglen, "không khởi động được việc sao lưu");
		return E_INTERNAL;
	}
	c->busy = 1;
	return CMD_ASYNC;
}

/* ---- reports and units ---- */

/* An optional integer argument within [min, max]; 0 when fine, E_INVALID otherwise. */
static int int_arg(json_t *args, const char *key, json_int_t min, json_int_t max, json_int_t *out,
    char *msg, size_t msglen)
{
	json_t *v = json_object_get(args, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(msg, msglen, "\"%s\" phải là số nguyên từ %lld đến %lld", key, (long long)min,
		    (long long)max);
		return E_INVALID;
	}
	*out = json_integer_value(v);
	return 0;
}

/* An optional string argument of at most max bytes. */
static int str_arg(json_t *args, const char *key, size_t max, const char **out, char *msg,
    size_t msglen)
{
	json_t *v = json_object_get(args, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max) {
		snprintf(msg, msglen, "\"%s\" phải là một chuỗi không rỗng, tối đa %zu byte", key, max);
		return E_INVALID;
	}
	*out = json_string_value(v);
	return 0;
}

static json_t *row_object(const struct store_col *cols, int n)
{
	json_t *obj = json_object();

	for (int i = 0; obj != NULL && i < n; i++) {
		json_t *v = cols[i].type == 1 ? json_integer(cols[i].i) :
		    cols[i].type == 2 ? json_string(cols[i].s) : json_null();
		json_object_set_new(obj, cols[i].name, v ? v : json_null());
	}
	return obj;
}

static int collect_row(const struct store_col *cols, int n, void *arg)
{
	return json_array_append_new(arg, row_object(cols, n));
}

static int cmd_units(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const struct catalog *cat = c->ctl->cat;
	json_t *list = json_array(), *groups = json_array();

	(void)args;
	if (cat == NULL || list == NULL || groups == NULL) {
		json_decref(list);
		json_decref(groups);
		snprintf(msg, msglen, "danh mục đơn vị chưa được nạp");
		return E_INTERNAL;
	}
	for (size_t i = 0; i < cat->units->ngroups; i++)
		json_array_append_new(groups, json_pack("{s:s, s:s}", "code", cat->units->groups[i].code,
		    "label", cat->units->groups[i].label));
	for (size_t i = 0; i < cat->units->nunits; i++) {
		const struct unit *u = &cat->units->units[cat->units->by_name[i]];
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s?}", "code", u->code,
		    "name", u->name, "short", u->short_name, "group", cat->units->groups[u->group].code,
		    "id", u->id));
	}
	*result = json_pack("{s:o, s:o}", "groups", groups, "units", list);
	return 0;
}

/* "YYYY-MM-DD" in Vietnam's time zone, as the UTC instant its day starts. */
static int since_utc(const char *date, char *out, size_t len)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (!report_valid_date(date) || strptime(date, "%Y-%m-%d", &tm) == NULL)
		return -1;
	t = timegm(&tm) - 7 * 3600;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
	return 0;
}

static int cmd_reports(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct store_report_filter f = { .limit = 50 };
	json_int_t limit = 50, before = 0;
	const char *since = NULL;
	char since_buf[32], err[256];
	json_t *list;
	int rc;

	if ((rc = str_arg(args, "unit", 64, &f.unit, msg, msglen)) ||
	    (rc = str_arg(args, "round", 64, &f.round, msg, msglen)) ||
	    (rc = str_arg(args, "since", 10, &since, msg, msglen)) ||
	    (rc = int_arg(args, "limit", 1, 200, &limit, msg, msglen)) ||
	    (rc = int_arg(args, "before", 1, INT64_MAX, &before, msg, msglen)))
		return rc;
	if (since != NULL) {
		if (since_utc(since, since_buf, sizeof(since_buf)) != 0) {
			snprintf(msg, msglen, "\"since\" phải là một ngày có thật dạng YYYY-MM-DD");
			return E_INVALID;
		}
		f.since = since_buf;
	}
	f.limit = (int)limit;
	f.before = before;
	list = json_array();
	if (list == NULL || store_reports_list(c->ctl->store, &f, collect_row, list, err,
	        sizeof(err)) != STORE_OK) {
		log_err("reports: %s", err);
		json_decref(list);
		snprintf(msg, msglen, "không đọc được danh sách báo cáo (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	*result = json_pack("{s:o}", "reports", list);
	if (*result != NULL)
		page_list(*result, "reports", "id", limit);
	return 0;
}

struct report_parts {
	json_t *report, *indicators, *receipt;
};

static int take_report(const struct store_col *cols, int n, void *arg)
{
	struct report_parts *p = arg;

	p->report = row_object(cols, n);
	return 0;
}

static int take_indicator(const struct store_col *cols, int n, void *arg)
{
	return json_array_append_new(((struct report_parts *)arg)->indicators, row_object(cols, n));
}

static int take_receipt(const struct store_col *cols, int n, void *arg)
{
	((struct report_parts *)arg)->receipt = row_object(cols, n);
	return 0;
}


/* One chunk of a file fetched piece by piece: {id, offset, total, data (base64)}, and sha256 (of
 * the whole file) when given. NULL when out of memory. */
static json_t *chunk_json(json_int_t id, json_int_t offset, size_t total, const void *data,
    size_t n, const char *sha)
{
	unsigned char *b64 = malloc(n / 3 * 4 + 8);
	json_t *r;

	if (b64 == NULL)
		return NULL;
	EVP_EncodeBlock(b64, data, (int)n);
	r = json_pack("{s:I, s:I, s:I, s:s}", "id", id, "offset", offset, "total", (json_int_t)total,
	    "data", (char *)b64);
	free(b64);
	if (r != NULL && sha != NULL && json_object_set_new(r, "sha256", json_string(sha)) != 0) {
		json_decref(r);
		r = NULL;
	}
	return r;
}

static int cmd_report(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_int_t id = 0, offset = 0;
	struct report_parts p = { 0 };
	char err[256];
	int rc;

	if ((rc = int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = int_arg(args, "offset", 0, INT64_MAX, &offset, msg, msglen)))
		return rc;
	if (id == 0) {
		snprintf(msg, msglen, "thiếu \"id\": số của báo cáo");
		return E_INVALID;
	}
	if (json_is_true(json_object_get(args, "xml"))) {
		char *raw = malloc(FETCH_CHUNK);
		size_t len = 0;
		int64_t total = 0;
		if (raw == NULL) {
			snprintf(msg, msglen, "hết bộ nhớ");
			return E_INTERNAL;
		}
		rc = store_report_original(c->ctl->store, id, offset, FETCH_CHUNK, raw, &len, &total,
		    err, sizeof(err));
		if (rc == STORE_OK && (*result = chunk_json(id, offset, (size_t)total, raw, len,
		    NULL)) == NULL) {
			free(raw);
			snprintf(msg, msglen, "hết bộ nhớ");
			return E_INTERNAL;
		}
		free(raw);
		if (rc == STORE_INVALID) {
			snprintf(msg, msglen, "không có báo cáo số %lld", (long long)id);
			return E_NOT_FOUND;
		}
		if (rc != STORE_OK) {
			log_err("report: %s", err);
			snprintf(msg, msglen, "không đọc được báo cáo (xem nhật ký của vanthud)");
			return E_INTERNAL;
		}
		return 0;
	}
	p.indicators = json_array();
	rc = store_report_get(c->ctl->store, id, take_report, take_indicator, take_receipt, &p, err,
	    sizeof(err));
	if (rc != STORE_OK) {
		json_decref(p.report);
		json_decref(p.indicators);
		json_decref(p.receipt);
		if (rc == STORE_INVALID) {
			snprintf(msg, msglen, "không có báo cáo số %lld", (long long)id);
			return E_NOT_FOUND;
		}
		log_err("report: %s", err);
		snprintf(msg, msglen, "không đọc được báo cáo (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	/* the body is stored as JSON text: hand it over as JSON */
	json_t *content = json_object_get(p.report, "content");
	if (json_is_string(content)) {
		json_t *parsed = json_loads(json_string_value(content), 0, NULL);
		if (parsed)
			json_object_set_new(p.report, "content", parsed);
	}
	json_object_set_new(p.report, "indicators", p.indicators);
	json_object_set_new(p.report, "receipt", p.receipt ? p.receipt : json_null());
	/* A long report's body would not fit one line: it stays in the original (--xml). */
	char *probe = json_dumps(p.report, JSON_COMPACT);
	if (probe == NULL || strlen(probe) > PROTO_MAX_LINE - 1024) {
		json_t *content2 = json_object_get(p.report, "content");
		if (json_is_object(content2))
			json_object_set_new(content2, "body", json_array());
		json_object_set_new(p.report, "body_omitted", json_true());
	}
	free(probe);
	*result = p.report;
	return 0;
}

static int cmd_rejected(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_int_t limit = 20, before = 0;
	char err[256];
	json_t *list;
	size_t i;
	json_t *e;
	int rc;

	if ((rc = int_arg(args, "limit", 1, 200, &limit, msg, msglen)) ||
	    (rc = int_arg(args, "before", 1, INT64_MAX, &before, msg, msglen)))
		return rc;
	list = json_array();
	if (list == NULL || store_rejected_list(c->ctl->store, before, (int)limit, collect_row, list,
	        err, sizeof(err)) != STORE_OK) {
		log_err("rejected: %s", err);
		json_decref(list);
		snprintf(msg, msglen, "không đọc được danh sách bị từ chối (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	json_array_foreach(list, i, e) {
		json_t *errs = json_object_get(e, "errors");
		json_t *parsed = json_is_string(errs) ? json_loads(json_string_value(errs), 0, NULL) : NULL;
		if (parsed)
			json_object_set_new(e, "errors", parsed);
	}
	*result = json_pack("{s:o}", "rejected", list);
	if (*result != NULL)
		page_list(*result, "rejected", "receipt", limit);
	return 0;
}

/* ---- documents ---- */

static const struct workflows *current_workflows(struct ctl *ctl)
{
	const struct catalog *cat = ctl->cat;

	return cat ? cat->wf : NULL;
}

static const struct units *current_units(struct ctl *ctl)
{
	const struct catalog *cat = ctl->cat;

	return cat ? cat->units : NULL;
}

static int wf_code(int rc)
{
	switch (rc) {
	case WF_UNKNOWN: return E_NOT_FOUND;
	case WF_STATE: return E_STATE;
	case WF_DENIED: return E_DENIED;
	case WF_INVALID: return E_INVALID;
	default: return E_INTERNAL;
	}
}

static void actor_of(const struct conn *c, struct wf_actor *a)
{
	a->uid = (int64_t)c->peer.uid;
	a->login = c->peer.login;
	a->roles = c->peer.roles;
}

/* The input XML, sent base64 so that any encoding survives; *out is owned by the caller. */
static int content_arg(json_t *args, char **out, size_t *len, char *msg, size_t msglen)
{
	json_t *v = json_object_get(args, "content");
	const char *b64;
	size_t n;
	int dec, pad = 0;

	*out = NULL;
	if (!json_is_string(v) || json_string_length(v) == 0) {
		snprintf(msg, msglen, "thiếu \"content\": nội dung tệp XML (base64)");
		return E_INVALID;
	}
	b64 = json_string_value(v);
	n = json_string_length(v);
	if (n % 4 != 0) {
		snprintf(msg, msglen, "\"content\" không phải base64 hợp lệ");
		return E_INVALID;
	}
	pad = (n >= 1 && b64[n - 1] == '=') + (n >= 2 && b64[n - 2] == '=');
	*out = malloc(n / 4 * 3 + 1);
	if (*out == NULL) {
		snprintf(msg, msglen, "hết bộ nhớ");
		return E_INTERNAL;
	}
	dec = EVP_DecodeBlock((unsigned char *)*out, (const unsigned char *)b64, (int)n);
	if (dec < 0) {
		free(*out);
		*out = NULL;
		snprintf(msg, msglen, "\"content\" không phải base64 hợp lệ");
		return E_INVALID;
	}
	*len = (size_t)dec - (size_t)pad;
	(*out)[*len] = '\0';
	return 0;
}

/* Every problem of an input, one per line after the sentence. */
static void errors_into(char *msg, size_t msglen, const struct diag_list *errs)
{
	size_t off = strlen(msg);

	for (size_t i = 0; i < errs->count && off + 1 < msglen; i++) {
		const struct diag *d = &errs->items[i];
		int n = d->line > 0 ?
		    snprintf(msg + off, msglen - off, "\n  [%s] dòng %d: %s", d->code, d->line, d->message) :
		    snprintf(msg + off, msglen - off, "\n  [%s] %s", d->code, d->message);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* A refusal of an input: the sentence already in msg, then every problem of it. */
static int refuse_input(int rc, char *msg, size_t msglen, struct diag_list *errs)
{
	errors_into(msg, msglen, errs);
	diag_free(errs);
	return wf_code(rc);
}

static int cmd_new(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const struct workflows *wf = current_workflows(c->ctl);
	const char *kind = NULL;
	struct diag_list errs;
	struct wf_actor a;
	char *xml = NULL;
	size_t len = 0;
	int64_t id = 0;
	int rc;

	if ((rc = str_arg(args, "kind", 32, &kind, msg, msglen)) ||
	    (rc = content_arg(args, &xml, &len, msg, msglen)))
		return rc;
	if (kind == NULL) {
		free(xml);
		snprintf(msg, msglen, "thiếu \"kind\": loại văn bản");
		return E_INVALID;
	}
	actor_of(c, &a);
	diag_init(&errs);
	rc = workflow_create(c->ctl->store, wf, c->ctl->cfg, current_units(c->ctl), kind, xml, len, &a, &id, &errs,
	    msg, msglen);
	free(xml);
	if (rc != WF_OK) {
		if (rc == WF_INTERNAL)
			log_err("new %s by %s: %s", kind, c->peer.login, msg);
		return refuse_input(rc, msg, msglen, &errs);
	}
	diag_free(&errs);
	log_info("document %lld (%s) drafted by %s", (long long)id, kind, c->peer.login);
	*result = json_pack("{s:I, s:s}", "id", (json_int_t)id, "kind", kind);
	return 0;
}

static int cmd_edit(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct diag_list errs;
	struct wf_actor a;
	json_int_t id = 0;
	char *xml = NULL;
	size_t len = 0;
	int64_t revision = 0;
	int rc;

	if ((rc = int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)))
		return rc;
	if (id == 0) {
		snprintf(msg, msglen, "thiếu \"id\": số của văn bản");
		return E_INVALID;
	}
	if ((rc = content_arg(args, &xml, &len, msg, msglen)))
		return rc;
	actor_of(c, &a);
	diag_init(&errs);
	rc = workflow_edit(c->ctl->store, current_workflows(c->ctl), c->ctl->cfg,
	    current_units(c->ctl), id, xml,
	    len, &a, &revision, &errs, msg, msglen);
	free(xml);
	if (rc != WF_OK)
		return refuse_input(rc, msg, msglen, &errs);
	diag_free(&errs);
	*result = json_pack("{s:I, s:I}", "id", id, "revision", (json_int_t)revision);
	return 0;
}

static int cmd_act(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const char *action = NULL, *comment = NULL;
	const struct wf_transition *t = NULL;
	struct wf_actor a;
	json_int_t id = 0;
	char symbol[96];
	int rc;

	if ((rc = int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = str_arg(args, "action", 32, &action, msg, msglen)) ||
	    (rc = str_arg(args, "comment", 4000, &comment, msg, msglen)))
		return rc;
	if (id == 0 || action == NULL) {
		snprintf(msg, msglen, "cần \"id\" (số văn bản) và \"action\" (thao tác)");
		return E_INVALID;
	}
	actor_of(c, &a);
	if (strcmp(action, "sign") == 0 && esign_required(c->ctl->es, c->ctl->cfg, a.login)) {
		snprintf(msg, msglen, "%s phải ký số văn bản này (vanthu.conf có chứng thư số của %s): dùng "
		    "\"vanthuctl sign %lld --pkcs11 THƯ_VIỆN\" với thiết bị ký số của mình", a.login,
		    a.login, (long long)id);
		return E_STATE;
	}
	if (c->ctl->cat != NULL) {
		/* a round's reminder follows its round: fewer units, or withdrawn */
		rc = rounds_follow_reminder(c->ctl->store, c->ctl->cat, c->ctl->cfg, id, action, comment,
		    &a, msg, msglen);
		if (rc != WF_OK) {
			if (rc == WF_INTERNAL)
				log_err("act %s on %lld by %s: %s", action, (long long)id, c->peer.login, msg);
			return wf_code(rc);
		}
	}
	rc = workflow_act(c->ctl->store, current_workflows(c->ctl), c->ctl->cfg, id, action, comment,
	    &a, NULL, symbol, sizeof(symbol), &t, msg, msglen);
	if (rc != WF_OK) {
		if (rc == WF_INTERNAL)
			log_err("act %s on %lld by %s: %s", action, (long long)id, c->peer.login, msg);
		return wf_code(rc);
	}
	log_info("document %lld: %s by %s%s%s", (long long)id, action, c->peer.login,
	    symbol[0] ? ", number " : "", symbol);
	*result = json_pack("{s:I, s:s, s:s, s:s, s:s?}", "id", id, "action", action,
	    "label", t->label, "state", t->to, "symbol", symbol[0] ? symbol : NULL);
	if (t->to_state->publishes && c->ctl->cat != NULL) {
		/* numbered: the official DOCX goes to spool/outgoing now */
		char err[512];
		if (publish_issued(c->ctl->store, c->ctl->cat, c->ctl->cfg, c->ctl->es, id,
		        (int64_t)c->peer.uid, c->peer.login, err, sizeof(err)) != 0) {
			log_err("document %lld is issued but its DOCX or PDF could not be written (tried "
			    "again in the background): %s", (long long)id, err);
			json_object_set_new(*result, "publish_error", json_string(err));
			if (c->ctl->on_publish_failed)
				c->ctl->on_publish_failed(c->ctl->on_publish_failed_arg);
		}
	}
	return 0;
}

/* ---- electronic signing ---- */

/* Bytes from hex (at most max); 0 or -1. *out malloc'd. */
static int hex_arg(json_t *args, const char *key, size_t max, unsigned char **out, size_t *len,
    char *msg, size_t msglen)
{
	json_t *v = json_object_get(args, key);
	const char *h;
	size_t n;

	*out = NULL;
	*len = 0;
	if (!json_is_string(v) || (n = json_string_length(v)) == 0 || n % 2 || n / 2 > max) {
		snprintf(msg, msglen, "thiếu \"%s\" (chuỗi hex, tối đa %zu byte)", key, max);
		return E_INVALID;
	}
	h = json_string_value(v);
	if ((*out = malloc(n / 2)) == NULL) {
		snprintf(msg, msglen, "hết bộ nhớ");
		return E_INTERNAL;
	}
	for (size_t i = 0; i < n / 2; i++) {
		unsigned x;
		if (!isxdigit((unsigned char)h[2 * i]) || !isxdigit((unsigned char)h[2 * i + 1]) ||
		    sscanf(h + 2 * i, "%2x", &x) != 1) {
			free(*out);
			*out = NULL;
			snprintf(msg, msglen, "\"%s\" không phải chuỗi hex", key);
			return E_INVALID;
		}
		(*out)[i] = (unsigned char)x;
	}
	*len = n / 2;
	return 0;
}

/* A leader's copy being converted on the worker pool; owned by itself until after_prepare. */
struct prepare_job {
	uv_work_t work;
	struct conn *conn;          /* borrowed; kept open while busy */
	struct esign_job *job;      /* owned until esign_prepare_end */
	int64_t id;
	int rc;
};

static void run_prepare(uv_work_t *work)
{
	struct prepare_job *pj = work->data;

	pj->rc = esign_prepare_convert(pj->job);
}

static void after_prepare(uv_work_t *work, int status)
{
	struct prepare_job *pj = work->data;
	struct conn *c = pj->conn;
	struct ctl *ctl = c->ctl;
	char msg[1024], tbs[65];

	c->busy = 0;
	if (status != 0 || pj->rc != 0) {
		log_err("sign %lld: the PDF could not be made: %s", (long long)pj->id,
		    status ? uv_strerror(status) : "the converter failed (see above)");
		esign_job_free(pj->job);
		send_error(c, E_INTERNAL, "không chuyển được văn bản sang PDF (LibreOffice); xem nhật "
		    "ký của vanthud");
	} else if (esign_prepare_end(pj->job, ctl->store, tbs, msg, sizeof(msg)) != WF_OK) {
		send_error(c, E_INTERNAL, msg);
	} else {
		send_ok(c, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)pj->id, "tbs_sha256", tbs,
		    "digest", "sha256"));
	}
	free(pj);
	if (c->closing) {
		conn_close(c);
		conn_maybe_done(ctl);
	} else {
		conn_process(c);
	}
}

/* sign.prepare {id, certificate (hex DER)}: what the leader's key must sign. */
static int cmd_sign_prepare(struct conn *c, json_t *args, json_t **result, char *msg,
    size_t msglen)
{
	struct prepare_job *pj;
	struct wf_actor a;
	json_int_t id = 0;
	unsigned char *cert = NULL;
	size_t certlen = 0;
	int rc;

	(void)result;
	if ((rc = int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)))
		return rc;
	if (id == 0) {
		snprintf(msg, msglen, "thiếu \"id\": số của văn bản");
		return E_INVALID;
	}
	if (c->ctl->cat == NULL) {
		snprintf(msg, msglen, "các mẫu văn bản chưa được nạp");
		return E_INTERNAL;
	}
	if ((rc = hex_arg(args, "certificate", 16384, &cert, &certlen, msg, msglen)))
		return rc;
	if ((pj = calloc(1, sizeof(*pj))) == NULL) {
		free(cert);
		snprintf(msg, msglen, "hết bộ nhớ");
		return E_INTERNAL;
	}
	actor_of(c, &a);
	rc = esign_prepare_begin(c->ctl->es, c->ctl->store, c->ctl->cat, c->ctl->cfg, id, &a, cert,
	    certlen, &pj->job, msg, msglen);
	free(cert);
	if (rc != WF_OK) {
		free(pj);
		if (rc == WF_INTERNAL)
			log_err("sign.prepare %lld by %s: %s", (long long)id, a.login, msg);
		return wf_code(rc);
	}
	pj->conn = c;
	pj->id = id;
	pj->work.data = pj;
	if (uv_queue_work(c->ctl->loop, &pj->work, run_prepare, after_prepare) != 0) {
		esign_job_free(pj->job);
		free(pj);
		snprintf(msg, msglen, "không khởi động được việc chuyển sang PDF");
		return E_INTERNAL;
	}
	c->busy = 1;
	return CMD_ASYNC;
}

/* sign.finish {id, signature (hex), comment?}: the leader's signature; the `sign` step. */
static int cmd_sign_finish(struct conn *c, json_t *args, json_t **result, char *msg,
    size_t msglen)
{
	struct wf_actor a;
	json_int_t id = 0;
	const char *comment = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char sha[HASH_HEX_LEN + 1];
	int rc;

	if ((rc = int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = str_arg(args, "comment", 4000, &comment, msg, msglen)))
		return rc;
	if (id == 0) {
		snprintf(msg, msglen, "thiếu \"id\": số của văn bản");
		return E_INVALID;
	}
	if (c->ctl->cat == NULL) {
		snprintf(msg, msglen, "các mẫu văn bản chưa được nạp");
		return E_INTERNAL;
	}
	if ((rc = hex_arg(args, "signature", 2048, &sig, &siglen, msg, msglen)))
		return rc;
	actor_of(c, &a);
	rc = esign_finish(c->ctl->es, c->ctl->store, c->ctl->cat, c->ctl->cfg, id, &a, comment, sig,
	    siglen, sha, msg, msglen);
	free(sig);
	if (rc != WF_OK) {
		if (rc == WF_INTERNAL)
			log_err("sign.finish %lld by %s: %s", (long long)id, a.login, msg);
		else
			log_info("sign.finish %lld by %s refused: %s", (long long)id, a.login, msg);
		return wf_code(rc);
	}
	*result = json_pack("{s:I, s:s, s:s, s:s}", "id", id, "action", "sign", "state", "signed",
	    "pdf_sha256", sha);
	return 0;
}

/* copy {id, form?}: an electronic copy of the issued original, by the văn thư. */
static int cmd_copy(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const char *fname = NULL, *form;
	json_int_t id = 0;
	int64_t number = 0;
	char symbol[96], err[512];
	int rc;

	if ((rc = int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = str_arg(args, "form", 16, &fname, msg, msglen)))
		return rc;
	if (id == 0) {
		snprintf(msg, msglen, "thiếu \"id\": số của văn bản");
		return E_INVALID;
	}
	if ((form = esign_copy_form(fname)) == NULL) {
		snprintf(msg, msglen, "hình thức sao \"%s\" không có: sao-y (SAO Y) hoặc sao-luc "
		    "(SAO LỤC)", fname);
		return E_INVALID;
	}
	if (c->ctl->es == NULL) {
		snprintf(msg, msglen, "vanthud chưa được cấu hình ký số ([signing] trong vanthu.conf): "
		    "không làm được bản sao điện tử");
		return E_STATE;
	}
	rc = esign_copy(c->ctl->es, c->ctl->store, c->ctl->cfg, id, form, (int64_t)c->peer.uid,
	    c->peer.login, &number, symbol, sizeof(symbol), err, sizeof(err));
	if (rc == 1) {
		snprintf(msg, msglen, "văn bản số %lld chưa có bản gốc điện tử để sao", (long long)id);
		return E_STATE;
	}
	if (rc != 0) {
		log_err("copy %lld by %s: %s", (long long)id, c->peer.login, err);
		snprintf(msg, msglen, "không làm được bản sao điện tử: %s", err);
		return E_INTERNAL;
	}
	*result = json_pack("{s:I, s:I, s:s, s:s}", "id", id, "copy", (json_int_t)number,
	    "symbol", symbol, "form", form);
	return 0;
}

/* signing: whether the office signs, as whom, and the trust anchors `pdf verify` uses. */
static int cmd_signing(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const struct config_user *u = config_find_user(c->ctl->cfg, c->peer.login);

	(void)args;
	(void)msg;
	(void)msglen;
	*result = json_pack("{s:b, s:s?, s:s?}", "configured", c->ctl->es != NULL, "trust",
	    esign_trust_path(c->ctl->es), "certificate", u ? u->certificate : NULL);
	return 0;
}

/* pdf {id, offset?}: the issued electronic original, in chunks, checked against its SHA-256. */
static int cmd_pdf(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_int_t id = 0, offset = 0;
	struct store_doc doc;
	unsigned char *buf = NULL;
	size_t len = 0, n;
	char err[256], sha[HASH_HEX_LEN + 1], stem[128], name[160];
	int rc;

	json_int_t copy = 0;
	if ((rc = int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = int_arg(args, "offset", 0, INT64_MAX, &offset, msg, msglen)) ||
	    (rc = int_arg(args, "copy", 1, INT64_MAX, &copy, msg, msglen)))
		return rc;
	rc = store_doc_get(c->ctl->store, id, &doc, err, sizeof(err));
	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "không có văn bản số %lld", (long long)id);
		return E_NOT_FOUND;
	}
	if (rc == STORE_OK && copy > 0) {
		/* an electronic copy instead of the original: its own file and SHA-256 */
		char cpath[PATH_MAX], csha[65], csym[96];
		int crc = store_copy_file(c->ctl->store, id, copy, cpath, sizeof(cpath), csha, csym,
		    sizeof(csym), err, sizeof(err));
		if (crc == STORE_INVALID) {
			snprintf(msg, msglen, "văn bản số %lld không có bản sao số %lld", (long long)id,
			    (long long)copy);
			store_doc_free(&doc);
			return E_NOT_FOUND;
		}
		free(doc.pdf_path);
		free(doc.pdf_sha256);
		free(doc.symbol);
		doc.pdf_path = crc == STORE_OK ? strdup(cpath) : NULL;
		doc.pdf_sha256 = crc == STORE_OK ? strdup(csha) : NULL;
		doc.symbol = crc == STORE_OK ? strdup(csym) : NULL;
		if (crc != STORE_OK || !doc.pdf_path || !doc.pdf_sha256 || !doc.symbol) {
			log_err("pdf %lld copy %lld: %s", (long long)id, (long long)copy, err);
			snprintf(msg, msglen, "không đọc được bản sao (xem nhật ký của vanthud)");
			store_doc_free(&doc);
			return E_INTERNAL;
		}
	}
	if (rc != STORE_OK) {
		log_err("pdf %lld: %s", (long long)id, err);
		snprintf(msg, msglen, "không đọc được văn bản (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	if (doc.pdf_path == NULL || doc.pdf_sha256 == NULL) {
		snprintf(msg, msglen, "văn bản số %lld chưa có bản gốc điện tử (PDF ký số)%s",
		    (long long)id, doc.signed_pdf_sha256 ? ": lãnh đạo đã ký, chờ văn thư cấp số và "
		    "ký số của cơ quan" : "");
		store_doc_free(&doc);
		return E_NOT_FOUND;
	}
	if (fsutil_read_file(doc.pdf_path, 256u * 1024 * 1024, &buf, &len) != 0) {
		log_err("pdf %lld: cannot read %s: %s", (long long)id, doc.pdf_path, strerror(errno));
		snprintf(msg, msglen, "không đọc được bản gốc điện tử của văn bản số %lld",
		    (long long)id);
		rc = E_INTERNAL;
		goto out;
	}
	if (hash_sha256_hex(buf, len, sha) != 0 || strcmp(sha, doc.pdf_sha256) != 0) {
		log_err("pdf %lld: %s does not match its recorded SHA-256", (long long)id, doc.pdf_path);
		snprintf(msg, msglen, "bản gốc điện tử của văn bản số %lld không khớp với mã SHA-256 đã "
		    "ghi: tệp đã bị thay đổi", (long long)id);
		rc = E_INTERNAL;
		goto out;
	}
	if ((size_t)offset > len)
		offset = (json_int_t)len;
	n = len - (size_t)offset < FETCH_CHUNK ? len - (size_t)offset : FETCH_CHUNK;
	if ((*result = chunk_json(id, offset, len, buf + offset, n, sha)) == NULL) {
		snprintf(msg, msglen, "hết bộ nhớ");
		rc = E_INTERNAL;
		goto out;
	}
	publish_file_stem(doc.symbol ? doc.symbol : "", stem, sizeof(stem));
	snprintf(name, sizeof(name), "%s.pdf", stem);
	json_object_set_new(*result, "name", json_string(name));
	rc = 0;
out:
	free(buf);
	store_doc_free(&doc);
	return rc;
}

/* Adds the kind's and the state's labels to a document row. */
static void label_doc(const struct workflows *wf, json_t *row)
{
	const struct wf_kind *k = workflows_find(wf, json_string_value(json_object_get(row, "kind")) ?
	    json_string_value(json_object_get(row, "kind")) : "");
	const char *state = json_string_value(json_object_get(row, "state"));
	const struct wf_state *s = k && state ? wf_state_find(k, state) : NULL;

	if (k)
		json_object_set_new(row, "kind_label", json_string(k->label));
	if (s)
		json_object_set_new(row, "state_label", json_string(s->label));
}

/*
 * A kind and a state to filter by must exist (in that kind, or in any kind):
 * "--state nope" is a mistake to point out, not an empty list. The message
 * lists what there is.
 */
static int check_filter(const struct workflows *wf, const char *kind, const char *state,
    char *msg, size_t msglen)
{
	const struct wf_kind *k = NULL;
	size_t off = 0;

	if (wf == NULL)
		return 0;
	if (kind != NULL && (k = workflows_find(wf, kind)) == NULL) {
		off = (size_t)snprintf(msg, msglen, "không có loại văn bản \"%s\"; các loại là:", kind);
		for (size_t i = 0; i < wf->nkinds && off < msglen; i++)
			off += (size_t)snprintf(msg + off, msglen - off, "%s %s (%s)", i ? "," : "",
			    wf->kinds[i].kind, wf->kinds[i].label);
		return E_INVALID;
	}
	if (state == NULL)
		return 0;
	for (size_t i = 0; i < wf->nkinds; i++)
		if ((k == NULL || k == &wf->kinds[i]) && wf_state_find(&wf->kinds[i], state) != NULL)
			return 0;
	off = (size_t)snprintf(msg, msglen, "không có trạng thái \"%s\"%s%s; các trạng thái là:",
	    state, k ? " trong loại " : "", k ? k->label : "");
	/* each state id once, in the order the kinds give them */
	const char *seen[64];
	size_t nseen = 0;
	for (size_t i = 0; i < wf->nkinds; i++) {
		if (k != NULL && k != &wf->kinds[i])
			continue;
		for (size_t j = 0; j < wf->kinds[i].nstates && off < msglen; j++) {
			const struct wf_state *st = &wf->kinds[i].states[j];
			size_t n = 0;
			while (n < nseen && strcmp(seen[n], st->id) != 0)
				n++;
			if (n < nseen || nseen == sizeof(seen) / sizeof(seen[0]))
				continue;
			seen[nseen++] = st->id;
			off += (size_t)snprintf(msg + off, msglen - off, "%s %s (%s)", nseen > 1 ? "," : "",
			    st->id, st->label);
		}
	}
	return E_INVALID;
}

static int cmd_list(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct store_doc_filter f = { .drafter_uid = -1 };
	json_int_t limit = 50, before = 0;
	char err[256];
	json_t *list, *e;
	size_t i;
	int rc;

	if ((rc = str_arg(args, "state", 32, &f.state, msg, msglen)) ||
	    (rc = str_arg(args, "kind", 32, &f.kind, msg, msglen)) ||
	    (rc = int_arg(args, "limit", 1, 200, &limit, msg, msglen)) ||
	    (rc = int_arg(args, "before", 1, INT64_MAX, &before, msg, msglen)))
		return rc;
	if ((rc = check_filter(current_workflows(c->ctl), f.kind, f.state, msg, msglen)))
		return rc;
	if (json_is_true(json_object_get(args, "mine")))
		f.drafter_uid = (int64_t)c->peer.uid;
	f.limit = (int)limit;
	f.before = before;
	list = json_array();
	if (list == NULL || store_doc_list(c->ctl->store, &f, collect_row, list, err, sizeof(err)) !=
	    STORE_OK) {
		log_err("list: %s", err);
		json_decref(list);
		snprintf(msg, msglen, "không đọc được danh sách văn bản (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	json_array_foreach(list, i, e)
		label_doc(current_workflows(c->ctl), e);
	*result = json_pack("{s:o}", "documents", list);
	if (*result != NULL)
		page_list(*result, "documents", "id", limit);
	return 0;
}

static int take_one(const struct store_col *cols, int n, void *arg)
{
	*(json_t **)arg = row_object(cols, n);
	return 0;
}

/*
 * Working days (on the calendar) from the Vietnam day of an ISO UTC time to
 * today, not counting that day: 0 the same day, -1 when unreadable.
 */
static long long working_days_since(const struct ctl *ctl, const char *iso)
{
	struct tm tm;
	time_t t;
	int y, m, d;
	long long n = 0;

	memset(&tm, 0, sizeof(tm));
	if (iso == NULL || strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return -1;
	t = timegm(&tm) + CLOCK_VN_OFFSET;
	gmtime_r(&t, &tm);
	cal_day from = cal_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	clock_today_vn(&y, &m, &d);
	cal_day today = cal_from_ymd(y, m, d);
	const struct calendar *cal = ctl->cat ? ctl->cat->cal : NULL;
	for (cal_day day = from + 1; day <= today && n < 10000; day++)
		if (calendar_day_off(cal, day) == NULL)
			n++;
	return n;
}

static int cmd_show(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const struct workflows *wf = current_workflows(c->ctl);
	json_int_t id = 0;
	json_t *row = NULL, *actions;
	struct store_doc doc;
	struct wf_actor a;
	char err[256];
	int rc;

	if ((rc = int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)))
		return rc;
	rc = store_doc_row(c->ctl->store, id, take_one, &row, err, sizeof(err));
	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "không có văn bản số %lld", (long long)id);
		return E_NOT_FOUND;
	}
	if (rc != STORE_OK || row == NULL ||
	    store_doc_get(c->ctl->store, id, &doc, err, sizeof(err)) != STORE_OK) {
		json_decref(row);
		log_err("show: %s", err);
		snprintf(msg, msglen, "không đọc được văn bản (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	label_doc(wf, row);
	/* the issuing body by name, as the office says it */
	const struct config_body *body = config_find_body(c->ctl->cfg,
	    json_string_value(json_object_get(row, "issuer")));
	if (body) {
		json_object_set_new(row, "issuer_name", json_string(body->name));
		json_object_set_new(row, "issuer_abbrev", json_string(body->abbrev));
	}
	/* what the caller may do with it now */
	actions = json_array();
	actor_of(c, &a);
	const struct wf_kind *k = workflows_find(wf, doc.kind);
	for (size_t i = 0; k && i < k->ntransitions; i++) {
		const struct wf_transition *t;
		char why[512];
		if (workflow_check(k, &doc, &a, k->transitions[i].action, "x", &t, why, sizeof(why)) ==
		    WF_OK)
			json_array_append_new(actions, json_pack("{s:s, s:s, s:b}", "action", t->action,
			    "label", t->label, "comment_required", t->comment_required));
	}
	const struct wf_state *s = k ? wf_state_find(k, doc.state) : NULL;
	if (s && s->limit_days > 0) {
		long long age = working_days_since(c->ctl, doc.state_since);
		json_object_set_new(row, "limit_days", json_integer(s->limit_days));
		json_object_set_new(row, "working_days", json_integer(age));
		json_object_set_new(row, "overdue", json_boolean(age > (long long)s->limit_days));
	}
	json_object_set_new(row, "actions", actions);
	/* the electronic original: none, signed by the leader, or issued with both signatures */
	json_t *sigs = json_array();
	if (sigs && store_doc_signatures(c->ctl->store, id, collect_row, sigs, err, sizeof(err)) !=
	    STORE_OK)
		log_err("show %lld: %s", (long long)id, err);
	const char *es_state = doc.pdf_sha256 ? "issued" : doc.signed_pdf_sha256 ?
	    (doc.number > 0 ? "sealing" : "signed") : "none";
	json_t *copies = json_array();
	if (copies && store_doc_copies(c->ctl->store, id, collect_row, copies, err, sizeof(err)) !=
	    STORE_OK)
		log_err("show %lld: %s", (long long)id, err);
	json_object_set_new(row, "electronic", json_pack("{s:s, s:s?, s:s?, s:o, s:o, s:b}", "state",
	    es_state, "pdf_path", doc.pdf_path, "pdf_sha256", doc.pdf_sha256,
	    "signatures", sigs ? sigs : json_array(), "copies", copies ? copies : json_array(),
	    "signing_configured", c->ctl->es != NULL));
	store_doc_free(&doc);
	*result = row;
	return 0;
}

static int cmd_history(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_int_t id = 0;
	json_t *list, *e, *row = NULL;
	char err[256];
	size_t i;
	int rc;

	if ((rc = int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)))
		return rc;
	rc = store_doc_row(c->ctl->store, id, take_one, &row, err, sizeof(err));
	json_decref(row);
	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "không có văn bản số %lld", (long long)id);
		return E_NOT_FOUND;
	}
	list = json_array();
	if (rc != STORE_OK || list == NULL ||
	    store_doc_history(c->ctl->store, id, collect_row, list, err, sizeof(err)) != STORE_OK) {
		log_err("history: %s", err);
		json_decref(list);
		snprintf(msg, msglen, "không đọc được lịch sử (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	const struct workflows *wf = current_workflows(c->ctl);
	const struct wf_kind *k = NULL;
	json_t *docrow = NULL;
	if (store_doc_row(c->ctl->store, id, take_one, &docrow, err, sizeof(err)) == STORE_OK)
		k = workflows_find(wf, json_string_value(json_object_get(docrow, "kind")) ?
		    json_string_value(json_object_get(docrow, "kind")) : "");
	json_decref(docrow);
	json_array_foreach(list, i, e) {
		json_t *d = json_object_get(e, "detail");
		json_t *parsed = json_is_string(d) ? json_loads(json_string_value(d), 0, NULL) : NULL;
		/* the kind's own label for a step, when the kind defines one */
		const char *act = json_string_value(json_object_get(e, "action"));
		for (size_t t = 0; k && act && t < k->ntransitions; t++)
			if (strcmp(k->transitions[t].action, act) == 0) {
				json_object_set_new(e, "action_label", json_string(k->transitions[t].label));
				break;
			}
		if (parsed) {
			const char *from = json_string_value(json_object_get(parsed, "from"));
			const char *to = json_string_value(json_object_get(parsed, "to"));
			const struct wf_state *fs = k && from ? wf_state_find(k, from) : NULL;
			const struct wf_state *ts = k && to ? wf_state_find(k, to) : NULL;
			if (fs)
				json_object_set_new(parsed, "from_label", json_string(fs->label));
			if (ts)
				json_object_set_new(parsed, "to_label", json_string(ts->label));
			json_object_set_new(e, "detail", parsed);
		}
	}
	*result = json_pack("{s:I, s:o}", "id", id, "history", list);
	return 0;
}

static int cmd_overdue(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const struct workflows *wf = current_workflows(c->ctl);
	json_t *out = json_array();
	char err[256];

	(void)args;
	for (size_t i = 0; wf && out && i < wf->nkinds; i++) {
		const struct wf_kind *k = &wf->kinds[i];
		for (size_t j = 0; j < k->nstates; j++) {
			const struct wf_state *s = &k->states[j];
			struct store_doc_filter f = { .state = s->id, .kind = k->kind, .drafter_uid = -1,
				.limit = 200 };
			json_t *list, *e;
			size_t n;
			if (s->final || s->limit_days == 0)
				continue;
			list = json_array();
			if (list == NULL || store_doc_list(c->ctl->store, &f, collect_row, list, err,
			        sizeof(err)) != STORE_OK) {
				json_decref(list);
				json_decref(out);
				log_err("overdue: %s", err);
				snprintf(msg, msglen, "không đọc được danh sách văn bản (xem nhật ký của vanthud)");
				return E_INTERNAL;
			}
			json_array_foreach(list, n, e) {
				long long age = working_days_since(c->ctl,
				    json_string_value(json_object_get(e, "state_since")));
				if (age > (long long)s->limit_days) {
					label_doc(wf, e);
					json_object_set_new(e, "limit_days", json_integer(s->limit_days));
					json_object_set_new(e, "days_over",
					    json_integer(age - (long long)s->limit_days));
					json_array_append(out, e);
				}
			}
			json_decref(list);
		}
	}
	*result = json_pack("{s:o}", "documents", out);
	return *result ? 0 : E_INTERNAL;
}

/*
 * The series a register request names: "body" (default the organisation), and
 * for a state body "year" (default this year), for a Party committee "term"
 * (default the current one) and "type" (for void: required; for register:
 * optional, every type when absent).
 */
struct series_arg {
	const struct config_body *body;
	json_int_t year;
	const char *term, *type;
	char series[64];
};

static int series_arg(struct conn *c, json_t *args, int need_type, struct series_arg *sa,
    char *msg, size_t msglen)
{
	const char *body = NULL;
	char day[16];
	int y, m, d, rc;

	memset(sa, 0, sizeof(*sa));
	if ((rc = str_arg(args, "body", 31, &body, msg, msglen)) ||
	    (rc = int_arg(args, "year", 1945, 2999, &sa->year, msg, msglen)) ||
	    (rc = str_arg(args, "term", 31, &sa->term, msg, msglen)) ||
	    (rc = str_arg(args, "type", 5, &sa->type, msg, msglen)))
		return rc;
	sa->body = config_find_body(c->ctl->cfg, body);
	if (sa->body == NULL) {
		snprintf(msg, msglen, "không có cơ quan ban hành \"%s\" trong cấu hình", body);
		return E_NOT_FOUND;
	}
	clock_today_vn(&y, &m, &d);
	if (sa->body->kind == BODY_STATE) {
		if (sa->term || sa->type) {
			snprintf(msg, msglen, "%s là cơ quan nhà nước: sổ đăng ký theo năm (--year), không "
			    "theo nhiệm kỳ hay loại văn bản", sa->body->abbrev);
			return E_INVALID;
		}
		if (sa->year == 0)
			sa->year = y;
		symbol_write_series(sa->series, sizeof(sa->series), (int)sa->year, NULL, NULL);
		return 0;
	}
	if (sa->year) {
		snprintf(msg, msglen, "%s là cấp ủy Đảng: sổ đăng ký theo nhiệm kỳ (--term) và loại văn "
		    "bản (--type), không theo năm", sa->body->abbrev);
		return E_INVALID;
	}
	if (sa->term == NULL) {
		snprintf(day, sizeof(day), "%04d-%02d-%02d", y, m, d);
		const struct config_term *t = config_body_term(sa->body, day);
		if (t == NULL) {
			snprintf(msg, msglen, "chưa có nhiệm kỳ nào của %s bắt đầu; hãy nêu --term",
			    sa->body->abbrev);
			return E_NOT_FOUND;
		}
		sa->term = t->name;
	} else if (config_find_term(sa->body, sa->term) == NULL) {
		snprintf(msg, msglen, "%s không có nhiệm kỳ \"%s\" trong cấu hình", sa->body->abbrev,
		    sa->term);
		return E_NOT_FOUND;
	}
	if (need_type && sa->type == NULL) {
		snprintf(msg, msglen, "sổ của cấp ủy Đảng đánh số theo từng loại văn bản: cần \"type\" "
		    "(KH, TB, CV...)");
		return E_INVALID;
	}
	if (sa->type)
		symbol_write_series(sa->series, sizeof(sa->series), 0, sa->term, sa->type);
	return 0;
}

static int cmd_register(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct store_register_query q;
	struct series_arg sa;
	json_t *list;
	char err[256];
	int rc;

	if ((rc = series_arg(c, args, 0, &sa, msg, msglen)))
		return rc;
	memset(&q, 0, sizeof(q));
	q.body = sa.body->abbrev;
	if (sa.body->kind == BODY_PARTY) {
		q.term = sa.term;
		q.type = sa.type;
	} else {
		q.series = sa.series;
	}
	list = json_array();
	if (list == NULL || store_register_list(c->ctl->store, &q, collect_row, list, err,
	        sizeof(err)) != STORE_OK) {
		log_err("register: %s", err);
		json_decref(list);
		snprintf(msg, msglen, "không đọc được sổ đăng ký (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	*result = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "body", sa.body->abbrev,
	    "organisation", sa.body->name, "body_kind", config_body_kind_name(sa.body->kind),
	    "year", sa.body->kind == BODY_STATE ? json_integer(sa.year) : json_null(),
	    "term", sa.term ? json_string(sa.term) : json_null(),
	    "type", sa.type ? json_string(sa.type) : json_null(), "entries", list);
	if (*result == NULL)
		return E_INTERNAL;
	if (sa.series[0]) {
		/* one series: the number its next issue gets, and where it continues a paper one */
		int64_t next = 0, start = 0;
		if (store_register_next(c->ctl->store, sa.body->abbrev, sa.series, &next, &start, err,
		        sizeof(err)) != STORE_OK) {
			log_err("register: %s", err);
			snprintf(msg, msglen, "không đọc được sổ đăng ký (xem nhật ký của vanthud)");
			return E_INTERNAL;
		}
		json_object_set_new(*result, "next", json_integer(next));
		json_object_set_new(*result, "start", start ? json_integer(start) : json_null());
	}
	return 0;
}

/*
 * An office moving to vanthu mid-year continues its paper register: the
 * series' first number in vanthu, set once before anything is issued in it.
 */
static int cmd_register_start(struct conn *c, json_t *args, json_t **result, char *msg,
    size_t msglen)
{
	struct series_arg sa;
	json_int_t next = 0;
	const char *reason = NULL;
	char err[256];
	int rc;

	if ((rc = int_arg(args, "next", 1, 999999, &next, msg, msglen)) ||
	    (rc = str_arg(args, "reason", 2000, &reason, msg, msglen)))
		return rc;
	if (next == 0) {
		snprintf(msg, msglen, "cần \"next\": số đầu tiên sẽ cấp trong vanthu (số tiếp theo của "
		    "sổ giấy)");
		return E_INVALID;
	}
	if (reason == NULL || strspn(reason, " \t\r\n") == strlen(reason)) {
		snprintf(msg, msglen, "đặt số bắt đầu phải ghi rõ lý do (-m \"...\"), ví dụ sổ giấy "
		    "đã cấp đến số %lld", (long long)next - 1);
		return E_INVALID;
	}
	if ((rc = series_arg(c, args, 1, &sa, msg, msglen)))
		return rc;
	if (sa.body->kind == BODY_STATE && json_object_get(args, "year") == NULL) {
		snprintf(msg, msglen, "cần \"year\": năm của sổ");
		return E_INVALID;
	}
	rc = store_register_start(c->ctl->store, sa.body->abbrev, sa.series, next, reason,
	    (int64_t)c->peer.uid, c->peer.login, err, sizeof(err));
	if (rc == STORE_INVALID) {
		long long n = 0;
		if (sscanf(err, "issued:%lld", &n) == 1)
			snprintf(msg, msglen, "sổ %s %s đã có %lld văn bản cấp số trong vanthu; số bắt đầu chỉ "
			    "đặt được trước văn bản đầu tiên (không lùi số, không cấp trùng số đã cấp)",
			    sa.body->abbrev, sa.series, n);
		else if (sscanf(err, "set:%lld", &n) == 1)
			snprintf(msg, msglen, "sổ %s %s đã được đặt số bắt đầu là %lld; chỉ đặt được một lần",
			    sa.body->abbrev, sa.series, n);
		else
			snprintf(msg, msglen, "%s", err);
		return E_STATE;
	}
	if (rc != STORE_OK) {
		log_err("register start: %s", err);
		snprintf(msg, msglen, "không ghi được (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	log_info("register %s %s continues a paper register: next number %lld, set by %s: %s",
	    sa.body->abbrev, sa.series, (long long)next, c->peer.login, reason);
	*result = json_pack("{s:s, s:s, s:o, s:o, s:o, s:I}", "body", sa.body->abbrev, "series",
	    sa.series, "year", sa.body->kind == BODY_STATE ? json_integer(sa.year) : json_null(),
	    "term", sa.term ? json_string(sa.term) : json_null(),
	    "type", sa.type ? json_string(sa.type) : json_null(), "next", next);
	return *result ? 0 : E_INTERNAL;
}

static int cmd_void(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct series_arg sa;
	json_int_t number = 0;
	const char *reason = NULL;
	char err[256];
	int rc;

	if ((rc = int_arg(args, "number", 1, INT64_MAX, &number, msg, msglen)) ||
	    (rc = str_arg(args, "reason", 2000, &reason, msg, msglen)))
		return rc;
	if (number == 0) {
		snprintf(msg, msglen, "cần \"number\": số cần hủy");
		return E_INVALID;
	}
	if ((rc = series_arg(c, args, 1, &sa, msg, msglen)))
		return rc;
	if (sa.body->kind == BODY_STATE && json_object_get(args, "year") == NULL) {
		snprintf(msg, msglen, "cần \"year\": năm của số cần hủy");
		return E_INVALID;
	}
	if (reason == NULL || strspn(reason, " \t\r\n") == strlen(reason)) {
		snprintf(msg, msglen, "hủy một số phải ghi rõ lý do (-m \"...\")");
		return E_INVALID;
	}
	rc = store_register_void(c->ctl->store, sa.body->abbrev, sa.series, number, reason,
	    (int64_t)c->peer.uid, c->peer.login, err, sizeof(err));
	if (rc == STORE_INVALID) {
		if (sa.body->kind == BODY_STATE)
			snprintf(msg, msglen, "không có số %lld năm %lld trong sổ", (long long)number,
			    (long long)sa.year);
		else
			snprintf(msg, msglen, "không có số %lld loại %s nhiệm kỳ %s trong sổ",
			    (long long)number, sa.type, sa.term);
		return E_NOT_FOUND;
	}
	if (rc == STORE_DONE) {
		snprintf(msg, msglen, "số %lld %s %s đã bị hủy trước đó; không hủy lại", (long long)number,
		    sa.body->kind == BODY_STATE ? "năm" : "sổ", sa.series);
		return E_STATE;
	}
	if (rc != STORE_OK) {
		log_err("void: %s", err);
		snprintf(msg, msglen, "không ghi được (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	log_info("register %s %s number %lld voided by %s: %s", sa.body->abbrev, sa.series,
	    (long long)number, c->peer.login, reason);
	*result = json_pack("{s:s, s:o, s:o, s:o, s:I}", "body", sa.body->abbrev,
	    "year", sa.body->kind == BODY_STATE ? json_integer(sa.year) : json_null(),
	    "term", sa.term ? json_string(sa.term) : json_null(),
	    "type", sa.type ? json_string(sa.type) : json_null(), "number", number);
	return *result ? 0 : E_INTERNAL;
}

static int cmd_render(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_int_t id = 0, offset = 0;
	void *docx = NULL;
	size_t len = 0, n;
	char err[512], sha[HASH_HEX_LEN + 1];
	int rc;

	if ((rc = int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = int_arg(args, "offset", 0, INT64_MAX, &offset, msg, msglen)))
		return rc;
	if (id == 0) {
		snprintf(msg, msglen, "thiếu \"id\": số của văn bản");
		return E_INVALID;
	}
	if (c->ctl->cat == NULL) {
		snprintf(msg, msglen, "các mẫu văn bản chưa được nạp");
		return E_INTERNAL;
	}
	rc = publish_render(c->ctl->store, c->ctl->cat, c->ctl->cfg, id, &docx, &len,
	    err, sizeof(err));
	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "không có văn bản số %lld", (long long)id);
		return E_NOT_FOUND;
	}
	if (rc != STORE_OK) {
		log_err("render %lld: %s", (long long)id, err);
		snprintf(msg, msglen, "không tạo được tệp DOCX: %s", err);
		return E_INTERNAL;
	}
	if ((size_t)offset > len)
		offset = (json_int_t)len;
	n = len - (size_t)offset < FETCH_CHUNK ? len - (size_t)offset : FETCH_CHUNK;
	if (hash_sha256_hex(docx, len, sha) != 0 ||
	    (*result = chunk_json(id, offset, len, (char *)docx + offset, n, sha)) == NULL) {
		free(docx);
		snprintf(msg, msglen, "hết bộ nhớ");
		return E_INTERNAL;
	}
	free(docx);
	/*
	 * The file's name for a clerk: an issued one's own ("03-TB-UBND.docx"), a
	 * voided number's marked so (the issued file itself stays as it was), else
	 * a draft's.
	 */
	json_t *row = NULL;
	char stem[128], name[160];
	if (store_doc_row(c->ctl->store, id, take_one, &row, err, sizeof(err)) == STORE_OK) {
		int voided = json_is_string(json_object_get(row, "voided_at"));
		const char *symbol = json_string_value(json_object_get(row, "symbol"));
		if (symbol && json_integer_value(json_object_get(row, "number")) > 0) {
			publish_file_stem(symbol, stem, sizeof(stem));
			snprintf(name, sizeof(name), "%s%s.docx", stem, voided ? "-DA-HUY-SO" : "");
		} else {
			snprintf(name, sizeof(name), "du-thao-%lld.docx", (long long)id);
		}
		json_object_set_new(*result, "name", json_string(name));
		if (voided) {
			json_object_set_new(*result, "voided", json_true());
			json_object_set(*result, "void_reason", json_object_get(row, "void_reason"));
		}
	}
	json_decref(row);
	return 0;
}

/*
 * A document's current input XML, in chunks as render sends a file: what a
 * drafter exports to change one field of a draft (vanthuctl edit --export)
 * without writing the whole input again.
 */
static int cmd_doc_content(struct conn *c, json_t *args, json_t **result, char *msg,
    size_t msglen)
{
	json_int_t id = 0, offset = 0;
	char *xml = NULL, err[256], sha[HASH_HEX_LEN + 1];
	size_t len = 0, n;
	int rc;

	if ((rc = int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = int_arg(args, "offset", 0, INT64_MAX, &offset, msg, msglen)))
		return rc;
	if (id == 0) {
		snprintf(msg, msglen, "thiếu \"id\": số của văn bản");
		return E_INVALID;
	}
	rc = store_doc_content(c->ctl->store, id, &xml, &len, err, sizeof(err));
	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "không có văn bản số %lld", (long long)id);
		return E_NOT_FOUND;
	}
	if (rc != STORE_OK) {
		log_err("content %lld: %s", (long long)id, err);
		snprintf(msg, msglen, "không đọc được văn bản (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	if ((size_t)offset > len)
		offset = (json_int_t)len;
	n = len - (size_t)offset < FETCH_CHUNK ? len - (size_t)offset : FETCH_CHUNK;
	if (hash_sha256_hex(xml, len, sha) != 0 ||
	    (*result = chunk_json(id, offset, len, xml + offset, n, sha)) == NULL) {
		free(xml);
		snprintf(msg, msglen, "hết bộ nhớ");
		return E_INTERNAL;
	}
	free(xml);
	return 0;
}

/* ---- reporting rounds ---- */

static int cmd_round_new(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct diag_list errs;
	struct wf_actor a;
	char *xml = NULL, id[80];
	size_t len = 0;
	int rc;

	if ((rc = content_arg(args, &xml, &len, msg, msglen)))
		return rc;
	if (c->ctl->cat == NULL) {
		free(xml);
		snprintf(msg, msglen, "danh mục chưa được nạp");
		return E_INTERNAL;
	}
	actor_of(c, &a);
	diag_init(&errs);
	unsigned flags = (json_is_true(json_object_get(args, "force")) ? ROUNDS_FORCE : 0) |
	    (json_is_true(json_object_get(args, "today")) ? ROUNDS_TODAY : 0);
	rc = rounds_create(c->ctl->store, c->ctl->cat, c->ctl->cfg, xml, len, &a, flags, id,
	    sizeof(id), &errs, msg, msglen);
	free(xml);
	if (rc != WF_OK)
		return refuse_input(rc, msg, msglen, &errs);
	diag_free(&errs);
	/* its reminder or closing may be due already */
	if (c->ctl->on_change)
		c->ctl->on_change(c->ctl->on_change_arg);
	*result = json_pack("{s:s}", "id", id);
	return 0;
}

static int cmd_meeting(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct diag_list errs;
	char *xml = NULL;
	size_t len = 0;
	int64_t doc = 0;
	int rc;

	if (!(c->peer.roles & (ROLE_DRAFTER | ROLE_CLERK | ROLE_ADMIN))) {
		snprintf(msg, msglen, "chỉ chuyên viên, văn thư hoặc quản trị mới gửi được kết luận cuộc "
		    "họp; %s không có vai trò đó", c->peer.login);
		return E_DENIED;
	}
	if ((rc = content_arg(args, &xml, &len, msg, msglen)))
		return rc;
	diag_init(&errs);
	rc = rounds_meeting(c->ctl->store, c->ctl->cat, c->ctl->cfg, xml, len, &doc,
	    &errs, msg, msglen);
	free(xml);
	if (rc != WF_OK)
		return refuse_input(rc, msg, msglen, &errs);
	diag_free(&errs);
	/* the draft belongs to [rounds] drafter; the history says who sent the conclusions */
	char object[48], err[256];
	snprintf(object, sizeof(object), "document/%lld", (long long)doc);
	if (store_audit_append(c->ctl->store, (int64_t)c->peer.uid, c->peer.login, "meeting.sent",
	        object, "{\"from\":\"\",\"to\":\"draft\"}", err, sizeof(err)) != STORE_OK)
		log_err("audit: %s", err);
	*result = json_pack("{s:I}", "document", (json_int_t)doc);
	return 0;
}

static int cmd_rounds(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_t *list = json_array();
	char err[256];

	if (list == NULL || store_rounds_list(c->ctl->store, !json_is_true(json_object_get(args, "all")),
	        collect_row, list, err, sizeof(err)) != STORE_OK) {
		log_err("rounds: %s", err);
		json_decref(list);
		snprintf(msg, msglen, "không đọc được danh sách đợt báo cáo (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	/* "none open" is not "none at all": say how many are closed */
	json_int_t closed = 0;
	json_t *all = json_array(), *e;
	size_t i;
	if (all && store_rounds_list(c->ctl->store, 0, collect_row, all, err, sizeof(err)) ==
	    STORE_OK)
		json_array_foreach(all, i, e)
			closed += strcmp(json_string_value(json_object_get(e, "state")), "open") != 0;
	json_decref(all);
	*result = json_pack("{s:o, s:I}", "rounds", list, "closed", closed);
	return *result ? 0 : E_INTERNAL;
}

static int cmd_round(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const char *id = NULL;
	char err[256];
	int rc;

	if ((rc = str_arg(args, "id", 64, &id, msg, msglen)))
		return rc;
	if (id == NULL) {
		snprintf(msg, msglen, "thiếu \"id\": mã đợt báo cáo");
		return E_INVALID;
	}
	*result = rounds_describe(c->ctl->store, c->ctl->cat, id, err, sizeof(err));
	if (*result == NULL) {
		snprintf(msg, msglen, "%s", err);
		return strncmp(err, "không có", 8) == 0 ? E_NOT_FOUND : E_INTERNAL;
	}
	return 0;
}

static int cmd_round_close(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const char *id = NULL;
	struct wf_actor a;
	int64_t doc = 0;
	int rc;

	if ((rc = str_arg(args, "id", 64, &id, msg, msglen)))
		return rc;
	if (id == NULL) {
		snprintf(msg, msglen, "thiếu \"id\": mã đợt báo cáo");
		return E_INVALID;
	}
	actor_of(c, &a);
	rc = rounds_close(c->ctl->store, c->ctl->cat, c->ctl->cfg, id, &a, &doc, msg,
	    msglen);
	if (rc != WF_OK)
		return wf_code(rc);
	log_info("round %s closed by %s; conclusion draft %lld", id, c->peer.login, (long long)doc);
	*result = json_pack("{s:s, s:I}", "id", id, "document", (json_int_t)doc);
	return 0;
}

static int cmd_calendar(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const struct catalog *cat = c->ctl->cat;
	const char *date = NULL;
	json_int_t n = 0;
	json_t *days;
	char iso[11];
	int rc;

	if ((rc = str_arg(args, "date", 10, &date, msg, msglen)) ||
	    (rc = int_arg(args, "n", -250, 250, &n, msg, msglen)))
		return rc;
	cal_day start = date ? cal_parse(date) : -1;
	if (start < 0) {
		snprintf(msg, msglen, "\"date\" phải là một ngày có thật dạng YYYY-MM-DD");
		return E_INVALID;
	}
	days = json_array();
	cal_day day = start;
	int step = n >= 0 ? 1 : -1;
	for (json_int_t left = n >= 0 ? n : -n, count = 0; left > 0 && days;) {
		day += step;
		const char *off = calendar_day_off(cat->cal, day);
		int y, m, d;
		cal_to_ymd(day, &y, &m, &d);
		cal_format(day, iso);
		if (off == NULL) {
			left--;
			count++;
		}
		json_array_append_new(days, json_pack("{s:s, s:b, s:s?, s:I, s:b}", "date", iso, "working",
		    off == NULL, "reason", off, "count", count, "calendar", calendar_has_year(cat->cal, y)));
	}
	cal_format(day, iso);
	*result = json_pack("{s:s, s:I, s:s, s:o}", "from", date, "n", n, "result", iso, "days", days);
	return 0;
}

/* The command table: every request goes through here, and only through here. */
static const struct command commands[] = {
	{ "ping", ROLES_ALL, cmd_ping },
	{ "status", ROLES_ALL, cmd_status },
	{ "whoami", ROLES_ALL, cmd_whoami },
	{ "audit", ROLE_ADMIN | ROLE_AUDITOR | ROLE_CLERK, cmd_audit },
	{ "verify", ROLE_ADMIN | ROLE_AUDITOR | ROLE_CLERK, cmd_verify },
	{ "backup", ROLE_ADMIN, cmd_backup },
	{ "units", ROLES_ALL, cmd_units },
	{ "reports", ROLES_ALL, cmd_reports },
	{ "report", ROLES_ALL, cmd_report },
	{ "rejected", ROLES_ALL, cmd_rejected },
	{ "new", ROLES_ALL, cmd_new },
	{ "edit", ROLES_ALL, cmd_edit },
	{ "act", ROLES_ALL, cmd_act },
	{ "list", ROLES_ALL, cmd_list },
	{ "show", ROLES_ALL, cmd_show },
	{ "history", ROLES_ALL, cmd_history },
	{ "overdue", ROLES_ALL, cmd_overdue },
	{ "register", ROLES_ALL, cmd_register },
	{ "void", ROLE_CLERK | ROLE_ADMIN, cmd_void },
	{ "register.start", ROLE_ADMIN, cmd_register_start },
	{ "render", ROLES_ALL, cmd_render },
	{ "pdf", ROLES_ALL, cmd_pdf },
	{ "signing", ROLES_ALL, cmd_signing },
	{ "sign.prepare", ROLE_SIGNER, cmd_sign_prepare },
	{ "sign.finish", ROLE_SIGNER, cmd_sign_finish },
	{ "copy", ROLE_CLERK, cmd_copy },
	{ "doc.content", ROLES_ALL, cmd_doc_content },
	{ "round.new", ROLES_ALL, cmd_round_new },
	{ "round.meeting", ROLES_ALL, cmd_meeting },
	{ "rounds", ROLES_ALL, cmd_rounds },
	{ "round", ROLES_ALL, cmd_round },
	{ "round.close", ROLES_ALL, cmd_round_close },
	{ "calendar.explain", ROLES_ALL, cmd_calendar },
};

static void handle_line(struct conn *c, const char *line, size_t len)
{
	struct proto_request req;
	const struct command *cmd = NULL;
	json_t *result = NULL;
	char msg[8192] = "";
	int rc;

	rc = proto_parse_request(line, len, &req, msg, sizeof(msg));
	if (rc != 0) {
		log_debug("client %s: %s", c->peer.login, msg);
		send_error(c, rc, msg);
		return;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, req.cmd) == 0)
			cmd = &commands[i];
	if (c->peer.roles == 0) {
		snprintf(msg, sizeof(msg), "người dùng %s (uid %ld) không thuộc nhóm vai trò nào của "
		    "vanthu", c->peer.login, (long)c->peer.uid);
		send_error(c, E_DENIED, msg);
		goto out;
	}
	if (cmd == NULL) {
		char name[80];
		snprintf(name, sizeof(name), "%.64s", req.cmd);
		snprintf(msg, sizeof(msg), "không có lệnh \"%s\"", name);
		send_error(c, E_UNKNOWN_CMD, msg);
		goto out;
	}
	if ((cmd->roles & c->peer.roles) == 0) {
		/* name the roles that may: the person knows whom to ask */
		char may[512];
		config_roles_text(cmd->roles, 1, may, sizeof(may));
		snprintf(msg, sizeof(msg), "lệnh \"%s\" chỉ dành cho %s; %s không có vai trò đó",
		    cmd->name, may, c->peer.login);
		send_error(c, E_DENIED, msg);
		goto out;
	}
	rc = cmd->fn(c, req.args, &result, msg, sizeof(msg));
	if (rc == CMD_ASYNC)
		goto out;
	if (rc != 0)
		send_error(c, rc, msg);
	else if (result == NULL)
		send_error(c, E_INTERNAL, "hết bộ nhớ");
	else
		send_ok(c, result);
out:
	proto_request_free(&req);
}

/* ---- connections ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	if (suggested > 65536)
		suggested = 65536;
	buf->base = malloc(suggested);
	buf->len = buf->base ? suggested : 0;
}

/* Handles every complete line, in order, until one goes async. */
static void conn_process(struct conn *c)
{
	const char *line;
	size_t len, consumed;
	int rc;

	while (!c->busy && !c->closing && !c->close_after_write) {
		rc = proto_buf_next(&c->in, &line, &len, &consumed);
		if (rc == 0)
			break;
		if (rc < 0) {
			log_warn("client %s (uid %ld): line over %d bytes; closing", c->peer.login,
			    (long)c->peer.uid, PROTO_MAX_LINE);
			c->close_after_write = 1;
			send_error(c, E_PROTO, "dòng yêu cầu dài quá 65536 byte");
			proto_buf_consume(&c->in, c->in.len);
			break;
		}
		if (len > 0)
			handle_line(c, line, len);
		proto_buf_consume(&c->in, consumed);
		if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) >= WRITE_QUEUE_CAP)
			break;
	}
	/* Read more only when idle and the client takes its replies. */
	int want = !c->busy && !c->closing && !c->close_after_write &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) < WRITE_QUEUE_CAP;
	if (want && !c->reading) {
		if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) == 0)
			c->reading = 1;
	} else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = 0;
	}
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = stream->data;

	if (nread > 0) {
		uv_timer_again(&c->idle);
		if (proto_buf_append(&c->in, buf->base, (size_t)nread) != 0) {
			log_err("out of memory reading from %s", c->peer.login);
			free(buf->base);
			conn_close(c);
			return;
		}
		free(buf->base);
		conn_process(c);
		return;
	}
	free(buf->base);
	if (nread < 0) {
		if (nread != UV_EOF)
			log_debug("client %s: read: %s", c->peer.login, uv_strerror((int)nread));
		conn_close(c);
	}
}

static void on_conn_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	struct ctl *ctl = c->ctl;

	if (--c->handles_open > 0)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->nconns--;
	proto_buf_free(&c->in);
	free(c);
	conn_maybe_done(ctl);
}

static void close_handles(struct conn *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->pipe))
		uv_close((uv_handle_t *)&c->pipe, on_conn_handle_closed);
	if (!uv_is_closing((uv_handle_t *)&c->idle))
		uv_close((uv_handle_t *)&c->idle, on_conn_handle_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	struct conn *c = req->data;

	(void)status;
	free(req);
	close_handles(c);
}

/* Closes once nothing is in flight; replies already written are flushed first. */
static void conn_close(struct conn *c)
{
	uv_shutdown_t *req;

	if (c->busy) {
		c->closing = 1;  /* after_backup closes it */
		if (c->reading) {
			uv_read_stop((uv_stream_t *)&c->pipe);
			c->reading = 0;
		}
		return;
	}
	if (c->close_started)
		return;
	c->close_started = 1;
	c->closing = 1;
	uv_timer_stop(&c->idle);
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = 0;
	}
	req = malloc(sizeof(*req));
	if (req != NULL) {
		req->data = c;
		if (uv_shutdown(req, (uv_stream_t *)&c->pipe, on_shutdown) == 0)
			return;
		free(req);
	}
	close_handles(c);
}

static void on_idle(uv_timer_t *t)
{
	struct conn *c = t->data;

	if (c->busy)
		return;
	log_debug("client %s: idle for %u s; closing", c->peer.login, c->ctl->cfg->idle_timeout);
	conn_close(c);
}

static unsigned conns_of_uid(const struct ctl *ctl, uid_t uid)
{
	unsigned n = 0;

	for (const struct conn *c = ctl->conns; c != NULL; c = c->next)
		if (c->peer.uid == uid && !c->closing)
			n++;
	return n;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct ctl *ctl = server->data;
	struct conn *c;
	uv_os_fd_t fd;
	unsigned total = ctl->nconns;

	if (status < 0) {
		log_err("accept: %s", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_err("out of memory accepting a client");
		return;
	}
	c->ctl = ctl;
	proto_buf_init(&c->in);
	if (uv_pipe_init(ctl->loop, &c->pipe, 0) != 0) {
		free(c);
		return;
	}
	c->pipe.data = c;
	c->handles_open = 1;
	c->next = ctl->conns;
	if (ctl->conns)
		ctl->conns->prev = c;
	ctl->conns = c;
	ctl->nconns++;
	uv_timer_init(ctl->loop, &c->idle);
	c->idle.data = c;
	c->handles_open = 2;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0 ||
	    uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0 || peer_from_socket(fd, &c->peer) != 0) {
		log_err("accept: cannot read the client's identity");
		conn_close(c);
		return;
	}
	peer_resolve_roles(ctl->cfg, &c->peer);
	uv_timer_start(&c->idle, on_idle, (uint64_t)ctl->cfg->idle_timeout * 1000,
	    (uint64_t)ctl->cfg->idle_timeout * 1000);
	if (total >= ctl->cfg->max_clients) {
		log_warn("client %s (uid %ld) refused: %u connections open (max_clients)",
		    c->peer.login, (long)c->peer.uid, total);
		c->close_after_write = 1;
		send_error(c, E_BUSY, "máy chủ đang có quá nhiều kết nối; hãy thử lại sau");
		return;
	}
	if (conns_of_uid(ctl, c->peer.uid) > ctl->cfg->max_clients_per_uid) {
		log_warn("client %s (uid %ld) refused: over max_clients_per_uid (%u)",
		    c->peer.login, (long)c->peer.uid, ctl->cfg->max_clients_per_uid);
		c->close_after_write = 1;
		send_error(c, E_BUSY, "người dùng này đã mở quá nhiều kết nối; hãy thử lại sau");
		return;
	}
	log_debug("client %s (uid %ld, pid %ld) connected", c->peer.login, (long)c->peer.uid,
	    (long)c->peer.pid);
	conn_process(c);
}

/* ---- the socket ---- */

/* A socket file left by a crash: replaced only when nobody answers on it. */
static int clear_stale_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket; refusing to replace it", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "another daemon is answering on %s", path);
		return -1;
	}
	if (unlink(path) != 0) {
		snprintf(err, errlen, "cannot remove the stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	log_info("removed a stale socket %s left by an earlier run", path);
	return 0;
}

static int prepare_dir(const struct config *cfg, const char *sockpath, gid_t *gid,
    char *err, size_t errlen)
{
	char dir[PATH_MAX], failed[PATH_MAX];
	const char *slash = strrchr(sockpath, '/');
	struct stat st;

	*gid = (gid_t)-1;
	if (cfg->socket_group != NULL) {
		struct group *gr = getgrnam(cfg->socket_group);
		if (gr == NULL) {
			snprintf(err, errlen, "socket_group: no such group '%s'", cfg->socket_group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	if (slash == NULL || slash == sockpath)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - sockpath), sockpath);
	if (lstat(dir, &st) != 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "socket folder %s: %s", dir, strerror(errno));
			return -1;
		}
		/* Ours to make: 0750, group socket_group, so clients of that group may connect. */
		if (fsutil_mkdir_p(dir, 0750, failed, sizeof(failed)) != 0) {
			snprintf(err, errlen, "cannot create the socket folder %s: %s", failed,
			    strerror(errno));
			return -1;
		}
		if (chmod(dir, 0750) != 0 ||
		    (*gid != (gid_t)-1 && chown(dir, (uid_t)-1, *gid) != 0)) {
			snprintf(err, errlen, "cannot set the mode of %s: %s", dir, strerror(errno));
			return -1;
		}
		return 0;
	}
	/*
	 * A folder that already exists is never changed (it may be /run).  It
	 * must be a real folder of ours or root's that nobody else can write,
	 * or another user could put their own socket in our place.
	 */
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "socket folder %s is not a folder (or is a symbolic link); "
		    "refusing to start", dir);
		return -1;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, errlen, "socket folder %s belongs to uid %ld, not to vanthud or root; "
		    "refusing to start", dir, (long)st.st_uid);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "socket folder %s is writable by its group or by others "
		    "(mode %04o); refusing to start: use a folder of vanthud's own, such as /run/vanthu",
		    dir, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (*gid != (gid_t)-1 && !(st.st_mode & S_IXOTH) &&
	    !(st.st_gid == *gid && (st.st_mode & S_IXGRP)))
		log_warn("socket folder %s cannot be entered by group %s: its members cannot connect",
		    dir, cfg->socket_group);
	return 0;
}

int ctl_start(uv_loop_t *loop, const struct config *cfg, struct store *store,
    struct ctl **out, char *err, size_t errlen)
{
	struct ctl *ctl;
	gid_t gid;
	int rc;

	*out = NULL;
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ctl->loop = loop;
	ctl->cfg = cfg;
	ctl->store = store;
	{
		struct timespec ts;
		clock_now(&ts);
		ctl->started = ts.tv_sec;
		/* the coarse clock is the one file times come from: compared with them */
		clock_gettime(CLOCK_REALTIME_COARSE, &ctl->started_real);
	}
	snprintf(ctl->socket_path, sizeof(ctl->socket_path), "%s", cfg->socket);
	if (prepare_dir(cfg, cfg->socket, &gid, err, errlen) != 0 ||
	    clear_stale_socket(cfg->socket, err, errlen) != 0) {
		free(ctl);
		return -1;
	}
	uv_pipe_init(loop, &ctl->server, 0);
	ctl->server.data = ctl;
	ctl->server_open = 1;
	if ((rc = uv_pipe_bind(&ctl->server, cfg->socket)) != 0 ||
	    (rc = uv_listen((uv_stream_t *)&ctl->server, 128, on_connection)) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", cfg->socket, uv_strerror(rc));
		goto fail;
	}
	ctl->bound = 1;
	if (chmod(cfg->socket, 0660) != 0 ||
	    (gid != (gid_t)-1 && chown(cfg->socket, (uid_t)-1, gid) != 0)) {
		snprintf(err, errlen, "cannot set the mode of %s: %s", cfg->socket, strerror(errno));
		goto fail;
	}
	*out = ctl;
	return 0;
fail:
	/* The handle must be closed before ctl goes: the caller runs the loop once to finish. */
	ctl->stopping = 1;
	ctl_stop(ctl, NULL, NULL);
	return -1;
}

void ctl_set_config(struct ctl *ctl, const struct config *cfg)
{
	ctl->cfg = cfg;
}

void ctl_set_esign(struct ctl *ctl, struct esign *es)
{
	ctl->es = es;
}

void ctl_set_catalog(struct ctl *ctl, struct catalog *cat)
{
	catalog_unref(ctl->cat);
	ctl->cat = catalog_ref(cat);
}

void ctl_on_round_change(struct ctl *ctl, void (*cb)(void *arg), void *arg)
{
	ctl->on_change = cb;
	ctl->on_change_arg = arg;
}

void ctl_on_publish_failed(struct ctl *ctl, void (*cb)(void *arg), void *arg)
{
	ctl->on_publish_failed = cb;
	ctl->on_publish_failed_arg = arg;
}

static void conn_maybe_done(struct ctl *ctl)
{
	if (!ctl->stopping || ctl->server_open || ctl->conns != NULL)
		return;
	void (*done)(void *) = ctl->done;
	void *arg = ctl->done_arg;
	catalog_unref(ctl->cat);
	free(ctl);
	if (done)
		done(arg);
}

static void on_server_closed(uv_handle_t *h)
{
	struct ctl *ctl = h->data;

	ctl->server_open = 0;
	conn_maybe_done(ctl);
}

void ctl_stop(struct ctl *ctl, void (*done)(void *arg), void *arg)
{
	struct conn *c, *next;

	ctl->stopping = 1;
	ctl->done = done;
	ctl->done_arg = arg;
	if (ctl->server_open && !uv_is_closing((uv_handle_t *)&ctl->server)) {
		uv_close((uv_handle_t *)&ctl->server, on_server_closed);
		if (ctl->bound)
			unlink(ctl->socket_path);
	}
	for (c = ctl->conns; c != NULL; c = next) {
		next = c->next;
		conn_close(c);
	}
	conn_maybe_done(ctl);
}
