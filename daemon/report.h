/* report.h: a unit's report, read from its validated XML and checked for meaning (see report.c). */
#ifndef VANTHU_REPORT_H
#define VANTHU_REPORT_H

#include <libxml/tree.h>
#include <stddef.h>

#include "diag.h"
#include "units.h"

#define REPORT_MAX_ATTACHMENT (10 * 1024 * 1024)

struct report_indicator {
	char *code, *name, *measure, *value, *target;  /* owned; target may be NULL */
	char *base;    /* owned: a percentage's base indicator (its code), or NULL */
};

/* Every string is owned and NFC. */
struct report {
	char *unit_code, *unit_name;
	char *round_id, *req_number, *req_symbol, *req_date;
	char *number, *symbol, *place, *date, *summary, *period_from, *period_to;
	char *signer_authority;  /* may be NULL */
	char *signer_title, *signer_name;
	char *content_json;      /* {"body": [...sections...], "attachments": [...]} */
	struct report_indicator *indicators;
	size_t nindicators;
};

/*
 * Reads a document already valid against bao-cao/schema.xsd and checks its
 * meaning: the unit is in the registry (and is the unit of the folder it
 * came from, when folder is not empty), dates are real, the period is
 * coherent, figures are numbers, attachments within their cap. 0 and *out,
 * or -1 with coded errors (R_UNIT_UNKNOWN, R_UNIT_FOLDER, R_DATE, R_PERIOD,
 * R_NUMBER, R_ATTACHMENT).
 */
int report_from_doc(xmlDocPtr doc, const struct units *units, const char *folder,
    const char *name, struct report **out, struct diag_list *errs);
void report_free(struct report *r);
/*
 * After a schema failure, the same checks of meaning on what can be read
 * (the unit, the dates, the figures, found by name wherever they are), so
 * that a unit sees every error of a file at once: libxml2 stops checking a
 * sequence at its first misplaced element. A line the schema reported
 * already is not reported again.
 */
void report_check_more(xmlDocPtr doc, const struct units *units, const char *folder,
    const char *name, struct diag_list *errs);

/* Is s (YYYY-MM-DD) a real calendar day? */
int report_valid_date(const char *s);

/* Reports as a kind of dropped input (intake.h): the first kind, for any unknown document. */
struct intake_kind;
extern const struct intake_kind report_intake_kind;

#endif
