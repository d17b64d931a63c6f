/* convert.h: DOCX to PDF by LibreOffice kept warm in a helper process (see convert.c). */
#ifndef VANTHU_CONVERT_H
#define VANTHU_CONVERT_H

#include <stddef.h>
#include <sys/types.h>

struct converter;

/* Where the helper and LibreOffice are; NULL members take the defaults named. */
struct convert_spec {
	const char *helper;   /* the vanthu-convert program; default: beside vanthud, else LIBEXECDIR */
	const char *office;   /* LibreOffice's program folder; default /usr/lib/libreoffice/program */
	const char *profile;  /* a folder of vanthud's own for LibreOffice's user profile (made 0700) */
	int timeout_ms;       /* one conversion's limit (the helper is restarted after it); 0: 120000 */
	unsigned recycle;     /* a fresh helper after this many conversions (LibreOffice's caches
	                       * grow); 0: 256 */
};

/*
 * Starts the helper, which loads LibreOffice once and then converts on
 * request. Returns 0, or -1 with err (English) when it cannot start or does
 * not say it is ready.
 */
int convert_start(const struct convert_spec *spec, struct converter **out, char *err,
    size_t errlen);
/*
 * Converts the DOCX at docx into a PDF at pdf (PDF/A-2b, every font
 * embedded, Word bookmarks as named destinations), blocking; safe to call
 * from any thread (one conversion at a time). A helper that died or hung is
 * restarted and the conversion tried once more. 0 or -1 with err.
 */
int convert_docx_pdf(struct converter *c, const char *docx, const char *pdf, char *err,
    size_t errlen);
/* The helper's pid now (0 when none runs), to report its memory apart from vanthud's. */
pid_t convert_pid(struct converter *c);
/* Stops the helper and frees c. NULL is a no-op. */
void convert_stop(struct converter *c);

#endif
