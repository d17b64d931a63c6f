/*
 * pdfverify.c: every signature in a PDF, ours or another office's, checked:
 * who signed, when (Vietnam time), whether the bytes it covers still match,
 * whether it covers the document up to its revision or the whole file, and
 * whether its certificate chains to the trust anchors. The result is one
 * JSON object that vanthuctl prints in Vietnamese or as it is (--json).
 */
#include "pdfverify.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cms.h"
#include "pdf.h"

static void iso_vn(time_t t, char *out, size_t len)
{
	struct tm tm;
	time_t v = t + 7 * 3600;

	if (t == 0) {
		snprintf(out, len, "%s", "");
		return;
	}
	gmtime_r(&v, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%S+07:00", &tm);
}

static const char *code_of(int rc)
{
	switch (rc) {
	case CMS_OK: return "valid";
	case CMS_UNTRUSTED: return "untrusted";
	case CMS_EXPIRED: return "expired";
	case CMS_USAGE: return "usage";
	case CMS_BADSIG: return "bad_signature";
	case CMS_DIGEST: return "modified";
	default: return "unreadable";
	}
}

json_t *pdfverify_buffer(const unsigned char *pdf, size_t len, const struct cms_trust *trust,
    char *err, size_t errlen)
{
	struct pdf_sig *sigs = NULL;
	size_t n = 0;
	json_t *out = NULL, *list;
	int all_ok = 1;

	if (pdf_signatures(pdf, len, &sigs, &n, err, errlen) != PDF_OK)
		return NULL;
	list = json_array();
	if (list == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct pdf_sig *s = &sigs[i];
		struct cms_verdict v;
		struct cms_part parts[2];
		char when[40], m[40], cerr[256] = "";
		int rc = CMS_ERR, covered = s->range_ok;

		memset(&v, 0, sizeof(v));
		if (covered && s->range[0] == 0 && (size_t)(s->range[2] + s->range[3]) <= len) {
			parts[0].data = pdf;
			parts[0].len = (size_t)s->range[1];
			parts[1].data = pdf + s->range[2];
			parts[1].len = (size_t)s->range[3];
			rc = cms_verify_detached(trust, s->cms, s->cmslen, parts, 2, s->when, &v, cerr,
			    sizeof(cerr));
		} else {
			snprintf(v.reason, sizeof(v.reason), "its byte ranges do not cover a revision of "
			    "the file");
		}
		iso_vn(s->when, m, sizeof(m));
		iso_vn(v.signing_time, when, sizeof(when));
		if (rc != CMS_OK || !covered)
			all_ok = 0;
		json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
		    " s:b, s:b, s:b, s:b, s:b, s:b, s:I, s:I, s:s, s:s, s:s}",
		    "index", (json_int_t)(i + 1), "field", s->field, "subfilter", s->subfilter,
		    "name", s->name, "reason", s->reason, "location", s->location,
		    "signed_at", m[0] ? m : when, "signer", v.signer.subject,
		    "signer_dn", v.signer.subject_dn, "valid", rc == CMS_OK && covered,
		    "digest_ok", v.digest_ok, "signature_ok", v.signature_ok, "trusted", v.chain_ok,
		    "whole", s->whole, "covers_revision", covered,
		    "revision_end", (json_int_t)s->revision_end, "page", (json_int_t)(s->page + 1),
		    "status", covered ? code_of(rc) : "bad_range", "fingerprint", v.signer.fingerprint,
		    "why", rc == CMS_OK && covered ? "" : (v.reason[0] ? v.reason : cerr)));
	}
	out = json_pack("{s:I, s:I, s:o, s:b}", "bytes", (json_int_t)len, "count", (json_int_t)n,
	    "signatures", list, "all_valid", all_ok && n > 0);
	if (out == NULL)
		snprintf(err, errlen, "out of memory");
out:
	pdf_signatures_free(sigs, n);
	return out;
}
