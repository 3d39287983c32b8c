/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/flow targets: what one lcore has measured of each target. RFC 6298's estimator in integer
 * nanoseconds (SRTT, RTTVAR, RTO = SRTT + max(tick, 4 RTTVAR), clamped to the table's floor and
 * ceiling; the initial RTO before any sample; each timeout doubles the RTO until a fresh sample
 * resets the backoff), the counters the metrics need (requests, answers, timeouts) and a log-scale
 * RTT histogram from which P90ResponseTime is read.
 */
#include "dp/flow/flow_internal.h"

static uint64_t clamp_rto(const struct flow_table *t, uint64_t rto)
{
	if (rto < t->timeout_min_ns)
		return t->timeout_min_ns;
	if (rto > t->timeout_max_ns)
		return t->timeout_max_ns;
	return rto;
}

static void update_rto(const struct flow_table *t, struct flow_target_state *s)
{
	uint64_t base = t->timeout_initial_ns;

	if (s->rtt_samples) {
		uint64_t spread = 4 * s->rttvar_ns;
		base = s->srtt_ns + (spread > FLOW_TICK_NS ? spread : FLOW_TICK_NS);
	}
	/* RFC 6298 doubles the RTO, floor applied, not the raw estimate. */
	base = s->base_rto_ns = clamp_rto(t, base);
	/* Shifting past the ceiling is pointless and could overflow: stop at it. */
	for (uint32_t i = 0; i < s->backoff && base < t->timeout_max_ns; i++)
		base <<= 1;
	s->rto_ns = clamp_rto(t, base);
	/* A probe asks whether the target is back: it waits what an answer would have taken
	 * before the timeouts (at least the initial RTO), never the whole backed-off RTO. */
	uint64_t probe =
	    s->base_rto_ns > t->timeout_initial_ns ? s->base_rto_ns : t->timeout_initial_ns;
	s->probe_wait_ns = probe < s->rto_ns ? probe : s->rto_ns;
}

void flow_targets_init(struct flow_table *t)
{
	for (uint32_t i = 0; i < t->n_targets; i++)
		update_rto(t, &t->targets[i]);
}

void flow_target_timed_out(struct flow_table *t, uint32_t target)
{
	struct flow_target_state *s = &t->targets[target];

	s->timeouts++;
	if (s->backoff < FLOW_BACKOFF_MAX)
		s->backoff++;
	update_rto(t, s);
}

void flow_target_rtt_sample(struct flow_table *t, uint32_t target, uint64_t rtt_ns)
{
	struct flow_target_state *s = &t->targets[target];

	if (s->rtt_samples == 0) {
		s->srtt_ns = rtt_ns;
		s->rttvar_ns = rtt_ns / 2;
	} else {
		uint64_t err = s->srtt_ns > rtt_ns ? s->srtt_ns - rtt_ns : rtt_ns - s->srtt_ns;
		s->rttvar_ns = (3 * s->rttvar_ns + err) / 4;
		s->srtt_ns = (7 * s->srtt_ns + rtt_ns) / 8;
	}
	s->rtt_samples++;
	s->backoff = 0;
	update_rto(t, s);
	t->hists[target][flow_hist_bucket(rtt_ns)]++;
}

/* Bucket 0 holds everything under 2^MIN_LOG2 ns, the last everything from 2^(MAX_LOG2+1) ns;
 * between them each power of two is split into 2^SUB_BITS equal buckets. */
unsigned flow_hist_bucket(uint64_t ns)
{
	unsigned log2;

	if (ns < (1ull << FLOW_HIST_MIN_LOG2))
		return 0;
	log2 = 63 - (unsigned)__builtin_clzll(ns);
	if (log2 > FLOW_HIST_MAX_LOG2)
		return FLOW_HIST_BUCKETS - 1;
	unsigned sub =
	    (unsigned)(ns >> (log2 - FLOW_HIST_SUB_BITS)) & ((1u << FLOW_HIST_SUB_BITS) - 1);
	return 1 + ((log2 - FLOW_HIST_MIN_LOG2) << FLOW_HIST_SUB_BITS) + sub;
}

uint64_t flow_hist_bucket_low(unsigned bucket)
{
	if (bucket == 0)
		return 0;
	if (bucket >= FLOW_HIST_BUCKETS - 1)
		return 1ull << (FLOW_HIST_MAX_LOG2 + 1);
	unsigned log2 = FLOW_HIST_MIN_LOG2 + ((bucket - 1) >> FLOW_HIST_SUB_BITS);
	uint64_t sub = (bucket - 1) & ((1u << FLOW_HIST_SUB_BITS) - 1);
	return ((1ull << FLOW_HIST_SUB_BITS) + sub) << (log2 - FLOW_HIST_SUB_BITS);
}

uint64_t flow_hist_bucket_high(unsigned bucket)
{
	if (bucket >= FLOW_HIST_BUCKETS - 1)
		return flow_hist_bucket_low(bucket);
	return flow_hist_bucket_low(bucket + 1);
}

uint64_t flow_hist_quantile(const uint32_t hist[FLOW_HIST_BUCKETS], double q)
{
	uint64_t total = 0, seen = 0, rank;

	for (unsigned b = 0; b < FLOW_HIST_BUCKETS; b++)
		total += hist[b];
	if (total == 0)
		return 0;
	/* The nearest-rank definition: the smallest sample with at least q of them at or below. */
	double exact = q * (double)total;
	rank = (uint64_t)exact;
	if ((double)rank < exact)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > total)
		rank = total;
	for (unsigned b = 0; b < FLOW_HIST_BUCKETS; b++) {
		seen += hist[b];
		if (seen >= rank)
			return (flow_hist_bucket_low(b) + flow_hist_bucket_high(b)) / 2;
	}
	return 0;
}

bool flow_target_stats(const struct flow_table *t, uint32_t target, struct flow_target_stats *out)
{
	const struct flow_target_state *s;

	if (target >= t->n_targets)
		return false;
	s = &t->targets[target];
	out->requests = s->requests;
	out->retries = s->retries;
	out->answers = s->answers;
	out->timeouts = s->timeouts;
	out->rtt_samples = s->rtt_samples;
	out->srtt_ns = s->srtt_ns;
	out->rttvar_ns = s->rttvar_ns;
	out->rto_ns = s->rto_ns;
	out->probe_wait_ns = s->probe_wait_ns;
	out->backoff = s->backoff;
	for (unsigned b = 0; b < FLOW_HIST_BUCKETS; b++)
		out->hist[b] = t->hists[target][b];
	return true;
}
