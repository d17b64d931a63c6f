/*
 * esign.c: electronic originals (Nghị định 30/2020, Điều 5, 13, 17, 32 and
 * Phụ lục I). At `sign` the leader's copy (number and day blank, their
 * places marked) is rendered, converted to PDF, and prepared with the
 * leader's signature field, image and reserved space; the leader's key,
 * which never leaves its token, signs the digest the client is given, and
 * the signature is checked and embedded before the step is recorded with
 * its PDF. At `issue` the number and the date are stamped into the leader's
 * PDF in an incremental update that keeps the first signature valid, and
 * the organisation's token signs it with the seal image over the left third
 * of the leader's signature. Owns the organisation's token session, the
 * trust anchors, the seal and the converter.
 */
#include "esign.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cms.h"
#include "convert.h"
#include "fsutil.h"
#include "hash.h"
#include "log.h"
#include "p11.h"
#include "pdf.h"
#include "pdfdraw.h"
#include "publish.h"
#include "pdfverify.h"
#include "render.h"
#include "symbol.h"

#define MAX_PDF (64u * 1024 * 1024)
#define MAX_IMAGE (8u * 1024 * 1024)
/* Room for the leader's SignedData beyond its length at prepare time: its chain is built
 * again from the trust anchors when it is assembled, and may then hold one more CA. */
#define LEADER_SLACK 2048
/* What is reserved when the signer's chain cannot be built at prepare time (the assembly
 * refuses such a certificate with its reason anyway) */
#define RESERVE_UNKNOWN 16384
#define LEADER_FIELD "Lãnh đạo ký"
#define ORG_FIELD "Cơ quan ban hành ký"
/* Liberation Serif's ascent (the top of a line to its baseline), per point of size */
#define ASCENT 0.891
/* Liberation Serif's space, per point of size; LibreOffice's line top sits this much higher */
#define SPACE 0.25
#define BASELINE_FIX 0.6

struct esign {
	struct cms_trust *trust;      /* owned */
	char *trust_path;             /* owned */
	struct pdfdraw_image seal;    /* owned: red, transparent */
	double seal_pt;               /* its diameter on the page */
	char *module, *token, *key, *key_id, *pin;  /* owned: the organisation's token */
	struct p11 *org;              /* owned; NULL until opened, and after a failure */
	unsigned char *org_cert;      /* owned: its certificate, DER */
	size_t org_certlen;
	unsigned char **org_chain;    /* owned: the intermediates between it and its anchor */
	size_t *org_chainlen, org_nchain;
	struct cms_cert_info org_info;
	struct converter *conv;       /* owned */
	char *font;                   /* owned */
	char *dir;                    /* owned: <spool>/signing */
	unsigned seq;                 /* names each conversion's files apart (loop thread only) */
};

struct esign_job {
	struct esign *es;             /* borrowed: outlives the job */
	int64_t id, revision;
	char login[72];
	unsigned char *cert;          /* owned, DER */
	size_t certlen;
	struct cms_cert_info info;
	struct pdfdraw_image image;   /* owned: the leader's signature image */
	char place[256];
	char docx[PATH_MAX], pdf[PATH_MAX];
	char err[512];
};

/* ---- small helpers ---- */

static char *dup_opt(const char *s, int *bad)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*bad = 1;
	return d;
}

static void to_hex(const unsigned char *b, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int from_hex(const char *hex, unsigned char *out, size_t n)
{
	if (strlen(hex) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

/* "2026-12-04T10:15:30+07:00": Vietnam time, whatever the server's zone. */
static void iso_vn(time_t t, char *out, size_t len)
{
	struct tm tm;
	time_t v = t + 7 * 3600;

	gmtime_r(&v, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%S+07:00", &tm);
}

static time_t now_s(void)
{
	struct timespec ts;

	clock_now(&ts);
	return ts.tv_sec;
}

/* A transparent PNG of the wanted ink, or why not (Vietnamese, for the office). */
static int load_ink_image(const char *path, enum pdfdraw_ink want, struct pdfdraw_image *img,
    char *msg, size_t msglen)
{
	unsigned char *png = NULL;
	size_t len = 0;
	char err[256];
	const char *what = want == PDFDRAW_INK_RED ? "ảnh con dấu" : "ảnh chữ ký";
	const char *colour = want == PDFDRAW_INK_RED ? "màu đỏ" : "màu xanh";

	memset(img, 0, sizeof(*img));
	if (fsutil_read_file(path, MAX_IMAGE, &png, &len) != 0) {
		snprintf(msg, msglen, "không đọc được %s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (pdfdraw_png_read(png, len, img, err, sizeof(err)) != 0) {
		snprintf(msg, msglen, "%s %s không phải tệp PNG đọc được: %s", what, path, err);
		free(png);
		return -1;
	}
	free(png);
	enum pdfdraw_ink ink = pdfdraw_ink_of(img);
	if (img->alpha == NULL || ink == PDFDRAW_INK_NONE) {
		snprintf(msg, msglen, "%s %s phải có nền trong suốt (PNG có kênh alpha)", what, path);
		pdfdraw_image_free(img);
		return -1;
	}
	if (ink != want) {
		snprintf(msg, msglen, "%s %s phải %s (Phụ lục I Nghị định 30/2020)", what, path, colour);
		pdfdraw_image_free(img);
		return -1;
	}
	return 0;
}

/* ---- opening ---- */

static int open_org(struct esign *es, char *err, size_t errlen)
{
	struct p11_spec spec = { es->module, es->token, es->key, es->key_id, es->pin };
	int rc;

	if (es->org != NULL)
		return 0;
	rc = p11_open(&spec, &es->org, err, errlen);
	if (rc != P11_OK) {
		es->org = NULL;
		return -1;
	}
	if (es->org_cert == NULL &&
	    p11_certificate(es->org, &es->org_cert, &es->org_certlen, err, errlen) != P11_OK) {
		p11_close(es->org);
		es->org = NULL;
		return -1;
	}
	return 0;
}

static int read_pin(const char *path, char **pin, char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	struct stat sb;

	if (stat(path, &sb) != 0) {
		snprintf(err, errlen, "pin_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (sb.st_mode & 0007) {
		snprintf(err, errlen, "pin_file %s can be read by others (mode %04o): chmod 0640 it",
		    path, (unsigned)(sb.st_mode & 07777));
		return -1;
	}
	if (fsutil_read_file(path, 256, &buf, &len) != 0) {
		snprintf(err, errlen, "pin_file %s: %s", path, strerror(errno));
		return -1;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		len--;
	buf[len] = '\0';
	if (len == 0) {
		snprintf(err, errlen, "pin_file %s is empty", path);
		free(buf);
		return -1;
	}
	*pin = (char *)buf;
	return 0;
}

/*
 * What a killed daemon left in spool/signing: temporary files (*.tmp) and a
 * conversion's DOCX and PDF (ID-N.docx, ID-N.pdf). The prepared PDFs stay, for a
 * signing still pending, and the signed ones, which the database names.
 */
static void sweep(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name, *dot = strrchr(n, '.');
		size_t digits = strspn(n, "0123456789-"), len = strlen(n);
		/* a converter killed with its parent: "<id>-<rev>.pdf.<pid>.part", and LibreOffice's
		 * lock ".~lock.<that>#" */
		int part = digits > 0 && len > 5 && strcmp(n + len - 5, ".part") == 0 &&
		    strncmp(n + digits, ".pdf.", 5) == 0;
		int lock = strncmp(n, ".~lock.", 7) == 0 && len > 8 && n[len - 1] == '#';
		if ((n[0] == '.' && !lock) || dot == NULL)
			continue;
		if (part || lock || strcmp(dot, ".tmp") == 0 || (digits > 0 &&
		        (strcmp(n + digits, ".docx") == 0 || strcmp(n + digits, ".pdf") == 0))) {
			if (unlinkat(dirfd(d), n, 0) == 0)
				log_info("signing: removed %s/%s, left by a stopped run", dir, n);
		}
	}
	closedir(d);
}

int esign_open(const struct config *cfg, struct esign **out, char *err, size_t errlen)
{
	struct esign *es;
	struct convert_spec cs;
	char profile[PATH_MAX], failed[PATH_MAX], msg[512];
	int bad = 0, rc;

	*out = NULL;
	if (!cfg->signing)
		return 0;
	if ((es = calloc(1, sizeof(*es))) == NULL)
		goto nomem;
	es->module = dup_opt(cfg->sign_module, &bad);
	es->token = dup_opt(cfg->sign_token, &bad);
	es->key = dup_opt(cfg->sign_key, &bad);
	es->key_id = dup_opt(cfg->sign_key_id, &bad);
	es->font = dup_opt(cfg->sign_font, &bad);
	es->trust_path = dup_opt(cfg->sign_trust, &bad);
	if (bad || asprintf(&es->dir, "%s/signing", cfg->spool) < 0) {
		es->dir = NULL;
		goto nomem_es;
	}
	if (access(es->font, R_OK) != 0) {
		snprintf(err, errlen, "[signing] font %s: %s", es->font, strerror(errno));
		goto fail;
	}
	if (cms_trust_load(cfg->sign_trust, &es->trust, err, errlen) != CMS_OK)
		goto fail;
	if (load_ink_image(cfg->sign_seal_image, PDFDRAW_INK_RED, &es->seal, msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "[signing] seal_image: %s", msg);
		goto fail;
	}
	if (cfg->sign_seal_mm)
		es->seal_pt = cfg->sign_seal_mm * 72.0 / 25.4;
	else if (es->seal.dpi_x > 0)
		es->seal_pt = es->seal.w * 72.0 / es->seal.dpi_x;
	if (es->seal_pt < 20 * 72.0 / 25.4 || es->seal_pt > 80 * 72.0 / 25.4) {
		snprintf(err, errlen, "[signing] the seal's size is not known or not a seal's (20 to 80 "
		    "mm): set seal_size = its diameter in mm");
		goto fail;
	}
	if (read_pin(cfg->sign_pin_file, &es->pin, err, errlen) != 0)
		goto fail;
	if (open_org(es, err, errlen) != 0)
		goto fail;
	rc = cms_check_cert(es->trust, es->org_cert, es->org_certlen, now_s(), &es->org_info, msg,
	    sizeof(msg));
	if (rc != CMS_OK) {
		snprintf(err, errlen, "the organisation's certificate (%s) cannot sign: %s",
		    es->org_info.subject, msg);
		goto fail;
	}
	/* its intermediates go into every CMS it makes, for verifiers that hold the root only */
	if (cms_cert_chain(es->trust, es->org_cert, es->org_certlen, now_s(), &es->org_chain,
	        &es->org_chainlen, &es->org_nchain, msg, sizeof(msg)) != CMS_OK) {
		snprintf(err, errlen, "the organisation's certificate chain: %s", msg);
		goto fail;
	}
	if (fsutil_mkdir_p(es->dir, 0750, failed, sizeof(failed)) != 0) {
		snprintf(err, errlen, "cannot create %s: %s", failed, strerror(errno));
		goto fail;
	}
	sweep(es->dir);
	/* LibreOffice's profile is a program's own files: beside the database, not in the spool */
	{
		const char *slash = strrchr(cfg->database, '/');
		if (slash)
			snprintf(profile, sizeof(profile), "%.*s/office-profile",
			    (int)(slash - cfg->database), cfg->database);
		else
			snprintf(profile, sizeof(profile), "office-profile");
	}
	memset(&cs, 0, sizeof(cs));
	cs.helper = cfg->sign_converter;
	cs.office = cfg->sign_office;
	cs.profile = profile;
	if (convert_start(&cs, &es->conv, err, errlen) != 0)
		goto fail;
	log_info("signing: the organisation signs as %s (certificate %.16s…, valid to %lld); seal "
	    "%.1f mm", es->org_info.subject, es->org_info.fingerprint,
	    (long long)es->org_info.not_after, es->seal_pt * 25.4 / 72.0);
	*out = es;
	return 0;
nomem_es:
	esign_close(es);
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
fail:
	esign_close(es);
	return -1;
}

void esign_close(struct esign *es)
{
	if (es == NULL)
		return;
	convert_stop(es->conv);
	p11_close(es->org);
	cms_trust_free(es->trust);
	pdfdraw_image_free(&es->seal);
	if (es->pin)
		memset(es->pin, 0, strlen(es->pin));
	free(es->pin);
	free(es->module);
	free(es->token);
	free(es->key);
	free(es->key_id);
	free(es->org_cert);
	cms_chain_free(es->org_chain, es->org_chainlen, es->org_nchain);
	free(es->font);
	free(es->dir);
	free(es->trust_path);
	free(es);
}

pid_t esign_converter_pid(const struct esign *es)
{
	return es && es->conv ? convert_pid(es->conv) : 0;
}

const char *esign_trust_path(const struct esign *es)
{
	return es ? es->trust_path : NULL;
}

int esign_required(const struct esign *es, const struct config *cfg, const char *login)
{
	const struct config_user *u = config_find_user(cfg, login);

	return es != NULL && u != NULL && u->certificate != NULL;
}

/* ---- the leader's signature ---- */

/* Why a certificate may not sign, in words for the leader. */
static void cert_refusal(int rc, const struct cms_cert_info *info, const char *trust,
    const char *detail, char *msg, size_t msglen)
{
	const char *who = info->subject[0] ? info->subject : "người ký";
	char from[40] = "?", to[40] = "?";

	if (info->not_before)
		iso_vn(info->not_before, from, sizeof(from));
	if (info->not_after)
		iso_vn(info->not_after, to, sizeof(to));
	switch (rc) {
	case CMS_UNTRUSTED:
		snprintf(msg, msglen, "chứng thư số của %s không do tổ chức được tin cậy cấp (không nối "
		    "được tới chứng thư gốc trong %s)", who, trust);
		break;
	case CMS_EXPIRED:
		snprintf(msg, msglen, "chứng thư số của %s không còn hoặc chưa có hiệu lực (hiệu lực từ "
		    "%.10s đến %.10s)", who, from, to);
		break;
	case CMS_USAGE:
		snprintf(msg, msglen, "chứng thư số của %s không được dùng để ký số (thiếu mục đích "
		    "digitalSignature hoặc nonRepudiation)", who);
		break;
	default:
		snprintf(msg, msglen, "chứng thư số không đọc được: %s", detail);
	}
}

int esign_prepare_begin(struct esign *es, struct store *st, const struct catalog *cat,
    const struct config *cfg, int64_t id, const struct wf_actor *a, const unsigned char *cert,
    size_t certlen, struct esign_job **out, char *msg, size_t msglen)
{
	const struct config_user *u = config_find_user(cfg, a->login);
	const struct wf_transition *t = NULL;
	const struct config_body *body;
	const struct wf_kind *k;
	struct esign_job *job = NULL;
	struct store_doc doc;
	char err[512];
	int rc;

	*out = NULL;
	memset(&doc, 0, sizeof(doc));
	if (es == NULL) {
		snprintf(msg, msglen, "vanthud chưa được cấu hình ký số ([signing] trong vanthu.conf)");
		return WF_INVALID;
	}
	if (u == NULL || u->certificate == NULL || u->signature_image == NULL) {
		snprintf(msg, msglen, "tài khoản %s chưa được đăng ký chứng thư số và ảnh chữ ký "
		    "([user %s] certificate = và signature_image = trong vanthu.conf)", a->login,
		    a->login);
		return WF_DENIED;
	}
	rc = store_doc_get(st, id, &doc, err, sizeof(err));
	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "không có văn bản số %lld", (long long)id);
		return WF_UNKNOWN;
	}
	if (rc != STORE_OK) {
		snprintf(msg, msglen, "không đọc được văn bản: %s", err);
		return WF_INTERNAL;
	}
	k = workflows_find(cat->wf, doc.kind);
	if (k == NULL) {
		snprintf(msg, msglen, "loại văn bản %s không còn trong danh mục", doc.kind);
		rc = WF_INVALID;
		goto out;
	}
	rc = workflow_check(k, &doc, a, "sign", NULL, &t, msg, msglen);
	if (rc != WF_OK)
		goto out;
	if ((job = calloc(1, sizeof(*job))) == NULL || (job->cert = malloc(certlen)) == NULL) {
		snprintf(msg, msglen, "hết bộ nhớ");
		rc = WF_INTERNAL;
		goto out;
	}
	memcpy(job->cert, cert, certlen);
	job->certlen = certlen;
	job->es = es;
	job->id = id;
	snprintf(job->login, sizeof(job->login), "%s", a->login);
	rc = cms_check_cert(es->trust, cert, certlen, now_s(), &job->info, err, sizeof(err));
	if (rc != CMS_OK) {
		cert_refusal(rc, &job->info, es->trust_path, err, msg, msglen);
		rc = WF_DENIED;
		goto out;
	}
	if (strcmp(job->info.fingerprint, u->certificate) != 0) {
		snprintf(msg, msglen, "chứng thư số này (của %s, dấu vân tay %.16s…) không phải chứng thư "
		    "đã đăng ký cho %s trong vanthu.conf (%.16s…)", job->info.subject,
		    job->info.fingerprint, a->login, u->certificate);
		rc = WF_DENIED;
		goto out;
	}
	if (load_ink_image(u->signature_image, PDFDRAW_INK_BLUE, &job->image, msg, msglen) != 0) {
		rc = WF_INVALID;
		goto out;
	}
	body = config_find_body(cfg, doc.issuer);
	snprintf(job->place, sizeof(job->place), "%s", body && body->place ? body->place : "");
	/* two leaders' (or one leader's twice) conversions at once never share a file */
	es->seq++;
	snprintf(job->docx, sizeof(job->docx), "%s/%lld-%u.docx", es->dir, (long long)id, es->seq);
	snprintf(job->pdf, sizeof(job->pdf), "%s/%lld-%u.pdf", es->dir, (long long)id, es->seq);
	if (publish_signing_docx(st, cat, cfg, id, job->docx, &job->revision, err,
	        sizeof(err)) != 0) {
		log_err("sign %lld: %s", (long long)id, err);
		snprintf(msg, msglen, "không tạo được bản để ký: %s", err);
		rc = WF_INTERNAL;
		goto out;
	}
	*out = job;
	job = NULL;
	rc = WF_OK;
out:
	esign_job_free(job);
	store_doc_free(&doc);
	return rc;
}

int esign_prepare_convert(struct esign_job *job)
{
	return convert_docx_pdf(job->es->conv, job->docx, job->pdf, job->err, sizeof(job->err));
}

void esign_job_free(struct esign_job *job)
{
	if (job == NULL)
		return;
	if (job->docx[0])
		unlink(job->docx);
	if (job->pdf[0])
		unlink(job->pdf);
	free(job->cert);
	pdfdraw_image_free(&job->image);
	free(job);
}

/* A named destination the template put there, or why not. */
static int dest(const unsigned char *pdf, size_t len, const char *name, struct pdf_point *p,
    char *err, size_t errlen)
{
	int rc = pdf_named_dest(pdf, len, name, p, err, errlen);

	if (rc == PDF_NOTFOUND)
		snprintf(err, errlen, "the PDF has no place %s (the template lacks the tag that makes it)",
		    name);
	return rc == PDF_OK ? 0 : -1;
}

/* The natural size of an image in points (72 dpi when it does not say). */
static void natural_size(const struct pdfdraw_image *img, double *w, double *h)
{
	*w = img->w * 72.0 / (img->dpi_x > 0 ? img->dpi_x : 72.0);
	*h = img->h * 72.0 / (img->dpi_y > 0 ? img->dpi_y : (img->dpi_x > 0 ? img->dpi_x : 72.0));
}

/*
 * The bytes a PDF reserves for a signature by cert: its SignedData's own length (cms_reserve,
 * with the chain the trust anchors give now) plus slack, not a fixed 16 KB of zeros: an
 * original carries two signatures, and every byte of it is stored and sent to each recipient.
 */
static size_t reserve_for(const struct esign *es, const unsigned char *cert, size_t certlen,
    size_t slack)
{
	unsigned char **chain = NULL;
	size_t *chainlen = NULL, nchain = 0, n = 0;
	char err[256];

	if (cms_cert_chain(es->trust, cert, certlen, now_s(), &chain, &chainlen, &nchain, err,
	        sizeof(err)) != CMS_OK ||
	    cms_reserve(cert, certlen, (const unsigned char *const *)chain, chainlen, nchain, &n,
	        err, sizeof(err)) != CMS_OK) {
		log_warn("esign: the signature's size is not known (%s): %d bytes reserved", err,
		    RESERVE_UNKNOWN);
		n = RESERVE_UNKNOWN;
		slack = 0;
	}
	cms_chain_free(chain, chainlen, nchain);
	return n + slack;
}

/*
 * The leader's signature image: centred between the title lines and the
 * name (Phụ lục I, II.7.d), at its own size when it fits, else scaled down.
 */
static int place_signature(const unsigned char *pdf, size_t len, const struct pdfdraw_image *img,
    int *page, double rect[4], char *err, size_t errlen)
{
	struct pdf_point title, a, b;
	double w, h, cx, top, bottom, scale = 1;

	if (dest(pdf, len, RENDER_PLACE_TITLE_END_NAME, &title, err, errlen) != 0 ||
	    dest(pdf, len, RENDER_PLACE_NAME_START_NAME, &a, err, errlen) != 0 ||
	    dest(pdf, len, RENDER_PLACE_NAME_END_NAME, &b, err, errlen) != 0)
		return -1;
	*page = a.page;
	cx = (a.x + b.x) / 2;
	/* the title line's top less one 14 pt line is its bottom; the name's top ends the space */
	top = title.page == a.page ? title.y - 14 * 1.2 : a.y + 90;
	bottom = a.y;
	if (top - bottom < 24)
		top = bottom + 24;
	natural_size(img, &w, &h);
	if (h > top - bottom - 4)
		scale = (top - bottom - 4) / h;
	if (w * scale > 180)
		scale = 180 / w;
	w *= scale;
	h *= scale;
	rect[0] = cx - w / 2;
	rect[2] = cx + w / 2;
	rect[1] = (top + bottom) / 2 - h / 2;
	rect[3] = (top + bottom) / 2 + h / 2;
	return 0;
}

int esign_prepare_end(struct esign_job *job, struct store *st, char tbs[65], char *msg,
    size_t msglen)
{
	struct esign *es = job->es;
	struct pdf_prepared pp = { 0 };
	struct pdf_sig_spec spec;
	struct store_sign_pending pend;
	unsigned char *pdf = NULL, digest[32], tbsbin[32];
	size_t len = 0;
	char err[512], when[40], sha[HASH_HEX_LEN + 1];
	time_t now = now_s();
	int rc = WF_INTERNAL;

	memset(&pend, 0, sizeof(pend));
	if (fsutil_read_file(job->pdf, MAX_PDF, &pdf, &len) != 0) {
		snprintf(msg, msglen, "không đọc được bản PDF vừa tạo: %s", strerror(errno));
		goto out;
	}
	memset(&spec, 0, sizeof(spec));
	if (place_signature(pdf, len, &job->image, &spec.page, spec.rect, err, sizeof(err)) != 0) {
		log_err("sign %lld: %s", (long long)job->id, err);
		snprintf(msg, msglen, "không xác định được chỗ đặt chữ ký trên bản PDF: %s", err);
		goto out;
	}
	spec.field = LEADER_FIELD;
	spec.image = &job->image;
	spec.font = es->font;
	spec.name = job->info.subject;
	spec.reason = "Ký phê duyệt";
	spec.location = job->place;
	spec.when = now;
	spec.reserve = reserve_for(es, job->cert, job->certlen, LEADER_SLACK);
	if (pdf_prepare(pdf, len, &spec, &pp, err, sizeof(err)) != PDF_OK ||
	    pdf_prepared_digest(&pp, digest) != 0 ||
	    cms_signed_attrs(job->cert, job->certlen, digest, tbsbin, err, sizeof(err)) != CMS_OK) {
		log_err("sign %lld: %s", (long long)job->id, err);
		snprintf(msg, msglen, "không chuẩn bị được bản PDF để ký: %s", err);
		goto out;
	}
	pend.document_id = job->id;
	snprintf(pend.login, sizeof(pend.login), "%s", job->login);
	pend.revision = job->revision;
	pend.cert = job->cert;
	pend.certlen = job->certlen;
	to_hex(digest, 32, pend.content_sha256);
	snprintf(pend.prepared_path, sizeof(pend.prepared_path), "%s/%lld.prepared.pdf", es->dir,
	    (long long)job->id);
	for (int i = 0; i < 4; i++)
		pend.range[i] = (long long)pp.range[i];
	iso_vn(now, when, sizeof(when));
	snprintf(pend.signed_at, sizeof(pend.signed_at), "%s", when);
	if (hash_sha256_hex(pp.buf, pp.len, sha) != 0 ||
	    fsutil_write_durable(pend.prepared_path, pp.buf, pp.len, err, sizeof(err)) != 0) {
		log_err("sign %lld: %s", (long long)job->id, err);
		snprintf(msg, msglen, "không ghi được bản PDF để ký: %s", err);
		goto out;
	}
	snprintf(pend.prepared_sha256, sizeof(pend.prepared_sha256), "%s", sha);
	if (store_sign_pending_put(st, &pend, err, sizeof(err)) != STORE_OK) {
		log_err("sign %lld: %s", (long long)job->id, err);
		snprintf(msg, msglen, "không ghi được việc chuẩn bị ký: %s", err);
		goto out;
	}
	to_hex(tbsbin, 32, tbs);
	log_info("document %lld prepared for %s's signature (certificate %.16s…)",
	    (long long)job->id, job->login, job->info.fingerprint);
	rc = WF_OK;
out:
	pdf_prepared_free(&pp);
	free(pdf);
	esign_job_free(job);
	return rc;
}

int esign_finish(struct esign *es, struct store *st, const struct catalog *cat,
    const struct config *cfg, int64_t id, const struct wf_actor *a, const char *comment,
    const unsigned char *sig, size_t siglen, char *sha256, char *msg, size_t msglen)
{
	struct store_sign_pending pend;
	struct store_doc doc;
	struct pdf_prepared pp = { 0 };
	struct cms_cert_info info;
	struct store_signed_pdf rec;
	const struct wf_transition *t = NULL;
	const struct wf_kind *k;
	unsigned char digest[32], *cms = NULL, **chain = NULL;
	size_t cmslen = 0, *chainlen = NULL, nchain = 0;
	char err[512], sha[HASH_HEX_LEN + 1], path[PATH_MAX], symbol[96];
	int rc;

	memset(&doc, 0, sizeof(doc));
	if (es == NULL) {
		snprintf(msg, msglen, "vanthud chưa được cấu hình ký số ([signing] trong vanthu.conf)");
		return WF_INVALID;
	}
	rc = store_sign_pending_get(st, id, &pend, err, sizeof(err));
	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "văn bản số %lld chưa được chuẩn bị để ký (hoặc đã ký): chạy lại "
		    "vanthuctl sign %lld", (long long)id, (long long)id);
		return WF_STATE;
	}
	if (rc != STORE_OK) {
		snprintf(msg, msglen, "không đọc được việc chuẩn bị ký: %s", err);
		return WF_INTERNAL;
	}
	if (strcmp(pend.login, a->login) != 0) {
		snprintf(msg, msglen, "văn bản số %lld được chuẩn bị cho %s ký, không phải %s",
		    (long long)id, pend.login, a->login);
		rc = WF_DENIED;
		goto out;
	}
	if (store_doc_get(st, id, &doc, err, sizeof(err)) != STORE_OK ||
	    (k = workflows_find(cat->wf, doc.kind)) == NULL) {
		snprintf(msg, msglen, "không đọc được văn bản số %lld", (long long)id);
		rc = WF_INTERNAL;
		goto out;
	}
	if ((rc = workflow_check(k, &doc, a, "sign", comment, &t, msg, msglen)) != WF_OK)
		goto out;
	if (doc.revision != pend.revision) {
		snprintf(msg, msglen, "văn bản số %lld đã có bản sửa mới sau khi chuẩn bị ký: chạy lại "
		    "vanthuctl sign %lld", (long long)id, (long long)id);
		rc = WF_STATE;
		goto out;
	}
	rc = WF_INTERNAL;
	if (fsutil_read_file(pend.prepared_path, MAX_PDF, &pp.buf, &pp.len) != 0 ||
	    hash_sha256_hex(pp.buf, pp.len, sha) != 0 || strcmp(sha, pend.prepared_sha256) != 0) {
		log_err("sign %lld: the prepared PDF %s is missing or changed", (long long)id,
		    pend.prepared_path);
		snprintf(msg, msglen, "bản PDF đã chuẩn bị để ký bị mất hoặc bị sửa: chạy lại "
		    "vanthuctl sign %lld", (long long)id);
		rc = WF_STATE;
		goto out;
	}
	for (int i = 0; i < 4; i++)
		pp.range[i] = (size_t)pend.range[i];
	if (from_hex(pend.content_sha256, digest, 32) != 0)
		goto out;
	rc = cms_check_cert(es->trust, pend.cert, pend.certlen, now_s(), &info, err, sizeof(err));
	if (rc != CMS_OK) {
		cert_refusal(rc, &info, es->trust_path, err, msg, msglen);
		rc = WF_DENIED;
		goto out;
	}
	if (cms_cert_chain(es->trust, pend.cert, pend.certlen, now_s(), &chain, &chainlen, &nchain,
	        err, sizeof(err)) != CMS_OK) {
		snprintf(msg, msglen, "không dựng được chuỗi chứng thư của %s: %s", info.subject, err);
		rc = WF_DENIED;
		goto out;
	}
	rc = cms_assemble(pend.cert, pend.certlen, (const unsigned char *const *)chain, chainlen,
	    nchain, digest, sig, siglen, &cms, &cmslen, err, sizeof(err));
	if (rc == CMS_BADSIG) {
		snprintf(msg, msglen, "chữ ký số không khớp với chứng thư của %s (ký bằng khóa khác, "
		    "hoặc ký một nội dung khác): không ghi gì", info.subject);
		rc = WF_DENIED;
		goto out;
	}
	if (rc != CMS_OK) {
		snprintf(msg, msglen, "chữ ký số không đọc được: %s", err);
		rc = WF_INVALID;
		goto out;
	}
	rc = WF_INTERNAL;
	if (pdf_embed(&pp, cms, cmslen, err, sizeof(err)) != PDF_OK) {
		snprintf(msg, msglen, "không đặt được chữ ký vào bản PDF: %s", err);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%lld-r%lld.signed.pdf", es->dir, (long long)id,
	    (long long)doc.revision);
	if (hash_sha256_hex(pp.buf, pp.len, sha) != 0 ||
	    fsutil_write_durable(path, pp.buf, pp.len, err, sizeof(err)) != 0) {
		log_err("sign %lld: %s", (long long)id, err);
		snprintf(msg, msglen, "không ghi được bản PDF đã ký: %s", err);
		goto out;
	}
	memset(&rec, 0, sizeof(rec));
	rec.role = "leader";
	rec.path = path;
	rec.sha256 = sha;
	rec.fingerprint = info.fingerprint;
	rec.subject = info.subject;
	rec.signed_at = pend.signed_at;
	rc = workflow_act(st, cat->wf, cfg, id, "sign", comment, a, &rec, symbol, sizeof(symbol), &t,
	    msg, msglen);
	if (rc != WF_OK) {
		unlink(path);
		goto out;
	}
	unlink(pend.prepared_path);
	snprintf(sha256, HASH_HEX_LEN + 1, "%s", sha);
	log_info("document %lld signed digitally by %s (%s, certificate %.16s…): %s", (long long)id,
	    a->login, info.subject, info.fingerprint, path);
out:
	cms_chain_free(chain, chainlen, nchain);
	free(cms);
	free(pp.buf);
	store_sign_pending_free(&pend);
	store_doc_free(&doc);
	return rc;
}

/* ---- the organisation's signature, at issue ---- */

struct leader_row {
	char fingerprint[65];
	int found;
};

static int take_leader(const struct store_col *cols, int ncols, void *arg)
{
	struct leader_row *r = arg;

	if (ncols >= 4 && cols[0].type == 2 && strcmp(cols[0].s, "leader") == 0 && cols[3].type == 2) {
		snprintf(r->fingerprint, sizeof(r->fingerprint), "%s", cols[3].s);
		r->found = 1;
	}
	return 0;
}

/*
 * The organisation's signature in one update of pdf: prepared, its signed
 * attributes signed by the office's token (a token pulled out and put back
 * gets one new session, once), assembled with the certificate's
 * intermediates and embedded into *pp. 0 or -1 with err.
 */
static int org_sign(struct esign *es, const unsigned char *pdf, size_t len,
    const struct pdf_sig_spec *spec, struct pdf_prepared *pp, char *err, size_t errlen)
{
	unsigned char digest[32], tbs[32], *sig = NULL, *cms = NULL;
	size_t siglen = 0, cmslen = 0;
	struct pdf_sig_spec sp = *spec;
	int rc = -1;

	/* the organisation's chain is the one assembled below: its length is exact */
	if (cms_reserve(es->org_cert, es->org_certlen, (const unsigned char *const *)es->org_chain,
	        es->org_chainlen, es->org_nchain, &sp.reserve, err, errlen) != CMS_OK)
		goto out;
	if (pdf_prepare(pdf, len, &sp, pp, err, errlen) != PDF_OK ||
	    pdf_prepared_digest(pp, digest) != 0 ||
	    cms_signed_attrs(es->org_cert, es->org_certlen, digest, tbs, err, errlen) != CMS_OK)
		goto out;
	if (open_org(es, err, errlen) != 0)
		goto out;
	if (p11_sign_sha256(es->org, tbs, &sig, &siglen, err, errlen) != P11_OK) {
		p11_close(es->org);
		es->org = NULL;
		if (open_org(es, err, errlen) != 0 ||
		    p11_sign_sha256(es->org, tbs, &sig, &siglen, err, errlen) != P11_OK)
			goto out;
	}
	if (cms_assemble(es->org_cert, es->org_certlen, (const unsigned char *const *)es->org_chain,
	        es->org_chainlen, es->org_nchain, digest, sig, siglen, &cms, &cmslen, err,
	        errlen) != CMS_OK ||
	    pdf_embed(pp, cms, cmslen, err, errlen) != PDF_OK)
		goto out;
	rc = 0;
out:
	free(cms);
	free(sig);
	return rc;
}

/* Only a document the leader signed may be org-signed (Điều 32.2.d): one signature, valid,
 * covering the whole file, by the certificate recorded at sign. */
static int check_leader(const struct esign *es, const unsigned char *pdf, size_t len,
    const char *fingerprint, struct pdf_sig **sigs, size_t *n, char *err, size_t errlen)
{
	struct cms_verdict v;
	struct cms_part parts[2];

	if (pdf_signatures(pdf, len, sigs, n, err, errlen) != PDF_OK)
		return -1;
	if (*n != 1 || !(*sigs)[0].whole) {
		snprintf(err, errlen, "the leader's PDF holds %zu signatures (one, over the whole file, "
		    "was expected)", *n);
		return -1;
	}
	const struct pdf_sig *s = &(*sigs)[0];
	parts[0].data = pdf + s->range[0];
	parts[0].len = (size_t)s->range[1];
	parts[1].data = pdf + s->range[2];
	parts[1].len = (size_t)s->range[3];
	memset(&v, 0, sizeof(v));
	if (cms_verify_detached(es->trust, s->cms, s->cmslen, parts, 2, s->when, &v, err,
	        errlen) != CMS_OK) {
		snprintf(err, errlen, "the leader's signature does not verify: %s", v.reason);
		return -1;
	}
	if (strcmp(v.signer.fingerprint, fingerprint) != 0) {
		snprintf(err, errlen, "the leader's PDF is signed by %s (%.16s…), not by the certificate "
		    "recorded at sign (%.16s…)", v.signer.subject, v.signer.fingerprint, fingerprint);
		return -1;
	}
	return 0;
}

/* The number and the date in their places, in the sizes of the header (format-vn.md). */
static int make_stamps(const unsigned char *pdf, size_t len, const struct store_doc *doc,
    int party, struct pdf_stamp st[4], char text[4][16], char *err, size_t errlen)
{
	static const char *const names[4] = { RENDER_PLACE_NUMBER_NAME, RENDER_PLACE_DAY_NAME,
		RENDER_PLACE_MONTH_NAME, RENDER_PLACE_YEAR_NAME };
	int y, m, d;

	if (sscanf(doc->issued_on, "%d-%d-%d", &y, &m, &d) != 3) {
		snprintf(err, errlen, "document %lld has no issue date", (long long)doc->id);
		return -1;
	}
	snprintf(text[0], 16, "%s%lld", doc->number < 10 ? "0" : "", (long long)doc->number);
	snprintf(text[1], 16, "%02d", d);
	snprintf(text[2], 16, m <= 2 ? "%02d" : "%d", m);
	snprintf(text[3], 16, "%d", y);
	for (int i = 0; i < 4; i++) {
		struct pdf_point p;
		if (dest(pdf, len, names[i], &p, err, errlen) != 0)
			return -1;
		st[i].page = p.page;
		st[i].size = i == 0 ? (party ? 14 : 13) : 14;
		/* the number's mark follows "Số: "; the others follow their word, a space before */
		st[i].x = p.x + (i == 0 ? 0 : SPACE * st[i].size);
		st[i].y = p.y - ASCENT * st[i].size - BASELINE_FIX;
		st[i].text = text[i];
		st[i].oblique = i > 0;  /* the date line is italic (format-vn.md) */
	}
	return 0;
}

int esign_seal(struct esign *es, struct store *st, const struct config *cfg, int64_t id,
    const char *docx_path, int64_t uid, const char *login, char *err, size_t errlen)
{
	const struct config_body *body;
	struct store_doc doc;
	struct leader_row lr = { "", 0 };
	struct pdf_sig *sigs = NULL;
	size_t nsigs = 0, len = 0;
	struct pdf_stamp stamps[4];
	char text[4][16], sha[HASH_HEX_LEN + 1], path[PATH_MAX], when[40];
	struct pdf_sig_spec spec;
	struct pdf_prepared pp = { 0 };
	struct store_signed_pdf rec;
	unsigned char *pdf = NULL;
	time_t now = now_s();
	int rc = -1;

	memset(&doc, 0, sizeof(doc));
	if (store_doc_get(st, id, &doc, err, errlen) != STORE_OK)
		goto out;
	if (doc.signed_pdf_path == NULL || doc.number <= 0 || doc.issued_on == NULL) {
		snprintf(err, errlen, "document %lld has no leader's PDF or no number", (long long)id);
		goto out;
	}
	if (fsutil_read_file(doc.signed_pdf_path, MAX_PDF, &pdf, &len) != 0) {
		snprintf(err, errlen, "cannot read the leader's PDF %s: %s", doc.signed_pdf_path,
		    strerror(errno));
		goto out;
	}
	if (hash_sha256_hex(pdf, len, sha) != 0 || strcmp(sha, doc.signed_pdf_sha256) != 0) {
		snprintf(err, errlen, "the leader's PDF %s does not match its recorded SHA-256",
		    doc.signed_pdf_path);
		goto out;
	}
	if (store_doc_signatures(st, id, take_leader, &lr, err, errlen) != STORE_OK)
		goto out;
	if (!lr.found) {
		snprintf(err, errlen, "document %lld has no leader's signature recorded", (long long)id);
		goto out;
	}
	if (check_leader(es, pdf, len, lr.fingerprint, &sigs, &nsigs, err, errlen) != 0)
		goto out;
	body = config_find_body(cfg, doc.issuer);
	if (make_stamps(pdf, len, &doc, body && body->kind == BODY_PARTY, stamps, text, err,
	        errlen) != 0)
		goto out;
	/* the seal at its real size over the left third of the leader's signature (II.8.a) */
	const double *lr_rect = sigs[0].rect;
	double sw = lr_rect[2] - lr_rect[0], cy = (lr_rect[1] + lr_rect[3]) / 2;
	double dw = es->seal_pt, dh = es->seal_pt * es->seal.h / (es->seal.w ? es->seal.w : 1);
	memset(&spec, 0, sizeof(spec));
	spec.field = ORG_FIELD;
	spec.page = sigs[0].page;
	spec.rect[2] = lr_rect[0] + sw / 3;
	spec.rect[0] = spec.rect[2] - dw;
	spec.rect[1] = cy - dh / 2;
	spec.rect[3] = cy + dh / 2;
	spec.image = &es->seal;
	spec.stamps = stamps;
	spec.nstamps = 4;
	spec.font = es->font;
	spec.name = es->org_info.subject;
	spec.reason = "Phát hành";
	spec.location = body && body->place ? body->place : "";
	spec.when = now;
	if (org_sign(es, pdf, len, &spec, &pp, err, errlen) != 0)
		goto out;
	/* beside the DOCX, the same name */
	size_t pl = strlen(docx_path);
	if (pl < 5 || strcmp(docx_path + pl - 5, ".docx") != 0 || pl >= sizeof(path)) {
		snprintf(err, errlen, "unexpected DOCX name %s", docx_path);
		goto out;
	}
	snprintf(path, sizeof(path), "%.*s.pdf", (int)(pl - 5), docx_path);
	if (hash_sha256_hex(pp.buf, pp.len, sha) != 0 ||
	    fsutil_write_durable(path, pp.buf, pp.len, err, errlen) != 0)
		goto out;
	iso_vn(now, when, sizeof(when));
	memset(&rec, 0, sizeof(rec));
	rec.role = "organisation";
	rec.path = path;
	rec.sha256 = sha;
	rec.fingerprint = es->org_info.fingerprint;
	rec.subject = es->org_info.subject;
	rec.signed_at = when;
	if (store_doc_set_pdf(st, id, &rec, uid, login, err, errlen) != STORE_OK)
		goto out;
	log_info("document %lld issued as an electronic original %s (sha256 %s)", (long long)id,
	    path, sha);
	rc = 0;
out:
	pdf_prepared_free(&pp);
	pdf_signatures_free(sigs, nsigs);
	free(pdf);
	store_doc_free(&doc);
	return rc;
}

/* ---- electronic copies (bản sao điện tử) ---- */

/* "SAO Y" and "SAO LỤC" from their names on the command line; NULL for another. */
const char *esign_copy_form(const char *name)
{
	if (name == NULL || strcmp(name, "sao-y") == 0)
		return "SAO Y";
	if (strcmp(name, "sao-luc") == 0)
		return "SAO LỤC";
	return NULL;
}

int esign_copy(struct esign *es, struct store *st, const struct config *cfg, int64_t id,
    const char *form, int64_t uid, const char *login, int64_t *number, char *symbol,
    size_t symlen, char *err, size_t errlen)
{
	const struct config_body *body;
	struct store_doc doc;
	struct pdf_sig_spec spec;
	struct pdf_prepared pp = { 0 };
	struct pdf_stamp stamps[4];
	struct symbol_of sym;
	struct store_copy rec;
	unsigned char *pdf = NULL;
	size_t len = 0;
	char sha[HASH_HEX_LEN + 1], when[40], dir[PATH_MAX], path[PATH_MAX], stem[128],
	    failed[PATH_MAX], line_no[128];
	double box[4];
	int npages = 0, y, m, d, rc = -1;
	time_t now = now_s();
	json_t *v = NULL;

	memset(&doc, 0, sizeof(doc));
	if (store_doc_get(st, id, &doc, err, errlen) != STORE_OK)
		goto out;
	if (doc.pdf_path == NULL || doc.pdf_sha256 == NULL) {
		snprintf(err, errlen, "document %lld has no electronic original", (long long)id);
		rc = 1;
		goto out;
	}
	if (fsutil_read_file(doc.pdf_path, MAX_PDF, &pdf, &len) != 0 ||
	    hash_sha256_hex(pdf, len, sha) != 0 || strcmp(sha, doc.pdf_sha256) != 0) {
		snprintf(err, errlen, "the original %s is missing or does not match its SHA-256",
		    doc.pdf_path);
		goto out;
	}
	/* a copy is made of an original whose signatures all hold */
	v = pdfverify_buffer(pdf, len, es->trust, err, errlen);
	if (v == NULL || !json_is_true(json_object_get(v, "all_valid"))) {
		if (v != NULL)
			snprintf(err, errlen, "the original %s does not verify", doc.pdf_path);
		goto out;
	}
	body = config_find_body(cfg, doc.issuer);
	if (body == NULL) {
		snprintf(err, errlen, "document %lld's issuing body is no longer configured",
		    (long long)id);
		goto out;
	}
	clock_today_vn(&y, &m, &d);
	if (store_copy_next(st, body->abbrev, y, number, err, errlen) != STORE_OK)
		goto out;
	memset(&sym, 0, sizeof(sym));
	sym.party = body->kind == BODY_PARTY;
	sym.type = "SY";
	sym.body = body->abbrev;
	symbol_write(symbol, symlen, *number, &sym);
	if (pdf_page_box(pdf, len, 0, box, &npages, err, errlen) != PDF_OK)
		goto out;
	/* top right of page 1, Times New Roman 10 (Liberation Serif), upright, black (III.1.d) */
	iso_vn(now, when, sizeof(when));
	snprintf(line_no, sizeof(line_no), "Số: %s", symbol);
	const char *lines[4] = { form, body->name, line_no, when };
	for (int i = 0; i < 4; i++) {
		stamps[i].page = 0;
		stamps[i].oblique = 0;     /* upright (III.1.d) */
		stamps[i].size = 10;
		/* four lines of 11 pt inside the top margin (20 mm), clear of the header */
		stamps[i].x = box[2] - 20 * 72.0 / 25.4 - 200;
		stamps[i].y = box[3] - 6 - 9 - 11 * i;
		stamps[i].text = lines[i];
	}
	memset(&spec, 0, sizeof(spec));
	spec.field = "Bản sao điện tử";
	spec.page = 0;                 /* no image: the organisation's signature of a copy */
	spec.stamps = stamps;
	spec.nstamps = 4;
	spec.font = es->font;
	spec.name = es->org_info.subject;
	spec.reason = form;
	spec.location = body->place;
	spec.when = now;
	if (org_sign(es, pdf, len, &spec, &pp, err, errlen) != 0)
		goto out;
	/* beside the originals of the year, in ban-sao/; a number a crash left unrecorded is
	 * taken again, its file written over */
	const char *slash = strrchr(doc.pdf_path, '/');
	snprintf(dir, sizeof(dir), "%.*s/ban-sao", slash ? (int)(slash - doc.pdf_path) : 1,
	    slash ? doc.pdf_path : ".");
	if (fsutil_mkdir_p(dir, 0750, failed, sizeof(failed)) != 0) {
		snprintf(err, errlen, "cannot create %s: %s", failed, strerror(errno));
		goto out;
	}
	publish_file_stem(symbol, stem, sizeof(stem));
	snprintf(path, sizeof(path), "%s/%s.pdf", dir, stem);
	if (hash_sha256_hex(pp.buf, pp.len, sha) != 0 ||
	    fsutil_write_durable(path, pp.buf, pp.len, err, errlen) != 0)
		goto out;
	memset(&rec, 0, sizeof(rec));
	rec.body = body->abbrev;
	rec.year = y;
	rec.number = *number;
	rec.document_id = id;
	rec.form = form;
	rec.symbol = symbol;
	rec.made_by = login;
	rec.pdf_path = path;
	rec.pdf_sha256 = sha;
	if (store_copy_insert(st, &rec, uid, err, errlen) != STORE_OK)
		goto out;
	log_info("document %lld: electronic copy %s (%s) by %s: %s", (long long)id, symbol, form,
	    login, path);
	rc = 0;
out:
	json_decref(v);
	pdf_prepared_free(&pp);
	free(pdf);
	store_doc_free(&doc);
	return rc;
}
