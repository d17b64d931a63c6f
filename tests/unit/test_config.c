/* test_config.c: unit tests of config.c (vanthu.conf parsing and checks). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static int load(const char *text, struct config *cfg, struct diag_list *d)
{
	diag_init(d);
	return config_load_string("t.conf", text, strlen(text), cfg, d);
}

/* The diagnostic list holds a line "t.conf:LINE: ...TEXT..." */
static void assert_diag(const struct diag_list *d, int line, const char *text)
{
	for (size_t i = 0; i < d->count; i++)
		if (d->items[i].line == line && strstr(d->items[i].message, text) != NULL)
			return;
	for (size_t i = 0; i < d->count; i++)
		print_error("have %s:%d: %s\n", d->items[i].file, d->items[i].line, d->items[i].message);
	fail_msg("no diagnostic at line %d containing '%s'", line, text);
}

static void test_default(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(config_default(&cfg), 0);
	assert_string_equal(cfg.spool, "./spool");
	assert_string_equal(cfg.database, "./vanthu.db");
	assert_string_equal(cfg.socket, "./run/vanthu.sock");
	assert_string_equal(cfg.role_group[0], "vanthu-drafter");
	assert_string_equal(cfg.role_group[5], "vanthu-auditor");
	assert_int_equal(cfg.max_clients, 256);
	assert_int_equal(cfg.idle_timeout, 300);
	assert_null(cfg.path);
	config_free(&cfg);
}

/* [intake] rounds: required unless an office says optional; anything else is refused. */
static void test_intake_rounds(void **state)
{
	struct config cfg;
	struct diag_list d;

	(void)state;
	assert_int_equal(load("[intake]\nbatch = 8\n", &cfg, &d), 0);
	assert_int_equal(cfg.intake_rounds_optional, 0);
	config_free(&cfg);
	diag_free(&d);
	assert_int_equal(load("[intake]\nrounds = optional\n", &cfg, &d), 0);
	assert_int_equal(cfg.intake_rounds_optional, 1);
	config_free(&cfg);
	diag_free(&d);
	assert_int_equal(load("[intake]\nrounds = required\n", &cfg, &d), 0);
	assert_int_equal(cfg.intake_rounds_optional, 0);
	config_free(&cfg);
	diag_free(&d);
	assert_int_not_equal(load("[log]\nlevel = info\n[intake]\nrounds = maybe\n", &cfg, &d), 0);
	assert_diag(&d, 4, "'maybe' không phải là required hay optional");
	config_free(&cfg);
	diag_free(&d);
}

/* [exchange] and the bodies' ids: absent, nothing is exchanged; present, all of it. */
static void test_exchange(void **state)
{
	struct config cfg;
	struct diag_list d;

	(void)state;
	assert_int_equal(load("[organisation]\nid = 000.00.01.H56\n", &cfg, &d), 0);
	assert_int_equal(cfg.exchange, 0);
	assert_string_equal(cfg.bodies[0].id, "000.00.01.H56");
	config_free(&cfg);
	diag_free(&d);
	assert_int_equal(load("[organisation]\nid = 000.00.01.H56\n[exchange]\ntransport = nats\n"
	    "servers = nats://127.0.0.1:4222\nreplicas = 3\ntrust = /etc/vanthu/ca.pem\n", &cfg, &d),
	    0);
	assert_int_equal(cfg.exchange, 1);
	assert_string_equal(cfg.xch_transport, "nats");
	assert_int_equal(cfg.xch_replicas, 3);
	assert_int_equal(cfg.xch_late_after, 120);
	assert_int_equal(cfg.xch_retry_max, 300);
	config_free(&cfg);
	diag_free(&d);
	/* a folder gateway needs no server; an id of another shape is accepted (the 2025 mergers) */
	assert_int_equal(load("[organisation]\nid = UBND-XA-MOI\n[exchange]\ntransport = folder\n"
	    "trust = /etc/vanthu/ca.pem\nlate_after = 30\n", &cfg, &d), 0);
	assert_int_equal(cfg.exchange, 1);
	assert_int_equal(cfg.xch_late_after, 30);
	config_free(&cfg);
	diag_free(&d);
	/* every missing part named: no transport's servers, no id, no trust; a bad id; a pair */
	assert_int_not_equal(load("[exchange]\ntransport = nats\nuser = vanthu\n", &cfg, &d), 0);
	assert_diag(&d, 0, "[exchange] cần servers =");
	assert_diag(&d, 0, "[exchange] cần mã định danh");
	assert_diag(&d, 0, "[exchange] cần trust =");
	assert_diag(&d, 0, "user và password_file đi cùng nhau");
	diag_free(&d);
	assert_int_not_equal(load("[organisation]\nid = .bad..id\n[body TU]\nname = Tỉnh ủy\n"
	    "id = 000.00.01.H56\n[body BCD]\nname = Ban Chỉ đạo\nid = 000.00.01.H56\n"
	    "[exchange]\ntransport = pigeon\n", &cfg, &d), 0);
	assert_diag(&d, 2, "không dùng được làm mã định danh");
	assert_diag(&d, 0, "id 000.00.01.H56 là của hai cơ quan ban hành");
	assert_diag(&d, 0, "không phải là nats hay folder");
	diag_free(&d);
	assert_int_not_equal(load("[organisation]\nid = 000.00.01.H56\n[exchange]\ntransport = folder\n"
	    "servers = nats://x:4222\ntrust = /t.pem\n", &cfg, &d), 0);
	assert_diag(&d, 0, "transport = folder không dùng servers");
	diag_free(&d);
	assert_int_not_equal(load("[organisation]\nid = 000.00.01.H56\n[exchange]\ntransport = nats\n"
	    "servers = http://x\ntrust = /t.pem\n", &cfg, &d), 0);
	assert_diag(&d, 0, "phải bắt đầu bằng nats://");
	diag_free(&d);
}

/* [signing]: absent, nothing signs; present, all of it; a signer's certificate and image. */
static void test_signing(void **state)
{
	struct config cfg;
	struct diag_list d;

	(void)state;
	assert_int_equal(load("[log]\nlevel = info\n", &cfg, &d), 0);
	assert_int_equal(cfg.signing, 0);
	config_free(&cfg);
	diag_free(&d);
	assert_int_equal(load("[signing]\nmodule = /usr/lib/softhsm/libsofthsm2.so\n"
	    "pin_file = /etc/vanthu/pin\ntrust = /etc/vanthu/ca.pem\nseal_image = /etc/vanthu/d.png\n"
	    "seal_size = 36\n[user thong]\n"
	    "certificate = 5F:3A:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:"
	    "66:77:88:99:aa:bb:cc:9C\nsignature_image = /etc/vanthu/ky.png\n", &cfg, &d), 0);
	assert_int_equal(cfg.signing, 1);
	assert_int_equal(cfg.sign_seal_mm, 36);
	assert_string_equal(cfg.sign_font, CONFIG_DEFAULT_SIGN_FONT);
	assert_string_equal(cfg.sign_office, CONFIG_DEFAULT_SIGN_OFFICE);
	const struct config_user *u = config_find_user(&cfg, "thong");
	assert_non_null(u);
	assert_string_equal(u->certificate,
	    "5f3a00112233445566778899aabbccddeeff00112233445566778899aabbcc9c");
	assert_string_equal(u->signature_image, "/etc/vanthu/ky.png");
	config_free(&cfg);
	diag_free(&d);
	/* part of it: every missing key is named */
	assert_int_not_equal(load("[signing]\ntoken = co-quan\nseal_size = 100\n", &cfg, &d), 0);
	assert_diag(&d, 0, "[signing] cần module =");
	assert_diag(&d, 0, "[signing] cần pin_file =");
	assert_diag(&d, 0, "[signing] cần trust =");
	assert_diag(&d, 0, "[signing] cần seal_image =");
	assert_diag(&d, 3, "seal_size");
	diag_free(&d);
	/* a fingerprint that is not one; an image that is not absolute; one without the other */
	assert_int_not_equal(load("[user a]\ncertificate = 12:34\nsignature_image = ky.png\n"
	    "[user b]\ncertificate = 5f3a00112233445566778899aabbccddeeff00112233445566778899aabbcc9c\n",
	    &cfg, &d), 0);
	assert_diag(&d, 2, "64 chữ số hex");
	assert_diag(&d, 3, "đường dẫn tuyệt đối");
	assert_diag(&d, 0, "[user b]: certificate và signature_image đi cùng nhau");
	diag_free(&d);
}

static void test_full_file(void **state)
{
	struct config cfg;
	struct diag_list d;
	const char *text =
	    "; a comment\n"
	    "[paths]\n"
	    "spool = /srv/vanthu/spool\n"
	    "database = /srv/vanthu/db.sqlite\n"
	    "socket = /run/vanthu/ctl.sock   ; inline comment\n"
	    "socket_group = vanthu\n"
	    "[organisation]\n"
	    "name = Ủy ban nhân dân xã Long Hải\n"
	    "parent = Ủy ban nhân dân huyện Long Điền\n"
	    "abbreviation = UBND\n"
	    "place = Long Hải\n"
	    "[roles]\n"
	    "signer = lanh-dao\n"
	    "[limits]\n"
	    "max_clients = 10\n"
	    "max_clients_per_uid = 3\n"
	    "idle_timeout = 60\n"
	    "[log]\n"
	    "level = debug\n"
	    "[user thong]\n"
	    "full_name = Đặng Minh Thông\n"
	    "title = Phó Chủ tịch\n"
	    "authority = KT.\n";

	(void)state;
	assert_int_equal(load(text, &cfg, &d), 0);
	assert_int_equal(d.count, 0);
	assert_string_equal(cfg.spool, "/srv/vanthu/spool");
	assert_string_equal(cfg.socket, "/run/vanthu/ctl.sock");
	assert_string_equal(cfg.socket_group, "vanthu");
	assert_string_equal(cfg.bodies[0].place, "Long Hải");
	assert_string_equal(cfg.role_group[2], "lanh-dao");
	assert_string_equal(cfg.role_group[0], "vanthu-drafter");
	assert_int_equal(cfg.max_clients, 10);
	assert_int_equal(cfg.max_clients_per_uid, 3);
	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
	const struct config_user *u = config_find_user(&cfg, "thong");
	assert_non_null(u);
	assert_string_equal(u->full_name, "Đặng Minh Thông");
	assert_string_equal(u->authority, "KT.");
	assert_null(config_find_user(&cfg, "nobody"));
	config_free(&cfg);
	diag_free(&d);
}

/* Issuing bodies: [organisation] is the first; a [body] adds a Party committee with its terms. */
static void test_bodies(void **state)
{
	struct config cfg, copy;
	struct diag_list d;
	const char *text =
	    "[organisation]\n"
	    "name = Ủy ban nhân dân phường Uông Bí\n"
	    "abbreviation = UBND\n"
	    "place = Uông Bí\n"
	    "[body TU]\n"
	    "kind = party\n"
	    "name = Ban Thường vụ Tỉnh ủy\n"
	    "parent = Đảng bộ tỉnh Quảng Ninh\n"
	    "collective = Ban Thường vụ\n"
	    "term = 2025-2030 2025-10-15\n"
	    "term = 2020-2025 2020-10-10\n"
	    "[user thang]\n"
	    "party_title = Phó Bí thư\n";
	const struct config_body *b;

	(void)state;
	assert_int_equal(load(text, &cfg, &d), 0);
	assert_int_equal(cfg.nbodies, 2);
	b = config_find_body(&cfg, NULL);
	assert_ptr_equal(b, &cfg.bodies[0]);
	assert_int_equal(b->kind, BODY_STATE);
	assert_string_equal(b->abbrev, "UBND");
	assert_string_equal(b->place, "Uông Bí");
	b = config_find_body(&cfg, "TU");
	assert_non_null(b);
	assert_int_equal(b->kind, BODY_PARTY);
	assert_string_equal(b->place, "Uông Bí");  /* the organisation's, when not given */
	assert_string_equal(b->parent, "Đảng bộ tỉnh Quảng Ninh");
	/* terms kept in order of start, whatever the file's order; a day falls in the latest begun */
	assert_int_equal(b->nterms, 2);
	assert_string_equal(b->terms[0].name, "2020-2025");
	assert_null(config_body_term(b, "2020-10-09"));
	assert_string_equal(config_body_term(b, "2020-10-10")->name, "2020-2025");
	assert_string_equal(config_body_term(b, "2025-10-14")->name, "2020-2025");
	assert_string_equal(config_body_term(b, "2025-10-15")->name, "2025-2030");
	assert_null(config_find_body(&cfg, "BCĐ"));
	assert_string_equal(config_find_user(&cfg, "thang")->party_title, "Phó Bí thư");
	/* the worker's copy is whole and independent */
	memset(&copy, 0, sizeof(copy));
	assert_int_equal(config_copy_identity(&copy, &cfg), 0);
	config_free(&cfg);
	assert_int_equal(copy.nbodies, 2);
	assert_string_equal(config_find_body(&copy, "TU")->collective, "Ban Thường vụ");
	assert_string_equal(config_find_body(&copy, "TU")->terms[1].start, "2025-10-15");
	assert_string_equal(config_find_user(&copy, "thang")->party_title, "Phó Bí thư");
	config_free_identity(&copy);
	diag_free(&d);

	/* what a Party committee must have, and what only one may */
	const char *bad =
	    "[organisation]\n"             /* 1 */
	    "kind = council\n"             /* 2 */
	    "term = 2025-2030 2025-02-30\n" /* 3 */
	    "[body TU]\n"                  /* 4 */
	    "kind = party\n"               /* 5 */
	    "name = Tỉnh ủy\n"             /* 6 */
	    "term = 2025-2030 2025-10-15\n" /* 7 */
	    "term = 2025-2030 2026-01-01\n" /* 8 */
	    "colour = red\n"               /* 9 */
	    "[body UBND]\n"                /* 10 */
	    "name = Trùng\n"               /* 11 */
	    "[body X/Y]\n"                 /* 12 */
	    "name = Sai\n"                 /* 13 */
	    "[body BCĐ]\n"                 /* 14 */
	    "kind = party\n";              /* 15 */
	assert_int_equal(load(bad, &cfg, &d), -1);
	assert_diag(&d, 2, "kind: 'council' không phải là state hay party");
	assert_diag(&d, 3, "term: cần tên nhiệm kỳ và ngày đầu của nó");
	assert_diag(&d, 8, "trùng tên hoặc ngày đầu của một nhiệm kỳ trước");
	assert_diag(&d, 9, "không có khóa 'colour' trong [body TU]");
	assert_diag(&d, 0, "[body TU]: cấp ủy Đảng cần collective =");
	assert_diag(&d, 0, "[body UBND]: tên viết tắt UBND đã là của một cơ quan ban hành trước");
	assert_diag(&d, 0, "[body X/Y]: tên viết tắt phải là một từ");
	assert_diag(&d, 0, "[body BCĐ]: cấp ủy Đảng đánh số trong nhiệm kỳ");
	assert_diag(&d, 0, "[body BCĐ]: name không được để trống");
	diag_free(&d);
	/* the organisation is a body like the others: the same checks, by its own name */
	assert_int_equal(load("[organisation]\nname =\nabbreviation = UB ND\nplace =\n", &cfg, &d),
	    -1);
	assert_diag(&d, 0, "[organisation]: name không được để trống");
	assert_diag(&d, 0, "[organisation]: tên viết tắt phải là một từ");
	assert_diag(&d, 0, "[organisation]: place không được để trống (nó mở đầu dòng ngày tháng)");
	diag_free(&d);
	assert_int_equal(load("[organisation]\nbody = TU\n", &cfg, &d), -1);
	assert_diag(&d, 2, "không có khóa 'body' trong [organisation]");
	diag_free(&d);
	/* a state body has no term */
	assert_int_equal(load("[organisation]\nterm = 2025-2030 2025-10-15\n", &cfg, &d), -1);
	assert_diag(&d, 0, "[organisation]: term và collective chỉ dùng cho kind = party");
	diag_free(&d);
}

static void test_nfc(void **state)
{
	struct config cfg;
	struct diag_list d;
	/* "Hải" written decomposed: a + combining hook above (U+0309) */
	const char *text = "[organisation]\nplace = Long Ha\xcc\x89i\n";

	(void)state;
	assert_int_equal(load(text, &cfg, &d), 0);
	assert_string_equal(cfg.bodies[0].place, "Long H\xe1\xba\xa3i");
	config_free(&cfg);
	diag_free(&d);
}

static void test_every_error_with_line(void **state)
{
	struct config cfg;
	struct diag_list d;
	const char *text =
	    "[paths]\n"                       /* 1 */
	    "spool = /tmp/x\n"                /* 2 */
	    "spoool = /tmp/y\n"               /* 3 unknown key */
	    "[limits]\n"                      /* 4 */
	    "max_clients = many\n"            /* 5 bad number */
	    "idle_timeout = 0\n"              /* 6 below range */
	    "[log]\n"                         /* 7 */
	    "level = loud\n"                  /* 8 bad level */
	    "this line has no equals\n"       /* 9 syntax */
	    "[nonsense]\n"                    /* 10 */
	    "key = v\n"                       /* 11 unknown section */
	    "[roles]\n"                       /* 12 */
	    "clerk = bad group!\n"            /* 13 bad group */
	    "[user a]\n"                      /* 14 */
	    "authority = Chủ tịch\n"          /* 15 bad authority */
	    "[organisation]\n"                /* 16 */
	    "name = \xff\xfe\n";              /* 17 invalid UTF-8 */

	(void)state;
	assert_int_equal(load(text, &cfg, &d), -1);
	assert_diag(&d, 3, "không có khóa 'spoool' trong [paths]");
	assert_diag(&d, 5, "max_clients");
	assert_diag(&d, 6, "idle_timeout");
	assert_diag(&d, 8, "level");
	assert_diag(&d, 9, "không phải dòng [mục]");
	assert_diag(&d, 10, "không có mục [nonsense]");
	assert_diag(&d, 13, "clerk");
	assert_diag(&d, 15, "authority");
	assert_diag(&d, 17, "UTF-8");
	assert_int_equal(d.count, 9);
	assert_string_equal(d.items[0].file, "t.conf");
	diag_free(&d);
}

static void test_whole_file_rules(void **state)
{
	struct config cfg;
	struct diag_list d;
	const char *text =
	    "[roles]\nreviewer = same\nsigner = same\n"
	    "[limits]\nmax_clients = 5\nmax_clients_per_uid = 6\n"
	    "[organisation]\nabbreviation = U B\n";

	(void)state;
	assert_int_equal(load(text, &cfg, &d), -1);
	assert_diag(&d, 0, "reviewer và signer chỉ cùng một nhóm");
	assert_diag(&d, 0, "max_clients_per_uid lớn hơn max_clients");
	assert_diag(&d, 0, "tên viết tắt");
	diag_free(&d);
}

static void test_indentation_and_empty_sections(void **state)
{
	struct config cfg;
	struct diag_list d;
	const char *text =
	    "[paths]\n"
	    "  spool = /a\n"
	    "\tdatabase = /b\n"
	    "[empty-and-unknown]\n"
	    "[limits]\n"
	    "max_clients = +5\n";

	(void)state;
	assert_int_equal(load(text, &cfg, &d), -1);
	assert_diag(&d, 4, "không có mục [empty-and-unknown]");
	assert_diag(&d, 6, "max_clients");
	assert_int_equal(d.count, 2);
	diag_free(&d);
	assert_int_equal(load("[paths]\n  spool = /a\n  database = /b\n", &cfg, &d), 0);
	assert_string_equal(cfg.spool, "/a");
	assert_string_equal(cfg.database, "/b");
	config_free(&cfg);
	diag_free(&d);
}

static void test_long_line(void **state)
{
	struct config cfg;
	struct diag_list d;
	char text[600];

	(void)state;
	memset(text, 0, sizeof(text));
	strcpy(text, "[organisation]\nname = ");
	memset(text + strlen(text), 'A', 400);
	strcat(text, "\nplace = X\n");
	assert_int_equal(load(text, &cfg, &d), -1);
	assert_diag(&d, 2, "dòng dài quá");
	assert_int_equal(d.count, 1);
	diag_free(&d);
}

static void test_missing_file(void **state)
{
	struct config cfg;
	struct diag_list d;

	(void)state;
	diag_init(&d);
	assert_int_equal(config_load("/nonexistent/vanthu.conf", &cfg, &d), -1);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].file, "/nonexistent/vanthu.conf");
	assert_non_null(strstr(d.items[0].message, "không có tệp hay thư mục đó"));
	diag_free(&d);
}

static void test_check_paths(void **state)
{
	struct config cfg;
	struct diag_list d;
	char dir[] = "/tmp/vanthu-test-XXXXXX", text[2048], blocker[600];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(blocker, sizeof(blocker), "%s/file", dir);
	FILE *f = fopen(blocker, "w");
	assert_non_null(f);
	fclose(f);
	/* spool under a regular file cannot be created; templates missing; workflows fine */
	snprintf(text, sizeof(text),
	    "[paths]\nspool = %s/file/spool\ndatabase = %s/db\nsocket = %s/run/s.sock\n"
	    "templates = %s/none\nworkflows = %s\n", dir, dir, dir, dir, dir);
	assert_int_equal(load(text, &cfg, &d), 0);
	assert_int_equal(config_check_paths(&cfg, &d), -1);
	assert_diag(&d, 0, "spool");
	assert_diag(&d, 0, "không phải là thư mục");
	assert_diag(&d, 0, "templates");
	assert_int_equal(d.count, 2);
	config_free(&cfg);
	diag_free(&d);
	unlink(blocker);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_intake_rounds),
		cmocka_unit_test(test_signing),
		cmocka_unit_test(test_exchange),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_nfc),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_every_error_with_line),
		cmocka_unit_test(test_whole_file_rules),
		cmocka_unit_test(test_indentation_and_empty_sections),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_check_paths),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
