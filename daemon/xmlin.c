/*
 * xmlin.c: every XML that enters vanthud goes through here. Parsing is from
 * memory with hardened settings (no network, no entity substitution, no DTD
 * loading, no XML_PARSE_HUGE, an entity loader that refuses everything);
 * validation is against a schema the daemon chose. Errors are collected with
 * line, column and a stable code, and schema messages are put into
 * Vietnamese for the receipts.
 */
#include "xmlin.h"

#include "vnfmt.h"

#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static xmlParserInputPtr refuse_entity(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url; (void)id; (void)ctxt;
	return NULL;
}

void xmlin_init(void)
{
	xmlInitParser();
	xmlSetExternalEntityLoader(refuse_entity);
}

void xmlin_cleanup(void)
{
	xmlCleanupParser();
}

/* Where a parse's or a validation's errors go. */
struct collect {
	struct diag_list *errs;
	const char *name;
	const char *code;     /* code for errors without a better one */
	int blank;            /* the input holds only white space */
	int count;
};

static void trim_newline(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/* Drops "{urn:...}" namespace prefixes so that names read as in the file. */
static void strip_namespaces(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (*r == '{' && (strncmp(r + 1, "urn:", 4) == 0 || strncmp(r + 1, "http", 4) == 0)) {
			char *end = strchr(r, '}');
			if (end != NULL) {
				r = end + 1;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = '\0';
}

/* Copies the text between the first pair of quotes after key into out. */
static int quoted_after(const char *s, const char *key, char *out, size_t len)
{
	const char *p = strstr(s, key), *q;

	if (p == NULL)
		return 0;
	p = strchr(p + strlen(key), '\'');
	if (p == NULL)
		return 0;
	q = strchr(p + 1, '\'');
	if (q == NULL)
		return 0;
	snprintf(out, len, "%.*s", (int)(q - p - 1), p + 1);
	return 1;
}

/* A schema message from libxml2, in Vietnamese for the unit's IT person. */
static void translate_schema(const char *msg, char *out, size_t len, char *elem, size_t elemlen)
{
	char a[256] = "", b[512] = "";
	const char *expected = strstr(msg, "Expected is");
	const char *rest = strstr(msg, "': ");

	elem[0] = '\0';
	if (strncmp(msg, "Element '", 9) == 0) {
		const char *q = strchr(msg + 9, '\'');
		if (q != NULL)
			snprintf(elem, elemlen, "%.*s", (int)(q - msg - 9), msg + 9);
	}
	rest = rest ? rest + 3 : msg;
	if (strstr(rest, "This element is not expected") != NULL) {
		if (expected)
			snprintf(out, len, "phần tử <%s> không được phép ở vị trí này; cần %s", elem,
			    expected + 12);
		else
			snprintf(out, len, "phần tử <%s> không được phép ở vị trí này", elem);
	} else if (strstr(rest, "Missing child element") != NULL) {
		snprintf(out, len, "phần tử <%s> còn thiếu phần tử con; cần %s", elem,
		    expected ? expected + 12 : "");
	} else if (strstr(rest, "is required but missing") != NULL &&
	    quoted_after(rest, "attribute", a, sizeof(a))) {
		snprintf(out, len, "phần tử <%s> thiếu thuộc tính bắt buộc \"%s\"", elem, a);
	} else if (strstr(rest, "is not allowed") != NULL && strstr(rest, "attribute") != NULL &&
	    quoted_after(rest, "attribute", a, sizeof(a))) {
		snprintf(out, len, "thuộc tính \"%s\" không được phép ở phần tử <%s>", a, elem);
	} else if (strstr(rest, "[facet 'pattern']") != NULL &&
	    quoted_after(rest, "value", a, sizeof(a))) {
		snprintf(out, len, "giá trị \"%s\" của <%s> không đúng định dạng quy định", a, elem);
	} else if (strstr(rest, "[facet 'maxLength']") != NULL) {
		snprintf(out, len, "giá trị của <%s> dài quá mức cho phép", elem);
	} else if (strstr(rest, "[facet 'minLength']") != NULL) {
		snprintf(out, len, "giá trị của <%s> không được để trống", elem);
	} else if (strstr(rest, "[facet 'enumeration']") != NULL &&
	    quoted_after(rest, "value", a, sizeof(a))) {
		const char *set = strchr(rest, '{');
		snprintf(b, sizeof(b), "%s", set ? set : "");
		trim_newline(b);
		snprintf(out, len, "giá trị \"%s\" của <%s> không thuộc các giá trị cho phép %s", a, elem, b);
	} else if (strstr(rest, "is not a valid value of") != NULL) {
		snprintf(out, len, "giá trị của <%s> không hợp lệ", elem);
	} else if (strstr(rest, "Character content other than whitespace") != NULL) {
		snprintf(out, len, "phần tử <%s> không được chứa văn bản trực tiếp", elem);
	} else if (strstr(rest, "No matching global declaration") != NULL) {
		snprintf(out, len, "phần tử gốc phải là <report> trong không gian tên "
		    "urn:vanthu:report:1");
	} else if (strstr(rest, "No precomputed value available") != NULL) {
		/* libxml2's follow-up to a bad value that a uniqueness rule (xs:unique) reads */
		if (quoted_after(msg, "attribute", a, sizeof(a)))
			snprintf(out, len, "thuộc tính \"%s\" của <%s> có giá trị không hợp lệ (lỗi ngay "
			    "trên) nên không kiểm tra được nó có trùng lặp hay không", a, elem);
		else
			snprintf(out, len, "giá trị của <%s> không hợp lệ (lỗi ngay trên) nên không kiểm "
			    "tra được nó có trùng lặp hay không", elem);
	} else if (strstr(rest, "Duplicate key-sequence") != NULL) {
		snprintf(out, len, "mã bị trùng lặp trong <%s>", elem);
	} else {
		snprintf(out, len, "không đúng lược đồ: %s", msg);
	}
	trim_newline(out);
}

static void on_error(void *arg, xmlErrorPtr e)
{
	struct collect *c = arg;
	char msg[1024], text[1200], elem[128];
	const char *code = c->code;

	if (e == NULL || e->level == XML_ERR_WARNING)
		return;
	if (++c->count > XMLIN_MAX_ERRORS) {
		if (c->count == XMLIN_MAX_ERRORS + 1)
			diag_add_at(c->errs, c->name, 0, 0, code, "còn lỗi khác; chỉ liệt kê %d lỗi đầu",
			    XMLIN_MAX_ERRORS);
		return;
	}
	snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "?");
	trim_newline(msg);
	if (e->domain == XML_FROM_SCHEMASV) {
		strip_namespaces(msg);
		translate_schema(msg, text, sizeof(text), elem, sizeof(elem));
		diag_add_at(c->errs, c->name, e->line, e->int2, "R_SCHEMA", "%s", text);
		return;
	}
	switch (e->code) {
	case XML_ERR_DOCUMENT_EMPTY:
		if (c->blank) {
			code = "R_EMPTY";
			snprintf(text, sizeof(text), "tệp rỗng, không có nội dung XML");
		} else {
			snprintf(text, sizeof(text), "tệp không phải XML: không có phần tử gốc");
		}
		break;
	case XML_ERR_INVALID_CHAR:
	case XML_ERR_INVALID_ENCODING:
	case XML_ERR_UNKNOWN_ENCODING:
	case XML_ERR_UNSUPPORTED_ENCODING:
	case XML_ERR_INVALID_DEC_CHARREF:
	case XML_ERR_INVALID_HEX_CHARREF:
	case XML_ERR_INVALID_CHARREF:
		code = "R_ENCODING";
		snprintf(text, sizeof(text), "mã hóa ký tự không hợp lệ (cần UTF-8 hoặc UTF-16 có BOM): %s",
		    msg);
		break;
	case XML_ERR_ENTITY_LOOP:
	case XML_ERR_ENTITY_BOUNDARY:
	case XML_ERR_UNDECLARED_ENTITY:
	case XML_WAR_UNDECLARED_ENTITY:
	case XML_ERR_EXT_ENTITY_STANDALONE:
		code = "R_DOCTYPE";
		snprintf(text, sizeof(text), "tệp dùng thực thể (entity) không được phép: %s", msg);
		break;
	default:
		if (strstr(msg, "Excessive depth") != NULL || strstr(msg, "depth") != NULL) {
			code = "R_TOO_DEEP";
			snprintf(text, sizeof(text), "các phần tử lồng nhau quá sâu");
		} else if (strstr(msg, "not proper UTF-8") != NULL || strstr(msg, "encoding") != NULL) {
			code = "R_ENCODING";
			snprintf(text, sizeof(text), "mã hóa ký tự không hợp lệ (cần UTF-8 hoặc UTF-16 có BOM): %s",
			    msg);
		} else {
			snprintf(text, sizeof(text), "XML không đúng cú pháp: %s", msg);
		}
	}
	diag_add_at(c->errs, c->name, e->line, e->int2, code, "%s", text);
}

static void on_parse_error(void *data, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = data;

	on_error(ctxt->_private, e);
}

/* The document is UTF-16 when it starts with a byte-order mark. */
static int utf16_bom(const unsigned char *b, size_t len)
{
	return len >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF));
}

int xmlin_parse(const char *buf, size_t len, const char *name, xmlDocPtr *out,
    struct diag_list *errs)
{
	const unsigned char *b = (const unsigned char *)buf;
	struct collect c = { .errs = errs, .name = name, .code = "R_NOT_XML" };
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	size_t before = errs->count;
	const char *nul;

	*out = NULL;
	if (len == 0) {
		diag_add_at(errs, name, 0, 0, "R_EMPTY", "tệp rỗng, không có nội dung XML");
		return -1;
	}
	if (len >= 2 && b[0] == 0x1F && b[1] == 0x8B) {
		diag_add_at(errs, name, 0, 0, "R_GZIP", "đây là tệp nén gzip, không phải tệp XML; "
		    "hãy gửi tệp XML chưa nén");
		return -1;
	}
	if (len > (size_t)INT32_MAX) {
		diag_add_at(errs, name, 0, 0, "R_TOO_LARGE", "tệp quá lớn");
		return -1;
	}
	if (!utf16_bom(b, len) && (nul = memchr(buf, '\0', len)) != NULL) {
		int line = 1;
		for (const char *p = buf; p < nul; p++)
			line += *p == '\n';
		diag_add_at(errs, name, line, 0, "R_ENCODING", "tệp chứa byte NUL (byte 0) tại vị trí %zu; "
		    "đây không phải văn bản UTF-8", (size_t)(nul - buf));
		return -1;
	}
	c.blank = 1;
	for (size_t i = 0; i < len && c.blank; i++)
		c.blank = buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t';
	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL) {
		diag_add_at(errs, name, 0, 0, "R_NOT_XML", "hết bộ nhớ khi đọc tệp");
		return -1;
	}
	/* libxml2 2.9 hands the parser context to serror; our collector rides in _private. */
	ctxt->_private = &c;
	ctxt->sax->serror = on_parse_error;
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, name, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (doc == NULL || !ctxt->wellFormed || errs->count > before) {
		if (errs->count == before)
			diag_add_at(errs, name, 0, 0, "R_NOT_XML", "XML không đúng cú pháp");
		goto fail;
	}
	if (doc->encoding != NULL && strcasecmp((const char *)doc->encoding, "UTF-8") != 0 &&
	    strncasecmp((const char *)doc->encoding, "UTF-16", 6) != 0) {
		diag_add_at(errs, name, 1, 0, "R_ENCODING", "tệp khai báo mã hóa \"%s\"; chỉ nhận "
		    "UTF-8 hoặc UTF-16 có BOM", (const char *)doc->encoding);
		goto fail;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		xmlDtdPtr dtd = doc->intSubset ? doc->intSubset : doc->extSubset;
		diag_add_at(errs, name, (int)xmlGetLineNo((xmlNodePtr)dtd), 0, "R_DOCTYPE",
		    "tệp có khai báo DOCTYPE; báo cáo không được chứa DOCTYPE hay khai báo thực thể");
		goto fail;
	}
	xmlFreeParserCtxt(ctxt);
	*out = doc;
	return 0;
fail:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return -1;
}

int xmlin_read_file(const char *path, size_t cap, char **buf, size_t *len, struct diag_list *errs)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	int fd;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		diag_add(errs, path, 0, "không mở được: %s", diag_strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > cap) {
		diag_add(errs, path, 0, "not a regular file of at most %zu bytes", cap);
		close(fd);
		return -1;
	}
	data = malloc((size_t)st.st_size + 1);
	if (data == NULL) {
		diag_add(errs, path, 0, "out of memory");
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			diag_add(errs, path, 0, "không đọc được: %s", n < 0 ? diag_strerror(errno) :
			    "đọc thiếu so với kích thước tệp");
			free(data);
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	data[got] = '\0';
	*buf = data;
	*len = got;
	return 0;
}

int xmlin_schema_load(const char *path, xmlSchemaPtr *out, struct diag_list *errs)
{
	struct collect c = { .errs = errs, .name = path, .code = "" };
	xmlSchemaParserCtxtPtr pctxt = NULL;
	xmlDocPtr doc = NULL;
	char *buf = NULL;
	size_t len = 0, before = errs->count;
	int rc = -1;

	*out = NULL;
	if (xmlin_read_file(path, 4 * 1024 * 1024, &buf, &len, errs) != 0)
		return -1;
	if (xmlin_parse(buf, len, path, &doc, errs) != 0)
		goto out;
	pctxt = xmlSchemaNewDocParserCtxt(doc);
	if (pctxt == NULL) {
		diag_add(errs, path, 0, "out of memory");
		goto out;
	}
	xmlSchemaSetParserStructuredErrors(pctxt, on_error, &c);
	*out = xmlSchemaParse(pctxt);
	if (*out == NULL || errs->count > before) {
		if (errs->count == before)
			diag_add(errs, path, 0, "not a usable XML schema");
		xmlSchemaFree(*out);
		*out = NULL;
		goto out;
	}
	rc = 0;
out:
	xmlSchemaFreeParserCtxt(pctxt);
	xmlFreeDoc(doc);
	free(buf);
	return rc;
}

void xmlin_schema_free(xmlSchemaPtr schema)
{
	xmlSchemaFree(schema);
}

int xmlin_validate(xmlSchemaPtr schema, xmlDocPtr doc, const char *name, struct diag_list *errs)
{
	struct collect c = { .errs = errs, .name = name, .code = "R_SCHEMA" };
	xmlSchemaValidCtxtPtr vctxt = xmlSchemaNewValidCtxt(schema);
	size_t before = errs->count;
	int rc;

	if (vctxt == NULL) {
		diag_add_at(errs, name, 0, 0, "R_SCHEMA", "hết bộ nhớ khi kiểm tra lược đồ");
		return -1;
	}
	xmlSchemaSetValidStructuredErrors(vctxt, on_error, &c);
	rc = xmlSchemaValidateDoc(vctxt, doc);
	xmlSchemaFreeValidCtxt(vctxt);
	if (rc != 0 && errs->count == before)
		diag_add_at(errs, name, 0, 0, "R_SCHEMA", "tệp không đúng lược đồ báo cáo");
	return rc == 0 ? 0 : -1;
}

int xmlin_is(xmlNodePtr n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

xmlNodePtr xmlin_child(xmlNodePtr n, const char *ns, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (xmlin_is(c, ns, name))
			return c;
	return NULL;
}

char *xmlin_text(xmlNodePtr n)
{
	xmlChar *v = n ? xmlNodeGetContent(n) : NULL;
	char *out = NULL;

	if (vnfmt_nfc(v ? (const char *)v : "", v ? strlen((const char *)v) : 0, &out) != VNFMT_OK)
		out = NULL;
	xmlFree(v);
	return out;
}

char *xmlin_attr(xmlNodePtr n, const char *name)
{
	xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
	char *out = NULL;

	if (v && vnfmt_nfc((const char *)v, strlen((const char *)v), &out) != VNFMT_OK)
		out = NULL;
	xmlFree(v);
	return out;
}
