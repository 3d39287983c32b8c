/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/match randomized cross-check: 100,000 random names against 100 random rule sets (every kind,
 * SYSTEM, wildcards, root rules, mixed case, trailing dots, dots inside query labels). Both engines
 * must agree with a naive reference that walks every entry and applies BEHAVIOUR.md's rules as
 * written.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "match_test_util.h"

#define RULE_SETS      100
#define NAMES_PER_SET  1000
#define MAX_ENTRIES    200
#define MAX_LABELS     7
#define LABEL_TEXT_MAX 12

/* Few labels, so that rules nest and collide often; "Ab" and "ab" are the same label. */
static const char *const vocabulary[] = {"com",	 "Example", "ab",      "AB",   "internal", "x",
					 "corp", "ec2",	    "in-addr", "arpa", "10",	   "www"};
#define VOCABULARY (sizeof(vocabulary) / sizeof(vocabulary[0]))

struct ref_entry {
	char labels[MAX_LABELS][LABEL_TEXT_MAX]; /* most specific first */
	unsigned n;
	bool wildcard;
	enum match_kind kind;
	uint32_t id;
};

struct ref_name {
	uint8_t labels[MAX_LABELS][LABEL_TEXT_MAX];
	uint8_t lens[MAX_LABELS];
	unsigned n;
};

static uint64_t rng_state;
static size_t seen_kind[MATCH_KIND_COUNT], seen_system, seen_dot_label;

static uint32_t rnd(uint32_t bound)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % bound);
}

static void random_entry(struct ref_entry *e, uint32_t id)
{
	static const enum match_kind kinds[] = {MATCH_FORWARD,	MATCH_FORWARD, MATCH_SYSTEM,
						MATCH_DELEGATE, MATCH_ZONE,    MATCH_ZONE,
						MATCH_AUTO};
	memset(e, 0, sizeof(*e));
	e->n = rnd(12) == 0 ? 0 : 1 + rnd(4);
	for (unsigned i = 0; i < e->n; i++)
		strcpy(e->labels[i], vocabulary[rnd(VOCABULARY)]);
	e->wildcard = rnd(5) == 0;
	e->kind = kinds[rnd(sizeof(kinds) / sizeof(kinds[0]))];
	e->id = id;
}

static void entry_text(const struct ref_entry *e, char *out)
{
	out[0] = '\0';
	if (e->wildcard)
		strcat(out, e->n ? "*." : "*");
	for (unsigned i = 0; i < e->n; i++) {
		strcat(out, e->labels[i]);
		if (i + 1 < e->n || rnd(2))
			strcat(out, ".");
	}
	if (!e->n && !e->wildcard)
		strcat(out, ".");
}

static void random_name(struct ref_name *q)
{
	q->n = rnd(MAX_LABELS);
	for (unsigned i = 0; i < q->n; i++) {
		const char *w = rnd(10) == 0 ? "zz" : vocabulary[rnd(VOCABULARY)];
		size_t len = strlen(w);
		memcpy(q->labels[i], w, len);
		for (size_t k = 0; k < len; k++) /* 0x20 randomisation as clients do */
			if (rnd(2))
				q->labels[i][k] ^= isalpha(w[k]) ? 0x20 : 0;
		if (rnd(50) == 0)
			q->labels[i][rnd((uint32_t)len)] = '.';
		q->lens[i] = (uint8_t)len;
	}
}

static size_t name_wire(const struct ref_name *q, uint8_t *wire)
{
	size_t at = 0;
	for (unsigned i = 0; i < q->n; i++) {
		wire[at++] = q->lens[i];
		memcpy(wire + at, q->labels[i], q->lens[i]);
		at += q->lens[i];
	}
	wire[at++] = 0;
	return at;
}

static bool label_equal(const char *rule, const uint8_t *label, uint8_t len)
{
	if (strlen(rule) != len)
		return false;
	for (uint8_t i = 0; i < len; i++)
		if (tolower((unsigned char)rule[i]) != tolower(label[i]))
			return false;
	return true;
}

/* The entry's domain is a suffix of the name (strictly, for a wildcard). */
static bool ref_matches(const struct ref_entry *e, const struct ref_name *q)
{
	if (e->n > q->n || (e->wildcard && e->n == q->n))
		return false;
	for (unsigned i = 0; i < e->n; i++)
		if (!label_equal(e->labels[e->n - 1 - i], q->labels[q->n - 1 - i],
				 q->lens[q->n - 1 - i]))
			return false;
	return true;
}

static unsigned ref_rank(const struct ref_entry *e)
{
	return e->wildcard ? 2 * (e->n + 1) : 2 * e->n + 1;
}

static bool is_custom(enum match_kind k)
{
	return k == MATCH_FORWARD || k == MATCH_SYSTEM || k == MATCH_DELEGATE;
}

/* The best remaining candidate by (rank, kind, order added), skipping custom rules once
 * skip_custom. */
static const struct ref_entry *ref_best(const struct ref_entry *es, size_t n,
					const struct ref_name *q, unsigned below_rank,
					bool skip_custom)
{
	const struct ref_entry *best = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct ref_entry *e = &es[i];
		if (!ref_matches(e, q) || ref_rank(e) > below_rank ||
		    (skip_custom && is_custom(e->kind)))
			continue;
		if (!best || ref_rank(e) > ref_rank(best) ||
		    (ref_rank(e) == ref_rank(best) && e->kind < best->kind))
			best = e;
	}
	return best;
}

static struct match_result ref_lookup(const struct ref_entry *es, size_t n,
				      const struct ref_name *q)
{
	struct match_result r = {
	    .kind = MATCH_RECURSIVE, .id = MATCH_ID_NONE, .labels = 0, .system_id = MATCH_ID_NONE};
	const struct ref_entry *best = ref_best(es, n, q, ~0u, false);
	if (best && best->kind == MATCH_SYSTEM) {
		r.system_id = best->id;
		best = ref_best(es, n, q, ref_rank(best), true);
	}
	if (best) {
		r.kind = best->kind;
		r.id = best->id;
		r.labels = (uint8_t)(best->n + best->wildcard);
	}
	return r;
}

static void check_one(struct match_table *const tables[], struct match_scratch *s,
		      const struct ref_entry *es, size_t n, const struct ref_name *q)
{
	uint8_t wire[300];
	size_t len = name_wire(q, wire);
	struct match_result want = ref_lookup(es, n, q);
	seen_kind[want.kind]++;
	seen_system += want.system_id != MATCH_ID_NONE;
	for (unsigned i = 0; i < q->n; i++)
		seen_dot_label += memchr(q->labels[i], '.', q->lens[i]) != NULL;
	for (int e = 0; e < MATCH_ENGINE_COUNT; e++) {
		struct match_result got;
		cr_assert_eq(match_lookup(tables[e], s, wire, len, &got), 0);
		if (got.kind != want.kind || got.id != want.id || got.system_id != want.system_id ||
		    got.labels != want.labels)
			cr_assert_fail(
			    "%s: name of %u labels (first \"%.*s\") gave %s id %u sys %u "
			    "labels %u; reference %s id %u sys %u labels %u",
			    match_engine_name((enum match_engine)e), q->n, q->n ? q->lens[0] : 0,
			    q->n ? (const char *)q->labels[0] : "", match_kind_name(got.kind),
			    got.id, got.system_id, got.labels, match_kind_name(want.kind), want.id,
			    want.system_id, want.labels);
	}
}

/* Names waiting to be looked up as one burst. */
struct burst {
	uint8_t wires[MATCH_BURST_MAX][300];
	const uint8_t *names[MATCH_BURST_MAX];
	size_t lens[MATCH_BURST_MAX];
	unsigned n;
};

/* Looks the burst up in each table at once and checks every result against a lookup alone. */
static void flush_burst(struct match_table *const tables[], struct match_scratch *s,
			struct burst *b)
{
	for (int e = 0; e < MATCH_ENGINE_COUNT; e++) {
		struct match_result burst[MATCH_BURST_MAX], one;
		cr_assert_eq(match_lookup_burst(tables[e], s, b->names, b->lens, b->n, burst), 0);
		for (unsigned i = 0; i < b->n; i++) {
			cr_assert_eq(match_lookup(tables[e], s, b->names[i], b->lens[i], &one), 0);
			cr_assert(burst[i].kind == one.kind && burst[i].id == one.id &&
				      burst[i].system_id == one.system_id &&
				      burst[i].labels == one.labels,
				  "%s: burst result %u differs from a lookup alone",
				  match_engine_name((enum match_engine)e), i);
		}
	}
	b->n = 0;
}

static void add_to_burst(struct match_table *const tables[], struct match_scratch *s,
			 struct burst *b, const struct ref_name *q)
{
	b->lens[b->n] = name_wire(q, b->wires[b->n]);
	b->names[b->n] = b->wires[b->n];
	if (++b->n == MATCH_BURST_MAX)
		flush_burst(tables, s, b);
}

/* Adds random entries to both builders; keeps in es those the builders accepted. */
static size_t random_rule_set(struct match_builder *const bs[], struct ref_entry *es)
{
	size_t kept = 0, want = 1 + rnd(MAX_ENTRIES);
	for (size_t i = 0; i < want; i++) {
		char text[128], err[256];
		int rc[MATCH_ENGINE_COUNT];
		random_entry(&es[kept], (uint32_t)i);
		entry_text(&es[kept], text);
		for (int e = 0; e < MATCH_ENGINE_COUNT; e++)
			rc[e] = match_builder_add(bs[e], text, es[kept].kind, es[kept].id, err,
						  sizeof(err));
		cr_assert_eq(rc[0], rc[1], "engines disagree on accepting %s", text);
		if (rc[0] == 0)
			kept++;
	}
	return kept;
}

Test(match_random, both_engines_agree_with_naive_reference_on_100000_names, .timeout = 120)
{
	static struct ref_entry es[MAX_ENTRIES];
	static struct burst burst;
	struct match_scratch *s = match_scratch_new();
	size_t names = 0;

	rng_state = 0x2545f4914f6cdd1dULL;
	for (int set = 0; set < RULE_SETS; set++) {
		struct match_builder *bs[MATCH_ENGINE_COUNT];
		struct match_table *ts[MATCH_ENGINE_COUNT];
		char err[256];
		for (int e = 0; e < MATCH_ENGINE_COUNT; e++)
			bs[e] = match_builder_new((enum match_engine)e);
		size_t n = random_rule_set(bs, es);
		for (int e = 0; e < MATCH_ENGINE_COUNT; e++) {
			ts[e] = match_builder_build(bs[e], err, sizeof(err));
			cr_assert_not_null(ts[e], "%s", err);
			cr_assert_eq(match_scratch_fit(s, ts[e], err, sizeof(err)), 0, "%s", err);
		}
		for (int i = 0; i < NAMES_PER_SET; i++, names++) {
			struct ref_name q;
			random_name(&q);
			check_one(ts, s, es, n, &q);
			add_to_burst(ts, s, &burst, &q);
		}
		flush_burst(ts, s, &burst);
		for (int e = 0; e < MATCH_ENGINE_COUNT; e++)
			match_table_free(ts[e]);
	}
	cr_expect_eq(names, 100000);
	for (int k = 0; k < MATCH_KIND_COUNT; k++) /* SYSTEM is never an answer, only system_id */
		if (k != MATCH_SYSTEM)
			cr_expect_gt(seen_kind[k], 1000,
				     "only %zu answers of kind %s: the sets miss a case",
				     seen_kind[k], match_kind_name((enum match_kind)k));
	cr_expect_gt(seen_system, 1000, "only %zu answers after a SYSTEM rule", seen_system);
	cr_expect_gt(seen_dot_label, 100, "only %zu names with a dot inside a label",
		     seen_dot_label);
	cr_log_info("answers by kind: FORWARD %zu SYSTEM %zu DELEGATE %zu ZONE %zu AUTO %zu "
		    "RECURSIVE %zu; after SYSTEM %zu",
		    seen_kind[0], seen_kind[1], seen_kind[2], seen_kind[3], seen_kind[4],
		    seen_kind[5], seen_system);
	match_scratch_free(s);
}

/* A table past the cache-resident size takes the grouped, prefetching burst path: same answers. */
Test(match_random, burst_on_a_big_table_agrees_with_single_lookups_and_reference, .timeout = 120)
{
	enum { BIG = 60000, NAMES = 20000, CHECKED = 300 };
	static struct ref_entry es[BIG];
	static struct burst burst;
	struct match_builder *bs[MATCH_ENGINE_COUNT] = {match_builder_new(MATCH_ENGINE_SUFFIX)};
	struct match_table *ts[MATCH_ENGINE_COUNT];
	size_t n = 0;
	char err[256];

	rng_state = 0x9e3779b97f4a7c15ULL;
	for (uint32_t i = 0; i < BIG; i++) {
		char text[128];
		random_entry(&es[n], i);
		for (unsigned k = 0; k < es[n].n; k++) /* a bigger vocabulary: numbered labels */
			snprintf(es[n].labels[k], LABEL_TEXT_MAX, "%s%u",
				 vocabulary[rnd(VOCABULARY)], rnd(40));
		entry_text(&es[n], text);
		n += match_builder_add(bs[0], text, es[n].kind, es[n].id, err, sizeof(err)) == 0;
	}
	ts[0] = match_builder_build(bs[0], err, sizeof(err));
	cr_assert_not_null(ts[0], "%s", err);
	struct match_stats st;
	match_table_stats(ts[0], &st);
	cr_assert_gt(st.domains, 32768,
		     "only %zu domains: under 65,536 slots a burst is only single lookups",
		     st.domains);
	ts[1] =
	    ts[0]; /* flush_burst checks every engine slot: both point at the big suffix table */
	for (int i = 0; i < NAMES; i++) {
		struct ref_name q;
		random_name(&q);
		for (unsigned k = 0; k < q.n; k++)
			if (rnd(2))
				q.lens[k] =
				    (uint8_t)snprintf((char *)q.labels[k], LABEL_TEXT_MAX, "%s%u",
						      vocabulary[rnd(VOCABULARY)], rnd(40));
		if (i < CHECKED) {
			struct match_table *one[MATCH_ENGINE_COUNT] = {ts[0], ts[0]};
			check_one(one, NULL, es, n, &q);
		}
		add_to_burst(ts, NULL, &burst, &q);
	}
	flush_burst(ts, NULL, &burst);
	cr_expect_gt(n, BIG / 2, "only %zu of %d random entries were accepted", n, BIG);
	match_table_free(ts[0]);
}
