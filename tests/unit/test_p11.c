/* test_p11.c: unit tests of p11.c on real SoftHSMv2 tokens made by tests/tools/pki.py (choosing tokens and keys, PINs, certificates, RSA and EC signatures checked by the openssl CLI). */
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

#include "p11.h"

struct fx {
	char dir[64];    /* the PKI's temporary folder */
	json_t *pki;     /* owned: DIR/pki.json */
	const char *module;
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

static const char *cert_field(struct fx *fx, const char *name, const char *field)
{
	json_t *v = json_object_get(json_object_get(json_object_get(fx->pki, "certs"), name), field);

	assert_non_null(v);
	return json_string_value(v);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *src = getenv("VANTHU_SRCDIR");
	char cmd[512], path[128];

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_p11.XXXXXX");
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
	fx->module = json_string_value(json_object_get(fx->pki, "module"));
	setenv("SOFTHSM2_CONF", json_string_value(json_object_get(fx->pki, "softhsm2_conf")), 1);
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
	json_decref(fx->pki);
	free(fx);
	return 0;
}

static void sha256(const void *data, size_t len, unsigned char out[32])
{
	assert_int_equal(EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL), 1);
}

/* The openssl CLI checks sig over digest with the certificate's key: 1 if it verifies. */
static int cli_verifies(struct fx *fx, const char *name, const unsigned char digest[32],
    const unsigned char *sig, size_t siglen)
{
	char dpath[128], spath[128], cmd[1024];

	snprintf(dpath, sizeof(dpath), "%s/digest.bin", fx->dir);
	snprintf(spath, sizeof(spath), "%s/sig.bin", fx->dir);
	spill(dpath, digest, 32);
	spill(spath, sig, siglen);
	snprintf(cmd, sizeof(cmd), "openssl pkeyutl -verify -certin -inkey %s -in %s -sigfile %s "
	    "-pkeyopt digest:sha256 >/dev/null 2>&1", cert_field(fx, name, "cert"), dpath, spath);
	return system(cmd) == 0;
}

/* Opens the role's key by token and label, or by id when by_id. */
static int open_role(struct fx *fx, const char *name, int by_id, const char *pin,
    struct p11 **p, char *err, size_t errlen)
{
	struct p11_spec spec = {
		.module = fx->module,
		.token = cert_field(fx, name, "token"),
		.key_label = by_id ? NULL : cert_field(fx, name, "label"),
		.key_id = by_id ? cert_field(fx, name, "id") : NULL,
		.pin = pin != NULL ? pin : cert_field(fx, name, "pin"),
	};

	return p11_open(&spec, p, err, errlen);
}

/* Signs a digest with the open key and checks it with the CLI. */
static void sign_and_check(struct fx *fx, struct p11 *p, const char *name)
{
	unsigned char digest[32], *sig = NULL;
	size_t siglen = 0;
	char err[256] = "";

	sha256(name, strlen(name), digest);
	assert_int_equal(p11_sign_sha256(p, digest, &sig, &siglen, err, sizeof(err)), P11_OK);
	assert_non_null(sig);
	assert_true(cli_verifies(fx, name, digest, sig, siglen));
	/* and fails on another digest: the check can fail */
	digest[0] ^= 1;
	assert_false(cli_verifies(fx, name, digest, sig, siglen));
	free(sig);
}

static void test_open_by_label_rsa(void **state)
{
	struct fx *fx = *state;
	struct p11 *p = NULL;
	unsigned char *der = NULL, *file;
	size_t len = 0, flen = 0;
	char err[256] = "";

	assert_int_equal(open_role(fx, "leader", 0, NULL, &p, err, sizeof(err)), P11_OK);
	assert_non_null(p);
	assert_int_equal(p11_certificate(p, &der, &len, err, sizeof(err)), P11_OK);
	file = slurp(cert_field(fx, "leader", "der"), &flen);
	assert_non_null(file);
	assert_int_equal(len, flen);
	assert_memory_equal(der, file, len);
	sign_and_check(fx, p, "leader");
	/* PKCS#1 v1.5 is deterministic: the same digest, the same signature */
	{
		unsigned char d[32] = { 1, 2, 3 }, *s1, *s2;
		size_t l1, l2;

		assert_int_equal(p11_sign_sha256(p, d, &s1, &l1, err, sizeof(err)), P11_OK);
		assert_int_equal(p11_sign_sha256(p, d, &s2, &l2, err, sizeof(err)), P11_OK);
		assert_int_equal(l1, 256);
		assert_int_equal(l1, l2);
		assert_memory_equal(s1, s2, l1);
		free(s1);
		free(s2);
	}
	free(file);
	free(der);
	p11_close(p);
}

static void test_open_by_id_ec(void **state)
{
	struct fx *fx = *state;
	struct p11 *p = NULL;
	unsigned char *der = NULL, *file;
	size_t len = 0, flen = 0;
	char err[256] = "";

	assert_int_equal(open_role(fx, "leader_ec", 1, NULL, &p, err, sizeof(err)), P11_OK);
	assert_int_equal(p11_certificate(p, &der, &len, err, sizeof(err)), P11_OK);
	file = slurp(cert_field(fx, "leader_ec", "der"), &flen);
	assert_non_null(file);
	assert_int_equal(len, flen);
	assert_memory_equal(der, file, len);
	/* ECDSA signatures are random: several, each DER and each verifying */
	for (int i = 0; i < 4; i++)
		sign_and_check(fx, p, "leader_ec");
	free(file);
	free(der);
	p11_close(p);
}

static void test_label_and_id_together(void **state)
{
	struct fx *fx = *state;
	struct p11 *p = NULL;
	char err[256] = "";
	struct p11_spec spec = {
		.module = fx->module, .token = "thu-nghiem", .key_label = "lanh-dao-2",
		.key_id = "02", .pin = "5678",
	};

	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_OK);
	sign_and_check(fx, p, "leader2");
	p11_close(p);
	/* a label and an id of two different keys: no key */
	spec.key_id = "03";
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_NOKEY);
	assert_null(p);
}

static void test_wrong_pin(void **state)
{
	struct fx *fx = *state;
	struct p11 *p = NULL;
	char err[256] = "";

	assert_int_equal(open_role(fx, "leader", 0, "9999", &p, err, sizeof(err)), P11_PIN);
	assert_null(p);
	assert_non_null(strstr(err, "CKR_PIN_INCORRECT"));
	/* and the right one still works afterwards */
	assert_int_equal(open_role(fx, "leader", 0, NULL, &p, err, sizeof(err)), P11_OK);
	p11_close(p);
}

static void test_unknown_token_and_key(void **state)
{
	struct fx *fx = *state;
	struct p11 *p = NULL;
	char err[256] = "";
	struct p11_spec spec = {
		.module = fx->module, .token = "khong-co", .key_label = "chu-ky", .pin = "1234",
	};

	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_NOTOKEN);
	assert_non_null(strstr(err, "khong-co"));
	/* no token named and several tokens present */
	spec.token = NULL;
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_NOTOKEN);
	/* a prefix of a label is not the label */
	spec.token = "lanh";
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_NOTOKEN);
	spec.token = "lanh-dao";
	spec.key_label = "khong-co";
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_NOKEY);
	spec.key_label = NULL;
	spec.key_id = "ff";
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_NOKEY);
	spec.key_id = "xyz";
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_NOKEY);
	/* the only key of the token, neither label nor id given */
	spec.key_id = NULL;
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_OK);
	sign_and_check(fx, p, "leader");
	p11_close(p);
	p = NULL;
	/* several keys, none chosen */
	spec.token = "thu-nghiem";
	spec.pin = "5678";
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_NOKEY);
	assert_null(p);
	/* without login the private keys are not visible */
	spec.token = "lanh-dao";
	spec.key_label = "chu-ky";
	spec.pin = NULL;
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_NOKEY);
}

static void test_bad_module(void **state)
{
	struct fx *fx = *state;
	struct p11 *p = NULL;
	char err[256] = "";
	struct p11_spec spec = { .module = "/nonexistent/libx.so", .token = "lanh-dao", .pin = "1" };

	(void)fx;
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_MODULE);
	assert_null(p);
	/* a shared library that is not PKCS#11 */
	spec.module = "libz.so.1";
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_MODULE);
	assert_non_null(strstr(err, "C_GetFunctionList"));
	spec.module = NULL;
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_MODULE);
	p11_close(NULL);
}

static void test_two_handles(void **state)
{
	struct fx *fx = *state;
	struct p11 *a = NULL, *b = NULL;
	char err[256] = "";

	/* the second sees the module initialised already and must not finalise it */
	assert_int_equal(open_role(fx, "leader", 0, NULL, &a, err, sizeof(err)), P11_OK);
	assert_int_equal(open_role(fx, "org", 0, NULL, &b, err, sizeof(err)), P11_OK);
	sign_and_check(fx, b, "org");
	p11_close(b);
	sign_and_check(fx, a, "leader");
	p11_close(a);
}

static void test_no_certificate(void **state)
{
	struct fx *fx = *state;
	struct p11 *p = NULL;
	unsigned char *der = (unsigned char *)"x";
	size_t len = 1;
	char err[256] = "", cmd[512];
	struct p11_spec spec = {
		.module = fx->module, .token = "thu-nghiem", .key_id = "99", .pin = "5678",
	};

	snprintf(cmd, sizeof(cmd), "pkcs11-tool --module %s --token-label thu-nghiem --login "
	    "--pin 5678 --keypairgen --key-type EC:prime256v1 --id 99 --label lone "
	    ">/dev/null 2>&1", fx->module);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(p11_open(&spec, &p, err, sizeof(err)), P11_OK);
	assert_int_equal(p11_certificate(p, &der, &len, err, sizeof(err)), P11_NOCERT);
	assert_null(der);
	assert_int_equal(len, 0);
	p11_close(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_by_label_rsa),
		cmocka_unit_test(test_open_by_id_ec),
		cmocka_unit_test(test_label_and_id_together),
		cmocka_unit_test(test_wrong_pin),
		cmocka_unit_test(test_unknown_token_and_key),
		cmocka_unit_test(test_bad_module),
		cmocka_unit_test(test_two_handles),
		cmocka_unit_test(test_no_certificate),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
