/* testutil.h: what the cmocka suites share (include after cmocka.h). */
#ifndef VANTHU_TESTUTIL_H
#define VANTHU_TESTUTIL_H

#include "diag.h"
#include "xmlin.h"

/* Group setup and teardown for suites that parse XML. */
static inline int test_xml_setup(void **state)
{
	(void)state;
	xmlin_init();
	return 0;
}

static inline int test_xml_teardown(void **state)
{
	(void)state;
	xmlin_cleanup();
	return 0;
}

/* Every diagnostic, shown when an assertion about them fails. */
static inline void test_print_diags(const struct diag_list *d)
{
	for (size_t i = 0; i < d->count; i++)
		print_error("have %s:%d:%d [%s] %s\n", d->items[i].file, d->items[i].line,
		    d->items[i].column, d->items[i].code, d->items[i].message);
}

#endif
