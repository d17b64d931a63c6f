/* spool.h: the drop folders: watching, claiming, recording, receipts (see spool.c). */
#ifndef VANTHU_SPOOL_H
#define VANTHU_SPOOL_H

#include <libxml/xmlschemas.h>
#include <stddef.h>
#include <uv.h>

#include "config.h"
#include "diag.h"
#include "store.h"
#include "calendar.h"
#include "render.h"
#include "units.h"
#include "workflow.h"

struct spool;

/* What intake reads from the workflows folder: the units registry and the report schema. */
struct spool_template {
	char *name;                       /* owned: "thong-bao" (the file name without .docx) */
	struct render_template *tpl;      /* owned */
};

struct spool_catalog {
	struct units *units;        /* owned */
	xmlSchemaPtr report_schema; /* owned */
	struct workflows *wf;       /* owned: the document kinds */
	struct spool_template *templates; /* owned: every *.docx of [paths] templates */
	size_t ntemplates;
	xmlSchemaPtr round_schema;  /* owned: workflows/dot-bao-cao/schema.xsd */
	struct calendar *cal;       /* owned: workflows/calendar/YYYY.xml */
};

/* The template a kind names, or NULL. */
const struct render_template *spool_template(const struct spool_catalog *cat, const char *name);

/*
 * Loads workflows/units.xml (+ units.xsd), workflows/bao-cao/schema.xsd and
 * every document kind (workflows/<kind>/workflow.xml). 0 or -1 with errs.
 */
int spool_catalog_load(const struct config *cfg, struct spool_catalog **out,
    struct diag_list *errs);
void spool_catalog_free(struct spool_catalog *cat);

/*
 * Starts intake: a second store connection for the worker thread, watches on
 * incoming/ and its unit sub-folders, a scan now (files dropped while the
 * daemon was stopped, and any left in claimed/ by a crash) and then every
 * [intake] rescan ms. cfg is borrowed; cat is owned from here on.
 */
int spool_start(uv_loop_t *loop, const struct config *cfg, struct spool_catalog *cat,
    struct spool **out, char *err, size_t errlen);
void spool_set_config(struct spool *sp, const struct config *cfg);
/* Called on the main thread after every batch (rounds close when all have reported). */
void spool_on_batch(struct spool *sp, void (*cb)(void *arg), void *arg);
/* Takes ownership of a new catalog; it is used from the next batch on. */
void spool_set_catalog(struct spool *sp, struct spool_catalog *cat);
/* The catalog in use (main thread, read-only). */
const struct spool_catalog *spool_catalog(const struct spool *sp);
/* Stops watching; waits for a batch in flight; then calls done(arg) and frees the spool. */
void spool_stop(struct spool *sp, void (*done)(void *arg), void *arg);

#endif
