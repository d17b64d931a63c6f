/*
 * pdf.c: PDFs for electronic originals. Owns reading (libqpdf's C API, made
 * silent: nothing it says reaches stdout or stderr), named destinations and
 * page boxes, finding the signatures a file holds with their byte checks, and
 * signing in incremental updates written by hand (a classic xref section
 * appended after the last %%EOF, earlier bytes kept). Drawing is pdfdraw.c's.
 */
#include "pdf.h"

#include <ctype.h>
#include <math.h>
#include <openssl/evp.h>
#include <qpdf/qpdf-c.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PDF_MAX_LEN ((size_t)512 << 20)
#define MAX_DEPTH 32
#define MAX_NODES 20000
#define MAX_SIGS 256
#define MAX_KEYS 4096
#define MAX_STAMPS 256
#define MAX_RESERVE ((size_t)1 << 20)
#define DEFAULT_RESERVE 16384
/* |v| without libm (not linked) */
#define ABS(v) ((v) < 0 ? -(v) : (v))
#define BYTERANGE_WIDTH 48  /* "[0 a b c]" padded with spaces */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- reading with qpdf ---- */

struct page_ref {
	int id, gen;  /* the page object's number and generation */
};

struct rd {
	qpdf_data q;            /* owned */
	struct page_ref *pages; /* owned: the page list, built by page_index on first use */
	int npages;             /* its length, -1 before it is built */
};

static int discard(char const *data, size_t len, void *udata)
{
	(void)data;
	(void)len;
	(void)udata;
	return 0;
}

/* Clears qpdf's pending error; 1 if there was one (its text in err when given). */
static int rd_failed(struct rd *r, char *err, size_t errlen)
{
	if (!qpdf_has_error(r->q))
		return 0;
	qpdf_error e = qpdf_get_error(r->q);
	if (err != NULL)
		set_err(err, errlen, "PDF: %s", e != NULL ? qpdf_get_error_full_text(r->q, e) : "?");
	return 1;
}

/* Drains the error slot first: qpdf_cleanup would print an unretrieved error to stderr. */
static void rd_close(struct rd *r)
{
	free(r->pages);
	r->pages = NULL;
	r->npages = -1;
	if (r->q == NULL)
		return;
	for (int i = 0; i < 8 && qpdf_has_error(r->q); i++)
		(void)qpdf_get_error(r->q);
	qpdf_cleanup(&r->q);
}

static int rd_open(struct rd *r, const void *pdf, size_t len, int recover, char *err,
    size_t errlen)
{
	qpdflogger_handle log;

	r->q = NULL;
	r->pages = NULL;
	r->npages = -1;
	if (pdf == NULL || len < 16 || len > PDF_MAX_LEN) {
		set_err(err, errlen, "not a PDF of a size we read (%zu bytes)", len);
		return PDF_ERR;
	}
	if (memmem(pdf, len < 1024 ? len : 1024, "%PDF-", 5) == NULL) {
		set_err(err, errlen, "not a PDF (no %%PDF- header)");
		return PDF_ERR;
	}
	r->q = qpdf_init();
	if (r->q == NULL) {
		set_err(err, errlen, "no memory for qpdf");
		return PDF_ERR;
	}
	log = qpdflogger_create();
	qpdflogger_set_info(log, qpdf_log_dest_custom, discard, NULL);
	qpdflogger_set_warn(log, qpdf_log_dest_custom, discard, NULL);
	qpdflogger_set_error(log, qpdf_log_dest_custom, discard, NULL);
	qpdflogger_set_save(log, qpdf_log_dest_custom, discard, NULL, 0);
	qpdf_set_logger(r->q, log);
	qpdflogger_cleanup(&log);
	qpdf_silence_errors(r->q);
	qpdf_set_suppress_warnings(r->q, QPDF_TRUE);
	qpdf_set_attempt_recovery(r->q, recover ? QPDF_TRUE : QPDF_FALSE);
	int st = qpdf_read_memory(r->q, "input", pdf, len, "");
	if (rd_failed(r, err, errlen) || (st & QPDF_ERRORS) != 0) {
		if ((st & QPDF_ERRORS) != 0 && err != NULL && err[0] == '\0')
			set_err(err, errlen, "PDF: qpdf cannot read it");
		rd_close(r);
		return PDF_ERR;
	}
	return PDF_OK;
}



static qpdf_oh key(struct rd *r, qpdf_oh oh, const char *k)
{
	qpdf_oh v;

	if (oh == 0)
		return 0;
	if (qpdf_oh_is_stream(r->q, oh))
		oh = qpdf_oh_get_dict(r->q, oh);
	if (!qpdf_oh_is_dictionary(r->q, oh))
		return 0;
	v = qpdf_oh_get_key(r->q, oh, k);
	if (rd_failed(r, NULL, 0) || qpdf_oh_is_null(r->q, v))
		return 0;
	return v;
}

static int is_dict(struct rd *r, qpdf_oh oh)
{
	return oh != 0 && qpdf_oh_is_dictionary(r->q, oh);
}

static int is_array(struct rd *r, qpdf_oh oh)
{
	return oh != 0 && qpdf_oh_is_array(r->q, oh);
}

static int array_n(struct rd *r, qpdf_oh oh)
{
	int n = is_array(r, oh) ? qpdf_oh_get_array_n_items(r->q, oh) : 0;
	return n < 0 ? 0 : n;
}

static int number(struct rd *r, qpdf_oh oh, double *v)
{
	if (oh == 0 || !qpdf_oh_is_number(r->q, oh))
		return -1;
	*v = qpdf_oh_get_numeric_value(r->q, oh);
	return isfinite(*v) ? 0 : -1;
}

static int name_is(struct rd *r, qpdf_oh oh, const char *name)
{
	return oh != 0 && qpdf_oh_is_name_and_equals(r->q, oh, name);
}

/* An inheritable page attribute: the page's, else its ancestors'. */
static qpdf_oh inherited(struct rd *r, qpdf_oh page, const char *k)
{
	qpdf_oh node = page;

	for (int depth = 0; depth < MAX_DEPTH && is_dict(r, node); depth++) {
		qpdf_oh v = key(r, node, k);
		if (v != 0)
			return v;
		node = key(r, node, "/Parent");
	}
	return 0;
}

static int read_box(struct rd *r, qpdf_oh page, double box[4])
{
	qpdf_oh a = inherited(r, page, "/MediaBox");

	if (array_n(r, a) != 4)
		return -1;
	for (int i = 0; i < 4; i++)
		if (number(r, qpdf_oh_get_array_item(r->q, a, i), &box[i]) != 0)
			return -1;
	return 0;
}

/*
 * The 0-based index of a page object, -1 if it is not a page of the file. Looked up in the
 * file's page list, made once per file (object number and generation of each page):
 * qpdf_find_page_by_oh would answer the same, but each call first walks every object of the
 * file to fix dangling references (with two signatures, a third of `pdf verify`'s time on a
 * one-page notice), and asking qpdf_get_page_n for each page at each call would make a handle
 * per page per signature.
 */
static int page_index(struct rd *r, qpdf_oh page)
{
	int id, gen;

	if (page == 0 || !qpdf_oh_is_indirect(r->q, page))
		return -1;
	if (r->npages < 0) {
		int n = qpdf_get_num_pages(r->q);
		if (rd_failed(r, NULL, 0) || n < 0)
			return -1;
		if (n > 0 && (r->pages = calloc((size_t)n, sizeof(*r->pages))) == NULL)
			return -1;
		for (int i = 0; i < n; i++) {
			qpdf_oh p = qpdf_get_page_n(r->q, (size_t)i);
			r->pages[i].id = qpdf_oh_get_object_id(r->q, p);
			r->pages[i].gen = qpdf_oh_get_generation(r->q, p);
			qpdf_oh_release(r->q, p);
		}
		r->npages = n;
	}
	id = qpdf_oh_get_object_id(r->q, page);
	gen = qpdf_oh_get_generation(r->q, page);
	for (int i = 0; i < r->npages; i++)
		if (r->pages[i].id == id && r->pages[i].gen == gen)
			return i;
	return -1;
}

int pdf_page_box(const void *pdf, size_t len, int page, double box[4], int *npages, char *err,
    size_t errlen)
{
	struct rd r;
	int rc = PDF_ERR, n;

	if (rd_open(&r, pdf, len, 1, err, errlen) != PDF_OK)
		return PDF_ERR;
	n = qpdf_get_num_pages(r.q);
	if (n < 0 || rd_failed(&r, err, errlen)) {
		set_err(err, errlen, "PDF: no page tree");
		goto out;
	}
	if (npages != NULL)
		*npages = n;
	if (page < 0 || page >= n) {
		set_err(err, errlen, "no page %d (the file has %d)", page + 1, n);
		goto out;
	}
	if (read_box(&r, qpdf_get_page_n(r.q, (size_t)page), box) != 0) {
		set_err(err, errlen, "page %d has no readable MediaBox", page + 1);
		goto out;
	}
	rc = PDF_OK;
out:
	rd_close(&r);
	return rc;
}

/* ---- named destinations ---- */

/* A /Names tree lookup: the value whose key is `name`, or 0. */
static qpdf_oh tree_find(struct rd *r, qpdf_oh node, const char *name, int depth, int *budget)
{
	qpdf_oh names, kids;
	size_t nlen = strlen(name);
	int n;

	if (depth > MAX_DEPTH || !is_dict(r, node) || --*budget < 0)
		return 0;
	names = key(r, node, "/Names");
	n = array_n(r, names);
	for (int i = 0; i + 1 < n && *budget > 0; i += 2, (*budget)--) {
		qpdf_oh k = qpdf_oh_get_array_item(r->q, names, i);
		size_t kl = 0;
		const char *ks;
		if (!qpdf_oh_is_string(r->q, k))
			continue;
		ks = qpdf_oh_get_binary_string_value(r->q, k, &kl);
		if (ks != NULL && kl == nlen && memcmp(ks, name, nlen) == 0)
			return qpdf_oh_get_array_item(r->q, names, i + 1);
	}
	kids = key(r, node, "/Kids");
	n = array_n(r, kids);
	for (int i = 0; i < n && *budget > 0; i++) {
		qpdf_oh v = tree_find(r, qpdf_oh_get_array_item(r->q, kids, i), name, depth + 1, budget);
		if (v != 0)
			return v;
	}
	return 0;
}

int pdf_named_dest(const void *pdf, size_t len, const char *name, struct pdf_point *out,
    char *err, size_t errlen)
{
	struct rd r;
	qpdf_oh root, dest = 0, first;
	int rc = PDF_ERR, budget = MAX_NODES, n;
	char k[512];
	double box[4] = {0, 0, 0, 0};

	if (name == NULL || *name == '\0' || strlen(name) > 256) {
		set_err(err, errlen, "no destination name");
		return PDF_ERR;
	}
	if (rd_open(&r, pdf, len, 1, err, errlen) != PDF_OK)
		return PDF_ERR;
	root = qpdf_get_root(r.q);
	if (rd_failed(&r, err, errlen) || !is_dict(&r, root)) {
		set_err(err, errlen, "PDF: no catalog");
		goto out;
	}
	snprintf(k, sizeof(k), "/%s", name);
	dest = key(&r, key(&r, root, "/Dests"), k);
	if (dest == 0)
		dest = tree_find(&r, key(&r, key(&r, root, "/Names"), "/Dests"), name, 0, &budget);
	if (dest != 0 && is_dict(&r, dest))
		dest = key(&r, dest, "/D");
	n = array_n(&r, dest);
	if (n < 2) {
		set_err(err, errlen, "no destination named %s", name);
		rc = PDF_NOTFOUND;
		goto out;
	}
	first = qpdf_oh_get_array_item(r.q, dest, 0);
	if (qpdf_oh_is_integer(r.q, first))
		out->page = (int)qpdf_oh_get_int_value(r.q, first);
	else
		out->page = page_index(&r, first);
	int npages = qpdf_get_num_pages(r.q);
	if (rd_failed(&r, NULL, 0) || out->page < 0 || out->page >= npages) {
		set_err(err, errlen, "destination %s is not on a page of the file", name);
		goto out;
	}
	(void)read_box(&r, qpdf_get_page_n(r.q, (size_t)out->page), box);
	out->x = box[0];
	out->y = box[3];
	if (name_is(&r, qpdf_oh_get_array_item(r.q, dest, 1), "/XYZ")) {
		double v;
		if (n > 2 && number(&r, qpdf_oh_get_array_item(r.q, dest, 2), &v) == 0)
			out->x = v;
		if (n > 3 && number(&r, qpdf_oh_get_array_item(r.q, dest, 3), &v) == 0)
			out->y = v;
	}
	rc = PDF_OK;
out:
	rd_close(&r);
	return rc;
}

/* ---- text helpers ---- */

static int utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	uint32_t cp;

	while (p < end)
		if (pdfdraw_utf8_next(&p, end, &cp) != 0)
			return 0;
	return 1;
}

/* A text string: UTF-16BE with its BOM, in hex. The UTF-8 is valid (checked before). */
static void text_string(struct pdfdraw_buf *b, const char *utf8)
{
	const unsigned char *p = (const unsigned char *)utf8, *end = p + strlen(utf8);
	uint32_t cp;

	pdfdraw_buf_str(b, "<FEFF");
	while (p < end && pdfdraw_utf8_next(&p, end, &cp) == 0) {
		if (cp >= 0x10000) {
			uint32_t v = cp - 0x10000;
			pdfdraw_buf_printf(b, "%04X%04X", (unsigned)(0xD800 + (v >> 10)),
			    (unsigned)(0xDC00 + (v & 0x3FF)));
		} else {
			pdfdraw_buf_printf(b, "%04X", (unsigned)cp);
		}
	}
	pdfdraw_buf_str(b, ">");
}

/* A copy of at most cap-1 bytes of UTF-8, cut at a letter's boundary. */
static void copy_utf8(char *dst, size_t cap, const char *src, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;

	while (n > 0 && n < len && ((unsigned char)src[n] & 0xC0) == 0x80)
		n--;
	memcpy(dst, src, n);
	dst[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (dst[i] == '\0')
			dst[i] = ' ';
}

/* ---- writing objects ---- */

struct xent {
	long num;
	int gen;
	size_t off;
};

struct writer {
	struct pdfdraw_buf b;   /* owned: the whole new file */
	struct xent *x;         /* owned */
	size_t nx, capx;
	struct rd *r;
};

static int obj_begin(struct writer *w, long num, int gen)
{
	if (w->nx == w->capx) {
		size_t cap = w->capx ? w->capx * 2 : 64;
		struct xent *x = realloc(w->x, cap * sizeof(*x));
		if (x == NULL)
			return -1;
		w->x = x;
		w->capx = cap;
	}
	w->x[w->nx].num = num;
	w->x[w->nx].gen = gen;
	w->x[w->nx].off = w->b.len;
	w->nx++;
	pdfdraw_buf_printf(&w->b, "%ld %d obj\n", num, gen);
	return 0;
}

static int obj_dict(struct writer *w, long num, int gen, const struct pdfdraw_buf *dict)
{
	if (obj_begin(w, num, gen) != 0)
		return -1;
	pdfdraw_buf_add(&w->b, dict->data, dict->len);
	pdfdraw_buf_str(&w->b, "\nendobj\n");
	return w->b.failed ? -1 : 0;
}

/* A stream object: `dict` holds the entries but /Length, without the << >>. */
static int obj_stream(struct writer *w, long num, const char *dict, const void *data, size_t n)
{
	if (obj_begin(w, num, 0) != 0)
		return -1;
	pdfdraw_buf_printf(&w->b, "<< /Length %zu %s>>\nstream\n", n, dict);
	pdfdraw_buf_add(&w->b, data, n);
	pdfdraw_buf_str(&w->b, "\nendstream\nendobj\n");
	return w->b.failed ? -1 : 0;
}

/* A qpdf string copied (qpdf's is valid until its next call). */
static char *dup_str(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/*
 * Writes "<<" and every entry of `dict` but those named in skip, each value
 * as qpdf unparses it (indirect ones as references). The caller adds its own
 * entries and ">>".
 */
static int dict_open(struct rd *r, qpdf_oh dict, const char *const *skip,
    struct pdfdraw_buf *b)
{
	char *keys[MAX_KEYS];
	size_t nk = 0;
	int rc = -1;

	pdfdraw_buf_str(b, "<<");
	if (dict == 0 || !qpdf_oh_is_dictionary(r->q, dict))
		return 0;
	qpdf_oh_begin_dict_key_iter(r->q, dict);
	while (qpdf_oh_dict_more_keys(r->q)) {
		const char *k = qpdf_oh_dict_next_key(r->q);
		if (nk == MAX_KEYS)
			goto out;
		if ((keys[nk] = dup_str(k)) == NULL)
			goto out;
		nk++;
	}
	for (size_t i = 0; i < nk; i++) {
		int skipped = 0;
		for (size_t s = 0; skip != NULL && skip[s] != NULL; s++)
			if (strcmp(keys[i], skip[s]) == 0)
				skipped = 1;
		if (skipped)
			continue;
		qpdf_oh v = qpdf_oh_get_key(r->q, dict, keys[i]);
		if (qpdf_oh_is_null(r->q, v))
			continue;
		qpdf_oh nm = qpdf_oh_new_name(r->q, keys[i]);
		pdfdraw_buf_str(b, qpdf_oh_unparse(r->q, nm));
		pdfdraw_buf_str(b, " ");
		pdfdraw_buf_str(b, qpdf_oh_unparse(r->q, v));
		pdfdraw_buf_str(b, "\n");
		qpdf_oh_release(r->q, nm);
		qpdf_oh_release(r->q, v);
	}
	rc = rd_failed(r, NULL, 0) || b->failed ? -1 : 0;
out:
	for (size_t i = 0; i < nk; i++)
		free(keys[i]);
	return rc;
}

/* The items of an array (direct or not) as written between its brackets; "" when not an array. */
static void array_items(struct rd *r, qpdf_oh a, struct pdfdraw_buf *b)
{
	int n = array_n(r, a);

	for (int i = 0; i < n; i++) {
		qpdf_oh v = qpdf_oh_get_array_item(r->q, a, i);
		pdfdraw_buf_str(b, qpdf_oh_unparse(r->q, v));
		pdfdraw_buf_str(b, " ");
		qpdf_oh_release(r->q, v);
	}
}

static void ref(struct pdfdraw_buf *b, long num)
{
	pdfdraw_buf_printf(b, "%ld 0 R", num);
}

/* ---- pdf_prepare ---- */

/* One page the update changes. */
struct touched {
	int page;
	qpdf_oh oh;
	long num;
	int gen;
	int widget;                 /* gets the widget in /Annots */
	struct pdfdraw_buf text;    /* owned: the stamps' text operators */
	long stream, form;          /* object numbers of the stamp stream and its form */
};

/* Where the last "startxref" says the last xref section is; -1 if nowhere. */
static long long last_startxref(const unsigned char *p, size_t len)
{
	size_t from = len > 4096 ? len - 4096 : 0;

	if (len < 9)
		return -1;
	for (size_t i = len - 9; i + 1 > from; i--) {
		if (memcmp(p + i, "startxref", 9) == 0) {
			size_t j = i + 9;
			long long v = 0;
			int digits = 0;
			while (j < len && isspace(p[j]))
				j++;
			while (j < len && isdigit(p[j]) && digits < 15)
				v = v * 10 + (p[j++] - '0'), digits++;
			return digits > 0 ? v : -1;
		}
		if (i == 0)
			break;
	}
	return -1;
}

static int check_spec(const struct pdf_sig_spec *s, char *err, size_t errlen)
{
	if (s->field == NULL || *s->field == '\0' || strlen(s->field) > 200 ||
	    !utf8_valid(s->field) || strchr(s->field, '.') != NULL) {
		set_err(err, errlen, "the signature field needs a name in UTF-8, without '.'");
		return -1;
	}
	const char *texts[3] = {s->name, s->reason, s->location};
	for (int i = 0; i < 3; i++)
		if (texts[i] != NULL && (strlen(texts[i]) > 1000 || !utf8_valid(texts[i]))) {
			set_err(err, errlen, "the signature's name, reason or location is not UTF-8");
			return -1;
		}
	for (int i = 0; i < 4; i++)
		if (!isfinite(s->rect[i]) || ABS(s->rect[i]) > 1e6) {
			set_err(err, errlen, "the signature's rectangle is not a rectangle");
			return -1;
		}
	if (s->nstamps > MAX_STAMPS || (s->nstamps > 0 && s->stamps == NULL)) {
		set_err(err, errlen, "too many stamps (%zu)", s->nstamps);
		return -1;
	}
	for (size_t i = 0; i < s->nstamps; i++) {
		const struct pdf_stamp *t = &s->stamps[i];
		if (t->text == NULL || strlen(t->text) > 4000 || !isfinite(t->x) || !isfinite(t->y) ||
		    ABS(t->x) > 1e6 || ABS(t->y) > 1e6 || !isfinite(t->size) || t->size <= 0 ||
		    t->size > 1000) {
			set_err(err, errlen, "stamp %zu: no text, or a bad place or size", i + 1);
			return -1;
		}
	}
	if (s->nstamps > 0 && s->font == NULL) {
		set_err(err, errlen, "stamps need a font");
		return -1;
	}
	if (s->reserve > MAX_RESERVE) {
		set_err(err, errlen, "%zu bytes reserved for the signature: at most %zu", s->reserve,
		    MAX_RESERVE);
		return -1;
	}
	return 0;
}

/* The widget's appearance: the image fitted into w x h, centred. */
static void appearance(struct pdfdraw_buf *b, const struct pdfdraw_image *img, double w, double h)
{
	double sx = w / img->w, sy = h / img->h, s = sx < sy ? sx : sy;
	double dw = img->w * s, dh = img->h * s;

	pdfdraw_buf_str(b, "q ");
	pdfdraw_buf_num(b, dw);
	pdfdraw_buf_str(b, " 0 0 ");
	pdfdraw_buf_num(b, dh);
	pdfdraw_buf_str(b, " ");
	pdfdraw_buf_num(b, (w - dw) / 2);
	pdfdraw_buf_str(b, " ");
	pdfdraw_buf_num(b, (h - dh) / 2);
	pdfdraw_buf_str(b, " cm /Im0 Do Q\n");
}

static int xent_cmp(const void *a, const void *b)
{
	const struct xent *x = a, *y = b;
	return x->num < y->num ? -1 : x->num > y->num;
}

/* Writes the xref section and trailer; returns -1 on a duplicate object. */
static int write_xref(struct writer *w, long size, const char *root, const char *info,
    const char *id, long long prev)
{
	size_t xoff = w->b.len;

	qsort(w->x, w->nx, sizeof(*w->x), xent_cmp);
	pdfdraw_buf_str(&w->b, "xref\n");
	for (size_t i = 0; i < w->nx;) {
		size_t j = i + 1;
		while (j < w->nx && w->x[j].num == w->x[j - 1].num + 1)
			j++;
		if (j < w->nx && w->x[j].num == w->x[j - 1].num)
			return -1;
		pdfdraw_buf_printf(&w->b, "%ld %zu\n", w->x[i].num, j - i);
		for (size_t k = i; k < j; k++)
			pdfdraw_buf_printf(&w->b, "%010zu %05d n\r\n", w->x[k].off, w->x[k].gen);
		i = j;
	}
	pdfdraw_buf_printf(&w->b, "trailer\n<< /Size %ld /Root %s /Prev %lld", size, root, prev);
	if (info != NULL)
		pdfdraw_buf_printf(&w->b, " /Info %s", info);
	if (id != NULL)
		pdfdraw_buf_printf(&w->b, " /ID %s", id);
	pdfdraw_buf_printf(&w->b, " >>\nstartxref\n%zu\n%%%%EOF\n", xoff);
	return w->b.failed ? -1 : 0;
}

/* D:YYYYMMDDHHmmSS+07'00' for t, in Vietnam time whatever TZ says. */
static void vn_date(time_t t, char *out, size_t len)
{
	time_t vn = t + 7 * 3600;
	struct tm tm;

	if (gmtime_r(&vn, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(out, len, "D:%04d%02d%02d%02d%02d%02d+07'00'", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static struct touched *touch(struct touched *t, size_t *nt, int page)
{
	for (size_t i = 0; i < *nt; i++)
		if (t[i].page == page)
			return &t[i];
	memset(&t[*nt], 0, sizeof(t[*nt]));
	t[*nt].page = page;
	return &t[(*nt)++];
}

/* A name for the stamp form in the page's /XObject that the page does not use yet. */
static void fresh_name(struct rd *r, qpdf_oh xobjects, long num, char *out, size_t len)
{
	for (int i = 0; i < 100; i++) {
		snprintf(out, len, i == 0 ? "/VtStamp%ld" : "/VtStamp%ld_%d", num, i);
		if (key(r, xobjects, out) == 0)
			return;
	}
}

int pdf_prepare(const void *in, size_t inlen, const struct pdf_sig_spec *spec,
    struct pdf_prepared *out, char *err, size_t errlen)
{
	const unsigned char *src = in;
	struct rd r = {.q = NULL, .pages = NULL, .npages = -1};
	struct writer w;
	struct pdfdraw_font *font = NULL;
	struct touched *pages = NULL;
	size_t npages_t = 0, reserve;
	struct pdfdraw_buf tmp = {0}, rgbz = {0}, alphaz = {0};
	char *root_ref = NULL, *info_ref = NULL, *id_text = NULL;
	long long prev;
	long size, next;
	int npages, rc = PDF_ERR, visible;
	qpdf_oh root, trailer, acro;
	long sig, widget, acro_num = 0, ap = 0, im = 0, smask = 0, qstream = 0, font_num = 0;
	int acro_gen = 0;
	size_t contents_at = 0, byterange_at = 0;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (spec == NULL || check_spec(spec, err, errlen) != 0)
		return PDF_ERR;
	reserve = spec->reserve != 0 ? spec->reserve : DEFAULT_RESERVE;
	visible = spec->rect[2] - spec->rect[0] > 0 && spec->rect[3] - spec->rect[1] > 0;
	if (in == NULL || inlen > PDF_MAX_LEN / 2) {
		set_err(err, errlen, "no PDF, or one too large to sign (%zu bytes)", inlen);
		return PDF_ERR;
	}
	prev = last_startxref(src, inlen);
	if (prev < 0 || (size_t)prev >= inlen) {
		set_err(err, errlen, "PDF: no startxref at its end");
		return PDF_ERR;
	}
	{
		size_t p = (size_t)prev;
		while (p < inlen && isspace(src[p]))
			p++;
		if (inlen - p < 4 || memcmp(src + p, "xref", 4) != 0) {
			set_err(err, errlen, "PDF: its last cross-reference section is a stream (or not "
			    "where startxref says); only files with classic xref tables can be signed");
			return PDF_ERR;
		}
	}
	if (rd_open(&r, in, inlen, 0, err, errlen) != PDF_OK)
		return PDF_ERR;
	w.r = &r;
	trailer = qpdf_get_trailer(r.q);
	root = qpdf_get_root(r.q);
	if (rd_failed(&r, err, errlen) || !is_dict(&r, trailer) || !is_dict(&r, root) ||
	    !qpdf_oh_is_indirect(r.q, root)) {
		set_err(err, errlen, "PDF: no catalog");
		goto out;
	}
	if (key(&r, trailer, "/Encrypt") != 0) {
		set_err(err, errlen, "PDF: encrypted files cannot be signed here");
		goto out;
	}
	if (key(&r, trailer, "/XRefStm") != 0) {
		set_err(err, errlen, "PDF: a hybrid file (/XRefStm): only classic xref tables are "
		    "signed here");
		goto out;
	}
	{
		qpdf_oh s = key(&r, trailer, "/Size");
		if (s == 0 || !qpdf_oh_is_integer(r.q, s) || qpdf_oh_get_int_value(r.q, s) < 1 ||
		    qpdf_oh_get_int_value(r.q, s) > 8000000) {
			set_err(err, errlen, "PDF: the trailer has no usable /Size");
			goto out;
		}
		size = (long)qpdf_oh_get_int_value(r.q, s);
	}
	next = size;
	npages = qpdf_get_num_pages(r.q);
	if (npages <= 0 || rd_failed(&r, err, errlen)) {
		set_err(err, errlen, "PDF: no pages");
		goto out;
	}
	if (spec->page < 0 || spec->page >= npages) {
		set_err(err, errlen, "no page %d for the signature (the file has %d)", spec->page + 1,
		    npages);
		goto out;
	}
	for (size_t i = 0; i < spec->nstamps; i++)
		if (spec->stamps[i].page < 0 || spec->stamps[i].page >= npages) {
			set_err(err, errlen, "no page %d for stamp %zu (the file has %d)",
			    spec->stamps[i].page + 1, i + 1, npages);
			goto out;
		}
	root_ref = dup_str(qpdf_oh_unparse(r.q, root));
	{
		qpdf_oh info = key(&r, trailer, "/Info");
		if (info != 0 && qpdf_oh_is_indirect(r.q, info))
			info_ref = dup_str(qpdf_oh_unparse(r.q, info));
		qpdf_oh id = key(&r, trailer, "/ID");
		if (array_n(&r, id) == 2)
			id_text = dup_str(qpdf_oh_unparse(r.q, id));
	}
	if (root_ref == NULL) {
		set_err(err, errlen, "no memory");
		goto out;
	}

	/* the pages the update changes, and the stamps' text */
	pages = calloc(spec->nstamps + 1, sizeof(*pages));
	if (pages == NULL) {
		set_err(err, errlen, "no memory");
		goto out;
	}
	touch(pages, &npages_t, spec->page)->widget = 1;
	if (spec->nstamps > 0 && pdfdraw_font_open(spec->font, &font, err, errlen) != 0)
		goto out;
	for (size_t i = 0; i < spec->nstamps; i++) {
		const struct pdf_stamp *s = &spec->stamps[i];
		struct touched *t = touch(pages, &npages_t, s->page);
		struct pdfdraw_buf codes = {0};
		if (pdfdraw_font_encode(font, s->text, &codes, err, errlen) != 0) {
			pdfdraw_buf_free(&codes);
			goto out;
		}
		pdfdraw_buf_str(&t->text, "BT /F1 ");
		pdfdraw_buf_num(&t->text, s->size);
		/* an oblique stamp in an italic line: the regular glyphs sheared (tan 12° = 0.2126) */
		pdfdraw_buf_str(&t->text, s->oblique ? " Tf 1 0 0.2126 1 " : " Tf 1 0 0 1 ");
		pdfdraw_buf_num(&t->text, s->x);
		pdfdraw_buf_str(&t->text, " ");
		pdfdraw_buf_num(&t->text, s->y);
		pdfdraw_buf_str(&t->text, " Tm <");
		for (size_t k = 0; k < codes.len; k++)
			pdfdraw_buf_printf(&t->text, "%02X", codes.data[k]);
		pdfdraw_buf_str(&t->text, "> Tj ET\n");
		pdfdraw_buf_free(&codes);
	}
	for (size_t i = 0; i < npages_t; i++) {
		struct touched *t = &pages[i];
		t->oh = qpdf_get_page_n(r.q, (size_t)t->page);
		if (rd_failed(&r, err, errlen) || !qpdf_oh_is_indirect(r.q, t->oh)) {
			set_err(err, errlen, "PDF: page %d is not an object", t->page + 1);
			goto out;
		}
		t->num = qpdf_oh_get_object_id(r.q, t->oh);
		t->gen = qpdf_oh_get_generation(r.q, t->oh);
		if (t->text.failed) {
			set_err(err, errlen, "no memory");
			goto out;
		}
	}

	/* the AcroForm, and no field of the same name */
	acro = key(&r, root, "/AcroForm");
	if (acro != 0 && !is_dict(&r, acro))
		acro = 0;
	if (acro != 0 && qpdf_oh_is_indirect(r.q, acro)) {
		acro_num = qpdf_oh_get_object_id(r.q, acro);
		acro_gen = qpdf_oh_get_generation(r.q, acro);
	}
	{
		qpdf_oh fields = key(&r, acro, "/Fields");
		int n = array_n(&r, fields);
		for (int i = 0; i < n && i < MAX_NODES; i++) {
			qpdf_oh t = key(&r, qpdf_oh_get_array_item(r.q, fields, i), "/T");
			size_t tl = 0;
			const char *ts;
			if (t == 0 || !qpdf_oh_is_string(r.q, t))
				continue;
			ts = qpdf_oh_get_binary_utf8_value(r.q, t, &tl);
			if (ts != NULL && tl == strlen(spec->field) && memcmp(ts, spec->field, tl) == 0) {
				set_err(err, errlen, "the PDF already has a field named %s", spec->field);
				goto out;
			}
		}
	}

	/* object numbers */
	sig = next++;
	widget = next++;
	if (acro_num == 0)
		acro_num = next++;
	if (visible) {
		ap = next++;
		if (spec->image != NULL) {
			im = next++;
			if (spec->image->alpha != NULL)
				smask = next++;
		}
	}
	if (spec->nstamps > 0) {
		qstream = next++;
		for (size_t i = 0; i < npages_t; i++)
			if (pages[i].text.len > 0) {
				pages[i].stream = next++;
				pages[i].form = next++;
			}
		font_num = next;
		next += 2 + (long)pdfdraw_font_count(font);
	}

	/* the file so far, and a newline before the update */
	pdfdraw_buf_add(&w.b, in, inlen);
	if (inlen == 0 || (src[inlen - 1] != '\n' && src[inlen - 1] != '\r'))
		pdfdraw_buf_str(&w.b, "\n");

	/* the signature dictionary */
	{
		char m[64];
		vn_date(spec->when, m, sizeof(m));
		if (obj_begin(&w, sig, 0) != 0)
			goto nomem;
		pdfdraw_buf_str(&w.b, "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter "
		    "/ETSI.CAdES.detached /ByteRange ");
		byterange_at = w.b.len;
		pdfdraw_buf_printf(&w.b, "%-*s", BYTERANGE_WIDTH, "[0 0 0 0]");
		pdfdraw_buf_str(&w.b, " /Contents ");
		contents_at = w.b.len;
		pdfdraw_buf_str(&w.b, "<");
		for (size_t i = 0; i < reserve * 2 && !w.b.failed; i += 64) {
			static const char zeros[64] = "0000000000000000000000000000000000000000000000000000"
			                              "000000000000";
			pdfdraw_buf_add(&w.b, zeros, reserve * 2 - i < 64 ? reserve * 2 - i : 64);
		}
		pdfdraw_buf_printf(&w.b, "> /M (%s)", m);
		const char *keys[3] = {"/Name", "/Reason", "/Location"};
		const char *vals[3] = {spec->name, spec->reason, spec->location};
		for (int i = 0; i < 3; i++)
			if (vals[i] != NULL) {
				pdfdraw_buf_printf(&w.b, " %s ", keys[i]);
				text_string(&w.b, vals[i]);
			}
		pdfdraw_buf_str(&w.b, " >>\nendobj\n");
	}

	/* the widget, merged with its field */
	tmp.len = 0;
	pdfdraw_buf_str(&tmp, "<< /Type /Annot /Subtype /Widget /FT /Sig /T ");
	text_string(&tmp, spec->field);
	pdfdraw_buf_printf(&tmp, " /V %ld 0 R /P %ld %d R /F 132 /Rect [", sig, pages[0].num,
	    pages[0].gen);
	for (int i = 0; i < 4; i++) {
		pdfdraw_buf_str(&tmp, i ? " " : "");
		pdfdraw_buf_num(&tmp, visible ? spec->rect[i] : 0);
	}
	pdfdraw_buf_str(&tmp, "]");
	if (visible)
		pdfdraw_buf_printf(&tmp, " /AP << /N %ld 0 R >>", ap);
	pdfdraw_buf_str(&tmp, " >>");
	if (obj_dict(&w, widget, 0, &tmp) != 0)
		goto nomem;

	/* its appearance and image */
	if (visible) {
		double wd = spec->rect[2] - spec->rect[0], ht = spec->rect[3] - spec->rect[1];
		struct pdfdraw_buf d = {0}, body = {0};
		pdfdraw_buf_str(&d, "/Type /XObject /Subtype /Form /BBox [0 0 ");
		pdfdraw_buf_num(&d, wd);
		pdfdraw_buf_str(&d, " ");
		pdfdraw_buf_num(&d, ht);
		pdfdraw_buf_str(&d, "] /Resources <<");
		if (im != 0) {
			pdfdraw_buf_printf(&d, " /XObject << /Im0 %ld 0 R >>", im);
			appearance(&body, spec->image, wd, ht);
		}
		pdfdraw_buf_str(&d, " >> ");
		pdfdraw_buf_add(&d, "", 1);
		int bad = d.failed || body.failed ||
		    obj_stream(&w, ap, (const char *)d.data, body.data != NULL ? body.data : (const
		    unsigned char *)"", body.len) != 0;
		pdfdraw_buf_free(&d);
		pdfdraw_buf_free(&body);
		if (bad)
			goto nomem;
		if (im != 0) {
			char dict[256];
			if (pdfdraw_image_deflate(spec->image, &rgbz, &alphaz, err, errlen) != 0)
				goto out;
			snprintf(dict, sizeof(dict), "/Type /XObject /Subtype /Image /Width %u /Height %u "
			    "/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode ",
			    spec->image->w, spec->image->h);
			if (smask != 0)
				snprintf(dict + strlen(dict), sizeof(dict) - strlen(dict),
				    "/SMask %ld 0 R ", smask);
			if (obj_stream(&w, im, dict, rgbz.data, rgbz.len) != 0)
				goto nomem;
			if (smask != 0) {
				snprintf(dict, sizeof(dict), "/Type /XObject /Subtype /Image /Width %u "
				    "/Height %u /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter "
				    "/FlateDecode ", spec->image->w, spec->image->h);
				if (obj_stream(&w, smask, dict, alphaz.data, alphaz.len) != 0)
					goto nomem;
			}
		}
	}

	/* the AcroForm (new, or a new version of the old), and the catalog when it changes */
	{
		static const char *const skip[] = {"/Fields", "/SigFlags", NULL};
		tmp.len = 0;
		if (dict_open(&r, acro, skip, &tmp) != 0)
			goto readerr;
		pdfdraw_buf_str(&tmp, "/Fields [");
		array_items(&r, key(&r, acro, "/Fields"), &tmp);
		ref(&tmp, widget);
		pdfdraw_buf_str(&tmp, "] /SigFlags 3 >>");
		if (obj_dict(&w, acro_num, acro_gen, &tmp) != 0)
			goto nomem;
		if (acro == 0 || !qpdf_oh_is_indirect(r.q, acro)) {
			static const char *const skip_root[] = {"/AcroForm", NULL};
			tmp.len = 0;
			if (dict_open(&r, root, skip_root, &tmp) != 0)
				goto readerr;
			pdfdraw_buf_printf(&tmp, "/AcroForm %ld 0 R >>", acro_num);
			if (obj_dict(&w, qpdf_oh_get_object_id(r.q, root),
			    qpdf_oh_get_generation(r.q, root), &tmp) != 0)
				goto nomem;
		}
	}

	/* the pages */
	for (size_t i = 0; i < npages_t; i++) {
		struct touched *t = &pages[i];
		static const char *const skip_w[] = {"/Annots", NULL};
		static const char *const skip_s[] = {"/Annots", "/Contents", "/Resources", NULL};
		tmp.len = 0;
		if (dict_open(&r, t->oh, t->stream != 0 ? skip_s : skip_w, &tmp) != 0)
			goto readerr;
		pdfdraw_buf_str(&tmp, "/Annots [");
		array_items(&r, key(&r, t->oh, "/Annots"), &tmp);
		if (t->widget)
			ref(&tmp, widget);
		pdfdraw_buf_str(&tmp, "]");
		if (t->stream != 0) {
			qpdf_oh c = key(&r, t->oh, "/Contents");
			qpdf_oh res = inherited(&r, t->oh, "/Resources");
			qpdf_oh xo = key(&r, res, "/XObject");
			static const char *const skip_x[] = {"/XObject", NULL};
			char nm[64];
			pdfdraw_buf_printf(&tmp, "\n/Contents [%ld 0 R ", qstream);
			if (c != 0 && qpdf_oh_is_stream(r.q, c) && qpdf_oh_is_indirect(r.q, c))
				pdfdraw_buf_printf(&tmp, "%s ", qpdf_oh_unparse(r.q, c));
			else
				array_items(&r, c, &tmp);
			pdfdraw_buf_printf(&tmp, "%ld 0 R]\n/Resources ", t->stream);
			if (dict_open(&r, res, skip_x, &tmp) != 0)
				goto readerr;
			pdfdraw_buf_str(&tmp, "/XObject ");
			if (dict_open(&r, xo, NULL, &tmp) != 0)
				goto readerr;
			fresh_name(&r, xo, t->form, nm, sizeof(nm));
			pdfdraw_buf_printf(&tmp, "%s %ld 0 R >> >>", nm, t->form);
			/* the stamp stream ends the page's state (the q stream began it) */
			struct pdfdraw_buf s = {0}, d = {0};
			double box[4] = {-1e5, -1e5, 1e5, 1e5};
			pdfdraw_buf_printf(&s, "Q\nq %s Do Q\n", nm);
			(void)read_box(&r, t->oh, box);
			pdfdraw_buf_str(&d, "/Type /XObject /Subtype /Form /BBox [");
			for (int k = 0; k < 4; k++) {
				pdfdraw_buf_str(&d, k ? " " : "");
				pdfdraw_buf_num(&d, box[k]);
			}
			pdfdraw_buf_printf(&d, "] /Resources << /Font << /F1 %ld 0 R >> >> ", font_num);
			pdfdraw_buf_add(&d, "", 1);
			struct pdfdraw_buf body = {0};
			pdfdraw_buf_str(&body, "q 0 g\n");
			pdfdraw_buf_add(&body, t->text.data, t->text.len);
			pdfdraw_buf_str(&body, "Q\n");
			int bad = s.failed || d.failed || body.failed ||
			    obj_stream(&w, t->stream, "", s.data, s.len) != 0 ||
			    obj_stream(&w, t->form, (const char *)d.data, body.data, body.len) != 0;
			pdfdraw_buf_free(&s);
			pdfdraw_buf_free(&d);
			pdfdraw_buf_free(&body);
			if (bad)
				goto nomem;
		}
		pdfdraw_buf_str(&tmp, " >>");
		if (rd_failed(&r, err, errlen))
			goto readerr;
		if (obj_dict(&w, t->num, t->gen, &tmp) != 0)
			goto nomem;
	}

	/* the stamps' q stream and font */
	if (spec->nstamps > 0) {
		size_t ng = pdfdraw_font_count(font);
		if (obj_stream(&w, qstream, "", "q\n", 2) != 0)
			goto nomem;
		tmp.len = 0;
		pdfdraw_font_dict(font, font_num + 2, font_num + 1, &tmp);
		if (obj_dict(&w, font_num, 0, &tmp) != 0)
			goto nomem;
		tmp.len = 0;
		pdfdraw_font_tounicode(font, &tmp);
		if (tmp.failed || obj_stream(&w, font_num + 1, "", tmp.data, tmp.len) != 0)
			goto nomem;
		for (size_t g = 1; g <= ng; g++) {
			tmp.len = 0;
			if (pdfdraw_font_glyph(font, g, &tmp) != 0 ||
			    obj_stream(&w, font_num + 1 + (long)g, "", tmp.data, tmp.len) != 0)
				goto nomem;
		}
	}
	if (rd_failed(&r, err, errlen))
		goto readerr;
	if (qpdf_more_warnings(r.q)) {
		qpdf_error e = qpdf_next_warning(r.q);
		set_err(err, errlen, "PDF: damaged (%s); not signed",
		    e != NULL ? qpdf_get_error_full_text(r.q, e) : "qpdf warns");
		goto out;
	}
	if (write_xref(&w, next > size ? next : size, root_ref, info_ref, id_text, prev) != 0)
		goto nomem;

	/* the byte range, written into its placeholder */
	{
		char br[BYTERANGE_WIDTH + 1];
		size_t a = contents_at, b = contents_at + 2 + reserve * 2;
		int n = snprintf(br, sizeof(br), "[0 %zu %zu %zu]", a, b, w.b.len - b);
		if (n < 0 || n > BYTERANGE_WIDTH)
			goto nomem;
		memset(br + n, ' ', (size_t)(BYTERANGE_WIDTH - n));
		memcpy(w.b.data + byterange_at, br, BYTERANGE_WIDTH);
		out->range[0] = 0;
		out->range[1] = a;
		out->range[2] = b;
		out->range[3] = w.b.len - b;
	}
	out->buf = w.b.data;
	out->len = w.b.len;
	w.b.data = NULL;
	rc = PDF_OK;
	goto out;
readerr:
	if (err != NULL && err[0] == '\0')
		set_err(err, errlen, "PDF: cannot read the objects to update");
	goto out;
nomem:
	set_err(err, errlen, "no memory (or the update too large)");
out:
	if (pages != NULL)
		for (size_t i = 0; i < npages_t; i++)
			pdfdraw_buf_free(&pages[i].text);
	free(pages);
	pdfdraw_font_close(font);
	pdfdraw_buf_free(&tmp);
	pdfdraw_buf_free(&rgbz);
	pdfdraw_buf_free(&alphaz);
	pdfdraw_buf_free(&w.b);
	free(w.x);
	free(root_ref);
	free(info_ref);
	free(id_text);
	rd_close(&r);
	return rc;
}

int pdf_prepared_digest(const struct pdf_prepared *p, unsigned char sha256[32])
{
	EVP_MD_CTX *c;
	unsigned int n = 0;
	int ok;

	if (p == NULL || p->buf == NULL || p->range[1] > p->len || p->range[2] > p->len ||
	    p->range[3] > p->len - p->range[2])
		return PDF_ERR;
	c = EVP_MD_CTX_new();
	if (c == NULL)
		return PDF_ERR;
	ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, p->buf, p->range[1]) == 1 &&
	    EVP_DigestUpdate(c, p->buf + p->range[2], p->range[3]) == 1 &&
	    EVP_DigestFinal_ex(c, sha256, &n) == 1 && n == 32;
	EVP_MD_CTX_free(c);
	return ok ? PDF_OK : PDF_ERR;
}

int pdf_embed(struct pdf_prepared *p, const unsigned char *cms, size_t cmslen, char *err,
    size_t errlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t room;

	if (p == NULL || p->buf == NULL || cms == NULL || p->range[2] > p->len ||
	    p->range[1] + 2 > p->range[2] || p->buf[p->range[1]] != '<' ||
	    p->buf[p->range[2] - 1] != '>') {
		set_err(err, errlen, "no prepared signature to write into");
		return PDF_ERR;
	}
	room = (p->range[2] - p->range[1] - 2) / 2;
	if (cmslen > room) {
		set_err(err, errlen, "the signature (%zu bytes) is larger than the %zu reserved", cmslen,
		    room);
		return PDF_TOOBIG;
	}
	unsigned char *d = p->buf + p->range[1] + 1;
	for (size_t i = 0; i < cmslen; i++) {
		d[2 * i] = (unsigned char)hex[cms[i] >> 4];
		d[2 * i + 1] = (unsigned char)hex[cms[i] & 15];
	}
	memset(d + 2 * cmslen, '0', 2 * (room - cmslen));
	return PDF_OK;
}

void pdf_prepared_free(struct pdf_prepared *p)
{
	if (p == NULL)
		return;
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

/* ---- pdf_signatures ---- */

struct walk {
	struct rd *r;
	const unsigned char *buf;
	size_t len;
	struct pdf_sig *sigs;  /* owned until handed out */
	size_t n;
	int budget;
	int seen[MAX_NODES];   /* object ids of the indirect fields visited */
	size_t nseen;
};

/* The length of a DER element at p (tag and length octets included), 0 if unreadable. */
static size_t der_len(const unsigned char *p, size_t n)
{
	size_t l, hdr;

	if (n < 2 || p[0] != 0x30)
		return 0;
	if (p[1] < 0x80) {
		l = p[1];
		hdr = 2;
	} else {
		size_t k = p[1] & 0x7F;
		if (k == 0 || k > 4 || n < 2 + k)
			return 0;
		l = 0;
		for (size_t i = 0; i < k; i++)
			l = l << 8 | p[2 + i];
		hdr = 2 + k;
	}
	return l <= n - hdr ? hdr + l : 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The byte checks: see pdf.h (range_ok, whole). */
static void check_ranges(struct walk *wk, struct pdf_sig *s, const unsigned char *contents,
    size_t clen)
{
	const long long *g = s->range;
	const unsigned char *b = wk->buf;
	long long len = (long long)wk->len, end;

	s->revision_end = 0;
	if (g[0] != 0 || g[1] <= 0 || g[2] <= g[1] + 1 || g[3] < 0 || g[1] > len || g[2] > len ||
	    g[3] > len - g[2])
		return;
	end = g[2] + g[3];
	s->revision_end = (size_t)end;
	if (b[g[1]] != '<' || b[g[2] - 1] != '>' || (g[2] - g[1] - 2) % 2 != 0 ||
	    (size_t)(g[2] - g[1] - 2) / 2 != clen)
		return;
	for (long long i = g[1] + 1; i < g[2] - 1; i += 2) {
		int hi = hexval(b[i]), lo = hexval(b[i + 1]);
		if (hi < 0 || lo < 0 || (unsigned char)(hi << 4 | lo) != contents[(i - g[1] - 1) / 2])
			return;
	}
	/* the range ends with %%EOF and at most one end of line */
	long long e = end;
	if (e > 0 && b[e - 1] == '\n')
		e--;
	if (e > 0 && b[e - 1] == '\r')
		e--;
	if (e < 5 || memcmp(b + e - 5, "%%EOF", 5) != 0)
		return;
	s->range_ok = 1;
	long long rest = len - end;
	if (rest == 0 || (rest == 1 && (b[end] == '\n' || b[end] == '\r')) ||
	    (rest == 2 && b[end] == '\r' && b[end + 1] == '\n'))
		s->whole = 1;
}

static void get_text(struct rd *r, qpdf_oh dict, const char *k, char *dst, size_t cap)
{
	qpdf_oh v = key(r, dict, k);
	size_t l = 0;
	const char *s;

	dst[0] = '\0';
	if (v == 0 || !qpdf_oh_is_string(r->q, v))
		return;
	s = qpdf_oh_get_binary_utf8_value(r->q, v, &l);
	if (s != NULL && !rd_failed(r, NULL, 0))
		copy_utf8(dst, cap, s, l);
}

/* "D:YYYYMMDDHHmmSS+HH'mm'" (with its shortenings) as a time; 0 if unreadable. */
static time_t parse_date(const char *m)
{
	int f[6] = {0, 1, 1, 0, 0, 0}, widths[6] = {4, 2, 2, 2, 2, 2};
	const char *p = m;
	struct tm tm;
	long off = 0;

	if (strncmp(p, "D:", 2) == 0)
		p += 2;
	for (int i = 0; i < 6; i++) {
		if (!isdigit((unsigned char)*p)) {
			if (i == 0)
				return 0;
			break;
		}
		int v = 0;
		for (int k = 0; k < widths[i]; k++, p++) {
			if (!isdigit((unsigned char)*p))
				return 0;
			v = v * 10 + (*p - '0');
		}
		f[i] = v;
	}
	if (*p == '+' || *p == '-') {
		int sign = *p == '+' ? 1 : -1, hh = 0, mm = 0;
		p++;
		if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])) {
			hh = (p[0] - '0') * 10 + (p[1] - '0');
			p += 2;
			if (*p == '\'')
				p++;
			if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]))
				mm = (p[0] - '0') * 10 + (p[1] - '0');
		}
		off = sign * (hh * 3600L + mm * 60L);
	}
	if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = f[0] - 1900;
	tm.tm_mon = f[1] - 1;
	tm.tm_mday = f[2];
	tm.tm_hour = f[3];
	tm.tm_min = f[4];
	tm.tm_sec = f[5];
	return timegm(&tm) - off;
}

/* The page whose /Annots holds the widget, -1 if none. */
static int widget_page(struct rd *r, qpdf_oh wdg)
{
	int id, n;

	if (wdg == 0)
		return -1;
	int p = page_index(r, key(r, wdg, "/P"));
	if (p >= 0)
		return p;
	if (!qpdf_oh_is_indirect(r->q, wdg))
		return -1;
	id = qpdf_oh_get_object_id(r->q, wdg);
	n = qpdf_get_num_pages(r->q);
	if (rd_failed(r, NULL, 0))
		return -1;
	int budget = MAX_NODES;
	for (int i = 0; i < n && budget > 0; i++) {
		qpdf_oh annots = key(r, qpdf_get_page_n(r->q, (size_t)i), "/Annots");
		int na = array_n(r, annots);
		for (int k = 0; k < na && budget > 0; k++, budget--) {
			qpdf_oh a = qpdf_oh_get_array_item(r->q, annots, k);
			if (qpdf_oh_is_indirect(r->q, a) && qpdf_oh_get_object_id(r->q, a) == id)
				return i;
		}
	}
	return -1;
}

static void add_sig(struct walk *wk, qpdf_oh field, qpdf_oh v, const char *tname)
{
	struct rd *r = wk->r;
	struct pdf_sig *s;
	qpdf_oh br, c, sf, wdg = 0;
	const char *cs;
	size_t cl = 0;

	if (wk->n >= MAX_SIGS)
		return;
	s = &wk->sigs[wk->n];
	memset(s, 0, sizeof(*s));
	s->page = -1;
	copy_utf8(s->field, sizeof(s->field), tname, strlen(tname));
	sf = key(r, v, "/SubFilter");
	if (sf != 0 && qpdf_oh_is_name(r->q, sf)) {
		const char *nm = qpdf_oh_get_name(r->q, sf);
		if (nm != NULL && nm[0] == '/')
			copy_utf8(s->subfilter, sizeof(s->subfilter), nm + 1, strlen(nm + 1));
	}
	get_text(r, v, "/Name", s->name, sizeof(s->name));
	get_text(r, v, "/Reason", s->reason, sizeof(s->reason));
	get_text(r, v, "/Location", s->location, sizeof(s->location));
	{
		qpdf_oh m = key(r, v, "/M");
		if (m != 0 && qpdf_oh_is_string(r->q, m)) {
			const char *ms = qpdf_oh_get_binary_string_value(r->q, m, &cl);
			size_t k = 0;
			for (size_t i = 0; ms != NULL && i < cl && k + 1 < sizeof(s->m); i++)
				if (ms[i] >= 0x20 && ms[i] < 0x7F)
					s->m[k++] = ms[i];
			s->m[k] = '\0';
			s->when = parse_date(s->m);
		}
	}
	br = key(r, v, "/ByteRange");
	if (array_n(r, br) == 4)
		for (int i = 0; i < 4; i++) {
			qpdf_oh it = qpdf_oh_get_array_item(r->q, br, i);
			double d;
			if (number(r, it, &d) == 0 && d >= -1e15 && d <= 1e15)
				s->range[i] = (long long)d;
		}
	c = key(r, v, "/Contents");
	cl = 0;
	cs = c != 0 && qpdf_oh_is_string(r->q, c) ? qpdf_oh_get_binary_string_value(r->q, c, &cl)
	                                         : NULL;
	if (cs != NULL && cl > 0 && !rd_failed(r, NULL, 0)) {
		s->cms = malloc(cl);
		if (s->cms != NULL) {
			memcpy(s->cms, cs, cl);
			check_ranges(wk, s, s->cms, cl);
			size_t dl = der_len(s->cms, cl);
			s->cmslen = dl != 0 ? dl : cl;
		}
	}
	/* where a signature whose bytes do not check would end, for the order only */
	if (s->revision_end == 0 && s->range[2] >= 0 && s->range[3] >= 0 &&
	    s->range[2] <= (long long)wk->len && s->range[3] <= (long long)wk->len)
		s->revision_end = (size_t)(s->range[2] + s->range[3]);
	/* the widget: the field itself, or its first widget kid */
	if (name_is(r, key(r, field, "/Subtype"), "/Widget")) {
		wdg = field;
	} else {
		qpdf_oh kids = key(r, field, "/Kids");
		int n = array_n(r, kids);
		for (int i = 0; i < n && i < 64 && wdg == 0; i++) {
			qpdf_oh k = qpdf_oh_get_array_item(r->q, kids, i);
			if (name_is(r, key(r, k, "/Subtype"), "/Widget"))
				wdg = k;
		}
	}
	if (wdg != 0) {
		qpdf_oh rect = key(r, wdg, "/Rect");
		int ok = array_n(r, rect) == 4;
		for (int i = 0; ok && i < 4; i++)
			if (number(r, qpdf_oh_get_array_item(r->q, rect, i), &s->rect[i]) != 0)
				ok = 0;
		if (!ok)
			memset(s->rect, 0, sizeof(s->rect));
		s->page = widget_page(r, wdg);
		s->visible = ok && ABS(s->rect[2] - s->rect[0]) > 0 &&
		    ABS(s->rect[3] - s->rect[1]) > 0 && key(r, key(r, wdg, "/AP"), "/N") != 0;
	}
	(void)rd_failed(r, NULL, 0);
	wk->n++;
}

static void walk_field(struct walk *wk, qpdf_oh f, int depth, int is_sig, const char *tname)
{
	struct rd *r = wk->r;
	char name[256];
	qpdf_oh ft, t, v, kids;
	int n;

	if (depth > MAX_DEPTH || --wk->budget < 0 || !is_dict(r, f) || wk->n >= MAX_SIGS)
		return;
	if (qpdf_oh_is_indirect(r->q, f)) {
		int id = qpdf_oh_get_object_id(r->q, f);
		for (size_t i = 0; i < wk->nseen; i++)
			if (wk->seen[i] == id)
				return;
		if (wk->nseen == MAX_NODES)
			return;
		wk->seen[wk->nseen++] = id;
	}
	ft = key(r, f, "/FT");
	if (ft != 0)
		is_sig = name_is(r, ft, "/Sig");
	snprintf(name, sizeof(name), "%s", tname);
	t = key(r, f, "/T");
	if (t != 0 && qpdf_oh_is_string(r->q, t)) {
		size_t l = 0;
		const char *s = qpdf_oh_get_binary_utf8_value(r->q, t, &l);
		if (s != NULL)
			copy_utf8(name, sizeof(name), s, l);
	}
	v = key(r, f, "/V");
	if (is_sig && v != 0 && is_dict(r, v)) {
		add_sig(wk, f, v, name);
		return;
	}
	kids = key(r, f, "/Kids");
	n = array_n(r, kids);
	for (int i = 0; i < n && wk->budget > 0; i++)
		walk_field(wk, qpdf_oh_get_array_item(r->q, kids, i), depth + 1, is_sig, name);
}

static int sig_cmp(const void *a, const void *b)
{
	const struct pdf_sig *x = a, *y = b;
	return x->revision_end < y->revision_end ? -1 : x->revision_end > y->revision_end;
}

int pdf_signatures(const void *pdf, size_t len, struct pdf_sig **out, size_t *n, char *err,
    size_t errlen)
{
	struct rd r;
	struct walk *wk;
	qpdf_oh root, fields;
	int nf;

	*out = NULL;
	*n = 0;
	if (rd_open(&r, pdf, len, 1, err, errlen) != PDF_OK)
		return PDF_ERR;
	wk = calloc(1, sizeof(*wk));
	if (wk == NULL || (wk->sigs = calloc(MAX_SIGS, sizeof(*wk->sigs))) == NULL) {
		free(wk);
		rd_close(&r);
		set_err(err, errlen, "no memory");
		return PDF_ERR;
	}
	wk->r = &r;
	wk->buf = pdf;
	wk->len = len;
	wk->budget = MAX_NODES;
	root = qpdf_get_root(r.q);
	(void)rd_failed(&r, NULL, 0);
	fields = key(&r, key(&r, root, "/AcroForm"), "/Fields");
	nf = array_n(&r, fields);
	for (int i = 0; i < nf && wk->budget > 0; i++)
		walk_field(wk, qpdf_oh_get_array_item(r.q, fields, i), 0, 0, "");
	rd_close(&r);
	if (wk->n == 0) {
		free(wk->sigs);
	} else {
		qsort(wk->sigs, wk->n, sizeof(*wk->sigs), sig_cmp);
		*out = wk->sigs;
		*n = wk->n;
	}
	free(wk);
	return PDF_OK;
}

void pdf_signatures_free(struct pdf_sig *s, size_t n)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(s[i].cms);
	free(s);
}
