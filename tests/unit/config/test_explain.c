/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests of config_explain: the operator's one-line answer to "what does this VPC do with this
 * name". */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/config/config.h"

static char *explain(const char *vpc, const char *name, int *rc)
{
	struct config_errors errs = {0};
	struct config *cfg = config_load(EXAMPLES_DIR "/seed.yaml", &errs);
	cr_assert_not_null(cfg);
	struct config_tables *tables = config_compile(cfg, MATCH_ENGINE_SUFFIX, &errs);
	cr_assert_not_null(tables);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	*rc = config_explain(cfg, tables, vpc, name, out);
	fclose(out);
	config_tables_free(tables);
	config_free(cfg);
	config_errors_free(&errs);
	return text;
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
