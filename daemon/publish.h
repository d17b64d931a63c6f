/* publish.h: a document as DOCX: a draft on request, an issued one into spool/outgoing (see publish.c). */
#ifndef VANTHU_PUBLISH_H
#define VANTHU_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "catalog.h"
#include "store.h"

/*
 * The DOCX of document id (malloc'd into *out): an issued document's
 * published file, checked against its recorded SHA-256; any other, its
 * current revision rendered as a draft (number and day blank).
 */
/* The issued file's name without ".docx", from its symbol: "12/TB-UBND" gives "12-TB-UBND". */
void publish_file_stem(const char *symbol, char *out, size_t len);
int publish_render(struct store *st, const struct catalog *cat, const struct config *cfg,
    int64_t id, void **out, size_t *len, char *err, size_t errlen);

struct esign;

/*
 * The copy a leader signs digitally, as a DOCX at path: the draft without
 * "DỰ THẢO", the number and the day blank with their places marked (see
 * docdata_mark_for_signing); *revision is the revision it shows. 0 or -1.
 */
int publish_signing_docx(struct store *st, const struct catalog *cat, const struct config *cfg,
    int64_t id, const char *path, int64_t *revision, char *err, size_t errlen);

/*
 * Renders an issued document with its number and date into
 * <spool>/outgoing/YYYY/<number>-<symbol>.docx (temporary name, fsync,
 * rename) and records the path and SHA-256; a document the leader signed
 * digitally then gets its electronic original beside it (esign_seal; es
 * NULL: it waits, with an error). A DOCX already written is not written
 * again. 0 or -1 with err.
 */
int publish_issued(struct store *st, const struct catalog *cat, const struct config *cfg,
    struct esign *es, int64_t id, int64_t uid, const char *login, char *err, size_t errlen);

/*
 * Publishes every issued document that has no file yet (after a crash, a full
 * disk, an I/O error). Returns how many are still waiting, or -1 when the
 * database could not say.
 */
int publish_pending(struct store *st, const struct catalog *cat, const struct config *cfg,
    struct esign *es);

#endif
