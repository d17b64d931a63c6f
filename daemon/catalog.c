/*
 * catalog.c: everything vanthud reads from the workflows folder and the
 * templates folder, and the office's own files beside them ([paths] units
 * and calendar): the registry of units, the report and round schemas,
 * the document kinds, the DOCX templates and the working calendar. They are
 * loaded as one unit, checked against each other (every kind's template is
 * there), and replaced as one unit on SIGHUP; a catalog in use by a batch
 * of intake lives until that batch ends (a reference count).
 */
#include "catalog.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docdata.h"
#include "xmlin.h"

static void catalog_free(struct catalog *cat);


const struct render_template *catalog_template(const struct catalog *cat, const char *name)
{
	for (size_t i = 0; cat && i < cat->ntemplates; i++)
		if (strcmp(cat->templates[i].name, name) == 0)
			return cat->templates[i].tpl;
	return NULL;
}

/* Every NAME.docx of the templates folder, each parsed once here. 0, -1, or -2: no folder. */
static int load_templates(const char *dir, struct catalog *cat, struct diag_list *errs)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int rc = 0;

	if (d == NULL) {
		diag_add(errs, dir, 0, "không đọc được thư mục mẫu: %s", diag_strerror(errno));
		return -2;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char path[PATH_MAX];
		struct render_template *t = NULL;
		if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".docx") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		/* every tag is checked against the fields of the kinds that use the template */
		char name[NAME_MAX + 1], label[512];
		snprintf(name, sizeof(name), "%.*s", (int)(n - 5), de->d_name);
		json_t *fields = docdata_fields_for(cat->wf, name, label, sizeof(label));
		int lrc = render_load_fields(path, fields, label, &t, errs);
		json_decref(fields);
		if (lrc != 0) {
			rc = -1;
			continue;
		}
		struct catalog_template *nt = realloc(cat->templates,
		    (cat->ntemplates + 1) * sizeof(*nt));
		if (nt == NULL) {
			render_free(t);
			rc = -1;
			continue;
		}
		cat->templates = nt;
		nt[cat->ntemplates].name = strndup(de->d_name, n - 5);
		nt[cat->ntemplates].tpl = t;
		cat->ntemplates++;
	}
	closedir(d);
	return rc;
}

int catalog_load(const struct config *cfg, struct catalog **out, struct diag_list *errs)
{
	char units_xml[PATH_MAX], units_xsd[PATH_MAX], path[PATH_MAX], cal[PATH_MAX];
	struct catalog *cat = calloc(1, sizeof(*cat));
	int rc = 0, tpl_ok;

	*out = NULL;
	if (cat == NULL)
		return -1;
	/* each part on its own, so that one run names every problem of every part */
	config_units_path(cfg, units_xml, sizeof(units_xml));
	snprintf(units_xsd, sizeof(units_xsd), "%s/units.xsd", cfg->workflows);
	if (units_load(units_xml, units_xsd, &cat->units, errs) != 0)
		rc = -1;
	snprintf(path, sizeof(path), "%s/bao-cao/schema.xsd", cfg->workflows);
	if (xmlin_schema_load(path, &cat->report_schema, errs) != 0)
		rc = -1;
	if (workflows_load(cfg->workflows, &cat->wf, errs) != 0)
		rc = -1;
	tpl_ok = 1;
	switch (load_templates(cfg->templates, cat, errs)) {
	case 0: break;
	case -2: tpl_ok = 0; rc = -1; break;
	default: rc = -1; break;
	}
	snprintf(path, sizeof(path), "%s/dot-bao-cao/schema.xsd", cfg->workflows);
	if (xmlin_schema_load(path, &cat->round_schema, errs) != 0)
		rc = -1;
	config_calendar_path(cfg, cal, sizeof(cal));
	snprintf(path, sizeof(path), "%s/calendar/calendar.xsd", cfg->workflows);
	if (calendar_load_from(cal, path, &cat->cal, errs) != 0)
		rc = -1;
	/* a folder that could not be read has been named already; its missing files are not news */
	for (size_t i = 0; tpl_ok && cat->wf != NULL && i < cat->wf->nkinds; i++) {
		const struct wf_kind *k = &cat->wf->kinds[i];
		if (catalog_template(cat, k->template_name) == NULL) {
			diag_add(errs, cfg->templates, 0, "loại văn bản \"%s\" cần mẫu %s.docx, mẫu này "
			    "không có ở đây (hoặc không nạp được)", k->kind, k->template_name);
			rc = -1;
		}
		if (k->party_template && catalog_template(cat, k->party_template) == NULL) {
			diag_add(errs, cfg->templates, 0, "loại văn bản \"%s\" cần mẫu của Đảng %s.docx, "
			    "mẫu này không có ở đây (hoặc không nạp được)", k->kind, k->party_template);
			rc = -1;
		}
	}
	if (rc != 0) {
		catalog_free(cat);
		return -1;
	}
	cat->refs = 1;
	*out = cat;
	return 0;
}

struct catalog *catalog_ref(struct catalog *cat)
{
	if (cat != NULL)
		cat->refs++;
	return cat;
}

void catalog_unref(struct catalog *cat)
{
	if (cat != NULL && --cat->refs == 0)
		catalog_free(cat);
}

static void catalog_free(struct catalog *cat)
{
	if (cat == NULL)
		return;
	units_free(cat->units);
	xmlin_schema_free(cat->report_schema);
	workflows_free(cat->wf);
	for (size_t i = 0; i < cat->ntemplates; i++) {
		free(cat->templates[i].name);
		render_free(cat->templates[i].tpl);
	}
	free(cat->templates);
	xmlin_schema_free(cat->round_schema);
	calendar_free(cat->cal);
	free(cat);
}
