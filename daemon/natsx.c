/*
 * natsx.c: the exchange's NATS JetStream link (natsx.h) on vanthud's libuv loop.
 *
 * The connection's socket lives on the loop through libnats' libuv adapter. That adapter has
 * two consequences that shape this file:
 *  - a connection's first attach must happen on the loop thread, so the first connect is
 *    made there (natsConnection_Connect, bounded by CONNECT_TIMEOUT_MS per server; refused
 *    loopback/LAN servers answer at once), retried from a uv_timer until it succeeds. libnats'
 *    own "retry on failed connect" cannot be used: its reconnect thread would make the first
 *    attach and the adapter refuses that (NATS_ILLEGAL_STATE). Once connected, libnats
 *    reconnects for ever by itself (MaxReconnect -1) and resubscribes.
 *  - replies are read by the loop, so nothing on the loop may wait for one: a synchronous
 *    JetStream call there (stream info, consumer create, fetch, even natsConnection_Close's
 *    flush) would wait for bytes that only the blocked loop could read. All of those run on
 *    helper threads: one "manager" thread checks or creates the stream after every
 *    (re)connect and does the final teardown; one thread per subscribed organisation owns
 *    its durable pull consumer and fetches from it.
 * What runs on the loop never waits: publishing (a PUB with a reply subject and the
 * Nats-Msg-Id header: JetStream's asynchronous publish, acks read from our own inbox), acks,
 * naks, timers.
 *
 * Every libnats callback (connection events, pub acks on the inbox subscription's thread) and
 * every fetched message is turned into an event on a mutex-protected queue and handed to the
 * loop by a uv_async_t, so natsx's callbacks all run on the loop thread.
 *
 * Why pull consumers: a pull request is a plain request that the fetching thread repeats,
 * so after a reconnect, a server restart or a consumer leader change the next fetch simply
 * works again (or fails, and the thread recreates the subscription: a lost consumer is made
 * again); there is no push interest or flow control to re-establish, and MaxAckPending bounds
 * what is in our hands.
 *
 * Library state: libnats keeps process-wide state (its timer and callback threads) once a
 * connection was made. nats_Close() is NOT called here: other natsx links (or other code)
 * may still use the library, and nats_Close() tears it down for everybody. That state stays
 * reachable from libnats' globals, so LeakSanitizer reports nothing; every object natsx
 * creates is destroyed by natsx_close's teardown.
 */
#include "natsx.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nats/nats.h>
#include <nats/adapters/libuv.h>

#include "edxml.h"

#define CONNECT_TIMEOUT_MS 2000   /* one connect attempt to one server */
#define RECONNECT_WAIT_MS 1000    /* between libnats' reconnect rounds (plus jitter) */
#define FIRST_RETRY_MIN_MS 500    /* first connect: back-off from here ... */
#define FIRST_RETRY_MAX_MS 15000  /* ... to here */
#define PUB_TIMEOUT_MS 10000      /* waiting for the stream's acknowledgement */
#define PUB_SWEEP_MS 200
#define MAX_PENDING_PUBS 4096     /* publishes waiting for their ack */
#define FETCH_WAIT_MS 2000        /* one pull request's life */
#define FETCH_BATCH_MAX 64
#define RETRY_WAIT_MS 1000        /* a helper thread after a failure */
#define TEARDOWN_WAIT_MS 5000     /* for libnats' closed callback and the inbox thread */
#define MAX_MSG_ID 200
#define MAX_PREFIX 64
#define MAX_SUBJECT 256
#define MAX_OPT_STR 4096
#define MAX_DATA ((size_t)64 << 20) /* never more than this, whatever the server says */

enum ev_kind { EV_STATE, EV_MSG, EV_PUBACK, EV_DONE };

struct ev {
	enum ev_kind kind;
	struct ev *next;
	int up;                   /* EV_STATE */
	int64_t max_payload;      /* EV_STATE */
	char server[256];         /* EV_STATE */
	char info[256];           /* EV_STATE; EV_PUBACK: err */
	struct natsx_msg *msg;    /* EV_MSG, owned by the event */
	struct sub *sub;          /* EV_MSG */
	uint64_t token;           /* EV_PUBACK */
	int ok, duplicate;        /* EV_PUBACK */
};

struct natsx_msg {
	struct natsx *x;          /* NULL once x is closed: then ack and nak only free */
	struct natsx_msg *prev, *next; /* x->held, on the loop thread */
	char *reply;              /* the JetStream ack subject, owned */
	void *data;               /* owned */
	size_t len;
	unsigned redeliveries;
};

struct sub {
	struct natsx *x;
	struct sub *next;
	char organ[64];
	char subject[MAX_SUBJECT];
	char durable[80];
	natsx_recv_cb cb;
	void *arg;
	uv_thread_t thread;
	int started;
	natsSubscription *ps;     /* the pull subscription, only touched by thread */
};

struct pending {
	struct pending *next;
	uint64_t token;
	uint64_t deadline;        /* uv_now */
	natsx_pub_cb cb;
	void *arg;
};

struct natsx {
	uv_loop_t *loop;
	uv_async_t wake;
	uv_timer_t connect_timer, sweep;
	int handles;              /* our uv handles not yet closed */

	/* options, owned copies */
	char *urls, *user, *password, *token, *creds, *ca, *name, *prefix, *stream;
	int replicas;
	unsigned dedup_window, ack_wait, max_pending;

	natsOptions *nopts;       /* owned */
	/* set once on the loop thread at the first connect, read by helpers after that (under
	 * mu), destroyed by the manager's teardown */
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *acksub; /* the inbox receiving pub acks */
	char inbox[96];

	/* loop thread only */
	natsx_state_cb on_state;
	void *arg;
	int up, reported, closed;
	char server[256];
	int64_t max_payload;
	uint64_t next_token;
	struct pending *pend;
	size_t npend;
	struct natsx_msg *held;
	unsigned retry_ms;
	struct sub *subs;         /* appended on the loop thread; the list is read by the
	                           * manager only after quit, when no more are added */

	/* shared, under mu */
	uv_mutex_t mu;
	uv_cond_t cond;
	struct ev *qhead, *qtail;
	int quit;                 /* helpers must stop */
	int connected;            /* libnats says connected */
	int stream_ok;            /* the manager found or made the stream since */
	int recheck;              /* the manager must check the stream */
	int closed_seen, acksub_done;
	uv_thread_t manager;
	int manager_started;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* libnats' status and its error stack's last text, for logs */
static void nats_err(char *out, size_t outlen, const char *what, natsStatus s)
{
	const char *last = nats_GetLastError(NULL);
	if (last != NULL && *last != '\0')
		snprintf(out, outlen, "%s: %s (%s)", what, natsStatus_GetText(s), last);
	else
		snprintf(out, outlen, "%s: %s", what, natsStatus_GetText(s));
}

/* ---- names ---- */

static int check_prefix(const char *p)
{
	size_t n = strlen(p);
	if (n == 0 || n > MAX_PREFIX || p[0] == '.' || p[n - 1] == '.' || strstr(p, "..") != NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '_'))
			return -1;
	}
	return 0;
}

int natsx_subject(const char *prefix, const char *organ_id, char *out, size_t outlen)
{
	if (prefix == NULL)
		prefix = "vanthu.edxml";
	if (organ_id == NULL || out == NULL || check_prefix(prefix) != 0 ||
	    edxml_check_organ_id(organ_id) < 0)
		return -1;
	int n = snprintf(out, outlen, "%s.%s", prefix, organ_id);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	return 0;
}

/* ---- the event queue: any thread pushes, the loop drains ---- */

static void ev_push_locked(struct natsx *x, struct ev *e)
{
	e->next = NULL;
	if (x->qtail)
		x->qtail->next = e;
	else
		x->qhead = e;
	x->qtail = e;
	uv_async_send(&x->wake);
}

static void msg_free(struct natsx_msg *m)
{
	if (m == NULL)
		return;
	free(m->reply);
	free(m->data);
	free(m);
}

/* a state event; called with mu held */
static void post_state_locked(struct natsx *x, int up, const char *info)
{
	struct ev *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return;
	e->kind = EV_STATE;
	e->up = up;
	snprintf(e->info, sizeof(e->info), "%s", info);
	if (up && x->nc != NULL) {
		if (natsConnection_GetConnectedUrl(x->nc, e->server, sizeof(e->server)) != NATS_OK)
			e->server[0] = '\0';
		e->max_payload = natsConnection_GetMaxPayload(x->nc);
	}
	ev_push_locked(x, e);
}

/* ---- publishing (loop thread) ---- */

static void sweep_pending(uv_timer_t *t);

static void pend_finish(struct natsx *x, struct pending *p, int ok, int dup, const char *err)
{
	natsx_pub_cb cb = p->cb;
	void *arg = p->arg;
	free(p);
	x->npend--;
	if (cb)
		cb(arg, ok, dup, err);
}

static struct pending *pend_take(struct natsx *x, uint64_t token)
{
	for (struct pending **pp = &x->pend; *pp; pp = &(*pp)->next) {
		if ((*pp)->token == token) {
			struct pending *p = *pp;
			*pp = p->next;
			return p;
		}
	}
	return NULL;
}

static void sweep_pending(uv_timer_t *t)
{
	struct natsx *x = t->data;
	uint64_t now = uv_now(x->loop);
	struct pending **pp = &x->pend;
	while (*pp) {
		struct pending *p = *pp;
		if (p->deadline <= now) {
			*pp = p->next;
			pend_finish(x, p, 0, 0, "no acknowledgement from the stream in time");
			if (x->closed)
				return;
		} else {
			pp = &p->next;
		}
	}
	if (x->pend == NULL)
		uv_timer_stop(&x->sweep);
}

/* A pub ack on the inbox subscription's thread: parsed here, finished on the loop. */
static void on_puback(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
	struct natsx *x = closure;
	const char *subj = natsMsg_GetSubject(msg);
	const char *data = natsMsg_GetData(msg);
	int len = natsMsg_GetDataLength(msg);
	size_t plen = strlen(x->inbox);
	struct ev *e = NULL;
	char *end = NULL;
	(void)nc;
	(void)sub;

	if (subj == NULL || strncmp(subj, x->inbox, plen) != 0 || subj[plen] != '.')
		goto done;
	errno = 0;
	uint64_t token = strtoull(subj + plen + 1, &end, 10);
	if (errno != 0 || end == NULL || *end != '\0')
		goto done;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		goto done;
	e->kind = EV_PUBACK;
	e->token = token;
	const char *status = NULL;
	if (len <= 0 && natsMsgHeader_Get(msg, "Status", &status) == NATS_OK && status != NULL) {
		snprintf(e->info, sizeof(e->info), "%s",
		    strcmp(status, "503") == 0 ? "no stream takes this subject (no responders)"
		    : "the server answered with a status and no acknowledgement");
	} else if (len <= 0 || len > 65536) {
		snprintf(e->info, sizeof(e->info), "an acknowledgement of a bad size (%d)", len);
	} else {
		json_error_t je;
		json_t *j = json_loadb(data, (size_t)len, 0, &je);
		json_t *jerr = j ? json_object_get(j, "error") : NULL;
		if (j == NULL || !json_is_object(j)) {
			snprintf(e->info, sizeof(e->info), "an acknowledgement that is not JSON");
		} else if (jerr != NULL) {
			const char *d = json_string_value(json_object_get(jerr, "description"));
			snprintf(e->info, sizeof(e->info), "the stream refused it: %.200s (%" JSON_INTEGER_FORMAT ")",
			    d ? d : "no description", json_integer_value(json_object_get(jerr, "err_code")));
		} else if (!json_is_string(json_object_get(j, "stream")) ||
		    !json_is_integer(json_object_get(j, "seq"))) {
			snprintf(e->info, sizeof(e->info), "an acknowledgement without stream and seq");
		} else {
			e->ok = 1;
			e->duplicate = json_is_true(json_object_get(j, "duplicate"));
		}
		json_decref(j);
	}
	uv_mutex_lock(&x->mu);
	if (x->quit)
		free(e);
	else
		ev_push_locked(x, e);
	uv_mutex_unlock(&x->mu);
done:
	natsMsg_Destroy(msg);
}

static void on_acksub_complete(void *closure)
{
	struct natsx *x = closure;
	uv_mutex_lock(&x->mu);
	x->acksub_done = 1;
	uv_cond_broadcast(&x->cond);
	uv_mutex_unlock(&x->mu);
}

/* header bytes a message with this id takes on the wire ("NATS/1.0\r\nNats-Msg-Id: id\r\n\r\n") */
static size_t header_len(const char *msg_id)
{
	return strlen("NATS/1.0\r\n") + strlen("Nats-Msg-Id: ") + strlen(msg_id) + 4;
}

int natsx_publish(struct natsx *x, const char *organ_id, const char *msg_id, const void *data,
    size_t len, natsx_pub_cb cb, void *arg, char *err, size_t errlen)
{
	char subj[MAX_SUBJECT], reply[sizeof(x->inbox) + 24];
	natsMsg *m = NULL;
	natsStatus s;
	struct pending *p = NULL;

	if (x == NULL || x->closed) {
		seterr(err, errlen, "the NATS link is closed");
		return -1;
	}
	if (msg_id == NULL || msg_id[0] == '\0' || strlen(msg_id) > MAX_MSG_ID) {
		seterr(err, errlen, "the message id must have 1 to %d bytes", MAX_MSG_ID);
		return -1;
	}
	for (const unsigned char *c = (const unsigned char *)msg_id; *c; c++) {
		if (*c < 0x20 || *c == 0x7f) {
			seterr(err, errlen, "the message id has a control character");
			return -1;
		}
	}
	if (natsx_subject(x->prefix, organ_id, subj, sizeof(subj)) != 0) {
		seterr(err, errlen, "unusable organisation id for a subject");
		return -1;
	}
	if (data == NULL && len > 0) {
		seterr(err, errlen, "no data");
		return -1;
	}
	if (!x->up || x->nc == NULL) {
		seterr(err, errlen, "not connected to NATS (or the stream is not ready)");
		return -1;
	}
	if (len > MAX_DATA || (x->max_payload > 0 &&
	    len + header_len(msg_id) > (uint64_t)x->max_payload)) {
		seterr(err, errlen, "message of %zu bytes is larger than the server's max_payload "
		    "(%" PRId64 " bytes, headers included)", len, x->max_payload);
		return -1;
	}
	if (x->npend >= MAX_PENDING_PUBS) {
		seterr(err, errlen, "too many publishes waiting for their acknowledgement");
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	p->token = ++x->next_token;
	snprintf(reply, sizeof(reply), "%s.%" PRIu64, x->inbox, p->token);
	s = natsMsg_Create(&m, subj, reply, (const char *)data, (int)len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", msg_id);
	/* buffered and written by the loop's poll: this never waits */
	if (s == NATS_OK)
		s = natsConnection_PublishMsg(x->nc, m);
	natsMsg_Destroy(m);
	if (s != NATS_OK) {
		nats_err(err, errlen, "publish", s);
		free(p);
		return -1;
	}
	p->cb = cb;
	p->arg = arg;
	p->deadline = uv_now(x->loop) + PUB_TIMEOUT_MS;
	p->next = x->pend;
	x->pend = p;
	x->npend++;
	if (!uv_is_active((uv_handle_t *)&x->sweep))
		uv_timer_start(&x->sweep, sweep_pending, PUB_SWEEP_MS, PUB_SWEEP_MS);
	return 0;
}

/* ---- receiving ---- */

static void held_unlink(struct natsx *x, struct natsx_msg *m)
{
	if (m->prev)
		m->prev->next = m->next;
	else if (x->held == m)
		x->held = m->next;
	if (m->next)
		m->next->prev = m->prev;
	m->prev = m->next = NULL;
}

static void reply_with(struct natsx_msg *m, const char *body)
{
	struct natsx *x = m ? m->x : NULL;
	if (m == NULL)
		return;
	if (x != NULL) {
		held_unlink(x, m);
		/* a plain publish: buffered (also while reconnecting), never waits; a lost ack
		 * only means the message comes again */
		if (!x->closed && x->nc != NULL && m->reply != NULL)
			(void)natsConnection_PublishString(x->nc, m->reply, body);
	}
	msg_free(m);
}

void natsx_ack(struct natsx_msg *m)
{
	reply_with(m, "+ACK");
}

void natsx_nak(struct natsx_msg *m, unsigned delay_ms)
{
	char body[64];
	if (delay_ms == 0)
		snprintf(body, sizeof(body), "-NAK");
	else
		snprintf(body, sizeof(body), "-NAK {\"delay\": %" PRIu64 "}",
		    (uint64_t)delay_ms * 1000000u);
	reply_with(m, body);
}

/* sleep on the condition for ms unless quit; mu held */
static void wait_locked(struct natsx *x, unsigned ms)
{
	if (!x->quit)
		(void)uv_cond_timedwait(&x->cond, &x->mu, (uint64_t)ms * 1000000u);
}

static natsStatus make_pull(struct sub *sb, char *why, size_t whylen)
{
	struct natsx *x = sb->x;
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;

	jsSubOptions_Init(&so);
	so.Stream = x->stream;
	so.Config.Durable = sb->durable;
	so.Config.AckPolicy = js_AckExplicit;
	so.Config.AckWait = (int64_t)x->ack_wait * 1000000000;
	so.Config.MaxAckPending = x->max_pending;
	so.Config.DeliverPolicy = js_DeliverAll;
	s = js_PullSubscribe(&sb->ps, x->js, sb->subject, sb->durable, NULL, &so, &jerr);
	if (s == NATS_ERR && jerr == 0) {
		/* the consumer exists with other settings (ack_wait, max_pending changed): update */
		jsConsumerConfig cc;
		jsConsumerConfig_Init(&cc);
		cc.Durable = sb->durable;
		cc.AckPolicy = js_AckExplicit;
		cc.AckWait = so.Config.AckWait;
		cc.MaxAckPending = so.Config.MaxAckPending;
		cc.DeliverPolicy = js_DeliverAll;
		cc.FilterSubject = sb->subject;
		if (js_UpdateConsumer(NULL, x->js, x->stream, &cc, NULL, &jerr) == NATS_OK)
			s = js_PullSubscribe(&sb->ps, x->js, sb->subject, sb->durable, NULL, &so, &jerr);
	}
	if (s != NATS_OK) {
		nats_err(why, whylen, "pull subscribe", s);
		sb->ps = NULL;
	}
	return s;
}

static void deliver(struct sub *sb, natsMsg *nm)
{
	struct natsx *x = sb->x;
	jsMsgMetaData *meta = NULL;
	struct natsx_msg *m = NULL;
	struct ev *e = NULL;
	int len = natsMsg_GetDataLength(nm);
	const char *reply = natsMsg_GetReply(nm);

	if (reply == NULL || len < 0 || (size_t)len > MAX_DATA)
		goto fail; /* not a JetStream message; an unacked one comes again */
	m = calloc(1, sizeof(*m));
	e = calloc(1, sizeof(*e));
	if (m == NULL || e == NULL)
		goto fail;
	m->reply = strdup(reply);
	m->data = malloc((size_t)len + 1);
	if (m->reply == NULL || m->data == NULL)
		goto fail;
	if (len > 0)
		memcpy(m->data, natsMsg_GetData(nm), (size_t)len);
	((char *)m->data)[len] = '\0';
	m->len = (size_t)len;
	if (natsMsg_GetMetaData(&meta, nm) == NATS_OK && meta != NULL) {
		uint64_t d = meta->NumDelivered;
		m->redeliveries = d > 1 ? (d - 1 > UINT_MAX ? UINT_MAX : (unsigned)(d - 1)) : 0;
		jsMsgMetaData_Destroy(meta);
	}
	m->x = x;
	e->kind = EV_MSG;
	e->msg = m;
	e->sub = sb;
	uv_mutex_lock(&x->mu);
	if (x->quit) {
		uv_mutex_unlock(&x->mu);
		goto fail;
	}
	ev_push_locked(x, e);
	uv_mutex_unlock(&x->mu);
	return;
fail:
	free(e);
	msg_free(m);
}

/* One organisation's helper thread: (re)makes its durable pull consumer and fetches. */
static void sub_thread(void *arg)
{
	struct sub *sb = arg;
	struct natsx *x = sb->x;
	char why[256];
	int batch = x->max_pending < FETCH_BATCH_MAX ? (int)x->max_pending : FETCH_BATCH_MAX;

	uv_mutex_lock(&x->mu);
	while (!x->quit) {
		if (!x->connected || !x->stream_ok) {
			wait_locked(x, RETRY_WAIT_MS);
			continue;
		}
		uv_mutex_unlock(&x->mu);
		natsStatus s = NATS_OK;
		if (sb->ps == NULL)
			s = make_pull(sb, why, sizeof(why));
		if (s == NATS_OK) {
			natsMsgList list = { 0 };
			jsErrCode jerr = 0;
			s = natsSubscription_Fetch(&list, sb->ps, batch, FETCH_WAIT_MS, &jerr);
			for (int i = 0; i < list.Count; i++) {
				deliver(sb, list.Msgs[i]);
			}
			natsMsgList_Destroy(&list);
			if (s == NATS_OK || s == NATS_TIMEOUT) {
				uv_mutex_lock(&x->mu);
				continue;
			}
			if (s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr ||
			    s == NATS_INVALID_SUBSCRIPTION) {
				/* the consumer went away (deleted, stream made again): make it again */
				natsSubscription_Destroy(sb->ps);
				sb->ps = NULL;
			}
		}
		uv_mutex_lock(&x->mu);
		wait_locked(x, RETRY_WAIT_MS);
	}
	uv_mutex_unlock(&x->mu);
	if (sb->ps != NULL) {
		natsSubscription_Destroy(sb->ps);
		sb->ps = NULL;
	}
	nats_ReleaseThreadMemory();
}

int natsx_subscribe(struct natsx *x, const char *organ_id, natsx_recv_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct sub *sb = NULL;

	if (x == NULL || x->closed || cb == NULL) {
		seterr(err, errlen, "the NATS link is closed");
		return -1;
	}
	if (organ_id == NULL || strlen(organ_id) >= sizeof(sb->organ)) {
		seterr(err, errlen, "unusable organisation id");
		return -1;
	}
	for (struct sub *o = x->subs; o; o = o->next) {
		if (strcmp(o->organ, organ_id) == 0) {
			seterr(err, errlen, "%s is already subscribed", organ_id);
			return -1;
		}
	}
	sb = calloc(1, sizeof(*sb));
	if (sb == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	sb->x = x;
	sb->cb = cb;
	sb->arg = arg;
	snprintf(sb->organ, sizeof(sb->organ), "%s", organ_id);
	if (natsx_subject(x->prefix, organ_id, sb->subject, sizeof(sb->subject)) != 0) {
		seterr(err, errlen, "unusable organisation id for a subject");
		free(sb);
		return -1;
	}
	int n = snprintf(sb->durable, sizeof(sb->durable), "vanthu_%s", organ_id);
	if (n < 0 || (size_t)n >= sizeof(sb->durable)) {
		seterr(err, errlen, "organisation id too long");
		free(sb);
		return -1;
	}
	for (char *c = sb->durable; *c; c++)
		if (*c == '.')
			*c = '_';
	if (uv_thread_create(&sb->thread, sub_thread, sb) != 0) {
		seterr(err, errlen, "cannot start the subscription's thread");
		free(sb);
		return -1;
	}
	sb->started = 1;
	sb->next = x->subs;
	x->subs = sb;
	return 0;
}

/* ---- the manager thread: the stream after every (re)connect, then the teardown ---- */

static int ensure_stream(struct natsx *x, char *why, size_t whylen)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	char want[MAX_PREFIX + 3];
	natsStatus s;
	int rc = -1;

	snprintf(want, sizeof(want), "%s.>", x->prefix);
	s = js_GetStreamInfo(&si, x->js, x->stream, NULL, &jerr);
	if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
		jsStreamConfig cfg;
		const char *subjects[1] = { want };
		jsStreamConfig_Init(&cfg);
		cfg.Name = x->stream;
		cfg.Subjects = subjects;
		cfg.SubjectsLen = 1;
		cfg.Retention = js_WorkQueuePolicy;
		cfg.Storage = js_FileStorage;
		cfg.Replicas = x->replicas;
		cfg.Duplicates = (int64_t)x->dedup_window * 1000000000;
		jerr = 0;
		s = js_AddStream(&si, x->js, &cfg, NULL, &jerr);
		if (s != NATS_OK) /* made by another instance meanwhile? */
			s = js_GetStreamInfo(&si, x->js, x->stream, NULL, &jerr);
	}
	if (s != NATS_OK) {
		nats_err(why, whylen, "stream", s);
		goto done;
	}
	int found = 0;
	for (int i = 0; si != NULL && si->Config != NULL && i < si->Config->SubjectsLen; i++)
		if (si->Config->Subjects[i] && strcmp(si->Config->Subjects[i], want) == 0)
			found = 1;
	if (!found) {
		snprintf(why, whylen, "stream %s exists but does not hold %s", x->stream, want);
		goto done;
	}
	rc = 0;
done:
	jsStreamInfo_Destroy(si);
	return rc;
}

static void teardown(struct natsx *x)
{
	natsConnection *nc;

	uv_mutex_lock(&x->mu);
	nc = x->nc;
	uv_mutex_unlock(&x->mu);
	/* kicks out fetches and requests of the helpers; its detach goes to the loop */
	if (nc != NULL)
		natsConnection_Close(nc);
	for (struct sub *sb = x->subs; sb; sb = sb->next)
		if (sb->started)
			uv_thread_join(&sb->thread);
	if (nc != NULL) {
		/* libnats calls closed_cb on its own thread, and the inbox subscription's thread
		 * ends after the close: neither may run once x is freed */
		uint64_t deadline = uv_hrtime() + (uint64_t)TEARDOWN_WAIT_MS * 1000000u;
		uv_mutex_lock(&x->mu);
		while ((!x->closed_seen || (x->acksub != NULL && !x->acksub_done)) &&
		    uv_hrtime() < deadline)
			(void)uv_cond_timedwait(&x->cond, &x->mu, 50000000u);
		uv_mutex_unlock(&x->mu);
		natsSubscription_Destroy(x->acksub);
		x->acksub = NULL;
		jsCtx_Destroy(x->js);
		x->js = NULL;
		natsConnection_Destroy(nc);
	}
}

static void manager_thread(void *arg)
{
	struct natsx *x = arg;
	char why[256];

	uv_mutex_lock(&x->mu);
	while (!x->quit) {
		if (!x->recheck || !x->connected) {
			wait_locked(x, RETRY_WAIT_MS);
			continue;
		}
		x->recheck = 0;
		uv_mutex_unlock(&x->mu);
		int rc = ensure_stream(x, why, sizeof(why));
		uv_mutex_lock(&x->mu);
		if (x->quit)
			break;
		if (rc == 0 && x->connected && !x->recheck) {
			x->stream_ok = 1;
			uv_cond_broadcast(&x->cond);
			post_state_locked(x, 1, "connected, stream ready");
		} else if (rc != 0) {
			post_state_locked(x, 0, why);
			x->recheck = 1; /* try again after a while */
			wait_locked(x, RETRY_WAIT_MS);
		}
	}
	uv_mutex_unlock(&x->mu);
	teardown(x);
	struct ev *e = calloc(1, sizeof(*e));
	uv_mutex_lock(&x->mu);
	if (e != NULL) {
		e->kind = EV_DONE;
		ev_push_locked(x, e);
	} else {
		uv_async_send(&x->wake); /* on_wake sees manager_started with no event: see there */
	}
	x->manager_started = 2; /* finished */
	uv_mutex_unlock(&x->mu);
	nats_ReleaseThreadMemory();
}

/* ---- libnats connection callbacks (its own thread) ---- */

static void on_disconnected(natsConnection *nc, void *closure)
{
	struct natsx *x = closure;
	(void)nc;
	uv_mutex_lock(&x->mu);
	x->connected = 0;
	x->stream_ok = 0;
	if (!x->quit)
		post_state_locked(x, 0, "disconnected from the NATS server; reconnecting");
	uv_mutex_unlock(&x->mu);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	struct natsx *x = closure;
	(void)nc;
	uv_mutex_lock(&x->mu);
	x->connected = 1;
	x->recheck = 1;
	uv_cond_broadcast(&x->cond);
	uv_mutex_unlock(&x->mu);
}

static void on_closed(natsConnection *nc, void *closure)
{
	struct natsx *x = closure;
	(void)nc;
	uv_mutex_lock(&x->mu);
	x->closed_seen = 1;
	x->connected = 0;
	uv_cond_broadcast(&x->cond);
	uv_mutex_unlock(&x->mu);
}

/* ---- the loop side ---- */

static void free_x(struct natsx *x)
{
	struct ev *e;
	while ((e = x->qhead) != NULL) {
		x->qhead = e->next;
		msg_free(e->msg);
		free(e);
	}
	while (x->subs) {
		struct sub *sb = x->subs;
		x->subs = sb->next;
		free(sb);
	}
	natsOptions_Destroy(x->nopts);
	uv_cond_destroy(&x->cond);
	uv_mutex_destroy(&x->mu);
	free(x->urls);
	free(x->user);
	free(x->password);
	free(x->token);
	free(x->creds);
	free(x->ca);
	free(x->name);
	free(x->prefix);
	free(x->stream);
	free(x);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct natsx *x = h->data;
	if (--x->handles == 0)
		free_x(x);
}

static void handle_event(struct natsx *x, struct ev *e)
{
	switch (e->kind) {
	case EV_STATE:
		if (x->closed)
			break;
		x->up = e->up;
		if (e->up) {
			snprintf(x->server, sizeof(x->server), "%s", e->server);
			x->max_payload = e->max_payload;
		} else {
			x->server[0] = '\0';
		}
		if (x->reported != e->up + 1) {
			x->reported = e->up + 1;
			if (x->on_state)
				x->on_state(x->arg, e->up, e->info);
		}
		break;
	case EV_MSG: {
		if (x->closed)
			break; /* not acked: it comes again */
		struct natsx_msg *m = e->msg;
		e->msg = NULL;
		m->next = x->held;
		if (x->held)
			x->held->prev = m;
		x->held = m;
		e->sub->cb(e->sub->arg, e->sub->organ, m, m->data, m->len, m->redeliveries);
		break;
	}
	case EV_PUBACK: {
		if (x->closed)
			break;
		struct pending *p = pend_take(x, e->token);
		if (p != NULL)
			pend_finish(x, p, e->ok, e->duplicate, e->ok ? NULL : e->info);
		break;
	}
	case EV_DONE:
		break;
	}
}

static void on_wake(uv_async_t *a)
{
	struct natsx *x = a->data;
	int done = 0;
	for (;;) {
		uv_mutex_lock(&x->mu);
		struct ev *e = x->qhead;
		if (e != NULL) {
			x->qhead = e->next;
			if (x->qhead == NULL)
				x->qtail = NULL;
		}
		if (e == NULL && x->manager_started == 2 && x->closed)
			done = 1;
		uv_mutex_unlock(&x->mu);
		if (e == NULL)
			break;
		if (e->kind == EV_DONE)
			done = 1;
		handle_event(x, e);
		msg_free(e->msg);
		free(e);
	}
	if (done && x->closed && !uv_is_closing((uv_handle_t *)&x->wake)) {
		uv_thread_join(&x->manager);
		uv_close((uv_handle_t *)&x->wake, on_handle_closed);
	}
}

static int try_connect(struct natsx *x, char *why, size_t whylen)
{
	natsConnection *nc = NULL;
	natsStatus s = natsConnection_Connect(&nc, x->nopts);
	if (s != NATS_OK) {
		nats_err(why, whylen, "connect", s);
		return -1;
	}
	jsOptions jo;
	jsOptions_Init(&jo);
	s = natsConnection_JetStream(&x->js, nc, &jo);
	if (s == NATS_OK) {
		char nuid[64];
		natsInbox *ib = NULL;
		s = natsInbox_Create(&ib);
		if (s == NATS_OK) {
			snprintf(nuid, sizeof(nuid), "%s", (const char *)ib);
			natsInbox_Destroy(ib);
			snprintf(x->inbox, sizeof(x->inbox), "%s", nuid);
			char wild[sizeof(x->inbox) + 4];
			snprintf(wild, sizeof(wild), "%s.*", x->inbox);
			/* SUB is buffered: no wait */
			s = natsConnection_Subscribe(&x->acksub, nc, wild, on_puback, x);
		}
		if (s == NATS_OK) {
			natsSubscription_SetPendingLimits(x->acksub, -1, -1);
			s = natsSubscription_SetOnCompleteCB(x->acksub, on_acksub_complete, x);
		}
	}
	if (s != NATS_OK) {
		nats_err(why, whylen, "JetStream context", s);
		natsSubscription_Destroy(x->acksub);
		x->acksub = NULL;
		jsCtx_Destroy(x->js);
		x->js = NULL;
		/* the closing wants to flush, which from here would wait: the connection is new
		 * and has nothing buffered but CONNECT, so Destroy returns quickly */
		natsConnection_Destroy(nc);
		return -1;
	}
	uv_mutex_lock(&x->mu);
	x->nc = nc;
	x->connected = 1;
	x->recheck = 1;
	uv_cond_broadcast(&x->cond);
	uv_mutex_unlock(&x->mu);
	return 0;
}

static void on_connect_timer(uv_timer_t *t)
{
	struct natsx *x = t->data;
	char why[512];
	if (x->closed || x->nc != NULL)
		return;
	if (try_connect(x, why, sizeof(why)) == 0)
		return;
	if (x->reported != 1) {
		x->reported = 1;
		if (x->on_state)
			x->on_state(x->arg, 0, why);
	}
	uv_timer_start(&x->connect_timer, on_connect_timer, x->retry_ms, 0);
	x->retry_ms = x->retry_ms * 2 > FIRST_RETRY_MAX_MS ? FIRST_RETRY_MAX_MS : x->retry_ms * 2;
}

static char *dup_opt(const char *s, int *bad)
{
	if (s == NULL || *s == '\0')
		return NULL;
	if (strlen(s) > MAX_OPT_STR) {
		*bad = 1;
		return NULL;
	}
	char *d = strdup(s);
	if (d == NULL)
		*bad = 1;
	return d;
}

static int split_urls(const char *urls, char ***out, int *count)
{
	char *copy = strdup(urls), *save = NULL;
	char **v = NULL;
	int n = 0;
	if (copy == NULL)
		return -1;
	for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (n >= 64)
			break;
		char **nv = realloc(v, sizeof(*v) * (size_t)(n + 1));
		if (nv == NULL)
			goto fail;
		v = nv;
		if ((v[n] = strdup(tok)) == NULL)
			goto fail;
		n++;
	}
	free(copy);
	*out = v;
	*count = n;
	return 0;
fail:
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
	free(copy);
	return -1;
}

static int make_options(struct natsx *x, char *err, size_t errlen)
{
	char **servers = NULL;
	int nservers = 0;
	natsStatus s = natsOptions_Create(&x->nopts);
	int rc = -1;

	if (s != NATS_OK) {
		nats_err(err, errlen, "options", s);
		return -1;
	}
	if (split_urls(x->urls, &servers, &nservers) != 0 || nservers == 0) {
		seterr(err, errlen, "no NATS server URL");
		goto done;
	}
	s = natsOptions_SetServers(x->nopts, (const char **)servers, nservers);
	if (s == NATS_OK && x->name)
		s = natsOptions_SetName(x->nopts, x->name);
	if (s == NATS_OK && x->user)
		s = natsOptions_SetUserInfo(x->nopts, x->user, x->password ? x->password : "");
	if (s == NATS_OK && x->token)
		s = natsOptions_SetToken(x->nopts, x->token);
	if (s == NATS_OK && x->creds)
		s = natsOptions_SetUserCredentialsFromFiles(x->nopts, x->creds, NULL);
	if (s == NATS_OK && x->ca) {
		s = natsOptions_SetSecure(x->nopts, true);
		if (s == NATS_OK)
			s = natsOptions_LoadCATrustedCertificates(x->nopts, x->ca);
	}
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(x->nopts, CONNECT_TIMEOUT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(x->nopts, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(x->nopts, RECONNECT_WAIT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectJitter(x->nopts, 300, 1000);
	if (s == NATS_OK)
		s = natsOptions_SetPingInterval(x->nopts, 10000);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPingsOut(x->nopts, 2);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(x->nopts, on_disconnected, x);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(x->nopts, on_reconnected, x);
	if (s == NATS_OK)
		s = natsOptions_SetClosedCB(x->nopts, on_closed, x);
	if (s == NATS_OK)
		s = natsOptions_SetEventLoop(x->nopts, x->loop, natsLibuv_Attach, natsLibuv_Read,
		    natsLibuv_Write, natsLibuv_Detach);
	if (s != NATS_OK) {
		nats_err(err, errlen, "NATS option", s);
		goto done;
	}
	rc = 0;
done:
	for (int i = 0; i < nservers; i++)
		free(servers[i]);
	free(servers);
	return rc;
}

int natsx_open(uv_loop_t *loop, const struct natsx_opts *o, natsx_state_cb on_state, void *arg,
    struct natsx **out, char *err, size_t errlen)
{
	struct natsx *x = NULL;
	int bad = 0;

	*out = NULL;
	if (loop == NULL || o == NULL || o->urls == NULL || o->urls[0] == '\0') {
		seterr(err, errlen, "natsx: no server URL");
		return -1;
	}
	if (o->replicas < 0 || o->replicas > 5) {
		seterr(err, errlen, "natsx: replicas must be 1 to 5");
		return -1;
	}
	if ((o->user != NULL) != (o->password != NULL)) {
		seterr(err, errlen, "natsx: user and password go together");
		return -1;
	}
	const char *prefix = o->prefix ? o->prefix : "vanthu.edxml";
	const char *stream = o->stream ? o->stream : "VANTHU_EDXML";
	if (check_prefix(prefix) != 0) {
		seterr(err, errlen, "natsx: unusable subject prefix");
		return -1;
	}
	if (stream[0] == '\0' || strlen(stream) > 64 || strpbrk(stream, ". *>\t\r\n/\\") != NULL) {
		seterr(err, errlen, "natsx: unusable stream name");
		return -1;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL) {
		seterr(err, errlen, "natsx: out of memory");
		return -1;
	}
	x->loop = loop;
	x->on_state = on_state;
	x->arg = arg;
	x->urls = dup_opt(o->urls, &bad);
	x->user = dup_opt(o->user, &bad);
	x->password = dup_opt(o->password, &bad);
	x->token = dup_opt(o->token, &bad);
	x->creds = dup_opt(o->creds_file, &bad);
	x->ca = dup_opt(o->ca_file, &bad);
	x->name = dup_opt(o->name, &bad);
	x->prefix = dup_opt(prefix, &bad);
	x->stream = dup_opt(stream, &bad);
	x->replicas = o->replicas ? o->replicas : 1;
	x->dedup_window = o->dedup_window ? o->dedup_window : 86400;
	x->ack_wait = o->ack_wait ? o->ack_wait : 30;
	x->max_pending = o->max_pending ? o->max_pending : 256;
	x->retry_ms = FIRST_RETRY_MIN_MS;
	if (x->max_pending > 100000)
		x->max_pending = 100000;
	if (x->ack_wait > 86400)
		x->ack_wait = 86400;
	if (bad || x->urls == NULL) {
		seterr(err, errlen, "natsx: an option is too long (or out of memory)");
		goto fail_early;
	}
	if (uv_mutex_init(&x->mu) != 0) {
		seterr(err, errlen, "natsx: mutex");
		goto fail_early;
	}
	if (uv_cond_init(&x->cond) != 0) {
		uv_mutex_destroy(&x->mu);
		seterr(err, errlen, "natsx: condition");
		goto fail_early;
	}
	natsLibuv_Init();
	natsLibuv_SetThreadLocalLoop(loop); /* this is the loop's thread (natsx.h) */
	if (make_options(x, err, errlen) != 0) {
		natsOptions_Destroy(x->nopts);
		x->nopts = NULL;
		uv_cond_destroy(&x->cond);
		uv_mutex_destroy(&x->mu);
		goto fail_early;
	}
	uv_async_init(loop, &x->wake, on_wake);
	uv_timer_init(loop, &x->connect_timer);
	uv_timer_init(loop, &x->sweep);
	x->wake.data = x->connect_timer.data = x->sweep.data = x;
	x->handles = 3;
	if (uv_thread_create(&x->manager, manager_thread, x) != 0) {
		seterr(err, errlen, "natsx: cannot start the manager thread");
		x->closed = 1;
		uv_close((uv_handle_t *)&x->wake, on_handle_closed);
		uv_close((uv_handle_t *)&x->connect_timer, on_handle_closed);
		uv_close((uv_handle_t *)&x->sweep, on_handle_closed);
		return -1;
	}
	x->manager_started = 1;
	/* the first attempt from the loop, right after this returns */
	uv_timer_start(&x->connect_timer, on_connect_timer, 0, 0);
	*out = x;
	return 0;
fail_early:
	free(x->urls);
	free(x->user);
	free(x->password);
	free(x->token);
	free(x->creds);
	free(x->ca);
	free(x->name);
	free(x->prefix);
	free(x->stream);
	free(x);
	return -1;
}

int natsx_is_up(const struct natsx *x)
{
	return x != NULL && !x->closed && x->up;
}

const char *natsx_server(const struct natsx *x)
{
	return (x != NULL && !x->closed && x->up) ? x->server : "";
}

void natsx_close(struct natsx *x)
{
	if (x == NULL || x->closed)
		return;
	x->closed = 1;
	x->up = 0;
	uv_mutex_lock(&x->mu);
	x->quit = 1;
	uv_cond_broadcast(&x->cond);
	uv_mutex_unlock(&x->mu);
	/* pending publishes: told now, as the header promises */
	while (x->pend) {
		struct pending *p = x->pend;
		x->pend = p->next;
		natsx_pub_cb cb = p->cb;
		void *arg = p->arg;
		free(p);
		x->npend--;
		if (cb)
			cb(arg, 0, 0, "the NATS link was closed before the stream acknowledged");
	}
	/* messages still held by the receiver stay its own; acking them only frees them */
	while (x->held) {
		struct natsx_msg *m = x->held;
		x->held = m->next;
		m->prev = m->next = NULL;
		m->x = NULL;
	}
	uv_timer_stop(&x->connect_timer);
	uv_timer_stop(&x->sweep);
	uv_close((uv_handle_t *)&x->connect_timer, on_handle_closed);
	uv_close((uv_handle_t *)&x->sweep, on_handle_closed);
	/* the manager tears the connection down on its thread and then wakes us (EV_DONE) */
}
