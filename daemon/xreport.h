/* xreport.h: a unit's report that came through the exchange, taken into intake (see xreport.c). */
#ifndef VANTHU_XREPORT_H
#define VANTHU_XREPORT_H

#include <stddef.h>

#include "catalog.h"
#include "config.h"
#include "store.h"

/*
 * The report XML attached to a package from unit_code's office (doc_key: the package's
 * DocumentId), judged and recorded exactly as the same file dropped in incoming/<unit_code>/
 * would be: the same checks, the same outcomes (accepted, duplicate, superseding, rejected),
 * the round counted. The same package again records nothing twice. *receipt is the receipt's
 * Vietnamese text (malloc'd) for the status sent back; *accepted is 1 unless rejected.
 * 0, or -1 with err (the store failed: the package must come again).
 */
int xreport_take(struct store *st, const struct catalog *cat, const struct config *cfg,
    const char *unit_code, const char *doc_key, const char *name, const void *data, size_t len,
    char **receipt, int *accepted, char *err, size_t errlen);

#endif
