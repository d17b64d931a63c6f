/* pdfdraw.h: what a PDF update draws: PNG images and text glyphs (see pdfdraw.c). */
#ifndef VANTHU_PDFDRAW_H
#define VANTHU_PDFDRAW_H

#include <stddef.h>

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

#endif
