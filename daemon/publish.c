/*
 * publish.c: a document as the DOCX the office sends out. Builds the
 * template data (docdata), fills the kind's template (render), and for an
 * issued document writes the file into spool/outgoing/YYYY/ (a Party committee's:
 * spool/outgoing/TERM/) durably and
 * records its SHA-256, so that what was sent can be proven later.
 */
#include "publish.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "docdata.h"
#include "esign.h"
#include "fsutil.h"
#include "hash.h"
#include "log.h"
#include "render.h"
#include "symbol.h"

/* The issue date's parts from "YYYY-MM-DD". */
static int split_date(const char *iso, int *y, int *m, int *d)
{
	return iso && sscanf(iso, "%d-%d-%d", y, m, d) == 3 ? 0 : -1;
}

/* The data and template of a document, ready to render. */
static int prepare(struct store *st, const struct catalog *cat, const struct config *cfg,
    int64_t id, struct store_doc *doc, json_t **data, const struct render_template **tpl,
    char *err, size_t errlen)
{
	const struct wf_kind *k;
	const struct config_body *body;
	const char *name;
	struct docdata_issue iss, *ip = NULL;
	char *xml = NULL, now[40];
	size_t len = 0;
	int y, m, d, rc;

	*data = NULL;
	rc = store_doc_get(st, id, doc, err, errlen);
	if (rc != STORE_OK)
		return rc;
	k = workflows_find(cat->wf, doc->kind);
	body = config_find_body(cfg, doc->issuer);
	if (body == NULL) {
		snprintf(err, errlen, "document %lld names the issuing body %s, which vanthu.conf no "
		    "longer has", (long long)id, doc->issuer);
		return STORE_ERR;
	}
	name = k ? workflow_template_for(k, body->kind) : NULL;
	*tpl = name ? catalog_template(cat, name) : NULL;
	if (k == NULL || *tpl == NULL) {
		snprintf(err, errlen, "no %s template for the kind %s", config_body_kind_name(body->kind),
		    doc->kind);
		return STORE_ERR;
	}
	if (doc->number > 0 && doc->symbol && split_date(doc->issued_on, &y, &m, &d) == 0) {
		iss.symbol = doc->symbol;
		iss.year = y;
		iss.month = m;
		iss.day = d;
		/* an issued document rests in its final state: it entered it when it was issued */
		iss.issued_at = doc->state_since;
		ip = &iss;
	}
	clock_today_vn(&y, &m, &d);
	clock_iso_utc(now, sizeof(now));
	rc = store_doc_content(st, id, &xml, &len, err, errlen);
	if (rc != STORE_OK)
		return rc;
	*data = docdata_build(cfg, cat->units, k, xml, len, ip, y, now, err, errlen);
	free(xml);
	return *data ? STORE_OK : STORE_ERR;
}

void publish_file_stem(const char *symbol, char *out, size_t len)
{
	/* "12/TB-UBND" -> "12-TB-UBND": a name a clerk can read, no slash */
	snprintf(out, len, "%s", symbol);
	for (char *p = out; *p; p++)
		if (*p == '/' || *p == ' ')
			*p = '-';
}

int publish_render(struct store *st, const struct catalog *cat, const struct config *cfg,
    int64_t id, void **out, size_t *len, char *err, size_t errlen)
{
	const struct render_template *tpl = NULL;
	struct store_doc doc;
	json_t *data = NULL;
	int rc;

	*out = NULL;
	memset(&doc, 0, sizeof(doc));
	rc = store_doc_get(st, id, &doc, err, errlen);
	if (rc != STORE_OK)
		return rc;
	if (doc.out_path && doc.out_sha256) {
		char sha[HASH_HEX_LEN + 1];
		rc = STORE_ERR;
		if (fsutil_read_file(doc.out_path, 256u * 1024 * 1024, (unsigned char **)out,
		        len) != 0) {
			snprintf(err, errlen, "the issued file %s cannot be read: %s", doc.out_path,
			    strerror(errno));
		} else if (hash_sha256_hex(*out, *len, sha) != 0 || strcmp(sha, doc.out_sha256) != 0) {
			snprintf(err, errlen, "the issued file %s does not match its recorded SHA-256",
			    doc.out_path);
			free(*out);
			*out = NULL;
		} else {
			rc = STORE_OK;
		}
		store_doc_free(&doc);
		return rc;
	}
	store_doc_free(&doc);
	rc = prepare(st, cat, cfg, id, &doc, &data, &tpl, err, errlen);
	if (rc == STORE_OK && render_to_memory(tpl, data, 315532800, out, len, err, errlen) != 0)
		rc = STORE_ERR;
	json_decref(data);
	store_doc_free(&doc);
	return rc;
}

int publish_signing_docx(struct store *st, const struct catalog *cat, const struct config *cfg,
    int64_t id, const char *path, int64_t *revision, char *err, size_t errlen)
{
	const struct render_template *tpl = NULL;
	const struct config_body *body;
	struct store_doc doc;
	json_t *data = NULL;
	char sha[HASH_HEX_LEN + 1];
	int rc = -1;

	memset(&doc, 0, sizeof(doc));
	if (prepare(st, cat, cfg, id, &doc, &data, &tpl, err, errlen) != STORE_OK)
		goto out;
	if (doc.number > 0) {
		snprintf(err, errlen, "document %lld is numbered already", (long long)id);
		goto out;
	}
	body = config_find_body(cfg, doc.issuer);
	if (body == NULL || docdata_mark_for_signing(data, body->place) != 0) {
		snprintf(err, errlen, "document %lld: the signing copy's data cannot be made",
		    (long long)id);
		goto out;
	}
	if (render_to_file(tpl, data, 315532800, path, sha, err, errlen) != 0)
		goto out;
	*revision = doc.revision;
	rc = 0;
out:
	json_decref(data);
	store_doc_free(&doc);
	return rc;
}

/* The leader's PDF numbered, dated and signed by the organisation, beside the DOCX. */
static int seal(struct store *st, const struct config *cfg, struct esign *es,
    const struct store_doc *doc, int64_t uid, const char *login, char *err, size_t errlen)
{
	if (doc->signed_pdf_sha256 == NULL || doc->pdf_sha256 != NULL)
		return 0;
	if (es == NULL) {
		snprintf(err, errlen, "document %lld was signed digitally, but vanthu.conf has no "
		    "[signing] now: its electronic original waits", (long long)doc->id);
		return -1;
	}
	return esign_seal(es, st, cfg, doc->id, doc->out_path, uid, login, err, errlen);
}

int publish_issued(struct store *st, const struct catalog *cat, const struct config *cfg,
    struct esign *es, int64_t id, int64_t uid, const char *login, char *err, size_t errlen)
{
	const struct render_template *tpl = NULL;
	struct store_doc doc;
	json_t *data = NULL;
	char dir[PATH_MAX], path[PATH_MAX], failed[PATH_MAX], name[128], sha[HASH_HEX_LEN + 1];
	int rc = -1, y, m, d;

	memset(&doc, 0, sizeof(doc));
	if (prepare(st, cat, cfg, id, &doc, &data, &tpl, err, errlen) != STORE_OK)
		goto out;
	if (doc.number <= 0 || doc.symbol == NULL || split_date(doc.issued_on, &y, &m, &d) != 0) {
		snprintf(err, errlen, "document %lld has no number yet", (long long)id);
		goto out;
	}
	if (doc.out_path && doc.out_sha256) {
		/* the DOCX is out: what may wait is the electronic original */
		rc = seal(st, cfg, es, &doc, uid, login, err, errlen);
		goto out;
	}
	publish_file_stem(doc.symbol, name, sizeof(name));
	/*
	 * A state body's numbers run per year: outgoing/2026/. A Party committee's
	 * run per type within its term, and two terms can meet in one year (01-KH/TU
	 * of each): outgoing/2025-2030/, the term its register series names.
	 */
	size_t term = symbol_series_term(doc.series);
	if (term > 0)
		snprintf(dir, sizeof(dir), "%s/outgoing/%.*s", cfg->spool, (int)term, doc.series);
	else
		snprintf(dir, sizeof(dir), "%s/outgoing/%04d", cfg->spool, y);
	if (fsutil_mkdir_p(dir, 0755, failed, sizeof(failed)) != 0) {
		snprintf(err, errlen, "cannot create %s: %s", failed, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s.docx", dir, name);
	if (render_to_file(tpl, data, (long)clock_vn_midnight(y, m, d), path, sha, err, errlen) != 0)
		goto out;
	if (store_doc_set_output(st, id, path, sha, uid, login, err, errlen) != STORE_OK)
		goto out;
	log_info("document %lld published as %s (sha256 %s)", (long long)id, path, sha);
	free(doc.out_path);
	doc.out_path = strdup(path);
	rc = doc.out_path ? seal(st, cfg, es, &doc, uid, login, err, errlen) : -1;
out:
	json_decref(data);
	store_doc_free(&doc);
	return rc;
}

int publish_pending(struct store *st, const struct catalog *cat, const struct config *cfg,
    struct esign *es)
{
	int64_t ids[256];
	size_t n = 0;
	int left = 0;
	char err[512];

	if (store_docs_unpublished(st, ids, 256, &n, err, sizeof(err)) != STORE_OK) {
		log_err("publish: cannot list the issued documents without a DOCX: %s", err);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (publish_issued(st, cat, cfg, es, ids[i], -1, "vanthud", err, sizeof(err)) != 0) {
			log_err("document %lld is issued but its DOCX or PDF could not be written: %s",
			    (long long)ids[i], err);
			left++;
		}
	}
	/* a full list may have more behind it */
	return n == 256 && left == 0 ? 1 : left;
}
