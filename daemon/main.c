/*
 * main.c: vanthud. Options, configuration, the spool and its lock, the
 * store, the catalog, intake and its kinds, the control socket, signals
 * (TERM/INT stop, HUP reloads) and readiness. The only file that knows every module; it wires them and owns
 * what they borrow.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pwd.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "clock.h"
#include "config.h"
#include "catalog.h"
#include "ctl.h"
#include "esign.h"
#include "exchange.h"
#include "diag.h"
#include "fsutil.h"
#include "intake.h"
#include "lockfile.h"
#include "log.h"
#include "notify.h"
#include "publish.h"
#include "report.h"
#include "rounds.h"
#include "spool.h"
#include "store.h"
#include "workflow.h"
#include "version.h"
#include "xmlin.h"

struct daemon {
	uv_loop_t loop;
	struct config *cfg;     /* owned; replaced on SIGHUP */
	const char *cfg_file;   /* borrowed from argv; NULL for the embedded default */
	struct store *store;    /* owned */
	struct ctl *ctl;        /* owned until ctl_stop's callback */
	struct intake *intake;  /* owned until intake_stop's callback (it owns the spool) */
	struct spool *spool;    /* borrowed from intake, for its units */
	struct catalog *cat;    /* a reference: the catalog in use; ctl and intake hold theirs */
	struct esign *es;       /* owned: the office's signing; NULL without [signing] */
	struct exchange *xch;   /* owned until exchange_stop's callback; NULL without [exchange] */
	int running_parts;      /* ctl, intake and the exchange not yet stopped */
	int lockfd;
	uv_signal_t sigterm, sigint, sighup;
	uv_timer_t rounds;      /* the next reminder or closing of a reporting round */
	uv_timer_t publish;     /* the next try at issued documents still without their DOCX */
	uint64_t publish_delay; /* ms; doubles while writing them fails (full disk, I/O error) */
	int stopping;
};

/* Takes the rounds' due steps and sleeps until the next one (an hour at most). */
static void rounds_wake(uv_timer_t *t)
{
	struct daemon *d = t->data;
	struct timespec now;
	time_t next = 0;
	uint64_t ms = 3600 * 1000;

	if (d->stopping || d->cat == NULL)
		return;
	rounds_tick(d->store, d->cat, d->cfg, &next);
	clock_now(&now);
	if (next > 0 && next - now.tv_sec < 3600)
		ms = next > now.tv_sec ? (uint64_t)(next - now.tv_sec) * 1000 + 500 : 500;
	uv_timer_start(&d->rounds, rounds_wake, ms, 0);
}

#define PUBLISH_RETRY_MIN_MS 1000
#define PUBLISH_RETRY_MAX_MS 60000

/* Writes the DOCX of every issued document that lacks one; while any is left, tries again later. */
static void publish_wake(uv_timer_t *t)
{
	struct daemon *d = t->data;
	int left;

	if (d->stopping || d->cat == NULL)
		return;
	left = publish_pending(d->store, d->cat, d->cfg, d->es);
	if (left == 0) {
		d->publish_delay = PUBLISH_RETRY_MIN_MS;
		return;
	}
	log_warn("publish: issued documents still without their DOCX; trying again in %llu s",
	    (unsigned long long)(d->publish_delay / 1000));
	uv_timer_start(&d->publish, publish_wake, d->publish_delay, 0);
	d->publish_delay = d->publish_delay * 2 > PUBLISH_RETRY_MAX_MS ? PUBLISH_RETRY_MAX_MS :
	    d->publish_delay * 2;
}

/* A clerk's issue could not write its DOCX: try again soon, unless a try is already set. */
static void publish_failed(void *arg)
{
	struct daemon *d = arg;

	if (!d->stopping && !uv_is_active((uv_handle_t *)&d->publish))
		uv_timer_start(&d->publish, publish_wake, d->publish_delay, 0);
}

/* After every intake batch: a round whose units have all reported closes now. */
static void after_intake(void *arg)
{
	struct daemon *d = arg;

	uv_timer_start(&d->rounds, rounds_wake, 0, 0);
}

static void usage(FILE *out)
{
	fprintf(out,
	    "cách dùng: vanthud [-n] [-c TỆP]\n"
	    "           vanthud -h | --help\n"
	    "           vanthud -V | --version\n"
	    "  -c TỆP, --config TỆP\n"
	    "           đọc cấu hình từ TỆP (mặc định: cấu hình dựng sẵn, thư mục tiếp nhận\n"
	    "           ./spool, cơ sở dữ liệu ./vanthu.db, socket ./run/vanthu.sock)\n"
	    "  -n, --check\n"
	    "           kiểm tra cấu hình và mọi thứ nó chỉ tới, in mọi lỗi một lần,\n"
	    "           rồi thoát 0 (không có lỗi) hoặc 1\n"
	    "  -V, --version\n"
	    "           in phiên bản rồi thoát\n"
	    "  -h, --help\n"
	    "           in hướng dẫn này rồi thoát\n");
}

/* Reads FILE, or the embedded default. On failure prints every problem and returns NULL. */
static struct config *read_config(const char *file)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct diag_list diags;
	int rc;

	if (cfg == NULL)
		return NULL;
	diag_init(&diags);
	rc = file ? config_load(file, cfg, &diags) : config_default(cfg);
	if (rc != 0) {
		diag_print(&diags, stderr);
		diag_free(&diags);
		free(cfg);
		return NULL;
	}
	diag_free(&diags);
	return cfg;
}

/*
 * Everything a start would refuse once the configuration is read: the paths
 * (spool, database and socket folders, socket group, templates and
 * workflows), the catalog (units, schemas, kinds, templates, calendar) and,
 * when probe_db is set or something else is wrong, the database. Each part
 * is checked even when another failed. 0 and *cat (one reference), or -1
 * with every problem in diags. The one list for `vanthud -n` and the start.
 */
static int preflight(const struct config *cfg, int probe_db, struct catalog **cat,
    struct diag_list *diags)
{
	char err[512];
	int bad = 0;

	*cat = NULL;
	if (config_check_paths(cfg, diags) != 0)
		bad = 1;
	if (catalog_load(cfg, cat, diags) != 0)
		bad = 1;
	/* at a start that goes on, store_open checks the database (quick_check once, not twice) */
	if ((probe_db || bad) && store_probe(cfg->database, err, sizeof(err)) != STORE_OK) {
		diag_add(diags, cfg->path, 0, "database: %s", err);
		bad = 1;
	}
	if (bad) {
		catalog_unref(*cat);
		*cat = NULL;
		return -1;
	}
	return 0;
}

/* Logs each problem as `vanthud -n` prints it ("file:line: message"), after prefix. */
static void log_diags(const struct diag_list *diags, const char *prefix)
{
	for (size_t i = 0; i < diags->count; i++) {
		const struct diag *g = &diags->items[i];
		if (g->line > 0)
			log_err("%s%s:%d: %s", prefix, g->file, g->line, g->message);
		else
			log_err("%s%s: %s", prefix, g->file, g->message);
	}
}

/* vanthud -n: every problem of the configuration and of what it names, all in one run. */
static int check_only(const char *file)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct catalog *cat = NULL;
	struct diag_list diags;
	int rc, bad;

	if (cfg == NULL)
		return 1;
	diag_init(&diags);
	rc = file ? config_load_all(file, cfg, &diags) : config_default(cfg);
	if (rc == -2 || (file == NULL && rc != 0)) {
		/* the file could not be read: nothing else to check */
		diag_print(&diags, stderr);
		diag_free(&diags);
		free(cfg);
		return 1;
	}
	bad = rc != 0;
	xmlin_init();
	if (preflight(cfg, 1, &cat, &diags) != 0)
		bad = 1;
	catalog_unref(cat);
	xmlin_cleanup();
	diag_print(&diags, stderr);
	if (!bad)
		printf("%s: cấu hình hợp lệ\n", file ? file : "cấu hình dựng sẵn");
	else
		fprintf(stderr, "%s: %zu lỗi; vanthud sẽ không chạy với cấu hình này\n",
		    file ? file : "cấu hình dựng sẵn", diags.count);
	diag_free(&diags);
	config_free(cfg);
	free(cfg);
	return bad;
}

/* The database's folder, made with every folder above it (checked by preflight). */
static int make_database_dir(const struct config *cfg)
{
	char dir[PATH_MAX], failed[PATH_MAX];
	const char *slash = strrchr(cfg->database, '/');

	if (slash == NULL || slash == cfg->database)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - cfg->database), cfg->database);
	if (fsutil_mkdir_p(dir, 0750, failed, sizeof(failed)) != 0) {
		log_err("database: cannot create %s: %s: %s", dir, failed, strerror(errno));
		return -1;
	}
	return 0;
}

static void audit(struct daemon *d, const char *action, const char *detail)
{
	char err[256];

	if (store_audit_append(d->store, -1, "vanthud", action, "", detail, err, sizeof(err)) !=
	    STORE_OK)
		log_err("audit %s: %s", action, err);
}

/*
 * Puts a freshly loaded catalog (one reference, given) in use: the control
 * socket and the next intake batch take theirs, and the spool keeps the
 * isolated units' folders.
 */
static void use_catalog(struct daemon *d, struct catalog *cat)
{
	const struct units *u = cat->units;
	struct spool_unit *iso = calloc(u->nunits ? u->nunits : 1, sizeof(*iso));
	size_t n = 0;

	for (size_t i = 0; iso && i < u->nunits; i++)
		if (u->units[i].gid != (gid_t)-1) {
			iso[n].code = u->units[i].code;
			iso[n].gid = u->units[i].gid;
			n++;
		}
	if (iso == NULL)
		log_err("out of memory: the units' folders keep their earlier groups");
	else if (d->spool != NULL)
		spool_set_units(d->spool, iso, n);
	free(iso);
	if (d->ctl != NULL)
		ctl_set_catalog(d->ctl, cat);
	if (d->intake != NULL)
		intake_set_catalog(d->intake, cat);
	exchange_set_catalog(d->xch, cat);
	catalog_unref(d->cat);
	d->cat = cat;
}

static void on_part_stopped(void *arg)
{
	struct daemon *d = arg;

	if (--d->running_parts > 0)
		return;
	d->ctl = NULL;
	d->intake = NULL;
	d->spool = NULL;
	d->xch = NULL;
	catalog_unref(d->cat);
	d->cat = NULL;
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->sighup, NULL);
	uv_close((uv_handle_t *)&d->rounds, NULL);
	uv_close((uv_handle_t *)&d->publish, NULL);
}

static void on_stop_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	if (d->stopping)
		return;
	d->stopping = 1;
	log_info("received %s; stopping", strsignal(signum));
	notify_send("STOPPING=1");
	d->running_parts = 3;
	ctl_set_exchange(d->ctl, NULL);
	ctl_stop(d->ctl, on_part_stopped, d);
	intake_stop(d->intake, on_part_stopped, d);
	exchange_stop(d->xch, on_part_stopped, d);
}

/* Settings that only a restart can change keep their running value (copied into next). */
static int keep_restart_only(struct config *next, const struct config *cur)
{
	struct { char **n; char *const *c; const char *name; } keep[] = {
		{ &next->spool, &cur->spool, "spool" },
		{ &next->database, &cur->database, "database" },
		{ &next->socket, &cur->socket, "socket" },
		{ &next->socket_group, &cur->socket_group, "socket_group" },
		{ &next->sign_module, &cur->sign_module, "[signing] module" },
		{ &next->sign_token, &cur->sign_token, "[signing] token" },
		{ &next->sign_key, &cur->sign_key, "[signing] key" },
		{ &next->sign_key_id, &cur->sign_key_id, "[signing] key_id" },
		{ &next->sign_pin_file, &cur->sign_pin_file, "[signing] pin_file" },
		{ &next->sign_trust, &cur->sign_trust, "[signing] trust" },
		{ &next->sign_seal_image, &cur->sign_seal_image, "[signing] seal_image" },
		{ &next->sign_font, &cur->sign_font, "[signing] font" },
		{ &next->sign_office, &cur->sign_office, "[signing] office" },
		{ &next->sign_converter, &cur->sign_converter, "[signing] converter" },
		{ &next->xch_transport, &cur->xch_transport, "[exchange] transport" },
		{ &next->xch_servers, &cur->xch_servers, "[exchange] servers" },
		{ &next->xch_user, &cur->xch_user, "[exchange] user" },
		{ &next->xch_password_file, &cur->xch_password_file, "[exchange] password_file" },
		{ &next->xch_token_file, &cur->xch_token_file, "[exchange] token_file" },
		{ &next->xch_creds, &cur->xch_creds, "[exchange] creds" },
		{ &next->xch_ca, &cur->xch_ca, "[exchange] ca" },
		{ &next->xch_stream, &cur->xch_stream, "[exchange] stream" },
		{ &next->xch_prefix, &cur->xch_prefix, "[exchange] subject_prefix" },
		{ &next->xch_trust, &cur->xch_trust, "[exchange] trust" },
	};

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const char *a = *keep[i].n ? *keep[i].n : "", *b = *keep[i].c ? *keep[i].c : "";
		char *copy = NULL;
		if (strcmp(a, b) == 0)
			continue;
		log_warn("reload: %s%s changed; it takes effect at restart",
		    keep[i].name[0] == '[' ? "" : "[paths] ", keep[i].name);
		if (*keep[i].c != NULL && (copy = strdup(*keep[i].c)) == NULL)
			return -1;
		free(*keep[i].n);
		*keep[i].n = copy;
	}
	/* the token, the seal and the converter are opened once: signing stays as it started */
	next->signing = cur->signing;
	next->sign_seal_mm = cur->sign_seal_mm;
	/* the link and its subscriptions (one per body id) are made once too */
	if (next->exchange != cur->exchange)
		log_warn("reload: [exchange] added or removed; it takes effect at restart");
	next->exchange = cur->exchange;
	next->xch_replicas = cur->xch_replicas;
	for (size_t i = 0; i < next->nbodies; i++) {
		const struct config_body *was = config_find_body(cur, next->bodies[i].abbrev);
		const char *a = next->bodies[i].id ? next->bodies[i].id : "";
		const char *b = was && was->id ? was->id : "";
		if (strcmp(a, b) != 0)
			log_warn("reload: the id of %s changed; the exchange receives at it from restart",
			    next->bodies[i].abbrev);
	}
	return 0;
}

static void on_reload(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;
	struct config *next;
	struct diag_list diags;
	int bad;

	(void)signum;
	if (d->stopping)
		return;
	notify_send("RELOADING=1");
	if (d->cfg_file == NULL) {
		/* no file to reread, but the workflows folder may have changed */
		struct catalog *cat = NULL;
		diag_init(&diags);
		if (catalog_load(d->cfg, &cat, &diags) != 0) {
			log_diags(&diags, "reload refused: ");
			log_err("reload refused: keeping the running units, schemas and workflows");
		} else {
			use_catalog(d, cat);
			log_info("reloaded the workflows folder %s", d->cfg->workflows);
		}
		diag_free(&diags);
		notify_send("READY=1");
		return;
	}
	next = calloc(1, sizeof(*next));
	diag_init(&diags);
	if (next == NULL) {
		log_err("reload: out of memory; keeping the running configuration");
		goto out;
	}
	bad = config_load(d->cfg_file, next, &diags) != 0;
	if (!bad) {
		bad = keep_restart_only(next, d->cfg) != 0 || config_check_paths(next, &diags) != 0;
	}
	if (bad) {
		log_diags(&diags, "reload refused: ");
		log_err("reload refused: keeping the running configuration");
		if (next->path != NULL)
			config_free(next);
		free(next);
		goto out;
	}
	struct catalog *cat = NULL;
	if (catalog_load(next, &cat, &diags) != 0) {
		log_diags(&diags, "reload refused: ");
		log_err("reload refused: keeping the running configuration, units and schemas");
		config_free(next);
		free(next);
		goto out;
	}
	ctl_set_config(d->ctl, next);
	intake_set_config(d->intake, next);
	exchange_set_config(d->xch, next);
	config_free(d->cfg);
	free(d->cfg);
	d->cfg = next;
	use_catalog(d, cat);
	log_set_level(d->cfg->log_level);
	log_info("reloaded %s", d->cfg_file);
	audit(d, "config.reload", d->cfg_file);
out:
	diag_free(&diags);
	notify_send("READY=1");
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Closes the spool when it is still open, every handle, and the loop. */
static void close_loop(struct daemon *d)
{
	if (d->spool != NULL)
		spool_close(d->spool, NULL, NULL);
	d->spool = NULL;
	uv_walk(&d->loop, close_walk, NULL);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	uv_loop_close(&d->loop);
}

static int run(struct daemon *d)
{
	char path[PATH_MAX], err[512];
	struct catalog *cat = NULL;   /* loaded by preflight, until use_catalog takes it */
	struct diag_list diags;
	int rc = 1, loop_closed = 0;

	log_set_level(d->cfg->log_level);
	if (clock_init() != 0) {
		log_err("the test clock's start is not YYYY-MM-DDTHH:MM:SS");
		return 1;
	}
	if (clock_is_fake())
		log_warn("test build: the clock was moved for a test");
	if (store_log_sqlite_errors() != STORE_OK)
		log_warn("database: SQLite's own error reports cannot be sent to this log");
	umask(027);
	signal(SIGPIPE, SIG_IGN);
	xmlin_init();
	/* what `vanthud -n` checks, all of it, before anything is made */
	diag_init(&diags);
	if (preflight(d->cfg, 0, &cat, &diags) != 0) {
		log_diags(&diags, "");
		log_err("refusing to start: %zu problems (vanthud -n lists the same)", diags.count);
		diag_free(&diags);
		xmlin_cleanup();
		return 1;
	}
	diag_free(&diags);
	if (make_database_dir(d->cfg) != 0 || uv_loop_init(&d->loop) != 0) {
		log_err("cannot create the database folder or the event loop");
		catalog_unref(cat);
		xmlin_cleanup();
		return 1;
	}
	/* the spool's folders: made, or checked and refused with the reason */
	if (spool_open(&d->loop, d->cfg->spool, d->cfg->intake_settle, &d->spool, err,
	        sizeof(err)) != 0) {
		log_err("spool: %s", err);
		goto out_loop;
	}
	snprintf(path, sizeof(path), "%s/.vanthud.lock", d->cfg->spool);
	d->lockfd = lockfile_acquire(path, err, sizeof(err));
	if (d->lockfd < 0) {
		log_err("%s", err);
		goto out_spool;
	}
	/* quick_check reads the whole file: a large store takes a while (vanthud.8) */
	notify_send("STATUS=checking the database");
	if (store_open(d->cfg->database, &d->store, err, sizeof(err)) != STORE_OK) {
		log_err("database: %s", err);
		goto out_lock;
	}
	use_catalog(d, cat);
	cat = NULL;
	/* the organisation's token, the trust anchors, the seal and LibreOffice, once */
	if (d->cfg->signing) {
		notify_send("STATUS=opening the signing token and starting LibreOffice");
		if (esign_open(d->cfg, &d->es, err, sizeof(err)) != 0) {
			log_err("signing: %s", err);
			goto out_cat;
		}
	}
	if (ctl_start(&d->loop, d->cfg, d->store, &d->ctl, err, sizeof(err)) != 0) {
		log_err("control socket: %s", err);
		goto out_cat;
	}
	ctl_set_catalog(d->ctl, d->cat);
	ctl_set_esign(d->ctl, d->es);
	/* the other offices: the transport, the outbox, the incoming register */
	if (d->cfg->exchange) {
		notify_send("STATUS=connecting to the exchange");
		if (exchange_start(&d->loop, d->cfg, d->store, &d->xch, err, sizeof(err)) != 0) {
			log_err("exchange: %s", err);
			goto out_cat;
		}
		exchange_set_catalog(d->xch, d->cat);
	}
	ctl_set_exchange(d->ctl, d->xch);
	struct spool *sp = d->spool;
	if (intake_start(&d->loop, d->cfg, d->cat, sp, &d->intake, err, sizeof(err)) != 0) {
		/* intake closed the spool */
		d->spool = NULL;
		log_err("intake: %s", err);
		ctl_stop(d->ctl, NULL, NULL);
		d->ctl = NULL;
		goto out_cat;
	}
	/* reports first: a document of no known namespace is checked as a report */
	if (intake_add_kind(d->intake, &report_intake_kind) != 0 ||
	    intake_add_kind(d->intake, &workflow_intake_kind) != 0 ||
	    intake_add_kind(d->intake, &meeting_intake_kind) != 0 ||
	    intake_add_kind(d->intake, &rounds_intake_kind) != 0) {
		log_err("intake: too many kinds of input");
		goto out_cat;
	}
	/* issued before a crash (or a full disk) but not yet written out: now, then retried */
	uv_timer_init(&d->loop, &d->publish);
	d->publish.data = d;
	d->publish_delay = PUBLISH_RETRY_MIN_MS;
	ctl_on_publish_failed(d->ctl, publish_failed, d);
	publish_wake(&d->publish);
	/* rounds: a step that came due while the daemon was down is taken now, once */
	uv_timer_init(&d->loop, &d->rounds);
	d->rounds.data = d;
	intake_on_batch(d->intake, after_intake, d);
	ctl_on_round_change(d->ctl, after_intake, d);
	uv_timer_start(&d->rounds, rounds_wake, 0, 0);
	uv_signal_init(&d->loop, &d->sigterm);
	uv_signal_init(&d->loop, &d->sigint);
	uv_signal_init(&d->loop, &d->sighup);
	d->sigterm.data = d->sigint.data = d->sighup.data = d;
	uv_signal_start(&d->sigterm, on_stop_signal, SIGTERM);
	uv_signal_start(&d->sigint, on_stop_signal, SIGINT);
	uv_signal_start(&d->sighup, on_reload, SIGHUP);
	if (getpwnam(d->cfg->round_drafter) == NULL)
		log_warn("[rounds] drafter: no user \"%s\"; the drafts vanthud writes for reporting "
		    "rounds will belong to no one who can submit them: name a drafter", d->cfg->round_drafter);
	audit(d, "daemon.start", VANTHU_VERSION);
	log_info("vanthud %s ready: socket %s, spool %s, database %s", VANTHU_VERSION,
	    d->cfg->socket, d->cfg->spool, d->cfg->database);
	notify_send("READY=1\nSTATUS=serving");
	uv_run(&d->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&d->loop) != 0) {
		log_err("event loop closed with handles still open");
		loop_closed = 1;
		goto out_store;
	}
	loop_closed = 1;
	d->spool = NULL;   /* closed by intake */
	audit(d, "daemon.stop", "");
	log_info("stopped");
	rc = 0;
	goto out_store;
out_cat:
	/* a start that failed half-way: stop what started, then run the loop until all is closed */
	if (d->intake != NULL) {
		intake_stop(d->intake, NULL, NULL);
		d->intake = NULL;
		d->spool = NULL;
	}
	if (d->ctl != NULL)
		ctl_stop(d->ctl, NULL, NULL);
	d->ctl = NULL;
	if (d->xch != NULL)
		exchange_stop(d->xch, NULL, NULL);
	d->xch = NULL;
	catalog_unref(d->cat);
	d->cat = NULL;
out_store:
	if (!loop_closed)
		close_loop(d);
	loop_closed = 1;
	esign_close(d->es);
	d->es = NULL;
	store_close(d->store);
out_lock:
	lockfile_release(d->lockfd);
out_spool:
	if (!loop_closed)
		close_loop(d);
out_loop:
	if (!loop_closed)
		close_loop(d);
	catalog_unref(cat);
	xmlin_cleanup();
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d;
	int opt, check = 0, rc;

	memset(&d, 0, sizeof(d));
	d.lockfd = -1;
	/*
	 * Keep freed memory for reuse instead of handing it back to the kernel at
	 * every document: zlib's state for each DOCX would otherwise cost two brk
	 * calls per render (measured: most of a render's time).
	 */
	mallopt(M_TRIM_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TOP_PAD, 4 * 1024 * 1024);
	opterr = 0;   /* getopt's own message is English; ours is below */
	while ((opt = getopt_long(argc, argv, "c:nhV", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'c': d.cfg_file = optarg; break;
		case 'n': check = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("vanthud %s\n", VANTHU_VERSION); return 0;
		default:
			fprintf(stderr, "vanthud: tùy chọn không hợp lệ hoặc thiếu giá trị: %s\n",
			    argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vanthud: đối số thừa: %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (check)
		return check_only(d.cfg_file);
	d.cfg = read_config(d.cfg_file);
	if (d.cfg == NULL)
		return 1;
	rc = run(&d);
	config_free(d.cfg);
	free(d.cfg);
	return rc;
}
