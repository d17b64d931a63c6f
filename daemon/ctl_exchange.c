/*
 * ctl_exchange.c: the exchange's commands. The sender's side: delivery (each
 * recipient and its last status) and recall (thu hồi). The incoming register:
 * incoming (the list), incoming.show, incoming.pdf, incoming.register (the sổ
 * đến of a year), incoming.add (a paper arrival, numbered in the same
 * series), incoming.refused; the phiếu giải quyết: assign, progress,
 * incoming.done, extend; and followup (the sổ theo dõi giải quyết).
 */
#include "ctl_priv.h"

#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"
#include "catalog.h"
#include "clock.h"
#include "exchange.h"
#include "fsutil.h"
#include "hash.h"
#include "log.h"
#include "store_exchange.h"
#include "units.h"

#define MAX_ASSIGNEES 32
#define MAX_TEXT 2000   /* bytes of an opinion, a progress report, a reason */

static int take_row(const struct store_col *cols, int n, void *arg)
{
	json_t **out = arg;

	json_decref(*out);
	*out = ctl_row_object(cols, n);
	return *out ? 0 : -1;
}

static int internal(const char *what, const char *err, char *msg, size_t msglen)
{
	log_err("%s: %s", what, err);
	snprintf(msg, msglen, "không đọc hoặc ghi được sổ (xem nhật ký của vanthud)");
	return E_INTERNAL;
}

/* An ISO 8601 UTC time as minutes before now (negative in the future); INT64_MIN unreadable. */
static int64_t minutes_since(const char *iso)
{
	struct tm tm;
	struct timespec now;

	memset(&tm, 0, sizeof(tm));
	if (iso == NULL || strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return INT64_MIN;
	clock_now(&now);
	return ((int64_t)now.tv_sec - (int64_t)timegm(&tm)) / 60;
}

static void today_iso(char out[11])
{
	int y, m, d;

	clock_today_vn(&y, &m, &d);
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

/* ---- the sender's side ---- */

static int cmd_delivery(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct store *st = c->ctl->store;
	json_int_t id = 0;
	json_t *doc = NULL, *list = NULL, *hist = NULL, *e;
	char err[512], key[256] = "";
	size_t i;
	int rc;

	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)))
		return rc;
	rc = store_doc_row(st, id, take_row, &doc, err, sizeof(err));
	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "không có văn bản số %lld", (long long)id);
		return E_NOT_FOUND;
	}
	if (rc != STORE_OK)
		return internal("delivery", err, msg, msglen);
	list = json_array();
	hist = json_array();
	rc = store_delivery_key(st, id, key, sizeof(key), err, sizeof(err));
	if (rc == STORE_OK)
		rc = store_delivery_list(st, id, ctl_collect_row, list, err, sizeof(err));
	if (rc == STORE_OK)
		rc = store_delivery_history(st, id, ctl_collect_row, hist, err, sizeof(err));
	if (rc != STORE_OK && rc != STORE_INVALID) {
		json_decref(doc);
		json_decref(list);
		json_decref(hist);
		return internal("delivery", err, msg, msglen);
	}
	/* late: by exchange, sent, and no "đã đến" after [exchange] late_after minutes */
	unsigned late_after = c->ctl->cfg->xch_late_after ? c->ctl->cfg->xch_late_after : 120;
	json_array_foreach(list, i, e) {
		const char *via = json_string_value(json_object_get(e, "via"));
		const char *sent = json_string_value(json_object_get(e, "sent_at"));
		const char *planned = json_string_value(json_object_get(e, "planned_at"));
		int arrived = json_string_value(json_object_get(e, "arrived_at")) != NULL;
		int64_t age = minutes_since(sent ? sent : planned);
		int late = via && strcmp(via, "exchange") == 0 && !arrived && age != INT64_MIN &&
		    age >= (int64_t)late_after;
		json_object_set_new(e, "late", json_boolean(late));
	}
	*result = json_pack("{s:o, s:s?, s:o, s:o, s:b, s:I}", "document", doc,
	    "key", key[0] && strncmp(key, "document:", 9) != 0 ? key : NULL, "deliveries", list,
	    "statuses", hist, "exchange", c->ctl->xch != NULL, "late_after", (json_int_t)late_after);
	return *result ? 0 : E_INTERNAL;
}

static int cmd_recall(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_int_t id = 0;
	const char *reason = NULL;
	char err[512];
	int rc;

	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "reason", MAX_TEXT, &reason, msg, msglen)))
		return rc;
	if (reason == NULL || reason[0] == '\0') {
		snprintf(msg, msglen, "thu hồi văn bản cần lý do (-m LÝ DO)");
		return E_INVALID;
	}
	if (c->ctl->xch == NULL) {
		snprintf(msg, msglen, "cơ quan chưa cấu hình liên thông ([exchange] trong vanthu.conf): "
		    "không có gì để thu hồi qua trục");
		return E_STATE;
	}
	rc = exchange_recall(c->ctl->xch, c->ctl->store, c->ctl->cfg, id, reason, c->peer.uid,
	    c->peer.login, err, sizeof(err));
	if (rc == STORE_DONE) {
		snprintf(msg, msglen, "văn bản %lld đã được thu hồi trước đó", (long long)id);
		return E_STATE;
	}
	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "văn bản %lld chưa được gửi liên thông đến ai (chưa ban hành, "
		    "hoặc chỉ gửi bản giấy)", (long long)id);
		return E_STATE;
	}
	if (rc != STORE_OK)
		return internal("recall", err, msg, msglen);
	log_info("recall: document %lld by %s", (long long)id, c->peer.login);
	*result = json_pack("{s:I, s:b}", "id", (json_int_t)id, "recalled", 1);
	return 0;
}

/* ---- the incoming register ---- */

static const char *const states[] = { "registered", "assigned", "progress", "done", "recalled",
	"open", "late", NULL };

static int cmd_incoming(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	struct store_incoming_filter f = { .limit = 100 };
	json_int_t limit = 100, before = 0, year = 0;
	const char *state = NULL, *assignee = NULL;
	char today[11], err[512];
	json_t *list;
	int rc, ok = 0;

	if ((rc = ctl_str_arg(args, "state", 16, &state, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "assignee", 64, &assignee, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "limit", 1, 1000, &limit, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "before", 0, INT64_MAX, &before, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "year", 0, 9999, &year, msg, msglen)))
		return rc;
	for (int i = 0; state && states[i]; i++)
		ok |= strcmp(states[i], state) == 0;
	if (state && !ok) {
		snprintf(msg, msglen, "--state phải là registered, assigned, progress, done, recalled, "
		    "open hoặc late");
		return E_INVALID;
	}
	today_iso(today);
	f.state = state;
	f.today = today;
	f.assignee = assignee;
	f.year = (int)year;
	f.before = before;
	f.limit = (int)limit;
	if ((list = json_array()) == NULL)
		return E_INTERNAL;
	if (store_incoming_list(c->ctl->store, &f, ctl_collect_row, list, err, sizeof(err)) !=
	    STORE_OK) {
		json_decref(list);
		return internal("incoming", err, msg, msglen);
	}
	*result = json_pack("{s:o, s:s}", "incoming", list, "today", today);
	if (*result == NULL)
		return E_INTERNAL;
	ctl_page_list(*result, "incoming", "id", limit);
	return 0;
}

/* The entry's row, or E_NOT_FOUND with msg. */
static int incoming_row(struct conn *c, json_int_t id, json_t **row, char *msg, size_t msglen)
{
	char err[512];
	int rc = store_incoming_row(c->ctl->store, id, take_row, row, err, sizeof(err));

	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "không có văn bản đến số %lld", (long long)id);
		return E_NOT_FOUND;
	}
	if (rc != STORE_OK || *row == NULL)
		return internal("incoming.show", err, msg, msglen);
	return 0;
}

static int cmd_incoming_show(struct conn *c, json_t *args, json_t **result, char *msg,
    size_t msglen)
{
	json_int_t id = 0;
	json_t *row = NULL, *as, *pr;
	char err[512];
	int rc;

	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = incoming_row(c, id, &row, msg, msglen)))
		return rc;
	as = json_array();
	pr = json_array();
	if (store_incoming_assignments(c->ctl->store, id, ctl_collect_row, as, err, sizeof(err)) !=
	        STORE_OK ||
	    store_incoming_progress_list(c->ctl->store, id, ctl_collect_row, pr, err, sizeof(err)) !=
	        STORE_OK) {
		json_decref(row);
		json_decref(as);
		json_decref(pr);
		return internal("incoming.show", err, msg, msglen);
	}
	/* the verdict on the PDF's signatures, as JSON rather than text */
	const char *v = json_string_value(json_object_get(row, "verify"));
	if (v) {
		json_t *vj = json_loads(v, 0, NULL);
		json_object_set_new(row, "verify", vj ? vj : json_null());
	}
	char today[11];
	today_iso(today);
	json_object_set_new(row, "state_label",
	    json_string(exchange_state_label(json_string_value(json_object_get(row, "state")))));
	*result = json_pack("{s:o, s:o, s:o, s:s}", "incoming", row, "assignments", as,
	    "progress", pr, "today", today);
	return *result ? 0 : E_INTERNAL;
}

static int cmd_incoming_pdf(struct conn *c, json_t *args, json_t **result, char *msg,
    size_t msglen)
{
	json_int_t id = 0, offset = 0;
	json_t *row = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	char sha[HASH_HEX_LEN + 1];
	int rc;

	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "offset", 0, INT64_MAX, &offset, msg, msglen)) ||
	    (rc = incoming_row(c, id, &row, msg, msglen)))
		return rc;
	const char *path = json_string_value(json_object_get(row, "pdf_path"));
	const char *pkg = json_string_value(json_object_get(row, "package_path"));
	const char *want = json_string_value(json_object_get(row, "pdf_sha256"));
	char why[512];
	if ((path == NULL && pkg == NULL) || want == NULL) {
		json_decref(row);
		snprintf(msg, msglen, "văn bản đến %lld không có tệp điện tử (văn bản giấy)",
		    (long long)id);
		return E_STATE;
	}
	if (exchange_incoming_pdf(pkg, path, want, &buf, &len, why, sizeof(why)) != 0) {
		log_err("incoming.pdf %lld: %s", (long long)id, why);
		json_decref(row);
		snprintf(msg, msglen, "tệp của văn bản đến %lld không còn nguyên vẹn (xem nhật ký)",
		    (long long)id);
		return E_INTERNAL;
	}
	snprintf(sha, sizeof(sha), "%s", want);
	json_decref(row);
	if ((size_t)offset > len) {
		free(buf);
		snprintf(msg, msglen, "offset vượt quá cỡ tệp");
		return E_INVALID;
	}
	size_t n = len - (size_t)offset > FETCH_CHUNK ? FETCH_CHUNK : len - (size_t)offset;
	*result = ctl_chunk_json(id, offset, len, buf + offset, n, sha);
	free(buf);
	return *result ? 0 : E_INTERNAL;
}

static int cmd_incoming_register(struct conn *c, json_t *args, json_t **result, char *msg,
    size_t msglen)
{
	json_int_t year = 0;
	json_t *list;
	char err[512];
	int rc, y, m, d;

	if ((rc = ctl_int_arg(args, "year", 1900, 9999, &year, msg, msglen)))
		return rc;
	clock_today_vn(&y, &m, &d);
	if (year == 0)
		year = y;
	if ((list = json_array()) == NULL)
		return E_INTERNAL;
	if (store_incoming_register_list(c->ctl->store, (int)year, ctl_collect_row, list, err,
	        sizeof(err)) != STORE_OK) {
		json_decref(list);
		return internal("incoming.register", err, msg, msglen);
	}
	*result = json_pack("{s:I, s:o}", "year", (json_int_t)year, "entries", list);
	return *result ? 0 : E_INTERNAL;
}

static int cmd_incoming_refused(struct conn *c, json_t *args, json_t **result, char *msg,
    size_t msglen)
{
	json_int_t limit = 100;
	json_t *list;
	char err[512];
	int rc;

	if ((rc = ctl_int_arg(args, "limit", 1, 1000, &limit, msg, msglen)))
		return rc;
	if ((list = json_array()) == NULL)
		return E_INTERNAL;
	if (store_incoming_refused(c->ctl->store, (int)limit, ctl_collect_row, list, err,
	        sizeof(err)) != STORE_OK) {
		json_decref(list);
		return internal("incoming.refused", err, msg, msglen);
	}
	*result = json_pack("{s:o}", "refused", list);
	return *result ? 0 : E_INTERNAL;
}

/* A date argument YYYY-MM-DD, or "+N" working days from today on the office's calendar. */
static int due_arg(struct conn *c, json_t *args, const char *key, char out[11], char *msg,
    size_t msglen)
{
	const char *s = NULL;
	int rc;

	out[0] = '\0';
	if ((rc = ctl_str_arg(args, key, 16, &s, msg, msglen)) || s == NULL)
		return rc;
	if (s[0] == '+') {
		char *end;
		long n = strtol(s + 1, &end, 10);
		int y, m, d;
		if (*end != '\0' || n < 1 || n > 365) {
			snprintf(msg, msglen, "--due +N: N là số ngày làm việc, từ 1 đến 365");
			return E_INVALID;
		}
		clock_today_vn(&y, &m, &d);
		const struct calendar *cal = c->ctl->cat ? c->ctl->cat->cal : NULL;
		cal_format(calendar_add(cal, cal_from_ymd(y, m, d), (int)n), out);
		return 0;
	}
	cal_day day = cal_parse(s);
	if (day < 0) {
		snprintf(msg, msglen, "--due: '%s' không phải ngày YYYY-MM-DD hay +N (ngày làm việc)", s);
		return E_INVALID;
	}
	char today[11];
	today_iso(today);
	if (strcmp(s, today) < 0) {
		snprintf(msg, msglen, "--due %s đã qua (hôm nay %s)", s, today);
		return E_INVALID;
	}
	const struct calendar *cal = c->ctl->cat ? c->ctl->cat->cal : NULL;
	const char *off = calendar_day_off(cal, day);
	if (off != NULL) {
		snprintf(msg, msglen, "--due %s không phải ngày làm việc (%s)", s, off);
		return E_INVALID;
	}
	cal_format(day, out);
	return 0;
}

/* An assignee: a login (its [user] name or the login) or a unit code (its name). NULL: none. */
static const char *assignee_name(struct conn *c, const char *who)
{
	const struct units *u = c->ctl->cat ? c->ctl->cat->units : NULL;
	const struct unit *un = u ? units_find(u, who) : NULL;

	if (un != NULL)
		return un->name;
	const struct config_user *cu = config_find_user(c->ctl->cfg, who);
	if (cu != NULL)
		return cu->full_name ? cu->full_name : cu->login;
	if (getpwnam(who) != NULL)
		return who;
	return NULL;
}

/* Whether the caller is who: the same login, or a member of the unit's Unix group. */
static int is_caller(struct conn *c, const char *who)
{
	if (strcmp(who, c->peer.login) == 0)
		return 1;
	const struct units *u = c->ctl->cat ? c->ctl->cat->units : NULL;
	const struct unit *un = u ? units_find(u, who) : NULL;
	if (un == NULL || un->unix_group == NULL)
		return 0;
	gid_t groups[256];
	int n = 256;
	struct passwd *pw = getpwnam(c->peer.login);
	if (pw == NULL || getgrouplist(c->peer.login, pw->pw_gid, groups, &n) < 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (groups[i] == un->gid)
			return 1;
	return 0;
}

/* The caller's assignment on the entry (as lead or support), or NULL. Borrowed from list. */
static json_t *callers_assignment(struct conn *c, json_t *list, int any_role)
{
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e) {
		const char *who = json_string_value(json_object_get(e, "who"));
		const char *role = json_string_value(json_object_get(e, "role"));
		if (who && is_caller(c, who) && (any_role || (role && strcmp(role, "info") != 0)))
			return e;
	}
	return NULL;
}

static int refused_change(struct conn *c, json_int_t id, const char *what, const char *err,
    char *msg, size_t msglen);

static int cmd_assign(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_int_t id = 0, parent = 0;
	const char *lead = NULL, *opinion = NULL;
	json_t *support = json_object_get(args, "support"), *info = json_object_get(args, "info");
	struct store_assignee who[MAX_ASSIGNEES];
	char due[11], err[512], at[40];
	size_t n = 0;
	json_t *row = NULL, *as = NULL;
	int rc;

	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "parent", 0, INT64_MAX, &parent, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "lead", 64, &lead, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "opinion", MAX_TEXT, &opinion, msg, msglen)) ||
	    (rc = due_arg(c, args, "due", due, msg, msglen)))
		return rc;
	if ((support && !json_is_array(support)) || (info && !json_is_array(info)) ||
	    json_array_size(support) + json_array_size(info) + 1 > MAX_ASSIGNEES) {
		snprintf(msg, msglen, "support và info là danh sách (tối đa %d người, đơn vị)",
		    MAX_ASSIGNEES - 1);
		return E_INVALID;
	}
	if (opinion == NULL || opinion[0] == '\0') {
		snprintf(msg, msglen, "phiếu giải quyết cần ý kiến của lãnh đạo (-m Ý KIẾN)");
		return E_INVALID;
	}
	if (lead == NULL && parent == 0) {
		snprintf(msg, msglen, "phiếu giải quyết cần người hoặc đơn vị chủ trì (--lead)");
		return E_INVALID;
	}
	if (lead != NULL && due[0] == '\0') {
		snprintf(msg, msglen, "phiếu giải quyết cần thời hạn giải quyết (--due YYYY-MM-DD hoặc "
		    "+N ngày làm việc)");
		return E_INVALID;
	}
	if ((rc = incoming_row(c, id, &row, msg, msglen)))
		return rc;
	json_decref(row);
	/* who may: a leader (signer) for the office; the assignee of parent for a refinement */
	if (parent != 0) {
		as = json_array();
		if (store_incoming_assignments(c->ctl->store, id, ctl_collect_row, as, err,
		        sizeof(err)) != STORE_OK) {
			json_decref(as);
			return internal("assign", err, msg, msglen);
		}
		json_t *p = NULL, *e;
		size_t i;
		json_array_foreach(as, i, e)
			if (json_integer_value(json_object_get(e, "id")) == parent)
				p = e;
		const char *pw = p ? json_string_value(json_object_get(p, "who")) : NULL;
		int ok = pw && (is_caller(c, pw) || (c->peer.roles & ROLE_SIGNER));
		json_decref(as);
		if (p == NULL) {
			snprintf(msg, msglen, "văn bản đến %lld không có phân công số %lld", (long long)id,
			    (long long)parent);
			return E_NOT_FOUND;
		}
		if (!ok) {
			snprintf(msg, msglen, "chỉ %s (được phân công) hoặc lãnh đạo mới giao tiếp được "
			    "phần việc này", pw ? pw : "?");
			return E_DENIED;
		}
	} else if (!(c->peer.roles & ROLE_SIGNER)) {
		snprintf(msg, msglen, "chỉ lãnh đạo (signer) mới phân công giải quyết văn bản đến");
		return E_DENIED;
	}
	if (lead) {
		const char *nm = assignee_name(c, lead);
		if (nm == NULL) {
			snprintf(msg, msglen, "không có người dùng hay đơn vị '%s'", lead);
			return E_INVALID;
		}
		who[n++] = (struct store_assignee){ .who = lead, .name = nm, .role = XAS_LEAD,
			.due = due };
	}
	for (int pass = 0; pass < 2; pass++) {
		json_t *arr = pass == 0 ? support : info, *e;
		size_t i;
		json_array_foreach(arr, i, e) {
			const char *w = json_string_value(e), *nm = w ? assignee_name(c, w) : NULL;
			if (nm == NULL) {
				snprintf(msg, msglen, "không có người dùng hay đơn vị '%s'", w ? w : "?");
				return E_INVALID;
			}
			for (size_t j = 0; j < n; j++)
				if (strcmp(who[j].who, w) == 0) {
					snprintf(msg, msglen, "'%s' được ghi hai lần trong phiếu", w);
					return E_INVALID;
				}
			who[n++] = (struct store_assignee){ .who = w, .name = nm,
				.role = pass == 0 ? XAS_SUPPORT : XAS_INFO,
				.due = pass == 0 && due[0] ? due : NULL };
		}
	}
	if (n == 0) {
		snprintf(msg, msglen, "phiếu giải quyết không giao cho ai");
		return E_INVALID;
	}
	clock_iso_utc(at, sizeof(at));
	struct store_assign_new a = { .incoming_id = id, .parent = parent, .who = who, .n = n,
		.opinion = opinion, .uid = c->peer.uid, .login = c->peer.login, .at = at };
	rc = exchange_assign(c->ctl->xch, c->ctl->store, c->ctl->cfg, &a, err, sizeof(err));
	if (rc == STORE_INVALID)
		return refused_change(c, id, "assign", err, msg, msglen);
	if (rc != STORE_OK)
		return internal("assign", err, msg, msglen);
	*result = json_pack("{s:I, s:I}", "id", (json_int_t)id, "assignees", (json_int_t)n);
	return *result ? 0 : E_INTERNAL;
}

/* The caller may report on, or close, the entry: an assignee (not "để biết"), or a leader. */
static int may_handle(struct conn *c, json_int_t id, int leader_too, char *msg, size_t msglen)
{
	json_t *as = json_array();
	char err[512];

	if (as == NULL)
		return E_INTERNAL;
	if (store_incoming_assignments(c->ctl->store, id, ctl_collect_row, as, err, sizeof(err)) !=
	    STORE_OK) {
		json_decref(as);
		return internal("incoming", err, msg, msglen);
	}
	int ok = callers_assignment(c, as, 0) != NULL || (leader_too && (c->peer.roles & ROLE_SIGNER));
	int none = json_array_size(as) == 0;
	json_decref(as);
	if (ok)
		return 0;
	if (none)
		snprintf(msg, msglen, "văn bản đến %lld chưa được phân công", (long long)id);
	else
		snprintf(msg, msglen, "%s không được phân công giải quyết văn bản đến %lld",
		    c->peer.login, (long long)id);
	return none ? E_STATE : E_DENIED;
}

/*
 * Why the store refused a change of arrival id, in Vietnamese, from the arrival's state (the
 * store's own sentence, English, goes to the log).
 */
static int refused_change(struct conn *c, json_int_t id, const char *what, const char *err,
    char *msg, size_t msglen)
{
	json_t *row = NULL;
	char e2[256];
	const char *st = NULL;

	log_info("%s %lld by %s refused: %s", what, (long long)id, c->peer.login, err);
	if (store_incoming_row(c->ctl->store, id, take_row, &row, e2, sizeof(e2)) == STORE_OK)
		st = json_string_value(json_object_get(row, "state"));
	if (st && strcmp(st, "done") == 0)
		snprintf(msg, msglen, "văn bản đến %lld đã giải quyết xong", (long long)id);
	else if (st && strcmp(st, "recalled") == 0)
		snprintf(msg, msglen, "văn bản đến %lld đã bị bên gửi thu hồi", (long long)id);
	else if (st && strcmp(st, "registered") == 0)
		snprintf(msg, msglen, "văn bản đến %lld chưa được phân công", (long long)id);
	else if (strcmp(what, "assign") == 0)
		snprintf(msg, msglen, "văn bản đến %lld đã có phiếu giải quyết của lãnh đạo; giao tiếp "
		    "phần việc của một đơn vị bằng --parent PHÂN-CÔNG (một người chủ trì)", (long long)id);
	else
		snprintf(msg, msglen, "văn bản đến %lld không nhận thao tác này khi %s", (long long)id,
		    exchange_state_label(st));
	json_decref(row);
	return E_STATE;
}

/* The start of progress and done: the arrival, the text required (what to say when it is
 * missing) and the caller one who may act on it. */
static int handling_args(struct conn *c, json_t *args, const char *key, const char *missing,
    int leader_too, json_int_t *id, const char **text, char *msg, size_t msglen)
{
	json_t *row = NULL;
	int rc;

	if ((rc = ctl_int_arg(args, "id", 1, INT64_MAX, id, msg, msglen)) ||
	    (rc = ctl_str_arg(args, key, MAX_TEXT, text, msg, msglen)))
		return rc;
	if (*text == NULL || (*text)[0] == '\0') {
		snprintf(msg, msglen, "%s", missing);
		return E_INVALID;
	}
	if ((rc = incoming_row(c, *id, &row, msg, msglen)))
		return rc;
	json_decref(row);
	return may_handle(c, *id, leader_too, msg, msglen);
}

static int cmd_progress(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_int_t id = 0;
	const char *text = NULL;
	char err[512];
	int rc;

	if ((rc = handling_args(c, args, "text", "báo cáo tiến độ cần nội dung (-m NỘI DUNG)", 0, &id,
	        &text, msg, msglen)))
		return rc;
	rc = exchange_progress(c->ctl->xch, c->ctl->store, c->ctl->cfg, id, text, c->peer.uid,
	    c->peer.login, err, sizeof(err));
	if (rc == STORE_INVALID)
		return refused_change(c, id, "progress", err, msg, msglen);
	if (rc != STORE_OK)
		return internal("progress", err, msg, msglen);
	*result = json_pack("{s:I}", "id", (json_int_t)id);
	return *result ? 0 : E_INTERNAL;
}

static int cmd_incoming_done(struct conn *c, json_t *args, json_t **result, char *msg,
    size_t msglen)
{
	json_int_t id = 0;
	const char *note = NULL;
	char err[512];
	int rc;

	if ((rc = handling_args(c, args, "note", "kết thúc không có văn bản trả lời cần lý do (-m LÝ "
	        "DO)", 1, &id, &note, msg, msglen)))
		return rc;
	rc = exchange_done(c->ctl->xch, c->ctl->store, c->ctl->cfg, id, 0, note, c->peer.uid,
	    c->peer.login, err, sizeof(err));
	if (rc == STORE_DONE) {
		snprintf(msg, msglen, "văn bản đến %lld đã giải quyết xong trước đó", (long long)id);
		return E_STATE;
	}
	if (rc == STORE_INVALID)
		return refused_change(c, id, "incoming.done", err, msg, msglen);
	if (rc != STORE_OK)
		return internal("incoming.done", err, msg, msglen);
	*result = json_pack("{s:I}", "id", (json_int_t)id);
	return *result ? 0 : E_INTERNAL;
}

static int cmd_extend(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_int_t id = 0;
	const char *reason = NULL;
	char due[11], err[512];
	int rc;

	if ((rc = ctl_int_arg(args, "assignment", 1, INT64_MAX, &id, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "reason", MAX_TEXT, &reason, msg, msglen)) ||
	    (rc = due_arg(c, args, "due", due, msg, msglen)))
		return rc;
	if (due[0] == '\0' || reason == NULL || reason[0] == '\0') {
		snprintf(msg, msglen, "gia hạn cần thời hạn mới (--due) và lý do (-m LÝ DO)");
		return E_INVALID;
	}
	rc = store_incoming_extend(c->ctl->store, id, due, reason, c->peer.uid, c->peer.login, err,
	    sizeof(err));
	if (rc == STORE_INVALID) {
		log_info("extend %lld by %s refused: %s", (long long)id, c->peer.login, err);
		snprintf(msg, msglen, "không gia hạn được phân công %lld: phân công phải có, văn bản "
		    "đến còn đang giải quyết, và thời hạn mới muộn hơn thời hạn đang có", (long long)id);
		return E_STATE;
	}
	if (rc != STORE_OK)
		return internal("extend", err, msg, msglen);
	*result = json_pack("{s:I, s:s}", "assignment", (json_int_t)id, "due", due);
	return *result ? 0 : E_INTERNAL;
}

static int cmd_incoming_add(struct conn *c, json_t *args, json_t **result, char *msg,
    size_t msglen)
{
	const char *sender = NULL, *code = NULL, *date = NULL, *type = NULL, *subject = NULL;
	const char *due = NULL, *signer = NULL;
	json_int_t priority = 0, pages = 0;
	char at[40], err[512];
	int64_t id = 0, number = 0;
	int rc, y, m, d;

	if ((rc = ctl_str_arg(args, "sender", 200 * 4, &sender, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "code", 42, &code, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "date", 10, &date, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "type", 100 * 4, &type, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "subject", 500 * 4, &subject, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "due", 10, &due, msg, msglen)) ||
	    (rc = ctl_str_arg(args, "signer", 150 * 4, &signer, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "priority", 0, 4, &priority, msg, msglen)) ||
	    (rc = ctl_int_arg(args, "pages", 0, 100000, &pages, msg, msglen)))
		return rc;
	if (!sender || !code || !date || !type || !subject || !sender[0] || !code[0] || !type[0] ||
	    !subject[0]) {
		snprintf(msg, msglen, "văn bản giấy cần --from (tác giả), --code (số, ký hiệu), --date, "
		    "--type (tên loại) và --subject (trích yếu)");
		return E_INVALID;
	}
	if (cal_parse(date) < 0 || (due && cal_parse(due) < 0)) {
		snprintf(msg, msglen, "ngày phải viết YYYY-MM-DD");
		return E_INVALID;
	}
	clock_iso_utc(at, sizeof(at));
	clock_today_vn(&y, &m, &d);
	struct store_incoming_new n = { .via = "paper", .sender_name = sender, .code = code,
		.issued_on = date, .type_name = type, .subject = subject, .priority = (int)priority,
		.due_date = due, .signer = signer, .pages = (int)pages, .arrived_at = at, .year = y,
		.uid = c->peer.uid, .login = c->peer.login };
	rc = store_incoming_register(c->ctl->store, &n, &id, &number, err, sizeof(err));
	if (rc == STORE_INVALID) {
		log_info("incoming.add by %s refused: %s", c->peer.login, err);
		snprintf(msg, msglen, "không vào sổ được: một trường dài quá mức (tác giả 200, số và ký "
		    "hiệu 42, tên loại 100, trích yếu 500 ký tự) hoặc không phải chữ UTF-8 hợp lệ");
		return E_INVALID;
	}
	if (rc != STORE_OK)
		return internal("incoming.add", err, msg, msglen);
	*result = json_pack("{s:I, s:I, s:i}", "id", (json_int_t)id, "number", (json_int_t)number,
	    "year", y);
	return *result ? 0 : E_INTERNAL;
}

static int cmd_followup(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen)
{
	json_int_t year = 0;
	json_t *list, *e;
	char today[11], err[512];
	size_t i;
	int rc, y, m, d;

	if ((rc = ctl_int_arg(args, "year", 1900, 9999, &year, msg, msglen)))
		return rc;
	clock_today_vn(&y, &m, &d);
	if (year == 0)
		year = y;
	today_iso(today);
	if ((list = json_array()) == NULL)
		return E_INTERNAL;
	if (store_incoming_followup(c->ctl->store, (int)year, ctl_collect_row, list, err,
	        sizeof(err)) != STORE_OK) {
		json_decref(list);
		return internal("followup", err, msg, msglen);
	}
	/* one definition of late: open, and its chủ trì's deadline before today */
	json_int_t due = 0, late = 0, done = 0;
	json_array_foreach(list, i, e) {
		const char *st = json_string_value(json_object_get(e, "state"));
		const char *dl = json_string_value(json_object_get(e, "deadline"));
		int open = st && strcmp(st, "done") != 0 && strcmp(st, "recalled") != 0;
		int is_late = open && dl && strcmp(dl, today) < 0;
		json_object_set_new(e, "late", json_boolean(is_late));
		json_object_set_new(e, "state_label", json_string(exchange_state_label(st)));
		late += is_late;
		due += open && !is_late;
		done += !open;
	}
	*result = json_pack("{s:I, s:s, s:o, s:I, s:I, s:I}", "year", (json_int_t)year, "today",
	    today, "entries", list, "open", due, "late", late, "done", done);
	return *result ? 0 : E_INTERNAL;
}

#define READERS (ROLE_SIGNER | ROLE_CLERK | ROLE_ADMIN | ROLE_AUDITOR | ROLE_REVIEWER | ROLE_DRAFTER)

const struct command ctl_exchange_commands[] = {
	{ "delivery", ROLES_ALL, cmd_delivery },
	{ "recall", ROLE_CLERK | ROLE_SIGNER, cmd_recall },
	{ "incoming", READERS, cmd_incoming },
	{ "incoming.show", READERS, cmd_incoming_show },
	{ "incoming.pdf", READERS, cmd_incoming_pdf },
	{ "incoming.register", ROLE_CLERK | ROLE_SIGNER | ROLE_ADMIN | ROLE_AUDITOR,
	  cmd_incoming_register },
	{ "incoming.refused", ROLE_CLERK | ROLE_SIGNER | ROLE_ADMIN | ROLE_AUDITOR,
	  cmd_incoming_refused },
	{ "incoming.add", ROLE_CLERK, cmd_incoming_add },
	{ "assign", READERS, cmd_assign },
	{ "progress", READERS, cmd_progress },
	{ "incoming.done", READERS, cmd_incoming_done },
	{ "extend", ROLE_SIGNER, cmd_extend },
	{ "followup", ROLE_CLERK | ROLE_SIGNER | ROLE_ADMIN | ROLE_AUDITOR, cmd_followup },
	{ NULL, 0, NULL },
};
