/* test_render.c: unit tests of render.c (DOCX packages built in memory: values, runs, escaping, loops, copies, refusals). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "config.h"
#include "docdata.h"
#include "render.h"
#include "workflow.h"
#include "xmlin.h"
#include "testutil.h"

#define W_NS "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#define R_NS "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define MTIME 1673974800L /* 2023-01-17 17:00:00 UTC: an even second, as DOS times need */
#define DOC "word/document.xml"

/* One paragraph of one run, and one paragraph of one bold run. */
#define P(text) "<w:p><w:r><w:t xml:space=\"preserve\">" text "</w:t></w:r></w:p>"
#define PB(text) "<w:p><w:r><w:rPr><w:b/></w:rPr><w:t xml:space=\"preserve\">" text "</w:t></w:r></w:p>"
/* A table cell holding one paragraph. */
#define TC(text) "<w:tc><w:tcPr><w:tcW w:w=\"2000\" w:type=\"dxa\"/></w:tcPr>" P(text) "</w:tc>"

static const char content_types[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
    "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
    "<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-"
    "officedocument.wordprocessingml.document.main+xml\"/>"
    "<Override PartName=\"/word/styles.xml\" ContentType=\"application/vnd.openxmlformats-"
    "officedocument.wordprocessingml.styles+xml\"/>"
    "<Override PartName=\"/word/header1.xml\" ContentType=\"application/vnd.openxmlformats-"
    "officedocument.wordprocessingml.header+xml\"/>"
    "<Override PartName=\"/word/footer1.xml\" ContentType=\"application/vnd.openxmlformats-"
    "officedocument.wordprocessingml.footer+xml\"/>"
    "</Types>";

static const char package_rels[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
    "relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>";

/* Text in braces but no paragraph: a part the engine must copy as it is. */
static const char styles[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<w:styles xmlns:w=\"" W_NS "\">"
    "<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii=\"Times New Roman\" "
    "w:hAnsi=\"Times New Roman\" w:cs=\"Times New Roman\"/><w:sz w:val=\"28\"/>"
    "<w:szCs w:val=\"28\"/><w:lang w:val=\"vi-VN\"/></w:rPr></w:rPrDefault></w:docDefaults>"
    "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/>"
    "<w:pPr><w:spacing w:before=\"60\" w:after=\"60\"/><w:jc w:val=\"both\"/></w:pPr></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"VBGiua\"><w:name w:val=\"VB Giữa {{not a tag}}\"/>"
    "<w:basedOn w:val=\"Normal\"/><w:pPr><w:jc w:val=\"center\"/></w:pPr></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"VBNoiDung\"><w:name w:val=\"VB Nội dung\"/>"
    "<w:basedOn w:val=\"Normal\"/><w:pPr><w:ind w:firstLine=\"567\"/></w:pPr></w:style>"
    "</w:styles>";

/* Stored, not deflated: the copy must keep the method too. */
static const char app_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\">"
    "<Application>vanthu tests</Application></Properties>";

struct entry {
	const char *name;
	const char *data;
	size_t len;   /* 0: strlen(data) */
	int store;    /* stored rather than deflated */
};

/* ---- building and reading packages ---- */

/* A zip of the entries, in order, each stamped MTIME; malloc'd, its length in *len. */
static void *zip_build(const struct entry *e, size_t n, size_t *len)
{
	zip_error_t zerr;
	zip_source_t *src;
	zip_t *z;
	zip_stat_t st;
	void *buf;

	zip_error_init(&zerr);
	src = zip_source_buffer_create(NULL, 0, 0, &zerr);
	assert_non_null(src);
	z = zip_open_from_source(src, ZIP_TRUNCATE, &zerr);
	assert_non_null(z);
	zip_source_keep(src);
	for (size_t i = 0; i < n; i++) {
		size_t l = e[i].len ? e[i].len : strlen(e[i].data);
		zip_source_t *s = zip_source_buffer(z, e[i].data, l, 0);
		zip_int64_t at;
		assert_non_null(s);
		at = zip_file_add(z, e[i].name, s, ZIP_FL_ENC_UTF_8);
		assert_true(at >= 0);
		assert_int_equal(zip_set_file_compression(z, (zip_uint64_t)at,
		    e[i].store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 9), 0);
		assert_int_equal(zip_file_set_mtime(z, (zip_uint64_t)at, (time_t)MTIME, 0), 0);
	}
	assert_int_equal(zip_close(z), 0);
	assert_int_equal(zip_source_stat(src, &st), 0);
	assert_int_equal(zip_source_open(src), 0);
	buf = malloc(st.size);
	assert_non_null(buf);
	assert_int_equal(zip_source_read(src, buf, st.size), (zip_int64_t)st.size);
	zip_source_close(src);
	zip_source_free(src);
	zip_error_fini(&zerr);
	*len = st.size;
	return buf;
}

static char *doc_xml(const char *body)
{
	char *s = NULL;

	assert_true(asprintf(&s, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	    "<w:document xmlns:w=\"" W_NS "\" xmlns:r=\"" R_NS "\"><w:body>%s"
	    "<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/></w:sectPr></w:body></w:document>",
	    body) > 0);
	return s;
}

static char *hdr_xml(const char *root, const char *body)
{
	char *s = NULL;

	assert_true(asprintf(&s, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	    "<w:%s xmlns:w=\"" W_NS "\">%s</w:%s>", root, body, root) > 0);
	return s;
}

/* A DOCX whose body is body (header and footer paragraphs when not NULL). */
static void *make_docx(const char *body, const char *header, const char *footer, size_t *len)
{
	char *doc = doc_xml(body);
	char *hdr = header ? hdr_xml("hdr", header) : NULL;
	char *ftr = footer ? hdr_xml("ftr", footer) : NULL;
	struct entry e[7] = {
		{ "[Content_Types].xml", content_types, 0, 0 },
		{ "_rels/.rels", package_rels, 0, 0 },
		{ "docProps/app.xml", app_xml, 0, 1 },
		{ DOC, doc, 0, 0 },
		{ "word/styles.xml", styles, 0, 0 },
	};
	size_t n = 5;
	void *pkg;

	if (hdr)
		e[n++] = (struct entry){ "word/header1.xml", hdr, 0, 0 };
	if (ftr)
		e[n++] = (struct entry){ "word/footer1.xml", ftr, 0, 0 };
	pkg = zip_build(e, n, len);
	free(doc);
	free(hdr);
	free(ftr);
	return pkg;
}

/* The bytes of one entry of a package, NUL-terminated; NULL when it has none by that name. */
static char *zip_part(const void *pkg, size_t len, const char *name, size_t *plen)
{
	zip_error_t zerr;
	zip_source_t *src;
	zip_t *z;
	zip_stat_t st;
	zip_file_t *f;
	char *out = NULL;

	zip_error_init(&zerr);
	src = zip_source_buffer_create(pkg, len, 0, &zerr);
	assert_non_null(src);
	z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
	if (z == NULL)
		fail_msg("output is not a zip: %s", zip_error_strerror(&zerr));
	if (zip_stat(z, name, 0, &st) == 0) {
		f = zip_fopen(z, name, 0);
		assert_non_null(f);
		out = malloc(st.size + 1);
		assert_non_null(out);
		assert_int_equal(zip_fread(f, out, st.size), (zip_int64_t)st.size);
		out[st.size] = '\0';
		zip_fclose(f);
		if (plen)
			*plen = st.size;
	}
	zip_discard(z);
	zip_error_fini(&zerr);
	return out;
}

/* A zip opened read-only over bytes that outlive it. */
static zip_t *zip_over(const void *pkg, size_t len)
{
	zip_error_t zerr;
	zip_source_t *src;
	zip_t *z;

	zip_error_init(&zerr);
	src = zip_source_buffer_create(pkg, len, 0, &zerr);
	assert_non_null(src);
	z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
	if (z == NULL)
		fail_msg("not a zip: %s", zip_error_strerror(&zerr));
	zip_error_fini(&zerr);
	return z;
}

/* Test data written with ' for ", so that it reads in C. */
static json_t *J(const char *relaxed)
{
	char *s = strdup(relaxed);
	json_error_t je;
	json_t *j;

	assert_non_null(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	j = json_loads(s, 0, &je);
	if (j == NULL)
		fail_msg("bad test JSON %s: %s", s, je.text);
	free(s);
	return j;
}

static struct render_template *load_ok(const void *pkg, size_t len)
{
	struct render_template *t = NULL;
	struct diag_list d;

	diag_init(&d);
	if (render_load_memory("t.docx", pkg, len, &t, &d) != 0) {
		test_print_diags(&d);
		fail_msg("the template was refused");
	}
	assert_non_null(t);
	assert_int_equal(d.count, 0);
	diag_free(&d);
	return t;
}

static void *render_ok(const struct render_template *t, json_t *data, long mtime, size_t *len)
{
	char err[256] = "";
	void *out = NULL;

	if (render_to_memory(t, data, mtime, &out, len, err, sizeof(err)) != 0)
		fail_msg("render: %s", err);
	assert_non_null(out);
	return out;
}

static xmlDocPtr parse_xml(const char *xml, size_t len, const char *name)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)len, name, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

	if (doc == NULL)
		fail_msg("%s is not well-formed XML:\n%s", name, xml);
	return doc;
}

/* A rendered part, parsed. */
static xmlDocPtr out_part(const void *pkg, size_t len, const char *name)
{
	size_t plen = 0;
	char *xml = zip_part(pkg, len, name, &plen);
	xmlDocPtr doc;

	if (xml == NULL)
		fail_msg("the output has no %s", name);
	doc = parse_xml(xml, plen, name);
	free(xml);
	return doc;
}

/* Loads a document with this body, renders it with data (taken), returns the body parsed. */
static xmlDocPtr render_body(const char *body, json_t *data)
{
	size_t tlen, olen;
	void *tpl = make_docx(body, NULL, NULL, &tlen);
	struct render_template *t = load_ok(tpl, tlen);
	void *out = render_ok(t, data, MTIME, &olen);
	xmlDocPtr doc = out_part(out, olen, DOC);

	free(out);
	render_free(t);
	free(tpl);
	json_decref(data);
	return doc;
}

/* ---- reading the rendered XML ---- */

static xmlXPathObjectPtr xpath(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr r;

	assert_non_null(ctx);
	xmlXPathRegisterNs(ctx, BAD_CAST "w", BAD_CAST W_NS);
	r = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	xmlXPathFreeContext(ctx);
	if (r == NULL)
		fail_msg("bad XPath %s", expr);
	return r;
}

static int count(xmlDocPtr doc, const char *expr)
{
	xmlXPathObjectPtr r = xpath(doc, expr);
	int n = r->nodesetval ? r->nodesetval->nodeNr : 0;

	xmlXPathFreeObject(r);
	return n;
}

/* string(expr), compared. */
static void assert_xstr(xmlDocPtr doc, const char *expr, const char *want)
{
	xmlXPathObjectPtr r = xpath(doc, expr);
	xmlChar *s = xmlXPathCastToString(r);

	if (strcmp((const char *)s, want) != 0)
		fail_msg("%s is \"%s\", not \"%s\"", expr, s, want);
	xmlFree(s);
	xmlXPathFreeObject(r);
}

static void add_text(char **buf, size_t *len, const char *s)
{
	size_t n = strlen(s);
	char *p = realloc(*buf, *len + n + 1);

	assert_non_null(p);
	memcpy(p + *len, s, n + 1);
	*buf = p;
	*len += n;
}

/*
 * The text a reader sees in n: its w:t, a w:br as "\n", a w:tab as "\t"; in a
 * paragraph, not the paragraphs nested in it (text boxes).
 */
static void text_walk(xmlNodePtr n, int in_p, char **buf, size_t *len)
{
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || c->ns == NULL ||
		    strcmp((const char *)c->ns->href, W_NS) != 0)
			continue;
		if (strcmp((const char *)c->name, "t") == 0) {
			xmlChar *v = xmlNodeGetContent(c);
			add_text(buf, len, (const char *)v);
			xmlFree(v);
		} else if (strcmp((const char *)c->name, "br") == 0) {
			add_text(buf, len, "\n");
		} else if (strcmp((const char *)c->name, "tab") == 0) {
			add_text(buf, len, "\t");
		} else if (strcmp((const char *)c->name, "p") == 0) {
			if (!in_p)
				text_walk(c, 1, buf, len);
		} else {
			text_walk(c, in_p, buf, len);
		}
	}
}

static char *node_text(xmlNodePtr n)
{
	char *buf = NULL;
	size_t len = 0;

	add_text(&buf, &len, "");
	text_walk(n, strcmp((const char *)n->name, "p") == 0, &buf, &len);
	return buf;
}

/* The paragraphs that expr selects hold exactly these texts, in order (want ends with NULL). */
static void assert_texts(xmlDocPtr doc, const char *expr, const char *const *want)
{
	xmlXPathObjectPtr r = xpath(doc, expr);
	int n = r->nodesetval ? r->nodesetval->nodeNr : 0, nwant = 0;

	while (want[nwant])
		nwant++;
	for (int i = 0; i < n && i < nwant; i++) {
		char *s = node_text(r->nodesetval->nodeTab[i]);
		if (strcmp(s, want[i]) != 0)
			fail_msg("%s [%d] is \"%s\", not \"%s\"", expr, i + 1, s, want[i]);
		free(s);
	}
	if (n != nwant)
		fail_msg("%s: %d nodes, not %d", expr, n, nwant);
	xmlXPathFreeObject(r);
}

#define BODY_P "/w:document/w:body/w:p"
#define TEXTS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- values ---- */

static void test_value(void **state)
{
	xmlDocPtr doc;

	(void)state;
	doc = render_body(P("Kính gửi: {{to}}!") P("Số {{n}}, tỷ lệ {{rate}}, {{ spaced }}") P("Không có thẻ"),
	    J("{'to': 'Sở Nội vụ', 'n': 42, 'rate': 85.5, 'spaced': 'có khoảng trắng'}"));
	assert_texts(doc, BODY_P, TEXTS("Kính gửi: Sở Nội vụ!", "Số 42, tỷ lệ 85.5, có khoảng trắng",
	    "Không có thẻ"));
	xmlFreeDoc(doc);
}

static void test_dotted_value(void **state)
{
	xmlDocPtr doc;

	(void)state;
	doc = render_body(P("{{signer.name}}") P("{{a.b.c}}") P("{{signer}}"),
	    J("{'signer': {'name': 'Nguyễn Thị Ánh Hồng'}, 'a': {'b': {'c': 'sâu ba tầng'}}}"));
	/* an object is not text: it renders empty */
	assert_texts(doc, BODY_P, TEXTS("Nguyễn Thị Ánh Hồng", "sâu ba tầng", ""));
	xmlFreeDoc(doc);
}

/*
 * Word splits "{{name}}" over runs of different formatting: the value takes
 * the run where the tag starts, and the later runs keep the text after it.
 */
static void test_tag_split_across_runs(void **state)
{
	xmlDocPtr doc;

	(void)state;
	doc = render_body(
	    "<w:p><w:r><w:rPr><w:b/></w:rPr><w:t xml:space=\"preserve\">Kính gửi {{na</w:t></w:r>"
	    "<w:r><w:rPr><w:i/></w:rPr><w:t>m</w:t></w:r>"
	    "<w:r><w:rPr><w:u w:val=\"single\"/></w:rPr><w:t xml:space=\"preserve\">e}} và các đơn vị</w:t></w:r></w:p>"
	    /* starts in a plain run, ends in a bold one: the value is plain */
	    "<w:p><w:r><w:t>{{</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>name</w:t></w:r>"
	    "<w:r><w:rPr><w:b/></w:rPr><w:t>}}</w:t></w:r></w:p>",
	    J("{'name': 'Bình'}"));
	assert_texts(doc, BODY_P, TEXTS("Kính gửi Bình và các đơn vị", "Bình"));
	assert_int_equal(count(doc, BODY_P "[1]/w:r"), 3);
	/* the value is in the bold run, with the text that was before the tag */
	assert_xstr(doc, BODY_P "[1]/w:r[w:rPr/w:b]/w:t", "Kính gửi Bình");
	/* the middle run gave all its text to the tag */
	assert_xstr(doc, BODY_P "[1]/w:r[w:rPr/w:i]", "");
	/* the last run keeps its formatting and the text after the tag */
	assert_xstr(doc, BODY_P "[1]/w:r[w:rPr/w:u]/w:t", " và các đơn vị");
	assert_xstr(doc, BODY_P "[2]/w:r[not(w:rPr/w:b)]/w:t", "Bình");
	assert_int_equal(count(doc, BODY_P "[2]/w:r[w:rPr/w:b]/w:t[string-length(.) > 0]"), 0);
	xmlFreeDoc(doc);
}

static void test_escaping(void **state)
{
	xmlDocPtr doc;

	(void)state;
	doc = render_body(PB("{{a}}|{{b}}|{{c}}"),
	    json_pack("{s:s, s:s, s:s}", "a", "Sở TT&TT <b>\"trích\"</b> 'dẫn' & >",
	    "b", "</w:t><w:b/>", "c", "]]><!-- x --><?pi?>&amp;"));
	assert_texts(doc, BODY_P, TEXTS("Sở TT&TT <b>\"trích\"</b> 'dẫn' & >|</w:t><w:b/>|"
	    "]]><!-- x --><?pi?>&amp;"));
	/* nothing of the values became markup: one run, one text, the one w:b of the template */
	assert_int_equal(count(doc, "//w:r"), 1);
	assert_int_equal(count(doc, "//w:t"), 1);
	assert_int_equal(count(doc, "//w:b"), 1);
	assert_int_equal(count(doc, "//comment() | //processing-instruction()"), 0);
	xmlFreeDoc(doc);
}

/* A newline is a line break inside the same run (so it keeps its formatting); \r goes. */
static void test_newline(void **state)
{
	xmlDocPtr doc;
	xmlXPathObjectPtr r;
	const char *want[] = { "rPr", "t", "br", "t", "br", "t" };
	xmlNodePtr c;
	size_t k = 0;

	(void)state;
	doc = render_body(PB("{{issuer}}"), J("{'issuer': 'ỦY BAN NHÂN DÂN\\nTỈNH BÀ RỊA - VŨNG TÀU\\r\\nVĂN PHÒNG'}"));
	assert_texts(doc, BODY_P, TEXTS("ỦY BAN NHÂN DÂN\nTỈNH BÀ RỊA - VŨNG TÀU\nVĂN PHÒNG"));
	assert_int_equal(count(doc, "//w:r"), 1);
	r = xpath(doc, "//w:r");
	for (c = r->nodesetval->nodeTab[0]->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (k == sizeof(want) / sizeof(want[0]))
			fail_msg("the run holds more than %zu elements", k);
		assert_string_equal((const char *)c->name, want[k]);
		k++;
	}
	assert_int_equal(k, sizeof(want) / sizeof(want[0]));
	xmlXPathFreeObject(r);
	/* every piece of text after a break keeps its spaces */
	assert_int_equal(count(doc, "//w:t[not(@xml:space = 'preserve')]"), 0);
	xmlFreeDoc(doc);
}

/* ---- sections ---- */

static json_t *items(size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s+}", "name", "Mục ", i == 0 ? "một" : "khác"));
	return json_pack("{s:o}", "items", a);
}

/* Both tags in one paragraph: the paragraph repeats, with its properties. */
static void test_paragraph_loop(void **state)
{
	static const size_t ns[] = { 0, 1, 300 };

	(void)state;
	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		xmlDocPtr doc = render_body(P("Trước")
		    "<w:p><w:pPr><w:jc w:val=\"center\"/></w:pPr><w:r><w:t xml:space=\"preserve\">"
		    "{{#items}}- {{name}};{{/items}}</w:t></w:r></w:p>" P("Sau"), items(ns[k]));
		char expr[128];
		assert_int_equal(count(doc, BODY_P), (int)ns[k] + 2);
		assert_int_equal(count(doc, BODY_P "[w:pPr/w:jc/@w:val = 'center']"), (int)ns[k]);
		assert_xstr(doc, BODY_P "[1]", "Trước");
		snprintf(expr, sizeof(expr), BODY_P "[%zu]", ns[k] + 2);
		assert_xstr(doc, expr, "Sau");
		if (ns[k] >= 1)
			assert_xstr(doc, BODY_P "[2]", "- Mục một;");
		for (size_t i = 1; i < ns[k]; i++) {
			snprintf(expr, sizeof(expr), BODY_P "[%zu]", i + 2);
			assert_xstr(doc, expr, "- Mục khác;");
		}
		xmlFreeDoc(doc);
	}
}

/* Each tag alone in a paragraph: what is between repeats, the two tag paragraphs vanish. */
static void test_block_loop(void **state)
{
	const char *body = P("Trước") P("{{#items}}") PB("{{name}}") P("Ghi chú của {{name}}")
	    P("{{/items}}") P("Sau");
	xmlDocPtr doc;

	(void)state;
	doc = render_body(body, items(3));
	assert_texts(doc, BODY_P, TEXTS("Trước", "Mục một", "Ghi chú của Mục một", "Mục khác",
	    "Ghi chú của Mục khác", "Mục khác", "Ghi chú của Mục khác", "Sau"));
	assert_int_equal(count(doc, BODY_P "[w:r/w:rPr/w:b]"), 3);
	xmlFreeDoc(doc);
	doc = render_body(body, items(0));
	assert_texts(doc, BODY_P, TEXTS("Trước", "Sau"));
	xmlFreeDoc(doc);
	/* a condition over an object: shown once, its fields in reach */
	doc = render_body(P("{{#signer}}") P("{{name}}") P("{{/signer}}") P("{{#missing}}") P("ẩn")
	    P("{{/missing}}"), J("{'signer': {'name': 'Lê Văn Minh'}}"));
	assert_texts(doc, BODY_P, TEXTS("Lê Văn Minh"));
	xmlFreeDoc(doc);
}

/* The body of thong-bao: a list of items, each a heading, a paragraph or a basis. */
static void test_nested_sections(void **state)
{
	xmlDocPtr doc;

	(void)state;
	doc = render_body(P("{{#body}}") P("{{#heading}}") PB("{{heading}}") P("{{/heading}}")
	    P("{{#p}}") P("{{p}}") P("{{/p}}") P("{{#basis}}")
	    "<w:p><w:r><w:rPr><w:i/></w:rPr><w:t>{{basis}}</w:t></w:r></w:p>" P("{{/basis}}")
	    P("{{/body}}") P("{{#signer.lines}}") PB("{{line}} ({{signer.name}})") P("{{/signer.lines}}"),
	    J("{'body': [{'basis': 'Căn cứ Luật;'}, {'heading': '1. Kết quả'}, {'p': 'Đạt.'},"
	    " {'p': 'Chưa đạt.'}, {'heading': '2. Kiến nghị'}, {'p': 'Tiếp tục./.'}],"
	    " 'signer': {'name': 'Trần Văn Hùng', 'lines': [{'line': 'KT. GIÁM ĐỐC'},"
	    " {'line': 'PHÓ GIÁM ĐỐC'}]}}"));
	assert_texts(doc, BODY_P, TEXTS("Căn cứ Luật;", "1. Kết quả", "Đạt.", "Chưa đạt.",
	    "2. Kiến nghị", "Tiếp tục./.", "KT. GIÁM ĐỐC (Trần Văn Hùng)",
	    "PHÓ GIÁM ĐỐC (Trần Văn Hùng)"));
	assert_texts(doc, BODY_P "[w:r/w:rPr/w:i]", TEXTS("Căn cứ Luật;"));
	assert_texts(doc, BODY_P "[w:r/w:rPr/w:b]", TEXTS("1. Kết quả", "2. Kiến nghị",
	    "KT. GIÁM ĐỐC (Trần Văn Hùng)", "PHÓ GIÁM ĐỐC (Trần Văn Hùng)"));
	xmlFreeDoc(doc);
	/* nested paragraph loops: one paragraph per pair */
	doc = render_body(P("{{#groups}}{{#members}}{{g}}: {{m}}{{/members}}{{/groups}}"),
	    J("{'groups': [{'g': 'A', 'members': [{'m': '1'}, {'m': '2'}]}, {'g': 'B', 'members': []},"
	    " {'g': 'C', 'members': [{'m': '3'}]}]}"));
	assert_texts(doc, BODY_P, TEXTS("A: 1", "A: 2", "C: 3"));
	xmlFreeDoc(doc);
}

static void test_inverted_section(void **state)
{
	const char *body = P("{{^items}}Không có mục nào.{{/items}}") P("{{^draft}}Bản chính{{/draft}}")
	    P("{{^signed}}") P("Chưa ký") P("{{/signed}}") P("Hết");
	xmlDocPtr doc;

	(void)state;
	doc = render_body(body, J("{'items': [], 'draft': false, 'signed': ''}"));
	assert_texts(doc, BODY_P, TEXTS("Không có mục nào.", "Bản chính", "Chưa ký", "Hết"));
	xmlFreeDoc(doc);
	doc = render_body(body, J("{}"));
	assert_texts(doc, BODY_P, TEXTS("Không có mục nào.", "Bản chính", "Chưa ký", "Hết"));
	xmlFreeDoc(doc);
	doc = render_body(body, J("{'items': [{'x': 1}], 'draft': true, 'signed': 'có'}"));
	assert_texts(doc, BODY_P, TEXTS("Hết"));
	xmlFreeDoc(doc);
	doc = render_body(body, J("{'items': null, 'draft': 0, 'signed': null}"));
	assert_texts(doc, BODY_P, TEXTS("Không có mục nào.", "Bản chính", "Chưa ký", "Hết"));
	xmlFreeDoc(doc);
}

/* The open tag in the first cell, the close tag in the last: the row repeats. */
static void test_table_row_loop(void **state)
{
	const char *body = "<w:tbl><w:tblPr><w:tblW w:w=\"6000\" w:type=\"dxa\"/></w:tblPr>"
	    "<w:tblGrid><w:gridCol w:w=\"2000\"/><w:gridCol w:w=\"2000\"/><w:gridCol w:w=\"2000\"/></w:tblGrid>"
	    "<w:tr>" TC("TT") TC("Đơn vị") TC("Giá trị") "</w:tr>"
	    "<w:tr><w:trPr><w:cantSplit/></w:trPr>" TC("{{#table.rows}}{{stt}}") TC("{{unit}}")
	    TC("{{value}} {{measure}}{{/table.rows}}") "</w:tr>"
	    "<w:tr>" TC("") TC("Cộng") TC("{{total}}") "</w:tr>"
	    "</w:tbl>" P("Sau bảng");
	xmlDocPtr doc;

	(void)state;
	doc = render_body(body, J("{'total': '3', 'table': {'rows': ["
	    "{'stt': '1', 'unit': 'Sở Nội vụ', 'value': '97,2', 'measure': '%'},"
	    "{'stt': '2', 'unit': 'Sở TT&TT', 'value': '42', 'measure': 'dịch vụ'},"
	    "{'stt': '3', 'unit': 'UBND thành phố Bà Rịa', 'value': '61,3', 'measure': '%'}]}}"));
	assert_int_equal(count(doc, "//w:tbl"), 1);
	assert_int_equal(count(doc, "//w:tr"), 5);
	assert_int_equal(count(doc, "//w:tr[w:trPr/w:cantSplit]"), 3);
	assert_texts(doc, "//w:tr[2]/w:tc", TEXTS("1", "Sở Nội vụ", "97,2 %"));
	assert_texts(doc, "//w:tr[3]/w:tc", TEXTS("2", "Sở TT&TT", "42 dịch vụ"));
	assert_texts(doc, "//w:tr[4]/w:tc", TEXTS("3", "UBND thành phố Bà Rịa", "61,3 %"));
	assert_texts(doc, "//w:tr[5]/w:tc", TEXTS("", "Cộng", "3"));
	assert_texts(doc, BODY_P, TEXTS("Sau bảng"));
	xmlFreeDoc(doc);
	doc = render_body(body, J("{'total': '0', 'table': {'rows': []}}"));
	assert_int_equal(count(doc, "//w:tr"), 2);
	assert_texts(doc, "//w:tr[1]/w:tc", TEXTS("TT", "Đơn vị", "Giá trị"));
	assert_texts(doc, "//w:tr[2]/w:tc", TEXTS("", "Cộng", "0"));
	xmlFreeDoc(doc);
}

static void test_dot_over_strings(void **state)
{
	xmlDocPtr doc;

	(void)state;
	doc = render_body(P("{{#names}}- {{.}}{{/names}}") P("{{#names}}") PB("{{ . }}") P("{{/names}}"),
	    J("{'names': ['An', 'Bình', 'Chi & Dũng']}"));
	assert_texts(doc, BODY_P, TEXTS("- An", "- Bình", "- Chi & Dũng", "An", "Bình", "Chi & Dũng"));
	xmlFreeDoc(doc);
}

static void test_missing_values(void **state)
{
	xmlDocPtr doc;

	(void)state;
	doc = render_body(P("[{{nothing}}][{{a.b.c}}][{{obj.none}}][{{nul}}][{{no.such.path}}]")
	    P("{{#nothing}}ẩn{{/nothing}}") P("{{#nothing}}") P("ẩn") P("{{/nothing}}") P("Hết"),
	    J("{'obj': {}, 'nul': null, 'a': {'b': 1}}"));
	assert_texts(doc, BODY_P, TEXTS("[][][][][]", "Hết"));
	xmlFreeDoc(doc);
	/* no data at all */
	doc = render_body(P("[{{x}}]"), json_null());
	assert_texts(doc, BODY_P, TEXTS("[]"));
	xmlFreeDoc(doc);
}

static void test_header_and_footer(void **state)
{
	size_t tlen, olen;
	void *tpl = make_docx(P("{{title}}"), PB("{{issuer}}") P("{{#draft}}DỰ THẢO{{/draft}}"),
	    P("Số: {{number_symbol}}") P("{{#recipients}}") P("{{line}}") P("{{/recipients}}"), &tlen);
	struct render_template *t = load_ok(tpl, tlen);
	json_t *data = J("{'title': 'THÔNG BÁO', 'issuer': 'ỦY BAN NHÂN DÂN\\nTỈNH', 'draft': true,"
	    " 'number_symbol': '12/TB-UBND', 'recipients': []}");
	void *out;
	xmlDocPtr doc;

	(void)state;
	out = render_ok(t, data, MTIME, &olen);
	doc = out_part(out, olen, "word/header1.xml");
	assert_texts(doc, "/w:hdr/w:p", TEXTS("ỦY BAN NHÂN DÂN\nTỈNH", "DỰ THẢO"));
	xmlFreeDoc(doc);
	doc = out_part(out, olen, "word/footer1.xml");
	assert_texts(doc, "/w:ftr/w:p", TEXTS("Số: 12/TB-UBND"));
	xmlFreeDoc(doc);
	doc = out_part(out, olen, DOC);
	assert_texts(doc, BODY_P, TEXTS("THÔNG BÁO"));
	xmlFreeDoc(doc);
	free(out);
	render_free(t);
	free(tpl);
	json_decref(data);
}

/* ---- the package ---- */

/* The compressed bytes of an entry, as stored. */
static void *raw_entry(zip_t *z, const char *name, zip_stat_t *st)
{
	zip_file_t *f;
	void *buf;

	assert_int_equal(zip_stat(z, name, 0, st), 0);
	f = zip_fopen(z, name, ZIP_FL_COMPRESSED);
	assert_non_null(f);
	buf = malloc(st->comp_size + 1);
	assert_non_null(buf);
	assert_int_equal(zip_fread(f, buf, st->comp_size), (zip_int64_t)st->comp_size);
	zip_fclose(f);
	return buf;
}

/* Parts without tags are copied as they are stored: same method, size, CRC and compressed bytes. */
static void test_untouched_parts_copied_compressed(void **state)
{
	static const char *const untouched[] = { "[Content_Types].xml", "_rels/.rels",
		"word/styles.xml" };
	size_t tlen, olen;
	void *tpl = make_docx(P("{{x}}"), P("Không thẻ"), NULL, &tlen);
	struct render_template *t = load_ok(tpl, tlen);
	json_t *data = J("{'x': 'giá trị'}");
	void *out = render_ok(t, data, MTIME, &olen);
	zip_t *zt = zip_over(tpl, tlen), *zo = zip_over(out, olen);
	zip_stat_t a, b;

	(void)state;
	assert_int_equal(zip_get_num_entries(zo, 0), zip_get_num_entries(zt, 0));
	for (zip_int64_t i = 0; i < zip_get_num_entries(zt, 0); i++)
		assert_string_equal(zip_get_name(zo, (zip_uint64_t)i, 0), zip_get_name(zt, (zip_uint64_t)i, 0));
	for (size_t i = 0; i < sizeof(untouched) / sizeof(untouched[0]); i++) {
		void *ra = raw_entry(zt, untouched[i], &a);
		void *rb = raw_entry(zo, untouched[i], &b);
		assert_int_equal(b.comp_method, a.comp_method);
		assert_int_equal(b.comp_size, a.comp_size);
		assert_int_equal(b.size, a.size);
		assert_int_equal(b.crc, a.crc);
		assert_memory_equal(rb, ra, a.comp_size);
		free(ra);
		free(rb);
	}
	/* a stored part keeps its content (whether it stays stored: test_bug_stored_part_deflated) */
	assert_int_equal(zip_stat(zo, "docProps/app.xml", 0, &b), 0);
	assert_int_equal(b.size, strlen(app_xml));
	assert_int_equal(zip_stat(zt, "word/styles.xml", 0, &a), 0);
	assert_int_equal(a.comp_method, ZIP_CM_DEFLATE);
	assert_true(a.comp_size < a.size);
	/* the rendered parts are deflated */
	assert_int_equal(zip_stat(zo, DOC, 0, &b), 0);
	assert_int_equal(b.comp_method, ZIP_CM_DEFLATE);
	assert_int_equal(zip_stat(zo, "word/header1.xml", 0, &b), 0);
	assert_int_equal(b.comp_method, ZIP_CM_DEFLATE);
	zip_discard(zt);
	zip_discard(zo);
	free(out);
	json_decref(data);
	render_free(t);
	free(tpl);
}

static void test_deterministic(void **state)
{
	size_t tlen, l1, l2, l3, l4;
	void *tpl = make_docx(P("{{#items}}{{name}}{{/items}}") P("{{title}}"), P("{{title}}"), P("x"), &tlen);
	struct render_template *t = load_ok(tpl, tlen), *t2 = load_ok(tpl, tlen);
	json_t *data = items(20);
	void *o1, *o2, *o3, *o4;
	zip_t *z;
	zip_stat_t st;

	(void)state;
	json_object_set_new(data, "title", json_string("THÔNG BÁO"));
	o1 = render_ok(t, data, MTIME, &l1);
	o2 = render_ok(t, data, MTIME, &l2);
	o3 = render_ok(t2, data, MTIME, &l3);
	assert_int_equal(l1, l2);
	assert_memory_equal(o1, o2, l1);
	assert_int_equal(l1, l3);
	assert_memory_equal(o1, o3, l1);
	/* every entry carries the given time */
	z = zip_over(o1, l1);
	for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); i++) {
		assert_int_equal(zip_stat_index(z, (zip_uint64_t)i, 0, &st), 0);
		if (st.mtime != (time_t)MTIME)
			fail_msg("%s has mtime %lld, not %ld", st.name, (long long)st.mtime, MTIME);
	}
	zip_discard(z);
	/* another time, other bytes, that time on every entry */
	o4 = render_ok(t, data, MTIME + 86400, &l4);
	assert_true(l4 != l1 || memcmp(o4, o1, l1) != 0);
	z = zip_over(o4, l4);
	for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); i++) {
		assert_int_equal(zip_stat_index(z, (zip_uint64_t)i, 0, &st), 0);
		assert_int_equal(st.mtime, (time_t)(MTIME + 86400));
	}
	zip_discard(z);
	free(o1);
	free(o2);
	free(o3);
	free(o4);
	json_decref(data);
	render_free(t);
	render_free(t2);
	free(tpl);
}

/* ---- refusals ---- */

/* Loads a template that must be refused; d is filled (caller frees). */
static void load_refused(const void *pkg, size_t len, struct diag_list *d)
{
	struct render_template *t = (struct render_template *)1;

	diag_init(d);
	assert_int_equal(render_load_memory("t.docx", pkg, len, &t, d), -1);
	assert_null(t);
	if (d->count == 0)
		fail_msg("refused without a diagnostic");
}

static void refuse_body(const char *body, struct diag_list *d)
{
	size_t len;
	void *pkg = make_docx(body, NULL, NULL, &len);

	load_refused(pkg, len, d);
	free(pkg);
}

/* Does a diagnostic's file name the part ("TEMPLATE.docx:word/document.xml")? */
static int names_part(const char *file, const char *part)
{
	size_t f = strlen(file), n = strlen(part);

	return f > n && strcmp(file + f - n, part) == 0 && file[f - n - 1] == ':';
}

/* One diagnostic names template, part and paragraph (as its line, and "đoạn N") and says what. */
static void assert_diag(const struct diag_list *d, const char *part, int para, const char *what)
{
	char pn[32];

	snprintf(pn, sizeof(pn), "đoạn %d", para);
	for (size_t i = 0; i < d->count; i++)
		if (names_part(d->items[i].file, part) && d->items[i].line == para &&
		    strstr(d->items[i].message, pn) && strstr(d->items[i].message, what))
			return;
	test_print_diags(d);
	fail_msg("no diagnostic %s:%d: ... %s ... %s", part, para, pn, what);
}

static void test_refused_unclosed(void **state)
{
	struct diag_list d;

	(void)state;
	refuse_body(P("Trước") P("{{#items}}") P("{{name}}"), &d);
	assert_int_equal(d.count, 1);
	assert_diag(&d, DOC, 2, "{{#items}} không được đóng");
	diag_free(&d);
	refuse_body(P("{{^items}}Không có{{/item}}") P("{{#a}}{{#b}}{{/b}}"), &d);
	assert_diag(&d, DOC, 1, "{{/item}} lại đóng {{^items}} của đoạn 1");
	assert_diag(&d, DOC, 2, "{{#a}} không được đóng");
	diag_free(&d);
}

static void test_refused_closes_nothing(void **state)
{
	struct diag_list d;

	(void)state;
	refuse_body(P("Trước") P("{{/b}}") P("Sau"), &d);
	assert_int_equal(d.count, 1);
	assert_diag(&d, DOC, 2, "{{/b}} không đóng phần nào");
	diag_free(&d);
}

static void test_refused_wrong_close(void **state)
{
	struct diag_list d;

	(void)state;
	refuse_body(P("{{#a}}") P("x") P("{{/b}}"), &d);
	assert_int_equal(d.count, 1);
	assert_diag(&d, DOC, 3, "{{/b}} lại đóng {{#a}} của đoạn 1");
	diag_free(&d);
}

static void test_refused_tag_across_paragraphs(void **state)
{
	struct diag_list d;

	(void)state;
	refuse_body(P("Kính gửi {{na") P("me}}"), &d);
	assert_diag(&d, DOC, 1, "không được trải qua nhiều đoạn");
	assert_diag(&d, DOC, 2, "\"}}\" không có \"{{\" mở trước");
	diag_free(&d);
}

static void test_refused_invalid_names(void **state)
{
	struct diag_list d;

	(void)state;
	refuse_body(P("{{họ và tên}}") P("ok {{a}}") P("{{a+b}}") P("{{}}") P("{{#}}"), &d);
	assert_int_equal(d.count, 4);
	assert_diag(&d, DOC, 1, "\"{{họ và tên}}\" không phải là tên thẻ");
	assert_diag(&d, DOC, 3, "\"{{a+b}}\" không phải là tên thẻ");
	assert_diag(&d, DOC, 4, "\"{{}}\" không phải là tên thẻ");
	assert_diag(&d, DOC, 5, "\"{{#}}\" không phải là tên thẻ");
	diag_free(&d);
}

/* A section tag with text beside it, its other end in another paragraph. */
static void test_refused_section_with_text(void **state)
{
	struct diag_list d;
	size_t len;
	void *pkg;

	(void)state;
	refuse_body(P("Kính gửi: {{#to}}") P("{{line}}") P("{{/to}}"), &d);
	assert_int_equal(d.count, 1);
	assert_diag(&d, DOC, 1, "{{#to}} và {{/to}} của nó (đoạn 3) phải cùng một đoạn");
	diag_free(&d);
	refuse_body(P("{{#to}}") P("{{line}}") P("{{/to}} hết"), &d);
	assert_int_equal(d.count, 1);
	assert_diag(&d, DOC, 1, "{{#to}} và {{/to}} của nó (đoạn 3)");
	diag_free(&d);
	/* tag-only, but one in the body and one in a table cell */
	refuse_body(P("{{#to}}") "<w:tbl><w:tr>" TC("{{/to}}") "</w:tr></w:tbl>" P(""), &d);
	assert_diag(&d, DOC, 1, "{{#to}} và {{/to}} của nó (đoạn 2)");
	diag_free(&d);
	/* in a footer: the part is named */
	pkg = make_docx(P("x"), NULL, P("Số: {{number_symbol}} - {{#recipients}}") P("{{line}}")
	    P("{{/recipients}}"), &len);
	load_refused(pkg, len, &d);
	assert_int_equal(d.count, 1);
	assert_diag(&d, "word/footer1.xml", 1, "{{#recipients}} và {{/recipients}} của nó (đoạn 3)");
	diag_free(&d);
	free(pkg);
}

static void test_refused_not_a_zip(void **state)
{
	static const char text[] = "Kính gửi: Sở Nội vụ";
	static const char fake[] = "PK\x03\x04 not really a zip";
	struct diag_list d;

	(void)state;
	load_refused(text, sizeof(text) - 1, &d);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].file, "t.docx");
	assert_non_null(strstr(d.items[0].message, "không phải tệp DOCX"));
	diag_free(&d);
	load_refused(fake, sizeof(fake) - 1, &d);
	assert_non_null(strstr(d.items[0].message, "không phải tệp DOCX"));
	diag_free(&d);
	/* no bytes at all: libzip reads an empty archive, refused for want of a body */
	load_refused("", 0, &d);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].file, "t.docx");
	diag_free(&d);
}

static void test_refused_no_document(void **state)
{
	struct entry e[] = {
		{ "[Content_Types].xml", content_types, 0, 0 },
		{ "word/styles.xml", styles, 0, 0 },
		{ "word/document2.xml", "<x/>", 0, 0 },
	};
	struct diag_list d;
	size_t len;
	void *pkg = zip_build(e, sizeof(e) / sizeof(e[0]), &len);

	(void)state;
	load_refused(pkg, len, &d);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].file, "t.docx");
	assert_non_null(strstr(d.items[0].message, "không có word/document.xml"));
	diag_free(&d);
	free(pkg);
}

static void test_refused_not_xml(void **state)
{
	struct entry e[] = {
		{ "[Content_Types].xml", content_types, 0, 0 },
		{ DOC, "<w:document xmlns:w=\"" W_NS "\"><w:body><w:p></w:body></w:document>", 0, 0 },
	};
	struct diag_list d;
	size_t len;
	void *pkg = zip_build(e, sizeof(e) / sizeof(e[0]), &len);
	int named = 0;

	(void)state;
	load_refused(pkg, len, &d);
	for (size_t i = 0; i < d.count; i++)
		named += strstr(d.items[i].message, "word/document.xml không phải XML đúng cú pháp") != NULL;
	assert_int_equal(named, 1);
	diag_free(&d);
	free(pkg);
}

/* ---- regressions: engine bugs these tests found, now fixed ---- */

/*
 * Every error of a template at once: today a tag-level error (a name, a tag
 * across paragraphs) stops the section checks, and the first section error
 * stops the "must share a paragraph" check, so the clerk fixes one and meets
 * the next on the following reload.
 */
static void test_bug_every_error_listed(void **state)
{
	struct diag_list d;

	(void)state;
	refuse_body(P("{{/b}}")                        /* 1: closes nothing */
	    P("{{#c}}") P("x") P("{{/d}}")              /* 4: closes {{#c}} */
	    P("Kính gửi {{na") P("me}}")                /* 5, 6: a tag across paragraphs */
	    P("{{họ tên}}")                             /* 7: not a tag name */
	    P("Kính gửi: {{#e}}") P("y") P("{{/e}}")    /* 8: shares its paragraph with text */
	    P("{{#a}}") P("z"),                         /* 11: never closed */
	    &d);
	assert_diag(&d, DOC, 1, "{{/b}} không đóng phần nào");
	assert_diag(&d, DOC, 4, "{{/d}} lại đóng {{#c}} của đoạn 2");
	assert_diag(&d, DOC, 5, "không được trải qua nhiều đoạn");
	assert_diag(&d, DOC, 7, "không phải là tên thẻ");
	assert_diag(&d, DOC, 8, "{{#e}} và {{/e}} của nó (đoạn 10)");
	assert_diag(&d, DOC, 11, "{{#a}} không được đóng");
	diag_free(&d);
}

static void test_bug_every_section_error_listed(void **state)
{
	struct diag_list d;

	(void)state;
	refuse_body(P("{{/b}}") P("Kính gửi: {{#e}}") P("y") P("{{/e}}"), &d);
	assert_diag(&d, DOC, 1, "{{/b}} không đóng phần nào");
	assert_diag(&d, DOC, 2, "{{#e}} và {{/e}} của nó (đoạn 4)");
	diag_free(&d);
}

/*
 * The run after a split tag loses the text the tag took, and with it keeps
 * a leading space, but not xml:space="preserve": Word drops that space.
 */
static void test_bug_split_tag_space_kept(void **state)
{
	xmlDocPtr doc;

	(void)state;
	doc = render_body("<w:p><w:r><w:t>{{na</w:t></w:r><w:r><w:t>me}} và các đơn vị</w:t></w:r></w:p>",
	    J("{'name': 'Bình'}"));
	assert_texts(doc, BODY_P, TEXTS("Bình và các đơn vị"));
	assert_int_equal(count(doc, "//w:t[starts-with(., ' ') and not(@xml:space = 'preserve')]"), 0);
	xmlFreeDoc(doc);
}

/* XML 1.0 forbids U+FFFE and U+FFFF, which JSON strings may hold: the document must stay well-formed. */
static void test_bug_noncharacter_value(void **state)
{
	xmlDocPtr doc;

	(void)state;
	doc = render_body(P("[{{v}}]"), J("{'v': 'a\\uffffb\\ufffe'}"));
	xmlFreeDoc(doc);
}

/* A part stored without compression (as images often are) is deflated on every render. */
static void test_bug_stored_part_deflated(void **state)
{
	size_t tlen, olen;
	void *tpl = make_docx(P("{{x}}"), NULL, NULL, &tlen);
	struct render_template *t = load_ok(tpl, tlen);
	json_t *data = J("{'x': 'giá trị'}");
	void *out = render_ok(t, data, MTIME, &olen);
	zip_t *zt = zip_over(tpl, tlen), *zo = zip_over(out, olen);
	zip_stat_t a, b;
	void *ra, *rb;

	(void)state;
	ra = raw_entry(zt, "docProps/app.xml", &a);
	rb = raw_entry(zo, "docProps/app.xml", &b);
	assert_int_equal(a.comp_method, ZIP_CM_STORE);
	assert_int_equal(b.comp_method, ZIP_CM_STORE);
	assert_int_equal(b.comp_size, a.comp_size);
	assert_memory_equal(rb, ra, a.comp_size);
	free(ra);
	free(rb);
	zip_discard(zt);
	zip_discard(zo);
	free(out);
	json_decref(data);
	render_free(t);
	free(tpl);
}

/* A run with many short tags: the rewritten text outgrows the buffer made for it (heap overflow). */
static void test_bug_many_tags_in_one_run(void **state)
{
	char *body = malloc(200 * 5 + 64), *p;
	xmlDocPtr doc;

	(void)state;
	assert_non_null(body);
	p = body + sprintf(body, "<w:p><w:r><w:t>");
	for (int i = 0; i < 200; i++)
		p += sprintf(p, "{{a}}");
	sprintf(p, "</w:t></w:r></w:p>");
	doc = render_body(body, J("{'a': 'x'}"));
	assert_xstr(doc, "string-length(" BODY_P ")", "200");
	xmlFreeDoc(doc);
	free(body);
}

/*
 * Found by fuzzing (tests/fuzz/regress/fuzz_template/): U+E000 outside any w:t (here between
 * runs, in an attribute, in a comment) or a <?vt?> instruction was taken for a field marker
 * or a section boundary when segmenting, and the filled part was not well-formed XML.
 */
static void test_bug_reserved_outside_text(void **state)
{
	static const char *const bodies[] = {
		"<w:p><w:r><w:t>{{a}}</w:t></w:r>\xEE\x80\x80<w:r><w:t>{{b}}</w:t></w:r></w:p>",
		"<w:p><w:r><w:t>{{a}}</w:t></w:r>&#xE001;</w:p>",
		"<w:p w:rsidR=\"&#xE000;1&#xE001;\"><w:r><w:t>{{a}}</w:t></w:r></w:p>",
		"<!-- \xEE\x80\x80 --><w:p><w:r><w:t>{{a}}</w:t></w:r></w:p>",
		"<?vt e 0?><w:p><w:r><w:t>{{a}}</w:t></w:r></w:p>",
		"<!-- <?vt s 0?> --><w:p><w:r><w:t>{{#a}}x{{/a}}</w:t></w:r></w:p>",
		"<?other <?vt s 0?><w:p><w:r><w:t>{{a}}</w:t></w:r></w:p>",
	};
	struct diag_list d;

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		refuse_body(bodies[i], &d);
		for (size_t k = 0; k < d.count; k++)
			if (strstr(d.items[k].message, "ký tự dành riêng") != NULL)
				goto found;
		test_print_diags(&d);
		fail_msg("body %zu refused for another reason", i);
found:
		diag_free(&d);
	}
}

/*
 * Found with fuzz_template: a tag-only paragraph that closes a section is removed, and a
 * section in a text box inside it pointed at freed paragraphs (a use after free).
 */
static void test_bug_section_in_removed_text_box(void **state)
{
	xmlDocPtr doc;

	(void)state;
	doc = render_body(P("{{#a}}") "<w:p><w:r><w:t>{{/a}}</w:t></w:r><w:r><w:pict><w:txbxContent>"
	    P("{{#b}}x{{/b}}") "</w:txbxContent></w:pict></w:r></w:p>" P("[{{c}}]"),
	    J("{'a': [1, 2], 'b': true, 'c': 'z'}"));
	assert_int_equal(count(doc, "//w:txbxContent"), 0);
	assert_xstr(doc, "string(//w:body/w:p[last()])", "[z]");
	xmlFreeDoc(doc);
}

/*
 * Found by fuzz_template: sections nested twelve deep over a list of six repeat the paragraph
 * 6^12 times; the renderer ran for hours and then out of memory. A filled part now stops at
 * 64 MiB with an error.
 */
static void test_bug_nested_loops_capped(void **state)
{
	char body[512] = "<w:p><w:r><w:t>", err[256] = "";
	size_t tlen, olen = 0;
	void *tpl, *out = NULL;
	struct render_template *t;
	json_t *data = J("{'a': [1, 2, 3, 4, 5, 6]}");

	(void)state;
	for (int i = 0; i < 12; i++)
		strcat(body, "{{#a}}");
	strcat(body, "x");
	for (int i = 0; i < 12; i++)
		strcat(body, "{{/a}}");
	strcat(body, "</w:t></w:r></w:p>");
	tpl = make_docx(body, NULL, NULL, &tlen);
	t = load_ok(tpl, tlen);
	assert_int_equal(render_to_memory(t, data, MTIME, &out, &olen, err, sizeof(err)), -1);
	assert_null(out);
	assert_non_null(strstr(err, "MiB"));
	json_decref(data);
	render_free(t);
	free(tpl);
}


/* ---- fields: every tag against what its kind receives (issue 14, item 1) ---- */

static const struct wf_kind kind_tb = { .kind = "thong-bao", .label = "Thông báo", .type = "TB",
	.template_name = "thong-bao", .root = "thong-bao", .title = "THÔNG BÁO" };
static const struct wf_kind kind_cv = { .kind = "cong-van", .label = "Công văn",
	.template_name = "cong-van", .root = "cong-van" };
static const struct wf_kind kind_bc = { .kind = "bao-cao-tong-hop", .label = "Báo cáo tổng hợp",
	.type = "BC", .template_name = "bao-cao-tong-hop", .root = "bao-cao-tong-hop",
	.title = "BÁO CÁO" };

/* One diagnostic of the field check: part, paragraph ("đoạn N") and what. */
static void assert_field_diag(const struct diag_list *d, int para, const char *what)
{
	char pn[32];

	snprintf(pn, sizeof(pn), "đoạn %d:", para);
	for (size_t i = 0; i < d->count; i++)
		if (names_part(d->items[i].file, DOC) && d->items[i].line == para &&
		    strstr(d->items[i].message, pn) && strstr(d->items[i].message, what))
			return;
	test_print_diags(d);
	fail_msg("no diagnostic %s:%d: %s ... %s", DOC, para, pn, what);
}

static int load_fields(const char *body, const struct wf_kind *k, struct render_template **t,
    struct diag_list *d)
{
	size_t len;
	void *pkg = make_docx(body, NULL, NULL, &len);
	json_t *f = docdata_fields(k);
	int rc;

	assert_non_null(pkg);
	assert_non_null(f);
	diag_init(d);
	rc = render_load_memory_fields("t.docx", pkg, len, f, "loại văn bản thong-bao", t, d);
	json_decref(f);
	free(pkg);
	return rc;
}

static void test_fields_unknown_listed_with_every_other_error(void **state)
{
	struct render_template *t = NULL;
	struct diag_list d;

	(void)state;
	assert_int_equal(load_fields(
	    P("{{#parent}}")                                   /* 1: never closed */
	    P("{{sumary}}")                                    /* 2: a typo */
	    P("{{#recipients}}") P("{{line}}") P("{{/recipients}}")
	    P("{{signer.nam}}")                                /* 6 */
	    P("{{recipients}}")                                /* 7: a list, not a value */
	    P("{{.}}")                                         /* 8: no list of strings */
	    P("{{line}}")                                      /* 9: outside its loop */
	    P("{{table.rows}}"),                               /* 10: not a field of a notice */
	    &kind_tb, &t, &d), -1);
	assert_null(t);
	assert_diag(&d, DOC, 1, "{{#parent}} không được đóng");
	assert_field_diag(&d, 2, "{{sumary}} không phải là trường của loại văn bản thong-bao "
	    "(có phải là {{summary}}?)");
	assert_field_diag(&d, 6, "{{signer.nam}} không phải là trường");
	assert_field_diag(&d, 6, "{{signer.name}}?");
	assert_field_diag(&d, 7, "{{recipients}} là một danh sách");
	assert_field_diag(&d, 8, "{{.}}");
	assert_field_diag(&d, 9, "{{line}} không phải là trường");
	assert_field_diag(&d, 10, "{{table.rows}} không phải là trường");
	assert_int_equal(d.count, 7);
	diag_free(&d);
}

static void test_fields_of_the_kind_load(void **state)
{
	struct render_template *t = NULL;
	struct diag_list d;
	const char *common =
	    P("{{#draft}}") P("DỰ THẢO") P("{{/draft}}") P("{{^party}}{{parent}}{{/party}}")
	    P("{{issuer}} {{number_symbol}} {{date_line}} {{summary}}")
	    P("{{#body}}") P("{{#p}}") P("{{^keep}}") P("{{p}}") P("{{/keep}}") P("{{/p}}")
	    P("{{#heading}}{{heading}}{{/heading}}") P("{{#basis}}{{basis}}{{/basis}}")
	    P("{{#quote}}{{quote}}{{/quote}}") P("{{/body}}")
	    P("{{#signer.lines}}{{line}}{{/signer.lines}}") P("{{signer.name}}")
	    P("{{#recipients}}{{line}}{{/recipients}}") P("{{archive_line}} {{props.title}}");
	char *body;

	(void)state;
	assert_true(asprintf(&body, "%s%s", common, P("{{title}}")) > 0);
	if (load_fields(body, &kind_tb, &t, &d) != 0) {
		test_print_diags(&d);
		fail_msg("a notice's own fields were refused");
	}
	render_free(t);
	diag_free(&d);
	free(body);
	assert_true(asprintf(&body, "%s%s", common, P("{{urgency}} {{to_one}}")
	    P("{{#to_many}}{{line}}{{/to_many}}")) > 0);
	assert_int_equal(load_fields(body, &kind_cv, &t, &d), 0);
	render_free(t);
	diag_free(&d);
	/* a công văn has no title, a notice no Kính gửi */
	assert_int_equal(load_fields(P("{{title}}"), &kind_cv, &t, &d), -1);
	diag_free(&d);
	assert_int_equal(load_fields(P("{{to_one}}"), &kind_tb, &t, &d), -1);
	diag_free(&d);
	free(body);
	assert_true(asprintf(&body, "%s%s", common, P("{{title}} {{to_one}} {{table.title}}")
	    "<w:tbl><w:tblGrid><w:gridCol w:w=\"2000\"/></w:tblGrid><w:tr>"
	    TC("{{#table.rows}}{{stt}} {{unit}} {{indicator}} {{value}} {{measure}} {{target}}"
	    "{{/table.rows}}") "</w:tr></w:tbl>" P("")) > 0);
	if (load_fields(body, &kind_bc, &t, &d) != 0) {
		test_print_diags(&d);
		fail_msg("a báo cáo's own fields were refused");
	}
	render_free(t);
	diag_free(&d);
	free(body);
}

/* docProps/core.xml takes value tags; a newline in a value is a space there. */
static void test_core_properties_filled(void **state)
{
	static const char core[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	    "<!-- the engine's note -->\n"
	    "<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/"
	    "core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
	    "<dc:title>{{props.title}}</dc:title><dc:creator>{{props.creator}}</dc:creator>"
	    "</cp:coreProperties>";
	char *doc = doc_xml("<!-- a note about the engine -->" P("{{summary}}"));
	struct entry e[] = {
		{ "[Content_Types].xml", content_types, 0, 0 },
		{ "_rels/.rels", package_rels, 0, 0 },
		{ "docProps/core.xml", core, 0, 0 },
		{ DOC, doc, 0, 0 },
		{ "word/styles.xml", "<?xml version=\"1.0\"?><!-- style notes --><w:styles xmlns:w=\""
		  W_NS "\"/>", 0, 0 },
	};
	size_t len, olen;
	void *pkg = zip_build(e, 5, &len);
	struct render_template *t = load_ok(pkg, len);
	json_t *data = J("{'summary': 'Kết luận', 'props': {'title': 'Thông báo: Kết luận\\ncủa A & B',"
	    " 'creator': 'Ủy ban nhân dân tỉnh'}}");
	void *out = render_ok(t, data, MTIME, &olen);
	char *c = zip_part(out, olen, "docProps/core.xml", NULL);
	char *d = zip_part(out, olen, DOC, NULL);
	char *st = zip_part(out, olen, "word/styles.xml", NULL);

	(void)state;
	assert_non_null(strstr(c, "<dc:title>Thông báo: Kết luận của A &amp; B</dc:title>"));
	assert_non_null(strstr(c, "<dc:creator>Ủy ban nhân dân tỉnh</dc:creator>"));
	assert_null(strstr(c, "<!--"));
	assert_null(strstr(d, "<!--"));
	assert_null(strstr(st, "<!--"));
	free(c);
	free(d);
	free(st);
	free(out);
	json_decref(data);
	render_free(t);
	free(pkg);
	free(doc);
}

/* Every key of data is in shape, and every key of shape is in data (lists: over all items). */
static void assert_same_keys(json_t *data, json_t *shape, const char *where)
{
	const char *key;
	json_t *v;
	char sub[256];

	if (json_is_array(shape)) {
		json_t *item = json_array_get(shape, 0), *all = json_object();
		size_t i;
		assert_true(json_is_array(data));
		json_array_foreach(data, i, v) {
			if (json_is_object(v))
				json_object_update(all, v);
		}
		if (json_is_object(item) && json_array_size(data) > 0)
			assert_same_keys(all, item, where);
		json_decref(all);
		return;
	}
	if (!json_is_object(shape))
		return;
	if (!json_is_object(data))
		fail_msg("%s: not an object", where);
	json_object_foreach(data, key, v) {
		snprintf(sub, sizeof(sub), "%s.%s", where, key);
		if (json_object_get(shape, key) == NULL)
			fail_msg("%s is built but not in docdata_fields", sub);
		assert_same_keys(v, json_object_get(shape, key), sub);
	}
	json_object_foreach(shape, key, v) {
		if (json_object_get(data, key) == NULL)
			fail_msg("%s.%s is in docdata_fields but never built", where, key);
	}
}

static json_t *build(const struct config *cfg, const struct wf_kind *k, const char *xml,
    const struct docdata_issue *iss)
{
	char err[256] = "";
	json_t *d = docdata_build(cfg, NULL, k, xml, strlen(xml), iss, 2026, "2026-12-04T10:11:12.345Z",
	    err, sizeof(err));

	if (d == NULL)
		fail_msg("docdata_build: %s", err);
	return d;
}

#define DOCNS "urn:vanthu:document:1"

static void test_docdata_matches_its_fields(void **state)
{
	struct config cfg;
	struct docdata_issue iss = { .symbol = "12/TB-UBND", .year = 2026, .month = 11, .day = 22,
		.issued_at = "2026-11-22T08:36:26.123Z" };
	static const char body[] = "<body><basis>Căn cứ;</basis><heading>1. Mục</heading>"
	    "<quote>Trích dẫn.</quote><p>Nội dung.</p></body><signer><line>KT. CHỦ TỊCH</line>"
	    "<line>PHÓ CHỦ TỊCH</line><name>Đặng Minh Thông</name></signer>"
	    "<recipients><recipient>Sở Nội vụ</recipient></recipients><archive>VT</archive>";
	char *xml;
	json_t *d, *f;

	(void)state;
	assert_int_equal(config_default(&cfg), 0);
	assert_true(asprintf(&xml, "<thong-bao xmlns='" DOCNS "'><summary>Kết luận</summary>%s"
	    "</thong-bao>", body) > 0);
	d = build(&cfg, &kind_tb, xml, &iss);
	f = docdata_fields(&kind_tb);
	assert_same_keys(d, f, "thong-bao");
	json_decref(f);
	/* the properties: kind and trích yếu, the body, the issue's time */
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "props"), "title")),
	    "Thông báo: Kết luận");
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "props"), "creator")),
	    cfg.bodies[0].name);
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "props"), "created")),
	    "2026-11-22T08:36:26Z");
	/* a state body closes with ./.; the last item keeps with the signature */
	json_t *last = json_array_get(json_object_get(d, "body"), 3);
	assert_string_equal(json_string_value(json_object_get(last, "p")), "Nội dung./.");
	assert_true(json_is_true(json_object_get(last, "keep")));
	assert_null(json_object_get(json_array_get(json_object_get(d, "body"), 2), "keep"));
	json_decref(d);
	free(xml);
	/* the input may say: no closing mark */
	assert_true(asprintf(&xml, "<thong-bao xmlns='" DOCNS "' closing='false'><summary>Kết luận"
	    "</summary>%s</thong-bao>", body) > 0);
	d = build(&cfg, &kind_tb, xml, NULL);
	last = json_array_get(json_object_get(d, "body"), 3);
	assert_string_equal(json_string_value(json_object_get(last, "p")), "Nội dung.");
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "props"), "created")),
	    "2026-12-04T10:11:12Z");
	json_decref(d);
	free(xml);
	/* a công văn and a báo cáo tổng hợp, each with its own fields */
	assert_true(asprintf(&xml, "<cong-van xmlns='" DOCNS "'><drafting-unit>SNV</drafting-unit>"
	    "<urgency>KHẨN</urgency><summary>đôn đốc</summary><to>Sở Nội vụ</to><to>Sở Tài chính</to>"
	    "%s</cong-van>", body) > 0);
	d = build(&cfg, &kind_cv, xml, NULL);
	f = docdata_fields(&kind_cv);
	assert_same_keys(d, f, "cong-van");
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "props"), "title")),
	    "Công văn: V/v đôn đốc");
	json_decref(f);
	json_decref(d);
	free(xml);
	assert_true(asprintf(&xml, "<bao-cao-tong-hop xmlns='" DOCNS "'><summary>Tổng hợp</summary>"
	    "<to>Ủy ban nhân dân tỉnh</to>%s<table title='Bảng số liệu'><column code='a' label='A' "
	    "measure='%%'/><row name='Sở'><value code='a' target='80'>85.5</value></row></table>"
	    "</bao-cao-tong-hop>", body) > 0);
	d = build(&cfg, &kind_bc, xml, NULL);
	f = docdata_fields(&kind_bc);
	assert_same_keys(d, f, "bao-cao-tong-hop");
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "table"), "title")),
	    "Bảng số liệu");
	assert_string_equal(json_string_value(json_object_get(d, "to_one")), "Ủy ban nhân dân tỉnh");
	json_decref(f);
	json_decref(d);
	free(xml);
	config_free(&cfg);
}

static void test_docdata_party_closes_only_when_asked(void **state)
{
	static const char conf[] = "[body TU]\nkind = party\nname = Ban Thường vụ Tỉnh ủy\n"
	    "parent = Đảng bộ tỉnh Quảng Ninh\nplace = Quảng Ninh\ncollective = Ban Thường vụ\n"
	    "term = 2025-2030 2025-10-15\n";
	static const char body[] = "<summary>Kết luận</summary><body><p>Nội dung.</p></body>"
	    "<signer><line>T/M Ban Thường vụ</line><line>Phó Bí thư</line><name>Lê Văn Minh</name>"
	    "</signer><recipients><recipient>Các đảng ủy</recipient></recipients>"
	    "<archive>Văn phòng Tỉnh ủy</archive>";
	struct config cfg;
	struct diag_list dl;
	char *xml;
	json_t *d;

	(void)state;
	diag_init(&dl);
	if (config_load_string("t.conf", conf, strlen(conf), &cfg, &dl) != 0) {
		test_print_diags(&dl);
		fail_msg("config");
	}
	diag_free(&dl);
	assert_true(asprintf(&xml, "<thong-bao xmlns='" DOCNS "' issuer='TU'>%s</thong-bao>", body) > 0);
	d = build(&cfg, &kind_tb, xml, NULL);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(d, "body"),
	    0), "p")), "Nội dung.");
	json_decref(d);
	free(xml);
	assert_true(asprintf(&xml, "<thong-bao xmlns='" DOCNS "' issuer='TU' closing='true'>%s"
	    "</thong-bao>", body) > 0);
	d = build(&cfg, &kind_tb, xml, NULL);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(d, "body"),
	    0), "p")), "Nội dung./.");
	json_decref(d);
	free(xml);
	config_free(&cfg);
}


/* A rich value: its bold and italic spans become runs of their own with the template run's
 * properties, and the text after the tag is back in the plain look (issue 14, item 8). */
static void test_rich_value_runs(void **state)
{
	static const char *const want[] = { "Hoàn thành ", "trước ngày 30/4/2024", " (", "có kế hoạch riêng",
		") — hết", NULL };
	size_t len, olen;
	void *pkg = make_docx("<w:p><w:r><w:rPr><w:rFonts w:ascii=\"Times New Roman\"/><w:sz w:val=\"28\"/>"
	    "</w:rPr><w:t>{{p}} — hết</w:t></w:r></w:p>", NULL, NULL, &len);
	struct render_template *t = load_ok(pkg, len);
	json_t *data = json_pack("{s:s}", "p", "Hoàn thành " RENDER_BOLD_ON "trước ngày 30/4/2024"
	    RENDER_BOLD_OFF " (" RENDER_ITALIC_ON "có kế hoạch riêng" RENDER_ITALIC_OFF ")");
	void *out = render_ok(t, data, MTIME, &olen);
	char *x = zip_part(out, olen, DOC, NULL);
	xmlDocPtr doc = xmlReadMemory(x, (int)strlen(x), "d.xml", NULL, 0);

	(void)state;
	assert_non_null(doc);
	assert_xstr(doc, "count(//w:r/w:t)", "5");
	for (int i = 0; want[i]; i++) {
		char expr[64];
		snprintf(expr, sizeof(expr), "string((//w:r/w:t)[%d])", i + 1);
		assert_xstr(doc, expr, want[i]);
	}
	/* each run keeps the template's font and size; b or i only where the input says */
	assert_xstr(doc, "count(//w:r[w:t='trước ngày 30/4/2024']/w:rPr[w:rFonts][w:b][w:bCs][w:sz]"
	    "[not(w:i)])", "1");
	assert_xstr(doc, "count(//w:r[w:t='có kế hoạch riêng']/w:rPr[w:rFonts][w:i][w:iCs][w:sz]"
	    "[not(w:b)])", "1");
	assert_xstr(doc, "count(//w:r[w:rPr/w:b or w:rPr/w:i])", "2");
	assert_xstr(doc, "count(//w:r[w:rPr[w:rFonts][w:sz]])", "5");
	/* ECMA-376 order: rFonts, b, bCs, ..., sz */
	assert_xstr(doc, "local-name(//w:r[w:t='trước ngày 30/4/2024']/w:rPr/*[2])", "b");
	assert_xstr(doc, "local-name(//w:r[w:t='trước ngày 30/4/2024']/w:rPr/*[4])", "sz");
	xmlFreeDoc(doc);
	free(x);
	free(out);
	json_decref(data);
	render_free(t);
	free(pkg);
}

/* Symbols stay whole on their line: w:noBreakHyphen marks, WORD JOINERs round "/" (item 5). */
static void test_docdata_symbols_kept_whole(void **state)
{
#define WJ "\xE2\x81\xA0"
#define NBH RENDER_NB_HYPHEN
	struct config cfg;
	struct docdata_issue iss = { .symbol = "12/TB-UBND", .year = 2026, .month = 11, .day = 22,
		.issued_at = "2026-11-22T08:36:26.123Z" };
	json_t *d;
	static const char xml[] = "<thong-bao xmlns='" DOCNS "'><summary>Về Nghị quyết 02-NQ/TU</summary>"
	    "<body><p>Theo Nghị quyết 02-NQ/TU, Công văn 3552/UBND-SNV (b/c) ngày 28/5/2021 giai đoạn "
	    "2020-2022 của Bà Rịa-Vũng Tàu, số 112/NQ-HĐND.</p><p>Thực hiện Kế hoạch số 02-KH/BCĐ./.</p>"
	    "</body><signer><line>KT. CHỦ TỊCH</line><name>A</name></signer>"
	    "<recipients><recipient>B</recipient></recipients><archive>VT</archive></thong-bao>";
	char *plain = NULL;

	(void)state;
	assert_int_equal(config_default(&cfg), 0);
	d = build(&cfg, &kind_tb, xml, &iss);
	json_t *b = json_object_get(d, "body");
	assert_string_equal(json_string_value(json_object_get(json_array_get(b, 0), "p")),
	    "Theo Nghị quyết 02" NBH "NQ" WJ "/" WJ "TU, Công văn 3552" WJ "/" WJ "UBND" NBH "SNV (b/c) "
	    "ngày 28/5/2021 giai đoạn 2020-2022 của Bà Rịa-Vũng Tàu, số 112" WJ "/" WJ "NQ" NBH "HĐND.");
	assert_string_equal(json_string_value(json_object_get(json_array_get(b, 1), "p")),
	    "Thực hiện Kế hoạch số 02" NBH "KH" WJ "/" WJ "BCĐ./.");
	assert_string_equal(json_string_value(json_object_get(d, "number_symbol")),
	    "12" WJ "/" WJ "TB" NBH "UBND");
	assert_string_equal(json_string_value(json_object_get(d, "summary")),
	    "Về Nghị quyết 02" NBH "NQ" WJ "/" WJ "TU");
	/* the package's title is the plain text */
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "props"), "title")),
	    "Thông báo: Về Nghị quyết 02-NQ/TU");
	free(plain);
	json_decref(d);
	config_free(&cfg);
#undef WJ
#undef NBH
}

/* RENDER_NB_HYPHEN is a w:noBreakHyphen in the document, a "-" in docProps/core.xml. */
static void test_nb_hyphen_written(void **state)
{
	size_t len, olen;
	void *pkg = make_docx(P("Số: {{n}}"), NULL, NULL, &len);
	struct render_template *t = load_ok(pkg, len);
	json_t *data = json_pack("{s:s}", "n", "12/TB" RENDER_NB_HYPHEN "UBND");
	void *out = render_ok(t, data, MTIME, &olen);
	char *x = zip_part(out, olen, DOC, NULL);
	xmlDocPtr doc = xmlReadMemory(x, (int)strlen(x), "d.xml", NULL, 0);

	(void)state;
	assert_non_null(doc);
	assert_xstr(doc, "count(//w:r/w:noBreakHyphen)", "1");
	assert_xstr(doc, "string((//w:r/w:t)[1])", "Số: 12/TB");
	assert_xstr(doc, "string((//w:r/w:t)[2])", "UBND");
	assert_null(strchr(x, '\x05'));
	xmlFreeDoc(doc);
	free(x);
	free(out);
	json_decref(data);
	render_free(t);
	free(pkg);
}

static void test_docdata_inline_markup(void **state)
{
	struct config cfg;
	json_t *d;
	static const char xml[] = "<thong-bao xmlns='" DOCNS "'><summary>Kết luận<br/>của hội nghị</summary>"
	    "<body><p>Hoàn thành <b>trước ngày <i>30/4/2024</i></b> (<i>có kế hoạch riêng</i>).</p>"
	    "<quote>Trích <b>nguyên văn</b>.</quote><p>Kết thúc <b>ngay.</b></p></body>"
	    "<signer><line>KT. CHỦ TỊCH</line><name>A</name></signer>"
	    "<recipients><recipient>B</recipient></recipients><archive>VT</archive></thong-bao>";

	(void)state;
	assert_int_equal(config_default(&cfg), 0);
	d = build(&cfg, &kind_tb, xml, NULL);
	assert_string_equal(json_string_value(json_object_get(d, "summary")), "Kết luận\ncủa hội nghị");
	json_t *b = json_object_get(d, "body");
	assert_string_equal(json_string_value(json_object_get(json_array_get(b, 0), "p")),
	    "Hoàn thành " RENDER_BOLD_ON "trước ngày " RENDER_ITALIC_ON "30/4/2024" RENDER_ITALIC_OFF
	    RENDER_BOLD_OFF " (" RENDER_ITALIC_ON "có kế hoạch riêng" RENDER_ITALIC_OFF ").");
	assert_string_equal(json_string_value(json_object_get(json_array_get(b, 1), "quote")),
	    "Trích " RENDER_BOLD_ON "nguyên văn" RENDER_BOLD_OFF ".");
	/* the closing mark after the bold, never in it */
	assert_string_equal(json_string_value(json_object_get(json_array_get(b, 2), "p")),
	    "Kết thúc " RENDER_BOLD_ON "ngay" RENDER_BOLD_OFF "./.");
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "props"), "title")),
	    "Thông báo: Kết luận của hội nghị");
	json_decref(d);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value),
		cmocka_unit_test(test_dotted_value),
		cmocka_unit_test(test_tag_split_across_runs),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_newline),
		cmocka_unit_test(test_paragraph_loop),
		cmocka_unit_test(test_block_loop),
		cmocka_unit_test(test_nested_sections),
		cmocka_unit_test(test_inverted_section),
		cmocka_unit_test(test_table_row_loop),
		cmocka_unit_test(test_dot_over_strings),
		cmocka_unit_test(test_missing_values),
		cmocka_unit_test(test_header_and_footer),
		cmocka_unit_test(test_untouched_parts_copied_compressed),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_refused_unclosed),
		cmocka_unit_test(test_refused_closes_nothing),
		cmocka_unit_test(test_refused_wrong_close),
		cmocka_unit_test(test_refused_tag_across_paragraphs),
		cmocka_unit_test(test_refused_invalid_names),
		cmocka_unit_test(test_refused_section_with_text),
		cmocka_unit_test(test_refused_not_a_zip),
		cmocka_unit_test(test_refused_no_document),
		cmocka_unit_test(test_refused_not_xml),
		/* regressions: each was a bug of the engine, found by these tests and fixed */
		cmocka_unit_test(test_bug_every_error_listed),
		cmocka_unit_test(test_bug_every_section_error_listed),
		cmocka_unit_test(test_bug_split_tag_space_kept),
		cmocka_unit_test(test_bug_noncharacter_value),
		cmocka_unit_test(test_bug_stored_part_deflated),
		cmocka_unit_test(test_bug_many_tags_in_one_run),
		cmocka_unit_test(test_bug_reserved_outside_text),
		cmocka_unit_test(test_bug_section_in_removed_text_box),
		cmocka_unit_test(test_bug_nested_loops_capped),
		cmocka_unit_test(test_fields_unknown_listed_with_every_other_error),
		cmocka_unit_test(test_fields_of_the_kind_load),
		cmocka_unit_test(test_core_properties_filled),
		cmocka_unit_test(test_docdata_matches_its_fields),
		cmocka_unit_test(test_docdata_party_closes_only_when_asked),
		cmocka_unit_test(test_rich_value_runs),
		cmocka_unit_test(test_docdata_inline_markup),
		cmocka_unit_test(test_docdata_symbols_kept_whole),
		cmocka_unit_test(test_nb_hyphen_written),
	};

	return cmocka_run_group_tests_name("render", tests, test_xml_setup, test_xml_teardown);
}
