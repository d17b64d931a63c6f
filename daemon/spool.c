/*
 * spool.c: the drop folders, as files and nothing else. Every folder is
 * opened once by descriptor (O_DIRECTORY|O_NOFOLLOW) and checked with
 * fstat; every later step inside it goes through that descriptor (openat,
 * renameat, mkdirat, fstatat without following links), so no name a unit
 * controls is ever resolved again as a path: whatever a share's owner does
 * to the tree (a symbolic link, a folder swapped in with RENAME_EXCHANGE),
 * nothing outside the spool's own folders is opened, moved or removed.
 *
 * It owns: the folders and their modes (those it makes; a folder it did not
 * make is checked, never changed), the units' and persons' folders of
 * incoming/, knowing when a file is complete (the kernel's close-after-write
 * and moved-in events through raw inotify, and for what the kernel cannot
 * see, a file unchanged for the settle time), claiming a file by rename
 * into claimed/, reading it safely, and writing receipts and moving
 * originals durably. What the files mean is intake.c's business.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "names.h"

#define SEEN_BUCKETS 4096
/*
 * A file the kernel says is still open for writing is taken anyway once it
 * has not changed for this many settles (its writer has hung).
 */
#define BUSY_SETTLES 10
#define WATCH_MASK (IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | \
	IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_EXCL_UNLINK)

/* What the kernel last said of a name. */
enum seen_event {
	EV_NONE = 0,  /* nothing (found by a scan, or events were lost): the settle rule */
	EV_BUSY,      /* created or written, not closed since */
	EV_CLOSED,    /* closed after writing */
	EV_MOVED,     /* renamed in */
};

/* A remembered name of a folder (key "folder/name"), or a folder's problem (key "folder/"). */
struct seen {
	struct seen *next;
	unsigned gen;             /* the last scan that saw it */
	enum seen_event ev;
	struct spool_look look;   /* the last look a scan took */
	struct timespec since;    /* monotonic: when that look (or busy state) began */
	unsigned long logged;     /* hash of what was logged about it, 0 when nothing */
	char key[];
};

struct spool_folder {
	struct spool_folder *next; /* in spool.folders while it is in place */
	struct spool *sp;
	unsigned refs;             /* the list's, and each candidate's (main thread) */
	int fd;                    /* owned */
	int wd;                    /* its inotify watch, -1 when none */
	enum spool_origin origin;
	struct stat st;            /* as opened */
	unsigned gen;
	char name[NAME_MAX + 1];
};

struct spool_unit_gid {
	char code[65];
	gid_t gid;
};

struct spool {
	uv_loop_t *loop;             /* borrowed */
	int root, incoming, claimed, accepted, rejected, receipts; /* owned descriptors */
	struct spool_folder *top;    /* incoming/ itself; also in folders */
	struct spool_folder *folders;
	int ifd;                     /* inotify, -1 when none */
	uv_poll_t poll;
	int polling;
	unsigned settle_ms;
	unsigned gen;
	struct seen *seen[SEEN_BUCKETS];
	struct spool_unit_gid *units; /* owned */
	size_t nunits;
	void (*on_change)(void *arg);
	void *on_change_arg;
	void (*done)(void *arg);
	void *done_arg;
	char rootpath[PATH_MAX];
};

/* ---- looks and times ---- */

void spool_look_of(const struct stat *st, struct spool_look *out)
{
	out->dev = (int64_t)st->st_dev;
	out->ino = (int64_t)st->st_ino;
	out->size = (int64_t)st->st_size;
	out->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

int spool_look_same(const struct spool_look *a, const struct spool_look *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns;
}

static long long mono_ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Real time since a file time, in ms (file times are real time, never the test clock). */
static long long real_ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (long long)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
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

static int code_chars(const char *s, size_t max, const char *extra)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '-' || s[n] == '_' ||
		      (extra && strchr(extra, s[n]))))
			return 0;
	return n > 0 && n <= max;
}

/* A unit's folder: 1 to 64 letters, digits, '-', '_'. A person's: '@' and a login. */
static enum spool_origin folder_kind(const char *name, int *ok)
{
	*ok = 1;
	if (code_chars(name, 64, NULL))
		return SPOOL_UNIT;
	if (name[0] == '@' && code_chars(name + 1, 32, ".") && name[1] != '-' && name[1] != '.')
		return SPOOL_PERSON;
	*ok = 0;
	return SPOOL_TOP;
}

static unsigned long hash_str(const char *s)
{
	unsigned long h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h ? h : 1;
}

/* ---- the seen table (main thread) ---- */

static struct seen *seen_get(struct spool *sp, const char *folder, const char *name, int create)
{
	char key[2 * NAME_MAX + 2];
	struct seen *e;
	unsigned h;

	snprintf(key, sizeof(key), "%s/%s", folder, name);
	h = (unsigned)(hash_str(key) % SEEN_BUCKETS);
	for (e = sp->seen[h]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	if (!create)
		return NULL;
	e = calloc(1, sizeof(*e) + strlen(key) + 1);
	if (e == NULL)
		return NULL;
	strcpy(e->key, key);
	e->gen = sp->gen;
	clock_gettime(CLOCK_MONOTONIC, &e->since);
	e->next = sp->seen[h];
	sp->seen[h] = e;
	return e;
}

static void seen_forget(struct spool *sp, const char *folder, const char *name)
{
	char key[2 * NAME_MAX + 2];
	struct seen **pp;

	snprintf(key, sizeof(key), "%s/%s", folder, name);
	for (pp = &sp->seen[hash_str(key) % SEEN_BUCKETS]; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->key, key) == 0) {
			struct seen *dead = *pp;
			*pp = dead->next;
			free(dead);
			return;
		}
	}
}

/* Forgets what the last complete scan did not see. */
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

/* Logs a problem of folder/name once while it lasts (again when it changes). */
static void log_once(struct spool *sp, enum log_level level, const char *folder, const char *name,
    const char *why)
{
	struct seen *e = seen_get(sp, folder, name, 1);
	char shown[NAMES_SHOWN_SIZE];

	if (e == NULL)
		return;
	e->gen = sp->gen;
	if (e->logged == hash_str(why))
		return;
	e->logged = hash_str(why);
	names_show(name, shown, sizeof(shown));
	if (*name)
		log_msg(level, "intake: ignoring %s%s%s: %s", folder, *folder ? "/" : "", shown, why);
	else
		log_msg(level, "intake: incoming/%s: %s", folder, why);
}

/* ---- folders ---- */

static void folder_unref(struct spool_folder *f)
{
	if (f == NULL || --f->refs > 0)
		return;
	if (f->wd >= 0 && f->sp->ifd >= 0)
		inotify_rm_watch(f->sp->ifd, f->wd);
	close(f->fd);
	free(f);
}

const char *spool_folder_name(const struct spool_folder *f)
{
	return f->name;
}

enum spool_origin spool_folder_origin(const struct spool_folder *f)
{
	return f->origin;
}

uid_t spool_folder_owner(const struct spool_folder *f)
{
	return f->st.st_uid;
}

static void watch_folder(struct spool *sp, struct spool_folder *f)
{
	char path[64];

	f->wd = -1;
	if (sp->ifd < 0)
		return;
	/* the folder we hold open, whatever its name points to now */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", f->fd);
	f->wd = inotify_add_watch(sp->ifd, path, WATCH_MASK | IN_ONLYDIR);
	if (f->wd < 0)
		log_warn("intake: cannot watch incoming/%s (%s); relying on rescans", f->name,
		    strerror(errno));
}

/* A descriptor on a folder: dirfd/name, never through a link, and a folder. -1 with errno. */
static int open_dir_at(int dirfd, const char *name, struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISDIR(st->st_mode)) {
		int err = errno ? errno : ENOTDIR;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static const struct spool_unit_gid *find_unit(const struct spool *sp, const char *code)
{
	for (size_t i = 0; i < sp->nunits; i++)
		if (strcmp(sp->units[i].code, code) == 0)
			return &sp->units[i];
	return NULL;
}

/* Why a unit's or person's folder must not be read, or NULL when it may. */
static const char *folder_problem(struct spool *sp, const char *name, enum spool_origin origin,
    const struct stat *st, char *buf, size_t len)
{
	if (origin == SPOOL_UNIT) {
		const struct spool_unit_gid *u = find_unit(sp, name);
		if (u == NULL)
			return NULL;
		if ((st->st_uid != geteuid() && st->st_uid != 0) || st->st_gid != u->gid ||
		    (st->st_mode & 07) != 0) {
			snprintf(buf, len, "the unit's folder is not its own (owner %ld, group %ld, mode "
			    "%04o; it must be vanthud's, group %ld, mode 2770): nothing is taken from it "
			    "until it is (chown %ld:%ld, chmod 2770)", (long)st->st_uid,
			    (long)st->st_gid, (unsigned)(st->st_mode & 07777), (long)u->gid,
			    (long)geteuid(), (long)u->gid);
			return buf;
		}
		return NULL;
	}
	if (origin == SPOOL_PERSON) {
		struct passwd pw, *pwp = NULL;
		char pbuf[4096];
		if (getpwnam_r(name + 1, &pw, pbuf, sizeof(pbuf), &pwp) != 0 || pwp == NULL) {
			snprintf(buf, len, "a person's folder, but there is no user \"%s\"", name + 1);
			return buf;
		}
		if (st->st_uid != pw.pw_uid || (st->st_mode & S_IWOTH) ||
		    ((st->st_mode & S_IWGRP) && st->st_gid != getegid())) {
			snprintf(buf, len, "a person's folder must be owned by %s and writable by no one "
			    "else but vanthud's group (owner %ld, group %ld, mode %04o): nothing is "
			    "taken from it until it is (chown %s:%ld, chmod 2770)", name + 1,
			    (long)st->st_uid, (long)st->st_gid, (unsigned)(st->st_mode & 07777),
			    name + 1, (long)getegid());
			return buf;
		}
	}
	return NULL;
}

/* The folder incoming/<name> as it is now, opened if new or replaced; NULL when unusable. */
static struct spool_folder *visit_folder(struct spool *sp, const char *name, enum spool_origin origin)
{
	struct spool_folder *f, **pp;
	struct stat st;
	char buf[512];
	const char *why;
	int fd;

	fd = open_dir_at(sp->incoming, name, &st);
	if (fd < 0) {
		if (errno != ENOENT)
			log_once(sp, LOG_LEVEL_WARN, name, "", errno == ELOOP ?
			    "a symbolic link, not a folder: never followed" : strerror(errno));
		return NULL;
	}
	if ((why = folder_problem(sp, name, origin, &st, buf, sizeof(buf))) != NULL) {
		log_once(sp, LOG_LEVEL_ERR, name, "", why);
		close(fd);
		return NULL;
	}
	for (pp = &sp->folders; (f = *pp) != NULL; pp = &f->next) {
		if (f->origin != SPOOL_TOP && strcmp(f->name, name) == 0)
			break;
	}
	if (f != NULL && f->st.st_dev == st.st_dev && f->st.st_ino == st.st_ino) {
		close(fd);
		f->st = st;
		f->gen = sp->gen;
		return f;
	}
	if (f != NULL) {   /* another folder under that name now: the old one is done with */
		*pp = f->next;
		folder_unref(f);
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		close(fd);
		return NULL;
	}
	f->sp = sp;
	f->refs = 1;
	f->fd = fd;
	f->origin = origin;
	f->st = st;
	f->gen = sp->gen;
	snprintf(f->name, sizeof(f->name), "%s", name);
	watch_folder(sp, f);
	f->next = sp->folders;
	sp->folders = f;
	/* a problem logged before is over */
	struct seen *e = seen_get(sp, name, "", 0);
	if (e != NULL && e->logged) {
		log_info("intake: incoming/%s is read again", name);
		e->logged = 0;
	}
	return f;
}

/* Drops the folders the last scan did not find in place. */
static void drop_stale_folders(struct spool *sp)
{
	struct spool_folder **pp = &sp->folders;

	while (*pp) {
		struct spool_folder *f = *pp;
		if (f->origin != SPOOL_TOP && f->gen != sp->gen) {
			*pp = f->next;
			folder_unref(f);
		} else {
			pp = &f->next;
		}
	}
}

/* mkdirat with a mode, then the group: 1 made, 0 there already, -1 with errno. */
static int make_dir(int dirfd, const char *name, mode_t mode, gid_t gid)
{
	struct stat st;
	int fd;

	if (mkdirat(dirfd, name, mode & 0777) != 0)
		return errno == EEXIST ? 0 : -1;
	fd = open_dir_at(dirfd, name, &st);
	if (fd < 0)
		return -1;
	/* the umask takes bits away; set exactly what was asked */
	if ((gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) != 0) || fchmod(fd, mode) != 0) {
		int err = errno;
		close(fd);
		unlinkat(dirfd, name, AT_REMOVEDIR);
		errno = err;
		return -1;
	}
	close(fd);
	return 1;
}

void spool_set_units(struct spool *sp, const struct spool_unit *units, size_t n)
{
	struct spool_unit_gid *copy = n ? calloc(n, sizeof(*copy)) : NULL;
	size_t k = 0;

	if (n && copy == NULL) {
		log_err("intake: out of memory copying the units' groups");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int rc[2];
		snprintf(copy[k].code, sizeof(copy[k].code), "%s", units[i].code);
		copy[k].gid = units[i].gid;
		k++;
		rc[0] = make_dir(sp->incoming, units[i].code, 02770, units[i].gid);
		if (rc[0] < 0)
			log_err("intake: cannot make incoming/%s for the group %ld: %s (vanthud's user "
			    "must be a member of the unit's group; restart vanthud after adding it)",
			    units[i].code, (long)units[i].gid, strerror(errno));
		rc[1] = make_dir(sp->receipts, units[i].code, 02750, units[i].gid);
		if (rc[1] < 0)
			log_err("intake: cannot make receipts/%s for the group %ld: %s (vanthud's user "
			    "must be a member of the unit's group; restart vanthud after adding it)",
			    units[i].code, (long)units[i].gid, strerror(errno));
		if (rc[0] == 1 || rc[1] == 1)
			log_info("intake: made the folders of unit %s for its group %ld", units[i].code,
			    (long)units[i].gid);
	}
	free(sp->units);
	sp->units = copy;
	sp->nunits = k;
}

/* ---- the kernel's events ---- */

static struct spool_folder *folder_by_wd(struct spool *sp, int wd)
{
	for (struct spool_folder *f = sp->folders; f; f = f->next)
		if (f->wd == wd)
			return f;
	return NULL;
}

static void on_inotify(uv_poll_t *h, int status, int events)
{
	struct spool *sp = h->data;
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	int changed = 0;

	(void)events;
	if (status < 0)
		return;
	for (;;) {
		ssize_t n = read(sp->ifd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			struct spool_folder *f;
			p += sizeof(*ev) + ev->len;
			changed = 1;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* events were lost: nothing known any more, the settle rule for all */
				for (size_t i = 0; i < SEEN_BUCKETS; i++)
					for (struct seen *e = sp->seen[i]; e; e = e->next)
						e->ev = EV_NONE;
				log_warn("intake: the kernel's event queue overflowed; files are taken "
				    "when they have settled");
				continue;
			}
			f = folder_by_wd(sp, ev->wd);
			if (f == NULL || ev->len == 0 || (ev->mask & IN_ISDIR))
				continue;
			if (ev->mask & (IN_MOVED_FROM | IN_DELETE)) {
				seen_forget(sp, f->name, ev->name);
				continue;
			}
			struct seen *e = seen_get(sp, f->name, ev->name, 1);
			if (e == NULL)
				continue;
			if (ev->mask & IN_MOVED_TO) {
				e->ev = EV_MOVED;
			} else if (ev->mask & IN_CLOSE_WRITE) {
				e->ev = EV_CLOSED;
			} else if (ev->mask & (IN_CREATE | IN_MODIFY)) {
				/* a writer still writing is never "hung": the quiet time starts again */
				clock_gettime(CLOCK_MONOTONIC, &e->since);
				e->ev = EV_BUSY;
			}
		}
	}
	if (changed && sp->on_change)
		sp->on_change(sp->on_change_arg);
}

void spool_on_change(struct spool *sp, void (*cb)(void *arg), void *arg)
{
	sp->on_change = cb;
	sp->on_change_arg = arg;
}

/* ---- scanning (main thread) ---- */

static int push(struct spool_cand *out, size_t max, size_t *n, int claimed,
    struct spool_folder *f, const char *name, int not_file, const struct stat *st)
{
	struct spool_cand *c;

	if (*n >= max)
		return -1;
	c = &out[*n];
	memset(c, 0, sizeof(*c));
	c->name = strdup(name);
	if (c->name == NULL)
		return -1;
	c->claimed = claimed;
	c->not_file = not_file;
	if (st != NULL) {
		spool_look_of(st, &c->look);
		c->uid = st->st_uid;
	}
	if (f != NULL) {
		f->refs++;
		c->folder = f;
	}
	(*n)++;
	return 0;
}

/* Is this regular file complete? Remembers what was seen. */
static int ready(struct spool *sp, struct spool_folder *f, const char *name, const struct stat *st)
{
	struct seen *e = seen_get(sp, f->name, name, 1);
	struct spool_look look;

	if (e == NULL)
		return 0;
	e->gen = sp->gen;
	spool_look_of(st, &look);
	if (!spool_look_same(&look, &e->look)) {
		e->look = look;
		clock_gettime(CLOCK_MONOTONIC, &e->since);
	}
	switch (e->ev) {
	case EV_MOVED:
	case EV_CLOSED:
		return 1;
	case EV_BUSY:
		/* still open for writing, says the kernel; a writer quiet that long has hung */
		return mono_ms_since(&e->since) >= (long long)sp->settle_ms * BUSY_SETTLES;
	default:
		return real_ms_since(&st->st_ctim) >= (long long)sp->settle_ms;
	}
}

/* Scans one folder of incoming/; returns -1 when out is full. */
static int scan_folder(struct spool *sp, struct spool_folder *f, struct spool_cand *out,
    size_t max, size_t *n)
{
	struct dirent *de;
	DIR *dir;
	int fd = dup(f->fd), rc = 0;

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		log_err("intake: cannot read incoming/%s: %s", f->name, strerror(errno));
		return 0;
	}
	rewinddir(dir);
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		const char *name = de->d_name;
		struct stat st;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (skipped_name(name)) {
			log_once(sp, LOG_LEVEL_INFO, f->name, name,
			    "hidden or temporary name (.*, *.part, *.tmp, *~)");
			continue;
		}
		if (fstatat(f->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			if (ready(sp, f, name, &st))
				rc = push(out, max, n, 0, f, name, 0, &st);
		} else if (S_ISDIR(st.st_mode) && f->origin == SPOOL_TOP) {
			int ok;
			enum spool_origin o = folder_kind(name, &ok);
			if (ok) {
				struct spool_folder *sub = visit_folder(sp, name, o);
				(void)sub;
			} else if (xml_name(name)) {
				rc = push(out, max, n, 0, f, name, 1, &st);
			} else {
				log_once(sp, LOG_LEVEL_INFO, f->name, name, "a folder that is neither a "
				    "unit's (letters, digits, - and _) nor a person's (@login)");
			}
		} else if (xml_name(name)) {
			rc = push(out, max, n, 0, f, name, 1, &st);
		} else {
			log_once(sp, LOG_LEVEL_INFO, f->name, name, S_ISDIR(st.st_mode) ?
			    "a folder inside a unit's or person's folder: never read" :
			    "not a regular file");
		}
	}
	closedir(dir);
	return rc;
}

int spool_scan(struct spool *sp, struct spool_cand *out, size_t max, size_t *n)
{
	struct dirent *de;
	DIR *dir;
	int fd, full = 0;

	*n = 0;
	sp->gen++;
	sp->top->gen = sp->gen;
	/* what a crash, or a file that must settle, left in claimed/ */
	fd = dup(sp->claimed);
	if (fd >= 0 && (dir = fdopendir(fd)) != NULL) {
		rewinddir(dir);
		while (!full && (de = readdir(dir)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			full = push(out, max, n, 1, NULL, de->d_name, 0, NULL) != 0;
		}
		closedir(dir);
	} else if (fd >= 0) {
		close(fd);
	}
	if (!full)
		full = scan_folder(sp, sp->top, out, max, n) != 0;
	for (struct spool_folder *f = sp->folders; !full && f; f = f->next)
		if (f->origin != SPOOL_TOP && f->gen == sp->gen)
			full = scan_folder(sp, f, out, max, n) != 0;
	if (!full) {
		drop_stale_folders(sp);
		seen_sweep(sp);
	}
	return full;
}

void spool_not_ready(struct spool *sp, const struct spool_cand *c)
{
	struct seen *e;

	if (c->claimed || c->folder == NULL)
		return;
	e = seen_get(sp, c->folder->name, c->name, 1);
	if (e == NULL)
		return;
	/* changed between the scan and the claim: someone is writing it */
	if (e->ev != EV_BUSY)
		clock_gettime(CLOCK_MONOTONIC, &e->since);
	e->ev = EV_BUSY;
	e->gen = sp->gen;
}

void spool_cand_release(struct spool_cand *c)
{
	folder_unref(c->folder);
	free(c->name);
	memset(c, 0, sizeof(*c));
}

void spool_set_settle(struct spool *sp, unsigned settle_ms)
{
	sp->settle_ms = settle_ms;
}

/* ---- opening and closing ---- */

/*
 * One of the spool's own folders: made with mode when missing; when it was
 * there, it must be a folder (not a link), the daemon's or root's, and
 * writable by nobody else unless shared is set (incoming/, where units may
 * write). Returns the descriptor, or -1 with err.
 */
static int own_dir(int dirfd, const char *label, const char *name, mode_t mode, int shared,
    char *err, size_t errlen)
{
	struct stat st;
	int made = make_dir(dirfd, name, mode, (gid_t)-1), fd;

	if (made < 0) {
		snprintf(err, errlen, "cannot create %s: %s", label, strerror(errno));
		return -1;
	}
	fd = open_dir_at(dirfd, name, &st);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", label, errno == ELOOP || errno == ENOTDIR ?
		    "not a folder (a symbolic link is never followed)" : strerror(errno));
		return -1;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, errlen, "%s belongs to uid %ld, not to vanthud (uid %ld) or root: "
		    "refusing to use it", label, (long)st.st_uid, (long)geteuid());
		close(fd);
		return -1;
	}
	if (!shared && ((st.st_mode & S_IWOTH) ||
	        ((st.st_mode & S_IWGRP) && st.st_gid != getegid()))) {
		snprintf(err, errlen, "%s is writable by others (mode %04o, group %ld): refusing to "
		    "use it; chmod go-w it", label, (unsigned)(st.st_mode & 07777), (long)st.st_gid);
		close(fd);
		return -1;
	}
	if (!shared && (st.st_mode & S_IROTH) && mode != 0711)
		log_warn("%s can be read by every user (mode %04o): chmod o-rwx it", label,
		    (unsigned)(st.st_mode & 07777));
	return fd;
}

int spool_open(uv_loop_t *loop, const char *root, unsigned settle_ms, struct spool **out,
    char *err, size_t errlen)
{
	struct spool *sp = calloc(1, sizeof(*sp));
	struct stat st;
	char label[PATH_MAX + 32];
	static const struct { const char *name; mode_t mode; int shared; } dirs[] = {
		{ "incoming", 0711, 1 }, { "claimed", 0750, 0 }, { "accepted", 0750, 0 },
		{ "rejected", 0750, 0 }, { "receipts", 0711, 0 }, { "outgoing", 0750, 0 },
	};
	int *fds[6];

	*out = NULL;
	if (sp == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sp->root = sp->incoming = sp->claimed = sp->accepted = sp->rejected = sp->receipts = -1;
	sp->ifd = -1;
	fds[0] = &sp->incoming; fds[1] = &sp->claimed; fds[2] = &sp->accepted;
	fds[3] = &sp->rejected; fds[4] = &sp->receipts; fds[5] = NULL;
	sp->loop = loop;
	sp->settle_ms = settle_ms;
	snprintf(sp->rootpath, sizeof(sp->rootpath), "%s", root);
	if (mkdir(root, 0711) == 0) {
		if (chmod(root, 0711) != 0)
			log_warn("spool %s: cannot set its mode: %s", root, strerror(errno));
	} else if (errno != EEXIST) {
		snprintf(err, errlen, "cannot create the spool %s: %s", root, strerror(errno));
		goto fail;
	}
	/* the root is the administrator's path: followed, then checked like the rest */
	sp->root = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->root < 0 || fstat(sp->root, &st) != 0) {
		snprintf(err, errlen, "spool %s: %s", root, strerror(errno));
		goto fail;
	}
	if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & S_IWOTH) ||
	    ((st.st_mode & S_IWGRP) && st.st_gid != getegid())) {
		snprintf(err, errlen, "spool %s must belong to vanthud or root and be writable by no "
		    "one else (owner %ld, group %ld, mode %04o): a unit could replace its folders",
		    root, (long)st.st_uid, (long)st.st_gid, (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		int fd;
		snprintf(label, sizeof(label), "spool folder %s/%s", root, dirs[i].name);
		fd = own_dir(sp->root, label, dirs[i].name, dirs[i].mode, dirs[i].shared, err, errlen);
		if (fd < 0)
			goto fail;
		if (fds[i] != NULL)
			*fds[i] = fd;
		else
			close(fd);   /* outgoing/ is publish's; it only had to be made and safe */
	}
	sp->top = calloc(1, sizeof(*sp->top));
	if (sp->top == NULL || (sp->top->fd = dup(sp->incoming)) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	sp->top->sp = sp;
	sp->top->refs = 1;
	sp->top->origin = SPOOL_TOP;
	fstat(sp->top->fd, &sp->top->st);
	sp->folders = sp->top;
	sp->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (sp->ifd < 0)
		log_warn("intake: no inotify (%s); relying on rescans", strerror(errno));
	watch_folder(sp, sp->top);
	if (sp->ifd >= 0 && uv_poll_init(loop, &sp->poll, sp->ifd) == 0) {
		sp->poll.data = sp;
		sp->polling = 1;
		uv_poll_start(&sp->poll, UV_READABLE, on_inotify);
	}
	*out = sp;
	return 0;
fail:
	if (sp->top != NULL) {
		sp->folders = NULL;
		if (sp->top->fd > 0)
			close(sp->top->fd);
		free(sp->top);
	}
	for (int i = 0; i < 5; i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	if (sp->root >= 0)
		close(sp->root);
	if (sp->ifd >= 0)
		close(sp->ifd);
	free(sp);
	return -1;
}

static void free_spool(struct spool *sp)
{
	void (*done)(void *) = sp->done;
	void *arg = sp->done_arg;

	while (sp->folders) {
		struct spool_folder *f = sp->folders;
		sp->folders = f->next;
		folder_unref(f);
	}
	for (size_t i = 0; i < SEEN_BUCKETS; i++) {
		while (sp->seen[i]) {
			struct seen *e = sp->seen[i];
			sp->seen[i] = e->next;
			free(e);
		}
	}
	if (sp->ifd >= 0)
		close(sp->ifd);
	close(sp->incoming);
	close(sp->claimed);
	close(sp->accepted);
	close(sp->rejected);
	close(sp->receipts);
	close(sp->root);
	free(sp->units);
	free(sp);
	if (done)
		done(arg);
}

static void on_poll_closed(uv_handle_t *h)
{
	free_spool(h->data);
}

void spool_close(struct spool *sp, void (*done)(void *arg), void *arg)
{
	sp->done = done;
	sp->done_arg = arg;
	if (sp->polling)
		uv_close((uv_handle_t *)&sp->poll, on_poll_closed);
	else
		free_spool(sp);
}

/* ---- the worker: claiming and reading ---- */

enum spool_check spool_check_cand(struct spool *sp, const struct spool_cand *c)
{
	struct spool_folder *f = c->folder;
	struct spool_look look;
	struct stat st;

	if (c->claimed || f == NULL)
		return SPOOL_SAME;
	if (f->origin != SPOOL_TOP &&
	    (fstatat(sp->incoming, f->name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	     st.st_dev != f->st.st_dev || st.st_ino != f->st.st_ino))
		return SPOOL_GONE;   /* the folder was moved away: its files are not in incoming/ */
	if (fstatat(f->fd, c->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? SPOOL_GONE : SPOOL_CHANGED;
	spool_look_of(&st, &look);
	if (c->not_file)
		return S_ISREG(st.st_mode) || look.dev != c->look.dev || look.ino != c->look.ino ?
		    SPOOL_CHANGED : SPOOL_SAME;
	return S_ISREG(st.st_mode) && spool_look_same(&look, &c->look) ? SPOOL_SAME : SPOOL_CHANGED;
}

int spool_claim(struct spool *sp, const struct spool_cand *c, const char *claimed)
{
	if (renameat2(c->folder->fd, c->name, sp->claimed, claimed, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	/* a file system without RENAME_NOREPLACE: the claimed name is unique anyway */
	return renameat(c->folder->fd, c->name, sp->claimed, claimed);
}

int spool_claimed_exists(struct spool *sp, const char *claimed)
{
	struct stat st;

	if (fstatat(sp->claimed, claimed, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

int spool_sync_claimed(struct spool *sp, struct spool_folder *const *from, size_t n)
{
	if (fsync(sp->claimed) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int dup_ = 0;
		for (size_t k = 0; k < i; k++)
			dup_ |= from[k] == from[i];
		/* a unit's folder may refuse fsync to its non-owner reader: EACCES/EBADF are not lost data */
		if (!dup_ && fsync(from[i]->fd) != 0 && errno != EINVAL && errno != EBADF)
			return -1;
	}
	return 0;
}

int spool_read_claimed(struct spool *sp, const char *claimed, const struct spool_look *expect,
    size_t max, struct spool_read *out)
{
	struct stat st, st2;
	int fd;

	memset(out, 0, sizeof(*out));
	if (fstatat(sp->claimed, claimed, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		out->result = errno == ENOENT ? SPOOL_READ_GONE : SPOOL_READ_UNREADABLE;
		out->err = errno;
		return 0;
	}
	spool_look_of(&st, &out->look);
	out->uid = st.st_uid;
	if (!S_ISREG(st.st_mode)) {
		out->result = SPOOL_READ_NOT_FILE;
		return 0;
	}
	if (st.st_nlink > 1) {
		out->result = SPOOL_READ_LINKED;
		return 0;
	}
	if (expect != NULL && !spool_look_same(expect, &out->look)) {
		out->result = SPOOL_READ_CHANGED;
		return 0;
	}
	fd = openat(sp->claimed, claimed, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		out->result = SPOOL_READ_UNREADABLE;
		out->err = errno;
		return 0;
	}
	if (fstat(fd, &st2) != 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino ||
	    !S_ISREG(st2.st_mode) || st2.st_nlink > 1) {
		close(fd);
		out->result = SPOOL_READ_CHANGED;
		return 0;
	}
	if ((uint64_t)st2.st_size > max) {
		struct hash_ctx *ctx = hash_new();
		char buf[65536];
		ssize_t n = -1;
		while (ctx && (n = read(fd, buf, sizeof(buf))) > 0)
			if (hash_update(ctx, buf, (size_t)n) != 0)
				break;
		if (ctx && n == 0)
			hash_final_hex(ctx, out->sha256);
		else
			hash_free(ctx);
		out->result = n == 0 ? SPOOL_READ_TOO_LARGE : SPOOL_READ_UNREADABLE;
		out->err = errno;
	} else {
		size_t size = (size_t)st2.st_size, got = 0;
		out->data = malloc(size + 2);
		if (out->data == NULL) {
			close(fd);
			out->result = SPOOL_READ_UNREADABLE;
			out->err = ENOMEM;
			return 0;
		}
		/* one byte more than its size: a file still growing is seen as such */
		while (got < size + 1) {
			ssize_t n = read(fd, out->data + got, size + 1 - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				out->result = SPOOL_READ_UNREADABLE;
				out->err = errno;
				break;
			}
			if (n == 0)
				break;
			got += (size_t)n;
		}
		out->len = got;
		out->data[got] = '\0';
		if (out->result == SPOOL_READ_OK && got != size)
			out->result = SPOOL_READ_CHANGED;
	}
	if (out->result == SPOOL_READ_OK || out->result == SPOOL_READ_TOO_LARGE) {
		struct spool_look after;
		if (fstat(fd, &st2) != 0) {
			out->result = SPOOL_READ_UNREADABLE;
			out->err = errno;
		} else {
			spool_look_of(&st2, &after);
			if (!spool_look_same(&after, &out->look)) {
				out->result = SPOOL_READ_CHANGED;
				out->look = after;
			}
		}
	}
	close(fd);
	if (out->result != SPOOL_READ_OK) {
		free(out->data);
		out->data = NULL;
		out->len = 0;
	}
	return 0;
}

void spool_read_free(struct spool_read *r)
{
	free(r->data);
	r->data = NULL;
}

/* ---- the worker: receipts and moves ---- */

struct out_dir {
	char key[NAME_MAX + 16];  /* "r/<folder>" or "a/YYYY/MM/DD" */
	int fd;                   /* owned, or -2 when unusable */
};

struct out_file {
	int dirfd;                /* borrowed from an out_dir */
	char tmp[NAME_MAX + 1], name[NAME_MAX + 1];
};

struct spool_out {
	struct spool *sp;
	struct out_dir *dirs;
	size_t ndirs, capdirs;
	struct out_file *files;
	size_t nfiles, capfiles;
	int *sync;                /* borrowed descriptors to fsync at commit or finish */
	size_t nsync, capsync;
};

struct spool_out *spool_out_new(struct spool *sp)
{
	struct spool_out *o = calloc(1, sizeof(*o));

	if (o != NULL)
		o->sp = sp;
	return o;
}

void spool_out_free(struct spool_out *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->nfiles; i++)
		unlinkat(o->files[i].dirfd, o->files[i].tmp, 0);   /* never renamed: a failed batch */
	for (size_t i = 0; i < o->ndirs; i++)
		if (o->dirs[i].fd >= 0)
			close(o->dirs[i].fd);
	free(o->dirs);
	free(o->files);
	free(o->sync);
	free(o);
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	void *q = realloc(*p, nc * size);
	if (q == NULL)
		return -1;
	*p = q;
	*cap = nc;
	return 0;
}

static void add_sync(struct spool_out *o, int fd)
{
	for (size_t i = 0; i < o->nsync; i++)
		if (o->sync[i] == fd)
			return;
	if (grow((void **)&o->sync, &o->capsync, o->nsync, sizeof(*o->sync)) == 0)
		o->sync[o->nsync++] = fd;
}

static struct out_dir *find_dir(struct spool_out *o, const char *key)
{
	for (size_t i = 0; i < o->ndirs; i++)
		if (strcmp(o->dirs[i].key, key) == 0)
			return &o->dirs[i];
	return NULL;
}

static struct out_dir *new_dir(struct spool_out *o, const char *key, int fd)
{
	struct out_dir *d;

	if (grow((void **)&o->dirs, &o->capdirs, o->ndirs, sizeof(*o->dirs)) != 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	d = &o->dirs[o->ndirs++];
	snprintf(d->key, sizeof(d->key), "%s", key);
	d->fd = fd;
	return d;
}

/* receipts/<folder>: its descriptor, -1 on a disk error, -2 when it cannot be used. */
static int receipt_dir(struct spool_out *o, const char *folder, gid_t gid)
{
	char key[NAME_MAX + 16];
	struct out_dir *d;
	struct stat st;
	int fd;

	if (*folder == '\0')
		return o->sp->receipts;
	snprintf(key, sizeof(key), "r/%s", folder);
	if ((d = find_dir(o, key)) != NULL)
		return d->fd;
	if (make_dir(o->sp->receipts, folder, gid != (gid_t)-1 ? 02750 : 0750, gid) < 0) {
		int disk = errno == ENOSPC || errno == EIO || errno == EDQUOT || errno == EROFS;
		log_err("intake: cannot make receipts/%s%s: %s", folder,
		    gid != (gid_t)-1 ? " with its unit's group" : "", strerror(errno));
		if (disk)
			return -1;
		d = new_dir(o, key, -2);
		return -2;
	}
	fd = open_dir_at(o->sp->receipts, folder, &st);
	if (fd < 0) {
		log_err("intake: receipts/%s: %s", folder, strerror(errno));
		d = new_dir(o, key, -2);
		return -2;
	}
	if ((st.st_uid != geteuid() && st.st_uid != 0) ||
	    (gid != (gid_t)-1 ? (st.st_gid != gid || (st.st_mode & 027)) : (st.st_mode & 022))) {
		log_err("intake: receipts/%s is not safe for its receipts (owner %ld, group %ld, mode "
		    "%04o); they go to receipts/ until it is", folder, (long)st.st_uid,
		    (long)st.st_gid, (unsigned)(st.st_mode & 07777));
		close(fd);
		d = new_dir(o, key, -2);
		return -2;
	}
	d = new_dir(o, key, fd);
	return d ? fd : -1;
}

/* Writes text into dirfd/tmp (new, mode 0640); -1 with errno, nothing left behind. */
static int write_new(int dirfd, const char *tmp, const void *data, size_t len, int sync)
{
	size_t off = 0;
	int fd, err;

	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0 && errno == EEXIST) {   /* left by a crash */
		unlinkat(dirfd, tmp, 0);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	}
	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t n = write(fd, (const char *)data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto fail;
		}
		off += (size_t)n;
	}
	if (sync && fsync(fd) != 0)
		goto fail;
	if (close(fd) == 0)
		return 0;
	fd = -1;
fail:
	/* a full disk: give back what the partial file took; errno says why */
	err = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = err;
	return -1;
}

static int add_file(struct spool_out *o, int dirfd, const char *tmp, const char *name,
    const char *text)
{
	struct out_file *f;

	if (grow((void **)&o->files, &o->capfiles, o->nfiles, sizeof(*o->files)) != 0) {
		errno = ENOMEM;
		return -1;
	}
	if (write_new(dirfd, tmp, text, strlen(text), 0) != 0)
		return -1;
	f = &o->files[o->nfiles++];
	f->dirfd = dirfd;
	snprintf(f->tmp, sizeof(f->tmp), "%s", tmp);
	snprintf(f->name, sizeof(f->name), "%s", name);
	return 0;
}

int spool_out_receipt(struct spool_out *o, const char *folder, gid_t gid, const char *stem,
    int64_t id, const char *ext, const char *text)
{
	char tmp[NAME_MAX + 1], name[NAME_MAX + 1];
	int dirfd = receipt_dir(o, folder, gid);

	if (dirfd < 0)
		return dirfd;
	snprintf(name, sizeof(name), "%s.%lld.receipt.%s", stem, (long long)id, ext);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	return add_file(o, dirfd, tmp, name, text);
}

int spool_out_reasons(struct spool_out *o, const char *name, const char *text)
{
	char tmp[NAME_MAX + 1], final[NAME_MAX + 1];

	snprintf(final, sizeof(final), "%s.reasons.txt", name);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", final);
	return add_file(o, o->sp->rejected, tmp, final, text);
}

int spool_out_commit(struct spool_out *o)
{
	int rc = 0, err = 0;

	if (o->nfiles == 0)
		return 0;
	/* one flush for the whole batch instead of one fsync per file */
	if (syncfs(o->sp->receipts) != 0 || syncfs(o->sp->rejected) != 0) {
		log_msg(LOG_LEVEL_DEBUG, "intake: syncfs of the spool: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < o->nfiles; i++) {
		struct out_file *f = &o->files[i];
		if (renameat(f->dirfd, f->tmp, f->dirfd, f->name) != 0) {
			err = errno;
			/* said at debug: the caller reports the failure once, loudly */
			log_msg(LOG_LEVEL_DEBUG, "intake: cannot rename %s to %s: %s", f->tmp, f->name,
			    strerror(errno));
			rc = -1;
			continue;
		}
		f->tmp[0] = '\0';
		add_sync(o, f->dirfd);
	}
	/* renamed: nothing for spool_out_free to remove */
	size_t k = 0;
	for (size_t i = 0; i < o->nfiles; i++)
		if (o->files[i].tmp[0] != '\0')
			o->files[k++] = o->files[i];
	o->nfiles = k;
	for (size_t i = 0; i < o->nsync; i++)
		if (fsync(o->sync[i]) != 0 && rc == 0) {
			err = errno;
			rc = -1;
		}
	o->nsync = 0;
	if (rc != 0)
		errno = err;
	return rc;
}

/* accepted/YYYY/MM/DD, made as needed. */
static int day_dir(struct spool_out *o, const char *day)
{
	char key[NAME_MAX + 16], part[8];
	struct out_dir *d;
	struct stat st;
	int fd = o->sp->accepted;

	snprintf(key, sizeof(key), "a/%s", day);
	if ((d = find_dir(o, key)) != NULL)
		return d->fd;
	for (const char *p = day; *p;) {
		size_t n = strcspn(p, "/");
		int next, made;
		snprintf(part, sizeof(part), "%.*s", (int)(n < 7 ? n : 7), p);
		made = make_dir(fd, part, 0750, (gid_t)-1);
		/* a folder just made must reach the disk in its parent before files go in it */
		if (made < 0 || (made == 1 && fsync(fd) != 0) ||
		    (next = open_dir_at(fd, part, &st)) < 0) {
			if (fd != o->sp->accepted)
				close(fd);
			return -1;
		}
		if (fd != o->sp->accepted)
			close(fd);
		fd = next;
		p += n;
		if (*p == '/')
			p++;
	}
	d = new_dir(o, key, fd);
	return d ? fd : -1;
}

int spool_out_move(struct spool_out *o, const char *claimed, const char *day, const char *name,
    const struct spool_look *expect, const void *copy, size_t copylen)
{
	struct spool *sp = o->sp;
	char aside[NAME_MAX + 1], tmp[NAME_MAX + 1];
	struct spool_look now;
	struct stat st;
	int dirfd = day ? day_dir(o, day) : sp->rejected, changed = 0;

	if (dirfd < 0)
		return -1;
	snprintf(aside, sizeof(aside), "%.*s.changed", NAME_MAX - 8, name);
	if (expect != NULL && fstatat(sp->claimed, claimed, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		spool_look_of(&st, &now);
		changed = S_ISREG(st.st_mode) && !spool_look_same(&now, expect);
	}
	if (changed) {
		/* written to after it was read: what was recorded is what is kept */
		log_warn("intake: claimed/%s changed after it was read (a writer kept it open); the "
		    "bytes recorded are kept as %s, the changed file as %s", claimed, name, aside);
		if (copy != NULL) {
			snprintf(tmp, sizeof(tmp), ".%.*s.tmp", NAME_MAX - 6, name);
			if (write_new(dirfd, tmp, copy, copylen, 1) != 0)
				return -1;
			if (renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE) != 0 &&
			    errno != EEXIST) {
				int err = errno;
				unlinkat(dirfd, tmp, 0);
				errno = err;
				return -1;
			}
			unlinkat(dirfd, tmp, 0);
		}
		if (renameat(sp->claimed, claimed, dirfd, aside) != 0)
			return -1;
	} else if (renameat2(sp->claimed, claimed, dirfd, name, RENAME_NOREPLACE) != 0) {
		/* a copy of a changed file from a run that crashed is there: keep both */
		if (errno == EEXIST) {
			if (renameat(sp->claimed, claimed, dirfd, aside) != 0)
				return -1;
		} else if (errno != EINVAL || renameat(sp->claimed, claimed, dirfd, name) != 0) {
			return -1;
		}
	}
	add_sync(o, dirfd);
	return 0;
}

int spool_out_finish(struct spool_out *o)
{
	int rc = 0;

	add_sync(o, o->sp->claimed);
	for (size_t i = 0; i < o->nsync; i++)
		if (fsync(o->sync[i]) != 0)
			rc = -1;
	o->nsync = 0;
	return rc;
}
