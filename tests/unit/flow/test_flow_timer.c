/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/flow timers: flow_expire returns exactly the due flows, in order of deadline to within one
 * wheel tick, at most max per call; closing or retrying a flow cancels its timer; a stalled lcore
 * catches up.
 */
#include "flow_test_util.h"

static const uint32_t one_target[] = {0};

/* Opens a flow whose timer is armed for the table's initial RTO from now. */
static struct flow *armed_flow(struct flow_table *t, uint64_t now)
{
	struct flow_choice c;
	struct flow *f = open_flow(t, now);

	assert_sent(flow_pick_first(t, f, now, one_target, 1, 2, &c));
	cr_assert_eq(f->deadline_ns, now + 200 * MS);
	return f;
}

Test(flow_timer, nothing_expires_before_its_deadline_and_all_does_at_it)
{
	struct flow_table_params p = test_params(16, 3, 1);
	struct flow_table *t = new_table(&p);
	struct flow *f = armed_flow(t, T0), *out[4];

	cr_assert_eq(flow_expire(t, T0, out, 4), 0);
	cr_assert_eq(flow_expire(t, T0 + 200 * MS - 1, out, 4), 0);
	cr_assert_eq(flow_expire(t, T0 + 200 * MS, out, 4), 1);
	cr_assert_eq(out[0], f);
	cr_assert_eq(flow_expire(t, T0 + 400 * MS, out, 4), 0, "expired once only");
	cr_assert_eq(flow_find(t, f->port, f->id), f, "an expired flow stays open until closed");
	flow_table_free(t);
}

Test(flow_timer, expire_returns_exactly_the_due_flows_in_order_of_deadline)
{
	enum { N = 200 };
	struct flow_table_params p = test_params(N, 3, 1);
	struct flow_table *t = new_table(&p);
	struct flow *flows[N], *out[N];
	uint64_t now = T0;
	size_t got = 0;

	/* Opened in a shuffled order of send time, 0.5 ms apart: deadlines 200.0 .. 299.5 ms. */
	for (int i = 0; i < N; i++) {
		int k = (i * 73) % N;
		flows[k] = open_flow(t, T0);
		struct flow_choice c;
		assert_sent(
		    flow_pick_first(t, flows[k], T0 + (uint64_t)k * MS / 2, one_target, 1, 1, &c));
	}
	for (now = T0 + 200 * MS; now <= T0 + 302 * MS; now += 3 * MS) {
		size_t n = flow_expire(t, now, out + got, N - got);
		for (size_t i = got; i < got + n; i++)
			cr_assert_leq(out[i]->deadline_ns, now, "flow %zu not due yet", i);
		got += n;
		/* Everything due a tick ago has been returned (the wheel's resolution). */
		uint64_t settled = now - FLOW_TICK_NS;
		size_t due = settled < T0 + 200 * MS
				 ? 0
				 : (size_t)((settled - T0 - 200 * MS) / (MS / 2) + 1);
		cr_assert_geq(got, due < N ? due : N, "at +%lu ms",
			      (unsigned long)((now - T0) / MS));
	}
	cr_assert_eq(flow_expire(t, T0 + 400 * MS, out, N), 0);
	cr_assert_eq(got, N);
	for (size_t i = 1; i < got; i++)
		cr_assert_leq(out[i - 1]->deadline_ns, out[i]->deadline_ns + FLOW_TICK_NS,
			      "out of order beyond one tick at %zu", i);
	flow_table_free(t);
}

Test(flow_timer, expire_is_bounded_per_call_and_resumes_where_it_stopped)
{
	enum { N = 100 };
	struct flow_table_params p = test_params(N, 3, 1);
	struct flow_table *t = new_table(&p);
	struct flow *out[N];
	size_t total = 0, calls = 0, n;

	for (int i = 0; i < N; i++)
		armed_flow(t, T0 + (uint64_t)i * MS);
	while ((n = flow_expire(t, T0 + 10000 * MS, out, 7)) > 0) {
		cr_assert_leq(n, 7);
		for (size_t i = 1; i < n; i++)
			cr_assert_lt(out[i - 1]->deadline_ns, out[i]->deadline_ns);
		total += n;
		calls++;
	}
	cr_assert_eq(total, N);
	cr_assert_eq(calls, (N + 6) / 7);
	flow_table_free(t);
}

Test(flow_timer, closing_a_flow_cancels_its_timer)
{
	struct flow_table_params p = test_params(16, 3, 1);
	struct flow_table *t = new_table(&p);
	struct flow *a = armed_flow(t, T0), *b = armed_flow(t, T0), *out[4];

	flow_close(t, a);
	cr_assert_eq(flow_expire(t, T0 + 500 * MS, out, 4), 1);
	cr_assert_eq(out[0], b);
	flow_table_free(t);
}

Test(flow_timer, stall_longer_than_a_wheel_turn_still_expires_everything_once)
{
	enum { N = 50 };
	struct flow_table_params p = test_params(N, 3, 1);
	struct flow_table *t = new_table(&p);
	struct flow *out[N];
	size_t total = 0, n;
	struct flow_stats s;

	for (int i = 0; i < N; i++)
		armed_flow(t, T0 + (uint64_t)i * 37 * MS);
	/* An hour later: far more than the wheel spans. */
	while ((n = flow_expire(t, T0 + 3600000 * MS, out, N)) > 0)
		total += n;
	cr_assert_eq(total, N);
	flow_table_stats(t, &s);
	cr_assert_eq(s.expired, N);
	flow_table_free(t);
}

Test(flow_timer, deadline_already_past_when_armed_expires_on_the_next_call)
{
	struct flow_table_params p = test_params(16, 3, 1);
	struct flow_table *t = new_table(&p);
	struct flow *out[4], *f;

	cr_assert_eq(flow_expire(t, T0 + 5000 * MS, out, 4), 0);
	/* Sent "in the past" relative to the wheel (the lcore's clock read earlier). */
	f = armed_flow(t, T0);
	cr_assert_eq(flow_expire(t, T0 + 5000 * MS, out, 4), 1);
	cr_assert_eq(out[0], f);
	flow_table_free(t);
}

Test(flow_timer, a_poll_stops_at_the_first_flow_not_yet_due_in_the_current_tick)
{
	struct flow_table_params p = test_params(16, 3, 1);
	struct flow_table *t = new_table(&p);
	struct flow *out[4], *late, *early;
	/* A tick-aligned instant, so both deadlines fall in one tick. */
	uint64_t tick_start = ((T0 + 200 * MS) >> FLOW_TICK_SHIFT) << FLOW_TICK_SHIFT;

	late = open_flow(t, T0);
	early = open_flow(t, T0);
	flow_timer_arm(t, late, tick_start + 1000);
	flow_timer_arm(t, early, tick_start + 10);
	/* early is due, but sits behind late, which is not: it waits for the tick to end. */
	cr_assert_eq(flow_expire(t, tick_start + 100, out, 4), 0);
	cr_assert_eq(flow_expire(t, tick_start + 1000, out, 4), 2);
	cr_assert_eq(out[0], late);
	cr_assert_eq(out[1], early);
	flow_table_free(t);
}

Test(flow_timer, flow_due_in_the_current_tick_is_late_by_at_most_one_tick)
{
	struct flow_table_params p = test_params(16, 3, 1);
	struct flow_table *t = new_table(&p);
	struct flow *out[4], *late, *early;
	uint64_t tick_start = ((T0 + 200 * MS) >> FLOW_TICK_SHIFT) << FLOW_TICK_SHIFT;

	late = open_flow(t, T0);
	early = open_flow(t, T0);
	flow_timer_arm(t, late, tick_start + FLOW_TICK_NS - 1);
	flow_timer_arm(t, early, tick_start + 10);
	cr_assert_eq(flow_expire(t, tick_start + 100, out, 4), 0);
	cr_assert_eq(flow_expire(t, tick_start + FLOW_TICK_NS, out, 4), 2);
	cr_assert_eq(out[1], early);
	flow_table_free(t);
}
