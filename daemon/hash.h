/* hash.h: SHA-256 through libcrypto (see hash.c). */
#ifndef VANTHU_HASH_H
#define VANTHU_HASH_H

#include <stddef.h>

#define HASH_HEX_LEN 64

/* An incremental SHA-256; parts are fed with hash_update and read with hash_final_hex. */
struct hash_ctx;

struct hash_ctx *hash_new(void);
int hash_update(struct hash_ctx *ctx, const void *data, size_t len);
/* Writes 64 hex digits and a NUL into hex; frees ctx whatever the result. */
int hash_final_hex(struct hash_ctx *ctx, char hex[HASH_HEX_LEN + 1]);
void hash_free(struct hash_ctx *ctx);
/* One-shot SHA-256 of a buffer. 0 or -1. */
int hash_sha256_hex(const void *data, size_t len, char hex[HASH_HEX_LEN + 1]);

#endif
