/*
 * test_convert.c: unit tests of convert.c with the real helper and LibreOffice:
 * a rendered notice becomes a PDF/A-2b with every font embedded and its places
 * as named destinations (read back by pdfinfo, pdffonts, qpdf, pdftotext);
 * refusals; a killed helper; a timeout; an orderly stop. The helper is
 * build/vanthu-convert (the release build), or $VANTHU_CONVERT_HELPER.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "convert.h"
#include "diag.h"
#include "render.h"
#include "xmlin.h"
#include "testutil.h"

#define MTIME 1673974800L
#define BIG_COPIES 1600 /* the notice's body this many times over: some 1200 pages */
/* the limit is a third of what the big one takes here (within these bounds): enough for the
 * notice, far too little for the big one, on a fast machine or a loaded one */
#define TINY_MIN_MS 800
#define TINY_MAX_MS 1500

struct fixture {
	char dir[64];             /* the test's own folder under /tmp */
	char helper[PATH_MAX];
	char notice[PATH_MAX];    /* a rendered thong-bao, with its places */
	char big[PATH_MAX];       /* the same with a body many pages long */
	char broken[PATH_MAX];    /* a DOCX cut in half */
	struct converter *conv;   /* shared by the tests; owned here */
};

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 65536;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* Runs a shell command; its stdout (stderr joined) malloc'd in *out; returns the exit status. */
static int run(char **out, const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	if (!buf) {
		pclose(p);
		return -1;
	}
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb)
				break;
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, p);
		if (r == 0)
			break;
		n += r;
	}
	buf[n] = '\0';
	int st = pclose(p);
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The thong-bao fixture, with its number and date at places, its body copies times. */
static int render_notice(const char *tpl, const char *out, int copies)
{
	struct render_template *t = NULL;
	struct diag_list errs = { 0 };
	char err[256], sha[65];
	json_error_t je;
	int rc = -1;
	json_t *data = json_load_file("tests/fixtures/render/thong-bao.json", 0, &je);
	if (!data)
		return -1;
	json_object_set_new(data, "number_symbol", json_string(RENDER_PLACE_NUMBER "12/TB-UBND"));
	json_object_set_new(data, "date_line", json_string("Bà Rịa - Vũng Tàu, ngày "
	    RENDER_PLACE_DAY "18 tháng " RENDER_PLACE_MONTH "01 năm " RENDER_PLACE_YEAR "2023"));
	json_t *body = json_object_get(data, "body");
	if (!json_is_array(body))
		goto out;
	json_t *one = json_deep_copy(body);
	for (int i = 1; i < copies; i++)
		json_array_extend(body, one);
	json_decref(one);
	if (render_load(tpl, &t, &errs) != 0) {
		test_print_diags(&errs);
		goto out;
	}
	if (render_to_file(t, data, MTIME, out, sha, err, sizeof err) != 0) {
		print_error("render: %s\n", err);
		goto out;
	}
	rc = 0;
out:
	render_free(t);
	diag_free(&errs);
	json_decref(data);
	return rc;
}

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char tpl[PATH_MAX], err[512], profile[PATH_MAX];
	const char *h = getenv("VANTHU_CONVERT_HELPER");
	char *bytes = NULL;
	FILE *o = NULL;
	if (!f)
		return -1;
	xmlin_init();
	snprintf(f->dir, sizeof f->dir, "/tmp/vanthu-test-convert-XXXXXX");
	if (!mkdtemp(f->dir)) {
		f->dir[0] = '\0';
		goto fail;
	}
	if (!realpath(h ? h : "build/vanthu-convert", f->helper)) {
		print_error("no helper at %s (make build/vanthu-convert)\n",
		    h ? h : "build/vanthu-convert");
		goto fail;
	}
	snprintf(tpl, sizeof tpl, "%s/thong-bao.docx", f->dir);
	if (run(NULL, "/usr/bin/python3 tests/tools/zipdir.py templates-docx/thong-bao %s", tpl) != 0)
		goto fail;
	snprintf(f->notice, sizeof f->notice, "%s/notice.docx", f->dir);
	snprintf(f->big, sizeof f->big, "%s/big.docx", f->dir);
	snprintf(f->broken, sizeof f->broken, "%s/broken.docx", f->dir);
	if (render_notice(tpl, f->notice, 1) != 0 || render_notice(tpl, f->big, BIG_COPIES) != 0)
		goto fail;
	/* the first half of a real package: no central directory */
	size_t len;
	bytes = slurp(f->notice, &len);
	o = fopen(f->broken, "wb");
	if (!bytes || !o || fwrite(bytes, 1, len / 2, o) != len / 2)
		goto fail;
	fclose(o);
	o = NULL;
	free(bytes);
	bytes = NULL;

	snprintf(profile, sizeof profile, "%s/profile/lo", f->dir);
	struct convert_spec spec = { .helper = f->helper, .profile = profile };
	double t0 = now_s();
	if (convert_start(&spec, &f->conv, err, sizeof err) != 0) {
		print_error("convert_start: %s\n", err);
		goto fail;
	}
	print_message("helper ready in %.2f s (pid %d)\n", now_s() - t0, (int)convert_pid(f->conv));
	*state = f;
	return 0;
fail:
	if (o)
		fclose(o);
	free(bytes);
	if (f->dir[0])
		run(NULL, "rm -rf %s", f->dir);
	free(f);
	xmlin_cleanup();
	return -1;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;
	if (f) {
		convert_stop(f->conv);
		run(NULL, "rm -rf %s", f->dir);
		free(f);
	}
	xmlin_cleanup();
	return 0;
}

/* No file but the given ones in the test folder: no temporary left behind. */
static void assert_no_part_files(const struct fixture *f)
{
	DIR *d = opendir(f->dir);
	struct dirent *e;
	assert_non_null(d);
	char left[256] = "";
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".part") || strstr(e->d_name, ".~lock"))
			snprintf(left, sizeof left, "%s", e->d_name);
	closedir(d);
	if (left[0])
		fail_msg("temporary %s left in %s", left, f->dir);
}

/* Every font of the PDF embedded, per pdffonts. */
static void assert_fonts_embedded(const char *pdf)
{
	char *out = NULL;
	assert_int_equal(run(&out, "pdffonts %s", pdf), 0);
	int fonts = 0;
	char *save = NULL;
	int lineno = 0;
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (++lineno <= 2)
			continue; /* header and rule */
		/* the columns end "emb sub uni num gen": emb is the fifth word from the end */
		char *w[64];
		int nw = 0;
		char *save2 = NULL;
		for (char *t = strtok_r(l, " ", &save2); t && nw < 64; t = strtok_r(NULL, " ", &save2))
			w[nw++] = t;
		if (nw < 7)
			fail_msg("pdffonts line not understood");
		if (strcmp(w[nw - 5], "yes") != 0)
			fail_msg("font %s not embedded", w[0]);
		fonts++;
	}
	assert_true(fonts >= 1);
	free(out);
}

static void test_notice(void **state)
{
	struct fixture *f = *state;
	char pdf[PATH_MAX], err[512], *out = NULL;
	size_t len;
	snprintf(pdf, sizeof pdf, "%s/notice.pdf", f->dir);
	pid_t pid = convert_pid(f->conv);
	assert_true(pid > 0);

	double t0 = now_s();
	int rc = convert_docx_pdf(f->conv, f->notice, pdf, err, sizeof err);
	double first = now_s() - t0;
	if (rc != 0)
		fail_msg("convert: %s", err);
	t0 = now_s();
	rc = convert_docx_pdf(f->conv, f->notice, pdf, err, sizeof err); /* over the first */
	double warm = now_s() - t0;
	if (rc != 0)
		fail_msg("convert: %s", err);
	print_message("one-page notice: first %.3f s, warm %.3f s\n", first, warm);
	assert_int_equal(convert_pid(f->conv), pid);
	assert_no_part_files(f);

	assert_int_equal(run(&out, "qpdf --check %s", pdf), 0);
	free(out);
	assert_int_equal(run(&out, "pdfinfo %s", pdf), 0);
	assert_non_null(strstr(out, "Producer:        LibreOffice"));
	free(out);
	assert_fonts_embedded(pdf);

	/* the text, Vietnamese letters intact */
	assert_int_equal(run(&out, "pdftotext -enc UTF-8 %s -", pdf), 0);
	assert_non_null(strstr(out, "THÔNG BÁO"));
	assert_non_null(strstr(out, "12/TB-UBND"));
	assert_non_null(strstr(out, "Bà Rịa - Vũng Tàu"));
	free(out);

	/* PDF/A-2b in the XMP (LibreOffice writes it as elements) */
	char *bytes = slurp(pdf, &len);
	assert_non_null(bytes);
	assert_non_null(memmem(bytes, len, "<pdfaid:part>2</pdfaid:part>", 28));
	assert_non_null(memmem(bytes, len, "<pdfaid:conformance>B</pdfaid:conformance>", 42));
	free(bytes);

	/* the places as named destinations, read from qpdf's uncompressed form */
	char qdf[PATH_MAX];
	snprintf(qdf, sizeof qdf, "%s/notice.qdf", f->dir);
	assert_int_equal(run(NULL, "qpdf --qdf --object-streams=disable %s %s", pdf, qdf), 0);
	bytes = slurp(qdf, &len);
	assert_non_null(bytes);
	assert_non_null(memmem(bytes, len, "/Dests", 6));
	static const char *const names[] = { "/" RENDER_PLACE_NUMBER_NAME " [",
		"/" RENDER_PLACE_DAY_NAME " [", "/" RENDER_PLACE_MONTH_NAME " [",
		"/" RENDER_PLACE_YEAR_NAME " [" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!memmem(bytes, len, names[i], strlen(names[i])))
			fail_msg("no named destination %s", names[i]);
	free(bytes);
	unlink(qdf);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	char pdf[PATH_MAX], missing[PATH_MAX], err[512];
	pid_t pid = convert_pid(f->conv);
	snprintf(pdf, sizeof pdf, "%s/refused.pdf", f->dir);
	snprintf(missing, sizeof missing, "%s/none.docx", f->dir);

	err[0] = '\0';
	assert_int_equal(convert_docx_pdf(f->conv, missing, pdf, err, sizeof err), -1);
	assert_non_null(strstr(err, "none.docx"));
	print_message("missing: %s\n", err);

	err[0] = '\0';
	assert_int_equal(convert_docx_pdf(f->conv, f->broken, pdf, err, sizeof err), -1);
	assert_true(strlen(err) > 0);
	print_message("broken: %s\n", err);

	err[0] = '\0';
	assert_int_equal(convert_docx_pdf(f->conv, "notice.docx", pdf, err, sizeof err), -1);
	assert_non_null(strstr(err, "absolute"));
	assert_int_equal(convert_docx_pdf(f->conv, "/tmp/a\tb.docx", pdf, err, sizeof err), -1);
	assert_int_equal(convert_docx_pdf(f->conv, "/tmp/a\nCONVERT /x", pdf, err, sizeof err), -1);
	/* a folder that does not exist for the PDF */
	assert_int_equal(convert_docx_pdf(f->conv, f->notice, "/nonexistent-dir/x.pdf", err,
	    sizeof err), -1);
	print_message("no folder: %s\n", err);

	assert_int_equal(access(pdf, F_OK), -1); /* nothing under the target's name */
	assert_no_part_files(f);
	/* refusals are not the helper's faults: the same helper, still working */
	assert_int_equal(convert_pid(f->conv), pid);
	if (convert_docx_pdf(f->conv, f->notice, pdf, err, sizeof err) != 0)
		fail_msg("convert after refusals: %s", err);
	assert_int_equal(run(NULL, "qpdf --check %s", pdf), 0);
}

static void test_killed_helper(void **state)
{
	struct fixture *f = *state;
	char pdf[PATH_MAX], err[512];
	snprintf(pdf, sizeof pdf, "%s/after-kill.pdf", f->dir);
	pid_t old = convert_pid(f->conv);
	assert_true(old > 0);
	assert_int_equal(kill(old, SIGKILL), 0);
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	double t0 = now_s();
	if (convert_docx_pdf(f->conv, f->notice, pdf, err, sizeof err) != 0)
		fail_msg("convert after kill: %s", err);
	print_message("conversion with a restart: %.2f s\n", now_s() - t0);
	pid_t now = convert_pid(f->conv);
	assert_true(now > 0);
	assert_int_not_equal(now, old);
	/* the old one was reaped, not left a zombie */
	assert_int_equal(waitpid(old, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(run(NULL, "qpdf --check %s", pdf), 0);
}

/*
 * The systemd unit's MemoryDenyWriteExecute=yes: on Linux 6.3 and later systemd
 * sets the kernel's PR_SET_MDWE, which the helper and LibreOffice inherit. A
 * child process under it starts the converter and converts the notice.
 */
#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#endif
static void test_under_memory_deny_write_execute(void **state)
{
	struct fixture *f = *state;
	char pdf[PATH_MAX], profile[PATH_MAX];
	int status = 0;
	snprintf(pdf, sizeof pdf, "%s/mdwe.pdf", f->dir);
	snprintf(profile, sizeof profile, "%s/profile-mdwe", f->dir);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct converter *c = NULL;
		char err[512];
		struct convert_spec spec = { .helper = f->helper, .profile = profile };
		if (prctl(PR_SET_MDWE, 1, 0, 0, 0) != 0)
			_exit(errno == EINVAL ? 77 : 2);
		/* in force: no memory both writable and executable */
		void *wx = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (wx != MAP_FAILED)
			_exit(5);
		if (convert_start(&spec, &c, err, sizeof err) != 0) {
			fprintf(stderr, "under MDWE: %s\n", err);
			_exit(3);
		}
		int rc = convert_docx_pdf(c, f->notice, pdf, err, sizeof err);
		if (rc != 0)
			fprintf(stderr, "under MDWE: %s\n", err);
		convert_stop(c);
		_exit(rc == 0 ? 0 : 4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();  /* a kernel before 6.3: systemd filters with seccomp instead */
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(run(NULL, "qpdf --check %s", pdf), 0);
}

/* LibreOffice's caches grow: after `recycle` conversions the next one gets a fresh helper. */
static void test_recycled(void **state)
{
	struct fixture *f = *state;
	char pdf[PATH_MAX], err[512], profile[PATH_MAX];
	struct converter *c = NULL;
	snprintf(pdf, sizeof pdf, "%s/recycled.pdf", f->dir);
	snprintf(profile, sizeof profile, "%s/profile-recycle", f->dir);
	struct convert_spec spec = { .helper = f->helper, .profile = profile, .recycle = 2 };
	if (convert_start(&spec, &c, err, sizeof err) != 0)
		fail_msg("convert_start: %s", err);
	pid_t first = convert_pid(c);
	for (int i = 0; i < 2; i++) {
		if (convert_docx_pdf(c, f->notice, pdf, err, sizeof err) != 0)
			fail_msg("conversion %d: %s", i, err);
		assert_int_equal(convert_pid(c), first);
	}
	if (convert_docx_pdf(c, f->notice, pdf, err, sizeof err) != 0)
		fail_msg("third conversion: %s", err);
	pid_t second = convert_pid(c);
	assert_true(second > 0);
	assert_int_not_equal(second, first);
	assert_int_equal(waitpid(first, NULL, WNOHANG), -1);  /* reaped, not a zombie */
	assert_int_equal(run(NULL, "qpdf --check %s", pdf), 0);
	convert_stop(c);
}

static void test_timeout(void **state)
{
	struct fixture *f = *state;
	char pdf[PATH_MAX], err[512], profile[PATH_MAX];
	struct converter *c = NULL;
	snprintf(pdf, sizeof pdf, "%s/big.pdf", f->dir);
	snprintf(profile, sizeof profile, "%s/profile-timeout", f->dir);

	/* how long the big one takes on this machine, with no limit to speak of */
	double t0 = now_s();
	if (convert_docx_pdf(f->conv, f->big, pdf, err, sizeof err) != 0)
		fail_msg("big: %s", err);
	double big = now_s() - t0;
	print_message("big document: %.2f s\n", big);
	int tiny = (int)(big * 1000 / 3);
	if (tiny < TINY_MIN_MS)
		tiny = TINY_MIN_MS;
	if (tiny > TINY_MAX_MS)
		tiny = TINY_MAX_MS;
	/* else the test below proves nothing: it must time out on both tries */
	if (big < 2.0 * tiny / 1000)
		fail_msg("the big document took only %.2f s (limit %d ms)", big, tiny);
	unlink(pdf);

	struct convert_spec spec = { .helper = f->helper, .profile = profile,
		.timeout_ms = tiny };
	if (convert_start(&spec, &c, err, sizeof err) != 0)
		fail_msg("convert_start: %s", err);
	struct stat st;
	assert_int_equal(stat(profile, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	pid_t first = convert_pid(c);
	err[0] = '\0';
	assert_int_equal(convert_docx_pdf(c, f->big, pdf, err, sizeof err), -1);
	print_message("timeout: %s\n", err);
	assert_non_null(strstr(err, "timed out"));
	assert_int_equal(access(pdf, F_OK), -1);
	assert_int_equal(waitpid(first, NULL, WNOHANG), -1); /* killed and reaped */
	assert_int_equal(convert_pid(c), 0);                  /* none left running */

	/* it recovers: a small one within the same limit */
	snprintf(pdf, sizeof pdf, "%s/after-timeout.pdf", f->dir);
	if (convert_docx_pdf(c, f->notice, pdf, err, sizeof err) != 0)
		fail_msg("after the timeout: %s", err);
	assert_true(convert_pid(c) > 0);
	assert_int_equal(run(NULL, "qpdf --check %s", pdf), 0);

	/* a hung helper (stopped) is killed at the limit and replaced */
	pid_t hung = convert_pid(c);
	assert_int_equal(kill(hung, SIGSTOP), 0);
	if (convert_docx_pdf(c, f->notice, pdf, err, sizeof err) != 0)
		fail_msg("after a hang: %s", err);
	assert_int_not_equal(convert_pid(c), hung);
	assert_int_equal(waitpid(hung, NULL, WNOHANG), -1);

	/* an orderly stop leaves nothing running */
	pid_t last = convert_pid(c);
	convert_stop(c);
	assert_int_equal(kill(last, 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_no_part_files(f);
}

static void test_start_failures(void **state)
{
	struct fixture *f = *state;
	char err[512], profile[PATH_MAX];
	struct converter *c = (struct converter *)1;
	snprintf(profile, sizeof profile, "%s/profile-bad", f->dir);

	struct convert_spec none = { .helper = "/nonexistent/vanthu-convert", .profile = profile };
	assert_int_equal(convert_start(&none, &c, err, sizeof err), -1);
	assert_null(c);
	assert_non_null(strstr(err, "/nonexistent/vanthu-convert"));
	print_message("no helper: %s\n", err);

	/* a program that is not the helper: exits at once */
	struct convert_spec fals = { .helper = "/bin/false", .profile = profile };
	assert_int_equal(convert_start(&fals, &c, err, sizeof err), -1);
	print_message("not a helper: %s\n", err);

	/* no LibreOffice where it is said to be: the helper says so */
	struct convert_spec nolo = { .helper = f->helper, .office = "/nonexistent/program",
		.profile = profile };
	assert_int_equal(convert_start(&nolo, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "LibreOffice"));
	print_message("no office: %s\n", err);

	struct convert_spec noprof = { .helper = f->helper };
	assert_int_equal(convert_start(&noprof, &c, err, sizeof err), -1);
	convert_stop(NULL);
	assert_int_equal(convert_pid(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notice),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_killed_helper),
		cmocka_unit_test(test_recycled),
		cmocka_unit_test(test_under_memory_deny_write_execute),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_start_failures),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
