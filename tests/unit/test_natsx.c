/*
 * test_natsx.c: unit tests of natsx.c against real nats-server processes started by
 * tests/tools/natscluster.py: a single JetStream server (publish, receive, ack; the same
 * message id stored once; redelivery after ack_wait and after a nak, none after an ack; a
 * message over max_payload refused; publishing while the server is down refused or failed,
 * never silent; restart) and a hub of three JetStream servers with a leaf node, the client
 * on the leaf (replicas 3; the hub node the leaf is attached to SIGKILLed and restarted:
 * nothing acknowledged is lost; the leaf itself killed and restarted: delivery resumes).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "natsx.h"

#define TOOL "tests/tools/natscluster.py"
#define MAXNODES 8
#define MAXGOT 256

struct node {
	char name[16];
	char url[64];
};

struct cluster {
	char dir[128];
	struct node nodes[MAXNODES];
	int count;
};

/* Runs the tool; its "name url" lines fill c (when given); out gets the first line. */
static int tool(struct cluster *c, char *out, size_t outlen, const char *fmt, ...)
{
	char args[512], cmd[1024], line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s", TOOL, args);
	FILE *p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	int n = 0;
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		if (n == 0 && out)
			snprintf(out, outlen, "%s", line);
		if (c && n < MAXNODES && sscanf(line, "%15s %63s", c->nodes[n].name, c->nodes[n].url) == 2)
			c->count = n + 1;
		n++;
	}
	return pclose(p) == 0 ? 0 : -1;
}

static const char *url_of(const struct cluster *c, const char *name)
{
	for (int i = 0; i < c->count; i++)
		if (strcmp(c->nodes[i].name, name) == 0)
			return c->nodes[i].url;
	return NULL;
}

/* ---- a receiver and a publisher's results, all on the loop ---- */

enum mode { ACK, HOLD, NAK_ONCE };

struct got {
	char data[64];
	unsigned redeliveries;
	struct natsx_msg *held; /* in HOLD mode */
};

struct rx {
	enum mode mode;
	struct got got[MAXGOT];
	int count;
};

static void on_msg(void *arg, const char *organ, struct natsx_msg *m, const void *data, size_t len,
    unsigned redeliveries)
{
	struct rx *r = arg;
	(void)organ;
	if (r->count >= MAXGOT) {
		natsx_ack(m);
		return;
	}
	struct got *g = &r->got[r->count++];
	snprintf(g->data, sizeof(g->data), "%.*s", (int)(len < 63 ? len : 63), (const char *)data);
	g->redeliveries = redeliveries;
	if (r->mode == HOLD)
		g->held = m;
	else if (r->mode == NAK_ONCE && redeliveries == 0)
		natsx_nak(m, 0);
	else
		natsx_ack(m);
}

static int times_got(const struct rx *r, const char *data)
{
	int n = 0;
	for (int i = 0; i < r->count; i++)
		n += strcmp(r->got[i].data, data) == 0;
	return n;
}

struct pub {
	int called, ok, duplicate;
	char err[256];
};

static void on_pub(void *arg, int ok, int duplicate, const char *err)
{
	struct pub *p = arg;
	p->called++;
	p->ok = ok;
	p->duplicate = duplicate;
	snprintf(p->err, sizeof(p->err), "%s", err ? err : "");
}

struct state {
	int ups, downs, up;
};

static void on_state(void *arg, int up, const char *info)
{
	struct state *s = arg;
	(void)info;
	s->up = up;
	if (up)
		s->ups++;
	else
		s->downs++;
}

/* ---- running the loop ---- */

static void on_tick(uv_timer_t *t)
{
	(void)t;
}

/* Runs loop until *flag (an int) is at least want, or ms pass; returns the last value. */
static int run_until(uv_loop_t *loop, const int *flag, int want, unsigned ms)
{
	uv_timer_t tick;
	uv_timer_init(loop, &tick);
	uv_timer_start(&tick, on_tick, 20, 20);
	uint64_t end = uv_now(loop) + ms;
	while (*flag < want && uv_now(loop) < end)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return *flag;
}

static void run_for(uv_loop_t *loop, unsigned ms)
{
	int never = 0;
	run_until(loop, &never, 1, ms);
}

/* Publishes and waits for the ack; 1 when stored, 0 when refused or failed. */
static int publish_wait(uv_loop_t *loop, struct natsx *x, const char *organ, const char *id,
    struct pub *p)
{
	char err[256];
	memset(p, 0, sizeof(*p));
	if (natsx_publish(x, organ, id, id, strlen(id), on_pub, p, err, sizeof(err)) != 0) {
		snprintf(p->err, sizeof(p->err), "%s", err);
		return 0;
	}
	run_until(loop, &p->called, 1, 15000);
	assert_int_equal(p->called, 1);
	return p->ok;
}

static void close_link(uv_loop_t *loop, struct natsx *x)
{
	natsx_close(x);
	while (uv_run(loop, UV_RUN_DEFAULT) != 0)
		;
}

static struct natsx *open_link(uv_loop_t *loop, const char *urls, const char *stream,
    const char *prefix, int replicas, unsigned ack_wait, struct state *st)
{
	struct natsx_opts o = { 0 };
	struct natsx *x = NULL;
	char err[256];
	o.urls = urls;
	o.name = "test_natsx";
	o.stream = stream;
	o.prefix = prefix;
	o.replicas = replicas;
	o.ack_wait = ack_wait;
	o.max_pending = 16;
	int rc = natsx_open(loop, &o, on_state, st, &x, err, sizeof(err));
	if (rc != 0)
		print_error("natsx_open: %s\n", err);
	assert_int_equal(rc, 0);
	run_until(loop, &st->ups, 1, 15000);
	assert_int_equal(st->up, 1);
	assert_true(natsx_is_up(x));
	return x;
}

/* ---- a single server ---- */

static struct cluster single;

static int single_setup(void **state)
{
	(void)state;
	snprintf(single.dir, sizeof(single.dir), "/tmp/test_natsx.%d.single", (int)getpid());
	/* a small max_payload, so "too large" needs no big buffer */
	return tool(&single, NULL, 0, "start %s --size 1 --leaves 0 --max-payload 65536 --owner %d",
	    single.dir, (int)getpid());
}

static int single_teardown(void **state)
{
	char cmd[256];
	(void)state;
	tool(NULL, NULL, 0, "stop %s", single.dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", single.dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_subject(void **state)
{
	char out[128];
	(void)state;
	assert_int_equal(natsx_subject(NULL, "000.00.01.H56", out, sizeof(out)), 0);
	assert_string_equal(out, "vanthu.edxml.000.00.01.H56");
	assert_int_equal(natsx_subject("a.b", "X-1", out, sizeof(out)), 0);
	assert_string_equal(out, "a.b.X-1");
	assert_int_equal(natsx_subject(NULL, "a.>", out, sizeof(out)), -1);
	assert_int_equal(natsx_subject(NULL, "a b", out, sizeof(out)), -1);
	assert_int_equal(natsx_subject(NULL, "..", out, sizeof(out)), -1);
	assert_int_equal(natsx_subject(NULL, "", out, sizeof(out)), -1);
	assert_int_equal(natsx_subject("bad.", "X", out, sizeof(out)), -1);
	assert_int_equal(natsx_subject("p", "000.00.01.H56", out, 8), -1);
}

static void test_publish_receive_dedup(void **state)
{
	uv_loop_t loop;
	struct state st = { 0 };
	struct rx r = { .mode = ACK };
	struct pub p;
	char err[256];
	(void)state;
	uv_loop_init(&loop);
	struct natsx *x = open_link(&loop, url_of(&single, "n1"), "T1", "t1", 1, 0, &st);
	assert_string_equal(natsx_server(x), url_of(&single, "n1"));
	assert_int_equal(natsx_subscribe(x, "000.00.01.H56", on_msg, &r, err, sizeof(err)), 0);
	assert_int_equal(natsx_subscribe(x, "000.00.01.H56", on_msg, &r, err, sizeof(err)), -1);

	assert_int_equal(publish_wait(&loop, x, "000.00.01.H56", "doc-1", &p), 1);
	assert_int_equal(p.duplicate, 0);
	run_until(&loop, &r.count, 1, 10000);
	assert_int_equal(r.count, 1);
	assert_string_equal(r.got[0].data, "doc-1");
	assert_int_equal(r.got[0].redeliveries, 0);

	/* the same id again: stored once, received once */
	assert_int_equal(publish_wait(&loop, x, "000.00.01.H56", "doc-1", &p), 1);
	assert_int_equal(p.duplicate, 1);
	assert_int_equal(publish_wait(&loop, x, "000.00.01.H56", "doc-2", &p), 1);
	assert_int_equal(p.duplicate, 0);
	run_until(&loop, &r.count, 2, 10000);
	run_for(&loop, 1500);
	assert_int_equal(r.count, 2);
	assert_int_equal(times_got(&r, "doc-1"), 1);
	assert_int_equal(times_got(&r, "doc-2"), 1);

	/* a bad id is refused at once */
	assert_int_equal(natsx_publish(x, "000.00.01.H56", "a\r\nb", "x", 1, on_pub, &p, err,
	    sizeof(err)), -1);
	assert_int_equal(natsx_publish(x, "a.*", "id", "x", 1, on_pub, &p, err, sizeof(err)), -1);
	close_link(&loop, x);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_redelivery(void **state)
{
	uv_loop_t loop;
	struct state st = { 0 };
	struct rx hold = { .mode = HOLD }, nak = { .mode = NAK_ONCE };
	struct pub p;
	char err[256];
	(void)state;
	uv_loop_init(&loop);
	struct natsx *x = open_link(&loop, url_of(&single, "n1"), "T2", "t2", 1, 1, &st);
	assert_int_equal(natsx_subscribe(x, "H.1", on_msg, &hold, err, sizeof(err)), 0);
	assert_int_equal(natsx_subscribe(x, "H.2", on_msg, &nak, err, sizeof(err)), 0);

	/* not acked: it comes again after ack_wait (1 s), counted as a redelivery */
	assert_int_equal(publish_wait(&loop, x, "H.1", "held", &p), 1);
	run_until(&loop, &hold.count, 1, 10000);
	assert_int_equal(hold.count, 1);
	assert_int_equal(hold.got[0].redeliveries, 0);
	run_until(&loop, &hold.count, 2, 10000);
	assert_int_equal(hold.count, 2);
	assert_string_equal(hold.got[1].data, "held");
	assert_true(hold.got[1].redeliveries >= 1);
	/* acked now: never again */
	natsx_ack(hold.got[1].held);
	natsx_ack(hold.got[0].held);
	run_for(&loop, 2500);
	assert_int_equal(hold.count, 2);

	/* nak'd: at once again */
	assert_int_equal(publish_wait(&loop, x, "H.2", "nakked", &p), 1);
	run_until(&loop, &nak.count, 2, 900);
	assert_int_equal(nak.count, 2); /* sooner than ack_wait */
	assert_int_equal(nak.got[1].redeliveries, 1);
	run_for(&loop, 1500);
	assert_int_equal(nak.count, 2);

	/* a message still held when the link closes stays the receiver's: its ack frees it */
	assert_int_equal(publish_wait(&loop, x, "H.1", "kept", &p), 1);
	run_until(&loop, &hold.count, 3, 10000);
	assert_int_equal(hold.count, 3);
	close_link(&loop, x);
	natsx_ack(hold.got[2].held);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_too_large_and_down(void **state)
{
	uv_loop_t loop;
	struct state st = { 0 };
	struct rx r = { .mode = ACK };
	struct pub p = { 0 }, p2 = { 0 };
	char err[256];
	(void)state;
	uv_loop_init(&loop);
	struct natsx *x = open_link(&loop, url_of(&single, "n1"), "T3", "t3", 1, 0, &st);
	size_t big = 70000;
	char *buf = calloc(1, big);
	assert_non_null(buf);
	memset(buf, 'x', big);
	assert_int_equal(natsx_publish(x, "B.1", "big", buf, big, on_pub, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "max_payload"));
	assert_int_equal(natsx_publish(x, "B.1", "fits", buf, 60000, on_pub, &p, err, sizeof(err)), 0);
	run_until(&loop, &p.called, 1, 10000);
	assert_int_equal(p.ok, 1);
	free(buf);

	/* published right before the server dies: the cb tells, whatever happened */
	assert_int_equal(natsx_publish(x, "B.1", "at-kill", "at-kill", 7, on_pub, &p2, err,
	    sizeof(err)), 0);
	assert_int_equal(tool(NULL, NULL, 0, "kill %s n1", single.dir), 0);
	run_until(&loop, &st.downs, 1, 10000);
	assert_int_equal(st.up, 0);
	assert_false(natsx_is_up(x));
	assert_string_equal(natsx_server(x), "");
	memset(&p, 0, sizeof(p));
	assert_int_equal(natsx_publish(x, "B.1", "down", "down", 4, on_pub, &p, err, sizeof(err)), -1);
	run_until(&loop, &p2.called, 1, 15000);
	assert_int_equal(p2.called, 1);

	/* back: up again, stored messages kept (file storage), delivery on */
	assert_int_equal(tool(NULL, NULL, 0, "restart %s n1", single.dir), 0);
	run_until(&loop, &st.ups, 2, 20000);
	assert_int_equal(st.up, 1);
	assert_int_equal(publish_wait(&loop, x, "B.1", "after", &p), 1);
	assert_int_equal(natsx_subscribe(x, "B.1", on_msg, &r, err, sizeof(err)), 0);
	int want = 2 + (p2.ok ? 1 : 0); /* fits, after, and at-kill when it was stored */
	run_until(&loop, &r.count, want, 15000);
	assert_int_equal(times_got(&r, "after"), 1);
	if (p2.ok)
		assert_int_equal(times_got(&r, "at-kill"), 1);
	/* the pending publish at close is told too */
	memset(&p, 0, sizeof(p));
	assert_int_equal(natsx_publish(x, "B.1", "closing", "c", 1, on_pub, &p, err, sizeof(err)), 0);
	natsx_close(x);
	assert_int_equal(p.called, 1);
	assert_int_equal(p.ok, 0);
	while (uv_run(&loop, UV_RUN_DEFAULT) != 0)
		;
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_bad_options(void **state)
{
	uv_loop_t loop;
	struct natsx *x = NULL;
	struct natsx_opts o = { 0 };
	char err[256];
	(void)state;
	uv_loop_init(&loop);
	assert_int_equal(natsx_open(&loop, &o, NULL, NULL, &x, err, sizeof(err)), -1);
	o.urls = "nats://127.0.0.1:1";
	o.prefix = "a..b";
	assert_int_equal(natsx_open(&loop, &o, NULL, NULL, &x, err, sizeof(err)), -1);
	o.prefix = NULL;
	o.stream = "has.dot";
	assert_int_equal(natsx_open(&loop, &o, NULL, NULL, &x, err, sizeof(err)), -1);
	assert_null(x);

	/* nobody listens: down is reported, publishing refused, closing is clean */
	struct state st = { 0 };
	struct pub p = { 0 };
	o.stream = NULL;
	assert_int_equal(natsx_open(&loop, &o, on_state, &st, &x, err, sizeof(err)), 0);
	run_until(&loop, &st.downs, 1, 5000);
	assert_int_equal(st.downs, 1);
	assert_false(natsx_is_up(x));
	assert_int_equal(natsx_publish(x, "A.1", "id", "x", 1, on_pub, &p, err, sizeof(err)), -1);
	assert_int_equal(p.called, 0);
	close_link(&loop, x);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- three JetStream servers and a leaf ---- */

static struct cluster hub;

static int hub_setup(void **state)
{
	(void)state;
	snprintf(hub.dir, sizeof(hub.dir), "/tmp/test_natsx.%d.hub", (int)getpid());
	return tool(&hub, NULL, 0, "start %s --size 3 --leaves 1 --user office --password s3cret "
	    "--owner %d", hub.dir, (int)getpid());
}

static int hub_teardown(void **state)
{
	char cmd[256];
	(void)state;
	tool(NULL, NULL, 0, "stop %s", hub.dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", hub.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* publishes id until the stream acknowledges it (retrying while the link or the cluster is
 * recovering); 1 when stored */
static int publish_retry(uv_loop_t *loop, struct natsx *x, const char *organ, const char *id,
    unsigned ms)
{
	struct pub p;
	uint64_t end = uv_now(loop) + ms;
	while (uv_now(loop) < end) {
		if (publish_wait(loop, x, organ, id, &p))
			return 1;
		run_for(loop, 300);
	}
	print_error("%s never stored: %s\n", id, p.err);
	return 0;
}

static void test_cluster_leaf(void **state)
{
	uv_loop_t loop;
	struct state st = { 0 };
	struct rx r = { .mode = ACK };
	char err[256], id[32], attached[32] = "";
	const char *organ = "000.00.02.G01";
	int n = 0;
	(void)state;
	uv_loop_init(&loop);

	/* the leaf wants user and password */
	struct natsx_opts o = { .urls = url_of(&hub, "leaf1"), .stream = "T4", .prefix = "t4",
	    .replicas = 3, .user = "office", .password = "s3cret" };
	struct natsx *x = NULL;
	assert_int_equal(natsx_open(&loop, &o, on_state, &st, &x, err, sizeof(err)), 0);
	run_until(&loop, &st.ups, 1, 20000);
	assert_int_equal(st.up, 1);
	assert_int_equal(natsx_subscribe(x, organ, on_msg, &r, err, sizeof(err)), 0);
	for (; n < 5; n++) {
		snprintf(id, sizeof(id), "c-%d", n);
		assert_true(publish_retry(&loop, x, organ, id, 20000));
	}
	run_until(&loop, &r.count, 5, 15000);
	assert_int_equal(r.count, 5);

	/* SIGKILL the hub node the leaf is attached to; publish on; restart it */
	assert_int_equal(tool(NULL, attached, sizeof(attached), "hubof %s leaf1", hub.dir), 0);
	assert_true(strncmp(attached, "n", 1) == 0);
	assert_int_equal(tool(NULL, NULL, 0, "kill %s %s", hub.dir, attached), 0);
	for (; n < 10; n++) {
		snprintf(id, sizeof(id), "c-%d", n);
		assert_true(publish_retry(&loop, x, organ, id, 30000));
	}
	assert_int_equal(tool(NULL, NULL, 0, "restart %s %s", hub.dir, attached), 0);
	for (; n < 15; n++) {
		snprintf(id, sizeof(id), "c-%d", n);
		assert_true(publish_retry(&loop, x, organ, id, 30000));
	}
	for (int i = 0; i < 200 && r.count < 15; i++)
		run_for(&loop, 100);
	for (int i = 0; i < 15; i++) {
		snprintf(id, sizeof(id), "c-%d", i);
		if (times_got(&r, id) < 1)
			print_error("%s lost\n", id);
		assert_true(times_got(&r, id) >= 1);
	}

	/* the leaf itself dies: the link goes down, publishing is refused, then it resumes */
	int downs = st.downs;
	assert_int_equal(tool(NULL, NULL, 0, "kill %s leaf1", hub.dir), 0);
	run_until(&loop, &st.downs, downs + 1, 10000);
	assert_int_equal(st.up, 0);
	struct pub p = { 0 };
	assert_int_equal(natsx_publish(x, organ, "c-down", "c-down", 6, on_pub, &p, err,
	    sizeof(err)), -1);
	int ups = st.ups;
	assert_int_equal(tool(NULL, NULL, 0, "restart %s leaf1", hub.dir), 0);
	run_until(&loop, &st.ups, ups + 1, 20000);
	assert_int_equal(st.up, 1);
	int before = r.count;
	assert_true(publish_retry(&loop, x, organ, "c-after-leaf", 20000));
	run_until(&loop, &r.count, before + 1, 15000);
	assert_int_equal(times_got(&r, "c-after-leaf"), 1);
	close_link(&loop, x);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest basic[] = {
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_bad_options),
	};
	const struct CMUnitTest one[] = {
		cmocka_unit_test(test_publish_receive_dedup),
		cmocka_unit_test(test_redelivery),
		cmocka_unit_test(test_too_large_and_down),
	};
	const struct CMUnitTest three[] = {
		cmocka_unit_test(test_cluster_leaf),
	};
	int rc = cmocka_run_group_tests_name("natsx", basic, NULL, NULL);
	rc += cmocka_run_group_tests_name("natsx single server", one, single_setup, single_teardown);
	rc += cmocka_run_group_tests_name("natsx cluster and leaf", three, hub_setup, hub_teardown);
	return rc;
}
