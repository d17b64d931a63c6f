/*
 * store_priv.h: what the store's files share and nothing outside them
 * sees: the connection and the helpers every query uses. Only store files
 * include it (and sqlite3.h).
 */
#ifndef VANTHU_STORE_PRIV_H
#define VANTHU_STORE_PRIV_H

#include <jansson.h>
#include <sqlite3.h>

#include "store.h"

struct store {
	sqlite3 *db;   /* owned */
	char *path;    /* owned */
	int batch;     /* a batch of the exchange's changes is open (store_exchange_batch_begin) */
};

void store_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* err = "what: " and SQLite's message for db's last error, naming the failed call and errno. */
void store_db_err(sqlite3 *db, const char *what, char *err, size_t errlen);
/* Runs sql (no rows); STORE_OK or STORE_ERR with err. */
int store_exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen);
/* Appends an audit entry with a JSON detail, which it takes (and frees); NULL fails. 0 or -1. */
int store_audit_json(sqlite3 *db, int64_t uid, const char *actor, const char *action,
    const char *object, json_t *detail, char *err, size_t errlen);
/* Binds v, or NULL when v is NULL. */
void store_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Hands every row of s to cb as columns (*rows counts them when not NULL). */
int store_emit_rows(sqlite3 *db, sqlite3_stmt *s, store_row_cb cb, void *arg, char *err,
    size_t errlen, int *rows);
/* Inside the caller's transaction: a document with its revision 1 and "create" entry; 1 (and
 * that document's id in *id) when a live document has its origin already, nothing done. */
int store_doc_insert(sqlite3 *db, const struct store_doc_new *d, int64_t *id, char *err,
    size_t errlen);
/* Inside the caller's transaction: a round; 1 when one with that id exists (nothing done). */
int store_round_insert(sqlite3 *db, const struct store_round_new *r, char *err, size_t errlen);

/* Inside the caller's transaction: a signature and the PDF it made (store_sign.c). A leader's
 * replaces the document's signed PDF and ends its pending signing; the organisation's is the
 * issued original. 0 or -1. */
int store_signature_insert(sqlite3 *db, int64_t id, const struct store_signed_pdf *p,
    const char *login, char *err, size_t errlen);

#endif
