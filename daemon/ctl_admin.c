/*
 * ctl_admin.c: the daemon's own commands: ping, status, whoami, audit, verify
 * (the audit chain) and backup (on the worker pool).
 */
#include "ctl_priv.h"

#include "exchange.h"
#include "store_exchange.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "esign.h"
#include "log.h"
#include "version.h"

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
		/* the exchange: its link, and what waits in the outbox */
		json_t *xs = exchange_state(ctl->xch);
		json_object_set_new(*result, "exchange", xs ? xs : json_pack("{s:b}", "configured", 0));
		if (xs)
			json_object_set_new(xs, "configured", json_true());
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
		ctl_page_list(*result, "entries", "id", limit);
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
	/* the incoming register of last year and this one: gapless from 1 */
	json_t *regs = json_array();
	int y, m, d, gapless = 1;
	clock_today_vn(&y, &m, &d);
	for (int year = y - 1; regs && year <= y; year++) {
		int64_t count = 0, gaps = 0;
		if (store_incoming_check(c->ctl->store, year, &count, &gaps, err, sizeof(err)) !=
		    STORE_OK) {
			log_err("verify: %s", err);
			continue;
		}
		if (gaps != 0)
			log_err("incoming register %d: %lld numbers missing", year, (long long)gaps);
		gapless &= gaps == 0;
		if (count > 0 || year == y)
			json_array_append_new(regs, json_pack("{s:i, s:I, s:I}", "year", year, "count",
			    (json_int_t)count, "gaps", (json_int_t)gaps));
	}
	if (*result) {
		json_object_set_new(*result, "incoming", regs ? regs : json_array());
		json_object_set_new(*result, "incoming_gapless", json_boolean(gapless));
	}
	return 0;
}

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

	if (status == 0 && job->rc == STORE_OK) {
		char detail[PATH_MAX + 64];
		log_info("backup of %s to %s by %s: %lld bytes", job->dbpath, job->dest,
		    c->peer.login, (long long)job->bytes);
		snprintf(detail, sizeof(detail), "%lld bytes", (long long)job->bytes);
		if (store_audit_append(ctl->store, (int64_t)c->peer.uid, c->peer.login, "backup",
		        job->dest, detail, err, sizeof(err)) != STORE_OK)
			log_err("audit: %s", err);
		ctl_async_finish(c, 0, NULL,
		    json_pack("{s:s, s:I}", "path", job->dest, "bytes", (json_int_t)job->bytes));
	} else if (status == 0 && job->rc == STORE_INVALID) {
		ctl_async_finish(c, E_INVALID, job->err, NULL);
	} else {
		log_err("backup to %s by %s failed: %s", job->dest, c->peer.login,
		    status ? uv_strerror(status) : job->err);
		char msg[700];
		snprintf(msg, sizeof(msg), "sao lưu thất bại: %s", status ? uv_strerror(status) : job->err);
		ctl_async_finish(c, E_INTERNAL, msg, NULL);
	}
	free(job->dbpath);
	free(job->dest);
	free(job);
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
	if (ctl_async_start(c, &job->work, run_backup, after_backup) != 0) {
		free(job->dbpath);
		free(job->dest);
		free(job);
		snprintf(msg, msglen, "không khởi động được việc sao lưu");
		return E_INTERNAL;
	}
	return CMD_ASYNC;
}

/* This file's commands; NULL-terminated (ctl.c looks through every table). */
const struct command ctl_admin_commands[] = {
	{ "ping", ROLES_ALL, cmd_ping },
	{ "status", ROLES_ALL, cmd_status },
	{ "whoami", ROLES_ALL, cmd_whoami },
	{ "audit", ROLE_ADMIN | ROLE_AUDITOR | ROLE_CLERK, cmd_audit },
	{ "verify", ROLE_ADMIN | ROLE_AUDITOR | ROLE_CLERK, cmd_verify },
	{ "backup", ROLE_ADMIN, cmd_backup },
	{ NULL, 0, NULL },
};
