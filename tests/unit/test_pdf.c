/*
 * test_pdf.c: unit tests of pdf.c on LibreOffice's own output
 * (tests/unit/data/pdf/lo.pdf, made by make-fixtures.sh): named destinations,
 * two incremental signatures (the leader's with a blue image, then the
 * organisation's with a red seal and the stamped number and date) with a
 * throw-away self-signed key, checked by independent readers (pdfsig,
 * qpdf --check, pdftotext, pdftoppm, OpenSSL's CMS_verify), tampering, and
 * refusals of what we do not sign or cannot read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pdf.h"
#include "pdfdraw.h"

#define FONT "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
#define WHEN 1796376330L /* 2026-12-04 09:25:30 UTC: 16:25:30 in Hà Nội */

struct fx {
	char dir[64];
	unsigned char *lo;     /* owned: the LibreOffice fixture */
	size_t lolen;
	EVP_PKEY *key;         /* owned */
	X509 *cert;            /* owned */
	unsigned char *one;    /* owned: signed once (the leader) */
	size_t onelen;
	unsigned char *two;    /* owned: signed twice (then the organisation) */
	size_t twolen;
};

/* ---- helpers ---- */

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		b = malloc((size_t)n);
		if (b != NULL && fread(b, 1, (size_t)n, f) != (size_t)n) {
			free(b);
			b = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return b;
}

static void spit(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* A command's standard output (and error), NUL-terminated; its exit status in *status. */
static char *run(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	char *out = NULL;
	size_t len = 0, cap = 0;
	char chunk[4096];
	size_t n;

	assert_non_null(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		memcpy(out + len, chunk, n);
		len += n;
	}
	if (out == NULL)
		out = calloc(1, 1);
	out[len] = '\0';
	int st = pclose(p);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

static const unsigned char *find(const unsigned char *b, size_t len, const char *s, size_t from)
{
	size_t n = strlen(s);
	for (size_t i = from; i + n <= len; i++)
		if (memcmp(b + i, s, n) == 0)
			return b + i;
	return NULL;
}

/* A transparent PNG: a blue scribble (or a red ring), made with libpng. */
static unsigned char *make_png(int red, size_t *len)
{
	const unsigned w = 240, h = 120;
	unsigned char *px = calloc((size_t)w * h, 4);
	png_image pi;
	png_alloc_size_t n = 0;

	assert_non_null(px);
	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < w; x++) {
			double dx = (x - w / 2.0) / (w / 2.0), dy = (y - h / 2.0) / (h / 2.0);
			double d = dx * dx + dy * dy;
			int ink = red ? (d > 0.6 && d < 0.95) : (d < 0.9 && ((x + y * 3) % 23 < 6));
			if (!ink)
				continue;
			unsigned char *p = px + ((size_t)y * w + x) * 4;
			p[0] = red ? 220 : 20;
			p[1] = red ? 30 : 50;
			p[2] = red ? 40 : 190;
			p[3] = 255;
		}
	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	pi.width = w;
	pi.height = h;
	pi.format = PNG_FORMAT_RGBA;
	assert_true(png_image_write_get_memory_size(pi, n, 0, px, 0, NULL));
	unsigned char *out = malloc(n);
	assert_non_null(out);
	assert_true(png_image_write_to_memory(&pi, out, &n, 0, px, 0, NULL));
	free(px);
	*len = n;
	return out;
}

static void load_png(int red, struct pdfdraw_image *img)
{
	size_t n;
	unsigned char *png = make_png(red, &n);
	char err[256];

	assert_int_equal(pdfdraw_png_read(png, n, img, err, sizeof(err)), 0);
	free(png);
	assert_non_null(img->alpha);
}

/* A detached CMS over the two ranges, as a token would make it. */
static unsigned char *sign_ranges(const struct fx *f, const unsigned char *buf, const size_t r[4],
    size_t *len)
{
	unsigned char *data = malloc(r[1] + r[3]), *der = NULL;
	BIO *in;
	CMS_ContentInfo *cms;
	int n;

	assert_non_null(data);
	memcpy(data, buf, r[1]);
	memcpy(data + r[1], buf + r[2], r[3]);
	in = BIO_new_mem_buf(data, (int)(r[1] + r[3]));
	cms = CMS_sign(f->cert, f->key, NULL, in, CMS_DETACHED | CMS_BINARY);
	assert_non_null(cms);
	n = i2d_CMS_ContentInfo(cms, &der);
	assert_true(n > 0);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	free(data);
	*len = (size_t)n;
	return der;
}

/* 1 when the CMS's messageDigest and signature match the bytes of the ranges. */
static int cms_matches(const unsigned char *buf, size_t len, const struct pdf_sig *s)
{
	const unsigned char *p = s->cms;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)s->cmslen);
	const long long *r = s->range;
	int ok;

	assert_non_null(cms);
	assert_true(r[2] + r[3] <= (long long)len);
	unsigned char *data = malloc((size_t)(r[1] + r[3]));
	assert_non_null(data);
	memcpy(data, buf, (size_t)r[1]);
	memcpy(data + r[1], buf + r[2], (size_t)r[3]);
	BIO *in = BIO_new_mem_buf(data, (int)(r[1] + r[3]));
	ok = CMS_verify(cms, NULL, NULL, in, NULL, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) == 1;
	BIO_free(in);
	free(data);
	CMS_ContentInfo_free(cms);
	return ok;
}

static void make_key(struct fx *f)
{
	X509_NAME *nm;

	f->key = EVP_RSA_gen(2048);
	assert_non_null(f->key);
	f->cert = X509_new();
	assert_non_null(f->cert);
	X509_set_version(f->cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(f->cert), 12);
	X509_gmtime_adj(X509_getm_notBefore(f->cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(f->cert), 3600L * 24 * 365 * 5);
	X509_set_pubkey(f->cert, f->key);
	nm = X509_get_subject_name(f->cert);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)"Nguyễn Văn An",
	    -1, -1, 0);
	X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_UTF8,
	    (const unsigned char *)"Ủy ban nhân dân tỉnh (thử)", -1, -1, 0);
	X509_set_issuer_name(f->cert, nm);
	assert_true(X509_sign(f->cert, f->key, EVP_sha256()) > 0);
}

static const char *fixture_path(char *buf, size_t len)
{
	const char *src = getenv("VANTHU_SRCDIR");
	struct stat st;

	if (src != NULL && *src != '\0') {
		snprintf(buf, len, "%s/tests/unit/data/pdf/lo.pdf", src);
		if (stat(buf, &st) == 0)
			return buf;
	}
	snprintf(buf, len, "tests/unit/data/pdf/lo.pdf");
	return buf;
}

/* Signs `in` per spec with the fixture's key; the signed file is returned. */
static unsigned char *sign_with(struct fx *f, const unsigned char *in, size_t inlen,
    const struct pdf_sig_spec *spec, size_t *outlen)
{
	struct pdf_prepared p;
	char err[512] = "";
	unsigned char md[32];
	size_t cmslen;

	int rc = pdf_prepare(in, inlen, spec, &p, err, sizeof(err));
	if (rc != 0)
		print_error("pdf_prepare: %s\n", err);
	assert_int_equal(rc, PDF_OK);
	assert_int_equal(memcmp(p.buf, in, inlen), 0); /* earlier revisions kept byte for byte */
	assert_int_equal(pdf_prepared_digest(&p, md), PDF_OK);
	unsigned char *cms = sign_ranges(f, p.buf, p.range, &cmslen);
	assert_int_equal(pdf_embed(&p, cms, cmslen, err, sizeof(err)), PDF_OK);
	OPENSSL_free(cms);
	*outlen = p.len;
	return p.buf; /* the caller owns it now */
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[4096];
	struct pdfdraw_image blue, red;
	struct pdf_point so, ngay;
	char err[256];

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/vanthu-test-pdf-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->lo = slurp(fixture_path(path, sizeof(path)), &f->lolen);
	if (f->lo == NULL) {
		fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	make_key(f);
	load_png(0, &blue);
	load_png(1, &red);
	if (pdf_named_dest(f->lo, f->lolen, "vanthuSo", &so, err, sizeof(err)) != 0 ||
	    pdf_named_dest(f->lo, f->lolen, "vanthuNgay", &ngay, err, sizeof(err)) != 0) {
		fprintf(stderr, "named destinations: %s\n", err);
		return -1;
	}

	/* the leader, on page 1, with the blue signature */
	struct pdf_sig_spec s1 = {
		.field = "Lãnh đạo ký", .page = 0, .rect = {300, 120, 480, 210}, .image = &blue,
		.name = "Nguyễn Văn An", .reason = "Ký phê duyệt", .location = "Hà Nội",
		.when = WHEN, .reserve = 8192,
	};
	f->one = sign_with(f, f->lo, f->lolen, &s1, &f->onelen);

	/* the organisation: the seal over the left third, the number and the date */
	struct pdf_stamp st[2] = {
		{.page = so.page, .x = so.x + 40, .y = so.y - 14, .size = 13, .text = "Số 12"},
		{.page = ngay.page, .x = ngay.x + 150, .y = ngay.y - 14, .size = 13,
		    .text = "ngày 04 tháng 12 năm 2026", .oblique = 1},
	};
	struct pdf_sig_spec s2 = {
		.field = "Văn thư đóng dấu", .page = 0, .rect = {260, 100, 380, 230}, .image = &red,
		.stamps = st, .nstamps = 2, .font = FONT, .name = "Ủy ban nhân dân tỉnh",
		.reason = "Đóng dấu phát hành", .location = "Hà Nội", .when = WHEN + 3600,
		.reserve = 8192,
	};
	f->two = sign_with(f, f->one, f->onelen, &s2, &f->twolen);
	pdfdraw_image_free(&blue);
	pdfdraw_image_free(&red);
	snprintf(path, sizeof(path), "%s/one.pdf", f->dir);
	spit(path, f->one, f->onelen);
	snprintf(path, sizeof(path), "%s/two.pdf", f->dir);
	spit(path, f->two, f->twolen);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[256];
	int st;

	if (f == NULL)
		return 0;
	if (getenv("VANTHU_KEEP") != NULL) {
		fprintf(stderr, "kept %s\n", f->dir);
	} else {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		free(run(cmd, &st));
	}
	free(f->lo);
	free(f->one);
	free(f->two);
	EVP_PKEY_free(f->key);
	X509_free(f->cert);
	free(f);
	return 0;
}

/* ---- tests ---- */

static void test_named_dest(void **state)
{
	struct fx *f = *state;
	struct pdf_point p;
	double box[4];
	int n = 0;
	char err[256];

	assert_int_equal(pdf_named_dest(f->lo, f->lolen, "vanthuSo", &p, err, sizeof(err)), PDF_OK);
	assert_int_equal(p.page, 0);
	assert_true(p.x > 80 && p.x < 100);
	assert_true(p.y > 600 && p.y < 842);
	assert_int_equal(pdf_named_dest(f->lo, f->lolen, "vanthuNgay", &p, err, sizeof(err)),
	    PDF_OK);
	assert_true(p.page >= 1);
	assert_int_equal(pdf_named_dest(f->lo, f->lolen, "vanthuKhong", &p, err, sizeof(err)),
	    PDF_NOTFOUND);
	assert_int_equal(pdf_page_box(f->lo, f->lolen, 0, box, &n, err, sizeof(err)), PDF_OK);
	assert_true(n >= 2);
	assert_true(box[0] == 0 && box[1] == 0 && box[2] == 612 && box[3] == 792); /* python-docx: Letter */
	assert_int_equal(pdf_page_box(f->lo, f->lolen, n, box, &n, err, sizeof(err)), PDF_ERR);
	/* the signed file still has them (the catalog's new version keeps /Dests) */
	assert_int_equal(pdf_named_dest(f->two, f->twolen, "vanthuSo", &p, err, sizeof(err)),
	    PDF_OK);
	assert_int_equal(p.page, 0);
}

/* A /Names /Dests tree with /Kids and a dictionary value, written by hand. */
static void test_named_dest_tree(void **state)
{
	(void)state;
	char pdf[4096];
	size_t off[8], len = 0;
	struct pdf_point p;
	char err[256];
	const char *objs[] = {
		"<< /Type /Catalog /Pages 2 0 R /Names << /Dests 4 0 R >> >>",
		"<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 2 /MediaBox [0 0 500 700] >>",
		"<< /Type /Page /Parent 2 0 R >>",
		"<< /Kids [5 0 R] >>",
		"<< /Limits [(a) (z)] /Names [(alpha) [3 0 R /Fit] (beta) << /D [6 0 R /XYZ 12 34 0] >>] >>",
		"<< /Type /Page /Parent 2 0 R >>",
	};
	len += (size_t)snprintf(pdf + len, sizeof(pdf) - len, "%%PDF-1.7\n");
	for (int i = 0; i < 6; i++) {
		off[i] = len;
		len += (size_t)snprintf(pdf + len, sizeof(pdf) - len, "%d 0 obj\n%s\nendobj\n", i + 1,
		    objs[i]);
	}
	size_t x = len;
	len += (size_t)snprintf(pdf + len, sizeof(pdf) - len, "xref\n0 7\n0000000000 65535 f\r\n");
	for (int i = 0; i < 6; i++)
		len += (size_t)snprintf(pdf + len, sizeof(pdf) - len, "%010zu 00000 n\r\n", off[i]);
	len += (size_t)snprintf(pdf + len, sizeof(pdf) - len,
	    "trailer\n<< /Size 7 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", x);
	assert_int_equal(pdf_named_dest(pdf, len, "beta", &p, err, sizeof(err)), PDF_OK);
	assert_int_equal(p.page, 1);
	assert_true(p.x == 12 && p.y == 34);
	assert_int_equal(pdf_named_dest(pdf, len, "alpha", &p, err, sizeof(err)), PDF_OK);
	assert_int_equal(p.page, 0);
	assert_true(p.y == 700); /* /Fit: the top of the page */
	assert_int_equal(pdf_named_dest(pdf, len, "gamma", &p, err, sizeof(err)), PDF_NOTFOUND);

	/* and it can be signed: no /Info, no /ID, inherited everything */
	struct pdf_sig_spec s = {.field = "x", .page = 1, .when = WHEN};
	struct pdf_prepared pp;
	assert_int_equal(pdf_prepare(pdf, len, &s, &pp, err, sizeof(err)), PDF_OK);
	/* its field is read back on the second page of the tree (its widget's /P, by the page
	 * list: object number and generation) */
	struct pdf_sig *sigs;
	size_t nsigs;
	assert_int_equal(pdf_signatures(pp.buf, pp.len, &sigs, &nsigs, err, sizeof(err)), PDF_OK);
	assert_int_equal(nsigs, 1);
	assert_int_equal(sigs[0].page, 1);
	pdf_signatures_free(sigs, nsigs);
	char path[] = "/tmp/vanthu-test-pdf-tree-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	spit(path, pp.buf, pp.len);
	char cmd[256];
	int st;
	snprintf(cmd, sizeof(cmd), "qpdf --check '%s' 2>&1", path);
	char *out = run(cmd, &st);
	if (st != 0)
		print_error("%s\n", out);
	assert_int_equal(st, 0);
	free(out);
	unlink(path);
	pdf_prepared_free(&pp);
}

static void test_pdfsig_two_valid(void **state)
{
	struct fx *f = *state;
	char cmd[256];
	int st;

	snprintf(cmd, sizeof(cmd), "pdfsig '%s/two.pdf' 2>&1", f->dir);
	char *out = run(cmd, &st);
	fprintf(stdout, "pdfsig two.pdf:\n%s", out);
	assert_int_equal(count(out, "Signature #"), 2);
	assert_int_equal(count(out, "Signature Validation: Signature is Valid."), 2);
	assert_int_equal(count(out, "Total document signed"), 1);
	assert_int_equal(count(out, "Not total document signed"), 1);
	assert_non_null(strstr(out, "ETSI.CAdES.detached"));
	/* the last one is the one that covers the whole file */
	assert_true(strstr(out, "Not total document signed") < strstr(out, "Signature #2"));
	free(out);
	snprintf(cmd, sizeof(cmd), "pdfsig '%s/one.pdf' 2>&1", f->dir);
	out = run(cmd, &st);
	fprintf(stdout, "pdfsig one.pdf:\n%s", out);
	assert_int_equal(count(out, "Signature #"), 1);
	assert_int_equal(count(out, "Signature is Valid."), 1);
	assert_int_equal(count(out, "Total document signed"), 1);
	free(out);
}

static void test_qpdf_check(void **state)
{
	struct fx *f = *state;
	char cmd[256];
	int st;
	const char *files[] = {"one.pdf", "two.pdf"};

	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd), "qpdf --check '%s/%s' 2>&1", f->dir, files[i]);
		char *out = run(cmd, &st);
		if (st != 0 || strstr(out, "No syntax or stream encoding errors") == NULL ||
		    strstr(out, "WARNING") != NULL)
			print_error("%s: %s\n", files[i], out);
		assert_int_equal(st, 0);
		assert_null(strstr(out, "WARNING"));
		free(out);
	}
}

static void test_pdftotext_stamps(void **state)
{
	struct fx *f = *state;
	char cmd[256];
	int st;

	snprintf(cmd, sizeof(cmd), "pdftotext -enc UTF-8 '%s/two.pdf' - 2>&1", f->dir);
	char *out = run(cmd, &st);
	assert_int_equal(st, 0);
	if (strstr(out, "Số 12") == NULL || strstr(out, "ngày 04 tháng 12 năm 2026") == NULL)
		print_error("pdftotext:\n%s\n", out);
	assert_non_null(strstr(out, "Số 12"));
	assert_non_null(strstr(out, "ngày 04 tháng 12 năm 2026"));
	free(out);
	/* the upright stamp and the oblique one (sheared 12 degrees), as qpdf uncompresses them */
	snprintf(cmd, sizeof(cmd), "qpdf --qdf --object-streams=disable '%s/two.pdf' - | "
	    "grep -a -c -e ' Tf 1 0 0 1 ' -e ' Tf 1 0 0.2126 1 '", f->dir);
	out = run(cmd, &st);
	assert_int_equal(atoi(out), 2);
	free(out);
	snprintf(cmd, sizeof(cmd), "qpdf --qdf --object-streams=disable '%s/two.pdf' - | "
	    "grep -a -c -e ' Tf 1 0 0.2126 1 '", f->dir);
	out = run(cmd, &st);
	assert_int_equal(atoi(out), 1);
	free(out);
	/* the first revision alone does not have them */
	snprintf(cmd, sizeof(cmd), "pdftotext -enc UTF-8 '%s/one.pdf' - 2>&1", f->dir);
	out = run(cmd, &st);
	assert_null(strstr(out, "Số 12"));
	free(out);
}

/* The colour of the page-1 raster (72 dpi: one pixel a point) inside a rectangle. */
static void raster_counts(const char *ppm, const double rect[4], size_t *blue, size_t *red)
{
	size_t len;
	unsigned char *b = slurp(ppm, &len);
	int w, h, max, n = 0;

	assert_non_null(b);
	assert_int_equal(sscanf((char *)b, "P6 %d %d %d%n", &w, &h, &max, &n), 3);
	const unsigned char *px = b + n + 1;
	assert_true((size_t)(n + 1) + (size_t)w * h * 3 <= len);
	*blue = *red = 0;
	for (int y = (int)(h - rect[3]); y < (int)(h - rect[1]); y++)
		for (int x = (int)rect[0]; x < (int)rect[2]; x++) {
			if (x < 0 || y < 0 || x >= w || y >= h)
				continue;
			const unsigned char *p = px + ((size_t)y * w + x) * 3;
			if (p[2] > p[0] + 60 && p[2] > p[1] + 40)
				(*blue)++;
			if (p[0] > p[1] + 80 && p[0] > p[2] + 80)
				(*red)++;
		}
	free(b);
}

static void test_raster_ink(void **state)
{
	struct fx *f = *state;
	char cmd[512], ppm[128];
	int st;
	size_t blue, red;
	const double leader[4] = {300, 120, 480, 210}, outside[4] = {40, 40, 200, 100};

	snprintf(cmd, sizeof(cmd), "pdftoppm -r 72 -f 1 -l 1 '%s/two.pdf' '%s/page' 2>&1", f->dir,
	    f->dir);
	free(run(cmd, &st));
	assert_int_equal(st, 0);
	snprintf(ppm, sizeof(ppm), "%s/page-1.ppm", f->dir);
	struct stat sb;
	if (stat(ppm, &sb) != 0)
		snprintf(ppm, sizeof(ppm), "%s/page-01.ppm", f->dir);
	raster_counts(ppm, leader, &blue, &red);
	print_message("leader's rect: %zu blue, %zu red pixels\n", blue, red);
	assert_true(blue > 200);
	assert_true(red > 100); /* the seal covers its left third */
	raster_counts(ppm, outside, &blue, &red);
	assert_int_equal(blue + red, 0);
}

static void test_signatures_found(void **state)
{
	struct fx *f = *state;
	struct pdf_sig *s;
	size_t n;
	char err[256];

	assert_int_equal(pdf_signatures(f->two, f->twolen, &s, &n, err, sizeof(err)), PDF_OK);
	assert_int_equal(n, 2);
	assert_string_equal(s[0].field, "Lãnh đạo ký");
	assert_string_equal(s[1].field, "Văn thư đóng dấu");
	assert_string_equal(s[0].subfilter, "ETSI.CAdES.detached");
	assert_string_equal(s[0].name, "Nguyễn Văn An");
	assert_string_equal(s[0].reason, "Ký phê duyệt");
	assert_string_equal(s[1].location, "Hà Nội");
	assert_string_equal(s[0].m, "D:20261204162530+07'00'");
	assert_string_equal(s[1].m, "D:20261204172530+07'00'");
	assert_int_equal(s[0].when, WHEN);
	assert_true(s[0].range_ok && s[1].range_ok);
	assert_false(s[0].whole);
	assert_true(s[1].whole);
	assert_int_equal(s[0].revision_end, f->onelen);
	assert_int_equal(s[1].revision_end, f->twolen);
	assert_int_equal(s[0].page, 0);
	assert_true(s[0].visible && s[1].visible);
	assert_true(s[0].rect[0] == 300 && s[0].rect[3] == 210);
	assert_true(s[0].cmslen > 1000 && s[0].cmslen < 8192);
	assert_int_equal(s[0].cms[0], 0x30);
	assert_true(cms_matches(f->two, f->twolen, &s[0]));
	assert_true(cms_matches(f->two, f->twolen, &s[1]));
	pdf_signatures_free(s, n);

	/* the unsigned fixture has none; the once-signed file one, whole */
	assert_int_equal(pdf_signatures(f->lo, f->lolen, &s, &n, err, sizeof(err)), PDF_OK);
	assert_int_equal(n, 0);
	pdf_signatures_free(s, n);
	assert_int_equal(pdf_signatures(f->one, f->onelen, &s, &n, err, sizeof(err)), PDF_OK);
	assert_int_equal(n, 1);
	assert_true(s[0].whole);
	pdf_signatures_free(s, n);
}

/* Flips one byte at `at` and checks which signatures still match their bytes. */
static void tamper(struct fx *f, size_t at, int first_ok, int second_ok, const char *what)
{
	unsigned char *b = malloc(f->twolen);
	struct pdf_sig *s;
	size_t n;
	char err[256], path[128], cmd[256];
	int st;

	assert_non_null(b);
	memcpy(b, f->two, f->twolen);
	b[at] ^= 0x01;
	assert_int_equal(pdf_signatures(b, f->twolen, &s, &n, err, sizeof(err)), PDF_OK);
	assert_int_equal(n, 2);
	print_message("tampered %s (byte %zu): first %s, second %s\n", what, at,
	    cms_matches(b, f->twolen, &s[0]) ? "matches" : "fails",
	    cms_matches(b, f->twolen, &s[1]) ? "matches" : "fails");
	assert_int_equal(cms_matches(b, f->twolen, &s[0]), first_ok);
	assert_int_equal(cms_matches(b, f->twolen, &s[1]), second_ok);
	pdf_signatures_free(s, n);
	snprintf(path, sizeof(path), "%s/tampered.pdf", f->dir);
	spit(path, b, f->twolen);
	snprintf(cmd, sizeof(cmd), "pdfsig '%s' 2>&1", path);
	char *out = run(cmd, &st);
	assert_int_equal(count(out, "Signature is Valid."), (size_t)(first_ok + second_ok));
	free(out);
	free(b);
}

static void test_tamper(void **state)
{
	struct fx *f = *state;
	const unsigned char *p;

	/* inside the first revision: a byte of LibreOffice's first content stream */
	p = find(f->two, f->lolen, "stream\n", 0);
	assert_non_null(p);
	tamper(f, (size_t)(p - f->two) + 20, 0, 0, "the first revision");
	/* inside the stamp stream: only the organisation's signature breaks */
	p = find(f->two, f->twolen, "Q\nq /VtStamp", f->onelen);
	assert_non_null(p);
	tamper(f, (size_t)(p - f->two) + 5, 1, 0, "the stamp stream");
	/* inside the leader's image (written in the first update): both break */
	p = find(f->two, f->onelen, "/Subtype /Image", f->lolen);
	assert_non_null(p);
	p = find(f->two, f->onelen, "stream\n", (size_t)(p - f->two));
	assert_non_null(p);
	tamper(f, (size_t)(p - f->two) + 7 + 30, 0, 0, "the image");
}

static void test_refuse_xref_stream(void **state)
{
	struct fx *f = *state;
	char cmd[512], path[128], err[256] = "";
	int st;
	size_t len;
	struct pdf_prepared p;
	struct pdf_sig_spec s = {.field = "x", .page = 0, .when = WHEN};

	snprintf(path, sizeof(path), "%s/xrefstm.pdf", f->dir);
	snprintf(cmd, sizeof(cmd), "qpdf --object-streams=generate '%s/one.pdf' '%s' 2>&1", f->dir,
	    path);
	free(run(cmd, &st));
	assert_true(st == 0 || st == 3);
	unsigned char *b = slurp(path, &len);
	assert_non_null(b);
	assert_int_equal(pdf_prepare(b, len, &s, &p, err, sizeof(err)), PDF_ERR);
	assert_non_null(strstr(err, "stream"));
	assert_null(p.buf);
	/* it is still read */
	struct pdf_sig *sigs;
	size_t n;
	assert_int_equal(pdf_signatures(b, len, &sigs, &n, err, sizeof(err)), PDF_OK);
	assert_int_equal(n, 1);
	assert_false(sigs[0].range_ok); /* rewritten: the bytes moved */
	pdf_signatures_free(sigs, n);
	free(b);
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	struct pdf_prepared p;
	char err[256];
	struct pdf_stamp bad_page = {.page = 99, .x = 1, .y = 1, .size = 10, .text = "a"};
	struct pdf_stamp no_glyph = {.page = 0, .x = 1, .y = 1, .size = 10, .text = "\xe2\x98\x83 "};
	struct pdf_sig_spec s = {.field = "Lãnh đạo ký", .page = 0, .when = WHEN};

	/* the same field twice */
	assert_int_equal(pdf_prepare(f->one, f->onelen, &s, &p, err, sizeof(err)), PDF_ERR);
	assert_non_null(strstr(err, "already"));
	s.field = "a.b";
	assert_int_equal(pdf_prepare(f->lo, f->lolen, &s, &p, err, sizeof(err)), PDF_ERR);
	s.field = "\xff";
	assert_int_equal(pdf_prepare(f->lo, f->lolen, &s, &p, err, sizeof(err)), PDF_ERR);
	s.field = "ok";
	s.page = 50;
	assert_int_equal(pdf_prepare(f->lo, f->lolen, &s, &p, err, sizeof(err)), PDF_ERR);
	s.page = 0;
	s.stamps = &bad_page;
	s.nstamps = 1;
	s.font = FONT;
	assert_int_equal(pdf_prepare(f->lo, f->lolen, &s, &p, err, sizeof(err)), PDF_ERR);
	s.stamps = &no_glyph; /* a snowman: Liberation Serif has none */
	assert_int_equal(pdf_prepare(f->lo, f->lolen, &s, &p, err, sizeof(err)), PDF_ERR);
	assert_non_null(strstr(err, "U+2603"));
	s.font = "/nonexistent.ttf";
	assert_int_equal(pdf_prepare(f->lo, f->lolen, &s, &p, err, sizeof(err)), PDF_ERR);
	s.nstamps = 0;
	s.reserve = (size_t)64 << 20;
	assert_int_equal(pdf_prepare(f->lo, f->lolen, &s, &p, err, sizeof(err)), PDF_ERR);

	/* a CMS larger than the space kept */
	s.reserve = 100;
	assert_int_equal(pdf_prepare(f->lo, f->lolen, &s, &p, err, sizeof(err)), PDF_OK);
	unsigned char big[101];
	memset(big, 0x30, sizeof(big));
	assert_int_equal(pdf_embed(&p, big, sizeof(big), err, sizeof(err)), PDF_TOOBIG);
	assert_int_equal(pdf_embed(&p, big, 100, err, sizeof(err)), PDF_OK);
	pdf_prepared_free(&p);
}

/* Damage of every kind: no crash, no output, an answer. */
static void test_garbage(void **state)
{
	struct fx *f = *state;
	struct pdf_prepared p;
	struct pdf_sig *s;
	struct pdf_point pt;
	double box[4];
	size_t n;
	int np;
	char err[256];
	struct pdf_sig_spec spec = {.field = "x", .page = 0, .when = WHEN};
	unsigned char *b = malloc(f->twolen);
	const char *junk[] = {"", "%PDF-", "%PDF-1.7\n%%EOF\n", "%PDF-1.7\ntrailer<</Root 1 0 R>>\n",
	    "%PDF-1.7\n1 0 obj<</Type/Catalog/AcroForm<</Fields[1 0 R]>>/Kids[1 0 R]>>endobj\n"
	    "trailer<</Root 1 0 R/Size 2>>\nstartxref\n0\n%%EOF\n",
	    "not a pdf at all, not even close, no header"};

	assert_non_null(b);
	for (size_t i = 0; i < sizeof(junk) / sizeof(*junk); i++) {
		size_t l = strlen(junk[i]);
		(void)pdf_prepare(junk[i], l, &spec, &p, err, sizeof(err));
		pdf_prepared_free(&p);
		if (pdf_signatures(junk[i], l, &s, &n, err, sizeof(err)) == PDF_OK)
			pdf_signatures_free(s, n);
		(void)pdf_named_dest(junk[i], l, "vanthuSo", &pt, err, sizeof(err));
		(void)pdf_page_box(junk[i], l, 0, box, &np, err, sizeof(err));
	}
	/* truncations and overwritten bytes of the signed file */
	srand(12);
	for (int round = 0; round < 40; round++) {
		size_t len = f->twolen;
		memcpy(b, f->two, len);
		if (round < 10) {
			len = (size_t)rand() % f->twolen;
		} else {
			for (int k = 0; k < 20; k++)
				b[(size_t)rand() % len] = (unsigned char)rand();
		}
		if (pdf_signatures(b, len, &s, &n, err, sizeof(err)) == PDF_OK) {
			for (size_t i = 0; i < n; i++)
				assert_true(!s[i].whole || s[i].range_ok);
			pdf_signatures_free(s, n);
		}
		if (pdf_prepare(b, len, &spec, &p, err, sizeof(err)) == PDF_OK)
			pdf_prepared_free(&p);
		(void)pdf_named_dest(b, len, "vanthuSo", &pt, err, sizeof(err));
	}
	/* a truncated file has no whole signature */
	assert_int_equal(pdf_signatures(f->two, f->twolen - 40, &s, &n, err, sizeof(err)), PDF_OK);
	for (size_t i = 0; i < n; i++)
		assert_false(s[i].whole);
	pdf_signatures_free(s, n);
	free(b);
}

/* /M is Vietnam time whatever TZ says. */
static void test_time_zone(void **state)
{
	struct fx *f = *state;
	struct pdf_prepared p;
	struct pdf_sig *s;
	size_t n;
	char err[256];
	struct pdf_sig_spec spec = {.field = "tz", .page = 0, .when = 1767225599L, /* 23:59:59 UTC */
		.reserve = 64};

	setenv("TZ", "America/New_York", 1);
	tzset();
	assert_int_equal(pdf_prepare(f->lo, f->lolen, &spec, &p, err, sizeof(err)), PDF_OK);
	unsetenv("TZ");
	tzset();
	assert_int_equal(pdf_signatures(p.buf, p.len, &s, &n, err, sizeof(err)), PDF_OK);
	assert_int_equal(n, 1);
	assert_string_equal(s[0].m, "D:20260101065959+07'00'");
	assert_int_equal(s[0].when, 1767225599L);
	assert_false(s[0].visible);
	assert_true(s[0].range_ok && s[0].whole); /* zeros are a valid (empty) /Contents */
	pdf_signatures_free(s, n);
	pdf_prepared_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_dest),
		cmocka_unit_test(test_named_dest_tree),
		cmocka_unit_test(test_pdfsig_two_valid),
		cmocka_unit_test(test_qpdf_check),
		cmocka_unit_test(test_pdftotext_stamps),
		cmocka_unit_test(test_raster_ink),
		cmocka_unit_test(test_signatures_found),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_refuse_xref_stream),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_time_zone),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
