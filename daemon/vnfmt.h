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

/*
 * Valid UTF-8 from any bytes: each ill-formed sequence becomes U+FFFD (a file
 * name from a Samba share may be Latin-1). *out is new; VNFMT_OK or ENOMEM.
 */
int vnfmt_utf8_clean(const char *in, char **out);

/* Upper case with ICU's vi locale (NFC in, NFC out). *out is new; VNFMT_OK or an error. */
int vnfmt_upper(const char *in, char **out);

/* "05" for 5, "12" for 12: one leading zero below 10, nothing else padded. */
void vnfmt_number(long long n, char *out, size_t len);

/*
 * A decimal number ("4215", "82.50", "-3.25", as XML Schema writes one) the
 * Vietnamese way, by ICU's vi locale: "4.215", "82,5", "-3,25". Rounded
 * (half to even) to at most max_frac decimals; trailing zeros dropped.
 * VNFMT_OK, VNFMT_EINVAL when in is not a number or out is too small (out is
 * then in, unchanged, when it fits), or VNFMT_ENOMEM.
 */
int vnfmt_decimal(const char *in, int max_frac, char *out, size_t len);

/*
 * The date line: "Bà Rịa - Vũng Tàu, ngày 05 tháng 01 năm 2023". A day below
 * 10 and the months 1 and 2 get a leading zero. day == 0 gives the blank
 * draft form "…, ngày      tháng      năm 2026".
 */
void vnfmt_date_line(const char *place, int year, int month, int day, char *out, size_t len);

#endif
