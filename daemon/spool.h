/* spool.h: the drop folders, as files only, every one by directory descriptor (see spool.c). */
#ifndef VANTHU_SPOOL_H
#define VANTHU_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <uv.h>

#include "hash.h"

struct spool;
struct spool_folder;   /* a folder of incoming/ that is scanned, held open */

/* Where in incoming/ a file was dropped. */
enum spool_origin {
	SPOOL_TOP = 0,     /* incoming/ itself */
	SPOOL_UNIT = 1,    /* incoming/<UNIT-CODE>/ */
	SPOOL_PERSON = 2,  /* incoming/@<login>/: one person's, who alone can write it */
};

/* A unit whose folders the spool makes and keeps for its Unix group alone. */
struct spool_unit {
	const char *code;  /* borrowed for the call */
	gid_t gid;
};

/* What a file looked like: it is the same file, unchanged, while these are. */
struct spool_look {
	int64_t dev, ino, size, mtime_ns;
};

/* A file the scan found ready to take, or one found in claimed/ (a crash, a wait). */
struct spool_cand {
	int claimed;                  /* found in claimed/: name is its claimed name */
	struct spool_folder *folder;  /* a reference (spool_cand_release), NULL when claimed */
	char *name;                   /* owned: the raw name in its folder, or the claimed name */
	int not_file;                 /* the scan saw no regular file (a link, a FIFO, a folder) */
	struct spool_look look;       /* what the scan saw (the entry itself, links not followed) */
	uid_t uid;                    /* its owner, as the scan saw it */
};

/* The folder's name in incoming/ ("" for incoming/ itself), its kind, and its owner. */
const char *spool_folder_name(const struct spool_folder *f);
enum spool_origin spool_folder_origin(const struct spool_folder *f);
uid_t spool_folder_owner(const struct spool_folder *f);

/*
 * Opens the spool at root (made when missing, mode 0711), and in it
 * incoming/ and receipts/ (0711), claimed/, accepted/, rejected/ and
 * outgoing/ (0750), each made when missing and then held open by
 * descriptor; a folder it did not make is never given a mode, and one that
 * is unsafe (not a folder, someone else's, writable by others) is refused
 * with the reason. Then watches incoming/ (inotify) on loop.
 */
int spool_open(uv_loop_t *loop, const char *root, unsigned settle_ms, struct spool **out,
    char *err, size_t errlen);
void spool_set_settle(struct spool *sp, unsigned settle_ms);
/*
 * The units kept isolated: for each, incoming/<code>/ (mode 2770) and
 * receipts/<code>/ (2750) are made with its group when missing; a folder of
 * theirs that is not so (another group, open to others) is not read until
 * it is, and the log says how to fix it.
 */
void spool_set_units(struct spool *sp, const struct spool_unit *units, size_t n);
/* cb(arg) is called on the loop when the kernel reports a change in incoming/. */
void spool_on_change(struct spool *sp, void (*cb)(void *arg), void *arg);
/*
 * Lists claimed/ and then every folder of incoming/, and puts up to max
 * candidates in out: everything in claimed/, and the files of incoming/
 * that are ready (renamed in, or closed after writing, or unchanged for
 * settle when the kernel said nothing). Returns 1 when more were left, else 0.
 */
int spool_scan(struct spool *sp, struct spool_cand *out, size_t max, size_t *n);
/* The worker found c changed or not complete: wait for it as for a file being written. */
void spool_not_ready(struct spool *sp, const struct spool_cand *c);
void spool_cand_release(struct spool_cand *c);
/* Stops watching; done(arg) runs once every handle is closed and the spool freed. */
void spool_close(struct spool *sp, void (*done)(void *arg), void *arg);

/* ---- on the worker thread ---- */

enum spool_check {
	SPOOL_SAME = 0,     /* still there, as the scan saw it */
	SPOOL_GONE = 1,     /* no longer there (taken back, or its folder moved) */
	SPOOL_CHANGED = 2,  /* there, but changed since */
};
/* Is c still in its folder, its folder still in incoming/, both as the scan saw them? */
enum spool_check spool_check_cand(struct spool *sp, const struct spool_cand *c);
/* Moves c into claimed/ as claimed (renameat, both by descriptor). 0, or -1 with errno. */
int spool_claim(struct spool *sp, const struct spool_cand *c, const char *claimed);
/* Is there an entry claimed/<claimed>? 1, 0, or -1 with errno. */
int spool_claimed_exists(struct spool *sp, const char *claimed);
/* fsync of claimed/ and of the n folders files were claimed from. 0 or -1 with errno. */
int spool_sync_claimed(struct spool *sp, struct spool_folder *const *from, size_t n);

enum spool_read_result {
	SPOOL_READ_OK = 0,        /* data holds the file's bytes */
	SPOOL_READ_GONE,          /* not in claimed/ */
	SPOOL_READ_NOT_FILE,      /* not a regular file: never opened */
	SPOOL_READ_LINKED,        /* more than one hard link: never opened */
	SPOOL_READ_UNREADABLE,    /* cannot be opened or read: err says why */
	SPOOL_READ_TOO_LARGE,     /* over max: only hashed, sha256 set */
	SPOOL_READ_CHANGED,       /* not as expected, or changed while read: look is what it is now */
};
struct spool_read {
	enum spool_read_result result;
	int err;                  /* UNREADABLE: the errno */
	char *data;               /* owned (OK): the bytes, NUL-terminated */
	size_t len;
	char sha256[HASH_HEX_LEN + 1]; /* TOO_LARGE */
	struct spool_look look;   /* what the file is now */
	uid_t uid;                /* its owner */
};
/*
 * Reads claimed/<claimed>: never following a link, never opening what is
 * not a regular file with one link, and comparing it with expect (NULL:
 * anything) before and after reading.
 */
int spool_read_claimed(struct spool *sp, const char *claimed, const struct spool_look *expect,
    size_t max, struct spool_read *out);
void spool_read_free(struct spool_read *r);

/* The receipts and moves of one batch: written, flushed, renamed, moved, synced. */
struct spool_out;
struct spool_out *spool_out_new(struct spool *sp);
/*
 * Writes receipts/<folder>/<stem>.<id>.receipt.<ext> under a hidden
 * temporary name ("" for receipts/ itself). The folder is made when missing:
 * with gid's group and mode 2750 when gid is not -1. 0; -1 on a disk error
 * (errno); -2 when that folder cannot be used (not made with its group, or
 * not safe): the caller writes the receipt elsewhere.
 */
int spool_out_receipt(struct spool_out *o, const char *folder, gid_t gid, const char *stem,
    int64_t id, const char *ext, const char *text);
/* Writes rejected/<name>.reasons.txt under a hidden temporary name. 0 or -1. */
int spool_out_reasons(struct spool_out *o, const char *name, const char *text);
/* One syncfs, then every temporary file renamed to its name, and their folders fsynced. */
int spool_out_commit(struct spool_out *o);
/*
 * Moves claimed/<claimed> to accepted/<day>/<name> (day "YYYY/MM/DD") or,
 * with day NULL, to rejected/<name>. When the file is no longer as expect
 * says (a writer kept it open), the bytes recorded (copy, copylen) are
 * written there instead and the changed file is kept beside it as
 * <name>.changed. 0 or -1 with errno.
 */
int spool_out_move(struct spool_out *o, const char *claimed, const char *day, const char *name,
    const struct spool_look *expect, const void *copy, size_t copylen);
/* fsync of claimed/ and of every folder the originals went to. 0 or -1. */
int spool_out_finish(struct spool_out *o);
void spool_out_free(struct spool_out *o);

/* The look of a stat. */
void spool_look_of(const struct stat *st, struct spool_look *out);
int spool_look_same(const struct spool_look *a, const struct spool_look *b);

#endif
