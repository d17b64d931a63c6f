/* test_receipt.c: unit tests of receipt.c (the XML and Vietnamese text receipts, local time, errors as JSON). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "receipt.h"

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static struct receipt_info accepted(void)
{
	struct receipt_info r = {
		.id = 42,
		.file = "bao-cao-quy-1.xml",
		.folder = "SO-TTTT",
		.received_at = "2024-03-20T02:15:02.123Z",
		.outcome = "accepted",
		.sha256 = SHA,
		.size = 12345,
		.unit_code = "SO-TTTT",
		.unit_name = "Sở Thông tin và Truyền thông",
		.round_id = "CDS-2024-Q1",
		.report_id = 7,
		.supersedes = 0,
		.errors = NULL,
	};
	return r;
}

/* Two errors: one with line and column, one with neither. */
static void two_errors(struct diag_list *d)
{
	diag_init(d);
	assert_int_equal(diag_add_at(d, "x.xml", 12, 5, "R_SCHEMA",
	    "giá trị \"25/03/2024\" của <date> không đúng định dạng & quy định"), 0);
	assert_int_equal(diag_add_at(d, "x.xml", 0, 0, "R_UNIT_UNKNOWN",
	    "mã đơn vị \"SO-X\" không có trong danh mục"), 0);
}

/* Parses a receipt back; it must be well-formed XML in the receipt namespace. */
static xmlDocPtr parse_receipt(const char *xml)
{
	xmlDocPtr doc;
	xmlNodePtr root;

	assert_non_null(xml);
	doc = xmlReadMemory(xml, (int)strlen(xml), "receipt.xml", NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL)
		fail_msg("receipt is not well-formed XML:\n%s", xml);
	root = xmlDocGetRootElement(doc);
	assert_string_equal((const char *)root->name, "receipt");
	assert_non_null(root->ns);
	assert_string_equal((const char *)root->ns->href, "urn:vanthu:receipt:1");
	return doc;
}

static xmlNodePtr elem(xmlDocPtr doc, const char *name)
{
	for (xmlNodePtr c = xmlDocGetRootElement(doc)->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

/* Content of an element (or attribute when attr is not NULL) equals want. */
static void assert_value(xmlNodePtr n, const char *attr, const char *want)
{
	xmlChar *v;

	assert_non_null(n);
	v = attr ? xmlGetProp(n, (const xmlChar *)attr) : xmlNodeGetContent(n);
	assert_non_null(v);
	assert_string_equal((const char *)v, want);
	xmlFree(v);
}

static void test_xml_accepted(void **state)
{
	struct receipt_info r = accepted();
	char *xml = receipt_xml(&r);
	xmlDocPtr doc = parse_receipt(xml);

	(void)state;
	assert_value(xmlDocGetRootElement(doc), "id", "42");
	assert_value(elem(doc, "file"), NULL, "bao-cao-quy-1.xml");
	assert_value(elem(doc, "file"), "folder", "SO-TTTT");
	assert_value(elem(doc, "received"), NULL, "2024-03-20T09:15:02+07:00");
	assert_value(elem(doc, "outcome"), NULL, "accepted");
	assert_value(elem(doc, "sha256"), NULL, SHA);
	assert_value(elem(doc, "size"), NULL, "12345");
	assert_value(elem(doc, "unit"), "code", "SO-TTTT");
	assert_value(elem(doc, "unit"), NULL, "Sở Thông tin và Truyền thông");
	assert_value(elem(doc, "round"), "id", "CDS-2024-Q1");
	assert_value(elem(doc, "report"), "id", "7");
	assert_null(elem(doc, "supersedes"));
	assert_null(elem(doc, "errors"));
	xmlFreeDoc(doc);
	free(xml);
}

/* A report for a round that closed: the receipt says so, in both forms; a duplicate does not. */
static void test_after_close(void **state)
{
	struct receipt_info r = accepted();
	char *xml, *text;
	xmlDocPtr doc;

	(void)state;
	r.after_close = "2024-03-28T17:00:00.000Z";
	xml = receipt_xml(&r);
	doc = parse_receipt(xml);
	assert_value(elem(doc, "round"), "after-close", "true");
	assert_value(elem(doc, "round"), "closed-at", "2024-03-28T17:00:00.000Z");
	xmlFreeDoc(doc);
	free(xml);
	text = receipt_text(&r);
	assert_non_null(strstr(text, "GỬI SAU KHI ĐỢT BÁO CÁO ĐÃ ĐÓNG (đóng lúc "
	    "2024-03-29T00:00:00+07:00)"));
	free(text);
	r.outcome = "duplicate";
	text = receipt_text(&r);
	assert_null(strstr(text, "SAU KHI ĐỢT"));
	free(text);
	r.after_close = NULL;
	r.outcome = "accepted";
	text = receipt_text(&r);
	assert_null(strstr(text, "SAU KHI ĐỢT"));
	free(text);
	/* a first report after the deadline: late, with the deadline the Vietnamese way */
	r.late_deadline = "2024-03-25";
	text = receipt_text(&r);
	assert_non_null(strstr(text, "GỬI MUỘN: hạn báo cáo của đợt là ngày 25/03/2024"));
	free(text);
	xml = receipt_xml(&r);
	doc = parse_receipt(xml);
	assert_value(elem(doc, "round"), "late", "true");
	assert_value(elem(doc, "round"), "deadline", "2024-03-25");
	xmlFreeDoc(doc);
	free(xml);
}

static void test_xml_outcomes(void **state)
{
	struct receipt_info r = accepted();
	struct diag_list d;
	xmlDocPtr doc;
	xmlNodePtr errs, e;
	char *xml;

	(void)state;
	/* duplicate: names the report it repeats */
	r.outcome = "duplicate";
	xml = receipt_xml(&r);
	doc = parse_receipt(xml);
	assert_value(elem(doc, "outcome"), NULL, "duplicate");
	assert_value(elem(doc, "report"), "id", "7");
	assert_null(elem(doc, "supersedes"));
	xmlFreeDoc(doc);
	free(xml);
	/* superseding: the new report and the one it replaces */
	r.outcome = "superseding";
	r.report_id = 9;
	r.supersedes = 3;
	xml = receipt_xml(&r);
	doc = parse_receipt(xml);
	assert_value(elem(doc, "outcome"), NULL, "superseding");
	assert_value(elem(doc, "report"), "id", "9");
	assert_value(elem(doc, "supersedes"), "report", "3");
	xmlFreeDoc(doc);
	free(xml);
	/* rejected: no report, no unit or round known, every error listed */
	two_errors(&d);
	r.outcome = "rejected";
	r.report_id = 0;
	r.supersedes = 0;
	r.unit_code = NULL;
	r.unit_name = NULL;
	r.round_id = NULL;
	r.errors = &d;
	xml = receipt_xml(&r);
	doc = parse_receipt(xml);
	assert_value(elem(doc, "outcome"), NULL, "rejected");
	assert_null(elem(doc, "report"));
	assert_null(elem(doc, "supersedes"));
	assert_null(elem(doc, "unit"));
	assert_null(elem(doc, "round"));
	errs = elem(doc, "errors");
	assert_value(errs, "count", "2");
	e = xmlFirstElementChild(errs);
	assert_string_equal((const char *)e->name, "error");
	assert_value(e, "code", "R_SCHEMA");
	assert_value(e, "line", "12");
	assert_value(e, "column", "5");
	assert_value(e, NULL, "giá trị \"25/03/2024\" của <date> không đúng định dạng & quy định");
	e = xmlNextElementSibling(e);
	assert_value(e, "code", "R_UNIT_UNKNOWN");
	assert_value(e, "line", "0");
	assert_value(e, NULL, "mã đơn vị \"SO-X\" không có trong danh mục");
	assert_null(xmlNextElementSibling(e));
	xmlFreeDoc(doc);
	free(xml);
	/* an empty error list is left out */
	diag_free(&d);
	xml = receipt_xml(&r);
	doc = parse_receipt(xml);
	assert_null(elem(doc, "errors"));
	xmlFreeDoc(doc);
	free(xml);
}

static void test_xml_escaping(void **state)
{
	struct receipt_info r = accepted();
	char *xml;
	xmlDocPtr doc;

	(void)state;
	r.file = "a&b<c>\"d'\x01" "e\x1f.xml";
	r.folder = "\"><x y=\"";
	r.unit_name = "Sở TT&TT <Bà Rịa>";
	r.round_id = "R'1\"";
	xml = receipt_xml(&r);
	/* nothing raw: no control byte, the markup characters as references */
	assert_null(strchr(xml, '\x01'));
	assert_null(strchr(xml, '\x1f'));
	assert_non_null(strstr(xml, "a&amp;b&lt;c&gt;&quot;d&apos;"));
	assert_null(strstr(xml, "<x y="));
	doc = parse_receipt(xml);
	/* the control characters became U+FFFD, everything else reads back as written */
	assert_value(elem(doc, "file"), NULL, "a&b<c>\"d'\xef\xbf\xbd" "e\xef\xbf\xbd.xml");
	assert_value(elem(doc, "file"), "folder", "\"><x y=\"");
	assert_value(elem(doc, "unit"), NULL, "Sở TT&TT <Bà Rịa>");
	assert_value(elem(doc, "round"), "id", "R'1\"");
	/* still exactly one of each element */
	assert_int_equal(xmlChildElementCount(xmlDocGetRootElement(doc)), 8);
	xmlFreeDoc(doc);
	free(xml);
}

/* Regression (was a bug): a file name that is not UTF-8 makes the XML receipt ill-formed.
 * sb_xml() copies every byte >= 0x20 as is, so bytes that are not UTF-8 go
 * into an encoding="UTF-8" document. File names come from the units' shares
 * (spool.c passes the directory entry's name straight to receipt_xml), and a
 * Windows client with the wrong charset writes Latin-1/CP1258 names. Input:
 * file "b\xe1o-c\xe1o.xml" (Latin-1 "báo-cáo.xml"): xmlReadMemory refuses the
 * receipt. */
static void test_xml_file_name_not_utf8(void **state);
static void test_xml_file_name_not_utf8(void **state)
{
	struct receipt_info r = accepted();
	char *xml;
	xmlDocPtr doc;
	xmlChar *name;

	(void)state;
	r.file = "b\xe1o-c\xe1o.xml";
	xml = receipt_xml(&r);
	doc = parse_receipt(xml);
	name = xmlNodeGetContent(elem(doc, "file"));
	assert_int_equal(name[0], 'b');
	assert_non_null(strstr((const char *)name, ".xml"));
	xmlFree(name);
	xmlFreeDoc(doc);
	free(xml);
}

/* The text holds line (a whole line, without its newline). */
static void assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return;
	fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void test_text_accepted(void **state)
{
	struct receipt_info r = accepted();
	char *t = receipt_text(&r);

	(void)state;
	assert_non_null(t);
	assert_int_equal(strncmp(t, "BIÊN NHẬN SỐ 42\n\n", strlen("BIÊN NHẬN SỐ 42\n\n")), 0);
	assert_line(t, "Tệp:        bao-cao-quy-1.xml (thư mục SO-TTTT)");
	assert_line(t, "Nhận lúc:   09:15:02 ngày 20/03/2024 (giờ Việt Nam)");
	assert_line(t, "Đơn vị:     Sở Thông tin và Truyền thông (SO-TTTT)");
	assert_line(t, "Đợt báo cáo: CDS-2024-Q1");
	assert_line(t, "Kết quả:    ĐÃ TIẾP NHẬN — báo cáo số 7");
	assert_line(t, "SHA-256:    " SHA);
	assert_line(t, "Kích thước: 12345 byte");
	assert_null(strstr(t, "Hãy sửa"));
	assert_null(strstr(t, "TỪ CHỐI"));
	free(t);
}

static void test_text_outcomes(void **state)
{
	struct receipt_info r = accepted();
	struct diag_list d;
	char *t;

	(void)state;
	r.outcome = "duplicate";
	t = receipt_text(&r);
	assert_line(t, "Kết quả:    TRÙNG LẶP — giống hệt báo cáo số 7 đã nhận; không ghi nhận thêm");
	free(t);
	r.outcome = "superseding";
	r.report_id = 9;
	r.supersedes = 3;
	t = receipt_text(&r);
	assert_line(t, "Kết quả:    ĐÃ TIẾP NHẬN, THAY THẾ báo cáo số 3 — báo cáo số 9");
	free(t);
	/* rejected, from the top folder, unit known by code only */
	two_errors(&d);
	assert_int_equal(diag_add_at(&d, "x.xml", 3, 0, "R_DATE", "ngày không có thật"), 0);
	r.outcome = "rejected";
	r.folder = "";
	r.unit_name = NULL;
	r.round_id = NULL;
	r.errors = &d;
	t = receipt_text(&r);
	assert_line(t, "Tệp:        bao-cao-quy-1.xml");
	assert_line(t, "Đơn vị:     SO-TTTT");
	assert_null(strstr(t, "Đợt báo cáo"));
	assert_line(t, "Kết quả:    BỊ TỪ CHỐI — 3 lỗi:");
	assert_line(t, "  1. [R_SCHEMA] dòng 12, cột 5: giá trị \"25/03/2024\" của <date> không đúng "
	    "định dạng & quy định");
	assert_line(t, "  2. [R_UNIT_UNKNOWN] mã đơn vị \"SO-X\" không có trong danh mục");
	assert_line(t, "  3. [R_DATE] dòng 3: ngày không có thật");
	assert_line(t, "Hãy sửa các lỗi trên rồi gửi lại tệp vào thư mục tiếp nhận.");
	free(t);
	/* two errors */
	d.count = 2;
	t = receipt_text(&r);
	assert_line(t, "Kết quả:    BỊ TỪ CHỐI — 2 lỗi:");
	assert_non_null(strstr(t, "dòng 12, cột 5"));
	free(t);
	d.count = 3;
	diag_free(&d);
}

static void test_text_control_characters(void **state)
{
	struct receipt_info r = accepted();
	char *t;

	(void)state;
	r.file = "a\nKết quả:    ĐÃ TIẾP NHẬN\x1b[0m.xml";
	r.outcome = "rejected";
	t = receipt_text(&r);
	/* a name cannot forge a line of the receipt */
	assert_line(t, "Tệp:        a?Kết quả:    ĐÃ TIẾP NHẬN?[0m.xml (thư mục SO-TTTT)");
	assert_line(t, "Kết quả:    BỊ TỪ CHỐI — 0 lỗi:");
	assert_null(strchr(t, '\x1b'));
	free(t);
}

static void test_local_time(void **state)
{
	char out[64];

	(void)state;
	receipt_local_time("2024-03-20T02:15:02.123Z", out, sizeof(out));
	assert_string_equal(out, "2024-03-20T09:15:02+07:00");
	receipt_local_time("2024-03-20T02:15:02Z", out, sizeof(out));
	assert_string_equal(out, "2024-03-20T09:15:02+07:00");
	/* 17:00 UTC is midnight in Vietnam: the next day */
	receipt_local_time("2024-03-20T16:59:59.999Z", out, sizeof(out));
	assert_string_equal(out, "2024-03-20T23:59:59+07:00");
	receipt_local_time("2024-03-20T17:00:00.000Z", out, sizeof(out));
	assert_string_equal(out, "2024-03-21T00:00:00+07:00");
	/* ... and the next month, year, and a leap day */
	receipt_local_time("2024-12-31T17:30:00Z", out, sizeof(out));
	assert_string_equal(out, "2025-01-01T00:30:00+07:00");
	receipt_local_time("2024-02-28T20:00:00Z", out, sizeof(out));
	assert_string_equal(out, "2024-02-29T03:00:00+07:00");
	receipt_local_time("2023-02-28T20:00:00Z", out, sizeof(out));
	assert_string_equal(out, "2023-03-01T03:00:00+07:00");
	/* not a time: given back as it came; NULL: empty */
	receipt_local_time("không phải giờ", out, sizeof(out));
	assert_string_equal(out, "không phải giờ");
	receipt_local_time(NULL, out, sizeof(out));
	assert_string_equal(out, "");
}

static void test_text_time_rollover(void **state)
{
	struct receipt_info r = accepted();
	char *t;

	(void)state;
	r.received_at = "2024-12-31T17:00:01.000Z";
	t = receipt_text(&r);
	assert_line(t, "Nhận lúc:   00:00:01 ngày 01/01/2025 (giờ Việt Nam)");
	free(t);
}

static void test_errors_json(void **state)
{
	struct diag_list d;
	json_error_t jerr;
	json_t *arr, *e;
	char *s;

	(void)state;
	two_errors(&d);
	s = receipt_errors_json(&d);
	assert_non_null(s);
	arr = json_loads(s, JSON_REJECT_DUPLICATES, &jerr);
	if (arr == NULL)
		fail_msg("not JSON: %s: %s", jerr.text, s);
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), 2);
	e = json_array_get(arr, 0);
	assert_int_equal(json_object_size(e), 4);
	assert_string_equal(json_string_value(json_object_get(e, "code")), "R_SCHEMA");
	assert_int_equal(json_integer_value(json_object_get(e, "line")), 12);
	assert_int_equal(json_integer_value(json_object_get(e, "column")), 5);
	assert_string_equal(json_string_value(json_object_get(e, "message")),
	    "giá trị \"25/03/2024\" của <date> không đúng định dạng & quy định");
	e = json_array_get(arr, 1);
	assert_string_equal(json_string_value(json_object_get(e, "code")), "R_UNIT_UNKNOWN");
	assert_int_equal(json_integer_value(json_object_get(e, "line")), 0);
	assert_true(json_is_integer(json_object_get(e, "column")));
	json_decref(arr);
	free(s);
	diag_free(&d);
	/* none: an empty array */
	s = receipt_errors_json(NULL);
	assert_string_equal(s, "[]");
	free(s);
	s = receipt_errors_json(&d);
	assert_string_equal(s, "[]");
	free(s);
}

/* Regression (was a bug): an error whose message is not UTF-8 is silently left out of the JSON.
 * json_pack() fails on such a string and receipt_errors_json() appends the
 * NULL it returns, which jansson drops. Messages can carry a unit's file name
 * (spool.c's R_NOT_FILE: "%s không phải là tệp thông thường ...") and file
 * names need not be UTF-8. Input: two errors, the second with the message
 * "b\xe1o.xml không phải là tệp thông thường": the result is an array of one. */
static void test_errors_json_not_utf8(void **state);
static void test_errors_json_not_utf8(void **state)
{
	struct diag_list d;
	json_t *arr;
	char *s;

	(void)state;
	diag_init(&d);
	assert_int_equal(diag_add_at(&d, "x", 1, 1, "R_SCHEMA", "lỗi một"), 0);
	assert_int_equal(diag_add_at(&d, "x", 0, 0, "R_NOT_FILE",
	    "b\xe1o.xml không phải là tệp thông thường"), 0);
	s = receipt_errors_json(&d);
	assert_non_null(s);
	arr = json_loads(s, 0, NULL);
	assert_non_null(arr);
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 1), "code")),
	    "R_NOT_FILE");
	json_decref(arr);
	free(s);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_accepted),
		cmocka_unit_test(test_xml_outcomes),
		cmocka_unit_test(test_after_close),
		cmocka_unit_test(test_xml_escaping),
		cmocka_unit_test(test_text_accepted),
		cmocka_unit_test(test_text_outcomes),
		cmocka_unit_test(test_text_control_characters),
		cmocka_unit_test(test_local_time),
		cmocka_unit_test(test_text_time_rollover),
		cmocka_unit_test(test_errors_json),
			cmocka_unit_test(test_xml_file_name_not_utf8),
		cmocka_unit_test(test_errors_json_not_utf8),
};
	return cmocka_run_group_tests_name("receipt", tests, NULL, NULL);
}
