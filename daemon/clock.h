/* clock.h: the daemon's notion of now (see clock.c). */
#ifndef VANTHU_CLOCK_H
#define VANTHU_CLOCK_H

#include <stddef.h>
#include <time.h>

/* Vietnam's offset from UTC: +7 all year, no daylight saving. */
#define CLOCK_VN_OFFSET (7 * 3600)

/*
 * Reads VANTHU_FAKE_NOW ("YYYY-MM-DDTHH:MM:SS", Vietnam time) in test builds
 * only (compiled with -DVANTHU_TEST_CLOCK): the clock then starts there and
 * runs at the normal rate. A production build ignores it. 0, or -1 when the
 * variable is set but malformed.
 */
int clock_init(void);
/* Now, UTC. */
void clock_now(struct timespec *ts);
/* "2026-11-22T08:36:26.123Z" */
void clock_iso_utc(char *out, size_t len);
/* Now in Vietnam's local time: "2026-12-05 09:30:00" (the edXML timestamps). */
void clock_vn_stamp(char *out, size_t len);
/* Today in Vietnam: year, month (1-12), day. */
void clock_today_vn(int *year, int *month, int *day);
/* The UTC instant of midnight, Vietnam time, of a day (for file timestamps). */
time_t clock_vn_midnight(int year, int month, int day);
/* Whether the fake clock is in use (for the log). */
int clock_is_fake(void);

#endif
