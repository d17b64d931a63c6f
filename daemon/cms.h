/* cms.h: PAdES signatures as CMS (OpenSSL), made and verified (see cms.c). */
#ifndef VANTHU_CMS_H
#define VANTHU_CMS_H

#include <stddef.h>
#include <time.h>

enum cms_rc {
	CMS_OK = 0,
	CMS_ERR = -1,        /* malformed input or no memory; err says which */
	CMS_UNTRUSTED = -2,  /* the certificate does not chain to a trust anchor */
	CMS_EXPIRED = -3,    /* not valid at the time asked (expired, or not yet valid) */
	CMS_USAGE = -4,      /* no digitalSignature / nonRepudiation key usage */
	CMS_BADSIG = -5,     /* the signature does not verify with the certificate's key */
	CMS_DIGEST = -6,     /* verify: the signed content's digest differs (the file changed) */
};

/* The trust anchors (and intermediates) from one PEM file or a folder of PEM files. */
struct cms_trust;
int cms_trust_load(const char *path, struct cms_trust **out, char *err, size_t errlen);
void cms_trust_free(struct cms_trust *t);

/* What a certificate says, for messages and the register. Strings UTF-8. */
struct cms_cert_info {
	char fingerprint[65];  /* SHA-256 of the DER, lowercase hex */
	char subject[512];     /* the subject's CN (else the whole name, RFC 2253) */
	char subject_dn[1024]; /* the whole subject, RFC 2253, UTF-8 */
	char issuer[512];      /* the issuer's CN */
	char serial[80];       /* hex */
	time_t not_before, not_after;
};

/*
 * Checks a signer's certificate at time `at`: parses (DER), chains to the
 * anchors (extra: intermediates the signer gave, may be NULL), is valid at
 * `at`, has key usage digitalSignature or nonRepudiation. Fills info
 * whatever the result when the certificate parses. Returns a cms_rc.
 */
int cms_check_cert(const struct cms_trust *t, const unsigned char *der, size_t len,
    time_t at, struct cms_cert_info *info, char *err, size_t errlen);

/*
 * The intermediate CA certificates between a signer's certificate and its
 * trust anchor (not the signer's, not a self-signed root), as DER, for the
 * CMS to carry: a verifier that holds only the root (VGCA's) can then build
 * the chain. *certs and *lens malloc'd, freed with cms_chain_free; CMS_OK or
 * CMS_UNTRUSTED / CMS_ERR with err.
 */
int cms_cert_chain(const struct cms_trust *t, const unsigned char *der, size_t len, time_t at,
    unsigned char ***certs, size_t **lens, size_t *n, char *err, size_t errlen);
void cms_chain_free(unsigned char **certs, size_t *lens, size_t n);

/*
 * External signing, step one: the DER of the signed attributes a PAdES
 * B-B signature of content with this SHA-256 by this certificate carries
 * (content-type data, message-digest, signing-certificate-v2; no signing
 * time: PAdES keeps it in the signature dictionary), and their SHA-256,
 * which is what the key signs. Deterministic: the same inputs give the same
 * bytes, so step two can be done by another process later.
 */
int cms_signed_attrs(const unsigned char *cert, size_t certlen,
    const unsigned char content_sha256[32], unsigned char tbs_sha256[32],
    char *err, size_t errlen);
/*
 * Step two: the detached CMS SignedData (DER ContentInfo) from the same
 * inputs and the signature over the signed attributes; the signature is
 * verified with the certificate's key first (CMS_BADSIG if not). chain:
 * further DER certificates to include (may be 0). *out malloc'd.
 */
int cms_assemble(const unsigned char *cert, size_t certlen,
    const unsigned char *const *chain, const size_t *chainlen, size_t nchain,
    const unsigned char content_sha256[32], const unsigned char *sig, size_t siglen,
    unsigned char **out, size_t *outlen, char *err, size_t errlen);

/*
 * The length of the SignedData cms_assemble will make from this certificate
 * and chain, whatever the content and the signature: what a PDF reserves for
 * it (its longest signature counted: RSA's modulus, EC's longest DER). CMS_OK
 * with *out, or CMS_ERR with err.
 */
int cms_reserve(const unsigned char *cert, size_t certlen,
    const unsigned char *const *chain, const size_t *chainlen, size_t nchain, size_t *out,
    char *err, size_t errlen);

/* A part of the signed content (a PDF's byte ranges). */
struct cms_part {
	const unsigned char *data;
	size_t len;
};

/* What verifying one CMS said. */
struct cms_verdict {
	int rc;                      /* cms_rc: CMS_OK only if all below hold */
	int digest_ok;               /* the content matches the message-digest */
	int signature_ok;            /* the signature verifies with the signer's key */
	int chain_ok;                /* the signer chains to the anchors at the signing time */
	int has_signing_cert_v2;     /* the ESS signing-certificate-v2 attribute names the signer */
	char digest_alg[32];         /* "SHA-256" */
	time_t signing_time;         /* the signingTime attribute, 0 if none */
	struct cms_cert_info signer; /* empty if the signer certificate is missing */
	char reason[256];            /* English: why not, when rc != CMS_OK */
};

/*
 * Verifies a detached CMS SignedData over the parts (any digest OpenSSL
 * knows), the chain at time `at` (0: the signing time attribute, else now).
 * t may be NULL: chain_ok is then 0 with the reason. Returns v->rc, or
 * CMS_ERR when der is not a SignedData at all.
 */
int cms_verify_detached(const struct cms_trust *t, const unsigned char *der, size_t len,
    const struct cms_part *parts, size_t nparts, time_t at, struct cms_verdict *v,
    char *err, size_t errlen);

#endif
