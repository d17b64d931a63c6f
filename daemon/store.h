/* store.h: the durable store, one SQLite file (see store.c). */
#ifndef VANTHU_STORE_H
#define VANTHU_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#define STORE_SCHEMA_VERSION 1

enum store_rc {
	STORE_OK = 0,
	STORE_ERR = -1,     /* I/O, full disk, out of memory: err says which */
	STORE_FOREIGN = -2, /* the file is not a vanthu database; it was not touched */
	STORE_CORRUPT = -3, /* quick_check failed; it was not touched */
	STORE_NEWER = -4,   /* written by a newer vanthu (schema above ours) */
	STORE_INVALID = -5, /* the caller's request cannot be done (err says why) */
};

struct store;

struct store_audit_entry {
	int64_t id;
	const char *at;        /* UTC, ISO 8601 with milliseconds */
	int64_t uid;           /* -1 for the daemon itself */
	const char *actor;     /* login name, or "vanthud" */
	const char *action;    /* e.g. daemon.start, backup */
	const char *object;    /* what it acted on, "" when nothing */
	const char *detail;
	const char *prev_hash; /* 64 hex digits */
	const char *hash;
};

struct store_stats {
	int schema_version;
	int64_t audit_entries;
	int64_t file_bytes;    /* the database file and its WAL */
};

/*
 * Opens (creating or migrating) the database at path. A file that is not a
 * vanthu database, is corrupt, or is from a newer vanthu is refused and left
 * untouched. On failure err holds a sentence for the log.
 */
int store_open(const char *path, struct store **out, char *err, size_t errlen);
/* The same checks as store_open, read-only, for `vanthud -n`; a missing file is fine. */
int store_probe(const char *path, char *err, size_t errlen);
void store_close(struct store *st);
const char *store_path(const struct store *st);

int store_stats(struct store *st, struct store_stats *out, char *err, size_t errlen);

/* Appends one entry to the hash-chained, append-only audit trail. */
int store_audit_append(struct store *st, int64_t uid, const char *actor, const char *action,
    const char *object, const char *detail, char *err, size_t errlen);
/* Newest first, at most limit entries with id below before (0: from the newest). */
typedef int (*store_audit_cb)(const struct store_audit_entry *e, void *arg);
int store_audit_list(struct store *st, int64_t before, int limit, store_audit_cb cb, void *arg,
    char *err, size_t errlen);
/*
 * Recomputes the chain. *bad_id is 0 when every entry matches, else the id
 * of the first entry whose hash or link does not. *checked counts entries.
 */
int store_audit_verify(struct store *st, int64_t *bad_id, int64_t *checked, char *err, size_t errlen);

/*
 * A consistent copy of the database at dbpath, taken on a connection of its
 * own (so it may run on a worker thread while the daemon serves), written to
 * a temporary name beside dest, fsynced, checked and renamed to dest.
 */
int store_backup(const char *dbpath, const char *dest, int64_t *bytes, char *err, size_t errlen);

#endif
