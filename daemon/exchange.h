/*
 * exchange.h: documents to and from other offices (liên thông, see exchange.c): the packages of
 * issued documents and the statuses of received ones through the outbox, over NATS JetStream
 * (natsx.c) or a gateway's folders; received packages checked and entered in the incoming
 * register; the statuses of the phiếu giải quyết sent back as they happen.
 */
#ifndef VANTHU_EXCHANGE_H
#define VANTHU_EXCHANGE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "catalog.h"
#include "config.h"
#include "store.h"
#include "store_exchange.h"

struct exchange;

/*
 * Starts the exchange of [exchange] (cfg->exchange must be 1): the trust anchors, the
 * spool/exchange folders, the transport, and a first look at the outbox and at issued documents
 * not yet planned. cfg and st are borrowed and must outlive it ([exchange] is read at start only).
 * 0, or -1 with err.
 */
int exchange_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
    struct exchange **out, char *err, size_t errlen);
/* The configuration in use after a reload (borrowed; [exchange]'s link stays as it started). */
void exchange_set_config(struct exchange *x, const struct config *cfg);
/* The catalog (units and their ids, document kinds) to use from now on: takes a reference. */
void exchange_set_catalog(struct exchange *x, struct catalog *cat);
/* Stops: the transport closed, handles closed; done(arg) when it is all gone. x is freed then. */
void exchange_stop(struct exchange *x, void (*done)(void *), void *arg);

/*
 * Document id has just been issued with its files written: its deliveries are planned (each
 * recipient with an id by exchange, the others on paper), its package written and sent, and an
 * incoming document it answers is marked done (06 to its sender). Also sweeps issued documents
 * a crash left unplanned. x may be NULL (no [exchange]): only the incoming it answers is closed.
 * 0, or -1 with err (it is tried again by exchange's own timer).
 */
int exchange_issued(struct exchange *x, struct store *st, const struct config *cfg, int64_t id,
    char *err, size_t errlen);

/* The phiếu giải quyết: a->status is filled here (04 to the sender, when there is one). */
int exchange_assign(struct exchange *x, struct store *st, const struct config *cfg,
    struct store_assign_new *a, char *err, size_t errlen);
/* An assignee's progress (05 to the sender on the first). */
int exchange_progress(struct exchange *x, struct store *st, const struct config *cfg,
    int64_t incoming_id, const char *text, int64_t uid, const char *login, char *err,
    size_t errlen);
/* Done without (reply 0, note says why) or with a reply (06 to the sender). */
int exchange_done(struct exchange *x, struct store *st, const struct config *cfg,
    int64_t incoming_id, int64_t reply, const char *note, int64_t uid, const char *login,
    char *err, size_t errlen);
/* The sender takes an issued document back: 13 to every recipient by exchange. */
int exchange_recall(struct exchange *x, struct store *st, const struct config *cfg, int64_t id,
    const char *reason, int64_t uid, const char *login, char *err, size_t errlen);

/*
 * The PDF of a registered arrival (malloc'd into *out, *len), read from what was kept:
 * pdf_path when an entry has one (arrivals before the PDF was kept only inside its package),
 * else the attachment of the package at package_path whose SHA-256 is want (lowercase hex).
 * The bytes given are checked against want. 0, or -1 with err (English, for the log).
 */
int exchange_incoming_pdf(const char *package_path, const char *pdf_path, const char *want,
    unsigned char **out, size_t *len, char *err, size_t errlen);

/*
 * {transport, up, server, ids: [...], outbox: n, outbox_oldest, sent, received, refused,
 * last_error} for `status`. x NULL: NULL.
 */
json_t *exchange_state(struct exchange *x);

/* The store's return code mapped to a sentence for a client, shared by the commands. */
const char *exchange_state_label(const char *state);

#endif
