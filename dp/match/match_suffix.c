/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/match label-suffix engine: checks and case-folds a query's wire name into a stack buffer,
 * hashes all its suffixes in one right-to-left pass, and probes the open-addressing hash from the
 * most specific suffix to the least; the first domain found is the answer, already resolved at
 * build time. Fast path: no allocation, lock or system call; the table is only read.
 *
 * Why not rte_hash: its keys have one fixed length, so names would take 255-octet keys (over 256
 * bytes a rule against about 70 here), its bulk lookup cannot share one suffix pass across the
 * probes of one name, and dp/match must also run without the EAL (tests, ctl tools).
 */
#include <emmintrin.h>

#include "dp/match/match_internal.h"

/* ASCII upper case to lower case; every other octet is itself (DNS compares only A-Z case-blind).
 */
const uint8_t match_fold_table[256] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    0x40, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
    0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f,
    0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
    0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
    0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
    0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
    0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
    0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
};

/* ASCII upper case to lower case in 16 octets at once; length octets (< 64) stay as they are. */
static inline void fold16(const uint8_t *from, uint8_t *to)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)from);
	/* signed compares: octets >= 0x80 are negative, so never taken for upper case */
	__m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('A' - 1)),
				      _mm_cmplt_epi8(v, _mm_set1_epi8('Z' + 1)));
	v = _mm_or_si128(v, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
	_mm_storeu_si128((__m128i *)(void *)to, v);
}

/* Walks the labels: offsets, label count and the wire length (0 if the name is not valid). */
static unsigned wire_labels(const uint8_t *name, size_t len, uint8_t *offs, unsigned *labels)
{
	unsigned off = 0, n = 0;

	if (len == 0)
		return 0;
	for (unsigned l; (l = name[off]) != 0; off += l + 1) {
		/* one branch for every way a label can be wrong; the next length octet is inside
		 * len */
		if ((l > 63) | (off + l + 2 > MATCH_WIRE_MAX) | (off + l + 1 >= len))
			return 0;
		offs[n++] = (uint8_t)off;
	}
	offs[n] = (uint8_t)off;
	*labels = n;
	return off + 1;
}

unsigned match_wire_fold(const uint8_t *name, size_t len, uint8_t *folded, uint8_t *offs,
			 unsigned *labels)
{
	unsigned wlen = wire_labels(name, len, offs, labels);

	if (!wlen)
		return 0;
	if (wlen >= 16) {
		/* folding is idempotent, so the last block may overlap the one before: no tail
		 * loop, and no load past the name */
		for (unsigned at = 0; at + 16 < wlen; at += 16)
			fold16(name + at, folded + at);
		fold16(name + wlen - 16, folded + wlen - 16);
	} else {
		uint8_t block[16] = {0};
		memcpy(block, name, wlen);
		fold16(block, folded);
	}
	memset(folded + wlen, 0, MATCH_WIRE_SLACK);
	return wlen;
}

static void answer_for(const struct match_node *n, bool below, struct match_result *out)
{
	match_answer_out(below && (n->flags & MATCH_NODE_WILD) ? &n->wild : &n->exact, out);
}

#define BURST_GROUP	     8
#define CACHE_RESIDENT_SLOTS (1u << 16) /* 512 KiB of slots: well inside L2 + L3 */

/* A query folded and hashed, ready to probe. */
struct suffix_query {
	uint8_t folded[MATCH_FOLD_BUF];
	uint8_t offs[MATCH_LABELS_MAX];
	uint32_t hashes[MATCH_LABELS_MAX + 1];
	unsigned labels, wlen;
};

static bool probed_depth(const struct match_table *t, unsigned depth)
{
	return t->depths[depth >> 6] & (1ULL << (depth & 63));
}

/* Folds and hashes the name and starts loading the slot of every suffix worth probing. */
static bool prepare(const struct match_table *t, const uint8_t *name, size_t len,
		    struct suffix_query *q)
{
	q->wlen = match_wire_fold(name, len, q->folded, q->offs, &q->labels);
	if (!q->wlen)
		return false;
	match_hash_suffixes(q->folded, q->offs, q->labels, q->hashes);
	for (unsigned i = 0; i < q->labels; i++) {
		/* no branch: a depth no domain has prefetches slot 0, which is as good as nothing
		 */
		uint32_t slot = probed_depth(t, q->labels - i) ? q->hashes[i] & t->mask : 0;
		__builtin_prefetch(&t->slots[slot]);
	}
	return true;
}

/* Starts loading the nodes the slots point at with a matching hash (for bursts). */
static void prefetch_nodes(const struct match_table *t, const struct suffix_query *q)
{
	for (unsigned i = 0; i < q->labels; i++) {
		if (!probed_depth(t, q->labels - i))
			continue;
		for (uint32_t k = q->hashes[i] & t->mask;; k = (k + 1) & t->mask) {
			const struct match_slot *s = &t->slots[k];
			if (s->node == MATCH_SLOT_EMPTY)
				break;
			if (s->hash == q->hashes[i]) {
				__builtin_prefetch(t->arena + s->node);
				return; /* the first candidate is nearly always the answer */
			}
		}
	}
}

/* The node for suffix i answers the query (found, and with an entry for how the query meets it). */
static const struct match_node *answering_node(const struct match_table *t,
					       const struct suffix_query *q, unsigned i)
{
	uint32_t s = match_slot_find(t->slots, t->mask, t->arena, q->hashes[i],
				     q->folded + q->offs[i], q->wlen - q->offs[i]);
	if (s == MATCH_SLOT_EMPTY)
		return NULL;
	const struct match_node *n = match_node_at(t->arena, t->slots[s].node);
	/* "*.d" outranks d for names strictly below d; a node may hold only the wildcard. */
	if ((i > 0 && (n->flags & MATCH_NODE_WILD)) || (n->flags & MATCH_NODE_EXACT))
		return n;
	return NULL;
}

/*
 * The most specific suffix with a node that answers it; the root's node at worst. A first pass
 * without branches marks the suffixes whose home slot is taken (an empty one settles the suffix);
 * only those are searched, most specific first.
 */
static void probe(const struct match_table *t, const struct suffix_query *q,
		  struct match_result *out)
{
	unsigned marked = q->labels < 64 ? q->labels : 64;
	uint64_t taken = 0;

	for (unsigned i = 0; i < marked; i++) {
		const struct match_slot *s = &t->slots[q->hashes[i] & t->mask];
		taken |= (uint64_t)(probed_depth(t, q->labels - i) & (s->node != MATCH_SLOT_EMPTY))
			 << i;
	}
	for (; taken; taken &= taken - 1) {
		unsigned i = (unsigned)__builtin_ctzll(taken);
		const struct match_node *n = answering_node(t, q, i);
		if (n) {
			answer_for(n, i > 0, out);
			return;
		}
	}
	for (unsigned i = marked; i < q->labels; i++) { /* names of over 64 labels */
		const struct match_node *n =
		    probed_depth(t, q->labels - i) ? answering_node(t, q, i) : NULL;
		if (n) {
			answer_for(n, true, out);
			return;
		}
	}
	answer_for(match_node_at(t->arena, t->root), q->labels > 0, out);
}

int match_suffix_lookup(const struct match_table *t, const uint8_t *name, size_t len,
			struct match_result *out)
{
	struct suffix_query q;

	if (!prepare(t, name, len, &q))
		return MATCH_BAD_NAME;
	probe(t, &q, out);
	return MATCH_OK;
}

/*
 * Three passes over a group of names so that memory loads overlap across them: hash every name and
 * load its slots, load the candidate nodes, then probe (the same code as one lookup, now from
 * cache).
 */
static uint64_t lookup_group(const struct match_table *t, const uint8_t *const names[],
			     const size_t lens[], unsigned n, struct match_result out[],
			     struct suffix_query *q)
{
	uint64_t failed = 0;

	for (unsigned i = 0; i < n; i++)
		if (!prepare(t, names[i], lens[i], &q[i]))
			failed |= 1ULL << i;
	for (unsigned i = 0; i < n; i++)
		if (!(failed & (1ULL << i)))
			prefetch_nodes(t, &q[i]);
	for (unsigned i = 0; i < n; i++)
		if (!(failed & (1ULL << i)))
			probe(t, &q[i], &out[i]);
	return failed;
}

/*
 * Tables that fit the cache gain nothing from overlapping loads, only the cost of the passes: look
 * their names up one by one. Bigger ones go in groups of eight, which measured faster than 4, 16 or
 * 32 at 1,000,000 rules (README.md).
 */
uint64_t match_suffix_lookup_burst(const struct match_table *t, const uint8_t *const names[],
				   const size_t lens[], unsigned n, struct match_result out[])
{
	struct suffix_query q[BURST_GROUP];
	uint64_t failed = 0;

	if (t->mask < CACHE_RESIDENT_SLOTS) {
		for (unsigned i = 0; i < n; i++)
			if (match_suffix_lookup(t, names[i], lens[i], &out[i]) < 0)
				failed |= 1ULL << i;
		return failed;
	}
	for (unsigned g = 0; g < n; g += BURST_GROUP) {
		unsigned end = n - g < BURST_GROUP ? n : g + BURST_GROUP;
		failed |= lookup_group(t, names + g, lens + g, end - g, out + g, q) << g;
	}
	return failed;
}
