/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/flow tries: the first pick, retries to untried targets from another endpoint address with a
 * fresh (port, ID), the timer re-armed with the target's RTO, and the end of the tries.
 */
#include "flow_test_util.h"

static const uint32_t targets[] = {10, 11, 12, 13, 14, 15};

Test(flow_pick, first_pick_sends_to_one_of_the_rules_targets_and_arms_its_rto)
{
	struct flow_table_params p = test_params(16, 3, 16);
	struct flow_table *t = new_table(&p);
	struct flow *f = open_flow(t, T0);
	struct flow_choice c;
	struct flow_target_stats ts;

	assert_sent(flow_pick_first(t, f, T0, targets, 4, 2, &c));
	cr_assert_lt(c.target_slot, 4);
	cr_assert_lt(c.endpoint_slot, 2);
	cr_assert_eq(c.target, targets[c.target_slot]);
	cr_assert_eq(f->target, c.target);
	cr_assert_eq(f->tries, 1);
	cr_assert_eq(f->tried_mask, 1u << c.target_slot);
	cr_assert_eq(c.timeout_ns, 200 * MS);
	cr_assert_eq(f->deadline_ns, T0 + 200 * MS);
	cr_assert(flow_target_stats(t, c.target, &ts));
	cr_assert_eq(ts.requests, 1);
	flow_table_free(t);
}

Test(flow_pick, first_pick_covers_every_target_and_endpoint)
{
	struct flow_table_params p = test_params(16, 3, 16);
	struct flow_table *t = new_table(&p);
	unsigned target_hits[6] = {0}, endpoint_hits[3] = {0};

	for (int i = 0; i < 600; i++) {
		struct flow *f = open_flow(t, T0);
		struct flow_choice c;
		assert_sent(flow_pick_first(t, f, T0, targets, 6, 3, &c));
		target_hits[c.target_slot]++;
		endpoint_hits[c.endpoint_slot]++;
		flow_close(t, f);
	}
	/* Expected 100 and 200; a fair draw with this fixed seed lands well inside these. */
	for (int i = 0; i < 6; i++)
		cr_assert(target_hits[i] > 50 && target_hits[i] < 150, "target %d: %u", i,
			  target_hits[i]);
	for (int i = 0; i < 3; i++)
		cr_assert(endpoint_hits[i] > 130 && endpoint_hits[i] < 270, "endpoint %d: %u", i,
			  endpoint_hits[i]);
	flow_table_free(t);
}

Test(flow_pick, retry_picks_an_untried_target_another_endpoint_and_a_fresh_port_and_id)
{
	struct flow_table_params p = test_params(64, 6, 16);
	struct flow_table *t = new_table(&p);

	for (int round = 0; round < 50; round++) {
		struct flow *f = open_flow(t, T0);
		struct flow_choice c;
		assert_sent(flow_pick_first(t, f, T0, targets, 6, 2, &c));
		for (int try = 2; try <= 6; try++) {
			uint8_t tried_before = f->tried_mask, last_endpoint = f->endpoint_slot;
			uint16_t old_port = f->port, old_id = f->id;
			uint64_t now = T0 + (uint64_t)try * MS;
			assert_sent(flow_retry(t, f, now, targets, 6, 2, &c));
			cr_assert_eq(tried_before & (1u << c.target_slot), 0,
				     "try %d went to a tried target", try);
			cr_assert_neq(c.endpoint_slot, last_endpoint);
			cr_assert_eq(f->tries, try);
			cr_assert(old_port != f->port || old_id != f->id);
			cr_assert_null(flow_find(t, old_port, old_id),
				       "a late reply finds nothing");
			cr_assert_eq(flow_find(t, f->port, f->id), f);
			cr_assert(f->port >= TEST_PORT_LO && f->port <= TEST_PORT_HI);
			cr_assert_eq(f->sent_ns, now);
			cr_assert_eq(f->deadline_ns, now + c.timeout_ns);
		}
		cr_assert_eq(f->tried_mask, 0x3f, "six tries reached all six targets");
		flow_close(t, f);
	}
	flow_table_free(t);
}

Test(flow_pick, once_every_target_was_tried_retry_avoids_the_last_one)
{
	struct flow_table_params p = test_params(64, 6, 16);
	struct flow_table *t = new_table(&p);

	for (int round = 0; round < 100; round++) {
		struct flow *f = open_flow(t, T0);
		struct flow_choice c;
		assert_sent(flow_pick_first(t, f, T0, targets, 2, 1, &c));
		assert_sent(flow_retry(t, f, T0, targets, 2, 1, &c));
		for (int try = 3; try <= 6; try++) {
			uint8_t last = f->target_slot;
			assert_sent(flow_retry(t, f, T0, targets, 2, 1, &c));
			cr_assert_neq(c.target_slot, last);
			cr_assert_eq(c.endpoint_slot, 0, "one endpoint address: it is reused");
		}
		flow_close(t, f);
	}
	flow_table_free(t);
}

Test(flow_pick, single_target_rule_retries_the_same_target)
{
	struct flow_table_params p = test_params(4, 3, 16);
	struct flow_table *t = new_table(&p);
	struct flow *f = open_flow(t, T0);
	struct flow_choice c;

	assert_sent(flow_pick_first(t, f, T0, targets, 1, 2, &c));
	assert_sent(flow_retry(t, f, T0, targets, 1, 2, &c));
	cr_assert_eq(c.target_slot, 0);
	flow_table_free(t);
}

Test(flow_pick, tries_exhausted_returns_false_and_counts_it)
{
	struct flow_table_params p = test_params(4, 3, 16);
	struct flow_table *t = new_table(&p);
	struct flow *f = open_flow(t, T0);
	struct flow_choice c;
	struct flow_stats s;

	assert_sent(flow_pick_first(t, f, T0, targets, 4, 2, &c));
	assert_sent(flow_retry(t, f, T0, targets, 4, 2, &c));
	assert_sent(flow_retry(t, f, T0, targets, 4, 2, &c));
	cr_assert_eq(flow_retry(t, f, T0, targets, 4, 2, &c), FLOW_TRY_EXHAUSTED);
	cr_assert_eq(f->tries, 3);
	flow_table_stats(t, &s);
	cr_assert_eq(s.retried, 2);
	cr_assert_eq(s.exhausted, 1);
	struct flow_target_stats ts;
	uint64_t requests = 0, retries = 0;
	for (unsigned i = 0; i < 4; i++) {
		cr_assert(flow_target_stats(t, targets[i], &ts));
		requests += ts.requests;
		retries += ts.retries;
	}
	cr_assert_eq(requests, 3);
	cr_assert_eq(retries, 2);
	flow_table_free(t);
}

Test(flow_pick, one_try_table_never_retries)
{
	struct flow_table_params p = test_params(4, 1, 16);
	struct flow_table *t = new_table(&p);
	struct flow *f = open_flow(t, T0);
	struct flow_choice c;

	assert_sent(flow_pick_first(t, f, T0, targets, 4, 2, &c));
	cr_assert_eq(flow_retry(t, f, T0, targets, 4, 2, &c), FLOW_TRY_EXHAUSTED);
	flow_table_free(t);
}

Test(flow_pick, refuses_empty_or_oversized_choices_and_unknown_targets)
{
	struct flow_table_params p = test_params(4, 3, 12);
	struct flow_table *t = new_table(&p);
	struct flow *f = open_flow(t, T0);
	uint32_t nine[9] = {0};
	struct flow_choice c;

	cr_assert_eq(flow_pick_first(t, f, T0, targets, 0, 2, &c), FLOW_TRY_BAD_RULE);
	cr_assert_eq(flow_pick_first(t, f, T0, targets, 2, 0, &c), FLOW_TRY_BAD_RULE);
	cr_assert_eq(flow_pick_first(t, f, T0, nine, 9, 2, &c), FLOW_TRY_BAD_RULE);
	cr_assert_eq(flow_pick_first(t, f, T0, targets, 3, 2, &c), FLOW_TRY_BAD_RULE,
		     "target 12 >= n_targets");
	assert_sent(flow_pick_first(t, f, T0, targets, 2, 2, &c));
	flow_table_free(t);
}

Test(flow_pick, timeout_then_retry_charges_the_silent_target_and_fails_over_fast)
{
	/* The seed's failover took 379 ms. Here target 10 answers in 1 ms and target 11 is
	 * silent: once 10 has been measured, a query that first goes to 11 waits 200 ms (11 was
	 * never heard from), and one that first goes to 10 and gets lost waits only the floor. */
	struct flow_table_params p = test_params(8, 3, 16);
	struct flow_table *t = new_table(&p);
	struct flow *out[2], *f;
	struct flow_choice c;
	struct flow_target_stats ts;
	uint64_t now = T0;

	for (int i = 0; i < 8; i++) {
		f = open_flow(t, now);
		assert_sent(flow_pick_first(t, f, now, targets, 1, 2, &c));
		flow_record_answer(t, f, now + MS);
		flow_close(t, f);
	}
	f = open_flow(t, now);
	assert_sent(flow_pick_first(t, f, now, targets, 1, 2, &c));
	cr_assert_eq(c.timeout_ns, 20 * MS);
	cr_assert_eq(flow_expire(t, now + 20 * MS, out, 2), 1);
	cr_assert(flow_target_stats(t, 10, &ts));
	cr_assert_eq(ts.timeouts, 1);
	cr_assert_eq(ts.answers, 8);
	assert_sent(flow_retry(t, f, now + 20 * MS, targets + 1, 1, 2, &c));
	cr_assert_eq(c.target, 11);
	cr_assert_eq(c.timeout_ns, 200 * MS);
	flow_table_free(t);
}

/* Sends one try to target 10 of {10, 11} and lets it time out: 10 is then in backoff. */
static uint64_t silence_target_10(struct flow_table *t)
{
	struct flow *f, *out[1];
	struct flow_choice c;

	do {
		f = open_flow(t, T0);
		assert_sent(flow_pick_first(t, f, T0, targets, 2, 2, &c));
		if (c.target != 10)
			flow_close(t, f);
	} while (c.target != 10);
	cr_assert_eq(flow_expire(t, T0 + 200 * MS, out, 1), 1);
	flow_close(t, f);
	return T0 + 200 * MS;
}

Test(flow_pick, target_in_backoff_is_passed_over_while_another_is_welcome)
{
	struct flow_table_params p = test_params(8, 3, 16);
	struct flow_table *t = new_table(&p);
	uint64_t now = silence_target_10(t);
	struct flow_target_stats ts;

	cr_assert(flow_target_stats(t, 10, &ts));
	cr_assert_eq(ts.backoff, 1);
	cr_assert_eq(ts.rto_ns, 400 * MS);
	for (int i = 0; i < 200; i++) {
		struct flow *f = open_flow(t, now);
		struct flow_choice c;
		assert_sent(flow_pick_first(t, f, now, targets, 2, 2, &c));
		cr_assert_eq(c.target, 11, "pick %d went to the silent target", i);
		flow_close(t, f);
	}
	flow_table_free(t);
}

Test(flow_pick, target_in_backoff_gets_one_probe_per_rto)
{
	struct flow_table_params p = test_params(8, 3, 16);
	struct flow_table *t = new_table(&p);
	uint64_t now = silence_target_10(t);
	int probes = 0;

	/* Its last try left at T0; its RTO is now 400 ms: from T0 + 400 ms one pick may go. */
	now = T0 + 400 * MS;
	for (int i = 0; i < 200; i++) {
		struct flow *f = open_flow(t, now);
		struct flow_choice c;
		assert_sent(flow_pick_first(t, f, now, targets, 2, 2, &c));
		if (c.target == 10) {
			probes++;
			/* Not the backed-off 400 ms: target 11 stands by for the retry. */
			cr_assert_eq(c.timeout_ns, 200 * MS);
		}
		flow_close(t, f);
	}
	cr_assert_eq(probes, 1);
	flow_table_free(t);
}

Test(flow_pick, when_every_candidate_is_in_backoff_retry_waits_its_whole_rto)
{
	struct flow_table_params p = test_params(8, 3, 16);
	struct flow_table *t = new_table(&p);
	struct flow *f, *out[1];
	struct flow_choice c;

	f = open_flow(t, T0);
	assert_sent(flow_pick_first(t, f, T0, targets, 1, 2, &c));
	cr_assert_eq(flow_expire(t, T0 + 200 * MS, out, 1), 1);
	/* The rule's only target timed out 0 ms ago: not welcome, but the retry goes to it
	 * anyway, and waits its backed-off RTO (a target that became slow gets measured). */
	assert_sent(flow_retry(t, f, T0 + 200 * MS, targets, 1, 2, &c));
	cr_assert_eq(c.target, 10);
	cr_assert_eq(c.timeout_ns, 400 * MS);
	cr_assert_eq(f->deadline_ns, T0 + 600 * MS);
	flow_table_free(t);
}

Test(flow_pick, answer_from_a_target_in_backoff_makes_it_welcome_again)
{
	struct flow_table_params p = test_params(8, 3, 16);
	struct flow_table *t = new_table(&p);
	uint64_t now = silence_target_10(t);
	struct flow_choice c;
	struct flow *f;
	int hits = 0;

	now = T0 + 400 * MS;
	do {
		f = open_flow(t, now);
		assert_sent(flow_pick_first(t, f, now, targets, 2, 2, &c));
		if (c.target != 10)
			flow_close(t, f);
	} while (c.target != 10);
	flow_record_answer(t, f, now + 5 * MS);
	flow_close(t, f);
	for (int i = 0; i < 200; i++) {
		f = open_flow(t, now + 5 * MS);
		assert_sent(flow_pick_first(t, f, now + 5 * MS, targets, 2, 2, &c));
		hits += c.target == 10;
		flow_close(t, f);
	}
	cr_assert(hits > 60 && hits < 140, "target 10 got %d of 200 after it answered", hits);
	flow_table_free(t);
}

Test(flow_pick, probe_of_a_once_fast_target_waits_the_initial_rto_not_its_backoff)
{
	struct flow_table_params p = test_params(8, 3, 16);
	struct flow_table *t = new_table(&p);
	struct flow *f, *out[1];
	struct flow_choice c;
	struct flow_target_stats ts;

	/* Target 10 answered in 1 ms (RTO at the 20 ms floor), then fell silent four times. */
	f = open_flow(t, T0);
	assert_sent(flow_pick_first(t, f, T0, targets, 1, 1, &c));
	flow_record_answer(t, f, T0 + MS);
	for (int i = 0; i < 4; i++) {
		assert_sent(flow_pick_first(t, f, T0, targets, 1, 1, &c));
		cr_assert_eq(flow_expire(t, T0 + 10000 * MS, out, 1), 1);
	}
	cr_assert(flow_target_stats(t, 10, &ts));
	cr_assert_eq(ts.rto_ns, 320 * MS);
	cr_assert_eq(ts.probe_wait_ns, 200 * MS);
	flow_close(t, f);
	flow_table_free(t);
}

Test(flow_pick, retry_to_a_long_dead_target_waits_its_probe_time_not_its_backed_off_rto)
{
	struct flow_table_params p = test_params(8, 3, 16);
	struct flow_table *t = new_table(&p);
	struct flow *f, *out[1];
	struct flow_choice c;
	uint64_t now;

	/* Target 11 has timed out three times (RTO 1.6 s); then target 10 loses one query. */
	for (int i = 0; i < 3; i++)
		flow_target_timed_out(t, 11);
	now = T0;
	f = open_flow(t, now);
	assert_sent(flow_pick_first(t, f, now, targets, 2, 2, &c));
	cr_assert_eq(c.target, 10, "11 is in backoff and not yet due a probe");
	cr_assert_eq(flow_expire(t, now + 200 * MS, out, 1), 1);
	/* Both are in backoff now; 11 is the only untried one and more backed off than 10. */
	assert_sent(flow_retry(t, f, now + 200 * MS, targets, 2, 2, &c));
	cr_assert_eq(c.target, 11);
	cr_assert_eq(c.timeout_ns, 200 * MS);
	flow_table_free(t);
}
