/*
 * ctl_intake.c: the commands on the units' reports: units, reports, report
 * (one report, its indicators, receipt and original in pieces) and rejected.
 */
#include "ctl_priv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "report.h"
#include "units.h"

static int cmd_units(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const struct catalog *cat = c->ctl->cat;
	json_t *list = json_array(), *groups = json_array();

	(void)args;
	if (cat == NULL || list == NULL || groups == NULL) {
		json_decref(list);
		json_decref(groups);
		snprintf(msg, msglen, "danh mục đơn vị chưa được nạp");
		return E_INTERNAL;
	}
	for (size_t i = 0; i < cat->units->ngroups; i++)
		json_array_append_new(groups, json_pack("{s:s, s:s}", "code", cat->units->groups[i].code,
		    "label", cat->units->groups[i].label));
	for (size_t i = 0; i < cat->units->nunits; i++) {
		const struct unit *u = &cat->units->units[cat->units->by_name[i]];
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s?}", "code", u->code,
		    "name", u->name, "short", u->short_name, "group", cat->units->groups[u->group].code,
		    "id", u->id));
	}
	*result = json_pack("{s:o, s:o}", "groups", groups, "units", list);
	return 0;
}

/* "YYYY-MM-DD" in Vietnam's time zone, as the UTC instant its day starts. */
static int since_utc(const char *date, char *out, size_t len)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (!report_valid_date(date) || strptime(date, "%Y-%m-%d", &tm) == NULL)
		return -1;
	t = timegm(&tm) - 7 * 3600;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
	return 0;
}

static int cmd_reports(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct store_report_filter f = { .limit = 50 };
	json_int_t limit = 50, before = 0;
	const char *since = NULL;
	char since_buf[32], err[256];
	json_t *list;
	int rc;

	if ((rc = ctl_str_arg(args, "unit", 64, &f.unit, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "round", 64, &f.round, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "since", 10, &since, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "limit", 1, 200, &limit, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "before", 1, INT64_MAX, &before, msg, msglen)))
		return rc;
	if (since != NULL) {
		if (since_utc(since, since_buf, sizeof(since_buf)) != 0) {
			snprintf(msg, msglen, "\"since\" phải là một ngày có thật dạng YYYY-MM-DD");
			return E_INVALID;
		}
		f.since = since_buf;
	}
	f.limit = (int)limit;
	f.before = before;
	list = json_array();
	if (list == NULL || store_reports_list(c->ctl->store, &f, ctl_collect_row, list, err,
	        sizeof(err)) != STORE_OK) {
		log_err("reports: %s", err);
		json_decref(list);
		snprintf(msg, msglen, "không đọc được danh sách báo cáo (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	*result = json_pack("{s:o}", "reports", list);
	if (*result != NULL)
		ctl_page_list(*result, "reports", "id", limit);
	return 0;
}

struct report_parts {
	json_t *report, *indicators, *receipt;
};

static int take_report(const struct store_col *cols, int n, void *arg)
{
	struct report_parts *p = arg;

	p->report = ctl_row_object(cols, n);
	return 0;
}

static int take_indicator(const struct store_col *cols, int n, void *arg)
{
	return json_array_append_new(((struct report_parts *)arg)->indicators, ctl_row_object(cols, n));
}

static int take_receipt(const struct store_col *cols, int n, void *arg)
{
	((struct report_parts *)arg)->receipt = ctl_row_object(cols, n);
	return 0;
}

static int cmd_report(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_int_t id = 0, offset = 0;
	struct report_parts p = { 0 };
	char err[256];
	int rc;

	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "offset", 0, INT64_MAX, &offset, msg, msglen)))
		return rc;
	if (id == 0) {
		snprintf(msg, msglen, "thiếu \"id\": số của báo cáo");
		return E_INVALID;
	}
	if (json_is_true(json_object_get(args, "xml"))) {
		char *raw = malloc(FETCH_CHUNK);
		size_t len = 0;
		int64_t total = 0;
		if (raw == NULL) {
			snprintf(msg, msglen, "hết bộ nhớ");
			return E_INTERNAL;
		}
		rc = store_report_original(c->ctl->store, id, offset, FETCH_CHUNK, raw, &len, &total,
		    err, sizeof(err));
		if (rc == STORE_OK && (*result = ctl_chunk_json(id, offset, (size_t)total, raw, len,
		    NULL)) == NULL) {
			free(raw);
			snprintf(msg, msglen, "hết bộ nhớ");
			return E_INTERNAL;
		}
		free(raw);
		if (rc == STORE_INVALID) {
			snprintf(msg, msglen, "không có báo cáo số %lld", (long long)id);
			return E_NOT_FOUND;
		}
		if (rc != STORE_OK) {
			log_err("report: %s", err);
			snprintf(msg, msglen, "không đọc được báo cáo (xem nhật ký của vanthud)");
			return E_INTERNAL;
		}
		return 0;
	}
	p.indicators = json_array();
	rc = store_report_get(c->ctl->store, id, take_report, take_indicator, take_receipt, &p, err,
	    sizeof(err));
	if (rc != STORE_OK) {
		json_decref(p.report);
		json_decref(p.indicators);
		json_decref(p.receipt);
		if (rc == STORE_INVALID) {
			snprintf(msg, msglen, "không có báo cáo số %lld", (long long)id);
			return E_NOT_FOUND;
		}
		log_err("report: %s", err);
		snprintf(msg, msglen, "không đọc được báo cáo (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	/* the body is stored as JSON text: hand it over as JSON */
	json_t *content = json_object_get(p.report, "content");
	if (json_is_string(content)) {
		json_t *parsed = json_loads(json_string_value(content), 0, NULL);
		if (parsed)
			json_object_set_new(p.report, "content", parsed);
	}
	json_object_set_new(p.report, "indicators", p.indicators);
	json_object_set_new(p.report, "receipt", p.receipt ? p.receipt : json_null());
	/* A long report's body would not fit one line: it stays in the original (--xml). */
	char *probe = json_dumps(p.report, JSON_COMPACT);
	if (probe == NULL || strlen(probe) > PROTO_MAX_LINE - 1024) {
		json_t *content2 = json_object_get(p.report, "content");
		if (json_is_object(content2))
			json_object_set_new(content2, "body", json_array());
		json_object_set_new(p.report, "body_omitted", json_true());
	}
	free(probe);
	*result = p.report;
	return 0;
}

static int cmd_rejected(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_int_t limit = 20, before = 0;
	char err[256];
	json_t *list;
	size_t i;
	json_t *e;
	int rc;

	if ((rc = ctl_int_arg(args, "limit", 1, 200, &limit, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "before", 1, INT64_MAX, &before, msg, msglen)))
		return rc;
	list = json_array();
	if (list == NULL || store_rejected_list(c->ctl->store, before, (int)limit, ctl_collect_row, list,
	        err, sizeof(err)) != STORE_OK) {
		log_err("rejected: %s", err);
		json_decref(list);
		snprintf(msg, msglen, "không đọc được danh sách bị từ chối (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	json_array_foreach(list, i, e) {
		json_t *errs = json_object_get(e, "errors");
		json_t *parsed = json_is_string(errs) ? json_loads(json_string_value(errs), 0, NULL) : NULL;
		if (parsed)
			json_object_set_new(e, "errors", parsed);
	}
	*result = json_pack("{s:o}", "rejected", list);
	if (*result != NULL)
		ctl_page_list(*result, "rejected", "receipt", limit);
	return 0;
}

/* This file's commands; NULL-terminated (ctl.c looks through every table). */
const struct command ctl_intake_commands[] = {
	{ "units", ROLES_ALL, cmd_units },
	{ "reports", ROLES_ALL, cmd_reports },
	{ "report", ROLES_ALL, cmd_report },
	{ "rejected", ROLES_ALL, cmd_rejected },
	{ NULL, 0, NULL },
};
