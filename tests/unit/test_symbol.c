/* test_symbol.c: unit tests of symbol.c (state and Party symbols, drafts, register series). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "symbol.h"

static const char *sym(int64_t number, int party, const char *type, const char *body,
    const char *unit)
{
	static char out[96];
	const struct symbol_of s = { .party = party, .type = type, .body = body, .unit = unit };

	symbol_write(out, sizeof(out), number, &s);
	return out;
}

static void test_state(void **state)
{
	(void)state;
	assert_string_equal(sym(1, 0, "TB", "UBND", NULL), "01/TB-UBND");
	assert_string_equal(sym(12, 0, "TB", "UBND", NULL), "12/TB-UBND");
	assert_string_equal(sym(3552, 0, NULL, "UBND", "SNV"), "3552/UBND-SNV");
	assert_string_equal(sym(125, 0, "", "UBND", NULL), "125/UBND-VP");
	/* a draft: the number left blank, the rest as it will be */
	assert_string_equal(sym(0, 0, "TB", "UBND", NULL), "      /TB-UBND");
	assert_string_equal(sym(0, 0, NULL, "UBND", ""), "      /UBND-VP");
}

static void test_party(void **state)
{
	(void)state;
	assert_string_equal(sym(2, 1, "KH", "BCĐ", NULL), "02-KH/BCĐ");
	assert_string_equal(sym(123, 1, "CV", "TU", "VP"), "123-CV/TU");  /* no drafting unit */
	assert_string_equal(sym(0, 1, "KH", "BCĐ", NULL), "      -KH/BCĐ");
}

static void test_series(void **state)
{
	char out[64];

	(void)state;
	symbol_write_series(out, sizeof(out), 2026, NULL, "TB");
	assert_string_equal(out, "2026");
	assert_int_equal(symbol_series_term(out), 0);
	symbol_write_series(out, sizeof(out), 2026, "2025-2030", "KH");
	assert_string_equal(out, "2025-2030/KH");
	assert_int_equal(symbol_series_term(out), strlen("2025-2030"));
	assert_int_equal(symbol_series_term(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_party),
		cmocka_unit_test(test_series),
	};
	return cmocka_run_group_tests_name("symbol", tests, NULL, NULL);
}
