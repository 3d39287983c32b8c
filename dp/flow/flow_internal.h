/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/flow internals: the flow table's layout and the pieces its files share (the ChaCha20 stream,
 * the (port, ID) hash, the timer wheel, the per-target RTT estimators). Not part of dp/flow's face:
 * only dp/flow's own files, its unit tests and bench/flow include this.
 */
#ifndef VPCDNS_DP_FLOW_INTERNAL_H
#define VPCDNS_DP_FLOW_INTERNAL_H

#include "dp/flow/flow.h"

#define FLOW_NIL UINT32_MAX

/* The timer wheel ticks every 2^20 ns (about 1.05 ms): one slot per tick. */
#define FLOW_TICK_SHIFT 20
#define FLOW_TICK_NS	(1ull << FLOW_TICK_SHIFT)

/* RFC 6298's backoff doubles the RTO per timeout; beyond this many doublings the clamp governs. */
#define FLOW_BACKOFF_MAX 16

/*
 * ChaCha20 (RFC 8439) as a keystream generator. ChaCha20 rather than ChaCha8 or 12: it is the
 * variant with published test vectors we check ourselves against, and computing eight blocks side
 * by side brings it to about 1 ns per 16-bit draw (bench/flow), four draws a query: fewer rounds
 * would save about 2 ns a query at the price of a margin nobody has to argue about.
 */
#define FLOW_RNG_BLOCKS 8 /* blocks per refill, computed side by side */
#define FLOW_RNG_LANES	(FLOW_RNG_BLOCKS * 32)
struct flow_rng {
	uint32_t input[16]; /* constants, key, 64-bit block counter, zero nonce */
	/* The keystream, handed out 16 bits at a time (lane order assumes a little-endian host). */
	union {
		uint32_t words[FLOW_RNG_LANES / 2];
		uint16_t lanes[FLOW_RNG_LANES];
	} __attribute__((aligned(32)));
	unsigned next_lane;
};

void flow_chacha20_block(const uint32_t input[16], uint32_t out[16]);
void flow_rng_init(struct flow_rng *r, const uint8_t seed[FLOW_SEED_BYTES]);
void flow_rng_refill(struct flow_rng *r);

static inline uint16_t flow_rng_u16(struct flow_rng *r)
{
	if (__builtin_expect(r->next_lane == FLOW_RNG_LANES, 0))
		flow_rng_refill(r);
	return r->lanes[r->next_lane++];
}

uint32_t flow_rng_u32(struct flow_rng *r);
/* Uniform in 0..n-1 (no modulo bias), 1 <= n <= 2^32 - 1. */
uint32_t flow_rng_below(struct flow_rng *r, uint32_t n);
/* Uniform in 0..n-1, 1 <= n <= 65,536, from one 16-bit draw (rarely more). */
uint16_t flow_rng_below16(struct flow_rng *r, uint32_t n);

/* One (port, ID) -> flow entry of the open-addressing hash; index FLOW_NIL is an empty entry. */
struct flow_key_entry {
	uint32_t key; /* port << 16 | id */
	uint32_t index;
};

/* A timer list's sentinel: the wheel's slots, linked with flows in one index space. */
struct flow_wheel_slot {
	uint32_t next, prev;
};

/* What a pick reads comes first. */
struct flow_target_state {
	uint64_t rto_ns;
	uint64_t probe_wait_ns; /* a probe's timeout while the target is in backoff */
	uint64_t last_sent_ns;	/* spaces the probes of a target in backoff */
	uint32_t backoff;
	uint64_t base_rto_ns; /* the RTO before backoff */
	uint64_t srtt_ns, rttvar_ns;
	uint64_t requests, retries, answers, timeouts, rtt_samples;
};

struct flow_table {
	struct flow *flows;
	uint32_t capacity;
	uint32_t n_free;
	uint32_t *free_stack;

	struct flow_key_entry *keys;
	uint32_t key_mask;
	uint32_t key_bits;

	/* Wheel slot s is list node s; flow i is list node n_slots + i. */
	struct flow_wheel_slot *wheel;
	uint32_t n_slots;
	uint64_t wheel_tick; /* every tick before this one has been expired */

	struct flow_target_state *targets;
	uint32_t (*hists)[FLOW_HIST_BUCKETS];
	uint32_t n_targets;

	uint16_t port_lo;
	uint32_t n_ports;
	uint8_t tries;
	uint64_t timeout_initial_ns, timeout_min_ns, timeout_max_ns;

	struct flow_rng rng;
	struct flow_stats stats;
};

/* flow_timer.c */
void flow_timer_init(struct flow_table *t);
void flow_timer_arm(struct flow_table *t, struct flow *f, uint64_t deadline_ns);
void flow_timer_cancel(struct flow_table *t, struct flow *f);

/* flow_target.c */
void flow_targets_init(struct flow_table *t);
void flow_target_timed_out(struct flow_table *t, uint32_t target);
void flow_target_rtt_sample(struct flow_table *t, uint32_t target, uint64_t rtt_ns);
unsigned flow_hist_bucket(uint64_t ns);
uint64_t flow_hist_bucket_low(unsigned bucket);
uint64_t flow_hist_bucket_high(unsigned bucket);

/* flow_table.c */
bool flow_key_redraw(struct flow_table *t, struct flow *f);

static inline uint32_t flow_index(const struct flow_table *t, const struct flow *f)
{
	return (uint32_t)(f - t->flows);
}

#endif
