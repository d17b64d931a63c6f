/* symbol.h: a document's number and symbol, and the register series it runs in (see symbol.c). */
#ifndef VANTHU_SYMBOL_H
#define VANTHU_SYMBOL_H

#include <stddef.h>
#include <stdint.h>

/* Whose symbol, and in which style. */
struct symbol_of {
	int party;          /* a Party committee's style: 02-KH/BCĐ */
	const char *type;   /* TB, KH, CV; NULL or "" for a state công văn */
	const char *body;   /* the issuing body's abbreviation: UBND, TU */
	const char *unit;   /* a state công văn's drafting unit; NULL: VP */
};

/* The symbol of number (0: a draft, the number left blank) into out. */
void symbol_write(char *out, size_t len, int64_t number, const struct symbol_of *s);
/* The register series: a year's ("2026") when term is NULL, else a type's within a term
 * ("2025-2030/KH"). */
void symbol_write_series(char *out, size_t len, int year, const char *term, const char *type);
/* The length of the term that starts series ("2025-2030/KH": 9); 0 for a year's series. */
size_t symbol_series_term(const char *series);

#endif
