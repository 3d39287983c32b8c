/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests of what `vpcdnsd --check` prints: the summary (it counts what the seed config holds) and
 * the --lookup lines (config_explain: which rule, zone or auto-defined rule governs a name). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/config/config.h"

struct seed {
	struct config *cfg;
	struct config_tables *tables;
	struct config_errors errs;
};

static void load_seed(struct seed *s)
{
	*s = (struct seed){0};
	s->cfg = config_load(EXAMPLES_DIR "/seed.yaml", &s->errs);
	cr_assert_not_null(s->cfg);
	s->tables = config_compile(s->cfg, MATCH_ENGINE_SUFFIX, &s->errs);
	cr_assert_not_null(s->tables);
}

static void unload_seed(struct seed *s)
{
	config_tables_free(s->tables);
	config_free(s->cfg);
	config_errors_free(&s->errs);
}

static char *explain(const char *vpc, const char *name, int *rc)
{
	struct seed s;
	load_seed(&s);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	*rc = config_explain(s.cfg, s.tables, vpc, name, out);
	fclose(out);
	unload_seed(&s);
	return text;
}

Test(config_summary, counts_what_the_seed_holds)
{
	struct seed s;
	load_seed(&s);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	config_summary_print(s.cfg, s.tables, out);
	fclose(out);
	static const char *const lines[] = {
	    "/seed.yaml: OK\n",
	    "\n  region ap-southeast-2, account 592752082067\n",
	    "\n  interfaces 1, VPCs 1, endpoints 2 (1 inbound, 1 outbound, 4 addresses)\n",
	    "\n  rules 4: forward 1, system 1, delegate 2; associations 4\n",
	    "\n  hosted zones 1 (8 records, 2 delegations); associations 1\n",
	    "/scripts/lab.d/root.hints, from the kernel's choice of address; 1024 in flight, cache "
	    "64.0 MiB, timeout 4000 ms\n",
	    "\n  auto-defined rules 25 (forward 3, reverse 22)\n",
	    "\n  tables: 1 VPC, 31 entries, ",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		cr_expect_not_null(strstr(text, lines[i]), "missing %s in:\n%s", lines[i], text);
	cr_expect_not_null(strstr(text, " (suffix engine)\n"));
	free(text);
	unload_seed(&s);
}

Test(config_summary, shows_where_recursion_starts_and_leaves_from)
{
	struct config_errors errs = {0};
	struct config *cfg = config_load("good/recursion.yaml", &errs);
	cr_assert_not_null(cfg);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	config_summary_print(cfg, NULL, out);
	fclose(out);
	cr_expect_not_null(strstr(text, "\n  recursion: root good/root.hints, from 198.18.0.100 "
					"2001:db8::64 ports 50000-59999; 256 in flight, cache "
					"16.0 MiB, timeout 2500 ms\n"),
			   "%s", text);
	free(text);
	config_free(cfg);
	config_errors_free(&errs);
}

Test(config_explain, names_the_forward_rule_its_targets_and_endpoint)
{
	int rc;
	char *text = explain("vpc-1f1af679", "www.onprem.com", &rc);
	cr_assert_eq(rc, 0);
	cr_expect(strstr(text, "FORWARD rule rslvr-rr-5328a0899aa04d9c8 'onprem' (onprem.com)"),
		  "%s", text);
	cr_expect(
	    strstr(text, "-> 172.31.6.52:53, 172.31.36.253:53 via rslvr-out-bc4a94c901114c6ba"),
	    "%s", text);
	free(text);
}

Test(config_explain, says_which_system_rule_took_a_name_back)
{
	int rc;
	char *text = explain("vpc-1f1af679", "X.Acme.onprem.com.", &rc);
	cr_assert_eq(rc, 0);
	cr_expect(strstr(text, "the \".\" rule"), "%s", text);
	cr_expect(strstr(text, "system rule rslvr-rr-acme (acme.onprem.com) took it back"), "%s",
		  text);
	free(text);
}

Test(config_explain, names_zones_and_auto_defined_rules)
{
	int rc;
	char *zone = explain("vpc-1f1af679", "www.central.com", &rc);
	cr_expect(strstr(zone, "private hosted zone central.com"), "%s", zone);
	char *reverse = explain("vpc-1f1af679", "118.2.31.172.in-addr.arpa", &rc);
	cr_expect(strstr(reverse, "auto-defined reverse rule 31.172.in-addr.arpa"), "%s", reverse);
	free(zone);
	free(reverse);
}

Test(config_explain, refuses_an_unknown_vpc_and_a_bad_name)
{
	int rc;
	char *vpc = explain("vpc-nope", "www.onprem.com", &rc);
	cr_expect_eq(rc, -1);
	cr_expect(strstr(vpc, "no VPC 'vpc-nope'"), "%s", vpc);
	char *name = explain("vpc-1f1af679", "a..b", &rc);
	cr_expect_eq(rc, -1);
	cr_expect(strstr(name, "not a valid domain name"), "%s", name);
	free(vpc);
	free(name);
}
