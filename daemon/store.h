/* store.h: the durable store, one SQLite file (see store.c). */
#ifndef VANTHU_STORE_H
#define VANTHU_STORE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "hash.h"
#include "report.h"
#include "symbol.h"

#define STORE_SCHEMA_VERSION 12

enum store_rc {
	STORE_OK = 0,
	STORE_ERR = -1,     /* I/O, full disk, out of memory: err says which */
	STORE_FOREIGN = -2, /* the file is not a vanthu database; it was not touched */
	STORE_CORRUPT = -3, /* quick_check failed; it was not touched */
	STORE_NEWER = -4,   /* written by a newer vanthu (schema above ours) */
	STORE_INVALID = -5, /* the caller's request cannot be done (err says why) */
	STORE_DONE = -6,    /* what was asked was done already (a number voided twice) */
};

struct store;

struct store_audit_entry {
	int64_t id;
	const char *at;        /* UTC, ISO 8601 with milliseconds */
	int64_t uid;           /* -1 for the daemon itself */
	const char *actor;     /* login name, or "vanthud" */
	const char *action;    /* e.g. daemon.start, backup */
	const char *object;    /* what it acted on, "" when nothing */
	const char *detail;
	const char *prev_hash; /* 64 hex digits */
	const char *hash;
};

struct store_stats {
	int schema_version;
	int64_t audit_entries;
	int64_t reports;       /* unit reports kept, superseded ones included */
	int64_t rejected;      /* inputs rejected */
	int64_t inputs;        /* inputs recorded, whatever their outcome */
	int64_t documents;     /* outgoing documents, in every state */
	int64_t file_bytes;    /* the database file and its WAL */
};

/*
 * Sends SQLite's own reports of disk errors (the system call, the file, the
 * errno) to the daemon's log. Only before the first database is opened.
 */
int store_log_sqlite_errors(void);

/*
 * Opens (creating or migrating) the database at path. A file that is not a
 * vanthu database, is corrupt, or is from a newer vanthu is refused and left
 * untouched. On failure err holds a sentence for the log.
 */
int store_open(const char *path, struct store **out, char *err, size_t errlen);
/* The same checks as store_open, read-only, for `vanthud -n`; a missing file is fine. */
int store_probe(const char *path, char *err, size_t errlen);
void store_close(struct store *st);
const char *store_path(const struct store *st);

int store_stats(struct store *st, struct store_stats *out, char *err, size_t errlen);

/* Appends one entry to the hash-chained, append-only audit trail. */
int store_audit_append(struct store *st, int64_t uid, const char *actor, const char *action,
    const char *object, const char *detail, char *err, size_t errlen);
/* Newest first, at most limit entries with id below before (0: from the newest). */
typedef int (*store_audit_cb)(const struct store_audit_entry *e, void *arg);
int store_audit_list(struct store *st, int64_t before, int limit, store_audit_cb cb, void *arg,
    char *err, size_t errlen);
/*
 * Recomputes the chain. *bad_id is 0 when every entry matches, else the id
 * of the first entry whose hash or link does not. *checked counts entries.
 */
int store_audit_verify(struct store *st, int64_t *bad_id, int64_t *checked, char *err, size_t errlen);

/*
 * A file intake takes from incoming/, recorded before it is moved into
 * claimed/ under its claim number: where it was, its name exactly as the
 * unit gave it, and what the scan saw (to tell a file that changed after it
 * was judged complete).
 */
struct store_claim {
	int64_t id;                  /* out: the claim number, the file's name in claimed/ */
	const char *folder;          /* its folder of incoming/: "", a unit code, "@login" */
	const char *name;            /* the raw name: any bytes but NUL, at most NAME_MAX */
	int64_t dev, ino, size, mtime_ns;
};
/* Records n claims in one transaction (each gets its id, never reused). */
int store_claims_add(struct store *st, struct store_claim *c, size_t n, char *err, size_t errlen);
/* Forgets claims whose file never reached claimed/. */
int store_claims_drop(struct store *st, const int64_t *ids, size_t n, char *err, size_t errlen);
/* The claimed file changed after it was judged complete: it is taken once this look settles. */
int store_claim_resettle(struct store *st, int64_t id, int64_t dev, int64_t ino, int64_t size,
    int64_t mtime_ns, char *err, size_t errlen);
/* Every claim not yet recorded (ids ascending, malloc'd). */
int store_claims_list(struct store *st, int64_t **ids, size_t *n, char *err, size_t errlen);

enum store_claim_state {
	STORE_CLAIM_UNKNOWN = 0,   /* neither a claim nor a recorded input has that name */
	STORE_CLAIM_PENDING = 1,   /* claimed, not yet recorded */
	STORE_CLAIM_RECORDED = 2,  /* recorded: its intake row has the name */
};
struct store_claim_info {
	enum store_claim_state state;
	char folder[NAME_MAX + 1];
	char name[NAME_MAX + 1];     /* raw */
	int64_t dev, ino, size, mtime_ns;  /* PENDING only */
	int settle;                  /* PENDING: it changed once; take it when settled */
};
/* What is known of the file claimed/<claimed_name>. */
int store_claim_lookup(struct store *st, const char *claimed_name, struct store_claim_info *out,
    char *err, size_t errlen);

struct store_doc_new;
struct store_round_new;

/* One input from the spool, recorded with its outcome in store_record_inputs. */
struct store_input {
	/* in */
	const char *claimed_name;    /* unique name in claimed/: makes recording idempotent */
	int64_t claim_id;            /* its claim, forgotten once recorded; 0 when none */
	const char *source_name;     /* the name as shown (names.h): valid UTF-8 */
	const char *source_raw;      /* the name exactly as dropped */
	const char *source_folder, *received_at;
	int64_t owner_uid;
	const char *sha256;
	int64_t size;
	const void *original;        /* the bytes, for a report; may be NULL when rejected */
	size_t original_len;
	const struct report *report; /* NULL: rejected, or a document */
	const struct store_doc_new *doc; /* a draft dropped in the spool by a drafter, or NULL */
	const struct store_round_new *round; /* a reporting round dropped in the spool, or NULL */
	const char *unit_code, *round_id; /* when known, even if rejected; else NULL */
	const char *errors_json;     /* "[]" when none */
	int rounds_optional;         /* 1: a report may name a round that is not in the database */
	/* out */
	int64_t id;                  /* the receipt number */
	char outcome[16];            /* accepted, duplicate, superseding, rejected */
	int64_t report_id;           /* the new report, or for a duplicate the existing one */
	int64_t supersedes;          /* superseding: the report it replaces */
	int64_t document_id;         /* the draft created from a document input */
	char at[40];                 /* received_at as recorded */
	int already;                 /* recorded by an earlier run; nothing written now */
	char record_error[1024];     /* "" or why it could not be recorded as it was */
	char record_code[16];        /* and the code of that: R_RECORD, or R_ROUND (no such round) */
	char after_close[40];        /* a report for a round closed already: its closed_at, else "" */
	char late_deadline[16];      /* a unit's first report after its round's deadline: the
	                              * deadline (YYYY-MM-DD), else "" */
	char *record_errors;         /* owned (free it): the R_RECORD error list, JSON */
};

/*
 * Records n inputs in one transaction. For each: an input already recorded
 * under its claimed_name keeps its first outcome; a report whose bytes the
 * same unit sent before is a duplicate; a report for a (unit, round) that
 * has one is superseding, and the earlier one is linked; else accepted. An
 * input that cannot be recorded for a reason of its own is rolled back
 * alone and recorded as rejected with R_RECORD (record_error says why);
 * so is a report that names a round the database does not have, unless
 * rounds_optional, with R_ROUND (record_error lists the rounds open for its
 * unit); only a failure of the database or the disk fails the batch.
 */
int store_record_inputs(struct store *st, struct store_input *in, size_t n, char *err, size_t errlen);

/* A column of a row handed to a callback: text, integer or NULL. */
struct store_col {
	const char *name;
	int type;            /* 0 NULL, 1 integer, 2 text */
	int64_t i;
	const char *s;
};
typedef int (*store_row_cb)(const struct store_col *cols, int ncols, void *arg);

struct store_report_filter {
	const char *unit;    /* NULL: any */
	const char *round;   /* NULL: any */
	const char *since;   /* YYYY-MM-DD (Vietnam time) or NULL */
	int64_t before;      /* 0: from the newest */
	int limit;
};
/* Reports, newest first. */
int store_reports_list(struct store *st, const struct store_report_filter *f, store_row_cb cb,
    void *arg, char *err, size_t errlen);
/*
 * One report's fields (cb called once; STORE_INVALID when there is no such
 * report), then its indicators (ind_cb once per indicator) and its intake
 * record (intake_cb once).
 */
int store_report_get(struct store *st, int64_t id, store_row_cb cb, store_row_cb ind_cb,
    store_row_cb intake_cb, void *arg, char *err, size_t errlen);
/* Up to max bytes of a report's original from offset; *total is its size. */
int store_report_original(struct store *st, int64_t id, int64_t offset, size_t max, char *buf,
    size_t *len, int64_t *total, char *err, size_t errlen);
/* Rejected inputs, newest first. */
int store_rejected_list(struct store *st, int64_t before, int limit, store_row_cb cb, void *arg,
    char *err, size_t errlen);

/* A new outgoing document: its first revision, in its initial state. */
struct store_doc_new {
	const char *kind, *state;
	const char *summary, *signer_login, *signer_name, *recipients, *archive, *round_id;
	const char *drafting_unit;  /* a công văn's, for its symbol; may be NULL */
	const char *issuer;         /* the issuing body's abbreviation; NULL: the organisation */
	int64_t uid;
	const char *login;
	const void *content;   /* the input XML, UTF-8, NFC */
	size_t content_len;
	const char *sha256;
	const char *note;      /* an edit's reason, shown in the history; may be NULL */
	const char *origin;    /* the source it was drafted from ("meeting:..."); NULL: none. A
	                        * create whose origin a live (not withdrawn) document has already
	                        * is refused: STORE_INVALID, that document's id in *id */
};
/* Creates it, its revision 1 and its "create" history entry in one transaction. */
int store_doc_create(struct store *st, const struct store_doc_new *d, int64_t *id, char *err,
    size_t errlen);

/* A document's row; every string owned (free with store_doc_free). */
struct store_doc {
	int64_t id;
	char *kind, *state, *state_since, *summary, *signer_login, *signer_name;
	int64_t drafter_uid, editor_uid, revision, number;
	char *drafter, *editor, *symbol, *issued_on, *drafting_unit;
	char *out_path, *out_sha256;  /* the issued DOCX, once published */
	char *issuer;                 /* the issuing body; NULL: the organisation */
	char *series;                 /* the register series it was numbered in, once issued */
	char *signed_pdf_path, *signed_pdf_sha256;  /* the PDF the leader signed; NULL: none */
	int64_t signed_revision;      /* the revision the leader signed */
	char *pdf_path, *pdf_sha256;  /* the issued electronic original; NULL: none (yet) */
};
int store_doc_get(struct store *st, int64_t id, struct store_doc *out, char *err, size_t errlen);
void store_doc_free(struct store_doc *d);
/* The same row as columns (for show), with voided_at, voided_by and void_reason from its
 * register entry (null unless its number was voided). STORE_INVALID: no such document. */
int store_doc_row(struct store *st, int64_t id, store_row_cb cb, void *arg, char *err,
    size_t errlen);

/* A new revision of document id from the same input a create takes (d->kind and d->state must
 * still be the row's), in one transaction with its history entry. *revision is the new
 * revision; STORE_INVALID if the document moved on meanwhile. */
int store_doc_edit(struct store *st, int64_t id, const struct store_doc_new *d, int64_t *revision,
    char *err, size_t errlen);

/* A signature put into a PDF: who, with which certificate, and the PDF it made. */
struct store_signed_pdf {
	const char *role;         /* "leader" or "organisation" */
	const char *path;         /* the PDF written (durably, before the record) */
	const char *sha256;
	const char *fingerprint;  /* the certificate's SHA-256 */
	const char *subject;      /* its subject's name */
	const char *signed_at;    /* ISO 8601, +07:00 */
};

/* One step of the state machine, with its history entry and, when asked, the register number. */
struct store_transition {
	int64_t id;
	const char *from, *to, *action, *comment;  /* comment may be NULL */
	int64_t uid;
	const char *login;
	/* numbering: NULL means no number is given. The series the number runs in follows
	 * from it (symbol.h): the year's for a state body, the type's within term for a
	 * Party committee. */
	const struct symbol_of *numbering;  /* body, type, drafting unit, style */
	const char *term;          /* a Party committee's term; NULL for a state body */
	int year;
	const char *kind_label;    /* "Thông báo" for the register */
	const char *issued_on;     /* YYYY-MM-DD, Vietnam time */
	/* the leader's PDF signed at this step, recorded in its transaction; NULL: none */
	const struct store_signed_pdf *signed_pdf;
	/* out */
	int64_t number;
	char symbol[96];
};
int store_doc_transition(struct store *st, struct store_transition *t, char *err, size_t errlen);

struct store_doc_filter {
	const char *state, *kind;  /* NULL: any */
	int64_t drafter_uid;       /* -1: anyone's */
	int64_t before;
	int limit;
};
int store_doc_list(struct store *st, const struct store_doc_filter *f, store_row_cb cb, void *arg,
    char *err, size_t errlen);
/* The document's history entries in order (id, at, uid, actor, action, detail JSON). */
int store_doc_history(struct store *st, int64_t id, store_row_cb cb, void *arg, char *err,
    size_t errlen);
/* A revision (0: the current one): revision, author, at, sha256, content. */
int store_doc_revision(struct store *st, int64_t id, int64_t revision, store_row_cb cb, void *arg,
    char *err, size_t errlen);
/* The current revision's XML (malloc'd, NUL-terminated). STORE_INVALID: no such document. */
int store_doc_content(struct store *st, int64_t id, char **xml, size_t *len, char *err,
    size_t errlen);
/* Records where the issued DOCX is and its SHA-256, with a "publish" history entry. */
int store_doc_set_output(struct store *st, int64_t id, const char *path, const char *sha256,
    int64_t uid, const char *login, char *err, size_t errlen);
/* The issued electronic original of document id, with its signature row and audit entry. */
int store_doc_set_pdf(struct store *st, int64_t id, const struct store_signed_pdf *p,
    int64_t uid, const char *login, char *err, size_t errlen);
/* A leader's signing prepared and waiting for the signature (one per document). */
struct store_sign_pending {
	int64_t document_id;
	char login[72];
	int64_t revision;           /* the revision the prepared PDF shows */
	unsigned char *cert;        /* owned: the signer's certificate, DER */
	size_t certlen;
	char content_sha256[65];    /* what the signature covers */
	char prepared_path[4096];   /* the prepared PDF, written durably */
	char prepared_sha256[65];
	long long range[4];         /* the /ByteRange written into it */
	char signed_at[40];         /* the /M written into it, ISO 8601 +07:00 */
};
int store_sign_pending_put(struct store *st, const struct store_sign_pending *p, char *err,
    size_t errlen);
/* STORE_INVALID: nothing pending for id. */
int store_sign_pending_get(struct store *st, int64_t id, struct store_sign_pending *p, char *err,
    size_t errlen);
void store_sign_pending_free(struct store_sign_pending *p);
/* The signatures of document id, oldest first: role, login, subject, fingerprint, signed_at,
 * pdf_sha256. */
int store_doc_signatures(struct store *st, int64_t id, store_row_cb cb, void *arg, char *err,
    size_t errlen);
/* An electronic copy (bản sao điện tử) of an issued original, numbered per body and year. */
struct store_copy {
	const char *body;
	int year;
	int64_t number;
	int64_t document_id;
	const char *form;        /* "SAO Y", "SAO LỤC" */
	const char *symbol;      /* "01/SY-UBND" */
	const char *made_by;     /* the clerk's login */
	const char *pdf_path, *pdf_sha256;
};
/* The number the next copy of body in year takes (the caller inserts it before another). */
int store_copy_next(struct store *st, const char *body, int year, int64_t *number, char *err,
    size_t errlen);
/* Records a copy whose PDF is written, with a "copy" audit entry. */
int store_copy_insert(struct store *st, const struct store_copy *c, int64_t uid, char *err,
    size_t errlen);
/* Copy number of document id: its file, SHA-256 and symbol. STORE_INVALID: no such copy. */
int store_copy_file(struct store *st, int64_t id, int64_t number, char *path, size_t pathlen,
    char sha[65], char *symbol, size_t symlen, char *err, size_t errlen);
/* The copies of document id: number, form, symbol, made_at, made_by, pdf_sha256. */
int store_doc_copies(struct store *st, int64_t id, store_row_cb cb, void *arg, char *err,
    size_t errlen);
/* Issued documents whose DOCX is not written yet, or whose leader-signed PDF is not yet
 * numbered and sealed (at most max ids). */
int store_docs_unpublished(struct store *st, int64_t *ids, size_t max, size_t *n, char *err,
    size_t errlen);

/*
 * Which register entries: one series in number order (series: a state body's
 * year "2026", a Party committee's "2025-2030/KH"), or with term set, a Party
 * committee's whole term ordered by type then number (type NULL: every type).
 */
struct store_register_query {
	const char *body;
	const char *series;
	const char *term, *type;
};
/* The entries, voided ones included (number, symbol, ..., series, term, type, year). */
int store_register_list(struct store *st, const struct store_register_query *q, store_row_cb cb,
    void *arg, char *err, size_t errlen);
/* Voids a number with a reason; it stays in the register. STORE_INVALID if there is no such
 * number, STORE_DONE if it was voided already. */
int store_register_void(struct store *st, const char *body, const char *series, int64_t number,
    const char *reason, int64_t uid, const char *login, char *err, size_t errlen);
/*
 * Sets where a series continues a paper register: its first number in vanthu
 * is next. Once per series, and only before its first issue in vanthu, so a
 * number is never given twice nor the series run backwards; with its
 * "register.start" audit entry. STORE_INVALID otherwise, err "issued:N" (N
 * entries already) or "set:N" (set before, to N).
 */
int store_register_start(struct store *st, const char *body, const char *series, int64_t next,
    const char *reason, int64_t uid, const char *login, char *err, size_t errlen);
/* The number the next issue in series gets, and its set start (0: none). */
int store_register_next(struct store *st, const char *body, const char *series, int64_t *next,
    int64_t *start, char *err, size_t errlen);

/* A new reporting round. */
struct store_round_new {
	const char *id, *subject, *req_number, *req_symbol, *req_date, *req_issuer;
	const char *deadline, *remind_on;   /* YYYY-MM-DD; remind_on may be NULL */
	const char *close_on;               /* the last day reports are taken (as late) */
	const char *conclusion_kind;
	const void *input;                  /* the round's XML (UTF-8, NFC) */
	size_t input_len;
	const char *const *units;           /* the unit codes it waits for */
	size_t nunits;
	int64_t uid;
	const char *login;
};
/* STORE_INVALID when a round with that id exists. */
int store_round_create(struct store *st, const struct store_round_new *r, char *err, size_t errlen);
int store_rounds_list(struct store *st, int open_only, store_row_cb cb, void *arg, char *err,
    size_t errlen);
/* One round's row, with its input XML. STORE_INVALID when none. */
int store_round_row(struct store *st, const char *id, store_row_cb cb, void *arg, char *err,
    size_t errlen);
/* Each required unit: unit_code, first_at (its first report), report_id (current), reports. */
int store_round_units(struct store *st, const char *id, store_row_cb cb, void *arg, char *err,
    size_t errlen);
/* The round whose reminder is document doc_id: its id, or STORE_INVALID when none. */
int store_round_of_reminder(struct store *st, int64_t doc_id, char *id, size_t idlen, char *err,
    size_t errlen);
/* The figures of the round's current reports: unit_code, code, name, measure, value, target,
 * base (a percentage's base indicator, or null). */
int store_round_figures(struct store *st, const char *id, store_row_cb cb, void *arg, char *err,
    size_t errlen);
/*
 * The round's reminder (closing = 0) or its closing (closing = 1), with the
 * draft it produces (doc may be NULL), in one transaction, at most once:
 * STORE_INVALID when that step was taken already. A closing keeps counts
 * (JSON: the on_time, late and missing its conclusion was drafted from).
 */
int store_round_step(struct store *st, const char *id, int closing, const struct store_doc_new *doc,
    const char *reason, const char *counts, int64_t uid, const char *login, int64_t *doc_id,
    char *err, size_t errlen);

/*
 * A second connection to an open database for a worker thread: no checks,
 * no migrations (store_open did them). The caller uses it from one thread.
 */
int store_open_worker(const char *path, struct store **out, char *err, size_t errlen);

/*
 * A consistent copy of the database at dbpath, taken on a connection of its
 * own (so it may run on a worker thread while the daemon serves), written to
 * a temporary name beside dest, fsynced, checked and renamed to dest. The
 * temporary files a backup to dest left when its daemon was killed, older
 * than since (this daemon's start, real time to the nanosecond: a daemon
 * killed and started again within one second leaves files of that second),
 * are removed first.
 */
int store_backup(const char *dbpath, const char *dest, const struct timespec *since,
    int64_t *bytes, char *err,
    size_t errlen);

#endif
