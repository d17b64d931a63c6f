/*
 * lockfile.c: the spool's lock. An flock on <spool>/.vanthud.lock, held as
 * long as the daemon lives, so that a second vanthud on the same spool
 * refuses to start. The kernel drops it when the holder dies, so a crash
 * never leaves a stale lock behind; the pid inside is only for messages.
 */
#include "lockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int lockfile_acquire(const char *path, char *err, size_t errlen)
{
	char buf[32];
	ssize_t n;
	int fd, len;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open lock file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		if (e == EWOULDBLOCK) {
			n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			snprintf(err, errlen, "another vanthud (pid %s) is already running on this "
			    "spool (lock %s held)", buf[0] ? buf : "?", path);
		} else {
			snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
		}
		close(fd);
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
		snprintf(err, errlen, "cannot write lock file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void lockfile_release(int fd)
{
	if (fd < 0)
		return;
	/* Empty the pid first, so nobody reads a dead pid as the holder. */
	if (ftruncate(fd, 0) != 0) {
		/* Nothing to do: the lock itself goes with close. */
	}
	close(fd);
}
