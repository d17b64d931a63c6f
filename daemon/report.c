/*
 * report.c: from a report's validated XML to the fields the store keeps,
 * and the checks of meaning a schema cannot make: the unit exists and is the
 * one whose folder it came from, dates are real, the period is coherent,
 * figures are numbers, attachments are within their cap. All text leaves
 * here in NFC.
 */
#include "report.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "intake.h"
#include "vnfmt.h"
#include "xmlin.h"

#define REPORT_NS "urn:vanthu:report:1"
#define rchild(n, name) xmlin_child((n), REPORT_NS, (name))

/* NFC text of a node (or "" when absent); NULL only when out of memory. */
int report_valid_date(const char *s)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d, n = 0;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
		return 0;
	if (y < 1945 || y > 2999 || m < 1 || m > 12 || d < 1)
		return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= days[m - 1] + (m == 2 && leap);
}

static json_t *section_json(xmlNodePtr sec)
{
	json_t *obj = json_object(), *content = json_array();
	char *title = xmlin_text(rchild(sec, "title"));

	if (obj == NULL || content == NULL || title == NULL)
		goto fail;
	json_object_set_new(obj, "title", json_string(title));
	for (xmlNodePtr c = sec->children; c; c = c->next) {
		if (xmlin_is(c, REPORT_NS, "p")) {
			char *p = xmlin_text(c);
			if (p == NULL)
				goto fail;
			json_array_append_new(content, json_string(p));
			free(p);
		} else if (xmlin_is(c, REPORT_NS, "section")) {
			json_t *sub = section_json(c);
			if (sub == NULL)
				goto fail;
			json_array_append_new(content, sub);
		}
	}
	json_object_set_new(obj, "content", content);
	free(title);
	return obj;
fail:
	free(title);
	json_decref(content);
	json_decref(obj);
	return NULL;
}

/* Decoded size of base64 text (whitespace ignored). */
static size_t base64_size(const char *s)
{
	size_t chars = 0, pad = 0;

	for (; *s; s++) {
		if (*s == '=')
			pad++;
		else if (*s != ' ' && *s != '\n' && *s != '\r' && *s != '\t')
			chars++;
	}
	return ((chars + pad) / 4) * 3 - (pad > 2 ? 2 : pad);
}

static int line_of(xmlNodePtr n)
{
	long l = n ? xmlGetLineNo(n) : 0;

	return l > 0 && l < 1000000000 ? (int)l : 0;
}

/* Is s written as YYYY-MM-DD, real day or not? */
static int date_shaped(const char *s)
{
	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

/* Each message says what was expected, with an example. */
static void check_date(const char *value, xmlNodePtr at, const char *what, const char *name,
    struct diag_list *errs, int *bad)
{
	if (report_valid_date(value))
		return;
	if (date_shaped(value))
		diag_add_at(errs, name, line_of(at), 0, "R_DATE",
		    "%s \"%s\" không phải là một ngày có thật", what, value);
	else
		diag_add_at(errs, name, line_of(at), 0, "R_DATE",
		    "%s \"%s\" không đúng dạng; cần một ngày dạng NĂM-THÁNG-NGÀY, ví dụ 2024-03-27",
		    what, value ? value : "");
	(*bad)++;
}

/* Is s a decimal as XML Schema writes one: digits, one point, an optional sign? */
static int decimal_shaped(const char *s)
{
	size_t digits = 0;

	if (*s == '+' || *s == '-')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		digits++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			digits++;
	return *s == '\0' && digits > 0;
}

static void check_figure(const char *value, xmlNodePtr at, const char *code, const char *name,
    struct diag_list *errs, int *bad)
{
	char fixed[64];

	if (value != NULL && decimal_shaped(value) && isfinite(strtod(value, NULL)))
		return;
	/* the usual slip: a Vietnamese decimal comma, or thousands dots */
	snprintf(fixed, sizeof(fixed), "%s", value ? value : "");
	char *comma = strrchr(fixed, ',');
	if (comma) {
		char *w = fixed;
		for (char *r = fixed; *r; r++)
			if (*r != '.')
				*w++ = *r == ',' ? '.' : *r;
		*w = '\0';
	}
	if (comma && decimal_shaped(fixed))
		diag_add_at(errs, name, line_of(at), 0, "R_NUMBER", "chỉ tiêu %s: \"%s\" không phải là "
		    "một số như lược đồ quy định; cần số thập phân với dấu chấm ngăn phần lẻ, không có "
		    "dấu ngăn hàng nghìn: %s", code, value, fixed);
	else
		diag_add_at(errs, name, line_of(at), 0, "R_NUMBER", "chỉ tiêu %s: \"%s\" không phải là "
		    "một số; cần số thập phân với dấu chấm ngăn phần lẻ, ví dụ 61.8 hoặc 4215", code,
		    value ? value : "");
	(*bad)++;
}

/* Has one of the first n errors (the schema's) been reported on this line? */
static int line_has_error(const struct diag_list *errs, size_t n, int line)
{
	for (size_t i = 0; i < n && i < errs->count; i++)
		if (line > 0 && errs->items[i].line == line)
			return 1;
	return 0;
}

void report_check_more(xmlDocPtr doc, const struct units *units, const char *folder,
    const char *name, struct diag_list *errs)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlNodePtr unit = rchild(root, "unit"), round = rchild(root, "round");
	xmlNodePtr request = rchild(round, "request"), period = rchild(root, "period");
	xmlNodePtr date = rchild(root, "date"), inds = rchild(root, "indicators");
	size_t schema_errors = errs->count;
	int bad = 0;
	struct { xmlNodePtr at; const char *attr, *what; } dates[] = {
		{ request, "date", "ngày của văn bản yêu cầu" }, { date, NULL, "ngày báo cáo" },
		{ period, "from", "ngày bắt đầu kỳ báo cáo" }, { period, "to", "ngày kết thúc kỳ báo cáo" },
	};

	if (root == NULL || !xmlin_is(root, REPORT_NS, "report"))
		return;
	char *code = xmlin_attr(unit, "code");
	if (code != NULL && !line_has_error(errs, schema_errors, line_of(unit))) {
		if (units_find(units, code) == NULL)
			diag_add_at(errs, name, line_of(unit), 0, "R_UNIT_UNKNOWN",
			    "mã đơn vị \"%s\" không có trong danh mục đơn vị của cơ quan", code);
		else if (folder != NULL && *folder != '\0' && strcmp(folder, code) != 0)
			diag_add_at(errs, name, line_of(unit), 0, "R_UNIT_FOLDER",
			    "tệp nằm trong thư mục của đơn vị \"%s\" nhưng báo cáo ghi đơn vị \"%s\"; "
			    "một đơn vị không được gửi báo cáo thay đơn vị khác", folder, code);
	}
	free(code);
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		if (dates[i].at == NULL || line_has_error(errs, schema_errors, line_of(dates[i].at)))
			continue;
		char *v = dates[i].attr ? xmlin_attr(dates[i].at, dates[i].attr) :
		    xmlin_text(dates[i].at);
		if (v != NULL)
			check_date(v, dates[i].at, dates[i].what, name, errs, &bad);
		free(v);
	}
	for (xmlNodePtr c = inds ? inds->children : NULL; c; c = c->next) {
		if (!xmlin_is(c, REPORT_NS, "indicator"))
			continue;
		char *icode = xmlin_attr(c, "code");
		const char *parts[] = { "value", "target" };
		for (int k = 0; k < 2; k++) {
			xmlNodePtr at = rchild(c, parts[k]);
			if (at == NULL || line_has_error(errs, schema_errors, line_of(at)))
				continue;
			char *v = xmlin_text(at);
			if (v != NULL)
				check_figure(v, at, icode ? icode : "?", name, errs, &bad);
			free(v);
		}
		free(icode);
	}
}

int report_from_doc(xmlDocPtr doc, const struct units *units, const char *folder,
    const char *name, struct report **out, struct diag_list *errs)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlNodePtr unit = rchild(root, "unit"), round = rchild(root, "round");
	xmlNodePtr request = rchild(round, "request"), period = rchild(root, "period");
	xmlNodePtr signer = rchild(root, "signer"), inds = rchild(root, "indicators");
	xmlNodePtr atts = rchild(root, "attachments");
	struct report *r = calloc(1, sizeof(*r));
	json_t *content = json_object(), *body = json_array(), *attlist = json_array();
	const struct unit *u;
	int bad = 0;
	size_t n = 0;

	*out = NULL;
	if (r == NULL || content == NULL || body == NULL || attlist == NULL)
		goto nomem;
	r->unit_code = xmlin_attr(unit, "code");
	r->unit_name = xmlin_text(unit);
	r->round_id = xmlin_attr(round, "id");
	r->req_number = xmlin_attr(request, "number");
	r->req_symbol = xmlin_attr(request, "symbol");
	r->req_date = xmlin_attr(request, "date");
	r->number = xmlin_text(rchild(root, "number"));
	r->symbol = xmlin_text(rchild(root, "symbol"));
	r->place = xmlin_text(rchild(root, "place"));
	r->date = xmlin_text(rchild(root, "date"));
	r->summary = xmlin_text(rchild(root, "summary"));
	r->period_from = xmlin_attr(period, "from");
	r->period_to = xmlin_attr(period, "to");
	r->signer_authority = xmlin_attr(signer, "authority");
	r->signer_title = xmlin_text(rchild(signer, "title"));
	r->signer_name = xmlin_text(rchild(signer, "name"));
	if (!r->unit_code || !r->unit_name || !r->round_id || !r->req_number || !r->req_symbol ||
	    !r->req_date || !r->number || !r->symbol || !r->place || !r->date || !r->summary ||
	    !r->period_from || !r->period_to || !r->signer_title || !r->signer_name)
		goto nomem;

	u = units_find(units, r->unit_code);
	if (u == NULL) {
		diag_add_at(errs, name, line_of(unit), 0, "R_UNIT_UNKNOWN",
		    "mã đơn vị \"%s\" không có trong danh mục đơn vị của cơ quan", r->unit_code);
		bad++;
	}
	if (folder != NULL && *folder != '\0' && strcmp(folder, r->unit_code) != 0) {
		diag_add_at(errs, name, line_of(unit), 0, "R_UNIT_FOLDER",
		    "tệp nằm trong thư mục của đơn vị \"%s\" nhưng báo cáo ghi đơn vị \"%s\"; "
		    "một đơn vị không được gửi báo cáo thay đơn vị khác", folder, r->unit_code);
		bad++;
	}
	check_date(r->req_date, request, "ngày của văn bản yêu cầu", name, errs, &bad);
	check_date(r->date, rchild(root, "date"), "ngày báo cáo", name, errs, &bad);
	check_date(r->period_from, period, "ngày bắt đầu kỳ báo cáo", name, errs, &bad);
	check_date(r->period_to, period, "ngày kết thúc kỳ báo cáo", name, errs, &bad);
	if (report_valid_date(r->period_from) && report_valid_date(r->period_to) &&
	    strcmp(r->period_from, r->period_to) > 0) {
		diag_add_at(errs, name, line_of(period), 0, "R_PERIOD",
		    "kỳ báo cáo kết thúc (%s) trước khi bắt đầu (%s)", r->period_to, r->period_from);
		bad++;
	}
	if (report_valid_date(r->period_from) && report_valid_date(r->date) &&
	    strcmp(r->date, r->period_from) < 0) {
		diag_add_at(errs, name, line_of(rchild(root, "date")), 0, "R_PERIOD",
		    "ngày báo cáo (%s) trước ngày bắt đầu kỳ báo cáo (%s)", r->date, r->period_from);
		bad++;
	}

	for (xmlNodePtr c = inds ? inds->children : NULL; c; c = c->next)
		n += xmlin_is(c, REPORT_NS, "indicator");
	if (n > 0 && (r->indicators = calloc(n, sizeof(*r->indicators))) == NULL)
		goto nomem;
	for (xmlNodePtr c = inds ? inds->children : NULL; c; c = c->next) {
		if (!xmlin_is(c, REPORT_NS, "indicator"))
			continue;
		struct report_indicator *ind = &r->indicators[r->nindicators++];
		ind->code = xmlin_attr(c, "code");
		ind->measure = xmlin_attr(c, "measure");
		ind->name = xmlin_text(rchild(c, "name"));
		ind->value = xmlin_text(rchild(c, "value"));
		ind->target = rchild(c, "target") ? xmlin_text(rchild(c, "target")) : NULL;
		ind->base = xmlin_attr(c, "base");
		if (!ind->code || !ind->measure || !ind->name || !ind->value ||
		    (rchild(c, "target") && !ind->target))
			goto nomem;
		check_figure(ind->value, rchild(c, "value"), ind->code, name, errs, &bad);
		if (ind->target)
			check_figure(ind->target, rchild(c, "target"), ind->code, name, errs, &bad);
	}

	/* a base is another indicator of the report, a count, not a rate itself */
	for (size_t i = 0; i < r->nindicators; i++) {
		const struct report_indicator *ind = &r->indicators[i];
		const struct report_indicator *b = NULL;
		if (ind->base == NULL)
			continue;
		for (size_t k = 0; k < r->nindicators; k++)
			if (k != i && strcmp(r->indicators[k].code, ind->base) == 0)
				b = &r->indicators[k];
		if (b == NULL || strcmp(b->measure, "%") == 0 || strcmp(ind->measure, "%") != 0) {
			diag_add_at(errs, name, line_of(inds), 0, "R_NUMBER", "chỉ tiêu %s: base=\"%s\" "
			    "phải là mã của một chỉ tiêu khác trong báo cáo, đếm được (không phải %%), và "
			    "chỉ dùng cho chỉ tiêu tính theo %%", ind->code, ind->base);
			bad++;
		}
	}
	for (xmlNodePtr c = rchild(root, "body") ? rchild(root, "body")->children : NULL; c; c = c->next) {
		if (!xmlin_is(c, REPORT_NS, "section"))
			continue;
		json_t *s = section_json(c);
		if (s == NULL)
			goto nomem;
		json_array_append_new(body, s);
	}
	for (xmlNodePtr c = atts ? atts->children : NULL; c; c = c->next) {
		if (!xmlin_is(c, REPORT_NS, "attachment"))
			continue;
		xmlChar *b64 = xmlNodeGetContent(c);
		size_t size = b64 ? base64_size((const char *)b64) : 0;
		char *aname = xmlin_attr(c, "name"), *atype = xmlin_attr(c, "type");
		xmlFree(b64);
		if (aname == NULL) {
			free(atype);
			goto nomem;
		}
		if (size > REPORT_MAX_ATTACHMENT) {
			diag_add_at(errs, name, line_of(c), 0, "R_ATTACHMENT",
			    "tệp đính kèm \"%s\" lớn %zu byte, vượt mức %d byte", aname, size,
			    REPORT_MAX_ATTACHMENT);
			bad++;
		}
		json_array_append_new(attlist, json_pack("{s:s, s:s?, s:I}", "name", aname,
		    "type", atype, "bytes", (json_int_t)size));
		free(aname);
		free(atype);
	}
	if (bad)
		goto fail;
	json_object_set_new(content, "body", body);
	json_object_set_new(content, "attachments", attlist);
	body = attlist = NULL;
	r->content_json = json_dumps(content, JSON_COMPACT);
	if (r->content_json == NULL)
		goto nomem;
	json_decref(content);
	*out = r;
	return 0;
nomem:
	diag_add_at(errs, name, 0, 0, "R_ENCODING", "không đọc được nội dung (hết bộ nhớ hoặc "
	    "văn bản không phải Unicode hợp lệ)");
fail:
	json_decref(body);
	json_decref(attlist);
	json_decref(content);
	report_free(r);
	return -1;
}

void report_free(struct report *r)
{
	if (r == NULL)
		return;
	char **fields[] = { &r->unit_code, &r->unit_name, &r->round_id, &r->req_number,
		&r->req_symbol, &r->req_date, &r->number, &r->symbol, &r->place, &r->date,
		&r->summary, &r->period_from, &r->period_to, &r->signer_authority, &r->signer_title,
		&r->signer_name, &r->content_json };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		free(*fields[i]);
	for (size_t i = 0; i < r->nindicators; i++) {
		free(r->indicators[i].code);
		free(r->indicators[i].name);
		free(r->indicators[i].measure);
		free(r->indicators[i].value);
		free(r->indicators[i].target);
		free(r->indicators[i].base);
	}
	free(r->indicators);
	free(r);
}

/* ---- as a kind of intake input ---- */

/* An attribute of a child of the root, when it is a code (for a refused input's receipt). */
static char *guess_code(xmlDocPtr doc, const char *elem, const char *attr)
{
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;

	for (xmlNodePtr c = root ? root->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, elem) != 0)
			continue;
		char *v = xmlin_attr(c, attr);
		size_t n = v ? strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_.") : 0;
		if (v != NULL && (n == 0 || n > 64 || v[n] != '\0')) {
			free(v);
			v = NULL;
		}
		return v;
	}
	return NULL;
}

static int intake_check(const struct intake_env *env, const struct intake_input *in,
    xmlDocPtr doc, struct intake_outcome *out, struct diag_list *errs)
{
	const struct catalog *cat = env->cat;
	struct report *r = NULL;
	const struct unit *u;

	if (xmlin_validate(cat->report_schema, doc, in->shown, errs) == 0)
		report_from_doc(doc, cat->units, in->origin == SPOOL_UNIT ? in->folder : "",
		    in->shown, &r, errs);
	else  /* every error at once: what the schema could not reach is checked too */
		report_check_more(doc, cat->units, in->origin == SPOOL_UNIT ? in->folder : "",
		    in->shown, errs);
	if (r != NULL && (u = units_find(cat->units, r->unit_code)) != NULL &&
	    u->gid != (gid_t)-1 && in->origin == SPOOL_TOP) {
		/* an isolated unit's reports come from its own folder (or its people's) only */
		diag_add_at(errs, in->shown, 0, 0, "R_UNIT_FOLDER", "đơn vị \"%s\" chỉ gửi báo cáo "
		    "từ thư mục riêng của mình (incoming/%s/); tệp để ở thư mục chung không được "
		    "nhận là báo cáo của đơn vị này", r->unit_code, r->unit_code);
		report_free(r);
		r = NULL;
	}
	out->unit_code = r ? strdup(r->unit_code) : guess_code(doc, "unit", "code");
	out->round_id = r ? strdup(r->round_id) : guess_code(doc, "round", "id");
	out->parsed = r;
	return r != NULL ? 0 : -1;
}

static void intake_record(const struct intake_outcome *out, struct store_input *si)
{
	si->report = out->parsed;
}

static void intake_release(void *parsed)
{
	report_free(parsed);
}

const struct intake_kind report_intake_kind = {
	.ns = REPORT_NS, .root = "report", .what = "report",
	.check = intake_check, .record = intake_record, .release = intake_release,
};
