/*
 * cli_doc.c: vanthuctl's document commands: new, edit (and --export), act
 * and its shorthands, list, show, history, overdue, the register (table and
 * CSV), register --start, void and render (the DOCX fetched in pieces).
 */
#include "cli_priv.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_show_created(json_t *r)
{
	printf("Đã tạo dự thảo số %lld (%s).\n", (long long)cli_jint(r, "id"), cli_jstr(r, "kind"));
}

void cli_show_edited(json_t *r)
{
	printf("Đã lưu bản thứ %lld của văn bản số %lld.\n", (long long)cli_jint(r, "revision"),
	    (long long)cli_jint(r, "id"));
}

void cli_show_acted(json_t *r)
{
	printf("Văn bản số %lld: %s — xong.", (long long)cli_jint(r, "id"), cli_jstr(r, "label"));
	if (*cli_jstr(r, "symbol"))
		printf(" Số, ký hiệu: %s.", cli_jstr(r, "symbol"));
	printf("\n");
}

void cli_show_list(json_t *r)
{
	json_t *list = json_object_get(r, "documents"), *e;
	size_t i;

	if (json_array_size(list) == 0) {
		printf("Không có văn bản nào.\n");
		return;
	}
	static const char *const heads[] = { "Số", "Loại", "Trạng thái", "Số, ký hiệu",
		"Người soạn", "Trích yếu" };
	struct table *t = table_new(6, heads);
	json_array_foreach(list, i, e) {
		char id[24];
		snprintf(id, sizeof(id), "%lld", (long long)cli_jint(e, "id"));
		const char *row[] = { id, *cli_jstr(e, "kind_label") ? cli_jstr(e, "kind_label") :
		    cli_jstr(e, "kind"), *cli_jstr(e, "state_label") ? cli_jstr(e, "state_label") : cli_jstr(e, "state"),
		    *cli_jstr(e, "symbol") ? cli_jstr(e, "symbol") : "—", cli_jstr(e, "drafter"),
		    cli_jstr(e, "summary") };
		if (t)
			table_add(t, row);
	}
	cli_print_table(t);
}

void cli_show_doc(json_t *r)
{
	json_t *actions = json_object_get(r, "actions"), *a;
	char buf[512], when[32];
	size_t i;

	snprintf(buf, sizeof(buf), "%lld", (long long)cli_jint(r, "id"));
	cli_print_field("Văn bản số", buf);
	cli_print_field("Loại", cli_jstr(r, "kind_label"));
	if (*cli_jstr(r, "issuer_name")) {
		snprintf(buf, sizeof(buf), "%s (%s)", cli_jstr(r, "issuer_name"), cli_jstr(r, "issuer_abbrev"));
		cli_print_field("Cơ quan ban hành", buf);
	}
	cli_print_field("Trích yếu", cli_jstr(r, "summary"));
	cli_local_time(cli_jstr(r, "state_since"), when, sizeof(when));
	snprintf(buf, sizeof(buf), "%s (từ %s)%s", cli_jstr(r, "state_label"), when,
	    json_is_true(json_object_get(r, "overdue")) ? " — QUÁ HẠN" : "");
	cli_print_field("Trạng thái", buf);
	if (*cli_jstr(r, "symbol")) {
		char day[32];
		cli_vn_date(cli_jstr(r, "issued_on"), day, sizeof(day));
		snprintf(buf, sizeof(buf), "%s, ngày %s", cli_jstr(r, "symbol"), day);
		cli_print_field("Số, ký hiệu", buf);
	}
	if (*cli_jstr(r, "voided_at")) {
		cli_local_time(cli_jstr(r, "voided_at"), when, sizeof(when));
		snprintf(buf, sizeof(buf), "ĐÃ HỦY SỐ — %s (%s, %s)", cli_jstr(r, "void_reason"),
		    cli_jstr(r, "voided_by"), when);
		cli_print_field("Ghi chú", buf);
	}
	snprintf(buf, sizeof(buf), "%s; sửa lần cuối: %s (bản %lld)", cli_jstr(r, "drafter"),
	    cli_jstr(r, "editor"), (long long)cli_jint(r, "revision"));
	cli_print_field("Người soạn", buf);
	/* the login who may sign: the name alone does not say whom to cli_ask */
	if (*cli_jstr(r, "signer_login"))
		snprintf(buf, sizeof(buf), "%s (tài khoản ký: %s)", cli_jstr(r, "signer_name"),
		    cli_jstr(r, "signer_login"));
	else
		snprintf(buf, sizeof(buf), "%s (mọi lãnh đạo có vai trò ký)", cli_jstr(r, "signer_name"));
	cli_print_field("Người ký", buf);
	cli_print_field("Nơi nhận", cli_jstr(r, "recipients"));
	/* the electronic original (Nghị định 30/2020, Điều 5): none, half made, or issued */
	json_t *el = json_object_get(r, "electronic"), *sg;
	const char *es = cli_jstr(el, "state");
	if (strcmp(es, "issued") == 0)
		snprintf(buf, sizeof(buf), "%s (SHA-256 %.16s…)", cli_jstr(el, "pdf_path"),
		    cli_jstr(el, "pdf_sha256"));
	else if (strcmp(es, "signed") == 0)
		snprintf(buf, sizeof(buf), "lãnh đạo đã ký số; văn thư cấp số thì cơ quan ký số");
	else if (strcmp(es, "sealing") == 0)
		snprintf(buf, sizeof(buf), "đã cấp số; bản PDF có chữ ký số của cơ quan đang chờ ghi");
	else
		snprintf(buf, sizeof(buf), "không có%s", json_is_true(json_object_get(el,
		    "signing_configured")) ? " (văn bản không được ký số)" :
		    " (vanthud chưa cấu hình ký số)");
	if (el != NULL)
		cli_print_field("Bản gốc điện tử", buf);
	json_array_foreach(json_object_get(el, "signatures"), i, sg) {
		snprintf(buf, sizeof(buf), "%s: %s, %s", strcmp(cli_jstr(sg, "role"), "leader") == 0 ?
		    "lãnh đạo" : "cơ quan", cli_jstr(sg, "subject"), cli_jstr(sg, "signed_at"));
		cli_print_field("Chữ ký số", buf);
	}
	json_array_foreach(json_object_get(el, "copies"), i, sg) {
		snprintf(buf, sizeof(buf), "%s (%s), %s", cli_jstr(sg, "symbol"), cli_jstr(sg, "form"),
		    cli_jstr(sg, "made_by"));
		cli_print_field("Bản sao điện tử", buf);
	}
	/* the exchange with other offices, once issued */
	json_t *xj = json_object_get(r, "exchange");
	if (xj != NULL && strcmp(cli_jstr(r, "state"), "issued") == 0) {
		if (!json_is_true(json_object_get(xj, "configured")) && cli_jint(xj, "by_exchange") == 0)
			snprintf(buf, sizeof(buf), "không gửi qua trục (vanthud chưa cấu hình liên thông)");
		else
			snprintf(buf, sizeof(buf), "%lld nơi nhận qua trục (%lld đã đến), %lld bản giấy; "
			    "xem: vanthuctl delivery %lld", (long long)cli_jint(xj, "by_exchange"),
			    (long long)cli_jint(xj, "arrived"), (long long)cli_jint(xj, "paper"),
			    (long long)cli_jint(r, "id"));
		cli_print_field("Liên thông", buf);
	}
	buf[0] = '\0';
	json_array_foreach(actions, i, a) {
		size_t off = strlen(buf);
		snprintf(buf + off, sizeof(buf) - off, "%s%s (%s)", i ? ", " : "", cli_jstr(a, "action"),
		    cli_jstr(a, "label"));
	}
	cli_print_field("Bạn có thể", buf[0] ? buf : "không có thao tác nào");
}

void cli_show_history(json_t *r)
{
	json_t *list = json_object_get(r, "history"), *e;
	size_t i;

	static const char *const heads[] = { "Thời điểm", "Người làm", "Thao tác", "Chi tiết" };
	struct table *t = table_new(4, heads);

	printf("Lịch sử văn bản số %lld:\n", (long long)cli_jint(r, "id"));
	json_array_foreach(list, i, e) {
		json_t *d = json_object_get(e, "detail");
		char when[32], what[4096];
		cli_local_time(cli_jstr(e, "at"), when, sizeof(when));
		if (*cli_jstr(d, "path")) {
			snprintf(what, sizeof(what), "tệp %s (SHA-256 %.16s…)", cli_jstr(d, "path"),
			    cli_jstr(d, "sha256"));
		} else {
			int n = snprintf(what, sizeof(what), "%s → %s", *cli_jstr(d, "from_label") ?
			    cli_jstr(d, "from_label") : "(mới tạo)", *cli_jstr(d, "to_label") ? cli_jstr(d, "to_label") :
			    cli_jstr(d, "to"));
			if (n > 0 && (size_t)n < sizeof(what) && *cli_jstr(d, "symbol"))
				n += snprintf(what + n, sizeof(what) - (size_t)n, ", số %s", cli_jstr(d, "symbol"));
			if (n > 0 && (size_t)n < sizeof(what) && *cli_jstr(d, "comment"))
				snprintf(what + n, sizeof(what) - (size_t)n, " «%s»", cli_jstr(d, "comment"));
		}
		const char *row[] = { when, cli_jstr(e, "actor"), *cli_jstr(e, "action_label") ?
		    cli_jstr(e, "action_label") : cli_action_label(cli_jstr(e, "action")), what };
		if (t)
			table_add(t, row);
	}
	cli_print_table(t);
}

void cli_show_overdue(json_t *r)
{
	json_t *list = json_object_get(r, "documents"), *e;
	size_t i;

	if (json_array_size(list) == 0) {
		printf("Không có văn bản nào quá hạn.\n");
		return;
	}
	json_array_foreach(list, i, e)
		printf("Văn bản số %lld (%s) — %s quá %lld ngày làm việc (hạn %lld ngày làm việc): %s\n",
		    (long long)cli_jint(e, "id"), cli_jstr(e, "kind_label"), cli_jstr(e, "state_label"),
		    (long long)cli_jint(e, "days_over"), (long long)cli_jint(e, "limit_days"), cli_jstr(e, "summary"));
}

/* The register in its legal column order (Nghị định 30/2020, Phụ lục IV). */
#define REGISTER_COLUMNS 8

#define REGISTER_CELL 16384

static const char *const register_head[REGISTER_COLUMNS] = { "Số, ký hiệu văn bản",
	"Ngày tháng văn bản", "Tên loại và trích yếu nội dung", "Người ký", "Nơi nhận văn bản",
	"Đơn vị, người nhận bản lưu", "Số lượng bản", "Ghi chú" };

/* How many items a list has, sep between them ("; " for recipients, "," for filed copies). */
static size_t count_items(const char *s, const char *sep)
{
	size_t n = 0;

	for (const char *p = s; p && *p; n++) {
		p = strstr(p, sep);
		if (p)
			p += strlen(sep);
	}
	return n;
}

/*
 * An entry's cells. Số lượng bản: one copy for each recipient (Kính gửi and
 * Nơi nhận, each once) and one for each filed copy (Lưu: VT, CBTH is two).
 */
static void register_cells(json_t *e, char (*cells)[REGISTER_CELL])
{
	char day[32];

	cli_vn_date(cli_jstr(e, "issued_on"), day, sizeof(day));
	snprintf(cells[0], REGISTER_CELL, "%s", cli_jstr(e, "symbol"));
	snprintf(cells[1], REGISTER_CELL, "%s", day);
	snprintf(cells[2], REGISTER_CELL, "%s: %s", cli_jstr(e, "kind"), cli_jstr(e, "summary"));
	snprintf(cells[3], REGISTER_CELL, "%s", cli_jstr(e, "signer_name"));
	snprintf(cells[4], REGISTER_CELL, "%s", cli_jstr(e, "recipients"));
	snprintf(cells[5], REGISTER_CELL, "%s", cli_jstr(e, "archive"));
	snprintf(cells[6], REGISTER_CELL, "%zu", count_items(cli_jstr(e, "recipients"), "; ") +
	    count_items(cli_jstr(e, "archive"), ","));
	if (*cli_jstr(e, "voided_at"))
		snprintf(cells[7], REGISTER_CELL, "ĐÃ HỦY: %s (%s)", cli_jstr(e, "void_reason"),
		    cli_jstr(e, "voided_by"));
	else
		cells[7][0] = '\0';
}


/*
 * register --csv: the same columns, for a spreadsheet, after a UTF-8 byte
 * order mark so that Excel on Windows reads the Vietnamese as UTF-8
 * (--no-bom leaves it out, for programs that do not want it).
 */
static void show_register_csv_as(json_t *r, int bom)
{
	json_t *list = json_object_get(r, "entries"), *e;
	char (*cells)[REGISTER_CELL] = malloc(REGISTER_COLUMNS * sizeof(*cells));
	size_t i;

	if (cells == NULL)
		return;
	if (bom)
		fputs("\xEF\xBB\xBF", stdout);
	for (int k = 0; k < REGISTER_COLUMNS; k++)
		cli_csv_cell(register_head[k], k == REGISTER_COLUMNS - 1);
	json_array_foreach(list, i, e) {
		register_cells(e, cells);
		for (int k = 0; k < REGISTER_COLUMNS; k++)
			cli_csv_cell(cells[k], k == REGISTER_COLUMNS - 1);
	}
	free(cells);
}

static void show_register_csv(json_t *r)
{
	show_register_csv_as(r, 1);
}

static void show_register_csv_plain(json_t *r)
{
	show_register_csv_as(r, 0);
}

void cli_show_register(json_t *r)
{
	json_t *list = json_object_get(r, "entries"), *e;
	char (*cells)[REGISTER_CELL] = malloc(REGISTER_COLUMNS * sizeof(*cells));
	const char *type = "";
	size_t i;

	if (cells == NULL)
		return;
	if (strcmp(cli_jstr(r, "body_kind"), "party") == 0)
		printf("SỔ ĐĂNG KÝ VĂN BẢN ĐI — %s (%s) — nhiệm kỳ %s%s%s\n", cli_jstr(r, "organisation"),
		    cli_jstr(r, "body"), cli_jstr(r, "term"), *cli_jstr(r, "type") ? " — loại " : "", cli_jstr(r, "type"));
	else
		printf("SỔ ĐĂNG KÝ VĂN BẢN ĐI — %s — năm %lld\n", cli_jstr(r, "organisation"),
		    (long long)cli_jint(r, "year"));
	if (cli_jint(r, "start") > 0)
		printf("Tiếp nối sổ giấy: số đầu tiên cấp trong vanthu là %lld.\n",
		    (long long)cli_jint(r, "start"));
	if (json_array_size(list) == 0) {
		if (cli_jint(r, "next") > 1)
			printf("(chưa có văn bản nào; văn bản đầu tiên sẽ mang số %lld)\n",
			    (long long)cli_jint(r, "next"));
		else
			printf("(chưa có văn bản nào)\n");
		free(cells);
		return;
	}
	json_array_foreach(list, i, e) {
		/* a Party register runs one series per type: each starts under its own heading */
		if (*cli_jstr(e, "term") && strcmp(cli_jstr(e, "type"), type) != 0) {
			type = cli_jstr(e, "type");
			printf("\n== %s (%s) ==\n", cli_jstr(e, "kind"), type);
		}
		register_cells(e, cells);
		printf("\n");
		for (int k = 0; k < REGISTER_COLUMNS; k++)
			if (cells[k][0])
				table_print_field(stdout, register_head[k], cells[k], 29, cli_term_width());
	}
	free(cells);
}

void cli_show_voided(json_t *r)
{
	if (*cli_jstr(r, "type"))
		printf("Đã hủy số %lld loại %s nhiệm kỳ %s của %s; số vẫn nằm trong sổ, có ghi chú lý "
		    "do.\n", (long long)cli_jint(r, "number"), cli_jstr(r, "type"), cli_jstr(r, "term"),
		    cli_jstr(r, "body"));
	else
		printf("Đã hủy số %lld năm %lld; số vẫn nằm trong sổ, có ghi chú lý do.\n",
		    (long long)cli_jint(r, "number"), (long long)cli_jint(r, "year"));
}

/*
 * render: the DOCX. Without -o (path NULL) it is named as the daemon says:
 * the issued file's own name, a draft's "du-thao-6.docx".
 */
int cli_fetch_docx(int fd, json_int_t id, const char *path, int json_out, int timeout_ms)
{
	char fallback[64], final[PATH_MAX];
	json_t *meta = NULL;
	json_int_t total;
	int rc;

	snprintf(fallback, sizeof(fallback), "van-ban-%lld.docx", (long long)id);
	rc = cli_fetch_to_file(fd, "render", id, NULL, path, fallback, json_out, timeout_ms, &meta, &total,
	    final, sizeof(final));
	if (rc == EXIT_OK) {
		int voided = json_is_true(json_object_get(meta, "voided"));
		if (json_out)
			cli_print_json(json_pack("{s:b, s:{s:I, s:s, s:I, s:s, s:b, s:s?}}", "ok", 1, "result",
			    "id", id, "path", final, "bytes", total, "sha256", cli_jstr(meta, "sha256"),
			    "voided", voided, "void_reason", voided ? cli_jstr(meta, "void_reason") : NULL));
		else
			printf("Đã ghi %s (%lld byte, SHA-256 %s).\n", final, (long long)total,
			    cli_jstr(meta, "sha256"));
		if (voided && !json_out)
			printf("Lưu ý: số của văn bản này ĐÃ BỊ HỦY (%s); tệp là bản đã ban hành, không "
			    "còn giá trị.\n", cli_jstr(meta, "void_reason"));
	}
	json_decref(meta);
	return rc;
}

int cli_build_render(int argc, char **argv, struct call *c)
{
	json_int_t id;

	if (argc < 2 || cli_parse_positive(argv[1], &id) != 0)
		return cli_usage_error("%s", "cách dùng: vanthuctl render ID [-o TỆP]");
	json_object_set_new(c->args, "id", json_integer(id));
	c->kind = CALL_FETCH_DOCX;
	c->out = NULL;  /* the daemon names it */
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			c->out = argv[++i];
		else
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
	}
	return 0;
}

int cli_build_new(int argc, char **argv, struct call *c)
{
	json_int_t answers;
	int rc;

	if (argc < 3 || argc % 2 == 0)
		return cli_usage_error("%s", "cách dùng: vanthuctl new LOẠI TỆP [--answers VĂN-BẢN-ĐẾN] "
		    "[--report BÁO-CÁO.xml]");
	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--answers") == 0 && cli_parse_positive(argv[i + 1], &answers) == 0) {
			json_object_set_new(c->args, "answers", json_integer(answers));
		} else if (strcmp(argv[i], "--report") == 0) {
			/* a unit's report for a round, sent with the document through the exchange */
			json_t *tmp = json_object();
			if (tmp == NULL || (rc = cli_file_arg(argv[i + 1], tmp)) != 0) {
				json_decref(tmp);
				return tmp ? rc : EXIT_USAGE;
			}
			const char *base = strrchr(argv[i + 1], '/');
			json_object_set(c->args, "report", json_object_get(tmp, "content"));
			json_object_set_new(c->args, "report_name", json_string(base ? base + 1 : argv[i + 1]));
			json_decref(tmp);
		} else {
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
		}
	}
	json_object_set_new(c->args, "kind", json_string(argv[1]));
	if ((rc = cli_file_arg(argv[2], c->args)) != 0)
		return rc;
	size_t total = strlen(cli_jstr(c->args, "content")) + strlen(cli_jstr(c->args, "report"));
	if (total > 61000)
		return cli_usage_error("%s", "văn bản và báo cáo đính kèm cùng lớn quá một yêu cầu (khoảng "
		    "45 000 byte cả hai)");
	return 0;
}

/* edit ID FILE, or edit ID --export FILE (FILE "-": standard output). */
int cli_build_edit(int argc, char **argv, struct call *c)
{
	json_int_t id;

	if ((argc != 3 && !(argc == 4 && strcmp(argv[2], "--export") == 0)) ||
	    cli_parse_positive(argv[1], &id) != 0)
		return cli_usage_error("%s", "cách dùng: vanthuctl edit ID TỆP | vanthuctl edit ID --export "
		    "TỆP");
	json_object_set_new(c->args, "id", json_integer(id));
	if (argc == 4) {
		c->kind = CALL_FETCH_INPUT;
		c->out = argv[3];
		return 0;
	}
	return cli_file_arg(argv[2], c->args);
}

/*
 * edit --export: the document's current input as it is stored, to path
 * ("-": standard output); then "vanthuctl edit ID path" sends the changed
 * file back as the next revision.
 */
int cli_fetch_input(int fd, json_int_t id, const char *path, int json_out, int timeout_ms)
{
	char final[PATH_MAX];
	json_t *meta = NULL;
	json_int_t total;
	int rc;

	if (strcmp(path, "-") == 0) {
		meta = json_object();
		rc = meta ? cli_fetch_chunks(fd, "doc.content", id, NULL, stdout, meta, &total, json_out,
		    timeout_ms) : EXIT_REFUSED;
		json_decref(meta);
		return rc;
	}
	rc = cli_fetch_to_file(fd, "doc.content", id, NULL, path, NULL, json_out, timeout_ms, &meta, &total,
	    final, sizeof(final));
	if (rc == EXIT_OK && json_out)
		cli_print_json(json_pack("{s:b, s:{s:I, s:s, s:I, s:s}}", "ok", 1, "result", "id", id,
		    "path", final, "bytes", total, "sha256", cli_jstr(meta, "sha256")));
	else if (rc == EXIT_OK)
		printf("Đã ghi nội dung hiện tại của văn bản số %lld vào %s (%lld byte). Sửa tệp rồi gửi "
		    "lại: vanthuctl edit %lld %s\n", (long long)id, final, (long long)total,
		    (long long)id, final);
	json_decref(meta);
	return rc;
}

/* act ID ACTION [-m C], or the short forms: ACTION ID [-m C]. */
int cli_build_act(int argc, char **argv, struct call *c)
{
	int short_form = strcmp(argv[0], "act") != 0;
	int need = short_form ? 2 : 3;
	json_int_t id;

	if (argc < need || cli_parse_positive(argv[1], &id) != 0)
		return cli_usage_error(short_form ? "cách dùng: vanthuctl %s ID [-m Ý-KIẾN]" :
		    "cách dùng: vanthuctl %s ID THAO-TÁC [-m Ý-KIẾN]", argv[0]);
	json_object_set_new(c->args, "id", json_integer(id));
	json_object_set_new(c->args, "action", json_string(short_form ? argv[0] : argv[2]));
	c->request = "act";
	for (int i = need; i < argc; i++) {
		const char **slot = NULL;
		if (strcmp(argv[i], "-m") == 0 && i + 1 < argc) {
			json_object_set_new(c->args, "comment", json_string(argv[++i]));
			continue;
		}
		/* the leader's own token: `sign` becomes a digital signature, of one or more */
		json_int_t more;
		if (short_form && strcmp(argv[0], "sign") == 0 && cli_parse_positive(argv[i], &more) == 0) {
			json_t *ids = json_object_get(c->args, "more_ids");
			if (ids == NULL) {
				ids = json_array();
				json_object_set_new(c->args, "more_ids", ids);
			}
			json_array_append_new(ids, json_integer(more));
			continue;
		}
		if (short_form && strcmp(argv[0], "sign") == 0) {
			if (strcmp(argv[i], "--pkcs11") == 0)
				slot = &c->token.module;
			else if (strcmp(argv[i], "--token") == 0)
				slot = &c->token.token;
			else if (strcmp(argv[i], "--key") == 0)
				slot = &c->token.key_label;
			else if (strcmp(argv[i], "--key-id") == 0)
				slot = &c->token.key_id;
			else if (strcmp(argv[i], "--pin-file") == 0)
				slot = &c->pin_file;
		}
		if (slot == NULL || i + 1 >= argc)
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
		*slot = argv[++i];
	}
	if (c->token.module == NULL && (c->token.token || c->token.key_label || c->token.key_id ||
	        c->pin_file))
		return cli_usage_error("%s", "--token, --key, --key-id và --pin-file đi cùng --pkcs11 "
		    "THƯ-VIỆN (thư viện PKCS#11 của thiết bị ký số)");
	if (c->token.module != NULL)
		c->kind = CALL_SIGN;
	else if (json_object_get(c->args, "more_ids"))
		return cli_usage_error("%s", "ký nhiều văn bản một lần chỉ với --pkcs11 (ký số): "
		    "vanthuctl sign ID ID... --pkcs11 THƯ-VIỆN");
	return 0;
}

int cli_build_list(int argc, char **argv, struct call *c)
{
	for (int i = 1; i < argc; i++) {
		json_int_t v;
		if (strcmp(argv[i], "--mine") == 0) {
			json_object_set_new(c->args, "mine", json_true());
		} else if ((strcmp(argv[i], "--state") == 0 || strcmp(argv[i], "--kind") == 0) &&
		    i + 1 < argc) {
			json_object_set_new(c->args, argv[i] + 2, json_string(argv[i + 1]));
			i++;
		} else if ((strcmp(argv[i], "--limit") == 0 || strcmp(argv[i], "--before") == 0) &&
		    i + 1 < argc) {
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

int cli_build_id(int argc, char **argv, struct call *c)
{
	json_int_t id;

	if (argc != 2 || cli_parse_positive(argv[1], &id) != 0)
		return cli_usage_error("cách dùng: vanthuctl %s ID", argv[0]);
	json_object_set_new(c->args, "id", json_integer(id));
	return 0;
}

/* --body, --year, --term, --type: which register series (shared by register and void).
 * 1: argv[*i] was one (and its value taken), 0: it was not, -1: a bad value (said). */
static int series_option(int argc, char **argv, int *i, struct call *c)
{
	static const char *const keys[] = { "--body", "--term", "--type" };
	json_int_t v;

	if (*i + 1 >= argc)
		return 0;
	if (strcmp(argv[*i], "--year") == 0) {
		if (cli_parse_positive(argv[*i + 1], &v) != 0) {
			cli_usage_error("năm không hợp lệ: %s", argv[*i + 1]);
			return -1;
		}
		json_object_set_new(c->args, "year", json_integer(v));
		(*i)++;
		return 1;
	}
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if (strcmp(argv[*i], keys[k]) == 0) {
			json_object_set_new(c->args, keys[k] + 2, json_string(argv[*i + 1]));
			(*i)++;
			return 1;
		}
	}
	return 0;
}

static void show_register_started(json_t *r)
{
	if (*cli_jstr(r, "type"))
		printf("Sổ loại %s nhiệm kỳ %s của %s tiếp nối sổ giấy: văn bản đầu tiên cấp số trong "
		    "vanthu sẽ mang số %lld.\n", cli_jstr(r, "type"), cli_jstr(r, "term"), cli_jstr(r, "body"),
		    (long long)cli_jint(r, "next"));
	else
		printf("Sổ năm %lld của %s tiếp nối sổ giấy: văn bản đầu tiên cấp số trong vanthu sẽ "
		    "mang số %lld.\n", (long long)cli_jint(r, "year"), cli_jstr(r, "body"),
		    (long long)cli_jint(r, "next"));
}

/* register start --next N (--year Y | --type T [--term T]) [--body B] -m REASON */
static int build_register_start(int argc, char **argv, struct call *c)
{
	json_int_t v;

	c->request = "register.start";
	c->show = show_register_started;
	for (int i = 2; i < argc; i++) {
		int rc;
		if (strcmp(argv[i], "-m") == 0 && i + 1 < argc) {
			json_object_set_new(c->args, "reason", json_string(argv[++i]));
		} else if (strcmp(argv[i], "--next") == 0 && i + 1 < argc) {
			if (cli_parse_positive(argv[++i], &v) != 0)
				return cli_usage_error("số bắt đầu không hợp lệ: %s", argv[i]);
			json_object_set_new(c->args, "next", json_integer(v));
		} else if ((rc = series_option(argc, argv, &i, c)) < 0) {
			return EXIT_USAGE;
		} else if (rc == 0) {
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
		}
	}
	if (!json_object_get(c->args, "next") || !json_object_get(c->args, "reason") ||
	    !(json_object_get(c->args, "year") || json_object_get(c->args, "type")))
		return cli_usage_error("%s", "cách dùng: vanthuctl register start --next SỐ (--year NĂM | "
		    "[--body CQ] --type LOẠI [--term NHIỆM-KỲ]) -m LÝ-DO");
	return 0;
}

int cli_build_register(int argc, char **argv, struct call *c)
{
	if (argc > 1 && strcmp(argv[1], "start") == 0)
		return build_register_start(argc, argv, c);
	for (int i = 1; i < argc; i++) {
		int rc;
		if (strcmp(argv[i], "--csv") == 0)
			c->show = c->show == show_register_csv_plain ? c->show : show_register_csv;
		else if (strcmp(argv[i], "--no-bom") == 0)
			c->show = show_register_csv_plain;
		else if ((rc = series_option(argc, argv, &i, c)) < 0)
			return EXIT_USAGE;
		else if (rc == 0)
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
	}
	return 0;
}

int cli_build_void(int argc, char **argv, struct call *c)
{
	json_int_t v;

	if (argc < 2 || cli_parse_positive(argv[1], &v) != 0)
		return cli_usage_error("%s", "cách dùng: vanthuctl void SỐ (--year NĂM | [--body CQ] --type "
		    "LOẠI [--term NHIỆM-KỲ]) -m LÝ-DO");
	json_object_set_new(c->args, "number", json_integer(v));
	for (int i = 2; i < argc; i++) {
		int rc;
		if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
			json_object_set_new(c->args, "reason", json_string(argv[++i]));
		else if ((rc = series_option(argc, argv, &i, c)) < 0)
			return EXIT_USAGE;
		else if (rc == 0)
			return cli_usage_error("tham số không hợp lệ: %s", argv[i]);
	}
	if (!(json_object_get(c->args, "year") || json_object_get(c->args, "type")))
		return cli_usage_error("%s", "cần --year NĂM (sổ của cơ quan nhà nước) hoặc --type LOẠI "
		    "(sổ của cấp ủy Đảng): số nào, của sổ nào");
	if (!json_object_get(c->args, "reason"))
		return cli_usage_error("hủy số %lld phải ghi rõ lý do: -m \"LÝ DO\" (lý do được ghi vào sổ "
		    "đăng ký, cột Ghi chú)", (long long)v);
	return 0;
}
