/* diag.h: a list of problems found in a file, each "file:line: message" (see diag.c). */
#ifndef VANTHU_DIAG_H
#define VANTHU_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct diag {
	char *file;       /* owned */
	int line;         /* 0 when the problem is the file as a whole */
	int column;       /* 0 when not known */
	const char *code; /* static, stable code such as "R_SCHEMA"; "" for configuration */
	char *message;    /* owned */
};

struct diag_list {
	struct diag *items; /* owned array of count entries */
	size_t count;
	size_t cap;
};

void diag_init(struct diag_list *list);
/* Adds one problem. Returns 0, or -1 when out of memory (the problem is then lost). */
int diag_add(struct diag_list *list, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same, with a column and a stable code (a string literal). */
int diag_add_at(struct diag_list *list, const char *file, int line, int column, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void diag_print(const struct diag_list *list, FILE *out);
/* A system error as a problem for a person says it: the usual ones in Vietnamese
 * ("không có tệp hay thư mục đó"), others as the C library does. */
const char *diag_strerror(int err);
void diag_free(struct diag_list *list);

#endif
