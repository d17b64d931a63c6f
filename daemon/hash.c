/*
 * hash.c: SHA-256, the one place that calls libcrypto. Used for the audit
 * chain and, later, for the content hash of every report and document.
 */
#include "hash.h"

#include <openssl/evp.h>
#include <stdio.h>

struct hash_ctx {
	EVP_MD_CTX *md;
};

struct hash_ctx *hash_new(void)
{
	struct hash_ctx *ctx = OPENSSL_zalloc(sizeof(*ctx));

	if (ctx == NULL)
		return NULL;
	ctx->md = EVP_MD_CTX_new();
	if (ctx->md == NULL || EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL) != 1) {
		hash_free(ctx);
		return NULL;
	}
	return ctx;
}

int hash_update(struct hash_ctx *ctx, const void *data, size_t len)
{
	return EVP_DigestUpdate(ctx->md, data, len) == 1 ? 0 : -1;
}

int hash_final_hex(struct hash_ctx *ctx, char hex[HASH_HEX_LEN + 1])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	int rc = -1;

	if (EVP_DigestFinal_ex(ctx->md, digest, &len) != 1 || len != HASH_HEX_LEN / 2)
		goto out;
	for (unsigned int i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	rc = 0;
out:
	hash_free(ctx);
	return rc;
}

void hash_free(struct hash_ctx *ctx)
{
	if (ctx == NULL)
		return;
	EVP_MD_CTX_free(ctx->md);
	OPENSSL_free(ctx);
}

int hash_sha256_hex(const void *data, size_t len, char hex[HASH_HEX_LEN + 1])
{
	struct hash_ctx *ctx = hash_new();

	if (ctx == NULL)
		return -1;
	if (hash_update(ctx, data, len) != 0) {
		hash_free(ctx);
		return -1;
	}
	return hash_final_hex(ctx, hex);
}
