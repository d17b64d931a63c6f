/*
 * vanthuctl.c: the clerks' client. Sends one request over the control socket
 * (proto.c), waits for its reply, and prints it as a readable Vietnamese
 * table, or as the raw JSON with --json. Exit codes: 0 done, 1 refused by
 * the daemon, 2 usage, 3 the daemon cannot be reached.
 */
#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <limits.h>
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
#include <termios.h>
#include <unistd.h>

#include "diag.h"
#include "cms.h"
#include "hash.h"
#include "p11.h"
#include "pdfverify.h"
#include "proto.h"
#include "table.h"
#include "version.h"

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

#define DEFAULT_SOCKET_SYSTEM "/run/vanthu/vanthu.sock"
#define DEFAULT_SOCKET_LOCAL "./run/vanthu.sock"

struct opts {
	const char *socket;
	int json;
	int timeout_ms;
};

/* One invocation, as its command's builder sets it up: what is sent, how the answer is shown. */
enum call_kind {
	CALL_REQUEST,     /* one request, one reply, shown by show */
	CALL_FETCH_DOCX,  /* render: the DOCX in chunks, into the file out */
	CALL_FETCH_XML,   /* report --xml: a report's original bytes in chunks, on stdout */
	CALL_FETCH_INPUT, /* edit --export: a document's current input, into the file out */
	CALL_FETCH_PDF,   /* pdf ID: the issued electronic original, into the file out */
	CALL_SIGN,        /* sign ID --pkcs11: the leader's token signs what the daemon prepared */
	CALL_VERIFY,      /* pdf verify FILE: every signature of a PDF, here */
	CALL_COPY,        /* copy ID: an electronic copy made, then fetched into the file out */
};
struct call {
	enum call_kind kind;
	const char *request;           /* the request sent; NULL: the command's own name */
	json_t *args;                  /* its arguments; owned by main */
	void (*show)(json_t *result);  /* NULL: the command's own */
	const char *out;               /* CALL_FETCH_DOCX: -o (NULL: the name the daemon gives);
	                                * CALL_FETCH_INPUT: the file, "-" for standard output;
	                                * CALL_VERIFY: the PDF to check */
	struct p11_spec token;         /* CALL_SIGN: the leader's token (strings from argv) */
	const char *pin_file;          /* CALL_SIGN: NULL: asked on the terminal */
	const char *trust;             /* CALL_VERIFY: --trust (NULL: the daemon's) */
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
	    "  new LOẠI TỆP           tạo dự thảo từ tệp XML (thong-bao, cong-van, ke-hoach, bao-cao-tong-hop)\n"
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

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vanthuctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(vanthuctl --help để xem cách dùng)\n");
	return EXIT_USAGE;
}

static const char *pick_socket(const char *given)
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

static int connect_to(const char *path)
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

static void print_field(const char *label, const char *value)
{
	table_print_field(stdout, label, value, 21, term_width);
}

/* A table fitted to the terminal, printed and freed; rows were added by the caller. */
static void print_table(struct table *t)
{
	if (t != NULL)
		table_print(t, stdout, term_width);
	table_free(t);
}

static const char *jstr(json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));

	return v ? v : "";
}

static json_int_t jint(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
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

static void show_status(json_t *r)
{
	json_t *db = json_object_get(r, "database"), *org = json_object_get(r, "organisation");
	json_t *counts = json_object_get(r, "counts");
	char buf[512], size[64], dur[64];

	printf("vanthud %s đang chạy (pid %lld)\n", jstr(r, "version"), (long long)jint(r, "pid"));
	snprintf(buf, sizeof(buf), "%s (%s)", jstr(org, "name"), jstr(org, "abbreviation"));
	print_field("Cơ quan", buf);
	format_duration(jint(r, "uptime"), dur, sizeof(dur));
	print_field("Thời gian chạy", dur);
	format_bytes(jint(db, "bytes"), size, sizeof(size));
	snprintf(buf, sizeof(buf), "%s (%s, lược đồ %lld)", jstr(db, "path"), size,
	    (long long)jint(db, "schema_version"));
	print_field("Cơ sở dữ liệu", buf);
	print_field("Thư mục tiếp nhận", jstr(r, "spool"));
	print_field("Tệp cấu hình", *jstr(r, "config") ? jstr(r, "config") : "mặc định dựng sẵn");
	snprintf(buf, sizeof(buf), "%lld", (long long)jint(counts, "connections"));
	print_field("Kết nối đang mở", buf);
	snprintf(buf, sizeof(buf), "%lld mục", (long long)jint(counts, "audit"));
	print_field("Nhật ký kiểm tra", buf);
	snprintf(buf, sizeof(buf), "%lld báo cáo; %lld tệp bị từ chối; %lld tệp đã xử lý",
	    (long long)jint(counts, "reports"), (long long)jint(counts, "rejected"),
	    (long long)jint(counts, "inputs"));
	print_field("Tiếp nhận", buf);
	snprintf(buf, sizeof(buf), "%lld", (long long)jint(counts, "documents"));
	print_field("Văn bản đi", buf);
	json_t *sg = json_object_get(r, "signing");
	if (json_is_true(json_object_get(sg, "configured"))) {
		if (jint(sg, "converter_rss_kb") > 0) {
			format_bytes(jint(sg, "converter_rss_kb") * 1024, size, sizeof(size));
			snprintf(buf, sizeof(buf), "có; bộ chuyển PDF (LibreOffice) pid %lld, %s bộ nhớ",
			    (long long)jint(sg, "converter_pid"), size);
		} else {
			snprintf(buf, sizeof(buf), "có; bộ chuyển PDF khởi động ở lần ký tới");
		}
		print_field("Ký số", buf);
	} else if (sg != NULL) {
		print_field("Ký số", "chưa cấu hình ([signing] trong vanthu.conf)");
	}
}

static void show_whoami(json_t *r)
{
	json_t *roles = json_object_get(r, "roles"), *v;
	char buf[512] = "";
	size_t i, off = 0;

	snprintf(buf, sizeof(buf), "%s (uid %lld)", jstr(r, "user"), (long long)jint(r, "uid"));
	print_field("Người dùng", buf);
	buf[0] = '\0';
	json_array_foreach(roles, i, v) {
		int n = snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? ", " : "",
		    role_label(json_string_value(v)));
		if (n < 0 || (size_t)n >= sizeof(buf) - off)
			break;
		off += (size_t)n;
	}
	print_field("Vai trò", buf[0] ? buf : "không có");
	print_field("Họ và tên", jstr(r, "full_name"));
	print_field("Chức vụ", jstr(r, "title"));
	print_field("Thẩm quyền ký", jstr(r, "authority"));
	if (*jstr(r, "party_title"))
		print_field("Chức vụ trong Đảng", jstr(r, "party_title"));
}


/* What an entry of the audit trail or a history did, in Vietnamese (JSON keeps the code). */
static const char *action_label(const char *code)
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

static void local_time_s(const char *utc, char *out, size_t len);
static void vn_date(const char *iso, char *out, size_t len);

/* A workflow state as the office says it (the shipped kinds' states; another stays its id). */
static const char *state_label(const char *id)
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

static const char *outcome_label(const char *o);

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
	const char *action = jstr(e, "action"), *raw = jstr(e, "detail");
	json_t *d = *raw == '{' ? json_loads(raw, 0, NULL) : NULL;
	char obj[256];
	size_t off;

	object_text(jstr(e, "object"), obj, sizeof(obj));
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
		ADD("%stệp %s%s%s", *obj ? ": " : "", jstr(d, "folder"), *jstr(d, "folder") ? "/" : "",
		    jstr(d, "file"));
		if (*jstr(d, "unit"))
			ADD(" của %s", jstr(d, "unit"));
		ADD(" — %s", outcome_label(jstr(d, "to")));
		if (jint(d, "report") > 0)
			ADD(", báo cáo số %lld", (long long)jint(d, "report"));
		if (jint(d, "document") > 0)
			ADD(", dự thảo số %lld", (long long)jint(d, "document"));
	} else if (strcmp(action, "create") == 0) {
		ADD(": tạo mới (%s), bản 1", jstr(d, "kind"));
	} else if (strcmp(action, "edit") == 0) {
		ADD(": bản %lld", (long long)jint(d, "revision"));
	} else if (strcmp(action, "publish") == 0) {
		ADD(": tệp %s", jstr(d, "path"));
	} else if (strcmp(action, "void") == 0) {
		ADD(": số %lld của sổ %s %s", (long long)jint(d, "number"), jstr(d, "body"),
		    jstr(d, "series"));
	} else if (strcmp(action, "register.start") == 0) {
		ADD(": tiếp nối sổ giấy, số đầu tiên trong vanthu là %lld", (long long)jint(d, "next"));
	} else if (strcmp(action, "round.create") == 0) {
		char day[16];
		vn_date(jstr(d, "deadline"), day, sizeof(day));
		ADD(": %lld đơn vị, hạn báo cáo %s", (long long)jint(d, "units"), day);
	} else if (strcmp(action, "round.remind") == 0 || strcmp(action, "round.close") == 0) {
		if (jint(d, "document") > 0)
			ADD(": %s là văn bản số %lld", strcmp(action, "round.close") == 0 ? "dự thảo kết luận" :
			    "công văn đôn đốc", (long long)jint(d, "document"));
		else
			ADD(": %s", strcmp(action, "round.close") == 0 ? "không có dự thảo" :
			    "mọi đơn vị đã báo cáo, không cần đôn đốc");
	} else if (json_object_get(d, "to") != NULL) {
		ADD(": %s → %s", *jstr(d, "from") ? state_label(jstr(d, "from")) : "(mới)",
		    state_label(jstr(d, "to")));
		if (*jstr(d, "symbol"))
			ADD(", số %s", jstr(d, "symbol"));
	} else {
		ADD(" — %s", raw);
	}
	if (d != NULL && (*jstr(d, "comment") || *jstr(d, "reason")))
		ADD(" «%s»", *jstr(d, "comment") ? jstr(d, "comment") : jstr(d, "reason"));
#undef ADD
	json_decref(d);
	/* no object: the detail alone, without the separator it would have followed */
	if (strncmp(out, ": ", 2) == 0 || strncmp(out, " — ", 5) == 0)
		memmove(out, out + (out[0] == ':' ? 2 : 5), strlen(out) - (out[0] == ':' ? 2 : 5) + 1);
}

static void show_audit(json_t *r)
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
		snprintf(id, sizeof(id), "%lld", (long long)jint(e, "id"));
		local_time_s(jstr(e, "at"), when, sizeof(when));
		audit_sentence(e, what, sizeof(what));
		snprintf(line, sizeof(line), "%s%s%s", action_label(jstr(e, "action")), *what ? ": " : "",
		    what);
		const char *row[] = { id, when, jstr(e, "actor"), line };
		if (t)
			table_add(t, row);
	}
	print_table(t);
	printf("(giờ Việt Nam, UTC+7)\n");
}

static void show_verify(json_t *r)
{
	if (json_is_true(json_object_get(r, "intact")))
		printf("Chuỗi nhật ký kiểm tra nguyên vẹn: %lld mục đã kiểm tra.\n",
		    (long long)jint(r, "checked"));
	else
		printf("Chuỗi nhật ký kiểm tra BỊ SỬA: mục số %lld không khớp.\n",
		    (long long)jint(r, "first_bad"));
}

static void show_backup(json_t *r)
{
	char size[64];

	format_bytes(jint(r, "bytes"), size, sizeof(size));
	printf("Đã sao lưu cơ sở dữ liệu vào %s (%s).\n", jstr(r, "path"), size);
}

static void show_ping(json_t *r)
{
	printf("vanthud %s trả lời.\n", jstr(r, "version"));
}


static void show_units(json_t *r)
{
	json_t *units = json_object_get(r, "units"), *groups = json_object_get(r, "groups"), *u, *g;
	size_t i, k;

	static const char *const heads[] = { "Mã", "Tên đơn vị", "Tên viết tắt", "Nhóm" };
	struct table *t = table_new(4, heads);
	json_array_foreach(units, i, u) {
		const char *label = jstr(u, "group");
		json_array_foreach(groups, k, g)
			if (strcmp(jstr(g, "code"), jstr(u, "group")) == 0)
				label = jstr(g, "label");
		const char *row[] = { jstr(u, "code"), jstr(u, "name"), jstr(u, "short"), label };
		if (t)
			table_add(t, row);
	}
	print_table(t);
	printf("(%zu đơn vị)\n", json_array_size(units));
}

static const char *outcome_label(const char *o)
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
static void local_time(const char *utc, char *out, size_t len)
{
	vn_time(utc, 0, out, len);
}

/* The same with seconds, for the audit trail: "20/03/2024 09:15:02". */
static void local_time_s(const char *utc, char *out, size_t len)
{
	vn_time(utc, 1, out, len);
}

static void show_reports(json_t *r)
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
		snprintf(id, sizeof(id), "%lld", (long long)jint(e, "id"));
		local_time(jstr(e, "received_at"), when, sizeof(when));
		snprintf(num, sizeof(num), "%s/%s", jstr(e, "number"), jstr(e, "symbol"));
		snprintf(sum, sizeof(sum), "%s%s%s", jstr(e, "summary"),
		    json_is_integer(json_object_get(e, "superseded_by")) ? " (đã bị thay thế)" : "",
		    *jstr(e, "after_close") ? " (gửi sau khi đợt đã đóng)" : "");
		const char *row[] = { id, when, jstr(e, "unit_code"), jstr(e, "round_id"), num, sum };
		if (t)
			table_add(t, row);
	}
	print_table(t);
}

static void print_section(json_t *sec, int depth)
{
	json_t *content = json_object_get(sec, "content"), *c;
	size_t i;

	printf("%*s%s\n", depth * 2, "", jstr(sec, "title"));
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

static void show_report(json_t *r)
{
	json_t *ind = json_object_get(r, "indicators"), *rc = json_object_get(r, "receipt"), *e;
	json_t *content = json_object_get(r, "content");
	char buf[512], when[32];
	size_t i;

	snprintf(buf, sizeof(buf), "%lld", (long long)jint(r, "id"));
	print_field("Báo cáo số", buf);
	snprintf(buf, sizeof(buf), "%s (%s)", jstr(r, "unit_name"), jstr(r, "unit_code"));
	print_field("Đơn vị", buf);
	char d1[16], d2[16];
	vn_date(jstr(r, "report_date"), d1, sizeof(d1));
	snprintf(buf, sizeof(buf), "%s/%s, %s, ngày %s", jstr(r, "number"), jstr(r, "symbol"),
	    jstr(r, "place"), d1);
	print_field("Số, ký hiệu", buf);
	print_field("Trích yếu", jstr(r, "summary"));
	vn_date(jstr(r, "req_date"), d1, sizeof(d1));
	snprintf(buf, sizeof(buf), "%s (văn bản %s/%s ngày %s)", jstr(r, "round_id"),
	    jstr(r, "req_number"), jstr(r, "req_symbol"), d1);
	print_field("Đợt báo cáo", buf);
	vn_date(jstr(r, "period_from"), d1, sizeof(d1));
	vn_date(jstr(r, "period_to"), d2, sizeof(d2));
	snprintf(buf, sizeof(buf), "từ %s đến %s", d1, d2);
	print_field("Kỳ báo cáo", buf);
	snprintf(buf, sizeof(buf), "%s%s%s, %s", jstr(r, "signer_authority"),
	    *jstr(r, "signer_authority") ? " " : "", jstr(r, "signer_title"), jstr(r, "signer_name"));
	print_field("Người ký", buf);
	local_time(jstr(r, "received_at"), when, sizeof(when));
	print_field("Nhận lúc", when);
	print_field("SHA-256", jstr(r, "sha256"));
	if (json_is_integer(json_object_get(r, "supersedes"))) {
		snprintf(buf, sizeof(buf), "báo cáo số %lld", (long long)jint(r, "supersedes"));
		print_field("Thay thế", buf);
	}
	if (json_is_integer(json_object_get(r, "superseded_by"))) {
		snprintf(buf, sizeof(buf), "báo cáo số %lld", (long long)jint(r, "superseded_by"));
		print_field("Bị thay thế bởi", buf);
	}
	if (json_is_object(rc)) {
		snprintf(buf, sizeof(buf), "số %lld, tệp %s%s%s — %s", (long long)jint(rc, "receipt"),
		    *jstr(rc, "source_folder") ? jstr(rc, "source_folder") : "",
		    *jstr(rc, "source_folder") ? "/" : "", jstr(rc, "source_name"),
		    outcome_label(jstr(rc, "outcome")));
		print_field("Biên nhận", buf);
	}
	if (*jstr(r, "after_close")) {
		local_time(jstr(r, "after_close"), when, sizeof(when));
		snprintf(buf, sizeof(buf), "gửi sau khi đợt báo cáo đã đóng (%s); không tính trong kết "
		    "luận của đợt", when);
		print_field("Lưu ý", buf);
	}
	if (json_array_size(ind) > 0) {
		static const char *const heads[] = { "Mã", "Chỉ tiêu", "Kết quả", "Mục tiêu" };
		struct table *t = table_new(4, heads);
		printf("\nChỉ tiêu:\n");
		json_array_foreach(ind, i, e) {
			char value[96], target[96];
			vn_figure(jstr(e, "value"), jstr(e, "measure"), value, sizeof(value));
			vn_figure(jstr(e, "target"), jstr(e, "measure"), target, sizeof(target));
			const char *row[] = { jstr(e, "code"), jstr(e, "name"), value,
			    *jstr(e, "target") ? target : "—" };
			if (t)
				table_add(t, row);
		}
		print_table(t);
	}
	printf("\nNội dung:\n");
	if (json_is_true(json_object_get(r, "body_omitted")))
		printf("  (nội dung dài; xem nguyên văn bằng: vanthuctl report %lld --xml)\n",
		    (long long)jint(r, "id"));
	json_array_foreach(json_object_get(content, "body"), i, e)
		print_section(e, 1);
}

static void show_rejected(json_t *r)
{
	json_t *list = json_object_get(r, "rejected"), *e, *err;
	size_t i, k;

	if (json_array_size(list) == 0) {
		printf("Không có tệp nào bị từ chối.\n");
		return;
	}
	json_array_foreach(list, i, e) {
		char when[32];
		local_time(jstr(e, "received_at"), when, sizeof(when));
		printf("Biên nhận %lld — %s%s%s, nhận lúc %s%s%s\n", (long long)jint(e, "receipt"),
		    jstr(e, "source_folder"), *jstr(e, "source_folder") ? "/" : "",
		    jstr(e, "source_name"), when, *jstr(e, "unit_code") ? ", đơn vị " : "",
		    jstr(e, "unit_code"));
		json_array_foreach(json_object_get(e, "errors"), k, err) {
			printf("  [%s] ", jstr(err, "code"));
			if (jint(err, "line") > 0)
				printf("dòng %lld: ", (long long)jint(err, "line"));
			printf("%s\n", jstr(err, "message"));
		}
	}
}


/* "2024-03-27" as "27/03/2024". */
static void vn_date(const char *iso, char *out, size_t len)
{
	int y, m, d;

	if (iso && sscanf(iso, "%d-%d-%d", &y, &m, &d) == 3)
		snprintf(out, len, "%02d/%02d/%04d", d, m, y);
	else
		snprintf(out, len, "%s", iso ? iso : "");
}

static void show_created(json_t *r)
{
	printf("Đã tạo dự thảo số %lld (%s).\n", (long long)jint(r, "id"), jstr(r, "kind"));
}

static void show_edited(json_t *r)
{
	printf("Đã lưu bản thứ %lld của văn bản số %lld.\n", (long long)jint(r, "revision"),
	    (long long)jint(r, "id"));
}

static void show_acted(json_t *r)
{
	printf("Văn bản số %lld: %s — xong.", (long long)jint(r, "id"), jstr(r, "label"));
	if (*jstr(r, "symbol"))
		printf(" Số, ký hiệu: %s.", jstr(r, "symbol"));
	printf("\n");
}

static void show_list(json_t *r)
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
		snprintf(id, sizeof(id), "%lld", (long long)jint(e, "id"));
		const char *row[] = { id, *jstr(e, "kind_label") ? jstr(e, "kind_label") :
		    jstr(e, "kind"), *jstr(e, "state_label") ? jstr(e, "state_label") : jstr(e, "state"),
		    *jstr(e, "symbol") ? jstr(e, "symbol") : "—", jstr(e, "drafter"),
		    jstr(e, "summary") };
		if (t)
			table_add(t, row);
	}
	print_table(t);
}

static void show_doc(json_t *r)
{
	json_t *actions = json_object_get(r, "actions"), *a;
	char buf[512], when[32];
	size_t i;

	snprintf(buf, sizeof(buf), "%lld", (long long)jint(r, "id"));
	print_field("Văn bản số", buf);
	print_field("Loại", jstr(r, "kind_label"));
	if (*jstr(r, "issuer_name")) {
		snprintf(buf, sizeof(buf), "%s (%s)", jstr(r, "issuer_name"), jstr(r, "issuer_abbrev"));
		print_field("Cơ quan ban hành", buf);
	}
	print_field("Trích yếu", jstr(r, "summary"));
	local_time(jstr(r, "state_since"), when, sizeof(when));
	snprintf(buf, sizeof(buf), "%s (từ %s)%s", jstr(r, "state_label"), when,
	    json_is_true(json_object_get(r, "overdue")) ? " — QUÁ HẠN" : "");
	print_field("Trạng thái", buf);
	if (*jstr(r, "symbol")) {
		char day[32];
		vn_date(jstr(r, "issued_on"), day, sizeof(day));
		snprintf(buf, sizeof(buf), "%s, ngày %s", jstr(r, "symbol"), day);
		print_field("Số, ký hiệu", buf);
	}
	if (*jstr(r, "voided_at")) {
		local_time(jstr(r, "voided_at"), when, sizeof(when));
		snprintf(buf, sizeof(buf), "ĐÃ HỦY SỐ — %s (%s, %s)", jstr(r, "void_reason"),
		    jstr(r, "voided_by"), when);
		print_field("Ghi chú", buf);
	}
	snprintf(buf, sizeof(buf), "%s; sửa lần cuối: %s (bản %lld)", jstr(r, "drafter"),
	    jstr(r, "editor"), (long long)jint(r, "revision"));
	print_field("Người soạn", buf);
	/* the login who may sign: the name alone does not say whom to ask */
	if (*jstr(r, "signer_login"))
		snprintf(buf, sizeof(buf), "%s (tài khoản ký: %s)", jstr(r, "signer_name"),
		    jstr(r, "signer_login"));
	else
		snprintf(buf, sizeof(buf), "%s (mọi lãnh đạo có vai trò ký)", jstr(r, "signer_name"));
	print_field("Người ký", buf);
	print_field("Nơi nhận", jstr(r, "recipients"));
	/* the electronic original (Nghị định 30/2020, Điều 5): none, half made, or issued */
	json_t *el = json_object_get(r, "electronic"), *sg;
	const char *es = jstr(el, "state");
	if (strcmp(es, "issued") == 0)
		snprintf(buf, sizeof(buf), "%s (SHA-256 %.16s…)", jstr(el, "pdf_path"),
		    jstr(el, "pdf_sha256"));
	else if (strcmp(es, "signed") == 0)
		snprintf(buf, sizeof(buf), "lãnh đạo đã ký số; văn thư cấp số thì cơ quan ký số");
	else if (strcmp(es, "sealing") == 0)
		snprintf(buf, sizeof(buf), "đã cấp số; bản PDF có chữ ký số của cơ quan đang chờ ghi");
	else
		snprintf(buf, sizeof(buf), "không có%s", json_is_true(json_object_get(el,
		    "signing_configured")) ? " (văn bản không được ký số)" :
		    " (vanthud chưa cấu hình ký số)");
	if (el != NULL)
		print_field("Bản gốc điện tử", buf);
	json_array_foreach(json_object_get(el, "signatures"), i, sg) {
		snprintf(buf, sizeof(buf), "%s: %s, %s", strcmp(jstr(sg, "role"), "leader") == 0 ?
		    "lãnh đạo" : "cơ quan", jstr(sg, "subject"), jstr(sg, "signed_at"));
		print_field("Chữ ký số", buf);
	}
	json_array_foreach(json_object_get(el, "copies"), i, sg) {
		snprintf(buf, sizeof(buf), "%s (%s), %s", jstr(sg, "symbol"), jstr(sg, "form"),
		    jstr(sg, "made_by"));
		print_field("Bản sao điện tử", buf);
	}
	buf[0] = '\0';
	json_array_foreach(actions, i, a) {
		size_t off = strlen(buf);
		snprintf(buf + off, sizeof(buf) - off, "%s%s (%s)", i ? ", " : "", jstr(a, "action"),
		    jstr(a, "label"));
	}
	print_field("Bạn có thể", buf[0] ? buf : "không có thao tác nào");
}

static void show_history(json_t *r)
{
	json_t *list = json_object_get(r, "history"), *e;
	size_t i;

	static const char *const heads[] = { "Thời điểm", "Người làm", "Thao tác", "Chi tiết" };
	struct table *t = table_new(4, heads);

	printf("Lịch sử văn bản số %lld:\n", (long long)jint(r, "id"));
	json_array_foreach(list, i, e) {
		json_t *d = json_object_get(e, "detail");
		char when[32], what[4096];
		local_time(jstr(e, "at"), when, sizeof(when));
		if (*jstr(d, "path")) {
			snprintf(what, sizeof(what), "tệp %s (SHA-256 %.16s…)", jstr(d, "path"),
			    jstr(d, "sha256"));
		} else {
			int n = snprintf(what, sizeof(what), "%s → %s", *jstr(d, "from_label") ?
			    jstr(d, "from_label") : "(mới tạo)", *jstr(d, "to_label") ? jstr(d, "to_label") :
			    jstr(d, "to"));
			if (n > 0 && (size_t)n < sizeof(what) && *jstr(d, "symbol"))
				n += snprintf(what + n, sizeof(what) - (size_t)n, ", số %s", jstr(d, "symbol"));
			if (n > 0 && (size_t)n < sizeof(what) && *jstr(d, "comment"))
				snprintf(what + n, sizeof(what) - (size_t)n, " «%s»", jstr(d, "comment"));
		}
		const char *row[] = { when, jstr(e, "actor"), *jstr(e, "action_label") ?
		    jstr(e, "action_label") : action_label(jstr(e, "action")), what };
		if (t)
			table_add(t, row);
	}
	print_table(t);
}

static void show_overdue(json_t *r)
{
	json_t *list = json_object_get(r, "documents"), *e;
	size_t i;

	if (json_array_size(list) == 0) {
		printf("Không có văn bản nào quá hạn.\n");
		return;
	}
	json_array_foreach(list, i, e)
		printf("Văn bản số %lld (%s) — %s quá %lld ngày làm việc (hạn %lld ngày làm việc): %s\n",
		    (long long)jint(e, "id"), jstr(e, "kind_label"), jstr(e, "state_label"),
		    (long long)jint(e, "days_over"), (long long)jint(e, "limit_days"), jstr(e, "summary"));
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

	vn_date(jstr(e, "issued_on"), day, sizeof(day));
	snprintf(cells[0], REGISTER_CELL, "%s", jstr(e, "symbol"));
	snprintf(cells[1], REGISTER_CELL, "%s", day);
	snprintf(cells[2], REGISTER_CELL, "%s: %s", jstr(e, "kind"), jstr(e, "summary"));
	snprintf(cells[3], REGISTER_CELL, "%s", jstr(e, "signer_name"));
	snprintf(cells[4], REGISTER_CELL, "%s", jstr(e, "recipients"));
	snprintf(cells[5], REGISTER_CELL, "%s", jstr(e, "archive"));
	snprintf(cells[6], REGISTER_CELL, "%zu", count_items(jstr(e, "recipients"), "; ") +
	    count_items(jstr(e, "archive"), ","));
	if (*jstr(e, "voided_at"))
		snprintf(cells[7], REGISTER_CELL, "ĐÃ HỦY: %s (%s)", jstr(e, "void_reason"),
		    jstr(e, "voided_by"));
	else
		cells[7][0] = '\0';
}

static void csv_cell(const char *s, int last)
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
		csv_cell(register_head[k], k == REGISTER_COLUMNS - 1);
	json_array_foreach(list, i, e) {
		register_cells(e, cells);
		for (int k = 0; k < REGISTER_COLUMNS; k++)
			csv_cell(cells[k], k == REGISTER_COLUMNS - 1);
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

static void show_register(json_t *r)
{
	json_t *list = json_object_get(r, "entries"), *e;
	char (*cells)[REGISTER_CELL] = malloc(REGISTER_COLUMNS * sizeof(*cells));
	const char *type = "";
	size_t i;

	if (cells == NULL)
		return;
	if (strcmp(jstr(r, "body_kind"), "party") == 0)
		printf("SỔ ĐĂNG KÝ VĂN BẢN ĐI — %s (%s) — nhiệm kỳ %s%s%s\n", jstr(r, "organisation"),
		    jstr(r, "body"), jstr(r, "term"), *jstr(r, "type") ? " — loại " : "", jstr(r, "type"));
	else
		printf("SỔ ĐĂNG KÝ VĂN BẢN ĐI — %s — năm %lld\n", jstr(r, "organisation"),
		    (long long)jint(r, "year"));
	if (jint(r, "start") > 0)
		printf("Tiếp nối sổ giấy: số đầu tiên cấp trong vanthu là %lld.\n",
		    (long long)jint(r, "start"));
	if (json_array_size(list) == 0) {
		if (jint(r, "next") > 1)
			printf("(chưa có văn bản nào; văn bản đầu tiên sẽ mang số %lld)\n",
			    (long long)jint(r, "next"));
		else
			printf("(chưa có văn bản nào)\n");
		free(cells);
		return;
	}
	json_array_foreach(list, i, e) {
		/* a Party register runs one series per type: each starts under its own heading */
		if (*jstr(e, "term") && strcmp(jstr(e, "type"), type) != 0) {
			type = jstr(e, "type");
			printf("\n== %s (%s) ==\n", jstr(e, "kind"), type);
		}
		register_cells(e, cells);
		printf("\n");
		for (int k = 0; k < REGISTER_COLUMNS; k++)
			if (cells[k][0])
				table_print_field(stdout, register_head[k], cells[k], 29, term_width);
	}
	free(cells);
}

static void show_voided(json_t *r)
{
	if (*jstr(r, "type"))
		printf("Đã hủy số %lld loại %s nhiệm kỳ %s của %s; số vẫn nằm trong sổ, có ghi chú lý "
		    "do.\n", (long long)jint(r, "number"), jstr(r, "type"), jstr(r, "term"),
		    jstr(r, "body"));
	else
		printf("Đã hủy số %lld năm %lld; số vẫn nằm trong sổ, có ghi chú lý do.\n",
		    (long long)jint(r, "number"), (long long)jint(r, "year"));
}

static int parse_positive(const char *s, json_int_t *out);

/*
 * Fetches a file the daemon sends in base64 chunks (each within the 64 KiB
 * line cap): cmd with {"id", "offset", extra...} until "total" bytes came,
 * written to out. The other fields of its replies (the SHA-256, the name...)
 * land in meta, when given.
 */
static int fetch_chunks(int fd, const char *cmd, json_int_t id, json_t *extra, FILE *out,
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
				fprintf(stderr, "vanthuctl: %s: %s\n", jstr(err, "code"), jstr(err, "message"));
			}
			json_decref(reply);
			return EXIT_REFUSED;
		}
		res = json_object_get(reply, "result");
		total = jint(res, "total");
		/* what the daemon says of the file besides its bytes: sha256, name, voided... */
		if (meta) {
			json_object_update(meta, res);
			json_object_del(meta, "data");
		}
		data = jstr(res, "data");
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
static int fetch_to_file(int fd, const char *cmd, json_int_t id, json_t *extra, const char *path,
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
	rc = fetch_chunks(fd, cmd, id, extra, fp, *meta, total, json_out, timeout_ms);
	if (rc != EXIT_OK) {
		fclose(fp);
		unlink(tmp);
		return rc;
	}
	if (path == NULL)
		path = plain_name(jstr(*meta, "name")) ? jstr(*meta, "name") : fallback;
	snprintf(final, finallen, "%s", path);
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0 || fclose(fp) != 0 || rename(tmp, final) != 0) {
		fprintf(stderr, "vanthuctl: không ghi được %s: %s\n", final, diag_strerror(errno));
		unlink(tmp);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

/* Prints o as the JSON reply vanthuctl gives with --json, and frees it. */
static void print_json(json_t *o)
{
	char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;

	if (text)
		puts(text);
	free(text);
	json_decref(o);
}

/*
 * render: the DOCX. Without -o (path NULL) it is named as the daemon says:
 * the issued file's own name, a draft's "du-thao-6.docx".
 */
static int fetch_docx(int fd, json_int_t id, const char *path, int json_out, int timeout_ms)
{
	char fallback[64], final[PATH_MAX];
	json_t *meta = NULL;
	json_int_t total;
	int rc;

	snprintf(fallback, sizeof(fallback), "van-ban-%lld.docx", (long long)id);
	rc = fetch_to_file(fd, "render", id, NULL, path, fallback, json_out, timeout_ms, &meta, &total,
	    final, sizeof(final));
	if (rc == EXIT_OK) {
		int voided = json_is_true(json_object_get(meta, "voided"));
		if (json_out)
			print_json(json_pack("{s:b, s:{s:I, s:s, s:I, s:s, s:b, s:s?}}", "ok", 1, "result",
			    "id", id, "path", final, "bytes", total, "sha256", jstr(meta, "sha256"),
			    "voided", voided, "void_reason", voided ? jstr(meta, "void_reason") : NULL));
		else
			printf("Đã ghi %s (%lld byte, SHA-256 %s).\n", final, (long long)total,
			    jstr(meta, "sha256"));
		if (voided && !json_out)
			printf("Lưu ý: số của văn bản này ĐÃ BỊ HỦY (%s); tệp là bản đã ban hành, không "
			    "còn giá trị.\n", jstr(meta, "void_reason"));
	}
	json_decref(meta);
	return rc;
}

/*
 * report --xml: the original bytes, on standard output; with --json, one
 * JSON object whose "xml" is the text (or "base64" when it is not UTF-8).
 */
static int fetch_original(int fd, json_int_t id, int json_out, int timeout_ms)
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
	rc = fetch_chunks(fd, "report", id, extra, out, NULL, &total, json_out, timeout_ms);
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

static void show_nothing(json_t *r)
{
	(void)r;
}

static int build_render(int argc, char **argv, struct call *c)
{
	json_int_t id;

	if (argc < 2 || parse_positive(argv[1], &id) != 0)
		return usage_error("%s", "cách dùng: vanthuctl render ID [-o TỆP]");
	json_object_set_new(c->args, "id", json_integer(id));
	c->kind = CALL_FETCH_DOCX;
	c->out = NULL;  /* the daemon names it */
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			c->out = argv[++i];
		else
			return usage_error("tham số không hợp lệ: %s", argv[i]);
	}
	return 0;
}


static void show_round_opened(json_t *r)
{
	printf("Đã mở đợt báo cáo %s.\n", jstr(r, "id"));
}

static void show_meeting(json_t *r)
{
	printf("Đã tạo dự thảo thông báo kết luận số %lld.\n", (long long)jint(r, "document"));
}

static void show_round_closed(json_t *r)
{
	printf("Đã đóng đợt báo cáo %s", jstr(r, "id"));
	if (jint(r, "document"))
		printf("; dự thảo kết luận là văn bản số %lld", (long long)jint(r, "document"));
	printf(".\n");
}

static void show_rounds(json_t *r)
{
	json_t *list = json_object_get(r, "rounds"), *e;
	size_t i;

	if (json_array_size(list) == 0) {
		if (jint(r, "closed") > 0)
			printf("Không có đợt báo cáo nào đang mở; %lld đợt đã đóng (xem: vanthuctl rounds "
			    "--all).\n", (long long)jint(r, "closed"));
		else
			printf("Không có đợt báo cáo nào.\n");
		return;
	}
	static const char *const heads[] = { "Mã đợt", "Hạn báo cáo", "Đơn vị", "Trạng thái",
		"Nội dung" };
	struct table *t = table_new(5, heads);
	json_array_foreach(list, i, e) {
		char day[32], n[16];
		vn_date(jstr(e, "deadline"), day, sizeof(day));
		snprintf(n, sizeof(n), "%lld", (long long)jint(e, "units"));
		const char *row[] = { jstr(e, "id"), day, n, strcmp(jstr(e, "state"), "open") == 0 ?
		    "đang mở" : "đã đóng", jstr(e, "subject") };
		if (t)
			table_add(t, row);
	}
	print_table(t);
}

static void show_round(json_t *r)
{
	json_t *units = json_object_get(r, "units"), *u;
	char buf[512], day[32];
	size_t i;

	print_field("Đợt báo cáo", jstr(r, "id"));
	print_field("Nội dung", jstr(r, "subject"));
	vn_date(jstr(r, "req_date"), day, sizeof(day));
	snprintf(buf, sizeof(buf), "Công văn số %s/%s ngày %s", jstr(r, "req_number"),
	    jstr(r, "req_symbol"), day);
	print_field("Văn bản yêu cầu", buf);
	vn_date(jstr(r, "deadline"), day, sizeof(day));
	print_field("Hạn báo cáo", day);
	if (*jstr(r, "remind_on")) {
		vn_date(jstr(r, "remind_on"), day, sizeof(day));
		snprintf(buf, sizeof(buf), "%s%s", day, *jstr(r, "reminded_at") ? " (đã đôn đốc)" : "");
		print_field("Ngày đôn đốc", buf);
	}
	print_field("Trạng thái", strcmp(jstr(r, "state"), "open") == 0 ? "đang mở" : "đã đóng");
	snprintf(buf, sizeof(buf), "%lld đúng hạn, %lld muộn, %lld chưa báo cáo",
	    (long long)jint(r, "on_time"), (long long)jint(r, "late"), (long long)jint(r, "missing"));
	if (jint(r, "after_close") > 0)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ", %lld gửi sau khi đóng đợt",
		    (long long)jint(r, "after_close"));
	print_field(json_is_object(json_object_get(r, "closed_counts")) ? "Kết quả hiện nay" :
	    "Kết quả", buf);
	json_t *cc = json_object_get(r, "closed_counts");
	if (json_is_object(cc)) {
		/* what the conclusion says, which later reports do not change */
		int n = snprintf(buf, sizeof(buf), "%lld đúng hạn, %lld muộn, %lld chưa báo cáo (số "
		    "liệu của kết luận", (long long)jint(cc, "on_time"), (long long)jint(cc, "late"),
		    (long long)jint(cc, "missing"));
		if (n > 0 && (size_t)n < sizeof(buf))
			snprintf(buf + n, sizeof(buf) - (size_t)n, jint(r, "conclusion_doc") ?
			    ", văn bản số %lld)" : ")", (long long)jint(r, "conclusion_doc"));
		print_field("Khi đóng đợt", buf);
	}
	printf("\n");
	static const char *const heads[] = { "Mã", "Đơn vị", "Tình trạng", "Ngày báo cáo" };
	struct table *t = table_new(4, heads);
	json_array_foreach(units, i, u) {
		snprintf(buf, sizeof(buf), "%s%s", jstr(u, "status_label"),
		    json_is_true(json_object_get(u, "corrected")) ? "*" : "");
		vn_date(jstr(u, "reported_on"), day, sizeof(day));
		const char *row[] = { jstr(u, "unit_code"), jstr(u, "name"), buf, day };
		if (t)
			table_add(t, row);
	}
	print_table(t);
	int corrected = 0;
	json_array_foreach(units, i, u)
		corrected |= json_is_true(json_object_get(u, "corrected"));
	if (corrected)
		printf("(* đã gửi báo cáo thay thế)\n");
}

static void show_calendar(json_t *r)
{
	json_t *days = json_object_get(r, "days"), *d;
	char day[32];
	size_t i;
	int warned = 0;

	json_array_foreach(days, i, d) {
		vn_date(jstr(d, "date"), day, sizeof(day));
		if (json_is_true(json_object_get(d, "working")))
			printf("  %s  ngày làm việc thứ %lld\n", day, (long long)jint(d, "count"));
		else
			printf("  %s  nghỉ: %s\n", day, jstr(d, "reason"));
		if (!json_is_true(json_object_get(d, "calendar")) && !warned++)
			printf("  (chưa có lịch nghỉ lễ cho năm của ngày này: chỉ tính Thứ Bảy, Chủ nhật)\n");
	}
	vn_date(jstr(r, "result"), day, sizeof(day));
	char from[32];
	vn_date(jstr(r, "from"), from, sizeof(from));
	printf("%lld ngày làm việc kể từ %s: %s\n", (long long)jint(r, "n"), from, day);
}


/* ---- commands ---- */

struct command {
	const char *name;
	int (*build)(int argc, char **argv, struct call *c); /* 0, or EXIT_USAGE */
	void (*show)(json_t *result);
	int timeout_s;
};

static int no_args(int argc, char **argv, struct call *c)
{
	(void)c;
	if (argc > 1)
		return usage_error("lệnh này không nhận tham số: %s", argv[1]);
	return 0;
}

static int parse_positive(const char *s, json_int_t *out)
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

static int build_audit(int argc, char **argv, struct call *c)
{
	for (int i = 1; i < argc; i++) {
		json_int_t v;
		if ((strcmp(argv[i], "--limit") == 0 || strcmp(argv[i], "--before") == 0) && i + 1 < argc) {
			if (parse_positive(argv[i + 1], &v) != 0)
				return usage_error("cần một số nguyên dương: %s", argv[i + 1]);
			json_object_set_new(c->args, argv[i] + 2, json_integer(v));
			i++;
		} else {
			return usage_error("tham số không hợp lệ: %s", argv[i]);
		}
	}
	return 0;
}

static int build_backup(int argc, char **argv, struct call *c)
{
	char abs[PATH_MAX];

	if (argc != 2)
		return usage_error("%s", "cần đúng một tham số: tệp sao lưu (vanthuctl backup TỆP)");
	if (argv[1][0] == '/') {
		snprintf(abs, sizeof(abs), "%s", argv[1]);
	} else {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    (size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, argv[1]) >= sizeof(abs))
			return usage_error("không xác định được đường dẫn tuyệt đối của %s", argv[1]);
	}
	json_object_set_new(c->args, "path", json_string(abs));
	return 0;
}

static int build_units(int argc, char **argv, struct call *c)
{
	return no_args(argc, argv, c);
}

static int build_reports(int argc, char **argv, struct call *c)
{
	for (int i = 1; i < argc; i++) {
		json_int_t v;
		if (i + 1 >= argc)
			return usage_error("tham số không hợp lệ: %s", argv[i]);
		if (strcmp(argv[i], "--unit") == 0 || strcmp(argv[i], "--round") == 0 ||
		    strcmp(argv[i], "--since") == 0) {
			json_object_set_new(c->args, argv[i] + 2, json_string(argv[i + 1]));
		} else if (strcmp(argv[i], "--limit") == 0 || strcmp(argv[i], "--before") == 0) {
			if (parse_positive(argv[i + 1], &v) != 0)
				return usage_error("cần một số nguyên dương: %s", argv[i + 1]);
			json_object_set_new(c->args, argv[i] + 2, json_integer(v));
		} else {
			return usage_error("tham số không hợp lệ: %s", argv[i]);
		}
		i++;
	}
	return 0;
}

static int build_report(int argc, char **argv, struct call *c)
{
	json_int_t id;

	if (argc < 2 || parse_positive(argv[1], &id) != 0)
		return usage_error("%s", "cần số của báo cáo: vanthuctl report ID [--xml]");
	json_object_set_new(c->args, "id", json_integer(id));
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--xml") != 0)
			return usage_error("tham số không hợp lệ: %s", argv[i]);
		c->kind = CALL_FETCH_XML;
	}
	return 0;
}

/* Reads FILE into a base64 "content" argument (capped so the request fits one line). */
static int file_arg(const char *path, json_t *args)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf = NULL, *b64 = NULL;
	size_t len;
	long size;

	if (fp == NULL)
		return usage_error("không mở được %s: %s", path, diag_strerror(errno));
	if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
		fclose(fp);
		return usage_error("không đọc được %s", path);
	}
	if (size > 46000) {
		fclose(fp);
		return usage_error("%s lớn quá 46 000 byte; hãy thả tệp vào thư mục tiếp nhận", path);
	}
	buf = malloc((size_t)size + 1);
	b64 = malloc(((size_t)size + 2) / 3 * 4 + 1);
	len = buf ? fread(buf, 1, (size_t)size, fp) : 0;
	fclose(fp);
	if (buf == NULL || b64 == NULL || len != (size_t)size) {
		free(buf);
		free(b64);
		return usage_error("không đọc được %s", path);
	}
	EVP_EncodeBlock(b64, buf, (int)len);
	json_object_set_new(args, "content", json_string((char *)b64));
	free(buf);
	free(b64);
	return 0;
}

static int build_new(int argc, char **argv, struct call *c)
{
	if (argc != 3)
		return usage_error("%s", "cách dùng: vanthuctl new LOẠI TỆP");
	json_object_set_new(c->args, "kind", json_string(argv[1]));
	return file_arg(argv[2], c->args);
}

/* edit ID FILE, or edit ID --export FILE (FILE "-": standard output). */
static int build_edit(int argc, char **argv, struct call *c)
{
	json_int_t id;

	if ((argc != 3 && !(argc == 4 && strcmp(argv[2], "--export") == 0)) ||
	    parse_positive(argv[1], &id) != 0)
		return usage_error("%s", "cách dùng: vanthuctl edit ID TỆP | vanthuctl edit ID --export "
		    "TỆP");
	json_object_set_new(c->args, "id", json_integer(id));
	if (argc == 4) {
		c->kind = CALL_FETCH_INPUT;
		c->out = argv[3];
		return 0;
	}
	return file_arg(argv[2], c->args);
}

/*
 * edit --export: the document's current input as it is stored, to path
 * ("-": standard output); then "vanthuctl edit ID path" sends the changed
 * file back as the next revision.
 */
static int fetch_input(int fd, json_int_t id, const char *path, int json_out, int timeout_ms)
{
	char final[PATH_MAX];
	json_t *meta = NULL;
	json_int_t total;
	int rc;

	if (strcmp(path, "-") == 0) {
		meta = json_object();
		rc = meta ? fetch_chunks(fd, "doc.content", id, NULL, stdout, meta, &total, json_out,
		    timeout_ms) : EXIT_REFUSED;
		json_decref(meta);
		return rc;
	}
	rc = fetch_to_file(fd, "doc.content", id, NULL, path, NULL, json_out, timeout_ms, &meta, &total,
	    final, sizeof(final));
	if (rc == EXIT_OK && json_out)
		print_json(json_pack("{s:b, s:{s:I, s:s, s:I, s:s}}", "ok", 1, "result", "id", id,
		    "path", final, "bytes", total, "sha256", jstr(meta, "sha256")));
	else if (rc == EXIT_OK)
		printf("Đã ghi nội dung hiện tại của văn bản số %lld vào %s (%lld byte). Sửa tệp rồi gửi "
		    "lại: vanthuctl edit %lld %s\n", (long long)id, final, (long long)total,
		    (long long)id, final);
	json_decref(meta);
	return rc;
}

/* act ID ACTION [-m C], or the short forms: ACTION ID [-m C]. */
static int build_act(int argc, char **argv, struct call *c)
{
	int short_form = strcmp(argv[0], "act") != 0;
	int need = short_form ? 2 : 3;
	json_int_t id;

	if (argc < need || parse_positive(argv[1], &id) != 0)
		return usage_error(short_form ? "cách dùng: vanthuctl %s ID [-m Ý-KIẾN]" :
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
		if (short_form && strcmp(argv[0], "sign") == 0 && parse_positive(argv[i], &more) == 0) {
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
			return usage_error("tham số không hợp lệ: %s", argv[i]);
		*slot = argv[++i];
	}
	if (c->token.module == NULL && (c->token.token || c->token.key_label || c->token.key_id ||
	        c->pin_file))
		return usage_error("%s", "--token, --key, --key-id và --pin-file đi cùng --pkcs11 "
		    "THƯ-VIỆN (thư viện PKCS#11 của thiết bị ký số)");
	if (c->token.module != NULL)
		c->kind = CALL_SIGN;
	else if (json_object_get(c->args, "more_ids"))
		return usage_error("%s", "ký nhiều văn bản một lần chỉ với --pkcs11 (ký số): "
		    "vanthuctl sign ID ID... --pkcs11 THƯ-VIỆN");
	return 0;
}

static int build_pdf(int argc, char **argv, struct call *c)
{
	json_int_t id;

	if (argc >= 3 && strcmp(argv[1], "verify") == 0) {
		c->kind = CALL_VERIFY;
		c->out = argv[2];
		for (int i = 3; i < argc; i++) {
			if (strcmp(argv[i], "--trust") == 0 && i + 1 < argc)
				c->trust = argv[++i];
			else
				return usage_error("tham số không hợp lệ: %s", argv[i]);
		}
		return 0;
	}
	if (argc < 2 || parse_positive(argv[1], &id) != 0)
		return usage_error("%s", "cách dùng: vanthuctl pdf ID [--copy N] [-o TỆP] | vanthuctl pdf verify "
		    "TỆP [--trust TỆP-PEM]");
	json_object_set_new(c->args, "id", json_integer(id));
	c->kind = CALL_FETCH_PDF;
	c->out = NULL;
	for (int i = 2; i < argc; i++) {
		json_int_t n;
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			c->out = argv[++i];
		} else if (strcmp(argv[i], "--copy") == 0 && i + 1 < argc &&
		    parse_positive(argv[i + 1], &n) == 0) {
			json_object_set_new(c->args, "copy", json_integer(n));
			i++;
		} else {
			return usage_error("tham số không hợp lệ: %s", argv[i]);
		}
	}
	return 0;
}

static int build_list(int argc, char **argv, struct call *c)
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
			if (parse_positive(argv[i + 1], &v) != 0)
				return usage_error("cần một số nguyên dương: %s", argv[i + 1]);
			json_object_set_new(c->args, argv[i] + 2, json_integer(v));
			i++;
		} else {
			return usage_error("tham số không hợp lệ: %s", argv[i]);
		}
	}
	return 0;
}

static int build_id(int argc, char **argv, struct call *c)
{
	json_int_t id;

	if (argc != 2 || parse_positive(argv[1], &id) != 0)
		return usage_error("cách dùng: vanthuctl %s ID", argv[0]);
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
		if (parse_positive(argv[*i + 1], &v) != 0) {
			usage_error("năm không hợp lệ: %s", argv[*i + 1]);
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
	if (*jstr(r, "type"))
		printf("Sổ loại %s nhiệm kỳ %s của %s tiếp nối sổ giấy: văn bản đầu tiên cấp số trong "
		    "vanthu sẽ mang số %lld.\n", jstr(r, "type"), jstr(r, "term"), jstr(r, "body"),
		    (long long)jint(r, "next"));
	else
		printf("Sổ năm %lld của %s tiếp nối sổ giấy: văn bản đầu tiên cấp số trong vanthu sẽ "
		    "mang số %lld.\n", (long long)jint(r, "year"), jstr(r, "body"),
		    (long long)jint(r, "next"));
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
			if (parse_positive(argv[++i], &v) != 0)
				return usage_error("số bắt đầu không hợp lệ: %s", argv[i]);
			json_object_set_new(c->args, "next", json_integer(v));
		} else if ((rc = series_option(argc, argv, &i, c)) < 0) {
			return EXIT_USAGE;
		} else if (rc == 0) {
			return usage_error("tham số không hợp lệ: %s", argv[i]);
		}
	}
	if (!json_object_get(c->args, "next") || !json_object_get(c->args, "reason") ||
	    !(json_object_get(c->args, "year") || json_object_get(c->args, "type")))
		return usage_error("%s", "cách dùng: vanthuctl register start --next SỐ (--year NĂM | "
		    "[--body CQ] --type LOẠI [--term NHIỆM-KỲ]) -m LÝ-DO");
	return 0;
}

static int build_register(int argc, char **argv, struct call *c)
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
			return usage_error("tham số không hợp lệ: %s", argv[i]);
	}
	return 0;
}

static int build_void(int argc, char **argv, struct call *c)
{
	json_int_t v;

	if (argc < 2 || parse_positive(argv[1], &v) != 0)
		return usage_error("%s", "cách dùng: vanthuctl void SỐ (--year NĂM | [--body CQ] --type "
		    "LOẠI [--term NHIỆM-KỲ]) -m LÝ-DO");
	json_object_set_new(c->args, "number", json_integer(v));
	for (int i = 2; i < argc; i++) {
		int rc;
		if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
			json_object_set_new(c->args, "reason", json_string(argv[++i]));
		else if ((rc = series_option(argc, argv, &i, c)) < 0)
			return EXIT_USAGE;
		else if (rc == 0)
			return usage_error("tham số không hợp lệ: %s", argv[i]);
	}
	if (!(json_object_get(c->args, "year") || json_object_get(c->args, "type")))
		return usage_error("%s", "cần --year NĂM (sổ của cơ quan nhà nước) hoặc --type LOẠI "
		    "(sổ của cấp ủy Đảng): số nào, của sổ nào");
	if (!json_object_get(c->args, "reason"))
		return usage_error("hủy số %lld phải ghi rõ lý do: -m \"LÝ DO\" (lý do được ghi vào sổ "
		    "đăng ký, cột Ghi chú)", (long long)v);
	return 0;
}

static int build_round(int argc, char **argv, struct call *c)
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
				return usage_error("tham số không hợp lệ: %s", argv[i]);
		}
		if (file == NULL)
			return usage_error("%s", "cách dùng: vanthuctl round new TỆP [--today] [--force]");
		return file_arg(file, c->args);
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
	return usage_error("%s", "cách dùng: vanthuctl round ID | round new TỆP [--today] [--force] | "
	    "round close ID");
}

static int build_rounds(int argc, char **argv, struct call *c)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all") != 0)
			return usage_error("tham số không hợp lệ: %s", argv[i]);
		json_object_set_new(c->args, "all", json_true());
	}
	return 0;
}

static int build_meeting(int argc, char **argv, struct call *c)
{
	if (argc != 2)
		return usage_error("%s", "cách dùng: vanthuctl meeting TỆP");
	c->request = "round.meeting";
	return file_arg(argv[1], c->args);
}

static int build_calendar(int argc, char **argv, struct call *c)
{
	char *end;
	long n;

	if (argc != 4 || strcmp(argv[1], "explain") != 0)
		return usage_error("%s", "cách dùng: vanthuctl calendar explain YYYY-MM-DD N");
	errno = 0;
	n = strtol(argv[3], &end, 10);
	if (errno || *end || end == argv[3] || n < -250 || n > 250)
		return usage_error("số ngày làm việc không hợp lệ: %s", argv[3]);
	c->request = "calendar.explain";
	json_object_set_new(c->args, "date", json_string(argv[2]));
	json_object_set_new(c->args, "n", json_integer(n));
	return 0;
}

/* ---- electronic originals ---- */

/* One request on fd and its reply (NULL: no answer; the message is printed). */
static json_t *ask(int fd, const char *cmd, json_t *args, int timeout_ms)
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

/* A refusal as vanthuctl prints it (or the reply itself with --json); EXIT_REFUSED. */
static int refused(json_t *reply, int json_out)
{
	json_t *err = json_object_get(reply, "error");

	if (json_out)
		print_json(json_incref(reply));
	else
		fprintf(stderr, "vanthuctl: %s: %s\n", jstr(err, "code"), jstr(err, "message"));
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
	if (args == NULL || (reply = ask(fd, "sign.prepare", args, 180000)) == NULL)
		goto out;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		rc = refused(reply, json_out);
		goto out;
	}
	res = json_object_get(reply, "result");
	const char *t = jstr(res, "tbs_sha256");
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
	if (args == NULL || (reply = ask(fd, "sign.finish", args, 60000)) == NULL)
		goto out;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		rc = refused(reply, json_out);
		goto out;
	}
	res = json_object_get(reply, "result");
	if (json_out)
		print_json(json_incref(reply));
	else
		printf("Đã ký số văn bản số %lld; bản PDF đã ký có SHA-256 %s.\n", (long long)id,
		    jstr(res, "pdf_sha256"));
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
static int sign_with_token(struct call *c, const char *socket_path, int json_out)
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
	fd = connect_to(pick_socket(socket_path));
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
static int fetch_pdf(int fd, json_int_t id, json_int_t copy, const char *path, int json_out,
    int timeout_ms)
{
	char fallback[64], final[PATH_MAX], sha[HASH_HEX_LEN + 1] = "";
	json_t *meta = NULL, *extra = copy > 0 ? json_pack("{s:I}", "copy", copy) : NULL;
	json_int_t total;
	unsigned char *buf = NULL;
	int rc;

	snprintf(fallback, sizeof(fallback), "van-ban-%lld.pdf", (long long)id);
	rc = fetch_to_file(fd, "pdf", id, extra, path, fallback, json_out, timeout_ms, &meta, &total,
	    final, sizeof(final));
	json_decref(extra);
	if (rc == EXIT_OK) {
		FILE *fp = fopen(final, "rb");
		buf = malloc((size_t)total + 1);
		if (fp == NULL || buf == NULL || fread(buf, 1, (size_t)total, fp) != (size_t)total ||
		    hash_sha256_hex(buf, (size_t)total, sha) != 0 ||
		    strcmp(sha, jstr(meta, "sha256")) != 0) {
			fprintf(stderr, "vanthuctl: %s không khớp với mã SHA-256 vanthud đã ghi (%s); đã "
			    "xóa\n", final, jstr(meta, "sha256"));
			unlink(final);
			rc = EXIT_REFUSED;
		}
		if (fp)
			fclose(fp);
	}
	if (rc == EXIT_OK) {
		if (json_out)
			print_json(json_pack("{s:b, s:{s:I, s:s, s:I, s:s}}", "ok", 1, "result", "id", id,
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
static int verify_pdf(struct call *c, const char *socket_path, int json_out)
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
		int fd = connect_to(pick_socket(socket_path));
		json_t *args = json_object(), *reply = fd >= 0 && args ? ask(fd, "signing", args, 10000) :
		    NULL;
		const char *p = jstr(json_object_get(reply, "result"), "trust");
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
		print_json(json_pack("{s:b, s:O}", "ok", rc == EXIT_OK, "result", res));
		goto out;
	}
	json_t *list = json_object_get(res, "signatures"), *e;
	size_t i;
	printf("%s: %lld chữ ký số.\n", c->out, (long long)json_array_size(list));
	json_array_foreach(list, i, e) {
		printf("%lld. %s — %s\n", (long long)jint(e, "index"), jstr(e, "signer")[0] ?
		    jstr(e, "signer") : jstr(e, "name"), status_text(jstr(e, "status")));
		printf("   Ký lúc: %s; trường \"%s\"; lý do: %s\n", jstr(e, "signed_at"),
		    jstr(e, "field"), jstr(e, "reason"));
		printf("   Phạm vi: %s\n", json_is_true(json_object_get(e, "whole")) ?
		    "toàn bộ tệp" : json_is_true(json_object_get(e, "covers_revision")) ?
		    "tệp đến phiên bản này (phần sau là phần thêm vào sau khi ký)" :
		    "không phải một phiên bản của tệp");
		printf("   Chứng thư: %s\n", json_is_true(json_object_get(e, "trusted")) ?
		    "được tin cậy" : "không được tin cậy");
		if (jstr(e, "why")[0])
			printf("   Chi tiết: %s\n", jstr(e, "why"));
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
static int make_copy(int fd, struct call *c, int json_out, int timeout_ms)
{
	json_int_t id = json_integer_value(json_object_get(c->args, "id"));
	json_t *reply = ask(fd, "copy", c->args, timeout_ms), *res;
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
		printf("Đã làm bản sao điện tử %s (%s) của văn bản số %lld.\n", jstr(res, "symbol"),
		    jstr(res, "form"), (long long)id);
	rc = fetch_pdf(fd, id, jint(res, "copy"), c->out, json_out, timeout_ms);
	json_decref(reply);
	return rc;
}

static int build_copy(int argc, char **argv, struct call *c)
{
	json_int_t id;

	if (argc < 2 || parse_positive(argv[1], &id) != 0)
		return usage_error("%s", "cách dùng: vanthuctl copy ID [--form sao-y|sao-luc] [-o TỆP]");
	json_object_set_new(c->args, "id", json_integer(id));
	c->kind = CALL_COPY;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			c->out = argv[++i];
		else if (strcmp(argv[i], "--form") == 0 && i + 1 < argc)
			json_object_set_new(c->args, "form", json_string(argv[++i]));
		else
			return usage_error("tham số không hợp lệ: %s", argv[i]);
	}
	return 0;
}

static const struct command commands[] = {
	{ "status", no_args, show_status, 30 },
	{ "ping", no_args, show_ping, 30 },
	{ "whoami", no_args, show_whoami, 30 },
	{ "audit", build_audit, show_audit, 30 },
	{ "verify", no_args, show_verify, 600 },
	{ "backup", build_backup, show_backup, 3600 },
	{ "units", build_units, show_units, 30 },
	{ "reports", build_reports, show_reports, 30 },
	{ "report", build_report, show_report, 30 },
	{ "rejected", build_audit, show_rejected, 30 },
	{ "new", build_new, show_created, 30 },
	{ "edit", build_edit, show_edited, 30 },
	{ "act", build_act, show_acted, 30 },
	{ "submit", build_act, show_acted, 30 },
	{ "approve", build_act, show_acted, 30 },
	{ "return", build_act, show_acted, 30 },
	{ "sign", build_act, show_acted, 30 },
	{ "issue", build_act, show_acted, 30 },
	{ "withdraw", build_act, show_acted, 30 },
	{ "list", build_list, show_list, 30 },
	{ "show", build_id, show_doc, 30 },
	{ "history", build_id, show_history, 30 },
	{ "overdue", no_args, show_overdue, 30 },
	{ "register", build_register, show_register, 30 },
	{ "void", build_void, show_voided, 30 },
	{ "render", build_render, show_nothing, 120 },
	{ "pdf", build_pdf, show_nothing, 120 },
	{ "copy", build_copy, show_nothing, 60 },
	{ "round", build_round, show_round, 60 },
	{ "rounds", build_rounds, show_rounds, 30 },
	{ "meeting", build_meeting, show_meeting, 60 },
	{ "calendar", build_calendar, show_calendar, 30 },
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
				rc = usage_error("%s", "-s cần đường dẫn của ổ cắm");
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
			rc = usage_error("tùy chọn không hợp lệ: %s", argv[i]);
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
		rc = usage_error("không có lệnh \"%s\"", cargv[0]);
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
		rc = verify_pdf(&call, o.socket, o.json);
		goto out;
	}
	if (call.kind == CALL_SIGN) {
		rc = sign_with_token(&call, o.socket, o.json);
		goto out;
	}
	if (call.kind != CALL_REQUEST) {
		json_int_t id = json_integer_value(json_object_get(call.args, "id"));
		fd = connect_to(pick_socket(o.socket));
		if (fd >= 0 && call.kind == CALL_FETCH_PDF)
			rc = fetch_pdf(fd, id, json_integer_value(json_object_get(call.args, "copy")),
			    call.out, o.json, o.timeout_ms);
		else if (fd >= 0 && call.kind == CALL_COPY)
			rc = make_copy(fd, &call, o.json, o.timeout_ms);
		else if (fd >= 0)
			rc = call.kind == CALL_FETCH_DOCX ? fetch_docx(fd, id, call.out, o.json,
			    o.timeout_ms) : call.kind == CALL_FETCH_INPUT ? fetch_input(fd, id, call.out,
			    o.json, o.timeout_ms) : fetch_original(fd, id, o.json, o.timeout_ms);
		goto out;
	}
	line = proto_encode_request(call.request ? call.request : cmd->name, call.args);
	if (line == NULL)
		goto out;
	fd = connect_to(pick_socket(o.socket));
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
		if (strcmp(cmd->name, "verify") == 0 && !json_is_true(json_object_get(result, "intact")))
			rc = EXIT_REFUSED;
	} else {
		json_t *err = json_object_get(reply, "error");
		if (!o.json)
			fprintf(stderr, "vanthuctl: %s: %s\n", jstr(err, "code"), jstr(err, "message"));
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
