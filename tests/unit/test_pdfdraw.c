/*
 * test_pdfdraw.c: unit tests of pdfdraw.c: PNGs of every colour type made here
 * with libpng (RGBA, RGB, gray, palette with tRNS, 16-bit), pHYs, the size cap,
 * damaged files, the ink colour, deflated samples, numbers whatever the locale,
 * and the Type3 font built from Liberation Serif (glyph paths, /ToUnicode).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pdfdraw.h"

#define FONT "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"

/* A w x h PNG of one colour (r g b a), written in `format` (a png_image format). */
static unsigned char *make_png(unsigned w, unsigned h, unsigned format, const unsigned char c[4],
    size_t *len)
{
	png_image pi;
	png_alloc_size_t n = 0;
	unsigned ch = PNG_IMAGE_PIXEL_CHANNELS(format);
	int linear = (format & PNG_FORMAT_FLAG_LINEAR) != 0;
	size_t comp = linear ? 2 : 1;
	unsigned char *px = malloc((size_t)w * h * ch * comp), *out;

	assert_non_null(px);
	for (size_t i = 0; i < (size_t)w * h; i++)
		for (unsigned k = 0; k < ch; k++) {
			unsigned v = (format & PNG_FORMAT_FLAG_COLOR) ? c[k] : (k == 0 ? c[0] : c[3]);
			if (linear)
				((uint16_t *)px)[i * ch + k] = (uint16_t)(v * 257);
			else
				px[i * ch + k] = (unsigned char)v;
		}
	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	pi.width = w;
	pi.height = h;
	pi.format = format;
	assert_true(png_image_write_get_memory_size(pi, n, 0, px, 0, NULL));
	out = malloc(n);
	assert_non_null(out);
	assert_true(png_image_write_to_memory(&pi, out, &n, 0, px, 0, NULL));
	free(px);
	*len = n;
	return out;
}

/* The same PNG with a pHYs chunk after IHDR. */
static unsigned char *add_phys(const unsigned char *png, size_t len, uint32_t ppm, size_t *outlen)
{
	unsigned char *o = malloc(len + 21);
	unsigned char chunk[21] = {0, 0, 0, 9, 'p', 'H', 'Y', 's'};

	assert_non_null(o);
	for (int i = 0; i < 2; i++) {
		chunk[8 + i * 4] = (unsigned char)(ppm >> 24);
		chunk[9 + i * 4] = (unsigned char)(ppm >> 16);
		chunk[10 + i * 4] = (unsigned char)(ppm >> 8);
		chunk[11 + i * 4] = (unsigned char)ppm;
	}
	chunk[16] = 1;
	uLong crc = crc32(0, chunk + 4, 13);
	chunk[17] = (unsigned char)(crc >> 24);
	chunk[18] = (unsigned char)(crc >> 16);
	chunk[19] = (unsigned char)(crc >> 8);
	chunk[20] = (unsigned char)crc;
	memcpy(o, png, 33); /* signature and IHDR */
	memcpy(o + 33, chunk, 21);
	memcpy(o + 54, png + 33, len - 33);
	*outlen = len + 21;
	return o;
}

static void test_rgba_blue(void **state)
{
	(void)state;
	const unsigned char blue[4] = {20, 40, 180, 255};
	size_t n, n2;
	unsigned char *png = make_png(30, 20, PNG_FORMAT_RGBA, blue, &n);
	unsigned char *withdpi = add_phys(png, n, 11811, &n2); /* 300 dpi */
	struct pdfdraw_image img;
	char err[256];

	assert_int_equal(pdfdraw_png_read(withdpi, n2, &img, err, sizeof(err)), 0);
	assert_int_equal(img.w, 30);
	assert_int_equal(img.h, 20);
	assert_non_null(img.alpha);
	assert_memory_equal(img.rgb + 3 * 7, blue, 3);
	assert_int_equal(img.alpha[5], 255);
	assert_true(img.dpi_x > 299.9 && img.dpi_x < 300.1 && img.dpi_y > 299.9);
	assert_int_equal(pdfdraw_ink_of(&img), PDFDRAW_INK_BLUE);
	pdfdraw_image_free(&img);
	assert_int_equal(pdfdraw_png_read(png, n, &img, err, sizeof(err)), 0);
	assert_true(img.dpi_x == 0 && img.dpi_y == 0);
	pdfdraw_image_free(&img);
	free(png);
	free(withdpi);
}

static void test_colour_types(void **state)
{
	(void)state;
	const unsigned char red[4] = {210, 20, 30, 255}, clear[4] = {210, 20, 30, 0},
			    gray[4] = {90, 90, 90, 200};
	struct {
		unsigned format;
		const unsigned char *c;
		int alpha;
		enum pdfdraw_ink ink;
	} cases[] = {
		{PNG_FORMAT_RGB, red, 0, PDFDRAW_INK_NONE},                      /* opaque */
		{PNG_FORMAT_RGBA, red, 1, PDFDRAW_INK_RED},
		{PNG_FORMAT_RGBA, clear, 1, PDFDRAW_INK_NONE},                   /* all transparent */
		{PNG_FORMAT_GA, gray, 1, PDFDRAW_INK_OTHER},                     /* gray + alpha */
		{PNG_FORMAT_GRAY, gray, 0, PDFDRAW_INK_NONE},
		{PNG_FORMAT_RGBA | PNG_FORMAT_FLAG_COLORMAP, red, 1, PDFDRAW_INK_RED}, /* palette, tRNS */
		{PNG_FORMAT_LINEAR_RGB_ALPHA, red, 1, PDFDRAW_INK_RED},          /* 16-bit */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		size_t n;
		struct pdfdraw_image img;
		char err[256];
		unsigned char *png;
		if (cases[i].format & PNG_FORMAT_FLAG_COLORMAP) {
			/* a colour-mapped image: one palette entry, indices all 0 */
			png_image pi;
			png_alloc_size_t sz = 0;
			unsigned char idx[16 * 16], cmap[4];
			memset(idx, 0, sizeof(idx));
			memcpy(cmap, red, 3);
			cmap[3] = 200; /* not opaque: libpng writes tRNS */
			memset(&pi, 0, sizeof(pi));
			pi.version = PNG_IMAGE_VERSION;
			pi.width = pi.height = 16;
			pi.format = cases[i].format;
			pi.colormap_entries = 1;
			assert_true(png_image_write_get_memory_size(pi, sz, 0, idx, 0, cmap));
			png = malloc(sz);
			assert_non_null(png);
			assert_true(png_image_write_to_memory(&pi, png, &sz, 0, idx, 0, cmap));
			n = sz;
		} else {
			png = make_png(16, 16, cases[i].format, cases[i].c, &n);
		}
		assert_int_equal(pdfdraw_png_read(png, n, &img, err, sizeof(err)), 0);
		print_message("case %zu: alpha %s, ink %d, rgb %d %d %d\n", i,
		    img.alpha ? "yes" : "no", pdfdraw_ink_of(&img), img.rgb[0], img.rgb[1], img.rgb[2]);
		assert_int_equal(img.alpha != NULL, cases[i].alpha);
		assert_int_equal(pdfdraw_ink_of(&img), cases[i].ink);
		if (cases[i].c == red && !(cases[i].format & PNG_FORMAT_FLAG_LINEAR))
			assert_memory_equal(img.rgb, red, 3);
		pdfdraw_image_free(&img);
		free(png);
	}
}

static void test_refusals(void **state)
{
	(void)state;
	const unsigned char c[4] = {0, 0, 0, 255};
	size_t n;
	struct pdfdraw_image img;
	char err[256];
	unsigned char *png = make_png(4097, 1, PNG_FORMAT_GRAY, c, &n);

	assert_int_equal(pdfdraw_png_read(png, n, &img, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "4097"));
	assert_null(img.rgb);
	free(png);
	png = make_png(64, 64, PNG_FORMAT_RGBA, c, &n);
	/* every truncation, and damage in the data */
	for (size_t cut = 0; cut < n; cut += 7) {
		if (pdfdraw_png_read(png, cut, &img, err, sizeof(err)) == 0)
			pdfdraw_image_free(&img);
	}
	for (size_t i = 8; i < n; i += 5) {
		unsigned char save = png[i];
		png[i] ^= 0x5A;
		if (pdfdraw_png_read(png, n, &img, err, sizeof(err)) == 0)
			pdfdraw_image_free(&img);
		png[i] = save;
	}
	assert_int_equal(pdfdraw_png_read("GIF89a....", 10, &img, err, sizeof(err)), -1);
	assert_int_equal(pdfdraw_png_read(NULL, 0, &img, err, sizeof(err)), -1);
	assert_int_equal(pdfdraw_ink_of(NULL), PDFDRAW_INK_NONE);
	free(png);
}

static void test_deflate(void **state)
{
	(void)state;
	const unsigned char c[4] = {1, 2, 3, 128};
	size_t n;
	struct pdfdraw_image img;
	struct pdfdraw_buf rgb = {0}, alpha = {0};
	char err[256];
	unsigned char *png = make_png(10, 10, PNG_FORMAT_RGBA, c, &n), back[300];
	uLongf bl = sizeof(back);

	assert_int_equal(pdfdraw_png_read(png, n, &img, err, sizeof(err)), 0);
	assert_int_equal(pdfdraw_image_deflate(&img, &rgb, &alpha, err, sizeof(err)), 0);
	assert_int_equal(uncompress(back, &bl, rgb.data, rgb.len), Z_OK);
	assert_int_equal(bl, 300);
	assert_memory_equal(back, img.rgb, 300);
	bl = sizeof(back);
	assert_int_equal(uncompress(back, &bl, alpha.data, alpha.len), Z_OK);
	assert_int_equal(bl, 100);
	assert_int_equal(back[0], 128);
	pdfdraw_buf_free(&rgb);
	pdfdraw_buf_free(&alpha);
	pdfdraw_image_free(&img);
	free(png);
}

static void test_numbers(void **state)
{
	(void)state;
	struct pdfdraw_buf b = {0};
	const char *loc = setlocale(LC_NUMERIC, "de_DE.UTF-8"); /* a decimal comma, if installed */

	pdfdraw_buf_num(&b, 12.5);
	pdfdraw_buf_str(&b, " ");
	pdfdraw_buf_num(&b, -0.00004);
	pdfdraw_buf_str(&b, " ");
	pdfdraw_buf_num(&b, 695.3);
	pdfdraw_buf_str(&b, " ");
	pdfdraw_buf_num(&b, -3.14159);
	pdfdraw_buf_str(&b, " ");
	pdfdraw_buf_num(&b, 1e300);
	pdfdraw_buf_add(&b, "", 1);
	assert_false(b.failed);
	assert_string_equal((char *)b.data, "12.5 0 695.3 -3.1416 0");
	pdfdraw_buf_free(&b);
	if (loc != NULL)
		setlocale(LC_NUMERIC, "C");
}

static void test_font(void **state)
{
	(void)state;
	struct pdfdraw_font *f;
	struct pdfdraw_buf codes = {0}, g = {0}, cmap = {0}, dict = {0};
	char err[256];

	assert_int_equal(pdfdraw_font_open(FONT, &f, err, sizeof(err)), 0);
	assert_int_equal(pdfdraw_font_encode(f, "Số 12", &codes, err, sizeof(err)), 0);
	assert_int_equal(codes.len, 5);
	assert_memory_equal(codes.data, "\x01\x02\x03\x04\x05", 5);
	assert_int_equal(pdfdraw_font_encode(f, "ngày 12", &codes, err, sizeof(err)), 0);
	assert_int_equal(codes.len, 12);
	assert_int_equal(codes.data[9], 3);  /* the space again */
	assert_int_equal(codes.data[10], 4); /* "1" again */
	assert_int_equal(pdfdraw_font_count(f), 9); /* S ố space 1 2, then n g à y */
	assert_int_equal(pdfdraw_font_glyph(f, 2, &g), 0);
	pdfdraw_buf_add(&g, "", 1);
	assert_non_null(strstr((char *)g.data, " d1\n"));
	assert_non_null(strstr((char *)g.data, " m\n"));
	assert_non_null(strstr((char *)g.data, " c\n"));
	assert_non_null(strstr((char *)g.data, "f\n"));
	assert_int_equal(pdfdraw_font_glyph(f, 99, &g), -1);
	pdfdraw_font_tounicode(f, &cmap);
	pdfdraw_buf_add(&cmap, "", 1);
	assert_non_null(strstr((char *)cmap.data, "<02> <1ED1>"));
	assert_non_null(strstr((char *)cmap.data, "<03> <0020>"));
	assert_non_null(strstr((char *)cmap.data, "9 beginbfchar"));
	pdfdraw_font_dict(f, 40, 39, &dict);
	pdfdraw_buf_add(&dict, "", 1);
	assert_non_null(strstr((char *)dict.data, "/Subtype /Type3"));
	assert_non_null(strstr((char *)dict.data, "/FontMatrix [0.000488281 0 0 0.000488281 0 0]"));
	assert_non_null(strstr((char *)dict.data, "/LastChar 9"));
	assert_non_null(strstr((char *)dict.data, "/g2 41 0 R"));
	assert_non_null(strstr((char *)dict.data, "/ToUnicode 39 0 R"));
	/* what it cannot draw */
	assert_int_equal(pdfdraw_font_encode(f, "\xe2\x98\x83", &codes, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "U+2603"));
	assert_int_equal(pdfdraw_font_encode(f, "\xc3", &codes, err, sizeof(err)), -1);
	assert_int_equal(pdfdraw_font_encode(f, "a\tb", &codes, err, sizeof(err)), -1);
	pdfdraw_buf_free(&codes);
	pdfdraw_buf_free(&g);
	pdfdraw_buf_free(&cmap);
	pdfdraw_buf_free(&dict);
	pdfdraw_font_close(f);
	assert_int_equal(pdfdraw_font_open("/nonexistent.ttf", &f, err, sizeof(err)), -1);
	assert_null(f);
	assert_int_equal(pdfdraw_font_open("/etc/passwd", &f, err, sizeof(err)), -1);
}

/* More than 255 different letters do not fit one Type3 font. */
static void test_font_full(void **state)
{
	(void)state;
	struct pdfdraw_font *f;
	struct pdfdraw_buf codes = {0};
	char err[256], text[4];
	int rc = 0;

	assert_int_equal(pdfdraw_font_open(FONT, &f, err, sizeof(err)), 0);
	for (unsigned cp = 0x100; cp < 0x100 + 400 && rc == 0; cp++) {
		text[0] = (char)(0xC0 | cp >> 6);
		text[1] = (char)(0x80 | (cp & 0x3F));
		text[2] = '\0';
		rc = pdfdraw_font_encode(f, text, &codes, err, sizeof(err));
	}
	assert_int_equal(rc, -1);
	assert_true(pdfdraw_font_count(f) <= 255);
	pdfdraw_buf_free(&codes);
	pdfdraw_font_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rgba_blue),
		cmocka_unit_test(test_colour_types),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_deflate),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_font),
		cmocka_unit_test(test_font_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
