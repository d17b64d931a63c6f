/*
 * ctl_common.c: what the command files (ctl_*.c) share: checking a request's
 * arguments, store rows as JSON objects, a list reply cut to one line
 * (paging), a fetched file's chunk, and workflow results as protocol codes.
 */
#include "ctl_priv.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* What the rows of one list reply may take; the rest of the line is the envelope. */
#define PAGE_BYTES (PROTO_MAX_LINE - 8192)

/* A row with more errors than fit keeps this many. */
#define PAGE_ROW_ERRORS 10

static size_t json_size(const json_t *v)
{
	char *t = json_dumps(v, JSON_COMPACT);
	size_t n = t ? strlen(t) : PAGE_BYTES;

	free(t);
	return n;
}

/*
 * Makes result[key], a list of rows newest first, fit one reply line: keeps
 * the rows that fit in PAGE_BYTES (a row too large on its own keeps its
 * first errors only) and, when rows were left out or the page is full,
 * says where the next page starts: "next_before", the id (idkey) of the
 * last row given, for the request's "before".
 */
void ctl_page_list(json_t *result, const char *key, const char *idkey, json_int_t limit)
{
	json_t *list = json_object_get(result, key), *row;
	size_t total = 2, n = json_array_size(list), keep = 0;

	for (; keep < n; keep++) {
		size_t sz;
		row = json_array_get(list, keep);
		sz = json_size(row) + 1;
		if (sz > PAGE_BYTES / 2 && json_is_array(json_object_get(row, "errors"))) {
			json_t *errs = json_object_get(row, "errors");
			size_t ne = json_array_size(errs);
			while (json_array_size(errs) > PAGE_ROW_ERRORS)
				json_array_remove(errs, json_array_size(errs) - 1);
			json_object_set_new(row, "errors_omitted",
			    json_integer((json_int_t)(ne - json_array_size(errs))));
			sz = json_size(row) + 1;
		}
		if (total + sz > PAGE_BYTES && keep > 0)
			break;
		if (total + sz > PAGE_BYTES) {
			/* one row alone larger than a reply: only its id, and where to read it */
			json_t *small = json_pack("{s:O, s:b}", idkey, json_object_get(row, idkey),
			    "omitted", 1);
			if (small == NULL || json_array_set_new(list, keep, small) != 0)
				break;
			sz = json_size(small) + 1;
		}
		total += sz;
	}
	if (keep < n) {
		while (json_array_size(list) > keep)
			json_array_remove(list, json_array_size(list) - 1);
		json_object_set_new(result, "truncated", json_true());
	}
	if ((keep < n || (json_int_t)keep >= limit) && keep > 0) {
		json_t *id = json_object_get(json_array_get(list, keep - 1), idkey);
		if (json_is_integer(id))
			json_object_set_new(result, "next_before", json_integer(json_integer_value(id)));
	}
}

/* An optional integer argument within [min, max]; 0 when fine, E_INVALID otherwise. */
int ctl_int_arg(json_t *args, const char *key, json_int_t min, json_int_t max, json_int_t *out,
    char *msg, size_t msglen)
{
	json_t *v = json_object_get(args, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(msg, msglen, "\"%s\" phải là số nguyên từ %lld đến %lld", key, (long long)min,
		    (long long)max);
		return E_INVALID;
	}
	*out = json_integer_value(v);
	return 0;
}

/* An optional string argument of at most max bytes. */
int ctl_str_arg(json_t *args, const char *key, size_t max, const char **out, char *msg,
    size_t msglen)
{
	json_t *v = json_object_get(args, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max) {
		snprintf(msg, msglen, "\"%s\" phải là một chuỗi không rỗng, tối đa %zu byte", key, max);
		return E_INVALID;
	}
	*out = json_string_value(v);
	return 0;
}

json_t *ctl_row_object(const struct store_col *cols, int n)
{
	json_t *obj = json_object();

	for (int i = 0; obj != NULL && i < n; i++) {
		json_t *v = cols[i].type == 1 ? json_integer(cols[i].i) :
		    cols[i].type == 2 ? json_string(cols[i].s) : json_null();
		json_object_set_new(obj, cols[i].name, v ? v : json_null());
	}
	return obj;
}

int ctl_collect_row(const struct store_col *cols, int n, void *arg)
{
	return json_array_append_new(arg, ctl_row_object(cols, n));
}

/* One chunk of a file fetched piece by piece: {id, offset, total, data (base64)}, and sha256 (of
 * the whole file) when given. NULL when out of memory. */
json_t *ctl_chunk_json(json_int_t id, json_int_t offset, size_t total, const void *data,
    size_t n, const char *sha)
{
	unsigned char *b64 = malloc(n / 3 * 4 + 8);
	json_t *r;

	if (b64 == NULL)
		return NULL;
	EVP_EncodeBlock(b64, data, (int)n);
	r = json_pack("{s:I, s:I, s:I, s:s}", "id", id, "offset", offset, "total", (json_int_t)total,
	    "data", (char *)b64);
	free(b64);
	if (r != NULL && sha != NULL && json_object_set_new(r, "sha256", json_string(sha)) != 0) {
		json_decref(r);
		r = NULL;
	}
	return r;
}

int ctl_wf_code(int rc)
{
	switch (rc) {
	case WF_UNKNOWN: return E_NOT_FOUND;
	case WF_STATE: return E_STATE;
	case WF_DENIED: return E_DENIED;
	case WF_INVALID: return E_INVALID;
	default: return E_INTERNAL;
	}
}

void ctl_actor_of(const struct conn *c, struct wf_actor *a)
{
	a->uid = (int64_t)c->peer.uid;
	a->login = c->peer.login;
	a->roles = c->peer.roles;
}

/* The input XML, sent base64 so that any encoding survives; *out is owned by the caller. */
int ctl_content_arg(json_t *args, char **out, size_t *len, char *msg, size_t msglen)
{
	return ctl_base64_arg(args, "content", "nội dung tệp XML", out, len, msg, msglen);
}

int ctl_base64_arg(json_t *args, const char *key, const char *what, char **out, size_t *len,
    char *msg, size_t msglen)
{
	json_t *v = json_object_get(args, key);
	const char *b64;
	size_t n;
	int dec, pad = 0;

	*out = NULL;
	if (!json_is_string(v) || json_string_length(v) == 0) {
		snprintf(msg, msglen, "thiếu \"%s\": %s (base64)", key, what);
		return E_INVALID;
	}
	b64 = json_string_value(v);
	n = json_string_length(v);
	if (n % 4 != 0) {
		snprintf(msg, msglen, "\"%s\" không phải base64 hợp lệ", key);
		return E_INVALID;
	}
	pad = (n >= 1 && b64[n - 1] == '=') + (n >= 2 && b64[n - 2] == '=');
	*out = malloc(n / 4 * 3 + 1);
	if (*out == NULL) {
		snprintf(msg, msglen, "hết bộ nhớ");
		return E_INTERNAL;
	}
	dec = EVP_DecodeBlock((unsigned char *)*out, (const unsigned char *)b64, (int)n);
	if (dec < 0) {
		free(*out);
		*out = NULL;
		snprintf(msg, msglen, "\"%s\" không phải base64 hợp lệ", key);
		return E_INVALID;
	}
	*len = (size_t)dec - (size_t)pad;
	(*out)[*len] = '\0';
	return 0;
}

/* Every problem of an input, one per line after the sentence. */
static void errors_into(char *msg, size_t msglen, const struct diag_list *errs)
{
	size_t off = strlen(msg);

	for (size_t i = 0; i < errs->count && off + 1 < msglen; i++) {
		const struct diag *d = &errs->items[i];
		int n = d->line > 0 ?
		    snprintf(msg + off, msglen - off, "\n  [%s] dòng %d: %s", d->code, d->line, d->message) :
		    snprintf(msg + off, msglen - off, "\n  [%s] %s", d->code, d->message);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* A refusal of an input: the sentence already in msg, then every problem of it. */
int ctl_refuse_input(int rc, char *msg, size_t msglen, struct diag_list *errs)
{
	errors_into(msg, msglen, errs);
	diag_free(errs);
	return ctl_wf_code(rc);
}
