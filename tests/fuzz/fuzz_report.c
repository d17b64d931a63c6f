/*
 * fuzz_report.c: libFuzzer target owning the path of an XML file dropped in
 * a unit's folder: xmlin_parse (hardened parse from memory), xmlin_validate
 * against the real workflows/bao-cao/schema.xsd, report_from_doc (meaning
 * checks against the real workflows/units.xml), and the receipt the unit
 * reads back (receipt_errors_json, receipt_xml, receipt_text). The input is
 * the file's bytes, as they would sit in spool/incoming/UNIT/.
 */
#include <jansson.h>
#include <libxml/tree.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"
#include "receipt.h"
#include "report.h"
#include "units.h"
#include "xmlin.h"

#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct units *units;
static xmlSchemaPtr schema;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[PATH_MAX], xml[PATH_MAX + 64], xsd[PATH_MAX + 64], rxsd[PATH_MAX + 64];
	struct diag_list errs;

	(void)argc; (void)argv;
	xmlin_init();
	diag_init(&errs);
	if (fuzz_srcdir(dir, sizeof(dir)) != 0)
		abort();
	fuzz_path(xml, sizeof(xml), dir, "workflows/units.xml");
	fuzz_path(xsd, sizeof(xsd), dir, "workflows/units.xsd");
	fuzz_path(rxsd, sizeof(rxsd), dir, "workflows/bao-cao/schema.xsd");
	if (units_load(xml, xsd, &units, &errs) != 0 ||
	    xmlin_schema_load(rxsd, &schema, &errs) != 0) {
		diag_print(&errs, stderr);
		abort();
	}
	diag_free(&errs);
	return 0;
}

/* The receipt of one input, built as the intake builds it; the text is discarded. */
static void receipt_of(const struct report *r, const struct diag_list *errs, size_t size)
{
	struct receipt_info ri = {
		.id = 1, .file = "bao-cao.xml", .folder = "", .received_at = "2026-11-22T03:00:00Z",
		.outcome = r ? "accepted" : "rejected",
		.sha256 = "0000000000000000000000000000000000000000000000000000000000000000",
		.size = (int64_t)size, .unit_code = r ? r->unit_code : NULL,
		.unit_name = r ? r->unit_name : NULL, .round_id = r ? r->round_id : NULL,
		.report_id = r ? 1 : 0, .errors = errs,
	};
	char *json = receipt_errors_json(errs);
	char *xml = receipt_xml(&ri);
	char *text = receipt_text(&ri);

	/* A receipt that is not JSON (or none) would break `vanthuctl rejected`. */
	if (json == NULL) {
		fprintf(stderr, "receipt_errors_json gave nothing\n");
		abort();
	} else {
		json_t *back = json_loads(json, 0, NULL);
		if (back == NULL || !json_is_array(back)) {
			fprintf(stderr, "receipt_errors_json wrote something that is not a JSON array\n");
			abort();
		}
		json_decref(back);
	}
	free(json);
	free(xml);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list errs;
	struct report *r = NULL;
	xmlDocPtr doc = NULL;

	diag_init(&errs);
	if (xmlin_parse((const char *)data, size, "bao-cao.xml", &doc, &errs) == 0 &&
	    xmlin_validate(schema, doc, "bao-cao.xml", &errs) == 0) {
		/* once from the top of incoming/, and the first time from a unit's folder */
		if (report_from_doc(doc, units, "", "bao-cao.xml", &r, &errs) == 0 && r != NULL) {
			struct report *r2 = NULL;
			if (report_from_doc(doc, units, r->unit_code, "bao-cao.xml", &r2, &errs) != 0) {
				fprintf(stderr, "a report accepted from the top is refused from its own folder\n");
				abort();
			}
			report_free(r2);
		}
	}
	receipt_of(r, &errs, size);
	report_free(r);
	xmlFreeDoc(doc);
	diag_free(&errs);
	return 0;
}
