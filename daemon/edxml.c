/*
 * edxml.c: edXML packages and status packets (QCVN 102:2016, ../shared/exchange.md).
 * Owns the strict writer (xmlTextWriter into a capped buffer: the exchange.md order,
 * the edXML: prefix on every envelope element, base64 attachments with a manifest
 * Reference each, every string checked as XML-safe UTF-8 and against its limit) and
 * the tolerant reader (libxml2 from memory, no network, no DTD at all: a DOCTYPE stops
 * the parser; depth and element counts capped while parsing; elements by local name
 * in the edXML namespace or none, in any order; the variants exchange.md lists;
 * strict limits, required fields, base64, attachment names and hashes). Read strings
 * are trimmed of surrounding white space and kept as sent: libxml2 + libcrypto only, so
 * no NFC here (the caller normalises with vnfmt_nfc); limits count code points as sent.
 */
#include "edxml.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlwriter.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define XLINK_NS "http://www.w3.org/1999/xlink"

/* Character limits (exchange.md, Phụ lục VI); the organ id limit is in bytes. */
#define LIM_CODE_NUMBER 11
#define LIM_CODE_NOTATION 30
#define LIM_SUBJECT 500
#define LIM_POSITION 100
#define LIM_FULL_NAME 50
#define LIM_TO_PLACES 1000
#define LIM_ORGAN_NAME 200
#define LIM_SHORT 1000     /* any other one-line field: names, addresses, ids, types */
#define LIM_TEXT 65536     /* Content, descriptions, reasons, appendixes */
#define LIM_NAME_BYTES 255 /* AttachmentName */
#define LIM_CID_BYTES 128  /* ContentId */
#define LIM_NUMBER 1000000 /* PromulgationAmount, PageAmount */
#define LIM_TYPE 9999      /* DocumentType/Type */

/* Caps while parsing, above anything a real package holds (512 To of 9 elements each). */
#define MAX_DEPTH 32
#define MAX_ELEMENTS 20000

#define SHA_MARK "SHA-256:"

/* ---------------------------------------------------------------- strings */

/* Decodes one UTF-8 sequence at s (n bytes left): the code point, or -1 when ill-formed. */
static long utf8_next(const unsigned char *s, size_t n, size_t *used)
{
	long c;
	size_t k;

	if (n == 0)
		return -1;
	if (s[0] < 0x80) {
		*used = 1;
		return s[0];
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		k = 2;
		c = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		k = 3;
		c = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		k = 4;
		c = s[0] & 0x07;
	} else {
		return -1;
	}
	if (n < k)
		return -1;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((k == 3 && c < 0x800) || (k == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return -1;
	*used = k;
	return c;
}

/* Characters of s when it is valid UTF-8 of characters XML 1.0 can carry, else -1. */
static long xml_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), used = 0;
	long count = 0;

	while (n > 0) {
		long c = utf8_next(p, n, &used);
		if (c < 0 || (c < 0x20 && c != 0x9 && c != 0xA && c != 0xD) || c == 0xFFFE ||
		    c == 0xFFFF)
			return -1;
		p += used;
		n -= used;
		count++;
	}
	return count;
}

/* Characters of valid UTF-8 (what libxml2 hands over). */
static long utf8_chars(const char *s)
{
	long count = 0;

	for (; *s; s++)
		count += ((unsigned char)*s & 0xC0) != 0x80;
	return count;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* ---------------------------------------------------------------- dates */

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int valid_ymd(int y, int m, int d)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1)
		return 0;
	return d <= days[m - 1] + (m == 2 && leap(y));
}

/* Reads 1..max digits at *p into *v; the count read, 0 when none. */
static int digits(const char **p, int max, int *v)
{
	int n = 0;

	*v = 0;
	while (n < max && **p >= '0' && **p <= '9') {
		*v = *v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	if (n == max && **p >= '0' && **p <= '9')
		return 0; /* too many digits */
	return n;
}

/*
 * A date at s: yyyy/MM/dd, yyyy-MM-dd or dd/MM/yyyy (day and month of one or two digits).
 * 0 with y/m/d and *end after it, or -1.
 */
static int scan_date(const char *s, int *y, int *m, int *d, const char **end)
{
	const char *p = s;
	int a, b, c, na, nb, nc;
	char sep;

	na = digits(&p, 4, &a);
	if (na == 0 || (*p != '/' && *p != '-'))
		return -1;
	sep = *p++;
	nb = digits(&p, 2, &b);
	if (nb == 0 || *p != sep)
		return -1;
	p++;
	nc = digits(&p, 4, &c);
	if (na == 4 && nc >= 1 && nc <= 2) {
		*y = a, *m = b, *d = c;
	} else if (na <= 2 && nc == 4) {
		*y = c, *m = b, *d = a;
	} else {
		return -1;
	}
	if (!valid_ymd(*y, *m, *d))
		return -1;
	*end = p;
	return 0;
}

/* A whole date string; 0 with y/m/d, or -1. */
static int parse_date(const char *s, int *y, int *m, int *d)
{
	const char *end;

	return s != NULL && scan_date(s, y, m, d, &end) == 0 && *end == '\0' ? 0 : -1;
}

/* A timestamp: one of the dates, ' ' or 'T', H:mm:ss (hour of one or two digits). */
static int parse_timestamp(const char *s, int t[6])
{
	const char *p;
	int n;

	if (s == NULL || scan_date(s, &t[0], &t[1], &t[2], &p) != 0 || (*p != ' ' && *p != 'T'))
		return -1;
	p++;
	n = digits(&p, 2, &t[3]);
	if (n == 0 || *p++ != ':' || digits(&p, 2, &t[4]) != 2 || *p++ != ':' ||
	    digits(&p, 2, &t[5]) != 2 || *p != '\0')
		return -1;
	return t[3] <= 23 && t[4] <= 59 && t[5] <= 59 ? 0 : -1;
}

/* ---------------------------------------------------------------- public helpers */

int edxml_check_organ_id(const char *id)
{
	size_t n;
	static const char shape[] = "ddd.dd.dd.Ldd";

	if (id == NULL || (n = strlen(id)) == 0 || n > EDXML_MAX_ORGAN_ID)
		return -1;
	if (id[0] == '.' || id[n - 1] == '.' || strstr(id, "..") != NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '.' && id[i] != '-' && id[i] != '_')
			return -1;
	if (n != sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];
		if ((shape[i] == 'd' && !isdigit(c)) || (shape[i] == '.' && c != '.') ||
		    (shape[i] == 'L' && !isupper(c)))
			return 0;
	}
	return 1;
}

int edxml_document_id(const char *organ_id, const char *date_iso, const char *code, char *out,
    size_t outlen)
{
	int y, m, d, n;

	if (organ_id == NULL || code == NULL || out == NULL || outlen == 0 ||
	    parse_date(date_iso, &y, &m, &d) != 0)
		return -1;
	n = snprintf(out, outlen, "%s,%04d/%02d/%02d,%s", organ_id, y, m, d, code);
	if (n < 0 || (size_t)n >= outlen) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

const char *edxml_status_name(int code)
{
	switch (code) {
	case 1: return "đã đến";
	case 2: return "từ chối tiếp nhận";
	case 3: return "đã tiếp nhận";
	case 4: return "phân công";
	case 5: return "đang xử lý";
	case 6: return "hoàn thành";
	case 13: return "lấy lại";
	case 15: return "đồng ý lấy lại";
	case 16: return "từ chối lấy lại";
	default: return NULL;
	}
}

/* ---------------------------------------------------------------- freeing */

static void organ_free(struct edxml_organ *o)
{
	free(o->id);
	free(o->in_charge);
	free(o->name);
	free(o->address);
	free(o->email);
	free(o->phone);
	free(o->fax);
	free(o->website);
	memset(o, 0, sizeof(*o));
}

static void ref_free(struct edxml_ref *r)
{
	free(r->organ_id);
	free(r->code);
	free(r->date);
	free(r->document_id);
	memset(r, 0, sizeof(*r));
}

void edxml_doc_free(struct edxml_doc *d)
{
	if (d == NULL)
		return;
	organ_free(&d->from);
	for (size_t i = 0; d->to != NULL && i < d->nto; i++)
		organ_free(&d->to[i]);
	free(d->to);
	free(d->code_number);
	free(d->code_notation);
	free(d->place);
	free(d->date);
	free(d->type_name);
	free(d->subject);
	free(d->content);
	free(d->competence);
	free(d->position);
	free(d->full_name);
	free(d->due_date);
	for (size_t i = 0; d->to_places != NULL && i < d->nto_places; i++)
		free(d->to_places[i]);
	free(d->to_places);
	free(d->sphere);
	free(d->typer);
	free(d->appendixes);
	free(d->document_id);
	for (size_t i = 0; d->response_for != NULL && i < d->nresponse_for; i++)
		ref_free(&d->response_for[i]);
	free(d->response_for);
	for (size_t i = 0; d->traces != NULL && i < d->ntraces; i++) {
		free(d->traces[i].organ_id);
		free(d->traces[i].timestamp);
	}
	free(d->traces);
	free(d->business_reason);
	for (size_t i = 0; d->att != NULL && i < d->natt; i++) {
		free(d->att[i].name);
		free(d->att[i].content_type);
		free(d->att[i].content_id);
		free(d->att[i].description);
		free(d->att[i].data);
	}
	free(d->att);
	memset(d, 0, sizeof(*d));
}

void edxml_status_free(struct edxml_status *s)
{
	if (s == NULL)
		return;
	organ_free(&s->from);
	ref_free(&s->response_for);
	free(s->department);
	free(s->staff);
	free(s->email);
	free(s->mobile);
	free(s->description);
	free(s->timestamp);
	memset(s, 0, sizeof(*s));
}

void edxml_msg_free(struct edxml_msg *m)
{
	if (m == NULL)
		return;
	edxml_doc_free(&m->doc);
	edxml_status_free(&m->st);
	memset(m, 0, sizeof(*m));
}

/* ================================================================ writing */

/* Where the writer's bytes go: a growing buffer that stops at EDXML_MAX_PACKAGE. */
struct sink {
	char *p; /* owned until handed to the caller */
	size_t len, cap;
	int over;
};

static int sink_write(void *ctx, const char *buf, int len)
{
	struct sink *s = ctx;
	size_t need;

	if (len < 0 || s->over)
		return -1;
	need = s->len + (size_t)len + 1;
	if (need > (size_t)EDXML_MAX_PACKAGE + 1) {
		s->over = 1;
		return -1;
	}
	if (need > s->cap) {
		size_t cap = s->cap ? s->cap : 16384;
		char *p;
		while (cap < need)
			cap *= 2;
		p = realloc(s->p, cap);
		if (p == NULL)
			return -1;
		s->p = p;
		s->cap = cap;
	}
	memcpy(s->p + s->len, buf, (size_t)len);
	s->len += (size_t)len;
	s->p[s->len] = '\0';
	return len;
}

static int sink_close(void *ctx)
{
	(void)ctx;
	return 0;
}

/* What a build checks before it writes: the first refusal goes to err. */
struct chk {
	char *err;
	size_t errlen;
	int bad;
};

static void __attribute__((format(printf, 2, 3))) refuse(struct chk *c, const char *fmt, ...)
{
	va_list ap;

	if (c->bad++)
		return;
	va_start(ap, fmt);
	if (c->err != NULL && c->errlen > 0)
		vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
}

/* s (may be NULL unless required) is XML-safe UTF-8 of at most limit characters. */
static void check_str(struct chk *c, const char *s, const char *elem, long limit, int required)
{
	long n;

	if (s == NULL || *s == '\0') {
		if (required)
			refuse(c, "required field %s is missing", elem);
		return;
	}
	n = xml_chars(s);
	if (n < 0)
		refuse(c, "%s is not UTF-8 text that XML can carry", elem);
	else if (n > limit)
		refuse(c, "%s has %ld characters, more than %ld", elem, n, limit);
}

static void check_id(struct chk *c, const char *id, const char *elem, int required)
{
	if (id == NULL || *id == '\0') {
		if (required)
			refuse(c, "required field %s is missing", elem);
		return;
	}
	if (strlen(id) > EDXML_MAX_ORGAN_ID)
		refuse(c, "%s is longer than %d bytes", elem, EDXML_MAX_ORGAN_ID);
	else if (edxml_check_organ_id(id) < 0)
		refuse(c, "%s \"%s\" is not a usable organisation id", elem, id);
}

static void check_date(struct chk *c, const char *s, const char *elem, int required)
{
	int y, m, d;

	if (s == NULL || *s == '\0') {
		if (required)
			refuse(c, "required field %s is missing", elem);
		return;
	}
	if (parse_date(s, &y, &m, &d) != 0)
		refuse(c, "%s \"%.40s\" is not a date", elem, xml_chars(s) < 0 ? "?" : s);
}

static void check_stamp(struct chk *c, const char *s, const char *elem, int required)
{
	int t[6];

	if (s == NULL || *s == '\0') {
		if (required)
			refuse(c, "required field %s is missing", elem);
		return;
	}
	if (parse_timestamp(s, t) != 0)
		refuse(c, "%s \"%.40s\" is not a timestamp", elem, xml_chars(s) < 0 ? "?" : s);
}

static void check_range(struct chk *c, int v, int lo, int hi, const char *elem)
{
	if (v < lo || v > hi)
		refuse(c, "%s %d is outside %d..%d", elem, v, lo, hi);
}

static void check_organ(struct chk *c, const struct edxml_organ *o, const char *what, int name_required)
{
	char elem[64];

	snprintf(elem, sizeof(elem), "%s/OrganId", what);
	check_id(c, o->id, elem, 1);
	snprintf(elem, sizeof(elem), "%s/OrganName", what);
	check_str(c, o->name, elem, LIM_ORGAN_NAME, name_required);
	check_str(c, o->in_charge, "OrganizationInCharge", LIM_SHORT, 0);
	check_str(c, o->address, "OrganAdd", LIM_SHORT, 0);
	check_str(c, o->email, "Email", LIM_SHORT, 0);
	check_str(c, o->phone, "Telephone", LIM_SHORT, 0);
	check_str(c, o->fax, "Fax", LIM_SHORT, 0);
	check_str(c, o->website, "Website", LIM_SHORT, 0);
}

static void check_ref(struct chk *c, const struct edxml_ref *r, int required)
{
	check_id(c, r->organ_id, "ResponseFor/OrganId", required);
	check_str(c, r->code, "ResponseFor/Code", LIM_SHORT, 0);
	check_date(c, r->date, "ResponseFor/PromulgationDate", 0);
	check_str(c, r->document_id, "ResponseFor/DocumentId", LIM_SHORT, required);
}

/* A plain file name: no '/', '\\', control character; not "." or ".."; 1..255 bytes. */
static int safe_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > LIM_NAME_BYTES || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '/' || c == '\\' || c < 0x20 || c == 0x7F)
			return 0;
	}
	return 1;
}

/* A content id: 1..128 of [A-Za-z0-9._@+-]. */
static int safe_cid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > LIM_CID_BYTES)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._@+-", s[i]) == NULL)
			return 0;
	return 1;
}

static int is_hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(len ? data : "", len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return -1;
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static void check_attachment(struct chk *c, const struct edxml_attachment *a, size_t i)
{
	char hex[65];

	if (a->name == NULL || !safe_name(a->name) || xml_chars(a->name) < 0)
		refuse(c, "attachment %zu: AttachmentName is missing or not a plain file name", i + 1);
	check_str(c, a->content_type, "ContentType", LIM_SHORT, 0);
	if (a->content_id != NULL && !safe_cid(a->content_id))
		refuse(c, "attachment %zu: ContentId is not 1..%d of [A-Za-z0-9._@+-]", i + 1,
		    LIM_CID_BYTES);
	check_str(c, a->description, "Description", LIM_TEXT - 80, 0); /* room for the hash */
	if (a->description != NULL && strcasestr(a->description, SHA_MARK) != NULL)
		refuse(c, "attachment %zu: Description must not hold \"%s\" itself", i + 1, SHA_MARK);
	if (a->data == NULL && a->len > 0)
		refuse(c, "attachment %zu has a length but no data", i + 1);
	if (a->sha256[0] != '\0') {
		if (strlen(a->sha256) != 64 || !is_hex64(a->sha256))
			refuse(c, "attachment %zu: sha256 is not 64 hex digits", i + 1);
		else if (sha256_hex(a->data, a->len, hex) != 0 || strcasecmp(hex, a->sha256) != 0)
			refuse(c, "attachment %zu: sha256 does not match its data", i + 1);
	}
}

static void check_doc(struct chk *c, const struct edxml_doc *d)
{
	long places = 0;
	unsigned long long b64 = 0;

	check_organ(c, &d->from, "From", 1);
	if (d->nto == 0 || d->to == NULL)
		refuse(c, "required field To is missing");
	else if (d->nto > EDXML_MAX_TO)
		refuse(c, "%zu recipients, more than %d", d->nto, EDXML_MAX_TO);
	for (size_t i = 0; d->to != NULL && i < d->nto && i <= EDXML_MAX_TO; i++)
		check_organ(c, &d->to[i], "To", 0);
	check_str(c, d->code_number, "CodeNumber", LIM_CODE_NUMBER, 1);
	check_str(c, d->code_notation, "CodeNotation", LIM_CODE_NOTATION, 1);
	check_str(c, d->place, "Place", LIM_SHORT, 0);
	check_date(c, d->date, "PromulgationDate", 1);
	check_range(c, d->type, 0, LIM_TYPE, "Type");
	check_str(c, d->type_name, "TypeName", LIM_SHORT, 1);
	check_str(c, d->subject, "Subject", LIM_SUBJECT, 1);
	check_str(c, d->content, "Content", LIM_TEXT, 0);
	check_str(c, d->competence, "Competence", LIM_SHORT, 0);
	check_str(c, d->position, "Position", LIM_POSITION, 0);
	check_str(c, d->full_name, "FullName", LIM_FULL_NAME, 0);
	check_date(c, d->due_date, "DueDate", 0);
	if (d->nto_places > EDXML_MAX_PLACES || (d->nto_places > 0 && d->to_places == NULL))
		refuse(c, "%zu ToPlaces, more than %d", d->nto_places, EDXML_MAX_PLACES);
	for (size_t i = 0; d->to_places != NULL && i < d->nto_places && i < EDXML_MAX_PLACES; i++) {
		check_str(c, d->to_places[i], "ToPlaces/Place", LIM_TO_PLACES, 0);
		if (d->to_places[i] != NULL && xml_chars(d->to_places[i]) > 0)
			places += xml_chars(d->to_places[i]);
	}
	if (places > LIM_TO_PLACES)
		refuse(c, "ToPlaces has %ld characters, more than %d", places, LIM_TO_PLACES);
	check_range(c, d->priority, 0, 4, "Priority");
	check_str(c, d->sphere, "SphereOfPromulgation", LIM_SHORT, 0);
	check_str(c, d->typer, "TyperNotation", LIM_SHORT, 0);
	check_range(c, d->amount, 0, LIM_NUMBER, "PromulgationAmount");
	check_range(c, d->pages, 0, LIM_NUMBER, "PageAmount");
	check_str(c, d->appendixes, "Appendixes", LIM_TEXT, 0);
	check_range(c, d->steering, 0, 3, "SteeringType");
	check_str(c, d->document_id, "DocumentId", LIM_SHORT, 1);
	if (d->nresponse_for > EDXML_MAX_REFS || (d->nresponse_for > 0 && d->response_for == NULL))
		refuse(c, "%zu ResponseFor, more than %d", d->nresponse_for, EDXML_MAX_REFS);
	for (size_t i = 0; d->response_for != NULL && i < d->nresponse_for && i < EDXML_MAX_REFS; i++)
		check_ref(c, &d->response_for[i], 0);
	if (d->ntraces > EDXML_MAX_REFS || (d->ntraces > 0 && d->traces == NULL))
		refuse(c, "%zu TraceHeader, more than %d", d->ntraces, EDXML_MAX_REFS);
	for (size_t i = 0; d->traces != NULL && i < d->ntraces && i < EDXML_MAX_REFS; i++) {
		check_id(c, d->traces[i].organ_id, "TraceHeader/OrganId", 0);
		check_stamp(c, d->traces[i].timestamp, "TraceHeader/Timestamp", 0);
	}
	check_range(c, d->business, EDXML_NEW, EDXML_REPLACE, "BussinessDocType");
	check_str(c, d->business_reason, "BussinessDocReason", LIM_TEXT, d->business == EDXML_RECALL);
	check_range(c, d->paper, 0, 1, "Paper");
	if (d->natt > EDXML_MAX_ATTACH || (d->natt > 0 && d->att == NULL))
		refuse(c, "%zu attachments, more than %d", d->natt, EDXML_MAX_ATTACH);
	for (size_t i = 0; d->att != NULL && i < d->natt && i < EDXML_MAX_ATTACH; i++) {
		check_attachment(c, &d->att[i], i);
		b64 += (d->att[i].len + 2) / 3 * 4 + d->att[i].len / 57 + 2;
		for (size_t j = 0; j < i; j++)
			if (d->att[i].content_id != NULL && d->att[j].content_id != NULL &&
			    strcmp(d->att[i].content_id, d->att[j].content_id) == 0)
				refuse(c, "attachments %zu and %zu share a ContentId", j + 1, i + 1);
			else if (d->att[i].name != NULL && d->att[j].name != NULL &&
			    strcmp(d->att[i].name, d->att[j].name) == 0)
				refuse(c, "attachments %zu and %zu share a name", j + 1, i + 1);
	}
	if (b64 > EDXML_MAX_PACKAGE)
		refuse(c, "the attachments need more than %u bytes of base64", EDXML_MAX_PACKAGE);
}

/* A random UUID v4, lowercase. */
static int uuid4(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
	    b[14], b[15]);
	return 0;
}

/* Starts an element: pfx 1 for "edXML:name" (the prefix is declared on the root). */
static int open_el(xmlTextWriterPtr w, int pfx, const char *name)
{
	if (pfx)
		return xmlTextWriterStartElementNS(w, BAD_CAST "edXML", BAD_CAST name, NULL);
	return xmlTextWriterStartElement(w, BAD_CAST name);
}

/* An element holding text; nothing when text is NULL (or "" unless keep_empty). */
static int leaf(xmlTextWriterPtr w, int pfx, const char *name, const char *text, int keep_empty)
{
	if (text == NULL || (*text == '\0' && !keep_empty))
		return 0;
	if (open_el(w, pfx, name) < 0 || xmlTextWriterWriteString(w, BAD_CAST text) < 0)
		return -1;
	return xmlTextWriterEndElement(w) < 0 ? -1 : 0;
}

static int leaf_num(xmlTextWriterPtr w, const char *name, int v, int width)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%0*d", width, v);
	return leaf(w, 1, name, buf, 0);
}

static int leaf_date(xmlTextWriterPtr w, const char *name, const char *iso)
{
	char buf[16];
	int y, m, d;

	if (iso == NULL || *iso == '\0')
		return 0;
	if (parse_date(iso, &y, &m, &d) != 0)
		return -1;
	snprintf(buf, sizeof(buf), "%04d/%02d/%02d", y, m, d);
	return leaf(w, 1, name, buf, 0);
}

static int leaf_stamp(xmlTextWriterPtr w, const char *name, const char *s)
{
	char buf[32];
	int t[6];

	if (s == NULL || *s == '\0')
		return 0;
	if (parse_timestamp(s, t) != 0)
		return -1;
	snprintf(buf, sizeof(buf), "%04d/%02d/%02d %02d:%02d:%02d", t[0], t[1], t[2], t[3], t[4],
	    t[5]);
	return leaf(w, 1, name, buf, 0);
}

static int write_organ(xmlTextWriterPtr w, const char *el, const struct edxml_organ *o)
{
	if (open_el(w, 1, el) < 0 || leaf(w, 1, "OrganId", o->id, 0) < 0 ||
	    leaf(w, 1, "OrganizationInCharge", o->in_charge, 0) < 0 ||
	    leaf(w, 1, "OrganName", o->name, 0) < 0 || leaf(w, 1, "OrganAdd", o->address, 0) < 0 ||
	    leaf(w, 1, "Email", o->email, 0) < 0 || leaf(w, 1, "Telephone", o->phone, 0) < 0 ||
	    leaf(w, 1, "Fax", o->fax, 0) < 0 || leaf(w, 1, "Website", o->website, 0) < 0)
		return -1;
	return xmlTextWriterEndElement(w) < 0 ? -1 : 0;
}

static int write_ref(xmlTextWriterPtr w, const struct edxml_ref *r)
{
	if (open_el(w, 1, "ResponseFor") < 0 || leaf(w, 1, "OrganId", r->organ_id, 0) < 0 ||
	    leaf(w, 1, "Code", r->code, 0) < 0 || leaf_date(w, "PromulgationDate", r->date) < 0 ||
	    leaf(w, 1, "DocumentId", r->document_id, 0) < 0)
		return -1;
	return xmlTextWriterEndElement(w) < 0 ? -1 : 0;
}

/* The Description an attachment carries: its text and "SHA-256: <hex>", "; "-separated. */
static char *att_description(const struct edxml_attachment *a)
{
	const char *desc = a->description != NULL ? a->description : "";
	size_t n = strlen(desc) + 80;
	char *out = malloc(n);

	if (out == NULL)
		return NULL;
	if (a->sha256[0] != '\0') {
		char hex[65];
		for (int i = 0; i < 64; i++)
			hex[i] = (char)tolower((unsigned char)a->sha256[i]);
		hex[64] = '\0';
		snprintf(out, n, "%s%s%s %s", desc, *desc ? "; " : "", SHA_MARK, hex);
	} else {
		snprintf(out, n, "%s", desc);
	}
	return out;
}

/* base64 of data in lines of 76 characters. */
static int write_base64(xmlTextWriterPtr w, const unsigned char *data, size_t len)
{
	enum { LINES = 256 };
	unsigned char buf[LINES * 78 + 2];
	size_t off = 0;

	if (xmlTextWriterWriteRaw(w, BAD_CAST "\n") < 0)
		return -1;
	while (off < len) {
		size_t pos = 0;
		for (int l = 0; l < LINES && off < len; l++) {
			size_t chunk = len - off < 57 ? len - off : 57;
			pos += (size_t)EVP_EncodeBlock(buf + pos, data + off, (int)chunk);
			buf[pos++] = '\n';
			off += chunk;
		}
		buf[pos] = '\0';
		if (xmlTextWriterWriteRaw(w, buf) < 0)
			return -1;
	}
	return 0;
}

/* Opens the writer on a sink, writes the declaration and the root with its namespaces. */
static xmlTextWriterPtr start_package(struct sink *s)
{
	xmlOutputBufferPtr ob = xmlOutputBufferCreateIO(sink_write, sink_close, s, NULL);
	xmlTextWriterPtr w;

	if (ob == NULL)
		return NULL;
	w = xmlNewTextWriter(ob); /* owns ob from here */
	if (w == NULL) {
		xmlOutputBufferClose(ob);
		return NULL;
	}
	if (xmlTextWriterSetIndent(w, 1) < 0 || xmlTextWriterSetIndentString(w, BAD_CAST "  ") < 0 ||
	    xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0 ||
	    xmlTextWriterStartElement(w, BAD_CAST "edXML") < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns:edXML", BAD_CAST EDXML_NS) < 0 ||
	    xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns:xlink", BAD_CAST XLINK_NS) < 0 ||
	    open_el(w, 1, "edXMLEnvelope") < 0 || open_el(w, 1, "edXMLHeader") < 0 ||
	    open_el(w, 1, "MessageHeader") < 0) {
		xmlFreeTextWriter(w);
		return NULL;
	}
	return w;
}

/* Ends the document, frees the writer and hands the bytes over. */
static int finish_package(xmlTextWriterPtr w, struct sink *s, char **out, size_t *len,
    struct chk *c)
{
	int rc = xmlTextWriterEndDocument(w);

	xmlFreeTextWriter(w); /* flushes into s */
	if (rc < 0 || s->over || s->p == NULL) {
		refuse(c, s->over ? "the package would exceed %u bytes" : "cannot write the package "
		    "(out of memory?) %u", EDXML_MAX_PACKAGE);
		return -1;
	}
	*out = s->p;
	*len = s->len;
	s->p = NULL;
	return 0;
}

static int write_doc_body(xmlTextWriterPtr w, const struct edxml_doc *d, char (*cids)[LIM_CID_BYTES + 1])
{
	for (size_t i = 0; i < d->nto; i++)
		if (write_organ(w, "To", &d->to[i]) < 0)
			return -1;
	if (open_el(w, 1, "Code") < 0 || leaf(w, 1, "CodeNumber", d->code_number, 0) < 0 ||
	    leaf(w, 1, "CodeNotation", d->code_notation, 0) < 0 || xmlTextWriterEndElement(w) < 0)
		return -1;
	if (open_el(w, 1, "PromulgationInfo") < 0 || leaf(w, 1, "Place", d->place, 0) < 0 ||
	    leaf_date(w, "PromulgationDate", d->date) < 0 || xmlTextWriterEndElement(w) < 0)
		return -1;
	if (open_el(w, 1, "DocumentType") < 0 || leaf_num(w, "Type", d->type, 1) < 0 ||
	    leaf(w, 1, "TypeName", d->type_name, 0) < 0 || xmlTextWriterEndElement(w) < 0)
		return -1;
	if (leaf(w, 1, "Subject", d->subject, 0) < 0 || leaf(w, 1, "Content", d->content, 0) < 0)
		return -1;
	if (open_el(w, 1, "SignerInfo") < 0 || leaf(w, 1, "Competence", d->competence, 0) < 0 ||
	    leaf(w, 1, "Position", d->position, 0) < 0 || leaf(w, 1, "FullName", d->full_name, 0) < 0 ||
	    xmlTextWriterEndElement(w) < 0)
		return -1;
	if (leaf_date(w, "DueDate", d->due_date) < 0)
		return -1;
	if (d->nto_places > 0) {
		if (open_el(w, 1, "ToPlaces") < 0)
			return -1;
		for (size_t i = 0; i < d->nto_places; i++)
			if (leaf(w, 1, "Place", d->to_places[i], 0) < 0)
				return -1;
		if (xmlTextWriterEndElement(w) < 0)
			return -1;
	}
	if (open_el(w, 1, "OtherInfo") < 0 || leaf_num(w, "Priority", d->priority, 1) < 0 ||
	    leaf(w, 1, "SphereOfPromulgation", d->sphere, 0) < 0 ||
	    leaf(w, 1, "TyperNotation", d->typer, 0) < 0 ||
	    leaf_num(w, "PromulgationAmount", d->amount, 1) < 0 ||
	    leaf_num(w, "PageAmount", d->pages, 1) < 0 ||
	    leaf(w, 1, "Appendixes", d->appendixes, 0) < 0 || xmlTextWriterEndElement(w) < 0)
		return -1;
	if (leaf_num(w, "SteeringType", d->steering, 1) < 0 ||
	    leaf(w, 1, "DocumentId", d->document_id, 0) < 0)
		return -1;
	for (size_t i = 0; i < d->nresponse_for; i++)
		if (write_ref(w, &d->response_for[i]) < 0)
			return -1;
	if (xmlTextWriterEndElement(w) < 0) /* MessageHeader */
		return -1;
	if (open_el(w, 1, "TraceHeaderList") < 0)
		return -1;
	for (size_t i = 0; i < d->ntraces; i++)
		if (open_el(w, 1, "TraceHeader") < 0 || leaf(w, 1, "OrganId", d->traces[i].organ_id, 0) < 0 ||
		    leaf_stamp(w, "Timestamp", d->traces[i].timestamp) < 0 ||
		    xmlTextWriterEndElement(w) < 0)
			return -1;
	if (open_el(w, 1, "Bussiness") < 0 || leaf_num(w, "BussinessDocType", d->business, 1) < 0 ||
	    leaf(w, 1, "BussinessDocReason", d->business_reason, 0) < 0 ||
	    leaf_num(w, "Paper", d->paper, 1) < 0 || xmlTextWriterEndElement(w) < 0 ||
	    xmlTextWriterEndElement(w) < 0) /* TraceHeaderList */
		return -1;
	if (open_el(w, 1, "Signature") < 0 || xmlTextWriterEndElement(w) < 0 ||
	    xmlTextWriterEndElement(w) < 0) /* edXMLHeader */
		return -1;
	if (open_el(w, 1, "edXMLBody") < 0 || open_el(w, 1, "edXMLManifest") < 0)
		return -1;
	for (size_t i = 0; i < d->natt; i++) {
		char href[LIM_CID_BYTES + 8], *desc = att_description(&d->att[i]);
		int rc;
		if (desc == NULL)
			return -1;
		snprintf(href, sizeof(href), "cid:%s", cids[i]);
		rc = open_el(w, 1, "Reference") < 0 ||
		    xmlTextWriterWriteAttribute(w, BAD_CAST "xlink:href", BAD_CAST href) < 0 ||
		    leaf(w, 1, "Description", desc, 0) < 0 ||
		    leaf(w, 1, "AttachmentName", d->att[i].name, 0) < 0 ||
		    leaf(w, 1, "ContentType", d->att[i].content_type ? d->att[i].content_type :
		    "application/octet-stream", 0) < 0 || leaf(w, 1, "ContentId", cids[i], 0) < 0 ||
		    xmlTextWriterEndElement(w) < 0;
		free(desc);
		if (rc)
			return -1;
	}
	if (xmlTextWriterEndElement(w) < 0 || xmlTextWriterEndElement(w) < 0 || /* manifest, body */
	    xmlTextWriterEndElement(w) < 0) /* envelope */
		return -1;
	if (open_el(w, 0, "AttachmentEncoded") < 0)
		return -1;
	for (size_t i = 0; i < d->natt; i++) {
		char *desc = att_description(&d->att[i]);
		int rc;
		if (desc == NULL)
			return -1;
		rc = open_el(w, 0, "Attachment") < 0 ||
		    leaf(w, 0, "ContentType", d->att[i].content_type ? d->att[i].content_type :
		    "application/octet-stream", 0) < 0 || leaf(w, 0, "ContentId", cids[i], 0) < 0 ||
		    leaf(w, 0, "Description", desc, 0) < 0 ||
		    xmlTextWriterStartElement(w, BAD_CAST "ContentTransferEncoded") < 0 ||
		    write_base64(w, d->att[i].data, d->att[i].len) < 0 ||
		    xmlTextWriterEndElement(w) < 0 ||
		    leaf(w, 0, "AttachmentName", d->att[i].name, 0) < 0 ||
		    xmlTextWriterEndElement(w) < 0;
		free(desc);
		if (rc)
			return -1;
	}
	return xmlTextWriterEndElement(w) < 0 ? -1 : 0;
}

int edxml_build_doc(const struct edxml_doc *d, char **out, size_t *len, char *err, size_t errlen)
{
	struct chk c = { .err = err, .errlen = errlen };
	struct sink s = { 0 };
	char (*cids)[LIM_CID_BYTES + 1] = NULL;
	xmlTextWriterPtr w = NULL;
	int rc = -1;

	*out = NULL;
	*len = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	check_doc(&c, d);
	if (c.bad)
		return -1;
	cids = calloc(d->natt ? d->natt : 1, sizeof(*cids)); /* the content ids written */
	if (cids == NULL) {
		refuse(&c, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < d->natt; i++) {
		if (d->att[i].content_id != NULL)
			snprintf(cids[i], sizeof(cids[i]), "%s", d->att[i].content_id);
		else if (uuid4(cids[i]) != 0) {
			refuse(&c, "no random bytes for a content id");
			goto out;
		}
	}
	w = start_package(&s);
	if (w == NULL || write_organ(w, "From", &d->from) < 0 || write_doc_body(w, d, cids) < 0) {
		refuse(&c, s.over ? "the package would exceed %u bytes" : "cannot write the package "
		    "(limit %u bytes, or out of memory)", EDXML_MAX_PACKAGE);
		goto out;
	}
	rc = finish_package(w, &s, out, len, &c);
	w = NULL;
out:
	if (w != NULL)
		xmlFreeTextWriter(w);
	free(s.p);
	free(cids);
	return rc;
}

int edxml_build_status(const struct edxml_status *st, char **out, size_t *len, char *err,
    size_t errlen)
{
	struct chk c = { .err = err, .errlen = errlen };
	struct sink s = { 0 };
	xmlTextWriterPtr w = NULL;
	int rc = -1;

	*out = NULL;
	*len = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	check_organ(&c, &st->from, "From", 0);
	check_ref(&c, &st->response_for, 1);
	check_str(&c, st->department, "Department", LIM_SHORT, 0);
	check_str(&c, st->staff, "Staff", LIM_SHORT, 0);
	check_str(&c, st->email, "Email", LIM_SHORT, 0);
	check_str(&c, st->mobile, "Mobile", LIM_SHORT, 0);
	if (edxml_status_name(st->code) == NULL)
		refuse(&c, "status code %d has no published meaning and is never sent", st->code);
	if (st->description == NULL)
		refuse(&c, "required field Description is missing");
	else
		check_str(&c, st->description, "Description", LIM_TEXT, st->code == 2 || st->code == 16);
	check_stamp(&c, st->timestamp, "Timestamp", 1);
	if (c.bad)
		return -1;
	w = start_package(&s);
	if (w == NULL || write_organ(w, "From", &st->from) < 0 ||
	    write_ref(w, &st->response_for) < 0)
		goto fail;
	if (st->department || st->staff || st->email || st->mobile) {
		if (open_el(w, 1, "StaffInfo") < 0 || leaf(w, 1, "Department", st->department, 0) < 0 ||
		    leaf(w, 1, "Staff", st->staff, 0) < 0 || leaf(w, 1, "Email", st->email, 0) < 0 ||
		    leaf(w, 1, "Mobile", st->mobile, 0) < 0 || xmlTextWriterEndElement(w) < 0)
			goto fail;
	}
	if (leaf_num(w, "StatusCode", st->code, 2) < 0 ||
	    leaf(w, 1, "Description", st->description, 1) < 0 ||
	    leaf_stamp(w, "Timestamp", st->timestamp) < 0 ||
	    xmlTextWriterEndElement(w) < 0 || /* MessageHeader */
	    open_el(w, 1, "Signature") < 0 || xmlTextWriterEndElement(w) < 0 ||
	    xmlTextWriterEndElement(w) < 0 || /* edXMLHeader */
	    open_el(w, 1, "edXMLBody") < 0 || open_el(w, 1, "edXMLManifest") < 0)
		goto fail;
	rc = finish_package(w, &s, out, len, &c);
	w = NULL;
	goto out;
fail:
	refuse(&c, "cannot write the status packet (out of memory?)");
out:
	if (w != NULL)
		xmlFreeTextWriter(w);
	free(s.p);
	return rc;
}

/* ================================================================ reading */

/* One parse: where the refusal goes. */
struct rd {
	struct edxml_error *e;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 5, 6))) fail(struct rd *r, enum edxml_fault f,
    const char *elem, int limit, const char *fmt, ...)
{
	va_list ap;

	if (r->e->fault != EDXML_OK)
		return -1;
	r->e->fault = f;
	snprintf(r->e->element, sizeof(r->e->element), "%s", elem ? elem : "");
	r->e->limit = limit;
	va_start(ap, fmt);
	if (r->err != NULL && r->errlen > 0)
		vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* An element of ours: in the edXML namespace or in none. */
static int ours(xmlNodePtr n)
{
	return n->type == XML_ELEMENT_NODE &&
	    (n->ns == NULL || n->ns->href == NULL || strcmp((const char *)n->ns->href, EDXML_NS) == 0);
}

static int named(xmlNodePtr n, const char *local)
{
	return ours(n) && strcmp((const char *)n->name, local) == 0;
}

/* The first child of ours called local (or alt when not NULL). */
static xmlNodePtr child2(xmlNodePtr p, const char *local, const char *alt)
{
	if (p == NULL)
		return NULL;
	for (xmlNodePtr c = p->children; c != NULL; c = c->next)
		if (named(c, local) || (alt != NULL && named(c, alt)))
			return c;
	return NULL;
}

static xmlNodePtr child(xmlNodePtr p, const char *local)
{
	return child2(p, local, NULL);
}

static size_t count_children(xmlNodePtr p, const char *local)
{
	size_t n = 0;

	for (xmlNodePtr c = p ? p->children : NULL; c != NULL; c = c->next)
		n += named(c, local);
	return n;
}

/* The text directly inside n, concatenated, not trimmed; NULL on no memory. */
static char *raw_text(xmlNodePtr n, size_t *len)
{
	size_t total = 0, pos = 0;
	char *s;

	for (xmlNodePtr c = n->children; c != NULL; c = c->next)
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
			total += strlen((const char *)c->content);
	s = malloc(total + 1);
	if (s == NULL)
		return NULL;
	for (xmlNodePtr c = n->children; c != NULL; c = c->next)
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
			size_t k = strlen((const char *)c->content);
			memcpy(s + pos, c->content, k);
			pos += k;
		}
	s[pos] = '\0';
	*len = pos;
	return s;
}

/*
 * The text of element n (may be NULL), trimmed (kept as sent otherwise), into *out (NULL when absent or
 * empty); refused when longer than limit characters. 0, or -1 with r filled.
 */
static int text_of(struct rd *r, xmlNodePtr n, const char *elem, long limit, char **out)
{
	char *raw, *nfc = NULL;
	size_t len = 0, start = 0;
	long chars;

	*out = NULL;
	if (n == NULL)
		return 0;
	raw = raw_text(n, &len);
	if (raw == NULL)
		return fail(r, EDXML_TOO_BIG, elem, 0, "out of memory reading <%s>", elem);
	while (start < len && is_space(raw[start]))
		start++;
	while (len > start && is_space(raw[len - 1]))
		len--;
	if (len == start) {
		free(raw);
		return 0;
	}
	/* libxml2 hands over UTF-8; it is kept as sent (no NFC here: see the top comment) */
	nfc = strndup(raw + start, len - start);
	free(raw);
	if (nfc == NULL)
		return fail(r, EDXML_TOO_BIG, elem, 0, "out of memory reading <%s>", elem);
	if (xml_chars(nfc) < 0) {
		free(nfc);
		return fail(r, EDXML_BAD_VALUE, elem, 0, "<%s> is not UTF-8 text", elem);
	}
	chars = utf8_chars(nfc);
	if (chars > limit) {
		free(nfc);
		return fail(r, EDXML_TOO_LONG, elem, (int)limit, "<%s> has %ld characters, more than %ld",
		    elem, chars, limit);
	}
	*out = nfc;
	return 0;
}

/* The child local of p as text (see text_of); required ones are refused when absent. */
static int field(struct rd *r, xmlNodePtr p, const char *local, long limit, int required,
    char **out)
{
	if (text_of(r, child(p, local), local, limit, out) != 0)
		return -1;
	if (*out == NULL && required)
		return fail(r, EDXML_MISSING, local, 0, "required <%s> is missing or empty", local);
	return 0;
}

static int organ_id(struct rd *r, xmlNodePtr p, int required, char **out)
{
	if (text_of(r, child(p, "OrganId"), "OrganId", LIM_SHORT, out) != 0)
		return -1;
	if (*out == NULL)
		return required ? fail(r, EDXML_MISSING, "OrganId", 0,
		    "required <OrganId> in <%s> is missing or empty", (const char *)p->name) : 0;
	if (strlen(*out) > EDXML_MAX_ORGAN_ID)
		return fail(r, EDXML_TOO_LONG, "OrganId", EDXML_MAX_ORGAN_ID,
		    "<OrganId> in <%s> is longer than %d bytes", (const char *)p->name,
		    EDXML_MAX_ORGAN_ID);
	if (edxml_check_organ_id(*out) < 0)
		return fail(r, EDXML_BAD_VALUE, "OrganId", 0,
		    "<OrganId> in <%s> is not a usable organisation id", (const char *)p->name);
	return 0;
}

/* A number in lo..hi; dflt when absent or empty. */
static int number(struct rd *r, xmlNodePtr p, const char *local, int lo, int hi, int dflt,
    int required, int *out)
{
	char *s = NULL;
	long v = 0;

	*out = dflt;
	if (field(r, p, local, 32, required, &s) != 0) {
		if (r->e->fault == EDXML_TOO_LONG) {
			r->e->fault = EDXML_BAD_VALUE;
			r->e->limit = 0;
		}
		return -1;
	}
	if (s == NULL)
		return 0;
	for (const char *q = s; *q; q++) {
		if (*q < '0' || *q > '9' || v > 100000000) {
			free(s);
			return fail(r, EDXML_BAD_VALUE, local, 0, "<%s> is not a number", local);
		}
		v = v * 10 + (*q - '0');
	}
	free(s);
	if (v < lo || v > hi)
		return fail(r, EDXML_BAD_VALUE, local, 0, "<%s> %ld is outside %d..%d", local, v, lo, hi);
	*out = (int)v;
	return 0;
}

/* A date, normalised to YYYY-MM-DD. */
static int date_field(struct rd *r, xmlNodePtr p, const char *local, int required, char **out)
{
	int y, m, d;
	char *s;

	if (field(r, p, local, 32, required, out) != 0) {
		if (r->e->fault == EDXML_TOO_LONG)
			r->e->fault = EDXML_BAD_VALUE, r->e->limit = 0;
		return -1;
	}
	if (*out == NULL)
		return 0;
	if (parse_date(*out, &y, &m, &d) != 0) {
		free(*out);
		*out = NULL;
		return fail(r, EDXML_BAD_VALUE, local, 0, "<%s> is not a date", local);
	}
	s = realloc(*out, 11);
	if (s == NULL)
		return fail(r, EDXML_TOO_BIG, local, 0, "out of memory");
	snprintf(s, 11, "%04d-%02d-%02d", y, m, d);
	*out = s;
	return 0;
}

/* A timestamp, normalised to YYYY-MM-DD HH:MM:SS. */
static int stamp_field(struct rd *r, xmlNodePtr p, const char *local, int required, char **out)
{
	int t[6];
	char *s;

	if (field(r, p, local, 40, required, out) != 0) {
		if (r->e->fault == EDXML_TOO_LONG)
			r->e->fault = EDXML_BAD_VALUE, r->e->limit = 0;
		return -1;
	}
	if (*out == NULL)
		return 0;
	if (parse_timestamp(*out, t) != 0) {
		free(*out);
		*out = NULL;
		return fail(r, EDXML_BAD_VALUE, local, 0, "<%s> is not a timestamp", local);
	}
	s = realloc(*out, 20);
	if (s == NULL)
		return fail(r, EDXML_TOO_BIG, local, 0, "out of memory");
	snprintf(s, 20, "%04d-%02d-%02d %02d:%02d:%02d", t[0], t[1], t[2], t[3], t[4], t[5]);
	*out = s;
	return 0;
}

static int read_organ(struct rd *r, xmlNodePtr n, struct edxml_organ *o)
{
	if (organ_id(r, n, 1, &o->id) != 0 ||
	    text_of(r, child2(n, "OrganizationInCharge", "OrganInCharge"), "OrganizationInCharge",
	    LIM_SHORT, &o->in_charge) != 0 ||
	    field(r, n, "OrganName", LIM_ORGAN_NAME, 0, &o->name) != 0 ||
	    field(r, n, "OrganAdd", LIM_SHORT, 0, &o->address) != 0 ||
	    field(r, n, "Email", LIM_SHORT, 0, &o->email) != 0 ||
	    field(r, n, "Telephone", LIM_SHORT, 0, &o->phone) != 0 ||
	    field(r, n, "Fax", LIM_SHORT, 0, &o->fax) != 0 ||
	    field(r, n, "Website", LIM_SHORT, 0, &o->website) != 0)
		return -1;
	return 0;
}

/* ResponseFor; Code is text ("12/TB-UBND") or, from some senders, CodeNumber/CodeNotation. */
static int read_ref(struct rd *r, xmlNodePtr n, struct edxml_ref *f, int required)
{
	xmlNodePtr code = child(n, "Code");

	if (organ_id(r, n, 0, &f->organ_id) != 0)
		return -1;
	if (code != NULL && (child(code, "CodeNumber") != NULL || child(code, "CodeNotation") != NULL)) {
		char *num = NULL, *nota = NULL;
		int rc = field(r, code, "CodeNumber", LIM_CODE_NUMBER, 0, &num) != 0 ||
		    field(r, code, "CodeNotation", LIM_CODE_NOTATION, 0, &nota) != 0;
		if (!rc && (num || nota)) {
			size_t k = (num ? strlen(num) : 0) + (nota ? strlen(nota) : 0) + 2;
			f->code = malloc(k);
			if (f->code != NULL)
				snprintf(f->code, k, "%s%s%s", num ? num : "", num && nota ? "/" : "",
				    nota ? nota : "");
			else
				rc = fail(r, EDXML_TOO_BIG, "Code", 0, "out of memory");
		}
		free(num);
		free(nota);
		if (rc)
			return -1;
	} else if (text_of(r, code, "Code", LIM_SHORT, &f->code) != 0) {
		return -1;
	}
	if (date_field(r, n, "PromulgationDate", 0, &f->date) != 0 ||
	    field(r, n, "DocumentId", LIM_SHORT, required, &f->document_id) != 0)
		return -1;
	return 0;
}

/* Strict base64 (white space allowed anywhere, padding only at the end). 0, or -1. */
static int base64_decode(const char *s, size_t len, unsigned char **out, size_t *outlen)
{
	signed char map[256];
	unsigned char *o;
	size_t n = 0, q = 0, pad = 0;
	uint32_t acc = 0;

	for (int i = 0; i < 256; i++)
		map[i] = -1;
	for (int i = 0; i < 26; i++) {
		map['A' + i] = (signed char)i;
		map['a' + i] = (signed char)(26 + i);
	}
	for (int i = 0; i < 10; i++)
		map['0' + i] = (signed char)(52 + i);
	map['+'] = 62;
	map['/'] = 63;
	o = malloc(len / 4 * 3 + 3);
	if (o == NULL)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_space((char)c))
			continue;
		if (c == '=') {
			if (q < 2 || ++pad > 2)
				goto bad;
			q++;
			if (q == 4) {
				/* 2 or 1 bytes from what the quantum held */
				if (pad == 2) {
					o[n++] = (unsigned char)(acc >> 4);
				} else {
					o[n++] = (unsigned char)(acc >> 10);
					o[n++] = (unsigned char)(acc >> 2);
				}
				q = 0;
			}
			continue;
		}
		if (pad > 0 || map[c] < 0)
			goto bad;
		acc = (acc << 6) | (uint32_t)map[c];
		if (++q == 4) {
			o[n++] = (unsigned char)(acc >> 16);
			o[n++] = (unsigned char)(acc >> 8);
			o[n++] = (unsigned char)acc;
			q = 0;
			acc = 0;
		}
	}
	if (q != 0)
		goto bad;
	*out = o;
	*outlen = n;
	return 0;
bad:
	free(o);
	return -1;
}

/*
 * Splits an attachment's Description into its text and the "SHA-256: <hex>" it carries.
 * 0 with *text (may be NULL) and hex ("" when none), or -1 when the hash is malformed.
 */
static int split_description(const char *desc, char **text, char hex[65])
{
	const char *m, *h, *after;
	size_t before;

	*text = NULL;
	hex[0] = '\0';
	if (desc == NULL)
		return 0;
	m = strcasestr(desc, SHA_MARK);
	if (m == NULL) {
		*text = strdup(desc);
		return *text == NULL ? -1 : 0;
	}
	h = m + strlen(SHA_MARK);
	while (*h == ' ')
		h++;
	if (strlen(h) < 64 || !is_hex64(h) || isxdigit((unsigned char)h[64]))
		return -1;
	for (int i = 0; i < 64; i++)
		hex[i] = (char)tolower((unsigned char)h[i]);
	hex[64] = '\0';
	after = h + 64;
	while (*after == ';' || *after == ',' || is_space(*after))
		after++;
	before = (size_t)(m - desc);
	while (before > 0 && (desc[before - 1] == ';' || desc[before - 1] == ',' ||
	    is_space(desc[before - 1])))
		before--;
	if (before > 0 || *after != '\0') {
		size_t k = before + strlen(after) + 3;
		*text = malloc(k);
		if (*text == NULL)
			return -1;
		snprintf(*text, k, "%.*s%s%s", (int)before, desc, before && *after ? "; " : "", after);
		if (strcasestr(*text, SHA_MARK) != NULL) {
			free(*text);
			*text = NULL;
			return -1;
		}
	}
	return 0;
}

/* A content id as written: without "cid:" and angle brackets. */
static void bare_cid(char *s)
{
	size_t n;

	if (strncasecmp(s, "cid:", 4) == 0)
		memmove(s, s + 4, strlen(s + 4) + 1);
	n = strlen(s);
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
}

/* The manifest's References: content id and Description of each. */
struct manref {
	char *cid;  /* owned */
	char *desc; /* owned, may be NULL */
};

static int read_manifest(struct rd *r, xmlNodePtr manifest, struct manref *refs, size_t *nrefs)
{
	*nrefs = 0;
	for (xmlNodePtr c = manifest ? manifest->children : NULL; c != NULL; c = c->next) {
		xmlChar *href;
		char *cid = NULL;
		if (!named(c, "Reference"))
			continue;
		if (*nrefs == EDXML_MAX_ATTACH)
			return fail(r, EDXML_TOO_BIG, "Reference", 0, "more than %d manifest References",
			    EDXML_MAX_ATTACH);
		href = xmlGetNsProp(c, BAD_CAST "href", BAD_CAST XLINK_NS);
		if (href == NULL)
			href = xmlGetNoNsProp(c, BAD_CAST "href");
		if (href != NULL) {
			cid = strdup((const char *)href);
			xmlFree(href);
			if (cid == NULL)
				return fail(r, EDXML_TOO_BIG, "Reference", 0, "out of memory");
		} else if (field(r, c, "ContentId", LIM_CID_BYTES + 8, 0, &cid) != 0) {
			r->e->fault = EDXML_BAD_ATTACHMENT;
			return -1;
		}
		refs[*nrefs].cid = cid;
		(*nrefs)++;
		if (cid == NULL)
			continue;
		bare_cid(cid);
		if (text_of(r, child(c, "Description"), "Description", LIM_TEXT, &refs[*nrefs - 1].desc))
			return -1;
	}
	return 0;
}

static int read_attachment(struct rd *r, xmlNodePtr n, size_t i, struct edxml_attachment *a,
    struct manref *refs, size_t nrefs)
{
	char *desc = NULL, *other = NULL, *b64 = NULL, hex[65], rhex[65], have[65];
	const struct manref *ref = NULL;
	xmlNodePtr enc;
	size_t blen = 0;
	int rc = -1;

	if (text_of(r, child(n, "ContentId"), "ContentId", LIM_CID_BYTES + 8, &a->content_id) != 0)
		r->e->fault = EDXML_OK; /* reported below as a bad attachment */
	if (a->content_id != NULL)
		bare_cid(a->content_id);
	if (a->content_id == NULL || !safe_cid(a->content_id))
		return fail(r, EDXML_BAD_ATTACHMENT, "ContentId", 0,
		    "attachment %zu: <ContentId> is missing or not 1..%d of [A-Za-z0-9._@+-]", i + 1,
		    LIM_CID_BYTES);
	if (text_of(r, child(n, "AttachmentName"), "AttachmentName", LIM_NAME_BYTES, &a->name) != 0)
		r->e->fault = EDXML_OK;
	if (a->name == NULL || !safe_name(a->name))
		return fail(r, EDXML_BAD_ATTACHMENT, "AttachmentName", 0,
		    "attachment %zu: <AttachmentName> is missing or not a plain file name", i + 1);
	if (field(r, n, "ContentType", LIM_SHORT, 0, &a->content_type) != 0)
		return -1;
	for (size_t k = 0; k < nrefs; k++)
		if (refs[k].cid != NULL && strcmp(refs[k].cid, a->content_id) == 0)
			ref = &refs[k];
	if (ref == NULL)
		return fail(r, EDXML_BAD_ATTACHMENT, "Reference", 0,
		    "attachment %zu (%s): no manifest Reference for cid:%s", i + 1, a->name,
		    a->content_id);
	if (field(r, n, "Description", LIM_TEXT, 0, &desc) != 0)
		return -1;
	/* The Attachment's Description, else the Reference's, gives the text; every hash must match. */
	if (split_description(desc ? desc : ref->desc, &a->description, hex) != 0 ||
	    split_description(desc ? ref->desc : NULL, &other, rhex) != 0) {
		fail(r, EDXML_BAD_ATTACHMENT, "Description", 0,
		    "attachment %zu (%s): the SHA-256 in <Description> is malformed", i + 1, a->name);
		goto out;
	}
	if (a->description != NULL && utf8_chars(a->description) > LIM_TEXT - 80) {
		fail(r, EDXML_TOO_LONG, "Description", LIM_TEXT - 80,
		    "attachment %zu: <Description> is longer than %d characters", i + 1, LIM_TEXT - 80);
		goto out;
	}
	enc = child(n, "ContentTransferEncoded");
	if (enc == NULL || (b64 = raw_text(enc, &blen)) == NULL ||
	    base64_decode(b64, blen, &a->data, &a->len) != 0) {
		fail(r, EDXML_BAD_ATTACHMENT, "ContentTransferEncoded", 0,
		    "attachment %zu (%s): <ContentTransferEncoded> is missing or not base64", i + 1,
		    a->name);
		goto out;
	}
	if (hex[0] != '\0' || rhex[0] != '\0') {
		if (sha256_hex(a->data, a->len, have) != 0) {
			fail(r, EDXML_TOO_BIG, "Attachment", 0, "cannot hash attachment %zu", i + 1);
			goto out;
		}
		if ((hex[0] != '\0' && strcmp(hex, have) != 0) ||
		    (rhex[0] != '\0' && strcmp(rhex, have) != 0)) {
			fail(r, EDXML_BAD_ATTACHMENT, "Description", 0, "attachment %zu (%s): its data "
			    "does not match the SHA-256 in <Description>", i + 1, a->name);
			goto out;
		}
		if (hex[0] == '\0')
			memcpy(hex, rhex, sizeof(hex));
	}
	memcpy(a->sha256, hex, sizeof(a->sha256));
	rc = 0;
out:
	free(desc);
	free(other);
	free(b64);
	return rc;
}

static int read_attachments(struct rd *r, xmlNodePtr root, xmlNodePtr env, struct edxml_doc *d)
{
	struct manref refs[EDXML_MAX_ATTACH];
	xmlNodePtr body = child(env, "edXMLBody"), encoded;
	size_t nrefs = 0, n;
	int rc = -1;

	memset(refs, 0, sizeof(refs));
	if (body == NULL)
		body = child(root, "edXMLBody");
	if (read_manifest(r, child(body, "edXMLManifest"), refs, &nrefs) != 0)
		goto out;
	encoded = child(root, "AttachmentEncoded");
	if (encoded == NULL)
		encoded = child(env, "AttachmentEncoded");
	n = count_children(encoded, "Attachment");
	if (n > EDXML_MAX_ATTACH) {
		fail(r, EDXML_TOO_BIG, "Attachment", 0, "%zu attachments, more than %d", n,
		    EDXML_MAX_ATTACH);
		goto out;
	}
	if (n > 0) {
		d->att = calloc(n, sizeof(*d->att));
		if (d->att == NULL) {
			fail(r, EDXML_TOO_BIG, "Attachment", 0, "out of memory");
			goto out;
		}
	}
	for (xmlNodePtr c = encoded ? encoded->children : NULL; c != NULL; c = c->next) {
		struct edxml_attachment *a;
		if (!named(c, "Attachment"))
			continue;
		a = &d->att[d->natt++];
		if (read_attachment(r, c, d->natt - 1, a, refs, nrefs) != 0)
			goto out;
		for (size_t k = 0; k + 1 < d->natt; k++) {
			if (strcmp(d->att[k].content_id, a->content_id) == 0) {
				fail(r, EDXML_BAD_ATTACHMENT, "ContentId", 0,
				    "attachments %zu and %zu share cid:%s", k + 1, d->natt, a->content_id);
				goto out;
			}
			if (strcmp(d->att[k].name, a->name) == 0) {
				fail(r, EDXML_BAD_ATTACHMENT, "AttachmentName", 0,
				    "attachments %zu and %zu are both named %s", k + 1, d->natt, a->name);
				goto out;
			}
		}
	}
	rc = 0;
out:
	for (size_t k = 0; k < nrefs; k++) {
		free(refs[k].cid);
		free(refs[k].desc);
	}
	return rc;
}

static int read_doc(struct rd *r, xmlNodePtr root, xmlNodePtr env, xmlNodePtr hdr, xmlNodePtr mh,
    struct edxml_doc *d)
{
	xmlNodePtr from = child(mh, "From"), code, info, type, signer, places, other, trl, bus;
	size_t n, k;
	long chars = 0;

	if (from == NULL)
		return fail(r, EDXML_MISSING, "From", 0, "required <From> is missing");
	if (read_organ(r, from, &d->from) != 0)
		return -1;
	n = count_children(mh, "To");
	if (n == 0)
		return fail(r, EDXML_MISSING, "To", 0, "required <To> is missing");
	if (n > EDXML_MAX_TO)
		return fail(r, EDXML_TOO_BIG, "To", 0, "%zu recipients, more than %d", n, EDXML_MAX_TO);
	d->to = calloc(n, sizeof(*d->to));
	if (d->to == NULL)
		return fail(r, EDXML_TOO_BIG, "To", 0, "out of memory");
	for (xmlNodePtr c = mh->children; c != NULL; c = c->next)
		if (named(c, "To") && read_organ(r, c, &d->to[d->nto++]) != 0)
			return -1;
	code = child(mh, "Code");
	if (code == NULL)
		return fail(r, EDXML_MISSING, "Code", 0, "required <Code> is missing");
	if (field(r, code, "CodeNumber", LIM_CODE_NUMBER, 0, &d->code_number) != 0 ||
	    field(r, code, "CodeNotation", LIM_CODE_NOTATION, 0, &d->code_notation) != 0)
		return -1;
	if (d->code_number == NULL && d->code_notation == NULL)
		return fail(r, EDXML_MISSING, "CodeNumber", 0,
		    "<Code> has neither <CodeNumber> nor <CodeNotation>");
	info = child(mh, "PromulgationInfo");
	if (field(r, info, "Place", LIM_SHORT, 0, &d->place) != 0 ||
	    date_field(r, info, "PromulgationDate", 1, &d->date) != 0)
		return -1;
	type = child(mh, "DocumentType");
	if (number(r, type, "Type", 0, LIM_TYPE, 1, 0, &d->type) != 0 ||
	    field(r, type, "TypeName", LIM_SHORT, 0, &d->type_name) != 0 ||
	    field(r, mh, "Subject", LIM_SUBJECT, 1, &d->subject) != 0 ||
	    field(r, mh, "Content", LIM_TEXT, 0, &d->content) != 0)
		return -1;
	signer = child(mh, "SignerInfo");
	if (field(r, signer, "Competence", LIM_SHORT, 0, &d->competence) != 0 ||
	    field(r, signer, "Position", LIM_POSITION, 0, &d->position) != 0 ||
	    field(r, signer, "FullName", LIM_FULL_NAME, 0, &d->full_name) != 0 ||
	    date_field(r, mh, "DueDate", 0, &d->due_date) != 0)
		return -1;
	places = child(mh, "ToPlaces");
	n = count_children(places, "Place");
	if (n > EDXML_MAX_PLACES)
		return fail(r, EDXML_TOO_BIG, "Place", 0, "%zu ToPlaces/Place, more than %d", n,
		    EDXML_MAX_PLACES);
	if (n > 0 && (d->to_places = calloc(n, sizeof(char *))) == NULL)
		return fail(r, EDXML_TOO_BIG, "Place", 0, "out of memory");
	for (xmlNodePtr c = places ? places->children : NULL; c != NULL; c = c->next) {
		char *s = NULL;
		if (!named(c, "Place"))
			continue;
		if (text_of(r, c, "ToPlaces", LIM_TO_PLACES, &s) != 0)
			return -1;
		if (s == NULL)
			continue;
		d->to_places[d->nto_places++] = s;
		chars += utf8_chars(s);
		if (chars > LIM_TO_PLACES)
			return fail(r, EDXML_TOO_LONG, "ToPlaces", LIM_TO_PLACES,
			    "<ToPlaces> has more than %d characters", LIM_TO_PLACES);
	}
	other = child(mh, "OtherInfo");
	if (number(r, other, "Priority", 0, 4, 0, 0, &d->priority) != 0 ||
	    field(r, other, "SphereOfPromulgation", LIM_SHORT, 0, &d->sphere) != 0 ||
	    field(r, other, "TyperNotation", LIM_SHORT, 0, &d->typer) != 0 ||
	    number(r, other, "PromulgationAmount", 0, LIM_NUMBER, 0, 0, &d->amount) != 0 ||
	    number(r, other, "PageAmount", 0, LIM_NUMBER, 0, 0, &d->pages) != 0 ||
	    field(r, other, "Appendixes", LIM_TEXT, 0, &d->appendixes) != 0 ||
	    number(r, mh, "SteeringType", 0, 3, 0, 0, &d->steering) != 0 ||
	    field(r, mh, "DocumentId", LIM_SHORT, 1, &d->document_id) != 0)
		return -1;
	n = count_children(mh, "ResponseFor");
	if (n > EDXML_MAX_REFS)
		return fail(r, EDXML_TOO_BIG, "ResponseFor", 0, "%zu ResponseFor, more than %d", n,
		    EDXML_MAX_REFS);
	if (n > 0 && (d->response_for = calloc(n, sizeof(*d->response_for))) == NULL)
		return fail(r, EDXML_TOO_BIG, "ResponseFor", 0, "out of memory");
	for (xmlNodePtr c = mh->children; c != NULL; c = c->next)
		if (named(c, "ResponseFor") && read_ref(r, c, &d->response_for[d->nresponse_for++], 0))
			return -1;
	trl = child(hdr, "TraceHeaderList");
	n = count_children(trl, "TraceHeader");
	if (n > EDXML_MAX_REFS)
		return fail(r, EDXML_TOO_BIG, "TraceHeader", 0, "%zu TraceHeader, more than %d", n,
		    EDXML_MAX_REFS);
	if (n > 0 && (d->traces = calloc(n, sizeof(*d->traces))) == NULL)
		return fail(r, EDXML_TOO_BIG, "TraceHeader", 0, "out of memory");
	for (xmlNodePtr c = trl ? trl->children : NULL; c != NULL; c = c->next) {
		if (!named(c, "TraceHeader"))
			continue;
		k = d->ntraces++;
		if (organ_id(r, c, 0, &d->traces[k].organ_id) != 0 ||
		    stamp_field(r, c, "Timestamp", 0, &d->traces[k].timestamp) != 0)
			return -1;
	}
	bus = child2(trl, "Bussiness", "Business");
	if (number(r, bus, "BussinessDocType", EDXML_NEW, EDXML_REPLACE, EDXML_NEW, 0,
	    &d->business) != 0 ||
	    field(r, bus, "BussinessDocReason", LIM_TEXT, 0, &d->business_reason) != 0 ||
	    number(r, bus, "Paper", 0, 1, 0, 0, &d->paper) != 0)
		return -1;
	return read_attachments(r, root, env, d);
}

static int read_status(struct rd *r, xmlNodePtr mh, struct edxml_status *s)
{
	xmlNodePtr from = child(mh, "From"), rf = child(mh, "ResponseFor"), staff, desc;

	if (from == NULL)
		return fail(r, EDXML_MISSING, "From", 0, "required <From> is missing");
	if (read_organ(r, from, &s->from) != 0)
		return -1;
	if (rf == NULL)
		return fail(r, EDXML_MISSING, "ResponseFor", 0, "required <ResponseFor> is missing");
	if (read_ref(r, rf, &s->response_for, 1) != 0)
		return -1;
	staff = child(mh, "StaffInfo");
	if (field(r, staff, "Department", LIM_SHORT, 0, &s->department) != 0 ||
	    field(r, staff, "Staff", LIM_SHORT, 0, &s->staff) != 0 ||
	    field(r, staff, "Email", LIM_SHORT, 0, &s->email) != 0 ||
	    field(r, staff, "Mobile", LIM_SHORT, 0, &s->mobile) != 0 ||
	    number(r, mh, "StatusCode", 0, 99, 0, 1, &s->code) != 0)
		return -1;
	desc = child(mh, "Description");
	if (text_of(r, desc, "Description", LIM_TEXT, &s->description) != 0)
		return -1;
	if (desc != NULL && s->description == NULL && (s->description = strdup("")) == NULL)
		return fail(r, EDXML_TOO_BIG, "Description", 0, "out of memory");
	return stamp_field(r, mh, "Timestamp", 1, &s->timestamp);
}

/* The parse's guard: counts and depth while libxml2 reads, the DTD refused at its start. */
struct guard {
	int depth, elements;
	int too_big, dtd;
	char first[160]; /* libxml2's first error, printable ASCII */
};

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nns, const xmlChar **ns, int nattr, int ndef, const xmlChar **attrs)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct guard *g = ctxt->_private;

	if (++g->depth > MAX_DEPTH || ++g->elements > MAX_ELEMENTS) {
		g->too_big = 1;
		xmlStopParser(ctxt);
		return;
	}
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nns, ns, nattr, ndef, attrs);
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct guard *g = ctxt->_private;

	g->depth--;
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

static void on_dtd(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct guard *g = ctxt->_private;

	(void)name; (void)ext; (void)sys;
	g->dtd = 1;
	xmlStopParser(ctxt);
}

static void on_error(void *ctx, xmlErrorPtr err)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct guard *g = ctxt->_private;
	size_t i = 0;

	if (err == NULL || err->level == XML_ERR_WARNING || g->first[0] != '\0')
		return;
	snprintf(g->first, sizeof(g->first), "line %d: ", err->line);
	i = strlen(g->first);
	for (const char *m = err->message ? err->message : "?"; *m && i + 1 < sizeof(g->first); m++)
		g->first[i++] = (*m >= 0x20 && *m < 0x7F) ? *m : ' ';
	g->first[i] = '\0';
	while (i > 0 && g->first[i - 1] == ' ')
		g->first[--i] = '\0';
}

/* 1 unless the XML declaration names an encoding other than UTF-8. */
static int declares_utf8(const void *buf, size_t len)
{
	const char *p = buf, *end, *enc;
	char decl[256], q;
	size_t n;

	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3, len -= 3;
	if (len < 5 || memcmp(p, "<?xml", 5) != 0)
		return 1;
	n = len < sizeof(decl) - 1 ? len : sizeof(decl) - 1;
	memcpy(decl, p, n);
	decl[n] = '\0';
	end = strstr(decl, "?>");
	if (end != NULL)
		decl[end - decl] = '\0';
	enc = strstr(decl, "encoding");
	if (enc == NULL)
		return 1;
	enc += 8;
	while (is_space(*enc))
		enc++;
	if (*enc++ != '=')
		return 1; /* not a declaration libxml2 accepts either */
	while (is_space(*enc))
		enc++;
	q = *enc++;
	if (q != '"' && q != '\'')
		return 1;
	return strncasecmp(enc, "UTF-8", 5) == 0 && enc[5] == q;
}

int edxml_parse(const void *buf, size_t len, struct edxml_msg *out, struct edxml_error *e,
    char *err, size_t errlen)
{
	struct edxml_error dummy;
	struct rd r = { .e = e ? e : &dummy, .err = err, .errlen = errlen };
	struct guard g = { 0 };
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr root, env, hdr, mh;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(r.e, 0, sizeof(*r.e));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (buf == NULL || len == 0) {
		fail(&r, EDXML_MALFORMED, "", 0, "empty package");
		goto out;
	}
	if (len > EDXML_MAX_PACKAGE) {
		fail(&r, EDXML_TOO_BIG, "", 0, "package of %zu bytes, more than %u", len,
		    EDXML_MAX_PACKAGE);
		goto out;
	}
	/* a package that declares another encoding is refused rather than misread */
	if (!declares_utf8(buf, len)) {
		fail(&r, EDXML_MALFORMED, "", 0, "the XML declaration names an encoding other than "
		    "UTF-8; edXML is UTF-8");
		goto out;
	}
	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL) {
		fail(&r, EDXML_TOO_BIG, "", 0, "out of memory");
		goto out;
	}
	ctxt->_private = &g; /* g outlives ctxt */
	ctxt->sax->startElementNs = on_start;
	ctxt->sax->endElementNs = on_end;
	ctxt->sax->internalSubset = on_dtd;
	ctxt->sax->externalSubset = NULL;
	ctxt->sax->entityDecl = NULL;
	ctxt->sax->resolveEntity = NULL;
	ctxt->sax->serror = on_error;
	/*
	 * XML_PARSE_HUGE only lifts libxml2's 10 MB cap on one text node (a base64 attachment):
	 * the package is capped above, depth and element count by on_start, and there is no
	 * DTD, hence no entity to expand.
	 */
	/* edXML is UTF-8: read as such whatever is declared (no converter runs; see below) */
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, "package.xml", "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
	    XML_PARSE_HUGE | XML_PARSE_IGNORE_ENC);
	if (g.dtd) {
		fail(&r, EDXML_MALFORMED, "", 0, "a DOCTYPE (DTD, entities) is not allowed in edXML");
		goto out;
	}
	if (g.too_big) {
		fail(&r, EDXML_TOO_BIG, "", 0, "more than %d elements or deeper than %d", MAX_ELEMENTS,
		    MAX_DEPTH);
		goto out;
	}
	if (doc == NULL || !ctxt->wellFormed) {
		fail(&r, EDXML_MALFORMED, "", 0, "not well-formed XML: %s",
		    g.first[0] ? g.first : "?");
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !named(root, "edXML")) {
		fail(&r, EDXML_MALFORMED, "edXML", 0, "the root is not <edXML>");
		goto out;
	}
	env = child(root, "edXMLEnvelope");
	hdr = child(env, "edXMLHeader");
	mh = child(hdr, "MessageHeader");
	if (mh == NULL) {
		fail(&r, EDXML_MALFORMED, env == NULL ? "edXMLEnvelope" : hdr == NULL ? "edXMLHeader" :
		    "MessageHeader", 0, "no edXMLEnvelope/edXMLHeader/MessageHeader");
		goto out;
	}
	if (child(mh, "StatusCode") != NULL) {
		out->kind = EDXML_STATUS;
		if (read_status(&r, mh, &out->st) != 0)
			goto out;
	} else {
		out->kind = EDXML_DOCUMENT;
		if (read_doc(&r, root, env, hdr, mh, &out->doc) != 0)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0) {
		edxml_msg_free(out);
		if (r.e->fault == EDXML_OK)
			fail(&r, EDXML_MALFORMED, "", 0, "refused");
	}
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return rc;
}

/* Copies the trimmed text of n into out when it fits and holds no control character. */
static void peek_text(xmlNodePtr n, char *out, size_t outlen)
{
	char *raw;
	size_t len = 0, start = 0;

	if (n == NULL || (raw = raw_text(n, &len)) == NULL)
		return;
	while (start < len && is_space(raw[start]))
		start++;
	while (len > start && is_space(raw[len - 1]))
		len--;
	raw[len] = '\0';
	if (len - start < outlen) {
		int clean = 1;
		for (size_t i = start; i < len; i++)
			clean &= (unsigned char)raw[i] >= 0x20 && raw[i] != 0x7F;
		if (clean && xml_chars(raw + start) >= 0)
			snprintf(out, outlen, "%s", raw + start);
	}
	free(raw);
}

void edxml_peek(const void *buf, size_t len, char *from, size_t fromlen, char *docid,
    size_t docidlen)
{
	struct guard g = { 0 };
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr root, mh;

	if (from != NULL && fromlen > 0)
		from[0] = '\0';
	if (docid != NULL && docidlen > 0)
		docid[0] = '\0';
	if (buf == NULL || len == 0 || len > EDXML_MAX_PACKAGE || (ctxt = xmlNewParserCtxt()) == NULL)
		return;
	ctxt->_private = &g; /* g outlives ctxt */
	ctxt->sax->startElementNs = on_start;
	ctxt->sax->endElementNs = on_end;
	ctxt->sax->internalSubset = on_dtd;
	ctxt->sax->externalSubset = NULL;
	ctxt->sax->entityDecl = NULL;
	ctxt->sax->resolveEntity = NULL;
	ctxt->sax->serror = on_error;
	/* as edxml_parse, and XML_PARSE_RECOVER: a truncated package still names its sender */
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, "package.xml", "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
	    XML_PARSE_HUGE | XML_PARSE_IGNORE_ENC | XML_PARSE_RECOVER);
	if (doc == NULL || g.dtd)
		goto out;
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !named(root, "edXML"))
		goto out;
	mh = child(child(child(root, "edXMLEnvelope"), "edXMLHeader"), "MessageHeader");
	if (mh == NULL)
		goto out;
	if (from != NULL && fromlen > 0) {
		peek_text(child(child(mh, "From"), "OrganId"), from, fromlen);
		if (from[0] != '\0' && edxml_check_organ_id(from) < 0)
			from[0] = '\0';
	}
	if (docid != NULL && docidlen > 0)
		peek_text(child(mh, "DocumentId"), docid, docidlen);
out:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
}
