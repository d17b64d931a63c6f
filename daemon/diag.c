/*
 * diag.c: the list of problems a check finds. Every checker (configuration,
 * and later workflows, schemas, templates) appends here so that `vanthud -n`
 * can print every problem at once, each as "file:line: message"; and the
 * Vietnamese words for the system errors those problems quote.
 */
#include "diag.h"

#include <errno.h>
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

const char *diag_strerror(int err)
{
	switch (err) {
	case ENOENT: return "không có tệp hay thư mục đó";
	case EACCES: case EPERM: return "không có quyền";
	case ENOSPC: return "đĩa đã đầy";
	case EDQUOT: return "đã hết hạn mức dung lượng";
	case EROFS: return "ổ đĩa chỉ cho đọc";
	case EISDIR: return "đó là một thư mục";
	case ENOTDIR: return "một phần của đường dẫn không phải là thư mục";
	case EEXIST: return "đã có tệp trùng tên";
	case ENAMETOOLONG: return "tên quá dài";
	case ELOOP: return "đường dẫn có liên kết tượng trưng vòng quanh, hoặc là liên kết tượng trưng";
	case EIO: return "lỗi đọc ghi của ổ đĩa";
	case ENOMEM: return "hết bộ nhớ";
	default: return strerror(err);
	}
}
