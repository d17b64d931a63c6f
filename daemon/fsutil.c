/*
 * fsutil.c: the file-system steps that durability rests on: creating
 * folders, fsync of files and of the folders that name them, and rename
 * made durable. Every caller that says "saved" has gone through here.
 */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fsutil_mkdir_p(const char *path, mode_t mode, char *failed, size_t failed_size)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	struct stat st;

	if (len == 0 || len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		snprintf(failed, failed_size, "%s", path);
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char saved = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, mode) != 0) {
			int err = errno;
			if (err != EEXIST || stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
				snprintf(failed, failed_size, "%s", buf);
				errno = err == EEXIST ? ENOTDIR : err;
				return -1;
			}
		}
		buf[i] = saved;
	}
	return 0;
}

int fsutil_fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc, err;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	err = errno;
	close(fd);
	errno = err;
	return rc;
}

int fsutil_fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	return fsutil_fsync_path(dir);
}

int fsutil_rename_durable(const char *from, const char *to)
{
	if (rename(from, to) != 0)
		return -1;
	return fsutil_fsync_parent(to);
}
