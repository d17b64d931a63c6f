/*
 * bench_esign.c: the organisation's signing step of `issue` alone, N times in
 * one process, with the modules vanthud uses (make bench).
 *   bench_esign LEADER.pdf MODULE TOKEN KEY PIN-FILE SEAL.png TRUST.pem [N] [OUT.pdf]
 * LEADER.pdf is a PDF the leader signed in vanthud (spool/signing/ID-rN.signed.pdf).
 * Each round does what esign_seal does between reading that file and writing
 * the result: the leader's signature checked (pdf_signatures, cms_verify_detached),
 * the four stamps placed at their named destinations, pdf_prepare, the digest,
 * cms_signed_attrs, p11_sign_sha256 on the token (its session opened once, as
 * vanthud keeps it), cms_assemble and pdf_embed. The file is read and the
 * token opened before the clock starts; nothing is written until the end
 * (OUT.pdf: the last round's result, for pdfsig to check).
 * Prints one line per part: "PART: N rounds, median M ms, p99 P ms, max X ms"
 * for verify, prepare, cms (digest and signed attributes), token, assemble
 * (CMS and embed), step (prepare + cms + token + assemble: the CMS and the
 * incremental update) and all (verify + step).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cms.h"
#include "p11.h"
#include "pdf.h"
#include "pdfdraw.h"

#define MAX_FILE (64L * 1024 * 1024)
#define NPARTS 7

static const char *const part_names[NPARTS] = { "verify", "prepare", "cms", "token",
	"assemble", "step", "all" };
static const char *const dest_names[4] = { "vanthuSo", "vanthuNgay", "vanthuThang",
	"vanthuNam" };

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int read_file(const char *path, unsigned char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;
	int rc = -1;

	*out = NULL;
	if (f == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > MAX_FILE ||
	    fseek(f, 0, SEEK_SET) != 0 || (*out = malloc((size_t)n + 1)) == NULL)
		goto out;
	if (fread(*out, 1, (size_t)n, f) != (size_t)n) {
		free(*out);
		*out = NULL;
		goto out;
	}
	(*out)[n] = '\0';
	*len = (size_t)n;
	rc = 0;
out:
	fclose(f);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *name, double *t, long n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	double med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	long i99 = (long)(n * 0.99) - 1;

	if (i99 < 0)
		i99 = 0;
	printf("%s: %ld rounds, median %.3f ms, p99 %.3f ms, max %.3f ms\n", name, n, med, t[i99],
	    t[n - 1]);
}

/* One round; t[] gets each part's time. out: the signed file (owned by the caller). */
static int one_round(const unsigned char *pdf, size_t len, const struct cms_trust *trust,
    struct p11 *tok, const unsigned char *cert, size_t certlen,
    const struct pdfdraw_image *seal, double seal_pt, const char *font, double t[NPARTS],
    struct pdf_prepared *pp, char *err, size_t errlen)
{
	struct pdf_sig *sigs = NULL;
	size_t nsigs = 0, siglen = 0, cmslen = 0;
	struct cms_verdict v;
	struct cms_part parts[2];
	struct pdf_stamp stamps[4];
	struct pdf_sig_spec spec;
	static const char *const text[4] = { "01", "04", "12", "2026" };
	unsigned char digest[32], tbs[32], *sig = NULL, *cms = NULL;
	double t0, t1, t2, t3, t4, t5;
	int rc = -1;

	t0 = now_ms();
	if (pdf_signatures(pdf, len, &sigs, &nsigs, err, errlen) != PDF_OK)
		goto out;
	if (nsigs != 1 || !sigs[0].whole) {
		snprintf(err, errlen, "the leader's PDF holds %zu signatures, not one over the whole "
		    "file", nsigs);
		goto out;
	}
	parts[0].data = pdf + sigs[0].range[0];
	parts[0].len = (size_t)sigs[0].range[1];
	parts[1].data = pdf + sigs[0].range[2];
	parts[1].len = (size_t)sigs[0].range[3];
	memset(&v, 0, sizeof(v));
	if (cms_verify_detached(trust, sigs[0].cms, sigs[0].cmslen, parts, 2, sigs[0].when, &v, err,
	        errlen) != CMS_OK) {
		snprintf(err, errlen, "the leader's signature does not verify: %s", v.reason);
		goto out;
	}
	t1 = now_ms();
	for (int i = 0; i < 4; i++) {
		struct pdf_point p;
		if (pdf_named_dest(pdf, len, dest_names[i], &p, err, errlen) != PDF_OK)
			goto out;
		stamps[i].page = p.page;
		stamps[i].size = i == 0 ? 13 : 14;
		stamps[i].x = p.x + (i == 0 ? 0 : 0.25 * stamps[i].size);
		stamps[i].y = p.y - 0.891 * stamps[i].size - 0.6;
		stamps[i].text = text[i];
		stamps[i].oblique = i > 0;
	}
	const double *r = sigs[0].rect;
	double dh = seal_pt * seal->h / (seal->w ? seal->w : 1), cy = (r[1] + r[3]) / 2;
	memset(&spec, 0, sizeof(spec));
	spec.field = "Cơ quan ban hành ký";
	spec.page = sigs[0].page;
	spec.rect[2] = r[0] + (r[2] - r[0]) / 3;
	spec.rect[0] = spec.rect[2] - seal_pt;
	spec.rect[1] = cy - dh / 2;
	spec.rect[3] = cy + dh / 2;
	spec.image = seal;
	spec.stamps = stamps;
	spec.nstamps = 4;
	spec.font = font;
	spec.name = "Ủy ban nhân dân xã Thử Nghiệm";
	spec.reason = "Phát hành";
	spec.location = "Bà Rịa - Vũng Tàu";
	spec.when = time(NULL);
	/* what esign's org_sign reserves: the SignedData's own length (no chain here) */
	if (cms_reserve(cert, certlen, NULL, NULL, 0, &spec.reserve, err, errlen) != CMS_OK)
		goto out;
	if (pdf_prepare(pdf, len, &spec, pp, err, errlen) != PDF_OK)
		goto out;
	t2 = now_ms();
	if (pdf_prepared_digest(pp, digest) != 0 ||
	    cms_signed_attrs(cert, certlen, digest, tbs, err, errlen) != CMS_OK)
		goto out;
	t3 = now_ms();
	if (p11_sign_sha256(tok, tbs, &sig, &siglen, err, errlen) != P11_OK)
		goto out;
	t4 = now_ms();
	if (cms_assemble(cert, certlen, NULL, NULL, 0, digest, sig, siglen, &cms, &cmslen, err,
	        errlen) != CMS_OK ||
	    pdf_embed(pp, cms, cmslen, err, errlen) != PDF_OK)
		goto out;
	t5 = now_ms();
	t[0] = t1 - t0;
	t[1] = t2 - t1;
	t[2] = t3 - t2;
	t[3] = t4 - t3;
	t[4] = t5 - t4;
	t[5] = t5 - t1;
	t[6] = t5 - t0;
	rc = 0;
out:
	free(cms);
	free(sig);
	pdf_signatures_free(sigs, nsigs);
	return rc;
}

int main(int argc, char **argv)
{
	struct cms_trust *trust = NULL;
	struct p11 *tok = NULL;
	struct pdfdraw_image seal;
	struct p11_spec spec;
	unsigned char *pdf = NULL, *png = NULL, *pin = NULL, *cert = NULL;
	size_t len = 0, pnglen = 0, pinlen = 0, certlen = 0;
	double *t[NPARTS] = { NULL };
	char err[512];
	const char *font = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf";
	long n;
	int rc = 1;

	memset(&seal, 0, sizeof(seal));
	if (argc < 8 || argc > 10) {
		fprintf(stderr, "usage: bench_esign LEADER.pdf MODULE TOKEN KEY PIN-FILE SEAL.png "
		    "TRUST.pem [N] [OUT.pdf]\n");
		return 2;
	}
	n = argc > 8 ? strtol(argv[8], NULL, 10) : 200;
	if (n < 1 || n > 1000000) {
		fprintf(stderr, "bench_esign: N must be 1 to 1000000\n");
		return 2;
	}
	for (int i = 0; i < NPARTS; i++)
		if ((t[i] = calloc((size_t)n, sizeof(double))) == NULL) {
			fprintf(stderr, "bench_esign: out of memory\n");
			goto out;
		}
	if (read_file(argv[1], &pdf, &len) != 0 || read_file(argv[6], &png, &pnglen) != 0 ||
	    read_file(argv[5], &pin, &pinlen) != 0) {
		fprintf(stderr, "bench_esign: cannot read the PDF, the seal or the PIN file\n");
		goto out;
	}
	while (pinlen > 0 && (pin[pinlen - 1] == '\n' || pin[pinlen - 1] == '\r'))
		pin[--pinlen] = '\0';
	if (pdfdraw_png_read(png, pnglen, &seal, err, sizeof(err)) != 0 ||
	    cms_trust_load(argv[7], &trust, err, sizeof(err)) != CMS_OK) {
		fprintf(stderr, "bench_esign: %s\n", err);
		goto out;
	}
	memset(&spec, 0, sizeof(spec));
	spec.module = argv[2];
	spec.token = argv[3];
	spec.key_label = argv[4];
	spec.pin = (const char *)pin;
	if (p11_open(&spec, &tok, err, sizeof(err)) != P11_OK ||
	    p11_certificate(tok, &cert, &certlen, err, sizeof(err)) != P11_OK) {
		fprintf(stderr, "bench_esign: %s\n", err);
		goto out;
	}
	/* one round before the clock, as vanthud has signed before (caches, the font's file) */
	for (long i = -1; i < n; i++) {
		struct pdf_prepared pp = { 0 };
		double one[NPARTS];
		if (one_round(pdf, len, trust, tok, cert, certlen, &seal, 36 * 72.0 / 25.4, font, one,
		        &pp, err, sizeof(err)) != 0) {
			fprintf(stderr, "bench_esign: round %ld: %s\n", i, err);
			pdf_prepared_free(&pp);
			goto out;
		}
		if (i >= 0)
			for (int k = 0; k < NPARTS; k++)
				t[k][i] = one[k];
		if (i == n - 1 && argc > 9) {
			FILE *f = fopen(argv[9], "wb");
			if (f == NULL || fwrite(pp.buf, 1, pp.len, f) != pp.len || fclose(f) != 0) {
				fprintf(stderr, "bench_esign: cannot write %s\n", argv[9]);
				pdf_prepared_free(&pp);
				goto out;
			}
		}
		pdf_prepared_free(&pp);
	}
	printf("input: %zu bytes\n", len);
	for (int k = 0; k < NPARTS; k++)
		report(part_names[k], t[k], n);
	rc = 0;
out:
	for (int i = 0; i < NPARTS; i++)
		free(t[i]);
	p11_close(tok);
	cms_trust_free(trust);
	pdfdraw_image_free(&seal);
	if (pin)
		memset(pin, 0, pinlen);
	free(pin);
	free(png);
	free(pdf);
	free(cert);
	return rc;
}
