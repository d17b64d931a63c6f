/*
 * names.c: the names units give their files, which are whatever bytes their
 * file system allowed. A name is kept as it came (raw bytes); wherever it
 * must be shown (receipts, JSON, logs, receipt file names) it is shown in a
 * form that is valid UTF-8 and can be turned back into the exact bytes
 * (spool/README.md, "Names"). Pure functions; nothing here touches a file.
 */
#include "names.h"

#include <stdio.h>
#include <string.h>

#include "hash.h"

/* Length of the valid UTF-8 character at s (1-4), with its code point; 0 when none starts there. */
static size_t utf8_char(const unsigned char *s, size_t len, unsigned *cp)
{
	unsigned c = s[0], v;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		v = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
	    (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

int names_valid_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned cp;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_char(p + i, len - i, &cp);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

/* Is this code point written as %HH bytes rather than as itself? */
static int escaped(unsigned cp)
{
	if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
		return 1;
	if (cp < 0x80)
		return strchr("%\\:*?\"<>|", (int)cp) != NULL;
	return cp == 0x061C || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
	    (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF;
}

size_t names_show(const char *raw, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)raw;
	size_t len = strlen(raw), o = 0;

	if (outlen == 0)
		return 0;
	for (size_t i = 0; i < len;) {
		unsigned cp = 0;
		size_t n = utf8_char(p + i, len - i, &cp);
		int esc = n == 0 || escaped(cp);
		size_t bytes = n == 0 ? 1 : n, need = esc ? 3 * bytes : bytes;
		if (o + need >= outlen)
			break;
		for (size_t k = 0; k < bytes; k++) {
			if (esc) {
				out[o++] = '%';
				out[o++] = hex[p[i + k] >> 4];
				out[o++] = hex[p[i + k] & 15];
			} else {
				out[o++] = (char)p[i + k];
			}
		}
		i += bytes;
	}
	out[o] = '\0';
	return o;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int names_unshow(const char *shown, char *out, size_t outlen)
{
	size_t o = 0;

	for (const char *s = shown; *s; s++) {
		int c = (unsigned char)*s;
		if (*s == '%') {
			int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			c = hi * 16 + lo;
			s += 2;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	if (outlen == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

int names_receipt_stem(const char *raw, char *out, size_t outlen)
{
	char shown[NAMES_SHOWN_SIZE], sha[HASH_HEX_LEN + 1];
	size_t n = names_show(raw, shown, sizeof(shown)), cut = 0;

	if (outlen <= NAMES_STEM_MAX)
		return -1;
	if (n <= NAMES_STEM_MAX) {
		memcpy(out, shown, n + 1);
		return 0;
	}
	/* whole characters and whole escapes only, up to 191 bytes */
	for (size_t i = 0; i < n;) {
		size_t step;
		unsigned cp;
		if (shown[i] == '%')
			step = 3;
		else if ((step = utf8_char((const unsigned char *)shown + i, n - i, &cp)) == 0)
			step = 1;   /* cannot happen: the shown form is UTF-8 */
		if (i + step > NAMES_STEM_MAX - 9)
			break;
		i += step;
		cut = i;
	}
	if (hash_sha256_hex(raw, strlen(raw), sha) != 0)
		return -1;
	snprintf(out, outlen, "%.*s~%.8s", (int)cut, shown, sha);
	return 0;
}
