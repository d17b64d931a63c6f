/*
 * docdata.c: a document as its template sees it. Reads the stored input XML
 * of a document and turns it into the fields of templates-docx/README.md:
 * the issuing body in upper case, the number and date line (blank in a
 * draft), the body (its inline bold and italic as render.h's marks, symbols
 * kept whole, closed with "./." unless the input or a Party body says not,
 * its last paragraph kept with the signature), the signature block, and the Nơi nhận
 * list in its official order: "Như trên" first, then the registry's groups
 * in order, sorted with the Vietnamese collator inside each group, then the
 * lines the drafter gave without a group, in the drafter's order. The input's
 * issuer names the issuing body; a Party committee's document gets the
 * Party's number style (02-KH/BCĐ), authority prefixes (T/M, K/T, T/L),
 * "," after each recipient and its "- Lưu …" line without a colon.
 */
#include "docdata.h"

#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "vnfmt.h"
#include "xmlin.h"

/* The most Nơi nhận lines (with Lưu) beside a signature kept with the body's end. */
#define KEEP_MAX_LINES 30

#define doc_child(n, name) xmlin_child((n), WF_DOC_NS, (name))
#define text(n) xmlin_text(n)

/* Inline markup of the input as the marks of render.h. */
struct rich {
	FILE *f;
	int bold, italic;  /* depth of <b> and <i> */
};

static void rich_walk(struct rich *r, xmlNodePtr n)
{
	for (; n != NULL; n = n->next) {
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (n->content)
				fputs((const char *)n->content, r->f);
		} else if (xmlin_is(n, WF_DOC_NS, "b")) {
			if (r->bold++ == 0)
				fputs(RENDER_BOLD_ON, r->f);
			rich_walk(r, n->children);
			if (--r->bold == 0)
				fputs(RENDER_BOLD_OFF, r->f);
		} else if (xmlin_is(n, WF_DOC_NS, "i")) {
			if (r->italic++ == 0)
				fputs(RENDER_ITALIC_ON, r->f);
			rich_walk(r, n->children);
			if (--r->italic == 0)
				fputs(RENDER_ITALIC_OFF, r->f);
		} else if (xmlin_is(n, WF_DOC_NS, "br")) {
			fputc('\n', r->f);
		}
	}
}

/*
 * The text of an element that may hold <b>, <i> and <br/> (p, heading, basis,
 * quote, summary): bold and italic as render.h's marks, a line break as a
 * newline; NFC. malloc'd; NULL: no memory.
 */
static char *rich_text(xmlNodePtr n)
{
	struct rich r = { 0 };
	char *buf = NULL, *out = NULL;
	size_t len = 0;

	if (n == NULL)
		return NULL;
	r.f = open_memstream(&buf, &len);
	if (r.f == NULL)
		return NULL;
	rich_walk(&r, n->children);
	if (fclose(r.f) != 0) {
		free(buf);
		return NULL;
	}
	if (vnfmt_nfc(buf, len, &out) != VNFMT_OK)
		out = NULL;
	free(buf);
	return out;
}

/* A byte of a symbol: a letter (ASCII or not), a digit, "-", "/" or ".". */
static int symbol_byte(unsigned char c)
{
	return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    c == '-' || c == '/' || c == '.';
}

/*
 * Symbols kept whole on their line: in every word that holds a "/" and only
 * letters, digits, "-", "/" and "." with a capital letter (02-NQ/TU, 3552/UBND-SNV,
 * 112/NQ-HĐND, V/v; not a date, 28/5/2021), a hyphen becomes RENDER_NB_HYPHEN and the
 * "/" is held by WORD JOINERs (U+2060) on both sides, so that no line breaks
 * inside. A leading "(" and trailing ",.;:)" are not part of the word.
 * malloc'd; NULL: no memory.
 */
static char *keep_symbols(const char *s)
{
	static const char wj[] = "\xE2\x81\xA0";  /* U+2060 WORD JOINER */
	size_t n = strlen(s), o = 0;
	char *out = malloc(n * 7 + 1);

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t a = i, b;
		while (a < n && !symbol_byte((unsigned char)s[a]))
			out[o++] = s[a++];
		b = a;
		while (b < n && symbol_byte((unsigned char)s[b]))
			b++;
		/* the word without the closing "./." or the full stops that end it */
		size_t e = b;
		if (e - a >= 3 && memcmp(s + e - 3, "./.", 3) == 0)
			e -= 3;
		while (e > a && s[e - 1] == '.')
			e--;
		/* a symbol has a capital (a type, a body): a date, 28/5/2021, does not break anyway */
		int capital = 0;
		for (size_t k = a; k < e; k++)
			capital |= (s[k] >= 'A' && s[k] <= 'Z') || (unsigned char)s[k] >= 0x80;
		int slash = capital && e > a + 1 && memchr(s + a, '/', e - a) != NULL;
		for (size_t k = a; k < b; k++) {
			if (slash && k < e && s[k] == '-') {
				out[o++] = RENDER_NB_HYPHEN[0];
			} else if (slash && k < e && s[k] == '/') {
				if (k > a) {
					memcpy(out + o, wj, 3);
					o += 3;
				}
				out[o++] = '/';
				if (k + 1 < e) {
					memcpy(out + o, wj, 3);
					o += 3;
				}
			} else {
				out[o++] = s[k];
			}
		}
		i = b;
	}
	out[o] = '\0';
	return out;
}

/* json_string of s with its symbols kept whole (keep_symbols). */
static json_t *symbols_string(const char *s)
{
	char *k = keep_symbols(s ? s : "");
	json_t *j = json_string(k ? k : (s ? s : ""));

	free(k);
	return j;
}

static json_t *upper_string(const char *s)
{
	char *u = NULL;
	json_t *j;

	if (vnfmt_upper(s, &u) != VNFMT_OK)
		return NULL;
	j = json_string(u);
	free(u);
	return j;
}

static json_t *line_obj(const char *prefix, const char *s, const char *suffix)
{
	char *buf;
	json_t *j;

	if (asprintf(&buf, "%s%s%s", prefix, s, suffix) < 0)
		return NULL;
	j = json_pack("{s:s}", "line", buf);
	free(buf);
	return j;
}

/*
 * The issuing body in upper case, on two lines the way offices print it:
 * "ỦY BAN NHÂN DÂN" above "TỈNH BÀ RỊA - VŨNG TÀU" (and likewise HỘI ĐỒNG
 * NHÂN DÂN); any other name stays one line and wraps in its column.
 */
static json_t *issuer_lines(const char *name)
{
	static const char *const heads[] = { "ỦY BAN NHÂN DÂN ", "HỘI ĐỒNG NHÂN DÂN " };
	char *u = NULL, *two = NULL;
	json_t *j;

	if (vnfmt_upper(name, &u) != VNFMT_OK)
		return NULL;
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		size_t n = strlen(heads[i]);
		if (strncmp(u, heads[i], n) == 0 && u[n] != '\0' &&
		    asprintf(&two, "%.*s\n%s", (int)(n - 1), u, u + n) >= 0)
			break;
	}
	j = json_string(two ? two : u);
	free(two);
	free(u);
	return j;
}

/*
 * The authority prefix in the issuing body's style: a Party document writes
 * T/M, K/T, T/L where a state one writes TM., KT., TL. A drafter may use
 * either; the line comes out right for the body. Returns a malloc'd line.
 */
static char *authority_style(const char *line, int party)
{
	static const char *const pairs[][2] = { { "TM.", "T/M" }, { "KT.", "K/T" }, { "TL.", "T/L" } };
	char *out = NULL;

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const char *from = pairs[i][party ? 0 : 1], *to = pairs[i][party ? 1 : 0];
		size_t n = strlen(from);
		if (strncmp(line, from, n) == 0 && (line[n] == ' ' || line[n] == '\0')) {
			const char *rest = line + n;
			while (*rest == ' ')
				rest++;
			if (asprintf(&out, "%s %s", to, rest) < 0)
				return NULL;
			return out;
		}
	}
	return strdup(line);
}

/* One Nơi nhận entry before ordering. */
struct entry {
	char *name;
	long group;   /* index in the registry's groups; -1: none */
	size_t order; /* the drafter's order */
};

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->group != y->group) {
		if (x->group < 0)
			return 1;
		if (y->group < 0)
			return -1;
		return x->group < y->group ? -1 : 1;
	}
	return x->order < y->order ? -1 : x->order > y->order;
}

static json_t *recipients(xmlNodePtr list, const struct units *units, int nhu_tren,
    const char *sep)
{
	json_t *arr = json_array();
	struct entry *e = NULL;
	size_t n = 0, cap = 0;

	if (arr == NULL)
		return NULL;
	if (nhu_tren)
		json_array_append_new(arr, line_obj("- ", "Như trên", sep));
	for (xmlNodePtr c = list ? list->children : NULL; c; c = c->next) {
		if (!xmlin_is(c, WF_DOC_NS, "recipient"))
			continue;
		char *code = xmlin_attr(c, "unit"), *group = xmlin_attr(c, "group");
		const struct unit *u = code && units ? units_find(units, code) : NULL;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct entry *ne = realloc(e, cap * sizeof(*e));
			if (ne == NULL) {
				free(code);
				free(group);
				break;
			}
			e = ne;
		}
		e[n].order = n;
		e[n].group = -1;
		if (u != NULL) {
			e[n].name = strdup(u->short_name);
			e[n].group = (long)u->group;
		} else {
			e[n].name = text(c);
			for (size_t g = 0; group && units && g < units->ngroups; g++)
				if (strcmp(units->groups[g].code, group) == 0)
					e[n].group = (long)g;
		}
		free(code);
		free(group);
		/* a blank line would print as "- ;" */
		if (e[n].name != NULL && strspn(e[n].name, " \t\r\n") < strlen(e[n].name))
			n++;
		else
			free(e[n].name);
	}
	/* groups in the registry's order, the drafter's order inside (for now) */
	if (n > 1)
		qsort(e, n, sizeof(*e), cmp_entry);
	/* then collation inside each group */
	for (size_t a = 0; a < n;) {
		size_t b = a;
		while (b < n && e[b].group == e[a].group)
			b++;
		if (e[a].group >= 0 && b - a > 1) {
			const char **names = calloc(b - a, sizeof(char *));
			size_t *order = calloc(b - a, sizeof(size_t));
			struct entry *copy = calloc(b - a, sizeof(*copy));
			if (names && order && copy) {
				for (size_t i = a; i < b; i++)
					names[i - a] = e[i].name;
				if (vnfmt_sort(names, b - a, order) == VNFMT_OK) {
					for (size_t i = 0; i < b - a; i++)
						copy[i] = e[a + order[i]];
					memcpy(&e[a], copy, (b - a) * sizeof(*copy));
				}
			}
			free(names);
			free(order);
			free(copy);
		}
		a = b;
	}
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(arr, line_obj("- ", e[i].name, sep));
		free(e[i].name);
	}
	free(e);
	return arr;
}

/* A figure as a Vietnamese reader writes it (4.215; 82,5), every decimal given kept; the text
 * as given when it is no number. */
static char *vn_figure(const char *s)
{
	char buf[96];

	if (s == NULL)
		return strdup("");
	return strdup(vnfmt_decimal(s, 12, buf, sizeof(buf)) == VNFMT_OK ? buf : s);
}

static json_t *table_rows(xmlNodePtr table)
{
	json_t *rows = json_array();
	size_t stt = 0;

	for (xmlNodePtr r = table ? table->children : NULL; r && rows; r = r->next) {
		if (!xmlin_is(r, WF_DOC_NS, "row"))
			continue;
		char *uname = xmlin_attr(r, "name");
		for (xmlNodePtr v = r->children; v; v = v->next) {
			if (!xmlin_is(v, WF_DOC_NS, "value"))
				continue;
			char *code = xmlin_attr(v, "code"), *val = text(v), *fig = vn_figure(val), num[24];
			char *tgt = xmlin_attr(v, "target"), *tfig = vn_figure(tgt);
			for (xmlNodePtr col = table->children; col && code; col = col->next) {
				if (!xmlin_is(col, WF_DOC_NS, "column"))
					continue;
				xmlChar *cc = xmlGetProp(col, (const xmlChar *)"code");
				if (cc && strcmp((const char *)cc, code) == 0) {
					xmlChar *l = xmlGetProp(col, (const xmlChar *)"label");
					xmlChar *m = xmlGetProp(col, (const xmlChar *)"measure");
					snprintf(num, sizeof(num), "%zu", ++stt);
					json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
					    "stt", num, "unit", uname ? uname : "", "indicator",
					    l ? (const char *)l : code, "value", fig ? fig : "", "measure",
					    m ? (const char *)m : "", "target", tfig && *tfig ? tfig : "—"));
					xmlFree(l);
					xmlFree(m);
				}
				xmlFree(cc);
			}
			free(code);
			free(val);
			free(fig);
			free(tgt);
			free(tfig);
		}
		free(uname);
	}
	return rows;
}

static int kind_is(const struct wf_kind *k, const char *name)
{
	return k != NULL && k->kind != NULL && strcmp(k->kind, name) == 0;
}

/* Kính gửi: a công văn always may have it, a báo cáo tổng hợp sent upward too. */
static int has_to(const struct wf_kind *k)
{
	return kind_is(k, "cong-van") || kind_is(k, "bao-cao-tong-hop");
}

json_t *docdata_fields(const struct wf_kind *k)
{
	json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, "
	    "s:[{s:s, s:s, s:s, s:s, s:b}], s:{s:[{s:s}], s:s}, s:[{s:s}], s:s, "
	    "s:{s:s, s:s, s:s}}",
	    "parent", "", "issuer", "", "number_symbol", "", "date_line", "", "summary", "",
	    "draft", 1, "party", 0, "recipients_fit", 1,
	    "body", "p", "", "heading", "", "basis", "", "quote", "", "keep", 1,
	    "signer", "lines", "line", "", "name", "",
	    "recipients", "line", "", "archive_line", "",
	    "props", "title", "", "creator", "", "created", "");

	if (f == NULL)
		return NULL;
	if (k == NULL || k->title != NULL)
		json_object_set_new(f, "title", json_string(""));
	if (k == NULL || kind_is(k, "cong-van"))
		json_object_set_new(f, "urgency", json_string(""));
	if (k == NULL || has_to(k)) {
		json_object_set_new(f, "to_any", json_true());
		json_object_set_new(f, "to_one", json_string(""));
		json_object_set_new(f, "to_many", json_pack("[{s:s}]", "line", ""));
	}
	if (k == NULL || kind_is(k, "bao-cao-tong-hop")) {
		json_object_set_new(json_array_get(json_object_get(f, "body"), 0), "figures", json_true());
		json_object_set_new(f, "table", json_pack("{s:s, s:[{s:s, s:s, s:s, s:s, s:s, s:s}]}",
		    "title", "", "rows", "stt", "", "unit", "", "indicator", "", "value", "", "measure", "",
		    "target", ""));
	}
	return f;
}

/* The fields both shapes have (a template two kinds share may use only those). */
static json_t *fields_common(json_t *a, json_t *b)
{
	const char *key;
	json_t *v, *out;

	if (json_is_array(a) && json_is_array(b)) {
		json_t *item = fields_common(json_array_get(a, 0), json_array_get(b, 0));
		out = json_array();
		if (item)
			json_array_append_new(out, item);
		return out;
	}
	if (!json_is_object(a) || !json_is_object(b))
		return json_deep_copy(a);
	out = json_object();
	json_object_foreach(a, key, v) {
		json_t *w = json_object_get(b, key);
		if (w != NULL && out != NULL)
			json_object_set_new(out, key, fields_common(v, w));
	}
	return out;
}

json_t *docdata_fields_for(const struct workflows *wf, const char *template_name, char *label,
    size_t labellen)
{
	json_t *f = NULL;
	size_t used = 0;

	label[0] = '\0';
	for (size_t i = 0; wf && i < wf->nkinds; i++) {
		const struct wf_kind *k = &wf->kinds[i];
		if (strcmp(k->template_name, template_name) != 0 &&
		    (k->party_template == NULL || strcmp(k->party_template, template_name) != 0))
			continue;
		json_t *kf = docdata_fields(k);
		if (f == NULL) {
			f = kf;
		} else {
			json_t *both = fields_common(f, kf);
			json_decref(f);
			json_decref(kf);
			f = both;
		}
		used += (size_t)snprintf(label + used, used < labellen ? labellen - used : 0, "%s%s",
		    used ? ", " : "loại văn bản ", k->kind);
	}
	return f;
}

/* "2026-11-22T08:36:26.123Z" as W3CDTF to the second: "2026-11-22T08:36:26Z". */
static json_t *w3cdtf(const char *iso)
{
	char buf[32];

	if (iso == NULL || strlen(iso) < 19)
		return json_string("");
	snprintf(buf, sizeof(buf), "%.19sZ", iso);
	return json_string(buf);
}

/* Text as it reads in one line (a title): line breaks as spaces. */
static char *one_line(const char *s)
{
	char *out = strdup(s ? s : "");

	for (char *p = out; p && *p; p++)
		if (*p == '\n')
			*p = ' ';
	return out;
}

json_t *docdata_build(const struct config *cfg, const struct units *units, const struct wf_kind *k,
    const char *xml, size_t len, const struct docdata_issue *issue, int draft_year,
    const char *draft_time, char *err, size_t errlen)
{
	struct diag_list errs;
	xmlDocPtr doc = NULL;
	json_t *d = NULL, *body = NULL;
	char buf[512], *s = NULL;

	diag_init(&errs);
	if (xmlin_parse(xml, len, "document", &doc, &errs) != 0) {
		snprintf(err, errlen, "the stored document does not parse: %s",
		    errs.count ? errs.items[0].message : "?");
		diag_free(&errs);
		return NULL;
	}
	diag_free(&errs);
	xmlNodePtr root = xmlDocGetRootElement(doc);
	char *abbrev = xmlin_attr(root, "issuer");
	const struct config_body *b = config_find_body(cfg, abbrev);
	if (b == NULL) {
		snprintf(err, errlen, "the issuing body %s is not in vanthu.conf", abbrev);
		free(abbrev);
		xmlFreeDoc(doc);
		return NULL;
	}
	free(abbrev);
	int party = b->kind == BODY_PARTY;
	const char *sep = party ? "," : ";";
	d = json_object();
	if (d == NULL)
		goto nomem;
	json_object_set_new(d, "party", json_boolean(party));
	json_object_set_new(d, "parent", b->parent[0] ? upper_string(b->parent) : json_string(""));
	json_object_set_new(d, "issuer", party ? upper_string(b->name) : issuer_lines(b->name));
	if (issue) {
		json_object_set_new(d, "number_symbol", symbols_string(issue->symbol));
		vnfmt_date_line(b->place, issue->year, issue->month, issue->day, buf, sizeof(buf));
	} else {
		char *unit = text(doc_child(root, "drafting-unit"));
		struct symbol_of sym;
		workflow_symbol_of(k, b, unit, &sym);
		symbol_write(buf, sizeof(buf), 0, &sym);  /* the number left blank */
		free(unit);
		json_object_set_new(d, "number_symbol", symbols_string(buf));
		vnfmt_date_line(b->place, draft_year, 0, 0, buf, sizeof(buf));
	}
	json_object_set_new(d, "date_line", json_string(buf));
	if (k->title)
		json_object_set_new(d, "title", json_string(k->title));
	json_object_set_new(d, "draft", json_boolean(issue == NULL));
	s = rich_text(doc_child(root, "summary"));
	json_object_set_new(d, "summary", symbols_string(s));
	/* the package's properties: "Thông báo: Kết luận của …", the body, the issue's time */
	char *title1 = one_line(s), *ptitle = NULL;
	if (title1 == NULL || asprintf(&ptitle, "%s: %s%s", k->label ? k->label : k->kind,
	    kind_is(k, "cong-van") ? "V/v " : "", title1) < 0)
		ptitle = NULL;
	json_object_set_new(d, "props", json_pack("{s:s, s:s, s:o}", "title", ptitle ? ptitle : "",
	    "creator", b->name, "created", w3cdtf(issue ? issue->issued_at : draft_time)));
	free(ptitle);
	free(title1);
	free(s);
	if (kind_is(k, "cong-van")) {
		s = text(doc_child(root, "urgency"));
		json_object_set_new(d, "urgency", json_string(s ? s : ""));
		free(s);
	}

	/* Kính gửi (công văn) */
	json_t *to_many = json_array();
	size_t nto = 0;
	for (xmlNodePtr c = root->children; c; c = c->next)
		nto += xmlin_is(c, WF_DOC_NS, "to");
	json_object_set_new(d, "to_one", json_string(""));
	for (xmlNodePtr c = root->children; c && to_many; c = c->next) {
		if (!xmlin_is(c, WF_DOC_NS, "to"))
			continue;
		char *code = xmlin_attr(c, "unit"), *name = NULL;
		const struct unit *u = code && units ? units_find(units, code) : NULL;
		name = u ? strdup(u->name) : text(c);
		free(code);
		if (name == NULL)
			continue;
		if (nto == 1)
			json_object_set_new(d, "to_one", json_string(name));
		else
			json_array_append_new(to_many, line_obj("- ", name,
			    json_array_size(to_many) + 1 == nto ? "." : sep));
		free(name);
	}
	if (has_to(k)) {
		json_object_set_new(d, "to_any", json_boolean(nto > 0));
		json_object_set_new(d, "to_many", to_many ? to_many : json_array());
	} else {
		json_object_del(d, "to_one");
		json_decref(to_many);
	}

	/*
	 * The body. An administrative document closes with "./." (Nghị định 30); the Party's
	 * guide has no such mark and real Party documents end without it. The input's
	 * closing="true|false" decides; without it, a state body closes and a Party one does not.
	 */
	char *closing = xmlin_attr(root, "closing");
	int close_mark = closing ? strcmp(closing, "true") == 0 || strcmp(closing, "1") == 0 : !party;
	free(closing);
	body = json_array();
	json_t *last_p = NULL, *last = NULL;
	/* a báo cáo tổng hợp's figures are part of its body: where <figures/> stands, else (below) */
	int figures = kind_is(k, "bao-cao-tong-hop") && doc_child(root, "table") != NULL, placed = 0;
	size_t nparas = 0;
	for (xmlNodePtr c = doc_child(root, "body") ? doc_child(root, "body")->children : NULL; c && body;
	    c = c->next) {
		const char *key = xmlin_is(c, WF_DOC_NS, "p") ? "p" : xmlin_is(c, WF_DOC_NS, "heading") ? "heading" :
		    xmlin_is(c, WF_DOC_NS, "basis") ? "basis" : xmlin_is(c, WF_DOC_NS, "quote") ? "quote" : NULL;
		if (xmlin_is(c, WF_DOC_NS, "figures") && figures && !placed) {
			json_array_append_new(body, json_pack("{s:b}", "figures", 1));
			placed = 1;
			last = json_array_get(body, json_array_size(body) - 1);
			continue;
		}
		if (key == NULL)
			continue;
		nparas += strcmp(key, "p") == 0 || strcmp(key, "quote") == 0;
		s = rich_text(c);
		if (s == NULL)
			goto nomem;
		json_t *item = json_object();
		json_object_set_new(item, key, symbols_string(s));
		free(s);
		json_array_append_new(body, item);
		last = item;
		if (strcmp(key, "p") == 0 || strcmp(key, "quote") == 0)
			last_p = item;
	}
	/*
	 * Not placed by the input: before the last paragraph (the closing one, "Trên đây là …"),
	 * or, when the body has only one, after it, the closing mark then on a line of its own.
	 */
	if (figures && !placed) {
		size_t at = json_array_size(body);
		if (nparas >= 2)
			for (at = json_array_size(body); at > 0; at--)
				if (json_array_get(body, at - 1) == last_p)
					break;
		if (at > 0 && nparas >= 2) {
			json_array_insert_new(body, at - 1, json_pack("{s:b}", "figures", 1));
		} else {
			json_array_append_new(body, json_pack("{s:b}", "figures", 1));
			if (close_mark) {
				json_array_append_new(body, json_pack("{s:s}", "p", "./."));
				last_p = json_array_get(body, json_array_size(body) - 1);
			}
		}
		last = json_array_get(body, json_array_size(body) - 1);
	}
	if (last_p && close_mark) {
		const char *key = json_object_get(last_p, "p") ? "p" : "quote";
		const char *t = json_string_value(json_object_get(last_p, key));
		/* the closing mark goes after the marks that end bold or italic: it is never bold */
		size_t tl = t ? strlen(t) : 0, marks = 0;
		while (marks < tl && (unsigned char)t[tl - 1 - marks] >= 1 &&
		    (unsigned char)t[tl - 1 - marks] <= 4)
			marks++;
		size_t body_len = tl - marks;
		if (t && !(body_len >= 3 && strncmp(t + body_len - 3, "./.", 3) == 0)) {
			char *closed = NULL;
			if (asprintf(&closed, "%.*s%s./.", (int)(body_len && t[body_len - 1] == '.' ?
			    body_len - 1 : body_len), t, t + body_len) >= 0) {
				json_object_set_new(last_p, key, json_string(closed));
				free(closed);
			}
		}
	}
	json_object_set_new(d, "body", body);

	/* the signature block */
	xmlNodePtr sg = doc_child(root, "signer");
	json_t *lines = json_array();
	for (xmlNodePtr c = sg ? sg->children : NULL; c && lines; c = c->next) {
		if (!xmlin_is(c, WF_DOC_NS, "line"))
			continue;
		s = text(c);
		char *u = NULL, *styled = NULL;
		/* "kiêm" between two offices (BÍ THƯ ĐẢNG ỦY / kiêm / TRƯỞNG BAN CHỈ ĐẠO) stays as
		 * offices write it; every other line is upper case */
		if (s && strcmp(s, "kiêm") == 0)
			u = strdup(s);
		else if (s && vnfmt_upper(s, &u) != VNFMT_OK)
			u = NULL;
		if (u && (styled = authority_style(u, party)) != NULL)
			json_array_append_new(lines, json_pack("{s:s}", "line", styled));
		free(styled);
		free(u);
		free(s);
	}
	s = text(doc_child(sg, "name"));
	json_object_set_new(d, "signer", json_pack("{s:o, s:s}", "lines", lines ? lines : json_array(),
	    "name", s ? s : ""));
	free(s);

	/* Nơi nhận */
	json_t *rl = recipients(doc_child(root, "recipients"), units, nto > 0, sep);
	/*
	 * The last paragraph stays on the page of the signature: no office sends a signature
	 * page without text. Not when the Nơi nhận alone fills most of a page (KEEP_MAX_LINES):
	 * that block cannot share a page with anything, and keeping would only push the
	 * paragraph away from the rest of the body.
	 */
	int fit = json_array_size(rl) + 1 <= KEEP_MAX_LINES;
	if (last && fit)
		json_object_set_new(last, "keep", json_true());
	/* a Nơi nhận longer than a page: its row may split, so that it starts under the body
	 * (a row kept whole would start on a page of its own, the signature without text) */
	json_object_set_new(d, "recipients_fit", json_boolean(fit));
	json_object_set_new(d, "recipients", rl);
	s = text(doc_child(root, "archive"));
	if (s) {
		char *al = NULL;
		/* state: "- Lưu: VT, VP."; Party: "- Lưu Văn phòng Tỉnh ủy." (no colon, no VT);
		 * a line that has a full stop already ("VT, CBTH. (2)") is kept as written */
		if (asprintf(&al, "- Lưu%s %s%s", party ? "" : ":", s, strchr(s, '.') ? "" : ".") >= 0) {
			json_object_set_new(d, "archive_line", json_string(al));
			free(al);
		}
		free(s);
	}
	if (kind_is(k, "bao-cao-tong-hop")) {
		xmlNodePtr tb = doc_child(root, "table");
		char *tt = xmlin_attr(tb, "title");
		json_object_set_new(d, "table", json_pack("{s:s, s:o}", "title",
		    tt && *tt ? tt : "Kết quả thực hiện các chỉ tiêu", "rows", table_rows(tb)));
		free(tt);
	}
	xmlFreeDoc(doc);
	return d;
nomem:
	snprintf(err, errlen, "out of memory building the template data");
	json_decref(d);
	xmlFreeDoc(doc);
	return NULL;
}

/*
 * The draft's data made into what the leader signs: no "DỰ THẢO", the number
 * and the day still blank but marked (render.h's places), so that the PDF
 * says where the văn thư's step will stamp them, and the signature block
 * marked where the leader's signature image goes.
 */
int docdata_mark_for_signing(json_t *d, const char *place)
{
	const char *num = json_string_value(json_object_get(d, "number_symbol"));
	json_t *signer = json_object_get(d, "signer");
	json_t *lines = json_object_get(signer, "lines");
	const char *name = json_string_value(json_object_get(signer, "name"));
	char *s = NULL;

	if (num == NULL || name == NULL || !json_is_array(lines))
		return -1;
	json_object_set_new(d, "draft", json_false());
	if (asprintf(&s, RENDER_PLACE_NUMBER "%s", num) < 0)
		return -1;
	json_object_set_new(d, "number_symbol", json_string(s));
	free(s);
	/*
	 * The gaps are as wide as the day, the month and the year they will hold,
	 * at 14 pt. Each mark sits right after its word (the stamp goes one space
	 * after it: a space before a mark at the end of a line is not laid out),
	 * and the year's gap, at the line's end, is of no-break spaces, which a line
	 * does not drop.
	 */
	if (asprintf(&s, "%s, ngày" RENDER_PLACE_DAY "      tháng" RENDER_PLACE_MONTH
	        "      năm" RENDER_PLACE_YEAR " \xC2\xA0\xC2\xA0\xC2\xA0\xC2\xA0\xC2\xA0\xC2\xA0\xC2\xA0", place) < 0)
		return -1;
	json_object_set_new(d, "date_line", json_string(s));
	free(s);
	size_t n = json_array_size(lines);
	if (n > 0) {
		json_t *last = json_array_get(lines, n - 1);
		const char *l = json_string_value(json_object_get(last, "line"));
		if (l == NULL || asprintf(&s, "%s" RENDER_PLACE_TITLE_END, l) < 0)
			return -1;
		json_object_set_new(last, "line", json_string(s));
		free(s);
	}
	if (asprintf(&s, RENDER_PLACE_NAME_START "%s" RENDER_PLACE_NAME_END, name) < 0)
		return -1;
	json_object_set_new(signer, "name", json_string(s));
	free(s);
	return 0;
}
