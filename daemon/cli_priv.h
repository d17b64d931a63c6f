/*
 * cli_priv.h: what vanthuctl.c (main, the connection, the shared printing
 * and argument helpers, the command table) and its command files
 * (cli_admin.c, cli_intake.c, cli_doc.c, cli_sign.c, cli_round.c) share.
 * Private to the client.
 */
#ifndef VANTHU_CLI_PRIV_H
#define VANTHU_CLI_PRIV_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "p11.h"
#include "table.h"

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

/* One invocation, as its command's builder sets it up: what is sent, how the answer is shown. */
enum call_kind {
	CALL_REQUEST,     /* one request, one reply, shown by show */
	CALL_FETCH_DOCX,  /* render: the DOCX in chunks, into the file out */
	CALL_FETCH_XML,   /* report --xml: a report's original bytes in chunks, on stdout */
	CALL_FETCH_INPUT, /* edit --export: a document's current input, into the file out */
	CALL_FETCH_PDF,   /* pdf ID: the issued electronic original, into the file out */
	CALL_SIGN,        /* sign ID --pkcs11: the leader's token signs what the daemon prepared */
	CALL_VERIFY,      /* pdf verify FILE: every signature of a PDF, here */
	CALL_COPY,        /* copy ID: an electronic copy made, then fetched into the file out */
	CALL_FETCH_INCOMING, /* incoming pdf ID: a received document's PDF, into the file out */
};
struct call {
	enum call_kind kind;
	const char *request;           /* the request sent; NULL: the command's own name */
	json_t *args;                  /* its arguments; owned by main */
	void (*show)(json_t *result);  /* NULL: the command's own */
	const char *out;               /* CALL_FETCH_DOCX: -o (NULL: the name the daemon gives);
	                                * CALL_FETCH_INPUT: the file, "-" for standard output;
	                                * CALL_VERIFY: the PDF to check */
	struct p11_spec token;         /* CALL_SIGN: the leader's token (strings from argv) */
	const char *pin_file;          /* CALL_SIGN: NULL: asked on the terminal */
	const char *trust;             /* CALL_VERIFY: --trust (NULL: the daemon's) */
};

/* ---- vanthuctl.c: arguments ---- */

/* Prints the usage mistake (and where to read more) on stderr and returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The builder of a command without arguments. */
int cli_no_args(int argc, char **argv, struct call *c);
/* A decimal integer of at least 1 into *out: 0, or -1 when s is not one. */
int cli_parse_positive(const char *s, json_int_t *out);
/* Reads FILE into a base64 "content" argument (capped so the request fits one line). */
int cli_file_arg(const char *path, json_t *args);

/* ---- vanthuctl.c: the connection ---- */

/* The socket: given (-s), else $VANTHU_SOCKET, else the system's when it exists, else ./run's. */
const char *cli_pick_socket(const char *given);
/* A connected socket, or -1 with the reason explained on stderr. */
int cli_connect_to(const char *path);
/* One request on fd and its reply (NULL: no answer; the message is printed). */
json_t *cli_ask(int fd, const char *cmd, json_t *args, int timeout_ms);
/* A file the daemon sends in base64 chunks, written to out (see vanthuctl.c). */
int cli_fetch_chunks(int fd, const char *cmd, json_int_t id, json_t *extra, FILE *out,
    json_t *meta, json_int_t *total_out, int json_out, int timeout_ms);
/* cmd's file for id into path through a temporary name, renamed once complete (see vanthuctl.c). */
int cli_fetch_to_file(int fd, const char *cmd, json_int_t id, json_t *extra, const char *path,
    const char *fallback, int json_out, int timeout_ms, json_t **meta, json_int_t *total,
    char *final, size_t finallen);

/* ---- vanthuctl.c: printing ---- */

/* The width tables and fields are fitted to (0 with --wide: no limit). */
size_t cli_term_width(void);
/* A label and its value, fitted to the terminal. */
void cli_print_field(const char *label, const char *value);
/* A table fitted to the terminal, printed and freed; rows were added by the caller. */
void cli_print_table(struct table *t);
/* One CSV cell on stdout, quoted ("" inside), then "," or, for the last of a row, CRLF. */
void cli_csv_cell(const char *s, int last);
/* Prints o as the JSON reply vanthuctl gives with --json, and frees it. */
void cli_print_json(json_t *o);
/* obj[key] as a string ("" when absent) or an integer (0 when absent). */
const char *cli_jstr(json_t *obj, const char *key);
json_int_t cli_jint(json_t *obj, const char *key);
/* Codes in Vietnamese (the JSON keeps the code): an action, a workflow state, an outcome. */
const char *cli_action_label(const char *code);
const char *cli_state_label(const char *id);
const char *cli_outcome_label(const char *o);
/* An ISO date in Vietnamese; a UTC time as Vietnam's local time, to the minute or the second. */
void cli_vn_date(const char *iso, char *out, size_t len);
void cli_local_time(const char *utc, char *out, size_t len);
void cli_local_time_s(const char *utc, char *out, size_t len);

/* ---- the command files: the table's builders and printers, main's fetches ---- */

/* cli_admin.c */
void cli_show_status(json_t *r);
void cli_show_ping(json_t *r);
void cli_show_whoami(json_t *r);
int cli_build_audit(int argc, char **argv, struct call *c);
void cli_show_audit(json_t *r);
void cli_show_verify(json_t *r);
int cli_build_backup(int argc, char **argv, struct call *c);
void cli_show_backup(json_t *r);

/* cli_intake.c */
int cli_build_units(int argc, char **argv, struct call *c);
void cli_show_units(json_t *r);
int cli_build_reports(int argc, char **argv, struct call *c);
void cli_show_reports(json_t *r);
int cli_build_report(int argc, char **argv, struct call *c);
void cli_show_report(json_t *r);
void cli_show_rejected(json_t *r);
int cli_fetch_original(int fd, json_int_t id, int json_out, int timeout_ms);

/* cli_doc.c */
int cli_build_new(int argc, char **argv, struct call *c);
void cli_show_created(json_t *r);
int cli_build_edit(int argc, char **argv, struct call *c);
void cli_show_edited(json_t *r);
int cli_fetch_input(int fd, json_int_t id, const char *path, int json_out, int timeout_ms);
int cli_build_act(int argc, char **argv, struct call *c);
void cli_show_acted(json_t *r);
int cli_build_list(int argc, char **argv, struct call *c);
void cli_show_list(json_t *r);
int cli_build_id(int argc, char **argv, struct call *c);
void cli_show_doc(json_t *r);
void cli_show_history(json_t *r);
void cli_show_overdue(json_t *r);
int cli_build_register(int argc, char **argv, struct call *c);
void cli_show_register(json_t *r);
int cli_build_void(int argc, char **argv, struct call *c);
void cli_show_voided(json_t *r);
int cli_build_render(int argc, char **argv, struct call *c);
int cli_fetch_docx(int fd, json_int_t id, const char *path, int json_out, int timeout_ms);

/* cli_sign.c */
int cli_build_pdf(int argc, char **argv, struct call *c);
int cli_fetch_pdf(int fd, json_int_t id, json_int_t copy, const char *path, int json_out,
    int timeout_ms);
/* cmd's file for id (pdf, incoming.pdf) into path, checked against the SHA-256 the daemon sends
 * with it (removed when it differs); says where it went. An exit code. */
int cli_fetch_checked(int fd, const char *cmd, json_int_t id, json_t *extra, const char *path,
    const char *fallback, int json_out, int timeout_ms);
int cli_verify_pdf(struct call *c, const char *socket_path, int json_out);
int cli_sign_with_token(struct call *c, const char *socket_path, int json_out);
int cli_build_copy(int argc, char **argv, struct call *c);
int cli_make_copy(int fd, struct call *c, int json_out, int timeout_ms);

/* cli_round.c */
int cli_build_round(int argc, char **argv, struct call *c);
void cli_show_round(json_t *r);
int cli_build_rounds(int argc, char **argv, struct call *c);
void cli_show_rounds(json_t *r);
int cli_build_meeting(int argc, char **argv, struct call *c);
void cli_show_meeting(json_t *r);
int cli_build_calendar(int argc, char **argv, struct call *c);
void cli_show_calendar(json_t *r);

/* cli_exchange.c */
int cli_build_delivery(int argc, char **argv, struct call *c);
void cli_show_delivery(json_t *r);
int cli_build_recall(int argc, char **argv, struct call *c);
int cli_build_incoming(int argc, char **argv, struct call *c);
void cli_show_incoming_list(json_t *r);
int cli_fetch_incoming_pdf(int fd, json_int_t id, const char *path, int json_out,
    int timeout_ms);
int cli_build_assign(int argc, char **argv, struct call *c);
int cli_build_progress(int argc, char **argv, struct call *c);
int cli_build_extend(int argc, char **argv, struct call *c);
int cli_build_followup(int argc, char **argv, struct call *c);
void cli_show_followup(json_t *r);

#endif
