/* config.h: vanthu.conf, the daemon's configuration (see config.c and vanthu.conf.5). */
#ifndef VANTHU_CONFIG_H
#define VANTHU_CONFIG_H

#include <stddef.h>

#include "diag.h"
#include "log.h"

/* The roles a user may hold; a user's roles are a bit set of these. */
enum role {
	ROLE_DRAFTER = 1 << 0,  /* chuyên viên: drafts documents */
	ROLE_REVIEWER = 1 << 1, /* reviews content and format */
	ROLE_SIGNER = 1 << 2,   /* lãnh đạo: signs */
	ROLE_CLERK = 1 << 3,    /* văn thư: numbers, issues, sends */
	ROLE_ADMIN = 1 << 4,    /* administers the daemon */
	ROLE_AUDITOR = 1 << 5,  /* reads everything, changes nothing */
};
#define ROLE_COUNT 6

/* A signer's or any user's identity on documents: section [user LOGIN]. */
struct config_user {
	char *login;     /* owned */
	char *full_name; /* owned, NFC, may be NULL */
	char *title;     /* owned, NFC, may be NULL */
	char *authority; /* owned: TM., KT., TL., TUQ., Q. or NULL */
};

struct config {
	char *path;          /* owned: the file it was read from; NULL for the embedded default */
	/* [paths] */
	char *spool;         /* owned, each path absolute or relative to the daemon's cwd */
	char *database;
	char *socket;
	char *socket_group;  /* owned; NULL: the daemon's own group */
	char *templates;
	char *workflows;
	/* [organisation], all owned and NFC */
	char *org_name;
	char *org_parent;    /* "" when there is none */
	char *org_abbrev;
	char *org_place;
	/* [roles]: the Unix group that grants each role, indexed by role bit number */
	char *role_group[ROLE_COUNT];
	/* [limits] */
	unsigned max_clients;
	unsigned max_clients_per_uid;
	unsigned idle_timeout;  /* seconds */
	/* [intake] */
	unsigned intake_max_size;  /* bytes; a larger input is rejected unread */
	unsigned intake_settle;    /* ms a file written in place must stay unchanged */
	unsigned intake_rescan;    /* ms between full scans of the drop folders */
	unsigned intake_batch;     /* inputs recorded per transaction */
	/* [rounds] */
	char *round_drafter;       /* owned: the login that owns the drafts the daemon writes */
	/* [log] */
	enum log_level log_level;
	/* [user LOGIN] sections */
	struct config_user *users; /* owned array */
	size_t nusers;
};

/* Fills cfg with the embedded default (the one `make run` uses). 0 or -1 (no memory). */
int config_default(struct config *cfg);
/*
 * Reads FILE over the embedded default. Every problem is appended to diags as
 * "file:line: message"; returns 0 when there was none, -1 otherwise (cfg is
 * then freed and must not be used).
 */
int config_load(const char *file, struct config *cfg, struct diag_list *diags);
/* Same, from a string in memory; name is used in the messages. */
int config_load_string(const char *name, const char *text, size_t len,
    struct config *cfg, struct diag_list *diags);
/* Checks what the configuration names on disk (folders exist, spool writable). */
int config_check_paths(const struct config *cfg, struct diag_list *diags);
void config_free(struct config *cfg);

const char *config_role_name(int role_bit_index);  /* "drafter", ... */
const struct config_user *config_find_user(const struct config *cfg, const char *login);

#endif
