/* test_cms.c: unit tests of cms.c with the test PKI of tests/tools/pki.py: trust anchors, certificate checks, PAdES B-B signatures made on SoftHSM (through p11.c) and read by the openssl CLI, and verifying our own and openssl's CMS. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cms.h"
#include "p11.h"

#define T_2020_06 1590969600L   /* 2020-06-01 00:00:00 UTC */
#define T_NB 1577836800L        /* 2020-01-01 00:00:00 UTC: the certificates' notBefore */
#define T_NA 2524607999L        /* 2049-12-31 23:59:59 UTC: their notAfter */

struct fx {
	char dir[64];            /* the PKI's temporary folder */
	json_t *pki;             /* owned: DIR/pki.json */
	struct cms_trust *trust; /* owned: the test CA */
	unsigned char content[3000];
};

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

static void spill(const char *path, const unsigned char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static const char *field(struct fx *fx, const char *name, const char *key)
{
	json_t *o = strcmp(name, "ca") == 0 || strcmp(name, "other_ca") == 0 ||
	        strcmp(name, "sub_ca") == 0
	    ? json_object_get(fx->pki, name)
	    : json_object_get(json_object_get(fx->pki, "certs"), name);
	json_t *v = json_object_get(o, key);

	assert_non_null(v);
	return json_string_value(v);
}

static char *tmp_path(struct fx *fx, const char *name)
{
	static char buf[4][160];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", fx->dir, name);
	return buf[i];
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *src = getenv("VANTHU_SRCDIR");
	char cmd[512], path[128], err[256];

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_cms.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/tools/pki.py make %s",
	    src != NULL ? src : ".", fx->dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/pki.json", fx->dir);
	fx->pki = json_load_file(path, 0, NULL);
	if (fx->pki == NULL)
		return -1;
	setenv("SOFTHSM2_CONF", json_string_value(json_object_get(fx->pki, "softhsm2_conf")), 1);
	if (cms_trust_load(json_string_value(json_object_get(json_object_get(fx->pki, "ca"),
	        "cert")), &fx->trust, err, sizeof(err)) != CMS_OK) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	/* a PDF-ish content: "%PDF" and bytes of every value */
	memcpy(fx->content, "%PDF-1.7\n", 9);
	for (size_t i = 9; i < sizeof(fx->content); i++)
		fx->content[i] = (unsigned char)(i * 7 + 3);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	if (system(cmd) != 0)
		return -1;
	cms_trust_free(fx->trust);
	json_decref(fx->pki);
	free(fx);
	return 0;
}

static void sha256(const void *data, size_t len, unsigned char out[32])
{
	assert_int_equal(EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL), 1);
}

static unsigned char *cert_der(struct fx *fx, const char *name, size_t *len)
{
	unsigned char *der = slurp(field(fx, name, "der"), len);

	assert_non_null(der);
	return der;
}

/*
 * The whole external signing: the certificate from the token, the signed
 * attributes, the signature by the token, the assembly. chain_ca: include the
 * CA certificate. Returns the DER (malloc'd); asserts every step.
 */
static unsigned char *sign_on_token(struct fx *fx, const char *name, const unsigned char *data,
    size_t len, int chain_ca, size_t *outlen)
{
	struct p11_spec spec = {
		.module = json_string_value(json_object_get(fx->pki, "module")),
		.token = field(fx, name, "token"), .key_label = field(fx, name, "label"),
		.pin = field(fx, name, "pin"),
	};
	struct p11 *p = NULL;
	unsigned char digest[32], tbs[32], tbs2[32], *cert = NULL, *sig = NULL, *out = NULL;
	unsigned char *ca = NULL;
	size_t certlen = 0, siglen = 0, calen = 0;
	char err[256] = "";

	sha256(data, len, digest);
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_OK);
	assert_int_equal(p11_certificate(p, &cert, &certlen, err, sizeof(err)), P11_OK);
	assert_int_equal(cms_signed_attrs(cert, certlen, digest, tbs, err, sizeof(err)), CMS_OK);
	/* deterministic: the second step may be done later, elsewhere */
	assert_int_equal(cms_signed_attrs(cert, certlen, digest, tbs2, err, sizeof(err)), CMS_OK);
	assert_memory_equal(tbs, tbs2, 32);
	assert_int_equal(p11_sign_sha256(p, tbs, &sig, &siglen, err, sizeof(err)), P11_OK);
	p11_close(p);
	if (chain_ca) {
		const unsigned char *chain[1];
		size_t chainlen[1];

		ca = cert_der(fx, "ca", &calen);
		chain[0] = ca;
		chainlen[0] = calen;
		assert_int_equal(cms_assemble(cert, certlen, chain, chainlen, 1, digest, sig, siglen,
		    &out, outlen, err, sizeof(err)), CMS_OK);
	} else {
		int rc = cms_assemble(cert, certlen, NULL, NULL, 0, digest, sig, siglen, &out,
		    outlen, err, sizeof(err));

		if (rc != CMS_OK)
			fprintf(stderr, "cms_assemble: %s\n", err);
		assert_int_equal(rc, CMS_OK);
	}
	assert_non_null(out);
	free(ca);
	free(sig);
	free(cert);
	return out;
}

/* The content in two byte ranges, as a PDF's signature has them. */
static int verify2(struct fx *fx, const unsigned char *der, size_t len, const unsigned char *data,
    size_t dlen, time_t at, struct cms_verdict *v)
{
	struct cms_part parts[2] = { { data, 100 }, { data + 100, dlen - 100 } };
	char err[256];

	(void)fx;
	return cms_verify_detached(fx->trust, der, len, parts, 2, at, v, err, sizeof(err));
}

static int run(const char *cmd)
{
	return system(cmd);
}

/* ---- trust anchors and certificates ---- */

static void test_trust_load(void **state)
{
	struct fx *fx = *state;
	struct cms_trust *t = NULL;
	struct cms_cert_info info;
	unsigned char *der;
	size_t len;
	char err[256] = "", cmd[512];

	/* a folder: the CA as DER in a .crt, a text file that is ignored */
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/anchors && cp %s %s/anchors/root.crt && "
	    "echo hello > %s/anchors/readme.txt", fx->dir, field(fx, "ca", "der"), fx->dir, fx->dir);
	assert_int_equal(run(cmd), 0);
	assert_int_equal(cms_trust_load(tmp_path(fx, "anchors"), &t, err, sizeof(err)), CMS_OK);
	der = cert_der(fx, "leader", &len);
	assert_int_equal(cms_check_cert(t, der, len, time(NULL), &info, err, sizeof(err)), CMS_OK);
	cms_trust_free(t);
	/* one PEM file with two CAs: both anchor */
	snprintf(cmd, sizeof(cmd), "cat %s %s > %s/both.pem", field(fx, "other_ca", "cert"),
	    field(fx, "ca", "cert"), fx->dir);
	assert_int_equal(run(cmd), 0);
	assert_int_equal(cms_trust_load(tmp_path(fx, "both.pem"), &t, err, sizeof(err)), CMS_OK);
	assert_int_equal(cms_check_cert(t, der, len, time(NULL), &info, err, sizeof(err)), CMS_OK);
	free(der);
	der = cert_der(fx, "untrusted", &len);
	assert_int_equal(cms_check_cert(t, der, len, time(NULL), &info, err, sizeof(err)), CMS_OK);
	free(der);
	cms_trust_free(t);
	/* nothing usable */
	assert_int_equal(cms_trust_load(tmp_path(fx, "nothing-here"), &t, err, sizeof(err)),
	    CMS_ERR);
	assert_null(t);
	assert_int_equal(cms_trust_load(tmp_path(fx, "anchors/readme.txt"), &t, err, sizeof(err)),
	    CMS_ERR);
	assert_non_null(strstr(err, "no certificate"));
	cms_trust_free(NULL);
}

static void test_check_cert_info(void **state)
{
	struct fx *fx = *state;
	struct cms_cert_info info;
	unsigned char *der;
	size_t len;
	char err[256] = "";

	der = cert_der(fx, "leader", &len);
	assert_int_equal(cms_check_cert(fx->trust, der, len, time(NULL), &info, err, sizeof(err)),
	    CMS_OK);
	assert_string_equal(info.subject, "Nguyễn Văn Thông");
	assert_string_equal(info.issuer, "Cục Chứng thực số thử nghiệm");
	assert_string_equal(info.subject_dn,
	    "CN=Nguyễn Văn Thông,O=Ủy ban nhân dân xã Thử Nghiệm,C=VN");
	assert_string_equal(info.fingerprint, field(fx, "leader", "fingerprint"));
	assert_string_equal(info.serial, "1001");
	assert_int_equal(info.not_before, T_NB);
	assert_int_equal(info.not_after, T_NA);
	/* the organisation's */
	free(der);
	der = cert_der(fx, "org", &len);
	assert_int_equal(cms_check_cert(fx->trust, der, len, time(NULL), &info, err, sizeof(err)),
	    CMS_OK);
	assert_string_equal(info.subject, "Ủy ban nhân dân xã Thử Nghiệm");
	free(der);
}

static void test_check_cert_refusals(void **state)
{
	struct fx *fx = *state;
	struct cms_cert_info info;
	unsigned char *der;
	size_t len;
	char err[256] = "";

	der = cert_der(fx, "expired", &len);
	assert_int_equal(cms_check_cert(fx->trust, der, len, time(NULL), &info, err, sizeof(err)),
	    CMS_EXPIRED);
	assert_string_equal(info.subject, "Lê Văn Hết Hạn"); /* info whatever the result */
	assert_non_null(strstr(err, "expired"));
	/* but it was valid in 2020 */
	assert_int_equal(cms_check_cert(fx->trust, der, len, T_2020_06, &info, err, sizeof(err)),
	    CMS_OK);
	free(der);

	der = cert_der(fx, "notyet", &len);
	assert_int_equal(cms_check_cert(fx->trust, der, len, time(NULL), &info, err, sizeof(err)),
	    CMS_EXPIRED);
	free(der);

	der = cert_der(fx, "untrusted", &len);
	assert_int_equal(cms_check_cert(fx->trust, der, len, time(NULL), &info, err, sizeof(err)),
	    CMS_UNTRUSTED);
	assert_string_equal(info.issuer, "CA lạ không tin cậy");
	assert_int_equal(cms_check_cert(NULL, der, len, time(NULL), &info, err, sizeof(err)),
	    CMS_UNTRUSTED);
	free(der);

	der = cert_der(fx, "keyenc", &len);
	assert_int_equal(cms_check_cert(fx->trust, der, len, time(NULL), &info, err, sizeof(err)),
	    CMS_USAGE);
	/* malformed: truncated, garbage, empty */
	assert_int_equal(cms_check_cert(fx->trust, der, len - 1, time(NULL), &info, err,
	    sizeof(err)), CMS_ERR);
	assert_int_equal(cms_check_cert(fx->trust, (const unsigned char *)"\x30\x03\x02\x01\x01",
	    5, time(NULL), &info, err, sizeof(err)), CMS_ERR);
	assert_int_equal(cms_check_cert(fx->trust, der, 0, time(NULL), &info, err, sizeof(err)),
	    CMS_ERR);
	free(der);
}

/* ---- making ---- */

static void check_with_openssl(struct fx *fx, const unsigned char *der, size_t len,
    const unsigned char *data, size_t dlen, int expect_ok)
{
	char cmd[1024];

	spill(tmp_path(fx, "sig.der"), der, len);
	spill(tmp_path(fx, "content.bin"), data, dlen);
	snprintf(cmd, sizeof(cmd), "openssl cms -verify -binary -inform DER -in %s -content %s "
	    "-CAfile %s -out /dev/null 2>%s", tmp_path(fx, "sig.der"), tmp_path(fx, "content.bin"),
	    field(fx, "ca", "cert"), tmp_path(fx, "cli.err"));
	if (expect_ok)
		assert_int_equal(run(cmd), 0);
	else
		assert_int_not_equal(run(cmd), 0);
}

static void sign_roundtrip(struct fx *fx, const char *name)
{
	struct cms_verdict v;
	unsigned char *der, *der2, *print;
	size_t len, len2, plen = 0;
	char cmd[1024];

	der = sign_on_token(fx, name, fx->content, sizeof(fx->content), 0, &len);
	/* the independent reader accepts it, and refuses it over other content */
	check_with_openssl(fx, der, len, fx->content, sizeof(fx->content), 1);
	fx->content[2000] ^= 0x20;
	check_with_openssl(fx, der, len, fx->content, sizeof(fx->content), 0);
	fx->content[2000] ^= 0x20;
	/* the attributes: signing-certificate-v2, no signing time */
	spill(tmp_path(fx, "sig.der"), der, len);
	snprintf(cmd, sizeof(cmd), "openssl cms -cmsout -print -inform DER -in %s > %s",
	    tmp_path(fx, "sig.der"), tmp_path(fx, "print.txt"));
	assert_int_equal(run(cmd), 0);
	print = slurp(tmp_path(fx, "print.txt"), &plen);
	assert_non_null(print);
	print[plen] = '\0';
	assert_non_null(strstr((char *)print, "signingCertificateV2"));
	assert_non_null(strstr((char *)print, "messageDigest"));
	assert_non_null(strstr((char *)print, "contentType"));
	assert_null(strstr((char *)print, "signingTime"));
	assert_null(strstr((char *)print, "SMIMECapabilities"));
	assert_non_null(strstr((char *)print, "eContent: <ABSENT>")); /* detached */
	free(print);

	assert_int_equal(verify2(fx, der, len, fx->content, sizeof(fx->content), 0, &v), CMS_OK);
	assert_int_equal(v.rc, CMS_OK);
	assert_true(v.digest_ok && v.signature_ok && v.chain_ok && v.has_signing_cert_v2);
	assert_string_equal(v.digest_alg, "SHA-256");
	assert_int_equal(v.signing_time, 0);
	assert_string_equal(v.signer.fingerprint, field(fx, name, "fingerprint"));
	assert_string_equal(v.signer.subject, "Nguyễn Văn Thông");

	/* the changed file */
	fx->content[sizeof(fx->content) - 1] ^= 1;
	assert_int_equal(verify2(fx, der, len, fx->content, sizeof(fx->content), 0, &v),
	    CMS_DIGEST);
	assert_false(v.digest_ok);
	assert_true(v.signature_ok);
	assert_true(v.reason[0] != '\0');
	fx->content[sizeof(fx->content) - 1] ^= 1;
	/* the signature value is the last field: a changed byte there is a bad signature */
	der[len - 1] ^= 1;
	assert_int_equal(verify2(fx, der, len, fx->content, sizeof(fx->content), 0, &v),
	    CMS_BADSIG);
	assert_true(v.digest_ok);
	assert_false(v.signature_ok);
	der[len - 1] ^= 1;

	/* with the CA in the certificates too */
	der2 = sign_on_token(fx, name, fx->content, sizeof(fx->content), 1, &len2);
	assert_true(len2 > len);
	check_with_openssl(fx, der2, len2, fx->content, sizeof(fx->content), 1);
	assert_int_equal(verify2(fx, der2, len2, fx->content, sizeof(fx->content), 0, &v), CMS_OK);
	free(der2);
	free(der);
}

static void test_sign_rsa(void **state)
{
	struct fx *fx = *state;
	unsigned char *a, *b;
	size_t la, lb;

	sign_roundtrip(fx, "leader");
	/* RSA PKCS#1 v1.5 and no signing time: the whole CMS is deterministic */
	a = sign_on_token(fx, "leader", fx->content, sizeof(fx->content), 0, &la);
	b = sign_on_token(fx, "leader", fx->content, sizeof(fx->content), 0, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
}

static void test_sign_ec(void **state)
{
	sign_roundtrip(*state, "leader_ec");
}

static void test_assemble_bad_signature(void **state)
{
	struct fx *fx = *state;
	struct p11_spec spec = {
		.module = json_string_value(json_object_get(fx->pki, "module")),
		.token = "thu-nghiem", .key_label = "lanh-dao-2", .pin = "5678",
	};
	struct p11 *p = NULL;
	unsigned char digest[32], tbs[32], *cert, *sig = NULL, *out = NULL;
	size_t certlen, siglen = 0, outlen = 0;
	char err[256] = "";

	sha256(fx->content, sizeof(fx->content), digest);
	cert = cert_der(fx, "leader", &certlen);
	assert_int_equal(cms_signed_attrs(cert, certlen, digest, tbs, err, sizeof(err)), CMS_OK);
	/* signed by another key */
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_OK);
	assert_int_equal(p11_sign_sha256(p, tbs, &sig, &siglen, err, sizeof(err)), P11_OK);
	p11_close(p);
	assert_int_equal(cms_assemble(cert, certlen, NULL, NULL, 0, digest, sig, siglen, &out,
	    &outlen, err, sizeof(err)), CMS_BADSIG);
	assert_null(out);
	/* the right key over another content's attributes */
	free(sig);
	spec.token = "lanh-dao";
	spec.key_label = "chu-ky";
	spec.pin = "1234";
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_OK);
	assert_int_equal(p11_sign_sha256(p, tbs, &sig, &siglen, err, sizeof(err)), P11_OK);
	p11_close(p);
	digest[5] ^= 1;
	assert_int_equal(cms_assemble(cert, certlen, NULL, NULL, 0, digest, sig, siglen, &out,
	    &outlen, err, sizeof(err)), CMS_BADSIG);
	digest[5] ^= 1;
	assert_int_equal(cms_assemble(cert, certlen, NULL, NULL, 0, digest, sig, siglen, &out,
	    &outlen, err, sizeof(err)), CMS_OK);
	free(out);
	/* garbage in */
	assert_int_equal(cms_assemble(cert, certlen, NULL, NULL, 0, digest, sig, 0, &out,
	    &outlen, err, sizeof(err)), CMS_ERR);
	assert_int_equal(cms_assemble(cert, certlen / 2, NULL, NULL, 0, digest, sig, siglen, &out,
	    &outlen, err, sizeof(err)), CMS_ERR);
	assert_int_equal(cms_signed_attrs(cert, 10, digest, tbs, err, sizeof(err)), CMS_ERR);
	free(sig);
	free(cert);
}

/* ---- verifying: the chain ---- */

static void test_verify_chain_codes(void **state)
{
	struct fx *fx = *state;
	struct cms_verdict v;
	struct cms_part part = { fx->content, sizeof(fx->content) };
	unsigned char *der;
	size_t len;
	char err[256];

	der = sign_on_token(fx, "expired", fx->content, sizeof(fx->content), 0, &len);
	assert_int_equal(verify2(fx, der, len, fx->content, sizeof(fx->content), 0, &v),
	    CMS_EXPIRED);
	assert_true(v.digest_ok && v.signature_ok);
	assert_false(v.chain_ok);
	assert_string_equal(v.signer.subject, "Lê Văn Hết Hạn");
	assert_int_equal(verify2(fx, der, len, fx->content, sizeof(fx->content), T_2020_06, &v),
	    CMS_OK);
	free(der);

	der = sign_on_token(fx, "untrusted", fx->content, sizeof(fx->content), 0, &len);
	assert_int_equal(verify2(fx, der, len, fx->content, sizeof(fx->content), 0, &v),
	    CMS_UNTRUSTED);
	assert_true(v.digest_ok && v.signature_ok && !v.chain_ok);
	/* no trust store: the same, with its reason */
	assert_int_equal(cms_verify_detached(NULL, der, len, &part, 1, 0, &v, err, sizeof(err)),
	    CMS_UNTRUSTED);
	assert_non_null(strstr(v.reason, "trust"));
	free(der);

	der = sign_on_token(fx, "keyenc", fx->content, sizeof(fx->content), 0, &len);
	assert_int_equal(verify2(fx, der, len, fx->content, sizeof(fx->content), 0, &v), CMS_USAGE);
	assert_true(v.chain_ok);
	free(der);
}

/* ---- verifying other tools' CMS ---- */

/* openssl cms -sign over the content with the leader's key file; returns the DER. */
static unsigned char *openssl_sign(struct fx *fx, const char *name, const char *opts,
    size_t *len)
{
	char cmd[1024];
	unsigned char *der;

	spill(tmp_path(fx, "content.bin"), fx->content, sizeof(fx->content));
	snprintf(cmd, sizeof(cmd), "openssl cms -sign -binary -in %s -signer %s -inkey %s "
	    "-outform DER -out %s %s", tmp_path(fx, "content.bin"), field(fx, name, "cert"),
	    field(fx, name, "key"), tmp_path(fx, "os.der"), opts);
	assert_int_equal(run(cmd), 0);
	der = slurp(tmp_path(fx, "os.der"), len);
	assert_non_null(der);
	return der;
}

static void test_verify_openssl_made(void **state)
{
	struct fx *fx = *state;
	static const struct {
		const char *opts, *alg;
	} cases[] = {
		{ "-md sha1", "SHA-1" },
		{ "-md sha256", "SHA-256" },
		{ "-md sha384", "SHA-384" },
		{ "-md sha256 -cades", "SHA-256" },
	};
	struct cms_verdict v;
	unsigned char *der;
	size_t len;
	time_t now = time(NULL);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		der = openssl_sign(fx, "leader", cases[i].opts, &len);
		assert_int_equal(verify2(fx, der, len, fx->content, sizeof(fx->content), 0, &v),
		    CMS_OK);
		assert_string_equal(v.digest_alg, cases[i].alg);
		assert_true(v.signing_time >= now - 600 && v.signing_time <= now + 600);
		assert_int_equal(v.has_signing_cert_v2, strstr(cases[i].opts, "cades") != NULL);
		fx->content[10] ^= 1;
		assert_int_equal(verify2(fx, der, len, fx->content, sizeof(fx->content), 0, &v),
		    CMS_DIGEST);
		fx->content[10] ^= 1;
		free(der);
	}
}

static void test_verify_no_attributes(void **state)
{
	struct fx *fx = *state;
	struct cms_verdict v;
	unsigned char *der;
	size_t len;
	const char *names[] = { "leader", "leader_ec" };

	for (size_t i = 0; i < 2; i++) {
		der = openssl_sign(fx, names[i], "-md sha256 -noattr", &len);
		assert_int_equal(verify2(fx, der, len, fx->content, sizeof(fx->content), 0, &v),
		    CMS_OK);
		assert_int_equal(v.signing_time, 0);
		assert_false(v.has_signing_cert_v2);
		fx->content[77] ^= 4;
		assert_int_equal(verify2(fx, der, len, fx->content, sizeof(fx->content), 0, &v),
		    CMS_DIGEST);
		fx->content[77] ^= 4;
		if (i == 0) {
			/* RSA: a damaged signature value is told from a changed file */
			der[len - 1] ^= 1;
			assert_int_equal(verify2(fx, der, len, fx->content, sizeof(fx->content), 0,
			    &v), CMS_BADSIG);
		}
		free(der);
	}
}

static void test_verify_malformed(void **state)
{
	struct fx *fx = *state;
	struct cms_verdict v;
	unsigned char *der, *ca;
	size_t len, calen;
	char err[256];
	struct cms_part part = { fx->content, sizeof(fx->content) };

	der = sign_on_token(fx, "leader", fx->content, sizeof(fx->content), 0, &len);
	/* every truncation fails, none crashes */
	for (size_t n = 0; n < len; n += 5)
		assert_int_not_equal(cms_verify_detached(fx->trust, der, n, &part, 1, 0, &v, err,
		    sizeof(err)), CMS_OK);
	/* bytes changed here and there */
	for (size_t i = 0; i < len; i += 13) {
		der[i] ^= 0x5a;
		(void)cms_verify_detached(fx->trust, der, len, &part, 1, 0, &v, err, sizeof(err));
		der[i] ^= 0x5a;
	}
	assert_int_equal(cms_verify_detached(fx->trust, der, len, &part, 1, 0, &v, err,
	    sizeof(err)), CMS_OK);
	/* a certificate is not a SignedData */
	ca = cert_der(fx, "ca", &calen);
	assert_int_equal(cms_verify_detached(fx->trust, ca, calen, &part, 1, 0, &v, err,
	    sizeof(err)), CMS_ERR);
	assert_int_equal(v.rc, CMS_ERR);
	assert_true(err[0] != '\0');
	free(ca);
	free(der);
}

/* An end certificate under an intermediate CA (as VGCA's are): the CMS carries the
 * intermediate, so a verifier holding the root alone builds the chain. */
static void sign_with_chain(struct fx *fx, const char *name, const unsigned char *const *chain,
    const size_t *lens, size_t n, unsigned char **out, size_t *outlen)
{
	struct p11_spec spec = {
		.module = json_string_value(json_object_get(fx->pki, "module")),
		.token = field(fx, name, "token"), .key_label = field(fx, name, "label"),
		.pin = field(fx, name, "pin"),
	};
	struct p11 *p = NULL;
	unsigned char digest[32], tbs[32], *cert = NULL, *sig = NULL;
	size_t certlen = 0, siglen = 0;
	char err[256] = "";

	sha256(fx->content, sizeof(fx->content), digest);
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_OK);
	assert_int_equal(p11_certificate(p, &cert, &certlen, err, sizeof(err)), P11_OK);
	assert_int_equal(cms_signed_attrs(cert, certlen, digest, tbs, err, sizeof(err)), CMS_OK);
	assert_int_equal(p11_sign_sha256(p, tbs, &sig, &siglen, err, sizeof(err)), P11_OK);
	p11_close(p);
	assert_int_equal(cms_assemble(cert, certlen, chain, lens, n, digest, sig, siglen, out, outlen,
	    err, sizeof(err)), CMS_OK);
	free(sig);
	free(cert);
}

static void test_chain_intermediates(void **state)
{
	struct fx *fx = *state;
	struct cms_trust *all = NULL;
	unsigned char **chain = NULL, *cert, *sub, *der = NULL;
	size_t *lens = NULL, n = 0, certlen, sublen, len = 0;
	char err[256] = "";

	assert_int_equal(cms_trust_load(json_string_value(json_object_get(fx->pki, "trust_all")),
	    &all, err, sizeof(err)), CMS_OK);
	cert = cert_der(fx, "leader_sub", &certlen);
	sub = cert_der(fx, "sub_ca", &sublen);
	/* the root alone does not reach it; the root and the intermediate do */
	assert_int_equal(cms_cert_chain(fx->trust, cert, certlen, time(NULL), &chain, &lens, &n, err,
	    sizeof(err)), CMS_UNTRUSTED);
	assert_int_equal(cms_cert_chain(all, cert, certlen, time(NULL), &chain, &lens, &n, err,
	    sizeof(err)), CMS_OK);
	assert_int_equal(n, 1);
	assert_int_equal(lens[0], sublen);
	assert_memory_equal(chain[0], sub, sublen);
	/* with the chain in it, `openssl cms -verify -CAfile root` accepts it; without, not */
	sign_with_chain(fx, "leader_sub", (const unsigned char *const *)chain, lens, n, &der, &len);
	check_with_openssl(fx, der, len, fx->content, sizeof(fx->content), 1);
	free(der);
	sign_with_chain(fx, "leader_sub", NULL, NULL, 0, &der, &len);
	check_with_openssl(fx, der, len, fx->content, sizeof(fx->content), 0);
	free(der);
	cms_chain_free(chain, lens, n);
	/* a certificate the root issued has no intermediates; the root itself is never carried */
	free(cert);
	cert = cert_der(fx, "leader", &certlen);
	assert_int_equal(cms_cert_chain(all, cert, certlen, time(NULL), &chain, &lens, &n, err,
	    sizeof(err)), CMS_OK);
	assert_int_equal(n, 0);
	cms_chain_free(chain, lens, n);
	free(cert);
	free(sub);
	cms_trust_free(all);
}

/* cms_reserve is what pdf_prepare keeps for the SignedData: never less than what
 * cms_assemble makes, exactly that for RSA (a fixed-length signature), at most the few bytes
 * an ECDSA signature's DER can vary by for EC; with and without a chain. */
static void test_reserve(void **state)
{
	struct fx *fx = *state;
	struct cms_trust *all = NULL;
	unsigned char **chain = NULL, *cert, *der = NULL;
	size_t *lens = NULL, n = 0, certlen, len = 0, want = 0, plain = 0;
	char err[256] = "";

	cert = cert_der(fx, "leader", &certlen);
	assert_int_equal(cms_reserve(cert, certlen, NULL, NULL, 0, &want, err, sizeof(err)), CMS_OK);
	der = sign_on_token(fx, "leader", fx->content, sizeof(fx->content), 0, &len);
	assert_int_equal(want, len);
	free(der);
	plain = want;
	free(cert);
	/* an EC key: 70 to 72 bytes of signature; twenty signatures, none over */
	cert = cert_der(fx, "leader_ec", &certlen);
	assert_int_equal(cms_reserve(cert, certlen, NULL, NULL, 0, &want, err, sizeof(err)), CMS_OK);
	for (int i = 0; i < 20; i++) {
		sign_with_chain(fx, "leader_ec", NULL, NULL, 0, &der, &len);
		assert_true(len <= want);
		assert_true(want - len <= 4);
		free(der);
	}
	free(cert);
	/* under an intermediate CA: the chain is counted */
	assert_int_equal(cms_trust_load(json_string_value(json_object_get(fx->pki, "trust_all")),
	    &all, err, sizeof(err)), CMS_OK);
	cert = cert_der(fx, "leader_sub", &certlen);
	assert_int_equal(cms_cert_chain(all, cert, certlen, time(NULL), &chain, &lens, &n, err,
	    sizeof(err)), CMS_OK);
	assert_int_equal(cms_reserve(cert, certlen, (const unsigned char *const *)chain, lens, n,
	    &want, err, sizeof(err)), CMS_OK);
	sign_with_chain(fx, "leader_sub", (const unsigned char *const *)chain, lens, n, &der, &len);
	assert_int_equal(want, len);
	assert_true(want > plain);
	free(der);
	/* far below the 16 KB a fixed reservation kept */
	assert_true(want < 4096);
	/* refusals: a cut certificate, too long a chain */
	assert_int_equal(cms_reserve(cert, certlen / 2, NULL, NULL, 0, &want, err, sizeof(err)),
	    CMS_ERR);
	assert_int_equal(want, 0);
	assert_true(err[0] != '\0');
	assert_int_equal(cms_reserve(cert, certlen, (const unsigned char *const *)chain, lens, 17,
	    &want, err, sizeof(err)), CMS_ERR);
	cms_chain_free(chain, lens, n);
	free(cert);
	cms_trust_free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trust_load),
		cmocka_unit_test(test_check_cert_info),
		cmocka_unit_test(test_check_cert_refusals),
		cmocka_unit_test(test_sign_rsa),
		cmocka_unit_test(test_sign_ec),
		cmocka_unit_test(test_assemble_bad_signature),
		cmocka_unit_test(test_verify_chain_codes),
		cmocka_unit_test(test_verify_openssl_made),
		cmocka_unit_test(test_verify_no_attributes),
		cmocka_unit_test(test_verify_malformed),
		cmocka_unit_test(test_chain_intermediates),
		cmocka_unit_test(test_reserve),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
