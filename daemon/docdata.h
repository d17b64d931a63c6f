/* docdata.h: what a template sees of a document (see docdata.c). */
#ifndef VANTHU_DOCDATA_H
#define VANTHU_DOCDATA_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"
#include "units.h"
#include "workflow.h"

/* The number and date of an issued document; a draft has none. */
struct docdata_issue {
	const char *symbol;   /* "12/TB-UBND" */
	int year, month, day;
	const char *issued_at; /* when it was issued, UTC: "2026-11-22T08:36:26.123Z" */
};

/*
 * The template data of a document of kind k from its input XML (as stored:
 * UTF-8, NFC), the organisation's identity, the units registry (for the Nơi
 * nhận names and groups) and, for an issued document, its number and date.
 * A draft (issue NULL) gets the number and day blank, dated in draft_year,
 * its properties dated draft_time (the render's time, as issued_at is written).
 * The fields are those of templates-docx/README.md and of docdata_fields(k).
 * NULL with err on failure.
 */
json_t *docdata_build(const struct config *cfg, const struct units *units, const struct wf_kind *k,
    const char *xml, size_t len, const struct docdata_issue *issue, int draft_year,
    const char *draft_time, char *err, size_t errlen);

/*
 * A draft's data (docdata_build with issue NULL) made into the data of the PDF
 * the leader signs: not marked as a draft, the number and the day blank with
 * their places marked (render.h RENDER_PLACE_*), and the signer's title and
 * name marked around the signature image's place. place starts the date line.
 * 0 or -1 (no memory, or d is not a document's data).
 */
int docdata_mark_for_signing(json_t *d, const char *place);

/*
 * The fields a template of kind k receives, as an object shaped like the data
 * with one item in each list (for render_load_fields); k NULL: every kind's.
 */
json_t *docdata_fields(const struct wf_kind *k);
/* The fields every kind that uses template_name (as its template or its Party
 * template) receives, and those kinds in label; NULL when no kind uses it. */
json_t *docdata_fields_for(const struct workflows *wf, const char *template_name, char *label,
    size_t labellen);

#endif
