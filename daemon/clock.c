/*
 * clock.c: the one source of "now" for everything that dates or numbers a
 * document (issue dates, yearly registers, time limits). A test build may
 * start the clock at a chosen instant through VANTHU_FAKE_NOW so that year
 * rollover and deadlines can be tested; a production build has no such path.
 * The offset is set once at start (configuration-like state, never changed
 * afterwards).
 */
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static time_t fake_offset;  /* seconds added to the real clock; 0 in production */
static int fake;

int clock_init(void)
{
#ifdef VANTHU_TEST_CLOCK
	const char *v = getenv("VANTHU_FAKE_NOW");
	struct tm tm;
	struct timespec real;

	if (v == NULL || *v == '\0')
		return 0;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	clock_gettime(CLOCK_REALTIME, &real);
	fake_offset = timegm(&tm) - CLOCK_VN_OFFSET - real.tv_sec;
	fake = 1;
#endif
	return 0;
}

int clock_is_fake(void)
{
	return fake;
}

void clock_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += fake_offset;
}

void clock_iso_utc(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char base[24];

	clock_now(&ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%03dZ", base, (int)(ts.tv_nsec / 1000000) % 1000);
}

void clock_vn_stamp(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	time_t t;

	clock_now(&ts);
	t = ts.tv_sec + CLOCK_VN_OFFSET;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

void clock_today_vn(int *year, int *month, int *day)
{
	struct timespec ts;
	struct tm tm;
	time_t t;

	clock_now(&ts);
	t = ts.tv_sec + CLOCK_VN_OFFSET;
	gmtime_r(&t, &tm);
	*year = tm.tm_year + 1900;
	*month = tm.tm_mon + 1;
	*day = tm.tm_mday;
}

time_t clock_vn_midnight(int year, int month, int day)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	return timegm(&tm) - CLOCK_VN_OFFSET;
}
