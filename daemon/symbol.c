/*
 * symbol.c: how a document's number is written, and the register series it
 * runs in. A state body writes "12/TB-UBND" (a kind without a type, a công
 * văn, "125/UBND-VP" with its drafting unit) and numbers per year; a Party
 * committee writes "02-KH/BCĐ" and numbers per type within its term. A
 * number below 10 takes a leading zero; a draft's is left blank. The store
 * numbers with these, docdata writes a draft's, vanthuctl's register asks
 * for a series by them: one rule, one place.
 */
#include "symbol.h"

#include <stdio.h>
#include <string.h>

/* what a draft shows where the number will be */
#define BLANK "      "

void symbol_write(char *out, size_t len, int64_t number, const struct symbol_of *s)
{
	char num[24];

	if (number > 0)
		snprintf(num, sizeof(num), "%s%lld", number < 10 ? "0" : "", (long long)number);
	else
		snprintf(num, sizeof(num), BLANK);
	if (s->party)
		snprintf(out, len, "%s-%s/%s", num, s->type ? s->type : "", s->body);
	else if (s->type && *s->type)
		snprintf(out, len, "%s/%s-%s", num, s->type, s->body);
	else
		snprintf(out, len, "%s/%s-%s", num, s->body, s->unit && *s->unit ? s->unit : "VP");
}

void symbol_write_series(char *out, size_t len, int year, const char *term, const char *type)
{
	if (term)
		snprintf(out, len, "%s/%s", term, type ? type : "");
	else
		snprintf(out, len, "%04d", year);
}

size_t symbol_series_term(const char *series)
{
	const char *slash = series ? strchr(series, '/') : NULL;

	return slash ? (size_t)(slash - series) : 0;
}
