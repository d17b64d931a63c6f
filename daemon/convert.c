/*
 * convert.c: DOCX to PDF through the vanthu-convert helper (see
 * vanthu-convert.c for the line protocol on its fd 3). Owns the helper's
 * life: spawning it (posix_spawn, own process group, stdin/stdout/stderr on
 * /dev/null as LibreOffice prints junk there), waiting for READY, one request
 * at a time under a mutex, a deadline on every answer, and killing, reaping
 * (waitpid on its own pid only: vanthud installs no SIGCHLD handler and never
 * waits for any child) and restarting a helper that died, hung or answered
 * garbage.
 */
#include "convert.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Where `make install` puts the helper; the Makefile passes $(PREFIX)/lib/vanthu. */
#ifndef VANTHU_LIBEXECDIR
#define VANTHU_LIBEXECDIR "/usr/local/lib/vanthu"
#endif

#define HELPER_NAME "vanthu-convert"
#define DEFAULT_OFFICE "/usr/lib/libreoffice/program"
#define DEFAULT_TIMEOUT_MS 120000
#define READY_TIMEOUT_MS 90000 /* LibreOffice's first start with a new profile is slow */
#define STOP_GRACE_MS 5000     /* how long an orderly stop waits before SIGKILL */
#define PATH_CAP 4000          /* one path of a request; the helper has the same cap */
#define ANSWER_CAP 512         /* one answer line from the helper */
#define ENV_CAP 4096           /* variables passed on to the helper */
/* LibreOffice's caches grow with every document (to ~310 MiB after 400): a fresh helper then */
#define RECYCLE_AFTER 256

struct converter {
	pthread_mutex_t lock; /* one conversion (and one restart) at a time */
	char *helper;         /* owned: the helper program's path */
	char *office;         /* owned: LibreOffice's program folder */
	char *profile;        /* owned: the profile folder */
	int timeout_ms;
	int fd;               /* our end of the socketpair; -1 when no helper runs */
	atomic_int pid;       /* the helper's pid, 0 when none: read without the lock */
	char version[64];     /* what READY said */
	unsigned converted;   /* by the helper now running: it is replaced after `recycle` */
	unsigned recycle;
};

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The default helper: beside the running executable, else the install location. */
static char *default_helper(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash && (size_t)(slash - exe) + 1 + sizeof HELPER_NAME <= sizeof exe) {
			memcpy(slash + 1, HELPER_NAME, sizeof HELPER_NAME);
			if (access(exe, X_OK) == 0)
				return strdup(exe);
		}
	}
	return strdup(VANTHU_LIBEXECDIR "/" HELPER_NAME);
}

/* mkdir -p, every folder it makes 0700; the last must end up a folder. */
static int make_profile_dir(const char *path, char *err, size_t errlen)
{
	char buf[PATH_CAP + 1];
	struct stat st;
	size_t n = strlen(path);
	if (n == 0 || n > PATH_CAP || path[0] != '/') {
		snprintf(err, errlen, "profile folder must be an absolute path of at most %d bytes",
		    PATH_CAP);
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char saved = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", buf, strerror(errno));
			return -1;
		}
		buf[i] = saved;
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "profile %s is not a folder", path);
		return -1;
	}
	return 0;
}

/* Kills the helper's process group, reaps the helper, closes the channel. */
static void helper_kill(struct converter *c)
{
	c->converted = 0;
	pid_t pid = (pid_t)atomic_load(&c->pid);
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (pid <= 0)
		return;
	kill(-pid, SIGKILL); /* the group: LibreOffice's own children too */
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	atomic_store(&c->pid, 0);
}

/*
 * Whether the helper has ended, waiting up to wait_ms; when it has, its
 * process group is killed (while its zombie still holds the group's id), it is
 * reaped, and how it ended goes to how ("exited with 1", "killed by signal 11").
 */
static bool helper_ended(struct converter *c, int wait_ms, char *how, size_t howlen)
{
	pid_t pid = (pid_t)atomic_load(&c->pid);
	long deadline = now_ms() + wait_ms;
	how[0] = '\0';
	if (pid <= 0)
		return true;
	for (;;) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
			if (errno == EINTR)
				continue;
			atomic_store(&c->pid, 0); /* ECHILD: someone reaped it (SIGCHLD ignored) */
			return true;
		}
		if (si.si_pid == pid)
			break;
		if (now_ms() >= deadline)
			return false;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	int st = 0;
	kill(-pid, SIGKILL); /* what LibreOffice may have left in the group */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st))
		snprintf(how, howlen, " (killed by signal %d)", WTERMSIG(st));
	else if (WIFEXITED(st))
		snprintf(how, howlen, " (exited with %d)", WEXITSTATUS(st));
	atomic_store(&c->pid, 0);
	return true;
}

/*
 * Reads one answer line into line (newline dropped) before deadline (ms of
 * now_ms). 0: a line; -1: the helper closed the channel or failed (err
 * says); -2: timed out; -3: not a line of the protocol.
 */
static int read_line(struct converter *c, long deadline, char *line, size_t cap, char *err,
    size_t errlen)
{
	size_t len = 0;
	for (;;) {
		long left = deadline - now_ms();
		if (left <= 0)
			return -2;
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int pr = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		if (pr == 0)
			return -2;
		/* byte by byte up to the newline: nothing of a later line is consumed */
		char ch;
		ssize_t r = recv(c->fd, &ch, 1, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(err, errlen, "reading from the helper: %s", strerror(errno));
			return -1;
		}
		if (r == 0) {
			char how[64];
			helper_ended(c, 500, how, sizeof how);
			snprintf(err, errlen, "the helper ended%s", how);
			return -1;
		}
		if (ch == '\n') {
			line[len] = '\0';
			return 0;
		}
		if (len + 1 >= cap || (unsigned char)ch < 0x20 || ch == 0x7f)
			return -3;
		line[len++] = ch;
	}
}

/* Writes all of s before deadline; 0, or -1 with err. */
static int send_all(struct converter *c, long deadline, const char *s, size_t n, char *err,
    size_t errlen)
{
	while (n > 0) {
		long left = deadline - now_ms();
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		if (left <= 0) {
			snprintf(err, errlen, "the helper does not read its requests");
			return -1;
		}
		int pr = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			snprintf(err, errlen, "the helper does not read its requests");
			return -1;
		}
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			char how[64];
			helper_ended(c, 500, how, sizeof how);
			snprintf(err, errlen, "writing to the helper: %s%s", strerror(errno), how);
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* environ without LD_PRELOAD (a sanitizer's runtime must not reach LibreOffice). */
static char **helper_env(void)
{
	size_t n = 0, k = 0;
	while (environ && environ[n] && n < ENV_CAP)
		n++;
	char **env = calloc(n + 1, sizeof *env);
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
			env[k++] = environ[i];
	env[k] = NULL;
	return env;
}

/* Spawns the helper and waits for READY; 0, or -1 with err (nothing left running). */
static int helper_start(struct converter *c, char *err, size_t errlen)
{
	int sv[2] = { -1, -1 };
	int child_end = -1;
	char **env = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	bool fa_made = false, attr_made = false;
	sigset_t none, all;
	pid_t pid = 0;
	int rc = -1, e;
	char line[ANSWER_CAP];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		goto out;
	}
	/* the child's end must not already be fd 3: dup2(3, 3) would keep CLOEXEC */
	child_end = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
	if (child_end < 0) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		goto out;
	}
	env = helper_env();
	if (!env) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((e = posix_spawn_file_actions_init(&fa)) != 0)
		goto spawn_err;
	fa_made = true;
	if ((e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
	    (e = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(&fa, 1, 2)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(&fa, child_end, 3)) != 0 ||
	    (e = posix_spawn_file_actions_addclosefrom_np(&fa, 4)) != 0)
		goto spawn_err;
	if ((e = posix_spawnattr_init(&attr)) != 0)
		goto spawn_err;
	attr_made = true;
	sigemptyset(&none);
	sigfillset(&all);
	if ((e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETPGROUP)) != 0 ||
	    (e = posix_spawnattr_setsigmask(&attr, &none)) != 0 ||
	    (e = posix_spawnattr_setsigdefault(&attr, &all)) != 0 ||
	    (e = posix_spawnattr_setpgroup(&attr, 0)) != 0)
		goto spawn_err;
	{
		char *argv[] = { c->helper, c->office, c->profile, NULL };
		if ((e = posix_spawn(&pid, c->helper, &fa, &attr, argv, env)) != 0)
			goto spawn_err;
	}
	atomic_store(&c->pid, (int)pid);
	c->fd = sv[0];
	sv[0] = -1;
	/* the child's end is the child's only: its death must be our EOF */
	close(child_end);
	child_end = -1;
	close(sv[1]);
	sv[1] = -1;

	switch (read_line(c, now_ms() + READY_TIMEOUT_MS, line, sizeof line, err, errlen)) {
	case 0:
		if (strncmp(line, "READY ", 6) == 0) {
			snprintf(c->version, sizeof c->version, "%s", line + 6);
			rc = 0;
		} else if (strncmp(line, "ERR ", 4) == 0) {
			snprintf(err, errlen, "%s: %s", c->helper, line + 4);
		} else {
			snprintf(err, errlen, "%s: not ready but \"%.60s\"", c->helper, line);
		}
		break;
	case -1: {
		char why[200];
		snprintf(why, sizeof why, "%s", err);
		snprintf(err, errlen, "%s: %s before it was ready", c->helper, why);
		break;
	}
	case -2:
		snprintf(err, errlen, "%s: not ready after %d s", c->helper, READY_TIMEOUT_MS / 1000);
		break;
	default:
		snprintf(err, errlen, "%s: garbage instead of READY", c->helper);
		break;
	}
	if (rc != 0)
		helper_kill(c);
	goto out;

spawn_err:
	snprintf(err, errlen, "cannot start %s: %s", c->helper, strerror(e));
out:
	if (attr_made)
		posix_spawnattr_destroy(&attr);
	if (fa_made)
		posix_spawn_file_actions_destroy(&fa);
	free(env);
	if (child_end >= 0)
		close(child_end);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return rc;
}

int convert_start(const struct convert_spec *spec, struct converter **out, char *err,
    size_t errlen)
{
	struct converter *c = NULL;
	*out = NULL;
	if (!spec || !spec->profile) {
		snprintf(err, errlen, "no profile folder for LibreOffice");
		return -1;
	}
	if (spec->timeout_ms < 0) {
		snprintf(err, errlen, "negative conversion timeout");
		return -1;
	}
	c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->fd = -1;
	atomic_init(&c->pid, 0);
	c->timeout_ms = spec->timeout_ms ? spec->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->recycle = spec->recycle ? spec->recycle : RECYCLE_AFTER;
	c->helper = spec->helper ? strdup(spec->helper) : default_helper();
	c->office = strdup(spec->office ? spec->office : DEFAULT_OFFICE);
	c->profile = strdup(spec->profile);
	if (!c->helper || !c->office || !c->profile) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		snprintf(err, errlen, "pthread_mutex_init failed");
		goto fail;
	}
	if (make_profile_dir(c->profile, err, errlen) != 0 || helper_start(c, err, errlen) != 0) {
		pthread_mutex_destroy(&c->lock);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	free(c->helper);
	free(c->office);
	free(c->profile);
	free(c);
	return -1;
}

/* A path the protocol can carry: absolute, bounded, no control characters. */
static bool request_path_ok(const char *p)
{
	size_t n = strlen(p);
	if (n < 2 || n > PATH_CAP || p[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return true;
}

/*
 * What a helper killed in the middle of a conversion leaves beside the PDF:
 * its temporary "<pdf>.<pid>.part" (vanthu-convert.c names it so) and the lock
 * file LibreOffice keeps while saving, ".~lock.<name>#" in the same folder.
 */
static void remove_leftovers(const char *pdf, pid_t pid)
{
	char tmp[PATH_CAP + 64], lock[PATH_CAP + 96];
	const char *slash = strrchr(pdf, '/');
	snprintf(tmp, sizeof tmp, "%s.%ld.part", pdf, (long)pid);
	unlink(tmp);
	if (!slash)
		return;
	snprintf(lock, sizeof lock, "%.*s/.~lock.%s.%ld.part#", (int)(slash - pdf), pdf, slash + 1,
	    (long)pid);
	unlink(lock);
}

/*
 * One request to a running (or started) helper. 0: OK; 1: the helper
 * refused (err has its message; the helper is fine); -1: the helper failed
 * (err says how; it is killed and reaped).
 */
static int attempt(struct converter *c, const char *req, size_t reqlen, const char *pdf,
    char *err, size_t errlen)
{
	char line[ANSWER_CAP];
	long deadline;
	pid_t pid;
	if (atomic_load(&c->pid) == 0 && helper_start(c, err, errlen) != 0)
		return -1;
	pid = (pid_t)atomic_load(&c->pid);
	deadline = now_ms() + c->timeout_ms;
	if (send_all(c, deadline, req, reqlen, err, errlen) != 0)
		goto failed;
	switch (read_line(c, deadline, line, sizeof line, err, errlen)) {
	case 0:
		if (strcmp(line, "OK") == 0)
			return 0;
		if (strncmp(line, "ERR ", 4) == 0) {
			snprintf(err, errlen, "%s", line + 4);
			return 1;
		}
		snprintf(err, errlen, "the helper answered garbage");
		goto failed;
	case -1:
		goto failed;
	case -2:
		snprintf(err, errlen, "timed out after %d ms", c->timeout_ms);
		goto failed;
	default:
		snprintf(err, errlen, "the helper answered garbage");
		goto failed;
	}
failed:
	helper_kill(c);
	remove_leftovers(pdf, pid);
	return -1;
}

int convert_docx_pdf(struct converter *c, const char *docx, const char *pdf, char *err,
    size_t errlen)
{
	char *req = NULL;
	int rc = -1;
	if (!c || !docx || !pdf) {
		snprintf(err, errlen, "no converter or no path");
		return -1;
	}
	if (!request_path_ok(docx) || !request_path_ok(pdf)) {
		snprintf(err, errlen, "paths must be absolute, at most %d bytes, without control "
		    "characters", PATH_CAP);
		return -1;
	}
	size_t reqlen = 8 + strlen(docx) + 1 + strlen(pdf) + 1;
	req = malloc(reqlen + 1);
	if (!req) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(req, reqlen + 1, "CONVERT %s\t%s\n", docx, pdf);

	pthread_mutex_lock(&c->lock);
	if (c->converted >= c->recycle && atomic_load(&c->pid) != 0) {
		helper_kill(c);
	}
	int r = attempt(c, req, reqlen, pdf, err, errlen);
	if (r < 0) { /* the helper died, hung or babbled: once more with a new one */
		char first[256];
		snprintf(first, sizeof first, "%s", err);
		r = attempt(c, req, reqlen, pdf, err, errlen);
		if (r < 0) {
			char second[256];
			snprintf(second, sizeof second, "%s", err);
			snprintf(err, errlen, "converting %s: %s; after a restart: %s", docx, first,
			    second);
		}
	}
	if (r == 0)
		c->converted++;
	pthread_mutex_unlock(&c->lock);
	if (r == 0)
		rc = 0;
	free(req);
	return rc;
}

pid_t convert_pid(struct converter *c)
{
	return c ? (pid_t)atomic_load(&c->pid) : 0;
}

void convert_stop(struct converter *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	pid_t pid = (pid_t)atomic_load(&c->pid);
	if (c->fd >= 0) { /* EOF tells the helper to leave */
		close(c->fd);
		c->fd = -1;
	}
	char how[64];
	if (pid > 0 && !helper_ended(c, STOP_GRACE_MS, how, sizeof how))
		helper_kill(c);
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_destroy(&c->lock);
	free(c->helper);
	free(c->office);
	free(c->profile);
	free(c);
}
