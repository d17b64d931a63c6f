/*
 * vnfmt.c: Vietnamese text. The only file that includes ICU: everything
 * that must be right in Vietnamese (normal form, and in later modules upper
 * case with the vi locale, date lines and vi collation) goes through here.
 */
#include "vnfmt.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/unorm2.h>
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
