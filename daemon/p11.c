/*
 * p11.c: signing with a key that stays on a PKCS#11 token: loading the
 * module (dlopen), choosing the token and the key, logging in, reading the
 * certificate stored beside the key, and making RSA PKCS#1 v1.5 and ECDSA
 * signatures of a SHA-256 digest. Everything a module returns is capped.
 */
#include "p11.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#define MAX_SLOTS 256
#define MAX_ID 128          /* bytes of a CKA_ID */
#define MAX_CERT 65536      /* bytes of a DER certificate */
#define MAX_SIG 1024        /* bytes of a signature: RSA 8192, or ECDSA r||s */
#define MAX_PIN 256

struct p11 {
	void *dl;                     /* owned: dlclose at p11_close */
	CK_FUNCTION_LIST_PTR fn;      /* the module's table, not owned */
	int finalize;                 /* we initialised the module, so we finalise it */
	CK_SESSION_HANDLE session;
	int has_session;
	int logged_in;                /* we logged in, so we log out */
	CK_OBJECT_HANDLE key;
	CK_KEY_TYPE key_type;
	unsigned char id[MAX_ID];     /* the key's CKA_ID */
	size_t idlen;
	int always_auth;              /* CKA_ALWAYS_AUTHENTICATE: log in again before each signature */
	char pin[MAX_PIN + 1];        /* kept only when always_auth; wiped at close */
	size_t pinlen;
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

/* The CKR_ name of a return value, for messages. */
static const char *rv_name(CK_RV rv, char buf[32])
{
	static const struct {
		CK_RV rv;
		const char *name;
	} names[] = {
		{ CKR_OK, "CKR_OK" },
		{ CKR_CANCEL, "CKR_CANCEL" },
		{ CKR_HOST_MEMORY, "CKR_HOST_MEMORY" },
		{ CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID" },
		{ CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR" },
		{ CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED" },
		{ CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD" },
		{ CKR_CANT_LOCK, "CKR_CANT_LOCK" },
		{ CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE" },
		{ CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID" },
		{ CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR" },
		{ CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY" },
		{ CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED" },
		{ CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE" },
		{ CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED" },
		{ CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID" },
		{ CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT" },
		{ CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED" },
		{ CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID" },
		{ CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID" },
		{ CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID" },
		{ CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE" },
		{ CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED" },
		{ CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT" },
		{ CKR_PIN_INVALID, "CKR_PIN_INVALID" },
		{ CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE" },
		{ CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED" },
		{ CKR_PIN_LOCKED, "CKR_PIN_LOCKED" },
		{ CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED" },
		{ CKR_SESSION_COUNT, "CKR_SESSION_COUNT" },
		{ CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID" },
		{ CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT" },
		{ CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED" },
		{ CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN" },
		{ CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN" },
		{ CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED" },
		{ CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID" },
		{ CKR_USER_ANOTHER_ALREADY_LOGGED_IN, "CKR_USER_ANOTHER_ALREADY_LOGGED_IN" },
		{ CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL" },
		{ CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED" },
		{ CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].rv == rv)
			return names[i].name;
	snprintf(buf, 32, "CKR_0x%lx", (unsigned long)rv);
	return buf;
}

/* "label" of a 32-byte blank-padded CK_TOKEN_INFO label equals s? */
static int label_is(const unsigned char lab[32], const char *s)
{
	size_t n = 32;

	while (n > 0 && (lab[n - 1] == ' ' || lab[n - 1] == '\0'))
		n--;
	return strlen(s) == n && memcmp(lab, s, n) == 0;
}

/* Parses hex ("01", "a1b2", colons allowed) into out; -1 if not hex or too long. */
static int parse_hex(const char *s, unsigned char *out, size_t cap, size_t *outlen)
{
	size_t n = 0;
	int half = -1;

	for (; *s != '\0'; s++) {
		int d;

		if (*s == ':' && half < 0)
			continue;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		if (half < 0) {
			half = d;
			continue;
		}
		if (n >= cap)
			return -1;
		out[n++] = (unsigned char)(half << 4 | d);
		half = -1;
	}
	if (half >= 0 || n == 0)
		return -1;
	*outlen = n;
	return 0;
}

/* Chooses the slot: the token with this label, or the only initialised token. */
static int find_slot(struct p11 *p, const char *label, CK_SLOT_ID *slot, char *err,
    size_t errlen)
{
	CK_SLOT_ID slots[MAX_SLOTS];
	CK_ULONG n = 0;
	CK_RV rv;
	char nb[32];
	int found = 0;

	rv = p->fn->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv != CKR_OK) {
		seterr(err, errlen, "C_GetSlotList: %s", rv_name(rv, nb));
		return P11_ERR;
	}
	if (n > MAX_SLOTS)
		n = MAX_SLOTS;
	rv = p->fn->C_GetSlotList(CK_TRUE, slots, &n);
	if (rv == CKR_BUFFER_TOO_SMALL) {
		/* a token appeared between the two calls, or more than MAX_SLOTS: the first MAX_SLOTS */
		n = MAX_SLOTS;
		rv = p->fn->C_GetSlotList(CK_TRUE, slots, &n);
	}
	if (rv != CKR_OK) {
		seterr(err, errlen, "C_GetSlotList: %s", rv_name(rv, nb));
		return P11_ERR;
	}
	if (n > MAX_SLOTS)
		n = MAX_SLOTS;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;

		memset(&ti, 0, sizeof(ti));
		if (p->fn->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (label != NULL) {
			if (!label_is(ti.label, label))
				continue;
		} else if (!(ti.flags & CKF_TOKEN_INITIALIZED)) {
			continue;
		}
		if (found) {
			if (label != NULL)
				seterr(err, errlen, "more than one token is labelled \"%s\"", label);
			else
				seterr(err, errlen, "more than one token is present: name one by its label");
			return P11_NOTOKEN;
		}
		*slot = slots[i];
		found = 1;
	}
	if (!found) {
		if (label != NULL)
			seterr(err, errlen, "no token labelled \"%s\" is present", label);
		else
			seterr(err, errlen, "no token is present");
		return P11_NOTOKEN;
	}
	return P11_OK;
}

static int login(struct p11 *p, CK_USER_TYPE who, const char *pin, char *err, size_t errlen)
{
	CK_RV rv;
	char nb[32];

	rv = p->fn->C_Login(p->session, who, (CK_UTF8CHAR_PTR)(uintptr_t)pin,
	    pin != NULL ? (CK_ULONG)strlen(pin) : 0);
	if (rv == CKR_OK || (rv == CKR_USER_ALREADY_LOGGED_IN && who == CKU_USER)) {
		if (who == CKU_USER && rv == CKR_OK)
			p->logged_in = 1;
		return P11_OK;
	}
	seterr(err, errlen, "C_Login: %s", rv_name(rv, nb));
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_INVALID)
		return P11_PIN;
	if (rv == CKR_PIN_LOCKED)
		return P11_LOCKED;
	return P11_ERR;
}

/* Finds objects matching tmpl; *n is at most 2 (two means: more than one). */
static int find_objects(struct p11 *p, CK_ATTRIBUTE *tmpl, CK_ULONG ntmpl,
    CK_OBJECT_HANDLE found[2], CK_ULONG *n, char *err, size_t errlen)
{
	CK_RV rv;
	char nb[32];

	*n = 0;
	rv = p->fn->C_FindObjectsInit(p->session, tmpl, ntmpl);
	if (rv != CKR_OK) {
		seterr(err, errlen, "C_FindObjectsInit: %s", rv_name(rv, nb));
		return P11_ERR;
	}
	rv = p->fn->C_FindObjects(p->session, found, 2, n);
	p->fn->C_FindObjectsFinal(p->session);
	if (rv != CKR_OK) {
		seterr(err, errlen, "C_FindObjects: %s", rv_name(rv, nb));
		return P11_ERR;
	}
	if (*n > 2)
		*n = 2;
	return P11_OK;
}

/* Reads one attribute of at most cap bytes into buf (or a malloc'd buffer when *dyn). */
static int get_attr(struct p11 *p, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
    unsigned char **buf, size_t cap, size_t *len, int dyn, const char *what, char *err,
    size_t errlen)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_RV rv;
	char nb[32];

	rv = p->fn->C_GetAttributeValue(p->session, obj, &a, 1);
	if (rv != CKR_OK || a.ulValueLen == (CK_ULONG)-1) {
		seterr(err, errlen, "C_GetAttributeValue(%s): %s", what,
		    rv_name(rv != CKR_OK ? rv : CKR_ATTRIBUTE_TYPE_INVALID, nb));
		return P11_ERR;
	}
	if (a.ulValueLen > cap) {
		seterr(err, errlen, "the token's %s is too long (%lu bytes)", what,
		    (unsigned long)a.ulValueLen);
		return P11_ERR;
	}
	if (dyn) {
		*buf = malloc(a.ulValueLen > 0 ? a.ulValueLen : 1);
		if (*buf == NULL) {
			seterr(err, errlen, "out of memory");
			return P11_ERR;
		}
	}
	a.pValue = *buf;
	rv = p->fn->C_GetAttributeValue(p->session, obj, &a, 1);
	if (rv != CKR_OK || a.ulValueLen > cap) {
		seterr(err, errlen, "C_GetAttributeValue(%s): %s", what, rv_name(rv, nb));
		if (dyn) {
			free(*buf);
			*buf = NULL;
		}
		return P11_ERR;
	}
	*len = a.ulValueLen;
	return P11_OK;
}

/* Chooses the private key by label and/or id, or the only one. */
static int find_key(struct p11 *p, const struct p11_spec *spec, char *err, size_t errlen)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	unsigned char want_id[MAX_ID];
	size_t want_idlen = 0;
	CK_ATTRIBUTE tmpl[3];
	CK_ULONG nt = 0, n;
	CK_OBJECT_HANDLE found[2];
	unsigned char *buf;
	size_t len;
	CK_BBOOL always = CK_FALSE;
	int rc;

	tmpl[nt++] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
	if (spec->key_label != NULL)
		tmpl[nt++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)(uintptr_t)spec->key_label,
			(CK_ULONG)strlen(spec->key_label) };
	if (spec->key_id != NULL) {
		if (parse_hex(spec->key_id, want_id, sizeof(want_id), &want_idlen) != 0) {
			seterr(err, errlen, "the key id \"%.64s\" is not hexadecimal", spec->key_id);
			return P11_NOKEY;
		}
		tmpl[nt++] = (CK_ATTRIBUTE){ CKA_ID, want_id, (CK_ULONG)want_idlen };
	}
	rc = find_objects(p, tmpl, nt, found, &n, err, errlen);
	if (rc != P11_OK)
		return rc;
	if (n == 0) {
		seterr(err, errlen, "no private key%s%s%s%s on the token", spec->key_label ? " labelled " : "",
		    spec->key_label ? spec->key_label : "", spec->key_id ? " with id " : "",
		    spec->key_id ? spec->key_id : "");
		return P11_NOKEY;
	}
	if (n > 1) {
		seterr(err, errlen, "more than one private key matches: name one by its label or id");
		return P11_NOKEY;
	}
	p->key = found[0];

	buf = (unsigned char *)&p->key_type;
	rc = get_attr(p, p->key, CKA_KEY_TYPE, &buf, sizeof(p->key_type), &len, 0, "key type", err,
	    errlen);
	if (rc != P11_OK)
		return rc;
	if (len != sizeof(p->key_type) || (p->key_type != CKK_RSA && p->key_type != CKK_EC)) {
		seterr(err, errlen, "the key is neither RSA nor EC");
		return P11_NOKEY;
	}
	buf = p->id;
	rc = get_attr(p, p->key, CKA_ID, &buf, sizeof(p->id), &p->idlen, 0, "key id", err, errlen);
	if (rc != P11_OK)
		return rc;
	buf = &always;
	if (get_attr(p, p->key, CKA_ALWAYS_AUTHENTICATE, &buf, sizeof(always), &len, 0,
	        "always authenticate", err, errlen) == P11_OK && len == sizeof(always))
		p->always_auth = always == CK_TRUE;
	if (err != NULL && errlen > 0)
		err[0] = '\0'; /* a module without CKA_ALWAYS_AUTHENTICATE is fine */
	return P11_OK;
}

int p11_open(const struct p11_spec *spec, struct p11 **out, char *err, size_t errlen)
{
	struct p11 *p = NULL;
	CK_C_GetFunctionList getfl;
	CK_C_INITIALIZE_ARGS args;
	CK_SLOT_ID slot = 0;
	CK_TOKEN_INFO ti;
	CK_RV rv;
	char nb[32];
	int rc = P11_ERR;

	*out = NULL;
	if (spec == NULL || spec->module == NULL) {
		seterr(err, errlen, "no PKCS#11 module given");
		return P11_MODULE;
	}
	if (spec->pin != NULL && strlen(spec->pin) > MAX_PIN) {
		seterr(err, errlen, "the PIN is longer than %d characters", MAX_PIN);
		return P11_PIN;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		seterr(err, errlen, "out of memory");
		return P11_ERR;
	}
	p->dl = dlopen(spec->module, RTLD_NOW | RTLD_LOCAL);
	if (p->dl == NULL) {
		const char *e = dlerror();

		seterr(err, errlen, "cannot load the PKCS#11 module %s: %s", spec->module,
		    e != NULL ? e : "unknown error");
		rc = P11_MODULE;
		goto fail;
	}
	*(void **)&getfl = dlsym(p->dl, "C_GetFunctionList");
	if (getfl == NULL) {
		seterr(err, errlen, "%s is not a PKCS#11 module (no C_GetFunctionList)", spec->module);
		rc = P11_MODULE;
		goto fail;
	}
	rv = getfl(&p->fn);
	if (rv != CKR_OK || p->fn == NULL) {
		seterr(err, errlen, "C_GetFunctionList: %s", rv_name(rv, nb));
		p->fn = NULL;
		rc = P11_MODULE;
		goto fail;
	}
	if (p->fn->version.major != 2) {
		seterr(err, errlen, "%s speaks PKCS#11 %u.%u, not 2.x", spec->module,
		    (unsigned)p->fn->version.major, (unsigned)p->fn->version.minor);
		p->fn = NULL;
		rc = P11_MODULE;
		goto fail;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = p->fn->C_Initialize(&args);
	if (rv == CKR_OK) {
		p->finalize = 1;
	} else if (rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		seterr(err, errlen, "C_Initialize: %s", rv_name(rv, nb));
		rc = P11_MODULE;
		goto fail;
	}
	rc = find_slot(p, spec->token, &slot, err, errlen);
	if (rc != P11_OK)
		goto fail;
	memset(&ti, 0, sizeof(ti));
	rv = p->fn->C_GetTokenInfo(slot, &ti);
	if (rv != CKR_OK) {
		seterr(err, errlen, "C_GetTokenInfo: %s", rv_name(rv, nb));
		rc = P11_ERR;
		goto fail;
	}
	rv = p->fn->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &p->session);
	if (rv != CKR_OK) {
		seterr(err, errlen, "C_OpenSession: %s", rv_name(rv, nb));
		rc = P11_ERR;
		goto fail;
	}
	p->has_session = 1;
	if (spec->pin != NULL || (ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH)) {
		if (ti.flags & CKF_USER_PIN_LOCKED) {
			seterr(err, errlen, "the user PIN is locked (CKF_USER_PIN_LOCKED)");
			rc = P11_LOCKED;
			goto fail;
		}
		rc = login(p, CKU_USER, spec->pin, err, errlen);
		if (rc != P11_OK)
			goto fail;
	}
	rc = find_key(p, spec, err, errlen);
	if (rc != P11_OK)
		goto fail;
	if (p->always_auth && spec->pin != NULL) {
		p->pinlen = strlen(spec->pin);
		memcpy(p->pin, spec->pin, p->pinlen + 1);
	}
	*out = p;
	return P11_OK;
fail:
	p11_close(p);
	return rc;
}

int p11_certificate(struct p11 *p, unsigned char **der, size_t *len, char *err, size_t errlen)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_ATTRIBUTE tmpl[3] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
		{ CKA_ID, p->id, (CK_ULONG)p->idlen },
	};
	CK_OBJECT_HANDLE found[2];
	CK_ULONG n;
	int rc;

	*der = NULL;
	*len = 0;
	if (p->idlen == 0) {
		seterr(err, errlen, "the key has no id, so no certificate can be matched to it");
		return P11_NOCERT;
	}
	rc = find_objects(p, tmpl, 3, found, &n, err, errlen);
	if (rc != P11_OK)
		return rc;
	if (n == 0) {
		seterr(err, errlen, "no X.509 certificate on the token has the key's id");
		return P11_NOCERT;
	}
	/* several certificates with the key's id: the first (they are copies of the same) */
	return get_attr(p, found[0], CKA_VALUE, der, MAX_CERT, len, 1, "certificate", err, errlen);
}

/* Appends a DER INTEGER of the big-endian unsigned v to out; returns the new length. */
static size_t der_uint(unsigned char *out, size_t at, const unsigned char *v, size_t n)
{
	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	size_t body = n + (v[0] & 0x80 ? 1 : 0);

	out[at++] = 0x02;
	if (body >= 128)
		out[at++] = 0x81;
	out[at++] = (unsigned char)body;
	if (v[0] & 0x80)
		out[at++] = 0;
	memcpy(out + at, v, n);
	return at + n;
}

/* Raw r||s (each half at most 66 bytes: P-521) to a DER ECDSA-Sig-Value; malloc'd. */
static int ecdsa_der(const unsigned char *raw, size_t rawlen, unsigned char **sig,
    size_t *siglen)
{
	unsigned char body[2 * (3 + 67)];
	size_t half = rawlen / 2, n = 0, at = 0;
	unsigned char *o;

	if (rawlen == 0 || rawlen % 2 != 0 || half > 66)
		return -1;
	n = der_uint(body, n, raw, half);
	n = der_uint(body, n, raw + half, half);
	o = malloc(n + 3);
	if (o == NULL)
		return -1;
	o[at++] = 0x30;
	if (n >= 128)
		o[at++] = 0x81;
	o[at++] = (unsigned char)n;
	memcpy(o + at, body, n);
	*sig = o;
	*siglen = at + n;
	return 0;
}

/*
 * Ends a signing operation begun with C_SignInit, so the session can sign
 * again: a C_Sign that fails (or succeeds) terminates it (PKCS#11 5.13),
 * unless the module wants a buffer larger than the cap.
 */
static void sign_abort(struct p11 *p, CK_BYTE *data, CK_ULONG datalen)
{
	unsigned char scratch[MAX_SIG];
	CK_ULONG sl = sizeof(scratch);

	p->fn->C_Sign(p->session, data, datalen, scratch, &sl);
}

int p11_sign_sha256(struct p11 *p, const unsigned char digest[32], unsigned char **sig,
    size_t *siglen, char *err, size_t errlen)
{
	/* DigestInfo ::= SEQUENCE { AlgorithmIdentifier sha256 NULL, OCTET STRING (32) } */
	static const unsigned char prefix[19] = {
		0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
		0x01, 0x05, 0x00, 0x04, 0x20,
	};
	unsigned char input[sizeof(prefix) + 32];
	CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
	CK_BYTE *data = input;
	CK_ULONG datalen, outlen = 0;
	unsigned char *buf = NULL;
	CK_RV rv;
	char nb[32];
	int rc = P11_ERR;

	*sig = NULL;
	*siglen = 0;
	if (p->key_type == CKK_RSA) {
		memcpy(input, prefix, sizeof(prefix));
		memcpy(input + sizeof(prefix), digest, 32);
		datalen = sizeof(input);
	} else {
		mech.mechanism = CKM_ECDSA;
		memcpy(input, digest, 32);
		datalen = 32;
	}
	rv = p->fn->C_SignInit(p->session, &mech, p->key);
	if (rv != CKR_OK) {
		seterr(err, errlen, "C_SignInit: %s", rv_name(rv, nb));
		goto done;
	}
	if (p->always_auth) {
		rc = login(p, CKU_CONTEXT_SPECIFIC, p->pinlen > 0 ? p->pin : NULL, err, errlen);
		if (rc != P11_OK) {
			sign_abort(p, data, datalen);
			goto done;
		}
		rc = P11_ERR;
	}
	rv = p->fn->C_Sign(p->session, data, datalen, NULL, &outlen);
	if (rv != CKR_OK) {
		seterr(err, errlen, "C_Sign: %s", rv_name(rv, nb));
		goto done;
	}
	if (outlen == 0 || outlen > MAX_SIG) {
		seterr(err, errlen, "the token announces a signature of %lu bytes",
		    (unsigned long)outlen);
		sign_abort(p, data, datalen);
		goto done;
	}
	buf = malloc(outlen);
	if (buf == NULL) {
		seterr(err, errlen, "out of memory");
		goto done;
	}
	rv = p->fn->C_Sign(p->session, data, datalen, buf, &outlen);
	if (rv != CKR_OK || outlen == 0 || outlen > MAX_SIG) {
		seterr(err, errlen, "C_Sign: %s", rv_name(rv != CKR_OK ? rv : CKR_FUNCTION_FAILED, nb));
		goto done;
	}
	if (p->key_type == CKK_RSA) {
		*sig = buf;
		*siglen = outlen;
		buf = NULL;
	} else if (ecdsa_der(buf, outlen, sig, siglen) != 0) {
		seterr(err, errlen, "the token's ECDSA signature (%lu bytes) is not r||s",
		    (unsigned long)outlen);
		goto done;
	}
	rc = P11_OK;
done:
	free(buf);
	return rc;
}

void p11_close(struct p11 *p)
{
	if (p == NULL)
		return;
	if (p->fn != NULL) {
		if (p->logged_in)
			p->fn->C_Logout(p->session);
		if (p->has_session)
			p->fn->C_CloseSession(p->session);
		if (p->finalize)
			p->fn->C_Finalize(NULL);
	}
	if (p->dl != NULL)
		dlclose(p->dl);
	explicit_bzero(p->pin, sizeof(p->pin));
	free(p);
}
