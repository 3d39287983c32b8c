/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/match: per-VPC rule tables. A table answers one question on the fast path: which resolver
 * rule, private hosted zone, auto-defined rule or the "." recursive rule governs this query name.
 * Tables are built off the fast path by the control core (a builder, then an immutable table) and
 * read by any number of lcores at once without locks; the control core swaps them with RCU.
 *
 * Precedence (BEHAVIOUR.md "Rules"): the most specific domain wins. At the same domain a custom
 * rule (forward, system, delegate) beats a private hosted zone, which beats an auto-defined rule,
 * which beats the built-in "." recursive rule. A SYSTEM rule takes its subtree back from custom
 * rules: below it, lookup goes on past every less specific custom rule (FORWARD, SYSTEM and
 * DELEGATE alike) to the best zone, auto-defined rule or "." rule at or above it, and the result
 * names both. A wildcard entry "*.example.com" matches names strictly below example.com and ranks
 * one label more specific than example.com; at an equal label count an exact domain beats a
 * wildcard. Names compare case-insensitively (ASCII only, as DNS does); a trailing dot is optional.
 *
 * Two engines give identical answers: the label-suffix engine (one open-addressing hash probe per
 * suffix of the query that a cache-resident Bloom filter lets through, most specific first: the
 * default, and the fast one) and the Hyperscan engine (one scan of the whole name against every
 * domain at once; slow past a few thousand domains, see bench/match/README.md). Hyperscan needs
 * per-thread working memory, a match_scratch.
 */
#ifndef VPCDNS_DP_MATCH_H
#define VPCDNS_DP_MATCH_H

#include <stddef.h>
#include <stdint.h>

#define MATCH_ID_NONE UINT32_MAX

/* Ordered by precedence at equal specificity: a lower value wins. */
enum match_kind {
	MATCH_FORWARD = 0,
	MATCH_SYSTEM,
	MATCH_DELEGATE,
	MATCH_ZONE,
	MATCH_AUTO,
	MATCH_RECURSIVE, /* the built-in "." rule every table has */
	MATCH_KIND_COUNT
};

enum match_engine {
	MATCH_ENGINE_SUFFIX = 0, /* label-suffix engine: the default */
	MATCH_ENGINE_HYPERSCAN,
	MATCH_ENGINE_COUNT
};

struct match_result {
	enum match_kind kind;
	/* the caller's id given to match_builder_add; MATCH_ID_NONE for the built-in "." */
	uint32_t id;
	/* labels in the matched domain (0 for "."; a wildcard "*.example.com" counts 3) */
	uint8_t labels;
	/* the SYSTEM rule that sent lookup past custom rules, else MATCH_ID_NONE */
	uint32_t system_id;
};

struct match_builder;
struct match_table;

struct match_builder *match_builder_new(enum match_engine engine);
void match_builder_free(struct match_builder *b);

/*
 * Adds one entry. domain is in presentation form ("acme.example.com", "Acme.Example.COM.", "com",
 * ".", "*.example.com"). Returns 0, or -1 with a sentence in err naming what is wrong (bad label,
 * name too long, a second custom rule or zone for the same domain). A repeated auto-defined entry
 * is ignored. MATCH_RECURSIVE is accepted only for "." and only gives the built-in rule an id.
 */
int match_builder_add(struct match_builder *b, const char *domain, enum match_kind kind,
		      uint32_t id, char *err, size_t errlen);

/* Consumes the builder (freed whether or not it succeeds); NULL with a sentence in err. */
struct match_table *match_builder_build(struct match_builder *b, char *err, size_t errlen);
void match_table_free(struct match_table *t);

/*
 * Per-thread working memory for lookups in Hyperscan tables (a wrapped hs_scratch_t); suffix tables
 * need none. Give every lcore its own. match_scratch_fit grows s so that it serves t as well as
 * every table it served before; it allocates, so call it off the fast path and never while another
 * thread looks up with s: to serve a new table, fit the lcore's scratch before the lcore starts
 * reading the table (or fit a fresh one and hand both over together).
 */
struct match_scratch;
struct match_scratch *match_scratch_new(void);
int match_scratch_fit(struct match_scratch *s, const struct match_table *t, char *err,
		      size_t errlen);
void match_scratch_free(struct match_scratch *s);

/* Why a lookup found nothing: the fast path counts each reason by name. */
enum match_status {
	MATCH_OK = 0,
	MATCH_BAD_NAME = -1,	  /* not a wire name: label > 63, over 255 octets, no root octet */
	MATCH_SCRATCH_UNFIT = -2, /* a Hyperscan table without a scratch fitted to it */
};

/*
 * Lookup on the fast path: no allocation, no lock, no system call. name is an uncompressed
 * wire-format name as in a parsed question (labels <= 63, total <= 255, ends with the root; octets
 * after the root label are ignored). s may be NULL for a suffix table; a Hyperscan table needs one
 * fitted to it. Always finds an entry (the "." rule at worst): returns MATCH_OK, or the negative
 * enum match_status saying why not.
 */
int match_lookup(const struct match_table *t, struct match_scratch *s, const uint8_t *name,
		 size_t len, struct match_result *out);

/*
 * Looks up n names (n <= MATCH_BURST_MAX) as n calls of match_lookup would, but faster on tables
 * too big for the cache: the suffix engine overlaps the memory loads of all the names. Returns a
 * bit mask of the names that failed (bit i: names[i] is not a valid wire name, or s does not fit
 * t); 0 when every out[i] is filled.
 */
#define MATCH_BURST_MAX 32
uint64_t match_lookup_burst(const struct match_table *t, struct match_scratch *s,
			    const uint8_t *const names[], const size_t lens[], unsigned n,
			    struct match_result out[]);

/*
 * The same for a presentation-form name, for tests, tools and the control core. Not for the fast
 * path: for a Hyperscan table it allocates a scratch for the call.
 */
int match_lookup_text(const struct match_table *t, const char *name, struct match_result *out);

struct match_stats {
	enum match_engine engine;
	size_t entries;	      /* entries added, the built-in "." rule included */
	size_t bytes;	      /* memory the table holds */
	double build_seconds; /* time match_builder_build took */
	/* distinct domains (a wildcard shares its base's), the root included */
	size_t domains;
};
void match_table_stats(const struct match_table *t, struct match_stats *out);

const char *match_kind_name(enum match_kind kind);
const char *match_engine_name(enum match_engine engine);

#endif
