/* test_vnfmt.c: unit tests of vnfmt.c (NFC normalisation and Vietnamese collation). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "vnfmt.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* vnfmt_nfc on a NUL-terminated string; the result must be freed. */
static char *nfc(const char *s)
{
	char *out = (char *)1;

	assert_int_equal(vnfmt_nfc(s, strlen(s), &out), VNFMT_OK);
	assert_non_null(out);
	return out;
}

static void test_nfc_composes_vietnamese(void **state)
{
	char *out;

	(void)state;
	/* "Hải": a + U+0309 combining hook above -> U+1EA3 */
	out = nfc("Ha\xcc\x89i");
	assert_string_equal(out, "H\xe1\xba\xa3i");
	assert_string_equal(out, "Hải");
	free(out);
	/* "Đặng": Đ has no decomposition; a + U+0323 dot below + U+0306 breve -> U+1EB7 */
	out = nfc("\xc4\x90" "a\xcc\xa3\xcc\x86ng");
	assert_string_equal(out, "\xc4\x90\xe1\xba\xb7ng");
	assert_string_equal(out, "Đặng");
	free(out);
	/* the same marks in the other canonical order compose to the same letter */
	out = nfc("\xc4\x90" "a\xcc\x86\xcc\xa3ng");
	assert_string_equal(out, "Đặng");
	free(out);
	/* "Nguyễn Thị Ánh" fully decomposed: e + U+0302 + U+0303, i + U+0323, A + U+0301 */
	out = nfc("Nguye\xcc\x82\xcc\x83n Thi\xcc\xa3 A\xcc\x81nh");
	assert_string_equal(out, "Nguyễn Thị Ánh");
	free(out);
}

static void test_nfc_keeps_nfc_and_ascii(void **state)
{
	const char *already = "Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu, Đắk Lắk; ơ ư Ơ Ư";
	char *out;

	(void)state;
	out = nfc(already);
	assert_string_equal(out, already);
	free(out);
	out = nfc("plain ASCII 123 <x/>\n\ttab");
	assert_string_equal(out, "plain ASCII 123 <x/>\n\ttab");
	free(out);
}

static void test_nfc_uses_len_not_nul(void **state)
{
	char *out = NULL;

	(void)state;
	/* only the first 3 bytes are read: "Hai" from "Hai phong" */
	assert_int_equal(vnfmt_nfc("Hai phong", 3, &out), VNFMT_OK);
	assert_string_equal(out, "Hai");
	free(out);
	/* a decomposed mark that sits just past len is not taken */
	assert_int_equal(vnfmt_nfc("Ha\xcc\x89i", 2, &out), VNFMT_OK);
	assert_string_equal(out, "Ha");
	free(out);
}

static void test_nfc_empty(void **state)
{
	char *out = NULL;

	(void)state;
	assert_int_equal(vnfmt_nfc("", 0, &out), VNFMT_OK);
	assert_non_null(out);
	assert_string_equal(out, "");
	free(out);
}

static void test_nfc_invalid_utf8(void **state)
{
	static const char *bad[] = {
		"\xff\xfe",              /* never valid */
		"H\xe1i",                /* Latin-1 "Hái" */
		"\xc3",                  /* truncated two-byte sequence */
		"\xe1\xba",              /* truncated three-byte sequence */
		"\xc0\xaf",              /* overlong '/' */
		"\xed\xa0\x80",          /* UTF-8 encoded surrogate U+D800 */
		"\xf4\x90\x80\x80",      /* above U+10FFFF */
		"ok\x80",                /* lone continuation byte at the end */
	};
	char *out;

	(void)state;
	for (size_t i = 0; i < COUNT(bad); i++) {
		out = (char *)1;
		assert_int_equal(vnfmt_nfc(bad[i], strlen(bad[i]), &out), VNFMT_EINVAL);
		assert_null(out);
	}
}

static void test_nfc_embedded_nul(void **state)
{
	char *out = (char *)1;

	(void)state;
	assert_int_equal(vnfmt_nfc("H\0i", 3, &out), VNFMT_EINVAL);
	assert_null(out);
	out = (char *)1;
	assert_int_equal(vnfmt_nfc("abc\0", 4, &out), VNFMT_EINVAL);
	assert_null(out);
	out = (char *)1;
	assert_int_equal(vnfmt_nfc("\0", 1, &out), VNFMT_EINVAL);
	assert_null(out);
}

/* Sorts strs and checks the order against the indices in want. */
static void assert_sorted(const char *const *strs, size_t n, const size_t *want)
{
	size_t *order = calloc(n ? n : 1, sizeof(*order));

	assert_non_null(order);
	assert_int_equal(vnfmt_sort(strs, n, order), VNFMT_OK);
	for (size_t i = 0; i < n; i++) {
		if (order[i] != want[i]) {
			for (size_t k = 0; k < n; k++)
				print_error("got %zu: %s\n", k, strs[order[k]]);
			fail_msg("position %zu: got \"%s\", want \"%s\"", i, strs[order[i]], strs[want[i]]);
		}
	}
	free(order);
}

static void test_sort_vietnamese(void **state)
{
	static const char *const names[] = {
		"Đất Đỏ",          /* 0 */
		"Châu Đức",        /* 1 */
		"Xuyên Mộc",       /* 2 */
		"Bà Rịa",          /* 3 */
		"Côn Đảo",         /* 4 */
		"Long Điền",       /* 5 */
		"Ân Thi",          /* 6 */
		"An Giang",        /* 7 */
		"Ông Ích Khiêm",   /* 8 */
	};
	/* An < Ân < Bà < Châu < Côn < Đất < Long < Ông < Xuyên */
	static const size_t want[] = { 7, 6, 3, 1, 4, 0, 5, 8, 2 };

	(void)state;
	assert_sorted(names, COUNT(names), want);
}

static void test_sort_letters_of_the_alphabet(void **state)
{
	/* a ă â b c d đ e ê ... o ô ơ p ... u ư v x y, each in its own place */
	static const char *const names[] = {
		"Ơn", "Ưng", "Ông", "Út", "Oanh", "Đông", "Dung", "Ê Đê", "Em", "Ăn", "Ân", "An",
		"Zeta", "Yên",
	};
	/* An Ăn Ân Dung Đông Em Ê Đê Oanh Ông Ơn Út Ưng Yên Zeta */
	static const size_t want[] = { 11, 9, 10, 6, 5, 8, 7, 4, 2, 0, 3, 1, 13, 12 };

	(void)state;
	assert_sorted(names, COUNT(names), want);
}

static void test_sort_d_stroke(void **state)
{
	/* Đ after every D word and before every E word; byte order would put it after Z */
	static const char *const names[] = { "Zô", "Đà Nẵng", "Eakar", "Dĩ An", "Duy Xuyên", "đảo" };
	static const size_t want[] = { 3, 4, 1, 5, 2, 0 };

	(void)state;
	assert_sorted(names, COUNT(names), want);
}

static void test_sort_tones_are_secondary(void **state)
{
	/* the tone decides only between words whose letters are the same */
	static const char *const names[] = { "Mả", "Ma", "Mạ", "Má", "Mà", "Mã", "Mab" };
	/* vi: no tone, grave, hook, tilde, acute, dot below; a longer base word after all of them */
	static const size_t want[] = { 1, 4, 0, 5, 3, 2, 6 };

	(void)state;
	assert_sorted(names, COUNT(names), want);
}

static void test_sort_stable(void **state)
{
	static const char *const names[] = {
		"Long Hải", "Bà Rịa", "Long Hải", "An Ngãi", "Long Hải", "Bà Rịa",
		"Long Ha\xcc\x89i", /* decomposed: canonically the same name */
	};
	static const size_t want[] = { 3, 1, 5, 0, 2, 4, 6 };

	(void)state;
	assert_sorted(names, COUNT(names), want);
}

static void test_sort_empty_and_one(void **state)
{
	static const char *const one[] = { "Côn Đảo" };
	size_t order[2] = { 77, 77 };

	(void)state;
	assert_int_equal(vnfmt_sort(NULL, 0, order), VNFMT_OK);
	assert_int_equal(order[0], 77); /* n = 0 writes nothing */
	assert_int_equal(vnfmt_sort(one, 1, order), VNFMT_OK);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 77);
}

static void test_sort_invalid_utf8_does_not_fail(void **state)
{
	static const char *const names[] = { "B\xff", "", "A" };
	static const size_t want[] = { 1, 2, 0 };

	(void)state;
	assert_sorted(names, COUNT(names), want);
}

static void assert_decimal(const char *in, int max_frac, int want_rc, const char *want)
{
	char out[64];

	assert_int_equal(vnfmt_decimal(in, max_frac, out, sizeof(out)), want_rc);
	assert_string_equal(out, want);
}

static void test_decimal_vietnamese_separators(void **state)
{
	(void)state;
	assert_decimal("4215", 6, VNFMT_OK, "4.215");
	assert_decimal("10240", 2, VNFMT_OK, "10.240");
	assert_decimal("1234567.5", 6, VNFMT_OK, "1.234.567,5");
	assert_decimal("82.5", 6, VNFMT_OK, "82,5");
	assert_decimal("82.50", 6, VNFMT_OK, "82,5");
	assert_decimal("-3.25", 6, VNFMT_OK, "-3,25");
	assert_decimal("0", 6, VNFMT_OK, "0");
	assert_decimal(" 100\n", 6, VNFMT_OK, "100");
}

static void test_decimal_rounds_half_even(void **state)
{
	(void)state;
	assert_decimal("98.266666666", 2, VNFMT_OK, "98,27");
	/* carried into the integer part, where a hand-written split would print "12," */
	assert_decimal("12.996", 2, VNFMT_OK, "13");
	assert_decimal("999.999", 2, VNFMT_OK, "1.000");
	assert_decimal("0.125", 2, VNFMT_OK, "0,12");
	assert_decimal("0.135", 2, VNFMT_OK, "0,14");
	/* every digit of the string kept: no detour through a double */
	assert_decimal("9007199254740993", 0, VNFMT_OK, "9.007.199.254.740.993");
}

static void test_decimal_refuses_what_is_not_a_number(void **state)
{
	char small[4];

	(void)state;
	assert_decimal("abc", 2, VNFMT_EINVAL, "abc");
	assert_decimal("", 2, VNFMT_EINVAL, "");
	assert_decimal("1,5", 2, VNFMT_EINVAL, "1,5");
	assert_decimal("12345678901234567890123456789012345678901234567890123456789012345", 2,
	    VNFMT_EINVAL, "");
	/* too small for "1.234.567": refused, and the number itself does not fit either */
	assert_int_equal(vnfmt_decimal("1234567", 2, small, sizeof(small)), VNFMT_EINVAL);
	assert_string_equal(small, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nfc_composes_vietnamese),
		cmocka_unit_test(test_nfc_keeps_nfc_and_ascii),
		cmocka_unit_test(test_nfc_uses_len_not_nul),
		cmocka_unit_test(test_nfc_empty),
		cmocka_unit_test(test_nfc_invalid_utf8),
		cmocka_unit_test(test_nfc_embedded_nul),
		cmocka_unit_test(test_sort_vietnamese),
		cmocka_unit_test(test_sort_letters_of_the_alphabet),
		cmocka_unit_test(test_sort_d_stroke),
		cmocka_unit_test(test_sort_tones_are_secondary),
		cmocka_unit_test(test_sort_stable),
		cmocka_unit_test(test_sort_empty_and_one),
		cmocka_unit_test(test_sort_invalid_utf8_does_not_fail),
		cmocka_unit_test(test_decimal_vietnamese_separators),
		cmocka_unit_test(test_decimal_rounds_half_even),
		cmocka_unit_test(test_decimal_refuses_what_is_not_a_number),
	};
	return cmocka_run_group_tests_name("vnfmt", tests, NULL, NULL);
}
