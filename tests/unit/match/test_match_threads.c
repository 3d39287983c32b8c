/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/match under concurrent readers: several threads look names up in one table at once, each with
 * its own scratch, and must get exactly what one thread got alone.
 */
#include <pthread.h>
#include <stdio.h>

#include "match_test_util.h"

#define THREADS 4
#define NAMES	4000
#define ROUNDS	5

struct reader {
	const struct match_table *table;
	const uint8_t (*wires)[64];
	const size_t *lens;
	const struct match_result *expected;
	size_t mismatches;
	int failures;
};

static void *read_table(void *arg)
{
	struct reader *r = arg;
	struct match_scratch *s = match_scratch_new();
	char err[128];

	if (!s || match_scratch_fit(s, r->table, err, sizeof(err)) < 0) {
		r->failures++;
		match_scratch_free(s);
		return NULL;
	}
	for (int round = 0; round < ROUNDS; round++)
		for (size_t i = 0; i < NAMES; i++) {
			struct match_result got;
			if (match_lookup(r->table, s, r->wires[i], r->lens[i], &got) != MATCH_OK)
				r->failures++;
			else if (got.kind != r->expected[i].kind || got.id != r->expected[i].id ||
				 got.system_id != r->expected[i].system_id)
				r->mismatches++;
		}
	match_scratch_free(s);
	return NULL;
}

/* Name i: "h<i % 7>.s<i % 45>.D<i % 300>.example", below the rules on d, some s.d and example. */
static size_t name_wire(size_t i, uint8_t *wire)
{
	char text[64];
	size_t at = 0;
	snprintf(text, sizeof(text), "h%zu.s%zu.D%zu.example", i % 7, i % 45, i % 300);
	for (char *label = text; label;) {
		char *dot = strchr(label, '.');
		size_t n = dot ? (size_t)(dot - label) : strlen(label);
		wire[at++] = (uint8_t)n;
		memcpy(wire + at, label, n);
		at += n;
		label = dot ? dot + 1 : NULL;
	}
	wire[at++] = 0;
	return at;
}

Test(match_threads, concurrent_readers_of_one_table_get_single_thread_answers, .timeout = 60)
{
	static uint8_t wires[NAMES][64];
	static size_t lens[NAMES];
	static struct match_result expected[NAMES];

	for (size_t i = 0; i < NAMES; i++)
		lens[i] = name_wire(i, wires[i]);
	for (int e = 0; e < MATCH_ENGINE_COUNT; e++) {
		struct match_builder *b = match_builder_new((enum match_engine)e);
		char domain[64], err[256];
		for (uint32_t d = 0; d < 300; d++) {
			snprintf(domain, sizeof(domain), "d%u.example", d);
			cr_assert_eq(match_builder_add(b, domain,
						       d % 3 ? MATCH_FORWARD : MATCH_ZONE, d, err,
						       sizeof(err)),
				     0, "%s", err);
			snprintf(domain, sizeof(domain), "s%u.d%u.example", d % 50, d);
			cr_assert_eq(
			    match_builder_add(b, domain, MATCH_SYSTEM, 1000 + d, err, sizeof(err)),
			    0, "%s", err);
		}
		cr_assert_eq(match_builder_add(b, "example", MATCH_AUTO, 5000, err, sizeof(err)),
			     0);
		struct match_table *t = match_builder_build(b, err, sizeof(err));
		cr_assert_not_null(t, "%s", err);
		struct match_scratch *s = match_scratch_new();
		cr_assert_eq(match_scratch_fit(s, t, err, sizeof(err)), 0, "%s", err);
		size_t after_system = 0;
		for (size_t i = 0; i < NAMES; i++) {
			cr_assert_eq(match_lookup(t, s, wires[i], lens[i], &expected[i]), MATCH_OK);
			after_system += expected[i].system_id != MATCH_ID_NONE;
		}
		cr_assert(after_system > 0 && after_system < NAMES, "%zu names after a SYSTEM rule",
			  after_system);
		match_scratch_free(s);

		pthread_t threads[THREADS];
		struct reader readers[THREADS];
		for (int k = 0; k < THREADS; k++) {
			readers[k] = (struct reader){.table = t,
						     .wires = (const uint8_t(*)[64])wires,
						     .lens = lens,
						     .expected = expected};
			cr_assert_eq(pthread_create(&threads[k], NULL, read_table, &readers[k]), 0);
		}
		for (int k = 0; k < THREADS; k++) {
			pthread_join(threads[k], NULL);
			cr_expect_eq(readers[k].failures, 0, "%s: thread %d had failed lookups",
				     match_engine_name((enum match_engine)e), k);
			cr_expect_eq(
			    readers[k].mismatches, 0, "%s: thread %d got %zu other answers",
			    match_engine_name((enum match_engine)e), k, readers[k].mismatches);
		}
		match_table_free(t);
	}
}
