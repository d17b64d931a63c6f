/*
 * calendar.c: working days. Saturdays and Sundays are off; the yearly files
 * in workflows/calendar/ add the national holidays (lunar Tết among them) and
 * the Saturdays the government turned into working days when it swapped days.
 * Deadlines given in working days are counted here, and `vanthuctl calendar
 * explain` shows day by day why a deadline falls where it does.
 */
#include "calendar.h"

#include <dirent.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmlin.h"

#define CAL_NS "urn:vanthu:calendar:1"

struct cal_entry {
	cal_day from, to;  /* inclusive */
	int workday;       /* a Saturday or Sunday that is worked */
	char *name;        /* owned */
};

struct calendar {
	struct cal_entry *e;  /* owned */
	size_t n;
	int years[64];
	size_t nyears;
};

/* Howard Hinnant's days-from-civil. */
cal_day cal_from_ymd(int y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void cal_to_ymd(cal_day z, int *y, int *m, int *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

cal_day cal_parse(const char *iso)
{
	int y, m, d, n = 0;
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (iso == NULL || strlen(iso) != 10 || iso[4] != '-' || iso[7] != '-' ||
	    sscanf(iso, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || m < 1 || m > 12 || d < 1)
		return -1;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[m - 1] + (m == 2 && leap))
		return -1;
	return cal_from_ymd(y, m, d);
}

void cal_format(cal_day day, char out[11])
{
	int y, m, d;

	cal_to_ymd(day, &y, &m, &d);
	snprintf(out, 11, "%04d-%02d-%02d", y % 10000, m, d);
}

static int weekday(cal_day day)
{
	/* 1970-01-01 was a Thursday: 0 = Monday ... 6 = Sunday */
	long w = (day + 3) % 7;
	return (int)(w < 0 ? w + 7 : w);
}

const char *calendar_day_off(const struct calendar *c, cal_day day)
{
	int wd = weekday(day);

	for (size_t i = 0; c && i < c->n; i++)
		if (c->e[i].workday && c->e[i].from == day)
			return NULL;
	for (size_t i = 0; c && i < c->n; i++)
		if (!c->e[i].workday && day >= c->e[i].from && day <= c->e[i].to)
			return c->e[i].name;
	if (wd == 5)
		return "Thứ Bảy";
	if (wd == 6)
		return "Chủ nhật";
	return NULL;
}

cal_day calendar_add(const struct calendar *c, cal_day day, int n)
{
	int step = n >= 0 ? 1 : -1;

	for (int left = n >= 0 ? n : -n; left > 0;) {
		day += step;
		if (calendar_day_off(c, day) == NULL)
			left--;
	}
	return day;
}

int calendar_has_year(const struct calendar *c, int year)
{
	for (size_t i = 0; c && i < c->nyears; i++)
		if (c->years[i] == year)
			return 1;
	return 0;
}

static int add_entry(struct calendar *c, cal_day from, cal_day to, int workday, const char *name)
{
	struct cal_entry *e = realloc(c->e, (c->n + 1) * sizeof(*e));

	if (e == NULL)
		return -1;
	c->e = e;
	e[c->n].from = from;
	e[c->n].to = to;
	e[c->n].workday = workday;
	e[c->n].name = strdup(name);
	if (e[c->n].name == NULL)
		return -1;
	c->n++;
	return 0;
}

static int load_year(struct calendar *c, const char *path, xmlSchemaPtr schema, struct diag_list *errs)
{
	xmlDocPtr doc = NULL;
	char *buf = NULL;
	size_t len = 0;
	int rc = -1;

	if (xmlin_read_file(path, 1024 * 1024, &buf, &len, errs) != 0 ||
	    xmlin_parse(buf, len, path, &doc, errs) != 0 || xmlin_validate(schema, doc, path, errs) != 0)
		goto out;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlChar *ys = xmlGetProp(root, (const xmlChar *)"year");
	int year = ys ? atoi((const char *)ys) : 0;
	xmlFree(ys);
	const char *base = strrchr(path, '/');
	if (base == NULL || atoi(base + 1) != year) {
		diag_add(errs, path, 0, "tên tệp phải là năm của nó: %d.xml", year);
		goto out;
	}
	if (c->nyears < 64)
		c->years[c->nyears++] = year;
	rc = 0;
	for (xmlNodePtr n = root->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		int workday = strcmp((const char *)n->name, "workday") == 0;
		xmlChar *from = xmlGetProp(n, (const xmlChar *)(workday ? "date" : "from"));
		xmlChar *to = xmlGetProp(n, (const xmlChar *)"to");
		xmlChar *name = xmlGetProp(n, (const xmlChar *)"name");
		cal_day f = cal_parse((const char *)from), t = to ? cal_parse((const char *)to) : f;
		int fy, fm, fd;
		if (f >= 0)
			cal_to_ymd(f, &fy, &fm, &fd);
		int ty = 0, tm2, td;
		if (t >= 0)
			cal_to_ymd(t, &ty, &tm2, &td);
		if (f < 0 || t < f || fy != year || ty != year) {
			diag_add(errs, path, (int)xmlGetLineNo(n), "\"%s\"%s%s không phải là ngày của năm %d%s",
			    (const char *)from, to ? " đến " : "", to ? (const char *)to : "", year,
			    t < f ? " (khoảng ngày kết thúc trước khi bắt đầu)" : "");
			rc = -1;
		} else if (workday && weekday(f) < 5) {
			diag_add(errs, path, (int)xmlGetLineNo(n), "ngày làm bù %s vốn đã là ngày làm việc trong tuần",
			    (const char *)from);
			rc = -1;
		} else if (add_entry(c, f, t, workday, (const char *)name) != 0) {
			rc = -1;
		}
		xmlFree(from);
		xmlFree(to);
		xmlFree(name);
	}
out:
	xmlFreeDoc(doc);
	free(buf);
	return rc;
}

int calendar_load(const char *dir, struct calendar **out, struct diag_list *errs)
{
	char xsd[PATH_MAX];

	snprintf(xsd, sizeof(xsd), "%s/calendar.xsd", dir);
	return calendar_load_from(dir, xsd, out, errs);
}

int calendar_load_from(const char *dir, const char *xsd, struct calendar **out,
    struct diag_list *errs)
{
	char path[PATH_MAX];
	xmlSchemaPtr schema = NULL;
	struct calendar *c = calloc(1, sizeof(*c));
	struct dirent *de;
	DIR *d;
	int rc = 0;

	*out = NULL;
	if (c == NULL)
		return -1;
	if (xmlin_schema_load(xsd, &schema, errs) != 0) {
		calendar_free(c);
		return -1;
	}
	d = opendir(dir);
	if (d == NULL) {
		diag_add(errs, dir, 0, "không đọc được thư mục lịch làm việc");
		rc = -1;
	}
	while (d && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n != 8 || strcmp(de->d_name + 4, ".xml") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (load_year(c, path, schema, errs) != 0)
			rc = -1;
	}
	if (d)
		closedir(d);
	xmlin_schema_free(schema);
	if (rc != 0) {
		calendar_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void calendar_free(struct calendar *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].name);
	free(c->e);
	free(c);
}
