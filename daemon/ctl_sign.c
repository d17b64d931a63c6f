/*
 * ctl_sign.c: the signing commands: sign.prepare (its PDF made on the worker
 * pool), sign.finish, copy, signing and pdf (the signed original in pieces).
 */
#include "ctl_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esign.h"
#include "fsutil.h"
#include "hash.h"
#include "log.h"
#include "publish.h"

/* Bytes from hex (at most max); 0 or -1. *out malloc'd. */
static int hex_arg(json_t *args, const char *key, size_t max, unsigned char **out, size_t *len,
    char *msg, size_t msglen)
{
	json_t *v = json_object_get(args, key);
	const char *h;
	size_t n;

	*out = NULL;
	*len = 0;
	if (!json_is_string(v) || (n = json_string_length(v)) == 0 || n % 2 || n / 2 > max) {
		snprintf(msg, msglen, "thiếu \"%s\" (chuỗi hex, tối đa %zu byte)", key, max);
		return E_INVALID;
	}
	h = json_string_value(v);
	if ((*out = malloc(n / 2)) == NULL) {
		snprintf(msg, msglen, "hết bộ nhớ");
		return E_INTERNAL;
	}
	for (size_t i = 0; i < n / 2; i++) {
		unsigned x;
		if (!isxdigit((unsigned char)h[2 * i]) || !isxdigit((unsigned char)h[2 * i + 1]) ||
		    sscanf(h + 2 * i, "%2x", &x) != 1) {
			free(*out);
			*out = NULL;
			snprintf(msg, msglen, "\"%s\" không phải chuỗi hex", key);
			return E_INVALID;
		}
		(*out)[i] = (unsigned char)x;
	}
	*len = n / 2;
	return 0;
}

/* A leader's copy being converted on the worker pool; owned by itself until after_prepare. */
struct prepare_job {
	uv_work_t work;
	struct conn *conn;          /* borrowed; kept open while busy */
	struct esign_job *job;      /* owned until esign_prepare_end */
	int64_t id;
	int rc;
};

static void run_prepare(uv_work_t *work)
{
	struct prepare_job *pj = work->data;

	pj->rc = esign_prepare_convert(pj->job);
}

static void after_prepare(uv_work_t *work, int status)
{
	struct prepare_job *pj = work->data;
	struct conn *c = pj->conn;
	struct ctl *ctl = c->ctl;
	char msg[1024], tbs[65];

	if (status != 0 || pj->rc != 0) {
		log_err("sign %lld: the PDF could not be made: %s", (long long)pj->id,
		    status ? uv_strerror(status) : "the converter failed (see above)");
		esign_job_free(pj->job);
		ctl_async_finish(c, E_INTERNAL, "không chuyển được văn bản sang PDF (LibreOffice); xem "
		    "nhật ký của vanthud", NULL);
	} else if (esign_prepare_end(pj->job, ctl->store, tbs, msg, sizeof(msg)) != WF_OK) {
		ctl_async_finish(c, E_INTERNAL, msg, NULL);
	} else {
		ctl_async_finish(c, 0, NULL, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)pj->id,
		    "tbs_sha256", tbs, "digest", "sha256"));
	}
	free(pj);
}

/* sign.prepare {id, certificate (hex DER)}: what the leader's key must sign. */
static int cmd_sign_prepare(struct conn *c, json_t *args, json_t **result, char *msg,
    size_t msglen)
{
	struct prepare_job *pj;
	struct wf_actor a;
	json_int_t id = 0;
	unsigned char *cert = NULL;
	size_t certlen = 0;
	int rc;

	(void)result;
	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)))
		return rc;
	if (id == 0) {
		snprintf(msg, msglen, "thiếu \"id\": số của văn bản");
		return E_INVALID;
	}
	if (c->ctl->cat == NULL) {
		snprintf(msg, msglen, "các mẫu văn bản chưa được nạp");
		return E_INTERNAL;
	}
	if ((rc = hex_arg(args, "certificate", 16384, &cert, &certlen, msg, msglen)))
		return rc;
	if ((pj = calloc(1, sizeof(*pj))) == NULL) {
		free(cert);
		snprintf(msg, msglen, "hết bộ nhớ");
		return E_INTERNAL;
	}
	ctl_actor_of(c, &a);
	rc = esign_prepare_begin(c->ctl->es, c->ctl->store, c->ctl->cat, c->ctl->cfg, id, &a, cert,
	    certlen, &pj->job, msg, msglen);
	free(cert);
	if (rc != WF_OK) {
		free(pj);
		if (rc == WF_INTERNAL)
			log_err("sign.prepare %lld by %s: %s", (long long)id, a.login, msg);
		return ctl_wf_code(rc);
	}
	pj->conn = c;
	pj->id = id;
	pj->work.data = pj;
	if (ctl_async_start(c, &pj->work, run_prepare, after_prepare) != 0) {
		esign_job_free(pj->job);
		free(pj);
		snprintf(msg, msglen, "không khởi động được việc chuyển sang PDF");
		return E_INTERNAL;
	}
	return CMD_ASYNC;
}

/* sign.finish {id, signature (hex), comment?}: the leader's signature; the `sign` step. */
static int cmd_sign_finish(struct conn *c, json_t *args, json_t **result, char *msg,
    size_t msglen)
{
	struct wf_actor a;
	json_int_t id = 0;
	const char *comment = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char sha[HASH_HEX_LEN + 1];
	int rc;

	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "comment", 4000, &comment, msg, msglen)))
		return rc;
	if (id == 0) {
		snprintf(msg, msglen, "thiếu \"id\": số của văn bản");
		return E_INVALID;
	}
	if (c->ctl->cat == NULL) {
		snprintf(msg, msglen, "các mẫu văn bản chưa được nạp");
		return E_INTERNAL;
	}
	if ((rc = hex_arg(args, "signature", 2048, &sig, &siglen, msg, msglen)))
		return rc;
	ctl_actor_of(c, &a);
	rc = esign_finish(c->ctl->es, c->ctl->store, c->ctl->cat, c->ctl->cfg, id, &a, comment, sig,
	    siglen, sha, msg, msglen);
	free(sig);
	if (rc != WF_OK) {
		if (rc == WF_INTERNAL)
			log_err("sign.finish %lld by %s: %s", (long long)id, a.login, msg);
		else
			log_info("sign.finish %lld by %s refused: %s", (long long)id, a.login, msg);
		return ctl_wf_code(rc);
	}
	*result = json_pack("{s:I, s:s, s:s, s:s}", "id", id, "action", "sign", "state", "signed",
	    "pdf_sha256", sha);
	return 0;
}

/* copy {id, form?}: an electronic copy of the issued original, by the văn thư. */
static int cmd_copy(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const char *fname = NULL, *form;
	json_int_t id = 0;
	int64_t number = 0;
	char symbol[96], err[512];
	int rc;

	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "form", 16, &fname, msg, msglen)))
		return rc;
	if (id == 0) {
		snprintf(msg, msglen, "thiếu \"id\": số của văn bản");
		return E_INVALID;
	}
	if ((form = esign_copy_form(fname)) == NULL) {
		snprintf(msg, msglen, "hình thức sao \"%s\" không có: sao-y (SAO Y) hoặc sao-luc "
		    "(SAO LỤC)", fname);
		return E_INVALID;
	}
	if (c->ctl->es == NULL) {
		snprintf(msg, msglen, "vanthud chưa được cấu hình ký số ([signing] trong vanthu.conf): "
		    "không làm được bản sao điện tử");
		return E_STATE;
	}
	rc = esign_copy(c->ctl->es, c->ctl->store, c->ctl->cfg, id, form, (int64_t)c->peer.uid,
	    c->peer.login, &number, symbol, sizeof(symbol), err, sizeof(err));
	if (rc == 1) {
		snprintf(msg, msglen, "văn bản số %lld chưa có bản gốc điện tử để sao", (long long)id);
		return E_STATE;
	}
	if (rc != 0) {
		log_err("copy %lld by %s: %s", (long long)id, c->peer.login, err);
		snprintf(msg, msglen, "không làm được bản sao điện tử: %s", err);
		return E_INTERNAL;
	}
	*result = json_pack("{s:I, s:I, s:s, s:s}", "id", id, "copy", (json_int_t)number,
	    "symbol", symbol, "form", form);
	return 0;
}

/* signing: whether the office signs, as whom, and the trust anchors `pdf verify` uses. */
static int cmd_signing(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const struct config_user *u = config_find_user(c->ctl->cfg, c->peer.login);

	(void)args;
	(void)msg;
	(void)msglen;
	*result = json_pack("{s:b, s:s?, s:s?}", "configured", c->ctl->es != NULL, "trust",
	    esign_trust_path(c->ctl->es), "certificate", u ? u->certificate : NULL);
	return 0;
}

/* pdf {id, offset?}: the issued electronic original, in chunks, checked against its SHA-256. */
static int cmd_pdf(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_int_t id = 0, offset = 0;
	struct store_doc doc;
	unsigned char *buf = NULL;
	size_t len = 0, n;
	char err[256], sha[HASH_HEX_LEN + 1], stem[128], name[160];
	int rc;

	json_int_t copy = 0;
	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "offset", 0, INT64_MAX, &offset, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "copy", 1, INT64_MAX, &copy, msg, msglen)))
		return rc;
	rc = store_doc_get(c->ctl->store, id, &doc, err, sizeof(err));
	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "không có văn bản số %lld", (long long)id);
		return E_NOT_FOUND;
	}
	if (rc == STORE_OK && copy > 0) {
		/* an electronic copy instead of the original: its own file and SHA-256 */
		char cpath[PATH_MAX], csha[65], csym[96];
		int crc = store_copy_file(c->ctl->store, id, copy, cpath, sizeof(cpath), csha, csym,
		    sizeof(csym), err, sizeof(err));
		if (crc == STORE_INVALID) {
			snprintf(msg, msglen, "văn bản số %lld không có bản sao số %lld", (long long)id,
			    (long long)copy);
			store_doc_free(&doc);
			return E_NOT_FOUND;
		}
		free(doc.pdf_path);
		free(doc.pdf_sha256);
		free(doc.symbol);
		doc.pdf_path = crc == STORE_OK ? strdup(cpath) : NULL;
		doc.pdf_sha256 = crc == STORE_OK ? strdup(csha) : NULL;
		doc.symbol = crc == STORE_OK ? strdup(csym) : NULL;
		if (crc != STORE_OK || !doc.pdf_path || !doc.pdf_sha256 || !doc.symbol) {
			log_err("pdf %lld copy %lld: %s", (long long)id, (long long)copy, err);
			snprintf(msg, msglen, "không đọc được bản sao (xem nhật ký của vanthud)");
			store_doc_free(&doc);
			return E_INTERNAL;
		}
	}
	if (rc != STORE_OK) {
		log_err("pdf %lld: %s", (long long)id, err);
		snprintf(msg, msglen, "không đọc được văn bản (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	if (doc.pdf_path == NULL || doc.pdf_sha256 == NULL) {
		snprintf(msg, msglen, "văn bản số %lld chưa có bản gốc điện tử (PDF ký số)%s",
		    (long long)id, doc.signed_pdf_sha256 ? ": lãnh đạo đã ký, chờ văn thư cấp số và "
		    "ký số của cơ quan" : "");
		store_doc_free(&doc);
		return E_NOT_FOUND;
	}
	if (fsutil_read_file(doc.pdf_path, 256u * 1024 * 1024, &buf, &len) != 0) {
		log_err("pdf %lld: cannot read %s: %s", (long long)id, doc.pdf_path, strerror(errno));
		snprintf(msg, msglen, "không đọc được bản gốc điện tử của văn bản số %lld",
		    (long long)id);
		rc = E_INTERNAL;
		goto out;
	}
	if (hash_sha256_hex(buf, len, sha) != 0 || strcmp(sha, doc.pdf_sha256) != 0) {
		log_err("pdf %lld: %s does not match its recorded SHA-256", (long long)id, doc.pdf_path);
		snprintf(msg, msglen, "bản gốc điện tử của văn bản số %lld không khớp với mã SHA-256 đã "
		    "ghi: tệp đã bị thay đổi", (long long)id);
		rc = E_INTERNAL;
		goto out;
	}
	if ((size_t)offset > len)
		offset = (json_int_t)len;
	n = len - (size_t)offset < FETCH_CHUNK ? len - (size_t)offset : FETCH_CHUNK;
	if ((*result = ctl_chunk_json(id, offset, len, buf + offset, n, sha)) == NULL) {
		snprintf(msg, msglen, "hết bộ nhớ");
		rc = E_INTERNAL;
		goto out;
	}
	publish_file_stem(doc.symbol ? doc.symbol : "", stem, sizeof(stem));
	snprintf(name, sizeof(name), "%s.pdf", stem);
	json_object_set_new(*result, "name", json_string(name));
	rc = 0;
out:
	free(buf);
	store_doc_free(&doc);
	return rc;
}

/* This file's commands; NULL-terminated (ctl.c looks through every table). */
const struct command ctl_sign_commands[] = {
	{ "pdf", ROLES_ALL, cmd_pdf },
	{ "signing", ROLES_ALL, cmd_signing },
	{ "sign.prepare", ROLE_SIGNER, cmd_sign_prepare },
	{ "sign.finish", ROLE_SIGNER, cmd_sign_finish },
	{ "copy", ROLE_CLERK, cmd_copy },
	{ NULL, 0, NULL },
};
