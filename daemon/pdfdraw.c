/*
 * pdfdraw.c: what a PDF update draws. Owns PNG decoding (libpng's simplified
 * API, pHYs read from the chunks), the ink colour of a signature or seal
 * image, deflating samples for image XObjects (zlib), and Type3 fonts built
 * from a TrueType file with FreeType (outlines as PDF paths, /ToUnicode).
 */
#include "pdfdraw.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_OUTLINE_H
#include <math.h>
#include <png.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PNG_MAX_SIDE 4096u
#define PNG_MAX_INPUT (64u << 20)
#define BUF_MAX ((size_t)256 << 20)
#define FONT_MAX_GLYPHS 255u
#define FONT_MAX_FILE (32L << 20)

/* ---- buffers ---- */

void pdfdraw_buf_add(struct pdfdraw_buf *b, const void *p, size_t n)
{
	if (b->failed || n == 0)
		return;
	if (n > BUF_MAX - b->len) {
		b->failed = 1;
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 256;
		while (cap < b->len + n)
			cap = cap > BUF_MAX / 2 ? BUF_MAX : cap * 2;
		unsigned char *d = realloc(b->data, cap);
		if (d == NULL) {
			b->failed = 1;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void pdfdraw_buf_str(struct pdfdraw_buf *b, const char *s)
{
	pdfdraw_buf_add(b, s, strlen(s));
}

void pdfdraw_buf_printf(struct pdfdraw_buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		pdfdraw_buf_add(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (big == NULL) {
		b->failed = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	pdfdraw_buf_add(b, big, (size_t)n);
	free(big);
}

void pdfdraw_buf_num(struct pdfdraw_buf *b, double v)
{
	if (!isfinite(v) || v > 1e9 || v < -1e9)
		v = 0;
	double a = v < 0 ? -v : v;
	long long t = (long long)(a * 10000.0 + 0.5);
	long long ip = t / 10000, fp = t % 10000;
	char frac[8];
	int fl = 4;

	snprintf(frac, sizeof(frac), "%04lld", fp);
	while (fl > 0 && frac[fl - 1] == '0')
		fl--;
	frac[fl] = '\0';
	pdfdraw_buf_printf(b, "%s%lld%s%s", (v < 0 && t != 0) ? "-" : "", ip, fl > 0 ? "." : "",
	    frac);
}

void pdfdraw_buf_free(struct pdfdraw_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

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

/* ---- PNG ---- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The resolution the pHYs chunk gives (unit metre), read from the chunk list before IDAT. */
static void png_phys(const unsigned char *p, size_t len, double *dx, double *dy)
{
	size_t off = 8;

	*dx = *dy = 0;
	while (off + 12 <= len) {
		uint32_t clen = be32(p + off);
		const unsigned char *type = p + off + 4;
		if (clen > len - off - 12)
			return;
		if (memcmp(type, "IDAT", 4) == 0 || memcmp(type, "IEND", 4) == 0)
			return;
		if (memcmp(type, "pHYs", 4) == 0 && clen == 9) {
			const unsigned char *d = p + off + 8;
			if (d[8] == 1) {
				*dx = be32(d) * 0.0254;
				*dy = be32(d + 4) * 0.0254;
			}
			return;
		}
		off += 12 + (size_t)clen;
	}
}

int pdfdraw_png_read(const void *png, size_t len, struct pdfdraw_image *img, char *err,
    size_t errlen)
{
	png_image pi;
	unsigned char *px = NULL;
	int has_alpha;

	memset(img, 0, sizeof(*img));
	if (png == NULL || len < 8 || len > PNG_MAX_INPUT) {
		set_err(err, errlen, "not a PNG of a size we read (%zu bytes)", len);
		return -1;
	}
	if (png_sig_cmp((png_const_bytep)png, 0, 8) != 0) {
		set_err(err, errlen, "not a PNG (bad signature)");
		return -1;
	}
	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&pi, png, len)) {
		set_err(err, errlen, "PNG: %s", pi.message);
		goto fail;
	}
	if (pi.width == 0 || pi.height == 0 || pi.width > PNG_MAX_SIDE ||
	    pi.height > PNG_MAX_SIDE) {
		set_err(err, errlen, "PNG of %ux%u: at most %ux%u", (unsigned)pi.width,
		    (unsigned)pi.height, PNG_MAX_SIDE, PNG_MAX_SIDE);
		goto fail;
	}
	has_alpha = (pi.format & PNG_FORMAT_FLAG_ALPHA) != 0;
	pi.format = PNG_FORMAT_RGBA;
	px = malloc((size_t)pi.width * pi.height * 4);
	if (px == NULL) {
		set_err(err, errlen, "no memory for a %ux%u image", (unsigned)pi.width,
		    (unsigned)pi.height);
		goto fail;
	}
	if (!png_image_finish_read(&pi, NULL, px, 0, NULL)) {
		set_err(err, errlen, "PNG: %s", pi.message);
		goto fail;
	}
	img->w = pi.width;
	img->h = pi.height;
	size_t n = (size_t)img->w * img->h;
	img->rgb = malloc(n * 3);
	if (img->rgb == NULL)
		goto nomem;
	if (has_alpha) {
		img->alpha = malloc(n);
		if (img->alpha == NULL)
			goto nomem;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(img->rgb + i * 3, px + i * 4, 3);
		if (img->alpha != NULL)
			img->alpha[i] = px[i * 4 + 3];
	}
	free(px);
	png_phys(png, len, &img->dpi_x, &img->dpi_y);
	return 0;
nomem:
	set_err(err, errlen, "no memory for a %ux%u image", img->w, img->h);
fail:
	png_image_free(&pi);
	free(px);
	pdfdraw_image_free(img);
	return -1;
}

enum pdfdraw_ink pdfdraw_ink_of(const struct pdfdraw_image *img)
{
	size_t count[4] = {0, 0, 0, 0};
	size_t n;

	if (img == NULL || img->alpha == NULL || img->rgb == NULL)
		return PDFDRAW_INK_NONE;
	n = (size_t)img->w * img->h;
	for (size_t i = 0; i < n; i++) {
		if (img->alpha[i] < 128)
			continue;
		int r = img->rgb[i * 3], g = img->rgb[i * 3 + 1], b = img->rgb[i * 3 + 2];
		if (b >= r + 40 && b >= g + 16)
			count[PDFDRAW_INK_BLUE]++;
		else if (r >= g + 64 && r >= b + 48)
			count[PDFDRAW_INK_RED]++;
		else
			count[PDFDRAW_INK_OTHER]++;
	}
	if (count[1] + count[2] + count[3] == 0)
		return PDFDRAW_INK_NONE;
	if (count[PDFDRAW_INK_BLUE] >= count[PDFDRAW_INK_RED] &&
	    count[PDFDRAW_INK_BLUE] >= count[PDFDRAW_INK_OTHER])
		return PDFDRAW_INK_BLUE;
	if (count[PDFDRAW_INK_RED] >= count[PDFDRAW_INK_OTHER])
		return PDFDRAW_INK_RED;
	return PDFDRAW_INK_OTHER;
}

void pdfdraw_image_free(struct pdfdraw_image *img)
{
	if (img == NULL)
		return;
	free(img->rgb);
	free(img->alpha);
	memset(img, 0, sizeof(*img));
}

/* zlib's default level: level 9 made the seal's pixels half the time of an issue's signing
 * step (make bench) for a fifth fewer bytes of a 1.7 KiB stream */
static int deflate_into(const unsigned char *p, size_t n, struct pdfdraw_buf *out)
{
	uLongf zl = compressBound((uLong)n);
	unsigned char *z = malloc(zl);

	if (z == NULL)
		return -1;
	if (compress2(z, &zl, p, (uLong)n, Z_DEFAULT_COMPRESSION) != Z_OK) {
		free(z);
		return -1;
	}
	pdfdraw_buf_add(out, z, zl);
	free(z);
	return out->failed ? -1 : 0;
}

int pdfdraw_image_deflate(const struct pdfdraw_image *img, struct pdfdraw_buf *rgb,
    struct pdfdraw_buf *alpha, char *err, size_t errlen)
{
	if (img == NULL || img->rgb == NULL || img->w == 0 || img->h == 0 ||
	    img->w > PNG_MAX_SIDE || img->h > PNG_MAX_SIDE) {
		set_err(err, errlen, "no image to draw");
		return -1;
	}
	size_t n = (size_t)img->w * img->h;
	if (deflate_into(img->rgb, n * 3, rgb) != 0 ||
	    (img->alpha != NULL && deflate_into(img->alpha, n, alpha) != 0)) {
		set_err(err, errlen, "cannot deflate the image (no memory)");
		return -1;
	}
	return 0;
}

/* ---- Type3 fonts from TrueType ---- */

struct glyph {
	uint32_t cp;                /* the Unicode letter */
	long advance;               /* font units */
	struct pdfdraw_buf proc;    /* owned: the glyph's content stream */
};

struct pdfdraw_font {
	FT_Library lib;
	FT_Face face;
	long upem;
	struct glyph glyphs[FONT_MAX_GLYPHS];  /* code i+1 is glyphs[i] */
	size_t n;
};

int pdfdraw_utf8_next(const unsigned char **s, const unsigned char *end, uint32_t *cp)
{
	const unsigned char *p = *s;
	uint32_t c = p[0];
	int extra;

	if (c < 0x80) {
		*cp = c;
		*s = p + 1;
		return 0;
	}
	if (c >= 0xC2 && c <= 0xDF)
		extra = 1, c &= 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		extra = 2, c &= 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		extra = 3, c &= 0x07;
	else
		return -1;
	if (end - p <= extra)
		return -1;
	for (int i = 1; i <= extra; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return -1;
		c = c << 6 | (p[i] & 0x3F);
	}
	if ((extra == 2 && c < 0x800) || (extra == 3 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return -1;
	*cp = c;
	*s = p + extra + 1;
	return 0;
}

struct outline_ctx {
	struct pdfdraw_buf *b;
	FT_Vector cur;
	int open;
};

static void pt(struct pdfdraw_buf *b, double x, double y)
{
	pdfdraw_buf_num(b, x);
	pdfdraw_buf_str(b, " ");
	pdfdraw_buf_num(b, y);
	pdfdraw_buf_str(b, " ");
}

static int ol_move(const FT_Vector *to, void *user)
{
	struct outline_ctx *c = user;

	if (c->open)
		pdfdraw_buf_str(c->b, "h\n");
	pt(c->b, to->x, to->y);
	pdfdraw_buf_str(c->b, "m\n");
	c->cur = *to;
	c->open = 1;
	return 0;
}

static int ol_line(const FT_Vector *to, void *user)
{
	struct outline_ctx *c = user;

	pt(c->b, to->x, to->y);
	pdfdraw_buf_str(c->b, "l\n");
	c->cur = *to;
	return 0;
}

/* A quadratic Bézier as the cubic that draws the same curve. */
static int ol_conic(const FT_Vector *ctl, const FT_Vector *to, void *user)
{
	struct outline_ctx *c = user;
	double x0 = c->cur.x, y0 = c->cur.y;

	pt(c->b, x0 + 2.0 / 3.0 * (ctl->x - x0), y0 + 2.0 / 3.0 * (ctl->y - y0));
	pt(c->b, to->x + 2.0 / 3.0 * (ctl->x - to->x), to->y + 2.0 / 3.0 * (ctl->y - to->y));
	pt(c->b, to->x, to->y);
	pdfdraw_buf_str(c->b, "c\n");
	c->cur = *to;
	return 0;
}

static int ol_cubic(const FT_Vector *c1, const FT_Vector *c2, const FT_Vector *to, void *user)
{
	struct outline_ctx *c = user;

	pt(c->b, c1->x, c1->y);
	pt(c->b, c2->x, c2->y);
	pt(c->b, to->x, to->y);
	pdfdraw_buf_str(c->b, "c\n");
	c->cur = *to;
	return 0;
}

int pdfdraw_font_open(const char *path, struct pdfdraw_font **out, char *err, size_t errlen)
{
	struct pdfdraw_font *f;
	FT_Error fe;

	*out = NULL;
	if (path == NULL || *path == '\0') {
		set_err(err, errlen, "no font file given");
		return -1;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		set_err(err, errlen, "no memory for a font");
		return -1;
	}
	fe = FT_Init_FreeType(&f->lib);
	if (fe != 0) {
		set_err(err, errlen, "FreeType: cannot start (%d)", fe);
		free(f);
		return -1;
	}
	FILE *fp = fopen(path, "rb");
	long size = -1;
	if (fp != NULL && fseek(fp, 0, SEEK_END) == 0)
		size = ftell(fp);
	if (fp != NULL)
		fclose(fp);
	if (size <= 0 || size > FONT_MAX_FILE) {
		set_err(err, errlen, "font %s: missing, empty or too large", path);
		goto fail;
	}
	fe = FT_New_Face(f->lib, path, 0, &f->face);
	if (fe != 0) {
		set_err(err, errlen, "font %s: FreeType cannot open it (%d)", path, fe);
		goto fail;
	}
	if (!FT_IS_SCALABLE(f->face) || f->face->units_per_EM == 0) {
		set_err(err, errlen, "font %s: not an outline font", path);
		goto fail;
	}
	f->upem = f->face->units_per_EM;
	*out = f;
	return 0;
fail:
	pdfdraw_font_close(f);
	return -1;
}

/* The glyph of cp: added when new. Its code (1..255), or 0 with err. */
static unsigned add_glyph(struct pdfdraw_font *f, uint32_t cp, char *err, size_t errlen)
{
	FT_UInt gi;
	struct glyph *g;
	FT_Outline_Funcs funcs = {ol_move, ol_line, ol_conic, ol_cubic, 0, 0};
	struct outline_ctx ctx;
	FT_BBox box;

	for (size_t i = 0; i < f->n; i++)
		if (f->glyphs[i].cp == cp)
			return (unsigned)i + 1;
	if (f->n >= FONT_MAX_GLYPHS) {
		set_err(err, errlen, "more than %u different letters to stamp", FONT_MAX_GLYPHS);
		return 0;
	}
	gi = FT_Get_Char_Index(f->face, cp);
	if (gi == 0) {
		set_err(err, errlen, "the font has no glyph for U+%04X", (unsigned)cp);
		return 0;
	}
	if (FT_Load_Glyph(f->face, gi, FT_LOAD_NO_SCALE | FT_LOAD_NO_HINTING) != 0 ||
	    f->face->glyph->format != FT_GLYPH_FORMAT_OUTLINE) {
		set_err(err, errlen, "the font's glyph for U+%04X cannot be loaded", (unsigned)cp);
		return 0;
	}
	g = &f->glyphs[f->n];
	memset(g, 0, sizeof(*g));
	g->cp = cp;
	g->advance = f->face->glyph->metrics.horiAdvance;
	FT_Outline_Get_CBox(&f->face->glyph->outline, &box);
	pdfdraw_buf_printf(&g->proc, "%ld 0 %ld %ld %ld %ld d1\n", g->advance, (long)box.xMin,
	    (long)box.yMin, (long)box.xMax, (long)box.yMax);
	memset(&ctx, 0, sizeof(ctx));
	ctx.b = &g->proc;
	if (f->face->glyph->outline.n_contours > 0) {
		if (FT_Outline_Decompose(&f->face->glyph->outline, &funcs, &ctx) != 0) {
			set_err(err, errlen, "the font's glyph for U+%04X is broken", (unsigned)cp);
			pdfdraw_buf_free(&g->proc);
			return 0;
		}
		pdfdraw_buf_str(&g->proc, "h\nf\n");
	}
	if (g->proc.failed) {
		set_err(err, errlen, "no memory for a glyph");
		pdfdraw_buf_free(&g->proc);
		return 0;
	}
	f->n++;
	return (unsigned)f->n;
}

int pdfdraw_font_encode(struct pdfdraw_font *f, const char *utf8, struct pdfdraw_buf *codes,
    char *err, size_t errlen)
{
	const unsigned char *s = (const unsigned char *)utf8, *end;

	if (utf8 == NULL)
		return 0;
	end = s + strlen(utf8);
	while (*s != '\0') {
		uint32_t cp;
		if (pdfdraw_utf8_next(&s, end, &cp) != 0) {
			set_err(err, errlen, "the text to stamp is not UTF-8");
			return -1;
		}
		if (cp < 0x20) {
			set_err(err, errlen, "the text to stamp holds a control character");
			return -1;
		}
		unsigned code = add_glyph(f, cp, err, errlen);
		if (code == 0)
			return -1;
		unsigned char c = (unsigned char)code;
		pdfdraw_buf_add(codes, &c, 1);
	}
	if (codes->failed) {
		set_err(err, errlen, "no memory for the text");
		return -1;
	}
	return 0;
}

size_t pdfdraw_font_count(const struct pdfdraw_font *f)
{
	return f->n;
}

int pdfdraw_font_glyph(const struct pdfdraw_font *f, size_t code, struct pdfdraw_buf *out)
{
	if (code == 0 || code > f->n)
		return -1;
	pdfdraw_buf_add(out, f->glyphs[code - 1].proc.data, f->glyphs[code - 1].proc.len);
	return out->failed ? -1 : 0;
}

void pdfdraw_font_tounicode(const struct pdfdraw_font *f, struct pdfdraw_buf *out)
{
	pdfdraw_buf_str(out,
	    "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
	    "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
	    "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
	    "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n");
	for (size_t i = 0; i < f->n; i += 100) {
		size_t k = f->n - i < 100 ? f->n - i : 100;
		pdfdraw_buf_printf(out, "%zu beginbfchar\n", k);
		for (size_t j = i; j < i + k; j++) {
			uint32_t cp = f->glyphs[j].cp;
			if (cp >= 0x10000) {
				uint32_t v = cp - 0x10000;
				pdfdraw_buf_printf(out, "<%02zX> <%04X%04X>\n", j + 1,
				    (unsigned)(0xD800 + (v >> 10)), (unsigned)(0xDC00 + (v & 0x3FF)));
			} else {
				pdfdraw_buf_printf(out, "<%02zX> <%04X>\n", j + 1, (unsigned)cp);
			}
		}
		pdfdraw_buf_str(out, "endbfchar\n");
	}
	pdfdraw_buf_str(out, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
}

void pdfdraw_font_dict(const struct pdfdraw_font *f, long glyph0, long tounicode,
    struct pdfdraw_buf *out)
{
	const FT_BBox *bb = &f->face->bbox;

	pdfdraw_buf_str(out, "<< /Type /Font /Subtype /Type3 /FontMatrix [");
	/* 1/units_per_EM with nine decimals; units_per_EM is 16 .. 16384 in a valid font */
	long long scale = f->upem > 1 ? (long long)(1e9 / (double)f->upem + 0.5) : 1000000000LL;
	if (scale >= 1000000000LL)
		pdfdraw_buf_str(out, "1 0 0 1 0 0");
	else
		pdfdraw_buf_printf(out, "0.%09lld 0 0 0.%09lld 0 0", scale, scale);
	pdfdraw_buf_printf(out, "] /FontBBox [%ld %ld %ld %ld] /Resources << >>", (long)bb->xMin,
	    (long)bb->yMin, (long)bb->xMax, (long)bb->yMax);
	pdfdraw_buf_printf(out, " /FirstChar 1 /LastChar %zu /Widths [", f->n);
	for (size_t i = 0; i < f->n; i++)
		pdfdraw_buf_printf(out, "%s%ld", i ? " " : "", f->glyphs[i].advance);
	pdfdraw_buf_str(out, "] /Encoding << /Type /Encoding /Differences [1");
	for (size_t i = 0; i < f->n; i++)
		pdfdraw_buf_printf(out, " /g%zu", i + 1);
	pdfdraw_buf_str(out, "] >> /CharProcs <<");
	for (size_t i = 0; i < f->n; i++)
		pdfdraw_buf_printf(out, " /g%zu %ld 0 R", i + 1, glyph0 + (long)i);
	pdfdraw_buf_printf(out, " >> /ToUnicode %ld 0 R >>", tounicode);
}

void pdfdraw_font_close(struct pdfdraw_font *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n; i++)
		pdfdraw_buf_free(&f->glyphs[i].proc);
	if (f->face != NULL)
		FT_Done_Face(f->face);
	if (f->lib != NULL)
		FT_Done_FreeType(f->lib);
	free(f);
}
