/*
 * intake.c: what happens to a dropped file between the scan that finds it
 * and the receipt that answers it. On the main thread: a queue filled by
 * spool_scan, batches started when the kernel reports a change or the
 * rescan timer fires, and pacing of the log while a fault (a full disk)
 * lasts. On libuv's worker pool, one batch at a time, with a store
 * connection of its own: every file is first recorded as a claim (its raw
 * name, its folder, what the scan saw), then renamed into claimed/ under
 * the claim's number, so no name a unit chose is ever part of a path the
 * daemon builds; then read (spool_read_claimed), parsed, and checked by the
 * kind its namespace names (reports, documents, rounds, meetings register
 * theirs), recorded in one transaction, answered with its receipts, and
 * moved to accepted/ or rejected/ as "<receipt>-<name>". A crash at any
 * point leaves every file in incoming/ (its claim is forgotten), in
 * claimed/ (finished at the next scan: recorded once, its receipt written
 * under the same name), or done.
 */
#include "intake.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "hash.h"
#include "log.h"
#include "names.h"
#include "peer.h"
#include "receipt.h"
#include "xmlin.h"

#define QUEUE_CAP 4096
#define MAX_KINDS 8
/* While a fault lasts (a full disk), each retry's errors go to debug, not error. */
#define FAIL_QUIET_S 60
#define FAIL_LOG(in, ...) log_msg((in)->loud ? LOG_LEVEL_ERR : LOG_LEVEL_DEBUG, __VA_ARGS__)

enum item_state {
	ITEM_SKIP = 0,   /* gone, or not to be taken now: nothing to do */
	ITEM_WAIT,       /* not complete yet (changed under us): tried again later */
	ITEM_LATER,      /* a fault (a claim that failed): tried again later */
	ITEM_CLAIMED,    /* in claimed/, its name and folder known */
	ITEM_READY,      /* read and judged, to be recorded */
	ITEM_DONE,       /* recorded; its receipts and move are due */
	ITEM_FINISHED,   /* receipts written and original moved */
};

/* One input as the worker handles it; everything owned. */
struct item {
	struct spool_cand c;
	enum item_state state;
	int64_t claim_id;
	char claimed[NAME_MAX + 1];
	char folder[NAME_MAX + 1];
	char raw[NAME_MAX + 1];
	char shown[NAMES_SHOWN_SIZE];
	char stem[NAMES_STEM_MAX + 1];
	char final[NAME_MAX + 1];           /* "<receipt>-<stem>" in accepted/ or rejected/ */
	enum spool_origin origin;
	struct spool_look expect;
	int have_expect;
	struct spool_read rd;
	uid_t owner;
	struct diag_list errs;
	const struct intake_kind *kind;
	struct intake_outcome out;
	struct intake_sender sender;
	char login[64];
	int has_sender;
	char *errors_json;
	char sha[HASH_HEX_LEN + 1];
	int64_t size;                       /* -1: not read */
	char at[32];
	char rfolder[NAME_MAX + 1];         /* receipts/<rfolder> */
	gid_t rgid;
	struct store_input in;
};

struct intake {
	uv_loop_t *loop;                /* borrowed */
	const struct config *cfg;       /* borrowed */
	struct catalog *cat;            /* a reference: for the next batch */
	struct catalog *batch_cat;      /* a reference: the batch in flight's */
	struct spool *sp;               /* owned */
	struct store *db;               /* owned; the worker thread's */
	struct intake_kind kinds[MAX_KINDS];
	size_t nkinds;
	uv_timer_t rescan, kick;
	uv_work_t work;
	int running, wanted, dirty, stopping, open_handles;
	int first;                      /* the first batch: forget claims a crash left */
	struct spool_cand *queue;       /* owned, from the last scan */
	size_t nqueue, qhead;
	struct item *batch;             /* owned: the batch in flight */
	size_t nbatch;
	unsigned failures;              /* worker: batches that failed in a row */
	time_t quiet_until;
	int loud;
	void (*done)(void *arg);
	void *done_arg;
	void (*on_batch)(void *arg);
	void *on_batch_arg;
	/* settings copied for the worker, so a reload never races it */
	size_t max_size;
	unsigned settle_ms;
	struct config wcfg;             /* owned: role groups, round drafter, bodies and users */
};

/* ---- the worker ---- */

static void item_reject(struct item *it, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void item_reject(struct item *it, const char *code, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add_at(&it->errs, it->shown, 0, 0, code, "%s", msg);
}

static void set_names(struct item *it, const char *folder, const char *raw)
{
	snprintf(it->folder, sizeof(it->folder), "%s", folder);
	snprintf(it->raw, sizeof(it->raw), "%s", raw);
	names_show(it->raw, it->shown, sizeof(it->shown));
	names_receipt_stem(it->raw, it->stem, sizeof(it->stem));
	it->origin = folder[0] == '\0' ? SPOOL_TOP : folder[0] == '@' ? SPOOL_PERSON : SPOOL_UNIT;
}

/* Forgets the claims of files that never reached claimed/ (a crash between the two steps). */
static void forget_stale_claims(struct intake *in)
{
	int64_t *ids = NULL, *stale = NULL;
	size_t n = 0, ns = 0;
	char err[256], name[32];

	if (store_claims_list(in->db, &ids, &n, err, sizeof(err)) != STORE_OK) {
		log_err("intake: cannot list claims: %s", err);
		return;
	}
	stale = calloc(n ? n : 1, sizeof(*stale));
	for (size_t i = 0; stale && i < n; i++) {
		snprintf(name, sizeof(name), "%" PRId64, ids[i]);
		if (spool_claimed_exists(in->sp, name) == 0)
			stale[ns++] = ids[i];
	}
	if (ns > 0 && store_claims_drop(in->db, stale, ns, err, sizeof(err)) != STORE_OK)
		log_err("intake: cannot forget %zu claims a crash left: %s", ns, err);
	else if (ns > 0)
		log_info("intake: forgot %zu claim%s whose file never reached claimed/ (still in "
		    "incoming/, taken again)", ns, ns == 1 ? "" : "s");
	free(ids);
	free(stale);
}

/* Claims the files a scan found in incoming/: first in the store, then by rename. */
static int claim_fresh(struct intake *in)
{
	struct store_claim *claims = calloc(in->nbatch, sizeof(*claims));
	struct item **who = calloc(in->nbatch, sizeof(*who));
	struct spool_folder **from = calloc(in->nbatch, sizeof(*from));
	int64_t *dropped = calloc(in->nbatch, sizeof(*dropped));
	size_t n = 0, nfrom = 0, ndrop = 0;
	char err[256];
	int rc = 0;

	if (!claims || !who || !from || !dropped) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < in->nbatch; i++) {
		struct item *it = &in->batch[i];
		if (it->c.claimed)
			continue;
		switch (spool_check_cand(in->sp, &it->c)) {
		case SPOOL_GONE:
			it->state = ITEM_SKIP;
			continue;
		case SPOOL_CHANGED:
			it->state = ITEM_WAIT;
			continue;
		case SPOOL_SAME:
			break;
		}
		claims[n].folder = spool_folder_name(it->c.folder);
		claims[n].name = it->c.name;
		claims[n].dev = it->c.look.dev;
		claims[n].ino = it->c.look.ino;
		claims[n].size = it->c.look.size;
		claims[n].mtime_ns = it->c.look.mtime_ns;
		who[n++] = it;
	}
	if (n == 0)
		goto out;
	if (store_claims_add(in->db, claims, n, err, sizeof(err)) != STORE_OK) {
		FAIL_LOG(in, "intake: cannot record %zu claims in the database (the files stay in "
		    "incoming/): %s", n, err);
		for (size_t k = 0; k < n; k++)
			who[k]->state = ITEM_LATER;
		rc = -1;
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		struct item *it = who[k];
		snprintf(it->claimed, sizeof(it->claimed), "%" PRId64, claims[k].id);
		if (spool_claim(in->sp, &it->c, it->claimed) != 0) {
			if (errno == ENOENT) {
				it->state = ITEM_SKIP;
			} else {
				FAIL_LOG(in, "intake: cannot claim incoming/%s%s%s (rename into claimed/): %s",
				    spool_folder_name(it->c.folder), *spool_folder_name(it->c.folder) ?
				    "/" : "", it->shown, strerror(errno));
				it->state = ITEM_LATER;
				rc = -1;
			}
			dropped[ndrop++] = claims[k].id;
			continue;
		}
		it->claim_id = claims[k].id;
		it->expect = it->c.look;
		it->have_expect = 1;
		it->state = ITEM_CLAIMED;
		from[nfrom++] = it->c.folder;
	}
	if (ndrop > 0 && store_claims_drop(in->db, dropped, ndrop, err, sizeof(err)) != STORE_OK)
		log_warn("intake: cannot forget %zu claims (forgotten at the next start): %s", ndrop, err);
	if (nfrom > 0 && spool_sync_claimed(in->sp, from, nfrom) != 0)
		FAIL_LOG(in, "intake: fsync after claiming: %s", strerror(errno));
out:
	free(claims);
	free(who);
	free(from);
	free(dropped);
	return rc;
}

/* A file found in claimed/: what the store knows of it decides how it is finished. */
static void recover_claimed(struct intake *in, struct item *it)
{
	struct store_claim_info ci;
	char err[256];

	snprintf(it->claimed, sizeof(it->claimed), "%s", it->c.name);
	if (store_claim_lookup(in->db, it->claimed, &ci, err, sizeof(err)) != STORE_OK) {
		FAIL_LOG(in, "intake: claimed/%s: %s", it->claimed, err);
		it->state = ITEM_LATER;
		return;
	}
	it->state = ITEM_CLAIMED;
	switch (ci.state) {
	case STORE_CLAIM_PENDING:
		it->claim_id = strtoll(it->claimed, NULL, 10);
		set_names(it, ci.folder, ci.name);
		it->expect.dev = ci.dev;
		it->expect.ino = ci.ino;
		it->expect.size = ci.size;
		it->expect.mtime_ns = ci.mtime_ns;
		it->have_expect = 1;
		if (ci.settle) {
			/* it changed once after it was judged complete: take it when it has settled */
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			int64_t age_ms = ((int64_t)now.tv_sec * 1000000000 + now.tv_nsec -
			    ci.mtime_ns) / 1000000;
			if (age_ms < (int64_t)in->settle_ms)
				it->state = ITEM_WAIT;
		}
		break;
	case STORE_CLAIM_RECORDED:
		/* recorded before a crash: its receipts and move are redone, its outcome kept */
		set_names(it, ci.folder, ci.name);
		break;
	case STORE_CLAIM_UNKNOWN: {
		/* a name of an earlier version ("<time>-<seq>@<folder>@<name>"), or unknown */
		const char *a = strchr(it->claimed, '@'), *b = a ? strchr(a + 1, '@') : NULL;
		char folder[NAME_MAX + 1] = "";
		if (a != NULL && b != NULL && (size_t)(b - a - 1) < sizeof(folder)) {
			memcpy(folder, a + 1, (size_t)(b - a - 1));
			folder[b - a - 1] = '\0';
			set_names(it, folder, b + 1);
		} else {
			set_names(it, "", it->claimed);
		}
		break;
	}
	}
}

/* The sender of a file in a person's folder: the login the folder is named after. */
static void resolve_sender(struct intake *in, struct item *it)
{
	struct passwd pw, *pwp = NULL;
	struct peer p;
	char buf[4096];

	if (it->origin != SPOOL_PERSON)
		return;
	if (getpwnam_r(it->folder + 1, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL)
		return;
	memset(&p, 0, sizeof(p));
	p.uid = pw.pw_uid;
	p.gid = pw.pw_gid;
	if (peer_resolve_roles(&in->wcfg, &p) != 0)
		return;
	snprintf(it->login, sizeof(it->login), "%s", pw.pw_name);
	it->sender.uid = pw.pw_uid;
	it->sender.login = it->login;
	it->sender.roles = p.roles;
	it->has_sender = 1;
	it->rgid = pw.pw_gid;   /* receipts/@login/: the person's own group reads them */
}

static const struct intake_kind *kind_of(const struct intake *in, xmlDocPtr doc)
{
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	const char *ns = root && root->ns ? (const char *)root->ns->href : NULL;

	for (size_t i = 0; ns != NULL && i < in->nkinds; i++)
		if (strcmp(in->kinds[i].ns, ns) == 0 &&
		    (in->kinds[i].root == NULL || strcmp(in->kinds[i].root, (const char *)root->name) == 0))
			return &in->kinds[i];
	return in->nkinds > 0 ? &in->kinds[0] : NULL;
}

/* Reads a claimed file and judges it. */
static void judge(struct intake *in, struct item *it)
{
	struct spool_read *rd = &it->rd;
	char err[256];
	xmlDocPtr doc = NULL;

	if (spool_read_claimed(in->sp, it->claimed, it->have_expect ? &it->expect : NULL,
	        in->max_size, rd) != 0 || rd->result == SPOOL_READ_GONE) {
		it->state = ITEM_SKIP;
		return;
	}
	if (rd->result == SPOOL_READ_CHANGED) {
		/* written to after it was judged complete (a writer kept it open): it must settle */
		if (it->claim_id > 0 && store_claim_resettle(in->db, it->claim_id, rd->look.dev,
		        rd->look.ino, rd->look.size, rd->look.mtime_ns, err, sizeof(err)) != STORE_OK)
			FAIL_LOG(in, "intake: claimed/%s: %s", it->claimed, err);
		else
			log_msg(LOG_LEVEL_DEBUG, "intake: claimed/%s (%s) changed after it was claimed; "
			    "taken when it has not changed for %u ms", it->claimed, it->shown, in->settle_ms);
		it->state = ITEM_WAIT;
		return;
	}
	it->owner = rd->uid;
	it->size = rd->look.size;
	clock_iso_utc(it->at, sizeof(it->at));
	resolve_sender(in, it);
	switch (rd->result) {
	case SPOOL_READ_NOT_FILE:
		item_reject(it, "R_NOT_FILE", "%s không phải là tệp thông thường (liên kết, thư mục hay "
		    "FIFO); hãy gửi chính tệp XML", it->shown);
		it->size = -1;
		break;
	case SPOOL_READ_LINKED:
		item_reject(it, "R_LINKED", "%s có nhiều liên kết cứng (hard link) nên vanthud không "
		    "đọc; hãy gửi một bản sao của tệp, không phải liên kết tới tệp khác", it->shown);
		it->size = -1;
		break;
	case SPOOL_READ_UNREADABLE:
		item_reject(it, "R_UNREADABLE", "vanthud không đọc được tệp: %s", strerror(rd->err));
		it->size = -1;
		break;
	case SPOOL_READ_TOO_LARGE:
		item_reject(it, "R_TOO_LARGE", "tệp lớn hơn mức cho phép %zu byte", in->max_size);
		snprintf(it->sha, sizeof(it->sha), "%s", rd->sha256);
		break;
	default:
		if (hash_sha256_hex(rd->data, rd->len, it->sha) != 0)
			it->sha[0] = '\0';
		if (xmlin_parse(rd->data, rd->len, it->shown, &doc, &it->errs) == 0) {
			struct intake_env env = { in->batch_cat, &in->wcfg };
			struct intake_input ii = {
				.data = rd->data, .len = rd->len, .folder = it->folder,
				.origin = it->origin, .shown = it->shown,
				.sender = it->has_sender ? &it->sender : NULL,
			};
			it->kind = kind_of(in, doc);
			if (it->kind != NULL &&
			    it->kind->check(&env, &ii, doc, &it->out, &it->errs) != 0 &&
			    it->errs.count == 0)
				item_reject(it, "R_NOT_XML", "không đọc được tệp như một báo cáo hay văn bản");
		}
		xmlFreeDoc(doc);
		break;
	}
	if (it->out.parsed == NULL && it->errs.count == 0)
		item_reject(it, "R_NOT_XML", "không đọc được tệp như một báo cáo hay văn bản");
	it->errors_json = receipt_errors_json(&it->errs);
	/* where its receipts go */
	it->rfolder[0] = '\0';
	if (it->origin == SPOOL_UNIT) {
		const struct unit *u = units_find(in->batch_cat->units, it->folder);
		snprintf(it->rfolder, sizeof(it->rfolder), "%s", it->folder);
		it->rgid = u ? u->gid : (gid_t)-1;
	} else if (it->origin == SPOOL_PERSON) {
		snprintf(it->rfolder, sizeof(it->rfolder), "%s", it->folder);
		if (!it->has_sender)
			it->rgid = (gid_t)-1;
	} else if (it->out.unit_code != NULL) {
		const struct unit *u = units_find(in->batch_cat->units, it->out.unit_code);
		/* an isolated unit's receipts folder only ever holds what came from its own folder */
		if (u != NULL && u->gid == (gid_t)-1)
			snprintf(it->rfolder, sizeof(it->rfolder), "%s", u->code);
		it->rgid = (gid_t)-1;
	}
	it->state = ITEM_READY;
}

static void fill_input(struct item *it)
{
	struct store_input *si = &it->in;

	memset(si, 0, sizeof(*si));
	si->claimed_name = it->claimed;
	si->claim_id = it->claim_id;
	si->source_name = it->shown;
	si->source_raw = it->raw;
	si->source_folder = it->folder;
	si->received_at = it->at;
	si->owner_uid = (int64_t)it->owner;
	si->sha256 = it->sha;
	si->size = it->size;
	si->original = it->rd.data;
	si->original_len = it->rd.len;
	si->unit_code = it->out.unit_code;
	si->round_id = it->out.round_id;
	si->errors_json = it->errors_json ? it->errors_json : "[]";
	if (it->kind != NULL && it->out.parsed != NULL && it->kind->record != NULL)
		it->kind->record(&it->out, si);
}

/* The Vietnam-time day "YYYY/MM/DD" of a UTC ISO time. */
static void day_of(const char *utc, char *out, size_t len)
{
	struct tm tm, local;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (strptime(utc, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		t = time(NULL);
	else
		t = timegm(&tm);
	t += 7 * 3600;
	gmtime_r(&t, &local);
	snprintf(out, len, "%04d/%02d/%02d", local.tm_year + 1900, local.tm_mon + 1, local.tm_mday);
}

/* Receipts of every recorded item, flushed; then the originals moved. */
static int finish(struct intake *in)
{
	struct spool_out *o = spool_out_new(in->sp);
	const struct units *units = in->batch_cat->units;
	int rc = 0;

	if (o == NULL)
		return -1;
	for (size_t i = 0; i < in->nbatch; i++) {
		struct item *it = &in->batch[i];
		struct receipt_info ri;
		const struct unit *u;
		char *xml, *txt;
		int r = 0;

		if (it->state != ITEM_DONE)
			continue;
		snprintf(it->final, sizeof(it->final), "%" PRId64 "-%s", it->in.id, it->stem);
		memset(&ri, 0, sizeof(ri));
		ri.id = it->in.id;
		ri.file = it->shown;
		ri.folder = it->folder;
		ri.received_at = it->in.at;
		ri.outcome = it->in.outcome;
		ri.sha256 = it->size >= 0 ? it->sha : NULL;
		ri.size = it->size;
		ri.unit_code = it->in.unit_code;
		u = ri.unit_code ? units_find(units, ri.unit_code) : NULL;
		ri.unit_name = u ? u->name : NULL;
		ri.round_id = it->in.round_id;
		ri.report_id = it->in.report_id;
		ri.supersedes = it->in.supersedes;
		ri.document_id = it->in.document_id;
		ri.round_opened = it->out.round_opened;
		ri.document_kind = it->out.doc_kind;
		ri.after_close = it->in.after_close;
		ri.late_deadline = it->in.late_deadline;
		ri.errors = &it->errs;
		xml = receipt_xml(&ri);
		txt = receipt_text(&ri);
		if (xml == NULL || txt == NULL) {
			rc = -1;
		} else {
			r = spool_out_receipt(o, it->rfolder, it->rgid, it->stem, it->in.id, "xml", xml);
			if (r == -2) {
				/* that folder cannot be used now: the receipt is not lost, it goes to the top */
				it->rfolder[0] = '\0';
				it->rgid = (gid_t)-1;
				r = spool_out_receipt(o, "", (gid_t)-1, it->stem, it->in.id, "xml", xml);
			}
			if (r == 0)
				r = spool_out_receipt(o, it->rfolder, it->rgid, it->stem, it->in.id, "txt",
				    txt);
			if (r == 0 && strcmp(it->in.outcome, "rejected") == 0)
				r = spool_out_reasons(o, it->final, txt);
			if (r != 0) {
				FAIL_LOG(in, "intake: cannot write the receipts of %s (receipt %" PRId64 "): %s",
				    it->shown, it->in.id, strerror(errno));
				rc = -1;
			}
		}
		free(xml);
		free(txt);
	}
	if (rc == 0 && spool_out_commit(o) != 0) {
		FAIL_LOG(in, "intake: cannot put the receipts in place (syncfs, rename): %s",
		    strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		goto out;
	/* only now do the originals leave claimed/: a crash before this redoes the receipts */
	for (size_t i = 0; i < in->nbatch; i++) {
		struct item *it = &in->batch[i];
		char day[16];
		int rejected;

		if (it->state != ITEM_DONE)
			continue;
		rejected = strcmp(it->in.outcome, "rejected") == 0;
		day_of(it->in.at, day, sizeof(day));
		if (spool_out_move(o, it->claimed, rejected ? NULL : day, it->final,
		        it->have_expect ? &it->expect : &it->rd.look, it->rd.data, it->rd.len) != 0) {
			FAIL_LOG(in, "intake: cannot move claimed/%s to %s/%s (rename): %s", it->claimed,
			    rejected ? "rejected" : "accepted", it->final, strerror(errno));
			rc = -1;
			continue;
		}
		it->state = ITEM_FINISHED;
	}
	if (spool_out_finish(o) != 0) {
		FAIL_LOG(in, "intake: fsync after moving the originals: %s", strerror(errno));
		rc = -1;
	}
out:
	spool_out_free(o);
	return rc;
}

static void run_batch(uv_work_t *w)
{
	struct intake *in = w->data;
	struct store_input *ins = NULL;
	struct item **todo = NULL;
	size_t nt = 0;
	char err[512];
	int failed = 0;
	time_t now = time(NULL);

	in->loud = in->failures == 0 || now >= in->quiet_until;
	if (in->first) {
		forget_stale_claims(in);
		in->first = 0;
	}
	for (size_t i = 0; i < in->nbatch; i++) {
		struct item *it = &in->batch[i];
		diag_init(&it->errs);
		it->rgid = (gid_t)-1;
		it->size = -1;
		if (it->c.claimed) {
			recover_claimed(in, it);
		} else {
			const char *f = spool_folder_name(it->c.folder);
			set_names(it, f, it->c.name);
			it->origin = spool_folder_origin(it->c.folder);
		}
	}
	if (claim_fresh(in) != 0)
		failed = 1;
	for (size_t i = 0; i < in->nbatch; i++)
		if (in->batch[i].state == ITEM_CLAIMED)
			judge(in, &in->batch[i]);
	ins = calloc(in->nbatch ? in->nbatch : 1, sizeof(*ins));
	todo = calloc(in->nbatch ? in->nbatch : 1, sizeof(*todo));
	if (ins == NULL || todo == NULL) {
		failed = 1;
		goto out;
	}
	for (size_t i = 0; i < in->nbatch; i++) {
		struct item *it = &in->batch[i];
		if (it->state != ITEM_READY)
			continue;
		fill_input(it);
		it->in.rounds_optional = in->wcfg.intake_rounds_optional;
		ins[nt] = it->in;
		todo[nt++] = it;
	}
	if (nt == 0)
		goto out;
	if (store_record_inputs(in->db, ins, nt, err, sizeof(err)) != STORE_OK) {
		FAIL_LOG(in, "intake: cannot record %zu inputs in the database (they stay in claimed/ "
		    "and are retried): %s", nt, err);
		for (size_t i = 0; i < nt; i++)
			free(ins[i].record_errors);
		failed = 1;
		goto out;
	}
	for (size_t i = 0; i < nt; i++) {
		struct item *it = todo[i];
		it->in = ins[i];
		if (it->in.record_error[0] != '\0' && strcmp(it->in.record_code, "R_ROUND") == 0)
			item_reject(it, "R_ROUND", "%s", it->in.record_error);
		else if (it->in.record_error[0] != '\0')
			item_reject(it, "R_RECORD", "không ghi được vào sổ: %s", it->in.record_error);
		it->state = ITEM_DONE;
	}
	if (finish(in) != 0) {
		FAIL_LOG(in, "intake: a batch was recorded but not all of its files were put in place; "
		    "they stay in claimed/ and are finished at the next scan");
		failed = 1;
	}
out:
	for (size_t i = 0; i < in->nbatch; i++)
		if (in->batch[i].state == ITEM_LATER)
			failed = 1;
	if (failed) {
		in->failures++;
		if (in->loud) {
			log_err("intake: %u failed attempt%s in a row; retrying at every scan, the errors "
			    "are shown again in %d s", in->failures, in->failures == 1 ? "" : "s",
			    FAIL_QUIET_S);
			in->quiet_until = now + FAIL_QUIET_S;
		}
	} else if (in->failures > 0 && nt > 0) {
		log_info("intake: working again after %u failed attempt%s", in->failures,
		    in->failures == 1 ? "" : "s");
		in->failures = 0;
	}
	free(ins);
	free(todo);
}

/* ---- the main thread ---- */

static void free_item(struct item *it)
{
	spool_cand_release(&it->c);
	spool_read_free(&it->rd);
	diag_free(&it->errs);
	if (it->kind != NULL && it->kind->release != NULL && it->out.parsed != NULL)
		it->kind->release(it->out.parsed);
	free(it->out.unit_code);
	free(it->out.round_id);
	free(it->errors_json);
	free(it->in.record_errors);
}

static void log_item(const struct item *it)
{
	const char *f = it->folder, *sep = *f ? "/" : "";

	if (strcmp(it->in.outcome, "rejected") == 0)
		log_info("intake: rejected %s%s%s (receipt %lld): %s %s", f, sep, it->shown,
		    (long long)it->in.id, it->errs.count ? it->errs.items[0].code : "",
		    it->errs.count ? it->errs.items[0].message : "");
	else if (it->out.round_opened)
		log_info("intake: %s%s%s: round %s %s (receipt %lld)", f, sep, it->shown,
		    it->in.round_id ? it->in.round_id : "?",
		    strcmp(it->in.outcome, "accepted") == 0 ? "opened" : "exists already",
		    (long long)it->in.id);
	else if (it->in.document_id > 0)
		log_info("intake: %s%s%s %s draft %lld (receipt %lld)", f, sep, it->shown,
		    strcmp(it->in.outcome, "duplicate") == 0 ? "duplicates" : "became",
		    (long long)it->in.document_id, (long long)it->in.id);
	else
		log_info("intake: %s %s%s%s from %s: report %lld (receipt %lld)", it->in.outcome, f, sep,
		    it->shown, it->in.unit_code ? it->in.unit_code : "?", (long long)it->in.report_id,
		    (long long)it->in.id);
}

static void maybe_done(struct intake *in);
static void next_batch(struct intake *in);

static void after_batch(uv_work_t *w, int status)
{
	struct intake *in = w->data;
	int retry = 0;

	(void)status;
	in->running = 0;
	for (size_t i = 0; i < in->nbatch; i++) {
		struct item *it = &in->batch[i];
		if (it->state == ITEM_FINISHED || it->state == ITEM_DONE) {
			if (!it->in.already && it->state == ITEM_FINISHED)
				log_item(it);
			retry |= it->state == ITEM_DONE;
		} else if (it->state == ITEM_WAIT) {
			spool_not_ready(in->sp, &it->c);
			retry = 1;
		} else if (it->state != ITEM_SKIP) {
			retry = 1;
		}
		free_item(it);
	}
	free(in->batch);
	in->batch = NULL;
	in->nbatch = 0;
	catalog_unref(in->batch_cat);
	in->batch_cat = NULL;
	if (retry)
		in->dirty = 1;
	if (in->on_batch && !in->stopping)
		in->on_batch(in->on_batch_arg);
	if (in->stopping) {
		maybe_done(in);
		return;
	}
	/* files announced while this batch ran go on now, not at the next rescan */
	if (in->qhead < in->nqueue || in->wanted) {
		in->wanted = 0;
		next_batch(in);
	}
}

static void clear_queue(struct intake *in)
{
	for (size_t i = in->qhead; i < in->nqueue; i++)
		spool_cand_release(&in->queue[i]);
	in->nqueue = in->qhead = 0;
}

/* Copies what the worker reads of the configuration, where a reload cannot race it. */
static int copy_config(struct intake *in)
{
	if (config_copy_identity(&in->wcfg, in->cfg) != 0)
		return -1;
	for (int r = 0; r < ROLE_COUNT; r++) {
		free(in->wcfg.role_group[r]);
		in->wcfg.role_group[r] = strdup(in->cfg->role_group[r] ? in->cfg->role_group[r] : "");
		if (in->wcfg.role_group[r] == NULL)
			return -1;
	}
	free(in->wcfg.round_drafter);
	in->wcfg.round_drafter = strdup(in->cfg->round_drafter ? in->cfg->round_drafter : "");
	if (in->wcfg.round_drafter == NULL)
		return -1;
	in->max_size = in->cfg->intake_max_size;
	in->settle_ms = in->cfg->intake_settle;
	in->wcfg.intake_rounds_optional = in->cfg->intake_rounds_optional;
	return 0;
}

static void next_batch(struct intake *in)
{
	size_t n;

	if (in->running)
		in->wanted = 1;
	if (in->running || in->stopping)
		return;
	if (in->qhead >= in->nqueue) {
		clear_queue(in);
		if (!in->dirty)
			return;
		in->dirty = 0;
		/* a full queue leaves the rest for the next round: it is still dirty */
		if (spool_scan(in->sp, in->queue, QUEUE_CAP, &in->nqueue) != 0)
			in->dirty = 1;
		if (in->nqueue == 0)
			return;
	}
	if (copy_config(in) != 0) {
		log_err("intake: out of memory copying the configuration; the batch waits");
		in->dirty = 1;
		return;
	}
	n = in->nqueue - in->qhead;
	if (n > in->cfg->intake_batch)
		n = in->cfg->intake_batch;
	in->batch = calloc(n, sizeof(*in->batch));
	if (in->batch == NULL) {
		in->dirty = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		in->batch[i].c = in->queue[in->qhead + i];
		memset(&in->queue[in->qhead + i], 0, sizeof(in->queue[0]));
	}
	in->qhead += n;
	in->nbatch = n;
	in->batch_cat = catalog_ref(in->cat);
	in->work.data = in;
	in->running = 1;
	if (uv_queue_work(in->loop, &in->work, run_batch, after_batch) != 0) {
		in->running = 0;
		log_err("intake: cannot start a batch");
		for (size_t i = 0; i < n; i++)
			free_item(&in->batch[i]);
		free(in->batch);
		in->batch = NULL;
		in->nbatch = 0;
		catalog_unref(in->batch_cat);
		in->batch_cat = NULL;
		in->dirty = 1;
	}
}

static void on_kick(uv_timer_t *t)
{
	next_batch(t->data);
}

static void on_change(void *arg)
{
	struct intake *in = arg;

	in->dirty = 1;
	if (!in->stopping && !uv_is_active((uv_handle_t *)&in->kick))
		uv_timer_start(&in->kick, on_kick, 10, 0);
}

static void on_rescan(uv_timer_t *t)
{
	struct intake *in = t->data;

	in->dirty = 1;
	next_batch(in);
}

int intake_start(uv_loop_t *loop, const struct config *cfg, struct catalog *cat,
    struct spool *sp, struct intake **out, char *err, size_t errlen)
{
	struct intake *in = calloc(1, sizeof(*in));

	*out = NULL;
	if (in != NULL)
		in->queue = calloc(QUEUE_CAP, sizeof(*in->queue));
	if (in == NULL || in->queue == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (store_open_worker(cfg->database, &in->db, err, errlen) != STORE_OK)
		goto fail;
	in->loop = loop;
	in->cfg = cfg;
	in->cat = catalog_ref(cat);
	in->sp = sp;
	in->first = 1;
	uv_timer_init(loop, &in->rescan);
	uv_timer_init(loop, &in->kick);
	in->rescan.data = in->kick.data = in;
	in->open_handles = 2;
	spool_on_change(sp, on_change, in);
	uv_timer_start(&in->rescan, on_rescan, cfg->intake_rescan, cfg->intake_rescan);
	in->dirty = 1;
	/* the first batch starts once the kinds are added: on the loop's first turn */
	uv_timer_start(&in->kick, on_kick, 0, 0);
	*out = in;
	return 0;
fail:
	if (in != NULL) {
		free(in->queue);
		free(in);
	}
	spool_close(sp, NULL, NULL);
	return -1;
}

int intake_add_kind(struct intake *in, const struct intake_kind *k)
{
	if (in->nkinds >= MAX_KINDS)
		return -1;
	in->kinds[in->nkinds++] = *k;
	return 0;
}

void intake_on_batch(struct intake *in, void (*cb)(void *arg), void *arg)
{
	in->on_batch = cb;
	in->on_batch_arg = arg;
}

void intake_set_config(struct intake *in, const struct config *cfg)
{
	in->cfg = cfg;
	spool_set_settle(in->sp, cfg->intake_settle);
	uv_timer_set_repeat(&in->rescan, cfg->intake_rescan);
}

void intake_set_catalog(struct intake *in, struct catalog *cat)
{
	catalog_unref(in->cat);
	in->cat = catalog_ref(cat);
}

static void on_spool_closed(void *arg)
{
	struct intake *in = arg;

	in->open_handles--;
	maybe_done(in);
}

static void on_closed(uv_handle_t *h)
{
	struct intake *in = h->data;

	in->open_handles--;
	maybe_done(in);
}

static void maybe_done(struct intake *in)
{
	void (*done)(void *);
	void *arg;

	if (!in->stopping || in->running || in->open_handles > 0)
		return;
	if (in->sp != NULL) {
		/* the queue holds references to the spool's folders: release them first */
		clear_queue(in);
		struct spool *sp = in->sp;
		in->open_handles++;
		in->sp = NULL;
		spool_close(sp, on_spool_closed, in);
		return;
	}
	done = in->done;
	arg = in->done_arg;
	clear_queue(in);
	free(in->queue);
	catalog_unref(in->cat);
	for (int r = 0; r < ROLE_COUNT; r++)
		free(in->wcfg.role_group[r]);
	free(in->wcfg.round_drafter);
	config_free_identity(&in->wcfg);
	store_close(in->db);
	free(in);
	if (done)
		done(arg);
}

void intake_stop(struct intake *in, void (*done)(void *arg), void *arg)
{
	in->stopping = 1;
	in->done = done;
	in->done_arg = arg;
	uv_close((uv_handle_t *)&in->rescan, on_closed);
	uv_close((uv_handle_t *)&in->kick, on_closed);
	maybe_done(in);
}
