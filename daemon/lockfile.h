/* lockfile.h: one vanthud per spool (see lockfile.c). */
#ifndef VANTHU_LOCKFILE_H
#define VANTHU_LOCKFILE_H

#include <stddef.h>

/*
 * Takes the lock at path (an flock held for the life of the process) and
 * writes our pid in it. Returns the open descriptor, or -1 with a sentence
 * in err (naming the pid of the holder when another vanthud has it).
 */
int lockfile_acquire(const char *path, char *err, size_t errlen);
void lockfile_release(int fd);

#endif
