/*
 * cli_exchange.c: vanthuctl's exchange between offices: delivery and recall
 * (the sender's side), incoming (the register of arrivals: list, show, pdf,
 * register, add, refused, done), assign, progress, extend and followup.
 */
#include "cli_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edxml.h"
#include "hash.h"

static const char *priority_label(json_int_t p)
{
	static const char *const labels[] = { "thường", "khẩn", "thượng khẩn", "hỏa tốc",
		"hỏa tốc hẹn giờ" };
	return p >= 0 && p <= 4 ? labels[p] : "?";
}

static const char *in_state_label(const char *s)
{
	static const struct { const char *id, *label; } labels[] = {
		{ "registered", "đã vào sổ, chờ phân công" }, { "assigned", "đã phân công" },
		{ "progress", "đang xử lý" }, { "done", "đã giải quyết" },
		{ "recalled", "bên gửi đã thu hồi" },
	};
	for (size_t i = 0; s && i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(labels[i].id, s) == 0)
			return labels[i].label;
	return s ? s : "";
}

static const char *role_label(const char *r)
{
	return strcmp(r, "lead") == 0 ? "chủ trì" : strcmp(r, "support") == 0 ? "phối hợp" :
	    strcmp(r, "info") == 0 ? "để biết" : r;
}

/* A status code as offices say it: "03 đã tiếp nhận"; unknown codes are said so. */
static void status_text(json_int_t code, char *out, size_t len)
{
	const char *n = edxml_status_name((int)code);
	snprintf(out, len, "%02lld %s", (long long)code, n ? n : "(mã không rõ nghĩa)");
}

/* "2026-12-05 09:30:00" (the sender's local time) as "09:30 05/12/2026". */
static void local_stamp(const char *s, char *out, size_t len)
{
	int y, mo, d, h, mi;
	if (s && sscanf(s, "%d-%d-%d %d:%d", &y, &mo, &d, &h, &mi) == 5)
		snprintf(out, len, "%02d:%02d %02d/%02d/%04d", h, mi, d, mo, y);
	else
		snprintf(out, len, "%s", s ? s : "");
}

/* ---- delivery, recall ---- */

static void show_delivery(json_t *r)
{
	json_t *doc = json_object_get(r, "document"), *list = json_object_get(r, "deliveries"), *e;
	size_t i, late = 0;
	char buf[512];

	snprintf(buf, sizeof(buf), "%s (văn bản %lld)", *cli_jstr(doc, "symbol") ?
	    cli_jstr(doc, "symbol") : "chưa có số", (long long)cli_jint(doc, "id"));
	cli_print_field("Văn bản", buf);
	cli_print_field("Trích yếu", cli_jstr(doc, "summary"));
	if (*cli_jstr(r, "key"))
		cli_print_field("Mã văn bản (DocumentId)", cli_jstr(r, "key"));
	if (!json_is_true(json_object_get(r, "exchange")))
		cli_print_field("Liên thông", "chưa cấu hình ([exchange] trong vanthu.conf): mọi nơi "
		    "nhận nhận bản giấy");
	if (json_array_size(list) == 0) {
		printf("Chưa gửi đến nơi nào (văn bản chưa ban hành, hoặc chưa có nơi nhận).\n");
		return;
	}
	static const char *const heads[] = { "Nơi nhận", "Gửi", "Trạng thái", "Lúc", "Ghi chú" };
	struct table *t = table_new(5, heads);
	json_array_foreach(list, i, e) {
		char st[96] = "", at[40] = "", note[600] = "";
		int paper = strcmp(cli_jstr(e, "via"), "paper") == 0;
		if (paper) {
			snprintf(st, sizeof(st), "gửi bản giấy");
		} else if (json_integer_value(json_object_get(e, "status")) > 0) {
			status_text(cli_jint(e, "status"), st, sizeof(st));
			local_stamp(cli_jstr(e, "status_at"), at, sizeof(at));
			snprintf(note, sizeof(note), "%s", cli_jstr(e, "status_text"));
		} else if (*cli_jstr(e, "sent_at")) {
			snprintf(st, sizeof(st), "đã gửi, chưa đến");
			cli_local_time(cli_jstr(e, "sent_at"), at, sizeof(at));
		} else {
			snprintf(st, sizeof(st), "đang chờ gửi");
			cli_local_time(cli_jstr(e, "planned_at"), at, sizeof(at));
		}
		if (json_is_true(json_object_get(e, "late"))) {
			size_t l = strlen(st);
			snprintf(st + l, sizeof(st) - l, " — CHẬM");
			late++;
		}
		if (*cli_jstr(e, "recall")) {
			size_t l = strlen(note);
			char ans[96] = "đang chờ trả lời";
			if (cli_jint(e, "recall_answer") > 0)
				status_text(cli_jint(e, "recall_answer"), ans, sizeof(ans));
			snprintf(note + l, sizeof(note) - l, "%sthu hồi: %s", l ? "; " : "", ans);
		}
		const char *row[] = { cli_jstr(e, "name"), paper ? "giấy" : "trục", st, at, note };
		if (t)
			table_add(t, row);
	}
	cli_print_table(t);
	if (late)
		printf("%zu nơi nhận chưa báo \"đã đến\" sau %lld phút (CHẬM).\n", late,
		    (long long)cli_jint(r, "late_after"));
}

static int build_delivery(int argc, char **argv, struct call *c)
{
	json_int_t id;

	if (argc != 2 || cli_parse_positive(argv[1], &id) != 0)
		return cli_usage_error("%s", "cách dùng: vanthuctl delivery ID");
	json_object_set_new(c->args, "id", json_integer(id));
	return 0;
}

static void show_recalled(json_t *r)
{
	printf("Đã gửi yêu cầu thu hồi văn bản %lld đến mọi nơi nhận qua trục liên thông; "
	    "xem trả lời: vanthuctl delivery %lld\n", (long long)cli_jint(r, "id"),
	    (long long)cli_jint(r, "id"));
}

static int build_recall(int argc, char **argv, struct call *c)
{
	json_int_t id;

	if (argc < 2 || cli_parse_positive(argv[1], &id) != 0)
		return cli_usage_error("%s", "cách dùng: vanthuctl recall ID -m LÝ-DO");
	json_object_set_new(c->args, "id", json_integer(id));
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
			json_object_set_new(c->args, "reason", json_string(argv[++i]));
		else
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
	}
	if (!json_object_get(c->args, "reason"))
		return cli_usage_error("%s", "thu hồi phải ghi rõ lý do: -m \"LÝ DO\"");
	c->show = show_recalled;
	return 0;
}

/* ---- incoming ---- */

static void show_incoming_list(json_t *r)
{
	json_t *list = json_object_get(r, "incoming"), *e;
	size_t i;

	if (json_array_size(list) == 0) {
		printf("Không có văn bản đến nào.\n");
		return;
	}
	static const char *const heads[] = { "ID", "Số đến", "Ngày đến", "Tác giả", "Số, ký hiệu",
		"Trích yếu", "Trạng thái", "Hạn" };
	struct table *t = table_new(8, heads);
	json_array_foreach(list, i, e) {
		char id[24], num[24], at[40], due[32] = "", st[96];
		snprintf(id, sizeof(id), "%lld", (long long)cli_jint(e, "id"));
		snprintf(num, sizeof(num), "%lld", (long long)cli_jint(e, "number"));
		cli_local_time(cli_jstr(e, "arrived_at"), at, sizeof(at));
		if (*cli_jstr(e, "deadline"))
			cli_vn_date(cli_jstr(e, "deadline"), due, sizeof(due));
		snprintf(st, sizeof(st), "%s%s", in_state_label(cli_jstr(e, "state")),
		    cli_jint(e, "priority") > 0 ? " — " : "");
		if (cli_jint(e, "priority") > 0) {
			size_t l = strlen(st);
			snprintf(st + l, sizeof(st) - l, "%s", priority_label(cli_jint(e, "priority")));
		}
		const char *row[] = { id, num, at, cli_jstr(e, "sender_name"), cli_jstr(e, "code"),
			cli_jstr(e, "subject"), st, due };
		if (t)
			table_add(t, row);
	}
	cli_print_table(t);
	if (*cli_jstr(r, "next_before"))
		printf("(còn nữa: --before %s)\n", cli_jstr(r, "next_before"));
}

static void show_incoming(json_t *r)
{
	json_t *e = json_object_get(r, "incoming"), *as = json_object_get(r, "assignments");
	json_t *pr = json_object_get(r, "progress"), *a;
	char buf[1024], day[40];
	size_t i;

	snprintf(buf, sizeof(buf), "%lld/%lld", (long long)cli_jint(e, "number"),
	    (long long)cli_jint(e, "year"));
	cli_print_field("Số đến", buf);
	cli_local_time(cli_jstr(e, "arrived_at"), day, sizeof(day));
	snprintf(buf, sizeof(buf), "%s (%s)", day, strcmp(cli_jstr(e, "via"), "paper") == 0 ?
	    "bản giấy" : strcmp(cli_jstr(e, "via"), "folder") == 0 ? "qua cổng kết nối" :
	    "qua trục liên thông");
	cli_print_field("Ngày đến", buf);
	snprintf(buf, sizeof(buf), "%s%s%s%s", cli_jstr(e, "sender_name"),
	    *cli_jstr(e, "sender_id") ? " (" : "", cli_jstr(e, "sender_id"),
	    *cli_jstr(e, "sender_id") ? ")" : "");
	cli_print_field("Tác giả", buf);
	cli_vn_date(cli_jstr(e, "issued_on"), day, sizeof(day));
	snprintf(buf, sizeof(buf), "%s %s ngày %s", cli_jstr(e, "type_name"), cli_jstr(e, "code"), day);
	cli_print_field("Văn bản", buf);
	cli_print_field("Trích yếu", cli_jstr(e, "subject"));
	if (*cli_jstr(e, "signer"))
		cli_print_field("Người ký", cli_jstr(e, "signer"));
	cli_print_field("Độ khẩn", priority_label(cli_jint(e, "priority")));
	if (*cli_jstr(e, "due_date")) {
		cli_vn_date(cli_jstr(e, "due_date"), day, sizeof(day));
		cli_print_field("Hạn trả lời (bên gửi)", day);
	}
	if (*cli_jstr(e, "doc_key"))
		cli_print_field("Mã văn bản (DocumentId)", cli_jstr(e, "doc_key"));
	json_t *v = json_object_get(e, "verify");
	if (json_is_object(v)) {
		json_t *s;
		json_array_foreach(json_object_get(v, "signatures"), i, s) {
			snprintf(buf, sizeof(buf), "%s — %s", cli_jstr(s, "signer"),
			    json_is_true(json_object_get(s, "valid")) ? "hợp lệ" : "KHÔNG hợp lệ");
			cli_print_field("Chữ ký số", buf);
		}
	}
	cli_print_field("Trạng thái", cli_jstr(e, "state_label"));
	if (*cli_jstr(e, "reply_symbol"))
		cli_print_field("Văn bản trả lời", cli_jstr(e, "reply_symbol"));
	if (json_array_size(as) > 0) {
		printf("\nPHIẾU GIẢI QUYẾT\n");
		static const char *const heads[] = { "Phân công", "Người, đơn vị", "Vai trò", "Hạn",
			"Ý kiến", "Người giao" };
		struct table *t = table_new(6, heads);
		json_array_foreach(as, i, a) {
			char id[24], due[64] = "";
			snprintf(id, sizeof(id), "%lld%s", (long long)cli_jint(a, "id"),
			    cli_jint(a, "parent") ? " (giao tiếp)" : "");
			if (*cli_jstr(a, "due"))
				cli_vn_date(cli_jstr(a, "due"), due, sizeof(due));
			if (cli_jint(a, "extended") > 0) {
				size_t l = strlen(due);
				snprintf(due + l, sizeof(due) - l, " (gia hạn %lld lần)",
				    (long long)cli_jint(a, "extended"));
			}
			const char *row[] = { id, cli_jstr(a, "name"), role_label(cli_jstr(a, "role")), due,
				cli_jstr(a, "opinion"), cli_jstr(a, "by") };
			if (t)
				table_add(t, row);
		}
		cli_print_table(t);
	}
	if (json_array_size(pr) > 0) {
		printf("\nTIẾN ĐỘ\n");
		json_array_foreach(pr, i, a) {
			cli_local_time(cli_jstr(a, "at"), day, sizeof(day));
			printf("%s  %s: %s\n", day, cli_jstr(a, "login"), cli_jstr(a, "text"));
		}
	}
}

/* The register's columns (Phụ lục IV.VI). */
#define IN_COLS 10
static const char *const in_heads[IN_COLS] = { "Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu",
	"Ngày tháng văn bản", "Tên loại và trích yếu", "Đơn vị hoặc người nhận", "Ngày chuyển",
	"Ký nhận", "Ghi chú" };

static void in_cells(json_t *e, char cells[IN_COLS][1024])
{
	char day[40];

	cli_local_time(cli_jstr(e, "arrived_at"), cells[0], 1024);
	snprintf(cells[1], 1024, "%lld", (long long)cli_jint(e, "number"));
	snprintf(cells[2], 1024, "%s", cli_jstr(e, "sender_name"));
	snprintf(cells[3], 1024, "%s", cli_jstr(e, "code"));
	cli_vn_date(cli_jstr(e, "issued_on"), cells[4], 1024);
	snprintf(cells[5], 1024, "%s: %s", cli_jstr(e, "type_name"), cli_jstr(e, "subject"));
	snprintf(cells[6], 1024, "%s", cli_jstr(e, "assigned_to"));
	day[0] = '\0';
	if (*cli_jstr(e, "assigned_at"))
		cli_local_time(cli_jstr(e, "assigned_at"), day, sizeof(day));
	snprintf(cells[7], 1024, "%s", day);
	cells[8][0] = '\0';
	snprintf(cells[9], 1024, "%s%s%s", strcmp(cli_jstr(e, "via"), "paper") == 0 ? "bản giấy" :
	    "điện tử", cli_jint(e, "priority") > 0 ? "; " : "",
	    cli_jint(e, "priority") > 0 ? priority_label(cli_jint(e, "priority")) : "");
}


static void show_in_register_csv(json_t *r)
{
	json_t *list = json_object_get(r, "entries"), *e;
	char (*cells)[1024] = malloc(IN_COLS * 1024);
	size_t i;

	if (cells == NULL)
		return;
	fputs("\xEF\xBB\xBF", stdout);
	for (int k = 0; k < IN_COLS; k++)
		cli_csv_cell(in_heads[k], k == IN_COLS - 1);
	json_array_foreach(list, i, e) {
		in_cells(e, cells);
		for (int k = 0; k < IN_COLS; k++)
			cli_csv_cell(cells[k], k == IN_COLS - 1);
	}
	free(cells);
}

static void show_in_register(json_t *r)
{
	json_t *list = json_object_get(r, "entries"), *e;
	char (*cells)[1024] = malloc(IN_COLS * 1024);
	size_t i;

	if (cells == NULL)
		return;
	printf("SỔ ĐĂNG KÝ VĂN BẢN ĐẾN — năm %lld\n", (long long)cli_jint(r, "year"));
	if (json_array_size(list) == 0) {
		printf("(chưa có văn bản đến nào; văn bản đầu tiên mang số đến 1)\n");
		free(cells);
		return;
	}
	struct table *t = table_new(IN_COLS, in_heads);
	json_array_foreach(list, i, e) {
		in_cells(e, cells);
		const char *row[IN_COLS];
		for (int k = 0; k < IN_COLS; k++)
			row[k] = cells[k];
		if (t)
			table_add(t, row);
	}
	cli_print_table(t);
	free(cells);
}

static void show_refused(json_t *r)
{
	json_t *list = json_object_get(r, "refused"), *e;
	size_t i;

	if (json_array_size(list) == 0) {
		printf("Không có gói tin nào bị từ chối.\n");
		return;
	}
	static const char *const heads[] = { "Lúc", "Bên gửi", "Mã văn bản", "Lý do từ chối" };
	struct table *t = table_new(4, heads);
	json_array_foreach(list, i, e) {
		char at[40];
		cli_local_time(cli_jstr(e, "received_at"), at, sizeof(at));
		const char *row[] = { at, *cli_jstr(e, "sender_id") ? cli_jstr(e, "sender_id") : "?",
			cli_jstr(e, "doc_key"), cli_jstr(e, "reason") };
		if (t)
			table_add(t, row);
	}
	cli_print_table(t);
}

static void show_added(json_t *r)
{
	printf("Đã vào sổ văn bản đến: số đến %lld/%lld (ID %lld).\n", (long long)cli_jint(r, "number"),
	    (long long)cli_jint(r, "year"), (long long)cli_jint(r, "id"));
}

static void show_closed(json_t *r)
{
	printf("Văn bản đến %lld đã giải quyết xong.\n", (long long)cli_jint(r, "id"));
}

static int option_value(int argc, char **argv, int *i, const char *const *names,
    const char *const *keys, size_t n, json_t *args)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(argv[*i], names[k]) == 0) {
			if (*i + 1 >= argc)
				return cli_usage_error("%s cần một giá trị", names[k]);
			json_object_set_new(args, keys[k], json_string(argv[++*i]));
			return 1;
		}
	return 0;
}

static int build_incoming_add(int argc, char **argv, struct call *c)
{
	static const char *const names[] = { "--from", "--code", "--date", "--type", "--subject",
		"--due", "--signer" };
	static const char *const keys[] = { "sender", "code", "date", "type", "subject", "due",
		"signer" };
	json_int_t v;

	c->request = "incoming.add";
	c->show = show_added;
	for (int i = 2; i < argc; i++) {
		int rc = option_value(argc, argv, &i, names, keys, 7, c->args);
		if (rc == EXIT_USAGE)
			return rc;
		if (rc == 1)
			continue;
		if ((strcmp(argv[i], "--priority") == 0 || strcmp(argv[i], "--pages") == 0) &&
		    i + 1 < argc) {
			char *end;
			v = strtoll(argv[i + 1], &end, 10);
			if (*end != '\0' || v < 0)
				return cli_usage_error("%s cần một số", argv[i]);
			json_object_set_new(c->args, argv[i] + 2, json_integer(v));
			i++;
			continue;
		}
		return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
	}
	return 0;
}

static int build_incoming(int argc, char **argv, struct call *c)
{
	json_int_t v;

	if (argc >= 2 && (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "pdf") == 0 ||
	        strcmp(argv[1], "done") == 0)) {
		if (argc < 3 || cli_parse_positive(argv[2], &v) != 0)
			return cli_usage_error("cách dùng: vanthuctl incoming %s ID", argv[1]);
		json_object_set_new(c->args, "id", json_integer(v));
		if (strcmp(argv[1], "show") == 0) {
			c->request = "incoming.show";
			c->show = show_incoming;
			return argc == 3 ? 0 : cli_usage_error("tham số không hợp lệ: %s", argv[3]);
		}
		if (strcmp(argv[1], "pdf") == 0) {
			c->request = "incoming.pdf";
			c->kind = CALL_FETCH_INCOMING;
			for (int i = 3; i < argc; i++) {
				if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
					c->out = argv[++i];
				else
					return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
			}
			return 0;
		}
		c->request = "incoming.done";
		c->show = show_closed;
		for (int i = 3; i < argc; i++) {
			if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
				json_object_set_new(c->args, "note", json_string(argv[++i]));
			else
				return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
		}
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "register") == 0) {
		c->request = "incoming.register";
		c->show = show_in_register;
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--csv") == 0)
				c->show = show_in_register_csv;
			else if (strcmp(argv[i], "--year") == 0 && i + 1 < argc &&
			    cli_parse_positive(argv[i + 1], &v) == 0)
				json_object_set_new(c->args, "year", json_integer(v)), i++;
			else
				return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
		}
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return build_incoming_add(argc, argv, c);
	if (argc >= 2 && strcmp(argv[1], "refused") == 0) {
		c->request = "incoming.refused";
		c->show = show_refused;
		return argc == 2 ? 0 : cli_usage_error("tham số không hợp lệ: %s", argv[2]);
	}
	c->show = show_incoming_list;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			json_object_set_new(c->args, "state", json_string(argv[++i]));
		else if (strcmp(argv[i], "--assignee") == 0 && i + 1 < argc)
			json_object_set_new(c->args, "assignee", json_string(argv[++i]));
		else if ((strcmp(argv[i], "--year") == 0 || strcmp(argv[i], "--before") == 0 ||
		             strcmp(argv[i], "--limit") == 0) && i + 1 < argc &&
		    cli_parse_positive(argv[i + 1], &v) == 0) {
			json_object_set_new(c->args, argv[i] + 2, json_integer(v));
			i++;
		} else
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
	}
	return 0;
}

int cli_fetch_incoming_pdf(int fd, json_int_t id, const char *path, int json_out,
    int timeout_ms)
{
	char fallback[64];

	snprintf(fallback, sizeof(fallback), "van-ban-den-%lld.pdf", (long long)id);
	return cli_fetch_checked(fd, "incoming.pdf", id, NULL, path, fallback, json_out, timeout_ms);
}

/* ---- assign, progress, extend, followup ---- */

static void show_assigned(json_t *r)
{
	printf("Đã phân công giải quyết văn bản đến %lld (%lld người, đơn vị).\n",
	    (long long)cli_jint(r, "id"), (long long)cli_jint(r, "assignees"));
}

static int build_assign(int argc, char **argv, struct call *c)
{
	json_int_t id, v;
	json_t *support = json_array(), *info = json_array();

	if (argc < 2 || cli_parse_positive(argv[1], &id) != 0) {
		json_decref(support);
		json_decref(info);
		return cli_usage_error("%s", "cách dùng: vanthuctl assign ID --lead NGƯỜI|ĐƠN-VỊ "
		    "[--support X]... [--info X]... --due NGÀY|+N -m Ý-KIẾN [--parent PHÂN-CÔNG]");
	}
	json_object_set_new(c->args, "id", json_integer(id));
	json_object_set_new(c->args, "support", support);
	json_object_set_new(c->args, "info", info);
	c->show = show_assigned;
	for (int i = 2; i < argc; i++) {
		if (i + 1 >= argc)
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
		if (strcmp(argv[i], "--lead") == 0)
			json_object_set_new(c->args, "lead", json_string(argv[++i]));
		else if (strcmp(argv[i], "--support") == 0)
			json_array_append_new(support, json_string(argv[++i]));
		else if (strcmp(argv[i], "--info") == 0)
			json_array_append_new(info, json_string(argv[++i]));
		else if (strcmp(argv[i], "--due") == 0)
			json_object_set_new(c->args, "due", json_string(argv[++i]));
		else if (strcmp(argv[i], "-m") == 0)
			json_object_set_new(c->args, "opinion", json_string(argv[++i]));
		else if (strcmp(argv[i], "--parent") == 0 && cli_parse_positive(argv[i + 1], &v) == 0)
			json_object_set_new(c->args, "parent", json_integer(v)), i++;
		else
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
	}
	return 0;
}

static void show_progressed(json_t *r)
{
	printf("Đã ghi tiến độ giải quyết văn bản đến %lld.\n", (long long)cli_jint(r, "id"));
}

static int build_progress(int argc, char **argv, struct call *c)
{
	json_int_t id;

	if (argc != 4 || cli_parse_positive(argv[1], &id) != 0 || strcmp(argv[2], "-m") != 0)
		return cli_usage_error("%s", "cách dùng: vanthuctl progress ID -m NỘI-DUNG");
	json_object_set_new(c->args, "id", json_integer(id));
	json_object_set_new(c->args, "text", json_string(argv[3]));
	c->show = show_progressed;
	return 0;
}

static void show_extended(json_t *r)
{
	char day[40];
	cli_vn_date(cli_jstr(r, "due"), day, sizeof(day));
	printf("Đã gia hạn phân công %lld đến %s.\n", (long long)cli_jint(r, "assignment"), day);
}

static int build_extend(int argc, char **argv, struct call *c)
{
	json_int_t id;

	if (argc < 2 || cli_parse_positive(argv[1], &id) != 0)
		return cli_usage_error("%s", "cách dùng: vanthuctl extend PHÂN-CÔNG --due NGÀY|+N -m LÝ-DO");
	json_object_set_new(c->args, "assignment", json_integer(id));
	c->show = show_extended;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--due") == 0 && i + 1 < argc)
			json_object_set_new(c->args, "due", json_string(argv[++i]));
		else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
			json_object_set_new(c->args, "reason", json_string(argv[++i]));
		else
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
	}
	return 0;
}

static void show_followup(json_t *r)
{
	json_t *list = json_object_get(r, "entries"), *e;
	size_t i;

	printf("SỔ THEO DÕI GIẢI QUYẾT VĂN BẢN ĐẾN — năm %lld\n", (long long)cli_jint(r, "year"));
	printf("%lld đang giải quyết trong hạn, %lld quá hạn, %lld đã xong.\n",
	    (long long)cli_jint(r, "open"), (long long)cli_jint(r, "late"),
	    (long long)cli_jint(r, "done"));
	if (json_array_size(list) == 0)
		return;
	static const char *const heads[] = { "Số đến", "Tên loại, số, ký hiệu, ngày, cơ quan ban hành",
		"Đơn vị hoặc người nhận", "Thời hạn giải quyết", "Tiến độ giải quyết",
		"Số, ký hiệu văn bản trả lời", "Ghi chú" };
	struct table *t = table_new(7, heads);
	json_array_foreach(list, i, e) {
		char num[24], doc[1024], day[40], due[40] = "", prog[1024];
		snprintf(num, sizeof(num), "%lld", (long long)cli_jint(e, "number"));
		cli_vn_date(cli_jstr(e, "issued_on"), day, sizeof(day));
		snprintf(doc, sizeof(doc), "%s %s ngày %s, %s", cli_jstr(e, "type_name"),
		    cli_jstr(e, "code"), day, cli_jstr(e, "sender_name"));
		if (*cli_jstr(e, "deadline"))
			cli_vn_date(cli_jstr(e, "deadline"), due, sizeof(due));
		snprintf(prog, sizeof(prog), "%s%s%s", cli_jstr(e, "state_label"),
		    *cli_jstr(e, "progress") ? ": " : "", cli_jstr(e, "progress"));
		const char *row[] = { num, doc, cli_jstr(e, "lead"), due, prog,
			cli_jstr(e, "reply_symbol"), json_is_true(json_object_get(e, "late")) ? "QUÁ HẠN" : "" };
		if (t)
			table_add(t, row);
	}
	cli_print_table(t);
}

static int build_followup(int argc, char **argv, struct call *c)
{
	json_int_t v;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--year") == 0 && i + 1 < argc &&
		    cli_parse_positive(argv[i + 1], &v) == 0)
			json_object_set_new(c->args, "year", json_integer(v)), i++;
		else
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
	}
	return 0;
}

/* The table's rows for these commands (vanthuctl.c lists them with the others). */
int cli_build_delivery(int argc, char **argv, struct call *c) { return build_delivery(argc, argv, c); }
void cli_show_delivery(json_t *r) { show_delivery(r); }
int cli_build_recall(int argc, char **argv, struct call *c) { return build_recall(argc, argv, c); }
int cli_build_incoming(int argc, char **argv, struct call *c) { return build_incoming(argc, argv, c); }
void cli_show_incoming_list(json_t *r) { show_incoming_list(r); }
int cli_build_assign(int argc, char **argv, struct call *c) { return build_assign(argc, argv, c); }
int cli_build_progress(int argc, char **argv, struct call *c) { return build_progress(argc, argv, c); }
int cli_build_extend(int argc, char **argv, struct call *c) { return build_extend(argc, argv, c); }
int cli_build_followup(int argc, char **argv, struct call *c) { return build_followup(argc, argv, c); }
void cli_show_followup(json_t *r) { show_followup(r); }
