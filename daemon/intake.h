/* intake.h: batches of dropped files, from the claim to the receipt (see intake.c). */
#ifndef VANTHU_INTAKE_H
#define VANTHU_INTAKE_H

#include <libxml/tree.h>
#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

#include "catalog.h"
#include "config.h"
#include "diag.h"
#include "spool.h"
#include "store.h"

/* What a kind's check may read: the catalog and configuration the batch started with. */
struct intake_env {
	const struct catalog *cat;   /* borrowed */
	const struct config *cfg;    /* the worker's copy: roles, bodies, users, [rounds] drafter */
};

/* Who dropped a file, when the folder says so: a person's folder (incoming/@login/). */
struct intake_sender {
	uid_t uid;
	const char *login;
	unsigned roles;              /* bit set of enum role */
};

/* One input as a kind sees it. */
struct intake_input {
	const char *data;            /* the file's bytes, NUL-terminated */
	size_t len;
	const char *folder;          /* its folder of incoming/: "", a unit code, "@login" */
	enum spool_origin origin;
	const char *shown;           /* its name as shown (names.h), for messages */
	const struct intake_sender *sender; /* NULL unless from a person's folder */
};

/* What a kind's check gives back. */
struct intake_outcome {
	void *parsed;                /* owned by the kind (release); NULL when refused */
	const char *doc_kind;        /* a document's label for the receipt ("Thông báo"), or NULL */
	int round_opened;            /* parsed is a reporting round */
	char *unit_code, *round_id;  /* owned, or NULL: what the input names, even when refused */
};

/*
 * A kind of input, by the namespace (and root element) of its document: the
 * module that owns reports, documents, rounds or meetings registers one.
 * check() reads a parsed document and fills out, adding every error to errs
 * (0 accepted, -1 refused); record() puts the parsed result in the store's
 * input; release() frees it.
 */
struct intake_kind {
	const char *ns;              /* the root's namespace */
	const char *root;            /* its local name; NULL: any */
	const char *what;            /* for the log: "report", "document", "round", "meeting" */
	int (*check)(const struct intake_env *env, const struct intake_input *in, xmlDocPtr doc,
	    struct intake_outcome *out, struct diag_list *errs);
	void (*record)(const struct intake_outcome *out, struct store_input *si);
	void (*release)(void *parsed);
};

struct intake;

/*
 * Starts intake on an open spool (owned from here on, also on failure): a
 * store connection of its own for the worker thread, a scan now (files
 * dropped while the daemon was stopped, and what a crash left in claimed/)
 * and then at every change the kernel reports and every [intake] rescan ms.
 * cfg is borrowed; cat gets a reference of intake's own. The first kind
 * added is the one a document of no known namespace is checked as (reports).
 */
int intake_start(uv_loop_t *loop, const struct config *cfg, struct catalog *cat,
    struct spool *sp, struct intake **out, char *err, size_t errlen);
int intake_add_kind(struct intake *in, const struct intake_kind *k);
void intake_set_config(struct intake *in, const struct config *cfg);
/* The next batch uses cat (intake takes a reference); a batch in flight keeps its own. */
void intake_set_catalog(struct intake *in, struct catalog *cat);
/* Called on the main thread after every batch (rounds close when all have reported). */
void intake_on_batch(struct intake *in, void (*cb)(void *arg), void *arg);
/* Stops: waits for a batch in flight, closes the spool, then calls done(arg) and frees. */
void intake_stop(struct intake *in, void (*done)(void *arg), void *arg);

#endif
