/*
 * cli_admin.c: vanthuctl's commands on the daemon itself: status, ping,
 * whoami, audit (and rejected's options), verify and backup.
 */
#include "cli_priv.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *role_label(const char *code)
{
	static const struct { const char *code, *label; } labels[] = {
		{ "drafter", "chuyên viên soạn thảo" },
		{ "reviewer", "người kiểm duyệt" },
		{ "signer", "lãnh đạo ký" },
		{ "clerk", "văn thư" },
		{ "admin", "quản trị" },
		{ "auditor", "giám sát (chỉ xem)" },
	};
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(labels[i].code, code) == 0)
			return labels[i].label;
	return code;
}

static void format_bytes(json_int_t bytes, char *out, size_t len)
{
	const char *units[] = { "KB", "MB", "GB", "TB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(out, len, "%lld byte", (long long)bytes);
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(out, len, "%.1f %s", v, units[u]);
	/* Vietnamese writes the decimal point as a comma. */
	for (char *p = out; *p; p++)
		if (*p == '.')
			*p = ',';
}

static void format_duration(json_int_t s, char *out, size_t len)
{
	long long d = s / 86400, h = (s % 86400) / 3600, m = (s % 3600) / 60, sec = s % 60;

	if (d > 0)
		snprintf(out, len, "%lld ngày %lld giờ %lld phút", d, h, m);
	else if (h > 0)
		snprintf(out, len, "%lld giờ %lld phút", h, m);
	else if (m > 0)
		snprintf(out, len, "%lld phút %lld giây", m, sec);
	else
		snprintf(out, len, "%lld giây", sec);
}

void cli_show_status(json_t *r)
{
	json_t *db = json_object_get(r, "database"), *org = json_object_get(r, "organisation");
	json_t *counts = json_object_get(r, "counts");
	char buf[512], size[64], dur[64];

	printf("vanthud %s đang chạy (pid %lld)\n", cli_jstr(r, "version"), (long long)cli_jint(r, "pid"));
	snprintf(buf, sizeof(buf), "%s (%s)", cli_jstr(org, "name"), cli_jstr(org, "abbreviation"));
	cli_print_field("Cơ quan", buf);
	format_duration(cli_jint(r, "uptime"), dur, sizeof(dur));
	cli_print_field("Thời gian chạy", dur);
	format_bytes(cli_jint(db, "bytes"), size, sizeof(size));
	snprintf(buf, sizeof(buf), "%s (%s, lược đồ %lld)", cli_jstr(db, "path"), size,
	    (long long)cli_jint(db, "schema_version"));
	cli_print_field("Cơ sở dữ liệu", buf);
	cli_print_field("Thư mục tiếp nhận", cli_jstr(r, "spool"));
	cli_print_field("Tệp cấu hình", *cli_jstr(r, "config") ? cli_jstr(r, "config") : "mặc định dựng sẵn");
	snprintf(buf, sizeof(buf), "%lld", (long long)cli_jint(counts, "connections"));
	cli_print_field("Kết nối đang mở", buf);
	snprintf(buf, sizeof(buf), "%lld mục", (long long)cli_jint(counts, "audit"));
	cli_print_field("Nhật ký kiểm tra", buf);
	snprintf(buf, sizeof(buf), "%lld báo cáo; %lld tệp bị từ chối; %lld tệp đã xử lý",
	    (long long)cli_jint(counts, "reports"), (long long)cli_jint(counts, "rejected"),
	    (long long)cli_jint(counts, "inputs"));
	cli_print_field("Tiếp nhận", buf);
	snprintf(buf, sizeof(buf), "%lld", (long long)cli_jint(counts, "documents"));
	cli_print_field("Văn bản đi", buf);
	json_t *sg = json_object_get(r, "signing");
	if (json_is_true(json_object_get(sg, "configured"))) {
		if (cli_jint(sg, "converter_rss_kb") > 0) {
			format_bytes(cli_jint(sg, "converter_rss_kb") * 1024, size, sizeof(size));
			snprintf(buf, sizeof(buf), "có; bộ chuyển PDF (LibreOffice) pid %lld, %s bộ nhớ",
			    (long long)cli_jint(sg, "converter_pid"), size);
		} else {
			snprintf(buf, sizeof(buf), "có; bộ chuyển PDF khởi động ở lần ký tới");
		}
		cli_print_field("Ký số", buf);
	} else if (sg != NULL) {
		cli_print_field("Ký số", "chưa cấu hình ([signing] trong vanthu.conf)");
	}
	json_t *xs = json_object_get(r, "exchange");
	if (json_is_true(json_object_get(xs, "configured"))) {
		int nats = strcmp(cli_jstr(xs, "transport"), "nats") == 0;
		snprintf(buf, sizeof(buf), "%s %s%s; mã định danh %s", nats ? "NATS" : "thư mục",
		    cli_jstr(xs, "server"), nats ? (json_is_true(json_object_get(xs, "up")) ?
		    " (đã kết nối)" : " (CHƯA KẾT NỐI)") : "",
		    json_string_value(json_array_get(json_object_get(xs, "ids"), 0)) ?
		    json_string_value(json_array_get(json_object_get(xs, "ids"), 0)) : "");
		cli_print_field("Liên thông", buf);
		char oldest[40] = "";
		if (*cli_jstr(xs, "outbox_oldest"))
			cli_local_time(cli_jstr(xs, "outbox_oldest"), oldest, sizeof(oldest));
		snprintf(buf, sizeof(buf), "%lld chờ gửi%s%s; đã gửi %lld, đã nhận %lld, từ chối %lld",
		    (long long)cli_jint(xs, "outbox"), oldest[0] ? ", cũ nhất từ " : "", oldest,
		    (long long)cli_jint(xs, "sent"), (long long)cli_jint(xs, "received"),
		    (long long)cli_jint(xs, "refused"));
		cli_print_field("Hàng đợi liên thông", buf);
		if (*cli_jstr(xs, "last_error")) {
			char when[40], line[400];
			cli_local_time(cli_jstr(xs, "last_error_at"), when, sizeof(when));
			snprintf(line, sizeof(line), "%s (lúc %s)", cli_jstr(xs, "last_error"), when);
			cli_print_field("Lỗi liên thông gần nhất", line);
		}
	} else if (xs != NULL) {
		cli_print_field("Liên thông", "chưa cấu hình ([exchange] trong vanthu.conf)");
	}
}

void cli_show_whoami(json_t *r)
{
	json_t *roles = json_object_get(r, "roles"), *v;
	char buf[512] = "";
	size_t i, off = 0;

	snprintf(buf, sizeof(buf), "%s (uid %lld)", cli_jstr(r, "user"), (long long)cli_jint(r, "uid"));
	cli_print_field("Người dùng", buf);
	buf[0] = '\0';
	json_array_foreach(roles, i, v) {
		int n = snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? ", " : "",
		    role_label(json_string_value(v)));
		if (n < 0 || (size_t)n >= sizeof(buf) - off)
			break;
		off += (size_t)n;
	}
	cli_print_field("Vai trò", buf[0] ? buf : "không có");
	cli_print_field("Họ và tên", cli_jstr(r, "full_name"));
	cli_print_field("Chức vụ", cli_jstr(r, "title"));
	cli_print_field("Thẩm quyền ký", cli_jstr(r, "authority"));
	if (*cli_jstr(r, "party_title"))
		cli_print_field("Chức vụ trong Đảng", cli_jstr(r, "party_title"));
}

/* What an audit entry's object is: "document/12" is "văn bản số 12". */
static void object_text(const char *o, char *out, size_t len)
{
	const char *slash = strchr(o, '/');
	size_t n = slash ? (size_t)(slash - o) : 0;

	if (slash && strncmp(o, "document", n) == 0 && n == 8)
		snprintf(out, len, "văn bản số %s", slash + 1);
	else if (slash && strncmp(o, "round", n) == 0 && n == 5)
		snprintf(out, len, "đợt báo cáo %s", slash + 1);
	else if (slash && strncmp(o, "intake", n) == 0 && n == 6)
		snprintf(out, len, "biên nhận số %s", slash + 1);
	else if (slash && strncmp(o, "register", n) == 0 && n == 8)
		snprintf(out, len, "sổ đăng ký %s", slash + 1);
	else
		snprintf(out, len, "%s", o);
}

/*
 * An audit entry as a sentence: its object, then what its detail says, in
 * Vietnamese; a detail vanthuctl does not know is shown as it is.
 */
static void audit_sentence(json_t *e, char *out, size_t len)
{
	const char *action = cli_jstr(e, "action"), *raw = cli_jstr(e, "detail");
	json_t *d = *raw == '{' ? json_loads(raw, 0, NULL) : NULL;
	char obj[256];
	size_t off;

	object_text(cli_jstr(e, "object"), obj, sizeof(obj));
	off = (size_t)snprintf(out, len, "%s", obj);
#define ADD(...) do { if (off < len) off += (size_t)snprintf(out + off, len - off, __VA_ARGS__); } \
	while (0)
	if (strcmp(action, "daemon.start") == 0) {
		ADD("phiên bản %s", raw);
	} else if (strcmp(action, "config.reload") == 0) {
		ADD("tệp %s", raw);
	} else if (strcmp(action, "backup") == 0) {
		ADD(" (%s)", raw);
	} else if (d == NULL) {
		ADD("%s%s", *obj && *raw ? " — " : "", raw);
	} else if (strcmp(action, "report.intake") == 0) {
		ADD("%stệp %s%s%s", *obj ? ": " : "", cli_jstr(d, "folder"), *cli_jstr(d, "folder") ? "/" : "",
		    cli_jstr(d, "file"));
		if (*cli_jstr(d, "unit"))
			ADD(" của %s", cli_jstr(d, "unit"));
		ADD(" — %s", cli_outcome_label(cli_jstr(d, "to")));
		if (cli_jint(d, "report") > 0)
			ADD(", báo cáo số %lld", (long long)cli_jint(d, "report"));
		if (cli_jint(d, "document") > 0)
			ADD(", dự thảo số %lld", (long long)cli_jint(d, "document"));
	} else if (strcmp(action, "create") == 0) {
		ADD(": tạo mới (%s), bản 1", cli_jstr(d, "kind"));
	} else if (strcmp(action, "edit") == 0) {
		ADD(": bản %lld", (long long)cli_jint(d, "revision"));
	} else if (strcmp(action, "publish") == 0) {
		ADD(": tệp %s", cli_jstr(d, "path"));
	} else if (strcmp(action, "void") == 0) {
		ADD(": số %lld của sổ %s %s", (long long)cli_jint(d, "number"), cli_jstr(d, "body"),
		    cli_jstr(d, "series"));
	} else if (strcmp(action, "register.start") == 0) {
		ADD(": tiếp nối sổ giấy, số đầu tiên trong vanthu là %lld", (long long)cli_jint(d, "next"));
	} else if (strcmp(action, "round.create") == 0) {
		char day[16];
		cli_vn_date(cli_jstr(d, "deadline"), day, sizeof(day));
		ADD(": %lld đơn vị, hạn báo cáo %s", (long long)cli_jint(d, "units"), day);
	} else if (strcmp(action, "round.remind") == 0 || strcmp(action, "round.close") == 0) {
		if (cli_jint(d, "document") > 0)
			ADD(": %s là văn bản số %lld", strcmp(action, "round.close") == 0 ? "dự thảo kết luận" :
			    "công văn đôn đốc", (long long)cli_jint(d, "document"));
		else
			ADD(": %s", strcmp(action, "round.close") == 0 ? "không có dự thảo" :
			    "mọi đơn vị đã báo cáo, không cần đôn đốc");
	} else if (json_object_get(d, "to") != NULL) {
		ADD(": %s → %s", *cli_jstr(d, "from") ? cli_state_label(cli_jstr(d, "from")) : "(mới)",
		    cli_state_label(cli_jstr(d, "to")));
		if (*cli_jstr(d, "symbol"))
			ADD(", số %s", cli_jstr(d, "symbol"));
	} else {
		ADD(" — %s", raw);
	}
	if (d != NULL && (*cli_jstr(d, "comment") || *cli_jstr(d, "reason")))
		ADD(" «%s»", *cli_jstr(d, "comment") ? cli_jstr(d, "comment") : cli_jstr(d, "reason"));
#undef ADD
	json_decref(d);
	/* no object: the detail alone, without the separator it would have followed */
	if (strncmp(out, ": ", 2) == 0 || strncmp(out, " — ", 5) == 0)
		memmove(out, out + (out[0] == ':' ? 2 : 5), strlen(out) - (out[0] == ':' ? 2 : 5) + 1);
}

void cli_show_audit(json_t *r)
{
	json_t *entries = json_object_get(r, "entries"), *e;
	static const char *const heads[] = { "Số", "Thời điểm", "Người làm",
		"Hành động: đối tượng, chi tiết" };
	struct table *t;
	size_t i;

	if (json_array_size(entries) == 0) {
		printf("Nhật ký kiểm tra chưa có mục nào.\n");
		return;
	}
	t = table_new(4, heads);
	json_array_foreach(entries, i, e) {
		char id[24], when[40], what[2048], line[2304];
		snprintf(id, sizeof(id), "%lld", (long long)cli_jint(e, "id"));
		cli_local_time_s(cli_jstr(e, "at"), when, sizeof(when));
		audit_sentence(e, what, sizeof(what));
		snprintf(line, sizeof(line), "%s%s%s", cli_action_label(cli_jstr(e, "action")), *what ? ": " : "",
		    what);
		const char *row[] = { id, when, cli_jstr(e, "actor"), line };
		if (t)
			table_add(t, row);
	}
	cli_print_table(t);
	printf("(giờ Việt Nam, UTC+7)\n");
}

void cli_show_verify(json_t *r)
{
	if (json_is_true(json_object_get(r, "intact")))
		printf("Chuỗi nhật ký kiểm tra nguyên vẹn: %lld mục đã kiểm tra.\n",
		    (long long)cli_jint(r, "checked"));
	else
		printf("Chuỗi nhật ký kiểm tra BỊ SỬA: mục số %lld không khớp.\n",
		    (long long)cli_jint(r, "first_bad"));
	json_t *e;
	size_t i;
	json_array_foreach(json_object_get(r, "incoming"), i, e) {
		if (cli_jint(e, "gaps") == 0)
			printf("Sổ văn bản đến năm %lld: %lld văn bản, số đến liên tục từ 1.\n",
			    (long long)cli_jint(e, "year"), (long long)cli_jint(e, "count"));
		else
			printf("Sổ văn bản đến năm %lld: THIẾU %lld số đến (có %lld văn bản).\n",
			    (long long)cli_jint(e, "year"), (long long)cli_jint(e, "gaps"),
			    (long long)cli_jint(e, "count"));
	}
}

void cli_show_backup(json_t *r)
{
	char size[64];

	format_bytes(cli_jint(r, "bytes"), size, sizeof(size));
	printf("Đã sao lưu cơ sở dữ liệu vào %s (%s).\n", cli_jstr(r, "path"), size);
}

void cli_show_ping(json_t *r)
{
	printf("vanthud %s trả lời.\n", cli_jstr(r, "version"));
}

int cli_build_audit(int argc, char **argv, struct call *c)
{
	for (int i = 1; i < argc; i++) {
		json_int_t v;
		if ((strcmp(argv[i], "--limit") == 0 || strcmp(argv[i], "--before") == 0) && i + 1 < argc) {
			if (cli_parse_positive(argv[i + 1], &v) != 0)
				return cli_usage_error("cần một số nguyên dương: %s", argv[i + 1]);
			json_object_set_new(c->args, argv[i] + 2, json_integer(v));
			i++;
		} else {
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
		}
	}
	return 0;
}

int cli_build_backup(int argc, char **argv, struct call *c)
{
	char abs[PATH_MAX];

	if (argc != 2)
		return cli_usage_error("%s", "cần đúng một tham số: tệp sao lưu (vanthuctl backup TỆP)");
	if (argv[1][0] == '/') {
		snprintf(abs, sizeof(abs), "%s", argv[1]);
	} else {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    (size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, argv[1]) >= sizeof(abs))
			return cli_usage_error("không xác định được đường dẫn tuyệt đối của %s", argv[1]);
	}
	json_object_set_new(c->args, "path", json_string(abs));
	return 0;
}
