/* test_store_exchange.c: unit tests of store_exchange.c (outbox, deliveries, the incoming
 * register and its handling, schema 12) on a real database in a temporary folder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "store_exchange.h"

struct fixture {
	char dir[64];
	char db[PATH_MAX];
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[512];

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/vanthu-xstore-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/vanthu.db", f->dir);
	if (store_open(f->db, &f->st, err, sizeof(err)) != STORE_OK) {
		print_error("store_open: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX + 16];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Runs SQL on the file through a connection of its own, as another program would: the
 * SQLite result code. */
static int raw_try(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

static void raw_exec(const char *path, const char *sql)
{
	assert_int_equal(raw_try(path, sql), SQLITE_OK);
}

static long long raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("raw_int: %s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void raw_text(const char *path, const char *sql, char *out, size_t len)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	out[0] = '\0';
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("raw_text: %s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(out, len, "%s", sqlite3_column_text(s, 0) ? (const char *)
		    sqlite3_column_text(s, 0) : "-");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* Rows as text: the wanted columns of each row, "," between columns, ";" between rows;
 * NULL shows as "-". A wanted column the rows do not have shows as "?". */
struct grab {
	const char *want;
	char out[16384];
};

static int grab_cb(const struct store_col *cols, int n, void *arg)
{
	struct grab *g = arg;
	char names[512], *save = NULL;
	size_t len = strlen(g->out);

	snprintf(names, sizeof(names), "%s", g->want);
	if (len > 0)
		len += (size_t)snprintf(g->out + len, sizeof(g->out) - len, ";");
	int first = 1;
	for (char *w = strtok_r(names, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save)) {
		const char *v = "?";
		char num[32];
		for (int i = 0; i < n; i++) {
			if (strcmp(cols[i].name, w) != 0)
				continue;
			if (cols[i].type == 0) {
				v = "-";
			} else if (cols[i].type == 1) {
				snprintf(num, sizeof(num), "%lld", (long long)cols[i].i);
				v = num;
			} else {
				v = cols[i].s;
			}
		}
		len += (size_t)snprintf(g->out + len, sizeof(g->out) - len, "%s%s", first ? "" : ",",
		    v);
		first = 0;
		if (len >= sizeof(g->out))
			fail_msg("grab: too much");
	}
	return 0;
}

static long long audit_count(const char *db, const char *action)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE action = '%s'", action);
	return raw_int(db, sql);
}

static void audit_ok(struct store *st)
{
	int64_t bad = -1, checked = 0;
	char err[512];

	assert_int_equal(store_audit_verify(st, &bad, &checked, err, sizeof(err)), STORE_OK);
	assert_int_equal(bad, 0);
	assert_true(checked > 0);
}

static int64_t make_doc(struct store *st)
{
	struct store_doc_new d = { .kind = "cong-van", .state = "draft", .summary = "Trả lời",
		.signer_name = "Đặng Minh Thông", .recipients = "[]", .archive = "VT", .uid = 100,
		.login = "vtt-ana", .content = "<x/>", .content_len = 4, .sha256 = "00" };
	char err[512];
	int64_t id = 0;

	assert_int_equal(store_doc_create(st, &d, &id, err, sizeof(err)), STORE_OK);
	return id;
}

/* Registers an arrival of year from sender (NULL: paper) with its 01 and 03; its number. */
static int reg_rc(struct store *st, int year, const char *sender, const char *key,
    int64_t *id, int64_t *number)
{
	char m1[320], m3[320], err[512];
	struct store_xout_new sts[2] = {
		{ .msg_id = m1, .kind = "status", .recipient = sender, .code = 1, .payload = "<01/>" },
		{ .msg_id = m3, .kind = "status", .recipient = sender, .code = 3, .payload = "<03/>" },
	};
	struct store_incoming_new n = { .via = sender ? "nats" : "paper",
		.recipient = sender ? "000.00.01.H56" : NULL, .sender_id = sender,
		.sender_name = sender ? "Sở Tài chính" : "Công an tỉnh", .doc_key = key,
		.code = "12/TB-STC", .issued_on = "2026-03-02", .type_name = "Thông báo",
		.subject = "Về việc quyết toán", .priority = 1, .due_date = NULL,
		.arrived_at = "2026-03-03T01:00:00.000Z", .year = year, .uid = -1,
		.login = "vanthud", .statuses = sender ? sts : NULL, .nstatuses = sender ? 2 : 0 };

	snprintf(m1, sizeof(m1), "%s|%s|01", key ? key : "", sender ? sender : "");
	snprintf(m3, sizeof(m3), "%s|%s|03", key ? key : "", sender ? sender : "");
	int rc = store_incoming_register(st, &n, id, number, err, sizeof(err));
	if (rc != STORE_OK && rc != STORE_DONE)
		print_error("register: %s\n", err);
	return rc;
}

static int64_t reg(struct store *st, int year, const char *sender, const char *key)
{
	int64_t id = 0, number = 0;

	assert_int_equal(reg_rc(st, year, sender, key, &id, &number), STORE_OK);
	return id;
}

static long long number_of(const char *db, int64_t id)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT number FROM incoming WHERE id = %lld", (long long)id);
	return raw_int(db, sql);
}

/* ---- the register ---- */

static void test_register_numbering(void **state)
{
	struct fixture *f = *state;
	int64_t id, number, a, b, c, p, d27, count, gaps;
	char err[512];

	a = reg(f->st, 2026, "000.00.14.H56", "000.00.14.H56,2026/03/02,12/TB-STC");
	p = reg(f->st, 2026, NULL, NULL);          /* paper shares the numbering */
	b = reg(f->st, 2026, "000.00.14.H56", "000.00.14.H56,2026/03/02,13/TB-STC");
	c = reg(f->st, 2026, "000.00.15.H56", "000.00.14.H56,2026/03/02,12/TB-STC");
	assert_int_equal(number_of(f->db, a), 1);
	assert_int_equal(number_of(f->db, p), 2);
	assert_int_equal(number_of(f->db, b), 3);
	assert_int_equal(number_of(f->db, c), 4);   /* same key, another sender: another entry */
	/* a second paper arrival is another entry too (no key to be the same by) */
	int64_t p2 = reg(f->st, 2026, NULL, NULL);
	assert_int_equal(number_of(f->db, p2), 5);
	/* the next year starts at 1 again */
	d27 = reg(f->st, 2027, "000.00.14.H56", "000.00.14.H56,2027/01/02,01/TB-STC");
	assert_int_equal(number_of(f->db, d27), 1);
	/* the same document from the same sender: the first's entry, nothing queued */
	long long outbox = raw_int(f->db, "SELECT count(*) FROM outbox");
	assert_int_equal(outbox, 8);
	assert_int_equal(reg_rc(f->st, 2026, "000.00.14.H56", "000.00.14.H56,2026/03/02,13/TB-STC",
	    &id, &number), STORE_DONE);
	assert_int_equal(id, b);
	assert_int_equal(number, 3);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM outbox"), outbox);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM incoming"), 6);
	/* the statuses name the entry they are about */
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM outbox WHERE incoming_id IS NULL"), 0);
	assert_int_equal(audit_count(f->db, "incoming.register"), 6);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM audit WHERE action = "
	    "'incoming.register' AND object = 'incoming/3' AND detail LIKE '%\"number\":3%'"), 1);
	assert_int_equal(store_incoming_check(f->st, 2026, &count, &gaps, err, sizeof(err)),
	    STORE_OK);
	assert_int_equal(count, 5);
	assert_int_equal(gaps, 0);
	/* the register is kept as registered: another program cannot renumber or delete */
	assert_int_not_equal(raw_try(f->db, "UPDATE incoming SET number = 9 WHERE id = 1"),
	    SQLITE_OK);
	assert_int_not_equal(raw_try(f->db, "UPDATE incoming SET year = 2025 WHERE id = 1"),
	    SQLITE_OK);
	assert_int_not_equal(raw_try(f->db, "UPDATE incoming SET sender_id = 'x' WHERE id = 1"),
	    SQLITE_OK);
	assert_int_not_equal(raw_try(f->db, "UPDATE incoming SET doc_key = 'x' WHERE id = 1"),
	    SQLITE_OK);
	assert_int_not_equal(raw_try(f->db, "UPDATE incoming SET arrived_at = 'x' WHERE id = 1"),
	    SQLITE_OK);
	assert_int_not_equal(raw_try(f->db, "UPDATE incoming SET subject = 'x' WHERE id = 1"),
	    SQLITE_OK);
	assert_int_not_equal(raw_try(f->db, "DELETE FROM incoming WHERE id = 1"), SQLITE_OK);
	assert_int_not_equal(raw_try(f->db, "INSERT INTO incoming (year, number, arrived_at, via, "
	    "sender_name, code, issued_on, type_name, subject, registered_uid, registered_by, "
	    "registered_at) VALUES (2026, 3, 'x', 'paper', 's', 'c', 'd', 't', 's', 0, 'x', 'x')"),
	    SQLITE_OK);   /* a number twice */
	assert_int_not_equal(raw_try(f->db, "INSERT INTO incoming (year, number, arrived_at, via, "
	    "sender_name, code, issued_on, type_name, subject, registered_uid, registered_by, "
	    "registered_at) VALUES (2026, 0, 'x', 'paper', 's', 'c', 'd', 't', 's', 0, 'x', 'x')"),
	    SQLITE_OK);   /* number 0 */
	assert_int_equal(raw_int(f->db, "SELECT number FROM incoming WHERE id = 1"), 1);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM incoming"), 6);
	/* what it asks for is checked first */
	struct store_incoming_new bad = { .via = "pigeon", .sender_name = "X", .code = "1",
		.issued_on = "2026-01-01", .type_name = "T", .subject = "S", .arrived_at = "x",
		.year = 2026, .login = "vanthud" };
	assert_int_equal(store_incoming_register(f->st, &bad, &id, &number, err, sizeof(err)),
	    STORE_INVALID);
	bad.via = "paper";
	bad.issued_on = "2026-13-01";
	assert_int_equal(store_incoming_register(f->st, &bad, &id, &number, err, sizeof(err)),
	    STORE_INVALID);
	bad.issued_on = "2026-01-01";
	bad.subject = "\xc3\x28";
	assert_int_equal(store_incoming_register(f->st, &bad, &id, &number, err, sizeof(err)),
	    STORE_INVALID);
	audit_ok(f->st);
}

/* A gap forced into a copy (its trigger dropped) is counted; the original has none. */
static void test_check_counts_gap(void **state)
{
	struct fixture *f = *state;
	char copy[PATH_MAX + 16], cmd[2 * PATH_MAX + 64], err[512];
	struct store *st2 = NULL;
	int64_t count, gaps;

	for (int i = 0; i < 4; i++)
		reg(f->st, 2026, NULL, NULL);
	store_close(f->st);
	f->st = NULL;
	snprintf(copy, sizeof(copy), "%s/copy.db", f->dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", f->db, copy);
	assert_int_equal(system(cmd), 0);
	assert_int_not_equal(raw_try(copy, "DELETE FROM incoming WHERE number = 2"), SQLITE_OK);
	raw_exec(copy, "DROP TRIGGER incoming_no_delete; DELETE FROM incoming WHERE number = 2");
	assert_int_equal(store_open(copy, &st2, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_incoming_check(st2, 2026, &count, &gaps, err, sizeof(err)), STORE_OK);
	assert_int_equal(count, 3);
	assert_int_equal(gaps, 1);
	assert_int_equal(store_incoming_check(st2, 2025, &count, &gaps, err, sizeof(err)), STORE_OK);
	assert_int_equal(count, 0);
	assert_int_equal(gaps, 0);
	store_close(st2);
	assert_int_equal(store_open(f->db, &f->st, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_incoming_check(f->st, 2026, &count, &gaps, err, sizeof(err)),
	    STORE_OK);
	assert_int_equal(count, 4);
	assert_int_equal(gaps, 0);
}

/* ---- the outbox ---- */

static void test_outbox(void **state)
{
	struct fixture *f = *state;
	struct store_xout_new m[3] = {
		{ .msg_id = "k|A|01", .kind = "status", .recipient = "A", .code = 1, .payload = "<a/>" },
		{ .msg_id = "k|B|01", .kind = "status", .recipient = "B", .code = 1, .payload = "<b/>" },
		{ .msg_id = "k|A|01", .kind = "status", .recipient = "A", .code = 1, .payload = "<a/>" },
	};
	struct grab g = { .want = "id,msg_id,kind,recipient,code,payload,attempts" };
	char err[512], oldest[64], at[64];
	int added = -1;
	int64_t pending;

	assert_int_equal(store_xout_add(f->st, m, 3, &added, err, sizeof(err)), STORE_OK);
	assert_int_equal(added, 2);
	assert_int_equal(store_xout_add(f->st, m, 2, &added, err, sizeof(err)), STORE_OK);
	assert_int_equal(added, 0);
	assert_int_equal(store_xout_add(f->st, m, 1, NULL, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_xout_pending(f->st, &pending, oldest, sizeof(oldest), err,
	    sizeof(err)), STORE_OK);
	assert_int_equal(pending, 2);
	assert_true(strlen(oldest) > 10);
	/* due at once: both, oldest first */
	assert_int_equal(store_xout_due(f->st, "2999-01-01T00:00:00.000Z", 10, grab_cb, &g, err,
	    sizeof(err)), STORE_OK);
	assert_string_equal(g.out, "1,k|A|01,status,A,1,<a/>,0;2,k|B|01,status,B,1,<b/>,0");
	g.out[0] = '\0';
	assert_int_equal(store_xout_due(f->st, "2999-01-01T00:00:00.000Z", 1, grab_cb, &g, err,
	    sizeof(err)), STORE_OK);
	assert_string_equal(g.out, "1,k|A|01,status,A,1,<a/>,0");
	/* nothing is due before it was queued */
	g.out[0] = '\0';
	assert_int_equal(store_xout_due(f->st, "2000-01-01T00:00:00.000Z", 10, grab_cb, &g, err,
	    sizeof(err)), STORE_OK);
	assert_string_equal(g.out, "");
	/* a failure waits for its back-off */
	assert_int_equal(store_xout_failed(f->st, 1, "nats: timeout", "3000-01-01T00:00:00.000Z",
	    err, sizeof(err)), STORE_OK);
	g.out[0] = '\0';
	assert_int_equal(store_xout_due(f->st, "2999-12-31T23:59:59.000Z", 10, grab_cb, &g, err,
	    sizeof(err)), STORE_OK);
	assert_string_equal(g.out, "2,k|B|01,status,B,1,<b/>,0");
	g.out[0] = '\0';
	assert_int_equal(store_xout_due(f->st, "3000-01-01T00:00:00.000Z", 10, grab_cb, &g, err,
	    sizeof(err)), STORE_OK);
	assert_string_equal(g.out, "1,k|A|01,status,A,1,<a/>,1;2,k|B|01,status,B,1,<b/>,0");
	raw_text(f->db, "SELECT last_error FROM outbox WHERE id = 1", at, sizeof(at));
	assert_string_equal(at, "nats: timeout");
	/* sent once; a second time changes nothing */
	assert_int_equal(store_xout_sent(f->st, 2, "2026-03-03T01:00:00.000Z", err, sizeof(err)),
	    STORE_OK);
	assert_int_equal(store_xout_sent(f->st, 2, "2026-03-04T01:00:00.000Z", err, sizeof(err)),
	    STORE_OK);
	raw_text(f->db, "SELECT sent_at FROM outbox WHERE id = 2", at, sizeof(at));
	assert_string_equal(at, "2026-03-03T01:00:00.000Z");
	assert_int_equal(store_xout_failed(f->st, 2, "late", "3000-01-01T00:00:00.000Z", err,
	    sizeof(err)), STORE_OK);
	assert_int_equal(raw_int(f->db, "SELECT attempts FROM outbox WHERE id = 2"), 0);
	assert_int_equal(store_xout_sent(f->st, 99, "2026-03-03T01:00:00.000Z", err, sizeof(err)),
	    STORE_INVALID);
	assert_int_equal(store_xout_failed(f->st, 99, "x", "2026", err, sizeof(err)), STORE_INVALID);
	assert_int_equal(store_xout_pending(f->st, &pending, oldest, sizeof(oldest), err,
	    sizeof(err)), STORE_OK);
	assert_int_equal(pending, 1);
	/* malformed messages are refused whole */
	struct store_xout_new badm[2] = {
		{ .msg_id = "ok", .kind = "status", .recipient = "A", .payload = "<a/>" },
		{ .msg_id = "bad", .kind = "letter", .recipient = "A", .payload = "<a/>" },
	};
	assert_int_equal(store_xout_add(f->st, badm, 2, &added, err, sizeof(err)), STORE_INVALID);
	badm[1].kind = "package";
	badm[1].payload = NULL;
	assert_int_equal(store_xout_add(f->st, badm, 2, &added, err, sizeof(err)), STORE_INVALID);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM outbox"), 2);
	/* the due list walks the partial index of what is unsent */
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_master WHERE name = "
	    "'outbox_due' AND sql LIKE '%WHERE sent_at IS NULL%'"), 1);
}

/* ---- the sender's deliveries ---- */

#define KEY "000.00.01.H56,2026/03/05,15/UBND-VP"

static void status_in(struct store *st, const char *recipient, int code, const char *desc,
    const char *at, int want)
{
	struct store_status_in s = { .doc_key = KEY, .recipient = recipient, .code = code,
		.description = desc, .at = at, .staff = "Lê Thị Hoa (Văn thư)", .via = "nats" };
	char err[512];

	int rc = store_delivery_status(st, &s, err, sizeof(err));
	if (rc != want)
		fail_msg("status %s %02d: %d (%s), wanted %d", recipient, code, rc, err, want);
}

static void deliveries(struct store *st, int64_t doc, char *out, size_t len)
{
	struct grab g = { .want = "recipient_id,name,via,sent_at,status,status_text,arrived_at,"
	    "recall,recall_answer" };
	char err[512];

	assert_int_equal(store_delivery_list(st, doc, grab_cb, &g, err, sizeof(err)), STORE_OK);
	snprintf(out, len, "%s", g.out);
}

static void test_deliveries(void **state)
{
	struct fixture *f = *state;
	int64_t doc = make_doc(f->st), other = make_doc(f->st);
	struct store_delivery_new r[3] = {
		{ .recipient_id = "000.00.14.H56", .name = "Sở Tài chính" },
		{ .recipient_id = NULL, .name = "Công an tỉnh" },
		{ .recipient_id = "000.00.15.H56", .name = "Sở Xây dựng" },
	};
	char err[512], key[300], list[4096];
	struct grab g = { .want = "msg_id,kind,recipient,document_id,path" };

	assert_int_equal(store_delivery_key(f->st, doc, key, sizeof(key), err, sizeof(err)),
	    STORE_INVALID);
	assert_int_equal(store_delivery_plan(f->st, doc, KEY, "/spool/out/15.edxml", r, 3, err,
	    sizeof(err)), STORE_OK);
	assert_int_equal(store_delivery_plan(f->st, doc, KEY, "/spool/out/15.edxml", r, 3, err,
	    sizeof(err)), STORE_DONE);
	/* another document cannot take the same DocumentId; a recipient named twice is refused */
	assert_int_equal(store_delivery_plan(f->st, other, KEY, "/p", r, 3, err, sizeof(err)),
	    STORE_INVALID);
	struct store_delivery_new twice[2] = { r[0], r[0] };
	assert_int_equal(store_delivery_plan(f->st, other, "k2", "/p", twice, 2, err, sizeof(err)),
	    STORE_INVALID);
	assert_int_equal(store_delivery_plan(f->st, 999, "k3", "/p", r, 3, err, sizeof(err)),
	    STORE_INVALID);
	assert_int_equal(store_delivery_key(f->st, doc, key, sizeof(key), err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(key, KEY);
	/* one package per recipient by exchange, none for paper */
	assert_int_equal(store_xout_due(f->st, "2999-01-01T00:00:00.000Z", 10, grab_cb, &g, err,
	    sizeof(err)), STORE_OK);
	assert_string_equal(g.out, KEY "|000.00.14.H56|package,package,000.00.14.H56,1,"
	    "/spool/out/15.edxml;" KEY "|000.00.15.H56|package,package,000.00.15.H56,1,"
	    "/spool/out/15.edxml");
	deliveries(f->st, doc, list, sizeof(list));
	assert_string_equal(list, "000.00.14.H56,Sở Tài chính,exchange,-,-,-,-,-,-;"
	    "-,Công an tỉnh,paper,-,-,-,-,-,-;000.00.15.H56,Sở Xây dựng,exchange,-,-,-,-,-,-");
	/* the transport took the first package: that delivery is sent */
	assert_int_equal(store_xout_sent(f->st, 1, "2026-03-05T02:00:00.000Z", err, sizeof(err)),
	    STORE_OK);
	deliveries(f->st, doc, list, sizeof(list));
	assert_string_equal(list, "000.00.14.H56,Sở Tài chính,exchange,2026-03-05T02:00:00.000Z,"
	    "-,-,-,-,-;-,Công an tỉnh,paper,-,-,-,-,-,-;000.00.15.H56,Sở Xây dựng,exchange,-,-,-,-,-,-");
	/* statuses: the highest progress code is shown, a repeat is nothing */
	status_in(f->st, "000.00.14.H56", 1, "", "2026-03-05 09:01:00", STORE_OK);
	status_in(f->st, "000.00.14.H56", 3, "", "2026-03-05 09:30:00", STORE_OK);
	status_in(f->st, "000.00.14.H56", 1, "", "2026-03-05 09:01:00", STORE_DONE);
	status_in(f->st, "000.00.14.H56", 6, "Đã trả lời", "2026-03-09 10:00:00", STORE_OK);
	status_in(f->st, "000.00.14.H56", 4, "", "2026-03-06 08:00:00", STORE_OK);  /* late */
	status_in(f->st, "000.00.14.H56", 9, "?", "2026-03-10 08:00:00", STORE_OK); /* unknown */
	/* a refusal is shown with its reason; a late 01 sent before it does not hide it */
	status_in(f->st, "000.00.15.H56", 2, "Gửi nhầm cơ quan", "2026-03-05 10:00:00", STORE_OK);
	status_in(f->st, "000.00.15.H56", 1, "", "2026-03-05 09:55:00", STORE_OK);
	/* nobody else, no other document */
	status_in(f->st, "000.00.99.H56", 1, "", "2026-03-05 09:01:00", STORE_INVALID);
	struct store_status_in unknown = { .doc_key = "nope", .recipient = "000.00.14.H56",
		.code = 1, .description = "", .at = "2026-03-05 09:01:00", .via = "nats" };
	assert_int_equal(store_delivery_status(f->st, &unknown, err, sizeof(err)), STORE_INVALID);
	assert_non_null(strstr(err, "nope"));
	unknown.doc_key = KEY;
	unknown.code = 0;
	assert_int_equal(store_delivery_status(f->st, &unknown, err, sizeof(err)), STORE_INVALID);
	deliveries(f->st, doc, list, sizeof(list));
	assert_string_equal(list, "000.00.14.H56,Sở Tài chính,exchange,2026-03-05T02:00:00.000Z,"
	    "6,Đã trả lời,2026-03-05 09:01:00,-,-;-,Công an tỉnh,paper,-,-,-,-,-,-;"
	    "000.00.15.H56,Sở Xây dựng,exchange,-,2,Gửi nhầm cơ quan,2026-03-05 09:55:00,-,-");
	struct grab h = { .want = "recipient_id,code,description,at,staff,via" };
	assert_int_equal(store_delivery_history(f->st, doc, grab_cb, &h, err, sizeof(err)),
	    STORE_OK);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM delivery_status"), 7);
	assert_non_null(strstr(h.out, "000.00.15.H56,2,Gửi nhầm cơ quan,2026-03-05 10:00:00,"
	    "Lê Thị Hoa (Văn thư),nats"));
	assert_int_equal(audit_count(f->db, "exchange.status"), 7);
	assert_int_equal(audit_count(f->db, "exchange.send"), 1);
	/* received statuses are kept as they came */
	assert_int_not_equal(raw_try(f->db, "UPDATE delivery_status SET code = 5"), SQLITE_OK);
	assert_int_not_equal(raw_try(f->db, "DELETE FROM delivery_status"), SQLITE_OK);
	/* the recall: one 13 per recipient by exchange, once */
	struct store_xout_new rc13[2] = {
		{ .msg_id = KEY "|000.00.14.H56|13", .kind = "status", .recipient = "000.00.14.H56",
		  .code = 13, .payload = "<13/>" },
		{ .msg_id = KEY "|000.00.15.H56|13", .kind = "status", .recipient = "000.00.15.H56",
		  .code = 13, .payload = "<13/>" },
	};
	assert_int_equal(store_delivery_recall(f->st, other, "Sai sót", rc13, 2, 7, "vtt-dung",
	    err, sizeof(err)), STORE_INVALID);
	assert_int_equal(store_delivery_recall(f->st, doc, "Sai sót về số liệu", rc13, 2, 7,
	    "vtt-dung", err, sizeof(err)), STORE_OK);
	assert_int_equal(store_delivery_recall(f->st, doc, "Sai sót về số liệu", rc13, 2, 7,
	    "vtt-dung", err, sizeof(err)), STORE_DONE);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM outbox WHERE code = 13 AND "
	    "document_id = 1 AND sent_at IS NULL"), 2);
	status_in(f->st, "000.00.14.H56", 15, "Đồng ý", "2026-03-11 08:00:00", STORE_OK);
	deliveries(f->st, doc, list, sizeof(list));
	/* the recall answer is the newest: shown, and kept apart */
	assert_non_null(strstr(list, "000.00.14.H56,Sở Tài chính,exchange,2026-03-05T02:00:00.000Z,"
	    "15,Đồng ý,2026-03-05 09:01:00,20"));
	assert_non_null(strstr(list, ",15;-,Công an tỉnh,paper,-,-,-,-,-,-;"));
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM deliveries WHERE recall_at IS NOT "
	    "NULL AND recall_reason = 'Sai sót về số liệu'"), 2);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM audit WHERE action = "
	    "'exchange.recall' AND object = 'document/1' AND actor = 'vtt-dung'"), 1);
	/* a paper-only document has nothing to recall */
	struct store_delivery_new paper[1] = { { .recipient_id = NULL, .name = "Công an tỉnh" } };
	assert_int_equal(store_delivery_plan(f->st, other, "k-other", NULL, paper, 1, err,
	    sizeof(err)), STORE_OK);
	assert_int_equal(store_delivery_recall(f->st, other, "x", NULL, 0, 7, "vtt-dung", err,
	    sizeof(err)), STORE_INVALID);
	/* the document's history shows the exchange */
	struct grab dh = { .want = "action" };
	assert_int_equal(store_doc_history(f->st, doc, grab_cb, &dh, err, sizeof(err)), STORE_OK);
	assert_non_null(strstr(dh.out, "create;exchange.send;exchange.status"));
	assert_non_null(strstr(dh.out, "exchange.recall"));
	audit_ok(f->st);
}

/* Documents issued since the exchange started and never planned; a plan with nobody. */
static void test_unplanned(void **state)
{
	struct fixture *f = *state;
	int64_t before = make_doc(f->st), after = make_doc(f->st), voided = make_doc(f->st);
	int64_t signed_only = make_doc(f->st), later = make_doc(f->st);
	struct grab g = { .want = "id" };
	char err[512], key[300];

	raw_exec(f->db, "UPDATE documents SET state = 'issued', state_since = "
	    "'2000-01-01T00:00:00.000Z' WHERE id = 1");
	/* the first call records the start: what was issued before is never sent */
	assert_int_equal(store_delivery_unplanned(f->st, 10, grab_cb, &g, err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(g.out, "");
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM exchange_start"), 1);
	assert_int_equal(audit_count(f->db, "exchange.start"), 1);
	assert_int_not_equal(raw_try(f->db, "UPDATE exchange_start SET at = '1999'"), SQLITE_OK);
	raw_exec(f->db, "UPDATE documents SET state = 'issued', state_since = "
	    "'2999-01-02T00:00:00.000Z' WHERE id IN (2, 3, 5);"
	    "UPDATE documents SET state = 'signed', state_since = '2999-01-01T00:00:00.000Z' "
	    "WHERE id = 4;"
	    "UPDATE documents SET state_since = '2999-01-01T00:00:00.000Z' WHERE id = 5;"
	    "INSERT INTO register (body, series, number, year, document_id, symbol, issued_on, kind, "
	    "summary, signer_name, recipients, archive, issued_by, issued_at, voided_at, voided_by, "
	    "void_reason) VALUES ('UBND', '2999', 1, 2999, 3, '01/UBND', '2999-01-02', 'Công văn', "
	    "'s', 'n', '[]', 'VT', 'vtt-dung', '2999-01-02T00:00:00.000Z', "
	    "'2999-01-02T01:00:00.000Z', 'vtt-dung', 'Nhầm')");
	g.out[0] = '\0';
	assert_int_equal(store_delivery_unplanned(f->st, 10, grab_cb, &g, err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(g.out, "5;2");   /* oldest issue first */
	g.out[0] = '\0';
	assert_int_equal(store_delivery_unplanned(f->st, 1, grab_cb, &g, err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(g.out, "5");
	/* a plan with no recipient at all still plans the document, once */
	assert_int_equal(store_delivery_plan(f->st, after, "document:2", NULL, NULL, 0, err,
	    sizeof(err)), STORE_OK);
	assert_int_equal(store_delivery_plan(f->st, after, "document:2", NULL, NULL, 0, err,
	    sizeof(err)), STORE_DONE);
	assert_int_equal(store_delivery_key(f->st, after, key, sizeof(key), err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(key, "document:2");
	assert_int_equal(store_delivery_key(f->st, later, key, 4, err, sizeof(err)), STORE_INVALID);
	struct store_delivery_new paper[1] = { { .recipient_id = NULL, .name = "Công an tỉnh" } };
	assert_int_equal(store_delivery_plan(f->st, later, "document:5", NULL, paper, 1, err,
	    sizeof(err)), STORE_OK);
	assert_int_equal(store_delivery_key(f->st, later, key, 4, err, sizeof(err)), STORE_ERR);
	g.out[0] = '\0';
	assert_int_equal(store_delivery_unplanned(f->st, 10, grab_cb, &g, err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(g.out, "");
	assert_int_equal(audit_count(f->db, "exchange.start"), 1);
	assert_int_not_equal(raw_try(f->db, "DELETE FROM delivery_plans"), SQLITE_OK);
	(void)before;
	(void)voided;
	(void)signed_only;
	audit_ok(f->st);
}

/* ---- refused packages ---- */

static void test_refused(void **state)
{
	struct fixture *f = *state;
	struct store_xout_new s02 = { .msg_id = "K|S|02", .kind = "status", .recipient = "S",
		.code = 2, .payload = "<02/>" };
	struct store_refused_new r = { .via = "nats", .sender_id = "S", .doc_key = "K",
		.reason = "Sai chữ ký số", .package_path = "/in/1.edxml",
		.received_at = "2026-03-05T01:00:00.000Z", .status = &s02 };
	struct grab g = { .want = "id,via,sender_id,doc_key,reason,package_path" };
	char err[512];

	assert_int_equal(store_incoming_refuse(f->st, &r, err, sizeof(err)), STORE_OK);
	r.package_path = "/in/2.edxml";
	assert_int_equal(store_incoming_refuse(f->st, &r, err, sizeof(err)), STORE_DONE);
	/* unreadable: one per file */
	struct store_refused_new u = { .via = "folder", .reason = "Gói tin hỏng",
		.package_path = "/in/3.edxml", .received_at = "2026-03-05T02:00:00.000Z" };
	assert_int_equal(store_incoming_refuse(f->st, &u, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_incoming_refuse(f->st, &u, err, sizeof(err)), STORE_DONE);
	u.package_path = "/in/4.edxml";
	assert_int_equal(store_incoming_refuse(f->st, &u, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_incoming_refused(f->st, 10, grab_cb, &g, err, sizeof(err)), STORE_OK);
	assert_string_equal(g.out, "3,folder,-,-,Gói tin hỏng,/in/4.edxml;2,folder,-,-,Gói tin hỏng,"
	    "/in/3.edxml;1,nats,S,K,Sai chữ ký số,/in/1.edxml");
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM outbox WHERE code = 2"), 1);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM incoming"), 0);
	assert_int_equal(audit_count(f->db, "incoming.refuse"), 3);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM audit WHERE object = 'refused/1'"), 1);
	audit_ok(f->st);
}

/* ---- recall of an incoming document ---- */

static void test_incoming_recall(void **state)
{
	struct fixture *f = *state;
	int64_t a = reg(f->st, 2026, "S", "K1"), b = reg(f->st, 2026, "S", "K2");
	struct store_xout_new agree = { .msg_id = "K1|S|15", .kind = "status", .recipient = "S",
		.code = 15, .payload = "<15/>" };
	struct store_xout_new refuse = { .msg_id = "K1|S|16", .kind = "status", .recipient = "S",
		.code = 16, .payload = "<16/>" };
	struct store_assignee who[1] = { { .who = "STC", .name = "Phòng Tài chính", .role = XAS_LEAD,
		.due = "2026-03-20" } };
	struct store_assign_new as = { .incoming_id = b, .who = who, .n = 1, .opinion = "Xử lý",
		.uid = 5, .login = "ld-minh", .at = "2026-03-05T01:00:00.000Z" };
	char err[512], st[32], sql[128];
	int agreed = -1;

	assert_int_equal(store_incoming_assign(f->st, &as, err, sizeof(err)), STORE_OK);
	/* only registered: agreed, recalled, the 15 queued */
	assert_int_equal(store_incoming_recall(f->st, "S", "K1", &agree, &refuse, &agreed, err,
	    sizeof(err)), STORE_OK);
	assert_int_equal(agreed, 1);
	snprintf(sql, sizeof(sql), "SELECT state FROM incoming WHERE id = %lld", (long long)a);
	raw_text(f->db, sql, st, sizeof(st));
	assert_string_equal(st, "recalled");
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM outbox WHERE msg_id = 'K1|S|15' AND "
	    "incoming_id = 1"), 1);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM outbox WHERE msg_id = 'K1|S|16'"), 0);
	agreed = -1;
	assert_int_equal(store_incoming_recall(f->st, "S", "K1", &agree, &refuse, &agreed, err,
	    sizeof(err)), STORE_DONE);
	assert_int_equal(agreed, 1);
	/* the number stays taken */
	assert_int_equal(number_of(f->db, a), 1);
	/* assigned: refused, it stays */
	agree.msg_id = "K2|S|15";
	refuse.msg_id = "K2|S|16";
	assert_int_equal(store_incoming_recall(f->st, "S", "K2", &agree, &refuse, &agreed, err,
	    sizeof(err)), STORE_OK);
	assert_int_equal(agreed, 0);
	snprintf(sql, sizeof(sql), "SELECT state FROM incoming WHERE id = %lld", (long long)b);
	raw_text(f->db, sql, st, sizeof(st));
	assert_string_equal(st, "assigned");
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM outbox WHERE msg_id = 'K2|S|16' AND "
	    "incoming_id = 2"), 1);
	assert_int_equal(store_incoming_recall(f->st, "S", "K2", &agree, &refuse, &agreed, err,
	    sizeof(err)), STORE_DONE);
	assert_int_equal(agreed, 0);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM outbox WHERE code IN (15, 16)"), 2);
	assert_int_equal(store_incoming_recall(f->st, "S", "K3", &agree, &refuse, &agreed, err,
	    sizeof(err)), STORE_INVALID);
	/* a recalled entry takes no phiếu */
	as.incoming_id = a;
	assert_int_equal(store_incoming_assign(f->st, &as, err, sizeof(err)), STORE_INVALID);
	assert_int_equal(audit_count(f->db, "incoming.recall"), 2);
	audit_ok(f->st);
}

/* ---- the phiếu giải quyết, progress, extension, done ---- */

static void test_assign_progress_done(void **state)
{
	struct fixture *f = *state;
	int64_t e = reg(f->st, 2026, "S", "K1"), e2 = reg(f->st, 2026, "S", "K2");
	struct store_xout_new s04 = { .msg_id = "K1|S|04", .kind = "status", .recipient = "S",
		.code = 4, .payload = "<04/>" };
	struct store_assignee none[1] = { { .who = "VP", .name = "Văn phòng", .role = XAS_SUPPORT,
		.due = "2026-03-20" } };
	struct store_assignee two[2] = {
		{ .who = "STC", .name = "Phòng Tài chính", .role = XAS_LEAD, .due = "2026-03-20" },
		{ .who = "VP", .name = "Văn phòng", .role = XAS_LEAD, .due = "2026-03-20" } };
	struct store_assignee office[3] = {
		{ .who = "STC", .name = "Phòng Tài chính", .role = XAS_LEAD, .due = "2026-03-20" },
		{ .who = "VP", .name = "Văn phòng", .role = XAS_SUPPORT, .due = "2026-03-18" },
		{ .who = "TTr", .name = "Thanh tra", .role = XAS_INFO, .due = NULL } };
	struct store_assign_new as = { .incoming_id = e, .who = none, .n = 1,
		.opinion = "Giao Phòng Tài chính chủ trì", .uid = 5, .login = "ld-minh",
		.at = "2026-03-05T01:00:00.000Z", .status = &s04 };
	struct grab g = { .want = "id,parent,who,name,role,due,by,extended" };
	char err[512], text[256];

	assert_int_equal(store_incoming_assign(f->st, &as, err, sizeof(err)), STORE_INVALID);
	as.who = two;
	as.n = 2;
	assert_int_equal(store_incoming_assign(f->st, &as, err, sizeof(err)), STORE_INVALID);
	as.who = office;
	as.n = 3;
	as.incoming_id = 99;
	assert_int_equal(store_incoming_assign(f->st, &as, err, sizeof(err)), STORE_INVALID);
	as.incoming_id = e;
	/* progress before anyone is assigned is refused */
	assert_int_equal(store_incoming_progress(f->st, e, "Đang làm", 9, "cv-lan",
	    "2026-03-05T00:00:00.000Z", NULL, err, sizeof(err)), STORE_INVALID);
	assert_int_equal(store_incoming_assign(f->st, &as, err, sizeof(err)), STORE_OK);
	raw_text(f->db, "SELECT state FROM incoming WHERE id = 1", text, sizeof(text));
	assert_string_equal(text, "assigned");
	/* the office leader's phiếu is given once */
	assert_int_equal(store_incoming_assign(f->st, &as, err, sizeof(err)), STORE_INVALID);
	/* the unit head refines to a person: a tree */
	struct store_assignee person[1] = { { .who = "cv-lan", .name = "Trần Thị Lan",
		.role = XAS_LEAD, .due = "2026-03-15" } };
	struct store_xout_new s04b = s04;
	s04b.msg_id = "K1|S|04b";
	struct store_assign_new sub = { .incoming_id = e, .parent = 1, .who = person, .n = 1,
		.opinion = "Đồng chí Lan xử lý", .uid = 6, .login = "tp-hung",
		.at = "2026-03-05T02:00:00.000Z", .status = &s04b };
	assert_int_equal(store_incoming_assign(f->st, &sub, err, sizeof(err)), STORE_OK);
	sub.incoming_id = e2;    /* assignment 1 is not of e2 */
	assert_int_equal(store_incoming_assign(f->st, &sub, err, sizeof(err)), STORE_INVALID);
	assert_int_equal(store_incoming_assignments(f->st, e, grab_cb, &g, err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(g.out, "1,-,STC,Phòng Tài chính,lead,2026-03-20,ld-minh,0;"
	    "2,-,VP,Văn phòng,support,2026-03-18,ld-minh,0;3,-,TTr,Thanh tra,info,-,ld-minh,0;"
	    "4,1,cv-lan,Trần Thị Lan,lead,2026-03-15,tp-hung,0");
	/* the 04 the sender gets is the one given with the office's phiếu and the unit's */
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM outbox WHERE code = 4 AND "
	    "incoming_id = 1"), 2);
	/* an assignment changes only through an extension */
	assert_int_not_equal(raw_try(f->db, "UPDATE assignments SET who = 'x' WHERE id = 1"),
	    SQLITE_OK);
	assert_int_not_equal(raw_try(f->db, "DELETE FROM assignments WHERE id = 1"), SQLITE_OK);

	/* progress: the 05 on the first report only */
	struct store_xout_new s05 = { .msg_id = "K1|S|05", .kind = "status", .recipient = "S",
		.code = 5, .payload = "<05/>" };
	struct store_xout_new s05b = { .msg_id = "K1|S|05-2", .kind = "status", .recipient = "S",
		.code = 5, .payload = "<05/>" };
	assert_int_equal(store_incoming_progress(f->st, e, "Đã xin ý kiến các phòng", 9, "cv-lan",
	    "2026-03-06T01:00:00.000Z", &s05, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_incoming_progress(f->st, e, "Đã có dự thảo trả lời", 9, "cv-lan",
	    "2026-03-07T01:00:00.000Z", &s05b, err, sizeof(err)), STORE_OK);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM outbox WHERE code = 5"), 1);
	raw_text(f->db, "SELECT state FROM incoming WHERE id = 1", text, sizeof(text));
	assert_string_equal(text, "progress");
	struct grab p = { .want = "at,login,text" };
	assert_int_equal(store_incoming_progress_list(f->st, e, grab_cb, &p, err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(p.out, "2026-03-06T01:00:00.000Z,cv-lan,Đã xin ý kiến các phòng;"
	    "2026-03-07T01:00:00.000Z,cv-lan,Đã có dự thảo trả lời");
	/* assigning further keeps the state that is further on */
	struct store_assignee person2[1] = { { .who = "cv-nam", .name = "Lê Văn Nam",
		.role = XAS_SUPPORT, .due = "2026-03-15" } };
	sub.incoming_id = e;
	sub.who = person2;
	sub.status = NULL;
	assert_int_equal(store_incoming_assign(f->st, &sub, err, sizeof(err)), STORE_OK);
	raw_text(f->db, "SELECT state FROM incoming WHERE id = 1", text, sizeof(text));
	assert_string_equal(text, "progress");

	/* late: open and the chủ trì's due date before today */
	struct store_incoming_filter late = { .state = "late", .today = "2026-03-21", .limit = 10 };
	struct grab l = { .want = "id,number,deadline,state,lead" };
	assert_int_equal(store_incoming_list(f->st, &late, grab_cb, &l, err, sizeof(err)), STORE_OK);
	assert_string_equal(l.out, "1,1,2026-03-20,progress,Phòng Tài chính");
	late.today = "2026-03-20";
	l.out[0] = '\0';
	assert_int_equal(store_incoming_list(f->st, &late, grab_cb, &l, err, sizeof(err)), STORE_OK);
	assert_string_equal(l.out, "");
	late.today = NULL;
	assert_int_equal(store_incoming_list(f->st, &late, grab_cb, &l, err, sizeof(err)),
	    STORE_INVALID);

	/* an extension: later only, audited, the old date kept */
	assert_int_equal(store_incoming_extend(f->st, 1, "2026-03-19", "Chờ số liệu", 5, "ld-minh",
	    err, sizeof(err)), STORE_INVALID);
	assert_int_equal(store_incoming_extend(f->st, 1, "2026-03-31", "", 5, "ld-minh", err,
	    sizeof(err)), STORE_INVALID);
	assert_int_equal(store_incoming_extend(f->st, 99, "2026-03-31", "Chờ số liệu", 5, "ld-minh",
	    err, sizeof(err)), STORE_INVALID);
	assert_int_equal(store_incoming_extend(f->st, 1, "2026-03-31", "Chờ số liệu của Cục Thuế",
	    5, "ld-minh", err, sizeof(err)), STORE_OK);
	raw_text(f->db, "SELECT old_due || ' ' || new_due || ' ' || reason FROM extensions", text,
	    sizeof(text));
	assert_string_equal(text, "2026-03-20 2026-03-31 Chờ số liệu của Cục Thuế");
	assert_int_not_equal(raw_try(f->db, "UPDATE extensions SET old_due = '2026-03-30'"),
	    SQLITE_OK);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM audit WHERE action = "
	    "'incoming.extend' AND object = 'incoming/1' AND detail LIKE "
	    "'%\"old_due\":\"2026-03-20\"%' AND detail LIKE '%\"new_due\":\"2026-03-31\"%'"), 1);
	late.today = "2026-03-21";
	l.out[0] = '\0';
	assert_int_equal(store_incoming_list(f->st, &late, grab_cb, &l, err, sizeof(err)), STORE_OK);
	assert_string_equal(l.out, "");
	g.out[0] = '\0';
	assert_int_equal(store_incoming_assignments(f->st, e, grab_cb, &g, err, sizeof(err)),
	    STORE_OK);
	assert_non_null(strstr(g.out, "1,-,STC,Phòng Tài chính,lead,2026-03-31,ld-minh,1;"));

	/* filters: by assignee (at any level of the tree), by state */
	struct store_incoming_filter by = { .assignee = "cv-lan", .limit = 10 };
	l.out[0] = '\0';
	assert_int_equal(store_incoming_list(f->st, &by, grab_cb, &l, err, sizeof(err)), STORE_OK);
	assert_string_equal(l.out, "1,1,2026-03-31,progress,Phòng Tài chính");
	struct store_incoming_filter reg_only = { .state = "registered", .limit = 10 };
	l.out[0] = '\0';
	assert_int_equal(store_incoming_list(f->st, &reg_only, grab_cb, &l, err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(l.out, "2,2,-,registered,-");
	reg_only.state = "nonsense";
	assert_int_equal(store_incoming_list(f->st, &reg_only, grab_cb, &l, err, sizeof(err)),
	    STORE_INVALID);

	/* done with a reply: the draft is marked as the reply first, then the entry closed */
	int64_t doc = make_doc(f->st);
	assert_int_equal(store_doc_set_reply_to(f->st, doc, 99, err, sizeof(err)), STORE_INVALID);
	assert_int_equal(store_doc_set_reply_to(f->st, doc, e, err, sizeof(err)), STORE_OK);
	struct grab ab = { .want = "id,sender_id,doc_key,code,issued_on" };
	assert_int_equal(store_incoming_answered_by(f->st, doc, grab_cb, &ab, err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(ab.out, "1,S,K1,12/TB-STC,2026-03-02");
	struct store_xout_new s06 = { .msg_id = "K1|S|06", .kind = "status", .recipient = "S",
		.code = 6, .payload = "<06/>" };
	assert_int_equal(store_incoming_done(f->st, e, 99, NULL, 9, "cv-lan",
	    "2026-03-10T01:00:00.000Z", &s06, err, sizeof(err)), STORE_INVALID);
	assert_int_equal(store_incoming_done(f->st, e, doc, NULL, 9, "cv-lan",
	    "2026-03-10T01:00:00.000Z", &s06, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_incoming_done(f->st, e, doc, NULL, 9, "cv-lan",
	    "2026-03-11T01:00:00.000Z", &s06, err, sizeof(err)), STORE_DONE);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM outbox WHERE code = 6 AND "
	    "incoming_id = 1"), 1);
	/* the reply is issued: its symbol shows in the row */
	raw_exec(f->db, "UPDATE documents SET number = 7, symbol = '07/UBND-VP' WHERE id = 1");
	struct grab row = { .want = "id,state,done_at,reply_document,reply_symbol,recipient,"
	    "pages,business,verify" };
	assert_int_equal(store_incoming_row(f->st, e, grab_cb, &row, err, sizeof(err)), STORE_OK);
	assert_string_equal(row.out, "1,done,2026-03-10T01:00:00.000Z,1,07/UBND-VP,000.00.01.H56,"
	    "0,0,-");
	assert_int_equal(store_incoming_row(f->st, 99, grab_cb, &row, err, sizeof(err)),
	    STORE_INVALID);
	/* an issued document is not marked as a reply any more */
	assert_int_equal(store_doc_set_reply_to(f->st, doc, e2, err, sizeof(err)), STORE_INVALID);
	/* closed: no phiếu, no progress, no extension */
	sub.who = person;
	assert_int_equal(store_incoming_assign(f->st, &sub, err, sizeof(err)), STORE_INVALID);
	assert_int_equal(store_incoming_progress(f->st, e, "x", 9, "cv-lan",
	    "2026-03-12T01:00:00.000Z", NULL, err, sizeof(err)), STORE_INVALID);
	assert_int_equal(store_incoming_extend(f->st, 1, "2026-04-30", "x", 5, "ld-minh", err,
	    sizeof(err)), STORE_INVALID);
	/* closed without a reply needs a note */
	assert_int_equal(store_incoming_done(f->st, e2, 0, NULL, 5, "ld-minh",
	    "2026-03-12T01:00:00.000Z", NULL, err, sizeof(err)), STORE_INVALID);
	assert_int_equal(store_incoming_done(f->st, e2, 0, "Để biết, lưu hồ sơ", 5, "ld-minh",
	    "2026-03-12T01:00:00.000Z", NULL, err, sizeof(err)), STORE_OK);
	/* every step is in the audit trail, under the entry */
	assert_int_equal(audit_count(f->db, "incoming.assign"), 3);
	assert_int_equal(audit_count(f->db, "incoming.progress"), 2);
	assert_int_equal(audit_count(f->db, "incoming.done"), 2);
	assert_int_equal(audit_count(f->db, "incoming.extend"), 1);
	assert_int_equal(audit_count(f->db, "incoming.reply_to"), 1);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM audit WHERE object = 'incoming/1'"),
	    1 + 3 + 2 + 1 + 1);
	audit_ok(f->st);
}

/* The register (IV.VI) and the sổ theo dõi (IV.VIII). */
static void test_register_list_and_followup(void **state)
{
	struct fixture *f = *state;
	int64_t a = reg(f->st, 2026, "S", "K1"), b = reg(f->st, 2026, NULL, NULL);
	int64_t c = reg(f->st, 2026, "S", "K3"), d = reg(f->st, 2026, "S", "K4");
	reg(f->st, 2027, "S", "K5");
	struct store_assignee office[2] = {
		{ .who = "VP", .name = "Văn phòng", .role = XAS_SUPPORT, .due = "2026-03-18" },
		{ .who = "STC", .name = "Phòng Tài chính", .role = XAS_LEAD, .due = "2026-03-20" } };
	struct store_assign_new as = { .incoming_id = a, .who = office, .n = 2, .opinion = "Giao",
		.uid = 5, .login = "ld-minh", .at = "2026-03-05T01:00:00.000Z" };
	char err[512];

	assert_int_equal(store_incoming_assign(f->st, &as, err, sizeof(err)), STORE_OK);
	as.incoming_id = d;
	as.at = "2026-03-06T01:00:00.000Z";
	assert_int_equal(store_incoming_assign(f->st, &as, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_incoming_progress(f->st, a, "Đang tổng hợp", 9, "cv-lan",
	    "2026-03-07T01:00:00.000Z", NULL, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_incoming_done(f->st, d, 0, "Đã báo cáo miệng", 5, "ld-minh",
	    "2026-03-08T01:00:00.000Z", NULL, err, sizeof(err)), STORE_OK);
	(void)b;
	(void)c;
	struct grab g = { .want = "number,arrived_at,sender_name,code,issued_on,type_name,subject,"
	    "assigned_to,assigned_at,state" };
	assert_int_equal(store_incoming_register_list(f->st, 2026, grab_cb, &g, err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(g.out,
	    "1,2026-03-03T01:00:00.000Z,Sở Tài chính,12/TB-STC,2026-03-02,Thông báo,Về việc quyết "
	    "toán,Phòng Tài chính; Văn phòng,2026-03-05T01:00:00.000Z,progress;"
	    "2,2026-03-03T01:00:00.000Z,Công an tỉnh,12/TB-STC,2026-03-02,Thông báo,Về việc quyết "
	    "toán,-,-,registered;"
	    "3,2026-03-03T01:00:00.000Z,Sở Tài chính,12/TB-STC,2026-03-02,Thông báo,Về việc quyết "
	    "toán,-,-,registered;"
	    "4,2026-03-03T01:00:00.000Z,Sở Tài chính,12/TB-STC,2026-03-02,Thông báo,Về việc quyết "
	    "toán,Phòng Tài chính; Văn phòng,2026-03-06T01:00:00.000Z,done");
	/* every column the header lists is there, named */
	struct grab all = { .want = "id,year,number,arrived_at,via,sender_id,sender_name,doc_key,"
	    "code,issued_on,type_name,subject,priority,due_date,deadline,state,lead,done_at,"
	    "reply_document,reply_symbol,assigned_to,assigned_at" };
	assert_int_equal(store_incoming_register_list(f->st, 2026, grab_cb, &all, err, sizeof(err)),
	    STORE_OK);
	assert_null(strchr(all.out, '?'));
	/* the list: newest first, by year, paged with before */
	struct store_incoming_filter flt = { .year = 2026, .limit = 10 };
	struct grab l = { .want = "id" };
	assert_int_equal(store_incoming_list(f->st, &flt, grab_cb, &l, err, sizeof(err)), STORE_OK);
	assert_string_equal(l.out, "4;3;2;1");
	flt.before = 3;
	flt.limit = 1;
	l.out[0] = '\0';
	assert_int_equal(store_incoming_list(f->st, &flt, grab_cb, &l, err, sizeof(err)), STORE_OK);
	assert_string_equal(l.out, "2");
	struct store_incoming_filter open = { .state = "open", .limit = 10 };
	l.out[0] = '\0';
	assert_int_equal(store_incoming_list(f->st, &open, grab_cb, &l, err, sizeof(err)), STORE_OK);
	assert_string_equal(l.out, "5;3;2;1");
	/* the sổ theo dõi: open with a deadline, and what was done in the year */
	struct grab fu = { .want = "number,deadline,lead,state,progress,progress_at,done_at" };
	assert_int_equal(store_incoming_followup(f->st, 2026, grab_cb, &fu, err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(fu.out, "1,2026-03-20,Phòng Tài chính,progress,Đang tổng hợp,"
	    "2026-03-07T01:00:00.000Z,-;4,2026-03-20,Phòng Tài chính,done,-,-,"
	    "2026-03-08T01:00:00.000Z");
	fu.out[0] = '\0';
	assert_int_equal(store_incoming_followup(f->st, 2027, grab_cb, &fu, err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(fu.out, "1,2026-03-20,Phòng Tài chính,progress,Đang tổng hợp,"
	    "2026-03-07T01:00:00.000Z,-");
}

/* ---- schema 12 from the databases earlier vanthu made ---- */

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long len;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
	buf[len] = '\0';
	fclose(fp);
	return buf;
}

static void check_v12(struct fixture *f, int64_t doc)
{
	char err[512];
	int64_t id;

	assert_int_equal(raw_int(f->db, "PRAGMA user_version"), 12);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
	    "AND name IN ('outbox', 'deliveries', 'delivery_plans', 'delivery_status', 'incoming', "
	    "'assignments', 'progress', 'extensions', 'refused', 'exchange_start')"), 10);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
	    "AND name IN ('incoming_no_delete', 'incoming_fixed')"), 2);
	id = reg(f->st, 2026, "S", "K1");
	assert_int_equal(number_of(f->db, id), 1);
	assert_int_equal(store_doc_set_reply_to(f->st, doc, id, err, sizeof(err)), STORE_OK);
	audit_ok(f->st);
}

/* A schema-5 database of the earliest shipped kind goes all the way to 12, data kept. */
static void test_migrate_from_v5(void **state)
{
	struct fixture *f = *state;
	char err[512];
	char *sql = slurp("tests/fixtures/store/v5.sql");

	store_close(f->st);
	f->st = NULL;
	unlink(f->db);
	raw_exec(f->db, sql);
	free(sql);
	assert_int_equal(raw_int(f->db, "PRAGMA user_version"), 5);
	long long docs = raw_int(f->db, "SELECT count(*) FROM documents");
	assert_true(docs > 0);
	assert_int_equal(store_open(f->db, &f->st, err, sizeof(err)), STORE_OK);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM documents"), docs);
	/* a draft of the old database (not issued) may become a reply */
	long long draft = raw_int(f->db, "SELECT id FROM documents WHERE number IS NULL LIMIT 1");
	assert_true(draft > 0);
	check_v12(f, draft);
}

/*
 * A schema-11 database with documents in it (as vanthu before the exchange left it: this
 * one is made by taking schema 12's additions away again) migrates to 12.
 */
static void test_migrate_from_v11(void **state)
{
	struct fixture *f = *state;
	char err[512];
	int64_t doc = make_doc(f->st);

	store_close(f->st);
	f->st = NULL;
	raw_exec(f->db, "DROP TABLE refused; DROP TABLE progress; DROP TABLE extensions; "
	    "DROP TABLE assignments; DROP TABLE delivery_status; DROP TABLE deliveries; "
	    "DROP TABLE outbox; DROP TABLE delivery_plans; DROP TABLE exchange_start; "
	    "DROP TABLE doc_reports; "
	    "DROP INDEX documents_reply_to; "
	    "ALTER TABLE documents DROP COLUMN reply_to; DROP TABLE incoming; "
	    "PRAGMA user_version = 11;");
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_master WHERE name IN "
	    "('incoming', 'outbox')"), 0);
	assert_int_equal(store_open(f->db, &f->st, err, sizeof(err)), STORE_OK);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM documents WHERE reply_to IS NULL"), 1);
	check_v12(f, doc);
}

/* A batch: each change a savepoint; one commit keeps them, a rollback none; a refusal alone. */
static void test_batch(void **state)
{
	struct fixture *f = *state;
	char err[512], key[64];
	int64_t id = 0, number = 0;

	assert_int_equal(store_exchange_batch_begin(f->st, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_exchange_batch_begin(f->st, err, sizeof(err)), STORE_ERR);
	for (int i = 1; i <= 3; i++) {
		snprintf(key, sizeof(key), "000.00.14.H56,2026/03/02,%d/TB-STC", i);
		assert_int_equal(reg_rc(f->st, 2026, "000.00.14.H56", key, &id, &number), STORE_OK);
		assert_int_equal(number, i);
	}
	/* the same again inside the batch: one entry, and the batch goes on */
	assert_int_equal(reg_rc(f->st, 2026, "000.00.14.H56", "000.00.14.H56,2026/03/02,2/TB-STC",
	    &id, &number), STORE_DONE);
	assert_int_equal(number, 2);
	assert_int_equal(store_exchange_batch_end(f->st, 1, err, sizeof(err)), STORE_OK);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM incoming"), 3);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM outbox"), 6);
	/* rolled back: nothing of it stays, and the next number is 4 again */
	assert_int_equal(store_exchange_batch_begin(f->st, err, sizeof(err)), STORE_OK);
	assert_int_equal(reg_rc(f->st, 2026, "000.00.14.H56", "000.00.14.H56,2026/03/02,9/TB-STC",
	    &id, &number), STORE_OK);
	assert_int_equal(store_exchange_batch_end(f->st, 0, err, sizeof(err)), STORE_OK);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM incoming"), 3);
	assert_int_equal(store_exchange_batch_end(f->st, 1, err, sizeof(err)), STORE_ERR);
	assert_int_equal(reg_rc(f->st, 2026, "000.00.14.H56", "000.00.14.H56,2026/03/02,9/TB-STC",
	    &id, &number), STORE_OK);
	assert_int_equal(number, 4);
	int64_t bad = 1, checked = 0;
	assert_int_equal(store_audit_verify(f->st, &bad, &checked, err, sizeof(err)), STORE_OK);
	assert_int_equal(bad, 0);
}

/* An arrival found by its sender and DocumentId, with the id of ours it was addressed to. */
static void test_incoming_find(void **state)
{
	struct fixture *f = *state;
	char err[512], to[64];
	int64_t id = 0, number = 0, found = 0;

	assert_int_equal(reg_rc(f->st, 2026, "000.00.14.H56", "000.00.14.H56,2026/03/02,12/TB-STC",
	    &id, &number), STORE_OK);
	assert_int_equal(store_incoming_find(f->st, "000.00.14.H56",
	    "000.00.14.H56,2026/03/02,12/TB-STC", &found, to, sizeof(to), err, sizeof(err)), STORE_OK);
	assert_int_equal(found, id);
	assert_string_equal(to, "000.00.01.H56");
	assert_int_equal(store_incoming_find(f->st, "000.00.99.H56",
	    "000.00.14.H56,2026/03/02,12/TB-STC", &found, to, sizeof(to), err, sizeof(err)),
	    STORE_INVALID);
	assert_int_equal(store_incoming_find(f->st, NULL, NULL, &found, to, sizeof(to), err,
	    sizeof(err)), STORE_INVALID);
}

/* A unit's report carried by a document: set, replaced, read back; refused once issued. */
static void test_doc_report(void **state)
{
	struct fixture *f = *state;
	char err[512], *name = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	int64_t doc = make_doc(f->st);
	static const char xml[] = "<bao-cao>\0binary</bao-cao>";

	assert_int_equal(store_doc_report(f->st, doc, &name, &data, &len, err, sizeof(err)),
	    STORE_INVALID);
	assert_int_equal(store_doc_set_report(f->st, doc, "cu.xml", "<old/>", 6, 100, "vtt-ana", err,
	    sizeof(err)), STORE_OK);
	assert_int_equal(store_doc_set_report(f->st, doc, "bao-cao.xml", xml, sizeof(xml) - 1, 100,
	    "vtt-ana", err, sizeof(err)), STORE_OK);
	assert_int_equal(store_doc_report(f->st, doc, &name, &data, &len, err, sizeof(err)), STORE_OK);
	assert_string_equal(name, "bao-cao.xml");
	assert_int_equal(len, sizeof(xml) - 1);
	assert_memory_equal(data, xml, len);
	free(name);
	free(data);
	assert_int_equal(store_doc_set_report(f->st, 999999, "x.xml", "<x/>", 4, 100, "vtt-ana", err,
	    sizeof(err)), STORE_INVALID);
	/* once numbered, the document's attachments are what was issued */
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM doc_reports"), 1);
	raw_exec(f->db, "UPDATE documents SET number = 7 WHERE id = (SELECT max(id) FROM documents)");
	assert_int_equal(store_doc_set_report(f->st, doc, "moi.xml", "<new/>", 6, 100, "vtt-ana", err,
	    sizeof(err)), STORE_INVALID);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM audit WHERE action = 'document.report'"),
	    2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_numbering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_counts_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_doc_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incoming_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliveries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unplanned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incoming_recall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assign_progress_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_list_and_followup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_v5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_v11, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
