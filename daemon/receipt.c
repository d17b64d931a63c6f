/*
 * receipt.c: the receipt a unit gets for every file it dropped: an XML one
 * for programs (urn:vanthu:receipt:1) and a short Vietnamese text for
 * people, with the outcome, the report's number, the file's SHA-256 and
 * every error with its line, column and stable code. Formatting only; the
 * spool writes them.
 */
#include "receipt.h"
#include "vnfmt.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A growing string. */
struct sbuf {
	char *s;
	size_t len, cap;
	int failed;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 1024;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (p == NULL) {
			b->failed = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
}

/* XML-escaped text; characters XML 1.0 cannot hold, and bytes that are not UTF-8, become U+FFFD. */
static void sb_xml(struct sbuf *b, const char *raw)
{
	char *t = NULL;

	if (vnfmt_utf8_clean(raw ? raw : "", &t) != VNFMT_OK) {
		b->failed = 1;
		return;
	}
	for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
		switch (*p) {
		case '&': sb_add(b, "&amp;"); break;
		case '<': sb_add(b, "&lt;"); break;
		case '>': sb_add(b, "&gt;"); break;
		case '"': sb_add(b, "&quot;"); break;
		case '\'': sb_add(b, "&apos;"); break;
		default:
			if (*p < 0x20 && *p != '\t' && *p != '\n')
				sb_add(b, "\xEF\xBF\xBD");
			else
				sb_add(b, "%c", *p);
		}
	}
	free(t);
}

/* Text for a person: control characters shown as '?', bytes that are not UTF-8 as U+FFFD. */
static void sb_plain(struct sbuf *b, const char *raw)
{
	char *t = NULL;

	if (vnfmt_utf8_clean(raw ? raw : "", &t) != VNFMT_OK) {
		b->failed = 1;
		return;
	}
	for (const unsigned char *p = (const unsigned char *)t; *p; p++)
		sb_add(b, "%c", *p < 0x20 ? '?' : *p);
	free(t);
}

/* Vietnam is UTC+7 all year. */
static int to_local(const char *utc, struct tm *out)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (utc == NULL || strptime(utc, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return -1;
	t = timegm(&tm) + 7 * 3600;
	gmtime_r(&t, out);
	return 0;
}

void receipt_local_time(const char *utc, char *out, size_t len)
{
	struct tm tm;

	if (to_local(utc, &tm) != 0) {
		snprintf(out, len, "%s", utc ? utc : "");
		return;
	}
	strftime(out, len, "%Y-%m-%dT%H:%M:%S+07:00", &tm);
}

char *receipt_xml(const struct receipt_info *r)
{
	struct sbuf b = { 0 };
	char local[40];

	receipt_local_time(r->received_at, local, sizeof(local));
	sb_add(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	sb_add(&b, "<receipt xmlns=\"urn:vanthu:receipt:1\" id=\"%lld\">\n", (long long)r->id);
	sb_add(&b, "  <file folder=\"");
	sb_xml(&b, r->folder);
	sb_add(&b, "\">");
	sb_xml(&b, r->file);
	sb_add(&b, "</file>\n  <received>%s</received>\n  <outcome>%s</outcome>\n", local, r->outcome);
	/* a file that was not read (a link, several hard links) has neither */
	if (r->sha256 != NULL && r->sha256[0] != '\0')
		sb_add(&b, "  <sha256>%s</sha256>\n", r->sha256);
	if (r->size >= 0)
		sb_add(&b, "  <size>%lld</size>\n", (long long)r->size);
	if (r->unit_code) {
		sb_add(&b, "  <unit code=\"");
		sb_xml(&b, r->unit_code);
		sb_add(&b, "\">");
		sb_xml(&b, r->unit_name);
		sb_add(&b, "</unit>\n");
	}
	if (r->round_id) {
		sb_add(&b, "  <round id=\"");
		sb_xml(&b, r->round_id);
		if (r->late_deadline && *r->late_deadline) {
			/* the unit's first report, after the deadline: the unit reported late */
			sb_add(&b, "\" late=\"true\" deadline=\"");
			sb_xml(&b, r->late_deadline);
		}
		if (r->after_close && *r->after_close) {
			/* received after the round closed: kept, not counted in its conclusion */
			sb_add(&b, "\" after-close=\"true\" closed-at=\"");
			sb_xml(&b, r->after_close);
		}
		sb_add(&b, "\"/>\n");
	}
	if (r->report_id > 0)
		sb_add(&b, "  <report id=\"%lld\"/>\n", (long long)r->report_id);
	if (r->supersedes > 0)
		sb_add(&b, "  <supersedes report=\"%lld\"/>\n", (long long)r->supersedes);
	if (r->document_id > 0) {
		sb_add(&b, "  <document id=\"%lld\" kind=\"", (long long)r->document_id);
		sb_xml(&b, r->document_kind);
		sb_add(&b, "\"/>\n");
	}
	if (r->errors && r->errors->count > 0) {
		sb_add(&b, "  <errors count=\"%zu\">\n", r->errors->count);
		for (size_t i = 0; i < r->errors->count; i++) {
			const struct diag *d = &r->errors->items[i];
			sb_add(&b, "    <error code=\"%s\" line=\"%d\" column=\"%d\">", d->code, d->line,
			    d->column);
			sb_xml(&b, d->message);
			sb_add(&b, "</error>\n");
		}
		sb_add(&b, "  </errors>\n");
	}
	sb_add(&b, "</receipt>\n");
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

char *receipt_text(const struct receipt_info *r)
{
	struct sbuf b = { 0 };
	struct tm tm;
	char when[64];

	if (to_local(r->received_at, &tm) == 0)
		strftime(when, sizeof(when), "%H:%M:%S ngày %d/%m/%Y (giờ Việt Nam)", &tm);
	else
		snprintf(when, sizeof(when), "%s", r->received_at ? r->received_at : "");
	sb_add(&b, "BIÊN NHẬN SỐ %lld\n\n", (long long)r->id);
	sb_add(&b, "Tệp:        ");
	sb_plain(&b, r->file);
	if (r->folder && *r->folder) {
		sb_add(&b, " (thư mục ");
		sb_plain(&b, r->folder);
		sb_add(&b, ")");
	}
	sb_add(&b, "\nNhận lúc:   %s\n", when);
	if (r->unit_code) {
		sb_add(&b, "Đơn vị:     ");
		if (r->unit_name) {
			sb_plain(&b, r->unit_name);
			sb_add(&b, " (");
			sb_plain(&b, r->unit_code);
			sb_add(&b, ")");
		} else {
			sb_plain(&b, r->unit_code);
		}
		sb_add(&b, "\n");
	}
	if (r->round_id) {
		sb_add(&b, "Đợt báo cáo: ");
		sb_plain(&b, r->round_id);
		sb_add(&b, "\n");
	}
	if (r->round_opened && strcmp(r->outcome, "accepted") == 0)
		sb_add(&b, "Kết quả:    ĐÃ TIẾP NHẬN — đã mở đợt báo cáo\n");
	else if (r->round_opened && strcmp(r->outcome, "duplicate") == 0)
		sb_add(&b, "Kết quả:    TRÙNG LẶP — đợt báo cáo này đã có; không mở thêm\n");
	else if (strcmp(r->outcome, "accepted") == 0 && r->document_id > 0)
		sb_add(&b, "Kết quả:    ĐÃ TIẾP NHẬN — dự thảo văn bản số %lld (%s)\n",
		    (long long)r->document_id, r->document_kind ? r->document_kind : "");
	else if (strcmp(r->outcome, "accepted") == 0)
		sb_add(&b, "Kết quả:    ĐÃ TIẾP NHẬN — báo cáo số %lld\n", (long long)r->report_id);
	else if (strcmp(r->outcome, "duplicate") == 0 && r->document_id > 0)
		sb_add(&b, "Kết quả:    TRÙNG LẶP — đã có dự thảo văn bản số %lld (%s) từ cùng nội dung "
		    "này; không tạo thêm. Muốn sửa, hãy sửa văn bản số %lld\n",
		    (long long)r->document_id, r->document_kind ? r->document_kind : "",
		    (long long)r->document_id);
	else if (strcmp(r->outcome, "duplicate") == 0)
		sb_add(&b, "Kết quả:    TRÙNG LẶP — giống hệt báo cáo số %lld đã nhận; không ghi nhận "
		    "thêm\n", (long long)r->report_id);
	else if (strcmp(r->outcome, "superseding") == 0)
		sb_add(&b, "Kết quả:    ĐÃ TIẾP NHẬN, THAY THẾ báo cáo số %lld — báo cáo số %lld\n",
		    (long long)r->supersedes, (long long)r->report_id);
	else
		sb_add(&b, "Kết quả:    BỊ TỪ CHỐI — %zu lỗi:\n", r->errors ? r->errors->count : 0);
	if (r->after_close && *r->after_close && strcmp(r->outcome, "rejected") != 0 &&
	    strcmp(r->outcome, "duplicate") != 0) {
		char closed[40];
		receipt_local_time(r->after_close, closed, sizeof(closed));
		sb_add(&b, "Lưu ý:      GỬI SAU KHI ĐỢT BÁO CÁO ĐÃ ĐÓNG (đóng lúc %s): báo cáo được lưu "
		    "nhưng không được tính trong kết luận của đợt đã soạn khi đóng\n", closed);
	} else if (r->late_deadline && *r->late_deadline && strcmp(r->outcome, "rejected") != 0 &&
	    strcmp(r->outcome, "duplicate") != 0) {
		int y = 0, m = 0, d = 0;
		sscanf(r->late_deadline, "%d-%d-%d", &y, &m, &d);
		sb_add(&b, "Lưu ý:      GỬI MUỘN: hạn báo cáo của đợt là ngày %02d/%02d/%04d; đơn vị được "
		    "ghi là báo cáo muộn\n", d, m, y);
	}
	if (r->errors) {
		for (size_t i = 0; i < r->errors->count; i++) {
			const struct diag *d = &r->errors->items[i];
			sb_add(&b, "  %zu. [%s] ", i + 1, d->code);
			if (d->line > 0 && d->column > 0)
				sb_add(&b, "dòng %d, cột %d: ", d->line, d->column);
			else if (d->line > 0)
				sb_add(&b, "dòng %d: ", d->line);
			sb_plain(&b, d->message);
			sb_add(&b, "\n");
		}
	}
	if (r->sha256 != NULL && r->sha256[0] != '\0')
		sb_add(&b, "SHA-256:    %s\n", r->sha256);
	if (r->size >= 0)
		sb_add(&b, "Kích thước: %lld byte\n", (long long)r->size);
	else
		sb_add(&b, "Tệp không được đọc, nên biên nhận không ghi SHA-256 và kích thước.\n");
	if (strcmp(r->outcome, "rejected") == 0)
		sb_add(&b, "\nHãy sửa các lỗi trên rồi gửi lại tệp vào thư mục tiếp nhận.\n");
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

char *receipt_errors_json(const struct diag_list *errors)
{
	json_t *arr = json_array();
	char *s;

	if (arr == NULL)
		return NULL;
	for (size_t i = 0; errors && i < errors->count; i++) {
		const struct diag *d = &errors->items[i];
		char *msg = NULL;
		if (vnfmt_utf8_clean(d->message, &msg) != VNFMT_OK) {
			json_decref(arr);
			return NULL;
		}
		json_array_append_new(arr, json_pack("{s:s, s:i, s:i, s:s}", "code", d->code,
		    "line", d->line, "column", d->column, "message", msg));
		free(msg);
	}
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}
