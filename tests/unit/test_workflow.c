/* test_workflow.c: unit tests of workflow.c (loading the kinds, refusing broken ones, and workflow_check's rules). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workflow.h"
#include "xmlin.h"
#include "testutil.h"

#define WF_DIR "workflows"
#define TB_XML "workflows/thong-bao/workflow.xml"

struct fixture {
	struct workflows *wf;
	const struct wf_kind *tb;  /* thong-bao */
};

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct diag_list d;

	if (f == NULL)
		return -1;
	xmlin_init();
	diag_init(&d);
	if (workflows_load(WF_DIR, &f->wf, &d) != 0) {
		test_print_diags(&d);
		diag_free(&d);
		return -1;
	}
	diag_free(&d);
	f->tb = workflows_find(f->wf, "thong-bao");
	if (f->tb == NULL)
		return -1;
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	workflows_free(f->wf);
	free(f);
	xmlin_cleanup();
	return 0;
}

/* ---- the people ---- */

#define UID_AN 1001     /* drafter: drafts document 7 */
#define UID_CHI 1002    /* drafter: another one */
#define UID_BINH 1003   /* reviewer */
#define UID_DUNG 1004   /* reviewer and drafter: last edited document 7 */
#define UID_HOA 1005    /* signer: the one document 7 names */
#define UID_THONG 1006  /* signer: another one */
#define UID_LAN 1007    /* clerk */

static const struct wf_actor an = { UID_AN, "an", ROLE_DRAFTER };
static const struct wf_actor chi = { UID_CHI, "chi", ROLE_DRAFTER };
static const struct wf_actor binh = { UID_BINH, "binh", ROLE_REVIEWER };
static const struct wf_actor dung = { UID_DUNG, "dung", ROLE_REVIEWER | ROLE_DRAFTER };
static const struct wf_actor hoa = { UID_HOA, "hoa", ROLE_SIGNER };
static const struct wf_actor thong = { UID_THONG, "thong", ROLE_SIGNER };
static const struct wf_actor lan = { UID_LAN, "lan", ROLE_CLERK };
static const struct wf_actor root = { 0, "root", ROLE_ADMIN };
static const struct wf_actor quan = { 1008, "quan", ROLE_ADMIN | ROLE_DRAFTER };
static const struct wf_actor xem = { 1009, "xem", ROLE_AUDITOR };

/* Document 7, a Thông báo in state, drafted by an, last edited by an, naming hoa as signer. */
static struct store_doc doc_in(const char *state)
{
	struct store_doc d;

	memset(&d, 0, sizeof(d));
	d.id = 7;
	d.kind = "thong-bao";
	d.state = (char *)state;
	d.summary = "Kết luận cuộc họp về chuyển đổi số";
	d.signer_login = "hoa";
	d.signer_name = "Trần Thị Hoa";
	d.drafter_uid = UID_AN;
	d.drafter = "an";
	d.editor_uid = UID_AN;
	d.editor = "an";
	d.revision = 1;
	return d;
}

/*
 * workflow_check must answer want: on WF_OK, the step that goes to `to`;
 * otherwise no step, and a message that holds each of the texts after to
 * (NULL-ended).
 */
static void check(const struct fixture *f, const struct store_doc *d, const struct wf_actor *a,
    const char *action, const char *comment, int want, const char *to, ...)
{
	const struct wf_transition *t = (const struct wf_transition *)1;
	char msg[512] = "";
	va_list ap;

	int rc = workflow_check(f->tb, d, a, action, comment, &t, msg, sizeof(msg));
	if (rc != want)
		fail_msg("%s %s from %s: want %d, have %d (%s)", a->login, action, d->state, want, rc, msg);
	if (want == WF_OK) {
		assert_non_null(t);
		assert_string_equal(t->action, action);
		assert_string_equal(t->to, to);
		return;
	}
	assert_null(t);
	assert_true(msg[0] != '\0');
	va_start(ap, to);
	for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *))
		if (strstr(msg, s) == NULL) {
			va_end(ap);
			fail_msg("%s %s from %s: message \"%s\" lacks \"%s\"", a->login, action, d->state,
			    msg, s);
		}
	va_end(ap);
}

static void test_load_shipped(void **state)
{
	const struct fixture *f = *state;
	const struct wf_kind *k = f->tb;
	static const char *const states[] = { "draft", "review", "signing", "signed", "issued",
		"withdrawn" };
	static const char *const labels[] = { "Dự thảo", "Chờ duyệt", "Chờ ký", "Đã ký, chờ ban hành",
		"Đã ban hành", "Đã thu hồi" };

	/* the kinds, in name order */
	assert_int_equal(f->wf->nkinds, 4);
	assert_string_equal(f->wf->kinds[0].kind, "bao-cao-tong-hop");
	assert_string_equal(f->wf->kinds[1].kind, "cong-van");
	assert_string_equal(f->wf->kinds[2].kind, "ke-hoach");
	assert_string_equal(f->wf->kinds[3].kind, "thong-bao");
	/* the template and type by issuing body: a Party công văn carries CV, a state one none */
	const struct wf_kind *cv = workflows_find(f->wf, "cong-van"), *kh = workflows_find(f->wf,
	    "ke-hoach"), *bc = workflows_find(f->wf, "bao-cao-tong-hop");
	assert_string_equal(workflow_template_for(cv, BODY_STATE), "cong-van");
	assert_string_equal(workflow_template_for(cv, BODY_PARTY), "cong-van-dang");
	assert_null(workflow_type_for(cv, BODY_STATE));
	assert_string_equal(workflow_type_for(cv, BODY_PARTY), "CV");
	assert_string_equal(workflow_template_for(kh, BODY_STATE), "thong-bao");
	assert_string_equal(workflow_template_for(kh, BODY_PARTY), "ke-hoach-dang");
	assert_string_equal(workflow_type_for(kh, BODY_PARTY), "KH");
	assert_string_equal(workflow_template_for(k, BODY_PARTY), "thong-bao-dang");
	assert_null(workflow_template_for(bc, BODY_PARTY));
	assert_null(workflows_find(f->wf, "bao-cao"));
	assert_null(workflows_find(f->wf, "calendar"));
	assert_null(workflows_find(f->wf, "dot-bao-cao"));
	assert_ptr_equal(workflows_by_root(f->wf, "thong-bao"), k);
	assert_null(workflows_by_root(f->wf, "round"));
	assert_null(workflows_find(NULL, "thong-bao"));
	/* thong-bao as its workflow.xml says */
	assert_string_equal(k->label, "Thông báo");
	assert_string_equal(k->type, "TB");
	assert_string_equal(k->title, "THÔNG BÁO");
	assert_string_equal(k->template_name, "thong-bao");
	assert_non_null(k->schema);
	assert_int_equal(k->nstates, 6);
	for (size_t i = 0; i < k->nstates; i++) {
		assert_string_equal(k->states[i].id, states[i]);
		assert_string_equal(k->states[i].label, labels[i]);
		assert_ptr_equal(wf_state_find(k, states[i]), &k->states[i]);
	}
	assert_true(k->states[0].initial);
	assert_int_equal(k->states[0].limit_days, 5);
	assert_true(k->states[4].final);
	assert_true(k->states[4].numbers);
	assert_false(k->states[3].numbers);
	assert_true(k->states[5].final);
	assert_int_equal(k->states[5].limit_days, 0);
	assert_null(wf_state_find(k, "nope"));
	assert_int_equal(k->ntransitions, 6);
	const struct wf_transition *ret = &k->transitions[2], *wd = &k->transitions[5];
	assert_string_equal(ret->action, "return");
	assert_int_equal(ret->nfrom, 2);
	assert_int_equal(ret->roles, ROLE_REVIEWER | ROLE_SIGNER);
	assert_true(ret->comment_required);
	assert_string_equal(wd->action, "withdraw");
	assert_int_equal(wd->nfrom, 3);
	assert_int_equal(wd->roles, ROLE_DRAFTER | ROLE_ADMIN);
	assert_true(wd->author_only);
	assert_true(k->transitions[3].named_signer);
	assert_true(k->transitions[3].not_author);
	/* a công văn has no type nor title */
	assert_null(workflows_find(f->wf, "cong-van")->type);
	assert_null(workflows_find(f->wf, "cong-van")->title);
}

static void test_submit(void **state)
{
	const struct fixture *f = *state;
	struct store_doc d = doc_in("draft");

	/* the author */
	check(f, &d, &an, "submit", NULL, WF_OK, "review");
	check(f, &d, &an, "submit", "xin trình", WF_OK, "review");
	/* another drafter */
	check(f, &d, &chi, "submit", NULL, WF_DENIED, NULL, "chỉ người soạn thảo (an)", "Trình duyệt",
	    NULL);
	/* an admin who is also a drafter: author-only exempts the admin */
	check(f, &d, &quan, "submit", NULL, WF_OK, "review");
	/* an admin alone lacks the step's role: the exemption is not a role */
	check(f, &d, &root, "submit", NULL, WF_DENIED, NULL, "chuyên viên soạn thảo", "root", NULL);
	/* other roles */
	check(f, &d, &binh, "submit", NULL, WF_DENIED, NULL, "\"Trình duyệt\" chỉ dành cho chuyên viên "
	    "soạn thảo; binh không có vai trò đó", NULL);
	check(f, &d, &xem, "submit", NULL, WF_DENIED, NULL, "xem", NULL);
	/* a document drafted by the daemon for a login that has no uid */
	d.drafter_uid = -1;
	d.drafter = "vanthu";
	check(f, &d, &an, "submit", NULL, WF_DENIED, NULL, "chỉ người soạn thảo (vanthu)", NULL);
	check(f, &d, &quan, "submit", NULL, WF_OK, "review");
}

static void test_approve(void **state)
{
	const struct fixture *f = *state;
	struct store_doc d = doc_in("review");

	check(f, &d, &binh, "approve", NULL, WF_OK, "signing");
	/* a reviewer who drafted it */
	d.drafter_uid = UID_BINH;
	d.drafter = "binh";
	d.editor_uid = UID_BINH;
	d.editor = "binh";
	check(f, &d, &binh, "approve", NULL, WF_DENIED, NULL, "binh đã soạn thảo hoặc sửa văn bản này",
	    "Duyệt, trình ký", NULL);
	/* a reviewer who last edited it, someone else having drafted it */
	d = doc_in("review");
	d.editor_uid = UID_DUNG;
	d.editor = "dung";
	check(f, &d, &dung, "approve", NULL, WF_DENIED, NULL, "dung đã soạn thảo hoặc sửa", NULL);
	check(f, &d, &binh, "approve", NULL, WF_OK, "signing");
	/* the drafter, not a reviewer */
	check(f, &d, &an, "approve", NULL, WF_DENIED, NULL, "người kiểm duyệt", NULL);
	/* from draft: the state is wrong before anything else */
	d = doc_in("draft");
	check(f, &d, &binh, "approve", NULL, WF_STATE, NULL, "văn bản số 7", "\"Dự thảo\"",
	    "\"Duyệt, trình ký\"", "\"Chờ duyệt\"", NULL);
	check(f, &d, &an, "approve", NULL, WF_STATE, NULL, "\"Dự thảo\"", "\"Chờ duyệt\"", NULL);
	d = doc_in("signing");
	check(f, &d, &binh, "approve", NULL, WF_STATE, NULL, "\"Chờ ký\"", "\"Chờ duyệt\"", NULL);
}

static void test_return(void **state)
{
	const struct fixture *f = *state;
	struct store_doc d = doc_in("review");

	check(f, &d, &binh, "return", NULL, WF_INVALID, NULL, "\"Trả lại để sửa\"", "lý do", NULL);
	check(f, &d, &binh, "return", "", WF_INVALID, NULL, "lý do", NULL);
	check(f, &d, &binh, "return", "   ", WF_INVALID, NULL, "lý do", NULL);
	check(f, &d, &binh, "return", " \t\r\n", WF_INVALID, NULL, "lý do", NULL);
	check(f, &d, &binh, "return", "Bổ sung thời hạn", WF_OK, "draft");
	check(f, &d, &binh, "return", "  x  ", WF_OK, "draft");
	/* the role comes before the comment */
	check(f, &d, &an, "return", NULL, WF_DENIED, NULL, "người kiểm duyệt hoặc lãnh đạo ký", NULL);
	/* from signing, by a signer */
	d = doc_in("signing");
	check(f, &d, &thong, "return", "Sai thể thức", WF_OK, "draft");
	check(f, &d, &hoa, "return", "   ", WF_INVALID, NULL, "lý do", NULL);
	/* not from draft */
	d = doc_in("draft");
	check(f, &d, &binh, "return", "x", WF_STATE, NULL, "\"Dự thảo\"", "\"Trả lại để sửa\"", NULL);
}

static void test_sign(void **state)
{
	const struct fixture *f = *state;
	struct store_doc d = doc_in("signing");

	/* the signer the document names */
	check(f, &d, &hoa, "sign", NULL, WF_OK, "signed");
	/* another signer */
	check(f, &d, &thong, "sign", NULL, WF_DENIED, NULL, "văn bản này do hoa ký, không phải thong",
	    NULL);
	/* no signer named: any signer */
	d.signer_login = NULL;
	check(f, &d, &thong, "sign", NULL, WF_OK, "signed");
	check(f, &d, &hoa, "sign", NULL, WF_OK, "signed");
	d.signer_login = "";
	check(f, &d, &thong, "sign", NULL, WF_OK, "signed");
	/* not a signer */
	check(f, &d, &binh, "sign", NULL, WF_DENIED, NULL, "lãnh đạo ký", NULL);
	check(f, &d, &root, "sign", NULL, WF_DENIED, NULL, "lãnh đạo ký", NULL);
	/* the named signer who also drafted it */
	d = doc_in("signing");
	d.drafter_uid = UID_HOA;
	d.drafter = "hoa";
	check(f, &d, &hoa, "sign", NULL, WF_DENIED, NULL, "hoa đã soạn thảo hoặc sửa", "\"Ký\"", NULL);
	/* from review */
	d = doc_in("review");
	check(f, &d, &hoa, "sign", NULL, WF_STATE, NULL, "\"Chờ duyệt\"", "\"Chờ ký\"", NULL);
}

static void test_issue(void **state)
{
	const struct fixture *f = *state;
	struct store_doc d = doc_in("signing");

	check(f, &d, &lan, "issue", NULL, WF_STATE, NULL, "văn bản số 7 đang ở trạng thái \"Chờ ký\"",
	    "\"Cấp số, ban hành\"", "\"Đã ký, chờ ban hành\"", NULL);
	d = doc_in("signed");
	check(f, &d, &lan, "issue", NULL, WF_OK, "issued");
	check(f, &d, &hoa, "issue", NULL, WF_DENIED, NULL, "văn thư", NULL);
	check(f, &d, &root, "issue", NULL, WF_DENIED, NULL, "văn thư", NULL);
	/* nothing leaves a final state */
	d = doc_in("issued");
	check(f, &d, &lan, "issue", NULL, WF_STATE, NULL, "\"Đã ban hành\"", NULL);
	check(f, &d, &an, "withdraw", "x", WF_STATE, NULL, "\"Đã ban hành\"", NULL);
	d = doc_in("withdrawn");
	check(f, &d, &an, "submit", NULL, WF_STATE, NULL, "\"Đã thu hồi\"", NULL);
}

static void test_withdraw(void **state)
{
	const struct fixture *f = *state;
	struct store_doc d = doc_in("review");

	check(f, &d, &an, "withdraw", "Không cần ban hành", WF_OK, "withdrawn");
	check(f, &d, &an, "withdraw", NULL, WF_INVALID, NULL, "lý do", NULL);
	check(f, &d, &an, "withdraw", "  ", WF_INVALID, NULL, "lý do", NULL);
	check(f, &d, &chi, "withdraw", "x", WF_DENIED, NULL, "chỉ người soạn thảo (an)", NULL);
	/* the admin role is the step's own, and author-only exempts it */
	check(f, &d, &root, "withdraw", "Trùng lặp", WF_OK, "withdrawn");
	check(f, &d, &binh, "withdraw", "x", WF_DENIED, NULL, "chuyên viên soạn thảo hoặc quản trị",
	    NULL);
	d = doc_in("signed");
	check(f, &d, &an, "withdraw", "x", WF_STATE, NULL, "\"Đã ký, chờ ban hành\"", "\"Dự thảo\"",
	    NULL);
}

static void test_unknown_action(void **state)
{
	const struct fixture *f = *state;
	struct store_doc d = doc_in("draft");

	check(f, &d, &an, "publish", NULL, WF_UNKNOWN, NULL, "loại văn bản \"Thông báo\"",
	    "\"publish\"", NULL);
	check(f, &d, &root, "", NULL, WF_UNKNOWN, NULL, "Thông báo", NULL);
	/* actions are compared exactly */
	check(f, &d, &an, "Submit", NULL, WF_UNKNOWN, NULL, "\"Submit\"", NULL);
	/* an unknown action is unknown whatever the state and the caller */
	d = doc_in("issued");
	check(f, &d, &xem, "sign-twice", NULL, WF_UNKNOWN, NULL, "sign-twice", NULL);
}

/* A state a document is in but the kind no longer has: named as it is, never a crash. */
static void test_unknown_state(void **state)
{
	const struct fixture *f = *state;
	struct store_doc d = doc_in("archived");

	check(f, &d, &an, "submit", NULL, WF_STATE, NULL, "\"archived\"", "\"Dự thảo\"", NULL);
}

/* ---- broken definitions ---- */

static char *read_text(const char *path)
{
	struct diag_list d;
	char *buf = NULL;
	size_t len = 0;

	diag_init(&d);
	assert_int_equal(xmlin_read_file(path, 1024 * 1024, &buf, &len, &d), 0);
	diag_free(&d);
	return buf;
}

/* text with from replaced by to, once; text is freed. */
static char *replace(char *text, const char *from, const char *to)
{
	char *at = strstr(text, from);

	if (at == NULL)
		fail_msg("'%s' not in %s", from, TB_XML);
	size_t fl = strlen(from), tl = strlen(to), off = (size_t)(at - text), len = strlen(text);
	char *n = malloc(len - fl + tl + 1);
	assert_non_null(n);
	memcpy(n, text, off);
	memcpy(n + off, to, tl);
	memcpy(n + off + tl, at + fl, len - off - fl + 1);
	free(text);
	return n;
}

/* The shipped thong-bao workflow.xml with from replaced by to, once. */
static char *changed(const char *from, const char *to)
{
	return replace(read_text(TB_XML), from, to);
}

/* Loads a copy of workflows/ in dir, its thong-bao/workflow.xml (path) replaced by text (freed). */
static int load_copy(char *dir, char *text, char *path, size_t pathlen, struct workflows **wf,
    struct diag_list *d)
{
	char cmd[PATH_MAX + 64];
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cp -r " WF_DIR "/. '%s'", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, pathlen, "%s/thong-bao/workflow.xml", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
	free(text);
	diag_init(d);
	return workflows_load(dir, wf, d);
}

static void remove_copy(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/*
 * A copy of workflows/ whose thong-bao/workflow.xml is text must be refused,
 * nothing loaded, with an error of that file holding each of wants (NULL-ended).
 */
static void assert_refused(char *text, ...)
{
	char dir[] = "/tmp/vanthu-wf-XXXXXX", path[PATH_MAX];
	struct workflows *wf = (struct workflows *)1;
	struct diag_list d;
	va_list ap;

	assert_int_equal(load_copy(dir, text, path, sizeof(path), &wf, &d), -1);
	assert_null(wf);
	assert_true(d.count >= 1);
	va_start(ap, text);
	for (const char *want = va_arg(ap, const char *); want; want = va_arg(ap, const char *)) {
		size_t i;
		for (i = 0; i < d.count; i++)
			if (strcmp(d.items[i].file, path) == 0 && strstr(d.items[i].message, want) != NULL)
				break;
		if (i == d.count) {
			test_print_diags(&d);
			va_end(ap);
			fail_msg("no error of %s containing '%s'", path, want);
		}
	}
	va_end(ap);
	/* only the broken file is blamed */
	for (size_t i = 0; i < d.count; i++)
		assert_string_equal(d.items[i].file, path);
	diag_free(&d);
	remove_copy(dir);
}

/* The copy itself loads: what the tests below refuse is refused for what they change only. */
static void test_copy_loads(void **state)
{
	char dir[] = "/tmp/vanthu-wf-XXXXXX", path[PATH_MAX];
	struct workflows *wf = NULL;
	struct diag_list d;

	(void)state;
	if (load_copy(dir, read_text(TB_XML), path, sizeof(path), &wf, &d) != 0) {
		test_print_diags(&d);
		fail_msg("a copy of the shipped workflows refused");
	}
	assert_int_equal(d.count, 0);
	assert_int_equal(wf->nkinds, 4);
	workflows_free(wf);
	diag_free(&d);
	remove_copy(dir);
}

static void test_refuses_two_initial(void **state)
{
	(void)state;
	assert_refused(changed("<state id=\"review\" label=\"Chờ duyệt\"",
	    "<state id=\"review\" label=\"Chờ duyệt\" initial=\"true\""),
	    "phải có đúng một trạng thái đầu (initial); có 2", NULL);
	assert_refused(changed(" initial=\"true\"", ""), "phải có đúng một trạng thái đầu (initial); có 0",
	    NULL);
	assert_refused(changed("<state id=\"withdrawn\" label=\"Đã thu hồi\" final=\"true\"/>",
	    "<state id=\"withdrawn\" label=\"Đã thu hồi\" final=\"true\" initial=\"1\"/>"),
	    "trạng thái \"withdrawn\" không thể vừa là đầu vừa là cuối", "có 2", NULL);
}

static void test_refuses_unknown_state(void **state)
{
	(void)state;
	assert_refused(changed("from=\"signing\" to=\"signed\"", "from=\"signing\" to=\"da-ky\""),
	    "thao tác \"sign\" đi tới trạng thái không có \"da-ky\"", NULL);
	assert_refused(changed("from=\"signed\" to=\"issued\"", "from=\"ky-xong\" to=\"issued\""),
	    "thao tác \"issue\" đi từ trạng thái không có \"ky-xong\"",
	    "trạng thái \"signed\" không phải trạng thái cuối nhưng không có lối ra", NULL);
	assert_refused(changed("from=\"draft review signing\"", "from=\"draft review issued\""),
	    "thao tác \"withdraw\" đi từ trạng thái cuối \"issued\"", NULL);
}

static void test_refuses_no_way_out(void **state)
{
	(void)state;
	/* a state nothing leaves from */
	assert_refused(changed("<state id=\"withdrawn\"",
	    "<state id=\"archived\" label=\"Lưu trữ\"/>\n  <state id=\"withdrawn\""),
	    "trạng thái \"archived\" không phải trạng thái cuối nhưng không có lối ra", NULL);
	/* the only step out of signed now leaves from signing */
	assert_refused(changed("from=\"signed\" to=\"issued\"", "from=\"signing\" to=\"issued\""),
	    "trạng thái \"signed\" không phải trạng thái cuối nhưng không có lối ra", NULL);
	/* withdrawn no longer final: steps lead to it, none leaves it */
	assert_refused(changed("<state id=\"withdrawn\" label=\"Đã thu hồi\" final=\"true\"/>",
	    "<state id=\"withdrawn\" label=\"Đã thu hồi\"/>"),
	    "trạng thái \"withdrawn\" không phải trạng thái cuối nhưng không có lối ra", NULL);
	/* no final state at all */
	assert_refused(replace(changed(" final=\"true\">", ">"), " final=\"true\"/>", "/>"),
	    "không có trạng thái cuối (final)", NULL);
}

static void test_refuses_action_twice(void **state)
{
	(void)state;
	/* a second submit from draft, to another state */
	assert_refused(changed("  <transition action=\"approve\"",
	    "  <transition action=\"submit\" label=\"Trình ký thẳng\" from=\"draft\" to=\"signing\"\n"
	    "              role=\"drafter\"/>\n"
	    "  <transition action=\"approve\""),
	    "thao tác \"submit\" được khai báo hai lần từ \"draft\"", NULL);
	/* a second return that shares one of the states it leaves from */
	assert_refused(changed("  <transition action=\"sign\"",
	    "  <transition action=\"return\" label=\"Trả lại\" from=\"signed\" to=\"signing\"\n"
	    "              role=\"clerk\"/>\n"
	    "  <transition action=\"return\" label=\"Trả lại\" from=\"signing\" to=\"review\"\n"
	    "              role=\"signer\" comment-required=\"true\"/>\n"
	    "  <transition action=\"sign\""),
	    "thao tác \"return\" được khai báo hai lần từ \"signing\"", NULL);
}

static void test_refuses_other(void **state)
{
	(void)state;
	/* the kind must be its folder's name */
	assert_refused(changed("kind=\"thong-bao\"", "kind=\"thong-bao-moi\""),
	    "loại \"thong-bao-moi\" khác tên thư mục của nó \"thong-bao\"", NULL);
	/* what the schema refuses: an unknown role, a state given twice, a missing label */
	assert_refused(changed("role=\"clerk\"", "role=\"boss\""),
	    "giá trị \"boss\" của <transition>", NULL);
	assert_refused(changed("<state id=\"review\"", "<state id=\"draft\""), "trùng lặp", NULL);
	assert_refused(changed(" label=\"Ký\"", ""), "thiếu thuộc tính bắt buộc \"label\"", NULL);
	/* a Party number always names a type: a Party template with none is refused */
	assert_refused(changed(" type=\"TB\"", ""), "có party-template mà không có loại", NULL);
	/* not XML */
	assert_refused(changed("</workflow>", ""), "", NULL);
}

/* The kind's input schema must load too. */
static void test_refuses_missing_schema(void **state)
{
	char dir[] = "/tmp/vanthu-wf-XXXXXX", cmd[PATH_MAX + 64];
	struct workflows *wf = (struct workflows *)1;
	struct diag_list d;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cp -r " WF_DIR "/. '%s' && rm '%s/cong-van/schema.xsd'", dir, dir);
	assert_int_equal(system(cmd), 0);
	diag_init(&d);
	assert_int_equal(workflows_load(dir, &wf, &d), -1);
	assert_null(wf);
	assert_true(d.count >= 1);
	assert_non_null(strstr(d.items[0].file, "cong-van/schema.xsd"));
	diag_free(&d);
	/* and a folder with no kind at all is refused */
	snprintf(cmd, sizeof(cmd), "rm -r '%s/cong-van' '%s/thong-bao' '%s/bao-cao-tong-hop' "
	    "'%s/ke-hoach'", dir, dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	wf = (struct workflows *)1;
	diag_init(&d);
	assert_int_equal(workflows_load(dir, &wf, &d), -1);
	assert_null(wf);
	assert_int_equal(d.count, 1);
	assert_non_null(strstr(d.items[0].message, "không có loại văn bản nào"));
	diag_free(&d);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	workflows_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_shipped),
		cmocka_unit_test(test_submit),
		cmocka_unit_test(test_approve),
		cmocka_unit_test(test_return),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_issue),
		cmocka_unit_test(test_withdraw),
		cmocka_unit_test(test_unknown_action),
		cmocka_unit_test(test_unknown_state),
		cmocka_unit_test(test_copy_loads),
		cmocka_unit_test(test_refuses_two_initial),
		cmocka_unit_test(test_refuses_unknown_state),
		cmocka_unit_test(test_refuses_no_way_out),
		cmocka_unit_test(test_refuses_action_twice),
		cmocka_unit_test(test_refuses_other),
		cmocka_unit_test(test_refuses_missing_schema),
	};
	return cmocka_run_group_tests_name("workflow", tests, group_setup, group_teardown);
}
