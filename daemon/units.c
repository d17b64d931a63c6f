/*
 * units.c: the units registry (workflows/units.xml): who may report, under
 * which code, in which group. Loaded at start and on SIGHUP; read-only once
 * loaded, so the intake worker and the control socket share it.
 */
#include "units.h"

#include <grp.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "vnfmt.h"
#include "xmlin.h"

#define UNITS_NS "urn:vanthu:units:1"

static int cmp_code(const void *a, const void *b)
{
	const struct unit *x = *(const struct unit *const *)a, *y = *(const struct unit *const *)b;

	return strcmp(x->code, y->code);
}

int units_load(const char *xml_path, const char *xsd_path, struct units **out,
    struct diag_list *errs)
{
	struct units *u = NULL;
	xmlSchemaPtr schema = NULL;
	xmlDocPtr doc = NULL;
	char *buf = NULL;
	size_t len = 0, ng = 0, nu = 0;
	const char **names = NULL;
	int rc = -1;

	*out = NULL;
	if (xmlin_schema_load(xsd_path, &schema, errs) != 0)
		goto out;
	if (xmlin_read_file(xml_path, 16 * 1024 * 1024, &buf, &len, errs) != 0)
		goto out;
	if (xmlin_parse(buf, len, xml_path, &doc, errs) != 0 ||
	    xmlin_validate(schema, doc, xml_path, errs) != 0)
		goto out;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		goto nomem;
	for (xmlNodePtr n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
		if (xmlin_is(n, UNITS_NS, "group"))
			ng++;
		else if (xmlin_is(n, UNITS_NS, "unit"))
			nu++;
	}
	u->groups = calloc(ng, sizeof(*u->groups));
	u->units = calloc(nu, sizeof(*u->units));
	u->by_name = calloc(nu, sizeof(size_t));
	u->by_code = calloc(nu, sizeof(*u->by_code));
	names = calloc(nu, sizeof(*names));
	if (!u->groups || !u->units || !u->by_name || !u->by_code || !names)
		goto nomem;
	for (xmlNodePtr n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
		if (xmlin_is(n, UNITS_NS, "group")) {
			struct unit_group *g = &u->groups[u->ngroups++];
			g->code = xmlin_attr(n, "code");
			g->label = xmlin_attr(n, "label");
			if (!g->code || !g->label)
				goto nomem;
		} else if (xmlin_is(n, UNITS_NS, "unit")) {
			struct unit *e = &u->units[u->nunits++];
			char *group = xmlin_attr(n, "group");
			e->code = xmlin_attr(n, "code");
			e->id = xmlin_attr(n, "id");
			e->gid = (gid_t)-1;
			if (xmlHasProp(n, (const xmlChar *)"unix-group")) {
				struct group gr, *grp = NULL;
				char gbuf[4096];
				e->unix_group = xmlin_attr(n, "unix-group");
				if (e->unix_group == NULL)
					goto nomem;
				if (getgrnam_r(e->unix_group, &gr, gbuf, sizeof(gbuf), &grp) != 0 ||
				    grp == NULL) {
					diag_add(errs, xml_path, (int)xmlGetLineNo(n), "đơn vị %s: không có "
					    "nhóm Unix \"%s\" (tạo bằng groupadd, xem spool/README.md)",
					    e->code ? e->code : "?", e->unix_group);
					goto out;
				}
				e->gid = grp->gr_gid;
			}
			for (xmlNodePtr c = n->children; c; c = c->next) {
				if (xmlin_is(c, UNITS_NS, "name"))
					e->name = xmlin_text(c);
				else if (xmlin_is(c, UNITS_NS, "short"))
					e->short_name = xmlin_text(c);
			}
			if (!group || !e->code || !e->name || !e->short_name) {
				free(group);
				goto nomem;
			}
			/* the schema's keyref guarantees the group exists */
			for (size_t i = 0; i < u->ngroups; i++)
				if (strcmp(u->groups[i].code, group) == 0)
					e->group = i;
			free(group);
		}
	}
	for (size_t i = 0; i < u->nunits; i++) {
		names[i] = u->units[i].name;
		u->by_code[i] = &u->units[i];
	}
	if (vnfmt_sort(names, u->nunits, u->by_name) != VNFMT_OK)
		goto nomem;
	qsort(u->by_code, u->nunits, sizeof(*u->by_code), cmp_code);
	*out = u;
	u = NULL;
	rc = 0;
	goto out;
nomem:
	diag_add(errs, xml_path, 0, "hết bộ nhớ, hoặc văn bản không phải UTF-8 hợp lệ");
out:
	free(names);
	units_free(u);
	xmlFreeDoc(doc);
	free(buf);
	xmlin_schema_free(schema);
	return rc;
}

const struct unit *units_find(const struct units *u, const char *code)
{
	size_t lo = 0, hi = u->nunits;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct unit *e = u->by_code[mid];
		int c = strcmp(code, e->code);
		if (c == 0)
			return e;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void units_free(struct units *u)
{
	if (u == NULL)
		return;
	for (size_t i = 0; i < u->ngroups; i++) {
		free(u->groups[i].code);
		free(u->groups[i].label);
	}
	for (size_t i = 0; i < u->nunits; i++) {
		free(u->units[i].code);
		free(u->units[i].name);
		free(u->units[i].short_name);
		free(u->units[i].id);
		free(u->units[i].unix_group);
	}
	free(u->groups);
	free(u->units);
	free(u->by_name);
	free(u->by_code);
	free(u);
}
