/*
 * proto.c: the wire format shared by vanthud and vanthuctl. One JSON object
 * per line each way, at most PROTO_MAX_LINE bytes; a request is
 * {"cmd":..., "args":{...}}, a reply {"ok":true,"result":...} or
 * {"ok":false,"error":{"code":"E_...","message":...}}. Caps every input.
 */
#include "proto.h"

#include <stdlib.h>
#include <string.h>

static const char *const error_names[] = {
	[E_PROTO] = "E_PROTO",
	[E_UNKNOWN_CMD] = "E_UNKNOWN_CMD",
	[E_NOT_FOUND] = "E_NOT_FOUND",
	[E_STATE] = "E_STATE",
	[E_DENIED] = "E_DENIED",
	[E_INVALID] = "E_INVALID",
	[E_BUSY] = "E_BUSY",
	[E_INTERNAL] = "E_INTERNAL",
};

const char *proto_error_name(enum proto_error code)
{
	if ((int)code <= 0 || (size_t)code >= sizeof(error_names) / sizeof(error_names[0]))
		return "E_INTERNAL";
	return error_names[code];
}

enum proto_error proto_error_from_name(const char *name)
{
	for (size_t i = 1; i < sizeof(error_names) / sizeof(error_names[0]); i++)
		if (strcmp(error_names[i], name) == 0)
			return (enum proto_error)i;
	return 0;
}

void proto_buf_init(struct proto_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void proto_buf_free(struct proto_buf *b)
{
	free(b->data);
	proto_buf_init(b);
}

int proto_buf_append(struct proto_buf *b, const char *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (p == NULL)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int proto_buf_next(struct proto_buf *b, const char **line, size_t *len, size_t *consumed)
{
	size_t scan = b->len < PROTO_MAX_LINE + 2 ? b->len : PROTO_MAX_LINE + 2;
	const char *nl = b->len ? memchr(b->data, '\n', scan) : NULL;
	size_t n;

	if (nl == NULL)
		return b->len > PROTO_MAX_LINE + 1 ? -1 : 0;
	n = (size_t)(nl - b->data);
	*consumed = n + 1;
	if (n > 0 && b->data[n - 1] == '\r')
		n--;
	if (n > PROTO_MAX_LINE)
		return -1;
	*line = b->data;
	*len = n;
	return 1;
}

void proto_buf_consume(struct proto_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

int proto_parse_request(const char *line, size_t len, struct proto_request *req,
    char *msg, size_t msglen)
{
	json_error_t jerr;
	json_t *cmd, *args;

	memset(req, 0, sizeof(*req));
	if (len > PROTO_MAX_LINE) {
		snprintf(msg, msglen, "dòng yêu cầu dài quá %d byte", PROTO_MAX_LINE);
		return E_PROTO;
	}
	req->root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req->root == NULL) {
		snprintf(msg, msglen, "yêu cầu không phải JSON hợp lệ (cột %d: %s)",
		    jerr.column, jerr.text);
		return E_PROTO;
	}
	if (!json_is_object(req->root)) {
		snprintf(msg, msglen, "yêu cầu phải là một đối tượng JSON");
		goto fail;
	}
	cmd = json_object_get(req->root, "cmd");
	if (!json_is_string(cmd) || json_string_length(cmd) == 0 || json_string_length(cmd) > 64) {
		snprintf(msg, msglen, "thiếu trường \"cmd\" (tên lệnh)");
		goto fail;
	}
	args = json_object_get(req->root, "args");
	if (args == NULL || json_is_null(args)) {
		args = json_object();
		if (args == NULL || json_object_set_new(req->root, "args", args) != 0) {
			snprintf(msg, msglen, "hết bộ nhớ");
			goto fail;
		}
	} else if (!json_is_object(args)) {
		snprintf(msg, msglen, "trường \"args\" phải là một đối tượng JSON");
		goto fail;
	}
	req->cmd = json_string_value(cmd);
	req->args = args;
	return 0;
fail:
	proto_request_free(req);
	return E_PROTO;
}

void proto_request_free(struct proto_request *req)
{
	json_decref(req->root);
	memset(req, 0, sizeof(*req));
}

/* The encoded line plus newline, or NULL; steals obj. */
static char *encode_line(json_t *obj, size_t *len)
{
	char *text, *line;
	size_t n;

	if (obj == NULL)
		return NULL;
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (text == NULL)
		return NULL;
	n = strlen(text);
	line = realloc(text, n + 2);
	if (line == NULL) {
		free(text);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	if (len)
		*len = n + 1;
	return line;
}

char *proto_encode_request(const char *cmd, json_t *args)
{
	json_t *obj = json_object();

	if (obj == NULL)
		return NULL;
	if (json_object_set_new(obj, "cmd", json_string(cmd)) != 0 ||
	    json_object_set_new(obj, "args", args ? json_incref(args) : json_object()) != 0) {
		json_decref(obj);
		return NULL;
	}
	return encode_line(obj, NULL);
}

char *proto_encode_ok(json_t *result, size_t *len)
{
	json_t *obj = json_object();

	if (obj == NULL || result == NULL) {
		json_decref(obj);
		json_decref(result);
		return NULL;
	}
	if (json_object_set_new(obj, "ok", json_true()) != 0 ||
	    json_object_set_new(obj, "result", result) != 0) {
		json_decref(obj);
		return NULL;
	}
	return encode_line(obj, len);
}

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t need;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		need = 2;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		need = 3;
		cp = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	/* no overlong form, no surrogate, nothing above U+10FFFF */
	if ((need == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return need;
}

/*
 * A copy of message as valid UTF-8: each byte that starts no valid sequence
 * becomes U+FFFD. Messages quote what a client or a file sent (and libxml2
 * quotes raw bytes), or were cut to fit a buffer mid-character; JSON takes
 * neither, and an error reply that cannot be encoded would close the
 * connection without a word. NULL when out of memory.
 */
static char *utf8_clean(const char *message)
{
	const unsigned char *s = (const unsigned char *)message;
	size_t n = strlen(message), w = 0;
	char *out = malloc(n * 3 + 1);

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(s + i, n - i);
		if (k == 0) {
			memcpy(out + w, "\xEF\xBF\xBD", 3);
			w += 3;
			i++;
		} else {
			memcpy(out + w, s + i, k);
			w += k;
			i += k;
		}
	}
	out[w] = '\0';
	return out;
}

char *proto_encode_error(enum proto_error code, const char *message, size_t *len)
{
	char *clean = utf8_clean(message ? message : "");
	json_t *obj;

	if (clean == NULL)
		return NULL;
	obj = json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error",
	    "code", proto_error_name(code), "message", clean);
	free(clean);
	return encode_line(obj, len);
}
