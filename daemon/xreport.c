/*
 * xreport.c: a unit's report that came through the exchange (the second
 * attachment of the document its office issued in answer to a round). It is
 * judged by the report kind's own check with the unit's folder as its
 * origin, and recorded by store_record_inputs under a claimed name made from
 * the package's DocumentId and the attachment's name, so the same package
 * again is recorded once; its receipt travels back as the status's text.
 */
#include "xreport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "clock.h"
#include "diag.h"
#include "hash.h"
#include "intake.h"
#include "receipt.h"
#include "report.h"
#include "spool.h"
#include "xmlin.h"

int xreport_take(struct store *st, const struct catalog *cat, const struct config *cfg,
    const char *unit_code, const char *doc_key, const char *name, const void *data, size_t len,
    char **receipt, int *accepted, char *err, size_t errlen)
{
	struct diag_list errs;
	struct intake_outcome out;
	struct store_input si;
	xmlDocPtr doc = NULL;
	char *errors_json = NULL, *text = NULL, *buf = NULL;
	char sha[HASH_HEX_LEN + 1], claim[128], at[40], key_sha[HASH_HEX_LEN + 1];
	int rc = -1;

	*receipt = NULL;
	*accepted = 0;
	diag_init(&errs);
	memset(&out, 0, sizeof(out));
	memset(&si, 0, sizeof(si));
	/* NUL-terminated, as intake hands its kinds the bytes */
	if ((buf = malloc(len + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	memcpy(buf, data, len);
	buf[len] = '\0';
	if (hash_sha256_hex(buf, len, sha) != 0) {
		snprintf(err, errlen, "sha256 failed");
		goto out;
	}
	/* one record per package and attachment: "x" and a hash, never a claim's number */
	char both[600];
	snprintf(both, sizeof(both), "%s\n%s", doc_key, name);
	if (hash_sha256_hex(both, strlen(both), key_sha) != 0) {
		snprintf(err, errlen, "sha256 failed");
		goto out;
	}
	snprintf(claim, sizeof(claim), "x%.40s", key_sha);
	clock_iso_utc(at, sizeof(at));
	if (xmlin_parse(buf, len, name, &doc, &errs) == 0) {
		struct intake_env env = { cat, cfg };
		struct intake_input ii = { .data = buf, .len = len, .folder = unit_code,
			.origin = SPOOL_UNIT, .shown = name, .sender = NULL };
		if (report_intake_kind.check(&env, &ii, doc, &out, &errs) != 0 && errs.count == 0)
			diag_add_at(&errs, name, 0, 0, "R_NOT_XML", "không đọc được tệp như một báo cáo");
	}
	if (out.parsed == NULL && errs.count == 0)
		diag_add_at(&errs, name, 0, 0, "R_NOT_XML", "không đọc được tệp như một báo cáo");
	if ((errors_json = receipt_errors_json(&errs)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	si.claimed_name = claim;
	si.source_name = name;
	si.source_raw = name;
	si.source_folder = unit_code;
	si.received_at = at;
	si.owner_uid = -1;
	si.sha256 = sha;
	si.size = (int64_t)len;
	si.original = buf;
	si.original_len = len;
	si.unit_code = out.unit_code;
	si.round_id = out.round_id;
	si.errors_json = errors_json;
	si.rounds_optional = cfg->intake_rounds_optional;
	if (out.parsed != NULL)
		report_intake_kind.record(&out, &si);
	if (store_record_inputs(st, &si, 1, err, errlen) != STORE_OK)
		goto out;
	if (si.record_error[0] != '\0')
		diag_add_at(&errs, name, 0, 0, si.record_code[0] ? si.record_code : "R_RECORD", "%s",
		    si.record_error);
	const struct unit *u = cat->units ? units_find(cat->units, unit_code) : NULL;
	struct receipt_info ri = {
		.id = si.id, .file = name, .folder = unit_code, .received_at = si.at[0] ? si.at : at,
		.outcome = si.outcome, .sha256 = sha, .size = (int64_t)len, .unit_code = unit_code,
		.unit_name = u ? u->name : NULL, .round_id = si.round_id, .report_id = si.report_id,
		.supersedes = si.supersedes, .after_close = si.after_close,
		.late_deadline = si.late_deadline, .errors = &errs,
	};
	if ((text = receipt_text(&ri)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	*accepted = strcmp(si.outcome, "rejected") != 0;
	*receipt = text;
	text = NULL;
	rc = 0;
out:
	if (out.parsed != NULL && report_intake_kind.release)
		report_intake_kind.release(out.parsed);
	free(out.unit_code);
	free(out.round_id);
	if (doc)
		xmlFreeDoc(doc);
	diag_free(&errs);
	free(errors_json);
	free(si.record_errors);
	free(text);
	free(buf);
	return rc;
}
