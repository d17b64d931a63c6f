/*
 * ctl_priv.h: what the control-socket server (ctl.c) and its command files
 * (ctl_admin.c, ctl_intake.c, ctl_doc.c, ctl_sign.c, ctl_round.c, and the
 * helpers they share in ctl_common.c) have in common. Private to them.
 */
#ifndef VANTHU_CTL_PRIV_H
#define VANTHU_CTL_PRIV_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <time.h>
#include <uv.h>

#include "ctl.h"
#include "diag.h"
#include "peer.h"
#include "proto.h"
#include "store.h"
#include "workflow.h"

/* What a command returns when its reply comes later (ctl_async_start). */
#define CMD_ASYNC (-1)
/* A fetched file travels in pieces of this many bytes: 48 KiB once in base64, well inside a
 * reply line. */
#define FETCH_CHUNK 36864

struct conn;

struct ctl {
	uv_loop_t *loop;            /* borrowed */
	uv_pipe_t server;
	const struct config *cfg;   /* borrowed; replaced by ctl_set_config */
	struct store *store;        /* borrowed */
	struct catalog *cat;        /* a reference: the catalog in use; NULL until loaded */
	struct esign *es;           /* borrowed: the office's signing; NULL without [signing] */
	struct exchange *xch;       /* borrowed: the exchange; NULL without [exchange] */
	void (*on_change)(void *);  /* borrowed: a round was opened (its steps may be due) */
	void *on_change_arg;
	void (*on_publish_failed)(void *);  /* borrowed: an issued DOCX waits to be written */
	void *on_publish_failed_arg;
	struct conn *conns;         /* owned list */
	unsigned nconns;
	time_t started;
	struct timespec started_real;  /* CLOCK_REALTIME_COARSE, never the test clock: file times */
	int stopping;
	int server_open;
	int bound;                  /* the socket file is ours to remove */
	void (*done)(void *arg);
	void *done_arg;
	char socket_path[PATH_MAX];
};

struct conn {
	uv_pipe_t pipe;
	uv_timer_t idle;
	struct ctl *ctl;            /* borrowed back-pointer */
	struct conn *prev, *next;
	struct peer peer;
	struct proto_buf in;
	int handles_open;
	int busy;                   /* an async request is in flight */
	int closing;                /* no more requests are read */
	int close_started;          /* shutdown or close of the handles has begun */
	int close_after_write;      /* a fatal protocol error: close once the reply is out */
	int reading;
};

/*
 * A command: 0 with *result set (the reply, owned by the caller), a proto
 * error code with msg set, or CMD_ASYNC when it has queued work whose end
 * calls ctl_async_finish.
 */
typedef int (*cmd_fn)(struct conn *c, json_t *args, json_t **result, char *msg, size_t msglen);

struct command {
	const char *name;
	unsigned roles;  /* any of these roles may call it */
	cmd_fn fn;
};

#define ROLES_ALL (ROLE_DRAFTER | ROLE_REVIEWER | ROLE_SIGNER | ROLE_CLERK | ROLE_ADMIN | ROLE_AUDITOR)

/* The command tables, each ended by a { NULL } row; ctl.c looks through them all. */
extern const struct command ctl_admin_commands[];
extern const struct command ctl_intake_commands[];
extern const struct command ctl_doc_commands[];
extern const struct command ctl_sign_commands[];
extern const struct command ctl_round_commands[];
extern const struct command ctl_exchange_commands[];

/* ---- ctl.c ---- */

/* The command of that name in any table, NULL when there is none. */
const struct command *ctl_command_find(const char *name);
/*
 * Runs run(work) on the worker pool and then after(work) on the loop; the
 * connection's later requests wait until after calls ctl_async_finish. 0, or
 * -1 when the work could not be queued (nothing has changed then).
 */
int ctl_async_start(struct conn *c, uv_work_t *work, uv_work_cb run, uv_after_work_cb after);
/*
 * Ends an async request: sends its reply (the error code with msg when code
 * is not 0, otherwise result, which it takes), then goes on with the
 * connection's next requests, or closes it when it was closed meanwhile.
 */
void ctl_async_finish(struct conn *c, int code, const char *msg, json_t *result);

/* ---- ctl_common.c ---- */

/*
 * Makes result[key], a list of rows newest first, fit one reply line; says
 * where the next page starts ("next_before") when rows were left out or the
 * page holds limit rows.
 */
void ctl_page_list(json_t *result, const char *key, const char *idkey, json_int_t limit);
/* An optional integer argument within [min, max]; 0 when fine, E_INVALID otherwise. */
int ctl_int_arg(json_t *args, const char *key, json_int_t min, json_int_t max, json_int_t *out,
    char *msg, size_t msglen);
/* An optional string argument of at most max bytes (*out NULL when absent or null). */
int ctl_str_arg(json_t *args, const char *key, size_t max, const char **out, char *msg,
    size_t msglen);
/* One store row as a JSON object (NULL when out of memory). */
json_t *ctl_row_object(const struct store_col *cols, int n);
/* A store row callback appending ctl_row_object to the JSON array arg. */
int ctl_collect_row(const struct store_col *cols, int n, void *arg);
/* One chunk of a file fetched piece by piece: {id, offset, total, data (base64)}, and sha256 (of
 * the whole file) when given. NULL when out of memory. */
json_t *ctl_chunk_json(json_int_t id, json_int_t offset, size_t total, const void *data,
    size_t n, const char *sha);
/* A WF_* result as the protocol's error code. */
int ctl_wf_code(int rc);
/* The caller as the workflow's actor (a->login borrows c's). */
void ctl_actor_of(const struct conn *c, struct wf_actor *a);
/* The input XML, sent base64 so that any encoding survives; *out is owned by the caller. */
int ctl_content_arg(json_t *args, char **out, size_t *len, char *msg, size_t msglen);
/* The same for any base64 argument key (what says what it is, in a refusal). */
int ctl_base64_arg(json_t *args, const char *key, const char *what, char **out, size_t *len,
    char *msg, size_t msglen);
/* A refusal of an input: the sentence already in msg, then every problem of it (errs freed). */
int ctl_refuse_input(int rc, char *msg, size_t msglen, struct diag_list *errs);

#endif
