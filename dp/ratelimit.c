/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/ratelimit: each lcore's limit on the packets one client source address (in one VPC) may send
 * to the resolver per second (BEHAVIOUR.md: 1,024 by default). GCRA, one deadline per source, in a
 * fixed set-associative table per lcore: bounded memory, no lock, no allocation on the fast path.
 * RSS spreads one source's queries over the lcores by port, so each lcore allows its share of the
 * rate; a table too small for the sources at hand forgets the least indebted ones (counted).
 */
#include <string.h>

#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "dp/dp_internal.h"

struct ratelimit_entry {
	uint8_t addr[16];
	uint32_t vpc;
	uint8_t family; /* 0: empty */
	uint64_t tat;	/* GCRA's theoretical arrival time (ns): the source owes up to here */
};

struct dp_ratelimit {
	uint32_t pps;	       /* the rate the intervals below were made for */
	uint64_t interval_ns;  /* one packet's share of a second on this lcore */
	uint64_t tolerance_ns; /* how far ahead of now a source may owe: a second's burst */
	struct ratelimit_entry sets[DP_RATELIMIT_SETS][DP_RATELIMIT_WAYS];
};

struct dp_ratelimit *dp_ratelimit_new(int socket)
{
	return rte_zmalloc_socket("dp_ratelimit", sizeof(struct dp_ratelimit), RTE_CACHE_LINE_SIZE,
				  socket);
}

void dp_ratelimit_free(struct dp_ratelimit *r)
{
	rte_free(r);
}

/* The lcore's share of pps: the plane's lcores split it, as RSS splits a source's queries. */
static void set_rate(struct dp_ratelimit *r, uint32_t pps, unsigned n_lcores)
{
	uint64_t share = RTE_MAX((uint64_t)pps / n_lcores, (uint64_t)1);
	r->pps = pps;
	r->interval_ns = 1000000000ull / share;
	r->tolerance_ns = 1000000000ull - r->interval_ns;
}

static struct ratelimit_entry *find_or_take(struct dp_ratelimit *r, uint32_t vpc, uint8_t family,
					    const uint8_t *addr, uint64_t now, bool *forgot)
{
	/* rte_hash_crc reads 4 octets at a time: an aligned copy (the frame's address is not) */
	uint32_t key[4];
	memcpy(key, addr, family == 4 ? 4 : 16);
	uint32_t h = rte_hash_crc(key, family == 4 ? 4 : 16, vpc);
	struct ratelimit_entry *set = r->sets[h & (DP_RATELIMIT_SETS - 1)], *oldest = &set[0];
	for (unsigned w = 0; w < DP_RATELIMIT_WAYS; w++) {
		struct ratelimit_entry *e = &set[w];
		if (e->family == family && e->vpc == vpc &&
		    memcmp(e->addr, addr, family == 4 ? 4 : 16) == 0)
			return e;
		if (e->tat < oldest->tat)
			oldest = e;
	}
	*forgot = oldest->family && oldest->tat > now;
	memset(oldest, 0, sizeof(*oldest));
	oldest->family = family;
	oldest->vpc = vpc;
	memcpy(oldest->addr, addr, family == 4 ? 4 : 16);
	return oldest;
}

enum dp_ratelimit_verdict dp_ratelimit_check(struct dp_ratelimit *r, uint32_t pps,
					     unsigned n_lcores, uint32_t vpc, uint8_t family,
					     const uint8_t *addr, uint64_t now)
{
	if (pps == 0)
		return DP_RATE_PASS;
	if (pps != r->pps)
		set_rate(r, pps, n_lcores);
	bool forgot = false;
	struct ratelimit_entry *e = find_or_take(r, vpc, family, addr, now, &forgot);
	if (e->tat > now + r->tolerance_ns)
		return DP_RATE_LIMITED;
	e->tat = RTE_MAX(e->tat, now) + r->interval_ns;
	return forgot ? DP_RATE_PASS_FORGOT : DP_RATE_PASS;
}
