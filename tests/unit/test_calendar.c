/* test_calendar.c: unit tests of calendar.c (day arithmetic, the shipped calendar, working days, refusals). */
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

#include "calendar.h"
#include "xmlin.h"
#include "testutil.h"

#define CAL_DIR "workflows/calendar"
#define CAL_XSD "workflows/calendar/calendar.xsd"

/* "YYYY-MM-DD" that must be a real day. */
static cal_day day_of(const char *iso)
{
	cal_day d = cal_parse(iso);

	if (d < 0)
		fail_msg("\"%s\" refused", iso);
	return d;
}

static struct calendar *load_shipped(void)
{
	struct calendar *c = NULL;
	struct diag_list d;

	diag_init(&d);
	if (calendar_load(CAL_DIR, &c, &d) != 0) {
		test_print_diags(&d);
		fail_msg("the shipped calendar does not load");
	}
	assert_non_null(c);
	assert_int_equal(d.count, 0);
	diag_free(&d);
	return c;
}

/* calendar_add(c, from, n) must be want, all three as YYYY-MM-DD. */
static void assert_add(const struct calendar *c, const char *from, int n, const char *want)
{
	char got[11];

	cal_format(calendar_add(c, day_of(from), n), got);
	if (strcmp(got, want) != 0)
		fail_msg("%s %+d working days: want %s, have %s", from, n, want, got);
}

/* The reason day is off must be want (NULL: a working day). */
static void assert_off(const struct calendar *c, const char *iso, const char *want)
{
	const char *why = calendar_day_off(c, day_of(iso));

	if (want == NULL && why != NULL)
		fail_msg("%s: want a working day, have \"%s\"", iso, why);
	if (want != NULL && (why == NULL || strcmp(why, want) != 0))
		fail_msg("%s: want \"%s\", have %s%s%s", iso, want, why ? "\"" : "",
		    why ? why : "a working day", why ? "\"" : "");
}

static void test_ymd_round_trip(void **state)
{
	static const struct {
		int y, m, d;
		cal_day day;
		const char *iso;
	} known[] = {
		{ 1970, 1, 1, 0, "1970-01-01" },
		{ 1969, 12, 31, -1, "1969-12-31" },
		{ 2000, 3, 1, 11017, "2000-03-01" },
		{ 2024, 2, 29, 19782, "2024-02-29" },
		{ 2099, 12, 31, 47481, "2099-12-31" },
	};
	char iso[11];
	int y, m, d;

	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		assert_int_equal(cal_from_ymd(known[i].y, known[i].m, known[i].d), known[i].day);
		cal_to_ymd(known[i].day, &y, &m, &d);
		assert_int_equal(y, known[i].y);
		assert_int_equal(m, known[i].m);
		assert_int_equal(d, known[i].d);
		cal_format(known[i].day, iso);
		assert_string_equal(iso, known[i].iso);
		/* cal_parse answers -1 for "not a day", so only days from 1970 on are told apart */
		if (known[i].day >= 0)
			assert_int_equal(cal_parse(known[i].iso), known[i].day);
	}
	/* every day from 1900 to 2100 goes there and back, one after the other */
	cal_day prev = cal_from_ymd(1900, 1, 1) - 1;
	int py = 1899, pm = 12, pd = 31;
	for (cal_day day = prev + 1; day <= cal_from_ymd(2100, 12, 31); day++) {
		cal_to_ymd(day, &y, &m, &d);
		assert_int_equal(cal_from_ymd(y, m, d), day);
		if (!((y == py && m == pm && d == pd + 1) || (y == py && m == pm + 1 && d == 1) ||
		    (y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31)))
			fail_msg("day %ld is %04d-%02d-%02d after %04d-%02d-%02d", day, y, m, d, py, pm, pd);
		py = y;
		pm = m;
		pd = d;
	}
	/* 2000 is a leap year, 1900 and 2100 are not */
	cal_to_ymd(cal_from_ymd(2000, 2, 28) + 1, &y, &m, &d);
	assert_true(m == 2 && d == 29);
	cal_to_ymd(cal_from_ymd(1900, 2, 28) + 1, &y, &m, &d);
	assert_true(m == 3 && d == 1);
	cal_to_ymd(cal_from_ymd(2100, 2, 28) + 1, &y, &m, &d);
	assert_true(m == 3 && d == 1);
}

static void test_parse(void **state)
{
	static const char *const good[] = {
		"2024-02-29", "2000-02-29", "2023-02-28", "2023-12-31", "2026-01-01", "2099-12-31",
		"1970-01-01", "2024-04-30",
	};
	static const char *const bad[] = {
		"2023-02-29", "2024-13-01", "2024-1-01", "2100-02-29", "1900-02-29", "2024-02-30",
		"2024-04-31", "2024-00-10", "2024-06-00", "2024-01-011", "2024/01/01", "20240101", "",
		"2024-01-0x", "abcd-ef-gh", "2024-01-1 ", "24-01-2024",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char back[11];
		cal_day d = cal_parse(good[i]);
		if (d < 0)
			fail_msg("\"%s\" refused", good[i]);
		cal_format(d, back);
		assert_string_equal(back, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cal_parse(bad[i]) != -1)
			fail_msg("\"%s\" taken for a day", bad[i]);
	assert_int_equal(cal_parse(NULL), -1);
}

static void test_weekdays(void **state)
{
	(void)state;
	/* no calendar at all: only Saturdays and Sundays are off */
	assert_off(NULL, "1970-01-01", NULL);          /* Thursday */
	assert_off(NULL, "1970-01-03", "Thứ Bảy");
	assert_off(NULL, "1970-01-04", "Chủ nhật");
	/* before day 0 */
	assert_string_equal(calendar_day_off(NULL, cal_from_ymd(1969, 12, 27)), "Thứ Bảy");
	assert_string_equal(calendar_day_off(NULL, cal_from_ymd(1969, 12, 28)), "Chủ nhật");
	assert_null(calendar_day_off(NULL, cal_from_ymd(1969, 12, 29)));  /* Monday */
	assert_null(calendar_day_off(NULL, cal_from_ymd(1945, 9, 3)));     /* Monday */
	assert_off(NULL, "2026-11-20", NULL);          /* Friday */
	assert_off(NULL, "2026-11-21", "Thứ Bảy");
	assert_off(NULL, "2026-11-22", "Chủ nhật");
	assert_off(NULL, "2026-11-23", NULL);          /* Monday */
	assert_off(NULL, "2024-02-29", NULL);          /* Thursday */
	/* a whole week: five working days, then the weekend */
	int working = 0;
	for (cal_day d = day_of("2026-11-16"); d <= day_of("2026-11-22"); d++)
		working += calendar_day_off(NULL, d) == NULL;
	assert_int_equal(working, 5);
	assert_add(NULL, "2026-11-20", 1, "2026-11-23");
	assert_add(NULL, "2026-11-23", -1, "2026-11-20");
	assert_add(NULL, "2026-11-16", 10, "2026-11-30");
}

static void test_shipped_holidays(void **state)
{
	struct calendar *c = load_shipped();

	(void)state;
	assert_true(calendar_has_year(c, 2026));
	assert_true(calendar_has_year(c, 2027));
	assert_false(calendar_has_year(c, 2025));
	assert_false(calendar_has_year(c, 2031));
	assert_off(c, "2026-01-01", "Tết Dương lịch");
	assert_off(c, "2026-01-02", NULL);                            /* Friday */
	/* Tết Nguyên đán: the whole range, weekends in it named by the holiday */
	assert_off(c, "2026-02-13", NULL);
	assert_off(c, "2026-02-14", "Tết Nguyên đán Bính Ngọ");       /* Saturday */
	assert_off(c, "2026-02-17", "Tết Nguyên đán Bính Ngọ");       /* the first day of the year */
	assert_off(c, "2026-02-20", "Tết Nguyên đán Bính Ngọ");
	assert_off(c, "2026-02-22", "Tết Nguyên đán Bính Ngọ");       /* Sunday */
	assert_off(c, "2026-02-23", NULL);
	for (cal_day d = day_of("2026-02-14"); d <= day_of("2026-02-22"); d++)
		assert_non_null(calendar_day_off(c, d));
	/* Giỗ Tổ moved to Monday; the Sunday it fell on stays a Sunday */
	const char *why = calendar_day_off(c, day_of("2026-04-27"));
	assert_non_null(why);
	assert_true(strncmp(why, "Giỗ Tổ Hùng Vương", strlen("Giỗ Tổ Hùng Vương")) == 0);
	assert_off(c, "2026-04-26", "Chủ nhật");
	assert_off(c, "2026-04-28", NULL);
	assert_off(c, "2026-04-30", "Ngày Chiến thắng và Quốc tế Lao động");
	assert_off(c, "2026-05-01", "Ngày Chiến thắng và Quốc tế Lao động");
	assert_off(c, "2026-09-01", "Quốc khánh (2/9 và ngày liền trước)");
	assert_off(c, "2026-09-02", "Quốc khánh (2/9 và ngày liền trước)");
	assert_off(c, "2026-09-03", NULL);
	/* ordinary weekends of a year with a file */
	assert_off(c, "2026-11-21", "Thứ Bảy");
	assert_off(c, "2026-11-22", "Chủ nhật");
	assert_off(c, "2027-01-01", "Tết Dương lịch");
	/* 2026: 365 days, 104 of them Saturdays and Sundays, 11 weekdays of holidays */
	int working = 0;
	for (cal_day d = day_of("2026-01-01"); d <= day_of("2026-12-31"); d++)
		working += calendar_day_off(c, d) == NULL;
	assert_int_equal(working, 365 - 104 - 11);
	calendar_free(c);
}

static void test_shipped_add(void **state)
{
	struct calendar *c = load_shipped();

	(void)state;
	/* across Tết: Friday 13, then nine days off, then 23, 24, 25, 26 */
	assert_add(c, "2026-02-12", 5, "2026-02-26");
	assert_add(c, "2026-02-12", 1, "2026-02-13");
	assert_add(c, "2026-02-12", 2, "2026-02-23");
	assert_add(c, "2026-02-14", 1, "2026-02-23");   /* from a day off */
	/* across a weekend */
	assert_add(c, "2026-11-20", 1, "2026-11-23");
	assert_add(c, "2026-11-19", 2, "2026-11-23");
	assert_add(c, "2026-11-21", 1, "2026-11-23");
	assert_add(c, "2026-11-16", 10, "2026-11-30");
	/* across 30/4, 1/5 and the weekend after */
	assert_add(c, "2026-04-29", 1, "2026-05-04");
	/* across the new year and its holiday into the next file */
	assert_add(c, "2026-12-31", 1, "2027-01-04");
	/* backwards: a reminder n working days before a deadline */
	assert_add(c, "2026-02-26", -5, "2026-02-12");
	assert_add(c, "2026-02-23", -1, "2026-02-13");
	assert_add(c, "2026-02-23", -2, "2026-02-12");
	assert_add(c, "2026-05-04", -1, "2026-04-29");
	assert_add(c, "2026-11-23", -1, "2026-11-20");
	assert_add(c, "2027-01-04", -1, "2026-12-31");
	/* n = 0: the day itself, even a day off */
	assert_add(c, "2026-03-10", 0, "2026-03-10");
	assert_add(c, "2026-01-01", 0, "2026-01-01");
	assert_add(c, "2026-11-22", 0, "2026-11-22");
	/* forwards then back lands on a working day at or before the start */
	for (cal_day d = day_of("2026-01-01"); d <= day_of("2026-12-31"); d++) {
		cal_day there = calendar_add(c, d, 3), back = calendar_add(c, there, -3);
		assert_null(calendar_day_off(c, there));
		assert_true(back <= d);
		if (calendar_day_off(c, d) == NULL)
			assert_int_equal(back, d);
	}
	calendar_free(c);
}

static void test_year_without_file(void **state)
{
	struct calendar *c = load_shipped();

	(void)state;
	assert_false(calendar_has_year(c, 2031));
	/* 1 January 2031 is a Wednesday: without a file it is a working day */
	assert_off(c, "2031-01-01", NULL);
	assert_off(c, "2031-01-04", "Thứ Bảy");
	assert_off(c, "2031-01-05", "Chủ nhật");
	assert_off(c, "2031-09-02", NULL);
	assert_add(c, "2030-12-31", 1, "2031-01-01");
	assert_add(c, "2031-01-03", 1, "2031-01-06");
	assert_add(c, "2031-01-01", 5, "2031-01-08");
	assert_add(c, "2031-01-08", -5, "2031-01-01");
	int working = 0;
	for (cal_day d = day_of("2031-01-01"); d <= day_of("2031-12-31"); d++)
		working += calendar_day_off(c, d) == NULL;
	assert_int_equal(working, 261);
	calendar_free(c);
}

/* ---- calendar folders of our own ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* A temp folder with the shipped calendar.xsd and one file name holding text. */
static void make_folder(char *dir, const char *name, const char *text)
{
	struct diag_list d;
	char *xsd = NULL;
	size_t len = 0;

	assert_non_null(mkdtemp(dir));
	diag_init(&d);
	assert_int_equal(xmlin_read_file(CAL_XSD, 1024 * 1024, &xsd, &len, &d), 0);
	diag_free(&d);
	write_file(dir, "calendar.xsd", xsd);
	free(xsd);
	if (name != NULL)
		write_file(dir, name, text);
}

static void remove_folder(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<calendar xmlns=\"urn:vanthu:calendar:1\" year=\"2030\">\n"

static void test_swapped_saturday(void **state)
{
	/* 2030: Quốc khánh on Monday 2/9 and Tuesday 3/9, Saturday 7/9 worked in exchange */
	const char *text = HEAD
	    "  <holiday from=\"2030-09-02\" to=\"2030-09-03\" name=\"Quốc khánh\"/>\n"
	    "  <workday date=\"2030-09-07\" name=\"Làm bù cho ngày 3/9\"/>\n"
	    "  <workday date=\"2030-05-05\" name=\"Làm bù (Chủ nhật)\"/>\n"
	    "</calendar>\n";
	char dir[] = "/tmp/vanthu-cal-XXXXXX";
	struct calendar *c = NULL;
	struct diag_list d;

	(void)state;
	make_folder(dir, "2030.xml", text);
	/* files that are not YYYY.xml are not read */
	write_file(dir, "notes.xml", "not a calendar");
	write_file(dir, "2030.xml.bak", "not a calendar");
	diag_init(&d);
	if (calendar_load(dir, &c, &d) != 0) {
		test_print_diags(&d);
		fail_msg("a calendar with a swapped Saturday refused");
	}
	assert_int_equal(d.count, 0);
	assert_true(calendar_has_year(c, 2030));
	assert_false(calendar_has_year(c, 2026));
	assert_off(c, "2030-09-02", "Quốc khánh");
	assert_off(c, "2030-09-03", "Quốc khánh");
	assert_off(c, "2030-09-07", NULL);              /* a Saturday, worked */
	assert_off(c, "2030-09-08", "Chủ nhật");
	assert_off(c, "2030-09-14", "Thứ Bảy");         /* the next Saturday is off again */
	assert_off(c, "2030-05-05", NULL);              /* a Sunday, worked */
	assert_off(c, "2030-05-04", "Thứ Bảy");
	/* Friday 30/8: Mon and Tue off, then Wed 4, Thu 5, Fri 6, Sat 7, Mon 9 */
	assert_add(c, "2030-08-30", 1, "2030-09-04");
	assert_add(c, "2030-08-30", 4, "2030-09-07");
	assert_add(c, "2030-08-30", 5, "2030-09-09");
	assert_add(c, "2030-09-09", -1, "2030-09-07");
	assert_add(c, "2030-09-09", -2, "2030-09-06");
	assert_add(c, "2030-05-03", 1, "2030-05-05");
	/* other years still know only weekends */
	assert_off(c, "2026-01-01", NULL);
	calendar_free(c);
	diag_free(&d);
	remove_folder(dir);
}

static void test_empty_folder(void **state)
{
	char dir[] = "/tmp/vanthu-cal-XXXXXX";
	struct calendar *c = NULL;
	struct diag_list d;

	(void)state;
	/* the schema alone: a calendar of weekends */
	make_folder(dir, NULL, NULL);
	diag_init(&d);
	assert_int_equal(calendar_load(dir, &c, &d), 0);
	assert_int_equal(d.count, 0);
	assert_false(calendar_has_year(c, 2026));
	assert_off(c, "2026-01-01", NULL);
	assert_add(c, "2026-02-12", 5, "2026-02-19");
	calendar_free(c);
	diag_free(&d);
	remove_folder(dir);
	/* no schema: refused */
	c = (struct calendar *)1;
	diag_init(&d);
	assert_int_equal(calendar_load("workflows/no-such-calendar", &c, &d), -1);
	assert_null(c);
	assert_true(d.count >= 1);
	assert_non_null(strstr(d.items[0].file, "workflows/no-such-calendar/calendar.xsd"));
	diag_free(&d);
	calendar_free(NULL);
}

/*
 * A folder with one broken year file must be refused, with an error of that
 * file on line (0: any), of code (NULL: any), holding want.
 */
static void assert_refused(const char *name, const char *text, int line, const char *code,
    const char *want)
{
	char dir[] = "/tmp/vanthu-cal-XXXXXX", path[PATH_MAX];
	struct calendar *c = (struct calendar *)1;
	struct diag_list d;

	make_folder(dir, name, text);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	diag_init(&d);
	assert_int_equal(calendar_load(dir, &c, &d), -1);
	assert_null(c);
	assert_true(d.count >= 1);
	for (size_t i = 0; i < d.count; i++) {
		if (strcmp(d.items[i].file, path) == 0 && strstr(d.items[i].message, want) != NULL &&
		    (line == 0 || d.items[i].line == line) &&
		    (code == NULL || strcmp(d.items[i].code, code) == 0)) {
			diag_free(&d);
			remove_folder(dir);
			return;
		}
	}
	test_print_diags(&d);
	fail_msg("%s: no error [%s] at line %d of %s containing '%s'", name, code ? code : "*", line,
	    path, want);
}

static void test_refuses_broken(void **state)
{
	(void)state;
	/* a date outside the file's year */
	assert_refused("2030.xml", HEAD
	    "  <holiday from=\"2030-01-01\" name=\"Tết Dương lịch\"/>\n"
	    "  <holiday from=\"2031-01-01\" name=\"Tết Dương lịch\"/>\n"
	    "</calendar>\n", 4, "", "\"2031-01-01\" không phải là ngày của năm 2030");
	assert_refused("2030.xml", HEAD
	    "  <workday date=\"2029-12-29\" name=\"Làm bù\"/>\n"
	    "</calendar>\n", 3, "", "không phải là ngày của năm 2030");
	/* a day that does not exist */
	assert_refused("2030.xml", HEAD
	    "  <holiday from=\"2030-02-30\" name=\"Không có\"/>\n"
	    "</calendar>\n", 3, "", "\"2030-02-30\" không phải là ngày của năm 2030");
	/* a range that ends before it starts */
	assert_refused("2030.xml", HEAD
	    "  <holiday from=\"2030-05-02\" to=\"2030-04-30\" name=\"Ngược\"/>\n"
	    "</calendar>\n", 3, "", "khoảng ngày kết thúc trước khi bắt đầu");
	/* a workday that is a weekday already (Monday 6 May 2030) */
	assert_refused("2030.xml", HEAD
	    "  <holiday from=\"2030-09-02\" name=\"Quốc khánh\"/>\n"
	    "  <workday date=\"2030-05-06\" name=\"Làm bù\"/>\n"
	    "</calendar>\n", 4, "", "ngày làm bù 2030-05-06 vốn đã là ngày làm việc trong tuần");
	/* not valid against calendar.xsd */
	assert_refused("2030.xml", HEAD
	    "  <holiday date=\"2030-01-01\" name=\"Tết Dương lịch\"/>\n"
	    "</calendar>\n", 3, "R_SCHEMA", "");
	assert_refused("2030.xml", HEAD
	    "  <holiday from=\"2030-01-01\"/>\n"
	    "</calendar>\n", 3, "R_SCHEMA", "");
	assert_refused("2030.xml", HEAD
	    "  <holiday from=\"1/1/2030\" name=\"Tết Dương lịch\"/>\n"
	    "</calendar>\n", 3, "R_SCHEMA", "");
	assert_refused("2030.xml", HEAD
	    "  <nghi from=\"2030-01-01\" name=\"Tết Dương lịch\"/>\n"
	    "</calendar>\n", 3, "R_SCHEMA", "");
	assert_refused("2030.xml", HEAD "</calendar>\n", 2, "R_SCHEMA", "");
	assert_refused("1999.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<calendar xmlns=\"urn:vanthu:calendar:1\" year=\"1999\">\n"
	    "  <holiday from=\"1999-01-01\" name=\"Tết Dương lịch\"/>\n"
	    "</calendar>\n", 2, "R_SCHEMA", "");
	assert_refused("2030.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<calendar year=\"2030\">\n"
	    "  <holiday from=\"2030-01-01\" name=\"Tết Dương lịch\"/>\n"
	    "</calendar>\n", 2, "R_SCHEMA", "");
	/* not XML at all */
	assert_refused("2030.xml", HEAD "  <holiday from=\"2030-01-01\" name=\"x\">\n", 0, "R_NOT_XML",
	    "");
}

/* Every problem of every file is reported, not only the first. */
static void test_refuses_every_error(void **state)
{
	char dir[] = "/tmp/vanthu-cal-XXXXXX";
	struct calendar *c = (struct calendar *)1;
	struct diag_list d;

	(void)state;
	make_folder(dir, "2030.xml", HEAD
	    "  <holiday from=\"2031-01-01\" name=\"Sai năm\"/>\n"
	    "  <holiday from=\"2030-05-02\" to=\"2030-04-30\" name=\"Ngược\"/>\n"
	    "  <workday date=\"2030-05-06\" name=\"Làm bù\"/>\n"
	    "</calendar>\n");
	write_file(dir, "2029.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<calendar xmlns=\"urn:vanthu:calendar:1\" year=\"2029\">\n"
	    "  <holiday from=\"2029-01-01\" name=\"Tết Dương lịch\"/>\n"
	    "</calendar>\n");
	diag_init(&d);
	assert_int_equal(calendar_load(dir, &c, &d), -1);
	assert_null(c);
	if (d.count != 3) {
		test_print_diags(&d);
		fail_msg("want 3 errors");
	}
	int lines = 0;
	for (size_t i = 0; i < d.count; i++)
		lines |= 1 << d.items[i].line;
	assert_int_equal(lines, (1 << 3) | (1 << 4) | (1 << 5));
	diag_free(&d);
	remove_folder(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ymd_round_trip),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_weekdays),
		cmocka_unit_test(test_shipped_holidays),
		cmocka_unit_test(test_shipped_add),
		cmocka_unit_test(test_year_without_file),
		cmocka_unit_test(test_swapped_saturday),
		cmocka_unit_test(test_empty_folder),
		cmocka_unit_test(test_refuses_broken),
		cmocka_unit_test(test_refuses_every_error),
	};
	return cmocka_run_group_tests_name("calendar", tests, test_xml_setup, test_xml_teardown);
}
