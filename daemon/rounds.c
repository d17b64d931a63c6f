/*
 * rounds.c: reporting rounds (đợt báo cáo). A round names the units that
 * must report, the request that asked them, and a deadline (a date, or
 * working days from the request, counted on the calendar). This module
 * matches reports to their round (on time, late, corrected, missing), and
 * writes by itself the documents a clerk used to type: the công văn đôn đốc
 * to exactly the units still missing at the reminder time, and when the
 * round closes the Thông báo kết luận (or Báo cáo tổng hợp) with who
 * reported on time, late, or not at all, and the indicator totals. A
 * meeting's conclusions become a Thông báo kết luận draft too. Every draft
 * enters the workflow for a human to review and sign.
 */
#include "rounds.h"

#include <libxml/tree.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "clock.h"
#include "intake.h"
#include "log.h"
#include "peer.h"
#include "vnfmt.h"
#include "xmlin.h"

#define ROUND_NS "urn:vanthu:round:1"
#define is_r(n, name) xmlin_is((n), ROUND_NS, (name))
#define rchild(n, name) xmlin_child((n), ROUND_NS, (name))
#define rtext(n) xmlin_text(n)
#define rattr(n, name) xmlin_attr((n), (name))

/* "2024-03-25" as "25/3/2024", the way a body cites a date. */
static void body_date(const char *iso, char *out, size_t len)
{
	int y, m, d;

	if (iso && sscanf(iso, "%d-%d-%d", &y, &m, &d) == 3)
		snprintf(out, len, "%d/%d/%d", d, m, y);
	else
		snprintf(out, len, "%s", iso ? iso : "");
}

/* ---- opening a round ---- */

static int parse_checked(const struct catalog *cat, const char *xml, size_t len,
    const char *root_name, xmlDocPtr *doc, struct diag_list *errs)
{
	if (xmlin_parse(xml, len, "input", doc, errs) != 0)
		return -1;
	xmlNodePtr root = xmlDocGetRootElement(*doc);
	if (!is_r(root, root_name)) {
		diag_add_at(errs, "input", 1, 0, "R_SCHEMA", "phần tử gốc phải là <%s> trong không gian "
		    "tên %s", root_name, ROUND_NS);
		xmlFreeDoc(*doc);
		*doc = NULL;
		return -1;
	}
	if (xmlin_validate(cat->round_schema, *doc, "input", errs) != 0) {
		xmlFreeDoc(*doc);
		*doc = NULL;
		return -1;
	}
	return 0;
}

struct rounds_input {
	struct store_round_new r;
	char *fields[8];           /* owned: id, subject, request number, symbol, date, issuer, kind */
	char deadline[11], remind[11], close_on[11];
	const char **units;        /* owned array; the codes are borrowed from the registry */
	size_t nunits;
	char *nfc;                 /* owned: the input, UTF-8 NFC */
	char login[64];
};

void rounds_input_free(struct rounds_input *in)
{
	if (in == NULL)
		return;
	for (int i = 0; i < 8; i++)
		free(in->fields[i]);
	free(in->units);
	free(in->nfc);
	free(in);
}

const struct store_round_new *rounds_input_round(const struct rounds_input *in)
{
	return &in->r;
}

static void check_issuer(const struct catalog *cat, const struct config *cfg,
    xmlNodePtr root, const char *conclusion_kind, struct diag_list *errs);

/* Today in Vietnam as a calendar day. */
static cal_day today_vn(void)
{
	int y, m, d;

	clock_today_vn(&y, &m, &d);
	return cal_from_ymd(y, m, d);
}

/*
 * --today: the round's dates moved so that its request is dated today, every
 * date given as a date by the same number of days (working-day counts stay
 * counts), so that an example or last quarter's file serves again.
 */
static void shift_to_today(xmlNodePtr root)
{
	xmlNodePtr req = rchild(root, "request"), dl = rchild(root, "deadline");
	char *rd = rattr(req, "date"), *dd = dl ? rattr(dl, "date") : NULL, buf[16];
	cal_day r = cal_parse(rd), t = today_vn();

	if (r >= 0) {
		cal_format(t, buf);
		xmlSetProp(req, (const xmlChar *)"date", (const xmlChar *)buf);
		if (dd && cal_parse(dd) >= 0) {
			cal_format(cal_parse(dd) + (t - r), buf);
			xmlSetProp(dl, (const xmlChar *)"date", (const xmlChar *)buf);
		}
	}
	free(rd);
	free(dd);
}

int rounds_prepare(const struct catalog *cat, const struct config *cfg, const char *xml,
    size_t len, const struct wf_actor *a, unsigned flags, struct rounds_input **out,
    struct diag_list *errs, char *msg, size_t msglen)
{
	cal_day dday = -1, remind_day = -1, close_day = -1;
	int past = 0;

	struct rounds_input *in = calloc(1, sizeof(*in));
	xmlDocPtr doc = NULL;
	xmlChar *dump = NULL;
	int dumplen = 0, rc = WF_INVALID;

	*out = NULL;
	if (in == NULL) {
		snprintf(msg, msglen, "hết bộ nhớ");
		return WF_INTERNAL;
	}
	char **fields = in->fields, *deadline = in->deadline, *remind = in->remind;
	char *close_on = in->close_on;
	if (!(a->roles & (ROLE_DRAFTER | ROLE_CLERK | ROLE_ADMIN))) {
		snprintf(msg, msglen, "chỉ chuyên viên, văn thư hoặc quản trị mới mở được đợt báo cáo; %s "
		    "không có vai trò đó", a->login);
		rounds_input_free(in);
		return WF_DENIED;
	}
	if (parse_checked(cat, xml, len, "round", &doc, errs) != 0) {
		snprintf(msg, msglen, "tệp không đúng mẫu đợt báo cáo (%zu lỗi)", errs->count);
		rounds_input_free(in);
		return WF_INVALID;
	}
	xmlNodePtr root = xmlDocGetRootElement(doc), req = rchild(root, "request");
	xmlNodePtr dl = rchild(root, "deadline"), rm = rchild(root, "remind");
	xmlNodePtr concl = rchild(root, "conclusion");
	if (flags & ROUNDS_TODAY)
		shift_to_today(root);
	/* a file says itself that its dates are past on purpose (a round held before vanthu) */
	char *allow = rattr(root, "allow-past");
	if (allow && (strcmp(allow, "true") == 0 || strcmp(allow, "1") == 0))
		flags |= ROUNDS_FORCE;
	free(allow);
	fields[0] = rattr(root, "id");
	fields[1] = rtext(rchild(root, "subject"));
	fields[2] = rattr(req, "number");
	fields[3] = rattr(req, "symbol");
	fields[4] = rattr(req, "date");
	fields[5] = rattr(req, "issuer");
	fields[6] = rattr(concl, "kind");
	if (!fields[0] || !fields[1] || !fields[2] || !fields[3] || !fields[4] || !fields[6]) {
		snprintf(msg, msglen, "hết bộ nhớ");
		rc = WF_INTERNAL;
		goto out;
	}
	cal_day rdate = cal_parse(fields[4]);
	if (rdate < 0)
		diag_add_at(errs, "input", (int)xmlGetLineNo(req), 0, "R_DATE",
		    "ngày của văn bản yêu cầu \"%s\" không phải là một ngày có thật", fields[4]);
	/* the deadline: a date, or working days from the request */
	char *ddate = rattr(dl, "date"), *dwd = rattr(dl, "working-days");
	if ((ddate == NULL) == (dwd == NULL)) {
		diag_add_at(errs, "input", (int)xmlGetLineNo(dl), 0, "R_SCHEMA",
		    "<deadline> cần đúng một trong hai: date (một ngày) hoặc working-days (số ngày làm "
		    "việc kể từ ngày của văn bản yêu cầu)");
	} else if (ddate) {
		dday = cal_parse(ddate);
		if (dday < 0)
			diag_add_at(errs, "input", (int)xmlGetLineNo(dl), 0, "R_DATE",
			    "hạn báo cáo \"%s\" không phải là một ngày có thật", ddate);
	} else if (rdate >= 0) {
		dday = calendar_add(cat->cal, rdate, atoi(dwd));
	}
	free(ddate);
	free(dwd);
	if (dday >= 0 && rdate >= 0 && dday < rdate)
		diag_add_at(errs, "input", (int)xmlGetLineNo(dl), 0, "R_PERIOD",
		    "hạn báo cáo trước ngày của văn bản yêu cầu");
	if (dday >= 0) {
		cal_format(dday, deadline);
		xmlNodePtr cl = rchild(root, "close");
		char *after = cl ? rattr(cl, "working-days-after") : NULL;
		close_day = calendar_add(cat->cal, dday, after ? atoi(after) : 3);
		cal_format(close_day, close_on);
		free(after);
		if (rm) {
			char *n = rattr(rm, "working-days-before");
			remind_day = calendar_add(cat->cal, dday, -(n ? atoi(n) : 0));
			free(n);
			cal_format(remind_day, remind);
		}
	}
	/*
	 * Dates already past would make the daemon take the round's steps at once
	 * (a reminder drafted before anyone could report, a conclusion before
	 * any report): only on purpose (--force, or allow-past="true").
	 */
	if (dday >= 0 && !(flags & ROUNDS_FORCE)) {
		cal_day t = today_vn();
		char shown[16];
		if (remind_day >= 0 && remind_day < t) {
			body_date(remind, shown, sizeof(shown));
			diag_add_at(errs, "input", (int)xmlGetLineNo(rm), 0, "R_PAST", "ngày đôn đốc %s đã "
			    "qua: công văn đôn đốc sẽ được soạn ngay khi mở đợt", shown);
			past++;
		}
		if (dday < t) {
			body_date(deadline, shown, sizeof(shown));
			diag_add_at(errs, "input", (int)xmlGetLineNo(dl), 0, "R_PAST", "hạn báo cáo %s đã "
			    "qua", shown);
			past++;
		}
		if (close_day >= 0 && close_day < t) {
			body_date(close_on, shown, sizeof(shown));
			diag_add_at(errs, "input", (int)xmlGetLineNo(dl), 0, "R_PAST", "ngày cuối nhận báo "
			    "cáo muộn %s đã qua: đợt sẽ đóng và dự thảo kết luận được soạn ngay khi mở", shown);
			past++;
		}
	}
	/* the units: listed, or whole groups of the registry */
	for (xmlNodePtr c = rchild(root, "units") ? rchild(root, "units")->children : NULL; c;
	    c = c->next) {
		char *code = is_r(c, "unit") || is_r(c, "group") ? rattr(c, "code") : NULL;
		if (code == NULL)
			continue;
		if (is_r(c, "unit")) {
			const struct unit *u = units_find(cat->units, code);
			if (u == NULL) {
				diag_add_at(errs, "input", (int)xmlGetLineNo(c), 0, "R_UNIT_UNKNOWN",
				    "mã đơn vị \"%s\" không có trong danh mục đơn vị", code);
			} else {
				const char **nu = realloc(in->units, (in->nunits + 1) * sizeof(*nu));
				if (nu) {
					in->units = nu;
					in->units[in->nunits++] = u->code;
				}
			}
		} else {
			size_t found = 0;
			for (size_t g = 0; g < cat->units->ngroups; g++) {
				if (strcmp(cat->units->groups[g].code, code) != 0)
					continue;
				for (size_t i = 0; i < cat->units->nunits; i++) {
					if (cat->units->units[i].group != g)
						continue;
					const char **nu = realloc(in->units, (in->nunits + 1) * sizeof(*nu));
					if (nu) {
						in->units = nu;
						in->units[in->nunits++] = cat->units->units[i].code;
						found++;
					}
				}
			}
			if (found == 0)
				diag_add_at(errs, "input", (int)xmlGetLineNo(c), 0, "R_UNIT_UNKNOWN",
				    "nhóm đơn vị \"%s\" không có trong danh mục, hoặc không có đơn vị nào", code);
		}
		free(code);
	}
	check_issuer(cat, cfg, root, fields[6], errs);
	if (errs->count > 0 && (size_t)past == errs->count) {
		snprintf(msg, msglen, "các ngày của đợt báo cáo đã qua; nếu đúng ý (ghi lại một đợt đã "
		    "diễn ra), mở lại với --force (tệp thả vào thư mục: <round allow-past=\"true\">); "
		    "muốn dùng tệp này cho một đợt mới tính từ hôm nay: --today");
		rc = WF_STATE;
		goto out;
	}
	if (errs->count > 0) {
		snprintf(msg, msglen, "đợt báo cáo không hợp lệ (%zu lỗi)", errs->count);
		goto out;
	}
	xmlDocDumpMemoryEnc(doc, &dump, &dumplen, "UTF-8");
	if (dump == NULL || vnfmt_nfc((const char *)dump, (size_t)dumplen, &in->nfc) != VNFMT_OK) {
		snprintf(msg, msglen, "hết bộ nhớ");
		rc = WF_INTERNAL;
		goto out;
	}
	snprintf(in->login, sizeof(in->login), "%s", a->login);
	in->r = (struct store_round_new){
		.id = fields[0], .subject = fields[1], .req_number = fields[2], .req_symbol = fields[3],
		.req_date = fields[4], .req_issuer = fields[5] ? fields[5] : "", .deadline = deadline,
		.remind_on = remind[0] ? remind : NULL, .close_on = close_on,
		.conclusion_kind = fields[6], .input = in->nfc, .input_len = strlen(in->nfc),
		.units = in->units, .nunits = in->nunits, .uid = a->uid, .login = in->login,
	};
	*out = in;
	in = NULL;
	rc = WF_OK;
out:
	rounds_input_free(in);
	xmlFree(dump);
	xmlFreeDoc(doc);
	return rc;
}

int rounds_create(struct store *st, const struct catalog *cat, const struct config *cfg,
    const char *xml, size_t len, const struct wf_actor *a, unsigned flags, char *id_out,
    size_t idlen, struct diag_list *errs, char *msg, size_t msglen)
{
	struct rounds_input *in = NULL;
	char err[256];
	int rc, s;

	id_out[0] = '\0';
	rc = rounds_prepare(cat, cfg, xml, len, a, flags, &in, errs, msg, msglen);
	if (rc != WF_OK)
		return rc;
	s = store_round_create(st, &in->r, err, sizeof(err));
	if (s == STORE_INVALID) {
		snprintf(msg, msglen, "đã có đợt báo cáo mã \"%s\"", in->r.id);
		rc = WF_STATE;
	} else if (s != STORE_OK) {
		snprintf(msg, msglen, "không lưu được đợt báo cáo: %s", err);
		rc = WF_INTERNAL;
	} else {
		snprintf(id_out, idlen, "%s", in->r.id);
		log_info("round %s opened by %s: %zu units, deadline %s", in->r.id, a->login,
		    in->r.nunits, in->r.deadline);
	}
	rounds_input_free(in);
	return rc;
}

/* ---- what a round looks like now ---- */

struct collect_rows {
	json_t *rows;
};

static int take_row(const struct store_col *cols, int n, void *arg)
{
	json_t *o = json_object();

	for (int i = 0; o && i < n; i++)
		json_object_set_new(o, cols[i].name, cols[i].type == 1 ? json_integer(cols[i].i) :
		    cols[i].type == 2 ? json_string(cols[i].s) : json_null());
	return json_array_append_new(arg, o);
}

/* "2024-03-25T17:30:00.000Z" (UTC) as its Vietnam date "2024-03-26". */
static void vn_date_of(const char *utc, char out[11])
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	out[0] = '\0';
	if (utc == NULL || strptime(utc, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return;
	t = timegm(&tm) + CLOCK_VN_OFFSET;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static const char *status_label(const char *s)
{
	return strcmp(s, "on_time") == 0 ? "đúng hạn" : strcmp(s, "late") == 0 ? "muộn" :
	    strcmp(s, "after_close") == 0 ? "sau khi đóng đợt" : "chưa báo cáo";
}

json_t *rounds_describe(struct store *st, const struct catalog *cat, const char *id,
    char *err, size_t errlen)
{
	json_t *rows = json_array(), *round = NULL, *units = json_array(), *sorted = json_array();
	size_t i;
	json_t *u;

	if (rows == NULL || units == NULL || sorted == NULL)
		goto fail;
	int rc = store_round_row(st, id, take_row, rows, err, errlen);
	if (rc != STORE_OK) {
		if (rc == STORE_INVALID)
			snprintf(err, errlen, "không có đợt báo cáo \"%s\"", id);
		goto fail;
	}
	round = json_incref(json_array_get(rows, 0));
	json_object_del(round, "input");
	if (store_round_units(st, id, take_row, units, err, errlen) != STORE_OK)
		goto fail;
	const char *deadline = json_string_value(json_object_get(round, "deadline"));
	const char *closed_at = json_string_value(json_object_get(round, "closed_at"));
	size_t n = json_array_size(units), counts[4] = { 0, 0, 0, 0 };
	const char **names = calloc(n ? n : 1, sizeof(char *));
	size_t *order = calloc(n ? n : 1, sizeof(size_t));
	if (names == NULL || order == NULL) {
		free(names);
		free(order);
		goto fail;
	}
	json_array_foreach(units, i, u) {
		const char *code = json_string_value(json_object_get(u, "unit_code"));
		const struct unit *reg = units_find(cat->units, code);
		char day[11];
		const char *status = "missing";
		const char *first = json_string_value(json_object_get(u, "first_at"));
		vn_date_of(first, day);
		if (day[0])
			status = deadline && strcmp(day, deadline) <= 0 ? "on_time" : "late";
		/* a first report after the round closed is not in its conclusion: said apart */
		if (day[0] && closed_at && strcmp(first, closed_at) > 0)
			status = "after_close";
		counts[strcmp(status, "on_time") == 0 ? 0 : strcmp(status, "late") == 0 ? 1 :
		    strcmp(status, "after_close") == 0 ? 3 : 2]++;
		json_object_set_new(u, "status", json_string(status));
		json_object_set_new(u, "status_label", json_string(status_label(status)));
		json_object_set_new(u, "reported_on", json_string(day));
		json_object_set_new(u, "name", json_string(reg ? reg->name : code));
		json_object_set_new(u, "short", json_string(reg ? reg->short_name : code));
		json_object_set_new(u, "group", json_integer(reg ? (json_int_t)reg->group : 999));
		json_int_t nrep = json_integer_value(json_object_get(u, "reports"));
		json_object_set_new(u, "corrected", json_boolean(nrep > 1));
		names[i] = reg ? reg->name : code;
	}
	vnfmt_sort(names, n, order);
	for (size_t k = 0; k < n; k++)
		json_array_append(sorted, json_array_get(units, order[k]));
	free(names);
	free(order);
	json_object_set_new(round, "units", sorted);
	json_object_set_new(round, "on_time", json_integer((json_int_t)counts[0]));
	json_object_set_new(round, "late", json_integer((json_int_t)counts[1]));
	json_object_set_new(round, "missing", json_integer((json_int_t)counts[2]));
	json_object_set_new(round, "after_close", json_integer((json_int_t)counts[3]));
	/* the counts the conclusion was drafted from, beside today's */
	const char *cc = json_string_value(json_object_get(round, "closed_counts"));
	json_t *at_close = cc ? json_loads(cc, 0, NULL) : NULL;
	json_object_set_new(round, "closed_counts", at_close ? at_close : json_null());
	json_decref(units);
	json_decref(rows);
	return round;
fail:
	json_decref(rows);
	json_decref(units);
	json_decref(sorted);
	json_decref(round);
	return NULL;
}

/* ---- the drafts ---- */

/* The units of a description with a given status, in the registry's groups then collation. */
static json_t *units_with(json_t *desc, const char *status)
{
	json_t *all = json_object_get(desc, "units"), *out = json_array(), *u;
	json_int_t g, next;
	size_t i;

	/* desc's units are in collation order: one stable pass per group keeps it inside groups */
	for (g = -1; out; g = next) {
		next = -1;
		json_array_foreach(all, i, u) {
			json_int_t ug = json_integer_value(json_object_get(u, "group"));
			if (ug > g && (next < 0 || ug < next))
				next = ug;
		}
		if (next < 0)
			break;
		json_array_foreach(all, i, u)
			if (json_integer_value(json_object_get(u, "group")) == next &&
			    strcmp(json_string_value(json_object_get(u, "status")), status) == 0)
				json_array_append(out, u);
	}
	return out;
}

static void join_names(json_t *list, const char *key, char *out, size_t len)
{
	json_t *u;
	size_t i, off = 0;

	out[0] = '\0';
	json_array_foreach(list, i, u) {
		int n = snprintf(out + off, len - off, "%s%s", i ? ", " : "",
		    json_string_value(json_object_get(u, key)));
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

static xmlNodePtr add(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text)
{
	return xmlNewTextChild(parent, ns, (const xmlChar *)name, (const xmlChar *)text);
}

/* Moves a copied subtree into the document namespace, dropping the declarations it brought. */
static void to_doc_ns(xmlNodePtr n, xmlNsPtr ns)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (n->nsDef) {
			xmlFreeNsList(n->nsDef);
			n->nsDef = NULL;
		}
		xmlSetNs(n, ns);
		to_doc_ns(n->children, ns);
	}
}

/* Copies the round's <signer>, <recipients> and <archive> settings into a document. */
static void copy_settings(xmlNodePtr concl, xmlNodePtr doc_root, xmlNsPtr ns, const char *what)
{
	xmlNodePtr src = rchild(concl, what);

	if (src == NULL)
		return;
	xmlNodePtr copy = xmlDocCopyNode(src, doc_root->doc, 1);
	if (copy == NULL)
		return;
	to_doc_ns(copy, ns);
	xmlAddChild(doc_root, copy);
}

/* The body a round or a meeting is run by (its issuer attribute; none: the organisation);
 * NULL when a reload removed it since the round opened (its drafts are then refused). */
static const struct config_body *issuing_body(const struct config *cfg, xmlNodePtr root)
{
	char *abbrev = rattr(root, "issuer");
	const struct config_body *b = config_find_body(cfg, abbrev);

	free(abbrev);
	return b;
}

/* Does a signature line start with an authority prefix, in either style (T/M or TM.)? */
static int has_authority(xmlNodePtr line)
{
	static const char *const prefixes[] = { "T/M", "K/T", "T/L", "TM.", "KT.", "TL." };
	char *t = rtext(line);
	int yes = 0;

	for (size_t i = 0; t && i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		yes |= strncasecmp(t, prefixes[i], strlen(prefixes[i])) == 0;
	free(t);
	return yes;
}

/*
 * What a round's or a meeting's issuer must satisfy before anything is
 * stored: a body vanthu.conf has, a template of its kind for every draft the
 * daemon will write (the conclusion of kind conclusion_kind, the công văn đôn
 * đốc), and a signer the drafts can name: a state body's lines as given, a
 * Party committee's office under "T/M" (given, or the signer's party_title).
 */
/*
 * The drafts a round or a meeting makes are signed by the login its
 * <signer> names: that login must be an account of this server with the
 * signer role, or nobody could ever sign them (an example's placeholder
 * left as it was, a typo). No login: any signer may sign.
 */
static void check_signer_account(const struct config *cfg, xmlNodePtr sg, struct diag_list *errs)
{
	char *login = sg ? rattr(sg, "login") : NULL;
	struct passwd *pw = login ? getpwnam(login) : NULL;
	int line = sg ? (int)xmlGetLineNo(sg) : 0;

	if (login == NULL)
		return;
	if (pw == NULL) {
		diag_add_at(errs, "input", line, 0, "R_SIGNER", "tài khoản ký \"%s\" không có trên máy "
		    "chủ này; hãy ghi vào <signer login=\"...\"> tài khoản của lãnh đạo sẽ ký (hoặc bỏ "
		    "login để mọi lãnh đạo có vai trò ký đều ký được)", login);
	} else {
		struct peer p = { .uid = pw->pw_uid, .gid = pw->pw_gid };
		if (peer_resolve_roles(cfg, &p) == 0 && !(p.roles & ROLE_SIGNER))
			diag_add_at(errs, "input", line, 0, "R_SIGNER", "tài khoản \"%s\" không có vai trò "
			    "ký (nhóm %s); người ký phải là lãnh đạo có vai trò đó", login,
			    cfg->role_group[2]);
	}
	free(login);
}

static void check_issuer(const struct catalog *cat, const struct config *cfg,
    xmlNodePtr root, const char *conclusion_kind, struct diag_list *errs)
{
	const struct config_body *b = issuing_body(cfg, root);
	xmlNodePtr holder = is_r(root, "round") ? rchild(root, "conclusion") : root;
	xmlNodePtr sg = rchild(holder, "signer");
	const char *kinds[2] = { conclusion_kind, is_r(root, "round") ? "cong-van" : NULL };
	int line = (int)xmlGetLineNo(root);

	if (b == NULL) {
		char *abbrev = rattr(root, "issuer");
		diag_add_at(errs, "input", line, 0, "R_ISSUER", "cơ quan ban hành \"%s\" không có "
		    "trong cấu hình (vanthu.conf: [organisation] hoặc [body %s])", abbrev, abbrev);
		free(abbrev);
		return;
	}
	for (int i = 0; i < 2; i++) {
		const struct wf_kind *k = kinds[i] ? workflows_find(cat->wf, kinds[i]) : NULL;
		if (k && workflow_template_for(k, b->kind) == NULL)
			diag_add_at(errs, "input", line, 0, "R_ISSUER", "%s là %s nhưng loại văn bản "
			    "\"%s\" không có mẫu %s", b->abbrev, b->kind == BODY_PARTY ? "cấp ủy Đảng" :
			    "cơ quan nhà nước", k->label, b->kind == BODY_PARTY ? "của Đảng" :
			    "của cơ quan nhà nước");
	}
	size_t nlines = 0;
	for (xmlNodePtr c = sg ? sg->children : NULL; c; c = c->next)
		nlines += is_r(c, "line");
	if (b->kind == BODY_PARTY && nlines == 4 && !has_authority(rchild(sg, "line")))
		diag_add_at(errs, "input", (int)xmlGetLineNo(sg), 0, "R_SCHEMA", "<signer> của cấp ủy "
		    "Đảng: dòng \"T/M %s\" được thêm ở trên, nên chỉ còn chỗ cho 3 dòng chức vụ",
		    b->collective);
	if (nlines == 0) {
		char *login = rattr(sg, "login");
		const struct config_user *u = login ? config_find_user(cfg, login) : NULL;
		if (b->kind != BODY_PARTY)
			diag_add_at(errs, "input", (int)xmlGetLineNo(sg), 0, "R_SCHEMA", "<signer> cần "
			    "các dòng thẩm quyền và chức vụ (<line>KT. CHỦ TỊCH</line>...) khi cơ quan "
			    "ban hành là cơ quan nhà nước");
		else if (u == NULL || !(u->party_title || u->title))
			diag_add_at(errs, "input", (int)xmlGetLineNo(sg), 0, "R_SCHEMA", "<signer> không "
			    "có dòng chức vụ và vanthu.conf không có party_title của người ký \"%s\"; "
			    "hãy thêm <line>PHÓ BÍ THƯ</line>", login ? login : "");
		free(login);
	}
	check_signer_account(cfg, sg, errs);
}

/*
 * The signature block of a draft: the state form as the input gives it; for
 * a Party committee, signed for the collective with "T/M": "T/M BAN THƯỜNG
 * VỤ" then the office (the input's lines, or the signer's party_title or
 * title). Lines that already carry T/M, K/T or T/L (or TM., KT., TL.) are
 * kept as given.
 */
static void add_signer(xmlNodePtr holder, xmlNodePtr doc_root, xmlNsPtr ns,
    const struct config *cfg, const struct config_body *b)
{
	xmlNodePtr src = rchild(holder, "signer");

	if (src == NULL)
		return;
	if (b == NULL || b->kind != BODY_PARTY) {
		copy_settings(holder, doc_root, ns, "signer");
		return;
	}
	char *login = rattr(src, "login"), *name = NULL;
	int nlines = 0;
	xmlNodePtr sg = add(doc_root, ns, "signer", NULL);
	if (login)
		xmlSetProp(sg, (const xmlChar *)"login", (const xmlChar *)login);
	if (!has_authority(rchild(src, "line"))) {
		char buf[512];
		snprintf(buf, sizeof(buf), "T/M %s", b->collective);
		add(sg, ns, "line", buf);
		nlines++;
	}
	for (xmlNodePtr c = src->children; c; c = c->next) {
		if (!is_r(c, "line") || nlines >= 4)
			continue;
		char *t = rtext(c);
		add(sg, ns, "line", t ? t : "");
		free(t);
		nlines++;
	}
	if (nlines == 1) {
		const struct config_user *u = login ? config_find_user(cfg, login) : NULL;
		const char *office = u ? (u->party_title ? u->party_title : u->title) : NULL;
		add(sg, ns, "line", office ? office : "");
	}
	name = rtext(rchild(src, "name"));
	add(sg, ns, "name", name ? name : "");
	free(name);
	free(login);
}

/* Marks a draft as issued by the round's or meeting's body, when it names one. */
static void set_issuer(xmlNodePtr from_root, xmlNodePtr doc_root)
{
	char *abbrev = rattr(from_root, "issuer");

	if (abbrev)
		xmlSetProp(doc_root, (const xmlChar *)"issuer", (const xmlChar *)abbrev);
	free(abbrev);
}


static char *dump_doc(xmlDocPtr doc, size_t *len)
{
	xmlChar *d = NULL;
	int n = 0;
	char *out;

	xmlDocDumpMemoryEnc(doc, &d, &n, "UTF-8");
	if (d == NULL)
		return NULL;
	out = malloc((size_t)n + 1);
	if (out) {
		memcpy(out, d, (size_t)n);
		out[n] = '\0';
		*len = (size_t)n;
	}
	xmlFree(d);
	return out;
}

/* Turns a generated input into a draft owned by the configured drafter, in the round's step. */
static int take_step(struct store *st, const struct catalog *cat, const struct config *cfg,
    const char *round_id, int closing, const char *kind, xmlDocPtr doc, const char *reason,
    const char *counts, int64_t uid, const char *login, int64_t *doc_id)
{
	const struct wf_kind *k = workflows_find(cat->wf, kind);
	struct passwd *pw = getpwnam(cfg->round_drafter);
	struct wf_actor owner = { .uid = pw ? (int64_t)pw->pw_uid : -1, .login = cfg->round_drafter,
		.roles = ROLE_DRAFTER };
	struct wf_input *in = NULL;
	struct diag_list errs;
	char err[512], *xml = NULL;
	size_t len = 0;
	int rc = -1;

	diag_init(&errs);
	if (doc != NULL) {
		xml = dump_doc(doc, &len);
		if (k == NULL || xml == NULL ||
		    workflow_input_read(k, cfg, cat->units, xml, len, &owner, &in, &errs) != 0) {
			log_err("round %s: the generated %s does not validate: %s", round_id, kind,
			    errs.count ? errs.items[0].message : "no such kind");
			goto out;
		}
	}
	int s = store_round_step(st, round_id, closing, in ? workflow_input_doc(in) : NULL, reason,
	    counts, uid, login, doc_id, err, sizeof(err));
	if (s == STORE_OK) {
		rc = 0;
		if (*doc_id)
			log_info("round %s: %s drafted as document %lld", round_id,
			    closing ? "conclusion" : "reminder", (long long)*doc_id);
	} else if (s == STORE_INVALID) {
		rc = 1;  /* taken already: nothing to do */
	} else {
		log_err("round %s: %s", round_id, err);
	}
out:
	workflow_input_free(in);
	diag_free(&errs);
	free(xml);
	return rc;
}

/* A new input document of kind for round id: its root, in the documents' namespace, and <round>. */
static xmlDocPtr draft_new(const char *kind, const char *id, xmlNodePtr *root, xmlNsPtr *ns)
{
	xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");

	*root = xmlNewNode(NULL, (const xmlChar *)kind);
	*ns = xmlNewNs(*root, (const xmlChar *)WF_DOC_NS, NULL);
	xmlSetNs(*root, *ns);
	xmlDocSetRootElement(doc, *root);
	add(*root, *ns, "round", id);
	return doc;
}

/* The names of the document types a request may be, by the abbreviation in its symbol. */
static const char *const type_names[][2] = {
	{ "NQ", "Nghị quyết" }, { "QĐ", "Quyết định" }, { "CT", "Chỉ thị" }, { "KL", "Kết luận" },
	{ "QC", "Quy chế" }, { "TT", "Thông tri" }, { "HD", "Hướng dẫn" }, { "TB", "Thông báo" },
	{ "BC", "Báo cáo" }, { "KH", "Kế hoạch" }, { "CTr", "Chương trình" }, { "TTr", "Tờ trình" },
	{ "CV", "Công văn" }, { "BB", "Biên bản" }, { "ĐA", "Đề án" }, { "PA", "Phương án" },
};

/*
 * How a body cites the request a round answers. The symbol tells the style:
 * a Party document's ("KH/BCĐ") is cited "Kế hoạch số 02-KH/BCĐ, ngày
 * 8/7/2025 của …", a state one's ("KH-UBND", "UBND-VP") "Kế hoạch số
 * 138/KH-UBND ngày 21/5/2025 của …"; a symbol without a known type is a
 * công văn's. Then "về việc" and the round's subject. A request that does not
 * name who issued it was the round's own body's.
 */
static void cite_request(json_t *desc, const struct config_body *body, char *out, size_t len)
{
	const char *issuer = json_string_value(json_object_get(desc, "req_issuer"));
	const char *symbol = json_string_value(json_object_get(desc, "req_symbol"));
	const char *number = json_string_value(json_object_get(desc, "req_number"));
	const char *name = "Công văn", *slash = strchr(symbol, '/');
	size_t tlen = slash ? (size_t)(slash - symbol) : strcspn(symbol, "-");
	char day[32];

	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strlen(type_names[i][0]) == tlen && strncmp(symbol, type_names[i][0], tlen) == 0)
			name = type_names[i][1];
	body_date(json_string_value(json_object_get(desc, "req_date")), day, sizeof(day));
	snprintf(out, len, "%s số %s%s%s%s ngày %s của %s về việc %s", name, number,
	    slash ? "-" : "/", symbol, slash ? "," : "", day,
	    issuer && *issuer ? issuer : body ? body->name : "",
	    json_string_value(json_object_get(desc, "subject")));
}

static int remind(struct store *st, const struct catalog *cat, const struct config *cfg,
    json_t *desc, xmlNodePtr rroot)
{
	const char *id = json_string_value(json_object_get(desc, "id"));
	json_t *missing = units_with(desc, "missing");
	xmlDocPtr doc = NULL;
	int64_t doc_id = 0;
	char buf[4096], cite[2048], d2[32];
	int rc;

	if (json_array_size(missing) > 0) {
		xmlNodePtr concl = rchild(rroot, "conclusion"), root;
		xmlNsPtr ns;
		doc = draft_new("cong-van", id, &root, &ns);
		set_issuer(rroot, root);
		char *unit = rtext(rchild(concl, "drafting-unit"));
		add(root, ns, "drafting-unit", unit ? unit : "VP");
		free(unit);
		snprintf(buf, sizeof(buf), "đôn đốc %s", json_string_value(json_object_get(desc, "subject")));
		add(root, ns, "summary", buf);
		json_t *u;
		size_t i;
		json_array_foreach(missing, i, u)
			xmlSetProp(add(root, ns, "to", ""), (const xmlChar *)"unit",
			    (const xmlChar *)json_string_value(json_object_get(u, "unit_code")));
		xmlNodePtr body = add(root, ns, "body", NULL);
		cite_request(desc, issuing_body(cfg, rroot), cite, sizeof(cite));
		body_date(json_string_value(json_object_get(desc, "deadline")), d2, sizeof(d2));
		snprintf(buf, sizeof(buf), "Thực hiện %s, các đơn vị được đề nghị gửi báo cáo chậm nhất "
		    "ngày %s.", cite, d2);
		add(body, ns, "p", buf);
		snprintf(buf, sizeof(buf), "Đến nay, %zu/%zu đơn vị chưa gửi báo cáo. Đề nghị các đơn vị "
		    "nêu trên khẩn trương hoàn thành và gửi báo cáo đúng thời hạn ngày %s để tổng hợp, "
		    "báo cáo theo quy định.", json_array_size(missing),
		    json_array_size(json_object_get(desc, "units")), d2);
		add(body, ns, "p", buf);
		add_signer(concl, root, ns, cfg, issuing_body(cfg, rroot));
		copy_settings(concl, root, ns, "recipients");
		copy_settings(concl, root, ns, "archive");
	}
	rc = take_step(st, cat, cfg, id, 0, "cong-van", doc, "reminder", NULL, -1, "vanthud",
	    &doc_id);
	if (rc == 0 && doc_id == 0)
		log_info("round %s: every unit has reported; no reminder needed", id);
	xmlFreeDoc(doc);
	json_decref(missing);
	return rc;
}

/* Adds a paragraph listing units, or "Không có." */
static void list_para(xmlNodePtr body, xmlNsPtr ns, json_t *list)
{
	char buf[8192];

	join_names(list, "name", buf, sizeof(buf));
	if (buf[0]) {
		size_t n = strlen(buf);
		snprintf(buf + n, sizeof(buf) - n, ".");
	}
	add(body, ns, "p", buf[0] ? buf : "Không có.");
}

/* The first figure of each indicator code, in the order first seen: the columns and totals. */
static json_t *first_per_code(json_t *figures)
{
	json_t *codes = json_array(), *f, *c;
	size_t i, j;

	json_array_foreach(figures, i, f) {
		const char *code = json_string_value(json_object_get(f, "code"));
		int seen = 0;
		json_array_foreach(codes, j, c)
			seen |= strcmp(json_string_value(json_object_get(c, "code")), code) == 0;
		if (!seen)
			json_array_append(codes, f);
	}
	return codes;
}

/* One line per indicator: a sum, or the average of a percentage, over the units that gave it. */
static void add_totals(xmlNodePtr body, xmlNsPtr ns, json_t *figures, json_t *codes)
{
	json_t *c, *f;
	size_t i, j;
	char buf[1024], raw[64], num[96];

	if (json_array_size(codes) == 0)
		add(body, ns, "p", "Chưa có số liệu.");
	json_array_foreach(codes, i, c) {
		const char *code = json_string_value(json_object_get(c, "code"));
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *measure = json_string_value(json_object_get(c, "measure"));
		int pct = strcmp(measure, "%") == 0, count = 0, weighed = pct;
		double sum = 0, wsum = 0, wtotal = 0;
		const char *base_name = NULL;
		json_array_foreach(figures, j, f) {
			if (strcmp(json_string_value(json_object_get(f, "code")), code) != 0)
				continue;
			double v = strtod(json_string_value(json_object_get(f, "value")), NULL);
			sum += v;
			count++;
			/* a rate with its base counts as much as its base: 82,5% of 286 files */
			const char *base = json_string_value(json_object_get(f, "base"));
			const char *unit = json_string_value(json_object_get(f, "unit_code"));
			json_t *b = NULL, *g;
			size_t k;
			json_array_foreach(figures, k, g)
				if (base && strcmp(json_string_value(json_object_get(g, "unit_code")), unit) == 0 &&
				    strcmp(json_string_value(json_object_get(g, "code")), base) == 0)
					b = g;
			if (b == NULL) {
				weighed = 0;
				continue;
			}
			double w = strtod(json_string_value(json_object_get(b, "value")), NULL);
			base_name = json_string_value(json_object_get(b, "name"));
			wsum += v * w;
			wtotal += w;
		}
		if (wtotal <= 0)
			weighed = 0;
		snprintf(raw, sizeof(raw), "%.6f", weighed ? wsum / wtotal : pct ? sum / count : sum);
		vnfmt_decimal(raw, pct ? 1 : 2, num, sizeof(num));
		/* every average with one decimal, so that they read alike: 97,0% beside 61,4% */
		if (pct && strchr(num, ',') == NULL && strlen(num) + 3 < sizeof(num))
			strcat(num, ",0");
		if (weighed)
			snprintf(buf, sizeof(buf), "- %s: bình quân %s%%, gia quyền theo \"%s\" của từng đơn "
			    "vị (%d đơn vị báo cáo).", name, num, base_name ? base_name : "", count);
		else if (pct)
			snprintf(buf, sizeof(buf), "- %s: bình quân %s%% (%d đơn vị báo cáo).", name, num,
			    count);
		else
			snprintf(buf, sizeof(buf), "- %s: tổng cộng %s%s%s (%d đơn vị báo cáo).", name, num,
			    measure[0] ? " " : "", measure, count);
		add(body, ns, "p", buf);
	}
}

/* The table of a báo cáo tổng hợp: a column per indicator, a row per unit that gave figures. */
static void add_table(xmlNodePtr root, xmlNsPtr ns, json_t *desc, json_t *figures, json_t *codes)
{
	xmlNodePtr tb = add(root, ns, "table", NULL);
	json_t *c, *u, *f;
	size_t i, j;

	json_array_foreach(codes, i, c) {
		xmlNodePtr col = add(tb, ns, "column", NULL);
		xmlSetProp(col, (const xmlChar *)"code",
		    (const xmlChar *)json_string_value(json_object_get(c, "code")));
		xmlSetProp(col, (const xmlChar *)"label",
		    (const xmlChar *)json_string_value(json_object_get(c, "name")));
		xmlSetProp(col, (const xmlChar *)"measure",
		    (const xmlChar *)json_string_value(json_object_get(c, "measure")));
	}
	json_array_foreach(json_object_get(desc, "units"), i, u) {
		const char *uc = json_string_value(json_object_get(u, "unit_code"));
		xmlNodePtr row = NULL;
		json_array_foreach(figures, j, f) {
			if (strcmp(json_string_value(json_object_get(f, "unit_code")), uc) != 0)
				continue;
			if (row == NULL) {
				row = add(tb, ns, "row", NULL);
				xmlSetProp(row, (const xmlChar *)"unit", (const xmlChar *)uc);
				xmlSetProp(row, (const xmlChar *)"name",
				    (const xmlChar *)json_string_value(json_object_get(u, "short")));
			}
			xmlNodePtr v = add(row, ns, "value", json_string_value(json_object_get(f, "value")));
			xmlSetProp(v, (const xmlChar *)"code",
			    (const xmlChar *)json_string_value(json_object_get(f, "code")));
			if (json_is_string(json_object_get(f, "target")))
				xmlSetProp(v, (const xmlChar *)"target",
				    (const xmlChar *)json_string_value(json_object_get(f, "target")));
		}
	}
}

static const char *const letters[] = { "a", "b", "c", "d", "đ", "e", "g", "h", "i", "k", "l",
	"m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "x", "y" };

/*
 * The trích yếu of a round's conclusion, from the round's subject, without
 * saying "báo cáo" twice: a subject "báo cáo kết quả triển khai …" gives
 * "Tình hình gửi báo cáo kết quả triển khai …" (a notice) or "Tổng hợp báo
 * cáo kết quả triển khai …" (a summary report); any other subject "… về
 * <subject>".
 */
static void summary_of(const char *subject, int report, char *out, size_t len)
{
	static const char lead[] = "báo cáo ";
	const char *head = report ? "Tổng hợp" : "Tình hình gửi";

	if (subject == NULL)
		subject = "";
	if (strncmp(subject, lead, sizeof(lead) - 1) == 0 ||
	    strncmp(subject, "Báo cáo ", sizeof(lead) - 1) == 0)
		snprintf(out, len, "%s báo cáo %s", head, subject + sizeof(lead) - 1);
	else
		snprintf(out, len, "%s báo cáo về %s", head, subject);
}

static int conclude(struct store *st, const struct catalog *cat, const struct config *cfg,
    json_t *desc, xmlNodePtr rroot, const char *reason, int64_t uid, const char *login,
    int64_t *doc_id)
{
	const char *id = json_string_value(json_object_get(desc, "id"));
	const char *kind = json_string_value(json_object_get(desc, "conclusion_kind"));
	int table = strcmp(kind, "bao-cao-tong-hop") == 0;
	json_t *on = units_with(desc, "on_time"), *late = units_with(desc, "late");
	json_t *miss = units_with(desc, "missing"), *figures = json_array();
	xmlNodePtr concl = rchild(rroot, "conclusion");
	size_t total = json_array_size(json_object_get(desc, "units"));
	char buf[4096], cite[2048], d2[32], err[256];
	char *chair = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	xmlNsPtr ns;
	json_t *codes = NULL, *f;
	size_t i;
	int rc = -1;

	/* a conclusion without the figures would be wrong, not merely short */
	if (figures == NULL || store_round_figures(st, id, take_row, figures, err,
	    sizeof(err)) != STORE_OK) {
		log_err("round %s: figures: %s", id, figures ? err : "out of memory");
		goto out;
	}
	codes = first_per_code(figures);
	chair = rtext(rchild(concl, "chair"));
	doc = draft_new(kind, id, &root, &ns);
	set_issuer(rroot, root);
	summary_of(json_string_value(json_object_get(desc, "subject")), table, buf, sizeof(buf));
	add(root, ns, "summary", buf);
	xmlNodePtr body = add(root, ns, "body", NULL);
	cite_request(desc, issuing_body(cfg, rroot), cite, sizeof(cite));
	body_date(json_string_value(json_object_get(desc, "deadline")), d2, sizeof(d2));
	snprintf(buf, sizeof(buf), "Thực hiện %s (hạn báo cáo chậm nhất ngày %s), kết quả tiếp nhận "
	    "báo cáo của %zu đơn vị như sau:", cite, d2, total);
	add(body, ns, "p", buf);
	snprintf(buf, sizeof(buf), "1. Các đơn vị báo cáo đúng hạn (%zu/%zu)", json_array_size(on), total);
	add(body, ns, "heading", buf);
	list_para(body, ns, on);
	snprintf(buf, sizeof(buf), "2. Các đơn vị báo cáo muộn (%zu/%zu)", json_array_size(late), total);
	add(body, ns, "heading", buf);
	list_para(body, ns, late);
	snprintf(buf, sizeof(buf), "3. Các đơn vị chưa báo cáo (%zu/%zu)", json_array_size(miss), total);
	add(body, ns, "heading", buf);
	list_para(body, ns, miss);
	add(body, ns, "heading", "4. Tổng hợp chỉ tiêu");
	add_totals(body, ns, figures, codes);
	/* a summary report's table of each unit's figures stands under the totals */
	if (table)
		add(body, ns, "figures", NULL);
	size_t nitems = 0;
	for (xmlNodePtr c = concl->children; c; c = c->next)
		nitems += is_r(c, "item");
	if (nitems) {
		/* a notice tells the chair's conclusions; a report to a superior proposes */
		if (table) {
			add(body, ns, "heading", "5. Đề xuất, kiến nghị");
			add(body, ns, "p", "Trên cơ sở kết quả nêu trên, đề xuất, kiến nghị như sau:");
		} else {
			add(body, ns, "heading", "5. Kết luận");
			snprintf(buf, sizeof(buf), "Trên cơ sở kết quả nêu trên, %s kết luận như sau:",
			    chair && *chair ? chair : "lãnh đạo");
			add(body, ns, "p", buf);
		}
		size_t k = 0;
		for (xmlNodePtr c = concl->children; c; c = c->next) {
			if (!is_r(c, "item"))
				continue;
			char *t = rtext(c);
			snprintf(buf, sizeof(buf), "%s) %s", letters[k < 23 ? k : 22], t ? t : "");
			free(t);
			add(body, ns, "p", buf);
			k++;
		}
	}
	if (table)
		add_table(root, ns, desc, figures, codes);
	add_signer(concl, root, ns, cfg, issuing_body(cfg, rroot));
	/* Nơi nhận: the round's own list, then every unit of the round */
	xmlNodePtr rec = rchild(concl, "recipients");
	xmlNodePtr recs = rec ? xmlDocCopyNode(rec, doc, 1) : xmlNewNode(ns, (const xmlChar *)"recipients");
	to_doc_ns(recs, ns);
	xmlAddChild(root, recs);
	json_array_foreach(json_object_get(desc, "units"), i, f) {
		xmlNodePtr r = add(recs, ns, "recipient", "");
		xmlSetProp(r, (const xmlChar *)"unit",
		    (const xmlChar *)json_string_value(json_object_get(f, "unit_code")));
	}
	copy_settings(concl, root, ns, "archive");
	char *counts = NULL;
	if (asprintf(&counts, "{\"on_time\":%zu,\"late\":%zu,\"missing\":%zu,\"units\":%zu}",
	        json_array_size(on), json_array_size(late), json_array_size(miss), total) < 0)
		counts = NULL;
	rc = counts ? take_step(st, cat, cfg, id, 1, kind, doc, reason, counts, uid, login, doc_id) :
	    -1;
	free(counts);
out:
	xmlFreeDoc(doc);
	json_decref(codes);
	json_decref(on);
	json_decref(late);
	json_decref(miss);
	json_decref(figures);
	free(chair);
	return rc;
}

/* Loads a round's own input again (for its settings). */
static xmlDocPtr round_input(struct store *st, const char *id)
{
	json_t *rows = json_array();
	char err[256];
	xmlDocPtr doc = NULL;
	struct diag_list errs;

	diag_init(&errs);
	if (rows && store_round_row(st, id, take_row, rows, err, sizeof(err)) == STORE_OK) {
		const char *x = json_string_value(json_object_get(json_array_get(rows, 0), "input"));
		if (x == NULL || xmlin_parse(x, strlen(x), "round", &doc, &errs) != 0)
			doc = NULL;
	}
	diag_free(&errs);
	json_decref(rows);
	return doc;
}

static void settle_reminder(struct store *st, const struct catalog *cat, json_t *desc,
    const char *reason);

static time_t at_vn(const char *iso, int hour)
{
	cal_day d = cal_parse(iso);
	int y, m, dd;

	if (d < 0)
		return 0;
	cal_to_ymd(d, &y, &m, &dd);
	return clock_vn_midnight(y, m, dd) + hour * 3600;
}

void rounds_tick(struct store *st, const struct catalog *cat, const struct config *cfg,
    time_t *next)
{
	json_t *open = json_array(), *r;
	struct timespec now;
	char err[256];
	size_t i;

	*next = 0;
	clock_now(&now);
	if (open == NULL || store_rounds_list(st, 1, take_row, open, err, sizeof(err)) != STORE_OK) {
		log_err("rounds: %s", err);
		json_decref(open);
		return;
	}
	json_array_foreach(open, i, r) {
		const char *id = json_string_value(json_object_get(r, "id"));
		const char *remind_on = json_string_value(json_object_get(r, "remind_on"));
		int reminded = !json_is_null(json_object_get(r, "reminded_at"));
		time_t remind_at = remind_on ? at_vn(remind_on, 8) : 0;
		time_t close_at = at_vn(json_string_value(json_object_get(r, "close_on")), 24);
		json_t *desc = rounds_describe(st, cat, id, err, sizeof(err));
		xmlDocPtr in = round_input(st, id);
		if (desc == NULL || in == NULL) {
			log_err("round %s: %s", id, desc ? "its input does not parse" : err);
			json_decref(desc);
			xmlFreeDoc(in);
			continue;
		}
		xmlNodePtr rroot = xmlDocGetRootElement(in);
		int64_t doc_id = 0;
		int all = json_integer_value(json_object_get(desc, "missing")) == 0;
		int failed = 0;
		if (!reminded && remind_at && now.tv_sec >= remind_at && now.tv_sec < close_at) {
			failed = remind(st, cat, cfg, desc, rroot) < 0;
			reminded = !failed;
		}
		if (now.tv_sec >= close_at)
			failed |= conclude(st, cat, cfg, desc, rroot, "deadline", -1, "vanthud", &doc_id) < 0;
		else if (all)
			failed |= conclude(st, cat, cfg, desc, rroot, "all reported", -1, "vanthud",
			    &doc_id) < 0;
		if (now.tv_sec >= close_at || all) {
			char why[256];
			/* the reminder nobody needs now: withdrawn, unless it was issued already */
			snprintf(why, sizeof(why), now.tv_sec >= close_at ? "đợt báo cáo %s đã hết hạn và "
			    "đóng" : "mọi đơn vị của đợt báo cáo %s đã gửi báo cáo", id);
			settle_reminder(st, cat, desc, why);
		}
		/* a step that failed (logged) is tried again in a minute, not left to the next start */
		time_t t = failed ? now.tv_sec + 60 : now.tv_sec >= close_at || all ? 0 :
		    !reminded && remind_at ? remind_at : close_at;
		if (t != 0 && (*next == 0 || t < *next))
			*next = t;
		json_decref(desc);
		xmlFreeDoc(in);
	}
	json_decref(open);
}

int rounds_close(struct store *st, const struct catalog *cat, const struct config *cfg,
    const char *id, const struct wf_actor *a, int64_t *doc_id, char *msg, size_t msglen)
{
	char err[256];
	json_t *desc;
	xmlDocPtr in;
	int rc;

	*doc_id = 0;
	if (!(a->roles & (ROLE_CLERK | ROLE_ADMIN))) {
		snprintf(msg, msglen, "chỉ văn thư hoặc quản trị mới đóng được đợt báo cáo; %s không có "
		    "vai trò đó", a->login);
		return WF_DENIED;
	}
	desc = rounds_describe(st, cat, id, err, sizeof(err));
	if (desc == NULL) {
		snprintf(msg, msglen, "%s", err);
		return WF_UNKNOWN;
	}
	if (strcmp(json_string_value(json_object_get(desc, "state")), "open") != 0) {
		json_decref(desc);
		snprintf(msg, msglen, "đợt báo cáo \"%s\" đã đóng", id);
		return WF_STATE;
	}
	in = round_input(st, id);
	rc = in ? conclude(st, cat, cfg, desc, xmlDocGetRootElement(in), "closed by a clerk", a->uid,
	    a->login, doc_id) : -1;
	xmlFreeDoc(in);
	if (rc == 0) {
		char why[256];
		snprintf(why, sizeof(why), "đợt báo cáo %s đã được %s đóng", id, a->login);
		settle_reminder(st, cat, desc, why);
	}
	json_decref(desc);
	if (rc == 1) {
		snprintf(msg, msglen, "đợt báo cáo \"%s\" đã đóng", id);
		return WF_STATE;
	}
	if (rc != 0) {
		snprintf(msg, msglen, "không đóng được đợt báo cáo (xem nhật ký của vanthud)");
		return WF_INTERNAL;
	}
	return WF_OK;
}

/* ---- the reminder follows its round ---- */

/* The reason a round's reminder no longer has anyone to remind, or NULL. */
static const char *reminder_void_reason(json_t *desc, char *buf, size_t len)
{
	const char *state = json_string_value(json_object_get(desc, "state"));

	if (state && strcmp(state, "open") != 0) {
		snprintf(buf, len, "đợt báo cáo %s đã đóng",
		    json_string_value(json_object_get(desc, "id")));
		return buf;
	}
	if (json_integer_value(json_object_get(desc, "missing")) == 0) {
		snprintf(buf, len, "mọi đơn vị của đợt báo cáo %s đã gửi báo cáo",
		    json_string_value(json_object_get(desc, "id")));
		return buf;
	}
	return NULL;
}

/*
 * Withdraws document doc_id, a reminder nobody needs any more, as the
 * daemon's own step with the reason in its history. A document already in a
 * final state is left as it is (an issued reminder stays issued). 0 done or
 * nothing to do, -1 failed (logged).
 */
static int withdraw_reminder(struct store *st, const struct catalog *cat, int64_t doc_id,
    const char *reason)
{
	struct store_doc doc;
	struct store_transition tr;
	const struct wf_kind *k;
	const struct wf_state *s, *to = NULL;
	char err[256];
	int rc;

	if (store_doc_get(st, doc_id, &doc, err, sizeof(err)) != STORE_OK) {
		log_err("reminder %lld: %s", (long long)doc_id, err);
		return -1;
	}
	k = workflows_find(cat->wf, doc.kind);
	s = k ? wf_state_find(k, doc.state) : NULL;
	for (size_t i = 0; k && i < k->ntransitions; i++)
		if (strcmp(k->transitions[i].action, "withdraw") == 0)
			to = k->transitions[i].to_state;
	if (s == NULL || s->final || to == NULL) {
		rc = s != NULL && s->final ? 0 : -1;
		if (rc)
			log_err("reminder %lld: its kind %s has no withdraw step from %s", (long long)doc_id,
			    doc.kind, doc.state);
		goto out;
	}
	memset(&tr, 0, sizeof(tr));
	tr.id = doc_id;
	tr.from = doc.state;
	tr.to = to->id;
	tr.action = "withdraw";
	tr.comment = reason;
	tr.uid = -1;
	tr.login = "vanthud";
	rc = store_doc_transition(st, &tr, err, sizeof(err));
	if (rc == STORE_OK) {
		log_info("reminder %lld withdrawn: %s", (long long)doc_id, reason);
		rc = 0;
	} else if (rc == STORE_INVALID) {
		rc = 0;  /* it moved on meanwhile: the next look decides again */
	} else {
		log_err("reminder %lld: %s", (long long)doc_id, err);
		rc = -1;
	}
out:
	store_doc_free(&doc);
	return rc;
}

/* Withdraws round desc's reminder when the round no longer needs it. */
static void settle_reminder(struct store *st, const struct catalog *cat, json_t *desc,
    const char *reason)
{
	json_t *r = json_object_get(desc, "reminder_doc");

	if (json_is_integer(r) && json_integer_value(r) > 0)
		withdraw_reminder(st, cat, json_integer_value(r), reason);
}

/* Is code among the units of list? */
static int listed(json_t *list, const char *code)
{
	json_t *u;
	size_t i;

	json_array_foreach(list, i, u)
		if (strcmp(json_string_value(json_object_get(u, "unit_code")), code) == 0)
			return 1;
	return 0;
}

/*
 * The reminder's input rewritten to the round as it is now: its Kính gửi
 * without the round's units that have reported, and the count sentence
 * ("Đến nay, 2/6 đơn vị chưa gửi báo cáo.") with today's figures. Recipients
 * the drafter added who are not the round's units stay. *changed says
 * whether anything differs; dropped gets the names that left.
 */
static xmlDocPtr refresh_reminder(const char *xml, size_t len, json_t *desc, int *changed,
    char *dropped, size_t dlen)
{
	json_t *units = json_object_get(desc, "units"), *missing = units_with(desc, "missing");
	struct diag_list errs;
	xmlDocPtr doc = NULL;
	size_t off = 0;

	*changed = 0;
	dropped[0] = '\0';
	diag_init(&errs);
	if (missing == NULL || xmlin_parse(xml, len, "reminder", &doc, &errs) != 0)
		goto out;
	xmlNodePtr root = xmlDocGetRootElement(doc), n, next;
	for (n = root->children; n; n = next) {
		next = n->next;
		if (!xmlin_is(n, WF_DOC_NS, "to"))
			continue;
		char *code = xmlin_attr(n, "unit");
		if (code && listed(units, code) && !listed(missing, code)) {
			json_t *e, *hit = NULL;
			size_t i;
			json_array_foreach(units, i, e)
				if (strcmp(json_string_value(json_object_get(e, "unit_code")), code) == 0)
					hit = e;
			int w = snprintf(dropped + off, dlen - off, "%s%s", off ? ", " : "",
			    hit ? json_string_value(json_object_get(hit, "name")) : code);
			if (w > 0 && (size_t)w < dlen - off)
				off += (size_t)w;
			xmlUnlinkNode(n);
			xmlFreeNode(n);
			*changed = 1;
		}
		free(code);
	}
	xmlNodePtr body = xmlin_child(root, WF_DOC_NS, "body");
	for (n = body ? body->children : NULL; n; n = n->next) {
		static const char lead[] = "Đến nay, ", tail[] = " đơn vị chưa gửi báo cáo.";
		char *text = xmlin_is(n, WF_DOC_NS, "p") ? rtext(n) : NULL;
		const char *end = text ? strstr(text, tail) : NULL;
		if (text && end && strncmp(text, lead, sizeof(lead) - 1) == 0) {
			char *now = NULL;
			if (asprintf(&now, "%s%zu/%zu%s", lead, json_array_size(missing),
			        json_array_size(units), end) < 0)
				now = NULL;
			if (now && strcmp(now, text) != 0) {
				xmlNodeSetContent(n, NULL);
				xmlNodeAddContent(n, (const xmlChar *)now);
				*changed = 1;
			}
			free(now);
		}
		free(text);
	}
out:
	json_decref(missing);
	diag_free(&errs);
	return doc;
}

/* Writes the refreshed reminder as a new revision, the daemon's, with why in its history. */
static int rewrite_reminder(struct store *st, const struct catalog *cat, const struct config *cfg,
    const struct wf_kind *k, const struct store_doc *doc, json_t *desc, char *msg, size_t msglen)
{
	struct wf_actor owner = { .uid = doc->drafter_uid, .login = doc->drafter,
		.roles = ROLE_DRAFTER };
	struct wf_input *in = NULL;
	struct diag_list errs;
	xmlDocPtr fresh = NULL;
	char *xml = NULL, *out = NULL, err[256], dropped[2048], note[2400];
	size_t len = 0, outlen = 0;
	int changed = 0, rc = WF_INTERNAL;
	int64_t revision;

	diag_init(&errs);
	if (store_doc_content(st, doc->id, &xml, &len, err, sizeof(err)) != STORE_OK) {
		snprintf(msg, msglen, "không đọc được công văn đôn đốc: %s", err);
		goto out;
	}
	fresh = refresh_reminder(xml, len, desc, &changed, dropped, sizeof(dropped));
	if (fresh == NULL) {
		snprintf(msg, msglen, "công văn đôn đốc số %lld không đọc được", (long long)doc->id);
		goto out;
	}
	if (!changed) {
		rc = WF_OK;
		goto out;
	}
	out = dump_doc(fresh, &outlen);
	if (out == NULL ||
	    workflow_input_read(k, cfg, cat->units, out, outlen, &owner, &in, &errs) != 0) {
		/* the drafter's own edits left nothing the schema accepts: say so, change nothing */
		snprintf(msg, msglen, "không cập nhật được Kính gửi của công văn đôn đốc số %lld theo đợt "
		    "báo cáo: %s; hãy sửa dự thảo", (long long)doc->id,
		    errs.count ? errs.items[0].message : "hết bộ nhớ");
		rc = WF_INVALID;
		goto out;
	}
	struct store_doc_new d = *workflow_input_doc(in);
	d.state = doc->state;
	d.login = "vanthud";
	d.uid = doc->drafter_uid;
	if (dropped[0])
		snprintf(note, sizeof(note), "Kính gửi cập nhật theo đợt báo cáo: bỏ %s (đã gửi báo "
		    "cáo); còn %lld/%zu đơn vị chưa gửi", dropped,
		    (long long)json_integer_value(json_object_get(desc, "missing")),
		    json_array_size(json_object_get(desc, "units")));
	else
		snprintf(note, sizeof(note), "số đơn vị chưa gửi báo cáo cập nhật theo đợt báo cáo: còn "
		    "%lld/%zu", (long long)json_integer_value(json_object_get(desc, "missing")),
		    json_array_size(json_object_get(desc, "units")));
	d.note = note;
	int s = store_doc_edit(st, doc->id, &d, &revision, err, sizeof(err));
	if (s == STORE_INVALID) {
		snprintf(msg, msglen, "văn bản số %lld vừa đổi trạng thái; hãy xem lại",
		    (long long)doc->id);
		rc = WF_STATE;
	} else if (s != STORE_OK) {
		snprintf(msg, msglen, "không lưu được bản cập nhật của công văn đôn đốc: %s", err);
	} else {
		log_info("reminder %lld follows round %s: revision %lld (%s)", (long long)doc->id,
		    json_string_value(json_object_get(desc, "id")), (long long)revision, note);
		rc = WF_OK;
	}
out:
	workflow_input_free(in);
	diag_free(&errs);
	xmlFreeDoc(fresh);
	free(xml);
	free(out);
	return rc;
}

int rounds_follow_reminder(struct store *st, const struct catalog *cat, const struct config *cfg,
    int64_t doc_id, const char *action, const char *comment, const struct wf_actor *a, char *msg,
    size_t msglen)
{
	const struct wf_transition *t;
	const struct wf_kind *k;
	struct store_doc doc;
	char round_id[128], err[256], why[256], scratch[512];
	const char *reason;
	json_t *desc = NULL;
	int rc = WF_OK, s;

	s = store_round_of_reminder(st, doc_id, round_id, sizeof(round_id), err, sizeof(err));
	if (s == STORE_INVALID)
		return WF_OK;
	if (s != STORE_OK) {
		snprintf(msg, msglen, "không đọc được đợt báo cáo của văn bản: %s", err);
		return WF_INTERNAL;
	}
	if (store_doc_get(st, doc_id, &doc, err, sizeof(err)) != STORE_OK) {
		snprintf(msg, msglen, "không đọc được văn bản số %lld: %s", (long long)doc_id, err);
		return WF_INTERNAL;
	}
	k = workflows_find(cat->wf, doc.kind);
	/* only a step its actor may take, and one that takes it towards issue */
	if (k == NULL || workflow_check(k, &doc, a, action, comment, &t, scratch,
	        sizeof(scratch)) != WF_OK || t->to_state->initial ||
	    (t->to_state->final && !t->to_state->numbers))
		goto out;
	desc = rounds_describe(st, cat, round_id, err, sizeof(err));
	if (desc == NULL) {
		snprintf(msg, msglen, "không đọc được đợt báo cáo %s: %s", round_id, err);
		rc = WF_INTERNAL;
		goto out;
	}
	reason = reminder_void_reason(desc, why, sizeof(why));
	if (reason != NULL) {
		if (withdraw_reminder(st, cat, doc_id, reason) != 0) {
			snprintf(msg, msglen, "không thu hồi được công văn đôn đốc số %lld (xem nhật ký của "
			    "vanthud)", (long long)doc_id);
			rc = WF_INTERNAL;
		} else {
			snprintf(msg, msglen, "văn bản số %lld là công văn đôn đốc của đợt báo cáo %s và đã "
			    "được tự động thu hồi: %s", (long long)doc_id, round_id, reason);
			rc = WF_STATE;
		}
		goto out;
	}
	if (wf_state_find(k, doc.state)->initial || t->to_state->numbers)
		rc = rewrite_reminder(st, cat, cfg, k, &doc, desc, msg, msglen);
out:
	json_decref(desc);
	store_doc_free(&doc);
	return rc;
}

int rounds_meeting_prepare(const struct catalog *cat, const struct config *cfg,
    const char *xml, size_t len, struct wf_input **wout, struct diag_list *errs, char *msg,
    size_t msglen)
{
	xmlDocPtr in = NULL, doc = NULL;
	const struct wf_kind *k = workflows_find(cat->wf, "thong-bao");
	struct passwd *pw = getpwnam(cfg->round_drafter);
	struct wf_actor owner = { .uid = pw ? (int64_t)pw->pw_uid : -1, .login = cfg->round_drafter,
		.roles = ROLE_DRAFTER };
	struct wf_input *wi = NULL;
	char buf[8192], d1[32], *out = NULL;
	size_t outlen = 0;
	int rc = WF_INVALID;

	*wout = NULL;
	if (parse_checked(cat, xml, len, "meeting", &in, errs) != 0) {
		snprintf(msg, msglen, "tệp không đúng mẫu kết luận cuộc họp (%zu lỗi)", errs->count);
		return WF_INVALID;
	}
	xmlNodePtr m = xmlDocGetRootElement(in);
	char *date = rtext(rchild(m, "date")), *place = rtext(rchild(m, "place"));
	char *chair = rtext(rchild(m, "chair")), *att = rtext(rchild(m, "attendees"));
	char *summary = rtext(rchild(m, "summary")), *round = rattr(m, "round");
	if (cal_parse(date) < 0)
		diag_add_at(errs, "input", (int)xmlGetLineNo(rchild(m, "date")), 0, "R_DATE",
		    "ngày họp \"%s\" không phải là một ngày có thật", date ? date : "");
	doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNodePtr root = xmlNewNode(NULL, (const xmlChar *)"thong-bao");
	xmlNsPtr ns = xmlNewNs(root, (const xmlChar *)WF_DOC_NS, NULL);
	xmlSetNs(root, ns);
	xmlDocSetRootElement(doc, root);
	set_issuer(m, root);
	if (round)
		add(root, ns, "round", round);
	add(root, ns, "summary", summary ? summary : "");
	xmlNodePtr body = add(root, ns, "body", NULL);
	body_date(date, d1, sizeof(d1));
	/* the reports heard, joined */
	char heard[4096] = "";
	size_t off = 0;
	for (xmlNodePtr c = m->children; c; c = c->next) {
		if (!is_r(c, "heard"))
			continue;
		char *t = rtext(c);
		int n = snprintf(heard + off, sizeof(heard) - off, "%s%s", off ? "; " : "", t ? t : "");
		free(t);
		if (n > 0 && (size_t)n < sizeof(heard) - off)
			off += (size_t)n;
	}
	snprintf(buf, sizeof(buf), "Ngày %s, tại %s, %s đã chủ trì cuộc họp nghe %s. Tham dự cuộc họp "
	    "có %s.", d1, place ? place : "", chair ? chair : "", heard, att ? att : "");
	add(body, ns, "p", buf);
	snprintf(buf, sizeof(buf), "Sau khi nghe báo cáo và ý kiến của các thành viên dự họp, %s kết "
	    "luận như sau:", chair ? chair : "");
	add(body, ns, "p", buf);
	xmlNodePtr recs = xmlNewNode(ns, (const xmlChar *)"recipients");
	int no = 0, nunits = 0;
	for (xmlNodePtr c = m->children; c; c = c->next) {
		if (!is_r(c, "item"))
			continue;
		char *t = rtext(rchild(c, "text")), *dl = rattr(c, "deadline"), names[4096] = "", d2[32];
		size_t o2 = 0;
		for (xmlNodePtr u = c->children; u; u = u->next) {
			if (!is_r(u, "unit"))
				continue;
			char *code = rattr(u, "code");
			const struct unit *reg = code ? units_find(cat->units, code) : NULL;
			if (reg == NULL) {
				diag_add_at(errs, "input", (int)xmlGetLineNo(u), 0, "R_UNIT_UNKNOWN",
				    "mã đơn vị \"%s\" không có trong danh mục đơn vị", code ? code : "");
			} else {
				int n = snprintf(names + o2, sizeof(names) - o2, "%s%s", o2 ? ", " : "",
				    reg->short_name);
				if (n > 0 && (size_t)n < sizeof(names) - o2)
					o2 += (size_t)n;
				int dup = 0;
				for (xmlNodePtr r = recs->children; r; r = r->next) {
					xmlChar *x = xmlGetProp(r, (const xmlChar *)"unit");
					dup |= x && strcmp((const char *)x, code) == 0;
					xmlFree(x);
				}
				if (!dup) {
					xmlNodePtr r = xmlNewTextChild(recs, ns, (const xmlChar *)"recipient",
					    (const xmlChar *)"");
					xmlSetProp(r, (const xmlChar *)"unit", (const xmlChar *)code);
					nunits++;
				}
			}
			free(code);
		}
		if (dl && cal_parse(dl) < 0)
			diag_add_at(errs, "input", (int)xmlGetLineNo(c), 0, "R_DATE",
			    "thời hạn \"%s\" không phải là một ngày có thật", dl);
		body_date(dl, d2, sizeof(d2));
		snprintf(buf, sizeof(buf), "%d. %s Đơn vị thực hiện: %s.%s%s%s", ++no, t ? t : "", names,
		    dl ? " Thời hạn: " : "", dl ? d2 : "", dl ? "." : "");
		add(body, ns, "p", buf);
		free(t);
		free(dl);
	}
	check_issuer(cat, cfg, m, "thong-bao", errs);
	add_signer(m, root, ns, cfg, issuing_body(cfg, m));
	xmlAddChild(root, recs);
	copy_settings(m, root, ns, "archive");
	if (errs->count > 0) {
		snprintf(msg, msglen, "kết luận cuộc họp không hợp lệ (%zu lỗi)", errs->count);
		goto out;
	}
	out = dump_doc(doc, &outlen);
	if (k == NULL || out == NULL ||
	    workflow_input_read(k, cfg, cat->units, out, outlen, &owner, &wi, errs) != 0) {
		snprintf(msg, msglen, "không tạo được dự thảo thông báo (%zu lỗi)", errs->count);
		goto out;
	}
	(void)nunits;
	/* one meeting, one draft: its round and day (without a round, its day and trích yếu) */
	if (workflow_input_set_origin(wi, "meeting", round ? round : "", date, round ? NULL :
	        summary) != 0) {
		snprintf(msg, msglen, "hết bộ nhớ");
		rc = WF_INTERNAL;
		goto out;
	}
	*wout = wi;
	wi = NULL;
	rc = WF_OK;
out:
	workflow_input_free(wi);
	free(out);
	free(date);
	free(place);
	free(chair);
	free(att);
	free(summary);
	free(round);
	xmlFreeDoc(doc);
	xmlFreeDoc(in);
	return rc;
}

int rounds_meeting(struct store *st, const struct catalog *cat, const struct config *cfg,
    const char *xml, size_t len, int64_t *doc_id, struct diag_list *errs, char *msg, size_t msglen)
{
	struct wf_input *wi = NULL;
	char err[256];
	int rc;

	*doc_id = 0;
	rc = rounds_meeting_prepare(cat, cfg, xml, len, &wi, errs, msg, msglen);
	if (rc != WF_OK)
		return rc;
	int s = store_doc_create(st, workflow_input_doc(wi), doc_id, err, sizeof(err));
	if (s == STORE_INVALID) {
		snprintf(msg, msglen, "kết luận của cuộc họp này đã là dự thảo văn bản số %lld; không tạo "
		    "thêm (muốn sửa, hãy sửa văn bản đó: vanthuctl edit %lld)", (long long)*doc_id,
		    (long long)*doc_id);
		rc = WF_STATE;
	} else if (s != STORE_OK) {
		snprintf(msg, msglen, "không lưu được dự thảo: %s", err);
		rc = WF_INTERNAL;
	} else {
		log_info("meeting conclusion drafted as document %lld", (long long)*doc_id);
	}
	workflow_input_free(wi);
	return rc;
}

/* ---- as kinds of intake input ---- */

/* A round or a meeting's conclusions: from the folder of a drafter, clerk or admin only. */
static int intake_sender_may(const struct intake_input *in, struct diag_list *errs)
{
	if (in->sender == NULL) {
		diag_add_at(errs, in->shown, 0, 0, "R_DENIED", "đợt báo cáo và kết luận cuộc họp chỉ "
		    "được nhận từ thư mục riêng của chuyên viên hay văn thư (incoming/@<tên đăng "
		    "nhập>/) hoặc qua vanthuctl; ở thư mục này không biết ai là người gửi");
		return 0;
	}
	if (!(in->sender->roles & (ROLE_DRAFTER | ROLE_CLERK | ROLE_ADMIN))) {
		diag_add_at(errs, in->shown, 0, 0, "R_DENIED", "người gửi tệp (%s) không phải chuyên "
		    "viên hay văn thư; không được mở đợt báo cáo hay gửi kết luận cuộc họp",
		    in->sender->login);
		return 0;
	}
	return 1;
}

struct intake_round {
	struct rounds_input *round;   /* owned, or NULL */
	struct wf_input *meeting;     /* owned, or NULL */
};

static void intake_release(void *parsed)
{
	struct intake_round *r = parsed;

	if (r == NULL)
		return;
	rounds_input_free(r->round);
	workflow_input_free(r->meeting);
	free(r);
}

static int intake_check_round(const struct intake_env *env, const struct intake_input *in,
    xmlDocPtr doc, struct intake_outcome *out, struct diag_list *errs)
{
	struct intake_round *r;
	struct wf_actor a;
	char msg[512];

	(void)doc;
	if (!intake_sender_may(in, errs))
		return -1;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	a.uid = (int64_t)in->sender->uid;
	a.login = in->sender->login;
	a.roles = in->sender->roles;
	int rc = rounds_prepare(env->cat, env->cfg, in->data, in->len, &a, 0, &r->round, errs, msg,
	    sizeof(msg));
	if (rc != WF_OK) {
		if (rc == WF_STATE)
			diag_add_at(errs, in->shown, 0, 0, "R_PAST", "nếu đúng ý (ghi lại một đợt đã diễn "
			    "ra), thêm allow-past=\"true\" vào <round> rồi gửi lại tệp; muốn mở một đợt mới "
			    "từ tệp này với các ngày tính từ hôm nay: vanthuctl round new TỆP --today");
		else if (errs->count == 0)
			diag_add_at(errs, in->shown, 0, 0, "R_SCHEMA", "%s", msg);
		intake_release(r);
		return -1;
	}
	out->parsed = r;
	out->round_opened = 1;
	out->round_id = strdup(rounds_input_round(r->round)->id);
	return 0;
}

static int intake_check_meeting(const struct intake_env *env, const struct intake_input *in,
    xmlDocPtr doc, struct intake_outcome *out, struct diag_list *errs)
{
	struct intake_round *r;
	char msg[512];

	(void)doc;
	if (!intake_sender_may(in, errs))
		return -1;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	if (rounds_meeting_prepare(env->cat, env->cfg, in->data, in->len, &r->meeting, errs, msg,
	        sizeof(msg)) != WF_OK) {
		if (errs->count == 0)
			diag_add_at(errs, in->shown, 0, 0, "R_SCHEMA", "%s", msg);
		intake_release(r);
		return -1;
	}
	out->parsed = r;
	out->doc_kind = "Thông báo";
	return 0;
}

static void intake_record(const struct intake_outcome *out, struct store_input *si)
{
	const struct intake_round *r = out->parsed;

	if (r->round != NULL)
		si->round = rounds_input_round(r->round);
	if (r->meeting != NULL)
		si->doc = workflow_input_doc(r->meeting);
}

const struct intake_kind rounds_intake_kind = {
	.ns = "urn:vanthu:round:1", .root = NULL, .what = "round",
	.check = intake_check_round, .record = intake_record, .release = intake_release,
};

const struct intake_kind meeting_intake_kind = {
	.ns = "urn:vanthu:round:1", .root = "meeting", .what = "meeting",
	.check = intake_check_meeting, .record = intake_record, .release = intake_release,
};
