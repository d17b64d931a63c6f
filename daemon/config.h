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
	char *party_title; /* owned, NFC: the office under "T/M ..." on Party documents; may be NULL */
	char *certificate; /* owned: SHA-256 of the signing certificate, 64 lowercase hex; may be NULL */
	char *signature_image; /* owned: absolute path of the signature image (blue PNG); may be NULL */
};

#define CONFIG_DEFAULT_SIGN_FONT "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
#define CONFIG_DEFAULT_SIGN_OFFICE "/usr/lib/libreoffice/program"

/* What kind of body issues a document: its format, number style and register. */
enum config_body_kind {
	BODY_STATE = 0, /* Nghị định 30/2020: "Số: 12/TB-UBND", a register per year */
	BODY_PARTY = 1, /* the Party's format: "Số 02-KH/BCĐ", a register per type within a term */
};

/* A Party committee's term (nhiệm kỳ): "2025-2030" from its first day. */
struct config_term {
	char name[32];   /* "2025-2030" */
	char start[11];  /* YYYY-MM-DD */
};

/*
 * An issuing body: [organisation] is bodies[0]; each [body ABBR] adds one,
 * for an office that issues for more than one (a Văn phòng issuing for the
 * People's Committee and for the Party committee).
 */
struct config_body {
	char *abbrev;      /* owned: "UBND", "TU", "BCĐ": in numbers and the register */
	enum config_body_kind kind;
	char *name;        /* owned, NFC: "Ban Thường vụ Tỉnh ủy" */
	char *parent;      /* owned, NFC: "Đảng bộ tỉnh Quảng Ninh"; "" when none */
	char *place;       /* owned, NFC: starts the date line */
	char *collective;  /* owned, NFC: Party only, signed for with T/M: "Ban Thường vụ" */
	char *id;          /* owned: its mã định danh (QĐ 20/2020, "000.00.01.H56"), the address it
	                    * sends from and receives at in the exchange; NULL: none */
	struct config_term *terms; /* owned, Party only, ordered by start */
	size_t nterms;
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
	char *units;         /* owned: the office's units registry; NULL: <workflows>/units.xml */
	char *calendar;      /* owned: the office's calendar folder; NULL: <workflows>/calendar */
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
	int intake_rounds_optional; /* rounds = optional: a report may name a round vanthu does not
	                             * know (an office running its rounds elsewhere); 0, required:
	                             * it is rejected (R_ROUND) */
	/* [rounds] */
	char *round_drafter;       /* owned: the login that owns the drafts the daemon writes */
	/* [log] */
	enum log_level log_level;
	/* [signing]: electronic originals; signing is 1 when the section is there (all owned) */
	int signing;
	char *sign_module;      /* the organisation's PKCS#11 module */
	char *sign_token;       /* its token's label; NULL: the only one */
	char *sign_key;         /* the key's label; NULL: by key_id, or the only key */
	char *sign_key_id;      /* the key's CKA_ID in hex */
	char *sign_pin_file;    /* a file holding the token's PIN */
	char *sign_trust;       /* PEM file (or folder) of trust anchors */
	char *sign_seal_image;  /* the seal: red PNG, transparent ground */
	unsigned sign_seal_mm;  /* the seal's diameter in mm; 0: from the PNG's own resolution */
	char *sign_font;        /* TrueType font for the number and date stamped at issue */
	char *sign_office;      /* LibreOffice's program folder */
	char *sign_converter;   /* the vanthu-convert helper; NULL: beside vanthud */
	/* [exchange]: documents to and from other offices (edXML); exchange is 1 when the section
	 * is there. transport "nats" (JetStream: nats_* below) or "folder" (spool/exchange/out and in,
	 * read and written by a gateway). All strings owned; NULL: not given. */
	int exchange;
	char *xch_transport;
	char *xch_servers;       /* nats: "nats://host:4222[,nats://...]" */
	char *xch_user;          /* nats: a user, with password_file */
	char *xch_password_file;
	char *xch_token_file;    /* nats: a file holding a token */
	char *xch_creds;         /* nats: a .creds file (JWT and NKey seed) */
	char *xch_ca;            /* nats: TLS, the server checked against this PEM */
	char *xch_stream;        /* nats: NULL gives VANTHU_EDXML */
	char *xch_prefix;        /* nats: subject prefix, NULL gives vanthu.edxml */
	unsigned xch_replicas;   /* nats: copies of the stream, when vanthud creates it; 0: 1 */
	unsigned xch_late_after; /* minutes a recipient may take to answer "đã đến" before it is late */
	unsigned xch_retry_max;  /* seconds: the longest wait between two attempts of a send */
	char *xch_trust;         /* PEM trust anchors for received PDFs; NULL: [signing] trust */
	/* the issuing bodies: [organisation] first (its name, parent, abbreviation and place;
	 * every body's, all NFC), then each [body ABBR] */
	struct config_body *bodies; /* owned array */
	size_t nbodies;
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
/*
 * The same for `vanthud -n`, which goes on checking after a bad key: -1 when
 * the file had problems, and cfg then holds what was read (a bad value keeps
 * its default) and must be freed; -2 when it could not be read at all (cfg
 * is not filled); 0 when there was none.
 */
int config_load_all(const char *file, struct config *cfg, struct diag_list *diags);
/* Same as config_load, from a string in memory; name is used in the messages. */
int config_load_string(const char *name, const char *text, size_t len,
    struct config *cfg, struct diag_list *diags);
/*
 * Checks what the configuration names on disk, as the user who calls it,
 * without making or changing anything: every problem that would make
 * vanthud refuse to start (the spool and its folders can be made or used,
 * the database's and the socket's folders, the socket group, the templates
 * and workflows folders). Every problem goes to diags; 0 when none, else -1.
 */
int config_check_paths(const struct config *cfg, struct diag_list *diags);
/* The units registry and the calendar folder cfg names (their defaults under workflows). */
void config_units_path(const struct config *cfg, char *out, size_t size);
void config_calendar_path(const struct config *cfg, char *out, size_t size);
void config_free(struct config *cfg);
/*
 * Makes dst's issuing bodies and [user] sections deep copies of src's (for a
 * worker thread that must not read a configuration a reload may free). 0, or
 * -1 when out of memory (dst then has none).
 */
int config_copy_identity(struct config *dst, const struct config *src);
/* Frees what config_copy_identity made. */
void config_free_identity(struct config *cfg);

const char *config_role_name(int role_bit_index);  /* "drafter", ... */
/* The roles of a bit set as a person reads them: "chuyên viên soạn thảo hoặc văn thư", or with
 * with_names "chuyên viên soạn thảo (drafter), văn thư (clerk)". */
void config_roles_text(unsigned roles, int with_names, char *out, size_t len);
const struct config_user *config_find_user(const struct config *cfg, const char *login);
/* The issuing body with this abbreviation; NULL or "" gives the organisation (bodies[0]). */
const struct config_body *config_find_body(const struct config *cfg, const char *abbrev);
/* The term of a Party body that day (YYYY-MM-DD) falls in: the latest begun; NULL if none has. */
const struct config_term *config_body_term(const struct config_body *b, const char *day);
/* The term of a Party body called name ("2025-2030"), or NULL. */
const struct config_term *config_find_term(const struct config_body *b, const char *name);
const char *config_body_kind_name(enum config_body_kind kind); /* "state", "party" */

#endif
