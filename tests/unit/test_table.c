/* test_table.c: unit tests of table.c (word wrapping by columns, fields, tables that fit). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

/* The widest line of text, in columns. */
static size_t widest(const char *text)
{
	size_t best = 0;
	char *copy = strdup(text), *save = NULL;

	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (table_text_width(l) > best)
			best = table_text_width(l);
	free(copy);
	return best;
}

static void test_width_counts_code_points(void **state)
{
	(void)state;
	assert_int_equal(table_text_width("Ủy ban nhân dân"), 15);
	assert_int_equal(table_text_width(""), 0);
	assert_int_equal(table_text_width(NULL), 0);
}

static void test_take_line_at_words(void **state)
{
	const char *rest;
	char out[128];

	(void)state;
	table_take_line("Ủy ban nhân dân xã Phước Hội", 12, out, &rest);
	assert_string_equal(out, "Ủy ban nhân");
	assert_string_equal(rest, "dân xã Phước Hội");
	/* exactly the width, ending on a space */
	table_take_line("Sở Tư pháp và", 10, out, &rest);
	assert_string_equal(out, "Sở Tư pháp");
	assert_string_equal(rest, "và");
	/* a word longer than the line is cut inside it, at a code point */
	table_take_line("HUYỆN-ĐẤT-ĐỎ-TỈNH", 6, out, &rest);
	assert_string_equal(out, "HUYỆN-");
	assert_string_equal(rest, "ĐẤT-ĐỎ-TỈNH");
	/* all of it fits; 0 is no limit */
	table_take_line("ngắn", 10, out, &rest);
	assert_string_equal(out, "ngắn");
	assert_string_equal(rest, "");
	table_take_line("một dòng rất dài không giới hạn", 0, out, &rest);
	assert_string_equal(out, "một dòng rất dài không giới hạn");
	/* a newline ends a line */
	table_take_line("hai\ndòng", 20, out, &rest);
	assert_string_equal(out, "hai");
	assert_string_equal(rest, "dòng");
}

static void test_field_wraps_under_itself(void **state)
{
	char buf[4096] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	(void)state;
	table_print_field(f, "Nơi nhận", "Sở Thông tin và Truyền thông; Sở Tư pháp; Ủy ban nhân dân "
	    "huyện Đất Đỏ; Ủy ban nhân dân thành phố Bà Rịa", 21, 60);
	fclose(f);
	assert_true(widest(buf) <= 60);
	assert_string_equal(buf,
	    "Nơi nhận:            Sở Thông tin và Truyền thông; Sở Tư\n"
	    "                     pháp; Ủy ban nhân dân huyện Đất Đỏ; Ủy\n"
	    "                     ban nhân dân thành phố Bà Rịa\n");
}

static void test_table_fits_and_aligns(void **state)
{
	static const char *const heads[] = { "Mã", "Tên đơn vị", "Nhóm" };
	static const char *const rows[][3] = {
		{ "SO-TTTT", "Sở Thông tin và Truyền thông", "Sở, ban, ngành" },
		{ "XA-PHUOC-HOI", "Ủy ban nhân dân xã Phước Hội", "UBND các xã, phường, thị trấn" },
	};
	char buf[4096] = "";
	struct table *t = table_new(3, heads);
	FILE *f;

	(void)state;
	assert_non_null(t);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(table_add(t, rows[i]), 0);
	/* wide enough: one line a row, columns at their natural widths */
	f = fmemopen(buf, sizeof(buf), "w");
	table_print(t, f, 0);
	fclose(f);
	assert_string_equal(buf,
	    "Mã            Tên đơn vị                    Nhóm\n"
	    "SO-TTTT       Sở Thông tin và Truyền thông  Sở, ban, ngành\n"
	    "XA-PHUOC-HOI  Ủy ban nhân dân xã Phước Hội  UBND các xã, phường, thị trấn\n");
	/* 50 columns: the widest columns narrow, their cells wrap, the code column stays whole */
	memset(buf, 0, sizeof(buf));
	f = fmemopen(buf, sizeof(buf), "w");
	table_print(t, f, 50);
	fclose(f);
	assert_true(widest(buf) <= 50);
	assert_non_null(strstr(buf, "XA-PHUOC-HOI  "));
	/* nothing lost: every word of every cell is there */
	static const char *const words[] = { "Ủy", "ban", "Phước", "Hội", "Truyền", "thông",
		"UBND", "phường,", "trấn", "ngành" };
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		assert_non_null(strstr(buf, words[i]));
	/* the second row's first line starts with its code, aligned with the header's */
	assert_non_null(strstr(buf, "\nXA-PHUOC-HOI  Ủy"));
	table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_width_counts_code_points),
		cmocka_unit_test(test_take_line_at_words),
		cmocka_unit_test(test_field_wraps_under_itself),
		cmocka_unit_test(test_table_fits_and_aligns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
