/*
 * exchange.c: documents to and from other offices (liên thông). Owns the
 * office's side of the exchange: it turns an issued document into one edXML
 * package and its deliveries (store_exchange.c), sends the outbox (packages
 * and statuses) through the transport — NATS JetStream (natsx.c) or a
 * gateway's folders (spool/exchange/out and in) — retrying with back-off,
 * and takes every received message: a status goes to its delivery, a package
 * is checked (well-formed, addressed to us, its PDF signed and trusted) and
 * registered in the sổ văn bản đến with 01 and 03 back, or refused with 02
 * and its reason. A message is acknowledged only after the store committed
 * it, so a kill at any point loses nothing; the store's keys (msg_id, the
 * sender and DocumentId) make every retry harmless.
 */
#include "exchange.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "clock.h"
#include "cms.h"
#include "edxml.h"
#include "fsutil.h"
#include "hash.h"
#include "log.h"
#include "natsx.h"
#include "pdfverify.h"
#include "publish.h"
#include "vnfmt.h"
#include "workflow.h"
#include "xmlin.h"
#include "xreport.h"

#define PUMP_IDLE_MS 1000     /* the outbox is looked at this often, and at once when kicked */
#define PUMP_BATCH 128        /* messages taken from the outbox per look */
#define FOLDER_SCAN_MS 1000   /* exchange/in is scanned this often */
#define NAK_DELAY_MS 2000     /* a message we could not commit comes again after this */
#define MAX_INFLIGHT 1024     /* publishes waiting for the stream's acknowledgement */
#define DOC_NS "urn:vanthu:document:1"

struct exchange {
	uv_loop_t *loop;             /* borrowed */
	const struct config *cfg;    /* borrowed: [exchange] is read at start only */
	struct store *st;            /* borrowed */
	struct catalog *cat;         /* a reference; NULL until set */
	struct cms_trust *trust;     /* owned: anchors for received PDFs */
	struct natsx *nx;            /* owned: NULL for the folder transport */
	int folder;                  /* transport = folder */
	uv_timer_t pump;
	uv_timer_t scan;
	uv_timer_t settle;           /* settles the checked messages, and marks sends, in one batch */
	struct recv_job *ready;      /* owned list: checked, waiting for the batch (oldest first) */
	struct recv_job **ready_tail;
	int64_t *sent_ids;           /* owned: outbox messages taken by the transport, to mark */
	size_t nsent_ids;
	unsigned looks;              /* pump wakes, for the sweep of unplanned documents */
	int more;                    /* the last look found a full batch: look again when it is out */
	unsigned jobs;               /* received messages being checked on the worker pool */
	unsigned scans;              /* looks at exchange/in: what is left alone is said when it
	                              * comes, then once a minute */
	struct timespec prev_scan;   /* when the look before this one began (file clock) */
	int handles;                 /* open uv handles */
	int64_t *inflight;           /* owned: outbox ids published, waiting for their ack */
	size_t ninflight;
	int stopping;
	void (*done)(void *);
	void *done_arg;
	char dir_out[PATH_MAX], dir_in[PATH_MAX], dir_sent[PATH_MAX], dir_recv[PATH_MAX];
	uint64_t sent, received, refused;
	char last_error[256];        /* the last failure, for status; "" when none */
	char last_error_at[40];      /* when it happened (UTC) */
};

/* A publish waiting for its ack; owned by itself until on_published. */
struct pub {
	struct exchange *x;   /* borrowed */
	int64_t id;
	int attempts;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Remembers a failure for status, with its time. */
static void set_last_error(struct exchange *x, const char *why)
{
	snprintf(x->last_error, sizeof(x->last_error), "%s", why);
	clock_iso_utc(x->last_error_at, sizeof(x->last_error_at));
}

/* ---- small helpers ---- */

/* ISO 8601 UTC of now + secs, second precision with ".000Z" (the store's text order). */
static void utc_after(long secs, char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	time_t t;

	clock_now(&ts);
	t = ts.tv_sec + secs;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

static const struct config_body *body_by_id(const struct config *cfg, const char *id)
{
	for (size_t i = 0; id && i < cfg->nbodies; i++)
		if (cfg->bodies[i].id && strcmp(cfg->bodies[i].id, id) == 0)
			return &cfg->bodies[i];
	return NULL;
}

/* A row handed over as a JSON object (columns by name); the callee's arg is a json_t **. */
static int row_json(const struct store_col *cols, int ncols, void *arg)
{
	json_t **out = arg;
	json_t *o = json_object();

	if (o == NULL)
		return -1;
	for (int i = 0; i < ncols; i++) {
		json_t *v = cols[i].type == 1 ? json_integer(cols[i].i) :
		    cols[i].type == 2 ? json_string(cols[i].s) : json_null();
		json_object_set_new(o, cols[i].name, v ? v : json_null());
	}
	json_decref(*out);
	*out = o;
	return 0;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s;
}

/* The edXML priority of a công văn's urgency mark (Khẩn, Thượng khẩn, Hỏa tốc). */
static int priority_of(const char *mark)
{
	char *u = NULL;
	int p = 0;

	if (mark == NULL || mark[0] == '\0' || vnfmt_upper(mark, &u) != VNFMT_OK || u == NULL)
		return 0;
	if (strstr(u, "HẸN GIỜ"))
		p = 4;
	else if (strstr(u, "HỎA TỐC") || strstr(u, "HOẢ TỐC"))
		p = 3;
	else if (strstr(u, "THƯỢNG KHẨN"))
		p = 2;
	else if (strstr(u, "KHẨN"))
		p = 1;
	free(u);
	return p;
}

/* ---- statuses (built for the outbox) ---- */

/* A status to send: the payload and msg_id are owned by it. */
struct status_msg {
	struct store_xout_new m;
	char *payload;       /* owned */
	char msg_id[256];
	char to[64];         /* m.recipient points here: the caller's string may go first */
};

static void status_msg_free(struct status_msg *s)
{
	free(s->payload);
	s->payload = NULL;
}

/*
 * Builds status `code` from our body (id) about a document of sender `to` (its code "12/TB-X",
 * its date YYYY-MM-DD and its DocumentId), for the outbox. 0 or -1.
 */
static int build_status(const struct config *cfg, const char *our_id, const char *to,
    const char *code, const char *date, const char *doc_key, int status, const char *desc,
    const char *staff, int64_t incoming_id, int64_t document_id, struct status_msg *out,
    char *err, size_t errlen)
{
	const struct config_body *b = body_by_id(cfg, our_id);
	struct edxml_status s;
	char ts[32];
	size_t len;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	clock_vn_stamp(ts, sizeof(ts));
	s.from.id = (char *)our_id;
	s.from.name = b ? b->name : (char *)our_id;
	s.response_for.organ_id = (char *)to;
	s.response_for.code = (char *)code;
	s.response_for.date = (char *)date;
	s.response_for.document_id = (char *)doc_key;
	s.department = b ? b->name : NULL;
	s.staff = (char *)staff;
	s.code = status;
	s.description = (char *)(desc ? desc : "");
	s.timestamp = ts;
	if (edxml_build_status(&s, &out->payload, &len, err, errlen) != 0)
		return -1;
	snprintf(out->msg_id, sizeof(out->msg_id), "%s|%s|status|%02d", doc_key, our_id, status);
	out->m.msg_id = out->msg_id;
	out->m.kind = "status";
	if (snprintf(out->to, sizeof(out->to), "%s", to) >= (int)sizeof(out->to)) {
		seterr(err, errlen, "recipient id too long");
		status_msg_free(out);
		return -1;
	}
	out->m.recipient = out->to;
	out->m.incoming_id = incoming_id;
	out->m.document_id = document_id;
	out->m.code = status;
	out->m.payload = out->payload;
	return 0;
}

/*
 * The status about incoming entry id to its sender, or nothing (*has 0) when it came on paper
 * or there is no exchange. 0 or -1.
 */
static int incoming_status(struct exchange *x, struct store *st, const struct config *cfg,
    int64_t id, int code, const char *desc, const char *login, struct status_msg *out,
    int *has, char *err, size_t errlen)
{
	json_t *row = NULL;
	int rc;

	*has = 0;
	memset(out, 0, sizeof(*out));
	if ((rc = store_incoming_row(st, id, row_json, &row, err, errlen)) != STORE_OK)
		return rc;
	const char *sender = jstr(row, "sender_id"), *key = jstr(row, "doc_key");
	const char *ours = jstr(row, "recipient");
	if (x == NULL || sender == NULL || key == NULL || ours == NULL) {
		json_decref(row);
		return 0;
	}
	const struct config_user *u = config_find_user(cfg, login);
	rc = build_status(cfg, ours, sender, jstr(row, "code"), jstr(row, "issued_on"), key, code,
	    desc, u && u->full_name ? u->full_name : login, id, 0, out, err, errlen);
	json_decref(row);
	if (rc == 0)
		*has = 1;
	return rc;
}

/* ---- going out: an issued document's package and deliveries ---- */

struct recipient {
	char *code;   /* owned: the unit's code; NULL for a free-text recipient */
	char *name;   /* owned */
	const char *id; /* borrowed from the units registry; NULL: paper */
};

/* The document's recipients: Kính gửi first, then Nơi nhận, each unit once. */
static int read_recipients(const struct units *units, const char *xml, size_t len,
    struct recipient **out, size_t *n, char **urgency, char **competence, char **position,
    char **signer)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)len, NULL, "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	struct recipient *r = NULL;
	size_t cnt = 0, cap = 0;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (doc == NULL || xmlDocGetRootElement(doc) == NULL)
		goto out;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	for (int pass = 0; pass < 2; pass++) {
		for (xmlNodePtr c = root->children; c; c = c->next) {
			xmlNodePtr list = NULL;
			if (pass == 0 && xmlin_is(c, DOC_NS, "to"))
				list = c;
			else if (pass == 1 && xmlin_is(c, DOC_NS, "recipients"))
				list = c->children;
			for (xmlNodePtr e = list; e; e = pass == 0 ? NULL : e->next) {
				if (pass == 1 && !xmlin_is(e, DOC_NS, "recipient"))
					continue;
				char *code = xmlin_attr(e, "unit");
				const struct unit *u = code && units ? units_find(units, code) : NULL;
				int dup = 0;
				for (size_t i = 0; code && i < cnt; i++)
					dup |= r[i].code && strcmp(r[i].code, code) == 0;
				if (dup) {
					free(code);
					continue;
				}
				char *name = u ? strdup(u->name) : (char *)xmlNodeGetContent(e);
				if (name == NULL || strspn(name, " \t\r\n") == strlen(name)) {
					free(code);
					free(name);
					continue;
				}
				if (cnt == cap) {
					cap = cap ? cap * 2 : 8;
					struct recipient *nr = realloc(r, cap * sizeof(*r));
					if (nr == NULL) {
						free(code);
						free(name);
						goto out;
					}
					r = nr;
				}
				r[cnt].code = code;
				r[cnt].name = name;
				r[cnt].id = u ? u->id : NULL;
				cnt++;
			}
		}
	}
	for (xmlNodePtr c = root->children; c; c = c->next) {
		if (xmlin_is(c, DOC_NS, "urgency") && *urgency == NULL)
			*urgency = (char *)xmlNodeGetContent(c);
		if (!xmlin_is(c, DOC_NS, "signer"))
			continue;
		char *lines[4] = { NULL, NULL, NULL, NULL };
		int nl = 0;
		for (xmlNodePtr e = c->children; e; e = e->next) {
			if (xmlin_is(e, DOC_NS, "line") && nl < 4)
				lines[nl++] = (char *)xmlNodeGetContent(e);
			else if (xmlin_is(e, DOC_NS, "name") && *signer == NULL)
				*signer = (char *)xmlNodeGetContent(e);
		}
		/* "KT. CHỦ TỊCH" / "PHÓ CHỦ TỊCH": the competence is the first line's prefix */
		if (nl > 0) {
			const char *sp = strchr(lines[0], ' ');
			if (sp && sp[-1] == '.' && (size_t)(sp - lines[0]) <= 5)
				*competence = strndup(lines[0], (size_t)(sp - lines[0]));
			*position = strdup(lines[nl - 1]);
		}
		for (int i = 0; i < nl; i++)
			free(lines[i]);
	}
	rc = 0;
out:
	if (doc)
		xmlFreeDoc(doc);
	if (rc != 0) {
		for (size_t i = 0; i < cnt; i++) {
			free(r[i].code);
			free(r[i].name);
		}
		free(r);
		cnt = 0;
		r = NULL;
	}
	*out = r;
	*n = cnt;
	return rc;
}

/* The incoming documents `id` answers, as ResponseFor entries and for closing them. */
struct answered {
	struct edxml_ref ref[EDXML_MAX_REFS];
	int64_t ids[EDXML_MAX_REFS];
	size_t n;
};

static int answered_row(const struct store_col *cols, int ncols, void *arg)
{
	struct answered *a = arg;
	struct edxml_ref *r;

	if (a->n >= EDXML_MAX_REFS)
		return 0;
	r = &a->ref[a->n];
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < ncols; i++) {
		const char *s = cols[i].type == 2 ? cols[i].s : NULL;
		if (strcmp(cols[i].name, "id") == 0)
			a->ids[a->n] = cols[i].i;
		else if (strcmp(cols[i].name, "sender_id") == 0 && s)
			r->organ_id = strdup(s);
		else if (strcmp(cols[i].name, "doc_key") == 0 && s)
			r->document_id = strdup(s);
		else if (strcmp(cols[i].name, "code") == 0 && s)
			r->code = strdup(s);
		else if (strcmp(cols[i].name, "issued_on") == 0 && s)
			r->date = strdup(s);
	}
	a->n++;
	return 0;
}

static void answered_free(struct answered *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->ref[i].organ_id);
		free(a->ref[i].document_id);
		free(a->ref[i].code);
		free(a->ref[i].date);
	}
	a->n = 0;
}

/* Builds and records the deliveries of issued document d (STORE_DONE when they exist). */
static int plan_document(struct exchange *x, const struct store_doc *d, const struct answered *ans,
    char *err, size_t errlen)
{
	const struct config *cfg = x->cfg;
	const struct units *units = x->cat ? x->cat->units : NULL;
	const struct wf_kind *k = x->cat ? workflows_find(x->cat->wf, d->kind) : NULL;
	const struct config_body *b = config_find_body(cfg, d->issuer);
	struct recipient *r = NULL;
	size_t nr = 0, nid = 0;
	char *xml = NULL, *urgency = NULL, *competence = NULL, *position = NULL, *signer = NULL;
	size_t xlen = 0;
	unsigned char *pdf = NULL;
	size_t pdflen = 0;
	char *pkg = NULL;
	size_t pkglen = 0;
	struct store_delivery_new *dn = NULL;
	struct edxml_doc e;
	struct edxml_attachment att;
	char key[256], stem[128], path[PATH_MAX], dir[PATH_MAX], sha[HASH_HEX_LEN + 1];
	int rc = -1;

	memset(&e, 0, sizeof(e));
	memset(&att, 0, sizeof(att));
	if (x->cat == NULL) {
		seterr(err, errlen, "no catalog yet");
		return -1;
	}
	if (d->out_path == NULL || (d->signed_pdf_path != NULL && d->pdf_path == NULL)) {
		seterr(err, errlen, "document %" PRId64 " waits for its files (DOCX, electronic original)",
		    d->id);
		return -1;
	}
	if (store_doc_content(x->st, d->id, &xml, &xlen, err, errlen) != STORE_OK)
		goto out;
	if (read_recipients(units, xml, xlen, &r, &nr, &urgency, &competence, &position,
	        &signer) != 0) {
		seterr(err, errlen, "document %" PRId64 ": its recipients could not be read", d->id);
		goto out;
	}
	if ((dn = calloc(nr ? nr : 1, sizeof(*dn))) == NULL) {
		seterr(err, errlen, "out of memory");
		goto out;
	}
	/* by exchange only with an electronic original, from a body with an id */
	int electronic = d->pdf_path != NULL && b != NULL && b->id != NULL;
	for (size_t i = 0; i < nr; i++) {
		dn[i].name = r[i].name;
		dn[i].recipient_id = electronic && r[i].id && edxml_check_organ_id(r[i].id) >= 0 &&
		    !body_by_id(cfg, r[i].id) ? r[i].id : NULL;
		nid += dn[i].recipient_id != NULL;
	}
	if (b == NULL || b->id == NULL || d->symbol == NULL || d->issued_on == NULL) {
		/* nothing goes by exchange; the rows still say who gets paper */
		snprintf(key, sizeof(key), "document:%" PRId64, d->id);
		rc = store_delivery_plan(x->st, d->id, key, NULL, dn, nr, err, errlen);
		goto out;
	}
	if (edxml_document_id(b->id, d->issued_on, d->symbol, key, sizeof(key)) != 0) {
		seterr(err, errlen, "document %" PRId64 ": its DocumentId is too long", d->id);
		goto out;
	}
	path[0] = '\0';
	if (nid > 0) {
		if (fsutil_read_file(d->pdf_path, EDXML_MAX_PACKAGE / 2, &pdf, &pdflen) != 0) {
			seterr(err, errlen, "%s: %s", d->pdf_path, strerror(errno));
			goto out;
		}
		if (hash_sha256_hex(pdf, pdflen, sha) != 0 ||
		    (d->pdf_sha256 && strcmp(sha, d->pdf_sha256) != 0)) {
			seterr(err, errlen, "%s: its SHA-256 is not the one recorded at issue", d->pdf_path);
			goto out;
		}
		/* the package */
		const char *slash = strchr(d->symbol, '/');
		char number[16] = "", notation[64] = "";
		if (slash == NULL || (size_t)(slash - d->symbol) >= sizeof(number)) {
			seterr(err, errlen, "document %" PRId64 ": symbol %s has no number", d->id,
			    d->symbol);
			goto out;
		}
		memcpy(number, d->symbol, (size_t)(slash - d->symbol));
		snprintf(notation, sizeof(notation), "%s", slash + 1);
		e.from.id = b->id;
		e.from.name = b->name;
		e.from.in_charge = b->parent && b->parent[0] ? b->parent : NULL;
		if ((e.to = calloc(nid, sizeof(*e.to))) == NULL)
			goto oom;
		char **places = calloc(nr ? nr : 1, sizeof(char *));
		if (places == NULL)
			goto oom;
		e.to_places = places;
		for (size_t i = 0; i < nr; i++) {
			if (dn[i].recipient_id) {
				e.to[e.nto].id = (char *)dn[i].recipient_id;
				e.to[e.nto].name = r[i].name;
				e.nto++;
			} else {
				places[e.nto_places++] = r[i].name;
			}
		}
		e.code_number = number;
		e.code_notation = notation;
		e.place = b->place;
		e.date = d->issued_on;
		e.type = 1;
		e.type_name = k && k->label ? k->label : d->kind;
		e.subject = d->summary;
		e.competence = competence;
		e.position = position;
		e.full_name = signer ? signer : d->signer_name;
		e.priority = priority_of(urgency);
		e.steering = 1;
		e.document_id = key;
		e.business = EDXML_NEW;
		e.response_for = ans && ans->n ? (struct edxml_ref *)ans->ref : NULL;
		e.nresponse_for = ans ? ans->n : 0;
		char tsnow[32];
		clock_vn_stamp(tsnow, sizeof(tsnow));
		struct edxml_trace tr = { .organ_id = b->id, .timestamp = tsnow };
		e.traces = &tr;
		e.ntraces = 1;
		char attname[160];
		publish_file_stem(d->symbol, stem, sizeof(stem));
		snprintf(attname, sizeof(attname), "%s.pdf", stem);
		att.name = attname;
		att.content_type = "application/pdf";
		att.description = "Văn bản điện tử (bản gốc, đã ký số)";
		att.data = pdf;
		att.len = pdflen;
		memcpy(att.sha256, sha, sizeof(att.sha256));
		/* a unit's report for a round travels beside its document */
		char *rname = NULL;
		unsigned char *rdata = NULL;
		size_t rlen = 0;
		int rrc = store_doc_report(x->st, d->id, &rname, &rdata, &rlen, err, errlen);
		if (rrc != STORE_OK && rrc != STORE_INVALID)
			goto out;
		struct edxml_attachment atts[2];
		atts[0] = att;
		e.att = atts;
		e.natt = 1;
		if (rrc == STORE_OK) {
			memset(&atts[1], 0, sizeof(atts[1]));
			atts[1].name = rname;
			atts[1].content_type = "application/xml";
			atts[1].description = "Báo cáo (tệp XML của đợt báo cáo)";
			atts[1].data = rdata;
			atts[1].len = rlen;
			if (hash_sha256_hex(rdata, rlen, atts[1].sha256) != 0)
				atts[1].sha256[0] = '\0';
			e.natt = 2;
		}
		int brc = edxml_build_doc(&e, &pkg, &pkglen, err, errlen);
		e.traces = NULL;
		e.att = NULL;
		free(rname);
		free(rdata);
		if (brc != 0)
			goto out;
		char year[5];
		snprintf(year, sizeof(year), "%.4s", d->issued_on);
		if (snprintf(dir, sizeof(dir), "%s/%s", x->dir_sent, year) >= (int)sizeof(dir) ||
		    snprintf(path, sizeof(path), "%s/%s.edxml", dir, stem) >= (int)sizeof(path)) {
			seterr(err, errlen, "package path too long");
			goto out;
		}
		char failed[PATH_MAX];
		if (fsutil_mkdir_p(dir, 0750, failed, sizeof(failed)) != 0) {
			seterr(err, errlen, "%s: %s", failed, strerror(errno));
			goto out;
		}
		if (fsutil_write_durable(path, pkg, pkglen, err, errlen) != 0)
			goto out;
	}
	rc = store_delivery_plan(x->st, d->id, key, path[0] ? path : NULL, dn, nr, err, errlen);
	if (rc == STORE_OK)
		log_info("exchange: document %" PRId64 " (%s) goes to %zu recipients by exchange, "
		    "%zu on paper", d->id, d->symbol, nid, nr - nid);
	goto out;
oom:
	seterr(err, errlen, "out of memory");
out:
	free(e.to);
	free(e.to_places);
	for (size_t i = 0; i < nr; i++) {
		free(r[i].code);
		free(r[i].name);
	}
	free(r);
	free(dn);
	free(xml);
	free(urgency);
	free(competence);
	free(position);
	free(signer);
	free(pdf);
	free(pkg);
	return rc;
}

static void kick(struct exchange *x);

/* Closes the incoming entries document id answers (06 to each sender). */
static int close_answered(struct exchange *x, struct store *st, const struct config *cfg,
    const struct store_doc *d, const struct answered *a, char *err, size_t errlen)
{
	for (size_t i = 0; i < a->n; i++) {
		char note[160];
		snprintf(note, sizeof(note), "Đã trả lời bằng văn bản số %s", d->symbol ? d->symbol : "");
		int rc = exchange_done(x, st, cfg, a->ids[i], d->id, note, -1, "vanthud", err, errlen);
		if (rc != STORE_OK && rc != STORE_DONE && rc != STORE_INVALID)
			return -1;
	}
	return 0;
}

int exchange_issued(struct exchange *x, struct store *st, const struct config *cfg, int64_t id,
    char *err, size_t errlen)
{
	struct store_doc d;
	struct answered a = { .n = 0 };
	int rc = -1;

	memset(&d, 0, sizeof(d));
	if (store_doc_get(st, id, &d, err, errlen) != STORE_OK)
		return -1;
	if (strcmp(d.state, "issued") != 0) {
		rc = 0;
		goto out;
	}
	if (store_incoming_answered_by(st, id, answered_row, &a, err, errlen) != STORE_OK)
		goto out;
	if (x != NULL) {
		rc = plan_document(x, &d, &a, err, errlen);
		if (rc != STORE_OK && rc != STORE_DONE)
			goto out;
	}
	rc = close_answered(x, st, cfg, &d, &a, err, errlen);
	if (x != NULL)
		kick(x);
out:
	answered_free(&a);
	store_doc_free(&d);
	return rc == STORE_DONE ? 0 : rc;
}

/* Issued documents a crash left without deliveries. */
static int unplanned_row(const struct store_col *cols, int ncols, void *arg)
{
	int64_t *ids = arg;

	for (int i = 0; i < ncols; i++)
		if (strcmp(cols[i].name, "id") == 0 && ids[0] < 64)
			ids[1 + ids[0]++] = cols[i].i;
	return 0;
}

static void sweep_unplanned(struct exchange *x)
{
	int64_t ids[65] = { 0 };
	char err[512];

	if (x->cat == NULL)
		return;
	if (store_delivery_unplanned(x->st, 64, unplanned_row, ids, err, sizeof(err)) != STORE_OK) {
		log_warn("exchange: %s", err);
		return;
	}
	for (int64_t i = 0; i < ids[0]; i++)
		if (exchange_issued(x, x->st, x->cfg, ids[1 + i], err, sizeof(err)) != 0)
			log_warn("exchange: document %" PRId64 ": %s", ids[1 + i], err);
}

/* ---- the outbox pump ---- */

static int inflight_has(struct exchange *x, int64_t id)
{
	for (size_t i = 0; i < x->ninflight; i++)
		if (x->inflight[i] == id)
			return 1;
	return 0;
}

static void inflight_drop(struct exchange *x, int64_t id)
{
	for (size_t i = 0; i < x->ninflight; i++)
		if (x->inflight[i] == id) {
			x->inflight[i] = x->inflight[--x->ninflight];
			return;
		}
}

static long backoff(const struct exchange *x, int attempts)
{
	long s = 1;

	for (int i = 0; i < attempts && s < (long)x->cfg->xch_retry_max; i++)
		s *= 2;
	return s > (long)x->cfg->xch_retry_max ? (long)x->cfg->xch_retry_max : s;
}

static void mark_failed(struct exchange *x, int64_t id, int attempts, const char *why)
{
	char next[40], err[512];

	utc_after(backoff(x, attempts), next, sizeof(next));
	set_last_error(x, why);
	if (store_xout_failed(x->st, id, why, next, err, sizeof(err)) != STORE_OK)
		log_warn("exchange: outbox %" PRId64 ": %s", id, err);
}

static void settle_soon(struct exchange *x);

static void mark_sent(struct exchange *x, int64_t id)
{
	char at[40], err[512];

	/* with the batch of arrivals, when there is room: one flush for many */
	if (!x->stopping && x->nsent_ids < MAX_INFLIGHT) {
		x->sent_ids[x->nsent_ids++] = id;
		settle_soon(x);
		return;
	}
	clock_iso_utc(at, sizeof(at));
	if (store_xout_sent(x->st, id, at, err, sizeof(err)) != STORE_OK)
		log_warn("exchange: outbox %" PRId64 ": %s", id, err);
	else
		x->sent++;
}

static void pump_wake(uv_timer_t *t);
static void settle_wake(uv_timer_t *t);

static void on_published(void *arg, int ok, int duplicate, const char *why)
{
	struct pub *p = arg;
	struct exchange *x = p->x;

	inflight_drop(x, p->id);
	if (ok) {
		if (duplicate)
			log_info("exchange: outbox %" PRId64 " was in the stream already", p->id);
		mark_sent(x, p->id);
	} else {
		log_warn("exchange: outbox %" PRId64 ": not sent: %s", p->id, why ? why : "?");
		mark_failed(x, p->id, p->attempts, why ? why : "not sent");
	}
	/* a backlog (a link back after a cut, a thousand issued at once): the next batch while
	 * half of this one is still in flight, so the stream never waits for us */
	if (x->more && x->ninflight <= PUMP_BATCH / 2 && !x->stopping) {
		x->more = 0;
		uv_timer_start(&x->pump, pump_wake, 0, PUMP_IDLE_MS);
	}
	free(p);
}

/* A file name for the gateway's out folder: the recipient, then a hash of the message id. */
static int out_name(const char *recipient, const char *msg_id, char *out, size_t len)
{
	char h[HASH_HEX_LEN + 1];

	if (hash_sha256_hex(msg_id, strlen(msg_id), h) != 0)
		return -1;
	return snprintf(out, len, "%s~%.24s.edxml", recipient, h) >= (int)len ? -1 : 0;
}

struct due {
	int64_t id, attempts;
	char *msg_id, *recipient, *path, *payload;
};

struct due_list {
	struct due *d;   /* owned */
	size_t n, cap;
};

static int due_row(const struct store_col *cols, int ncols, void *arg)
{
	struct due_list *list = arg;
	struct due *d;

	if (list->n >= list->cap)
		return 0;
	d = &list->d[list->n++];
	for (int i = 0; i < ncols; i++) {
		const char *s = cols[i].type == 2 ? cols[i].s : NULL;
		if (strcmp(cols[i].name, "id") == 0)
			d->id = cols[i].i;
		else if (strcmp(cols[i].name, "attempts") == 0)
			d->attempts = cols[i].i;
		else if (strcmp(cols[i].name, "msg_id") == 0 && s)
			d->msg_id = strdup(s);
		else if (strcmp(cols[i].name, "recipient") == 0 && s)
			d->recipient = strdup(s);
		else if (strcmp(cols[i].name, "path") == 0 && s)
			d->path = strdup(s);
		else if (strcmp(cols[i].name, "payload") == 0 && s)
			d->payload = strdup(s);
	}
	if (d->msg_id == NULL)
		d->msg_id = strdup("?");
	return 0;
}

static void send_one(struct exchange *x, struct due *d)
{
	unsigned char *file = NULL;
	const void *data;
	size_t len;
	char err[512];

	if (d->recipient == NULL || (d->path == NULL && d->payload == NULL)) {
		mark_failed(x, d->id, (int)d->attempts, "outbox row without recipient or payload");
		return;
	}
	if (d->path != NULL) {
		if (fsutil_read_file(d->path, EDXML_MAX_PACKAGE, &file, &len) != 0) {
			snprintf(err, sizeof(err), "%s: %s", d->path, strerror(errno));
			mark_failed(x, d->id, (int)d->attempts, err);
			return;
		}
		data = file;
	} else {
		data = d->payload;
		len = strlen(d->payload);
	}
	if (x->folder) {
		/* written under a dot-name (what the gateway leaves alone, as we do in in/), then
		 * renamed whole into its own name */
		char name[128], path[PATH_MAX], tmp[PATH_MAX];
		if (out_name(d->recipient, d->msg_id, name, sizeof(name)) != 0 ||
		    snprintf(path, sizeof(path), "%s/%s", x->dir_out, name) >= (int)sizeof(path) ||
		    snprintf(tmp, sizeof(tmp), "%s/.%s", x->dir_out, name) >= (int)sizeof(tmp)) {
			mark_failed(x, d->id, (int)d->attempts, "out file name too long");
		} else if (fsutil_write_durable(tmp, data, len, err, sizeof(err)) != 0) {
			mark_failed(x, d->id, (int)d->attempts, err);
		} else if (fsutil_rename_durable(tmp, path) != 0) {
			snprintf(err, sizeof(err), "%s: %s", path, strerror(errno));
			unlink(tmp);
			mark_failed(x, d->id, (int)d->attempts, err);
		} else {
			mark_sent(x, d->id);
		}
		free(file);
		return;
	}
	struct pub *p = calloc(1, sizeof(*p));
	if (p == NULL || x->ninflight >= MAX_INFLIGHT) {
		free(p);
		free(file);
		return;  /* next look */
	}
	p->x = x;
	p->id = d->id;
	p->attempts = (int)d->attempts;
	x->inflight[x->ninflight++] = d->id;
	if (natsx_publish(x->nx, d->recipient, d->msg_id, data, len, on_published, p, err,
	        sizeof(err)) != 0) {
		inflight_drop(x, d->id);
		free(p);
		/* not even queued (disconnected): not an attempt, it stays due */
		set_last_error(x, err);
	}
	free(file);
}

static void pump_wake(uv_timer_t *t)
{
	struct exchange *x = t->data;
	char now[40], err[512];

	if (x->stopping)
		return;
	/* a document whose files came late (a token that was away): planned within a minute */
	if (++x->looks % 60 == 0)
		sweep_unplanned(x);
	if (x->nx != NULL && !natsx_is_up(x->nx))
		return;  /* the repeat comes back; the link's up callback kicks */
	/* what the transport took is marked first, so that it is not taken again now */
	if (x->nsent_ids > 0 || x->ready != NULL)
		settle_wake(&x->settle);
	/* the messages in flight come first in the outbox's order: look past them */
	struct due_list list = { .cap = x->ninflight + PUMP_BATCH };
	if ((list.d = calloc(list.cap, sizeof(*list.d))) == NULL)
		return;
	clock_iso_utc(now, sizeof(now));
	if (store_xout_due(x->st, now, (int)list.cap, due_row, &list, err, sizeof(err)) != STORE_OK)
		log_warn("exchange: outbox: %s", err);
	size_t sent = 0;
	for (size_t i = 0; i < list.n; i++) {
		if (sent < PUMP_BATCH && x->ninflight < MAX_INFLIGHT && !inflight_has(x, list.d[i].id)) {
			send_one(x, &list.d[i]);
			sent++;
		}
		free(list.d[i].msg_id);
		free(list.d[i].recipient);
		free(list.d[i].path);
		free(list.d[i].payload);
	}
	free(list.d);
	if (list.n == list.cap) {
		if (x->folder)
			uv_timer_start(&x->pump, pump_wake, 0, PUMP_IDLE_MS);  /* written already */
		else
			x->more = 1;  /* when half of these are acknowledged */
	}
}

static void kick(struct exchange *x)
{
	if (!x->stopping)
		uv_timer_start(&x->pump, pump_wake, 0, PUMP_IDLE_MS);
}

/* ---- coming in ---- */

/* Our body a package is addressed to (the first To that is ours), or NULL. */
static const char *addressed_to(const struct config *cfg, const struct edxml_doc *d)
{
	for (size_t i = 0; i < d->nto; i++)
		if (d->to[i].id && body_by_id(cfg, d->to[i].id))
			return body_by_id(cfg, d->to[i].id)->id;
	return NULL;
}

/*
 * Keeps bytes as <dir_recv>/<year>/<sha256><ext>, durably. sha is their SHA-256 when the caller
 * knows it already (a parser-checked attachment's), else "" and it is filled in here.
 */
static int keep_file(struct exchange *x, int year, const void *buf, size_t len, const char *ext,
    char sha[HASH_HEX_LEN + 1], char *path, size_t pathlen, char *err, size_t errlen)
{
	char dir[PATH_MAX], failed[PATH_MAX];
	struct stat sb;

	if (sha[0] == '\0' && hash_sha256_hex(buf, len, sha) != 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/%04d", x->dir_recv, year);
	if (snprintf(path, pathlen, "%s/%s%s", dir, sha, ext) >= (int)pathlen) {
		seterr(err, errlen, "path too long");
		return -1;
	}
	if (fsutil_mkdir_p(dir, 0750, failed, sizeof(failed)) != 0) {
		seterr(err, errlen, "%s: %s", failed, strerror(errno));
		return -1;
	}
	if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (size_t)sb.st_size == len)
		return 0;  /* the same bytes, kept before a crash */
	return fsutil_write_durable(path, buf, len, err, errlen);
}

/* The Vietnamese reason of a parse failure, for the 02. */
static void fault_reason(const struct edxml_error *e, char *out, size_t len)
{
	switch (e->fault) {
	case EDXML_TOO_BIG:
		snprintf(out, len, "Gói tin quá lớn hoặc quá nhiều phần tử");
		break;
	case EDXML_MISSING:
		snprintf(out, len, "Gói tin thiếu phần tử %s", e->element);
		break;
	case EDXML_TOO_LONG:
		snprintf(out, len, "Phần tử %s dài quá %d ký tự", e->element, e->limit);
		break;
	case EDXML_BAD_VALUE:
		snprintf(out, len, "Giá trị của phần tử %s không hợp lệ", e->element);
		break;
	case EDXML_BAD_ATTACHMENT:
		snprintf(out, len, "Tệp đính kèm không toàn vẹn hoặc không hợp lệ (%s)",
		    e->element[0] ? e->element : "Attachment");
		break;
	default:
		snprintf(out, len, "Gói tin không đúng định dạng edXML");
		break;
	}
}

/*
 * Refuses a package: kept, recorded, and 02 with the reason back to its sender (when we know who
 * and from which of our ids to answer). Returns the store's code.
 */
static int refuse(struct exchange *x, const char *via, const void *buf, size_t len,
    const char *sender, const char *doc_key, const char *code, const char *date,
    const char *ours, const char *reason, char *err, size_t errlen)
{
	struct status_msg s;
	struct store_refused_new r;
	char path[PATH_MAX] = "", at[40];
	int year, month, day, has = 0, rc;

	memset(&s, 0, sizeof(s));
	clock_today_vn(&year, &month, &day);
	clock_iso_utc(at, sizeof(at));
	char sha[HASH_HEX_LEN + 1] = "";
	if (keep_file(x, year, buf, len, ".refused.edxml", sha, path, sizeof(path), err,
	        errlen) != 0)
		return STORE_ERR;
	if (ours == NULL)
		for (size_t i = 0; i < x->cfg->nbodies && ours == NULL; i++)
			ours = x->cfg->bodies[i].id;
	if (sender && sender[0] && doc_key && doc_key[0] && ours &&
	    edxml_check_organ_id(sender) >= 0) {
		if (build_status(x->cfg, ours, sender, code ? code : "", date ? date : "", doc_key, 2,
		        reason, NULL, 0, 0, &s, err, errlen) != 0)
			return STORE_ERR;
		has = 1;
	}
	memset(&r, 0, sizeof(r));
	r.via = via;
	r.sender_id = sender && sender[0] ? sender : NULL;
	r.doc_key = doc_key && doc_key[0] ? doc_key : NULL;
	r.reason = reason;
	r.package_path = path;
	r.received_at = at;
	r.status = has ? &s.m : NULL;
	rc = store_incoming_refuse(x->st, &r, err, errlen);
	status_msg_free(&s);
	if (rc == STORE_OK) {
		x->refused++;
		log_warn("exchange: refused a package from %s (%s): %s", r.sender_id ? r.sender_id : "?",
		    r.doc_key ? r.doc_key : "?", reason);
	}
	return rc == STORE_DONE ? STORE_OK : rc;
}

/* A status received: a delivery's, or a recall of a document we received. */
static int take_status(struct exchange *x, const char *via, const struct edxml_status *s,
    char *err, size_t errlen)
{
	char staff[256] = "";
	int rc;

	if (s->code == 13) {
		/* the sender recalls: agree while nothing was done on it, refuse otherwise */
		struct status_msg agree, no;
		const char *ours = s->response_for.organ_id;
		int agreed = 0;
		memset(&agree, 0, sizeof(agree));
		memset(&no, 0, sizeof(no));
		/* ResponseFor names the document (the sender's); we answer from the body it went to,
		 * or, for one we never registered, from our first id */
		char to_us[64] = "";
		int64_t in_id = 0;
		char ferr[256];
		if (store_incoming_find(x->st, s->from.id, s->response_for.document_id, &in_id, to_us,
		        sizeof(to_us), ferr, sizeof(ferr)) == STORE_OK && to_us[0] &&
		    body_by_id(x->cfg, to_us)) {
			ours = body_by_id(x->cfg, to_us)->id;
		} else {
			for (size_t i = 0; i < x->cfg->nbodies; i++)
				if (x->cfg->bodies[i].id) {
					ours = x->cfg->bodies[i].id;
					break;
				}
		}
		if (build_status(x->cfg, ours, s->from.id, s->response_for.code ?
		        s->response_for.code : "", s->response_for.date ? s->response_for.date : "",
		        s->response_for.document_id, 15, "Đồng ý thu hồi", NULL, 0, 0, &agree, err,
		        errlen) != 0 ||
		    build_status(x->cfg, ours, s->from.id, s->response_for.code ?
		        s->response_for.code : "", s->response_for.date ? s->response_for.date : "",
		        s->response_for.document_id, 16,
		        "Văn bản đã được phân công xử lý, không thu hồi được", NULL, 0, 0, &no, err,
		        errlen) != 0) {
			status_msg_free(&agree);
			status_msg_free(&no);
			return STORE_ERR;
		}
		rc = store_incoming_recall(x->st, s->from.id, s->response_for.document_id, &agree.m,
		    &no.m, &agreed, err, errlen);
		status_msg_free(&agree);
		status_msg_free(&no);
		if (rc == STORE_OK)
			log_info("exchange: %s recalls %s: %s", s->from.id, s->response_for.document_id,
			    agreed ? "agreed" : "refused (already handled)");
		else if (rc == STORE_INVALID || rc == STORE_DONE) {
			log_warn("exchange: a recall from %s of %s: %s", s->from.id,
			    s->response_for.document_id, err);
			rc = STORE_OK;
		}
		if (rc == STORE_OK)
			kick(x);
		return rc;
	}
	if (s->staff || s->department)
		snprintf(staff, sizeof(staff), "%s%s%s%s", s->staff ? s->staff : "",
		    s->department ? " (" : "", s->department ? s->department : "",
		    s->department ? ")" : "");
	struct store_status_in in = {
		.doc_key = s->response_for.document_id, .recipient = s->from.id, .code = s->code,
		.description = s->description ? s->description : "", .at = s->timestamp,
		.staff = staff[0] ? staff : NULL, .via = via,
	};
	rc = store_delivery_status(x->st, &in, err, errlen);
	if (rc == STORE_DONE)
		return STORE_OK;
	if (rc == STORE_INVALID) {
		log_warn("exchange: a status %02d from %s about %s: %s", s->code, s->from.id,
		    s->response_for.document_id, err);
		return STORE_OK;  /* nothing to keep it for: acknowledged */
	}
	if (rc == STORE_OK)
		log_info("exchange: %s says %02d (%s) of %s", s->from.id, s->code,
		    edxml_status_name(s->code) ? edxml_status_name(s->code) : "mã không rõ",
		    s->response_for.document_id);
	return rc;
}

/* The PDF attachment of a package, or NULL. */
static const struct edxml_attachment *pdf_of(const struct edxml_doc *d)
{
	for (size_t i = 0; i < d->natt; i++) {
		const char *ct = d->att[i].content_type, *n = d->att[i].name;
		size_t nl = n ? strlen(n) : 0;
		if ((ct && strcmp(ct, "application/pdf") == 0) ||
		    (nl > 4 && strcasecmp(n + nl - 4, ".pdf") == 0))
			return &d->att[i];
	}
	return NULL;
}

/* A report XML attached beside the PDF (a unit answering a round), or NULL. */
static const struct edxml_attachment *report_of(const struct edxml_doc *d)
{
	for (size_t i = 0; i < d->natt; i++) {
		const char *ct = d->att[i].content_type, *n = d->att[i].name;
		size_t nl = n ? strlen(n) : 0;
		if ((ct && (strcmp(ct, "application/xml") == 0 || strcmp(ct, "text/xml") == 0)) ||
		    (nl > 4 && strcasecmp(n + nl - 4, ".xml") == 0))
			return &d->att[i];
	}
	return NULL;
}

/* The unit of the registry whose mã định danh is id, or NULL. */
static const struct unit *unit_by_id(const struct catalog *cat, const char *id)
{
	const struct units *u = cat ? cat->units : NULL;

	for (size_t i = 0; u && id && i < u->nunits; i++)
		if (u->units[i].id && strcmp(u->units[i].id, id) == 0)
			return &u->units[i];
	return NULL;
}

/* Why the PDF's signatures do not hold (Vietnamese), or "" when they do. */
static void check_pdf(const struct cms_trust *trust, const struct edxml_attachment *a, char *why,
    size_t len, json_t **verdict)
{
	char err[256];
	json_t *v = pdfverify_buffer(a->data, a->len, trust, err, sizeof(err));

	why[0] = '\0';
	*verdict = v;
	if (v == NULL) {
		snprintf(why, len, "Tệp PDF không đọc được");
		return;
	}
	if (json_integer_value(json_object_get(v, "count")) < 1) {
		snprintf(why, len, "Văn bản điện tử không có chữ ký số");
		return;
	}
	if (!json_is_true(json_object_get(v, "all_valid"))) {
		json_t *sigs = json_object_get(v, "signatures"), *s;
		size_t i;
		json_array_foreach(sigs, i, s) {
			if (json_is_true(json_object_get(s, "valid")))
				continue;
			const char *st = jstr(s, "status"), *who = jstr(s, "signer");
			const char *what = st == NULL ? "không hợp lệ" :
			    strcmp(st, "untrusted") == 0 ? "không do tổ chức được tin cậy cấp" :
			    strcmp(st, "expired") == 0 ? "dùng chứng thư số hết hạn" :
			    strcmp(st, "modified") == 0 ? "không còn khớp: văn bản đã bị sửa sau khi ký" :
			    strcmp(st, "usage") == 0 ? "dùng chứng thư số không dành cho ký" :
			    "không hợp lệ";
			snprintf(why, len, "Chữ ký số thứ %zu%s%s %s", i + 1, who ? " của " : "",
			    who ? who : "", what);
			return;
		}
		snprintf(why, len, "Chữ ký số không hợp lệ");
	}
}

static char *join_places(const struct edxml_doc *d)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < d->nto_places; i++)
		len += strlen(d->to_places[i]) + 2;
	if ((s = calloc(1, len)) == NULL)
		return NULL;
	for (size_t i = 0; i < d->nto_places; i++) {
		if (i)
			strcat(s, "; ");
		strcat(s, d->to_places[i]);
	}
	return s;
}

/* A sender's text in NFC, as everything vanthu keeps (malloc'd; NULL stays NULL). */
static char *nfc(const char *in)
{
	char *out = NULL;

	if (in == NULL)
		return NULL;
	if (vnfmt_nfc(in, strlen(in), &out) != VNFMT_OK)
		return strdup(in);
	return out;
}

/*
 * What can be judged of a received message without the store or the configuration: it is
 * parsed and its PDF's signatures checked. Pure (the trust anchors are read-only once loaded),
 * so it runs on the worker pool for messages from NATS: the loop goes on serving while a large
 * package is decoded and verified, and the second core verifies while the first commits.
 */
struct analysis {
	struct edxml_msg m;
	int parsed;                  /* edxml_parse took it */
	struct edxml_error e;
	char err[512];               /* why it did not (English, for the log) */
	int checked;                 /* its PDF was checked: why and verdict hold the result */
	char why[512];               /* "" when the signatures hold, else the Vietnamese reason */
	json_t *verdict;             /* owned: pdf verify's JSON, or NULL */
	int kept;                    /* a good package is kept already, here: */
	char pkgpath[PATH_MAX];
};

static const struct edxml_attachment *pdf_of(const struct edxml_doc *d);

static void analyse(const struct cms_trust *trust, const void *buf, size_t len,
    struct analysis *a)
{
	memset(a, 0, sizeof(*a));
	if (edxml_parse(buf, len, &a->m, &a->e, a->err, sizeof(a->err)) != 0)
		return;
	a->parsed = 1;
	if (a->m.kind != EDXML_DOCUMENT || a->m.doc.business == EDXML_RECALL)
		return;
	const struct edxml_attachment *pdf = pdf_of(&a->m.doc);
	if (pdf == NULL)
		return;
	check_pdf(trust, pdf, a->why, sizeof(a->why), &a->verdict);
	a->checked = 1;
}

static void analysis_free(struct analysis *a)
{
	if (a->parsed)
		edxml_msg_free(&a->m);
	json_decref(a->verdict);
	a->verdict = NULL;
	a->parsed = 0;
}

/* A package received: registered (01 and 03 back), a duplicate, or refused (02 back). */
static int take_document(struct exchange *x, const char *via, const void *buf, size_t len,
    struct analysis *an, char *err, size_t errlen)
{
	const struct edxml_doc *d = &an->m.doc;
	const char *ours = addressed_to(x->cfg, d);
	char code[64], why[512], pkgpath[PATH_MAX], sha[HASH_HEX_LEN + 1];
	char signer[256] = "", at[40];
	struct status_msg s[2];
	json_t *verdict = NULL;
	char *verdict_text = NULL, *places = NULL;
	int year, month, day, rc;

	memset(s, 0, sizeof(s));
	snprintf(code, sizeof(code), "%s/%s", d->code_number ? d->code_number : "",
	    d->code_notation ? d->code_notation : "");
	if (ours == NULL) {
		snprintf(why, sizeof(why), "Văn bản không gửi đến cơ quan này (mã định danh nhận "
		    "không phải của cơ quan)");
		return refuse(x, via, buf, len, d->from.id, d->document_id, code, d->date, NULL, why,
		    err, errlen);
	}
	if (d->business == EDXML_RECALL) {
		/* a recall sent as a package: the same as status 13 */
		struct edxml_status st13;
		memset(&st13, 0, sizeof(st13));
		st13.from = d->from;
		st13.code = 13;
		st13.response_for.organ_id = d->from.id;
		st13.response_for.code = code;
		st13.response_for.date = d->date;
		st13.response_for.document_id = d->nresponse_for ? d->response_for[0].document_id :
		    d->document_id;
		return take_status(x, via, &st13, err, errlen);
	}
	const struct edxml_attachment *pdf = pdf_of(d);
	if (pdf == NULL) {
		return refuse(x, via, buf, len, d->from.id, d->document_id, code, d->date, ours,
		    "Gói tin không có văn bản điện tử (tệp PDF đã ký số)", err, errlen);
	}
	/* checked by analyse(); the verdict is ours now */
	snprintf(why, sizeof(why), "%s", an->why);
	verdict = an->verdict;
	an->verdict = NULL;
	if (!an->checked)
		check_pdf(x->trust, pdf, why, sizeof(why), &verdict);
	if (why[0] != '\0') {
		json_decref(verdict);
		return refuse(x, via, buf, len, d->from.id, d->document_id, code, d->date, ours, why,
		    err, errlen);
	}
	clock_today_vn(&year, &month, &day);
	clock_iso_utc(at, sizeof(at));
	rc = STORE_ERR;
	char pkgsha[HASH_HEX_LEN + 1] = "";
	/* edxml_parse checked the attachment against the SHA-256 it came with: no second pass */
	memcpy(sha, pdf->sha256, sizeof(sha));
	/* the package alone: its PDF is in it (exchange_incoming_pdf reads it back) */
	if (an->kept)
		snprintf(pkgpath, sizeof(pkgpath), "%s", an->pkgpath);
	else if (keep_file(x, year, buf, len, ".edxml", pkgsha, pkgpath, sizeof(pkgpath), err,
	        errlen) != 0)
		goto out;
	/* a unit's report for a round, beside its document: into intake, its receipt in the 03 */
	const struct edxml_attachment *rep = report_of(d);
	const struct unit *unit = rep ? unit_by_id(x->cat, d->from.id) : NULL;
	char *receipt = NULL, desc03[1600];
	snprintf(desc03, sizeof(desc03), "Đã tiếp nhận, vào sổ văn bản đến");
	if (rep && unit == NULL)
		log_warn("exchange: %s attached a report, but no unit of units.xml has its id; the "
		    "document is registered, the report is not taken", d->from.id);
	if (rep && unit && x->cat) {
		int accepted = 0;
		if (xreport_take(x->st, x->cat, x->cfg, unit->code, d->document_id, rep->name,
		        rep->data, rep->len, &receipt, &accepted, err, errlen) != 0)
			goto out;
		snprintf(desc03, sizeof(desc03), "Đã tiếp nhận, vào sổ văn bản đến. %s", receipt);
		log_info("exchange: the report %s from %s (%s): %s", rep->name, unit->code, d->from.id,
		    accepted ? "taken into intake" : "rejected by intake");
		free(receipt);
	}
	if (build_status(x->cfg, ours, d->from.id, code, d->date, d->document_id, 1, "Đã đến",
	        NULL, 0, 0, &s[0], err, errlen) != 0 ||
	    build_status(x->cfg, ours, d->from.id, code, d->date, d->document_id, 3, desc03, NULL,
	        0, 0, &s[1], err, errlen) != 0)
		goto out;
	snprintf(signer, sizeof(signer), "%s%s%s%s%s", d->competence ? d->competence : "",
	    d->competence ? " " : "", d->position ? d->position : "",
	    d->position && d->full_name ? " " : "", d->full_name ? d->full_name : "");
	verdict_text = json_dumps(verdict, JSON_COMPACT);
	places = join_places(d);
	char *n_sender = nfc(d->from.name ? d->from.name : d->from.id), *n_subject = nfc(d->subject);
	char *n_type = nfc(d->type_name ? d->type_name : "Văn bản"), *n_signer = nfc(signer);
	char *n_places = nfc(places), *n_code = nfc(code);
	struct store_xout_new st2[2] = { s[0].m, s[1].m };
	struct store_incoming_new n = {
		.via = via, .recipient = ours, .sender_id = d->from.id,
		.sender_name = n_sender, .doc_key = d->document_id,
		.code = n_code, .issued_on = d->date, .type_name = n_type,
		.subject = n_subject, .priority = d->priority, .due_date = d->due_date,
		.signer = signer[0] ? n_signer : NULL, .to_places = places && places[0] ? n_places : NULL,
		.pages = d->pages, .business = d->business,
		.response_for = d->nresponse_for ? d->response_for[0].document_id : NULL,
		.package_path = pkgpath, .pdf_path = NULL, .pdf_sha256 = sha,
		.verify = verdict_text, .arrived_at = at, .year = year, .uid = -1, .login = "vanthud",
		.statuses = st2, .nstatuses = 2,
	};
	int64_t id = 0, number = 0;
	rc = store_incoming_register(x->st, &n, &id, &number, err, errlen);
	free(n_sender);
	free(n_subject);
	free(n_type);
	free(n_signer);
	free(n_places);
	free(n_code);
	if (rc == STORE_OK) {
		x->received++;
		log_info("exchange: registered %s from %s as số đến %" PRId64 "/%d (incoming %" PRId64
		    ")", code, d->from.id, number, year, id);
		kick(x);
	} else if (rc == STORE_DONE) {
		log_info("exchange: %s from %s came again; it is số đến %" PRId64, d->document_id,
		    d->from.id, number);
		rc = STORE_OK;
	}
out:
	status_msg_free(&s[0]);
	status_msg_free(&s[1]);
	json_decref(verdict);
	free(verdict_text);
	free(places);
	return rc;
}

int exchange_incoming_pdf(const char *package_path, const char *pdf_path, const char *want,
    unsigned char **out, size_t *len, char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	char sha[HASH_HEX_LEN + 1];
	struct edxml_msg m;
	struct edxml_error e;
	int rc = -1, parsed = 0;

	*out = NULL;
	*len = 0;
	if (want == NULL || (pdf_path == NULL && package_path == NULL)) {
		seterr(err, errlen, "the entry has no electronic file");
		return -1;
	}
	if (pdf_path != NULL) {
		if (fsutil_read_file(pdf_path, EDXML_MAX_PACKAGE, &buf, &n) != 0) {
			seterr(err, errlen, "%s: %s", pdf_path, strerror(errno));
			goto out;
		}
		if (hash_sha256_hex(buf, n, sha) != 0 || strcmp(sha, want) != 0) {
			seterr(err, errlen, "%s is not the PDF received (its SHA-256 differs)", pdf_path);
			goto out;
		}
		*out = buf;
		*len = n;
		return 0;
	}
	if (fsutil_read_file(package_path, EDXML_MAX_PACKAGE, &buf, &n) != 0) {
		seterr(err, errlen, "%s: %s", package_path, strerror(errno));
		goto out;
	}
	if (edxml_parse(buf, n, &m, &e, err, errlen) != 0)
		goto out;
	parsed = 1;
	for (size_t i = 0; m.kind == EDXML_DOCUMENT && i < m.doc.natt; i++) {
		struct edxml_attachment *a = &m.doc.att[i];
		/* edxml_parse checked the bytes against the SHA-256 the package gives; only an
		 * attachment without one is hashed here */
		const char *has = a->sha256[0] ? a->sha256 : sha;
		if ((a->sha256[0] == '\0' && hash_sha256_hex(a->data, a->len, sha) != 0) ||
		    strcmp(has, want) != 0)
			continue;
		*out = a->data;  /* taken from the message: edxml_msg_free leaves a NULL alone */
		*len = a->len;
		a->data = NULL;
		a->len = 0;
		rc = 0;
		goto out;
	}
	seterr(err, errlen, "%s holds no attachment with the SHA-256 registered", package_path);
out:
	if (parsed)
		edxml_msg_free(&m);
	free(buf);
	return rc;
}

/* Any message received: 0 when it is settled (acknowledge), -1 when it must come again. */
static int take_message(struct exchange *x, const char *via, const void *buf, size_t len,
    struct analysis *an)
{
	char err[512];
	int rc;

	if (!an->parsed) {
		char from[64], key[256], why[256];
		edxml_peek(buf, len, from, sizeof(from), key, sizeof(key));
		fault_reason(&an->e, why, sizeof(why));
		log_warn("exchange: a package that is not valid edXML: %s", an->err);
		rc = refuse(x, via, buf, len, from, key, NULL, NULL, NULL, why, err, sizeof(err));
	} else if (an->m.kind == EDXML_STATUS) {
		rc = take_status(x, via, &an->m.st, err, sizeof(err));
	} else {
		rc = take_document(x, via, buf, len, an, err, sizeof(err));
	}
	if (rc != STORE_OK) {
		log_warn("exchange: a received message waits: %s", err);
		set_last_error(x, err);
		return -1;
	}
	return 0;
}

/* A message from NATS being checked on the worker pool; owned by itself until after_check. */
struct recv_job {
	uv_work_t work;
	struct exchange *x;          /* borrowed; x lives while jobs > 0 */
	struct natsx_msg *m;         /* owned until acked or nak'ed */
	const void *data;            /* borrowed from m */
	size_t len;
	struct analysis an;
	int ok;                      /* settled (in the batch: if it commits) */
	struct recv_job *next;       /* in x->ready */
};

static void release(struct exchange *x);

static void run_check(uv_work_t *w)
{
	struct recv_job *j = w->data;
	struct analysis *an = &j->an;
	int year, month, day;
	char err[256];

	analyse(j->x->trust, j->data, j->len, an);
	/* a good package kept durably here too, off the loop (named by its hash: the same bytes
	 * twice are one file) */
	if (an->parsed && an->checked && an->why[0] == '\0') {
		char pkgsha[HASH_HEX_LEN + 1] = "";
		clock_today_vn(&year, &month, &day);
		an->kept = keep_file(j->x, year, j->data, j->len, ".edxml", pkgsha, an->pkgpath,
		    sizeof(an->pkgpath), err, sizeof(err)) == 0;
	}
}

static void job_done(struct exchange *x, struct recv_job *j, int ok)
{
	/* acknowledged only once its transaction committed; otherwise it comes again */
	if (ok)
		natsx_ack(j->m);
	else
		natsx_nak(j->m, NAK_DELAY_MS);
	analysis_free(&j->an);
	free(j);
	x->jobs--;
}

static void after_check(uv_work_t *w, int status)
{
	struct recv_job *j = w->data;
	struct exchange *x = j->x;

	if (status != 0 || x->stopping) {
		job_done(x, j, 0);
		release(x);
		return;
	}
	*x->ready_tail = j;
	x->ready_tail = &j->next;
	settle_soon(x);
}

/* A message that takes a report into intake uses the store outside the exchange's batch. */
static int needs_alone(const struct analysis *an)
{
	return an->parsed && an->m.kind == EDXML_DOCUMENT && report_of(&an->m.doc) != NULL;
}

/*
 * The batch: every checked message settled, and every send marked, as savepoints of one
 * transaction; the messages acknowledged once it committed. A message that failed is undone
 * alone and comes again; a failed commit undoes them all, and they all come again.
 */
static void settle_wake(uv_timer_t *t)
{
	struct exchange *x = t->data;
	struct recv_job *list = x->ready, *j, *next;
	char err[512], at[40];
	int batch;

	x->ready = NULL;
	x->ready_tail = &x->ready;
	batch = store_exchange_batch_begin(x->st, err, sizeof(err)) == STORE_OK;
	if (!batch)
		log_warn("exchange: %s; settling one by one", err);
	clock_iso_utc(at, sizeof(at));
	for (size_t i = 0; i < x->nsent_ids; i++)
		if (store_xout_sent(x->st, x->sent_ids[i], at, err, sizeof(err)) != STORE_OK)
			log_warn("exchange: outbox %" PRId64 ": %s", x->sent_ids[i], err);
	size_t marked = x->nsent_ids;
	x->nsent_ids = 0;
	for (j = list; j; j = j->next)
		if (!needs_alone(&j->an))
			j->ok = take_message(x, "nats", j->data, j->len, &j->an) == 0;
	if (batch && store_exchange_batch_end(x->st, 1, err, sizeof(err)) != STORE_OK) {
		log_err("exchange: a batch of %zu messages could not be committed (they come again): %s",
		    marked, err);
		set_last_error(x, err);
		for (j = list; j; j = j->next)
			j->ok = 0;
		marked = 0;
	}
	x->sent += marked;
	/* those that use the rest of the store, each in its own transactions */
	for (j = list; j; j = j->next)
		if (needs_alone(&j->an))
			j->ok = take_message(x, "nats", j->data, j->len, &j->an) == 0;
	for (j = list; j; j = next) {
		next = j->next;
		job_done(x, j, j->ok);
	}
	release(x);
}

static void settle_soon(struct exchange *x)
{
	if (!x->stopping && !uv_is_active((uv_handle_t *)&x->settle))
		uv_timer_start(&x->settle, settle_wake, 0, 0);
}

static void on_nats_message(void *arg, const char *organ_id, struct natsx_msg *m,
    const void *data, size_t len, unsigned redeliveries)
{
	struct exchange *x = arg;
	struct recv_job *j = x->stopping ? NULL : calloc(1, sizeof(*j));

	(void)organ_id;
	(void)redeliveries;
	if (j == NULL) {
		natsx_nak(m, NAK_DELAY_MS);
		return;
	}
	j->x = x;
	j->m = m;
	j->data = data;
	j->len = len;
	j->work.data = j;
	if (uv_queue_work(x->loop, &j->work, run_check, after_check) != 0) {
		free(j);
		natsx_nak(m, NAK_DELAY_MS);
		return;
	}
	x->jobs++;
}

static void on_nats_state(void *arg, int up, const char *info)
{
	struct exchange *x = arg;

	if (up) {
		log_info("exchange: connected: %s", info ? info : "");
		kick(x);
	} else {
		log_warn("exchange: disconnected: %s", info ? info : "");
		set_last_error(x, info ? info : "disconnected");
	}
}

/* The gateway's in folder: every settled regular file, read once through its descriptor. */
static void scan_wake(uv_timer_t *t)
{
	struct exchange *x = t->data;
	int dfd;
	DIR *dir;
	struct dirent *de;
	struct timespec now;
	int n = 0, removed = 0, loud = x->scans++ % 60 == 0;

	if (x->stopping)
		return;
	dfd = open(x->dir_in, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || (dir = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		log_warn("exchange: %s: %s", x->dir_in, strerror(errno));
		return;
	}
	/* file times are the real clock's, never the test clock's */
	clock_gettime(CLOCK_REALTIME, &now);
	struct timespec began = now;
	while ((de = readdir(dir)) != NULL && n < 256 && !x->stopping) {
		struct stat sb;
		unsigned char *buf = NULL;
		size_t len = 0;
		if (de->d_name[0] == '.')
			continue;  /* the gateway's temporary names, and ours */
		int fd = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
		    O_CLOEXEC);
		struct stat ls;
		int fresh = fstatat(dfd, de->d_name, &ls, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (ls.st_ctim.tv_sec > x->prev_scan.tv_sec ||
		    (ls.st_ctim.tv_sec == x->prev_scan.tv_sec &&
		    ls.st_ctim.tv_nsec >= x->prev_scan.tv_nsec));
		if (fd < 0) {
			if (errno == ELOOP && (loud || fresh))
				log_warn("exchange: %s/%s is a symbolic link; left alone", x->dir_in,
				    de->d_name);
			continue;
		}
		if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_nlink != 1) {
			close(fd);
			if (loud || fresh)
				log_warn("exchange: %s/%s is not a regular file with one link; left alone",
			    x->dir_in, de->d_name);
			continue;
		}
		/* a file still being written: it must rest for the settle time first */
		int64_t age_ms = ((int64_t)now.tv_sec - sb.st_mtim.tv_sec) * 1000 +
		    (now.tv_nsec - sb.st_mtim.tv_nsec) / 1000000;
		if (age_ms < (int64_t)x->cfg->intake_settle) {
			close(fd);
			continue;
		}
		n++;
		if (sb.st_size > (off_t)EDXML_MAX_PACKAGE) {
			close(fd);
			static const char big[] = "";
			char err[512];
			if (refuse(x, "folder", big, 0, NULL, NULL, NULL, NULL, NULL,
			        "Gói tin quá lớn", err, sizeof(err)) == STORE_OK)
				unlinkat(dfd, de->d_name, 0);
			continue;
		}
		buf = malloc((size_t)sb.st_size + 1);
		ssize_t r = 0;
		while (buf && len < (size_t)sb.st_size) {
			r = read(fd, buf + len, (size_t)sb.st_size - len);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			len += (size_t)r;
		}
		close(fd);
		if (buf == NULL || len != (size_t)sb.st_size) {
			free(buf);
			continue;
		}
		struct analysis an;
		analyse(x->trust, buf, len, &an);
		if (take_message(x, "folder", buf, len, &an) == 0)
			removed += unlinkat(dfd, de->d_name, 0) == 0;
		analysis_free(&an);
		free(buf);
	}
	/* the removals of the batch made durable at once (a crash before it: taken again, which
	 * the store's keys make harmless) */
	if (removed > 0)
		fsync(dfd);
	closedir(dir);
	x->prev_scan = began;
	/* a full batch: more are waiting, look again at once */
	if (n >= 256 && !x->stopping)
		uv_timer_start(&x->scan, scan_wake, 0, FOLDER_SCAN_MS);
}

/* ---- life ---- */

static int make_dir(const char *path, char *err, size_t errlen)
{
	char failed[PATH_MAX];

	if (fsutil_mkdir_p(path, 0750, failed, sizeof(failed)) != 0) {
		seterr(err, errlen, "%s: %s", failed, strerror(errno));
		return -1;
	}
	return 0;
}

int exchange_start(uv_loop_t *loop, const struct config *cfg, struct store *st,
    struct exchange **out, char *err, size_t errlen)
{
	struct exchange *x = calloc(1, sizeof(*x));
	const char *trust = cfg->xch_trust ? cfg->xch_trust : cfg->sign_trust;
	char *password = NULL, *token = NULL;

	*out = NULL;
	if (x == NULL || (x->inflight = calloc(MAX_INFLIGHT, sizeof(int64_t))) == NULL ||
	    (x->sent_ids = calloc(MAX_INFLIGHT, sizeof(int64_t))) == NULL) {
		seterr(err, errlen, "out of memory");
		goto fail;
	}
	x->loop = loop;
	x->cfg = cfg;
	x->st = st;
	x->folder = strcmp(cfg->xch_transport, "folder") == 0;
	if (cms_trust_load(trust, &x->trust, err, errlen) != 0)
		goto fail;
	snprintf(x->dir_out, sizeof(x->dir_out), "%s/exchange/out", cfg->spool);
	snprintf(x->dir_in, sizeof(x->dir_in), "%s/exchange/in", cfg->spool);
	snprintf(x->dir_sent, sizeof(x->dir_sent), "%s/exchange/sent", cfg->spool);
	snprintf(x->dir_recv, sizeof(x->dir_recv), "%s/exchange/received", cfg->spool);
	if (make_dir(x->dir_sent, err, errlen) != 0 || make_dir(x->dir_recv, err, errlen) != 0)
		goto fail;
	if (x->folder && (make_dir(x->dir_out, err, errlen) != 0 ||
	        make_dir(x->dir_in, err, errlen) != 0))
		goto fail;
	uv_timer_init(loop, &x->pump);
	uv_timer_init(loop, &x->scan);
	uv_timer_init(loop, &x->settle);
	x->pump.data = x->scan.data = x->settle.data = x;
	x->ready_tail = &x->ready;
	x->handles = 3;
	if (!x->folder) {
		unsigned char *buf = NULL;
		size_t len = 0;
		if (cfg->xch_password_file) {
			if (fsutil_read_file(cfg->xch_password_file, 4096, &buf, &len) != 0) {
				seterr(err, errlen, "%s: %s", cfg->xch_password_file, strerror(errno));
				goto fail_handles;
			}
			buf[strcspn((char *)buf, "\r\n")] = '\0';
			password = (char *)buf;
		}
		if (cfg->xch_token_file) {
			if (fsutil_read_file(cfg->xch_token_file, 4096, &buf, &len) != 0) {
				seterr(err, errlen, "%s: %s", cfg->xch_token_file, strerror(errno));
				goto fail_handles;
			}
			buf[strcspn((char *)buf, "\r\n")] = '\0';
			token = (char *)buf;
		}
		char name[128];
		snprintf(name, sizeof(name), "vanthud %s", cfg->bodies[0].id ? cfg->bodies[0].id : "");
		struct natsx_opts o = {
			.urls = cfg->xch_servers, .user = cfg->xch_user, .password = password,
			.token = token, .creds_file = cfg->xch_creds, .ca_file = cfg->xch_ca,
			.name = name, .prefix = cfg->xch_prefix, .stream = cfg->xch_stream,
			.replicas = (int)cfg->xch_replicas,
			/* at most this many packages held at once (each with its PDF decoded): memory.
			 * 256 of today's 133 KB packages: the receiver peaks at about 70 MB under a
			 * backlog (128: 58 MB, and the pull stalls: 204/s instead of 232-240/s) */
			.max_pending = 256,
		};
		int orc = natsx_open(loop, &o, on_nats_state, x, &x->nx, err, errlen);
		if (password)
			explicit_bzero(password, strlen(password));
		if (token)
			explicit_bzero(token, strlen(token));
		free(password);
		free(token);
		password = token = NULL;
		if (orc != 0)
			goto fail_handles;
		for (size_t i = 0; i < cfg->nbodies; i++)
			if (cfg->bodies[i].id &&
			    natsx_subscribe(x->nx, cfg->bodies[i].id, on_nats_message, x, err,
			        errlen) != 0)
				goto fail_handles;
	} else {
		uv_timer_start(&x->scan, scan_wake, FOLDER_SCAN_MS, FOLDER_SCAN_MS);
	}
	uv_timer_start(&x->pump, pump_wake, 0, PUMP_IDLE_MS);
	log_info("exchange: %s transport for %s", x->folder ? "folder" : "NATS JetStream",
	    cfg->bodies[0].id ? cfg->bodies[0].id : "?");
	*out = x;
	return 0;
fail_handles:
	free(password);
	free(token);
	if (x->nx) {
		natsx_close(x->nx);
		x->nx = NULL;
	}
	/* the timers close on the loop; x goes with the last of them */
	x->stopping = 1;
	x->done = NULL;
	exchange_stop(x, NULL, NULL);
	return -1;
fail:
	if (x) {
		cms_trust_free(x->trust);
		free(x->inflight);
		free(x->sent_ids);
	}
	free(x);
	return -1;
}

void exchange_set_config(struct exchange *x, const struct config *cfg)
{
	if (x != NULL)
		x->cfg = cfg;
}

/* exchange.md: an id of another shape than ddd.dd.dd.Ldd is said, never refused. */
static void warn_shapes(const struct config *cfg, const struct catalog *cat)
{
	for (size_t i = 0; i < cfg->nbodies; i++)
		if (cfg->bodies[i].id && edxml_check_organ_id(cfg->bodies[i].id) == 0)
			log_warn("exchange: the id %s of %s is not of the shape ddd.dd.dd.Ldd (Quyết định "
			    "20/2020); it is used as it is", cfg->bodies[i].id, cfg->bodies[i].abbrev);
	for (size_t i = 0; cat && cat->units && i < cat->units->nunits; i++) {
		const struct unit *u = &cat->units->units[i];
		int shape = u->id ? edxml_check_organ_id(u->id) : 1;
		if (shape == 0)
			log_warn("exchange: the id %s of unit %s is not of the shape ddd.dd.dd.Ldd; it is "
			    "used as it is", u->id, u->code);
		else if (shape < 0)
			log_warn("exchange: the id %s of unit %s cannot be an address; the unit gets paper",
			    u->id, u->code);
	}
}

void exchange_set_catalog(struct exchange *x, struct catalog *cat)
{
	if (x == NULL)
		return;
	warn_shapes(x->cfg, cat);
	catalog_ref(cat);
	catalog_unref(x->cat);
	x->cat = cat;
	sweep_unplanned(x);
	kick(x);
}

/* Frees x once stopped, its handles closed and its last check back from the pool. */
static void release(struct exchange *x)
{
	if (!x->stopping || x->handles > 0 || x->jobs > 0)
		return;
	void (*done)(void *) = x->done;
	void *arg = x->done_arg;
	catalog_unref(x->cat);
	cms_trust_free(x->trust);
	free(x->inflight);
	free(x->sent_ids);
	free(x);
	if (done)
		done(arg);
}

static void on_closed(uv_handle_t *h)
{
	struct exchange *x = h->data;

	x->handles--;
	release(x);
}

void exchange_stop(struct exchange *x, void (*done)(void *), void *arg)
{
	if (x == NULL) {
		if (done)
			done(arg);
		return;
	}
	/* what is checked already is settled (and acknowledged) before the link closes */
	if (x->ready != NULL || x->nsent_ids > 0)
		settle_wake(&x->settle);
	x->stopping = 1;
	x->done = done;
	x->done_arg = arg;
	if (x->nx) {
		natsx_close(x->nx);  /* pending publishes report ok 0 now: they stay in the outbox */
		x->nx = NULL;
	}
	uv_timer_stop(&x->pump);
	uv_timer_stop(&x->scan);
	uv_timer_stop(&x->settle);
	uv_close((uv_handle_t *)&x->pump, on_closed);
	uv_close((uv_handle_t *)&x->scan, on_closed);
	uv_close((uv_handle_t *)&x->settle, on_closed);
}

/* ---- the phiếu giải quyết and recalls ---- */

int exchange_assign(struct exchange *x, struct store *st, const struct config *cfg,
    struct store_assign_new *a, char *err, size_t errlen)
{
	struct status_msg s;
	char desc[600];
	int has = 0, rc;

	snprintf(desc, sizeof(desc), "Đã phân công: %s", a->n > 0 && a->who[0].name ?
	    a->who[0].name : "");
	for (size_t i = 0; i < a->n; i++)
		if (a->who[i].role == XAS_LEAD)
			snprintf(desc, sizeof(desc), "Đã phân công %s chủ trì giải quyết%s%s",
			    a->who[i].name ? a->who[i].name : a->who[i].who,
			    a->who[i].due ? ", hạn " : "", a->who[i].due ? a->who[i].due : "");
	if ((rc = incoming_status(x, st, cfg, a->incoming_id, 4, desc, a->login, &s, &has, err,
	        errlen)) != 0)
		return rc;
	a->status = has ? &s.m : NULL;
	rc = store_incoming_assign(st, a, err, errlen);
	a->status = NULL;
	status_msg_free(&s);
	if (rc == STORE_OK && x)
		kick(x);
	return rc;
}

int exchange_progress(struct exchange *x, struct store *st, const struct config *cfg,
    int64_t incoming_id, const char *text, int64_t uid, const char *login, char *err,
    size_t errlen)
{
	struct status_msg s;
	char at[40];
	int has = 0, rc;

	if ((rc = incoming_status(x, st, cfg, incoming_id, 5, text, login, &s, &has, err,
	        errlen)) != 0)
		return rc;
	clock_iso_utc(at, sizeof(at));
	rc = store_incoming_progress(st, incoming_id, text, uid, login, at, has ? &s.m : NULL, err,
	    errlen);
	status_msg_free(&s);
	if (rc == STORE_OK && x)
		kick(x);
	return rc;
}

int exchange_done(struct exchange *x, struct store *st, const struct config *cfg,
    int64_t incoming_id, int64_t reply, const char *note, int64_t uid, const char *login,
    char *err, size_t errlen)
{
	struct status_msg s;
	char at[40];
	int has = 0, rc;

	if ((rc = incoming_status(x, st, cfg, incoming_id, 6, note ? note : "Đã giải quyết xong",
	        login, &s, &has, err, errlen)) != 0)
		return rc;
	clock_iso_utc(at, sizeof(at));
	rc = store_incoming_done(st, incoming_id, reply, note, uid, login, at, has ? &s.m : NULL,
	    err, errlen);
	status_msg_free(&s);
	if (rc == STORE_OK && x)
		kick(x);
	return rc;
}

/* The recipients by exchange of a document, for a recall's statuses. */
struct recall_rows {
	char *ids[EDXML_MAX_TO];
	size_t n;
};

static int recall_row(const struct store_col *cols, int ncols, void *arg)
{
	struct recall_rows *r = arg;

	for (int i = 0; i < ncols; i++)
		if (strcmp(cols[i].name, "recipient_id") == 0 && cols[i].type == 2 &&
		    r->n < EDXML_MAX_TO)
			r->ids[r->n++] = strdup(cols[i].s);
	return 0;
}

int exchange_recall(struct exchange *x, struct store *st, const struct config *cfg, int64_t id,
    const char *reason, int64_t uid, const char *login, char *err, size_t errlen)
{
	struct store_doc d;
	struct recall_rows rr = { .n = 0 };
	struct status_msg *s = NULL;
	struct store_xout_new *m = NULL;
	char key[256];
	int rc = STORE_ERR;

	memset(&d, 0, sizeof(d));
	if ((rc = store_doc_get(st, id, &d, err, errlen)) != STORE_OK)
		return rc;
	const struct config_body *b = config_find_body(cfg, d.issuer);
	rc = STORE_INVALID;
	if (x == NULL || b == NULL || b->id == NULL) {
		seterr(err, errlen, "document %" PRId64 " was not sent by exchange", id);
		goto out;
	}
	if ((rc = store_delivery_key(st, id, key, sizeof(key), err, errlen)) != STORE_OK)
		goto out;
	if ((rc = store_delivery_list(st, id, recall_row, &rr, err, errlen)) != STORE_OK)
		goto out;
	rc = STORE_ERR;
	if ((s = calloc(rr.n ? rr.n : 1, sizeof(*s))) == NULL ||
	    (m = calloc(rr.n ? rr.n : 1, sizeof(*m))) == NULL) {
		seterr(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < rr.n; i++) {
		if (build_status(cfg, b->id, rr.ids[i], d.symbol, d.issued_on, key, 13, reason, login,
		        0, id, &s[i], err, errlen) != 0)
			goto out;
		/* the 13 goes from us to the recipient: its msg id names the recipient */
		snprintf(s[i].msg_id, sizeof(s[i].msg_id), "%s|%s|status|13", key, rr.ids[i]);
		m[i] = s[i].m;
	}
	rc = store_delivery_recall(st, id, reason, m, rr.n, uid, login, err, errlen);
	if (rc == STORE_OK)
		kick(x);
out:
	for (size_t i = 0; s && i < rr.n; i++)
		status_msg_free(&s[i]);
	for (size_t i = 0; i < rr.n; i++)
		free(rr.ids[i]);
	free(s);
	free(m);
	store_doc_free(&d);
	return rc;
}

json_t *exchange_state(struct exchange *x)
{
	json_t *ids, *o;
	int64_t count = 0;
	char oldest[40] = "", err[256];

	if (x == NULL)
		return NULL;
	if ((ids = json_array()) == NULL)
		return NULL;
	for (size_t i = 0; i < x->cfg->nbodies; i++)
		if (x->cfg->bodies[i].id)
			json_array_append_new(ids, json_string(x->cfg->bodies[i].id));
	if (store_xout_pending(x->st, &count, oldest, sizeof(oldest), err, sizeof(err)) != STORE_OK)
		count = -1;
	o = json_pack("{s:s, s:b, s:s, s:o, s:I, s:s, s:I, s:I, s:I, s:s}",
	    "transport", x->folder ? "folder" : "nats",
	    "up", x->folder ? 1 : natsx_is_up(x->nx),
	    "server", x->folder ? x->dir_out : natsx_server(x->nx),
	    "ids", ids, "outbox", (json_int_t)count, "outbox_oldest", oldest,
	    "sent", (json_int_t)x->sent, "received", (json_int_t)x->received,
	    "refused", (json_int_t)x->refused, "last_error", x->last_error);
	if (o && x->last_error_at[0])
		json_object_set_new(o, "last_error_at", json_string(x->last_error_at));
	return o;
}

const char *exchange_state_label(const char *state)
{
	static const struct { const char *id, *label; } labels[] = {
		{ "registered", "đã vào sổ, chờ phân công" },
		{ "assigned", "đã phân công" },
		{ "progress", "đang xử lý" },
		{ "done", "đã giải quyết" },
		{ "recalled", "bên gửi đã thu hồi" },
	};
	for (size_t i = 0; state && i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(labels[i].id, state) == 0)
			return labels[i].label;
	return state ? state : "";
}
