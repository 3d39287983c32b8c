/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/flow tries: which target and endpoint address each try of a flow goes to, and what a try
 * teaches the table. The first try is random on both; each retry prefers a target not yet tried
 * and never repeats the last endpoint address or (when it can help it) the last target, leaves
 * with a fresh (port, ID), and waits for that target's current RTO.
 *
 * Among the targets a try may go to, those in backoff (timed out since their last answer) are
 * passed over while another is welcome, except for one probe per RTO: the backoff that doubles a
 * silent target's RTO spaces its probes, and a probe waits only the RTO from before the timeouts
 * (at least the initial one), since a welcome target stands by for the retry. So a dead target
 * costs one query per RTO on this lcore a short wait, and comes back with its first answer. When
 * no candidate is welcome the try goes to one in backoff and waits its whole RTO, as RFC 6298
 * has it: that is how a target that became slow, not dead, gets measured again.
 */
#include "dp/flow/flow_internal.h"

static bool choice_sizes_valid(unsigned n_targets, unsigned n_endpoints)
{
	return n_targets >= 1 && n_targets <= FLOW_TARGETS_PER_RULE && n_endpoints >= 1 &&
	       n_endpoints <= 255;
}

/* A uniformly random set bit of mask (mask != 0). */
static unsigned random_bit(struct flow_rng *rng, uint32_t mask)
{
	uint32_t skip = flow_rng_below16(rng, (uint32_t)__builtin_popcount(mask));

	while (skip--)
		mask &= mask - 1;
	return (unsigned)__builtin_ctz(mask);
}

/* Random in 0..n-1 but not last, unless n is 1. */
static unsigned random_other_than(struct flow_rng *rng, unsigned n, unsigned last)
{
	unsigned r;

	if (n == 1)
		return 0;
	r = flow_rng_below16(rng, n - 1);
	return r >= last ? r + 1 : r;
}

static bool target_welcome(const struct flow_target_state *s, uint64_t now)
{
	return s->backoff == 0 || now - s->last_sent_ns >= s->rto_ns;
}

struct target_pick {
	unsigned slot;
	uint64_t wait_ns;
};

/* A random slot of candidates (a mask of the rule's slots, not 0), welcome targets first, and
 * how long the try waits for it. */
static struct target_pick pick_target(struct flow_table *t, const uint32_t *targets,
				      uint32_t candidates, uint64_t now)
{
	uint32_t welcome = 0;
	struct target_pick pick;
	const struct flow_target_state *s;

	for (uint32_t m = candidates; m; m &= m - 1) {
		unsigned slot = (unsigned)__builtin_ctz(m);
		if (target_welcome(&t->targets[targets[slot]], now))
			welcome |= 1u << slot;
	}
	pick.slot = random_bit(&t->rng, welcome ? welcome : candidates);
	s = &t->targets[targets[pick.slot]];
	pick.wait_ns = welcome && s->backoff ? s->probe_wait_ns : s->rto_ns;
	return pick;
}

static void send_try(struct flow_table *t, struct flow *f, uint64_t now, const uint32_t *targets,
		     struct target_pick target, unsigned endpoint_slot, struct flow_choice *out)
{
	struct flow_target_state *s;

	f->target_slot = (uint8_t)target.slot;
	f->endpoint_slot = (uint8_t)endpoint_slot;
	f->target = targets[target.slot];
	f->tried_mask |= (uint8_t)(1u << target.slot);
	f->tries++;
	f->sent_ns = now;
	s = &t->targets[f->target];
	s->last_sent_ns = now;
	s->requests++;
	if (f->tries > 1)
		s->retries++;
	flow_timer_arm(t, f, now + target.wait_ns);

	out->target_slot = f->target_slot;
	out->endpoint_slot = f->endpoint_slot;
	out->target = f->target;
	out->timeout_ns = target.wait_ns;
}

static bool targets_known(const struct flow_table *t, const uint32_t *targets, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (targets[i] >= t->n_targets)
			return false;
	return true;
}

bool flow_pick_first(struct flow_table *t, struct flow *f, uint64_t now, const uint32_t *targets,
		     unsigned n_targets, unsigned n_endpoints, struct flow_choice *out)
{
	if (!choice_sizes_valid(n_targets, n_endpoints) || !targets_known(t, targets, n_targets))
		return false;
	f->tries = 0;
	f->tried_mask = 0;
	send_try(t, f, now, targets, pick_target(t, targets, (1u << n_targets) - 1, now),
		 flow_rng_below16(&t->rng, n_endpoints), out);
	return true;
}

bool flow_retry(struct flow_table *t, struct flow *f, uint64_t now, const uint32_t *targets,
		unsigned n_targets, unsigned n_endpoints, struct flow_choice *out)
{
	uint32_t all, candidates;

	if (!choice_sizes_valid(n_targets, n_endpoints) || !targets_known(t, targets, n_targets))
		return false;
	if (f->tries >= t->tries) {
		t->stats.exhausted++;
		return false;
	}
	if (!flow_key_redraw(t, f))
		return false;
	all = (1u << n_targets) - 1;
	candidates = all & ~(uint32_t)f->tried_mask;
	if (!candidates)
		candidates = n_targets > 1 ? all & ~(1u << f->target_slot) : all;
	flow_timer_cancel(t, f);
	send_try(t, f, now, targets, pick_target(t, targets, candidates, now),
		 random_other_than(&t->rng, n_endpoints, f->endpoint_slot), out);
	t->stats.retried++;
	return true;
}

void flow_record_answer(struct flow_table *t, struct flow *f, uint64_t now)
{
	t->targets[f->target].answers++;
	flow_target_rtt_sample(t, f->target, now >= f->sent_ns ? now - f->sent_ns : 0);
}
