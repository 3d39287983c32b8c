/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/flow targets: RFC 6298 arithmetic with exact values, backoff on timeout and its reset, the
 * floor and the ceiling, and P90 from the RTT histogram.
 */
#include "flow_test_util.h"

static struct flow_target_stats stats_of(const struct flow_table *t, uint32_t target)
{
	struct flow_target_stats s;

	cr_assert(flow_target_stats(t, target, &s));
	return s;
}

Test(flow_rtt, before_any_sample_the_rto_is_the_initial_timeout)
{
	struct flow_table_params p = test_params(4, 3, 2);
	struct flow_table *t = new_table(&p);

	cr_assert_eq(stats_of(t, 1).rto_ns, 200 * MS);
	cr_assert_eq(stats_of(t, 1).rtt_samples, 0);
	flow_table_free(t);
}

Test(flow_rtt, estimator_follows_rfc_6298_exactly)
{
	struct flow_table_params p = test_params(4, 3, 1);
	struct flow_table *t;
	struct flow_target_stats s;

	p.timeout_min_ns = 1 * MS;
	t = new_table(&p);
	/* R = 100 ms: SRTT = 100, RTTVAR = 50, RTO = 100 + 4*50 = 300 ms. */
	flow_target_rtt_sample(t, 0, 100 * MS);
	s = stats_of(t, 0);
	cr_assert_eq(s.srtt_ns, 100 * MS);
	cr_assert_eq(s.rttvar_ns, 50 * MS);
	cr_assert_eq(s.rto_ns, 300 * MS);
	/* R = 20 ms: RTTVAR = 3/4*50 + 1/4*|100-20| = 57.5, SRTT = 7/8*100 + 1/8*20 = 90,
	 * RTO = 90 + 230 = 320 ms. */
	flow_target_rtt_sample(t, 0, 20 * MS);
	s = stats_of(t, 0);
	cr_assert_eq(s.rttvar_ns, 57500000);
	cr_assert_eq(s.srtt_ns, 90 * MS);
	cr_assert_eq(s.rto_ns, 320 * MS);
	/* R = 90 ms: RTTVAR = 3/4*57.5 = 43.125, SRTT = 90, RTO = 90 + 172.5 = 262.5 ms. */
	flow_target_rtt_sample(t, 0, 90 * MS);
	s = stats_of(t, 0);
	cr_assert_eq(s.rttvar_ns, 43125000);
	cr_assert_eq(s.srtt_ns, 90 * MS);
	cr_assert_eq(s.rto_ns, 262500000);
	cr_assert_eq(s.rtt_samples, 3);
	flow_table_free(t);
}

Test(flow_rtt, steady_fast_target_gets_the_floor)
{
	struct flow_table_params p = test_params(4, 3, 1);
	struct flow_table *t = new_table(&p);

	for (int i = 0; i < 20; i++)
		flow_target_rtt_sample(t, 0, 2 * MS);
	cr_assert_eq(stats_of(t, 0).srtt_ns, 2 * MS);
	cr_assert_eq(stats_of(t, 0).rto_ns, 20 * MS);
	flow_table_free(t);
}

Test(flow_rtt, rto_is_at_least_srtt_plus_one_tick_when_rttvar_is_tiny)
{
	struct flow_table_params p = test_params(4, 3, 1);
	struct flow_table *t;

	p.timeout_min_ns = 1000;
	t = new_table(&p);
	for (int i = 0; i < 80; i++)
		flow_target_rtt_sample(t, 0, 5 * MS);
	cr_assert_eq(stats_of(t, 0).rttvar_ns, 0);
	cr_assert_eq(stats_of(t, 0).rto_ns, 5 * MS + FLOW_TICK_NS);
	flow_table_free(t);
}

Test(flow_rtt, each_timeout_doubles_the_rto_up_to_the_ceiling)
{
	struct flow_table_params p = test_params(4, 3, 1);
	struct flow_table *t = new_table(&p);
	uint64_t expect[] = {400 * MS, 800 * MS, 1600 * MS, 2000 * MS, 2000 * MS};

	for (unsigned i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		flow_target_timed_out(t, 0);
		cr_assert_eq(stats_of(t, 0).rto_ns, expect[i], "after %u timeouts", i + 1);
		cr_assert_eq(stats_of(t, 0).backoff, i + 1);
	}
	for (int i = 0; i < 100; i++)
		flow_target_timed_out(t, 0);
	cr_assert_eq(stats_of(t, 0).rto_ns, 2000 * MS, "no overflow past the ceiling");
	cr_assert_eq(stats_of(t, 0).timeouts, 105);
	flow_table_free(t);
}

Test(flow_rtt, fresh_sample_resets_the_backoff)
{
	struct flow_table_params p = test_params(4, 3, 1);
	struct flow_table *t = new_table(&p);

	flow_target_rtt_sample(t, 0, 40 * MS); /* RTO 40 + 80 = 120 ms */
	flow_target_timed_out(t, 0);
	flow_target_timed_out(t, 0);
	cr_assert_eq(stats_of(t, 0).rto_ns, 480 * MS);
	flow_target_rtt_sample(t, 0, 40 * MS); /* RTTVAR 15, SRTT 40: RTO 100 ms */
	cr_assert_eq(stats_of(t, 0).backoff, 0);
	cr_assert_eq(stats_of(t, 0).rto_ns, 100 * MS);
	flow_table_free(t);
}

Test(flow_rtt, slow_target_is_capped_by_the_ceiling)
{
	struct flow_table_params p = test_params(4, 3, 1);
	struct flow_table *t = new_table(&p);

	flow_target_rtt_sample(t, 0, 1500 * MS);
	cr_assert_eq(stats_of(t, 0).rto_ns, 2000 * MS);
	flow_table_free(t);
}

Test(flow_rtt, answer_through_a_flow_samples_now_minus_sent)
{
	struct flow_table_params p = test_params(4, 3, 3);
	struct flow_table *t = new_table(&p);
	static const uint32_t target[] = {2};
	struct flow_choice c;
	struct flow *f = open_flow(t, T0);

	assert_sent(flow_pick_first(t, f, T0, target, 1, 1, &c));
	flow_record_answer(t, f, T0 + 7 * MS);
	cr_assert_eq(stats_of(t, 2).srtt_ns, 7 * MS);
	cr_assert_eq(stats_of(t, 2).answers, 1);
	cr_assert_eq(stats_of(t, 2).requests, 1);
	flow_table_free(t);
}

Test(flow_hist, buckets_are_contiguous_and_contain_their_values)
{
	for (unsigned b = 1; b + 1 < FLOW_HIST_BUCKETS; b++) {
		uint64_t lo = flow_hist_bucket_low(b), hi = flow_hist_bucket_high(b);
		cr_assert_lt(lo, hi);
		cr_assert_eq(flow_hist_bucket(lo), b);
		cr_assert_eq(flow_hist_bucket(hi - 1), b);
		cr_assert_eq(flow_hist_bucket_low(b + 1), hi);
		/* Within 1/8 of a power of two: the quantile's resolution. */
		cr_assert_leq((hi - lo) * 8, lo);
	}
	cr_assert_eq(flow_hist_bucket(0), 0);
	cr_assert_eq(flow_hist_bucket(UINT64_MAX), FLOW_HIST_BUCKETS - 1);
}

Test(flow_hist, p90_of_a_uniform_distribution_is_within_the_bucket_resolution)
{
	struct flow_table_params p = test_params(4, 3, 1);
	struct flow_table *t = new_table(&p);
	struct flow_target_stats s;

	/* 1,000 samples, 0.1 ms to 100 ms evenly: the true P90 is 90 ms. */
	for (int i = 1; i <= 1000; i++)
		flow_target_rtt_sample(t, 0, (uint64_t)i * MS / 10);
	s = stats_of(t, 0);
	uint64_t p90 = flow_hist_quantile(s.hist, 0.9);
	cr_assert(p90 >= 90 * MS * 15 / 16 && p90 <= 90 * MS * 17 / 16, "P90 %lu ns",
		  (unsigned long)p90);
	uint64_t p50 = flow_hist_quantile(s.hist, 0.5);
	cr_assert(p50 >= 50 * MS * 15 / 16 && p50 <= 50 * MS * 17 / 16, "P50 %lu ns",
		  (unsigned long)p50);
	flow_table_free(t);
}

Test(flow_hist, p90_of_a_bimodal_distribution_lands_in_the_slow_mode)
{
	uint32_t hist[FLOW_HIST_BUCKETS] = {0};

	/* 85 answers at 1 ms and 15 at 300 ms: P90 is a slow one. */
	hist[flow_hist_bucket(1 * MS)] = 85;
	hist[flow_hist_bucket(300 * MS)] = 15;
	uint64_t p90 = flow_hist_quantile(hist, 0.9);
	cr_assert_eq(flow_hist_bucket(p90), flow_hist_bucket(300 * MS));
	cr_assert_eq(flow_hist_bucket(flow_hist_quantile(hist, 0.85)), flow_hist_bucket(1 * MS));
}

Test(flow_hist, empty_histogram_has_no_quantile)
{
	uint32_t hist[FLOW_HIST_BUCKETS] = {0};

	cr_assert_eq(flow_hist_quantile(hist, 0.9), 0);
}

Test(flow_rtt, backoff_doubles_the_floored_rto_not_the_raw_estimate)
{
	struct flow_table_params p = test_params(4, 3, 1);
	struct flow_table *t = new_table(&p);

	flow_target_rtt_sample(t, 0, 1 * MS); /* estimate 3 ms, floored to 20 ms */
	cr_assert_eq(stats_of(t, 0).rto_ns, 20 * MS);
	flow_target_timed_out(t, 0);
	cr_assert_eq(stats_of(t, 0).rto_ns, 40 * MS);
	flow_target_timed_out(t, 0);
	cr_assert_eq(stats_of(t, 0).rto_ns, 80 * MS);
	flow_table_free(t);
}
