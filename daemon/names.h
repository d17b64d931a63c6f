/* names.h: file names as units give them, shown reversibly (see names.c). */
#ifndef VANTHU_NAMES_H
#define VANTHU_NAMES_H

#include <limits.h>
#include <stddef.h>

/* The shown form of a name of at most NAME_MAX bytes fits in this (every byte as %HH). */
#define NAMES_SHOWN_SIZE (3 * NAME_MAX + 1)
/* A receipt's file-name stem is at most this many bytes. */
#define NAMES_STEM_MAX 200

/*
 * The shown form of a raw name (any bytes but NUL): valid UTF-8, and
 * reversible. Every byte that is not part of a valid UTF-8 character, and
 * every byte of a character that is a control (C0, DEL, C1), an invisible
 * format or direction mark (U+061C, U+200B-U+200F, U+2028-U+202E,
 * U+2060-U+206F, U+FEFF), or one of  % \ : * ? " < > |  is written %HH
 * (upper-case hex). Returns the shown length; out always ends in NUL (it is
 * cut, at a character, only when outlen < NAMES_SHOWN_SIZE and the name is long).
 */
size_t names_show(const char *raw, char *out, size_t outlen);
/* The raw bytes back from a shown form. 0, or -1 when it is not one (a bad %HH, a %00). */
int names_unshow(const char *shown, char *out, size_t outlen);
/*
 * The stem of the receipt files of a raw name, from that name alone: its
 * shown form when that is at most NAMES_STEM_MAX bytes; else the shown form
 * cut to at most 191 bytes at a character (never inside a %HH), then "~"
 * and the first 8 hex digits of the SHA-256 of the raw name. outlen must be
 * > NAMES_STEM_MAX. 0, or -1 (no memory for the hash).
 */
int names_receipt_stem(const char *raw, char *out, size_t outlen);
/* Is s valid UTF-8 (strict: no overlong forms, surrogates or code points above U+10FFFF)? */
int names_valid_utf8(const char *s, size_t len);

#endif
