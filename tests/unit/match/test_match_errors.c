/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/match errors and contracts: what the builder refuses (with a sentence naming the domain), what
 * lookup refuses, scratch handling for Hyperscan tables, and the stats a table reports.
 */
#include <stdlib.h>
#include <string.h>

#include "match_test_util.h"

static int add_one(struct match_builder *b, const char *domain, enum match_kind kind, uint32_t id,
		   char *err, size_t errlen)
{
	err[0] = '\0';
	return match_builder_add(b, domain, kind, id, err, errlen);
}

Test(match_errors, second_custom_rule_for_a_domain_is_an_error_naming_it)
{
	struct match_builder *b = match_builder_new(MATCH_ENGINE_SUFFIX);
	char err[256];
	cr_assert_eq(add_one(b, "corp.example", MATCH_FORWARD, 1, err, sizeof(err)), 0);
	cr_expect_eq(add_one(b, "Corp.Example.", MATCH_FORWARD, 2, err, sizeof(err)), -1);
	cr_expect_not_null(strstr(err, "Corp.Example."), "message: %s", err);
	cr_expect_not_null(strstr(err, "second custom rule"), "message: %s", err);
	cr_expect_eq(add_one(b, "corp.example", MATCH_SYSTEM, 3, err, sizeof(err)), -1);
	cr_expect_not_null(strstr(err, "already has a FORWARD rule (id 1)"), "message: %s", err);
	match_builder_free(b);
}

Test(match_errors, second_zone_for_a_domain_is_an_error)
{
	struct match_builder *b = match_builder_new(MATCH_ENGINE_SUFFIX);
	char err[256];
	cr_assert_eq(add_one(b, "corp.example", MATCH_ZONE, 1, err, sizeof(err)), 0);
	cr_expect_eq(add_one(b, "corp.example", MATCH_ZONE, 2, err, sizeof(err)), -1);
	cr_expect_not_null(strstr(err, "private hosted zone"), "message: %s", err);
	match_builder_free(b);
}

Test(match_errors, rule_zone_and_auto_rule_may_share_a_domain_and_auto_repeats_are_ignored)
{
	struct match_builder *b = match_builder_new(MATCH_ENGINE_SUFFIX);
	char err[256];
	struct match_stats st;
	cr_expect_eq(add_one(b, "ec2.internal", MATCH_AUTO, 1, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(add_one(b, "ec2.internal", MATCH_AUTO, 2, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(add_one(b, "ec2.internal", MATCH_ZONE, 3, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(add_one(b, "ec2.internal", MATCH_FORWARD, 4, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(add_one(b, "*.ec2.internal", MATCH_FORWARD, 5, err, sizeof(err)), 0, "%s",
		     err);
	struct match_table *t = match_builder_build(b, err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	match_table_stats(t, &st);
	cr_expect_eq(st.entries, 5, "4 kept entries and the built-in \".\", got %zu", st.entries);
	cr_expect_eq(st.domains, 2, "ec2.internal (with its wildcard) and the root, got %zu",
		     st.domains);
	cr_expect_gt(st.bytes, 0);
	match_table_free(t);
}

Test(match_errors, rejects_label_over_63_octets)
{
	struct match_builder *b = match_builder_new(MATCH_ENGINE_SUFFIX);
	char err[512], domain[80];
	memset(domain, 'a', 64);
	strcpy(domain + 64, ".com");
	cr_expect_eq(add_one(b, domain, MATCH_FORWARD, 1, err, sizeof(err)), -1);
	cr_expect_not_null(strstr(err, "63"), "message: %s", err);
	domain[1] = '.'; /* now labels of 1 and 62 octets */
	cr_expect_eq(add_one(b, domain, MATCH_FORWARD, 1, err, sizeof(err)), 0, "%s", err);
	match_builder_free(b);
}

Test(match_errors, rejects_name_over_255_octets)
{
	struct match_builder *b = match_builder_new(MATCH_ENGINE_SUFFIX);
	char err[512], domain[300] = "";
	/* 63 labels of "abc" take 252 octets in wire form, with the root 253: fits. One more does
	 * not. */
	for (int i = 0; i < 63; i++)
		strcat(domain, i ? ".abc" : "abc");
	cr_expect_eq(add_one(b, domain, MATCH_FORWARD, 1, err, sizeof(err)), 0, "%s", err);
	strcat(domain, ".abc");
	cr_expect_eq(add_one(b, domain, MATCH_FORWARD, 2, err, sizeof(err)), -1);
	cr_expect_not_null(strstr(err, "255"), "message: %s", err);
	match_builder_free(b);
}

Test(match_errors, rejects_empty_labels)
{
	struct match_builder *b = match_builder_new(MATCH_ENGINE_SUFFIX);
	char err[256];
	const char *bad[] = {"a..b", ".a", "a.b..", "", "*..a"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(add_one(b, bad[i], MATCH_FORWARD, 1, err, sizeof(err)), -1,
			     "%s accepted", bad[i]);
		cr_expect_gt(strlen(err), 0, "no message for %s", bad[i]);
	}
	match_builder_free(b);
}

Test(match_errors, recursive_entry_for_a_domain_other_than_root_is_an_error)
{
	struct match_builder *b = match_builder_new(MATCH_ENGINE_SUFFIX);
	char err[256];
	cr_expect_eq(add_one(b, "example.com", MATCH_RECURSIVE, 1, err, sizeof(err)), -1);
	cr_expect_not_null(strstr(err, "example.com"), "message: %s", err);
	match_builder_free(b);
}

Test(match_errors, lookup_rejects_invalid_wire_names)
{
	struct match_table *tables[MATCH_ENGINE_COUNT];
	uint8_t long_label[70] = {64};
	uint8_t too_long[300];
	for (int e = 0; e < MATCH_ENGINE_COUNT; e++) {
		struct match_scratch *s = match_scratch_new();
		struct match_result r;
		char err[128];
		tables[e] = build_table((enum match_engine)e, ENTRIES({"com", MATCH_FORWARD, 1}));
		cr_assert_eq(match_scratch_fit(s, tables[e], err, sizeof(err)), 0, "%s", err);
		memset(long_label + 1, 'a', 64);
		cr_expect_eq(match_lookup(tables[e], s, long_label, sizeof(long_label), &r),
			     MATCH_BAD_NAME, "label of 64 octets");
		cr_expect_eq(match_lookup(tables[e], s, (const uint8_t *)"\3www\3com", 8, &r),
			     MATCH_BAD_NAME, "name without its root octet");
		for (int i = 0; i < 300; i += 2) {
			too_long[i] = 1;
			too_long[i + 1] = 'x';
		}
		too_long[298] = 0;
		cr_expect_eq(match_lookup(tables[e], s, too_long, sizeof(too_long), &r),
			     MATCH_BAD_NAME, "name over 255 octets");
		cr_expect_eq(match_lookup(tables[e], s, (const uint8_t *)"\3com", 5, &r), 0);
		cr_expect_eq(r.id, 1);
		match_scratch_free(s);
		match_table_free(tables[e]);
	}
}

Test(match_errors, hyperscan_lookup_without_a_fitted_scratch_fails_cleanly)
{
	struct match_table *t =
	    build_table(MATCH_ENGINE_HYPERSCAN, ENTRIES({"com", MATCH_FORWARD, 1}));
	struct match_scratch *s = match_scratch_new();
	struct match_result r;
	cr_expect_eq(match_lookup(t, NULL, (const uint8_t *)"\3com", 5, &r), MATCH_SCRATCH_UNFIT);
	cr_expect_eq(match_lookup(t, s, (const uint8_t *)"\3com", 5, &r), MATCH_SCRATCH_UNFIT);
	match_scratch_free(s);
	match_table_free(t);
}

Test(match_errors, one_scratch_fitted_to_two_tables_serves_both)
{
	struct match_table *a =
	    build_table(MATCH_ENGINE_HYPERSCAN, ENTRIES({"com", MATCH_FORWARD, 1}));
	struct match_table *b =
	    build_table(MATCH_ENGINE_HYPERSCAN,
			ENTRIES({"net", MATCH_ZONE, 2}, {"*.example.net", MATCH_DELEGATE, 3},
				{"org", MATCH_AUTO, 4}));
	struct match_scratch *s = match_scratch_new();
	struct match_result r;
	char err[128];
	cr_assert_eq(match_scratch_fit(s, a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(match_scratch_fit(s, b, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(match_lookup(a, s, (const uint8_t *)"\1x\3com", 7, &r), 0);
	cr_expect_eq(r.id, 1);
	cr_expect_eq(match_lookup(b, s, (const uint8_t *)"\1x\7example\3net", 15, &r), 0);
	cr_expect_eq(r.id, 3);
	match_scratch_free(s);
	match_table_free(a);
	match_table_free(b);
}

Test(match_errors, query_label_holding_a_dot_octet_matches_only_as_a_name_below)
{
	/* "\3a.b\7example\3com": the label "a.b" must not look like labels "a" and "b" to either
	 * engine. */
	static const uint8_t query[] = "\3a.b\7example\3com";
	for (int e = 0; e < MATCH_ENGINE_COUNT; e++) {
		struct match_table *t =
		    build_table((enum match_engine)e, ENTRIES({"b.example.com", MATCH_FORWARD, 1},
							      {"example.com", MATCH_ZONE, 2}));
		struct match_scratch *s = match_scratch_new();
		struct match_result r;
		char err[128];
		cr_assert_eq(match_scratch_fit(s, t, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(match_lookup(t, s, query, sizeof(query), &r), 0);
		cr_expect_eq(r.kind, MATCH_ZONE, "%s gave %s",
			     match_engine_name((enum match_engine)e), match_kind_name(r.kind));
		match_scratch_free(s);
		match_table_free(t);
	}
}

Test(match_errors, kind_and_engine_names_are_readable)
{
	cr_expect_str_eq(match_kind_name(MATCH_SYSTEM), "SYSTEM");
	cr_expect_str_eq(match_kind_name(MATCH_RECURSIVE), "RECURSIVE");
	cr_expect_str_eq(match_engine_name(MATCH_ENGINE_HYPERSCAN), "hyperscan");
}

Test(match_errors, burst_lookup_flags_each_invalid_name_and_fills_the_others)
{
	const uint8_t *names[3] = {(const uint8_t *)"\3com", (const uint8_t *)"\100com",
				   (const uint8_t *)"\1x\3net"};
	size_t lens[3] = {5, 5, 7};
	for (int e = 0; e < MATCH_ENGINE_COUNT; e++) {
		struct match_table *t =
		    build_table((enum match_engine)e,
				ENTRIES({"com", MATCH_FORWARD, 1}, {"net", MATCH_ZONE, 2}));
		struct match_scratch *s = match_scratch_new();
		struct match_result out[3];
		char err[128];
		cr_assert_eq(match_scratch_fit(s, t, err, sizeof(err)), 0, "%s", err);
		cr_expect_eq(match_lookup_burst(t, s, names, lens, 3, out), 2,
			     "only name 1 is invalid");
		cr_expect_eq(out[0].id, 1);
		cr_expect_eq(out[2].kind, MATCH_ZONE);
		cr_expect_eq(match_lookup_burst(t, s, names, lens, MATCH_BURST_MAX + 1, out),
			     ~0ULL);
		match_scratch_free(s);
		match_table_free(t);
	}
}

/* Octets off the wire may be anything: lookup must answer or refuse, and read only within len. */
Test(match_errors, lookup_of_random_octets_answers_or_refuses_within_the_buffer)
{
	uint64_t rng = 0x853c49e6748fea9bULL;
	size_t answered = 0, refused = 0;
	for (int e = 0; e < MATCH_ENGINE_COUNT; e++) {
		struct match_table *t =
		    build_table((enum match_engine)e,
				ENTRIES({"com", MATCH_FORWARD, 1}, {"*.a.com", MATCH_ZONE, 2},
					{".", MATCH_AUTO, 3}));
		struct match_scratch *s = match_scratch_new();
		char err[128];
		cr_assert_eq(match_scratch_fit(s, t, err, sizeof(err)), 0, "%s", err);
		for (int i = 0; i < 50000; i++) {
			size_t len;
			struct match_result r;
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			len = rng % 300;
			/* exactly len octets on the heap, so ASan sees any read past them */
			uint8_t *buf = malloc(len ? len : 1);
			for (size_t k = 0; k < len; k++) {
				rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
				/* mostly small length octets: some buffers are names */
				buf[k] = (uint8_t)(rng % 4 ? rng % 6 : rng >> 8);
			}
			int rc = match_lookup(t, s, buf, len, &r);
			cr_assert(rc == MATCH_OK || rc == MATCH_BAD_NAME, "lookup returned %d", rc);
			rc == MATCH_OK ? answered++ : refused++;
			free(buf);
		}
		match_scratch_free(s);
		match_table_free(t);
	}
	cr_expect_gt(answered, 1000, "only %zu random buffers were names", answered);
	cr_expect_gt(refused, 1000, "only %zu random buffers were refused", refused);
}
