/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/match label-suffix engine: checks and case-folds a query's wire name into a stack buffer,
 * hashes its suffixes (none longer than the longest domain) in one right-to-left pass, asks the
 * table's Bloom filter which of them may be domains, and probes the open-addressing hash for those
 * from the most specific to the least; the first domain found is the answer, already resolved at
 * build time. A burst does each step for all its names before the next, so that their memory loads
 * overlap. Fast path: no allocation, lock or system call; the table is only read.
 *
 * Why not rte_hash: its keys have one fixed length, so names would take 255-octet keys (over 256
 * bytes a rule against about 70 here), its bulk lookup cannot share one suffix pass across the
 * probes of one name, and dp/match must also run without the EAL (tests, ctl tools).
 */
#include <emmintrin.h>

#include "dp/match/match_internal.h"

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
		/* one branch for every way a label can be wrong; the next length octet is in len */
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

#define CACHE_RESIDENT_SLOTS (1u << 16) /* 512 KiB of slots: well inside L2 + L3 */

/* A query folded and hashed, ready to probe. */
struct suffix_query {
	uint8_t folded[MATCH_FOLD_BUF];
	uint8_t offs[MATCH_LABELS_MAX];
	uint32_t hashes[MATCH_LABELS_MAX + 1];
	/* bit d: the suffix of d labels may be a domain (the filter lets it through) */
	uint64_t candidates[2];
	unsigned labels, wlen;
	unsigned from; /* the most specific suffix hashed: none longer than the longest domain */
	/* set by prefetch_nodes: the suffix whose slot first matched its hash, and that slot's node
	 */
	int hinted;
	uint32_t hinted_node;
};

/*
 * Folds and hashes the name, and starts loading the filter words of its suffixes. Suffixes longer
 * than any domain are not even hashed.
 */
static bool hash_query(const struct match_table *t, const uint8_t *name, size_t len,
		       struct suffix_query *q)
{
	uint64_t h = MATCH_HASH_SEED;

	q->wlen = match_wire_fold(name, len, q->folded, q->offs, &q->labels);
	if (!q->wlen)
		return false;
	q->from = q->labels > t->max_depth ? q->labels - t->max_depth : 0;
	/* match_hash_suffixes_from, with the filter prefetch in the same loop */
	q->hashes[q->labels] = match_hash_final(h);
	for (unsigned i = q->labels; i-- > q->from;) {
		h = match_hash_label(h, q->folded + q->offs[i]);
		q->hashes[i] = match_hash_final(h);
		__builtin_prefetch(&t->filter[q->hashes[i] >> t->filter_shift]);
	}
	return true;
}

/*
 * Keeps the suffixes the filter lets through and starts loading their slots. No branch, as the
 * filter's answers are coin tosses to the predictor: a suffix left out prefetches slot 0, as good
 * as nothing.
 */
static void filter_query(const struct match_table *t, struct suffix_query *q)
{
	uint64_t low = 0, high = 0; /* depths 0-63 and 64-127 */

	for (unsigned i = q->from; i < q->labels; i++) {
		unsigned depth = q->labels - i;
		uint32_t hash = q->hashes[i];
		uint64_t kept = match_filter_may_hold(t->filter, t->filter_shift, hash);
		uint64_t bit = kept << (depth & 63);
		low |= depth < 64 ? bit : 0;
		high |= depth < 64 ? 0 : bit;
		__builtin_prefetch(&t->slots[hash & t->mask & (uint32_t)-kept]);
	}
	q->candidates[0] = low;
	q->candidates[1] = high;
}

/* The candidate suffix with the most labels, or -1 when none is left; clears it. */
static int next_candidate(uint64_t c[2], unsigned labels)
{
	unsigned w = c[1] ? 1 : 0;

	if (!c[w])
		return -1;
	unsigned depth = 63u - (unsigned)__builtin_clzll(c[w]);
	c[w] &= ~(1ULL << depth);
	return (int)(labels - (w * 64 + depth));
}

/*
 * Starts loading the node the most specific candidate's slots point at (for bursts), and notes it:
 * no candidate before it has a slot with its hash, so the probe can start there.
 */
static void prefetch_nodes(const struct match_table *t, struct suffix_query *q)
{
	uint64_t c[2] = {q->candidates[0], q->candidates[1]};

	q->hinted = -1;
	for (int i; (i = next_candidate(c, q->labels)) >= 0;) {
		for (uint32_t k = q->hashes[i] & t->mask;; k = (k + 1) & t->mask) {
			const struct match_slot *s = &t->slots[k];
			if (s->node == MATCH_SLOT_EMPTY)
				break;
			if (s->hash == q->hashes[i]) {
				/* a node of about 48 octets at a 4-aligned offset mostly
				 * straddles two lines, and the compare reads both (placing
				 * nodes so that none straddles cost 10 bytes a rule and
				 * measured no faster, nor did skipping the second line when
				 * the node cannot reach it) */
				__builtin_prefetch(t->arena + s->node);
				__builtin_prefetch(t->arena + s->node + 63);
				q->hinted = i;
				q->hinted_node = s->node;
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

/* Whether node n is suffix i's and answers the query. */
static bool node_answers(const struct suffix_query *q, const struct match_node *n, unsigned i)
{
	unsigned len = q->wlen - q->offs[i];

	return n->name_len == len && match_name_equal(n->name, q->folded + q->offs[i], len) &&
	       ((i > 0 && (n->flags & MATCH_NODE_WILD)) || (n->flags & MATCH_NODE_EXACT));
}

/* The most specific candidate suffix with a node that answers it; the root's node at worst. */
static void probe(const struct match_table *t, const struct suffix_query *q,
		  struct match_result *out)
{
	uint64_t c[2] = {q->candidates[0], q->candidates[1]};

	for (int i; (i = next_candidate(c, q->labels)) >= 0;) {
		const struct match_node *n = answering_node(t, q, (unsigned)i);
		if (n) {
			answer_for(n, i > 0, out);
			return;
		}
	}
	answer_for(match_node_at(t->arena, t->root), q->labels > 0, out);
}

int match_suffix_lookup(const struct match_table *t, const uint8_t *name, size_t len,
			struct match_result *out)
{
	struct suffix_query q;

	if (!hash_query(t, name, len, &q))
		return MATCH_BAD_NAME;
	/* alone, a lookup waits on every load: start the slots of a table too big for the cache
	 * with the filter, not after it */
	if (t->mask >= CACHE_RESIDENT_SLOTS)
		for (unsigned i = q.from; i < q.labels; i++)
			__builtin_prefetch(&t->slots[q.hashes[i] & t->mask]);
	filter_query(t, &q);
	probe(t, &q, out);
	return MATCH_OK;
}

/*
 * Four passes over the whole burst so that memory loads overlap across all its names: hash every
 * name and load its filter words, filter its suffixes and load their slots, load the candidate
 * nodes, then probe (the same code as one lookup, now from cache). Each pass gives the loads the
 * one before started the time of a whole pass to arrive. One group of 32 measured 91 to 96 ns a
 * name at 1,000,000 rules against 113 to 122 for groups of 8 (bench/match/README.md).
 */
static uint64_t lookup_passes(const struct match_table *t, const uint8_t *const names[],
			      const size_t lens[], unsigned n, struct match_result out[])
{
	struct suffix_query q[MATCH_BURST_MAX];
	uint64_t failed = 0;

	for (unsigned i = 0; i < n; i++)
		if (!hash_query(t, names[i], lens[i], &q[i]))
			failed |= 1ULL << i;
	for (unsigned i = 0; i < n; i++)
		if (!(failed & (1ULL << i)))
			filter_query(t, &q[i]);
	for (unsigned i = 0; i < n; i++)
		if (!(failed & (1ULL << i)))
			prefetch_nodes(t, &q[i]);
	for (unsigned i = 0; i < n; i++) {
		if (failed & (1ULL << i))
			continue;
		int h = q[i].hinted;
		const struct match_node *node =
		    h >= 0 ? match_node_at(t->arena, q[i].hinted_node) : NULL;
		if (node && node_answers(&q[i], node, (unsigned)h))
			answer_for(node, h > 0, &out[i]);
		else
			probe(t, &q[i], &out[i]); /* a hash collision, or no candidate at all */
	}
	return failed;
}

/*
 * Tables that fit the cache gain nothing from overlapping loads, only the cost of the passes: look
 * their names up one by one.
 */
uint64_t match_suffix_lookup_burst(const struct match_table *t, const uint8_t *const names[],
				   const size_t lens[], unsigned n, struct match_result out[])
{
	uint64_t failed = 0;

	if (t->mask < CACHE_RESIDENT_SLOTS) {
		for (unsigned i = 0; i < n; i++)
			if (match_suffix_lookup(t, names[i], lens[i], &out[i]) < 0)
				failed |= 1ULL << i;
		return failed;
	}
	return lookup_passes(t, names, lens, n, out);
}
