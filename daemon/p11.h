/* p11.h: signing with a key that stays on a PKCS#11 token (see p11.c). */
#ifndef VANTHU_P11_H
#define VANTHU_P11_H

#include <stddef.h>

/* What to open: a module, a token in it, a key on the token, and its PIN. */
struct p11_spec {
	const char *module;     /* path of the PKCS#11 module (.so) */
	const char *token;      /* the token's label; NULL: the only token with a key */
	const char *key_label;  /* CKA_LABEL of the private key; NULL: by id, or the only key */
	const char *key_id;     /* CKA_ID in hex ("01"); NULL: by label, or the only key */
	const char *pin;        /* the user PIN; NULL: no login (a token with a protected path) */
};

/* Results: the caller tells the user what each means. */
enum p11_rc {
	P11_OK = 0,
	P11_ERR = -1,       /* the module or token failed; err says how */
	P11_MODULE = -2,    /* the module cannot be loaded or is not PKCS#11 */
	P11_NOTOKEN = -3,   /* no such token (or more than one and none chosen) */
	P11_PIN = -4,       /* CKR_PIN_INCORRECT / CKR_PIN_LEN_RANGE */
	P11_LOCKED = -5,    /* CKR_PIN_LOCKED: too many wrong PINs */
	P11_NOKEY = -6,     /* no such key (or more than one and none chosen) */
	P11_NOCERT = -7,    /* the key has no certificate beside it (same CKA_ID) */
};

struct p11;  /* a loaded module with one logged-in session and one chosen key */

/* Loads the module, finds the token, logs in, chooses the key. err in English. */
int p11_open(const struct p11_spec *spec, struct p11 **out, char *err, size_t errlen);
/* The DER certificate stored with the key (CKO_CERTIFICATE, same CKA_ID); *der malloc'd. */
int p11_certificate(struct p11 *p, unsigned char **der, size_t *len, char *err, size_t errlen);
/*
 * Signs a SHA-256 digest: RSA keys with CKM_RSA_PKCS over the DigestInfo
 * (PKCS#1 v1.5), EC keys with CKM_ECDSA (the result DER-encoded as
 * ECDSA-Sig-Value). *sig malloc'd.
 */
int p11_sign_sha256(struct p11 *p, const unsigned char digest[32], unsigned char **sig,
    size_t *siglen, char *err, size_t errlen);
/* Logs out, closes, finalises and unloads. NULL is a no-op. */
void p11_close(struct p11 *p);

#endif
