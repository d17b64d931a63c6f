/*
 * vnfmt.c: Vietnamese text. The only file that includes ICU: everything
 * that must be right in Vietnamese (normal form, upper case with the vi
 * locale, date lines, vi collation and figures) goes through here.
 */
#include "vnfmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unicode/ucasemap.h>
#include <unicode/ucol.h>
#include <unicode/unorm2.h>
#include <unicode/unum.h>
#include <unicode/ustring.h>

int vnfmt_nfc(const char *in, size_t len, char **out)
{
	UErrorCode status = U_ZERO_ERROR;
	UChar *src = NULL, *dst = NULL;
	char *utf8 = NULL;
	int32_t srclen = 0, dstlen = 0, outlen = 0;
	int rc = VNFMT_ENOMEM;
	const UNormalizer2 *nfc;

	*out = NULL;
	if (len > (size_t)INT32_MAX / 4 || memchr(in, '\0', len) != NULL)
		return VNFMT_EINVAL;
	u_strFromUTF8(NULL, 0, &srclen, in, (int32_t)len, &status);
	if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status)) {
		rc = VNFMT_EINVAL;
		goto out;
	}
	status = U_ZERO_ERROR;
	src = malloc(((size_t)srclen + 1) * sizeof(UChar));
	if (src == NULL)
		goto out;
	u_strFromUTF8(src, srclen + 1, NULL, in, (int32_t)len, &status);
	if (U_FAILURE(status)) {
		rc = VNFMT_EINVAL;
		goto out;
	}
	nfc = unorm2_getNFCInstance(&status);
	if (U_FAILURE(status))
		goto out;
	/* NFC of Vietnamese never grows beyond three times the input. */
	dstlen = srclen * 3 + 1;
	dst = malloc((size_t)dstlen * sizeof(UChar));
	if (dst == NULL)
		goto out;
	dstlen = unorm2_normalize(nfc, src, srclen, dst, dstlen, &status);
	if (U_FAILURE(status))
		goto out;
	u_strToUTF8(NULL, 0, &outlen, dst, dstlen, &status);
	if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
		goto out;
	status = U_ZERO_ERROR;
	utf8 = malloc((size_t)outlen + 1);
	if (utf8 == NULL)
		goto out;
	u_strToUTF8(utf8, outlen + 1, NULL, dst, dstlen, &status);
	if (U_FAILURE(status)) {
		free(utf8);
		goto out;
	}
	*out = utf8;
	rc = VNFMT_OK;
out:
	free(src);
	free(dst);
	return rc;
}

struct keyed {
	uint8_t *key;  /* owned */
	size_t index;
};

static int compare_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp((const char *)x->key, (const char *)y->key);

	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

int vnfmt_sort(const char *const *strs, size_t n, size_t *order)
{
	UErrorCode status = U_ZERO_ERROR;
	UCollator *coll = NULL;
	struct keyed *keys = NULL;
	int rc = VNFMT_ENOMEM;
	size_t done = 0;

	if (n == 0)
		return VNFMT_OK;
	coll = ucol_open("vi", &status);
	if (U_FAILURE(status))
		return VNFMT_ENOMEM;
	keys = calloc(n, sizeof(*keys));
	if (keys == NULL)
		goto out;
	for (done = 0; done < n; done++) {
		UChar *u = NULL;
		int32_t ulen = 0, klen;
		status = U_ZERO_ERROR;
		u_strFromUTF8WithSub(NULL, 0, &ulen, strs[done], -1, 0xFFFD, NULL, &status);
		status = U_ZERO_ERROR;
		u = malloc(((size_t)ulen + 1) * sizeof(UChar));
		if (u == NULL)
			goto out;
		u_strFromUTF8WithSub(u, ulen + 1, NULL, strs[done], -1, 0xFFFD, NULL, &status);
		klen = ucol_getSortKey(coll, u, ulen, NULL, 0);
		keys[done].key = malloc((size_t)klen + 1);
		if (keys[done].key == NULL) {
			free(u);
			goto out;
		}
		ucol_getSortKey(coll, u, ulen, keys[done].key, klen + 1);
		keys[done].index = done;
		free(u);
	}
	qsort(keys, n, sizeof(*keys), compare_keyed);
	for (size_t i = 0; i < n; i++)
		order[i] = keys[i].index;
	rc = VNFMT_OK;
out:
	if (keys != NULL)
		for (size_t i = 0; i < done; i++)
			free(keys[i].key);
	free(keys);
	ucol_close(coll);
	return rc;
}

int vnfmt_upper(const char *in, char **out)
{
	UErrorCode status = U_ZERO_ERROR;
	UCaseMap *map;
	char *buf = NULL, *nfc = NULL;
	int32_t n;
	int rc = VNFMT_ENOMEM;

	*out = NULL;
	if (vnfmt_nfc(in, strlen(in), &nfc) != VNFMT_OK)
		return VNFMT_EINVAL;
	map = ucasemap_open("vi", 0, &status);
	if (U_FAILURE(status))
		goto out;
	n = ucasemap_utf8ToUpper(map, NULL, 0, nfc, -1, &status);
	if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
		goto out;
	status = U_ZERO_ERROR;
	buf = malloc((size_t)n + 1);
	if (buf == NULL)
		goto out;
	ucasemap_utf8ToUpper(map, buf, n + 1, nfc, -1, &status);
	if (U_FAILURE(status)) {
		free(buf);
		goto out;
	}
	/* upper-casing may decompose; hand back NFC */
	rc = vnfmt_nfc(buf, (size_t)n, out);
	free(buf);
out:
	ucasemap_close(map);
	free(nfc);
	return rc;
}

void vnfmt_number(long long n, char *out, size_t len)
{
	snprintf(out, len, n >= 0 && n < 10 ? "0%lld" : "%lld", n);
}

int vnfmt_decimal(const char *in, int max_frac, char *out, size_t len)
{
	UErrorCode status = U_ZERO_ERROR;
	UNumberFormat *f = NULL;
	UChar u[128];
	char num[64];
	size_t b, e;
	int32_t n;
	int rc = VNFMT_EINVAL;

	if (len == 0)
		return VNFMT_EINVAL;
	/* xs:decimal may come with spaces around it */
	for (b = 0; in[b] == ' ' || in[b] == '\t' || in[b] == '\n' || in[b] == '\r'; b++)
		;
	for (e = strlen(in); e > b && strchr(" \t\n\r", in[e - 1]) != NULL; e--)
		;
	if (e == b || e - b >= sizeof(num))
		goto out;
	memcpy(num, in + b, e - b);
	num[e - b] = '\0';
	f = unum_open(UNUM_DECIMAL, NULL, 0, "vi", NULL, &status);
	if (U_FAILURE(status)) {
		rc = status == U_MEMORY_ALLOCATION_ERROR ? VNFMT_ENOMEM : VNFMT_EINVAL;
		goto out;
	}
	unum_setAttribute(f, UNUM_MIN_FRACTION_DIGITS, 0);
	unum_setAttribute(f, UNUM_MAX_FRACTION_DIGITS, max_frac);
	unum_setAttribute(f, UNUM_ROUNDING_MODE, UNUM_ROUND_HALFEVEN);
	/* the string form keeps every digit given: no detour through a double */
	n = unum_formatDecimal(f, num, -1, u, (int32_t)(sizeof(u) / sizeof(u[0])), NULL, &status);
	if (U_FAILURE(status) || n >= (int32_t)(sizeof(u) / sizeof(u[0])))
		goto out;
	u_strToUTF8(out, (int32_t)(len > INT32_MAX ? INT32_MAX : len), &n, u, n, &status);
	if (U_FAILURE(status) || (size_t)n >= len)
		goto out;
	rc = VNFMT_OK;
out:
	if (f != NULL)
		unum_close(f);
	if (rc != VNFMT_OK)
		snprintf(out, len, "%s", strlen(in) < len ? in : "");
	return rc;
}

void vnfmt_date_line(const char *place, int year, int month, int day, char *out, size_t len)
{
	if (day <= 0) {
		snprintf(out, len, "%s, ngày      tháng      năm %d", place, year);
		return;
	}
	snprintf(out, len, "%s, ngày %s%d tháng %s%d năm %d", place, day < 10 ? "0" : "", day,
	    month <= 2 ? "0" : "", month, year);
}

int vnfmt_utf8_clean(const char *in, char **out)
{
	UErrorCode status = U_ZERO_ERROR;
	UChar *u = NULL;
	int32_t ulen = 0, olen = 0;
	int rc = VNFMT_ENOMEM;

	*out = NULL;
	u_strFromUTF8WithSub(NULL, 0, &ulen, in, -1, 0xFFFD, NULL, &status);
	status = U_ZERO_ERROR;
	u = malloc(((size_t)ulen + 1) * sizeof(UChar));
	if (u == NULL)
		return rc;
	u_strFromUTF8WithSub(u, ulen + 1, NULL, in, -1, 0xFFFD, NULL, &status);
	if (U_FAILURE(status))
		goto out;
	u_strToUTF8(NULL, 0, &olen, u, ulen, &status);
	status = U_ZERO_ERROR;
	*out = malloc((size_t)olen + 1);
	if (*out == NULL)
		goto out;
	u_strToUTF8(*out, olen + 1, NULL, u, ulen, &status);
	if (U_FAILURE(status)) {
		free(*out);
		*out = NULL;
		goto out;
	}
	rc = VNFMT_OK;
out:
	free(u);
	return rc;
}
