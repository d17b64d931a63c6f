/* diag.h: a list of problems found in a file, each "file:line: message" (see diag.c). */
#ifndef VANTHU_DIAG_H
#define VANTHU_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct diag {
	char *file;    /* owned */
	int line;      /* 0 when the problem is the file as a whole */
	char *message; /* owned */
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
void diag_print(const struct diag_list *list, FILE *out);
void diag_free(struct diag_list *list);

#endif
