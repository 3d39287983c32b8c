/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers the dp/match tests share: build one table per engine from a list of entries, and look a
 * name up in both, asserting the engines agree.
 */
#ifndef VPCDNS_TESTS_MATCH_UTIL_H
#define VPCDNS_TESTS_MATCH_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>

#include "dp/match/match.h"

struct test_entry {
	const char *domain;
	enum match_kind kind;
	uint32_t id;
};

#define ENTRIES(...)                                                                               \
	((const struct test_entry[]){__VA_ARGS__}),                                                \
	    (sizeof((const struct test_entry[]){__VA_ARGS__}) / sizeof(struct test_entry))

static inline struct match_table *build_table(enum match_engine engine, const struct test_entry *es,
					      size_t n)
{
	struct match_builder *b = match_builder_new(engine);
	char err[256];

	cr_assert_not_null(b);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(
		    match_builder_add(b, es[i].domain, es[i].kind, es[i].id, err, sizeof(err)), 0,
		    "adding %s failed: %s", es[i].domain, err);
	struct match_table *t = match_builder_build(b, err, sizeof(err));
	cr_assert_not_null(t, "build failed: %s", err);
	return t;
}

/* Looks query up in a table of each engine built from es; both must give kind, id and system_id. */
static inline void expect_match(const struct test_entry *es, size_t n, const char *query,
				enum match_kind kind, uint32_t id, uint32_t system_id)
{
	for (int e = 0; e < MATCH_ENGINE_COUNT; e++) {
		struct match_table *t = build_table((enum match_engine)e, es, n);
		struct match_result r;
		cr_assert_eq(match_lookup_text(t, query, &r), 0, "%s: lookup of %s failed",
			     match_engine_name((enum match_engine)e), query);
		cr_expect_eq(r.kind, kind, "%s: %s gave %s, expected %s",
			     match_engine_name((enum match_engine)e), query,
			     match_kind_name(r.kind), match_kind_name(kind));
		cr_expect_eq(r.id, id, "%s: %s gave id %u, expected %u",
			     match_engine_name((enum match_engine)e), query, r.id, id);
		cr_expect_eq(r.system_id, system_id, "%s: %s gave system_id %u, expected %u",
			     match_engine_name((enum match_engine)e), query, r.system_id,
			     system_id);
		match_table_free(t);
	}
}

#endif
