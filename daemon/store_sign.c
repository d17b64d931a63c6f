/*
 * store_sign.c: what electronic signing records: a leader's signing in two
 * steps (what the first step prepared, until the second comes), each
 * signature put into a document's PDF (who, with which certificate, the
 * PDF it made), the issued electronic original of a document, and its
 * electronic copies, numbered per body and year without gaps.
 */
#include "store_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

int store_signature_insert(sqlite3 *db, int64_t id, const struct store_signed_pdf *p,
    const char *login, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int leader = strcmp(p->role, "leader") == 0;

	if (sqlite3_prepare_v2(db, "INSERT INTO signatures (document_id, role, login, fingerprint, "
	        "subject, signed_at, pdf_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &s, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, p->role, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, login, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, p->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, p->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, p->signed_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, p->sha256, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(db, leader ?
	        "UPDATE documents SET signed_pdf_path = ?, signed_pdf_sha256 = ?, "
	        "signed_revision = revision, pdf_path = NULL, pdf_sha256 = NULL WHERE id = ?" :
	        "UPDATE documents SET pdf_path = ?, pdf_sha256 = ? WHERE id = ?", -1, &s, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, p->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, p->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	s = NULL;
	if (leader) {
		if (sqlite3_prepare_v2(db, "DELETE FROM sign_pending WHERE document_id = ?", -1, &s,
		        NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_int64(s, 1, id);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto fail;
		sqlite3_finalize(s);
	}
	return 0;
fail:
	store_db_err(db, "signature", err, errlen);
	sqlite3_finalize(s);
	return -1;
}

int store_doc_set_pdf(struct store *st, int64_t id, const struct store_signed_pdf *p,
    int64_t uid, const char *login, char *err, size_t errlen)
{
	char object[48], ignored[8];

	if (store_exec_sql(st->db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
		return STORE_ERR;
	if (store_signature_insert(st->db, id, p, login, err, errlen) != 0)
		goto fail;
	snprintf(object, sizeof(object), "document/%lld", (long long)id);
	if (store_audit_json(st->db, uid, login, "seal", object, json_pack("{s:s, s:s, s:s, s:s}",
	        "path", p->path, "sha256", p->sha256, "fingerprint", p->fingerprint,
	        "subject", p->subject), err, errlen) != 0)
		goto fail;
	return store_exec_sql(st->db, "COMMIT", err, errlen);
fail:
	store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
	return STORE_ERR;
}

int store_sign_pending_put(struct store *st, const struct store_sign_pending *p, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char at[40];
	int rc = STORE_ERR;

	clock_iso_utc(at, sizeof(at));
	if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO sign_pending (document_id, login, "
	        "revision, certificate, content_sha256, prepared_path, prepared_sha256, byte_range, "
	        "signed_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &s, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(s, 1, p->document_id);
	sqlite3_bind_text(s, 2, p->login, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, p->revision);
	sqlite3_bind_blob(s, 4, p->cert, (int)p->certlen, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, p->content_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, p->prepared_path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, p->prepared_sha256, -1, SQLITE_STATIC);
	char range[96];
	snprintf(range, sizeof(range), "%lld %lld %lld %lld", p->range[0], p->range[1], p->range[2],
	    p->range[3]);
	sqlite3_bind_text(s, 8, range, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 9, p->signed_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, at, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_DONE)
		rc = STORE_OK;
out:
	if (rc != STORE_OK)
		store_db_err(st->db, "sign_pending", err, errlen);
	sqlite3_finalize(s);
	return rc;
}

static int copy_text(sqlite3_stmt *s, int col, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	if (t == NULL || strlen((const char *)t) >= len)
		return -1;
	memcpy(out, t, strlen((const char *)t) + 1);
	return 0;
}

int store_sign_pending_get(struct store *st, int64_t id, struct store_sign_pending *p, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int step, rc = STORE_ERR;

	memset(p, 0, sizeof(*p));
	if (sqlite3_prepare_v2(st->db, "SELECT login, revision, certificate, content_sha256, "
	        "prepared_path, prepared_sha256, signed_at, byte_range FROM sign_pending "
	        "WHERE document_id = ?",
	        -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "sign_pending", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, id);
	step = sqlite3_step(s);
	if (step == SQLITE_DONE) {
		store_set_err(err, errlen, "nothing prepared for document %lld", (long long)id);
		rc = STORE_INVALID;
	} else if (step == SQLITE_ROW) {
		int n = sqlite3_column_bytes(s, 2);
		p->document_id = id;
		p->revision = sqlite3_column_int64(s, 1);
		if (copy_text(s, 0, p->login, sizeof(p->login)) == 0 && n > 0 &&
		    (p->cert = malloc((size_t)n)) != NULL &&
		    copy_text(s, 3, p->content_sha256, sizeof(p->content_sha256)) == 0 &&
		    copy_text(s, 4, p->prepared_path, sizeof(p->prepared_path)) == 0 &&
		    copy_text(s, 5, p->prepared_sha256, sizeof(p->prepared_sha256)) == 0 &&
		    copy_text(s, 6, p->signed_at, sizeof(p->signed_at)) == 0 &&
		    sqlite3_column_text(s, 7) != NULL &&
		    sscanf((const char *)sqlite3_column_text(s, 7), "%lld %lld %lld %lld", &p->range[0],
		        &p->range[1], &p->range[2], &p->range[3]) == 4) {
			memcpy(p->cert, sqlite3_column_blob(s, 2), (size_t)n);
			p->certlen = (size_t)n;
			rc = STORE_OK;
		} else {
			store_set_err(err, errlen, "sign_pending row %lld unreadable", (long long)id);
		}
	} else {
		store_db_err(st->db, "sign_pending", err, errlen);
	}
	sqlite3_finalize(s);
	if (rc != STORE_OK)
		store_sign_pending_free(p);
	return rc;
}

void store_sign_pending_free(struct store_sign_pending *p)
{
	free(p->cert);
	p->cert = NULL;
	p->certlen = 0;
}

int store_doc_signatures(struct store *st, int64_t id, store_row_cb cb, void *arg, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, "SELECT role, login, subject, fingerprint, signed_at, "
	        "pdf_sha256 FROM signatures WHERE document_id = ? ORDER BY id", -1, &s, NULL) !=
	    SQLITE_OK) {
		store_db_err(st->db, "signatures", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, id);
	int rc = store_emit_rows(st->db, s, cb, arg, err, errlen, NULL);
	sqlite3_finalize(s);
	return rc;
}

int store_copy_next(struct store *st, const char *body, int year, int64_t *number, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc = STORE_ERR;

	if (sqlite3_prepare_v2(st->db, "SELECT coalesce(max(number), 0) + 1 FROM copies WHERE "
	        "body = ? AND year = ?", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, body, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, year);
		if (sqlite3_step(s) == SQLITE_ROW) {
			*number = sqlite3_column_int64(s, 0);
			rc = STORE_OK;
		}
	}
	if (rc != STORE_OK)
		store_db_err(st->db, "copies", err, errlen);
	sqlite3_finalize(s);
	return rc;
}

int store_copy_insert(struct store *st, const struct store_copy *c, int64_t uid, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char at[40], object[48], ignored[8];

	clock_iso_utc(at, sizeof(at));
	if (store_exec_sql(st->db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
		return STORE_ERR;
	if (sqlite3_prepare_v2(st->db, "INSERT INTO copies (body, year, number, document_id, form, "
	        "symbol, made_at, made_by, pdf_path, pdf_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	        -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, c->body, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, c->year);
	sqlite3_bind_int64(s, 3, c->number);
	sqlite3_bind_int64(s, 4, c->document_id);
	sqlite3_bind_text(s, 5, c->form, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, c->symbol, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, c->made_by, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, c->pdf_path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, c->pdf_sha256, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	s = NULL;
	snprintf(object, sizeof(object), "document/%lld", (long long)c->document_id);
	if (store_audit_json(st->db, uid, c->made_by, "copy", object, json_pack("{s:s, s:s, s:s, "
	        "s:s}", "form", c->form, "symbol", c->symbol, "path", c->pdf_path, "sha256",
	        c->pdf_sha256), err, errlen) != 0)
		goto fail_quiet;
	return store_exec_sql(st->db, "COMMIT", err, errlen);
fail:
	store_db_err(st->db, "copy", err, errlen);
fail_quiet:
	sqlite3_finalize(s);
	store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
	return STORE_ERR;
}

int store_copy_file(struct store *st, int64_t id, int64_t number, char *path, size_t pathlen,
    char sha[65], char *symbol, size_t symlen, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int step, rc = STORE_ERR;

	if (sqlite3_prepare_v2(st->db, "SELECT pdf_path, pdf_sha256, symbol FROM copies WHERE "
	        "document_id = ? AND number = ? ORDER BY year DESC LIMIT 1", -1, &s, NULL) !=
	    SQLITE_OK) {
		store_db_err(st->db, "copies", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, number);
	step = sqlite3_step(s);
	if (step == SQLITE_DONE) {
		store_set_err(err, errlen, "no copy %lld of document %lld", (long long)number,
		    (long long)id);
		rc = STORE_INVALID;
	} else if (step == SQLITE_ROW && copy_text(s, 0, path, pathlen) == 0 &&
	    copy_text(s, 1, sha, 65) == 0 && copy_text(s, 2, symbol, symlen) == 0) {
		rc = STORE_OK;
	} else {
		store_db_err(st->db, "copies", err, errlen);
	}
	sqlite3_finalize(s);
	return rc;
}

int store_doc_copies(struct store *st, int64_t id, store_row_cb cb, void *arg, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, "SELECT number, form, symbol, made_at, made_by, pdf_sha256 "
	        "FROM copies WHERE document_id = ? ORDER BY year, number", -1, &s, NULL) !=
	    SQLITE_OK) {
		store_db_err(st->db, "copies", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, id);
	int rc = store_emit_rows(st->db, s, cb, arg, err, errlen, NULL);
	sqlite3_finalize(s);
	return rc;
}
