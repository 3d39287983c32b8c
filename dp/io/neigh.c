/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/io neighbours: the next-hop MAC table. The control core runs each next hop's state machine
 * (incomplete, reachable, stale, failed, static) on a clock it passes in, so tests drive it with a
 * fake one; lcores read one atomic 64-bit word per next hop and leave lossy "wanted" bits.
 * Learning looks next hops up by address with a linear scan: it runs only for ARP/ND frames on
 * the control core, and the table holds the few hundred next hops of one host's links.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>

#include "dp/io/io.h"

#define WORD_BITS	 64
#define WANT_CALL_STRIDE 8 /* uint64_t per lcore: one cache line, no false sharing */

struct io_neigh_entry {
	struct io_nexthop nh;
	enum io_neigh_state state;
	uint32_t probes;	  /* requests sent since the last answer */
	uint64_t next_probe_ms;	  /* incomplete/stale: when the next request is due */
	uint64_t reachable_until; /* reachable: when it turns stale */
	uint64_t failed_at;	  /* failed: when it gave up */
};

static const char *const neigh_count_names[IO_NEIGH_C__COUNT] = {
    [IO_NEIGH_C_WANTS_TAKEN] = "wants_taken", [IO_NEIGH_C_PROBES] = "probes",
    [IO_NEIGH_C_LEARNED] = "learned",	      [IO_NEIGH_C_CHANGED] = "changed",
    [IO_NEIGH_C_FAILED] = "failed",
};

static uint64_t pack_mac(const struct rte_ether_addr *mac)
{
	uint64_t w = 0;
	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		w = (w << 8) | mac->addr_bytes[i];
	return w | IO_NEIGH_VALID;
}

static void publish(struct io_neigh_table *t, uint32_t i, uint64_t word)
{
	__atomic_store_n(&t->mac_words[i], word, __ATOMIC_RELEASE);
}

struct io_neigh_table *io_neigh_create(const struct io_neigh_params *p)
{
	if (p->capacity == 0 || p->max_probes == 0)
		return NULL;
	struct io_neigh_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	size_t want_words = (p->capacity + WORD_BITS - 1) / WORD_BITS;
	t->capacity = p->capacity;
	t->params = *p;
	t->mac_words = calloc(p->capacity, sizeof(uint64_t));
	t->want_bits = calloc(want_words, sizeof(uint64_t));
	t->want_calls = calloc(((size_t)RTE_MAX_LCORE + 1) * WANT_CALL_STRIDE, sizeof(uint64_t));
	t->entries = calloc(p->capacity, sizeof(*t->entries));
	if (!t->mac_words || !t->want_bits || !t->want_calls || !t->entries) {
		io_neigh_free(t);
		return NULL;
	}
	return t;
}

void io_neigh_free(struct io_neigh_table *t)
{
	if (!t)
		return;
	free(t->mac_words);
	free(t->want_bits);
	free(t->want_calls);
	free(t->entries);
	free(t);
}

void io_neigh_want(struct io_neigh_table *t, uint32_t nexthop)
{
	unsigned lcore = rte_lcore_id();

	/* Threads that are not EAL lcores (tests, the control core's helpers) share the last slot.
	 */
	size_t slot = lcore < RTE_MAX_LCORE ? lcore : RTE_MAX_LCORE;
	/* One writer per counter: a plain increment, made atomic only so reads are clean. */
	uint64_t *calls = &t->want_calls[slot * WANT_CALL_STRIDE];
	__atomic_store_n(calls, __atomic_load_n(calls, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
	if (nexthop >= t->capacity)
		return;
	uint64_t *word = &t->want_bits[nexthop / WORD_BITS];
	uint64_t bit = 1ull << (nexthop % WORD_BITS);
	/* Most calls find the bit set already: a load, and no write to the shared line. */
	if (!(__atomic_load_n(word, __ATOMIC_RELAXED) & bit))
		__atomic_fetch_or(word, bit, __ATOMIC_RELAXED);
}

uint64_t io_neigh_want_calls(const struct io_neigh_table *t)
{
	uint64_t sum = 0;
	for (size_t i = 0; i <= RTE_MAX_LCORE; i++)
		sum += __atomic_load_n(&t->want_calls[i * WANT_CALL_STRIDE], __ATOMIC_RELAXED);
	return sum;
}

static int define_entry(struct io_neigh_table *t, uint32_t i, const struct io_nexthop *nh)
{
	if (i >= t->capacity || (nh->family != 4 && nh->family != 6))
		return -1;
	struct io_neigh_entry *e = &t->entries[i];
	memset(e, 0, sizeof(*e));
	e->nh = *nh;
	return 0;
}

static void start_resolving(struct io_neigh_entry *e, uint64_t now_ms)
{
	e->state = IO_NEIGH_INCOMPLETE;
	e->probes = 0;
	e->next_probe_ms = now_ms;
}

int io_neigh_define(struct io_neigh_table *t, uint32_t nexthop, const struct io_nexthop *nh,
		    uint64_t now_ms)
{
	if (define_entry(t, nexthop, nh) != 0)
		return -1;
	publish(t, nexthop, 0);
	start_resolving(&t->entries[nexthop], now_ms);
	return 0;
}

int io_neigh_define_static(struct io_neigh_table *t, uint32_t nexthop, const struct io_nexthop *nh,
			   const struct rte_ether_addr *mac)
{
	if (define_entry(t, nexthop, nh) != 0)
		return -1;
	t->entries[nexthop].state = IO_NEIGH_STATIC;
	publish(t, nexthop, pack_mac(mac));
	return 0;
}

static bool same_link_and_addr(const struct io_nexthop *nh, uint16_t port_id, uint16_t vlan_id,
			       uint8_t family, const uint8_t *addr)
{
	return nh->port_id == port_id && nh->vlan_id == vlan_id && nh->family == family &&
	       memcmp(nh->addr, addr, family == 4 ? 4 : 16) == 0;
}

static void learn_one(struct io_neigh_table *t, uint32_t i, uint64_t word, bool confirmed,
		      uint64_t now_ms)
{
	struct io_neigh_entry *e = &t->entries[i];
	uint64_t held = t->mac_words[i];
	bool changed = (held & IO_NEIGH_VALID) && held != word;

	if (changed)
		t->counts[IO_NEIGH_C_CHANGED]++;
	if (!confirmed && held == word)
		return; /* news of nothing: a request from a next hop we know */
	publish(t, i, word);
	t->counts[IO_NEIGH_C_LEARNED]++;
	e->probes = 0;
	if (confirmed) {
		e->state = IO_NEIGH_REACHABLE;
		e->reachable_until = now_ms + t->params.reachable_ms;
	} else {
		/* Heard, not asked: usable now, confirmed by the next request (RFC 4861 7.3.3). */
		e->state = IO_NEIGH_STALE;
		e->next_probe_ms = now_ms;
	}
}

unsigned io_neigh_learn(struct io_neigh_table *t, uint16_t port_id, uint16_t vlan_id,
			uint8_t family, const uint8_t *addr, const struct rte_ether_addr *mac,
			bool confirmed, uint64_t now_ms)
{
	uint64_t word = pack_mac(mac);
	unsigned n = 0;

	for (uint32_t i = 0; i < t->capacity; i++) {
		struct io_neigh_entry *e = &t->entries[i];
		if (e->state == IO_NEIGH_UNUSED || e->state == IO_NEIGH_STATIC ||
		    !same_link_and_addr(&e->nh, port_id, vlan_id, family, addr))
			continue;
		learn_one(t, i, word, confirmed, now_ms);
		n++;
	}
	return n;
}

/* Wanted next hops that failed long enough ago are tried again; wants for others are no news. */
static void take_wants(struct io_neigh_table *t, uint64_t now_ms)
{
	size_t words = (t->capacity + WORD_BITS - 1) / WORD_BITS;

	for (size_t w = 0; w < words; w++) {
		if (!__atomic_load_n(&t->want_bits[w], __ATOMIC_RELAXED))
			continue;
		uint64_t bits = __atomic_exchange_n(&t->want_bits[w], 0, __ATOMIC_RELAXED);
		while (bits) {
			uint32_t i = (uint32_t)(w * WORD_BITS + (unsigned)__builtin_ctzll(bits));
			bits &= bits - 1;
			struct io_neigh_entry *e = &t->entries[i];
			if (e->state == IO_NEIGH_FAILED &&
			    now_ms >= e->failed_at + t->params.failed_hold_ms) {
				start_resolving(e, now_ms);
				t->counts[IO_NEIGH_C_WANTS_TAKEN]++;
			}
		}
	}
}

static void give_up(struct io_neigh_table *t, uint32_t i, uint64_t now_ms)
{
	struct io_neigh_entry *e = &t->entries[i];

	e->state = IO_NEIGH_FAILED;
	e->failed_at = now_ms;
	publish(t, i, 0);
	t->counts[IO_NEIGH_C_FAILED]++;
}

/* One entry's step; true (and *probe filled) when a request is due. */
static bool step(struct io_neigh_table *t, uint32_t i, uint64_t now_ms,
		 struct io_neigh_probe *probe)
{
	struct io_neigh_entry *e = &t->entries[i];

	if (e->state == IO_NEIGH_REACHABLE && now_ms >= e->reachable_until) {
		e->state = IO_NEIGH_STALE;
		e->probes = 0;
		e->next_probe_ms = now_ms;
	}
	if (e->state != IO_NEIGH_INCOMPLETE && e->state != IO_NEIGH_STALE)
		return false;
	if (now_ms < e->next_probe_ms)
		return false;
	if (e->probes >= t->params.max_probes) {
		give_up(t, i, now_ms);
		return false;
	}
	uint64_t held = t->mac_words[i];
	probe->nexthop = i;
	probe->unicast = e->state == IO_NEIGH_STALE && (held & IO_NEIGH_VALID);
	for (int b = 0; b < RTE_ETHER_ADDR_LEN; b++)
		probe->mac.addr_bytes[b] = (uint8_t)(held >> (8 * (RTE_ETHER_ADDR_LEN - 1 - b)));
	e->probes++;
	e->next_probe_ms = now_ms + t->params.retrans_ms;
	t->counts[IO_NEIGH_C_PROBES]++;
	return true;
}

unsigned io_neigh_tick(struct io_neigh_table *t, uint64_t now_ms, struct io_neigh_probe *out,
		       unsigned max)
{
	unsigned n = 0;

	take_wants(t, now_ms);
	/* Entries past max wait for the next tick: their timers are untouched until stepped. */
	for (uint32_t i = 0; i < t->capacity && n < max; i++)
		if (step(t, i, now_ms, &out[n]))
			n++;
	return n;
}

enum io_neigh_state io_neigh_state_of(const struct io_neigh_table *t, uint32_t nexthop)
{
	return nexthop < t->capacity ? t->entries[nexthop].state : IO_NEIGH_UNUSED;
}

const struct io_nexthop *io_neigh_nexthop(const struct io_neigh_table *t, uint32_t nexthop)
{
	if (nexthop >= t->capacity || t->entries[nexthop].state == IO_NEIGH_UNUSED)
		return NULL;
	return &t->entries[nexthop].nh;
}

uint64_t io_neigh_count(const struct io_neigh_table *t, enum io_neigh_count c)
{
	return (unsigned)c < IO_NEIGH_C__COUNT ? t->counts[c] : 0;
}

const char *io_neigh_count_name(enum io_neigh_count c)
{
	return (unsigned)c < IO_NEIGH_C__COUNT ? neigh_count_names[c] : "unknown";
}
