/* table.h: text for a terminal of a given width: wrapped fields and aligned tables (see table.c). */
#ifndef VANTHU_TABLE_H
#define VANTHU_TABLE_H

#include <stddef.h>
#include <stdio.h>

/* The columns text takes on a terminal: one per code point (UTF-8, NFC). */
size_t table_text_width(const char *s);

/*
 * Writes into out at most max columns of s, cut at a word boundary when it
 * can be (a word longer than max is cut inside); *rest points past what was
 * taken and the spaces after it. out holds at least strlen(s) + 1 bytes.
 */
void table_take_line(const char *s, size_t max, char *out, const char **rest);

/*
 * "Label:" padded to label_width columns, then value wrapped at word
 * boundaries to fit width columns, the following lines indented under the
 * first. width 0: no limit (one line).
 */
void table_print_field(FILE *f, const char *label, const char *value, size_t label_width,
    size_t width);

/*
 * A table: a header and rows of ncols cells, printed with each column as
 * wide as it needs, or, when the whole is wider than width, with the widest
 * columns narrowed and their cells wrapped over several lines at word
 * boundaries (the other cells of the row blank on those lines), so that no
 * line is wider than width. width 0: each column as wide as its widest cell.
 */
struct table;
struct table *table_new(size_t ncols, const char *const *heads);
/* Copies the cells (NULL is ""). 0, or -1 out of memory. */
int table_add(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *f, size_t width);
void table_free(struct table *t);

#endif
