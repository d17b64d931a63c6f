/* test_names.c: unit tests of names.c (shown names, their reversal, receipt stems). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

static void show_is(const char *raw, const char *want)
{
	char out[NAMES_SHOWN_SIZE], back[NAME_MAX + 1];

	assert_int_equal(names_show(raw, out, sizeof(out)), strlen(want));
	assert_string_equal(out, want);
	assert_true(names_valid_utf8(out, strlen(out)));
	assert_int_equal(names_unshow(out, back, sizeof(back)), 0);
	assert_string_equal(back, raw);
}

static void test_plain_and_vietnamese_unchanged(void **state)
{
	(void)state;
	show_is("bao-cao-quy-1.xml", "bao-cao-quy-1.xml");
	show_is("Báo cáo quý I năm 2024.xml", "Báo cáo quý I năm 2024.xml");
}

static void test_bytes_that_are_not_utf8(void **state)
{
	(void)state;
	show_is("bao-cao-\xff.xml", "bao-cao-%FF.xml");
	/* a lone continuation byte, an overlong '/', a surrogate, a cut character */
	show_is("a\x80" "b", "a%80b");
	show_is("\xc0\xaf", "%C0%AF");
	show_is("\xed\xa0\x80", "%ED%A0%80");
	show_is("\xe1\xba", "%E1%BA");
}

static void test_escaped_characters(void **state)
{
	(void)state;
	show_is("50%.xml", "50%25.xml");
	show_is("a:b?*\"<>|\\.xml", "a%3Ab%3F%2A%22%3C%3E%7C%5C.xml");
	show_is("tab\there\n.xml", "tab%09here%0A.xml");
	show_is("\xe2\x80\xae" "gpj.xml", "%E2%80%AEgpj.xml");     /* U+202E */
	show_is("\xef\xbb\xbf" "x", "%EF%BB%BFx");                 /* U+FEFF */
	show_is("\xc2\x85", "%C2%85");                             /* C1 NEL */
}

static void test_unshow_refuses_what_is_not_a_shown_form(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(names_unshow("a%ZZ", out, sizeof(out)), -1);
	assert_int_equal(names_unshow("a%0", out, sizeof(out)), -1);
	assert_int_equal(names_unshow("a%00b", out, sizeof(out)), -1);
	assert_int_equal(names_unshow("a%41", out, sizeof(out)), 0);
	assert_string_equal(out, "aA");
}

static void test_short_stem_is_the_shown_name(void **state)
{
	char stem[NAMES_STEM_MAX + 1];

	(void)state;
	assert_int_equal(names_receipt_stem("bao-cao-\xff.xml", stem, sizeof(stem)), 0);
	assert_string_equal(stem, "bao-cao-%FF.xml");
}

static void test_long_stem_cut_on_a_character_with_a_hash(void **state)
{
	char raw[NAME_MAX + 1] = "", stem[NAMES_STEM_MAX + 1], stem2[NAMES_STEM_MAX + 1];
	const char *word = "báo-cáo-kết-quả-";
	size_t len;

	(void)state;
	while (strlen(raw) + strlen(word) < NAME_MAX - 4)
		strcat(raw, word);
	strcat(raw, ".xml");
	assert_int_equal(names_receipt_stem(raw, stem, sizeof(stem)), 0);
	len = strlen(stem);
	assert_true(len <= NAMES_STEM_MAX);
	assert_true(names_valid_utf8(stem, len));
	assert_int_equal(stem[len - 9], '~');
	for (size_t i = len - 8; i < len; i++)
		assert_non_null(strchr("0123456789abcdef", stem[i]));
	assert_memory_equal(stem, raw, len - 9);
	/* two names with the same start get different stems */
	raw[strlen(raw) - 5] = 'X';
	assert_int_equal(names_receipt_stem(raw, stem2, sizeof(stem2)), 0);
	assert_string_not_equal(stem, stem2);
}

static void test_long_stem_never_cuts_an_escape(void **state)
{
	char raw[NAME_MAX + 1], stem[NAMES_STEM_MAX + 1];
	size_t len, cut;

	(void)state;
	memset(raw, '\xff', 100);   /* 300 bytes shown */
	raw[100] = '\0';
	assert_int_equal(names_receipt_stem(raw, stem, sizeof(stem)), 0);
	len = strlen(stem);
	cut = len - 9;
	assert_true(cut <= 191);
	assert_int_equal(cut % 3, 0);
	for (size_t i = 0; i < cut; i += 3)
		assert_memory_equal(stem + i, "%FF", 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_vietnamese_unchanged),
		cmocka_unit_test(test_bytes_that_are_not_utf8),
		cmocka_unit_test(test_escaped_characters),
		cmocka_unit_test(test_unshow_refuses_what_is_not_a_shown_form),
		cmocka_unit_test(test_short_stem_is_the_shown_name),
		cmocka_unit_test(test_long_stem_cut_on_a_character_with_a_hash),
		cmocka_unit_test(test_long_stem_never_cuts_an_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
