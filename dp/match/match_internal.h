/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/match internals, shared by the builder and the two engines and seen by no other module: the
 * node arena (one record per distinct domain, holding its precomputed answers and its case-folded
 * wire name), the open-addressing suffix hash over it, the Bloom filter in front of that hash,
 * and the hashing and case folding both sides use.
 *
 * Answers are resolved at build time: for every domain, the result a query gets when that domain
 * (or its wildcard) is the most specific match is already stored, SYSTEM fall-through included. A
 * lookup therefore only has to find the most specific matching domain.
 */
#ifndef VPCDNS_DP_MATCH_INTERNAL_H
#define VPCDNS_DP_MATCH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <hs/hs.h>

#include "dp/match/match.h"

#define MATCH_WIRE_MAX	 255
#define MATCH_LABELS_MAX 128 /* 127 one-octet labels and the root */
#define MATCH_WIRE_SLACK 16  /* readable octets after a name: hashing loads two whole words */
#define MATCH_FOLD_BUF	 (256 + 2 * MATCH_WIRE_SLACK) /* a folded query: the name, then zeros */

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "dp/match loads names as little-endian words"
#endif
#define MATCH_SLOT_EMPTY UINT32_MAX
#define MATCH_HASH_SEED	 0x5bd1e9955bd1e995ULL /* the running hash of the empty suffix */

/* A result as stored: match_result without its padding. */
struct match_answer {
	uint32_t id;
	uint32_t system_id;
	uint8_t kind;
	uint8_t labels;
};

enum match_node_flags {
	MATCH_NODE_EXACT = 1, /* some entry has this domain: answer `exact` at and below it */
	MATCH_NODE_WILD =
	    2, /* some entry has "*." + this domain: answer `wild` strictly below it */
};

struct match_node {
	struct match_answer exact;
	struct match_answer wild;
	uint8_t flags;
	uint8_t labels;
	uint8_t name_len; /* wire length, the root octet included */
	uint8_t name[];	  /* case-folded wire form */
};

/* One hash slot: the full 32-bit hash filters before the name compare; node is an arena offset. */
struct match_slot {
	uint32_t hash;
	uint32_t node;
};

struct match_table {
	enum match_engine engine;
	uint32_t mask; /* slot count - 1 */
	struct match_slot *slots;
	uint8_t *arena; /* MATCH_WIRE_SLACK readable octets after its end */
	size_t arena_len;
	uint32_t root;	    /* arena offset of the root node, which always exists */
	unsigned max_depth; /* the most labels any node has: longer suffixes are not hashed */
	/* a Bloom filter of the node hashes, small enough to stay in cache */
	uint64_t *filter;
	unsigned filter_shift; /* a hash's top 32 - filter_shift bits pick its word */
	hs_database_t *hs_db;
	size_t hs_bytes;
	size_t entries;
	size_t domains;
	double build_seconds;
};

extern const uint8_t match_fold_table[256];

static inline const struct match_node *match_node_at(const uint8_t *arena, uint32_t off)
{
	return (const struct match_node *)(const void *)(arena + off);
}

/* Arena bytes one node takes: nodes are 4-aligned so their answers load as words. */
static inline size_t match_node_size(unsigned name_len)
{
	return (offsetof(struct match_node, name) + name_len + 3) & ~(size_t)3;
}

static inline uint64_t match_load64(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof(w));
	return w;
}

/* A mask of the low n octets of a word, 0 <= n <= 8, without a branch (8 gives 0 - 1). */
static inline uint64_t match_low_octets(unsigned n)
{
	return ((uint64_t)(n < 8) << (8 * (n & 7))) - 1;
}

#ifdef __SSE4_2__
#include <nmmintrin.h>

/*
 * Folds one label (length octet included) into the running hash of the suffix after it. CRC32C
 * takes one instruction a word and spreads its bits well enough to need no finishing mix (the
 * table's bucket and tag, the filter's word and bits all come from one 32-bit hash). It cut a
 * lookup at 1,000 rules from about 75 to 71 ns against the multiply-and-mix hash below, kept for
 * CPUs without SSE4.2.
 */
static inline uint64_t match_hash_label(uint64_t h, const uint8_t *label)
{
	unsigned len = label[0] + 1u;

	/* Labels of up to 15 octets, nearly all of them, take no branch: two masked words. */
	for (; len > 16; len -= 8, label += 8)
		h = _mm_crc32_u64(h, match_load64(label));
	h = _mm_crc32_u64(h, match_load64(label) & match_low_octets(len < 8 ? len : 8));
	return _mm_crc32_u64(h, match_load64(label + 8) & match_low_octets(len > 8 ? len - 8 : 0));
}

static inline uint32_t match_hash_final(uint64_t h)
{
	return (uint32_t)h;
}
#else
/* Folds one label (length octet included) into the running hash of the suffix after it. */
static inline uint64_t match_hash_label(uint64_t h, const uint8_t *label)
{
	const uint64_t prime = 0x9e3779b97f4a7c15ULL;
	unsigned len = label[0] + 1u;

	/* Labels of up to 15 octets, nearly all of them, take no branch: two masked words. */
	for (; len > 16; len -= 8, label += 8)
		h = (h ^ match_load64(label)) * prime;
	h = (h ^ (match_load64(label) & match_low_octets(len < 8 ? len : 8))) * prime;
	return (h ^ (match_load64(label + 8) & match_low_octets(len > 8 ? len - 8 : 0))) * prime;
}

static inline uint32_t match_hash_final(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h;
}
#endif

/*
 * Hashes the suffixes of a folded wire name from the root down to suffix `from`, the most specific
 * one wanted: out[i] for from <= i <= labels, as match_hash_suffixes gives them.
 */
static inline void match_hash_suffixes_from(const uint8_t *name, const uint8_t *offs,
					    unsigned labels, unsigned from, uint32_t *out)
{
	uint64_t h = MATCH_HASH_SEED;

	out[labels] = match_hash_final(h);
	for (unsigned i = labels; i-- > from;) {
		h = match_hash_label(h, name + offs[i]);
		out[i] = match_hash_final(h);
	}
}

/*
 * Hashes every suffix of a folded wire name in one right-to-left pass: out[i] is the hash of the
 * name from label i on (out[labels] is the root's). offs holds the label offsets. The name must
 * have MATCH_WIRE_SLACK readable octets after it.
 */
static inline void match_hash_suffixes(const uint8_t *name, const uint8_t *offs, unsigned labels,
				       uint32_t *out)
{
	match_hash_suffixes_from(name, offs, labels, 0, out);
}

/* Filter words for a table of `domains` nodes: 8 to 16 bits a node, at least one cache line. */
static inline size_t match_filter_words(size_t domains)
{
	size_t words = 8;

	while (words * 8 < domains)
		words *= 2;
	return words;
}

/* Two bits of one word per hash: a node's hash always passes, 3 to 5% of the others do. */
static inline uint64_t match_filter_bits(uint32_t hash)
{
	return (1ULL << (hash & 63)) | (1ULL << ((hash >> 6) & 63));
}

static inline bool match_filter_may_hold(const uint64_t *filter, unsigned shift, uint32_t hash)
{
	uint64_t bits = match_filter_bits(hash);

	return (filter[hash >> shift] & bits) == bits;
}

/*
 * Checks a wire name, folds it into folded (MATCH_WIRE_MAX + MATCH_WIRE_SLACK octets) and records
 * its label offsets. Returns the wire length, or 0 if the name is not valid.
 */
unsigned match_wire_fold(const uint8_t *name, size_t len, uint8_t *folded, uint8_t *offs,
			 unsigned *labels);

/* Compares names word by word; both must have MATCH_WIRE_SLACK readable octets after len. */
static inline bool match_name_equal(const uint8_t *a, const uint8_t *b, unsigned len)
{
	unsigned at = 0;

	for (; at + 8 <= len; at += 8)
		if (match_load64(a + at) != match_load64(b + at))
			return false;
	return at == len ||
	       ((match_load64(a + at) ^ match_load64(b + at)) & match_low_octets(len - at)) == 0;
}

/* The slot index holding the node for folded[0..len), or MATCH_SLOT_EMPTY. */
static inline uint32_t match_slot_find(const struct match_slot *slots, uint32_t mask,
				       const uint8_t *arena, uint32_t hash, const uint8_t *folded,
				       unsigned len)
{
	for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
		const struct match_slot *s = &slots[i];
		if (s->node == MATCH_SLOT_EMPTY)
			return MATCH_SLOT_EMPTY;
		if (s->hash != hash)
			continue;
		const struct match_node *n = match_node_at(arena, s->node);
		if (n->name_len == len && match_name_equal(n->name, folded, len))
			return i;
	}
}

static inline void match_answer_out(const struct match_answer *a, struct match_result *out)
{
	out->kind = (enum match_kind)a->kind;
	out->id = a->id;
	out->labels = a->labels;
	out->system_id = a->system_id;
}

int match_suffix_lookup(const struct match_table *t, const uint8_t *name, size_t len,
			struct match_result *out);
uint64_t match_suffix_lookup_burst(const struct match_table *t, const uint8_t *const names[],
				   const size_t lens[], unsigned n, struct match_result out[]);

/* Hyperscan engine: compile the table's domains into t->hs_db, and look up with a scratch. */
int match_hs_compile(struct match_table *t, char *err, size_t errlen);
int match_hs_lookup(const struct match_table *t, struct match_scratch *s, const uint8_t *name,
		    size_t len, struct match_result *out);

#endif
