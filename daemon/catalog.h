/* catalog.h: what vanthud reads from the workflows and templates folders (see catalog.c). */
#ifndef VANTHU_CATALOG_H
#define VANTHU_CATALOG_H

#include <libxml/xmlschemas.h>
#include <stddef.h>

#include "calendar.h"
#include "config.h"
#include "diag.h"
#include "render.h"
#include "units.h"
#include "workflow.h"

struct catalog_template {
	char *name;                       /* owned: "thong-bao" (the file name without .docx) */
	struct render_template *tpl;      /* owned */
};

/*
 * Units, schemas, document kinds, templates and the calendar, loaded
 * together and replaced together on SIGHUP. Read-only once loaded; shared
 * by counting references, so a batch of intake that started with one
 * catalog finishes with it while the daemon moves on to the next. The
 * count is touched on the main thread only.
 */
struct catalog {
	struct units *units;        /* owned: [paths] units */
	xmlSchemaPtr report_schema; /* owned: workflows/bao-cao/schema.xsd */
	struct workflows *wf;       /* owned: the document kinds */
	struct catalog_template *templates; /* owned: every *.docx of [paths] templates */
	size_t ntemplates;
	xmlSchemaPtr round_schema;  /* owned: workflows/dot-bao-cao/schema.xsd */
	struct calendar *cal;       /* owned: [paths] calendar: YYYY.xml */
	unsigned refs;              /* 1 when loaded */
};

/*
 * Loads the units registry ([paths] units, checked against
 * workflows/units.xsd), the report and round schemas, every document kind
 * (workflows/<kind>/workflow.xml), every template and the calendar
 * ([paths] calendar, against workflows/calendar/calendar.xsd). Each part is
 * loaded even when another failed, so every problem of every part is added
 * to errs. 0 and *out (one reference), or -1.
 */
int catalog_load(const struct config *cfg, struct catalog **out, struct diag_list *errs);
/* Another reference to cat (may be NULL); returns cat. */
struct catalog *catalog_ref(struct catalog *cat);
/* Drops a reference; the last one frees it. NULL is fine. */
void catalog_unref(struct catalog *cat);
/* The template a kind names, or NULL. */
const struct render_template *catalog_template(const struct catalog *cat, const char *name);

#endif
