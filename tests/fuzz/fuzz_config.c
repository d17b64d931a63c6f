/*
 * fuzz_config.c: libFuzzer target owning vanthu.conf parsing: config_load_string
 * (inih over the embedded default, every key and value checked, every
 * problem listed) and, on a configuration it accepts, the lookups the daemon
 * makes of it (config_find_user, config_role_name). The input is the file's
 * bytes; config_load reads the file and hands them to the same function.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list diags;
	struct config cfg;

	diag_init(&diags);
	if (config_load_string("vanthu.conf", (const char *)data, size, &cfg, &diags) == 0) {
		/* An accepted configuration has no problems and every field the daemon reads. */
		if (diags.count != 0 || cfg.spool == NULL || cfg.database == NULL ||
		    cfg.socket == NULL || cfg.templates == NULL || cfg.workflows == NULL ||
		    cfg.nbodies == 0 || cfg.round_drafter == NULL) {
			fprintf(stderr, "config_load_string accepted a configuration it did not fill\n");
			abort();
		}
		for (int i = 0; i < ROLE_COUNT; i++)
			if (cfg.role_group[i] == NULL || config_role_name(i)[0] == '?')
				abort();
		/* every issuing body is whole, and the one its abbreviation finds */
		for (size_t i = 0; i < cfg.nbodies; i++) {
			const struct config_body *b = &cfg.bodies[i];
			if (b->abbrev == NULL || b->name == NULL || b->parent == NULL || b->place == NULL ||
			    config_find_body(&cfg, b->abbrev) != b ||
			    (b->kind == BODY_PARTY && (b->nterms == 0 || b->collective == NULL)))
				abort();
		}
		for (size_t i = 0; i < cfg.nusers; i++)
			if (config_find_user(&cfg, cfg.users[i].login) != &cfg.users[i])
				abort();
		(void)config_find_user(&cfg, "nobody-at-all");
		config_free(&cfg);
	} else if (diags.count == 0) {
		fprintf(stderr, "config_load_string refused a configuration without saying why\n");
		abort();
	}
	diag_free(&diags);
	return 0;
}
