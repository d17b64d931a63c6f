/*
 * store_exchange.c: what the exchange between offices keeps (schema 12): the
 * outbox of packages and statuses until a transport took them, the sender's
 * deliveries with the statuses their recipients sent back, and the incoming
 * register (sổ văn bản đến): its gapless yearly số đến, the phiếu giải quyết
 * (a tree of assignments), progress, audited extensions, recalls, replies,
 * and the packages refused without a number. Every change is one
 * transaction with its audit entry.
 */
#include "store_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hash.h"
#include "store_exchange.h"

/* Caps on what comes from outside, in bytes (a Vietnamese character is up to 4). */
#define CAP_ID 64          /* an organisation id (35 characters in QĐ 20/2020) */
#define CAP_KEY 256        /* an edXML DocumentId */
#define CAP_SHORT 64       /* via, kind, a date, a time */
#define CAP_NAME 1000      /* a name as shown, a sender's name (200 characters) */
#define CAP_TEXT 8000      /* a subject, a reason, an opinion, a progress report */
#define CAP_PATH 4096
#define CAP_PAYLOAD (1 << 20)
#define CAP_VERIFY (256 * 1024)
#define CAP_RECIPIENTS 1000
#define CAP_ASSIGNEES 200
#define CAP_LIST 1000

static const char daemon_login[] = "vanthud";

/* ---- checks of what the caller hands in ---- */

static int utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n;
		uint32_t c;
		if (*p < 0x80) {
			p++;
			continue;
		} else if ((*p & 0xe0) == 0xc0) {
			n = 1;
			c = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2;
			c = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3;
			c = *p & 0x07;
		} else {
			return 0;
		}
		p++;
		for (int i = 0; i < n; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (*p & 0x3f);
		}
		if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
	}
	return 1;
}

/* A text field: NULL is fine unless required; non-empty when required, at most max bytes,
 * valid UTF-8. 0, or -1 with err naming the field. */
static int check_text(const char *v, const char *field, size_t max, int required, char *err,
    size_t errlen)
{
	if (v == NULL) {
		if (!required)
			return 0;
		store_set_err(err, errlen, "%s is missing", field);
		return -1;
	}
	if (required && v[0] == '\0') {
		store_set_err(err, errlen, "%s is empty", field);
		return -1;
	}
	if (strnlen(v, max + 1) > max) {
		store_set_err(err, errlen, "%s is longer than %zu bytes", field, max);
		return -1;
	}
	if (!utf8_valid(v)) {
		store_set_err(err, errlen, "%s is not valid UTF-8", field);
		return -1;
	}
	return 0;
}

/* YYYY-MM-DD (NULL is fine unless required). */
static int check_date(const char *v, const char *field, int required, char *err, size_t errlen)
{
	if (v == NULL && !required)
		return 0;
	if (v != NULL && strlen(v) == 10 && v[4] == '-' && v[7] == '-') {
		int ok = 1;
		for (int i = 0; i < 10; i++)
			if (i != 4 && i != 7 && (v[i] < '0' || v[i] > '9'))
				ok = 0;
		int month = (v[5] - '0') * 10 + (v[6] - '0'), day = (v[8] - '0') * 10 + (v[9] - '0');
		if (ok && month >= 1 && month <= 12 && day >= 1 && day <= 31)
			return 0;
	}
	store_set_err(err, errlen, "%s is not a date (YYYY-MM-DD)", field);
	return -1;
}

static int check_xout(const struct store_xout_new *m, char *err, size_t errlen)
{
	if (check_text(m->msg_id, "msg_id", CAP_KEY + CAP_ID + 32, 1, err, errlen) != 0 ||
	    check_text(m->kind, "kind", CAP_SHORT, 1, err, errlen) != 0 ||
	    check_text(m->recipient, "recipient", CAP_ID, 1, err, errlen) != 0 ||
	    check_text(m->path, "path", CAP_PATH, 0, err, errlen) != 0 ||
	    check_text(m->payload, "payload", CAP_PAYLOAD, 0, err, errlen) != 0)
		return -1;
	if (strcmp(m->kind, "package") != 0 && strcmp(m->kind, "status") != 0) {
		store_set_err(err, errlen, "kind %s is neither package nor status", m->kind);
		return -1;
	}
	if (m->path == NULL && m->payload == NULL) {
		store_set_err(err, errlen, "message %s has neither a path nor a payload", m->msg_id);
		return -1;
	}
	if (m->code < 0 || m->code > 99 || m->document_id < 0 || m->incoming_id < 0) {
		store_set_err(err, errlen, "message %s: code or ids out of range", m->msg_id);
		return -1;
	}
	return 0;
}

/* ---- statement helpers ---- */

/* Finalizes *s and prepares sql into it. 0 or -1. */
static int prep(sqlite3 *db, sqlite3_stmt **s, const char *sql)
{
	sqlite3_finalize(*s);
	*s = NULL;
	return sqlite3_prepare_v2(db, sql, -1, s, NULL) == SQLITE_OK ? 0 : -1;
}

static void bind_id(sqlite3_stmt *s, int i, int64_t v)
{
	if (v > 0)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* The rows of sql, whose one parameter is v, into cb (what names it in an error). */
static int rows_by_int(struct store *st, const char *sql, const char *what, int64_t v,
    store_row_cb cb, void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, what, err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, v);
	rc = store_emit_rows(st->db, s, cb, arg, err, errlen, NULL);
	sqlite3_finalize(s);
	return rc;
}

/*
 * Begins a change: its own transaction under the write lock, or, inside a batch
 * (store_exchange_batch_begin), a savepoint of the batch's.
 */
static int txn_begin(struct store *st, char *err, size_t errlen)
{
	return store_exec_sql(st->db, st->batch ? "SAVEPOINT xch" : "BEGIN IMMEDIATE", err, errlen);
}

/* Ends the change the caller began: kept when rc is STORE_OK, else undone (its savepoint only,
 * inside a batch). */
static int end_txn(struct store *st, sqlite3_stmt *s, int rc, char *err, size_t errlen)
{
	char ignored[8];

	sqlite3_finalize(s);
	if (rc == STORE_OK) {
		rc = store_exec_sql(st->db, st->batch ? "RELEASE xch" : "COMMIT", err, errlen);
		if (rc == STORE_OK)
			return STORE_OK;
	}
	if (st->batch) {
		store_exec_sql(st->db, "ROLLBACK TO xch", ignored, sizeof(ignored));
		store_exec_sql(st->db, "RELEASE xch", ignored, sizeof(ignored));
	} else {
		store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
	}
	return rc;
}

int store_exchange_batch_begin(struct store *st, char *err, size_t errlen)
{
	if (st->batch) {
		store_set_err(err, errlen, "a batch is open already");
		return STORE_ERR;
	}
	if (store_exec_sql(st->db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
		return STORE_ERR;
	st->batch = 1;
	return STORE_OK;
}

int store_exchange_batch_end(struct store *st, int keep, char *err, size_t errlen)
{
	char ignored[8];
	int rc;

	if (!st->batch) {
		store_set_err(err, errlen, "no batch is open");
		return STORE_ERR;
	}
	st->batch = 0;
	if (keep && (rc = store_exec_sql(st->db, "COMMIT", err, errlen)) == STORE_OK)
		return STORE_OK;
	store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
	return keep ? STORE_ERR : STORE_OK;
}

static void object_of(char *out, size_t len, const char *kind, int64_t id)
{
	snprintf(out, len, "%s/%" PRId64, kind, id);
}

/*
 * Inside the caller's transaction: one outbox message, skipped when its msg_id is there
 * already (*added counts the new). A message naming no document or incoming entry gets
 * document_id / incoming_id (0: none). 0 or -1.
 */
static int xout_insert(sqlite3 *db, const struct store_xout_new *m, int64_t document_id,
    int64_t incoming_id, const char *now, int *added, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (prep(db, &s, "INSERT INTO outbox (msg_id, kind, recipient, document_id, incoming_id, "
	        "code, path, payload, created_at, next_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
	        "?9, ?9) ON CONFLICT (msg_id) DO NOTHING") != 0)
		goto out;
	sqlite3_bind_text(s, 1, m->msg_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, m->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, m->recipient, -1, SQLITE_STATIC);
	bind_id(s, 4, m->document_id > 0 ? m->document_id : document_id);
	bind_id(s, 5, m->incoming_id > 0 ? m->incoming_id : incoming_id);
	sqlite3_bind_int(s, 6, m->code);
	store_bind_text(s, 7, m->path);
	store_bind_text(s, 8, m->payload);
	sqlite3_bind_text(s, 9, now, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto out;
	if (added != NULL)
		*added += sqlite3_changes(db);
	rc = 0;
out:
	if (rc != 0)
		store_db_err(db, "outbox", err, errlen);
	sqlite3_finalize(s);
	return rc;
}

/* ---- the outbox ---- */

int store_xout_add(struct store *st, const struct store_xout_new *m, size_t n, int *added,
    char *err, size_t errlen)
{
	char now[40];
	int count = 0, rc = STORE_ERR;

	if (added != NULL)
		*added = 0;
	if (n > CAP_RECIPIENTS * 4) {
		store_set_err(err, errlen, "too many messages (%zu)", n);
		return STORE_INVALID;
	}
	for (size_t i = 0; i < n; i++)
		if (check_xout(&m[i], err, errlen) != 0)
			return STORE_INVALID;
	clock_iso_utc(now, sizeof(now));
	if (txn_begin(st, err, errlen) != STORE_OK)
		return STORE_ERR;
	for (size_t i = 0; i < n; i++)
		if (xout_insert(st->db, &m[i], 0, 0, now, &count, err, errlen) != 0)
			goto out;
	rc = STORE_OK;
out:
	rc = end_txn(st, NULL, rc, err, errlen);
	if (rc == STORE_OK && added != NULL)
		*added = count;
	return rc;
}

int store_xout_due(struct store *st, const char *now, int limit, store_row_cb cb, void *arg,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (check_text(now, "now", CAP_SHORT, 1, err, errlen) != 0)
		return STORE_INVALID;
	if (sqlite3_prepare_v2(st->db, "SELECT id, msg_id, kind, recipient, document_id, "
	        "incoming_id, code, path, payload, attempts FROM outbox WHERE sent_at IS NULL AND "
	        "next_at <= ? ORDER BY id LIMIT ?", -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "outbox", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_text(s, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, limit > 0 && limit <= CAP_LIST ? limit : CAP_LIST);
	rc = store_emit_rows(st->db, s, cb, arg, err, errlen, NULL);
	sqlite3_finalize(s);
	return rc;
}

/* Whether outbox message id exists: 1, 0, or -1 on error. */
static int xout_exists(sqlite3 *db, int64_t id)
{
	sqlite3_stmt *s = NULL;
	int step, rc = -1;

	if (prep(db, &s, "SELECT 1 FROM outbox WHERE id = ?") == 0) {
		sqlite3_bind_int64(s, 1, id);
		step = sqlite3_step(s);
		rc = step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -1;
	}
	sqlite3_finalize(s);
	return rc;
}

int store_xout_sent(struct store *st, int64_t id, const char *at, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc = STORE_ERR, exists;

	if (check_text(at, "at", CAP_SHORT, 1, err, errlen) != 0)
		return STORE_INVALID;
	if (txn_begin(st, err, errlen) != STORE_OK)
		return STORE_ERR;
	if (prep(st->db, &s, "UPDATE outbox SET sent_at = ? WHERE id = ? AND sent_at IS NULL") != 0)
		goto fail;
	sqlite3_bind_text(s, 1, at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	if (sqlite3_changes(st->db) == 0) {
		/* sent already (nothing to do), or never queued */
		if ((exists = xout_exists(st->db, id)) < 0)
			goto fail;
		if (exists == 0) {
			store_set_err(err, errlen, "no outbox message %" PRId64, id);
			rc = STORE_INVALID;
		} else {
			rc = STORE_OK;
		}
		goto out;
	}
	/* a package taken: its delivery is sent */
	if (prep(st->db, &s, "UPDATE deliveries SET sent_at = ?1 WHERE sent_at IS NULL AND "
	        "EXISTS (SELECT 1 FROM outbox o WHERE o.id = ?2 AND o.kind = 'package' AND "
	        "o.document_id = deliveries.document_id AND o.recipient = deliveries.recipient_id)") != 0)
		goto fail;
	sqlite3_bind_text(s, 1, at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	rc = STORE_OK;
	goto out;
fail:
	store_db_err(st->db, "outbox sent", err, errlen);
	rc = STORE_ERR;
out:
	return end_txn(st, s, rc, err, errlen);
}

int store_xout_failed(struct store *st, int64_t id, const char *error, const char *next_at,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc = STORE_ERR, exists;

	if (check_text(next_at, "next_at", CAP_SHORT, 1, err, errlen) != 0)
		return STORE_INVALID;
	if (error != NULL && !utf8_valid(error))
		error = "(an error message that is not UTF-8)";
	if (txn_begin(st, err, errlen) != STORE_OK)
		return STORE_ERR;
	/* substr counts characters: the error kept is at most 1000 of them */
	if (prep(st->db, &s, "UPDATE outbox SET attempts = attempts + 1, last_error = "
	        "substr(?, 1, 1000), next_at = ? WHERE id = ? AND sent_at IS NULL") != 0)
		goto fail;
	sqlite3_bind_text(s, 1, error ? error : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, next_at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	rc = STORE_OK;
	if (sqlite3_changes(st->db) == 0) {
		if ((exists = xout_exists(st->db, id)) < 0)
			goto fail;
		if (exists == 0) {
			store_set_err(err, errlen, "no outbox message %" PRId64, id);
			rc = STORE_INVALID;
		}
	}
	goto out;
fail:
	store_db_err(st->db, "outbox failed", err, errlen);
	rc = STORE_ERR;
out:
	return end_txn(st, s, rc, err, errlen);
}

int store_xout_pending(struct store *st, int64_t *count, char *oldest, size_t oldestlen,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc = STORE_ERR;

	*count = 0;
	if (oldestlen > 0)
		oldest[0] = '\0';
	if (sqlite3_prepare_v2(st->db, "SELECT count(*), coalesce(min(created_at), '') FROM outbox "
	        "WHERE sent_at IS NULL", -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
		*count = sqlite3_column_int64(s, 0);
		if (oldestlen > 0)
			snprintf(oldest, oldestlen, "%s", (const char *)sqlite3_column_text(s, 1));
		rc = STORE_OK;
	} else {
		store_db_err(st->db, "outbox", err, errlen);
	}
	sqlite3_finalize(s);
	return rc;
}

/* ---- the sender's deliveries ---- */

int store_delivery_plan(struct store *st, int64_t document_id, const char *doc_key,
    const char *package_path, const struct store_delivery_new *r, size_t n, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char now[40], object[48], msg_id[CAP_KEY + CAP_ID + 16];
	json_t *ids = NULL, *paper = NULL;
	int rc = STORE_ERR, step, exchange = 0;

	if (check_text(doc_key, "doc_key", CAP_KEY, 1, err, errlen) != 0 ||
	    check_text(package_path, "package_path", CAP_PATH, 0, err, errlen) != 0)
		return STORE_INVALID;
	if (n > CAP_RECIPIENTS || document_id <= 0 || (n > 0 && r == NULL)) {
		store_set_err(err, errlen, "a delivery plan has at most %d recipients of a document",
		    CAP_RECIPIENTS);
		return STORE_INVALID;
	}
	for (size_t i = 0; i < n; i++) {
		if (check_text(r[i].name, "recipient name", CAP_NAME, 1, err, errlen) != 0 ||
		    check_text(r[i].recipient_id, "recipient id", CAP_ID, 0, err, errlen) != 0)
			return STORE_INVALID;
		if (r[i].recipient_id == NULL)
			continue;
		if (r[i].recipient_id[0] == '\0') {
			store_set_err(err, errlen, "recipient %zu has an empty id", i + 1);
			return STORE_INVALID;
		}
		exchange++;
		for (size_t j = 0; j < i; j++)
			if (r[j].recipient_id != NULL && strcmp(r[j].recipient_id, r[i].recipient_id) == 0) {
				store_set_err(err, errlen, "recipient %s is named twice", r[i].recipient_id);
				return STORE_INVALID;
			}
	}
	if (exchange > 0 && package_path == NULL) {
		store_set_err(err, errlen, "recipients by exchange but no package");
		return STORE_INVALID;
	}
	clock_iso_utc(now, sizeof(now));
	if (txn_begin(st, err, errlen) != STORE_OK)
		return STORE_ERR;
	/* planned already; the document exists; its DocumentId is no other document's */
	if (prep(st->db, &s, "SELECT (SELECT count(*) FROM delivery_plans WHERE document_id = ?1), "
	        "(SELECT count(*) FROM documents WHERE id = ?1), (SELECT document_id FROM "
	        "delivery_plans WHERE doc_key = ?2)") != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, document_id);
	sqlite3_bind_text(s, 2, doc_key, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(s)) != SQLITE_ROW)
		goto fail;
	if (sqlite3_column_int64(s, 0) > 0) {
		store_set_err(err, errlen, "document %" PRId64 " has its deliveries already",
		    document_id);
		rc = STORE_DONE;
		goto out;
	}
	if (sqlite3_column_int64(s, 1) == 0) {
		store_set_err(err, errlen, "no document %" PRId64, document_id);
		rc = STORE_INVALID;
		goto out;
	}
	if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
		store_set_err(err, errlen, "DocumentId %s is document %lld's", doc_key,
		    (long long)sqlite3_column_int64(s, 2));
		rc = STORE_INVALID;
		goto out;
	}
	if ((ids = json_array()) == NULL || (paper = json_array()) == NULL)
		goto nomem;
	/* the plan first, even with no recipient: the document is planned, once */
	if (prep(st->db, &s, "INSERT INTO delivery_plans (document_id, doc_key, package_path, "
	        "planned_at) VALUES (?, ?, ?, ?)") != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, document_id);
	sqlite3_bind_text(s, 2, doc_key, -1, SQLITE_STATIC);
	store_bind_text(s, 3, package_path);
	sqlite3_bind_text(s, 4, now, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	if (prep(st->db, &s, "INSERT INTO deliveries (document_id, position, recipient_id, name, "
	        "via, doc_key, planned_at) VALUES (?, ?, ?, ?, ?, ?, ?)") != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, document_id);
		sqlite3_bind_int64(s, 2, (int64_t)i + 1);
		store_bind_text(s, 3, r[i].recipient_id);
		sqlite3_bind_text(s, 4, r[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, r[i].recipient_id ? "exchange" : "paper", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, doc_key, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 7, now, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto fail;
		if (json_array_append_new(r[i].recipient_id ? ids : paper,
		        json_string(r[i].recipient_id ? r[i].recipient_id : r[i].name)) != 0)
			goto nomem;
		if (r[i].recipient_id == NULL)
			continue;
		struct store_xout_new m = { .msg_id = msg_id, .kind = "package",
			.recipient = r[i].recipient_id, .document_id = document_id,
			.path = package_path };
		snprintf(msg_id, sizeof(msg_id), "%s|%s|package", doc_key, r[i].recipient_id);
		if (xout_insert(st->db, &m, document_id, 0, now, NULL, err, errlen) != 0)
			goto out;
	}
	object_of(object, sizeof(object), "document", document_id);
	if (store_audit_json(st->db, -1, daemon_login, "exchange.send", object,
	        json_pack("{s:s, s:s?, s:O, s:O}", "doc_key", doc_key, "package", package_path,
	            "recipients", ids, "paper", paper), err, errlen) != 0)
		goto out;
	rc = STORE_OK;
	goto out;
nomem:
	store_set_err(err, errlen, "out of memory");
	goto out;
fail:
	store_db_err(st->db, "deliveries", err, errlen);
	rc = STORE_ERR;
out:
	json_decref(ids);
	json_decref(paper);
	return end_txn(st, s, rc, err, errlen);
}

/* The first call of unplanned: when the exchange started here, with its audit entry. */
static int exchange_start_record(struct store *st, char *err, size_t errlen)
{
	sqlite3 *db = st->db;
	sqlite3_stmt *s = NULL;
	char now[40];
	int rc = STORE_ERR;

	clock_iso_utc(now, sizeof(now));
	if (txn_begin(st, err, errlen) != STORE_OK)
		return STORE_ERR;
	if (prep(db, &s, "INSERT INTO exchange_start (id, at) VALUES (1, ?) "
	        "ON CONFLICT (id) DO NOTHING") != 0)
		goto fail;
	sqlite3_bind_text(s, 1, now, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	if (sqlite3_changes(db) == 1 && store_audit_json(db, -1, daemon_login, "exchange.start", "",
	        json_pack("{s:s}", "at", now), err, errlen) != 0)
		goto out;
	rc = STORE_OK;
	goto out;
fail:
	store_db_err(db, "exchange start", err, errlen);
	rc = STORE_ERR;
out:
	return end_txn(st, s, rc, err, errlen);
}

int store_delivery_unplanned(struct store *st, int limit, store_row_cb cb, void *arg, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc, step;

	/* the first call records when the exchange started here (then nothing is unplanned) */
	if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM exchange_start", -1, &s, NULL) != SQLITE_OK ||
	    ((step = sqlite3_step(s)) != SQLITE_ROW && step != SQLITE_DONE)) {
		store_db_err(st->db, "exchange start", err, errlen);
		sqlite3_finalize(s);
		return STORE_ERR;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (step == SQLITE_DONE && (rc = exchange_start_record(st, err, errlen)) != STORE_OK)
		return rc;
	/*
	 * Issued (state_since: the time of the issue; exchange_issued plans only that state)
	 * at or after the start, not voided, and never planned.
	 */
	return rows_by_int(st, "SELECT d.id AS id FROM documents d WHERE d.state = 'issued' "
	        "AND d.state_since >= (SELECT at FROM exchange_start WHERE id = 1) AND NOT EXISTS "
	        "(SELECT 1 FROM delivery_plans p WHERE p.document_id = d.id) AND NOT EXISTS "
	        "(SELECT 1 FROM register r WHERE r.document_id = d.id AND r.voided_at IS NOT NULL) "
	        "ORDER BY d.state_since, d.id LIMIT ?",
	    "unplanned", limit > 0 && limit <= CAP_LIST ? limit : CAP_LIST, cb, arg, err, errlen);
}

int store_delivery_key(struct store *st, int64_t document_id, char *out, size_t outlen,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int step, rc = STORE_ERR;

	if (outlen > 0)
		out[0] = '\0';
	if (sqlite3_prepare_v2(st->db, "SELECT doc_key FROM delivery_plans WHERE document_id = ?",
	        -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "deliveries", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, document_id);
	step = sqlite3_step(s);
	if (step == SQLITE_DONE) {
		store_set_err(err, errlen, "document %" PRId64 " has no deliveries", document_id);
		rc = STORE_INVALID;
	} else if (step == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(s, 0);
		if (k != NULL && strlen(k) < outlen) {
			memcpy(out, k, strlen(k) + 1);
			rc = STORE_OK;
		} else {
			store_set_err(err, errlen, "the DocumentId of document %" PRId64
			    " does not fit", document_id);
		}
	} else {
		store_db_err(st->db, "deliveries", err, errlen);
	}
	sqlite3_finalize(s);
	return rc;
}

int store_delivery_status(struct store *st, const struct store_status_in *in, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char now[40], object[48];
	int64_t document_id;
	int rc = STORE_ERR, step;
	const char *description = in->description ? in->description : "";

	if (check_text(in->doc_key, "doc_key", CAP_KEY, 1, err, errlen) != 0 ||
	    check_text(in->recipient, "recipient", CAP_ID, 1, err, errlen) != 0 ||
	    check_text(description, "description", CAP_TEXT, 0, err, errlen) != 0 ||
	    check_text(in->at, "at", CAP_SHORT, 1, err, errlen) != 0 ||
	    check_text(in->staff, "staff", CAP_NAME, 0, err, errlen) != 0 ||
	    check_text(in->via, "via", CAP_SHORT, 1, err, errlen) != 0)
		return STORE_INVALID;
	if (in->code < 1 || in->code > 99) {
		store_set_err(err, errlen, "status code %d out of range", in->code);
		return STORE_INVALID;
	}
	clock_iso_utc(now, sizeof(now));
	if (txn_begin(st, err, errlen) != STORE_OK)
		return STORE_ERR;
	if (prep(st->db, &s, "SELECT (SELECT max(document_id) FROM deliveries WHERE doc_key = ?1 "
	        "AND recipient_id = ?2), (SELECT count(*) FROM deliveries WHERE doc_key = ?1)") != 0)
		goto fail;
	sqlite3_bind_text(s, 1, in->doc_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, in->recipient, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(s)) != SQLITE_ROW)
		goto fail;
	if (sqlite3_column_type(s, 0) == SQLITE_NULL) {
		if (sqlite3_column_int64(s, 1) == 0)
			store_set_err(err, errlen, "no document was sent with DocumentId %s", in->doc_key);
		else
			store_set_err(err, errlen, "document %s was not sent to %s", in->doc_key,
			    in->recipient);
		rc = STORE_INVALID;
		goto out;
	}
	document_id = sqlite3_column_int64(s, 0);
	if (prep(st->db, &s, "INSERT INTO delivery_status (document_id, recipient_id, code, "
	        "description, at, received_at, staff, via) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
	        "ON CONFLICT (document_id, recipient_id, code) DO NOTHING") != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, document_id);
	sqlite3_bind_text(s, 2, in->recipient, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, in->code);
	sqlite3_bind_text(s, 4, description, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, in->at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, now, -1, SQLITE_STATIC);
	store_bind_text(s, 7, in->staff);
	sqlite3_bind_text(s, 8, in->via, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	if (sqlite3_changes(st->db) == 0) {
		store_set_err(err, errlen, "%s sent status %02d for %s already", in->recipient,
		    in->code, in->doc_key);
		rc = STORE_DONE;
		goto out;
	}
	/*
	 * The status shown: the highest of the progress codes (06 > 05 > 04 > 03 > 01) or a
	 * refusal or recall answer (02, 15, 16), whichever the recipient sent last by its own
	 * time; a late 01 never hides the 02 sent after it. Other codes are history only.
	 * arrived_at: the 01's time, or the first progress code's when no 01 came.
	 */
	if (prep(st->db, &s, "UPDATE deliveries SET (status, status_text, status_at) = (SELECT code, "
	        "description, at FROM delivery_status d WHERE d.document_id = ?1 AND "
	        "d.recipient_id = ?2 AND (d.code IN (2, 15, 16) OR d.code = (SELECT max(code) FROM "
	        "delivery_status WHERE document_id = ?1 AND recipient_id = ?2 AND code IN "
	        "(1, 3, 4, 5, 6))) ORDER BY d.at DESC, d.code IN (2, 15, 16) DESC, d.id DESC LIMIT 1), "
	        "arrived_at = coalesce((SELECT at FROM delivery_status WHERE document_id = ?1 AND "
	        "recipient_id = ?2 AND code = 1), (SELECT min(at) FROM delivery_status WHERE "
	        "document_id = ?1 AND recipient_id = ?2 AND code IN (3, 4, 5, 6))), "
	        "recall_answer = CASE WHEN ?3 IN (15, 16) THEN ?3 ELSE recall_answer END, "
	        "recall_text = CASE WHEN ?3 IN (15, 16) THEN ?4 ELSE recall_text END "
	        "WHERE document_id = ?1 AND recipient_id = ?2") != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, document_id);
	sqlite3_bind_text(s, 2, in->recipient, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, in->code);
	sqlite3_bind_text(s, 4, description, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	object_of(object, sizeof(object), "document", document_id);
	if (store_audit_json(st->db, -1, daemon_login, "exchange.status", object,
	        json_pack("{s:s, s:i, s:s, s:s, s:s?, s:s}", "recipient", in->recipient, "code",
	            in->code, "description", description, "at", in->at, "staff", in->staff, "via",
	            in->via), err, errlen) != 0)
		goto out;
	rc = STORE_OK;
	goto out;
fail:
	store_db_err(st->db, "delivery status", err, errlen);
	rc = STORE_ERR;
out:
	return end_txn(st, s, rc, err, errlen);
}

int store_delivery_list(struct store *st, int64_t document_id, store_row_cb cb, void *arg,
    char *err, size_t errlen)
{
	return rows_by_int(st, "SELECT recipient_id, name, via, planned_at, sent_at, "
	        "status, status_text, status_at, arrived_at, recall_at AS recall, recall_answer, "
	        "recall_text FROM deliveries WHERE document_id = ? ORDER BY position",
	    "deliveries", document_id, cb, arg, err, errlen);
}

int store_delivery_history(struct store *st, int64_t document_id, store_row_cb cb, void *arg,
    char *err, size_t errlen)
{
	return rows_by_int(st, "SELECT recipient_id, code, description, at, received_at, "
	        "staff, via FROM delivery_status WHERE document_id = ? ORDER BY id",
	    "delivery status", document_id, cb, arg, err, errlen);
}

int store_delivery_recall(struct store *st, int64_t document_id, const char *reason,
    const struct store_xout_new *m, size_t n, int64_t uid, const char *login, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char now[40], object[48];
	json_t *to = NULL;
	int rc = STORE_ERR;

	if (check_text(reason, "reason", CAP_TEXT, 1, err, errlen) != 0 ||
	    check_text(login, "login", CAP_NAME, 1, err, errlen) != 0)
		return STORE_INVALID;
	if (n > CAP_RECIPIENTS) {
		store_set_err(err, errlen, "too many recall messages (%zu)", n);
		return STORE_INVALID;
	}
	for (size_t i = 0; i < n; i++)
		if (check_xout(&m[i], err, errlen) != 0)
			return STORE_INVALID;
	clock_iso_utc(now, sizeof(now));
	if (txn_begin(st, err, errlen) != STORE_OK)
		return STORE_ERR;
	if (prep(st->db, &s, "SELECT count(*), count(recall_at) FROM deliveries WHERE "
	        "document_id = ? AND via = 'exchange'") != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, document_id);
	if (sqlite3_step(s) != SQLITE_ROW)
		goto fail;
	if (sqlite3_column_int64(s, 0) == 0) {
		store_set_err(err, errlen, "document %" PRId64 " was not sent by exchange",
		    document_id);
		rc = STORE_INVALID;
		goto out;
	}
	if (sqlite3_column_int64(s, 1) > 0) {
		store_set_err(err, errlen, "document %" PRId64 " was recalled already", document_id);
		rc = STORE_DONE;
		goto out;
	}
	if (prep(st->db, &s, "UPDATE deliveries SET recall_at = ?, recall_reason = ? WHERE "
	        "document_id = ? AND via = 'exchange'") != 0)
		goto fail;
	sqlite3_bind_text(s, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, document_id);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	if ((to = json_array()) == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		if (xout_insert(st->db, &m[i], document_id, 0, now, NULL, err, errlen) != 0)
			goto out;
		if (json_array_append_new(to, json_string(m[i].recipient)) != 0)
			goto nomem;
	}
	object_of(object, sizeof(object), "document", document_id);
	if (store_audit_json(st->db, uid, login, "exchange.recall", object,
	        json_pack("{s:s, s:O}", "reason", reason, "recipients", to), err, errlen) != 0)
		goto out;
	rc = STORE_OK;
	goto out;
nomem:
	store_set_err(err, errlen, "out of memory");
	goto out;
fail:
	store_db_err(st->db, "recall", err, errlen);
	rc = STORE_ERR;
out:
	json_decref(to);
	return end_txn(st, s, rc, err, errlen);
}

/* ---- the incoming register ---- */

static int check_incoming(const struct store_incoming_new *n, char *err, size_t errlen)
{
	if (check_text(n->via, "via", CAP_SHORT, 1, err, errlen) != 0 ||
	    check_text(n->recipient, "recipient", CAP_ID, 0, err, errlen) != 0 ||
	    check_text(n->sender_id, "sender_id", CAP_ID, 0, err, errlen) != 0 ||
	    check_text(n->sender_name, "sender_name", CAP_NAME, 1, err, errlen) != 0 ||
	    check_text(n->doc_key, "doc_key", CAP_KEY, 0, err, errlen) != 0 ||
	    check_text(n->code, "code", CAP_NAME, 1, err, errlen) != 0 ||
	    check_date(n->issued_on, "issued_on", 1, err, errlen) != 0 ||
	    check_text(n->type_name, "type_name", CAP_NAME, 1, err, errlen) != 0 ||
	    check_text(n->subject, "subject", CAP_TEXT, 1, err, errlen) != 0 ||
	    check_date(n->due_date, "due_date", 0, err, errlen) != 0 ||
	    check_text(n->signer, "signer", CAP_NAME, 0, err, errlen) != 0 ||
	    check_text(n->to_places, "to_places", CAP_TEXT, 0, err, errlen) != 0 ||
	    check_text(n->response_for, "response_for", CAP_KEY, 0, err, errlen) != 0 ||
	    check_text(n->package_path, "package_path", CAP_PATH, 0, err, errlen) != 0 ||
	    check_text(n->pdf_path, "pdf_path", CAP_PATH, 0, err, errlen) != 0 ||
	    check_text(n->pdf_sha256, "pdf_sha256", CAP_SHORT + 64, 0, err, errlen) != 0 ||
	    check_text(n->verify, "verify", CAP_VERIFY, 0, err, errlen) != 0 ||
	    check_text(n->arrived_at, "arrived_at", CAP_SHORT, 1, err, errlen) != 0 ||
	    check_text(n->login, "login", CAP_NAME, 1, err, errlen) != 0)
		return -1;
	if (strcmp(n->via, "nats") != 0 && strcmp(n->via, "folder") != 0 &&
	    strcmp(n->via, "paper") != 0) {
		store_set_err(err, errlen, "via %s is not nats, folder or paper", n->via);
		return -1;
	}
	if (n->priority < 0 || n->priority > 4 || n->year < 2000 || n->year > 9999 ||
	    n->pages < 0 || n->pages > 1000000 || n->business < 0 || n->business > 99) {
		store_set_err(err, errlen, "priority, year, pages or business out of range");
		return -1;
	}
	if (n->nstatuses > 16) {
		store_set_err(err, errlen, "too many statuses (%zu)", n->nstatuses);
		return -1;
	}
	for (size_t i = 0; i < n->nstatuses; i++)
		if (check_xout(&n->statuses[i], err, errlen) != 0)
			return -1;
	return 0;
}

int store_incoming_register(struct store *st, const struct store_incoming_new *n, int64_t *id,
    int64_t *number, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char now[40], object[48];
	int rc = STORE_ERR, step;

	*id = 0;
	*number = 0;
	if (check_incoming(n, err, errlen) != 0)
		return STORE_INVALID;
	clock_iso_utc(now, sizeof(now));
	if (txn_begin(st, err, errlen) != STORE_OK)
		return STORE_ERR;
	if (n->sender_id != NULL && n->doc_key != NULL) {
		/* the same document from the same sender is one entry */
		if (prep(st->db, &s, "SELECT id, number FROM incoming WHERE sender_id = ? AND "
		        "doc_key = ?") != 0)
			goto fail;
		sqlite3_bind_text(s, 1, n->sender_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, n->doc_key, -1, SQLITE_STATIC);
		step = sqlite3_step(s);
		if (step == SQLITE_ROW) {
			*id = sqlite3_column_int64(s, 0);
			*number = sqlite3_column_int64(s, 1);
			store_set_err(err, errlen, "%s from %s is registered already (số đến %" PRId64 ")",
			    n->doc_key, n->sender_id, *number);
			rc = STORE_DONE;
			goto out;
		}
		if (step != SQLITE_DONE)
			goto fail;
	}
	/* under the write lock: the year's next number, so no gap and no number twice */
	if (prep(st->db, &s, "SELECT coalesce(max(number), 0) + 1 FROM incoming WHERE year = ?") != 0)
		goto fail;
	sqlite3_bind_int(s, 1, n->year);
	if (sqlite3_step(s) != SQLITE_ROW)
		goto fail;
	int64_t next = sqlite3_column_int64(s, 0);
	if (prep(st->db, &s, "INSERT INTO incoming (year, number, arrived_at, via, recipient, "
	        "sender_id, sender_name, doc_key, code, issued_on, type_name, subject, priority, "
	        "due_date, signer, to_places, pages, business, response_for, package_path, pdf_path, "
	        "pdf_sha256, verify, registered_uid, registered_by, registered_at) VALUES (?, ?, ?, "
	        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") != 0)
		goto fail;
	sqlite3_bind_int(s, 1, n->year);
	sqlite3_bind_int64(s, 2, next);
	sqlite3_bind_text(s, 3, n->arrived_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, n->via, -1, SQLITE_STATIC);
	store_bind_text(s, 5, n->recipient);
	store_bind_text(s, 6, n->sender_id);
	sqlite3_bind_text(s, 7, n->sender_name, -1, SQLITE_STATIC);
	store_bind_text(s, 8, n->doc_key);
	sqlite3_bind_text(s, 9, n->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, n->issued_on, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, n->type_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 12, n->subject, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 13, n->priority);
	store_bind_text(s, 14, n->due_date);
	store_bind_text(s, 15, n->signer);
	store_bind_text(s, 16, n->to_places);
	sqlite3_bind_int(s, 17, n->pages);
	sqlite3_bind_int(s, 18, n->business);
	store_bind_text(s, 19, n->response_for);
	store_bind_text(s, 20, n->package_path);
	store_bind_text(s, 21, n->pdf_path);
	store_bind_text(s, 22, n->pdf_sha256);
	store_bind_text(s, 23, n->verify);
	sqlite3_bind_int64(s, 24, n->uid);
	sqlite3_bind_text(s, 25, n->login, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 26, now, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	int64_t new_id = sqlite3_last_insert_rowid(st->db);
	for (size_t i = 0; i < n->nstatuses; i++)
		if (xout_insert(st->db, &n->statuses[i], 0, new_id, now, NULL, err, errlen) != 0)
			goto out;
	object_of(object, sizeof(object), "incoming", new_id);
	if (store_audit_json(st->db, n->uid, n->login, "incoming.register", object,
	        json_pack("{s:i, s:I, s:s, s:s?, s:s?, s:s, s:s, s:s}", "year", n->year, "number",
	            (json_int_t)next, "via", n->via, "sender_id", n->sender_id, "doc_key", n->doc_key,
	            "sender", n->sender_name, "code", n->code, "subject", n->subject),
	        err, errlen) != 0)
		goto out;
	*id = new_id;
	*number = next;
	rc = STORE_OK;
	goto out;
fail:
	store_db_err(st->db, "incoming", err, errlen);
	rc = STORE_ERR;
out:
	rc = end_txn(st, s, rc, err, errlen);
	if (rc != STORE_OK && rc != STORE_DONE) {
		*id = 0;
		*number = 0;
	}
	return rc;
}

int store_incoming_refuse(struct store *st, const struct store_refused_new *r, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char object[48];
	int rc = STORE_ERR, step;
	int keyed = r->sender_id != NULL && r->doc_key != NULL;

	if (check_text(r->via, "via", CAP_SHORT, 1, err, errlen) != 0 ||
	    check_text(r->sender_id, "sender_id", CAP_ID, 0, err, errlen) != 0 ||
	    check_text(r->doc_key, "doc_key", CAP_KEY, 0, err, errlen) != 0 ||
	    check_text(r->reason, "reason", CAP_TEXT, 1, err, errlen) != 0 ||
	    check_text(r->package_path, "package_path", CAP_PATH, 0, err, errlen) != 0 ||
	    check_text(r->received_at, "received_at", CAP_SHORT, 1, err, errlen) != 0 ||
	    (r->status != NULL && check_xout(r->status, err, errlen) != 0))
		return STORE_INVALID;
	if (txn_begin(st, err, errlen) != STORE_OK)
		return STORE_ERR;
	/* one row per (sender, document, reason); an unreadable package is one per file */
	if (prep(st->db, &s, keyed ?
	        "SELECT id FROM refused WHERE sender_id = ?1 AND doc_key = ?2 AND reason = ?3" :
	        "SELECT id FROM refused WHERE sender_id IS ?1 AND doc_key IS ?2 AND reason = ?3 AND "
	        "package_path IS ?4") != 0)
		goto fail;
	store_bind_text(s, 1, r->sender_id);
	store_bind_text(s, 2, r->doc_key);
	sqlite3_bind_text(s, 3, r->reason, -1, SQLITE_STATIC);
	if (!keyed)
		store_bind_text(s, 4, r->package_path);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		store_set_err(err, errlen, "refused already (%lld)", (long long)sqlite3_column_int64(s, 0));
		rc = STORE_DONE;
		goto out;
	}
	if (step != SQLITE_DONE)
		goto fail;
	if (prep(st->db, &s, "INSERT INTO refused (received_at, via, sender_id, doc_key, reason, "
	        "package_path) VALUES (?, ?, ?, ?, ?, ?)") != 0)
		goto fail;
	sqlite3_bind_text(s, 1, r->received_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->via, -1, SQLITE_STATIC);
	store_bind_text(s, 3, r->sender_id);
	store_bind_text(s, 4, r->doc_key);
	sqlite3_bind_text(s, 5, r->reason, -1, SQLITE_STATIC);
	store_bind_text(s, 6, r->package_path);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	int64_t id = sqlite3_last_insert_rowid(st->db);
	if (r->status != NULL) {
		char now[40];
		clock_iso_utc(now, sizeof(now));
		if (xout_insert(st->db, r->status, 0, 0, now, NULL, err, errlen) != 0)
			goto out;
	}
	object_of(object, sizeof(object), "refused", id);
	if (store_audit_json(st->db, -1, daemon_login, "incoming.refuse", object,
	        json_pack("{s:s, s:s?, s:s?, s:s, s:s?, s:b}", "via", r->via, "sender_id",
	            r->sender_id, "doc_key", r->doc_key, "reason", r->reason, "package",
	            r->package_path, "told", r->status != NULL), err, errlen) != 0)
		goto out;
	rc = STORE_OK;
	goto out;
fail:
	store_db_err(st->db, "refused", err, errlen);
	rc = STORE_ERR;
out:
	return end_txn(st, s, rc, err, errlen);
}

int store_incoming_refused(struct store *st, int limit, store_row_cb cb, void *arg, char *err,
    size_t errlen)
{

	return rows_by_int(st, "SELECT id, received_at, via, sender_id, doc_key, reason, "
	        "package_path FROM refused ORDER BY id DESC LIMIT ?",
	    "refused", limit > 0 && limit <= CAP_LIST ? limit : CAP_LIST, cb, arg, err, errlen);
}

/* The chủ trì: the office leader's (top-level) lead assignment of entry i. */
#define LEAD_OF_I "FROM assignments a WHERE a.incoming_id = i.id AND a.parent IS NULL AND " \
	"a.role = 'lead' ORDER BY a.id LIMIT 1"
#define OPEN_I "i.state IN ('registered', 'assigned', 'progress')"
/* The columns of a list of entries. */
#define LIST_COLUMNS "i.id AS id, i.year AS year, i.number AS number, i.arrived_at AS arrived_at, " \
	"i.via AS via, i.sender_id AS sender_id, i.sender_name AS sender_name, " \
	"i.doc_key AS doc_key, i.code AS code, i.issued_on AS issued_on, " \
	"i.type_name AS type_name, i.subject AS subject, i.priority AS priority, " \
	"i.due_date AS due_date, (SELECT a.due " LEAD_OF_I ") AS deadline, i.state AS state, " \
	"(SELECT a.name " LEAD_OF_I ") AS lead, i.done_at AS done_at, " \
	"i.reply_document AS reply_document, (SELECT d.symbol FROM documents d WHERE " \
	"d.id = i.reply_document) AS reply_symbol"

int store_incoming_list(struct store *st, const struct store_incoming_filter *f, store_row_cb cb,
    void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char sql[2048];
	const char *state = "";
	int rc;

	if (check_text(f->assignee, "assignee", CAP_NAME, 0, err, errlen) != 0)
		return STORE_INVALID;
	if (f->state == NULL) {
		state = "";
	} else if (strcmp(f->state, "open") == 0) {
		state = " AND " OPEN_I;
	} else if (strcmp(f->state, "late") == 0) {
		if (check_date(f->today, "today", 1, err, errlen) != 0)
			return STORE_INVALID;
		state = " AND " OPEN_I " AND (SELECT a.due " LEAD_OF_I ") < ?3";
	} else if (strcmp(f->state, "registered") == 0 || strcmp(f->state, "assigned") == 0 ||
	    strcmp(f->state, "progress") == 0 || strcmp(f->state, "done") == 0 ||
	    strcmp(f->state, "recalled") == 0) {
		state = " AND i.state = ?2";
	} else {
		store_set_err(err, errlen, "no state %.64s", f->state);
		return STORE_INVALID;
	}
	/* built from fixed pieces only; every value is bound */
	snprintf(sql, sizeof(sql), "SELECT " LIST_COLUMNS " FROM incoming i WHERE i.id < ?1%s%s%s "
	    "ORDER BY i.id DESC LIMIT ?6", state, f->year ? " AND i.year = ?4" : "",
	    f->assignee ? " AND EXISTS (SELECT 1 FROM assignments a WHERE a.incoming_id = i.id "
	    "AND a.who = ?5)" : "");
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "incoming", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, f->before > 0 ? f->before : INT64_MAX);
	store_bind_text(s, 2, f->state);
	store_bind_text(s, 3, f->today);
	sqlite3_bind_int(s, 4, f->year);
	store_bind_text(s, 5, f->assignee);
	sqlite3_bind_int(s, 6, f->limit > 0 && f->limit <= CAP_LIST ? f->limit : CAP_LIST);
	rc = store_emit_rows(st->db, s, cb, arg, err, errlen, NULL);
	sqlite3_finalize(s);
	return rc;
}

int store_incoming_row(struct store *st, int64_t id, store_row_cb cb, void *arg, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc, rows = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT " LIST_COLUMNS ", i.recipient AS recipient, "
	        "i.signer AS signer, i.to_places AS to_places, i.pages AS pages, "
	        "i.business AS business, i.response_for AS response_for, "
	        "i.package_path AS package_path, i.pdf_path AS pdf_path, "
	        "i.pdf_sha256 AS pdf_sha256, i.verify AS verify, i.note AS note, "
	        "i.recall_at AS recall_at, i.recall_answer AS recall_answer, "
	        "i.registered_by AS registered_by, i.registered_at AS registered_at "
	        "FROM incoming i WHERE i.id = ?", -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "incoming", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, id);
	rc = store_emit_rows(st->db, s, cb, arg, err, errlen, &rows);
	sqlite3_finalize(s);
	if (rc == STORE_OK && rows == 0) {
		store_set_err(err, errlen, "no incoming entry %" PRId64, id);
		rc = STORE_INVALID;
	}
	return rc;
}

int store_incoming_register_list(struct store *st, int year, store_row_cb cb, void *arg,
    char *err, size_t errlen)
{
	return rows_by_int(st, "SELECT " LIST_COLUMNS ", (SELECT group_concat(name, '; ') "
	        "FROM (SELECT a.name AS name FROM assignments a WHERE a.incoming_id = i.id ORDER BY "
	        "(a.parent IS NULL AND a.role = 'lead') DESC, a.id)) AS assigned_to, "
	        "(SELECT min(a.at) FROM assignments a WHERE a.incoming_id = i.id AND "
	        "a.parent IS NULL) AS assigned_at FROM incoming i WHERE i.year = ? ORDER BY i.number",
	    "incoming", year, cb, arg, err, errlen);
}

/*
 * Inside the caller's transaction: the state of entry id into state (""), 0; 1 when there
 * is no such entry; -1 on error.
 */
static int entry_state(sqlite3 *db, int64_t id, char state[16])
{
	sqlite3_stmt *s = NULL;
	int step, rc = -1;

	state[0] = '\0';
	if (prep(db, &s, "SELECT state FROM incoming WHERE id = ?") == 0) {
		sqlite3_bind_int64(s, 1, id);
		step = sqlite3_step(s);
		if (step == SQLITE_ROW) {
			snprintf(state, 16, "%s", (const char *)sqlite3_column_text(s, 0));
			rc = 0;
		} else if (step == SQLITE_DONE) {
			rc = 1;
		}
	}
	sqlite3_finalize(s);
	return rc;
}

static int is_closed(const char *state)
{
	return strcmp(state, "done") == 0 || strcmp(state, "recalled") == 0;
}

static const char *const role_names[] = { "lead", "support", "info" };

/* ---- the phiếu giải quyết ---- */

int store_incoming_assign(struct store *st, const struct store_assign_new *a, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char state[16], object[48];
	json_t *list = NULL;
	int rc = STORE_ERR, leads = 0, r;

	if (check_text(a->opinion, "opinion", CAP_TEXT, 1, err, errlen) != 0 ||
	    check_text(a->login, "login", CAP_NAME, 1, err, errlen) != 0 ||
	    check_text(a->at, "at", CAP_SHORT, 1, err, errlen) != 0 ||
	    (a->status != NULL && check_xout(a->status, err, errlen) != 0))
		return STORE_INVALID;
	if (a->n == 0 || a->n > CAP_ASSIGNEES || a->parent < 0) {
		store_set_err(err, errlen, "an assignment names 1 to %d assignees", CAP_ASSIGNEES);
		return STORE_INVALID;
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct store_assignee *w = &a->who[i];
		if (check_text(w->who, "assignee", CAP_ID * 2, 1, err, errlen) != 0 ||
		    check_text(w->name, "assignee name", CAP_NAME, 1, err, errlen) != 0 ||
		    check_date(w->due, "due", 0, err, errlen) != 0)
			return STORE_INVALID;
		if (w->role < XAS_LEAD || w->role > XAS_INFO) {
			store_set_err(err, errlen, "assignee %s: no role %d", w->who, w->role);
			return STORE_INVALID;
		}
		leads += w->role == XAS_LEAD;
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->who[j].who, w->who) == 0) {
				store_set_err(err, errlen, "assignee %s is named twice", w->who);
				return STORE_INVALID;
			}
	}
	if (a->parent == 0 ? leads != 1 : leads > 1) {
		store_set_err(err, errlen, "%s one chủ trì (lead), not %d",
		    a->parent == 0 ? "exactly" : "at most", leads);
		return STORE_INVALID;
	}
	if (txn_begin(st, err, errlen) != STORE_OK)
		return STORE_ERR;
	if ((r = entry_state(st->db, a->incoming_id, state)) < 0)
		goto fail;
	if (r == 1 || is_closed(state)) {
		store_set_err(err, errlen, r == 1 ? "no incoming entry %" PRId64 :
		    "incoming entry %" PRId64 " is closed", a->incoming_id);
		rc = STORE_INVALID;
		goto out;
	}
	if (a->parent > 0) {
		if (prep(st->db, &s, "SELECT incoming_id FROM assignments WHERE id = ?") != 0)
			goto fail;
		sqlite3_bind_int64(s, 1, a->parent);
		int step = sqlite3_step(s);
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			goto fail;
		if (step == SQLITE_DONE || sqlite3_column_int64(s, 0) != a->incoming_id) {
			store_set_err(err, errlen, "assignment %" PRId64 " is not of entry %" PRId64,
			    a->parent, a->incoming_id);
			rc = STORE_INVALID;
			goto out;
		}
	} else {
		/* the office leader's phiếu is given once: it names the one chủ trì */
		if (prep(st->db, &s, "SELECT count(*) FROM assignments WHERE incoming_id = ? AND "
		        "parent IS NULL") != 0)
			goto fail;
		sqlite3_bind_int64(s, 1, a->incoming_id);
		if (sqlite3_step(s) != SQLITE_ROW)
			goto fail;
		if (sqlite3_column_int64(s, 0) > 0) {
			store_set_err(err, errlen, "incoming entry %" PRId64 " is assigned already",
			    a->incoming_id);
			rc = STORE_INVALID;
			goto out;
		}
	}
	if ((list = json_array()) == NULL)
		goto nomem;
	if (prep(st->db, &s, "INSERT INTO assignments (incoming_id, parent, who, name, role, due, "
	        "opinion, by_uid, by_login, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") != 0)
		goto fail;
	for (size_t i = 0; i < a->n; i++) {
		const struct store_assignee *w = &a->who[i];
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, a->incoming_id);
		bind_id(s, 2, a->parent);
		sqlite3_bind_text(s, 3, w->who, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, w->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, role_names[w->role], -1, SQLITE_STATIC);
		store_bind_text(s, 6, w->due);
		sqlite3_bind_text(s, 7, a->opinion, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 8, a->uid);
		sqlite3_bind_text(s, 9, a->login, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 10, a->at, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto fail;
		if (json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:s, s:s?}", "id",
		        (json_int_t)sqlite3_last_insert_rowid(st->db), "who", w->who, "name", w->name,
		        "role", role_names[w->role], "due", w->due)) != 0)
			goto nomem;
	}
	if (prep(st->db, &s, "UPDATE incoming SET state = 'assigned' WHERE id = ? AND "
	        "state = 'registered'") != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, a->incoming_id);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	if (a->status != NULL && xout_insert(st->db, a->status, 0, a->incoming_id, a->at, NULL,
	        err, errlen) != 0)
		goto out;
	object_of(object, sizeof(object), "incoming", a->incoming_id);
	if (store_audit_json(st->db, a->uid, a->login, "incoming.assign", object,
	        json_pack("{s:I, s:s, s:O}", "parent", (json_int_t)a->parent, "opinion", a->opinion,
	            "assignees", list), err, errlen) != 0)
		goto out;
	rc = STORE_OK;
	goto out;
nomem:
	store_set_err(err, errlen, "out of memory");
	goto out;
fail:
	store_db_err(st->db, "assign", err, errlen);
	rc = STORE_ERR;
out:
	json_decref(list);
	return end_txn(st, s, rc, err, errlen);
}

int store_incoming_assignments(struct store *st, int64_t incoming_id, store_row_cb cb, void *arg,
    char *err, size_t errlen)
{
	return rows_by_int(st, "SELECT id, parent, who, name, role, due, opinion, "
	        "by_login AS \"by\", at, (SELECT count(*) FROM extensions e WHERE "
	        "e.assignment_id = a.id) AS extended FROM assignments a WHERE incoming_id = ? "
	        "ORDER BY id",
	    "assignments", incoming_id, cb, arg, err, errlen);
}

int store_incoming_progress(struct store *st, int64_t incoming_id, const char *text, int64_t uid,
    const char *login, const char *at, const struct store_xout_new *status, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char state[16], object[48];
	int rc = STORE_ERR, r, first;

	if (check_text(text, "text", CAP_TEXT, 1, err, errlen) != 0 ||
	    check_text(login, "login", CAP_NAME, 1, err, errlen) != 0 ||
	    check_text(at, "at", CAP_SHORT, 1, err, errlen) != 0 ||
	    (status != NULL && check_xout(status, err, errlen) != 0))
		return STORE_INVALID;
	if (txn_begin(st, err, errlen) != STORE_OK)
		return STORE_ERR;
	if ((r = entry_state(st->db, incoming_id, state)) < 0)
		goto fail;
	if (r == 1 || is_closed(state) || strcmp(state, "registered") == 0) {
		store_set_err(err, errlen, r == 1 ? "no incoming entry %" PRId64 :
		    is_closed(state) ? "incoming entry %" PRId64 " is closed" :
		    "incoming entry %" PRId64 " is not assigned yet", incoming_id);
		rc = STORE_INVALID;
		goto out;
	}
	if (prep(st->db, &s, "SELECT count(*) FROM progress WHERE incoming_id = ?") != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, incoming_id);
	if (sqlite3_step(s) != SQLITE_ROW)
		goto fail;
	first = sqlite3_column_int64(s, 0) == 0;
	if (prep(st->db, &s, "INSERT INTO progress (incoming_id, at, uid, login, text) VALUES "
	        "(?, ?, ?, ?, ?)") != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, incoming_id);
	sqlite3_bind_text(s, 2, at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, uid);
	sqlite3_bind_text(s, 4, login, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, text, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	if (prep(st->db, &s, "UPDATE incoming SET state = 'progress' WHERE id = ? AND "
	        "state = 'assigned'") != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, incoming_id);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	if (first && status != NULL && xout_insert(st->db, status, 0, incoming_id, at, NULL, err,
	        errlen) != 0)
		goto out;
	object_of(object, sizeof(object), "incoming", incoming_id);
	if (store_audit_json(st->db, uid, login, "incoming.progress", object,
	        json_pack("{s:s, s:b}", "text", text, "first", first), err, errlen) != 0)
		goto out;
	rc = STORE_OK;
	goto out;
fail:
	store_db_err(st->db, "progress", err, errlen);
	rc = STORE_ERR;
out:
	return end_txn(st, s, rc, err, errlen);
}

int store_incoming_progress_list(struct store *st, int64_t incoming_id, store_row_cb cb,
    void *arg, char *err, size_t errlen)
{

	return rows_by_int(st, "SELECT at, login, text FROM progress WHERE incoming_id = ? "
	        "ORDER BY id",
	    "progress", incoming_id, cb, arg, err, errlen);
}

int store_incoming_done(struct store *st, int64_t incoming_id, int64_t reply_document,
    const char *note, int64_t uid, const char *login, const char *at,
    const struct store_xout_new *status, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char state[16], object[48];
	int rc = STORE_ERR, r;

	if (check_text(note, "note", CAP_TEXT, reply_document == 0, err, errlen) != 0 ||
	    check_text(login, "login", CAP_NAME, 1, err, errlen) != 0 ||
	    check_text(at, "at", CAP_SHORT, 1, err, errlen) != 0 ||
	    (status != NULL && check_xout(status, err, errlen) != 0))
		return STORE_INVALID;
	if (reply_document < 0) {
		store_set_err(err, errlen, "reply document %" PRId64 " out of range", reply_document);
		return STORE_INVALID;
	}
	if (txn_begin(st, err, errlen) != STORE_OK)
		return STORE_ERR;
	if ((r = entry_state(st->db, incoming_id, state)) < 0)
		goto fail;
	if (r == 0 && strcmp(state, "done") == 0) {
		store_set_err(err, errlen, "incoming entry %" PRId64 " is done already", incoming_id);
		rc = STORE_DONE;
		goto out;
	}
	if (r == 1 || strcmp(state, "recalled") == 0) {
		store_set_err(err, errlen, r == 1 ? "no incoming entry %" PRId64 :
		    "incoming entry %" PRId64 " was recalled", incoming_id);
		rc = STORE_INVALID;
		goto out;
	}
	if (reply_document > 0) {
		if (prep(st->db, &s, "SELECT 1 FROM documents WHERE id = ?") != 0)
			goto fail;
		sqlite3_bind_int64(s, 1, reply_document);
		int step = sqlite3_step(s);
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			goto fail;
		if (step == SQLITE_DONE) {
			store_set_err(err, errlen, "no document %" PRId64, reply_document);
			rc = STORE_INVALID;
			goto out;
		}
	}
	if (prep(st->db, &s, "UPDATE incoming SET state = 'done', done_at = ?, reply_document = ?, "
	        "note = ? WHERE id = ?") != 0)
		goto fail;
	sqlite3_bind_text(s, 1, at, -1, SQLITE_STATIC);
	bind_id(s, 2, reply_document);
	store_bind_text(s, 3, note);
	sqlite3_bind_int64(s, 4, incoming_id);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	if (status != NULL && xout_insert(st->db, status, 0, incoming_id, at, NULL, err,
	        errlen) != 0)
		goto out;
	object_of(object, sizeof(object), "incoming", incoming_id);
	if (store_audit_json(st->db, uid, login, "incoming.done", object,
	        json_pack("{s:I, s:s?, s:s}", "reply_document", (json_int_t)reply_document, "note",
	            note, "from", state), err, errlen) != 0)
		goto out;
	rc = STORE_OK;
	goto out;
fail:
	store_db_err(st->db, "done", err, errlen);
	rc = STORE_ERR;
out:
	return end_txn(st, s, rc, err, errlen);
}

int store_incoming_answered_by(struct store *st, int64_t document_id, store_row_cb cb, void *arg,
    char *err, size_t errlen)
{

	/* the entry the draft was marked to answer, and every entry closed with it as reply */
	return rows_by_int(st, "SELECT id, sender_id, doc_key, code, issued_on FROM "
	        "incoming WHERE id = (SELECT reply_to FROM documents WHERE id = ?1) OR "
	        "reply_document = ?1 ORDER BY id",
	    "incoming", document_id, cb, arg, err, errlen);
}

int store_doc_set_reply_to(struct store *st, int64_t document_id, int64_t incoming_id,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char state[16], object[48];
	int rc = STORE_ERR, r, step;

	if (txn_begin(st, err, errlen) != STORE_OK)
		return STORE_ERR;
	if ((r = entry_state(st->db, incoming_id, state)) < 0)
		goto fail;
	if (r == 1 || strcmp(state, "recalled") == 0) {
		store_set_err(err, errlen, r == 1 ? "no incoming entry %" PRId64 :
		    "incoming entry %" PRId64 " was recalled", incoming_id);
		rc = STORE_INVALID;
		goto out;
	}
	if (prep(st->db, &s, "SELECT number FROM documents WHERE id = ?") != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, document_id);
	step = sqlite3_step(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		goto fail;
	if (step == SQLITE_DONE || sqlite3_column_type(s, 0) != SQLITE_NULL) {
		store_set_err(err, errlen, step == SQLITE_DONE ? "no document %" PRId64 :
		    "document %" PRId64 " is issued already", document_id);
		rc = STORE_INVALID;
		goto out;
	}
	if (prep(st->db, &s, "UPDATE documents SET reply_to = ? WHERE id = ?") != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, incoming_id);
	sqlite3_bind_int64(s, 2, document_id);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	object_of(object, sizeof(object), "document", document_id);
	if (store_audit_json(st->db, -1, daemon_login, "incoming.reply_to", object,
	        json_pack("{s:I}", "incoming", (json_int_t)incoming_id), err, errlen) != 0)
		goto out;
	rc = STORE_OK;
	goto out;
fail:
	store_db_err(st->db, "reply_to", err, errlen);
	rc = STORE_ERR;
out:
	return end_txn(st, s, rc, err, errlen);
}

int store_incoming_extend(struct store *st, int64_t assignment_id, const char *new_due,
    const char *reason, int64_t uid, const char *login, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char now[40], object[48], old_due[16] = "", who[CAP_ID * 2 + 1] = "";
	int64_t incoming_id;
	int rc = STORE_ERR, step, had_due;

	if (check_date(new_due, "new_due", 1, err, errlen) != 0 ||
	    check_text(reason, "reason", CAP_TEXT, 1, err, errlen) != 0 ||
	    check_text(login, "login", CAP_NAME, 1, err, errlen) != 0)
		return STORE_INVALID;
	clock_iso_utc(now, sizeof(now));
	if (txn_begin(st, err, errlen) != STORE_OK)
		return STORE_ERR;
	if (prep(st->db, &s, "SELECT a.due, a.incoming_id, i.state, a.who FROM assignments a "
	        "JOIN incoming i ON i.id = a.incoming_id WHERE a.id = ?") != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, assignment_id);
	step = sqlite3_step(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		goto fail;
	if (step == SQLITE_DONE) {
		store_set_err(err, errlen, "no assignment %" PRId64, assignment_id);
		rc = STORE_INVALID;
		goto out;
	}
	had_due = sqlite3_column_type(s, 0) != SQLITE_NULL;
	if (had_due)
		snprintf(old_due, sizeof(old_due), "%s", (const char *)sqlite3_column_text(s, 0));
	incoming_id = sqlite3_column_int64(s, 1);
	snprintf(who, sizeof(who), "%s", (const char *)sqlite3_column_text(s, 3));
	if (is_closed((const char *)sqlite3_column_text(s, 2))) {
		store_set_err(err, errlen, "incoming entry %" PRId64 " is closed", incoming_id);
		rc = STORE_INVALID;
		goto out;
	}
	if (had_due && strcmp(new_due, old_due) <= 0) {
		store_set_err(err, errlen, "%s is not later than the due date %s", new_due, old_due);
		rc = STORE_INVALID;
		goto out;
	}
	if (prep(st->db, &s, "INSERT INTO extensions (assignment_id, old_due, new_due, reason, "
	        "by_uid, by_login, at) VALUES (?, ?, ?, ?, ?, ?, ?)") != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, assignment_id);
	store_bind_text(s, 2, had_due ? old_due : NULL);
	sqlite3_bind_text(s, 3, new_due, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, uid);
	sqlite3_bind_text(s, 6, login, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, now, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	if (prep(st->db, &s, "UPDATE assignments SET due = ? WHERE id = ?") != 0)
		goto fail;
	sqlite3_bind_text(s, 1, new_due, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, assignment_id);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	object_of(object, sizeof(object), "incoming", incoming_id);
	if (store_audit_json(st->db, uid, login, "incoming.extend", object,
	        json_pack("{s:I, s:s, s:s?, s:s, s:s}", "assignment", (json_int_t)assignment_id,
	            "who", who, "old_due", had_due ? old_due : NULL, "new_due", new_due, "reason",
	            reason), err, errlen) != 0)
		goto out;
	rc = STORE_OK;
	goto out;
fail:
	store_db_err(st->db, "extend", err, errlen);
	rc = STORE_ERR;
out:
	return end_txn(st, s, rc, err, errlen);
}

int store_incoming_recall(struct store *st, const char *sender_id, const char *doc_key,
    const struct store_xout_new *agree, const struct store_xout_new *refuse, int *agreed,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char now[40], object[48], state[16];
	int64_t id;
	int rc = STORE_ERR, step, yes;

	*agreed = 0;
	if (check_text(sender_id, "sender_id", CAP_ID, 1, err, errlen) != 0 ||
	    check_text(doc_key, "doc_key", CAP_KEY, 1, err, errlen) != 0 ||
	    (agree != NULL && check_xout(agree, err, errlen) != 0) ||
	    (refuse != NULL && check_xout(refuse, err, errlen) != 0))
		return STORE_INVALID;
	clock_iso_utc(now, sizeof(now));
	if (txn_begin(st, err, errlen) != STORE_OK)
		return STORE_ERR;
	if (prep(st->db, &s, "SELECT id, state, recall_answer FROM incoming WHERE sender_id = ? "
	        "AND doc_key = ?") != 0)
		goto fail;
	sqlite3_bind_text(s, 1, sender_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, doc_key, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		goto fail;
	if (step == SQLITE_DONE) {
		store_set_err(err, errlen, "no incoming entry %s from %s", doc_key, sender_id);
		rc = STORE_INVALID;
		goto out;
	}
	id = sqlite3_column_int64(s, 0);
	snprintf(state, sizeof(state), "%s", (const char *)sqlite3_column_text(s, 1));
	if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
		/* answered before: the same answer, nothing queued again */
		*agreed = sqlite3_column_int(s, 2) == 15;
		store_set_err(err, errlen, "the recall of %s was answered already", doc_key);
		rc = STORE_DONE;
		goto out;
	}
	/* agreed only while nobody has acted on it yet */
	yes = strcmp(state, "registered") == 0;
	if (prep(st->db, &s, yes ?
	        "UPDATE incoming SET state = 'recalled', recall_at = ?, recall_answer = 15 WHERE id = ?" :
	        "UPDATE incoming SET recall_at = ?, recall_answer = 16 WHERE id = ?") != 0)
		goto fail;
	sqlite3_bind_text(s, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	const struct store_xout_new *answer = yes ? agree : refuse;
	if (answer != NULL && xout_insert(st->db, answer, 0, id, now, NULL, err, errlen) != 0)
		goto out;
	object_of(object, sizeof(object), "incoming", id);
	if (store_audit_json(st->db, -1, daemon_login, "incoming.recall", object,
	        json_pack("{s:s, s:s, s:b, s:s}", "sender_id", sender_id, "doc_key", doc_key,
	            "agreed", yes, "state", state), err, errlen) != 0)
		goto out;
	*agreed = yes;
	rc = STORE_OK;
	goto out;
fail:
	store_db_err(st->db, "recall", err, errlen);
	rc = STORE_ERR;
out:
	return end_txn(st, s, rc, err, errlen);
}

int store_incoming_followup(struct store *st, int year, store_row_cb cb, void *arg, char *err,
    size_t errlen)
{

	/* open with a deadline (the chủ trì's, or the sender's DueDate before it is assigned) */
	return rows_by_int(st, "SELECT " LIST_COLUMNS ", (SELECT p.text FROM progress p "
	        "WHERE p.incoming_id = i.id ORDER BY p.id DESC LIMIT 1) AS progress, (SELECT p.at "
	        "FROM progress p WHERE p.incoming_id = i.id ORDER BY p.id DESC LIMIT 1) AS "
	        "progress_at FROM incoming i WHERE (" OPEN_I " AND (i.due_date IS NOT NULL OR "
	        "EXISTS (SELECT 1 FROM assignments a WHERE a.incoming_id = i.id AND a.parent IS NULL "
	        "AND a.role = 'lead' AND a.due IS NOT NULL))) OR (i.state = 'done' AND i.year = ?) "
	        "ORDER BY i.year, i.number",
	    "incoming", year, cb, arg, err, errlen);
}

int store_incoming_check(struct store *st, int year, int64_t *count, int64_t *gaps, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc = STORE_ERR;

	*count = 0;
	*gaps = 0;
	/* numbers are unique and from 1: what max exceeds the count by is missing */
	if (sqlite3_prepare_v2(st->db, "SELECT count(*), coalesce(max(number), 0) FROM incoming "
	        "WHERE year = ?", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int(s, 1, year);
		if (sqlite3_step(s) == SQLITE_ROW) {
			*count = sqlite3_column_int64(s, 0);
			*gaps = sqlite3_column_int64(s, 1) - *count;
			rc = STORE_OK;
		}
	}
	if (rc != STORE_OK)
		store_db_err(st->db, "incoming", err, errlen);
	sqlite3_finalize(s);
	return rc;
}

int store_doc_set_report(struct store *st, int64_t document_id, const char *name,
    const void *data, size_t len, int64_t uid, const char *login, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char now[40], object[48], sha[HASH_HEX_LEN + 1];
	int rc = STORE_ERR, step;

	if (check_text(name, "name", CAP_NAME, 1, err, errlen) != 0 ||
	    check_text(login, "login", CAP_NAME, 1, err, errlen) != 0)
		return STORE_INVALID;
	if (hash_sha256_hex(data, len, sha) != 0) {
		store_set_err(err, errlen, "sha256 failed");
		return STORE_ERR;
	}
	clock_iso_utc(now, sizeof(now));
	if (txn_begin(st, err, errlen) != STORE_OK)
		return STORE_ERR;
	if (prep(st->db, &s, "SELECT number FROM documents WHERE id = ?") != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, document_id);
	step = sqlite3_step(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		goto fail;
	if (step == SQLITE_DONE || sqlite3_column_type(s, 0) != SQLITE_NULL) {
		store_set_err(err, errlen, step == SQLITE_DONE ? "no document %" PRId64 :
		    "document %" PRId64 " is issued already", document_id);
		rc = STORE_INVALID;
		goto out;
	}
	if (prep(st->db, &s, "INSERT INTO doc_reports (document_id, name, sha256, content, set_at) "
	        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (document_id) DO UPDATE SET name = excluded.name, "
	        "sha256 = excluded.sha256, content = excluded.content, set_at = excluded.set_at") != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, document_id);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, sha, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(s, 4, data, (sqlite3_uint64)len, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, now, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	object_of(object, sizeof(object), "document", document_id);
	if (store_audit_json(st->db, uid, login, "document.report", object,
	        json_pack("{s:s, s:s, s:I}", "name", name, "sha256", sha, "bytes", (json_int_t)len),
	        err, errlen) != 0)
		goto out;
	rc = STORE_OK;
	goto out;
fail:
	store_db_err(st->db, "doc report", err, errlen);
	rc = STORE_ERR;
out:
	return end_txn(st, s, rc, err, errlen);
}

int store_doc_report(struct store *st, int64_t document_id, char **name, unsigned char **data,
    size_t *len, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc = STORE_ERR, step;

	*name = NULL;
	*data = NULL;
	*len = 0;
	if (prep(st->db, &s, "SELECT name, content FROM doc_reports WHERE document_id = ?") != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, document_id);
	step = sqlite3_step(s);
	if (step == SQLITE_DONE) {
		rc = STORE_INVALID;
		goto out;
	}
	if (step != SQLITE_ROW)
		goto fail;
	size_t n = (size_t)sqlite3_column_bytes(s, 1);
	const void *b = sqlite3_column_blob(s, 1);
	*name = strdup((const char *)sqlite3_column_text(s, 0));
	*data = malloc(n + 1);
	if (*name == NULL || *data == NULL) {
		free(*name);
		free(*data);
		*name = NULL;
		*data = NULL;
		store_set_err(err, errlen, "out of memory");
		goto out;
	}
	if (n)
		memcpy(*data, b, n);
	(*data)[n] = '\0';
	*len = n;
	rc = STORE_OK;
	goto out;
fail:
	store_db_err(st->db, "doc report", err, errlen);
out:
	sqlite3_finalize(s);
	return rc;
}

int store_incoming_find(struct store *st, const char *sender_id, const char *doc_key,
    int64_t *id, char *recipient, size_t recipientlen, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc = STORE_ERR, step;

	*id = 0;
	if (recipientlen)
		recipient[0] = '\0';
	if (sender_id == NULL || doc_key == NULL) {
		store_set_err(err, errlen, "no sender or DocumentId");
		return STORE_INVALID;
	}
	if (prep(st->db, &s, "SELECT id, recipient FROM incoming WHERE sender_id = ? AND doc_key = ?")
	    != 0)
		goto fail;
	sqlite3_bind_text(s, 1, sender_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, doc_key, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_DONE) {
		store_set_err(err, errlen, "no incoming entry for %s from %s", doc_key, sender_id);
		rc = STORE_INVALID;
		goto out;
	}
	if (step != SQLITE_ROW)
		goto fail;
	*id = sqlite3_column_int64(s, 0);
	if (sqlite3_column_type(s, 1) == SQLITE_TEXT)
		snprintf(recipient, recipientlen, "%s", (const char *)sqlite3_column_text(s, 1));
	rc = STORE_OK;
	goto out;
fail:
	store_db_err(st->db, "incoming find", err, errlen);
out:
	sqlite3_finalize(s);
	return rc;
}
