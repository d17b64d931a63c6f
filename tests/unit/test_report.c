/* test_report.c: unit tests of report.c (a validated report's fields, and the checks of meaning). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "units.h"
#include "xmlin.h"
#include "testutil.h"

#define REPORT_XSD "workflows/bao-cao/schema.xsd"
#define EX01 "workflows/bao-cao/examples/01-so-tttt.xml"
#define EX05 "workflows/bao-cao/examples/05-xa-phuoc-hoi.xml"

struct fixture {
	struct units *units;
	xmlSchemaPtr schema;
};

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct diag_list d;

	if (f == NULL)
		return -1;
	xmlin_init();
	diag_init(&d);
	if (units_load("workflows/units.xml", "workflows/units.xsd", &f->units, &d) != 0 ||
	    xmlin_schema_load(REPORT_XSD, &f->schema, &d) != 0) {
		test_print_diags(&d);
		diag_free(&d);
		return -1;
	}
	diag_free(&d);
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	units_free(f->units);
	xmlin_schema_free(f->schema);
	free(f);
	xmlin_cleanup();
	return 0;
}

/* The text of an example with nrepl replacements (from, to) made, each once. */
static char *example_text(const char *path, const char *const *repl, size_t nrepl, size_t *lenp)
{
	struct diag_list d;
	char *buf = NULL;
	size_t len = 0;

	diag_init(&d);
	assert_int_equal(xmlin_read_file(path, 1024 * 1024, &buf, &len, &d), 0);
	diag_free(&d);
	for (size_t i = 0; i < nrepl; i++) {
		const char *from = repl[2 * i], *to = repl[2 * i + 1];
		char *at = strstr(buf, from);
		if (at == NULL)
			fail_msg("'%s' not in %s", from, path);
		size_t fl = strlen(from), tl = strlen(to), off = (size_t)(at - buf);
		char *n = malloc(len - fl + tl + 1);
		assert_non_null(n);
		memcpy(n, buf, off);
		memcpy(n + off, to, tl);
		memcpy(n + off + tl, at + fl, len - off - fl + 1);
		len = len - fl + tl;
		free(buf);
		buf = n;
	}
	*lenp = len;
	return buf;
}

/* An example, changed, parsed and (when validate) valid against the report schema. */
static xmlDocPtr example_doc(const struct fixture *f, const char *path, const char *const *repl,
    size_t nrepl, int validate)
{
	struct diag_list d;
	size_t len;
	char *buf = example_text(path, repl, nrepl, &len);
	xmlDocPtr doc = NULL;

	diag_init(&d);
	if (xmlin_parse(buf, len, "bc.xml", &doc, &d) != 0 ||
	    (validate && xmlin_validate(f->schema, doc, "bc.xml", &d) != 0)) {
		test_print_diags(&d);
		fail_msg("the changed example is not a valid report");
	}
	free(buf);
	diag_free(&d);
	return doc;
}

/* report_from_doc must refuse doc with exactly one error, of code, at line, holding text. */
static void assert_one_error(const struct fixture *f, xmlDocPtr doc, const char *folder,
    const char *code, int line, const char *text)
{
	struct report *r = (struct report *)1;
	struct diag_list d;

	diag_init(&d);
	assert_int_equal(report_from_doc(doc, f->units, folder, "bc.xml", &r, &d), -1);
	assert_null(r);
	if (d.count != 1 || strcmp(d.items[0].code, code) != 0 || d.items[0].line != line ||
	    strstr(d.items[0].message, text) == NULL) {
		test_print_diags(&d);
		fail_msg("want exactly one %s at line %d containing '%s'", code, line, text);
	}
	assert_string_equal(d.items[0].file, "bc.xml");
	diag_free(&d);
	xmlFreeDoc(doc);
}

static void test_valid_date(void **state)
{
	static const char *const good[] = {
		"2024-02-29", "2000-02-29", "2023-12-31", "2024-01-01", "1945-09-02", "2999-12-31",
		"2024-04-30", "2023-02-28",
	};
	static const char *const bad[] = {
		"2023-02-29", "2024-04-31", "2024-1-01", "1900-01-01", "2100-02-29", "2024-02-30",
		"2024-13-01", "2024-00-10", "2024-06-00", "2024-06-31", "1944-12-31", "3000-01-01",
		"2024-01-011", "2024/01/01", "20240101", "", "2024-01-0x", "abcd-ef-gh", "2024-01-1 ",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!report_valid_date(good[i]))
			fail_msg("\"%s\" refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (report_valid_date(bad[i]))
			fail_msg("\"%s\" accepted", bad[i]);
	assert_false(report_valid_date(NULL));
}

/* Regression (was a bug): report_valid_date() accepts strings that are not YYYY-MM-DD. sscanf's
 * %d skips white space and takes a sign, and the width counts neither, so
 * "2024-+2-05", "2024-02- 5", " 2024-02-5" and "2024-02-+5" (all 10 bytes)
 * return 1. Reports are safe (the schema's pattern comes first), but ctl.c
 * uses it alone to check a client's date. */
static void test_valid_date_strict(void **state);
static void test_valid_date_strict(void **state)
{
	(void)state;
	assert_false(report_valid_date("2024-+2-05"));
	assert_false(report_valid_date("2024-02- 5"));
	assert_false(report_valid_date(" 2024-02-5"));
	assert_false(report_valid_date("2024-02-+5"));
}

static void test_fields(void **state)
{
	const struct fixture *f = *state;
	xmlDocPtr doc = example_doc(f, EX01, NULL, 0, 1);
	struct report *r = NULL;
	struct diag_list d;

	diag_init(&d);
	assert_int_equal(report_from_doc(doc, f->units, "SO-TTTT", "bc.xml", &r, &d), 0);
	assert_int_equal(d.count, 0);
	assert_non_null(r);
	assert_string_equal(r->unit_code, "SO-TTTT");
	assert_string_equal(r->unit_name, "Sở Thông tin và Truyền thông");
	assert_string_equal(r->round_id, "CDS-2024-Q1");
	assert_string_equal(r->req_number, "125");
	assert_string_equal(r->req_symbol, "UBND-VP");
	assert_string_equal(r->req_date, "2024-03-10");
	assert_string_equal(r->number, "68");
	assert_string_equal(r->symbol, "BC-STTTT");
	assert_string_equal(r->place, "Bà Rịa - Vũng Tàu");
	assert_string_equal(r->date, "2024-03-25");
	assert_string_equal(r->summary, "Kết quả triển khai chuyển đổi số quý I năm 2024");
	assert_string_equal(r->period_from, "2024-01-01");
	assert_string_equal(r->period_to, "2024-03-31");
	assert_string_equal(r->signer_authority, "KT.");
	assert_string_equal(r->signer_title, "Phó Giám đốc");
	assert_string_equal(r->signer_name, "Trần Ngọc Khánh");
	/* indicators in document order, target only where written */
	assert_int_equal(r->nindicators, 4);
	assert_string_equal(r->indicators[0].code, "DVC-TT");
	assert_string_equal(r->indicators[0].name, "Tỷ lệ hồ sơ trực tuyến toàn trình");
	assert_string_equal(r->indicators[0].measure, "%");
	assert_string_equal(r->indicators[0].value, "82.5");
	assert_string_equal(r->indicators[0].target, "80");
	assert_string_equal(r->indicators[1].code, "HS-TIEP-NHAN");
	assert_string_equal(r->indicators[1].measure, "hồ sơ");
	assert_string_equal(r->indicators[1].value, "286");
	assert_null(r->indicators[1].target);
	assert_string_equal(r->indicators[2].code, "CKS");
	assert_string_equal(r->indicators[3].code, "VB-KY-SO");
	assert_string_equal(r->indicators[3].target, "95");
	report_free(r);
	xmlFreeDoc(doc);
	diag_free(&d);
}

static void test_content_json(void **state)
{
	const struct fixture *f = *state;
	xmlDocPtr doc = example_doc(f, EX01, NULL, 0, 1);
	struct report *r = NULL;
	struct diag_list d;
	json_error_t jerr;
	json_t *root, *body, *s1, *content, *sub;

	diag_init(&d);
	assert_int_equal(report_from_doc(doc, f->units, "", "bc.xml", &r, &d), 0);
	assert_non_null(r->content_json);
	root = json_loads(r->content_json, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		fail_msg("content_json is not JSON: %s", jerr.text);
	assert_true(json_is_object(root));
	body = json_object_get(root, "body");
	assert_true(json_is_array(body));
	assert_int_equal(json_array_size(body), 3);
	s1 = json_array_get(body, 0);
	assert_string_equal(json_string_value(json_object_get(s1, "title")),
	    "I. KẾT QUẢ TRIỂN KHAI QUÝ I NĂM 2024");
	content = json_object_get(s1, "content");
	/* one paragraph, then three sub-sections, in document order */
	assert_int_equal(json_array_size(content), 4);
	assert_true(json_is_string(json_array_get(content, 0)));
	assert_non_null(strstr(json_string_value(json_array_get(content, 0)),
	    "Thực hiện Công văn số 125/UBND-VP"));
	sub = json_array_get(content, 1);
	assert_string_equal(json_string_value(json_object_get(sub, "title")),
	    "1. Công tác chỉ đạo, điều hành");
	assert_int_equal(json_array_size(json_object_get(sub, "content")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(body, 1), "title")),
	    "II. KHÓ KHĂN, VƯỚNG MẮC");
	assert_non_null(strstr(json_string_value(json_array_get(json_object_get(
	    json_array_get(json_object_get(json_array_get(body, 2), "content"), 1), "content"), 0)),
	    "năm 2024./."));
	/* no attachments: an empty list */
	assert_true(json_is_array(json_object_get(root, "attachments")));
	assert_int_equal(json_array_size(json_object_get(root, "attachments")), 0);
	json_decref(root);
	report_free(r);
	xmlFreeDoc(doc);
	diag_free(&d);
}

static void test_attachment_listed(void **state)
{
	const struct fixture *f = *state;
	xmlDocPtr doc = example_doc(f, EX05, NULL, 0, 1);
	struct report *r = NULL;
	struct diag_list d;
	json_t *root, *att;

	diag_init(&d);
	assert_int_equal(report_from_doc(doc, f->units, "XA-PHUOC-HOI", "bc.xml", &r, &d), 0);
	assert_string_equal(r->unit_name, "Ủy ban nhân dân xã Phước Hội");
	assert_string_equal(r->signer_authority, "TM.");
	root = json_loads(r->content_json, 0, NULL);
	assert_non_null(root);
	assert_int_equal(json_array_size(json_object_get(root, "attachments")), 1);
	att = json_array_get(json_object_get(root, "attachments"), 0);
	assert_string_equal(json_string_value(json_object_get(att, "name")),
	    "to-cong-nghe-so-cong-dong.txt");
	assert_string_equal(json_string_value(json_object_get(att, "type")), "text/plain; charset=utf-8");
	/* the decoded size, base64 line breaks and padding accounted for */
	assert_int_equal(json_integer_value(json_object_get(att, "bytes")), 352);
	json_decref(root);
	report_free(r);
	xmlFreeDoc(doc);
	diag_free(&d);
}

static void test_fields_nfc(void **state)
{
	const struct fixture *f = *state;
	/* the same text with combining marks (NFD), as a Mac editor may save it */
	static const char *const repl[] = {
		"<summary>Kết quả", "<summary>Ke\xcc\x82\xcc\x81t qua\xcc\x89",
		"<name>Trần Ngọc Khánh</name>", "<name>Tra\xcc\x82\xcc\x80n Ngo\xcc\xa3" "c Kha\xcc\x81nh</name>",
		"<title>II. KHÓ KHĂN", "<title>II. KHO\xcc\x81 KHA\xcc\x86N",
		"<name>Số hồ sơ tiếp nhận</name>", "<name>So\xcc\x82\xcc\x81 ho\xcc\x82\xcc\x80 sơ tiếp nhận</name>",
		"<signer authority=\"KT.\">", "<signer>",
	};
	xmlDocPtr doc = example_doc(f, EX01, repl, 5, 1);
	struct report *r = NULL;
	struct diag_list d;

	diag_init(&d);
	assert_int_equal(report_from_doc(doc, f->units, NULL, "bc.xml", &r, &d), 0);
	assert_string_equal(r->summary, "Kết quả triển khai chuyển đổi số quý I năm 2024");
	assert_string_equal(r->signer_name, "Trần Ngọc Khánh");
	assert_string_equal(r->indicators[1].name, "Số hồ sơ tiếp nhận");
	assert_non_null(strstr(r->content_json, "\"II. KHÓ KHĂN, VƯỚNG MẮC\""));
	assert_null(strstr(r->content_json, "KHO\xcc\x81"));
	/* no authority: signed in person */
	assert_null(r->signer_authority);
	report_free(r);
	xmlFreeDoc(doc);
	diag_free(&d);
}

static void test_unit_unknown(void **state)
{
	const struct fixture *f = *state;
	static const char *const repl[] = { "<unit code=\"SO-TTTT\">", "<unit code=\"SO-KHONG-CO\">" };

	assert_one_error(f, example_doc(f, EX01, repl, 1, 1), "", "R_UNIT_UNKNOWN", 3, "\"SO-KHONG-CO\"");
}

static void test_unit_folder(void **state)
{
	const struct fixture *f = *state;

	/* a real unit, dropped in another unit's folder */
	assert_one_error(f, example_doc(f, EX01, NULL, 0, 1), "SO-TP", "R_UNIT_FOLDER", 3, "\"SO-TP\"");
	/* the folder must match exactly */
	assert_one_error(f, example_doc(f, EX01, NULL, 0, 1), "so-tttt", "R_UNIT_FOLDER", 3, "\"SO-TTTT\"");
}

static void test_every_error_listed(void **state)
{
	const struct fixture *f = *state;
	static const char *const repl[] = {
		"<unit code=\"SO-TTTT\">", "<unit code=\"SO-KHONG-CO\">",
		"date=\"2024-03-10\"", "date=\"2023-02-29\"",
		"<date>2024-03-25</date>", "<date>2024-02-30</date>",
	};
	xmlDocPtr doc = example_doc(f, EX01, repl, 3, 1);
	struct report *r = (struct report *)1;
	struct diag_list d;

	diag_init(&d);
	assert_int_equal(report_from_doc(doc, f->units, "SO-TTTT", "bc.xml", &r, &d), -1);
	assert_null(r);
	assert_int_equal(d.count, 4);
	assert_string_equal(d.items[0].code, "R_UNIT_UNKNOWN");
	assert_string_equal(d.items[1].code, "R_UNIT_FOLDER");
	assert_string_equal(d.items[2].code, "R_DATE");
	assert_int_equal(d.items[2].line, 5);
	assert_non_null(strstr(d.items[2].message, "\"2023-02-29\""));
	assert_string_equal(d.items[3].code, "R_DATE");
	assert_int_equal(d.items[3].line, 10);
	diag_free(&d);
	xmlFreeDoc(doc);
}

static void test_date(void **state)
{
	const struct fixture *f = *state;
	static const char *const bad_date[] = { "<date>2024-03-25</date>", "<date>2024-02-30</date>" };
	static const char *const bad_to[] = { "to=\"2024-03-31\"", "to=\"2024-04-31\"" };

	assert_one_error(f, example_doc(f, EX01, bad_date, 1, 1), "", "R_DATE", 10,
	    "ngày báo cáo \"2024-02-30\" không phải là một ngày có thật");
	assert_one_error(f, example_doc(f, EX01, bad_to, 1, 1), "", "R_DATE", 12,
	    "ngày kết thúc kỳ báo cáo \"2024-04-31\"");
}

static void test_period(void **state)
{
	const struct fixture *f = *state;
	/* a period that ends before it starts (the report's date stays after both) */
	static const char *const reversed[] = {
		"<period from=\"2024-01-01\" to=\"2024-03-31\"/>", "<period from=\"2024-03-20\" to=\"2024-03-01\"/>",
	};
	/* a report dated before its period starts */
	static const char *const early[] = { "<date>2024-03-25</date>", "<date>2023-12-31</date>" };
	/* a one-day period on the report's date: fine */
	static const char *const one_day[] = {
		"<period from=\"2024-01-01\" to=\"2024-03-31\"/>", "<period from=\"2024-03-25\" to=\"2024-03-25\"/>",
	};
	xmlDocPtr doc;
	struct report *r = NULL;
	struct diag_list d;

	assert_one_error(f, example_doc(f, EX01, reversed, 1, 1), "", "R_PERIOD", 12,
	    "kỳ báo cáo kết thúc (2024-03-01) trước khi bắt đầu (2024-03-20)");
	assert_one_error(f, example_doc(f, EX01, early, 1, 1), "", "R_PERIOD", 10,
	    "ngày báo cáo (2023-12-31) trước ngày bắt đầu kỳ báo cáo (2024-01-01)");
	doc = example_doc(f, EX01, one_day, 1, 1);
	diag_init(&d);
	assert_int_equal(report_from_doc(doc, f->units, "", "bc.xml", &r, &d), 0);
	assert_int_equal(d.count, 0);
	report_free(r);
	xmlFreeDoc(doc);
}

static void test_number_without_schema(void **state)
{
	const struct fixture *f = *state;
	/* figures the schema would refuse; report.c checks them again on its own */
	static const char *const comma[] = { "<value>82.5</value>", "<value>82,5</value>" };
	static const char *const inf[] = { "<target>95</target>", "<target>inf</target>" };

	assert_one_error(f, example_doc(f, EX01, comma, 1, 0), "", "R_NUMBER", 53, "\"82,5\"");
	assert_one_error(f, example_doc(f, EX01, inf, 1, 0), "", "R_NUMBER", 67, "VB-KY-SO");
}

/* A percentage's base names another indicator of the report, one that counts. */
static void test_base(void **state)
{
	const struct fixture *f = *state;
	static const char *const unknown[] = { "base=\"HS-TIEP-NHAN\"", "base=\"KHONG-CO\"" };
	static const char *const rate[] = { "base=\"HS-TIEP-NHAN\"", "base=\"VB-KY-SO\"" };
	struct diag_list d;
	struct report *r = NULL;
	xmlDocPtr doc = example_doc(f, EX01, NULL, 0, 1);

	diag_init(&d);
	assert_int_equal(report_from_doc(doc, f->units, "", "bc.xml", &r, &d), 0);
	assert_string_equal(r->indicators[0].code, "DVC-TT");
	assert_string_equal(r->indicators[0].base, "HS-TIEP-NHAN");
	assert_null(r->indicators[1].base);
	report_free(r);
	xmlFreeDoc(doc);
	diag_free(&d);
	assert_one_error(f, example_doc(f, EX01, unknown, 1, 1), "", "R_NUMBER", 50, "KHONG-CO");
	assert_one_error(f, example_doc(f, EX01, rate, 1, 1), "", "R_NUMBER", 50, "VB-KY-SO");
}

/* Writes the base64 text of bytes zero bytes at p ("AAAA" groups, padded); returns its end. */
static char *fill_base64(char *p, size_t bytes)
{
	size_t b64 = (bytes + 2) / 3 * 4;

	memset(p, 'A', b64);
	p += b64;
	if (bytes % 3 == 1)
		memcpy(p - 2, "==", 2);
	else if (bytes % 3 == 2)
		p[-1] = '=';
	*p = '\0';
	return p;
}

/* Example 01 with one attachment of decoded size bytes. */
static char *with_attachment(size_t bytes, size_t *lenp)
{
	size_t b64 = (bytes + 2) / 3 * 4;
	const char *pre = "  <attachments>\n    <attachment name=\"lon.bin\">";
	const char *post = "</attachment>\n  </attachments>\n  <signer authority=\"KT.\">";
	char *to = malloc(strlen(pre) + b64 + strlen(post) + 1), *p = to;
	static const char *repl[2] = { "  <signer authority=\"KT.\">", NULL };
	char *text;

	assert_non_null(to);
	memcpy(p, pre, strlen(pre));
	p = fill_base64(p + strlen(pre), bytes);
	strcpy(p, post);
	repl[1] = to;
	text = example_text(EX01, repl, 1, lenp);
	free(to);
	return text;
}

static void test_attachment_cap(void **state)
{
	const struct fixture *f = *state;
	size_t len;
	char *text = with_attachment(100, &len);
	xmlDocPtr doc = NULL;
	xmlNodePtr att;
	struct report *r = NULL;
	struct diag_list d;
	char *big;
	const size_t over = REPORT_MAX_ATTACHMENT + 1;
	size_t b64 = (over + 2) / 3 * 4;

	diag_init(&d);
	assert_int_equal(xmlin_parse(text, len, "bc.xml", &doc, &d), 0);
	assert_int_equal(xmlin_validate(f->schema, doc, "bc.xml", &d), 0);
	assert_int_equal(report_from_doc(doc, f->units, "", "bc.xml", &r, &d), 0);
	assert_non_null(strstr(r->content_json, "\"name\":\"lon.bin\""));
	assert_non_null(strstr(r->content_json, "\"bytes\":100"));
	report_free(r);
	/* the same attachment one byte over the cap, set in the tree */
	att = xmlFirstElementChild(xmlPreviousElementSibling(xmlLastElementChild(xmlDocGetRootElement(doc))));
	assert_string_equal((const char *)att->name, "attachment");
	big = malloc(b64 + 1);
	assert_non_null(big);
	fill_base64(big, over);
	xmlNodeSetContent(att, (const xmlChar *)big);
	free(big);
	r = (struct report *)1;
	assert_int_equal(report_from_doc(doc, f->units, "", "bc.xml", &r, &d), -1);
	assert_null(r);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].code, "R_ATTACHMENT");
	assert_int_equal(d.items[0].line, 71);
	assert_non_null(strstr(d.items[0].message, "\"lon.bin\""));
	assert_non_null(strstr(d.items[0].message, "10485761"));
	diag_free(&d);
	xmlFreeDoc(doc);
	free(text);
}

/* An attachment of exactly the cap goes through the whole path: parse, schema, report. */
static void test_attachment_at_cap_parses(void **state)
{
	const struct fixture *f = *state;
	size_t len;
	char *text = with_attachment(REPORT_MAX_ATTACHMENT, &len);
	xmlDocPtr doc = NULL;
	struct report *r = NULL;
	struct diag_list d;

	diag_init(&d);
	if (xmlin_parse(text, len, "bc.xml", &doc, &d) != 0) {
		test_print_diags(&d);
		fail_msg("an attachment of REPORT_MAX_ATTACHMENT bytes is refused at parse");
	}
	assert_int_equal(xmlin_validate(f->schema, doc, "bc.xml", &d), 0);
	assert_int_equal(report_from_doc(doc, f->units, "", "bc.xml", &r, &d), 0);
	assert_non_null(strstr(r->content_json, "\"bytes\":10485760"));
	report_free(r);
	xmlFreeDoc(doc);
	diag_free(&d);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_date),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_content_json),
		cmocka_unit_test(test_attachment_listed),
		cmocka_unit_test(test_fields_nfc),
		cmocka_unit_test(test_unit_unknown),
		cmocka_unit_test(test_unit_folder),
		cmocka_unit_test(test_every_error_listed),
		cmocka_unit_test(test_base),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_period),
		cmocka_unit_test(test_number_without_schema),
		cmocka_unit_test(test_attachment_cap),
		cmocka_unit_test(test_attachment_at_cap_parses),
			cmocka_unit_test(test_valid_date_strict),
};
	return cmocka_run_group_tests_name("report", tests, group_setup, group_teardown);
}
