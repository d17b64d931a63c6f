/*
 * ctl_doc.c: the document commands: new, edit, act, list, show, history,
 * overdue, the registers (register, register.start, void), render and
 * doc.content.
 */
#include "ctl_priv.h"

#include "exchange.h"
#include "store_exchange.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "clock.h"
#include "esign.h"
#include "hash.h"
#include "log.h"
#include "publish.h"
#include "rounds.h"

static const struct workflows *current_workflows(struct ctl *ctl)
{
	const struct catalog *cat = ctl->cat;

	return cat ? cat->wf : NULL;
}

static const struct units *current_units(struct ctl *ctl)
{
	const struct catalog *cat = ctl->cat;

	return cat ? cat->units : NULL;
}

static int take_one(const struct store_col *cols, int n, void *arg);

static int cmd_new(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const struct workflows *wf = current_workflows(c->ctl);
	const char *kind = NULL;
	struct diag_list errs;
	struct wf_actor a;
	char *xml = NULL;
	size_t len = 0;
	int64_t id = 0;
	int rc;

	json_int_t answers = 0;

	if ((rc = ctl_str_arg(args, "kind", 32, &kind, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "answers", 0, INT64_MAX, &answers, msg, msglen)) ||
	    (rc = ctl_content_arg(args, &xml, &len, msg, msglen)))
		return rc;
	if (kind == NULL) {
		free(xml);
		snprintf(msg, msglen, "thiếu \"kind\": loại văn bản");
		return E_INVALID;
	}
	/* a unit's report for a round, sent with the document as its second attachment */
	char *report = NULL;
	size_t report_len = 0;
	const char *report_name = NULL;
	if ((rc = ctl_str_arg(args, "report_name", 200, &report_name, msg, msglen)) ||
	    (json_object_get(args, "report") != NULL &&
	    (rc = ctl_base64_arg(args, "report", "báo cáo gửi kèm", &report, &report_len, msg,
	        msglen)))) {
		free(xml);
		return rc;
	}
	if (report_name && (strchr(report_name, '/') || report_name[0] == '.')) {
		free(report);
		free(xml);
		snprintf(msg, msglen, "report_name: tên tệp không hợp lệ");
		return E_INVALID;
	}
	if (answers > 0) {
		/* the incoming document it answers must be there and still open */
		json_t *row = NULL;
		char err[512];
		int src = store_incoming_row(c->ctl->store, answers, take_one, &row, err, sizeof(err));
		const char *st = row ? json_string_value(json_object_get(row, "state")) : NULL;
		int open = st && strcmp(st, "done") != 0 && strcmp(st, "recalled") != 0;
		json_decref(row);
		if (src != STORE_OK || !open) {
			free(xml);
			free(report);
			if (src != STORE_OK && src != STORE_INVALID)
				log_err("new: %s", err);
			snprintf(msg, msglen, src == STORE_OK ? "văn bản đến %lld đã giải quyết xong hoặc đã "
			    "bị thu hồi" : "không có văn bản đến %lld", (long long)answers);
			return src == STORE_OK ? E_STATE : src == STORE_INVALID ? E_NOT_FOUND : E_INTERNAL;
		}
	}
	ctl_actor_of(c, &a);
	diag_init(&errs);
	rc = workflow_create(c->ctl->store, wf, c->ctl->cfg, current_units(c->ctl), kind, xml, len, &a, &id, &errs,
	    msg, msglen);
	free(xml);
	if (rc != WF_OK) {
		free(report);
		if (rc == WF_INTERNAL)
			log_err("new %s by %s: %s", kind, c->peer.login, msg);
		return ctl_refuse_input(rc, msg, msglen, &errs);
	}
	diag_free(&errs);
	log_info("document %lld (%s) drafted by %s", (long long)id, kind, c->peer.login);
	if (report != NULL) {
		char err[512];
		int src = store_doc_set_report(c->ctl->store, id, report_name ? report_name : "bao-cao.xml",
		    report, report_len, c->peer.uid, c->peer.login, err, sizeof(err));
		free(report);
		report = NULL;
		if (src != STORE_OK) {
			log_err("new: document %lld: %s", (long long)id, err);
			snprintf(msg, msglen, "đã tạo dự thảo %lld nhưng không đính kèm được báo cáo (xem nhật "
			    "ký)", (long long)id);
			return E_INTERNAL;
		}
	}
	if (answers > 0) {
		char err[512];
		if (store_doc_set_reply_to(c->ctl->store, id, answers, err, sizeof(err)) != STORE_OK) {
			log_err("new: document %lld: %s", (long long)id, err);
			snprintf(msg, msglen, "đã tạo dự thảo %lld nhưng không ghi được nó trả lời văn bản "
			    "đến %lld (xem nhật ký)", (long long)id, (long long)answers);
			return E_INTERNAL;
		}
	}
	*result = json_pack("{s:I, s:s}", "id", (json_int_t)id, "kind", kind);
	if (answers > 0)
		json_object_set_new(*result, "answers", json_integer(answers));
	return 0;
}

static int cmd_edit(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct diag_list errs;
	struct wf_actor a;
	json_int_t id = 0;
	char *xml = NULL;
	size_t len = 0;
	int64_t revision = 0;
	int rc;

	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)))
		return rc;
	if (id == 0) {
		snprintf(msg, msglen, "thiếu \"id\": số của văn bản");
		return E_INVALID;
	}
	if ((rc = ctl_content_arg(args, &xml, &len, msg, msglen)))
		return rc;
	ctl_actor_of(c, &a);
	diag_init(&errs);
	rc = workflow_edit(c->ctl->store, current_workflows(c->ctl), c->ctl->cfg,
	    current_units(c->ctl), id, xml,
	    len, &a, &revision, &errs, msg, msglen);
	free(xml);
	if (rc != WF_OK)
		return ctl_refuse_input(rc, msg, msglen, &errs);
	diag_free(&errs);
	*result = json_pack("{s:I, s:I}", "id", id, "revision", (json_int_t)revision);
	return 0;
}

static int cmd_act(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const char *action = NULL, *comment = NULL;
	const struct wf_transition *t = NULL;
	struct wf_actor a;
	json_int_t id = 0;
	char symbol[96];
	int rc;

	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "action", 32, &action, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "comment", 4000, &comment, msg, msglen)))
		return rc;
	if (id == 0 || action == NULL) {
		snprintf(msg, msglen, "cần \"id\" (số văn bản) và \"action\" (thao tác)");
		return E_INVALID;
	}
	ctl_actor_of(c, &a);
	if (strcmp(action, "sign") == 0 && esign_required(c->ctl->es, c->ctl->cfg, a.login)) {
		snprintf(msg, msglen, "%s phải ký số văn bản này (vanthu.conf có chứng thư số của %s): dùng "
		    "\"vanthuctl sign %lld --pkcs11 THƯ_VIỆN\" với thiết bị ký số của mình", a.login,
		    a.login, (long long)id);
		return E_STATE;
	}
	if (c->ctl->cat != NULL) {
		/* a round's reminder follows its round: fewer units, or withdrawn */
		rc = rounds_follow_reminder(c->ctl->store, c->ctl->cat, c->ctl->cfg, id, action, comment,
		    &a, msg, msglen);
		if (rc != WF_OK) {
			if (rc == WF_INTERNAL)
				log_err("act %s on %lld by %s: %s", action, (long long)id, c->peer.login, msg);
			return ctl_wf_code(rc);
		}
	}
	rc = workflow_act(c->ctl->store, current_workflows(c->ctl), c->ctl->cfg, id, action, comment,
	    &a, NULL, symbol, sizeof(symbol), &t, msg, msglen);
	if (rc != WF_OK) {
		if (rc == WF_INTERNAL)
			log_err("act %s on %lld by %s: %s", action, (long long)id, c->peer.login, msg);
		return ctl_wf_code(rc);
	}
	log_info("document %lld: %s by %s%s%s", (long long)id, action, c->peer.login,
	    symbol[0] ? ", number " : "", symbol);
	*result = json_pack("{s:I, s:s, s:s, s:s, s:s?}", "id", id, "action", action,
	    "label", t->label, "state", t->to, "symbol", symbol[0] ? symbol : NULL);
	if (t->to_state->publishes && c->ctl->cat != NULL) {
		/* numbered: the official DOCX goes to spool/outgoing now */
		char err[512];
		if (publish_issued(c->ctl->store, c->ctl->cat, c->ctl->cfg, c->ctl->es, id,
		        (int64_t)c->peer.uid, c->peer.login, err, sizeof(err)) != 0) {
			log_err("document %lld is issued but its DOCX or PDF could not be written (tried "
			    "again in the background): %s", (long long)id, err);
			json_object_set_new(*result, "publish_error", json_string(err));
			if (c->ctl->on_publish_failed)
				c->ctl->on_publish_failed(c->ctl->on_publish_failed_arg);
		} else if (exchange_issued(c->ctl->xch, c->ctl->store, c->ctl->cfg, id, err,
		               sizeof(err)) != 0) {
			/* the exchange's own sweep plans it within a minute */
			log_err("document %lld is issued; its deliveries wait: %s", (long long)id, err);
		}
	}
	return 0;
}

/* Adds the kind's and the state's labels to a document row. */
static void label_doc(const struct workflows *wf, json_t *row)
{
	const struct wf_kind *k = workflows_find(wf, json_string_value(json_object_get(row, "kind")) ?
	    json_string_value(json_object_get(row, "kind")) : "");
	const char *state = json_string_value(json_object_get(row, "state"));
	const struct wf_state *s = k && state ? wf_state_find(k, state) : NULL;

	if (k)
		json_object_set_new(row, "kind_label", json_string(k->label));
	if (s)
		json_object_set_new(row, "state_label", json_string(s->label));
}

/*
 * A kind and a state to filter by must exist (in that kind, or in any kind):
 * "--state nope" is a mistake to point out, not an empty list. The message
 * lists what there is.
 */
static int check_filter(const struct workflows *wf, const char *kind, const char *state,
    char *msg, size_t msglen)
{
	const struct wf_kind *k = NULL;
	size_t off = 0;

	if (wf == NULL)
		return 0;
	if (kind != NULL && (k = workflows_find(wf, kind)) == NULL) {
		off = (size_t)snprintf(msg, msglen, "không có loại văn bản \"%s\"; các loại là:", kind);
		for (size_t i = 0; i < wf->nkinds && off < msglen; i++)
			off += (size_t)snprintf(msg + off, msglen - off, "%s %s (%s)", i ? "," : "",
			    wf->kinds[i].kind, wf->kinds[i].label);
		return E_INVALID;
	}
	if (state == NULL)
		return 0;
	for (size_t i = 0; i < wf->nkinds; i++)
		if ((k == NULL || k == &wf->kinds[i]) && wf_state_find(&wf->kinds[i], state) != NULL)
			return 0;
	off = (size_t)snprintf(msg, msglen, "không có trạng thái \"%s\"%s%s; các trạng thái là:",
	    state, k ? " trong loại " : "", k ? k->label : "");
	/* each state id once, in the order the kinds give them */
	const char *seen[64];
	size_t nseen = 0;
	for (size_t i = 0; i < wf->nkinds; i++) {
		if (k != NULL && k != &wf->kinds[i])
			continue;
		for (size_t j = 0; j < wf->kinds[i].nstates && off < msglen; j++) {
			const struct wf_state *st = &wf->kinds[i].states[j];
			size_t n = 0;
			while (n < nseen && strcmp(seen[n], st->id) != 0)
				n++;
			if (n < nseen || nseen == sizeof(seen) / sizeof(seen[0]))
				continue;
			seen[nseen++] = st->id;
			off += (size_t)snprintf(msg + off, msglen - off, "%s %s (%s)", nseen > 1 ? "," : "",
			    st->id, st->label);
		}
	}
	return E_INVALID;
}

static int cmd_list(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct store_doc_filter f = { .drafter_uid = -1 };
	json_int_t limit = 50, before = 0;
	char err[256];
	json_t *list, *e;
	size_t i;
	int rc;

	if ((rc = ctl_str_arg(args, "state", 32, &f.state, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "kind", 32, &f.kind, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "limit", 1, 200, &limit, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "before", 1, INT64_MAX, &before, msg, msglen)))
		return rc;
	if ((rc = check_filter(current_workflows(c->ctl), f.kind, f.state, msg, msglen)))
		return rc;
	if (json_is_true(json_object_get(args, "mine")))
		f.drafter_uid = (int64_t)c->peer.uid;
	f.limit = (int)limit;
	f.before = before;
	list = json_array();
	if (list == NULL || store_doc_list(c->ctl->store, &f, ctl_collect_row, list, err, sizeof(err)) !=
	    STORE_OK) {
		log_err("list: %s", err);
		json_decref(list);
		snprintf(msg, msglen, "không đọc được danh sách văn bản (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	json_array_foreach(list, i, e)
		label_doc(current_workflows(c->ctl), e);
	*result = json_pack("{s:o}", "documents", list);
	if (*result != NULL)
		ctl_page_list(*result, "documents", "id", limit);
	return 0;
}

static int take_one(const struct store_col *cols, int n, void *arg)
{
	*(json_t **)arg = ctl_row_object(cols, n);
	return 0;
}

/*
 * Working days (on the calendar) from the Vietnam day of an ISO UTC time to
 * today, not counting that day: 0 the same day, -1 when unreadable.
 */
static long long working_days_since(const struct ctl *ctl, const char *iso)
{
	struct tm tm;
	time_t t;
	int y, m, d;
	long long n = 0;

	memset(&tm, 0, sizeof(tm));
	if (iso == NULL || strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return -1;
	t = timegm(&tm) + CLOCK_VN_OFFSET;
	gmtime_r(&t, &tm);
	cal_day from = cal_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	clock_today_vn(&y, &m, &d);
	cal_day today = cal_from_ymd(y, m, d);
	const struct calendar *cal = ctl->cat ? ctl->cat->cal : NULL;
	for (cal_day day = from + 1; day <= today && n < 10000; day++)
		if (calendar_day_off(cal, day) == NULL)
			n++;
	return n;
}

static int cmd_show(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const struct workflows *wf = current_workflows(c->ctl);
	json_int_t id = 0;
	json_t *row = NULL, *actions;
	struct store_doc doc;
	struct wf_actor a;
	char err[256];
	int rc;

	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)))
		return rc;
	rc = store_doc_row(c->ctl->store, id, take_one, &row, err, sizeof(err));
	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "không có văn bản số %lld", (long long)id);
		return E_NOT_FOUND;
	}
	if (rc != STORE_OK || row == NULL ||
	    store_doc_get(c->ctl->store, id, &doc, err, sizeof(err)) != STORE_OK) {
		json_decref(row);
		log_err("show: %s", err);
		snprintf(msg, msglen, "không đọc được văn bản (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	label_doc(wf, row);
	/* the issuing body by name, as the office says it */
	const struct config_body *body = config_find_body(c->ctl->cfg,
	    json_string_value(json_object_get(row, "issuer")));
	if (body) {
		json_object_set_new(row, "issuer_name", json_string(body->name));
		json_object_set_new(row, "issuer_abbrev", json_string(body->abbrev));
	}
	/* what the caller may do with it now */
	actions = json_array();
	ctl_actor_of(c, &a);
	const struct wf_kind *k = workflows_find(wf, doc.kind);
	for (size_t i = 0; k && i < k->ntransitions; i++) {
		const struct wf_transition *t;
		char why[512];
		if (workflow_check(k, &doc, &a, k->transitions[i].action, "x", &t, why, sizeof(why)) ==
		    WF_OK)
			json_array_append_new(actions, json_pack("{s:s, s:s, s:b}", "action", t->action,
			    "label", t->label, "comment_required", t->comment_required));
	}
	const struct wf_state *s = k ? wf_state_find(k, doc.state) : NULL;
	if (s && s->limit_days > 0) {
		long long age = working_days_since(c->ctl, doc.state_since);
		json_object_set_new(row, "limit_days", json_integer(s->limit_days));
		json_object_set_new(row, "working_days", json_integer(age));
		json_object_set_new(row, "overdue", json_boolean(age > (long long)s->limit_days));
	}
	json_object_set_new(row, "actions", actions);
	/* the electronic original: none, signed by the leader, or issued with both signatures */
	json_t *sigs = json_array();
	if (sigs && store_doc_signatures(c->ctl->store, id, ctl_collect_row, sigs, err, sizeof(err)) !=
	    STORE_OK)
		log_err("show %lld: %s", (long long)id, err);
	const char *es_state = doc.pdf_sha256 ? "issued" : doc.signed_pdf_sha256 ?
	    (doc.number > 0 ? "sealing" : "signed") : "none";
	json_t *copies = json_array();
	if (copies && store_doc_copies(c->ctl->store, id, ctl_collect_row, copies, err, sizeof(err)) !=
	    STORE_OK)
		log_err("show %lld: %s", (long long)id, err);
	json_object_set_new(row, "electronic", json_pack("{s:s, s:s?, s:s?, s:o, s:o, s:b}", "state",
	    es_state, "pdf_path", doc.pdf_path, "pdf_sha256", doc.pdf_sha256,
	    "signatures", sigs ? sigs : json_array(), "copies", copies ? copies : json_array(),
	    "signing_configured", c->ctl->es != NULL));
	/* the exchange: how many recipients by exchange, on paper, and which have it */
	json_t *dl = json_array();
	json_int_t by_x = 0, paper = 0, arrived = 0;
	if (dl && store_delivery_list(c->ctl->store, id, ctl_collect_row, dl, err, sizeof(err)) !=
	    STORE_OK)
		log_err("show %lld: %s", (long long)id, err);
	size_t di;
	json_t *de;
	json_array_foreach(dl, di, de) {
		const char *via = json_string_value(json_object_get(de, "via"));
		if (via && strcmp(via, "exchange") == 0) {
			by_x++;
			arrived += json_string_value(json_object_get(de, "arrived_at")) != NULL;
		} else {
			paper++;
		}
	}
	json_decref(dl);
	json_object_set_new(row, "exchange", json_pack("{s:b, s:I, s:I, s:I}", "configured",
	    c->ctl->xch != NULL, "by_exchange", by_x, "paper", paper, "arrived", arrived));
	store_doc_free(&doc);
	*result = row;
	return 0;
}

static int cmd_history(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_int_t id = 0;
	json_t *list, *e, *row = NULL;
	char err[256];
	size_t i;
	int rc;

	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)))
		return rc;
	rc = store_doc_row(c->ctl->store, id, take_one, &row, err, sizeof(err));
	json_decref(row);
	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "không có văn bản số %lld", (long long)id);
		return E_NOT_FOUND;
	}
	list = json_array();
	if (rc != STORE_OK || list == NULL ||
	    store_doc_history(c->ctl->store, id, ctl_collect_row, list, err, sizeof(err)) != STORE_OK) {
		log_err("history: %s", err);
		json_decref(list);
		snprintf(msg, msglen, "không đọc được lịch sử (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	const struct workflows *wf = current_workflows(c->ctl);
	const struct wf_kind *k = NULL;
	json_t *docrow = NULL;
	if (store_doc_row(c->ctl->store, id, take_one, &docrow, err, sizeof(err)) == STORE_OK)
		k = workflows_find(wf, json_string_value(json_object_get(docrow, "kind")) ?
		    json_string_value(json_object_get(docrow, "kind")) : "");
	json_decref(docrow);
	json_array_foreach(list, i, e) {
		json_t *d = json_object_get(e, "detail");
		json_t *parsed = json_is_string(d) ? json_loads(json_string_value(d), 0, NULL) : NULL;
		/* the kind's own label for a step, when the kind defines one */
		const char *act = json_string_value(json_object_get(e, "action"));
		for (size_t t = 0; k && act && t < k->ntransitions; t++)
			if (strcmp(k->transitions[t].action, act) == 0) {
				json_object_set_new(e, "action_label", json_string(k->transitions[t].label));
				break;
			}
		if (parsed) {
			const char *from = json_string_value(json_object_get(parsed, "from"));
			const char *to = json_string_value(json_object_get(parsed, "to"));
			const struct wf_state *fs = k && from ? wf_state_find(k, from) : NULL;
			const struct wf_state *ts = k && to ? wf_state_find(k, to) : NULL;
			if (fs)
				json_object_set_new(parsed, "from_label", json_string(fs->label));
			if (ts)
				json_object_set_new(parsed, "to_label", json_string(ts->label));
			json_object_set_new(e, "detail", parsed);
		}
	}
	*result = json_pack("{s:I, s:o}", "id", id, "history", list);
	return 0;
}

static int cmd_overdue(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	const struct workflows *wf = current_workflows(c->ctl);
	json_t *out = json_array();
	char err[256];

	(void)args;
	for (size_t i = 0; wf && out && i < wf->nkinds; i++) {
		const struct wf_kind *k = &wf->kinds[i];
		for (size_t j = 0; j < k->nstates; j++) {
			const struct wf_state *s = &k->states[j];
			struct store_doc_filter f = { .state = s->id, .kind = k->kind, .drafter_uid = -1,
				.limit = 200 };
			json_t *list, *e;
			size_t n;
			if (s->final || s->limit_days == 0)
				continue;
			list = json_array();
			if (list == NULL || store_doc_list(c->ctl->store, &f, ctl_collect_row, list, err,
			        sizeof(err)) != STORE_OK) {
				json_decref(list);
				json_decref(out);
				log_err("overdue: %s", err);
				snprintf(msg, msglen, "không đọc được danh sách văn bản (xem nhật ký của vanthud)");
				return E_INTERNAL;
			}
			json_array_foreach(list, n, e) {
				long long age = working_days_since(c->ctl,
				    json_string_value(json_object_get(e, "state_since")));
				if (age > (long long)s->limit_days) {
					label_doc(wf, e);
					json_object_set_new(e, "limit_days", json_integer(s->limit_days));
					json_object_set_new(e, "days_over",
					    json_integer(age - (long long)s->limit_days));
					json_array_append(out, e);
				}
			}
			json_decref(list);
		}
	}
	*result = json_pack("{s:o}", "documents", out);
	return *result ? 0 : E_INTERNAL;
}

/*
 * The series a register request names: "body" (default the organisation), and
 * for a state body "year" (default this year), for a Party committee "term"
 * (default the current one) and "type" (for void: required; for register:
 * optional, every type when absent).
 */
struct series_arg {
	const struct config_body *body;
	json_int_t year;
	const char *term, *type;
	char series[64];
};

static int series_arg(struct conn *c, json_t *args, int need_type, struct series_arg *sa,
    char *msg, size_t msglen)
{
	const char *body = NULL;
	char day[16];
	int y, m, d, rc;

	memset(sa, 0, sizeof(*sa));
	if ((rc = ctl_str_arg(args, "body", 31, &body, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "year", 1945, 2999, &sa->year, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "term", 31, &sa->term, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "type", 5, &sa->type, msg, msglen)))
		return rc;
	sa->body = config_find_body(c->ctl->cfg, body);
	if (sa->body == NULL) {
		snprintf(msg, msglen, "không có cơ quan ban hành \"%s\" trong cấu hình", body);
		return E_NOT_FOUND;
	}
	clock_today_vn(&y, &m, &d);
	if (sa->body->kind == BODY_STATE) {
		if (sa->term || sa->type) {
			snprintf(msg, msglen, "%s là cơ quan nhà nước: sổ đăng ký theo năm (--year), không "
			    "theo nhiệm kỳ hay loại văn bản", sa->body->abbrev);
			return E_INVALID;
		}
		if (sa->year == 0)
			sa->year = y;
		symbol_write_series(sa->series, sizeof(sa->series), (int)sa->year, NULL, NULL);
		return 0;
	}
	if (sa->year) {
		snprintf(msg, msglen, "%s là cấp ủy Đảng: sổ đăng ký theo nhiệm kỳ (--term) và loại văn "
		    "bản (--type), không theo năm", sa->body->abbrev);
		return E_INVALID;
	}
	if (sa->term == NULL) {
		snprintf(day, sizeof(day), "%04d-%02d-%02d", y, m, d);
		const struct config_term *t = config_body_term(sa->body, day);
		if (t == NULL) {
			snprintf(msg, msglen, "chưa có nhiệm kỳ nào của %s bắt đầu; hãy nêu --term",
			    sa->body->abbrev);
			return E_NOT_FOUND;
		}
		sa->term = t->name;
	} else if (config_find_term(sa->body, sa->term) == NULL) {
		snprintf(msg, msglen, "%s không có nhiệm kỳ \"%s\" trong cấu hình", sa->body->abbrev,
		    sa->term);
		return E_NOT_FOUND;
	}
	if (need_type && sa->type == NULL) {
		snprintf(msg, msglen, "sổ của cấp ủy Đảng đánh số theo từng loại văn bản: cần \"type\" "
		    "(KH, TB, CV...)");
		return E_INVALID;
	}
	if (sa->type)
		symbol_write_series(sa->series, sizeof(sa->series), 0, sa->term, sa->type);
	return 0;
}

static int cmd_register(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct store_register_query q;
	struct series_arg sa;
	json_t *list;
	char err[256];
	int rc;

	if ((rc = series_arg(c, args, 0, &sa, msg, msglen)))
		return rc;
	memset(&q, 0, sizeof(q));
	q.body = sa.body->abbrev;
	if (sa.body->kind == BODY_PARTY) {
		q.term = sa.term;
		q.type = sa.type;
	} else {
		q.series = sa.series;
	}
	list = json_array();
	if (list == NULL || store_register_list(c->ctl->store, &q, ctl_collect_row, list, err,
	        sizeof(err)) != STORE_OK) {
		log_err("register: %s", err);
		json_decref(list);
		snprintf(msg, msglen, "không đọc được sổ đăng ký (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	*result = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "body", sa.body->abbrev,
	    "organisation", sa.body->name, "body_kind", config_body_kind_name(sa.body->kind),
	    "year", sa.body->kind == BODY_STATE ? json_integer(sa.year) : json_null(),
	    "term", sa.term ? json_string(sa.term) : json_null(),
	    "type", sa.type ? json_string(sa.type) : json_null(), "entries", list);
	if (*result == NULL)
		return E_INTERNAL;
	if (sa.series[0]) {
		/* one series: the number its next issue gets, and where it continues a paper one */
		int64_t next = 0, start = 0;
		if (store_register_next(c->ctl->store, sa.body->abbrev, sa.series, &next, &start, err,
		        sizeof(err)) != STORE_OK) {
			log_err("register: %s", err);
			snprintf(msg, msglen, "không đọc được sổ đăng ký (xem nhật ký của vanthud)");
			return E_INTERNAL;
		}
		json_object_set_new(*result, "next", json_integer(next));
		json_object_set_new(*result, "start", start ? json_integer(start) : json_null());
	}
	return 0;
}

/*
 * An office moving to vanthu mid-year continues its paper register: the
 * series' first number in vanthu, set once before anything is issued in it.
 */
static int cmd_register_start(struct conn *c, json_t *args, json_t **result, char *msg,
    size_t msglen)
{
	struct series_arg sa;
	json_int_t next = 0;
	const char *reason = NULL;
	char err[256];
	int rc;

	if ((rc = ctl_int_arg(args, "next", 1, 999999, &next, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "reason", 2000, &reason, msg, msglen)))
		return rc;
	if (next == 0) {
		snprintf(msg, msglen, "cần \"next\": số đầu tiên sẽ cấp trong vanthu (số tiếp theo của "
		    "sổ giấy)");
		return E_INVALID;
	}
	if (reason == NULL || strspn(reason, " \t\r\n") == strlen(reason)) {
		snprintf(msg, msglen, "đặt số bắt đầu phải ghi rõ lý do (-m \"...\"), ví dụ sổ giấy "
		    "đã cấp đến số %lld", (long long)next - 1);
		return E_INVALID;
	}
	if ((rc = series_arg(c, args, 1, &sa, msg, msglen)))
		return rc;
	if (sa.body->kind == BODY_STATE && json_object_get(args, "year") == NULL) {
		snprintf(msg, msglen, "cần \"year\": năm của sổ");
		return E_INVALID;
	}
	rc = store_register_start(c->ctl->store, sa.body->abbrev, sa.series, next, reason,
	    (int64_t)c->peer.uid, c->peer.login, err, sizeof(err));
	if (rc == STORE_INVALID) {
		long long n = 0;
		if (sscanf(err, "issued:%lld", &n) == 1)
			snprintf(msg, msglen, "sổ %s %s đã có %lld văn bản cấp số trong vanthu; số bắt đầu chỉ "
			    "đặt được trước văn bản đầu tiên (không lùi số, không cấp trùng số đã cấp)",
			    sa.body->abbrev, sa.series, n);
		else if (sscanf(err, "set:%lld", &n) == 1)
			snprintf(msg, msglen, "sổ %s %s đã được đặt số bắt đầu là %lld; chỉ đặt được một lần",
			    sa.body->abbrev, sa.series, n);
		else
			snprintf(msg, msglen, "%s", err);
		return E_STATE;
	}
	if (rc != STORE_OK) {
		log_err("register start: %s", err);
		snprintf(msg, msglen, "không ghi được (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	log_info("register %s %s continues a paper register: next number %lld, set by %s: %s",
	    sa.body->abbrev, sa.series, (long long)next, c->peer.login, reason);
	*result = json_pack("{s:s, s:s, s:o, s:o, s:o, s:I}", "body", sa.body->abbrev, "series",
	    sa.series, "year", sa.body->kind == BODY_STATE ? json_integer(sa.year) : json_null(),
	    "term", sa.term ? json_string(sa.term) : json_null(),
	    "type", sa.type ? json_string(sa.type) : json_null(), "next", next);
	return *result ? 0 : E_INTERNAL;
}

static int cmd_void(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct series_arg sa;
	json_int_t number = 0;
	const char *reason = NULL;
	char err[256];
	int rc;

	if ((rc = ctl_int_arg(args, "number", 1, INT64_MAX, &number, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "reason", 2000, &reason, msg, msglen)))
		return rc;
	if (number == 0) {
		snprintf(msg, msglen, "cần \"number\": số cần hủy");
		return E_INVALID;
	}
	if ((rc = series_arg(c, args, 1, &sa, msg, msglen)))
		return rc;
	if (sa.body->kind == BODY_STATE && json_object_get(args, "year") == NULL) {
		snprintf(msg, msglen, "cần \"year\": năm của số cần hủy");
		return E_INVALID;
	}
	if (reason == NULL || strspn(reason, " \t\r\n") == strlen(reason)) {
		snprintf(msg, msglen, "hủy một số phải ghi rõ lý do (-m \"...\")");
		return E_INVALID;
	}
	rc = store_register_void(c->ctl->store, sa.body->abbrev, sa.series, number, reason,
	    (int64_t)c->peer.uid, c->peer.login, err, sizeof(err));
	if (rc == STORE_INVALID) {
		if (sa.body->kind == BODY_STATE)
			snprintf(msg, msglen, "không có số %lld năm %lld trong sổ", (long long)number,
			    (long long)sa.year);
		else
			snprintf(msg, msglen, "không có số %lld loại %s nhiệm kỳ %s trong sổ",
			    (long long)number, sa.type, sa.term);
		return E_NOT_FOUND;
	}
	if (rc == STORE_DONE) {
		snprintf(msg, msglen, "số %lld %s %s đã bị hủy trước đó; không hủy lại", (long long)number,
		    sa.body->kind == BODY_STATE ? "năm" : "sổ", sa.series);
		return E_STATE;
	}
	if (rc != STORE_OK) {
		log_err("void: %s", err);
		snprintf(msg, msglen, "không ghi được (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	log_info("register %s %s number %lld voided by %s: %s", sa.body->abbrev, sa.series,
	    (long long)number, c->peer.login, reason);
	*result = json_pack("{s:s, s:o, s:o, s:o, s:I}", "body", sa.body->abbrev,
	    "year", sa.body->kind == BODY_STATE ? json_integer(sa.year) : json_null(),
	    "term", sa.term ? json_string(sa.term) : json_null(),
	    "type", sa.type ? json_string(sa.type) : json_null(), "number", number);
	return *result ? 0 : E_INTERNAL;
}

static int cmd_render(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_int_t id = 0, offset = 0;
	void *docx = NULL;
	size_t len = 0, n;
	char err[512], sha[HASH_HEX_LEN + 1];
	int rc;

	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "offset", 0, INT64_MAX, &offset, msg, msglen)))
		return rc;
	if (id == 0) {
		snprintf(msg, msglen, "thiếu \"id\": số của văn bản");
		return E_INVALID;
	}
	if (c->ctl->cat == NULL) {
		snprintf(msg, msglen, "các mẫu văn bản chưa được nạp");
		return E_INTERNAL;
	}
	rc = publish_render(c->ctl->store, c->ctl->cat, c->ctl->cfg, id, &docx, &len,
	    err, sizeof(err));
	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "không có văn bản số %lld", (long long)id);
		return E_NOT_FOUND;
	}
	if (rc != STORE_OK) {
		log_err("render %lld: %s", (long long)id, err);
		snprintf(msg, msglen, "không tạo được tệp DOCX: %s", err);
		return E_INTERNAL;
	}
	if ((size_t)offset > len)
		offset = (json_int_t)len;
	n = len - (size_t)offset < FETCH_CHUNK ? len - (size_t)offset : FETCH_CHUNK;
	if (hash_sha256_hex(docx, len, sha) != 0 ||
	    (*result = ctl_chunk_json(id, offset, len, (char *)docx + offset, n, sha)) == NULL) {
		free(docx);
		snprintf(msg, msglen, "hết bộ nhớ");
		return E_INTERNAL;
	}
	free(docx);
	/*
	 * The file's name for a clerk: an issued one's own ("03-TB-UBND.docx"), a
	 * voided number's marked so (the issued file itself stays as it was), else
	 * a draft's.
	 */
	json_t *row = NULL;
	char stem[128], name[160];
	if (store_doc_row(c->ctl->store, id, take_one, &row, err, sizeof(err)) == STORE_OK) {
		int voided = json_is_string(json_object_get(row, "voided_at"));
		const char *symbol = json_string_value(json_object_get(row, "symbol"));
		if (symbol && json_integer_value(json_object_get(row, "number")) > 0) {
			publish_file_stem(symbol, stem, sizeof(stem));
			snprintf(name, sizeof(name), "%s%s.docx", stem, voided ? "-DA-HUY-SO" : "");
		} else {
			snprintf(name, sizeof(name), "du-thao-%lld.docx", (long long)id);
		}
		json_object_set_new(*result, "name", json_string(name));
		if (voided) {
			json_object_set_new(*result, "voided", json_true());
			json_object_set(*result, "void_reason", json_object_get(row, "void_reason"));
		}
	}
	json_decref(row);
	return 0;
}

/*
 * A document's current input XML, in chunks as render sends a file: what a
 * drafter exports to change one field of a draft (vanthuctl edit --export)
 * without writing the whole input again.
 */
static int cmd_doc_content(struct conn *c, json_t *args, json_t **result, char *msg,
    size_t msglen)
{
	json_int_t id = 0, offset = 0;
	char *xml = NULL, err[256], sha[HASH_HEX_LEN + 1];
	size_t len = 0, n;
	int rc;

	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "offset", 0, INT64_MAX, &offset, msg, msglen)))
		return rc;
	if (id == 0) {
		snprintf(msg, msglen, "thiếu \"id\": số của văn bản");
		return E_INVALID;
	}
	rc = store_doc_content(c->ctl->store, id, &xml, &len, err, sizeof(err));
	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "không có văn bản số %lld", (long long)id);
		return E_NOT_FOUND;
	}
	if (rc != STORE_OK) {
		log_err("content %lld: %s", (long long)id, err);
		snprintf(msg, msglen, "không đọc được văn bản (xem nhật ký của vanthud)");
		return E_INTERNAL;
	}
	if ((size_t)offset > len)
		offset = (json_int_t)len;
	n = len - (size_t)offset < FETCH_CHUNK ? len - (size_t)offset : FETCH_CHUNK;
	if (hash_sha256_hex(xml, len, sha) != 0 ||
	    (*result = ctl_chunk_json(id, offset, len, xml + offset, n, sha)) == NULL) {
		free(xml);
		snprintf(msg, msglen, "hết bộ nhớ");
		return E_INTERNAL;
	}
	free(xml);
	return 0;
}

/* This file's commands; NULL-terminated (ctl.c looks through every table). */
const struct command ctl_doc_commands[] = {
	{ "new", ROLES_ALL, cmd_new },
	{ "edit", ROLES_ALL, cmd_edit },
	{ "act", ROLES_ALL, cmd_act },
	{ "list", ROLES_ALL, cmd_list },
	{ "show", ROLES_ALL, cmd_show },
	{ "history", ROLES_ALL, cmd_history },
	{ "overdue", ROLES_ALL, cmd_overdue },
	{ "register", ROLES_ALL, cmd_register },
	{ "void", ROLE_CLERK | ROLE_ADMIN, cmd_void },
	{ "register.start", ROLE_ADMIN, cmd_register_start },
	{ "render", ROLES_ALL, cmd_render },
	{ "doc.content", ROLES_ALL, cmd_doc_content },
	{ NULL, 0, NULL },
};
