/* pdfdraw.h: what a PDF update draws: PNG images and text glyphs (see pdfdraw.c). */
#ifndef VANTHU_PDFDRAW_H
#define VANTHU_PDFDRAW_H

#include <stddef.h>
#include <stdint.h>

/* A decoded image: 8-bit RGB and, when it has transparency, 8-bit alpha. */
struct pdfdraw_image {
	unsigned w, h;
	unsigned char *rgb;    /* owned: w*h*3 */
	unsigned char *alpha;  /* owned: w*h, NULL when opaque */
	double dpi_x, dpi_y;   /* from the pHYs chunk; 0 when the file does not say */
};

/* The colour of an image's ink (its visible pixels), for the law's blue and red. */
enum pdfdraw_ink {
	PDFDRAW_INK_NONE = 0,   /* no transparency, or nothing visible */
	PDFDRAW_INK_BLUE = 1,
	PDFDRAW_INK_RED = 2,
	PDFDRAW_INK_OTHER = 3,
};

/* Decodes a PNG (any colour type, 16-bit reduced to 8); at most 4096x4096. 0 or -1 with err. */
int pdfdraw_png_read(const void *png, size_t len, struct pdfdraw_image *img, char *err,
    size_t errlen);
/* The dominant colour of the visible pixels (alpha >= 128) of a transparent image. */
enum pdfdraw_ink pdfdraw_ink_of(const struct pdfdraw_image *img);
void pdfdraw_image_free(struct pdfdraw_image *img);

/* The next letter of UTF-8 text ending at end (shortest form, no surrogates), moving *s past
 * it. 0, or -1 when the bytes there are not UTF-8. */
int pdfdraw_utf8_next(const unsigned char **s, const unsigned char *end, uint32_t *cp);

/* ---- what pdf.c draws with (internal to the PDF writer) ---- */

/* A growable byte buffer; after a failed append `failed` is set and further appends do nothing. */
struct pdfdraw_buf {
	unsigned char *data;  /* owned */
	size_t len, cap;
	int failed;           /* no memory, or the cap (256 MiB) reached */
};
void pdfdraw_buf_add(struct pdfdraw_buf *b, const void *p, size_t n);
void pdfdraw_buf_str(struct pdfdraw_buf *b, const char *s);
/* printf into the buffer; use pdfdraw_buf_num for reals (locale independent). */
void pdfdraw_buf_printf(struct pdfdraw_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A real as PDF writes it: at most 4 decimals, no exponent, '.' whatever the locale. */
void pdfdraw_buf_num(struct pdfdraw_buf *b, double v);
void pdfdraw_buf_free(struct pdfdraw_buf *b);

/* The image's samples deflated (zlib): RGB, and alpha when it has some (else NULL, 0). */
int pdfdraw_image_deflate(const struct pdfdraw_image *img, struct pdfdraw_buf *rgb,
    struct pdfdraw_buf *alpha, char *err, size_t errlen);

/*
 * A Type3 font built from a TrueType file: only the glyphs that the texts
 * encoded with it use (at most 255), each glyph's outline as path operators.
 */
struct pdfdraw_font;
int pdfdraw_font_open(const char *path, struct pdfdraw_font **out, char *err, size_t errlen);
/* The codes (one byte each) that draw `utf8` in this font, added to `codes`; new letters get codes. */
int pdfdraw_font_encode(struct pdfdraw_font *f, const char *utf8, struct pdfdraw_buf *codes,
    char *err, size_t errlen);
/* How many glyphs the font has so far (codes 1..n). */
size_t pdfdraw_font_count(const struct pdfdraw_font *f);
/* The content stream of code i (1..n): d1 and the outline, filled. */
int pdfdraw_font_glyph(const struct pdfdraw_font *f, size_t code, struct pdfdraw_buf *out);
/* The /ToUnicode CMap. */
void pdfdraw_font_tounicode(const struct pdfdraw_font *f, struct pdfdraw_buf *out);
/* The font dictionary; the glyph streams are objects glyph0 .. glyph0+n-1, the CMap tounicode. */
void pdfdraw_font_dict(const struct pdfdraw_font *f, long glyph0, long tounicode,
    struct pdfdraw_buf *out);
void pdfdraw_font_close(struct pdfdraw_font *f);

#endif
