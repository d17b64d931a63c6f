/* pdfverify.h: every signature of a PDF checked, as JSON (see pdfverify.c). */
#ifndef VANTHU_PDFVERIFY_H
#define VANTHU_PDFVERIFY_H

#include <jansson.h>
#include <stddef.h>

struct cms_trust;

/*
 * {bytes, count, all_valid, signatures: [{index, field, subfilter, name,
 * reason, location, signed_at (ISO 8601 +07:00), signer, signer_dn,
 * fingerprint, valid, digest_ok, signature_ok, trusted, whole,
 * covers_revision, revision_end, page, status, why}]}, in the order the
 * revisions were written. status: valid, untrusted, expired, usage,
 * bad_signature, modified, unreadable or bad_range. trust may be NULL (then
 * nothing is trusted). NULL with err when the file is not a PDF we can read.
 */
json_t *pdfverify_buffer(const unsigned char *pdf, size_t len, const struct cms_trust *trust,
    char *err, size_t errlen);

#endif
