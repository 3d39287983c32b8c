/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/match precedence: one test per rule of BEHAVIOUR.md "Rules", each run against both engines.
 */
#include <string.h>

#include "match_test_util.h"

#define NONE MATCH_ID_NONE

Test(match_rules, rule_matches_its_domain_and_every_name_below)
{
	expect_match(ENTRIES({"acme.example.com", MATCH_FORWARD, 1}), "acme.example.com",
		     MATCH_FORWARD, 1, NONE);
	expect_match(ENTRIES({"acme.example.com", MATCH_FORWARD, 1}), "zenith.acme.example.com",
		     MATCH_FORWARD, 1, NONE);
	expect_match(ENTRIES({"acme.example.com", MATCH_FORWARD, 1}),
		     "a.b.c.zenith.acme.example.com", MATCH_FORWARD, 1, NONE);
}

Test(match_rules, rule_does_not_match_its_parent_nor_a_name_ending_in_the_same_text)
{
	expect_match(ENTRIES({"acme.example.com", MATCH_FORWARD, 1}), "example.com",
		     MATCH_RECURSIVE, NONE, NONE);
	expect_match(ENTRIES({"acme.example.com", MATCH_FORWARD, 1}), "xacme.example.com",
		     MATCH_RECURSIVE, NONE, NONE);
	expect_match(ENTRIES({"acme.example.com", MATCH_FORWARD, 1}), "acme.example.co",
		     MATCH_RECURSIVE, NONE, NONE);
}

Test(match_rules, most_specific_domain_wins)
{
	expect_match(ENTRIES({"example.com", MATCH_FORWARD, 1},
			     {"acme.example.com", MATCH_FORWARD, 2}, {"com", MATCH_FORWARD, 3}),
		     "www.acme.example.com", MATCH_FORWARD, 2, NONE);
	expect_match(ENTRIES({"example.com", MATCH_FORWARD, 1},
			     {"acme.example.com", MATCH_FORWARD, 2}, {"com", MATCH_FORWARD, 3}),
		     "www.example.com", MATCH_FORWARD, 1, NONE);
	expect_match(ENTRIES({"example.com", MATCH_FORWARD, 1},
			     {"acme.example.com", MATCH_FORWARD, 2}, {"com", MATCH_FORWARD, 3}),
		     "other.com", MATCH_FORWARD, 3, NONE);
}

Test(match_rules, system_rule_takes_subdomain_back_from_parent_forward_to_recursive)
{
	expect_match(
	    ENTRIES({"onprem.com", MATCH_FORWARD, 1}, {"acme.onprem.com", MATCH_SYSTEM, 2}),
	    "www.acme.onprem.com", MATCH_RECURSIVE, NONE, 2);
	expect_match(
	    ENTRIES({"onprem.com", MATCH_FORWARD, 1}, {"acme.onprem.com", MATCH_SYSTEM, 2}),
	    "www.onprem.com", MATCH_FORWARD, 1, NONE);
}

Test(match_rules, system_rule_falls_through_to_a_zone_or_auto_rule_above_it)
{
	expect_match(ENTRIES({"onprem.com", MATCH_FORWARD, 1}, {"onprem.com", MATCH_ZONE, 7},
			     {"acme.onprem.com", MATCH_SYSTEM, 2}),
		     "acme.onprem.com", MATCH_ZONE, 7, 2);
	expect_match(ENTRIES({"internal", MATCH_AUTO, 9}, {"x.internal", MATCH_FORWARD, 1},
			     {"y.x.internal", MATCH_SYSTEM, 2}),
		     "h.y.x.internal", MATCH_AUTO, 9, 2);
}

Test(match_rules, system_rule_falls_through_to_a_zone_at_its_own_name)
{
	expect_match(ENTRIES({"corp.example", MATCH_FORWARD, 1},
			     {"a.corp.example", MATCH_SYSTEM, 2},
			     {"a.corp.example", MATCH_ZONE, 3}),
		     "h.a.corp.example", MATCH_ZONE, 3, 2);
}

Test(match_rules, system_rule_skips_every_less_specific_custom_rule)
{
	expect_match(ENTRIES({".", MATCH_FORWARD, 1}, {"example.com", MATCH_DELEGATE, 2},
			     {"a.example.com", MATCH_FORWARD, 3},
			     {"b.a.example.com", MATCH_SYSTEM, 4}),
		     "c.b.a.example.com", MATCH_RECURSIVE, NONE, 4);
}

Test(match_rules, more_specific_rule_below_a_system_rule_still_wins)
{
	expect_match(
	    ENTRIES({"acme.onprem.com", MATCH_SYSTEM, 2}, {"db.acme.onprem.com", MATCH_FORWARD, 3}),
	    "x.db.acme.onprem.com", MATCH_FORWARD, 3, NONE);
}

Test(match_rules, rule_beats_private_hosted_zone_at_the_same_name)
{
	expect_match(ENTRIES({"corp.example", MATCH_ZONE, 5}, {"corp.example", MATCH_FORWARD, 1}),
		     "host.corp.example", MATCH_FORWARD, 1, NONE);
	expect_match(ENTRIES({"corp.example", MATCH_DELEGATE, 1}, {"corp.example", MATCH_ZONE, 5}),
		     "corp.example", MATCH_DELEGATE, 1, NONE);
}

Test(match_rules, more_specific_zone_beats_less_specific_rule)
{
	expect_match(ENTRIES({"example.com", MATCH_FORWARD, 1}, {"db.example.com", MATCH_ZONE, 5}),
		     "primary.db.example.com", MATCH_ZONE, 5, NONE);
	expect_match(ENTRIES({"example.com", MATCH_FORWARD, 1}, {"db.example.com", MATCH_ZONE, 5}),
		     "web.example.com", MATCH_FORWARD, 1, NONE);
}

Test(match_rules, zone_beats_auto_defined_rule_at_the_same_name)
{
	expect_match(ENTRIES({"ec2.internal", MATCH_AUTO, 8}, {"ec2.internal", MATCH_ZONE, 5}),
		     "ip-10-0-0-5.ec2.internal", MATCH_ZONE, 5, NONE);
}

Test(match_rules, custom_rule_beats_auto_defined_rule_at_the_same_name)
{
	expect_match(ENTRIES({"ec2.internal", MATCH_AUTO, 8}, {"ec2.internal", MATCH_FORWARD, 1}),
		     "ip-10-0-0-5.ec2.internal", MATCH_FORWARD, 1, NONE);
	expect_match(
	    ENTRIES({"10.in-addr.arpa", MATCH_AUTO, 8}, {"10.in-addr.arpa", MATCH_FORWARD, 1}),
	    "5.0.0.10.in-addr.arpa", MATCH_FORWARD, 1, NONE);
}

Test(match_rules, forward_rule_for_root_beats_builtin_recursive_rule)
{
	expect_match(ENTRIES({".", MATCH_FORWARD, 1}), "www.amazon.com", MATCH_FORWARD, 1, NONE);
	expect_match(ENTRIES({".", MATCH_FORWARD, 1}), ".", MATCH_FORWARD, 1, NONE);
}

Test(match_rules, forward_rule_for_root_loses_to_a_more_specific_auto_defined_rule)
{
	expect_match(ENTRIES({".", MATCH_FORWARD, 1}, {"ec2.internal", MATCH_AUTO, 8}),
		     "ip-10-0-0-5.ec2.internal", MATCH_AUTO, 8, NONE);
}

Test(match_rules, tld_rule_matches_every_name_in_the_tld)
{
	expect_match(ENTRIES({"com", MATCH_FORWARD, 1}), "com", MATCH_FORWARD, 1, NONE);
	expect_match(ENTRIES({"com", MATCH_FORWARD, 1}), "a.b.example.com", MATCH_FORWARD, 1, NONE);
	expect_match(ENTRIES({"com", MATCH_FORWARD, 1}), "example.net", MATCH_RECURSIVE, NONE,
		     NONE);
}

Test(match_rules, names_compare_case_insensitively)
{
	expect_match(ENTRIES({"Acme.EXAMPLE.com", MATCH_FORWARD, 1}), "wWw.aCME.example.COM",
		     MATCH_FORWARD, 1, NONE);
}

Test(match_rules, wire_lookup_folds_0x20_randomised_case_without_changing_the_packet)
{
	static const uint8_t query[] = "\3WwW\4aCmE\7ExAmPlE\3CoM";
	uint8_t copy[sizeof(query)];
	memcpy(copy, query, sizeof(query));
	for (int e = 0; e < MATCH_ENGINE_COUNT; e++) {
		struct match_table *t = build_table(
		    (enum match_engine)e, ENTRIES({"acme.example.com", MATCH_FORWARD, 1}));
		struct match_scratch *s = match_scratch_new();
		struct match_result r;
		char err[128];
		cr_assert_eq(match_scratch_fit(s, t, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(match_lookup(t, s, copy, sizeof(copy), &r), 0);
		cr_expect_eq(r.kind, MATCH_FORWARD);
		cr_expect_eq(r.id, 1);
		cr_expect_eq(r.labels, 3);
		cr_expect_arr_eq(copy, query, sizeof(query));
		match_scratch_free(s);
		match_table_free(t);
	}
}

Test(match_rules, trailing_dot_is_optional_in_rules_and_queries)
{
	expect_match(ENTRIES({"example.com.", MATCH_FORWARD, 1}), "www.example.com", MATCH_FORWARD,
		     1, NONE);
	expect_match(ENTRIES({"example.com", MATCH_FORWARD, 1}), "www.example.com.", MATCH_FORWARD,
		     1, NONE);
}

Test(match_rules, delegate_rule_under_a_zone_takes_its_subdomain)
{
	const struct test_entry es[] = {{"corp.example", MATCH_ZONE, 5},
					{"onprem.corp.example", MATCH_DELEGATE, 2}};
	expect_match(es, 2, "host.onprem.corp.example", MATCH_DELEGATE, 2, NONE);
	expect_match(es, 2, "onprem.corp.example", MATCH_DELEGATE, 2, NONE);
	expect_match(es, 2, "www.corp.example", MATCH_ZONE, 5, NONE);
}

Test(match_rules, wildcard_matches_only_names_strictly_below_its_domain)
{
	expect_match(ENTRIES({"*.example.com", MATCH_FORWARD, 1}), "www.example.com", MATCH_FORWARD,
		     1, NONE);
	expect_match(ENTRIES({"*.example.com", MATCH_FORWARD, 1}), "a.b.example.com", MATCH_FORWARD,
		     1, NONE);
	expect_match(ENTRIES({"*.example.com", MATCH_FORWARD, 1}), "example.com", MATCH_RECURSIVE,
		     NONE, NONE);
}

Test(match_rules, wildcard_ranks_one_label_above_its_domain)
{
	const struct test_entry es[] = {{"example.com", MATCH_FORWARD, 1},
					{"*.example.com", MATCH_FORWARD, 2}};
	expect_match(es, 2, "example.com", MATCH_FORWARD, 1, NONE);
	expect_match(es, 2, "www.example.com", MATCH_FORWARD, 2, NONE);
}

Test(match_rules, exact_domain_beats_wildcard_of_equal_label_count)
{
	const struct test_entry es[] = {{"*.example.com", MATCH_FORWARD, 1},
					{"db.example.com", MATCH_ZONE, 2}};
	expect_match(es, 2, "x.db.example.com", MATCH_ZONE, 2, NONE);
	expect_match(es, 2, "x.web.example.com", MATCH_FORWARD, 1, NONE);
}

Test(match_rules, wildcard_of_the_root_matches_every_name_but_the_root)
{
	const struct test_entry es[] = {{"*", MATCH_FORWARD, 1}};
	expect_match(es, 1, "com", MATCH_FORWARD, 1, NONE);
	expect_match(es, 1, ".", MATCH_RECURSIVE, NONE, NONE);
}

Test(match_rules, empty_table_answers_builtin_recursive_rule)
{
	expect_match(NULL, 0, "www.example.com", MATCH_RECURSIVE, NONE, NONE);
	expect_match(NULL, 0, ".", MATCH_RECURSIVE, NONE, NONE);
}

Test(match_rules, result_names_the_label_count_of_the_matched_domain)
{
	for (int e = 0; e < MATCH_ENGINE_COUNT; e++) {
		struct match_table *t =
		    build_table((enum match_engine)e, ENTRIES({"example.com", MATCH_ZONE, 1},
							      {"a.example.com", MATCH_SYSTEM, 2}));
		struct match_result r;
		cr_assert_eq(match_lookup_text(t, "x.a.example.com", &r), 0);
		cr_expect_eq(r.kind, MATCH_ZONE);
		cr_expect_eq(r.labels, 2, "the zone example.com has 2 labels, got %u", r.labels);
		cr_assert_eq(match_lookup_text(t, "nothing.org", &r), 0);
		cr_expect_eq(r.labels, 0);
		match_table_free(t);
	}
}

Test(match_rules, recursive_entry_for_root_gives_the_builtin_rule_an_id)
{
	expect_match(ENTRIES({".", MATCH_RECURSIVE, 42}), "example.org", MATCH_RECURSIVE, 42, NONE);
}

/* "a.a.a....": count one-octet labels, then the given tail. */
static void many_labels(char *out, unsigned count, const char *tail)
{
	out[0] = '\0';
	for (unsigned i = 0; i < count; i++)
		strcat(out, "a.");
	strcat(out, tail);
}

Test(match_rules, names_of_over_64_labels_find_shallow_and_deep_rules)
{
	char deep_rule[256], query[256], below_deep[256];
	many_labels(deep_rule, 70, "deep.example");
	many_labels(query, 100, "example");
	many_labels(below_deep, 100, "deep.example");
	const struct test_entry es[] = {{"example", MATCH_FORWARD, 1},
					{deep_rule, MATCH_ZONE, 2},
					{"*.deep.example", MATCH_AUTO, 3}};
	expect_match(es, 3, query, MATCH_FORWARD, 1, NONE);
	expect_match(es, 3, deep_rule, MATCH_ZONE, 2, NONE);
	expect_match(es, 3, below_deep, MATCH_ZONE, 2, NONE);
	many_labels(below_deep, 50, "deep.example");
	expect_match(es, 3, below_deep, MATCH_AUTO, 3, NONE);
}
