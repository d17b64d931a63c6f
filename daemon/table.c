/*
 * table.c: what vanthuctl prints, fitted to a terminal. A clerk's terminal
 * is 80 columns: a table of units or documents, a register entry, a long
 * recipient list must not run past it. Fields wrap at word boundaries under
 * their first line; a table narrows its widest columns and wraps their cells
 * over several lines, every column staying aligned whatever the length of a
 * login or a code. Widths count code points, which is what a terminal shows
 * for Vietnamese in NFC (every letter precomposed).
 */
#include "table.h"

#include <stdlib.h>
#include <string.h>

#define GAP 2          /* spaces between two columns */
#define MIN_COLUMN 6   /* a column is not narrowed below this (or its natural width) */
#define MAX_WORD 24    /* a word up to this long (a unit's code, a login) is never cut */

struct table {
	size_t ncols, nrows, cap;
	char **heads;      /* owned: ncols strings */
	char ***rows;      /* owned: nrows arrays of ncols strings */
};

size_t table_text_width(const char *s)
{
	size_t w = 0;

	for (; s && *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

void table_take_line(const char *s, size_t max, char *out, const char **rest)
{
	const char *p = s, *cut = NULL;
	size_t w = 0;

	if (max == 0)
		max = (size_t)-1;
	while (*p && *p != '\n') {
		if (*p == ' ' && w <= max)
			cut = p;
		if (((unsigned char)*p & 0xC0) != 0x80) {
			if (w == max)
				break;
			w++;
		}
		p++;
	}
	/* the whole rest of the line fits, or it breaks at its last space that does */
	if (*p == '\0' || *p == '\n' || (*p == ' ' && w <= max))
		cut = p;
	else if (cut == NULL || cut == s)
		cut = p;  /* one word longer than the line: cut inside it */
	memcpy(out, s, (size_t)(cut - s));
	out[cut - s] = '\0';
	while (*cut == ' ')
		cut++;
	if (*cut == '\n')
		cut++;
	*rest = cut;
}

static void spaces(FILE *f, size_t n)
{
	while (n-- > 0)
		fputc(' ', f);
}

void table_print_field(FILE *f, const char *label, const char *value, size_t label_width,
    size_t width)
{
	size_t lw = table_text_width(label) + 1, avail;
	const char *rest = value && *value ? value : "—";
	char *line = malloc(strlen(rest) + 1);

	fprintf(f, "%s:", label);
	if (lw < label_width)
		spaces(f, label_width - lw);
	else
		fputc(' ', f);
	if (lw < label_width)
		lw = label_width;
	else
		lw++;
	avail = width == 0 || width <= lw + 10 ? 0 : width - lw;
	if (line == NULL) {
		fprintf(f, "%s\n", rest);
		return;
	}
	for (int first = 1; first || *rest; first = 0) {
		table_take_line(rest, avail, line, &rest);
		if (!first)
			spaces(f, lw);
		fprintf(f, "%s\n", line);
	}
	free(line);
}

static char *dup_cell(const char *s)
{
	return strdup(s ? s : "");
}

struct table *table_new(size_t ncols, const char *const *heads)
{
	struct table *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->heads = calloc(ncols, sizeof(char *))) == NULL) {
		free(t);
		return NULL;
	}
	t->ncols = ncols;
	for (size_t c = 0; c < ncols; c++) {
		if ((t->heads[c] = dup_cell(heads[c])) == NULL) {
			table_free(t);
			return NULL;
		}
	}
	return t;
}

int table_add(struct table *t, const char *const *cells)
{
	char **row;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char ***rows = realloc(t->rows, cap * sizeof(*rows));
		if (rows == NULL)
			return -1;
		t->rows = rows;
		t->cap = cap;
	}
	if ((row = calloc(t->ncols, sizeof(char *))) == NULL)
		return -1;
	for (size_t c = 0; c < t->ncols; c++) {
		if ((row[c] = dup_cell(cells[c])) == NULL) {
			for (size_t k = 0; k < c; k++)
				free(row[k]);
			free(row);
			return -1;
		}
	}
	t->rows[t->nrows++] = row;
	return 0;
}

/* The longest word of s, in columns. */
static size_t longest_word(const char *s)
{
	size_t best = 0, w = 0;

	for (; *s; s++) {
		if (*s == ' ' || *s == '\n') {
			w = 0;
			continue;
		}
		if (((unsigned char)*s & 0xC0) != 0x80 && ++w > best)
			best = w;
	}
	return best;
}

/* One row: each cell wrapped to its column, line by line, the last column unpadded. */
static void print_row(FILE *f, char *const *cells, size_t ncols, const size_t *w)
{
	const char **rest = calloc(ncols, sizeof(char *));
	size_t longest = 0;
	char *line;

	for (size_t c = 0; c < ncols; c++)
		if (strlen(cells[c]) > longest)
			longest = strlen(cells[c]);
	line = malloc(longest + 1);
	if (rest == NULL || line == NULL) {
		free(rest);
		free(line);
		return;
	}
	for (size_t c = 0; c < ncols; c++)
		rest[c] = cells[c];
	for (int first = 1;; first = 0) {
		int more = 0;
		for (size_t c = 0; c < ncols; c++)
			more |= *rest[c] != '\0';
		if (!more && !first)
			break;
		size_t pending = 0;  /* columns owed before the next non-empty cell: no trailing blanks */
		for (size_t c = 0; c < ncols; c++) {
			table_take_line(rest[c], w[c], line, &rest[c]);
			if (*line) {
				spaces(f, pending);
				fputs(line, f);
				pending = 0;
			}
			size_t lw = table_text_width(line);
			pending += (lw < w[c] ? w[c] - lw : 0) + GAP;
		}
		fputc('\n', f);
	}
	free(rest);
	free(line);
}

void table_print(const struct table *t, FILE *f, size_t width)
{
	size_t *w = calloc(t->ncols, sizeof(size_t)), *min = calloc(t->ncols, sizeof(size_t));
	size_t total = 0;

	if (w == NULL || min == NULL) {
		free(w);
		free(min);
		return;
	}
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = table_text_width(t->heads[c]);
		for (size_t r = 0; r < t->nrows; r++)
			if (table_text_width(t->rows[r][c]) > w[c])
				w[c] = table_text_width(t->rows[r][c]);
		/*
		 * never narrower than the header's longest word, nor than MIN_COLUMN,
		 * nor than its cells' longest word up to MAX_WORD: a code or a login
		 * stays whole, a long text wraps
		 */
		min[c] = longest_word(t->heads[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t lw = longest_word(t->rows[r][c]);
			if (lw > min[c])
				min[c] = lw > MAX_WORD ? MAX_WORD : lw;
		}
		if (min[c] < MIN_COLUMN)
			min[c] = MIN_COLUMN;
		if (min[c] > w[c])
			min[c] = w[c];
		total += w[c] + (c ? GAP : 0);
	}
	/* too wide: take a column from the widest that can give one, until it fits */
	while (width > 0 && total > width) {
		size_t pick = t->ncols;
		for (size_t c = 0; c < t->ncols; c++)
			if (w[c] > min[c] && (pick == t->ncols || w[c] > w[pick]))
				pick = c;
		if (pick == t->ncols)
			break;
		w[pick]--;
		total--;
	}
	print_row(f, t->heads, t->ncols, w);
	for (size_t r = 0; r < t->nrows; r++)
		print_row(f, t->rows[r], t->ncols, w);
	free(w);
	free(min);
}

void table_free(struct table *t)
{
	if (t == NULL)
		return;
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++)
			free(t->rows[r][c]);
		free(t->rows[r]);
	}
	for (size_t c = 0; c < t->ncols && t->heads; c++)
		free(t->heads[c]);
	free(t->heads);
	free(t->rows);
	free(t);
}
