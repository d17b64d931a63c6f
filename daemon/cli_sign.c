/*
 * cli_sign.c: vanthuctl's electronic originals: sign --pkcs11 (the leader's
 * token), pdf (fetch, and verify here), and copy.
 */
#include "cli_priv.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cms.h"
#include "diag.h"
#include "hash.h"
#include "pdfverify.h"

int cli_build_pdf(int argc, char **argv, struct call *c)
{
	json_int_t id;

	if (argc >= 3 && strcmp(argv[1], "verify") == 0) {
		c->kind = CALL_VERIFY;
		c->out = argv[2];
		for (int i = 3; i < argc; i++) {
			if (strcmp(argv[i], "--trust") == 0 && i + 1 < argc)
				c->trust = argv[++i];
			else
				return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
		}
		return 0;
	}
	if (argc < 2 || cli_parse_positive(argv[1], &id) != 0)
		return cli_usage_error("%s", "cách dùng: vanthuctl pdf ID [--copy N] [-o TỆP] | vanthuctl pdf verify "
		    "TỆP [--trust TỆP-PEM]");
	json_object_set_new(c->args, "id", json_integer(id));
	c->kind = CALL_FETCH_PDF;
	c->out = NULL;
	for (int i = 2; i < argc; i++) {
		json_int_t n;
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			c->out = argv[++i];
		} else if (strcmp(argv[i], "--copy") == 0 && i + 1 < argc &&
		    cli_parse_positive(argv[i + 1], &n) == 0) {
			json_object_set_new(c->args, "copy", json_integer(n));
			i++;
		} else {
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
		}
	}
	return 0;
}

/* A refusal as vanthuctl prints it (or the reply itself with --json); EXIT_REFUSED. */
static int refused(json_t *reply, int json_out)
{
	json_t *err = json_object_get(reply, "error");

	if (json_out)
		cli_print_json(json_incref(reply));
	else
		fprintf(stderr, "vanthuctl: %s: %s\n", cli_jstr(err, "code"), cli_jstr(err, "message"));
	return EXIT_REFUSED;
}

static void hex_of(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

/* The token's PIN: from --pin-file, else asked on the terminal without echo. */
static int read_pin(const char *file, char *pin, size_t len)
{
	FILE *fp;
	struct termios old, quiet;
	int tty = 0;

	if (file != NULL) {
		fp = fopen(file, "r");
		if (fp == NULL) {
			fprintf(stderr, "vanthuctl: không đọc được %s: %s\n", file, diag_strerror(errno));
			return -1;
		}
	} else {
		fp = fopen("/dev/tty", "r+");
		if (fp == NULL) {
			fprintf(stderr, "vanthuctl: không có màn hình để hỏi mã PIN: dùng --pin-file TỆP\n");
			return -1;
		}
		tty = 1;
		fprintf(fp, "Mã PIN của thiết bị ký số: ");
		fflush(fp);
		if (tcgetattr(fileno(fp), &old) == 0) {
			quiet = old;
			quiet.c_lflag &= (tcflag_t)~ECHO;
			tcsetattr(fileno(fp), TCSAFLUSH, &quiet);
		}
	}
	char *got = fgets(pin, (int)len, fp);
	if (tty) {
		tcsetattr(fileno(fp), TCSAFLUSH, &old);
		fprintf(fp, "\n");
	}
	fclose(fp);
	if (got == NULL) {
		fprintf(stderr, "vanthuctl: không có mã PIN\n");
		return -1;
	}
	pin[strcspn(pin, "\r\n")] = '\0';
	return 0;
}

/* What a token's failure means to the person holding it. */
static void token_error(int rc, const char *detail)
{
	switch (rc) {
	case P11_PIN:
		fprintf(stderr, "vanthuctl: sai mã PIN của thiết bị ký số; không có gì thay đổi\n");
		break;
	case P11_LOCKED:
		fprintf(stderr, "vanthuctl: thiết bị ký số đã khóa mã PIN (nhập sai quá số lần): "
		    "liên hệ nơi cấp chứng thư số\n");
		break;
	case P11_MODULE:
		fprintf(stderr, "vanthuctl: không nạp được thư viện PKCS#11: %s\n", detail);
		break;
	case P11_NOTOKEN:
		fprintf(stderr, "vanthuctl: không thấy thiết bị ký số (hoặc có nhiều, chọn bằng "
		    "--token NHÃN): %s\n", detail);
		break;
	case P11_NOKEY:
		fprintf(stderr, "vanthuctl: không thấy khóa ký trên thiết bị (chọn bằng --key hoặc "
		    "--key-id): %s\n", detail);
		break;
	case P11_NOCERT:
		fprintf(stderr, "vanthuctl: thiết bị ký số không có chứng thư đi với khóa này: %s\n",
		    detail);
		break;
	default:
		fprintf(stderr, "vanthuctl: thiết bị ký số báo lỗi: %s\n", detail);
	}
}

/*
 * One document signed with an open token: its certificate to the daemon,
 * which prepares the PDF and answers with the digest to sign; the token signs
 * it and the signature goes back for the daemon to check and embed.
 */
static int sign_one(int fd, struct p11 *tok, const char *certhex, json_int_t id,
    json_t *comment, int json_out)
{
	char err[512], sighex[2 * 1024 + 1];
	unsigned char *sig = NULL, tbs[32];
	size_t siglen = 0;
	json_t *reply = NULL, *args, *res;
	int rc = EXIT_UNREACHABLE, prc;

	/* the conversion to PDF takes a moment */
	args = json_pack("{s:I, s:s}", "id", id, "certificate", certhex);
	if (args == NULL || (reply = cli_ask(fd, "sign.prepare", args, 180000)) == NULL)
		goto out;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		rc = refused(reply, json_out);
		goto out;
	}
	res = json_object_get(reply, "result");
	const char *t = cli_jstr(res, "tbs_sha256");
	unsigned v;
	for (int i = 0; i < 32; i++) {
		if (strlen(t) != 64 || sscanf(t + 2 * i, "%2x", &v) != 1) {
			fprintf(stderr, "vanthuctl: vanthud trả lời không đúng dạng (tbs_sha256)\n");
			rc = EXIT_REFUSED;
			goto out;
		}
		tbs[i] = (unsigned char)v;
	}
	if ((prc = p11_sign_sha256(tok, tbs, &sig, &siglen, err, sizeof(err))) != P11_OK ||
	    siglen > 1024) {
		token_error(prc, err);
		rc = EXIT_REFUSED;
		goto out;
	}
	hex_of(sig, siglen, sighex);
	json_decref(args);
	json_decref(reply);
	reply = NULL;
	args = json_pack("{s:I, s:s}", "id", id, "signature", sighex);
	if (args && comment)
		json_object_set(args, "comment", comment);
	if (args == NULL || (reply = cli_ask(fd, "sign.finish", args, 60000)) == NULL)
		goto out;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		rc = refused(reply, json_out);
		goto out;
	}
	res = json_object_get(reply, "result");
	if (json_out)
		cli_print_json(json_incref(reply));
	else
		printf("Đã ký số văn bản số %lld; bản PDF đã ký có SHA-256 %s.\n", (long long)id,
		    cli_jstr(res, "pdf_sha256"));
	rc = EXIT_OK;
out:
	json_decref(args);
	json_decref(reply);
	free(sig);
	return rc;
}

/*
 * sign ID [ID...] --pkcs11: the leader's key stays on the leader's token. The
 * token is opened first (a wrong PIN changes nothing anywhere) and once for
 * every document; each is signed in turn, a refusal of one does not stop the
 * others, and the exit status is the worst.
 */
int cli_sign_with_token(struct call *c, const char *socket_path, int json_out)
{
	struct p11 *tok = NULL;
	char pin[256] = "", err[512], *hex = NULL;
	unsigned char *cert = NULL;
	size_t certlen = 0, i;
	json_t *more = json_object_get(c->args, "more_ids"), *e;
	json_int_t id = json_integer_value(json_object_get(c->args, "id"));
	int fd = -1, rc = EXIT_REFUSED, prc;

	if (read_pin(c->pin_file, pin, sizeof(pin)) != 0)
		return EXIT_REFUSED;
	c->token.pin = pin;
	prc = p11_open(&c->token, &tok, err, sizeof(err));
	memset(pin, 0, sizeof(pin));
	if (prc != P11_OK) {
		token_error(prc, err);
		return EXIT_REFUSED;
	}
	if ((prc = p11_certificate(tok, &cert, &certlen, err, sizeof(err))) != P11_OK) {
		token_error(prc, err);
		goto out;
	}
	if ((hex = malloc(2 * certlen + 1)) == NULL)
		goto out;
	hex_of(cert, certlen, hex);
	rc = EXIT_UNREACHABLE;
	fd = cli_connect_to(cli_pick_socket(socket_path));
	if (fd < 0)
		goto out;
	rc = sign_one(fd, tok, hex, id, json_object_get(c->args, "comment"), json_out);
	json_array_foreach(more, i, e) {
		if (rc == EXIT_UNREACHABLE)
			break;
		int r = sign_one(fd, tok, hex, json_integer_value(e), json_object_get(c->args,
		    "comment"), json_out);
		if (r > rc)
			rc = r;
	}
out:
	if (fd >= 0)
		close(fd);
	free(hex);
	free(cert);
	p11_close(tok);
	return rc;
}

/* pdf ID: the issued original (or copy N of it), its SHA-256 checked here against the
 * daemon's record. */
int cli_fetch_pdf(int fd, json_int_t id, json_int_t copy, const char *path, int json_out,
    int timeout_ms)
{
	char fallback[64];
	json_t *extra = copy > 0 ? json_pack("{s:I}", "copy", copy) : NULL;
	int rc;

	snprintf(fallback, sizeof(fallback), "van-ban-%lld.pdf", (long long)id);
	rc = cli_fetch_checked(fd, "pdf", id, extra, path, fallback, json_out, timeout_ms);
	json_decref(extra);
	return rc;
}

int cli_fetch_checked(int fd, const char *cmd, json_int_t id, json_t *extra, const char *path,
    const char *fallback, int json_out, int timeout_ms)
{
	char final[PATH_MAX], sha[HASH_HEX_LEN + 1] = "";
	json_t *meta = NULL;
	json_int_t total;
	unsigned char *buf = NULL;
	int rc;

	rc = cli_fetch_to_file(fd, cmd, id, extra, path, fallback, json_out, timeout_ms, &meta, &total,
	    final, sizeof(final));
	if (rc == EXIT_OK) {
		FILE *fp = fopen(final, "rb");
		buf = malloc((size_t)total + 1);
		if (fp == NULL || buf == NULL || fread(buf, 1, (size_t)total, fp) != (size_t)total ||
		    hash_sha256_hex(buf, (size_t)total, sha) != 0 ||
		    strcmp(sha, cli_jstr(meta, "sha256")) != 0) {
			fprintf(stderr, "vanthuctl: %s không khớp với mã SHA-256 vanthud đã ghi (%s); đã "
			    "xóa\n", final, cli_jstr(meta, "sha256"));
			unlink(final);
			rc = EXIT_REFUSED;
		}
		if (fp)
			fclose(fp);
	}
	if (rc == EXIT_OK) {
		if (json_out)
			cli_print_json(json_pack("{s:b, s:{s:I, s:s, s:I, s:s}}", "ok", 1, "result", "id", id,
			    "path", final, "bytes", total, "sha256", sha));
		else
			printf("Đã ghi %s (%lld byte, SHA-256 %s, đúng như vanthud đã ghi).\n", final,
			    (long long)total, sha);
	}
	free(buf);
	json_decref(meta);
	return rc;
}

static const char *status_text(const char *status)
{
	static const struct { const char *code, *text; } t[] = {
		{ "valid", "hợp lệ" },
		{ "untrusted", "chữ ký đúng nhưng chứng thư không do tổ chức được tin cậy cấp" },
		{ "expired", "chứng thư hết hạn hoặc chưa có hiệu lực khi ký" },
		{ "usage", "chứng thư không được dùng để ký số" },
		{ "bad_signature", "chữ ký không khớp với chứng thư" },
		{ "modified", "tệp đã bị sửa sau khi ký" },
		{ "bad_range", "phần được ký không phải một phiên bản của tệp" },
		{ "unreadable", "không đọc được chữ ký" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i].code, status) == 0)
			return t[i].text;
	return status;
}

/* pdf verify FILE: here, with the trust anchors named or the daemon's. */
int cli_verify_pdf(struct call *c, const char *socket_path, int json_out)
{
	struct cms_trust *trust = NULL;
	const char *tpath = c->trust;
	char err[512], daemon_trust[PATH_MAX] = "";
	unsigned char *buf = NULL;
	size_t len = 0;
	json_t *res = NULL;
	int rc = EXIT_REFUSED;
	FILE *fp;
	struct stat sb;

	if (tpath == NULL) {
		/* the office's own anchors, as the daemon names them */
		int fd = cli_connect_to(cli_pick_socket(socket_path));
		json_t *args = json_object(), *reply = fd >= 0 && args ? cli_ask(fd, "signing", args, 10000) :
		    NULL;
		const char *p = cli_jstr(json_object_get(reply, "result"), "trust");
		if (p[0])
			snprintf(daemon_trust, sizeof(daemon_trust), "%s", p);
		json_decref(args);
		json_decref(reply);
		if (fd >= 0)
			close(fd);
		if (daemon_trust[0] == '\0') {
			fprintf(stderr, "vanthuctl: vanthud không cho biết chứng thư gốc tin cậy (chưa cấu "
			    "hình [signing]): dùng --trust TỆP-PEM\n");
			return EXIT_REFUSED;
		}
		tpath = daemon_trust;
	}
	if (cms_trust_load(tpath, &trust, err, sizeof(err)) != CMS_OK) {
		fprintf(stderr, "vanthuctl: không đọc được chứng thư gốc %s: %s\n", tpath, err);
		return EXIT_REFUSED;
	}
	fp = fopen(c->out, "rb");
	if (fp == NULL || fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > 256 * 1024 * 1024 || (buf = malloc((size_t)sb.st_size + 1)) == NULL ||
	    fread(buf, 1, (size_t)sb.st_size, fp) != (size_t)sb.st_size) {
		fprintf(stderr, "vanthuctl: không đọc được %s: %s\n", c->out,
		    diag_strerror(errno ? errno : EIO));
		goto out;
	}
	len = (size_t)sb.st_size;
	res = pdfverify_buffer(buf, len, trust, err, sizeof(err));
	if (res == NULL) {
		fprintf(stderr, "vanthuctl: %s không phải tệp PDF đọc được: %s\n", c->out, err);
		goto out;
	}
	rc = json_is_true(json_object_get(res, "all_valid")) ? EXIT_OK : EXIT_REFUSED;
	if (json_out) {
		cli_print_json(json_pack("{s:b, s:O}", "ok", rc == EXIT_OK, "result", res));
		goto out;
	}
	json_t *list = json_object_get(res, "signatures"), *e;
	size_t i;
	printf("%s: %lld chữ ký số.\n", c->out, (long long)json_array_size(list));
	json_array_foreach(list, i, e) {
		printf("%lld. %s — %s\n", (long long)cli_jint(e, "index"), cli_jstr(e, "signer")[0] ?
		    cli_jstr(e, "signer") : cli_jstr(e, "name"), status_text(cli_jstr(e, "status")));
		printf("   Ký lúc: %s; trường \"%s\"; lý do: %s\n", cli_jstr(e, "signed_at"),
		    cli_jstr(e, "field"), cli_jstr(e, "reason"));
		printf("   Phạm vi: %s\n", json_is_true(json_object_get(e, "whole")) ?
		    "toàn bộ tệp" : json_is_true(json_object_get(e, "covers_revision")) ?
		    "tệp đến phiên bản này (phần sau là phần thêm vào sau khi ký)" :
		    "không phải một phiên bản của tệp");
		printf("   Chứng thư: %s\n", json_is_true(json_object_get(e, "trusted")) ?
		    "được tin cậy" : "không được tin cậy");
		if (cli_jstr(e, "why")[0])
			printf("   Chi tiết: %s\n", cli_jstr(e, "why"));
	}
	if (json_array_size(list) == 0)
		printf("Tệp không có chữ ký số nào.\n");
	else
		printf("%s\n", rc == EXIT_OK ? "Mọi chữ ký đều hợp lệ." :
		    "CÓ CHỮ KÝ KHÔNG HỢP LỆ: không coi tệp này là bản gốc.");
out:
	if (fp)
		fclose(fp);
	free(buf);
	json_decref(res);
	cms_trust_free(trust);
	return rc;
}

/* copy ID: the văn thư's electronic copy, made by vanthud, then fetched as pdf fetches. */
int cli_make_copy(int fd, struct call *c, int json_out, int timeout_ms)
{
	json_int_t id = json_integer_value(json_object_get(c->args, "id"));
	json_t *reply = cli_ask(fd, "copy", c->args, timeout_ms), *res;
	int rc;

	if (reply == NULL)
		return EXIT_UNREACHABLE;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		rc = refused(reply, json_out);
		json_decref(reply);
		return rc;
	}
	res = json_object_get(reply, "result");
	if (!json_out)
		printf("Đã làm bản sao điện tử %s (%s) của văn bản số %lld.\n", cli_jstr(res, "symbol"),
		    cli_jstr(res, "form"), (long long)id);
	rc = cli_fetch_pdf(fd, id, cli_jint(res, "copy"), c->out, json_out, timeout_ms);
	json_decref(reply);
	return rc;
}

int cli_build_copy(int argc, char **argv, struct call *c)
{
	json_int_t id;

	if (argc < 2 || cli_parse_positive(argv[1], &id) != 0)
		return cli_usage_error("%s", "cách dùng: vanthuctl copy ID [--form sao-y|sao-luc] [-o TỆP]");
	json_object_set_new(c->args, "id", json_integer(id));
	c->kind = CALL_COPY;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			c->out = argv[++i];
		else if (strcmp(argv[i], "--form") == 0 && i + 1 < argc)
			json_object_set_new(c->args, "form", json_string(argv[++i]));
		else
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
	}
	return 0;
}
