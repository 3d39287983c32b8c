/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests of the `vpcdnsd --check` summary: it counts what the seed config holds. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/config/config.h"

Test(config_summary, counts_what_the_seed_holds)
{
	struct config_errors errs = {0};
	struct config *cfg = config_load(EXAMPLES_DIR "/seed.yaml", &errs);
	cr_assert_not_null(cfg);
	struct config_tables *tables = config_compile(cfg, MATCH_ENGINE_SUFFIX, &errs);
	cr_assert_not_null(tables);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	config_summary_print(cfg, tables, out);
	fclose(out);
	static const char *const lines[] = {
	    "/seed.yaml: OK\n",
	    "\n  region ap-southeast-2, account 592752082067\n",
	    "\n  interfaces 1, VPCs 1, endpoints 2 (1 inbound, 1 outbound, 4 addresses)\n",
	    "\n  rules 3: forward 1, system 1, delegate 1; associations 3\n",
	    "\n  hosted zones 1 (7 records, 1 delegation); associations 1\n",
	    "\n  auto-defined rules 25 (forward 3, reverse 22)\n",
	    "\n  tables: 1 VPC, 30 entries, ",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		cr_expect_not_null(strstr(text, lines[i]), "missing %s in:\n%s", lines[i], text);
	cr_expect_not_null(strstr(text, " (suffix engine)\n"));
	free(text);
	config_tables_free(tables);
	config_free(cfg);
}
