/*
 * store.c: the durable store. The only file that includes sqlite3.h: it
 * owns the schema, its migrations and every query. WAL with
 * synchronous=FULL, so a call that returned STORE_OK is on disk.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"

/* "VNTH": marks a file as a vanthu database (PRAGMA application_id). */
#define VANTHU_APPLICATION_ID 0x564e5448

struct store {
	sqlite3 *db;   /* owned */
	char *path;    /* owned */
};

/*
 * Forward migrations: migrations[i] takes the schema from version i to i+1.
 * Never edit a shipped entry; append a new one.
 */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
	/* 0 -> 1: the audit trail. */
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at TEXT NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object TEXT NOT NULL DEFAULT '',"
	"  detail TEXT NOT NULL DEFAULT '',"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL UNIQUE"
	");"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;",
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		set_err(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return STORE_ERR;
	}
	return STORE_OK;
}

/* One integer from a one-row query; -1 on error. */
static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

/* A file that exists and is not empty must start with SQLite's magic. */
static int check_header(const char *path, char *err, size_t errlen)
{
	static const char magic[16] = "SQLite format 3";
	char head[16];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return STORE_OK;
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return STORE_ERR;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		set_err(err, errlen, "%s is not a regular file; refusing to use it", path);
		return STORE_FOREIGN;
	}
	n = st.st_size == 0 ? 0 : read(fd, head, sizeof(head));
	close(fd);
	if (st.st_size == 0)
		return STORE_OK;
	if (n != (ssize_t)sizeof(head) || memcmp(head, magic, sizeof(magic)) != 0) {
		set_err(err, errlen, "%s is not an SQLite database; refusing to touch it", path);
		return STORE_FOREIGN;
	}
	return STORE_OK;
}

static int quick_check(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int rc = STORE_CORRUPT;

	if (sqlite3_prepare_v2(db, "PRAGMA quick_check(5)", -1, &stmt, NULL) != SQLITE_OK) {
		set_err(err, errlen, "%s: quick_check: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *res = (const char *)sqlite3_column_text(stmt, 0);
		if (res != NULL && strcmp(res, "ok") == 0)
			rc = STORE_OK;
		else
			set_err(err, errlen, "%s failed quick_check (%s); refusing to use it",
			    path, res ? res : "?");
	} else {
		set_err(err, errlen, "%s: quick_check: %s", path, sqlite3_errmsg(db));
	}
out:
	sqlite3_finalize(stmt);
	return rc;
}

static int migrate(sqlite3 *db, int from, char *err, size_t errlen)
{
	char sql[128];

	for (int v = from; v < STORE_SCHEMA_VERSION; v++) {
		if (exec(db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
			return STORE_ERR;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d; PRAGMA application_id = %d;",
		    v + 1, VANTHU_APPLICATION_ID);
		if (exec(db, migrations[v], err, errlen) != STORE_OK ||
		    exec(db, sql, err, errlen) != STORE_OK) {
			char ignored[8];
			exec(db, "ROLLBACK", ignored, sizeof(ignored));
			return STORE_ERR;
		}
		if (exec(db, "COMMIT", err, errlen) != STORE_OK)
			return STORE_ERR;
	}
	return STORE_OK;
}

int store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	struct store *st = NULL;
	sqlite3 *db = NULL;
	int64_t app_id, version, tables;
	int rc;
	sqlite3_stmt *stmt = NULL;

	*out = NULL;
	rc = check_header(path, err, errlen);
	if (rc != STORE_OK)
		return rc;
	rc = STORE_ERR;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	        SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		set_err(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	/* Read-only questions first: nothing is written to a file that is not ours. */
	app_id = query_int(db, "PRAGMA application_id");
	version = query_int(db, "PRAGMA user_version");
	tables = query_int(db, "SELECT count(*) FROM sqlite_master");
	if (app_id < 0 || version < 0 || tables < 0) {
		set_err(err, errlen, "%s cannot be read as a database: %s; refusing to touch it",
		    path, sqlite3_errmsg(db));
		rc = STORE_FOREIGN;
		goto fail;
	}
	if (app_id != VANTHU_APPLICATION_ID && (version != 0 || tables != 0)) {
		set_err(err, errlen, "%s is an SQLite database of another program "
		    "(application_id %" PRId64 "); refusing to touch it", path, app_id);
		rc = STORE_FOREIGN;
		goto fail;
	}
	if (version > STORE_SCHEMA_VERSION) {
		set_err(err, errlen, "%s has schema version %" PRId64 ", newer than this vanthud "
		    "(%d); upgrade vanthud", path, version, STORE_SCHEMA_VERSION);
		rc = STORE_NEWER;
		goto fail;
	}
	rc = quick_check(db, path, err, errlen);
	if (rc != STORE_OK)
		goto fail;
	rc = STORE_ERR;
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(stmt, 0), "wal") != 0) {
		set_err(err, errlen, "%s: cannot switch to WAL: %s", path, sqlite3_errmsg(db));
		goto fail;
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (exec(db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;", err, errlen) != STORE_OK)
		goto fail;
	if (migrate(db, (int)version, err, errlen) != STORE_OK)
		goto fail;
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->path = strdup(path)) == NULL) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	st->db = db;
	*out = st;
	return STORE_OK;
fail:
	sqlite3_finalize(stmt);
	if (st != NULL)
		free(st->path);
	free(st);
	sqlite3_close(db);
	return rc;
}

int store_probe(const char *path, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int64_t app_id, version, tables;
	int rc;

	rc = check_header(path, err, errlen);
	if (rc != STORE_OK || access(path, F_OK) != 0)
		return rc;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		set_err(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return STORE_ERR;
	}
	app_id = query_int(db, "PRAGMA application_id");
	version = query_int(db, "PRAGMA user_version");
	tables = query_int(db, "SELECT count(*) FROM sqlite_master");
	if (app_id < 0 || version < 0 || tables < 0) {
		set_err(err, errlen, "%s cannot be read as a database: %s", path, sqlite3_errmsg(db));
		rc = STORE_FOREIGN;
	} else if (app_id != VANTHU_APPLICATION_ID && (version != 0 || tables != 0)) {
		set_err(err, errlen, "%s is an SQLite database of another program", path);
		rc = STORE_FOREIGN;
	} else if (version > STORE_SCHEMA_VERSION) {
		set_err(err, errlen, "%s has schema version %" PRId64 ", newer than this vanthud (%d)",
		    path, version, STORE_SCHEMA_VERSION);
		rc = STORE_NEWER;
	} else {
		rc = quick_check(db, path, err, errlen);
	}
	sqlite3_close(db);
	return rc;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

const char *store_path(const struct store *st)
{
	return st->path;
}

static int64_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

int store_stats(struct store *st, struct store_stats *out, char *err, size_t errlen)
{
	char wal[PATH_MAX];

	memset(out, 0, sizeof(*out));
	out->schema_version = (int)query_int(st->db, "PRAGMA user_version");
	out->audit_entries = query_int(st->db, "SELECT count(*) FROM audit");
	if (out->schema_version < 0 || out->audit_entries < 0) {
		set_err(err, errlen, "stats: %s", sqlite3_errmsg(st->db));
		return STORE_ERR;
	}
	snprintf(wal, sizeof(wal), "%s-wal", st->path);
	out->file_bytes = file_size(st->path) + file_size(wal);
	return STORE_OK;
}

static void now_utc(char out[32])
{
	struct timespec ts;
	struct tm tm;
	char base[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", base, (int)(ts.tv_nsec / 1000000) % 1000);
}

/* The chain hash: SHA-256 over the previous hash and every field, each length-prefixed. */
static int chain_hash(const struct store_audit_entry *e, char hex[HASH_HEX_LEN + 1])
{
	char num[32];
	const char *fields[8];
	struct hash_ctx *ctx = hash_new();

	if (ctx == NULL)
		return -1;
	snprintf(num, sizeof(num), "%" PRId64 "|%" PRId64, e->id, e->uid);
	fields[0] = e->prev_hash;
	fields[1] = num;
	fields[2] = e->at;
	fields[3] = e->actor;
	fields[4] = e->action;
	fields[5] = e->object;
	fields[6] = e->detail;
	fields[7] = NULL;
	for (int i = 0; fields[i] != NULL; i++) {
		char len[24];
		int n = snprintf(len, sizeof(len), "%zu:", strlen(fields[i]));
		if (hash_update(ctx, len, (size_t)n) != 0 ||
		    hash_update(ctx, fields[i], strlen(fields[i])) != 0) {
			hash_free(ctx);
			return -1;
		}
	}
	return hash_final_hex(ctx, hex);
}

static const char zero_hash[HASH_HEX_LEN + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

int store_audit_append(struct store *st, int64_t uid, const char *actor, const char *action,
    const char *object, const char *detail, char *err, size_t errlen)
{
	sqlite3_stmt *last = NULL, *ins = NULL;
	char prev[HASH_HEX_LEN + 1], hash[HASH_HEX_LEN + 1], at[32];
	struct store_audit_entry e;
	int rc = STORE_ERR, step;

	if (exec(st->db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
		return STORE_ERR;
	if (sqlite3_prepare_v2(st->db, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
	        -1, &last, NULL) != SQLITE_OK)
		goto fail;
	memset(&e, 0, sizeof(e));
	e.id = 1;
	memcpy(prev, zero_hash, sizeof(prev));
	step = sqlite3_step(last);
	if (step == SQLITE_ROW) {
		e.id = sqlite3_column_int64(last, 0) + 1;
		snprintf(prev, sizeof(prev), "%s", (const char *)sqlite3_column_text(last, 1));
	} else if (step != SQLITE_DONE) {
		goto fail;
	}
	now_utc(at);
	e.at = at;
	e.uid = uid;
	e.actor = actor;
	e.action = action;
	e.object = object ? object : "";
	e.detail = detail ? detail : "";
	e.prev_hash = prev;
	if (chain_hash(&e, hash) != 0) {
		set_err(err, errlen, "audit: cannot compute the hash");
		goto fail_quiet;
	}
	if (sqlite3_prepare_v2(st->db, "INSERT INTO audit (id, at, uid, actor, action, object, "
	        "detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)", -1, &ins, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(ins, 1, e.id);
	sqlite3_bind_text(ins, 2, e.at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 3, e.uid);
	sqlite3_bind_text(ins, 4, e.actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 5, e.action, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 6, e.object, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 7, e.detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 8, prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 9, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(ins) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(last);
	sqlite3_finalize(ins);
	return exec(st->db, "COMMIT", err, errlen);
fail:
	set_err(err, errlen, "audit: %s", sqlite3_errmsg(st->db));
fail_quiet:
	sqlite3_finalize(last);
	sqlite3_finalize(ins);
	{
		char ignored[8];
		exec(st->db, "ROLLBACK", ignored, sizeof(ignored));
	}
	return rc;
}

static void row_to_entry(sqlite3_stmt *s, struct store_audit_entry *e)
{
	e->id = sqlite3_column_int64(s, 0);
	e->at = (const char *)sqlite3_column_text(s, 1);
	e->uid = sqlite3_column_int64(s, 2);
	e->actor = (const char *)sqlite3_column_text(s, 3);
	e->action = (const char *)sqlite3_column_text(s, 4);
	e->object = (const char *)sqlite3_column_text(s, 5);
	e->detail = (const char *)sqlite3_column_text(s, 6);
	e->prev_hash = (const char *)sqlite3_column_text(s, 7);
	e->hash = (const char *)sqlite3_column_text(s, 8);
}

#define AUDIT_COLUMNS "id, at, uid, actor, action, object, detail, prev_hash, hash"

int store_audit_list(struct store *st, int64_t before, int limit, store_audit_cb cb, void *arg,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	struct store_audit_entry e;
	int step, rc = STORE_OK;

	if (sqlite3_prepare_v2(st->db, "SELECT " AUDIT_COLUMNS " FROM audit WHERE id < ? "
	        "ORDER BY id DESC LIMIT ?", -1, &s, NULL) != SQLITE_OK) {
		set_err(err, errlen, "audit list: %s", sqlite3_errmsg(st->db));
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int(s, 2, limit);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		row_to_entry(s, &e);
		if (cb(&e, arg) != 0)
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		set_err(err, errlen, "audit list: %s", sqlite3_errmsg(st->db));
		rc = STORE_ERR;
	}
	sqlite3_finalize(s);
	return rc;
}

int store_audit_verify(struct store *st, int64_t *bad_id, int64_t *checked, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	struct store_audit_entry e;
	char expect_prev[HASH_HEX_LEN + 1], hex[HASH_HEX_LEN + 1];
	int step, rc = STORE_OK;
	int64_t expect_id = 1;

	*bad_id = 0;
	*checked = 0;
	memcpy(expect_prev, zero_hash, sizeof(expect_prev));
	if (sqlite3_prepare_v2(st->db, "SELECT " AUDIT_COLUMNS " FROM audit ORDER BY id",
	        -1, &s, NULL) != SQLITE_OK) {
		set_err(err, errlen, "verify: %s", sqlite3_errmsg(st->db));
		return STORE_ERR;
	}
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		row_to_entry(s, &e);
		(*checked)++;
		if (e.id != expect_id || strcmp(e.prev_hash, expect_prev) != 0 ||
		    chain_hash(&e, hex) != 0 || strcmp(hex, e.hash) != 0) {
			*bad_id = e.id;
			break;
		}
		memcpy(expect_prev, hex, sizeof(expect_prev));
		expect_id++;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		set_err(err, errlen, "verify: %s", sqlite3_errmsg(st->db));
		rc = STORE_ERR;
	}
	sqlite3_finalize(s);
	return rc;
}

/* Is dest the database itself or one of its companion files? */
static int names_database(const char *dbpath, const char *dest)
{
	char a[PATH_MAX], b[PATH_MAX];
	const char *suffixes[] = { "", "-wal", "-shm", "-journal" };

	if (realpath(dbpath, a) == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char cand[PATH_MAX + 16];
		snprintf(cand, sizeof(cand), "%s%s", a, suffixes[i]);
		if (realpath(dest, b) != NULL && strcmp(cand, b) == 0)
			return 1;
	}
	return 0;
}

int store_backup(const char *dbpath, const char *dest, int64_t *bytes, char *err, size_t errlen)
{
	sqlite3 *src = NULL, *check = NULL;
	sqlite3_stmt *s = NULL;
	char tmp[PATH_MAX];
	int rc = STORE_ERR, made_tmp = 0;
	struct stat sb;

	*bytes = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (dest[0] != '/') {
		set_err(err, errlen, "the backup path must be absolute: %s", dest);
		return STORE_INVALID;
	}
	if (names_database(dbpath, dest)) {
		set_err(err, errlen, "%s is the live database; choose another file", dest);
		return STORE_INVALID;
	}
	if (stat(dest, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		set_err(err, errlen, "%s exists and is not a regular file", dest);
		return STORE_INVALID;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", dest, (long)getpid()) >= sizeof(tmp)) {
		set_err(err, errlen, "backup path too long");
		return STORE_INVALID;
	}
	unlink(tmp);
	if (sqlite3_open_v2(dbpath, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		set_err(err, errlen, "%s: %s", dbpath, src ? sqlite3_errmsg(src) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(src, 5000);
	if (sqlite3_prepare_v2(src, "VACUUM INTO ?", -1, &s, NULL) != SQLITE_OK) {
		set_err(err, errlen, "backup: %s", sqlite3_errmsg(src));
		goto out;
	}
	sqlite3_bind_text(s, 1, tmp, -1, SQLITE_STATIC);
	made_tmp = 1;
	if (sqlite3_step(s) != SQLITE_DONE) {
		set_err(err, errlen, "backup to %s: %s", tmp, sqlite3_errmsg(src));
		goto out;
	}
	if (fsutil_fsync_path(tmp) != 0) {
		set_err(err, errlen, "fsync %s: %s", tmp, strerror(errno));
		goto out;
	}
	/* The copy must itself pass the checks before it takes the name. */
	if (sqlite3_open_v2(tmp, &check, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    quick_check(check, tmp, err, errlen) != STORE_OK ||
	    query_int(check, "PRAGMA application_id") != VANTHU_APPLICATION_ID) {
		if (err && err[0] == '\0')
			set_err(err, errlen, "the copy at %s does not check out", tmp);
		goto out;
	}
	sqlite3_close(check);
	check = NULL;
	if (fsutil_rename_durable(tmp, dest) != 0) {
		set_err(err, errlen, "rename %s to %s: %s", tmp, dest, strerror(errno));
		goto out;
	}
	made_tmp = 0;
	*bytes = file_size(dest);
	rc = STORE_OK;
out:
	sqlite3_finalize(s);
	sqlite3_close(check);
	sqlite3_close(src);
	if (made_tmp)
		unlink(tmp);
	return rc;
}
