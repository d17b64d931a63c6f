/*
 * cli_intake.c: vanthuctl's commands on the units' reports: units, reports,
 * report (and report --xml, the original fetched in pieces) and rejected.
 */
#include "cli_priv.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_show_units(json_t *r)
{
	json_t *units = json_object_get(r, "units"), *groups = json_object_get(r, "groups"), *u, *g;
	size_t i, k;

	static const char *const heads[] = { "Mã", "Tên đơn vị", "Tên viết tắt", "Nhóm" };
	struct table *t = table_new(4, heads);
	json_array_foreach(units, i, u) {
		const char *label = cli_jstr(u, "group");
		json_array_foreach(groups, k, g)
			if (strcmp(cli_jstr(g, "code"), cli_jstr(u, "group")) == 0)
				label = cli_jstr(g, "label");
		const char *row[] = { cli_jstr(u, "code"), cli_jstr(u, "name"), cli_jstr(u, "short"), label };
		if (t)
			table_add(t, row);
	}
	cli_print_table(t);
	printf("(%zu đơn vị)\n", json_array_size(units));
}

void cli_show_reports(json_t *r)
{
	json_t *list = json_object_get(r, "reports"), *e;
	size_t i;

	if (json_array_size(list) == 0) {
		printf("Chưa có báo cáo nào.\n");
		return;
	}
	static const char *const heads[] = { "Số", "Nhận lúc", "Đơn vị", "Đợt", "Số, ký hiệu",
		"Trích yếu" };
	struct table *t = table_new(6, heads);
	json_array_foreach(list, i, e) {
		char id[32], when[32], num[96], sum[600];
		snprintf(id, sizeof(id), "%lld", (long long)cli_jint(e, "id"));
		cli_local_time(cli_jstr(e, "received_at"), when, sizeof(when));
		snprintf(num, sizeof(num), "%s/%s", cli_jstr(e, "number"), cli_jstr(e, "symbol"));
		snprintf(sum, sizeof(sum), "%s%s%s", cli_jstr(e, "summary"),
		    json_is_integer(json_object_get(e, "superseded_by")) ? " (đã bị thay thế)" : "",
		    *cli_jstr(e, "after_close") ? " (gửi sau khi đợt đã đóng)" : "");
		const char *row[] = { id, when, cli_jstr(e, "unit_code"), cli_jstr(e, "round_id"), num, sum };
		if (t)
			table_add(t, row);
	}
	cli_print_table(t);
}

static void print_section(json_t *sec, int depth)
{
	json_t *content = json_object_get(sec, "content"), *c;
	size_t i;

	printf("%*s%s\n", depth * 2, "", cli_jstr(sec, "title"));
	json_array_foreach(content, i, c) {
		if (json_is_string(c))
			printf("%*s%s\n", depth * 2 + 2, "", json_string_value(c));
		else
			print_section(c, depth + 1);
	}
}

/*
 * A figure as the report gives it ("4215", "47.2", XML Schema's decimal) the
 * way a Vietnamese reader writes it, with its measure: "4.215 hồ sơ",
 * "47,2%". "" for none.
 */
static void vn_figure(const char *v, const char *measure, char *out, size_t len)
{
	const char *dot = strchr(v, '.'), *digits = v;
	size_t ilen, off = 0;
	char num[80];

	if (*v == '\0') {
		out[0] = '\0';
		return;
	}
	if (*digits == '-' || *digits == '+')
		digits++;
	ilen = dot ? (size_t)(dot - digits) : strlen(digits);
	if (*v == '-')
		num[off++] = '-';
	for (size_t k = 0; k < ilen && off + 2 < sizeof(num); k++) {
		if (k > 0 && (ilen - k) % 3 == 0)
			num[off++] = '.';
		num[off++] = digits[k];
	}
	if (dot && dot[1])
		snprintf(num + off, sizeof(num) - off, ",%s", dot + 1);
	else
		num[off] = '\0';
	snprintf(out, len, "%s%s%s", num, strcmp(measure, "%") == 0 || !*measure ? "" : " ", measure);
}

void cli_show_report(json_t *r)
{
	json_t *ind = json_object_get(r, "indicators"), *rc = json_object_get(r, "receipt"), *e;
	json_t *content = json_object_get(r, "content");
	char buf[512], when[32];
	size_t i;

	snprintf(buf, sizeof(buf), "%lld", (long long)cli_jint(r, "id"));
	cli_print_field("Báo cáo số", buf);
	snprintf(buf, sizeof(buf), "%s (%s)", cli_jstr(r, "unit_name"), cli_jstr(r, "unit_code"));
	cli_print_field("Đơn vị", buf);
	char d1[16], d2[16];
	cli_vn_date(cli_jstr(r, "report_date"), d1, sizeof(d1));
	snprintf(buf, sizeof(buf), "%s/%s, %s, ngày %s", cli_jstr(r, "number"), cli_jstr(r, "symbol"),
	    cli_jstr(r, "place"), d1);
	cli_print_field("Số, ký hiệu", buf);
	cli_print_field("Trích yếu", cli_jstr(r, "summary"));
	cli_vn_date(cli_jstr(r, "req_date"), d1, sizeof(d1));
	snprintf(buf, sizeof(buf), "%s (văn bản %s/%s ngày %s)", cli_jstr(r, "round_id"),
	    cli_jstr(r, "req_number"), cli_jstr(r, "req_symbol"), d1);
	cli_print_field("Đợt báo cáo", buf);
	cli_vn_date(cli_jstr(r, "period_from"), d1, sizeof(d1));
	cli_vn_date(cli_jstr(r, "period_to"), d2, sizeof(d2));
	snprintf(buf, sizeof(buf), "từ %s đến %s", d1, d2);
	cli_print_field("Kỳ báo cáo", buf);
	snprintf(buf, sizeof(buf), "%s%s%s, %s", cli_jstr(r, "signer_authority"),
	    *cli_jstr(r, "signer_authority") ? " " : "", cli_jstr(r, "signer_title"), cli_jstr(r, "signer_name"));
	cli_print_field("Người ký", buf);
	cli_local_time(cli_jstr(r, "received_at"), when, sizeof(when));
	cli_print_field("Nhận lúc", when);
	cli_print_field("SHA-256", cli_jstr(r, "sha256"));
	if (json_is_integer(json_object_get(r, "supersedes"))) {
		snprintf(buf, sizeof(buf), "báo cáo số %lld", (long long)cli_jint(r, "supersedes"));
		cli_print_field("Thay thế", buf);
	}
	if (json_is_integer(json_object_get(r, "superseded_by"))) {
		snprintf(buf, sizeof(buf), "báo cáo số %lld", (long long)cli_jint(r, "superseded_by"));
		cli_print_field("Bị thay thế bởi", buf);
	}
	if (json_is_object(rc)) {
		snprintf(buf, sizeof(buf), "số %lld, tệp %s%s%s — %s", (long long)cli_jint(rc, "receipt"),
		    *cli_jstr(rc, "source_folder") ? cli_jstr(rc, "source_folder") : "",
		    *cli_jstr(rc, "source_folder") ? "/" : "", cli_jstr(rc, "source_name"),
		    cli_outcome_label(cli_jstr(rc, "outcome")));
		cli_print_field("Biên nhận", buf);
	}
	if (*cli_jstr(r, "after_close")) {
		cli_local_time(cli_jstr(r, "after_close"), when, sizeof(when));
		snprintf(buf, sizeof(buf), "gửi sau khi đợt báo cáo đã đóng (%s); không tính trong kết "
		    "luận của đợt", when);
		cli_print_field("Lưu ý", buf);
	}
	if (json_array_size(ind) > 0) {
		static const char *const heads[] = { "Mã", "Chỉ tiêu", "Kết quả", "Mục tiêu" };
		struct table *t = table_new(4, heads);
		printf("\nChỉ tiêu:\n");
		json_array_foreach(ind, i, e) {
			char value[96], target[96];
			vn_figure(cli_jstr(e, "value"), cli_jstr(e, "measure"), value, sizeof(value));
			vn_figure(cli_jstr(e, "target"), cli_jstr(e, "measure"), target, sizeof(target));
			const char *row[] = { cli_jstr(e, "code"), cli_jstr(e, "name"), value,
			    *cli_jstr(e, "target") ? target : "—" };
			if (t)
				table_add(t, row);
		}
		cli_print_table(t);
	}
	printf("\nNội dung:\n");
	if (json_is_true(json_object_get(r, "body_omitted")))
		printf("  (nội dung dài; xem nguyên văn bằng: vanthuctl report %lld --xml)\n",
		    (long long)cli_jint(r, "id"));
	json_array_foreach(json_object_get(content, "body"), i, e)
		print_section(e, 1);
}

void cli_show_rejected(json_t *r)
{
	json_t *list = json_object_get(r, "rejected"), *e, *err;
	size_t i, k;

	if (json_array_size(list) == 0) {
		printf("Không có tệp nào bị từ chối.\n");
		return;
	}
	json_array_foreach(list, i, e) {
		char when[32];
		cli_local_time(cli_jstr(e, "received_at"), when, sizeof(when));
		printf("Biên nhận %lld — %s%s%s, nhận lúc %s%s%s\n", (long long)cli_jint(e, "receipt"),
		    cli_jstr(e, "source_folder"), *cli_jstr(e, "source_folder") ? "/" : "",
		    cli_jstr(e, "source_name"), when, *cli_jstr(e, "unit_code") ? ", đơn vị " : "",
		    cli_jstr(e, "unit_code"));
		json_array_foreach(json_object_get(e, "errors"), k, err) {
			printf("  [%s] ", cli_jstr(err, "code"));
			if (cli_jint(err, "line") > 0)
				printf("dòng %lld: ", (long long)cli_jint(err, "line"));
			printf("%s\n", cli_jstr(err, "message"));
		}
	}
}

/*
 * report --xml: the original bytes, on standard output; with --json, one
 * JSON object whose "xml" is the text (or "base64" when it is not UTF-8).
 */
int cli_fetch_original(int fd, json_int_t id, int json_out, int timeout_ms)
{
	json_t *extra = json_pack("{s:b}", "xml", 1);
	json_int_t total = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = json_out ? open_memstream(&buf, &len) : stdout;
	int rc;

	if (out == NULL) {
		json_decref(extra);
		fprintf(stderr, "vanthuctl: hết bộ nhớ\n");
		return EXIT_REFUSED;
	}
	rc = cli_fetch_chunks(fd, "report", id, extra, out, NULL, &total, json_out, timeout_ms);
	json_decref(extra);
	if (!json_out)
		return rc;
	fclose(out);
	if (rc == EXIT_OK) {
		json_t *text = json_stringn(buf, len), *o;
		if (text != NULL) {
			o = json_pack("{s:b, s:{s:I, s:I, s:o}}", "ok", 1, "result", "id", id, "bytes",
			    total, "xml", text);
		} else {
			int cap = (int)(4 * ((len + 2) / 3) + 1);
			unsigned char *b64 = malloc((size_t)cap);
			if (b64)
				EVP_EncodeBlock(b64, (const unsigned char *)buf, (int)len);
			o = b64 ? json_pack("{s:b, s:{s:I, s:I, s:s}}", "ok", 1, "result", "id", id,
			    "bytes", total, "base64", (char *)b64) : NULL;
			free(b64);
		}
		char *dump = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
		if (dump)
			puts(dump);
		else
			rc = EXIT_REFUSED;
		free(dump);
		json_decref(o);
	}
	free(buf);
	return rc;
}

int cli_build_units(int argc, char **argv, struct call *c)
{
	return cli_no_args(argc, argv, c);
}

int cli_build_reports(int argc, char **argv, struct call *c)
{
	for (int i = 1; i < argc; i++) {
		json_int_t v;
		if (i + 1 >= argc)
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
		if (strcmp(argv[i], "--unit") == 0 || strcmp(argv[i], "--round") == 0 ||
		    strcmp(argv[i], "--since") == 0) {
			json_object_set_new(c->args, argv[i] + 2, json_string(argv[i + 1]));
		} else if (strcmp(argv[i], "--limit") == 0 || strcmp(argv[i], "--before") == 0) {
			if (cli_parse_positive(argv[i + 1], &v) != 0)
				return cli_usage_error("cần một số nguyên dương: %s", argv[i + 1]);
			json_object_set_new(c->args, argv[i] + 2, json_integer(v));
		} else {
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
		}
		i++;
	}
	return 0;
}

int cli_build_report(int argc, char **argv, struct call *c)
{
	json_int_t id;

	if (argc < 2 || cli_parse_positive(argv[1], &id) != 0)
		return cli_usage_error("%s", "cần số của báo cáo: vanthuctl report ID [--xml]");
	json_object_set_new(c->args, "id", json_integer(id));
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--xml") != 0)
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
		c->kind = CALL_FETCH_XML;
	}
	return 0;
}
