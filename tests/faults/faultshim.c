/*
 * faultshim.c: an LD_PRELOAD library that makes chosen file-system calls of
 * the process it is loaded into fail with a chosen errno, so that the fault
 * tests (tests/e2e/test_faults.py) can give vanthud a full disk or a failing
 * one at a chosen point and take it away again while the daemon runs. It
 * owns the rule file's format and nothing else: no call it does not fail is
 * changed in any way.
 *
 * VANTHU_FAULT_CTL names the rule file. It is read again when its mtime,
 * size or inode change, looked at no more often than every 5 ms; a missing
 * or empty file means no faults. One rule a line, '#' starts a comment:
 *
 *     OP ERRNO GLOB [after=N] [count=N]
 *
 *   OP     write  write, pwrite, pwrite64, writev, pwritev (any data written)
 *          fsync  fsync and fdatasync;  fdatasync  fdatasync only
 *          syncfs syncfs;  sync  fsync, fdatasync and syncfs
 *          rename rename, renameat, renameat2 (the rule matches either name)
 *          open   open, open64, openat, openat64, creat with O_CREAT
 *          *      every one of them
 *   ERRNO  ENOSPC, EIO, EDQUOT, EROFS, EACCES, EPERM, EFBIG, or a number;
 *          or KILL: the call is made as asked and then the process sends
 *          itself SIGKILL, for crash tests (a rename rule on a glob ending in
 *          /claimed/ and "*": the daemon dies right after that rename took effect)
 *   GLOB   fnmatch(3) pattern without flags ('*' also matches '/') on the
 *          absolute path; for calls on a descriptor the path is read from
 *          /proc/self/fd (syncfs: the descriptor's own path). Only files
 *          are ever failed: a descriptor without a path (a socket, a pipe,
 *          libuv's signal pipe) is let through, so the control socket keeps
 *          answering under "write ENOSPC *"
 *   after=N  let the first N matching calls through;  count=N  fail N calls
 *          at most, then let them through. Counters restart when the file
 *          is read again.
 *
 * VANTHU_FAULT_LOG, when set, names a file that gets one line for every call
 * failed: "OP ERRNO PATH". Writes to that file are never failed.
 *
 * Safety: the shim allocates nothing itself; the rule table is a fixed
 * array behind a spin lock; a thread already inside the shim (a signal
 * handler that writes while the thread it interrupted was deciding) is let
 * through untouched, so it cannot deadlock on the lock. Under a sanitizer build, load
 * the sanitizer's runtime first: LD_PRELOAD="libasan.so.8 faultshim.so".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum {
	OP_WRITE = 1 << 0,
	OP_FSYNC = 1 << 1,
	OP_FDATASYNC = 1 << 2,
	OP_SYNCFS = 1 << 3,
	OP_RENAME = 1 << 4,
	OP_OPEN = 1 << 5,
};

#define MAX_RULES 32
#define ERR_KILL (-9)    /* "KILL": do the call, then SIGKILL */
#define CHECK_NS (5 * 1000 * 1000L)

struct rule {
	unsigned ops;
	int err;
	long after, count;   /* count < 0: no limit */
	long seen, failed;
	char glob[PATH_MAX];
};

static struct rule rules[MAX_RULES];
static int nrules;
static atomic_uint active_ops;      /* union of the rules' ops: the fast path */
static atomic_flag lock = ATOMIC_FLAG_INIT;
static struct timespec last_check;
static struct stat last_st;
static int have_file = -1;
static char ctl_path[PATH_MAX];
static char log_path[PATH_MAX];
static int log_fd = -1;
static __thread int busy __attribute__((tls_model("initial-exec")));

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_syncfs)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *, unsigned);
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_creat)(const char *, mode_t);
static ssize_t (*real_read)(int, void *, size_t);
static int (*real_close)(int);

#define RESOLVE(name) \
	do { \
		if (real_##name == NULL) \
			*(void **)&real_##name = dlsym(RTLD_NEXT, #name); \
	} while (0)

static void resolve_all(void)
{
	RESOLVE(write);
	RESOLVE(pwrite);
	RESOLVE(pwrite64);
	RESOLVE(writev);
	RESOLVE(pwritev);
	RESOLVE(fsync);
	RESOLVE(fdatasync);
	RESOLVE(syncfs);
	RESOLVE(rename);
	RESOLVE(renameat);
	RESOLVE(renameat2);
	RESOLVE(open);
	RESOLVE(open64);
	RESOLVE(openat);
	RESOLVE(openat64);
	RESOLVE(creat);
	RESOLVE(read);
	RESOLVE(close);
}

__attribute__((constructor)) static void shim_init(void)
{
	const char *c = getenv("VANTHU_FAULT_CTL"), *l = getenv("VANTHU_FAULT_LOG");

	resolve_all();
	if (c != NULL && strlen(c) < sizeof(ctl_path))
		strcpy(ctl_path, c);
	if (l != NULL && strlen(l) < sizeof(log_path))
		strcpy(log_path, l);
}

static void lock_rules(void)
{
	while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
		;
}

static void unlock_rules(void)
{
	atomic_flag_clear_explicit(&lock, memory_order_release);
}

static unsigned parse_ops(const char *s)
{
	static const struct { const char *name; unsigned ops; } names[] = {
		{ "write", OP_WRITE }, { "fsync", OP_FSYNC | OP_FDATASYNC },
		{ "fdatasync", OP_FDATASYNC }, { "syncfs", OP_SYNCFS },
		{ "sync", OP_FSYNC | OP_FDATASYNC | OP_SYNCFS }, { "rename", OP_RENAME },
		{ "open", OP_OPEN }, { "*", ~0u },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].ops;
	return 0;
}

static int parse_errno(const char *s)
{
	static const struct { const char *name; int err; } names[] = {
		{ "ENOSPC", ENOSPC }, { "EIO", EIO }, { "EDQUOT", EDQUOT }, { "EROFS", EROFS },
		{ "EACCES", EACCES }, { "EPERM", EPERM }, { "EFBIG", EFBIG }, { "KILL", ERR_KILL },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].err;
	return atoi(s) > 0 ? atoi(s) : 0;
}

/* Parses the rule file's text into the table; bad lines are skipped. Lock held. */
static void parse_rules(char *text)
{
	unsigned all = 0;
	char *save = NULL;

	nrules = 0;
	for (char *line = strtok_r(text, "\n", &save); line && nrules < MAX_RULES;
	     line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#'), *ws = NULL, *tok[5];
		int n = 0;
		if (hash)
			*hash = '\0';
		for (char *t = strtok_r(line, " \t\r", &ws); t && n < 5; t = strtok_r(NULL, " \t\r", &ws))
			tok[n++] = t;
		if (n < 3)
			continue;
		struct rule *r = &rules[nrules];
		memset(r, 0, sizeof(*r));
		r->ops = parse_ops(tok[0]);
		r->err = parse_errno(tok[1]);
		r->count = -1;
		if (r->ops == 0 || r->err == 0 || strlen(tok[2]) >= sizeof(r->glob))
			continue;
		strcpy(r->glob, tok[2]);
		for (int i = 3; i < n; i++) {
			if (strncmp(tok[i], "after=", 6) == 0)
				r->after = atol(tok[i] + 6);
			else if (strncmp(tok[i], "count=", 6) == 0)
				r->count = atol(tok[i] + 6);
		}
		all |= r->ops;
		nrules++;
	}
	atomic_store(&active_ops, all);
}

/* Reads the rule file again when it changed; at most every CHECK_NS. Lock held. */
static void maybe_reload(void)
{
	static char text[MAX_RULES * 160];
	struct timespec now;
	struct stat st;
	ssize_t got = 0;
	int fd;

	if (ctl_path[0] == '\0')
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (have_file >= 0 && (now.tv_sec - last_check.tv_sec) * 1000000000L +
	    (now.tv_nsec - last_check.tv_nsec) < CHECK_NS)
		return;
	last_check = now;
	if (stat(ctl_path, &st) != 0) {
		if (have_file != 0) {
			nrules = 0;
			atomic_store(&active_ops, 0);
		}
		have_file = 0;
		return;
	}
	if (have_file == 1 && st.st_mtim.tv_sec == last_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == last_st.st_mtim.tv_nsec && st.st_size == last_st.st_size &&
	    st.st_ino == last_st.st_ino)
		return;
	fd = real_open(ctl_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while ((size_t)got < sizeof(text) - 1) {
		ssize_t n = real_read(fd, text + got, sizeof(text) - 1 - (size_t)got);
		if (n <= 0)
			break;
		got += n;
	}
	real_close(fd);
	text[got] = '\0';
	last_st = st;
	have_file = 1;
	parse_rules(text);
}

static void fd_path(int fd, char *out, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
}

/* An absolute form of path (relative to dirfd or the working folder). */
static void abs_path(int dirfd, const char *path, char *out, size_t len)
{
	char base[PATH_MAX];

	if (path == NULL) {
		out[0] = '\0';
		return;
	}
	if (path[0] == '/') {
		snprintf(out, len, "%s", path);
		return;
	}
	if (dirfd == AT_FDCWD) {
		if (getcwd(base, sizeof(base)) == NULL)
			base[0] = '\0';
	} else {
		fd_path(dirfd, base, sizeof(base));
	}
	snprintf(out, len, "%s/%s", base, path);
}

static const char *op_name(unsigned op)
{
	switch (op) {
	case OP_WRITE: return "write";
	case OP_FSYNC: return "fsync";
	case OP_FDATASYNC: return "fdatasync";
	case OP_SYNCFS: return "syncfs";
	case OP_RENAME: return "rename";
	default: return "open";
	}
}

static void log_fault(unsigned op, int err, const char *path)
{
	char line[PATH_MAX + 64];
	int n;

	if (log_path[0] == '\0')
		return;
	if (log_fd < 0)
		log_fd = real_open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (log_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s %d %s\n", op_name(op), err, path);
	if (n > 0)
		(void)real_write(log_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* The errno to fail this call with, or 0. a and b are the paths it touches (b may be NULL). */
static int decide(unsigned op, const char *a, const char *b)
{
	int err = 0;

	lock_rules();
	for (int i = 0; i < nrules && err == 0; i++) {
		struct rule *r = &rules[i];
		if (!(r->ops & op))
			continue;
		if (fnmatch(r->glob, a, 0) != 0 && (b == NULL || fnmatch(r->glob, b, 0) != 0))
			continue;
		if (r->seen++ < r->after)
			continue;
		if (r->count >= 0 && r->failed >= r->count)
			continue;
		r->failed++;
		err = r->err;
	}
	if (err != 0)
		log_fault(op, err, a);
	unlock_rules();
	return err;
}

/*
 * Whether any rule may concern op; reloads the rule file when due. Sets busy
 * when it returns 1: the caller clears it. A call made by a thread already
 * inside the shim (a signal handler) is never failed.
 */
static int wanted(unsigned op)
{
	if (ctl_path[0] == '\0' || busy)
		return 0;
	busy = 1;
	lock_rules();
	maybe_reload();
	unlock_rules();
	if ((atomic_load(&active_ops) & op) != 0)
		return 1;
	busy = 0;
	return 0;
}

static int fault_fd(unsigned op, int fd)
{
	char path[PATH_MAX];
	int err = 0;

	if (fd >= 0 && fd == log_fd)
		goto out;
	fd_path(fd, path, sizeof(path));
	if (path[0] == '/')
		err = decide(op, path, NULL);
out:
	busy = 0;
	return err;
}

static int fault_paths(unsigned op, int dfa, const char *a, int dfb, const char *b)
{
	char pa[PATH_MAX], pb[PATH_MAX];
	int err;

	abs_path(dfa, a, pa, sizeof(pa));
	abs_path(dfb, b, pb, sizeof(pb));
	err = decide(op, pa, b ? pb : NULL);
	busy = 0;
	return err;
}

/* A KILL rule: the call takes effect, then the process dies at once. */
#define kill_after(call) \
	do { \
		(void)(call); \
		raise(SIGKILL); \
	} while (0)

#define FD_CALL(op, fd, fail, call) \
	do { \
		int e_; \
		resolve_all(); \
		if (wanted(op) && (e_ = fault_fd(op, fd)) != 0) { \
			if (e_ == ERR_KILL) \
				kill_after(call); \
			errno = e_; \
			return fail; \
		} \
		return call; \
	} while (0)

ssize_t write(int fd, const void *buf, size_t n)
{
	FD_CALL(OP_WRITE, fd, -1, real_write(fd, buf, n));
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	FD_CALL(OP_WRITE, fd, -1, real_pwrite(fd, buf, n, off));
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	FD_CALL(OP_WRITE, fd, -1, real_pwrite64(fd, buf, n, off));
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	FD_CALL(OP_WRITE, fd, -1, real_writev(fd, iov, cnt));
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	FD_CALL(OP_WRITE, fd, -1, real_pwritev(fd, iov, cnt, off));
}

int fsync(int fd)
{
	FD_CALL(OP_FSYNC, fd, -1, real_fsync(fd));
}

int fdatasync(int fd)
{
	FD_CALL(OP_FDATASYNC, fd, -1, real_fdatasync(fd));
}

int syncfs(int fd)
{
	FD_CALL(OP_SYNCFS, fd, -1, real_syncfs(fd));
}

#define PATH_CALL(op, dfa, a, dfb, b, fail, call) \
	do { \
		int e_; \
		resolve_all(); \
		if (wanted(op) && (e_ = fault_paths(op, dfa, a, dfb, b)) != 0) { \
			if (e_ == ERR_KILL) \
				kill_after(call); \
			errno = e_; \
			return fail; \
		} \
		return call; \
	} while (0)

int rename(const char *from, const char *to)
{
	PATH_CALL(OP_RENAME, AT_FDCWD, from, AT_FDCWD, to, -1, real_rename(from, to));
}

int renameat(int dfrom, const char *from, int dto, const char *to)
{
	PATH_CALL(OP_RENAME, dfrom, from, dto, to, -1, real_renameat(dfrom, from, dto, to));
}

int renameat2(int dfrom, const char *from, int dto, const char *to, unsigned flags)
{
	PATH_CALL(OP_RENAME, dfrom, from, dto, to, -1,
	    real_renameat2(dfrom, from, dto, to, flags));
}

/* The mode argument is there only with O_CREAT or O_TMPFILE. */
#define OPEN_MODE(flags, mode) \
	do { \
		if (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE) { \
			va_list ap_; \
			va_start(ap_, flags); \
			mode = (mode_t)va_arg(ap_, int); \
			va_end(ap_); \
		} \
	} while (0)

#define OPEN_CALL(flags, dfd, path, call) \
	do { \
		int e_; \
		resolve_all(); \
		if (((flags) & O_CREAT) && wanted(OP_OPEN) && \
		    (e_ = fault_paths(OP_OPEN, dfd, path, AT_FDCWD, NULL)) != 0) { \
			errno = e_; \
			return -1; \
		} \
		return call; \
	} while (0)

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	OPEN_CALL(flags, AT_FDCWD, path, real_open(path, flags, mode));
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	OPEN_CALL(flags, AT_FDCWD, path, real_open64(path, flags, mode));
}

int openat(int dfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	OPEN_CALL(flags, dfd, path, real_openat(dfd, path, flags, mode));
}

int openat64(int dfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	OPEN_CALL(flags, dfd, path, real_openat64(dfd, path, flags, mode));
}

int creat(const char *path, mode_t mode)
{
	OPEN_CALL(O_CREAT, AT_FDCWD, path, real_creat(path, mode));
}
