/* calendar.h: working days (see calendar.c). */
#ifndef VANTHU_CALENDAR_H
#define VANTHU_CALENDAR_H

#include <stddef.h>

#include "diag.h"

/* A day as days since 1970-01-01 (UTC calendar arithmetic, no time zone). */
typedef long cal_day;

struct calendar;

/* Loads every workflows/calendar/YYYY.xml (validated by calendar.xsd). 0 or -1 with errs. */
int calendar_load(const char *dir, struct calendar **out, struct diag_list *errs);
/* The same, with the schema from xsd (the office's folder holds the years, not the schema). */
int calendar_load_from(const char *dir, const char *xsd, struct calendar **out,
    struct diag_list *errs);
void calendar_free(struct calendar *c);

cal_day cal_from_ymd(int y, int m, int d);
void cal_to_ymd(cal_day day, int *y, int *m, int *d);
/* "YYYY-MM-DD" to a day; -1 when not a real date. */
cal_day cal_parse(const char *iso);
void cal_format(cal_day day, char out[11]);

/* Why a day is not a working day ("Thứ Bảy", "Tết Nguyên đán …"), or NULL when it is one. */
const char *calendar_day_off(const struct calendar *c, cal_day day);
/* The n-th working day after day (n > 0), or before it (n < 0); day itself is not counted. */
cal_day calendar_add(const struct calendar *c, cal_day day, int n);
/* Whether the calendar has a file for the year (else only weekends count as days off). */
int calendar_has_year(const struct calendar *c, int year);

#endif
