/* natsx.h: the exchange's NATS JetStream link, on vanthud's libuv loop (see natsx.c). */
#ifndef VANTHU_NATSX_H
#define VANTHU_NATSX_H

#include <stddef.h>
#include <uv.h>

/*
 * Subjects: every package and status for an organisation goes to "<prefix>.<organ id>"
 * (prefix default "vanthu.edxml"; an organ id's dots are subject tokens, so "000.00.01.H56"
 * gives "vanthu.edxml.000.00.01.H56"). One stream (default "VANTHU_EDXML") holds
 * "<prefix>.>", work-queue retention, file storage, `replicas` copies, and a duplicate window of
 * `dedup_window` seconds over the Nats-Msg-Id header. One durable consumer per organisation
 * ("vanthu_" + the id with dots as '_'), filtered on its subject, explicit acks, redelivery after
 * `ack_wait` seconds, at most `max_pending` unacknowledged.
 */
struct natsx_opts {
	const char *urls;       /* "nats://127.0.0.1:4222[,nats://...]" (required) */
	const char *user;       /* with password; NULL: none */
	const char *password;
	const char *token;      /* NULL: none */
	const char *creds_file; /* a .creds file (JWT + NKey seed); NULL: none */
	const char *ca_file;    /* PEM: TLS is required and the server checked against it; NULL: plain */
	const char *name;       /* the connection's name, seen by the server's monitoring */
	const char *prefix;     /* NULL: "vanthu.edxml" */
	const char *stream;     /* NULL: "VANTHU_EDXML" */
	int replicas;           /* 0: 1 */
	unsigned dedup_window;  /* seconds; 0: 86400 */
	unsigned ack_wait;      /* seconds; 0: 30 */
	unsigned max_pending;   /* 0: 256 */
};

struct natsx;
struct natsx_msg;  /* one received message, owned by the receiver until acked or nak'ed */

/*
 * Called on the loop thread for every message delivered to a subscribed organisation. The
 * callee owns m and must eventually call natsx_ack (after its own commit) or natsx_nak (it will
 * come again). data is valid until then. redeliveries counts earlier deliveries of it.
 */
typedef void (*natsx_recv_cb)(void *arg, const char *organ_id, struct natsx_msg *m,
    const void *data, size_t len, unsigned redeliveries);
/* Called on the loop thread once per natsx_publish: ok 1 when the stream stored it (or had it
 * already: duplicate 1), 0 with err on failure (timeout, no stream, disconnected). */
typedef void (*natsx_pub_cb)(void *arg, int ok, int duplicate, const char *err);
/* Called on the loop thread when the link goes up (up 1) or down (0); info is a sentence. */
typedef void (*natsx_state_cb)(void *arg, int up, const char *info);

/*
 * Starts connecting (never blocks the loop for long; reconnects for ever with back-off). The
 * stream is created when missing, or checked (subjects) when present. 0, or -1 with err for a
 * bad option. Must be called on the loop's thread; the loop must outlive x.
 */
int natsx_open(uv_loop_t *loop, const struct natsx_opts *o, natsx_state_cb on_state, void *arg,
    struct natsx **out, char *err, size_t errlen);
/* Receives organ_id's messages through cb (again after every reconnect). 0 or -1 with err. */
int natsx_subscribe(struct natsx *x, const char *organ_id, natsx_recv_cb cb, void *arg,
    char *err, size_t errlen);
/*
 * Publishes data to organ_id's subject with Nats-Msg-Id msg_id (<= 200 bytes), asynchronously:
 * cb reports the stream's acknowledgement. 0 when queued (cb will be called exactly once), -1
 * with err when it could not even be queued (not connected: the caller retries later).
 */
int natsx_publish(struct natsx *x, const char *organ_id, const char *msg_id, const void *data,
    size_t len, natsx_pub_cb cb, void *arg, char *err, size_t errlen);
void natsx_ack(struct natsx_msg *m);
void natsx_nak(struct natsx_msg *m, unsigned delay_ms);
/* 1 when connected to a server and the stream was found or made. */
int natsx_is_up(const struct natsx *x);
/* The server connected to ("nats://127.0.0.1:4223"), or "" when none. */
const char *natsx_server(const struct natsx *x);
/*
 * Closes: no callback is called after it returns, except each pending publish's cb (ok 0) and
 * messages not acked are left to be redelivered. Must be called on the loop's thread; the loop
 * then runs until its handles are closed as usual.
 */
void natsx_close(struct natsx *x);
/* "vanthu.edxml.000.00.01.H56" into out; -1 when organ_id is unusable (edxml_check_organ_id). */
int natsx_subject(const char *prefix, const char *organ_id, char *out, size_t outlen);

#endif
