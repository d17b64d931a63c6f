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
};

/*
 * The template data of a document of kind k from its input XML (as stored:
 * UTF-8, NFC), the organisation's identity, the units registry (for the Nơi
 * nhận names and groups) and, for an issued document, its number and date.
 * A draft (issue NULL) gets the number and day blank, dated in draft_year.
 * The fields are those of templates-docx/README.md. NULL with err on failure.
 */
json_t *docdata_build(const struct config *cfg, const struct units *units, const struct wf_kind *k,
    const char *xml, size_t len, const struct docdata_issue *issue, int draft_year, char *err,
    size_t errlen);

#endif
