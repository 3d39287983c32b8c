/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/flow tries: which target and endpoint address each try of a flow goes to, and what a try
 * teaches the table. The first try is random on both; each retry prefers a target not yet tried
 * and never repeats the last endpoint address or (when it can help it) the last target, leaves
 * with a fresh (port, ID), and waits for that target's current RTO.
 *
 * Among the targets a try may go to, those in backoff (timed out since their last answer) are
 * passed over while another is welcome, except for one probe per RTO: the backoff that doubles a
 * silent target's RTO spaces its probes. A try to a target more backed off than another of the
 * rule waits only the RTO from before its timeouts (at least the initial one), since a better
 * target stands by for the retry. So a dead target costs one query per RTO on this lcore a short
 * wait, and comes back with its first answer. A try to the least backed-off target of the rule
 * waits its whole RTO, as RFC 6298 has it: that is how targets that became slow, not dead, get
 * measured again.
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

/* A random slot of candidates (a mask of the rule's n slots, not 0): a welcome target if there
 * is one, else one of the least backed off; and how long the try waits for it. */
static struct target_pick pick_target(struct flow_table *t, const uint32_t *targets, unsigned n,
				      uint32_t candidates, uint64_t now)
{
	uint32_t welcome = 0, least = 0, least_backoff = UINT32_MAX, rule_backoff = UINT32_MAX;
	struct target_pick pick;

	for (unsigned slot = 0; slot < n; slot++) {
		const struct flow_target_state *s = &t->targets[targets[slot]];
		if (s->backoff < rule_backoff)
			rule_backoff = s->backoff;
		if (!(candidates & (1u << slot)))
			continue;
		if (target_welcome(s, now))
			welcome |= 1u << slot;
		if (s->backoff < least_backoff) {
			least_backoff = s->backoff;
			least = 0;
		}
		if (s->backoff == least_backoff)
			least |= 1u << slot;
	}
	pick.slot = random_bit(&t->rng, welcome ? welcome : least);
	const struct flow_target_state *s = &t->targets[targets[pick.slot]];
	/* Waiting out a backed-off RTO is worth it only when no target of the rule is less
	 * suspect: then it is how a target that became slow, not dead, gets measured again. */
	pick.wait_ns = s->backoff > rule_backoff ? s->probe_wait_ns : s->rto_ns;
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

enum flow_try_result flow_pick_first(struct flow_table *t, struct flow *f, uint64_t now,
				     const uint32_t *targets, unsigned n_targets,
				     unsigned n_endpoints, struct flow_choice *out)
{
	if (!choice_sizes_valid(n_targets, n_endpoints) || !targets_known(t, targets, n_targets))
		return FLOW_TRY_BAD_RULE;
	f->tries = 0;
	f->tried_mask = 0;
	send_try(t, f, now, targets, pick_target(t, targets, n_targets, (1u << n_targets) - 1, now),
		 flow_rng_below16(&t->rng, n_endpoints), out);
	return FLOW_TRY_SENT;
}

enum flow_try_result flow_retry(struct flow_table *t, struct flow *f, uint64_t now,
				const uint32_t *targets, unsigned n_targets, unsigned n_endpoints,
				struct flow_choice *out)
{
	uint32_t all, candidates;

	if (!choice_sizes_valid(n_targets, n_endpoints) || !targets_known(t, targets, n_targets))
		return FLOW_TRY_BAD_RULE;
	if (f->tries >= t->tries) {
		t->stats.exhausted++;
		return FLOW_TRY_EXHAUSTED;
	}
	if (!flow_key_redraw(t, f))
		return FLOW_TRY_NO_KEY;
	all = (1u << n_targets) - 1;
	candidates = all & ~(uint32_t)f->tried_mask;
	if (!candidates)
		candidates = n_targets > 1 ? all & ~(1u << f->target_slot) : all;
	flow_timer_cancel(t, f);
	send_try(t, f, now, targets, pick_target(t, targets, n_targets, candidates, now),
		 random_other_than(&t->rng, n_endpoints, f->endpoint_slot), out);
	t->stats.retried++;
	return FLOW_TRY_SENT;
}

void flow_record_answer(struct flow_table *t, struct flow *f, uint64_t now)
{
	t->targets[f->target].answers++;
	flow_target_rtt_sample(t, f->target, now >= f->sent_ns ? now - f->sent_ns : 0);
}
