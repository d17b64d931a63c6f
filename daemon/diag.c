/*
 * diag.c: the list of problems a check finds. Every checker (configuration,
 * and later workflows, schemas, templates) appends here so that `vanthud -n`
 * can print every problem at once, each as "file:line: message".
 */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diag_init(struct diag_list *list)
{
	memset(list, 0, sizeof(*list));
}

static int add_va(struct diag_list *list, const char *file, int line, int column,
    const char *code, const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

static int add_va(struct diag_list *list, const char *file, int line, int column,
    const char *code, const char *fmt, va_list ap)
{
	char *message = NULL;
	char *name = NULL;

	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 8;
		struct diag *items = realloc(list->items, cap * sizeof(*items));
		if (items == NULL)
			return -1;
		list->items = items;
		list->cap = cap;
	}
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;
	name = strdup(file ? file : "(embedded default)");
	if (message == NULL || name == NULL)
		goto fail;
	list->items[list->count].file = name;
	list->items[list->count].line = line;
	list->items[list->count].column = column;
	list->items[list->count].code = code ? code : "";
	list->items[list->count].message = message;
	list->count++;
	return 0;
fail:
	free(message);
	free(name);
	return -1;
}

int diag_add(struct diag_list *list, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = add_va(list, file, line, 0, "", fmt, ap);
	va_end(ap);
	return rc;
}

int diag_add_at(struct diag_list *list, const char *file, int line, int column, const char *code,
    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = add_va(list, file, line, column, code, fmt, ap);
	va_end(ap);
	return rc;
}

void diag_print(const struct diag_list *list, FILE *out)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct diag *d = &list->items[i];
		if (d->line > 0)
			fprintf(out, "%s:%d: %s\n", d->file, d->line, d->message);
		else
			fprintf(out, "%s: %s\n", d->file, d->message);
	}
}

void diag_free(struct diag_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].file);
		free(list->items[i].message);
	}
	free(list->items);
	diag_init(list);
}
