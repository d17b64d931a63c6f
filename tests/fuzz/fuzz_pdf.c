/*
 * fuzz_pdf.c: libFuzzer target owning pdf.c's reading of PDFs from anywhere:
 * pdf_signatures (the AcroForm walk, /ByteRange and /Contents byte checks,
 * text decoding), pdf_named_dest and pdf_page_box, all through libqpdf with
 * recovery on. The input is a PDF file. Nothing may be printed, and what is
 * reported must be consistent: a whole signature is range_ok, a range_ok
 * one ends inside the file and its CMS is no longer than the /Contents hex.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pdf_sig *s = NULL;
	struct pdf_point pt;
	double box[4];
	size_t n = 0;
	int np = 0;
	char err[512];

	if (pdf_signatures(data, size, &s, &n, err, sizeof(err)) == PDF_OK) {
		for (size_t i = 0; i < n; i++) {
			const struct pdf_sig *g = &s[i];
			if (g->whole && !g->range_ok)
				abort();
			if (g->range_ok && (g->revision_end > size || g->range[0] != 0 ||
			    (size_t)(g->range[2] - g->range[1] - 2) / 2 < g->cmslen))
				abort();
			if (memchr(g->field, '\0', sizeof(g->field)) == NULL ||
			    memchr(g->m, '\0', sizeof(g->m)) == NULL)
				abort();
			if (i > 0 && s[i - 1].revision_end > g->revision_end)
				abort();
		}
		pdf_signatures_free(s, n);
	} else if (err[0] == '\0') {
		abort();
	}
	(void)pdf_named_dest(data, size, "vanthuSo", &pt, err, sizeof(err));
	if (pdf_page_box(data, size, 0, box, &np, err, sizeof(err)) == PDF_OK && np < 1)
		abort();
	return 0;
}
