/*
 * ctl_round.c: the reporting rounds' commands: round.new, round.meeting,
 * rounds, round, round.close, and calendar.explain (working days).
 */
#include "ctl_priv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "log.h"
#include "rounds.h"

static int cmd_round_new(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct diag_list errs;
	struct wf_actor a;
	char *xml = NULL, id[80];
	size_t len = 0;
	int rc;

	if ((rc = ctl_content_arg(args, &xml, &len, msg, msglen)))
		return rc;
	if (c->ctl->cat == NULL) {
		free(xml);
		snprintf(msg, msglen, "danh mục chưa được nạp");
		return E_INTERNAL;
	}
	ctl_actor_of(c, &a);
	diag_init(&errs);
	unsigned flags = (json_is_true(json_object_get(args, "force")) ? ROUNDS_FORCE : 0) |
	    (json_is_true(json_object_get(args, "today")) ? ROUNDS_TODAY : 0);
	rc = rounds_create(c->ctl->store, c->ctl->cat, c->ctl->cfg, xml, len, &a, flags, id,
	    sizeof(id), &errs, msg, msglen);
	free(xml);
	if (rc != WF_OK)
		return ctl_refuse_input(rc, msg, msglen, &errs);
	diag_free(&errs);
	/* its reminder or closing may be due already */
	if (c->ctl->on_change)
		c->ctl->on_change(c->ctl->on_change_arg);
	*result = json_pack("{s:s}", "id", id);
	return 0;
}

static int cmd_meeting(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct diag_list errs;
	char *xml = NULL;
	size_t len = 0;
	int64_t doc = 0;
	int rc;

	if (!(c->peer.roles & (ROLE_DRAFTER | ROLE_CLERK | ROLE_ADMIN))) {
		snprintf(msg, msglen, "chỉ chuyên viên, văn thư hoặc quản trị mới gửi được kết luận cuộc "
		    "họp; %s không có vai trò đó", c->peer.login);
		return E_DENIED;
	}
	if ((rc = ctl_content_arg(args, &xml, &len, msg, msglen)))
		return rc;
	diag_init(&errs);
	rc = rounds_meeting(c->ctl->store, c->ctl->cat, c->ctl->cfg, xml, len, &doc,
	    &errs, msg, msglen);
	free(xml);
	if (rc != WF_OK)
		return ctl_refuse_input(rc, msg, msglen, &errs);
	diag_free(&errs);
	/* the draft belongs to [rounds] drafter; the history says who sent the conclusions */
	char object[48], err[256];
	snprintf(object, sizeof(object), "document/%lld", (long long)doc);
	if (store_audit_append(c->ctl->store, (int64_t)c->peer.uid, c->peer.login, "meeting.sent",
	        object, "{\"from\":\"\",\"to\":\"draft\"}", err, sizeof(err)) != STORE_OK)
		log_err("audit: %s", err);
	*result = json_pack("{s:I}", "document", (json_int_t)doc);
	return 0;
}

static int cmd_rounds(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_t *list = json_array();
	char err[256];

	if (list == NULL || store_rounds_list(c->ctl->store, !json_is_true(json_object_get(args, "all")),
	        ctl_collect_row, list, err, sizeof(err)) != STORE_OK) {
		log_err("rounds: %s", err);
		json_decref(list);
		snprintf(msg, msglen, "không đọc được danh sách đợt báo cáo (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	/* "none open" is not "none at all": say how many are closed */
	json_int_t closed = 0;
	json_t *all = json_array(), *e;
	size_t i;
	if (all && store_rounds_list(c->ctl->store, 0, ctl_collect_row, all, err, sizeof(err)) ==
	    STORE_OK)
		json_array_foreach(all, i, e)
			closed += strcmp(json_string_value(json_object_get(e, "state")), "open") != 0;
	json_decref(all);
	*result = json_pack("{s:o, s:I}", "rounds", list, "closed", closed);
	return *result ? 0 : E_INTERNAL;
}

static int cmd_round(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const char *id = NULL;
	char err[256];
	int rc;

	if ((rc = ctl_str_arg(args, "id", 64, &id, msg, msglen)))
		return rc;
	if (id == NULL) {
		snprintf(msg, msglen, "thiếu \"id\": mã đợt báo cáo");
		return E_INVALID;
	}
	*result = rounds_describe(c->ctl->store, c->ctl->cat, id, err, sizeof(err));
	if (*result == NULL) {
		snprintf(msg, msglen, "%s", err);
		return strncmp(err, "không có", 8) == 0 ? E_NOT_FOUND : E_INTERNAL;
	}
	return 0;
}

static int cmd_round_close(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const char *id = NULL;
	struct wf_actor a;
	int64_t doc = 0;
	int rc;

	if ((rc = ctl_str_arg(args, "id", 64, &id, msg, msglen)))
		return rc;
	if (id == NULL) {
		snprintf(msg, msglen, "thiếu \"id\": mã đợt báo cáo");
		return E_INVALID;
	}
	ctl_actor_of(c, &a);
	rc = rounds_close(c->ctl->store, c->ctl->cat, c->ctl->cfg, id, &a, &doc, msg,
	    msglen);
	if (rc != WF_OK)
		return ctl_wf_code(rc);
	log_info("round %s closed by %s; conclusion draft %lld", id, c->peer.login, (long long)doc);
	*result = json_pack("{s:s, s:I}", "id", id, "document", (json_int_t)doc);
	return 0;
}

static int cmd_calendar(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const struct catalog *cat = c->ctl->cat;
	const char *date = NULL;
	json_int_t n = 0;
	json_t *days;
	char iso[11];
	int rc;

	if ((rc = ctl_str_arg(args, "date", 10, &date, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "n", -250, 250, &n, msg, msglen)))
		return rc;
	cal_day start = date ? cal_parse(date) : -1;
	if (start < 0) {
		snprintf(msg, msglen, "\"date\" phải là một ngày có thật dạng YYYY-MM-DD");
		return E_INVALID;
	}
	days = json_array();
	cal_day day = start;
	int step = n >= 0 ? 1 : -1;
	for (json_int_t left = n >= 0 ? n : -n, count = 0; left > 0 && days;) {
		day += step;
		const char *off = calendar_day_off(cat->cal, day);
		int y, m, d;
		cal_to_ymd(day, &y, &m, &d);
		cal_format(day, iso);
		if (off == NULL) {
			left--;
			count++;
		}
		json_array_append_new(days, json_pack("{s:s, s:b, s:s?, s:I, s:b}", "date", iso, "working",
		    off == NULL, "reason", off, "count", count, "calendar", calendar_has_year(cat->cal, y)));
	}
	cal_format(day, iso);
	*result = json_pack("{s:s, s:I, s:s, s:o}", "from", date, "n", n, "result", iso, "days", days);
	return 0;
}

/* This file's commands; NULL-terminated (ctl.c looks through every table). */
const struct command ctl_round_commands[] = {
	{ "round.new", ROLES_ALL, cmd_round_new },
	{ "round.meeting", ROLES_ALL, cmd_meeting },
	{ "rounds", ROLES_ALL, cmd_rounds },
	{ "round", ROLES_ALL, cmd_round },
	{ "round.close", ROLES_ALL, cmd_round_close },
	{ "calendar.explain", ROLES_ALL, cmd_calendar },
	{ NULL, 0, NULL },
};
