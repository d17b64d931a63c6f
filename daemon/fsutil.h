/* fsutil.h: durable file-system steps (see fsutil.c). */
#ifndef VANTHU_FSUTIL_H
#define VANTHU_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p with mode for the folders it creates. 0, or -1 with errno and the failing path in failed. */
int fsutil_mkdir_p(const char *path, mode_t mode, char *failed, size_t failed_size);
/* fsync of the folder that holds path. 0 or -1 with errno. */
int fsutil_fsync_parent(const char *path);
/* fsync of a file by name. 0 or -1 with errno. */
int fsutil_fsync_path(const char *path);
/* rename + fsync of the destination's folder. 0 or -1 with errno. */
int fsutil_rename_durable(const char *from, const char *to);

/*
 * A regular file (not a symlink) of at most max bytes, read whole into *out
 * (malloc'd, one byte more than *len). 0, or -1 with errno (EFBIG: larger).
 */
int fsutil_read_file(const char *path, size_t max, unsigned char **out, size_t *len);
/* Writes path as PATH.tmp (0640), fsync, rename and the folder's fsync; a failure removes the
 * temporary file. 0, or -1 with err (English). */
int fsutil_write_durable(const char *path, const void *buf, size_t len, char *err,
    size_t errlen);

#endif
