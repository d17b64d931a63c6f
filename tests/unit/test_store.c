/* test_store.c: unit tests of store.c (open, migrations, refusals, audit chain, backup). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

struct fixture {
	char dir[64];
	char db[PATH_MAX];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/vanthu-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/vanthu.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Runs SQL on a file with SQLite directly, as another program would. */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("raw_exec: %s", msg);
	sqlite3_close(db);
}

static long long raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	*len = (size_t)ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc(*len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, *len, fp), *len);
	fclose(fp);
	return buf;
}

static void test_create_and_migrate(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	struct store_stats stats;
	char err[512];

	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_stats(st, &stats, err, sizeof(err)), STORE_OK);
	assert_int_equal(stats.schema_version, STORE_SCHEMA_VERSION);
	assert_int_equal(stats.audit_entries, 0);
	assert_true(stats.file_bytes > 0);
	store_close(st);
	assert_int_equal(raw_int(f->db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int(f->db, "PRAGMA application_id"), 0x564e5448);
	/* journal_mode is persistent for WAL */
	sqlite3 *db;
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void test_empty_file_is_new_database(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	char err[512];
	FILE *fp = fopen(f->db, "w");

	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_OK);
	store_close(st);
	assert_int_equal(raw_int(f->db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
}

static void test_reopen_keeps_data(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	struct store_stats stats;
	char err[512];

	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_audit_append(st, 1000, "hoa", "test", "obj", "Chi tiết",
	    err, sizeof(err)), STORE_OK);
	store_close(st);
	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_stats(st, &stats, err, sizeof(err)), STORE_OK);
	assert_int_equal(stats.audit_entries, 1);
	store_close(st);
}

static void test_foreign_text_file_untouched(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	char err[512];
	size_t before_len, after_len;
	const char *content = "Đây là một tệp văn bản, không phải cơ sở dữ liệu.\n";
	FILE *fp = fopen(f->db, "w");
	struct stat a, b;

	assert_non_null(fp);
	fputs(content, fp);
	fclose(fp);
	assert_int_equal(stat(f->db, &a), 0);
	char *before = slurp(f->db, &before_len);
	err[0] = '\0';
	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_FOREIGN);
	assert_null(st);
	assert_non_null(strstr(err, "not an SQLite database"));
	assert_int_equal(store_probe(f->db, err, sizeof(err)), STORE_FOREIGN);
	char *after = slurp(f->db, &after_len);
	assert_int_equal(before_len, after_len);
	assert_memory_equal(before, after, before_len);
	assert_int_equal(stat(f->db, &b), 0);
	assert_int_equal(a.st_mtime, b.st_mtime);
	char wal[PATH_MAX + 8];
	snprintf(wal, sizeof(wal), "%s-wal", f->db);
	assert_int_not_equal(access(wal, F_OK), 0);
	free(before);
	free(after);
}

static void test_foreign_sqlite_untouched(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	char err[512];

	raw_exec(f->db, "CREATE TABLE contacts(name TEXT); INSERT INTO contacts VALUES ('x');");
	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_FOREIGN);
	assert_non_null(strstr(err, "another program"));
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_master WHERE name='audit'"), 0);
	assert_int_equal(raw_int(f->db, "PRAGMA user_version"), 0);
}

static void test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	char err[512];

	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_OK);
	store_close(st);
	raw_exec(f->db, "PRAGMA user_version = 99");
	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_NEWER);
	assert_non_null(strstr(err, "newer"));
	assert_int_equal(raw_int(f->db, "PRAGMA user_version"), 99);
}

static void test_corrupt_refused(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	char err[512];
	FILE *fp;

	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_OK);
	for (int i = 0; i < 300; i++)
		assert_int_equal(store_audit_append(st, 1, "a", "fill",
		    "obj-obj-obj-obj-obj-obj-obj-obj", "detail detail detail detail detail",
		    err, sizeof(err)), STORE_OK);
	store_close(st);  /* checkpoints the WAL into the main file */
	/* Overwrite the middle of page 3 onwards with garbage; the header stays valid. */
	fp = fopen(f->db, "r+b");
	assert_non_null(fp);
	fseek(fp, 4096 * 2 + 100, SEEK_SET);
	for (int i = 0; i < 8000; i++)
		fputc(0xA5, fp);
	fclose(fp);
	err[0] = '\0';
	int rc = store_open(f->db, &st, err, sizeof(err));
	assert_int_not_equal(rc, STORE_OK);
	assert_null(st);
	assert_true(strlen(err) > 0);
}

static int count_cb(const struct store_audit_entry *e, void *arg)
{
	int64_t *ids = arg;
	ids[++ids[0]] = e->id;
	return 0;
}

static void test_audit_chain(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	char err[512];
	int64_t bad = -1, checked = 0, ids[16] = { 0 };

	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_audit_verify(st, &bad, &checked, err, sizeof(err)), STORE_OK);
	assert_int_equal(bad, 0);
	assert_int_equal(checked, 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(store_audit_append(st, i, "thu", "act", "", "chi tiết\nhai dòng",
		    err, sizeof(err)), STORE_OK);
	assert_int_equal(store_audit_verify(st, &bad, &checked, err, sizeof(err)), STORE_OK);
	assert_int_equal(bad, 0);
	assert_int_equal(checked, 5);
	assert_int_equal(store_audit_list(st, 0, 3, count_cb, ids, err, sizeof(err)), STORE_OK);
	assert_int_equal(ids[0], 3);
	assert_int_equal(ids[1], 5);
	assert_int_equal(ids[3], 3);
	ids[0] = 0;
	assert_int_equal(store_audit_list(st, 3, 10, count_cb, ids, err, sizeof(err)), STORE_OK);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[1], 2);
	store_close(st);

	/* The triggers refuse UPDATE and DELETE even to another program. */
	sqlite3 *db;
	char *msg = NULL;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE audit SET detail='x' WHERE id=2", NULL, NULL,
	    &msg), SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit WHERE id=2", NULL, NULL, NULL),
	    SQLITE_OK);
	/* Someone who drops the trigger and edits entry 3 is caught by verify. */
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER audit_no_update;"
	    "UPDATE audit SET detail='sửa lén' WHERE id=3", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_audit_verify(st, &bad, &checked, err, sizeof(err)), STORE_OK);
	assert_int_equal(bad, 3);
	store_close(st);
}

static void test_backup(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL, *copy = NULL;
	struct store_stats stats;
	char err[512], dest[PATH_MAX + 16];
	int64_t bytes = 0, bad = -1, checked = 0;
	struct timespec now, past;

	clock_gettime(CLOCK_REALTIME, &now);
	past = now;
	past.tv_sec -= 60;
	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_OK);
	for (int i = 0; i < 10; i++)
		assert_int_equal(store_audit_append(st, i, "a", "b", "", "", err, sizeof(err)), STORE_OK);
	snprintf(dest, sizeof(dest), "%s/backup.db", f->dir);
	/* While the store is open with its WAL: the copy is consistent. */
	assert_int_equal(store_backup(f->db, dest, &now, &bytes, err, sizeof(err)), STORE_OK);
	assert_true(bytes > 0);
	char tmp[PATH_MAX + 32];
	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", dest, (long)getpid());
	assert_int_not_equal(access(tmp, F_OK), 0);
	assert_int_equal(store_open(dest, &copy, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_stats(copy, &stats, err, sizeof(err)), STORE_OK);
	assert_int_equal(stats.audit_entries, 10);
	assert_int_equal(store_audit_verify(copy, &bad, &checked, err, sizeof(err)), STORE_OK);
	assert_int_equal(bad, 0);
	store_close(copy);
	/* A second backup over the first replaces it, and removes what a cut one left: its
	 * ".backup.db.XXXXXX" and journal older than the daemon, nothing else. */
	char left[PATH_MAX + 64], journal[PATH_MAX + 80], fresh[PATH_MAX + 64], other[PATH_MAX + 64];
	snprintf(left, sizeof(left), "%s/.backup.db.AbC123", f->dir);
	snprintf(journal, sizeof(journal), "%s-journal", left);
	snprintf(fresh, sizeof(fresh), "%s/.backup.db.New456", f->dir);
	snprintf(other, sizeof(other), "%s/.backup.db.toolong7", f->dir);
	const char *made[] = { left, journal, fresh, other };
	for (size_t i = 0; i < 4; i++) {
		FILE *fp = fopen(made[i], "w");
		assert_non_null(fp);
		fclose(fp);
		if (made[i] != fresh) {
			struct timespec old[2] = { { .tv_sec = time(NULL) - 3600 },
				{ .tv_sec = time(NULL) - 3600 } };
			assert_int_equal(utimensat(AT_FDCWD, made[i], old, 0), 0);
		}
	}
	assert_int_equal(store_backup(f->db, dest, &past, &bytes, err, sizeof(err)),
	    STORE_OK);
	assert_int_not_equal(access(left, F_OK), 0);
	assert_int_not_equal(access(journal, F_OK), 0);
	assert_int_equal(access(fresh, F_OK), 0);   /* newer than the daemon: maybe in use */
	assert_int_equal(access(other, F_OK), 0);   /* not the shape of our names */
	/* killed and started again within the second: the leftover is older, to the nanosecond */
	{
		struct timespec since;
		FILE *fp = fopen(left, "w");
		assert_non_null(fp);
		fclose(fp);
		usleep(20000);  /* a file time is the coarse clock's: past its tick */
		clock_gettime(CLOCK_REALTIME_COARSE, &since);
		unlink(fresh);
		fp = fopen(fresh, "w");
		assert_non_null(fp);
		fclose(fp);
		assert_int_equal(store_backup(f->db, dest, &since, &bytes, err, sizeof(err)), STORE_OK);
		assert_int_not_equal(access(left, F_OK), 0);
		assert_int_equal(access(fresh, F_OK), 0);
	}
	/* Refusals: relative path, the live database, its WAL, a folder. */
	assert_int_equal(store_backup(f->db, "backup.db", &now, &bytes, err, sizeof(err)),
	    STORE_INVALID);
	assert_int_equal(store_backup(f->db, f->db, &now, &bytes, err, sizeof(err)),
	    STORE_INVALID);
	snprintf(dest, sizeof(dest), "%s-wal", f->db);
	assert_int_equal(store_backup(f->db, dest, &now, &bytes, err, sizeof(err)),
	    STORE_INVALID);
	assert_int_equal(store_backup(f->db, f->dir, &now, &bytes, err, sizeof(err)),
	    STORE_INVALID);
	/* A folder that does not exist: an error, nothing left behind. */
	snprintf(dest, sizeof(dest), "%s/none/backup.db", f->dir);
	assert_int_equal(store_backup(f->db, dest, &now, &bytes, err, sizeof(err)),
	    STORE_ERR);
	assert_true(strlen(err) > 0);
	store_close(st);
}

static int collect_ids(const struct store_col *cols, int n, void *arg)
{
	char *out = arg;
	char one[24];

	for (int i = 0; i < n; i++)
		if (strcmp(cols[i].name, "id") == 0) {
			snprintf(one, sizeof(one), "%s%lld", *out ? "," : "", (long long)cols[i].i);
			strcat(out, one);
		}
	return 0;
}

static void list_ids(struct store *st, const char *state, const char *kind, int64_t drafter,
    int64_t before, int limit, char *out)
{
	struct store_doc_filter flt = { .state = state, .kind = kind, .drafter_uid = drafter,
	    .before = before, .limit = limit };
	char err[256];

	out[0] = '\0';
	assert_int_equal(store_doc_list(st, &flt, collect_ids, out, err, sizeof(err)), STORE_OK);
}

/* Each filter alone and together, paging with before, and the counts of status. */
static void test_doc_list_filters(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	struct store_stats stats;
	char err[512], ids[256];
	int64_t id;
	static const char *const kinds[] = { "thong-bao", "cong-van" };
	static const char *const states[] = { "draft", "review", "draft" };

	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_OK);
	/* ids 1..6: kind alternates, state cycles draft/review/draft, drafter 100 or 200 */
	for (int i = 1; i <= 6; i++) {
		struct store_doc_new d = { .kind = kinds[i % 2], .state = states[i % 3],
		    .summary = "Trích yếu", .signer_name = "Đặng Minh Thông", .recipients = "[]",
		    .archive = "VT", .uid = i <= 3 ? 100 : 200, .login = "vtt-ana",
		    .content = "<x/>", .content_len = 4, .sha256 = "00" };
		assert_int_equal(store_doc_create(st, &d, &id, err, sizeof(err)), STORE_OK);
		assert_int_equal(id, i);
	}
	list_ids(st, NULL, NULL, -1, 0, 50, ids);
	assert_string_equal(ids, "6,5,4,3,2,1");
	list_ids(st, NULL, NULL, -1, 4, 2, ids);
	assert_string_equal(ids, "3,2");
	list_ids(st, "review", NULL, -1, 0, 50, ids);
	assert_string_equal(ids, "4,1");
	list_ids(st, NULL, "thong-bao", -1, 0, 50, ids);
	assert_string_equal(ids, "6,4,2");
	list_ids(st, NULL, NULL, 100, 0, 50, ids);
	assert_string_equal(ids, "3,2,1");
	list_ids(st, "draft", "cong-van", 200, 0, 50, ids);
	assert_string_equal(ids, "5");
	list_ids(st, "draft", NULL, -1, 5, 1, ids);
	assert_string_equal(ids, "3");
	list_ids(st, "signed", NULL, -1, 0, 50, ids);
	assert_string_equal(ids, "");
	/* status reads counts from the ends of the tables: six documents, six creations */
	assert_int_equal(store_stats(st, &stats, err, sizeof(err)), STORE_OK);
	assert_int_equal(stats.documents, 6);
	assert_int_equal(stats.audit_entries, 6);
	assert_int_equal(stats.reports, 0);
	assert_int_equal(stats.inputs, 0);
	store_close(st);
	/* the history and the lists are read through indexes, not by scanning */
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
	    "AND name IN ('audit_object', 'documents_state', 'documents_kind', 'documents_drafter')"),
	    4);
}

/* Moves document id (state "signed") to "issued" with the next number of its series (the
 * year's, or with term the type's within it); its symbol. */
static void issue_in(struct store *st, int64_t id, const char *body, const char *term,
    const char *type, int party, int year, char *symbol, size_t len)
{
	const struct symbol_of n = { .party = party, .type = type, .body = body };
	struct store_transition t = { .id = id, .from = "signed", .to = "issued", .action = "issue",
		.uid = 300, .login = "vtt-dung", .numbering = &n, .term = term, .year = year,
		.kind_label = "Kế hoạch", .issued_on = "2026-05-04" };
	char err[512];

	assert_int_equal(store_doc_transition(st, &t, err, sizeof(err)), STORE_OK);
	snprintf(symbol, len, "%s", t.symbol);
}

static int collect_symbols(const struct store_col *cols, int n, void *arg)
{
	char *out = arg;

	for (int i = 0; i < n; i++)
		if (strcmp(cols[i].name, "symbol") == 0)
			snprintf(out + strlen(out), 512 - strlen(out), "%s%s", *out ? " " : "", cols[i].s);
	return 0;
}

/* A state body numbers per year, a Party committee per type within its term. */
static void test_register_series(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	char err[512], sym[96], list[512];
	int64_t id;

	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_OK);
	for (int i = 1; i <= 7; i++) {
		struct store_doc_new d = { .kind = "ke-hoach", .state = "signed", .summary = "Trích yếu",
		    .signer_name = "Nguyễn Chiến Thắng", .recipients = "", .archive = "Văn phòng",
		    .issuer = i == 1 ? NULL : "TU", .uid = 100, .login = "vtt-ana", .content = "<x/>",
		    .content_len = 4, .sha256 = "00" };
		assert_int_equal(store_doc_create(st, &d, &id, err, sizeof(err)), STORE_OK);
	}
	issue_in(st, 1, "UBND", NULL, "KH", 0, 2026, sym, sizeof(sym));
	assert_string_equal(sym, "01/KH-UBND");
	issue_in(st, 2, "TU", "2025-2030", "KH", 1, 2026, sym, sizeof(sym));
	assert_string_equal(sym, "01-KH/TU");
	issue_in(st, 3, "TU", "2025-2030", "TB", 1, 2026, sym, sizeof(sym));
	assert_string_equal(sym, "01-TB/TU");
	issue_in(st, 4, "TU", "2025-2030", "KH", 1, 2027, sym, sizeof(sym));
	assert_string_equal(sym, "02-KH/TU");  /* the term runs on across the new year */
	issue_in(st, 5, "TU", "2030-2035", "KH", 1, 2030, sym, sizeof(sym));
	assert_string_equal(sym, "01-KH/TU");  /* a new term starts again */
	issue_in(st, 6, "TU", "2025-2030", "CV", 1, 2027, sym, sizeof(sym));
	assert_string_equal(sym, "01-CV/TU");
	/* the term's register, type by type */
	struct store_register_query q = { .body = "TU", .term = "2025-2030" };
	list[0] = '\0';
	assert_int_equal(store_register_list(st, &q, collect_symbols, list, err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(list, "01-CV/TU 01-KH/TU 02-KH/TU 01-TB/TU");
	q.type = "KH";
	list[0] = '\0';
	assert_int_equal(store_register_list(st, &q, collect_symbols, list, err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(list, "01-KH/TU 02-KH/TU");
	struct store_register_query y = { .body = "UBND", .series = "2026" };
	list[0] = '\0';
	assert_int_equal(store_register_list(st, &y, collect_symbols, list, err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(list, "01/KH-UBND");
	/* a voided number stays taken in its own series only */
	assert_int_equal(store_register_void(st, "TU", "2025-2030/KH", 2, "nhầm", 300, "vtt-dung",
	    err, sizeof(err)), STORE_OK);
	assert_int_equal(store_register_void(st, "TU", "2025-2030/KH", 2, "lần nữa", 300, "vtt-dung",
	    err, sizeof(err)), STORE_DONE);
	assert_int_equal(store_register_void(st, "TU", "2025-2030/TB", 2, "không có", 300,
	    "vtt-dung", err, sizeof(err)), STORE_INVALID);
	issue_in(st, 7, "TU", "2025-2030", "KH", 1, 2027, sym, sizeof(sym));
	assert_string_equal(sym, "03-KH/TU");
	store_close(st);
	/* the entries are as fixed as before: no change of series, term or type, no delete */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE register SET series = '2025-2030/TB' WHERE "
	    "symbol = '02-KH/TU'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE register SET type = 'TB' WHERE number = 1",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM register WHERE term = '2030-2035'", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM register"), 7);
}

/* A series continued from a paper register: set once, before its first issue, then gapless. */
static void test_register_start(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	char err[512], sym[96];
	int64_t id, next, start;

	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_OK);
	for (int i = 1; i <= 4; i++) {
		struct store_doc_new d = { .kind = "ke-hoach", .state = "signed", .summary = "Trích yếu",
		    .signer_name = "Nguyễn Chiến Thắng", .recipients = "", .archive = "Văn phòng",
		    .issuer = i <= 2 ? NULL : "TU", .uid = 100, .login = "vtt-ana", .content = "<x/>",
		    .content_len = 4, .sha256 = "00" };
		assert_int_equal(store_doc_create(st, &d, &id, err, sizeof(err)), STORE_OK);
	}
	assert_int_equal(store_register_next(st, "UBND", "2026", &next, &start, err, sizeof(err)),
	    STORE_OK);
	assert_int_equal(next, 1);
	assert_int_equal(start, 0);
	assert_int_equal(store_register_start(st, "UBND", "2026", 3552, "sổ giấy đến 3551", 400,
	    "vtt-lan", err, sizeof(err)), STORE_OK);
	/* once */
	assert_int_equal(store_register_start(st, "UBND", "2026", 4000, "lần nữa", 400, "vtt-lan",
	    err, sizeof(err)), STORE_INVALID);
	assert_string_equal(err, "set:3552");
	assert_int_equal(store_register_next(st, "UBND", "2026", &next, &start, err, sizeof(err)),
	    STORE_OK);
	assert_int_equal(next, 3552);
	assert_int_equal(start, 3552);
	issue_in(st, 1, "UBND", NULL, "KH", 0, 2026, sym, sizeof(sym));
	assert_string_equal(sym, "3552/KH-UBND");
	issue_in(st, 2, "UBND", NULL, "KH", 0, 2026, sym, sizeof(sym));
	assert_string_equal(sym, "3553/KH-UBND");
	/* a Party series with issues already cannot be moved; another year's series is its own */
	issue_in(st, 3, "TU", "2025-2030", "KH", 1, 2026, sym, sizeof(sym));
	assert_string_equal(sym, "01-KH/TU");
	assert_int_equal(store_register_start(st, "TU", "2025-2030/KH", 10, "lùi", 400, "vtt-lan",
	    err, sizeof(err)), STORE_INVALID);
	assert_string_equal(err, "issued:1");
	assert_int_equal(store_register_start(st, "TU", "2025-2030/TB", 12, "sổ giấy", 400,
	    "vtt-lan", err, sizeof(err)), STORE_OK);
	issue_in(st, 4, "TU", "2025-2030", "TB", 1, 2026, sym, sizeof(sym));
	assert_string_equal(sym, "12-TB/TU");
	store_close(st);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM audit WHERE action = 'register.start'"),
	    2);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE register_start SET next = 1", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM register_start", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "INSERT INTO register_start VALUES ('UBND', '2027', "
	    "0, 'x', 'x', 'x')", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A draft from a source that made a live draft already is that draft; withdrawn, not. */
static void test_doc_origin(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	char err[512];
	int64_t a, b, c;
	struct store_doc_new d = { .kind = "thong-bao", .state = "draft", .summary = "Kết luận",
	    .signer_name = "Nguyễn Văn Hòa", .recipients = "", .archive = "VT", .uid = 100,
	    .login = "vtt-ana", .content = "<x/>", .content_len = 4, .sha256 = "00",
	    .origin = "meeting:CDS-2024-Q1:2024-04-05" };

	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_doc_create(st, &d, &a, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_doc_create(st, &d, &b, err, sizeof(err)), STORE_INVALID);
	assert_int_equal(b, a);
	struct store_transition t = { .id = a, .from = "draft", .to = "withdrawn",
	    .action = "withdraw", .comment = "soạn lại", .uid = 100, .login = "vtt-ana" };
	assert_int_equal(store_doc_transition(st, &t, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_doc_create(st, &d, &c, err, sizeof(err)), STORE_OK);
	assert_true(c != a);
	store_close(st);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM documents"), 2);
}

/* A schema-5 database (the last before Party registers) migrates with nothing lost. */
static void test_migrate_v5(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	struct store_stats stats;
	char err[512], sym[96], list[512] = "";
	size_t len;
	char *sql = slurp("tests/fixtures/store/v5.sql", &len);
	sqlite3 *db;
	int64_t bad = -1, checked = 0;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(sql);
	assert_int_equal(raw_int(f->db, "PRAGMA user_version"), 5);
	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_stats(st, &stats, err, sizeof(err)), STORE_OK);
	assert_int_equal(stats.schema_version, STORE_SCHEMA_VERSION);
	/* every entry kept, in its year's series, the voided one with its reason */
	struct store_register_query q = { .body = "UBND", .series = "2026" };
	assert_int_equal(store_register_list(st, &q, collect_symbols, list, err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(list, "01/TB-UBND 02/TB-UBND 03/TB-UBND");
	assert_int_equal(store_audit_verify(st, &bad, &checked, err, sizeof(err)), STORE_OK);
	assert_true(checked > 0);
	/* the old draft numbers on after them, never over the voided 02 */
	raw_exec(f->db, "UPDATE documents SET state = 'signed' WHERE id = 4");
	issue_in(st, 4, "UBND", NULL, "TB", 0, 2026, sym, sizeof(sym));
	assert_string_equal(sym, "04/TB-UBND");
	store_close(st);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM register WHERE voided_at IS NOT NULL "
	    "AND void_reason = 'Ban hành nhầm' AND series = '2026' AND year = 2026 AND number = 2"), 1);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
	    "AND name IN ('register_no_delete', 'register_void_only')"), 2);
}

/* Signing: pending until the leader's signature, recorded with its step; the sealed PDF. */
static int count_roles(const struct store_col *cols, int n, void *arg)
{
	char *out = arg;

	for (int i = 0; i < n; i++)
		if (strcmp(cols[i].name, "role") == 0)
			snprintf(out + strlen(out), 128 - strlen(out), "%s%s", *out ? "," : "", cols[i].s);
	return 0;
}

static void test_signing_records(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	struct store_doc doc;
	struct store_sign_pending p = { .document_id = 0 }, got;
	unsigned char cert[3] = { 0x30, 0x01, 0x00 };
	char err[512], roles[128] = "";
	int64_t id, ids[8];
	size_t n;
	struct store_doc_new d = { .kind = "thong-bao", .state = "signing", .summary = "Kết luận",
	    .signer_name = "Nguyễn Văn Thông", .recipients = "", .archive = "VT", .uid = 100,
	    .login = "vtt-ana", .content = "<x/>", .content_len = 4, .sha256 = "00" };

	assert_int_equal(store_open(f->db, &st, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_doc_create(st, &d, &id, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_sign_pending_get(st, id, &got, err, sizeof(err)), STORE_INVALID);
	p.document_id = id;
	snprintf(p.login, sizeof(p.login), "vtt-chi");
	p.revision = 1;
	p.cert = cert;
	p.certlen = sizeof(cert);
	snprintf(p.content_sha256, sizeof(p.content_sha256), "%064d", 1);
	snprintf(p.prepared_path, sizeof(p.prepared_path), "/spool/signing/%lld.prepared.pdf",
	    (long long)id);
	snprintf(p.prepared_sha256, sizeof(p.prepared_sha256), "%064d", 2);
	p.range[0] = 0;
	p.range[1] = 1000;
	p.range[2] = 33770;
	p.range[3] = 512;
	snprintf(p.signed_at, sizeof(p.signed_at), "2026-12-04T10:00:00+07:00");
	assert_int_equal(store_sign_pending_put(st, &p, err, sizeof(err)), STORE_OK);
	/* a second preparation replaces the first */
	p.range[3] = 600;
	assert_int_equal(store_sign_pending_put(st, &p, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_sign_pending_get(st, id, &got, err, sizeof(err)), STORE_OK);
	assert_string_equal(got.login, "vtt-chi");
	assert_int_equal(got.certlen, 3);
	assert_memory_equal(got.cert, cert, 3);
	assert_int_equal(got.range[2], 33770);
	assert_int_equal(got.range[3], 600);
	assert_string_equal(got.signed_at, "2026-12-04T10:00:00+07:00");
	store_sign_pending_free(&got);
	/* the sign step records the leader's PDF in its transaction and ends the pending one */
	const struct store_signed_pdf leader = { .role = "leader", .path = "/spool/signing/1-r1.pdf",
	    .sha256 = "aa", .fingerprint = "ff", .subject = "Nguyễn Văn Thông",
	    .signed_at = "2026-12-04T10:00:00+07:00" };
	struct store_transition t = { .id = id, .from = "signing", .to = "signed", .action = "sign",
	    .uid = 200, .login = "vtt-chi", .signed_pdf = &leader };
	assert_int_equal(store_doc_transition(st, &t, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_sign_pending_get(st, id, &got, err, sizeof(err)), STORE_INVALID);
	assert_int_equal(store_doc_get(st, id, &doc, err, sizeof(err)), STORE_OK);
	assert_string_equal(doc.signed_pdf_path, "/spool/signing/1-r1.pdf");
	assert_string_equal(doc.signed_pdf_sha256, "aa");
	assert_int_equal(doc.signed_revision, 1);
	assert_null(doc.pdf_path);
	store_doc_free(&doc);
	/* numbered: waiting for its DOCX and its sealed PDF; then the DOCX alone is not enough */
	char symbol[96];
	issue_in(st, id, "UBND", NULL, "TB", 0, 2026, symbol, sizeof(symbol));
	assert_int_equal(store_docs_unpublished(st, ids, 8, &n, err, sizeof(err)), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_doc_set_output(st, id, "/out/01-TB-UBND.docx", "bb", 300, "vtt-dung",
	    err, sizeof(err)), STORE_OK);
	assert_int_equal(store_docs_unpublished(st, ids, 8, &n, err, sizeof(err)), STORE_OK);
	assert_int_equal(n, 1);
	const struct store_signed_pdf org = { .role = "organisation", .path = "/out/01-TB-UBND.pdf",
	    .sha256 = "cc", .fingerprint = "ee", .subject = "Ủy ban nhân dân",
	    .signed_at = "2026-12-04T11:00:00+07:00" };
	assert_int_equal(store_doc_set_pdf(st, id, &org, 300, "vtt-dung", err, sizeof(err)),
	    STORE_OK);
	assert_int_equal(store_docs_unpublished(st, ids, 8, &n, err, sizeof(err)), STORE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_doc_get(st, id, &doc, err, sizeof(err)), STORE_OK);
	assert_string_equal(doc.pdf_path, "/out/01-TB-UBND.pdf");
	assert_string_equal(doc.pdf_sha256, "cc");
	store_doc_free(&doc);
	assert_int_equal(store_doc_signatures(st, id, count_roles, roles, err, sizeof(err)),
	    STORE_OK);
	assert_string_equal(roles, "leader,organisation");
	store_close(st);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM audit WHERE action = 'seal'"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_and_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_series, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_file_is_new_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_text_file_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_sqlite_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_doc_list_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_doc_origin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signing_records, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
