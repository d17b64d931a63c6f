/*
 * fuzz_edxml.c: libFuzzer target owning edxml.c: edxml_parse on arbitrary bytes (a
 * package or a status packet as another office sends it) and, on what it accepts, the
 * writer: the parsed message is built again (edxml_build_doc / edxml_build_status) and
 * the rebuilt bytes parsed, which must succeed and give the same DocumentId, code and
 * attachments. The reader is tolerant and the writer strict, so the few fields only
 * the writer requires (OrganName of From, TypeName, both halves of Code, a recall's
 * reason, a status's ResponseFor/OrganId and Description) are filled in first; a
 * status code with no published meaning must be refused by the writer. On a refused
 * input, edxml_peek must give a usable sender id or "".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void need(int ok, const char *what, const char *err)
{
	if (!ok) {
		fprintf(stderr, "fuzz_edxml: %s%s%s\n", what, err ? ": " : "", err ? err : "");
		abort();
	}
}

static int same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Gives *field an owned placeholder when it is NULL (or empty). */
static void fill(char **field, const char *value)
{
	if (*field == NULL || **field == '\0') {
		free(*field);
		*field = strdup(value);
		need(*field != NULL, "out of memory", NULL);
	}
}

static void check_doc(const struct edxml_doc *d)
{
	need(d->from.id != NULL && d->document_id != NULL && d->subject != NULL, "required field", NULL);
	need(d->date != NULL && strlen(d->date) == 10 && d->date[4] == '-', "date not ISO", d->date);
	need(d->nto >= 1 && d->nto <= EDXML_MAX_TO, "recipient count", NULL);
	need(d->code_number != NULL || d->code_notation != NULL, "no code", NULL);
	need(d->natt <= EDXML_MAX_ATTACH, "attachment count", NULL);
	for (size_t i = 0; i < d->nto; i++)
		need(d->to[i].id != NULL && edxml_check_organ_id(d->to[i].id) >= 0, "recipient id", NULL);
	for (size_t i = 0; i < d->natt; i++) {
		const struct edxml_attachment *a = &d->att[i];
		need(a->name != NULL && strchr(a->name, '/') == NULL && strcmp(a->name, "..") != 0,
		    "unsafe attachment name", a->name);
		need(a->content_id != NULL && (a->data != NULL || a->len == 0), "attachment", NULL);
		need(a->sha256[0] == '\0' || strlen(a->sha256) == 64, "attachment hash", a->sha256);
	}
}

static void round_doc(struct edxml_doc *d)
{
	struct edxml_msg again;
	struct edxml_error e;
	char err[512] = "", *out = NULL;
	size_t len = 0;

	check_doc(d);
	fill(&d->from.name, "x");
	fill(&d->type_name, "x");
	fill(&d->code_number, "1");
	fill(&d->code_notation, "x");
	if (d->business == EDXML_RECALL)
		fill(&d->business_reason, "x");
	need(edxml_build_doc(d, &out, &len, err, sizeof(err)) == 0, "build of a parsed document", err);
	need(edxml_parse(out, len, &again, &e, err, sizeof(err)) == 0, "parse of a built document", err);
	need(again.kind == EDXML_DOCUMENT, "kind changed", NULL);
	need(same(again.doc.document_id, d->document_id), "DocumentId changed", d->document_id);
	need(same(again.doc.code_number, d->code_number) &&
	    same(again.doc.code_notation, d->code_notation), "Code changed", NULL);
	need(same(again.doc.date, d->date) && same(again.doc.subject, d->subject), "date/subject", NULL);
	need(again.doc.nto == d->nto && again.doc.natt == d->natt, "counts changed", NULL);
	for (size_t i = 0; i < d->natt; i++)
		need(again.doc.att[i].len == d->att[i].len &&
		    (d->att[i].len == 0 || memcmp(again.doc.att[i].data, d->att[i].data, d->att[i].len) == 0) &&
		    same(again.doc.att[i].name, d->att[i].name), "attachment changed", NULL);
	edxml_msg_free(&again);
	free(out);
}

static void round_status(struct edxml_status *s)
{
	struct edxml_msg again;
	struct edxml_error e;
	char err[512] = "", *out = NULL;
	size_t len = 0;

	need(s->from.id != NULL && s->response_for.document_id != NULL && s->timestamp != NULL &&
	    strlen(s->timestamp) == 19, "required status field", NULL);
	need(s->code >= 0 && s->code <= 99, "status code range", NULL);
	if (edxml_status_name(s->code) == NULL) {
		need(edxml_build_status(s, &out, &len, err, sizeof(err)) == -1 && out == NULL,
		    "built a status code with no meaning", NULL);
		return;
	}
	fill(&s->response_for.organ_id, "000.00.00.A00");
	if (s->description == NULL || s->code == 2 || s->code == 16)
		fill(&s->description, "x");
	need(edxml_build_status(s, &out, &len, err, sizeof(err)) == 0, "build of a parsed status", err);
	need(edxml_parse(out, len, &again, &e, err, sizeof(err)) == 0, "parse of a built status", err);
	need(again.kind == EDXML_STATUS && again.st.code == s->code, "code changed", NULL);
	need(same(again.st.response_for.document_id, s->response_for.document_id) &&
	    same(again.st.timestamp, s->timestamp) && same(again.st.description, s->description),
	    "status changed", NULL);
	edxml_msg_free(&again);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct edxml_msg m;
	struct edxml_error e;
	char err[512] = "", from[64], docid[256];

	if (edxml_parse(data, size, &m, &e, err, sizeof(err)) != 0) {
		need(e.fault != EDXML_OK && err[0] != '\0', "refused without a fault", NULL);
		need(m.kind == 0 && m.doc.to == NULL && m.st.from.id == NULL, "refusal left data", NULL);
		/* what the refusal (02) is addressed with: a usable id or "" */
		edxml_peek(data, size, from, sizeof(from), docid, sizeof(docid));
		need(from[0] == '\0' || edxml_check_organ_id(from) >= 0, "peek gave an unusable id", from);
		need(strlen(docid) < sizeof(docid), "peek overflow", NULL);
		return 0;
	}
	if (m.kind == EDXML_DOCUMENT)
		round_doc(&m.doc);
	else
		round_status(&m.st);
	edxml_msg_free(&m);
	return 0;
}
