/* test_units.c: unit tests of units.c (the units registry: loading, lookup, Vietnamese order, refusals). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "units.h"
#include "xmlin.h"
#include "testutil.h"

#define UNITS_XML "workflows/units.xml"
#define UNITS_XSD "workflows/units.xsd"

static struct units *load_shipped(void)
{
	struct units *u = NULL;
	struct diag_list d;

	diag_init(&d);
	if (units_load(UNITS_XML, UNITS_XSD, &u, &d) != 0) {
		test_print_diags(&d);
		fail_msg("the shipped registry does not load");
	}
	assert_non_null(u);
	assert_int_equal(d.count, 0);
	diag_free(&d);
	return u;
}

static void test_load_shipped(void **state)
{
	struct units *u = load_shipped();
	static const char *const groups[] = { "cap-tren", "so-nganh", "cap-huyen", "cap-xa", "dang" };

	(void)state;
	assert_true(u->nunits > 40);
	assert_int_equal(u->nunits, 57);
	assert_int_equal(u->ngroups, 5);
	for (size_t i = 0; i < u->ngroups; i++)
		assert_string_equal(u->groups[i].code, groups[i]);
	assert_string_equal(u->groups[0].label, "Cơ quan cấp trên");
	assert_string_equal(u->groups[3].label, "UBND các xã, phường, thị trấn");
	/* units in file order */
	assert_string_equal(u->units[0].code, "VPCP");
	assert_string_equal(u->units[0].name, "Văn phòng Chính phủ");
	assert_int_equal(u->units[0].group, 0);
	assert_string_equal(u->units[1].short_name, "Bộ TT&TT");
	assert_string_equal(u->units[u->nunits - 1].name, "Đảng ủy xã Phước Hội");
	assert_int_equal(u->units[u->nunits - 1].group, 4);
	units_free(u);
}

static void test_find(void **state)
{
	struct units *u = load_shipped();
	const struct unit *e;

	(void)state;
	e = units_find(u, "SO-TTTT");
	assert_non_null(e);
	assert_string_equal(e->code, "SO-TTTT");
	assert_string_equal(e->name, "Sở Thông tin và Truyền thông");
	assert_string_equal(u->groups[e->group].code, "so-nganh");
	e = units_find(u, "XA-PHUOC-HOI");
	assert_non_null(e);
	assert_string_equal(e->name, "Ủy ban nhân dân xã Phước Hội");
	assert_string_equal(e->short_name, "UBND xã Phước Hội");
	assert_string_equal(u->groups[e->group].code, "cap-xa");
	/* every unit is found under its own code, and the code index is in byte order */
	for (size_t i = 0; i < u->nunits; i++)
		assert_ptr_equal(units_find(u, u->units[i].code), &u->units[i]);
	for (size_t i = 1; i < u->nunits; i++)
		assert_true(strcmp(u->by_code[i - 1]->code, u->by_code[i]->code) < 0);
	/* missing, a prefix, another case, empty */
	assert_null(units_find(u, "SO-KHONG-CO"));
	assert_null(units_find(u, "SO-TT"));
	assert_null(units_find(u, "so-tttt"));
	assert_null(units_find(u, ""));
	units_free(u);
}

/* First and last position in by_name of names starting with prefix. */
static void span(const struct units *u, const char *prefix, size_t *first, size_t *last)
{
	int seen = 0;

	for (size_t i = 0; i < u->nunits; i++) {
		if (strncmp(u->units[u->by_name[i]].name, prefix, strlen(prefix)) != 0)
			continue;
		if (!seen)
			*first = i;
		*last = i;
		seen = 1;
	}
	if (!seen)
		fail_msg("no name starts with '%s'", prefix);
}

static void test_by_name_vietnamese(void **state)
{
	struct units *u = load_shipped();
	size_t c0, c1, d0, d1, h0, h1, b0, b1, u0, u1, v0, v1;
	char *seen;

	(void)state;
	/* a permutation of 0..n-1 */
	seen = calloc(u->nunits, 1);
	assert_non_null(seen);
	for (size_t i = 0; i < u->nunits; i++) {
		assert_true(u->by_name[i] < u->nunits);
		assert_false(seen[u->by_name[i]]);
		seen[u->by_name[i]] = 1;
	}
	free(seen);
	span(u, "B", &b0, &b1);   /* Bộ ..., Ban Quản lý ... */
	span(u, "C", &c0, &c1);   /* Công an tỉnh */
	span(u, "Đ", &d0, &d1);   /* Đảng ủy ... */
	span(u, "H", &h0, &h1);   /* Huyện ủy ... */
	span(u, "Ủ", &u0, &u1);   /* Ủy ban nhân dân ... */
	span(u, "V", &v0, &v1);   /* Văn phòng ... */
	assert_true(b1 < c0);
	assert_true(c1 < d0);     /* Đ after C (and D) ... */
	assert_true(d1 < h0);     /* ... and before H: byte order would put it after Z */
	assert_true(u1 < v0);     /* Ủ sorts with U, before V */
	assert_int_equal(d1 - d0 + 1, 4);
	/* first and last */
	assert_string_equal(u->units[u->by_name[0]].name, "Ban Quản lý các Khu công nghiệp");
	assert_string_equal(u->units[u->by_name[u->nunits - 1]].name, "Văn phòng Ủy ban nhân dân tỉnh");
	units_free(u);
}

/* Writes text to a new file under dir; returns its path in out. */
static void write_file(const char *dir, const char *name, const char *text, char *out, size_t len)
{
	FILE *f;

	snprintf(out, len, "%s/%s", dir, name);
	f = fopen(out, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* Loads a registry text against the shipped schema from a temp file. */
static int load_text(const char *text, struct units **u, struct diag_list *d)
{
	char dir[] = "/tmp/vanthu-units-XXXXXX", path[PATH_MAX];
	int rc;

	assert_non_null(mkdtemp(dir));
	write_file(dir, "units.xml", text, path, sizeof(path));
	diag_init(d);
	rc = units_load(path, UNITS_XSD, u, d);
	unlink(path);
	rmdir(dir);
	return rc;
}

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<units xmlns=\"urn:vanthu:units:1\">\n"

/* exchange.md: an id of another shape is kept (the 2025 mergers); one that is no address is not */
static void test_unit_ids(void **state)
{
	const char *ok = HEAD
	    "  <group code=\"g\" label=\"Nhóm\"/>\n"
	    "  <unit code=\"A\" group=\"g\" id=\"UBND-XA-MOI.2025\"><name>Xã Mới</name>"
	    "<short>Xã Mới</short></unit>\n"
	    "</units>\n";
	static const char *const bad[] = { ".000.00.31.H55", "000..31.H55", "000.00.31.H55.",
		"000 00", "000.00.31.H55.000.00.31.H55.000.00.31", "" };
	struct units *u = NULL;
	struct diag_list d;
	char text[1024];

	(void)state;
	if (load_text(ok, &u, &d) != 0) {
		test_print_diags(&d);
		fail_msg("an id of another shape was refused");
	}
	assert_string_equal(u->units[0].id, "UBND-XA-MOI.2025");
	units_free(u);
	diag_free(&d);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), HEAD "  <group code=\"g\" label=\"Nhóm\"/>\n"
		    "  <unit code=\"A\" group=\"g\" id=\"%s\"><name>X</name><short>X</short></unit>\n"
		    "</units>\n", bad[i]);
		u = NULL;
		if (load_text(text, &u, &d) == 0)
			fail_msg("id \"%s\" was accepted", bad[i]);
		units_free(u);
		diag_free(&d);
	}
}

static void test_small_registry_nfc(void **state)
{
	/* names written decomposed (as a Mac editor may save them) come out NFC */
	const char *text = HEAD
	    "  <group code=\"g2\" label=\"Nho\xcc\x81m hai\"/>\n"
	    "  <group code=\"g1\" label=\"Nhóm một\"/>\n"
	    "  <unit code=\"B\" group=\"g1\" id=\"000.00.31.H55\">\n"
	    "    <name>Ho\xcc\x9b\xcc\xa3i \xc4\x91o\xcc\x82\xcc\x80ng</name>\n"
	    "    <short>HĐ</short>\n"
	    "  </unit>\n"
	    "  <unit code=\"A\" group=\"g2\"><name>An Ngãi</name><short>AN</short></unit>\n"
	    "</units>\n";
	struct units *u = NULL;
	struct diag_list d;

	(void)state;
	if (load_text(text, &u, &d) != 0) {
		test_print_diags(&d);
		fail_msg("small registry refused");
	}
	assert_int_equal(u->ngroups, 2);
	assert_string_equal(u->groups[0].code, "g2");
	assert_string_equal(u->groups[0].label, "Nhóm hai");
	assert_int_equal(u->nunits, 2);
	assert_string_equal(u->units[0].name, "Hợi đồng");
	assert_string_equal(u->units[0].id, "000.00.31.H55");
	assert_int_equal(u->units[0].group, 1);
	assert_null(u->units[1].id);
	assert_int_equal(u->units[1].group, 0);
	/* "An Ngãi" before "Hợi đồng" */
	assert_int_equal(u->by_name[0], 1);
	assert_int_equal(u->by_name[1], 0);
	assert_string_equal(units_find(u, "A")->name, "An Ngãi");
	units_free(u);
	diag_free(&d);
}

/* The registry is refused, and some error's message holds text. */
static void assert_refused(const char *text, const char *want)
{
	struct units *u = (struct units *)1;
	struct diag_list d;

	assert_int_equal(load_text(text, &u, &d), -1);
	assert_null(u);
	assert_true(d.count >= 1);
	for (size_t i = 0; i < d.count; i++)
		if (strstr(d.items[i].message, want) != NULL && d.items[i].line > 0) {
			diag_free(&d);
			return;
		}
	test_print_diags(&d);
	fail_msg("no error with a line containing '%s'", want);
}

/* Regression (was a bug): a unit naming a group that does not exist is accepted, and silently put
 * in the first group. units.xsd declares its key, unique and keyref with
 * unprefixed selectors (xpath="group", xpath="unit"), which in XPath name
 * elements in no namespace; the registry's elements are in urn:vanthu:units:1,
 * so the selectors match nothing and none of the three constraints is checked
 * (xmllint --schema workflows/units.xsd agrees: "validates"). units.c relies on
 * it ("the schema's keyref guarantees the group exists"). Input: the registry
 * below (<unit code="B" group="khong-co">): units_load returns 0 and unit B
 * lands in group "g1". */
static void test_refuses_unknown_group(void **state);
static void test_refuses_unknown_group(void **state)
{
	(void)state;
	assert_refused(HEAD
	    "  <group code=\"g1\" label=\"Nhóm một\"/>\n"
	    "  <unit code=\"A\" group=\"g1\"><name>An</name><short>An</short></unit>\n"
	    "  <unit code=\"B\" group=\"khong-co\"><name>Bình</name><short>Bình</short></unit>\n"
	    "</units>\n", "khong-co");
}

/* Regression (was a bug): two units with the same code are accepted (the same cause as
 * test_refuses_unknown_group: the unitCode unique constraint of units.xsd
 * selects nothing). Input: the registry below with two <unit code="A">;
 * units_load returns 0 and units_find("A") returns either of them. */
static void test_refuses_duplicate_code(void **state);
static void test_refuses_duplicate_code(void **state)
{
	(void)state;
	assert_refused(HEAD
	    "  <group code=\"g1\" label=\"Nhóm một\"/>\n"
	    "  <unit code=\"A\" group=\"g1\"><name>An</name><short>An</short></unit>\n"
	    "  <unit code=\"A\" group=\"g1\"><name>Anh</name><short>Anh</short></unit>\n"
	    "</units>\n", "trùng lặp");
}

static void test_refuses_missing_short(void **state)
{
	(void)state;
	assert_refused(HEAD
	    "  <group code=\"g1\" label=\"Nhóm một\"/>\n"
	    "  <unit code=\"A\" group=\"g1\">\n"
	    "    <name>An</name>\n"
	    "  </unit>\n"
	    "</units>\n", "phần tử <unit> còn thiếu phần tử con; cần ( short )");
}

static void test_refuses_other_mistakes(void **state)
{
	(void)state;
	/* a code with a space */
	assert_refused(HEAD
	    "  <group code=\"g1\" label=\"Nhóm một\"/>\n"
	    "  <unit code=\"S O\" group=\"g1\"><name>An</name><short>An</short></unit>\n"
	    "</units>\n", "\"S O\"");
	/* a group after the first unit */
	assert_refused(HEAD
	    "  <group code=\"g1\" label=\"Nhóm một\"/>\n"
	    "  <unit code=\"A\" group=\"g1\"><name>An</name><short>An</short></unit>\n"
	    "  <group code=\"g2\" label=\"Nhóm hai\"/>\n"
	    "</units>\n", "<group>");
	/* no units at all */
	assert_refused(HEAD
	    "  <group code=\"g1\" label=\"Nhóm một\"/>\n"
	    "</units>\n", "<units>");
	/* not well-formed */
	assert_refused(HEAD "  <group code=\"g1\" label=\"x\">\n</units>\n", "cú pháp");
}

static void test_missing_files(void **state)
{
	struct units *u = (struct units *)1;
	struct diag_list d;

	(void)state;
	diag_init(&d);
	assert_int_equal(units_load("workflows/none.xml", UNITS_XSD, &u, &d), -1);
	assert_null(u);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].file, "workflows/none.xml");
	diag_free(&d);
	u = (struct units *)1;
	assert_int_equal(units_load(UNITS_XML, "workflows/none.xsd", &u, &d), -1);
	assert_null(u);
	assert_true(d.count >= 1);
	assert_string_equal(d.items[0].file, "workflows/none.xsd");
	diag_free(&d);
	units_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_shipped),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_by_name_vietnamese),
		cmocka_unit_test(test_small_registry_nfc),
		cmocka_unit_test(test_unit_ids),
		cmocka_unit_test(test_refuses_missing_short),
		cmocka_unit_test(test_refuses_other_mistakes),
		cmocka_unit_test(test_missing_files),
			cmocka_unit_test(test_refuses_unknown_group),
		cmocka_unit_test(test_refuses_duplicate_code),
};
	return cmocka_run_group_tests_name("units", tests, test_xml_setup, test_xml_teardown);
}
