/*
 * vanthuctl.c: the clerks' client. Sends one request over the control socket
 * (proto.c), waits for its reply, and prints it as a readable Vietnamese
 * table, or as the raw JSON with --json. Exit codes: 0 done, 1 refused by
 * the daemon, 2 usage, 3 the daemon cannot be reached. This file keeps main,
 * the command table, the connection and the helpers the command files
 * (cli_admin.c, cli_intake.c, cli_doc.c, cli_sign.c, cli_round.c) share.
 */
#include "cli_priv.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "proto.h"
#include "version.h"

#define DEFAULT_SOCKET_SYSTEM "/run/vanthu/vanthu.sock"
#define DEFAULT_SOCKET_LOCAL "./run/vanthu.sock"

struct opts {
	const char *socket;
	int json;
	int timeout_ms;
};

static void usage(FILE *out)
{
	fprintf(out,
	    "cách dùng: vanthuctl [-s SOCKET] [--json] LỆNH [THAM SỐ]\n"
	    "\n"
	    "Lệnh:\n"
	    "  status                 tình trạng của vanthud\n"
	    "  ping                   kiểm tra vanthud có trả lời không\n"
	    "  whoami                 người dùng và vai trò mà vanthud nhận ra\n"
	    "  audit [--limit N] [--before ID]\n"
	    "                         nhật ký kiểm tra, mới nhất trước\n"
	    "  verify                 kiểm tra chuỗi băm của nhật ký kiểm tra\n"
	    "  backup TỆP             sao lưu trực tuyến cơ sở dữ liệu vào TỆP\n"
	    "  units                  danh mục đơn vị, theo thứ tự chữ cái tiếng Việt\n"
	    "  reports [--unit MÃ] [--round ĐỢT] [--since YYYY-MM-DD] [--limit N]\n"
	    "                         các báo cáo đã nhận, mới nhất trước\n"
	    "  report ID [--xml]      một báo cáo: các trường, chỉ tiêu, biên nhận;\n"
	    "                         --xml in nguyên văn tệp đơn vị đã gửi\n"
	    "  rejected [--limit N]   các tệp bị từ chối gần đây và lý do\n"
	    "\n"
	    "Văn bản đi:\n"
	    "  new LOẠI TỆP [--answers VĂN-BẢN-ĐẾN] [--report BÁO-CÁO.xml]\n"
	    "                         tạo dự thảo từ tệp XML (thong-bao, cong-van, ke-hoach,\n"
	    "                         bao-cao-tong-hop); văn bản đến nó trả lời; báo cáo gửi kèm\n"
	    "  edit ID TỆP            thêm bản sửa cho một dự thảo\n"
	    "  edit ID --export TỆP   ghi nội dung hiện tại của văn bản ra TỆP để sửa\n"
	    "  act ID THAO-TÁC [-m Ý-KIẾN]\n"
	    "  submit|approve|return|sign|issue|withdraw ID [-m Ý-KIẾN]\n"
	    "                         trình duyệt, duyệt, trả lại, ký, cấp số ban hành, thu hồi\n"
	    "  list [--state S] [--kind K] [--mine] [--limit N]\n"
	    "  show ID                trạng thái, số, các thao tác bạn được làm\n"
	    "  history ID             lịch sử của văn bản\n"
	    "  overdue                các văn bản quá hạn xử lý\n"
	    "  register [--body CQ] [--year N | --term NK [--type LOẠI]] [--csv]\n"
	    "                         sổ đăng ký văn bản đi: theo năm (cơ quan nhà nước),\n"
	    "                         theo loại trong nhiệm kỳ (cấp ủy Đảng)\n"
	    "  render ID [-o TỆP]     tệp DOCX của văn bản (dự thảo để trống số và ngày)\n"
	    "  sign ID [ID...] --pkcs11 THƯ-VIỆN [--token NHÃN] [--key NHÃN | --key-id HEX]\n"
	    "          [--pin-file TỆP] [-m Ý-KIẾN]\n"
	    "                         ký số văn bản bằng thiết bị ký số (token) của lãnh đạo\n"
	    "  pdf ID [--copy N] [-o TỆP]\n"
	    "                         bản gốc điện tử (PDF đã ký số) của văn bản đã ban hành,\n"
	    "                         hoặc bản sao điện tử số N của nó\n"
	    "  copy ID [--form sao-y|sao-luc] [-o TỆP]\n"
	    "                         bản sao điện tử (SAO Y, SAO LỤC) của bản gốc điện tử\n"
	    "  pdf verify TỆP [--trust TỆP-PEM]\n"
	    "                         kiểm tra mọi chữ ký số trong một tệp PDF\n"
	    "  register start --next SỐ (--year N | [--body CQ] --type LOẠI [--term NK]) -m LÝ-DO\n"
	    "                         (quản trị) tiếp nối sổ giấy: số đầu tiên cấp trong vanthu\n"
	    "\n"
	    "Đợt báo cáo:\n"
	    "  round new TỆP [--today] [--force]\n"
	    "                         mở một đợt báo cáo (workflows/dot-bao-cao/schema.xsd);\n"
	    "                         --today: dời các ngày của tệp để văn bản yêu cầu là hôm nay;\n"
	    "                         --force: mở cả khi hạn báo cáo hay ngày đôn đốc đã qua\n"
	    "  rounds [--all]         các đợt đang mở (--all: cả các đợt đã đóng)\n"
	    "  round ID               tình trạng từng đơn vị: đúng hạn, muộn, chưa báo cáo\n"
	    "  round close ID         văn thư đóng đợt sớm (dự thảo thông báo kết luận)\n"
	    "  meeting TỆP            kết luận cuộc họp thành dự thảo thông báo kết luận\n"
	    "  calendar explain NGÀY N\n"
	    "                         vì sao N ngày làm việc sau NGÀY rơi vào ngày đó\n"
	    "  void SỐ (--year N | [--body CQ] --type LOẠI [--term NK]) -m LÝ-DO\n"
	    "                         hủy một số trong sổ (số vẫn giữ trong sổ, có ghi chú)\n"
	    "\n"	    "Liên thông, văn bản đến:\n"
	    "  delivery ID            từng nơi nhận của văn bản đã ban hành và trạng thái cuối\n"
	    "  recall ID -m LÝ-DO     thu hồi văn bản đã gửi qua trục liên thông\n"
	    "  incoming [--state S] [--assignee AI] [--year N]\n"
	    "                         văn bản đến (S: registered, assigned, progress, done,\n"
	    "                         recalled, open, late)\n"
	    "  incoming show ID | incoming pdf ID [-o TỆP] | incoming done ID -m LÝ-DO\n"
	    "  incoming register [--year N] [--csv]\n"
	    "                         sổ đăng ký văn bản đến\n"
	    "  incoming add --from TÁC-GIẢ --code SỐ/KÝ-HIỆU --date NGÀY --type LOẠI\n"
	    "          --subject TRÍCH-YẾU\n"
	    "                         vào sổ một văn bản giấy\n"
	    "  incoming refused       các gói tin bị từ chối và lý do\n"
	    "  assign ID --lead AI [--support AI]... [--info AI]... --due NGÀY|+N -m Ý-KIẾN\n"
	    "                         phiếu giải quyết: chủ trì, phối hợp, để biết, thời hạn\n"
	    "  progress ID -m NỘI-DUNG\n"
	    "                         báo cáo tiến độ giải quyết\n"
	    "  extend PHÂN-CÔNG --due NGÀY|+N -m LÝ-DO\n"
	    "                         gia hạn giải quyết\n"
	    "  followup [--year N]    sổ theo dõi giải quyết văn bản đến\n"
	    "\n"
	    "Tùy chọn:\n"
	    "  -s SOCKET   ổ cắm điều khiển (mặc định: $VANTHU_SOCKET, rồi "
	    DEFAULT_SOCKET_SYSTEM ",\n"
	    "              rồi " DEFAULT_SOCKET_LOCAL ")\n"
	    "  --json      in câu trả lời JSON nguyên bản\n"
	    "  --wide      in bảng đủ rộng, không gói dòng (mặc định: vừa 80 cột, hoặc\n"
	    "              bề rộng của cửa sổ dòng lệnh)\n"
	    "  -h, --help  in hướng dẫn này;  --version  in phiên bản\n"
	    "\n"
	    "Mã thoát: 0 thành công, 1 bị từ chối, 2 sai cú pháp, 3 không kết nối được.\n");
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vanthuctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(vanthuctl --help để xem cách dùng)\n");
	return EXIT_USAGE;
}

const char *cli_pick_socket(const char *given)
{
	const char *env = getenv("VANTHU_SOCKET");
	struct stat st;

	if (given != NULL)
		return given;
	if (env != NULL && *env != '\0')
		return env;
	if (stat(DEFAULT_SOCKET_SYSTEM, &st) == 0)
		return DEFAULT_SOCKET_SYSTEM;
	return DEFAULT_SOCKET_LOCAL;
}

/* ---- talking to the daemon ---- */

/*
 * Why vanthuctl could not reach the daemon, in Vietnamese and with what to
 * do: most often the user is not in the socket's group yet.
 */
static void explain_connect(const char *path, int err)
{
	struct stat st;
	struct passwd *pw = getpwuid(getuid());
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (err == EACCES || err == EPERM) {
		/* the socket's group, or its folder's when the folder is what is closed */
		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
		int have = stat(path, &st) == 0 || stat(dir, &st) == 0;
		struct group *gr = have ? getgrgid(st.st_gid) : NULL;
		if (gr != NULL)
			fprintf(stderr, "vanthuctl: không có quyền kết nối tới vanthud tại %s: người dùng %s "
			    "chưa thuộc nhóm \"%s\" của ổ cắm. Nhờ quản trị chạy: sudo adduser %s %s, rồi "
			    "đăng nhập lại\n", path, pw ? pw->pw_name : "này", gr->gr_name,
			    pw ? pw->pw_name : "TÊN", gr->gr_name);
		else
			fprintf(stderr, "vanthuctl: không có quyền kết nối tới vanthud tại %s; người dùng "
			    "cần thuộc nhóm của ổ cắm (vanthu.conf: socket_group)\n", path);
	} else if (err == ENOENT) {
		fprintf(stderr, "vanthuctl: không có ổ cắm %s: vanthud chưa chạy, hoặc ổ cắm ở chỗ "
		    "khác (-s SOCKET, hoặc biến VANTHU_SOCKET)\n", path);
	} else if (err == ECONNREFUSED) {
		fprintf(stderr, "vanthuctl: vanthud không trả lời tại %s (ổ cắm còn đó nhưng vanthud "
		    "không chạy); xem: systemctl status vanthud\n", path);
	} else {
		fprintf(stderr, "vanthuctl: không kết nối được tới vanthud tại %s: %s\n", path,
		    diag_strerror(err));
	}
}

int cli_connect_to(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "vanthuctl: đường dẫn ổ cắm quá dài: %s\n", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int err = errno;
		explain_connect(path, err);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one reply line; NULL on error, with the reason printed. */
static json_t *read_reply(int fd, int timeout_ms)
{
	struct proto_buf in;
	char chunk[8192];
	const char *line;
	size_t len, consumed;
	json_t *reply = NULL;
	json_error_t jerr;

	proto_buf_init(&in);
	for (;;) {
		int rc = proto_buf_next(&in, &line, &len, &consumed);
		if (rc > 0) {
			reply = json_loadb(line, len, 0, &jerr);
			if (reply == NULL || !json_is_object(reply)) {
				fprintf(stderr, "vanthuctl: câu trả lời không đọc được: %s\n", jerr.text);
				json_decref(reply);
				reply = NULL;
			}
			break;
		}
		if (rc < 0) {
			fprintf(stderr, "vanthuctl: câu trả lời dài quá giới hạn\n");
			break;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, timeout_ms);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			fprintf(stderr, "vanthuctl: vanthud không trả lời sau %d giây\n", timeout_ms / 1000);
			break;
		}
		ssize_t n = pr < 0 ? -1 : read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "vanthuctl: vanthud đã đóng kết nối mà không trả lời%s%s\n",
			    n < 0 ? ": " : "", n < 0 ? diag_strerror(errno) : "");
			break;
		}
		if (proto_buf_append(&in, chunk, (size_t)n) != 0) {
			fprintf(stderr, "vanthuctl: hết bộ nhớ\n");
			break;
		}
	}
	proto_buf_free(&in);
	return reply;
}

/* ---- printing ---- */

/* Width on a terminal: code points, since Vietnamese in NFC is one column each. */
/*
 * The width tables and fields are fitted to: the terminal's when standard
 * output is one (at least 40), else 80; 0 with --wide (no limit). Set once
 * from the command line before anything is printed: part of the client's
 * configuration, like its options.
 */
static size_t term_width = 80;

static void set_term_width(int wide)
{
	struct winsize ws;

	if (wide)
		term_width = 0;
	else if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col >= 40)
		term_width = ws.ws_col;
	else
		term_width = 80;
}

size_t cli_term_width(void)
{
	return term_width;
}

void cli_print_field(const char *label, const char *value)
{
	table_print_field(stdout, label, value, 21, term_width);
}

/* A table fitted to the terminal, printed and freed; rows were added by the caller. */
void cli_print_table(struct table *t)
{
	if (t != NULL)
		table_print(t, stdout, term_width);
	table_free(t);
}

void cli_csv_cell(const char *s, int last)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
	fputs(last ? "\r\n" : ",", stdout);
}

const char *cli_jstr(json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));

	return v ? v : "";
}

json_int_t cli_jint(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

/*
 * A listing the daemon cut (by --limit or by the size of one reply) says
 * where the next page starts; the clerk is told the exact option to add.
 */
static void show_next_page(json_t *r)
{
	json_t *nb = json_object_get(r, "next_before");

	if (!json_is_integer(nb))
		return;
	if (json_is_true(json_object_get(r, "truncated")))
		printf("(Trang này đã đầy: chưa hiện hết các mục đã chọn.)\n");
	printf("(Còn nữa: thêm --before %" JSON_INTEGER_FORMAT " để xem trang sau.)\n",
	    json_integer_value(nb));
}

/* What an entry of the audit trail or a history did, in Vietnamese (JSON keeps the code). */
const char *cli_action_label(const char *code)
{
	static const struct { const char *code, *label; } labels[] = {
		{ "daemon.start", "khởi động vanthud" }, { "daemon.stop", "dừng vanthud" },
		{ "config.reload", "nạp lại cấu hình" }, { "backup", "sao lưu" },
		{ "report.intake", "tiếp nhận tệp" }, { "create", "tạo dự thảo" },
		{ "edit", "sửa dự thảo" }, { "submit", "trình duyệt" }, { "approve", "duyệt, trình ký" },
		{ "return", "trả lại" }, { "sign", "ký" }, { "issue", "cấp số, ban hành" },
		{ "withdraw", "thu hồi" }, { "publish", "ghi tệp ban hành" }, { "void", "hủy số" },
		{ "round.create", "mở đợt báo cáo" }, { "round.remind", "đôn đốc" },
		{ "round.close", "đóng đợt báo cáo" }, { "meeting.sent", "gửi kết luận họp" },
		{ "register.start", "đặt số bắt đầu của sổ" },
	};
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(labels[i].code, code) == 0)
			return labels[i].label;
	return code;
}

/* A workflow state as the office says it (the shipped kinds' states; another stays its id). */
const char *cli_state_label(const char *id)
{
	static const struct { const char *id, *label; } labels[] = {
		{ "draft", "Dự thảo" }, { "review", "Chờ duyệt" }, { "signing", "Chờ ký" },
		{ "signed", "Đã ký, chờ ban hành" }, { "issued", "Đã ban hành" },
		{ "withdrawn", "Đã thu hồi" }, { "open", "đang mở" }, { "closed", "đã đóng" },
	};
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(labels[i].id, id) == 0)
			return labels[i].label;
	return id;
}

const char *cli_outcome_label(const char *o)
{
	if (strcmp(o, "accepted") == 0)
		return "đã tiếp nhận";
	if (strcmp(o, "duplicate") == 0)
		return "trùng lặp";
	if (strcmp(o, "superseding") == 0)
		return "thay thế báo cáo trước";
	if (strcmp(o, "rejected") == 0)
		return "bị từ chối";
	return o;
}

/* A UTC ISO time in Vietnam's time (UTC+7), with seconds or not; itself when it is no time. */
static void vn_time(const char *utc, int seconds, char *out, size_t len)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (strptime(utc, "%Y-%m-%dT%H:%M:%S", &tm) == NULL) {
		snprintf(out, len, "%s", utc);
		return;
	}
	t = timegm(&tm) + 7 * 3600;
	gmtime_r(&t, &tm);
	strftime(out, len, seconds ? "%d/%m/%Y %H:%M:%S" : "%d/%m/%Y %H:%M", &tm);
}

/* "2024-03-20T02:15:02.123Z" (UTC) as "20/03/2024 09:15" in Vietnam's time. */
void cli_local_time(const char *utc, char *out, size_t len)
{
	vn_time(utc, 0, out, len);
}

/* The same with seconds, for the audit trail: "20/03/2024 09:15:02". */
void cli_local_time_s(const char *utc, char *out, size_t len)
{
	vn_time(utc, 1, out, len);
}

/* "2024-03-27" as "27/03/2024". */
void cli_vn_date(const char *iso, char *out, size_t len)
{
	int y, m, d;

	if (iso && sscanf(iso, "%d-%d-%d", &y, &m, &d) == 3)
		snprintf(out, len, "%02d/%02d/%04d", d, m, y);
	else
		snprintf(out, len, "%s", iso ? iso : "");
}

/* ---- arguments ---- */

int cli_no_args(int argc, char **argv, struct call *c)
{
	(void)c;
	if (argc > 1)
		return cli_usage_error("lệnh này không nhận tham số: %s", argv[1]);
	return 0;
}

int cli_parse_positive(const char *s, json_int_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 1)
		return -1;
	*out = v;
	return 0;
}

/* Reads FILE into a base64 "content" argument (capped so the request fits one line). */
int cli_file_arg(const char *path, json_t *args)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf = NULL, *b64 = NULL;
	size_t len;
	long size;

	if (fp == NULL)
		return cli_usage_error("không mở được %s: %s", path, diag_strerror(errno));
	if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
		fclose(fp);
		return cli_usage_error("không đọc được %s", path);
	}
	if (size > 46000) {
		fclose(fp);
		return cli_usage_error("%s lớn quá 46 000 byte; hãy thả tệp vào thư mục tiếp nhận", path);
	}
	buf = malloc((size_t)size + 1);
	b64 = malloc(((size_t)size + 2) / 3 * 4 + 1);
	len = buf ? fread(buf, 1, (size_t)size, fp) : 0;
	fclose(fp);
	if (buf == NULL || b64 == NULL || len != (size_t)size) {
		free(buf);
		free(b64);
		return cli_usage_error("không đọc được %s", path);
	}
	EVP_EncodeBlock(b64, buf, (int)len);
	json_object_set_new(args, "content", json_string((char *)b64));
	free(buf);
	free(b64);
	return 0;
}

/*
 * Fetches a file the daemon sends in base64 chunks (each within the 64 KiB
 * line cap): cmd with {"id", "offset", extra...} until "total" bytes came,
 * written to out. The other fields of its replies (the SHA-256, the name...)
 * land in meta, when given.
 */
int cli_fetch_chunks(int fd, const char *cmd, json_int_t id, json_t *extra, FILE *out,
    json_t *meta, json_int_t *total_out, int json_out, int timeout_ms)
{
	json_int_t offset = 0, total = -1;

	while (total < 0 || offset < total) {
		json_t *args = json_pack("{s:I, s:I}", "id", id, "offset", offset), *reply, *res;
		char *line;
		unsigned char *raw;
		const char *data;
		int n;

		if (args && extra)
			json_object_update(args, extra);
		line = proto_encode_request(cmd, args);
		json_decref(args);
		if (line == NULL || write_all(fd, line, strlen(line)) != 0) {
			free(line);
			return EXIT_UNREACHABLE;
		}
		free(line);
		reply = read_reply(fd, timeout_ms);
		if (reply == NULL)
			return EXIT_UNREACHABLE;
		if (!json_is_true(json_object_get(reply, "ok"))) {
			json_t *err = json_object_get(reply, "error");
			if (json_out) {
				char *text = json_dumps(reply, JSON_INDENT(2));
				if (text)
					puts(text);
				free(text);
			} else {
				fprintf(stderr, "vanthuctl: %s: %s\n", cli_jstr(err, "code"), cli_jstr(err, "message"));
			}
			json_decref(reply);
			return EXIT_REFUSED;
		}
		res = json_object_get(reply, "result");
		total = cli_jint(res, "total");
		/* what the daemon says of the file besides its bytes: sha256, name, voided... */
		if (meta) {
			json_object_update(meta, res);
			json_object_del(meta, "data");
		}
		data = cli_jstr(res, "data");
		raw = malloc(strlen(data) / 4 * 3 + 3);
		n = raw ? EVP_DecodeBlock(raw, (const unsigned char *)data, (int)strlen(data)) : -1;
		/* EVP_DecodeBlock counts the padding as bytes: trim to what remains */
		if (n >= 0 && (json_int_t)n > total - offset)
			n = (int)(total - offset);
		if (n < 0 || fwrite(raw, 1, (size_t)n, out) != (size_t)n) {
			free(raw);
			json_decref(reply);
			return EXIT_UNREACHABLE;
		}
		free(raw);
		json_decref(reply);
		if (n == 0)
			break;
		offset += n;
	}
	*total_out = total;
	return EXIT_OK;
}

/* A name the daemon proposes is used only when it is a plain file name. */
static int plain_name(const char *n)
{
	return n[0] != '\0' && n[0] != '.' && strchr(n, '/') == NULL && strlen(n) < 128;
}

/*
 * Fetches cmd's file for id into path through a temporary name, flushed and
 * renamed only once complete (nothing half-written ever takes the name).
 * With path NULL the file goes in the current folder under the name the
 * daemon gives ("03-TB-UBND.docx"), else fallback; the name used lands in
 * final. *meta gets the replies' other fields (the caller frees it). A
 * failure to write here is a refusal (1), not a usage error.
 */
int cli_fetch_to_file(int fd, const char *cmd, json_int_t id, json_t *extra, const char *path,
    const char *fallback, int json_out, int timeout_ms, json_t **meta, json_int_t *total,
    char *final, size_t finallen)
{
	char tmp[PATH_MAX];
	FILE *fp;
	int rc;

	*total = 0;
	*meta = json_object();
	if (path != NULL)
		snprintf(tmp, sizeof(tmp), "%s.part", path);
	else
		snprintf(tmp, sizeof(tmp), ".vanthuctl-%s-%ld.part", cmd, (long)getpid());
	fp = *meta ? fopen(tmp, "wb") : NULL;
	if (fp == NULL) {
		fprintf(stderr, "vanthuctl: không ghi được %s: %s\n", tmp, diag_strerror(errno));
		return EXIT_REFUSED;
	}
	rc = cli_fetch_chunks(fd, cmd, id, extra, fp, *meta, total, json_out, timeout_ms);
	if (rc != EXIT_OK) {
		fclose(fp);
		unlink(tmp);
		return rc;
	}
	if (path == NULL)
		path = plain_name(cli_jstr(*meta, "name")) ? cli_jstr(*meta, "name") : fallback;
	snprintf(final, finallen, "%s", path);
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0 || fclose(fp) != 0 || rename(tmp, final) != 0) {
		fprintf(stderr, "vanthuctl: không ghi được %s: %s\n", final, diag_strerror(errno));
		unlink(tmp);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

/* Prints o as the JSON reply vanthuctl gives with --json, and frees it. */
void cli_print_json(json_t *o)
{
	char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;

	if (text)
		puts(text);
	free(text);
	json_decref(o);
}

/* One request on fd and its reply (NULL: no answer; the message is printed). */
json_t *cli_ask(int fd, const char *cmd, json_t *args, int timeout_ms)
{
	char *line = proto_encode_request(cmd, args);
	json_t *reply = NULL;

	if (line != NULL && write_all(fd, line, strlen(line)) == 0)
		reply = read_reply(fd, timeout_ms);
	else
		fprintf(stderr, "vanthuctl: không gửi được yêu cầu: %s\n", diag_strerror(errno));
	free(line);
	return reply;
}

static void show_nothing(json_t *r)
{
	(void)r;
}

/* ---- commands ---- */

struct command {
	const char *name;
	int (*build)(int argc, char **argv, struct call *c); /* 0, or EXIT_USAGE */
	void (*show)(json_t *result);
	int timeout_s;
};

static const struct command commands[] = {
	{ "status", cli_no_args, cli_show_status, 30 },
	{ "ping", cli_no_args, cli_show_ping, 30 },
	{ "whoami", cli_no_args, cli_show_whoami, 30 },
	{ "audit", cli_build_audit, cli_show_audit, 30 },
	{ "verify", cli_no_args, cli_show_verify, 600 },
	{ "backup", cli_build_backup, cli_show_backup, 3600 },
	{ "units", cli_build_units, cli_show_units, 30 },
	{ "reports", cli_build_reports, cli_show_reports, 30 },
	{ "report", cli_build_report, cli_show_report, 30 },
	{ "rejected", cli_build_audit, cli_show_rejected, 30 },
	{ "new", cli_build_new, cli_show_created, 30 },
	{ "edit", cli_build_edit, cli_show_edited, 30 },
	{ "act", cli_build_act, cli_show_acted, 30 },
	{ "submit", cli_build_act, cli_show_acted, 30 },
	{ "approve", cli_build_act, cli_show_acted, 30 },
	{ "return", cli_build_act, cli_show_acted, 30 },
	{ "sign", cli_build_act, cli_show_acted, 30 },
	{ "issue", cli_build_act, cli_show_acted, 30 },
	{ "withdraw", cli_build_act, cli_show_acted, 30 },
	{ "list", cli_build_list, cli_show_list, 30 },
	{ "show", cli_build_id, cli_show_doc, 30 },
	{ "history", cli_build_id, cli_show_history, 30 },
	{ "overdue", cli_no_args, cli_show_overdue, 30 },
	{ "register", cli_build_register, cli_show_register, 30 },
	{ "void", cli_build_void, cli_show_voided, 30 },
	{ "render", cli_build_render, show_nothing, 120 },
	{ "pdf", cli_build_pdf, show_nothing, 120 },
	{ "copy", cli_build_copy, show_nothing, 60 },
	{ "round", cli_build_round, cli_show_round, 60 },
	{ "rounds", cli_build_rounds, cli_show_rounds, 30 },
	{ "meeting", cli_build_meeting, cli_show_meeting, 60 },
	{ "calendar", cli_build_calendar, cli_show_calendar, 30 },
	{ "delivery", cli_build_delivery, cli_show_delivery, 30 },
	{ "recall", cli_build_recall, show_nothing, 30 },
	{ "incoming", cli_build_incoming, cli_show_incoming_list, 60 },
	{ "assign", cli_build_assign, show_nothing, 30 },
	{ "progress", cli_build_progress, show_nothing, 30 },
	{ "extend", cli_build_extend, show_nothing, 30 },
	{ "followup", cli_build_followup, cli_show_followup, 30 },
};

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	const struct command *cmd = NULL;
	struct call call = { 0 };
	json_t *reply = NULL;
	char *line = NULL;
	int i, fd = -1, rc = EXIT_UNREACHABLE, wide = 0;
	int cargc = 0;
	char **cargv = calloc((size_t)argc + 1, sizeof(char *));

	if (cargv == NULL)
		return EXIT_UNREACHABLE;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			o.json = 1;
		} else if (strcmp(argv[i], "--wide") == 0) {
			wide = 1;
		} else if (cargc == 0 && strcmp(argv[i], "-s") == 0) {
			if (i + 1 >= argc) {
				rc = cli_usage_error("%s", "-s cần đường dẫn của ổ cắm");
				goto out;
			}
			o.socket = argv[++i];
		} else if (cargc == 0 && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
			usage(stdout);
			rc = EXIT_OK;
			goto out;
		} else if (cargc == 0 && strcmp(argv[i], "--version") == 0) {
			printf("vanthuctl %s\n", VANTHU_VERSION);
			rc = EXIT_OK;
			goto out;
		} else if (cargc == 0 && argv[i][0] == '-') {
			rc = cli_usage_error("tùy chọn không hợp lệ: %s", argv[i]);
			goto out;
		} else {
			cargv[cargc++] = argv[i];
		}
	}
	if (cargc == 0) {
		usage(stderr);
		rc = EXIT_USAGE;
		goto out;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(commands[k].name, cargv[0]) == 0)
			cmd = &commands[k];
	if (cmd == NULL) {
		rc = cli_usage_error("không có lệnh \"%s\"", cargv[0]);
		goto out;
	}
	call.args = json_object();
	if (call.args == NULL)
		goto out;
	set_term_width(wide);
	if ((rc = cmd->build(cargc, cargv, &call)) != 0)
		goto out;
	o.timeout_ms = cmd->timeout_s * 1000;
	rc = EXIT_UNREACHABLE;
	if (call.kind == CALL_VERIFY) {
		rc = cli_verify_pdf(&call, o.socket, o.json);
		goto out;
	}
	if (call.kind == CALL_SIGN) {
		rc = cli_sign_with_token(&call, o.socket, o.json);
		goto out;
	}
	if (call.kind != CALL_REQUEST) {
		json_int_t id = json_integer_value(json_object_get(call.args, "id"));
		fd = cli_connect_to(cli_pick_socket(o.socket));
		if (fd >= 0 && call.kind == CALL_FETCH_PDF)
			rc = cli_fetch_pdf(fd, id, json_integer_value(json_object_get(call.args, "copy")),
			    call.out, o.json, o.timeout_ms);
		else if (fd >= 0 && call.kind == CALL_FETCH_INCOMING)
			rc = cli_fetch_incoming_pdf(fd, id, call.out, o.json, o.timeout_ms);
		else if (fd >= 0 && call.kind == CALL_COPY)
			rc = cli_make_copy(fd, &call, o.json, o.timeout_ms);
		else if (fd >= 0)
			rc = call.kind == CALL_FETCH_DOCX ? cli_fetch_docx(fd, id, call.out, o.json,
			    o.timeout_ms) : call.kind == CALL_FETCH_INPUT ? cli_fetch_input(fd, id, call.out,
			    o.json, o.timeout_ms) : cli_fetch_original(fd, id, o.json, o.timeout_ms);
		goto out;
	}
	line = proto_encode_request(call.request ? call.request : cmd->name, call.args);
	if (line == NULL)
		goto out;
	fd = cli_connect_to(cli_pick_socket(o.socket));
	if (fd < 0)
		goto out;
	if (write_all(fd, line, strlen(line)) != 0) {
		/* the daemon may have answered before closing (E_BUSY): read what it said */
		int err = errno;
		reply = read_reply(fd, 2000);
		if (reply == NULL) {
			fprintf(stderr, "vanthuctl: không gửi được yêu cầu: %s\n", diag_strerror(err));
			goto out;
		}
	} else {
		reply = read_reply(fd, o.timeout_ms);
	}
	if (reply == NULL)
		goto out;
	if (o.json) {
		char *text = json_dumps(reply, JSON_INDENT(2));
		if (text)
			puts(text);
		free(text);
	}
	if (json_is_true(json_object_get(reply, "ok"))) {
		json_t *result = json_object_get(reply, "result");
		if (!o.json) {
			(call.show ? call.show : cmd->show)(result);
			show_next_page(result);
		}
		rc = EXIT_OK;
		/* A broken audit chain is a finding scripts must not miss. */
		if (strcmp(cmd->name, "verify") == 0 && (!json_is_true(json_object_get(result, "intact")) ||
		        json_is_false(json_object_get(result, "incoming_gapless"))))
			rc = EXIT_REFUSED;
	} else {
		json_t *err = json_object_get(reply, "error");
		if (!o.json)
			fprintf(stderr, "vanthuctl: %s: %s\n", cli_jstr(err, "code"), cli_jstr(err, "message"));
		rc = EXIT_REFUSED;
	}
out:
	if (fd >= 0)
		close(fd);
	free(line);
	json_decref(call.args);
	json_decref(reply);
	free(cargv);
	return rc;
}
