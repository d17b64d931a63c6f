/*
 * cms.c: PAdES signatures as CMS SignedData through libcrypto: the trust
 * anchors, checking a signer's certificate, making a PAdES B-B signature in
 * two steps (signed attributes to be signed elsewhere, then the assembly
 * with the signature), and verifying any detached SignedData over a PDF's
 * byte ranges. Everything parsed comes from outside: sizes are capped and
 * every libcrypto result is checked.
 */
#include "cms.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define MAX_CERT 65536          /* bytes of one DER certificate */
#define MAX_CHAIN 16            /* further certificates in a signature we make */
#define MAX_SIG 2048            /* bytes of a signature value */
#define MAX_CMS (4u << 20)      /* bytes of a CMS to verify */
#define MAX_TRUST_FILE (4 << 20)
#define MAX_TRUST_FILES 1000

struct cms_trust {
	X509_STORE *store; /* owned */
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* libcrypto's last error as text (and the queue emptied), for messages. */
static const char *ossl_reason(char buf[160])
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, 160, "no detail");
	else
		ERR_error_string_n(e, buf, 160);
	ERR_clear_error();
	return buf;
}

/* ---- trust anchors ---- */

/* Adds every certificate of one PEM (or DER) file; the number added, -1 on error. */
static int trust_add_file(X509_STORE *store, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	X509 *x = NULL;
	int n = -1, added = 0;

	if (f == NULL) {
		seterr(err, errlen, "cannot open %s", path);
		return -1;
	}
	buf = malloc(MAX_TRUST_FILE + 1);
	if (buf == NULL) {
		seterr(err, errlen, "out of memory");
		goto done;
	}
	len = fread(buf, 1, MAX_TRUST_FILE + 1, f);
	if (ferror(f) || len > MAX_TRUST_FILE) {
		seterr(err, errlen, "%s: cannot read it, or larger than %d bytes", path,
		    MAX_TRUST_FILE);
		goto done;
	}
	bio = BIO_new_mem_buf(buf, (int)len);
	if (bio == NULL) {
		seterr(err, errlen, "out of memory");
		goto done;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(store, x) != 1) {
			char eb[160];

			seterr(err, errlen, "%s: %s", path, ossl_reason(eb));
			goto done;
		}
		X509_free(x);
		x = NULL;
		added++;
	}
	ERR_clear_error();
	if (added == 0) {
		const unsigned char *p = buf;

		x = d2i_X509(NULL, &p, (long)len);
		if (x != NULL && X509_STORE_add_cert(store, x) == 1)
			added = 1;
		ERR_clear_error();
	}
	n = added;
done:
	X509_free(x);
	BIO_free(bio);
	free(buf);
	fclose(f);
	return n;
}

static int has_cert_suffix(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && (strcasecmp(name + n - 4, ".pem") == 0 ||
	    strcasecmp(name + n - 4, ".crt") == 0 || strcasecmp(name + n - 4, ".cer") == 0);
}

int cms_trust_load(const char *path, struct cms_trust **out, char *err, size_t errlen)
{
	struct cms_trust *t = NULL;
	struct stat st;
	DIR *d = NULL;
	int total = 0, rc = CMS_ERR;

	*out = NULL;
	if (path == NULL || stat(path, &st) != 0) {
		seterr(err, errlen, "trust anchors %s: no such file or folder",
		    path != NULL ? path : "(none)");
		return CMS_ERR;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL || (t->store = X509_STORE_new()) == NULL) {
		seterr(err, errlen, "out of memory");
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		struct dirent *de;
		int files = 0;

		d = opendir(path);
		if (d == NULL) {
			seterr(err, errlen, "cannot open the folder %s", path);
			goto done;
		}
		while ((de = readdir(d)) != NULL) {
			char full[4096];
			int n;

			if (de->d_name[0] == '.' || !has_cert_suffix(de->d_name))
				continue;
			if (++files > MAX_TRUST_FILES) {
				seterr(err, errlen, "%s: more than %d certificate files", path,
				    MAX_TRUST_FILES);
				goto done;
			}
			if ((size_t)snprintf(full, sizeof(full), "%s/%s", path, de->d_name) >=
			    sizeof(full))
				continue;
			n = trust_add_file(t->store, full, err, errlen);
			if (n < 0)
				goto done;
			total += n;
		}
	} else {
		int n = trust_add_file(t->store, path, err, errlen);

		if (n < 0)
			goto done;
		total = n;
	}
	if (total == 0) {
		seterr(err, errlen, "trust anchors %s: no certificate found", path);
		goto done;
	}
	*out = t;
	t = NULL;
	rc = CMS_OK;
done:
	if (d != NULL)
		closedir(d);
	cms_trust_free(t);
	return rc;
}

void cms_trust_free(struct cms_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->store);
	free(t);
}

/* ---- what a certificate says ---- */

/* Copies n bytes of UTF-8 into dst (cap bytes with the NUL), never cutting a character,
 * control characters as '?'. */
static void copy_utf8(char *dst, size_t cap, const unsigned char *src, size_t n)
{
	size_t cut = n;

	if (cap == 0)
		return;
	if (cut > cap - 1) {
		cut = cap - 1;
		while (cut > 0 && (src[cut] & 0xC0) == 0x80)
			cut--;
	}
	for (size_t i = 0; i < cut; i++)
		dst[i] = (src[i] < 0x20 || src[i] == 0x7f) ? '?' : (char)src[i];
	dst[cut] = '\0';
}

static void name_rfc2253(const X509_NAME *name, char *dst, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;

	dst[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		n = BIO_get_mem_data(b, &data);
		if (n > 0)
			copy_utf8(dst, cap, (const unsigned char *)data, (size_t)n);
	}
	BIO_free(b);
	ERR_clear_error();
}

/* The name's (last) CN as UTF-8, else the whole name. */
static void name_cn(const X509_NAME *name, char *dst, size_t cap)
{
	int i = -1, last = -1;
	unsigned char *u = NULL;
	int n;

	while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0)
		last = i;
	if (last >= 0) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, last);

		n = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(e));
		if (n > 0) {
			copy_utf8(dst, cap, u, (size_t)n);
			OPENSSL_free(u);
			return;
		}
		OPENSSL_free(u);
		ERR_clear_error();
	}
	name_rfc2253(name, dst, cap);
}

static time_t asn1_time_t(const ASN1_TIME *at)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (at == NULL || ASN1_TIME_to_tm(at, &tm) != 1) {
		ERR_clear_error();
		return 0;
	}
	return timegm(&tm);
}

static void fill_info(X509 *x, struct cms_cert_info *info)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	BIGNUM *bn;

	memset(info, 0, sizeof(*info));
	if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32)
		for (unsigned int i = 0; i < 32; i++)
			snprintf(info->fingerprint + 2 * i, 3, "%02x", md[i]);
	name_rfc2253(X509_get_subject_name(x), info->subject_dn, sizeof(info->subject_dn));
	name_cn(X509_get_subject_name(x), info->subject, sizeof(info->subject));
	name_cn(X509_get_issuer_name(x), info->issuer, sizeof(info->issuer));
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	if (bn != NULL) {
		char *hex = BN_bn2hex(bn);

		if (hex != NULL) {
			size_t n = strlen(hex);

			for (size_t i = 0; i < n; i++)
				if (hex[i] >= 'A' && hex[i] <= 'F')
					hex[i] = (char)(hex[i] - 'A' + 'a');
			copy_utf8(info->serial, sizeof(info->serial), (unsigned char *)hex, n);
			OPENSSL_free(hex);
		}
		BN_free(bn);
	}
	info->not_before = asn1_time_t(X509_get0_notBefore(x));
	info->not_after = asn1_time_t(X509_get0_notAfter(x));
	ERR_clear_error();
}

static X509 *parse_cert(const unsigned char *der, size_t len, const char *what, char *err,
    size_t errlen)
{
	const unsigned char *p = der;
	X509 *x;

	if (der == NULL || len == 0 || len > MAX_CERT) {
		seterr(err, errlen, "%s: no certificate, or larger than %d bytes", what, MAX_CERT);
		return NULL;
	}
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL || p != der + len) {
		char eb[160];

		seterr(err, errlen, "%s is not a DER certificate: %s", what, ossl_reason(eb));
		X509_free(x);
		return NULL;
	}
	return x;
}

/* The checks of cms_check_cert on a parsed certificate; extra: intermediates (may be NULL). */
static int check_x509(const struct cms_trust *t, X509 *x, STACK_OF(X509) *extra, time_t at,
    struct cms_cert_info *info, char *err, size_t errlen)
{
	X509_STORE_CTX *ctx = NULL;
	uint32_t ku;
	int rc = CMS_ERR, e;

	fill_info(x, info);
	if (t == NULL) {
		seterr(err, errlen, "no trust anchors are configured");
		return CMS_UNTRUSTED;
	}
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || X509_STORE_CTX_init(ctx, t->store, x, extra) != 1) {
		seterr(err, errlen, "out of memory");
		goto done;
	}
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), at);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	if (X509_verify_cert(ctx) != 1) {
		e = X509_STORE_CTX_get_error(ctx);
		seterr(err, errlen, "certificate of \"%s\": %s (depth %d)", info->subject,
		    X509_verify_cert_error_string(e), X509_STORE_CTX_get_error_depth(ctx));
		rc = (e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID)
		    ? CMS_EXPIRED : CMS_UNTRUSTED;
		goto done;
	}
	/* No keyUsage extension means no restriction (RFC 5280 4.2.1.3): allowed. */
	ku = X509_get_key_usage(x);
	if (ku != UINT32_MAX && !(ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))) {
		seterr(err, errlen, "certificate of \"%s\": its key usage allows neither "
		    "digitalSignature nor nonRepudiation", info->subject);
		rc = CMS_USAGE;
		goto done;
	}
	rc = CMS_OK;
done:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int cms_check_cert(const struct cms_trust *t, const unsigned char *der, size_t len,
    time_t at, struct cms_cert_info *info, char *err, size_t errlen)
{
	X509 *x;
	int rc;

	memset(info, 0, sizeof(*info));
	x = parse_cert(der, len, "the certificate", err, errlen);
	if (x == NULL)
		return CMS_ERR;
	rc = check_x509(t, x, NULL, at, info, err, errlen);
	X509_free(x);
	return rc;
}

static void free_cert_stack(STACK_OF(X509) *s)
{
	sk_X509_pop_free(s, X509_free);
}

int cms_cert_chain(const struct cms_trust *t, const unsigned char *der, size_t len, time_t at,
    unsigned char ***certs, size_t **lens, size_t *n, char *err, size_t errlen)
{
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *chain = NULL;
	X509 *x;
	int rc = CMS_ERR;

	*certs = NULL;
	*lens = NULL;
	*n = 0;
	if (t == NULL) {
		seterr(err, errlen, "no trust anchors are configured");
		return CMS_UNTRUSTED;
	}
	if ((x = parse_cert(der, len, "the certificate", err, errlen)) == NULL)
		return CMS_ERR;
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || X509_STORE_CTX_init(ctx, t->store, x, NULL) != 1) {
		seterr(err, errlen, "out of memory");
		goto done;
	}
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), at);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	if (X509_verify_cert(ctx) != 1) {
		seterr(err, errlen, "%s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		rc = CMS_UNTRUSTED;
		goto done;
	}
	chain = X509_STORE_CTX_get1_chain(ctx);
	int m = chain ? sk_X509_num(chain) : 0;
	if (m > MAX_CHAIN + 2)
		m = MAX_CHAIN + 2;
	*certs = calloc((size_t)(m > 0 ? m : 1), sizeof(**certs));
	*lens = calloc((size_t)(m > 0 ? m : 1), sizeof(**lens));
	if (*certs == NULL || *lens == NULL)
		goto nomem;
	/* the intermediates: not the signer (index 0), not a self-signed root */
	for (int i = 1; i < m; i++) {
		X509 *c = sk_X509_value(chain, i);
		unsigned char *d = NULL;
		int dl;
		if (X509_get_extension_flags(c) & EXFLAG_SS)
			continue;
		if ((dl = i2d_X509(c, &d)) <= 0)
			goto nomem;
		if (((*certs)[*n] = malloc((size_t)dl)) == NULL) {
			OPENSSL_free(d);
			goto nomem;
		}
		memcpy((*certs)[*n], d, (size_t)dl);
		OPENSSL_free(d);
		(*lens)[(*n)++] = (size_t)dl;
	}
	rc = CMS_OK;
	goto done;
nomem:
	seterr(err, errlen, "out of memory");
	cms_chain_free(*certs, *lens, *n);
	*certs = NULL;
	*lens = NULL;
	*n = 0;
done:
	free_cert_stack(chain);
	X509_STORE_CTX_free(ctx);
	X509_free(x);
	ERR_clear_error();
	return rc;
}

void cms_chain_free(unsigned char **certs, size_t *lens, size_t n)
{
	for (size_t i = 0; certs != NULL && i < n; i++)
		free(certs[i]);
	free(certs);
	free(lens);
}

/* ---- making a PAdES B-B signature ---- */

struct der_item {
	unsigned char *data; /* OPENSSL_malloc'd by i2d */
	int len;
};

/* The order libcrypto gives a SET OF (tasn_enc.c der_cmp), so both encodings agree. */
static int der_item_cmp(const void *a, const void *b)
{
	const struct der_item *x = a, *y = b;
	int n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->data, y->data, (size_t)n);

	return c != 0 ? c : x->len - y->len;
}

/* The SHA-256 of the DER SET OF the signer info's signed attributes. */
static int signed_attrs_sha256(CMS_SignerInfo *si, unsigned char out[32], char *err,
    size_t errlen)
{
	struct der_item items[16];
	int n = CMS_signed_get_attr_count(si), made = 0, rc = CMS_ERR;
	size_t total = 0;
	unsigned char hdr[6];
	size_t hl = 0;
	EVP_MD_CTX *md = NULL;

	if (n <= 0 || n > 16) {
		seterr(err, errlen, "unexpected number of signed attributes (%d)", n);
		return CMS_ERR;
	}
	for (made = 0; made < n; made++) {
		items[made].data = NULL;
		items[made].len = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, made),
		    &items[made].data);
		if (items[made].len <= 0) {
			seterr(err, errlen, "cannot encode a signed attribute");
			goto done;
		}
		total += (size_t)items[made].len;
	}
	qsort(items, (size_t)n, sizeof(items[0]), der_item_cmp);
	hdr[hl++] = 0x31;
	if (total < 0x80) {
		hdr[hl++] = (unsigned char)total;
	} else if (total < 0x100) {
		hdr[hl++] = 0x81;
		hdr[hl++] = (unsigned char)total;
	} else if (total < 0x10000) {
		hdr[hl++] = 0x82;
		hdr[hl++] = (unsigned char)(total >> 8);
		hdr[hl++] = (unsigned char)total;
	} else {
		seterr(err, errlen, "signed attributes too large");
		goto done;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, hdr, hl) != 1) {
		seterr(err, errlen, "SHA-256 failed");
		goto done;
	}
	for (int i = 0; i < n; i++)
		if (EVP_DigestUpdate(md, items[i].data, (size_t)items[i].len) != 1) {
			seterr(err, errlen, "SHA-256 failed");
			goto done;
		}
	if (EVP_DigestFinal_ex(md, out, NULL) != 1) {
		seterr(err, errlen, "SHA-256 failed");
		goto done;
	}
	rc = CMS_OK;
done:
	EVP_MD_CTX_free(md);
	for (int i = 0; i < made; i++)
		OPENSSL_free(items[i].data);
	return rc;
}

/* Adds the ESS signing-certificate-v2 attribute naming x (SHA-256, with issuer and serial). */
static int add_signing_cert_v2(CMS_SignerInfo *si, X509 *x)
{
	ESS_SIGNING_CERT_V2 *sc = OSSL_ESS_signing_cert_v2_new_init(EVP_sha256(), x, NULL, 1);
	ASN1_STRING *seq = NULL;
	unsigned char *der = NULL;
	int len, ok = 0;

	if (sc == NULL)
		return 0;
	len = i2d_ESS_SIGNING_CERT_V2(sc, &der);
	if (len > 0 && (seq = ASN1_STRING_new()) != NULL && ASN1_STRING_set(seq, der, len) == 1)
		ok = CMS_signed_add1_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2,
		    V_ASN1_SEQUENCE, seq, -1) == 1;
	ASN1_STRING_free(seq);
	OPENSSL_free(der);
	ESS_SIGNING_CERT_V2_free(sc);
	return ok;
}

/*
 * The SignedData both steps build from the same inputs, so step one's
 * signed attributes are step two's: the signer (issuer and serial), SHA-256,
 * the signed attributes content-type, message-digest and
 * signing-certificate-v2 and nothing else (no signing time), the
 * certificates, detached content. No signature yet.
 */
static int build(X509 *x, STACK_OF(X509) *chain, const unsigned char content_sha256[32],
    CMS_ContentInfo **out, CMS_SignerInfo **psi, char *err, size_t errlen)
{
	EVP_PKEY *pub = X509_get0_pubkey(x);
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	char eb[160];
	int rc = CMS_ERR;

	*out = NULL;
	if (pub == NULL || !(EVP_PKEY_is_a(pub, "RSA") || EVP_PKEY_is_a(pub, "EC"))) {
		seterr(err, errlen, "the certificate's key is neither RSA nor EC");
		goto done;
	}
	cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_DETACHED | CMS_BINARY);
	if (cms == NULL) {
		seterr(err, errlen, "CMS_sign: %s", ossl_reason(eb));
		goto done;
	}
	/* The public key stands for the private one: with CMS_PARTIAL nothing is signed. */
	si = CMS_add1_signer(cms, x, pub, EVP_sha256(),
	    CMS_PARTIAL | CMS_NOSMIMECAP | CMS_BINARY);
	if (si == NULL) {
		seterr(err, errlen, "CMS_add1_signer: %s", ossl_reason(eb));
		goto done;
	}
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);
		int dup = X509_cmp(c, x) == 0;

		for (int j = 0; j < i && !dup; j++)
			dup = X509_cmp(c, sk_X509_value(chain, j)) == 0;
		if (!dup && CMS_add1_cert(cms, c) != 1) {
			seterr(err, errlen, "CMS_add1_cert: %s", ossl_reason(eb));
			goto done;
		}
	}
	if (CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
	        OBJ_nid2obj(NID_pkcs7_data), -1) != 1 ||
	    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING,
	        content_sha256, 32) != 1 ||
	    !add_signing_cert_v2(si, x)) {
		seterr(err, errlen, "cannot add the signed attributes: %s", ossl_reason(eb));
		goto done;
	}
	if (CMS_set_detached(cms, 1) != 1) {
		seterr(err, errlen, "CMS_set_detached: %s", ossl_reason(eb));
		goto done;
	}
	*out = cms;
	*psi = si;
	cms = NULL;
	rc = CMS_OK;
done:
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return rc;
}

int cms_signed_attrs(const unsigned char *cert, size_t certlen,
    const unsigned char content_sha256[32], unsigned char tbs_sha256[32],
    char *err, size_t errlen)
{
	X509 *x = parse_cert(cert, certlen, "the signer's certificate", err, errlen);
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si = NULL;
	int rc = CMS_ERR;

	if (x == NULL)
		return CMS_ERR;
	rc = build(x, NULL, content_sha256, &cms, &si, err, errlen);
	if (rc == CMS_OK)
		rc = signed_attrs_sha256(si, tbs_sha256, err, errlen);
	CMS_ContentInfo_free(cms);
	X509_free(x);
	return rc;
}

/*
 * The signer's certificate and the chain certificates cms_assemble and cms_reserve put in the
 * SignedData, parsed (at most MAX_CHAIN). CMS_OK with *x and *extra (the caller frees both),
 * or CMS_ERR with err and nothing to free.
 */
static int parse_signer(const unsigned char *cert, size_t certlen,
    const unsigned char *const *chain, const size_t *chainlen, size_t nchain, X509 **x,
    STACK_OF(X509) **extra, char *err, size_t errlen)
{
	*x = NULL;
	*extra = NULL;
	if (nchain > MAX_CHAIN) {
		seterr(err, errlen, "more than %d chain certificates", MAX_CHAIN);
		return CMS_ERR;
	}
	*x = parse_cert(cert, certlen, "the signer's certificate", err, errlen);
	if (*x == NULL)
		return CMS_ERR;
	*extra = sk_X509_new_null();
	if (*extra == NULL) {
		seterr(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < nchain; i++) {
		X509 *c = parse_cert(chain[i], chainlen[i], "a chain certificate", err, errlen);

		if (c == NULL)
			goto fail;
		if (!sk_X509_push(*extra, c)) {
			X509_free(c);
			seterr(err, errlen, "out of memory");
			goto fail;
		}
	}
	return CMS_OK;
fail:
	sk_X509_pop_free(*extra, X509_free);
	X509_free(*x);
	*x = NULL;
	*extra = NULL;
	return CMS_ERR;
}

/* Verifies sig over the SHA-256 digest tbs with pub (RSA PKCS#1 v1.5 or ECDSA): 1 if it does. */
static int verify_digest(EVP_PKEY *pub, const EVP_MD *md, const unsigned char *tbs,
    size_t tbslen, const unsigned char *sig, size_t siglen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
	int ok = 0;

	if (ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, md) == 1 &&
	    (!EVP_PKEY_is_a(pub, "RSA") ||
	        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1))
		ok = EVP_PKEY_verify(ctx, sig, siglen, tbs, tbslen) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

int cms_assemble(const unsigned char *cert, size_t certlen,
    const unsigned char *const *chain, const size_t *chainlen, size_t nchain,
    const unsigned char content_sha256[32], const unsigned char *sig, size_t siglen,
    unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
	X509 *x = NULL;
	STACK_OF(X509) *extra = NULL;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si = NULL;
	unsigned char tbs[32];
	unsigned char *der = NULL;
	int len, rc = CMS_ERR;
	char eb[160];

	*out = NULL;
	*outlen = 0;
	if (sig == NULL || siglen == 0 || siglen > MAX_SIG) {
		seterr(err, errlen, "no signature, or larger than %d bytes", MAX_SIG);
		return CMS_ERR;
	}
	if (parse_signer(cert, certlen, chain, chainlen, nchain, &x, &extra, err, errlen) != CMS_OK)
		return CMS_ERR;
	rc = build(x, extra, content_sha256, &cms, &si, err, errlen);
	if (rc != CMS_OK)
		goto done;
	rc = signed_attrs_sha256(si, tbs, err, errlen);
	if (rc != CMS_OK)
		goto done;
	if (!verify_digest(X509_get0_pubkey(x), EVP_sha256(), tbs, 32, sig, siglen)) {
		seterr(err, errlen, "the signature does not verify with the certificate's key");
		rc = CMS_BADSIG;
		goto done;
	}
	rc = CMS_ERR;
	if (ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig, (int)siglen) != 1) {
		seterr(err, errlen, "out of memory");
		goto done;
	}
	/* libcrypto's own encoding of the attributes must give the same signature check */
	if (CMS_SignerInfo_verify(si) != 1) {
		seterr(err, errlen, "the assembled SignedData does not verify: %s", ossl_reason(eb));
		goto done;
	}
	len = i2d_CMS_ContentInfo(cms, &der);
	if (len <= 0) {
		seterr(err, errlen, "cannot encode the SignedData: %s", ossl_reason(eb));
		goto done;
	}
	*out = malloc((size_t)len);
	if (*out == NULL) {
		seterr(err, errlen, "out of memory");
		goto done;
	}
	memcpy(*out, der, (size_t)len);
	*outlen = (size_t)len;
	rc = CMS_OK;
done:
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	sk_X509_pop_free(extra, X509_free);
	X509_free(x);
	ERR_clear_error();
	return rc;
}

/* The bytes of the SignedData cms_assemble makes from this certificate and chain, for any
 * content and signature: the same encoding with a signature as long as its key can give. */
int cms_reserve(const unsigned char *cert, size_t certlen,
    const unsigned char *const *chain, const size_t *chainlen, size_t nchain, size_t *out,
    char *err, size_t errlen)
{
	static const unsigned char zero[32];
	X509 *x = NULL;
	STACK_OF(X509) *extra = NULL;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si = NULL;
	unsigned char *sig = NULL;
	int siglen, len, rc = CMS_ERR;
	char eb[160];

	*out = 0;
	if (parse_signer(cert, certlen, chain, chainlen, nchain, &x, &extra, err, errlen) != CMS_OK)
		return CMS_ERR;
	if (build(x, extra, zero, &cms, &si, err, errlen) != CMS_OK)
		goto done;
	/* EVP_PKEY_size: the modulus for RSA, the longest DER ECDSA-Sig-Value for EC */
	siglen = EVP_PKEY_size(X509_get0_pubkey(x));
	if (siglen <= 0 || siglen > MAX_SIG || (sig = malloc((size_t)siglen)) == NULL) {
		seterr(err, errlen, "the certificate's key gives no usable signature size");
		goto done;
	}
	memset(sig, 0xff, (size_t)siglen);
	if (ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig, siglen) != 1) {
		seterr(err, errlen, "out of memory");
		goto done;
	}
	len = i2d_CMS_ContentInfo(cms, NULL);
	if (len <= 0) {
		seterr(err, errlen, "cannot encode the SignedData: %s", ossl_reason(eb));
		goto done;
	}
	*out = (size_t)len;
	rc = CMS_OK;
done:
	free(sig);
	CMS_ContentInfo_free(cms);
	sk_X509_pop_free(extra, X509_free);
	X509_free(x);
	ERR_clear_error();
	return rc;
}

/* ---- verifying ---- */

static const char *digest_name(int nid)
{
	switch (nid) {
	case NID_sha1: return "SHA-1";
	case NID_sha224: return "SHA-224";
	case NID_sha256: return "SHA-256";
	case NID_sha384: return "SHA-384";
	case NID_sha512: return "SHA-512";
	default: return OBJ_nid2sn(nid);
	}
}

/* The signingTime attribute as time_t, 0 if none or unreadable. */
static time_t signing_time(CMS_SignerInfo *si)
{
	int idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
	X509_ATTRIBUTE *a;
	ASN1_TYPE *ty;

	if (idx < 0)
		return 0;
	a = CMS_signed_get_attr(si, idx);
	ty = a != NULL ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;
	if (ty == NULL || (ty->type != V_ASN1_UTCTIME && ty->type != V_ASN1_GENERALIZEDTIME))
		return 0;
	return asn1_time_t(ty->value.utctime);
}

/*
 * The ESS signing-certificate(-v2) attributes: 1 if v2 is present and names
 * the signer, 0 if absent, -1 if one of them is present and names another
 * certificate (or cannot be read).
 */
static int check_ess(CMS_SignerInfo *si, X509 *signer, STACK_OF(X509) *certs)
{
	ASN1_STRING *s1 = CMS_signed_get0_data_by_OBJ(si,
	    OBJ_nid2obj(NID_id_smime_aa_signingCertificate), -3, V_ASN1_SEQUENCE);
	ASN1_STRING *s2 = CMS_signed_get0_data_by_OBJ(si,
	    OBJ_nid2obj(NID_id_smime_aa_signingCertificateV2), -3, V_ASN1_SEQUENCE);
	ESS_SIGNING_CERT *ss = NULL;
	ESS_SIGNING_CERT_V2 *ss2 = NULL;
	STACK_OF(X509) *chain = NULL;
	const unsigned char *p;
	int rc = -1;

	ERR_clear_error();
	if (s1 == NULL && s2 == NULL)
		return 0;
	if (s1 != NULL) {
		p = ASN1_STRING_get0_data(s1);
		if ((ss = d2i_ESS_SIGNING_CERT(NULL, &p, ASN1_STRING_length(s1))) == NULL)
			goto done;
	}
	if (s2 != NULL) {
		p = ASN1_STRING_get0_data(s2);
		if ((ss2 = d2i_ESS_SIGNING_CERT_V2(NULL, &p, ASN1_STRING_length(s2))) == NULL)
			goto done;
	}
	chain = sk_X509_new_null();
	if (chain == NULL || !sk_X509_push(chain, signer))
		goto done;
	for (int i = 0; i < sk_X509_num(certs); i++)
		if (sk_X509_value(certs, i) != signer && !sk_X509_push(chain, sk_X509_value(certs, i)))
			goto done;
	if (OSSL_ESS_check_signing_certs(ss, ss2, chain, 1) > 0)
		rc = ss2 != NULL ? 1 : 0;
done:
	sk_X509_free(chain); /* the certificates are certs' */
	ESS_SIGNING_CERT_free(ss);
	ESS_SIGNING_CERT_V2_free(ss2);
	ERR_clear_error();
	return rc;
}

/*
 * No signed attributes: the signature is over the content's digest itself.
 * Returns 1 when v->digest_ok says something (0: the signature is bad, so
 * nothing is known of the content).
 */
static int verify_raw(struct cms_verdict *v, EVP_PKEY *pub, const EVP_MD *md,
    const unsigned char *dg, unsigned int dglen, const ASN1_OCTET_STRING *sig)
{
	const unsigned char *s = ASN1_STRING_get0_data(sig);
	size_t slen = (size_t)ASN1_STRING_length(sig);
	int known = 0;

	if (pub == NULL)
		return 0;
	if (EVP_PKEY_is_a(pub, "RSA")) {
		/* recover the DigestInfo's digest: a bad signature and a changed file differ */
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
		unsigned char got[EVP_MAX_MD_SIZE + 64];
		size_t gotlen = sizeof(got);

		if (ctx != NULL && EVP_PKEY_verify_recover_init(ctx) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(ctx, md) == 1 &&
		    EVP_PKEY_verify_recover(ctx, got, &gotlen, s, slen) == 1) {
			v->signature_ok = 1;
			v->digest_ok = gotlen == dglen && memcmp(got, dg, dglen) == 0;
			known = 1;
		}
		EVP_PKEY_CTX_free(ctx);
	} else {
		v->signature_ok = v->digest_ok = verify_digest(pub, md, dg, dglen, s, slen);
		known = 1; /* ECDSA cannot tell a changed content from a bad signature */
		if (!v->signature_ok)
			snprintf(v->reason, sizeof(v->reason), "the signature (no signed attributes) "
			    "does not match the content: the content changed or the signature is bad");
	}
	ERR_clear_error();
	return known;
}

int cms_verify_detached(const struct cms_trust *t, const unsigned char *der, size_t len,
    const struct cms_part *parts, size_t nparts, time_t at, struct cms_verdict *v,
    char *err, size_t errlen)
{
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	CMS_SignerInfo *si;
	STACK_OF(X509) *certs = NULL;
	X509 *signer = NULL;
	X509_ALGOR *dig = NULL;
	const ASN1_OBJECT *dobj = NULL;
	const EVP_MD *md;
	EVP_MD_CTX *mctx = NULL;
	unsigned char dg[EVP_MAX_MD_SIZE];
	unsigned int dglen = 0;
	const unsigned char *p = der;
	int chain_rc = CMS_UNTRUSTED, ess = 0, nid, digest_known = 1;
	char creason[256] = "";

	memset(v, 0, sizeof(*v));
	v->rc = CMS_ERR;
	if (der == NULL || len == 0 || len > MAX_CMS || (parts == NULL && nparts > 0)) {
		snprintf(v->reason, sizeof(v->reason), "no signature, or larger than %u bytes",
		    MAX_CMS);
		goto done;
	}
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (cms == NULL || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		snprintf(v->reason, sizeof(v->reason), "the signature is not a CMS SignedData");
		goto done;
	}
	sis = CMS_get0_SignerInfos(cms);
	if (sk_CMS_SignerInfo_num(sis) != 1) {
		snprintf(v->reason, sizeof(v->reason), "the SignedData has %d signers, not one",
		    sk_CMS_SignerInfo_num(sis));
		goto done;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
	if (dig != NULL)
		X509_ALGOR_get0(&dobj, NULL, NULL, dig);
	nid = dobj != NULL ? OBJ_obj2nid(dobj) : NID_undef;
	md = nid != NID_undef ? EVP_get_digestbynid(nid) : NULL;
	if (md == NULL) {
		snprintf(v->reason, sizeof(v->reason), "unknown digest algorithm");
		goto done;
	}
	snprintf(v->digest_alg, sizeof(v->digest_alg), "%s", digest_name(nid));
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL || EVP_DigestInit_ex(mctx, md, NULL) != 1) {
		snprintf(v->reason, sizeof(v->reason), "cannot compute %s", v->digest_alg);
		goto done;
	}
	for (size_t i = 0; i < nparts; i++)
		if (parts[i].len > 0 && EVP_DigestUpdate(mctx, parts[i].data, parts[i].len) != 1) {
			snprintf(v->reason, sizeof(v->reason), "cannot compute %s", v->digest_alg);
			goto done;
		}
	if (EVP_DigestFinal_ex(mctx, dg, &dglen) != 1) {
		snprintf(v->reason, sizeof(v->reason), "cannot compute %s", v->digest_alg);
		goto done;
	}
	v->signing_time = signing_time(si);

	certs = CMS_get1_certs(cms);
	for (int i = 0; i < sk_X509_num(certs) && signer == NULL; i++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i)) == 0)
			signer = sk_X509_value(certs, i); /* certs' */
	if (CMS_signed_get_attr_count(si) > 0) {
		ASN1_OCTET_STRING *os = CMS_signed_get0_data_by_OBJ(si,
		    OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING);

		v->digest_ok = os != NULL && (unsigned int)ASN1_STRING_length(os) == dglen &&
		    memcmp(ASN1_STRING_get0_data(os), dg, dglen) == 0;
		if (signer != NULL) {
			CMS_SignerInfo_set1_signer_cert(si, signer);
			v->signature_ok = CMS_SignerInfo_verify(si) == 1;
			ess = check_ess(si, signer, certs);
			v->has_signing_cert_v2 = ess == 1;
		}
	} else {
		digest_known = 0;
		if (signer != NULL)
			digest_known = verify_raw(v, X509_get0_pubkey(signer), md, dg, dglen,
		    CMS_SignerInfo_get0_signature(si));
	}
	ERR_clear_error();

	if (signer != NULL) {
		time_t when = at != 0 ? at : v->signing_time != 0 ? v->signing_time : time(NULL);

		chain_rc = check_x509(t, signer, certs, when, &v->signer, creason, sizeof(creason));
		v->chain_ok = chain_rc == CMS_OK || chain_rc == CMS_USAGE;
	}

	if (digest_known && !v->digest_ok) {
		v->rc = CMS_DIGEST;
		if (v->reason[0] == '\0')
			snprintf(v->reason, sizeof(v->reason), "the signed content changed: its %s "
			    "differs from the signature's message digest", v->digest_alg);
	} else if (signer == NULL) {
		v->rc = CMS_BADSIG;
		snprintf(v->reason, sizeof(v->reason), "the signer's certificate is not in the "
		    "signature");
	} else if (!v->signature_ok) {
		v->rc = CMS_BADSIG;
		snprintf(v->reason, sizeof(v->reason), "the signature does not verify with the "
		    "signer's key");
	} else if (ess < 0) {
		v->rc = CMS_BADSIG;
		snprintf(v->reason, sizeof(v->reason), "the signing-certificate attribute names "
		    "another certificate than the signer's");
	} else if (chain_rc != CMS_OK) {
		v->rc = chain_rc;
		snprintf(v->reason, sizeof(v->reason), "%s", creason);
	} else {
		v->rc = CMS_OK;
		v->reason[0] = '\0';
	}
done:
	if (v->rc != CMS_OK)
		seterr(err, errlen, "%s", v->reason);
	EVP_MD_CTX_free(mctx);
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return v->rc;
}
