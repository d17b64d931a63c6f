/*
 * spool.c: the drop folders. Watches incoming/ and one level of unit
 * sub-folders (libuv events are hints: a scan at start, a rescan on a timer),
 * decides when a file is complete, claims it by rename into claimed/, has it
 * parsed, validated and checked (xmlin, report), records a batch of outcomes
 * in one transaction (store), writes each unit's receipts, and moves the
 * original to accepted/YYYY/MM/DD/ or rejected/. The heavy part of a batch
 * runs on libuv's worker pool with a store connection of its own, so the
 * control socket keeps answering. A crash at any point leaves every input in
 * incoming/ or claimed/ (processed again, and recorded once: the claimed
 * name is unique) or recorded with its receipt.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "hash.h"
#include "log.h"
#include "peer.h"
#include "receipt.h"
#include "report.h"
#include "rounds.h"
#include "xmlin.h"

enum cand_kind { CAND_FILE, CAND_NOT_FILE, CAND_CLAIMED };
enum item_state { ITEM_NOT_READY, ITEM_GONE, ITEM_CLAIMED, ITEM_DONE, ITEM_LATER };

/* A file seen by a scan, to be tried by the worker. */
struct cand {
	enum cand_kind kind;
	char *folder;   /* owned: "" or the unit sub-folder */
	char *name;     /* owned: the entry's name (for CAND_CLAIMED, the claimed name) */
};

/* One input as the worker handles it; everything owned. */
struct item {
	struct cand c;
	enum item_state state;
	off_t size;
	struct timespec ctime;
	char claimed[NAME_MAX + 1];
	char *data;
	size_t len;
	uid_t owner;
	struct diag_list errs;
	struct report *report;
	struct wf_input *doc_in; /* a draft dropped by a drafter, or a meeting's conclusions */
	struct rounds_input *round_in; /* a reporting round */
	const char *doc_kind;   /* its kind's label (borrowed from the catalog) */
	char *rguess_unit;      /* unit code for a rejected input's receipt, when known */
	char *rguess_round;
	char *errors_json;
	char sha[HASH_HEX_LEN + 1];
	char at[32];
	struct store_input in;
};

/* A remembered name: a file not ready yet, or an entry already logged as skipped. */
struct seen {
	struct seen *next;
	off_t size;
	struct timespec ctime;
	unsigned gen;
	int logged;
	char key[];   /* "folder/name" */
};

#define SEEN_BUCKETS 4096
#define QUEUE_CAP 4096
/* While a fault lasts (a full disk), each retry's errors go to debug, not error. */
#define FAIL_QUIET_S 60
#define FAIL_LOG(sp, ...) log_msg((sp)->loud ? LOG_LEVEL_ERR : LOG_LEVEL_DEBUG, __VA_ARGS__)

struct watch {
	uv_fs_event_t ev;
	struct spool *sp;
	struct watch *next;
	char folder[NAME_MAX + 1];
};

struct spool {
	uv_loop_t *loop;                /* borrowed */
	const struct config *cfg;       /* borrowed */
	struct spool_catalog *cat;      /* owned */
	struct spool_catalog *next_cat; /* owned: waits for the batch in flight */
	struct store *db;               /* owned; used by the worker thread only */
	uv_timer_t rescan, kick;
	struct watch *watches;          /* owned list */
	uv_work_t work;
	int running;                    /* a batch is on the worker pool */
	int wanted;                     /* a scan was asked for (event, timer) while one ran */
	int dirty;                      /* something may have changed since the last scan */
	int stopping;
	int open_handles;
	unsigned gen;
	uint64_t seq;
	struct cand *queue;             /* owned, from the last scan */
	size_t nqueue, qhead;
	struct item *batch;             /* owned: the batch in flight */
	size_t nbatch;
	/* worker only: batches that failed in a row (full disk, I/O error), and log pacing */
	unsigned failures;
	time_t quiet_until;
	int loud;                       /* this batch logs its errors as errors */
	struct seen *seen[SEEN_BUCKETS];
	void (*done)(void *arg);
	void *done_arg;
	void (*on_batch)(void *arg);    /* borrowed callback, main thread */
	void *on_batch_arg;
	/* settings copied for the worker, so a reload never races it */
	unsigned max_size, settle_ms;
	struct config roles_cfg;        /* owned: role_group[], round_drafter, bodies and users */
	char root[1024];                /* the spool's real path; every path is built under it */
};

/* ---- the catalog ---- */

const struct render_template *spool_template(const struct spool_catalog *cat, const char *name)
{
	for (size_t i = 0; cat && i < cat->ntemplates; i++)
		if (strcmp(cat->templates[i].name, name) == 0)
			return cat->templates[i].tpl;
	return NULL;
}

/* Every NAME.docx of the templates folder, each parsed once here. */
static int load_templates(const char *dir, struct spool_catalog *cat, struct diag_list *errs)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int rc = 0;

	if (d == NULL) {
		diag_add(errs, dir, 0, "cannot read the templates folder: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char path[PATH_MAX];
		struct render_template *t = NULL;
		if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".docx") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (render_load(path, &t, errs) != 0) {
			rc = -1;
			continue;
		}
		struct spool_template *nt = realloc(cat->templates,
		    (cat->ntemplates + 1) * sizeof(*nt));
		if (nt == NULL) {
			render_free(t);
			rc = -1;
			continue;
		}
		cat->templates = nt;
		nt[cat->ntemplates].name = strndup(de->d_name, n - 5);
		nt[cat->ntemplates].tpl = t;
		cat->ntemplates++;
	}
	closedir(d);
	return rc;
}

int spool_catalog_load(const struct config *cfg, struct spool_catalog **out, struct diag_list *errs)
{
	char units_xml[PATH_MAX], units_xsd[PATH_MAX], report_xsd[PATH_MAX];
	struct spool_catalog *cat = calloc(1, sizeof(*cat));
	int rc = -1;

	*out = NULL;
	if (cat == NULL)
		return -1;
	snprintf(units_xml, sizeof(units_xml), "%s/units.xml", cfg->workflows);
	snprintf(units_xsd, sizeof(units_xsd), "%s/units.xsd", cfg->workflows);
	snprintf(report_xsd, sizeof(report_xsd), "%s/bao-cao/schema.xsd", cfg->workflows);
	if (units_load(units_xml, units_xsd, &cat->units, errs) == 0)
		rc = 0;
	if (xmlin_schema_load(report_xsd, &cat->report_schema, errs) != 0)
		rc = -1;
	if (workflows_load(cfg->workflows, &cat->wf, errs) != 0)
		rc = -1;
	if (load_templates(cfg->templates, cat, errs) != 0)
		rc = -1;
	snprintf(report_xsd, sizeof(report_xsd), "%s/dot-bao-cao/schema.xsd", cfg->workflows);
	if (xmlin_schema_load(report_xsd, &cat->round_schema, errs) != 0)
		rc = -1;
	snprintf(report_xsd, sizeof(report_xsd), "%s/calendar", cfg->workflows);
	if (calendar_load(report_xsd, &cat->cal, errs) != 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < cat->wf->nkinds; i++) {
		const struct wf_kind *k = &cat->wf->kinds[i];
		if (spool_template(cat, k->template_name) == NULL) {
			diag_add(errs, cfg->templates, 0, "kind \"%s\" needs the template %s.docx, which "
			    "is not there (or did not load)", k->kind, k->template_name);
			rc = -1;
		}
		if (k->party_template && spool_template(cat, k->party_template) == NULL) {
			diag_add(errs, cfg->templates, 0, "kind \"%s\" needs the Party template %s.docx, "
			    "which is not there (or did not load)", k->kind, k->party_template);
			rc = -1;
		}
	}
	if (rc != 0) {
		spool_catalog_free(cat);
		return -1;
	}
	*out = cat;
	return 0;
}

void spool_catalog_free(struct spool_catalog *cat)
{
	if (cat == NULL)
		return;
	units_free(cat->units);
	xmlin_schema_free(cat->report_schema);
	workflows_free(cat->wf);
	for (size_t i = 0; i < cat->ntemplates; i++) {
		free(cat->templates[i].name);
		render_free(cat->templates[i].tpl);
	}
	free(cat->templates);
	xmlin_schema_free(cat->round_schema);
	calendar_free(cat->cal);
	free(cat);
}

/* ---- names ---- */

static int skipped_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '.' || (n >= 5 && strcmp(name + n - 5, ".part") == 0) ||
	    (n >= 4 && strcmp(name + n - 4, ".tmp") == 0) || name[n - 1] == '~';
}

static int xml_name(const char *name)
{
	size_t n = strlen(name);

	return n >= 4 && strcasecmp(name + n - 4, ".xml") == 0;
}

static int unit_code_name(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '-' || s[n] == '_'))
			return 0;
	return n > 0 && n <= 64;
}

/* The claimed name: unique, and carrying where the file came from. */
static void claim_name(struct spool *sp, const struct cand *c, char *out, size_t len)
{
	struct timespec ts;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(out, len, "%012llx%05x-%04x@%s@",
	    (unsigned long long)ts.tv_sec, (unsigned)(ts.tv_nsec / 10000),
	    (unsigned)(sp->seq++ & 0xffff), c->folder);
	if (n < 0 || (size_t)n >= len)
		return;
	/* Keep the end of a very long name (its extension) within NAME_MAX. */
	size_t room = len - 1 - (size_t)n, nl = strlen(c->name);
	const char *tail = nl > room ? c->name + (nl - room) : c->name;
	snprintf(out + n, len - (size_t)n, "%s", tail);
}

/* Splits a claimed name back into folder and original name. */
static int parse_claimed(const char *claimed, char **folder, char **name)
{
	const char *a = strchr(claimed, '@'), *b = a ? strchr(a + 1, '@') : NULL;

	if (a == NULL || b == NULL)
		return -1;
	*folder = strndup(a + 1, (size_t)(b - a - 1));
	*name = strdup(b + 1);
	return *folder && *name ? 0 : -1;
}

/* ---- the seen table (main thread only) ---- */

static unsigned hash_key(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % SEEN_BUCKETS;
}

static struct seen *seen_get(struct spool *sp, const char *folder, const char *name, int create)
{
	char key[2 * NAME_MAX + 2];
	struct seen *e;
	unsigned h;

	snprintf(key, sizeof(key), "%s/%s", folder, name);
	h = hash_key(key);
	for (e = sp->seen[h]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	if (!create)
		return NULL;
	e = calloc(1, sizeof(*e) + strlen(key) + 1);
	if (e == NULL)
		return NULL;
	strcpy(e->key, key);
	e->size = -1;
	e->next = sp->seen[h];
	sp->seen[h] = e;
	return e;
}

/* Forgets names not seen in the last scan. */
static void seen_sweep(struct spool *sp)
{
	for (size_t i = 0; i < SEEN_BUCKETS; i++) {
		struct seen **pp = &sp->seen[i];
		while (*pp) {
			if ((*pp)->gen != sp->gen) {
				struct seen *dead = *pp;
				*pp = dead->next;
				free(dead);
			} else {
				pp = &(*pp)->next;
			}
		}
	}
}

static void log_skip_once(struct spool *sp, const char *folder, const char *name, const char *why)
{
	struct seen *e = seen_get(sp, folder, name, 1);

	if (e == NULL)
		return;
	e->gen = sp->gen;
	if (e->logged)
		return;
	e->logged = 1;
	log_info("intake: ignoring %s%s%s: %s", folder, *folder ? "/" : "", name, why);
}

/* ---- scanning (main thread) ---- */

static void on_fs_event(uv_fs_event_t *h, const char *filename, int events, int status);
static void schedule(struct spool *sp, uint64_t delay_ms);

static void watch_folder(struct spool *sp, const char *folder)
{
	char path[PATH_MAX];
	struct watch *w;

	for (w = sp->watches; w; w = w->next)
		if (strcmp(w->folder, folder) == 0)
			return;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return;
	w->sp = sp;
	snprintf(w->folder, sizeof(w->folder), "%s", folder);
	snprintf(path, sizeof(path), "%s/incoming%s%s", sp->root, *folder ? "/" : "", folder);
	uv_fs_event_init(sp->loop, &w->ev);
	w->ev.data = w;
	sp->open_handles++;
	if (uv_fs_event_start(&w->ev, on_fs_event, path, 0) != 0)
		log_warn("intake: cannot watch %s; relying on rescans", path);
	w->next = sp->watches;
	sp->watches = w;
}

static int queue_push(struct spool *sp, enum cand_kind kind, const char *folder, const char *name)
{
	struct cand *c;

	if (sp->nqueue >= QUEUE_CAP)
		return -1;
	c = &sp->queue[sp->nqueue];
	c->kind = kind;
	c->folder = strdup(folder);
	c->name = strdup(name);
	if (c->folder == NULL || c->name == NULL) {
		free(c->folder);
		free(c->name);
		return -1;
	}
	sp->nqueue++;
	return 0;
}

static int settled(const struct spool *sp, const struct timespec *ct)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_REALTIME, &now);
	ms = (long long)(now.tv_sec - ct->tv_sec) * 1000 + (now.tv_nsec - ct->tv_nsec) / 1000000;
	return ms >= (long long)sp->settle_ms;
}

static void scan_folder(struct spool *sp, const char *folder, int *full)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int top = *folder == '\0';

	snprintf(path, sizeof(path), "%s/incoming%s%s", sp->root, top ? "" : "/", folder);
	dir = opendir(path);
	if (dir == NULL) {
		log_err("intake: cannot read %s: %s", path, strerror(errno));
		return;
	}
	while ((de = readdir(dir)) != NULL && !*full) {
		const char *name = de->d_name;
		struct stat st;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (skipped_name(name)) {
			log_skip_once(sp, folder, name, "hidden or temporary name (.*, *.part, *.tmp, *~)");
			continue;
		}
		if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			struct seen *e = seen_get(sp, folder, name, 0);
			if (e != NULL) {
				e->gen = sp->gen;
				/* not ready last time and unchanged since: wait for it to settle */
				if (e->size == st.st_size && e->ctime.tv_sec == st.st_ctim.tv_sec &&
				    e->ctime.tv_nsec == st.st_ctim.tv_nsec && !settled(sp, &st.st_ctim))
					continue;
			}
			if (queue_push(sp, CAND_FILE, folder, name) != 0)
				*full = 1;
		} else if (S_ISDIR(st.st_mode) && top && unit_code_name(name)) {
			watch_folder(sp, name);
			scan_folder(sp, name, full);
		} else if (xml_name(name)) {
			if (queue_push(sp, CAND_NOT_FILE, folder, name) != 0)
				*full = 1;
		} else {
			log_skip_once(sp, folder, name, S_ISDIR(st.st_mode) ?
			    "a folder that is not a unit's (unit codes are letters, digits, - and _)" :
			    "not a regular file");
		}
	}
	closedir(dir);
}

static void scan_claimed(struct spool *sp, int *full)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/claimed", sp->root);
	dir = opendir(path);
	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL && !*full) {
		if (de->d_name[0] == '.' || strchr(de->d_name, '@') == NULL)
			continue;
		if (queue_push(sp, CAND_CLAIMED, "", de->d_name) != 0)
			*full = 1;
	}
	closedir(dir);
}

static void scan(struct spool *sp)
{
	int full = 0;

	sp->dirty = 0;
	sp->gen++;
	sp->nqueue = sp->qhead = 0;
	scan_claimed(sp, &full);
	scan_folder(sp, "", &full);
	if (full)
		sp->dirty = 1;  /* more waiting than a queue holds: scan again after this lot */
	else
		seen_sweep(sp);
}

/* ---- the worker ---- */

static void item_reject(struct item *it, const char *code, const char *fmt, const char *arg)
	__attribute__((format(printf, 3, 0)));

static void item_reject(struct item *it, const char *code, const char *fmt, const char *arg)
{
	char msg[512];

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(msg, sizeof(msg), fmt, arg);
#pragma GCC diagnostic pop
	diag_add_at(&it->errs, it->c.name, 0, 0, code, "%s", msg);
}

/* Reads the whole file behind fd into it->data. */
static int read_all(int fd, struct item *it, size_t size)
{
	size_t got = 0;

	it->data = malloc(size + 1);
	if (it->data == NULL)
		return -1;
	while (got < size) {
		ssize_t n = read(fd, it->data + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	it->len = got;
	return 0;
}

/* SHA-256 of a file too large to keep in memory, read in pieces. */
static void hash_fd(int fd, char hex[HASH_HEX_LEN + 1])
{
	struct hash_ctx *ctx = hash_new();
	char buf[65536];
	ssize_t n;

	if (ctx == NULL)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (hash_update(ctx, buf, (size_t)n) != 0)
			break;
	if (n == 0)
		hash_final_hex(ctx, hex);
	else
		hash_free(ctx);
}

/* Tries one candidate: sets state, and for a claimed input its data and errors. */
static void prepare(struct spool *sp, struct item *it, xmlDocPtr *doc)
{
	char src[PATH_MAX], dst[PATH_MAX];
	struct stat st, st2;
	int fd = -1;

	*doc = NULL;
	if (it->c.kind == CAND_CLAIMED) {
		char *folder = NULL, *name = NULL;
		snprintf(it->claimed, sizeof(it->claimed), "%s", it->c.name);
		if (parse_claimed(it->claimed, &folder, &name) != 0) {
			free(folder);
			free(name);
			it->state = ITEM_GONE;
			return;
		}
		free(it->c.folder);
		free(it->c.name);
		it->c.folder = folder;
		it->c.name = name;
		snprintf(src, sizeof(src), "%s/claimed/%s", sp->root, it->claimed);
		fd = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			it->state = ITEM_GONE;
			return;
		}
		it->state = ITEM_CLAIMED;
		if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			if (fd < 0 && errno != ELOOP && errno != ENXIO)
				item_reject(it, "R_UNREADABLE", "không đọc được tệp: %s", strerror(errno));
			else
				item_reject(it, "R_NOT_FILE", "%s không phải là tệp thông thường (liên kết, "
				    "thư mục hay FIFO); hãy gửi chính tệp XML", it->c.name);
			if (fd >= 0)
				close(fd);
			return;
		}
		it->owner = st.st_uid;
		it->size = st.st_size;
		if ((size_t)st.st_size > sp->max_size) {
			item_reject(it, "R_TOO_LARGE", "tệp lớn hơn mức cho phép%s", "");
			hash_fd(fd, it->sha);
		}
		else if (read_all(fd, it, (size_t)st.st_size) != 0)
			item_reject(it, "R_UNREADABLE", "không đọc được tệp: %s", strerror(errno));
		else if (xmlin_parse(it->data, it->len, it->c.name, doc, &it->errs) != 0)
			*doc = NULL;
		close(fd);
		return;
	}

	snprintf(src, sizeof(src), "%s/incoming%s%s/%s", sp->root, *it->c.folder ? "/" : "",
	    it->c.folder, it->c.name);
	if (it->c.kind == CAND_FILE) {
		fd = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			it->state = ITEM_GONE;
			return;
		}
		if (fd < 0 && (errno == ELOOP || errno == ENXIO)) {
			it->c.kind = CAND_NOT_FILE;
		} else if (fd < 0) {
			/* unreadable: wait for it to settle (a copy may still be setting modes) */
			int err = errno;
			if (lstat(src, &st) != 0) {
				it->state = ITEM_GONE;
				return;
			}
			it->size = st.st_size;
			it->ctime = st.st_ctim;
			if (!settled(sp, &st.st_ctim)) {
				it->state = ITEM_NOT_READY;
				return;
			}
			it->owner = st.st_uid;
			item_reject(it, "R_UNREADABLE", "vanthud không đọc được tệp: %s", strerror(err));
		} else {
			if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
				close(fd);
				it->c.kind = CAND_NOT_FILE;
				goto claim;
			}
			it->size = st.st_size;
			it->ctime = st.st_ctim;
			it->owner = st.st_uid;
			int ready = settled(sp, &st.st_ctim);
			if ((size_t)st.st_size > sp->max_size) {
				if (!ready) {
					close(fd);
					it->state = ITEM_NOT_READY;
					return;
				}
				char cap[32];
				snprintf(cap, sizeof(cap), "%u", sp->max_size);
				item_reject(it, "R_TOO_LARGE", "tệp lớn hơn mức cho phép %s byte", cap);
				hash_fd(fd, it->sha);
			} else if (read_all(fd, it, (size_t)st.st_size) != 0) {
				item_reject(it, "R_UNREADABLE", "không đọc được tệp: %s", strerror(errno));
			} else if (fstat(fd, &st2) != 0 || st2.st_size != st.st_size ||
			    st2.st_ctim.tv_sec != st.st_ctim.tv_sec ||
			    st2.st_ctim.tv_nsec != st.st_ctim.tv_nsec || it->len != (size_t)st.st_size) {
				/* still being written */
				close(fd);
				it->ctime = st2.st_ctim;
				it->size = st2.st_size;
				it->state = ITEM_NOT_READY;
				return;
			} else if (xmlin_parse(it->data, it->len, it->c.name, doc, &it->errs) != 0 &&
			    !ready) {
				/* not a complete document yet: wait until it is, or has settled */
				diag_free(&it->errs);
				diag_init(&it->errs);
				close(fd);
				it->state = ITEM_NOT_READY;
				return;
			}
			close(fd);
		}
	}
claim:
	if (it->c.kind == CAND_NOT_FILE) {
		if (lstat(src, &st) != 0) {
			it->state = ITEM_GONE;
			return;
		}
		it->owner = st.st_uid;
		item_reject(it, "R_NOT_FILE", "%s không phải là tệp thông thường (liên kết, thư mục hay "
		    "FIFO); hãy gửi chính tệp XML", it->c.name);
	}
	claim_name(sp, &it->c, it->claimed, sizeof(it->claimed));
	snprintf(dst, sizeof(dst), "%s/claimed/%s", sp->root, it->claimed);
	if (rename(src, dst) != 0) {
		xmlFreeDoc(*doc);
		*doc = NULL;
		it->state = errno == ENOENT ? ITEM_GONE : ITEM_LATER;
		if (errno != ENOENT)
			FAIL_LOG(sp, "intake: cannot claim %s (rename into claimed/): %s", src,
			    strerror(errno));
		return;
	}
	if (it->c.kind == CAND_FILE && it->data != NULL &&
	    (lstat(dst, &st2) != 0 || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev)) {
		/* replaced between reading and claiming: the next scan reads it from claimed/ */
		xmlFreeDoc(*doc);
		*doc = NULL;
		it->state = ITEM_LATER;
		return;
	}
	it->state = ITEM_CLAIMED;
}

/* Unit code from a document that failed later checks, for where its receipt goes. */
static char *guess_attr(xmlDocPtr doc, const char *elem, const char *attr)
{
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;

	for (xmlNodePtr c = root ? root->children : NULL; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, elem) == 0) {
			xmlChar *v = xmlGetProp(c, (const xmlChar *)attr);
			char *s = v && unit_code_name((const char *)v) ? strdup((const char *)v) : NULL;
			xmlFree(v);
			return s;
		}
	}
	return NULL;
}

/* A document input dropped in the spool becomes a draft of its sender, if a drafter. */
static void evaluate_document(struct spool *sp, struct item *it, xmlNodePtr root)
{
	const struct wf_kind *k = workflows_by_root(sp->cat->wf, (const char *)root->name);
	struct peer p;
	struct wf_actor a;

	if (k == NULL) {
		diag_add_at(&it->errs, it->c.name, (int)xmlGetLineNo(root), 0, "R_SCHEMA",
		    "không có loại văn bản <%s>", (const char *)root->name);
		return;
	}
	memset(&p, 0, sizeof(p));
	p.uid = it->owner;
	peer_resolve_roles(&sp->roles_cfg, &p);
	if (!(p.roles & ROLE_DRAFTER)) {
		diag_add_at(&it->errs, it->c.name, 0, 0, "R_DENIED",
		    "người gửi tệp (%s) không phải chuyên viên soạn thảo; chỉ chuyên viên mới tạo được "
		    "dự thảo văn bản", p.login);
		return;
	}
	a.uid = (int64_t)p.uid;
	a.login = p.login;
	a.roles = p.roles;
	if (workflow_input_read(k, &sp->roles_cfg, sp->cat->units, it->data, it->len, &a, &it->doc_in, &it->errs) == 0)
		it->doc_kind = k->label;
}

/* A reporting round, or a meeting's conclusions, dropped by someone who may open one. */
static void evaluate_round(struct spool *sp, struct item *it, xmlNodePtr root)
{
	struct peer p;
	struct wf_actor a;
	char msg[512];

	memset(&p, 0, sizeof(p));
	p.uid = it->owner;
	peer_resolve_roles(&sp->roles_cfg, &p);
	a.uid = (int64_t)p.uid;
	a.login = p.login;
	a.roles = p.roles;
	if (!(p.roles & (ROLE_DRAFTER | ROLE_CLERK | ROLE_ADMIN))) {
		diag_add_at(&it->errs, it->c.name, 0, 0, "R_DENIED",
		    "người gửi tệp (%s) không phải chuyên viên hay văn thư; không được mở đợt báo cáo "
		    "hay gửi kết luận cuộc họp", p.login);
		return;
	}
	if (strcmp((const char *)root->name, "meeting") == 0) {
		if (rounds_meeting_prepare(sp->cat, &sp->roles_cfg, it->data, it->len, &it->doc_in,
		        &it->errs, msg, sizeof(msg)) == WF_OK)
			it->doc_kind = "Thông báo";
	} else if (rounds_prepare(sp->cat, &sp->roles_cfg, it->data, it->len, &a, &it->round_in, &it->errs, msg,
	               sizeof(msg)) != WF_OK && it->errs.count == 0) {
		diag_add_at(&it->errs, it->c.name, 0, 0, "R_SCHEMA", "%s", msg);
	}
}

static void evaluate(struct spool *sp, struct item *it, xmlDocPtr doc)
{
	const struct spool_catalog *cat = sp->cat;

	/* the daemon's clock: a report's time decides whether it was on time */
	clock_iso_utc(it->at, sizeof(it->at));
	if (it->sha[0] == '\0' &&
	    hash_sha256_hex(it->data ? it->data : "", it->data ? it->len : 0, it->sha) != 0)
		snprintf(it->sha, sizeof(it->sha), "%s", "");
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (root != NULL && it->errs.count == 0 && root->ns != NULL &&
	    strcmp((const char *)root->ns->href, WF_DOC_NS) == 0) {
		evaluate_document(sp, it, root);
	} else if (root != NULL && it->errs.count == 0 && root->ns != NULL &&
	    strcmp((const char *)root->ns->href, "urn:vanthu:round:1") == 0) {
		evaluate_round(sp, it, root);
	} else if (doc != NULL && it->errs.count == 0 &&
	    xmlin_validate(cat->report_schema, doc, it->c.name, &it->errs) == 0) {
		report_from_doc(doc, cat->units, it->c.folder, it->c.name, &it->report, &it->errs);
	}
	if (it->report == NULL && it->doc_in == NULL && it->round_in == NULL) {
		if (it->errs.count == 0)
			item_reject(it, "R_NOT_XML", "không đọc được tệp như một báo cáo%s", "");
		it->rguess_unit = guess_attr(doc, "unit", "code");
		it->rguess_round = guess_attr(doc, "round", "id");
	}
	it->errors_json = receipt_errors_json(&it->errs);
}

/* Where a receipt goes: the unit's folder, else the report's known unit, else the top. */
static const char *receipt_folder(const struct spool *sp, const struct item *it)
{
	const char *u = it->report ? it->report->unit_code : it->rguess_unit;

	if (*it->c.folder)
		return it->c.folder;
	if (u != NULL && units_find(sp->cat->units, u) != NULL)
		return u;
	return "";
}

static int write_file(const char *path, const char *text)
{
	size_t len = strlen(text), off = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	int err;

	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (close(fd) == 0)
		return 0;
	fd = -1;
fail:
	/* a full disk: give back what the partial file took; errno says why */
	err = errno;
	if (fd >= 0)
		close(fd);
	unlink(path);
	errno = err;
	return -1;
}

/* A name safe to put in a file name: control characters become '_'. */
static void safe_name(const char *in, char *out, size_t len)
{
	size_t i = 0;

	for (; in[i] && i + 1 < len; i++)
		out[i] = (unsigned char)in[i] < 0x20 || in[i] == '/' ? '_' : in[i];
	out[i] = '\0';
}

/* The folders a batch touched, each fsynced once. */
struct dirset {
	char (*dirs)[PATH_MAX];
	size_t n, cap;
};

static int dirset_has(const struct dirset *d, const char *dir)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->dirs[i], dir) == 0)
			return 1;
	return 0;
}

static void dirset_add(struct dirset *d, const char *dir)
{
	if (dirset_has(d, dir))
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		void *p = realloc(d->dirs, cap * sizeof(*d->dirs));
		if (p == NULL)
			return;
		d->dirs = p;
		d->cap = cap;
	}
	snprintf(d->dirs[d->n++], PATH_MAX, "%s", dir);
}

/*
 * mkdir -p of dir once per batch: made holds the folders already made or
 * found. Every input of a batch goes to the same few folders, and walking
 * the path again cost a dozen mkdir and stat calls per input (make bench).
 */
static int dir_ready(struct spool *sp, struct dirset *made, const char *dir)
{
	char failed[PATH_MAX];

	if (dirset_has(made, dir))
		return 0;
	if (fsutil_mkdir_p(dir, 0755, failed, sizeof(failed)) != 0) {
		FAIL_LOG(sp, "intake: cannot create %s: %s", failed, strerror(errno));
		return -1;
	}
	dirset_add(made, dir);
	return 0;
}

static int dirset_sync(struct spool *sp, struct dirset *d)
{
	int rc = 0;

	for (size_t i = 0; i < d->n; i++)
		if (fsutil_fsync_path(d->dirs[i]) != 0) {
			FAIL_LOG(sp, "intake: fsync of the folder %s: %s", d->dirs[i], strerror(errno));
			rc = -1;
		}
	free(d->dirs);
	memset(d, 0, sizeof(*d));
	return rc;
}

/* Receipts (tmp names), then one syncfs, then renames, folders fsynced, then the originals. */
static int finish(struct spool *sp, struct item *items, size_t n)
{
	char path[PATH_MAX], tmp[PATH_MAX], dir[PATH_MAX], failed[PATH_MAX];
	struct dirset dirs = { 0 }, made = { 0 };
	int rc = 0, syncfd;

	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		struct receipt_info ri;
		char base[200], *xml, *txt;
		const struct unit *u;
		const char *rf;

		if (it->state != ITEM_DONE)
			continue;
		rf = receipt_folder(sp, it);
		memset(&ri, 0, sizeof(ri));
		ri.id = it->in.id;
		ri.file = it->c.name;
		ri.folder = it->c.folder;
		ri.received_at = it->in.at;
		ri.outcome = it->in.outcome;
		ri.sha256 = it->sha;
		ri.size = it->size;
		ri.unit_code = it->report ? it->report->unit_code : it->rguess_unit;
		u = ri.unit_code ? units_find(sp->cat->units, ri.unit_code) : NULL;
		ri.unit_name = u ? u->name : NULL;
		ri.round_id = it->report ? it->report->round_id : it->rguess_round;
		ri.report_id = it->in.report_id;
		ri.supersedes = it->in.supersedes;
		ri.document_id = it->in.document_id;
		ri.round_opened = it->round_in != NULL;
		if (it->round_in)
			ri.round_id = rounds_input_round(it->round_in)->id;
		ri.document_kind = it->doc_kind;
		ri.errors = &it->errs;
		snprintf(dir, sizeof(dir), "%s/receipts%s%s", sp->root, *rf ? "/" : "", rf);
		if (dir_ready(sp, &made, dir) != 0) {
			rc = -1;
			continue;
		}
		safe_name(it->c.name, base, sizeof(base));
		xml = receipt_xml(&ri);
		txt = receipt_text(&ri);
		for (int k = 0; k < 2 && xml && txt; k++) {
			snprintf(tmp, sizeof(tmp), "%s/.%s.%lld.receipt.%s.tmp", dir, base,
			    (long long)it->in.id, k ? "txt" : "xml");
			if (write_file(tmp, k ? txt : xml) != 0) {
				FAIL_LOG(sp, "intake: cannot write the receipt %s: %s", tmp, strerror(errno));
				rc = -1;
			}
		}
		if (strcmp(it->in.outcome, "rejected") == 0 && txt) {
			snprintf(tmp, sizeof(tmp), "%s/rejected/.%s.reasons.txt.tmp", sp->root, it->claimed);
			if (write_file(tmp, txt) != 0) {
				FAIL_LOG(sp, "intake: cannot write %s: %s", tmp, strerror(errno));
				rc = -1;
			}
		}
		if (!xml || !txt)
			rc = -1;
		free(xml);
		free(txt);
	}
	if (rc != 0)
		goto out;
	/* One flush for the whole batch instead of one fsync per file. */
	snprintf(path, sizeof(path), "%s/receipts", sp->root);
	syncfd = open(path, O_RDONLY | O_CLOEXEC);
	if (syncfd < 0 || syncfs(syncfd) != 0) {
		FAIL_LOG(sp, "intake: syncfs of the spool (flushing the receipts): %s", strerror(errno));
		if (syncfd >= 0)
			close(syncfd);
		rc = -1;
		goto out;
	}
	close(syncfd);
	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		const char *rf;
		char base[200];
		if (it->state != ITEM_DONE)
			continue;
		rf = receipt_folder(sp, it);
		safe_name(it->c.name, base, sizeof(base));
		snprintf(dir, sizeof(dir), "%s/receipts%s%s", sp->root, *rf ? "/" : "", rf);
		for (int k = 0; k < 2; k++) {
			snprintf(tmp, sizeof(tmp), "%s/.%s.%lld.receipt.%s.tmp", dir, base,
			    (long long)it->in.id, k ? "txt" : "xml");
			snprintf(path, sizeof(path), "%s/%s.%lld.receipt.%s", dir, base,
			    (long long)it->in.id, k ? "txt" : "xml");
			if (rename(tmp, path) != 0) {
				FAIL_LOG(sp, "intake: cannot rename %s to %s: %s", tmp, path, strerror(errno));
				rc = -1;
			}
		}
		dirset_add(&dirs, dir);
	}
	if (dirset_sync(sp, &dirs) != 0)
		rc = -1;
	if (rc != 0)
		goto out;
	/* Only now do the originals leave claimed/: a crash before this redoes the receipts. */
	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		struct tm tm;
		time_t t;
		if (it->state != ITEM_DONE)
			continue;
		snprintf(tmp, sizeof(tmp), "%s/claimed/%s", sp->root, it->claimed);
		if (strcmp(it->in.outcome, "rejected") == 0) {
			snprintf(dir, sizeof(dir), "%s/rejected", sp->root);
			snprintf(path, sizeof(path), "%s/.%s.reasons.txt.tmp", dir, it->claimed);
			snprintf(failed, sizeof(failed), "%s/%s.reasons.txt", dir, it->claimed);
			if (access(path, F_OK) == 0 && rename(path, failed) != 0) {
				/* the original waits in claimed/ with its reasons, to be tried again */
				FAIL_LOG(sp, "intake: cannot rename %s to %s: %s", path, failed,
				    strerror(errno));
				rc = -1;
				continue;
			}
		} else {
			struct tm utc;
			memset(&utc, 0, sizeof(utc));
			strptime(it->in.at, "%Y-%m-%dT%H:%M:%S", &utc);
			t = timegm(&utc) + 7 * 3600;
			gmtime_r(&t, &tm);
			snprintf(dir, sizeof(dir), "%s/accepted/%04d/%02d/%02d", sp->root,
			    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
			if (dir_ready(sp, &made, dir) != 0) {
				rc = -1;
				continue;
			}
		}
		snprintf(path, sizeof(path), "%s/%s", dir, it->claimed);
		if (rename(tmp, path) != 0) {
			FAIL_LOG(sp, "intake: cannot move %s to %s (rename): %s", tmp, dir, strerror(errno));
			rc = -1;
		}
		dirset_add(&dirs, dir);
	}
	snprintf(path, sizeof(path), "%s/claimed", sp->root);
	dirset_add(&dirs, path);
	if (dirset_sync(sp, &dirs) != 0)
		rc = -1;
out:
	free(dirs.dirs);
	free(made.dirs);
	return rc;
}

static void run_batch(uv_work_t *w)
{
	struct spool *sp = w->data;
	struct store_input *ins = NULL;
	struct item **todo = NULL;
	size_t nt = 0;
	char err[512];
	int failed = 0;
	time_t now = time(NULL);

	sp->loud = sp->failures == 0 || now >= sp->quiet_until;
	for (size_t i = 0; i < sp->nbatch; i++) {
		struct item *it = &sp->batch[i];
		xmlDocPtr doc = NULL;
		diag_init(&it->errs);
		prepare(sp, it, &doc);
		if (it->state == ITEM_CLAIMED)
			evaluate(sp, it, doc);
		xmlFreeDoc(doc);
	}
	ins = calloc(sp->nbatch, sizeof(*ins));
	todo = calloc(sp->nbatch, sizeof(*todo));
	if (ins == NULL || todo == NULL)
		goto out;
	for (size_t i = 0; i < sp->nbatch; i++) {
		struct item *it = &sp->batch[i];
		if (it->state != ITEM_CLAIMED)
			continue;
		struct store_input *in = &ins[nt];
		in->claimed_name = it->claimed;
		in->source_name = it->c.name;
		in->source_folder = it->c.folder;
		in->received_at = it->at;
		in->owner_uid = (int64_t)it->owner;
		in->sha256 = it->sha;
		in->size = it->size;
		in->original = it->data;
		in->original_len = it->len;
		in->report = it->report;
		in->doc = it->doc_in ? workflow_input_doc(it->doc_in) : NULL;
		in->round = it->round_in ? rounds_input_round(it->round_in) : NULL;
		in->unit_code = it->rguess_unit;
		in->round_id = it->rguess_round;
		in->errors_json = it->errors_json ? it->errors_json : "[]";
		todo[nt++] = it;
	}
	if (store_record_inputs(sp->db, ins, nt, err, sizeof(err)) != STORE_OK) {
		FAIL_LOG(sp, "intake: cannot record %zu inputs in the database (they stay in claimed/ "
		    "and are retried): %s", nt, err);
		failed = 1;
		goto out;
	}
	for (size_t i = 0; i < nt; i++) {
		todo[i]->in = ins[i];
		todo[i]->state = ITEM_DONE;
	}
	if (finish(sp, sp->batch, sp->nbatch) != 0) {
		FAIL_LOG(sp, "intake: a batch was recorded but not all of its files were put in place; "
		    "they stay in claimed/ and are finished at the next scan");
		failed = 1;
	}
out:
	for (size_t i = 0; i < sp->nbatch; i++)
		if (sp->batch[i].state == ITEM_LATER)
			failed = 1;   /* a claim that failed */
	if (ins == NULL || todo == NULL)
		failed = 1;
	if (failed) {
		sp->failures++;
		if (sp->loud) {
			log_err("intake: %u failed attempt%s in a row; retrying at every scan, the errors "
			    "are shown again in %d s", sp->failures, sp->failures == 1 ? "" : "s",
			    FAIL_QUIET_S);
			sp->quiet_until = now + FAIL_QUIET_S;
		}
	} else if (sp->failures > 0 && nt > 0) {
		log_info("intake: working again after %u failed attempt%s", sp->failures,
		    sp->failures == 1 ? "" : "s");
		sp->failures = 0;
	}
	free(ins);
	free(todo);
}

static void free_item(struct item *it)
{
	free(it->c.folder);
	free(it->c.name);
	free(it->data);
	diag_free(&it->errs);
	report_free(it->report);
	workflow_input_free(it->doc_in);
	rounds_input_free(it->round_in);
	free(it->rguess_unit);
	free(it->rguess_round);
	free(it->errors_json);
}

static void log_item(const struct item *it)
{
	const char *f = it->c.folder, *sep = *f ? "/" : "";

	if (strcmp(it->in.outcome, "rejected") == 0)
		log_info("intake: rejected %s%s%s (receipt %lld): %s %s", f, sep, it->c.name,
		    (long long)it->in.id, it->errs.count ? it->errs.items[0].code : "",
		    it->errs.count ? it->errs.items[0].message : "");
	else if (it->round_in)
		log_info("intake: %s%s%s: round %s %s (receipt %lld)", f, sep, it->c.name,
		    rounds_input_round(it->round_in)->id,
		    strcmp(it->in.outcome, "accepted") == 0 ? "opened" : "exists already",
		    (long long)it->in.id);
	else if (it->in.document_id > 0)
		log_info("intake: %s%s%s became draft %lld (receipt %lld)", f, sep, it->c.name,
		    (long long)it->in.document_id, (long long)it->in.id);
	else
		log_info("intake: %s %s%s%s from %s: report %lld (receipt %lld)", it->in.outcome, f, sep,
		    it->c.name, it->report ? it->report->unit_code : "?", (long long)it->in.report_id,
		    (long long)it->in.id);
}

static void maybe_done(struct spool *sp);
static void next_batch(struct spool *sp);

static void after_batch(uv_work_t *w, int status)
{
	struct spool *sp = w->data;
	int retry = 0;

	(void)status;
	sp->running = 0;
	for (size_t i = 0; i < sp->nbatch; i++) {
		struct item *it = &sp->batch[i];
		if (it->state == ITEM_DONE) {
			if (!it->in.already)
				log_item(it);
		} else if (it->state == ITEM_NOT_READY) {
			struct seen *e = seen_get(sp, it->c.folder, it->c.name, 1);
			if (e != NULL) {
				e->size = it->size;
				e->ctime = it->ctime;
				e->gen = sp->gen;
			}
			retry = 1;
		} else if (it->state == ITEM_LATER || it->state == ITEM_CLAIMED) {
			retry = 1;
		}
		free_item(it);
	}
	free(sp->batch);
	sp->batch = NULL;
	sp->nbatch = 0;
	if (sp->next_cat != NULL) {
		spool_catalog_free(sp->cat);
		sp->cat = sp->next_cat;
		sp->next_cat = NULL;
	}
	if (retry)
		sp->dirty = 1;
	if (sp->on_batch && !sp->stopping)
		sp->on_batch(sp->on_batch_arg);
	if (sp->stopping) {
		maybe_done(sp);
		return;
	}
	/*
	 * Files that arrived while this batch ran were announced then: go on now,
	 * not at the next rescan (that waited up to `rescan` ms after every batch
	 * of a drop, make bench). An input that failed (ITEM_LATER) is retried at
	 * the next event or rescan, never in a loop.
	 */
	if (sp->qhead < sp->nqueue || sp->wanted) {
		sp->wanted = 0;
		next_batch(sp);
	}
}

/* Starts a batch from the queue, scanning first when the queue is empty. */
static void next_batch(struct spool *sp)
{
	size_t n;

	if (sp->running)
		sp->wanted = 1;
	if (sp->running || sp->stopping)
		return;
	if (sp->qhead >= sp->nqueue) {
		for (size_t i = 0; i < sp->nqueue; i++) {
			free(sp->queue[i].folder);
			free(sp->queue[i].name);
		}
		sp->nqueue = sp->qhead = 0;
		if (!sp->dirty)
			return;
		scan(sp);
		if (sp->nqueue == 0)
			return;
	}
	/* the bodies and users the worker reads, copied here where a reload cannot race */
	if (config_copy_identity(&sp->roles_cfg, sp->cfg) != 0) {
		log_err("intake: out of memory copying the configuration; the batch waits");
		return;
	}
	n = sp->nqueue - sp->qhead;
	if (n > sp->cfg->intake_batch)
		n = sp->cfg->intake_batch;
	sp->batch = calloc(n, sizeof(*sp->batch));
	if (sp->batch == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		sp->batch[i].c = sp->queue[sp->qhead + i];
		sp->queue[sp->qhead + i].folder = NULL;
		sp->queue[sp->qhead + i].name = NULL;
	}
	sp->qhead += n;
	sp->nbatch = n;
	sp->max_size = sp->cfg->intake_max_size;
	sp->settle_ms = sp->cfg->intake_settle;
	for (int r = 0; r < ROLE_COUNT; r++) {
		free(sp->roles_cfg.role_group[r]);
		sp->roles_cfg.role_group[r] = strdup(sp->cfg->role_group[r]);
		if (sp->roles_cfg.role_group[r] == NULL)
			sp->roles_cfg.role_group[r] = strdup("");
	}
	free(sp->roles_cfg.round_drafter);
	sp->roles_cfg.round_drafter = strdup(sp->cfg->round_drafter);
	sp->work.data = sp;
	sp->running = 1;
	if (uv_queue_work(sp->loop, &sp->work, run_batch, after_batch) != 0) {
		sp->running = 0;
		log_err("intake: cannot start a batch");
	}
}

static void on_kick(uv_timer_t *t)
{
	next_batch(t->data);
}

static void schedule(struct spool *sp, uint64_t delay_ms)
{
	sp->dirty = 1;
	if (!sp->stopping && !uv_is_active((uv_handle_t *)&sp->kick))
		uv_timer_start(&sp->kick, on_kick, delay_ms, 0);
}

static void on_rescan(uv_timer_t *t)
{
	struct spool *sp = t->data;

	sp->dirty = 1;
	next_batch(sp);
}

static void on_fs_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct watch *w = h->data;

	(void)filename; (void)events;
	if (status < 0)
		log_warn("intake: watch on %s: %s; relying on rescans",
		    *w->folder ? w->folder : "incoming", uv_strerror(status));
	schedule(w->sp, 10);
}

int spool_start(uv_loop_t *loop, const struct config *cfg, struct spool_catalog *cat,
    struct spool **out, char *err, size_t errlen)
{
	struct spool *sp = calloc(1, sizeof(*sp));

	*out = NULL;
	if (sp == NULL) {
		snprintf(err, errlen, "out of memory");
		spool_catalog_free(cat);
		return -1;
	}
	char real[PATH_MAX];
	sp->queue = calloc(QUEUE_CAP, sizeof(*sp->queue));
	if (realpath(cfg->spool, real) != NULL && strlen(real) >= sizeof(sp->root))
		errno = ENAMETOOLONG;
	else if (realpath(cfg->spool, real) != NULL)
		snprintf(sp->root, sizeof(sp->root), "%s", real);
	if (sp->queue == NULL || sp->root[0] == '\0') {
		snprintf(err, errlen, "spool %s: %s", cfg->spool, strerror(errno));
		free(sp->queue);
		free(sp);
		spool_catalog_free(cat);
		return -1;
	}
	if (store_open_worker(cfg->database, &sp->db, err, errlen) != STORE_OK) {
		free(sp->queue);
		free(sp);
		spool_catalog_free(cat);
		return -1;
	}
	sp->loop = loop;
	sp->cfg = cfg;
	sp->cat = cat;
	uv_timer_init(loop, &sp->rescan);
	uv_timer_init(loop, &sp->kick);
	sp->rescan.data = sp->kick.data = sp;
	sp->open_handles = 2;
	watch_folder(sp, "");
	uv_timer_start(&sp->rescan, on_rescan, cfg->intake_rescan, cfg->intake_rescan);
	sp->dirty = 1;
	next_batch(sp);
	*out = sp;
	return 0;
}

void spool_on_batch(struct spool *sp, void (*cb)(void *arg), void *arg)
{
	sp->on_batch = cb;
	sp->on_batch_arg = arg;
}

void spool_set_config(struct spool *sp, const struct config *cfg)
{
	sp->cfg = cfg;
	uv_timer_set_repeat(&sp->rescan, cfg->intake_rescan);
}

void spool_set_catalog(struct spool *sp, struct spool_catalog *cat)
{
	if (sp->running) {
		spool_catalog_free(sp->next_cat);
		sp->next_cat = cat;
		return;
	}
	spool_catalog_free(sp->cat);
	sp->cat = cat;
}

const struct spool_catalog *spool_catalog(const struct spool *sp)
{
	return sp->next_cat ? sp->next_cat : sp->cat;
}

static void on_closed(uv_handle_t *h)
{
	struct spool *sp = h->data;

	if (h->type == UV_FS_EVENT)
		sp = ((struct watch *)h->data)->sp;
	sp->open_handles--;
	maybe_done(sp);
}

static void maybe_done(struct spool *sp)
{
	if (!sp->stopping || sp->running || sp->open_handles > 0)
		return;
	void (*done)(void *) = sp->done;
	void *arg = sp->done_arg;
	while (sp->watches) {
		struct watch *w = sp->watches;
		sp->watches = w->next;
		free(w);
	}
	for (size_t i = 0; i < sp->nqueue; i++) {
		free(sp->queue[i].folder);
		free(sp->queue[i].name);
	}
	free(sp->queue);
	for (size_t i = 0; i < SEEN_BUCKETS; i++) {
		while (sp->seen[i]) {
			struct seen *e = sp->seen[i];
			sp->seen[i] = e->next;
			free(e);
		}
	}
	spool_catalog_free(sp->cat);
	spool_catalog_free(sp->next_cat);
	for (int r = 0; r < ROLE_COUNT; r++)
		free(sp->roles_cfg.role_group[r]);
	free(sp->roles_cfg.round_drafter);
	config_free_identity(&sp->roles_cfg);
	store_close(sp->db);
	free(sp);
	if (done)
		done(arg);
}

void spool_stop(struct spool *sp, void (*done)(void *arg), void *arg)
{
	sp->stopping = 1;
	sp->done = done;
	sp->done_arg = arg;
	uv_close((uv_handle_t *)&sp->rescan, on_closed);
	uv_close((uv_handle_t *)&sp->kick, on_closed);
	for (struct watch *w = sp->watches; w; w = w->next)
		uv_close((uv_handle_t *)&w->ev, on_closed);
	maybe_done(sp);
}
