/*
 * cli_round.c: vanthuctl's reporting rounds: round (new, close, one round),
 * rounds, meeting, and calendar (working days).
 */
#include "cli_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void show_round_opened(json_t *r)
{
	printf("Đã mở đợt báo cáo %s.\n", cli_jstr(r, "id"));
}

void cli_show_meeting(json_t *r)
{
	printf("Đã tạo dự thảo thông báo kết luận số %lld.\n", (long long)cli_jint(r, "document"));
}

static void show_round_closed(json_t *r)
{
	printf("Đã đóng đợt báo cáo %s", cli_jstr(r, "id"));
	if (cli_jint(r, "document"))
		printf("; dự thảo kết luận là văn bản số %lld", (long long)cli_jint(r, "document"));
	printf(".\n");
}

void cli_show_rounds(json_t *r)
{
	json_t *list = json_object_get(r, "rounds"), *e;
	size_t i;

	if (json_array_size(list) == 0) {
		if (cli_jint(r, "closed") > 0)
			printf("Không có đợt báo cáo nào đang mở; %lld đợt đã đóng (xem: vanthuctl rounds "
			    "--all).\n", (long long)cli_jint(r, "closed"));
		else
			printf("Không có đợt báo cáo nào.\n");
		return;
	}
	static const char *const heads[] = { "Mã đợt", "Hạn báo cáo", "Đơn vị", "Trạng thái",
		"Nội dung" };
	struct table *t = table_new(5, heads);
	json_array_foreach(list, i, e) {
		char day[32], n[16];
		cli_vn_date(cli_jstr(e, "deadline"), day, sizeof(day));
		snprintf(n, sizeof(n), "%lld", (long long)cli_jint(e, "units"));
		const char *row[] = { cli_jstr(e, "id"), day, n, strcmp(cli_jstr(e, "state"), "open") == 0 ?
		    "đang mở" : "đã đóng", cli_jstr(e, "subject") };
		if (t)
			table_add(t, row);
	}
	cli_print_table(t);
}

void cli_show_round(json_t *r)
{
	json_t *units = json_object_get(r, "units"), *u;
	char buf[512], day[32];
	size_t i;

	cli_print_field("Đợt báo cáo", cli_jstr(r, "id"));
	cli_print_field("Nội dung", cli_jstr(r, "subject"));
	cli_vn_date(cli_jstr(r, "req_date"), day, sizeof(day));
	snprintf(buf, sizeof(buf), "Công văn số %s/%s ngày %s", cli_jstr(r, "req_number"),
	    cli_jstr(r, "req_symbol"), day);
	cli_print_field("Văn bản yêu cầu", buf);
	cli_vn_date(cli_jstr(r, "deadline"), day, sizeof(day));
	cli_print_field("Hạn báo cáo", day);
	if (*cli_jstr(r, "remind_on")) {
		cli_vn_date(cli_jstr(r, "remind_on"), day, sizeof(day));
		snprintf(buf, sizeof(buf), "%s%s", day, *cli_jstr(r, "reminded_at") ? " (đã đôn đốc)" : "");
		cli_print_field("Ngày đôn đốc", buf);
	}
	cli_print_field("Trạng thái", strcmp(cli_jstr(r, "state"), "open") == 0 ? "đang mở" : "đã đóng");
	snprintf(buf, sizeof(buf), "%lld đúng hạn, %lld muộn, %lld chưa báo cáo",
	    (long long)cli_jint(r, "on_time"), (long long)cli_jint(r, "late"), (long long)cli_jint(r, "missing"));
	if (cli_jint(r, "after_close") > 0)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ", %lld gửi sau khi đóng đợt",
		    (long long)cli_jint(r, "after_close"));
	cli_print_field(json_is_object(json_object_get(r, "closed_counts")) ? "Kết quả hiện nay" :
	    "Kết quả", buf);
	json_t *cc = json_object_get(r, "closed_counts");
	if (json_is_object(cc)) {
		/* what the conclusion says, which later reports do not change */
		int n = snprintf(buf, sizeof(buf), "%lld đúng hạn, %lld muộn, %lld chưa báo cáo (số "
		    "liệu của kết luận", (long long)cli_jint(cc, "on_time"), (long long)cli_jint(cc, "late"),
		    (long long)cli_jint(cc, "missing"));
		if (n > 0 && (size_t)n < sizeof(buf))
			snprintf(buf + n, sizeof(buf) - (size_t)n, cli_jint(r, "conclusion_doc") ?
			    ", văn bản số %lld)" : ")", (long long)cli_jint(r, "conclusion_doc"));
		cli_print_field("Khi đóng đợt", buf);
	}
	printf("\n");
	static const char *const heads[] = { "Mã", "Đơn vị", "Tình trạng", "Ngày báo cáo" };
	struct table *t = table_new(4, heads);
	json_array_foreach(units, i, u) {
		snprintf(buf, sizeof(buf), "%s%s", cli_jstr(u, "status_label"),
		    json_is_true(json_object_get(u, "corrected")) ? "*" : "");
		cli_vn_date(cli_jstr(u, "reported_on"), day, sizeof(day));
		const char *row[] = { cli_jstr(u, "unit_code"), cli_jstr(u, "name"), buf, day };
		if (t)
			table_add(t, row);
	}
	cli_print_table(t);
	int corrected = 0;
	json_array_foreach(units, i, u)
		corrected |= json_is_true(json_object_get(u, "corrected"));
	if (corrected)
		printf("(* đã gửi báo cáo thay thế)\n");
}

void cli_show_calendar(json_t *r)
{
	json_t *days = json_object_get(r, "days"), *d;
	char day[32];
	size_t i;
	int warned = 0;

	json_array_foreach(days, i, d) {
		cli_vn_date(cli_jstr(d, "date"), day, sizeof(day));
		if (json_is_true(json_object_get(d, "working")))
			printf("  %s  ngày làm việc thứ %lld\n", day, (long long)cli_jint(d, "count"));
		else
			printf("  %s  nghỉ: %s\n", day, cli_jstr(d, "reason"));
		if (!json_is_true(json_object_get(d, "calendar")) && !warned++)
			printf("  (chưa có lịch nghỉ lễ cho năm của ngày này: chỉ tính Thứ Bảy, Chủ nhật)\n");
	}
	cli_vn_date(cli_jstr(r, "result"), day, sizeof(day));
	char from[32];
	cli_vn_date(cli_jstr(r, "from"), from, sizeof(from));
	printf("%lld ngày làm việc kể từ %s: %s\n", (long long)cli_jint(r, "n"), from, day);
}

int cli_build_round(int argc, char **argv, struct call *c)
{
	if (argc >= 3 && strcmp(argv[1], "new") == 0) {
		const char *file = NULL;
		c->request = "round.new";
		c->show = show_round_opened;
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--force") == 0)
				json_object_set_new(c->args, "force", json_true());
			else if (strcmp(argv[i], "--today") == 0)
				json_object_set_new(c->args, "today", json_true());
			else if (file == NULL && argv[i][0] != '-')
				file = argv[i];
			else
				return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
		}
		if (file == NULL)
			return cli_usage_error("%s", "cách dùng: vanthuctl round new TỆP [--today] [--force]");
		return cli_file_arg(file, c->args);
	}
	if (argc == 3 && strcmp(argv[1], "close") == 0) {
		c->request = "round.close";
		c->show = show_round_closed;
		json_object_set_new(c->args, "id", json_string(argv[2]));
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "new") != 0 && strcmp(argv[1], "close") != 0) {
		json_object_set_new(c->args, "id", json_string(argv[1]));
		return 0;
	}
	return cli_usage_error("%s", "cách dùng: vanthuctl round ID | round new TỆP [--today] [--force] | "
	    "round close ID");
}

int cli_build_rounds(int argc, char **argv, struct call *c)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all") != 0)
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
		json_object_set_new(c->args, "all", json_true());
	}
	return 0;
}

int cli_build_meeting(int argc, char **argv, struct call *c)
{
	if (argc != 2)
		return cli_usage_error("%s", "cách dùng: vanthuctl meeting TỆP");
	c->request = "round.meeting";
	return cli_file_arg(argv[1], c->args);
}

int cli_build_calendar(int argc, char **argv, struct call *c)
{
	char *end;
	long n;

	if (argc != 4 || strcmp(argv[1], "explain") != 0)
		return cli_usage_error("%s", "cách dùng: vanthuctl calendar explain YYYY-MM-DD N");
	errno = 0;
	n = strtol(argv[3], &end, 10);
	if (errno || *end || end == argv[3] || n < -250 || n > 250)
		return cli_usage_error("số ngày làm việc không hợp lệ: %s", argv[3]);
	c->request = "calendar.explain";
	json_object_set_new(c->args, "date", json_string(argv[2]));
	json_object_set_new(c->args, "n", json_integer(n));
	return 0;
}
