/* units.h: the registry of units that report to the office (see units.c). */
#ifndef VANTHU_UNITS_H
#define VANTHU_UNITS_H

#include <stddef.h>
#include <sys/types.h>

#include "diag.h"

struct unit_group {
	char *code;   /* owned */
	char *label;  /* owned, NFC */
};

struct unit {
	char *code;        /* owned */
	char *name;        /* owned, NFC: "Ủy ban nhân dân xã Phước Hội" */
	char *short_name;  /* owned, NFC: "UBND xã Phước Hội" */
	char *id;          /* owned: mã định danh, or NULL */
	size_t group;      /* index into groups */
	char *unix_group;  /* owned, or NULL: the Unix group its folders are kept for */
	gid_t gid;         /* that group's id; (gid_t)-1 when none */
};

struct units {
	struct unit_group *groups; /* owned, in file order (the Nơi nhận order) */
	size_t ngroups;
	struct unit *units;        /* owned, in file order */
	size_t nunits;
	size_t *by_name;           /* owned: indices in Vietnamese collation order of name */
	const struct unit **by_code; /* owned array (pointing into units): byte order of code */
};

/* Loads units.xml, validated against units.xsd beside it. 0, or -1 with errs. */
int units_load(const char *xml_path, const char *xsd_path, struct units **out,
    struct diag_list *errs);
const struct unit *units_find(const struct units *u, const char *code);
void units_free(struct units *u);

#endif
