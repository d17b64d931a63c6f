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

int diag_add(struct diag_list *list, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
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
	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;
	va_end(ap);
	name = strdup(file ? file : "(embedded default)");
	if (message == NULL || name == NULL)
		goto fail;
	list->items[list->count].file = name;
	list->items[list->count].line = line;
	list->items[list->count].message = message;
	list->count++;
	return 0;
fail:
	free(message);
	free(name);
	return -1;
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
