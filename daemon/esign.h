/* esign.h: electronic originals: the leader's signature and the organisation's (see esign.c). */
#ifndef VANTHU_ESIGN_H
#define VANTHU_ESIGN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "catalog.h"
#include "config.h"
#include "store.h"
#include "workflow.h"

/* The office's signing: its token, trust anchors, seal, font and converter. */
struct esign;

/*
 * Opens what [signing] names: the trust anchors, the seal image (red, on a
 * transparent ground), the organisation's token (its PIN from pin_file) and
 * certificate, and starts the converter. NULL *out without error when
 * vanthu.conf has no [signing]. 0, or -1 with err (English) naming the part.
 */
int esign_open(const struct config *cfg, struct esign **out, char *err, size_t errlen);
void esign_close(struct esign *es);
/* The converter's pid (its memory is reported apart from vanthud's); 0 when none. */
pid_t esign_converter_pid(const struct esign *es);
/* The trust anchors' file, for `pdf verify` run by a client. */
const char *esign_trust_path(const struct esign *es);

/*
 * Must a signer's `sign` of this document be digital? 1 when signing is
 * configured and the signer has a certificate in vanthu.conf ([user]
 * certificate); then a plain `act sign` is refused and `sign.prepare` /
 * `sign.finish` do it.
 */
int esign_required(const struct esign *es, const struct config *cfg, const char *login);

/* A leader's signing, step one, in three parts: checks and the DOCX on the
 * loop, the conversion on a worker, the PDF prepared on the loop again. */
struct esign_job;
/*
 * Checks that actor may sign document id now, that cert (DER) is valid
 * today, chains to the trust anchors, may sign, and is the one vanthu.conf
 * gives the actor; renders the copy to sign. WF_OK and *job, or a wf_rc with
 * a Vietnamese sentence in msg.
 */
int esign_prepare_begin(struct esign *es, struct store *st, const struct catalog *cat,
    const struct config *cfg, int64_t id, const struct wf_actor *a, const unsigned char *cert,
    size_t certlen, struct esign_job **job, char *msg, size_t msglen);
/* The conversion, on any thread (touches no database). 0 or -1. */
int esign_prepare_convert(struct esign_job *job);
/*
 * Places the signature, writes the prepared PDF durably and records it as
 * pending; tbs: the hex SHA-256 the leader's key signs. Frees job.
 */
int esign_prepare_end(struct esign_job *job, struct store *st, char tbs[65], char *msg,
    size_t msglen);
void esign_job_free(struct esign_job *job);

/*
 * Step two: the leader's signature over tbs. Checks it with the pending
 * certificate, embeds the CMS, writes the signed PDF and takes the `sign`
 * step with it in one transaction. WF_OK, or a wf_rc with msg.
 */
int esign_finish(struct esign *es, struct store *st, const struct catalog *cat,
    const struct config *cfg, int64_t id, const struct wf_actor *a, const char *comment,
    const unsigned char *sig, size_t siglen, char *sha256, char *msg, size_t msglen);

/*
 * At issue: the number and the date stamped into the leader's PDF, the
 * organisation's signature with the seal, the file written beside the DOCX
 * (same name, .pdf) and recorded. Refused (and nothing written) when the
 * leader's PDF does not hold exactly one valid signature by the leader's
 * certificate. 0 or -1 with err (English).
 */
int esign_seal(struct esign *es, struct store *st, const struct config *cfg, int64_t id,
    const char *docx_path, int64_t uid, const char *login, char *err, size_t errlen);

/* The form of a copy from its name ("sao-y", default; "sao-luc"); NULL for another. */
const char *esign_copy_form(const char *name);
/*
 * An electronic copy (bản sao điện tử, Điều 25-26) of document id's issued
 * original: the next copy number of its body in the year (*number, symbol
 * "01/SY-UBND"), the form, the copying body, the number and the signing time
 * stamped top right of page 1 in 10 pt, and the organisation's signature
 * without an image; written to ban-sao/ beside the original and recorded.
 * 0; 1 when the document has no electronic original; -1 with err.
 */
int esign_copy(struct esign *es, struct store *st, const struct config *cfg, int64_t id,
    const char *form, int64_t uid, const char *login, int64_t *number, char *symbol,
    size_t symlen, char *err, size_t errlen);

#endif
