/*
 * store_exchange.h: what the exchange between offices keeps in the store (store_exchange.c):
 * the outbox of packages and statuses to send, the sender's deliveries and the statuses they
 * brought back, the incoming register (sổ văn bản đến) with its gapless yearly số đến, the
 * phiếu giải quyết (assignments), progress, deadline extensions, and refused packages.
 */
#ifndef VANTHU_STORE_EXCHANGE_H
#define VANTHU_STORE_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * A batch: the exchange's changes between begin and end (the store_xout_*, store_delivery_*,
 * store_incoming_* and store_doc_* functions of this header) are each a savepoint of one
 * transaction, committed (keep 1) or rolled back (keep 0) together with one flush of the
 * database: how a burst of arrivals is registered at the disk's pace, not one flush each. A
 * change that fails inside it is undone alone. No other store function may be called while a
 * batch is open. STORE_OK, or STORE_ERR with err (end with keep 1: the commit failed and
 * everything in the batch is undone).
 */
int store_exchange_batch_begin(struct store *st, char *err, size_t errlen);
int store_exchange_batch_end(struct store *st, int keep, char *err, size_t errlen);

/* ---- the outbox: every message to another office, sent until its transport took it ---- */

struct store_xout_new {
	const char *msg_id;     /* unique: the Nats-Msg-Id (DocumentId + recipient + kind/code) */
	const char *kind;       /* "package" or "status" */
	const char *recipient;  /* the receiving organisation's id */
	int64_t document_id;    /* the outgoing document it carries or recalls; 0: none */
	int64_t incoming_id;    /* the incoming document a status is about; 0: none */
	int code;               /* a status's code; 0 for a package */
	const char *path;       /* the payload's file (packages, written durably first); or NULL */
	const char *payload;    /* the payload itself (statuses: edXML text); or NULL */
};

/*
 * Adds messages to the outbox in one transaction; a msg_id there already is skipped (so a
 * retried call adds nothing). *added counts the new ones (may be NULL). Due at once.
 */
int store_xout_add(struct store *st, const struct store_xout_new *m, size_t n, int *added,
    char *err, size_t errlen);
/*
 * Messages not sent yet whose next attempt is due at or before now (ISO 8601 UTC), oldest
 * first, at most limit: columns id, msg_id, kind, recipient, document_id, incoming_id, code,
 * path, payload, attempts.
 */
int store_xout_due(struct store *st, const char *now, int limit, store_row_cb cb, void *arg,
    char *err, size_t errlen);
/* The transport took message id (at: ISO 8601 UTC). Once; later calls change nothing. */
int store_xout_sent(struct store *st, int64_t id, const char *at, char *err, size_t errlen);
/* An attempt failed: attempts + 1, last_error, next attempt at next_at (ISO 8601 UTC). */
int store_xout_failed(struct store *st, int64_t id, const char *error, const char *next_at,
    char *err, size_t errlen);
/* How many messages wait; *oldest is the created_at of the oldest (or "" when none). */
int store_xout_pending(struct store *st, int64_t *count, char *oldest, size_t oldestlen,
    char *err, size_t errlen);

/* ---- the sender's deliveries ---- */

struct store_delivery_new {
	const char *recipient_id;  /* the organisation's id; NULL: the recipient gets paper */
	const char *name;          /* as the Nơi nhận names it */
};

/*
 * Records who an issued document goes to (one row per recipient, in the given order) and, in the
 * same transaction, the outbox packages: one per recipient with an id, msg_id
 * "<doc_key>|<recipient>|package", payload file package_path. doc_key is the edXML DocumentId.
 * An "exchange.send" audit entry by the daemon lists them. STORE_DONE when the document has
 * its deliveries already (nothing done).
 */
int store_delivery_plan(struct store *st, int64_t document_id, const char *doc_key,
    const char *package_path, const struct store_delivery_new *r, size_t n, char *err,
    size_t errlen);
/*
 * The issued documents whose deliveries were never planned (a crash between issue and plan),
 * issued since the exchange was first started on this database (recorded by the first call:
 * documents issued before are never sent): columns id, oldest first, at most limit.
 */
int store_delivery_unplanned(struct store *st, int limit, store_row_cb cb, void *arg, char *err,
    size_t errlen);
/* The document's delivery key (DocumentId) into out; STORE_INVALID when it has no deliveries. */
int store_delivery_key(struct store *st, int64_t document_id, char *out, size_t outlen,
    char *err, size_t errlen);

struct store_status_in {
	const char *doc_key;      /* ResponseFor/DocumentId: ours */
	const char *recipient;    /* From/OrganId: who answers */
	int code;
	const char *description;  /* may be "" */
	const char *at;           /* the sender's Timestamp, "YYYY-MM-DD HH:MM:SS" (Vietnam time) */
	const char *staff;        /* StaffInfo, "Staff (Department)"; may be NULL */
	const char *via;          /* "nats" or "folder" */
};
/*
 * Records a status a recipient sent back, with its received time: STORE_OK (new), STORE_DONE
 * (that recipient had sent that code for that document already: nothing done), STORE_INVALID
 * (no delivery of that document to that recipient: err says which). Updates the delivery's
 * last status (the highest-ranked: 06 > 05 > 04 > 03 > 01; 02 and the recall answers 15/16
 * always shown) and appends an "exchange.status" audit entry.
 */
int store_delivery_status(struct store *st, const struct store_status_in *s, char *err,
    size_t errlen);
/*
 * A document's deliveries in order: recipient_id (NULL: paper), name, via ("exchange" or
 * "paper"), planned_at, sent_at (when the transport took the package; NULL: not yet),
 * status (last code, NULL: none), status_text, status_at, arrived_at (when 01 came; NULL: not
 * yet), recall (13 sent: its time; NULL), recall_answer (15/16 or NULL), recall_text.
 */
int store_delivery_list(struct store *st, int64_t document_id, store_row_cb cb, void *arg,
    char *err, size_t errlen);
/* Every status received for the document, oldest first: recipient_id, code, description, at,
 * received_at, staff, via. */
int store_delivery_history(struct store *st, int64_t document_id, store_row_cb cb, void *arg,
    char *err, size_t errlen);
/*
 * A recall (thu hồi) of an issued document: marks each delivery by exchange recalled and, in the
 * same transaction, adds the 13 statuses (m, built by the caller, one per recipient) to the
 * outbox, with an "exchange.recall" audit entry (uid, login, reason). STORE_DONE when recalled
 * already; STORE_INVALID when it has no delivery by exchange.
 */
int store_delivery_recall(struct store *st, int64_t document_id, const char *reason,
    const struct store_xout_new *m, size_t n, int64_t uid, const char *login, char *err,
    size_t errlen);

/* ---- the incoming register (sổ văn bản đến) ---- */

enum store_incoming_state {
	/* text in the database and the protocol */
	XIN_REGISTERED, /* "registered": numbered, waits for the leader */
	XIN_ASSIGNED,   /* "assigned": a phiếu giải quyết names who handles it */
	XIN_PROGRESS,   /* "progress": an assignee reported progress */
	XIN_DONE,       /* "done": a reply was issued, or it was closed */
	XIN_RECALLED,   /* "recalled": its sender took it back (we agreed) */
};

struct store_incoming_new {
	const char *via;          /* "nats", "folder" or "paper" */
	const char *recipient;    /* our organisation id it was addressed to; NULL for paper */
	const char *sender_id;    /* the sender's id; NULL for paper */
	const char *sender_name;  /* required: Tác giả */
	const char *doc_key;      /* the edXML DocumentId; NULL for paper */
	const char *code;         /* "12/TB-UBND" (required) */
	const char *issued_on;    /* YYYY-MM-DD (required) */
	const char *type_name;    /* "Thông báo" (required) */
	const char *subject;      /* required */
	int priority;             /* 0..4 */
	const char *due_date;     /* the sender's DueDate, YYYY-MM-DD; NULL */
	const char *signer;       /* "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / Nguyễn Văn A"; NULL */
	const char *to_places;    /* the other Nơi nhận, "; "-separated; NULL */
	int pages;                /* 0: unknown */
	int business;             /* edXML BussinessDocType */
	const char *response_for; /* the DocumentId of ours it answers; NULL */
	const char *package_path; /* the package as received, kept (durably, before this); NULL */
	const char *pdf_path;     /* its PDF, kept; NULL */
	const char *pdf_sha256;
	const char *verify;       /* JSON text: the PDF's signatures as `pdf verify` saw them; NULL */
	const char *arrived_at;   /* ISO 8601 UTC (when the transport delivered it) */
	int year;                 /* the register's year (Vietnam time of arrival) */
	int64_t uid;              /* who registered it: -1 for the daemon */
	const char *login;        /* "vanthud" for the daemon */
	/* statuses to send in the same transaction (01 and 03 to the sender), or none */
	const struct store_xout_new *statuses;
	size_t nstatuses;
};
/*
 * Registers an arrival: the next số đến of its year (gapless from 1, under the write lock, a
 * UNIQUE (year, number)), state "registered", an "incoming.register" audit entry, and the
 * statuses in the outbox, all in one transaction. *id and *number are the new entry's. The same
 * (sender_id, doc_key) registered before gives STORE_DONE with that entry's id and number in *id
 * and *number (nothing done).
 */
int store_incoming_register(struct store *st, const struct store_incoming_new *n, int64_t *id,
    int64_t *number, char *err, size_t errlen);

/* A package refused (02 sent back): kept apart from the register, never numbered. */
struct store_refused_new {
	const char *via, *sender_id, *doc_key; /* sender_id/doc_key may be NULL (unreadable) */
	const char *reason;                    /* Vietnamese, as sent in the 02 */
	const char *package_path;              /* kept; may be NULL */
	const char *received_at;
	const struct store_xout_new *status;   /* the 02 to send; NULL when there is no one to tell */
};
/* Records it (and queues its 02) in one transaction; the same (sender_id, doc_key, reason)
 * twice is one row (STORE_DONE). */
int store_incoming_refuse(struct store *st, const struct store_refused_new *r, char *err,
    size_t errlen);
/* Refused packages, newest first: id, received_at, via, sender_id, doc_key, reason, package_path. */
int store_incoming_refused(struct store *st, int limit, store_row_cb cb, void *arg, char *err,
    size_t errlen);

struct store_incoming_filter {
	const char *state;  /* NULL: any; "open": not done or recalled; "late": open and past due */
	const char *today;  /* YYYY-MM-DD: for "late" */
	const char *assignee; /* NULL: any; a login or unit code: entries assigned to it */
	int year;           /* 0: any */
	int64_t before;     /* 0: from the newest (by id) */
	int limit;
};
/*
 * Entries, newest first: id, year, number, arrived_at, via, sender_id, sender_name, doc_key,
 * code, issued_on, type_name, subject, priority, due_date (the sender's), deadline (the
 * assignment's for the chủ trì, NULL if not assigned), state, lead (the chủ trì's name), done_at,
 * reply_document, reply_symbol.
 */
int store_incoming_list(struct store *st, const struct store_incoming_filter *f, store_row_cb cb,
    void *arg, char *err, size_t errlen);
/* One entry: the columns above plus recipient, signer, to_places, pages, business,
 * response_for, package_path, pdf_path, pdf_sha256, verify. STORE_INVALID: no such entry. */
int store_incoming_row(struct store *st, int64_t id, store_row_cb cb, void *arg, char *err,
    size_t errlen);
/* The register of a year in số đến order (Phụ lục IV.VI): the list's columns plus
 * assigned_to (every assignee, "; "-separated, chủ trì first), assigned_at (Ngày chuyển). */
int store_incoming_register_list(struct store *st, int year, store_row_cb cb, void *arg,
    char *err, size_t errlen);

/* ---- the phiếu giải quyết ---- */

enum store_assign_role { XAS_LEAD, XAS_SUPPORT, XAS_INFO }; /* "lead" chủ trì, "support" phối hợp,
                                                             * "info" để biết */
struct store_assignee {
	const char *who;    /* a login or a unit code */
	const char *name;   /* its name as shown */
	int role;           /* enum store_assign_role */
	const char *due;    /* YYYY-MM-DD; NULL for "info" */
};
struct store_assign_new {
	int64_t incoming_id;
	int64_t parent;     /* 0: the office leader's phiếu; else the assignment (of a unit) this
	                     * one refines to a person: the tree office → unit → person */
	const struct store_assignee *who;
	size_t n;           /* exactly one XAS_LEAD among them, unless parent is set */
	const char *opinion;  /* required: ý kiến */
	int64_t uid;
	const char *login;
	const char *at;       /* ISO 8601 UTC */
	const struct store_xout_new *status; /* the 04 to the sender (NULL: paper, no one) */
};
/* Records the assignments, state "assigned" (from "registered"; kept if further on), an
 * "incoming.assign" audit entry, and the 04, in one transaction. STORE_INVALID: no such entry,
 * done or recalled, or a parent not of this entry. */
int store_incoming_assign(struct store *st, const struct store_assign_new *a, char *err,
    size_t errlen);
/* The entry's assignments in order: id, parent, who, name, role, due, opinion, by, at,
 * extended (how many times its due date was extended). */
int store_incoming_assignments(struct store *st, int64_t incoming_id, store_row_cb cb, void *arg,
    char *err, size_t errlen);

/* Progress by an assignee: text, state "progress", the 05 on the first report only, audit. */
int store_incoming_progress(struct store *st, int64_t incoming_id, const char *text, int64_t uid,
    const char *login, const char *at, const struct store_xout_new *status, char *err,
    size_t errlen);
int store_incoming_progress_list(struct store *st, int64_t incoming_id, store_row_cb cb,
    void *arg, char *err, size_t errlen); /* at, login, text, oldest first */

/*
 * Done: state "done", done_at, the reply (an outgoing document of ours, 0: closed without one,
 * then note says why), the 06, audit "incoming.done". STORE_DONE when it was done already.
 */
int store_incoming_done(struct store *st, int64_t incoming_id, int64_t reply_document,
    const char *note, int64_t uid, const char *login, const char *at,
    const struct store_xout_new *status, char *err, size_t errlen);
/* The incoming entries an outgoing document answers (its reply_to), for publish: ids into cb
 * as columns id, sender_id, doc_key, code, issued_on. */
int store_incoming_answered_by(struct store *st, int64_t document_id, store_row_cb cb, void *arg,
    char *err, size_t errlen);
/* Marks outgoing document_id as the reply to incoming_id (before it is issued). */
int store_doc_set_reply_to(struct store *st, int64_t document_id, int64_t incoming_id,
    char *err, size_t errlen);

/*
 * The report XML (a unit's answer to a round) that document_id carries as its second
 * attachment: set (or replaced) before it is issued, with a "document.report" audit entry by
 * uid/login; STORE_INVALID when it is issued already or does not exist.
 */
int store_doc_set_report(struct store *st, int64_t document_id, const char *name,
    const void *data, size_t len, int64_t uid, const char *login, char *err, size_t errlen);
/* Its name and bytes (malloc'd, NUL-terminated); STORE_INVALID when it has none. */
int store_doc_report(struct store *st, int64_t document_id, char **name, unsigned char **data,
    size_t *len, char *err, size_t errlen);

/* Extends an assignment's due date (gia hạn) with its reason, audited; the old date is kept. */
int store_incoming_extend(struct store *st, int64_t assignment_id, const char *new_due,
    const char *reason, int64_t uid, const char *login, char *err, size_t errlen);

/* A recall of an incoming document by its sender (13): state "recalled" if nothing was done on
 * it yet (answer 15) — else it stays and the answer is 16 with the reason; the answer is queued
 * in the same transaction (built by the caller for each case: agree / refuse). *agreed says
 * which. STORE_INVALID: no such entry (sender_id, doc_key). */
/* The entry registered for (sender_id, doc_key): its id and the id of ours it was addressed to
 * (recipient, "" for none). STORE_INVALID: no such entry. */
int store_incoming_find(struct store *st, const char *sender_id, const char *doc_key,
    int64_t *id, char *recipient, size_t recipientlen, char *err, size_t errlen);
int store_incoming_recall(struct store *st, const char *sender_id, const char *doc_key,
    const struct store_xout_new *agree, const struct store_xout_new *refuse, int *agreed,
    char *err, size_t errlen);

/* The sổ theo dõi (IV.VIII): every open entry with a deadline plus those done in year, in số
 * đến order: the list's columns plus progress (the last report's text and time). */
int store_incoming_followup(struct store *st, int year, store_row_cb cb, void *arg, char *err,
    size_t errlen);

/* A gapless check of the year's số đến (for verify): *gaps counts the missing numbers. */
int store_incoming_check(struct store *st, int year, int64_t *count, int64_t *gaps, char *err,
    size_t errlen);

#endif
