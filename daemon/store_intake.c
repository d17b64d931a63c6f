/*
 * store_intake.c: what intake records: the claims (the name and the look of
 * every file from the moment it is taken, before it is moved), the outcome
 * of every input with its receipt number, the reports with their figures,
 * and the lists of reports and rejected inputs. One input that cannot be
 * recorded for a reason of its own is recorded as rejected (R_RECORD) and
 * the rest of its batch goes on; only a failure of the database or the disk
 * fails a batch.
 */
#include "store_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

/* ---- claims ---- */

int store_claims_add(struct store *st, struct store_claim *c, size_t n, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char at[40], ignored[8];

	if (n == 0)
		return STORE_OK;
	clock_iso_utc(at, sizeof(at));
	if (store_exec_sql(st->db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
		return STORE_ERR;
	if (sqlite3_prepare_v2(st->db, "INSERT INTO claims (folder, name, claimed_at, dev, ino, "
	        "size, mtime_ns) VALUES (?,?,?,?,?,?,?)", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_text(s, 1, c[i].folder, -1, SQLITE_STATIC);
		sqlite3_bind_blob(s, 2, c[i].name, (int)strlen(c[i].name), SQLITE_STATIC);
		sqlite3_bind_text(s, 3, at, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, c[i].dev);
		sqlite3_bind_int64(s, 5, c[i].ino);
		sqlite3_bind_int64(s, 6, c[i].size);
		sqlite3_bind_int64(s, 7, c[i].mtime_ns);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(s);
		c[i].id = sqlite3_last_insert_rowid(st->db);
	}
	sqlite3_finalize(s);
	s = NULL;
	if (store_exec_sql(st->db, "COMMIT", err, errlen) != STORE_OK)
		goto rollback;
	return STORE_OK;
fail:
	store_db_err(st->db, "claims", err, errlen);
rollback:
	sqlite3_finalize(s);
	store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
	return STORE_ERR;
}

int store_claims_drop(struct store *st, const int64_t *ids, size_t n, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char ignored[8];

	if (n == 0)
		return STORE_OK;
	if (store_exec_sql(st->db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
		return STORE_ERR;
	if (sqlite3_prepare_v2(st->db, "DELETE FROM claims WHERE id = ?", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(s, 1, ids[i]);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	s = NULL;
	if (store_exec_sql(st->db, "COMMIT", err, errlen) != STORE_OK)
		goto rollback;
	return STORE_OK;
fail:
	store_db_err(st->db, "claims", err, errlen);
rollback:
	sqlite3_finalize(s);
	store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
	return STORE_ERR;
}

int store_claim_resettle(struct store *st, int64_t id, int64_t dev, int64_t ino, int64_t size,
    int64_t mtime_ns, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc = STORE_OK;

	if (sqlite3_prepare_v2(st->db, "UPDATE claims SET dev = ?, ino = ?, size = ?, mtime_ns = ?, "
	        "settle = 1 WHERE id = ?", -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "claims", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, dev);
	sqlite3_bind_int64(s, 2, ino);
	sqlite3_bind_int64(s, 3, size);
	sqlite3_bind_int64(s, 4, mtime_ns);
	sqlite3_bind_int64(s, 5, id);
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_db_err(st->db, "claims", err, errlen);
		rc = STORE_ERR;
	}
	sqlite3_finalize(s);
	return rc;
}

int store_claims_list(struct store *st, int64_t **ids, size_t *n, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int64_t *v = NULL;
	size_t cap = 0;
	int step;

	*ids = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT id FROM claims ORDER BY id", -1, &s, NULL) !=
	    SQLITE_OK) {
		store_db_err(st->db, "claims", err, errlen);
		return STORE_ERR;
	}
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			int64_t *p = realloc(v, nc * sizeof(*v));
			if (p == NULL) {
				store_set_err(err, errlen, "claims: out of memory");
				goto fail;
			}
			v = p;
			cap = nc;
		}
		v[(*n)++] = sqlite3_column_int64(s, 0);
	}
	if (step != SQLITE_DONE) {
		store_db_err(st->db, "claims", err, errlen);
		goto fail;
	}
	sqlite3_finalize(s);
	*ids = v;
	return STORE_OK;
fail:
	sqlite3_finalize(s);
	free(v);
	*n = 0;
	return STORE_ERR;
}

/* Copies a column of at most NAME_MAX bytes (blob or text) into out. */
static void copy_name(sqlite3_stmt *s, int col, char *out, size_t len)
{
	const void *p = sqlite3_column_blob(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);

	if (p == NULL || n >= len || memchr(p, '\0', n) != NULL)
		n = 0;
	memcpy(out, p ? p : "", n);
	out[n] = '\0';
}

int store_claim_lookup(struct store *st, const char *claimed_name, struct store_claim_info *out,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char *end = NULL;
	long long id;
	int step;

	memset(out, 0, sizeof(*out));
	errno = 0;
	id = strtoll(claimed_name, &end, 10);
	if (errno == 0 && end != claimed_name && *end == '\0' && id > 0) {
		if (sqlite3_prepare_v2(st->db, "SELECT folder, name, dev, ino, size, mtime_ns, settle "
		        "FROM claims WHERE id = ?", -1, &s, NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_int64(s, 1, id);
		step = sqlite3_step(s);
		if (step == SQLITE_ROW) {
			out->state = STORE_CLAIM_PENDING;
			copy_name(s, 0, out->folder, sizeof(out->folder));
			copy_name(s, 1, out->name, sizeof(out->name));
			out->dev = sqlite3_column_int64(s, 2);
			out->ino = sqlite3_column_int64(s, 3);
			out->size = sqlite3_column_int64(s, 4);
			out->mtime_ns = sqlite3_column_int64(s, 5);
			out->settle = sqlite3_column_int(s, 6);
		} else if (step != SQLITE_DONE) {
			goto fail;
		}
		sqlite3_finalize(s);
		s = NULL;
		if (out->state != STORE_CLAIM_UNKNOWN)
			return STORE_OK;
	}
	if (sqlite3_prepare_v2(st->db, "SELECT source_folder, coalesce(source_raw, source_name) "
	        "FROM intake WHERE claimed_name = ?", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, claimed_name, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		out->state = STORE_CLAIM_RECORDED;
		copy_name(s, 0, out->folder, sizeof(out->folder));
		copy_name(s, 1, out->name, sizeof(out->name));
	} else if (step != SQLITE_DONE) {
		goto fail;
	}
	sqlite3_finalize(s);
	return STORE_OK;
fail:
	store_db_err(st->db, "claims", err, errlen);
	sqlite3_finalize(s);
	return STORE_ERR;
}

/* ---- recording a batch ---- */

/* The statements one batch needs, prepared once per batch. */
struct record_stmts {
	sqlite3_stmt *find_claim, *find_dup, *find_current, *ins_report, *ins_ind, *link, *ins_intake,
	    *del_claim, *round_closed, *mark_late, *report_late, *round_known, *open_rounds,
	    *report_overdue;
};

static void finalize_record(struct record_stmts *q)
{
	sqlite3_finalize(q->find_claim);
	sqlite3_finalize(q->find_dup);
	sqlite3_finalize(q->find_current);
	sqlite3_finalize(q->ins_report);
	sqlite3_finalize(q->ins_ind);
	sqlite3_finalize(q->link);
	sqlite3_finalize(q->ins_intake);
	sqlite3_finalize(q->del_claim);
	sqlite3_finalize(q->round_closed);
	sqlite3_finalize(q->mark_late);
	sqlite3_finalize(q->report_late);
	sqlite3_finalize(q->round_known);
	sqlite3_finalize(q->open_rounds);
	sqlite3_finalize(q->report_overdue);
}

static int prepare_record(sqlite3 *db, struct record_stmts *q)
{
	memset(q, 0, sizeof(*q));
	return sqlite3_prepare_v2(db, "SELECT id, outcome, report_id, supersedes, received_at, "
	        "document_id, errors FROM intake WHERE claimed_name = ?", -1, &q->find_claim, NULL) !=
	        SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT id FROM reports WHERE unit_code = ? AND sha256 = ?",
	        -1, &q->find_dup, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT id FROM reports WHERE unit_code = ? AND round_id = ? "
	        "AND superseded_by IS NULL ORDER BY id DESC LIMIT 1", -1, &q->find_current, NULL) !=
	        SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO reports (unit_code, unit_name, round_id, req_number, "
	        "req_symbol, req_date, number, symbol, place, report_date, summary, period_from, "
	        "period_to, signer_authority, signer_title, signer_name, content, sha256, size, "
	        "original, received_at, supersedes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	        -1, &q->ins_report, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO indicators (report_id, code, name, measure, value, "
	        "target, position, base) VALUES (?,?,?,?,?,?,?,?)", -1, &q->ins_ind, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE reports SET superseded_by = ? WHERE id = ?", -1, &q->link,
	        NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO intake (claimed_name, source_name, source_folder, "
	        "received_at, owner_uid, unit_code, round_id, sha256, size, outcome, report_id, "
	        "supersedes, errors, document_id, source_raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	        -1, &q->ins_intake, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM claims WHERE id = ?", -1, &q->del_claim, NULL) !=
	        SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT CASE WHEN state <> 'open' THEN closed_at END, "
	        "CASE WHEN date(?2, '+7 hours') > deadline THEN deadline END FROM rounds "
	        "WHERE id = ?1", -1, &q->round_closed, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT CASE WHEN date(p.received_at, '+7 hours') > r.deadline "
	        "THEN r.deadline END FROM reports p JOIN rounds r ON r.id = p.round_id WHERE p.id = ? "
	        "AND p.supersedes IS NULL", -1, &q->report_overdue, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE reports SET after_close = ? WHERE id = ?", -1,
	        &q->mark_late, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT after_close FROM reports WHERE id = ?", -1,
	        &q->report_late, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT 1 FROM rounds WHERE id = ?", -1, &q->round_known,
	        NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT r.id, r.deadline FROM rounds r JOIN round_units u ON "
	        "u.round_id = r.id WHERE u.unit_code = ? AND r.state = 'open' ORDER BY r.deadline, "
	        "r.id LIMIT 10", -1, &q->open_rounds, NULL) != SQLITE_OK ? -1 : 0;
}

/*
 * A report must answer a round the office opened: a typo in its round's code
 * would leave the unit "not reported" while it believes it did. 0 when the
 * round is known (or rounds are optional); 1 with the refusal in
 * in->record_error, naming the rounds open for the unit; -1 on error.
 */
static int check_round(struct record_stmts *q, struct store_input *in)
{
	const struct report *r = in->report;
	size_t off;
	int rc, n = 0;

	if (in->rounds_optional)
		return 0;
	sqlite3_bind_text(q->round_known, 1, r->round_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(q->round_known);
	sqlite3_reset(q->round_known);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return -1;
	off = (size_t)snprintf(in->record_error, sizeof(in->record_error), "không có đợt báo cáo "
	    "\"%s\"", r->round_id);
	sqlite3_bind_text(q->open_rounds, 1, r->unit_code, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q->open_rounds)) == SQLITE_ROW && off < sizeof(in->record_error)) {
		const char *id = (const char *)sqlite3_column_text(q->open_rounds, 0);
		const char *dl = (const char *)sqlite3_column_text(q->open_rounds, 1);
		int y = 0, m = 0, d = 0;
		if (dl)
			sscanf(dl, "%d-%d-%d", &y, &m, &d);
		off += (size_t)snprintf(in->record_error + off, sizeof(in->record_error) - off,
		    "%s%s (hạn %02d/%02d/%04d)", n++ ? ", " : "; các đợt đang mở mà đơn vị này phải "
		    "báo cáo: ", id, d, m, y);
	}
	sqlite3_reset(q->open_rounds);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (off < sizeof(in->record_error))
		snprintf(in->record_error + off, sizeof(in->record_error) - off, n ?
		    "; hãy sửa <round id=\"...\"> cho đúng mã đợt rồi gửi lại" :
		    "; hiện không có đợt nào đang mở mà đơn vị này phải báo cáo");
	snprintf(in->record_code, sizeof(in->record_code), "R_ROUND");
	return 1;
}

/*
 * A report for a round that has closed is recorded all the same (nothing a
 * unit sends is lost) but marked with when the round closed: its receipt
 * says so, and the conclusion drafted at closing does not count it. A
 * unit's first report received after the deadline (Vietnam day) is late:
 * its receipt says so too, with the deadline.
 */
static int mark_after_close(struct record_stmts *q, struct store_input *in)
{
	int rc;

	in->after_close[0] = '\0';
	in->late_deadline[0] = '\0';
	sqlite3_bind_text(q->round_closed, 1, in->report->round_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q->round_closed, 2, in->received_at, -1, SQLITE_STATIC);
	rc = sqlite3_step(q->round_closed);
	if (rc == SQLITE_ROW && sqlite3_column_text(q->round_closed, 0) != NULL)
		snprintf(in->after_close, sizeof(in->after_close), "%s",
		    (const char *)sqlite3_column_text(q->round_closed, 0));
	if (rc == SQLITE_ROW && sqlite3_column_text(q->round_closed, 1) != NULL &&
	    in->supersedes == 0)
		snprintf(in->late_deadline, sizeof(in->late_deadline), "%s",
		    (const char *)sqlite3_column_text(q->round_closed, 1));
	sqlite3_reset(q->round_closed);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (in->after_close[0] == '\0')
		return 0;
	sqlite3_bind_text(q->mark_late, 1, in->after_close, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q->mark_late, 2, in->report_id);
	rc = sqlite3_step(q->mark_late);
	sqlite3_reset(q->mark_late);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Returns the id found by a one-column query, 0 when none, -1 on error. */
static int64_t step_id(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : rc == SQLITE_DONE ? 0 : -1;

	sqlite3_reset(s);
	return id;
}

/* Inserts the report of in (not a duplicate); sets its id, and what it supersedes. */
static int insert_report(sqlite3 *db, struct record_stmts *q, struct store_input *in)
{
	const struct report *r = in->report;
	int64_t cur;
	int rc;

	sqlite3_bind_text(q->find_current, 1, r->unit_code, -1, SQLITE_STATIC);
	sqlite3_bind_text(q->find_current, 2, r->round_id, -1, SQLITE_STATIC);
	if ((cur = step_id(q->find_current)) < 0)
		return -1;
	const char *v[] = { r->unit_code, r->unit_name, r->round_id, r->req_number,
		r->req_symbol, r->req_date, r->number, r->symbol, r->place, r->date,
		r->summary, r->period_from, r->period_to, r->signer_authority,
		r->signer_title, r->signer_name, r->content_json, in->sha256 };
	for (int i = 0; i < 18; i++)
		store_bind_text(q->ins_report, i + 1, v[i]);
	sqlite3_bind_int64(q->ins_report, 19, in->size);
	sqlite3_bind_blob(q->ins_report, 20, in->original ? in->original : "",
	    (int)in->original_len, SQLITE_STATIC);
	sqlite3_bind_text(q->ins_report, 21, in->received_at, -1, SQLITE_STATIC);
	if (cur > 0)
		sqlite3_bind_int64(q->ins_report, 22, cur);
	else
		sqlite3_bind_null(q->ins_report, 22);
	rc = sqlite3_step(q->ins_report);
	sqlite3_reset(q->ins_report);
	if (rc != SQLITE_DONE)
		return -1;
	in->report_id = sqlite3_last_insert_rowid(db);
	for (size_t i = 0; i < r->nindicators; i++) {
		const struct report_indicator *ind = &r->indicators[i];
		sqlite3_bind_int64(q->ins_ind, 1, in->report_id);
		sqlite3_bind_text(q->ins_ind, 2, ind->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(q->ins_ind, 3, ind->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(q->ins_ind, 4, ind->measure, -1, SQLITE_STATIC);
		sqlite3_bind_text(q->ins_ind, 5, ind->value, -1, SQLITE_STATIC);
		store_bind_text(q->ins_ind, 6, ind->target);
		sqlite3_bind_int64(q->ins_ind, 7, (int64_t)i + 1);
		store_bind_text(q->ins_ind, 8, ind->base);
		rc = sqlite3_step(q->ins_ind);
		sqlite3_reset(q->ins_ind);
		if (rc != SQLITE_DONE)
			return -1;
	}
	if (cur > 0) {
		sqlite3_bind_int64(q->link, 1, in->report_id);
		sqlite3_bind_int64(q->link, 2, cur);
		rc = sqlite3_step(q->link);
		sqlite3_reset(q->link);
		if (rc != SQLITE_DONE)
			return -1;
		in->supersedes = cur;
		snprintf(in->outcome, sizeof(in->outcome), "superseding");
	} else {
		snprintf(in->outcome, sizeof(in->outcome), "accepted");
	}
	return 0;
}

/* Looks in up by its claimed name: 1 when an earlier run recorded it (its outcome copied), 0 when
 * not, -1 on error. */
static int find_recorded(struct record_stmts *q, struct store_input *in)
{
	int rc;

	sqlite3_bind_text(q->find_claim, 1, in->claimed_name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q->find_claim);
	if (rc == SQLITE_ROW) {
		in->already = 1;
		in->id = sqlite3_column_int64(q->find_claim, 0);
		snprintf(in->outcome, sizeof(in->outcome), "%s", sqlite3_column_text(q->find_claim, 1));
		in->report_id = sqlite3_column_int64(q->find_claim, 2);
		in->supersedes = sqlite3_column_int64(q->find_claim, 3);
		snprintf(in->at, sizeof(in->at), "%s", sqlite3_column_text(q->find_claim, 4));
		in->document_id = sqlite3_column_int64(q->find_claim, 5);
		/* a report refused for its round: the receipt written after a crash says why again */
		const char *errors = (const char *)sqlite3_column_text(q->find_claim, 6);
		json_t *list = errors && strcmp(in->outcome, "rejected") == 0 ?
		    json_loads(errors, 0, NULL) : NULL, *e;
		size_t k;
		json_array_foreach(list, k, e)
			if (strcmp(json_string_value(json_object_get(e, "code")) ?
			        json_string_value(json_object_get(e, "code")) : "", "R_ROUND") == 0) {
				snprintf(in->record_code, sizeof(in->record_code), "R_ROUND");
				snprintf(in->record_error, sizeof(in->record_error), "%s",
				    json_string_value(json_object_get(e, "message")));
			}
		json_decref(list);
	}
	sqlite3_reset(q->find_claim);
	/* recorded before a crash: its receipt says again what the first said */
	in->after_close[0] = '\0';
	in->late_deadline[0] = '\0';
	if (rc == SQLITE_ROW && in->report_id > 0 && strcmp(in->outcome, "duplicate") != 0) {
		sqlite3_bind_int64(q->report_overdue, 1, in->report_id);
		int od = sqlite3_step(q->report_overdue);
		if (od == SQLITE_ROW && sqlite3_column_text(q->report_overdue, 0) != NULL)
			snprintf(in->late_deadline, sizeof(in->late_deadline), "%s",
			    (const char *)sqlite3_column_text(q->report_overdue, 0));
		sqlite3_reset(q->report_overdue);
		if (od != SQLITE_ROW && od != SQLITE_DONE)
			return -1;
		sqlite3_bind_int64(q->report_late, 1, in->report_id);
		int lr = sqlite3_step(q->report_late);
		if (lr == SQLITE_ROW && sqlite3_column_text(q->report_late, 0) != NULL)
			snprintf(in->after_close, sizeof(in->after_close), "%s",
			    (const char *)sqlite3_column_text(q->report_late, 0));
		sqlite3_reset(q->report_late);
		if (lr != SQLITE_ROW && lr != SQLITE_DONE)
			return -1;
	}
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Records one input inside the batch's transaction. 0; -1 when the
 * database or the disk failed; -2 when this input cannot be recorded for a
 * reason of its own (a constraint, a value SQLite or the audit trail
 * refuses): the caller rolls it back and records it as rejected instead.
 */
static int record_one(sqlite3 *db, struct record_stmts *q, struct store_input *in, int rejected)
{
	const struct report *r = rejected ? NULL : in->report;
	const struct store_doc_new *doc = rejected ? NULL : in->doc;
	const struct store_round_new *round = rejected ? NULL : in->round;
	const char *errors = rejected ? in->record_errors : in->errors_json;
	char object[48];
	int rc;

	snprintf(in->at, sizeof(in->at), "%s", in->received_at);
	in->report_id = 0;
	in->after_close[0] = '\0';
	in->late_deadline[0] = '\0';
	in->supersedes = 0;
	in->document_id = 0;
	if (doc != NULL) {
		int di = store_doc_insert(db, doc, &in->document_id, NULL, 0);
		if (di < 0)
			return -1;
		/* the same source again (a meeting's conclusions): the draft it made already */
		snprintf(in->outcome, sizeof(in->outcome), di == 1 ? "duplicate" : "accepted");
	} else if (round != NULL) {
		int ri = store_round_insert(db, round, NULL, 0);
		if (ri < 0)
			return -1;
		/* the same round dropped again is a duplicate, not a second round */
		snprintf(in->outcome, sizeof(in->outcome), ri == 1 ? "duplicate" : "accepted");
	} else if (r == NULL) {
		snprintf(in->outcome, sizeof(in->outcome), "rejected");
	} else {
		int64_t dup;
		int known = check_round(q, in);
		if (known < 0)
			return -1;
		if (known > 0)
			return -3;
		sqlite3_bind_text(q->find_dup, 1, r->unit_code, -1, SQLITE_STATIC);
		sqlite3_bind_text(q->find_dup, 2, in->sha256, -1, SQLITE_STATIC);
		if ((dup = step_id(q->find_dup)) < 0)
			return -1;
		if (dup > 0) {
			snprintf(in->outcome, sizeof(in->outcome), "duplicate");
			in->report_id = dup;
		} else if (insert_report(db, q, in) != 0 || mark_after_close(q, in) != 0) {
			return -1;
		}
	}
	sqlite3_stmt *s = q->ins_intake;
	sqlite3_bind_text(s, 1, in->claimed_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, in->source_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, in->source_folder, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, in->received_at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, in->owner_uid);
	store_bind_text(s, 6, r ? r->unit_code : in->unit_code);
	store_bind_text(s, 7, r ? r->round_id : round ? round->id : in->round_id);
	sqlite3_bind_text(s, 8, in->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, in->size);
	sqlite3_bind_text(s, 10, in->outcome, -1, SQLITE_STATIC);
	if (in->report_id > 0)
		sqlite3_bind_int64(s, 11, in->report_id);
	else
		sqlite3_bind_null(s, 11);
	if (in->supersedes > 0)
		sqlite3_bind_int64(s, 12, in->supersedes);
	else
		sqlite3_bind_null(s, 12);
	sqlite3_bind_text(s, 13, errors ? errors : "[]", -1, SQLITE_STATIC);
	if (in->document_id > 0)
		sqlite3_bind_int64(s, 14, in->document_id);
	else
		sqlite3_bind_null(s, 14);
	if (in->source_raw != NULL)
		sqlite3_bind_blob(s, 15, in->source_raw, (int)strlen(in->source_raw), SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 15);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return -1;
	in->id = sqlite3_last_insert_rowid(db);
	if (in->claim_id > 0) {
		sqlite3_bind_int64(q->del_claim, 1, in->claim_id);
		rc = sqlite3_step(q->del_claim);
		sqlite3_reset(q->del_claim);
		if (rc != SQLITE_DONE)
			return -1;
	}
	/* The intake goes into the same history as documents: received -> outcome. */
	snprintf(object, sizeof(object), "intake/%lld", (long long)in->id);
	if (store_audit_json(db, in->owner_uid, "vanthud", "report.intake", object,
	        json_pack("{s:s, s:s, s:s, s:s, s:s?, s:I, s:I}", "from", "received",
	        "to", in->outcome, "file", in->source_name, "folder", in->source_folder,
	        "unit", rejected ? NULL : r ? r->unit_code : in->unit_code, "report", (json_int_t)in->report_id,
	        "document", (json_int_t)in->document_id), NULL, 0) != 0)
		return -2;
	return 0;
}

/* Did the last failure on db come from the database or the disk, rather than from the input? */
static int store_failure(sqlite3 *db)
{
	switch (sqlite3_errcode(db) & 0xff) {
	case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE:
	case SQLITE_CONSTRAINT: case SQLITE_MISMATCH: case SQLITE_TOOBIG: case SQLITE_RANGE:
		return 0;
	default:
		return 1;
	}
}

int store_record_inputs(struct store *st, struct store_input *in, size_t n, char *err, size_t errlen)
{
	struct record_stmts q;
	char ignored[8];

	if (n == 0)
		return STORE_OK;
	if (store_exec_sql(st->db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
		return STORE_ERR;
	if (prepare_record(st->db, &q) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		int rc, found;
		in[i].record_error[0] = '\0';
		in[i].record_code[0] = '\0';
		in[i].already = 0;
		if ((found = find_recorded(&q, &in[i])) < 0)
			goto fail;
		if (found)
			continue;
		if (store_exec_sql(st->db, "SAVEPOINT one_input", err, errlen) != STORE_OK)
			goto out;
		rc = record_one(st->db, &q, &in[i], 0);
		if (rc == -1 && store_failure(st->db))
			goto fail;
		if (rc != 0) {
			/* this input alone: undo what it wrote, and record it as rejected */
			char buf[1200];
			json_t *e;
			if (rc == -3) {
				/* a report for no round of the office: refused, and told the open ones */
				snprintf(buf, sizeof(buf), "%s", in[i].record_error);
			} else {
				snprintf(in[i].record_code, sizeof(in[i].record_code), "R_RECORD");
				snprintf(in[i].record_error, sizeof(in[i].record_error), "%s",
				    rc == -2 ? "the audit entry cannot be written" : sqlite3_errmsg(st->db));
				snprintf(buf, sizeof(buf), "vanthud không ghi nhận được tệp này (%s); tệp được "
				    "giữ lại, văn thư đã được báo trong nhật ký", in[i].record_error);
			}
			e = json_pack("[{s:s, s:i, s:i, s:s}]", "code", in[i].record_code, "line", 0,
			    "column", 0, "message", buf);
			free(in[i].record_errors);
			in[i].record_errors = e ? json_dumps(e, JSON_COMPACT) : NULL;
			json_decref(e);
			if (store_exec_sql(st->db, "ROLLBACK TO one_input", err, errlen) != STORE_OK)
				goto out;
			sqlite3_reset(q.ins_intake);
			rc = record_one(st->db, &q, &in[i], 1);
			if (rc != 0)
				goto fail;
		}
		if (store_exec_sql(st->db, "RELEASE one_input", err, errlen) != STORE_OK)
			goto out;
	}
	finalize_record(&q);
	if (store_exec_sql(st->db, "COMMIT", err, errlen) != STORE_OK) {
		store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
		return STORE_ERR;
	}
	return STORE_OK;
fail:
	store_db_err(st->db, "record inputs", err, errlen);
out:
	finalize_record(&q);
	store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
	return STORE_ERR;
}

/* ---- lists ---- */

#define REPORT_LIST_COLUMNS "id, unit_code, unit_name, round_id, number, symbol, report_date, " \
	"summary, received_at, sha256, size, supersedes, superseded_by, after_close"

int store_reports_list(struct store *st, const struct store_report_filter *f, store_row_cb cb,
    void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT " REPORT_LIST_COLUMNS " FROM reports "
	        "WHERE (?1 IS NULL OR unit_code = ?1) AND (?2 IS NULL OR round_id = ?2) "
	        "AND (?3 IS NULL OR received_at >= ?3) AND id < ?4 ORDER BY id DESC LIMIT ?5",
	        -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "reports", err, errlen);
		return STORE_ERR;
	}
	store_bind_text(s, 1, f->unit);
	store_bind_text(s, 2, f->round);
	store_bind_text(s, 3, f->since);
	sqlite3_bind_int64(s, 4, f->before > 0 ? f->before : INT64_MAX);
	sqlite3_bind_int(s, 5, f->limit);
	rc = store_emit_rows(st->db, s, cb, arg, err, errlen, NULL);
	sqlite3_finalize(s);
	return rc;
}

int store_report_get(struct store *st, int64_t id, store_row_cb cb, store_row_cb ind_cb,
    store_row_cb intake_cb, void *arg, char *err, size_t errlen)
{
	static const char *const sql[3] = {
		"SELECT id, unit_code, unit_name, round_id, req_number, req_symbol, req_date, number, "
		"symbol, place, report_date, summary, period_from, period_to, signer_authority, "
		"signer_title, signer_name, content, sha256, size, received_at, supersedes, "
		"superseded_by, after_close FROM reports WHERE id = ?",
		"SELECT code, name, measure, value, target FROM indicators WHERE report_id = ? "
		"ORDER BY position",
		"SELECT id AS receipt, source_name, source_folder, received_at, owner_uid, outcome, "
		"supersedes FROM intake WHERE report_id = ? AND outcome <> 'duplicate' ORDER BY id LIMIT 1",
	};
	store_row_cb cbs[3] = { cb, ind_cb, intake_cb };
	int rows = 0;

	for (int i = 0; i < 3; i++) {
		sqlite3_stmt *s = NULL;
		int rc;
		if (sqlite3_prepare_v2(st->db, sql[i], -1, &s, NULL) != SQLITE_OK) {
			store_db_err(st->db, "report", err, errlen);
			return STORE_ERR;
		}
		sqlite3_bind_int64(s, 1, id);
		rc = store_emit_rows(st->db, s, cbs[i], arg, err, errlen, i == 0 ? &rows : NULL);
		sqlite3_finalize(s);
		if (rc != STORE_OK)
			return rc;
		if (i == 0 && rows == 0) {
			store_set_err(err, errlen, "no report %lld", (long long)id);
			return STORE_INVALID;
		}
	}
	return STORE_OK;
}

int store_report_original(struct store *st, int64_t id, int64_t offset, size_t max, char *buf,
    size_t *len, int64_t *total, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc = STORE_ERR, step;

	*len = 0;
	*total = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT length(original), substr(original, ?2 + 1, ?3) "
	        "FROM reports WHERE id = ?1", -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "original", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, offset);
	sqlite3_bind_int64(s, 3, (int64_t)max);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		*total = sqlite3_column_int64(s, 0);
		*len = (size_t)sqlite3_column_bytes(s, 1);
		if (*len > max)
			*len = max;
		memcpy(buf, sqlite3_column_blob(s, 1), *len);
		rc = STORE_OK;
	} else if (step == SQLITE_DONE) {
		store_set_err(err, errlen, "no report %lld", (long long)id);
		rc = STORE_INVALID;
	} else {
		store_db_err(st->db, "original", err, errlen);
	}
	sqlite3_finalize(s);
	return rc;
}

int store_rejected_list(struct store *st, int64_t before, int limit, store_row_cb cb, void *arg,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT id AS receipt, source_name, source_folder, "
	        "received_at, unit_code, sha256, size, errors FROM intake WHERE outcome = 'rejected' "
	        "AND id < ? ORDER BY id DESC LIMIT ?", -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "rejected", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int(s, 2, limit);
	rc = store_emit_rows(st->db, s, cb, arg, err, errlen, NULL);
	sqlite3_finalize(s);
	return rc;
}

