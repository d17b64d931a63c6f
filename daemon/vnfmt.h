/* vnfmt.h: Vietnamese text through ICU: NFC and, as later modules need them, case, dates, collation. */
#ifndef VANTHU_VNFMT_H
#define VANTHU_VNFMT_H

#include <stddef.h>

enum { VNFMT_OK = 0, VNFMT_EINVAL = -1, VNFMT_ENOMEM = -2 };

/*
 * Normalises UTF-8 text of len bytes to NFC. On success *out is a new
 * NUL-terminated string the caller frees. VNFMT_EINVAL when the input is not
 * valid UTF-8 or holds a NUL byte.
 */
int vnfmt_nfc(const char *in, size_t len, char **out);

/*
 * Orders n UTF-8 strings with ICU's Vietnamese (vi) collator: order[] gets
 * the indices 0..n-1 sorted (stable for equal strings). Byte order would put
 * Đ after Z; this puts it after D. VNFMT_OK or VNFMT_ENOMEM.
 */
int vnfmt_sort(const char *const *strs, size_t n, size_t *order);

#endif
