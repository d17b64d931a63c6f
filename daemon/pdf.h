/* pdf.h: reading PDFs (libqpdf) and signing them in incremental updates (see pdf.c). */
#ifndef VANTHU_PDF_H
#define VANTHU_PDF_H

#include <stddef.h>
#include <time.h>

#include "pdfdraw.h"

enum pdf_rc {
	PDF_OK = 0,
	PDF_ERR = -1,       /* not a PDF we can read, or no memory; err says which */
	PDF_NOTFOUND = -2,  /* pdf_named_dest: no such destination */
	PDF_TOOBIG = -3,    /* pdf_embed: the CMS is larger than the space reserved */
};

/* A point on a page, in that page's default user space (points, origin bottom left). */
struct pdf_point {
	int page;  /* 0-based */
	double x, y;
};

/*
 * A named destination (/Dests of the catalog or the /Names /Dests tree;
 * LibreOffice writes a Word bookmark there when asked): its page and its
 * /XYZ left and top.
 */
int pdf_named_dest(const void *pdf, size_t len, const char *name, struct pdf_point *out,
    char *err, size_t errlen);
/* A page's MediaBox (llx lly urx ury) and the number of pages. */
int pdf_page_box(const void *pdf, size_t len, int page, double box[4], int *npages,
    char *err, size_t errlen);

/* Text drawn onto a page: UTF-8, its baseline starting at (x, y), in black. */
struct pdf_stamp {
	int page;
	double x, y;
	double size;       /* points */
	const char *text;  /* UTF-8, NFC */
	int oblique;       /* slanted like the italic it stands in (a shear of 12 degrees) */
};

/* One signature to add, with what the same update draws. */
struct pdf_sig_spec {
	const char *field;        /* the field's name (/T), UTF-8: "Lãnh đạo ký" */
	int page;                 /* where the widget is, 0-based */
	double rect[4];           /* llx lly urx ury; all zero: an invisible signature */
	const struct pdfdraw_image *image;  /* the widget's appearance, fitted to rect; may be NULL */
	const struct pdf_stamp *stamps;     /* drawn onto their pages in the same update; may be NULL */
	size_t nstamps;
	const char *font;         /* a TrueType file holding every stamped letter */
	const char *name;         /* /Name, UTF-8; may be NULL */
	const char *reason;       /* /Reason; may be NULL */
	const char *location;     /* /Location; may be NULL */
	time_t when;              /* /M, written in Vietnam time: D:YYYYMMDDHHmmSS+07'00' */
	size_t reserve;           /* bytes kept for the CMS DER (the hex takes twice as many) */
};

/* A PDF with one more revision whose signature is still to be written. */
struct pdf_prepared {
	unsigned char *buf;  /* owned: the whole file */
	size_t len;
	size_t range[4];     /* the /ByteRange written: [0 a b c]; the gap is the /Contents hex */
};

/*
 * Appends to `in` one incremental update: the stamps (a content stream
 * added to each page they are on), a signature field with its widget on
 * `page` (its appearance the image, a Form XObject), the field in the
 * AcroForm (/SigFlags 3), and the signature dictionary (/Filter
 * /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached, /ByteRange, /Contents of
 * `reserve` zero bytes, /M, /Name, /Reason, /Location). Earlier revisions are
 * kept byte for byte, so their signatures stay valid. Only classic
 * cross-reference tables are appended to (LibreOffice's; a file with
 * cross-reference streams is refused). 0 or PDF_ERR.
 */
int pdf_prepare(const void *in, size_t inlen, const struct pdf_sig_spec *spec,
    struct pdf_prepared *out, char *err, size_t errlen);
/* The SHA-256 of the bytes the signature covers (the two ranges). */
int pdf_prepared_digest(const struct pdf_prepared *p, unsigned char sha256[32]);
/* Writes the CMS into the reserved /Contents (hex, zero padded). 0, PDF_TOOBIG or PDF_ERR. */
int pdf_embed(struct pdf_prepared *p, const unsigned char *cms, size_t cmslen, char *err,
    size_t errlen);
void pdf_prepared_free(struct pdf_prepared *p);

/* A signature found in a PDF (any signer's, any tool's). */
struct pdf_sig {
	char field[256];        /* the field's /T, UTF-8 */
	char subfilter[64];     /* "ETSI.CAdES.detached", "adbe.pkcs7.detached", ... */
	char name[256];         /* /Name, UTF-8, "" if none */
	char reason[256];
	char location[256];
	char m[64];             /* /M as written, "" if none */
	time_t when;            /* /M as a time (0 if none or unreadable) */
	long long range[4];     /* /ByteRange as written */
	unsigned char *cms;     /* owned: /Contents, trailing zero padding removed */
	size_t cmslen;
	int page;               /* the widget's page, -1 if none */
	double rect[4];
	int visible;            /* the widget has a non-empty rect and an appearance */
	int range_ok;           /* the ranges start at 0, their gap is exactly /Contents, and they
	                         * end where a revision ends (%%EOF) */
	int whole;              /* range_ok and they end at the end of the file */
	size_t revision_end;    /* where the signed revision ends (the end of the second range) */
};

/* Every signature field with a value, in the order their revisions were written. */
int pdf_signatures(const void *pdf, size_t len, struct pdf_sig **out, size_t *n, char *err,
    size_t errlen);
void pdf_signatures_free(struct pdf_sig *s, size_t n);

#endif
